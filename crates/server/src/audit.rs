//! The audit log: one JSON line per statement, login and failed login, written off the
//! statement path. Sessions hand events to a bounded channel and never wait; a writer
//! thread appends them to the file, rotates it by size and, when the channel was full,
//! says how many events were dropped (in the log itself and in Strata's own log), so a
//! gap is never silent.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use strata_catalog::config::AuditConfig;

/// One audited event.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// When it happened, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub time: String,
    /// `statement`, `login` or `login_failed`.
    pub event: &'static str,
    /// Strata's connection id.
    pub session: u32,
    /// The user name the client gave.
    pub user: String,
    /// The client's address.
    pub client: String,
    /// The current logical database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<String>,
    /// The statement kind (lowercase), for statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The statement's text (or its digest, when only digests are logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// Tables the statement touches, `db.table`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// MySQL error code; 0 on success.
    pub error: u16,
    /// Rows changed (OK packets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_rows: Option<u64>,
    /// Rows returned, where the compute node saw them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_rows: Option<u64>,
    /// How long it took, in microseconds.
    pub duration_us: u64,
}

/// The sessions' end of the audit log.
pub struct AuditLog {
    sender: SyncSender<AuditEvent>,
    dropped: Arc<AtomicU64>,
    /// Log digests instead of statement texts.
    pub digest_only: bool,
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
        let file = open(&path).map_err(|source| AuditError {
            path: path.clone(),
            source,
        })?;
        let (sender, receiver) = sync_channel(config.queue.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            size: file.metadata().map(|m| m.len()).unwrap_or(0),
            out: BufWriter::new(file),
            path: path.clone(),
            rotate_bytes: config.rotate_bytes,
            keep: config.keep,
            dropped: dropped.clone(),
            reported: 0,
        };
        std::thread::Builder::new()
            .name("strata-audit".into())
            .spawn(move || writer.run(receiver))
            .map_err(|source| AuditError { path, source })?;
        Ok(AuditLog {
            sender,
            dropped,
            digest_only: config.digest_only,
        })
    }

    /// Queues an event; never waits (a full queue counts the event as dropped).
    pub fn record(&self, event: AuditEvent) {
        match self.sender.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Events dropped so far because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

struct Writer {
    out: BufWriter<File>,
    path: PathBuf,
    size: u64,
    rotate_bytes: u64,
    keep: u32,
    dropped: Arc<AtomicU64>,
    reported: u64,
}

impl Writer {
    fn run(mut self, receiver: Receiver<AuditEvent>) {
        while let Ok(event) = receiver.recv() {
            self.write(&event);
            // Drain what queued meanwhile, then flush once: one write per burst.
            loop {
                match receiver.try_recv() {
                    Ok(event) => self.write(&event),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.finish();
                        return;
                    }
                }
            }
            self.report_drops();
            if let Err(e) = self.out.flush() {
                tracing::warn!(error = %e, "audit log write failed");
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.report_drops();
        if let Err(e) = self.out.flush() {
            tracing::warn!(error = %e, "audit log write failed");
        }
    }

    fn write(&mut self, event: &AuditEvent) {
        let line = match serde_json::to_string(event) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "audit event not serializable");
                return;
            }
        };
        if self.rotate_bytes > 0 && self.size + line.len() as u64 + 1 > self.rotate_bytes {
            self.rotate();
        }
        if let Err(e) = writeln!(self.out, "{line}") {
            tracing::warn!(error = %e, "audit log write failed");
            return;
        }
        self.size += line.len() as u64 + 1;
    }

    /// `audit.log` becomes `audit.log.1`, `.1` becomes `.2`, ... up to `keep` files.
    fn rotate(&mut self) {
        // Best effort throughout: a failed flush loses at most what a failed write would,
        // older files may not exist yet, and `open` below reports a real problem.
        let _ = self.out.flush();
        let name = |i: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            PathBuf::from(p)
        };
        if self.keep == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::remove_file(name(self.keep));
            for i in (1..self.keep).rev() {
                let _ = std::fs::rename(name(i), name(i + 1));
            }
            let _ = std::fs::rename(&self.path, name(1));
        }
        match open(&self.path) {
            Ok(file) => {
                self.out = BufWriter::new(file);
                self.size = 0;
            }
            Err(e) => {
                tracing::warn!(error = %e, path = %self.path.display(), "cannot reopen the audit log")
            }
        }
    }

    fn report_drops(&mut self) {
        let dropped = self.dropped.load(Ordering::Relaxed);
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
            now_text()
        );
        if writeln!(self.out, "{line}").is_ok() {
            self.size += line.len() as u64 + 1;
        }
    }
}

/// The current time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_text() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let t = strata_planner::DateTime::from_unix_micros(micros, 0);
    format!("{}T{}Z", t.date_text(), t.time_text(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> AuditEvent {
        AuditEvent {
            time: now_text(),
            event: "statement",
            session: n,
            user: "app".into(),
            client: "127.0.0.1".into(),
            db: Some("shop".into()),
            kind: Some("select".into()),
            statement: Some(format!("SELECT \"{n}\" -- é")),
            tables: vec!["shop.t".into()],
            error: 0,
            affected_rows: None,
            returned_rows: Some(1),
            duration_us: 12,
        }
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
            log.record(event(n));
        }
        let lines = wait_for_lines(&dir.path().join("audit.log"), 3);
        assert_eq!(lines.len(), 3);
        for (n, line) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            assert_eq!(v["session"], n as u64);
            assert_eq!(v["statement"], format!("SELECT \"{n}\" -- é"));
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
            log.record(event(n));
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
