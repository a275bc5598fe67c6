//! NOW() and the other time functions in statements over 4 data nodes under a named time
//! zone (with daylight saving time), against one plain MariaDB: the compute node writes
//! them as literals, which must be exactly what MariaDB gives under the session's
//! `time_zone` and `timestamp`, in writes (stored values) and in reads; and the same
//! under `time_zone = SYSTEM` (the storage default) on servers whose system zone is
//! not UTC.

mod diffkit;

use mysql_async::Value;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, prepared_difference,
    strata_database, BoxError, ER_NOT_SUPPORTED_YET,
};
use mysql_async::prelude::*;
use strata_testkit::{shared_storage, unique_name, ComputeNode, StorageNodes};

type TestResult = Result<(), BoxError>;

/// A zone with daylight saving time: a fixed offset would be wrong half the year.
const ZONE: &str = "America/New_York";

/// Loads [`ZONE`] into the time zone tables of every shared storage node (the
/// testkit's servers start with empty ones) unless it is there.
async fn load_zone() -> TestResult {
    let storage = shared_storage(4).await?;
    let output = tokio::process::Command::new("mariadb-tzinfo-to-sql")
        .arg(format!("/usr/share/zoneinfo/{ZONE}"))
        .arg(ZONE)
        .output()
        .await?;
    assert!(output.status.success(), "mariadb-tzinfo-to-sql: {output:?}");
    let sql = format!("USE mysql;\n{}", String::from_utf8(output.stdout)?);
    for node in storage.nodes() {
        let present = node
            .execute_sql(&format!(
                "SELECT COUNT(*) FROM mysql.time_zone_name WHERE Name = '{ZONE}'"
            ))
            .await?;
        if present.trim() == "0" {
            node.execute_sql(&sql).await?;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_functions_over_four_nodes_follow_a_named_time_zone() -> TestResult {
    load_zone().await?;
    let (node, db, mut strata, mut reference) = node_and_reference("fntz", "fntzref").await?;
    let global = (
        "tg",
        "id INT PRIMARY KEY, d DATETIME(6), c TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
        "SHARD BY GLOBAL",
    );
    create_on_both(&mut strata, &mut reference, &[TABLE, global], &[]).await?;
    let statements = [
        (format!("SET time_zone = '{ZONE}'"), false),
        // 2001-09-09 01:46:40.5 UTC: 21:46:40.5 the day before in New York (EDT).
        ("SET timestamp = 1000000000.5".into(), false),
        (
            "INSERT INTO tn VALUES (1, NOW(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP()), \
             (2, NOW(6), CURRENT_TIMESTAMP(6), CURRENT_DATE, CURRENT_TIME(3), UNIX_TIMESTAMP()), \
             (3, LOCALTIMESTAMP(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP()), \
             (4, NOW(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP())"
                .into(),
            false,
        ),
        ("SELECT * FROM tn ORDER BY id".into(), true),
        // Every copy of a global table gets the same value.
        ("INSERT INTO tg (id, d) VALUES (1, NOW(6)), (2, SYSDATE())".into(), false),
        ("SELECT id, d, c = NOW() FROM tg ORDER BY id".into(), true),
        (
            "SELECT id, NOW(6), CURDATE(), CURTIME(), UTC_TIMESTAMP(6), UNIX_TIMESTAMP(), \
             d = NOW(6) FROM tn ORDER BY id"
                .into(),
            true,
        ),
        // Winter: 2002-01-03 03:33:20 UTC, 22:33:20 the day before (EST).
        ("SET timestamp = 1010028800".into(), false),
        ("UPDATE tn SET d = NOW(), dd = CURDATE() WHERE id > 2".into(), false),
        ("SELECT id, d, dd, NOW() FROM tn ORDER BY id".into(), true),
        // The stored TIMESTAMPs hold the instants NOW() stood for.
        ("SET time_zone = '+00:00'".into(), false),
        ("SELECT id, ts, UNIX_TIMESTAMP(ts), NOW() FROM tn ORDER BY id".into(), true),
        // SYSTEM on these (UTC) servers: computed here, as an offset.
        ("SET time_zone = 'SYSTEM'".into(), false),
        ("SELECT id, NOW(6), CURDATE() FROM tn ORDER BY id".into(), true),
        (format!("SET time_zone = '{ZONE}'"), false),
        ("SET timestamp = DEFAULT".into(), false),
        // The clock: the same within a minute on both sides.
        (
            "SELECT id, ABS(TIMESTAMPDIFF(SECOND, NOW(), SYSDATE())) < 60, \
             ABS(TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), CONVERT_TZ(NOW(), @@time_zone, '+00:00'))) < 60 \
             FROM tn ORDER BY id"
                .into(),
            true,
        ),
        // SYSDATE() is the clock, not the session's timestamp.
        ("SET timestamp = 1000000000".into(), false),
        (
            "SELECT id, SYSDATE() > '2020-01-01', NOW() FROM tn ORDER BY id".into(),
            true,
        ),
    ];
    let statements: Vec<(&str, bool)> = statements.iter().map(|(s, o)| (s.as_str(), *o)).collect();
    let failures = differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A prepared statement over several nodes gets the same local time.
    let difference = prepared_difference(
        &mut reference,
        &mut strata,
        "SELECT id, NOW(6), CURDATE() FROM tn WHERE id > ? ORDER BY id",
        &[Value::Int(0)],
    )
    .await?;
    assert_eq!(difference, None);
    // Round trips: one per statement under the named zone; none under SYSTEM on these
    // UTC servers (known since the first one) or an offset.
    let storage = shared_storage(4).await?;
    let over_all = "SELECT id, NOW() FROM tn";
    assert_eq!(asked_while(&storage, &mut strata, over_all, 3).await?, 3);
    for zone in ["SYSTEM", "+03:00"] {
        strata
            .query_drop(format!("SET time_zone = '{zone}'"))
            .await?;
        assert_eq!(
            asked_while(&storage, &mut strata, over_all, 3).await?,
            0,
            "{zone}"
        );
    }
    // 01:30 on 2025-11-02 in New York, twice: the first pass (EDT) is written as a
    // literal; in the second (EST) that text reads back as the first pass, so a write
    // of NOW() over several nodes is refused (MariaDB stores the instant into a
    // TIMESTAMP column) and a read runs on one node over copies of the table.
    let statements = [
        (format!("SET time_zone = '{ZONE}'"), false),
        ("SET timestamp = 1762061400".into(), false),
        (
            "UPDATE tn SET ts = NOW(), d = NOW() WHERE id < 3".into(),
            false,
        ),
        (
            "SELECT id, ts, UNIX_TIMESTAMP(ts), d FROM tn ORDER BY id".into(),
            true,
        ),
        ("SET timestamp = 1762065000".into(), false),
        (
            "SELECT id, NOW(), UNIX_TIMESTAMP(NOW()), CURDATE() FROM tn ORDER BY id".into(),
            true,
        ),
        ("UPDATE tn SET d = CURTIME() WHERE id < 3".into(), false),
        ("SELECT id, d FROM tn ORDER BY id".into(), true),
    ];
    let statements: Vec<(&str, bool)> = statements.iter().map(|(s, o)| (s.as_str(), *o)).collect();
    let failures = differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let refused = diffkit::run(&mut strata, "UPDATE tn SET ts = NOW() WHERE id < 3").await?;
    assert_eq!(
        refused.error_code(),
        Some(ER_NOT_SUPPORTED_YET),
        "{}",
        refused.describe(0)
    );
    drop_and_shut_down(node, &mut strata, &db).await
}

/// How many times the compute node asked a storage node for the session's local time
/// (the general log of every node, switched on by the first call).
async fn clock_queries(storage: &StorageNodes) -> Result<u64, BoxError> {
    let mut count = 0;
    for node in storage.nodes() {
        node.execute_sql("SET GLOBAL log_output = 'TABLE', GLOBAL general_log = 1")
            .await?;
        count += node
            .execute_sql(
                "SELECT COUNT(*) FROM mysql.general_log \
                 WHERE argument LIKE 'SELECT NOW(6), SYSDATE(6)%'",
            )
            .await?
            .trim()
            .parse::<u64>()?;
    }
    Ok(count)
}

/// Runs `sql` through `strata` `times` times and returns how many more times the
/// compute node asked for the local time meanwhile.
async fn asked_while(
    storage: &StorageNodes,
    strata: &mut mysql_async::Conn,
    sql: &str,
    times: usize,
) -> Result<u64, BoxError> {
    let before = clock_queries(storage).await?;
    for _ in 0..times {
        strata.query_drop(sql).await?;
    }
    Ok(clock_queries(storage).await? - before)
}

/// The table and the statements both sides run, from the session's time zone on.
const TABLE: (&str, &str, &str) = (
    "tn",
    "id INT PRIMARY KEY, d DATETIME(6), ts TIMESTAMP(6) NULL, dd DATE, tt TIME(3), u BIGINT",
    "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_functions_over_four_nodes_follow_a_non_utc_system_zone() -> TestResult {
    let storage = StorageNodes::start_in_system_time_zone(4, ZONE).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("fnsys");
    let reference_db = unique_name("fnsysref");
    storage.create_database(&reference_db).await?;
    let mut strata = strata_database(&node, &db).await?;
    let mut reference = mysql_async::Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let system: Option<String> = reference.query_first("SELECT @@system_time_zone").await?;
    assert!(
        matches!(system.as_deref(), Some("EST" | "EDT")),
        "{system:?}"
    );
    create_on_both(&mut strata, &mut reference, &[TABLE], &[]).await?;
    let statements = [
        // The session never set time_zone: the servers' SYSTEM.
        ("SET timestamp = 1000000000.5", false),
        (
            "INSERT INTO tn VALUES (1, NOW(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP()), \
             (2, NOW(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP()), \
             (3, NOW(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP()), \
             (4, NOW(6), NOW(6), CURDATE(), CURTIME(3), UNIX_TIMESTAMP())",
            false,
        ),
        ("SELECT * FROM tn ORDER BY id", true),
        (
            "SELECT id, NOW(6), CURDATE(), UTC_TIMESTAMP() FROM tn ORDER BY id",
            true,
        ),
        ("SET time_zone = 'SYSTEM'", false),
        ("SET timestamp = 1010028800", false),
        (
            "UPDATE tn SET d = NOW(), dd = CURDATE() WHERE id > 2",
            false,
        ),
        ("SELECT id, d, dd, NOW() FROM tn ORDER BY id", true),
        ("SET time_zone = DEFAULT", false),
        ("SELECT id, NOW(6), CURTIME() FROM tn ORDER BY id", true),
        ("SET time_zone = '+00:00'", false),
        (
            "SELECT id, ts, UNIX_TIMESTAMP(ts), NOW() FROM tn ORDER BY id",
            true,
        ),
    ];
    let failures = differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // One round trip per statement that writes the local time, and only then.
    let over_all = "SELECT id, NOW() FROM tn";
    assert_eq!(asked_while(&storage, &mut strata, over_all, 3).await?, 0);
    strata.query_drop("SET time_zone = 'SYSTEM'").await?;
    assert_eq!(asked_while(&storage, &mut strata, over_all, 3).await?, 3);
    let one_node = "SELECT id, NOW() FROM tn WHERE id = 1";
    assert_eq!(asked_while(&storage, &mut strata, one_node, 3).await?, 0);
    drop_and_shut_down(node, &mut strata, &db).await
}
