//! The k-way merge of sorted runs on disk, for the sort that spilled (`memory_sort`).
//! Runs are kept in the order they were written; a tie between two runs' heads goes to
//! the earlier run, so a merge of runs that were each sorted stably is stable as a
//! whole. At most [`FAN_IN`] runs are read at once (each with its read buffer and one
//! row in memory, charged to the budget: fewer when half the budget does not hold
//! `FAN_IN` read buffers); more runs are first merged, the earliest ones together, into
//! longer runs.

use crate::error::MergeError;
use crate::layout::SortSpec;
use crate::memory::{Reservation, ENTRY_OVERHEAD};
use crate::row::Row;
use crate::spill::{Spill, SpillReader, IO_BUFFER};
use crate::value::Value;

/// Most runs merged at once.
pub const FAN_IN: usize = 16;

/// Runs merged at once under a budget of `limit` bytes: as many read buffers (and a
/// row each) as half the budget holds, at least two.
fn fan_in(limit: usize) -> usize {
    (limit / 2 / (IO_BUFFER + 1024)).clamp(2, FAN_IN)
}

/// A run's next row with its decoded sort keys and the bytes charged for it.
type Head = (Vec<Value>, Row, usize);

/// Merges sorted runs into one sorted stream.
#[derive(Debug)]
pub(crate) struct RunMerge {
    runs: Vec<SpillReader>,
    heads: Vec<Option<Head>>,
    memory: Reservation,
}

impl RunMerge {
    /// Merges `runs` (in the order they were written), first reducing them to at most
    /// `FAN_IN` by merging the earliest ones into new runs of `spill`.
    pub fn new(
        mut runs: Vec<SpillReader>,
        spec: &SortSpec,
        columns: usize,
        spill: &Spill,
        memory: Reservation,
    ) -> Result<RunMerge, MergeError> {
        let mut memory = memory;
        let fan_in = fan_in(memory.budget_limit());
        while runs.len() > fan_in {
            let rest = runs.split_off(fan_in);
            let mut merge = RunMerge::start(runs, spec, memory)?;
            let mut out = spill.create()?;
            while let Some(row) = merge.next(spec)? {
                out.write(&row)?;
            }
            memory = merge.into_memory();
            runs = std::iter::once(out.finish(columns)?).chain(rest).collect();
        }
        RunMerge::start(runs, spec, memory)
    }

    fn start(
        runs: Vec<SpillReader>,
        spec: &SortSpec,
        mut memory: Reservation,
    ) -> Result<RunMerge, MergeError> {
        memory.grow(runs.len() * IO_BUFFER)?;
        let mut merge = RunMerge {
            heads: (0..runs.len()).map(|_| None).collect(),
            runs,
            memory,
        };
        for run in 0..merge.runs.len() {
            merge.refill(run, spec)?;
        }
        Ok(merge)
    }

    fn refill(&mut self, run: usize, spec: &SortSpec) -> Result<(), MergeError> {
        let next = match self.runs.get_mut(run) {
            Some(reader) => reader.next_row()?,
            None => None,
        };
        let head = match next {
            Some(row) => {
                let keys = spec.decode(&row)?;
                let size = row.heap_size()
                    + keys.iter().map(Value::heap_size).sum::<usize>()
                    + ENTRY_OVERHEAD;
                self.memory.grow(size)?;
                Some((keys, row, size))
            }
            None => None,
        };
        if let Some(slot) = self.heads.get_mut(run) {
            *slot = head;
        }
        Ok(())
    }

    /// The next row in order; None when every run is read.
    pub fn next(&mut self, spec: &SortSpec) -> Result<Option<Row>, MergeError> {
        let mut best: Option<(usize, &Head)> = None;
        for (run, head) in self.heads.iter().enumerate() {
            let Some(head) = head else { continue };
            // Strictly less: on a tie the earlier run (earlier arrival) wins.
            if best.is_none_or(|(_, b)| spec.compare(&head.0, &b.0).is_lt()) {
                best = Some((run, head));
            }
        }
        let Some((run, _)) = best else {
            return Ok(None);
        };
        let Some((_, row, size)) = self.heads.get_mut(run).and_then(Option::take) else {
            return Ok(None);
        };
        self.memory.shrink(size);
        self.refill(run, spec)?;
        Ok(Some(row))
    }

    fn into_memory(mut self) -> Reservation {
        self.heads.clear();
        let held = self.memory.held();
        self.memory.shrink(held);
        self.memory
    }
}
