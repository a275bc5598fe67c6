//! The storage servers' caches through Strata: `FLUSH QUERY CACHE` / `RESET QUERY
//! CACHE` (RELOAD) run on every storage server; `CACHE INDEX t, ... IN c` and `LOAD
//! INDEX INTO CACHE t, ...` run on the data nodes holding the tables, names checked as
//! any statement's, rows naming the logical `db.table` as MariaDB's name its own (one
//! data node: compared with a plain MariaDB); `SHOW PROCEDURE|FUNCTION CODE` is the
//! release build's 1289.

mod common;

use common::{assert_codes, error_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_catalog::config::StorageGlobals;
use strata_testkit::{mysql_opts, ComputeNode, StorageNodes};

/// The rows of `sql` as text, `from.` in them written `to.`.
async fn rows(c: &mut Conn, sql: &str, from: &str, to: &str) -> TestResult<Vec<Vec<String>>> {
    let got: Vec<mysql_async::Row> = c.query(sql).await?;
    Ok(got
        .into_iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let v: Option<String> = row.get(i).flatten();
                    v.unwrap_or_else(|| "NULL".into())
                        .replace(&format!("{from}."), &format!("{to}."))
                })
                .collect()
        })
        .collect())
}

/// `sql`'s rows, or its error code and message.
async fn outcome(
    c: &mut Conn,
    sql: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Vec<String>>, (Option<u16>, String)> {
    match rows(c, sql, from, to).await {
        Ok(r) => Ok(r),
        Err(e) => match e.downcast::<mysql_async::Error>() {
            Ok(e) => Err((common::code_of(&e), e.to_string())),
            Err(e) => Err((None, e.to_string())),
        },
    }
}

/// The global status counter `name` read straight from a storage server.
async fn counter(c: &mut Conn, name: &str) -> TestResult<u64> {
    let row: Option<(String, u64)> = c
        .query_first(format!("SHOW GLOBAL STATUS LIKE '{name}'"))
        .await?;
    Ok(row.ok_or("no such counter")?.1)
}

const TABLES: &[&str] = &[
    "CREATE TABLE t1 (a INT, b INT, KEY (a), KEY (b)) ENGINE=MyISAM",
    "CREATE TABLE t2 (a INT, KEY (a)) ENGINE=MyISAM",
    "CREATE TABLE t3 (a INT, KEY (a)) ENGINE=MyISAM PARTITION BY HASH (a) PARTITIONS 2",
    "INSERT INTO t1 VALUES (1, 1), (2, 2)",
    "INSERT INTO t2 VALUES (1), (2)",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_data_node_answers_as_mariadb() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.storage_globals = StorageGlobals::Settable)
        .start()
        .await?;
    storage.create_database("kcref").await?;
    let mut reference = storage.connect(0, Some("kcref")).await?;
    let mut strata = node.connect(Some("test")).await?;
    // A named key cache exists once its size is set (a storage global).
    strata
        .query_drop("SET GLOBAL kc1.key_buffer_size = 1048576")
        .await?;
    for sql in TABLES {
        reference.query_drop(*sql).await?;
        strata.query_drop(*sql).await?;
    }
    let statements = [
        "CACHE INDEX t1, t2 KEY (a) IN kc1",
        "CACHE INDEX t1 INDEX (a, b), t2 IN kc1",
        "cache index t3 partition (p1) in kc1",
        "CACHE INDEX t3 PARTITION (no_such) IN kc1",
        "CACHE INDEX t1, no_such IN kc1",
        "CACHE INDEX t2, t1, t2 IN kc1",
        "CACHE INDEX t1 IN no_such_cache",
        "CACHE INDEX t1 IN DEFAULT",
        "LOAD INDEX INTO CACHE t1 IGNORE LEAVES, t2 KEY (a)",
        "LOAD INDEX INTO CACHE t3 PARTITION (ALL)",
        "LOAD INDEX INTO CACHE no_such",
        "SHOW PROCEDURE CODE p",
        "SHOW FUNCTION CODE kcref.f",
        "SHOW PACKAGE BODY CODE p",
    ];
    for sql in statements {
        let expected = outcome(&mut reference, sql, "kcref", "test").await;
        let got = outcome(&mut strata, sql, "kcref", "test").await;
        match (&expected, &got) {
            (Err((code, _)), Err((got_code, message))) => {
                assert_eq!(code, got_code, "{sql}: {message}")
            }
            _ => assert_eq!(expected, got, "{sql}"),
        }
    }
    // Names checked as anywhere: the storage servers' schemas are not the client's.
    assert_codes(
        &mut strata,
        &[
            "CACHE INDEX mysql.user IN kc1",
            "LOAD INDEX INTO CACHE t1, mysql.db",
        ],
        1044,
    )
    .await;
    // Without a current database, an unqualified routine is 1046 first, as MariaDB.
    let mut no_db = node.connect(None).await?;
    let (code, _) = error_of(&mut no_db, "SHOW PROCEDURE CODE p").await;
    assert_eq!(code, Some(1046));
    let (code, message) = error_of(&mut no_db, "SHOW PROCEDURE CODE test.p").await;
    assert_eq!(code, Some(1289), "{message}");
    assert!(
        message.contains("you need MariaDB built with '--with-debug'"),
        "{message}"
    );

    // FLUSH / RESET QUERY CACHE reach the storage server's query cache.
    strata.query_drop("SET GLOBAL query_cache_type = 1").await?;
    strata
        .query_drop("SET SESSION query_cache_type = 1")
        .await?;
    let mut direct = storage.connect(0, None).await?;
    for _ in 0..2 {
        let _: Vec<(i64, i64)> = strata.query("SELECT a, b FROM t1 ORDER BY a").await?;
    }
    assert!(counter(&mut direct, "Qcache_queries_in_cache").await? >= 1);
    strata.query_drop("FLUSH QUERY CACHE").await?;
    assert!(counter(&mut direct, "Qcache_queries_in_cache").await? >= 1);
    strata.query_drop("/* why */ RESET QUERY CACHE").await?;
    assert_eq!(counter(&mut direct, "Qcache_queries_in_cache").await?, 0);
    strata.query_drop("SET GLOBAL query_cache_type = 0").await?;

    // Privileges: RELOAD for the query cache; any privilege on the tables for the key
    // caches (MariaDB's 1142 names the statement).
    strata
        .query_drop("CREATE USER 'kcu'@'%' IDENTIFIED BY 'pw'")
        .await?;
    strata
        .query_drop("GRANT SELECT ON test.t1 TO 'kcu'@'%'")
        .await?;
    let opts = mysql_opts(node.service_addr(), "kcu", "pw", Some("test"));
    let mut user = Conn::new(opts).await?;
    let ok = outcome(&mut user, "CACHE INDEX t1 IN kc1", "", "").await;
    assert_eq!(
        ok,
        Ok(vec![vec![
            "test.t1".to_string(),
            "assign_to_keycache".into(),
            "status".into(),
            "OK".into()
        ]])
    );
    for (sql, command) in [
        ("CACHE INDEX t2 IN kc1", "CACHE INDEX"),
        ("LOAD INDEX INTO CACHE t1, t2", "LOAD INDEX INTO CACHE"),
    ] {
        let (code, message) = error_of(&mut user, sql).await;
        assert_eq!(code, Some(1142), "{sql}: {message}");
        assert!(
            message.contains(&format!("{command} command denied")) && message.contains("`t2`"),
            "{sql}: {message}"
        );
    }
    assert_codes(&mut user, &["FLUSH QUERY CACHE", "RESET QUERY CACHE"], 1227).await;
    // Inside a routine they would run past the session's checks: still refused.
    assert_codes(
        &mut strata,
        &[
            "CREATE PROCEDURE p() CACHE INDEX t1 IN kc1",
            "CREATE PROCEDURE p() RESET QUERY CACHE",
        ],
        1227,
    )
    .await;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_data_nodes_run_them_where_the_tables_are() -> TestResult {
    let storage = StorageNodes::start(2).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.storage_globals = StorageGlobals::Settable)
        .start()
        .await?;
    let mut strata = node.connect(Some("test")).await?;
    strata
        .query_drop("SET GLOBAL kc2.key_buffer_size = 1048576")
        .await?;
    for sql in [
        "CREATE TABLE s (id INT NOT NULL PRIMARY KEY, v INT, KEY (v)) ENGINE=MyISAM \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-2'",
        "CREATE TABLE one (id INT NOT NULL PRIMARY KEY) ENGINE=MyISAM \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '2'",
        "INSERT INTO s VALUES (1, 1), (2, 2), (3, 3)",
    ] {
        strata.query_drop(sql).await?;
    }
    let row = |t: &str, op: &str| {
        vec![
            format!("test.{t}"),
            op.to_string(),
            "status".into(),
            "OK".into(),
        ]
    };
    assert_eq!(
        rows(&mut strata, "CACHE INDEX s, one IN kc2", "", "").await?,
        vec![
            row("s", "assign_to_keycache"),
            row("one", "assign_to_keycache")
        ]
    );
    assert_eq!(
        rows(
            &mut strata,
            "LOAD INDEX INTO CACHE s KEY (v), test.one",
            "",
            ""
        )
        .await?,
        vec![row("s", "preload_keys"), row("one", "preload_keys")]
    );
    // MariaDB's order of the list, though node 1 answers for `s` only.
    assert_eq!(
        rows(&mut strata, "CACHE INDEX one, s IN kc2", "", "").await?,
        vec![
            row("one", "assign_to_keycache"),
            row("s", "assign_to_keycache")
        ]
    );
    // A table no node has: MariaDB's rows, with the logical name.
    let failed = |m: &str| {
        vec![
            "test.no_such".to_string(),
            "assign_to_keycache".into(),
            m.split_once(':').map_or("status", |(t, _)| t).into(),
            m.split_once(':').map_or(m, |(_, t)| t).into(),
        ]
    };
    assert_eq!(
        rows(&mut strata, "CACHE INDEX s, no_such IN kc2", "", "").await?,
        vec![
            row("s", "assign_to_keycache"),
            failed("Error:Table 'test.no_such' doesn't exist"),
            failed("Operation failed"),
        ]
    );
    let (code, message) = error_of(&mut strata, "CACHE INDEX s IN no_such_cache").await;
    assert_eq!(code, Some(1284), "{message}");
    assert_codes(&mut strata, &["CACHE INDEX mysql.user IN kc2"], 1044).await;
    let (code, _) = error_of(&mut strata, "SHOW FUNCTION CODE f").await;
    assert_eq!(code, Some(1289));

    // RESET QUERY CACHE empties every storage server's query cache.
    strata.query_drop("SET GLOBAL query_cache_type = 1").await?;
    let mut direct = Vec::new();
    let physical = node.physical_database("test").ok_or("no test")?.to_string();
    for i in 0..2 {
        let mut c = storage.connect(i, Some(&physical)).await?;
        c.query_drop("SET SESSION query_cache_type = 1").await?;
        c.query_drop("SELECT COUNT(*) FROM s").await?;
        assert!(counter(&mut c, "Qcache_queries_in_cache").await? >= 1);
        direct.push(c);
    }
    strata.query_drop("FLUSH LOCAL QUERY CACHE").await?;
    strata.query_drop("RESET QUERY CACHE").await?;
    for c in &mut direct {
        assert_eq!(counter(c, "Qcache_queries_in_cache").await?, 0);
    }
    strata.query_drop("SET GLOBAL query_cache_type = 0").await?;
    node.shutdown().await;
    Ok(())
}
