//! EXPLAIN prints the plan object that runs; the plan cache gives the same plans as
//! planning directly.

mod common;

use common::{catalog, ctx, ctx_with_params, dn, nodes_of, plan_sql, single};
use proptest::prelude::*;
use strata_catalog::sharding::KeyLiteral;
use strata_planner::{
    describe, explain, explain_target, plan_statement, CatalogChange, MergeSpec, Plan, PlanCache,
    PlanError, Planned,
};

/// A plan with the creation time of the tables it creates zeroed: two plans of one
/// CREATE TABLE made a millisecond apart are the same plan.
fn without_clock(planned: Result<Planned, PlanError>) -> Result<Planned, PlanError> {
    planned.map(|mut p| {
        for change in &mut p.catalog_changes {
            if let CatalogChange::CreateTable { table, .. } = change {
                table.created_at_ms = 0;
            }
        }
        p
    })
}

#[test]
fn explain_lists_each_node_and_its_sql() {
    let plan = plan_sql(
        "SELECT customer, COUNT(*) FROM orders WHERE id < 150 GROUP BY customer ORDER BY 2 DESC",
    )
    .expect("plans");
    let sql = "SELECT customer, COUNT(*) FROM orders WHERE id < 150 GROUP BY customer";
    assert_eq!(
        explain(&plan),
        [(dn(1), sql.to_string()), (dn(2), sql.to_string())]
    );
    assert_eq!(
        describe(&plan),
        "Scatter(dnid 1,2) -> Gather -> HashAggregate(group by #0; COUNT #1) -> MemorySort(#1 DESC) -> Project(first 2 columns); collations from the nodes' column definitions"
    );
    let plan = plan_sql("SELECT * FROM orders WHERE id = 5").expect("plans");
    assert_eq!(
        explain(&plan),
        [(dn(1), "SELECT * FROM orders WHERE id = 5".to_string())]
    );
    assert_eq!(describe(&plan), "Route(dnid 1, rows relayed as is)");
}

#[test]
fn explain_with_options_runs_on_the_data_nodes() {
    // The server shows Strata's route for plain EXPLAIN ...
    assert_eq!(
        explain_target("EXPLAIN SELECT * FROM orders"),
        Some("SELECT * FROM orders")
    );
    // ... and lets MySQL explain on each node otherwise.
    assert_eq!(
        plan_sql("EXPLAIN FORMAT=JSON SELECT * FROM orders WHERE id = 150"),
        Ok(single(
            2,
            "EXPLAIN FORMAT=JSON SELECT * FROM orders WHERE id = 150"
        ))
    );
    assert_eq!(
        plan_sql("EXPLAIN FORMAT=JSON SELECT id FROM orders ORDER BY id"),
        Ok(Plan::scatter(
            &[dn(1), dn(2), dn(3), dn(4)],
            "EXPLAIN FORMAT=JSON SELECT id FROM orders ORDER BY 1",
            MergeSpec {
                visible_to_end: true,
                ..MergeSpec::default()
            },
        ))
    );
}

#[test]
fn cached_plans_equal_direct_plans() {
    let cache = PlanCache::new(16);
    let catalog = catalog();
    let statements = [
        "SELECT * FROM orders WHERE id = 5",
        "SELECT * FROM orders WHERE id = 150",
        "select *  from orders where id = 250 /* comment */",
        "SELECT customer, COUNT(*) FROM orders WHERE id IN (1, 150) GROUP BY customer ORDER BY 2 DESC LIMIT 1, 2",
        "SELECT customer, COUNT(*) FROM orders WHERE id IN (2, 350) GROUP BY customer ORDER BY 2 DESC LIMIT 3, 4",
        "SELECT id+1 FROM orders WHERE customer = 'it''s' ORDER BY amount",
        "INSERT INTO orders (id, amount) VALUES (5, 1), (150, 2)",
        "INSERT INTO orders (id, amount) VALUES (350, -1), (360, 0x10)",
        "UPDATE orders SET amount = 1 WHERE id = 150",
        "DELETE FROM orders WHERE id > 300",
        "SELECT CAST(amount AS CHAR(10)) FROM orders WHERE id = 5",
        // Found by the differential test: the separator is no expression, so the
        // cached template's `?` for it stayed unbound and the statement was refused.
        "SELECT customer, GROUP_CONCAT(id SEPARATOR '|') FROM orders GROUP BY customer",
        "SELECT GROUP_CONCAT(id SEPARATOR '|') FROM orders WHERE id > 3",
        "/*!strata:dnid=2*/ SELECT 1",
        "CREATE TABLE t (id INT)",
    ];
    for _round in 0..2 {
        for sql in statements {
            let direct = without_clock(plan_statement(sql, &ctx(), &catalog));
            let cached = without_clock(cache.plan(sql, &ctx(), &catalog));
            assert_eq!(cached, direct, "{sql}");
        }
    }
    let stats = cache.stats();
    assert!(stats.hits >= 10, "{stats:?}");
    assert!(stats.entries <= 16, "{stats:?}");
    // Prepared statements: the same shape with parameter values.
    let params = [KeyLiteral::Integer("350".into())];
    let c = ctx_with_params(&params);
    let sql = "SELECT amount FROM orders WHERE id = ?";
    assert_eq!(
        cache.plan(sql, &c, &catalog),
        plan_statement(sql, &c, &catalog)
    );
    assert_eq!(
        cache.plan(sql, &c, &catalog).map(|p| p.plan),
        Ok(single(4, "SELECT amount FROM orders WHERE id = 350"))
    );
}

/// Shapes the cache routes by their WHERE clause alone get exactly the planner's plan
/// (or error), and near-misses fall back to planning.
#[test]
fn point_routed_shapes_plan_like_the_planner() {
    let cache = PlanCache::new(64);
    let catalog = catalog();
    // (statement, routed without planning: from the first run on, since a miss parses
    // the shape and then uses it)
    let statements = [
        ("SELECT * FROM orders WHERE id = 5", true),
        ("SELECT amount FROM orders WHERE id = 150 FOR UPDATE", true),
        ("SELECT amount FROM orders o WHERE o.id = 250", true),
        ("SELECT amount FROM orders WHERE 350 = id", true),
        (
            "SELECT amount FROM orders WHERE id = 5 AND amount > 3",
            true,
        ),
        ("SELECT amount FROM orders WHERE id IN (7, 8)", true),
        ("SELECT amount FROM orders WHERE id BETWEEN 10 AND 20", true),
        ("SELECT amount FROM orders WHERE id IS NULL", true),
        ("SELECT amount FROM orders WHERE id = '17'", true),
        ("SELECT amount FROM orders WHERE (id) = 18", true),
        ("SELECT amount FROM orders WHERE id <=> 19", true),
        ("SELECT amount FROM orders WHERE orders.id = 0x15", true),
        // No integer equals 1.5: the planner sends it to one node all the same.
        ("SELECT amount FROM orders WHERE id = 1.5", true),
        (
            "SELECT * FROM shop.orders WHERE id = 5 LOCK IN SHARE MODE",
            true,
        ),
        (
            "SELECT /*!40001 SQL_NO_CACHE */ * FROM orders WHERE id = 5",
            true,
        ),
        ("SELECT qty FROM items WHERE order_id = 120", true),
        ("SELECT * FROM customers WHERE cid = 6", true),
        ("SELECT * FROM names WHERE name = 'b'", true),
        ("UPDATE orders SET amount = amount + 1 WHERE id = 150", true),
        ("UPDATE orders SET amount = 1 WHERE id = 150 LIMIT 1", true),
        ("DELETE FROM orders WHERE id = 42", true),
        (
            "DELETE FROM orders WHERE id = 42 ORDER BY amount LIMIT 1",
            true,
        ),
        // Several nodes, no node, or a key that does not route: planned.
        ("SELECT amount FROM orders WHERE id = 5 OR id = 300", false),
        ("SELECT amount FROM orders WHERE id IN (5, 300)", false),
        ("SELECT amount FROM orders WHERE id = 999", false),
        ("SELECT amount FROM orders WHERE id = NULL", false),
        ("SELECT amount FROM orders WHERE NULL = o.id", false),
        ("SELECT amount FROM orders WHERE cid = 5", false),
        ("SELECT amount FROM orders WHERE id = -5", false),
        ("SELECT amount FROM orders WHERE amount = 5", false),
        // Shapes something else can change the plan of: planned.
        ("SELECT *, DNID FROM orders WHERE id = 5", false),
        ("SELECT amount FROM orders WHERE id = 5 AND DNID = 1", false),
        (
            "SELECT (SELECT COUNT(*) FROM customers) FROM orders WHERE id = 5",
            false,
        ),
        ("SELECT amount FROM orders WHERE id = (SELECT 5)", false),
        (
            "WITH x AS (SELECT 1) SELECT amount FROM orders WHERE id = 5",
            false,
        ),
        (
            "SELECT amount FROM orders WHERE id = 5 UNION SELECT amount FROM orders WHERE id = 6",
            false,
        ),
        (
            "SELECT o.amount FROM orders o JOIN orders2 p ON o.id = p.oid WHERE o.id = 5",
            false,
        ),
        (
            "/*!strata:rw=slave*/ SELECT * FROM orders WHERE id = 5",
            false,
        ),
        ("SELECT FOUND_ROWS() FROM orders WHERE id = 5", false),
        ("SELECT * FROM region WHERE id = 5", false),
        ("SELECT * FROM audit WHERE id = 5", false),
        ("SELECT * FROM nosuch WHERE id = 5", false),
        ("UPDATE orders SET id = 151 WHERE id = 150", false),
        ("UPDATE orders SET id = 399 WHERE id = 150", false),
        ("UPDATE region SET name = 'x' WHERE id = 5", false),
    ];
    let mut expected_routed = 0;
    for round in 0..2 {
        for (sql, routed) in statements {
            let before = cache.stats().routed;
            let direct = without_clock(plan_statement(sql, &ctx(), &catalog));
            let cached = without_clock(cache.plan(sql, &ctx(), &catalog));
            assert_eq!(cached, direct, "{sql}");
            let was_routed = cache.stats().routed > before;
            assert_eq!(was_routed, routed, "{sql} (round {round})");
            expected_routed += u64::from(was_routed);
        }
    }
    assert_eq!(cache.stats().routed, expected_routed);
    // Another database, no database, and prepared parameters: still the planner's answer.
    let mut no_db = ctx();
    no_db.db = None;
    let mut other_db = ctx();
    other_db.db = Some("one");
    let params = [KeyLiteral::Integer("350".into())];
    let prepared = ctx_with_params(&params);
    for c in [&no_db, &other_db, &prepared] {
        for sql in [
            "SELECT * FROM orders WHERE id = 5",
            "SELECT * FROM shop.orders WHERE id = 250",
            "SELECT * FROM shop.orders WHERE id = ?",
            "UPDATE shop.orders SET amount = ? WHERE id = ?",
        ] {
            for _ in 0..2 {
                assert_eq!(
                    cache.plan(sql, c, &catalog),
                    plan_statement(sql, c, &catalog),
                    "{sql}"
                );
            }
        }
    }
    // Prepared executions are routed too, with their values in the text.
    let before = cache.stats().routed;
    let sql = "SELECT * FROM shop.orders WHERE id = ?";
    assert_eq!(
        cache.plan(sql, &prepared, &catalog).map(|p| p.plan),
        Ok(single(4, "SELECT * FROM shop.orders WHERE id = 350"))
    );
    assert_eq!(cache.stats().routed, before + 1);
    let two = [
        KeyLiteral::String(b"it's".to_vec()),
        KeyLiteral::Integer("5".into()),
    ];
    let c = ctx_with_params(&two);
    let sql = "UPDATE orders SET customer = ? WHERE id = ?";
    assert_eq!(
        cache.plan(sql, &c, &catalog),
        plan_statement(sql, &c, &catalog)
    );
    assert_eq!(cache.stats().routed, before + 2);
}

#[test]
fn the_cache_is_bounded() {
    let cache = PlanCache::new(3);
    let catalog = catalog();
    for i in 0..10 {
        let sql = format!("SELECT c{i} FROM orders WHERE id = 5");
        cache.plan(&sql, &ctx(), &catalog).expect("plans");
    }
    assert_eq!(cache.stats().entries, 3);
    cache.clear();
    assert_eq!(cache.stats().entries, 0);
}

proptest! {
    /// An IN list routes to the union of its values' routes.
    #[test]
    fn in_lists_route_to_the_union_of_each_values_route(values in prop::collection::vec(1i64..=400, 1..12)) {
        let list: Vec<String> = values.iter().map(i64::to_string).collect();
        let sql = format!("SELECT * FROM orders WHERE id IN ({})", list.join(", "));
        let plan = plan_sql(&sql).expect("plans");
        let mut expected: Vec<u32> = Vec::new();
        for v in &values {
            let one = plan_sql(&format!("SELECT * FROM orders WHERE id = {v}")).expect("plans");
            let Plan::Route(one) = one else { panic!("one value, one node") };
            expected.push(one.dnid.get());
        }
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(nodes_of(&plan), expected);
    }

    /// The same holds for an AUTO_MOD table and for the cached path.
    #[test]
    fn in_lists_on_auto_mod_route_like_their_values(values in prop::collection::vec(-1000i64..1000, 1..8)) {
        let cache = PlanCache::new(4);
        let catalog = catalog();
        let list: Vec<String> = values.iter().map(i64::to_string).collect();
        let sql = format!("SELECT * FROM customers WHERE cid IN ({})", list.join(","));
        let plan = cache.plan(&sql, &ctx(), &catalog).expect("plans").plan;
        let mut expected: Vec<u32> = values
            .iter()
            .map(|v| [1u32, 2, 3, 4][v.rem_euclid(4) as usize])
            .collect();
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(nodes_of(&plan), expected);
    }
}
