//! The session state information an OK packet carries for a client that negotiated
//! CLIENT_SESSION_TRACK (status flag SERVER_SESSION_STATE_CHANGED): a sequence of
//! entries, each a type byte and its length-encoded data, laid out as MariaDB's
//! `net_send_ok` writes them.

use bytes::BytesMut;

use crate::wire::{put_lenenc_bytes, Reader};
use crate::ProtocolError;

/// Entry type of a system variable's new value (name and value).
pub const SYSTEM_VARIABLES: u8 = 0;
/// Entry type of the new current schema (empty when none is selected).
pub const SCHEMA: u8 = 1;
/// Entry type of "the session state changed" (data `1`).
pub const STATE_CHANGE: u8 = 2;

/// One entry of an OK packet's session state information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateEntry {
    /// A tracked system variable's value, as SHOW VARIABLES prints it.
    SystemVariable {
        /// Variable name.
        name: String,
        /// Its value.
        value: String,
    },
    /// The current schema (empty: none).
    Schema(String),
    /// The session state changed.
    StateChange,
    /// An entry of another type, kept as its data.
    Other(u8, Vec<u8>),
}

impl StateEntry {
    /// Appends the entry (type byte, then its data length-encoded).
    pub fn encode(&self, buf: &mut BytesMut) {
        let mut data = BytesMut::new();
        let kind = match self {
            StateEntry::SystemVariable { name, value } => {
                put_lenenc_bytes(&mut data, name.as_bytes());
                put_lenenc_bytes(&mut data, value.as_bytes());
                SYSTEM_VARIABLES
            }
            StateEntry::Schema(db) => {
                put_lenenc_bytes(&mut data, db.as_bytes());
                SCHEMA
            }
            StateEntry::StateChange => {
                data.extend_from_slice(b"1");
                STATE_CHANGE
            }
            StateEntry::Other(kind, bytes) => {
                data.extend_from_slice(bytes);
                *kind
            }
        };
        buf.extend_from_slice(&[kind]);
        put_lenenc_bytes(buf, &data);
    }

    /// Encodes `entries` as the session state information of an OK packet.
    pub fn encode_all(entries: &[StateEntry]) -> Vec<u8> {
        let mut buf = BytesMut::new();
        for entry in entries {
            entry.encode(&mut buf);
        }
        buf.to_vec()
    }

    /// Reads the entries of a session state information block.
    pub fn decode_all(mut block: &[u8]) -> Result<Vec<StateEntry>, ProtocolError> {
        let mut out = Vec::new();
        while !block.is_empty() {
            let mut r = Reader::new(block);
            let kind = r.u8("session state type")?;
            let data = r.lenenc_bytes("session state data")?;
            let entry = match kind {
                SYSTEM_VARIABLES => {
                    let mut d = Reader::new(data);
                    let name = d.lenenc_bytes("tracked variable name")?;
                    let value = d.lenenc_bytes("tracked variable value")?;
                    StateEntry::SystemVariable {
                        name: String::from_utf8_lossy(name).into_owned(),
                        value: String::from_utf8_lossy(value).into_owned(),
                    }
                }
                SCHEMA => {
                    let db = Reader::new(data).lenenc_bytes("tracked schema")?;
                    StateEntry::Schema(String::from_utf8_lossy(db).into_owned())
                }
                STATE_CHANGE => StateEntry::StateChange,
                other => StateEntry::Other(other, data.to_vec()),
            };
            out.push(entry);
            block = r.rest();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_laid_out_as_mariadb_sends_them() {
        // Bytes captured from MariaDB 10.11 (USE track_a; DROP DATABASE of it; SET @x=1).
        let schema = StateEntry::encode_all(&[StateEntry::Schema("track_a".into())]);
        assert_eq!(schema, b"\x01\x08\x07track_a");
        let dropped = StateEntry::encode_all(&[StateEntry::Schema(String::new())]);
        assert_eq!(dropped, b"\x01\x01\x00");
        assert_eq!(
            StateEntry::encode_all(&[StateEntry::StateChange]),
            b"\x02\x011"
        );
        let var = StateEntry::SystemVariable {
            name: "autocommit".into(),
            value: "OFF".into(),
        };
        let bytes = StateEntry::encode_all(std::slice::from_ref(&var));
        assert_eq!(bytes, b"\x00\x0f\x0aautocommit\x03OFF");
        assert_eq!(StateEntry::decode_all(&bytes).unwrap(), vec![var]);
        assert!(StateEntry::decode_all(b"\x00\x05\x01").is_err());
    }
}
