//! CALL without a routing hint in a database over four data nodes: it runs on one data
//! node when the procedure (and what it calls) touches no table, reads global tables
//! only, or touches tables all on that node; it is refused with 1235 otherwise. Run
//! through Strata and on one plain MariaDB (storage node 0) with the same procedures.

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::Conn;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, run, BoxError, Outcome,
    ER_NOT_SUPPORTED_YET,
};

type TestResult = Result<(), BoxError>;

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

/// Runs `sql` (a CREATE PROCEDURE/FUNCTION) on both sides.
async fn define(strata: &mut Conn, reference: &mut Conn, sql: &str) -> TestResult {
    strata.query_drop(sql).await?;
    reference.query_drop(sql).await?;
    Ok(())
}

/// Fails naming every statement whose answer differs between the two sides.
async fn same_answers(reference: &mut Conn, strata: &mut Conn, statements: &[&str]) -> TestResult {
    let ordered: Vec<(&str, bool)> = statements.iter().map(|s| (*s, true)).collect();
    let failures = differences(reference, strata, &ordered).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// Every result set of `sql`, as rows of text.
async fn result_sets(conn: &mut Conn, sql: &str) -> Result<Vec<Vec<Vec<String>>>, BoxError> {
    let mut result = conn.query_iter(sql).await?;
    let mut sets = Vec::new();
    while !result.is_empty() {
        let rows: Vec<mysql_async::Row> = result.collect().await?;
        if !rows.is_empty() {
            sets.push(
                rows.into_iter()
                    .map(|r| {
                        r.unwrap()
                            .iter()
                            .map(diffkit::value_text)
                            .collect::<Vec<String>>()
                    })
                    .collect(),
            );
        }
    }
    Ok(sets)
}

/// Asserts that `sql` is refused with 1235 and a message naming `names`.
async fn refused(strata: &mut Conn, sql: &str, names: &str) -> TestResult {
    match run(strata, sql).await? {
        Outcome::Error { code, message } => {
            assert_eq!(code, ER_NOT_SUPPORTED_YET, "{sql}: {message}");
            assert!(message.contains(names), "{sql}: {message}");
        }
        other => panic!("{sql} was not refused: {}", other.describe(5)),
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_procedure_without_tables_runs_with_out_parameters_and_result_sets() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fcp", "fcpref").await?;
    define(
        &mut strata,
        &mut reference,
        "CREATE PROCEDURE p(IN a INT, OUT b INT) BEGIN SET b = a * 2; SELECT a AS x; SELECT a + 1 AS y, 'z' AS z; END",
    )
    .await?;
    define(
        &mut strata,
        &mut reference,
        "CREATE PROCEDURE nothing() BEGIN END",
    )
    .await?;
    for conn in [&mut strata, &mut reference] {
        let sets = result_sets(conn, "CALL p(3, @b)").await?;
        assert_eq!(
            sets,
            vec![
                vec![vec!["3".to_string()]],
                vec![vec!["4".to_string(), "z".to_string()]]
            ]
        );
        let b: Option<i64> = conn.query_first("SELECT @b").await?;
        assert_eq!(b, Some(6));
    }
    same_answers(&mut reference, &mut strata, &["CALL nothing()"]).await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procedures_over_a_global_or_one_node_table_run_on_its_node() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fcg", "fcgref").await?;
    let tables = [
        ("g", "id INT PRIMARY KEY, v VARCHAR(10)", "SHARD BY GLOBAL"),
        (
            "one",
            "id INT PRIMARY KEY, v VARCHAR(10)",
            "SHARD BY VERTICAL ON DATANODE '3'",
        ),
    ];
    let rows = [
        "INSERT INTO g VALUES (1, 'a'), (2, 'b'), (3, 'c')",
        "INSERT INTO one VALUES (1, 'x')",
    ];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    define(
        &mut strata,
        &mut reference,
        "CREATE PROCEDURE read_g(IN lo INT) BEGIN SELECT COUNT(*), MAX(v) FROM g WHERE id >= lo; END",
    )
    .await?;
    define(
        &mut strata,
        &mut reference,
        "CREATE PROCEDURE add_one(IN i INT) BEGIN INSERT INTO one VALUES (i, CONCAT('n', i)); \
         SELECT id, v FROM one ORDER BY id; END",
    )
    .await?;
    define(
        &mut strata,
        &mut reference,
        "CREATE PROCEDURE write_g() BEGIN UPDATE g SET v = 'w'; END",
    )
    .await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            "CALL read_g(2)",
            "CALL add_one(5)",
            "CALL add_one(7)",
            "SELECT * FROM one ORDER BY id",
        ],
    )
    .await?;
    refused(&mut strata, "CALL write_g()", "global table g").await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procedures_over_a_sharded_table_or_several_nodes_are_refused() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fcs", "fcsref").await?;
    let tables = [
        ("s", "id INT PRIMARY KEY, v INT", ALL_NODES),
        (
            "a",
            "id INT PRIMARY KEY",
            "SHARD BY VERTICAL ON DATANODE '1'",
        ),
        (
            "b",
            "id INT PRIMARY KEY",
            "SHARD BY VERTICAL ON DATANODE '2'",
        ),
    ];
    let rows = ["INSERT INTO s VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    for sql in [
        "CREATE PROCEDURE sum_s() BEGIN SELECT SUM(v) FROM s; END",
        "CREATE PROCEDURE both_ab() BEGIN SELECT COUNT(*) FROM a; SELECT COUNT(*) FROM b; END",
        "CREATE PROCEDURE dynamic() BEGIN PREPARE st FROM 'SELECT 1'; EXECUTE st; END",
        "CREATE PROCEDURE outer_bad() BEGIN SELECT 1 AS one; CALL sum_s(); END",
        "CREATE PROCEDURE inner_ok(OUT x INT) BEGIN SET x = 41; END",
        "CREATE PROCEDURE makes() BEGIN CREATE TABLE made (a INT); INSERT INTO made VALUES (1); END",
        "CREATE PROCEDURE outer_ok() BEGIN DECLARE y INT; CALL inner_ok(y); SELECT y + 1 AS answer; END",
    ] {
        define(&mut strata, &mut reference, sql).await?;
    }
    refused(&mut strata, "CALL sum_s()", "sharded table s").await?;
    refused(&mut strata, "CALL both_ab()", "different data nodes").await?;
    refused(&mut strata, "CALL dynamic()", "dynamic SQL").await?;
    refused(&mut strata, "CALL outer_bad()", "sharded table s").await?;
    refused(&mut strata, "CALL makes()", "runs CREATE").await?;
    same_answers(&mut reference, &mut strata, &["CALL outer_ok()"]).await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_functions_in_calls_and_selects() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fcf", "fcfref").await?;
    let tables = [("s", "id INT PRIMARY KEY, v INT", ALL_NODES)];
    let rows = ["INSERT INTO s VALUES (1, 10), (2, 20), (3, 30), (4, 40), (5, 50)"];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    for sql in [
        "CREATE FUNCTION plus(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
        "CREATE FUNCTION count_s() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM s)",
        "CREATE PROCEDURE uses_plus(IN x INT) BEGIN SELECT plus(x) AS p; END",
        "CREATE PROCEDURE uses_count() BEGIN SELECT count_s() AS c; END",
    ] {
        define(&mut strata, &mut reference, sql).await?;
    }
    same_answers(
        &mut reference,
        &mut strata,
        &[
            "CALL uses_plus(4)",
            "SELECT id, plus(v) FROM s ORDER BY id",
            "SELECT plus(2)",
        ],
    )
    .await?;
    refused(&mut strata, "CALL uses_count()", "sharded table s").await?;
    // A function reading the sharded table, called per row on every data node, would
    // count each node's rows only: refused.
    refused(
        &mut strata,
        "SELECT id, count_s() FROM s ORDER BY id",
        "stored function count_s",
    )
    .await?;
    // SET and DO run on the home data node without a plan: the same check applies
    // (`SET @n = count_s()` stored one node's count).
    for sql in [
        "SET @n = count_s()",
        "SET @a = 1, @n = 2 + count_s()",
        "DO count_s()",
    ] {
        refused(&mut strata, sql, "stored function count_s").await?;
    }
    // So does a subquery over the sharded table (`SET @n = (SELECT COUNT(*) FROM s)`
    // counted the home node's rows).
    for sql in [
        "SET @n = (SELECT COUNT(*) FROM s)",
        "SET @n := (SELECT COUNT(*) FROM s)",
        "DO (SELECT MAX(v) FROM s)",
    ] {
        refused(&mut strata, sql, "reading table").await?;
    }
    same_answers(
        &mut reference,
        &mut strata,
        &[
            "SET @p = plus(41), @q = ABS(-2)",
            "SELECT @p, @q",
            // `:=` is read as `=` for the check; a subquery without tables is fine.
            "SET @r := 1 + (SELECT 2), @s := plus(1)",
            "SELECT @r, @s",
            "DO plus(1), SLEEP(0)",
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}
