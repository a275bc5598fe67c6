//! A compute node as a `strata serve --config FILE` child process, for tests that kill
//! or restart it.
//!
//! The binary comes from `STRATA_BIN`, or from the target directory this test binary was
//! built into (`cargo build -p strata` must have run: cargo builds binaries only for
//! their own crate's tests).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use strata_catalog::Config;
use strata_localnode::{
    free_port, kill_and_reap, set_parent_death_signal, wait_for_mysql_handshake,
};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::compute::physical_database;
use crate::{mysql_opts, TestkitError, ROOT_PASSWORD, ROOT_USER};

/// How long the process may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a SIGTERM shutdown may take.
const TERMINATE_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with fresh ports when a chosen port turns out to be taken.
const PORT_ATTEMPTS: usize = 3;

/// Path of the `strata` binary for child-process compute nodes.
pub fn strata_binary() -> Result<PathBuf, TestkitError> {
    if let Some(bin) = std::env::var_os("STRATA_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(TestkitError::StrataBinaryNotFound {
                looked_at: format!("STRATA_BIN={}", bin.display()),
            })
        };
    }
    let mut candidates = Vec::new();
    // Test binaries live in <target>/<profile>/deps/.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(profile_dir) = exe.parent().and_then(Path::parent) {
            candidates.push(profile_dir.join("strata"));
        }
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    candidates.push(target.join("debug/strata"));
    candidates.push(target.join("release/strata"));
    candidates
        .iter()
        .find(|c| c.is_file())
        .cloned()
        .ok_or_else(|| TestkitError::StrataBinaryNotFound {
            looked_at: candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A compute node running as a child process; killed when dropped.
pub struct ComputeProcess {
    // Declared before `dir`: the process dies before its directory is removed.
    child: Option<Child>,
    binary: PathBuf,
    config: Config,
    config_path: PathBuf,
    log_path: PathBuf,
    dir: TempDir,
}

impl ComputeProcess {
    /// Writes `config` (with free ports for the three listeners) into `dir` and starts
    /// `strata serve` on it.
    pub async fn spawn(config: Config, dir: TempDir) -> Result<ComputeProcess, TestkitError> {
        let binary = strata_binary()?;
        let mut process = ComputeProcess {
            child: None,
            binary,
            config_path: dir.path().join("strata.toml"),
            log_path: dir.path().join("strata.log"),
            config,
            dir,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            process.config.server.service_addr = format!("127.0.0.1:{}", free_port()?);
            process.config.server.admin_addr = format!("127.0.0.1:{}", free_port()?);
            process.config.server.http_addr = format!("127.0.0.1:{}", free_port()?);
            let text = process.config.to_toml()?;
            std::fs::write(&process.config_path, text).map_err(|e| {
                TestkitError::io(format!("writing {}", process.config_path.display()), e)
            })?;
            match process.start().await {
                Ok(()) => return Ok(process),
                Err(TestkitError::ComputeProcess { log_tail, .. })
                    if attempt < PORT_ATTEMPTS && log_tail.contains("Address already in use") =>
                {
                    tracing::debug!(attempt, "compute node port was taken; retrying on others");
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The service address.
    pub fn service_addr(&self) -> SocketAddr {
        parse_addr(&self.config.server.service_addr)
    }

    /// The admin address.
    pub fn admin_addr(&self) -> SocketAddr {
        parse_addr(&self.config.server.admin_addr)
    }

    /// The HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        parse_addr(&self.config.server.http_addr)
    }

    /// The configuration the process runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration file passed to `strata serve`.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The process's working directory (holds the config, log and data directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Physical database behind logical database `logical`.
    pub fn physical_database(&self, logical: &str) -> Option<&str> {
        physical_database(&self.config, logical)
    }

    /// Process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Everything the process printed (stdout and stderr, across restarts).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Kills the process with SIGKILL (a crash) and reaps it.
    pub async fn kill(&mut self) -> Result<(), TestkitError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        kill_and_reap(&mut child)
            .await
            .map_err(|e| TestkitError::io("waiting for the killed strata process", e))?;
        Ok(())
    }

    /// Sends SIGTERM and waits for the process to exit (graceful shutdown); kills it and
    /// fails if that takes longer than 30 s.
    pub async fn terminate(&mut self) -> Result<ExitStatus, TestkitError> {
        let Some(mut child) = self.child.take() else {
            return Err(TestkitError::Usage("strata process is not running".into()));
        };
        if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        match tokio::time::timeout(TERMINATE_TIMEOUT, child.wait()).await {
            Ok(status) => status.map_err(|e| TestkitError::io("waiting for the strata process", e)),
            Err(_) => {
                let _ = kill_and_reap(&mut child).await;
                Err(TestkitError::ComputeProcess {
                    reason: format!("did not exit within {TERMINATE_TIMEOUT:?} after SIGTERM"),
                    log_tail: self.log_tail(),
                })
            }
        }
    }

    /// Starts the process again with the same configuration and ports (after `kill` or
    /// `terminate`; a running process is killed first).
    pub async fn restart(&mut self) -> Result<(), TestkitError> {
        self.kill().await?;
        self.start().await
    }

    /// `mysql_async` options for the service port as `root`.
    pub fn opts(&self, db: Option<&str>) -> mysql_async::Opts {
        mysql_opts(self.service_addr(), ROOT_USER, ROOT_PASSWORD, db)
    }

    /// Opens a connection to the service port as `root`.
    pub async fn connect(&self, db: Option<&str>) -> Result<mysql_async::Conn, TestkitError> {
        Ok(mysql_async::Conn::new(self.opts(db)).await?)
    }

    async fn start(&mut self) -> Result<(), TestkitError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| TestkitError::io(format!("opening {}", self.log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| TestkitError::io("duplicating the log file handle", e))?;
        let mut cmd = Command::new(&self.binary);
        cmd.arg("serve")
            .arg("--config")
            .arg(&self.config_path)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        set_parent_death_signal(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| TestkitError::io(format!("spawning {}", self.binary.display()), e))?;
        self.child = Some(child);
        self.wait_until_ready().await
    }

    async fn wait_until_ready(&mut self) -> Result<(), TestkitError> {
        let addr = self.service_addr();
        let started = Instant::now();
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(TestkitError::Usage("strata process is not running".into()));
            };
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(TestkitError::ComputeProcess {
                    reason: format!("exited during start-up ({status})"),
                    log_tail: self.log_tail(),
                });
            }
            if wait_for_mysql_handshake(addr, Duration::from_secs(2)).await {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = self.kill().await;
                return Err(TestkitError::ComputeProcess {
                    reason: format!("no handshake on {addr} within {START_TIMEOUT:?}"),
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The end of the log, or, when the process panicked or exited with an error, the
    /// message and the lines before it rather than the backtrace after it.
    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let end = lines
            .iter()
            .rposition(|l| l.contains("panicked at") || l.starts_with("Error:"))
            .map_or(lines.len(), |i| (i + 6).min(lines.len()));
        lines[end.saturating_sub(30)..end].join("\n")
    }
}

impl Drop for ComputeProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Parses an address this module wrote itself ("127.0.0.1:<port>").
fn parse_addr(addr: &str) -> SocketAddr {
    addr.parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}
