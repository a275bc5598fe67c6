//! DDL: the distribution a CREATE TABLE gets, the text each data node receives, the
//! catalog changes to record, and schema changes fanned out to a table's nodes.

mod common;

use common::{assert_unsupported, catalog, ctx, dn, orders_rule, plan_sql, single};
use strata_catalog::sharding::{Distribution, KeyLiteral, KeyType, ShardingRule};
use strata_catalog::DataNodeId;
use strata_planner::{
    plan_ddl, CatalogChange, DdlGuard, DdlPlan, DdlUndo, MemoryCatalog, NamedRule, NodeStatement,
    Plan, PlanError, TableInfo, UniqueCheck, Write, WriteKind,
};

fn ddl(sql: &str) -> Result<DdlPlan, PlanError> {
    plan_ddl(sql, &ctx(), &rules_catalog())
}

fn rules_catalog() -> MemoryCatalog {
    let mut c = catalog();
    c.add_rule(
        "r_orders",
        NamedRule {
            rule: orders_rule(),
            column: Some("id".into()),
        },
    );
    c.add_database_with_defaults("solo", &[dn(1), dn(2), dn(3), dn(4)], &[dn(3)]);
    c.declare_table(
        "shop",
        "declared",
        Distribution::Global {
            data_nodes: vec![dn(1), dn(2)],
        },
    );
    c
}

fn on_nodes(nodes: &[u32], sql: &str) -> Plan {
    match nodes {
        [n] => single(*n, sql),
        _ => Plan::Write(Write {
            kind: WriteKind::DdlFanOut,
            parts: NodeStatement::same(&DataNodeId::from_numbers(nodes), sql),
            atomic: false,
            returning: None,
            guard: None,
        }),
    }
}

/// `plan` with its DDL guard left out (asserted on its own).
fn without_guard(plan: Result<Plan, PlanError>) -> Result<Plan, PlanError> {
    plan.map(|p| match p {
        Plan::Write(w) => Plan::Write(Write { guard: None, ..w }),
        other => other,
    })
}

/// The table a CREATE TABLE records (then, on several nodes, its collations are read).
fn created(plan: &DdlPlan) -> &TableInfo {
    match plan.changes.as_slice() {
        [CatalogChange::CreateTable { table, .. }] => table,
        [CatalogChange::CreateTable { table, db, name }, CatalogChange::ReadColumnCollations {
            db: read_db,
            name: read_name,
            fallback: None,
        }] if (db, name) == (read_db, read_name) => table,
        other => panic!("expected one created table, got {other:?}"),
    }
}

fn int() -> KeyType {
    KeyType::Integer {
        unsigned: false,
        bytes: Some(4),
    }
}

#[test]
fn shard_by_clauses_give_the_distribution_and_are_removed_from_the_text() {
    let crc =
        |nodes: Vec<u32>| ShardingRule::auto_crc32(DataNodeId::from_numbers(&nodes)).expect("rule");
    let cases = [
        (
            "CREATE TABLE t (id INT, name VARCHAR(10)) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
            "CREATE TABLE t (id INT, name VARCHAR(10))",
            vec![1, 2, 3, 4],
            Distribution::Sharded {
                column: "id".into(),
                key_type: int(),
                rule: crc(vec![1, 2, 3, 4]),
            },
        ),
        (
            "CREATE TABLE t SHARD BY rulename 'r_orders' (id BIGINT UNSIGNED, v INT)",
            "CREATE TABLE t (id BIGINT UNSIGNED, v INT)",
            vec![1, 2, 3, 4],
            Distribution::Sharded {
                column: "id".into(),
                key_type: KeyType::Integer { unsigned: true, bytes: Some(8) },
                rule: orders_rule(),
            },
        ),
        (
            "CREATE TABLE g (code CHAR(2)) SHARD BY GLOBAL",
            "CREATE TABLE g (code CHAR(2))",
            vec![1, 2, 3, 4],
            Distribution::Global {
                data_nodes: vec![dn(1), dn(2), dn(3), dn(4)],
            },
        ),
        (
            "CREATE TABLE v (x INT) SHARD BY VERTICAL ON DATANODE '2'",
            "CREATE TABLE v (x INT)",
            vec![2],
            Distribution::Vertical { dnid: dn(2) },
        ),
        (
            "CREATE TABLE lines (line INT, oid INT) SHARD BY CHILD OF orders(id) USING COLUMN 'oid'",
            "CREATE TABLE lines (line INT, oid INT)",
            vec![1, 2, 3, 4],
            Distribution::Child {
                parent: "orders".into(),
                parent_column: "id".into(),
                column: "oid".into(),
            },
        ),
        // A plain CREATE TABLE follows a declaration in the configuration.
        (
            "CREATE TABLE declared (x INT)",
            "CREATE TABLE declared (x INT)",
            vec![1, 2],
            Distribution::Global {
                data_nodes: vec![dn(1), dn(2)],
            },
        ),
    ];
    for (sql, text, nodes, distribution) in cases {
        let plan = ddl(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(
            without_guard(Ok(plan.plan.clone())),
            Ok(on_nodes(&nodes, text)),
            "{sql}"
        );
        assert_eq!(created(&plan).distribution, distribution, "{sql}");
    }
}

#[test]
fn plain_create_table_follows_the_default_nodes() {
    let crc = ShardingRule::auto_crc32(vec![dn(1), dn(2), dn(3), dn(4)]).expect("rule");
    let cases: &[(&str, &str, KeyType)] = &[
        ("CREATE TABLE t (a INT, b INT PRIMARY KEY)", "b", int()),
        (
            "CREATE TABLE t (a INT, b INT, PRIMARY KEY (b, a))",
            "b",
            int(),
        ),
        (
            "CREATE TABLE t (a TEXT, b DOUBLE, c INT, UNIQUE KEY (c))",
            "c",
            int(),
        ),
        (
            "CREATE TABLE t (a TEXT, s VARCHAR(5) COLLATE utf8mb4_bin, n INT)",
            "n",
            int(),
        ),
        (
            "CREATE TABLE t (a TEXT, s VARCHAR(5) COLLATE utf8mb4_bin)",
            "s",
            KeyType::String {
                collation: "utf8mb4_bin".into(),
                length: Some(5),
            },
        ),
        // A FLOAT column of the key cannot shard: the next column of every key is used.
        (
            "CREATE TABLE t (f DOUBLE, n INT, PRIMARY KEY (f, n))",
            "n",
            int(),
        ),
    ];
    for (sql, column, key_type) in cases {
        let plan = ddl(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(
            created(&plan).distribution,
            Distribution::Sharded {
                column: column.to_string(),
                key_type: key_type.clone(),
                rule: crc.clone(),
            },
            "{sql}"
        );
        assert_eq!(
            without_guard(Ok(plan.plan.clone())),
            Ok(on_nodes(&[1, 2, 3, 4], sql)),
            "{sql}"
        );
    }
    // No column can be a sharding key: vertical on the first default node.
    let plan = ddl("CREATE TABLE notes (body TEXT, score DOUBLE)").expect("plans");
    assert_eq!(
        created(&plan).distribution,
        Distribution::Vertical { dnid: dn(1) }
    );
    // One default node: vertical.
    let plan = ddl("CREATE TABLE solo.t (a INT)").expect("plans");
    assert_eq!(
        created(&plan).distribution,
        Distribution::Vertical { dnid: dn(3) }
    );
    assert_eq!(plan.plan, single(3, "CREATE TABLE solo.t (a INT)"));
}

#[test]
fn created_tables_record_columns_defaults_and_auto_increment() {
    let plan = ddl(
        "CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT, k INT DEFAULT 7, ts DATETIME DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (id, k)) SHARD BY functiontype 'auto_mod' USING COLUMN 'k'",
    )
    .expect("plans");
    let info = created(&plan);
    assert_eq!(info.columns, ["id", "k", "ts"]);
    assert_eq!(
        info.shard_key_default,
        Some(KeyLiteral::Integer("7".into()))
    );
    assert_eq!(info.auto_increment_column.as_deref(), Some("id"));
    assert_eq!(info.now_default_columns, ["ts"]);
    // Single-node tables keep MySQL's own AUTO_INCREMENT.
    let plan =
        ddl("CREATE TABLE v (id INT AUTO_INCREMENT PRIMARY KEY) SHARD BY VERTICAL ON DATANODE '1'")
            .expect("plans");
    assert_eq!(created(&plan).auto_increment_column, None);
}

#[test]
fn create_table_like_copies_the_source_but_not_its_age() {
    let mut c = rules_catalog();
    let mut source = TableInfo::new(Distribution::Global {
        data_nodes: vec![dn(1), dn(2), dn(3), dn(4)],
    })
    .with_columns(&["id", "note"])
    .with_auto_increment("id");
    source.created_at_ms = 1;
    source.other_collation_columns = vec!["note".into()];
    c.add_table("shop", "old", source.clone());
    let plan = plan_ddl("CREATE TABLE copy LIKE old", &ctx(), &c).expect("plans");
    let info = created(&plan);
    assert_eq!(info.distribution, source.distribution);
    assert_eq!(info.columns, ["id", "note"]);
    assert_eq!(info.auto_increment_column.as_deref(), Some("id"));
    assert_eq!(info.other_collation_columns, ["note"]);
    assert!(info.created_at_ms > 1, "the copy is created now");
}

#[test]
fn bad_distributions_are_refused() {
    let cases: &[(&str, u16)] = &[
        (
            "CREATE TABLE t (id INT) SHARD BY functiontype 'range' USING COLUMN 'id'",
            10070,
        ),
        (
            "CREATE TABLE t (id INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'x'",
            1072,
        ),
        (
            "CREATE TABLE t (id INT) SHARD BY VERTICAL ON DATANODE '9'",
            10090,
        ),
        (
            "CREATE TABLE t (f DOUBLE) SHARD BY functiontype 'auto_crc32' USING COLUMN 'f'",
            1235,
        ),
        (
            "CREATE TABLE t (s VARCHAR(3)) SHARD BY functiontype 'auto_mod' USING COLUMN 's'",
            1235,
        ),
        ("CREATE TABLE t (id INT) SHARD BY rulename 'nope'", 10172),
        (
            "CREATE TABLE t (x INT, p INT) SHARD BY CHILD OF orders(customer) USING COLUMN 'p'",
            10172,
        ),
        ("CREATE TABLE orders (id INT)", 1050),
        ("CREATE OR REPLACE TEMPORARY TABLE tmp (id INT)", 1235),
        ("CREATE TABLE t (id INT) SHARD BY HASH", 1064),
    ];
    for (sql, code) in cases {
        let err = ddl(sql).expect_err(sql);
        assert_eq!(err.code(), *code, "{sql}: {err}");
    }
    assert_eq!(
        ddl("CREATE TABLE t (id INT) SHARD BY HASH").map(|p| p.plan),
        Err(PlanError::Parse(
            "SHARD BY clause: expected FUNCTIONTYPE, RULENAME, GLOBAL, VERTICAL or CHILD near 'HASH' at line 1".into()
        ))
    );
}

#[test]
fn create_view_is_recorded_by_strata_and_never_created_on_a_node() {
    // Found by the sqllogictest corpus: a view over a sharded table pruned to one node
    // was created there, then every SELECT from it failed with 1146 and DROP VIEW was
    // refused. Now the catalog records it; a node only checks its SELECT with LIMIT 0.
    for sql in [
        "CREATE VIEW v AS SELECT id FROM orders WHERE id = 1",
        "CREATE VIEW v AS SELECT id FROM orders",
        "CREATE OR REPLACE VIEW v AS SELECT 1",
    ] {
        let planned = ddl(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(
            matches!(planned.changes.as_slice(), [CatalogChange::CreateView { name, .. }] if name == "v"),
            "{sql}: {:?}",
            planned.changes
        );
        for (_, text) in planned.plan.node_statements() {
            assert!(
                text.starts_with("SELECT * FROM (")
                    && text.ends_with("AS `strata_view_check` LIMIT 0"),
                "{sql}: {text}"
            );
        }
    }
}

#[test]
fn schema_changes_run_on_every_node_of_the_table() {
    let all = [1, 2, 3, 4];
    let cases: &[(&str, &[u32])] = &[
        ("ALTER TABLE orders ADD COLUMN note VARCHAR(10)", &all),
        ("ALTER TABLE orders MODIFY COLUMN id INT NOT NULL", &all),
        ("ALTER TABLE audit ADD INDEX (x)", &[2]),
        ("CREATE INDEX i ON orders (amount)", &all),
        ("DROP INDEX i ON audit", &[2]),
        ("TRUNCATE TABLE region", &all),
        // Table options alone (sqlparser cannot read them; ORMs set comments so).
        ("ALTER TABLE orders COMMENT = 'the orders'", &all),
        ("ALTER TABLE orders ENGINE=InnoDB, COMMENT 'x'", &all),
        (
            "ALTER TABLE shop.audit DEFAULT CHARSET utf8mb4 COLLATE = utf8mb4_bin",
            &[2],
        ),
    ];
    for (sql, nodes) in cases {
        assert_eq!(
            without_guard(plan_sql(sql)),
            Ok(on_nodes(nodes, sql)),
            "{sql}"
        );
    }
    // An option list with anything else in it is not taken for options alone.
    assert!(plan_sql("ALTER TABLE orders COMMENT 'x', DROP COLUMN id").is_err());
    assert!(plan_sql("ALTER TABLE orders CONVERT TO CHARACTER SET latin1").is_err());
    assert_unsupported([
        (
            "ALTER TABLE orders DROP COLUMN id",
            "dropping the sharding column orders.id",
        ),
        (
            "ALTER TABLE orders CHANGE COLUMN id order_id INT",
            "renaming the sharding column orders.id",
        ),
        (
            "ALTER TABLE orders MODIFY id VARCHAR(10)",
            "changing the type of the sharding column orders.id to VARCHAR(10)",
        ),
    ]);
}

#[test]
fn drop_and_rename_send_each_node_the_tables_it_holds() {
    let plan = ddl("DROP TABLE IF EXISTS audit, region, ghost").expect("plans");
    assert_eq!(
        plan.plan,
        Plan::Write(Write {
            kind: WriteKind::DdlFanOut,
            atomic: false,
            returning: None,
            guard: None,
            parts: vec![
                NodeStatement {
                    dnid: dn(1),
                    sql: "DROP TABLE IF EXISTS region".into()
                },
                NodeStatement {
                    dnid: dn(2),
                    sql: "DROP TABLE IF EXISTS audit, region".into()
                },
                NodeStatement {
                    dnid: dn(3),
                    sql: "DROP TABLE IF EXISTS region".into()
                },
                NodeStatement {
                    dnid: dn(4),
                    sql: "DROP TABLE IF EXISTS region".into()
                },
            ],
        })
    );
    assert_eq!(
        plan.changes,
        [
            CatalogChange::DropTable {
                db: "shop".into(),
                name: "audit".into()
            },
            CatalogChange::DropTable {
                db: "shop".into(),
                name: "region".into()
            },
        ]
    );
    assert_eq!(
        ddl("DROP TABLE ghost")
            .map(|p| p.plan)
            .expect_err("unknown")
            .code(),
        1051
    );
    let plan = ddl("RENAME TABLE audit TO audit_old").expect("plans");
    assert_eq!(plan.plan, single(2, "RENAME TABLE audit TO audit_old"));
    assert_eq!(
        plan.changes,
        [CatalogChange::RenameTable {
            db: "shop".into(),
            name: "audit".into(),
            new_db: "shop".into(),
            new_name: "audit_old".into(),
        }]
    );
    assert_eq!(
        ddl("RENAME TABLE audit TO orders")
            .expect_err("exists")
            .code(),
        1050
    );
}

/// The guard of a DDL fan-out (`None` when the plan is not one).
fn guard_of(sql: &str) -> Option<DdlGuard> {
    match plan_sql(sql) {
        Ok(Plan::Write(w)) => w.guard,
        other => panic!("{sql}: {other:?}"),
    }
}

#[test]
fn new_unique_keys_of_a_spread_table_are_checked_for_duplicates_on_every_node_first() {
    let check = |key: &str, columns: &str, group: &str| UniqueCheck {
        key: key.into(),
        sql: format!(
            "SELECT CONCAT_WS('-', {group}) FROM `shop`.`orders` WHERE {columns} \
             GROUP BY {group} HAVING COUNT(*) > 1 LIMIT 1"
        ),
        unnamed: false,
        taken: vec![],
    };
    let both = "`id` IS NOT NULL AND `amount` IS NOT NULL";
    let cases: &[(&str, Vec<UniqueCheck>)] = &[
        (
            "ALTER TABLE orders ADD PRIMARY KEY (id, amount)",
            vec![check("PRIMARY", both, "`id`, `amount`")],
        ),
        (
            "ALTER TABLE orders ADD UNIQUE u (amount, id), ADD INDEX (customer)",
            vec![check(
                "u",
                "`amount` IS NOT NULL AND `id` IS NOT NULL",
                "`amount`, `id`",
            )],
        ),
        // Unnamed: MariaDB names it after its first column, avoiding names taken.
        (
            "ALTER TABLE orders ADD INDEX i (amount), ADD UNIQUE (id, amount)",
            vec![UniqueCheck {
                unnamed: true,
                taken: vec!["i".into()],
                ..check("id", both, "`id`, `amount`")
            }],
        ),
        (
            "CREATE UNIQUE INDEX ux ON orders (id, amount)",
            vec![check("ux", both, "`id`, `amount`")],
        ),
        // Over a column the statement adds: nothing to check before it exists.
        (
            "ALTER TABLE orders ADD COLUMN z INT, ADD UNIQUE (id, z)",
            vec![],
        ),
        (
            "ALTER TABLE orders CHANGE amount total INT, ADD UNIQUE (id, total)",
            vec![],
        ),
        ("ALTER TABLE orders ADD INDEX (amount)", vec![]),
    ];
    for (sql, checks) in cases {
        let guard = guard_of(sql).unwrap_or_else(|| panic!("{sql}: no guard"));
        assert_eq!(guard.table, "`shop`.`orders`", "{sql}");
        assert_eq!(&guard.unique_checks, checks, "{sql}");
        assert_eq!(guard.undo, DdlUndo::Definition, "{sql}");
    }
    // A global table's nodes hold the same rows: they fail or succeed together.
    let global = guard_of("ALTER TABLE region ADD UNIQUE (code)").expect("a guard");
    assert!(global.unique_checks.is_empty());
    // A renamed table is not undone under its old name.
    let renamed = guard_of("ALTER TABLE orders ADD INDEX (amount), RENAME TO o2").expect("a guard");
    assert_eq!(
        renamed.undo,
        DdlUndo::Never("the statement renames the table")
    );
    // A new table is dropped where it was created; with IF NOT EXISTS one may have
    // been there already.
    let created = ddl("CREATE TABLE fresh (id INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'")
        .expect("plans");
    let Plan::Write(w) = created.plan else {
        panic!("{:?}", created.plan)
    };
    assert_eq!(
        w.guard.map(|g| (g.table, g.undo)),
        Some(("`shop`.`fresh`".to_string(), DdlUndo::DropCreated))
    );
    let maybe = ddl("CREATE TABLE IF NOT EXISTS fresh (id INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'")
        .expect("plans");
    let Plan::Write(w) = maybe.plan else {
        panic!("{:?}", maybe.plan)
    };
    assert_eq!(w.guard, None);
}
