//! Errors from starting, stopping and talking to local storage nodes.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while managing a local MariaDB process.
#[derive(Debug, thiserror::Error)]
pub enum LocalNodeError {
    /// A required MariaDB program is not installed.
    #[error("`{program}` not found in PATH, /usr/sbin or /usr/bin: install it with `apt-get install {package}`")]
    BinaryNotFound {
        /// Program name, e.g. `mariadbd`.
        program: String,
        /// Debian package that provides it.
        package: String,
    },
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `mariadb-install-db` failed to initialise a data directory.
    #[error("mariadb-install-db failed for {datadir} ({status}):\n{output}")]
    InstallDb {
        /// The data directory being initialised.
        datadir: PathBuf,
        /// Exit status as text.
        status: String,
        /// The error lines of its output.
        output: String,
    },
    /// Another `mariadbd` already runs on this data directory.
    #[error("a mariadbd process (pid {pid}) already runs on {datadir}; stop it first")]
    AlreadyRunning {
        /// Process id from the pid file.
        pid: i32,
        /// The data directory.
        datadir: PathBuf,
    },
    /// `mariadbd` exited before it accepted connections.
    #[error("mariadbd on port {port} exited during start-up ({status}); error.log ends with:\n{log_tail}")]
    ExitedDuringStart {
        /// The port it was asked to listen on.
        port: u16,
        /// Exit status as text.
        status: String,
        /// Last lines of its error log.
        log_tail: String,
    },
    /// `mariadbd` did not accept connections in time.
    #[error("mariadbd on port {port} did not accept connections within {waited:?}; error.log ends with:\n{log_tail}")]
    StartTimeout {
        /// The port it was asked to listen on.
        port: u16,
        /// How long we waited.
        waited: Duration,
        /// Last lines of its error log.
        log_tail: String,
    },
    /// `mariadbd` did not exit in time after SIGTERM.
    #[error("mariadbd (pid {pid}) did not exit within {waited:?} after SIGTERM")]
    StopTimeout {
        /// Process id.
        pid: u32,
        /// How long we waited before giving up with SIGKILL.
        waited: Duration,
    },
    /// The operation needs a running process but the node is stopped.
    #[error("mariadbd on port {port} is not running")]
    NotRunning {
        /// The node's port.
        port: u16,
    },
    /// A SQL statement run through the `mariadb` client failed.
    /// A replica did not reach the state asked for in time.
    #[error("replica on port {port}: {what}")]
    Replication {
        /// The replica's port.
        port: u16,
        /// What did not happen.
        what: String,
    },
    #[error("SQL on port {port} failed: {stderr}")]
    Sql {
        /// The node's port.
        port: u16,
        /// What the client printed on stderr.
        stderr: String,
    },
}

impl LocalNodeError {
    /// Whether start-up failed because the TCP port was taken (worth retrying on another).
    pub fn is_port_in_use(&self) -> bool {
        match self {
            LocalNodeError::ExitedDuringStart { log_tail, .. }
            | LocalNodeError::StartTimeout { log_tail, .. } => {
                log_tail.contains("Address already in use")
            }
            _ => false,
        }
    }

    /// Wraps an I/O error with a description of what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LocalNodeError::Io {
            context: context.into(),
            source,
        }
    }
}
