//! Server-wide settings a DBA sets on "the server" that are the compute node's own, with
//! MariaDB 10.11's semantics, through a real client: `SET GLOBAL read_only` (the compute
//! node's, never the storage servers' that fence failed primaries), `SET GLOBAL
//! max_allowed_packet` (new sessions' limit, on their storage connections too), `SET
//! GLOBAL net_buffer_length` (new sessions' storage connections), a
//! `CREATE TABLE` naming an unknown storage engine (the default engine substituted,
//! with warnings), and `SET GLOBAL init_connect` (run by new sessions of accounts without
//! SUPER).

mod common;
mod diffkit;

use common::{assert_codes, code_of, node_on_shared, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_catalog::config::StorageGlobals;
use strata_testkit::{mysql_opts, unique_name, ComputeNode, StorageNodes};

async fn login(addr: std::net::SocketAddr, user: &str) -> Result<Conn, mysql_async::Error> {
    Conn::new(mysql_opts(addr, user, "pw", Some("test"))).await
}

async fn int(c: &mut Conn, sql: &str) -> TestResult<i64> {
    Ok(c.query_first(sql).await?.ok_or("no row")?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_holds_back_changes_of_accounts_without_read_only_admin() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let addr = node.service_addr();
    let mut root = node.connect(Some("test")).await?;
    let t = unique_name("ro_t");
    let plain = unique_name("ro_plain");
    let admin = unique_name("ro_admin");
    let sup = unique_name("ro_super");
    root.query_drop(format!("CREATE TABLE {t} (a INT)")).await?;
    for (user, grants) in [
        (&plain, "ALL PRIVILEGES"),
        (&admin, "SELECT, INSERT, UPDATE, DELETE, READ_ONLY ADMIN"),
        (&sup, "SELECT, INSERT, UPDATE, DELETE, SUPER"),
    ] {
        root.query_drop(format!("CREATE USER {user}@'%' IDENTIFIED BY 'pw'"))
            .await?;
        root.query_drop(format!("GRANT {grants} ON *.* TO {user}@'%'"))
            .await?;
    }
    root.query_drop(format!(
        "REVOKE READ_ONLY ADMIN, SUPER ON *.* FROM {plain}@'%'"
    ))
    .await?;

    // Setting it wants READ_ONLY ADMIN; SUPER alone will not do (MariaDB 10.11).
    let mut s = login(addr, &sup).await?;
    assert_codes(&mut s, &["SET GLOBAL read_only = 1"], 1227).await;
    assert_codes(
        &mut root,
        &["SET GLOBAL read_only = 2", "SET GLOBAL read_only = 'x'"],
        1231,
    )
    .await;
    root.query_drop("SET @@GLOBAL.read_only = 1").await?;
    assert_eq!(int(&mut root, "SELECT @@global.read_only").await?, 1);
    assert_eq!(int(&mut root, "SELECT @@read_only + 0").await?, 1);
    let shown: Option<(String, String)> =
        root.query_first("SHOW VARIABLES LIKE 'read_only'").await?;
    assert_eq!(shown.map(|(_, v)| v).as_deref(), Some("ON"));
    // The storage servers keep theirs (Strata's fencing of failed primaries).
    let mut direct = storage.connect(0, None).await?;
    assert_eq!(int(&mut direct, "SELECT @@global.read_only").await?, 0);

    let mut p = login(addr, &plain).await?;
    assert_codes(
        &mut p,
        &[
            &format!("UPDATE {t} SET a = 11 WHERE a = 10"),
            &format!("DELETE FROM {t} WHERE a = 11"),
            &format!("INSERT INTO {t} VALUES (20)"),
            &format!("ALTER TABLE {t} ADD b INT"),
            &format!("DROP TABLE {t}"),
            "CREATE TABLE ro_new (a INT)",
            "CREATE DATABASE ro_newdb",
            "CREATE VIEW ro_v AS SELECT 1",
            &format!("LOCK TABLES {t} WRITE"),
            &format!("OPTIMIZE TABLE {t}"),
        ],
        1290,
    )
    .await;
    // Reads, the session's temporary tables and transaction control go on.
    let n: Vec<i64> = p.query(format!("SELECT a FROM {t}")).await?;
    assert!(n.is_empty());
    p.query_drop("CREATE TEMPORARY TABLE ro_tmp (a INT)")
        .await?;
    p.query_drop("INSERT INTO ro_tmp VALUES (1)").await?;
    p.query_drop("UPDATE ro_tmp SET a = 2").await?;
    assert_eq!(int(&mut p, "SELECT a FROM ro_tmp").await?, 2);
    // A WRITE lock of a temporary table is allowed beside READ locks (read_only_innodb).
    assert_codes(
        &mut p,
        &[&format!("LOCK TABLES ro_tmp WRITE, {t} WRITE")],
        1290,
    )
    .await;
    p.query_drop(format!("LOCK TABLES {t} READ, ro_tmp WRITE"))
        .await?;
    p.query_drop("INSERT INTO ro_tmp VALUES (3)").await?;
    assert_codes(&mut p, &[&format!("INSERT INTO {t} VALUES (3)")], 1290).await;
    p.query_drop("UNLOCK TABLES").await?;
    p.query_drop("DROP TABLE ro_tmp").await?;
    p.query_drop("BEGIN").await?;
    p.query_drop("COMMIT").await?;
    assert_codes(&mut p, &["SET GLOBAL read_only = 0"], 1227).await;

    // SUPER does not exempt a session; READ_ONLY ADMIN does.
    assert_codes(&mut s, &[&format!("INSERT INTO {t} VALUES (1)")], 1290).await;
    let mut a = login(addr, &admin).await?;
    a.query_drop(format!("INSERT INTO {t} VALUES (20)")).await?;
    a.query_drop(format!("UPDATE {t} SET a = 21")).await?;

    // A transaction that changed data before read_only came on does not commit.
    root.query_drop("SET GLOBAL read_only = 0").await?;
    p.query_drop("BEGIN").await?;
    p.query_drop(format!("INSERT INTO {t} VALUES (30)")).await?;
    root.query_drop("SET GLOBAL read_only = ON").await?;
    let committed = p.query_drop("COMMIT").await;
    assert_eq!(committed.as_ref().err().and_then(code_of), Some(1290));
    root.query_drop("SET GLOBAL read_only = DEFAULT").await?;
    assert_eq!(int(&mut root, "SELECT @@global.read_only").await?, 0);
    let rows: Vec<i64> = p.query(format!("SELECT a FROM {t} ORDER BY a")).await?;
    assert_eq!(rows, vec![21]);
    p.query_drop(format!("INSERT INTO {t} VALUES (40)")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_engine_is_substituted_as_mariadb_does() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let reference_db = unique_name("engref");
    storage.create_database(&reference_db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let mut strata = node.connect(Some("test")).await?;
    let e1 = unique_name("eng1");
    let e2 = unique_name("eng2");
    let e3 = unique_name("eng3");
    let e4 = unique_name("eng4");
    let statements = [
        "SET sql_mode = ''".to_string(),
        format!("CREATE TABLE {e1} (a INT) ENGINE=FALCON"),
        "SHOW WARNINGS".to_string(),
        format!("SHOW CREATE TABLE {e1}"),
        format!("CREATE TABLE {e2} ENGINE=FALCON AS SELECT repeat('a', 5) AS s1 LIMIT 0"),
        "SHOW WARNINGS".to_string(),
        format!("INSERT INTO {e2} VALUES ('x'), ('y')"),
        format!("SELECT * FROM {e2} ORDER BY s1"),
        format!("ALTER TABLE {e1} ENGINE = foo"),
        "SHOW WARNINGS".to_string(),
        format!("CREATE TEMPORARY TABLE {e3} (a INT) ENGINE 'nosuch'"),
        "SHOW WARNINGS".to_string(),
        "SET sql_mode = 'NO_ENGINE_SUBSTITUTION'".to_string(),
        format!("CREATE TABLE {e4} (a INT) ENGINE=FALCON"),
        "SHOW WARNINGS".to_string(),
        "SET sql_mode = DEFAULT".to_string(),
        format!("DROP TABLE {e1}, {e2}"),
    ];
    let statements: Vec<(&str, bool)> = statements.iter().map(|s| (s.as_str(), true)).collect();
    let failures = diffkit::differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Engines MariaDB has that Strata does not allow stay refused, substituted or not.
    strata.query_drop("SET sql_mode = ''").await?;
    assert_codes(
        &mut strata,
        &[
            "CREATE TABLE eng_c (a INT) ENGINE=CONNECT",
            "CREATE TABLE eng_f (a INT) ENGINE=FEDERATED",
        ],
        1235,
    )
    .await;
    reference
        .query_drop(format!("DROP DATABASE {reference_db}"))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_engine_is_refused_over_several_data_nodes() -> TestResult {
    let (_storage, node) = node_on_shared(4).await?;
    let db = unique_name("engspread");
    let mut strata = node.connect(Some("test")).await?;
    strata.query_drop(format!("CREATE DATABASE {db}")).await?;
    strata.query_drop(format!("USE {db}")).await?;
    strata.query_drop("SET sql_mode = ''").await?;
    assert_codes(
        &mut strata,
        &["CREATE TABLE t1 (a INT) ENGINE=FALCON"],
        1235,
    )
    .await;
    strata.query_drop(format!("DROP DATABASE {db}")).await?;
    Ok(())
}

/// What a statement answers, as text: its rows and warnings, or its error code.
async fn answer(c: &mut Conn, sql: &str) -> TestResult<String> {
    match c.query::<mysql_async::Row, _>(sql).await {
        Ok(rows) => {
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|r| {
                    r.unwrap()
                        .into_iter()
                        .map(|v| diffkit::value_text(&v))
                        .collect()
                })
                .collect();
            let warnings: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await?;
            Ok(format!("{rows:?} {warnings:?}"))
        }
        Err(e) => Ok(format!("error {:?}", code_of(&e))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_global_net_buffer_length_reaches_new_sessions_storage_connections() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.storage_globals = StorageGlobals::Settable)
        .start()
        .await?;
    let mut old = node.connect(Some("test")).await?;
    let before = int(&mut old, "SELECT @@net_buffer_length").await?;
    old.query_drop("SET @save = @@net_buffer_length").await?;
    assert_codes(&mut old, &["SET SESSION net_buffer_length = 4096"], 1621).await;
    // func_json (MDEV-11833): a new session reads the new value.
    old.query_drop("SET @@global.net_buffer_length = 1024")
        .await?;
    let mut direct = storage.connect(0, None).await?;
    let mut new = node.connect(Some("test")).await?;
    for c in [&mut new, &mut direct] {
        let shown: Option<(String, i64)> = c
            .query_first("SHOW VARIABLES LIKE 'net_buffer_length'")
            .await?;
        assert_eq!(shown, Some(("net_buffer_length".into(), 1024)));
        assert_eq!(int(c, "SELECT @@global.net_buffer_length").await?, 1024);
    }
    assert_ne!(before, 1024);
    old.query_drop("SET @@global.net_buffer_length = @save")
        .await?;
    let mut later = node.connect(Some("test")).await?;
    assert_eq!(int(&mut later, "SELECT @@net_buffer_length").await?, before);
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_global_max_allowed_packet_reaches_new_sessions_and_their_storage_connections(
) -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.storage_globals = StorageGlobals::Settable)
        .start()
        .await?;
    let mut old = node.connect(Some("test")).await?;
    let before = int(&mut old, "SELECT @@max_allowed_packet").await?;
    old.query_drop("SET @save = @@global.max_allowed_packet")
        .await?;
    assert_codes(&mut old, &["SET SESSION max_allowed_packet = 4096"], 1621).await;

    // MariaDB's warning comes through (2048 is below net_buffer_length).
    let set = "SET @@GLOBAL.max_allowed_packet = 2048";
    old.query_drop(set).await?;
    let warnings: Vec<(String, u16, String)> = old.query("SHOW WARNINGS").await?;
    assert_eq!(warnings.iter().map(|w| w.1).collect::<Vec<_>>(), [1708]);
    assert_eq!(int(&mut old, "SELECT @@max_allowed_packet").await?, before);
    assert_eq!(
        int(&mut old, "SELECT @@global.max_allowed_packet").await?,
        2048
    );

    // A new session starts with it, and its storage connections too: results over it
    // are cut (1301) as on MariaDB itself.
    let mut new = node.connect(Some("test")).await?;
    let mut direct = storage.connect(0, None).await?;
    assert_eq!(int(&mut new, "SELECT @@max_allowed_packet").await?, 2048);
    for sql in [
        "SELECT @@max_allowed_packet, @@session.max_allowed_packet + 0",
        "SELECT LENGTH(CONVERT('a', BINARY(2049)))",
        "SELECT CONVERT('a', CHAR(2049))",
        "SELECT LENGTH(CONVERT(repeat('a',2048), CHAR(2049)))",
        "SELECT REPEAT('a', 3000) IS NULL",
        "SELECT LENGTH(SFORMAT('{:3000}', 1))",
    ] {
        assert_eq!(
            answer(&mut new, sql).await?,
            answer(&mut direct, sql).await?,
            "{sql}"
        );
    }
    let cut = answer(&mut new, "SELECT REPEAT('a', 3000) IS NULL").await?;
    assert!(
        cut.starts_with("[[\"1\"]]") && cut.contains("1301"),
        "{cut}"
    );
    // The compute node enforces it on the new session's packets: 1153, then the end.
    let long = format!("SELECT '{}'", "x".repeat(4000));
    let refused = new.query_drop(&long).await;
    assert!(refused.is_err());
    assert!(new.query_drop("SELECT 1").await.is_err());

    old.query_drop("SET GLOBAL max_allowed_packet = @save")
        .await?;
    let mut later = node.connect(Some("test")).await?;
    assert_eq!(
        int(&mut later, "SELECT @@max_allowed_packet").await?,
        int(&mut later, "SELECT @@global.max_allowed_packet").await?
    );
    assert_eq!(
        answer(&mut later, "SELECT REPEAT('a', 3000) IS NULL").await?,
        "[[\"0\"]] []"
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_allowed_packet_stays_the_storage_servers_by_default() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let mut c = node.connect(Some("test")).await?;
    assert_codes(&mut c, &["SET GLOBAL max_allowed_packet = 2048"], 1235).await;
    Ok(())
}

/// `SET GLOBAL init_connect` is the compute node's own (the storage servers' stays
/// empty: it would run on Strata's pooled connections): SUPER or CONNECTION ADMIN sets
/// it, it runs as the account at the start of each new session of an account without
/// either, its replies dropped, and a failing statement closes the connection with
/// MariaDB's 1184 at the client's next command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_connect_runs_for_new_sessions_of_accounts_without_super() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let addr = node.service_addr();
    let mut root = node.connect(Some("test")).await?;
    let plain = unique_name("ic_plain");
    let admin = unique_name("ic_admin");
    let sup = unique_name("ic_super");
    let t = unique_name("ic_t");
    for (user, grants) in [
        (&plain, "SELECT, INSERT, CREATE, DROP ON test.*"),
        (&admin, "CONNECTION ADMIN ON *.*"),
        (&sup, "SUPER ON *.*"),
    ] {
        root.query_drop(format!("CREATE USER {user}@'%' IDENTIFIED BY 'pw'"))
            .await?;
        root.query_drop(format!("GRANT {grants} TO {user}@'%'"))
            .await?;
    }
    // Setting it wants SUPER or CONNECTION ADMIN; a number is not a string.
    let mut p = login(addr, &plain).await?;
    let denied = p.query_drop("SET GLOBAL init_connect = 'SET @a = 1'").await;
    let e = denied
        .err()
        .ok_or("SET GLOBAL init_connect passed without SUPER")?;
    assert_eq!(code_of(&e), Some(1227));
    assert!(e.to_string().contains("SUPER, CONNECTION ADMIN"), "{e}");
    assert_codes(&mut root, &["SET GLOBAL init_connect = 1"], 1232).await;
    let mut a = login(addr, &admin).await?;
    a.query_drop("SET GLOBAL init_connect = 'SET @a = 2;SET @b = 3'")
        .await?;

    // Shown as the compute node's own everywhere; the storage server keeps ''.
    let value = "SET @a = 2;SET @b = 3";
    for sql in ["SELECT @@init_connect", "SELECT @@global.init_connect"] {
        let v: Option<String> = root.query_first(sql).await?;
        assert_eq!(v.as_deref(), Some(value), "{sql}");
    }
    for sql in [
        "SHOW VARIABLES LIKE 'init_connect'",
        "SHOW GLOBAL VARIABLES LIKE 'init_connect'",
        "SELECT VARIABLE_NAME, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'INIT_CONNECT'",
        "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'INIT_CONNECT'",
    ] {
        let row: Option<(String, String)> = root.query_first(sql).await?;
        assert_eq!(row.map(|r| r.1).as_deref(), Some(value), "{sql}");
    }
    let mut direct = storage.connect(0, None).await?;
    let theirs: Option<String> = direct.query_first("SELECT @@global.init_connect").await?;
    assert_eq!(theirs.as_deref(), Some(""));

    // New sessions of accounts without SUPER or CONNECTION ADMIN run it; others not.
    let mut p2 = login(addr, &plain).await?;
    let ab: Option<(i64, i64)> = p2.query_first("SELECT @a, @b").await?;
    assert_eq!(ab, Some((2, 3)));
    let before: Option<Option<i64>> = p.query_first("SELECT @a").await?;
    assert_eq!(
        before,
        Some(None),
        "a session started before keeps its variables"
    );
    for user in [&admin, &sup] {
        let mut c = login(addr, user).await?;
        let v: Option<Option<i64>> = c.query_first("SELECT @a").await?;
        assert_eq!(v, Some(None), "{user}");
    }

    // As the account, with results dropped: the client sees only its own statements.
    root.query_drop(format!(
        "SET GLOBAL init_connect = 'CREATE TABLE IF NOT EXISTS {t} (a INT);SELECT 1, 2;INSERT INTO {t} VALUES (7)'"
    ))
    .await?;
    let mut p3 = login(addr, &plain).await?;
    let rows: Vec<i64> = p3.query(format!("SELECT a FROM {t}")).await?;
    assert_eq!(rows, vec![7]);

    // A statement that fails: 1184 at the next command, then the connection is gone.
    root.query_drop("SET GLOBAL init_connect = 'adsfsdfsdfs'")
        .await?;
    let failed = match login(addr, &plain).await {
        Err(e) => e,
        Ok(mut c) => {
            let first = c.query_drop("SELECT 1").await;
            let e = first
                .err()
                .ok_or("the first command after a failed init_connect passed")?;
            assert!(
                c.query_drop("SELECT 1").await.is_err(),
                "connection still open"
            );
            e
        }
    };
    assert_eq!(code_of(&failed), Some(1184), "{failed}");
    assert!(
        failed.to_string().contains("(init_connect command failed)"),
        "{failed}"
    );
    // Accounts with SUPER are not affected.
    let mut s = login(addr, &sup).await?;
    s.query_drop("SELECT 1").await?;

    root.query_drop("SET GLOBAL init_connect = DEFAULT").await?;
    let v: Option<String> = root.query_first("SELECT @@init_connect").await?;
    assert_eq!(v.as_deref(), Some(""));
    let mut p4 = login(addr, &plain).await?;
    p4.query_drop("SELECT 1").await?;
    root.query_drop(format!("DROP TABLE {t}")).await?;
    for user in [&plain, &admin, &sup] {
        root.query_drop(format!("DROP USER {user}@'%'")).await?;
    }
    Ok(())
}

/// A SET of a global and session or user variables together (statistics.test's `set
/// @@global.histogram_size=0,@@local.histogram_size=0`): each takes its value, and
/// when one is refused none changes, as MariaDB checks every assignment first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_of_global_and_session_variables_together() -> TestResult {
    let (_storage, node) = node_on_shared(1).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("SET @@global.histogram_size = 0, @@local.histogram_size = 3, @u = 5")
        .await?;
    let row: Option<(i64, i64, i64)> = c
        .query_first("SELECT @@global.histogram_size, @@session.histogram_size, @u")
        .await?;
    assert_eq!(row, Some((0, 3, 5)));
    // The session's value refused: the global keeps its value.
    assert_codes(
        &mut c,
        &["SET GLOBAL histogram_size = 7, @@session.histogram_size = 'x'"],
        1232,
    )
    .await;
    // The global's value refused: the session's and the user variable keep theirs.
    assert_codes(
        &mut c,
        &["SET @@session.histogram_size = 9, @u = 6, @@global.histogram_size = 'x'"],
        1232,
    )
    .await;
    let row: Option<(i64, i64, i64)> = c
        .query_first("SELECT @@global.histogram_size, @@session.histogram_size, @u")
        .await?;
    assert_eq!(row, Some((0, 3, 5)));
    // The scope keyword carries to later assignments; a new session starts with the
    // global.
    c.query_drop(
        "SET GLOBAL histogram_size = 11, histogram_type = DEFAULT, SESSION histogram_size = 12",
    )
    .await?;
    assert_eq!(int(&mut c, "SELECT @@session.histogram_size").await?, 12);
    let mut fresh = node.connect(Some("test")).await?;
    assert_eq!(
        int(&mut fresh, "SELECT @@session.histogram_size").await?,
        11
    );
    node.shutdown().await;
    Ok(())
}
