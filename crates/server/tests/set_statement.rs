//! MariaDB's `SET STATEMENT var = value [, ...] FOR statement` through a real client:
//! on one data node and over four, the variables hold for the inner statement on every
//! node it runs on and for no statement after it; MariaDB's own errors for what it
//! refuses there; 1235 for inner statements the compute node answers by other means
//! and, over several nodes, for variables the compute node itself acts on. Over four
//! data nodes the answers are compared with one plain MariaDB.

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::Conn;

use diffkit::{create_on_both, differences, drop_and_shut_down, node_and_reference, BoxError};

type TestResult = Result<(), BoxError>;

/// The error code of `sql`, None when it succeeds.
async fn code_of(c: &mut Conn, sql: &str) -> Option<u16> {
    match c.query_drop(sql).await {
        Ok(()) => None,
        Err(mysql_async::Error::Server(e)) => Some(e.code),
        Err(e) => panic!("{sql}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_statement_holds_for_its_statement_only_on_one_data_node() -> TestResult {
    let node = strata_testkit::ComputeNode::on_shared_storage(1).await?;
    let mut c = node.connect(Some("test")).await?;
    let t = strata_testkit::unique_name("ss1");
    c.query_drop(format!(
        "CREATE TABLE {t} (id INT PRIMARY KEY, s VARCHAR(3))"
    ))
    .await?;

    let during: Option<u64> = c
        .query_first("SET STATEMENT sort_buffer_size = 100000 FOR SELECT @@sort_buffer_size")
        .await?;
    assert_eq!(during, Some(100000));
    let after: Option<u64> = c.query_first("SELECT @@sort_buffer_size").await?;
    assert_ne!(after, Some(100000));
    let mode: Option<String> = c
        .query_first("SET STATEMENT sql_mode = '' FOR SELECT @@sql_mode")
        .await?;
    assert_eq!(mode.as_deref(), Some(""));
    let mode: Option<String> = c
        .query_first(
            "SET STATEMENT sql_mode = 'NO_ZERO_DATE' FOR EXECUTE IMMEDIATE 'SELECT @@sql_mode'",
        )
        .await?;
    assert_eq!(mode.as_deref(), Some("NO_ZERO_DATE"));
    // Nested: MariaDB 10.11 applies the innermost assignments only (checked there).
    let nested: Option<(String, u64)> = c
        .query_first("SET STATEMENT sql_mode = 'NO_ZERO_DATE' FOR SET STATEMENT sort_buffer_size = 100000 FOR SELECT @@sql_mode, @@sort_buffer_size")
        .await?;
    let session_mode: Option<String> = c.query_first("SELECT @@sql_mode").await?;
    assert_eq!(nested, session_mode.map(|m| (m, 100000)));

    // Strict mode refuses the long value; without it the value is cut (a warning).
    let insert = format!("INSERT INTO {t} VALUES (1, 'abcdef')");
    assert_eq!(code_of(&mut c, &insert).await, Some(1406));
    c.query_drop(format!("SET STATEMENT sql_mode = '' FOR {insert}"))
        .await?;
    assert_eq!(c.get_warnings(), 1);
    let s: Option<String> = c.query_first(format!("SELECT s FROM {t}")).await?;
    assert_eq!(s.as_deref(), Some("abc"));
    assert_eq!(
        code_of(&mut c, &format!("INSERT INTO {t} VALUES (2, 'abcdef')")).await,
        Some(1406),
        "the statement's sql_mode did not outlive it"
    );

    // MariaDB's own errors.
    for (sql, code) in [
        ("SET STATEMENT autocommit = 0 FOR SELECT 1", 1971),
        ("SET STATEMENT no_such_variable = 1 FOR SELECT 1", 1193),
        ("SET STATEMENT sort_buffer_size = 'x' FOR SELECT 1", 1232),
        ("SET STATEMENT @x = 1 FOR SELECT 1", 1064),
        ("SET STATEMENT sort_buffer_size = 100000 FOR", 1064),
    ] {
        assert_eq!(code_of(&mut c, sql).await, Some(code), "{sql}");
    }
    // What the compute node answers by other means, and its default deny.
    for (sql, code) in [
        (
            "SET STATEMENT sql_mode = '' FOR SHOW VARIABLES LIKE 'sql_mode'",
            1235,
        ),
        ("SET STATEMENT sql_mode = '' FOR BEGIN", 1235),
        ("SET STATEMENT sql_mode = '' FOR SHUTDOWN", 1235),
        (
            "SET STATEMENT sql_mode = '' FOR SELECT * FROM information_schema.tables",
            1235,
        ),
        (
            "SET STATEMENT sql_mode = '' FOR SELECT * FROM mysql.tables_priv",
            1044,
        ),
        (
            "SET STATEMENT sort_buffer_size = (SELECT 1 FROM mysql.user) FOR SELECT 1",
            1044,
        ),
        (
            "SET STATEMENT sql_mode = '' FOR SELECT LOAD_FILE('/etc/passwd')",
            1290,
        ),
    ] {
        assert_eq!(code_of(&mut c, sql).await, Some(code), "{sql}");
    }
    c.query_drop(format!("DROP TABLE {t}")).await?;
    node.shutdown().await;
    Ok(())
}

const TABLES: &[(&str, &str, &str)] = &[(
    "ss",
    "id INT NOT NULL PRIMARY KEY, s VARCHAR(3) NULL, n INT NULL",
    "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_statement_applies_on_every_data_node_the_statement_runs_on() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("ssm", "ssm_ref").await?;
    create_on_both(
        &mut strata,
        &mut reference,
        TABLES,
        &["INSERT INTO ss VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3), (4, 'd', 4)"],
    )
    .await?;
    // Rows on every node: strict mode would refuse each long value.
    let statements: &[(&str, bool)] = &[
        (
            "INSERT INTO ss VALUES (5, 'eeeee', 5), (6, 'ffffff', 6), (7, 'ggggg', 7), (8, 'hhhhh', 8)",
            false,
        ),
        (
            "SET STATEMENT sql_mode = '' FOR INSERT INTO ss VALUES (5, 'eeeee', 5), (6, 'ffffff', 6), (7, 'ggggg', 7), (8, 'hhhhh', 8)",
            false,
        ),
        ("SELECT id, s FROM ss ORDER BY id", true),
        (
            "SET STATEMENT sql_mode = 'STRICT_ALL_TABLES' FOR UPDATE ss SET s = 'toolong' WHERE id > 4",
            false,
        ),
        (
            "SET STATEMENT sql_mode = '' FOR UPDATE ss SET s = CONCAT(s, 'xyz') WHERE id <= 4",
            false,
        ),
        (
            "SET STATEMENT max_statement_time = 20, sort_buffer_size = 100000 FOR SELECT id, s, n FROM ss ORDER BY n DESC",
            true,
        ),
        (
            "SET STATEMENT sort_buffer_size = 100000 FOR SELECT COUNT(*), SUM(n) FROM ss",
            true,
        ),
        (
            "SET STATEMENT sql_mode = '' FOR DELETE FROM ss WHERE n > 6",
            false,
        ),
        ("SELECT id, s, n FROM ss ORDER BY id", true),
        ("SET STATEMENT autocommit = 0 FOR SELECT id FROM ss", false),
    ];
    let failures = differences(&mut reference, &mut strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Variables the compute node acts on itself are refused over several nodes.
    for sql in [
        "SET STATEMENT group_concat_max_len = 4 FOR SELECT GROUP_CONCAT(s) FROM ss",
        "SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR SELECT id FROM ss",
        "SET STATEMENT insert_id = 100 FOR INSERT INTO ss (s) VALUES ('x')",
        "SET STATEMENT sort_buffer_size = @x FOR SELECT id FROM ss",
    ] {
        assert_eq!(code_of(&mut strata, sql).await, Some(1235), "{sql}");
    }
    reference.query_drop("DROP TABLE ss").await?;
    drop_and_shut_down(node, &mut strata, &db).await
}
