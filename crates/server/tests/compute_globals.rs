//! Server-wide settings a DBA sets on "the server" that are the compute node's own, with
//! MariaDB 10.11's semantics, through a real client: `SET GLOBAL read_only` (the compute
//! node's, never the storage servers' that fence failed primaries), `SET GLOBAL
//! max_allowed_packet` (new sessions' limit, on their storage connections too), and a
//! `CREATE TABLE` naming an unknown storage engine (the default engine substituted,
//! with warnings).

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
