//! SHOW WARNINGS after a statement that ran on data nodes other than the session's home
//! node (fninsert's finding): the warnings are read where the statement ran, not from
//! the home node's connection, which shows an older statement's or none.

mod diffkit;

use diffkit::{create_on_both, drop_and_shut_down, node_and_reference, BoxError};
use mysql_async::prelude::*;

type TestResult = Result<(), BoxError>;

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

/// The codes SHOW WARNINGS lists.
async fn codes(c: &mut mysql_async::Conn, sql: &str) -> Result<Vec<u32>, BoxError> {
    let rows: Vec<(String, u32, String)> = c.query(sql).await?;
    Ok(rows.into_iter().map(|(_, code, _)| code).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_warnings_reads_the_nodes_the_statement_ran_on() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnw", "fnwref").await?;
    let tables = [("w", "id INT PRIMARY KEY, v TINYINT", ALL_NODES)];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET sql_mode = ''").await?;
    }
    // One row at a time: each lands on one node, most not the home node.
    for id in 1..=12 {
        let warned = format!("INSERT INTO w VALUES ({id}, 300)");
        let clean = format!("INSERT INTO w VALUES ({}, 1)", id + 100);
        for (sql, want) in [(&warned, vec![1264]), (&clean, vec![])] {
            for c in [&mut strata, &mut reference] {
                c.query_drop(sql.as_str()).await?;
            }
            assert_eq!(codes(&mut strata, "SHOW WARNINGS").await?, want, "{sql}");
            assert_eq!(codes(&mut reference, "SHOW WARNINGS").await?, want, "{sql}");
            // Read again: SHOW WARNINGS clears nothing.
            assert_eq!(codes(&mut strata, "SHOW WARNINGS").await?, want, "{sql}");
        }
    }
    // Several rows to several nodes: every warning, in any node order.
    let sql = "INSERT INTO w VALUES (201, 300), (202, -300), (203, 1), (204, 999), (205, 400)";
    for c in [&mut strata, &mut reference] {
        c.query_drop(sql).await?;
    }
    let mut got = codes(&mut strata, "SHOW WARNINGS").await?;
    got.sort_unstable();
    assert_eq!(got, [1264, 1264, 1264, 1264], "{sql}");
    assert_eq!(
        codes(&mut strata, "SHOW WARNINGS LIMIT 1, 2").await?.len(),
        2
    );
    assert_eq!(codes(&mut strata, "SHOW ERRORS").await?, Vec::<u32>::new());
    drop_and_shut_down(node, &mut strata, &db).await
}

/// DDL run alike on every node gets the same notes from each (`YEAR(2)` deprecated, a
/// duplicate index): MariaDB reports them once (type_year, check showed them 4 times).
/// Warnings about rows (an ALTER converting each node's rows) stay every node's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_notes_alike_on_every_node_are_reported_once() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnd", "fndref").await?;
    let statements = [
        format!("CREATE TABLE y2 (id INT, y YEAR(2)) {ALL_NODES}"),
        format!("CREATE TABLE dk (id INT, n INT, KEY (n), KEY (n)) {ALL_NODES}"),
        "ALTER TABLE dk ADD KEY (n)".to_string(),
        format!("CREATE TABLE IF NOT EXISTS y2 (id INT) {ALL_NODES}"),
    ];
    for sql in &statements {
        let plain = sql.replace(ALL_NODES, "");
        reference.query_drop(plain.as_str()).await?;
        let want = codes(&mut reference, "SHOW WARNINGS").await?;
        let want_count: Vec<u32> = reference.query("SELECT @@warning_count").await?;
        strata.query_drop(sql.as_str()).await?;
        assert_eq!(codes(&mut strata, "SHOW WARNINGS").await?, want, "{sql}");
        let count: Vec<u32> = strata.query("SELECT @@warning_count").await?;
        assert_eq!(count, want_count, "{sql}");
    }
    // Rows on each node truncated by the ALTER: one warning per row, as in MariaDB.
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET sql_mode = ''").await?;
        c.query_drop("INSERT INTO dk VALUES (1, 300), (2, 400), (3, 500), (4, 600)")
            .await?;
        c.query_drop("ALTER TABLE dk MODIFY n TINYINT").await?;
    }
    let got = codes(&mut strata, "SHOW WARNINGS").await?;
    assert_eq!(got, codes(&mut reference, "SHOW WARNINGS").await?);
    drop_and_shut_down(node, &mut strata, &db).await
}

/// A read over several nodes reports the warnings its data nodes raised: their count in
/// the result's EOF and their rows in SHOW WARNINGS (func_sapdb's TIMEDIFF lost its two
/// 1292 warnings over 4 nodes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_over_several_nodes_reports_the_nodes_warnings() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnr", "fnrref").await?;
    let tables = [(
        "tw",
        "id INT PRIMARY KEY, t1 DATETIME, t4 DATETIME",
        ALL_NODES,
    )];
    let rows = [
        "INSERT INTO tw VALUES (1, '2001-01-01 01:01:01', '1997-12-31 23:59:59'), \
         (2, '1997-12-31 23:59:59', '2001-01-01 01:01:01'), (3, '2001-01-01 01:01:01', NULL), \
         (4, '2001-01-01 01:01:01', '2001-01-01 01:01:01'), (5, NULL, NULL)",
    ];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    let sql = "SELECT id, TIMEDIFF(t1, t4) FROM tw ORDER BY id";
    let mut seen = Vec::new();
    for c in [&mut strata, &mut reference] {
        let answer: Vec<(i32, Option<String>)> = c.query(sql).await?;
        let count: Vec<u32> = c.query("SELECT @@warning_count").await?;
        let mut got = codes(c, "SHOW WARNINGS").await?;
        got.sort_unstable();
        seen.push((answer, count, got));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1].2, [1292, 1292]);
    // The next statement clears them.
    strata.query_drop("SELECT id FROM tw").await?;
    assert_eq!(
        codes(&mut strata, "SHOW WARNINGS").await?,
        Vec::<u32>::new()
    );
    drop_and_shut_down(node, &mut strata, &db).await
}
