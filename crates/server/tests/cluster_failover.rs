//! Storage failover and switchover with two compute nodes sharing etcd: one decision
//! per data node, recorded in etcd and followed by every compute node. A SIGKILLed
//! primary is failed over exactly once in the cluster and both nodes route to the same
//! promoted replica, with nothing acknowledged lost; a node restarted afterwards takes
//! the primary from etcd. A `SWITCH @@DATASOURCE` through one node is followed by the
//! other without a switchover of its own. A primary another live compute node still
//! reaches (by its published view) is not failed over; with etcd unreachable nothing
//! is failed over and an event says why. `ALTER DATABASE … RW_SPLIT` through one node is
//! in force on the other when it returns. A decision etcd could not record is recorded
//! at a later heartbeat, under the lock its node kept, and followed.

mod bank;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank::{admin, primary_port, storage_conn, within, BoxError};
use mysql_async::prelude::*;
use strata_catalog::DataNodeId;
use strata_server::failover::NodeStatus;
use strata_server::failpoints::Resume;
use strata_testkit::{ComputeNode, EtcdCluster, StorageNodes};

/// One data node with a semi-synchronous replica, a one-member etcd and two compute
/// nodes over them.
async fn two_nodes_one_replicated_data_node(
) -> Result<(StorageNodes, EtcdCluster, Vec<ComputeNode>), BoxError> {
    let storage = StorageNodes::start_replicated(1, 1).await?;
    let etcd = EtcdCluster::start(1).await?;
    let endpoints = etcd.endpoints();
    let nodes = ComputeNode::builder(&storage)
        .configure(move |c| c.cluster.etcd = endpoints)
        .start_many(2)
        .await?;
    Ok((storage, etcd, nodes))
}

/// The port data node 1's pool connects to on `node`.
fn pool_port(node: &ComputeNode) -> Option<u16> {
    node.context()
        .topology
        .node(DataNodeId::new(1))
        .map(|n| n.pool.target().port)
}

/// Creates `acc` with rows 1..=`rows` (all 0) on the one data node.
async fn acc_table(conn: &mut mysql_async::Conn, rows: u32) -> Result<(), BoxError> {
    conn.query_drop("CREATE TABLE acc (id INT PRIMARY KEY, v BIGINT NOT NULL)")
        .await?;
    let values: Vec<String> = (1..=rows).map(|i| format!("({i}, 0)")).collect();
    conn.query_drop(format!("INSERT INTO acc VALUES {}", values.join(",")))
        .await?;
    Ok(())
}

/// Waits until `node`'s heartbeat sees both storage nodes of data node 1 up (a
/// switchover refuses a replica it has not seen replicating).
async fn all_up(node: &ComputeNode) -> Result<(), BoxError> {
    within(Duration::from_secs(20), "both storage nodes up", || {
        let states = node.context().ha.data_node(DataNodeId::new(1));
        let up = states.len() == 2 && states.iter().all(|s| s.status == NodeStatus::Up);
        async move { Ok(up) }
    })
    .await?;
    Ok(())
}

/// `SHOW @@DATASOURCE` on `node`'s admin port: the primary's port and every row's
/// `last_failover`.
async fn shown_by_admin(node: &ComputeNode) -> Result<(Option<u16>, Vec<String>), BoxError> {
    let mut admin = mysql_async::Conn::new(node.admin_opts()).await?;
    let rows: Vec<mysql_async::Row> = admin.query("SHOW @@DATASOURCE").await?;
    admin.disconnect().await?;
    let mut primary = None;
    let mut failovers = Vec::new();
    for row in rows {
        let role: Option<String> = row.get("role");
        if role.as_deref() == Some("primary") {
            primary = row.get("port");
        }
        let last: Option<Option<String>> = row.get("last_failover");
        failovers.extend(last.flatten());
    }
    Ok((primary, failovers))
}

/// `v` of row `id` of `acc` through `conn`.
async fn value(conn: &mut mysql_async::Conn, id: i64) -> Result<Option<i64>, BoxError> {
    Ok(conn
        .exec_first("SELECT v FROM acc WHERE id = ?", (id,))
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_primary_is_failed_over_once_for_the_cluster_and_both_nodes_follow(
) -> Result<(), BoxError> {
    let (mut storage, _etcd, mut nodes) = two_nodes_one_replicated_data_node().await?;
    let replica = storage.replica(0, 0).port();
    let mut a = nodes[0].connect(Some("test")).await?;
    let mut b = nodes[1].connect(Some("test")).await?;
    acc_table(&mut a, 4).await?;
    // Acknowledged writes through both nodes before the kill.
    for _ in 0..20 {
        a.query_drop("UPDATE acc SET v = v + 1 WHERE id = 1")
            .await?;
        b.query_drop("UPDATE acc SET v = v + 1 WHERE id = 2")
            .await?;
    }

    let killed_at = Instant::now();
    storage.node_mut(0).kill().await?;
    let followed = within(
        Duration::from_secs(30),
        "both nodes route to the replica",
        || {
            let done = nodes
                .iter()
                .all(|n| primary_port(n, 1) == Some(replica) && pool_port(n) == Some(replica));
            async move { Ok(done) }
        },
    )
    .await?;
    println!(
        "kill to both compute nodes on the promoted replica: {} ms",
        killed_at.elapsed().as_millis().max(followed.as_millis())
    );

    // Exactly one failover in the cluster, run by one node; the other followed it.
    let events: Vec<_> = nodes
        .iter()
        .flat_map(|n| n.context().ha.failovers())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].new_primary.as_deref(),
        Some(format!("127.0.0.1:{replica}").as_str()),
        "{events:?}"
    );
    assert!(
        events[0].steps.iter().any(|(s, _)| s.contains("epoch 1")),
        "{events:?}"
    );
    let follower = nodes
        .iter()
        .find(|n| n.context().ha.failovers().is_empty())
        .ok_or("no follower")?;
    let shown = follower.context().ha.data_node(DataNodeId::new(1));
    assert!(
        shown.iter().any(|s| s
            .last_failover
            .as_deref()
            .is_some_and(|f| f.contains("decided by compute node"))),
        "{shown:?}"
    );

    // The admin ports say the same: the promoted replica is the primary on both, and
    // one of them says it followed the other's decision.
    let mut followed_by_admin = 0;
    for node in &nodes {
        let (primary, failovers) = shown_by_admin(node).await?;
        assert_eq!(primary, Some(replica));
        if failovers
            .iter()
            .any(|f| f.contains("decided by compute node"))
        {
            followed_by_admin += 1;
        }
    }
    assert_eq!(followed_by_admin, 1);

    // A row written through A is read through B; nothing acknowledged is lost.
    let mut a = nodes[0].connect(Some("test")).await?;
    let mut b = nodes[1].connect(Some("test")).await?;
    a.query_drop("INSERT INTO acc VALUES (100, 7)").await?;
    assert_eq!(value(&mut b, 100).await?, Some(7));
    assert_eq!(value(&mut b, 1).await?, Some(20));
    assert_eq!(value(&mut a, 2).await?, Some(20));
    b.query_drop("UPDATE acc SET v = v + 1 WHERE id = 100")
        .await?;
    let db = nodes[0]
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();
    let mut direct = storage_conn(&storage, replica, Some(&db)).await?;
    let v: Option<i64> = direct
        .query_first("SELECT v FROM acc WHERE id = 100")
        .await?;
    assert_eq!(v, Some(8));

    // Restarted with the configuration as written (the dead node as primary), B takes
    // the primary from etcd.
    let b_node = nodes.remove(1);
    let b_node = b_node.restart().await?;
    assert_eq!(pool_port(&b_node), Some(replica));
    let mut b = b_node.connect(Some("test")).await?;
    b.query_drop("UPDATE acc SET v = v + 1 WHERE id = 100")
        .await?;
    assert_eq!(value(&mut b, 100).await?, Some(9));
    b_node.shutdown().await;
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_switchover_through_one_node_is_followed_by_the_other() -> Result<(), BoxError> {
    let (storage, _etcd, nodes) = two_nodes_one_replicated_data_node().await?;
    let (primary, replica) = (storage.port(0), storage.replica(0, 0).port());
    let mut b = nodes[1].connect(Some("test")).await?;
    acc_table(&mut b, 2).await?;
    storage.wait_replicas_caught_up().await?;
    let db = nodes[0]
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();

    all_up(&nodes[0]).await?;
    // A client writing through B all along: B holds and drains for A's switchover,
    // so none of its statements is cut.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (opts, stop) = (nodes[1].opts(Some("test")), stop.clone());
        tokio::spawn(async move {
            let mut conn = mysql_async::Conn::new(opts).await?;
            let (mut acked, mut errors) = (0i64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                match conn
                    .query_drop("UPDATE acc SET v = v + 1 WHERE id = 2")
                    .await
                {
                    Ok(()) => acked += 1,
                    Err(e) => errors.push(e.to_string()),
                }
            }
            Ok::<_, BoxError>((acked, errors))
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(admin(&nodes[0], "SWITCH @@DATASOURCE 1").await, Ok(()));
    let followed = within(
        Duration::from_secs(10),
        "node B follows the switchover",
        || {
            let done = primary_port(&nodes[1], 1) == Some(replica)
                && pool_port(&nodes[1]) == Some(replica);
            async move { Ok(done) }
        },
    )
    .await?;
    println!(
        "switchover on A to B following: {} ms",
        followed.as_millis()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (acked, errors) = writer.await??;
    assert!(errors.is_empty(), "writes through B failed: {errors:?}");
    let events = nodes[0].context().ha.failovers();
    assert_eq!(events.len(), 1);
    assert!(
        events[0]
            .steps
            .iter()
            .any(|(s, _)| s == "other compute nodes drained (0 did not acknowledge)"),
        "{events:?}"
    );
    assert!(nodes[1].context().ha.failovers().is_empty());
    // Writes through B land on the new primary.
    let mut b = nodes[1].connect(Some("test")).await?;
    b.query_drop("UPDATE acc SET v = 5 WHERE id = 1").await?;
    let mut direct = storage_conn(&storage, replica, Some(&db)).await?;
    let v: Option<i64> = direct.query_first("SELECT v FROM acc WHERE id = 1").await?;
    assert_eq!(v, Some(5));
    let v: Option<i64> = direct.query_first("SELECT v FROM acc WHERE id = 2").await?;
    assert_eq!(v, Some(acked));
    println!("{acked} updates through B across the switchover, no error");

    // And back, through B this time: A follows (the record's second epoch).
    all_up(&nodes[1]).await?;
    assert_eq!(admin(&nodes[1], "SWITCH @@DATASOURCE 1").await, Ok(()));
    within(
        Duration::from_secs(10),
        "node A follows the switch back",
        || {
            let done = primary_port(&nodes[0], 1) == Some(primary)
                && pool_port(&nodes[0]) == Some(primary);
            async move { Ok(done) }
        },
    )
    .await?;
    assert_eq!(nodes[0].context().ha.failovers().len(), 1);
    assert_eq!(nodes[1].context().ha.failovers().len(), 1);
    let mut a = nodes[0].connect(Some("test")).await?;
    a.query_drop("UPDATE acc SET v = 6 WHERE id = 1").await?;
    let mut direct = storage_conn(&storage, primary, Some(&db)).await?;
    let v: Option<i64> = direct.query_first("SELECT v FROM acc WHERE id = 1").await?;
    assert_eq!(v, Some(6));
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_another_compute_node_still_reaches_is_not_failed_over() -> Result<(), BoxError> {
    let (mut storage, etcd, nodes) = two_nodes_one_replicated_data_node().await?;
    let (primary, replica) = (storage.port(0), storage.replica(0, 0).port());
    all_up(&nodes[0]).await?;
    all_up(&nodes[1]).await?;
    // A third compute node (id 9), live by its lease, whose heartbeat still reaches
    // the primary: the two nodes here stand for the side cut off from it.
    let client = strata_catalog::etcd::EtcdClient::new(&etcd.endpoints(), Duration::from_secs(2))?;
    let lease = client.lease_grant(60)?;
    let view = format!(r#"{{"primary":"127.0.0.1:{primary}","up":true}}"#);
    client.put(b"/strata/ha/view/1/9", view.as_bytes(), lease)?;

    storage.node_mut(0).kill().await?;
    // Several detection rounds (500 ms each, 2 failed probes): none fails over.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for node in &nodes {
        assert!(node.context().ha.failovers().is_empty());
        assert_eq!(primary_port(node, 1), Some(primary));
    }

    // Node 9 gone (its lease ended): the failover goes on, once.
    client.lease_revoke(lease)?;
    within(
        Duration::from_secs(30),
        "both nodes route to the replica",
        || {
            let done = nodes
                .iter()
                .all(|n| primary_port(n, 1) == Some(replica) && pool_port(n) == Some(replica));
            async move { Ok(done) }
        },
    )
    .await?;
    let events: Vec<_> = nodes
        .iter()
        .flat_map(|n| n.context().ha.failovers())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_etcd_unreachable_a_failed_primary_is_not_failed_over_and_an_event_says_why(
) -> Result<(), BoxError> {
    let (mut storage, mut etcd, nodes) = two_nodes_one_replicated_data_node().await?;
    let primary = storage.port(0);
    all_up(&nodes[0]).await?;
    all_up(&nodes[1]).await?;
    etcd.kill(0).await?;
    storage.node_mut(0).kill().await?;
    within(
        Duration::from_secs(30),
        "both nodes report a failover not run",
        || {
            let reported = nodes.iter().all(|n| {
                n.context().ha.failovers().iter().any(|e| {
                    e.error
                        .as_deref()
                        .is_some_and(|e| e.contains("cannot record the decision"))
                })
            });
            async move { Ok(reported) }
        },
    )
    .await?;
    for node in &nodes {
        let events = node.context().ha.failovers();
        assert!(events.iter().all(|e| e.new_primary.is_none()), "{events:?}");
        assert_eq!(primary_port(node, 1), Some(primary));
        assert_eq!(pool_port(node), Some(primary));
    }
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rw_split_altered_through_one_node_is_in_force_on_the_other() -> Result<(), BoxError> {
    let (storage, _etcd, nodes) = two_nodes_one_replicated_data_node().await?;
    let mut a = nodes[0].connect(None).await?;
    a.query_drop("CREATE DATABASE plain DEFAULT DATANODE '1'")
        .await?;
    a.query_drop("CREATE TABLE plain.rs (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)")
        .await?;
    a.query_drop("INSERT INTO plain.rs VALUES (1, 'w0')")
        .await?;
    storage.wait_replicas_caught_up().await?;
    // A row only the replica has: a read that finds it ran on the replica.
    storage
        .replica(0, 0)
        .execute_sql("SET sql_log_bin = 0; INSERT INTO `plain`.rs VALUES (2, 'replica')")
        .await?;
    all_up(&nodes[1]).await?;
    let read_on_b = || async {
        let mut b = nodes[1].connect(Some("plain")).await?;
        let v: Option<String> = b.query_first("SELECT v FROM rs WHERE id = 2").await?;
        Ok::<_, BoxError>(v)
    };
    assert_eq!(read_on_b().await?, None);
    a.query_drop("ALTER DATABASE plain RW_SPLIT 'replicas'")
        .await?;
    // In force on B when A answered OK.
    assert_eq!(read_on_b().await?.as_deref(), Some("replica"));
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decision_etcd_could_not_record_is_recorded_at_a_later_heartbeat_and_followed(
) -> Result<(), BoxError> {
    let (mut storage, _etcd, nodes) = two_nodes_one_replicated_data_node().await?;
    let replica = storage.replica(0, 0).port();
    all_up(&nodes[0]).await?;
    all_up(&nodes[1]).await?;
    let mut paused = [
        nodes[0].context().ha_promoted.arm(),
        nodes[1].context().ha_promoted.arm(),
    ];
    storage.node_mut(0).kill().await?;
    // Whichever node decides stops with the replica promoted, before recording it.
    let [p0, p1] = &mut paused;
    let decider = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::select! {
            _ = p0.reached() => 0,
            _ = p1.reached() => 1,
        }
    })
    .await?;
    let [p0, p1] = paused;
    let (stopped, _other) = if decider == 0 { (p0, p1) } else { (p1, p0) };
    stopped.release(Resume::FailDecisionLog);
    // It keeps the lock (the other decides nothing meanwhile) and records at its next
    // heartbeat; the other follows.
    within(
        Duration::from_secs(30),
        "both nodes route to the replica",
        || {
            let done = nodes
                .iter()
                .all(|n| primary_port(n, 1) == Some(replica) && pool_port(n) == Some(replica));
            async move { Ok(done) }
        },
    )
    .await?;
    let events: Vec<_> = nodes
        .iter()
        .flat_map(|n| n.context().ha.failovers())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0]
            .steps
            .iter()
            .any(|(s, _)| s == "not recorded in the cluster: etcd failed (test failpoint)"),
        "{events:?}"
    );
    let follower = &nodes[1 - decider];
    let shown = follower.context().ha.data_node(DataNodeId::new(1));
    assert!(
        shown.iter().any(|s| s
            .last_failover
            .as_deref()
            .is_some_and(|f| f.contains("(epoch 1)"))),
        "{shown:?}"
    );
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}
