//! CONNECTION_ID(), USER(), CURRENT_USER() and VERSION() inside statements the data
//! nodes run: they are the session's (as `SELECT CONNECTION_ID()` alone, which the
//! compute node answers), not the storage connection's thread and Strata's storage
//! account, and VERSION() keeps its column name and character set when the storage
//! servers announce the compute node's version.

mod diffkit;

use diffkit::{create_on_both, drop_and_shut_down, node_and_reference, BoxError};
use mysql_async::prelude::*;

type TestResult = Result<(), BoxError>;

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_functions_in_statements_the_data_nodes_run_are_the_sessions() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsf", "fsfref").await?;
    let tables = [(
        "s",
        "id INT PRIMARY KEY, conn BIGINT, who VARCHAR(200)",
        ALL_NODES,
    )];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    let id: Option<u64> = strata.query_first("SELECT CONNECTION_ID()").await?;
    let user: Option<String> = strata.query_first("SELECT USER()").await?;
    let current: Option<String> = strata.query_first("SELECT CURRENT_USER()").await?;
    let (id, user, current) = (
        id.ok_or("no id")?,
        user.ok_or("no user")?,
        current.ok_or("no current user")?,
    );
    for row in 1..=8 {
        strata
            .query_drop(format!(
                "INSERT INTO s VALUES ({row}, CONNECTION_ID(), USER())"
            ))
            .await?;
    }
    let rows: Vec<(u64, String)> = strata.query("SELECT conn, who FROM s").await?;
    assert_eq!(rows.len(), 8);
    assert!(
        rows.iter().all(|(c, w)| *c == id && *w == user),
        "{rows:?} vs {id} {user}"
    );
    let read: Vec<(u64, String, String, i64)> = strata
        .query("SELECT CONNECTION_ID(), USER(), CURRENT_USER(), COUNT(*) FROM s WHERE conn = CONNECTION_ID()")
        .await?;
    assert_eq!(read, vec![(id, user.clone(), current.clone(), 8)]);
    let result = strata
        .query_iter("SELECT connection_id() + 0, user() FROM s WHERE id = 1")
        .await?;
    let names: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    drop(result);
    assert_eq!(names, ["connection_id() + 0", "user()"]);
    // VERSION() is the storage server's own when the compute node presents it.
    let strata_version: Vec<(String, String)> = strata
        .query("SELECT version(), charset(version()) FROM s WHERE id = 1")
        .await?;
    let reference_version: Vec<(String, String)> = reference
        .query("SELECT version(), charset(version())")
        .await?;
    assert_eq!(strata_version, reference_version);
    let result = strata
        .query_iter("SELECT version() >= '10' FROM s WHERE id = 1")
        .await?;
    let name = result
        .columns_ref()
        .first()
        .map(|c| c.name_str().into_owned());
    drop(result);
    assert_eq!(name.as_deref(), Some("version() >= '10'"));
    // CURRENT_USER without parentheses is the same function (MariaDB's keyword form);
    // the storage account must not show through it.
    strata
        .query_drop("UPDATE s SET who = CURRENT_USER WHERE id = 2")
        .await?;
    let who: Option<String> = strata.query_first("SELECT who FROM s WHERE id = 2").await?;
    assert_eq!(who.as_deref(), Some(current.as_str()));
    let result = strata
        .query_iter("SELECT current_user, Current_User = CURRENT_USER() FROM s WHERE id = 2")
        .await?;
    let names: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let rows: Vec<(String, i64)> = result.collect_and_drop().await?;
    assert_eq!(names, ["current_user", "Current_User = CURRENT_USER()"]);
    assert_eq!(rows, vec![(current.clone(), 1)]);
    drop_and_shut_down(node, &mut strata, &db).await
}
