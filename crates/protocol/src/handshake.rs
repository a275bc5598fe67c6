//! The connection phase, both sides.
//!
//! Server side (clients connecting to Strata): `server_handshake` sends the greeting,
//! reads the response and upgrades to TLS when the client asks; then
//! `auth::authenticate` verifies the login and the session sends OK or ERR.
//!
//! Client side (Strata connecting to storage nodes): `client_connect` reads the storage
//! node's greeting and logs in with `mysql_native_password` or `caching_sha2_password`,
//! following auth switches, and returns the server's ERR untouched when it refuses.
//! `client_connect_over` does the same on a fresh TCP stream and, when given TLS
//! settings, first sends an SSL request and upgrades to TLS; a server that does not
//! offer TLS is refused rather than logged in to in clear text.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tracing::debug;

use crate::auth::{caching_sha2, AuthPlugin};
use crate::codec::PacketConn;
use crate::constants::cap;
use crate::error::{codes, MysqlError};
use crate::packets::{
    ErrPacket, Handshake, HandshakeResponse, OkPacket, ERR_HEADER, OK_HEADER, SSL_REQUEST_LEN,
};
use crate::stream::{ClientStream, ServerStream};
use crate::tls::{self, ClientTls, TlsError};
use crate::wire::Reader;
use crate::ProtocolError;

/// Largest packet accepted before authentication completes; the session raises it to
/// max_allowed_packet afterwards with `PacketConn::set_max_packet`.
pub const HANDSHAKE_MAX_PACKET: usize = 1 << 20;
/// max_packet Strata announces as a client.
const CLIENT_MAX_PACKET: u32 = 1 << 24;
/// First byte of an auth switch request.
const AUTH_SWITCH_HEADER: u8 = 0xfe;
/// First byte of an AuthMoreData packet.
const AUTH_MORE_DATA_HEADER: u8 = 0x01;
/// More server requests than this in one login is a broken or hostile server.
const MAX_AUTH_ROUNDS: usize = 8;

/// Failures of the server side of the connection phase (before authentication).
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The socket failed or the client sent a malformed response.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The TLS handshake failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The client sent an SSL request although TLS is not configured.
    #[error("client requested TLS, which is not configured")]
    TlsNotOffered,
}

impl HandshakeError {
    /// The ERR to send when the connection can still carry one (ER_HANDSHAKE_ERROR).
    pub fn to_mysql_error(&self) -> MysqlError {
        MysqlError::new(codes::HANDSHAKE, "Bad handshake")
    }
}

/// Decodes a handshake response; a malformed one is answered with ERR 1043
/// "Bad handshake", as MySQL does, before the caller closes the connection.
async fn decode_or_refuse<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    payload: &[u8],
) -> Result<HandshakeResponse, HandshakeError> {
    match HandshakeResponse::decode(payload) {
        Ok(r) => Ok(r),
        Err(e) => {
            let err = MysqlError::new(codes::HANDSHAKE, "Bad handshake");
            conn.write_with(|b| err.encode(b));
            let _ = conn.flush().await;
            Err(e.into())
        }
    }
}

/// Greets a client and reads its handshake response, switching to TLS in between when the
/// client sends an SSL request. The greeting announces SSL exactly when `tls` is given.
/// Returns the (possibly TLS) connection, positioned to answer the response.
pub async fn server_handshake(
    mut conn: PacketConn<ServerStream>,
    greeting: &Handshake,
    tls: Option<&Arc<rustls::ServerConfig>>,
) -> Result<(PacketConn<ServerStream>, HandshakeResponse), HandshakeError> {
    let mut greeting = greeting.clone();
    if tls.is_some() {
        greeting.capabilities |= cap::SSL;
    } else {
        greeting.capabilities &= !cap::SSL;
    }
    conn.set_seq(0);
    conn.write_with(|buf| greeting.encode(buf));
    conn.flush().await?;
    let first = conn.read_packet().await?;
    if !HandshakeResponse::is_ssl_request(&first.payload) {
        let response = decode_or_refuse(&mut conn, &first.payload).await?;
        return Ok((conn, response));
    }
    let Some(config) = tls else {
        return Err(HandshakeError::TlsNotOffered);
    };
    let next_seq = conn.seq();
    let (stream, leftover) = conn.into_parts();
    let tcp = match stream {
        ServerStream::Tcp(tcp) => tcp,
        ServerStream::Tls(_) => return Err(HandshakeError::TlsNotOffered),
    };
    let stream = tls::accept(config, tcp, leftover).await?;
    debug!("client switched to TLS");
    let mut conn = PacketConn::new(stream, HANDSHAKE_MAX_PACKET);
    conn.set_seq(next_seq);
    let packet = conn.read_packet().await?;
    let response = decode_or_refuse(&mut conn, &packet.payload).await?;
    Ok((conn, response))
}

/// What a storage node told Strata while it logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Server version string (MariaDB: "5.5.5-10.11.x-MariaDB...").
    pub version: String,
    /// The server's id for this connection (for KILL).
    pub connection_id: u32,
    /// Capabilities both sides agreed on.
    pub capabilities: u32,
    /// Status flags from the final OK.
    pub status: u16,
}

/// Failures of logging in to a storage node.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    /// The server refused with an ERR; pass its code, state and message on.
    #[error("server refused the login: ERROR {} ({}): {}", .0.code, .0.state_str(), .0.message)]
    Server(ErrPacket),
    /// The socket failed or the server sent a malformed packet.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The server demands a plugin Strata does not speak.
    #[error("server requires the unsupported authentication plugin '{0}'")]
    UnsupportedPlugin(String),
    /// RSA encryption of the password failed (bad public key, password too long).
    #[error("cannot encrypt the password: {0}")]
    Rsa(#[from] caching_sha2::RsaError),
    /// The server sent a packet that has no place in the exchange.
    #[error("unexpected packet during authentication (first byte {0:#04x})")]
    Unexpected(u8),
    /// TLS is required but the server's greeting does not offer it (CLIENT_SSL).
    #[error("the server does not offer TLS, which is required; not logging in without it")]
    TlsNotOffered,
    /// The TLS handshake failed, e.g. the server's certificate did not verify.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Who Strata logs in as, and what it asks for.
#[derive(Debug, Clone, Copy)]
pub struct ClientLogin<'a> {
    /// User name.
    pub user: &'a str,
    /// Password ("" for none).
    pub password: &'a str,
    /// Default database to open.
    pub database: Option<&'a str>,
    /// Capabilities wanted (intersected with the server's).
    pub capabilities: u32,
    /// Collation id for the connection.
    pub charset: u8,
}

/// Logs in to a MySQL/MariaDB server over a fresh connection: reads its greeting and
/// authenticates without TLS.
pub async fn client_connect<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    user: &str,
    password: &str,
    database: Option<&str>,
    capabilities: u32,
    charset: u8,
) -> Result<ServerInfo, ClientAuthError> {
    let handshake = read_server_handshake(conn).await?;
    let login = ClientLogin {
        user,
        password,
        database,
        capabilities,
        charset,
    };
    client_authenticate(conn, &handshake, &login, false).await
}

/// Logs in over a fresh TCP connection to a MySQL/MariaDB server. With `tls` the
/// connection switches to TLS before the handshake response (so the password and all
/// later traffic are encrypted) and fails with `TlsNotOffered` when the server cannot:
/// it never falls back to clear text.
pub async fn client_connect_over(
    tcp: TcpStream,
    max_packet: usize,
    login: &ClientLogin<'_>,
    tls: Option<&ClientTls>,
) -> Result<(PacketConn<ClientStream>, ServerInfo), ClientAuthError> {
    let Some(tls) = tls else {
        let mut conn = PacketConn::new(ClientStream::Tcp(tcp), max_packet);
        let handshake = read_server_handshake(&mut conn).await?;
        let info = client_authenticate(&mut conn, &handshake, login, false).await?;
        return Ok((conn, info));
    };
    let mut plain = PacketConn::new(tcp, max_packet);
    let handshake = read_server_handshake(&mut plain).await?;
    if handshake.capabilities & cap::SSL == 0 {
        return Err(ClientAuthError::TlsNotOffered);
    }
    let capabilities = negotiate_capabilities(
        handshake.capabilities,
        login.capabilities,
        login.database.is_some(),
    );
    plain.write_with(|buf| encode_ssl_request(buf, capabilities, login.charset));
    plain.flush().await?;
    let next_seq = plain.seq();
    let (tcp, unread) = plain.into_parts();
    if !unread.is_empty() {
        // The server must wait for the TLS handshake; bytes now would be read as TLS.
        return Err(ProtocolError::Malformed("server sent data before the TLS handshake").into());
    }
    let stream = tls.connect(tcp).await?;
    debug!("storage connection switched to TLS");
    let mut conn = PacketConn::new(stream, max_packet);
    conn.set_seq(next_seq);
    let info = client_authenticate(&mut conn, &handshake, login, true).await?;
    Ok((conn, info))
}

/// Reads a server's greeting; an ERR instead (too many connections, host blocked) is
/// returned as `ClientAuthError::Server`.
pub async fn read_server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
) -> Result<Handshake, ClientAuthError> {
    let packet = conn.read_packet().await?;
    if packet.payload.first() == Some(&ERR_HEADER) {
        return Err(ClientAuthError::Server(ErrPacket::decode(&packet.payload)?));
    }
    Ok(Handshake::decode(&packet.payload)?)
}

/// The capabilities a client asking for `wanted` ends up with against `server`.
pub fn negotiate_capabilities(server: u32, wanted: u32, with_database: bool) -> u32 {
    let mut caps = (wanted | cap::CLIENT_REQUIRED)
        & server
        & !(cap::COMPRESS | cap::SSL | cap::CONNECT_WITH_DB);
    if with_database {
        caps |= server & cap::CONNECT_WITH_DB;
    }
    caps
}

/// Appends an SSL request (the fixed head of a handshake response with SSL set).
pub fn encode_ssl_request(buf: &mut BytesMut, capabilities: u32, charset: u8) {
    let start = buf.len();
    buf.put_u32_le(capabilities | cap::SSL);
    buf.put_u32_le(CLIENT_MAX_PACKET);
    buf.put_u8(charset);
    buf.extend_from_slice(&[0u8; 23]);
    debug_assert_eq!(buf.len() - start, SSL_REQUEST_LEN);
}

/// Sends the handshake response for `handshake` and completes the login. `secure` says
/// the connection is TLS (then `conn` continues after the SSL request and full
/// authentication sends the password in clear); otherwise RSA is used.
pub async fn client_authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    handshake: &Handshake,
    login: &ClientLogin<'_>,
    secure: bool,
) -> Result<ServerInfo, ClientAuthError> {
    if handshake.capabilities & cap::PROTOCOL_41 == 0 {
        return Err(ProtocolError::Malformed("server does not speak protocol 4.1").into());
    }
    let mut capabilities = negotiate_capabilities(
        handshake.capabilities,
        login.capabilities,
        login.database.is_some(),
    );
    if secure {
        capabilities |= cap::SSL;
    }
    let mut plugin = if capabilities & cap::PLUGIN_AUTH != 0 {
        AuthPlugin::from_name(&handshake.auth_plugin).unwrap_or(AuthPlugin::MysqlNativePassword)
    } else {
        AuthPlugin::MysqlNativePassword
    };
    let password = login.password.as_bytes();
    let mut scramble = handshake.scramble.to_vec();
    let mut attrs = Vec::new();
    if capabilities & cap::CONNECT_ATTRS != 0 {
        attrs.push(("_client_name".to_string(), "strata".to_string()));
        attrs.push((
            "_client_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ));
    }
    let response = HandshakeResponse {
        capabilities,
        max_packet: CLIENT_MAX_PACKET,
        charset: login.charset,
        user: login.user.to_string(),
        auth_response: plugin.scramble(&scramble, password),
        database: login.database.map(str::to_string),
        auth_plugin: (capabilities & cap::PLUGIN_AUTH != 0).then(|| plugin.name().to_string()),
        attrs,
    };
    conn.write_with(|buf| response.encode(buf));
    conn.flush().await?;

    let mut awaiting_public_key = false;
    for _ in 0..MAX_AUTH_ROUNDS {
        let packet = conn.read_packet().await?;
        let payload = packet.payload.as_ref();
        match payload.first().copied() {
            Some(OK_HEADER) => {
                let ok = OkPacket::decode(payload)?;
                return Ok(ServerInfo {
                    version: handshake.server_version.clone(),
                    connection_id: handshake.connection_id,
                    capabilities,
                    status: ok.status,
                });
            }
            Some(ERR_HEADER) => return Err(ClientAuthError::Server(ErrPacket::decode(payload)?)),
            Some(AUTH_SWITCH_HEADER) => {
                let (name, data) = parse_auth_switch(payload)?;
                plugin = AuthPlugin::from_name(&name)
                    .ok_or_else(|| ClientAuthError::UnsupportedPlugin(name.clone()))?;
                debug!(plugin = name, "server switched authentication plugin");
                scramble = data;
                awaiting_public_key = false;
                let reply = plugin.scramble(&scramble, password);
                conn.write_packet(&reply);
                conn.flush().await?;
            }
            Some(AUTH_MORE_DATA_HEADER) if plugin == AuthPlugin::CachingSha2Password => {
                let data = &payload[1..];
                if awaiting_public_key {
                    let encrypted = caching_sha2::encrypt_password(data, password, &scramble)?;
                    conn.write_packet(&encrypted);
                    awaiting_public_key = false;
                } else {
                    match data {
                        [caching_sha2::FAST_AUTH_SUCCESS] => continue,
                        [caching_sha2::PERFORM_FULL_AUTHENTICATION] if secure => {
                            let mut clear = password.to_vec();
                            clear.push(0);
                            conn.write_packet(&clear);
                        }
                        [caching_sha2::PERFORM_FULL_AUTHENTICATION] => {
                            conn.write_packet(&[caching_sha2::REQUEST_PUBLIC_KEY]);
                            awaiting_public_key = true;
                        }
                        _ => return Err(ClientAuthError::Unexpected(AUTH_MORE_DATA_HEADER)),
                    }
                }
                conn.flush().await?;
            }
            Some(other) => return Err(ClientAuthError::Unexpected(other)),
            None => {
                return Err(ProtocolError::Malformed("empty packet during authentication").into())
            }
        }
    }
    Err(ProtocolError::Malformed("too many authentication rounds").into())
}

/// Splits an auth switch request into the plugin name and its data (trailing NUL removed).
/// A bare 0xfe is the pre-4.1 request for `mysql_old_password`.
pub fn parse_auth_switch(payload: &[u8]) -> Result<(String, Vec<u8>), ClientAuthError> {
    let mut r = Reader::new(payload);
    if r.u8("auth switch header")? != AUTH_SWITCH_HEADER {
        return Err(ProtocolError::Malformed("auth switch header").into());
    }
    if r.is_empty() {
        return Err(ClientAuthError::UnsupportedPlugin(
            "mysql_old_password".to_string(),
        ));
    }
    let name = String::from_utf8_lossy(r.null_terminated_or_rest()).into_owned();
    let mut data = r.rest().to_vec();
    if data.last() == Some(&0) {
        data.pop();
    }
    Ok((name, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packets::encode_auth_switch;

    #[test]
    fn an_auth_switch_request_splits_into_plugin_and_scramble() {
        let mut buf = BytesMut::new();
        encode_auth_switch(&mut buf, "mysql_native_password", b"abcdefghijklmnopqrst");
        let (name, data) = parse_auth_switch(&buf).unwrap();
        assert_eq!(name, "mysql_native_password");
        assert_eq!(data, b"abcdefghijklmnopqrst");
    }

    #[test]
    fn the_old_password_switch_is_refused_as_unsupported() {
        assert!(matches!(
            parse_auth_switch(&[0xfe]),
            Err(ClientAuthError::UnsupportedPlugin(name)) if name == "mysql_old_password"
        ));
    }

    #[test]
    fn negotiation_keeps_only_what_both_sides_support_and_never_compression_or_tls() {
        let server = cap::PROTOCOL_41
            | cap::SECURE_CONNECTION
            | cap::PLUGIN_AUTH
            | cap::COMPRESS
            | cap::SSL
            | cap::CONNECT_WITH_DB
            | cap::DEPRECATE_EOF;
        let caps = negotiate_capabilities(
            server,
            cap::COMPRESS | cap::DEPRECATE_EOF | cap::MULTI_RESULTS,
            false,
        );
        assert_eq!(
            caps,
            cap::PROTOCOL_41 | cap::SECURE_CONNECTION | cap::PLUGIN_AUTH | cap::DEPRECATE_EOF
        );
        assert_eq!(
            negotiate_capabilities(server, 0, true) & cap::CONNECT_WITH_DB,
            cap::CONNECT_WITH_DB
        );
    }

    #[test]
    fn an_ssl_request_is_recognised_as_one_by_the_server_side() {
        let mut buf = BytesMut::new();
        encode_ssl_request(&mut buf, cap::PROTOCOL_41, 45);
        assert!(HandshakeResponse::is_ssl_request(&buf));
    }
}
