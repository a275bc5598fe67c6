//! The status counters the compute node keeps itself, for `SHOW STATUS` and
//! information_schema's `SESSION_STATUS` / `GLOBAL_STATUS`: those about the client's
//! connection. The storage node cannot know them: it sees Strata's pooled connections
//! and Strata's own statements, not the client's, and not the statements Strata answers
//! itself. Counters about the storage engine (`Handler_*`, `Innodb_*`, `Select_*`, ...)
//! stay the storage node's.
//!
//! Per-session counters (`Questions`, `Com_*`, `Bytes_*`, `Empty_queries`) live in the session
//! (`SessionStatus`) and, as they change, in the compute node's sums (`GlobalStatus`):
//! the GLOBAL values are the sums over every session since start, as MariaDB's are.

pub mod com;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::context::ServerContext;

pub use com::COM_NAMES;

/// The compute node's status counters (in `Metrics`, its one registry).
pub struct GlobalStatus {
    /// Client statements (`Questions`).
    questions: AtomicU64,
    /// `Com_*`, indexed like `COM_NAMES`.
    com: [AtomicU64; COM_NAMES.len()],
    /// Client SELECTs (and SHOWs MariaDB runs as SELECTs) that returned no row.
    empty_queries: AtomicU64,
    /// Bytes read from and written to clients, of the commands finished so far.
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    /// Sessions that ended without COM_QUIT (killed, dropped, timed out).
    aborted_clients: AtomicU64,
    /// Connections that never got a session (failed handshake or login, refused).
    aborted_connects: AtomicU64,
    /// Connection attempts (`Connections`).
    connections: AtomicU64,
    /// Most sessions at once since start or the last FLUSH STATUS.
    max_used: AtomicU64,
    /// When FLUSH STATUS last ran (`Uptime_since_flush_status`).
    flushed: Mutex<Option<Instant>>,
}

impl Default for GlobalStatus {
    fn default() -> Self {
        GlobalStatus {
            questions: AtomicU64::new(0),
            com: std::array::from_fn(|_| AtomicU64::new(0)),
            empty_queries: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            aborted_clients: AtomicU64::new(0),
            aborted_connects: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            max_used: AtomicU64::new(0),
            flushed: Mutex::new(None),
        }
    }
}

impl GlobalStatus {
    /// A client connection arrived (before its handshake).
    pub fn connection_attempt(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection ended without a session.
    pub fn aborted_connect(&self) {
        self.aborted_connects.fetch_add(1, Ordering::Relaxed);
    }

    /// A session ended without COM_QUIT.
    pub fn aborted_client(&self) {
        self.aborted_clients.fetch_add(1, Ordering::Relaxed);
    }

    /// `sessions` are live now (a session was registered).
    pub fn sessions_now(&self, sessions: usize) {
        self.max_used.fetch_max(sessions as u64, Ordering::Relaxed);
    }

    /// FLUSH STATUS: what MariaDB's resets globally (the sums of per-session counters
    /// are not reset, in MariaDB either).
    pub fn flush(&self, sessions: usize) {
        self.aborted_clients.store(0, Ordering::Relaxed);
        self.aborted_connects.store(0, Ordering::Relaxed);
        self.max_used.store(sessions as u64, Ordering::Relaxed);
        *self.flushed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Client statements counted so far.
    pub fn questions(&self) -> u64 {
        self.questions.load(Ordering::Relaxed)
    }
}

/// One session's counters, reset by its FLUSH STATUS.
pub struct SessionStatus {
    questions: u64,
    com: Box<[u64; COM_NAMES.len()]>,
    empty_queries: u64,
    /// The client connection's byte totals when they were last added to the sums.
    synced_read: u64,
    synced_written: u64,
    /// The client connection's byte totals at the session's last FLUSH STATUS.
    base_read: u64,
    base_written: u64,
}

impl Default for SessionStatus {
    fn default() -> Self {
        SessionStatus {
            questions: 0,
            com: Box::new([0; COM_NAMES.len()]),
            empty_queries: 0,
            synced_read: 0,
            synced_written: 0,
            base_read: 0,
            base_written: 0,
        }
    }
}

/// The client connection's byte totals (read, written) right now.
pub type ByteTotals = (u64, u64);

impl SessionStatus {
    /// A client statement (each one of a multi-statement COM_QUERY, a prepared
    /// statement's execution): `Questions`, and its `Com_*` counter.
    pub fn question(&mut self, global: &GlobalStatus, com: Option<usize>) {
        self.questions += 1;
        global.questions.fetch_add(1, Ordering::Relaxed);
        self.count(global, com);
    }

    /// A `Com_*` counter alone (commands MariaDB leaves out of `Questions`).
    pub fn count(&mut self, global: &GlobalStatus, com: Option<usize>) {
        if let Some(i) = com {
            if let (Some(mine), Some(all)) = (self.com.get_mut(i), global.com.get(i)) {
                *mine += 1;
                all.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A client statement that counted in `com` succeeded and returned `rows` rows
    /// (`None`: no result set, or one the compute node did not count): `Empty_queries`
    /// counts it when it returned none and MariaDB runs it as a SELECT.
    pub fn statement_done(&mut self, global: &GlobalStatus, com: Option<usize>, rows: Option<u64>) {
        if rows == Some(0) && com.is_some_and(com::counts_empty) {
            self.empty_queries += 1;
            global.empty_queries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A `Com_*` counter by name (without `Com_`).
    pub fn count_named(&mut self, global: &GlobalStatus, name: &str) {
        self.count(global, com::index_of(name));
    }

    /// Adds the bytes the client connection moved since the last call to the sums.
    pub fn sync_bytes(&mut self, global: &GlobalStatus, (read, written): ByteTotals) {
        global
            .bytes_received
            .fetch_add(read.saturating_sub(self.synced_read), Ordering::Relaxed);
        global.bytes_sent.fetch_add(
            written.saturating_sub(self.synced_written),
            Ordering::Relaxed,
        );
        self.synced_read = read;
        self.synced_written = written;
    }

    /// FLUSH STATUS of this session: its counters start again from zero.
    pub fn flush(&mut self, (read, written): ByteTotals) {
        self.questions = 0;
        self.com.fill(0);
        self.empty_queries = 0;
        self.base_read = read;
        self.base_written = written;
    }

    /// The values the compute node answers for, in `global` or session scope; `bytes`
    /// the client connection's totals right now.
    pub fn snapshot(&self, ctx: &ServerContext, global: bool, bytes: ByteTotals) -> Snapshot {
        let g = &ctx.metrics.status;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let sessions = ctx.all_sessions();
        let running = sessions
            .iter()
            .filter(|(_, e)| e.info.lock().map(|i| i.is_some()).unwrap_or(true))
            .count()
            .max(1);
        let uptime = ctx.started.elapsed().as_secs();
        let since_flush = g
            .flushed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(uptime, |t| t.elapsed().as_secs());
        // Bytes of this session not yet added to the sums.
        let unsynced_read = bytes.0.saturating_sub(self.synced_read);
        let unsynced_written = bytes.1.saturating_sub(self.synced_written);
        let (questions, com, empty, received, sent): (u64, Vec<u64>, u64, u64, u64) = if global {
            (
                load(&g.questions),
                g.com.iter().map(load).collect(),
                load(&g.empty_queries),
                load(&g.bytes_received) + unsynced_read,
                load(&g.bytes_sent) + unsynced_written,
            )
        } else {
            (
                self.questions,
                self.com.to_vec(),
                self.empty_queries,
                bytes.0.saturating_sub(self.base_read),
                bytes.1.saturating_sub(self.base_written),
            )
        };
        let connections = load(&g.connections);
        let mut values = vec![
            ("Aborted_clients", load(&g.aborted_clients).to_string()),
            ("Aborted_connects", load(&g.aborted_connects).to_string()),
            ("Bytes_received", received.to_string()),
            ("Bytes_sent", sent.to_string()),
            ("Connections", connections.to_string()),
            ("Empty_queries", empty.to_string()),
            (
                "Max_used_connections",
                load(&g.max_used).max(sessions.len() as u64).to_string(),
            ),
            // MariaDB's is a global query id (statements of stored programs too).
            ("Queries", load(&g.questions).to_string()),
            ("Questions", questions.to_string()),
            ("Threads_cached", "0".into()),
            ("Threads_connected", sessions.len().to_string()),
            ("Threads_created", connections.to_string()),
            // In session scope MariaDB answers 1: the session asking runs.
            (
                "Threads_running",
                if global { running } else { 1 }.to_string(),
            ),
            ("Uptime", uptime.to_string()),
            ("Uptime_since_flush_status", since_flush.to_string()),
        ];
        for (name, n) in COM_NAMES.iter().zip(com) {
            values.push((name, n.to_string()));
        }
        Snapshot { values }
    }
}

/// The compute node's values of one SHOW STATUS (names as MariaDB spells them; the
/// `Com_*` ones without their prefix).
pub struct Snapshot {
    values: Vec<(&'static str, String)>,
}

impl Snapshot {
    /// The compute node's value of status variable `name` (any case), if it answers
    /// for it.
    pub fn value(&self, name: &str) -> Option<&str> {
        if let Some(rest) = name
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("com_"))
            .and_then(|_| name.get(4..))
        {
            return com::index_of(rest)
                .and_then(|i| self.values.get(self.values.len() - COM_NAMES.len() + i))
                .map(|(_, v)| v.as_str())
                // A Com_ counter MariaDB has and Strata does not know counts nothing
                // here: the storage node's would count Strata's statements.
                .or(Some("0"));
        }
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values as an SQL CASE over `column` (upper-case names, as information_schema
    /// has them), falling back to `column`'s own value.
    pub fn case_sql(&self, column: &str) -> String {
        let mut sql = String::from("CASE VARIABLE_NAME");
        let com_start = self.values.len() - COM_NAMES.len();
        for (i, (name, value)) in self.values.iter().enumerate() {
            let name = if i >= com_start {
                format!("COM_{}", name.to_ascii_uppercase())
            } else {
                name.to_ascii_uppercase()
            };
            sql.push_str(&format!(" WHEN '{name}' THEN '{value}'"));
        }
        // A Com_ counter Strata does not know counts nothing (see `value`).
        sql.push_str(&format!(
            " ELSE IF(LEFT(VARIABLE_NAME, 4) = 'COM_', '0', {column}) END"
        ));
        sql
    }
}
