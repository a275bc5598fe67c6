//! A group's running state written back as one partial row, for a grouping that spills
//! (`hash_aggregate`): the row has the per-node rows' format (COUNT's count, SUM's exact
//! sum, AVG's sum and count, MIN/MAX's bytes, GROUP_CONCAT's text, the BIT result), so
//! adding it to a group is adding one more node's partial, and the group comes out as if
//! it had never left memory. The one fact a partial row cannot carry, that a
//! GROUP_CONCAT was already cut (warning 1260 is still owed), goes in a tag beside it.
//! COUNT(DISTINCT)'s set of values is not one value, so such an aggregation does not
//! spill this way; without GROUP BY its values go to disk on their own
//! (`distinct_count.rs`) and come back as a count.

use std::collections::{HashMap, HashSet};

use super::{Acc, Aggregation, Combine, GroupState, Number};

/// COUNT(DISTINCT) sets taken out of a group: per aggregate (its position), the keys of
/// its values.
pub(crate) type DistinctSets = Vec<(usize, HashSet<Box<[u8]>>)>;
use crate::error::MergeError;
use crate::memory::ENTRY_OVERHEAD;
use crate::row::Row;

/// Tag byte of an aggregate whose state needs nothing restored.
const PLAIN: u8 = b'0';
/// Tag byte of a GROUP_CONCAT that was cut at `group_concat_max_len`.
const CUT: u8 = b'1';

impl Aggregation {
    /// Whether every aggregate's state fits in one partial row (not COUNT(DISTINCT)'s).
    pub fn spillable(&self) -> bool {
        !self
            .aggs
            .iter()
            .any(|(_, c)| matches!(c, Combine::CountDistinct { .. }))
    }

    /// The group's state as a partial row (its first row's other values kept) and the
    /// tag to restore with [`Aggregation::restore`].
    pub fn state_row(&self, state: &GroupState) -> Result<(Row, Vec<u8>), MergeError> {
        let mut replace: Vec<(usize, Option<Vec<u8>>)> = Vec::with_capacity(self.aggs.len());
        let mut tag = Vec::with_capacity(self.aggs.len());
        for ((column, combine), acc) in self.aggs.iter().zip(&state.accs) {
            let mut mark = PLAIN;
            let value = match (combine, acc) {
                (_, Acc::Count(total)) | (_, Acc::Bit(total)) => Some(total.to_string()),
                (_, Acc::Sum(total)) => total.as_ref().map(exact_text),
                (_, Acc::MinMax(best)) => {
                    let bytes = best.as_ref().and_then(|(_, b)| b.as_deref());
                    replace.push((*column, bytes.map(<[u8]>::to_vec)));
                    tag.push(mark);
                    continue;
                }
                (Combine::Avg { count_column, .. }, Acc::Avg { sum, count }) => {
                    replace.push((*count_column, Some(count.to_string().into_bytes())));
                    sum.as_ref().map(exact_text)
                }
                (_, Acc::GroupConcat { text, truncated }) => {
                    if *truncated {
                        mark = CUT;
                    }
                    replace.push((*column, text.clone()));
                    tag.push(mark);
                    continue;
                }
                (c, _) => {
                    return Err(MergeError::Unsupported(format!(
                        "spilling the state of {}",
                        c.name()
                    )))
                }
            };
            replace.push((*column, value.map(String::into_bytes)));
            tag.push(mark);
        }
        Ok((state.first.with_replaced(self.columns, &replace), tag))
    }

    /// Whether some aggregate is a COUNT(DISTINCT).
    pub fn has_distinct(&self) -> bool {
        !self.spillable()
    }

    /// Takes the values out of the group's COUNT(DISTINCT) sets: per aggregate (its
    /// position), its values' keys; and the bytes they were charged.
    pub fn take_distinct(&self, state: &mut GroupState) -> (DistinctSets, usize) {
        let mut bytes = 0;
        let mut sets = Vec::new();
        for (position, acc) in state.accs.iter_mut().enumerate() {
            if let Acc::CountDistinct(seen, _) = acc {
                let seen = std::mem::take(seen);
                bytes += seen.iter().map(|k| k.len() + ENTRY_OVERHEAD).sum::<usize>();
                sets.push((position, seen));
            }
        }
        (sets, bytes)
    }

    /// Adds the distinct values counted on disk (per aggregate position) to the group's
    /// COUNT(DISTINCT)s.
    pub fn add_distinct_counts(&self, state: &mut GroupState, counts: &HashMap<usize, u64>) {
        for (position, acc) in state.accs.iter_mut().enumerate() {
            if let (Acc::CountDistinct(_, on_disk), Some(n)) = (acc, counts.get(&position)) {
                *on_disk += n;
            }
        }
    }

    /// Restores in `state` what the tag of a state row it absorbed says.
    pub fn restore(&self, state: &mut GroupState, tag: &[u8]) {
        for (acc, mark) in state.accs.iter_mut().zip(tag) {
            if let (Acc::GroupConcat { truncated, .. }, &CUT) = (acc, mark) {
                *truncated = true;
            }
        }
    }
}

/// A running sum as text that parses back to the same value: a DECIMAL's exact digits,
/// a double's shortest round-trip form (not MariaDB's 15-digit print).
fn exact_text(n: &Number) -> String {
    match n {
        Number::Exact(d) => d.to_string(),
        Number::Float(f) => format!("{f:?}"),
    }
}
