//! `PREPARE ... FROM` and `EXECUTE IMMEDIATE` whose text is an expression, through a
//! real client: user variables and expressions of literals, user variables and pure
//! built-in functions (`CONCAT`, `SFORMAT`, `REPLACE`, ...) are read by the compute node, and the text is checked like any statement (storage schemas and
//! server commands refused) before it runs; MariaDB's errors for a NULL text and a
//! subquery; other expressions stay refused. Over four data nodes `EXECUTE IMMEDIATE`
//! runs its text as the statement itself, planned over every node, and so does
//! `EXECUTE` of a `PREPARE ... FROM`.

mod common;

use common::{error_of, first_int, node_and_conn, run_all, TestResult};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_sql_from_user_variables_is_checked_and_run_on_one_data_node() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    run_all(
        &mut c,
        &["SET @q = 'SELECT 42', @n = 41", "PREPARE s FROM @q"],
    )
    .await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 42);
    let plus_one = "EXECUTE IMMEDIATE CONCAT('SELECT ', @n, ' + 1')";
    assert_eq!(first_int(&mut c, plus_one).await?, 42);
    let v: Option<(i64, i64)> = c
        .query_first("EXECUTE IMMEDIATE CONCAT('SELECT ?, ', @n) USING 5")
        .await?;
    assert_eq!(v, Some((5, 41)));
    c.query_drop("PREPARE s FROM CONCAT_WS(' ', 'SELECT', @n)")
        .await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 41);
    // Any expression of literals, user variables, operators and pure built-in
    // functions (MariaDB's own tests build statements with SFORMAT).
    let formatted = "EXECUTE IMMEDIATE SFORMAT('SELECT {} * {}', @n + 1, LENGTH('ab'))";
    assert_eq!(first_int(&mut c, formatted).await?, 84);
    // The session's own character set and collation (MariaDB's tests build views so).
    c.query_drop("SET NAMES latin1 COLLATE latin1_bin").await?;
    let collation: Option<String> = c
        .query_first(
            "EXECUTE IMMEDIATE SFORMAT('SELECT COLLATION(CONVERT(''a'' USING {}) COLLATE {})',              @@character_set_connection, @@collation_connection)",
        )
        .await?;
    assert_eq!(collation.as_deref(), Some("latin1_bin"));
    c.query_drop("SET NAMES utf8mb4").await?;
    assert_eq!(
        first_int(&mut c, "EXECUTE IMMEDIATE REPLACE(@q, '42', '43')").await?,
        43
    );
    c.query_drop("PREPARE s FROM IF(@n > 40, CONCAT('SELECT ', CAST(@n AS CHAR)), 'SELECT 0')")
        .await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 41);

    // The text is checked as the statement it is.
    c.query_drop("SET @bad = 'SELECT * FROM mysql.user', @stop = 'SHUTDOWN'")
        .await?;
    for (sql, code) in [
        ("EXECUTE IMMEDIATE @bad", 1044),
        ("PREPARE s FROM @bad", 1044),
        (
            "EXECUTE IMMEDIATE CONCAT('SELECT * FROM ', 'mysql', '.user')",
            1044,
        ),
        ("PREPARE s FROM @stop", 1227),
        // MariaDB's own errors.
        ("EXECUTE IMMEDIATE @no_such_variable", 1064),
        ("EXECUTE IMMEDIATE (SELECT 'SELECT 1')", 1970),
        ("PREPARE s FROM (1 IN (SELECT 1))", 1970),
        // The text of a pure built-in function is checked too.
        (
            "EXECUTE IMMEDIATE REPLACE(@q, '42', 'x FROM mysql.user')",
            1044,
        ),
        // Text the compute node cannot know before it runs, or whose evaluation could
        // change or tell something: system variables, other functions.
        ("EXECUTE IMMEDIATE @@hostname", 1235),
        (
            "EXECUTE IMMEDIATE CONCAT('SELECT ', @@global.sql_mode)",
            1235,
        ),
        (
            "EXECUTE IMMEDIATE CONCAT('SELECT ', QUOTE(DATABASE()))",
            1235,
        ),
        (
            "EXECUTE IMMEDIATE CONCAT('SELECT ', GET_LOCK('l', 0))",
            1235,
        ),
    ] {
        let (got, message) = error_of(&mut c, sql).await;
        assert_eq!(got, Some(code), "{sql}: {message}");
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_immediate_runs_its_text_over_every_data_node() -> TestResult {
    let node = strata_testkit::ComputeNode::on_shared_storage(4).await?;
    let mut c = node.connect(Some("test")).await?;
    let db = strata_testkit::unique_name("dyn");
    run_all(
        &mut c,
        &[
            &format!("CREATE DATABASE {db}"),
            &format!("USE {db}"),
            "CREATE TABLE d (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
            "EXECUTE IMMEDIATE 'INSERT INTO d VALUES (1, 10), (2, 20), (3, 30), (4, 40)'",
        ],
    )
    .await?;
    let count = "EXECUTE IMMEDIATE 'SELECT COUNT(*) FROM d'";
    assert_eq!(
        first_int(&mut c, count).await?,
        4,
        "the rows of every data node"
    );
    let sum = "EXECUTE IMMEDIATE CONCAT('SELECT SUM(v) ', 'FROM d')";
    assert_eq!(first_int(&mut c, sum).await?, 100);
    // PREPARE keeps the text; EXECUTE runs it over every node (see dynamic_sql_planned.rs).
    c.query_drop("SET @q = 'SELECT COUNT(*) FROM d'").await?;
    c.query_drop("PREPARE s FROM @q").await?;
    assert_eq!(first_int(&mut c, "EXECUTE s").await?, 4);
    let v = "EXECUTE IMMEDIATE 'SELECT v FROM d WHERE id = ?' USING 3";
    assert_eq!(first_int(&mut c, v).await?, 30);
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}
