//! Different answers and errors MariaDB's own `main/` test files found over 4 data
//! nodes (second pass), each reduced to the statements that showed it and run on
//! Strata and on one plain MariaDB: HAVING naming a column MariaDB does not resolve
//! there (having), a statement over copies of its tables under a utf16
//! `collation_connection` (ctype_utf16), `sql_auto_is_null` (odbc) and `KILL
//! CONNECTION_ID()` (aborted_clients), `FROM DUAL` in a subquery (type_year, having),
//! CHECK TABLE of a view (check) and INSERT IGNORE of a truncated DATE key (type_date).

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, run, BoxError,
    ER_NOT_SUPPORTED_YET,
};

type TestResult = Result<(), BoxError>;

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn having_names_only_columns_mariadb_resolves_there() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fah", "fahref").await?;
    let tables = [("th", "id INT, col1 INT, col2 INT", ALL_NODES)];
    let rows = ["INSERT INTO th VALUES (1, 10, 1), (2, 20, 2), (3, 10, 1), (4, 30, 2)"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            // Neither selected nor grouped: 1054 (the nodes would have accepted it).
            (
                "SELECT COUNT(*) FROM th GROUP BY col2 HAVING col1 = 10",
                true,
            ),
            (
                "SELECT COUNT(*) FROM th GROUP BY col2 HAVING th.col1 = 10",
                true,
            ),
            (
                "SELECT col1 + 1 FROM th GROUP BY col2 HAVING col1 > 10",
                true,
            ),
            (
                "SELECT COUNT(*) FROM th GROUP BY ABS(col2) HAVING ABS(col2) = 1",
                true,
            ),
            // Selected, grouped, aliased or inside an aggregate: answered.
            (
                "SELECT col2, COUNT(*) FROM th GROUP BY col2 HAVING col2 = 1",
                true,
            ),
            (
                "SELECT COUNT(*) FROM th GROUP BY col2 HAVING col2 = 2",
                true,
            ),
            (
                "SELECT col2, MAX(col1) m FROM th GROUP BY col2 HAVING m > 10",
                true,
            ),
            (
                "SELECT col2, COUNT(*) FROM th GROUP BY col2 HAVING MAX(col1) = 30",
                true,
            ),
            (
                "SELECT col1 FROM th GROUP BY col1 HAVING col1 BETWEEN 15 AND 40",
                true,
            ),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_tables_are_made_under_a_utf16_collation_connection() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fau", "fauref").await?;
    let tables = [("tu", "id INT, d TIMESTAMP NULL", ALL_NODES)];
    let rows = ["INSERT INTO tu VALUES (1, '2001-01-01 10:00:00'), (2, '2002-02-02 20:00:00')"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("SET time_zone = '+03:00'", false),
            ("SET NAMES latin1", false),
            ("SET collation_connection = 'utf16_general_ci'", false),
            // WITH ROLLUP runs on one data node over copies of the table: their
            // `SET STATEMENT time_zone=...` was read as utf16 (1298).
            (
                "SELECT COUNT(*) FROM tu GROUP BY MID(CURRENT_USER, 0) WITH ROLLUP",
                true,
            ),
            (
                "SELECT id, MAX(d), COUNT(*) FROM tu GROUP BY id WITH ROLLUP",
                true,
            ),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

/// Under `sql_auto_is_null=1` MariaDB answers `WHERE id IS NULL` with the row the last
/// INSERT generated; over several nodes no node knows it: refused, not "no rows".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_null_under_sql_auto_is_null_is_refused_not_answered_empty() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("faa", "faaref").await?;
    let tables = [("ta", "id INT AUTO_INCREMENT PRIMARY KEY, b INT", ALL_NODES)];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("SET sql_auto_is_null = 1", false),
            ("INSERT INTO ta (b) VALUES (1)", false),
            ("SELECT id, b FROM ta WHERE b IS NOT NULL", true),
        ],
    )
    .await?;
    for sql in [
        "SELECT id, b FROM ta WHERE id IS NULL",
        "SELECT id FROM ta WHERE ISNULL(id)",
    ] {
        let refused = run(&mut strata, sql).await?;
        assert_eq!(
            refused.error_code(),
            Some(ER_NOT_SUPPORTED_YET),
            "{sql}: {refused:?}"
        );
    }
    // Off again (the default), IS NULL is an ordinary test.
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("SET sql_auto_is_null = DEFAULT", false),
            ("INSERT INTO ta (b) VALUES (2)", false),
            ("SELECT id, b FROM ta WHERE id IS NULL", true),
            ("SELECT b FROM ta WHERE b IS NOT NULL ORDER BY b", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_connection_id_kills_the_own_connection() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fak", "fakref").await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            // The KILL QUERY statement interrupts itself (1317); the connection stays.
            ("KILL QUERY CONNECTION_ID()", false),
            ("SELECT 1", true),
            ("KILL 1 2", false),
            // An expression: its value is the id (NULL: 0, unknown).
            ("KILL @id", false),
            ("KILL QUERY 999990 + 9", false),
        ],
    )
    .await?;
    let mut victim = node.connect(Some(&db)).await?;
    let killed = run(&mut victim, "KILL CONNECTION_ID()").await?;
    let expected = run(&mut reference, "KILL CONNECTION_ID()").await?;
    assert_eq!(expected.error_code(), Some(1927), "{expected:?}");
    assert_eq!(killed.error_code(), expected.error_code(), "{killed:?}");
    assert!(victim.query_drop("SELECT 1").await.is_err());
    drop_and_shut_down(node, &mut strata, &db).await
}

/// An integer no SQL mode reads as a date is stored as 0000-00-00 by INSERT IGNORE
/// (type_date: `9912101` was 1292 from Strata); `1010101` is one too (it was placed as
/// 0101-01-01, where a lookup of the stored zero date did not look), `101` is 2000-01-01.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_ignore_of_an_integer_into_a_date_sharding_column_places_the_stored_date(
) -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fad", "fadref").await?;
    let tables = [
        (
            "td",
            "n INT, d DATE",
            "SHARD BY functiontype 'auto_crc32' USING COLUMN 'd' ON DATANODE '1-4'",
        ),
        (
            "tdt",
            "n INT, d DATETIME",
            "SHARD BY functiontype 'auto_crc32' USING COLUMN 'd' ON DATANODE '1-4'",
        ),
    ];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            (
                "INSERT IGNORE INTO td VALUES (1, 9912101), (2, 101), (3, 1010101), \
                 (4, 20240229), (5, 0), (6, 691232), (7, 991231), (8, 100)",
                false,
            ),
            ("SELECT n, d FROM td ORDER BY n", true),
            ("SELECT n FROM td WHERE d = '0000-00-00' ORDER BY n", true),
            ("SELECT n FROM td WHERE d = '2000-01-01' ORDER BY n", true),
            ("SELECT n FROM td WHERE d = 101 ORDER BY n", true),
            ("SELECT n FROM td WHERE d = 9912101 ORDER BY n", true),
            ("SELECT n FROM td WHERE d = 0 ORDER BY n", true),
            // Strict mode: the data node's own error.
            ("INSERT INTO td VALUES (9, 9912101)", false),
            (
                "INSERT IGNORE INTO tdt VALUES (1, 123456789), (2, 20240102030405), (3, 1010101)",
                false,
            ),
            ("SELECT n, d FROM tdt ORDER BY n", true),
            (
                "SELECT n FROM tdt WHERE d = '0000-00-00 00:00:00' ORDER BY n",
                true,
            ),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

/// A statement over information_schema runs on one data node: a sharded table or a
/// Strata view in it is refused (it read the home node's rows only, or was 1146), and
/// so is a write (`CREATE TABLE ... AS SELECT ... FROM information_schema.TABLES` made
/// a table on the home node that the catalog did not know), main.information_schema2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_with_tables_over_several_nodes_is_refused() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fai", "fairef").await?;
    let tables = [("ti", "id INT, name VARCHAR(20)", ALL_NODES)];
    let rows = [
        "INSERT INTO ti VALUES (1, 'ti'), (2, 'ti'), (3, 'ti'), (4, 'ti'), (5, 'ti'), (6, 'ti')",
    ];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    strata
        .query_drop("CREATE VIEW vi AS SELECT * FROM ti")
        .await?;
    for sql in [
        "SELECT id FROM ti WHERE name IN (SELECT table_name FROM information_schema.TABLES \
         WHERE table_schema = DATABASE()) ORDER BY id",
        "SELECT vi.* FROM vi JOIN information_schema.TABLES WHERE DATA_LENGTH = -1",
        "CREATE TABLE t4 AS SELECT table_name FROM information_schema.TABLES \
         WHERE table_schema = DATABASE()",
        "INSERT INTO ti SELECT 7, table_name FROM information_schema.TABLES \
         WHERE table_schema = DATABASE()",
    ] {
        let refused = run(&mut strata, sql).await?;
        assert_eq!(
            refused.error_code(),
            Some(ER_NOT_SUPPORTED_YET),
            "{sql}: {refused:?}"
        );
    }
    // Nothing was created or written on any node, and information_schema alone is read.
    let names: Vec<String> = strata
        .query(
            "SELECT table_name FROM information_schema.TABLES \
             WHERE table_schema = DATABASE() ORDER BY table_name",
        )
        .await?;
    assert_eq!(names, ["ti", "vi"]);
    let count: Vec<u32> = strata.query("SELECT COUNT(*) FROM ti").await?;
    assert_eq!(count, [6]);
    drop_and_shut_down(node, &mut strata, &db).await
}

/// `FROM DUAL` in a subquery is no table (type_year, having: 1146 "Table 'db.dual'
/// doesn't exist" from Strata); a quoted `` `dual` `` stays a table name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_inside_a_subquery_reads_no_table() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fdu", "fduref").await?;
    let tables = [("ty", "id INT, a YEAR", ALL_NODES)];
    let rows = ["INSERT INTO ty VALUES (1, 2000), (2, 2001), (3, 1999), (4, 2000)"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            (
                "SELECT id, a FROM ty WHERE a = (SELECT 2000 FROM dual WHERE 1) ORDER BY id",
                true,
            ),
            (
                "SELECT id, (SELECT 0 FROM DUAL WHERE ty.id = ty.id) AS amount FROM ty \
                 WHERE a = 2000 HAVING amount > 0 ORDER BY id",
                true,
            ),
            (
                "SELECT id FROM ty WHERE id IN (SELECT 1 FROM DUAL UNION SELECT 3 FROM Dual) \
                 ORDER BY id",
                true,
            ),
            ("SELECT (SELECT 2000 FROM dual) AS y", true),
            (
                "SELECT COUNT(*) FROM ty WHERE EXISTS (SELECT 1 FROM DUAL)",
                true,
            ),
        ],
    )
    .await?;
    // A quoted `dual` is an ordinary (here missing) table, as in MariaDB.
    let missing = run(
        &mut strata,
        "SELECT id FROM ty WHERE id IN (SELECT 1 FROM `dual`)",
    )
    .await?;
    assert_eq!(missing.error_code(), Some(1146), "{missing:?}");
    drop_and_shut_down(node, &mut strata, &db).await
}

/// What MariaDB answers but no data node can: CHECK TABLE of a view (views are the
/// compute node's; check: 1347 before) and INSERT IGNORE of a sharding-key value MariaDB
/// truncates to something Strata cannot read (type_date: 1292 before) are refused.
/// Without IGNORE the value is MariaDB's own 1292.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_no_data_node_can_answer_is_refused_not_misreported() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fdr", "fdrref").await?;
    let tables = [
        ("tc", "id INT, b INT", ALL_NODES),
        (
            "td",
            "id INT, f1 DATE, KEY (f1)",
            "SHARD BY functiontype 'auto_crc32' USING COLUMN 'f1' ON DATANODE '1-4'",
        ),
    ];
    let rows = ["INSERT INTO tc VALUES (1, 1), (2, 2)"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    for conn in [&mut strata, &mut reference] {
        conn.query_drop("CREATE VIEW vc AS SELECT * FROM tc")
            .await?;
    }
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("INSERT INTO td VALUES (1, '2010-10-10 15:foobar')", false),
            ("INSERT IGNORE INTO td VALUES (2, '2010-10-10')", false),
            ("SELECT id, f1 FROM td ORDER BY id", true),
        ],
    )
    .await?;
    // Tables alone are checked (the databases' names differ, so not compared).
    let checked: Vec<(String, String, String, String)> = strata.query("CHECK TABLE tc").await?;
    assert_eq!(checked.len(), 1, "{checked:?}");
    assert_eq!(checked[0].3, "OK", "{checked:?}");
    for sql in [
        "CHECK TABLE vc, tc",
        "CHECK TABLE tc, vc",
        "ANALYZE TABLE vc",
        "INSERT IGNORE INTO td VALUES (3, '2010-10-10 15:foobar')",
    ] {
        let refused = run(&mut strata, sql).await?;
        assert_eq!(
            refused.error_code(),
            Some(ER_NOT_SUPPORTED_YET),
            "{sql}: {refused:?}"
        );
    }
    let count: Vec<u32> = strata.query("SELECT COUNT(*) FROM td").await?;
    assert_eq!(count, [1]);
    drop_and_shut_down(node, &mut strata, &db).await
}
