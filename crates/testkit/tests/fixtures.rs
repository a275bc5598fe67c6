//! The fixtures themselves: storage nodes come up, are reachable, clean up after
//! themselves; compute-node configurations point at them.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use strata_testkit::{shared_storage, unique_name, ComputeNode, StorageNodes};

/// Creates a fresh database holding table `t` with the one row `id`, connected through
/// storage node `node`.
async fn database_with_row(
    storage: &StorageNodes,
    node: usize,
    prefix: &str,
    id: i32,
) -> (String, mysql_async::Conn) {
    let db = unique_name(prefix);
    storage.create_database(&db).await.expect("create database");
    let mut conn = storage.connect(node, Some(&db)).await.expect("connect");
    conn.query_drop(format!(
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES ({id})"
    ))
    .await
    .expect("create and insert");
    (db, conn)
}

#[tokio::test]
async fn private_storage_nodes_serve_survive_a_crash_and_vanish_on_drop() {
    let mut storage = StorageNodes::start(2).await.expect("storage nodes");
    assert_eq!(storage.len(), 2);
    assert_ne!(storage.port(0), storage.port(1));

    let (db, conn) = database_with_row(&storage, 1, "t", 7).await;
    drop(conn);

    storage.node_mut(1).kill().await.expect("kill");
    storage.node_mut(1).restart().await.expect("restart");
    let mut conn = storage.connect(1, Some(&db)).await.expect("reconnect");
    let ids: Vec<i32> = conn.query("SELECT id FROM t").await.expect("select");
    assert_eq!(ids, vec![7]);
    conn.disconnect().await.expect("disconnect");

    let datadir = storage.node(0).datadir().to_path_buf();
    let pids: Vec<u32> = storage.nodes().iter().filter_map(|n| n.pid()).collect();
    assert_eq!(pids.len(), 2);
    drop(storage);
    assert!(!datadir.exists(), "data directory removed on drop");
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z"),
            "mariadbd {pid} still runs: {stat}"
        );
    }
}

#[tokio::test]
async fn shared_storage_is_started_once_per_size() {
    let a = shared_storage(2).await.expect("shared storage");
    let b = shared_storage(2).await.expect("shared storage");
    assert!(Arc::ptr_eq(&a, &b));
    let mut conn = a.connect(0, None).await.expect("connect");
    let one: Option<i32> = conn.query_first("SELECT 1").await.expect("select");
    assert_eq!(one, Some(1));
}

#[tokio::test]
async fn compute_config_spans_every_storage_node_with_fresh_physical_databases() {
    let storage = shared_storage(2).await.expect("shared storage");
    let (config, _dir) = ComputeNode::builder(&storage)
        .logical_database("app")
        .logical_database("audit")
        .configure(|c| c.pool.max_size = 8)
        .build_config()
        .await
        .expect("config");

    assert_eq!(config.users[0].name, "root");
    assert_eq!(config.users[0].password, "secret");
    assert_eq!(config.server.service_addr, "127.0.0.1:0");
    assert_eq!(config.pool.max_size, 8);
    let dnids: Vec<(String, Vec<u32>)> = config
        .databases
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.data_nodes.iter().map(|n| n.get()).collect(),
            )
        })
        .collect();
    assert_eq!(
        dnids,
        vec![
            ("app".to_string(), vec![1, 2]),
            ("audit".to_string(), vec![3, 4])
        ]
    );
    let ports: Vec<u16> = config.data_nodes.iter().map(|d| d.primary.port).collect();
    assert_eq!(
        ports,
        vec![
            storage.port(0),
            storage.port(1),
            storage.port(0),
            storage.port(1)
        ]
    );
    let app_db = &config.data_nodes[0].primary.database;
    assert!(app_db.starts_with("app_"));
    assert_ne!(app_db, &config.data_nodes[2].primary.database);

    for i in 0..storage.len() {
        let mut conn = storage.connect(i, None).await.expect("connect");
        let found: Option<String> = conn
            .exec_first(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?",
                (app_db.as_str(),),
            )
            .await
            .expect("query");
        assert_eq!(found.as_deref(), Some(app_db.as_str()));
    }
}

#[tokio::test]
async fn in_process_compute_node_listens_on_a_chosen_port() {
    let storage = shared_storage(2).await.expect("shared storage");
    let compute = ComputeNode::builder(&storage)
        .start()
        .await
        .expect("compute node");
    assert_ne!(compute.service_addr().port(), 0);
    assert!(compute.physical_database("test").is_some());
    compute.shutdown().await;
}

#[tokio::test]
async fn replicated_storage_nodes_replicate_semi_synchronously_and_configure_replicas() {
    let storage = StorageNodes::start_replicated(1, 1)
        .await
        .expect("replicated storage nodes");
    assert_eq!(storage.replicas(0).len(), 1);
    let (db, mut conn) = database_with_row(&storage, 0, "r", 1).await;
    let yes: Option<String> = conn
        .query_first("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_YES_TX'")
        .await
        .expect("semi-sync status");
    assert_ne!(
        yes.as_deref(),
        Some("0"),
        "commits were acknowledged by the replica"
    );
    storage.wait_replicas_caught_up().await.expect("caught up");
    let replica = storage.replica(0, 0);
    let out = replica
        .execute_sql(&format!("SELECT id, @@read_only FROM `{db}`.t"))
        .await
        .expect("read the replica");
    assert_eq!(out.trim(), "1\t1");

    let (config, _dir) = ComputeNode::builder(&storage)
        .build_config()
        .await
        .expect("config");
    let replicas = &config.data_nodes[0].replicas;
    assert_eq!(replicas.len(), 1);
    assert_eq!(replicas[0].port, replica.port());
}
