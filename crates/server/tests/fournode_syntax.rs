//! MariaDB syntax Strata's own parser (sqlparser) did not read in a database over four
//! data nodes, answered as one plain MariaDB answers it: `CAST(x AS DECIMAL(5.2))`,
//! `CAST(x AS SIGNED INT)`, an alias or column name like `1Eq` (digits, then an `e`), an
//! `ESCAPE` with a character set introducer, a column's `BINARY` attribute and `CHARSET
//! cs`, ALTER TABLE's `ADD [COLUMN] (list)` and `ALTER INDEX i [NOT] IGNORED`, and an
//! EXPLAIN naming a table alias before it is defined (1054, as MariaDB says).

mod diffkit;

use diffkit::{differences, drop_and_shut_down, node_and_reference, run, BoxError, Outcome};
use mysql_async::prelude::*;
use mysql_async::Conn;

type TestResult = Result<(), BoxError>;

/// Runs each statement on both sides, failing when either side fails.
async fn both(strata: &mut Conn, reference: &mut Conn, statements: &[&str]) -> TestResult {
    for sql in statements {
        reference
            .query_drop(*sql)
            .await
            .map_err(|e| format!("MariaDB: {sql}: {e}"))?;
        strata
            .query_drop(*sql)
            .await
            .map_err(|e| format!("Strata: {sql}: {e}"))?;
    }
    Ok(())
}

/// Fails naming every statement whose answer differs between the two sides (each has a
/// total order).
async fn same_answers(reference: &mut Conn, strata: &mut Conn, statements: &[&str]) -> TestResult {
    let ordered: Vec<(&str, bool)> = statements.iter().map(|s| (*s, true)).collect();
    let failures = differences(reference, strata, &ordered).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// Asserts that each table's SHOW CREATE TABLE is the same on both sides, Strata's
/// distribution comment aside.
async fn same_definitions(reference: &mut Conn, strata: &mut Conn, tables: &[&str]) -> TestResult {
    for table in tables {
        let sql = format!("SHOW CREATE TABLE {table}");
        let expected: Option<(String, String)> = reference.query_first(&sql).await?;
        let got: Option<(String, String)> = strata.query_first(&sql).await?;
        let got = got.map(|(name, text)| {
            let plain = match text.find("\n/*!999999 SHARD BY") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            (name, plain)
        });
        assert_eq!(got, expected, "{sql}");
    }
    Ok(())
}

/// Asserts that `sql` fails with `code` on both sides.
async fn same_error(reference: &mut Conn, strata: &mut Conn, sql: &str, code: u16) -> TestResult {
    for (side, conn) in [("MariaDB", reference), ("Strata", strata)] {
        match run(conn, sql).await? {
            Outcome::Error { code: got, message } => {
                assert_eq!(got, code, "{side}: {sql}: {message}")
            }
            other => panic!("{side}: {sql} did not fail: {}", other.describe(5)),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expressions_sqlparser_misread_are_read_as_mariadb_reads_them() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsx", "fsxref").await?;
    both(
        &mut strata,
        &mut reference,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, d DOUBLE, s VARCHAR(10), 1Eq INT)",
            "INSERT INTO t VALUES (1, 1.5, 'a%b', 7), (2, -2.5, 'a|%', 8), (3, 1e300, 'x', 9), (4, 0.4, '_', 10)",
        ],
    )
    .await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            "SELECT cast(convert(0x0030 using ucs2) as decimal(5.2)), cast(concat(convert(0x0030 using ucs2)) as decimal(5.2))",
            "SELECT id, CAST(d AS DECIMAL(5.2)), CONVERT(d, DECIMAL(4.3)) FROM t ORDER BY id",
            "SELECT cast(1.0e+300 as signed int), CAST(-1 AS UNSIGNED INT), CONVERT('7', SIGNED INTEGER)",
            "SELECT id, CAST(d AS SIGNED INT) AS cast_val, CAST(d AS UNSIGNED INT) FROM t ORDER BY id",
            "SELECT TIME('17:00:00') = TIME('17:00:00') AS 1Eq, 2 AS 1e, 3 AS 1E_x",
            "SELECT id AS 1Eq FROM t ORDER BY 1Eq",
            "SELECT 1Eq, t.1Eq + 1 FROM t ORDER BY 1Eq DESC",
            "SELECT _cp866'' LIKE _cp866'' ESCAPE _cp866 0xFF",
            "SELECT id, s LIKE 'a|%' ESCAPE _latin1 '|', s LIKE 'a!%' ESCAPE _utf8mb4 0x21 FROM t ORDER BY id",
            "SELECT id FROM t WHERE s LIKE '%|%' ESCAPE _latin1 X'7C' ORDER BY id",
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_binary_and_charset_attributes_keep_their_collation() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsb", "fsbref").await?;
    both(
        &mut strata,
        &mut reference,
        &[
            "CREATE TABLE e (c enum('a', 'A') BINARY)",
            "INSERT INTO e VALUES ('a'), ('A')",
            "CREATE TABLE k (name_id INT, name char(255) binary, INDEX name_idx (name(5)), primary key (name_id))",
            "INSERT INTO k VALUES (1, 'abc'), (2, 'ABC'), (3, 'Abc'), (4, 'b')",
            "CREATE TABLE c (id INT PRIMARY KEY, t VARCHAR(32) CHARSET latin1, u VARCHAR(5) CHARSET latin1 BINARY)",
            "INSERT INTO c VALUES (1, 'x', 'a'), (2, 'X', 'A')",
            // The sharding key itself carries the attribute: its collation is binary.
            "CREATE TABLE kb (name CHAR(10) BINARY PRIMARY KEY, v INT)",
            "INSERT INTO kb VALUES ('a', 1), ('A', 2), ('b', 3), ('B', 4)",
        ],
    )
    .await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            "SELECT c, COUNT(*) FROM e GROUP BY c ORDER BY c",
            "SELECT c FROM e WHERE c = 'A'",
            "SELECT name_id FROM k WHERE name = 'ABC'",
            "SELECT name FROM k ORDER BY name",
            "SELECT name, COUNT(*) FROM k GROUP BY name ORDER BY name",
            "SELECT id FROM c WHERE t = 'x' ORDER BY id",
            "SELECT id FROM c WHERE u = 'a' ORDER BY id",
            "SELECT v FROM kb WHERE name = 'A'",
            "SELECT v FROM kb WHERE name IN ('a', 'B') ORDER BY v",
            "SELECT name, v FROM kb ORDER BY name, v",
        ],
    )
    .await?;
    same_definitions(&mut reference, &mut strata, &["e", "k", "c", "kb"]).await?;
    // A duplicate under the binary collation only: both refuse it alike.
    same_error(
        &mut reference,
        &mut strata,
        "INSERT INTO kb VALUES ('A', 9)",
        1062,
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_table_column_lists_and_ignored_indexes_run_on_every_node() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsa", "fsaref").await?;
    both(
        &mut strata,
        &mut reference,
        &[
            "CREATE TABLE t1 (a INT PRIMARY KEY, b INT, KEY a1 (b))",
            "INSERT INTO t1 VALUES (1, 1), (2, 2), (3, 3)",
            "ALTER TABLE t1 ADD COLUMN (c INT)",
            "ALTER TABLE t1 ADD (d INT DEFAULT 4, e VARCHAR(3) DEFAULT 'x', INDEX (d))",
            "ALTER TABLE t1 ADD COLUMN IF NOT EXISTS (c INT, f INT)",
            "ALTER TABLE t1 ALTER INDEX a1 IGNORED",
            "ALTER TABLE t1 ALTER INDEX a1 NOT IGNORED, ALTER INDEX d IGNORED",
        ],
    )
    .await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            "SELECT * FROM t1 ORDER BY a",
            "SELECT a FROM t1 FORCE INDEX (a1) WHERE b > 1 ORDER BY a",
        ],
    )
    .await?;
    same_definitions(&mut reference, &mut strata, &["t1"]).await?;
    // A unique key in the list without the sharding column: refused as a plain ADD is.
    match run(&mut strata, "ALTER TABLE t1 ADD (g INT, UNIQUE KEY (g))").await? {
        Outcome::Error { code, message } => assert_eq!(code, 1503, "{message}"),
        other => panic!(
            "a unique key without the sharding column: {}",
            other.describe(5)
        ),
    }
    match run(&mut strata, "ALTER TABLE t1 ADD COLUMN (h INT UNIQUE)").await? {
        Outcome::Error { code, message } => assert_eq!(code, 1503, "{message}"),
        other => panic!(
            "a unique column without the sharding column: {}",
            other.describe(5)
        ),
    }
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_with_an_alias_used_before_its_table_is_an_unknown_column() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fse", "fseref").await?;
    both(
        &mut strata,
        &mut reference,
        &[
            "CREATE TABLE t1 (a INT PRIMARY KEY)",
            "CREATE TABLE t2 (a INT PRIMARY KEY)",
        ],
    )
    .await?;
    for sql in [
        "explain select t1.*,t2.*,t3.a from t1 left join t2 on (t3.a=t2.a) left join t1 as t3 on (t1.a=t3.a)",
        "select t1.*,t2.*,t3.a from t1 left join t2 on (t3.a=t2.a) left join t1 as t3 on (t1.a=t3.a)",
    ] {
        same_error(&mut reference, &mut strata, sql, 1054).await?;
    }
    drop_and_shut_down(node, &mut strata, &db).await
}
