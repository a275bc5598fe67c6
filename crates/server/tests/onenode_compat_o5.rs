//! Answers of MariaDB's `main/` test files (issue 14, the `--every 8 --offset 5`
//! sample) that differed through Strata on one data node, reduced to their statements:
//! `KILL QUERY ID` of a query id from information_schema.PROCESSLIST and KILL of an id
//! given as an expression (kill: the query id was taken for a connection id, and
//! `KILL @id` was 1235).

mod common;

use common::{code_of, run_all, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

/// The error code and message `sql` fails with; None when it succeeds.
async fn failure(c: &mut Conn, sql: &str) -> Option<(Option<u16>, String)> {
    match c.query_drop(sql).await {
        Ok(()) => None,
        Err(mysql_async::Error::Server(e)) => Some((Some(e.code), e.message)),
        Err(e) => Some((code_of(&e), e.to_string())),
    }
}

/// KILL's id as an expression: the same errors as MariaDB's (the thread id as
/// unsigned, the query id as signed, NULL as 0, `user` of `KILL QUERY ID USER` as an
/// unknown column named in 'KILL'). No value used names a live session on either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_of_an_expression_gives_mariadbs_errors() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("killexpr");
    let mut strata = node.connect(Some("test")).await?;
    run_all(
        &mut strata,
        &[&format!("CREATE DATABASE {db}"), &format!("USE {db}")],
    )
    .await?;
    let mut reference = Conn::new(storage.opts(0, None)).await?;
    let statements = [
        "SET @id = 987654321, @q = -3, @n = NULL",
        "KILL @id",
        "KILL CONNECTION @id + 1",
        "KILL QUERY @id * 2",
        "KILL -1",
        "KILL 'x'",
        "KILL @n",
        "KILL 987654321.6",
        "KILL 99999999999999999999",
        "KILL HARD QUERY ID @q",
        "KILL QUERY ID 0",
        "KILL QUERY ID 99999999",
        "KILL QUERY ID @id",
        "kill query id user 'foo'",
        "KILL QUERY ID user",
        "KILL no_such_column",
        "KILL 1 2",
        // A subquery reading no table (sp-bugs).
        "KILL  (('x' IN ( SELECT 1)) MOD 44)",
        "KILL (SELECT 987654321)",
    ];
    let mut differ = Vec::new();
    for sql in statements {
        let expected = failure(&mut reference, sql).await;
        let got = failure(&mut strata, sql).await;
        if expected != got {
            differ.push(format!("{sql}\n  MariaDB: {expected:?}\n  Strata: {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // A subquery reading a table would read on the home node alone: refused.
    let (code, _) = failure(&mut strata, "KILL (SELECT MAX(a) FROM t)")
        .await
        .ok_or("a subquery in KILL succeeded")?;
    assert_eq!(code, Some(1235));
    node.shutdown().await;
    Ok(())
}

/// `KILL QUERY ID` of the query id information_schema.PROCESSLIST shows for a running
/// `SELECT SLEEP` interrupts that statement (its session goes on); another account
/// without CONNECTION ADMIN is refused with 1979, as in MariaDB (kill.test, MDEV-4911
/// and MDEV-5096).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_query_id_interrupts_the_statement_with_that_query_id() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let user = unique_name("killqid");
    let mut killer = node.connect(Some("test")).await?;
    killer
        .query_drop(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"))
        .await?;
    let mut other = Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        None,
    ))
    .await?;
    for round in 0..2 {
        let mut victim = node.connect(Some("test")).await?;
        let sleep = format!("SELECT SLEEP(100) AS round{round}");
        let sleeper = {
            let sleep = sleep.clone();
            tokio::spawn(async move {
                let r: Result<Option<i64>, _> = victim.query_first(sleep).await;
                (victim, r)
            })
        };
        let mut id = None;
        for _ in 0..100 {
            let seen: Option<u64> = killer
                .query_first(format!(
                    "SELECT QUERY_ID FROM information_schema.PROCESSLIST WHERE INFO = '{sleep}'"
                ))
                .await?;
            if seen.is_some() {
                id = seen;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let id = id.ok_or("the sleeping statement is not in the process list")?;
        assert!(id > 0, "a running statement has a query id");
        if round == 1 {
            let denied = failure(&mut other, &format!("KILL QUERY ID {id}")).await;
            assert_eq!(
                denied,
                Some((Some(1979), format!("You are not owner of query {id}")))
            );
        }
        killer.query_drop("SET @qid = 0").await?;
        killer.query_drop(format!("SET @qid = {id}")).await?;
        killer.query_drop("KILL QUERY ID @qid").await?;
        let (mut victim, r) = tokio::time::timeout(std::time::Duration::from_secs(30), sleeper)
            .await
            .map_err(|_| "KILL QUERY ID did not interrupt the statement")??;
        match r {
            Ok(v) => assert_eq!(v, Some(1), "an interrupted SLEEP returns 1"),
            Err(e) => assert_eq!(code_of(&e), Some(1317)),
        }
        let alive: Option<i64> = victim.query_first("SELECT 5").await?;
        assert_eq!(alive, Some(5), "KILL QUERY ID keeps the connection");
    }
    killer.query_drop(format!("DROP USER '{user}'@'%'")).await?;
    node.shutdown().await;
    Ok(())
}

/// mysql-test's `add_anonymous_users.inc` / `delete_anonymous_users.inc` write rows of
/// `mysql.global_priv`: through Strata they create and drop Strata's anonymous account
/// (enforce_storage_engine), with MariaDB's affected rows, 1062 and its warning; an
/// account with grants outside that row is not deleted so (1235).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_priv_rows_of_the_anonymous_account_are_strata_accounts() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut root = node.connect(Some("test")).await?;
    let add = "INSERT IGNORE INTO mysql.global_priv (host, user) VALUES ('localhost','')";
    root.query_drop(add).await?;
    assert_eq!(root.affected_rows(), 1);
    root.query_drop(add).await?;
    assert_eq!((root.affected_rows(), root.get_warnings()), (0, 1));
    let warnings: Vec<(String, u16, String)> = root.query("SHOW WARNINGS").await?;
    assert_eq!(
        warnings,
        vec![(
            "Warning".to_string(),
            1062,
            "Duplicate entry 'localhost-' for key 'PRIMARY'".to_string()
        )]
    );
    let dup = failure(
        &mut root,
        "INSERT INTO mysql.global_priv (host, user) VALUES ('localhost','')",
    )
    .await;
    assert_eq!(dup.map(|d| d.0), Some(Some(1062)));
    root.query_drop("FLUSH PRIVILEGES").await?;

    // Any name logs in as the anonymous account now.
    let name = unique_name("anyone");
    let opts = strata_testkit::mysql_opts(node.service_addr(), &name, "", None);
    let mut anyone = Conn::new(opts.clone()).await?;
    let me: Option<String> = anyone.query_first("SELECT CURRENT_USER()").await?;
    assert_eq!(me.as_deref(), Some("@localhost"));
    anyone.disconnect().await?;

    // Not deleted while it holds a database grant (MariaDB would keep that row).
    root.query_drop("GRANT SELECT ON test.* TO ''@'localhost'")
        .await?;
    let delete = "DELETE FROM mysql.global_priv where host='localhost' and user=''";
    assert_eq!(
        failure(&mut root, delete).await.map(|d| d.0),
        Some(Some(1235))
    );
    root.query_drop("REVOKE SELECT ON test.* FROM ''@'localhost'")
        .await?;
    root.query_drop(delete).await?;
    assert_eq!(root.affected_rows(), 1);
    root.query_drop(delete).await?;
    assert_eq!(root.affected_rows(), 0);
    root.query_drop("FLUSH PRIVILEGES").await?;
    assert!(
        Conn::new(opts).await.is_err(),
        "no account for the name after the delete"
    );
    // Other writes of `mysql.global_priv` stay refused.
    for sql in [
        "INSERT INTO mysql.global_priv (host, user, priv) VALUES ('localhost', 'x', '{}')",
        "DELETE FROM mysql.global_priv WHERE user = ''",
        "UPDATE mysql.global_priv SET priv = '{}' WHERE user = ''",
    ] {
        assert_eq!(
            failure(&mut root, sql).await.map(|d| d.0),
            Some(Some(1044)),
            "{sql}"
        );
    }
    node.shutdown().await;
    Ok(())
}

/// Session variables MariaDB lets only SUPER (or BINLOG ADMIN, BINLOG REPLAY) set:
/// the storage connection's account may set them all, so an account without the
/// privilege got through (enforce_storage_engine). Compared with MariaDB's errors for
/// an account of the test's own on both sides, SET and SET STATEMENT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_session_variables_need_the_privilege() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let user = unique_name("setpriv");
    let create = format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'");
    let mut root = node.connect(Some("test")).await?;
    root.query_drop(&create).await?;
    let mut reference_root = Conn::new(storage.opts(0, None)).await?;
    reference_root.query_drop(&create).await?;
    let mut strata = Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        None,
    ))
    .await?;
    let mut reference = Conn::new(
        mysql_async::OptsBuilder::from_opts(storage.opts(0, None))
            .user(Some(user.clone()))
            .pass(Some("pw"))
            .db_name(None::<String>),
    )
    .await?;
    let statements = [
        "SET SESSION enforce_storage_engine = MyISAM",
        "SET sql_log_off = 0",
        "SET @@session.sql_log_bin = 1",
        "SET binlog_format = ROW",
        "SET LOCAL binlog_row_image = FULL",
        "SET pseudo_thread_id = 5",
        "SET server_id = 1",
        "SET gtid_seq_no = 5",
        "SET STATEMENT gtid_domain_id = 0 FOR SELECT 1",
        "SET STATEMENT enforce_storage_engine = MyISAM FOR SELECT 1",
        "SET sql_mode = '', binlog_format = ROW",
        "SET sql_mode = ''",
        "SET max_statement_time = 0",
        "EXECUTE IMMEDIATE 'SET server_id = 2'",
    ];
    let mut differ = Vec::new();
    for sql in statements {
        let expected = failure(&mut reference, sql).await;
        let got = failure(&mut strata, sql).await;
        if expected != got {
            differ.push(format!("{sql}\n  MariaDB: {expected:?}\n  Strata: {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // Prepared, it is refused at PREPARE (MariaDB: at EXECUTE; the storage node's
    // prepared statement would run as the storage account).
    let sql_prepare = failure(&mut strata, "PREPARE s FROM 'SET sql_log_bin = 0'").await;
    assert_eq!(sql_prepare.map(|e| e.0), Some(Some(1227)));
    let prepared = strata.prep("SET SESSION pseudo_thread_id = 7").await;
    assert_eq!(
        prepared.as_ref().err().and_then(code_of),
        Some(1227),
        "{prepared:?}"
    );
    // With the privilege, the variable is set.
    root.query_drop(format!("GRANT SUPER ON *.* TO '{user}'@'%'"))
        .await?;
    let mut granted = Conn::new(strata_testkit::mysql_opts(
        node.service_addr(),
        &user,
        "pw",
        None,
    ))
    .await?;
    granted
        .query_drop("SET SESSION enforce_storage_engine = MyISAM")
        .await?;
    let engine: Option<String> = granted
        .query_first("SELECT @@session.enforce_storage_engine")
        .await?;
    assert_eq!(engine.as_deref(), Some("MyISAM"));
    reference_root
        .query_drop(format!("DROP USER '{user}'@'%'"))
        .await?;
    node.shutdown().await;
    Ok(())
}

/// `INSTALL PLUGIN ... SONAME` of a library path can install nothing on any MariaDB
/// (1124 before it loads a file): it is let through to the storage node in a procedure
/// body and prepared, with MariaDB's answers (ps_not_windows, Bug #20665); any other
/// INSTALL stays refused (1227).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_plugin_from_a_path_gets_mariadbs_error() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("plugpath");
    let reference_db = unique_name("plugpathref");
    let mut strata = node.connect(Some("test")).await?;
    run_all(
        &mut strata,
        &[&format!("CREATE DATABASE {db}"), &format!("USE {db}")],
    )
    .await?;
    storage.create_database(&reference_db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let statements = [
        "create procedure proc_1() install plugin my_plug soname '/root/some_plugin.so'",
        "call proc_1()",
        "call proc_1()",
        "drop procedure proc_1",
        "prepare abc from \"install plugin my_plug soname '/root/some_plugin.so'\"",
        "execute abc",
        "execute abc",
        "deallocate prepare abc",
        "INSTALL SONAME '../lib/x.so'",
    ];
    let mut differ = Vec::new();
    for sql in statements {
        let expected = failure(&mut reference, sql).await;
        let got = failure(&mut strata, sql).await;
        if expected != got {
            differ.push(format!("{sql}\n  MariaDB: {expected:?}\n  Strata: {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    for sql in [
        "INSTALL PLUGIN example SONAME 'ha_example.so'",
        "CREATE PROCEDURE p2() INSTALL SONAME 'ha_example'",
        "PREPARE p FROM 'INSTALL SONAME ''ha_example'''",
    ] {
        assert_eq!(
            failure(&mut strata, sql).await.map(|e| e.0),
            Some(Some(1227)),
            "{sql}"
        );
    }
    node.shutdown().await;
    Ok(())
}
