//! Connections from the compute node to storage nodes: the connection itself (`conn`),
//! heartbeats on connections of their own (`heartbeat`),
//! the per-storage-node pools (`pool`), the TLS settings pools are built with
//! (`storage_tls`) and the relay that streams a storage node's response to a client
//! without decoding rows (`relay`).

pub mod conn;
pub mod heartbeat;
pub mod pool;
pub mod relay;
pub mod storage_tls;

pub use conn::{
    BackendConn, PreparedOnBackend, ResponseHead, RowCounting, SessionVars, StorageTarget, TextRows,
};
pub use pool::{Lease, Pool, PoolSettings};
pub use relay::{ErrorSwap, RelayError, RelayMode, RelayOutcome, ResponseKind, SchemaRename};
pub use storage_tls::StorageTlsMap;
pub use strata_protocol::{ClientTls, ClientTlsOptions};

use strata_catalog::DataNodeId;
use strata_protocol::packets::ErrPacket;
use strata_protocol::ProtocolError;

/// Failures talking to a storage node.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// TCP connect failed.
    #[error("cannot connect to storage node {0}: {1}")]
    Connect(String, std::io::Error),
    /// Connecting took longer than the connect timeout.
    #[error("timed out connecting to storage node {0}")]
    ConnectTimeout(String),
    /// A probe or an administrative statement on a storage node took too long.
    #[error("storage node {0} did not answer in time")]
    ProbeTimeout(String),
    /// The storage node refused our handshake or credentials.
    #[error("handshake with storage node {0} failed: {1}")]
    Handshake(String, String),
    /// The connection broke or the storage node sent something unexpected.
    #[error("storage node protocol error: {0}")]
    Protocol(ProtocolError),
    /// The storage node answered with an error.
    #[error("storage node error {}: {}", .0.code, .0.message)]
    Server(ErrPacket),
    /// No connection became free within the acquire timeout.
    #[error("no free connection to data node {0} within {1} ms")]
    PoolTimeout(DataNodeId, u64),
    /// The data node was failing over and no new primary took over within the hold.
    #[error("data node {0} is failing over and has no new primary yet")]
    FailingOver(DataNodeId),
    /// The data node is changing its primary and as many statements as
    /// `ha.hold_queue_limit` allows wait for it already.
    #[error("data node {0} is changing its primary and {1} statements already wait for it (ha.hold_queue_limit)")]
    HoldQueueFull(DataNodeId, usize),
    /// The pool is closed (shutting down).
    #[error("connection pool of data node {0} is closed")]
    PoolClosed(DataNodeId),
    /// A connection's state could not be aligned with the session's.
    #[error("storage connection state mismatch: {0}")]
    StateMismatch(&'static str),
}
