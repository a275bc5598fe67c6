//! Dynamic SQL inside stored functions and events, and the state a CALL leaves on its
//! storage connection, through a real client on one data node. `EXECUTE IMMEDIATE
//! <expression>` and `PREPARE s FROM <expression or @var>` in a function or event body
//! stay refused (1235): the text is known only when the storage node runs it, and no
//! account the storage server offers confines it (see docs/security.md, "Dynamic SQL
//! inside a routine"); procedures and compound statements with it are run by the compute
//! node (`routine_interpreter.rs`). A CALL may change the connection's session variables, user variables
//! and temporary tables from inside its body: the session keeps that connection and
//! resets it before the pool lends it to another session; so does a statement calling a
//! stored function (a name that is no built-in).

mod common;

use common::{error_of, TestResult};
use mysql_async::prelude::*;
use strata_testkit::ComputeNode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_sql_built_inside_a_routine_is_refused() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut c = node.connect(Some("test")).await?;
    for sql in [
        "CREATE FUNCTION dq_f(q TEXT) RETURNS INT BEGIN EXECUTE IMMEDIATE q; RETURN 1; END",
        "CREATE EVENT dq_e ON SCHEDULE EVERY 1 DAY DO EXECUTE IMMEDIATE CONCAT('SELECT ', 1)",
    ] {
        let (code, msg) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(1235), "{sql}: {msg}");
    }
    // A compound statement runs once, now: the compute node interprets it, checking
    // each text as it is built (`routine_interpreter.rs`).
    let compound = "BEGIN NOT ATOMIC DECLARE q TEXT DEFAULT 'SELECT 1'; EXECUTE IMMEDIATE q; END";
    let one: Option<i64> = c.query_first(compound).await?;
    assert_eq!(one, Some(1));
    // A literal text is checked like the body's own statements.
    c.query_drop("DROP PROCEDURE IF EXISTS dq_lit").await?;
    c.query_drop("CREATE PROCEDURE dq_lit() BEGIN EXECUTE IMMEDIATE 'SELECT 7'; END")
        .await?;
    let seven: Option<i64> = c.query_first("CALL dq_lit()").await?;
    assert_eq!(seven, Some(7));
    let bad = "CREATE PROCEDURE dq_bad() BEGIN EXECUTE IMMEDIATE 'SELECT * FROM mysql.user'; END";
    let (code, msg) = error_of(&mut c, bad).await;
    assert_eq!(code, Some(1044), "{msg}");
    c.query_drop("DROP PROCEDURE dq_lit").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_a_call_leaves_stays_with_its_session() -> TestResult {
    // One storage connection: the next session gets the one the first used.
    let node = ComputeNode::configured(1, |c| {
        c.pool.max_size = 1;
        c.pool.min_idle = 0;
    })
    .await?;
    let mut a = node.connect(Some("test")).await?;
    a.query_drop("DROP TABLE IF EXISTS dq_rows").await?;
    a.query_drop("CREATE TABLE dq_rows (a INT)").await?;
    a.query_drop("INSERT INTO dq_rows VALUES (1), (2), (3)")
        .await?;
    a.query_drop("DROP PROCEDURE IF EXISTS dq_state").await?;
    a.query_drop(
        "CREATE PROCEDURE dq_state() BEGIN SET SESSION div_precision_increment = 9; SET @dq_v = 5; END",
    )
    .await?;
    let third = "SELECT CONCAT(a / 3) AS x FROM dq_rows WHERE a = 1";
    a.query_drop("CALL dq_state()").await?;
    // The session that called it sees what its body set, as on MariaDB.
    let x: Option<String> = a.query_first(third).await?;
    assert_eq!(
        x.as_deref(),
        Some("0.333333333"),
        "the caller's own setting"
    );
    let v: Option<Option<i64>> = a.query_first("SELECT @dq_v").await?;
    assert_eq!(v, Some(Some(5)), "the caller's own user variable");
    drop(a);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut b = node.connect(Some("test")).await?;
    let x: Option<String> = b.query_first(third).await?;
    assert_eq!(
        x.as_deref(),
        Some("0.3333"),
        "another session inherited the CALL's setting"
    );
    let v: Option<Option<i64>> = b.query_first("SELECT @dq_v").await?;
    assert_eq!(
        v,
        Some(None),
        "another session inherited the CALL's user variable"
    );
    // Through EXECUTE IMMEDIATE too; the next session again starts clean.
    b.query_drop("EXECUTE IMMEDIATE 'CALL dq_state()'").await?;
    let x: Option<String> = b.query_first(third).await?;
    assert_eq!(x.as_deref(), Some("0.333333333"));
    drop(b);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut c = node.connect(Some("test")).await?;
    let x: Option<String> = c.query_first(third).await?;
    assert_eq!(x.as_deref(), Some("0.3333"));
    c.query_drop("DROP PROCEDURE dq_state").await?;
    c.query_drop("DROP TABLE dq_rows").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_a_stored_function_leaves_stays_with_its_session() -> TestResult {
    // One storage connection: the next session gets the one the first used (a stored
    // function's `SET SESSION TRANSACTION READ ONLY` once reached every later session,
    // whose writes all failed with 1792).
    let node = ComputeNode::configured(1, |c| {
        c.pool.max_size = 1;
        c.pool.min_idle = 0;
    })
    .await?;
    let mut a = node.connect(Some("test")).await?;
    a.query_drop("DROP TABLE IF EXISTS dq_ro").await?;
    a.query_drop("CREATE TABLE dq_ro (a INT)").await?;
    a.query_drop("DROP FUNCTION IF EXISTS dq_ro_f").await?;
    a.query_drop(
        "CREATE FUNCTION dq_ro_f() RETURNS INT BEGIN SET SESSION TRANSACTION READ ONLY; RETURN 1; END",
    )
    .await?;
    let one: Option<i64> = a.query_first("SELECT dq_ro_f()").await?;
    assert_eq!(one, Some(1));
    // The caller's transactions are read-only now, as on MariaDB.
    let ro: Option<i64> = a.query_first("SELECT @@tx_read_only").await?;
    assert_eq!(ro, Some(1), "the caller's own tx_read_only");
    let (code, msg) = error_of(&mut a, "INSERT INTO dq_ro VALUES (1)").await;
    assert_eq!(code, Some(1792), "{msg}");
    drop(a);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut b = node.connect(Some("test")).await?;
    let ro: Option<i64> = b.query_first("SELECT @@tx_read_only").await?;
    assert_eq!(
        ro,
        Some(0),
        "another session inherited the function's setting"
    );
    b.query_drop("INSERT INTO dq_ro VALUES (1)").await?;
    // SET SESSION TRANSACTION itself is what @@tx_read_only shows.
    b.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?;
    let ro: Option<i64> = b.query_first("SELECT @@tx_read_only").await?;
    assert_eq!(ro, Some(1));
    b.query_drop("SET SESSION TRANSACTION READ WRITE").await?;
    let (code, msg) = error_of(&mut b, "SET TRANSACTION READ ONLY, READ WRITE").await;
    assert_eq!(code, Some(1064), "{msg}");
    assert!(msg.contains("near 'READ WRITE'"), "{msg}");
    b.query_drop("DROP FUNCTION dq_ro_f").await?;
    b.query_drop("DROP TABLE dq_ro").await?;
    Ok(())
}
