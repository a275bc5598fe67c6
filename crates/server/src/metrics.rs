//! The compute node's metrics in the Prometheus text format (`GET /metrics`).
//!
//! A small registry written here rather than the `metrics` facade with its Prometheus
//! exporter: every series Strata exposes has a fixed, low-cardinality label set known at
//! compile time (statement kinds, routes, error classes, refusal reasons), so each is a
//! fixed array of atomics indexed by an enum — no key lookup, allocation or lock when a
//! value changes — and gauges (sessions, pools, plan cache, in-doubt XA) are read from
//! their owners when the text is rendered. Statement counts and latencies are not even
//! touched per statement: the statement statistics (`crate::stats`) fold them in off
//! the session threads. The facade and exporter would also have added about thirty
//! crates to a build that two cores share.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use strata_catalog::DataNodeId;

use strata_sql::StatementKind;

use crate::context::ServerContext;

/// Why a client connection was refused before it got a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedReason {
    /// `max_connections` reached (1040).
    TooManyConnections,
    /// Outside the address whitelist (1130).
    NotAllowed,
    /// Blocked after too many failed logins (1129).
    Blocked,
    /// Wrong user or password (1045).
    AuthFailed,
    /// The compute node is OFFLINE.
    Offline,
    /// The account's `max_user_connections` reached (1226).
    UserLimit,
    /// The account lacks the admin privilege (admin port and HTTP actions).
    NotAdmin,
}

impl RefusedReason {
    const ALL: [RefusedReason; 7] = [
        RefusedReason::TooManyConnections,
        RefusedReason::NotAllowed,
        RefusedReason::Blocked,
        RefusedReason::AuthFailed,
        RefusedReason::Offline,
        RefusedReason::UserLimit,
        RefusedReason::NotAdmin,
    ];

    fn label(self) -> &'static str {
        match self {
            RefusedReason::TooManyConnections => "too_many_connections",
            RefusedReason::NotAllowed => "host_not_allowed",
            RefusedReason::Blocked => "host_blocked",
            RefusedReason::AuthFailed => "auth_failed",
            RefusedReason::Offline => "offline",
            RefusedReason::UserLimit => "user_limit",
            RefusedReason::NotAdmin => "not_admin",
        }
    }
}

/// Where a statement ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Answered by the compute node without a storage node.
    Local,
    /// One data node.
    Single,
    /// Several data nodes.
    Scatter,
}

impl Route {
    const ALL: [Route; 3] = [Route::Local, Route::Single, Route::Scatter];

    /// The route of a statement that used `nodes` data nodes.
    pub fn of_nodes(nodes: u32) -> Route {
        match nodes {
            0 => Route::Local,
            1 => Route::Single,
            _ => Route::Scatter,
        }
    }

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Route::Local => "local",
            Route::Single => "single",
            Route::Scatter => "scatter",
        }
    }
}

/// Statement kinds as metrics count them (a few groups, not every keyword).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindGroup {
    /// SELECT.
    Select,
    /// INSERT and REPLACE.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// CREATE, ALTER, DROP, TRUNCATE, RENAME.
    Ddl,
    /// BEGIN, COMMIT, ROLLBACK, savepoints, XA.
    Transaction,
    /// SET and USE.
    Set,
    /// SHOW, EXPLAIN, HELP.
    Show,
    /// Everything else.
    Other,
}

impl KindGroup {
    const ALL: [KindGroup; 9] = [
        KindGroup::Select,
        KindGroup::Insert,
        KindGroup::Update,
        KindGroup::Delete,
        KindGroup::Ddl,
        KindGroup::Transaction,
        KindGroup::Set,
        KindGroup::Show,
        KindGroup::Other,
    ];

    /// Its position in `ALL` (a byte in the statistics' records).
    pub fn index(self) -> u8 {
        KindGroup::ALL
            .iter()
            .position(|&g| g == self)
            .map_or(u8::MAX, |i| i as u8)
    }

    /// The group at `index` in `ALL`; None past the end.
    pub fn from_index(index: u8) -> Option<KindGroup> {
        KindGroup::ALL.get(usize::from(index)).copied()
    }

    /// The group of a classified statement.
    pub fn of(kind: StatementKind) -> KindGroup {
        use StatementKind as K;
        match kind {
            K::Select => KindGroup::Select,
            K::Insert | K::Replace | K::Load => KindGroup::Insert,
            K::Update => KindGroup::Update,
            K::Delete => KindGroup::Delete,
            K::Create | K::Alter | K::Drop | K::Truncate | K::Rename => KindGroup::Ddl,
            K::Begin
            | K::Commit
            | K::Rollback
            | K::RollbackToSavepoint
            | K::Savepoint
            | K::Release
            | K::Xa => KindGroup::Transaction,
            K::Set | K::Use => KindGroup::Set,
            K::Show | K::Explain | K::Help => KindGroup::Show,
            _ => KindGroup::Other,
        }
    }

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            KindGroup::Select => "select",
            KindGroup::Insert => "insert",
            KindGroup::Update => "update",
            KindGroup::Delete => "delete",
            KindGroup::Ddl => "ddl",
            KindGroup::Transaction => "transaction",
            KindGroup::Set => "set",
            KindGroup::Show => "show",
            KindGroup::Other => "other",
        }
    }
}

/// Error codes grouped the way an operator reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Syntax errors and unsupported statements (1064, 1149, 1235...).
    Syntax,
    /// Privileges and logins (1044, 1045, 1142, 1143, 1227 — the SQL firewall's too —, 1370).
    Access,
    /// Unknown database, table or column (1046, 1049, 1051, 1054, 1146).
    NotFound,
    /// Constraint violations (duplicate keys, foreign keys, NOT NULL).
    Constraint,
    /// Deadlocks and lock wait timeouts (1205, 1213).
    Lock,
    /// Storage nodes unreachable or lost during a statement (1158, 1429, 2013...).
    Storage,
    /// Anything else.
    Other,
}

impl ErrorClass {
    const ALL: [ErrorClass; 7] = [
        ErrorClass::Syntax,
        ErrorClass::Access,
        ErrorClass::NotFound,
        ErrorClass::Constraint,
        ErrorClass::Lock,
        ErrorClass::Storage,
        ErrorClass::Other,
    ];

    /// The class of a MySQL error code.
    pub fn of(code: u16) -> ErrorClass {
        match code {
            1064 | 1149 | 1235 | 1065 => ErrorClass::Syntax,
            1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 1211 => ErrorClass::Access,
            1046 | 1049 | 1051 | 1054 | 1146 | 1109 => ErrorClass::NotFound,
            1048 | 1062 | 1364 | 1451 | 1452 | 1557 | 1586 | 1216 | 1217 => ErrorClass::Constraint,
            1205 | 1213 => ErrorClass::Lock,
            1158..=1161 | 1429 | 1927 | 2002 | 2003 | 2006 | 2013 => ErrorClass::Storage,
            _ => ErrorClass::Other,
        }
    }

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            ErrorClass::Syntax => "syntax",
            ErrorClass::Access => "access",
            ErrorClass::NotFound => "not_found",
            ErrorClass::Constraint => "constraint",
            ErrorClass::Lock => "lock",
            ErrorClass::Storage => "storage",
            ErrorClass::Other => "other",
        }
    }
}

/// How a distributed transaction committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitPath {
    /// One data node took part: a plain commit.
    OnePhase,
    /// XA PREPARE on every branch, the decision logged, then XA COMMIT.
    TwoPhase,
}

/// Upper bounds (seconds) of the statement latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The same bounds in microseconds, for bucketing without floating point.
const LATENCY_BUCKETS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// The latency histogram bucket of a time in microseconds (the last one: +Inf).
fn latency_bucket(micros: u64) -> usize {
    LATENCY_BUCKETS_US
        .iter()
        .position(|&b| micros <= b)
        .unwrap_or(LATENCY_BUCKETS_US.len())
}

/// Counters of one compute node (gauges are read from their owners on render).
#[derive(Default)]
pub struct Metrics {
    connections: AtomicU64,
    refused: [AtomicU64; 7],
    statements: [[AtomicU64; 3]; 9],
    errors: [AtomicU64; 7],
    /// Cumulative per bucket is computed on render; these are per-bucket counts, the
    /// last one for +Inf.
    latency_buckets: [AtomicU64; 15],
    latency_sum_us: AtomicU64,
    rows: AtomicU64,
    xa_commits: [AtomicU64; 2],
    recovered: AtomicU64,
    deadlocks: AtomicU64,
    /// Bytes the merges of multi-node queries hold right now (every query's memory
    /// budget adds to it).
    pub merge_memory: Arc<AtomicUsize>,
    rows_merged: AtomicU64,
    /// Latency of statements that ran on exactly one data node, per data node (only
    /// the statistics collector writes it).
    per_node: Mutex<BTreeMap<DataNodeId, NodeLatency>>,
    /// The status counters SHOW STATUS answers from the compute node.
    pub status: crate::status::GlobalStatus,
}

/// One data node's statement latency histogram.
#[derive(Default, Clone)]
struct NodeLatency {
    buckets: [u64; 15],
    sum_us: u64,
}

impl Metrics {
    /// A client connection was accepted and logged in.
    pub fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A client connection was refused.
    pub fn connection_refused(&self, reason: RefusedReason) {
        self.refused[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One statement, folded in by the statistics collector.
    pub fn statement(&self, kind: KindGroup, route: Route, error: u16, rows: u64, micros: u64) {
        self.statements[kind as usize][route as usize].fetch_add(1, Ordering::Relaxed);
        if error != 0 {
            self.errors[ErrorClass::of(error) as usize].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_buckets[latency_bucket(micros)].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(micros, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// A multi-node query sent `rows` merged rows to its client.
    pub fn rows_merged(&self, rows: u64) {
        self.rows_merged.fetch_add(rows, Ordering::Relaxed);
    }

    /// A statement that ran on data node `dnid` only took `micros` (folded in by the
    /// statistics collector).
    pub fn node_statement(&self, dnid: DataNodeId, micros: u64) {
        let mut nodes = self.per_node.lock().unwrap_or_else(|p| p.into_inner());
        let n = nodes.entry(dnid).or_default();
        n.buckets[latency_bucket(micros)] += 1;
        n.sum_us += micros;
    }

    /// A distributed transaction committed.
    pub fn xa_committed(&self, path: CommitPath) {
        self.xa_commits[path as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Recovery finished (committed or rolled back) `n` in-doubt branches.
    pub fn branches_recovered(&self, n: u64) {
        self.recovered.fetch_add(n, Ordering::Relaxed);
    }

    /// The deadlock detector rolled a transaction back.
    pub fn deadlock_broken(&self) {
        self.deadlocks.fetch_add(1, Ordering::Relaxed);
    }

    /// Statements counted so far (all kinds and routes).
    pub fn statements_total(&self) -> u64 {
        self.statements
            .iter()
            .flatten()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// One metric family being written.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl Family<'_> {
    /// One histogram series from per-bucket counts (the last one +Inf) and the sum.
    fn histogram(&mut self, labels: &[(&str, &str)], buckets: &[u64], sum_us: u64) {
        let mut cumulative = 0u64;
        for (i, count) in buckets.iter().enumerate() {
            cumulative += count;
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.suffixed("_bucket", &with_le, cumulative);
        }
        self.suffixed("_sum", labels, sum_us as f64 / 1e6);
        self.suffixed("_count", labels, cumulative);
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.out, "{}", self.name);
        write_labels(self.out, labels);
        let _ = writeln!(self.out, " {value}");
    }

    fn suffixed(&mut self, suffix: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.out, "{}{suffix}", self.name);
        write_labels(self.out, labels);
        let _ = writeln!(self.out, " {value}");
    }
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

fn family<'a>(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Family<'a> {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    Family { out, name }
}

/// The names of every family `render` writes (docs/observability.md lists them; a test
/// checks both).
pub const FAMILIES: &[&str] = &[
    "strata_up",
    "strata_offline",
    "strata_uptime_seconds",
    "strata_client_connections",
    "strata_client_connections_total",
    "strata_client_connections_refused_total",
    "strata_statements_total",
    "strata_statement_errors_total",
    "strata_statement_duration_seconds",
    "strata_data_node_statement_duration_seconds",
    "strata_rows_total",
    "strata_rows_merged_total",
    "strata_merge_memory_bytes",
    "strata_spill_bytes",
    "strata_plan_cache_hits_total",
    "strata_plan_cache_misses_total",
    "strata_pool_connections_active",
    "strata_pool_connections_idle",
    "strata_pool_connections_max",
    "strata_pool_waiters",
    "strata_pool_connect_errors_total",
    "strata_pool_acquire_waits_total",
    "strata_pool_acquire_wait_seconds_total",
    "strata_storage_node_up",
    "strata_storage_node_heartbeat_up",
    "strata_storage_node_lag_seconds",
    "strata_xa_commits_total",
    "strata_xa_in_doubt_transactions",
    "strata_xa_recovered_branches_total",
    "strata_deadlocks_broken_total",
    "strata_statement_digests",
    "strata_statement_samples_dropped_total",
];

/// Families of `FAMILIES` that may have no sample yet: heartbeats before the first
/// probes, replica lag without replicas, per-node latency before a single-node statement.
pub const MAY_BE_EMPTY: &[&str] = &[
    "strata_storage_node_heartbeat_up",
    "strata_storage_node_lag_seconds",
    "strata_data_node_statement_duration_seconds",
];

/// The Prometheus text exposition of `ctx`'s metrics (statistics are collected first).
pub fn render(ctx: &ServerContext) -> String {
    ctx.stats.collect(&ctx.metrics);
    let m = &ctx.metrics;
    let mut out = String::with_capacity(8 * 1024);
    family(
        &mut out,
        "strata_up",
        "gauge",
        "1 while the compute node serves.",
    )
    .sample(&[], 1);
    family(
        &mut out,
        "strata_offline",
        "gauge",
        "1 while the compute node refuses new client connections (OFFLINE).",
    )
    .sample(&[], u8::from(ctx.is_offline()));
    family(
        &mut out,
        "strata_uptime_seconds",
        "gauge",
        "Seconds since the compute node started.",
    )
    // To the millisecond: the web console computes rates over this clock.
    .sample(
        &[],
        format_args!("{:.3}", ctx.started.elapsed().as_secs_f64()),
    );
    family(
        &mut out,
        "strata_client_connections",
        "gauge",
        "Client sessions open on the service port.",
    )
    .sample(&[], ctx.session_count());
    family(
        &mut out,
        "strata_client_connections_total",
        "counter",
        "Client sessions that logged in.",
    )
    .sample(&[], m.connections.load(Ordering::Relaxed));
    let mut f = family(
        &mut out,
        "strata_client_connections_refused_total",
        "counter",
        "Client connections refused, by reason.",
    );
    for r in RefusedReason::ALL {
        f.sample(
            &[("reason", r.label())],
            m.refused[r as usize].load(Ordering::Relaxed),
        );
    }
    let mut f = family(
        &mut out,
        "strata_statements_total",
        "counter",
        "Statements run, by kind and route (local: answered by the compute node; single: one data node; scatter: several).",
    );
    for k in KindGroup::ALL {
        for r in Route::ALL {
            f.sample(
                &[("kind", k.label()), ("route", r.label())],
                m.statements[k as usize][r as usize].load(Ordering::Relaxed),
            );
        }
    }
    let mut f = family(
        &mut out,
        "strata_statement_errors_total",
        "counter",
        "Statements that returned an error, by class of error code.",
    );
    for c in ErrorClass::ALL {
        f.sample(
            &[("class", c.label())],
            m.errors[c as usize].load(Ordering::Relaxed),
        );
    }
    let mut f = family(
        &mut out,
        "strata_statement_duration_seconds",
        "histogram",
        "Time from a statement's arrival to its last reply packet.",
    );
    let buckets: Vec<u64> = m
        .latency_buckets
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .collect();
    f.histogram(&[], &buckets, m.latency_sum_us.load(Ordering::Relaxed));
    let mut f = family(
        &mut out,
        "strata_data_node_statement_duration_seconds",
        "histogram",
        "Time of statements that ran on exactly one data node, by data node.",
    );
    let per_node = m.per_node.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for (dnid, n) in per_node {
        f.histogram(&[("dnid", &dnid.to_string())], &n.buckets, n.sum_us);
    }
    family(
        &mut out,
        "strata_rows_total",
        "counter",
        "Rows returned or changed by statements (where the compute node saw the count).",
    )
    .sample(&[], m.rows.load(Ordering::Relaxed));
    family(
        &mut out,
        "strata_rows_merged_total",
        "counter",
        "Rows multi-node queries sent to clients after merging the data nodes' results.",
    )
    .sample(&[], m.rows_merged.load(Ordering::Relaxed));
    family(
        &mut out,
        "strata_merge_memory_bytes",
        "gauge",
        "Bytes the merges of multi-node queries hold now (sorts, groups, DISTINCT), each within merge.memory_budget.",
    )
    .sample(&[], m.merge_memory.load(Ordering::Relaxed));
    family(
        &mut out,
        "strata_spill_bytes",
        "gauge",
        "Bytes of spill files the sorts, hash joins, groupings and DISTINCTs of statements hold on disk now, within merge.spill_node_cap.",
    )
    .sample(&[], ctx.spill.as_ref().map_or(0, |(_, node)| node.used()));
    let cache = ctx.plans.stats();
    family(
        &mut out,
        "strata_plan_cache_hits_total",
        "counter",
        "Statements planned from a cached statement shape.",
    )
    .sample(&[], cache.hits);
    family(
        &mut out,
        "strata_plan_cache_misses_total",
        "counter",
        "Statements whose shape had to be parsed.",
    )
    .sample(&[], cache.misses);
    pool_families(ctx, &mut out);
    let mut f = family(
        &mut out,
        "strata_xa_commits_total",
        "counter",
        "Distributed transactions committed, by path.",
    );
    f.sample(
        &[("path", "one_phase")],
        m.xa_commits[CommitPath::OnePhase as usize].load(Ordering::Relaxed),
    );
    f.sample(
        &[("path", "two_phase")],
        m.xa_commits[CommitPath::TwoPhase as usize].load(Ordering::Relaxed),
    );
    family(
        &mut out,
        "strata_xa_in_doubt_transactions",
        "gauge",
        "Distributed transactions whose commit is logged but not yet applied on every data node.",
    )
    .sample(&[], ctx.xa.pending_decisions().len());
    family(
        &mut out,
        "strata_xa_recovered_branches_total",
        "counter",
        "Prepared XA branches that recovery committed or rolled back.",
    )
    .sample(&[], m.recovered.load(Ordering::Relaxed));
    family(
        &mut out,
        "strata_deadlocks_broken_total",
        "counter",
        "Deadlocks across data nodes broken by rolling a transaction back.",
    )
    .sample(&[], m.deadlocks.load(Ordering::Relaxed));
    family(
        &mut out,
        "strata_statement_digests",
        "gauge",
        "Statement digests tracked by the statement statistics.",
    )
    .sample(&[], ctx.stats.digest_count());
    family(
        &mut out,
        "strata_statement_samples_dropped_total",
        "counter",
        "Statements left out of the statistics because a collection buffer was full.",
    )
    .sample(&[], ctx.stats.dropped());
    out
}

/// The per-storage-node pool families.
fn pool_families(ctx: &ServerContext, out: &mut String) {
    let nodes: Vec<_> = ctx
        .topology
        .nodes()
        .map(|n| {
            let t = n.pool.target();
            (
                n.id.to_string(),
                format!("{}:{}", t.host, t.port),
                n.pool.clone(),
            )
        })
        .collect();
    type Read = fn(&strata_backend::Pool) -> u64;
    let series: [(&'static str, &str, &str, Read); 6] = [
        (
            "strata_pool_connections_active",
            "gauge",
            "Storage connections lent to sessions.",
            |p| p.open_count().saturating_sub(p.idle_count()) as u64,
        ),
        (
            "strata_pool_connections_idle",
            "gauge",
            "Idle storage connections.",
            |p| p.idle_count() as u64,
        ),
        (
            "strata_pool_connections_max",
            "gauge",
            "Most storage connections the pool opens.",
            |p| p.max_size() as u64,
        ),
        (
            "strata_pool_waiters",
            "gauge",
            "Sessions waiting for a storage connection (the pool is exhausted).",
            |p| p.waiter_count() as u64,
        ),
        (
            "strata_pool_connect_errors_total",
            "counter",
            "Failed connects to the storage node.",
            |p| p.connect_error_count(),
        ),
        (
            "strata_storage_node_up",
            "gauge",
            "0 while the latest connect to the storage node failed.",
            |p| u64::from(!p.is_failing()),
        ),
    ];
    for (name, kind, help, read) in series {
        let mut f = family(out, name, kind, help);
        for (dnid, node, pool) in &nodes {
            f.sample(&[("dnid", dnid), ("node", node)], read(pool));
        }
    }
    // The heartbeat's view of every storage node, replicas included.
    let beats = ctx.ha.datasources();
    let label = |s: &crate::failover::StorageNodeState| {
        (
            s.dnid.to_string(),
            format!("{}:{}", s.host, s.port),
            s.role.as_str(),
        )
    };
    let mut f = family(
        out,
        "strata_storage_node_heartbeat_up",
        "gauge",
        "1 while the storage node answers heartbeats (a replica: and replicates within the lag limit), by role.",
    );
    for s in &beats {
        let (dnid, node, role) = label(s);
        let up = s.status == crate::failover::NodeStatus::Up;
        f.sample(
            &[("dnid", &dnid), ("node", &node), ("role", role)],
            u64::from(up),
        );
    }
    let mut f = family(
        out,
        "strata_storage_node_lag_seconds",
        "gauge",
        "Replication lag of a replica (Seconds_Behind_Master), where known.",
    );
    for s in beats.iter().filter(|s| s.lag_ms.is_some()) {
        let (dnid, node, role) = label(s);
        let lag = s.lag_ms.unwrap_or(0) as f64 / 1000.0;
        f.sample(&[("dnid", &dnid), ("node", &node), ("role", role)], lag);
    }
    let mut f = family(
        out,
        "strata_pool_acquire_waits_total",
        "counter",
        "Statements that found no idle storage connection and opened one or waited for one.",
    );
    for (dnid, node, pool) in &nodes {
        f.sample(&[("dnid", dnid), ("node", node)], pool.acquire_waits().0);
    }
    let mut f = family(
        out,
        "strata_pool_acquire_wait_seconds_total",
        "counter",
        "Time those statements spent getting a storage connection.",
    );
    for (dnid, node, pool) in &nodes {
        f.sample(&[("dnid", dnid), ("node", node)], pool.acquire_waits().1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_fall_into_their_class() {
        assert_eq!(ErrorClass::of(1064), ErrorClass::Syntax);
        assert_eq!(ErrorClass::of(1045), ErrorClass::Access);
        assert_eq!(ErrorClass::of(1146), ErrorClass::NotFound);
        assert_eq!(ErrorClass::of(1062), ErrorClass::Constraint);
        assert_eq!(ErrorClass::of(1213), ErrorClass::Lock);
        assert_eq!(ErrorClass::of(2013), ErrorClass::Storage);
        assert_eq!(ErrorClass::of(1), ErrorClass::Other);
    }

    #[test]
    fn a_statement_lands_in_its_latency_bucket_and_counters() {
        let m = Metrics::default();
        m.statement(KindGroup::Select, Route::Single, 0, 3, 700);
        m.statement(KindGroup::Select, Route::Single, 1064, 0, 20_000_000);
        assert_eq!(m.statements_total(), 2);
        assert_eq!(m.latency_buckets[1].load(Ordering::Relaxed), 1);
        assert_eq!(m.latency_buckets[14].load(Ordering::Relaxed), 1);
        assert_eq!(
            m.errors[ErrorClass::Syntax as usize].load(Ordering::Relaxed),
            1
        );
        assert_eq!(m.rows.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        write_labels(&mut out, &[("a", "x\"y\\z\n")]);
        assert_eq!(out, "{a=\"x\\\"y\\\\z\\n\"}");
    }
}
