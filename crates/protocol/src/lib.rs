//! The MySQL client/server protocol as Strata speaks it on both sides: towards clients
//! (handshake, authentication, results) and towards storage nodes (as a client).
//!
//! `codec` frames packets, `packets` holds the typed packets with encoders and decoders
//! side by side, `handshake` the connection phase on both sides, `auth` the
//! authentication plugins, `tls` the rustls set-up, `fuzzing` (feature `fuzzing`) the fuzzers'
//! entry point.

pub mod auth;
pub mod binary_row;
pub mod codec;
pub mod command;
pub mod constants;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod handshake;
pub mod packets;
pub mod resultset;
pub mod session_track;
pub mod stream;
pub mod tls;
pub mod wire;

pub use auth::{authenticate, AuthError, AuthPlugin, Authenticated, Credential, FastAuthCache};
pub use codec::{Frame, Packet, PacketConn, WriteMark};
pub use command::{Command, MalformedCommand, ParamValue, StmtExecute};
pub use error::{codes, MysqlError};
pub use handshake::{client_connect, ClientAuthError, ServerInfo};
pub use resultset::{ResultFormat, ResultSetWriter};
pub use tls::{ClientTls, ClientTlsOptions, TlsError};

/// Failures of the wire protocol itself (not SQL errors).
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection.
    #[error("connection closed by peer")]
    ConnectionClosed,
    /// A packet ended early or had an impossible field.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// A frame arrived with an unexpected sequence id.
    #[error("packet sequence mismatch: expected {expected}, got {got}")]
    SequenceMismatch {
        /// What the protocol required.
        expected: u8,
        /// What arrived.
        got: u8,
    },
    /// A packet exceeded max_allowed_packet.
    #[error("packet larger than the limit of {limit} bytes")]
    PacketTooLarge {
        /// The limit in force.
        limit: usize,
    },
}
