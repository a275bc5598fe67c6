//! `SET GLOBAL` of the storage servers' global-only variables (`query_cache_size`,
//! `innodb_stats_persistent_sample_pages`, key caches...): refused with 1235 by default
//! (the storage servers may serve other applications), set on every storage server of
//! every data node, replicas included, with `server.storage_globals = "settable"`,
//! except the variables Strata itself depends on (`gtid_*`, `max_connections`, ...).

mod common;

use std::net::{Ipv4Addr, SocketAddr};

use common::{assert_codes, error_of, TestResult};
use mysql_async::prelude::*;
use strata_catalog::config::StorageGlobals;
use strata_testkit::{mysql_opts, ComputeNode, StorageNodes};

async fn text(c: &mut mysql_async::Conn, sql: &str) -> TestResult<String> {
    Ok(c.query_first(sql).await?.ok_or("no row")?)
}

/// Connections straight to every storage server: each data node's primary, then its
/// replicas.
async fn every_server(storage: &StorageNodes, nodes: usize) -> TestResult<Vec<mysql_async::Conn>> {
    let mut ports = Vec::new();
    for i in 0..nodes {
        ports.push(storage.port(i));
        ports.extend(storage.replicas(i).iter().map(|r| r.port()));
    }
    let mut out = Vec::new();
    for port in ports {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let opts = mysql_opts(addr, storage.user(), storage.password(), None);
        out.push(mysql_async::Conn::new(opts).await?);
    }
    Ok(out)
}

/// `sql`'s value on every storage server.
async fn on_every_server(servers: &mut [mysql_async::Conn], sql: &str) -> TestResult<Vec<String>> {
    let mut out = Vec::new();
    for c in servers.iter_mut() {
        out.push(text(c, sql).await?);
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_new_value_of_a_storage_global_is_refused() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    let (code, message) = error_of(&mut c, "SET GLOBAL query_cache_size = 2097152").await;
    assert_eq!(code, Some(1235), "{message}");
    assert!(
        message.contains("server-wide variable of the storage nodes"),
        "{message}"
    );
    // The value it has already: accepted, nothing changes.
    c.query_drop("SET GLOBAL innodb_stats_persistent_sample_pages = 20")
        .await?;
    let mut direct = storage.connect(0, None).await?;
    assert_eq!(
        text(&mut direct, "SELECT @@global.query_cache_size").await?,
        "1048576"
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settable_storage_globals_reach_every_storage_server() -> TestResult {
    let mut storage = StorageNodes::start_replicated(2, 1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.storage_globals = StorageGlobals::Settable)
        .start()
        .await?;
    let mut servers = every_server(&storage, 2).await?;
    assert_eq!(servers.len(), 4);
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("SET @save_size = @@global.query_cache_size")
        .await?;

    // A literal, read back through Strata and on every storage server.
    c.query_drop("SET GLOBAL innodb_stats_persistent_sample_pages = 37")
        .await?;
    let pages = "SELECT @@global.innodb_stats_persistent_sample_pages";
    assert_eq!(text(&mut c, pages).await?, "37");
    assert_eq!(on_every_server(&mut servers, pages).await?, ["37"; 4]);
    let shown: Option<(String, String)> = c
        .query_first("SHOW GLOBAL VARIABLES LIKE 'innodb_stats_persistent_sample_pages'")
        .await?;
    assert_eq!(shown.map(|(_, v)| v).as_deref(), Some("37"));
    assert_eq!(
        text(
            &mut c,
            "SELECT GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES \
             WHERE VARIABLE_NAME = 'INNODB_STATS_PERSISTENT_SAMPLE_PAGES'"
        )
        .await?,
        "37"
    );

    // Expressions are evaluated once, on the session's connection.
    c.query_drop("SET @@global.innodb_stats_persistent_sample_pages = @@global.innodb_stats_persistent_sample_pages + 1")
        .await?;
    assert_eq!(on_every_server(&mut servers, pages).await?, ["38"; 4]);
    c.query_drop("SET @pages = 41").await?;
    c.query_drop("SET GLOBAL innodb_stats_persistent_sample_pages = @pages")
        .await?;
    assert_eq!(on_every_server(&mut servers, pages).await?, ["41"; 4]);

    // MariaDB's own errors, before anything changed.
    assert_codes(
        &mut c,
        &["SET GLOBAL innodb_stats_persistent_sample_pages = 'many'"],
        1232,
    )
    .await;
    assert_codes(&mut c, &["SET GLOBAL query_cache_type = 'sometimes'"], 1231).await;
    assert_codes(&mut c, &["SET GLOBAL innodb_page_size = 4096"], 1238).await;
    assert_eq!(on_every_server(&mut servers, pages).await?, ["41"; 4]);

    // A storage-decided variable with a session scope: new sessions start with it.
    c.query_drop("SET GLOBAL query_cache_size = 2097152")
        .await?;
    c.query_drop("SET GLOBAL query_cache_type = DEMAND").await?;
    let size = "SELECT @@global.query_cache_size";
    assert_eq!(on_every_server(&mut servers, size).await?, ["2097152"; 4]);
    let kind = "SELECT @@global.query_cache_type";
    assert_eq!(text(&mut c, kind).await?, "DEMAND");
    assert_eq!(on_every_server(&mut servers, kind).await?, ["DEMAND"; 4]);
    let mut fresh = node.connect(Some("test")).await?;
    assert_eq!(
        text(&mut fresh, "SELECT @@query_cache_type").await?,
        "DEMAND"
    );

    // A key cache by its structured name.
    c.query_drop("SET GLOBAL keycache1.key_buffer_size = 128 * 1024")
        .await?;
    let cache = "SELECT @@global.keycache1.key_buffer_size";
    assert_eq!(on_every_server(&mut servers, cache).await?, ["131072"; 4]);
    assert_eq!(text(&mut c, cache).await?, "131072");

    // Restored: DEFAULT, and a saved user variable.
    c.query_drop("SET GLOBAL innodb_stats_persistent_sample_pages = DEFAULT")
        .await?;
    c.query_drop("SET GLOBAL query_cache_type = DEFAULT")
        .await?;
    c.query_drop("SET GLOBAL query_cache_size = @save_size")
        .await?;
    c.query_drop("SET GLOBAL keycache1.key_buffer_size = 0")
        .await?;
    assert_eq!(on_every_server(&mut servers, pages).await?, ["20"; 4]);
    assert_eq!(on_every_server(&mut servers, kind).await?, ["OFF"; 4]);
    assert_eq!(on_every_server(&mut servers, size).await?, ["1048576"; 4]);
    let mut fresh = node.connect(Some("test")).await?;
    assert_eq!(text(&mut fresh, "SELECT @@query_cache_type").await?, "OFF");

    // What Strata depends on stays the storage servers' own.
    for sql in [
        "SET GLOBAL gtid_slave_pos = '0-1-100'",
        "SET GLOBAL max_connections = 7",
        "SET GLOBAL slave_parallel_threads = 3",
        "SET GLOBAL server_id = 99",
        "SET GLOBAL datadir = '/tmp'",
    ] {
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(1235), "{sql}: {message}");
    }
    // read_only is the compute node's own: the storage servers' stay as failover set them.
    c.query_drop("SET GLOBAL read_only = ON").await?;
    c.query_drop("SET GLOBAL read_only = OFF").await?;
    let read_only = on_every_server(&mut servers, "SELECT @@global.read_only").await?;
    assert_eq!(read_only, ["0", "1", "0", "1"]);
    assert_ne!(
        on_every_server(&mut servers, "SELECT @@global.max_connections").await?,
        ["7"; 4]
    );

    // Without SUPER in Strata's accounts: MySQL's 1227.
    c.query_drop("CREATE USER plain IDENTIFIED BY 'pw'").await?;
    c.query_drop("GRANT SELECT ON test.* TO plain").await?;
    let mut plain =
        mysql_async::Conn::new(mysql_opts(node.service_addr(), "plain", "pw", Some("test")))
            .await?;
    assert_codes(
        &mut plain,
        &["SET GLOBAL innodb_stats_persistent_sample_pages = 30"],
        1227,
    )
    .await;
    assert_eq!(on_every_server(&mut servers, pages).await?, ["20"; 4]);

    // A storage server that fails after others took the value: the error says which.
    storage.replica_mut(1, 0).kill().await?;
    let (code, message) = error_of(
        &mut c,
        "SET GLOBAL innodb_stats_persistent_sample_pages = 25",
    )
    .await;
    assert!(code.is_some(), "{message}");
    assert!(
        message.contains("failed on data node 2's replica 1")
            && message.contains(
                "set on data node 1's primary, data node 1's replica 1, data node 2's primary"
            ),
        "{message}"
    );
    let first = on_every_server(&mut servers[..3], pages).await?;
    assert_eq!(first, ["25"; 3]);
    node.shutdown().await;
    Ok(())
}
