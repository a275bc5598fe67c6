//! Procedural SQL and table maintenance through a real client: routines, triggers and
//! compound statements reach a one-node database whole (never split at the `;` of a
//! body), CALL runs them; over several data nodes routines are created on every node,
//! CALL runs on one data node when the bodies allow it (else where a hint routes it),
//! triggers on sharded tables and events are refused; ANALYZE/CHECK/OPTIMIZE/REPAIR/CHECKSUM TABLE answer with MariaDB's rows.

mod common;

use common::{assert_codes, error_of, node_and_conn, node_on_shared, physical_test_db, TestResult};
use mysql_async::prelude::*;
use strata_testkit::StorageNodes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_procedure_with_a_multi_statement_body_is_created_and_called_on_one_data_node(
) -> TestResult {
    let (_node, mut c) = node_and_conn(1).await?;
    c.query_drop("DROP TABLE IF EXISTS pr_t").await?;
    c.query_drop("DROP PROCEDURE IF EXISTS pr_fill").await?;
    c.query_drop("CREATE TABLE pr_t (a INT PRIMARY KEY)")
        .await?;
    // One COM_QUERY holding the routine and a statement after it: the body's `;` do
    // not split it, the `;` after END does. The body names the table by its logical
    // database, which is not the physical one.
    c.query_drop(
        "CREATE PROCEDURE pr_fill(n INT)
         BEGIN
           DECLARE i INT DEFAULT 0;
           DECLARE CONTINUE HANDLER FOR 1062 BEGIN SET i = i + 1; END;
           WHILE i < n DO
             SET i = i + 1;
             IF i % 2 = 0 THEN INSERT INTO test.pr_t VALUES (i); END IF;
           END WHILE;
           SELECT COUNT(*) AS n FROM pr_t;
         END;
         SELECT 1",
    )
    .await?;
    let n: Option<i64> = c.query_first("CALL pr_fill(6)").await?;
    assert_eq!(n, Some(3));
    let rows: Vec<i64> = c.query("SELECT a FROM pr_t ORDER BY a").await?;
    assert_eq!(rows, [2, 4, 6]);

    c.query_drop("DROP FUNCTION IF EXISTS pr_twice").await?;
    c.query_drop(
        "CREATE FUNCTION pr_twice(x INT) RETURNS INT DETERMINISTIC
         BEGIN DECLARE y INT; SET y = x * 2; RETURN y; END",
    )
    .await?;
    let y: Option<i64> = c.query_first("SELECT pr_twice(21)").await?;
    assert_eq!(y, Some(42));

    c.query_drop(
        "CREATE TRIGGER pr_tr BEFORE INSERT ON pr_t FOR EACH ROW
         IF NEW.a > 100 THEN SET NEW.a = 100; END IF",
    )
    .await?;
    c.query_drop("INSERT INTO pr_t VALUES (500)").await?;
    let max: Option<i64> = c.query_first("SELECT MAX(a) FROM pr_t").await?;
    assert_eq!(max, Some(100));

    let v: Option<i64> = c
        .query_first("BEGIN NOT ATOMIC DECLARE x INT DEFAULT 7; SELECT x * 6; END")
        .await?;
    assert_eq!(v, Some(42));
    let (code, message) = error_of(
        &mut c,
        "BEGIN NOT ATOMIC SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'custom'; END",
    )
    .await;
    assert_eq!((code, message.contains("custom")), (Some(1644), true));

    // A cursor open while the body selects: MariaDB flags the SELECT's result set
    // with SERVER_STATUS_CURSOR_EXISTS, its rows follow all the same (sp-expr).
    let va: Option<i64> = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        c.query_first(
            "BEGIN NOT ATOMIC
               DECLARE va INT;
               DECLARE cur CURSOR(amin INT) FOR SELECT a FROM pr_t WHERE a > amin ORDER BY a;
               OPEN cur(1 IN (SELECT * FROM pr_t));
               FETCH cur INTO va;
               SELECT va;
               CLOSE cur;
             END",
        ),
    )
    .await??;
    assert_eq!(va, Some(2));

    c.query_drop("DROP TRIGGER pr_tr").await?;
    c.query_drop("DROP PROCEDURE pr_fill").await?;
    c.query_drop("DROP FUNCTION pr_twice").await?;
    c.query_drop("DROP TABLE pr_t").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routine_body_naming_the_storage_servers_schemas_is_refused() -> TestResult {
    let (_node, mut c) = node_and_conn(1).await?;
    let (code, _) = error_of(
        &mut c,
        "CREATE PROCEDURE pr_bad() BEGIN SELECT 1; SELECT * FROM mysql.user; END",
    )
    .await;
    assert_eq!(code, Some(1044));
    let (code, _) = error_of(
        &mut c,
        "CREATE PROCEDURE pr_bad() BEGIN SELECT 1; SET GLOBAL max_connections = 1; END",
    )
    .await;
    assert_eq!(code, Some(1227));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_maintenance_statements_answer_with_the_logical_table_on_one_data_node() -> TestResult
{
    let (node, mut c) = node_and_conn(1).await?;
    c.query_drop("DROP TABLE IF EXISTS mt_a, mt_b").await?;
    c.query_drop("CREATE TABLE mt_a (a INT) ENGINE=MyISAM")
        .await?;
    c.query_drop("CREATE TABLE mt_b (a INT) ENGINE=InnoDB")
        .await?;
    for op in ["ANALYZE", "CHECK", "OPTIMIZE", "REPAIR"] {
        let rows: Vec<(String, String, String, String)> =
            c.query(format!("{op} TABLE mt_a, mt_b")).await?;
        assert!(!rows.is_empty(), "{op}");
        assert_eq!(rows[0].0, "test.mt_a", "{op}: {rows:?}");
        assert_eq!(rows[0].1, op.to_ascii_lowercase(), "{op}");
    }
    let rows: Vec<(String, Option<i64>)> = c.query("CHECKSUM TABLE mt_a").await?;
    assert_eq!(rows, [("test.mt_a".to_string(), Some(0))]);

    // As MariaDB (MDEV-37971): CHECK TABLE needs some privilege on the table, CHECKSUM
    // and ANALYZE need SELECT.
    c.query_drop("DROP USER IF EXISTS mt_user").await?;
    c.query_drop("CREATE USER mt_user IDENTIFIED BY 'pw'")
        .await?;
    c.query_drop("GRANT CREATE ON test.mt_a TO mt_user").await?;
    let opts = mysql_async::OptsBuilder::from_opts(node.opts(Some("test")))
        .user(Some("mt_user"))
        .pass(Some("pw"));
    let mut u = mysql_async::Conn::new(opts).await?;
    let rows: Vec<(String, String, String, String)> = u.query("CHECK TABLE test.mt_a").await?;
    assert_eq!(rows.first().map(|r| r.0.as_str()), Some("test.mt_a"));
    assert_codes(
        &mut u,
        &[
            "CHECK TABLE mt_b",
            "CHECKSUM TABLE mt_a",
            "ANALYZE TABLE mt_a",
        ],
        1142,
    )
    .await;
    u.disconnect().await?;
    c.query_drop("DROP USER mt_user").await?;
    c.query_drop("DROP TABLE mt_a, mt_b").await?;
    Ok(())
}

/// How many routines named `name` storage node `i` has in `physical`.
async fn routines_named(
    storage: &StorageNodes,
    i: usize,
    physical: &str,
    name: &str,
) -> TestResult<i64> {
    let mut s = storage.connect(i, Some(physical)).await?;
    let n: Option<i64> = s
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ?",
            (physical, name),
        )
        .await?;
    Ok(n.unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_several_data_nodes_routines_go_everywhere_and_call_needs_a_hint() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let physical = physical_test_db(&node)?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("DROP PROCEDURE IF EXISTS mp_one").await?;
    c.query_drop("CREATE PROCEDURE mp_one() BEGIN SELECT 1; SELECT 2 AS two; END")
        .await?;
    for i in 0..2 {
        let n = routines_named(&storage, i, &physical, "mp_one").await?;
        assert_eq!(n, 1, "storage node {i}");
    }
    // No table: any data node's run is the database's.
    let one: Vec<i64> = c
        .query_iter("CALL mp_one()")
        .await?
        .collect_and_drop()
        .await?;
    assert_eq!(one, [1]);
    let two: Vec<i64> = c
        .query_iter("/*!strata:dnid=2*/ CALL mp_one()")
        .await?
        .collect_and_drop()
        .await?;
    assert_eq!(two, [1]);
    // Created on every node with each node's physical name; shown as written.
    c.query_drop("CREATE PROCEDURE test.mp_two() SELECT COUNT(*) FROM test.mp_none")
        .await?;
    let shown: Option<mysql_async::Row> =
        c.query_first("SHOW CREATE PROCEDURE test.mp_two").await?;
    let shown: String = shown.and_then(|r| r.get(2)).unwrap_or_default();
    assert!(
        shown.ends_with("PROCEDURE `mp_two`()\nSELECT COUNT(*) FROM test.mp_none"),
        "{shown}"
    );
    let definitions: Vec<String> = c
        .query(
            "SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES \
             WHERE ROUTINE_DEFINITION LIKE '%test.mp_none%'",
        )
        .await?;
    assert_eq!(definitions, ["SELECT COUNT(*) FROM test.mp_none"]);
    assert!(!shown.contains(&physical), "{shown}");
    c.query_drop("DROP PROCEDURE test.mp_two").await?;

    c.query_drop(
        "CREATE TABLE mp_sharded (id INT PRIMARY KEY) \
         SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'",
    )
    .await?;
    let (code, message) = error_of(
        &mut c,
        "CREATE TRIGGER mp_tr BEFORE INSERT ON mp_sharded FOR EACH ROW SET NEW.id = NEW.id",
    )
    .await;
    assert_eq!(code, Some(1235), "{message}");
    let (code, message) = error_of(&mut c, "DROP TRIGGER mp_none").await;
    assert_eq!(code, Some(1235), "{message}");
    c.query_drop("DROP TRIGGER IF EXISTS mp_none").await?;
    let (code, _) = error_of(
        &mut c,
        "CREATE EVENT mp_ev ON SCHEDULE EVERY 1 DAY DO BEGIN SELECT 1; END",
    )
    .await;
    assert_eq!(code, Some(1235));
    let (code, _) = error_of(&mut c, "BEGIN NOT ATOMIC SELECT 1; END").await;
    assert_eq!(code, Some(1235));

    c.query_drop("INSERT INTO mp_sharded VALUES (1), (2), (3), (4)")
        .await?;
    let rows: Vec<(String, String, String, String)> = c.query("ANALYZE TABLE mp_sharded").await?;
    // Both data nodes answer the same row: shown once, with the logical name.
    assert_eq!(
        rows,
        [(
            "test.mp_sharded".to_string(),
            "analyze".to_string(),
            "status".to_string(),
            "OK".to_string()
        )]
    );
    // Each data node's checksum of its own rows: one row per node (unless equal).
    let checksums: Vec<(String, Option<i64>)> = c.query("CHECKSUM TABLE mp_sharded").await?;
    assert!(
        !checksums.is_empty() && checksums.len() <= 2,
        "{checksums:?}"
    );
    assert!(
        checksums.iter().all(|(t, _)| t == "test.mp_sharded"),
        "{checksums:?}"
    );

    c.query_drop("DROP PROCEDURE mp_one").await?;
    for i in 0..2 {
        let n = routines_named(&storage, i, &physical, "mp_one").await?;
        assert_eq!(n, 0, "storage node {i}");
    }
    c.query_drop("DROP TABLE mp_sharded").await?;
    Ok(())
}
