//! Helpers the server's integration tests share: their error type, what a failed
//! statement answered, statements run in order, and a command-line client run with its
//! input piped in.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use mysql_async::prelude::*;
use mysql_async::Conn;
use std::sync::Arc;

use strata_testkit::{shared_storage, ComputeNode, StorageNodes, ROOT_PASSWORD, ROOT_USER};

/// Error type of the tests.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a test (or a helper returning `T`) ends with.
pub type TestResult<T = ()> = Result<T, BoxError>;

/// The MySQL error code of a server's error reply (None for other errors).
pub fn code_of(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// The code and text of the error `sql` fails with; (None, "") when it succeeds.
pub async fn error_of(c: &mut Conn, sql: &str) -> (Option<u16>, String) {
    match c.query_drop(sql).await {
        Ok(()) => (None, String::new()),
        Err(e) => (code_of(&e), e.to_string()),
    }
}

/// Asserts that each of `statements` fails with the error `code`.
pub async fn assert_codes(c: &mut Conn, statements: &[&str], code: u16) {
    for sql in statements {
        let (got, message) = error_of(c, sql).await;
        assert_eq!(got, Some(code), "{sql}: {message}");
    }
}

/// Asserts that `e` is the server's error reply `code`.
pub fn assert_code(e: &mysql_async::Error, code: u16) {
    match e {
        mysql_async::Error::Server(s) => assert_eq!(s.code, code, "{}", s.message),
        other => panic!("expected error {code}, got {other:?}"),
    }
}

/// A compute node with the default configuration on the `n` shared storage nodes, and
/// those storage nodes (to look at what reached them).
pub async fn node_on_shared(n: usize) -> TestResult<(Arc<StorageNodes>, ComputeNode)> {
    let storage = shared_storage(n).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    Ok((storage, node))
}

/// A compute node with the default configuration on the `n` shared storage nodes, and
/// a connection to its database `test`.
pub async fn node_and_conn(n: usize) -> TestResult<(ComputeNode, Conn)> {
    let node = ComputeNode::on_shared_storage(n).await?;
    let c = node.connect(Some("test")).await?;
    Ok((node, c))
}

/// Asserts that `sql`, a list of databases (SHOW DATABASES, a query of SCHEMATA), shows
/// exactly `information_schema` and `test`: what a client of a default node sees.
pub async fn assert_lists_only_test(c: &mut Conn, sql: &str) -> TestResult {
    let names: Vec<String> = c.query(sql).await?;
    assert_eq!(names, ["information_schema", "test"], "{sql}");
    Ok(())
}

/// Whether the server closes `c` (a killed session) within a second: its next
/// statement fails.
pub async fn is_closed_soon(c: &mut Conn) -> bool {
    for _ in 0..50 {
        if c.query_drop("SELECT 1").await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// The integer in the first column of the first row `sql` returns (-1 without a row or
/// for NULL).
pub async fn first_int(c: &mut Conn, sql: &str) -> Result<i64, mysql_async::Error> {
    let v: Option<Option<i64>> = c.query_first(sql).await?;
    Ok(v.flatten().unwrap_or(-1))
}

/// Runs `statements` one after the other, stopping at the first that fails.
pub async fn run_all(c: &mut Conn, statements: &[&str]) -> Result<(), mysql_async::Error> {
    for sql in statements {
        c.query_drop(*sql).await?;
    }
    Ok(())
}

/// The physical database behind the logical database `test` of `node`.
pub fn physical_test_db(node: &ComputeNode) -> TestResult<String> {
    Ok(node
        .physical_database("test")
        .ok_or("no logical database test")?
        .to_string())
}

/// The options that connect a MariaDB command-line client to `addr` as `root`, over TCP
/// and without reading option files.
pub fn root_client_args(addr: std::net::SocketAddr) -> Vec<String> {
    vec![
        "--no-defaults".into(),
        "--protocol=TCP".into(),
        format!("--host={}", addr.ip()),
        format!("--port={}", addr.port()),
        format!("--user={ROOT_USER}"),
        format!("--password={ROOT_PASSWORD}"),
    ]
}

/// Runs `program` with `args`, writes `input` to its standard input and returns its
/// standard output; a failure (to start, or an unsuccessful exit) is an error naming
/// the program, with its standard error.
pub fn run_piped(program: &str, args: &[String], input: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(input)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
