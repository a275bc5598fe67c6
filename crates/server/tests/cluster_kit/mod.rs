//! What the cluster tests share: a real etcd and compute nodes over the same storage
//! nodes, a client of that etcd, and the end of a test.

#![allow(dead_code)]

use mysql_async::prelude::Queryable;
use strata_testkit::{ComputeNode, EtcdCluster};

/// What a test ends with.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Runs `sql`, which must fail with an error whose text holds `needle`; `unexpected`
/// says what went wrong when it succeeds.
pub async fn fails_with(
    c: &mut mysql_async::Conn,
    sql: &str,
    needle: &str,
    unexpected: &'static str,
) -> TestResult {
    let err = c.query_drop(sql).await.err().ok_or(unexpected)?;
    assert!(err.to_string().contains(needle), "unexpected error: {err}");
    Ok(())
}

/// A new etcd cluster of `members` members and `n` compute nodes over the same two
/// storage nodes, their metadata in it, their configuration changed by `tweak`.
pub async fn cluster(
    members: usize,
    n: usize,
    tweak: impl FnOnce(&mut strata_catalog::Config) + Send + 'static,
) -> Result<(EtcdCluster, Vec<ComputeNode>), Box<dyn std::error::Error + Send + Sync>> {
    let storage = strata_testkit::shared_storage(2).await?;
    let etcd = EtcdCluster::start(members).await?;
    let endpoints = etcd.endpoints();
    let nodes = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.cluster.etcd = endpoints;
            tweak(c);
        })
        .start_many(n)
        .await?;
    Ok((etcd, nodes))
}

/// A client of `etcd`, for what a test reads or writes there itself.
pub fn etcd_client(
    etcd: &EtcdCluster,
) -> Result<strata_catalog::etcd::EtcdClient, Box<dyn std::error::Error + Send + Sync>> {
    Ok(strata_catalog::etcd::EtcdClient::new(
        &etcd.endpoints(),
        std::time::Duration::from_secs(2),
    )?)
}

/// Ends a test: shuts every compute node down.
pub async fn shut_down(nodes: Vec<ComputeNode>) -> TestResult {
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}
