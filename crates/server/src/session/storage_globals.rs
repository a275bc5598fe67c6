//! `SET GLOBAL` of a variable that only the storage servers have (`query_cache_size`,
//! `innodb_stats_persistent`, `keycache1.key_buffer_size`...). By default such a
//! variable belongs to the storage servers' configuration (they may serve other
//! applications too): a new value is refused. With `server.storage_globals =
//! "settable"` an account with SUPER sets it on every storage server of every data
//! node, primaries and replicas (a replica promoted later must have it too), except
//! the variables Strata itself depends on ([`kept_private`]).

use std::sync::Arc;

use strata_backend::Pool;
use strata_protocol::MysqlError;
use strata_sql::SetExpr;

use super::isolation::sql_string;
use super::{backend_error, Session};
use crate::globals::GlobalValue;

/// Global-only variables that stay the storage servers' own even when they are
/// settable, with the reason a client may not change them (a name ending in `_` is a
/// prefix).
const KEPT_PRIVATE: &[(&str, &str)] = &[
    (
        "read_only",
        "Strata fences a failed or demoted primary with it",
    ),
    (
        "gtid_",
        "failover and switchover follow replication by GTID",
    ),
    (
        "binlog_format",
        "the replicas Strata promotes apply the primary's binary log",
    ),
    ("slave_", "Strata's replicas replicate with these settings"),
    (
        "sql_slave_skip_counter",
        "Strata's replicas replicate with these settings",
    ),
    (
        "replicate_",
        "Strata's replicas replicate with these settings",
    ),
    (
        "init_slave",
        "Strata's replicas replicate with these settings",
    ),
    (
        "rpl_semi_sync_",
        "Strata's replicas replicate with these settings",
    ),
    ("wsrep_", "it configures the storage servers' cluster"),
    (
        "max_connections",
        "Strata's connection pools and heartbeats need the storage servers' connections",
    ),
    (
        "max_user_connections",
        "Strata's connection pools and heartbeats need the storage servers' connections",
    ),
    (
        "require_secure_transport",
        "it would refuse Strata's own storage connections",
    ),
    (
        "default_password_lifetime",
        "it could expire the password of Strata's storage account",
    ),
    (
        "proxy_protocol_networks",
        "it could make the storage servers expect a proxy header from Strata",
    ),
];

/// Why a client may not set `name` even when storage globals are settable (None: it
/// may).
pub(super) fn kept_private(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    KEPT_PRIVATE
        .iter()
        .find(|(kept, _)| {
            if kept.ends_with('_') {
                name.starts_with(kept)
            } else {
                name == *kept
            }
        })
        .map(|(_, why)| *why)
}

/// True for a MySQL column type that holds a number (a value of that type is sent
/// unquoted, as the client's expression gave it).
fn numeric_type(col_type: u8) -> bool {
    // DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, LONGLONG, INT24, YEAR, NEWDECIMAL.
    matches!(col_type, 0..=5 | 8 | 9 | 13 | 246)
}

impl Session {
    /// `SET GLOBAL name = value` on every storage server, `value` evaluated once (on
    /// the session's storage connection, which may hold the user variables it reads)
    /// and sent as a literal. A variable with a session scope too (`query_cache_type`)
    /// also becomes the compute node's global value, the one new sessions start with:
    /// Some(assignment) then.
    pub(super) async fn set_storage_global(
        &mut self,
        name: &str,
        value: &SetExpr,
        is_default: bool,
        with_session: bool,
    ) -> Result<Option<(String, Option<GlobalValue>)>, MysqlError> {
        let literal = if is_default {
            "DEFAULT".to_string()
        } else if value.value.is_some() {
            // A literal as the client wrote it: the storage server judges its type.
            value.text.clone()
        } else {
            let (columns, rows) = self
                .home_result(&format!("SELECT {}", value.text), false)
                .await?;
            let numeric = columns.first().is_some_and(|c| numeric_type(c.col_type));
            match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                Some(Some(v)) if numeric => v,
                Some(Some(v)) => sql_string(&v),
                _ => "NULL".to_string(),
            }
        };
        self.set_on_storage_servers(name, &literal, true).await?;
        if !with_session {
            return Ok(None);
        }
        if is_default {
            return Ok(Some((name.to_string(), None)));
        }
        let text = self.home_global(name).await?;
        Ok(Some((
            name.to_string(),
            Some(GlobalValue {
                shown: text.clone(),
                text,
                numeric: false,
            }),
        )))
    }

    /// The home storage server's global value of `name`, as text ("" for NULL).
    async fn home_global(&mut self, name: &str) -> Result<String, MysqlError> {
        let (_, rows) = self
            .home_result(&format!("SELECT @@global.{name}"), false)
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten()
            .unwrap_or_default())
    }

    /// Runs `SET GLOBAL name = literal` on every data node's primary, in DNID order,
    /// and with `replicas` on each one's replicas after its primary. The first refusal
    /// comes back as the storage server gave it (MariaDB's 1231, 1232...); one after
    /// some storage servers took the value says which did.
    pub(super) async fn set_on_storage_servers(
        &mut self,
        name: &str,
        literal: &str,
        replicas: bool,
    ) -> Result<(), MysqlError> {
        let sql = format!("SET GLOBAL {name} = {literal}");
        self.on_storage_servers(&sql, &format!("SET GLOBAL {name}"), "set", replicas)
            .await
    }

    /// `SET GLOBAL max_allowed_packet` (storage globals settable): set on every storage
    /// server, replicas included, the value they made of it read back, and every pool
    /// renewed, so that sessions from now on get storage connections opened under it
    /// (a storage session takes the value at login, as a client session does: their
    /// functions' results are cut at the same size, 1301). The compute node's own
    /// global value, which new sessions start with and whose packets it enforces, is
    /// the assignment returned.
    pub(super) async fn set_packet_limit(
        &mut self,
        value: &SetExpr,
        is_default: bool,
    ) -> Result<(String, Option<GlobalValue>), MysqlError> {
        const NAME: &str = "max_allowed_packet";
        self.set_storage_global(NAME, value, is_default, false)
            .await?;
        self.renew_storage_pools();
        let text = self.home_global(NAME).await?;
        // Bytes as the storage server rounded them (a multiple of 1024).
        let value = text.parse::<u64>().ok().map(|bytes| GlobalValue {
            text: bytes.to_string(),
            shown: bytes.to_string(),
            numeric: true,
        });
        Ok((NAME.to_string(), value))
    }

    /// `SET GLOBAL net_buffer_length` (storage globals settable): set on every storage
    /// server and every pool renewed, so that sessions from now on get storage
    /// connections opened under it (their session value is read-only, 1621, as
    /// MariaDB's is, taken at login).
    pub(super) async fn set_net_buffer_length(
        &mut self,
        value: &SetExpr,
        is_default: bool,
    ) -> Result<(), MysqlError> {
        self.set_storage_global("net_buffer_length", value, is_default, false)
            .await?;
        self.renew_storage_pools();
        Ok(())
    }

    /// Renews every storage connection pool: no connection opened before is lent again.
    fn renew_storage_pools(&self) {
        for node in self.ctx.topology.nodes() {
            for (_, pool) in crate::failover::storage_servers(&self.ctx, node.id) {
                pool.renew();
            }
        }
    }

    /// Runs `sql` (a statement that returns no rows) on every data node's primary, in
    /// DNID order, and with `replicas` on each one's replicas after its primary. The
    /// first refusal comes back as the storage server gave it; one after some storage
    /// servers ran it names the one that failed and those `done` ("set on ...").
    pub(super) async fn on_storage_servers(
        &mut self,
        sql: &str,
        what: &str,
        done_word: &str,
        replicas: bool,
    ) -> Result<(), MysqlError> {
        let mut nodes: Vec<_> = self.ctx.topology.nodes().map(|n| n.id).collect();
        nodes.sort();
        let mut done: Vec<String> = Vec::new();
        let mut first_warnings = None;
        for dnid in nodes {
            let mut servers = crate::failover::storage_servers(&self.ctx, dnid);
            if !replicas {
                servers.truncate(1);
            }
            for (label, pool) in servers {
                let warnings = match run_global(&pool, sql).await {
                    Ok(w) => w,
                    Err(e) => {
                        let e = backend_error(dnid, &e);
                        if done.is_empty() {
                            return Err(e);
                        }
                        tracing::warn!(dnid = dnid.get(), statement = %sql, error = %e.message, done_on = ?done, "statement on every storage server failed part way");
                        return Err(MysqlError {
                            message: format!(
                                "{what} failed on {label}: {} ({done_word} on {}; run it again)",
                                e.message,
                                done.join(", ")
                            ),
                            ..e
                        });
                    }
                };
                if done.is_empty() {
                    first_warnings = warnings;
                }
                done.push(label);
            }
        }
        // MariaDB's warnings (1708, 1292), as the first server gave them: every server
        // gives the same for the same value.
        if first_warnings.is_some() {
            self.statement.warnings = first_warnings;
        }
        Ok(())
    }
}

/// Runs one statement on a pooled connection of `pool` (a connection that failed
/// other than by the server's refusal is not reused).
async fn run_global(
    pool: &Arc<Pool>,
    sql: &str,
) -> Result<Option<super::warnings::Diagnostics>, strata_backend::BackendError> {
    let mut lease = pool.acquire(None).await?;
    let result = match lease.execute(sql).await {
        Ok(ok) if ok.warnings > 0 => lease.query_result("SHOW WARNINGS").await.map(Some),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        if !matches!(e, strata_backend::BackendError::Server(_)) {
            lease.mark_broken();
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strata_keeps_what_failover_and_its_connections_need() {
        assert!(kept_private("read_only").is_some());
        assert!(kept_private("READ_ONLY").is_some());
        assert!(kept_private("gtid_slave_pos").is_some());
        assert!(kept_private("gtid_strict_mode").is_some());
        assert!(kept_private("slave_parallel_threads").is_some());
        assert!(kept_private("max_connections").is_some());
        assert!(kept_private("max_allowed_packet").is_none());
        assert!(kept_private("query_cache_size").is_none());
        assert!(kept_private("innodb_stats_persistent").is_none());
        assert!(kept_private("keycache1.key_buffer_size").is_none());
        assert!(kept_private("read_only_extra").is_none());
    }
}
