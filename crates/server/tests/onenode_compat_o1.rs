//! Answers of MariaDB's `main/` test files (issue 14, the `--every 8 --offset 1` sample)
//! that differed through Strata on one data node, each reduced to its statements and
//! compared with one plain MariaDB: CREATE/ALTER/DROP/RENAME USER of several accounts
//! where some fail (create_drop_user: MariaDB changes the others and names every one
//! that failed; Strata changed none, a wrong answer), the process list during a CALL
//! (sp-threads) and its Info without the final `;` (dirty_close), KILL of a session whose
//! loop KILL QUERY does not stop (information_schema_tables) and an executable comment
//! without code (mysql_cp932).

mod common;
mod diffkit;

use common::{run_all, TestResult};
use diffkit::{run, Outcome};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

/// A compute node on one shared storage node, a Strata connection using a new
/// database and a connection to the storage node's MariaDB using another.
async fn sides(prefix: &str) -> TestResult<(ComputeNode, Conn, Conn)> {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let strata_db = unique_name(prefix);
    let reference_db = unique_name(&format!("{prefix}ref"));
    let mut strata = node.connect(Some("test")).await?;
    run_all(
        &mut strata,
        &[
            &format!("CREATE DATABASE {strata_db}"),
            &format!("USE {strata_db}"),
        ],
    )
    .await?;
    storage.create_database(&reference_db).await?;
    let reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    Ok((node, strata, reference))
}

/// Runs each statement on both sides and fails naming every answer of Strata's that
/// differs from MariaDB's: rows, affected counts, error codes and messages alike.
async fn same_answers(strata: &mut Conn, reference: &mut Conn, statements: &[&str]) -> TestResult {
    let mut failures = Vec::new();
    for sql in statements {
        let expected = run(reference, sql).await?;
        let got = run(strata, sql).await?;
        if expected != got {
            failures.push(format!(
                "{sql}\n  MariaDB: {}  Strata: {}",
                expected.describe(10),
                got.describe(10)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_statements_of_several_accounts_change_those_they_can() -> TestResult {
    let (node, mut strata, mut reference) = sides("manyusers").await?;
    // The same names on both sides: Strata's accounts are its own, not the storage
    // server's.
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|p| unique_name(&format!("o1{p}")));
    let list = "SELECT user FROM mysql.user WHERE user LIKE 'o1%' ORDER BY user".to_string();
    let statements = [
        format!("CREATE USER {a}"),
        // a exists: b is created all the same, and the error names a.
        format!("CREATE USER {a}, {b}"),
        format!("CREATE USER {b}"),
        list.clone(),
        // Two fail: both named, in the statement's order.
        format!("CREATE USER {c}, {a}, {d}, {b}"),
        list.clone(),
        format!("ALTER USER {c} IDENTIFIED BY 'x', {e} IDENTIFIED BY 'y'"),
        format!("RENAME USER {e} TO {a}, {d} TO {e}"),
        list.clone(),
        format!("DROP USER {a}, {b}, {d}"),
        list.clone(),
        format!("DROP USER {d}, {b}"),
        format!("DROP USER IF EXISTS {a}, {b}, {c}, {d}, {e}"),
        list,
    ];
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    same_answers(&mut strata, &mut reference, &statements).await?;
    // The messages name the accounts MariaDB's way.
    let Outcome::Error { code, message } = run(&mut strata, &format!("DROP USER {a}, {b}")).await?
    else {
        panic!("DROP USER of missing accounts succeeded");
    };
    assert_eq!(code, 1396);
    assert_eq!(
        message,
        format!("Operation DROP USER failed for '{a}'@'%','{b}'@'%'")
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_list_shows_the_statement_a_call_runs() -> TestResult {
    let (node, mut strata, _reference) = sides("callinfo").await?;
    let db: Option<String> = strata.query_first("SELECT DATABASE()").await?;
    let db = db.ok_or("no database")?;
    run_all(
        &mut strata,
        &[
            "CREATE TABLE t1 (id1 INT, val INT)",
            "CREATE TABLE t2 (id2 INT)",
            "CREATE PROCEDURE p() UPDATE t1, t2 SET val = 1 WHERE id1 = id2",
        ],
    )
    .await?;
    let mut locker = node.connect(Some(&db)).await?;
    locker.query_drop("LOCK TABLES t2 WRITE").await?;
    let id: Option<u64> = strata.query_first("SELECT CONNECTION_ID()").await?;
    let id = id.ok_or("no connection id")?;
    let call = tokio::spawn(async move {
        let result = strata.query_drop("CALL p()").await;
        (strata, result)
    });
    // MariaDB shows the body's statement waiting, not the CALL (sp-threads, Bug#9486).
    let query = format!(
        "SELECT STATE, INFO FROM information_schema.PROCESSLIST WHERE ID = {id} \
         AND STATE = 'Waiting for table metadata lock'"
    );
    let mut seen: Option<(String, String)> = None;
    for _ in 0..100 {
        seen = locker.query_first(&query).await?;
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    locker.query_drop("UNLOCK TABLES").await?;
    let (mut strata, result) = call.await?;
    result?;
    let (_, info) = seen.ok_or("the CALL never waited")?;
    assert_eq!(info, "UPDATE t1, t2 SET val = 1 WHERE id1 = id2");
    // Its own process list row shows the statement it runs: no CALL there.
    let own: Option<String> = strata
        .query_first(format!(
            "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = {id}"
        ))
        .await?;
    assert!(
        own.as_deref().is_some_and(|i| i.starts_with("SELECT INFO")),
        "{own:?}"
    );
    node.shutdown().await;
    Ok(())
}

/// Polls `sql` (one row, one column) on `c` until it answers `want`, for up to ten
/// seconds; the last answer.
async fn wait_for(c: &mut Conn, sql: &str, want: i64) -> TestResult<Option<i64>> {
    let mut got = None;
    for _ in 0..100 {
        got = c.query_first(sql).await?;
        if got == Some(want) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_ends_a_statement_that_kill_query_does_not_stop() -> TestResult {
    let (node, mut strata, _reference) = sides("killloop").await?;
    let db: Option<String> = strata.query_first("SELECT DATABASE()").await?;
    let db = db.ok_or("no database")?;
    let id: Option<u64> = strata.query_first("SELECT CONNECTION_ID()").await?;
    let id = id.ok_or("no connection id")?;
    // MariaDB's KILL QUERY does not stop this loop (each statement starts afresh); its
    // KILL ends the connection (information_schema_tables, MDEV-25243).
    let looping = tokio::spawn(async move {
        strata
            .query_drop("LOOP CREATE OR REPLACE VIEW vv AS SELECT 1; END LOOP")
            .await
    });
    let mut admin = node.connect(Some(&db)).await?;
    let running = format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id}");
    assert_eq!(wait_for(&mut admin, &running, 1).await?, Some(1));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    admin.query_drop(format!("KILL {id}")).await?;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), looping).await;
    let outcome = ended.map_err(|_| "the killed session's loop went on")??;
    assert!(outcome.is_err(), "the loop ended without an error");
    assert_eq!(wait_for(&mut admin, &running, 0).await?, Some(0));
    admin.query_drop("DROP VIEW vv").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_list_shows_a_statement_without_its_final_semicolon() -> TestResult {
    let (node, mut strata, _reference) = sides("infotrim").await?;
    let lock = unique_name("o1lock");
    let id: Option<u64> = strata.query_first("SELECT CONNECTION_ID()").await?;
    let id = id.ok_or("no connection id")?;
    let mut holder = node.connect(None).await?;
    holder
        .query_drop(format!("SELECT GET_LOCK('{lock}', 0)"))
        .await?;
    let wait = format!("SELECT GET_LOCK('{lock}', 30)");
    let sent = format!("  {wait} ; ");
    let waiting = tokio::spawn(async move {
        let result = strata.query_drop(sent).await;
        (strata, result)
    });
    // MariaDB keeps the text without the blanks around it and the `;` after it
    // (dirty_close waits for `INFO = "SELECT GET_LOCK('dangling', 3600)"`).
    let count = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id} \
         AND STATE = 'User lock' AND INFO = '{}'",
        wait.replace('\'', "''")
    );
    let seen = wait_for(&mut holder, &count, 1).await?;
    holder
        .query_drop(format!("SELECT RELEASE_LOCK('{lock}')"))
        .await?;
    let (_strata, result) = waiting.await?;
    result?;
    assert_eq!(seen, Some(1));
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executable_comment_without_code_is_answered_ok() -> TestResult {
    let (node, mut strata, mut reference) = sides("execcomment").await?;
    // The mariadb client sends `/*!*/` for `/*!\C cp932 */` (mysql_cp932).
    same_answers(
        &mut strata,
        &mut reference,
        &[
            "/*!*/",
            "/*!40101 */",
            "/*M!100100 */ /* c */",
            "/*!*/ SELECT 1",
            "",
        ],
    )
    .await?;
    node.shutdown().await;
    Ok(())
}
