//! What MariaDB's own `main/` test files found through Strata (issue 14), each reduced
//! to the statements that showed it: `PREPARE ... FROM` a read of information_schema
//! (prepare) prepares the restricted read; a CREATE TEMPORARY the storage node refused
//! leaves no state that keeps later reads on one data node; MERGE tables over one data
//! node (merge_innodb, index_merge_myisam); SELECTs of the public time zone and help
//! tables of `mysql` (having, select); Strata's own 1064 and blank-led aliases as
//! MariaDB gives them (ps_5merge, ps_1general, select).

mod common;

use common::{assert_codes, error_of, first_int, run_all, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{shared_storage, ComputeNode};

/// A compute node on one shared storage node whose logical database has its physical
/// name (as under `scripts/compat`), and a connection to it.
async fn node_with_same_names() -> TestResult<(ComputeNode, mysql_async::Conn, String)> {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|config| {
            if let (Some(db), Some(dn)) = (config.databases.first_mut(), config.data_nodes.first())
            {
                db.name = dn.primary.database.clone();
            }
        })
        .start()
        .await?;
    let db = node.config().databases[0].name.clone();
    let c = node.connect(Some(&db)).await?;
    Ok((node, c, db))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_from_a_read_of_information_schema_prepares_the_restricted_read() -> TestResult {
    let (node, mut c, db) = node_with_same_names().await?;
    run_all(
        &mut c,
        &["DROP TABLE IF EXISTS t1", "CREATE TABLE t1 (a INT)"],
    )
    .await?;
    // The storage node holds mysql and performance_schema: the client sees neither.
    run_all(
        &mut c,
        &["PREPARE s FROM 'SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE schema_name IN (''mysql'', ''performance_schema'', DATABASE())'"],
    )
    .await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 1);
    run_all(
        &mut c,
        &["PREPARE s FROM 'SELECT table_name FROM information_schema.TABLES WHERE table_schema = DATABASE()'"],
    )
    .await?;
    let tables: Vec<String> = c.query("EXECUTE s").await?;
    assert_eq!(tables, ["t1"]);
    // A text in a user variable, and unqualified names in information_schema.
    c.query_drop("SET @q = 'SELECT COUNT(*) FROM information_schema.SCHEMATA'")
        .await?;
    c.query_drop("PREPARE s FROM @q").await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 2);
    run_all(
        &mut c,
        &[
            "USE information_schema",
            "PREPARE s FROM 'SELECT COUNT(*) FROM SCHEMATA WHERE schema_name = ''mysql'''",
            &format!("USE {db}"),
        ],
    )
    .await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 0);
    // What the text may not do stays refused; EXECUTE IMMEDIATE of such a text too.
    let (code, message) = error_of(
        &mut c,
        "PREPARE s FROM 'SELECT * FROM information_schema.TABLES, mysql.user'",
    )
    .await;
    assert_eq!(code, Some(1044), "{message}");
    assert_codes(
        &mut c,
        &["EXECUTE IMMEDIATE 'SELECT COUNT(*) FROM information_schema.SCHEMATA'"],
        1235,
    )
    .await;
    c.query_drop("DROP TABLE t1").await?;
    node.shutdown().await;

    // Where physical names differ from logical ones the rows would show them.
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut c = node.connect(Some("test")).await?;
    assert_codes(
        &mut c,
        &["PREPARE s FROM 'SELECT schema_name FROM information_schema.SCHEMATA'"],
        1235,
    )
    .await;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_temporary_leaves_reads_over_several_nodes_possible() -> TestResult {
    let node = ComputeNode::on_shared_storage(4).await?;
    let mut c = node.connect(Some("test")).await?;
    let one = strata_testkit::unique_name("tmpone");
    let all = strata_testkit::unique_name("tmpall");
    run_all(
        &mut c,
        &[
            &format!("CREATE DATABASE {all}"),
            &format!("CREATE TABLE {all}.d (id INT PRIMARY KEY) SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'"),
            &format!("INSERT INTO {all}.d VALUES (1), (2), (3), (4)"),
            &format!("CREATE DATABASE {one} DEFAULT DATANODE '1'"),
            &format!("USE {one}"),
        ],
    )
    .await?;
    let count = format!("SELECT COUNT(*) FROM {all}.d");
    // MariaDB's 1060 (duplicate column): no temporary table was created.
    let (code, message) = error_of(&mut c, "CREATE TEMPORARY TABLE tt (a INT, a INT)").await;
    assert_eq!(code, Some(1060), "{message}");
    assert_eq!(first_int(&mut c, &count).await?, 4);
    // One that was created keeps the session on its data node.
    c.query_drop("CREATE TEMPORARY TABLE tt (a INT)").await?;
    assert_codes(&mut c, &[count.as_str()], 1235).await;
    c.query_drop("DROP TEMPORARY TABLE tt").await?;
    c.query_drop(format!("DROP DATABASE {one}")).await?;
    c.query_drop(format!("DROP DATABASE {all}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_tables_over_tables_of_their_database_on_one_data_node() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    for sql in [
        "DROP TABLE IF EXISTS m, m2, t1, t2",
        "CREATE TABLE t1 (a INT) ENGINE=MyISAM",
        "CREATE TABLE t2 (a INT) ENGINE=MyISAM",
        "INSERT INTO t1 VALUES (1)",
        "INSERT INTO t2 VALUES (2)",
        "CREATE TABLE m (a INT) ENGINE=MERGE UNION=(t1, t2) INSERT_METHOD=LAST",
        "INSERT INTO m VALUES (3)",
    ] {
        c.query_drop(sql).await.map_err(|e| format!("{sql}: {e}"))?;
    }
    assert_eq!(first_int(&mut c, "SELECT SUM(a) FROM m").await?, 6);
    assert_eq!(first_int(&mut c, "SELECT COUNT(*) FROM t2").await?, 2);
    c.query_drop("ALTER TABLE m UNION=(t1)").await?;
    assert_eq!(first_int(&mut c, "SELECT SUM(a) FROM m").await?, 1);
    // A storage schema stays private; a database that is not this one is refused.
    let (code, message) = error_of(
        &mut c,
        "CREATE TABLE m2 (a INT) ENGINE=MRG_MyISAM UNION=(t1, mysql.db)",
    )
    .await;
    assert_eq!(code, Some(1044), "{message}");
    assert_codes(
        &mut c,
        &[
            "CREATE TABLE m2 (a INT) ENGINE=MERGE UNION=(other.t1)",
            "ALTER TABLE m UNION=(t1, other.t2)",
            // The storage node would keep the qualifier as written, not the physical
            // database's name.
            "CREATE TABLE m2 (a INT) ENGINE=MERGE UNION=(test.t1)",
            "EXECUTE IMMEDIATE 'CREATE TABLE m2 (a INT) ENGINE=MERGE UNION=(other.t1)'",
        ],
        1235,
    )
    .await;
    // MariaDB's rule: SELECT, UPDATE and DELETE on every UNION table.
    run_all(
        &mut c,
        &[
            "CREATE USER 'merger'@'%' IDENTIFIED BY 'm-pw'",
            "GRANT CREATE ON test.* TO 'merger'@'%'",
            "GRANT SELECT ON test.t1 TO 'merger'@'%'",
            "GRANT SELECT, UPDATE, DELETE ON test.t2 TO 'merger'@'%'",
        ],
    )
    .await?;
    let opts = strata_testkit::mysql_opts(node.service_addr(), "merger", "m-pw", Some("test"));
    let mut merger = mysql_async::Conn::new(opts).await?;
    let (code, message) = error_of(
        &mut merger,
        "CREATE TABLE m2 (a INT) ENGINE=MERGE UNION=(t2, t1)",
    )
    .await;
    assert_eq!(code, Some(1142), "{message}");
    assert!(
        message.contains("UPDATE, DELETE command denied"),
        "{message}"
    );
    merger
        .query_drop("CREATE TABLE m2 (a INT) ENGINE=MERGE UNION=(t2)")
        .await?;
    drop(merger);
    run_all(
        &mut c,
        &["DROP USER 'merger'@'%'", "DROP TABLE m, m2, t1, t2"],
    )
    .await?;
    node.shutdown().await;

    // Over several data nodes each node's MERGE table would see its own rows only.
    let (node, mut c) = common::node_and_conn(2).await?;
    assert_codes(
        &mut c,
        &["CREATE TABLE m (a INT) ENGINE=MERGE UNION=(t1)"],
        1235,
    )
    .await;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_select_reads_the_public_time_zone_and_help_tables_of_mysql() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    let storage = shared_storage(1).await?;
    let mut direct = storage.connect(0, None).await?;
    for table in [
        "time_zone",
        "time_zone_name",
        "time_zone_transition",
        "time_zone_transition_type",
        "time_zone_leap_second",
        "help_topic",
        "help_category",
        "help_keyword",
        "help_relation",
    ] {
        let sql = format!("SELECT COUNT(*) FROM mysql.{table}");
        let expected = first_int(&mut direct, &sql).await?;
        assert_eq!(first_int(&mut c, &sql).await?, expected, "{sql}");
    }
    let sql = "SELECT name FROM mysql.help_category WHERE help_category_id = 1";
    let expected: Option<String> = direct.query_first(sql).await?;
    let got: Option<String> = c.query_first(sql).await?;
    assert_eq!(got, expected);
    c.query_drop("PREPARE s FROM 'SELECT COUNT(*) FROM mysql.time_zone_name'")
        .await?;
    c.query_drop("EXECUTE s").await?;
    // Only a SELECT of those tables: writes, DDL, locks, HANDLER, a SELECT that
    // writes elsewhere, and every other table of mysql stay 1044.
    c.query_drop("CREATE TABLE IF NOT EXISTS tz (n TEXT)")
        .await?;
    assert_codes(
        &mut c,
        &[
            "SELECT * FROM mysql.user",
            "SELECT * FROM mysql.time_zone_name, mysql.db",
            "INSERT INTO mysql.time_zone_name VALUES ('x', 1)",
            "DELETE FROM mysql.help_topic",
            "UPDATE mysql.time_zone SET Use_leap_seconds = 'Y'",
            "TRUNCATE TABLE mysql.help_keyword",
            "ALTER TABLE mysql.help_topic ENGINE=InnoDB",
            "LOCK TABLES mysql.time_zone READ",
            "HANDLER mysql.help_topic OPEN",
            "INSERT INTO tz SELECT name FROM mysql.time_zone_name",
            "CREATE TABLE tz2 AS SELECT * FROM mysql.help_topic",
            "CREATE VIEW tzv AS SELECT * FROM mysql.time_zone_name",
            "SELECT mysql.help_topic(1)",
        ],
        1044,
    )
    .await;
    c.query_drop("DROP TABLE tz").await?;
    node.shutdown().await;

    // Over several data nodes: read on the home data node, or refused.
    let (node, mut c) = common::node_and_conn(2).await?;
    let sql = "SELECT COUNT(*) FROM mysql.help_category";
    let expected = first_int(&mut direct, sql).await?;
    assert_eq!(first_int(&mut c, sql).await?, expected, "{sql}");
    assert!(expected > 0, "the storage node has help categories");
    let db = strata_testkit::unique_name("pubtz");
    run_all(
        &mut c,
        &[
            &format!("CREATE DATABASE {db}"),
            &format!("USE {db}"),
            "CREATE TABLE d (id INT PRIMARY KEY) SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-2'",
            "INSERT INTO d VALUES (1), (2), (3), (4)",
        ],
    )
    .await?;
    // A join with a table over several data nodes needs its columns: refused.
    let join = "SELECT COUNT(*) FROM d JOIN mysql.help_category c ON c.help_category_id = d.id";
    assert_codes(&mut c, &[join], 1235).await;
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_errors_and_blank_led_column_names_read_as_mariadb_gives_them() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    let storage = shared_storage(1).await?;
    let mut direct = storage.connect(0, None).await?;
    // Strata's own 1064 (ps_5merge): MariaDB's wording, the near text without the
    // trailing blanks MariaDB does not parse.
    for sql in [
        "@arg00 a from t1 where a=1",
        "PREPARE s FROM ' ? a from t1 where a=1 '",
        // A PREPARE of the wrong shape (ps_1general) was 1235.
        "prepare stmt1",
        "prepare stmt1 from ",
        "prepare ? from ' select ? as my_col '",
        "prepare stmt1 ' select 1 '",
    ] {
        let expected = error_of(&mut direct, sql).await;
        let got = error_of(&mut c, sql).await;
        assert_eq!(got.0, Some(1064), "{sql}: {}", got.1);
        assert_eq!(got, expected, "{sql}");
    }
    // A column name with leading blanks (select): MariaDB's name and warning.
    for sql in ["SELECT 1 AS ` x`", "SELECT 1 AS `  `"] {
        for conn in [&mut c, &mut direct] {
            let result = conn.query_iter(sql).await?;
            let names: Vec<String> = result
                .columns_ref()
                .iter()
                .map(|col| col.name_str().into_owned())
                .collect();
            drop(result);
            let warnings: Vec<(String, u32, String)> = conn.query("SHOW WARNINGS").await?;
            assert_eq!(names.len(), 1, "{sql}");
            assert!(!names[0].starts_with(' '), "{sql}: {names:?}");
            assert_eq!(warnings.len(), 1, "{sql}: {warnings:?}");
        }
    }
    node.shutdown().await;
    Ok(())
}
