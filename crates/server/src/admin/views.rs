//! The read-only management views (`SHOW @@...` on the admin port, `GET /api/v1/...`
//! over HTTP): each builds an `AdminTable` from what the `ServerContext` holds —
//! topology and pools, live sessions, the XA coordinator, the catalog and the
//! statement statistics — without asking a storage node anything.

use std::sync::atomic::Ordering;

use strata_catalog::sharding::Distribution;
use strata_catalog::DataNodeId;

use super::command::View;
use super::table::{AdminTable, Cell, ColumnType as T};
use crate::context::ServerContext;

/// The table `view` shows now.
pub fn view(ctx: &ServerContext, view: View) -> AdminTable {
    match view {
        View::Help => help(),
        View::DataNode => data_nodes(ctx),
        View::DataSource => data_sources(ctx),
        View::Backend => backends(ctx),
        View::Session => sessions(ctx),
        View::Database => databases(ctx),
        View::Table => tables(ctx),
        View::Xa => xa(ctx),
        View::SqlDigest => digests(ctx),
        View::SlowSql => slow(ctx),
        View::Server => server(ctx),
        View::Job => jobs(ctx),
        View::Heartbeat => heartbeats(ctx),
        View::Cluster => cluster(ctx),
    }
}

/// The columns of `view` (the API's schemas are generated from these).
pub fn columns(view: View) -> &'static [(&'static str, T)] {
    match view {
        View::Help => HELP,
        View::DataNode => DATANODE,
        View::DataSource => DATASOURCE,
        View::Backend => BACKEND,
        View::Session => SESSION,
        View::Database => DATABASE,
        View::Table => TABLE,
        View::Xa => XA,
        View::SqlDigest => SQL_DIGEST,
        View::SlowSql => SLOW_SQL,
        View::Server => SERVER,
        View::Job => JOB,
        View::Heartbeat => HEARTBEAT,
        View::Cluster => CLUSTER,
    }
}

/// The columns of `SHOW @@HELP`.
pub const HELP: &[(&str, T)] = &[("command", T::Text), ("description", T::Text)];

/// The columns of `SHOW @@DATANODE`.
pub const DATANODE: &[(&str, T)] = &[
    ("dnid", T::Int),
    ("databases", T::Text),
    ("storage_node", T::Text),
    ("status", T::Text),
    ("pool_active", T::Int),
    ("pool_idle", T::Int),
    ("pool_max", T::Int),
    ("pool_waiters", T::Int),
    ("statements", T::Int),
    ("statements_per_s", T::Float),
];

/// The columns of `SHOW @@DATASOURCE`.
pub const DATASOURCE: &[(&str, T)] = &[
    ("dnid", T::Int),
    ("host", T::Text),
    ("port", T::Int),
    ("database", T::Text),
    ("role", T::Text),
    ("status", T::Text),
    ("version", T::Text),
    ("tls", T::Int),
    ("lag_ms", T::Int),
    ("gtid", T::Text),
    ("at_risk", T::Int),
    ("connect_errors", T::Int),
    ("last_error", T::Text),
    ("last_failover", T::Text),
];

/// The columns of `SHOW @@BACKEND`.
pub const BACKEND: &[(&str, T)] = &[
    ("dnid", T::Int),
    ("thread_id", T::Int),
    ("state", T::Text),
    ("session", T::Int),
    ("idle_ms", T::Int),
    ("statement", T::Text),
];

/// The columns of `SHOW @@SESSION`.
pub const SESSION: &[(&str, T)] = &[
    ("id", T::Int),
    ("user", T::Text),
    ("host", T::Text),
    ("db", T::Text),
    ("state", T::Text),
    ("in_transaction", T::Int),
    ("data_nodes", T::Text),
    ("time_s", T::Int),
    ("statement", T::Text),
];

/// The columns of `SHOW @@DATABASE`.
pub const DATABASE: &[(&str, T)] = &[
    ("database", T::Text),
    ("data_nodes", T::Text),
    ("default_data_nodes", T::Text),
    ("tables", T::Int),
];

/// The columns of `SHOW @@TABLE`.
pub const TABLE: &[(&str, T)] = &[
    ("database", T::Text),
    ("table", T::Text),
    ("type", T::Text),
    ("rule", T::Text),
    ("key", T::Text),
    ("data_nodes", T::Text),
    ("rows_estimate", T::Int),
];

/// The columns of `SHOW @@XA`.
pub const XA: &[(&str, T)] = &[
    ("xid", T::Text),
    ("state", T::Text),
    ("data_nodes", T::Text),
    ("time", T::Text),
    ("age_s", T::Int),
];

/// The columns of `SHOW @@SQL_DIGEST`.
pub const SQL_DIGEST: &[(&str, T)] = &[
    ("digest", T::Text),
    ("count", T::Int),
    ("errors", T::Int),
    ("rows", T::Int),
    ("total_ms", T::Float),
    ("avg_ms", T::Float),
    ("max_ms", T::Float),
    ("p99_ms", T::Float),
    ("nodes_per_execution", T::Float),
    ("first_seen", T::Text),
    ("last_seen", T::Text),
];

/// The columns of `SHOW @@SLOW_SQL`.
pub const SLOW_SQL: &[(&str, T)] = &[
    ("time", T::Text),
    ("session", T::Int),
    ("user", T::Text),
    ("db", T::Text),
    ("duration_ms", T::Float),
    ("rows", T::Int),
    ("error", T::Int),
    ("data_nodes", T::Text),
    ("digest", T::Text),
    ("statement", T::Text),
];

/// The columns of `SHOW @@SERVER`.
pub const SERVER: &[(&str, T)] = &[("name", T::Text), ("value", T::Text)];

/// The columns of `SHOW @@HEARTBEAT`.
pub const HEARTBEAT: &[(&str, T)] = &[
    ("dnid", T::Int),
    ("host", T::Text),
    ("port", T::Int),
    ("role", T::Text),
    ("status", T::Text),
    ("period_ms", T::Int),
    ("timeout_ms", T::Int),
    ("failure_threshold", T::Int),
    ("lag_ms", T::Int),
    ("lag_transactions", T::Int),
    ("at_risk", T::Int),
    ("last_error", T::Text),
];

/// The columns of `SHOW @@CLUSTER`.
pub const CLUSTER: &[(&str, T)] = &[
    ("node_id", T::Int),
    ("service_addr", T::Text),
    ("admin_addr", T::Text),
    ("state", T::Text),
    ("metadata_revision", T::Int),
    ("started", T::Text),
    ("last_error", T::Text),
    ("leader", T::Int),
];

/// The columns of `SHOW @@JOB`.
pub const JOB: &[(&str, T)] = &[
    ("id", T::Int),
    ("kind", T::Text),
    ("description", T::Text),
    ("state", T::Text),
    ("progress_pct", T::Float),
    ("steps_done", T::Int),
    ("steps", T::Int),
    ("started", T::Text),
    ("finished", T::Text),
    ("elapsed_s", T::Float),
    ("eta_s", T::Float),
    ("last_error", T::Text),
];

fn help() -> AdminTable {
    let mut t = AdminTable::new(HELP);
    for (_, names, what) in View::ALL {
        let command = names
            .iter()
            .map(|n| format!("SHOW @@{n}"))
            .collect::<Vec<_>>()
            .join(" | ");
        t.push(vec![command.into(), (*what).into()]);
    }
    for (command, what) in [
        (
            "KILL @@CONNECTION id[,id...]",
            "Closes client sessions (their transactions roll back)",
        ),
        (
            "OFFLINE",
            "Refuses new client connections; open sessions carry on",
        ),
        ("ONLINE", "Accepts client connections again"),
        ("RESET @@SQL_DIGEST", "Forgets the statement statistics"),
        (
            "RELOAD @@CONFIG",
            "Re-reads the configuration file and applies what can change online",
        ),
        (
            "SWITCH @@DATASOURCE dnid [TO 'host:port']",
            "Makes a replica the data node's primary (planned switchover)",
        ),
        (
            "REBUILD @@DATASOURCE dnid 'host:port' DATADIR '/path'",
            "Copies the primary into a stopped node's empty data directory; started, it becomes a replica",
        ),
    ] {
        t.push(vec![command.into(), what.into()]);
    }
    t
}

fn nodes_text(nodes: &[DataNodeId]) -> String {
    nodes
        .iter()
        .map(DataNodeId::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `ok`, `unreachable` (the latest connect failed) or `unknown` (never connected).
fn pool_status(pool: &strata_backend::Pool) -> &'static str {
    if pool.is_failing() {
        "unreachable"
    } else if pool.server_version().is_some() {
        "ok"
    } else {
        "unknown"
    }
}

fn data_nodes(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(DATANODE);
    ctx.stats.collect(&ctx.metrics);
    let counts = ctx.stats.node_statements();
    let dbs = ctx.topology.dbs();
    for node in ctx.topology.nodes() {
        let pool = &node.pool;
        let target = pool.target();
        let databases: Vec<&str> = dbs
            .iter()
            .filter(|d| d.data_nodes.contains(&node.id))
            .map(|d| d.name.as_str())
            .collect();
        let (statements, rate) = counts.get(&node.id).copied().unwrap_or((0, 0.0));
        let idle = pool.idle_count();
        t.push(vec![
            node.id.get().into(),
            databases.join(",").into(),
            format!("{}:{}/{}", target.host, target.port, target.database).into(),
            pool_status(pool).into(),
            pool.open_count().saturating_sub(idle).into(),
            idle.into(),
            pool.max_size().into(),
            pool.waiter_count().into(),
            statements.into(),
            rate.into(),
        ]);
    }
    t
}

/// One row per storage node: the pool's view of the storage node it serves, and for
/// data nodes with replicas the heartbeat's view of each (role, health, lag, GTID).
fn data_sources(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(DATASOURCE);
    for node in ctx.topology.nodes() {
        let pool = &node.pool;
        let target = pool.target();
        let ha = ctx.ha.data_node(node.id);
        let serving = |host: &str, port: u16| target.host == host && target.port == port;
        let primary = ha.iter().find(|s| serving(&s.host, s.port));
        t.push(vec![
            node.id.get().into(),
            target.host.as_str().into(),
            u32::from(target.port).into(),
            target.database.as_str().into(),
            "primary".into(),
            primary
                .map_or_else(
                    || pool_status(pool).to_string(),
                    |s| s.status.as_str().to_string(),
                )
                .into(),
            pool.server_version().map(|v| v.to_string()).into(),
            pool.tls().is_some().into(),
            Cell::Null,
            primary.map(|s| s.gtid.clone()).into(),
            primary.is_some_and(|s| s.at_risk).into(),
            pool.connect_error_count().into(),
            pool.last_error()
                .or_else(|| primary.and_then(|s| s.last_error.clone()))
                .into(),
            primary.and_then(|s| s.last_failover.clone()).into(),
        ]);
        for other in ha.iter().filter(|s| !serving(&s.host, s.port)) {
            t.push(vec![
                node.id.get().into(),
                other.host.as_str().into(),
                u32::from(other.port).into(),
                target.database.as_str().into(),
                other.role.as_str().into(),
                other.status.as_str().into(),
                Cell::Null,
                pool.tls().is_some().into(),
                other.lag_ms.map_or(Cell::Null, Cell::from),
                Some(other.gtid.clone()).into(),
                other.at_risk.into(),
                0u64.into(),
                other.last_error.clone().into(),
                other.last_failover.clone().into(),
            ]);
        }
    }
    t
}

fn backends(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(BACKEND);
    for (id, entry) in ctx.all_sessions() {
        let running = entry
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let info = entry.info.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let statement = info.map(|b| String::from_utf8_lossy(&b).chars().take(200).collect());
        let branches = entry
            .branches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (dnid, thread) in &running {
            t.push(vec![
                dnid.get().into(),
                (*thread).into(),
                "running".into(),
                id.into(),
                0u64.into(),
                Cell::from(statement.clone()),
            ]);
        }
        // Connections a transaction keeps between its statements.
        for (dnid, thread) in branches.iter().filter(|b| !running.contains(b)) {
            t.push(vec![
                dnid.get().into(),
                (*thread).into(),
                "in_transaction".into(),
                id.into(),
                Cell::Null,
                Cell::Null,
            ]);
        }
    }
    for node in ctx.topology.nodes() {
        for (thread, idle) in node.pool.idle_connections() {
            t.push(vec![
                node.id.get().into(),
                thread.into(),
                "idle".into(),
                Cell::Null,
                (idle.as_millis() as u64).into(),
                Cell::Null,
            ]);
        }
    }
    t
}

fn sessions(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(SESSION);
    for (id, entry) in ctx.all_sessions() {
        let info = entry.info.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let since = *entry.since.lock().unwrap_or_else(|p| p.into_inner());
        let mut nodes: Vec<DataNodeId> = entry
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .chain(
                entry
                    .branches
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter(),
            )
            .map(|(dnid, _)| *dnid)
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        let db = entry.db.lock().unwrap_or_else(|p| p.into_inner()).clone();
        t.push(vec![
            id.into(),
            entry.user.as_str().into(),
            entry.host.as_str().into(),
            db.into(),
            if info.is_some() { "Query" } else { "Sleep" }.into(),
            entry.in_transaction.load(Ordering::Relaxed).into(),
            nodes_text(&nodes).into(),
            since.elapsed().as_secs().into(),
            Cell::from(info.map(|b| String::from_utf8_lossy(&b).into_owned())),
        ]);
    }
    t
}

fn databases(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(DATABASE);
    let catalog = ctx.topology.catalog();
    for db in ctx.topology.dbs() {
        t.push(vec![
            db.name.as_str().into(),
            nodes_text(&db.data_nodes).into(),
            nodes_text(&db.default_data_nodes).into(),
            catalog.tables(&db.name).len().into(),
        ]);
    }
    t
}

fn tables(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(TABLE);
    let catalog = ctx.topology.catalog();
    for db in ctx.topology.dbs() {
        for (name, info) in catalog.tables(&db.name) {
            let (rule, key) = match &info.distribution {
                Distribution::Sharded { column, rule, .. } => (
                    Some(
                        rule.name
                            .clone()
                            .unwrap_or_else(|| rule.function.type_name().to_string()),
                    ),
                    Some(column.clone()),
                ),
                Distribution::Child {
                    parent,
                    parent_column,
                    column,
                } => (
                    Some(format!("child of {parent}({parent_column})")),
                    Some(column.clone()),
                ),
                _ => (None, None),
            };
            t.push(vec![
                db.name.as_str().into(),
                name.into(),
                info.distribution.kind_name().into(),
                rule.into(),
                key.into(),
                nodes_text(&info.data_nodes).into(),
                // Row estimates need a round trip to every node: not in this view.
                Cell::Null,
            ]);
        }
    }
    t
}

/// In-doubt distributed transactions and branches recovery finished recently (the
/// service port's `SHOW ABNORMAL_XA_TRX` shows the same).
pub fn xa(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(XA);
    let now_ms = now_ms();
    for d in ctx.xa.pending_decisions() {
        t.push(vec![
            d.gtrid.into(),
            "COMMITTING".into(),
            nodes_text(&d.data_nodes).into(),
            format_ms(d.decided_ms).into(),
            (now_ms.saturating_sub(d.decided_ms) / 1000).into(),
        ]);
    }
    for r in ctx.xa.recently_resolved() {
        let state = if r.committed {
            "RECOVERED_COMMIT"
        } else {
            "RECOVERED_ROLLBACK"
        };
        t.push(vec![
            r.gtrid.into(),
            state.into(),
            r.dnid.to_string().into(),
            format_ms(r.at_ms).into(),
            (now_ms.saturating_sub(r.at_ms) / 1000).into(),
        ]);
    }
    t
}

fn digests(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(SQL_DIGEST);
    for d in ctx.stats.digests(&ctx.metrics) {
        t.push(vec![
            d.digest.into(),
            d.count.into(),
            d.errors.into(),
            d.rows.into(),
            (d.total_us as f64 / 1000.0).into(),
            (d.avg_us as f64 / 1000.0).into(),
            (d.max_us as f64 / 1000.0).into(),
            (d.p99_us as f64 / 1000.0).into(),
            d.nodes_per_execution.into(),
            format_ms(d.first_seen_ms).into(),
            format_ms(d.last_seen_ms).into(),
        ]);
    }
    t
}

fn slow(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(SLOW_SQL);
    for e in ctx.stats.slow(&ctx.metrics) {
        t.push(vec![
            format_ms((e.at_micros.max(0) / 1000) as u64).into(),
            e.session.into(),
            e.user.into(),
            e.db.into(),
            e.duration_ms.into(),
            e.rows.into(),
            u32::from(e.error).into(),
            nodes_text(&e.nodes).into(),
            e.digest.into(),
            e.statement.into(),
        ]);
    }
    t
}

fn server(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(SERVER);
    let identity = crate::session::ServerIdentity::of(ctx);
    let rows: Vec<(&str, String)> = vec![
        ("strata_version", env!("CARGO_PKG_VERSION").to_string()),
        ("version", identity.version),
        ("version_comment", identity.comment),
        ("node_id", ctx.config.server.node_id.to_string()),
        (
            "state",
            if ctx.is_offline() {
                "OFFLINE"
            } else {
                "ONLINE"
            }
            .to_string(),
        ),
        ("uptime_s", ctx.started.elapsed().as_secs().to_string()),
        (
            "worker_threads",
            ctx.config.server.effective_worker_threads().to_string(),
        ),
        (
            "memory_rss_bytes",
            resident_memory().map_or_else(|| "unknown".into(), |b| b.to_string()),
        ),
        ("sessions", ctx.session_count().to_string()),
        ("questions", ctx.metrics.status.questions().to_string()),
        ("data_nodes", ctx.topology.nodes().count().to_string()),
        (
            "service_port",
            ctx.service_port.load(Ordering::Relaxed).to_string(),
        ),
        (
            "config_file",
            ctx.config_path()
                .map_or_else(|| "none".into(), |p| p.display().to_string()),
        ),
    ];
    for (name, value) in rows {
        t.push(vec![name.into(), value.into()]);
    }
    t
}

/// Running jobs first, then ended ones, newest first.
fn jobs(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(JOB);
    for job in ctx.jobs.list() {
        t.push(vec![
            job.id.into(),
            job.kind.name().into(),
            job.description.as_str().into(),
            job.state.name().into(),
            job.progress_pct().into(),
            job.done.into(),
            job.total.into(),
            format_ms(job.started_ms).into(),
            job.finished_ms.map(format_ms).into(),
            job.elapsed.as_secs_f64().into(),
            job.eta().map_or(Cell::Null, |d| d.as_secs_f64().into()),
            job.last_error.clone().into(),
        ]);
    }
    t
}

/// One row per storage node as the heartbeat sees it (every data node is watched,
/// replicas or not), with the probing settings in force.
fn heartbeats(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(HEARTBEAT);
    let ha = &ctx.config.ha;
    for s in ctx.ha.datasources() {
        t.push(vec![
            s.dnid.get().into(),
            s.host.as_str().into(),
            u32::from(s.port).into(),
            s.role.as_str().into(),
            s.status.as_str().into(),
            ha.heartbeat_interval_ms.into(),
            ha.heartbeat_timeout_ms.into(),
            ha.failure_threshold.into(),
            s.lag_ms.map_or(Cell::Null, Cell::from),
            s.lag_transactions.map_or(Cell::Null, Cell::from),
            s.at_risk.into(),
            s.last_error.clone().into(),
        ]);
    }
    t
}

/// The compute nodes sharing this one's metadata, as registered in etcd (`self` marks
/// this node); with the embedded store only this node, `standalone`. Asks etcd (one
/// request): the only view that does, since membership lives there.
fn cluster(ctx: &ServerContext) -> AdminTable {
    let mut t = AdminTable::new(CLUSTER);
    let me = ctx.config.server.node_id;
    let addr = |a: Option<std::net::SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let service = format!("*:{}", ctx.service_port.load(Ordering::Relaxed));
    let started_ms = now_ms().saturating_sub(ctx.started.elapsed().as_millis() as u64);
    let own_admin = addr(*ctx.admin_addr.lock().unwrap_or_else(|p| p.into_inner()));
    let own_row = |state: &str, error: Cell| {
        vec![
            me.into(),
            service.clone().into(),
            own_admin.clone().into(),
            state.into(),
            Cell::Null,
            format_ms(started_ms).into(),
            error,
            0u64.into(),
        ]
    };
    let Some(etcd) = ctx.topology.catalog().store().etcd() else {
        t.push(own_row("standalone", Cell::Null));
        return t;
    };
    // The leader (which runs takeovers) is read after the members: a node elected in
    // between is shown as a member not leading, never the other way round.
    match etcd.members() {
        Ok(members) => {
            let leader = etcd.leader().ok().flatten();
            if !members.iter().any(|m| m.record.node_id == me) {
                t.push(own_row("not a member", Cell::Null));
            }
            for m in members {
                let state = if m.record.node_id == me {
                    "self"
                } else {
                    "member"
                };
                t.push(vec![
                    m.record.node_id.into(),
                    m.record.service_addr.into(),
                    m.record.admin_addr.into(),
                    state.into(),
                    u64::try_from(m.acked).unwrap_or(0).into(),
                    format_ms(m.record.started_ms).into(),
                    Cell::Null,
                    u64::from(leader == Some(m.record.node_id)).into(),
                ]);
            }
        }
        Err(e) => t.push(own_row("etcd unreachable", e.to_string().into())),
    }
    t
}

/// The process's resident memory, from /proc (Linux only).
fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Epoch milliseconds as `YYYY-MM-DD hh:mm:ss.fff` (UTC).
pub fn format_ms(ms: u64) -> String {
    let t = strata_planner::DateTime::from_unix_micros((ms as i64).saturating_mul(1000), 0);
    format!("{} {}", t.date_text(), t.time_text(3))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_epoch_milliseconds() {
        assert_eq!(super::format_ms(0), "1970-01-01 00:00:00.000");
        assert_eq!(
            super::format_ms(1_795_000_000_123),
            "2026-11-18 11:06:40.123"
        );
    }
}
