//! One local `mariadbd` process on its own data directory and port.
//!
//! [`MariadbNode::start`] initialises the data directory on first use (with the account
//! Strata connects as), starts `mariadbd` as a child process and returns once the server
//! greets connections. The process is killed when the node is dropped, so a panicking
//! test does not leak servers; [`MariadbNode::stop`] shuts it down gracefully instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::binaries::find_binary;
use crate::child::{kill_and_reap, set_parent_death_signal};
use crate::readiness::wait_for_mysql_handshake;
use crate::tls::MariadbTls;
use crate::LocalNodeError;

/// How long a graceful shutdown may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Unix socket paths longer than this do not fit in `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 100;

/// How to start one MariaDB storage node.
#[derive(Debug, Clone, PartialEq)]
pub struct MariadbOptions {
    /// Data directory; created and initialised when it holds no `mysql` system database.
    pub datadir: PathBuf,
    /// TCP port to listen on.
    pub port: u16,
    /// Address to listen on.
    pub bind: String,
    /// `innodb_buffer_pool_size`, e.g. "32M".
    pub buffer_pool_size: String,
    /// Account created for Strata on first initialisation (all privileges).
    pub user: String,
    /// Password of that account.
    pub password: String,
    /// TLS the server offers (and perhaps requires); None serves clear text only.
    pub tls: Option<MariadbTls>,
    /// More `mariadbd` arguments, appended last so they override the defaults.
    pub extra_args: Vec<String>,
    /// Environment variables for `mariadbd` (`TZ`: its system time zone).
    pub env: Vec<(String, String)>,
    /// How long start-up may take before it is considered failed.
    pub start_timeout: Duration,
    /// Kill the server with SIGKILL when the thread that started it exits (Linux
    /// `PR_SET_PDEATHSIG`), so a killed parent does not leave servers behind.
    pub die_with_parent: bool,
}

impl MariadbOptions {
    /// Options with defaults for everything but the data directory and port.
    pub fn new(datadir: impl Into<PathBuf>, port: u16) -> Self {
        Self {
            datadir: datadir.into(),
            port,
            bind: "127.0.0.1".into(),
            buffer_pool_size: "32M".into(),
            user: "strata".into(),
            password: "strata".into(),
            tls: None,
            extra_args: Vec::new(),
            env: Vec::new(),
            start_timeout: Duration::from_secs(60),
            die_with_parent: true,
        }
    }

    /// Host a client on this machine should connect to.
    pub fn connect_host(&self) -> &str {
        match self.bind.as_str() {
            "0.0.0.0" | "::" | "*" => "127.0.0.1",
            other => other,
        }
    }
}

/// A running (or stopped, restartable) local MariaDB server.
#[derive(Debug)]
pub struct MariadbNode {
    opts: MariadbOptions,
    socket: PathBuf,
    child: Option<Child>,
}

impl MariadbNode {
    /// Initialises the data directory if needed, starts `mariadbd` and waits until it
    /// accepts connections.
    pub async fn start(mut opts: MariadbOptions) -> Result<MariadbNode, LocalNodeError> {
        std::fs::create_dir_all(&opts.datadir)
            .map_err(|e| LocalNodeError::io(format!("creating {}", opts.datadir.display()), e))?;
        opts.datadir = std::fs::canonicalize(&opts.datadir)
            .map_err(|e| LocalNodeError::io(format!("resolving {}", opts.datadir.display()), e))?;
        let socket = socket_path(&opts.datadir, opts.port);
        let mut node = MariadbNode {
            opts,
            socket,
            child: None,
        };
        node.refuse_if_already_running()?;
        if !node.opts.datadir.join("mysql").is_dir() {
            node.install_db().await?;
        }
        node.spawn_and_wait().await?;
        Ok(node)
    }

    /// TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.opts.port
    }

    /// Absolute data directory.
    pub fn datadir(&self) -> &Path {
        &self.opts.datadir
    }

    /// Unix socket the server listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The options the node was started with (data directory made absolute).
    pub fn options(&self) -> &MariadbOptions {
        &self.opts
    }

    /// Directory for the server's temporary files: `<datadir>.tmp` beside the data
    /// directory (inside it, it would show up as a database; the shared /tmp lets
    /// concurrent servers trip over each other's temporary tables).
    pub fn tmpdir(&self) -> PathBuf {
        let mut name = self.opts.datadir.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    }

    fn create_tmpdir(&self) -> Result<PathBuf, LocalNodeError> {
        let tmpdir = self.tmpdir();
        std::fs::create_dir_all(&tmpdir)
            .map_err(|e| LocalNodeError::io(format!("creating {}", tmpdir.display()), e))?;
        Ok(tmpdir)
    }

    /// The server's error log.
    pub fn error_log(&self) -> PathBuf {
        self.opts.datadir.join("error.log")
    }

    /// Process id of the running server, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Whether the server process is still alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server with SIGKILL (a crash, for fault tests) and reaps it.
    pub async fn kill(&mut self) -> Result<(), LocalNodeError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        tracing::info!(port = self.opts.port, "killing mariadbd");
        kill_and_reap(&mut child)
            .await
            .map_err(|e| LocalNodeError::io("waiting for killed mariadbd", e))?;
        Ok(())
    }

    /// Shuts the server down gracefully (SIGTERM) and waits for it to exit; kills it if
    /// it takes longer than a minute.
    pub async fn stop(&mut self) -> Result<(), LocalNodeError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let Some(pid) = child.id() else {
            // Already exited and reaped.
            return Ok(());
        };
        tracing::info!(port = self.opts.port, pid, "stopping mariadbd");
        send_signal(pid, libc::SIGTERM)?;
        match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(status) => {
                let status =
                    status.map_err(|e| LocalNodeError::io("waiting for mariadbd to exit", e))?;
                tracing::debug!(port = self.opts.port, %status, "mariadbd exited");
                Ok(())
            }
            Err(_) => {
                let _ = kill_and_reap(&mut child).await;
                Err(LocalNodeError::StopTimeout {
                    pid,
                    waited: STOP_TIMEOUT,
                })
            }
        }
    }

    /// Starts the server again on the same data directory and port (after `kill` or
    /// `stop`; a running server is stopped first).
    pub async fn restart(&mut self) -> Result<(), LocalNodeError> {
        if self.child.is_some() {
            self.stop().await?;
        }
        self.spawn_and_wait().await
    }

    /// Creates each database unless it exists.
    pub async fn ensure_databases(&self, names: &[&str]) -> Result<(), LocalNodeError> {
        if names.is_empty() {
            return Ok(());
        }
        let sql: String = names
            .iter()
            .map(|name| format!("CREATE DATABASE IF NOT EXISTS {};", quote_identifier(name)))
            .collect();
        self.execute_sql(&sql).await.map(|_| ())
    }

    /// Runs SQL with the `mariadb` client as the Strata account over TCP and returns its
    /// tab-separated output without column names.
    pub async fn execute_sql(&self, sql: &str) -> Result<String, LocalNodeError> {
        let client = find_binary("mariadb", "mariadb-client")?;
        let mut cmd = Command::new(client);
        cmd.arg("--no-defaults")
            .arg("--protocol=TCP")
            .arg(format!("--host={}", self.opts.connect_host()))
            .arg(format!("--port={}", self.opts.port))
            .arg(format!("--user={}", self.opts.user));
        if let Some(tls) = &self.opts.tls {
            // A server that requires secure transport refuses the client otherwise.
            cmd.arg(format!("--ssl-ca={}", tls.ca.display()));
        }
        let output = cmd
            .arg("--batch")
            .arg("--skip-column-names")
            .arg("--execute")
            .arg(sql)
            .env("MYSQL_PWD", &self.opts.password)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| LocalNodeError::io("running the mariadb client", e))?;
        if !output.status.success() {
            return Err(LocalNodeError::Sql {
                port: self.opts.port,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Returns an error if the pid file names a live `mariadbd` (a leftover server on
    /// this data directory would otherwise make InnoDB wait for its lock for minutes).
    fn refuse_if_already_running(&self) -> Result<(), LocalNodeError> {
        let pid_file = self.pid_file();
        let Ok(text) = std::fs::read_to_string(&pid_file) else {
            return Ok(());
        };
        match text.trim().parse::<i32>() {
            Ok(pid) if is_live_mariadbd(pid) => Err(LocalNodeError::AlreadyRunning {
                pid,
                datadir: self.opts.datadir.clone(),
            }),
            _ => {
                tracing::debug!(file = %pid_file.display(), "removing stale pid file");
                let _ = std::fs::remove_file(&pid_file);
                Ok(())
            }
        }
    }

    fn pid_file(&self) -> PathBuf {
        self.opts.datadir.join("mysqld.pid")
    }

    /// Creates the system tables and the Strata account in an empty data directory.
    async fn install_db(&self) -> Result<(), LocalNodeError> {
        let install_db = find_binary("mariadb-install-db", "mariadb-server")?;
        let datadir = &self.opts.datadir;
        let was_empty = std::fs::read_dir(datadir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        tracing::info!(datadir = %datadir.display(), "initialising MariaDB data directory");

        // The SQL file holds the password, so it lives inside the (0700) data directory
        // and is removed right after use.
        let init_sql = datadir.join("strata-init.sql");
        std::fs::write(&init_sql, account_sql(&self.opts.user, &self.opts.password))
            .map_err(|e| LocalNodeError::io(format!("writing {}", init_sql.display()), e))?;

        let tmpdir = self.create_tmpdir()?;
        let mut cmd = Command::new(install_db);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", datadir.display()))
            .arg(format!("--tmpdir={}", tmpdir.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .arg("--skip-name-resolve")
            .arg(format!("--extra-file={}", init_sql.display()))
            .arg(format!(
                "--innodb-buffer-pool-size={}",
                self.opts.buffer_pool_size
            ))
            .arg("--innodb-log-file-size=16M");
        if running_as_root() {
            cmd.arg("--user=root");
        }
        let output = cmd
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| LocalNodeError::io("running mariadb-install-db", e));
        let _ = std::fs::remove_file(&init_sql);
        let output = output?;
        if output.status.success() {
            return Ok(());
        }
        if was_empty {
            // Leave no half-initialised directory behind, so the next attempt starts over.
            if let Ok(entries) = std::fs::read_dir(datadir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(LocalNodeError::InstallDb {
            datadir: datadir.clone(),
            status: output.status.to_string(),
            output: install_db_errors(&text),
        })
    }

    /// Starts `mariadbd` and waits for its handshake.
    async fn spawn_and_wait(&mut self) -> Result<(), LocalNodeError> {
        let mariadbd = find_binary("mariadbd", "mariadb-server")?;
        let datadir = &self.opts.datadir;
        let error_log = self.error_log();
        // mariadbd writes to stderr before it has opened its error log (e.g. bad
        // arguments); send that to the same file.
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&error_log)
            .map_err(|e| LocalNodeError::io(format!("opening {}", error_log.display()), e))?;
        let log_start = std::fs::metadata(&error_log).map(|m| m.len()).unwrap_or(0);

        let tmpdir = self.create_tmpdir()?;
        let mut cmd = Command::new(mariadbd);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", datadir.display()))
            .arg(format!("--tmpdir={}", tmpdir.display()))
            .arg(format!("--port={}", self.opts.port))
            .arg(format!("--bind-address={}", self.opts.bind))
            .arg(format!("--socket={}", self.socket.display()))
            .arg(format!("--pid-file={}", self.pid_file().display()))
            .arg(format!("--log-error={}", error_log.display()));
        if running_as_root() {
            cmd.arg("--user=root");
        }
        cmd.arg(format!(
            "--innodb-buffer-pool-size={}",
            self.opts.buffer_pool_size
        ))
        .args([
            "--innodb-log-file-size=16M",
            "--skip-name-resolve",
            "--max-connections=1000",
            "--performance-schema=OFF",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--skip-log-bin",
        ])
        .args(self.opts.tls.iter().flat_map(MariadbTls::server_args))
        .args(&self.opts.extra_args)
        .envs(self.opts.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        // Own process group: a Ctrl-C meant for the parent must not reach the server,
        // whose shutdown the parent orders itself.
        .process_group(0)
        .kill_on_drop(true);
        if self.opts.die_with_parent {
            set_parent_death_signal(&mut cmd);
        }

        tracing::info!(port = self.opts.port, datadir = %datadir.display(), "starting mariadbd");
        let child = cmd
            .spawn()
            .map_err(|e| LocalNodeError::io("spawning mariadbd", e))?;
        self.child = Some(child);
        self.wait_until_ready(log_start).await
    }

    async fn wait_until_ready(&mut self, log_start: u64) -> Result<(), LocalNodeError> {
        let port = self.opts.port;
        let host = self.opts.connect_host().to_string();
        let addr = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| LocalNodeError::io(format!("resolving {host}"), e))?
            .next()
            .ok_or_else(|| {
                LocalNodeError::io(
                    format!("resolving {host}"),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
                )
            })?;
        let started = Instant::now();
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(LocalNodeError::NotRunning { port });
            };
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(LocalNodeError::ExitedDuringStart {
                    port,
                    status: status.to_string(),
                    log_tail: self.error_log_tail(log_start),
                });
            }
            // Another test's server may hold the port we were given a moment ago: our
            // mariadbd then fails to bind and exits, but the handshake would come from
            // the other server. Only our own log saying it listens makes it ours.
            if self
                .error_log_since(log_start)
                .contains("ready for connections")
                && wait_for_mysql_handshake(addr, Duration::from_secs(2)).await
            {
                tracing::info!(port, elapsed = ?started.elapsed(), "mariadbd is ready");
                return Ok(());
            }
            if started.elapsed() > self.opts.start_timeout {
                let log_tail = self.error_log_tail(log_start);
                let _ = self.kill().await;
                return Err(LocalNodeError::StartTimeout {
                    port,
                    waited: self.opts.start_timeout,
                    log_tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the error log received since byte offset `from`.
    fn error_log_since(&self, from: u64) -> String {
        let bytes = std::fs::read(self.error_log()).unwrap_or_default();
        let from = usize::try_from(from).unwrap_or(0).min(bytes.len());
        String::from_utf8_lossy(&bytes[from..]).into_owned()
    }

    /// Last lines the error log received since byte offset `from`.
    fn error_log_tail(&self, from: u64) -> String {
        tail_lines(&self.error_log_since(from), 20)
    }
}

impl Drop for MariadbNode {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // kill_on_drop would do the same; being explicit keeps the intent visible.
            let _ = child.start_kill();
        }
    }
}

/// Unix socket inside the data directory, or in the temp directory when that path is too
/// long for `sockaddr_un`.
fn socket_path(datadir: &Path, port: u16) -> PathBuf {
    let inside = datadir.join("mysqld.sock");
    if inside.as_os_str().len() <= MAX_SOCKET_PATH {
        inside
    } else {
        std::env::temp_dir().join(format!("strata-mariadb-{port}.sock"))
    }
}

/// SQL that creates the Strata account with all privileges, from any host.
fn account_sql(user: &str, password: &str) -> String {
    let user = quote_string(user);
    let password = quote_string(password);
    // In bootstrap mode the grant tables are not loaded until FLUSH PRIVILEGES.
    let mut sql = String::from("FLUSH PRIVILEGES;\n");
    for host in ["%", "localhost", "127.0.0.1"] {
        sql.push_str(&format!(
            "CREATE USER IF NOT EXISTS {user}@'{host}' IDENTIFIED BY {password};\n\
             GRANT ALL PRIVILEGES ON *.* TO {user}@'{host}' WITH GRANT OPTION;\n"
        ));
    }
    sql
}

/// `name` as a backquoted identifier.
fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `s` as a single-quoted SQL string literal.
pub(crate) fn quote_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// The informative part of mariadb-install-db's output: its error lines (the rest is a
/// long generic help text), or the first lines when it printed none.
fn install_db_errors(output: &str) -> String {
    let errors: Vec<&str> = output
        .lines()
        .filter(|line| {
            line.contains("ERROR") || line.contains("[ERROR]") || line.contains("error:")
        })
        .take(20)
        .collect();
    if errors.is_empty() {
        output.lines().take(10).collect::<Vec<_>>().join("\n")
    } else {
        errors.join("\n")
    }
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn send_signal(pid: u32, signal: libc::c_int) -> Result<(), LocalNodeError> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| {
        LocalNodeError::io(
            "signalling mariadbd",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"),
        )
    })?;
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } != 0 {
        return Err(LocalNodeError::io(
            format!("sending signal {signal} to pid {pid}"),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Whether `pid` is a live (not zombie) mariadbd/mysqld process.
fn is_live_mariadbd(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Format: "pid (comm) state ...".
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    (comm == "mariadbd" || comm == "mysqld") && state != Some('Z')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_strings_are_quoted() {
        assert_eq!(quote_identifier("t`1"), "`t``1`");
        assert_eq!(quote_string(r"it's\"), r"'it''s\\'");
    }

    #[test]
    fn account_sql_grants_every_host() {
        let sql = account_sql("strata", "pw");
        assert!(sql.starts_with("FLUSH PRIVILEGES;"));
        assert!(sql.contains("CREATE USER IF NOT EXISTS 'strata'@'%' IDENTIFIED BY 'pw';"));
        assert!(
            sql.contains("GRANT ALL PRIVILEGES ON *.* TO 'strata'@'localhost' WITH GRANT OPTION;")
        );
    }

    #[test]
    fn long_datadir_gets_a_socket_in_the_temp_dir() {
        let long = PathBuf::from(format!("/{}", "d".repeat(120)));
        assert_eq!(
            socket_path(&long, 4000),
            std::env::temp_dir().join("strata-mariadb-4000.sock")
        );
        assert_eq!(
            socket_path(Path::new("/tmp/dn1"), 4000),
            PathBuf::from("/tmp/dn1/mysqld.sock")
        );
    }

    #[test]
    fn install_db_failure_keeps_the_error_lines() {
        let output = "Installing MariaDB/MySQL system tables in '/d' ...\n\
                      ERROR: 1290  The MariaDB server is running with --skip-grant-tables\n\
                      2026-11-22  0:50:20 0 [ERROR] Aborting\n\n\
                      Installation of system tables failed!\n";
        assert_eq!(
            install_db_errors(output),
            "ERROR: 1290  The MariaDB server is running with --skip-grant-tables\n\
             2026-11-22  0:50:20 0 [ERROR] Aborting"
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }

    #[test]
    fn wildcard_bind_connects_to_loopback() {
        let mut opts = MariadbOptions::new("/tmp/x", 1);
        assert_eq!(opts.connect_host(), "127.0.0.1");
        opts.bind = "0.0.0.0".into();
        assert_eq!(opts.connect_host(), "127.0.0.1");
    }
}
