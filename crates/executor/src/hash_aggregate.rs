//! HashAggregate: grouping when the node streams are not sorted by the group keys. Every
//! partial row is added to its group in a hash table keyed by the group columns'
//! collation keys (values equal under the collation are one group; the group keeps the
//! first spelling seen, as MySQL keeps the first row's). Without GROUP BY there is
//! exactly one group, even over no rows. The groups are charged to the memory budget.
//!
//! Past the budget, a grouping with a spill directory goes to disk in the grace style of
//! the hash join: every group in memory is written as one partial row of its running
//! state (`aggregate/partial_state.rs`; its COUNT(DISTINCT) values follow in rows of
//! their own) into partition files chosen by a hash of its key, and every later input row follows into its key's partition; once the input
//! ends, each partition is grouped alone, its groups come out, and the next is loaded.
//! A group's rows all land in one partition, in arrival order behind its state, so it
//! aggregates exactly as in memory (first spelling, GROUP_CONCAT's order). A partition
//! still too large is split again with another hash, at most `MAX_DEPTH` times.
//! Once it can spill the table keeps to half the budget (the rest stays for the rows
//! queued below and the partitions' buffers), as the sort does.
//! Groups come out in first-seen order in memory and partition by partition once
//! spilled: a plan that needs an order sorts above (`lower.rs`). Without GROUP BY the
//! one group cannot be partitioned; its COUNT(DISTINCT) values go to disk on their own
//! (`distinct_count.rs`). Still refused with 1114 at the budget:
//! a single group whose other state alone passes the budget, and a group whose
//! COUNT(DISTINCT) set alone passes it.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;

use crate::aggregate::{Aggregation, GroupState};
use crate::distinct_count::DistinctValues;
use crate::error::MergeError;
use crate::layout::KeySpec;
use crate::memory::{MemoryBudget, Reservation, ENTRY_OVERHEAD};
use crate::operator::{Context, Operator, Pull};
use crate::row::Row;
use crate::spill::{tagged, untag, Partitions, Spill, SpillReader, MAX_DEPTH};

/// The groups in memory, in first-seen order.
#[derive(Debug)]
struct GroupTable {
    index: HashMap<Box<[u8]>, usize>,
    groups: Vec<Option<(GroupState, usize)>>,
    /// The next group to come out.
    next: usize,
    memory: Reservation,
    /// Bytes the groups may hold: half the budget when they can spill (the rest stays
    /// for the rows queued below and the partitions' buffers), else all of it.
    share: usize,
}

impl GroupTable {
    /// Adds a row (a state row when `tag` is given) to its group. On
    /// `MemoryBudgetExceeded` the row is in the table all the same, uncharged: the
    /// caller spills the table or fails.
    fn add(
        &mut self,
        aggregation: &Aggregation,
        key: Box<[u8]>,
        row: Row,
        tag: Option<&[u8]>,
    ) -> Result<(), MergeError> {
        if let Some(&i) = self.index.get(&key) {
            let Some((state, size)) = self.groups.get_mut(i).and_then(Option::as_mut) else {
                return Err(MergeError::InvalidSpec("lost a group".into()));
            };
            if let Some(tag) = tag.filter(|t| Aggregation::is_value_tag(t)) {
                let grown = aggregation.add_value_row(state, tag, &row)?;
                self.memory.grow_within(grown, self.share)?;
                *size += grown;
                return Ok(());
            }
            let grown = aggregation.accumulate(state, &row)?;
            if let Some(tag) = tag {
                aggregation.restore(state, tag);
            }
            self.memory.grow_within(grown, self.share)?;
            *size += grown;
            return Ok(());
        }
        if tag.is_some_and(Aggregation::is_value_tag) {
            return Err(MergeError::SpillIo(
                "a spilled COUNT(DISTINCT) value before its group".into(),
            ));
        }
        let (mut state, size) = aggregation.start(row.detached())?;
        if let Some(tag) = tag {
            aggregation.restore(&mut state, tag);
        }
        let size = size + key.len() + ENTRY_OVERHEAD;
        self.index.insert(key, self.groups.len());
        self.groups.push(Some((state, size)));
        self.memory.grow_within(size, self.share)
    }

    /// Takes every group out in first-seen order (the memory given back).
    fn take_all(&mut self) -> Vec<GroupState> {
        self.index = HashMap::new();
        self.next = 0;
        self.memory.shrink(self.memory.held());
        std::mem::take(&mut self.groups)
            .into_iter()
            .flatten()
            .map(|(state, _)| state)
            .collect()
    }

    /// The next group to finish, after the input ended.
    fn next_group(&mut self) -> Option<GroupState> {
        self.index = HashMap::new();
        while let Some(slot) = self.groups.get_mut(self.next) {
            self.next += 1;
            if let Some((state, size)) = slot.take() {
                self.memory.shrink(size);
                return Some(state);
            }
        }
        None
    }
}

/// Hash grouping over an unordered input.
#[derive(Debug)]
pub(crate) struct HashAggregate {
    child: Box<dyn Operator>,
    key: KeySpec,
    grouped: bool,
    aggregation: Aggregation,
    table: GroupTable,
    /// Where to spill past the budget; None: fail there.
    spill: Option<Spill>,
    budget: MemoryBudget,
    /// The partitions being written while the input is read, once spilled.
    spilled: Option<Partitions>,
    /// Without GROUP BY: the COUNT(DISTINCT) values written to disk, once spilled.
    distinct_values: Option<DistinctValues>,
    /// Partitions waiting to be grouped, with the times each was split.
    work: Vec<(SpillReader, usize)>,
    /// Values in an input row.
    width: usize,
    /// Groups output so far (numbers rows for warnings).
    emitted: u64,
    /// Partitions split again so far (for the debug log).
    splits: usize,
    drained: bool,
    done: bool,
}

impl HashAggregate {
    /// Groups `child`'s rows by `key` (`grouped` false: one group for everything);
    /// past `budget` the groups go to `spill` when given and the aggregates allow it.
    pub fn new(
        child: Box<dyn Operator>,
        key: KeySpec,
        grouped: bool,
        aggregation: Aggregation,
        budget: &MemoryBudget,
        spill: Option<Spill>,
    ) -> Self {
        let spill = spill.filter(|_| grouped || aggregation.has_distinct());
        Self {
            child,
            key,
            grouped,
            aggregation,
            table: GroupTable {
                index: HashMap::new(),
                groups: Vec::new(),
                next: 0,
                memory: budget.reservation(),
                share: if spill.is_some() {
                    budget.limit() / 2
                } else {
                    usize::MAX
                },
            },
            spill,
            budget: budget.clone(),
            spilled: None,
            distinct_values: None,
            work: Vec::new(),
            width: 0,
            emitted: 0,
            splits: 0,
            drained: false,
            done: false,
        }
    }

    /// Adds an input row: to its group, or to its partition once spilled.
    fn absorb(&mut self, row: Row) -> Result<(), MergeError> {
        self.width = row.len();
        let key = self.key.key(&row)?;
        if let Some(parts) = &mut self.spilled {
            return parts.add(Some(&key), &tagged(None, Some(&row)));
        }
        match self.table.add(&self.aggregation, key, row, None) {
            Err(MergeError::MemoryBudgetExceeded { budget }) if !self.grouped => {
                if self.spill_distinct_values()? {
                    Ok(())
                } else {
                    Err(MergeError::MemoryBudgetExceeded { budget })
                }
            }
            Err(MergeError::MemoryBudgetExceeded { .. }) if self.spill.is_some() => {
                tracing::debug!(
                    groups = self.table.groups.len(),
                    "hash aggregate spills its groups"
                );
                self.spilled = Some(self.spill_table()?);
                Ok(())
            }
            other => other,
        }
    }

    /// Without GROUP BY: empties the group's COUNT(DISTINCT) sets to disk; false when
    /// there is no spill or nothing to empty.
    fn spill_distinct_values(&mut self) -> Result<bool, MergeError> {
        let Some(spill) = &self.spill else {
            return Ok(false);
        };
        let Some((state, size)) = self.table.groups.first_mut().and_then(Option::as_mut) else {
            return Ok(false);
        };
        let (sets, bytes) = self.aggregation.take_distinct(state);
        if bytes == 0 {
            return Ok(false);
        }
        *size = size.saturating_sub(bytes);
        self.table.memory.shrink(bytes);
        let budget = &self.budget;
        self.distinct_values
            .get_or_insert_with(|| DistinctValues::new(spill.clone(), budget.clone()))
            .write(sets)?;
        Ok(true)
    }

    /// Without GROUP BY, once the input ended: counts the COUNT(DISTINCT) values on
    /// disk (with those still in memory) into the group.
    fn count_distinct_values(&mut self) -> Result<(), MergeError> {
        if self.distinct_values.is_none() {
            return Ok(());
        }
        self.spill_distinct_values()?;
        let Some(values) = self.distinct_values.take() else {
            return Ok(());
        };
        let counts = values.count()?;
        if let Some((state, _)) = self.table.groups.first_mut().and_then(Option::as_mut) {
            self.aggregation.add_distinct_counts(state, &counts);
        }
        Ok(())
    }

    /// Writes every group in memory as a state row into new partitions.
    fn spill_table(&mut self) -> Result<Partitions, MergeError> {
        let spill = self
            .spill
            .as_ref()
            .ok_or_else(|| MergeError::Misuse("spilling a grouping without a spill".into()))?;
        let states = self.table.take_all();
        let mut parts = Partitions::new(spill, RandomState::new(), &self.budget)?;
        for state in states {
            let rows = self.aggregation.state_rows(&state)?;
            let Some((first, _)) = rows.first() else {
                continue;
            };
            let key = self.key.key(first)?;
            for (row, tag) in &rows {
                parts.add(Some(&key), &tagged(Some(tag), Some(row)))?;
            }
        }
        Ok(parts)
    }

    /// Groups a partition's rows in the table, or splits it again when they do not fit.
    fn load(&mut self, mut reader: SpillReader, depth: usize) -> Result<(), MergeError> {
        self.table.take_all();
        while let Some(written) = reader.next_row()? {
            let (tag, row) = untag(&written, self.width)?;
            let row =
                row.ok_or_else(|| MergeError::SpillIo("a spilled group without its row".into()))?;
            let key = self.key.key(&row)?;
            match self.table.add(&self.aggregation, key, row, tag.as_deref()) {
                Ok(()) => {}
                Err(MergeError::MemoryBudgetExceeded { budget }) => {
                    if depth >= MAX_DEPTH {
                        self.table.take_all();
                        return Err(MergeError::MemoryBudgetExceeded { budget });
                    }
                    self.splits += 1;
                    tracing::debug!(
                        depth,
                        splits = self.splits,
                        "hash aggregate splits a partition"
                    );
                    let mut parts = self.spill_table()?;
                    while let Some(written) = reader.next_row()? {
                        let (_, row) = untag(&written, self.width)?;
                        let row = row.ok_or_else(|| {
                            MergeError::SpillIo("a spilled group without its row".into())
                        })?;
                        parts.add(Some(&self.key.key(&row)?), &written)?;
                    }
                    let split = parts.finish(2)?;
                    self.work.extend(split.into_iter().map(|r| (r, depth + 1)));
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Operator for HashAggregate {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        while !self.drained {
            match self.child.pull(cx)? {
                Pull::Row(row) => self.absorb(row)?,
                Pull::Need(demand) => return Ok(Pull::Need(demand)),
                Pull::Done => {
                    self.drained = true;
                    self.count_distinct_values()?;
                    if let Some(parts) = self.spilled.take() {
                        self.work = parts.finish(2)?.into_iter().map(|r| (r, 0)).collect();
                    }
                }
            }
        }
        if self.done {
            return Ok(Pull::Done);
        }
        if !self.grouped && self.table.groups.is_empty() {
            self.done = true;
            return Ok(Pull::Row(self.aggregation.empty_result()));
        }
        loop {
            if let Some(state) = self.table.next_group() {
                self.emitted += 1;
                let row = self
                    .aggregation
                    .finish(state, self.emitted, &mut cx.warnings)?;
                return Ok(Pull::Row(row));
            }
            let Some((reader, depth)) = self.work.pop() else {
                self.done = true;
                self.table.take_all();
                return Ok(Pull::Done);
            };
            self.load(reader, depth)?;
        }
    }
}

#[cfg(test)]
mod tests;
