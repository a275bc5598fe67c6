//! Distinct: SELECT DISTINCT across data nodes. Each node already removed its own
//! duplicates; this removes rows that repeat across nodes, comparing the visible columns
//! under their collations (`'a'` and `'A '` are one row under utf8mb4_general_ci). The
//! first row seen is kept with its spelling, and rows stream through in input order, so
//! DISTINCT after an ordered merge keeps the order and LIMIT stops early. The set of keys
//! seen is charged to the memory budget.
//!
//! Past the budget, a DISTINCT whose input comes in no particular order (given a spill
//! directory by the merger) dedups the rest on disk: the keys of the rows already sent
//! go as markers into partition files chosen by a hash of the key, then every later row
//! into its key's partition; once the input ends each partition is read alone with a
//! fresh set (markers first, so a row already sent is not sent again), and one whose set
//! passes the budget is split again the same way, at most `MAX_DEPTH` times. A DISTINCT
//! over sorted input (ORDER BY merged from the nodes) must keep the order and still
//! fails with 1114 at the budget.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;

use crate::error::MergeError;
use crate::layout::KeySpec;
use crate::memory::{MemoryBudget, Reservation, ENTRY_OVERHEAD};
use crate::operator::{Context, Operator, Pull};
use crate::row::Row;
use crate::spill::{tagged, untag, Partitions, Spill, SpillReader, MAX_DEPTH};

/// Drops rows whose visible values equal an earlier row's.
#[derive(Debug)]
pub(crate) struct Distinct {
    child: Box<dyn Operator>,
    key: KeySpec,
    seen: HashSet<Box<[u8]>>,
    memory: Reservation,
    /// Where to spill past the budget; None: fail there.
    spill: Option<Spill>,
    /// The partitions being written while the input is read, once spilled.
    spilled: Option<Partitions>,
    /// Partitions waiting, with the times each was split.
    work: Vec<(SpillReader, usize)>,
    /// The partition being read, with the times it was split.
    current: Option<(SpillReader, usize)>,
    /// Values in an input row.
    width: usize,
    /// Partitions split again so far (for the debug log).
    splits: usize,
    drained: bool,
}

impl Distinct {
    /// Distinct rows of `child` by the `key` columns; past `budget` the rest go to
    /// `spill` when given (rows then come out of order).
    pub fn new(
        child: Box<dyn Operator>,
        key: KeySpec,
        budget: &MemoryBudget,
        spill: Option<Spill>,
    ) -> Self {
        Self {
            child,
            key,
            seen: HashSet::new(),
            memory: budget.reservation(),
            spill,
            spilled: None,
            work: Vec::new(),
            current: None,
            width: 0,
            splits: 0,
            drained: false,
        }
    }

    /// Records `key` as seen; false when the budget is full (the key is not kept).
    fn remember(&mut self, key: Box<[u8]>) -> Result<bool, MergeError> {
        // Half the budget when spilling is possible: the rest stays for the rows queued
        // below and the partitions' buffers.
        let share = match self.spill {
            Some(_) => self.memory.budget_limit() / 2,
            None => usize::MAX,
        };
        match self.memory.grow_within(key.len() + ENTRY_OVERHEAD, share) {
            Ok(()) => {
                self.seen.insert(key);
                Ok(true)
            }
            Err(MergeError::MemoryBudgetExceeded { .. }) if self.spill.is_some() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Empties the set into new partitions as markers of rows already sent.
    fn spill_seen(&mut self) -> Result<Partitions, MergeError> {
        let spill = self
            .spill
            .as_ref()
            .ok_or_else(|| MergeError::Misuse("spilling a DISTINCT without a spill".into()))?;
        let seen = std::mem::take(&mut self.seen);
        self.memory.shrink(self.memory.held());
        let budget = self.memory.budget().clone();
        let mut parts = Partitions::new(spill, RandomState::new(), &budget)?;
        for key in seen {
            parts.add(Some(&key), &tagged(Some(&key), None))?;
        }
        Ok(parts)
    }

    /// The next row of the spilled partitions not sent yet; None at the end.
    fn next_spilled(&mut self) -> Result<Option<Row>, MergeError> {
        loop {
            let Some((reader, depth)) = &mut self.current else {
                self.seen = HashSet::new();
                self.memory.shrink(self.memory.held());
                match self.work.pop() {
                    Some(next) => self.current = Some(next),
                    None => return Ok(None),
                }
                continue;
            };
            let depth = *depth;
            let Some(written) = reader.next_row()? else {
                self.current = None;
                continue;
            };
            let (key, row) = untag(&written, self.width)?;
            let key: Box<[u8]> = key
                .map(|k| Box::from(&k[..]))
                .ok_or_else(|| MergeError::SpillIo("a spilled row without its key".into()))?;
            if self.seen.contains(&key) {
                continue;
            }
            if self.remember(key.clone())? {
                if row.is_some() {
                    return Ok(row);
                }
                continue;
            }
            // The partition's set passed the budget: split what is left of it.
            if depth >= MAX_DEPTH {
                return Err(MergeError::MemoryBudgetExceeded {
                    budget: self.memory.budget_limit(),
                });
            }
            self.splits += 1;
            tracing::debug!(depth, splits = self.splits, "DISTINCT splits a partition");
            let mut parts = self.spill_seen()?;
            parts.add(Some(&key), &written)?;
            if let Some((mut reader, _)) = self.current.take() {
                while let Some(written) = reader.next_row()? {
                    parts.add(written.value(0), &written)?;
                }
            }
            let split = parts.finish(2)?;
            self.work.extend(split.into_iter().map(|r| (r, depth + 1)));
        }
    }
}

impl Operator for Distinct {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        while !self.drained {
            match self.child.pull(cx)? {
                Pull::Row(row) => {
                    let key = self.key.key(&row)?;
                    if let Some(parts) = &mut self.spilled {
                        parts.add(Some(&key), &tagged(Some(&key), Some(&row)))?;
                        continue;
                    }
                    if self.seen.contains(&key) {
                        continue;
                    }
                    if self.remember(key.clone())? {
                        return Ok(Pull::Row(row));
                    }
                    tracing::debug!(rows = self.seen.len(), "DISTINCT spills");
                    self.width = row.len();
                    let mut parts = self.spill_seen()?;
                    parts.add(Some(&key), &tagged(Some(&key), Some(&row)))?;
                    self.spilled = Some(parts);
                }
                Pull::Need(demand) => return Ok(Pull::Need(demand)),
                Pull::Done => {
                    self.drained = true;
                    match self.spilled.take() {
                        Some(parts) => {
                            self.work = parts.finish(2)?.into_iter().map(|r| (r, 0)).collect();
                        }
                        None => {
                            self.seen = HashSet::new();
                            self.memory.shrink(self.memory.held());
                            return Ok(Pull::Done);
                        }
                    }
                }
            }
        }
        Ok(match self.next_spilled()? {
            Some(row) => Pull::Row(row),
            None => Pull::Done,
        })
    }
}

#[cfg(test)]
mod tests;
