//! SELECT routing: which data nodes a read goes to. A read that fits one node keeps its
//! original text (the fast path); the rest scatter (their rewrites are specified in
//! `select_merge.rs`).

mod common;

use common::{
    assert_plans, assert_unsupported, catalog, ctx, ctx_with_params, dn, nodes_of, plan_sql,
    plan_with, plan_with_params, single,
};
use strata_catalog::sharding::KeyLiteral;
use strata_planner::{MergeSpec, Plan, PlanError};

#[test]
fn sharding_key_predicates_prune_to_the_nodes_that_can_match() {
    let cases: &[(&str, &[u32])] = &[
        // Equality in its literal forms.
        ("SELECT * FROM orders WHERE id = 5", &[1]),
        ("SELECT * FROM orders WHERE 150 = id", &[2]),
        ("SELECT * FROM orders WHERE id = '250'", &[3]),
        ("SELECT * FROM orders WHERE id = 250.0", &[3]),
        ("SELECT * FROM orders WHERE orders.id = 350", &[4]),
        ("SELECT * FROM orders o WHERE o.id = 350", &[4]),
        ("SELECT * FROM shop.orders WHERE shop.orders.id = 350", &[4]),
        ("SELECT * FROM orders WHERE (id = 5)", &[1]),
        ("SELECT * FROM orders WHERE id <=> 5", &[1]),
        // IN lists and OR.
        ("SELECT * FROM orders WHERE id IN (5, 150)", &[1, 2]),
        ("SELECT * FROM orders WHERE id IN (5, 6, NULL)", &[1]),
        ("SELECT * FROM orders WHERE id = 5 OR id = 350", &[1, 4]),
        (
            "SELECT * FROM orders WHERE id = 5 OR id IN (250, 260)",
            &[1, 3],
        ),
        // AND intersects; other conditions do not widen.
        ("SELECT * FROM orders WHERE id = 5 AND amount > 10", &[1]),
        (
            "SELECT * FROM orders WHERE id IN (5, 150) AND id IN (150, 250)",
            &[2],
        ),
        (
            "SELECT * FROM orders WHERE (id = 5 OR id = 150) AND customer = 'x'",
            &[1, 2],
        ),
        // Ranges on RANGE.
        ("SELECT * FROM orders WHERE id BETWEEN 90 AND 110", &[1, 2]),
        ("SELECT * FROM orders WHERE id < 101", &[1]),
        ("SELECT * FROM orders WHERE id <= 101", &[1, 2]),
        ("SELECT * FROM orders WHERE id > 300", &[4]),
        ("SELECT * FROM orders WHERE id >= 300", &[3, 4]),
        ("SELECT * FROM orders WHERE 300 < id", &[4]),
        ("SELECT * FROM orders WHERE id > 150 AND id < 250", &[2, 3]),
        ("SELECT * FROM orders WHERE id > 99.5 AND id < 100.5", &[1]),
        // IS NULL follows the NULL route; comparisons with NULL match nothing (one node).
        ("SELECT * FROM orders WHERE id IS NULL", &[1]),
        ("SELECT * FROM orders WHERE id = NULL", &[1]),
        // AUTO_MOD: cid % 4 indexes the node list.
        ("SELECT * FROM customers WHERE cid = 6", &[3]),
        ("SELECT * FROM customers WHERE cid IN (4, 5)", &[1, 2]),
        // MATCH on a _ci string column: case and trailing spaces do not matter.
        ("SELECT * FROM names WHERE name = 'B '", &[2]),
        ("SELECT * FROM names WHERE name IN ('a', 'C')", &[1, 3]),
        // Child tables route by their parent's rule.
        ("SELECT * FROM items WHERE order_id = 150", &[2]),
    ];
    for (sql, expected) in cases {
        let plan = plan_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(nodes_of(&plan), *expected, "{sql}");
    }
}

#[test]
fn predicates_that_cannot_prune_scatter_to_every_node() {
    for sql in [
        "SELECT * FROM orders",
        "SELECT * FROM orders WHERE amount = 5",
        "SELECT * FROM orders WHERE id = 5 OR amount = 5",
        "SELECT * FROM orders WHERE id + 0 = 5",
        "SELECT * FROM orders WHERE NOT id = 5",
        "SELECT * FROM orders WHERE id <> 5",
        "SELECT * FROM orders WHERE id IN (SELECT code FROM region)",
        "SELECT * FROM orders WHERE id NOT IN (5)",
        // A number compared with a string column compares as DOUBLE: '05' matches 5.
        "SELECT * FROM names WHERE name = 5",
        // Ranges cannot be pruned by a hash-like function.
        "SELECT * FROM customers WHERE cid > 5",
        // An unqualified name in a join may be the other table's column.
        "SELECT * FROM orders JOIN region ON 1 = 1 WHERE id = 5",
    ] {
        let plan = plan_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(nodes_of(&plan), [1, 2, 3, 4], "{sql}");
    }
}

#[test]
fn one_node_reads_forward_the_original_text() {
    let cases = [
        (
            "SELECT  id, amount FROM orders WHERE id = 5 ORDER BY amount LIMIT 3",
            single(1, "SELECT  id, amount FROM orders WHERE id = 5 ORDER BY amount LIMIT 3"),
        ),
        // Vertical tables live on one node.
        ("select * from audit", single(2, "select * from audit")),
        // Global tables are read on their first node.
        ("SELECT * FROM region", single(1, "SELECT * FROM region")),
        // Joins with global tables follow the sharded table.
        (
            "SELECT o.id, r.name FROM orders o JOIN region r ON r.code = o.customer WHERE o.id = 250",
            single(
                3,
                "SELECT o.id, r.name FROM orders o JOIN region r ON r.code = o.customer WHERE o.id = 250",
            ),
        ),
        // Statements without tables go to the home node.
        ("SELECT 1 + 1", single(1, "SELECT 1 + 1")),
        // Constructs sqlparser cannot parse still go through on one node.
        (
            "SELECT SQL_CALC_FOUND_ROWS * FROM orders WHERE id = 5 LOCK IN SHARE MODE",
            single(1, "SELECT SQL_CALC_FOUND_ROWS * FROM orders WHERE id = 5 LOCK IN SHARE MODE"),
        ),
        (
            "SELECT customer, COUNT(*) FROM orders WHERE id = 5 GROUP BY customer WITH ROLLUP",
            single(
                1,
                "SELECT customer, COUNT(*) FROM orders WHERE id = 5 GROUP BY customer WITH ROLLUP",
            ),
        ),
        // Window functions, ORDER BY RAND() and subqueries are fine on one node.
        (
            "SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM audit ORDER BY RAND()",
            single(2, "SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM audit ORDER BY RAND()"),
        ),
        (
            "SELECT * FROM orders WHERE id = 5 AND customer IN (SELECT name FROM region)",
            single(1, "SELECT * FROM orders WHERE id = 5 AND customer IN (SELECT name FROM region)"),
        ),
        (
            "SELECT * FROM orders WHERE id = 5 AND amount > (SELECT MAX(amount) FROM orders WHERE id = 7)",
            single(
                1,
                "SELECT * FROM orders WHERE id = 5 AND amount > (SELECT MAX(amount) FROM orders WHERE id = 7)",
            ),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn co_located_joins_are_pushed_down() {
    let cases: &[(&str, &[u32])] = &[
        // Same rule, joined on both sharding columns: route by either key.
        (
            "SELECT * FROM orders o JOIN orders2 p ON o.id = p.oid WHERE o.id = 5",
            &[1],
        ),
        (
            "SELECT * FROM orders o JOIN orders2 p ON p.oid = o.id WHERE p.oid = 350",
            &[4],
        ),
        (
            "SELECT * FROM orders o, orders2 p WHERE o.id = p.oid AND p.oid IN (5, 150)",
            &[1, 2],
        ),
        (
            "SELECT * FROM orders o JOIN orders2 p ON o.id = p.oid",
            &[1, 2, 3, 4],
        ),
        (
            "SELECT * FROM orders o LEFT JOIN orders2 p ON o.id = p.oid WHERE o.id = 250",
            &[3],
        ),
        // Parent and child on the child's column.
        (
            "SELECT * FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id = 150",
            &[2],
        ),
        (
            "SELECT * FROM items i JOIN orders o ON o.id = i.order_id",
            &[1, 2, 3, 4],
        ),
        // Sharded with global; global with global; vertical with global.
        (
            "SELECT * FROM orders o JOIN region r ON r.code = o.customer",
            &[1, 2, 3, 4],
        ),
        (
            "SELECT * FROM region a JOIN region b ON a.code = b.code",
            &[1],
        ),
        ("SELECT * FROM audit a JOIN region r ON a.x = r.code", &[2]),
        // Outer joins: the NULL side's own ON conditions say which of its rows matter.
        (
            "SELECT * FROM region r LEFT JOIN orders o ON o.customer = r.code AND o.id = 5",
            &[1],
        ),
        (
            "SELECT * FROM orders o LEFT JOIN region r ON r.code = o.customer",
            &[1, 2, 3, 4],
        ),
    ];
    for (sql, expected) in cases {
        let plan = plan_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(nodes_of(&plan), *expected, "{sql}");
    }
}

#[test]
fn joins_of_tables_that_are_not_co_located_run_in_the_compute_node() {
    let cases = [
        "SELECT * FROM orders o JOIN other x ON o.id = x.id",
        "SELECT * FROM orders o JOIN audit a ON o.id = a.id",
        "SELECT * FROM region r LEFT JOIN orders o ON o.customer = r.code",
    ];
    for sql in cases {
        let plan = plan_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let Plan::Query(q) = &plan else {
            panic!("{sql}: {plan:?}")
        };
        assert!(q.join().is_some(), "{sql}: {plan:?}");
    }
}

#[test]
fn reads_the_merge_cannot_run_go_whole_to_one_node_over_copies_of_their_tables() {
    // What the native operators refuse for its shape (the refusal each used to get).
    let cases = [
        // joins across data nodes of table orders2 whose columns Strata does not know
        "SELECT * FROM orders o JOIN orders2 p ON o.customer = p.oid",
        // subqueries over sharded tables across data nodes
        "SELECT * FROM orders WHERE customer IN (SELECT customer FROM orders2)",
        "SELECT * FROM (SELECT * FROM orders LIMIT 3) t",
        // window functions across data nodes
        "SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM orders",
        // ORDER BY RAND() across data nodes
        "SELECT * FROM orders ORDER BY RAND()",
        // WITH ROLLUP across data nodes
        "SELECT customer, COUNT(*) FROM orders GROUP BY customer WITH ROLLUP",
        // aggregates inside expressions across data nodes
        "SELECT SUM(amount) / COUNT(*) FROM orders",
        // STD() across data nodes
        "SELECT STD(amount) FROM orders",
        // SUM(DISTINCT ...) or SUM of several arguments across data nodes
        "SELECT SUM(DISTINCT amount) FROM orders",
    ];
    for sql in cases {
        match plan_sql(sql) {
            Ok(Plan::Materialize(m)) => assert_eq!(m.sql, sql),
            other => panic!("{sql}: {other:?}"),
        }
    }
}

#[test]
fn reads_refused_for_more_than_their_shape_keep_their_refusal() {
    let cases = [
        (
            "SELECT SQL_CALC_FOUND_ROWS * FROM orders LIMIT 1",
            "SQL_CALC_FOUND_ROWS across data nodes",
        ),
        ("SELECT FOUND_ROWS()", "FOUND_ROWS()"),
        // Locking clauses other than the statement's last one (the copies' reads take
        // that one).
        (
            "SELECT * FROM orders WHERE customer IN (SELECT customer FROM orders2 FOR UPDATE)",
            "subqueries over sharded tables across data nodes",
        ),
        // The session's own connection state: user variables, LAST_INSERT_ID().
        (
            "SELECT * FROM orders WHERE customer IN (SELECT customer FROM orders2 WHERE oid > @x)",
            "subqueries over sharded tables across data nodes",
        ),
        (
            "SELECT * FROM orders WHERE id IN (SELECT oid FROM orders2) AND id > LAST_INSERT_ID()",
            "LAST_INSERT_ID() evaluated by the data nodes (in a prepared statement, or LAST_INSERT_ID(expr) in a SELECT)",
        ),
        // SELECT ... INTO writes variables or a file.
        (
            "SELECT id INTO @x FROM orders ORDER BY RAND() LIMIT 1",
            "SELECT ... INTO across data nodes",
        ),
        // The DNID pseudo-column names the node a row comes from.
        (
            "SELECT DNID, id FROM orders WHERE id IN (SELECT oid FROM orders2)",
            "subqueries over sharded tables across data nodes",
        ),
    ];
    assert_unsupported(cases);
}

#[test]
fn unknown_tables_and_databases_are_mysql_errors() {
    let err = plan_sql("SELECT * FROM nope").expect_err("unknown");
    assert_eq!(err.to_string(), "Table 'shop.nope' doesn't exist");
    assert_eq!(err.code(), 1146);
    let err = plan_sql("SELECT * FROM other_db.t").expect_err("unknown");
    assert_eq!(err.code(), 1146);
    let mut no_db = ctx();
    no_db.db = None;
    let err = plan_with("SELECT * FROM orders", &no_db, &catalog()).expect_err("no db");
    assert_eq!(err.code(), 1046);
    let err = plan_sql("SELEC * FROM orders").expect_err("syntax");
    assert_eq!(err.code(), 1064);
}

#[test]
fn placeholders_route_through_parameter_values() {
    let params = [
        KeyLiteral::Integer("150".into()),
        KeyLiteral::String(b"x'y".to_vec()),
    ];
    let planned = plan_with_params(
        "SELECT * FROM orders WHERE id = ? AND customer = ?",
        &params,
    );
    assert_eq!(
        planned.plan,
        single(
            2,
            "SELECT * FROM orders WHERE id = 150 AND customer = 'x\\'y'"
        )
    );
    // At PREPARE time the values are unknown: the read scatters (for validation only).
    let planned =
        plan_with("SELECT * FROM orders WHERE id = ?", &ctx(), &catalog()).expect("plans");
    assert_eq!(nodes_of(&planned.plan), [1, 2, 3, 4]);
    // IN lists of parameters.
    let params = [
        KeyLiteral::Integer("5".into()),
        KeyLiteral::Integer("350".into()),
    ];
    let c = ctx_with_params(&params);
    let planned =
        plan_with("SELECT id FROM orders WHERE id IN (?, ?)", &c, &catalog()).expect("plans");
    assert_eq!(nodes_of(&planned.plan), [1, 4]);
    // Wrong parameter count.
    let err = plan_with("SELECT * FROM orders WHERE id = ?", &c, &catalog()).expect_err("count");
    assert_eq!(err, PlanError::WrongArguments);
}

#[test]
fn hints_route_the_text_to_the_named_nodes() {
    let cases = [
        (
            "/*!strata:dnid=3*/ SELECT * FROM orders",
            single(3, "SELECT * FROM orders"),
        ),
        (
            "/*!hotdb:table=orders:250*/ SELECT * FROM orders WHERE amount > 1",
            single(3, "SELECT * FROM orders WHERE amount > 1"),
        ),
        (
            "/*!strata:dnid=all*/ SELECT COUNT(*) FROM orders",
            Plan::scatter(
                &[dn(1), dn(2), dn(3), dn(4)],
                "SELECT COUNT(*) FROM orders",
                MergeSpec {
                    visible_to_end: true,
                    ..MergeSpec::default()
                },
            ),
        ),
        (
            "/*!strata:dnid=1,2*/ DELETE FROM orders",
            Plan::Write(strata_planner::Write::new(
                strata_planner::WriteKind::Hinted { dml: true },
                strata_planner::NodeStatement::same(&[dn(1), dn(2)], "DELETE FROM orders"),
            )),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn the_dnid_pseudo_column_restricts_and_reports_nodes() {
    let cases = [
        (
            "SELECT *, DNID FROM orders WHERE DNID = 2",
            single(2, "SELECT *, 2 AS DNID FROM orders"),
        ),
        (
            "SELECT id FROM orders WHERE dnid = 3 AND amount > 1",
            single(3, "SELECT id FROM orders WHERE amount > 1"),
        ),
        // A node the table is not on: nothing matches.
        (
            "SELECT id FROM orders WHERE DNID = 9",
            single(1, "SELECT id FROM orders WHERE false"),
        ),
        (
            "SELECT id FROM orders WHERE DNID = 2 AND id = 5",
            single(1, "SELECT id FROM orders WHERE (id = 5) AND false"),
        ),
    ];
    assert_plans(cases);
    let plan = plan_sql("SELECT id, DNID FROM orders WHERE DNID IN (1, 2)").expect("plans");
    let Plan::Query(query) = &plan else {
        panic!("per-node plan expected, got {plan:?}");
    };
    let texts = plan.node_statements();
    assert_eq!(
        texts,
        [
            (dn(1), "SELECT id, 1 AS DNID FROM orders"),
            (dn(2), "SELECT id, 2 AS DNID FROM orders")
        ]
    );
    assert_eq!(query.visible(), strata_planner::Columns::First(2));
    assert_eq!(
        plan_sql("SELECT DNID + 1 FROM orders"),
        Err(PlanError::Unsupported("DNID inside an expression".into()))
    );
}

#[test]
fn long_operator_chains_are_planned_without_exhausting_the_stack() {
    let terms: Vec<String> = (0..3000).map(|i| format!("id = {}", i % 400 + 1)).collect();
    let sql = format!(
        "SELECT id FROM orders WHERE {} ORDER BY id",
        terms.join(" OR ")
    );
    let plan = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || plan_sql(&sql).map(|p| nodes_of(&p)))
        .expect("thread")
        .join()
        .expect("no stack overflow");
    assert_eq!(plan, Ok(vec![1, 2, 3, 4]));
    let terms: Vec<String> = (0..6000).map(|i| format!("id = {i}")).collect();
    let sql = format!("SELECT id FROM orders WHERE {}", terms.join(" OR "));
    assert_eq!(
        plan_sql(&sql),
        Err(PlanError::Unsupported(
            "statements with more than 10000 operators".into()
        ))
    );
}
