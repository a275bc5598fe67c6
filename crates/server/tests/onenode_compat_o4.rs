//! What the `--every 8 --offset 4` sample of MariaDB's `main/` test files (issue 14)
//! found through Strata on one data node, each reduced to its statements and compared
//! with one plain MariaDB where it can be: `SELECT ... INTO @var` over `mysql.user`
//! (get_diagnostics: a malformed result, the variable unset), the column types of
//! `LAST_INSERT_ID()`, `ROW_COUNT()`, `CONNECTION_ID()` and `@@last_insert_id`
//! (metadata), `mysql.db` (brackets), LOCK TABLES of `mysql.proc` (lock), the state
//! of a DROP DATABASE waiting for another session's lock (schema) and a database name
//! that is not UTF-8 (ctype_recoding: recorded with U+FFFD, now refused).

mod common;

use std::time::Duration;

use common::{assert_codes, error_of, first_int, run_all, TestResult};
use mysql_async::consts::ColumnFlags;
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_catalog::config::StorageGlobals;
use strata_testkit::{shared_storage, unique_name, ComputeNode, StorageNodes};

/// A compute node on one shared storage node, a Strata connection using a new
/// database (named in the result) and a connection to the storage node's MariaDB using
/// another.
async fn sides(prefix: &str) -> TestResult<(ComputeNode, Conn, Conn, String, String)> {
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
    Ok((node, strata, reference, strata_db, reference_db))
}

/// The warnings' codes after the last statement.
async fn warning_codes(c: &mut Conn) -> TestResult<Vec<u16>> {
    let rows: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await?;
    Ok(rows.into_iter().map(|(_, code, _)| code).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_into_user_variables_reads_mysql_user_as_mariadb() -> TestResult {
    let (_node, mut strata, mut reference, _, _) = sides("o4into").await?;
    for c in [&mut strata, &mut reference] {
        // get_diagnostics: the answer was a result set without columns (a malformed
        // packet for the client) and the variable stayed unset.
        c.query_drop("SELECT COUNT(max_questions) INTO @var FROM mysql.user")
            .await?;
        assert!(first_int(c, "SELECT @var").await? >= 1);
        c.query_drop("SELECT user INTO @u FROM mysql.user WHERE 1 = 0")
            .await?;
        assert_eq!(warning_codes(c).await?, [1329]);
        assert_codes(c, &["SELECT COUNT(*) INTO @a, @b FROM mysql.user"], 1222).await;
        // The connection still answers: nothing malformed was sent.
        assert_eq!(first_int(c, "SELECT 1").await?, 1);
    }
    // More than one row: 1172, the first row assigned (MariaDB assigns it too).
    run_all(
        &mut strata,
        &[
            "CREATE USER o4into_a@localhost",
            "CREATE USER o4into_b@localhost",
        ],
    )
    .await?;
    let (code, message) = error_of(
        &mut strata,
        "SELECT user INTO @u FROM mysql.user WHERE user LIKE 'o4into%' ORDER BY user",
    )
    .await;
    assert_eq!(code, Some(1172), "{message}");
    let first: Option<String> = strata.query_first("SELECT @u").await?;
    assert_eq!(first.as_deref(), Some("o4into_a"));
    run_all(
        &mut strata,
        &[
            "DROP USER o4into_a@localhost",
            "DROP USER o4into_b@localhost",
        ],
    )
    .await?;
    Ok(())
}

/// Type, length and the NOT NULL and UNSIGNED flags of each column of `sql`.
async fn column_types(c: &mut Conn, sql: &str) -> TestResult<Vec<(String, u8, u32, bool, bool)>> {
    let result = c.query_iter(sql).await?;
    let columns = result
        .columns_ref()
        .iter()
        .map(|col| {
            (
                col.name_str().into_owned(),
                col.column_type() as u8,
                col.column_length(),
                col.flags().contains(ColumnFlags::NOT_NULL_FLAG),
                col.flags().contains(ColumnFlags::UNSIGNED_FLAG),
            )
        })
        .collect();
    result.drop_result().await?;
    Ok(columns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_functions_have_mariadbs_column_types() -> TestResult {
    let (_node, mut strata, mut reference, _, _) = sides("o4types").await?;
    // metadata: LAST_INSERT_ID() was nullable, ROW_COUNT() an INT of the literal's width.
    for sql in [
        "SELECT LAST_INSERT_ID()",
        "SELECT ROW_COUNT(), FOUND_ROWS()",
        "SELECT CONNECTION_ID()",
        "SELECT @@last_insert_id, @@identity",
        "SELECT ROW_COUNT() + 1, LAST_INSERT_ID() + 0",
        "SELECT LAST_INSERT_ID(), 1",
    ] {
        let expected = column_types(&mut reference, sql).await?;
        let got = column_types(&mut strata, sql).await?;
        assert_eq!(got, expected, "{sql}");
    }
    // The values stay the session's.
    run_all(
        &mut strata,
        &[
            "CREATE TABLE t (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY)",
            "INSERT INTO t VALUES (18446744073709551610)",
            "INSERT INTO t VALUES (NULL), (NULL)",
        ],
    )
    .await?;
    let row: (u64, i64, u64) = strata
        .query_first("SELECT LAST_INSERT_ID(), ROW_COUNT(), @@last_insert_id")
        .await?
        .ok_or("no row")?;
    assert_eq!(row, (18446744073709551611, 2, 18446744073709551611));
    let row: (u64, i64) = strata
        .query_first("SELECT LAST_INSERT_ID() + 0, ROW_COUNT() - 1 FROM t LIMIT 1")
        .await?
        .ok_or("no row")?;
    assert_eq!(row, (18446744073709551611, -2));
    Ok(())
}

/// The column names of `sql`.
async fn column_names(c: &mut Conn, sql: &str) -> TestResult<Vec<String>> {
    let result = c.query_iter(sql).await?;
    let names = result
        .columns_ref()
        .iter()
        .map(|col| col.name_str().into_owned())
        .collect();
    result.drop_result().await?;
    Ok(names)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_db_lists_database_grants_as_mariadb() -> TestResult {
    let (_node, mut strata, mut reference, strata_db, reference_db) = sides("o4db").await?;
    let user = unique_name("o4dbu");
    // brackets: `mysql.db` was refused (1044).
    let sql = "SELECT * FROM ( mysql.db ) WHERE 1 = 0";
    assert_eq!(
        column_names(&mut strata, sql).await?,
        column_names(&mut reference, sql).await?
    );
    let mut rows = Vec::new();
    for (c, db) in [(&mut strata, &strata_db), (&mut reference, &reference_db)] {
        run_all(
            c,
            &[
                &format!("CREATE USER {user}@localhost"),
                &format!("GRANT SELECT, INSERT, EXECUTE, LOCK TABLES ON {db}.* TO {user}@localhost WITH GRANT OPTION"),
            ],
        )
        .await?;
        let sql = format!(
            "SELECT Host, User, Db = '{db}', Select_priv, Insert_priv, Update_priv, Grant_priv, \
             Lock_tables_priv, Execute_priv, Delete_history_priv FROM mysql.db WHERE User = '{user}'"
        );
        let got: Vec<mysql_async::Row> = c.query(sql).await?;
        let got: Vec<Vec<Option<String>>> = got
            .into_iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.get_opt::<String, _>(i).and_then(Result::ok))
                    .collect()
            })
            .collect();
        rows.push(got);
        c.query_drop(format!("DROP USER {user}@localhost")).await?;
    }
    assert_eq!(rows[0].len(), 1, "{rows:?}");
    assert_eq!(rows[0], rows[1]);
    // Writing it stays refused.
    assert_codes(
        &mut strata,
        &[
            "DELETE FROM mysql.db",
            "INSERT INTO mysql.db (Host) VALUES ('x')",
        ],
        1044,
    )
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_tables_of_mysql_proc_with_settable_storage_globals() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.storage_globals = StorageGlobals::Settable)
        .start()
        .await?;
    let physical = common::physical_test_db(&node)?;
    let mut direct = storage.connect(0, Some(&physical)).await?;
    let mut c = node.connect(Some("test")).await?;
    // The same table both ways (the storage node's physical database).
    run_all(&mut c, &["CREATE TABLE t1 (i INT)"]).await?;
    // lock: both ways the same answers (1428: system tables locked with others).
    for conn in [&mut c, &mut direct] {
        run_all(
            conn,
            &[
                "LOCK TABLES mysql.time_zone READ, mysql.proc READ, t1 READ",
                "UNLOCK TABLES",
                "LOCK TABLES mysql.time_zone WRITE, mysql.proc WRITE",
                "UNLOCK TABLES",
            ],
        )
        .await?;
        assert_codes(
            conn,
            &[
                "LOCK TABLES mysql.time_zone READ, mysql.proc WRITE, t1 READ",
                "LOCK TABLES mysql.time_zone READ, mysql.proc WRITE",
            ],
            1428,
        )
        .await;
        conn.query_drop("UNLOCK TABLES").await?;
    }
    // Other tables of mysql stay private, and its routines' rows unwritable.
    assert_codes(&mut c, &["LOCK TABLES mysql.global_priv READ"], 1044).await;
    assert_codes(&mut c, &["DELETE FROM mysql.proc"], 1044).await;
    // Without settable storage globals mysql.proc is not locked.
    let shared = shared_storage(1).await?;
    let plain = ComputeNode::builder(&shared).start().await?;
    let mut p = plain.connect(Some("test")).await?;
    assert_codes(&mut p, &["LOCK TABLES mysql.proc READ"], 1044).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_database_waiting_for_a_lock_shows_its_state() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("o4wait");
    let mut holder = node.connect(Some("test")).await?;
    run_all(
        &mut holder,
        &[
            &format!("CREATE DATABASE {db}"),
            &format!("CREATE TABLE {db}.t1 (id INT)"),
            &format!("LOCK TABLE {db}.t1 WRITE"),
        ],
    )
    .await?;
    let mut dropper = node.connect(Some("test")).await?;
    let drop_sql = format!("DROP DATABASE {db}");
    let dropping = tokio::spawn(async move { dropper.query_drop(drop_sql).await });
    // schema: scripts wait for this state; it stayed empty (the DROP ran on a
    // connection the process list did not know).
    let wait = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE state = 'Waiting for schema metadata lock' AND info = 'DROP DATABASE {db}'"
    );
    let mut seen = false;
    for _ in 0..100 {
        if first_int(&mut holder, &wait).await? == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_codes(
        &mut holder,
        &[&format!("CREATE DATABASE IF NOT EXISTS {db}")],
        1192,
    )
    .await;
    holder.query_drop("UNLOCK TABLES").await?;
    dropping.await??;
    assert!(seen, "the DROP DATABASE never showed its state");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_name_that_is_not_utf8_is_refused_not_renamed() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    // ctype_recoding: a koi8r client's `CREATE DATABASE тест` reached the catalog as
    // four U+FFFD (SHOW DATABASES showed them; USE of the name then found no database).
    for names in ["koi8r", "utf8mb4"] {
        c.query_drop(format!("SET NAMES {names}")).await?;
        let result = c
            .query_drop(&b"CREATE DATABASE o4\xd4\xc5\xd3\xd4"[..])
            .await;
        let code = result.err().as_ref().and_then(common::code_of);
        assert_eq!(code, Some(1235), "SET NAMES {names}");
    }
    c.query_drop("SET NAMES utf8mb4").await?;
    let listed: Vec<String> = c.query("SHOW DATABASES LIKE 'o4%'").await?;
    assert!(listed.is_empty(), "{listed:?}");
    Ok(())
}
