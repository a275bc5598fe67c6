use super::*;
use crate::layout::Layout;
use crate::spill::Spill;
use crate::test_support::{
    context, count_col, decimal_col, drain, int_col, owned, varchar_col, RowsSource,
};
use strata_planner::BitOp;
use strata_planner::{Aggregate, AggregateFunction, MergeSpec};

/// Result rows as strings.
type Rows = Vec<Vec<Option<String>>>;

fn run(
    rows: &[Vec<Option<&str>>],
    grouped: bool,
    budget: &MemoryBudget,
) -> Result<Vec<Vec<Option<String>>>, MergeError> {
    let cols = [varchar_col("g"), count_col("c")];
    let spec = MergeSpec {
        visible_columns: 2,
        group_by: if grouped { vec![0] } else { vec![] },
        aggregates: vec![Aggregate {
            column: 1,
            function: AggregateFunction::Count,
        }],
        ..MergeSpec::default()
    };
    let layout = Layout::new(&cols, &cols, &[]);
    let aggregation = Aggregation::new(&spec.aggregates, &cols, &layout, 1024)?;
    let key = KeySpec::new(spec.group_by.iter().copied(), |c| layout.node_kind(c))?;
    let mut op = HashAggregate::new(
        Box::new(RowsSource::new(rows)),
        key,
        grouped,
        aggregation,
        budget,
        None,
    );
    drain(&mut op, &mut context())
}

#[test]
fn groups_equal_under_the_collation_merge_and_keep_the_first_spelling() {
    let out = run(
        &[
            vec![Some("b"), Some("1")],
            vec![Some("A"), Some("2")],
            vec![None, Some("5")],
            vec![Some("a "), Some("3")],
            vec![Some("B"), Some("4")],
            vec![None, Some("1")],
        ],
        true,
        &MemoryBudget::default(),
    )
    .unwrap();
    assert_eq!(
        out,
        owned(&[
            vec![Some("b"), Some("5")],
            vec![Some("A"), Some("5")],
            vec![None, Some("6")],
        ])
    );
}

#[test]
fn without_group_by_there_is_one_row_even_over_nothing() {
    let budget = MemoryBudget::default();
    assert_eq!(
        run(&[], false, &budget).unwrap(),
        owned(&[vec![None, Some("0")]])
    );
    assert_eq!(
        run(
            &[vec![Some("x"), Some("2")], vec![Some("y"), Some("3")]],
            false,
            &budget
        )
        .unwrap(),
        owned(&[vec![Some("x"), Some("5")]])
    );
    assert_eq!(
        run(&[], true, &budget).unwrap(),
        Vec::<Vec<Option<String>>>::new()
    );
}

#[test]
fn too_many_groups_exceed_the_budget() {
    let names: Vec<String> = (0..100).map(|i| format!("group-{i}")).collect();
    let rows: Vec<Vec<Option<&str>>> = names
        .iter()
        .map(|n| vec![Some(n.as_str()), Some("1")])
        .collect();
    let budget = MemoryBudget::new(4096);
    assert_eq!(
        run(&rows, true, &budget),
        Err(MergeError::MemoryBudgetExceeded { budget: 4096 })
    );
    assert_eq!(budget.used(), 0, "the failed operator released its memory");
    assert_eq!(
        run(&rows, true, &MemoryBudget::new(1 << 20)).unwrap().len(),
        100
    );
}

/// Partial rows of many groups: g (VARCHAR, utf8mb4_general_ci), COUNT, SUM of
/// DECIMAL(10,2), MIN of VARCHAR, MAX of INT, AVG's SUM and COUNT, GROUP_CONCAT, BIT_OR.
/// A group's key is spelt `grp-N` first and `GRP-N ` later (one group under the
/// collation); every 49th row has a NULL key (the NULL group).
fn many_groups(rows: usize, groups: usize) -> Vec<Vec<Option<String>>> {
    (0..rows)
        .map(|i| {
            let g = i % groups;
            let key = if i % 49 == 0 {
                None
            } else if (i / groups).is_multiple_of(2) {
                Some(format!("grp-{g}"))
            } else {
                Some(format!("GRP-{g} "))
            };
            let cents = (i as i64 * 37) % 2001 - 1000;
            let sign = if cents < 0 { "-" } else { "" };
            let sum = format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100);
            let min = if i % 3 == 0 {
                format!("M{}", i % 7)
            } else {
                format!("m{}", i % 7)
            };
            vec![
                key,
                Some("2".into()),
                Some(sum.clone()),
                Some(min),
                Some((i % 1000).to_string()),
                Some(sum),
                Some("1".into()),
                (i % 11 != 0).then(|| format!("x{i}")),
                Some((1u64 << (i % 64)).to_string()),
            ]
        })
        .collect()
}

/// Groups `rows` (see `many_groups`) under `budget`, spilling to `spill` when given;
/// returns the rows, the warnings and the times a partition was split.
fn run_many(
    rows: &[Vec<Option<String>>],
    budget: &MemoryBudget,
    spill: Option<Spill>,
) -> Result<(Rows, usize, usize), MergeError> {
    let cols = [
        varchar_col("g"),
        count_col("c"),
        decimal_col("s", 34, 2),
        varchar_col("mn"),
        int_col("mx"),
        decimal_col("a", 34, 2),
        count_col("ac"),
        varchar_col("gc"),
        count_col("b"),
    ];
    let function = |column, function| Aggregate { column, function };
    let aggregates = vec![
        function(1, AggregateFunction::Count),
        function(2, AggregateFunction::Sum),
        function(3, AggregateFunction::Min),
        function(4, AggregateFunction::Max),
        function(
            5,
            AggregateFunction::Avg {
                count_column: 6,
                scale: 4,
            },
        ),
        function(
            7,
            AggregateFunction::GroupConcat {
                separator: ",".into(),
            },
        ),
        function(8, AggregateFunction::Bit(BitOp::Or)),
    ];
    let layout = Layout::new(&cols, &cols, &[]);
    // Short enough that the largest groups are cut (warning 1260).
    let aggregation = Aggregation::new(&aggregates, &cols, &layout, 40)?;
    let key = KeySpec::new([0], |c| layout.node_kind(c))?;
    let borrowed: Vec<Vec<Option<&str>>> = rows
        .iter()
        .map(|r| r.iter().map(Option::as_deref).collect())
        .collect();
    let mut op = HashAggregate::new(
        Box::new(RowsSource::new(&borrowed)),
        key,
        true,
        aggregation,
        budget,
        spill,
    );
    let mut cx = context();
    let out = drain(&mut op, &mut cx)?;
    assert_eq!(budget.used(), 0, "the grouping released its memory");
    Ok((out, cx.warnings.len(), op.splits))
}

#[test]
fn spilled_groups_aggregate_exactly_as_in_memory() {
    let rows = many_groups(6000, 900);
    let (mut expected, cut, _) = run_many(&rows, &MemoryBudget::new(64 << 20), None).unwrap();
    assert_eq!(expected.len(), 901, "900 groups and the NULL group");
    assert!(cut > 0, "some GROUP_CONCATs are cut");
    let budget = MemoryBudget::new(256 << 10);
    assert_eq!(
        run_many(&rows, &budget, None).map(|r| r.0.len()),
        Err(MergeError::MemoryBudgetExceeded { budget: 256 << 10 }),
        "the groups do not fit in the small budget"
    );
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let (mut spilled, spilled_cut, _) = run_many(&rows, &budget, Some(spill.clone())).unwrap();
    assert_eq!(spill.used(), 0, "the partitions are gone");
    expected.sort();
    spilled.sort();
    assert_same(&spilled, &expected);
    assert_eq!(spilled_cut, cut);
    let first = spilled.iter().find(|r| {
        r[0].as_deref()
            .is_some_and(|g| g.eq_ignore_ascii_case("grp-7"))
    });
    assert_eq!(
        first.map(|r| r[0].clone()),
        Some(Some("grp-7".into())),
        "the first spelling"
    );
}

#[test]
fn a_partition_too_large_is_split_again() {
    let rows = many_groups(2400, 1200);
    let (mut expected, _, _) = run_many(&rows, &MemoryBudget::new(64 << 20), None).unwrap();
    // Two partitions of about 250 KiB of groups each where the groups may hold 64 KiB
    // (half a 128 KiB budget): each is split again, twice.
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let (mut spilled, _, splits) =
        run_many(&rows, &MemoryBudget::new(128 << 10), Some(spill)).unwrap();
    assert!(splits >= 2, "{splits} splits");
    expected.sort();
    spilled.sort();
    assert_same(&spilled, &expected);
}

fn assert_same(spilled: &[Vec<Option<String>>], expected: &[Vec<Option<String>>]) {
    assert_eq!(spilled.len(), expected.len(), "groups");
    if let Some((a, b)) = spilled.iter().zip(expected).find(|(a, b)| a != b) {
        panic!("spilled {a:?}, in memory {b:?}");
    }
}

/// Groups rows of (g, v) by g when `grouped` (else one group) with COUNT(DISTINCT v)
/// and COUNT(*) (a per-node partial of 1 in column 2).
fn run_count_distinct(
    rows: &[Vec<Option<String>>],
    grouped: bool,
    budget: &MemoryBudget,
    spill: Option<Spill>,
) -> Result<Rows, MergeError> {
    let cols = [varchar_col("g"), varchar_col("v"), count_col("c")];
    let layout = Layout::new(&cols, &cols, &[]);
    let aggregates = [
        Aggregate {
            column: 1,
            function: AggregateFunction::CountDistinct,
        },
        Aggregate {
            column: 2,
            function: AggregateFunction::Count,
        },
    ];
    let group_by: &[usize] = if grouped { &[0] } else { &[] };
    let borrowed: Vec<Vec<Option<&str>>> = rows
        .iter()
        .map(|r| r.iter().map(Option::as_deref).collect())
        .collect();
    let mut op = HashAggregate::new(
        Box::new(RowsSource::new(&borrowed)),
        KeySpec::new(group_by.iter().copied(), |c| layout.node_kind(c))?,
        grouped,
        Aggregation::new(&aggregates, &cols, &layout, 1024)?,
        budget,
        spill,
    );
    let out = drain(&mut op, &mut context())?;
    assert_eq!(budget.used(), 0, "the grouping released its memory");
    Ok(out)
}

/// 12,000 (group, value) rows: 4,000 values spelt `value-N` and later `VALUE-N ` (one
/// value under the collation), a NULL value every 13th row, in groups `g-N` of 3.
fn distinct_values() -> Vec<Vec<Option<String>>> {
    (0..12_000)
        .map(|i| {
            let n = i % 4000;
            let v = if i % 13 == 0 {
                None
            } else if i < 4000 {
                Some(format!("value-{n}"))
            } else {
                Some(format!("VALUE-{n} "))
            };
            vec![Some(format!("g-{}", n / 3)), v, Some("1".into())]
        })
        .collect()
}

#[test]
fn count_distinct_without_group_by_counts_its_values_on_disk() {
    let rows = distinct_values();
    let expected = run_count_distinct(&rows, false, &MemoryBudget::new(64 << 20), None).unwrap();
    assert_eq!(expected.len(), 1);
    assert_eq!(
        expected[0][1..],
        [Some("4000".into()), Some("12000".into())]
    );
    let budget = MemoryBudget::new(256 << 10);
    assert_eq!(
        run_count_distinct(&rows, false, &budget, None),
        Err(MergeError::MemoryBudgetExceeded { budget: 256 << 10 })
    );
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let spilled = run_count_distinct(&rows, false, &budget, Some(spill.clone())).unwrap();
    assert_eq!(spilled, expected);
    assert_eq!(spill.used(), 0, "the value files are gone");
}

#[test]
fn count_distinct_with_group_by_spills_each_groups_values_behind_its_state() {
    let rows = distinct_values();
    let mut expected = run_count_distinct(&rows, true, &MemoryBudget::new(64 << 20), None).unwrap();
    assert_eq!(expected.len(), 1334);
    let budget = MemoryBudget::new(256 << 10);
    assert_eq!(
        run_count_distinct(&rows, true, &budget, None),
        Err(MergeError::MemoryBudgetExceeded { budget: 256 << 10 })
    );
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let mut spilled = run_count_distinct(&rows, true, &budget, Some(spill.clone())).unwrap();
    expected.sort();
    spilled.sort();
    assert_same(&spilled, &expected);
    assert_eq!(spill.used(), 0, "the partitions are gone");
}
