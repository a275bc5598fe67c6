//! The status counters of the client's connection come from the compute node, not from
//! the storage connection (which sees Strata's own statements and not those Strata
//! answers itself): `Questions` and `Com_*` count what the client sent exactly as a
//! plain MariaDB counts the same statements; `Aborted_clients` counts sessions dropped
//! without COM_QUIT and killed ones (mariadb-test's aborted_clients); FLUSH STATUS
//! resets the session's counters; the GLOBAL values sum over the sessions.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestResult;
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, ComputeNode};

/// The counters compared with the plain MariaDB.
const COMPARED: &[&str] = &[
    "Questions",
    "Com_select",
    "Com_set_option",
    "Com_show_status",
    "Com_show_variables",
    "Com_change_db",
    "Com_do",
    "Com_insert",
    "Com_create_table",
    "Com_drop_table",
    "Com_begin",
    "Com_commit",
    "Com_stmt_prepare",
    "Com_stmt_execute",
    "Com_admin_commands",
];

/// The client's statements, run the same way on both sides (some of them Strata
/// answers itself, without its storage connection).
const STATEMENTS: &[&str] = &[
    "SELECT @@version",
    "SET NAMES utf8mb4",
    "SELECT 1",
    "SELECT @@session.autocommit, DATABASE()",
    "SHOW VARIABLES LIKE 'version'",
    "SET @a = 1",
    "DO 1",
    "CREATE TABLE sc_t (a INT PRIMARY KEY)",
    "BEGIN",
    "INSERT INTO sc_t VALUES (1)",
    "COMMIT",
    "SELECT a FROM sc_t",
    "SHOW SESSION STATUS LIKE 'Com_select'",
    "DROP TABLE sc_t",
];

/// The session (or global) status values of `names` on `c`.
async fn status(c: &mut Conn, scope: &str, names: &[&str]) -> TestResult<BTreeMap<String, u64>> {
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<(String, String)> = c
        .query(format!(
            "SHOW {scope} STATUS WHERE Variable_name IN ({list})"
        ))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(n, v)| (n, v.parse().unwrap_or(u64::MAX)))
        .collect())
}

/// One status value of `c`.
async fn one(c: &mut Conn, scope: &str, name: &str) -> TestResult<u64> {
    status(c, scope, &[name])
        .await?
        .get(name)
        .copied()
        .ok_or_else(|| format!("no {name}").into())
}

/// The statements, a prepared statement and a ping on `c`, after FLUSH STATUS; then
/// the compared counters.
async fn workload(c: &mut Conn) -> TestResult<BTreeMap<String, u64>> {
    c.query_drop("FLUSH STATUS").await?;
    for sql in STATEMENTS {
        c.query_drop(*sql).await?;
    }
    let stmt = c.prep("SELECT ? + 1").await?;
    let _: Option<i64> = c.exec_first(&stmt, (1,)).await?;
    let _: Option<i64> = c.exec_first(&stmt, (2,)).await?;
    c.ping().await?;
    status(c, "SESSION", COMPARED).await
}

/// Waits until the compute node has `n` client sessions.
async fn wait_sessions(c: &mut Conn, n: u64) -> TestResult {
    let start = Instant::now();
    while one(c, "GLOBAL", "Threads_connected").await? != n {
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!("never {n} sessions").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_and_com_counters_count_the_clients_statements_as_mariadb_does() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = format!("status_ref_{}", std::process::id());
    storage.create_database(&db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&db))).await?;
    let mut strata = node.connect(Some("test")).await?;
    let want = workload(&mut reference).await?;
    let got = workload(&mut strata).await?;
    assert_eq!(
        got, want,
        "Strata's counters (left) against MariaDB's (right)"
    );
    // information_schema answers the same values.
    let questions: Option<String> = strata
        .query_first(
            "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
             WHERE VARIABLE_NAME = 'QUESTIONS'",
        )
        .await?;
    let expected = want.get("Questions").copied().unwrap_or(0) + 1;
    assert_eq!(questions, Some(expected.to_string()));
    // A Com_ counter of statements Strata never sent is the client's, not the storage
    // connection's.
    assert_eq!(one(&mut strata, "SESSION", "Com_show_warnings").await?, 0);
    // Bytes the client sent and received on this connection.
    assert!(one(&mut strata, "SESSION", "Bytes_received").await? > 0);
    assert!(one(&mut strata, "SESSION", "Bytes_sent").await? > 0);
    reference.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_status_resets_the_sessions_counters_not_the_sums() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    for _ in 0..5 {
        c.query_drop("SELECT 1").await?;
    }
    let global_before = one(&mut c, "GLOBAL", "Questions").await?;
    c.query_drop("FLUSH STATUS").await?;
    // The SHOW counts itself, as in MariaDB (status2.result).
    assert_eq!(one(&mut c, "SESSION", "Questions").await?, 1);
    assert_eq!(one(&mut c, "SESSION", "Com_select").await?, 0);
    assert_eq!(one(&mut c, "SESSION", "Com_show_status").await?, 3);
    assert!(one(&mut c, "GLOBAL", "Questions").await? >= global_before + 4);
    assert!(one(&mut c, "GLOBAL", "Com_select").await? >= 5);
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_counters_sum_over_sessions() -> TestResult {
    let (node, mut watcher) = common::node_and_conn(1).await?;
    let mut a = node.connect(Some("test")).await?;
    let mut b = node.connect(Some("test")).await?;
    // The client library's own SELECT at connect counts too.
    let a_selects = one(&mut a, "SESSION", "Com_select").await?;
    let before = status(
        &mut watcher,
        "GLOBAL",
        &["Questions", "Com_select", "Connections"],
    )
    .await?;
    for _ in 0..3 {
        a.query_drop("SELECT 1").await?;
    }
    for _ in 0..2 {
        b.query_drop("SELECT @@version").await?;
    }
    let after = status(
        &mut watcher,
        "GLOBAL",
        &["Questions", "Com_select", "Connections"],
    )
    .await?;
    // Five statements, and the watcher's second SHOW.
    assert_eq!(after["Questions"] - before["Questions"], 6);
    assert_eq!(after["Com_select"] - before["Com_select"], 5);
    assert_eq!(after["Connections"], before["Connections"]);
    assert_eq!(one(&mut a, "SESSION", "Com_select").await?, a_selects + 3);
    assert_eq!(one(&mut watcher, "GLOBAL", "Threads_connected").await?, 3);
    assert!(one(&mut watcher, "GLOBAL", "Max_used_connections").await? >= 3);
    // A refused login is a connection attempt and an aborted connect.
    let connects = one(&mut watcher, "GLOBAL", "Aborted_connects").await?;
    let mut wrong = mysql_async::OptsBuilder::from_opts(node.opts(None));
    wrong = wrong.pass(Some("not the password"));
    assert!(Conn::new(wrong).await.is_err());
    // Counted when the server ends the refused connection, which the client does not
    // wait for.
    let mut aborted = 0;
    for _ in 0..100 {
        aborted = one(&mut watcher, "GLOBAL", "Aborted_connects").await?;
        if aborted > connects {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(aborted, connects + 1);
    assert_eq!(
        one(&mut watcher, "GLOBAL", "Connections").await?,
        after["Connections"] + 1
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_clients_counts_dropped_and_killed_sessions_not_quit_ones() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    c.query_drop("FLUSH STATUS").await?;
    // COM_QUIT: not aborted.
    let quits = node.connect(None).await?;
    quits.disconnect().await?;
    wait_sessions(&mut c, 1).await?;
    assert_eq!(one(&mut c, "GLOBAL", "Aborted_clients").await?, 0);
    // KILL CONNECTION of itself (aborted_clients.test): aborted, as in MariaDB.
    let mut killed = node.connect(None).await?;
    let e = killed.query_drop("KILL CONNECTION_ID()").await;
    assert_eq!(e.as_ref().err().and_then(common::code_of), Some(1927));
    drop(killed);
    wait_sessions(&mut c, 1).await?;
    assert_eq!(one(&mut c, "GLOBAL", "Aborted_clients").await?, 1);
    // KILL of another session: aborted too.
    let mut other = node.connect(None).await?;
    let id = other.id();
    c.query_drop(format!("KILL CONNECTION {id}")).await?;
    assert!(common::is_closed_soon(&mut other).await);
    wait_sessions(&mut c, 1).await?;
    assert_eq!(one(&mut c, "GLOBAL", "Aborted_clients").await?, 2);
    // A client that goes away without COM_QUIT (its process killed).
    let mut client = Command::new("mariadb")
        .args(common::root_client_args(node.service_addr()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    wait_sessions(&mut c, 2).await?;
    client.kill()?;
    client.wait()?;
    wait_sessions(&mut c, 1).await?;
    assert_eq!(one(&mut c, "GLOBAL", "Aborted_clients").await?, 3);
    // FLUSH STATUS resets it, as MariaDB's does.
    c.query_drop("FLUSH STATUS").await?;
    assert_eq!(one(&mut c, "GLOBAL", "Aborted_clients").await?, 0);
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_profiles_are_refused_not_the_storage_connections() -> TestResult {
    // The storage connection would list Strata's statements, not the client's.
    let (node, mut c) = common::node_and_conn(1).await?;
    c.query_drop("SET profiling = 1").await?;
    c.query_drop("SELECT 1").await?;
    for sql in ["SHOW PROFILES", "SHOW PROFILE FOR QUERY 1"] {
        let (code, message) = common::error_of(&mut c, sql).await;
        assert_eq!(code, Some(1235), "{sql}: {message}");
    }
    node.shutdown().await;
    Ok(())
}

/// Statements that return no row (and some that do, or fail) on `c`, after FLUSH
/// STATUS; then `Empty_queries` and the counters COM_RESET_CONNECTION resets, before
/// and after one.
async fn empty_and_reset(c: &mut Conn) -> TestResult<Vec<(String, u64)>> {
    c.query_drop("FLUSH STATUS").await?;
    c.query_drop("CREATE TABLE eq_t (a INT)").await?;
    c.query_drop("SELECT COUNT(*) FROM eq_t").await?;
    c.query_drop("SELECT * FROM eq_t").await?;
    c.query_drop("SELECT * FROM eq_t LIMIT 0").await?;
    // A failed SELECT is no empty query (empty_table.test).
    assert!(c.query_drop("SELECT * FROM eq_missing").await.is_err());
    c.query_drop("SHOW STATUS LIKE 'no_such_counter'").await?;
    c.query_drop("SHOW TABLES LIKE 'eq_none'").await?;
    c.query_drop("INSERT INTO eq_t VALUES (1)").await?;
    c.query_drop("SELECT * FROM eq_t WHERE a = 2").await?;
    c.query_drop("SELECT * FROM eq_t").await?;
    let stmt = c.prep("SELECT a FROM eq_t WHERE a = ?").await?;
    let _: Option<i64> = c.exec_first(&stmt, (5,)).await?;
    c.query_drop("DROP TABLE eq_t").await?;
    let names = ["Empty_queries", "Com_select", "Questions"];
    let mut seen: Vec<(String, u64)> = status(c, "SESSION", &names).await?.into_iter().collect();
    assert!(c.reset().await?, "COM_RESET_CONNECTION sent");
    let after = status(
        c,
        "SESSION",
        &[
            "Empty_queries",
            "Com_select",
            "Questions",
            "Com_show_status",
        ],
    );
    seen.extend(
        after
            .await?
            .into_iter()
            .map(|(n, v)| (format!("{n} after reset"), v)),
    );
    Ok(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_queries_and_reset_connection_count_as_mariadb_does() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = format!("status_empty_{}", std::process::id());
    storage.create_database(&db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&db))).await?;
    let mut strata = node.connect(Some("test")).await?;
    let want = empty_and_reset(&mut reference).await?;
    let got = empty_and_reset(&mut strata).await?;
    assert_eq!(
        got, want,
        "Strata's counters (left) against MariaDB's (right)"
    );
    // Checked to mean something: the empty reads counted.
    assert!(want.contains(&("Empty_queries".into(), 5)), "{want:?}");
    reference.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

/// information_schema's status, process list, role and trace tables are rows of the
/// moment Strata answers: in a stored body or a prepared statement they would keep the
/// values of the moment it was defined (a procedure reading `Questions` read the same
/// number for ever), so those are refused; run now, or over other tables, they work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_tables_are_not_frozen_into_stored_bodies_or_prepared_statements() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    let questions =
        "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Questions'";
    for sql in [
        format!("CREATE PROCEDURE frozen_q() {questions}"),
        format!("CREATE FUNCTION frozen_f() RETURNS INT READS SQL DATA RETURN ({questions})"),
        "CREATE VIEW frozen_v AS SELECT * FROM information_schema.PROCESSLIST".to_string(),
        format!("PREPARE frozen_s FROM \"{questions}\""),
    ] {
        let err = c
            .query_drop(&sql)
            .await
            .expect_err("a frozen status read must be refused");
        let text = err.to_string();
        // (The testkit's physical names differ from the logical ones: a prepared read of
        // information_schema is refused for that already.)
        assert!(text.contains("1235"), "{sql}: {text}");
    }
    let err = c.exec_drop(questions, ()).await.expect_err("prepared");
    assert!(err.to_string().contains("1235"), "{err}");
    // Now, and other information_schema tables in bodies, as before.
    let first: Option<u64> = c.query_first(questions).await?;
    let second: Option<u64> = c.query_first(questions).await?;
    assert!(second > first, "{first:?} then {second:?}");
    c.query_drop(
        "CREATE PROCEDURE tables_p() SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    .await?;
    c.query_drop("CALL tables_p()").await?;
    c.query_drop("DROP PROCEDURE tables_p").await?;
    node.shutdown().await;
    Ok(())
}
