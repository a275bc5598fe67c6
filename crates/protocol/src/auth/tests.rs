//! End-to-end logins: the server side (`authenticate`) against Strata's own client side
//! (`handshake::client_connect`) over in-memory pipes, scripted clients where the exact
//! packets matter, and TLS over loopback TCP.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::DuplexStream;
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::constants::{charset, com, SERVER_CAPABILITIES};
use crate::handshake::{
    client_authenticate, client_connect, encode_ssl_request, read_server_handshake,
    server_handshake, ClientAuthError, ClientLogin, ServerInfo, HANDSHAKE_MAX_PACKET,
};
use crate::packets::{ErrPacket, Handshake, OkPacket, OK_HEADER};
use crate::stream::ServerStream;

const SCRAMBLE: [u8; 20] = *b"abcdefghijklmnopqrst";
const HOST: &str = "127.0.0.1";

fn greeting(plugin: AuthPlugin) -> Handshake {
    Handshake {
        server_version: "8.0.99-Strata".into(),
        connection_id: 7,
        scramble: SCRAMBLE,
        capabilities: SERVER_CAPABILITIES,
        charset: charset::UTF8MB4_GENERAL_CI,
        status: 2,
        auth_plugin: plugin.name().into(),
    }
}

/// The account the scripted server knows.
#[derive(Clone, Copy)]
struct Account {
    password: Option<&'static str>,
    required: Option<AuthPlugin>,
}

const APP_SECRET: Account = Account {
    password: Some("secret"),
    required: None,
};

impl Account {
    /// What the server stores for this account: verifiers, never the password. The salt
    /// is fixed so that the stored credential is the same from one login to the next.
    fn credential(self) -> Option<Credential> {
        self.password.map(|pw| {
            Credential::from_password_with_salt(pw, "0123456789abcdefghij").requiring(self.required)
        })
    }
}

/// Finishes a login as a session would: OK on success, the mapped ERR otherwise.
async fn reply<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    user: &str,
    result: &Result<Authenticated, AuthError>,
) {
    match result {
        Ok(_) => conn.write_with(|buf| OkPacket::default().encode(buf, OK_HEADER)),
        Err(e) => conn.write_with(|buf| e.to_mysql_error(user, HOST).encode(buf)),
    }
    // The client may be gone already (see the disconnect test).
    let _ = conn.flush().await;
}

/// A server that greets announcing `announced`, then authenticates `account`.
async fn serve(
    stream: DuplexStream,
    announced: AuthPlugin,
    account: Account,
    cache: &FastAuthCache,
) -> Result<Authenticated, AuthError> {
    let mut conn = PacketConn::new(stream, HANDSHAKE_MAX_PACKET);
    conn.write_with(|buf| greeting(announced).encode(buf));
    conn.flush().await.unwrap();
    let packet = conn.read_packet().await?;
    let response = HandshakeResponse::decode(&packet.payload)?;
    let result = authenticate(
        &mut conn,
        &SCRAMBLE,
        &response,
        account.credential().as_ref(),
        false,
        cache,
    )
    .await;
    reply(&mut conn, &response.user, &result).await;
    result
}

/// Strata's client logging in as `user` against `serve`.
async fn login(
    announced: AuthPlugin,
    account: Account,
    cache: &FastAuthCache,
    user: &str,
    password: &str,
) -> (
    Result<Authenticated, AuthError>,
    Result<ServerInfo, ClientAuthError>,
) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let mut conn = PacketConn::new(client, HANDSHAKE_MAX_PACKET);
    tokio::join!(
        serve(server, announced, account, cache),
        client_connect(
            &mut conn,
            user,
            password,
            None,
            SERVER_CAPABILITIES,
            charset::UTF8MB4_GENERAL_CI
        )
    )
}

fn access_denied(user: &str, using_password: &str) -> ErrPacket {
    ErrPacket {
        code: 1045,
        state: *b"28000",
        message: format!(
            "Access denied for user '{user}'@'{HOST}' (using password: {using_password})"
        ),
    }
}

fn server_error(result: Result<ServerInfo, ClientAuthError>) -> ErrPacket {
    match result {
        Err(ClientAuthError::Server(err)) => err,
        other => panic!("expected an ERR from the server, got {other:?}"),
    }
}

// ---- mysql_native_password ----

#[tokio::test]
async fn native_password_login_succeeds_end_to_end() {
    let cache = FastAuthCache::new();
    let (server, client) = login(
        AuthPlugin::MysqlNativePassword,
        APP_SECRET,
        &cache,
        "app",
        "secret",
    )
    .await;
    assert_eq!(
        server.unwrap(),
        Authenticated {
            plugin: AuthPlugin::MysqlNativePassword,
            scramble: SCRAMBLE
        }
    );
    let info = client.unwrap();
    assert_eq!(info.connection_id, 7);
    assert_eq!(info.version, "8.0.99-Strata");
    assert_eq!(info.status, 0);
}

#[tokio::test]
async fn a_wrong_password_is_access_denied_with_mysqls_exact_message() {
    let cache = FastAuthCache::new();
    let (server, client) = login(
        AuthPlugin::MysqlNativePassword,
        APP_SECRET,
        &cache,
        "app",
        "wrong",
    )
    .await;
    assert!(matches!(
        server,
        Err(AuthError::Denied {
            used_password: true,
            ..
        })
    ));
    assert_eq!(server_error(client), access_denied("app", "YES"));
}

#[tokio::test]
async fn an_unknown_user_fails_exactly_like_a_wrong_password() {
    let cache = FastAuthCache::new();
    let unknown = Account {
        password: None,
        required: None,
    };
    for plugin in [
        AuthPlugin::MysqlNativePassword,
        AuthPlugin::CachingSha2Password,
    ] {
        let (_, client) = login(plugin, unknown, &cache, "ghost", "secret").await;
        assert_eq!(
            server_error(client),
            access_denied("ghost", "YES"),
            "{plugin:?}"
        );
        let (_, client) = login(plugin, unknown, &cache, "ghost", "").await;
        assert_eq!(
            server_error(client),
            access_denied("ghost", "NO"),
            "{plugin:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_password_matches_only_an_empty_password() {
    let cache = FastAuthCache::new();
    let empty = Account {
        password: Some(""),
        required: None,
    };
    for plugin in [
        AuthPlugin::MysqlNativePassword,
        AuthPlugin::CachingSha2Password,
    ] {
        let (server, client) = login(plugin, empty, &cache, "guest", "").await;
        assert_eq!(server.unwrap().plugin, plugin);
        client.unwrap();

        let (_, client) = login(plugin, empty, &cache, "guest", "something").await;
        assert_eq!(
            server_error(client),
            access_denied("guest", "YES"),
            "{plugin:?}"
        );

        let (_, client) = login(plugin, APP_SECRET, &cache, "app", "").await;
        assert_eq!(
            server_error(client),
            access_denied("app", "NO"),
            "{plugin:?}"
        );
    }
}

// ---- auth switch ----

#[tokio::test]
async fn an_account_requiring_native_switches_a_caching_sha2_client() {
    let cache = FastAuthCache::new();
    let native_only = Account {
        password: Some("secret"),
        required: Some(AuthPlugin::MysqlNativePassword),
    };
    let (server, client) = login(
        AuthPlugin::CachingSha2Password,
        native_only,
        &cache,
        "app",
        "secret",
    )
    .await;
    let done = server.unwrap();
    assert_eq!(done.plugin, AuthPlugin::MysqlNativePassword);
    assert_ne!(done.scramble, SCRAMBLE, "a switch brings a fresh scramble");
    client.unwrap();

    let (server, client) = login(
        AuthPlugin::CachingSha2Password,
        native_only,
        &cache,
        "app",
        "bad",
    )
    .await;
    assert!(server.is_err());
    assert_eq!(server_error(client), access_denied("app", "YES"));
}

#[tokio::test]
async fn an_account_requiring_caching_sha2_switches_a_native_client_to_full_rsa_auth() {
    let cache = FastAuthCache::new();
    let sha2_only = Account {
        password: Some("secret"),
        required: Some(AuthPlugin::CachingSha2Password),
    };
    let (server, client) = login(
        AuthPlugin::MysqlNativePassword,
        sha2_only,
        &cache,
        "app",
        "secret",
    )
    .await;
    assert_eq!(server.unwrap().plugin, AuthPlugin::CachingSha2Password);
    client.unwrap();
    assert!(cache.contains("app", b"secret"));
}

/// A scripted client: reads what the server sends and answers by hand.
struct Script {
    conn: PacketConn<DuplexStream>,
}

impl Script {
    async fn expect(&mut self, seq: u8) -> Vec<u8> {
        let packet = self.conn.read_packet().await.unwrap();
        assert_eq!(packet.seq, seq, "sequence id of {:?}", packet.payload);
        packet.payload.to_vec()
    }

    async fn send(&mut self, payload: &[u8]) {
        self.conn.write_packet(payload);
        self.conn.flush().await.unwrap();
    }

    async fn send_response(&mut self, response: &HandshakeResponse) {
        self.conn.write_with(|buf| response.encode(buf));
        self.conn.flush().await.unwrap();
    }
}

fn response(plugin: Option<&str>, data: Vec<u8>) -> HandshakeResponse {
    HandshakeResponse {
        capabilities: SERVER_CAPABILITIES,
        max_packet: 1 << 24,
        charset: charset::UTF8MB4_GENERAL_CI,
        user: "app".into(),
        auth_response: data,
        database: None,
        auth_plugin: plugin.map(str::to_string),
        attrs: vec![],
    }
}

/// Runs `serve` against a scripted client `script`.
async fn scripted<F, Fut>(
    account: Account,
    cache: &FastAuthCache,
    script: F,
) -> Result<Authenticated, AuthError>
where
    F: FnOnce(Script) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (client, server) = tokio::io::duplex(64 * 1024);
    let mut conn = PacketConn::new(client, HANDSHAKE_MAX_PACKET);
    let (result, ()) = tokio::join!(
        serve(server, AuthPlugin::MysqlNativePassword, account, cache),
        async move {
            let hello = conn.read_packet().await.unwrap();
            assert_eq!(hello.seq, 0);
            script(Script { conn }).await
        }
    );
    result
}

#[tokio::test]
async fn a_client_using_another_plugin_is_switched_to_native_with_a_fresh_scramble() {
    let cache = FastAuthCache::new();
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(
            Some("mysql_clear_password"),
            b"secret\0".to_vec(),
        ))
        .await;
        let switch = s.expect(2).await;
        assert_eq!(&switch[..23], b"\xfemysql_native_password\0");
        assert_eq!(switch.len(), 23 + 20 + 1);
        assert_eq!(switch.last(), Some(&0));
        let fresh = &switch[23..43];
        assert!(fresh.iter().all(|&b| b != 0 && b < 0x80));
        s.send(&native::scramble(fresh, b"secret")).await;
        assert_eq!(s.expect(4).await[0], OK_HEADER);
    })
    .await;
    assert_eq!(result.unwrap().plugin, AuthPlugin::MysqlNativePassword);
}

#[tokio::test]
async fn a_client_naming_no_plugin_is_switched_to_native() {
    let cache = FastAuthCache::new();
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(None, vec![1; 20])).await;
        let switch = s.expect(2).await;
        assert!(switch.starts_with(b"\xfemysql_native_password\0"));
        s.send(&native::scramble(&switch[23..43], b"secret")).await;
        assert_eq!(s.expect(4).await[0], OK_HEADER);
    })
    .await;
    result.unwrap();
}

#[tokio::test]
async fn a_client_without_plugin_auth_is_verified_as_native_without_a_switch() {
    let cache = FastAuthCache::new();
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        let mut old = response(None, native::scramble(&SCRAMBLE, b"secret"));
        old.capabilities &= !(cap::PLUGIN_AUTH | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA);
        s.send_response(&old).await;
        assert_eq!(s.expect(2).await[0], OK_HEADER);
    })
    .await;
    result.unwrap();

    let sha2_only = Account {
        password: Some("secret"),
        required: Some(AuthPlugin::CachingSha2Password),
    };
    let result = scripted(sha2_only, &cache, |mut s| async move {
        let mut old = response(None, native::scramble(&SCRAMBLE, b"secret"));
        old.capabilities &= !(cap::PLUGIN_AUTH | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA);
        s.send_response(&old).await;
        assert_eq!(s.expect(2).await[0], 0xff);
    })
    .await;
    assert!(matches!(result, Err(AuthError::Denied { .. })));
}

// ---- caching_sha2_password ----

#[tokio::test]
async fn caching_sha2_first_login_is_full_rsa_auth_and_the_second_is_fast() {
    let cache = FastAuthCache::new();
    let sha2 = Some(caching_sha2::NAME);
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(
            sha2,
            caching_sha2::scramble(&SCRAMBLE, b"secret"),
        ))
        .await;
        assert_eq!(
            s.expect(2).await,
            [0x01, caching_sha2::PERFORM_FULL_AUTHENTICATION]
        );
        s.send(&[caching_sha2::REQUEST_PUBLIC_KEY]).await;
        let key = s.expect(4).await;
        assert_eq!(key[0], 0x01);
        assert!(key[1..].starts_with(b"-----BEGIN PUBLIC KEY-----"));
        let encrypted = caching_sha2::encrypt_password(&key[1..], b"secret", &SCRAMBLE).unwrap();
        s.send(&encrypted).await;
        assert_eq!(s.expect(6).await[0], OK_HEADER);
    })
    .await;
    assert_eq!(result.unwrap().plugin, AuthPlugin::CachingSha2Password);
    assert!(cache.contains("app", b"secret"));

    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(
            sha2,
            caching_sha2::scramble(&SCRAMBLE, b"secret"),
        ))
        .await;
        assert_eq!(s.expect(2).await, [0x01, caching_sha2::FAST_AUTH_SUCCESS]);
        assert_eq!(s.expect(3).await[0], OK_HEADER);
    })
    .await;
    result.unwrap();
}

#[tokio::test]
async fn caching_sha2_end_to_end_full_then_fast_then_wrong_password() {
    let cache = FastAuthCache::new();
    let sha2 = AuthPlugin::CachingSha2Password;
    let (server, client) = login(sha2, APP_SECRET, &cache, "app", "secret").await;
    assert_eq!(server.unwrap().plugin, sha2);
    client.unwrap();
    assert!(cache.contains("app", b"secret"));

    let (server, client) = login(sha2, APP_SECRET, &cache, "app", "secret").await;
    server.unwrap();
    client.unwrap();

    // A cached user with a wrong password falls back to full authentication and fails.
    let (server, client) = login(sha2, APP_SECRET, &cache, "app", "wrong").await;
    assert!(matches!(server, Err(AuthError::Denied { .. })));
    assert_eq!(server_error(client), access_denied("app", "YES"));
    assert!(
        cache.contains("app", b"secret"),
        "a failed login does not evict"
    );
}

#[tokio::test]
async fn a_changed_password_invalidates_the_fast_path() {
    let cache = FastAuthCache::new();
    cache.insert("app", b"old", &Credential::from_password("old"));
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(
            Some(caching_sha2::NAME),
            caching_sha2::scramble(&SCRAMBLE, b"secret"),
        ))
        .await;
        assert_eq!(
            s.expect(2).await,
            [0x01, caching_sha2::PERFORM_FULL_AUTHENTICATION]
        );
        s.send(&[caching_sha2::REQUEST_PUBLIC_KEY]).await;
        let key = s.expect(4).await;
        s.send(&caching_sha2::encrypt_password(&key[1..], b"secret", &SCRAMBLE).unwrap())
            .await;
        assert_eq!(s.expect(6).await[0], OK_HEADER);
    })
    .await;
    result.unwrap();
    assert!(cache.contains("app", b"secret"));
}

#[tokio::test]
async fn a_clear_text_password_over_plain_tcp_is_refused() {
    let cache = FastAuthCache::new();
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(
            Some(caching_sha2::NAME),
            caching_sha2::scramble(&SCRAMBLE, b"secret"),
        ))
        .await;
        assert_eq!(
            s.expect(2).await,
            [0x01, caching_sha2::PERFORM_FULL_AUTHENTICATION]
        );
        s.send(b"secret\0").await;
        let err = ErrPacket::decode(&s.expect(4).await).unwrap();
        assert_eq!(err, access_denied("app", "YES"));
    })
    .await;
    assert!(matches!(result, Err(AuthError::Denied { .. })));
    assert!(!cache.contains("app", b"secret"));
}

#[tokio::test]
async fn caching_sha2_with_an_empty_password_answers_ok_directly() {
    let cache = FastAuthCache::new();
    let empty = Account {
        password: Some(""),
        required: None,
    };
    let result = scripted(empty, &cache, |mut s| async move {
        s.send_response(&response(Some(caching_sha2::NAME), vec![]))
            .await;
        assert_eq!(s.expect(2).await[0], OK_HEADER);
    })
    .await;
    result.unwrap();
}

// ---- TLS ----

/// Encrypts without checking the server's certificate, which is self-signed here.
fn insecure_client_config() -> Arc<rustls::ClientConfig> {
    crate::tls::load_client_config(&crate::tls::ClientTlsOptions {
        ca: None,
        verify: false,
        client_cert: None,
    })
    .unwrap()
}

#[tokio::test]
async fn caching_sha2_full_auth_over_tls_sends_the_password_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    crate::tls::generate_self_signed(&cert, &key, &["localhost"]).unwrap();
    let server_config = crate::tls::load_server_config(&cert, &key).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cache = FastAuthCache::new();

    let server = async {
        let (tcp, _) = listener.accept().await.unwrap();
        let conn = PacketConn::new(ServerStream::Tcp(tcp), HANDSHAKE_MAX_PACKET);
        let hello = greeting(AuthPlugin::CachingSha2Password);
        let (mut conn, response) = server_handshake(conn, &hello, Some(&server_config))
            .await
            .unwrap();
        let is_tls = conn.stream().is_tls();
        assert!(is_tls);
        let result = authenticate(
            &mut conn,
            &SCRAMBLE,
            &response,
            APP_SECRET.credential().as_ref(),
            is_tls,
            &cache,
        )
        .await;
        reply(&mut conn, &response.user, &result).await;
        result
    };
    let client = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut conn = PacketConn::new(tcp, HANDSHAKE_MAX_PACKET);
        let handshake = read_server_handshake(&mut conn).await.unwrap();
        assert_ne!(handshake.capabilities & cap::SSL, 0, "SSL is announced");
        conn.write_with(|buf| encode_ssl_request(buf, SERVER_CAPABILITIES, 45));
        conn.flush().await.unwrap();
        let (tcp, leftover) = conn.into_parts();
        assert!(leftover.is_empty());
        let connector = tokio_rustls::TlsConnector::from(insecure_client_config());
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        let mut conn = PacketConn::new(tls, HANDSHAKE_MAX_PACKET);
        conn.set_seq(2);
        let login = ClientLogin {
            user: "app",
            password: "secret",
            database: None,
            capabilities: SERVER_CAPABILITIES,
            charset: 45,
        };
        let info = client_authenticate(&mut conn, &handshake, &login, true).await;
        // greeting 0, SSL request 1, response 2, "full auth" 3, password 4, OK 5.
        (info, conn.seq())
    };
    let (server, (client, next_seq)) = tokio::join!(server, client);
    assert_eq!(server.unwrap().plugin, AuthPlugin::CachingSha2Password);
    client.unwrap();
    assert_eq!(next_seq, 6);
    assert!(cache.contains("app", b"secret"));
}

// ---- COM_CHANGE_USER ----

/// Runs `authenticate_change_user` on the server end for whatever the script sends.
async fn change_user_scripted<F, Fut>(
    account: Account,
    script: F,
) -> Result<Authenticated, AuthError>
where
    F: FnOnce(Script) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let cache = FastAuthCache::new();
    let (client, server) = tokio::io::duplex(64 * 1024);
    let serve = async {
        let mut conn = PacketConn::new(server, HANDSHAKE_MAX_PACKET);
        let packet = conn.read_packet().await?;
        let request = ChangeUser::decode(&packet.payload, SERVER_CAPABILITIES)?;
        let result = authenticate_change_user(
            &mut conn,
            &SCRAMBLE,
            &request,
            account.credential().as_ref(),
            false,
            &cache,
        )
        .await;
        reply(&mut conn, &request.user, &result).await;
        result
    };
    let conn = PacketConn::new(client, HANDSHAKE_MAX_PACKET);
    let (result, ()) = tokio::join!(serve, script(Script { conn }));
    result
}

fn change_user(plugin: AuthPlugin, password: &[u8]) -> Vec<u8> {
    let request = ChangeUser {
        user: "other".into(),
        auth_response: plugin.scramble(&SCRAMBLE, password),
        database: Some("shop".into()),
        charset: Some(45),
        auth_plugin: Some(plugin.name().into()),
        attrs: vec![],
    };
    let mut buf = BytesMut::new();
    request.encode(&mut buf, SERVER_CAPABILITIES);
    assert_eq!(buf[0], com::CHANGE_USER);
    buf.to_vec()
}

#[tokio::test]
async fn change_user_is_verified_with_the_connections_scramble() {
    let result = change_user_scripted(APP_SECRET, |mut s| async move {
        s.send(&change_user(AuthPlugin::MysqlNativePassword, b"secret"))
            .await;
        assert_eq!(s.expect(1).await[0], OK_HEADER);
    })
    .await;
    result.unwrap();

    let result = change_user_scripted(APP_SECRET, |mut s| async move {
        s.send(&change_user(AuthPlugin::MysqlNativePassword, b"nope"))
            .await;
        let err = ErrPacket::decode(&s.expect(1).await).unwrap();
        assert_eq!(err, access_denied("other", "YES"));
    })
    .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn change_user_to_a_native_only_account_goes_through_an_auth_switch() {
    let native_only = Account {
        password: Some("secret"),
        required: Some(AuthPlugin::MysqlNativePassword),
    };
    let result = change_user_scripted(native_only, |mut s| async move {
        s.send(&change_user(AuthPlugin::CachingSha2Password, b"secret"))
            .await;
        let switch = s.expect(1).await;
        assert!(switch.starts_with(b"\xfemysql_native_password\0"));
        s.send(&native::scramble(&switch[23..43], b"secret")).await;
        assert_eq!(s.expect(3).await[0], OK_HEADER);
    })
    .await;
    assert_eq!(result.unwrap().plugin, AuthPlugin::MysqlNativePassword);
}

#[tokio::test]
async fn a_connection_that_closes_mid_exchange_is_a_disconnect_not_a_denial() {
    let cache = FastAuthCache::new();
    let result = scripted(APP_SECRET, &cache, |mut s| async move {
        s.send_response(&response(Some("mysql_clear_password"), vec![]))
            .await;
        s.expect(2).await;
        drop(s);
    })
    .await;
    let err = result.unwrap_err();
    assert!(err.is_disconnect(), "{err:?}");
}

// ---- stored verifiers ----

/// A server that authenticates against `credential` as stored (no clear password).
async fn login_stored(
    announced: AuthPlugin,
    credential: Credential,
    cache: &FastAuthCache,
    password: &str,
) -> (
    Result<Authenticated, AuthError>,
    Result<ServerInfo, ClientAuthError>,
) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let mut conn = PacketConn::new(client, HANDSHAKE_MAX_PACKET);
    let serve = async {
        let mut conn = PacketConn::new(server, HANDSHAKE_MAX_PACKET);
        conn.write_with(|buf| greeting(announced).encode(buf));
        conn.flush().await.unwrap();
        let packet = conn.read_packet().await?;
        let response = HandshakeResponse::decode(&packet.payload)?;
        let result = authenticate(
            &mut conn,
            &SCRAMBLE,
            &response,
            Some(&credential),
            false,
            cache,
        )
        .await;
        reply(&mut conn, &response.user, &result).await;
        result
    };
    let client = client_connect(
        &mut conn,
        "app",
        password,
        None,
        SERVER_CAPABILITIES,
        charset::UTF8MB4_GENERAL_CI,
    );
    tokio::join!(serve, client)
}

#[tokio::test]
async fn a_native_hash_alone_verifies_both_plugins_through_native() {
    // CREATE USER app IDENTIFIED BY PASSWORD '*14E6...' (= PASSWORD('secret')).
    let stored = Credential {
        native: verifier::parse_native_hash("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"),
        ..Credential::default()
    };
    let cache = FastAuthCache::new();
    for announced in [
        AuthPlugin::MysqlNativePassword,
        AuthPlugin::CachingSha2Password,
    ] {
        let (server, client) = login_stored(announced, stored.clone(), &cache, "secret").await;
        assert_eq!(
            server.unwrap().plugin,
            AuthPlugin::MysqlNativePassword,
            "{announced:?}"
        );
        client.unwrap();
        let (server, client) = login_stored(announced, stored.clone(), &cache, "secreT").await;
        assert!(server.is_err());
        assert_eq!(server_error(client), access_denied("app", "YES"));
    }
}

#[tokio::test]
async fn a_sha2_verifier_alone_switches_native_clients_to_caching_sha2_then_fast_auth() {
    let stored = Credential {
        sha2: Some(Sha2Verifier::generate(b"secret")),
        ..Credential::default()
    };
    let cache = FastAuthCache::new();
    let (server, client) = login_stored(
        AuthPlugin::MysqlNativePassword,
        stored.clone(),
        &cache,
        "secret",
    )
    .await;
    assert_eq!(server.unwrap().plugin, AuthPlugin::CachingSha2Password);
    client.unwrap();
    assert!(
        cache.contains("app", b"secret"),
        "full auth fills the cache"
    );

    let fast = scripted_with(stored.clone(), &cache, |mut s| async move {
        s.send_response(&response(
            Some(caching_sha2::NAME),
            caching_sha2::scramble(&SCRAMBLE, b"secret"),
        ))
        .await;
        assert_eq!(s.expect(2).await, [0x01, caching_sha2::FAST_AUTH_SUCCESS]);
        assert_eq!(s.expect(3).await[0], OK_HEADER);
    })
    .await;
    fast.unwrap();

    let (server, client) =
        login_stored(AuthPlugin::CachingSha2Password, stored, &cache, "wrong").await;
    assert!(server.is_err());
    assert_eq!(server_error(client), access_denied("app", "YES"));
}

#[tokio::test]
async fn a_changed_credential_is_not_served_from_the_fast_path() {
    let old = Credential::from_password("old");
    let cache = FastAuthCache::new();
    cache.insert("app", b"old", &old);
    // ALTER USER app IDENTIFIED BY 'new': the old password must go through full auth.
    let new = Credential::from_password("new");
    let (server, client) = login_stored(AuthPlugin::CachingSha2Password, new, &cache, "old").await;
    assert!(server.is_err());
    assert_eq!(server_error(client), access_denied("app", "YES"));
}

#[tokio::test]
async fn a_credential_without_any_verifier_admits_nobody() {
    let cache = FastAuthCache::new();
    for announced in [
        AuthPlugin::MysqlNativePassword,
        AuthPlugin::CachingSha2Password,
    ] {
        for password in ["", "x"] {
            let (server, _) =
                login_stored(announced, Credential::default(), &cache, password).await;
            assert!(server.is_err(), "{announced:?} {password:?}");
        }
    }
}

/// `scripted` against a stored credential.
async fn scripted_with<F, Fut>(
    credential: Credential,
    cache: &FastAuthCache,
    script: F,
) -> Result<Authenticated, AuthError>
where
    F: FnOnce(Script) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (client, server) = tokio::io::duplex(64 * 1024);
    let mut client = PacketConn::new(client, HANDSHAKE_MAX_PACKET);
    let serve = async {
        let mut conn = PacketConn::new(server, HANDSHAKE_MAX_PACKET);
        conn.write_with(|buf| greeting(AuthPlugin::MysqlNativePassword).encode(buf));
        conn.flush().await.unwrap();
        let packet = conn.read_packet().await?;
        let response = HandshakeResponse::decode(&packet.payload)?;
        let result = authenticate(
            &mut conn,
            &SCRAMBLE,
            &response,
            Some(&credential),
            false,
            cache,
        )
        .await;
        reply(&mut conn, &response.user, &result).await;
        result
    };
    let (result, ()) = tokio::join!(serve, async move {
        client.read_packet().await.unwrap();
        script(Script { conn: client }).await
    });
    result
}
