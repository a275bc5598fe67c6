use std::path::Path;

use super::tables::unknown_table;
use super::*;
use crate::sharding::{Distribution, KeyType};
use crate::test_fixtures::SHOP_TABLES;

fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

fn config(data_dir: &Path) -> Config {
    let text = format!(
        r#"
[server]
data_dir = "{}"

[[user]]
name = "app"

[[data_node]]
id = 1
primary = {{ host = "127.0.0.1", port = 3306, user = "s", database = "shop_1" }}

[[data_node]]
id = 2
primary = {{ host = "127.0.0.1", port = 3307, user = "s", database = "shop_2" }}

[[data_node]]
id = 3
primary = {{ host = "127.0.0.1", port = 3308, user = "s", database = "free_3" }}

[[data_node]]
id = 4
primary = {{ host = "127.0.0.1", port = 3309, user = "s", database = "free_4" }}

[[database]]
name = "shop"
data_nodes = [1, 2]
default_data_nodes = [2]
"#,
        data_dir.display()
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn lookups_answer_from_config() -> Result<(), CatalogError> {
    let dir = tempdir();
    let catalog = Catalog::open(config(dir.path()))?;
    let shop = catalog
        .logic_db("shop")
        .ok_or_else(|| CatalogError::UnknownDatabase("shop".into()))?;
    assert_eq!(
        (
            shop.data_nodes.as_slice(),
            shop.default_data_nodes.as_slice(),
            shop.origin
        ),
        (&[dn(1), dn(2)][..], &[dn(2)][..], DbOrigin::Config)
    );
    assert!(
        catalog.logic_db("SHOP").is_none(),
        "lookups are case-sensitive"
    );
    assert_eq!(catalog.physical_db(dn(2)), Some("shop_2"));
    assert_eq!(catalog.physical_db(dn(9)), None);
    assert_eq!(catalog.data_node(dn(3)).map(|d| d.primary.port), Some(3308));
    assert_eq!(
        catalog.data_nodes().map(|d| d.id).collect::<Vec<_>>(),
        [1, 2, 3, 4].map(dn)
    );
    assert_eq!(catalog.users().len(), 1);
    assert!(catalog.user("app").is_some() && catalog.user("App").is_none());
    Ok(())
}

#[test]
fn runtime_databases_persist_and_merge_with_config() -> Result<(), CatalogError> {
    let dir = tempdir();
    {
        let catalog = Catalog::open(config(dir.path()))?;
        let created = catalog.create_database("crm", vec![dn(3)], None)?;
        assert_eq!(
            (created.default_data_nodes.as_slice(), created.origin),
            (&[dn(3)][..], DbOrigin::Runtime)
        );
    }
    let catalog = Catalog::open(config(dir.path()))?;
    let names: Vec<_> = catalog.logic_dbs().iter().map(|d| d.name.clone()).collect();
    assert_eq!(names, ["crm", "shop"]);
    catalog.drop_database("crm")?;
    assert!(catalog.logic_db("crm").is_none());
    drop(catalog);
    let catalog = Catalog::open(config(dir.path()))?;
    assert!(catalog.logic_db("crm").is_none());
    Ok(())
}

#[test]
fn create_database_enforces_the_config_rules() -> Result<(), CatalogError> {
    let dir = tempdir();
    let catalog = Catalog::open(config(dir.path()))?;
    type Case = (&'static str, Vec<u32>, Option<Vec<u32>>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "shop",
            vec![3],
            None,
            "Can't create database 'shop'; database exists",
        ),
        (
            "Shop",
            vec![3],
            None,
            "database 'Shop' differs only in letter case from database 'shop'",
        ),
        (
            "crm",
            vec![2],
            None,
            "data node 2 belongs to both database 'shop' and database 'crm'",
        ),
        (
            "crm",
            vec![9],
            None,
            "database 'crm': data node 9 is not defined",
        ),
        ("crm", vec![], None, "database 'crm': data_nodes is empty"),
        (
            "crm",
            vec![3],
            Some(vec![4]),
            "database 'crm': default data node 4 is not one of its data_nodes",
        ),
        (
            "bad name ",
            vec![3],
            None,
            "database name 'bad name ' may not contain NUL or end with a space",
        ),
    ];
    for (name, nodes, defaults, expected) in cases {
        let err = catalog
            .create_database(
                name,
                nodes.into_iter().map(dn).collect(),
                defaults.map(|d| d.into_iter().map(dn).collect()),
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(expected),
            "{name}: expected {expected:?}, got {err:?}"
        );
    }
    assert_eq!(
        catalog.logic_dbs().len(),
        1,
        "no failed creation leaves a trace"
    );
    Ok(())
}

#[test]
fn databases_with_their_own_schema_share_data_nodes_and_persist() -> Result<(), CatalogError> {
    let dir = tempdir();
    {
        let catalog = Catalog::open(config(dir.path()))?;
        let db = catalog.create_database_with_own_schema(
            "mysqltest",
            vec![dn(1), dn(2)],
            None,
            crate::config::RwSplit::Replicas,
        )?;
        assert_eq!(db.physical.as_deref(), Some("mysqltest"));
        assert_eq!(db.physical_on("shop_1"), "mysqltest");
        catalog.create_database_with_own_schema("db1", vec![dn(1)], None, Default::default())?;
        catalog.create_table(
            "mysqltest",
            "t1",
            TableInfo::new(Distribution::Vertical { dnid: dn(2) }),
        )?;
        let refused = [
            (
                "MySQLTest",
                vec![1],
                "Can't create database 'mysqltest'; database exists",
            ),
            (
                "shop",
                vec![1],
                "Can't create database 'shop'; database exists",
            ),
            (
                "Shop_2",
                vec![3],
                "database name 'Shop_2' is the physical database of data node 2",
            ),
            ("x", vec![9], "database 'x': data node 9 is not defined"),
        ];
        for (name, nodes, expected) in refused {
            let err = catalog
                .create_database_with_own_schema(
                    name,
                    nodes.into_iter().map(dn).collect(),
                    None,
                    Default::default(),
                )
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains(expected),
                "{name}: expected {expected:?}, got {err:?}"
            );
        }
    }
    let catalog = Catalog::open(config(dir.path()))?;
    let db = catalog
        .logic_db("mysqltest")
        .ok_or_else(|| CatalogError::UnknownDatabase("mysqltest".into()))?;
    assert_eq!(
        (db.data_nodes.clone(), db.physical.clone()),
        (vec![dn(1), dn(2)], Some("mysqltest".into()))
    );
    assert_eq!(db.rw_split, crate::config::RwSplit::Replicas);
    assert!(catalog.table("mysqltest", "t1").is_some());
    let shop = catalog
        .logic_db("shop")
        .ok_or_else(|| CatalogError::UnknownDatabase("shop".into()))?;
    assert_eq!(shop.physical_on("shop_1"), "shop_1");
    catalog.drop_database("mysqltest")?;
    assert!(catalog.table("mysqltest", "t1").is_none());
    drop(catalog);
    let reopened = Catalog::open(config(dir.path()))?;
    assert!(reopened.logic_db("mysqltest").is_none());
    assert!(reopened.logic_db("db1").is_some());
    Ok(())
}

#[test]
fn only_runtime_databases_can_be_dropped() -> Result<(), CatalogError> {
    let dir = tempdir();
    let catalog = Catalog::open(config(dir.path()))?;
    assert!(matches!(
        catalog.drop_database("shop"),
        Err(CatalogError::Invalid(_))
    ));
    assert!(matches!(
        catalog.drop_database("nope"),
        Err(CatalogError::UnknownDatabase(_))
    ));
    Ok(())
}

#[test]
fn a_stored_database_that_conflicts_with_a_changed_config_fails_open() -> Result<(), CatalogError> {
    let dir = tempdir();
    {
        let catalog = Catalog::open(config(dir.path()))?;
        catalog.create_database("crm", vec![dn(3)], None)?;
    }
    // The DBA now gives data node 3 to a database in the file.
    let mut changed = config(dir.path());
    changed.databases[0].data_nodes.push(dn(3));
    let err = Catalog::open(changed)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("data node 3 belongs to both database 'shop' and database 'crm'"),
        "{err}"
    );
    Ok(())
}

fn sharded(column: &str, rule: ShardingRule) -> TableInfo {
    let key_type = KeyType::Integer {
        unsigned: false,
        bytes: None,
    };
    let distribution =
        Distribution::sharded(column, key_type, rule).unwrap_or_else(|e| panic!("{e}"));
    TableInfo::new(distribution).with_auto_increment("id")
}

fn auto_crc32(nodes: &[u32]) -> ShardingRule {
    ShardingRule::auto_crc32(nodes.iter().copied().map(dn).collect())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn child(parent: &str, parent_column: &str) -> TableInfo {
    TableInfo::new(Distribution::Child {
        parent: parent.into(),
        parent_column: parent_column.into(),
        column: "order_id".into(),
    })
}

#[test]
fn tables_persist_with_their_distributions() -> Result<(), CatalogError> {
    let dir = tempdir();
    {
        let catalog = Catalog::open(config(dir.path()))?;
        catalog.create_table("shop", "orders", sharded("id", auto_crc32(&[2, 1])))?;
        catalog.create_table("shop", "items", child("orders", "id"))?;
        let global = TableInfo::new(Distribution::Global {
            data_nodes: vec![dn(2), dn(1)],
        });
        catalog.create_table("shop", "region", global)?;
        catalog.create_table(
            "shop",
            "audit",
            TableInfo::new(Distribution::Vertical { dnid: dn(2) }),
        )?;
        catalog.create_table(
            "shop",
            "Orders",
            TableInfo::new(Distribution::Vertical { dnid: dn(1) }),
        )?;
    }
    let catalog = Catalog::open(config(dir.path()))?;
    let names: Vec<String> = catalog.tables("shop").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Orders", "audit", "items", "orders", "region"]);
    let orders = catalog
        .table("shop", "orders")
        .ok_or_else(|| unknown_table("shop", "orders"))?;
    assert_eq!(orders.data_nodes, [dn(1), dn(2)]);
    assert_eq!(orders.auto_increment_column.as_deref(), Some("id"));
    assert_eq!(
        orders.distribution,
        sharded("id", auto_crc32(&[2, 1])).distribution
    );
    assert_eq!(
        catalog.table("shop", "items").map(|t| t.data_nodes.clone()),
        Some(vec![dn(1), dn(2)])
    );
    assert_eq!(
        catalog
            .table("shop", "Orders")
            .map(|t| t.distribution.clone()),
        Some(Distribution::Vertical { dnid: dn(1) }),
        "names are case-sensitive"
    );
    assert!(catalog.table("shop", "ORDERS").is_none());
    assert!(catalog.table("crm", "orders").is_none());
    Ok(())
}

#[test]
fn create_table_refuses_what_the_database_cannot_hold() -> Result<(), CatalogError> {
    let dir = tempdir();
    let catalog = Catalog::open(config(dir.path()))?;
    catalog.create_table("shop", "orders", sharded("id", auto_crc32(&[1, 2])))?;
    catalog.create_table(
        "shop",
        "audit",
        TableInfo::new(Distribution::Vertical { dnid: dn(2) }),
    )?;
    let cases: Vec<(&str, &str, TableInfo, &str)> = vec![
        (
            "nope",
            "t",
            TableInfo::new(Distribution::Vertical { dnid: dn(1) }),
            "Unknown database 'nope'",
        ),
        (
            "shop",
            "orders",
            TableInfo::new(Distribution::Vertical { dnid: dn(1) }),
            "Table 'orders' already exists",
        ),
        (
            "shop",
            "",
            TableInfo::new(Distribution::Vertical { dnid: dn(1) }),
            "must be 1 to 64 characters",
        ),
        (
            "shop",
            "t",
            TableInfo::new(Distribution::Vertical { dnid: dn(3) }),
            "table 'shop.t': data node 3 is not one of database 'shop's data nodes",
        ),
        (
            "shop",
            "t",
            sharded("id", auto_crc32(&[1, 2, 3])),
            "data node 3 is not one of database 'shop's data nodes",
        ),
        (
            "shop",
            "t",
            TableInfo::new(Distribution::Global {
                data_nodes: vec![dn(1)],
            }),
            "a global table must be on all of the database's data nodes [1, 2]",
        ),
        (
            "shop",
            "t",
            child("missing", "id"),
            "parent table 'missing' does not exist",
        ),
        (
            "shop",
            "t",
            child("audit", "id"),
            "parent 'audit' is a vertical table; a parent must be sharded",
        ),
        (
            "shop",
            "t",
            child("orders", "customer_id"),
            "parent_column must be the parent's sharding column 'id'",
        ),
        (
            "shop",
            "t",
            TableInfo::new(Distribution::Vertical { dnid: dn(1) }).with_auto_increment(""),
            "the AUTO_INCREMENT column name is empty",
        ),
    ];
    for (db, name, info, expected) in cases {
        let err = catalog
            .create_table(db, name, info)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(expected),
            "{db}.{name}: expected {expected:?}, got {err:?}"
        );
    }
    assert_eq!(
        catalog.tables("shop").len(),
        2,
        "no failed creation leaves a trace"
    );
    Ok(())
}

#[test]
fn rename_moves_children_and_the_auto_increment_counter() -> Result<(), CatalogError> {
    let dir = tempdir();
    {
        let catalog = Catalog::open(config(dir.path()))?;
        catalog.create_table("shop", "orders", sharded("id", auto_crc32(&[1, 2])))?;
        catalog.create_table("shop", "items", child("orders", "id"))?;
        let used = catalog.sequences().next("shop", "orders", 5)?;
        assert_eq!(used, 1..6);
        catalog.rename_table("shop", "orders", "orders_v2")?;
        assert!(catalog.table("shop", "orders").is_none());
        assert!(catalog.sequences().next("shop", "orders_v2", 1)?.start > 5);
        let err = catalog
            .rename_table("shop", "orders", "x")
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("Unknown table 'shop.orders'"));
    }
    let catalog = Catalog::open(config(dir.path()))?;
    let items = catalog
        .table("shop", "items")
        .map(|t| t.distribution.clone());
    assert!(matches!(items, Some(Distribution::Child { parent, .. }) if parent == "orders_v2"));
    assert!(catalog.sequences().next("shop", "orders_v2", 1)?.start > 5);
    Ok(())
}

#[test]
fn drop_table_refuses_parents_and_resets_the_counter() -> Result<(), CatalogError> {
    let dir = tempdir();
    let catalog = Catalog::open(config(dir.path()))?;
    catalog.create_table("shop", "orders", sharded("id", auto_crc32(&[1, 2])))?;
    catalog.create_table("shop", "items", child("orders", "id"))?;
    let err = catalog
        .drop_table("shop", "orders")
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("table 'shop.orders' is the parent of child table(s) items; drop them first")
    );
    assert_eq!(catalog.sequences().next("shop", "orders", 3)?, 1..4);
    catalog.drop_table("shop", "items")?;
    catalog.drop_table("shop", "orders")?;
    assert!(catalog.table("shop", "orders").is_none());
    assert!(catalog.drop_table("shop", "orders").is_err());
    catalog.create_table("shop", "orders", sharded("id", auto_crc32(&[1, 2])))?;
    assert_eq!(
        catalog.sequences().next("shop", "orders", 1)?,
        1..2,
        "a new table starts at 1"
    );
    Ok(())
}

#[test]
fn dropping_a_runtime_database_forgets_its_tables() -> Result<(), CatalogError> {
    let dir = tempdir();
    let catalog = Catalog::open(config(dir.path()))?;
    catalog.create_database("crm", vec![dn(3), dn(4)], None)?;
    catalog.create_table("crm", "leads", sharded("id", auto_crc32(&[3, 4])))?;
    catalog.sequences().next("crm", "leads", 2)?;
    catalog.drop_database("crm")?;
    assert!(catalog.tables("crm").is_empty());
    catalog.create_database("crm", vec![dn(3), dn(4)], None)?;
    assert!(catalog.table("crm", "leads").is_none());
    assert_eq!(catalog.sequences().next("crm", "leads", 1)?, 1..2);
    Ok(())
}

#[test]
fn views_persist_and_share_the_tables_namespace() -> Result<(), CatalogError> {
    let dir = tempdir();
    {
        let catalog = Catalog::open(config(dir.path()))?;
        catalog.create_database("crm", vec![dn(3), dn(4)], None)?;
        catalog.create_table("crm", "leads", sharded("id", auto_crc32(&[3, 4])))?;
        let view = crate::ViewInfo::new("SELECT id FROM leads", "app", "%");
        catalog.create_view("crm", "v", view.clone(), false)?;
        let clash = catalog.create_view("crm", "leads", view.clone(), true);
        assert!(
            matches!(clash, Err(CatalogError::Invalid(m)) if m == "Table 'leads' already exists")
        );
        assert!(catalog
            .create_view("crm", "v", view.clone(), false)
            .is_err());
        let replaced = crate::ViewInfo::new("SELECT 1", "app", "%");
        catalog.create_view("crm", "v", replaced, true)?;
        catalog.create_view("crm", "gone", view, false)?;
        catalog.drop_view("crm", "gone")?;
        assert!(catalog.drop_view("crm", "gone").is_err());
        assert!(catalog
            .create_table("crm", "v", sharded("id", auto_crc32(&[3, 4])))
            .is_err());
    }
    let catalog = Catalog::open(config(dir.path()))?;
    assert_eq!(
        catalog.view("crm", "v").map(|v| v.select.clone()),
        Some("SELECT 1".into())
    );
    assert!(catalog.view("crm", "gone").is_none());
    assert!(catalog.table("crm", "v").is_none());
    assert_eq!(catalog.tables("crm").len(), 1);
    catalog.drop_database("crm")?;
    catalog.create_database("crm", vec![dn(3), dn(4)], None)?;
    assert!(catalog.views("crm").is_empty());
    Ok(())
}

#[test]
fn configured_rules_and_declared_tables_are_looked_up() -> Result<(), CatalogError> {
    let dir = tempdir();
    let mut text = config(dir.path()).to_toml()?;
    text.push_str(SHOP_TABLES);
    text.push_str(
        r#"
[[rule]]
name = "r_range"
function = "range"
params = "1:1000=1, 1001:2000=2"
null_route = 1

[[table]]
database = "shop"
name = "audit"
type = "vertical"
data_node = 2

[[table]]
database = "shop"
name = "events"
type = "sharded"
column = "id"
function = "simple_mod"
params = "modulus=4; 0:1=1, 2:3=2"
"#,
    );
    let catalog = Catalog::open(Config::from_toml(&text)?)?;
    let rule = catalog
        .rule("r_range")
        .ok_or_else(|| CatalogError::Invalid("r_range".into()))?;
    assert_eq!(
        (
            rule.name.as_deref(),
            rule.data_nodes.as_slice(),
            rule.null_route
        ),
        (Some("r_range"), &[dn(1), dn(2)][..], Some(dn(1)))
    );
    assert_eq!(
        catalog.rule("r_orders").map(|r| r.null_route),
        Some(Some(dn(1))),
        "AUTO_CRC32 routes NULL to its first node"
    );
    assert_eq!(catalog.rules().count(), 2);
    let orders = catalog
        .declared_table("shop", "orders")
        .ok_or_else(|| CatalogError::Invalid("orders".into()))?;
    let info = orders.table_info(Some(KeyType::Integer {
        unsigned: false,
        bytes: None,
    }))?;
    assert_eq!(info.auto_increment_column.as_deref(), Some("id"));
    assert!(
        matches!(&info.distribution, Distribution::Sharded { column, rule, .. } if column == "customer_id" && rule.name.as_deref() == Some("r_orders"))
    );
    assert!(
        orders.table_info(None).is_err(),
        "a sharded declaration needs the key type"
    );
    let created = catalog.create_table("shop", "orders", info)?;
    assert_eq!(created.data_nodes, [dn(1), dn(2)]);
    let items = catalog
        .declared_table("shop", "items")
        .ok_or_else(|| CatalogError::Invalid("items".into()))?;
    catalog.create_table("shop", "items", items.table_info(None)?)?;
    let region = catalog
        .declared_table("shop", "region")
        .map(|d| d.distribution.clone());
    assert_eq!(
        region,
        Some(DeclaredDistribution::Global {
            data_nodes: vec![dn(1), dn(2)]
        })
    );
    let audit = catalog
        .declared_table("shop", "audit")
        .map(|d| d.distribution.clone());
    assert_eq!(audit, Some(DeclaredDistribution::Vertical { dnid: dn(2) }));
    let events = catalog
        .declared_table("shop", "events")
        .ok_or_else(|| CatalogError::Invalid("events".into()))?;
    let info = events.table_info(Some(KeyType::Integer {
        unsigned: true,
        bytes: None,
    }))?;
    assert_eq!(
        info.distribution
            .route(&crate::sharding::KeyValue::Int(6))
            .ok(),
        Some(dn(2))
    );
    assert!(catalog.declared_table("shop", "nope").is_none());
    assert!(catalog.declared_table("Shop", "orders").is_none());
    Ok(())
}

#[test]
fn catalog_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Catalog>();
}
