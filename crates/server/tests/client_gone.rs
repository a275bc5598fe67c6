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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_list_shows_what_a_waiting_statement_waits_for() -> TestResult {
    // dirty_close, concurrent_innodb_*: scripts wait for `STATE = 'User lock'` in the
    // process list; Strata showed an empty State for every session.
    let (node, mut watcher) = common::node_and_conn(1).await?;
    let storage = strata_testkit::shared_storage(1).await?;
    let mut direct = storage.connect(0, None).await?;
    let lock = format!("process_state_{}", std::process::id());
    let holding: Option<i64> = direct
        .query_first(format!("SELECT GET_LOCK('{lock}', 0)"))
        .await?;
    assert_eq!(holding, Some(1));
    let mut c = node.connect(Some("test")).await?;
    let id: Option<u64> = c.query_first("SELECT CONNECTION_ID()").await?;
    let waiting = format!("SELECT GET_LOCK('{lock}', 60)");
    let sql = waiting.clone();
    let task = tokio::spawn(async move {
        let got: Result<Option<i64>, _> = c.query_first(sql).await;
        got
    });
    let count = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE = 'User lock' AND INFO = \"{waiting}\""
    );
    let start = Instant::now();
    let mut seen: Option<i64> = Some(0);
    while seen != Some(1) && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = watcher.query_first(count.as_str()).await?;
    }
    assert_eq!(seen, Some(1), "no session shown waiting on the user lock");
    let rows: Vec<mysql_async::Row> = watcher.query("SHOW PROCESSLIST").await?;
    let state = rows.iter().find_map(|r| {
        let row_id: Option<u64> = r.get(0);
        (row_id == id).then(|| r.get::<String, _>(6)).flatten()
    });
    assert_eq!(state.as_deref(), Some("User lock"));
    let released: Option<i64> = direct
        .query_first(format!("SELECT RELEASE_LOCK('{lock}')"))
        .await?;
    assert_eq!(released, Some(1));
    assert_eq!(task.await??, Some(1));
    // An idle session's State is empty, as MariaDB shows a sleeping thread's.
    let idle: Option<i64> = watcher
        .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE <> '' AND INFO IS NULL")
        .await?;
    assert_eq!(idle, Some(0));
    node.shutdown().await;
    Ok(())
}
