//! COM_CHANGE_USER: a client re-authenticates on an open connection, possibly as another
//! user, with a new default database and character set. The server verifies it like a
//! login (`auth::authenticate_change_user`) and resets the session on success.

use bytes::{BufMut, BytesMut};

use crate::constants::{cap, com};
use crate::wire::{put_lenenc_bytes, put_null_terminated, Reader};
use crate::ProtocolError;

/// A decoded COM_CHANGE_USER request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeUser {
    /// User name to become.
    pub user: String,
    /// Authentication data computed with the connection's current scramble.
    pub auth_response: Vec<u8>,
    /// New default database (`None` when empty).
    pub database: Option<String>,
    /// New client collation id, when sent.
    pub charset: Option<u16>,
    /// Plugin that produced `auth_response` (sent by clients with PLUGIN_AUTH).
    pub auth_plugin: Option<String>,
    /// Connection attributes (with CONNECT_ATTRS).
    pub attrs: Vec<(String, String)>,
}

impl ChangeUser {
    /// Decodes a COM_CHANGE_USER payload (command byte included) sent by a client that
    /// negotiated `capabilities`.
    pub fn decode(payload: &[u8], capabilities: u32) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(payload);
        if r.u8("command")? != com::CHANGE_USER {
            return Err(ProtocolError::Malformed("not a COM_CHANGE_USER"));
        }
        let user = String::from_utf8_lossy(r.null_terminated("user")?).into_owned();
        let auth_response = if capabilities & cap::SECURE_CONNECTION != 0 {
            let n = r.u8("auth response length")? as usize;
            r.bytes(n, "auth response")?.to_vec()
        } else {
            r.null_terminated("auth response")?.to_vec()
        };
        let db = r.null_terminated_or_rest();
        let database = (!db.is_empty()).then(|| String::from_utf8_lossy(db).into_owned());
        let mut out = Self {
            user,
            auth_response,
            database,
            ..Self::default()
        };
        if r.remaining() < 2 {
            return Ok(out);
        }
        out.charset = Some(r.u16("charset")?);
        if capabilities & cap::PLUGIN_AUTH != 0 && !r.is_empty() {
            out.auth_plugin =
                Some(String::from_utf8_lossy(r.null_terminated_or_rest()).into_owned());
        }
        if capabilities & cap::CONNECT_ATTRS != 0 && !r.is_empty() {
            let total = r.lenenc("attrs length")?;
            let total = usize::try_from(total).unwrap_or(usize::MAX);
            let block = r.bytes(total.min(r.remaining()), "attrs")?;
            let mut a = Reader::new(block);
            while !a.is_empty() {
                let k = a.lenenc_bytes("attr key")?;
                let v = a.lenenc_bytes("attr value")?;
                out.attrs.push((
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                ));
            }
        }
        Ok(out)
    }

    /// Appends the payload as a client with `capabilities` sends it (Strata towards storage
    /// nodes, and tests). Auth responses longer than 255 bytes are cut to 255.
    pub fn encode(&self, buf: &mut BytesMut, capabilities: u32) {
        buf.put_u8(com::CHANGE_USER);
        put_null_terminated(buf, self.user.as_bytes());
        if capabilities & cap::SECURE_CONNECTION != 0 {
            let n = self.auth_response.len().min(255);
            buf.put_u8(n as u8);
            buf.extend_from_slice(&self.auth_response[..n]);
        } else {
            put_null_terminated(buf, &self.auth_response);
        }
        put_null_terminated(buf, self.database.as_deref().unwrap_or("").as_bytes());
        let Some(charset) = self.charset else {
            return;
        };
        buf.put_u16_le(charset);
        if capabilities & cap::PLUGIN_AUTH != 0 {
            put_null_terminated(buf, self.auth_plugin.as_deref().unwrap_or("").as_bytes());
        }
        if capabilities & cap::CONNECT_ATTRS != 0 {
            let mut block = BytesMut::new();
            for (k, v) in &self.attrs {
                put_lenenc_bytes(&mut block, k.as_bytes());
                put_lenenc_bytes(&mut block, v.as_bytes());
            }
            put_lenenc_bytes(buf, &block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::SERVER_CAPABILITIES;

    fn full() -> ChangeUser {
        ChangeUser {
            user: "app".into(),
            auth_response: vec![7; 20],
            database: Some("shop".into()),
            charset: Some(45),
            auth_plugin: Some("mysql_native_password".into()),
            attrs: vec![("_client_name".into(), "libmysql".into())],
        }
    }

    #[test]
    fn a_change_user_request_round_trips_with_every_field() {
        let mut buf = BytesMut::new();
        full().encode(&mut buf, SERVER_CAPABILITIES);
        assert_eq!(
            ChangeUser::decode(&buf, SERVER_CAPABILITIES).unwrap(),
            full()
        );
    }

    #[test]
    fn the_libmysql_layout_decodes_field_by_field() {
        // As libmysql's send_change_user_packet builds it: user, 1-byte length + data,
        // database, charset, plugin name (no attributes).
        let mut payload = vec![0x11];
        payload.extend_from_slice(b"bob\0");
        payload.push(3);
        payload.extend_from_slice(b"xyz");
        payload.extend_from_slice(b"\0");
        payload.extend_from_slice(&[33, 0]);
        payload.extend_from_slice(b"caching_sha2_password\0");
        let req = ChangeUser::decode(&payload, SERVER_CAPABILITIES).unwrap();
        assert_eq!(
            req,
            ChangeUser {
                user: "bob".into(),
                auth_response: b"xyz".to_vec(),
                database: None,
                charset: Some(33),
                auth_plugin: Some("caching_sha2_password".into()),
                attrs: vec![],
            }
        );
    }

    #[test]
    fn an_old_client_without_charset_or_plugin_still_decodes() {
        let payload = b"\x11old\0\x00db1\0";
        let req = ChangeUser::decode(payload, cap::PROTOCOL_41 | cap::SECURE_CONNECTION).unwrap();
        assert_eq!(req.user, "old");
        assert!(req.auth_response.is_empty());
        assert_eq!(req.database.as_deref(), Some("db1"));
        assert_eq!(req.charset, None);
        assert_eq!(req.auth_plugin, None);
    }

    #[test]
    fn truncated_requests_are_malformed_not_panics() {
        let mut buf = BytesMut::new();
        full().encode(&mut buf, SERVER_CAPABILITIES);
        for n in 0..buf.len() {
            let _ = ChangeUser::decode(&buf[..n], SERVER_CAPABILITIES);
        }
        assert!(ChangeUser::decode(b"\x03select", SERVER_CAPABILITIES).is_err());
    }
}
