//! The admin actions that change the compute node: KILL @@CONNECTION, OFFLINE and
//! ONLINE, RESET @@SQL_DIGEST, RELOAD @@CONFIG, SWITCH @@DATASOURCE and
//! REBUILD @@DATASOURCE. The admin port and the HTTP API
//! both call these; each returns what it did or a MySQL error for the operator.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use strata_catalog::Config;
use strata_protocol::{codes, MysqlError};

use super::table::{AdminTable, ColumnType as T};
use crate::context::{ServerContext, SessionEntry};

/// Closes the client sessions `ids` (their transactions roll back, their running
/// statements are interrupted on the storage nodes). Every id must name a live session,
/// or nothing is killed; returns how many were.
pub async fn kill_connections(ctx: &ServerContext, ids: &[u32]) -> Result<u64, MysqlError> {
    let mut targets: Vec<Arc<SessionEntry>> = Vec::with_capacity(ids.len());
    for &id in ids {
        match ctx.session(id) {
            Some(entry) => targets.push(entry),
            None => {
                return Err(MysqlError::new(
                    codes::NO_SUCH_THREAD,
                    format!("Unknown thread id: {id}"),
                ))
            }
        }
    }
    for entry in &targets {
        kill_session(ctx, entry).await;
    }
    Ok(targets.len() as u64)
}

/// Interrupts what the session runs on the storage nodes and asks it to close.
async fn kill_session(ctx: &ServerContext, entry: &SessionEntry) {
    interrupt_storage_queries(ctx, entry).await;
    entry.killed.store(true, Ordering::Relaxed);
    entry.kill_signal.notify_one();
    entry.interrupt.notify_waiters();
}

/// Interrupts what the session runs on the storage nodes (`KILL QUERY` there): its
/// statement then ends with the storage node's error.
pub(crate) async fn interrupt_storage_queries(ctx: &ServerContext, entry: &SessionEntry) {
    let running = entry
        .backend
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    for (dnid, thread) in running {
        let Some(node) = ctx.topology.node(dnid) else {
            continue;
        };
        let pool = node.pool.clone();
        match pool.acquire(Some(&node.physical_db)).await {
            Ok(mut lease) => {
                if let Err(e) = lease.execute(&format!("KILL QUERY {thread}")).await {
                    tracing::warn!(dnid = dnid.get(), thread, error = %e, "KILL QUERY on the data node failed");
                }
            }
            Err(e) => {
                tracing::warn!(dnid = dnid.get(), error = %e, "cannot reach the data node to kill a query")
            }
        }
    }
}

/// After a KILL of session `entry` (its storage queries already interrupted): a
/// statement `KILL QUERY` does not stop on the storage node (a compound statement's
/// loop goes on to its next statement) would keep the killed session running for ever,
/// where MariaDB's KILL ends the connection whatever it runs. If the same storage thread
/// still runs the session's statement a second later, and the session holds no branch
/// of a transaction over several data nodes (whose commit must finish or be
/// recovered, never be cut), that storage connection is killed too; the session then
/// closes, as it was asked to.
pub(crate) fn end_killed_statement(ctx: Arc<ServerContext>, entry: Arc<SessionEntry>) {
    let running = |entry: &SessionEntry| {
        entry
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    };
    tokio::spawn(async move {
        // The same single storage thread on two looks half a second apart (the KILL
        // QUERY sent before may still be ending the statement at the first).
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let first = running(&entry);
        let [(dnid, thread)] = first[..] else {
            return;
        };
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let branches = entry
            .branches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        if branches > 1 || running(&entry) != first {
            return;
        }
        let Some(node) = ctx.topology.node(dnid) else {
            return;
        };
        tracing::info!(
            dnid = dnid.get(),
            thread,
            "a killed session's statement went on; killing its storage connection"
        );
        match node.pool.acquire(Some(&node.physical_db)).await {
            Ok(mut lease) => {
                if let Err(e) = lease.execute(&format!("KILL CONNECTION {thread}")).await {
                    tracing::warn!(dnid = dnid.get(), thread, error = %e, "KILL CONNECTION on the data node failed");
                }
            }
            Err(e) => {
                tracing::warn!(dnid = dnid.get(), error = %e, "cannot reach the data node to kill a connection")
            }
        }
    });
}

/// SWITCH @@DATASOURCE: a planned switchover of data node `dnid` to the replica at
/// `target` (or its best replica); returns the new primary's `host:port`. Every refusal
/// and failure is error 1105 with a message saying what is wrong.
pub async fn switch_datasource(
    ctx: &ServerContext,
    dnid: u32,
    target: Option<(String, u16)>,
) -> Result<String, MysqlError> {
    let dnid = strata_catalog::DataNodeId::new(dnid);
    let event = ctx
        .ha
        .switch_over(dnid, target, &ctx.config.ha)
        .await
        .map_err(|e| MysqlError::new(codes::UNKNOWN, e.to_string()))?;
    tracing::info!(dnid = dnid.get(), old = %event.old_primary, new = ?event.new_primary, "switchover by an operator");
    Ok(event.new_primary.unwrap_or_default())
}

/// REBUILD @@DATASOURCE: copies data node `dnid`'s primary into `datadir` for the
/// stopped storage node `target`; returns the GTID position it will replicate from once
/// started. Every refusal and failure is error 1105 saying what is wrong.
pub async fn rebuild_datasource(
    ctx: &ServerContext,
    dnid: u32,
    target: (String, u16),
    datadir: &str,
) -> Result<String, MysqlError> {
    let dnid = strata_catalog::DataNodeId::new(dnid);
    let gtid = ctx
        .ha
        .rebuild(&ctx.config, dnid, target, std::path::Path::new(datadir))
        .await
        .map_err(|e| MysqlError::new(codes::UNKNOWN, e.to_string()))?;
    tracing::info!(dnid = dnid.get(), datadir, %gtid, "replica rebuild by an operator");
    Ok(gtid)
}

/// OFFLINE (`offline` true) or ONLINE; returns whether the state changed.
pub fn set_offline(ctx: &ServerContext, offline: bool) -> bool {
    let before = ctx.set_offline(offline);
    if before != offline {
        tracing::info!(
            offline,
            "compute node {} by an operator",
            if offline {
                "taken offline"
            } else {
                "back online"
            }
        );
    }
    before != offline
}

/// One row of RELOAD @@CONFIG's answer: a section, what became of it, and what that
/// means.
fn push_outcome(t: &mut AdminTable, section: &str, status: &str, detail: &str) {
    t.push(vec![section.into(), status.into(), detail.into()]);
}

/// Re-reads the configuration file and applies what can change online: the config
/// file's accounts, the whitelist and failed-login limits, the SQL firewall, the slow
/// log and statistics settings. Returns one row per section that changed: `applied`,
/// or `restart required` for sections the running node cannot change.
pub fn reload_config(ctx: &ServerContext) -> Result<AdminTable, MysqlError> {
    let Some(path) = ctx.config_path() else {
        return Err(MysqlError::new(
            codes::UNKNOWN,
            "RELOAD @@CONFIG: this compute node was not started from a configuration file",
        ));
    };
    let new = Config::load(&path).map_err(|e| {
        MysqlError::new(
            codes::UNKNOWN,
            format!("RELOAD @@CONFIG: {}: {e}", path.display()),
        )
    })?;
    let old = ctx.applied_config();
    let mut applied = old.clone();
    let mut t = AdminTable::new(&[
        ("setting", T::Text),
        ("status", T::Text),
        ("detail", T::Text),
    ]);
    let fail = |what: &str, e: String| {
        MysqlError::new(
            codes::UNKNOWN,
            format!("RELOAD @@CONFIG: applying {what} failed: {e}"),
        )
    };
    // Each online section is applied and recorded on its own, so a failure leaves the
    // sections before it applied and reported as such by the next reload.
    if new.security != old.security {
        ctx.replace_security(new.security.clone())
            .map_err(|e| fail("security", e.join("; ")))?;
        applied.security = new.security.clone();
        push_outcome(
            &mut t,
            "security",
            "applied",
            "whitelist and failed-login limits, for new connections",
        );
    }
    if new.firewall != old.firewall {
        let firewall = crate::firewall::Firewall::new(&new.firewall)
            .map_err(|e| fail("firewall", e.to_string()))?;
        ctx.replace_firewall(firewall);
        applied.firewall = new.firewall.clone();
        push_outcome(
            &mut t,
            "firewall",
            "applied",
            "rules in force from the next statement",
        );
    }
    if new.users != old.users {
        ctx.replace_config_users(new.users.clone())
            .map_err(|e| fail("user", e.to_string()))?;
        applied.users = new.users.clone();
        push_outcome(&mut t, "user", "applied", "configuration file accounts created or updated; accounts removed from the file are kept (DROP USER removes them)");
    }
    if new.slow_log != old.slow_log || new.statistics != old.statistics {
        ctx.stats
            .reconfigure(&new.statistics, &new.slow_log, &old.server.data_dir)
            .map_err(|e| fail("slow_log", e.to_string()))?;
        applied.slow_log = new.slow_log.clone();
        applied.statistics = new.statistics.clone();
        push_outcome(
            &mut t,
            "slow_log, statistics",
            "applied",
            "threshold, file and limits",
        );
    }
    let restart: [(&str, bool); 9] = [
        ("server", new.server != old.server),
        ("data_node", new.data_nodes != old.data_nodes),
        ("database", new.databases != old.databases),
        ("rule", new.rules != old.rules),
        ("table", new.tables != old.tables),
        ("pool", new.pool != old.pool),
        ("transaction", new.transaction != old.transaction),
        ("merge", new.merge != old.merge),
        ("audit", new.audit != old.audit),
    ];
    for (section, changed) in restart {
        if changed {
            push_outcome(
                &mut t,
                section,
                "restart required",
                "changed in the file; the running node keeps its current settings",
            );
        }
    }
    if t.rows.is_empty() {
        t.push(vec![
            "configuration".into(),
            "unchanged".into(),
            path.display().to_string().into(),
        ]);
    }
    ctx.set_applied_config(applied);
    tracing::info!(path = %path.display(), changes = t.rows.len(), "configuration reloaded");
    Ok(t)
}
