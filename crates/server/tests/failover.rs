//! Storage high availability end to end, on real MariaDB primaries with GTID
//! semi-synchronous replicas: a SIGKILLed primary is replaced by its replica with no
//! acknowledged update lost and no error on the other data node (and a restart keeps
//! the promoted primary); a frozen (SIGSTOPped) primary is failed over and fenced when
//! it resumes; a topology whose roles contradict the configuration stops start-up; a
//! distributed transaction cut between XA PREPARE and XA COMMIT by a primary's death
//! ends the same on every data node once recovery reaches the promoted replica.

mod bank;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank::{
    acc_table, admin, increment, prepared_branches, primary_port, storage_conn, within, xa_recover,
    BoxError,
};
use mysql_async::prelude::*;
use strata_catalog::DataNodeId;
use strata_server::failover::{NodeStatus, Role};
use strata_testkit::{ComputeNode, MariadbNode, StorageNodes};

/// Clients per data node.
const CLIENTS: usize = 3;
/// Writing before the kill.
const BEFORE_KILL: Duration = Duration::from_secs(2);
/// Writing after the kill (failover must finish well within it).
const AFTER_KILL: Duration = Duration::from_secs(8);

/// What one client saw: acknowledged increments of its row, failures, and when each
/// acknowledgement came.
struct ClientLog {
    id: i64,
    dnid: u32,
    acked: u64,
    errors: Vec<String>,
    acks: Vec<Instant>,
}

async fn run_client(
    opts: mysql_async::Opts,
    id: i64,
    dnid: u32,
    stop: Arc<AtomicBool>,
) -> Result<ClientLog, BoxError> {
    let mut log = ClientLog {
        id,
        dnid,
        acked: 0,
        errors: Vec::new(),
        acks: Vec::new(),
    };
    let mut conn = mysql_async::Conn::new(opts.clone()).await?;
    while !stop.load(Ordering::Relaxed) {
        match increment(&mut conn, id).await {
            Ok(()) => {
                log.acked += 1;
                log.acks.push(Instant::now());
            }
            Err(e) => {
                log.errors.push(e.to_string());
                if !matches!(e, mysql_async::Error::Server(_)) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    conn = mysql_async::Conn::new(opts.clone()).await?;
                }
            }
        }
    }
    Ok(log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_primary_fails_over_without_losing_acknowledged_updates() -> Result<(), BoxError> {
    let mut storage = StorageNodes::start_replicated(2, 1).await?;
    let compute = ComputeNode::builder(&storage).start().await?;
    let mut conn = compute.connect(Some("test")).await?;
    let placement = acc_table(&mut conn, 40).await?;
    let rows_of = |dnid: u32| -> Vec<i64> {
        placement
            .iter()
            .filter(|(_, d)| *d == dnid)
            .map(|(id, _)| *id)
            .take(CLIENTS)
            .collect()
    };
    let (on_1, on_2) = (rows_of(1), rows_of(2));
    assert_eq!(
        (on_1.len(), on_2.len()),
        (CLIENTS, CLIENTS),
        "{placement:?}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (dnid, ids) in [(1, &on_1), (2, &on_2)] {
        for id in ids {
            clients.push(tokio::spawn(run_client(
                compute.opts(Some("test")),
                *id,
                dnid,
                stop.clone(),
            )));
        }
    }
    tokio::time::sleep(BEFORE_KILL).await;
    let killed_at = Instant::now();
    storage.node_mut(0).kill().await?;
    tokio::time::sleep(AFTER_KILL).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for client in clients {
        logs.push(client.await??);
    }

    // The promoted replica now serves data node 1, and every acknowledged increment is
    // in it.
    let states = compute.context().ha.data_node(DataNodeId::new(1));
    let primary = states.iter().find(|s| s.role == Role::Primary);
    assert_eq!(
        primary.map(|s| s.port),
        Some(storage.replica(0, 0).port()),
        "{states:?}"
    );
    assert!(
        states
            .iter()
            .any(|s| s.port == storage.port(0) && s.status == NodeStatus::Fenced),
        "{states:?}"
    );
    let events = compute.context().ha.failovers();
    assert_eq!(events.len(), 1, "{events:?}");
    let mut conn = compute.connect(Some("test")).await?;
    let mut lost = Vec::new();
    for log in &logs {
        let v: Option<i64> = conn
            .exec_first("SELECT v FROM acc WHERE id = ?", (log.id,))
            .await?;
        let v = v.unwrap_or(-1) as u64;
        // An update whose reply was lost may have committed: at most one per error.
        if v < log.acked || v > log.acked + log.errors.len() as u64 {
            lost.push(format!(
                "row {} (data node {}): {v} in storage, {} acknowledged, {} errors",
                log.id,
                log.dnid,
                log.acked,
                log.errors.len()
            ));
        }
    }
    assert!(lost.is_empty(), "acknowledged updates lost: {lost:?}");

    let other_errors: Vec<&String> = logs
        .iter()
        .filter(|l| l.dnid == 2)
        .flat_map(|l| &l.errors)
        .collect();
    assert!(
        other_errors.is_empty(),
        "data node 2 saw errors: {other_errors:?}"
    );
    let mut unavailable = Duration::ZERO;
    for log in logs.iter().filter(|l| l.dnid == 1) {
        let resumed = log.acks.iter().find(|t| **t > killed_at);
        let Some(resumed) = resumed else {
            panic!(
                "row {} was never written after the kill: {:?}",
                log.id, log.errors
            );
        };
        unavailable = unavailable.max(*resumed - killed_at);
    }
    let acked: u64 = logs.iter().map(|l| l.acked).sum();
    let errors: usize = logs.iter().map(|l| l.errors.len()).sum();
    println!(
        "failover: write unavailability on data node 1 {} ms (failover itself {} ms); {acked} updates acknowledged, {errors} errors on data node 1, 0 lost",
        unavailable.as_millis(),
        events[0].duration().as_millis()
    );
    let mut kinds: Vec<&String> = logs.iter().flat_map(|l| &l.errors).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds.iter().take(5) {
        println!("  error seen: {kind}");
    }
    for (step, took) in &events[0].steps {
        println!("  {step}: {} ms", took.as_millis());
    }

    // Restarted with the configuration file as it was (the dead node as primary), the
    // compute node routes to the promoted one: it starts, and writes go there.
    let compute = compute.restart().await?;
    let mut conn = compute.connect(Some("test")).await?;
    let id = on_1[0];
    conn.query_drop(format!("UPDATE acc SET v = v + 1000 WHERE id = {id}"))
        .await?;
    let v: Option<i64> = conn
        .query_first(format!("SELECT v FROM acc WHERE id = {id}"))
        .await?;
    assert!(v.is_some_and(|v| v >= 1000), "{v:?}");
    let target = compute
        .context()
        .topology
        .node(DataNodeId::new(1))
        .map(|n| n.pool.target().port);
    assert_eq!(target, Some(storage.replica(0, 0).port()));
    compute.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn start_up_refuses_storage_nodes_whose_roles_contradict_the_configuration(
) -> Result<(), BoxError> {
    let storage = StorageNodes::start_replicated(1, 1).await?;
    let started = ComputeNode::builder(&storage)
        .configure(|config| {
            let dn = &mut config.data_nodes[0];
            let mut replica = dn.replicas[0].clone();
            replica.database = dn.primary.database.clone();
            let mut primary = std::mem::replace(&mut dn.primary, replica);
            primary.database.clear();
            dn.replicas = vec![primary];
        })
        .start()
        .await;
    let Err(e) = started else {
        panic!("a compute node started with primary and replica swapped");
    };
    let message = e.to_string();
    let (p, r) = (storage.port(0), storage.replica(0, 0).port());
    for expected in [
        format!("data node 1: primary 127.0.0.1:{r} has read_only = ON"),
        format!("data node 1: primary 127.0.0.1:{r} replicates from 127.0.0.1:{p}"),
        format!("data node 1: replica 127.0.0.1:{p} has read_only = OFF"),
        format!("data node 1: replica 127.0.0.1:{p} does not replicate from anything"),
    ] {
        assert!(message.contains(&expected), "{expected:?} not in {message}");
    }
    Ok(())
}

/// Sends `signal` (`STOP`, `CONT`) to process `pid`.
fn signal(pid: u32, signal: &str) -> Result<(), BoxError> {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()?;
    if !status.success() {
        return Err(format!("kill -{signal} {pid} failed").into());
    }
    Ok(())
}

/// Whether `node` answers and is read-only (fenced).
async fn is_read_only(node: &MariadbNode) -> bool {
    node.execute_sql("SELECT @@global.read_only")
        .await
        .is_ok_and(|out| out.trim().ends_with('1'))
}

/// A primary frozen with SIGSTOP (a hung server, not a dead one) is failed over like a
/// dead one; when it resumes it is made read-only (fenced) and never written through
/// Strata again: the writes after the failover are on the promoted replica only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_primary_is_fenced_when_it_resumes_and_never_written_again() -> Result<(), BoxError>
{
    let storage = StorageNodes::start_replicated(1, 1).await?;
    let compute = ComputeNode::builder(&storage).start().await?;
    let mut c = compute.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE fz (id INT PRIMARY KEY, v INT NOT NULL)")
        .await?;
    c.query_drop("INSERT INTO fz VALUES (1, 0)").await?;
    drop(c);
    storage.wait_replicas_caught_up().await?;
    let pid = storage.node(0).pid().ok_or("no pid for the primary")?;
    signal(pid, "STOP")?;
    let frozen = Instant::now();
    let outcome = async {
        within(Duration::from_secs(15), "failover", || async {
            Ok(!compute.context().ha.failovers().is_empty())
        })
        .await?;
        let events = compute.context().ha.failovers();
        assert!(events[0].error.is_none(), "{events:?}");
        println!(
            "frozen primary failed over after {} ms",
            frozen.elapsed().as_millis()
        );
        for (step, took) in &events[0].steps {
            println!("  {step}: {} ms", took.as_millis());
        }
        let mut c = compute.connect(Some("test")).await?;
        c.query_drop("UPDATE fz SET v = 1 WHERE id = 1").await?;
        Ok::<_, BoxError>(c)
    }
    .await;
    signal(pid, "CONT")?;
    let mut c = outcome?;
    let physical = compute
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();
    let old = storage.node(0);
    within(
        Duration::from_secs(15),
        "fencing the resumed primary",
        || async { Ok(is_read_only(old).await) },
    )
    .await?;
    c.query_drop("UPDATE fz SET v = 2 WHERE id = 1").await?;
    let sql = format!("SELECT v FROM `{physical}`.fz WHERE id = 1");
    let on_new = storage.replica(0, 0).execute_sql(&sql).await?;
    assert_eq!(on_new.trim(), "2", "promoted replica");
    // The old primary stopped at the value it had when it froze.
    let on_old = old.execute_sql(&sql).await?;
    assert_eq!(
        on_old.trim(),
        "0",
        "the fenced old primary got writes after the failover"
    );
    compute.shutdown().await;
    Ok(())
}

async fn semi_sync_acknowledged(c: &mut mysql_async::Conn) -> Result<u64, BoxError> {
    let row: Option<(String, u64)> = c
        .query_first("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'")
        .await?;
    Ok(row.map_or(0, |r| r.1))
}

/// What MariaDB 10.11 does with XA across a failover, which Strata's recovery relies
/// on: XA PREPARE is a replicated event group that semi-synchronous replication
/// acknowledges before the PREPARE returns (like a commit), the replica applies it and
/// keeps the branch prepared, and once that replica is promoted (`STOP SLAVE; RESET
/// SLAVE ALL; read_only = OFF`) its XA RECOVER lists the branch and any connection can
/// XA COMMIT or XA ROLLBACK it.
#[tokio::test]
async fn mariadb_keeps_a_replicated_xa_prepare_on_the_promoted_replica() -> Result<(), BoxError> {
    let mut storage = StorageNodes::start_replicated(1, 1).await?;
    let mut p = storage.connect(0, None).await?;
    p.query_drop("CREATE DATABASE xafacts").await?;
    p.query_drop("CREATE TABLE xafacts.t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE = InnoDB")
        .await?;
    // A connection that prepared a branch can do nothing else until it ends: one each.
    let mut branches = Vec::new();
    for (xid, id) in [("'commit_me'", 1), ("'roll_me_back'", 2)] {
        let before = semi_sync_acknowledged(&mut p).await?;
        let mut b = storage.connect(0, None).await?;
        b.query_drop(format!("XA START {xid}")).await?;
        b.query_drop(format!("INSERT INTO xafacts.t VALUES ({id}, {id})"))
            .await?;
        b.query_drop(format!("XA END {xid}")).await?;
        b.query_drop(format!("XA PREPARE {xid}")).await?;
        let after = semi_sync_acknowledged(&mut p).await?;
        assert_eq!(
            after,
            before + 1,
            "XA PREPARE {xid} waited for the replica's acknowledgement"
        );
        branches.push(b);
    }
    storage.wait_replicas_caught_up().await?;
    let replica = storage.replica(0, 0).port();
    let mut prepared = xa_recover(&storage, replica).await?;
    prepared.sort();
    assert_eq!(
        prepared,
        ["commit_me", "roll_me_back"],
        "prepared on the replica"
    );
    drop((p, branches));
    storage.node_mut(0).kill().await?;

    let mut r = storage_conn(&storage, replica, None).await?;
    for sql in [
        "STOP SLAVE",
        "RESET SLAVE ALL",
        "SET GLOBAL read_only = OFF",
    ] {
        r.query_drop(sql).await?;
    }
    let mut prepared = xa_recover(&storage, replica).await?;
    prepared.sort();
    assert_eq!(
        prepared,
        ["commit_me", "roll_me_back"],
        "still prepared once promoted"
    );
    let visible: Option<i64> = r.query_first("SELECT COUNT(*) FROM xafacts.t").await?;
    assert_eq!(visible, Some(0), "a prepared branch is not visible");
    r.query_drop("XA COMMIT 'commit_me'").await?;
    r.query_drop("XA ROLLBACK 'roll_me_back'").await?;
    let rows: Vec<(i32, i32)> = r.query("SELECT id, v FROM xafacts.t").await?;
    assert_eq!(rows, [(1, 1)]);
    assert!(xa_recover(&storage, replica).await?.is_empty());
    Ok(())
}

/// Runs `BEGIN; UPDATE <ids>; COMMIT` through the compute node with the commit stopped
/// after every XA PREPARE succeeded, SIGKILLs storage primary `kill` there, lets the
/// commit go on as `resume` says, and returns the client's COMMIT outcome once that
/// data node failed over and no storage node that runs holds a prepared branch.
async fn commit_cut_by_a_primary_kill(
    compute: &ComputeNode,
    storage: &mut StorageNodes,
    ids: [i64; 2],
    kill: usize,
    resume: strata_server::failpoints::Resume,
) -> Result<Result<(), mysql_async::Error>, BoxError> {
    let mut paused = compute.context().xa.after_prepare.arm();
    let opts = compute.opts(Some("test"));
    let client = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_drop("BEGIN").await?;
        for id in ids {
            c.query_drop(format!("UPDATE xt SET v = v + 1 WHERE id = {id}"))
                .await?;
        }
        Ok::<_, mysql_async::Error>(c.query_drop("COMMIT").await)
    });
    assert!(paused.reached().await, "the commit reached the pause");
    let killed_at = Instant::now();
    storage.node_mut(kill).kill().await?;
    paused.release(resume);
    let outcome = client.await??;
    let dnid = DataNodeId::new(kill as u32 + 1);
    let promoted = storage.replica(kill, 0).port();
    within(Duration::from_secs(20), "failover", || async {
        let states = compute.context().ha.data_node(dnid);
        Ok(states
            .iter()
            .any(|s| s.role == Role::Primary && s.port == promoted && s.status == NodeStatus::Up))
    })
    .await?;
    // No branch left on any storage node still running (a killed one is not asked).
    within(
        Duration::from_secs(30),
        "no branch left prepared",
        || async { Ok(prepared_branches(storage).await.is_ok_and(|b| b.is_empty())) },
    )
    .await?;
    println!(
        "{resume:?}: kill to no branch left on any live storage node: {} ms",
        killed_at.elapsed().as_millis()
    );
    for (step, took) in compute
        .context()
        .ha
        .failovers()
        .last()
        .map(|e| e.steps.clone())
        .unwrap_or_default()
    {
        println!("  {step}: {} ms", took.as_millis());
    }
    Ok(outcome)
}

/// A distributed transaction over two data nodes is prepared on both, then the primary
/// of one is SIGKILLed before COMMIT: its replica is promoted with the branch prepared
/// (MariaDB replicates XA PREPARE), and recovery finishes it there by the decision log.
/// With the decision logged the transaction ends committed on both data nodes; without
/// one, rolled back on both; no prepared branch is left on any storage node that runs,
/// the dead primary included once it is back and rejoined as a replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_cut_between_prepare_and_commit_by_a_failover_ends_the_same_everywhere(
) -> Result<(), BoxError> {
    use strata_server::failpoints::Resume;
    let mut storage = StorageNodes::start_replicated(2, 1).await?;
    let compute = ComputeNode::builder(&storage)
        .configure(|c| c.transaction.recovery_interval_ms = 300)
        .start()
        .await?;
    let mut c = compute.connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE xt (id INT PRIMARY KEY, v INT NOT NULL) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-2'",
    )
    .await?;
    c.query_drop("INSERT INTO xt VALUES (1, 0), (2, 0)").await?;
    let placement: Vec<(i64, u32)> = c.query("SELECT id, DNID FROM xt ORDER BY id").await?;
    let nodes: Vec<u32> = placement.iter().map(|p| p.1).collect();
    assert!(nodes.contains(&1) && nodes.contains(&2), "{placement:?}");
    drop(c);
    storage.wait_replicas_caught_up().await?;
    let values = || async {
        let mut c = compute.connect(Some("test")).await?;
        let rows: Vec<(i64, i64)> = c.query("SELECT id, v FROM xt ORDER BY id").await?;
        Ok::<_, BoxError>(rows)
    };

    // The decision is logged after the kill: the transaction is committed, its branch
    // on the promoted replica of data node 1 is committed by recovery.
    let outcome =
        commit_cut_by_a_primary_kill(&compute, &mut storage, [1, 2], 0, Resume::Continue).await?;
    assert!(
        outcome.is_ok(),
        "COMMIT with a logged decision: {outcome:?}"
    );
    assert_eq!(
        values().await?,
        [(1, 1), (2, 1)],
        "committed on both data nodes"
    );

    // The dead primary comes back with its own copy of the branch still prepared;
    // Strata fences it (read-only). Rejoined by hand as a replica of the new primary,
    // it applies the XA COMMIT recovery wrote there and is left with no branch.
    storage.node_mut(0).restart().await?;
    let old = storage.port(0);
    within(
        Duration::from_secs(15),
        "fencing the old primary",
        || async { Ok(is_read_only(storage.node(0)).await) },
    )
    .await?;
    assert_eq!(
        xa_recover(&storage, old).await?.len(),
        1,
        "its copy of the branch"
    );
    let mut o = storage_conn(&storage, old, None).await?;
    for sql in [
        "SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos".to_string(),
        format!(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, MASTER_USER = '{}', \
             MASTER_PASSWORD = '{}', MASTER_USE_GTID = slave_pos",
            storage.replica(0, 0).port(),
            storage.user(),
            storage.password()
        ),
        "START SLAVE".to_string(),
    ] {
        o.query_drop(sql).await?;
    }
    drop(o);
    within(
        Duration::from_secs(15),
        "the rejoined old primary finished its branch",
        || async { Ok(xa_recover(&storage, old).await.is_ok_and(|b| b.is_empty())) },
    )
    .await?;
    let physical = compute
        .physical_database("test")
        .ok_or("no physical database")?;
    let on_1 = placement.iter().find(|p| p.1 == 1).map_or(0, |p| p.0);
    let sql = format!("SELECT v FROM `{physical}`.xt WHERE id = {on_1}");
    let on_old = storage.node(0).execute_sql(&sql).await?;
    assert_eq!(
        on_old.trim(),
        "1",
        "committed on the rejoined old primary too"
    );

    // No decision is logged: presumed abort, on the reachable data node at once and on
    // the promoted replica of data node 2 by recovery.
    let outcome =
        commit_cut_by_a_primary_kill(&compute, &mut storage, [1, 2], 1, Resume::FailDecisionLog)
            .await?;
    let Err(e) = outcome else {
        panic!("COMMIT without a decision succeeded");
    };
    assert!(matches!(e, mysql_async::Error::Server(_)), "{e}");
    assert_eq!(
        values().await?,
        [(1, 1), (2, 1)],
        "rolled back on both data nodes"
    );
    assert_eq!(compute.context().ha.failovers().len(), 2);
    assert!(compute.context().xa.all_finished());
    compute.shutdown().await;
    Ok(())
}

/// The operator's way back for a failed primary: after the failover, its storage node
/// (stopped, data directory emptied) is re-created from the new primary with
/// `REBUILD @@DATASOURCE` (mariadb-backup streamed and prepared), started, and made a
/// replica again by the compute node: `SHOW @@DATASOURCE` has it as an up replica, it
/// holds every row written before and after the failover, and a switchover back to it
/// works. A rebuild that would overwrite data, or of the primary, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_primary_rebuilt_from_the_new_primary_rejoins_and_takes_a_switchover_back(
) -> Result<(), BoxError> {
    let mut storage = StorageNodes::start_replicated(1, 1).await?;
    let compute = ComputeNode::builder(&storage).start().await?;
    let mut c = compute.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE rb (id INT PRIMARY KEY, v INT NOT NULL)")
        .await?;
    c.query_drop("INSERT INTO rb VALUES (1, 1), (2, 2)").await?;
    drop(c);
    storage.wait_replicas_caught_up().await?;
    let (old, new) = (storage.port(0), storage.replica(0, 0).port());
    storage.node_mut(0).kill().await?;
    within(Duration::from_secs(15), "failover", || async {
        Ok(primary_port(&compute, 1) == Some(new))
    })
    .await?;
    let mut c = compute.connect(Some("test")).await?;
    c.query_drop("INSERT INTO rb VALUES (3, 3)").await?;

    let datadir = storage.node(0).datadir().to_path_buf();
    let rebuild = format!(
        "REBUILD @@DATASOURCE 1 '127.0.0.1:{old}' DATADIR '{}'",
        datadir.display()
    );
    let not_empty = admin(&compute, &rebuild).await;
    assert!(
        matches!(&not_empty, Err((1105, m)) if m.contains("is not empty")),
        "{not_empty:?}"
    );
    let primary = admin(
        &compute,
        &format!("REBUILD @@DATASOURCE 1 '127.0.0.1:{new}' DATADIR '/nonexistent'"),
    )
    .await;
    assert_eq!(
        primary,
        Err((
            1105,
            format!("127.0.0.1:{new} is the primary of data node 1; only a replica can be rebuilt")
        ))
    );
    std::fs::remove_dir_all(&datadir)?;
    assert_eq!(admin(&compute, &rebuild).await, Ok(()));
    storage.node_mut(0).restart().await?;
    within(
        Duration::from_secs(20),
        "the rebuilt node up as a replica",
        || async {
            Ok(compute
                .context()
                .ha
                .data_node(DataNodeId::new(1))
                .iter()
                .any(|s| s.port == old && s.role == Role::Replica && s.status == NodeStatus::Up))
        },
    )
    .await?;
    c.query_drop("INSERT INTO rb VALUES (4, 4)").await?;
    let physical = compute
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();
    let rows = format!("SELECT GROUP_CONCAT(id ORDER BY id) FROM `{physical}`.rb");
    let rebuilt = storage.node(0);
    within(
        Duration::from_secs(10),
        "the rebuilt node has every row",
        || async { Ok(rebuilt.execute_sql(&rows).await?.trim() == "1,2,3,4") },
    )
    .await?;
    assert!(
        is_read_only(rebuilt).await,
        "a rebuilt replica is read-only"
    );

    assert_eq!(
        admin(
            &compute,
            &format!("SWITCH @@DATASOURCE 1 TO '127.0.0.1:{old}'")
        )
        .await,
        Ok(())
    );
    assert_eq!(primary_port(&compute, 1), Some(old));
    c.query_drop("INSERT INTO rb VALUES (5, 5)").await?;
    let on_old = rebuilt.execute_sql(&rows).await?;
    assert_eq!(on_old.trim(), "1,2,3,4,5");
    let replica = storage.replica(0, 0);
    within(
        Duration::from_secs(10),
        "the former new primary replicates",
        || async { Ok(replica.execute_sql(&rows).await?.trim() == "1,2,3,4,5") },
    )
    .await?;
    compute.shutdown().await;
    Ok(())
}
