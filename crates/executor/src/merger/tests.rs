//! The merger over canned per-node results: pipelines, streaming, column types,
//! failures, and a property test of aggregate combination.

use super::*;
use crate::test_support::{
    count_col, decimal_col, decode_payload, double_col, int_col, payload, varchar_col,
};
use proptest::prelude::*;
use strata_planner::{Aggregate, CompareOp, Literal, MergeSpec, Predicate, SortKey};

type Rows = Vec<Vec<Option<String>>>;

fn node_rows(rows: &[Vec<Option<&str>>]) -> Vec<Bytes> {
    rows.iter().map(|r| payload(r)).collect()
}

fn run(
    spec: &MergeSpec,
    columns: &[ColumnDef],
    nodes: &[Vec<Vec<Option<&str>>>],
) -> Result<Rows, MergeError> {
    run_with(spec, columns, nodes, MergeOptions::default())
}

/// The operator tree the planner builds for `spec`.
fn plan(spec: &MergeSpec) -> QueryPlan {
    QueryPlan::from_spec(Vec::new(), spec.clone())
}

/// `spec` with each node's groups promised in order.
fn presorted(spec: &MergeSpec) -> MergeSpec {
    MergeSpec {
        presorted_groups: true,
        ..spec.clone()
    }
}

fn run_with(
    spec: &MergeSpec,
    columns: &[ColumnDef],
    nodes: &[Vec<Vec<Option<&str>>>],
    options: MergeOptions,
) -> Result<Rows, MergeError> {
    let defs = vec![columns.to_vec(); nodes.len()];
    let rows = nodes.iter().map(|n| node_rows(n)).collect();
    let out = merge_all_with_options(&plan(spec), &defs, rows, options)?;
    let visible = plan(spec).visible().range(columns.len());
    Ok(out
        .iter()
        .map(|p| decode_payload(p, visible.len()))
        .collect())
}

fn owned(rows: &[Vec<Option<&str>>]) -> Rows {
    crate::test_support::owned(rows)
}

fn key(column: usize, descending: bool) -> SortKey {
    SortKey { column, descending }
}

fn agg(column: usize, function: AggregateFunction) -> Aggregate {
    Aggregate { column, function }
}

#[test]
fn an_ordered_merge_streams_asking_for_exactly_the_node_it_needs() {
    let cols = vec![int_col("n")];
    let spec = MergeSpec {
        visible_columns: 1,
        order_by: vec![key(0, false)],
        limit: Some(2),
        ..MergeSpec::default()
    };
    let mut merger = Merger::new(&plan(&spec), &[cols.clone(), cols.clone()]).unwrap();
    assert_eq!(merger.description(), "MergeSort(1 keys) -> Limit(0, 2)");
    assert_eq!(merger.next_step().unwrap(), Step::Need(Demand::Node(0)));
    merger.push(0, payload(&[Some("1")])).unwrap();
    assert_eq!(merger.next_step().unwrap(), Step::Need(Demand::Node(1)));
    merger.push(1, payload(&[Some("2")])).unwrap();
    assert_eq!(
        merger.next_step().unwrap(),
        Step::Row(payload(&[Some("1")]))
    );
    assert_eq!(merger.next_step().unwrap(), Step::Need(Demand::Node(0)));
    merger.push(0, payload(&[Some("5")])).unwrap();
    assert_eq!(
        merger.next_step().unwrap(),
        Step::Row(payload(&[Some("2")]))
    );
    assert_eq!(
        merger.next_step().unwrap(),
        Step::Done,
        "LIMIT 2 ends before the nodes do"
    );
    assert_eq!(merger.memory_used(), 0);
    merger.push(1, payload(&[Some("7")])).unwrap();
}

#[test]
fn an_ordered_merge_of_many_rows_fits_a_tiny_budget() {
    let cols = vec![int_col("n"), varchar_col("pad")];
    let spec = MergeSpec {
        visible_columns: 2,
        order_by: vec![key(0, true)],
        ..MergeSpec::default()
    };
    let pad = "x".repeat(100);
    let nodes: Vec<Vec<Bytes>> = (0..3)
        .map(|n| {
            (0..2000)
                .rev()
                .map(|i| payload(&[Some(&(i * 3 + n).to_string()), Some(&pad)]))
                .collect()
        })
        .collect();
    let options = MergeOptions {
        memory: MemoryBudget::new(4096),
        ..MergeOptions::default()
    };
    let out = merge_all_with_options(
        &plan(&spec),
        &[cols.clone(), cols.clone(), cols.clone()],
        nodes.clone(),
        options,
    )
    .unwrap();
    assert_eq!(out.len(), 6000);
    assert_eq!(decode_payload(&out[0], 2)[0].as_deref(), Some("5999"));
    // The same rows through DISTINCT must be remembered and do not fit.
    let distinct = MergeSpec {
        distinct: true,
        ..spec
    };
    let options = MergeOptions {
        memory: MemoryBudget::new(4096),
        ..MergeOptions::default()
    };
    let err = merge_all_with_options(
        &plan(&distinct),
        &[cols.clone(), cols.clone(), cols],
        nodes,
        options,
    )
    .unwrap_err();
    assert_eq!(err.to_mysql_error().code, 1114);
}

#[test]
fn hidden_sort_columns_are_not_sent_and_visible_bytes_are_unchanged() {
    let cols = vec![double_col("d"), int_col("k")];
    let spec = MergeSpec {
        visible_columns: 1,
        order_by: vec![key(1, false)],
        ..MergeSpec::default()
    };
    let out = run(
        &spec,
        &cols,
        &[
            vec![vec![Some("1.50E+00"), Some("2")]],
            vec![vec![Some("0.1"), Some("1")]],
        ],
    )
    .unwrap();
    assert_eq!(out, owned(&[vec![Some("0.1")], vec![Some("1.50E+00")]]));
}

/// MIN/MAX of an ENUM: CHAR with the ENUM flag from a node with rows, VARCHAR without
/// it from a node without; the merge keeps the ENUM one, whichever node sent it.
#[test]
fn enum_aggregate_typed_by_rows_is_reconciled() {
    let spec = MergeSpec {
        visible_columns: 1,
        ..MergeSpec::default()
    };
    let enum_col = ColumnDef {
        col_type: coltype::STRING,
        flags: ENUM_FLAG,
        ..varchar_col("m")
    };
    for nodes in [
        vec![vec![varchar_col("m")], vec![enum_col.clone()]],
        vec![vec![enum_col.clone()], vec![varchar_col("m")]],
    ] {
        let merger = Merger::new(&plan(&spec), &nodes).unwrap();
        assert_eq!(merger.columns()[0].col_type, coltype::STRING);
        assert_eq!(merger.columns()[0].flags & ENUM_FLAG, ENUM_FLAG);
    }
    // Another charset is still a mismatch.
    let latin1 = ColumnDef {
        charset: 8,
        ..varchar_col("m")
    };
    assert!(matches!(
        Merger::new(&plan(&spec), &[vec![enum_col], vec![latin1]]),
        Err(MergeError::ColumnMismatch { node: 1, .. })
    ));
}

#[test]
fn nodes_with_different_columns_are_refused() {
    let spec = MergeSpec {
        visible_columns: 1,
        ..MergeSpec::default()
    };
    let err = Merger::new(
        &plan(&spec),
        &[vec![int_col("a")], vec![int_col("a"), int_col("b")]],
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::ColumnMismatch { node: 1, .. }));
    let err = Merger::new(&plan(&spec), &[vec![int_col("a")], vec![varchar_col("a")]]).unwrap_err();
    assert!(
        matches!(err, MergeError::ColumnMismatch { node: 1, .. }),
        "{err}"
    );
    // The BINARY flag of a binary-charset column says nothing more than its charset.
    let unflagged = ColumnDef {
        flags: colflag::NUM,
        ..decimal_col("s", 42, 0)
    };
    assert!(Merger::new(
        &plan(&spec),
        &[vec![decimal_col("s", 42, 0)], vec![unflagged]]
    )
    .is_ok());
    let bin_collation = ColumnDef {
        flags: colflag::BINARY,
        ..varchar_col("a")
    };
    assert!(matches!(
        Merger::new(&plan(&spec), &[vec![varchar_col("a")], vec![bin_collation]]),
        Err(MergeError::ColumnMismatch { node: 1, .. })
    ));
    let bad = MergeSpec {
        visible_columns: 1,
        order_by: vec![key(3, false)],
        ..MergeSpec::default()
    };
    assert!(matches!(
        Merger::new(&plan(&bad), &[vec![int_col("a")]]),
        Err(MergeError::InvalidSpec(_))
    ));
    assert!(matches!(
        Merger::new(&plan(&spec), &[]),
        Err(MergeError::InvalidSpec(_))
    ));
}

#[test]
fn malformed_rows_from_a_node_fail_the_merge() {
    let spec = MergeSpec {
        visible_columns: 1,
        ..MergeSpec::default()
    };
    let cols = vec![int_col("a")];
    let err = merge_all(
        &plan(&spec),
        &[cols.clone(), cols],
        vec![vec![], vec![Bytes::from_static(b"\x09short")]],
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::MalformedRow { node: 1, .. }));
}

/// MariaDB 10.11 column definitions of `SELECT COUNT(*), AVG(i), AVG(d),
/// COUNT(DISTINCT s), AVG(g)` with i INT, d DECIMAL(10,2), g DOUBLE: LONGLONG(21)
/// NOT_NULL BINARY; NEWDECIMAL length 16 decimals 4 BINARY; NEWDECIMAL 16/6;
/// LONGLONG(21) NOT_NULL BINARY; DOUBLE 23/31. The per-node SUM(i) is
/// NEWDECIMAL(33, 0), SUM(d) NEWDECIMAL(34, 2). (MariaDB sends no NUM flag.)
#[test]
fn output_columns_carry_mysql_result_types() {
    let cols = vec![
        count_col("COUNT(*)"),
        decimal_col("AVG(i)", 33, 0),
        decimal_col("AVG(d)", 34, 2),
        varchar_col("COUNT(DISTINCT s)"),
        double_col("AVG(g)"),
        count_col("ci"),
        count_col("cd"),
        count_col("cg"),
    ];
    let spec = MergeSpec {
        visible_columns: 5,
        aggregates: vec![
            agg(0, AggregateFunction::Count),
            agg(
                1,
                AggregateFunction::Avg {
                    count_column: 5,
                    scale: 4,
                },
            ),
            agg(
                2,
                AggregateFunction::Avg {
                    count_column: 6,
                    scale: 4,
                },
            ),
            agg(3, AggregateFunction::CountDistinct),
            agg(
                4,
                AggregateFunction::Avg {
                    count_column: 7,
                    scale: 4,
                },
            ),
        ],
        ..MergeSpec::default()
    };
    let out = output_columns(&plan(&spec), &cols);
    let shape: Vec<(u8, u32, u8, u16, u16)> = out
        .iter()
        .map(|c| (c.col_type, c.length, c.decimals, c.flags, c.charset))
        .collect();
    let bin = colflag::BINARY;
    let count_flags = colflag::NOT_NULL | colflag::NUM | colflag::BINARY;
    assert_eq!(
        shape,
        vec![
            (coltype::LONGLONG, 21, 0, count_flags, 63),
            (coltype::NEWDECIMAL, 16, 4, bin, 63),
            (coltype::NEWDECIMAL, 16, 6, bin, 63),
            (coltype::LONGLONG, 21, 0, bin | colflag::NOT_NULL, 63),
            (coltype::DOUBLE, 23, 31, bin, 63),
        ]
    );
    assert_eq!(out[3].name, "COUNT(DISTINCT s)");
}

fn grouped_spec(order_by: Vec<SortKey>) -> MergeSpec {
    MergeSpec {
        visible_columns: 4,
        group_by: vec![0],
        aggregates: vec![
            agg(1, AggregateFunction::Count),
            agg(2, AggregateFunction::Sum),
            agg(
                3,
                AggregateFunction::Avg {
                    count_column: 4,
                    scale: 4,
                },
            ),
        ],
        order_by,
        ..MergeSpec::default()
    }
}

fn grouped_cols() -> Vec<ColumnDef> {
    vec![
        varchar_col("g"),
        count_col("c"),
        decimal_col("s", 33, 0),
        decimal_col("a", 33, 0),
        count_col("ac"),
    ]
}

#[test]
fn group_by_streams_when_groups_arrive_sorted_and_hashes_otherwise() {
    let spec = grouped_spec(vec![key(0, false)]);
    let nodes = [
        vec![
            vec![None, Some("1"), None, None, Some("0")],
            vec![Some("a"), Some("2"), Some("3"), Some("3"), Some("2")],
            vec![Some("c"), Some("1"), Some("-1"), Some("-1"), Some("1")],
        ],
        vec![
            vec![Some("A"), Some("1"), Some("4"), Some("4"), Some("1")],
            vec![Some("b"), Some("1"), Some("1"), Some("1"), Some("1")],
        ],
    ];
    let cols = grouped_cols();
    let defs = vec![cols.clone(), cols.clone()];
    assert_eq!(
        Merger::new(&plan(&presorted(&spec)), &defs)
            .unwrap()
            .description(),
        "MergeSort(1 keys) -> OrderedAggregate"
    );
    assert_eq!(
        Merger::new(&plan(&spec), &defs).unwrap().description(),
        "Gather -> HashAggregate -> MemorySort"
    );
    let expected = owned(&[
        vec![None, Some("1"), None, None],
        vec![Some("a"), Some("3"), Some("7"), Some("2.3333")],
        vec![Some("b"), Some("1"), Some("1"), Some("1.0000")],
        vec![Some("c"), Some("1"), Some("-1"), Some("-1.0000")],
    ]);
    assert_eq!(run(&presorted(&spec), &cols, &nodes).unwrap(), expected);
    assert_eq!(run(&spec, &cols, &nodes).unwrap(), expected);
    // Ordered by an aggregate instead: hash grouping, then a sort on the results.
    let by_sum = grouped_spec(vec![key(2, true)]);
    assert_eq!(
        Merger::new(&plan(&presorted(&by_sum)), &defs)
            .unwrap()
            .description(),
        "Gather -> HashAggregate -> MemorySort"
    );
    let out = run(&by_sum, &cols, &nodes).unwrap();
    let names: Vec<Option<&str>> = out.iter().map(|r| r[0].as_deref()).collect();
    assert_eq!(names, vec![Some("a"), Some("b"), Some("c"), None]);
}

#[test]
fn having_distinct_order_and_limit_apply_after_aggregation() {
    let mut spec = grouped_spec(vec![key(1, true), key(0, false)]);
    spec.having = Some(Predicate::Compare {
        column: 1,
        op: CompareOp::Ge,
        literal: Literal::Number("2".into()),
    });
    spec.limit = Some(2);
    spec.offset = 1;
    let nodes = [
        vec![
            vec![Some("x"), Some("5"), Some("5"), Some("5"), Some("5")],
            vec![Some("y"), Some("1"), Some("1"), Some("1"), Some("1")],
            vec![Some("z"), Some("2"), Some("2"), Some("2"), Some("2")],
        ],
        vec![
            vec![Some("Y"), Some("3"), Some("3"), Some("3"), Some("3")],
            vec![Some("w"), Some("1"), Some("1"), Some("1"), Some("1")],
        ],
    ];
    let out = run(&spec, &grouped_cols(), &nodes).unwrap();
    // Groups: x 5, y 4, z 2, w 1 -> HAVING c >= 2 -> ORDER BY c DESC -> OFFSET 1 LIMIT 2.
    let names: Vec<(Option<&str>, Option<&str>)> = out
        .iter()
        .map(|r| (r[0].as_deref(), r[1].as_deref()))
        .collect();
    assert_eq!(names, vec![(Some("y"), Some("4")), (Some("z"), Some("2"))]);
}

/// `SELECT *, n` style layout: helper columns first, every column from
/// `visible_start` on is sent.
#[test]
fn select_star_layout_sends_the_columns_after_the_helpers() {
    let cols = vec![int_col("sort_helper"), varchar_col("a"), int_col("b")];
    let spec = MergeSpec {
        visible_to_end: true,
        visible_start: 1,
        distinct: true,
        order_by: vec![key(0, true)],
        ..MergeSpec::default()
    };
    let out = run(
        &spec,
        &cols,
        &[
            vec![
                vec![Some("9"), Some("x"), Some("1")],
                vec![Some("1"), Some("y"), None],
            ],
            vec![vec![Some("5"), Some("X"), Some("1")]],
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        owned(&[vec![Some("x"), Some("1")], vec![Some("y"), None]])
    );
    let names: Vec<String> = output_columns(&plan(&spec), &cols)
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    let bad = MergeSpec {
        visible_start: 3,
        ..spec
    };
    assert!(matches!(
        Merger::new(&plan(&bad), &[cols]),
        Err(MergeError::InvalidSpec(_))
    ));
}

#[test]
fn select_distinct_across_nodes_with_order() {
    let cols = vec![varchar_col("s")];
    let spec = MergeSpec {
        visible_columns: 1,
        distinct: true,
        order_by: vec![key(0, false)],
        ..MergeSpec::default()
    };
    let out = run(
        &spec,
        &cols,
        &[
            vec![vec![Some("a")], vec![Some("b")]],
            vec![vec![Some("A")], vec![Some("B ")], vec![Some("c")]],
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        owned(&[vec![Some("a")], vec![Some("b")], vec![Some("c")]])
    );
}

#[test]
fn aggregates_without_group_by_give_one_row() {
    let cols = vec![count_col("c"), decimal_col("s", 34, 2)];
    let spec = MergeSpec {
        visible_columns: 2,
        aggregates: vec![
            agg(0, AggregateFunction::Count),
            agg(1, AggregateFunction::Sum),
        ],
        ..MergeSpec::default()
    };
    let out = run(
        &spec,
        &cols,
        &[
            vec![vec![Some("2"), Some("1.50")]],
            vec![vec![Some("0"), None]],
            vec![vec![Some("3"), Some("-0.25")]],
        ],
    )
    .unwrap();
    assert_eq!(out, owned(&[vec![Some("5"), Some("1.25")]]));
}

#[test]
fn a_failed_merge_stays_failed() {
    let cols = vec![int_col("n")];
    let spec = MergeSpec {
        visible_columns: 1,
        order_by: vec![key(0, false)],
        ..MergeSpec::default()
    };
    let mut merger = Merger::new(&plan(&spec), &[cols]).unwrap();
    merger.push(0, payload(&[Some("2")])).unwrap();
    merger.push(0, payload(&[Some("1")])).unwrap();
    assert_eq!(merger.next_step(), Ok(Step::Row(payload(&[Some("2")]))));
    assert_eq!(merger.next_step(), Err(MergeError::OutOfOrder { node: 0 }));
    assert!(merger.next_step().is_err());
    assert!(merger.push(0, payload(&[Some("3")])).is_err());
    assert_eq!(merger.memory_used(), 0);
}

/// One group's reference answer: (key, COUNT(*), COUNT(x), SUM(x), MIN, MAX, AVG).
type Reference = (
    String,
    u64,
    u64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// The utf8mb4_general_ci key of the test's ASCII group names.
fn norm(g: &str) -> String {
    g.trim_end_matches(' ').to_ascii_uppercase()
}

fn reference(rows: &[(String, Option<i64>)]) -> Vec<Reference> {
    let mut groups: Vec<(String, Vec<Option<i64>>)> = Vec::new();
    for (g, x) in rows {
        match groups.iter_mut().find(|(k, _)| norm(k) == norm(g)) {
            Some((_, xs)) => xs.push(*x),
            None => groups.push((g.clone(), vec![*x])),
        }
    }
    groups.sort_by_key(|a| norm(&a.0));
    groups
        .into_iter()
        .map(|(g, xs)| {
            let vals: Vec<i64> = xs.iter().flatten().copied().collect();
            let sum = (!vals.is_empty()).then(|| vals.iter().sum::<i64>());
            let avg = sum.map(|s| {
                let scaled = i128::from(s) * 10_000;
                let c = vals.len() as i128;
                let mut q = scaled / c;
                if (scaled % c).abs() * 2 >= c {
                    q += scaled.signum();
                }
                let sign = if q < 0 { "-" } else { "" };
                format!("{sign}{}.{:04}", q.abs() / 10_000, q.abs() % 10_000)
            });
            (
                norm(&g),
                xs.len() as u64,
                vals.len() as u64,
                sum,
                vals.iter().min().copied(),
                vals.iter().max().copied(),
                avg,
            )
        })
        .collect()
}

proptest! {
    /// Combining per-node partial aggregates equals aggregating the union of the rows,
    /// with ordered (streaming) and hash grouping alike.
    #[test]
    fn aggregate_combination_equals_aggregating_the_union(
        rows in proptest::collection::vec(
            (proptest::sample::select(vec!["a", "A", "b", "B ", "c"]), proptest::option::of(-50i64..50), 0usize..3),
            0..40),
        ordered in any::<bool>(),
    ) {
        let cols = vec![
            varchar_col("g"), count_col("c"), count_col("cx"), decimal_col("s", 33, 0),
            int_col("mn"), int_col("mx"), decimal_col("a", 33, 0), count_col("ac"),
        ];
        let spec = MergeSpec {
            visible_columns: 7,
            group_by: vec![0],
            aggregates: vec![
                agg(1, AggregateFunction::Count),
                agg(2, AggregateFunction::Count),
                agg(3, AggregateFunction::Sum),
                agg(4, AggregateFunction::Min),
                agg(5, AggregateFunction::Max),
                agg(6, AggregateFunction::Avg { count_column: 7, scale: 4 }),
            ],
            order_by: if ordered { vec![key(0, false)] } else { vec![] },
            ..MergeSpec::default()
        };
        // Per-node partials, each node's groups sorted by key as MariaDB returns them.
        let mut nodes: Vec<Vec<Bytes>> = Vec::new();
        for n in 0..3 {
            let mine: Vec<(String, Option<i64>)> = rows
                .iter()
                .filter(|r| r.2 == n)
                .map(|r| (r.0.to_string(), r.1))
                .collect();
            let partial = reference(&mine);
            let mut payloads = Vec::new();
            for (g, c, cx, s, mn, mx, _) in partial {
                let first = mine
                    .iter()
                    .find(|(k, _)| norm(k) == g)
                    .map(|(k, _)| k.clone())
                    .unwrap_or(g);
                let txt = |v: Option<i64>| v.map(|v| v.to_string());
                let values = [
                    Some(first), Some(c.to_string()), Some(cx.to_string()), txt(s),
                    txt(mn), txt(mx), txt(s), Some(cx.to_string()),
                ];
                let refs: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
                payloads.push(payload(&refs));
            }
            nodes.push(payloads);
        }
        let defs = vec![cols.clone(); 3];
        let spec = MergeSpec { presorted_groups: ordered, ..spec };
        let out = merge_all(&plan(&spec), &defs, nodes).unwrap();
        let mut got: Vec<Vec<Option<String>>> = out.iter().map(|p| decode_payload(p, 7)).collect();
        for row in &mut got {
            row[0] = row[0].as_deref().map(norm);
        }
        if !ordered {
            got.sort_by(|a, b| a[0].cmp(&b[0]));
        }
        let all: Vec<(String, Option<i64>)> = rows.iter().map(|r| (r.0.to_string(), r.1)).collect();
        let expected: Vec<Vec<Option<String>>> = reference(&all)
            .into_iter()
            .map(|(g, c, cx, s, mn, mx, avg)| {
                let txt = |v: Option<i64>| v.map(|v| v.to_string());
                vec![Some(g), Some(c.to_string()), Some(cx.to_string()), txt(s), txt(mn), txt(mx), avg]
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}

/// Rows queued from the nodes count against the budget too: a grouping that spills
/// keeps to half of it, so the next row can always be queued. 4 nodes of 10,000
/// (value, COUNT, SUM) rows under a 1 MiB budget, grouped by the value and not.
#[test]
fn spilling_groupings_leave_room_for_the_rows_queued_below() {
    let cols = [varchar_col("g"), count_col("c"), decimal_col("s", 34, 2)];
    let names: Vec<Vec<String>> = (0..4)
        .map(|n| (0..10_000).map(|i| format!("key-{}", i * 4 + n)).collect())
        .collect();
    let nodes: Vec<Vec<Vec<Option<&str>>>> = names
        .iter()
        .map(|ns| {
            ns.iter()
                .map(|g| vec![Some(g.as_str()), Some("2"), Some("1.50")])
                .collect()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let options = || MergeOptions {
        memory: MemoryBudget::new(1 << 20),
        spill: Some(Spill::new(dir.path(), 1 << 30, None)),
        ..MergeOptions::default()
    };
    let count_distinct = MergeSpec {
        visible_columns: 3,
        aggregates: vec![
            agg(0, AggregateFunction::CountDistinct),
            agg(1, AggregateFunction::Count),
            agg(2, AggregateFunction::Sum),
        ],
        ..MergeSpec::default()
    };
    assert_eq!(
        run_with(&count_distinct, &cols, &nodes, options()).unwrap(),
        owned(&[vec![Some("40000"), Some("80000"), Some("60000.00")]])
    );
    let grouped = MergeSpec {
        visible_columns: 3,
        group_by: vec![0],
        aggregates: vec![
            agg(1, AggregateFunction::Count),
            agg(2, AggregateFunction::Sum),
        ],
        ..MergeSpec::default()
    };
    let out = run_with(&grouped, &cols, &nodes, options()).unwrap();
    assert_eq!(out.len(), 40_000);
    assert!(out
        .iter()
        .all(|r| r[1].as_deref() == Some("2") && r[2].as_deref() == Some("1.50")));
}

/// DISTINCT spills only when its rows come in no order: over a merge of sorted streams
/// (ORDER BY) spilling would send rows out of order, so the budget still fails it.
#[test]
fn select_distinct_spills_only_over_unordered_rows() {
    let cols = vec![varchar_col("s")];
    let names: Vec<Vec<String>> = (0..2)
        .map(|n| {
            (0..3000)
                .map(|i| format!("name-{:05}", i * 2 + n))
                .collect()
        })
        .collect();
    let nodes: Vec<Vec<Vec<Option<&str>>>> = names
        .iter()
        .map(|ns| ns.iter().map(|s| vec![Some(s.as_str())]).collect())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let options = || MergeOptions {
        memory: MemoryBudget::new(128 << 10),
        spill: Some(Spill::new(dir.path(), 1 << 30, None)),
        ..MergeOptions::default()
    };
    let unordered = MergeSpec {
        visible_columns: 1,
        distinct: true,
        ..MergeSpec::default()
    };
    let mut out = run_with(&unordered, &cols, &nodes, options()).unwrap();
    out.sort();
    let mut expected: Vec<Vec<Option<String>>> =
        names.concat().into_iter().map(|s| vec![Some(s)]).collect();
    expected.sort();
    assert_eq!(out, expected);
    let ordered = MergeSpec {
        order_by: vec![key(0, false)],
        ..unordered
    };
    assert_eq!(
        run_with(&ordered, &cols, &nodes, options()),
        Err(MergeError::MemoryBudgetExceeded { budget: 128 << 10 })
    );
}
