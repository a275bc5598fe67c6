//! Read/write splitting end to end, on a real MariaDB primary with a GTID
//! semi-synchronous replica. Where a read ran is told by a row written on the replica
//! alone (`sql_log_bin = 0`): a SELECT of it finds it only there. Reads outside
//! transactions go to the replica; locking reads, reads in transactions and
//! `rw=primary` stay on the primary; a replica whose SQL thread stopped leaves the read
//! set (`lagging` in `SHOW @@DATASOURCE`) and comes back once it caught up; and a
//! session never reads older data than it wrote, even from a replica that applies
//! everything two seconds late.

use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_catalog::config::RwSplit;
use strata_testkit::{ComputeNode, StorageNodes};

mod bank;

use bank::within;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The value of `id` as session `conn` reads it with `sql` (`{id}` replaced).
async fn read(conn: &mut Conn, sql: &str, id: i64) -> Result<Option<String>, BoxError> {
    Ok(conn
        .query_first(sql.replace("{id}", &id.to_string()))
        .await?)
}

/// Waits (up to 10 s) until a new session reads the replica-only row, that is reads
/// on the replica (`on_replica`), or until it no longer does.
async fn new_sessions_read_replica(
    compute: &ComputeNode,
    what: &str,
    on_replica: bool,
) -> Result<(), BoxError> {
    sessions_of_read_replica(compute, "test", what, on_replica).await
}

/// The same for sessions of database `db`.
async fn sessions_of_read_replica(
    compute: &ComputeNode,
    db: &str,
    what: &str,
    on_replica: bool,
) -> Result<(), BoxError> {
    within(Duration::from_secs(10), what, || async {
        let mut c = compute.connect(Some(db)).await?;
        Ok(read(&mut c, SELECT, REPLICA_ONLY).await?.is_some() == on_replica)
    })
    .await?;
    Ok(())
}

/// The `status` column of the replica's row in `SHOW @@DATASOURCE` (admin port).
async fn replica_status(compute: &ComputeNode, port: u16) -> Result<String, BoxError> {
    let mut admin = Conn::new(compute.admin_opts()).await?;
    let rows: Vec<mysql_async::Row> = admin.query("SHOW @@DATASOURCE").await?;
    let status = rows
        .iter()
        .find(|r| r.get::<u16, _>("port") == Some(port))
        .and_then(|r| r.get::<String, _>("status"))
        .unwrap_or_default();
    Ok(status)
}

const SELECT: &str = "SELECT v FROM rs WHERE id = {id}";
/// The row only the replica has.
const REPLICA_ONLY: i64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_replicas_in_the_read_set_and_never_behind_the_sessions_writes(
) -> Result<(), BoxError> {
    let storage = StorageNodes::start_replicated(1, 1).await?;
    let compute = ComputeNode::builder(&storage)
        .configure(|c| {
            c.databases[0].rw_split = RwSplit::Replicas;
            // The delayed replica of the last part stays in the read set.
            c.ha.max_replica_lag_ms = 5_000;
        })
        .start()
        .await?;
    let mut writer = compute.connect(Some("test")).await?;
    writer
        .query_drop("CREATE TABLE rs (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)")
        .await?;
    writer.query_drop("INSERT INTO rs VALUES (1, 'w0')").await?;
    storage.wait_replicas_caught_up().await?;
    let physical = compute
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();
    let replica = storage.replica(0, 0);
    replica
        .execute_sql(&format!(
            "SET sql_log_bin = 0; INSERT INTO `{physical}`.rs VALUES ({REPLICA_ONLY}, 'replica')"
        ))
        .await?;

    // A session that wrote nothing reads from the replica (once the heartbeat put it
    // in the read set), through the text and the binary protocol.
    let mut reader = compute.connect(Some("test")).await?;
    new_sessions_read_replica(&compute, "reads on the replica", true).await?;
    assert_eq!(
        read(&mut reader, SELECT, REPLICA_ONLY).await?.as_deref(),
        Some("replica")
    );
    let prepared: Option<String> = reader
        .exec_first("SELECT v FROM rs WHERE id = ?", (REPLICA_ONLY,))
        .await?;
    assert_eq!(prepared.as_deref(), Some("replica"));
    // What must stay on the primary does.
    for sql in [
        "/*!strata:rw=primary*/ SELECT v FROM rs WHERE id = {id}",
        "SELECT v FROM rs WHERE id = {id} FOR UPDATE",
        "SELECT v FROM rs WHERE id = {id} LOCK IN SHARE MODE",
    ] {
        assert_eq!(read(&mut reader, sql, REPLICA_ONLY).await?, None, "{sql}");
    }
    reader.query_drop("BEGIN").await?;
    assert_eq!(read(&mut reader, SELECT, REPLICA_ONLY).await?, None);
    reader.query_drop("COMMIT").await?;
    assert_eq!(
        read(&mut reader, SELECT, REPLICA_ONLY).await?.as_deref(),
        Some("replica")
    );

    // A replica whose SQL thread stopped leaves the read set, shows as lagging, and
    // comes back once it applied what it missed.
    replica.execute_sql("STOP SLAVE SQL_THREAD").await?;
    new_sessions_read_replica(&compute, "the stopped replica leaves", false).await?;
    assert_eq!(replica_status(&compute, replica.port()).await?, "lagging");
    writer
        .query_drop("UPDATE rs SET v = 'w1' WHERE id = 1")
        .await?;
    replica.execute_sql("START SLAVE SQL_THREAD").await?;
    new_sessions_read_replica(&compute, "the replica comes back", true).await?;
    assert_eq!(replica_status(&compute, replica.port()).await?, "up");

    // Read-your-writes, against a replica that applies everything 2 s late.
    replica
        .execute_sql("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 2; START SLAVE")
        .await?;
    new_sessions_read_replica(&compute, "the delayed replica is read", true).await?;
    let written_at = Instant::now();
    writer
        .query_drop("UPDATE rs SET v = 'w2' WHERE id = 1")
        .await?;
    // The writer reads its write, from the primary (the replica-only row is not
    // there)...
    assert_eq!(read(&mut writer, SELECT, 1).await?.as_deref(), Some("w2"));
    assert_eq!(read(&mut writer, SELECT, REPLICA_ONLY).await?, None);
    // ...while a session that did not write reads the replica, which is behind: what
    // the writer would have seen without read-your-writes.
    let mut other = compute.connect(Some("test")).await?;
    if written_at.elapsed() < Duration::from_millis(1500) {
        assert_eq!(read(&mut other, SELECT, 1).await?.as_deref(), Some("w1"));
    }
    // `rw=replica` reads the replica even so.
    let hinted = "/*!strata:rw=replica*/ SELECT v FROM rs WHERE id = {id}";
    assert_eq!(
        read(&mut writer, hinted, REPLICA_ONLY).await?.as_deref(),
        Some("replica")
    );
    // Once the heartbeat saw the replica apply the write, the writer reads there again,
    // and sees its write.
    let deadline = Instant::now() + Duration::from_secs(15);
    while read(&mut writer, SELECT, REPLICA_ONLY).await?.is_none() {
        assert!(
            Instant::now() < deadline,
            "the writer never read the replica again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(read(&mut writer, SELECT, 1).await?.as_deref(), Some("w2"));
    replica
        .execute_sql("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE")
        .await?;
    compute.shutdown().await;
    Ok(())
}

/// `SHOW CREATE DATABASE db`'s statement.
async fn show_create_database(conn: &mut Conn, db: &str) -> Result<String, BoxError> {
    let row: Option<(String, String)> = conn
        .query_first(format!("SHOW CREATE DATABASE {db}"))
        .await?;
    Ok(row.map(|r| r.1).unwrap_or_default())
}

/// A database made through SQL with Strata's `RW_SPLIT 'replicas'` clause splits its
/// reads like one configured with `rw_split`: a new session reads the row only the
/// replica has, a session that wrote reads its own write at once while the replica is
/// 2 s behind; a database made without the clause reads from the primary. SHOW CREATE
/// DATABASE carries the clause in the versioned comment, and the setting survives a
/// restart of the compute node (it is in the catalog's store).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_created_with_rw_split_reads_from_the_replica_and_its_own_writes(
) -> Result<(), BoxError> {
    let storage = StorageNodes::start_replicated(1, 1).await?;
    let compute = ComputeNode::builder(&storage).start().await?;
    let mut c = compute.connect(None).await?;
    c.query_drop("CREATE DATABASE split DEFAULT DATANODE '1' RW_SPLIT 'replicas'")
        .await?;
    c.query_drop("CREATE DATABASE plain").await?;
    let bad = c
        .query_drop("CREATE DATABASE odd RW_SPLIT 'sometimes'")
        .await;
    match bad {
        Err(mysql_async::Error::Server(e)) => assert_eq!(
            (e.code, e.message.as_str()),
            (
                1105,
                "Database 'odd': RW_SPLIT 'sometimes' is not one of 'off', 'replicas', 'primary_and_replicas'"
            )
        ),
        other => panic!("an unknown RW_SPLIT mode was taken: {other:?}"),
    }
    for db in ["split", "plain"] {
        c.query_drop(format!(
            "CREATE TABLE {db}.rs (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)"
        ))
        .await?;
        c.query_drop(format!("INSERT INTO {db}.rs VALUES (1, 'w0')"))
            .await?;
    }
    assert_eq!(
        show_create_database(&mut c, "split").await?,
        "CREATE DATABASE `split` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */ /*!999999 RW_SPLIT 'replicas' */"
    );
    assert_eq!(
        show_create_database(&mut c, "plain").await?,
        "CREATE DATABASE `plain` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */"
    );
    storage.wait_replicas_caught_up().await?;
    let replica = storage.replica(0, 0);
    for db in ["split", "plain"] {
        replica
            .execute_sql(&format!(
                "SET sql_log_bin = 0; INSERT INTO `{db}`.rs VALUES ({REPLICA_ONLY}, 'replica')"
            ))
            .await?;
    }
    sessions_of_read_replica(&compute, "split", "reads of split on the replica", true).await?;
    let mut plain = compute.connect(Some("plain")).await?;
    assert_eq!(read(&mut plain, SELECT, REPLICA_ONLY).await?, None);
    // ALTER DATABASE changes it; a configured database's is set in the file.
    c.query_drop("ALTER DATABASE plain RW_SPLIT 'replicas'")
        .await?;
    sessions_of_read_replica(&compute, "plain", "reads of plain after ALTER", true).await?;
    let configured = c
        .query_drop("ALTER DATABASE test RW_SPLIT 'replicas'")
        .await;
    assert!(
        matches!(&configured, Err(mysql_async::Error::Server(e)) if e.message.contains("set its rw_split there")),
        "{configured:?}"
    );
    // MySQL's options and RW_SPLIT in one ALTER DATABASE: both apply.
    c.query_drop("ALTER DATABASE plain CHARACTER SET latin1 RW_SPLIT 'replicas'")
        .await?;
    let shown: Option<(String, String)> = c.query_first("SHOW CREATE DATABASE plain").await?;
    let shown = shown.ok_or("no row")?.1;
    assert!(
        shown.contains("DEFAULT CHARACTER SET latin1") && shown.contains("RW_SPLIT 'replicas'"),
        "{shown}"
    );

    // Read-your-writes, against a replica that applies everything 2 s late.
    replica
        .execute_sql("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 2; START SLAVE")
        .await?;
    sessions_of_read_replica(&compute, "split", "the delayed replica is read", true).await?;
    let mut writer = compute.connect(Some("split")).await?;
    let written_at = Instant::now();
    writer
        .query_drop("UPDATE rs SET v = 'w1' WHERE id = 1")
        .await?;
    assert_eq!(read(&mut writer, SELECT, 1).await?.as_deref(), Some("w1"));
    let mut other = compute.connect(Some("split")).await?;
    if written_at.elapsed() < Duration::from_millis(1500) {
        assert_eq!(read(&mut other, SELECT, 1).await?.as_deref(), Some("w0"));
    }
    replica
        .execute_sql("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE")
        .await?;
    drop((c, plain, writer, other));

    let compute = compute.restart().await?;
    sessions_of_read_replica(
        &compute,
        "split",
        "reads on the replica after a restart",
        true,
    )
    .await?;
    sessions_of_read_replica(&compute, "plain", "plain's ALTER after a restart", true).await?;
    // What SHOW CREATE DATABASE wrote replays with the clause (a dump's restore).
    let mut c = compute.connect(None).await?;
    let shown = show_create_database(&mut c, "split").await?;
    c.query_drop(shown.replace("`split`", "`split2`")).await?;
    assert_eq!(
        show_create_database(&mut c, "split2").await?,
        shown.replace("`split`", "`split2`")
    );
    compute.shutdown().await;
    Ok(())
}
