//! Differential test of writes whose rows come from a read across data nodes:
//! `INSERT [IGNORE] ... SELECT` and `REPLACE ... SELECT` into tables sharded on another key than their source, global and vertical tables,
//! from scatters, joins, aggregates and the target itself. Each statement runs on
//! Strata over 4 data nodes and on one plain MariaDB: the affected rows, the info text
//! (`Records: N  Duplicates: D  Warnings: W`) or the error code, and then the target's
//! rows must be the same. A statement that fails part way leaves nothing behind, inside
//! a transaction or not.

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::Conn;

use diffkit::{
    create_on_both, drop_and_shut_down, node_and_reference, run_all, value_text, BoxError,
};

type TestResult = Result<(), BoxError>;

/// (table, columns and keys, Strata distribution)
const TABLES: &[(&str, &str, &str)] = &[
    (
        "ws",
        "id INT NOT NULL PRIMARY KEY, k INT NULL, name VARCHAR(20) NULL, amount DECIMAL(10,2) NULL, \
         d DATETIME NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "wt",
        "id INT NOT NULL PRIMARY KEY, k INT NULL, name VARCHAR(20) NULL, amount DECIMAL(10,2) NULL, \
         d DATETIME NULL",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "wk",
        "k INT NOT NULL, id INT NOT NULL, name VARCHAR(20) NULL, PRIMARY KEY (k, id)",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '1-3'",
    ),
    (
        "wg",
        "id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, n BIGINT NULL",
        "SHARD BY GLOBAL",
    ),
    (
        "wv",
        "k INT NOT NULL PRIMARY KEY, cnt BIGINT NULL, total DECIMAL(12,2) NULL, stamp BIGINT NULL",
        "SHARD BY VERTICAL ON DATANODE '2'",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO ws VALUES (1, 10, 'ann', 5.50, '2024-01-02 03:04:05'), (2, 20, 'Bob', NULL, NULL), \
     (3, 10, 'cy', 7.25, '2023-12-31 23:59:59'), (4, NULL, 'émile', 0.00, '2024-02-29 00:00:00'), \
     (5, 30, NULL, 100.10, NULL), (6, 20, 'zoë', 2.50, '2024-03-01 12:00:00'), \
     (7, 10, 'o''neil', 9.99, NULL), (8, 40, 'eight', 1.00, '2024-01-01 00:00:00')",
    "INSERT INTO wg VALUES (1, 'one', 1), (9, 'nine', 9)",
];

/// Statements run in this order on both sides, each followed by a comparison of the
/// tables named with it (`SELECT *` in key order).
const STATEMENTS: &[(&str, &[&str])] = &[
    // A scatter written by another sharding rule.
    ("INSERT INTO wt SELECT * FROM ws WHERE id <= 4", &["wt"]),
    ("INSERT INTO wt (id, k, name) SELECT id + 100, k, UPPER(name) FROM ws ORDER BY id", &["wt"]),
    // Duplicates: IGNORE, REPLACE.
    ("INSERT IGNORE INTO wt SELECT * FROM ws", &["wt"]),
    ("REPLACE INTO wt (id, k, name) SELECT id, k, 'replaced' FROM ws WHERE k = 10", &["wt"]),
    ("REPLACE INTO wt SELECT * FROM ws WHERE id > 6", &["wt"]),
    // A plain INSERT that meets a duplicate fails whole.
    ("INSERT INTO wt SELECT id + 1000, k, name, amount, d FROM ws UNION ALL SELECT 1, 1, 'dup', NULL, NULL", &["wt"]),
    // Into a table sharded on a column the source does not shard by; a composite key.
    ("INSERT INTO wk SELECT COALESCE(k, 0), id, name FROM ws", &["wk"]),
    // From a join across nodes, into a global table.
    ("INSERT INTO wg (id, name, n) SELECT s.id + 10, CONCAT(s.name, '/', t.name), s.k FROM ws s JOIN wk t ON t.id = s.id WHERE s.id < 6", &["wg"]),
    // Aggregates into a vertical table; a DATETIME into an integer column converts as a date.
    ("INSERT INTO wv SELECT k, COUNT(*), SUM(amount), MAX(d) FROM ws WHERE k IS NOT NULL GROUP BY k", &["wv"]),
    // The target read by its own SELECT: the source is read whole first.
    ("INSERT INTO wt (id, k, name) SELECT id + 500, k, name FROM wt WHERE id < 100", &["wt"]),
    ("INSERT INTO wg SELECT id + 100, name, n FROM wg", &["wg"]),
    // A source without rows.
    ("INSERT INTO wt SELECT * FROM ws WHERE id > 1000", &["wt"]),
    // Subqueries in the source run on one node over copies.
    ("INSERT INTO wv (k, cnt) SELECT id + 1000, (SELECT COUNT(*) FROM ws i WHERE i.k = o.k) FROM ws o", &["wv"]),
];

/// A statement's outcome as text: affected rows and info, or the error code.
async fn write_outcome(conn: &mut Conn, sql: &str) -> Result<String, BoxError> {
    Ok(match conn.query_drop(sql).await {
        Ok(()) => format!("OK {} [{}]", conn.affected_rows(), conn.info()),
        Err(mysql_async::Error::Server(e)) => format!("ERROR {}", e.code),
        Err(e) => return Err(e.into()),
    })
}

/// The rows of `table` in key order, as text.
async fn table_rows(conn: &mut Conn, table: &str) -> Result<Vec<Vec<String>>, BoxError> {
    let rows: Vec<mysql_async::Row> = conn
        .query(format!("SELECT * FROM {table} ORDER BY 1, 2"))
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| r.unwrap().iter().map(value_text).collect())
        .collect())
}

/// Runs each statement on both sides and describes every difference.
async fn write_differences(
    reference: &mut Conn,
    strata: &mut Conn,
    statements: &[(&str, &[&str])],
) -> Result<Vec<String>, BoxError> {
    let mut failures = Vec::new();
    for (sql, tables) in statements {
        let expected = write_outcome(reference, sql).await?;
        let got = write_outcome(strata, sql).await?;
        if expected != got {
            failures.push(format!("{sql}\n  MariaDB: {expected}\n  Strata:  {got}"));
        }
        for table in *tables {
            let (a, b) = (
                table_rows(reference, table).await?,
                table_rows(strata, table).await?,
            );
            if a != b {
                failures.push(format!(
                    "{sql}\n  table {table} differs\n  MariaDB: {a:?}\n  Strata:  {b:?}"
                ));
            }
        }
    }
    Ok(failures)
}

#[tokio::test]
async fn insert_select_across_data_nodes_answers_like_one_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wdiff", "wref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let failures = write_differences(&mut reference, &mut strata, STATEMENTS).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // EXPLAIN shows the read under the write.
    let rows: Vec<(u64, String, Option<String>)> = strata
        .query("EXPLAIN INSERT INTO wt SELECT * FROM ws")
        .await?;
    let merge = rows.first().and_then(|r| r.2.clone()).unwrap_or_default();
    assert!(
        merge.contains("Scatter(dnid 1,2,3,4)") && merge.contains("InsertSelect("),
        "{merge}"
    );
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn insert_select_is_atomic_and_part_of_the_transaction() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wtxn", "wtref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let statements: &[(&str, &[&str])] = &[
        ("BEGIN", &[]),
        ("INSERT INTO wt SELECT * FROM ws WHERE id < 3", &["wt"]),
        // Fails on its last rows (id 1 again): only this statement is undone.
        (
            "INSERT INTO wt SELECT * FROM ws WHERE id >= 3 UNION ALL SELECT * FROM ws WHERE id = 1",
            &["wt"],
        ),
        (
            "INSERT INTO wt SELECT id + 50, k, name, amount, d FROM ws",
            &["wt"],
        ),
        ("ROLLBACK", &["wt"]),
        ("BEGIN", &[]),
        ("INSERT INTO wg SELECT id + 20, name, k FROM ws", &["wg"]),
        ("COMMIT", &["wg"]),
    ];
    let failures = write_differences(&mut reference, &mut strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn insert_select_allocates_global_auto_increment_values() -> TestResult {
    let (node, db, mut strata, _reference) = node_and_reference("wauto", "waref").await?;
    strata
        .query_drop(
            "CREATE TABLE wa (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10)) \
             SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
        )
        .await?;
    strata
        .query_drop("CREATE TABLE wn (name VARCHAR(10)) SHARD BY VERTICAL ON DATANODE '3'")
        .await?;
    strata
        .query_drop("INSERT INTO wn VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
        .await?;
    strata
        .query_drop("INSERT INTO wa (name) SELECT name FROM wn ORDER BY name")
        .await?;
    assert_eq!(strata.affected_rows(), 5);
    let first = strata.last_insert_id().ok_or("no insert id")?;
    let ids: Vec<(u64, String)> = strata.query("SELECT id, name FROM wa ORDER BY id").await?;
    let expected: Vec<(u64, String)> = ["a", "b", "c", "d", "e"]
        .iter()
        .enumerate()
        .map(|(i, n)| (first + i as u64, n.to_string()))
        .collect();
    assert_eq!(ids, expected);
    let last: Vec<u64> = strata.query("SELECT LAST_INSERT_ID()").await?;
    assert_eq!(last, vec![first]);
    // The rows went to the nodes their ids route to (auto_mod over 4 nodes).
    let on_one: Vec<u64> = strata
        .query("SELECT COUNT(*) FROM wa WHERE DNID = 1")
        .await?;
    let expected_on_one = (first..first + 5).filter(|id| id % 4 == 0).count() as u64;
    assert_eq!(on_one, vec![expected_on_one]);
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn what_a_values_row_cannot_carry_is_refused() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wrefuse", "wrref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    for sql in [
        // The SELECT's column (ambiguous in MariaDB: 1052) is not in the VALUES form.
        "INSERT INTO wt (id, name) SELECT id, name FROM ws ON DUPLICATE KEY UPDATE name = k",
        "INSERT IGNORE INTO wt (id, name) SELECT id, name FROM ws ON DUPLICATE KEY UPDATE name = 'x'",
        // Moving a row to another node.
        "INSERT INTO wt (id, k) SELECT id, k FROM ws ON DUPLICATE KEY UPDATE id = wt.id + 1",
        // A FLOAT's text is not its value.
        "INSERT INTO wg (id, n) SELECT id, CAST(id AS FLOAT) FROM ws",
    ] {
        let err = strata.query_drop(sql).await.err().ok_or(sql)?;
        match err {
            mysql_async::Error::Server(e) => assert_eq!(e.code, 1235, "{sql}: {e:?}"),
            other => return Err(format!("{sql}: {other}").into()),
        }
    }
    assert!(table_rows(&mut strata, "wt").await?.is_empty());
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn update_and_delete_with_an_in_subquery_across_nodes_answer_like_one_mariadb() -> TestResult
{
    let (node, db, mut strata, mut reference) = node_and_reference("wsub", "wsref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let setup: &[(&str, &[&str])] = &[
        ("INSERT INTO wt SELECT * FROM ws", &["wt"]),
        (
            "INSERT INTO wk SELECT COALESCE(k, 0), id, name FROM ws",
            &["wk"],
        ),
    ];
    let statements: &[(&str, &[&str])] = &[
        // The subquery on a table sharded by another key; the list prunes by wt's key.
        ("UPDATE wt SET name = CONCAT(name, '!') WHERE id IN (SELECT id FROM wk WHERE k = 10)", &["wt"]),
        ("UPDATE wt SET amount = amount + 1 WHERE k IN (SELECT k FROM wk WHERE id > 5) AND id < 8", &["wt"]),
        // NOT IN, with and without NULLs in the subquery; an empty subquery.
        ("UPDATE wt SET k = 99 WHERE id NOT IN (SELECT id FROM wk WHERE k > 15)", &["wt"]),
        ("UPDATE wt SET k = 98 WHERE k NOT IN (SELECT k FROM ws)", &["wt"]),
        ("UPDATE wt SET k = 97 WHERE id IN (SELECT id FROM wk WHERE k > 1000)", &["wt"]),
        ("DELETE FROM wt WHERE id NOT IN (SELECT id FROM wk WHERE k > 1000) AND id > 7", &["wt"]),
        // From a global table, a vertical one, a join and an aggregate.
        ("DELETE FROM wk WHERE id IN (SELECT id FROM wg)", &["wk"]),
        ("UPDATE wk SET name = 'v' WHERE k IN (SELECT k FROM wv WHERE cnt > 1)", &["wk"]),
        ("UPDATE wt SET name = 'j' WHERE id IN (SELECT s.id FROM ws s JOIN wk t ON t.id = s.id WHERE s.amount > 5)", &["wt"]),
        ("DELETE FROM wt WHERE k IN (SELECT k FROM ws GROUP BY k HAVING COUNT(*) > 1)", &["wt"]),
        // The written table read by its own subquery: its values before the write.
        ("DELETE FROM wk WHERE id IN (SELECT id + 1 FROM wk)", &["wk"]),
        // Strings compared under the column's collation.
        ("UPDATE wt SET amount = 0 WHERE name IN (SELECT UPPER(name) FROM wk)", &["wt"]),
    ];
    let mut failures = write_differences(&mut reference, &mut strata, setup).await?;
    reference
        .query_drop("INSERT INTO wv VALUES (10, 3, NULL, NULL), (20, 1, NULL, NULL)")
        .await?;
    strata
        .query_drop("INSERT INTO wv VALUES (10, 3, NULL, NULL), (20, 1, NULL, NULL)")
        .await?;
    failures.extend(write_differences(&mut reference, &mut strata, statements).await?);
    // A correlated subquery is refused.
    let err = strata
        .query_drop("DELETE FROM wt WHERE id IN (SELECT id FROM wk WHERE wk.k = wt.k)")
        .await
        .err()
        .ok_or("a correlated subquery ran")?;
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1235, "{e:?}"),
        other => return Err(other.into()),
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn update_and_delete_with_order_by_and_limit_across_nodes_answer_like_one_mariadb(
) -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wlim", "wlref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let statements: &[(&str, &[&str])] = &[
        ("INSERT INTO wt SELECT * FROM ws", &["wt"]),
        (
            "INSERT INTO wk SELECT COALESCE(k, 0), id, name FROM ws",
            &["wk"],
        ),
        // The first rows by the ORDER BY over every node, written by primary key.
        (
            "UPDATE wt SET name = 'top' ORDER BY id DESC LIMIT 3",
            &["wt"],
        ),
        (
            "UPDATE wt SET amount = 1 WHERE k = 10 ORDER BY amount DESC, id LIMIT 2",
            &["wt"],
        ),
        ("DELETE FROM wt ORDER BY name, id LIMIT 2", &["wt"]),
        (
            "DELETE FROM wt WHERE id > 1000 ORDER BY id LIMIT 5",
            &["wt"],
        ),
        ("UPDATE wt SET k = 5 ORDER BY id LIMIT 0", &["wt"]),
        // A composite primary key; LIMIT without ORDER BY past the rows there are.
        (
            "DELETE FROM wk WHERE name IS NOT NULL ORDER BY k DESC, id LIMIT 2",
            &["wk"],
        ),
        ("UPDATE wk SET name = 'x' LIMIT 100", &["wk"]),
        // Every copy of a global table.
        ("UPDATE wg SET name = 'g' ORDER BY id DESC LIMIT 1", &["wg"]),
    ];
    let mut failures = write_differences(&mut reference, &mut strata, statements).await?;
    // Without a primary key the rows cannot be named one by one: refused.
    strata
        .query_drop(
            "CREATE TABLE wnp (a INT, b INT) SHARD BY functiontype 'auto_mod' USING COLUMN 'a' ON DATANODE '1-4'",
        )
        .await?;
    match strata
        .query_drop("DELETE FROM wnp ORDER BY b LIMIT 1")
        .await
    {
        Err(mysql_async::Error::Server(e)) if e.code == 1235 => {}
        other => failures.push(format!("DELETE without a primary key: {other:?}")),
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn insert_select_past_the_memory_budget_fails_with_1114_and_writes_nothing() -> TestResult {
    let (node, db, mut c) = diffkit::node_with_tables("wbudget", TABLES, |config| {
        config.merge.memory_budget = 8192
    })
    .await?;
    let values: Vec<String> = (1..=400)
        .map(|i| format!("({i}, {i}, 'nineteen characters', 1.00, NULL)"))
        .collect();
    c.query_drop(format!("INSERT INTO ws VALUES {}", values.join(", ")))
        .await?;
    match c.query_drop("INSERT INTO wt SELECT * FROM ws").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1114, "{e:?}"),
        other => return Err(format!("past the budget: {other:?}").into()),
    }
    let count: Vec<u64> = c.query("SELECT COUNT(*) FROM wt").await?;
    assert_eq!(count, vec![0]);
    // A prepared INSERT ... SELECT binds its values into the SELECT.
    let stmt = "INSERT INTO wt (id, k, name) SELECT id, k, name FROM ws WHERE id BETWEEN ? AND ?";
    c.exec_drop(stmt, (10, 14)).await?;
    assert_eq!(c.affected_rows(), 5);
    assert_eq!(c.info(), "Records: 5  Duplicates: 0  Warnings: 0");
    let ids: Vec<i64> = c.query("SELECT id FROM wt ORDER BY id").await?;
    assert_eq!(ids, vec![10, 11, 12, 13, 14]);
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn create_table_select_of_a_table_on_one_node_reads_every_node_like_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wcts", "wcref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let rows = ["INSERT INTO wv VALUES (10, 3, 1.50, NULL), (20, 1, NULL, 7)"];
    run_all(&mut strata, &rows).await?;
    run_all(&mut reference, &rows).await?;
    // (Strata's statement, the reference's, the new table). c1 and c2 find every row
    // on the new table's node and run as sent; the others read rows on other nodes
    // and run on the new table's node over copies of what they read.
    let copies = [
        (
            "CREATE TABLE c1 SHARD BY VERTICAL ON DATANODE '2' SELECT * FROM wv WHERE cnt > 0",
            "CREATE TABLE c1 SELECT * FROM wv WHERE cnt > 0",
            "c1",
        ),
        (
            "CREATE TABLE c2 SHARD BY VERTICAL ON DATANODE '3' SELECT id, UPPER(name) AS name FROM wg",
            "CREATE TABLE c2 SELECT id, UPPER(name) AS name FROM wg",
            "c2",
        ),
        (
            "CREATE TABLE c3 SHARD BY VERTICAL ON DATANODE '1' SELECT id, name FROM ws",
            "CREATE TABLE c3 SELECT id, name FROM ws",
            "c3",
        ),
        (
            "CREATE TABLE c4 SHARD BY VERTICAL ON DATANODE '3' SELECT * FROM wv",
            "CREATE TABLE c4 SELECT * FROM wv",
            "c4",
        ),
        // No SHARD BY and no key: the new table is placed on one node.
        (
            "CREATE TABLE c6 SELECT ws.k, COUNT(*) AS n, SUM(wt.amount) AS total, MAX(ws.name) AS top \
             FROM ws JOIN wt ON wt.id = ws.id GROUP BY ws.k",
            "CREATE TABLE c6 SELECT ws.k, COUNT(*) AS n, SUM(wt.amount) AS total, MAX(ws.name) AS top \
             FROM ws JOIN wt ON wt.id = ws.id GROUP BY ws.k",
            "c6",
        ),
        // Columns of its own beside the SELECT's, and a key.
        (
            "CREATE TABLE c7 (id INT NOT NULL PRIMARY KEY, note VARCHAR(5) DEFAULT 'x') \
             SHARD BY VERTICAL ON DATANODE '4' SELECT id, name FROM ws WHERE id > 2",
            "CREATE TABLE c7 (id INT NOT NULL PRIMARY KEY, note VARCHAR(5) DEFAULT 'x') \
             SELECT id, name FROM ws WHERE id > 2",
            "c7",
        ),
        // A key without SHARD BY: still one node (spreading it is CREATE, then INSERT
        // ... SELECT).
        (
            "CREATE TABLE c10 (id INT NOT NULL PRIMARY KEY) SELECT id, name, amount FROM ws",
            "CREATE TABLE c10 (id INT NOT NULL PRIMARY KEY) SELECT id, name, amount FROM ws",
            "c10",
        ),
    ];
    let run = ["INSERT INTO wt SELECT * FROM ws WHERE id % 2 = 0"];
    run_all(&mut strata, &run).await?;
    run_all(&mut reference, &run).await?;
    for (sql, reference_sql, table) in copies {
        let expected = write_outcome(&mut reference, reference_sql).await?;
        let got = write_outcome(&mut strata, sql).await?;
        assert_eq!(expected, got, "{sql}");
        let columns = format!("SHOW COLUMNS FROM {table}");
        let (a, b): (Vec<mysql_async::Row>, Vec<mysql_async::Row>) = (
            reference.query(&columns).await?,
            strata.query(&columns).await?,
        );
        let text = |rows: Vec<mysql_async::Row>| -> Vec<Vec<String>> {
            rows.into_iter()
                .map(|r| r.unwrap().iter().map(value_text).collect())
                .collect()
        };
        assert_eq!(text(a), text(b), "columns of {table}");
        let (a, b) = (
            table_rows(&mut reference, table).await?,
            table_rows(&mut strata, table).await?,
        );
        assert_eq!(a, b, "{sql}");
    }
    // A duplicate key fails the statement on both sides, and no table is left.
    let failing = (
        "CREATE TABLE c9 (k INT PRIMARY KEY) SHARD BY VERTICAL ON DATANODE '1' SELECT k FROM ws WHERE k IS NOT NULL",
        "CREATE TABLE c9 (k INT PRIMARY KEY) SELECT k FROM ws WHERE k IS NOT NULL",
    );
    let expected = write_outcome(&mut reference, failing.1).await?;
    assert_eq!(expected, "ERROR 1062");
    assert_eq!(write_outcome(&mut strata, failing.0).await?, expected);
    // A new table on several nodes: its rows would have to be spread (create it, then
    // INSERT ... SELECT).
    for sql in [
        "CREATE TABLE c5 SHARD BY GLOBAL SELECT * FROM wg",
        "CREATE TABLE c8 (id INT NOT NULL PRIMARY KEY) SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4' SELECT id, name FROM ws",
    ] {
        match strata.query_drop(sql).await {
            Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{sql}: {e:?}"),
            other => return Err(format!("{sql}: {other:?}").into()),
        }
    }
    let left: Vec<String> = strata.query("SHOW TABLES LIKE 'c%'").await?;
    assert_eq!(left, vec!["c1", "c10", "c2", "c3", "c4", "c6", "c7"]);
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn user_variables_held_on_one_node_never_reach_a_write_over_several() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wuv", "wuref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let mut observer = mysql_async::Conn::new(node.opts(Some(&db))).await?;
    let before = table_rows(&mut observer, "ws").await?;
    // The other nodes' connections have no @l: CONCAT(name, NULL) would erase names
    // there (mariadb-test's sum_distinct did).
    strata.query_drop("SET @l = 1").await?;
    match strata
        .query_drop("UPDATE ws SET name = CONCAT(name, @l := @l + 1)")
        .await
    {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{e:?}"),
        other => return Err(format!("a write over several nodes ran: {other:?}").into()),
    }
    assert_eq!(table_rows(&mut observer, "ws").await?, before);
    // A statement that names no user variable runs over every node as before (a
    // restored dump's SET @saved_cs_client must not stop its CREATE TABLEs), and the
    // variable stays where it was set, not on connections the statement borrowed.
    strata
        .query_drop("UPDATE ws SET name = CONCAT(name, '!') WHERE id <= 4")
        .await?;
    reference
        .query_drop("UPDATE ws SET name = CONCAT(name, '!') WHERE id <= 4")
        .await?;
    assert_eq!(
        table_rows(&mut observer, "ws").await?,
        table_rows(&mut reference, "ws").await?
    );
    for _ in 0..3 {
        let l: Option<i64> = strata.query_first("SELECT @l").await?;
        assert_eq!(l, Some(1));
    }
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn insert_select_on_duplicate_key_update_across_nodes_answers_like_one_mariadb() -> TestResult
{
    let (node, db, mut strata, mut reference) = node_and_reference("wodku", "woref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let statements: &[(&str, &[&str])] = &[
        ("INSERT INTO wt SELECT * FROM ws WHERE id <= 5", &["wt"]),
        // New rows, rows changed and rows set to their current values, in one statement.
        (
            "INSERT INTO wt (id, k, name) SELECT id, k, name FROM ws \
             ON DUPLICATE KEY UPDATE name = VALUES(name), k = VALUES(k)",
            &["wt"],
        ),
        (
            "INSERT INTO wt (id, k, name) SELECT id, k + 1, name FROM ws WHERE id IN (1, 2, 6) \
             ON DUPLICATE KEY UPDATE k = VALUES(k)",
            &["wt"],
        ),
        // The target's own values, qualified; one row per node; a key read twice.
        (
            "INSERT INTO wt (id, amount) SELECT id, amount FROM ws WHERE id IN (1, 2, 3, 4) \
             ON DUPLICATE KEY UPDATE amount = COALESCE(wt.amount, 0) + 1",
            &["wt"],
        ),
        (
            "INSERT INTO wt (id, name) SELECT 7, 'first' FROM ws WHERE id = 1 \
             UNION ALL SELECT 7, 'second' FROM ws WHERE id = 2 \
             ON DUPLICATE KEY UPDATE name = CONCAT(wt.name, '+', VALUES(name))",
            &["wt"],
        ),
        // Nothing to write; a global table; a composite key.
        (
            "INSERT INTO wt (id) SELECT id FROM ws WHERE id > 100 ON DUPLICATE KEY UPDATE k = 0",
            &["wt"],
        ),
        (
            "INSERT INTO wg (id, name) SELECT id, name FROM ws WHERE id IN (1, 2, 9) \
             ON DUPLICATE KEY UPDATE name = VALUES(name)",
            &["wg"],
        ),
        (
            "INSERT INTO wk SELECT COALESCE(k, 0), id, name FROM ws",
            &["wk"],
        ),
        (
            "INSERT INTO wk (k, id, name) SELECT COALESCE(k, 0), id, UPPER(name) FROM ws \
             ON DUPLICATE KEY UPDATE name = VALUES(name)",
            &["wk"],
        ),
    ];
    let mut failures = write_differences(&mut reference, &mut strata, statements).await?;
    // With CLIENT_FOUND_ROWS MariaDB counts the VALUES form's duplicates otherwise
    // than INSERT ... SELECT's (rows touched, not rows changed): refused.
    let found = mysql_async::OptsBuilder::from_opts(strata.opts().clone())
        .client_found_rows(true)
        .db_name(Some(&db));
    let mut strata_found = Conn::new(found).await?;
    match strata_found.query_drop(statements[1].0).await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{e:?}"),
        other => failures.push(format!("with CLIENT_FOUND_ROWS: {other:?}")),
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

/// The tables of the multi-table tests hold rows the join statements can meet.
async fn multi_table_fixture(
    prefix: &str,
    reference_prefix: &str,
) -> Result<(strata_testkit::ComputeNode, String, Conn, Conn), BoxError> {
    let (node, db, mut strata, mut reference) =
        node_and_reference(prefix, reference_prefix).await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let setup = [
        "INSERT INTO wt SELECT * FROM ws",
        "INSERT INTO wk SELECT COALESCE(k, 0), id, name FROM ws",
        "INSERT INTO wv VALUES (10, 3, NULL, NULL), (20, 1, NULL, NULL), (30, 0, 1.00, NULL)",
        "INSERT INTO wstr VALUES ('ann', 1), ('Bob', 2), ('cy', 3), ('émile', 4), ('zoë', 6), ('o''neil', 7), ('eight', 8)",
    ];
    // A table sharded by a string key.
    let columns = "name VARCHAR(20) NOT NULL PRIMARY KEY, n INT NULL";
    strata
        .query_drop(format!(
            "CREATE TABLE wstr ({columns}) SHARD BY functiontype 'auto_crc32' USING COLUMN 'name' ON DATANODE '1-4'"
        ))
        .await?;
    reference
        .query_drop(format!("CREATE TABLE wstr ({columns})"))
        .await?;
    run_all(&mut strata, &setup).await?;
    run_all(&mut reference, &setup).await?;
    Ok((node, db, strata, reference))
}

/// Every table of the multi-table tests.
const ALL: &[&str] = &["ws", "wt", "wk", "wg", "wv", "wstr"];

#[tokio::test]
async fn multi_table_update_and_delete_across_nodes_answer_like_one_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = multi_table_fixture("wmt", "wmref").await?;
    let statements: &[(&str, &[&str])] = &[
        // Tables sharded by other keys (wt by CRC32 of id, wk by k, ws by id mod 4).
        ("UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = wk.name, wt.k = wk.k + 1 WHERE wk.k > 10", ALL),
        // The target's own column is read before the row changes.
        ("UPDATE wt JOIN ws ON ws.id = wt.id SET wt.amount = wt.amount + ws.amount WHERE ws.amount IS NOT NULL", ALL),
        // The comma form.
        ("UPDATE wt, wk SET wt.name = CONCAT(wk.name, '#') WHERE wt.id = wk.id AND wk.k = 10", ALL),
        ("UPDATE wt AS a, wk AS b SET a.d = '2025-05-05 05:05:05', b.name = 'both' WHERE a.id = b.id AND b.k = 20", ALL),
        // LEFT JOIN: rows without a match get the NULL side's NULLs.
        ("UPDATE ws LEFT JOIN wk ON wk.id = ws.id AND wk.k = 20 SET ws.name = COALESCE(wk.name, 'none')", ALL),
        // A row matched several times is changed once (the same new value each time).
        ("UPDATE wv JOIN ws ON ws.k = wv.k SET wv.cnt = wv.cnt + 1", ALL),
        // Rows matched but not changed.
        ("UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = wt.name", ALL),
        // A global table (every copy) and a vertical one as targets.
        ("UPDATE wg JOIN ws ON ws.id = wg.id SET wg.name = ws.name, wg.n = ws.k", ALL),
        ("UPDATE wv JOIN wk ON wk.k = wv.k SET wv.stamp = wk.id * 10 WHERE wk.id = 1", ALL),
        // Nothing matches.
        ("UPDATE wt JOIN wk ON wk.id = wt.id SET wt.k = 0 WHERE wk.k > 1000", ALL),
        // USING, three tables, RIGHT JOIN.
        ("UPDATE wt JOIN wk USING (id) SET wt.name = UPPER(wk.name) WHERE wk.k = 30", ALL),
        ("UPDATE wt JOIN wk ON wk.id = wt.id JOIN wv ON wv.k = wk.k SET wt.amount = wv.cnt, wv.stamp = 7", ALL),
        ("UPDATE wk RIGHT JOIN wt ON wt.id = wk.id + 1 SET wt.k = COALESCE(wk.k, -1)", ALL),
        // A target sharded by a string key: its keys route as the rows did.
        ("UPDATE wstr JOIN ws ON ws.id = wstr.n SET wstr.n = wstr.n + ws.k WHERE ws.k IS NOT NULL", ALL),
        ("DELETE wstr FROM wstr JOIN wk ON wk.name = wstr.name WHERE wk.k = 10", ALL),
        // A self-join: the values read are those before the statement.
        ("UPDATE wt AS a JOIN wt AS b ON b.id = a.k SET a.name = b.name", ALL),
        // DELETE of one table, of two, with USING, the comma form, a global table.
        ("DELETE wt FROM wt JOIN wk ON wk.id = wt.id WHERE wk.k = 20", ALL),
        ("DELETE wt, wk FROM wt JOIN wk ON wk.id = wt.id WHERE wk.name = 'both' OR wt.id = 7", ALL),
        ("DELETE FROM ws USING ws JOIN wk ON wk.id = ws.id WHERE wk.name LIKE 'o%'", ALL),
        ("DELETE ws, wg FROM ws, wg WHERE ws.id = wg.id", ALL),
        // A row matched several times is deleted once.
        ("DELETE wv FROM wv JOIN wk ON wk.k = wv.k", ALL),
        ("DELETE s FROM wt AS s LEFT JOIN wk AS k ON k.id = s.id AND k.k = 30 WHERE s.id > 2", ALL),
    ];
    let failures = write_differences(&mut reference, &mut strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Each copy of the global table was written.
    let copies: Vec<Vec<(i64, Option<String>)>> = {
        let mut out = Vec::new();
        for dnid in 1..=4 {
            out.push(
                strata
                    .query(format!(
                        "/*!strata:dnid={dnid}*/ SELECT id, name FROM wg ORDER BY id"
                    ))
                    .await?,
            );
        }
        out
    };
    assert!(copies.windows(2).all(|w| w[0] == w[1]), "{copies:?}");
    // EXPLAIN shows the join read under the writes by key.
    diffkit::explain_holding(
        &mut strata,
        "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = wk.name",
        &["MultiTableWrite(", "WHERE `id` IN (keys)"],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn multi_table_writes_are_atomic_and_part_of_the_transaction() -> TestResult {
    let (node, db, mut strata, mut reference) = multi_table_fixture("wmtx", "wmxref").await?;
    // Fails on the node holding k = 10 (rows (10, 3) and (10, 7) become (10, 1)) after
    // the other nodes changed their rows: nothing is left changed.
    let failing = "UPDATE wk JOIN ws ON ws.id = wk.id SET wk.name = 'changed', wk.id = IF(wk.k = 10, 1, wk.id)";
    let statements: &[(&str, &[&str])] = &[
        (failing, ALL),
        ("BEGIN", &[]),
        (
            "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = wk.name, wt.k = 5",
            ALL,
        ),
        (failing, ALL),
        (
            "DELETE wt, wk FROM wt JOIN wk ON wk.id = wt.id WHERE wt.id < 5",
            ALL,
        ),
        ("ROLLBACK", ALL),
        ("BEGIN", &[]),
        ("DELETE wg FROM wg JOIN ws ON ws.id = wg.id", ALL),
        ("COMMIT", ALL),
    ];
    let mut failures = write_differences(&mut reference, &mut strata, statements).await?;
    // A prepared statement binds its values into the read and the writes.
    let prepared =
        "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = CONCAT(wk.name, ?) WHERE wk.k = ?";
    for conn in [&mut reference, &mut strata] {
        conn.exec_drop(prepared, ("+p", 10)).await?;
        assert_eq!(conn.affected_rows(), 3, "{prepared}");
    }
    for table in ALL {
        let (a, b) = (
            table_rows(&mut reference, table).await?,
            table_rows(&mut strata, table).await?,
        );
        if a != b {
            failures.push(format!(
                "{prepared}: table {table} differs\n  MariaDB: {a:?}\n  Strata:  {b:?}"
            ));
        }
    }
    // A client counting found rows gets matched rows, as from MariaDB.
    let found = |opts: mysql_async::Opts, db: &str| {
        mysql_async::OptsBuilder::from_opts(opts)
            .client_found_rows(true)
            .db_name(Some(db.to_string()))
    };
    let reference_db = reference
        .query_first::<String, _>("SELECT DATABASE()")
        .await?
        .ok_or("no reference database")?;
    let mut reference_found = Conn::new(found(reference.opts().clone(), &reference_db)).await?;
    let mut strata_found = Conn::new(found(strata.opts().clone(), &db)).await?;
    failures.extend(
        write_differences(
            &mut reference_found,
            &mut strata_found,
            &[(
                "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = wt.name",
                ALL,
            )],
        )
        .await?,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn multi_table_writes_strata_cannot_match_are_refused_and_change_nothing() -> TestResult {
    let (node, db, mut strata, _reference) = multi_table_fixture("wmtr", "wmrref").await?;
    strata
        .query_drop(
            "CREATE TABLE wnp (a INT, b INT) SHARD BY functiontype 'auto_mod' USING COLUMN 'a' ON DATANODE '1-4'",
        )
        .await?;
    strata
        .query_drop("INSERT INTO wnp VALUES (1, 1), (2, 2)")
        .await?;
    let mut before = Vec::new();
    for table in ALL.iter().chain(&["wnp"]) {
        before.push(table_rows(&mut strata, table).await?);
    }
    for (sql, code) in [
        // Without a primary key the rows cannot be named one by one.
        ("UPDATE wnp JOIN wt ON wt.id = wnp.a SET wnp.b = wt.k", 1235),
        ("DELETE wnp FROM wnp JOIN wt ON wt.id = wnp.a", 1235),
        // MariaDB applies an UPDATE's ORDER BY and LIMIT to the joined rows in its join
        // order (MySQL refuses them with 1221).
        (
            "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.k = 1 LIMIT 1",
            1235,
        ),
        (
            "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.k = 1 ORDER BY wt.id",
            1235,
        ),
        // MariaDB has no ORDER BY or LIMIT in a multi-table DELETE: 1064.
        ("DELETE wt FROM wt JOIN wk ON wk.id = wt.id LIMIT 1", 1064),
        // MariaDB counts the rows skipped on a duplicate key as changed.
        (
            "UPDATE IGNORE wk JOIN ws ON ws.id = wk.id SET wk.id = IF(wk.k = 10, 1, wk.id)",
            1235,
        ),
        // One row, several new values: MySQL keeps the first of its join order.
        (
            "UPDATE wv JOIN ws ON ws.k = wv.k SET wv.total = ws.amount",
            1235,
        ),
        // A value read from a column the statement also assigns.
        (
            "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = 'a', wk.name = wt.name",
            1235,
        ),
        (
            "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.name = 'a', wt.k = LENGTH(wt.name)",
            1235,
        ),
        // A subquery in SET.
        (
            "UPDATE wt JOIN wk ON wk.id = wt.id SET wt.k = (SELECT MAX(k) FROM wv)",
            1235,
        ),
        // A user variable lives on one node's connection only (set below).
        ("UPDATE wt JOIN wk ON wk.id = wt.id SET wt.k = @l", 1235),
    ] {
        if sql.contains("@l") {
            strata.query_drop("SET @l = 1").await?;
        }
        match strata.query_drop(sql).await {
            Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, code, "{sql}: {e:?}"),
            other => return Err(format!("{sql}: {other:?}").into()),
        }
    }
    // The sharding column stays as it is.
    let moved = strata
        .query_drop("UPDATE wt JOIN wk ON wk.id = wt.id SET wt.id = wk.k")
        .await;
    assert!(moved.is_err(), "{moved:?}");
    let mut after = Vec::new();
    for table in ALL.iter().chain(&["wnp"]) {
        after.push(table_rows(&mut strata, table).await?);
    }
    assert_eq!(before, after);
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn a_multi_table_update_across_nodes_reads_the_latest_committed_rows_and_locks_them(
) -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("wlk", "wlkref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    run_all(&mut strata, &["INSERT INTO wt SELECT * FROM ws"]).await?;
    // ws and wt are sharded by different rules: the join runs in the compute node.
    let mut other = mysql_async::Conn::new(node.opts(Some(&db))).await?;
    other.query_drop("BEGIN").await?;
    other
        .query_drop("UPDATE wt SET amount = 99.00 WHERE id = 2")
        .await?;
    let opts = node.opts(Some(&db));
    let update = tokio::spawn(async move {
        let mut c = mysql_async::Conn::new(opts).await?;
        c.query_drop(
            "UPDATE ws JOIN wt ON wt.id = ws.id SET ws.amount = wt.amount WHERE ws.id = 2",
        )
        .await?;
        Ok::<_, mysql_async::Error>(())
    });
    // The UPDATE's read waits for the row lock the open transaction holds, as one
    // MariaDB's would, and then reads the committed 99.00 (an unlocked read would
    // take the NULL committed before and write it).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    other.query_drop("COMMIT").await?;
    update.await??;
    let amount: Option<String> = strata
        .query_first("SELECT CAST(amount AS CHAR) FROM ws WHERE id = 2")
        .await?;
    assert_eq!(amount.as_deref(), Some("99.00"));
    // A locking read of the same join by a client.
    let rows: Vec<(i32, String)> = strata
        .query(
            "SELECT ws.id, CAST(wt.amount AS CHAR) FROM ws JOIN wt ON wt.id = ws.id \
             WHERE ws.id = 2 FOR UPDATE",
        )
        .await?;
    assert_eq!(rows, vec![(2, "99.00".to_string())]);
    drop_and_shut_down(node, &mut strata, &db).await
}
