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
    // A subquery would read on the home node alone: refused, not answered.
    let (code, _) = failure(&mut strata, "KILL (SELECT 987654321)")
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
