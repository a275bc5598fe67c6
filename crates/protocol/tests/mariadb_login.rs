//! Strata's client side (`handshake::client_connect`) logging in to a real MariaDB, started
//! here in a temporary directory. Fails, saying why, when MariaDB is not installed: CI
//! always has it, and a test that passes without MariaDB would prove nothing.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use strata_protocol::constants::{cap, charset, com, SERVER_CAPABILITIES};
use strata_protocol::handshake::{client_connect, ClientAuthError, ServerInfo};
use strata_protocol::packets::{decode_text_row, ErrPacket};
use strata_protocol::wire::Reader;
use strata_protocol::PacketConn;
use tokio::net::TcpStream;

/// A throwaway mariadbd; killed and deleted on drop.
struct Mariadb {
    child: Child,
    socket: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn sql(client: &Path, socket: &Path, statements: &str) -> Result<(), String> {
    let out = Command::new(client)
        .args(["--no-defaults", "-uroot", "--batch"])
        .arg(format!("--socket={}", socket.display()))
        .arg("-e")
        .arg(statements)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Installs and starts a MariaDB with the users the tests log in as.
///
/// # Panics
///
/// When MariaDB is not installed or does not start.
fn start_mariadb() -> Mariadb {
    let (Some(server), Some(install), Some(client)) = (
        find("mariadbd"),
        find("mariadb-install-db"),
        find("mariadb"),
    ) else {
        panic!(
            "this test needs MariaDB: mariadbd, mariadb-install-db or mariadb is not installed \
             (install mariadb-server and mariadb-client)"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let socket = dir.path().join("s.sock");
    let root = running_as_root();
    let mut cmd = Command::new(install);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ]);
    if root {
        cmd.arg("--user=root");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "mariadb-install-db failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(server);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--pid-file={}", dir.path().join("pid").display()))
        .arg(format!(
            "--log-error={}",
            dir.path().join("error.log").display()
        ))
        .args([
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=16M",
            "--performance-schema=OFF",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if root {
        cmd.arg("--user=root");
    }
    let child = cmd.spawn().unwrap();
    let db = Mariadb {
        child,
        socket,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while sql(&client, &db.socket, "SELECT 1").is_err() {
        assert!(
            Instant::now() < deadline,
            "mariadbd did not start within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    sql(
        &client,
        &db.socket,
        "CREATE DATABASE shop;
         CREATE USER 'strata'@'%' IDENTIFIED BY 'pw1';
         GRANT ALL ON shop.* TO 'strata'@'%';
         CREATE USER 'nopw'@'%';
         INSTALL SONAME 'auth_ed25519';
         CREATE USER 'ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('pw2');",
    )
    .unwrap();
    db
}

async fn connect(
    db: &Mariadb,
    user: &str,
    password: &str,
    database: Option<&str>,
) -> (PacketConn<TcpStream>, Result<ServerInfo, ClientAuthError>) {
    let tcp = TcpStream::connect(("127.0.0.1", db.port)).await.unwrap();
    let mut conn = PacketConn::new(tcp, 16 << 20);
    let result = client_connect(
        &mut conn,
        user,
        password,
        database,
        SERVER_CAPABILITIES,
        charset::UTF8MB4_GENERAL_CI,
    )
    .await;
    (conn, result)
}

fn refused(result: Result<ServerInfo, ClientAuthError>) -> ErrPacket {
    match result {
        Err(ClientAuthError::Server(err)) => err,
        other => panic!("expected MariaDB's ERR, got {other:?}"),
    }
}

/// Runs a one-row text query and returns the row's values.
async fn query_one_row(
    conn: &mut PacketConn<TcpStream>,
    info: &ServerInfo,
    sql: &str,
) -> Vec<Option<String>> {
    let mut payload = BytesMut::new();
    payload.extend_from_slice(&[com::QUERY]);
    payload.extend_from_slice(sql.as_bytes());
    conn.set_seq(0);
    conn.write_packet(&payload);
    conn.flush().await.unwrap();
    let head = conn.read_packet().await.unwrap();
    assert_ne!(
        head.payload[0],
        0xff,
        "query failed: {:?}",
        ErrPacket::decode(&head.payload)
    );
    let columns = Reader::new(&head.payload).lenenc("column count").unwrap() as usize;
    for _ in 0..columns {
        conn.read_packet().await.unwrap();
    }
    if info.capabilities & cap::DEPRECATE_EOF == 0 {
        conn.read_packet().await.unwrap();
    }
    let row = conn.read_packet().await.unwrap();
    let values = decode_text_row(&row.payload, columns)
        .unwrap()
        .into_iter()
        .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
        .collect();
    let end = conn.read_packet().await.unwrap();
    assert_eq!(end.payload[0], 0xfe, "one row only");
    values
}

#[tokio::test]
async fn strata_logs_in_to_mariadb_and_passes_refusals_on() {
    // start_mariadb's own panic message (printed above this one) says what is missing.
    let db = tokio::task::spawn_blocking(start_mariadb)
        .await
        .expect("starting MariaDB");

    // mysql_native_password with a default database; the session works afterwards.
    let (mut conn, result) = connect(&db, "strata", "pw1", Some("shop")).await;
    let info = result.unwrap();
    assert!(info.version.contains("MariaDB"), "{}", info.version);
    assert_ne!(info.connection_id, 0);
    assert_ne!(info.capabilities & cap::CONNECT_WITH_DB, 0);
    assert_eq!(info.capabilities & (cap::SSL | cap::COMPRESS), 0);
    assert_eq!(
        query_one_row(&mut conn, &info, "SELECT CURRENT_USER(), DATABASE()").await,
        vec![Some("strata@%".to_string()), Some("shop".to_string())]
    );

    // A wrong password: MariaDB's ERR comes back untouched (and Strata words its own
    // refusals the same way).
    let (_, result) = connect(&db, "strata", "nope", None).await;
    assert_eq!(
        refused(result),
        ErrPacket {
            code: 1045,
            state: *b"28000",
            message: "Access denied for user 'strata'@'127.0.0.1' (using password: YES)".into(),
        }
    );
    let (_, result) = connect(&db, "strata", "", None).await;
    assert_eq!(
        refused(result).message,
        "Access denied for user 'strata'@'127.0.0.1' (using password: NO)"
    );

    // An account without a password.
    let (mut conn, result) = connect(&db, "nopw", "", None).await;
    let info = result.unwrap();
    assert_eq!(
        query_one_row(&mut conn, &info, "SELECT CURRENT_USER()").await,
        vec![Some("nopw@%".to_string())]
    );

    // A database the user may not open.
    let (_, result) = connect(&db, "nopw", "", Some("shop")).await;
    assert_eq!(refused(result).code, 1044);

    // An ed25519 account: MariaDB switches plugins, and Strata says it cannot follow.
    let (_, result) = connect(&db, "ed", "pw2", None).await;
    assert!(
        matches!(&result, Err(ClientAuthError::UnsupportedPlugin(p)) if p == "client_ed25519"),
        "{result:?}"
    );
}
