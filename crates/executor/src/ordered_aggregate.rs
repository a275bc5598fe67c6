//! OrderedAggregate: streaming grouping over a merge that is sorted by the group keys
//! (the plan's ORDER BY starts with exactly the GROUP BY columns, and each data node
//! returned its groups in that order). Rows of one group arrive together, so a group is
//! emitted as soon as a row of the next group appears: one group in memory at a time,
//! and LIMIT stops the merge early. The merge below checks every node's order strictly;
//! a group key that went backwards would split a group, so it is an error instead.

use crate::aggregate::{Aggregation, GroupState};
use crate::error::MergeError;
use crate::layout::KeySpec;
use crate::memory::{MemoryBudget, Reservation};
use crate::operator::{Context, Operator, Pull};

/// Streaming grouping over input sorted by the group keys.
#[derive(Debug)]
pub(crate) struct OrderedAggregate {
    child: Box<dyn Operator>,
    key: KeySpec,
    aggregation: Aggregation,
    current: Option<(Box<[u8]>, GroupState)>,
    emitted: u64,
    done: bool,
    memory: Reservation,
}

impl OrderedAggregate {
    /// Groups `child`'s rows, sorted by the `key` columns, into aggregated rows.
    pub fn new(
        child: Box<dyn Operator>,
        key: KeySpec,
        aggregation: Aggregation,
        budget: &MemoryBudget,
    ) -> Self {
        Self {
            child,
            key,
            aggregation,
            current: None,
            emitted: 0,
            done: false,
            memory: budget.reservation(),
        }
    }

    fn emit(&mut self, state: GroupState, cx: &mut Context) -> Result<Pull, MergeError> {
        self.memory.shrink(self.memory.held());
        self.emitted += 1;
        let row = self
            .aggregation
            .finish(state, self.emitted, &mut cx.warnings)?;
        Ok(Pull::Row(row))
    }
}

impl Operator for OrderedAggregate {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        if self.done {
            return Ok(Pull::Done);
        }
        loop {
            match self.child.pull(cx)? {
                Pull::Row(row) => {
                    let key = self.key.key(&row)?;
                    match &mut self.current {
                        Some((current_key, state)) if *current_key == key => {
                            let grown = self.aggregation.accumulate(state, &row)?;
                            self.memory.grow(grown)?;
                        }
                        _ => {
                            let (state, size) = self.aggregation.start(row)?;
                            let previous = self.current.replace((key, state));
                            let finished = match previous {
                                Some((_, finished)) => Some(self.emit(finished, cx)?),
                                None => None,
                            };
                            self.memory.grow(size)?;
                            if let Some(pull) = finished {
                                return Ok(pull);
                            }
                        }
                    }
                }
                Pull::Need(demand) => return Ok(Pull::Need(demand)),
                Pull::Done => {
                    self.done = true;
                    return match self.current.take() {
                        Some((_, state)) => self.emit(state, cx),
                        None => Ok(Pull::Done),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::test_support::{context, count_col, drain, owned, varchar_col, RowsSource};
    use strata_planner::{Aggregate, AggregateFunction, MergeSpec};

    fn run(rows: &[Vec<Option<&str>>]) -> Vec<Vec<Option<String>>> {
        let cols = [varchar_col("g"), count_col("c"), varchar_col("v")];
        let spec = MergeSpec {
            visible_columns: 3,
            group_by: vec![0],
            aggregates: vec![
                Aggregate {
                    column: 1,
                    function: AggregateFunction::Count,
                },
                Aggregate {
                    column: 2,
                    function: AggregateFunction::CountDistinct,
                },
            ],
            ..MergeSpec::default()
        };
        let layout = Layout::new(&cols, &cols, &[]);
        let aggregation = Aggregation::new(&spec.aggregates, &cols, &layout, 1024).unwrap();
        let key = KeySpec::new([0], |c| layout.node_kind(c)).unwrap();
        let budget = MemoryBudget::default();
        let mut op =
            OrderedAggregate::new(Box::new(RowsSource::new(rows)), key, aggregation, &budget);
        let out = drain(&mut op, &mut context()).unwrap();
        drop(op);
        assert_eq!(budget.used(), 0);
        out
    }

    #[test]
    fn adjacent_rows_of_a_group_combine_and_groups_stream_out() {
        // Rows as a merge of two nodes sorted by g would deliver them, with COUNT(DISTINCT v)
        // partials as (g, v) rows.
        let out = run(&[
            vec![None, Some("1"), Some("x")],
            vec![Some("a"), Some("2"), Some("x")],
            vec![Some("A"), Some("1"), Some("y")],
            vec![Some("a"), Some("3"), Some("X")],
            vec![Some("b"), Some("1"), None],
        ]);
        assert_eq!(
            out,
            owned(&[
                vec![None, Some("1"), Some("1")],
                vec![Some("a"), Some("6"), Some("2")],
                vec![Some("b"), Some("1"), Some("0")],
            ])
        );
    }

    #[test]
    fn no_rows_give_no_groups() {
        assert!(run(&[]).is_empty());
    }
}
