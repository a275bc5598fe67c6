//! A client that closes its connection while its statement waits on a storage node:
//! the compute node interrupts the statement there, as MariaDB stops a statement whose
//! client went away (mariadb-test's dirty_close: a `GET_LOCK` wait left behind kept the
//! lock's queue, and the storage connection, busy for an hour).

mod common;

use std::time::{Duration, Instant};

use common::TestResult;
use mysql_async::prelude::*;

/// How many statements `text` the storage node is running.
async fn running(direct: &mut mysql_async::Conn, text: &str) -> TestResult<i64> {
    let n: Option<i64> = direct
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = ?",
            (text,),
        )
        .await?;
    Ok(n.unwrap_or(0))
}

/// Waits up to `limit` for `text` to be running (`want` true) or gone; the count seen.
async fn wait_running(
    direct: &mut mysql_async::Conn,
    text: &str,
    want: bool,
    limit: Duration,
) -> TestResult<i64> {
    let start = Instant::now();
    loop {
        let n = running(direct, text).await?;
        if (n > 0) == want || start.elapsed() > limit {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_whose_client_closed_its_connection_is_interrupted() -> TestResult {
    let (node, mut other) = common::node_and_conn(1).await?;
    let storage = strata_testkit::shared_storage(1).await?;
    let mut direct = storage.connect(0, None).await?;
    let lock = format!("client_gone_{}", std::process::id());
    let holding: Option<i64> = direct
        .query_first(format!("SELECT GET_LOCK('{lock}', 0)"))
        .await?;
    assert_eq!(holding, Some(1));
    for waiting in [
        format!("SELECT GET_LOCK('{lock}', 3600)"),
        format!("SELECT SLEEP(3600) AS `{lock}`"),
    ] {
        let mut c = node.connect(Some("test")).await?;
        let sql = waiting.clone();
        let task = tokio::spawn(async move { c.query_drop(sql).await });
        let seen = wait_running(&mut direct, &waiting, true, Duration::from_secs(20)).await?;
        assert_eq!(seen, 1, "{waiting} never ran on the storage node");
        // The client goes away without COM_QUIT: its socket is closed under the query.
        task.abort();
        let left = wait_running(&mut direct, &waiting, false, Duration::from_secs(20)).await?;
        assert_eq!(left, 0, "{waiting} still runs on the storage node");
    }
    // The lock's queue is free and other sessions carry on.
    let released: Option<i64> = direct
        .query_first(format!("SELECT RELEASE_LOCK('{lock}')"))
        .await?;
    assert_eq!(released, Some(1));
    let one: Option<i64> = other.query_first("SELECT 1").await?;
    assert_eq!(one, Some(1));
    node.shutdown().await;
    Ok(())
}
