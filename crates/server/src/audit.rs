//! The audit log: one JSON line per statement, login and failed login, written off the
//! statement path. Each session thread writes its lines into its own buffer (a short,
//! uncontended lock; no allocation shared with another thread, no wake-up of anyone);
//! a writer thread collects the buffers every few milliseconds, appends them to the
//! file and rotates it by size. A buffer that is full drops the line and counts it; the
//! writer reports the count in the log itself and in Strata's own log, so a gap is never
//! silent and a session never waits for the disk.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use strata_catalog::config::AuditConfig;

use crate::log_file::LogFile;
use strata_sql::{classify, normalize_digest, table_references};

/// One event, as a session describes it (borrowed: the line is written from it at once).
#[derive(Debug, Clone, Copy)]
pub struct AuditRecord<'a> {
    /// When it happened, microseconds since the Unix epoch.
    pub at_micros: i64,
    /// `statement`, `login` or `login_failed`.
    pub event: &'static str,
    /// Strata's connection id.
    pub session: u32,
    /// The user name the client gave.
    pub user: &'a str,
    /// The client's address.
    pub client: &'a str,
    /// The current logical database.
    pub db: Option<&'a str>,
    /// The statement's text, for statements.
    pub statement: Option<&'a str>,
    /// MySQL error code; 0 on success.
    pub error: u16,
    /// Rows changed (OK packets).
    pub affected_rows: Option<u64>,
    /// Rows returned, where the compute node saw them.
    pub returned_rows: Option<u64>,
    /// How long it took, in microseconds.
    pub duration_us: u64,
}

/// Buffers lines are written into: one per session thread (more buffers than threads
/// keeps the mapping simple; a thread always uses the same one).
pub(crate) const SHARDS: usize = 16;

/// What the sessions and the writer share.
struct Shared {
    shards: Vec<Mutex<Vec<u8>>>,
    /// Bytes one buffer may hold before lines are dropped.
    shard_cap: usize,
    dropped: AtomicU64,
    closed: AtomicBool,
}

/// The sessions' end of the audit log.
pub struct AuditLog {
    shared: Arc<Shared>,
    digest_only: bool,
}

/// The audit log could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("audit log {path}: {source}")]
pub struct AuditError {
    path: PathBuf,
    source: std::io::Error,
}

impl AuditLog {
    /// Opens (appends to) the file and starts the writer thread.
    pub fn start(config: &AuditConfig, data_dir: &Path) -> Result<AuditLog, AuditError> {
        let path = match &config.path {
            Some(p) => p.clone(),
            None => data_dir.join("audit.log"),
        };
        let file = LogFile::open(
            path.clone(),
            config.rotate_bytes,
            config.keep,
            256 * 1024,
            "audit log",
        )
        .map_err(|source| AuditError {
            path: path.clone(),
            source,
        })?;
        let shared = Arc::new(Shared {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            shard_cap: (config.buffer_bytes / SHARDS).max(4096),
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        });
        let writer = Writer {
            file,
            shared: shared.clone(),
            reported: 0,
        };
        std::thread::Builder::new()
            .name("strata-audit".into())
            .spawn(move || writer.run())
            .map_err(|source| AuditError { path, source })?;
        Ok(AuditLog {
            shared,
            digest_only: config.digest_only,
        })
    }

    /// Writes one line into this thread's buffer; never waits for the disk (a full
    /// buffer drops the line and counts it).
    pub fn record(&self, record: &AuditRecord<'_>) {
        let shard = &self.shared.shards[shard_index()];
        let mut buf = shard.lock().unwrap_or_else(|p| p.into_inner());
        if buf.len() >= self.shared.shard_cap {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        write_line(&mut buf, record, self.digest_only);
    }

    /// Lines dropped so far because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // The writer empties the buffers once more, then stops.
        self.shared.closed.store(true, Ordering::Release);
    }
}

/// This thread's buffer.
pub(crate) fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|s| {
        if s.get() == usize::MAX {
            s.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        s.get()
    })
}

/// Appends `record` as one JSON line.
fn write_line(buf: &mut Vec<u8>, r: &AuditRecord<'_>, digest_only: bool) {
    buf.extend_from_slice(b"{\"time\":\"");
    write_time(buf, r.at_micros);
    buf.extend_from_slice(b"\",\"event\":\"");
    buf.extend_from_slice(r.event.as_bytes());
    let _ = write!(buf, "\",\"session\":{},\"user\":", r.session);
    json_string(buf, r.user);
    buf.extend_from_slice(b",\"client\":");
    json_string(buf, r.client);
    if let Some(db) = r.db {
        buf.extend_from_slice(b",\"db\":");
        json_string(buf, db);
    }
    if let Some(sql) = r.statement {
        let kind = classify(sql);
        let _ = write!(buf, ",\"kind\":\"{}\",\"statement\":", kind_name(kind));
        if digest_only {
            json_string(buf, &normalize_digest(sql).text);
        } else {
            json_string(buf, sql);
        }
        let tables = table_references(sql, kind);
        let mut names: Vec<(&str, &str)> = tables
            .refs
            .iter()
            .filter_map(|t| Some((t.schema.as_deref().or(r.db)?, t.name.as_str())))
            .collect();
        names.sort_unstable();
        names.dedup();
        if !names.is_empty() {
            buf.extend_from_slice(b",\"tables\":[");
            for (i, (db, table)) in names.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                json_string(buf, &format!("{db}.{table}"));
            }
            buf.push(b']');
        }
    }
    let _ = write!(buf, ",\"error\":{}", r.error);
    if let Some(n) = r.affected_rows {
        let _ = write!(buf, ",\"affected_rows\":{n}");
    }
    if let Some(n) = r.returned_rows {
        let _ = write!(buf, ",\"returned_rows\":{n}");
    }
    let _ = writeln!(buf, ",\"duration_us\":{}}}", r.duration_us);
}

/// A JSON string literal (escaping as JSON requires; writing into a Vec cannot fail).
fn json_string(buf: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *buf, s);
}

/// The statement kind as the log names it.
fn kind_name(kind: strata_sql::StatementKind) -> String {
    format!("{kind:?}").to_ascii_lowercase()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the part up to the second cached per thread.
fn write_time(buf: &mut Vec<u8>, micros: i64) {
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let second = micros.div_euclid(1_000_000);
    let millis = micros.rem_euclid(1_000_000) / 1000;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != second {
            let t = strata_planner::DateTime::from_unix_micros(second * 1_000_000, 0);
            last.1 = format!("{}T{}", t.date_text(), t.time_text(0));
            last.0 = second;
        }
        buf.extend_from_slice(last.1.as_bytes());
    });
    let _ = write!(buf, ".{millis:03}Z");
}

struct Writer {
    file: LogFile,
    shared: Arc<Shared>,
    reported: u64,
}

/// How often the writer collects the buffers: sessions never wake it (a wake-up per
/// statement costs a system call on the statement path), it comes for the lines.
const POLL: std::time::Duration = std::time::Duration::from_millis(5);

impl Writer {
    fn run(mut self) {
        let mut spare: Vec<u8> = Vec::new();
        loop {
            let closing = self.shared.closed.load(Ordering::Acquire);
            let mut wrote = false;
            for i in 0..SHARDS {
                {
                    let mut buf = self.shared.shards[i]
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    if buf.is_empty() {
                        continue;
                    }
                    std::mem::swap(&mut *buf, &mut spare);
                }
                self.write_lines(&spare);
                spare.clear();
                wrote = true;
            }
            if wrote || self.shared.dropped.load(Ordering::Relaxed) != self.reported {
                self.report_drops();
                if let Err(e) = self.file.flush() {
                    tracing::warn!(error = %e, "audit log write failed");
                }
            }
            if closing {
                return;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Writes whole lines, rotating the file between lines when it would grow too big.
    fn write_lines(&mut self, chunk: &[u8]) {
        for line in chunk.split_inclusive(|&b| b == b'\n') {
            if let Err(e) = self.file.write_line(line) {
                tracing::warn!(error = %e, "audit log write failed");
                return;
            }
        }
    }

    fn report_drops(&mut self) {
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        if dropped == self.reported {
            return;
        }
        let lost = dropped - self.reported;
        self.reported = dropped;
        tracing::warn!(
            lost,
            total = dropped,
            "audit events dropped: the audit writer fell behind"
        );
        let line = format!(
            "{{\"time\":\"{}\",\"event\":\"audit_dropped\",\"count\":{lost},\"total\":{dropped}}}",
            {
                let mut t = Vec::new();
                write_time(&mut t, now_micros());
                String::from_utf8_lossy(&t).into_owned()
            }
        );
        let _ = self.file.write_line(format!("{line}\n").as_bytes());
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(log: &AuditLog, n: u32) {
        let sql = format!("SELECT \"{n}\" FROM t -- é");
        log.record(&AuditRecord {
            at_micros: now_micros(),
            event: "statement",
            session: n,
            user: "app",
            client: "127.0.0.1",
            db: Some("shop"),
            statement: Some(&sql),
            error: 0,
            affected_rows: None,
            returned_rows: Some(1),
            duration_us: 12,
        });
    }

    fn wait_for_lines(path: &Path, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if lines.len() >= n {
                return lines;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Vec::new()
    }

    #[test]
    fn events_are_json_lines_in_order() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let log = AuditLog::start(&AuditConfig::default(), dir.path())?;
        for n in 0..3 {
            record(&log, n);
        }
        let lines = wait_for_lines(&dir.path().join("audit.log"), 3);
        assert_eq!(lines.len(), 3);
        for (n, line) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            assert_eq!(v["session"], n as u64);
            assert_eq!(v["statement"], format!("SELECT \"{n}\" FROM t -- é"));
            assert_eq!(v["kind"], "select");
            assert_eq!(v["tables"][0], "shop.t");
            assert_eq!(v["error"], 0);
            assert!(v.get("affected_rows").is_none());
            assert!(v["time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 24));
        }
        Ok(())
    }

    #[test]
    fn the_file_rotates_by_size_and_keeps_the_newest() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let config = AuditConfig {
            rotate_bytes: 600,
            keep: 2,
            ..AuditConfig::default()
        };
        let log = AuditLog::start(&config, dir.path())?;
        for n in 0..20 {
            record(&log, n);
        }
        drop(log);
        let path = dir.path().join("audit.log");
        for _ in 0..200 {
            if path.with_extension("log.2").exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let sizes: Vec<u64> = ["audit.log", "audit.log.1", "audit.log.2"]
            .iter()
            .map(|f| std::fs::metadata(dir.path().join(f)).map_or(0, |m| m.len()))
            .collect();
        assert!(sizes.iter().all(|&s| s > 0 && s <= 600), "{sizes:?}");
        assert!(!dir.path().join("audit.log.3").exists());
        let newest = std::fs::read_to_string(&path)?;
        assert!(newest.contains("\"session\":19"), "{newest}");
        Ok(())
    }
}
