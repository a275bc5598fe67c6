//! The hash join's semantics as MariaDB answers them (each expectation is what
//! MariaDB 10.11 returns for the same rows joined in one database).

use strata_planner::{JoinKey, JoinSide, JoinStep, Scatter};

use super::*;
use crate::test_support::{decimal_col, decode_payload, int_col, payload, varchar_col};

/// utf8mb4_general_ci and utf8mb4_bin.
const GENERAL_CI: u16 = 45;
const BIN: u16 = 46;

fn side(table: &str, collations: Vec<Option<u16>>) -> JoinSide {
    JoinSide {
        table: table.into(),
        scatter: Scatter { parts: Vec::new() },
        collations,
    }
}

/// `a JOIN|LEFT JOIN b ON a.#0 = b.#0`, output a.#1, b.#1.
fn plan(outer: bool, collations: (Option<u16>, Option<u16>)) -> HashJoin {
    HashJoin {
        probe: side("a", vec![collations.0, None]),
        steps: vec![JoinStep {
            outer,
            side: side("b", vec![collations.1, None]),
            keys: vec![JoinKey {
                probe_side: 0,
                probe_column: 0,
                column: 0,
            }],
            lookup: None,
        }],
        output: vec![
            JoinColumn::Side {
                side: 0,
                column: 1,
                name: None,
            },
            JoinColumn::Side {
                side: 1,
                column: 1,
                name: None,
            },
        ],
    }
}

fn row(values: &[Option<&str>]) -> Row {
    Row::decode(payload(values), values.len()).expect("valid row")
}

/// Joins `probe` rows with `build` rows; the joined rows as text.
fn join(
    plan: &HashJoin,
    defs: (Vec<ColumnDef>, Vec<ColumnDef>),
    probe: &[[Option<&str>; 2]],
    build: &[[Option<&str>; 2]],
    budget: &MemoryBudget,
) -> Result<Vec<Vec<Option<String>>>, MergeError> {
    let mut table = SideTable::new(&defs.1, &plan.steps[0].side.collations, &[0], budget)?;
    for r in build {
        table.insert(row(r))?;
    }
    let mut joiner = HashJoiner::new(plan, vec![table], &[defs.0, defs.1], budget)?;
    let mut out = Vec::new();
    for r in probe {
        joiner.probe(row(r))?;
        while let Some(p) = joiner.pop() {
            out.push(decode_payload(&p, 2));
        }
    }
    Ok(out)
}

fn ints() -> (Vec<ColumnDef>, Vec<ColumnDef>) {
    (
        vec![int_col("k"), varchar_col("a")],
        vec![int_col("k"), varchar_col("b")],
    )
}

fn texts(rows: &[[Option<&str>; 2]]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
        .collect()
}

#[test]
fn null_keys_never_match_and_duplicates_multiply() {
    let budget = MemoryBudget::new(1 << 20);
    let probe = [
        [Some("1"), Some("a1")],
        [None, Some("a-null")],
        [Some("2"), Some("a2")],
    ];
    let build = [
        [Some("1"), Some("b1")],
        [Some("1"), Some("b1'")],
        [None, Some("b-null")],
        [Some("3"), Some("b3")],
    ];
    let inner = join(&plan(false, (None, None)), ints(), &probe, &build, &budget).unwrap();
    assert_eq!(
        inner,
        texts(&[[Some("a1"), Some("b1")], [Some("a1"), Some("b1'")]])
    );
    let left = join(&plan(true, (None, None)), ints(), &probe, &build, &budget).unwrap();
    assert_eq!(
        left,
        texts(&[
            [Some("a1"), Some("b1")],
            [Some("a1"), Some("b1'")],
            [Some("a-null"), None],
            [Some("a2"), None],
        ])
    );
    assert_eq!(
        budget.used(),
        0,
        "everything released once the join is dropped"
    );
}

#[test]
fn integers_match_decimals_of_the_same_value() {
    // MariaDB: SELECT ... FROM a JOIN b ON a.k = b.k with a.k INT 5, b.k DECIMAL 5.00.
    let budget = MemoryBudget::new(1 << 20);
    let defs = (
        vec![int_col("k"), varchar_col("a")],
        vec![decimal_col("k", 12, 2), varchar_col("b")],
    );
    let out = join(
        &plan(false, (None, None)),
        defs,
        &[[Some("5"), Some("a5")], [Some("-0"), Some("a0")]],
        &[
            [Some("5.00"), Some("b5")],
            [Some("0.00"), Some("b0")],
            [Some("5.01"), Some("x")],
        ],
        &budget,
    )
    .unwrap();
    assert_eq!(
        out,
        texts(&[[Some("a5"), Some("b5")], [Some("a0"), Some("b0")]])
    );
}

#[test]
fn strings_match_under_their_collation() {
    // utf8mb4_general_ci: 'ann' = 'ANN' = 'ann  ' (PAD SPACE).
    let budget = MemoryBudget::new(1 << 20);
    let defs = (
        vec![varchar_col("k"), varchar_col("a")],
        vec![varchar_col("k"), varchar_col("b")],
    );
    let out = join(
        &plan(false, (Some(GENERAL_CI), Some(GENERAL_CI))),
        defs.clone(),
        &[[Some("ann"), Some("a")]],
        &[
            [Some("ANN"), Some("b1")],
            [Some("ann  "), Some("b2")],
            [Some("anna"), Some("x")],
        ],
        &budget,
    )
    .unwrap();
    assert_eq!(
        out,
        texts(&[[Some("a"), Some("b1")], [Some("a"), Some("b2")]])
    );
    // Two collations: MySQL picks one by coercibility rules Strata does not follow.
    let refused = join(
        &plan(false, (Some(GENERAL_CI), Some(BIN))),
        defs,
        &[],
        &[],
        &budget,
    );
    assert!(
        matches!(refused, Err(MergeError::Unsupported(_))),
        "{refused:?}"
    );
}

#[test]
fn a_string_key_with_a_number_key_is_refused() {
    // MySQL compares them as numbers ('1abc' = 1): not a hashable key.
    let budget = MemoryBudget::new(1 << 20);
    let defs = (
        vec![varchar_col("k"), varchar_col("a")],
        vec![int_col("k"), varchar_col("b")],
    );
    let refused = join(
        &plan(false, (Some(GENERAL_CI), None)),
        defs,
        &[],
        &[],
        &budget,
    );
    assert!(
        matches!(refused, Err(MergeError::Unsupported(_))),
        "{refused:?}"
    );
}

#[test]
fn a_hashed_side_past_the_budget_is_an_error() {
    let budget = MemoryBudget::new(256);
    let build: Vec<[Option<&str>; 2]> = (0..20).map(|_| [Some("1"), Some("0123456789")]).collect();
    let err = join(&plan(false, (None, None)), ints(), &[], &build, &budget);
    assert_eq!(err, Err(MergeError::MemoryBudgetExceeded { budget: 256 }));
}

#[test]
fn sums_are_typed_as_mariadb_types_them() {
    // SUM(INT) is DECIMAL(32,0) (length 33); SUM(DECIMAL(10,2)) DECIMAL(32,2) (length 34).
    assert_eq!(sum_def(&int_col("x")).length, 33);
    let d = sum_def(&decimal_col("x", 12, 2));
    assert_eq!(
        (d.col_type, d.length, d.decimals),
        (coltype::NEWDECIMAL, 34, 2)
    );
}
