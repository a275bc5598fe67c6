//! The catalog the routing tests plan against: database `shop` over data nodes 1-4.
//!
//! | table       | distribution                                                       |
//! |-------------|--------------------------------------------------------------------|
//! | `orders`    | RANGE on `id`: 1-100 → 1, 101-200 → 2, 201-300 → 3, 301-400 → 4, NULL → 1 |
//! | `orders2`   | the same rule on `oid` (co-located with `orders`)                  |
//! | `items`     | child of `orders(id)` on `order_id`                                |
//! | `customers` | AUTO_MOD on `cid` over 1-4 (`cid % 4` picks the node in list order) |
//! | `other`     | RANGE on `id`: 1-200 → 1, 201-400 → 2 (not co-located)             |
//! | `names`     | MATCH on `name` (utf8mb4_general_ci): 'a' → 1, 'b' → 2, 'c' → 3, 'd' → 4 |
//! | `region`    | global on 1-4                                                      |
//! | `audit`     | vertical on 2                                                      |
//! | `seq`       | RANGE on `id` like `orders`, `id` from the global AUTO_INCREMENT    |
//! | `gseq`      | global on 1-4, `id` from the global AUTO_INCREMENT                  |

#![allow(dead_code)]

use std::ops::Range;
use std::sync::Mutex;

use strata_catalog::sharding::{Distribution, KeyLiteral, KeyType, ShardingRule};
use strata_catalog::DataNodeId;
use strata_planner::{
    plan, plan_statement, CatalogView, IdAllocator, MemoryCatalog, Plan, PlanContext, PlanError,
    Planned, Reply, TableInfo,
};

/// Data node `n`.
pub fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

/// The RANGE rule of `orders`.
pub fn orders_rule() -> ShardingRule {
    ShardingRule::range(
        vec![
            (1, 100, dn(1)),
            (101, 200, dn(2)),
            (201, 300, dn(3)),
            (301, 400, dn(4)),
        ],
        None,
        None,
    )
    .and_then(|r| r.with_null_route(Some(dn(1))))
    .expect("valid rule")
}

fn int() -> KeyType {
    KeyType::Integer {
        unsigned: false,
        bytes: None,
    }
}

fn sharded(column: &str, rule: ShardingRule) -> Distribution {
    Distribution::Sharded {
        column: column.into(),
        key_type: int(),
        rule,
    }
}

/// The test catalog.
pub fn catalog() -> MemoryCatalog {
    let mut c = MemoryCatalog::new();
    c.add_database("shop", &[dn(1), dn(2), dn(3), dn(4)]);
    c.add_database("one", &[dn(3)]);
    c.add_table(
        "shop",
        "orders",
        TableInfo::new(sharded("id", orders_rule())).with_columns(&["id", "customer", "amount"]),
    );
    c.add_table(
        "shop",
        "orders2",
        TableInfo::new(sharded("oid", orders_rule())),
    );
    c.add_table(
        "shop",
        "items",
        TableInfo::new(Distribution::Child {
            parent: "orders".into(),
            parent_column: "id".into(),
            column: "order_id".into(),
        })
        .with_columns(&["item_id", "order_id", "qty"]),
    );
    c.add_table(
        "shop",
        "customers",
        TableInfo::new(sharded(
            "cid",
            ShardingRule::auto_mod(vec![dn(1), dn(2), dn(3), dn(4)]).expect("valid rule"),
        ))
        .with_columns(&["cid", "name", "city"]),
    );
    c.add_table(
        "shop",
        "other",
        TableInfo::new(sharded(
            "id",
            ShardingRule::range(vec![(1, 200, dn(1)), (201, 400, dn(2))], None, None)
                .expect("valid rule"),
        ))
        .with_columns(&["id", "order_id", "note"]),
    );
    c.add_table(
        "shop",
        "names",
        TableInfo::new(Distribution::Sharded {
            column: "name".into(),
            key_type: KeyType::String {
                collation: "utf8mb4_general_ci".into(),
                length: None,
            },
            rule: ShardingRule::match_list(
                vec![
                    ("a".into(), dn(1)),
                    ("b".into(), dn(2)),
                    ("c".into(), dn(3)),
                    ("d".into(), dn(4)),
                ],
                None,
            )
            .expect("valid rule"),
        }),
    );
    c.add_table(
        "shop",
        "region",
        TableInfo::new(global_on_all()).with_columns(&["code", "name"]),
    );
    c.add_table(
        "shop",
        "audit",
        TableInfo::new(Distribution::Vertical { dnid: dn(2) }).with_columns(&["id", "msg"]),
    );
    c.add_table(
        "shop",
        "seq",
        TableInfo::new(sharded("id", orders_rule()))
            .with_columns(&["id", "note"])
            .with_auto_increment("id"),
    );
    c.add_table(
        "shop",
        "gseq",
        TableInfo::new(global_on_all())
            .with_columns(&["id", "note"])
            .with_auto_increment("id"),
    );
    c
}

/// A context in `shop`, home node 1.
pub fn ctx() -> PlanContext<'static> {
    let mut c = PlanContext::new(Some("shop"));
    c.home_node = Some(dn(1));
    c.now_micros = 1_700_000_000_000_000;
    c.seed = 42;
    c
}

/// [`ctx`] executing a prepared statement with `params`.
pub fn ctx_with_params(params: &[KeyLiteral]) -> PlanContext<'_> {
    let mut c = ctx();
    c.params = Some(params);
    c
}

/// A global distribution over all four data nodes.
pub fn global_on_all() -> Distribution {
    Distribution::Global {
        data_nodes: vec![dn(1), dn(2), dn(3), dn(4)],
    }
}

/// Plans `sql` in the test catalog.
pub fn plan_sql(sql: &str) -> Result<Plan, PlanError> {
    plan(sql, &ctx(), &catalog())
}

/// Asserts that each statement plans to its expected plan, naming the statement on failure.
pub fn assert_plans(cases: impl IntoIterator<Item = (&'static str, Plan)>) {
    for (sql, expected) in cases {
        assert_eq!(plan_sql(sql), Ok(expected), "{sql}");
    }
}

/// Asserts that each statement is refused as unsupported with its construct named.
pub fn assert_unsupported(cases: impl IntoIterator<Item = (&'static str, &'static str)>) {
    for (sql, construct) in cases {
        assert_eq!(
            plan_sql(sql),
            Err(PlanError::Unsupported(construct.into())),
            "{sql}"
        );
    }
}

/// Plans `sql`, which must plan, with the parameter values of a prepared statement.
pub fn plan_with_params(sql: &str, params: &[KeyLiteral]) -> Planned {
    plan_with(sql, &ctx_with_params(params), &catalog()).expect("plans")
}

/// Plans `sql` with the given context.
pub fn plan_with(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    plan_statement(sql, ctx, catalog)
}

/// A route to one node; the reply kind follows the statement's first word.
pub fn single(dnid: u32, sql: &str) -> Plan {
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let rows = sql.trim_start().starts_with('(')
        || matches!(
            first.as_str(),
            "SELECT" | "WITH" | "SHOW" | "EXPLAIN" | "DESC" | "DESCRIBE" | "VALUES" | "TABLE"
        );
    Plan::route(dn(dnid), sql, if rows { Reply::Rows } else { Reply::Ok })
}

/// The data nodes a plan sends statements to, in plan order.
pub fn nodes_of(plan: &Plan) -> Vec<u32> {
    plan.node_statements()
        .iter()
        .map(|(d, _)| d.get())
        .collect()
}

/// A sequence that counts from `next` and records what it was told.
#[derive(Debug, Default)]
pub struct TestSequence {
    pub next: Mutex<u64>,
    pub observed: Mutex<Vec<u64>>,
}

impl TestSequence {
    /// A sequence whose next value is `next`.
    pub fn starting_at(next: u64) -> TestSequence {
        TestSequence {
            next: Mutex::new(next),
            observed: Mutex::new(Vec::new()),
        }
    }

    /// The explicit values it was told about.
    pub fn observed(&self) -> Vec<u64> {
        self.observed.lock().expect("not poisoned").clone()
    }
}

impl IdAllocator for TestSequence {
    fn allocate(&self, _db: &str, _table: &str, count: u64) -> Result<Range<u64>, String> {
        let mut next = self.next.lock().map_err(|e| e.to_string())?;
        let start = *next;
        *next = start + count;
        Ok(start..start + count)
    }

    fn observe(&self, _db: &str, _table: &str, value: u64) {
        if let Ok(mut observed) = self.observed.lock() {
            observed.push(value);
        }
        if let Ok(mut next) = self.next.lock() {
            if *next <= value {
                *next = value + 1;
            }
        }
    }
}
