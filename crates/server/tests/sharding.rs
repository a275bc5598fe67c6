//! Tables spread over several data nodes, end to end: DDL with SHARD BY, split inserts,
//! routed point queries, scatter queries with merged ORDER BY / LIMIT / aggregates,
//! global tables and transactions that touch several data nodes.

mod common;

use common::{first_int, node_on_shared, physical_test_db, run_all, TestResult};
use mysql_async::prelude::*;
use strata_catalog::DataNodeId;
use strata_testkit::{shared_storage, ComputeNode};

async fn rows_on_storage(
    storage: &strata_testkit::StorageNodes,
    i: usize,
    physical: &str,
    table: &str,
) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let mut c = storage.connect(i, Some(physical)).await?;
    Ok(first_int(&mut c, &format!("SELECT COUNT(*) FROM `{table}`")).await?)
}

#[tokio::test]
async fn sharded_tables_route_split_and_merge_like_one_mysql() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let physical = physical_test_db(&node)?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(20), amount DECIMAL(10,2)) \
         SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'",
    )
    .await?;
    let mut values = Vec::new();
    for id in 1..=40 {
        let customer = ["ann", "Bob", "cy", "ANN"][id % 4];
        values.push(format!(
            "({id}, '{customer}', {}.{:02})",
            id * 3 % 17,
            id % 100
        ));
    }
    c.query_drop(format!("INSERT INTO orders VALUES {}", values.join(", ")))
        .await?;
    assert_eq!(c.affected_rows(), 40);
    let (a, b) = (
        rows_on_storage(&storage, 0, &physical, "orders").await?,
        rows_on_storage(&storage, 1, &physical, "orders").await?,
    );
    assert_eq!(a + b, 40);
    assert!(
        a > 0 && b > 0,
        "rows are spread over both data nodes ({a} + {b})"
    );

    let one: Option<(i32, String)> = c
        .query_first("SELECT id, customer FROM orders WHERE id = 7")
        .await?;
    assert_eq!(one, Some((7, "ANN".to_string())));
    let some: Vec<i32> = c
        .query("SELECT id FROM orders WHERE id IN (3, 9, 27) ORDER BY id")
        .await?;
    assert_eq!(some, vec![3, 9, 27]);

    let top: Vec<(i32, String)> = c
        .query("SELECT id, CAST(amount AS CHAR) FROM orders ORDER BY amount DESC, id LIMIT 2, 3")
        .await?;
    assert_eq!(
        top,
        vec![
            (39, "15.39".to_string()),
            (22, "15.22".to_string()),
            (5, "15.05".to_string())
        ]
    );

    let (count, sum, avg): (i64, String, String) = c
        .query_first("SELECT COUNT(*), SUM(amount), AVG(amount) FROM orders")
        .await?
        .ok_or("row")?;
    assert_eq!(
        (count, sum.as_str(), avg.as_str()),
        (40, "326.20", "8.155000")
    );

    let groups: Vec<(String, i64)> = c
        .query("SELECT customer, COUNT(*) FROM orders GROUP BY customer ORDER BY customer")
        .await?;
    assert_eq!(
        groups.len(),
        3,
        "'ann' and 'ANN' are one group under utf8mb4_general_ci: {groups:?}"
    );
    assert_eq!(groups.iter().map(|g| g.1).sum::<i64>(), 40);

    c.query_drop("UPDATE orders SET amount = amount + 1 WHERE id IN (1, 2, 3, 4)")
        .await?;
    assert_eq!(c.affected_rows(), 4);
    c.query_drop("DELETE FROM orders WHERE amount > 15").await?;
    let left: Option<i64> = c.query_first("SELECT COUNT(*) FROM orders").await?;
    let expected = 40
        - (1..=40)
            .filter(|id| {
                let amount = (id * 3 % 17) as f64
                    + (id % 100) as f64 / 100.0
                    + if *id <= 4 { 1.0 } else { 0.0 };
                amount > 15.0
            })
            .count() as i64;
    assert_eq!(left, Some(expected));

    let explain: Vec<(u32, String, Option<String>)> =
        c.query("EXPLAIN SELECT * FROM orders WHERE id = 7").await?;
    assert_eq!(
        explain.len(),
        1,
        "a point query runs on one data node: {explain:?}"
    );
    assert_eq!(explain[0].1, "SELECT * FROM orders WHERE id = 7");
    let explain: Vec<(u32, String, Option<String>)> = c
        .query("EXPLAIN SELECT id FROM orders ORDER BY id LIMIT 5")
        .await?;
    assert_eq!(
        explain.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![1, 2],
        "a scatter lists every data node"
    );
    // The first row's Merge column is the operator tree that runs, leaf first.
    let tree = explain[0].2.as_deref().unwrap_or_default();
    assert!(
        tree.starts_with(
            "Scatter(dnid 1,2) -> MergeSort(#0) -> Limit(offset 0, limit 5) -> Project(first 1 columns); "
        ) && tree.contains("; memory budget "),
        "{tree}"
    );
    assert_eq!(explain[1].2, None);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn global_tables_keep_a_copy_on_every_node_and_plain_tables_are_sharded() -> TestResult {
    let (storage, node) = node_on_shared(2).await?;
    let physical = physical_test_db(&node)?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE region (id INT PRIMARY KEY, name VARCHAR(10)) SHARD BY GLOBAL")
        .await?;
    c.query_drop("INSERT INTO region VALUES (1, 'north'), (2, 'south')")
        .await?;
    assert_eq!(
        c.affected_rows(),
        2,
        "a global insert reports one copy's rows"
    );
    for i in 0..2 {
        assert_eq!(rows_on_storage(&storage, i, &physical, "region").await?, 2);
    }
    let names: Vec<String> = c.query("SELECT name FROM region ORDER BY id").await?;
    assert_eq!(names, vec!["north".to_string(), "south".to_string()]);

    c.query_drop("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
        .await?;
    let values: Vec<String> = (1..=20).map(|i| format!("({i}, 'n{i}')")).collect();
    c.query_drop(format!("INSERT INTO notes VALUES {}", values.join(",")))
        .await?;
    let (a, b) = (
        rows_on_storage(&storage, 0, &physical, "notes").await?,
        rows_on_storage(&storage, 1, &physical, "notes").await?,
    );
    assert!(
        a + b == 20 && a > 0 && b > 0,
        "a plain table is sharded on its primary key ({a} + {b})"
    );
    node.shutdown().await;

    // Switched off, plain tables stay on the first default data node.
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.auto_shard_plain_tables = false)
        .start()
        .await?;
    let physical = physical_test_db(&node)?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
        .await?;
    c.query_drop("INSERT INTO notes VALUES (1, 'x'), (2, 'y'), (3, 'z')")
        .await?;
    assert_eq!(
        rows_on_storage(&storage, 0, &physical, "notes").await?,
        3,
        "plain tables live on the home data node"
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_transaction_over_two_data_nodes_commits_or_rolls_back_on_both() -> TestResult {
    let (_storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE acct (id INT PRIMARY KEY, bal INT) SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2'").await?;
    c.query_drop("INSERT INTO acct VALUES (1, 100), (2, 100)")
        .await?;
    run_all(
        &mut c,
        &[
            "BEGIN",
            "UPDATE acct SET bal = bal - 10 WHERE id = 1",
            "UPDATE acct SET bal = bal + 10 WHERE id = 2",
            "ROLLBACK",
        ],
    )
    .await?;
    let bals: Vec<i32> = c.query("SELECT bal FROM acct ORDER BY id").await?;
    assert_eq!(
        bals,
        vec![100, 100],
        "a rollback undoes both nodes' changes"
    );
    run_all(
        &mut c,
        &[
            "START TRANSACTION",
            "UPDATE acct SET bal = bal - 10 WHERE id = 1",
            "UPDATE acct SET bal = bal + 10 WHERE id = 2",
            "COMMIT",
        ],
    )
    .await?;
    let bals: Vec<i32> = c.query("SELECT bal FROM acct ORDER BY id").await?;
    assert_eq!(bals, vec![90, 110]);
    let total: Option<String> = c.query_first("SELECT SUM(bal) FROM acct").await?;
    assert_eq!(total.as_deref(), Some("200"));
    // An aggregate inside an expression: the merge cannot combine it, so the statement
    // runs on one data node over copies of the table.
    let text: Option<String> = c
        .query_first("SELECT CAST(SUM(bal) AS CHAR) FROM acct")
        .await?;
    assert_eq!(text.as_deref(), Some("200"));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn prepared_statements_route_by_their_parameters() -> TestResult {
    let (_storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(10)) SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '1,2'").await?;
    let insert = c.prep("INSERT INTO kv VALUES (?, ?)").await?;
    let begin = c.prep("BEGIN").await?;
    let commit = c.prep("COMMIT").await?;
    c.exec_drop(&begin, ()).await?;
    for k in 1..=6 {
        c.exec_drop(&insert, (k, format!("v{k}"))).await?;
    }
    c.exec_drop(&commit, ()).await?;
    let get = c.prep("SELECT v FROM kv WHERE k = ?").await?;
    for k in [1, 2, 5] {
        let v: Option<String> = c.exec_first(&get, (k,)).await?;
        assert_eq!(
            v,
            Some(format!("v{k}")),
            "key {k} is found on its data node"
        );
    }
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM kv").await?;
    assert_eq!(
        n,
        Some(6),
        "the prepared COMMIT committed on both data nodes"
    );
    // Executions that need both nodes run as merges, rows in the binary protocol.
    let keys: Vec<(i32, String)> = c
        .exec("SELECT k, v FROM kv WHERE k > ? ORDER BY k DESC", (2,))
        .await?;
    assert_eq!(
        keys,
        (3..=6)
            .rev()
            .map(|k| (k, format!("v{k}")))
            .collect::<Vec<_>>()
    );
    let count: Option<i64> = c
        .exec_first("SELECT COUNT(*) FROM kv WHERE v <> ?", ("x",))
        .await?;
    assert_eq!(count, Some(6));
    c.exec_drop(
        "INSERT INTO kv VALUES (?, ?), (?, ?)",
        (7, "it's", 8, "a\\b"),
    )
    .await?;
    assert_eq!(c.affected_rows(), 2, "a split INSERT over both nodes");
    let odd: Vec<String> = c
        .exec("SELECT v FROM kv WHERE k IN (?, ?) ORDER BY k", (7, 8))
        .await?;
    assert_eq!(odd, vec!["it's".to_string(), "a\\b".to_string()]);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn prepared_merges_send_every_type_in_the_binary_protocol() -> TestResult {
    use mysql_async::Value;
    let (_storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE typed (id INT PRIMARY KEY, tiny TINYINT, big BIGINT UNSIGNED,          amount DECIMAL(10,2), score DOUBLE, f FLOAT, d DATE, ts DATETIME(3), t TIME,          name VARCHAR(20), y YEAR)          SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2'",
    )
    .await?;
    c.query_drop(
        "INSERT INTO typed VALUES          (1, -5, 18446744073709551615, 12.50, 0.25, 1.5, '2026-11-22', '2026-11-22 10:11:12.500', '-26:00:01', 'héllo', 2026),          (2, NULL, 0, -0.01, -1e10, 0, '1999-01-02', '2000-01-01 00:00:00', '00:00:00', NULL, 1999)",
    )
    .await?;
    let rows: Vec<mysql_async::Row> = c
        .exec("SELECT * FROM typed WHERE id > ? ORDER BY id", (0,))
        .await?;
    let values: Vec<Vec<Value>> = rows.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(
        values[0],
        vec![
            Value::Int(1),
            Value::Int(-5),
            Value::UInt(u64::MAX),
            Value::Bytes(b"12.50".to_vec()),
            Value::Double(0.25),
            Value::Float(1.5),
            Value::Date(2026, 11, 22, 0, 0, 0, 0),
            Value::Date(2026, 11, 22, 10, 11, 12, 500_000),
            Value::Time(true, 1, 2, 0, 1, 0),
            Value::Bytes("héllo".as_bytes().to_vec()),
            Value::Int(2026),
        ]
    );
    assert_eq!(values[1][1], Value::NULL);
    assert_eq!(values[1][9], Value::NULL);
    assert_eq!(values[1][8], Value::Time(false, 0, 0, 0, 0, 0));
    assert_eq!(values[1][7], Value::Date(2000, 1, 1, 0, 0, 0, 0));
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_insert_without_the_sharding_column_routes_by_its_default() -> TestResult {
    let (_storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE kd (id INT NOT NULL DEFAULT 7, v INT) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2'",
    )
    .await?;
    c.query_drop("INSERT INTO kd (v) VALUES (1), (2)").await?;
    let rows: Vec<(i32, i32, i64)> = c.query("SELECT id, v, DNID FROM kd ORDER BY v").await?;
    assert_eq!(
        rows,
        vec![(7, 1, 2), (7, 2, 2)],
        "7 % 2 = 1: the second node"
    );
    Ok(())
}

#[tokio::test]
async fn tables_declared_in_the_configuration_follow_their_declaration() -> TestResult {
    use strata_catalog::config::{TableConfig, TableType};
    let storage = shared_storage(2).await?;
    let declare = |name: &str, kind: TableType| TableConfig {
        database: "test".into(),
        name: name.into(),
        kind,
        column: None,
        rule: None,
        function: None,
        data_nodes: None,
        params: None,
        null_route: None,
        data_node: None,
        parent: None,
        parent_column: None,
        child_column: None,
        auto_increment: None,
    };
    let mut by_customer = declare("orders_by_customer", TableType::Sharded);
    by_customer.column = Some("customer".into());
    by_customer.function = Some("auto_mod".into());
    by_customer.data_nodes = Some(vec![DataNodeId::new(1), DataNodeId::new(2)]);
    let mut audit = declare("audit", TableType::Vertical);
    audit.data_node = Some(DataNodeId::new(2));
    let node = ComputeNode::builder(&storage)
        .configure(move |c| c.tables = vec![by_customer, audit])
        .start()
        .await?;
    let physical = physical_test_db(&node)?;
    let mut c = node.connect(Some("test")).await?;
    // Plain DDL, as an ORM or a migration tool writes it (the key contains the declared
    // sharding column, so each data node can enforce it).
    c.query_drop(
        "CREATE TABLE orders_by_customer (id INT, customer INT NOT NULL, \
         PRIMARY KEY (id, customer))",
    )
    .await?;
    c.query_drop("CREATE TABLE audit (id INT PRIMARY KEY, what VARCHAR(20))")
        .await?;
    c.query_drop("INSERT INTO orders_by_customer VALUES (1, 10), (2, 10), (3, 11), (4, 12)")
        .await?;
    c.query_drop("INSERT INTO audit VALUES (1, 'x'), (2, 'y')")
        .await?;
    // auto_mod on customer over nodes 1,2: even customers on node 1, odd on node 2.
    let placed: Vec<(i32, i64)> = c
        .query("SELECT id, DNID FROM orders_by_customer ORDER BY id")
        .await?;
    assert_eq!(placed, vec![(1, 1), (2, 1), (3, 2), (4, 1)]);
    assert_eq!(rows_on_storage(&storage, 1, &physical, "audit").await?, 2);
    assert!(
        rows_on_storage(&storage, 0, &physical, "audit")
            .await
            .is_err(),
        "a vertical table exists on its data node only"
    );
    node.shutdown().await;
    Ok(())
}

/// Each data node enforces a key over its own rows only: a key without the sharding
/// column is refused with MySQL's 1503 instead of silently accepting duplicates, and a
/// plain table whose keys share no column stays whole on one node, where they hold.
#[tokio::test]
async fn unique_keys_without_the_sharding_column_are_refused_not_duplicated() -> TestResult {
    let (storage, node) = node_on_shared(4).await?;
    let physical = physical_test_db(&node)?;
    let mut c = node.connect(Some("test")).await?;
    let err = c
        .query_drop(
            "CREATE TABLE rm (id INT PRIMARY KEY, k INT, s VARCHAR(10)) \
             SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '1-4'",
        )
        .await
        .err()
        .ok_or("CREATE TABLE with a key without the sharding column succeeded")?;
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1503, "HY000"), "{}", e.message);
            assert!(
                e.message.contains("PRIMARY KEY (id)") && e.message.contains("'k'"),
                "{}",
                e.message
            );
        }
        other => return Err(format!("expected a server error, got {other}").into()),
    }
    // Nothing was created on any node.
    let created: Vec<String> = c.query("SHOW TABLES LIKE 'rm'").await?;
    assert!(created.is_empty(), "{created:?}");

    // With the sharding column in the key, the reproduction behaves as one MySQL.
    c.query_drop(
        "CREATE TABLE rm (id INT, k INT, s VARCHAR(10), PRIMARY KEY (id, k)) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '1-4'",
    )
    .await?;
    c.query_drop("INSERT INTO rm VALUES (3, 1, 'a')").await?;
    c.query_drop("REPLACE INTO rm VALUES (3, 1, 'rep')").await?;
    let dup = c.query_drop("INSERT INTO rm VALUES (3, 1, 'dup')").await;
    assert!(
        matches!(&dup, Err(mysql_async::Error::Server(e)) if e.code == 1062),
        "{dup:?}"
    );
    let rows: Vec<(i32, i32, String)> = c.query("SELECT id, k, s FROM rm WHERE id = 3").await?;
    assert_eq!(rows, vec![(3, 1, "rep".to_string())]);
    let err = c
        .query_drop("ALTER TABLE rm ADD UNIQUE KEY uk_s (s)")
        .await
        .err()
        .ok_or("ALTER TABLE ADD UNIQUE without the sharding column succeeded")?;
    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1503),
        "{err}"
    );
    c.query_drop("CREATE UNIQUE INDEX uk_sk ON rm (s, k)")
        .await?;

    // A plain table whose keys share no column stays whole on the first data node, so
    // both keys hold.
    c.query_drop("CREATE TABLE pu (id INT PRIMARY KEY, email VARCHAR(50) UNIQUE)")
        .await?;
    c.query_drop("INSERT INTO pu VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x'), (4, 'd@x')")
        .await?;
    let dup = c.query_drop("INSERT INTO pu VALUES (5, 'a@x')").await;
    assert!(
        matches!(&dup, Err(mysql_async::Error::Server(e)) if e.code == 1062),
        "{dup:?}"
    );
    let dup = c.query_drop("INSERT INTO pu VALUES (1, 'e@x')").await;
    assert!(
        matches!(&dup, Err(mysql_async::Error::Server(e)) if e.code == 1062),
        "{dup:?}"
    );
    assert_eq!(rows_on_storage(&storage, 0, &physical, "pu").await?, 4);
    for i in 1..4 {
        let mut s = storage.connect(i, Some(&physical)).await?;
        let there: Vec<String> = s.query("SHOW TABLES LIKE 'pu'").await?;
        assert!(there.is_empty(), "pu exists on storage node {i}");
    }
    node.shutdown().await;
    Ok(())
}

/// A table recorded before keys were (no keys in its metadata) whose primary key lacks
/// the sharding column is found at start-up: its keys are read from a data node,
/// recorded, and the key is reported.
#[tokio::test]
async fn tables_from_before_the_check_are_reported_at_start_up() -> TestResult {
    use strata_catalog::sharding::{Distribution, KeyType, ShardingRule};
    use strata_catalog::{Catalog, TableInfo, UniqueKey};
    let storage = shared_storage(2).await?;
    let (config, _dir) = ComputeNode::builder(&storage).build_config().await?;
    let physical = config.data_nodes[0].primary.database.clone();
    for i in 0..2 {
        let mut s = storage.connect(i, Some(&physical)).await?;
        s.query_drop(
            "CREATE TABLE old (id INT PRIMARY KEY, k INT, s VARCHAR(5), UNIQUE KEY uk (k, s))",
        )
        .await?;
        s.query_drop("CREATE TABLE fine (id INT, k INT, PRIMARY KEY (id, k))")
            .await?;
    }
    {
        let catalog = Catalog::open(config.clone())?;
        let rule = ShardingRule::auto_mod(vec![DataNodeId::new(1), DataNodeId::new(2)])?;
        for name in ["old", "fine"] {
            let distribution = Distribution::sharded(
                "k",
                KeyType::Integer {
                    unsigned: false,
                    bytes: None,
                },
                rule.clone(),
            )?;
            catalog.create_table("test", name, TableInfo::new(distribution))?;
        }
    }
    let catalog = Catalog::open(config.clone())?;
    let ctx = strata_server::context::ServerContext::new(catalog, None, &Default::default())?;
    let found = strata_server::key_report::report_unique_key_violations(&ctx).await;
    let found: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        ["test.old: PRIMARY KEY (id) does not contain the sharding column k"]
    );
    // The keys read are recorded (in the store too): the next start asks no data node.
    let key = |name: &str, columns: &[&str]| UniqueKey {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
    };
    let old_keys = Some(vec![key("PRIMARY", &["id"]), key("uk", &["k", "s"])]);
    let catalog = ctx.topology.catalog();
    assert_eq!(
        catalog
            .table("test", "old")
            .and_then(|t| t.unique_keys.clone()),
        old_keys
    );
    assert_eq!(
        catalog
            .store()
            .table("test", "old")?
            .and_then(|m| m.unique_keys),
        old_keys
    );
    assert_eq!(catalog.unique_key_violations().len(), 1);
    Ok(())
}

/// `SHARD BY FUNCTIONNAME|FUNCTIONID` names a `[[rule]]` of the configuration (what HotDB
/// calls a sharding function: type, parameters and data nodes; the column comes with the
/// table), so the same function serves tables sharded on different columns.
#[tokio::test]
async fn shard_by_functionname_uses_a_configured_function() -> TestResult {
    use strata_catalog::config::RuleConfig;
    let storage = shared_storage(2).await?;
    let rule = RuleConfig {
        name: "f_mod".into(),
        function: "auto_mod".into(),
        data_nodes: vec![DataNodeId::new(1), DataNodeId::new(2)],
        params: String::new(),
        null_route: None,
    };
    let node = ComputeNode::builder(&storage)
        .configure(move |c| c.rules = vec![rule])
        .start()
        .await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop(
        "CREATE TABLE by_name (id INT PRIMARY KEY, v INT) \
         SHARD BY functionname 'f_mod' USING COLUMN 'id'",
    )
    .await?;
    c.query_drop(
        "CREATE TABLE by_id SHARD BY FUNCTIONID 'f_mod' USING COLUMN 'k' \
         (k INT PRIMARY KEY, v INT)",
    )
    .await?;
    c.query_drop("INSERT INTO by_name VALUES (1, 0), (2, 0), (3, 0), (4, 0)")
        .await?;
    c.query_drop("INSERT INTO by_id VALUES (5, 0), (6, 0)")
        .await?;
    // auto_mod over nodes 1,2: even keys on node 1, odd keys on node 2.
    let placed: Vec<(i32, i64)> = c.query("SELECT id, DNID FROM by_name ORDER BY id").await?;
    assert_eq!(placed, vec![(1, 2), (2, 1), (3, 2), (4, 1)]);
    let placed: Vec<(i32, i64)> = c.query("SELECT k, DNID FROM by_id ORDER BY k").await?;
    assert_eq!(placed, vec![(5, 2), (6, 1)]);

    let unknown = c
        .query_drop(
            "CREATE TABLE nope (id INT PRIMARY KEY) SHARD BY functionname 'f_none' USING COLUMN 'id'",
        )
        .await
        .expect_err("an unknown function is refused");
    match unknown {
        mysql_async::Error::Server(e) => {
            assert_eq!(e.code, 10172);
            assert_eq!(e.message, "unknown sharding function 'f_none'");
        }
        other => return Err(other.into()),
    }
    node.shutdown().await;
    Ok(())
}
