//! One data node's storage server is down: clients still connect, and every statement
//! that does not need that node still runs. Connecting must never depend on every data
//! node being up (one dead storage server would otherwise take the whole service down
//! for new clients).

use std::time::Duration;

use mysql_async::prelude::*;
use strata_testkit::{ComputeNode, StorageNodes};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// Two storage nodes of their own (the tests kill one), a compute node that gives up
/// on a dead one quickly, a session, and `table` (name and columns) sharded by
/// auto_mod on `id` over both: even ids on data node 1, odd ids on data node 2.
async fn two_nodes_with(
    table: &str,
) -> Result<(StorageNodes, ComputeNode, mysql_async::Conn), Box<dyn std::error::Error + Send + Sync>>
{
    let storage = StorageNodes::start(2).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| {
            c.pool.connect_timeout_ms = 500;
            c.pool.acquire_timeout_ms = 1000;
        })
        .start()
        .await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(format!(
        "CREATE TABLE {table} SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-2'"
    ))
    .await?;
    Ok((storage, node, c))
}

/// Waits until the compute node's heartbeat reports data node `dnid`'s storage server
/// down (`SHOW @@DATASOURCE` on the admin port).
async fn wait_seen_down(node: &ComputeNode, dnid: u32) -> TestResult {
    let mut admin = mysql_async::Conn::new(node.admin_opts()).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows: Vec<mysql_async::Row> = admin.query("SHOW @@DATASOURCE").await?;
        let down = rows.iter().any(|r| {
            r.get::<u32, _>("dnid") == Some(dnid)
                && r.get::<String, _>("status").as_deref() == Some("down")
        });
        if down {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("data node {dnid} not reported down within 10 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Data node 1 (the database's first, where statements without a table go) or data
/// node 2 is killed; new sessions log in, answer statements without a table, and reach
/// the rows of the live node; the dead node's rows get a storage error.
#[tokio::test]
async fn sessions_start_and_run_on_the_live_nodes_while_one_is_down() -> TestResult {
    for dead in [0usize, 1] {
        let (mut storage, node, mut c) =
            two_nodes_with("kv (id INT PRIMARY KEY, v VARCHAR(10))").await?;
        // auto_mod over [1, 2]: even ids on data node 1, odd ids on data node 2.
        c.query_drop("INSERT INTO kv VALUES (2, 'on1'), (3, 'on2')")
            .await?;
        drop(c);
        // A session opened before the failure moves off a dead home too.
        let mut before = node.connect(Some("test")).await?;
        let _: Option<i64> = before.query_first("SELECT 1").await?;
        storage.node_mut(dead).kill().await?;
        let (live_id, dead_id) = if dead == 0 { (3, 2) } else { (2, 3) };
        wait_seen_down(&node, dead as u32 + 1).await?;

        let one: Option<i64> = before.query_first("SELECT 1").await?;
        assert_eq!(
            one,
            Some(1),
            "data node {} down: an older session",
            dead + 1
        );
        let started = std::time::Instant::now();
        let mut c = tokio::time::timeout(Duration::from_secs(10), node.connect(Some("test")))
            .await
            .map_err(|_| format!("data node {} down: connecting hung", dead + 1))?
            .map_err(|e| format!("data node {} down: connecting failed: {e}", dead + 1))?;
        let one: Option<i64> = c.query_first("SELECT 1").await?;
        assert_eq!(one, Some(1), "data node {} down", dead + 1);
        let v: Option<String> = c
            .query_first(format!("SELECT v FROM kv WHERE id = {live_id}"))
            .await?;
        assert!(
            v.is_some(),
            "data node {} down: the live node's row",
            dead + 1
        );
        c.query_drop(format!("UPDATE kv SET v = 'new' WHERE id = {live_id}"))
            .await?;
        let err = c
            .query_drop(format!("SELECT v FROM kv WHERE id = {dead_id}"))
            .await
            .expect_err("the dead node's row");
        assert!(
            matches!(
                code(&err),
                Some(1429) | Some(2013) | Some(1158) | Some(1927)
            ),
            "data node {} down: {err}",
            dead + 1
        );
        // The session goes on after that error.
        let one: Option<i64> = c.query_first("SELECT 1").await?;
        assert_eq!(one, Some(1));
        eprintln!(
            "data node {} down: session ready and served in {:?}",
            dead + 1,
            started.elapsed()
        );
        drop((c, before));
        node.shutdown().await;
    }
    Ok(())
}

/// A transaction with work on a data node whose storage server dies is rolled back
/// everywhere, and the statement that finds out gets the retryable 1213 (SQLSTATE
/// 40001) saying so; its work on the live node is gone.
#[tokio::test]
async fn a_transaction_that_loses_a_branch_is_rolled_back_with_a_retryable_error() -> TestResult {
    let (mut storage, node, mut c) =
        two_nodes_with("acct (id INT PRIMARY KEY, balance INT)").await?;
    open_transfer(&mut c).await?;
    storage.node_mut(1).kill().await?;
    let err = c
        .query_drop("UPDATE acct SET balance = balance + 1 WHERE id = 3")
        .await
        .expect_err("the branch on data node 2 is gone");
    match &err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1213, "40001"), "{}", e.message);
            assert!(e.message.contains("rolled back"), "{}", e.message);
        }
        other => panic!("expected 1213, got {other:?}"),
    }
    // The transaction is over: this runs on its own and sees the old balance.
    let balance: Option<i64> = c
        .query_first("SELECT balance FROM acct WHERE id = 2")
        .await?;
    assert_eq!(balance, Some(100));
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// A COMMIT over two data nodes that finds one branch's connection gone (its storage
/// server died, or a switchover closed it after its drain) rolls the transaction back
/// (presumed abort: no decision was logged) and says so with the retryable 1213, not
/// a connection error that would leave the client guessing.
#[tokio::test]
async fn a_commit_that_loses_a_branch_is_rolled_back_with_a_retryable_error() -> TestResult {
    let (mut storage, node, mut c) =
        two_nodes_with("acct (id INT PRIMARY KEY, balance INT)").await?;
    open_transfer(&mut c).await?;
    storage.node_mut(0).kill().await?;
    let err = c
        .query_drop("COMMIT")
        .await
        .expect_err("the branch on data node 1 is gone");
    match &err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1213, "40001"), "{}", e.message);
            assert!(e.message.contains("rolled back"), "{}", e.message);
        }
        other => panic!("expected 1213, got {other:?}"),
    }
    let balance: Option<i64> = c
        .query_first("SELECT balance FROM acct WHERE id = 3")
        .await?;
    assert_eq!(balance, Some(100), "the live branch was rolled back");
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// Rows 2 (data node 1) and 3 (data node 2) of `acct`, and a transaction open with a
/// transfer between them: a branch on each data node.
async fn open_transfer(c: &mut mysql_async::Conn) -> TestResult {
    c.query_drop("INSERT INTO acct VALUES (2, 100), (3, 100)")
        .await?;
    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE acct SET balance = balance - 10 WHERE id = 2")
        .await?;
    c.query_drop("UPDATE acct SET balance = balance + 10 WHERE id = 3")
        .await?;
    Ok(())
}
