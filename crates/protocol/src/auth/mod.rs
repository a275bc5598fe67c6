//! Authentication, server side: verifying a client's login (after the handshake
//! response) or its COM_CHANGE_USER with `mysql_native_password` or
//! `caching_sha2_password`, against the account's stored verifiers
//! (`verifier::Credential`): a native response is checked with `SHA1(SHA1(pw))`, a
//! caching_sha2 login on the fast path (a password proven earlier, see `FastAuthCache`)
//! or by full authentication, whose clear password is checked against every stored
//! verifier. No clear-text password is kept.
//!
//! `authenticate` sends the intermediate packets (auth switch, AuthMoreData) and reads the
//! client's answers; the caller sends the final OK or, on error, the ERR from
//! `AuthError::to_mysql_error`. The plugins' pure parts live in `native` and
//! `caching_sha2`; the client side of the same exchange is in `crate::handshake`.

pub mod caching_sha2;
pub mod change_user;
pub mod native;
pub mod verifier;

use rand::Rng;
use sha1::Digest as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use crate::codec::PacketConn;
use crate::constants::cap;
use crate::error::{codes, MysqlError};
use crate::packets::{encode_auth_more_data, encode_auth_switch, HandshakeResponse};
use crate::ProtocolError;

pub use caching_sha2::FastAuthCache;
pub use change_user::ChangeUser;
pub use verifier::{Credential, NativeHash, Sha2Verifier};

/// Length of the scramble (nonce) in the handshake and in auth switch requests.
pub const SCRAMBLE_LEN: usize = 20;

/// The authentication plugins Strata speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthPlugin {
    /// `mysql_native_password` (SHA-1 based; MariaDB's and MySQL 5.7's default).
    MysqlNativePassword,
    /// `caching_sha2_password` (SHA-256 based; MySQL 8's default).
    CachingSha2Password,
}

impl AuthPlugin {
    /// The plugin's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            AuthPlugin::MysqlNativePassword => native::NAME,
            AuthPlugin::CachingSha2Password => caching_sha2::NAME,
        }
    }

    /// The plugin called `name`, when Strata speaks it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            native::NAME => Some(AuthPlugin::MysqlNativePassword),
            caching_sha2::NAME => Some(AuthPlugin::CachingSha2Password),
            _ => None,
        }
    }

    /// The response a client sends with this plugin for `password` and `scramble`.
    pub fn scramble(self, scramble: &[u8], password: &[u8]) -> Vec<u8> {
        match self {
            AuthPlugin::MysqlNativePassword => native::scramble(scramble, password),
            AuthPlugin::CachingSha2Password => caching_sha2::scramble(scramble, password),
        }
    }
}

/// Why a login failed. Every variant is reported to the client the same way it is by
/// MySQL; the reason is for Strata's log only (never tell a client whether a user exists).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user, wrong password, or a plugin the client cannot use.
    #[error("access denied: {reason}")]
    Denied {
        /// What went wrong, for the log.
        reason: &'static str,
        /// Whether the client sent a password (for "using password: YES").
        used_password: bool,
    },
    /// The exchange itself failed (closed connection, malformed packet).
    #[error("authentication exchange failed: {0}")]
    Protocol(#[from] ProtocolError),
    /// The server's RSA key could not be generated.
    #[error("cannot prepare the RSA key: {0}")]
    Key(#[from] caching_sha2::RsaError),
}

impl AuthError {
    /// The ERR to send: ER_ACCESS_DENIED_ERROR for a refused login, ER_HANDSHAKE_ERROR for
    /// a broken exchange.
    pub fn to_mysql_error(&self, user: &str, host: &str) -> MysqlError {
        match self {
            AuthError::Denied { used_password, .. } => {
                MysqlError::access_denied(user, host, *used_password)
            }
            AuthError::Protocol(_) => MysqlError::new(codes::HANDSHAKE, "Bad handshake"),
            AuthError::Key(_) => MysqlError::access_denied(user, host, true),
        }
    }

    /// True when the client went away, so no ERR can be delivered.
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self,
            AuthError::Protocol(ProtocolError::ConnectionClosed | ProtocolError::Io(_))
        )
    }
}

/// A successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// The plugin the login finally used.
    pub plugin: AuthPlugin,
    /// The scramble in force at the end (changed by an auth switch); a later
    /// COM_CHANGE_USER is computed with it.
    pub scramble: [u8; SCRAMBLE_LEN],
}

/// A fresh random scramble, as MySQL makes them: 7-bit, no NUL, no '$'.
pub fn new_scramble() -> [u8; SCRAMBLE_LEN] {
    let mut rng = rand::thread_rng();
    let mut out = [0u8; SCRAMBLE_LEN];
    for b in &mut out {
        *b = rng.gen::<u8>() & 0x7f;
        if *b == 0 || *b == b'$' {
            *b += 1;
        }
    }
    out
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One login attempt, from a handshake response or a COM_CHANGE_USER.
struct Attempt<'a> {
    user: &'a str,
    client_plugin: Option<&'a str>,
    data: &'a [u8],
    can_switch: bool,
}

/// Verifies a client's handshake response, exchanging further packets as the plugins
/// require. `credential` is the account's (`None`: unknown user, which fails exactly like
/// a wrong password); the client is switched to the plugin it demands or its verifiers
/// force (`Credential::effective_plugin`), a client using neither plugin to
/// `mysql_native_password`. `is_tls` enables clear-text full authentication.
pub async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    scramble: &[u8; SCRAMBLE_LEN],
    response: &HandshakeResponse,
    credential: Option<&Credential>,
    is_tls: bool,
    cache: &FastAuthCache,
) -> Result<Authenticated, AuthError> {
    let attempt = Attempt {
        user: &response.user,
        client_plugin: response.auth_plugin.as_deref(),
        data: &response.auth_response,
        can_switch: response.capabilities & cap::PLUGIN_AUTH != 0,
    };
    run(conn, scramble, attempt, credential, is_tls, cache).await
}

/// Verifies a COM_CHANGE_USER like `authenticate` verifies a login; `scramble` is the one
/// in force on the connection (`Authenticated::scramble` of the previous login).
pub async fn authenticate_change_user<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    scramble: &[u8; SCRAMBLE_LEN],
    request: &ChangeUser,
    credential: Option<&Credential>,
    is_tls: bool,
    cache: &FastAuthCache,
) -> Result<Authenticated, AuthError> {
    let attempt = Attempt {
        user: &request.user,
        client_plugin: request.auth_plugin.as_deref(),
        data: &request.auth_response,
        can_switch: request.auth_plugin.is_some(),
    };
    run(conn, scramble, attempt, credential, is_tls, cache).await
}

async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    scramble: &[u8; SCRAMBLE_LEN],
    attempt: Attempt<'_>,
    credential: Option<&Credential>,
    is_tls: bool,
    cache: &FastAuthCache,
) -> Result<Authenticated, AuthError> {
    let required = credential.and_then(Credential::effective_plugin);
    let client_plugin = attempt.client_plugin.and_then(AuthPlugin::from_name);
    let legacy_client = attempt.client_plugin.is_none() && !attempt.can_switch;
    let (plugin, scramble, data) = match (required, client_plugin) {
        // Clients without PLUGIN_AUTH speak mysql_native_password and cannot switch.
        _ if legacy_client => match required {
            Some(AuthPlugin::CachingSha2Password) => {
                return Err(denied(
                    "the account requires caching_sha2_password but the client cannot switch",
                    !attempt.data.is_empty(),
                ));
            }
            _ => (
                AuthPlugin::MysqlNativePassword,
                *scramble,
                attempt.data.to_vec(),
            ),
        },
        (Some(req), Some(used)) if req == used => (used, *scramble, attempt.data.to_vec()),
        (None, Some(used)) => (used, *scramble, attempt.data.to_vec()),
        (target, _) => {
            let target = target.unwrap_or(AuthPlugin::MysqlNativePassword);
            if !attempt.can_switch {
                return Err(denied(
                    "the client used another plugin and cannot switch",
                    !attempt.data.is_empty(),
                ));
            }
            let fresh = new_scramble();
            debug!(user = attempt.user, plugin = target.name(), "auth switch");
            conn.write_with(|buf| encode_auth_switch(buf, target.name(), &fresh));
            conn.flush().await?;
            let reply = conn.read_packet().await?;
            (target, fresh, reply.payload.to_vec())
        }
    };
    match plugin {
        AuthPlugin::MysqlNativePassword => {
            if !credential.is_some_and(|c| native_response_matches(c, &scramble, &data)) {
                return Err(denied(
                    if credential.is_some() {
                        "wrong password"
                    } else {
                        "unknown user"
                    },
                    !data.is_empty(),
                ));
            }
        }
        AuthPlugin::CachingSha2Password => {
            caching_sha2_exchange(
                conn,
                attempt.user,
                &scramble,
                &data,
                credential,
                is_tls,
                cache,
            )
            .await?
        }
    }
    Ok(Authenticated { plugin, scramble })
}

/// A mysql_native_password `response` checked against the stored `SHA1(SHA1(pw))`:
/// `response XOR SHA1(scramble + stored)` must be a `SHA1(pw)` whose SHA-1 is `stored`.
fn native_response_matches(credential: &Credential, scramble: &[u8], response: &[u8]) -> bool {
    if credential.no_password {
        return response.is_empty();
    }
    let Some(stored) = credential.native else {
        return false;
    };
    if response.len() != 20 {
        return false;
    }
    let mask = sha1::Sha1::new()
        .chain_update(scramble)
        .chain_update(stored)
        .finalize();
    let stage1: Vec<u8> = response.iter().zip(mask).map(|(r, m)| r ^ m).collect();
    constant_time_eq(&sha1::Sha1::digest(&stage1), &stored)
}

fn denied(reason: &'static str, used_password: bool) -> AuthError {
    AuthError::Denied {
        reason,
        used_password,
    }
}

/// The server's half of caching_sha2_password after the client's first response `data`.
async fn caching_sha2_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    user: &str,
    scramble: &[u8],
    data: &[u8],
    credential: Option<&Credential>,
    is_tls: bool,
    cache: &FastAuthCache,
) -> Result<(), AuthError> {
    // An empty password is an empty response (some clients send a single NUL).
    if data.is_empty() || data == [0] {
        return match credential {
            Some(c) if c.no_password => Ok(()),
            Some(_) => Err(denied("password required but none given", false)),
            None => Err(denied("unknown user", false)),
        };
    }
    if data.len() != 32 {
        return Err(denied("malformed caching_sha2_password response", true));
    }
    if let Some(c) = credential {
        if cache.verify_fast(user, c, scramble, data) {
            // Left buffered: it leaves with the caller's OK in one write.
            conn.write_with(|buf| encode_auth_more_data(buf, &[caching_sha2::FAST_AUTH_SUCCESS]));
            return Ok(());
        }
    }
    // Not cached, or the fast path failed: like MySQL, ask for the password itself.
    conn.write_with(|buf| encode_auth_more_data(buf, &[caching_sha2::PERFORM_FULL_AUTHENTICATION]));
    conn.flush().await?;
    let reply = conn.read_packet().await?;
    let candidate = if is_tls {
        let mut clear = reply.payload.to_vec();
        if clear.last() == Some(&0) {
            clear.pop();
        }
        Some(clear)
    } else if reply.payload.as_ref() == [caching_sha2::REQUEST_PUBLIC_KEY] {
        let key = caching_sha2::server_rsa_key_async().await?;
        conn.write_with(|buf| encode_auth_more_data(buf, key.public_key_pem().as_bytes()));
        conn.flush().await?;
        let encrypted = conn.read_packet().await?;
        key.decrypt_password(&encrypted.payload, scramble)
    } else {
        let key = caching_sha2::server_rsa_key_async().await?;
        if reply.payload.len() == key.ciphertext_len() {
            // The client already had the public key (--server-public-key-path).
            key.decrypt_password(&reply.payload, scramble)
        } else {
            // A clear-text password over plain TCP: refuse, as MySQL does.
            None
        }
    };
    match (credential, candidate) {
        (Some(c), Some(given)) if !given.is_empty() && c.verify_clear(&given) => {
            cache.insert(user, &given, c);
            Ok(())
        }
        (None, _) => Err(denied("unknown user", true)),
        (Some(_), None) => Err(denied("full authentication failed", true)),
        (Some(_), Some(_)) => Err(denied("wrong password", true)),
    }
}

#[cfg(test)]
mod tests;
