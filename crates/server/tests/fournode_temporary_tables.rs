//! CREATE TEMPORARY TABLE in a database over four data nodes, against one plain
//! MariaDB: the table lives on the session's connection to one data node, shadows a
//! permanent table of the same name, serves reads, writes, joins and DDL there, is
//! private to its session and is gone once dropped or after a reconnect.

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, run, BoxError,
    ER_NOT_SUPPORTED_YET,
};

type TestResult = Result<(), BoxError>;

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

/// Runs `statements` on both sides and fails naming every answer that differs.
async fn same_answers(
    reference: &mut mysql_async::Conn,
    strata: &mut mysql_async::Conn,
    statements: &[(&str, bool)],
) -> TestResult {
    let failures = differences(reference, strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_table_answers_as_mariadb_does() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("tmpa", "tmparef").await?;
    let tables = [
        ("s", "id INT PRIMARY KEY, v VARCHAR(10)", ALL_NODES),
        ("t", "id INT PRIMARY KEY, v VARCHAR(10)", ALL_NODES),
    ];
    let rows = [
        "INSERT INTO s VALUES (1,'s1'),(2,'s2'),(3,'s3'),(4,'s4'),(5,'s5'),(6,'s6')",
        "INSERT INTO t VALUES (10,'perm'),(11,'perm'),(12,'perm'),(13,'perm')",
    ];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            (
                "CREATE TEMPORARY TABLE tt (id INT PRIMARY KEY, v VARCHAR(10))",
                false,
            ),
            (
                "INSERT INTO tt VALUES (3,'c'),(1,'a'),(2,'b'),(5,'e')",
                false,
            ),
            ("SELECT * FROM tt ORDER BY id", true),
            ("SELECT * FROM tt ORDER BY v DESC LIMIT 2", true),
            ("UPDATE tt SET v = 'B' WHERE id = 2", false),
            ("DELETE FROM tt WHERE id = 5", false),
            ("SELECT COUNT(*), MAX(v) FROM tt", true),
            (
                "INSERT INTO tt SELECT id + 100, v FROM s WHERE id > 4",
                false,
            ),
            ("SELECT * FROM tt ORDER BY id", true),
            ("ALTER TABLE tt ADD COLUMN w INT DEFAULT 7", false),
            ("SELECT id, w FROM tt ORDER BY id", true),
            ("SHOW CREATE TABLE tt", true),
            // A permanent sharded table still answers from all nodes meanwhile.
            ("SELECT COUNT(*) FROM s", true),
            // Shadowing: t names the temporary table until it is dropped.
            ("CREATE TEMPORARY TABLE t (id INT, v VARCHAR(10))", false),
            ("INSERT INTO t VALUES (1,'temp')", false),
            ("SELECT * FROM t ORDER BY id", true),
            ("SELECT COUNT(*) FROM t WHERE id = 10", true),
            ("SHOW CREATE TABLE t", true),
            ("TRUNCATE TABLE t", false),
            ("SELECT COUNT(*) FROM t", true),
            ("DROP TABLE t", false),
            ("SELECT * FROM t ORDER BY id", true),
            ("TRUNCATE TABLE tt", false),
            ("SELECT COUNT(*) FROM tt", true),
            ("DROP TEMPORARY TABLE tt", false),
            ("SELECT * FROM tt", true),
            ("DROP TEMPORARY TABLE tt", false),
            ("DROP TEMPORARY TABLE IF EXISTS tt", false),
            ("CREATE TEMPORARY TABLE tt2 LIKE s", false),
            ("INSERT INTO tt2 VALUES (9, 'nine')", false),
            ("SELECT * FROM tt2", true),
            ("DROP TABLE tt2", false),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_and_subqueries_with_sharded_tables_answer_as_mariadb_does() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("tmpj", "tmpjref").await?;
    let tables = [("s", "id INT PRIMARY KEY, v VARCHAR(10), g INT", ALL_NODES)];
    let rows = [
        "INSERT INTO s VALUES (1,'s1',1),(2,'s2',2),(3,'s3',1),(4,'s4',2),(5,'s5',1),(6,'s6',3)",
    ];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("CREATE TEMPORARY TABLE tt (id INT PRIMARY KEY, w INT)", false),
            ("INSERT INTO tt VALUES (1, 10), (4, 40), (6, 60), (9, 90)", false),
            (
                "SELECT s.id, s.v, tt.w FROM s JOIN tt ON s.id = tt.id ORDER BY s.id",
                true,
            ),
            (
                "SELECT tt.id, s.v FROM tt LEFT JOIN s ON s.id = tt.id ORDER BY tt.id",
                true,
            ),
            (
                "SELECT s.id, tt.w FROM s LEFT JOIN tt ON s.id = tt.id ORDER BY s.id DESC",
                true,
            ),
            (
                "SELECT s.g, COUNT(*), SUM(tt.w), MAX(s.v) FROM s JOIN tt ON s.id = tt.id GROUP BY s.g ORDER BY s.g",
                true,
            ),
            (
                "SELECT COUNT(*), SUM(tt.w), COUNT(tt.id) FROM s LEFT JOIN tt ON s.id = tt.id",
                true,
            ),
            ("SELECT id, v FROM s WHERE id IN (SELECT id FROM tt) ORDER BY id", true),
            ("SELECT id FROM s WHERE id NOT IN (SELECT id FROM tt) ORDER BY id", true),
            (
                "SELECT id FROM tt WHERE EXISTS (SELECT 1 FROM s WHERE s.id = tt.id AND s.g = 2) ORDER BY id",
                true,
            ),
            (
                "SELECT id, w FROM tt WHERE id IN (SELECT id FROM s WHERE v > 's2') ORDER BY id",
                true,
            ),
            // The copies are gone: s answers from every node again.
            ("SELECT COUNT(*) FROM s", true),
            ("SELECT * FROM s ORDER BY id", true),
            // A failure after the copies were made leaves the session's tables alone.
            ("SELECT (SELECT id FROM s) FROM tt", true),
            ("SELECT * FROM tt ORDER BY id", true),
            ("SELECT COUNT(*) FROM s", true),
            // Inside a transaction the copies see its writes.
            ("START TRANSACTION", false),
            ("INSERT INTO s VALUES (9, 's9', 3)", false),
            (
                "SELECT s.id, s.v, tt.w FROM s JOIN tt ON s.id = tt.id ORDER BY s.id",
                true,
            ),
            ("ROLLBACK", false),
            (
                "SELECT s.id, s.v, tt.w FROM s JOIN tt ON s.id = tt.id ORDER BY s.id",
                true,
            ),
            ("SELECT COUNT(*) FROM s", true),
            // CREATE TEMPORARY TABLE ... SELECT from a sharded table reads every node.
            ("CREATE TEMPORARY TABLE tc AS SELECT id, v FROM s WHERE id > 2", false),
            ("SELECT * FROM tc ORDER BY id", true),
            ("SHOW CREATE TABLE tc", true),
            (
                "CREATE TEMPORARY TABLE tg AS SELECT s.g, SUM(tt.w) AS total FROM s JOIN tt ON s.id = tt.id GROUP BY s.g",
                false,
            ),
            ("SELECT * FROM tg ORDER BY g", true),
            ("SELECT tc.id, tg.total FROM tc JOIN s ON s.id = tc.id JOIN tg ON tg.g = s.g ORDER BY tc.id", true),
            // UPDATE of a temporary table from a sharded table.
            (
                "UPDATE tt JOIN s ON s.id = tt.id SET tt.w = tt.w + s.g",
                false,
            ),
            ("SELECT * FROM tt ORDER BY id", true),
            (
                "UPDATE tt SET w = (SELECT COUNT(*) FROM s WHERE s.id <= tt.id)",
                false,
            ),
            ("SELECT * FROM tt ORDER BY id", true),
            ("DELETE FROM tt WHERE id IN (SELECT id FROM s WHERE g = 2)", false),
            ("SELECT * FROM tt ORDER BY id", true),
            ("SELECT COUNT(*) FROM s", true),
            // A read of permanent tables only that needs copies (a window function over
            // a sharded table) runs on a scratch connection, written into tt.
            (
                "INSERT INTO tt SELECT id + 200, ROW_NUMBER() OVER (ORDER BY id) FROM s",
                false,
            ),
            ("SELECT * FROM tt ORDER BY id", true),
            // The session's character set is back after the copies (made in utf8mb4).
            ("SET NAMES latin1", false),
            (
                "SELECT s.id, tt.w FROM s JOIN tt ON s.id = tt.id ORDER BY s.id",
                true,
            ),
            ("SELECT id, HEX(CONVERT('é' USING utf8mb4)) FROM tt ORDER BY id", true),
            ("SET NAMES utf8mb4", false),
            ("DROP TEMPORARY TABLE tt, tc, tg", false),
        ],
    )
    .await?;
    // A temporary table named after a table it copies from other nodes is refused:
    // the copy would stand in its way.
    let sql = "CREATE TEMPORARY TABLE s AS SELECT * FROM s";
    let got = run(&mut strata, sql).await?;
    assert_eq!(
        got.error_code(),
        Some(ER_NOT_SUPPORTED_YET),
        "{sql}: {}",
        got.describe(0)
    );
    same_answers(
        &mut reference,
        &mut strata,
        &[("SELECT * FROM s ORDER BY id", true)],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_see_their_own_and_a_reconnect_forgets_them() -> TestResult {
    let (node, db, mut first, mut reference) = node_and_reference("tmps", "tmpsref").await?;
    let tables = [("t", "id INT PRIMARY KEY, v VARCHAR(10)", ALL_NODES)];
    let rows = ["INSERT INTO t VALUES (1,'perm'),(2,'perm'),(3,'perm'),(4,'perm')"];
    create_on_both(&mut first, &mut reference, &tables, &rows).await?;
    let mut second = node.connect(Some(&db)).await?;
    for (conn, v) in [(&mut first, "first"), (&mut second, "second")] {
        conn.query_drop("CREATE TEMPORARY TABLE t (id INT, v VARCHAR(10))")
            .await?;
        conn.query_drop(format!("INSERT INTO t VALUES (1, '{v}'), (2, '{v}')"))
            .await?;
    }
    for (conn, v) in [(&mut first, "first"), (&mut second, "second")] {
        let rows: Vec<(i32, String)> = conn.query("SELECT id, v FROM t ORDER BY id").await?;
        assert_eq!(rows, vec![(1, v.to_string()), (2, v.to_string())]);
    }
    // The session's pool keeps serving other sessions while the temporary table lives.
    let mut third = node.connect(Some(&db)).await?;
    let perm: Vec<(i32, String)> = third.query("SELECT id, v FROM t ORDER BY id").await?;
    assert_eq!(perm.len(), 4);
    // COM_RESET_CONNECTION forgets them: the permanent table answers again.
    second.reset().await?;
    second.query_drop(format!("USE {db}")).await?;
    let after: Vec<(i32, String)> = second.query("SELECT id, v FROM t ORDER BY id").await?;
    assert_eq!(after.len(), 4, "{after:?}");
    // A new connection has none.
    drop(third);
    let mut fresh = node.connect(Some(&db)).await?;
    let fresh_rows: Vec<(i32, String)> = fresh.query("SELECT id, v FROM t ORDER BY id").await?;
    assert_eq!(fresh_rows.len(), 4);
    let gone = run(&mut fresh, "DROP TEMPORARY TABLE t").await?;
    assert_eq!(gone.error_code(), Some(1051), "{}", gone.describe(0));
    // The first session still has its own.
    let rows: Vec<(i32, String)> = first.query("SELECT id, v FROM t ORDER BY id").await?;
    assert_eq!(rows.len(), 2);
    first.query_drop("DROP TEMPORARY TABLE t").await?;
    drop(second);
    drop(fresh);
    drop_and_shut_down(node, &mut first, &db).await
}
