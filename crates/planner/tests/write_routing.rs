//! INSERT, REPLACE, UPDATE and DELETE routing: rows split per node, global copies kept
//! identical, generated AUTO_INCREMENT values, and the writes that are refused.

mod common;

use common::{
    assert_plans, catalog, ctx, dn, plan_sql, plan_with, plan_with_params, single, TestSequence,
};
use strata_catalog::sharding::KeyLiteral;
use strata_planner::{NodeStatement, Plan, PlanError, TableInfo, Write, WriteCombine, WriteKind};

fn part(dnid: u32, sql: &str) -> NodeStatement {
    NodeStatement {
        dnid: dn(dnid),
        sql: sql.into(),
    }
}

/// A write over `parts`: a global-table write when one copy's counts are reported,
/// else a split INSERT or a multi-node UPDATE/DELETE by the statement.
fn write(parts: Vec<NodeStatement>, combine: WriteCombine) -> Plan {
    let insert = parts.first().is_some_and(|p| {
        let upper = p.sql.to_ascii_uppercase();
        upper.starts_with("INSERT") || upper.starts_with("REPLACE")
    });
    let kind = match combine {
        WriteCombine::Replicated => WriteKind::GlobalWrite,
        WriteCombine::Sum if insert => WriteKind::SplitInsert,
        WriteCombine::Sum => WriteKind::Dml,
    };
    let plan = Write::new(kind, parts);
    assert!(plan.atomic, "DML over several nodes is atomic");
    Plan::Write(plan)
}

fn everywhere(sql: &str, combine: WriteCombine) -> Plan {
    write((1..=4).map(|n| part(n, sql)).collect(), combine)
}

#[test]
fn inserts_split_rows_by_node_keeping_their_order() {
    let cases = [
        // All rows on one node: the original text.
        (
            "INSERT INTO orders (id, amount) VALUES (5, 1), (6, 2)",
            single(1, "INSERT INTO orders (id, amount) VALUES (5, 1), (6, 2)"),
        ),
        (
            "insert ignore into orders set amount = 3, id = '150'",
            single(2, "insert ignore into orders set amount = 3, id = '150'"),
        ),
        (
            "REPLACE INTO orders VALUES (250, 'c', 1)",
            single(3, "REPLACE INTO orders VALUES (250, 'c', 1)"),
        ),
        // Rows on several nodes: one statement per node with its rows, in order.
        (
            "INSERT INTO orders (amount, id) VALUES (1, 350), (2, 5), (3, 360), (4, 6)",
            write(
                vec![
                    part(1, "INSERT INTO orders (amount, id) VALUES (2, 5), (4, 6)"),
                    part(4, "INSERT INTO orders (amount, id) VALUES (1, 350), (3, 360)"),
                ],
                WriteCombine::Sum,
            ),
        ),
        (
            "INSERT INTO orders (id, amount) VALUES (5, 1), (150, 2) ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)",
            write(
                vec![
                    part(1, "INSERT INTO orders (id, amount) VALUES (5, 1) ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)"),
                    part(2, "INSERT INTO orders (id, amount) VALUES (150, 2) ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)"),
                ],
                WriteCombine::Sum,
            ),
        ),
        // Without the sharding column the row routes as NULL (NULL route: node 1).
        (
            "INSERT INTO orders (amount) VALUES (1)",
            single(1, "INSERT INTO orders (amount) VALUES (1)"),
        ),
        // Child rows follow the parent's rule on the child's column.
        (
            "INSERT INTO items (item_id, order_id) VALUES (1, 150), (2, 250)",
            write(
                vec![
                    part(2, "INSERT INTO items (item_id, order_id) VALUES (1, 150)"),
                    part(3, "INSERT INTO items (item_id, order_id) VALUES (2, 250)"),
                ],
                WriteCombine::Sum,
            ),
        ),
        // Vertical: one node, text unchanged.
        ("INSERT INTO audit VALUES (1)", single(2, "INSERT INTO audit VALUES (1)")),
    ];
    assert_plans(cases);
}

#[test]
fn global_writes_go_to_every_copy_with_nondeterminism_fixed() {
    let cases = [
        (
            "INSERT INTO region VALUES ('fr', 'France')",
            everywhere("SET STATEMENT timestamp = 1700000000.000000 FOR INSERT INTO region VALUES ('fr', 'France')", WriteCombine::Replicated),
        ),
        (
            "INSERT INTO region (code, name) VALUES (UUID(), NOW())",
            everywhere(
                "SET STATEMENT timestamp = 1700000000.000000 FOR INSERT INTO region (code, name) VALUES ('bdd73226-2feb-4e95-a8ef-e333b266f103', TIMESTAMP'2023-11-14 22:13:20')",
                WriteCombine::Replicated,
            ),
        ),
        (
            "UPDATE region SET name = CONCAT(name, CURDATE()) WHERE code = 'fr'",
            everywhere(
                "SET STATEMENT timestamp = 1700000000.000000 FOR UPDATE region SET name = CONCAT(name, DATE'2023-11-14') WHERE code = 'fr'",
                WriteCombine::Replicated,
            ),
        ),
        (
            "DELETE FROM region WHERE code = 'fr'",
            everywhere("SET STATEMENT timestamp = 1700000000.000000 FOR DELETE FROM region WHERE code = 'fr'", WriteCombine::Replicated),
        ),
    ];
    assert_plans(cases);
    assert_eq!(
        plan_sql("UPDATE region SET name = RAND()"),
        Err(PlanError::Unsupported(
            "RAND() in a statement writing several copies of a global table".into()
        ))
    );
    assert_eq!(
        plan_sql("DELETE FROM region ORDER BY code LIMIT 1"),
        Err(PlanError::Unsupported(
            "DELETE with ORDER BY or LIMIT across data nodes of a table without a recorded PRIMARY KEY".into()
        ))
    );
}

#[test]
fn updates_and_deletes_route_by_where() {
    let cases = [
        (
            "UPDATE orders SET amount = 1 WHERE id = 150",
            single(2, "UPDATE orders SET amount = 1 WHERE id = 150"),
        ),
        (
            "DELETE FROM orders WHERE id IN (5, 350)",
            write(
                vec![
                    part(1, "DELETE FROM orders WHERE id IN (5, 350)"),
                    part(4, "DELETE FROM orders WHERE id IN (5, 350)"),
                ],
                WriteCombine::Sum,
            ),
        ),
        (
            "UPDATE orders SET amount = 0",
            everywhere("UPDATE orders SET amount = 0", WriteCombine::Sum),
        ),
        // ORDER BY and LIMIT on one node are MySQL's business.
        (
            "UPDATE LOW_PRIORITY orders SET amount = 0 WHERE id = 5 ORDER BY amount LIMIT 1",
            single(
                1,
                "UPDATE LOW_PRIORITY orders SET amount = 0 WHERE id = 5 ORDER BY amount LIMIT 1",
            ),
        ),
        (
            "DELETE FROM orders WHERE id = 5 ORDER BY amount LIMIT 1",
            single(1, "DELETE FROM orders WHERE id = 5 ORDER BY amount LIMIT 1"),
        ),
        // The sharding column may change when the row stays on its node.
        (
            "UPDATE orders SET id = 7 WHERE id = 5",
            single(1, "UPDATE orders SET id = 7 WHERE id = 5"),
        ),
        // Co-located multi-table forms.
        (
            "UPDATE orders o JOIN items i ON i.order_id = o.id SET i.qty = 0 WHERE o.id = 250",
            single(
                3,
                "UPDATE orders o JOIN items i ON i.order_id = o.id SET i.qty = 0 WHERE o.id = 250",
            ),
        ),
        // Time functions get one value for every node.
        (
            "UPDATE orders SET d = NOW() WHERE id > 300",
            single(4, "UPDATE orders SET d = NOW() WHERE id > 300"),
        ),
        (
            "UPDATE orders SET d = NOW() WHERE id > 200",
            write(
                vec![
                    part(
                        3,
                        "UPDATE orders SET d = TIMESTAMP'2023-11-14 22:13:20' WHERE id > 200",
                    ),
                    part(
                        4,
                        "UPDATE orders SET d = TIMESTAMP'2023-11-14 22:13:20' WHERE id > 200",
                    ),
                ],
                WriteCombine::Sum,
            ),
        ),
        // DNID restricts the write to a node; the condition is neutralized.
        (
            "DELETE FROM orders WHERE DNID = 3 AND amount = 0",
            single(3, "DELETE FROM orders WHERE 1 = 1 AND amount = 0"),
        ),
    ];
    assert_plans(cases);
}

#[test]
fn writes_that_could_go_wrong_are_refused() {
    let cases = [
        (
            "UPDATE orders SET id = 150 WHERE id = 5",
            PlanError::ShardingColumnChange(
                "orders.id would move rows to another data node".into(),
            ),
        ),
        (
            "UPDATE orders SET id = id + 1",
            PlanError::ShardingColumnChange(
                "orders.id would move rows to another data node".into(),
            ),
        ),
        (
            "UPDATE items SET order_id = 350 WHERE order_id = 5",
            PlanError::ShardingColumnChange(
                "items.order_id would move rows to another data node".into(),
            ),
        ),
        (
            "INSERT INTO orders (id) VALUES (5) ON DUPLICATE KEY UPDATE id = 999",
            PlanError::ShardingColumnChange("ON DUPLICATE KEY UPDATE of orders.id".into()),
        ),
        (
            "UPDATE orders SET amount = 0 ORDER BY id LIMIT 1",
            PlanError::Unsupported(
                "UPDATE with ORDER BY or LIMIT across data nodes of a table without a recorded PRIMARY KEY"
                    .into(),
            ),
        ),
        (
            "DELETE FROM orders LIMIT 1",
            PlanError::Unsupported(
                "DELETE with ORDER BY or LIMIT across data nodes of a table without a recorded PRIMARY KEY"
                    .into(),
            ),
        ),
        (
            "INSERT INTO orders (id) VALUES (5 + 1)",
            PlanError::Unsupported("INSERT with a sharding key value that is not a literal".into()),
        ),
        (
            "INSERT INTO orders2 VALUES (1, 'x')",
            PlanError::Unsupported(
                "INSERT without a column list into a sharded table whose columns are unknown"
                    .into(),
            ),
        ),
        (
            "INSERT INTO orders (id) VALUES (999)",
            PlanError::Sharding {
                code: 10104,
                message: String::new(),
            },
        ),
    ];
    for (sql, expected) in cases {
        let got = plan_sql(sql);
        match (&got, &expected) {
            (Err(PlanError::Sharding { code, .. }), PlanError::Sharding { code: want, .. }) => {
                assert_eq!(code, want, "{sql}")
            }
            _ => assert_eq!(got, Err(expected), "{sql}"),
        }
    }
    // INSERT ... SELECT within one node is fine.
    assert_eq!(
        plan_sql("INSERT INTO audit SELECT * FROM region"),
        Ok(single(2, "INSERT INTO audit SELECT * FROM region"))
    );
    // Across nodes the SELECT is read first, then its rows written as VALUES rows;
    // what a VALUES row cannot carry is refused.
    match plan_sql("INSERT IGNORE INTO orders (id) SELECT oid FROM orders2") {
        Ok(Plan::ReadThenWrite(r)) => {
            assert_eq!(r.before, "INSERT IGNORE INTO orders (id) VALUES ");
            assert!(matches!(*r.source, Plan::Query(_)), "{:?}", r.source);
            assert_eq!(
                r.rows,
                strata_planner::RowsAs::Values {
                    batch_rows: 1000,
                    counts: strata_planner::InsertCounts::Ignore
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // An IN subquery over tables spread over other nodes is read first; its values
    // replace it in the write.
    match plan_sql("DELETE FROM orders WHERE customer NOT IN (SELECT cid FROM customers)") {
        Ok(Plan::ReadThenWrite(r)) => {
            assert_eq!(r.before, "DELETE FROM orders WHERE ");
            assert_eq!(
                r.rows,
                strata_planner::RowsAs::InList {
                    expr: "customer".into(),
                    negated: true
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        plan_sql("DELETE FROM orders WHERE id IN (SELECT cid FROM customers c WHERE c.name = orders.amount)"),
        Err(PlanError::Unsupported(
            "a correlated subquery in an UPDATE or DELETE across data nodes".into()
        ))
    );
    // ON DUPLICATE KEY UPDATE goes with each batch of rows.
    match plan_sql(
        "INSERT INTO orders (id, amount) SELECT cid, 1 FROM customers \
         ON DUPLICATE KEY UPDATE amount = orders.amount + VALUES(amount)",
    ) {
        Ok(Plan::ReadThenWrite(r)) => assert_eq!(
            (r.after.as_str(), &r.rows),
            (
                "ON DUPLICATE KEY UPDATE amount = orders.amount + VALUES(amount)",
                &strata_planner::RowsAs::Values {
                    batch_rows: 1000,
                    counts: strata_planner::InsertCounts::Upsert
                }
            )
        ),
        other => panic!("{other:?}"),
    }
    // A column that is the SELECT's (or ambiguous in MySQL) is not in the VALUES form.
    assert_eq!(
        plan_sql("INSERT INTO orders (id) SELECT cid FROM customers ON DUPLICATE KEY UPDATE amount = customer"),
        Err(PlanError::Unsupported(
            "INSERT ... SELECT ... ON DUPLICATE KEY UPDATE across data nodes with 'amount = customer' \
             (name the target's columns as orders.col, the row's as VALUES(col))"
                .into()
        ))
    );
}

#[test]
fn global_auto_increment_fills_rows_and_reports_the_first_id() {
    let seq = TestSequence::starting_at(10);
    let mut c = ctx();
    c.ids = Some(&seq);
    let catalog = catalog();
    // Generated ids are the sharding key here: rows route by them.
    let planned =
        plan_with("INSERT INTO seq (note) VALUES ('a'), ('b')", &c, &catalog).expect("plans");
    assert_eq!(
        planned.plan,
        single(1, "INSERT INTO seq (note, id) VALUES ('a', 10), ('b', 11)")
    );
    assert_eq!(planned.insert_id, Some(10));
    // NULL and 0 ask for a value; explicit values are kept and move the sequence above
    // them before later rows get theirs, as in MySQL.
    let planned = plan_with(
        "INSERT INTO seq (id, note) VALUES (NULL, 'a'), (250, 'b'), (0, 'c')",
        &c,
        &catalog,
    )
    .expect("plans");
    assert_eq!(
        planned.plan,
        write(
            vec![
                part(1, "INSERT INTO seq (id, note) VALUES (12, 'a')"),
                part(
                    3,
                    "INSERT INTO seq (id, note) VALUES (250, 'b'), (251, 'c')"
                ),
            ],
            WriteCombine::Sum,
        )
    );
    assert_eq!(planned.insert_id, Some(12));
    assert_eq!(seq.observed(), [250]);
    // Global tables get the same values on every copy.
    let planned = plan_with("INSERT INTO gseq SET note = 'x'", &c, &catalog).expect("plans");
    assert_eq!(
        planned.plan,
        everywhere(
            "SET STATEMENT timestamp = 1700000000.000000 FOR INSERT INTO gseq SET note = 'x', id = 252",
            WriteCombine::Replicated
        )
    );
    assert_eq!(planned.insert_id, Some(252));
    // Explicit values only: no generated id (the nodes report theirs).
    let planned = plan_with("INSERT INTO seq VALUES (5, 'x')", &c, &catalog).expect("plans");
    assert_eq!(planned.insert_id, None);
    assert_eq!(planned.plan, single(1, "INSERT INTO seq VALUES (5, 'x')"));
    // No sequence: refused rather than guessed.
    assert_eq!(
        plan_sql("INSERT INTO seq (note) VALUES ('a')"),
        Err(PlanError::Sequence(
            "no AUTO_INCREMENT sequence is available".into()
        ))
    );
}

#[test]
fn prepared_inserts_route_at_execute_time() {
    let params = [KeyLiteral::Integer("350".into()), KeyLiteral::Null];
    let planned = plan_with_params("INSERT INTO orders (id, amount) VALUES (?, ?)", &params);
    assert_eq!(
        planned.plan,
        single(4, "INSERT INTO orders (id, amount) VALUES (350, NULL)")
    );
    // At PREPARE time: validation only, every node of the table.
    let planned = plan_with(
        "INSERT INTO orders (id, amount) VALUES (?, ?)",
        &ctx(),
        &catalog(),
    )
    .expect("plans");
    assert_eq!(
        planned.plan,
        everywhere(
            "INSERT INTO orders (id, amount) VALUES (?, ?)",
            WriteCombine::Sum
        )
    );
}

#[test]
fn order_by_limit_across_nodes_picks_rows_by_primary_key_first() {
    let mut c = catalog();
    let mut info = TableInfo::new(strata_catalog::sharding::Distribution::Sharded {
        column: "id".into(),
        key_type: strata_catalog::sharding::KeyType::Integer {
            unsigned: false,
            bytes: None,
        },
        rule: common::orders_rule(),
    })
    .with_columns(&["id", "amount"]);
    info.unique_keys = Some(vec![strata_catalog::unique_keys::UniqueKey {
        name: "PRIMARY".into(),
        columns: vec!["id".into()],
    }]);
    c.add_table("shop", "keyed", info);
    match plan_with(
        "UPDATE keyed SET amount = 0 WHERE amount > 5 ORDER BY amount DESC LIMIT 2",
        &ctx(),
        &c,
    ) {
        Ok(planned) => match planned.plan {
            Plan::ReadThenWrite(r) => {
                assert_eq!(
                    r.before,
                    "UPDATE keyed SET amount = 0 WHERE (amount > 5) AND "
                );
                assert_eq!(
                    r.rows,
                    strata_planner::RowsAs::InList {
                        expr: "`id`".into(),
                        negated: false
                    }
                );
                let reads: Vec<&str> = r.source.node_statements().iter().map(|p| p.1).collect();
                assert!(
                    reads
                        .iter()
                        .all(|s| s.ends_with("WHERE amount > 5 ORDER BY 2 DESC LIMIT 2 FOR UPDATE")),
                    "{reads:?}"
                );
            }
            other => panic!("{other:?}"),
        },
        Err(e) => panic!("{e:?}"),
    }
}

/// The test catalog with `keyed` (sharded like `orders` on `id`, PRIMARY KEY (id)) and
/// `ckeyed` (sharded on `cid` like `customers`, PRIMARY KEY (cid, n)).
fn keyed_catalog() -> strata_planner::MemoryCatalog {
    let mut c = catalog();
    let keyed = |column: &str, rule, columns: &[&str], key: &[&str]| {
        let mut info = TableInfo::new(strata_catalog::sharding::Distribution::Sharded {
            column: column.into(),
            key_type: strata_catalog::sharding::KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            rule,
        })
        .with_columns(columns);
        info.unique_keys = Some(vec![strata_catalog::unique_keys::UniqueKey {
            name: "PRIMARY".into(),
            columns: key.iter().map(|k| k.to_string()).collect(),
        }]);
        info
    };
    c.add_table(
        "shop",
        "keyed",
        keyed("id", common::orders_rule(), &["id", "amount"], &["id"]),
    );
    let by_cid = strata_catalog::sharding::ShardingRule::auto_mod(vec![dn(1), dn(2), dn(3), dn(4)])
        .expect("valid rule");
    c.add_table(
        "shop",
        "ckeyed",
        keyed("cid", by_cid, &["cid", "n", "note"], &["cid", "n"]),
    );
    c
}

#[test]
fn multi_table_writes_across_nodes_read_the_join_then_write_each_target_by_key() {
    let c = keyed_catalog();
    let plan = |sql: &str| plan_with(sql, &ctx(), &c).map(|p| p.plan);
    match plan(
        "UPDATE keyed k, ckeyed c SET k.amount = k.amount + c.n, c.note = 'x' WHERE c.n = k.id",
    ) {
        Ok(Plan::ReadThenWrite(r)) => {
            let strata_planner::RowsAs::ByKey(writes) = &r.rows else {
                panic!("{:?}", r.rows);
            };
            let heads: Vec<(&str, &str, &[usize])> = writes
                .iter()
                .map(|w| (w.head.as_str(), w.key.as_str(), w.key_columns.as_slice()))
                .collect();
            assert_eq!(
                heads,
                vec![
                    ("UPDATE `shop`.`keyed` SET ", "`id`", &[0][..]),
                    ("UPDATE `shop`.`ckeyed` SET ", "(`cid`, `n`)", &[2, 1][..]),
                ]
            );
            // The target's own column stays a column; the other table's is read.
            assert_eq!(
                writes[0].set_text(&["1", "7", "2"]),
                "`amount` = `amount` + 7"
            );
            assert_eq!(writes[1].set_text(&["1", "7", "2"]), "`note` = 'x'");
            assert_eq!(
                writes[1].key_text(&["1", "7", "2"]).as_deref(),
                Some("(2, 7)")
            );
            assert_eq!(writes[1].key_text(&["1", "NULL", "2"]), None);
            let reads: Vec<&str> = r.source.node_statements().iter().map(|p| p.1).collect();
            assert!(!reads.is_empty(), "{:?}", r.source);
        }
        other => panic!("{other:?}"),
    }
    match plan("DELETE k, c FROM keyed k LEFT JOIN ckeyed c ON c.n = k.id WHERE k.amount > 1") {
        Ok(Plan::ReadThenWrite(r)) => match &r.rows {
            strata_planner::RowsAs::ByKey(writes) => {
                let heads: Vec<&str> = writes.iter().map(|w| w.head.as_str()).collect();
                assert_eq!(
                    heads,
                    ["DELETE FROM `shop`.`keyed`", "DELETE FROM `shop`.`ckeyed`"]
                );
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // The statement's time is one for every write.
    match plan("UPDATE keyed k JOIN ckeyed c ON c.n = k.id SET k.amount = c.n, c.note = NOW()") {
        Ok(Plan::ReadThenWrite(r)) => match &r.rows {
            strata_planner::RowsAs::ByKey(writes) => {
                let set = writes[1].set_text(&[]);
                assert!(
                    set.starts_with("`note` = ") && !set.contains("NOW"),
                    "{set}"
                );
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let unsupported = |sql: &str| match plan(sql) {
        Err(PlanError::Unsupported(m)) => m,
        other => panic!("{sql}: {other:?}"),
    };
    // A target without a recorded PRIMARY KEY, a value read from an assigned column,
    // ORDER BY / LIMIT, UPDATE IGNORE.
    assert!(
        unsupported("UPDATE customers c JOIN keyed k ON k.id = c.city SET c.name = k.amount")
            .contains("without a recorded PRIMARY KEY")
    );
    assert!(unsupported(
        "UPDATE keyed k JOIN ckeyed c ON c.n = k.id SET k.amount = 1, c.note = k.amount"
    )
    .contains("reads the column amount it also assigns"));
    assert!(
        unsupported("UPDATE keyed k JOIN ckeyed c ON c.n = k.id SET k.amount = c.n LIMIT 1")
            .contains("ORDER BY or LIMIT")
    );
    assert!(
        unsupported("UPDATE IGNORE keyed k JOIN ckeyed c ON c.n = k.id SET k.amount = c.n")
            .contains("UPDATE IGNORE")
    );
    assert!(unsupported(
        "DELETE a, b FROM keyed a JOIN ckeyed c ON c.n = a.id JOIN keyed b ON b.id = c.cid"
    )
    .contains("one table under two names"));
    // The sharding column stays.
    assert!(matches!(
        plan("UPDATE keyed k JOIN ckeyed c ON c.n = k.id SET c.cid = k.id"),
        Err(PlanError::ShardingColumnChange(_))
    ));
}

/// [`ctx`] with `values` for the sharding-key expressions.
fn ctx_with_keys(values: &strata_planner::KeyValues) -> strata_planner::PlanContext<'_> {
    let mut c = ctx();
    c.key_values = Some(values);
    c
}

#[test]
fn constant_key_expressions_are_evaluated_once_then_route_their_rows() {
    let catalog = catalog();
    let mut values = strata_planner::KeyValues::default();
    let sql = "INSERT INTO orders (id, amount) VALUES (100 + 50, 1), (-(-7), 2), (ABS(-350), 3), (100 + 50, 4)";
    // First planning: the expressions are asked for, all at once, and nothing is planned.
    let refused = plan_with(sql, &ctx_with_keys(&values), &catalog).map(|p| p.plan);
    assert_eq!(
        refused,
        Err(PlanError::Unsupported(
            "INSERT with a sharding key value that is not a literal".into()
        ))
    );
    let query = values.query().expect("expressions wanted");
    // One column per distinct expression, and the stored-function check.
    assert!(
        query.sql.starts_with(
            "SELECT 100 + 50, ABS(-350), (SELECT COUNT(*) FROM information_schema.ROUTINES"
        ),
        "{}",
        query.sql
    );
    assert!(query.sql.contains("IN ('abs')"), "{}", query.sql);
    values.give(&query, &["150", "350", "0"]).expect("values");
    // Planned again: rows routed by the values, the nodes get the expressions.
    let planned = plan_with(sql, &ctx_with_keys(&values), &catalog).map(|p| p.plan);
    assert_eq!(
        planned,
        Ok(write(
            vec![
                part(1, "INSERT INTO orders (id, amount) VALUES (-(-7), 2)"),
                part(
                    2,
                    "INSERT INTO orders (id, amount) VALUES (100 + 50, 1), (100 + 50, 4)"
                ),
                part(4, "INSERT INTO orders (id, amount) VALUES (ABS(-350), 3)"),
            ],
            WriteCombine::Sum,
        ))
    );
    // A stored function of a called name in the database: refused.
    let mut fresh = strata_planner::KeyValues::default();
    let _ = plan_with(sql, &ctx_with_keys(&fresh), &catalog);
    let query = fresh.query().expect("expressions wanted");
    let refused = fresh
        .give(&query, &["150", "350", "1"])
        .map_err(|e| e.code());
    assert_eq!(refused, Err(1235));
    // Without a server to evaluate them: refused as before.
    let planned = plan_with("INSERT INTO orders (id) VALUES (1 + 1)", &ctx(), &catalog);
    assert!(planned.is_err());
    // Columns, variables, subqueries and per-connection values are refused outright.
    for sql in [
        "INSERT INTO orders (id, amount) VALUES (amount + 1, 2)",
        "INSERT INTO orders (id) VALUES (@v)",
        "INSERT INTO orders (id) VALUES ((SELECT MAX(id) FROM orders2))",
        "INSERT INTO orders (id) VALUES (CONNECTION_ID())",
    ] {
        let fresh = strata_planner::KeyValues::default();
        let refused = plan_with(sql, &ctx_with_keys(&fresh), &catalog).map(|p| p.plan);
        assert!(
            matches!(&refused, Err(PlanError::Unsupported(m)) if m.contains("INSERT over several data nodes with a sharding key value that")),
            "{sql}: {refused:?}"
        );
        assert!(fresh.query().is_none(), "{sql}");
    }
    // Literal forms a read writes route without a round trip.
    let fresh = strata_planner::KeyValues::default();
    let planned = plan_with(
        "INSERT INTO orders (id) VALUES (_utf8mb4 X'313530')",
        &ctx_with_keys(&fresh),
        &catalog,
    )
    .map(|p| p.plan);
    assert_eq!(
        planned,
        Ok(single(
            2,
            "INSERT INTO orders (id) VALUES (_utf8mb4 X'313530')"
        ))
    );
}
