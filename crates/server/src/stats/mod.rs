//! Statement statistics: per-digest counts and latencies (`SHOW @@SQL_DIGEST`), the
//! slow query log (`SHOW @@SLOW_SQL`, a JSON-lines file), per-data-node statement
//! rates, and the statement metrics (`crate::metrics`).
//!
//! Nothing is computed on the statement path. A session appends a compact record of
//! each statement (its text, at most `MAX_TEXT` bytes, time, rows, error, the data nodes
//! it used) to its thread's buffer — a short uncontended lock and a copy into a buffer
//! that keeps its capacity, as the audit log does. `StatementStats::collect`, run every
//! `COLLECT_INTERVAL` by a background task and before every read, swaps the buffers
//! out, computes digests and statement kinds (unless the session handed over those it
//! had already computed), and folds the records into the digest table, the slow log and
//! the metrics. A full buffer drops records and counts them.

pub mod digests;
pub mod slow;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use strata_catalog::config::{SlowLogConfig, StatisticsConfig};
use strata_catalog::DataNodeId;

use crate::audit::{now_micros, shard_index, SHARDS};
use crate::metrics::{KindGroup, Metrics, Route};
use digests::{DigestRow, DigestTable, Execution};
use slow::{SlowEntry, SlowLog};

/// Bytes of a statement's text kept for its digest (longer texts are cut, as
/// performance_schema cuts digests at `max_digest_length`).
pub const MAX_TEXT: usize = 4096;

/// How often the background task folds the buffers in.
pub const COLLECT_INTERVAL: Duration = Duration::from_millis(200);

/// Bytes one thread's buffer holds before records are dropped.
const SHARD_CAP: usize = 4 * 1024 * 1024;

/// Statements per second per data node are measured over windows at least this long.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// What a session reports about one finished statement.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// The statement's text (a prepared statement's execution: the prepared text).
    pub sql: &'a str,
    /// Its digest text (`strata_sql::digest_text_into`), when the session already
    /// computed it (the plan cache needs it): the collector then does not lex `sql`.
    pub digest: Option<&'a str>,
    /// Its kind, when the session already classified it.
    pub kind: Option<KindGroup>,
    /// Time from arrival to the last reply packet.
    pub micros: u64,
    /// Rows returned or changed, where known.
    pub rows: u64,
    /// MySQL error code, 0 on success.
    pub error: u16,
    /// Data nodes the statement ran on.
    pub nodes: u32,
    /// Bit `dnid` set for each data node below 64 it ran on.
    pub node_mask: u64,
    /// Connection id.
    pub session: u32,
    /// Account name (kept only for slow statements).
    pub user: &'a str,
    /// Current database (kept only for slow statements).
    pub db: Option<&'a str>,
}

/// The statistics of one compute node; see the module documentation.
pub struct StatementStats {
    /// `[statistics] enabled`.
    enabled: std::sync::atomic::AtomicBool,
    shards: Vec<Mutex<Vec<u8>>>,
    dropped: AtomicU64,
    slow_threshold_us: AtomicU64,
    collected: Mutex<Collected>,
}

/// What the collector keeps.
struct Collected {
    digests: DigestTable,
    slow: SlowLog,
    /// Statements per data node since start.
    per_node: BTreeMap<DataNodeId, u64>,
    /// `per_node` at the start of the current rate window, and the previous window's
    /// rates.
    window: (Instant, BTreeMap<DataNodeId, u64>),
    rates: BTreeMap<DataNodeId, f64>,
    /// The buffer swapped into a shard (keeps its capacity between collections).
    spare: Vec<u8>,
    /// The digest text of the record being folded (keeps its capacity).
    digest: String,
    /// Digests of the statement shapes seen, so a repeated shape is not lexed again.
    shapes: strata_sql::ShapeDigests,
}

impl StatementStats {
    /// Statistics with the given limits; the slow log file opens when enabled.
    pub fn new(
        statistics: &StatisticsConfig,
        slow_log: &SlowLogConfig,
        data_dir: &Path,
    ) -> std::io::Result<StatementStats> {
        Ok(StatementStats {
            enabled: std::sync::atomic::AtomicBool::new(statistics.enabled),
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            dropped: AtomicU64::new(0),
            slow_threshold_us: AtomicU64::new(slow_log.slow_query_ms.saturating_mul(1000)),
            collected: Mutex::new(Collected {
                digests: DigestTable::new(statistics.max_digests),
                slow: SlowLog::open(slow_log, data_dir)?,
                per_node: BTreeMap::new(),
                window: (Instant::now(), BTreeMap::new()),
                rates: BTreeMap::new(),
                spare: Vec::new(),
                digest: String::new(),
                shapes: strata_sql::ShapeDigests::new(),
            }),
        })
    }

    /// Applies changed limits and slow log settings (RELOAD @@CONFIG).
    pub fn reconfigure(
        &self,
        statistics: &StatisticsConfig,
        slow_log: &SlowLogConfig,
        data_dir: &Path,
    ) -> std::io::Result<()> {
        let slow = SlowLog::open(slow_log, data_dir)?;
        self.enabled.store(statistics.enabled, Ordering::Relaxed);
        let mut c = self.lock();
        c.digests.set_capacity(statistics.max_digests);
        let kept = c.slow.entries();
        c.slow = slow;
        for e in kept.into_iter().rev() {
            c.slow.remember(e);
        }
        self.slow_threshold_us.store(
            slow_log.slow_query_ms.saturating_mul(1000),
            Ordering::Relaxed,
        );
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Collected> {
        self.collected.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one statement in this thread's buffer (never waits for the collector).
    pub fn record(&self, s: &Sample<'_>) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let slow = s.micros >= self.slow_threshold_us.load(Ordering::Relaxed);
        let mut buf = self.shards[shard_index()]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if buf.len() >= SHARD_CAP {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        encode(&mut buf, s, slow);
    }

    /// Folds every buffered record in; `metrics` gets the statement counters.
    pub fn collect(&self, metrics: &Metrics) {
        let mut c = self.lock();
        let c = &mut *c;
        for shard in &self.shards {
            {
                let mut buf = shard.lock().unwrap_or_else(|p| p.into_inner());
                if buf.is_empty() {
                    continue;
                }
                std::mem::swap(&mut *buf, &mut c.spare);
            }
            let mut at = 0;
            let spare = std::mem::take(&mut c.spare);
            let now_ms = digests::now_ms();
            while let Some((record, next)) = decode(&spare, at) {
                at = next;
                fold(c, metrics, &record, now_ms);
            }
            c.spare = spare;
            c.spare.clear();
        }
        c.slow.flush();
        let now = Instant::now();
        let elapsed = now.duration_since(c.window.0);
        if elapsed >= RATE_WINDOW {
            let secs = elapsed.as_secs_f64();
            c.rates = c
                .per_node
                .iter()
                .map(|(dnid, n)| {
                    let before = c.window.1.get(dnid).copied().unwrap_or(0);
                    (*dnid, (n - before) as f64 / secs)
                })
                .collect();
            c.window = (now, c.per_node.clone());
        }
    }

    /// Digests by total time, most first.
    pub fn digests(&self, metrics: &Metrics) -> Vec<DigestRow> {
        self.collect(metrics);
        self.lock().digests.rows()
    }

    /// Forgets every digest (RESET @@SQL_DIGEST).
    pub fn reset_digests(&self, metrics: &Metrics) {
        self.collect(metrics);
        self.lock().digests.clear();
    }

    /// Slow statements kept in memory, newest first.
    pub fn slow(&self, metrics: &Metrics) -> Vec<SlowEntry> {
        self.collect(metrics);
        self.lock().slow.entries()
    }

    /// Statements run on each data node since start, and per second over the latest
    /// window of a few seconds.
    pub fn node_statements(&self) -> BTreeMap<DataNodeId, (u64, f64)> {
        let c = self.lock();
        c.per_node
            .iter()
            .map(|(dnid, n)| (*dnid, (*n, c.rates.get(dnid).copied().unwrap_or(0.0))))
            .collect()
    }

    /// Digests tracked.
    pub fn digest_count(&self) -> usize {
        self.lock().digests.len()
    }

    /// Records dropped because a buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Folds the statistics in every `COLLECT_INTERVAL` until shutdown.
pub async fn collect_loop(
    ctx: Arc<crate::context::ServerContext>,
    mut shutdown: crate::shutdown::Shutdown,
) {
    let mut tick = tokio::time::interval(COLLECT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => ctx.stats.collect(&ctx.metrics),
            _ = shutdown.triggered() => {
                ctx.stats.collect(&ctx.metrics);
                return;
            }
        }
    }
}

/// One decoded record.
struct Record<'a> {
    /// The statement's text, or its digest text when `digested`.
    text: &'a str,
    digested: bool,
    kind: Option<KindGroup>,
    micros: u64,
    rows: u64,
    node_mask: u64,
    session: u32,
    error: u16,
    nodes: u32,
    /// Start time (µs since the epoch), user, database and text of a slow statement.
    slow: Option<Slow<'a>>,
}

/// What a record of a slow statement adds.
struct Slow<'a> {
    at_micros: i64,
    user: &'a str,
    db: Option<&'a str>,
    sql: &'a str,
}

fn fold(c: &mut Collected, metrics: &Metrics, r: &Record<'_>, now_ms: u64) {
    let kind = r
        .kind
        .unwrap_or_else(|| KindGroup::of(strata_sql::classify(r.text)));
    metrics.statement(kind, Route::of_nodes(r.nodes), r.error, r.rows, r.micros);
    if r.digested {
        c.digest.clear();
        c.digest.push_str(r.text);
    } else {
        c.shapes.digest_into(r.text, &mut c.digest);
    }
    if r.nodes == 1 && r.node_mask.count_ones() == 1 {
        metrics.node_statement(DataNodeId::new(r.node_mask.trailing_zeros()), r.micros);
    }
    let mut mask = r.node_mask;
    while mask != 0 {
        let dnid = DataNodeId::new(mask.trailing_zeros());
        *c.per_node.entry(dnid).or_default() += 1;
        mask &= mask - 1;
    }
    if let Some(Slow {
        at_micros,
        user,
        db,
        sql,
    }) = r.slow
    {
        c.slow.push(SlowEntry {
            at_micros,
            session: r.session,
            user: user.to_string(),
            db: db.map(str::to_string),
            duration_ms: r.micros as f64 / 1000.0,
            rows: r.rows,
            error: r.error,
            nodes: (0..64)
                .filter(|i| r.node_mask & (1 << i) != 0)
                .map(DataNodeId::new)
                .collect(),
            digest: c.digest.clone(),
            statement: sql.to_string(),
        });
    }
    c.digests.add(
        &c.digest,
        Execution {
            micros: r.micros,
            rows: r.rows,
            error: r.error != 0,
            nodes: r.nodes,
            now_ms,
        },
    );
}

/// Cuts `text` to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// Record flags.
const SLOW: u8 = 1;
const HAS_DB: u8 = 2;
const DIGESTED: u8 = 4;
/// The kind byte of a record whose kind the collector works out.
const KIND_UNKNOWN: u8 = u8::MAX;

fn encode(buf: &mut Vec<u8>, s: &Sample<'_>, slow: bool) {
    let mut flags = 0;
    if slow {
        flags |= SLOW;
        if s.db.is_some() {
            flags |= HAS_DB;
        }
    }
    if s.digest.is_some() {
        flags |= DIGESTED;
    }
    buf.push(flags);
    buf.push(s.kind.map_or(KIND_UNKNOWN, KindGroup::index));
    put_str(buf, cut(s.digest.unwrap_or(s.sql), MAX_TEXT));
    buf.extend_from_slice(&s.micros.to_le_bytes());
    buf.extend_from_slice(&s.rows.to_le_bytes());
    buf.extend_from_slice(&s.node_mask.to_le_bytes());
    buf.extend_from_slice(&s.session.to_le_bytes());
    buf.extend_from_slice(&s.error.to_le_bytes());
    buf.extend_from_slice(&s.nodes.to_le_bytes());
    if slow {
        // Slow statements are rare: they pay for a wall-clock read, so the log says
        // exactly when they started, and for a copy of their text next to the digest.
        buf.extend_from_slice(&(now_micros() - s.micros as i64).to_le_bytes());
        put_str(buf, cut(s.user, 256));
        if let Some(db) = s.db {
            put_str(buf, cut(db, 256));
        }
        if s.digest.is_some() {
            put_str(buf, cut(s.sql, MAX_TEXT));
        }
    }
}

/// Reads the record at `at`; None at the end (or on a record cut short, which the
/// encoder never writes).
fn decode(buf: &[u8], at: usize) -> Option<(Record<'_>, usize)> {
    let mut r = Reader { buf, at };
    let [flags, kind] = r.bytes::<2>()?;
    let text = r.str()?;
    let micros = u64::from_le_bytes(r.bytes()?);
    let rows = u64::from_le_bytes(r.bytes()?);
    let node_mask = u64::from_le_bytes(r.bytes()?);
    let session = u32::from_le_bytes(r.bytes()?);
    let error = u16::from_le_bytes(r.bytes()?);
    let nodes = u32::from_le_bytes(r.bytes()?);
    let digested = flags & DIGESTED != 0;
    let slow = if flags & SLOW != 0 {
        let at_micros = i64::from_le_bytes(r.bytes()?);
        let user = r.str()?;
        let db = if flags & HAS_DB != 0 {
            Some(r.str()?)
        } else {
            None
        };
        let sql = if digested { r.str()? } else { text };
        Some(Slow {
            at_micros,
            user,
            db,
            sql,
        })
    } else {
        None
    };
    Some((
        Record {
            text,
            digested,
            kind: KindGroup::from_index(kind),
            micros,
            rows,
            node_mask,
            session,
            error,
            nodes,
            slow,
        },
        r.at,
    ))
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let b = self.buf.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(b)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = u32::from_le_bytes(self.bytes()?) as usize;
        let b = self.buf.get(self.at..self.at + len)?;
        self.at += len;
        // Written from a &str cut at a character boundary.
        std::str::from_utf8(b).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(sql: &str, micros: u64) -> Sample<'_> {
        Sample {
            sql,
            digest: None,
            kind: None,
            micros,
            rows: 2,
            error: 0,
            nodes: 2,
            node_mask: 0b110,
            session: 7,
            user: "app",
            db: Some("shop"),
        }
    }

    fn stats(slow_query_ms: u64) -> StatementStats {
        let slow = SlowLogConfig {
            slow_query_ms,
            ..SlowLogConfig::default()
        };
        StatementStats::new(
            &StatisticsConfig::default(),
            &slow,
            Path::new("/nonexistent"),
        )
        .expect("no file when disabled")
    }

    #[test]
    fn statements_differing_in_literals_share_a_digest() {
        let stats = stats(1000);
        let metrics = Metrics::default();
        stats.record(&sample("SELECT * FROM t WHERE id = 1", 100));
        stats.record(&sample("select * from t where id=22", 300));
        let rows = stats.digests(&metrics);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].digest, "select * from t where id = ?");
        assert_eq!(rows[0].count, 2);
        assert_eq!(rows[0].rows, 4);
        assert_eq!(rows[0].total_us, 400);
        assert_eq!(metrics.statements_total(), 2);
        assert_eq!(
            stats
                .node_statements()
                .get(&DataNodeId::new(1))
                .map(|v| v.0),
            Some(2)
        );
        assert_eq!(
            stats
                .node_statements()
                .get(&DataNodeId::new(2))
                .map(|v| v.0),
            Some(2)
        );
    }

    #[test]
    fn only_statements_over_the_threshold_are_slow() {
        let stats = stats(1);
        let metrics = Metrics::default();
        stats.record(&sample("SELECT 1", 999));
        stats.record(&sample("SELECT SLEEP(2)", 2_000_000));
        let slow = stats.slow(&metrics);
        assert_eq!(slow.len(), 1);
        assert_eq!(slow[0].statement, "SELECT SLEEP(2)");
        assert_eq!(slow[0].user, "app");
        assert_eq!(slow[0].db.as_deref(), Some("shop"));
        assert_eq!(slow[0].nodes, DataNodeId::from_numbers(&[1, 2]));
        assert_eq!(slow[0].digest, "select SLEEP(?)");
    }

    #[test]
    fn a_digest_and_kind_handed_over_are_used_as_they_are() {
        let stats = stats(1);
        let metrics = Metrics::default();
        // A text that is not the digest's: the collector must not lex it again.
        stats.record(&Sample {
            digest: Some("select c from t where id = ?"),
            kind: Some(KindGroup::Select),
            ..sample("SELECT c FROM t WHERE id=5 AND SLEEP(1)", 2_000_000)
        });
        stats.record(&sample("select c from t where id = 6", 10));
        let rows = stats.digests(&metrics);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].count, 2);
        let slow = stats.slow(&metrics);
        assert_eq!(slow.len(), 1);
        assert_eq!(slow[0].statement, "SELECT c FROM t WHERE id=5 AND SLEEP(1)");
        assert_eq!(slow[0].digest, "select c from t where id = ?");
        assert_eq!(slow[0].db.as_deref(), Some("shop"));
        assert_eq!(metrics.statements_total(), 2);
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        let text = "é".repeat(MAX_TEXT);
        let cut_text = cut(&text, MAX_TEXT);
        assert!(cut_text.len() <= MAX_TEXT);
        assert!(cut_text.len() >= MAX_TEXT - 1);
        let stats = stats(1000);
        stats.record(&sample(&text, 1));
        assert_eq!(stats.digests(&Metrics::default())[0].count, 1);
    }

    #[test]
    fn reset_forgets_the_digests() {
        let stats = stats(1000);
        let metrics = Metrics::default();
        stats.record(&sample("SELECT 1", 1));
        stats.reset_digests(&metrics);
        assert!(stats.digests(&metrics).is_empty());
    }

    #[test]
    fn switched_off_nothing_is_recorded_until_switched_on() {
        let stats = stats(0);
        let metrics = Metrics::default();
        let (off, on) = (
            StatisticsConfig {
                enabled: false,
                ..StatisticsConfig::default()
            },
            StatisticsConfig::default(),
        );
        let slow = SlowLogConfig::default();
        let dir = Path::new("/nonexistent");
        stats.reconfigure(&off, &slow, dir).expect("no file");
        stats.record(&sample("SELECT 1", 1));
        assert!(stats.digests(&metrics).is_empty());
        assert_eq!(metrics.statements_total(), 0);
        stats.reconfigure(&on, &slow, dir).expect("no file");
        stats.record(&sample("SELECT 1", 1));
        assert_eq!(stats.digests(&metrics).len(), 1);
        assert_eq!(metrics.statements_total(), 1);
    }
}
