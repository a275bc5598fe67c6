//! The metadata fence between compute nodes sharing etcd: a DDL announces its tables
//! and waits for every node to acknowledge before it changes the data nodes; a
//! statement on such a table through another node waits and is planned again on the
//! new metadata (or stops waiting when its connection is killed), one already running
//! holds the DDL back until it ended; and a node whose membership lapsed refuses
//! statements and says OFFLINE until it joined again.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use strata_catalog::fence::fenced_table;
use strata_server::failpoints::Resume;
use strata_testkit::ComputeNode;

mod cluster_kit;
mod common;

use cluster_kit::{cluster, etcd_client, shut_down, CuttableLink, TestResult};
use strata_testkit::EtcdCluster;

/// Polls `done` every 20 ms until it holds; an error naming `what` after 20 s.
async fn until(what: &str, mut done: impl FnMut() -> bool) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Creates `table` sharded over both data nodes with one row on each.
async fn two_rows_on_two_data_nodes(c: &mut mysql_async::Conn, table: &str) -> TestResult {
    c.query_drop(format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY) SHARD BY functiontype 'auto_mod' \
         USING COLUMN 'id' ON DATANODE '1,2'"
    ))
    .await?;
    c.query_drop(format!("INSERT INTO {table} VALUES (1), (2)"))
        .await?;
    Ok(())
}

fn fence_of(node: &ComputeNode) -> &strata_catalog::fence::MetadataFence {
    node.server().context().topology.catalog().fence()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_on_a_table_being_created_waits_and_runs_on_the_new_metadata() -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let table = strata_testkit::unique_name("fenced");
    let key = fenced_table("test", &table);

    // Node 1's CREATE TABLE stops once every node acknowledged its announcement,
    // before any data node has the table.
    let mut paused = nodes[0].context().ddl_announced.arm();
    let opts = nodes[0].opts(Some("test"));
    let create = format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_mod' \
         USING COLUMN 'id' ON DATANODE '1,2'"
    );
    let ddl = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_drop(create).await
    });
    assert!(paused.reached().await, "the DDL reached the pause");
    assert!(
        fence_of(&nodes[1]).is_pending(&key),
        "node 2 acknowledged the announcement"
    );
    let catalog_two = nodes[1].server().context().topology.catalog();
    assert!(catalog_two.table("test", &table).is_none());

    // An insert through node 2 now waits instead of running on what node 2 knew.
    let opts = nodes[1].opts(Some("test"));
    let insert = format!("INSERT INTO {table} (id, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4)");
    let writer = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_drop(insert).await
    });
    until("the insert waits", || fence_of(&nodes[1]).waiting() == 1).await?;
    assert!(!writer.is_finished());

    // A second waiting insert whose connection is killed stops waiting.
    let mut doomed = nodes[1].connect(Some("test")).await?;
    let doomed_id = doomed.id();
    let doomed_insert = format!("INSERT INTO {table} (id, v) VALUES (9, 9)");
    let doomed_task = tokio::spawn(async move { doomed.query_drop(doomed_insert).await });
    until("both inserts wait", || fence_of(&nodes[1]).waiting() == 2).await?;
    let mut killer = nodes[1].connect(Some("test")).await?;
    killer.query_drop(format!("KILL {doomed_id}")).await?;
    let killed = doomed_task.await?.err().ok_or("a killed statement ran")?;
    assert_eq!(common::code_of(&killed), Some(1927), "{killed}");
    assert_eq!(fence_of(&nodes[1]).waiting(), 1);

    paused.release(Resume::Continue);
    ddl.await??;
    writer.await??;
    assert!(!fence_of(&nodes[1]).is_pending(&key));

    // Planned again on the new metadata: the rows are where the sharding puts them.
    let mut one = nodes[0].connect(Some("test")).await?;
    for (dnid, expected) in [(1, 2), (2, 2)] {
        let n: Option<u64> = one
            .query_first(format!(
                "/*!strata:dnid={dnid}*/ SELECT COUNT(*) FROM {table}"
            ))
            .await?;
        assert_eq!(n, Some(expected), "rows on data node {dnid}");
    }
    one.query_drop(format!("DROP TABLE {table}")).await?;
    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ddl_changes_the_data_nodes_only_after_statements_running_on_its_table_ended(
) -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let table = strata_testkit::unique_name("drained");
    let key = fenced_table("test", &table);
    let mut one = nodes[0].connect(Some("test")).await?;
    two_rows_on_two_data_nodes(&mut one, &table).await?;

    // A read through node 2 that runs for about a second on each data node.
    let opts = nodes[1].opts(Some("test"));
    let read = format!("SELECT id, SLEEP(1) FROM {table} ORDER BY id");
    let reader = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query::<(i32, i32), _>(read).await
    });
    until("the read runs", || fence_of(&nodes[1]).holding(&key) == 1).await?;

    // The DROP through node 1 passes its announcement only once the read ended.
    let mut paused = nodes[0].context().ddl_announced.arm();
    let opts = nodes[0].opts(Some("test"));
    let drop_table = format!("DROP TABLE {table}");
    let ddl = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_drop(drop_table).await
    });
    assert!(paused.reached().await, "the DDL reached the pause");
    // The read's statement ended on node 2 (its reply may still be on the way).
    assert_eq!(fence_of(&nodes[1]).holding(&key), 0, "the read ended first");
    assert_eq!(reader.await??, vec![(1, 0), (2, 0)]);
    paused.release(Resume::Continue);
    ddl.await??;
    shut_down(nodes).await
}

/// `GET /health` of `node`: the status code and the body.
async fn health(
    node: &ComputeNode,
) -> Result<(u16, String), Box<dyn std::error::Error + Send + Sync>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(node.http_addr()).await?;
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: strata\r\n\r\n")
        .await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let body = reply
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    Ok((status, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_membership_lapsed_refuses_statements_and_is_offline_until_it_joined_again(
) -> TestResult {
    let (etcd, nodes) = cluster(1, 2, |c| c.cluster.lease_ttl_ms = 3000).await?;
    let table = strata_testkit::unique_name("lapsed");
    let mut one = nodes[0].connect(Some("test")).await?;
    two_rows_on_two_data_nodes(&mut one, &table).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    let read = format!("SELECT COUNT(*) FROM {table}");
    assert_eq!(two.query_first::<u64, _>(&read).await?, Some(2));

    // Node 2's lease ends (as when it was put out for being slow), and a stand-in holds
    // its member key, so it cannot join again until the test lets it.
    let client = etcd_client(&etcd)?;
    let key = format!("/strata/members/{}", nodes[1].config().server.node_id);
    let old = client
        .get(key.as_bytes())?
        .ok_or("node 2 is not a member")?;
    client.lease_revoke(old.lease)?;
    let stand_in = client.lease_grant(60)?;
    client.put(key.as_bytes(), b"{}", stand_in)?;
    until("node 2 notices", || fence_of(&nodes[1]).is_rejoining()).await?;

    // Statements on tables are refused with 1047 (08S01), session settings are not;
    // new connections are refused; /health says offline.
    let err = two
        .query_drop(&read)
        .await
        .err()
        .ok_or("a lapsed node served")?;
    assert_eq!(common::code_of(&err), Some(1047), "{err}");
    assert!(err.to_string().contains("rejoining the cluster"), "{err}");
    two.query_drop("SET @kept = 1").await?;
    let refused = mysql_async::Conn::new(nodes[1].opts(Some("test"))).await;
    let err = refused.err().ok_or("a lapsed node took a connection")?;
    assert_eq!(common::code_of(&err), Some(1047), "{err}");
    let (status, body) = health(&nodes[1]).await?;
    assert_eq!(status, 503);
    assert!(body.contains(r#""status":"offline""#), "{body}");
    assert_eq!(health(&nodes[0]).await?.0, 200);

    // Let go: node 2 reloads, joins under a new lease and serves again.
    client.lease_revoke(stand_in)?;
    until("node 2 joined again", || {
        !fence_of(&nodes[1]).is_rejoining()
    })
    .await?;
    let rejoined = client
        .get(key.as_bytes())?
        .ok_or("node 2 did not join again")?;
    assert_ne!(rejoined.lease, old.lease);
    assert_eq!(two.query_first::<u64, _>(&read).await?, Some(2));
    assert_eq!(health(&nodes[1]).await?.0, 200);

    one.query_drop(format!("DROP TABLE {table}")).await?;
    shut_down(nodes).await
}

/// Two compute nodes over one etcd; node 2 reaches it through a link the test can cut.
async fn cluster_with_cuttable_node_two(
    on_loss: strata_catalog::config::EtcdLossPolicy,
) -> Result<(EtcdCluster, CuttableLink, Vec<ComputeNode>), Box<dyn std::error::Error + Send + Sync>>
{
    let storage = strata_testkit::shared_storage(2).await?;
    let etcd = EtcdCluster::start(1).await?;
    let endpoints = etcd.endpoints();
    let link = CuttableLink::start(&endpoints[0]).await?;
    let through_link = vec![link.url()];
    let nodes = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.cluster.etcd = endpoints;
            c.cluster.lease_ttl_ms = 3000;
            c.cluster.ddl_ack_timeout_ms = 1000;
            c.cluster.on_etcd_loss = on_loss;
        })
        .configure_each(move |i, c| {
            if i == 1 {
                c.cluster.etcd = through_link.clone();
            }
        })
        .start_many(2)
        .await?;
    Ok((etcd, link, nodes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_etcd_has_stopped_serving_when_a_ddl_without_it_returns() -> TestResult
{
    use strata_catalog::config::EtcdLossPolicy;
    let (_etcd, link, nodes) = cluster_with_cuttable_node_two(EtcdLossPolicy::Refuse).await?;
    let table = strata_testkit::unique_name("cutoff");
    let mut one = nodes[0].connect(Some("test")).await?;
    two_rows_on_two_data_nodes(&mut one, &table).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    let read = format!("SELECT COUNT(*) FROM {table}");
    assert_eq!(two.query_first::<u64, _>(&read).await?, Some(2));

    // Node 2 can no longer reach etcd (the data nodes it still reaches). A DDL through
    // node 1 gets no acknowledgement from it, puts it out, and goes on only once node 2
    // can no longer be serving on the old metadata.
    link.cut();
    one.query_drop(format!(
        "ALTER TABLE {table} ADD COLUMN extra INT NOT NULL DEFAULT 7"
    ))
    .await?;
    assert!(
        fence_of(&nodes[1]).is_rejoining(),
        "node 2 still serves on the metadata from before the DDL"
    );
    let err = two
        .query_drop(&read)
        .await
        .err()
        .ok_or("a node cut off from etcd served after a DDL went on without it")?;
    assert_eq!(common::code_of(&err), Some(1047), "{err}");

    // etcd reachable again: node 2 finds its lease gone, reloads, joins and serves the
    // new metadata.
    link.restore();
    until("node 2 joined again", || {
        !fence_of(&nodes[1]).is_rejoining()
    })
    .await?;
    let extra: Option<i64> = two
        .query_first(format!("SELECT MIN(extra) FROM {table}"))
        .await?;
    assert_eq!(extra, Some(7));
    one.query_drop(format!("DROP TABLE {table}")).await?;
    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_on_etcd_loss_serve_a_node_cut_off_from_etcd_keeps_serving() -> TestResult {
    use strata_catalog::config::EtcdLossPolicy;
    let (_etcd, link, nodes) = cluster_with_cuttable_node_two(EtcdLossPolicy::Serve).await?;
    let table = strata_testkit::unique_name("cutserve");
    let mut one = nodes[0].connect(Some("test")).await?;
    two_rows_on_two_data_nodes(&mut one, &table).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    let read = format!("SELECT COUNT(*) FROM {table}");
    link.cut();
    // Past a whole lease time to live without etcd, it still serves what it knows.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(!fence_of(&nodes[1]).is_rejoining());
    assert_eq!(two.query_first::<u64, _>(&read).await?, Some(2));
    link.restore();
    one.query_drop(format!("DROP TABLE {table}")).await?;
    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_longer_than_the_ack_timeout_is_interrupted_when_its_node_is_put_out(
) -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |c| {
        c.cluster.lease_ttl_ms = 3000;
        c.cluster.ddl_ack_timeout_ms = 1000;
    })
    .await?;
    let table = strata_testkit::unique_name("longrun");
    let mut one = nodes[0].connect(Some("test")).await?;
    two_rows_on_two_data_nodes(&mut one, &table).await?;
    one.query_drop(format!("INSERT INTO {table} VALUES (3), (4), (5), (6)"))
        .await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    // 15 s on each data node if nothing stops it (an interrupted SLEEP() returns 1; the
    // storage node notices the kill at the next row).
    let long = format!("SELECT COUNT(*) FROM {table} WHERE SLEEP(5) = 0");
    let running = tokio::spawn(async move {
        let outcome = two.query_first::<u64, _>(long).await;
        (outcome, Instant::now())
    });
    until("node 2's statement holds the table", || {
        fence_of(&nodes[1]).holding(&fenced_table("test", &table)) == 1
    })
    .await?;
    // Node 2 cannot acknowledge while its statement runs: it is put out, and its
    // statement is interrupted rather than left running on the old definition.
    one.query_drop(format!(
        "ALTER TABLE {table} ADD COLUMN extra INT NOT NULL DEFAULT 7"
    ))
    .await?;
    let altered = Instant::now();
    let (outcome, ended) = running.await?;
    let err = outcome
        .err()
        .ok_or("the long statement ran to its end across the DDL")?;
    assert!(
        ended <= altered,
        "node 2's statement ended after the DDL returned: {err}"
    );
    until("node 2 joined again", || {
        !fence_of(&nodes[1]).is_rejoining()
    })
    .await?;
    one.query_drop(format!("DROP TABLE {table}")).await?;
    shut_down(nodes).await
}
