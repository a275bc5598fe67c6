//! `LAST_INSERT_ID()` after INSERTs on one data node, against MariaDB: an OK packet
//! reports an explicit AUTO_INCREMENT value as its insert id, which `LAST_INSERT_ID()`
//! does not take (auto_increment); only a generated one counts. Text and prepared
//! statements, and a pooled connection whose own value another session left;
//! `@@last_insert_id`/`@@identity` are the session's, and `SET last_insert_id = n` sets it;
//! the session's functions in a prepared statement are the session's too, and
//! `DATABASE()` is the client's database, not the storage node's name for it.

mod common;

use common::{first_int, run_all, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

/// Statements, each followed by a read of `LAST_INSERT_ID()` on both sides.
const STEPS: &[&str] = &[
    "INSERT INTO t (v) VALUES (1)",
    "INSERT INTO t VALUES (10, 2)",
    "INSERT INTO t VALUES (NULL, 3), (20, 4)",
    "INSERT INTO t VALUES (30, 5), (NULL, 6)",
    "INSERT INTO t VALUES (1 + 39, 7)",
    "INSERT INTO t SET id = '50', v = 8",
    "INSERT INTO t SELECT NULL, 9",
    "INSERT INTO t SELECT 100, 10",
    "REPLACE INTO t VALUES (100, 11)",
    "INSERT INTO t VALUES (100, 12) ON DUPLICATE KEY UPDATE v = 13",
    "INSERT INTO t (v) VALUES (14) ON DUPLICATE KEY UPDATE v = 15",
    "INSERT INTO t VALUES (200, 16), (201, 17)",
    "SET last_insert_id = 77",
    "INSERT INTO t VALUES (202, 18)",
    "SET @@session.identity = 3 + 4",
    "SET @x = 1, @@last_insert_id := 8",
];

/// Prepared INSERTs and their parameters, each followed by a read of `LAST_INSERT_ID()`.
fn prepared_steps() -> Vec<(&'static str, mysql_async::Params)> {
    vec![
        ("INSERT INTO t (v) VALUES (?)", (21,).into()),
        ("INSERT INTO t VALUES (?, ?)", (300, 22).into()),
        (
            "INSERT INTO t VALUES (?, ?)",
            (mysql_async::Value::NULL, 23).into(),
        ),
        ("INSERT INTO t VALUES (?, ?)", ("400", 24).into()),
        ("INSERT INTO t VALUES (?, ?)", (0, 25).into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_insert_id_keeps_generated_values_only_as_mariadb() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("lii");
    let reference_db = unique_name("liiref");
    let mut strata = node.connect(Some("test")).await?;
    run_all(
        &mut strata,
        &[&format!("CREATE DATABASE {db}"), &format!("USE {db}")],
    )
    .await?;
    storage.create_database(&reference_db).await?;
    let mut reference = mysql_async::Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let create = "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)";
    run_all(&mut strata, &[create]).await?;
    run_all(&mut reference, &[create]).await?;
    let mut failures = Vec::new();
    for sql in STEPS {
        reference.query_drop(*sql).await?;
        strata.query_drop(*sql).await?;
        let expected = first_int(&mut reference, "SELECT LAST_INSERT_ID()").await?;
        let got = first_int(&mut strata, "SELECT LAST_INSERT_ID()").await?;
        let got_var = first_int(&mut strata, "SELECT @@last_insert_id + 0").await?;
        if (got, got_var) != (expected, expected) {
            failures.push(format!(
                "{sql}: MariaDB {expected}, Strata {got} / {got_var}"
            ));
        }
    }
    for (sql, params) in prepared_steps() {
        reference.exec_drop(sql, params.clone()).await?;
        strata.exec_drop(sql, params.clone()).await?;
        let expected = first_int(&mut reference, "SELECT LAST_INSERT_ID()").await?;
        let got: Option<i64> = strata.exec_first("SELECT LAST_INSERT_ID()", ()).await?;
        if got != Some(expected) {
            failures.push(format!(
                "prepared {sql} {params:?}: MariaDB {expected}, Strata {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Another session leaves its generated id on the pooled connection this session's
    // next explicit INSERT borrows: the session keeps its own value.
    let mut other = node.connect(Some(&db)).await?;
    run_all(&mut other, &["INSERT INTO t (v) VALUES (30)"]).await?;
    let left = first_int(&mut other, "SELECT LAST_INSERT_ID()").await?;
    drop(other);
    // A fresh session's variables are its own too, not the pooled connection's.
    let mut fresh = node.connect(Some(&db)).await?;
    let read = "SELECT @@last_insert_id + @@identity + LAST_INSERT_ID()";
    assert_eq!(first_int(&mut fresh, read).await?, 0);
    // So are the session's functions in a prepared statement (they were the storage
    // connection's thread id and account).
    for q in ["SELECT CONNECTION_ID()", "SELECT ROW_COUNT()"] {
        let text: Option<i64> = fresh.query_first(q).await?;
        let prepared: Option<i64> = fresh.exec_first(q, ()).await?;
        assert_eq!(prepared, text, "prepared {q}");
    }
    for q in ["SELECT USER(), ? + 1", "SELECT CURRENT_USER(), ? + 1"] {
        let text: Option<(String, i64)> = fresh.query_first(q.replace('?', "1")).await?;
        let prepared: Option<(String, i64)> = fresh.exec_first(q, (1,)).await?;
        assert_eq!(prepared, text, "prepared {q}");
    }
    let prepared: Option<i64> = fresh.exec_first(read, ()).await?;
    assert_eq!(prepared, Some(0), "prepared {read}");
    drop(fresh);
    let before = first_int(&mut strata, "SELECT LAST_INSERT_ID()").await?;
    run_all(
        &mut strata,
        &[&format!("INSERT INTO t VALUES ({}, 31)", left + 1000)],
    )
    .await?;
    assert_eq!(
        first_int(&mut strata, "SELECT LAST_INSERT_ID()").await?,
        before
    );

    drop(strata);
    let _ = reference
        .query_drop(format!("DROP DATABASE {reference_db}"))
        .await;
    let mut admin = node.connect(None).await?;
    admin.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

/// `SET insert_id = n` is spent by the next INSERT, as in MariaDB: a later INSERT on
/// another storage connection (the session's was busy with other sessions) does not use
/// it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_id_is_used_once() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("iid");
    let mut a = node.connect(Some("test")).await?;
    run_all(
        &mut a,
        &[
            &format!("CREATE DATABASE {db}"),
            &format!("USE {db}"),
            "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
            "SET insert_id = 100",
            "INSERT INTO t (v) VALUES (1)",
        ],
    )
    .await?;
    // Two other sessions hold every pooled connection in their transactions.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = node.connect(Some(&db)).await?;
        run_all(&mut c, &["BEGIN", "SELECT COUNT(*) FROM t"]).await?;
        held.push(c);
    }
    run_all(&mut a, &["INSERT INTO t (v) VALUES (2)"]).await?;
    let ids: Vec<i64> = a.query("SELECT id FROM t ORDER BY id").await?;
    assert_eq!(ids, vec![100, 101]);
    assert_eq!(first_int(&mut a, "SELECT @@insert_id").await?, 0);
    for mut c in held {
        run_all(&mut c, &["ROLLBACK"]).await?;
    }
    a.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

/// DATABASE() in a statement a storage node runs is the client's database, not the
/// storage node's physical name for it (the configured database's differ).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_in_statements_is_the_logical_name() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = node.config().databases[0].name.clone();
    let physical = node.config().data_nodes[0].primary.database.clone();
    assert_ne!(db, physical, "the test needs names that differ");
    let mut c = node.connect(Some(&db)).await?;
    run_all(
        &mut c,
        &[
            "DROP TABLE IF EXISTS dbn",
            "CREATE TABLE dbn (d VARCHAR(64))",
            "INSERT INTO dbn VALUES (DATABASE())",
            "SET @d = SCHEMA()",
        ],
    )
    .await?;
    for sql in [
        "SELECT CONCAT(DATABASE(), IFNULL(@v, ''))",
        "SELECT d FROM (SELECT DATABASE() AS d) x",
        "SELECT d FROM dbn WHERE d = DATABASE()",
        "SELECT @d",
    ] {
        let got: Option<String> = c.query_first(sql).await?;
        assert_eq!(got.as_deref(), Some(db.as_str()), "{sql}");
    }
    let named: Option<mysql_async::Row> = c.query_first("SELECT DATABASE(), 1").await?;
    let columns: Vec<String> = named
        .map(|r| {
            r.columns_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(columns, ["DATABASE()", "1"]);
    run_all(&mut c, &["DROP TABLE dbn"]).await?;
    node.shutdown().await;
    Ok(())
}
