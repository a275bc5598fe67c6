//! Errors of configuration loading, the metadata store and catalog changes.

use std::path::PathBuf;

/// Everything that can go wrong in the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configuration is not valid TOML for [`crate::Config`].
    #[error("invalid configuration: {0}")]
    ParseConfig(#[from] toml::de::Error),
    /// The configuration could not be written as TOML.
    #[error("cannot write configuration: {0}")]
    WriteConfig(#[from] toml::ser::Error),
    /// The configuration parsed but breaks a rule; each problem names its entry.
    #[error("invalid configuration: {}", .problems.join("; "))]
    InvalidConfig {
        /// One message per problem.
        problems: Vec<String>,
    },
    /// The metadata store's directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The metadata store (redb) failed.
    #[error("metadata store: {0}")]
    Store(Box<redb::Error>),
    /// A stored record could not be decoded (corrupt, or written by a newer version).
    #[error("metadata store: cannot decode {what}: {reason}")]
    Decode {
        /// Which record.
        what: String,
        /// Why.
        reason: String,
    },
    /// A counter would pass u64::MAX.
    #[error("counter {0} is exhausted")]
    CounterExhausted(String),
    /// A logical database of that name already exists.
    #[error("Can't create database '{0}'; database exists")]
    DatabaseExists(String),
    /// No logical database of that name.
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// The cluster's metadata store (etcd) failed; nothing falls back to local state.
    #[error("cluster metadata store: {0}")]
    Etcd(#[from] crate::etcd::EtcdError),
    /// A change the catalog refuses (names the rule it breaks).
    #[error("{0}")]
    Invalid(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for CatalogError {
            fn from(e: $t) -> Self {
                CatalogError::Store(Box::new(e.into()))
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
