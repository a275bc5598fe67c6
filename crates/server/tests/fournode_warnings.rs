//! SHOW WARNINGS after a statement that ran on data nodes other than the session's home
//! node (fninsert's finding): the warnings are read where the statement ran, not from
//! the home node's connection, which shows an older statement's or none.

mod diffkit;

use diffkit::{create_on_both, drop_and_shut_down, node_and_reference, BoxError};
use mysql_async::prelude::*;

type TestResult = Result<(), BoxError>;

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

/// The codes SHOW WARNINGS lists.
async fn codes(c: &mut mysql_async::Conn, sql: &str) -> Result<Vec<u32>, BoxError> {
    let rows: Vec<(String, u32, String)> = c.query(sql).await?;
    Ok(rows.into_iter().map(|(_, code, _)| code).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_warnings_reads_the_nodes_the_statement_ran_on() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnw", "fnwref").await?;
    let tables = [("w", "id INT PRIMARY KEY, v TINYINT", ALL_NODES)];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET sql_mode = ''").await?;
    }
    // One row at a time: each lands on one node, most not the home node.
    for id in 1..=12 {
        let warned = format!("INSERT INTO w VALUES ({id}, 300)");
        let clean = format!("INSERT INTO w VALUES ({}, 1)", id + 100);
        for (sql, want) in [(&warned, vec![1264]), (&clean, vec![])] {
            for c in [&mut strata, &mut reference] {
                c.query_drop(sql.as_str()).await?;
            }
            assert_eq!(codes(&mut strata, "SHOW WARNINGS").await?, want, "{sql}");
            assert_eq!(codes(&mut reference, "SHOW WARNINGS").await?, want, "{sql}");
            // Read again: SHOW WARNINGS clears nothing.
            assert_eq!(codes(&mut strata, "SHOW WARNINGS").await?, want, "{sql}");
        }
    }
    // Several rows to several nodes: every warning, in any node order.
    let sql = "INSERT INTO w VALUES (201, 300), (202, -300), (203, 1), (204, 999), (205, 400)";
    for c in [&mut strata, &mut reference] {
        c.query_drop(sql).await?;
    }
    let mut got = codes(&mut strata, "SHOW WARNINGS").await?;
    got.sort_unstable();
    assert_eq!(got, [1264, 1264, 1264, 1264], "{sql}");
    assert_eq!(
        codes(&mut strata, "SHOW WARNINGS LIMIT 1, 2").await?.len(),
        2
    );
    assert_eq!(codes(&mut strata, "SHOW ERRORS").await?, Vec::<u32>::new());
    drop_and_shut_down(node, &mut strata, &db).await
}
