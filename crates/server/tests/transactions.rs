//! Distributed transactions end to end: XA commits across data nodes, savepoints on
//! every branch, statement-level rollback, implicit commits, autocommit off, recovery
//! of prepared branches after a crash, and the bank test (money moves between accounts
//! on different nodes while readers check that the total never changes), also across a
//! storage primary's failover.

mod bank;

mod common;

use common::{first_int, node_and_conn, node_on_shared};
use std::time::{Duration, Instant};

use bank::{accounts_table, balances, branches_of, server_code, Bank, TestResult, XA_FORMAT_ID};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_catalog::{DataNodeId, DecisionLog};
use strata_testkit::{shared_storage, ComputeNode, StorageNodes};

#[tokio::test]
async fn a_transaction_over_several_nodes_commits_or_rolls_back_everywhere() -> TestResult {
    let (storage, node) = node_on_shared(4).await?;
    let node_id = node.config().server.node_id;
    let mut c = node.connect(Some("test")).await?;
    accounts_table(&mut c, 8, 100).await?;

    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE accounts SET balance = balance - 30 WHERE id = 1")
        .await?;
    c.query_drop("UPDATE accounts SET balance = balance + 30 WHERE id = 2")
        .await?;
    // Another session sees nothing before COMMIT.
    let mut other = node.connect(Some("test")).await?;
    let sum: Option<i64> = other
        .query_first("SELECT balance FROM accounts WHERE id = 1")
        .await?;
    assert_eq!(sum, Some(100));
    c.query_drop("COMMIT").await?;
    let after = balances(&mut other).await?;
    assert_eq!(after[1], (1, 70));
    assert_eq!(after[2], (2, 130));

    c.query_drop("START TRANSACTION").await?;
    c.query_drop("UPDATE accounts SET balance = 0").await?;
    c.query_drop("ROLLBACK").await?;
    assert_eq!(balances(&mut other).await?, after);

    // AND CHAIN keeps a transaction open; RELEASE closes the connection.
    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE accounts SET balance = balance + 1 WHERE id = 3")
        .await?;
    c.query_drop("COMMIT AND CHAIN").await?;
    c.query_drop("UPDATE accounts SET balance = balance + 1 WHERE id = 4")
        .await?;
    let in_trans: Option<i64> = c.query_first("SELECT @@in_transaction").await?;
    assert_eq!(in_trans, Some(1));
    c.query_drop("ROLLBACK RELEASE").await?;
    assert!(
        c.query_drop("SELECT 1").await.is_err(),
        "RELEASE closes the connection"
    );
    let now = balances(&mut other).await?;
    assert_eq!((now[3].1, now[4].1), (101, 100));

    // Client XA statements would collide with the coordinator's own.
    let err = other
        .query_drop("XA START 'mine'")
        .await
        .expect_err("XA from clients is refused");
    assert_eq!(server_code(&err), Some(1235));
    assert!(branches_of(&storage, node_id).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn savepoints_and_failed_statements_roll_back_on_every_node() -> TestResult {
    let (_node, mut c) = node_and_conn(4).await?;
    accounts_table(&mut c, 8, 100).await?;

    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE accounts SET balance = 1 WHERE id = 1")
        .await?;
    c.query_drop("SAVEPOINT s1").await?;
    // Node of id 2 joins after the savepoint; ROLLBACK TO must undo its work too.
    c.query_drop("UPDATE accounts SET balance = 2 WHERE id IN (1, 2)")
        .await?;
    c.query_drop("ROLLBACK TO SAVEPOINT s1").await?;
    let rows = balances(&mut c).await?;
    assert_eq!((rows[1].1, rows[2].1), (1, 100));
    let err = c
        .query_drop("ROLLBACK TO SAVEPOINT nosuch")
        .await
        .expect_err("unknown savepoint");
    assert_eq!(server_code(&err), Some(1305));
    c.query_drop("RELEASE SAVEPOINT s1").await?;
    assert_eq!(
        server_code(&c.query_drop("ROLLBACK TO s1").await.expect_err("released")),
        Some(1305)
    );

    // A multi-node INSERT that fails on one node leaves no row on any node, and the
    // transaction goes on.
    let err = c
        .query_drop("INSERT INTO accounts VALUES (100, 1), (101, 1), (3, 1)")
        .await
        .expect_err("duplicate key");
    assert_eq!(server_code(&err), Some(1062));
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM accounts WHERE id >= 100")
        .await?;
    assert_eq!(n, Some(0));
    c.query_drop("INSERT INTO accounts VALUES (102, 5)").await?;
    c.query_drop("COMMIT").await?;
    let total: Option<i64> = c.query_first("SELECT SUM(balance) FROM accounts").await?;
    assert_eq!(total, Some(1 + 100 * 7 + 5));

    // Outside a transaction the same statement is atomic too.
    let err = c
        .query_drop("INSERT INTO accounts VALUES (200, 1), (201, 1), (202, 1), (3, 1)")
        .await
        .expect_err("duplicate key");
    assert_eq!(server_code(&err), Some(1062));
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM accounts WHERE id >= 200")
        .await?;
    assert_eq!(n, Some(0));
    Ok(())
}

#[tokio::test]
async fn ddl_commits_implicitly_and_autocommit_off_opens_transactions() -> TestResult {
    let (node, mut c) = node_and_conn(4).await?;
    let mut other = node.connect(Some("test")).await?;
    accounts_table(&mut c, 8, 100).await?;

    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE accounts SET balance = 7 WHERE id IN (1, 2)")
        .await?;
    c.query_drop("CREATE TABLE side (id INT PRIMARY KEY)")
        .await?;
    c.query_drop("ROLLBACK").await?;
    let rows = balances(&mut other).await?;
    assert_eq!(
        (rows[1].1, rows[2].1),
        (7, 7),
        "CREATE TABLE committed first"
    );

    c.query_drop("SET autocommit = 0").await?;
    c.query_drop("UPDATE accounts SET balance = 0 WHERE id IN (3, 4)")
        .await?;
    c.query_drop("ROLLBACK").await?;
    c.query_drop("UPDATE accounts SET balance = 9 WHERE id IN (5, 6)")
        .await?;
    let seen: Option<i64> = other
        .query_first("SELECT balance FROM accounts WHERE id = 5")
        .await?;
    assert_eq!(seen, Some(100), "not committed yet");
    // Turning autocommit back on commits.
    c.query_drop("SET autocommit = 1").await?;
    let rows = balances(&mut other).await?;
    assert_eq!(
        (rows[3].1, rows[4].1, rows[5].1, rows[6].1),
        (100, 100, 9, 9)
    );

    // READ ONLY transactions refuse writes.
    c.query_drop("START TRANSACTION READ ONLY").await?;
    let err = c
        .query_drop("UPDATE accounts SET balance = 1")
        .await
        .expect_err("read only");
    assert_eq!(server_code(&err), Some(1792));
    c.query_drop("COMMIT").await?;

    // A client that disconnects mid-transaction gets a rollback.
    let mut gone = node.connect(Some("test")).await?;
    gone.query_drop("BEGIN").await?;
    gone.query_drop("UPDATE accounts SET balance = -1 WHERE id IN (1, 2, 3)")
        .await?;
    drop(gone);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The rows are locked until the rollback; a locking read waits for it.
        let n: Option<i64> = other
            .query_first("SELECT COUNT(*) FROM accounts WHERE balance = -1")
            .await?;
        if n == Some(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dropped transaction was not rolled back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let n: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM accounts WHERE id IN (1, 2, 3) FOR UPDATE")
        .await?;
    assert_eq!(n, Some(3));
    Ok(())
}

#[tokio::test]
async fn recovery_commits_logged_branches_and_rolls_back_the_rest() -> TestResult {
    let storage = shared_storage(4).await?;
    let mut node = ComputeNode::builder(&storage)
        .configure(|c| c.transaction.recovery_interval_ms = 0)
        .spawn()
        .await?;
    let node_id = node.config().server.node_id;
    let physical = node
        .physical_database("test")
        .ok_or("physical")?
        .to_string();
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE t (id INT PRIMARY KEY) SHARD BY functiontype 'auto_mod' \
         USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    drop(c);
    node.kill().await?;

    // Leave prepared branches as a crash between PREPARE and COMMIT would: transaction
    // 1 has a logged decision, transaction 2 has none.
    let gtrid = |n: u32| format!("strata:{node_id}:999:{n}");
    for (i, tx) in [(0usize, 1u32), (1, 1), (2, 2), (3, 2)] {
        let mut s = storage.connect(i, Some(&physical)).await?;
        let xid = format!("'{}','{}',{XA_FORMAT_ID}", gtrid(tx), i + 1);
        s.query_drop(format!("XA START {xid}")).await?;
        s.query_drop(format!("INSERT INTO t VALUES ({})", 10 * tx + i as u32))
            .await?;
        s.query_drop(format!("XA END {xid}")).await?;
        s.query_drop(format!("XA PREPARE {xid}")).await?;
        s.disconnect().await?;
    }
    {
        let store = strata_catalog::MetadataStore::open(&node.config().server.data_dir)?;
        store.log_commits(
            &[strata_catalog::Decision {
                gtrid: gtrid(1),
                data_nodes: vec![DataNodeId::new(1), DataNodeId::new(2)],
                decided_ms: 0,
            }],
            &[],
        )?;
    }
    node.restart().await?;
    assert!(
        branches_of(&storage, node_id).await?.is_empty(),
        "recovery at start-up finished every branch"
    );
    let mut c = node.connect(Some("test")).await?;
    let ids: Vec<i32> = c.query("SELECT id FROM t ORDER BY id").await?;
    assert_eq!(
        ids,
        vec![10, 11],
        "logged transaction committed, the other rolled back"
    );
    let shown: Vec<(String, String, String, String)> = c.query("SHOW ABNORMAL_XA_TRX").await?;
    let mut states: Vec<(String, String)> = shown.into_iter().map(|r| (r.0, r.1)).collect();
    states.sort();
    assert_eq!(
        states,
        vec![
            (gtrid(1), "RECOVERED_COMMIT".to_string()),
            (gtrid(1), "RECOVERED_COMMIT".to_string()),
            (gtrid(2), "RECOVERED_ROLLBACK".to_string()),
            (gtrid(2), "RECOVERED_ROLLBACK".to_string()),
        ]
    );
    // The admin port's SHOW @@XA shows the same branches.
    let mut admin = mysql_async::Conn::new(strata_testkit::mysql_opts(
        node.admin_addr(),
        strata_testkit::ROOT_USER,
        strata_testkit::ROOT_PASSWORD,
        None,
    ))
    .await?;
    let rows: Vec<mysql_async::Row> = admin.query("SHOW @@XA").await?;
    let mut admin_states: Vec<(String, String)> = rows
        .into_iter()
        .map(|r| {
            (
                r.get::<String, _>("xid").unwrap_or_default(),
                r.get::<String, _>("state").unwrap_or_default(),
            )
        })
        .collect();
    admin_states.sort();
    assert_eq!(admin_states, states);
    drop(admin);
    drop(c);
    // Finished decisions are removed within a moment (written when no new decision
    // comes to carry the removal).
    tokio::time::sleep(Duration::from_millis(600)).await;
    node.kill().await?;
    let store = strata_catalog::MetadataStore::open(&node.config().server.data_dir)?;
    assert!(
        store.decisions()?.is_empty(),
        "finished decisions are forgotten"
    );
    Ok(())
}

#[tokio::test]
async fn bank_transfers_across_nodes_keep_the_total() -> TestResult {
    let (storage, node) = node_on_shared(4).await?;
    let node_id = node.config().server.node_id;
    let bank = Bank::open(vec![node.opts(Some("test"))], false).await?;
    let stats = bank.clone().run(16, 4, Duration::from_secs(8)).await;
    bank.verify(&stats, 50, &storage, node_id).await?;
    Ok(())
}

#[tokio::test]
async fn bank_survives_compute_node_crashes() -> TestResult {
    let storage = shared_storage(4).await?;
    let mut node = ComputeNode::builder(&storage)
        .configure(|c| c.transaction.recovery_interval_ms = 500)
        .spawn()
        .await?;
    let node_id = node.config().server.node_id;
    let bank = Bank::open(vec![node.opts(Some("test"))], false).await?;
    let workload = tokio::spawn(bank.clone().run(16, 4, Duration::from_secs(12)));
    let mut crashes = 0;
    let mut seed = 12345u64;
    while !workload.is_finished() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(400 + (seed >> 33) % 1200)).await;
        if workload.is_finished() {
            break;
        }
        node.kill().await?;
        crashes += 1;
        node.restart().await?;
    }
    let stats = workload.await?;
    eprintln!("bank: {crashes} compute node crashes");
    bank.verify(&stats, 20, &storage, node_id).await?;
    Ok(())
}

#[tokio::test]
async fn bank_survives_a_storage_node_restart() -> TestResult {
    // Its own storage nodes: one of them is killed.
    let mut storage = StorageNodes::start(4).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| {
            c.transaction.recovery_interval_ms = 300;
            c.pool.connect_timeout_ms = 1000;
            c.pool.acquire_timeout_ms = 2000;
        })
        .start()
        .await?;
    let node_id = node.config().server.node_id;
    let bank = Bank::open(vec![node.opts(Some("test"))], false).await?;
    let workload = tokio::spawn(bank.clone().run(16, 4, Duration::from_secs(12)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    storage.node_mut(2).kill().await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    storage.node_mut(2).restart().await?;
    let stats = workload.await?;
    bank.verify(&stats, 20, &storage, node_id).await?;
    Ok(())
}

/// The bank over 4 data nodes with a replica each, the primary of one SIGKILLed
/// mid-run: it fails over, clients see errors only for transactions in flight there,
/// no acknowledged transfer is lost, every sum read is exact, and no branch is left
/// prepared on any storage node.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bank_survives_a_primary_failover() -> TestResult {
    let mut storage = StorageNodes::start_replicated(4, 1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.transaction.recovery_interval_ms = 300)
        .start()
        .await?;
    let node_id = node.config().server.node_id;
    let bank = Bank::open(vec![node.opts(Some("test"))], true).await?;
    storage.wait_replicas_caught_up().await?;
    let workload = tokio::spawn(bank.clone().run(16, 4, Duration::from_secs(12)));
    tokio::time::sleep(Duration::from_secs(4)).await;
    storage.node_mut(2).kill().await?;
    let stats = workload.await?;
    bank.verify(&stats, 20, &storage, node_id).await?;
    let events = node.context().ha.failovers();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].error.is_none(), "{events:?}");
    let resolved = node.context().xa.recently_resolved();
    eprintln!(
        "bank: data node 3 failed over in {} ms; recovery finished {} prepared branches ({} committed)",
        events[0].duration().as_millis(),
        resolved.len(),
        resolved.iter().filter(|b| b.committed).count()
    );
    for e in stats
        .errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        eprintln!("  transfer error: {e}");
    }
    Ok(())
}

#[tokio::test]
async fn a_deadlock_across_nodes_rolls_back_one_transaction_with_1213() -> TestResult {
    let node =
        ComputeNode::configured(4, |c| c.transaction.deadlock_check_interval_ms = 500).await?;
    let mut setup = node.connect(Some("test")).await?;
    accounts_table(&mut setup, 8, 100).await?;
    // Accounts 1 and 2 live on different data nodes (auto_mod over 4 nodes).
    let mut a = node.connect(Some("test")).await?;
    let mut b = node.connect(Some("test")).await?;
    a.query_drop("BEGIN").await?;
    a.query_drop("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        .await?;
    b.query_drop("BEGIN").await?;
    b.query_drop("UPDATE accounts SET balance = balance + 10 WHERE id = 2")
        .await?;
    let started = Instant::now();
    let first = tokio::spawn(async move {
        let r = a
            .query_drop("UPDATE accounts SET balance = balance + 1 WHERE id = 2")
            .await;
        (a, r)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = b
        .query_drop("UPDATE accounts SET balance = balance + 10 WHERE id = 1")
        .await;
    let (mut a, first) = first.await?;
    let elapsed = started.elapsed();
    // Exactly one of them is the victim; the other goes on and commits.
    let (victim_err, winner) = match (first, second) {
        (Err(e), Ok(())) => (e, &mut b),
        (Ok(()), Err(e)) => (e, &mut a),
        other => return Err(format!("expected exactly one deadlock victim, got {other:?}").into()),
    };
    assert_eq!(server_code(&victim_err), Some(1213), "{victim_err}");
    assert!(
        elapsed < Duration::from_secs(5),
        "detected after {elapsed:?} (check period 0.5 s; InnoDB's own timeout is 50 s)"
    );
    winner.query_drop("COMMIT").await?;
    let rows = balances(&mut setup).await?;
    let winner_is_b = rows[2].1 == 110;
    if winner_is_b {
        assert_eq!((rows[1].1, rows[2].1), (110, 110), "victim a rolled back");
    } else {
        assert_eq!((rows[1].1, rows[2].1), (101, 101), "victim b rolled back");
    }
    Ok(())
}

#[tokio::test]
async fn kill_query_stops_a_statement_on_every_node_and_kill_rolls_back() -> TestResult {
    let node = ComputeNode::on_shared_storage(4).await?;
    let mut setup = node.connect(Some("test")).await?;
    accounts_table(&mut setup, 8, 100).await?;
    let mut holder = node.connect(Some("test")).await?;
    holder.query_drop("BEGIN").await?;
    holder
        .query_drop("UPDATE accounts SET balance = 0 WHERE id IN (1, 2, 3)")
        .await?;
    let holder_id = holder.id();

    // A statement waiting for locks on three nodes.
    let mut waiter = node.connect(Some("test")).await?;
    let waiter_id = waiter.id();
    let waiting = tokio::spawn(async move {
        let r = waiter
            .query_drop("UPDATE accounts SET balance = balance + 1 WHERE id IN (1, 2, 3)")
            .await;
        (waiter, r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut admin = node.connect(Some("test")).await?;
    admin.query_drop(format!("KILL QUERY {waiter_id}")).await?;
    let (mut waiter, r) = tokio::time::timeout(Duration::from_secs(10), waiting).await??;
    assert_eq!(
        server_code(&r.expect_err("interrupted")),
        Some(1317),
        "KILL QUERY interrupts the statement"
    );
    let alive: Option<i64> = waiter.query_first("SELECT 1").await?;
    assert_eq!(alive, Some(1), "KILL QUERY keeps the connection");

    // KILL (connection) rolls the holder's transaction back.
    admin.query_drop(format!("KILL {holder_id}")).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: Option<i64> = admin
            .query_first("SELECT COUNT(*) FROM accounts WHERE balance = 0")
            .await?;
        if n == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "KILL did not roll back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(holder.query_drop("SELECT 1").await.is_err());
    Ok(())
}

async fn read(c: &mut Conn, id: u32) -> Result<i64, mysql_async::Error> {
    first_int(c, &format!("SELECT balance FROM accounts WHERE id = {id}")).await
}

#[tokio::test]
async fn isolation_levels_behave_as_on_one_node() -> TestResult {
    let node =
        ComputeNode::configured(4, |c| c.transaction.idle_in_transaction_timeout_ms = 1500).await?;
    let mut writer = node.connect(Some("test")).await?;
    accounts_table(&mut writer, 8, 100).await?;
    let mut c = node.connect(Some("test")).await?;

    // REPEATABLE READ (the default): a snapshot per node, taken at its first read.
    c.query_drop("BEGIN").await?;
    assert_eq!(read(&mut c, 1).await?, 100);
    writer
        .query_drop("UPDATE accounts SET balance = 200 WHERE id IN (1, 2)")
        .await?;
    assert_eq!(read(&mut c, 1).await?, 100, "repeatable read within a node");
    c.query_drop("COMMIT").await?;

    // SET TRANSACTION applies to the next transaction only.
    c.query_drop("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await?;
    c.query_drop("BEGIN").await?;
    assert_eq!(read(&mut c, 1).await?, 200);
    writer
        .query_drop("UPDATE accounts SET balance = 300 WHERE id = 1")
        .await?;
    assert_eq!(
        read(&mut c, 1).await?,
        300,
        "read committed sees new commits"
    );
    let err = c
        .query_drop("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .await
        .expect_err("not inside a transaction");
    assert_eq!(server_code(&err), Some(1568));
    c.query_drop("COMMIT").await?;
    c.query_drop("BEGIN").await?;
    assert_eq!(read(&mut c, 2).await?, 200);
    writer
        .query_drop("UPDATE accounts SET balance = 400 WHERE id = 2")
        .await?;
    assert_eq!(read(&mut c, 2).await?, 200, "back to repeatable read");
    c.query_drop("COMMIT").await?;

    // The session-wide form lasts.
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await?;
    c.query_drop("BEGIN").await?;
    assert_eq!(read(&mut c, 3).await?, 100);
    writer
        .query_drop("UPDATE accounts SET balance = 500 WHERE id = 3")
        .await?;
    assert_eq!(read(&mut c, 3).await?, 500);
    c.query_drop("COMMIT").await?;

    // A transaction left idle longer than the configured timeout is rolled back and
    // its connection closed.
    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE accounts SET balance = 0 WHERE id IN (4, 5)")
        .await?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(c.query_drop("COMMIT").await.is_err(), "connection closed");
    let rows = balances(&mut writer).await?;
    assert_eq!((rows[4].1, rows[5].1), (100, 100), "rolled back");
    Ok(())
}
