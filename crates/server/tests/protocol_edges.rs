//! Protocol-level behaviour seen through raw packets and through TLS: unknown commands,
//! malformed input, statements of comments only, COM_FIELD_LIST / COM_STATISTICS, TLS
//! and caching_sha2_password.

mod common;

use common::{node_and_conn, TestResult};
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, OptsBuilder, SslOpts};
use strata_catalog::config::{TlsConfig, UserConfig};
use strata_protocol::constants::{cap, charset, com};
use strata_protocol::packets::{ErrPacket, ERR_HEADER};
use strata_protocol::PacketConn;
use strata_testkit::{shared_storage, ComputeNode, ROOT_PASSWORD, ROOT_USER};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CLIENT_CAPS: u32 = cap::CLIENT_REQUIRED | cap::CONNECT_WITH_DB | cap::TRANSACTIONS;

async fn raw_login(
    addr: std::net::SocketAddr,
) -> Result<PacketConn<TcpStream>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(addr).await?;
    let mut conn = PacketConn::new(stream, 1 << 24);
    strata_protocol::client_connect(
        &mut conn,
        ROOT_USER,
        ROOT_PASSWORD,
        Some("test"),
        CLIENT_CAPS,
        charset::UTF8MB4_GENERAL_CI,
    )
    .await?;
    Ok(conn)
}

async fn command(
    conn: &mut PacketConn<TcpStream>,
    cmd: u8,
    body: &[u8],
) -> Result<bytes::Bytes, Box<dyn std::error::Error + Send + Sync>> {
    conn.set_seq(0);
    let mut payload = vec![cmd];
    payload.extend_from_slice(body);
    conn.write_packet(&payload);
    conn.flush().await?;
    Ok(conn.read_packet().await?.payload)
}

#[tokio::test]
async fn unknown_commands_get_error_1047_and_the_session_goes_on() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut conn = raw_login(node.service_addr()).await?;
    for unknown in [0x00u8, 0x05, 0x08, 0x1d, 0x20, 0x7f, 0xfe] {
        let reply = command(&mut conn, unknown, b"xyz").await?;
        assert_eq!(reply.first(), Some(&ERR_HEADER), "command {unknown:#x}");
        let err = ErrPacket::decode(&reply)?;
        assert_eq!(
            (err.code, err.state_str(), err.message.as_str()),
            (1047, "08S01", "Unknown command")
        );
    }
    let pong = command(&mut conn, com::PING, b"").await?;
    assert_eq!(pong.first(), Some(&0u8), "the session still answers");
    let stats = command(&mut conn, com::STATISTICS, b"").await?;
    assert!(
        String::from_utf8_lossy(&stats).starts_with("Uptime: "),
        "COM_STATISTICS is a status line"
    );
    node.shutdown().await;
    Ok(())
}

/// `sql`'s error code on `c`, None when it succeeds.
async fn error_code(c: &mut Conn, sql: &str) -> Option<u16> {
    match c.query_drop(sql).await {
        Ok(()) => None,
        Err(mysql_async::Error::Server(e)) => Some(e.code),
        Err(e) => panic!("{sql}: {e}"),
    }
}

#[tokio::test]
async fn a_statement_of_comments_only_is_ok_as_in_mariadb() -> TestResult {
    let storage = shared_storage(4).await?;
    let mut direct = Conn::new(storage.opts(0, None)).await?;
    assert_eq!(
        error_code(&mut direct, "/* c */").await,
        None,
        "MariaDB: OK"
    );
    assert_eq!(
        error_code(&mut direct, "").await,
        Some(1065),
        "MariaDB: empty"
    );
    for nodes in [1, 4] {
        let node = ComputeNode::on_shared_storage(nodes).await?;
        let mut c = node.connect(Some("test")).await?;
        for sql in [
            "/* line with only comment */",
            "-- a line comment\n",
            "# another\n/* and a block */ ",
            "/*!99999 SELECT 1 */",
            "",
            "   ",
        ] {
            let expected = error_code(&mut direct, sql).await;
            assert_eq!(
                error_code(&mut c, sql).await,
                expected,
                "{nodes} nodes: {sql:?}"
            );
        }
        let one: Option<i64> = c.query_first("SELECT 1 /* the session goes on */").await?;
        assert_eq!(one, Some(1));
        node.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn field_list_lists_a_tables_columns() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    c.query_drop("CREATE TABLE fl (a INT, b VARCHAR(3))")
        .await?;
    let mut conn = raw_login(node.service_addr()).await?;
    let first = command(&mut conn, com::FIELD_LIST, b"fl\0").await?;
    let mut names = vec![strata_protocol::packets::ColumnDef::decode(&first)?.name];
    loop {
        let p = conn.read_packet().await?.payload;
        if strata_protocol::packets::is_eof(&p) {
            break;
        }
        let def = strata_protocol::packets::ColumnDef::decode(&p)?;
        assert_eq!(
            def.schema, "test",
            "the logical database, not the physical one"
        );
        names.push(def.name);
    }
    assert_eq!(names, vec!["a".to_string(), "b".to_string()]);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn malformed_input_closes_only_the_offending_connection() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut healthy = node.connect(Some("test")).await?;

    // Garbage instead of a handshake response.
    let mut s = TcpStream::connect(node.service_addr()).await?;
    let mut conn = PacketConn::new(&mut s, 1 << 20);
    conn.read_packet().await?;
    conn.set_seq(1);
    conn.write_packet(&[1, 2, 3]);
    conn.flush().await?;
    let reply = conn.read_packet().await?.payload;
    assert_eq!(reply.first(), Some(&ERR_HEADER));
    assert!(
        conn.read_packet().await.is_err(),
        "the connection is closed after a bad handshake"
    );

    // A truncated COM_STMT_EXECUTE and a frame claiming more bytes than arrive.
    let mut conn = raw_login(node.service_addr()).await?;
    let reply = command(&mut conn, com::STMT_EXECUTE, &[1]).await?;
    assert_eq!(reply.first(), Some(&ERR_HEADER));
    let mut raw = TcpStream::connect(node.service_addr()).await?;
    raw.write_all(&[0xff, 0xff, 0xff, 0x00, 0x03]).await?;
    drop(raw);

    let one: Option<i64> = healthy.query_first("SELECT 1").await?;
    assert_eq!(one, Some(1), "other sessions carry on");
    node.shutdown().await;
    Ok(())
}

fn tls_opts(addr: std::net::SocketAddr, user: &str, password: &str, tls: bool) -> Opts {
    let mut b = OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        .user(Some(user))
        .pass(Some(password))
        .db_name(Some("test"))
        .prefer_socket(false);
    if tls {
        b = b.ssl_opts(Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ));
    }
    Opts::from(b)
}

#[tokio::test]
async fn tls_and_caching_sha2_password_logins_work() -> TestResult {
    let storage = shared_storage(1).await?;
    let certs = tempfile::tempdir()?;
    let cert = certs.path().join("cert.pem");
    let key = certs.path().join("key.pem");
    strata_protocol::tls::generate_self_signed(&cert, &key, &["localhost", "127.0.0.1"])?;
    let node = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.server.tls = Some(TlsConfig { cert, key });
            c.users.push(UserConfig {
                name: "sha2".into(),
                host: None,
                password: "s3cret".into(),
                password_hash: None,
                databases: None,
                auth_plugin: Some("caching_sha2_password".into()),
            });
        })
        .start()
        .await?;
    let addr = node.service_addr();

    // Native password over TLS.
    let mut c = Conn::new(tls_opts(addr, ROOT_USER, ROOT_PASSWORD, true)).await?;
    let one: Option<i64> = c.query_first("SELECT 1").await?;
    assert_eq!(one, Some(1));

    // caching_sha2: full authentication via RSA without TLS, then the fast path.
    for attempt in 0..2 {
        let mut c = Conn::new(tls_opts(addr, "sha2", "s3cret", false)).await?;
        let user: Option<String> = c.query_first("SELECT CURRENT_USER()").await?;
        assert_eq!(user.as_deref(), Some("sha2@%"), "attempt {attempt}");
    }
    // caching_sha2 full authentication over TLS.
    let mut c = Conn::new(tls_opts(addr, "sha2", "s3cret", true)).await?;
    let two: Option<i64> = c.query_first("SELECT 2").await?;
    assert_eq!(two, Some(2));

    let err = Conn::new(tls_opts(addr, "sha2", "wrong", false))
        .await
        .expect_err("wrong password");
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1045),
        other => panic!("expected 1045, got {other:?}"),
    }
    node.shutdown().await;
    Ok(())
}

/// The one value of `sql`'s one-row, one-column result on a raw connection (a text
/// result without DEPRECATE_EOF: count, column, EOF, row, EOF).
async fn raw_value(
    conn: &mut PacketConn<TcpStream>,
    sql: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let head = command(conn, com::QUERY, sql.as_bytes()).await?;
    if head.first() == Some(&ERR_HEADER) {
        return Err(ErrPacket::decode(&head)?.message.into());
    }
    let _column = conn.read_packet().await?;
    let _eof = conn.read_packet().await?;
    let row = conn.read_packet().await?.payload;
    let _end = conn.read_packet().await?;
    // One length-encoded string shorter than 251 bytes.
    let len = usize::from(*row.first().ok_or("empty row")?);
    let value = row.get(1..1 + len).ok_or("short row")?;
    Ok(String::from_utf8_lossy(value).into_owned())
}

/// MariaDB's COM_RESET_CONNECTION returns the session to the character set the client
/// announced in its handshake (reset_connection.test), not to the server's.
#[tokio::test]
async fn reset_connection_returns_to_the_handshake_character_set() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let stream = TcpStream::connect(node.service_addr()).await?;
    let mut conn = PacketConn::new(stream, 1 << 24);
    strata_protocol::client_connect(
        &mut conn,
        ROOT_USER,
        ROOT_PASSWORD,
        Some("test"),
        CLIENT_CAPS,
        8, // latin1_swedish_ci
    )
    .await?;
    assert_eq!(
        raw_value(&mut conn, "SELECT @@character_set_client").await?,
        "latin1"
    );
    let ok = command(&mut conn, com::QUERY, b"SET NAMES utf8mb3").await?;
    assert_eq!(ok.first(), Some(&0u8));
    let ok = command(&mut conn, com::RESET_CONNECTION, b"").await?;
    assert_eq!(ok.first(), Some(&0u8), "COM_RESET_CONNECTION is OK");
    assert_eq!(
        raw_value(&mut conn, "SELECT @@character_set_client").await?,
        "latin1"
    );
    node.shutdown().await;
    Ok(())
}
