//! Graceful shutdown of a compute node with clients connected: idle sessions are
//! closed, a statement in progress finishes within the grace period or is cut off,
//! open transactions are rolled back on the storage node, and the session worker
//! threads are joined. One test in this file, so the worker-thread count it reads from
//! /proc is not disturbed by another compute node of the same process.

mod common;

use common::TestResult;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_server::RunningServer;
use strata_testkit::{
    mysql_opts, shared_storage, unique_name, ComputeNode, ROOT_PASSWORD, ROOT_USER,
};

/// Threads of this process whose name says they are session workers.
fn worker_threads() -> std::io::Result<usize> {
    let mut n = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let comm = std::fs::read_to_string(task?.path().join("comm")).unwrap_or_default();
        if comm.starts_with("strata-worker") {
            n += 1;
        }
    }
    Ok(n)
}

/// The worker-thread count once it settles at `expected` (a new thread names itself
/// once it runs), or what it is after a second.
async fn worker_threads_settled(expected: usize) -> std::io::Result<usize> {
    for _ in 0..50 {
        if worker_threads()? == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker_threads()
}

/// Waits at most `limit` for `f`; a hang is a test failure, not a stuck test.
async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .expect("the client was left hanging")
}

/// The raw reply to `GET /health` on the HTTP port `addr`.
async fn health(addr: std::net::SocketAddr) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: x\r\n\r\n")
        .await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

#[tokio::test]
async fn shutdown_reports_offline_closes_sessions_rolls_back_and_joins_the_workers_in_the_grace_period(
) -> TestResult {
    let storage = shared_storage(1).await?;
    let (config, _dir) = ComputeNode::builder(&storage)
        .configure(|c| c.server.worker_threads = 2)
        .build_config()
        .await?;
    let physical = config
        .data_nodes
        .first()
        .map(|dn| dn.primary.database.clone())
        .ok_or("no data node")?;
    let server = RunningServer::start(config).await?;
    assert_eq!(worker_threads_settled(2).await?, 2);
    let opts = mysql_opts(
        server.service_addr(),
        ROOT_USER,
        ROOT_PASSWORD,
        Some("test"),
    );

    let table = unique_name("shutdown");
    let mut setup = Conn::new(opts.clone()).await?;
    setup
        .query_drop(format!("CREATE TABLE {table} (id INT PRIMARY KEY)"))
        .await?;
    setup.disconnect().await?;

    let mut idle = Conn::new(opts.clone()).await?;
    let mut in_txn = Conn::new(opts.clone()).await?;
    in_txn.query_drop("BEGIN").await?;
    in_txn
        .query_drop(format!("INSERT INTO {table} VALUES (1)"))
        .await?;
    let mut short = Conn::new(opts.clone()).await?;
    let short = tokio::spawn(async move {
        let slept: Result<Option<i64>, _> = short.query_first("SELECT SLEEP(0.6)").await;
        let after = short.ping().await;
        (slept, after)
    });
    let mut long = Conn::new(opts.clone()).await?;
    let long = tokio::spawn(async move {
        let slept: Result<Option<i64>, _> = long.query_first("SELECT SLEEP(30)").await;
        slept
    });
    // Both statements are running on the storage node before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let grace = Duration::from_millis(1500);
    let http = server.http_addr();
    assert!(health(http).await?.contains(" 200 OK"));
    let started = Instant::now();
    let stopping = tokio::spawn(server.shutdown_within(grace));
    // While the short statement drains, the health check says offline (a load
    // balancer takes the node out) and a new connection is refused.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let draining = health(http).await?;
    assert!(
        draining.contains(" 503 ") && draining.contains("offline"),
        "{draining}"
    );
    assert!(Conn::new(opts.clone()).await.is_err());
    let report = stopping.await?;
    let took = started.elapsed();
    assert!(
        health(http).await.is_err(),
        "the HTTP port closes at the end"
    );

    assert!(
        took < grace + Duration::from_secs(2),
        "shutdown took {took:?} with a grace period of {grace:?}"
    );
    assert_eq!(report.workers_joined, 2);
    assert!(report.all_tasks_ended);
    assert_eq!(worker_threads()?, 0, "worker threads left running");

    let (slept, after) = within(Duration::from_secs(5), short).await?;
    assert_eq!(
        slept?,
        Some(0),
        "a statement shorter than the grace period finishes"
    );
    assert!(
        after.is_err(),
        "the connection is closed after the statement"
    );
    assert!(
        within(Duration::from_secs(5), long).await?.is_err(),
        "a statement longer than the grace period is cut off"
    );
    assert!(within(Duration::from_secs(5), idle.ping()).await.is_err());
    assert!(within(Duration::from_secs(5), in_txn.ping()).await.is_err());

    // The open transaction's row lock is gone and its row was never committed: the
    // same key can be inserted at once, directly on the storage node.
    let direct = mysql_opts(
        storage.addr(0),
        storage.user(),
        storage.password(),
        Some(&physical),
    );
    let mut direct = Conn::new(direct).await?;
    direct
        .query_drop("SET SESSION innodb_lock_wait_timeout = 2")
        .await?;
    direct
        .query_drop(format!("INSERT INTO {table} VALUES (1)"))
        .await?;
    direct.query_drop(format!("DROP TABLE {table}")).await?;
    Ok(())
}
