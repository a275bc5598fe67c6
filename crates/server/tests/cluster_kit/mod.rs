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

/// A TCP relay to one etcd endpoint that a test can cut (every connection closed, new
/// ones dropped) and restore: one compute node cut off from etcd while the others
/// still reach it.
pub struct CuttableLink {
    addr: std::net::SocketAddr,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    relays: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableLink {
    /// Relays to `endpoint` (`http://host:port`).
    pub async fn start(
        endpoint: &str,
    ) -> Result<CuttableLink, Box<dyn std::error::Error + Send + Sync>> {
        use std::sync::atomic::Ordering;
        let target = endpoint.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let relays = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (cut_in, relays_in) = (cut.clone(), relays.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if cut_in.load(Ordering::SeqCst) {
                    continue;
                }
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                relays_in
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(relay.abort_handle());
            }
        });
        Ok(CuttableLink {
            addr,
            cut,
            relays,
            accept,
        })
    }

    /// The URL to give a compute node instead of the endpoint's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes every relayed connection and drops new ones until `restore`.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for relay in self
            .relays
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            relay.abort();
        }
    }

    /// Relays again.
    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for CuttableLink {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
