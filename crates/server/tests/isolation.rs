//! Storage isolation, checked on the storage nodes themselves: every statement that
//! would act on a storage server as a whole is sent through Strata, and afterwards the
//! storage servers' accounts, plugins, global variables, replication, servers and files
//! are exactly as before. Reads that would tell where or what a storage server is get
//! the compute node's answers instead. The storage nodes are this test's own, so a
//! regression damages nothing another test uses.

mod common;

use common::{assert_lists_only_test, code_of, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{unique_name, ComputeNode, StorageNodes};

/// What a storage server looks like as a whole, read directly (not through Strata).
async fn storage_state(
    storage: &StorageNodes,
    i: usize,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let mut c = storage.connect(i, None).await?;
    let mut state = Vec::new();
    for probe in [
        "SELECT GROUP_CONCAT(CONCAT(User, '@', Host, ':', Priv) ORDER BY User, Host SEPARATOR ' | ') FROM mysql.global_priv",
        "SELECT GROUP_CONCAT(CONCAT(PLUGIN_NAME, ':', PLUGIN_STATUS) ORDER BY PLUGIN_NAME) FROM information_schema.PLUGINS",
        "SELECT CONCAT_WS(',', @@global.max_connections, @@global.read_only, @@global.general_log, @@global.sql_mode, @@global.event_scheduler)",
        "SELECT COUNT(*) FROM mysql.servers",
        "SELECT COUNT(*) FROM mysql.proc",
        "SELECT COUNT(*) FROM information_schema.SCHEMATA",
    ] {
        let v: Option<Option<String>> = c.query_first(probe).await?;
        state.push(format!("{probe} => {:?}", v.flatten()));
    }
    let replicas: Vec<mysql_async::Row> = c.query("SHOW ALL SLAVES STATUS").await?;
    state.push(format!("replication sources: {}", replicas.len()));
    Ok(state)
}

#[tokio::test]
async fn storage_wide_statements_change_nothing_on_the_storage_nodes() -> TestResult {
    let storage = StorageNodes::start(2).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let before = [
        storage_state(&storage, 0).await?,
        storage_state(&storage, 1).await?,
    ];
    let mut direct = storage.connect(0, None).await?;
    let direct_thread: u64 = direct
        .query_first("SELECT CONNECTION_ID()")
        .await?
        .ok_or("id")?;

    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200)) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    c.query_drop("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        .await?;
    let outfile = std::env::temp_dir().join(unique_name("strata_outfile"));
    let outfile = outfile.to_string_lossy().into_owned();
    let backend = storage.user();
    let statements: Vec<(String, &[u16])> = vec![
        ("SHUTDOWN".into(), &[1227]),
        // Account statements are answered from Strata's own accounts, where the
        // storage account does not exist (GRANT ... IDENTIFIED BY creates a Strata
        // account, as in MariaDB; CREATE USER then finds it).
        (format!("REVOKE ALL ON *.* FROM '{backend}'@'%'"), &[1141]),
        (
            "GRANT ALL ON *.* TO 'evil'@'%' IDENTIFIED BY 'x'".into(),
            &[],
        ),
        ("CREATE USER evil IDENTIFIED BY 'x'".into(), &[1396]),
        (format!("DROP USER '{backend}'@'%'"), &[1396]),
        (
            format!("SET PASSWORD FOR '{backend}'@'%' = PASSWORD('x')"),
            &[1133],
        ),
        (format!("RENAME USER '{backend}'@'%' TO 'x'@'%'"), &[1396]),
        ("INSTALL SONAME 'ha_archive'".into(), &[1227]),
        ("UNINSTALL PLUGIN unix_socket".into(), &[1227]),
        (
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 1".into(),
            &[1227],
        ),
        ("START SLAVE".into(), &[1227]),
        ("STOP ALL SLAVES".into(), &[1227]),
        ("RESET MASTER".into(), &[1227]),
        ("PURGE BINARY LOGS BEFORE NOW()".into(), &[1227]),
        // FLUSH TABLES WITH READ LOCK is the compute node's own lock (tests/read_lock.rs);
        // the table forms would lock a storage server.
        ("FLUSH TABLES t WITH READ LOCK".into(), &[1235]),
        ("FLUSH TABLES t FOR EXPORT".into(), &[1235]),
        ("FLUSH LOGS".into(), &[1227]),
        // Global-only variables of the storage servers: refused; one that has a session
        // scope too is the compute node's own (the storage's sql_mode stays).
        ("SET GLOBAL max_connections = 7".into(), &[1235]),
        // The compute node's own read_only (tests/compute_globals.rs): never the
        // storage nodes' (their state is compared below).
        ("SET @@global.read_only = 1".into(), &[]),
        ("SET @@global.read_only = 0".into(), &[]),
        ("SET GLOBAL sql_mode = 'ANSI'".into(), &[]),
        (
            "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1')".into(),
            &[1227],
        ),
        ("BINLOG 'AAAA'".into(), &[1227]),
        ("BACKUP STAGE START".into(), &[1227]),
        // MySQL 8's statement: MariaDB's grammar rejects it, and its 1064 comes before
        // the guard's 1227 as in MariaDB (the grammar is judged before privileges).
        ("LOCK INSTANCE FOR BACKUP".into(), &[1064]),
        ("XA RECOVER".into(), &[1227]),
        ("CREATE PROCEDURE p() BEGIN SHUTDOWN; END".into(), &[1227]),
        // A DEFINER is Strata's to record (root has SUPER): the storage node's
        // procedure is the backend account's (checked below).
        (
            "CREATE DEFINER = 'root'@'localhost' PROCEDURE p2() SELECT 1".into(),
            &[],
        ),
        (
            "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO SET GLOBAL max_connections = 7".into(),
            &[1227],
        ),
        ("HANDLER t OPEN".into(), &[1235]),
        (
            "LOAD DATA INFILE '/etc/hostname' INTO TABLE t".into(),
            &[1290],
        ),
        (format!("SELECT * FROM t INTO OUTFILE '{outfile}'"), &[1290]),
        (
            format!("PREPARE s FROM 'SELECT 1 INTO OUTFILE ''{outfile}'''"),
            &[1290],
        ),
        ("SET @q = 'SHUTDOWN'".into(), &[]),
        // The variable's value is read and checked as the statement it is.
        ("PREPARE s FROM @q".into(), &[1227]),
        ("EXECUTE IMMEDIATE REPLACE(@q, 'x', 'y')".into(), &[1227]),
        // A system variable is text the compute node does not evaluate.
        ("EXECUTE IMMEDIATE CONCAT(@q, @@hostname)".into(), &[1235]),
        ("SELECT LOAD_FILE('/etc/hostname')".into(), &[1290]),
        (
            "CREATE TABLE f (id INT) DATA DIRECTORY = '/tmp'".into(),
            &[1290],
        ),
        (
            "CREATE TABLE f (id INT) ENGINE=CONNECT TABLE_TYPE=DOS FILE_NAME='/etc/hostname'"
                .into(),
            &[1235],
        ),
        (
            "SELECT user, authentication_string FROM mysql.global_priv".into(),
            &[1044],
        ),
        // mysql.user is Strata's accounts (tests/mysql_tables.rs); joined with the
        // client's tables it is not answered.
        ("SELECT * FROM performance_schema.threads".into(), &[1044]),
        (
            "SELECT * FROM t WHERE v IN (SELECT user FROM mysql.user)".into(),
            &[1235],
        ),
        (
            "SELECT * FROM information_schema.USER_PRIVILEGES".into(),
            &[1235],
        ),
        ("SHOW TABLES FROM mysql".into(), &[1049]),
        ("SHOW COLUMNS FROM user FROM mysql".into(), &[1049]),
        // The compute node has no binary log: no rows, as MariaDB without one.
        ("SHOW MASTER STATUS".into(), &[]),
        ("SHOW ENGINE INNODB STATUS".into(), &[1227]),
        ("SHOW BINARY LOGS".into(), &[1381]),
        ("USE mysql".into(), &[1049]),
        (format!("KILL {direct_thread}"), &[1094]),
        ("FROBNICATE the storage".into(), &[1064]),
    ];
    for (sql, codes) in &statements {
        let outcome = c.query_drop(sql.as_str()).await;
        match (outcome, codes.is_empty()) {
            (Ok(()), true) => {}
            (Ok(()), false) => panic!("{sql}: accepted; expected error {codes:?}"),
            (Err(e), _) => assert!(
                code_of(&e).is_some_and(|code| codes.contains(&code)),
                "{sql}: got {e}; expected error {codes:?}"
            ),
        }
    }
    // Server-side prepared statements are checked the same way.
    for sql in [
        "SELECT LOAD_FILE('/etc/hostname')",
        "SELECT * FROM mysql.user",
        "SHOW GRANTS",
        "SHOW DATABASES",
        "SHOW ENGINE INNODB STATUS",
    ] {
        let e = c.prep(sql).await.err().ok_or(format!("{sql}: prepared"))?;
        assert!(code_of(&e).is_some(), "{sql}: {e}");
    }

    let definer: Option<String> = direct
        .query_first("SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'p2'")
        .await?;
    assert!(
        definer
            .as_deref()
            .is_some_and(|d| d.starts_with(&format!("{backend}@"))),
        "p2 on the storage node: {definer:?}"
    );
    c.query_drop("DROP PROCEDURE p2").await?;
    // Storage nodes: still up, unchanged, no file written, the direct session alive.
    assert_eq!(storage_state(&storage, 0).await?, before[0]);
    assert_eq!(storage_state(&storage, 1).await?, before[1]);
    assert!(
        !std::path::Path::new(&outfile).exists(),
        "{outfile} was written"
    );
    let alive: Option<i64> = direct.query_first("SELECT 1").await?;
    assert_eq!(alive, Some(1));
    let rows: Vec<(i32, String)> = c.query("SELECT id, v FROM t ORDER BY id").await?;
    assert_eq!(rows, vec![(1, "a".to_string()), (2, "b".to_string())]);

    drop(c);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reads_about_the_server_answer_with_the_compute_node() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    let strata_port = node.service_addr().port();

    let (datadir, port): (String, u16) = c
        .query_first("SELECT @@datadir, @@port")
        .await?
        .ok_or("row")?;
    assert_eq!(port, strata_port);
    let meta = std::fs::canonicalize(&node.config().server.data_dir)?;
    assert_eq!(datadir, format!("{}/", meta.display()));
    let (server_id, with_other): (u32, String) = c
        .query_first("SELECT @@global.server_id, CONCAT(@@hostname, ':', @@port)")
        .await?
        .ok_or("row")?;
    assert_eq!(server_id, node.config().server.node_id);
    assert!(
        with_other.ends_with(&format!(":{strata_port}")),
        "{with_other}"
    );

    let shown: Vec<(String, String)> = c
        .query("SHOW VARIABLES WHERE Variable_name IN ('datadir', 'port', 'socket', 'pid_file', 'autocommit')")
        .await?;
    let value = |name: &str| {
        shown
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(value("port"), Some(strata_port.to_string()));
    assert_eq!(value("datadir"), Some(datadir.clone()));
    assert_eq!(value("socket"), Some(String::new()));
    assert_eq!(value("pid_file"), Some(String::new()));
    assert_eq!(value("autocommit"), Some("ON".to_string()));
    let iv: Option<String> = c
        .query_first("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'DATADIR'")
        .await?;
    assert_eq!(iv, Some(datadir));

    assert_lists_only_test(
        &mut c,
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
    )
    .await?;
    assert_lists_only_test(&mut c, "SHOW DATABASES").await?;
    let schemas_of_tables: Vec<String> = c
        .query("SELECT DISTINCT TABLE_SCHEMA FROM information_schema.TABLES t ORDER BY 1")
        .await?;
    assert!(
        schemas_of_tables
            .iter()
            .all(|s| s == "test" || s == "information_schema"),
        "{schemas_of_tables:?}"
    );

    // Columns are named as the client wrote them, as MariaDB names columns of a base
    // table (Strata's derived table used to name them TABLE_NAME, COLUMN_NAME).
    c.query_drop("CREATE TABLE IF NOT EXISTS named_cols (Abc INT)")
        .await?;
    let result = c
        .query_iter(
            "SELECT table_name, c.`Column_Name`, COUNT(*), data_type AS dt \
             FROM information_schema.columns c WHERE table_name = 'named_cols' GROUP BY 1, 2, 4",
        )
        .await?;
    let names: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|col| col.name_str().into_owned())
        .collect();
    drop(result);
    assert_eq!(names, ["table_name", "Column_Name", "COUNT(*)", "dt"]);
    c.query_drop("DROP TABLE named_cols").await?;

    // Status counters read as SHOW STATUS reads them (refused with 1235 before).
    let statuses: Vec<(String, String)> = c
        .query(
            "SELECT variable_name, variable_value FROM information_schema.SESSION_STATUS \
             WHERE variable_name IN ('COM_SELECT', 'QUESTIONS') ORDER BY 1",
        )
        .await?;
    assert_eq!(
        statuses.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["COM_SELECT", "QUESTIONS"]
    );
    let globals: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM information_schema.GLOBAL_STATUS")
        .await?;
    assert!(globals.unwrap_or(0) > 100, "{globals:?}");
    // Threads_connected counts the compute node's clients, not its storage connections
    // (which the pool opens and closes as it likes): MariaDB's tests wait for it.
    let threads = |rows: Vec<(String, String)>| -> Option<i64> {
        rows.first().and_then(|r| r.1.parse().ok())
    };
    let before = threads(c.query("SHOW STATUS LIKE 'Threads_connected'").await?);
    let mut other = node.connect(Some("test")).await?;
    other.query_drop("SELECT 1").await?;
    let during = threads(
        c.query("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
            .await?,
    );
    let schema: Option<String> = c
        .query_first(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
             WHERE VARIABLE_NAME = 'THREADS_CONNECTED'",
        )
        .await?;
    assert_eq!(during, before.map(|n| n + 1), "{before:?} {during:?}");
    assert_eq!(schema.and_then(|s| s.parse().ok()), during);
    other.disconnect().await?;
    let mut after = None;
    for _ in 0..50 {
        after = threads(c.query("SHOW STATUS LIKE 'Threads_connected'").await?);
        if after == before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after, before);

    // DESCRIBE of an information_schema table answers like SHOW COLUMNS of it (it used
    // to reach the storage node rewritten into a derived table: 1064).
    let described: Vec<mysql_async::Row> =
        c.query("DESCRIBE information_schema.PARAMETERS").await?;
    let shown: Vec<mysql_async::Row> = c
        .query("SHOW COLUMNS FROM information_schema.PARAMETERS")
        .await?;
    assert_eq!(described.len(), shown.len());
    assert!(described.len() > 10, "{}", described.len());
    let one: Vec<(String, String)> = c
        .query("DESC INFORMATION_SCHEMA.PARAMETERS SPECIFIC_NAME")
        .await
        .map(|rows: Vec<mysql_async::Row>| {
            rows.into_iter()
                .map(|r| (r.get(0).unwrap_or_default(), r.get(1).unwrap_or_default()))
                .collect()
        })?;
    assert_eq!(
        one,
        vec![("SPECIFIC_NAME".to_string(), "varchar(64)".to_string())]
    );
    // PASSWORD() in an assignment is a function, not SET PASSWORD.
    c.query_drop("SET @x = PASSWORD('a')").await?;
    let hashed: Option<String> = c.query_first("SELECT @x").await?;
    assert_eq!(
        hashed.as_deref(),
        Some("*667F407DE7C6AD07358FA38DAED7828A72014B4E")
    );

    let users: Vec<String> = c
        .query("SELECT DISTINCT USER FROM information_schema.PROCESSLIST")
        .await?;
    assert_eq!(users, vec!["root".to_string()]);
    let listed: Vec<mysql_async::Row> = c.query("SHOW FULL PROCESSLIST").await?;
    assert_eq!(listed.len(), 1);

    let grants: Vec<String> = c.query("SHOW GRANTS").await?;
    assert!(
        grants.iter().all(|g| !g.contains(storage.user())),
        "{grants:?}"
    );
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert!(
        grants[0]
            .starts_with("GRANT ALL PRIVILEGES ON *.* TO `root`@`%` IDENTIFIED BY PASSWORD '*"),
        "{grants:?}"
    );
    // Comments alone are OK, as in MariaDB; no text at all is 1065.
    c.query_drop("/* nothing */").await?;
    let empty = c.query_drop("").await.err().ok_or("empty query accepted")?;
    assert_eq!(code_of(&empty), Some(1065));
    drop(c);
    node.shutdown().await;
    Ok(())
}
