//! MariaDB's Sequence engine tables (`seq_1_to_10`, `seq_0_to_99_step_3`) in a database
//! over four data nodes, against one plain MariaDB: every data node answers them with
//! the same rows, so they are global tables present on every node of the database. Read
//! alone, joined with a sharded table (on each node with its shard), aggregated, the
//! source of an INSERT ... SELECT into a sharded table (each row routed by its key);
//! writes to them are MariaDB's 1031.

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, explain, node_and_reference, run, BoxError,
};

type TestResult = Result<(), BoxError>;

/// Runs `statements` (with whether each has a total order) on both sides and fails
/// the test naming every answer of Strata's that differs from MariaDB's.
async fn same_answers(
    reference: &mut mysql_async::Conn,
    strata: &mut mysql_async::Conn,
    statements: &[(&str, bool)],
) -> TestResult {
    let failures = differences(reference, strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_engine_tables_read_like_global_tables() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fse", "fseref").await?;
    let tables = [("t", "id INT PRIMARY KEY, v VARCHAR(10)", ALL_NODES)];
    let rows = ["INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, 'f'), (7, 'g'), (8, 'h')"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    let qualified = format!("SELECT COUNT(*) FROM {db}.seq_1_to_7");
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("SELECT * FROM seq_1_to_5", true),
            ("SELECT seq FROM seq_10_to_1_step_3", true),
            ("SELECT * FROM seq_01_to_3 ORDER BY seq DESC", true),
            (
                "SELECT COUNT(*), SUM(seq), MAX(seq) FROM seq_0_to_65535",
                true,
            ),
            ("SELECT COUNT(*) FROM seq_0_to_65535_step_2", true),
            (
                "SELECT seq % 3 AS r, COUNT(*) FROM seq_1_to_100 GROUP BY r",
                false,
            ),
            (
                "SELECT t.id, t.v, s.seq FROM t JOIN seq_1_to_3 s ON t.id = s.seq",
                false,
            ),
            (
                "SELECT t.id, s.seq FROM t, seq_1_to_2 s ORDER BY t.id, s.seq",
                true,
            ),
            (
                "SELECT COUNT(*), SUM(t.id * s.seq) FROM t JOIN seq_1_to_10 s ON s.seq <= t.id",
                true,
            ),
            (
                "SELECT s.seq, t.v FROM seq_1_to_10 s LEFT JOIN t ON t.id = s.seq",
                false,
            ),
            (
                "SELECT id FROM t WHERE id IN (SELECT seq FROM seq_2_to_6_step_2)",
                false,
            ),
            (qualified.as_str(), true),
            // Names MariaDB does not make up: 1146.
            ("SELECT * FROM SEQ_1_TO_3", false),
            ("SELECT * FROM seq_1_to_3_step_2_x", false),
            // A view over one (as MariaDB's casefold tests build theirs).
            (
                "CREATE VIEW v AS SELECT seq, seq * 2 AS d FROM seq_0_to_9",
                false,
            ),
            ("SELECT * FROM v WHERE seq > 5 ORDER BY seq", true),
            ("SELECT COUNT(*) FROM v JOIN t ON t.id = v.d", true),
            ("CREATE TABLE c AS SELECT seq AS id FROM seq_1_to_4", false),
            ("SELECT * FROM c ORDER BY id", true),
        ],
    )
    .await?;
    // Read alone: one data node; joined with the sharded table: every node, each with
    // its shard.
    let (alone, _) = explain(&mut strata, "SELECT * FROM seq_1_to_5").await?;
    assert_eq!(alone.len(), 1, "{alone:?}");
    let (joined, _) = explain(
        &mut strata,
        "SELECT t.id, s.seq FROM t JOIN seq_1_to_3 s ON t.id = s.seq",
    )
    .await?;
    assert_eq!(joined.len(), 4, "{joined:?}");
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_select_from_a_sequence_engine_table_routes_each_row() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsi", "fsiref").await?;
    let tables = [
        ("t", "id INT PRIMARY KEY, v INT", ALL_NODES),
        ("g", "id INT PRIMARY KEY", "SHARD BY GLOBAL"),
    ];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            (
                "INSERT INTO t SELECT seq, seq * 10 FROM seq_1_to_100",
                false,
            ),
            (
                "INSERT INTO t (id, v) SELECT seq, 0 FROM seq_101_to_120_step_5",
                false,
            ),
            ("INSERT INTO g SELECT seq FROM seq_1_to_20", false),
            ("SELECT COUNT(*), SUM(id), SUM(v) FROM t", true),
            ("SELECT * FROM t WHERE id > 95 ORDER BY id", true),
            ("SELECT COUNT(*) FROM t JOIN g ON g.id = t.id", true),
            // A duplicate key is the data node's 1062, as in MariaDB.
            ("INSERT INTO t SELECT seq, 1 FROM seq_99_to_101", false),
            (
                "INSERT IGNORE INTO t SELECT seq, 1 FROM seq_99_to_102",
                false,
            ),
            (
                "UPDATE t JOIN seq_1_to_5 s ON t.id = s.seq SET t.v = -s.seq",
                false,
            ),
            ("DELETE t FROM t JOIN seq_10_to_20 s ON t.id = s.seq", false),
            ("SELECT COUNT(*), SUM(v) FROM t", true),
        ],
    )
    .await?;
    // Each row sits on the node its key routes to: a lookup by key finds every one.
    let missing: Vec<u64> = strata
        .query(
            "SELECT seq FROM seq_1_to_100 WHERE seq NOT BETWEEN 10 AND 20 \
             AND seq NOT IN (SELECT id FROM t)",
        )
        .await?;
    assert!(missing.is_empty(), "{missing:?}");
    for id in [1, 37, 64, 100] {
        let found: Option<i64> = strata
            .query_first(format!("SELECT v FROM t WHERE id = {id}"))
            .await?;
        assert!(found.is_some(), "row {id} not found by its key");
    }
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_a_sequence_engine_table_are_refused_as_mariadb_refuses_them() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsw", "fswref").await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("INSERT INTO seq_1_to_3 VALUES (5)", false),
            ("INSERT INTO seq_1_to_3 SELECT 1", false),
            ("REPLACE INTO seq_1_to_3 VALUES (1)", false),
            ("UPDATE seq_1_to_3 SET seq = 4", false),
            ("DELETE FROM seq_1_to_3", false),
            ("TRUNCATE TABLE seq_1_to_3", false),
            ("SELECT * FROM seq_1_to_3", true),
            // MariaDB keeps such names for the engine: 1050.
            ("CREATE TABLE seq_1_to_3 (a INT)", false),
            ("CREATE VIEW seq_1_to_4 AS SELECT 1", false),
        ],
    )
    .await?;
    let refused = run(&mut strata, "INSERT INTO seq_1_to_3 VALUES (5)").await?;
    let message = format!("{refused:?}");
    assert!(
        message.contains(&format!(
            "Storage engine SEQUENCE of the table `{db}`.`seq_1_to_3` doesn't have this option"
        )),
        "{message}"
    );
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_lock_tables_a_sequence_engine_table_is_not_read_behind_the_locks() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsl", "fslref").await?;
    // The session's home data node holds one of these alone: LOCK TABLES takes it there.
    for n in 1..=4 {
        strata
            .query_drop(format!(
                "CREATE TABLE v{n} (id INT PRIMARY KEY) SHARD BY VERTICAL ON DATANODE '{n}'"
            ))
            .await?;
    }
    let mut locked = None;
    for n in 1..=4 {
        if run(&mut strata, &format!("LOCK TABLES v{n} READ"))
            .await?
            .error_code()
            .is_none()
        {
            locked = Some(n);
            break;
        }
    }
    assert!(locked.is_some(), "no LOCK TABLES ran");
    reference.query_drop("CREATE TABLE v (id INT)").await?;
    reference.query_drop("LOCK TABLES v READ").await?;
    let expected = run(&mut reference, "SELECT * FROM seq_1_to_3").await?;
    let got = run(&mut strata, "SELECT * FROM seq_1_to_3").await?;
    // MariaDB: 1100 (not locked); Strata answers that or refuses, never rows.
    assert_eq!(expected.error_code(), Some(1100), "{expected:?}");
    assert!(
        matches!(got.error_code(), Some(1100) | Some(1235)),
        "{got:?}"
    );
    reference.query_drop("UNLOCK TABLES").await?;
    strata.query_drop("UNLOCK TABLES").await?;
    drop_and_shut_down(node, &mut strata, &db).await
}
