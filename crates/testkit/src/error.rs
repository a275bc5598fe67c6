//! Errors from setting up test fixtures.

/// Why a fixture could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A storage node could not be started or managed.
    #[error(transparent)]
    LocalNode(#[from] strata_localnode::LocalNodeError),
    /// The in-process compute node did not start.
    #[error("compute node: {0}")]
    Server(#[from] strata_server::ServerError),
    /// A client connection or query failed.
    #[error("mysql client: {0}")]
    Mysql(#[from] mysql_async::Error),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The `strata` binary for child-process compute nodes was not found.
    #[error("strata binary not found (looked at {looked_at}); build it with `cargo build -p strata` or set STRATA_BIN")]
    StrataBinaryNotFound {
        /// The paths that were tried.
        looked_at: String,
    },
    /// The compute-node process exited or never accepted connections.
    #[error("strata process: {reason}; its log ends with:\n{log_tail}")]
    ComputeProcess {
        /// What went wrong.
        reason: String,
        /// Last lines of its output.
        log_tail: String,
    },
    /// An etcd member did not start or became unusable.
    #[error("etcd: {reason}; its log ends with:\n{log_tail}")]
    Etcd {
        /// What went wrong.
        reason: String,
        /// Last lines of its log.
        log_tail: String,
    },
    /// The configuration could not be written as TOML.
    #[error("writing the compute node configuration: {0}")]
    Config(#[from] strata_catalog::CatalogError),
    /// A fixture was used in a way it does not support.
    #[error("{0}")]
    Usage(String),
}

impl TestkitError {
    /// Wraps an I/O error with a description of what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        TestkitError::Io {
            context: context.into(),
            source,
        }
    }
}
