//! The storage servers' server-wide data tables of `mysql` (statistics, time zones,
//! help, logs) with `server.storage_globals = "settable"`: an account with the needed
//! privileges on `mysql` reads and writes them as on MariaDB, writes and DDL reach every
//! data node, statistics rows of databases the account may not see stay hidden, and the
//! account tables stay refused. Without "settable" all of it stays 1044.

mod common;

use common::{assert_codes, error_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_catalog::config::StorageGlobals;
use strata_testkit::{mysql_opts, ComputeNode, StorageNodes};

/// A compute node over `storage` with storage globals settable (or not) whose logical
/// database is named as its physical one (as a database made by CREATE DATABASE is),
/// and that name.
async fn node(storage: &StorageNodes, settable: bool) -> TestResult<(ComputeNode, String)> {
    let node = ComputeNode::builder(storage)
        .configure(move |c| {
            if settable {
                c.server.storage_globals = StorageGlobals::Settable;
            }
            let physical = c.data_nodes[0].primary.database.clone();
            c.databases[0].name = physical;
        })
        .start()
        .await?;
    let db = node.config().databases[0].name.clone();
    Ok((node, db))
}

/// The rows of `sql` as text.
async fn texts(c: &mut Conn, sql: &str) -> TestResult<Vec<String>> {
    Ok(c.query(sql).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settable_admin_writes_and_reads_server_data_tables() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let (node, db) = node(&storage, true).await?;
    let mut c = node.connect(Some(&db)).await?;
    let mut direct = storage.connect(0, None).await?;

    // Statistics rows of the client's database: written, read back, deleted.
    c.query_drop(format!(
        "DELETE FROM mysql.table_stats WHERE db_name = '{db}'"
    ))
    .await?;
    c.query_drop(format!(
        "INSERT INTO mysql.table_stats VALUES ('{db}', 't1', 42)"
    ))
    .await?;
    let on_storage: Option<u64> = direct
        .query_first(format!(
            "SELECT cardinality FROM mysql.table_stats WHERE db_name = '{db}' AND table_name = 't1'"
        ))
        .await?;
    assert_eq!(on_storage, Some(42));
    // A row of a database that is none of Strata's is never shown.
    direct
        .query_drop("INSERT INTO mysql.table_stats VALUES ('not_strata', 't1', 7)")
        .await?;
    let shown = texts(
        &mut c,
        "SELECT CONCAT(db_name, '.', table_name, '=', cardinality) FROM mysql.table_stats ORDER BY 1",
    )
    .await?;
    assert_eq!(shown, vec![format!("{db}.t1=42")]);
    let count: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM mysql.table_stats WHERE table_name = 't1'")
        .await?;
    assert_eq!(count, Some(1));
    c.query_drop("DELETE FROM mysql.table_stats").await?;
    let left = texts(
        &mut direct,
        "SELECT db_name FROM mysql.table_stats WHERE table_name = 't1'",
    )
    .await?;
    assert!(left.is_empty(), "{left:?}");

    // Time zone tables: DDL as the time zone loader and MariaDB's tests run it.
    for sql in [
        "ALTER TABLE mysql.time_zone_transition ORDER BY Time_zone_id, Transition_time",
        "RENAME TABLE mysql.time_zone_name TO mysql.time_zone_name_backup",
        "CREATE TABLE mysql.time_zone_name LIKE mysql.time_zone_name_backup",
        "INSERT INTO mysql.time_zone_name VALUES ('Strata/Test', 1)",
        "DROP TABLE mysql.time_zone_name",
        "RENAME TABLE mysql.time_zone_name_backup TO mysql.time_zone_name",
        "EXECUTE IMMEDIATE 'ALTER TABLE mysql.time_zone_transition_type ORDER BY Time_zone_id'",
    ] {
        c.query_drop(sql).await.map_err(|e| format!("{sql}: {e}"))?;
    }
    let tables = texts(
        &mut direct,
        "SELECT table_name FROM information_schema.TABLES WHERE table_schema = 'mysql' \
         AND table_name LIKE 'time_zone_name%'",
    )
    .await?;
    assert_eq!(tables, vec!["time_zone_name".to_string()]);

    // Account tables and the other storage schemas stay out of reach.
    assert_codes(
        &mut c,
        &[
            "DELETE FROM mysql.global_priv",
            "SELECT * FROM mysql.tables_priv",
            "RENAME TABLE mysql.time_zone TO mysql.user_copy",
            "INSERT INTO mysql.table_stats SELECT 'x', 'y', 1 FROM mysql.tables_priv",
            "SELECT * FROM performance_schema.threads",
            "SHOW CREATE TABLE mysql.user",
            // Bodies in `mysql` would resolve unqualified names there.
            "CREATE TRIGGER mysql.time_zone_t BEFORE INSERT ON mysql.time_zone \
             FOR EACH ROW DELETE FROM global_priv",
            "CREATE PROCEDURE IF NOT EXISTS mysql.time_zone_p() DELETE FROM global_priv",
        ],
        1044,
    )
    .await;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settable_server_data_tables_need_privileges_on_mysql() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let (node, db) = node(&storage, true).await?;
    let mut c = node.connect(Some(&db)).await?;
    c.query_drop("CREATE DATABASE other_db").await?;
    for (table, other) in [(db.as_str(), "mine"), ("other_db", "theirs")] {
        c.query_drop(format!(
            "INSERT INTO mysql.table_stats VALUES ('{table}', '{other}', 1)"
        ))
        .await?;
    }
    for sql in [
        "CREATE USER lowly@'%'".to_string(),
        format!("GRANT ALL ON `{db}`.* TO lowly@'%'"),
        "CREATE USER reader@'%'".to_string(),
        format!("GRANT ALL ON `{db}`.* TO reader@'%'"),
        "GRANT SELECT, DELETE ON mysql.* TO reader@'%'".to_string(),
    ] {
        c.query_drop(&sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }

    // Without privileges on mysql: MariaDB's 1142 for the table.
    let mut lowly = Conn::new(mysql_opts(node.service_addr(), "lowly", "", Some(&db))).await?;
    for (sql, command) in [
        ("DELETE FROM mysql.table_stats", "DELETE"),
        ("SELECT * FROM mysql.table_stats", "SELECT"),
        (
            "ALTER TABLE mysql.time_zone_transition ORDER BY Time_zone_id",
            "ALTER",
        ),
    ] {
        let (code, message) = error_of(&mut lowly, sql).await;
        assert_eq!(code, Some(1142), "{sql}: {message}");
        assert!(
            message.contains(&format!("{command} command denied")),
            "{sql}: {message}"
        );
    }

    // SELECT on mysql.*: the rows of its own databases only; the admin sees both.
    let mut reader = Conn::new(mysql_opts(node.service_addr(), "reader", "", Some(&db))).await?;
    let rows = "SELECT table_name FROM mysql.table_stats WHERE table_name IN ('mine', 'theirs') ORDER BY 1";
    assert_eq!(texts(&mut reader, rows).await?, vec!["mine".to_string()]);
    assert_eq!(
        texts(&mut c, rows).await?,
        vec!["mine".to_string(), "theirs".to_string()]
    );
    // information_schema lists the server-wide data tables to accounts with privileges
    // on mysql (`include/have_stat_tables.inc` looks for them), never the account tables.
    let listed = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql' \
                  AND TABLE_NAME IN ('table_stats', 'column_stats', 'index_stats', 'user', \
                  'global_priv', 'db') ORDER BY 1";
    let stats = ["column_stats", "index_stats", "table_stats"].map(String::from);
    assert_eq!(texts(&mut c, listed).await?, stats);
    assert_eq!(texts(&mut reader, listed).await?, stats);
    assert!(texts(&mut lowly, listed).await?.is_empty());
    let columns = "SELECT DISTINCT TABLE_NAME FROM information_schema.COLUMNS \
                   WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME IN ('table_stats', 'user')";
    assert_eq!(texts(&mut c, columns).await?, ["table_stats"]);
    // A write would act on rows it may not see: it needs global SELECT.
    let (code, message) = error_of(&mut reader, "DELETE FROM mysql.table_stats").await;
    assert_eq!(code, Some(1235), "{message}");
    assert_eq!(texts(&mut c, rows).await?.len(), 2);
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_settable_the_mysql_schema_stays_refused() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let (node, db) = node(&storage, false).await?;
    let mut c = node.connect(Some(&db)).await?;
    // (A SELECT of literals answered by the compute node: an offset leaves no row, as
    // in MariaDB; main.limit showed it once mysql.slow_log became readable.)
    for sql in [
        "SELECT 1 AS a LIMIT 4294967296, 10",
        "SELECT 1 AS a LIMIT 10 OFFSET 1",
    ] {
        assert!(texts(&mut c, sql).await?.is_empty(), "{sql}");
    }
    assert_eq!(texts(&mut c, "SELECT 1 AS a LIMIT 0, 1").await?, ["1"]);
    assert_codes(
        &mut c,
        &[
            "DELETE FROM mysql.table_stats",
            "SELECT * FROM mysql.table_stats",
            "INSERT INTO mysql.column_stats (db_name, table_name, column_name) VALUES ('a', 'b', 'c')",
            "ALTER TABLE mysql.time_zone_transition ORDER BY Time_zone_id",
            "RENAME TABLE mysql.time_zone TO mysql.time_zone_backup",
            "TRUNCATE TABLE mysql.general_log",
        ],
        1044,
    )
    .await;
    // information_schema lists nothing of mysql.
    let listed: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql'")
        .await?;
    assert_eq!(listed, Some(0));
    // The public reference tables stay readable.
    let zones: Option<i64> = c
        .query_first("SELECT COUNT(*) >= 0 FROM mysql.time_zone_name")
        .await?;
    assert_eq!(zones, Some(1));
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settable_writes_reach_every_data_node() -> TestResult {
    let storage = StorageNodes::start(2).await?;
    let (node, db) = node(&storage, true).await?;
    let mut c = node.connect(Some(&db)).await?;
    let mut direct = [
        storage.connect(0, None).await?,
        storage.connect(1, None).await?,
    ];
    let stats = format!(
        "SELECT COUNT(*) FROM mysql.table_stats WHERE db_name = '{db}' AND table_name = 'spread'"
    );
    c.query_drop(format!(
        "INSERT INTO mysql.table_stats VALUES ('{db}', 'spread', 3)"
    ))
    .await?;
    for d in direct.iter_mut() {
        assert_eq!(d.query_first::<i64, _>(&stats).await?, Some(1));
    }
    let shown: Option<u64> = c
        .query_first("SELECT cardinality FROM mysql.table_stats WHERE table_name = 'spread'")
        .await?;
    assert_eq!(shown, Some(3));
    c.query_drop("DELETE FROM mysql.table_stats WHERE table_name = 'spread'")
        .await?;
    for d in direct.iter_mut() {
        assert_eq!(d.query_first::<i64, _>(&stats).await?, Some(0));
    }
    c.query_drop("CREATE TABLE mysql.time_zone_copy LIKE mysql.time_zone")
        .await?;
    let copy = "SELECT COUNT(*) FROM information_schema.TABLES \
                WHERE table_schema = 'mysql' AND table_name = 'time_zone_copy'";
    for d in direct.iter_mut() {
        assert_eq!(d.query_first::<i64, _>(copy).await?, Some(1));
    }
    c.query_drop("DROP TABLE mysql.time_zone_copy").await?;
    for d in direct.iter_mut() {
        assert_eq!(d.query_first::<i64, _>(copy).await?, Some(0));
    }
    // A failure on the first node changes nothing anywhere.
    let (code, _) = error_of(&mut c, "DROP TABLE mysql.time_zone_copy").await;
    assert_eq!(code, Some(1051));

    // What cannot run as it is on every data node: 1235.
    c.query_drop("CREATE TABLE t (a INT)").await?;
    assert_codes(
        &mut c,
        &[
            "INSERT INTO mysql.table_stats SELECT 'x', 'y', a FROM t",
            "EXECUTE IMMEDIATE 'DELETE FROM mysql.table_stats'",
            "PREPARE s FROM 'DELETE FROM mysql.table_stats'",
            "CREATE PROCEDURE p() DELETE FROM mysql.table_stats",
        ],
        1235,
    )
    .await;
    c.query_drop("BEGIN").await?;
    assert_codes(&mut c, &["DELETE FROM mysql.table_stats"], 1235).await;
    c.query_drop("ROLLBACK").await?;
    node.shutdown().await;
    Ok(())
}

/// statistics.test's round trip: statistics collected under `SET STATEMENT ... FOR
/// ANALYZE TABLE`, the statistics tables listed in information_schema (what
/// have_stat_tables.inc asks), saved rows loaded back with `LOAD DATA INFILE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settable_statistics_are_collected_listed_and_loaded() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let dir = std::env::temp_dir().join(strata_testkit::unique_name("stat_files"));
    std::fs::create_dir_all(&dir)?;
    let files = dir.clone();
    let node = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.server.storage_globals = StorageGlobals::Settable;
            c.server.secure_file_priv = Some(files);
            let physical = c.data_nodes[0].primary.database.clone();
            c.databases[0].name = physical;
        })
        .start()
        .await?;
    let db = node.config().databases[0].name.clone();
    let mut c = node.connect(Some(&db)).await?;
    let mut direct = storage.connect(0, None).await?;

    let listed: Option<i64> = c
        .query_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE table_schema = 'mysql' \
             AND table_name IN ('table_stats', 'column_stats', 'index_stats', 'user', 'global_priv')",
        )
        .await?;
    assert_eq!(listed, Some(3));

    c.query_drop("CREATE TABLE st (a INT PRIMARY KEY, b VARCHAR(10))")
        .await?;
    c.query_drop("INSERT INTO st VALUES (1, 'x'), (2, 'y'), (3, 'y')")
        .await?;
    // Table, Op, Msg_type, Msg_text.
    let messages: Vec<(String, String, String, String)> = c
        .query("SET STATEMENT histogram_type = JSON_HB FOR ANALYZE TABLE st PERSISTENT FOR ALL")
        .await?;
    assert!(
        messages
            .iter()
            .any(|m| m.3 == "Engine-independent statistics collected"),
        "{messages:?}"
    );
    let kind: Option<String> = c
        .query_first(format!(
            "SELECT hist_type FROM mysql.column_stats WHERE db_name = '{db}' \
             AND table_name = 'st' AND column_name = 'b'"
        ))
        .await?;
    assert_eq!(kind.as_deref(), Some("JSON_HB"));

    c.query_drop(format!(
        "DELETE FROM mysql.index_stats WHERE db_name = '{db}' AND table_name = 'st'"
    ))
    .await?;
    let file = dir.join("index_stats.csv");
    std::fs::write(&file, format!("{db},st,PRIMARY,1,1.5000\n"))?;
    c.query_drop(format!(
        "LOAD DATA INFILE '{}' INTO TABLE mysql.index_stats FIELDS TERMINATED BY ','",
        file.display()
    ))
    .await?;
    let loaded: Option<String> = direct
        .query_first(format!(
            "SELECT avg_frequency FROM mysql.index_stats WHERE db_name = '{db}' \
             AND table_name = 'st' AND index_name = 'PRIMARY'"
        ))
        .await?;
    assert_eq!(loaded.as_deref(), Some("1.5000"));
    c.query_drop("DROP TABLE st").await?;
    std::fs::remove_dir_all(&dir)?;
    node.shutdown().await;
    Ok(())
}

/// A view or procedure over information_schema lists the databases there are when it
/// runs (ctype_collate_database: a database created after the view was missing from
/// it), for an account that sees every database on storage servers serving this
/// Strata alone; the storage servers' own schemas stay hidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_over_information_schema_list_the_databases_of_when_they_run() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let (node, db) = node(&storage, true).await?;
    let mut c = node.connect(Some(&db)).await?;
    c.query_drop(
        "CREATE VIEW dbs AS SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
         WHERE SCHEMA_NAME LIKE 'later%' OR SCHEMA_NAME IN ('mysql', 'sys')",
    )
    .await?;
    c.query_drop(
        "CREATE PROCEDURE tables_of(d VARCHAR(64)) \
         SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = d ORDER BY 1",
    )
    .await?;
    assert!(texts(&mut c, "SELECT * FROM dbs").await?.is_empty());
    c.query_drop("CREATE DATABASE later_db").await?;
    c.query_drop("CREATE TABLE later_db.t (a INT)").await?;
    assert_eq!(texts(&mut c, "SELECT * FROM dbs").await?, ["later_db"]);
    assert_eq!(texts(&mut c, "CALL tables_of('later_db')").await?, ["t"]);
    // The same through a prepared statement prepared before the database existed.
    c.query_drop("PREPARE s FROM 'SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ''later_two'''")
        .await?;
    c.query_drop("CREATE DATABASE later_two").await?;
    assert_eq!(texts(&mut c, "EXECUTE s").await?, ["1"]);
    for sql in [
        "DROP DATABASE later_db",
        "DROP DATABASE later_two",
        "DROP VIEW dbs",
        "DROP PROCEDURE tables_of",
    ] {
        c.query_drop(sql).await?;
    }
    node.shutdown().await;
    Ok(())
}
