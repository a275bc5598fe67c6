//! Affected-row counts as MySQL gives them: a client that did not ask for
//! CLIENT_FOUND_ROWS is told the rows an UPDATE (or INSERT ... ON DUPLICATE KEY UPDATE)
//! *changed*, one that asked is told the rows it *matched*. Two clients of each kind
//! share one compute node (and so its pooled storage connections), and every statement
//! runs through both, on Strata over 4 data nodes and on one plain MariaDB: the
//! affected rows, the info text and `ROW_COUNT()` must be the same.

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder, Params};

use diffkit::BoxError;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

type TestResult = Result<(), BoxError>;

const TABLES: &[(&str, &str, &str)] = &[
    (
        "cs",
        "id INT NOT NULL PRIMARY KEY, k INT NULL, name VARCHAR(20) NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "cv",
        "id INT NOT NULL PRIMARY KEY, n INT NULL",
        "SHARD BY VERTICAL ON DATANODE '2'",
    ),
    (
        "cg",
        "id INT NOT NULL PRIMARY KEY, n INT NULL",
        "SHARD BY GLOBAL",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO cs VALUES (1, 10, 'a'), (2, 10, 'b'), (3, 20, 'c'), (4, 20, 'd'), \
     (5, 30, 'e'), (6, 30, 'f'), (7, 40, 'g'), (8, 40, 'h')",
    "INSERT INTO cv VALUES (1, 5), (2, 7), (3, 9)",
    "INSERT INTO cg VALUES (1, 1), (2, 2)",
];

/// Each statement runs through the client without FOUND_ROWS, then through the one
/// with it (so the second run often finds its rows already changed).
const STATEMENTS: &[&str] = &[
    // One data node, relayed OK packets.
    "UPDATE cv SET n = n WHERE id = 1",
    "UPDATE cv SET n = 5 WHERE id <= 2",
    "INSERT INTO cv VALUES (1, 5) ON DUPLICATE KEY UPDATE n = VALUES(n)",
    "INSERT INTO cv VALUES (1, 6) ON DUPLICATE KEY UPDATE n = VALUES(n)",
    "INSERT INTO cv VALUES (1, 6), (2, 8), (4, 4) ON DUPLICATE KEY UPDATE n = VALUES(n)",
    "INSERT INTO cv VALUES (3, 0) ON DUPLICATE KEY UPDATE n = n + 1",
    "UPDATE cs SET name = 'x' WHERE id = 3",
    "INSERT INTO cs VALUES (3, 20, 'x') ON DUPLICATE KEY UPDATE name = 'x'",
    // Several data nodes, summed counts.
    "UPDATE cs SET k = 10 WHERE id <= 6",
    "UPDATE cs SET k = k",
    "UPDATE cs SET name = CONCAT(name, '') WHERE k >= 20",
    // Two rows per node (a node given one row sends no info text; see docs/sharding.md).
    "INSERT INTO cs VALUES (1, 10, 'a'), (5, 10, 'e'), (2, 11, 'b'), (10, 50, 'j') \
     ON DUPLICATE KEY UPDATE k = VALUES(k), name = VALUES(name)",
    "DELETE FROM cs WHERE id = 10",
    // A global table: one copy's counts.
    "UPDATE cg SET n = 2",
    "INSERT INTO cg VALUES (1, 2) ON DUPLICATE KEY UPDATE n = VALUES(n)",
];

/// A statement's outcome as text: affected rows, info and then `ROW_COUNT()`, or the
/// error code.
async fn outcome(conn: &mut Conn, sql: &str, params: Option<Params>) -> Result<String, BoxError> {
    let done = match params {
        None => conn.query_drop(sql).await,
        Some(p) => conn.exec_drop(sql, p).await,
    };
    let first = match done {
        Ok(()) => format!("OK {} [{}]", conn.affected_rows(), conn.info()),
        Err(mysql_async::Error::Server(e)) => return Ok(format!("ERROR {}", e.code)),
        Err(e) => return Err(e.into()),
    };
    let row_count: Vec<i64> = conn.query("SELECT ROW_COUNT()").await?;
    Ok(format!("{first} ROW_COUNT() {row_count:?}"))
}

/// A connection like `opts` that asks for CLIENT_FOUND_ROWS or not.
/// Runs `write`, then `read`; the read's column names and rows as text. In between,
/// `between` (another session on the same data node) writes a row of its own.
async fn counted_read(
    conn: &mut Conn,
    write: &str,
    between: &mut Conn,
    read: &str,
) -> Result<String, BoxError> {
    conn.query_drop(write).await?;
    between
        .query_drop("UPDATE one SET k = k + 1 WHERE id = 1")
        .await?;
    let result = conn.query_iter(read).await?;
    let names: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let rows: Vec<mysql_async::Row> = result.collect_and_drop().await?;
    let values: Vec<Vec<mysql_async::Value>> = rows.into_iter().map(|r| r.unwrap()).collect();
    Ok(format!("{names:?} {values:?}"))
}

async fn client(opts: mysql_async::Opts, found_rows: bool) -> Result<Conn, BoxError> {
    Ok(Conn::new(OptsBuilder::from_opts(opts).client_found_rows(found_rows)).await?)
}

#[tokio::test]
async fn affected_rows_follow_the_clients_found_rows_flag_like_one_mariadb() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("cnt");
    let reference_db = unique_name("cntref");
    storage.create_database(&reference_db).await?;
    let mut setup = node.connect(Some("test")).await?;
    setup.query_drop(format!("CREATE DATABASE {db}")).await?;
    setup.query_drop(format!("USE {db}")).await?;
    let mut reference_setup = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    diffkit::create_on_both(&mut setup, &mut reference_setup, TABLES, ROWS).await?;

    // (without FOUND_ROWS, with it): (MariaDB, Strata)
    let mut pairs = Vec::new();
    for found_rows in [false, true] {
        pairs.push((
            found_rows,
            client(storage.opts(0, Some(&reference_db)), found_rows).await?,
            client(node.opts(Some(&db)), found_rows).await?,
        ));
    }
    let mut failures = Vec::new();
    let mut compare = |found_rows: bool, sql: &str, expected: String, got: String| {
        if expected != got {
            failures.push(format!(
                "{sql} (FOUND_ROWS {found_rows})\n  MariaDB: {expected}\n  Strata:  {got}"
            ));
        }
    };
    for sql in STATEMENTS {
        for (found_rows, reference, strata) in pairs.iter_mut() {
            let expected = outcome(reference, sql, None).await?;
            let got = outcome(strata, sql, None).await?;
            compare(*found_rows, sql, expected, got);
        }
    }
    // Prepared statements (binary protocol), and a transaction over several nodes.
    let prepared = "UPDATE cs SET k = ? WHERE id BETWEEN ? AND ?";
    for (found_rows, reference, strata) in pairs.iter_mut() {
        for sql in ["BEGIN", "UPDATE cs SET k = 40 WHERE id > 4", "COMMIT"] {
            let expected = outcome(reference, sql, None).await?;
            let got = outcome(strata, sql, None).await?;
            compare(*found_rows, sql, expected, got);
        }
        for params in [(10, 1, 2), (10, 1, 3), (77, 2, 2)] {
            let expected = outcome(reference, prepared, Some(params.into())).await?;
            let got = outcome(strata, prepared, Some(params.into())).await?;
            compare(*found_rows, prepared, expected, got);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // In a SELECT over tables the compute node puts the session's count into the text
    // (a storage connection would answer with its own last statement's), keeping the
    // column's name, also when the call is inside an item's expression.
    let one_node_db = unique_name("cnt1");
    setup
        .query_drop(format!(
            "CREATE DATABASE {one_node_db} DEFAULT DATANODE '2'"
        ))
        .await?;
    setup
        .query_drop(format!(
            "CREATE TABLE {one_node_db}.one (id INT PRIMARY KEY, k INT)"
        ))
        .await?;
    reference_setup
        .query_drop("CREATE TABLE one (id INT PRIMARY KEY, k INT)")
        .await?;
    // Statements on `one` run on a session whose database is on one data node (they
    // are forwarded whole), those on `cs` on a session over four (planned).
    let mut single = node.connect(Some(&one_node_db)).await?;
    let mut other = node.connect(Some(&one_node_db)).await?;
    let mut reference_other = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let steps = [
        (
            true,
            "INSERT INTO one VALUES (1, 1), (2, 2), (3, 3)",
            "SELECT ROW_COUNT(), id FROM one ORDER BY id LIMIT 1",
        ),
        (
            false,
            "UPDATE cs SET k = k + 1 WHERE id <= 2",
            "SELECT id, row_count() AS rc FROM cs ORDER BY id LIMIT 1",
        ),
        (
            true,
            "DELETE FROM one WHERE id = 3",
            "SELECT ROW_COUNT() FROM one WHERE k < ROW_COUNT() + 2 ORDER BY id",
        ),
        // Inside an expression the item keeps its text as its name.
        (
            true,
            "UPDATE one SET k = k + 10",
            "SELECT hex(concat(row_count())), id + ROW_COUNT() * 2 AS x, k - ROW_COUNT() FROM one ORDER BY id",
        ),
        (
            false,
            "UPDATE cs SET k = k + 1 WHERE id >= 4",
            "SELECT ROW_COUNT() + 1, id FROM cs ORDER BY id LIMIT 2",
        ),
    ];
    let mut counted = [Vec::new(), Vec::new()];
    for (on_one, write, read) in steps {
        counted[0]
            .push(counted_read(&mut reference_setup, write, &mut reference_other, read).await?);
        let strata = if on_one { &mut single } else { &mut setup };
        counted[1].push(counted_read(strata, write, &mut other, read).await?);
    }
    assert_eq!(
        counted[0], counted[1],
        "ROW_COUNT() in a SELECT over tables"
    );
    // An item whose text is too long to be its alias is refused.
    let long = format!("SELECT ROW_COUNT(){}, id FROM cs", " + 0".repeat(70));
    match setup.query_drop(long).await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{e:?}"),
        other => return Err(format!("ROW_COUNT() in an expression: {other:?}").into()),
    }
    // In a SET (or a write), ROW_COUNT() is the session's previous count too: the
    // compute node puts it in the text.
    let mut kept = Vec::new();
    for conn in [&mut reference_setup, &mut setup] {
        conn.query_drop("UPDATE cs SET k = k + 1 WHERE id <= 3")
            .await?;
        conn.query_drop("SET @r = ROW_COUNT()").await?;
        let r: Option<i64> = conn.query_first("SELECT @r").await?;
        kept.push(r);
    }
    assert_eq!(kept[0], kept[1]);
    assert_eq!(kept[1], Some(3));
    setup.query_drop(format!("DROP DATABASE {db}")).await?;
    setup
        .query_drop(format!("DROP DATABASE {one_node_db}"))
        .await?;
    node.shutdown().await;
    Ok(())
}
