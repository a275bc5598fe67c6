//! CREATE DATABASE and DROP DATABASE through a real client: the physical databases
//! appear and disappear on the storage nodes, MariaDB's errors and notes (1007, 1008,
//! 1044), the current database becoming NULL after dropping it, databases over one and
//! several data nodes, a failure on one data node that leaves nothing behind, and
//! databases surviving a restart of the compute node.

mod common;

use common::{code_of, error_of, node_on_shared, TestResult};
use mysql_async::prelude::*;
use mysql_async::Row;
use strata_testkit::{mysql_opts, shared_storage, unique_name, ComputeNode, StorageNodes};

/// True when storage node `i` has a database named `name`.
async fn physical_exists(
    storage: &StorageNodes,
    i: usize,
    name: &str,
) -> Result<bool, mysql_async::Error> {
    let mut c = mysql_async::Conn::new(storage.opts(i, None)).await?;
    let found: Option<String> = c
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (name,),
        )
        .await?;
    c.disconnect().await?;
    Ok(found.is_some())
}

async fn databases(c: &mut mysql_async::Conn) -> Result<Vec<String>, mysql_async::Error> {
    c.query("SHOW DATABASES").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_use_and_drop_a_database_on_one_data_node() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let mut c = node.connect(Some("test")).await?;
    let db = unique_name("mt");

    c.query_drop(format!("CREATE DATABASE {db} CHARACTER SET latin1"))
        .await?;
    assert_eq!(c.affected_rows(), 1);
    assert!(physical_exists(&storage, 0, &db).await?);
    assert!(databases(&mut c).await?.contains(&db));
    let (code, _) = error_of(&mut c, &format!("CREATE DATABASE {db}")).await;
    assert_eq!(code, Some(1007));

    c.query_drop(format!("CREATE DATABASE IF NOT EXISTS {db}"))
        .await?;
    let warnings: Vec<(String, u32, String)> = c.query("SHOW WARNINGS").await?;
    assert_eq!(
        warnings,
        [(
            "Note".to_string(),
            1007,
            format!("Can't create database '{db}'; database exists")
        )]
    );

    c.query_drop(format!("USE {db}")).await?;
    c.query_drop("CREATE TABLE t1 (a INT PRIMARY KEY, s VARCHAR(10))")
        .await?;
    c.query_drop("INSERT INTO t1 VALUES (1, 'x'), (2, 'y')")
        .await?;
    let n: Option<u64> = c
        .query_first(format!("SELECT COUNT(*) FROM {db}.t1"))
        .await?;
    assert_eq!(n, Some(2));
    let charset: Option<String> = c.query_first("SELECT @@character_set_database").await?;
    assert_eq!(charset.as_deref(), Some("latin1"));

    c.query_drop(format!("DROP DATABASE {db}")).await?;
    assert_eq!(c.affected_rows(), 1, "one table dropped");
    let current: Row = c.query_first("SELECT DATABASE()").await?.ok_or("row")?;
    assert_eq!(
        current.get::<Option<String>, _>(0),
        Some(None),
        "the current database becomes NULL"
    );
    assert!(!physical_exists(&storage, 0, &db).await?);
    assert!(!databases(&mut c).await?.contains(&db));

    let (code, message) = error_of(&mut c, &format!("DROP DATABASE {db}")).await;
    assert_eq!(code, Some(1008), "{message}");
    c.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await?;
    let warnings: Vec<(String, u32, String)> = c.query("SHOW WARNINGS").await?;
    assert_eq!(
        warnings,
        [(
            "Note".to_string(),
            1008,
            format!("Can't drop database '{db}'; database doesn't exist")
        )]
    );
    let (code, _) = error_of(&mut c, &format!("USE {db}")).await;
    assert_eq!(code, Some(1049));

    // Dropped and created again, the session's connections find it again.
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("USE {db}")).await?;
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("USE {db}")).await?;
    c.query_drop("CREATE TABLE t3 (a INT)").await?;
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    // CHARACTER SET DEFAULT is the session's character_set_server.
    c.query_drop("SET character_set_server = utf8mb4").await?;
    c.query_drop(format!(
        "CREATE DATABASE {db} CHARACTER SET DEFAULT CHARACTER SET utf8mb4"
    ))
    .await?;
    c.query_drop(format!("DROP DATABASE {db}")).await?;

    // MariaDB's CREATE OR REPLACE drops what is there first.
    c.query_drop(format!("CREATE OR REPLACE DATABASE {db}"))
        .await?;
    c.query_drop(format!("CREATE TABLE {db}.t2 (a INT)"))
        .await?;
    c.query_drop(format!("CREATE OR REPLACE DATABASE {db}"))
        .await?;
    let tables: Vec<String> = c.query(format!("SHOW TABLES IN {db}")).await?;
    assert!(tables.is_empty(), "{tables:?}");
    c.query_drop(format!("DROP DATABASE {db}")).await?;

    for (sql, want) in [
        ("CREATE DATABASE mysql", 1044),
        ("CREATE DATABASE information_schema", 1044),
        ("DROP DATABASE performance_schema", 1044),
        ("DROP DATABASE test", 1235),
        ("CREATE DATABASE test", 1007),
        ("CREATE DATABASE x CHARACTER latin1", 1064),
        ("CREATE OR REPLACE DATABASE IF NOT EXISTS x", 1221),
    ] {
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(want), "{sql}: {message}");
    }
    let (code, _) = error_of(&mut c, &format!("CREATE DATABASE {} ", "d".repeat(65))).await;
    assert_eq!(code, Some(1102));
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_span_every_data_node_or_the_listed_ones() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    let (wide, narrow) = (unique_name("wide"), unique_name("narrow"));

    // A user variable ties a session to one storage connection: the database is still
    // created on every node.
    let mut pinned = node.connect(Some("test")).await?;
    pinned.query_drop("SET @pinned = 1").await?;
    pinned.query_drop("SELECT @pinned").await?;
    pinned.query_drop(format!("CREATE DATABASE {wide}")).await?;
    pinned.disconnect().await?;
    c.query_drop(format!("CREATE DATABASE {narrow} DEFAULT DATANODE '2'"))
        .await?;
    assert!(physical_exists(&storage, 0, &wide).await?);
    assert!(physical_exists(&storage, 1, &wide).await?);
    assert!(!physical_exists(&storage, 0, &narrow).await?);
    assert!(physical_exists(&storage, 1, &narrow).await?);

    c.query_drop(format!("USE {wide}")).await?;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await?;
    c.query_drop("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30), (4, 40)")
        .await?;
    let total: Option<i64> = c.query_first("SELECT SUM(v) FROM t").await?;
    assert_eq!(total, Some(100));
    let mut spread = 0;
    for i in 0..2 {
        let mut direct = mysql_async::Conn::new(storage.opts(i, Some(&wide))).await?;
        let n: Option<u64> = direct.query_first("SELECT COUNT(*) FROM t").await?;
        spread += u64::from(n.unwrap_or(0) > 0);
        direct.disconnect().await?;
    }
    assert_eq!(spread, 2, "the sharded table has rows on both data nodes");

    c.query_drop(format!("USE {narrow}")).await?;
    c.query_drop("CREATE TABLE n (a INT)").await?;
    c.query_drop("INSERT INTO n VALUES (7)").await?;
    let a: Option<i64> = c.query_first("SELECT a FROM n").await?;
    assert_eq!(a, Some(7));

    c.query_drop(format!("DROP DATABASE {wide}")).await?;
    c.query_drop(format!("DROP DATABASE {narrow}")).await?;
    for i in 0..2 {
        assert!(!physical_exists(&storage, i, &wide).await?);
        assert!(!physical_exists(&storage, i, &narrow).await?);
    }
    let (code, message) = error_of(
        &mut c,
        &format!("CREATE DATABASE {wide} DEFAULT DATANODE '9'"),
    )
    .await;
    assert_eq!(code, Some(1105), "{message}");
    assert!(message.contains("data node 9 is not defined"), "{message}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_create_database_gives_the_options_and_data_nodes_and_reads_back() -> TestResult {
    let (_storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    let (wide, narrow) = (unique_name("scwide"), unique_name("scnarrow"));
    c.query_drop(format!(
        "CREATE DATABASE {wide} CHARACTER SET latin1 COLLATE latin1_bin COMMENT 'w'"
    ))
    .await?;
    c.query_drop(format!("CREATE DATABASE {narrow} DEFAULT DATANODE '2'"))
        .await?;
    let show = |db: &str| format!("SHOW CREATE DATABASE {db}");
    let row: Option<(String, String)> = c.query_first(show(&wide)).await?;
    let (name, text) = row.ok_or("no row")?;
    assert_eq!(name, wide);
    // MariaDB's own text for the options, under the logical name, then the data nodes.
    assert_eq!(
        text,
        format!(
            "CREATE DATABASE `{wide}` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_bin */ COMMENT 'w' /*!999999 DEFAULT DATANODE '1,2' */"
        )
    );
    let row: Option<(String, String)> = c.query_first(show(&narrow)).await?;
    let (_, narrow_text) = row.ok_or("no row")?;
    assert!(
        narrow_text.ends_with("/*!999999 DEFAULT DATANODE '2' */"),
        "{narrow_text}"
    );
    let ine: Option<(String, String)> = c
        .query_first(format!("SHOW CREATE DATABASE IF NOT EXISTS {narrow}"))
        .await?;
    assert!(ine.ok_or("no row")?.1.starts_with(&format!(
        "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{narrow}`"
    )));

    // What a dump writes creates the same database again.
    c.query_drop(format!("DROP DATABASE {narrow}")).await?;
    c.query_drop(&narrow_text).await?;
    let row: Option<(String, String)> = c.query_first(show(&narrow)).await?;
    assert_eq!(row.ok_or("no row")?.1, narrow_text);
    c.query_drop(format!("DROP DATABASE {narrow}")).await?;
    c.query_drop(format!("DROP DATABASE {wide}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_node_that_fails_the_create_leaves_nothing_behind() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    let db = unique_name("clash");
    // A database Strata does not know, on data node 2 only: never adopted.
    let mut direct = mysql_async::Conn::new(storage.opts(1, None)).await?;
    direct.query_drop(format!("CREATE DATABASE {db}")).await?;

    let (code, message) = error_of(&mut c, &format!("CREATE DATABASE {db}")).await;
    assert_eq!(code, Some(1007), "{message}");
    assert!(
        message.contains(&format!("CREATE DATABASE '{db}' failed on data node 2"))
            && message.contains("nothing was created"),
        "{message}"
    );
    assert!(
        !physical_exists(&storage, 0, &db).await?,
        "undone on data node 1"
    );
    assert!(
        physical_exists(&storage, 1, &db).await?,
        "the stranger is left alone"
    );
    assert!(!databases(&mut c).await?.contains(&db));
    direct.query_drop(format!("DROP DATABASE {db}")).await?;
    direct.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_drop_keeps_the_database_until_it_succeeds_everywhere() -> TestResult {
    let mut storage = StorageNodes::start(2).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE DATABASE gone").await?;
    storage.node_mut(1).stop().await?;

    let (code, message) = error_of(&mut c, "DROP DATABASE gone").await;
    assert!(code.is_some(), "{message}");
    assert!(
        message.contains("DROP DATABASE 'gone' failed on data node 2")
            && message.contains("dropped on data node(s) 1")
            && message.contains("run it again"),
        "{message}"
    );
    assert!(databases(&mut c).await?.contains(&"gone".to_string()));

    storage.node_mut(1).restart().await?;
    assert!(physical_exists(&storage, 1, "gone").await?);
    let mut retried = Err("not tried".to_string());
    for _ in 0..20 {
        retried = c
            .query_drop("DROP DATABASE gone")
            .await
            .map_err(|e| e.to_string());
        if retried.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(retried, Ok(()));
    assert!(!databases(&mut c).await?.contains(&"gone".to_string()));
    assert!(!physical_exists(&storage, 0, "gone").await?);
    assert!(!physical_exists(&storage, 1, "gone").await?);
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_databases_survive_a_restart() -> TestResult {
    let storage = shared_storage(1).await?;
    let mut node = ComputeNode::builder(&storage).spawn().await?;
    let db = unique_name("kept");
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("CREATE TABLE {db}.t (a INT)")).await?;
    c.query_drop(format!("INSERT INTO {db}.t VALUES (5)"))
        .await?;
    c.disconnect().await?;
    node.restart().await?;
    let mut c = node.connect(Some(&db)).await?;
    let a: Option<i64> = c.query_first("SELECT a FROM t").await?;
    assert_eq!(a, Some(5));
    assert!(databases(&mut c).await?.contains(&db));
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    c.disconnect().await?;
    node.terminate().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_and_dropping_need_the_privileges_mariadb_asks_for() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut root = node.connect(Some("test")).await?;
    let db = unique_name("priv");
    root.query_drop("CREATE USER 'maker'@'%' IDENTIFIED BY 'm-pw'")
        .await?;
    root.query_drop("GRANT SELECT ON *.* TO 'maker'@'%'")
        .await?;
    let opts = mysql_opts(node.service_addr(), "maker", "m-pw", None);
    let mut maker = mysql_async::Conn::new(opts.clone()).await?;
    let (code, message) = error_of(&mut maker, &format!("CREATE DATABASE {db}")).await;
    assert_eq!(code, Some(1044), "{message}");
    assert!(
        message.contains(&format!("to database '{db}'")),
        "{message}"
    );

    root.query_drop(format!("GRANT CREATE ON {db}.* TO 'maker'@'%'"))
        .await?;
    let mut maker = mysql_async::Conn::new(opts).await?;
    maker.query_drop(format!("CREATE DATABASE {db}")).await?;
    let (code, _) = error_of(&mut maker, &format!("DROP DATABASE {db}")).await;
    assert_eq!(code, Some(1044), "creating grants nothing more");
    root.query_drop(format!("DROP DATABASE {db}")).await?;
    root.query_drop("DROP USER 'maker'@'%'").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualified_tables_of_a_multi_node_database_are_planned_from_any_current_database(
) -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let physical = node.physical_database("test").ok_or("no test")?.to_string();
    let mut c = node.connect(None).await?;
    c.query_drop("CREATE TABLE test.q1 (id INT PRIMARY KEY, v INT)")
        .await?;
    c.query_drop("INSERT INTO test.q1 VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
        .await?;
    let mut spread = 0;
    for i in 0..2 {
        let mut direct = mysql_async::Conn::new(storage.opts(i, Some(&physical))).await?;
        let n: Option<u64> = direct.query_first("SELECT COUNT(*) FROM q1").await?;
        spread += u64::from(n.unwrap_or(0) > 0);
        direct.disconnect().await?;
    }
    assert_eq!(
        spread, 2,
        "rows placed by the sharding key, not all on the home node"
    );
    // Without a current database, DROP TABLE reached only the home node and left the
    // table in the catalog: CREATE TABLE then failed with 1050.
    c.query_drop("DROP TABLE IF EXISTS test.q1").await?;
    for i in 0..2 {
        let mut direct = mysql_async::Conn::new(storage.opts(i, Some(&physical))).await?;
        let left: Vec<String> = direct.query("SHOW TABLES LIKE 'q1'").await?;
        assert!(left.is_empty(), "q1 left on storage node {i}");
        direct.disconnect().await?;
    }
    c.query_drop("CREATE TABLE test.q1 (id INT PRIMARY KEY)")
        .await?;
    c.query_drop("DROP TABLE test.q1").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_tables_runs_only_where_every_table_lives_on_the_home_node() -> TestResult {
    let node = ComputeNode::on_shared_storage(2).await?;
    let mut c = node.connect(None).await?;
    let db = unique_name("lk");
    c.query_drop(format!("CREATE DATABASE {db} DEFAULT DATANODE '1,2'"))
        .await?;
    c.query_drop(format!("USE {db}")).await?;
    c.query_drop(
        "CREATE TABLE s (id INT PRIMARY KEY) SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id'",
    )
    .await?;
    c.query_drop("CREATE TABLE v2 (id INT PRIMARY KEY) SHARD BY VERTICAL ON DATANODE '2'")
        .await?;
    c.query_drop("CREATE TABLE v1 (id INT PRIMARY KEY) SHARD BY VERTICAL ON DATANODE '1'")
        .await?;
    // A sharded table would be locked on one node of two; a table on another node not
    // at all: both refused, never a partial lock.
    for sql in [
        "LOCK TABLES s WRITE",
        "LOCK TABLES v1 READ, v2 READ",
        &format!("LOCK TABLES {db}.v2 WRITE"),
    ] {
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(1235), "{sql}: {message}");
        assert!(message.contains("LOCK TABLES"), "{message}");
    }
    c.query_drop("LOCK TABLES v1 WRITE").await?;
    c.query_drop("INSERT INTO v1 VALUES (1)").await?;
    c.query_drop("UNLOCK TABLES").await?;
    let n: Option<u64> = c.query_first("SELECT COUNT(*) FROM v1").await?;
    assert_eq!(n, Some(1));
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_cannot_create_or_drop_databases() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut c = node.connect(Some("test")).await?;
    let db = unique_name("ro");
    c.query_drop("SET SESSION TRANSACTION READ ONLY").await?;
    // MariaDB refuses before it looks at the database (1792, not 1008).
    for sql in [
        format!("CREATE DATABASE {db}"),
        format!("DROP DATABASE {db}"),
        format!("DROP DATABASE IF EXISTS {db}"),
    ] {
        assert_eq!(
            c.query_drop(&sql).await.err().as_ref().and_then(code_of),
            Some(1792),
            "{sql}"
        );
    }
    c.query_drop("SET SESSION TRANSACTION READ WRITE").await?;
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_database_changes_the_options_on_every_data_node() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    let db = unique_name("alt");
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!(
        "ALTER SCHEMA {db} DEFAULT CHARACTER SET utf8 COMMENT 'hi'"
    ))
    .await?;
    let show = format!("SHOW CREATE DATABASE {db}");
    let row: Option<(String, String)> = c.query_first(&show).await?;
    assert_eq!(
        row.ok_or("no row")?.1,
        format!(
            "CREATE DATABASE `{db}` /*!40100 DEFAULT CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci */ COMMENT 'hi' /*!999999 DEFAULT DATANODE '1,2' */"
        )
    );
    // The current database when none is named; each data node's physical database.
    c.query_drop(format!("USE {db}")).await?;
    c.query_drop("ALTER DATABASE COLLATE latin1_bin").await?;
    // A database made through SQL has its own name on each data node.
    let physical = db.clone();
    for i in 0..storage.len() {
        let mut direct = mysql_async::Conn::new(storage.opts(i, None)).await?;
        let collation: Option<String> = direct
            .exec_first(
                "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (&physical,),
            )
            .await?;
        assert_eq!(collation.as_deref(), Some("latin1_bin"), "storage node {i}");
        direct.disconnect().await?;
    }
    // MariaDB's answers: no database selected, a storage schema, a wrong clause.
    c.query_drop("USE test").await?;
    let mut none = node.connect(None).await?;
    assert_eq!(
        error_of(&mut none, "ALTER DATABASE CHARACTER SET latin1")
            .await
            .0,
        Some(1046)
    );
    assert_eq!(
        error_of(&mut c, "ALTER DATABASE mysql CHARACTER SET latin1")
            .await
            .0,
        Some(1044)
    );
    assert_eq!(
        error_of(
            &mut c,
            &format!("ALTER DATABASE {db} UPGRADE DATA DIRECTORY NAME")
        )
        .await
        .0,
        Some(1221)
    );
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}
