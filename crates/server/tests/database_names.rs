//! Database names MariaDB accepts beyond letters, digits, `_` and `$` (`-`, a space, a
//! backtick, a quote, a backslash, non-ASCII letters) through a real client, over one
//! and two data nodes: CREATE/ALTER/DROP DATABASE, USE and a login's database, SHOW
//! DATABASES, SHOW CREATE DATABASE, tables and qualified names, information_schema,
//! and MariaDB's own errors, compared with what the storage node (a plain MariaDB)
//! answers for the same name. A name shaped to break out of quoting must stay a name.
//! A database from the configuration file with such a name works too.

mod common;

use common::{error_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode, StorageNodes};

/// `name` as a quoted identifier.
fn q(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `value` as a string literal under the default sql_mode.
fn lit(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// The odd names one test uses, unique to it.
fn odd_names() -> Vec<String> {
    let base = unique_name("dn");
    vec![
        format!("{base}-1"),
        format!("{base} b`c"),
        format!("{base}'q\\z"),
        format!("Betäubungsmittel {base}"),
        // Shaped to end the quoted name and run a statement of its own.
        format!("{base}`; DROP DATABASE test; #"),
        format!("{base}'); DROP DATABASE test; #"),
    ]
}

/// A connection to storage node `i`, outside Strata.
async fn storage_conn(storage: &StorageNodes, i: usize) -> TestResult<Conn> {
    Ok(Conn::new(storage.opts(i, None)).await?)
}

/// True when storage node `i` holds a database named `name`.
async fn physical_exists(storage: &StorageNodes, i: usize, name: &str) -> TestResult<bool> {
    let mut c = storage_conn(storage, i).await?;
    let found: Option<String> = c
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (name,),
        )
        .await?;
    c.disconnect().await?;
    Ok(found.is_some())
}

/// SHOW CREATE DATABASE's text.
async fn show_create(c: &mut Conn, name: &str) -> TestResult<(String, String)> {
    let row: Option<(String, String)> = c
        .query_first(format!("SHOW CREATE DATABASE {}", q(name)))
        .await?;
    Ok(row.ok_or("no row")?)
}

/// Everything a client does with one odd database name, over `nodes` data nodes.
async fn one_name(
    storage: &StorageNodes,
    node: &ComputeNode,
    c: &mut Conn,
    name: &str,
) -> TestResult {
    let nodes = storage.len();
    let qn = q(name);
    c.query_drop(format!("CREATE DATABASE {qn} CHARACTER SET utf8mb4"))
        .await?;
    for i in 0..nodes {
        assert!(
            physical_exists(storage, i, name).await?,
            "{name} on node {i}"
        );
    }
    let mut plain = storage_conn(storage, 0).await?;

    // MariaDB's errors, word for word.
    let create_again = format!("CREATE DATABASE {qn}");
    assert_eq!(
        error_of(c, &create_again).await,
        error_of(&mut plain, &create_again).await,
        "{name}"
    );
    let listed: Vec<String> = c.query("SHOW DATABASES").await?;
    assert!(listed.iter().any(|d| d == name), "{name} in {listed:?}");
    let like: Vec<String> = c
        .query(format!(
            "SHOW DATABASES LIKE {}",
            lit(&name.replace('\\', "\\\\").replace('_', "\\_"))
        ))
        .await?;
    assert_eq!(like, [name.to_string()]);

    // SHOW CREATE DATABASE: MariaDB's text under the same name (one data node), with
    // Strata's data nodes after it (several).
    let (shown, text) = show_create(c, name).await?;
    let (plain_shown, plain_text) = show_create(&mut plain, name).await?;
    assert_eq!(shown, plain_shown);
    if nodes == 1 {
        assert_eq!(text, plain_text);
    } else {
        assert!(text.starts_with(&plain_text), "{text} / {plain_text}");
    }

    c.query_drop(format!("ALTER DATABASE {qn} CHARACTER SET latin1"))
        .await?;
    assert!(show_create(c, name).await?.1.contains("latin1"));

    c.query_drop(format!("USE {qn}")).await?;
    let current: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(current.as_deref(), Some(name));
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10))")
        .await?;
    let sharded = if nodes > 1 {
        " SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id'"
    } else {
        ""
    };
    c.query_drop(format!(
        "CREATE TABLE {qn}.s (id INT PRIMARY KEY, t_id INT){sharded}"
    ))
    .await?;
    c.query_drop("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')")
        .await?;
    c.query_drop(format!(
        "INSERT INTO {qn}.s VALUES (1, 1), (2, 2), (3, 3), (4, 1)"
    ))
    .await?;

    // From another database, with qualified names only.
    let mut other = node.connect(Some("test")).await?;
    let joined: Vec<(String, u64)> = other
        .query(format!(
            "SELECT t.v, COUNT(*) FROM {qn}.t JOIN {qn}.s ON s.t_id = t.id \
             GROUP BY t.v ORDER BY t.v"
        ))
        .await?;
    assert_eq!(
        joined,
        [
            ("a".to_string(), 2),
            ("b".to_string(), 1),
            ("c".to_string(), 1)
        ]
    );
    let (plain_code, _) = error_of(&mut plain, &format!("SELECT 1 FROM {qn}.nosuch")).await;
    assert_eq!(
        error_of(&mut other, &format!("SELECT 1 FROM {qn}.nosuch"))
            .await
            .0,
        plain_code
    );
    let n: Option<u64> = other
        .query_first(format!("SELECT COUNT(*) FROM {qn}.s WHERE id > 1"))
        .await?;
    assert_eq!(n, Some(3));
    other
        .query_drop(format!("UPDATE {qn}.t SET v = 'z' WHERE id = 3"))
        .await?;
    let tables: Vec<(String, String)> = other
        .query(format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = {} ORDER BY TABLE_NAME",
            lit(name)
        ))
        .await?;
    assert_eq!(
        tables,
        [
            (name.to_string(), "s".to_string()),
            (name.to_string(), "t".to_string())
        ]
    );
    let schemata: Vec<String> = other
        .query(format!(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
            lit(name)
        ))
        .await?;
    assert_eq!(schemata, [name.to_string()]);
    let in_list: Vec<String> = other.query(format!("SHOW TABLES FROM {qn}")).await?;
    assert_eq!(in_list, ["s", "t"]);
    let column = q(&format!("Tables_in_{name}"));
    let filtered: Vec<String> = other
        .query(format!("SHOW TABLES FROM {qn} WHERE {column} = 't'"))
        .await?;
    assert_eq!(filtered, ["t"]);
    // Three-part column names, and a key the planner prunes by.
    let v: Option<String> = other
        .query_first(format!(
            "SELECT {qn}.t.v FROM {qn}.t JOIN {qn}.s ON {qn}.s.t_id = {qn}.t.id \
             WHERE {qn}.s.id = 2"
        ))
        .await?;
    assert_eq!(v.as_deref(), Some("b"));
    other
        .query_drop(format!("DELETE FROM {qn}.s WHERE {qn}.s.id = 4"))
        .await?;
    assert_eq!(other.affected_rows(), 1);
    other.disconnect().await?;

    // The odd name as a login's database.
    let mut login = node.connect(Some(name)).await?;
    let v: Option<String> = login.query_first("SELECT v FROM t WHERE id = 3").await?;
    assert_eq!(v.as_deref(), Some("z"));
    login.disconnect().await?;

    c.query_drop("USE test").await?;
    c.query_drop(format!("DROP DATABASE {qn}")).await?;
    assert_eq!(c.affected_rows(), 2, "two tables dropped");
    for i in 0..nodes {
        assert!(
            !physical_exists(storage, i, name).await?,
            "{name} on node {i}"
        );
    }
    let listed: Vec<String> = c.query("SHOW DATABASES").await?;
    assert!(!listed.iter().any(|d| d == name));
    for sql in [
        format!("USE {qn}"),
        format!("DROP DATABASE {qn}"),
        format!("SHOW CREATE DATABASE {qn}"),
        format!("SELECT * FROM {qn}.t"),
    ] {
        let got = error_of(c, &sql).await;
        assert!(got.0.is_some(), "{sql} succeeded");
        assert_eq!(got, error_of(&mut plain, &sql).await, "{sql}");
    }
    plain.disconnect().await?;
    Ok(())
}

/// Every odd name over `nodes` data nodes; `test` is still there afterwards.
async fn odd_names_over(nodes: usize) -> TestResult {
    let storage = shared_storage(nodes).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    for name in odd_names() {
        one_name(&storage, &node, &mut c, &name).await?;
    }
    let listed: Vec<String> = c.query("SHOW DATABASES").await?;
    assert!(listed.iter().any(|d| d == "test"), "{listed:?}");
    c.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_database_names_on_one_data_node() -> TestResult {
    odd_names_over(1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_database_names_on_two_data_nodes() -> TestResult {
    odd_names_over(2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_mariadb_refuses_are_refused_alike() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    let mut plain = storage_conn(&storage, 0).await?;
    let long = "ä".repeat(65);
    for name in ["ends in a space ", "#mysql50#dn-x", long.as_str()] {
        let sql = format!("CREATE DATABASE {}", q(name));
        let got = error_of(&mut c, &sql).await;
        let expected = error_of(&mut plain, &sql).await;
        assert_eq!(got.0, Some(1102), "{sql}");
        // MariaDB cuts a long name short in its message.
        if name.chars().count() <= 64 {
            assert_eq!(got, expected, "{sql}");
        }
    }
    // Names differing only in letter case stay one database (Strata's rule).
    let name = format!("{}-Ä", unique_name("dn"));
    c.query_drop(format!("CREATE DATABASE {}", q(&name)))
        .await?;
    let (code, _) = error_of(
        &mut c,
        &format!("CREATE DATABASE {}", q(&name.to_uppercase())),
    )
    .await;
    assert!(code.is_some());
    c.query_drop(format!("DROP DATABASE {}", q(&name))).await?;
    plain.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_odd_name_from_the_configuration_file() -> TestResult {
    let storage = shared_storage(2).await?;
    let name = format!("{} a-`'\\ä", unique_name("cfg"));
    let node = ComputeNode::builder(&storage)
        .logical_database(&name)
        .start()
        .await?;
    let qn = q(&name);
    let mut c = node.connect(Some(&name)).await?;
    let current: Option<String> = c.query_first("SELECT DATABASE()").await?;
    assert_eq!(current.as_deref(), Some(name.as_str()));
    c.query_drop(
        "CREATE TABLE t (id INT PRIMARY KEY, v INT) SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id'",
    )
    .await?;
    c.query_drop(format!(
        "INSERT INTO {qn}.t VALUES (1, 10), (2, 20), (3, 30)"
    ))
    .await?;
    let sum: Option<i64> = c
        .query_first(format!("SELECT SUM(v) FROM {qn}.t WHERE id >= 2"))
        .await?;
    assert_eq!(sum, Some(50));
    let listed: Vec<String> = c.query("SHOW DATABASES").await?;
    assert!(listed.contains(&name), "{listed:?}");
    let column = q(&format!("Tables_in_{name}"));
    let shown: Vec<String> = c.query(format!("SHOW TABLES WHERE {column} = 't'")).await?;
    assert_eq!(shown, ["t"]);
    let (shown, text) = show_create(&mut c, &name).await?;
    assert_eq!(shown, name);
    assert!(text.starts_with(&format!("CREATE DATABASE {qn}")), "{text}");
    let tables: Vec<(String, String)> = c
        .query(format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = {}",
            lit(&name)
        ))
        .await?;
    assert_eq!(tables, [(name.clone(), "t".to_string())]);
    let columns: Vec<(String, String)> = c
        .query(
            "SELECT TABLE_SCHEMA, COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY ORDINAL_POSITION",
        )
        .await?;
    assert_eq!(
        columns,
        [
            (name.clone(), "id".to_string()),
            (name.clone(), "v".to_string())
        ]
    );
    c.query_drop("DROP TABLE t").await?;
    c.disconnect().await?;
    node.shutdown().await;
    Ok(())
}
