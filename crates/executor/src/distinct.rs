//! Distinct: SELECT DISTINCT across data nodes. Each node already removed its own
//! duplicates; this removes rows that repeat across nodes, comparing the visible columns
//! under their collations (`'a'` and `'A '` are one row under utf8mb4_general_ci). The
//! first row seen is kept with its spelling, and rows stream through in input order, so
//! DISTINCT after an ordered merge keeps the order and LIMIT stops early. The set of keys
//! seen is charged to the memory budget.

use std::collections::HashSet;

use crate::error::MergeError;
use crate::layout::KeySpec;
use crate::memory::{MemoryBudget, Reservation, ENTRY_OVERHEAD};
use crate::operator::{Context, Operator, Pull};

/// Drops rows whose visible values equal an earlier row's.
#[derive(Debug)]
pub(crate) struct Distinct {
    child: Box<dyn Operator>,
    key: KeySpec,
    seen: HashSet<Box<[u8]>>,
    memory: Reservation,
}

impl Distinct {
    /// Distinct rows of `child` by the `key` columns.
    pub fn new(child: Box<dyn Operator>, key: KeySpec, budget: &MemoryBudget) -> Self {
        Self {
            child,
            key,
            seen: HashSet::new(),
            memory: budget.reservation(),
        }
    }
}

impl Operator for Distinct {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        loop {
            match self.child.pull(cx)? {
                Pull::Row(row) => {
                    let key = self.key.key(&row)?;
                    if self.seen.contains(&key) {
                        continue;
                    }
                    self.memory.grow(key.len() + ENTRY_OVERHEAD)?;
                    self.seen.insert(key);
                    return Ok(Pull::Row(row));
                }
                other => return Ok(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::test_support::{context, drain, int_col, owned, varchar_col, RowsSource};

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
        );
        assert_eq!(
            drain(&mut op, &mut context()),
            Err(MergeError::MemoryBudgetExceeded { budget: 1000 })
        );
    }
}
