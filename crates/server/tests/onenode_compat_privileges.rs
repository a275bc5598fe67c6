//! What MariaDB's own `main/` test files found through Strata (issue 14, the offset-7
//! sample), each reduced to the statements that showed it: an UPDATE or DELETE (and
//! its EXPLAIN) reads columns only with SELECT on them, and a multi-table UPDATE needs
//! only SELECT on the tables it reads (grant_explain_non_select); the compute node
//! has no binary log (no_binlog); an unknown variable a routine body sets globally is
//! MariaDB's 1193 before Strata's refusal of setting it (parser); an ALTER TABLE ...
//! PARTITION hides the row value its 1526 would show from an account without SELECT
//! (partition_grant); a routine or trigger body naming another database needs
//! privileges there (sp-security-anchor-type).

mod common;

use common::{error_of, run_all, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{shared_storage, ComputeNode};

/// The error code each statement gives on `conn` (None: it succeeded).
async fn codes(conn: &mut mysql_async::Conn, statements: &[String]) -> Vec<(String, Option<u16>)> {
    let mut out = Vec::new();
    for sql in statements {
        let (code, _) = error_of(conn, sql).await;
        out.push((sql.clone(), code));
    }
    out
}

/// grant_explain_non_select: MariaDB needs SELECT on every column an UPDATE or DELETE
/// reads (1143) and on the tables a multi-table UPDATE only reads; EXPLAIN of either
/// needs what the statement needs, and EXPLAIN of a view SHOW VIEW on it and SELECT on
/// its tables (1345). Both sides: one plain MariaDB (the storage server,
/// a database and an account of the test's own) and Strata over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_delete_read_columns_only_with_select_on_them() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let strata_db = strata_testkit::unique_name("colread");
    let reference_db = strata_testkit::unique_name("colreadref");
    let user = strata_testkit::unique_name("colreader");
    let setup = |db: &str| {
        vec![
            format!("CREATE DATABASE {db}"),
            format!("CREATE TABLE {db}.t1 (a INT)"),
            format!("CREATE TABLE {db}.t2 (a INT)"),
            format!("CREATE TABLE {db}.t3 (a INT)"),
            format!("INSERT INTO {db}.t1 VALUES (1), (2)"),
            format!("INSERT INTO {db}.t2 VALUES (1), (2)"),
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"),
            format!("GRANT UPDATE, DELETE ON {db}.t1 TO '{user}'@'%'"),
            format!("GRANT SELECT ON {db}.t2 TO '{user}'@'%'"),
            format!("CREATE VIEW {db}.v1 AS SELECT a FROM {db}.t1"),
            format!("CREATE VIEW {db}.v2 AS SELECT a FROM {db}.t2"),
            format!("GRANT SELECT ON {db}.v1 TO '{user}'@'%'"),
            format!("GRANT SELECT, SHOW VIEW ON {db}.v2 TO '{user}'@'%'"),
            // Views of views: every view the plan opens is checked, an inner one too
            // (analyze_stmt_privileges2: ALL on both views, nothing on t1).
            format!("CREATE VIEW {db}.v3 AS SELECT a FROM {db}.t1 WHERE a IS NOT NULL"),
            format!("CREATE VIEW {db}.v4 AS SELECT * FROM {db}.v3 WHERE a > 0"),
            format!("CREATE VIEW {db}.v5 AS SELECT * FROM {db}.v2 WHERE a > 0"),
            format!("GRANT ALL ON {db}.v3 TO '{user}'@'%'"),
            format!("GRANT ALL ON {db}.v4 TO '{user}'@'%'"),
            format!("GRANT SELECT, SHOW VIEW ON {db}.v5 TO '{user}'@'%'"),
        ]
    };
    let mut root = node.connect(Some("test")).await?;
    let mut reference_root = mysql_async::Conn::new(storage.opts(0, None)).await?;
    for sql in setup(&strata_db) {
        root.query_drop(sql).await?;
    }
    for sql in setup(&reference_db) {
        reference_root.query_drop(sql).await?;
    }
    let mut strata = mysql_async::Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        Some(&strata_db),
    ))
    .await?;
    let mut reference = mysql_async::Conn::new(
        mysql_async::OptsBuilder::from_opts(storage.opts(0, Some(&reference_db)))
            .user(Some(user.clone()))
            .pass(Some("pw")),
    )
    .await?;
    let statements: Vec<String> = [
        "UPDATE t1 SET a = a + 1",
        "EXPLAIN UPDATE t1 SET a = a + 1",
        "UPDATE t1 SET a = 5 WHERE a = 7",
        "UPDATE t1 SET a = 5 ORDER BY a LIMIT 1",
        "DELETE FROM t1 WHERE a = 10",
        "EXPLAIN DELETE FROM t1 WHERE a = 10",
        "DELETE FROM t1 ORDER BY a LIMIT 1",
        "UPDATE t1, t2 SET t1.a = t1.a + 1 WHERE t1.a = t2.a",
        "EXPLAIN UPDATE t1, t2 SET t1.a = t1.a + 1 WHERE t1.a = t2.a",
        "UPDATE t2, t1 SET t2.a = 1",
        "DELETE FROM t1 USING t1, t2 WHERE t1.a = t2.a",
        "UPDATE t2, t3 SET t2.a = 1",
        "DELETE FROM t2 USING t2, t3",
        // What reads no column of t1 needs no SELECT on it.
        "UPDATE t1 SET a = 3",
        "UPDATE t1, t2 SET t1.a = t2.a + 1",
        "DELETE FROM t1",
        // EXPLAIN of a view: SHOW VIEW on it and SELECT on what it reads (1345).
        "SELECT * FROM v1",
        "EXPLAIN SELECT * FROM v1",
        "EXPLAIN SELECT * FROM v2",
        "EXPLAIN SELECT * FROM t2 JOIN v1 USING (a)",
        // ANALYZE <statement> shows the plan too (analyze_stmt_privileges2).
        "ANALYZE SELECT * FROM v1",
        "ANALYZE SELECT * FROM t2 JOIN v1 USING (a)",
        "/* a comment first */ ANALYZE SELECT * FROM v1",
        "INSERT INTO v4 (a) VALUES (10)",
        "EXPLAIN INSERT INTO v4 (a) VALUES (10)",
        "ANALYZE INSERT INTO v4 (a) VALUES (10)",
        "EXPLAIN SELECT * FROM v4",
        "EXPLAIN SELECT * FROM v3",
        "EXPLAIN SELECT * FROM v5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // REPLACE without INSERT and DELETE names both, as MariaDB.
    let (_, message) = error_of(&mut strata, "REPLACE INTO t2 VALUES (1)").await;
    assert!(
        message.contains("INSERT, DELETE command denied"),
        "{message}"
    );
    // No privilege at all on a table of a multi-table statement: MariaDB names SELECT
    // on it before the privilege of the write (single-table: the write's).
    for (sql, command) in [
        ("UPDATE t2, t3 SET t2.a = 1", "SELECT"),
        ("DELETE FROM t2 USING t2, t3", "SELECT"),
        ("UPDATE t3 SET a = 1", "UPDATE"),
    ] {
        let (code, message) = error_of(&mut strata, sql).await;
        assert_eq!(code, Some(1142), "{sql}: {message}");
        assert!(
            message.contains(&format!("{command} command denied")) && message.contains("`t3`"),
            "{sql}: {message}"
        );
    }
    let expected = codes(&mut reference, &statements).await;
    let got = codes(&mut strata, &statements).await;
    assert_eq!(got, expected);
    assert!(
        expected.iter().filter(|(_, c)| *c == Some(1143)).count() >= 6,
        "{expected:?}"
    );
    // The message names the column and table, as MariaDB's does; `RETURNING *` names
    // the table's first column (insert_notembedded).
    for sql in [
        "UPDATE t1 SET a = 5 WHERE a = 7",
        "DELETE FROM t1 RETURNING *",
        "DELETE FROM t1 WHERE a = 10 RETURNING *",
    ] {
        let (_, message) = error_of(&mut strata, sql).await;
        let (_, want) = error_of(&mut reference, sql).await;
        assert!(
            message.contains(&format!("SELECT command denied to user '{user}'@'"))
                && message.contains("for column 'a' in table 't1'"),
            "{sql}: {message}"
        );
        assert!(
            want.contains("for column 'a' in table 't1'"),
            "{sql}: {want}"
        );
    }
    drop(strata);
    drop(reference);
    for sql in [
        format!("DROP USER '{user}'@'%'"),
        format!("DROP DATABASE {strata_db}"),
    ] {
        root.query_drop(sql).await?;
    }
    for sql in [
        format!("DROP USER '{user}'@'%'"),
        format!("DROP DATABASE {reference_db}"),
    ] {
        reference_root.query_drop(sql).await?;
    }
    drop(root);
    node.shutdown().await;
    Ok(())
}

/// no_binlog: the compute node writes no binary log, and the storage servers' logs are
/// private: SHOW BINARY LOGS is 1381 as on MariaDB without one, SHOW MASTER STATUS and
/// SHOW BINLOG EVENTS have their columns and no row; each needs BINLOG MONITOR (or
/// SUPER) first, as MariaDB's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compute_node_has_no_binary_log() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    for sql in ["SHOW BINARY LOGS", "SHOW MASTER LOGS"] {
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(1381), "{sql}: {message}");
        assert!(
            message.contains("You are not using binary logging"),
            "{message}"
        );
    }
    for (sql, columns) in [
        ("SHOW MASTER STATUS", 4),
        ("SHOW BINLOG STATUS", 4),
        ("SHOW BINLOG EVENTS", 6),
        ("SHOW BINLOG EVENTS IN 'x' FROM 4 LIMIT 1, 2", 6),
    ] {
        let mut result = c.query_iter(sql).await?;
        assert_eq!(result.columns_ref().len(), columns, "{sql}");
        let rows: Vec<mysql_async::Row> = result.collect().await?;
        assert!(rows.is_empty(), "{sql}");
    }
    let user = strata_testkit::unique_name("nobinlog");
    run_all(
        &mut c,
        &[&format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")],
    )
    .await?;
    let mut u = mysql_async::Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        None,
    ))
    .await?;
    for sql in [
        "SHOW BINARY LOGS",
        "SHOW MASTER STATUS",
        "SHOW BINLOG EVENTS",
    ] {
        let (code, message) = error_of(&mut u, sql).await;
        assert_eq!(code, Some(1227), "{sql}: {message}");
        assert!(message.contains("BINLOG MONITOR"), "{sql}: {message}");
    }
    drop(u);
    run_all(&mut c, &[&format!("DROP USER '{user}'@'%'")]).await?;
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// parser: `SET GLOBAL` of a variable no server knows, in a compound statement or a
/// routine body, is MariaDB's 1193 (its parser looks the name up first); a known one
/// stays refused (1227: it would set the storage server's value).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_variable_set_globally_in_a_body_is_unknown_first() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    for sql in [
        "BEGIN NOT ATOMIC DECLARE a INT; SET GLOBAL a=10; END",
        "CREATE PROCEDURE strata_unknown_var() SET GLOBAL no_such_variable = 1",
        "CREATE PROCEDURE strata_unknown_var() SET @@global.no_such_variable = 1",
    ] {
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(1193), "{sql}: {message}");
    }
    let (code, message) = error_of(
        &mut c,
        "CREATE PROCEDURE strata_known_var() SET GLOBAL max_connections = 10",
    )
    .await;
    assert_eq!(code, Some(1227), "{message}");
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// default_session: a column DEFAULT of USER(), CURRENT_USER() or CURRENT_ROLE() is
/// evaluated by the storage server as Strata's storage account, so the rows would
/// record `strata@...` for every client: refused (1235), as is adding one by ALTER.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_naming_the_account_is_refused() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    run_all(
        &mut c,
        &[
            "DROP TABLE IF EXISTS strata_account_defaults",
            "CREATE TABLE strata_account_defaults (n INT, u VARCHAR(100) DEFAULT 'x')",
        ],
    )
    .await?;
    for sql in [
        "CREATE TABLE strata_account_defaults2 (u VARCHAR(100) DEFAULT user())",
        "CREATE TABLE strata_account_defaults2 (u VARCHAR(100) DEFAULT current_user())",
        "CREATE TABLE strata_account_defaults2 (u VARCHAR(100) DEFAULT current_role())",
        "ALTER TABLE strata_account_defaults ALTER COLUMN u SET DEFAULT user()",
        "ALTER TABLE strata_account_defaults ADD v TEXT DEFAULT (concat(current_user(), ''))",
    ] {
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, Some(1235), "{sql}: {message}");
    }
    run_all(&mut c, &["DROP TABLE strata_account_defaults"]).await?;
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// partition_grant: re-partitioning a table leaving a row without a partition is 1526
/// "for some existing values" for an account without SELECT on the table, "for value
/// 1" with it, as MariaDB words it (the storage server answers the storage
/// account, which may read the row). sp-security-anchor-type: a trigger or routine
/// body reading a table of a database the account has no privilege on is refused when
/// created (it would run with the storage account's rights; MariaDB refuses at run
/// time with the definer's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_bodies_show_nothing_the_account_may_not_read() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = strata_testkit::unique_name("hidden");
    let other = strata_testkit::unique_name("hiddenother");
    let user = strata_testkit::unique_name("hider");
    let mut root = node.connect(Some("test")).await?;
    run_all(
        &mut root,
        &[
            &format!("CREATE DATABASE {db}"),
            &format!("CREATE DATABASE {other}"),
            &format!("CREATE TABLE {db}.t1 (s1 INT)"),
            &format!("INSERT INTO {db}.t1 VALUES (1)"),
            &format!("CREATE TABLE {other}.secret (a INT)"),
            &format!("INSERT INTO {other}.secret VALUES (42)"),
            &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"),
            &format!("GRANT ALTER ON {db}.* TO '{user}'@'%'"),
        ],
    )
    .await?;
    let connect = || {
        mysql_async::Conn::new(strata_testkit::mysql_opts(
            node.service_addr(),
            &user,
            "pw",
            Some(&db),
        ))
    };
    let repartition = "ALTER TABLE t1 PARTITION BY LIST (s1) (PARTITION p1 VALUES IN (2))";
    let mut c = connect().await?;
    let (code, message) = error_of(&mut c, repartition).await;
    assert_eq!(code, Some(1526), "{message}");
    assert!(message.contains("for some existing values"), "{message}");
    drop(c);
    root.query_drop(format!("GRANT SELECT ON {db}.* TO '{user}'@'%'"))
        .await?;
    let mut c = connect().await?;
    let (code, message) = error_of(&mut c, repartition).await;
    assert_eq!(code, Some(1526), "{message}");
    assert!(message.contains("for value 1"), "{message}");
    drop(c);
    root.query_drop(format!("GRANT ALL ON {db}.* TO '{user}'@'%'"))
        .await?;
    let mut c = connect().await?;
    for sql in [
        format!(
            "CREATE TRIGGER tr1 BEFORE INSERT ON t1 FOR EACH ROW SET NEW.s1 = (SELECT a FROM {other}.secret)"
        ),
        format!("CREATE PROCEDURE p1() SELECT a FROM {other}.secret"),
        format!("CREATE FUNCTION f1() RETURNS INT RETURN (SELECT a FROM `{other}`.secret LIMIT 1)"),
    ] {
        let (code, message) = error_of(&mut c, &sql).await;
        assert_eq!(code, Some(1044), "{sql}: {message}");
    }
    // Its own database's names, qualified or not, and NEW/OLD stay its own.
    run_all(
        &mut c,
        &[&format!(
            "CREATE TRIGGER tr1 BEFORE INSERT ON t1 FOR EACH ROW SET NEW.s1 = (SELECT MAX(s1) FROM {db}.t1)"
        )],
    )
    .await?;
    drop(c);
    run_all(
        &mut root,
        &[
            &format!("DROP DATABASE {db}"),
            &format!("DROP DATABASE {other}"),
            &format!("DROP USER '{user}'@'%'"),
        ],
    )
    .await?;
    Ok(())
}

/// insert_notembedded: an SQL SECURITY INVOKER view runs with the rights of the account
/// using it, so reading or writing through it needs that privilege on its tables too
/// (1356 naming the view otherwise); on the storage node it runs with the storage
/// account's rights, and Strata let an INSERT through such a view write a table the
/// account held nothing on. Both sides: the plain MariaDB under the data node, each with
/// a database and an account of the test's own; also prepared (COM_STMT_PREPARE) and
/// after the missing privilege is granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoker_views_need_the_invokers_rights_on_their_tables() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let strata_db = strata_testkit::unique_name("invview");
    let reference_db = strata_testkit::unique_name("invviewref");
    let user = strata_testkit::unique_name("invuser");
    let setup = |db: &str| {
        vec![
            format!("CREATE DATABASE {db}"),
            format!("CREATE TABLE {db}.t (a INT PRIMARY KEY)"),
            format!("CREATE TABLE {db}.u (a INT PRIMARY KEY)"),
            format!("INSERT INTO {db}.t VALUES (1)"),
            format!("CREATE SQL SECURITY INVOKER VIEW {db}.vi AS SELECT a FROM {db}.t"),
            format!("CREATE SQL SECURITY INVOKER VIEW {db}.vu AS SELECT a FROM {db}.u"),
            // An invoker view over an invoker view, and a definer view over one.
            format!("CREATE SQL SECURITY INVOKER VIEW {db}.vv AS SELECT a FROM {db}.vi"),
            format!("CREATE VIEW {db}.vd AS SELECT a FROM {db}.vi"),
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"),
            format!("GRANT SELECT, INSERT, DELETE, UPDATE ON {db}.vi TO '{user}'@'%'"),
            format!("GRANT SELECT, INSERT, UPDATE ON {db}.vu TO '{user}'@'%'"),
            format!("GRANT SELECT ON {db}.vv TO '{user}'@'%'"),
            format!("GRANT SELECT ON {db}.vd TO '{user}'@'%'"),
            format!("GRANT SELECT, INSERT ON {db}.u TO '{user}'@'%'"),
        ]
    };
    let mut root = node.connect(Some("test")).await?;
    let mut reference_root = mysql_async::Conn::new(storage.opts(0, None)).await?;
    for sql in setup(&strata_db) {
        root.query_drop(sql).await?;
    }
    for sql in setup(&reference_db) {
        reference_root.query_drop(sql).await?;
    }
    let mut strata = mysql_async::Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        Some(&strata_db),
    ))
    .await?;
    let mut reference = mysql_async::Conn::new(
        mysql_async::OptsBuilder::from_opts(storage.opts(0, Some(&reference_db)))
            .user(Some(user.clone()))
            .pass(Some("pw")),
    )
    .await?;
    let statements: Vec<String> = [
        "SELECT * FROM vi",
        "INSERT INTO vi VALUES (2)",
        "REPLACE INTO vi SELECT a + 10 FROM vu",
        "DELETE FROM vi",
        "UPDATE vi SET a = 3",
        "SELECT * FROM (SELECT * FROM vi) x",
        "SELECT * FROM vv",
        "SELECT * FROM vd",
        "EXECUTE IMMEDIATE 'SELECT * FROM vi'",
        // Its tables held: allowed.
        "SELECT * FROM vu",
        "INSERT INTO vu VALUES (5)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let expected = codes(&mut reference, &statements).await;
    let got = codes(&mut strata, &statements).await;
    assert_eq!(got, expected);
    assert_eq!(
        expected.iter().filter(|(_, c)| *c == Some(1356)).count(),
        8,
        "{expected:?}"
    );
    let (_, message) = error_of(&mut strata, "INSERT INTO vi VALUES (2)").await;
    assert!(
        message.contains(&format!(
            "View '{strata_db}.vi' references invalid table(s) or column(s)"
        )),
        "{message}"
    );
    // A server-side prepared statement is checked at PREPARE, as MariaDB does.
    let prepared = strata.prep("INSERT INTO vi VALUES (?)").await;
    let want = reference.prep("INSERT INTO vi VALUES (?)").await;
    let code = |r: &Result<mysql_async::Statement, mysql_async::Error>| match r {
        Ok(_) => None,
        Err(e) => common::code_of(e),
    };
    assert_eq!(code(&prepared), code(&want));
    assert_eq!(code(&prepared), Some(1356));
    // The rows the statements did not change are MariaDB's.
    let read = |db: &str| format!("SELECT a FROM {db}.t ORDER BY a");
    let rows: Vec<i64> = root.query(read(&strata_db)).await?;
    let want: Vec<i64> = reference_root.query(read(&reference_db)).await?;
    assert_eq!(rows, want);
    // A view made INVOKER after the session used it is checked as one at once.
    root.query_drop(format!(
        "ALTER SQL SECURITY INVOKER VIEW {strata_db}.vd AS SELECT a FROM {strata_db}.vi"
    ))
    .await?;
    reference_root
        .query_drop(format!(
            "ALTER SQL SECURITY INVOKER VIEW {reference_db}.vd AS SELECT a FROM {reference_db}.vi"
        ))
        .await?;
    let after = vec!["SELECT * FROM vd".to_string()];
    let expected = codes(&mut reference, &after).await;
    assert_eq!(codes(&mut strata, &after).await, expected);
    assert_eq!(expected[0].1, Some(1356));
    // Once granted on the table, the same statements run.
    root.query_drop(format!(
        "GRANT SELECT, INSERT, DELETE ON {strata_db}.t TO '{user}'@'%'"
    ))
    .await?;
    reference_root
        .query_drop(format!(
            "GRANT SELECT, INSERT, DELETE ON {reference_db}.t TO '{user}'@'%'"
        ))
        .await?;
    // A write whose WHERE reads columns through it needs SELECT on its table too
    // (its assigned values do not, in MariaDB).
    for (c, db) in [
        (&mut root, &strata_db),
        (&mut reference_root, &reference_db),
    ] {
        c.query_drop(format!("GRANT UPDATE ON {db}.u TO '{user}'@'%'"))
            .await?;
        c.query_drop(format!("REVOKE SELECT ON {db}.u FROM '{user}'@'%'"))
            .await?;
    }
    let reading: Vec<String> = [
        "UPDATE vu SET a = 3 WHERE a = 100",
        "UPDATE vu SET a = a + 1",
        "UPDATE vu SET a = 100 WHERE 0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let expected = codes(&mut reference, &reading).await;
    assert_eq!(codes(&mut strata, &reading).await, expected);
    assert_eq!(
        expected.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        [Some(1356), None, None]
    );
    let granted: Vec<String> = [
        "INSERT INTO vi VALUES (2)",
        "REPLACE INTO vi SELECT a + 10 FROM vu",
        "SELECT * FROM vv",
        "UPDATE vi SET a = 3",
        "DELETE FROM vi WHERE a = 2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let expected = codes(&mut reference, &granted).await;
    let got = codes(&mut strata, &granted).await;
    assert_eq!(got, expected);
    let rows: Vec<i64> = root.query(read(&strata_db)).await?;
    let want: Vec<i64> = reference_root.query(read(&reference_db)).await?;
    assert_eq!(rows, want);
    drop(strata);
    drop(reference);
    for sql in [
        format!("DROP USER '{user}'@'%'"),
        format!("DROP DATABASE {strata_db}"),
    ] {
        root.query_drop(sql).await?;
    }
    for sql in [
        format!("DROP USER '{user}'@'%'"),
        format!("DROP DATABASE {reference_db}"),
    ] {
        reference_root.query_drop(sql).await?;
    }
    drop(root);
    node.shutdown().await;
    Ok(())
}

/// view_grant: ALTER VIEW needs CREATE VIEW and DROP on the view, as CREATE OR REPLACE
/// VIEW does (1142 naming DROP), and SELECT on what it reads; it was 1044 (the whole
/// database's privileges) from Strata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_view_needs_create_view_and_drop_on_the_view() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let strata_db = strata_testkit::unique_name("altview");
    let reference_db = strata_testkit::unique_name("altviewref");
    let user = strata_testkit::unique_name("altviewer");
    let setup = |db: &str| {
        vec![
            format!("CREATE DATABASE {db}"),
            format!("CREATE TABLE {db}.t (a INT, b INT)"),
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"),
            format!("GRANT CREATE VIEW, SELECT ON {db}.* TO '{user}'@'%'"),
        ]
    };
    let mut root = node.connect(Some("test")).await?;
    let mut reference_root = mysql_async::Conn::new(storage.opts(0, None)).await?;
    for sql in setup(&strata_db) {
        root.query_drop(sql).await?;
    }
    for sql in setup(&reference_db) {
        reference_root.query_drop(sql).await?;
    }
    let mut strata = mysql_async::Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        Some(&strata_db),
    ))
    .await?;
    let mut reference = mysql_async::Conn::new(
        mysql_async::OptsBuilder::from_opts(storage.opts(0, Some(&reference_db)))
            .user(Some(user.clone()))
            .pass(Some("pw")),
    )
    .await?;
    let statements: Vec<String> = [
        "CREATE VIEW v1 AS SELECT * FROM t",
        "ALTER VIEW v1 AS SELECT a FROM t",
        "ALTER ALGORITHM = MERGE SQL SECURITY INVOKER VIEW v1 AS SELECT b FROM t",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let expected = codes(&mut reference, &statements).await;
    assert_eq!(expected[1].1, Some(1142), "{expected:?}");
    assert_eq!(codes(&mut strata, &statements).await, expected);
    root.query_drop(format!("GRANT DROP ON {strata_db}.* TO '{user}'@'%'"))
        .await?;
    reference_root
        .query_drop(format!("GRANT DROP ON {reference_db}.* TO '{user}'@'%'"))
        .await?;
    // A database's grants hold for a session from its next USE (MariaDB).
    let use_strata = format!("USE {strata_db}");
    strata.query_drop(&use_strata).await?;
    reference.query_drop(format!("USE {reference_db}")).await?;
    let expected = codes(&mut reference, &statements[1..]).await;
    assert_eq!(expected[0].1, None, "{expected:?}");
    assert_eq!(codes(&mut strata, &statements[1..]).await, expected);
    drop(strata);
    drop(reference);
    for sql in [
        format!("DROP DATABASE {strata_db}"),
        format!("DROP USER '{user}'@'%'"),
    ] {
        root.query_drop(sql).await?;
    }
    for sql in [
        format!("DROP DATABASE {reference_db}"),
        format!("DROP USER '{user}'@'%'"),
    ] {
        reference_root.query_drop(sql).await?;
    }
    node.shutdown().await;
    Ok(())
}
