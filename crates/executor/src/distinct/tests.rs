use super::*;
use crate::layout::Layout;
use crate::spill::Spill;
use crate::test_support::{context, drain, int_col, owned, varchar_col, RowsSource};

/// Result rows as strings.
type Rows = Vec<Vec<Option<String>>>;

#[test]
fn rows_equal_under_collations_appear_once_with_the_first_spelling() {
    let cols = [varchar_col("s"), int_col("n")];
    let layout = Layout::new(&cols, &cols, &[]);
    let key = KeySpec::new([0, 1], |c| layout.output_kind(c)).unwrap();
    let rows = [
        vec![Some("a"), Some("1")],
        vec![Some("b"), Some("1")],
        vec![Some("A "), Some("1")],
        vec![Some("a"), Some("2")],
        vec![None, None],
        vec![None, None],
        vec![Some("B"), Some("01")],
    ];
    let mut op = Distinct::new(
        Box::new(RowsSource::new(&rows)),
        key,
        &MemoryBudget::default(),
        None,
    );
    assert_eq!(
        drain(&mut op, &mut context()).unwrap(),
        owned(&[
            vec![Some("a"), Some("1")],
            vec![Some("b"), Some("1")],
            vec![Some("a"), Some("2")],
            vec![None, None],
        ])
    );
}

#[test]
fn the_seen_set_is_bounded_by_the_budget() {
    let cols = [int_col("n")];
    let layout = Layout::new(&cols, &cols, &[]);
    let key = KeySpec::new([0], |c| layout.output_kind(c)).unwrap();
    let numbers: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let rows: Vec<Vec<Option<&str>>> = numbers.iter().map(|n| vec![Some(n.as_str())]).collect();
    let mut op = Distinct::new(
        Box::new(RowsSource::new(&rows)),
        key,
        &MemoryBudget::new(1000),
        None,
    );
    assert_eq!(
        drain(&mut op, &mut context()),
        Err(MergeError::MemoryBudgetExceeded { budget: 1000 })
    );
}

/// Rows (s VARCHAR utf8mb4_general_ci, n INT) with `distinct` distinct values, each
/// arriving several times spelt `v-N` first and `V-N ` later; a (NULL, NULL) row
/// follows every 97th.
fn repeated_rows(rows: usize, distinct: usize) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for i in 0..rows {
        let k = i % distinct;
        let s = if i < distinct {
            format!("v-{k}")
        } else {
            format!("V-{k} ")
        };
        out.push(vec![Some(s), Some((k % 10).to_string())]);
        if i % 97 == 0 {
            out.push(vec![None, None]);
        }
    }
    out
}

/// DISTINCT over `rows` under `budget`, spilling to `spill` when given; the rows and
/// the times a partition was split.
fn run_distinct(
    rows: &[Vec<Option<String>>],
    budget: &MemoryBudget,
    spill: Option<Spill>,
) -> Result<(Rows, usize), MergeError> {
    let cols = [varchar_col("s"), int_col("n")];
    let layout = Layout::new(&cols, &cols, &[]);
    let key = KeySpec::new([0, 1], |c| layout.output_kind(c))?;
    let borrowed: Vec<Vec<Option<&str>>> = rows
        .iter()
        .map(|r| r.iter().map(Option::as_deref).collect())
        .collect();
    let mut op = Distinct::new(Box::new(RowsSource::new(&borrowed)), key, budget, spill);
    let out = drain(&mut op, &mut context())?;
    assert_eq!(budget.used(), 0, "DISTINCT released its memory");
    Ok((out, op.splits))
}

#[test]
fn a_spilled_distinct_keeps_each_row_once_with_its_first_spelling() {
    let rows = repeated_rows(8000, 2500);
    let (mut expected, _) = run_distinct(&rows, &MemoryBudget::new(64 << 20), None).unwrap();
    assert_eq!(expected.len(), 2501, "2500 values and the NULL row");
    assert!(expected
        .iter()
        .all(|r| r[0].as_deref().is_none_or(|s| s.starts_with("v-"))));
    let budget = MemoryBudget::new(128 << 10);
    assert_eq!(
        run_distinct(&rows, &budget, None).map(|r| r.0.len()),
        Err(MergeError::MemoryBudgetExceeded { budget: 128 << 10 })
    );
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let (mut spilled, _) = run_distinct(&rows, &budget, Some(spill.clone())).unwrap();
    assert_eq!(spill.used(), 0, "the partitions are gone");
    expected.sort();
    spilled.sort();
    assert_eq!(spilled, expected);
}

#[test]
fn a_distinct_partition_too_large_is_split_again() {
    let rows = repeated_rows(6000, 3000);
    let (mut expected, _) = run_distinct(&rows, &MemoryBudget::new(64 << 20), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let (mut spilled, splits) =
        run_distinct(&rows, &MemoryBudget::new(64 << 10), Some(spill)).unwrap();
    assert!(splits >= 2, "{splits} splits");
    expected.sort();
    spilled.sort();
    assert_eq!(spilled, expected);
}
