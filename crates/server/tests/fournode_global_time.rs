//! Time defaults of global tables over 4 data nodes, against one plain MariaDB:
//! `DEFAULT CURRENT_TIMESTAMP(n)`, the implicit first-TIMESTAMP default
//! (`explicit_defaults_for_timestamp = 0`) and `ON UPDATE CURRENT_TIMESTAMP(n)` must
//! store what MariaDB stores (the column's own precision; ON UPDATE only for rows that
//! change, with MariaDB's affected-row counts), and every copy the same value, also
//! when the statement time is the clock's.

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use diffkit::{differences, value_text, BoxError};
use strata_testkit::{shared_storage, unique_name, ComputeNode};

type TestResult = Result<(), BoxError>;

const TABLE: &str = "id INT PRIMARY KEY, a INT, \
     ts DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), \
     t3 TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), \
     d DATETIME DEFAULT CURRENT_TIMESTAMP";

/// Every row of `table` on each data node, as text.
async fn copies(storage_conns: &mut [Conn], table: &str) -> Result<Vec<Vec<String>>, BoxError> {
    let mut out = Vec::new();
    for conn in storage_conns.iter_mut() {
        let rows: Vec<Row> = conn
            .query(format!("SELECT * FROM {table} ORDER BY id"))
            .await?;
        out.push(
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.as_ref(i).map(value_text).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .collect(),
        );
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_time_defaults_match_mariadb_on_every_copy() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let physical = node
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();
    let reference_db = unique_name("gtref");
    storage.create_database(&reference_db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let mut strata = node.connect(Some("test")).await?;
    let mut direct = Vec::new();
    for i in 0..4 {
        direct.push(storage.connect(i, Some(&physical)).await?);
    }

    for (name, columns) in [
        ("gt", TABLE),
        ("gi", "id INT PRIMARY KEY, a INT, t TIMESTAMP"),
    ] {
        for (conn, distribution) in [(&mut strata, " SHARD BY GLOBAL"), (&mut reference, "")] {
            // `gi`'s TIMESTAMP gets MariaDB's implicit DEFAULT and ON UPDATE.
            conn.query_drop("SET explicit_defaults_for_timestamp = 0")
                .await?;
            conn.query_drop(format!("CREATE TABLE {name} ({columns}){distribution}"))
                .await?;
            conn.query_drop("SET explicit_defaults_for_timestamp = DEFAULT")
                .await?;
        }
    }

    // A fixed statement time: the values must be MariaDB's, to the microsecond.
    let statements = [
        ("SET timestamp = 1000000000.123456", false),
        ("INSERT INTO gt (id, a) VALUES (1, 1), (2, 2)", false),
        ("INSERT INTO gt SET id = 3, a = 3", false),
        ("INSERT INTO gi (id, a) VALUES (1, 1), (2, 2)", false),
        ("SELECT * FROM gt ORDER BY id", true),
        ("SET timestamp = 1000000100.654321", false),
        // No row changes: no ON UPDATE time, 0 rows affected.
        ("UPDATE gt SET a = a", false),
        ("UPDATE gt SET a = 10 WHERE id = 1", false),
        // Row 2 keeps its value (and its time), row 1 changes.
        ("UPDATE gt SET a = 2 WHERE id <= 2", false),
        ("UPDATE gi SET a = 5 WHERE id = 1", false),
        (
            "INSERT INTO gt (id, a) VALUES (3, 3) ON DUPLICATE KEY UPDATE a = VALUES(a)",
            false,
        ),
        ("SELECT * FROM gt ORDER BY id", true),
        ("SET timestamp = 1000000200.5", false),
        (
            "INSERT INTO gt (id, a) VALUES (3, 4) ON DUPLICATE KEY UPDATE a = VALUES(a)",
            false,
        ),
        ("REPLACE INTO gt (id, a) VALUES (2, 20)", false),
        // Set explicitly: the statement's value, not the time.
        ("UPDATE gt SET a = a + 1, ts = ts WHERE id = 1", false),
        ("DELETE FROM gt WHERE id = 4", false),
        ("SELECT * FROM gt ORDER BY id", true),
        ("SELECT * FROM gi ORDER BY id", true),
        ("SET timestamp = DEFAULT", false),
    ];
    let failures = differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The clock's time: every copy must still hold the same values.
    for sql in [
        "INSERT INTO gt (id, a) VALUES (10, 10), (11, 11)",
        "UPDATE gt SET a = a + 1 WHERE id >= 2",
        "INSERT INTO gt (id, a) VALUES (1, 1) ON DUPLICATE KEY UPDATE a = a + 100",
        "UPDATE gi SET a = a + 1",
        "INSERT INTO gi (id, a) VALUES (3, 3)",
    ] {
        strata.query_drop(sql).await?;
    }
    for table in ["gt", "gi"] {
        let all = copies(&mut direct, table).await?;
        for (i, copy) in all.iter().enumerate().skip(1) {
            assert_eq!(
                copy,
                &all[0],
                "copy {} of {table} differs from the first",
                i + 1
            );
        }
    }
    let fraction: Option<String> = strata
        .query_first("SELECT DATE_FORMAT(ts, '%f') FROM gt WHERE id = 10")
        .await?;
    assert_ne!(
        fraction.as_deref(),
        Some("000000"),
        "DATETIME(6) default lost its microseconds"
    );

    strata.query_drop("DROP TABLE gt, gi").await?;
    reference
        .query_drop(format!("DROP DATABASE {reference_db}"))
        .await?;
    node.shutdown().await;
    Ok(())
}
