//! End-to-end behaviour of client sessions through a compute node over real MariaDB
//! storage nodes, with mysql_async as the client.

mod common;

use common::{assert_lists_only_test, node_and_conn, node_on_shared, physical_test_db, TestResult};
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, OptsBuilder, Row};
use strata_testkit::{shared_storage, ComputeNode, ROOT_USER};

/// A compute node on one storage node whose pool holds at most `max_size` storage
/// connections and keeps none idle, so that sessions share them.
async fn small_pool(max_size: u32) -> TestResult<ComputeNode> {
    Ok(ComputeNode::configured(1, move |c| {
        c.pool.max_size = max_size;
        c.pool.min_idle = 0
    })
    .await?)
}

fn server_error(e: &mysql_async::Error) -> Option<(u16, String, String)> {
    match e {
        mysql_async::Error::Server(s) => Some((s.code, s.state.clone(), s.message.clone())),
        _ => None,
    }
}

#[tokio::test]
async fn crud_and_transactions_behave_as_on_mysql() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    c.query_drop(
        "CREATE TABLE account (id INT PRIMARY KEY, owner VARCHAR(20), balance DECIMAL(12,2))",
    )
    .await?;
    c.query_drop("INSERT INTO account VALUES (1, 'ann', 10.50), (2, 'bob', 20.00), (3, NULL, 0)")
        .await?;
    let rows: Vec<(i32, Option<String>, String)> = c
        .query("SELECT id, owner, CAST(balance AS CHAR) FROM account ORDER BY id")
        .await?;
    assert_eq!(
        rows,
        vec![
            (1, Some("ann".into()), "10.50".into()),
            (2, Some("bob".into()), "20.00".into()),
            (3, None, "0.00".into())
        ]
    );

    c.query_drop("UPDATE account SET balance = balance + 1 WHERE id = 2")
        .await?;
    assert_eq!(c.affected_rows(), 1);
    c.query_drop("DELETE FROM account WHERE owner IS NULL")
        .await?;
    assert_eq!(c.affected_rows(), 1);

    c.query_drop("BEGIN").await?;
    c.query_drop("INSERT INTO account VALUES (4, 'cy', 1)")
        .await?;
    c.query_drop("ROLLBACK").await?;
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM account WHERE id = 4")
        .await?;
    assert_eq!(n, Some(0), "a rolled back insert is gone");

    c.query_drop("START TRANSACTION").await?;
    c.query_drop("INSERT INTO account VALUES (5, 'di', 1)")
        .await?;
    c.query_drop("COMMIT").await?;
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM account WHERE id = 5")
        .await?;
    assert_eq!(n, Some(1), "a committed insert stays");

    let dup = c
        .query_drop("INSERT INTO account VALUES (1, 'again', 0)")
        .await
        .expect_err("duplicate key");
    assert_eq!(server_error(&dup).map(|e| e.0), Some(1062));
    let syntax = c.query_drop("SELEC 1").await.expect_err("syntax error");
    assert_eq!(
        server_error(&syntax).map(|e| (e.0, e.1)),
        Some((1064, "42000".to_string()))
    );
    let value: Option<i64> = c.query_first("SELECT 41 + 1").await?;
    assert_eq!(value, Some(42), "the session goes on after errors");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn transactions_stay_on_one_storage_connection_while_other_sessions_share_the_pool(
) -> TestResult {
    let node = small_pool(2).await?;
    let mut a = node.connect(Some("test")).await?;
    let mut b = node.connect(Some("test")).await?;
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(node.connect(Some("test")).await?);
    }
    a.query_drop("CREATE TABLE t (id INT PRIMARY KEY)").await?;
    a.query_drop("BEGIN").await?;
    a.query_drop("INSERT INTO t VALUES (1)").await?;
    // Other sessions keep working through the one remaining pooled connection.
    for o in &mut others {
        let n: Option<i64> = o.query_first("SELECT COUNT(*) FROM t").await?;
        assert_eq!(
            n,
            Some(0),
            "uncommitted rows are invisible to other sessions"
        );
    }
    let seen: Option<i64> = a.query_first("SELECT COUNT(*) FROM t").await?;
    assert_eq!(seen, Some(1), "the transaction sees its own insert");
    a.query_drop("COMMIT").await?;
    let n: Option<i64> = b.query_first("SELECT COUNT(*) FROM t").await?;
    assert_eq!(n, Some(1));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn session_variables_follow_the_session_across_pooled_connections() -> TestResult {
    let node = small_pool(1).await?;
    let mut a = node.connect(Some("test")).await?;
    let mut b = node.connect(Some("test")).await?;
    a.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES', time_zone = '+05:00'")
        .await?;
    for _ in 0..3 {
        let (mode, tz): (String, String) = a
            .query_first("SELECT @@sql_mode, @@time_zone")
            .await?
            .ok_or("row")?;
        assert_eq!((mode.as_str(), tz.as_str()), ("ANSI_QUOTES", "+05:00"));
        let tz_b: Option<String> = b.query_first("SELECT @@time_zone").await?;
        assert_eq!(
            tz_b.as_deref(),
            Some("SYSTEM"),
            "another session keeps the defaults"
        );
    }
    let bad = a
        .query_drop("SET time_zone = 'Mars/Olympus'")
        .await
        .expect_err("invalid zone");
    assert_eq!(server_error(&bad).map(|e| e.0), Some(1298));
    let tz: Option<String> = a.query_first("SELECT @@time_zone").await?;
    assert_eq!(
        tz.as_deref(),
        Some("+05:00"),
        "a failed SET changes nothing"
    );
    a.query_drop("SET sql_mode = CONCAT(@@sql_mode, ',NO_ZERO_DATE')")
        .await?;
    b.query_drop("SET sql_mode = 'PIPES_AS_CONCAT'").await?;
    for _ in 0..2 {
        let mode: Option<String> = a.query_first("SELECT @@sql_mode").await?;
        assert_eq!(
            mode.as_deref(),
            Some("ANSI_QUOTES,NO_ZERO_DATE"),
            "an expression is replayed as its value"
        );
        let mode: Option<String> = b.query_first("SELECT @@sql_mode").await?;
        assert_eq!(mode.as_deref(), Some("PIPES_AS_CONCAT"));
    }
    a.query_drop("SET autocommit = 0").await?;
    let ac: Option<i64> = a.query_first("SELECT @@autocommit").await?;
    assert_eq!(ac, Some(0));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn logical_names_are_shown_and_physical_names_never_leak() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let physical = physical_test_db(&node)?;
    assert_ne!(physical, "test");
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE gadgets (id INT PRIMARY KEY)")
        .await?;
    assert_lists_only_test(&mut c, "SHOW DATABASES").await?;
    let db: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(db.as_deref(), Some("test"));
    let result = c.query_iter("SHOW TABLES").await?;
    let columns: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    assert_eq!(columns, vec!["Tables_in_test".to_string()]);
    let tables: Vec<String> = result.collect_and_drop().await?;
    assert_eq!(tables, vec!["gadgets".to_string()]);
    let result = c.query_iter("SELECT id FROM gadgets").await?;
    let schemas: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|c| c.schema_str().into_owned())
        .collect();
    assert_eq!(
        schemas,
        vec!["test".to_string()],
        "column definitions name the logical database"
    );
    result.drop_result().await?;
    let stmt = c.prep("SELECT id FROM gadgets WHERE id = ?").await?;
    let schemas: Vec<String> = stmt
        .columns()
        .iter()
        .map(|c| c.schema_str().into_owned())
        .collect();
    assert_eq!(schemas, vec!["test".to_string()]);
    let err = c
        .query_drop("SELECT * FROM no_such_table")
        .await
        .expect_err("missing table");
    assert_eq!(
        server_error(&err).map(|e| (e.0, e.2)),
        Some((1146, "Table 'test.no_such_table' doesn't exist".to_string()))
    );
    let err = c
        .exec_drop("SELECT * FROM no_such_table WHERE id = ?", (1,))
        .await
        .expect_err("missing table");
    assert_eq!(
        server_error(&err).map(|e| e.2),
        Some("Table 'test.no_such_table' doesn't exist".to_string())
    );
    let tables: Vec<(String, String)> = c
        .query("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'test'")
        .await?;
    assert_eq!(
        tables,
        vec![("test".to_string(), "gadgets".to_string())],
        "information_schema speaks logical names"
    );
    let columns: Vec<(String, String)> = c
        .query("SELECT table_schema, column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'gadgets'")
        .await?;
    assert_eq!(columns, vec![("test".to_string(), "id".to_string())]);
    let qualified: Option<i64> = c.query_first("SELECT COUNT(*) FROM test.gadgets").await?;
    assert_eq!(
        qualified,
        Some(0),
        "logical qualifiers are rewritten to physical ones"
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn wrong_password_and_unknown_database_are_refused_with_mysql_errors() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let addr = node.service_addr();
    let wrong = OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        .user(Some(ROOT_USER))
        .pass(Some("not-the-password"))
        .prefer_socket(false);
    let err = Conn::new(Opts::from(wrong))
        .await
        .expect_err("wrong password");
    let (code, state, message) = server_error(&err).ok_or("server error")?;
    assert_eq!((code, state.as_str()), (1045, "28000"));
    assert_eq!(
        message,
        "Access denied for user 'root'@'localhost' (using password: YES)"
    );

    let err = Conn::new(node.opts(Some("no_such_db")))
        .await
        .expect_err("unknown database");
    assert_eq!(
        server_error(&err).map(|e| (e.0, e.2)),
        Some((1049, "Unknown database 'no_such_db'".to_string()))
    );

    let mut c = node.connect(None).await?;
    let err = c
        .query_drop("USE no_such_db")
        .await
        .expect_err("unknown database");
    assert_eq!(server_error(&err).map(|e| e.0), Some(1049));
    c.query_drop("USE test").await?;
    let one: Option<i64> = c.query_first("SELECT 1").await?;
    assert_eq!(one, Some(1), "the server keeps serving");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn driver_connect_queries_are_answered() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    let row: Row = c.query_first("SELECT @@version, @@version_comment, @@max_allowed_packet, CONNECTION_ID(), @@session.tx_isolation, @@session.transaction_isolation").await?.ok_or("row")?;
    let version: String = row.get(0).ok_or("version")?;
    assert!(
        version.contains("MariaDB"),
        "the storage version: {version}"
    );
    let comment: String = row.get(1).ok_or("comment")?;
    assert!(comment.starts_with("Strata "), "{comment}");
    let packet: i64 = row.get(2).ok_or("packet")?;
    assert_eq!(packet, 64 * 1024 * 1024);
    let id: u64 = row.get(3).ok_or("id")?;
    assert_eq!(id, u64::from(c.id()));
    let iso: String = row.get(4).ok_or("isolation")?;
    assert_eq!(iso, "REPEATABLE-READ");
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await?;
    let iso: Option<String> = c.query_first("SELECT @@tx_isolation").await?;
    assert_eq!(iso.as_deref(), Some("READ-COMMITTED"));
    let vars: Vec<(String, String)> = c.query("SHOW VARIABLES LIKE 'max_connections'").await?;
    assert_eq!(vars.len(), 1);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn last_insert_id_survives_connection_multiplexing() -> TestResult {
    let node = small_pool(2).await?;
    let mut a = node.connect(Some("test")).await?;
    let mut b = node.connect(Some("test")).await?;
    a.query_drop("CREATE TABLE seq (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
        .await?;
    a.query_drop("INSERT INTO seq (v) VALUES (1)").await?;
    assert_eq!(a.last_insert_id(), Some(1));
    b.query_drop("INSERT INTO seq (v) VALUES (2), (3)").await?;
    assert_eq!(
        b.last_insert_id(),
        Some(2),
        "a multi-row insert reports its first id"
    );
    let a_id: Option<u64> = a.query_first("SELECT LAST_INSERT_ID()").await?;
    assert_eq!(a_id, Some(1));
    let b_id: Option<u64> = b.query_first("SELECT LAST_INSERT_ID()").await?;
    assert_eq!(b_id, Some(2));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn prepared_statements_run_on_any_pooled_connection() -> TestResult {
    let node = small_pool(3).await?;
    let mut c = node.connect(Some("test")).await?;
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(node.connect(Some("test")).await?);
    }
    c.query_drop("CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(100), d DATETIME NULL)")
        .await?;
    let insert = c.prep("INSERT INTO kv (k, v, d) VALUES (?, ?, ?)").await?;
    for k in 0..20 {
        c.exec_drop(&insert, (k, format!("value {k}"), mysql_async::Value::NULL))
            .await?;
        // Interleave other sessions so the next execute likely lands on another connection.
        let o = &mut others[k as usize % 3];
        let _: Option<i64> = o.query_first("SELECT COUNT(*) FROM kv").await?;
    }
    let select = c.prep("SELECT v FROM kv WHERE k = ?").await?;
    for k in [0, 7, 19] {
        let v: Option<String> = c.exec_first(&select, (k,)).await?;
        assert_eq!(v, Some(format!("value {k}")));
    }
    let none: Option<String> = c.exec_first(&select, (1000,)).await?;
    assert_eq!(none, None);
    let big = "x".repeat(300_000);
    c.exec_drop("UPDATE kv SET v = LEFT(?, 100) WHERE k = 1", (big.clone(),))
        .await?;
    let v: Option<String> = c.exec_first(&select, (1,)).await?;
    assert_eq!(v.map(|s| s.len()), Some(100));
    c.close(select).await?;
    let err = c
        .exec_drop("INSERT INTO kv (k, v) VALUES (?, ?)", (0, "dup"))
        .await
        .expect_err("duplicate");
    assert_eq!(server_error(&err).map(|e| e.0), Some(1062));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn multi_statements_return_every_result_in_order() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    let mut result = c
        .query_iter("SELECT 1 AS a; SET @x = 5; SELECT @x + 1 AS b; SELECT DATABASE()")
        .await?;
    let first: Vec<i64> = result.collect().await?;
    assert_eq!(first, vec![1]);
    let second: Vec<Row> = result.collect().await?;
    assert!(second.is_empty(), "SET returns no rows");
    let third: Vec<i64> = result.collect().await?;
    assert_eq!(third, vec![6]);
    let fourth: Vec<String> = result.collect().await?;
    assert_eq!(fourth, vec!["test".to_string()]);
    drop(result);
    let err = c
        .query_drop("SELECT 1; SELEC 2; SELECT 3")
        .await
        .expect_err("second statement fails");
    assert_eq!(server_error(&err).map(|e| e.0), Some(1064));
    let ok: Option<i64> = c.query_first("SELECT 7").await?;
    assert_eq!(ok, Some(7));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn packets_over_16_mib_pass_both_ways() -> TestResult {
    let storage = shared_storage(1).await?;
    let mut direct = storage.connect(0, None).await?;
    direct
        .query_drop("SET GLOBAL max_allowed_packet = 256 * 1024 * 1024")
        .await?;
    drop(direct);
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
        .await?;
    let payload: Vec<u8> = (0..(17 * 1024 * 1024 + 3))
        .map(|i| (i % 251) as u8)
        .collect();
    c.exec_drop("INSERT INTO blobs VALUES (1, ?)", (payload.clone(),))
        .await?;
    let back: Option<Vec<u8>> = c.query_first("SELECT b FROM blobs WHERE id = 1").await?;
    assert_eq!(back.as_ref().map(Vec::len), Some(payload.len()));
    assert!(back == Some(payload), "the blob comes back byte for byte");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn kill_query_and_kill_connection_work_on_strata_ids() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let mut victim = node.connect(Some("test")).await?;
    let mut killer = node.connect(Some("test")).await?;
    let victim_id = victim.id();
    let sleeper = tokio::spawn(async move {
        let r: Result<Option<i64>, _> = victim.query_first("SELECT SLEEP(20)").await;
        (victim, r)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    killer.query_drop(format!("KILL QUERY {victim_id}")).await?;
    let (mut victim, r) = sleeper.await?;
    match r {
        Ok(v) => assert_eq!(v, Some(1), "an interrupted SLEEP returns 1"),
        Err(e) => assert_eq!(server_error(&e).map(|e| e.0), Some(1317)),
    }
    let alive: Option<i64> = victim.query_first("SELECT 5").await?;
    assert_eq!(alive, Some(5), "KILL QUERY keeps the connection");

    killer.query_drop(format!("KILL {victim_id}")).await?;
    let gone = victim.query_drop("SELECT 1").await;
    assert!(gone.is_err(), "a killed connection is closed");
    let err = killer
        .query_drop("KILL 999999")
        .await
        .expect_err("unknown id");
    assert_eq!(
        server_error(&err).map(|e| (e.0, e.2)),
        Some((1094, "Unknown thread id: 999999".to_string()))
    );
    node.shutdown().await;
    Ok(())
}

/// `KILL expression` (sp-bugs: `KILL (('x' IN (SELECT 1)) MOD 44)`): the expression's
/// value as a signed integer read unsigned is the id, as MariaDB reads it; a user
/// variable holds a Strata connection id.
#[tokio::test]
async fn kill_of_an_expression_takes_its_value_as_the_id() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let mut victim = node.connect(Some("test")).await?;
    let mut killer = node.connect(Some("test")).await?;
    for (sql, id) in [
        ("KILL  (('x' IN ( SELECT 1)) MOD 44)", "0"),
        ("KILL QUERY -1", "18446744073709551615"),
        ("KILL 999990 + 9", "999999"),
        ("KILL NULL", "0"),
        ("KILL 'abc'", "0"),
        ("KILL 999998.6", "999999"),
        ("KILL 9223372036854775808", "9223372036854775808"),
    ] {
        let err = killer.query_drop(sql).await.expect_err(sql);
        assert_eq!(
            server_error(&err).map(|e| (e.0, e.2)),
            Some((1094, format!("Unknown thread id: {id}"))),
            "{sql}"
        );
    }
    killer
        .query_drop(format!("SET @victim = {}", victim.id()))
        .await?;
    killer.query_drop("KILL CONNECTION @victim + 0").await?;
    assert!(victim.query_drop("SELECT 1").await.is_err(), "killed");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn change_user_and_reset_connection_clear_session_state() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    c.query_drop("SET @v = 10").await?;
    c.query_drop("SET time_zone = '+01:00'").await?;
    c.reset().await?;
    let (v, tz): (Option<i64>, String) = c
        .query_first("SELECT @v, @@time_zone")
        .await?
        .ok_or("row")?;
    assert_eq!((v, tz.as_str()), (None, "SYSTEM"));
    c.change_user(mysql_async::ChangeUserOpts::default().with_db_name(Some("test".into())))
        .await?;
    let db: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(db.as_deref(), Some("test"));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_failed_change_user_keeps_the_connection_and_the_third_ends_the_command() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    let me: Option<String> = c.query_first("SELECT CURRENT_USER()").await?;
    c.query_drop("SET @v = 10").await?;
    let bad = |user: &str, password: Option<&str>| {
        mysql_async::ChangeUserOpts::default()
            .with_user(Some(user.into()))
            .with_pass(password.map(Into::into))
    };
    // change_user_notembedded (MDEV-3915): 1045, the session keeps its account and
    // database (its state is reset, as MariaDB's), and goes on.
    for password in [Some("bar"), None] {
        let e = c.change_user(bad("foo", password)).await.expect_err("foo");
        assert_eq!(common::code_of(&e), Some(1045), "{e}");
        let user: Option<String> = c.query_first("SELECT CURRENT_USER()").await?;
        let db: Option<String> = c.query_first("SELECT DATABASE()").await?;
        let v: Option<Option<i64>> = c.query_first("SELECT @v").await?;
        assert_eq!(
            (user, db.as_deref(), v),
            (me.clone(), Some("test"), Some(None))
        );
    }
    // A successful one does not forget the failures: the third fails, then the
    // command is unknown (1047).
    // (mysql_async keeps the failed request's account: name root's again.)
    let root = mysql_async::ChangeUserOpts::default()
        .with_user(Some(strata_testkit::ROOT_USER.into()))
        .with_pass(Some(strata_testkit::ROOT_PASSWORD.into()))
        .with_db_name(Some("test".into()));
    c.change_user(root.clone()).await?;
    let e = c
        .change_user(bad("foo", Some("bar")))
        .await
        .expect_err("foo");
    assert_eq!(common::code_of(&e), Some(1045), "{e}");
    let e = c
        .change_user(bad("foo", Some("bar")))
        .await
        .expect_err("foo");
    assert_eq!(common::code_of(&e), Some(1047), "{e}");
    let e = c.change_user(root).await.expect_err("a fourth");
    assert_eq!(common::code_of(&e), Some(1047), "{e}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_killed_storage_connection_gives_an_error_and_other_sessions_carry_on() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let mut victim = node.connect(Some("test")).await?;
    let mut other = node.connect(Some("test")).await?;
    victim.query_drop("BEGIN").await?;
    let mut direct = storage.connect(0, None).await?;
    let sleeper = tokio::spawn(async move {
        let r = victim
            .query_drop("SELECT SLEEP(20) FROM DUAL WHERE 1")
            .await;
        (victim, r)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The storage thread running it (CONNECTION_ID() is the session's, not its own).
    let backend_thread: Option<u64> = direct
        .query_first(
            "SELECT ID FROM information_schema.PROCESSLIST \
             WHERE INFO LIKE 'SELECT SLEEP(20) FROM DUAL%'",
        )
        .await?;
    let backend_thread = backend_thread.ok_or("thread")?;
    direct
        .query_drop(format!("KILL CONNECTION {backend_thread}"))
        .await?;
    let (mut victim, r) = sleeper.await?;
    let err = r.expect_err("the storage connection died");
    let code = server_error(&err).map(|e| e.0);
    assert!(matches!(code, Some(1927) | Some(1158)), "got {err:?}");
    let again: Option<i64> = victim.query_first("SELECT 3").await?;
    assert_eq!(again, Some(3), "the session gets a new storage connection");
    let fine: Option<i64> = other.query_first("SELECT 4").await?;
    assert_eq!(fine, Some(4));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_storage_node_that_dies_and_returns_is_used_again() -> TestResult {
    let mut storage = strata_testkit::StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| {
            c.pool.connect_timeout_ms = 1000;
            c.pool.acquire_timeout_ms = 2000;
        })
        .start()
        .await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE durable (id INT PRIMARY KEY)")
        .await?;
    c.query_drop("INSERT INTO durable VALUES (1)").await?;
    storage.node_mut(0).kill().await?;
    let err = c
        .query_drop("SELECT * FROM durable")
        .await
        .expect_err("the storage node is down");
    let code = server_error(&err).map(|e| e.0);
    assert!(matches!(code, Some(1429) | Some(1158)), "got {err:?}");
    storage.node_mut(0).restart().await?;
    let mut rows = None;
    for _ in 0..50 {
        match c.query::<i32, _>("SELECT id FROM durable").await {
            Ok(r) => {
                rows = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
    assert_eq!(
        rows,
        Some(vec![1]),
        "committed data is there after the restart"
    );
    node.shutdown().await;
    Ok(())
}

/// A client's `wait_timeout` must not outlive its use of a pooled storage connection:
/// parked with `wait_timeout = 1`, the connection was closed by the storage node while
/// idle, and the next session that borrowed it failed with 1429 "Connection reset by
/// peer" (what the command-dispatch fuzz test hit after a `SET SESSION wait_timeout = 1`).
#[tokio::test]
async fn a_short_wait_timeout_does_not_reach_the_next_session_through_the_pool() -> TestResult {
    let storage = shared_storage(1).await?;
    // One worker thread and no spare idle connections: the next session borrows the
    // connection the first one gave back.
    let node = ComputeNode::builder(&storage)
        .configure(|c| {
            c.server.worker_threads = 1;
            c.pool.min_idle = 0;
        })
        .start()
        .await?;
    let mut first = node.connect(Some("test")).await?;
    first.query_drop("SET SESSION wait_timeout = 1").await?;
    let own: Option<i64> = first.query_first("SELECT @@session.wait_timeout").await?;
    assert_eq!(
        own,
        Some(1),
        "the session's own statements see its wait_timeout"
    );
    first.disconnect().await?;

    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;

    let mut next = node.connect(Some("test")).await?;
    let seen: Option<i64> = next.query_first("SELECT @@session.wait_timeout").await?;
    let mut direct = storage.connect(0, None).await?;
    let default: Option<i64> = direct.query_first("SELECT @@global.wait_timeout").await?;
    assert_eq!(
        seen, default,
        "the next session has the storage node's wait_timeout"
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_reads_keep_their_connection_on_one_data_node() -> TestResult {
    // Two storage connections shared by two sessions: a handler must stay on the
    // connection that opened it while the other session takes the other one.
    let node = small_pool(2).await?;
    let mut a = node.connect(Some("test")).await?;
    let mut b = node.connect(Some("test")).await?;
    a.query_drop("CREATE TABLE hd (id INT PRIMARY KEY, v INT)")
        .await?;
    a.query_drop("INSERT INTO hd VALUES (1, 10), (2, 20), (3, 30)")
        .await?;
    a.query_drop("HANDLER hd OPEN AS h").await?;
    let first: Vec<(i32, i32)> = a.query("HANDLER h READ `PRIMARY` FIRST").await?;
    assert_eq!(first, [(1, 10)]);
    b.query_drop("BEGIN").await?;
    let n: Option<i64> = b.query_first("SELECT COUNT(*) FROM hd FOR UPDATE").await?;
    assert_eq!(n, Some(3));
    let next: Vec<(i32, i32)> = a.query("HANDLER h READ `PRIMARY` NEXT").await?;
    assert_eq!(next, [(2, 20)]);
    let found: Vec<(i32, i32)> = a
        .query("HANDLER h READ `PRIMARY` = (3) WHERE v > 5")
        .await?;
    assert_eq!(found, [(3, 30)]);
    b.query_drop("COMMIT").await?;
    a.query_drop("HANDLER h CLOSE").await?;
    // MariaDB's own error for a handler that is not open.
    let closed = a.query_drop("HANDLER h READ NEXT").await;
    assert_eq!(
        closed.as_ref().err().and_then(server_error).map(|e| e.0),
        Some(1109)
    );
    // A storage schema's table stays private.
    let private = a.query_drop("HANDLER mysql.user OPEN").await;
    assert_eq!(
        private.as_ref().err().and_then(server_error).map(|e| e.0),
        Some(1044)
    );
    a.query_drop("DROP TABLE hd").await?;
    node.shutdown().await;

    // Over several data nodes a handler would read one node's rows.
    let (node, mut c) = node_and_conn(2).await?;
    let over_two = c.query_drop("HANDLER t OPEN").await;
    assert_eq!(
        over_two.as_ref().err().and_then(server_error).map(|e| e.0),
        Some(1235)
    );
    node.shutdown().await;
    Ok(())
}
