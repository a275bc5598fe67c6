//! The admin port through real clients (mysql_async and the mariadb command-line
//! client) against a compute node over real MariaDB storage nodes: every command's
//! columns, values that move while load runs, the actions, and clear errors for
//! unknown commands, bad ids and accounts without the admin privilege.

mod common;

use common::{is_closed_soon, node_on_shared, root_client_args, run_piped, TestResult};

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use strata_testkit::{mysql_opts, ComputeNode};

/// Column names and rows (as text, NULL as None) of an admin command.
async fn show(
    admin: &mut Conn,
    command: &str,
) -> Result<(Vec<String>, Vec<Vec<Option<String>>>), mysql_async::Error> {
    let rows: Vec<Row> = admin.query(command).await?;
    let columns = rows
        .first()
        .map(|r| {
            r.columns_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let values = rows
        .into_iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.get::<Option<String>, _>(i).flatten())
                .collect()
        })
        .collect();
    Ok((columns, values))
}

fn server_error(e: mysql_async::Error) -> (u16, String) {
    match e {
        mysql_async::Error::Server(s) => (s.code, s.message),
        other => panic!("expected a server error, got {other}"),
    }
}

fn column<'a>(
    columns: &[String],
    rows: &'a [Vec<Option<String>>],
    name: &str,
) -> Vec<Option<&'a str>> {
    let i = columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {columns:?}"));
    rows.iter().map(|r| r[i].as_deref()).collect()
}

async fn sharded_node() -> Result<ComputeNode, Box<dyn std::error::Error + Send + Sync>> {
    let node = ComputeNode::configured(2, |c| c.slow_log.slow_query_ms = 200).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE ad (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    c.query_drop("INSERT INTO ad VALUES (1, 10), (2, 20), (3, 30), (4, 40)")
        .await?;
    Ok(node)
}

#[tokio::test]
async fn every_view_answers_with_its_columns_and_moves_under_load() -> TestResult {
    let node = sharded_node().await?;
    let mut admin = Conn::new(node.admin_opts()).await?;

    let (cols, help) = show(&mut admin, "SHOW @@HELP").await?;
    assert_eq!(cols, ["command", "description"]);
    for command in [
        "SHOW @@DATANODE",
        "KILL @@CONNECTION id[,id...]",
        "RELOAD @@CONFIG",
    ] {
        assert!(
            help.iter().any(|r| r[0].as_deref() == Some(command)),
            "{command} missing from {help:?}"
        );
    }

    let (_, before) = show(&mut admin, "SHOW @@DATANODE").await?;
    // Load from a client session while the admin looks.
    let mut client = node.connect(Some("test")).await?;
    for id in 1..=40 {
        let _: Option<i32> = client
            .query_first(format!("SELECT v FROM ad WHERE id = {}", id % 4 + 1))
            .await?;
    }
    // Prepared executions of the same shape share its digest (computed once, at PREPARE).
    let point = client.prep("SELECT v FROM ad WHERE id=?").await?;
    for id in 1..=10 {
        let _: Option<i32> = client.exec_first(&point, (id % 4 + 1,)).await?;
    }
    let _: Vec<(i32, i32)> = client.query("SELECT id, v FROM ad ORDER BY id").await?;

    let (cols, after) = show(&mut admin, "SHOW @@DATANODE").await?;
    assert_eq!(
        cols,
        [
            "dnid",
            "databases",
            "storage_node",
            "status",
            "pool_active",
            "pool_idle",
            "pool_max",
            "pool_waiters",
            "statements",
            "statements_per_s"
        ]
    );
    assert_eq!(column(&cols, &after, "dnid"), [Some("1"), Some("2")]);
    assert_eq!(
        column(&cols, &after, "databases"),
        [Some("test"), Some("test")]
    );
    assert_eq!(column(&cols, &after, "status"), [Some("ok"), Some("ok")]);
    let count = |rows: &[Vec<Option<String>>]| -> u64 {
        column(&cols, rows, "statements")
            .iter()
            .map(|v| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
            .sum()
    };
    // 50 point selects on one node each, one scatter on both.
    assert!(
        count(&after) >= count(&before) + 52,
        "before {before:?} after {after:?}"
    );

    let (cols, sources) = show(&mut admin, "SHOW @@DATASOURCE").await?;
    assert_eq!(
        cols,
        [
            "dnid",
            "host",
            "port",
            "database",
            "role",
            "status",
            "version",
            "tls",
            "lag_ms",
            "gtid",
            "at_risk",
            "connect_errors",
            "last_error",
            "last_failover"
        ]
    );
    assert_eq!(
        column(&cols, &sources, "role"),
        [Some("primary"), Some("primary")]
    );
    assert!(column(&cols, &sources, "version")
        .iter()
        .all(|v| v.is_some_and(|v| v.contains("MariaDB"))));

    let (cols, digests) = show(&mut admin, "SHOW @@SQL_DIGEST").await?;
    assert_eq!(
        cols,
        [
            "digest",
            "count",
            "errors",
            "rows",
            "total_ms",
            "avg_ms",
            "max_ms",
            "p99_ms",
            "nodes_per_execution",
            "first_seen",
            "last_seen"
        ]
    );
    let point = digests
        .iter()
        .find(|r| r[0].as_deref() == Some("select v from ad where id = ?"))
        .unwrap_or_else(|| panic!("no point-select digest in {digests:?}"));
    assert_eq!(point[1].as_deref(), Some("50"), "{digests:?}");
    assert_eq!(point[2].as_deref(), Some("0"));
    assert_eq!(point[3].as_deref(), Some("50"));
    assert_eq!(point[8].as_deref(), Some("1.000"));
    let scatter = digests
        .iter()
        .find(|r| r[0].as_deref() == Some("select id, v from ad order by id"))
        .unwrap_or_else(|| panic!("no scatter digest in {digests:?}"));
    assert_eq!(scatter[8].as_deref(), Some("2.000"));
    // Rows merged from both nodes count as the rows it returned (4 per execution).
    let (count, rows): (u64, u64) = (
        scatter[1].as_deref().unwrap_or("0").parse()?,
        scatter[3].as_deref().unwrap_or("0").parse()?,
    );
    assert!(count > 0 && rows == 4 * count, "{scatter:?}");

    let (cols, sessions) = show(&mut admin, "SHOW @@SESSION").await?;
    assert_eq!(
        cols,
        [
            "id",
            "user",
            "host",
            "db",
            "state",
            "in_transaction",
            "data_nodes",
            "time_s",
            "statement"
        ]
    );
    let client_id = client.id().to_string();
    let mine = sessions
        .iter()
        .find(|r| r[0].as_deref() == Some(client_id.as_str()))
        .unwrap_or_else(|| panic!("session {client_id} missing from {sessions:?}"));
    assert_eq!(mine[1].as_deref(), Some("root"));
    assert_eq!(mine[3].as_deref(), Some("test"));
    assert_eq!(mine[4].as_deref(), Some("Sleep"));
    client.query_drop("BEGIN").await?;
    client
        .query_drop("UPDATE ad SET v = v + 1 WHERE id = 1")
        .await?;
    let (cols, sessions) = show(&mut admin, "SHOW @@CONNECTION").await?;
    let mine = sessions
        .iter()
        .find(|r| r[0].as_deref() == Some(client_id.as_str()))
        .unwrap_or_else(|| panic!("session {client_id} missing from {sessions:?}"));
    assert_eq!(
        mine[cols.iter().position(|c| c == "in_transaction").unwrap_or(0)].as_deref(),
        Some("1")
    );
    client.query_drop("ROLLBACK").await?;

    let (cols, backends) = show(&mut admin, "SHOW @@BACKEND").await?;
    assert_eq!(
        cols,
        [
            "dnid",
            "thread_id",
            "state",
            "session",
            "idle_ms",
            "statement"
        ]
    );
    assert!(
        backends.iter().any(|r| r[2].as_deref() == Some("idle")),
        "{backends:?}"
    );

    let (cols, dbs) = show(&mut admin, "SHOW @@DATABASE").await?;
    assert_eq!(
        cols,
        ["database", "data_nodes", "default_data_nodes", "tables"]
    );
    assert_eq!(
        dbs,
        [vec![
            Some("test".to_string()),
            Some("1,2".to_string()),
            Some("1,2".to_string()),
            Some("1".to_string())
        ]]
    );

    let (cols, tables) = show(&mut admin, "SHOW @@TABLE").await?;
    assert_eq!(
        cols,
        [
            "database",
            "table",
            "type",
            "rule",
            "key",
            "data_nodes",
            "rows_estimate"
        ]
    );
    assert_eq!(
        tables,
        [vec![
            Some("test".to_string()),
            Some("ad".to_string()),
            Some("sharded".to_string()),
            Some("auto_crc32".to_string()),
            Some("id".to_string()),
            Some("1,2".to_string()),
            None
        ]]
    );

    // Every storage node's heartbeat, once the first probes are in.
    let mut beats = Vec::new();
    for _ in 0..50 {
        let (cols, rows) = show(&mut admin, "SHOW @@HEARTBEAT").await?;
        // `show` takes the column names from the rows: none before the first probes.
        if !rows.is_empty() {
            assert_eq!(cols[..5], ["dnid", "host", "port", "role", "status"]);
        }
        beats = rows;
        if beats.len() == 2 && beats.iter().all(|r| r[4].as_deref() == Some("up")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let dnids: Vec<Option<&str>> = beats.iter().map(|r| r[0].as_deref()).collect();
    assert_eq!(dnids, [Some("1"), Some("2")], "{beats:?}");
    assert!(
        beats
            .iter()
            .all(|r| r[3].as_deref() == Some("primary") && r[4].as_deref() == Some("up")),
        "{beats:?}"
    );

    // Nothing in doubt on a healthy node: the view is empty, with its columns.
    let rows: Vec<Row> = admin.query("SHOW @@XA").await?;
    assert!(rows.is_empty(), "{rows:?}");

    let (cols, server) = show(&mut admin, "SHOW @@SERVER").await?;
    assert_eq!(cols, ["name", "value"]);
    let get = |name: &str| {
        server
            .iter()
            .find(|r| r[0].as_deref() == Some(name))
            .and_then(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no {name} in {server:?}"))
    };
    assert_eq!(get("strata_version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(get("state"), "ONLINE");
    assert!(get("memory_rss_bytes").parse::<u64>()? > 0);
    assert!(get("worker_threads").parse::<u64>()? > 0);
    assert!(get("version").contains("MariaDB"));

    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn slow_statements_are_kept_and_digests_reset() -> TestResult {
    let node = sharded_node().await?;
    let mut admin = Conn::new(node.admin_opts()).await?;
    let mut client = node.connect(Some("test")).await?;
    let _: Vec<i64> = client.query("SELECT SLEEP(0.3)").await?;
    client.query_drop("SELECT 1").await?;

    let (cols, slow) = show(&mut admin, "SHOW @@SLOW_SQL").await?;
    assert_eq!(
        cols,
        [
            "time",
            "session",
            "user",
            "db",
            "duration_ms",
            "rows",
            "error",
            "data_nodes",
            "digest",
            "statement"
        ]
    );
    assert!(!slow.is_empty(), "no slow statement");
    // Newest first. On a loaded machine the setup's DDL and INSERT may be slow too;
    // SELECT 1 never is.
    assert!(
        slow[1..].iter().all(|r| r[9]
            .as_deref()
            .is_some_and(|s| s.starts_with("CREATE TABLE ad") || s.starts_with("INSERT INTO ad"))),
        "{slow:?}"
    );
    assert_eq!(slow[0][2].as_deref(), Some("root"));
    assert_eq!(slow[0][3].as_deref(), Some("test"));
    assert_eq!(slow[0][8].as_deref(), Some("select SLEEP(?)"));
    assert_eq!(slow[0][9].as_deref(), Some("SELECT SLEEP(0.3)"));
    let ms: f64 = slow[0][4].as_deref().unwrap_or("0").parse()?;
    assert!(ms >= 300.0, "{ms}");

    let (_, digests) = show(&mut admin, "SHOW @@SQL_DIGEST").await?;
    assert!(!digests.is_empty());
    admin.query_drop("RESET @@SQL_DIGEST").await?;
    let rows: Vec<Row> = admin.query("SHOW @@SQL_DIGEST").await?;
    assert!(rows.is_empty(), "{rows:?}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn kill_closes_sessions_and_bad_input_gets_clear_errors() -> TestResult {
    let node = sharded_node().await?;
    let mut admin = Conn::new(node.admin_opts()).await?;
    let mut victim = node.connect(Some("test")).await?;
    let mut bystander = node.connect(Some("test")).await?;

    let (code, message) = server_error(
        admin
            .query_drop("SHOW @@NOTHING")
            .await
            .expect_err("unknown view"),
    );
    assert_eq!(code, 1064);
    assert_eq!(
        message,
        "Unknown admin command 'SHOW @@NOTHING'; SHOW @@HELP lists the commands"
    );
    let (code, _) = server_error(admin.query_drop("SELECT * FROM t").await.expect_err("SQL"));
    assert_eq!(code, 1064);
    let (code, message) = server_error(
        admin
            .query_drop("KILL @@CONNECTION x1")
            .await
            .expect_err("bad id"),
    );
    assert_eq!(code, 1064);
    assert!(message.contains("'x1'"), "{message}");
    let (code, message) = server_error(
        admin
            .query_drop("KILL @@CONNECTION 4000000")
            .await
            .expect_err("no such session"),
    );
    assert_eq!(
        (code, message.as_str()),
        (1094, "Unknown thread id: 4000000")
    );

    admin
        .query_drop(format!("KILL @@CONNECTION {}", victim.id()))
        .await?;
    assert_eq!(admin.affected_rows(), 1);
    // The session is closed: its next statement fails.
    assert!(
        is_closed_soon(&mut victim).await,
        "the killed session still answers"
    );
    bystander.query_drop("SELECT 1").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn offline_refuses_new_clients_and_online_lets_them_in() -> TestResult {
    let node = sharded_node().await?;
    let mut admin = Conn::new(node.admin_opts()).await?;
    let mut existing = node.connect(Some("test")).await?;

    admin.query_drop("OFFLINE").await?;
    let refused = node.connect(Some("test")).await.expect_err("offline");
    let message = refused.to_string();
    assert!(
        message.contains("1053") && message.contains("offline"),
        "{message}"
    );
    existing.query_drop("SELECT v FROM ad WHERE id = 1").await?;
    // The admin port itself stays open.
    let mut second_admin = Conn::new(node.admin_opts()).await?;
    let (_, server) = show(&mut second_admin, "SHOW @@SERVER").await?;
    assert!(server
        .iter()
        .any(|r| r[0].as_deref() == Some("state") && r[1].as_deref() == Some("OFFLINE")));

    admin.query_drop("ONLINE").await?;
    let mut back = node.connect(Some("test")).await?;
    back.query_drop("SELECT 1").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn accounts_without_super_and_wrong_passwords_are_refused() -> TestResult {
    let node = sharded_node().await?;
    let mut root = node.connect(None).await?;
    root.query_drop("CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'")
        .await?;
    root.query_drop("GRANT SELECT, PROCESS ON *.* TO 'reader'@'%'")
        .await?;
    root.query_drop("CREATE USER 'op'@'%' IDENTIFIED BY 'pw'")
        .await?;
    root.query_drop("GRANT SUPER ON *.* TO 'op'@'%'").await?;

    let denied = Conn::new(mysql_opts(node.admin_addr(), "reader", "pw", None))
        .await
        .expect_err("no SUPER");
    let (code, message) = server_error(denied);
    assert_eq!(code, 1227);
    assert_eq!(
        message,
        "Access denied; you need (at least one of) the SUPER privilege(s) for this operation"
    );
    let wrong = Conn::new(mysql_opts(node.admin_addr(), "root", "nope", None))
        .await
        .expect_err("wrong password");
    assert_eq!(server_error(wrong).0, 1045);
    let mut op = Conn::new(mysql_opts(node.admin_addr(), "op", "pw", None)).await?;
    let (_, help) = show(&mut op, "SHOW @@HELP").await?;
    assert!(!help.is_empty());
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reload_applies_online_settings_and_names_the_rest() -> TestResult {
    let node = sharded_node().await?;
    let mut admin = Conn::new(node.admin_opts()).await?;
    let (code, message) = server_error(
        admin
            .query_drop("RELOAD @@CONFIG")
            .await
            .expect_err("no file"),
    );
    assert_eq!(code, 1105);
    assert!(
        message.contains("not started from a configuration file"),
        "{message}"
    );

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("strata.toml");
    std::fs::write(&path, node.config().to_toml()?)?;
    node.server().set_config_path(path.clone());
    let (cols, rows) = show(&mut admin, "RELOAD @@CONFIG").await?;
    assert_eq!(cols, ["setting", "status", "detail"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1].as_deref(), Some("unchanged"));

    let mut changed = node.config().clone();
    changed.firewall.deny_update_delete_without_where = true;
    changed.slow_log.slow_query_ms = 50;
    changed.pool.max_size += 1;
    std::fs::write(&path, changed.to_toml()?)?;
    let (_, rows) = show(&mut admin, "RELOAD @@CONFIG").await?;
    let status = |setting: &str| {
        rows.iter()
            .find(|r| r[0].as_deref() == Some(setting))
            .and_then(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no {setting} in {rows:?}"))
    };
    assert_eq!(status("firewall"), "applied");
    assert_eq!(status("slow_log, statistics"), "applied");
    assert_eq!(status("pool"), "restart required");

    // The firewall rule is in force for the next statement.
    let mut client = node.connect(Some("test")).await?;
    let denied = client
        .query_drop("DELETE FROM ad")
        .await
        .expect_err("firewall");
    assert_eq!(server_error(denied).0, 1227);
    // The lower slow threshold too.
    let _: Vec<i64> = client.query("SELECT SLEEP(0.1)").await?;
    let (_, slow) = show(&mut admin, "SHOW @@SLOW_SQL").await?;
    assert!(
        slow.iter()
            .any(|r| r[9].as_deref() == Some("SELECT SLEEP(0.1)")),
        "{slow:?}"
    );
    // A second reload of the same file reports only what still waits for a restart.
    let (_, rows) = show(&mut admin, "RELOAD @@CONFIG").await?;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0].as_deref(), Some("pool"));

    std::fs::write(&path, "this is = not [valid")?;
    let (code, _) = server_error(
        admin
            .query_drop("RELOAD @@CONFIG")
            .await
            .expect_err("bad file"),
    );
    assert_eq!(code, 1105);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_mariadb_client_talks_to_the_admin_port() -> TestResult {
    let node = sharded_node().await?;
    let mut args = root_client_args(node.admin_addr());
    args.push("--batch".into());
    let output = tokio::task::spawn_blocking(move || {
        run_piped("mariadb", &args, b"SHOW @@DATANODE; SHOW @@SERVER")
    })
    .await??;
    let stdout = String::from_utf8_lossy(&output);
    assert!(
        stdout.starts_with("dnid\tdatabases\tstorage_node\tstatus"),
        "{stdout}"
    );
    assert!(stdout.contains("uptime_s"), "{stdout}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn ddl_over_several_data_nodes_is_a_job_that_finishes_or_fails_with_its_error() -> TestResult
{
    let (storage, node) = node_on_shared(2).await?;
    let mut admin = Conn::new(node.admin_opts()).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE jb (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    c.query_drop("ALTER TABLE jb ADD COLUMN w INT").await?;

    let (cols, jobs) = show(&mut admin, "SHOW @@JOB").await?;
    assert_eq!(
        cols,
        [
            "id",
            "kind",
            "description",
            "state",
            "progress_pct",
            "steps_done",
            "steps",
            "started",
            "finished",
            "elapsed_s",
            "eta_s",
            "last_error"
        ]
    );
    // Newest first: the ALTER, then the CREATE.
    let descriptions = column(&cols, &jobs, "description");
    assert!(
        descriptions[0].is_some_and(|d| d.starts_with("ALTER TABLE")),
        "{jobs:?}"
    );
    assert!(
        descriptions[1].is_some_and(|d| d.starts_with("CREATE TABLE")),
        "{jobs:?}"
    );
    for row in 0..2 {
        assert_eq!(column(&cols, &jobs, "kind")[row], Some("ddl"));
        assert_eq!(column(&cols, &jobs, "state")[row], Some("finished"));
        assert_eq!(column(&cols, &jobs, "progress_pct")[row], Some("100.000"));
        assert_eq!(column(&cols, &jobs, "steps_done")[row], Some("2"));
        assert_eq!(column(&cols, &jobs, "steps")[row], Some("2"));
        assert!(column(&cols, &jobs, "finished")[row].is_some());
        assert_eq!(column(&cols, &jobs, "eta_s")[row], None);
        assert_eq!(column(&cols, &jobs, "last_error")[row], None);
    }

    // A table that already exists on data node 2 only: the CREATE applies on node 1
    // and fails on node 2; the job fails at 50 % with the error naming both.
    let physical = node
        .physical_database("test")
        .ok_or("no physical database")?;
    let mut direct = storage.connect(1, Some(physical)).await?;
    direct.query_drop("CREATE TABLE jb2 (id INT)").await?;
    let e = c
        .query_drop("CREATE TABLE jb2 (id INT PRIMARY KEY) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await
        .expect_err("the table exists on data node 2");
    let (code, _) = server_error(e);
    assert_eq!(code, 1050);
    let (cols, jobs) = show(&mut admin, "SHOW @@JOB").await?;
    assert_eq!(column(&cols, &jobs, "state")[0], Some("failed"));
    assert_eq!(column(&cols, &jobs, "progress_pct")[0], Some("50.000"));
    assert_eq!(column(&cols, &jobs, "steps_done")[0], Some("1"));
    let error = column(&cols, &jobs, "last_error")[0].unwrap_or_default();
    assert!(
        error.contains("already exists") && error.contains("data node 2"),
        "{error}"
    );
    direct.query_drop("DROP TABLE jb2").await?;
    let mut first = storage.connect(0, Some(physical)).await?;
    first.query_drop("DROP TABLE IF EXISTS jb2").await?;

    // A statement on one data node is no job.
    c.query_drop("CREATE TABLE jb3 (id INT PRIMARY KEY) SHARD BY VERTICAL ON DATANODE '1'")
        .await?;
    let (_, after) = show(&mut admin, "SHOW @@JOB").await?;
    assert!(
        column(&cols, &after, "description")
            .iter()
            .all(|d| !d.is_some_and(|d| d.contains("jb3"))),
        "{after:?}"
    );
    node.shutdown().await;
    Ok(())
}
