//! Several compute nodes sharing their metadata through a real etcd: AUTO_INCREMENT
//! values unique across nodes, DDL, views and accounts through one node in force on the others
//! before it returns OK, membership lost by a node that does not acknowledge and regained, and DDL and new AUTO_INCREMENT segments refused (nothing local instead)
//! when etcd is unreachable, and what a reader on one node sees of a commit through
//! another.

use std::collections::HashSet;

use mysql_async::prelude::Queryable;
use strata_testkit::{ComputeNode, EtcdCluster};

mod cluster_kit;

use cluster_kit::{cluster, etcd_client, fails_with, shut_down, TestResult};

/// A row of `SHOW @@CLUSTER`.
type ClusterRow = (
    u32,
    String,
    String,
    String,
    Option<u64>,
    String,
    Option<String>,
    u8,
);

/// The rows of `SHOW @@CLUSTER` on the admin connection `admin`.
async fn show_cluster(
    admin: &mut mysql_async::Conn,
) -> Result<Vec<ClusterRow>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(admin.query("SHOW @@CLUSTER").await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_increment_values_are_unique_across_compute_nodes() -> TestResult {
    let (_etcd, nodes) = cluster(3, 3, |_| {}).await?;
    let mut conn = nodes[0].connect(Some("test")).await?;
    conn.query_drop("CREATE TABLE ai (id BIGINT AUTO_INCREMENT PRIMARY KEY, node INT, k INT)")
        .await?;

    // Four clients per compute node, each inserting single rows and multi-row batches,
    // on three compute nodes.
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for client in 0..4 {
            let mut conn = node.connect(Some("test")).await?;
            tasks.push(tokio::spawn(async move {
                for i in 0..40 {
                    let k = client * 1000 + i;
                    if i % 4 == 0 {
                        conn.query_drop(format!(
                            "INSERT INTO ai (node, k) VALUES ({n}, {k}), ({n}, {k}), ({n}, {k})"
                        ))
                        .await?;
                    } else {
                        conn.query_drop(format!("INSERT INTO ai (node, k) VALUES ({n}, {k})"))
                            .await?;
                    }
                }
                Ok::<_, mysql_async::Error>(())
            }));
        }
    }
    for task in tasks {
        task.await??;
    }

    let mut other = nodes[1].connect(Some("test")).await?;
    let ids: Vec<(u64, u32)> = other.query("SELECT id, node FROM ai").await?;
    // 3 nodes x 4 clients x (30 single rows + 10 batches of 3).
    assert_eq!(ids.len(), 3 * 4 * (30 + 10 * 3));
    let distinct: HashSet<u64> = ids.iter().map(|(id, _)| *id).collect();
    assert_eq!(distinct.len(), ids.len(), "duplicate AUTO_INCREMENT values");
    // Every compute node handed out values (from its own segments).
    let by_node: HashSet<u32> = ids.iter().map(|(_, n)| *n).collect();
    assert_eq!(by_node, HashSet::from([0, 1, 2]));

    conn.query_drop("DROP TABLE ai").await?;
    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_through_one_node_is_in_force_on_the_others_before_ok() -> TestResult {
    let (_etcd, nodes) = cluster(3, 3, |_| {}).await?;
    let catalog_of = |i: usize| nodes[i].server().context().topology.catalog();
    let members = catalog_of(0)
        .store()
        .etcd()
        .ok_or("the store is not etcd")?
        .members()?;
    assert_eq!(
        members.len(),
        3,
        "every compute node is a member: {members:?}"
    );

    // SHOW @@CLUSTER on the admin port: this node and the others.
    let mut admin = mysql_async::Conn::new(nodes[0].admin_opts()).await?;
    let mut rows = show_cluster(&mut admin).await?;
    rows.sort();
    let mut expected = vec![
        (nodes[0].config().server.node_id, "self".to_string()),
        (nodes[1].config().server.node_id, "member".to_string()),
        (nodes[2].config().server.node_id, "member".to_string()),
    ];
    expected.sort();
    let seen: Vec<(u32, String)> = rows.iter().map(|r| (r.0, r.3.clone())).collect();
    assert_eq!(seen, expected, "{rows:?}");
    for node in &nodes {
        let row = rows
            .iter()
            .find(|r| r.0 == node.config().server.node_id)
            .ok_or("a node is missing")?;
        assert_eq!(row.1, node.service_addr().to_string());
    }
    // One of them leads (runs takeovers), once the first campaign has run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = show_cluster(&mut admin).await?;
        let leaders: Vec<u32> = rows.iter().filter(|r| r.7 == 1).map(|r| r.0).collect();
        if leaders.len() == 1 {
            break;
        }
        assert!(
            leaders.len() < 2 && std::time::Instant::now() < deadline,
            "no single leader in {rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let mut one = nodes[0].connect(Some("test")).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    let mut three = nodes[2].connect(Some("test")).await?;
    one.query_drop("CREATE TABLE shared (id INT PRIMARY KEY, v VARCHAR(10))")
        .await?;
    // Nodes 2 and 3 applied the new table before node 1 answered OK.
    for i in [1, 2] {
        let seen = catalog_of(i)
            .table("test", "shared")
            .ok_or("a node does not know the table")?;
        assert_eq!(seen.data_nodes.len(), 2);
    }
    // ... and use it at once: rows spread over both data nodes, read back through node 1.
    two.query_drop("INSERT INTO shared VALUES (1, 'a'), (2, 'b')")
        .await?;
    three
        .query_drop("INSERT INTO shared VALUES (3, 'c'), (4, 'd')")
        .await?;
    let rows: Vec<(i32, String)> = one.query("SELECT id, v FROM shared ORDER BY id").await?;
    assert_eq!(
        rows,
        vec![
            (1, "a".into()),
            (2, "b".into()),
            (3, "c".into()),
            (4, "d".into())
        ]
    );

    // A database created through node 2 is there on node 1, and dropping a table
    // through node 2 removes it from node 1 before the DROP returns.
    let made = strata_testkit::unique_name("made_on_two");
    two.query_drop(format!("CREATE DATABASE {made}")).await?;
    assert!(catalog_of(0).logic_db(&made).is_some());
    assert!(catalog_of(2).logic_db(&made).is_some());
    // ... and usable there: a table made in it through node 1, written through node 3.
    one.query_drop(format!("CREATE TABLE {made}.t (id INT PRIMARY KEY)"))
        .await?;
    three
        .query_drop(format!("INSERT INTO {made}.t VALUES (1), (2), (3)"))
        .await?;
    let count: Option<i64> = two
        .query_first(format!("SELECT COUNT(*) FROM {made}.t"))
        .await?;
    assert_eq!(count, Some(3));
    two.query_drop(format!("DROP DATABASE {made}")).await?;
    assert!(catalog_of(0).logic_db(&made).is_none());
    two.query_drop("DROP TABLE shared").await?;
    assert!(catalog_of(0).table("test", "shared").is_none());
    assert!(catalog_of(2).table("test", "shared").is_none());

    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_created_through_one_node_are_read_through_the_others() -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let catalog_of = |i: usize| nodes[i].server().context().topology.catalog();
    let mut one = nodes[0].connect(Some("test")).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    for sql in [
        "CREATE TABLE viewed (id INT PRIMARY KEY, v INT)",
        "INSERT INTO viewed VALUES (1, 10), (2, 20), (3, 30)",
        "CREATE VIEW big AS SELECT id FROM viewed WHERE v > 10",
    ] {
        one.query_drop(sql).await?;
    }
    // In force on node 2 before node 1 answered OK.
    assert!(catalog_of(1).view("test", "big").is_some());
    let ids: Vec<i32> = two.query("SELECT id FROM big ORDER BY id").await?;
    assert_eq!(ids, vec![2, 3]);
    two.query_drop("CREATE OR REPLACE VIEW big AS SELECT id FROM viewed WHERE v > 20")
        .await?;
    let ids: Vec<i32> = one.query("SELECT id FROM big").await?;
    assert_eq!(ids, vec![3]);
    two.query_drop("DROP VIEW big").await?;
    assert!(catalog_of(0).view("test", "big").is_none());
    one.query_drop("DROP TABLE viewed").await?;
    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_etcd_unreachable_ddl_fails_and_known_tables_keep_working() -> TestResult {
    let (mut etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let mut one = nodes[0].connect(Some("test")).await?;
    for sql in [
        "CREATE TABLE known (id INT PRIMARY KEY)",
        "INSERT INTO known VALUES (1), (2)",
        "CREATE TABLE counted (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT)",
        "INSERT INTO counted (k) VALUES (1)",
    ] {
        one.query_drop(sql).await?;
    }
    // A transaction over both data nodes, open when etcd goes away.
    one.query_drop("BEGIN").await?;
    one.query_drop("INSERT INTO known VALUES (10), (11), (12), (13), (14), (15), (16), (17)")
        .await?;

    etcd.kill(0).await?;
    // Its commit decision cannot be made durable: rolled back, with an error.
    fails_with(
        &mut one,
        "COMMIT",
        "etcd",
        "a multi-node commit succeeded without its decision log",
    )
    .await?;
    // More values than the node holds in its segments: a new segment is needed, and
    // without etcd there is none (no local fallback).
    let rows = vec!["(1)"; 5000].join(", ");
    for (sql, unexpected) in [
        (
            format!("INSERT INTO counted (k) VALUES {rows}"),
            "a new AUTO_INCREMENT segment came without etcd",
        ),
        (
            "CREATE TABLE after_etcd (id INT PRIMARY KEY)".to_string(),
            "CREATE TABLE succeeded without etcd",
        ),
    ] {
        fails_with(&mut one, &sql, "etcd is unreachable", unexpected).await?;
    }
    assert!(nodes[0]
        .server()
        .context()
        .topology
        .catalog()
        .table("test", "after_etcd")
        .is_none());
    // Statements on tables already known need no etcd.
    let mut two = nodes[1].connect(Some("test")).await?;
    let count: Option<i64> = two.query_first("SELECT COUNT(*) FROM known").await?;
    assert_eq!(count, Some(2));

    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_etcd_member_of_three_down_changes_nothing() -> TestResult {
    let (mut etcd, nodes) = cluster(3, 2, |_| {}).await?;
    let mut one = nodes[0].connect(Some("test")).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    one.query_drop("CREATE TABLE before_kill (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT)")
        .await?;

    // The first endpoint every node tries goes away, watches and leases included.
    etcd.kill(0).await?;
    two.query_drop("CREATE TABLE after_kill (id INT PRIMARY KEY)")
        .await?;
    let catalog = nodes[0].server().context().topology.catalog();
    assert!(catalog.table("test", "after_kill").is_some());
    let rows = vec!["(1)"; 1000].join(", ");
    one.query_drop(format!("INSERT INTO before_kill (k) VALUES {rows}"))
        .await?;
    two.query_drop(format!("INSERT INTO before_kill (k) VALUES {rows}"))
        .await?;
    let (total, distinct): (i64, i64) = one
        .query_first("SELECT COUNT(*), COUNT(DISTINCT id) FROM before_kill")
        .await?
        .ok_or("no count")?;
    assert_eq!((total, distinct), (2000, 2000));

    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_does_not_acknowledge_ddl_loses_its_membership() -> TestResult {
    let (etcd, nodes) = cluster(1, 2, |c| c.cluster.ddl_ack_timeout_ms = 1000).await?;
    // A member that registered and then never applies anything (as a hung node would).
    let client = etcd_client(&etcd)?;
    let lease = client.lease_grant(60)?;
    let record = serde_json::json!({
        "node_id": 999, "service_addr": "127.0.0.1:1", "admin_addr": "127.0.0.1:2",
        "started_ms": 0,
    });
    client.put(b"/strata/members/999", record.to_string().as_bytes(), lease)?;
    client.put(b"/strata/acks/999", b"1", lease)?;

    let mut one = nodes[0].connect(Some("test")).await?;
    one.query_drop("CREATE TABLE past_the_hung_node (id INT PRIMARY KEY)")
        .await?;
    // The DDL returned once the silent member was put out; the live one applied it.
    assert!(client.get(b"/strata/members/999")?.is_none());
    assert!(nodes[1]
        .server()
        .context()
        .topology
        .catalog()
        .table("test", "past_the_hung_node")
        .is_some());
    let members = nodes[0]
        .server()
        .context()
        .topology
        .catalog()
        .store()
        .etcd()
        .ok_or("the store is not etcd")?
        .members()?;
    assert_eq!(members.len(), 2);

    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_changed_through_one_node_are_in_force_on_the_other() -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let user = strata_testkit::unique_name("cl");
    let mut one = nodes[0].connect(Some("test")).await?;
    one.query_drop(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw1'"))
        .await?;
    one.query_drop(format!("GRANT SELECT ON test.* TO '{user}'@'%'"))
        .await?;

    // Node 2 knows the account and its grant as soon as node 1 answered.
    let opts = strata_testkit::mysql_opts(nodes[1].service_addr(), &user, "pw1", Some("test"));
    let mut as_user = mysql_async::Conn::new(opts).await?;
    let grants: Vec<String> = as_user.query("SHOW GRANTS").await?;
    assert!(
        grants
            .iter()
            .any(|g| g.starts_with("GRANT SELECT ON `test`.*")),
        "{grants:?}"
    );
    as_user.disconnect().await?;

    // Dropped through node 2: node 1 refuses the login.
    let mut two = nodes[1].connect(None).await?;
    two.query_drop(format!("DROP USER '{user}'@'%'")).await?;
    let refused = mysql_async::Conn::new(strata_testkit::mysql_opts(
        nodes[0].service_addr(),
        &user,
        "pw1",
        None,
    ))
    .await;
    let err = refused.err().ok_or("a dropped account still logs in")?;
    assert!(err.to_string().contains("1045"), "unexpected error: {err}");

    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_membership_lapsed_reloads_and_joins_again() -> TestResult {
    let (etcd, nodes) = cluster(1, 2, |c| c.cluster.lease_ttl_ms = 3000).await?;
    let client = etcd_client(&etcd)?;
    let key = format!("/strata/members/{}", nodes[1].config().server.node_id);
    let old = client
        .get(key.as_bytes())?
        .ok_or("node 2 is not a member")?;
    // As if node 2 had been put out for being slow: its lease ends.
    client.lease_revoke(old.lease)?;
    assert!(client.get(key.as_bytes())?.is_none());

    // Node 2 notices at its next renewal and registers under a new lease.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let rejoined = loop {
        if let Some(kv) = client.get(key.as_bytes())? {
            break kv;
        }
        if std::time::Instant::now() > deadline {
            return Err("node 2 did not join again".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_ne!(rejoined.lease, old.lease);
    // A member again, it applies DDL before the DDL returns.
    let mut one = nodes[0].connect(Some("test")).await?;
    one.query_drop("CREATE TABLE after_rejoin (id INT PRIMARY KEY)")
        .await?;
    assert!(nodes[1]
        .server()
        .context()
        .topology
        .catalog()
        .table("test", "after_rejoin")
        .is_some());

    shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_compute_node_leaves_the_cluster_and_holds_up_no_ddl() -> TestResult {
    let storage = strata_testkit::shared_storage(2).await?;
    let etcd = EtcdCluster::start(1).await?;
    let endpoints = etcd.endpoints();
    let mut nodes = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.cluster.etcd = endpoints;
            c.cluster.ddl_ack_timeout_ms = 2000;
        })
        .spawn_many(2)
        .await?;
    let admin_of = |i: usize| {
        strata_testkit::mysql_opts(
            nodes[i].admin_addr(),
            strata_testkit::ROOT_USER,
            strata_testkit::ROOT_PASSWORD,
            None,
        )
    };
    let mut two_admin = mysql_async::Conn::new(admin_of(1)).await?;

    // `strata serve` processes: DDL through the first is in the second's catalog.
    let mut one = nodes[0].connect(Some("test")).await?;
    one.query_drop("CREATE TABLE made_by_one (id INT PRIMARY KEY)")
        .await?;
    let listed: Vec<mysql_async::Row> = two_admin.query("SHOW @@TABLE").await?;
    let names: Vec<String> = listed
        .iter()
        .filter_map(|r| r.get::<String, _>(1))
        .collect();
    assert!(names.iter().any(|n| n == "made_by_one"), "{names:?}");
    drop(one);

    // The first dies without a word: the next DDL through the second does not wait
    // for it longer than ddl_ack_timeout_ms, and puts it out of the cluster.
    nodes[0].kill().await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    two.query_drop("CREATE TABLE made_after_the_crash (id INT PRIMARY KEY)")
        .await?;
    let rows = show_cluster(&mut two_admin).await?;
    let seen: Vec<(u32, String)> = rows.iter().map(|r| (r.0, r.3.clone())).collect();
    assert_eq!(
        seen,
        vec![(nodes[1].config().server.node_id, "self".to_string())]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_on_a_table_waits_for_another_nodes_ddl_on_it() -> TestResult {
    // The lock is one etcd key per table, attached to the holder's membership lease.
    let (_etcd, nodes) = cluster(1, 2, |c| c.cluster.ddl_lock_timeout_ms = 1000).await?;
    let mut one = nodes[0].connect(Some("test")).await?;
    one.query_drop("CREATE TABLE locked (id INT PRIMARY KEY)")
        .await?;

    // Node 2 holds the table's DDL lock (as while its own DDL on it runs).
    let catalog = nodes[1].server().context().topology.catalog();
    let two = catalog.store().etcd().ok_or("the store is not etcd")?;
    let held = two
        .try_lock_tables(&[("test".to_string(), "locked".to_string())])?
        .ok_or("the lock was taken")?;
    let err = one
        .query_drop("DROP TABLE locked")
        .await
        .expect_err("the table is locked");
    match &err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1205, "{e:?}"),
        other => return Err(format!("unexpected error {other:?}").into()),
    }
    // Other tables are not held up.
    one.query_drop("CREATE TABLE not_locked (id INT PRIMARY KEY)")
        .await?;
    assert!(
        two.try_lock_tables(&[("test".to_string(), "locked".to_string())])?
            .is_none(),
        "a second holder"
    );

    // Released: the DDL goes through, and releases the lock itself when done.
    drop(held);
    one.query_drop("DROP TABLE locked").await?;
    one.query_drop("CREATE TABLE locked (id INT PRIMARY KEY)")
        .await?;
    assert!(catalog.table("test", "locked").is_some());
    one.query_drop("DROP TABLE locked").await?;
    one.query_drop("DROP TABLE not_locked").await?;
    shut_down(nodes).await
}

/// What a reader sees of a distributed transaction that another compute node is
/// committing (docs/transactions.md, "Atomic visibility"): on the committing node a
/// multi-node read waits for the XA COMMIT phase and sees all of the transaction; on
/// another compute node it may see the transaction on one data node and not yet on the
/// other. The commit is held between its first and second XA COMMIT.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_on_another_compute_node_may_see_part_of_a_commit() -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let mut a = nodes[0].connect(Some("test")).await?;
    a.query_drop(
        "CREATE TABLE vis (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_mod' \
         USING COLUMN 'id' ON DATANODE '1,2'",
    )
    .await?;
    a.query_drop("INSERT INTO vis VALUES (1, 0), (2, 0)")
        .await?;
    let mut b = nodes[1].connect(Some("test")).await?;
    let read = "SELECT CAST(SUM(v) AS SIGNED) FROM vis";
    assert_eq!(b.query_first::<i64, _>(read).await?, Some(0));

    let mut paused = nodes[0].context().xa.between_commits.arm();
    let opts = nodes[0].opts(Some("test"));
    let writer = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_drop("BEGIN").await?;
        c.query_drop("UPDATE vis SET v = 1 WHERE id IN (1, 2)")
            .await?;
        c.query_drop("COMMIT").await
    });
    assert!(paused.reached().await, "the commit reached the pause");

    // Node B reads the data nodes without node A's gate: once the first XA COMMIT has
    // landed it sees half of the transaction.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sum = b.query_first::<i64, _>(read).await?;
        if sum == Some(1) {
            break;
        }
        assert!(
            sum == Some(0) && std::time::Instant::now() < deadline,
            "node B read {sum:?} while node A was between its XA COMMITs"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Node A's own multi-node read waits for the commit phase to end.
    let opts = nodes[0].opts(Some("test"));
    let reader = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_first::<i64, _>(read).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !reader.is_finished(),
        "node A read during its own commit phase"
    );
    paused.release(strata_server::failpoints::Resume::Continue);
    writer.await??;
    assert_eq!(
        reader.await??,
        Some(2),
        "node A sees all of the transaction"
    );
    assert_eq!(b.query_first::<i64, _>(read).await?, Some(2));
    Ok(())
}

/// Kills HAProxy when the test ends, however it ends.
struct HaproxyProcess(std::process::Child);

impl Drop for HaproxyProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The compute node (`@@server_id`, its node id) a new connection through `port`
/// reaches, or the connection's error.
async fn node_behind(port: u16) -> Result<u32, mysql_async::Error> {
    let opts = strata_testkit::mysql_opts(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        strata_testkit::ROOT_USER,
        strata_testkit::ROOT_PASSWORD,
        Some("test"),
    );
    let mut c = mysql_async::Conn::new(opts).await?;
    let id: Option<u32> = c.query_first("SELECT @@server_id").await?;
    c.disconnect().await?;
    Ok(id.unwrap_or(0))
}

/// docs/cluster.md's HAProxy recipe with two compute nodes: mode tcp, round robin, a
/// health check against each node's `GET /health`. New connections reach both nodes;
/// once one is taken OFFLINE its health check fails and every new connection reaches
/// the other, without a client error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn haproxy_spreads_connections_and_leaves_out_an_offline_node() -> TestResult {
    let (_etcd, nodes) = cluster(1, 2, |_| {}).await?;
    let haproxy = strata_testkit::find_binary("haproxy", "haproxy")?;
    let dir = tempfile::tempdir()?;
    let port = strata_testkit::free_port()?;
    let servers: String = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "    server n{i} {} check port {}\n",
                n.service_addr(),
                n.http_addr().port()
            )
        })
        .collect();
    let config = format!(
        "global\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 2s\n    \
         timeout client 30s\n    timeout server 30s\nfrontend mysql_in\n    bind \
         127.0.0.1:{port}\n    default_backend strata\nbackend strata\n    balance \
         roundrobin\n    option httpchk GET /health\n    default-server inter 100ms \
         fall 1 rise 1\n{servers}"
    );
    let config_path = dir.path().join("haproxy.cfg");
    std::fs::write(&config_path, config)?;
    let _proxy = HaproxyProcess(
        std::process::Command::new(haproxy)
            .arg("-f")
            .arg(&config_path)
            .arg("-db")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let ids: Vec<u32> = nodes.iter().map(|n| n.config().server.node_id).collect();

    // Both nodes are in rotation once their first health checks pass.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = HashSet::new();
    while seen.len() < 2 {
        if let Ok(id) = node_behind(port).await {
            seen.insert(id);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "connections through HAProxy reached only {seen:?} of {ids:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    nodes[1].context().set_offline(true);
    // A few check intervals: HAProxy has taken node 2 out of rotation.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    for _ in 0..10 {
        assert_eq!(node_behind(port).await?, ids[0]);
    }
    nodes[1].context().set_offline(false);
    Ok(())
}
