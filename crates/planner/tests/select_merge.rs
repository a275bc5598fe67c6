//! Scatter/gather rewrites: for a read on several nodes, the per-node SQL and the merge
//! that turns the per-node results into exactly what one MySQL would return.

mod common;

use common::{assert_plans, plan_sql};
use strata_catalog::DataNodeId;
use strata_planner::{
    Aggregate, AggregateFunction as F, CompareOp, Literal, MergeSpec, Plan, Predicate, SortKey,
};

const ALL: [u32; 4] = [1, 2, 3, 4];

fn scatter(sql: &str, merge: MergeSpec) -> Plan {
    Plan::scatter(&DataNodeId::from_numbers(&ALL), sql, merge)
}

fn asc(column: usize) -> SortKey {
    SortKey {
        column,
        descending: false,
    }
}

fn desc(column: usize) -> SortKey {
    SortKey {
        column,
        descending: true,
    }
}

fn agg(column: usize, function: F) -> Aggregate {
    Aggregate { column, function }
}

fn visible(n: usize) -> MergeSpec {
    MergeSpec {
        visible_columns: n,
        ..MergeSpec::default()
    }
}

#[test]
fn order_by_and_limit_are_pushed_down_and_merged() {
    let cases = [
        (
            "SELECT id, amount FROM orders",
            scatter("SELECT id, amount FROM orders", visible(2)),
        ),
        (
            "SELECT id, amount FROM orders ORDER BY amount DESC, id",
            scatter(
                "SELECT id, amount FROM orders ORDER BY 2 DESC, 1",
                MergeSpec {
                    order_by: vec![desc(1), asc(0)],
                    ..visible(2)
                },
            ),
        ),
        // LIMIT o, n: every node returns its first o+n rows; the merge skips o, keeps n.
        (
            "SELECT id FROM orders ORDER BY id LIMIT 10, 5",
            scatter(
                "SELECT id FROM orders ORDER BY 1 LIMIT 15",
                MergeSpec {
                    order_by: vec![asc(0)],
                    offset: 10,
                    limit: Some(5),
                    ..visible(1)
                },
            ),
        ),
        (
            "SELECT id FROM orders LIMIT 5 OFFSET 2",
            scatter(
                "SELECT id FROM orders LIMIT 7",
                MergeSpec {
                    offset: 2,
                    limit: Some(5),
                    ..visible(1)
                },
            ),
        ),
        // ORDER BY a column not selected: a helper column after the visible ones.
        (
            "SELECT id FROM orders ORDER BY amount DESC LIMIT 3",
            scatter(
                "SELECT id, amount FROM orders ORDER BY 2 DESC LIMIT 3",
                MergeSpec {
                    order_by: vec![desc(1)],
                    limit: Some(3),
                    ..visible(1)
                },
            ),
        ),
        // By position, by alias, by the selected expression, qualified or not.
        (
            "SELECT id, amount * 2 AS twice FROM orders o ORDER BY twice, 1, o.amount * 2",
            scatter(
                "SELECT id, amount * 2 AS twice FROM orders AS o ORDER BY 2, 1, 2",
                MergeSpec {
                    order_by: vec![asc(1), asc(0), asc(1)],
                    ..visible(2)
                },
            ),
        ),
        // Unaliased computed columns keep the name MySQL gives them (their text).
        (
            "SELECT id+1 FROM orders ORDER BY amount",
            scatter(
                "SELECT id + 1 AS `id+1`, amount FROM orders ORDER BY 2",
                MergeSpec {
                    order_by: vec![asc(1)],
                    ..visible(1)
                },
            ),
        ),
        (
            "SELECT DISTINCT customer FROM orders ORDER BY customer LIMIT 2",
            scatter(
                "SELECT DISTINCT customer FROM orders ORDER BY 1 LIMIT 2",
                MergeSpec {
                    distinct: true,
                    order_by: vec![asc(0)],
                    limit: Some(2),
                    ..visible(1)
                },
            ),
        ),
        // FOR UPDATE locks on every node the query reads.
        (
            "SELECT id FROM orders WHERE amount > 5 FOR UPDATE",
            scatter(
                "SELECT id FROM orders WHERE amount > 5 FOR UPDATE",
                visible(1),
            ),
        ),
        (
            "SELECT id FROM orders LOCK IN SHARE MODE",
            scatter("SELECT id FROM orders LOCK IN SHARE MODE", visible(1)),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn select_star_puts_helper_columns_first() {
    let star = |start: usize| MergeSpec {
        visible_to_end: true,
        visible_start: start,
        ..MergeSpec::default()
    };
    let cases = [
        ("SELECT * FROM orders", scatter("SELECT * FROM orders", star(0))),
        (
            "SELECT * FROM orders ORDER BY amount DESC LIMIT 2",
            scatter(
                "SELECT amount, orders.* FROM orders ORDER BY 1 DESC LIMIT 2",
                MergeSpec {
                    order_by: vec![desc(0)],
                    limit: Some(2),
                    ..star(1)
                },
            ),
        ),
        (
            "SELECT * FROM orders o JOIN region r ON r.code = o.customer ORDER BY r.name",
            scatter(
                "SELECT r.name, o.*, r.* FROM orders AS o JOIN region AS r ON r.code = o.customer ORDER BY 1",
                MergeSpec {
                    order_by: vec![asc(0)],
                    ..star(1)
                },
            ),
        ),
        // Positions count the columns of `*`.
        (
            "SELECT * FROM orders ORDER BY 2",
            scatter(
                "SELECT * FROM orders ORDER BY 2",
                MergeSpec {
                    order_by: vec![asc(1)],
                    ..star(0)
                },
            ),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn aggregates_are_computed_per_node_and_combined() {
    let cases = [
        (
            "SELECT COUNT(*), COUNT(amount), SUM(amount), MIN(id), MAX(id) FROM orders",
            scatter(
                "SELECT COUNT(*), COUNT(amount), SUM(amount), MIN(id), MAX(id) FROM orders",
                MergeSpec {
                    aggregates: vec![
                        agg(0, F::Count),
                        agg(1, F::Count),
                        agg(2, F::Sum),
                        agg(3, F::Min),
                        agg(4, F::Max),
                    ],
                    ..visible(5)
                },
            ),
        ),
        // AVG(x) = SUM(x) / COUNT(x): the COUNT is a helper column.
        (
            "SELECT AVG(amount) AS a FROM orders",
            scatter(
                "SELECT SUM(amount) AS a, COUNT(amount) FROM orders",
                MergeSpec {
                    aggregates: vec![agg(
                        0,
                        F::Avg {
                            count_column: 1,
                            scale: 4,
                        },
                    )],
                    ..visible(1)
                },
            ),
        ),
        // COUNT(DISTINCT x): each node returns its distinct x (per-node GROUP BY x);
        // the merge counts distinct values. The item keeps its name.
        (
            "SELECT COUNT(DISTINCT customer) FROM orders",
            scatter(
                "SELECT customer AS `COUNT(DISTINCT customer)` FROM orders GROUP BY customer",
                MergeSpec {
                    aggregates: vec![agg(0, F::CountDistinct)],
                    ..visible(1)
                },
            ),
        ),
        (
            "SELECT GROUP_CONCAT(customer SEPARATOR ';') FROM orders",
            scatter(
                "SELECT GROUP_CONCAT(customer SEPARATOR ';') FROM orders",
                MergeSpec {
                    aggregates: vec![agg(
                        0,
                        F::GroupConcat {
                            separator: ";".into(),
                        },
                    )],
                    ..visible(1)
                },
            ),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn group_by_regroups_and_sorts_after_aggregation() {
    let cases = [
        // Without ORDER BY, MariaDB returns groups sorted by the grouping columns: so does
        // the merge (found by the differential test).
        (
            "SELECT customer, SUM(amount) FROM orders GROUP BY customer",
            scatter(
                "SELECT customer, SUM(amount) FROM orders GROUP BY customer",
                MergeSpec {
                    group_by: vec![0],
                    aggregates: vec![agg(1, F::Sum)],
                    order_by: vec![asc(0)],
                    ..visible(2)
                },
            ),
        ),
        (
            "SELECT COUNT(*) FROM orders GROUP BY amount, customer LIMIT 2",
            scatter(
                "SELECT COUNT(*), amount, customer FROM orders GROUP BY amount, customer",
                MergeSpec {
                    group_by: vec![1, 2],
                    aggregates: vec![agg(0, F::Count)],
                    order_by: vec![asc(1), asc(2)],
                    limit: Some(2),
                    ..visible(1)
                },
            ),
        ),
        // A grouping column not selected is a helper column; ORDER BY and LIMIT apply
        // after regrouping only, so they are not pushed down.
        (
            "SELECT COUNT(*) AS n FROM orders GROUP BY customer ORDER BY n DESC LIMIT 3",
            scatter(
                "SELECT COUNT(*) AS n, customer FROM orders GROUP BY customer",
                MergeSpec {
                    group_by: vec![1],
                    aggregates: vec![agg(0, F::Count)],
                    order_by: vec![desc(0)],
                    limit: Some(3),
                    ..visible(1)
                },
            ),
        ),
        // ORDER BY an aggregate that is not selected: a helper aggregate.
        (
            "SELECT customer FROM orders GROUP BY 1 ORDER BY MAX(amount)",
            scatter(
                "SELECT customer, MAX(amount) FROM orders GROUP BY 1",
                MergeSpec {
                    group_by: vec![0],
                    aggregates: vec![agg(1, F::Max)],
                    order_by: vec![asc(1)],
                    ..visible(1)
                },
            ),
        ),
        // HAVING becomes a merge predicate over output columns (and helpers).
        (
            "SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer HAVING n > 1 AND SUM(amount) BETWEEN 10 AND 20",
            scatter(
                "SELECT customer, COUNT(*) AS n, SUM(amount) FROM orders GROUP BY customer",
                MergeSpec {
                    group_by: vec![0],
                    aggregates: vec![agg(1, F::Count), agg(2, F::Sum)],
                    having: Some(Predicate::And(
                        Box::new(Predicate::Compare {
                            column: 1,
                            op: CompareOp::Gt,
                            literal: Literal::Number("1".into()),
                        }),
                        Box::new(Predicate::And(
                            Box::new(Predicate::Compare {
                                column: 2,
                                op: CompareOp::Ge,
                                literal: Literal::Number("10".into()),
                            }),
                            Box::new(Predicate::Compare {
                                column: 2,
                                op: CompareOp::Le,
                                literal: Literal::Number("20".into()),
                            }),
                        )),
                    )),
                    order_by: vec![asc(0)],
                    ..visible(2)
                },
            ),
        ),
        // COUNT(DISTINCT) with other aggregates: the extra grouping only splits partials.
        (
            "SELECT customer, COUNT(DISTINCT id), COUNT(*) FROM orders GROUP BY customer",
            scatter(
                "SELECT customer, id AS `COUNT(DISTINCT id)`, COUNT(*) FROM orders GROUP BY customer, id",
                MergeSpec {
                    group_by: vec![0],
                    aggregates: vec![agg(1, F::CountDistinct), agg(2, F::Count)],
                    order_by: vec![asc(0)],
                    ..visible(3)
                },
            ),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn union_runs_whole_on_each_node_and_merges() {
    let cases = [
        (
            "SELECT id FROM orders UNION ALL SELECT oid FROM orders2",
            scatter(
                "SELECT id FROM orders UNION ALL SELECT oid FROM orders2",
                visible(1),
            ),
        ),
        (
            "SELECT id FROM orders UNION SELECT oid FROM orders2 ORDER BY id DESC LIMIT 4",
            scatter(
                "SELECT id FROM orders UNION SELECT oid FROM orders2 ORDER BY 1 DESC LIMIT 4",
                MergeSpec {
                    distinct: true,
                    order_by: vec![desc(0)],
                    limit: Some(4),
                    ..visible(1)
                },
            ),
        ),
    ];
    assert_plans(cases);
    // UNIONs the merge cannot combine run whole on one data node over copies of their
    // tables (materialize.plans has the plans).
    for sql in [
        "SELECT id FROM orders UNION ALL SELECT code FROM region",
        "SELECT COUNT(*) FROM orders UNION ALL SELECT oid FROM orders2",
        "SELECT id FROM orders UNION ALL SELECT oid FROM orders2 UNION SELECT id FROM orders",
        "SELECT id FROM orders UNION ALL SELECT id FROM other",
    ] {
        assert!(
            matches!(plan_sql(sql), Ok(Plan::Materialize(_))),
            "{sql}: {:?}",
            plan_sql(sql)
        );
    }
}

#[test]
fn time_functions_are_fixed_once_for_all_nodes() {
    assert_eq!(
        plan_sql("SELECT id FROM orders WHERE amount < UNIX_TIMESTAMP() AND d < NOW()"),
        Ok(scatter(
            "SELECT id FROM orders WHERE amount < 1700000000 AND d < TIMESTAMP'2023-11-14 22:13:20'",
            visible(1)
        ))
    );
}
