//! The settings of merges over several data nodes reach the merge in production: the
//! session's `group_concat_max_len` (compared with one plain MariaDB holding the same
//! rows) and the configured `merge.memory_budget`, through a real client.

mod common;

use common::{node_on_shared, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{unique_name, ComputeNode};

const CREATE_SHARDED: &str = "CREATE TABLE gc (id INT PRIMARY KEY, g INT, v VARCHAR(10)) \
     SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2'";
const CREATE_PLAIN: &str = "CREATE TABLE gc (id INT PRIMARY KEY, g INT, v VARCHAR(10))";

/// Groups whose values are all equal, so GROUP_CONCAT's result does not depend on the
/// order rows arrive in: group 1 fits in 10 bytes, groups 2 and 3 do not (their rows
/// sit on both data nodes, so both a node and the merge cut them), group 4 is 1499
/// bytes, more than MySQL's 1024 but less than MariaDB's default 1 MiB.
fn rows() -> String {
    let mut values = Vec::new();
    let mut id = 0;
    for (g, v, n) in [
        (1, "aaa", 2),
        (2, "bbb", 5),
        (3, "ccc", 4),
        (4, "dddd", 300),
    ] {
        for _ in 0..n {
            id += 1;
            values.push(format!("({id}, {g}, '{v}')"));
        }
    }
    format!("INSERT INTO gc VALUES {}", values.join(", "))
}

/// The rows and the warning count a GROUP_CONCAT query gives.
async fn group_concat(
    c: &mut Conn,
) -> Result<(Vec<(i32, String)>, u16), Box<dyn std::error::Error + Send + Sync>> {
    let rows: Vec<(i32, String)> = c
        .query("SELECT g, GROUP_CONCAT(v) FROM gc GROUP BY g ORDER BY g")
        .await?;
    Ok((rows, c.get_warnings()))
}

#[tokio::test]
async fn group_concat_across_nodes_is_cut_at_the_sessions_limit_as_on_mariadb() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let mut strata = node.connect(Some("test")).await?;
    strata.query_drop(CREATE_SHARDED).await?;
    strata.query_drop(rows()).await?;

    let reference_db = unique_name("gcref");
    storage.create_database(&reference_db).await?;
    let mut reference = storage.connect(0, Some(&reference_db)).await?;
    reference.query_drop(CREATE_PLAIN).await?;
    reference.query_drop(rows()).await?;

    // The default (MariaDB's 1 MiB), 10 bytes, and 1, which MariaDB clamps to 4.
    for set in [None, Some(10), Some(1)] {
        if let Some(len) = set {
            let statement = format!("SET SESSION group_concat_max_len = {len}");
            strata.query_drop(&statement).await?;
            reference.query_drop(&statement).await?;
        }
        let expected = group_concat(&mut reference).await?;
        let merged = group_concat(&mut strata).await?;
        assert_eq!(
            merged, expected,
            "group_concat_max_len {set:?}: Strata (left) and MariaDB (right) differ"
        );
    }
    // The cut rows are the ones MariaDB cuts, each with one warning.
    let (rows, warnings) = group_concat(&mut reference).await?;
    assert_eq!(rows[1], (2, "bbb,".to_string()));
    assert_eq!(warnings, 4);

    storage.drop_database(&reference_db).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_merge_over_the_configured_memory_budget_fails_with_1114_naming_the_setting() -> TestResult
{
    // Spilling off: a grouping would otherwise go to disk (`spill.rs`).
    let node = ComputeNode::configured(2, |c| {
        c.merge.memory_budget = 4096;
        c.merge.spill_cap = 0;
    })
    .await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(CREATE_SHARDED).await?;
    let values: Vec<String> = (1..=400).map(|id| format!("({id}, {id}, 'x')")).collect();
    c.query_drop(format!("INSERT INTO gc VALUES {}", values.join(", ")))
        .await?;
    // A few groups fit.
    let small: Vec<(i32, i64)> = c
        .query("SELECT g, COUNT(*) FROM gc WHERE id <= 4 GROUP BY g ORDER BY g")
        .await?;
    assert_eq!(small, vec![(1, 1), (2, 1), (3, 1), (4, 1)]);
    // 400 groups do not.
    let err = c
        .query_drop("SELECT g, COUNT(*) FROM gc GROUP BY g ORDER BY g")
        .await
        .expect_err("400 groups exceed a 4096-byte budget");
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1114, "HY000"));
            assert_eq!(
                e.message,
                "The result exceeds the compute node's merge memory budget of 4096 bytes \
                 (configuration setting merge.memory_budget)"
            );
        }
        other => return Err(other.into()),
    }
    // The session goes on.
    let one: Option<i64> = c.query_first("SELECT COUNT(*) FROM gc").await?;
    assert_eq!(one, Some(400));
    node.shutdown().await;
    Ok(())
}
