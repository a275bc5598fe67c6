//! FLUSH TABLES WITH READ LOCK, the compute node's own global read lock, with real
//! client sessions: writes through other sessions wait while it is held (and go on
//! after UNLOCK TABLES or the holder's end), reads go on, the holder's own writes fail
//! with 1223, a wait ends with 1205 after lock_wait_timeout, a COMMIT of a transaction
//! that wrote waits too, and the lock waits for a running write. On a compute node of a
//! cluster it is refused (1235): it could not stop writes through the other nodes.

mod cluster_kit;
mod common;

use std::time::Duration;

use common::{assert_codes, first_int, node_on_shared, root_client_args, run_piped, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::unique_name;

/// Long enough for a statement that is not held back to have finished.
const HELD: Duration = Duration::from_millis(300);
/// Bound on a statement that is no longer held back.
const SOON: Duration = Duration::from_secs(20);

/// Runs `sql` on `c` in a task of its own; the task hands the connection back.
fn spawn_query(
    mut c: Conn,
    sql: String,
) -> tokio::task::JoinHandle<(Conn, Result<(), mysql_async::Error>)> {
    tokio::spawn(async move {
        let result = c.query_drop(&sql).await;
        (c, result)
    })
}

/// Asserts that the task is still running after `HELD`, then returns it.
async fn assert_held(
    mut task: tokio::task::JoinHandle<(Conn, Result<(), mysql_async::Error>)>,
    what: &str,
) -> tokio::task::JoinHandle<(Conn, Result<(), mysql_async::Error>)> {
    assert!(
        tokio::time::timeout(HELD, &mut task).await.is_err(),
        "{what} did not wait"
    );
    task
}

/// Waits for the task to finish (it must, soon) and returns its connection and result.
async fn finished(
    task: tokio::task::JoinHandle<(Conn, Result<(), mysql_async::Error>)>,
) -> TestResult<(Conn, Result<(), mysql_async::Error>)> {
    Ok(tokio::time::timeout(SOON, task).await??)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_wait_while_the_lock_is_held_and_reads_go_on() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let t = unique_name("ftwrl");
    let mut holder = node.connect(Some("test")).await?;
    let writer = node.connect(Some("test")).await?;
    let mut reader = node.connect(Some("test")).await?;
    holder
        .query_drop(format!("CREATE TABLE {t} (a INT) ENGINE=InnoDB"))
        .await?;
    holder
        .query_drop(format!("INSERT INTO {t} VALUES (1)"))
        .await?;

    holder.query_drop("FLUSH TABLES WITH READ LOCK").await?;
    // Taken twice in a session: still one hold, released by one UNLOCK TABLES.
    holder.query_drop("FLUSH TABLES WITH READ LOCK").await?;
    // The holder's own writes: MariaDB's 1223; its reads and temporary tables go on.
    assert_codes(
        &mut holder,
        &[
            &*format!("INSERT INTO {t} VALUES (9)"),
            &*format!("CREATE TABLE {t}_x (a INT)"),
            "CREATE DATABASE ftwrl_never",
            &*format!("LOCK TABLES {t} WRITE"),
        ],
        1223,
    )
    .await;
    assert_eq!(
        first_int(&mut holder, &format!("SELECT COUNT(*) FROM {t}")).await?,
        1
    );
    holder
        .query_drop("CREATE TEMPORARY TABLE ftwrl_tmp (a INT)")
        .await?;

    // Another session's INSERT waits; reads go on meanwhile.
    let insert = spawn_query(writer, format!("INSERT INTO {t} VALUES (2)"));
    let insert = assert_held(insert, "INSERT under the read lock").await;
    assert_eq!(
        first_int(&mut reader, &format!("SELECT COUNT(*) FROM {t}")).await?,
        1
    );
    let state: Option<String> = reader
        .query_first(format!(
            "SELECT STATE FROM information_schema.PROCESSLIST WHERE INFO = 'INSERT INTO {t} VALUES (2)'"
        ))
        .await?;
    assert_eq!(state.as_deref(), Some("Waiting for backup lock"));
    reader.query_drop(format!("LOCK TABLES {t} READ")).await?;
    reader.query_drop("UNLOCK TABLES").await?;

    holder.query_drop("UNLOCK TABLES").await?;
    let (mut writer, result) = finished(insert).await?;
    result?;
    assert_eq!(
        first_int(&mut reader, &format!("SELECT COUNT(*) FROM {t}")).await?,
        2
    );

    // lock_wait_timeout bounds the wait: 1205, as MariaDB.
    holder.query_drop("FLUSH TABLES WITH READ LOCK").await?;
    writer
        .query_drop("SET SESSION lock_wait_timeout = 1")
        .await?;
    assert_codes(
        &mut writer,
        &[
            &*format!("INSERT INTO {t} VALUES (3)"),
            &*format!("DROP TABLE {t}"),
            "CREATE DATABASE ftwrl_never",
        ],
        1205,
    )
    .await;

    // KILL QUERY ends a wait: 1317, as MariaDB.
    writer
        .query_drop("SET SESSION lock_wait_timeout = 60")
        .await?;
    let writer_id = writer.id();
    let insert = spawn_query(writer, format!("INSERT INTO {t} VALUES (3)"));
    let insert = assert_held(insert, "INSERT under the read lock").await;
    reader.query_drop(format!("KILL QUERY {writer_id}")).await?;
    let (writer, result) = finished(insert).await?;
    assert_eq!(
        result.as_ref().err().and_then(common::code_of),
        Some(1317),
        "{result:?}"
    );

    // The holder's session ending releases the lock.
    drop(holder);
    let insert = spawn_query(writer, format!("INSERT INTO {t} VALUES (4)"));
    let (mut writer, result) = finished(insert).await?;
    result?;
    writer.query_drop(format!("DROP TABLE {t}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_wrote_waits_and_the_lock_waits_for_running_writes() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let t = unique_name("ftwrl");
    let mut holder = node.connect(Some("test")).await?;
    let mut writer = node.connect(Some("test")).await?;
    let mut reader = node.connect(Some("test")).await?;
    holder
        .query_drop(format!("CREATE TABLE {t} (a INT) ENGINE=InnoDB"))
        .await?;

    // An open transaction that wrote does not hold the lock back; its COMMIT waits.
    writer.query_drop("BEGIN").await?;
    writer
        .query_drop(format!("INSERT INTO {t} VALUES (1)"))
        .await?;
    holder.query_drop("FLUSH TABLES WITH READ LOCK").await?;
    let commit = spawn_query(writer, "COMMIT".into());
    let commit = assert_held(commit, "COMMIT of a transaction that wrote").await;
    assert_eq!(
        first_int(&mut reader, &format!("SELECT COUNT(*) FROM {t}")).await?,
        0
    );
    holder.query_drop("UNLOCK TABLES").await?;
    let (mut writer, result) = finished(commit).await?;
    result?;
    assert_eq!(
        first_int(&mut reader, &format!("SELECT COUNT(*) FROM {t}")).await?,
        1
    );

    // A transaction that only read commits under the lock.
    holder.query_drop("FLUSH TABLES WITH READ LOCK").await?;
    writer.query_drop("BEGIN").await?;
    writer.query_drop(format!("SELECT * FROM {t}")).await?;
    writer.query_drop("COMMIT").await?;
    holder.query_drop("UNLOCK TABLES").await?;

    // The lock waits for a running write to finish.
    let slow = spawn_query(writer, format!("INSERT INTO {t} SELECT SLEEP(2)"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lock = spawn_query(holder, "FLUSH TABLES WITH READ LOCK".into());
    let lock = assert_held(lock, "FLUSH TABLES WITH READ LOCK during a write").await;
    let (mut writer, result) = finished(slow).await?;
    result?;
    let (mut holder, result) = finished(lock).await?;
    result?;
    assert_eq!(
        first_int(&mut reader, &format!("SELECT COUNT(*) FROM {t}")).await?,
        2
    );

    // In the holder: its open transaction is committed first (MariaDB's implicit
    // commit); under LOCK TABLES the lock is refused (1192).
    holder.query_drop("UNLOCK TABLES").await?;
    holder.query_drop("BEGIN").await?;
    holder
        .query_drop(format!("INSERT INTO {t} VALUES (5)"))
        .await?;
    holder.query_drop("FLUSH TABLES WITH READ LOCK").await?;
    assert_eq!(first_int(&mut holder, "SELECT @@in_transaction").await?, 0);
    assert_eq!(
        first_int(&mut reader, &format!("SELECT COUNT(*) FROM {t}")).await?,
        3
    );
    holder.query_drop("UNLOCK TABLES").await?;
    holder.query_drop(format!("LOCK TABLES {t} READ")).await?;
    assert_codes(&mut holder, &["FLUSH TABLES WITH READ LOCK"], 1192).await;
    holder.query_drop("UNLOCK TABLES").await?;
    // The table forms would lock a storage server.
    assert_codes(
        &mut holder,
        &[
            &*format!("FLUSH TABLES {t} WITH READ LOCK"),
            &*format!("FLUSH TABLES {t} FOR EXPORT"),
            "PREPARE s FROM 'FLUSH TABLES WITH READ LOCK'",
        ],
        1235,
    )
    .await;
    writer.query_drop(format!("DROP TABLE {t}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_dump_lock_all_tables_dumps_under_the_lock() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let db = unique_name("ftwrldump");
    let mut c = node.connect(None).await?;
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("CREATE TABLE {db}.t (a INT PRIMARY KEY)"))
        .await?;
    c.query_drop(format!("INSERT INTO {db}.t VALUES (1), (2)"))
        .await?;
    // mariadb-dump runs FLUSH TABLES, then FLUSH TABLES WITH READ LOCK, and reads.
    let mut args = root_client_args(node.service_addr());
    args.push("--lock-all-tables".into());
    args.push(db.clone());
    let dump = tokio::task::spawn_blocking(move || run_piped("mariadb-dump", &args, b"")).await??;
    let text = String::from_utf8_lossy(&dump);
    assert!(text.contains("INSERT INTO `t` VALUES"), "{text}");
    // Its session ended: the lock is gone.
    c.query_drop(format!("INSERT INTO {db}.t VALUES (3)"))
        .await?;
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compute_node_of_a_cluster_refuses_the_lock() -> TestResult {
    let (_etcd, nodes) = cluster_kit::cluster(1, 1, |_| {}).await?;
    let node = nodes.first().ok_or("no compute node")?;
    let mut c = node.connect(Some("test")).await?;
    assert_codes(&mut c, &["FLUSH TABLES WITH READ LOCK"], 1235).await;
    cluster_kit::shut_down(nodes).await
}
