//! The grace join gives exactly the in-memory join's rows (as a multiset: partitions
//! change the order), with NULL keys, duplicates, LEFT JOIN rows without a match and
//! strings equal under their collation.

use strata_planner::{HashJoin, JoinColumn, JoinKey, JoinSide, JoinStep, Scatter};
use strata_protocol::packets::ColumnDef;

use super::*;
use crate::test_support::{decode_payload, payload, varchar_col};

fn side(table: &str) -> JoinSide {
    JoinSide {
        table: table.into(),
        scatter: Scatter { parts: Vec::new() },
        collations: vec![Some(45), None],
    }
}

/// `a JOIN|LEFT JOIN b ON a.#0 = b.#0` over utf8mb4_general_ci keys; output a.#1, b.#1.
fn plan(outer: bool) -> HashJoin {
    HashJoin {
        probe: side("a"),
        steps: vec![JoinStep {
            outer,
            side: side("b"),
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

fn defs() -> Vec<ColumnDef> {
    vec![varchar_col("k"), varchar_col("v")]
}

/// Keys that collide under utf8mb4_general_ci ("k7", "K7", "k7 "), some NULL.
fn rows(n: usize, salt: usize, tag: &str) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let k = (i * salt) % (n / 3 + 1);
            let key = match i % 4 {
                0 => format!("k{k}"),
                1 => format!("K{k}"),
                2 => format!("k{k} "),
                _ => format!("k{k}"),
            };
            let key = (i % 17 != 0).then_some(key);
            let value = format!("{tag}{i}");
            Row::decode(payload(&[key.as_deref(), Some(&value)]), 2).expect("row")
        })
        .collect()
}

/// Joins `probe` with `build`, spilling past `budget` bytes when `spill` is given; the
/// joined rows sorted.
fn run(
    outer: bool,
    probe: &[Row],
    build: &[Row],
    budget: usize,
    spill: Option<Spill>,
) -> Result<Vec<Vec<Option<String>>>, MergeError> {
    let plan = plan(outer);
    let budget = MemoryBudget::new(budget);
    let table = SideTable::new(&defs(), &plan.steps[0].side.collations, &[0], &budget)?;
    let mut side = BuildSide::new(table, spill, &budget);
    for r in build {
        side.insert(r.clone())?;
    }
    let (table, grace) = side.finish(outer)?;
    let mut joiner = HashJoiner::new(&plan, vec![table], &[defs(), defs()], &budget)?;
    let mut out = Vec::new();
    match grace {
        None => {
            for r in probe {
                joiner.probe(r.clone())?;
                while let Some(p) = joiner.pop() {
                    out.push(decode_payload(&p, 2));
                }
            }
        }
        Some(mut grace) => {
            for r in probe {
                grace.add_probe(&joiner, r.clone())?;
            }
            while let Some(r) = grace.next_probe(&mut joiner)? {
                joiner.probe(r)?;
                while let Some(p) = joiner.pop() {
                    out.push(decode_payload(&p, 2));
                }
            }
        }
    }
    drop(joiner);
    assert_eq!(budget.used(), 0, "everything given back");
    out.sort();
    Ok(out)
}

#[test]
fn a_spilled_join_gives_the_in_memory_rows() {
    let probe = rows(3000, 7, "a");
    let build = rows(3000, 5, "b");
    for outer in [false, true] {
        let expected = run(outer, &probe, &build, 64 << 20, None).unwrap();
        assert!(expected.len() > 3000, "keys repeat: {}", expected.len());
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 1 << 30, None);
        // 128 KiB: the hashed side (about 600 KiB charged) splits, some partitions twice.
        let spilled = run(outer, &probe, &build, 128 << 10, Some(spill.clone())).unwrap();
        assert_eq!(spilled, expected, "outer: {outer}");
        assert!(
            run(outer, &probe, &build, 128 << 10, None).is_err(),
            "without a spill directory the budget is a hard limit"
        );
        assert_eq!(spill.used(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

#[test]
fn one_key_larger_than_the_budget_fails_after_the_last_split() {
    let probe = rows(10, 1, "a");
    let same: Vec<Row> = (0..5000)
        .map(|i| Row::decode(payload(&[Some("k1"), Some(&format!("b{i}"))]), 2).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let spill = Spill::new(dir.path(), 1 << 30, None);
    let err = run(false, &probe, &same, 128 << 10, Some(spill.clone())).unwrap_err();
    assert_eq!(
        err,
        MergeError::JoinPartitionTooLarge {
            budget: 128 << 10,
            depth: MAX_DEPTH
        }
    );
    assert_eq!(spill.used(), 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
