//! `information_schema.SYSTEM_VARIABLES` through Strata (mariadb-test's `have_innodb.inc`
//! and many other include files read it): every column MariaDB has, with the values
//! that identify a storage server masked as in `GLOBAL_VARIABLES` and `SHOW VARIABLES`.

mod common;

use common::{node_on_shared, TestResult};
use mysql_async::prelude::*;
use mysql_async::Row;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_variables_show_the_compute_nodes_identity_and_hide_the_storages() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let mut c = node.connect(Some("test")).await?;

    let sanitizer: Option<u64> = c
        .query_first(
            "select count(*) from information_schema.system_variables \
             where variable_name='have_sanitizer' and global_value like 'MSAN%'",
        )
        .await?;
    assert_eq!(sanitizer, Some(0));

    let version: Option<String> = c.query_first("SELECT @@version").await?;
    let row: Row = c
        .query_first(
            "SELECT SESSION_VALUE, GLOBAL_VALUE, VARIABLE_SCOPE FROM information_schema.SYSTEM_VARIABLES \
             WHERE VARIABLE_NAME = 'VERSION'",
        )
        .await?
        .ok_or("no VERSION row")?;
    assert_eq!(
        row.get::<Option<String>, _>(0),
        Some(None),
        "a global variable"
    );
    assert_eq!(row.get::<Option<String>, _>(1), Some(version));
    assert_eq!(row.get::<String, _>(2).as_deref(), Some("GLOBAL"));

    let mut direct = mysql_async::Conn::new(storage.opts(0, None)).await?;
    let storage_values: Vec<(String, String)> = direct
        .query(
            "SELECT VARIABLE_NAME, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES \
             WHERE VARIABLE_NAME IN ('DATADIR', 'SOCKET', 'PID_FILE') ORDER BY VARIABLE_NAME",
        )
        .await?;
    direct.disconnect().await?;
    let seen: Vec<(String, Option<String>, Option<String>)> = c
        .query(
            "SELECT VARIABLE_NAME, GLOBAL_VALUE, GLOBAL_VALUE_PATH FROM information_schema.SYSTEM_VARIABLES \
             WHERE VARIABLE_NAME IN ('DATADIR', 'SOCKET', 'PID_FILE') ORDER BY VARIABLE_NAME",
        )
        .await?;
    assert_eq!(seen.len(), 3);
    assert_eq!(storage_values.len(), 3);
    for ((name, value, path), (_, storage_value)) in seen.iter().zip(&storage_values) {
        assert_ne!(value.as_deref(), Some(storage_value.as_str()), "{name}");
        assert_eq!(path, &None, "{name}");
    }
    let row: Row = c
        .query_first(
            "SELECT * FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'AUTOCOMMIT'",
        )
        .await?
        .ok_or("no AUTOCOMMIT row")?;
    assert_eq!(row.len(), 15, "every column of MariaDB 10.11's table");
    assert_eq!(row.get::<String, _>(1).as_deref(), Some("ON"));
    node.shutdown().await;
    Ok(())
}
