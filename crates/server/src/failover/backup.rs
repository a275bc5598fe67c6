//! A physical copy of a storage node for a replica rebuild: `mariadb-backup --backup
//! --stream=xbstream` of the data node's primary piped into `mbstream -x` in an empty
//! data directory, then `mariadb-backup --prepare`, and the GTID position the copy
//! holds, read from the binary log information file the backup wrote.
//!
//! mariadb-backup reads the source's data files from disk, and the restored files land
//! in a local directory: the compute node, the primary and the rebuilt node must share
//! the machine (the playground and the test kit do). A remote rebuild would need an
//! agent on each storage host.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use strata_catalog::config::StorageNodeConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tracing::{debug, info};

/// How often the streamed size is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// Files in which mariadb-backup records the source's binary log position and GTID
/// (the newer name first).
const BINLOG_INFO: [&str; 2] = ["mariadb_backup_binlog_info", "xtrabackup_binlog_info"];

/// Why a copy could not be made; the message is what the operator sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// A program is missing on this machine.
    #[error("`{0}` not found in PATH, /usr/bin or /usr/sbin: install it with `apt-get install mariadb-backup`")]
    ProgramMissing(&'static str),
    /// The data directory holds files: a rebuild never deletes data.
    #[error("data directory {0} is not empty: stop the storage node and empty it first")]
    NotEmpty(String),
    /// A program could not run, or failed.
    #[error("{what} failed: {detail}")]
    Failed {
        /// Which step.
        what: String,
        /// Its exit status and last output lines, or the OS error.
        detail: String,
    },
    /// The copy holds no GTID position to replicate from.
    #[error("the backup in {0} records no GTID position (binary logging off on the primary?)")]
    NoGtid(String),
}

/// Copies the storage node `source` into `datadir` (absent or empty), prepares it, and
/// returns the GTID position the copy holds (what a replica built from it starts at).
pub async fn copy_into(source: &StorageNodeConfig, datadir: &Path) -> Result<String, BackupError> {
    let backup = program("mariadb-backup")?;
    let mbstream = program("mbstream")?;
    ensure_empty(datadir)?;
    let started = Instant::now();
    info!(source = %format!("{}:{}", source.host, source.port), datadir = %datadir.display(), "rebuild: streaming a backup");
    let connection = [
        format!("--host={}", source.host),
        format!("--port={}", source.port),
        format!("--user={}", source.user),
        format!("--password={}", source.password),
    ];
    let mut producer = Command::new(&backup)
        .arg("--backup")
        .arg("--stream=xbstream")
        .args(&connection)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed("starting mariadb-backup --backup", e))?;
    let mut consumer = Command::new(&mbstream)
        .arg("-x")
        .arg("-C")
        .arg(datadir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed("starting mbstream -x", e))?;
    let backup_log = tokio::spawn(tail_of(producer.stderr.take(), "mariadb-backup"));
    let streamed = pipe(&mut producer, &mut consumer).await;
    let backup_status = producer.wait().await;
    let stream_status = consumer.wait().await;
    let backup_tail = backup_log.await.unwrap_or_default();
    let bytes = streamed?;
    check("mariadb-backup --backup", backup_status, &backup_tail)?;
    check("mbstream -x", stream_status, "")?;
    info!(mib = bytes >> 20, elapsed = ?started.elapsed(), "rebuild: backup streamed; preparing it");

    let prepare = Command::new(&backup)
        .arg("--prepare")
        .arg(format!("--target-dir={}", datadir.display()))
        .output()
        .await
        .map_err(|e| failed("starting mariadb-backup --prepare", e))?;
    check(
        "mariadb-backup --prepare",
        Ok(prepare.status),
        &last_lines(&String::from_utf8_lossy(&prepare.stderr)),
    )?;
    let gtid = recorded_gtid(datadir)?;
    info!(%gtid, elapsed = ?started.elapsed(), "rebuild: backup prepared");
    Ok(gtid)
}

/// Copies the backup stream into mbstream, logging its size as it goes; the byte count.
async fn pipe(producer: &mut Child, consumer: &mut Child) -> Result<u64, BackupError> {
    let (Some(mut from), Some(mut to)) = (producer.stdout.take(), consumer.stdin.take()) else {
        return Err(failed("connecting mariadb-backup to mbstream", "no pipe"));
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    let mut logged = Instant::now();
    loop {
        let n = from
            .read(&mut buf)
            .await
            .map_err(|e| failed("reading the backup stream", e))?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n])
            .await
            .map_err(|e| failed("writing the backup stream to mbstream", e))?;
        total += n as u64;
        if logged.elapsed() >= PROGRESS_EVERY {
            info!(mib = total >> 20, "rebuild: streaming the backup");
            logged = Instant::now();
        }
    }
    // Closing mbstream's input ends it.
    drop(to);
    Ok(total)
}

/// Logs a program's stderr at debug level; returns its last lines for an error message.
async fn tail_of(stderr: Option<tokio::process::ChildStderr>, name: &'static str) -> String {
    let Some(stderr) = stderr else {
        return String::new();
    };
    let mut lines = BufReader::new(stderr).lines();
    let mut kept = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        debug!(program = name, "{line}");
        kept.push(line);
        if kept.len() > 5 {
            kept.remove(0);
        }
    }
    kept.join("\n")
}

fn check(
    what: &str,
    status: std::io::Result<std::process::ExitStatus>,
    tail: &str,
) -> Result<(), BackupError> {
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(failed(what, format!("{s}: {tail}"))),
        Err(e) => Err(failed(what, e)),
    }
}

fn failed(what: &str, detail: impl std::fmt::Display) -> BackupError {
    BackupError::Failed {
        what: what.to_string(),
        detail: detail.to_string(),
    }
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// `name` on PATH, else in /usr/bin or /usr/sbin.
fn program(name: &'static str) -> Result<PathBuf, BackupError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or(BackupError::ProgramMissing(name))
}

/// Creates `datadir` if absent; refuses one that holds anything.
fn ensure_empty(datadir: &Path) -> Result<(), BackupError> {
    let shown = datadir.display().to_string();
    match std::fs::read_dir(datadir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::NotEmpty(shown));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(datadir).map_err(|e| failed(&format!("creating {shown}"), e))
        }
        Err(e) => Err(failed(&format!("reading {shown}"), e)),
    }
}

/// The GTID position in the backup's binary log information file (`file position
/// gtid`, tab-separated).
fn recorded_gtid(datadir: &Path) -> Result<String, BackupError> {
    for name in BINLOG_INFO {
        if let Ok(text) = std::fs::read_to_string(datadir.join(name)) {
            if let Some(gtid) = gtid_of_binlog_info(&text) {
                return Ok(gtid);
            }
        }
    }
    Err(BackupError::NoGtid(datadir.display().to_string()))
}

fn gtid_of_binlog_info(text: &str) -> Option<String> {
    let gtid = text.lines().next()?.split('\t').nth(2)?.trim();
    (!gtid.is_empty()).then(|| gtid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gtid_is_the_third_field_of_the_binlog_info_file() {
        assert_eq!(
            gtid_of_binlog_info("mariadb-bin.000002\t1234\t0-101-57,1-2-3\n"),
            Some("0-101-57,1-2-3".to_string())
        );
        assert_eq!(gtid_of_binlog_info("mariadb-bin.000002\t1234\n"), None);
        assert_eq!(gtid_of_binlog_info("mariadb-bin.000002\t1234\t\n"), None);
    }

    #[test]
    fn a_data_directory_with_files_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("strata-rebuild-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("ibdata1"), b"x")?;
        let refused = ensure_empty(&dir);
        std::fs::remove_dir_all(&dir)?;
        assert_eq!(
            refused,
            Err(BackupError::NotEmpty(dir.display().to_string()))
        );
        let fresh = dir.join("new");
        ensure_empty(&fresh)?;
        assert!(fresh.is_dir());
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
