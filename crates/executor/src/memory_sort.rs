//! MemorySort: ORDER BY over rows that do not arrive sorted (after cross-node
//! aggregation, the order may depend on aggregate values; a join's rows). It buffers its
//! input, charged to the memory budget, and sorts stably (ties keep input order). With a
//! LIMIT it keeps only the best `offset + limit` rows, so ORDER BY ... LIMIT n needs
//! memory for n rows.
//!
//! With a spill directory, a buffer that would pass half the budget (the other half is
//! left to the operators below, such as a join loading its partitions) is sorted and
//! written out as a run, and the sort goes on; at the end the runs are merged
//! (`sorted_runs`). Without one, passing the budget fails with 1114.

use crate::error::MergeError;
use crate::layout::SortSpec;
use crate::memory::{MemoryBudget, Reservation};
use crate::operator::{Context, Operator, Pull};
use crate::row::Row;
use crate::sorted_runs::RunMerge;
use crate::spill::{Spill, SpillReader};
use crate::value::Value;

/// A buffered row: sort keys, arrival number (for stability), row, bytes charged.
type Buffered = (Vec<Value>, u64, Row, usize);

/// Where the sorted output comes from.
#[derive(Debug)]
enum Output {
    Memory(std::vec::IntoIter<Buffered>),
    Runs {
        merge: RunMerge,
        left: Option<usize>,
    },
}

/// Sorts its whole input, in memory or in runs on disk.
#[derive(Debug)]
pub(crate) struct MemorySort {
    child: Box<dyn Operator>,
    spec: SortSpec,
    keep: Option<usize>,
    buffer: Vec<Buffered>,
    arrived: u64,
    sorted: Option<Output>,
    memory: Reservation,
    spill: Option<Spill>,
    runs: Vec<SpillReader>,
    columns: usize,
}

impl MemorySort {
    /// Sorts `child` by `spec`; `keep` bounds the rows needed (offset + limit). With
    /// `spill`, runs go to disk instead of passing the budget.
    pub fn new(
        child: Box<dyn Operator>,
        spec: SortSpec,
        keep: Option<usize>,
        budget: &MemoryBudget,
        spill: Option<Spill>,
    ) -> Self {
        Self {
            child,
            spec,
            keep,
            buffer: Vec::new(),
            arrived: 0,
            sorted: None,
            memory: budget.reservation(),
            spill,
            runs: Vec::new(),
            columns: 0,
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

    /// Keeps `row`, spilling the buffer first when it would pass its share.
    fn buffer_row(&mut self, row: Row) -> Result<(), MergeError> {
        let keys = self.spec.decode(&row)?;
        let size = row.heap_size() + keys.iter().map(Value::heap_size).sum::<usize>();
        self.columns = row.len();
        if self.spill.is_some() {
            let share = self.memory.budget_limit() / 2;
            if self.memory.held() + size > share || self.memory.grow(size).is_err() {
                self.write_run()?;
                self.memory.grow(size)?;
            }
        } else {
            self.memory.grow(size)?;
        }
        self.buffer.push((keys, self.arrived, row.detached(), size));
        self.arrived += 1;
        if let Some(keep) = self.keep {
            if self.buffer.len() >= keep.saturating_mul(2).max(1024) {
                self.sort_and_trim();
            }
        }
        Ok(())
    }

    /// Sorts the buffer and writes it out as the next run.
    fn write_run(&mut self) -> Result<(), MergeError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let Some(spill) = self.spill.clone() else {
            return Ok(());
        };
        self.sort_and_trim();
        let mut run = spill.create()?;
        for (_, _, row, size) in std::mem::take(&mut self.buffer) {
            run.write(&row)?;
            self.memory.shrink(size);
        }
        tracing::debug!(
            rows = run.rows(),
            runs = self.runs.len() + 1,
            "sort spilled a run"
        );
        self.runs.push(run.finish(self.columns)?);
        Ok(())
    }

    fn finish_input(&mut self) -> Result<Output, MergeError> {
        if self.runs.is_empty() {
            self.sort_and_trim();
            return Ok(Output::Memory(std::mem::take(&mut self.buffer).into_iter()));
        }
        self.write_run()?;
        let Some(spill) = &self.spill else {
            return Err(MergeError::Misuse("sorted runs without a spill".into()));
        };
        let budget = self.memory.budget();
        let merge = RunMerge::new(
            std::mem::take(&mut self.runs),
            &self.spec,
            self.columns,
            spill,
            budget.reservation(),
        )?;
        Ok(Output::Runs {
            merge,
            left: self.keep,
        })
    }
}

impl Operator for MemorySort {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        while self.sorted.is_none() {
            match self.child.pull(cx)? {
                Pull::Row(row) => self.buffer_row(row)?,
                Pull::Need(demand) => return Ok(Pull::Need(demand)),
                Pull::Done => self.sorted = Some(self.finish_input()?),
            }
        }
        match &mut self.sorted {
            Some(Output::Memory(rows)) => match rows.next() {
                Some((_, _, row, size)) => {
                    self.memory.shrink(size);
                    Ok(Pull::Row(row))
                }
                None => Ok(Pull::Done),
            },
            Some(Output::Runs { merge, left }) => {
                if *left == Some(0) {
                    return Ok(Pull::Done);
                }
                match merge.next(&self.spec)? {
                    Some(row) => {
                        if let Some(left) = left {
                            *left -= 1;
                        }
                        Ok(Pull::Row(row))
                    }
                    None => Ok(Pull::Done),
                }
            }
            None => Ok(Pull::Done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::test_support::{context, drain, int_col, owned, varchar_col, RowsSource};

    fn run(
        rows: &[Vec<Option<&str>>],
        keep: Option<usize>,
        budget: &MemoryBudget,
    ) -> Result<Vec<Vec<Option<String>>>, MergeError> {
        let cols = [int_col("k"), int_col("tag")];
        let layout = Layout::new(&cols, &cols, &[]);
        let spec = SortSpec::new([(0, true)], |c| layout.output_kind(c))?;
        let mut op = MemorySort::new(Box::new(RowsSource::new(rows)), spec, keep, budget, None);
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

    /// Sorts `rows` (a utf8mb4_general_ci string, an integer) by the string then the
    /// integer descending, spilling into `dir` past `budget` bytes.
    fn sort_spilling(
        rows: &[Vec<Option<&str>>],
        keep: Option<usize>,
        budget: usize,
        spill: Option<Spill>,
    ) -> Result<Vec<Vec<Option<String>>>, MergeError> {
        let cols = [varchar_col("s"), int_col("n")];
        let layout = Layout::new(&cols, &cols, &[]);
        let spec = SortSpec::new([(0, false), (1, true)], |c| layout.output_kind(c))?;
        let budget = MemoryBudget::new(budget);
        let source = Box::new(RowsSource::new(rows));
        let mut op = MemorySort::new(source, spec, keep, &budget, spill);
        let out = drain(&mut op, &mut context());
        drop(op);
        assert_eq!(budget.used(), 0, "everything given back");
        out
    }

    /// Rows with ties, NULLs, and case and trailing-space variants (equal under
    /// utf8mb4_general_ci).
    fn awkward_rows(n: usize) -> Vec<Vec<String>> {
        let words = ["b", "A", "a", "a ", "B", "", "c", "\u{e9}", "e"];
        (0..n)
            .map(|i| {
                let word = words[(i * 7) % words.len()];
                let number = if i % 11 == 0 {
                    "NULL".into()
                } else {
                    (i % 5).to_string()
                };
                vec![word.to_string(), number]
            })
            .collect()
    }

    fn as_input(rows: &[Vec<String>]) -> Vec<Vec<Option<&str>>> {
        rows.iter()
            .map(|r| {
                let n = (r[1] != "NULL").then_some(r[1].as_str());
                vec![Some(r[0].as_str()), n]
            })
            .collect()
    }

    #[test]
    fn a_spilled_sort_gives_exactly_the_in_memory_order() {
        let rows = awkward_rows(20_000);
        let input = as_input(&rows);
        let expected = sort_spilling(&input, None, 64 << 20, None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 1 << 30, None);
        // 64 KiB: runs of a few hundred rows, more runs than one merge reads at once.
        let spilled = sort_spilling(&input, None, 64 << 10, Some(spill.clone())).unwrap();
        assert_eq!(spilled, expected);
        assert!(
            sort_spilling(&input, None, 64 << 10, None).is_err(),
            "without a spill directory the budget is a hard limit"
        );
        assert_eq!(spill.used(), 0, "every run was dropped");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_spilled_sort_is_stable() {
        // Every key equal: the output must be the input order, across runs.
        let tags: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        let rows: Vec<Vec<Option<&str>>> = tags
            .iter()
            .map(|t| vec![Some(t.as_str()), Some(t.as_str())])
            .collect();
        let cols = [int_col("k"), varchar_col("tag")];
        let layout = Layout::new(&cols, &cols, &[]);
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 1 << 30, None);
        let budget = MemoryBudget::new(64 << 10);
        // Sorting by a constant expression column: all ties.
        let spec = SortSpec::new([(1, false)], |c| layout.output_kind(c)).unwrap();
        let constant: Vec<Vec<Option<&str>>> =
            rows.iter().map(|r| vec![r[0], Some("same")]).collect();
        let mut op = MemorySort::new(
            Box::new(RowsSource::new(&constant)),
            spec,
            None,
            &budget,
            Some(spill),
        );
        let out = drain(&mut op, &mut context()).unwrap();
        let order: Vec<Option<String>> = out.into_iter().map(|r| r[0].clone()).collect();
        let expected: Vec<Option<String>> = tags.iter().cloned().map(Some).collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn a_limit_over_a_spilled_sort_returns_the_best_rows() {
        let rows = awkward_rows(8000);
        let input = as_input(&rows);
        let expected = sort_spilling(&input, Some(3000), 64 << 20, None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 1 << 30, None);
        let spilled = sort_spilling(&input, Some(3000), 64 << 10, Some(spill)).unwrap();
        assert_eq!(spilled.len(), 3000);
        assert_eq!(spilled, expected);
    }

    #[test]
    fn past_the_spill_cap_the_sort_fails_and_leaves_nothing() {
        let rows = awkward_rows(20_000);
        let input = as_input(&rows);
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 50_000, None);
        let err = sort_spilling(&input, None, 64 << 10, Some(spill.clone())).unwrap_err();
        assert_eq!(
            err,
            MergeError::SpillCapExceeded {
                cap: 50_000,
                setting: "merge.spill_cap"
            }
        );
        assert_eq!(spill.used(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
