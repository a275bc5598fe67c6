//! The grace hash join: what a one-step join does when its hashed side does not fit in
//! the memory budget. The rows read so far and every later row of the hashed side go
//! into partition files by a hash of their join key ([`BuildSide`]); the streamed side
//! is then read whole into partition files by the same hash ([`GraceJoin::add_probe`]);
//! then each partition's hashed rows are loaded into the join's table and its streamed
//! rows probe it ([`GraceJoin::next_probe`]). Rows that can match have equal canonical
//! keys, hence equal hashes, hence the same partition; so every partition joins alone,
//! with the in-memory join's semantics (NULL keys, collations, LEFT JOIN rows without a
//! match). A partition still too large is split again with another hash, at most
//! [`MAX_DEPTH`] times: past that one key has more rows than the budget holds and the
//! join fails with 1114. The output comes partition by partition: no order, as MySQL
//! promises none for a join without ORDER BY.

use std::collections::hash_map::RandomState;

use crate::error::MergeError;
use crate::hash_join::{HashJoiner, SideTable};
use crate::memory::MemoryBudget;
use crate::row::Row;
use crate::spill::{Partitions, Spill, SpillReader, MAX_DEPTH};

/// A one-step join's hashed side as it is read: in its table until the budget is full,
/// then (with a spill directory) in partition files.
#[derive(Debug)]
pub(crate) struct BuildSide {
    table: SideTable,
    spill: Option<Spill>,
    budget: MemoryBudget,
    spilled: Option<Partitions>,
}

impl BuildSide {
    /// Reads into `table`; `spill` is where to go past the budget (None: fail there).
    pub fn new(table: SideTable, spill: Option<Spill>, budget: &MemoryBudget) -> Self {
        Self {
            table,
            spill,
            budget: budget.clone(),
            spilled: None,
        }
    }

    /// The width of the side's rows.
    pub fn width(&self) -> usize {
        self.table.width()
    }

    /// Adds a row of the side.
    pub fn insert(&mut self, row: Row) -> Result<(), MergeError> {
        if let Some(parts) = &mut self.spilled {
            let key = self.table.key_of(&row)?;
            return parts.add(key.as_deref(), &row);
        }
        match (self.table.insert(row.clone()), &self.spill) {
            (Err(MergeError::MemoryBudgetExceeded { .. }), Some(spill)) => {
                let rows = self.table.take_rows();
                tracing::debug!(rows = rows.len(), "hash join spills its hashed side");
                let mut parts = Partitions::new(spill, RandomState::new(), &self.budget)?;
                for r in rows.iter().chain(std::iter::once(&row)) {
                    parts.add(self.table.key_of(r)?.as_deref(), r)?;
                }
                self.spilled = Some(parts);
                Ok(())
            }
            (result, _) => result,
        }
    }

    /// The side read: its table, and the grace join to run when it went to disk (the
    /// table is then empty, for the partitions to be loaded into).
    pub fn finish(self, outer: bool) -> Result<(SideTable, Option<GraceJoin>), MergeError> {
        let (Some(parts), Some(spill)) = (self.spilled, self.spill) else {
            return Ok((self.table, None));
        };
        let hasher = parts.hasher().clone();
        let build = parts.finish(self.table.width())?;
        let probe = Some(Partitions::new(&spill, hasher, &self.budget)?);
        let grace = GraceJoin {
            spill,
            budget: self.budget,
            outer,
            build_width: self.table.width(),
            probe_width: 0,
            build,
            probe,
            work: Vec::new(),
            current: None,
        };
        Ok((self.table, Some(grace)))
    }
}

/// A partition pair waiting to be joined: hashed rows, streamed rows, times split.
type Pending = (SpillReader, SpillReader, usize);

/// The partitions of a join whose hashed side went to disk, joined one at a time.
#[derive(Debug)]
pub(crate) struct GraceJoin {
    spill: Spill,
    budget: MemoryBudget,
    outer: bool,
    build_width: usize,
    probe_width: usize,
    /// The hashed side's partitions, until the streamed side is read.
    build: Vec<SpillReader>,
    /// The streamed side's partitions being written.
    probe: Option<Partitions>,
    work: Vec<Pending>,
    /// The streamed rows of the partition whose hashed rows are in the table.
    current: Option<SpillReader>,
}

impl GraceJoin {
    /// Adds a row of the streamed side (before `next_probe`).
    pub fn add_probe(&mut self, joiner: &HashJoiner, row: Row) -> Result<(), MergeError> {
        self.probe_width = row.len();
        let parts = self.probe.as_mut().ok_or_else(|| {
            MergeError::Misuse("a streamed row after the grace join started".into())
        })?;
        parts.add(joiner.probe_key(&row)?.as_deref(), &row)
    }

    /// The next streamed row to probe `joiner` with, after loading the next partition's
    /// hashed rows into its table when the current partition is done; None at the end.
    pub fn next_probe(&mut self, joiner: &mut HashJoiner) -> Result<Option<Row>, MergeError> {
        if let Some(parts) = self.probe.take() {
            let probe = parts.finish(self.probe_width)?;
            let build = std::mem::take(&mut self.build);
            self.work = build
                .into_iter()
                .zip(probe)
                .map(|(b, p)| (b, p, 0))
                .collect();
        }
        loop {
            if let Some(current) = &mut self.current {
                if let Some(row) = current.next_row()? {
                    return Ok(Some(row));
                }
                self.current = None;
            }
            let Some((build, probe, depth)) = self.work.pop() else {
                table(joiner)?.take_rows();
                return Ok(None);
            };
            // Without streamed rows nothing comes out; without hashed rows only a LEFT
            // JOIN's unmatched rows do.
            if probe.rows_left() == 0 || (build.rows_left() == 0 && !self.outer) {
                continue;
            }
            self.load(build, probe, depth, joiner)?;
        }
    }

    /// Loads a partition's hashed rows into the join's table, or splits the pair again
    /// when they do not fit.
    fn load(
        &mut self,
        mut build: SpillReader,
        probe: SpillReader,
        depth: usize,
        joiner: &mut HashJoiner,
    ) -> Result<(), MergeError> {
        let table = table(joiner)?;
        table.take_rows();
        while let Some(row) = build.next_row()? {
            match table.insert(row.clone()) {
                Ok(()) => {}
                Err(MergeError::MemoryBudgetExceeded { budget }) => {
                    if depth >= MAX_DEPTH {
                        table.take_rows();
                        return Err(MergeError::JoinPartitionTooLarge {
                            budget,
                            depth: MAX_DEPTH,
                        });
                    }
                    return self.split(row, build, probe, depth + 1, joiner);
                }
                Err(e) => return Err(e),
            }
        }
        self.current = Some(probe);
        Ok(())
    }

    /// Splits a partition pair with a new hash: the rows in the table, `row`, the
    /// hashed rows left in `build`, and the streamed rows of `probe`.
    fn split(
        &mut self,
        row: Row,
        mut build: SpillReader,
        mut probe: SpillReader,
        depth: usize,
        joiner: &mut HashJoiner,
    ) -> Result<(), MergeError> {
        let hasher = RandomState::new();
        let table = table(joiner)?;
        let loaded = table.take_rows();
        tracing::debug!(depth, "grace join splits a partition");
        let mut parts = Partitions::new(&self.spill, hasher.clone(), &self.budget)?;
        for r in loaded.iter().chain(std::iter::once(&row)) {
            parts.add(table.key_of(r)?.as_deref(), r)?;
        }
        drop(loaded);
        while let Some(r) = build.next_row()? {
            parts.add(table.key_of(&r)?.as_deref(), &r)?;
        }
        let builds = parts.finish(self.build_width)?;
        drop(build);
        let mut parts = Partitions::new(&self.spill, hasher, &self.budget)?;
        while let Some(r) = probe.next_row()? {
            parts.add(joiner.probe_key(&r)?.as_deref(), &r)?;
        }
        let probes = parts.finish(self.probe_width)?;
        self.work
            .extend(builds.into_iter().zip(probes).map(|(b, p)| (b, p, depth)));
        Ok(())
    }
}

fn table(joiner: &mut HashJoiner) -> Result<&mut SideTable, MergeError> {
    joiner
        .single_table()
        .ok_or_else(|| MergeError::Misuse("a grace join of several steps".into()))
}

#[cfg(test)]
mod tests;
