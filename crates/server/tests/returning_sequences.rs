//! `INSERT/REPLACE/DELETE ... RETURNING` and sequences through a real client. On one
//! data node both are forwarded (MariaDB's rows and column metadata). Over four data
//! nodes a RETURNING write answers as one plain MariaDB does (the rows of every node,
//! an INSERT's in VALUES order, all or nothing), except on a global table (1235).
//! Sequences over several data nodes are tested in `sequences_sharded.rs`.

mod common;
mod diffkit;

use common::{assert_codes, error_of};
use diffkit::{
    column_type_difference, create_on_both, differences, drop_and_shut_down, node_and_reference,
    BoxError,
};
use mysql_async::prelude::*;

type TestResult = Result<(), BoxError>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_and_sequences_are_forwarded_on_one_data_node() -> TestResult {
    let node = strata_testkit::ComputeNode::on_shared_storage(1).await?;
    let mut c = node.connect(Some("test")).await?;
    let t = strata_testkit::unique_name("rs1");
    let s = strata_testkit::unique_name("seq1");
    c.query_drop(format!(
        "CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR(10))"
    ))
    .await?;
    let rows: Vec<(i64, String)> = c
        .query(format!(
            "INSERT INTO {t} VALUES (1, 'a'), (2, 'b'), (3, 'c') RETURNING id, UPPER(v)"
        ))
        .await?;
    assert_eq!(rows, [(1, "A".into()), (2, "B".into()), (3, "C".into())]);
    let rows: Vec<(i64, String)> = c
        .query(format!("REPLACE INTO {t} VALUES (1, 'x') RETURNING *"))
        .await?;
    assert_eq!(rows, [(1, "x".into())]);
    let rows: Vec<i64> = c
        .query(format!("DELETE FROM {t} WHERE id > 1 RETURNING id"))
        .await?;
    assert_eq!(rows, [2, 3]);

    c.query_drop(format!("CREATE SEQUENCE {s} START WITH 10 INCREMENT BY 5"))
        .await?;
    let a: Option<i64> = c.query_first(format!("SELECT NEXTVAL({s})")).await?;
    let b: Option<i64> = c.query_first(format!("SELECT NEXT VALUE FOR {s}")).await?;
    let last: Option<(i64, i64)> = c
        .query_first(format!("SELECT LASTVAL({s}), PREVIOUS VALUE FOR {s}"))
        .await?;
    assert_eq!((a, b, last), (Some(10), Some(15), Some((15, 15))));
    let set: Option<i64> = c.query_first(format!("SELECT SETVAL({s}, 100)")).await?;
    assert_eq!(set, Some(100));
    c.query_drop(format!("INSERT INTO {t} VALUES (NEXTVAL({s}), 'n')"))
        .await?;
    let id: Option<i64> = c.query_first(format!("SELECT MAX(id) FROM {t}")).await?;
    assert_eq!(id, Some(105));
    let show: Option<(String, String)> = c.query_first(format!("SHOW CREATE SEQUENCE {s}")).await?;
    let create = show.map(|(_, create)| create).unwrap_or_default();
    assert!(
        create.starts_with(&format!("CREATE SEQUENCE `{s}` start with 10")),
        "{create}"
    );
    // The guard still checks what reaches the node.
    let (code, _) = error_of(&mut c, "CREATE SEQUENCE mysql.s").await;
    assert_eq!(code, Some(1044));
    c.query_drop(format!("DROP SEQUENCE {s}")).await?;
    c.query_drop(format!("DROP TABLE {t}")).await?;
    node.shutdown().await;
    Ok(())
}

const TABLES: &[(&str, &str, &str)] = &[
    (
        "rr",
        "id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NULL, d DECIMAL(6,2) NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "rg",
        "id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NULL",
        "SHARD BY GLOBAL",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_over_several_data_nodes_answers_as_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("rsm", "rsm_ref").await?;
    create_on_both(
        &mut strata,
        &mut reference,
        TABLES,
        &["INSERT INTO rr VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'c', NULL), (4, 'd', 4)"],
    )
    .await?;
    let statements: &[(&str, bool)] = &[
        // One data node: forwarded.
        ("INSERT INTO rr VALUES (5, 'e', 5.25) RETURNING id, v, d * 2 AS twice", true),
        ("REPLACE INTO rr VALUES (1, 'A', 0.5) RETURNING *", true),
        ("REPLACE INTO rr (id, v) VALUES (9, 'z') RETURNING id, d", true),
        ("DELETE FROM rr WHERE id = 2 RETURNING id, CONCAT(v, '!') AS bang", true),
        ("DELETE FROM rr WHERE id = 42 RETURNING id", true),
        // Several data nodes: the rows of every node, an INSERT's in VALUES order.
        (
            "INSERT INTO rr VALUES (23, 'p', 1), (20, 'q', 2), (22, 'r', 3), (21, 's', 4), (24, 't', 5) RETURNING id, v, d + 1 AS d1",
            true,
        ),
        ("REPLACE INTO rr VALUES (21, 'S', 0), (1, 'one', 1) RETURNING id, v", true),
        (
            "INSERT INTO rr VALUES (30, 'a', 1), (31, 'b', 2), (1, 'dup', 3) RETURNING id",
            true,
        ),
        ("DELETE FROM rr WHERE id >= 20 RETURNING id, v", false),
        ("DELETE FROM rr WHERE id > 100 RETURNING id", false),
        ("SELECT id, v, d FROM rr ORDER BY id", true),
    ];
    let failures = differences(&mut reference, &mut strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for sql in [
        "INSERT INTO rr VALUES (6, 'f', 6) RETURNING id, v, d",
        "INSERT INTO rr VALUES (7, 'g', 7), (8, 'h', 8) RETURNING id, v, d, NOW() AS at",
    ] {
        let types = column_type_difference(&mut reference, &mut strata, sql).await?;
        assert_eq!(types, None);
    }

    // Every copy of a global table would return each row, a subquery would read one
    // node's rows: refused before any writes.
    assert_codes(
        &mut strata,
        &[
            "INSERT INTO rg VALUES (1, 'x') RETURNING id",
            "DELETE FROM rg RETURNING id",
            // Each node would read its own rows of rr only.
            "INSERT INTO rg VALUES (2, 'y') RETURNING (SELECT MAX(id) FROM rr)",
            "INSERT INTO rr VALUES (40, 'x', 1) RETURNING id, (SELECT COUNT(*) FROM rr)",
            "DELETE FROM rr WHERE id = 3 RETURNING EXISTS (SELECT 1 FROM rr WHERE id = 4)",
        ],
        1235,
    )
    .await;
    let n: Option<i64> = strata.query_first("SELECT COUNT(*) FROM rg").await?;
    assert_eq!(n, Some(0), "the refused write changed nothing");
    let rows = differences(
        &mut reference,
        &mut strata,
        &[("SELECT id, v, d FROM rr ORDER BY id", true)],
    )
    .await?;
    assert!(rows.is_empty(), "{}", rows.join("\n"));
    reference.query_drop("DROP TABLE rr, rg").await?;
    drop_and_shut_down(node, &mut strata, &db).await
}
