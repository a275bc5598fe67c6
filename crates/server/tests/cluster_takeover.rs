//! Takeover in a cluster of compute nodes sharing etcd: the prepared XA branches of a
//! compute node that is no longer a member are finished by the elected leader by that
//! node's decisions in etcd (committed where one is logged, rolled back otherwise), a
//! node whose membership lapsed can log no decision any more, and the bank test keeps
//! its exact total through three compute nodes while one is SIGKILLed for good and
//! while an etcd member dies.

mod bank;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank::{
    accounts_table, branches_of, settled_total, within, Bank, BoxError, TestResult, XA_FORMAT_ID,
};
use mysql_async::prelude::*;
use strata_catalog::etcd::EtcdClient;
use strata_catalog::store::etcd::EtcdStore;
use strata_catalog::{Decision, DecisionLog};
use strata_testkit::{ComputeNode, EtcdCluster, StorageNodes};

/// Prepared branches of any of `nodes` left on any storage node.
async fn branches_of_nodes(storage: &StorageNodes, nodes: &[u32]) -> Result<Vec<String>, BoxError> {
    let mut left = Vec::new();
    for node in nodes {
        left.extend(branches_of(storage, *node).await?);
    }
    Ok(left)
}

/// `n` in-process compute nodes sharing `etcd`, over `storage`, configured by `tweak`.
async fn cluster_of(
    storage: &StorageNodes,
    etcd: &EtcdCluster,
    n: usize,
    tweak: impl FnOnce(&mut strata_catalog::Config) + Send + 'static,
) -> Result<Vec<ComputeNode>, BoxError> {
    let endpoints = etcd.endpoints();
    Ok(ComputeNode::builder(storage)
        .configure(move |c| {
            c.cluster.etcd = endpoints;
            tweak(c);
        })
        .start_many(n)
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_finishes_a_dead_nodes_branches_by_its_decisions() -> TestResult {
    let storage = strata_testkit::shared_storage(4).await?;
    let etcd = EtcdCluster::start(1).await?;
    let nodes = cluster_of(&storage, &etcd, 2, |c| c.cluster.takeover_interval_ms = 200).await?;
    let physical = nodes[0]
        .physical_database("test")
        .ok_or("physical")?
        .to_string();
    let mut c = nodes[0].connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE orphan (id INT PRIMARY KEY) SHARD BY functiontype 'auto_mod' \
         USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;

    // Compute node 9999, epoch 5, is no member: it left transaction 1 decided (its
    // decision in etcd) and transaction 2 undecided, each prepared on two data nodes.
    let dead = 9999u32;
    let gtrid = |n: u32| format!("strata:{dead}:5:{n}");
    // The branches stay attached to their connections until the decision is logged
    // (as a live coordinator's are): the leader, looking at any moment, can finish
    // none of them before.
    let mut attached = Vec::new();
    for (i, tx) in [(0usize, 1u32), (1, 1), (2, 2), (3, 2)] {
        let mut s = storage.connect(i, Some(&physical)).await?;
        let xid = format!("'{}','{}',{XA_FORMAT_ID}", gtrid(tx), i + 1);
        s.query_drop(format!("XA START {xid}")).await?;
        s.query_drop(format!(
            "INSERT INTO orphan VALUES ({})",
            10 * tx + i as u32
        ))
        .await?;
        s.query_drop(format!("XA END {xid}")).await?;
        s.query_drop(format!("XA PREPARE {xid}")).await?;
        attached.push(s);
    }
    let client = EtcdClient::new(&etcd.endpoints(), Duration::from_secs(2))?;
    let decision_key = format!("/strata/xa/{dead}/{}", gtrid(1));
    client.put(decision_key.as_bytes(), b"0;1,2", 0)?;
    for s in attached {
        s.disconnect().await?;
    }

    let (st, cl) = (&storage, &client);
    let took = within(
        Duration::from_secs(30),
        "the dead node's branches",
        || async move { Ok(branches_of(st, dead).await?.is_empty()) },
    )
    .await?;
    eprintln!("takeover: dead node's branches finished after {took:?}");
    let ids: Vec<i32> = c.query("SELECT id FROM orphan ORDER BY id").await?;
    assert_eq!(
        ids,
        vec![10, 11],
        "the decided transaction committed, the other rolled back"
    );
    let key = decision_key.as_bytes();
    within(
        Duration::from_secs(10),
        "the dead node's decision",
        || async move { Ok(cl.get(key)?.is_none()) },
    )
    .await?;

    c.query_drop("DROP TABLE orphan").await?;
    // Dropping the nodes stops them.
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_membership_lapsed_logs_no_decision_of_its_old_epoch() -> TestResult {
    let storage = strata_testkit::shared_storage(2).await?;
    let etcd = EtcdCluster::start(1).await?;
    let nodes = cluster_of(&storage, &etcd, 1, |_| {}).await?;
    let catalog = nodes[0].context().topology.catalog();
    let store: &EtcdStore = catalog.store().etcd().ok_or("the store is not etcd")?;
    let node_id = nodes[0].config().server.node_id;
    let before = store.incarnation().ok_or("not registered")?;
    let decision = |n: u32| Decision {
        gtrid: format!(
            "{}{n}",
            strata_catalog::xalog::gtrid_prefix(node_id, before.epoch)
        ),
        data_nodes: vec![strata_catalog::DataNodeId::new(1)],
        decided_ms: 0,
    };
    store.log_commits(&[decision(1)], &[])?;
    store.forget(&[decision(1).gtrid])?;

    // The membership lapses (as when etcd did not hear from the node in time): from
    // then on no transaction of that epoch can commit, also after it joined again.
    let me = store
        .members()?
        .into_iter()
        .find(|m| m.record.node_id == node_id)
        .ok_or("not a member")?;
    assert_eq!(me.record.xa_epoch, before.epoch);
    store.client().lease_revoke(me.lease)?;
    let refused = store.log_commits(&[decision(2)], &[]);
    assert!(refused.is_err(), "a decision of a lapsed epoch was logged");
    assert!(!store.is_committed(&decision(2).gtrid)?);
    within(Duration::from_secs(20), "joining again", || async move {
        Ok(store.incarnation().is_some_and(|i| i.epoch != before.epoch))
    })
    .await?;
    let refused = store.log_commits(&[decision(3)], &[]);
    assert!(
        refused.is_err(),
        "a decision of the old epoch was logged after joining again"
    );

    drop(nodes);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_through_three_compute_nodes_survives_one_killed_for_good() -> TestResult {
    let storage = strata_testkit::shared_storage(4).await?;
    let mut etcd = EtcdCluster::start(3).await?;
    let endpoints = etcd.endpoints();
    let mut nodes = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.cluster.etcd = endpoints;
            c.cluster.lease_ttl_ms = 3_000;
            c.cluster.ddl_ack_timeout_ms = 2_000;
            c.cluster.takeover_interval_ms = 500;
            c.transaction.recovery_interval_ms = 500;
        })
        .spawn_many(3)
        .await?;
    let ids: Vec<u32> = nodes.iter().map(|n| n.config().server.node_id).collect();
    let mut c = nodes[1].connect(Some("test")).await?;
    accounts_table(&mut c, 64, 1000).await?;
    drop(c);
    let bank = Arc::new(Bank::new(
        nodes.iter().map(|n| n.opts(Some("test"))).collect(),
        false,
    ));

    let etcd_view = EtcdStore::connect(&nodes[1].config().cluster, ids[1])?;
    let epoch_of = |node: u32| -> Result<Option<u64>, BoxError> {
        Ok(etcd_view
            .members()?
            .into_iter()
            .find(|m| m.record.node_id == node)
            .map(|m| m.record.xa_epoch))
    };
    let first_epoch = epoch_of(ids[0])?.ok_or("node 1 is not a member")?;

    // Transfers through all three; compute node 1 dies for good after 3 s, and its
    // in-doubt branches are finished while the others carry on.
    let workload = tokio::spawn(bank.clone().run(15, 0, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    nodes[0].kill().await?;
    let killed = Instant::now();
    let in_doubt = branches_of(&storage, ids[0]).await?.len();
    let st = &storage;
    let dead = ids[0];
    let took = within(
        Duration::from_secs(60),
        "the dead node's branches",
        || async move { Ok(branches_of(st, dead).await?.is_empty()) },
    )
    .await?;
    eprintln!(
        "takeover: {in_doubt} branches of the killed node prepared just after the kill, \
         none {took:?} after it"
    );
    let stats = workload.await?;
    let through: Vec<u64> = stats
        .through
        .iter()
        .map(|t| t.load(Ordering::Relaxed))
        .collect();
    eprintln!(
        "bank: {} transfers committed ({through:?} per node), {} failed",
        stats.transfers.load(Ordering::Relaxed),
        stats.failed.load(Ordering::Relaxed)
    );
    assert!(
        through[..3].iter().all(|t| *t > 0),
        "transfers went through every compute node: {through:?}"
    );

    // No branch of any compute node is left prepared, the dead one's included.
    let (st, all) = (&storage, &ids);
    let left_for = within(
        Duration::from_secs(60),
        "prepared branches",
        || async move { Ok(branches_of_nodes(st, all).await?.is_empty()) },
    )
    .await;
    eprintln!(
        "takeover: no branch of any node left {:?} after the kill",
        killed.elapsed()
    );
    left_for?;
    let survivor = bank.nodes[1].clone();
    assert_eq!(settled_total(&survivor).await?, bank.total());

    // An etcd member dies while the two survivors carry on: no client sees an error.
    let bank = Arc::new(Bank::new(bank.nodes[1..].to_vec(), false));
    let workload = tokio::spawn(bank.clone().run(10, 0, Duration::from_secs(6)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    etcd.kill(0).await?;
    let stats = workload.await?;
    let (committed, failed) = (
        stats.transfers.load(Ordering::Relaxed),
        stats.failed.load(Ordering::Relaxed),
    );
    eprintln!("bank with an etcd member killed: {committed} transfers committed, {failed} failed");
    let errors = stats.errors.lock().map(|e| e.clone()).unwrap_or_default();
    assert_eq!(failed, 0, "a client saw an error: {errors:?}");
    assert!(committed > 0);
    assert_eq!(settled_total(&survivor).await?, bank.total());
    assert!(branches_of_nodes(&storage, &ids).await?.is_empty());

    // Node 1 comes back: a new epoch, nothing of its old one left to do.
    nodes[0].restart().await?;
    let second_epoch = epoch_of(ids[0])?.ok_or("node 1 did not join again")?;
    assert!(
        second_epoch > first_epoch,
        "{second_epoch} after {first_epoch}"
    );
    let own_left: Vec<Decision> = etcd_view
        .all_decisions()?
        .into_iter()
        .filter(|d| {
            d.gtrid
                .starts_with(&strata_catalog::xalog::node_gtrid_prefix(ids[0]))
        })
        .collect();
    assert!(own_left.is_empty(), "decisions left: {own_left:?}");
    let mut back = nodes[0].connect(Some("test")).await?;
    let total: Option<String> = back
        .query_first("SELECT SUM(balance) FROM accounts")
        .await?;
    assert_eq!(total, Some(bank.total().to_string()));
    Ok(())
}
