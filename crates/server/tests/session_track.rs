//! Session state tracking (CLIENT_SESSION_TRACK) seen through raw packets, compared
//! with a plain MariaDB: the schema after USE and after the current database is
//! dropped, tracked system variables after SET, and the tracking settings themselves;
//! `EXECUTE IMMEDIATE 'USE db'` and `PREPARE ... FROM 'USE db'` run as USE.

mod common;

use common::{assert_code, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_protocol::constants::{cap, charset, com, status};
use strata_protocol::packets::{ErrPacket, EOF_HEADER, ERR_HEADER, OK_HEADER};
use strata_protocol::session_track::StateEntry;
use strata_protocol::wire::Reader;
use strata_protocol::PacketConn;
use strata_testkit::{shared_storage, unique_name, ComputeNode, ROOT_PASSWORD, ROOT_USER};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CAPS: u32 = cap::CLIENT_REQUIRED | cap::TRANSACTIONS | cap::MULTI_RESULTS;

/// What a statement answered, as far as session tracking goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// An OK: whether DB_DROPPED was set, and the session state entries.
    Ok(bool, Vec<StateEntry>),
    /// A result set (its end carries no tracking here).
    Rows,
    /// An error code.
    Err(u16),
}

async fn login(
    addr: std::net::SocketAddr,
    user: &str,
    password: &str,
    caps: u32,
) -> Result<PacketConn<TcpStream>, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    let mut conn = PacketConn::new(stream, 1 << 24);
    strata_protocol::client_connect(
        &mut conn,
        user,
        password,
        None,
        caps,
        charset::UTF8MB4_GENERAL_CI,
    )
    .await?;
    Ok(conn)
}

/// The session state entries of an OK payload sent to a SESSION_TRACK client.
fn ok_reply(payload: &[u8]) -> Result<Reply, BoxError> {
    let mut r = Reader::new(payload);
    r.u8("header")?;
    r.lenenc("affected")?;
    r.lenenc("insert id")?;
    let flags = r.u16("status")?;
    r.u16("warnings")?;
    let mut entries = Vec::new();
    if flags & status::SESSION_STATE_CHANGED != 0 {
        r.lenenc_bytes("info")?;
        let block = r.lenenc_bytes("session state")?;
        entries = StateEntry::decode_all(block)?;
        assert_eq!(r.remaining(), 0, "nothing after the session state");
    }
    Ok(Reply::Ok(flags & status::DB_DROPPED != 0, entries))
}

async fn query(conn: &mut PacketConn<TcpStream>, sql: &str) -> Result<Reply, BoxError> {
    conn.set_seq(0);
    let mut payload = vec![com::QUERY];
    payload.extend_from_slice(sql.as_bytes());
    conn.write_packet(&payload);
    conn.flush().await?;
    let first = conn.read_packet().await?.payload;
    match first.first() {
        Some(&OK_HEADER) => ok_reply(&first),
        Some(&ERR_HEADER) => Ok(Reply::Err(ErrPacket::decode(&first)?.code)),
        _ => {
            // Column definitions, EOF, rows, EOF (no DEPRECATE_EOF).
            let mut eofs = 0;
            while eofs < 2 {
                let p = conn.read_packet().await?.payload;
                if p.first() == Some(&EOF_HEADER) && p.len() < 9 {
                    eofs += 1;
                }
            }
            Ok(Reply::Rows)
        }
    }
}

fn var(name: &str, value: &str) -> StateEntry {
    StateEntry::SystemVariable {
        name: name.into(),
        value: value.into(),
    }
}

/// The statements run on both servers (`DB` is the database's name there), and what
/// MariaDB 10.11 answers.
fn script() -> Vec<(&'static str, Reply)> {
    let schema = |db: &str| Reply::Ok(false, vec![StateEntry::Schema(db.into())]);
    let none = Reply::Ok(false, vec![]);
    let utf8 = |n: &str| var(n, "utf8mb3");
    vec![
        ("CREATE DATABASE DB", none.clone()),
        ("USE DB", schema("DB")),
        ("SELECT 1", Reply::Rows),
        (
            "SET NAMES utf8",
            Reply::Ok(
                false,
                vec![
                    utf8("character_set_client"),
                    utf8("character_set_connection"),
                    utf8("character_set_results"),
                ],
            ),
        ),
        (
            "SET autocommit=0",
            Reply::Ok(false, vec![var("autocommit", "OFF")]),
        ),
        (
            "SET @@session.autocommit=1, sql_mode=''",
            Reply::Ok(false, vec![var("autocommit", "ON")]),
        ),
        ("SET @u = 1", none.clone()),
        (
            "SET session_track_system_variables='sql_mode,time_zone'",
            none.clone(),
        ),
        (
            "SET time_zone='+01:00', autocommit=1",
            Reply::Ok(false, vec![var("time_zone", "+01:00")]),
        ),
        (
            "SET session_track_system_variables='bogus'",
            Reply::Err(1193),
        ),
        (
            "SET session_track_system_variables='*'",
            Reply::Ok(false, vec![var("session_track_system_variables", "*")]),
        ),
        (
            "SET sql_mode='ANSI_QUOTES'",
            Reply::Ok(false, vec![var("sql_mode", "ANSI_QUOTES")]),
        ),
        (
            "SET session_track_schema=OFF",
            Reply::Ok(false, vec![var("session_track_schema", "OFF")]),
        ),
        ("SET session_track_system_variables=DEFAULT", none.clone()),
        ("USE DB", none.clone()),
        ("SET session_track_schema=ON", none.clone()),
        ("EXECUTE IMMEDIATE 'USE DB'", schema("DB")),
        ("SET sql_mode=DEFAULT", none.clone()),
        (
            "DROP DATABASE DB",
            Reply::Ok(true, vec![StateEntry::Schema(String::new())]),
        ),
        ("SELECT 2", Reply::Rows),
        ("EXECUTE IMMEDIATE 'CREATE DATABASE DB'", none.clone()),
        ("USE DB", schema("DB")),
        (
            "EXECUTE IMMEDIATE 'DROP DATABASE DB'",
            Reply::Ok(true, vec![StateEntry::Schema(String::new())]),
        ),
    ]
}

/// `reply` with its system variables in name order: MariaDB sends several in the order
/// of a hash of its own (which varies between server starts), Strata in the order of
/// the tracked list.
fn sorted(reply: Reply) -> Reply {
    match reply {
        Reply::Ok(dropped, mut entries) => {
            entries.sort_by_key(|e| match e {
                StateEntry::SystemVariable { name, .. } => (0, name.clone()),
                _ => (1, String::new()),
            });
            Reply::Ok(dropped, entries)
        }
        other => other,
    }
}

async fn run_script(conn: &mut PacketConn<TcpStream>, db: &str) -> Result<(), BoxError> {
    for (sql, expected) in script() {
        let sql = sql.replace("DB", db);
        let expected = match expected {
            Reply::Ok(dropped, entries) => Reply::Ok(
                dropped,
                entries
                    .into_iter()
                    .map(|e| match e {
                        StateEntry::Schema(s) => StateEntry::Schema(s.replace("DB", db)),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        };
        assert_eq!(sorted(query(conn, &sql).await?), expected, "{sql}");
    }
    Ok(())
}

#[tokio::test]
async fn ok_packets_track_schema_and_variables_as_mariadb_does() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    // The reference: the same script on the plain storage server.
    let mut reference = login(
        storage.addr(0),
        storage.user(),
        storage.password(),
        CAPS | cap::SESSION_TRACK,
    )
    .await?;
    run_script(&mut reference, &unique_name("trackref")).await?;
    let mut strata = login(
        node.service_addr(),
        ROOT_USER,
        ROOT_PASSWORD,
        CAPS | cap::SESSION_TRACK,
    )
    .await?;
    run_script(&mut strata, &unique_name("track")).await?;
    // What Strata does not track is refused, not silently ignored.
    for sql in [
        "SET session_track_state_change=ON",
        "SET session_track_transaction_info='STATE'",
        "SET GLOBAL session_track_state_change=1",
    ] {
        assert_eq!(query(&mut strata, sql).await?, Reply::Err(1235), "{sql}");
    }
    assert_eq!(
        query(&mut strata, "SET session_track_state_change=OFF").await?,
        Reply::Ok(false, vec![])
    );
    // Without SESSION_TRACK: the same OK packets as before, DB_DROPPED included.
    let mut plain = login(node.service_addr(), ROOT_USER, ROOT_PASSWORD, CAPS).await?;
    let db = unique_name("trackplain");
    query(&mut plain, &format!("CREATE DATABASE {db}")).await?;
    assert_eq!(
        query(&mut plain, &format!("USE {db}")).await?,
        Reply::Ok(false, vec![])
    );
    assert_eq!(
        query(&mut plain, "SET autocommit=0").await?,
        Reply::Ok(false, vec![])
    );
    assert_eq!(
        query(&mut plain, &format!("DROP DATABASE {db}")).await?,
        Reply::Ok(true, vec![])
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn execute_immediate_and_prepare_of_use_run_as_use() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut c = Conn::new(node.opts(None)).await?;
    let db = unique_name("trackuse");
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("EXECUTE IMMEDIATE 'USE {db}'"))
        .await?;
    let current: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(current.as_deref(), Some(db.as_str()));
    c.query_drop("PREPARE s FROM 'USE test'").await?;
    c.query_drop("EXECUTE s").await?;
    let current: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(current.as_deref(), Some("test"));
    c.query_drop(format!("EXECUTE IMMEDIATE CONCAT('USE ', '{db}')"))
        .await?;
    let current: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(current.as_deref(), Some(db.as_str()));
    // MariaDB's errors: an unknown database, parameters USE does not take.
    let e = c
        .query_drop("EXECUTE IMMEDIATE 'USE strata_no_such_db'")
        .await
        .expect_err("unknown database");
    assert_code(&e, 1049);
    let e = c
        .query_drop("EXECUTE IMMEDIATE 'USE test' USING 1")
        .await
        .expect_err("USING");
    assert_code(&e, 1210);
    let e = c.query_drop("EXECUTE s USING 1").await.expect_err("USING");
    assert_code(&e, 1210);
    let current: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(
        current.as_deref(),
        Some(db.as_str()),
        "failed USE changed nothing"
    );
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    // A database's DDL runs as itself (the catalog's), not on a storage node.
    c.query_drop(format!("PREPARE d FROM 'CREATE DATABASE {db}'"))
        .await?;
    c.query_drop("EXECUTE d").await?;
    let listed: Vec<String> = c.query(format!("SHOW DATABASES LIKE '{db}'")).await?;
    assert_eq!(listed, vec![db.clone()]);
    c.query_drop(format!("EXECUTE IMMEDIATE 'DROP DATABASE {db}'"))
        .await?;
    let listed: Vec<String> = c.query(format!("SHOW DATABASES LIKE '{db}'")).await?;
    assert!(listed.is_empty(), "dropped from the catalog");
    node.shutdown().await;
    Ok(())
}
