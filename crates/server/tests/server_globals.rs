//! What mariadb-test files do to "the server" as a whole, through Strata: `SET GLOBAL`
//! sets the compute node's own global values (new sessions start with them, every read
//! of a global value answers them, the storage servers keep theirs), `FLUSH STATUS` and
//! `FLUSH TABLES` act on the session's connection and the client's tables, and
//! `information_schema.PLUGINS` shows the storage server's built-in features only.

mod common;

use common::{assert_codes, node_on_shared, TestResult};
use mysql_async::prelude::*;
use strata_testkit::mysql_opts;

async fn int(c: &mut mysql_async::Conn, sql: &str) -> TestResult<i64> {
    Ok(c.query_first(sql).await?.ok_or("no row")?)
}

async fn text(c: &mut mysql_async::Conn, sql: &str) -> TestResult<String> {
    Ok(c.query_first(sql).await?.ok_or("no row")?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_global_sets_the_compute_nodes_default_for_new_sessions() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let mut direct = storage.connect(0, None).await?;
    let storage_increment = int(&mut direct, "SELECT @@global.div_precision_increment").await?;
    let storage_mode = text(&mut direct, "SELECT @@global.sql_mode").await?;

    let mut old = node.connect(Some("test")).await?;
    old.query_drop("SET @save = @@global.div_precision_increment")
        .await?;
    old.query_drop("SET GLOBAL div_precision_increment = 7")
        .await?;
    old.query_drop("SET @@global.sql_mode = 'ansi'").await?;

    // The session that set them keeps its own values (MySQL semantics) and reads the
    // new global ones wherever it asks for them.
    assert_eq!(
        int(&mut old, "SELECT @@div_precision_increment").await?,
        storage_increment
    );
    assert_eq!(text(&mut old, "SELECT CAST(1/3 AS CHAR)").await?, "0.3333");
    assert_eq!(
        int(&mut old, "SELECT @@global.div_precision_increment").await?,
        7
    );
    assert_eq!(
        text(&mut old, "SELECT CONCAT(@@global.sql_mode, '')").await?,
        "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI"
    );
    let shown: Option<(String, String)> = old
        .query_first("SHOW GLOBAL VARIABLES LIKE 'div_precision_increment'")
        .await?;
    assert_eq!(shown.map(|(_, v)| v).as_deref(), Some("7"));
    assert_eq!(
        text(
            &mut old,
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES \
             WHERE VARIABLE_NAME = 'DIV_PRECISION_INCREMENT'"
        )
        .await?,
        "7"
    );
    assert_eq!(
        text(
            &mut old,
            "SELECT GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES \
             WHERE VARIABLE_NAME = 'DIV_PRECISION_INCREMENT'"
        )
        .await?,
        "7"
    );

    // A new session starts with them, on its storage connections too.
    let mut new = node.connect(Some("test")).await?;
    assert_eq!(int(&mut new, "SELECT @@div_precision_increment").await?, 7);
    assert_eq!(
        text(&mut new, "SELECT CAST(1/3 AS CHAR)").await?,
        "0.3333333"
    );
    assert_eq!(text(&mut new, "SELECT 'a' || 'b'").await?, "ab");
    // DEFAULT for a session value is the global one.
    new.query_drop("SET div_precision_increment = 2").await?;
    new.query_drop("SET SESSION div_precision_increment = DEFAULT")
        .await?;
    assert_eq!(int(&mut new, "SELECT @@div_precision_increment").await?, 7);

    // The storage server's own values are untouched.
    assert_eq!(
        int(&mut direct, "SELECT @@global.div_precision_increment").await?,
        storage_increment
    );
    assert_eq!(
        text(&mut direct, "SELECT @@global.sql_mode").await?,
        storage_mode
    );

    // Restored from a user variable, or to the default (the storage server's).
    old.query_drop("SET GLOBAL div_precision_increment = @save")
        .await?;
    assert_eq!(
        int(&mut old, "SELECT @@global.div_precision_increment").await?,
        storage_increment
    );
    old.query_drop("SET GLOBAL sql_mode = DEFAULT").await?;
    let mut after = node.connect(Some("test")).await?;
    assert_eq!(text(&mut after, "SELECT @@sql_mode").await?, storage_mode);
    assert_eq!(
        text(&mut after, "SELECT @@global.sql_mode").await?,
        storage_mode
    );

    // Variables of the storage servers alone: only the value they have already.
    let persistent = int(&mut direct, "SELECT @@global.innodb_stats_persistent").await?;
    old.query_drop(format!("SET GLOBAL innodb_stats_persistent = {persistent}"))
        .await?;
    assert_codes(
        &mut old,
        &[&format!(
            "SET GLOBAL innodb_stats_persistent = {}",
            1 - persistent
        )],
        1235,
    )
    .await;
    assert_codes(&mut old, &["SET GLOBAL max_connections = 7"], 1235).await;
    assert_codes(&mut old, &["SET GLOBAL sql_mode = 'no_such_mode'"], 1231).await;
    assert_codes(&mut old, &["SET GLOBAL no_such_variable = 1"], 1193).await;
    assert_codes(&mut old, &["SET GLOBAL timestamp = 1"], 1228).await;
    assert_codes(&mut old, &["SET GLOBAL lower_case_table_names = 1"], 1238).await;
    assert_codes(&mut old, &["SET GLOBAL datadir = '/tmp'"], 1235).await;
    assert_eq!(
        int(&mut direct, "SELECT @@global.max_connections = 7").await?,
        0
    );

    // Without SUPER in Strata's accounts: MySQL's 1227.
    old.query_drop("CREATE USER plain IDENTIFIED BY 'pw'")
        .await?;
    old.query_drop("GRANT SELECT ON test.* TO plain").await?;
    let mut plain =
        mysql_async::Conn::new(mysql_opts(node.service_addr(), "plain", "pw", Some("test")))
            .await?;
    assert_codes(&mut plain, &["SET GLOBAL sql_mode = ''"], 1227).await;
    assert_codes(
        &mut plain,
        &[
            "FLUSH STATUS",
            "FLUSH TABLES",
            "FLUSH TABLES WITH READ LOCK",
        ],
        1227,
    )
    .await;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_status_and_tables_act_on_the_clients_connection_and_tables() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE flushed (id INT PRIMARY KEY)")
        .await?;
    c.query_drop("INSERT INTO flushed VALUES (1), (2), (3)")
        .await?;
    c.query_drop("SELECT * FROM flushed").await?;
    c.query_drop("FLUSH STATUS").await?;
    let reads: Option<(String, i64)> = c
        .query_first("SHOW SESSION STATUS LIKE 'Handler_read_rnd_next'")
        .await?;
    assert_eq!(reads.map(|(_, n)| n), Some(0));
    c.query_drop("FLUSH TABLES").await?;
    c.query_drop("FLUSH TABLE flushed").await?;
    c.query_drop("FLUSH LOCAL TABLES test.flushed").await?;
    assert_codes(&mut c, &["FLUSH TABLES mysql.user"], 1044).await;
    assert_codes(
        &mut c,
        &[
            "FLUSH TABLES flushed WITH READ LOCK",
            "FLUSH TABLES flushed FOR EXPORT",
        ],
        1235,
    )
    .await;
    assert_codes(&mut c, &["FLUSH LOGS", "FLUSH QUERY CACHE, LOGS"], 1227).await;
    c.query_drop("DROP TABLE flushed").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_show_built_in_features_without_authentication() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let mut c = node.connect(Some("test")).await?;
    // mariadb-test's include/have_partition.inc.
    let partition = int(
        &mut c,
        "SELECT COUNT(*) FROM INFORMATION_SCHEMA.PLUGINS \
         WHERE PLUGIN_NAME = 'partition' AND PLUGIN_STATUS = 'ACTIVE'",
    )
    .await?;
    assert_eq!(partition, 1);
    let hidden = int(
        &mut c,
        "SELECT COUNT(*) FROM information_schema.PLUGINS \
         WHERE PLUGIN_TYPE IN ('AUTHENTICATION', 'AUDIT') OR PLUGIN_LIBRARY IS NOT NULL",
    )
    .await?;
    assert_eq!(hidden, 0);
    let shown: Vec<(String, String, String, Option<String>, String)> =
        c.query("SHOW PLUGINS").await?;
    assert!(shown.iter().any(|p| p.0 == "partition" && p.1 == "ACTIVE"));
    assert!(shown
        .iter()
        .all(|p| p.2 != "AUTHENTICATION" && p.3.is_none()));
    node.shutdown().await;
    Ok(())
}
