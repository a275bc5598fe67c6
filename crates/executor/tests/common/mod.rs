//! A throwaway MariaDB for the executor's differential tests, and a raw text-protocol
//! client that returns what a data node sends Strata: column definitions and row
//! payloads, byte for byte.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use strata_localnode::{find_binary, free_port, MariadbNode, MariadbOptions};
use strata_protocol::constants::{cap, charset, com};
use strata_protocol::packets::{is_eof, ColumnDef, ErrPacket};
use strata_protocol::wire::Reader;
use strata_protocol::PacketConn;
use tokio::net::TcpStream;

/// A MariaDB started in a temporary directory; stopped when the test ends.
pub struct Node {
    pub node: MariadbNode,
    _dir: tempfile::TempDir,
}

/// Starts MariaDB with a `test` database.
///
/// # Panics
///
/// When MariaDB is not installed or does not start: these tests prove the merge against
/// MariaDB, so passing without one would prove nothing (CI always has it).
pub async fn start() -> Node {
    if let Err(err) = find_binary("mariadbd", "mariadb-server") {
        panic!("this test needs MariaDB (install mariadb-server): {err}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port().expect("port");
    let node = MariadbNode::start(MariadbOptions::new(dir.path().join("dn"), port))
        .await
        .unwrap_or_else(|err| panic!("this test needs MariaDB, which did not start: {err}"));
    node.ensure_databases(&["test"]).await.expect("database");
    Node { node, _dir: dir }
}

/// A client connection speaking the text protocol with classic EOF packets.
pub struct RawClient {
    conn: PacketConn<TcpStream>,
}

/// One result set as received.
pub struct ResultSet {
    pub columns: Vec<ColumnDef>,
    pub rows: Vec<Bytes>,
}

impl RawClient {
    /// Logs in to `node` as the Strata account with `database` selected and utf8mb4.
    pub async fn connect(node: &MariadbNode, database: &str) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", node.port()))
            .await
            .expect("tcp");
        let mut conn = PacketConn::new(stream, 1 << 24);
        let caps = cap::CLIENT_REQUIRED | cap::LONG_FLAG | cap::CONNECT_WITH_DB | cap::TRANSACTIONS;
        strata_protocol::client_connect(
            &mut conn,
            &node.options().user,
            &node.options().password,
            Some(database),
            caps,
            charset::UTF8MB4_GENERAL_CI,
        )
        .await
        .expect("login");
        RawClient { conn }
    }

    async fn send(&mut self, sql: &str) {
        let mut payload = BytesMut::new();
        payload.extend_from_slice(&[com::QUERY]);
        payload.extend_from_slice(sql.as_bytes());
        self.conn.set_seq(0);
        self.conn.write_packet(&payload);
        self.conn.flush().await.expect("send");
    }

    /// Runs a statement that returns no rows.
    pub async fn execute(&mut self, sql: &str) {
        self.send(sql).await;
        let reply = self.conn.read_packet().await.expect("reply").payload;
        if reply.first() == Some(&0xff) {
            panic!("{sql}: {:?}", ErrPacket::decode(&reply));
        }
        assert_eq!(reply.first(), Some(&0x00), "{sql}: expected OK");
    }

    /// Runs a query and returns its columns and row payloads.
    pub async fn query(&mut self, sql: &str) -> ResultSet {
        self.send(sql).await;
        let head = self.conn.read_packet().await.expect("reply").payload;
        if head.first() == Some(&0xff) {
            panic!("{sql}: {:?}", ErrPacket::decode(&head));
        }
        let count = Reader::new(&head).lenenc("column count").expect("count") as usize;
        let mut columns = Vec::with_capacity(count);
        for _ in 0..count {
            let def = self.conn.read_packet().await.expect("column").payload;
            columns.push(ColumnDef::decode(&def).expect("column definition"));
        }
        let eof = self.conn.read_packet().await.expect("eof").payload;
        assert!(is_eof(&eof), "{sql}: EOF after columns");
        let mut rows = Vec::new();
        loop {
            let packet = self.conn.read_packet().await.expect("row").payload;
            if is_eof(&packet) {
                break;
            }
            if packet.first() == Some(&0xff) {
                panic!("{sql}: {:?}", ErrPacket::decode(&packet));
            }
            rows.push(packet);
        }
        ResultSet { columns, rows }
    }
}
