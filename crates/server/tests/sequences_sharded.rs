//! Sequences in a database over four data nodes, through a real client, against one
//! plain MariaDB: a sequence lives on the database's first default node, so every form
//! (CREATE/ALTER/DROP SEQUENCE, SHOW CREATE SEQUENCE, `SELECT * FROM s`, NEXTVAL,
//! NEXT VALUE FOR, LASTVAL, PREVIOUS VALUE FOR, SETVAL, 4084 when it runs out) answers
//! as MariaDB's, and an INSERT into a sharded table takes its values in MariaDB's order
//! before its rows are routed. Per-row uses over other nodes are refused (1235). Across
//! compute nodes sharing etcd metadata, a sequence made through one is used through the
//! other, and their values never repeat.

mod cluster_kit;
mod common;
mod diffkit;

use std::collections::HashSet;

use common::assert_codes;
use diffkit::{create_on_both, differences, drop_and_shut_down, node_and_reference, BoxError};
use mysql_async::prelude::*;

type TestResult = Result<(), BoxError>;

const TABLES: &[(&str, &str, &str)] = &[(
    "st",
    "id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(10) NULL, w BIGINT NULL",
    "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_over_several_data_nodes_answer_as_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("sqs", "sqs_ref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, &[]).await?;
    let statements: &[(&str, bool)] = &[
        ("CREATE SEQUENCE sq START WITH 10 INCREMENT BY 3", true),
        ("SELECT NEXTVAL(sq)", true),
        (
            "SELECT NEXT VALUE FOR sq, LASTVAL(sq), PREVIOUS VALUE FOR sq",
            true,
        ),
        // Two uses in one row take two values, row by row, left to right.
        (
            "INSERT INTO st VALUES (NEXTVAL(sq), 'a', NULL), (NEXTVAL(sq), 'b', LASTVAL(sq))",
            true,
        ),
        (
            "INSERT INTO st SET v = 'c', id = NEXT VALUE FOR sq, w = NEXTVAL(sq)",
            true,
        ),
        (
            "INSERT INTO st (w, id, v) VALUES (NEXTVAL(sq), NEXTVAL(sq), 'd')",
            true,
        ),
        ("SELECT LASTVAL(sq), LAST_INSERT_ID()", true),
        ("SELECT id, v, w FROM st ORDER BY id", true),
        // A failing INSERT consumes the values it took.
        ("INSERT INTO st VALUES (NEXTVAL(sq), 'e', 0), (13, 'dup', 0)", true),
        ("SELECT NEXTVAL(sq)", true),
        ("SELECT SETVAL(sq, 1000), SETVAL(sq, 10), SETVAL(sq, 2000, 0)", true),
        ("SELECT NEXTVAL(sq)", true),
        ("ALTER SEQUENCE sq RESTART WITH 5 INCREMENT BY 1", true),
        ("SELECT NEXTVAL(sq), NEXTVAL(sq)", true),
        ("REPLACE INTO st VALUES (NEXTVAL(sq), 'r', 1)", true),
        ("SHOW CREATE SEQUENCE sq", true),
        ("SELECT * FROM sq", true),
        (
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
            true,
        ),
        ("CREATE SEQUENCE sq", true),
        ("CREATE SEQUENCE IF NOT EXISTS sq", true),
        ("CREATE SEQUENCE st", true),
        ("CREATE SEQUENCE cyc MINVALUE 1 MAXVALUE 2 NOCACHE", true),
        ("SELECT NEXTVAL(cyc), NEXTVAL(cyc)", true),
        ("SELECT NEXTVAL(cyc)", true),
        ("INSERT INTO st VALUES (NEXTVAL(cyc), 'x', 0)", true),
        ("ALTER SEQUENCE cyc CYCLE", true),
        ("SELECT NEXTVAL(cyc)", true),
        ("ALTER SEQUENCE nope RESTART 1", true),
        ("DROP SEQUENCE nope", true),
        ("SELECT NEXTVAL(nope)", true),
        ("INSERT INTO st VALUES (NEXTVAL(nope), 'x', 0)", true),
        ("SELECT NEXTVAL(st)", true),
        ("DROP SEQUENCE st", true),
        ("RENAME TABLE sq TO sq2", true),
        ("SELECT NEXTVAL(sq2)", true),
        ("CREATE OR REPLACE SEQUENCE sq2 START WITH 100", true),
        ("SELECT NEXTVAL(sq2)", true),
        // A view of a sequence (Strata's own view, expanded where it is read).
        ("CREATE VIEW vs AS SELECT NEXTVAL(sq2) AS n", true),
        ("SELECT * FROM vs", true),
        ("SELECT NEXT VALUE FOR vs", true),
        ("SHOW CREATE SEQUENCE vs", true),
        ("DROP VIEW vs", true),
        ("SELECT NEXTVAL(sq2), LASTVAL(sq2)", true),
        ("DROP SEQUENCE IF EXISTS cyc, nope", true),
        ("SELECT NEXTVAL(cyc)", true),
        // Taken inside a transaction: a rollback keeps them consumed.
        ("BEGIN", true),
        ("INSERT INTO st VALUES (NEXTVAL(sq2), 't', 0), (NEXTVAL(sq2), 'u', 0)", true),
        ("ROLLBACK", true),
        ("START TRANSACTION", true),
        ("INSERT INTO st VALUES (NEXTVAL(sq2), 'v', 0)", true),
        ("SELECT NEXTVAL(sq2)", true),
        ("COMMIT", true),
        // A sequence made as a table, and a copy of one.
        (
            "CREATE TABLE s3 (next_not_cached_value BIGINT(21) NOT NULL, minimum_value BIGINT(21) NOT NULL, maximum_value BIGINT(21) NOT NULL, start_value BIGINT(21) NOT NULL, increment BIGINT(21) NOT NULL, cache_size BIGINT(21) UNSIGNED NOT NULL, cycle_option TINYINT(1) UNSIGNED NOT NULL, cycle_count BIGINT(21) NOT NULL) SEQUENCE=1",
            true,
        ),
        ("INSERT INTO s3 VALUES (50, 1, 100, 50, 5, 0, 0, 0)", true),
        ("SELECT NEXTVAL(s3), NEXTVAL(s3)", true),
        ("INSERT INTO st VALUES (NEXTVAL(s3), 's3', 0)", true),
        ("CREATE TABLE s4 LIKE sq2", true),
        ("SELECT NEXTVAL(s4)", true),
        ("INSERT INTO st VALUES (NEXTVAL(s4), 's4', 0)", true),
        ("DROP TABLE s3", true),
        ("DROP SEQUENCE s4", true),
        ("SELECT id, v, w FROM st ORDER BY id", true),
    ];
    let failures = differences(&mut reference, &mut strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // SHOW FULL TABLES: the sequence's node reports it.
    let tables: Vec<(String, String)> = strata.query("SHOW FULL TABLES").await?;
    assert_eq!(
        tables,
        [
            ("sq2".to_string(), "SEQUENCE".to_string()),
            ("st".to_string(), "BASE TABLE".to_string())
        ]
    );

    // LASTVAL belongs to the session.
    let mut other = node.connect(Some(&db)).await?;
    let last: Option<Option<i64>> = other.query_first("SELECT LASTVAL(sq2)").await?;
    assert_eq!(last, Some(None));
    let failures = differences(
        &mut reference,
        &mut strata,
        &[("SELECT LASTVAL(sq2)", true)],
    )
    .await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let last: Option<Option<i64>> = strata.query_first("SELECT LASTVAL(sq2)").await?;
    assert!(matches!(last, Some(Some(_))), "{last:?}");

    // Values per row on nodes without the sequence, or a sequence per node: refused.
    assert_codes(
        &mut strata,
        &[
            "SELECT NEXTVAL(sq2), id FROM st",
            "UPDATE st SET w = NEXTVAL(sq2)",
            "INSERT INTO st SELECT NEXTVAL(sq2), 'x', 0 FROM sq2",
            "INSERT INTO st VALUES (99, 'x', 0) ON DUPLICATE KEY UPDATE w = NEXTVAL(sq2)",
            "CREATE TABLE d (id BIGINT DEFAULT NEXTVAL(sq2), v INT)",
        ],
        1235,
    )
    .await;
    // On another session: the session is marked as holding temporary state even when
    // the CREATE TEMPORARY is refused.
    assert_codes(&mut other, &["CREATE TEMPORARY SEQUENCE tmp"], 1235).await;
    let failures = differences(
        &mut reference,
        &mut strata,
        &[
            ("SELECT id, v, w FROM st ORDER BY id", true),
            ("DROP TABLE sq2", true),
        ],
    )
    .await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    reference.query_drop("DROP TABLE st").await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_values_are_unique_across_compute_nodes() -> TestResult {
    let (_etcd, nodes) = cluster_kit::cluster(1, 2, |_| {}).await?;
    let s = strata_testkit::unique_name("csq");
    let t = strata_testkit::unique_name("cst");
    let mut first = nodes[0].connect(Some("test")).await?;
    first
        .query_drop(format!("CREATE SEQUENCE {s} CACHE 5"))
        .await?;
    first
        .query_drop(format!(
            "CREATE TABLE {t} (id BIGINT PRIMARY KEY, node INT)"
        ))
        .await?;
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for _ in 0..2 {
            let mut conn = node.connect(Some("test")).await?;
            let (s, t) = (s.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                let mut taken = Vec::new();
                for i in 0..20 {
                    if i % 2 == 0 {
                        let v: Option<i64> =
                            conn.query_first(format!("SELECT NEXTVAL({s})")).await?;
                        taken.extend(v);
                    } else {
                        conn.query_drop(format!(
                            "INSERT INTO {t} VALUES (NEXTVAL({s}), {n}), (NEXT VALUE FOR {s}, {n})"
                        ))
                        .await?;
                    }
                }
                Ok::<_, mysql_async::Error>(taken)
            }));
        }
    }
    let mut values = Vec::new();
    for task in tasks {
        values.extend(task.await??);
    }
    let mut second = nodes[1].connect(Some("test")).await?;
    let rows: Vec<(i64, i32)> = second.query(format!("SELECT id, node FROM {t}")).await?;
    assert_eq!(rows.len(), 2 * 2 * 10 * 2);
    assert_eq!(
        rows.iter().map(|(_, n)| *n).collect::<HashSet<_>>(),
        HashSet::from([0, 1])
    );
    values.extend(rows.iter().map(|(id, _)| *id));
    let distinct: HashSet<i64> = values.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        values.len(),
        "a sequence value was taken twice"
    );
    assert_eq!(values.len(), 2 * 2 * 10 * 3);
    // The sequence made through the first node is dropped through the second.
    second.query_drop(format!("DROP SEQUENCE {s}")).await?;
    let gone = first.query_drop(format!("SELECT NEXTVAL({s})")).await;
    assert!(
        matches!(&gone, Err(mysql_async::Error::Server(e)) if e.code == 4091),
        "{gone:?}"
    );
    // Forgotten by the first one's catalog too: the name is free again.
    first.query_drop(format!("CREATE SEQUENCE {s}")).await?;
    let v: Option<i64> = second.query_first(format!("SELECT NEXTVAL({s})")).await?;
    assert_eq!(v, Some(1));
    first.query_drop(format!("DROP SEQUENCE {s}")).await?;
    first.query_drop(format!("DROP TABLE {t}")).await?;
    cluster_kit::shut_down(nodes).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_sequence_values_needs_insert_and_reading_the_last_one_select() -> TestResult {
    let node = strata_testkit::ComputeNode::on_shared_storage(2).await?;
    let mut root = node.connect(Some("test")).await?;
    let s = strata_testkit::unique_name("psq");
    root.query_drop(format!("CREATE SEQUENCE {s}")).await?;
    root.query_drop("CREATE USER 'sq_reader'@'%' IDENTIFIED BY 'pw'")
        .await?;
    root.query_drop("GRANT SELECT ON test.* TO 'sq_reader'@'%'")
        .await?;
    let opts = strata_testkit::mysql_opts(node.service_addr(), "sq_reader", "pw", Some("test"));
    let mut reader = mysql_async::Conn::new(opts.clone()).await?;
    for sql in [
        format!("SELECT NEXTVAL({s})"),
        format!("SELECT NEXT VALUE FOR test.{s}"),
        format!("SELECT SETVAL({s}, 10)"),
    ] {
        common::assert_codes(&mut reader, &[sql.as_str()], 1142).await;
    }
    let last: Option<Option<i64>> = reader
        .query_first(format!("SELECT PREVIOUS VALUE FOR {s}"))
        .await?;
    assert_eq!(last, Some(None));
    root.query_drop("GRANT INSERT ON test.* TO 'sq_reader'@'%'")
        .await?;
    let mut writer = mysql_async::Conn::new(opts).await?;
    let next: Option<i64> = writer.query_first(format!("SELECT NEXTVAL({s})")).await?;
    assert_eq!(next, Some(1));
    root.query_drop(format!("DROP SEQUENCE {s}")).await?;
    root.query_drop("DROP USER 'sq_reader'@'%'").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_kept_for_session_state_joins_a_later_transaction() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("sqx", "sqx_ref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, &[]).await?;
    strata.query_drop("CREATE SEQUENCE sq").await?;
    // Each keeps the session's connection to data node 1 (user variables, LASTVAL);
    // `st` puts ids 4 and 8 on node 1, 5 on node 2.
    for state in ["SET @x = 1", "SELECT NEXTVAL(sq)", "DO LASTVAL(sq)"] {
        let mut c = node.connect(Some(&db)).await?;
        c.query_drop(state).await?;
        c.query_drop("BEGIN").await?;
        c.query_drop("SELECT 1").await?;
        c.query_drop("INSERT INTO st VALUES (4, 'x', 0), (5, 'y', 0)")
            .await?;
        c.query_drop("INSERT INTO st VALUES (8, 'z', NEXTVAL(sq))")
            .await?;
        c.query_drop("ROLLBACK").await?;
        let ids: Vec<i64> = c.query("SELECT id FROM st").await?;
        assert_eq!(ids, Vec::<i64>::new(), "after {state}");
    }
    reference.query_drop("DROP TABLE st").await?;
    drop_and_shut_down(node, &mut strata, &db).await
}
