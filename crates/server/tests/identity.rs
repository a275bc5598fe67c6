//! The server identity a client sees, through real clients: the greeting's version,
//! `@@version`, `VERSION()`, `@@version_comment`, `SHOW VARIABLES` and information_schema
//! all tell one story, derived from the storage nodes (MariaDB's `5.5.5-` convention in
//! the greeting, Strata named in the comment) unless the configuration sets it. Also
//! `USE information_schema`, which must read the same restricted tables as qualified
//! names, and session variables without a default value.

mod common;

use common::{assert_lists_only_test, code_of, node_and_conn, node_on_shared, TestResult};
use mysql_async::prelude::*;
use mysql_async::Row;
use strata_server::RunningServer;
use strata_testkit::{mysql_opts, ComputeNode, StorageNodes, ROOT_PASSWORD, ROOT_USER};
use tokio::io::AsyncReadExt;

/// The version string of the server greeting at `addr`, read off the wire (drivers
/// parse it and strip MariaDB's prefix, so they cannot show it as sent).
async fn greeting_version(
    addr: std::net::SocketAddr,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await?;
    let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await?;
    assert_eq!(<[u8]>::first(&payload), Some(&10), "protocol version 10");
    let end = payload[1..]
        .iter()
        .position(|&b| b == 0)
        .ok_or("unterminated server version")?;
    Ok(String::from_utf8(payload[1..1 + end].to_vec())?)
}

/// Every place a client reads the identity, as (place, value) pairs.
async fn identity_seen(
    c: &mut mysql_async::Conn,
) -> Result<Vec<(String, String)>, Box<dyn std::error::Error + Send + Sync>> {
    let mut seen = Vec::new();
    let row: Row = c
        .query_first("SELECT @@version, VERSION(), @@version_comment")
        .await?
        .ok_or("row")?;
    seen.push(("@@version".into(), row.get::<String, _>(0).ok_or("v")?));
    seen.push(("VERSION()".into(), row.get::<String, _>(1).ok_or("v")?));
    seen.push((
        "@@version_comment".into(),
        row.get::<String, _>(2).ok_or("c")?,
    ));
    // Items the compute node cannot answer alone: the statement goes to a storage node.
    let row: Row = c
        .query_first("SELECT @@version, @@version_comment, VERSION(), 1 + 1")
        .await?
        .ok_or("row")?;
    seen.push((
        "forwarded @@version".into(),
        row.get::<String, _>(0).ok_or("v")?,
    ));
    seen.push((
        "forwarded @@version_comment".into(),
        row.get::<String, _>(1).ok_or("c")?,
    ));
    seen.push((
        "forwarded VERSION()".into(),
        row.get::<String, _>(2).ok_or("v")?,
    ));
    let vars: Vec<(String, String)> = c.query("SHOW VARIABLES LIKE 'version%'").await?;
    for (name, value) in vars {
        if name == "version" || name == "version_comment" {
            seen.push((format!("SHOW VARIABLES {name}"), value));
        }
    }
    for table in ["GLOBAL_VARIABLES", "SESSION_VARIABLES"] {
        let vars: Vec<(String, String)> = c
            .query(format!(
                "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.{table} \
                 WHERE VARIABLE_NAME IN ('VERSION', 'VERSION_COMMENT') ORDER BY VARIABLE_NAME"
            ))
            .await?;
        for (name, value) in vars {
            seen.push((format!("{table} {name}"), value));
        }
    }
    Ok(seen)
}

/// Asserts that every place shows `version` (or `comment` for the comment's places).
fn assert_identity(seen: &[(String, String)], version: &str, comment: &str) {
    assert_eq!(seen.len(), 12, "every place answered: {seen:?}");
    for (place, value) in seen {
        let expected = if place.to_ascii_lowercase().contains("comment") {
            comment
        } else {
            version
        };
        assert_eq!(value, expected, "{place}");
    }
}

#[tokio::test]
async fn one_identity_derived_from_the_storage_nodes() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let mut direct = storage.connect(0, None).await?;
    let storage_version: String = direct.query_first("SELECT @@version").await?.ok_or("v")?;
    assert!(storage_version.contains("MariaDB"), "{storage_version}");

    assert_eq!(
        greeting_version(node.service_addr()).await?,
        format!("5.5.5-{storage_version}")
    );
    let mut c = node.connect(Some("test")).await?;
    let (major, minor, patch) = c.server_version();
    assert_eq!(
        format!("{major}.{minor}.{patch}"),
        storage_version.split('-').next().unwrap_or_default(),
        "the driver strips the 5.5.5- prefix"
    );
    let number = storage_version.split('-').next().unwrap_or_default();
    let comment = format!(
        "Strata {} compute node (MariaDB {number} storage)",
        env!("CARGO_PKG_VERSION")
    );
    assert_identity(&identity_seen(&mut c).await?, &storage_version, &comment);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn configured_identity_wins_everywhere() -> TestResult {
    let node = ComputeNode::configured(1, |c| {
        c.server.version = Some("10.6.99-MariaDB-configured".into());
        c.server.version_comment = Some("configured comment".into());
    })
    .await?;
    assert_eq!(
        greeting_version(node.service_addr()).await?,
        "5.5.5-10.6.99-MariaDB-configured"
    );
    let mut c = node.connect(Some("test")).await?;
    assert_eq!(c.server_version(), (10, 6, 99));
    assert_identity(
        &identity_seen(&mut c).await?,
        "10.6.99-MariaDB-configured",
        "configured comment",
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn identity_follows_a_storage_node_that_answers_after_start() -> TestResult {
    let mut storage = StorageNodes::start(1).await?;
    let (config, _dir) = ComputeNode::builder(&storage).build_config().await?;
    let storage_version: String = storage
        .connect(0, None)
        .await?
        .query_first("SELECT @@version")
        .await?
        .ok_or("v")?;
    storage.node_mut(0).stop().await?;
    let server = RunningServer::start(config).await?;
    assert_eq!(
        greeting_version(server.service_addr()).await?,
        "5.5.5-10.11.0-MariaDB",
        "the default while no storage node has answered"
    );
    storage.node_mut(0).restart().await?;
    let opts = mysql_opts(
        server.service_addr(),
        ROOT_USER,
        ROOT_PASSWORD,
        Some("test"),
    );
    let mut c = mysql_async::Conn::new(opts.clone()).await?;
    // Any statement that reaches the storage node lets the compute node learn its version.
    let _: Vec<String> = c.query("SHOW TABLES").await?;
    assert_eq!(
        greeting_version(server.service_addr()).await?,
        format!("5.5.5-{storage_version}")
    );
    let mut later = mysql_async::Conn::new(opts).await?;
    let version: Option<String> = later.query_first("SELECT @@version").await?;
    assert_eq!(version.as_deref(), Some(storage_version.as_str()));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn use_information_schema_reads_only_what_qualified_names_read() -> TestResult {
    let (node, mut c) = node_and_conn(1).await?;
    let table = strata_testkit::unique_name("t_is");
    c.query_drop(format!("CREATE TABLE {table} (id INT PRIMARY KEY)"))
        .await?;
    let qualified: Vec<String> = c
        .query("SELECT DISTINCT TABLE_SCHEMA FROM information_schema.TABLES ORDER BY 1")
        .await?;
    for statement in [
        "USE INFORMATION_SCHEMA",
        "use Information_Schema",
        "USE information_schema",
    ] {
        c.query_drop(statement).await?;
        let db: Option<String> = c.query_first("SELECT DATABASE()").await?;
        assert_eq!(db.as_deref(), Some("information_schema"), "{statement}");
    }
    let unqualified: Vec<String> = c
        .query("SELECT DISTINCT TABLE_SCHEMA FROM TABLES ORDER BY 1")
        .await?;
    assert_eq!(unqualified, qualified);
    assert!(unqualified.contains(&"test".to_string()), "{unqualified:?}");
    for private in ["mysql", "performance_schema", "sys"] {
        assert!(!unqualified.iter().any(|s| s == private), "{unqualified:?}");
    }
    let names: Vec<String> = c
        .query(format!("SELECT t.TABLE_NAME FROM TABLES t JOIN `columns` c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_NAME = '{table}'"))
        .await?;
    assert_eq!(names, vec![table.clone()]);
    assert_lists_only_test(&mut c, "SELECT SCHEMA_NAME FROM SCHEMATA ORDER BY 1").await?;
    // A prepared statement is restricted the same way (or refused where the text
    // protocol is needed to map physical names).
    match c
        .exec::<String, _, _>(
            "SELECT SCHEMA_NAME FROM SCHEMATA WHERE SCHEMA_NAME <> ? ORDER BY 1",
            ("x",),
        )
        .await
    {
        Ok(rows) => assert!(
            rows.iter()
                .all(|s| s == "information_schema" || s == "test"),
            "{rows:?}"
        ),
        Err(e) => assert_eq!(code_of(&e), Some(1235), "{e}"),
    }
    let version: Option<String> = c
        .query_first("SELECT VARIABLE_VALUE FROM GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'VERSION'")
        .await?;
    let expected: Option<String> = c.query_first("SELECT @@version").await?;
    assert_eq!(
        version, expected,
        "unqualified variables tables are masked too"
    );
    let tables: Vec<String> = c.query("SHOW TABLES").await?;
    assert!(tables.iter().any(|t| t == "TABLES"), "{tables:?}");
    // Statements without tables take their usual path.
    c.query_drop("SET NAMES utf8mb4").await?;
    let one: Option<i64> = c.query_first("SELECT 1").await?;
    assert_eq!(one, Some(1));
    let err = c.query_drop("CALL p()").await.expect_err("a routine call");
    assert_eq!(code_of(&err), Some(1235), "{err}");

    let mut at_login = node.connect(Some("information_schema")).await?;
    assert_lists_only_test(&mut at_login, "SELECT SCHEMA_NAME FROM SCHEMATA ORDER BY 1").await?;

    c.query_drop("USE test").await?;
    c.query_drop(format!("DROP TABLE {table}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rand_seeds_set_and_their_connections_serve_other_sessions() -> TestResult {
    let (storage, node) = node_on_shared(1).await?;
    let mut direct = storage.connect(0, None).await?;
    direct
        .query_drop("SET rand_seed1 = 3, rand_seed2 = 7")
        .await?;
    let expected: Option<f64> = direct.query_first("SELECT RAND()").await?;

    let mut c = node.connect(Some("test")).await?;
    c.query_drop("SET rand_seed1 = 3, rand_seed2 = 7").await?;
    let seeded: Option<f64> = c.query_first("SELECT RAND()").await?;
    assert_eq!(seeded, expected, "the same sequence as on MariaDB");
    drop(c);
    // The storage connections that carried the seeds serve sessions that never set them.
    for _ in 0..3 {
        let mut other = node.connect(Some("test")).await?;
        let one: Option<i64> = other.query_first("SELECT 1 + 0").await?;
        assert_eq!(one, Some(1));
    }
    node.shutdown().await;
    Ok(())
}
