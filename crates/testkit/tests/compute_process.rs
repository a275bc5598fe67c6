//! A compute node as a `strata serve` child process: serves, survives kill -9 by
//! restarting on the same configuration, and exits cleanly on SIGTERM.
//!
//! Needs the `strata` binary (`cargo build -p strata`, which `scripts/test` runs first).

use mysql_async::prelude::Queryable;
use strata_testkit::{shared_storage, ComputeNode};

#[tokio::test]
async fn child_compute_node_restarts_after_kill_and_exits_on_sigterm() {
    let storage = shared_storage(2).await.expect("shared storage");
    let mut compute = ComputeNode::builder(&storage)
        .spawn()
        .await
        .expect("strata serve");

    let mut conn = compute.connect(None).await.expect("connect");
    let one: Option<i64> = conn.query_first("SELECT 1").await.expect("select");
    assert_eq!(one, Some(1));
    drop(conn);

    compute.kill().await.expect("kill -9");
    compute.restart().await.expect("restart");
    let mut conn = compute.connect(None).await.expect("reconnect");
    let one: Option<i64> = conn.query_first("SELECT 1").await.expect("select");
    assert_eq!(one, Some(1));
    drop(conn);

    let status = compute.terminate().await.expect("SIGTERM");
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        compute.log()
    );
}
