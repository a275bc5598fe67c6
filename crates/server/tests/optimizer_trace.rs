//! `information_schema.OPTIMIZER_TRACE` through Strata over one data node, compared
//! with one plain MariaDB: the session's trace is read on the storage connection its
//! statements ran on, Strata's own statements there do not replace it, QUERY is the
//! client's text and physical database names never show.

mod common;

use common::{error_of, physical_test_db, run_all, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, ComputeNode};

type Trace = (String, String, i64, i64);

async fn trace(c: &mut Conn) -> TestResult<Vec<Trace>> {
    Ok(c.query("SELECT * FROM information_schema.OPTIMIZER_TRACE")
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_is_the_sessions_as_mariadb_shows_it() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let reference_db = format!("optrace_ref_{}", std::process::id());
    storage.create_database(&reference_db).await?;
    let mut strata = node.connect(Some("test")).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let physical = physical_test_db(&node)?;
    assert_ne!(physical, "test", "the test wants names that differ");
    let setup = [
        "DROP TABLE IF EXISTS ot1",
        "CREATE TABLE ot1 (a INT PRIMARY KEY, b INT, KEY (b)) ENGINE=MyISAM",
        "INSERT INTO ot1 VALUES (1, 1), (2, 2), (3, 3), (4, 1)",
    ];
    run_all(&mut strata, &setup).await?;
    run_all(&mut reference, &setup).await?;
    // Never enabled: no trace (a pooled connection's trace is another session's).
    assert!(trace(&mut strata).await?.is_empty());
    for c in [&mut strata, &mut reference] {
        run_all(c, &["SET @keep = 1", "SET optimizer_trace = 'enabled=on'"]).await?;
    }
    for sql in [
        "SELECT * FROM ot1 WHERE b = 1 AND a > 1",
        "UPDATE ot1 SET b = b + 1 WHERE a = 2",
        "SELECT COUNT(DISTINCT b) FROM ot1",
    ] {
        strata.query_drop(sql).await?;
        let s = trace(&mut strata).await?;
        reference.query_drop(sql).await?;
        let r = trace(&mut reference).await?;
        assert_eq!(s.len(), 1, "{sql}");
        assert_eq!(s, r, "{sql}");
        assert_eq!(s[0].0, sql);
    }
    // Statements that are not traced (SET, an INSERT, a SET read back by Strata,
    // LAST_INSERT_ID(expr) read back) keep the last trace, as in MariaDB.
    for c in [&mut strata, &mut reference] {
        run_all(
            c,
            &[
                "SELECT * FROM ot1 WHERE a = 3",
                "SET @x = 5",
                "SET sort_buffer_size = 262144 * 2",
                "INSERT INTO ot1 VALUES (LAST_INSERT_ID(9), 9)",
                "SET optimizer_trace = 'enabled=off'",
            ],
        )
        .await?;
    }
    let s = trace(&mut strata).await?;
    assert_eq!(s, trace(&mut reference).await?);
    assert_eq!(s[0].0, "SELECT * FROM ot1 WHERE a = 3");
    // No current database: the trace names the logical database, never the physical one.
    let mut bare = node.connect(None).await?;
    run_all(
        &mut bare,
        &[
            "SET optimizer_trace = 'enabled=on'",
            "SELECT * FROM test.ot1 WHERE a = 1",
        ],
    )
    .await?;
    let s = trace(&mut bare).await?;
    assert_eq!(s[0].0, "SELECT * FROM test.ot1 WHERE a = 1");
    assert!(s[0].1.contains("test.ot1"), "{}", s[0].1);
    assert!(!s[0].1.contains(&physical) && !s[0].0.contains(&physical));
    let (query, len): (String, i64) = bare
        .query_first("SELECT QUERY, LENGTH(TRACE) FROM information_schema.OPTIMIZER_TRACE")
        .await?
        .ok_or("no trace")?;
    assert_eq!((query, len), (s[0].0.clone(), s[0].1.len() as i64));
    // An account without all privileges: MariaDB would check the traced statement's
    // objects against its privileges, which Strata does not: refused.
    run_all(
        &mut strata,
        &[
            "DROP USER IF EXISTS optrace_u",
            "CREATE USER optrace_u IDENTIFIED BY 'pw'",
            "GRANT SELECT ON test.* TO optrace_u",
        ],
    )
    .await?;
    let opts = mysql_async::OptsBuilder::from_opts(node.opts(Some("test")))
        .user(Some("optrace_u"))
        .pass(Some("pw"));
    let mut limited = Conn::new(opts).await?;
    run_all(
        &mut limited,
        &["SET optimizer_trace = 'enabled=on'", "SELECT * FROM ot1"],
    )
    .await?;
    let (code, message) = error_of(
        &mut limited,
        "SELECT * FROM information_schema.OPTIMIZER_TRACE",
    )
    .await;
    assert_eq!(code, Some(1235), "{message}");
    strata.query_drop("DROP USER optrace_u").await?;
    reference
        .query_drop(format!("DROP DATABASE {reference_db}"))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_several_data_nodes_the_trace_is_refused() -> TestResult {
    let storage = shared_storage(2).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    run_all(&mut c, &["SET optimizer_trace = 'enabled=on'", "SELECT 1"]).await?;
    let (code, message) =
        error_of(&mut c, "SELECT * FROM information_schema.OPTIMIZER_TRACE").await;
    assert_eq!(code, Some(1235), "{message}");
    Ok(())
}
