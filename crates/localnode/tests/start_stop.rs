//! A real `mariadbd` started in a temporary directory: start, query, crash, restart, stop.

use std::net::SocketAddr;
use std::time::Duration;

use strata_localnode::{
    free_port, wait_for_mysql_handshake, LocalNodeError, MariadbNode, MariadbOptions,
};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[tokio::test]
async fn node_starts_serves_survives_a_crash_and_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port().expect("port");
    let mut node = MariadbNode::start(MariadbOptions::new(dir.path().join("dn1"), port))
        .await
        .expect("mariadbd starts");
    assert_eq!(node.port(), port);
    assert!(wait_for_mysql_handshake(addr(port), Duration::from_secs(5)).await);

    node.ensure_databases(&["test", "other db"])
        .await
        .expect("databases");
    let out = node
        .execute_sql(
            "CREATE TABLE test.t (id INT PRIMARY KEY, v VARCHAR(10)); \
             INSERT INTO test.t VALUES (1, 'one'); \
             SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1), @@character_set_server, @@collation_server, v FROM test.t;",
        )
        .await
        .expect("sql as the strata account");
    assert_eq!(out, "strata\tutf8mb4\tutf8mb4_general_ci\tone\n");

    // A second server on the same data directory is refused quickly.
    let again = MariadbNode::start(MariadbOptions::new(
        node.datadir(),
        free_port().expect("port"),
    ))
    .await;
    assert!(
        matches!(again, Err(LocalNodeError::AlreadyRunning { .. })),
        "{again:?}"
    );

    node.kill().await.expect("kill");
    assert!(!node.is_running());
    assert!(!wait_for_mysql_handshake(addr(port), Duration::from_secs(1)).await);

    node.restart().await.expect("restart after crash");
    let out = node
        .execute_sql("SELECT v FROM test.t")
        .await
        .expect("select");
    assert_eq!(out, "one\n", "committed data survives kill -9");

    node.stop().await.expect("graceful stop");
    assert!(!wait_for_mysql_handshake(addr(port), Duration::from_secs(1)).await);

    // Starting again on the existing data directory reuses it.
    let mut node = MariadbNode::start(MariadbOptions::new(dir.path().join("dn1"), port))
        .await
        .expect("restart on existing datadir");
    let out = node
        .execute_sql("SELECT COUNT(*) FROM test.t")
        .await
        .expect("select");
    assert_eq!(out, "1\n");
    node.stop().await.expect("stop");
}

#[tokio::test]
async fn a_taken_port_is_reported_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let err = MariadbNode::start(MariadbOptions::new(dir.path().join("dn"), port))
        .await
        .expect_err("port is taken");
    assert!(err.is_port_in_use(), "{err}");
}
