//! HashAggregate: grouping when the node streams are not sorted by the group keys. Every
//! partial row is added to its group in a hash table keyed by the group columns'
//! collation keys (values equal under the collation are one group; the group keeps the
//! first spelling seen, as MySQL keeps the first row's). Groups come out in the order
//! they were first seen once every node has finished. All groups are held in memory and
//! charged to the budget. Without GROUP BY there is exactly one group, even over no rows.

use std::collections::HashMap;

use crate::aggregate::{Aggregation, GroupState};
use crate::error::MergeError;
use crate::layout::KeySpec;
use crate::memory::{MemoryBudget, Reservation, ENTRY_OVERHEAD};
use crate::operator::{Context, Operator, Pull};

/// Hash grouping over an unordered input.
#[derive(Debug)]
pub(crate) struct HashAggregate {
    child: Box<dyn Operator>,
    key: KeySpec,
    grouped: bool,
    aggregation: Aggregation,
    index: HashMap<Box<[u8]>, usize>,
    groups: Vec<Option<(GroupState, usize)>>,
    drained: bool,
    done: bool,
    next: usize,
    memory: Reservation,
}

impl HashAggregate {
    /// Groups `child`'s rows by `key` (`grouped` false: one group for everything).
    pub fn new(
        child: Box<dyn Operator>,
        key: KeySpec,
        grouped: bool,
        aggregation: Aggregation,
        budget: &MemoryBudget,
    ) -> Self {
        Self {
            child,
            key,
            grouped,
            aggregation,
            index: HashMap::new(),
            groups: Vec::new(),
            drained: false,
            done: false,
            next: 0,
            memory: budget.reservation(),
        }
    }
}

impl Operator for HashAggregate {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        while !self.drained {
            match self.child.pull(cx)? {
                Pull::Row(row) => {
                    let key = self.key.key(&row)?;
                    match self.index.get(&key) {
                        Some(&i) => {
                            let Some((state, size)) =
                                self.groups.get_mut(i).and_then(Option::as_mut)
                            else {
                                return Err(MergeError::InvalidSpec("lost a group".into()));
                            };
                            let grown = self.aggregation.accumulate(state, &row)?;
                            self.memory.grow(grown)?;
                            *size += grown;
                        }
                        None => {
                            let (state, size) = self.aggregation.start(row)?;
                            let size = size + key.len() + ENTRY_OVERHEAD;
                            self.memory.grow(size)?;
                            self.index.insert(key, self.groups.len());
                            self.groups.push(Some((state, size)));
                        }
                    }
                }
                Pull::Need(demand) => return Ok(Pull::Need(demand)),
                Pull::Done => {
                    self.drained = true;
                    self.index = HashMap::new();
                }
            }
        }
        if self.done {
            return Ok(Pull::Done);
        }
        if !self.grouped && self.groups.is_empty() {
            self.done = true;
            return Ok(Pull::Row(self.aggregation.empty_result()));
        }
        while let Some(slot) = self.groups.get_mut(self.next) {
            self.next += 1;
            if let Some((state, size)) = slot.take() {
                self.memory.shrink(size);
                let row = self
                    .aggregation
                    .finish(state, self.next as u64, &mut cx.warnings)?;
                return Ok(Pull::Row(row));
            }
        }
        self.done = true;
        self.groups = Vec::new();
        self.memory.shrink(self.memory.held());
        Ok(Pull::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::test_support::{context, count_col, drain, owned, varchar_col, RowsSource};
    use strata_planner::{Aggregate, AggregateFunction, MergeSpec};

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
}
