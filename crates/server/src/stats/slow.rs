//! The slow query log: statements that took `slow_query_ms` or longer, kept in a
//! bounded ring for `SHOW @@SLOW_SQL` and the HTTP API, and written as JSON lines to a
//! file that rotates by size (by the statistics collector, never by a session).

use std::collections::VecDeque;
use std::path::Path;

use serde::Serialize;
use strata_catalog::config::SlowLogConfig;
use strata_catalog::DataNodeId;

use crate::log_file::LogFile;

/// One slow statement (a line of the file, a row of `SHOW @@SLOW_SQL`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlowEntry {
    /// When it started, microseconds since the Unix epoch.
    pub at_micros: i64,
    /// Connection id.
    pub session: u32,
    /// Account name.
    pub user: String,
    /// Current database.
    pub db: Option<String>,
    /// How long it took, milliseconds.
    pub duration_ms: f64,
    /// Rows returned or changed, where known.
    pub rows: u64,
    /// MySQL error code, 0 on success.
    pub error: u16,
    /// Data nodes it ran on.
    pub nodes: Vec<DataNodeId>,
    /// Its digest.
    pub digest: String,
    /// Its text (cut at `stats::MAX_TEXT` bytes).
    pub statement: String,
}

/// The ring and the file.
pub struct SlowLog {
    keep: usize,
    ring: VecDeque<SlowEntry>,
    file: Option<LogFile>,
}

impl SlowLog {
    /// The log `config` describes (its file opened for appending when enabled).
    pub fn open(config: &SlowLogConfig, data_dir: &Path) -> std::io::Result<SlowLog> {
        let file = if config.enabled {
            let path = config
                .path
                .clone()
                .unwrap_or_else(|| data_dir.join("slow.log"));
            // One rotated file: `slow.log` becomes `slow.log.1`, replacing an older one.
            let file = LogFile::open(path.clone(), config.rotate_bytes, 1, 8 * 1024, "slow log")
                .map_err(|e| {
                    std::io::Error::new(e.kind(), format!("slow log {}: {e}", path.display()))
                })?;
            Some(file)
        } else {
            None
        };
        Ok(SlowLog {
            keep: config.keep.max(1),
            ring: VecDeque::new(),
            file,
        })
    }

    /// Records a slow statement: in the ring, and in the file when enabled.
    pub fn push(&mut self, entry: SlowEntry) {
        if let Some(f) = &mut self.file {
            write_entry(f, &entry);
        }
        self.remember(entry);
    }

    /// Keeps `entry` in the ring only.
    pub fn remember(&mut self, entry: SlowEntry) {
        if self.ring.len() >= self.keep {
            self.ring.pop_back();
        }
        self.ring.push_front(entry);
    }

    /// Kept entries, newest first.
    pub fn entries(&self) -> Vec<SlowEntry> {
        self.ring.iter().cloned().collect()
    }

    /// Writes buffered lines to the file.
    pub fn flush(&mut self) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.flush() {
                tracing::warn!(error = %e, path = %f.path().display(), "slow log write failed");
            }
        }
    }
}

/// Appends `entry` to the file as one JSON line.
fn write_entry(file: &mut LogFile, entry: &SlowEntry) {
    let mut line = match serde_json::to_vec(entry) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode a slow log line");
            return;
        }
    };
    line.push(b'\n');
    if let Err(e) = file.write_line(&line) {
        tracing::warn!(error = %e, path = %file.path().display(), "slow log write failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u32) -> SlowEntry {
        SlowEntry {
            at_micros: 0,
            session: n,
            user: "u".into(),
            db: None,
            duration_ms: 1500.0,
            rows: 0,
            error: 0,
            nodes: vec![DataNodeId::new(1)],
            digest: "select SLEEP(?)".into(),
            statement: "SELECT SLEEP(1.5)".into(),
        }
    }

    /// An enabled log in a directory of its own after entries of sessions 1..=`n`,
    /// flushed.
    fn written(config: SlowLogConfig, n: u32) -> (tempfile::TempDir, SlowLog) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = SlowLogConfig {
            enabled: true,
            ..config
        };
        let mut log = SlowLog::open(&config, dir.path()).expect("open");
        for n in 1..=n {
            log.push(entry(n));
        }
        log.flush();
        (dir, log)
    }

    #[test]
    fn lines_go_to_the_file_and_the_ring_keeps_the_newest() {
        let (dir, log) = written(
            SlowLogConfig {
                keep: 2,
                rotate_bytes: 0,
                ..SlowLogConfig::default()
            },
            3,
        );
        let kept: Vec<u32> = log.entries().iter().map(|e| e.session).collect();
        assert_eq!(kept, [3, 2]);
        let text = std::fs::read_to_string(dir.path().join("slow.log")).expect("read");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["statement"], "SELECT SLEEP(1.5)");
        assert_eq!(lines[2]["nodes"], serde_json::json!([1]));
    }

    #[test]
    fn the_file_rotates_by_size() {
        let (dir, _log) = written(
            SlowLogConfig {
                rotate_bytes: 300,
                ..SlowLogConfig::default()
            },
            4,
        );
        assert!(dir.path().join("slow.log.1").exists());
        let current = std::fs::read_to_string(dir.path().join("slow.log")).expect("read");
        assert!(current.len() <= 300, "{}", current.len());
    }
}
