//! COUNT(DISTINCT) without GROUP BY past the memory budget: its one group's sets of
//! values cannot be split by group, so the values themselves go to disk. Each time the
//! budget is full the sets are emptied into partition files by a hash of (aggregate,
//! value key) — a value may be written several times, once per emptying — and once the
//! input ends each partition is read alone into a fresh set and its distinct values are
//! counted. A value's copies all land in one partition, so the counts of the partitions
//! add up to the number of distinct values (equal under the collation: the keys are
//! collation weights). A partition whose values do not fit is split again with another
//! hash, at most `MAX_DEPTH` times, and counted anew.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};

use crate::aggregate::DistinctSets;
use crate::error::MergeError;
use crate::memory::{MemoryBudget, ENTRY_OVERHEAD};
use crate::row::Row;
use crate::spill::{Partitions, Spill, SpillReader, MAX_DEPTH};

/// The values of COUNT(DISTINCT)s written to disk.
#[derive(Debug)]
pub(crate) struct DistinctValues {
    spill: Spill,
    budget: MemoryBudget,
    parts: Option<Partitions>,
}

/// A value as written: the aggregate's position (4 bytes) and the value's key.
fn entry(position: usize, key: &[u8]) -> Result<Vec<u8>, MergeError> {
    let position = u32::try_from(position)
        .map_err(|_| MergeError::Unsupported("more than 4G aggregates".into()))?;
    let mut entry = position.to_le_bytes().to_vec();
    entry.extend_from_slice(key);
    Ok(entry)
}

/// The aggregate position of a written value.
fn position_of(entry: &[u8]) -> Result<usize, MergeError> {
    entry
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .ok_or_else(|| MergeError::SpillIo("a spilled COUNT(DISTINCT) value is cut".into()))
}

impl DistinctValues {
    /// Values to write to `spill`, with partition buffers charged to `budget`.
    pub fn new(spill: Spill, budget: MemoryBudget) -> Self {
        Self {
            spill,
            budget,
            parts: None,
        }
    }

    /// Writes the values of the sets (per aggregate position) to disk.
    pub fn write(&mut self, sets: DistinctSets) -> Result<(), MergeError> {
        let parts = match &mut self.parts {
            Some(parts) => parts,
            None => self.parts.insert(Partitions::new(
                &self.spill,
                RandomState::new(),
                &self.budget,
            )?),
        };
        for (position, set) in sets {
            for key in set {
                let entry = entry(position, &key)?;
                parts.add(Some(&entry), &Row::from_values([Some(&entry[..])]))?;
            }
        }
        Ok(())
    }

    /// The number of distinct values written, per aggregate position.
    pub fn count(mut self) -> Result<HashMap<usize, u64>, MergeError> {
        let mut totals = HashMap::new();
        let Some(parts) = self.parts.take() else {
            return Ok(totals);
        };
        let mut work: Vec<(SpillReader, usize)> =
            parts.finish(1)?.into_iter().map(|r| (r, 0)).collect();
        while let Some((reader, depth)) = work.pop() {
            if let Some(counts) = self.count_partition(reader, depth, &mut work)? {
                for (position, n) in counts {
                    *totals.entry(position).or_insert(0) += n;
                }
            }
        }
        Ok(totals)
    }

    /// The distinct values of one partition per aggregate position, or None when it
    /// did not fit and was split into `work`.
    fn count_partition(
        &self,
        mut reader: SpillReader,
        depth: usize,
        work: &mut Vec<(SpillReader, usize)>,
    ) -> Result<Option<HashMap<usize, u64>>, MergeError> {
        let mut memory = self.budget.reservation();
        let mut seen: HashSet<Box<[u8]>> = HashSet::new();
        let mut counts = HashMap::new();
        while let Some(row) = reader.next_row()? {
            let value = row.value(0).ok_or_else(|| {
                MergeError::SpillIo("a spilled COUNT(DISTINCT) value is NULL".into())
            })?;
            if seen.contains(value) {
                continue;
            }
            match memory.grow_within(value.len() + ENTRY_OVERHEAD, self.budget.limit() / 2) {
                Ok(()) => {
                    *counts.entry(position_of(value)?).or_insert(0u64) += 1;
                    seen.insert(Box::from(value));
                }
                Err(MergeError::MemoryBudgetExceeded { budget }) => {
                    if depth >= MAX_DEPTH {
                        return Err(MergeError::MemoryBudgetExceeded { budget });
                    }
                    tracing::debug!(depth, "COUNT(DISTINCT) splits a partition of values");
                    memory.shrink(memory.held());
                    let mut parts = Partitions::new(&self.spill, RandomState::new(), &self.budget)?;
                    for key in std::mem::take(&mut seen) {
                        parts.add(Some(&key), &Row::from_values([Some(&key[..])]))?;
                    }
                    parts.add(Some(value), &row)?;
                    while let Some(row) = reader.next_row()? {
                        parts.add(row.value(0), &row)?;
                    }
                    work.extend(parts.finish(1)?.into_iter().map(|r| (r, depth + 1)));
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Some(counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_written_several_times_are_counted_once_per_aggregate() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 1 << 30, None);
        // 2,000 values of about 80 bytes each for aggregate 0 and 10 for aggregate 3:
        // more than the 32 KiB half of the budget a partition may hold, so partitions
        // are split before they are counted.
        let budget = MemoryBudget::new(64 << 10);
        let mut values = DistinctValues::new(spill.clone(), budget.clone());
        for round in 0..3 {
            let first: HashSet<Box<[u8]>> = (0..2000)
                .map(|i| format!("value-{i:04}").into_bytes().into_boxed_slice())
                .collect();
            let second: HashSet<Box<[u8]>> = (0..10 + round)
                .map(|i| format!("value-{i:04}").into_bytes().into_boxed_slice())
                .collect();
            values.write(vec![(0, first), (3, second)]).unwrap();
        }
        let counts = values.count().unwrap();
        assert_eq!(counts, HashMap::from([(0, 2000), (3, 12)]));
        assert_eq!((budget.used(), spill.used()), (0, 0));
    }
}
