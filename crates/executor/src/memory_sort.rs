//! MemorySort: ORDER BY over rows that do not arrive sorted (after cross-node
//! aggregation, the order may depend on aggregate values). It buffers its input, charged
//! to the memory budget, and sorts stably (ties keep input order). With a LIMIT it keeps
//! only the best `offset + limit` rows, so ORDER BY ... LIMIT n needs memory for n rows.

use crate::error::MergeError;
use crate::layout::SortSpec;
use crate::memory::{MemoryBudget, Reservation};
use crate::operator::{Context, Operator, Pull};
use crate::row::Row;
use crate::value::Value;

/// A buffered row: sort keys, arrival number (for stability), row, bytes charged.
type Buffered = (Vec<Value>, u64, Row, usize);

/// Sorts its whole input in memory.
#[derive(Debug)]
pub(crate) struct MemorySort {
    child: Box<dyn Operator>,
    spec: SortSpec,
    keep: Option<usize>,
    buffer: Vec<Buffered>,
    arrived: u64,
    sorted: Option<std::vec::IntoIter<Buffered>>,
    memory: Reservation,
}

impl MemorySort {
    /// Sorts `child` by `spec`; `keep` bounds the rows needed (offset + limit).
    pub fn new(
        child: Box<dyn Operator>,
        spec: SortSpec,
        keep: Option<usize>,
        budget: &MemoryBudget,
    ) -> Self {
        Self {
            child,
            spec,
            keep,
            buffer: Vec::new(),
            arrived: 0,
            sorted: None,
            memory: budget.reservation(),
        }
    }

    fn sort_and_trim(&mut self) {
        let spec = &self.spec;
        self.buffer
            .sort_by(|a, b| spec.compare(&a.0, &b.0).then(a.1.cmp(&b.1)));
        if let Some(keep) = self.keep {
            for dropped in self.buffer.drain(keep.min(self.buffer.len())..) {
                self.memory.shrink(dropped.3);
            }
        }
    }
}

impl Operator for MemorySort {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        while self.sorted.is_none() {
            match self.child.pull(cx)? {
                Pull::Row(row) => {
                    let keys = self.spec.decode(&row)?;
                    let size = row.heap_size() + keys.iter().map(Value::heap_size).sum::<usize>();
                    self.memory.grow(size)?;
                    self.buffer.push((keys, self.arrived, row, size));
                    self.arrived += 1;
                    if let Some(keep) = self.keep {
                        if self.buffer.len() >= keep.saturating_mul(2).max(1024) {
                            self.sort_and_trim();
                        }
                    }
                }
                Pull::Need(demand) => return Ok(Pull::Need(demand)),
                Pull::Done => {
                    self.sort_and_trim();
                    self.sorted = Some(std::mem::take(&mut self.buffer).into_iter());
                }
            }
        }
        match self.sorted.as_mut().and_then(Iterator::next) {
            Some((_, _, row, size)) => {
                self.memory.shrink(size);
                Ok(Pull::Row(row))
            }
            None => Ok(Pull::Done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::test_support::{context, drain, int_col, owned, RowsSource};

    fn run(
        rows: &[Vec<Option<&str>>],
        keep: Option<usize>,
        budget: &MemoryBudget,
    ) -> Result<Vec<Vec<Option<String>>>, MergeError> {
        let cols = [int_col("k"), int_col("tag")];
        let layout = Layout::new(&cols, &cols, &[]);
        let spec = SortSpec::new([(0, true)], |c| layout.output_kind(c))?;
        let mut op = MemorySort::new(Box::new(RowsSource::new(rows)), spec, keep, budget);
        drain(&mut op, &mut context())
    }

    #[test]
    fn sorts_stably_with_nulls_last_descending() {
        let rows = [
            vec![Some("1"), Some("a")],
            vec![None, Some("b")],
            vec![Some("3"), Some("c")],
            vec![Some("1"), Some("d")],
        ];
        assert_eq!(
            run(&rows, None, &MemoryBudget::default()).unwrap(),
            owned(&[
                vec![Some("3"), Some("c")],
                vec![Some("1"), Some("a")],
                vec![Some("1"), Some("d")],
                vec![None, Some("b")],
            ])
        );
    }

    #[test]
    fn a_limit_bounds_the_buffer() {
        let numbers: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        let rows: Vec<Vec<Option<&str>>> = numbers
            .iter()
            .map(|n| vec![Some(n.as_str()), None])
            .collect();
        let budget = MemoryBudget::new(400_000);
        assert!(run(&rows, None, &budget).is_err(), "5000 rows do not fit");
        let top = run(&rows, Some(3), &budget).unwrap();
        assert_eq!(
            top,
            owned(&[
                vec![Some("4999"), None],
                vec![Some("4998"), None],
                vec![Some("4997"), None]
            ])
        );
        assert_eq!(budget.used(), 0);
    }
}
