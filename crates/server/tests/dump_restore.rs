//! mariadb-dump through Strata, restored through Strata into another logical database,
//! recreates every table with its distribution (SHOW CREATE TABLE carries it as an
//! executable comment) and every row on the data node its rule gives.

mod common;

use common::{root_client_args, run_all, run_piped, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{unique_name, ComputeNode};

/// The distribution comment SHOW CREATE TABLE gives `table` of `db`.
async fn distribution(c: &mut mysql_async::Conn, db: &str, table: &str) -> Result<String, String> {
    let sql = format!("SHOW CREATE TABLE {db}.{table}");
    let (_, create): (String, String) = c
        .query_first(&sql)
        .await
        .map_err(|e| format!("{sql}: {e}"))?
        .unwrap_or_default();
    Ok(create
        .lines()
        .last()
        .filter(|l| l.starts_with("/*!999999 SHARD BY"))
        .unwrap_or("(no distribution comment)")
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_restored_through_strata_keeps_each_tables_distribution() -> TestResult {
    let node = ComputeNode::on_shared_storage(2).await?;
    let mut c = node.connect(None).await?;
    let (src, dst) = (unique_name("dumpsrc"), unique_name("dumpdst"));
    c.query_drop(format!("CREATE DATABASE {src} DEFAULT DATANODE '1,2'"))
        .await?;
    c.query_drop(format!("CREATE DATABASE {dst} DEFAULT DATANODE '1,2'"))
        .await?;
    c.query_drop(format!("USE {src}")).await?;
    run_all(
        &mut c,
        &[
            "CREATE TABLE parent (id INT PRIMARY KEY, s VARCHAR(20)) \
             SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2'",
            "CREATE TABLE pchild (id INT, parent_id INT, x INT, PRIMARY KEY (parent_id, id)) \
             SHARD BY CHILD OF parent(id) USING COLUMN 'parent_id'",
            "CREATE TABLE glob (code CHAR(2) PRIMARY KEY, name VARCHAR(20)) SHARD BY GLOBAL",
            "CREATE TABLE vert (id INT PRIMARY KEY, note TEXT) SHARD BY VERTICAL ON DATANODE '1'",
            // Not on the database's home data node: mariadb-dump's questions about its
            // columns (information_schema) are answered by data node 2.
            "CREATE TABLE vert2 (id INT PRIMARY KEY, amount DECIMAL(10,2), \
             twice INT AS (id * 2) VIRTUAL) SHARD BY VERTICAL ON DATANODE '2'",
            "INSERT INTO parent VALUES (1, 'one'), (2, 'two'), (3, 'it''s'), (4, NULL)",
            "INSERT INTO pchild VALUES (10, 1, 5), (11, 2, 6), (12, 3, 7), (13, 3, 8)",
            "INSERT INTO glob VALUES ('fr', 'France'), ('de', 'Germany')",
            "INSERT INTO vert VALUES (1, 'a\\nb'), (2, 'é')",
            "INSERT INTO vert2 (id, amount) VALUES (1, 2.50), (7, -3.25)",
        ],
    )
    .await?;

    let addr = node.service_addr();
    // --single-transaction, as InnoDB dumps are taken, and no LOCK TABLES around each
    // table's rows: LOCK TABLES over several data nodes is refused (docs/sharding.md).
    let mut dump_args = root_client_args(addr);
    dump_args.push("--single-transaction".into());
    dump_args.push("--skip-add-locks".into());
    dump_args.push(src.clone());
    let dump =
        tokio::task::spawn_blocking(move || run_piped("mariadb-dump", &dump_args, b"")).await??;
    let text = String::from_utf8_lossy(&dump);
    assert!(
        text.contains("/*!999999 SHARD BY GLOBAL ON DATANODE '1,2' */"),
        "{text}"
    );
    let mut restore_args = root_client_args(addr);
    restore_args.push(dst.clone());
    tokio::task::spawn_blocking(move || run_piped("mariadb", &restore_args, &dump)).await??;

    let tables = ["parent", "pchild", "glob", "vert", "vert2"];
    let expected = [
        "/*!999999 SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2' */",
        "/*!999999 SHARD BY CHILD OF `parent`(`id`) USING COLUMN 'parent_id' */",
        "/*!999999 SHARD BY GLOBAL ON DATANODE '1,2' */",
        "/*!999999 SHARD BY VERTICAL ON DATANODE '1' */",
        "/*!999999 SHARD BY VERTICAL ON DATANODE '2' */",
    ];
    let nodes: [&[u32]; 5] = [&[1, 2], &[1, 2], &[1, 2], &[1], &[2]];
    for ((table, expected), nodes) in tables.iter().zip(expected).zip(nodes) {
        assert_eq!(distribution(&mut c, &src, table).await?, expected);
        assert_eq!(
            distribution(&mut c, &dst, table).await?,
            expected,
            "{table}"
        );
        // Every row on the same data node as in the source.
        for dnid in nodes {
            let rows =
                |db: &str| format!("/*!strata:dnid={dnid}*/ SELECT * FROM {db}.{table} ORDER BY 1");
            let before: Vec<mysql_async::Row> = c.query(rows(&src)).await?;
            let after: Vec<mysql_async::Row> = c.query(rows(&dst)).await?;
            assert!(!before.is_empty(), "{table} on data node {dnid}");
            let values = |rows: Vec<mysql_async::Row>| -> Vec<Vec<mysql_async::Value>> {
                rows.into_iter().map(|r| r.unwrap()).collect()
            };
            assert_eq!(values(before), values(after), "{table} on data node {dnid}");
        }
    }
    // The restored vertical table exists on its data node only.
    let on_2 = c
        .query_drop(format!("/*!strata:dnid=2*/ SELECT * FROM {dst}.vert"))
        .await;
    assert!(
        matches!(&on_2, Err(mysql_async::Error::Server(e)) if e.code == 1146),
        "{on_2:?}"
    );
    c.query_drop(format!("DROP DATABASE {src}")).await?;
    c.query_drop(format!("DROP DATABASE {dst}")).await?;
    Ok(())
}
