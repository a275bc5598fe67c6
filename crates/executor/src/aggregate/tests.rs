use super::*;
use crate::test_support::{
    count_col, decimal_col, double_col, int_col, payload, texts, varchar_col,
};
use strata_planner::Aggregate;
use strata_planner::MergeSpec;

fn agg(column: usize, function: AggregateFunction) -> Aggregate {
    Aggregate { column, function }
}

/// Combines partial rows (all one group) and returns the output row.
fn combine(
    columns: &[ColumnDef],
    aggregates: Vec<Aggregate>,
    partials: &[Vec<Option<&str>>],
    max_len: usize,
) -> Result<(Vec<Option<String>>, Vec<MergeWarning>), MergeError> {
    let spec = MergeSpec {
        visible_columns: columns.len(),
        aggregates,
        ..MergeSpec::default()
    };
    let layout = Layout::new(columns, columns, &[]);
    let aggregation = Aggregation::new(&spec.aggregates, columns, &layout, max_len)?;
    let mut rows = partials
        .iter()
        .map(|p| Row::decode(payload(p), columns.len()).unwrap());
    let first = rows.next().unwrap();
    let (mut state, _) = aggregation.start(first)?;
    for row in rows {
        aggregation.accumulate(&mut state, &row)?;
    }
    let mut warnings = Vec::new();
    let row = aggregation.finish(state, 1, &mut warnings)?;
    Ok((texts(&row), warnings))
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// Single-table answers from MariaDB 10.11 over the union of the partials' rows:
/// `SELECT COUNT(*), SUM(i), SUM(d), MIN(i), MAX(d)` with i INT, d DECIMAL(10,2).
#[test]
fn count_sum_min_max_combine_exactly() {
    let cols = [
        count_col("c"),
        decimal_col("si", 33, 0),
        decimal_col("sd", 34, 2),
        int_col("mi"),
        decimal_col("md", 12, 2),
    ];
    let aggs = vec![
        agg(0, AggregateFunction::Count),
        agg(1, AggregateFunction::Sum),
        agg(2, AggregateFunction::Sum),
        agg(3, AggregateFunction::Min),
        agg(4, AggregateFunction::Max),
    ];
    let (row, _) = combine(
        &cols,
        aggs,
        &[
            vec![Some("2"), Some("3"), Some("3.75"), Some("1"), Some("2.50")],
            vec![Some("0"), None, None, None, None],
            vec![
                Some("1"),
                Some("-10"),
                Some("-0.05"),
                Some("-10"),
                Some("-0.05"),
            ],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(row, vec![s("3"), s("-7"), s("3.70"), s("-10"), s("2.50")]);
}

#[test]
fn sums_of_bigint_unsigned_do_not_overflow() {
    let cols = [decimal_col("s", 43, 0)];
    let (row, _) = combine(
        &cols,
        vec![agg(0, AggregateFunction::Sum)],
        &[
            vec![Some("18446744073709551615")],
            vec![Some("18446744073709551615")],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(row, vec![s("36893488147419103230")]);
}

#[test]
fn all_null_sums_stay_null_and_counts_zero() {
    let cols = [
        decimal_col("s", 33, 0),
        count_col("c"),
        decimal_col("a", 33, 0),
        count_col("ac"),
    ];
    let (row, _) = combine(
        &cols,
        vec![
            agg(0, AggregateFunction::Sum),
            agg(1, AggregateFunction::Count),
            agg(
                2,
                AggregateFunction::Avg {
                    count_column: 3,
                    scale: 4,
                },
            ),
        ],
        &[
            vec![None, Some("0"), None, Some("0")],
            vec![None, Some("0"), None, Some("0")],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(row, vec![None, s("0"), None, s("0")]);
}

/// MariaDB: over 32 rows with one i = 1 and d = 0.01, AVG(i) = 0.0313 and
/// AVG(d) = 0.000313 (DECIMAL(10,2): the SUM's 2 decimals + 4).
#[test]
fn avg_is_exact_sum_over_count_rounded_half_up() {
    let cols = [
        decimal_col("si", 33, 0),
        count_col("ci"),
        decimal_col("sd", 34, 2),
        count_col("cd"),
    ];
    let (row, _) = combine(
        &cols,
        vec![
            agg(
                0,
                AggregateFunction::Avg {
                    count_column: 1,
                    scale: 4,
                },
            ),
            agg(
                2,
                AggregateFunction::Avg {
                    count_column: 3,
                    scale: 4,
                },
            ),
        ],
        &[
            vec![Some("1"), Some("10"), Some("0.01"), Some("10")],
            vec![Some("0"), Some("22"), Some("0.00"), Some("22")],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(&row[0], &s("0.0313"));
    assert_eq!(&row[2], &s("0.000313"));
}

/// MariaDB: `SELECT SUM(x) FROM (SELECT 1e0/3 x UNION ALL SELECT 2e0/3) q` gives 1;
/// `SELECT AVG(g)` of DOUBLE g = 2.5, 3.5 gives 3.
#[test]
fn double_sums_and_averages_print_like_mariadb() {
    let cols = [double_col("s"), double_col("a"), count_col("c")];
    let (row, _) = combine(
        &cols,
        vec![
            agg(0, AggregateFunction::Sum),
            agg(
                1,
                AggregateFunction::Avg {
                    count_column: 2,
                    scale: 4,
                },
            ),
        ],
        &[
            vec![Some("0.3333333333333333"), Some("2.5"), Some("1")],
            vec![Some("0.6666666666666666"), Some("3.5"), Some("1")],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(
        row,
        vec![s("1"), s("3"), s("2")],
        "the hidden count holds the total"
    );
}

#[test]
fn min_max_compare_by_collation_and_keep_the_first_spelling() {
    let cols = [varchar_col("mn"), varchar_col("mx")];
    let (row, _) = combine(
        &cols,
        vec![
            agg(0, AggregateFunction::Min),
            agg(1, AggregateFunction::Max),
        ],
        &[
            vec![Some("b"), Some("Y")],
            vec![Some("A"), Some("y")],
            vec![Some("a"), Some("X")],
            vec![None, None],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(row, vec![s("A"), s("Y")]);
}

#[test]
fn count_distinct_counts_values_equal_under_the_collation_once() {
    let cols = [varchar_col("v")];
    let (row, _) = combine(
        &cols,
        vec![agg(0, AggregateFunction::CountDistinct)],
        &[
            vec![Some("a")],
            vec![Some("b")],
            vec![Some("A ")],
            vec![None],
            vec![Some("B")],
            vec![Some("c")],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(row, vec![s("3")]);
}

/// MariaDB: `SET group_concat_max_len=5; SELECT GROUP_CONCAT(x)` over 'é','é','é'
/// gives 'é,é' (5 bytes) with warning 1260 "Row 1 was cut by GROUP_CONCAT()".
#[test]
fn group_concat_joins_partials_and_truncates_at_a_character_boundary() {
    let cols = [varchar_col("g")];
    let concat = || {
        vec![agg(
            0,
            AggregateFunction::GroupConcat {
                separator: ",".into(),
            },
        )]
    };
    let (row, warnings) = combine(
        &cols,
        concat(),
        &[vec![Some("é,é")], vec![None], vec![Some("é")]],
        5,
    )
    .unwrap();
    assert_eq!(row, vec![s("é,é")]);
    assert_eq!(
        warnings,
        vec![MergeWarning {
            code: 1260,
            message: "Row 1 was cut by GROUP_CONCAT()".into()
        }]
    );
    let (row, warnings) =
        combine(&cols, concat(), &[vec![Some("a")], vec![Some("b")]], 1024).unwrap();
    assert_eq!((row, warnings.len()), (vec![s("a,b")], 0));
    let (row, _) = combine(&cols, concat(), &[vec![None], vec![None]], 1024).unwrap();
    assert_eq!(row, vec![None]);
}

#[test]
fn avg_scale_follows_mariadb() {
    assert_eq!(avg_scale(0, 4), 4);
    assert_eq!(avg_scale(2, 4), 6);
    assert_eq!(avg_scale(6, 4), 10);
    assert_eq!(avg_scale(27, 4), 31);
    assert_eq!(avg_scale(35, 4), 38);
    assert_eq!(avg_scale(38, 4), 38);
}

#[test]
fn bit_aggregates_combine_partials_with_their_operation() {
    // Node 1 holds 12 and 10 (BIT_AND 8, BIT_OR 14, BIT_XOR 6), node 2 no rows (the
    // identities: BIT_AND 18446744073709551615, the others 0), node 3 holds 3.
    // MariaDB over 12, 10, 3: BIT_AND 0, BIT_OR 15, BIT_XOR 5.
    let cols = [count_col("a"), count_col("o"), count_col("x")];
    let aggs = || {
        vec![
            agg(0, AggregateFunction::Bit(BitOp::And)),
            agg(1, AggregateFunction::Bit(BitOp::Or)),
            agg(2, AggregateFunction::Bit(BitOp::Xor)),
        ]
    };
    let (row, _) = combine(
        &cols,
        aggs(),
        &[
            vec![Some("8"), Some("14"), Some("6")],
            vec![Some("18446744073709551615"), Some("0"), Some("0")],
            vec![Some("3"), Some("3"), Some("3")],
        ],
        1024,
    )
    .unwrap();
    assert_eq!(row, vec![s("0"), s("15"), s("5")]);
    let spec = MergeSpec {
        visible_columns: 3,
        aggregates: aggs(),
        ..MergeSpec::default()
    };
    let layout = Layout::new(&cols, &cols, &[]);
    let aggregation = Aggregation::new(&spec.aggregates, &cols, &layout, 1024).unwrap();
    assert_eq!(
        texts(&aggregation.empty_result()),
        vec![s("18446744073709551615"), s("0"), s("0")]
    );
    let err = combine(
        &cols,
        aggs(),
        &[vec![Some("-1"), Some("0"), Some("0")]],
        1024,
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::BadValue { column: 0, .. }));
}

#[test]
fn bad_partials_are_errors() {
    let cols = [count_col("c")];
    let err = combine(
        &cols,
        vec![agg(0, AggregateFunction::Count)],
        &[vec![Some("x")]],
        1024,
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::BadValue { column: 0, .. }));
    let cols = [varchar_col("s")];
    let err = combine(
        &cols,
        vec![agg(0, AggregateFunction::Sum)],
        &[vec![Some("1")]],
        1024,
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::InvalidSpec(_)));
}

#[test]
fn count_overflow_is_out_of_range() {
    let cols = [count_col("c")];
    let err = combine(
        &cols,
        vec![agg(0, AggregateFunction::Count)],
        &[vec![Some("9223372036854775807")], vec![Some("1")]],
        1024,
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::OutOfRange { what: "BIGINT", .. }));
}

#[test]
fn no_rows_without_group_by_give_zero_counts_and_nulls() {
    let cols = [varchar_col("g"), count_col("c"), decimal_col("s", 33, 0)];
    let spec = MergeSpec {
        visible_columns: 3,
        aggregates: vec![
            agg(1, AggregateFunction::Count),
            agg(2, AggregateFunction::Sum),
        ],
        ..MergeSpec::default()
    };
    let layout = Layout::new(&cols, &cols, &[]);
    let aggregation = Aggregation::new(&spec.aggregates, &cols, &layout, 1024).unwrap();
    assert_eq!(texts(&aggregation.empty_result()), vec![None, s("0"), None]);
}
