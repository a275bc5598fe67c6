//! A group's running state written back as one partial row, for a grouping that spills
//! (`hash_aggregate`): the row has the per-node rows' format (COUNT's count, SUM's exact
//! sum, AVG's sum and count, MIN/MAX's bytes, GROUP_CONCAT's text, the BIT result), so
//! adding it to a group is adding one more node's partial, and the group comes out as if
//! it had never left memory. The one fact a partial row cannot carry, that a
//! GROUP_CONCAT was already cut (warning 1260 is still owed), goes in a tag beside it.
//! COUNT(DISTINCT)'s set of values is not one value: the state row holds NULL there
//! (which adds nothing) and each value's key follows in a row of its own, tagged with
//! the aggregate, that goes straight into the group's set. Without GROUP BY the one
//! group's values go to disk on their own instead (`distinct_count.rs`) and come back
//! as a count.

use std::collections::{HashMap, HashSet};

use super::{Acc, Aggregation, Combine, GroupState, Number};
use crate::error::MergeError;
use crate::memory::ENTRY_OVERHEAD;
use crate::row::Row;

/// COUNT(DISTINCT) sets taken out of a group: per aggregate (its position), the keys of
/// its values.
pub(crate) type DistinctSets = Vec<(usize, HashSet<Box<[u8]>>)>;

/// First tag byte of a row holding one COUNT(DISTINCT) value's key (then the
/// aggregate's position, 4 bytes little-endian).
const VALUE: u8 = b'K';

/// Tag byte of an aggregate whose state needs nothing restored.
const PLAIN: u8 = b'0';
/// Tag byte of a GROUP_CONCAT that was cut at `group_concat_max_len`.
const CUT: u8 = b'1';

impl Aggregation {
    /// The group's state as rows with their tags: a partial row (its first row's other
    /// values kept; restore its tag with [`Aggregation::restore`]), then a row per
    /// COUNT(DISTINCT) value (add it with [`Aggregation::add_value_row`]).
    pub fn state_rows(&self, state: &GroupState) -> Result<Vec<(Row, Vec<u8>)>, MergeError> {
        let mut replace: Vec<(usize, Option<Vec<u8>>)> = Vec::with_capacity(self.aggs.len());
        let mut tag = Vec::with_capacity(self.aggs.len());
        let mut values = Vec::new();
        for (position, ((column, combine), acc)) in self.aggs.iter().zip(&state.accs).enumerate() {
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
                (_, Acc::CountDistinct(seen, _)) => {
                    let position = u32::try_from(position)
                        .map_err(|_| MergeError::Unsupported("more than 4G aggregates".into()))?;
                    let mut value_tag = vec![VALUE];
                    value_tag.extend_from_slice(&position.to_le_bytes());
                    for key in seen {
                        let row = state
                            .first
                            .with_replaced(self.columns, &[(*column, Some(key.to_vec()))]);
                        values.push((row, value_tag.clone()));
                    }
                    None
                }
                (c, _) => {
                    return Err(MergeError::InvalidSpec(format!(
                        "{} state does not match its function",
                        c.name()
                    )))
                }
            };
            replace.push((*column, value.map(String::into_bytes)));
            tag.push(mark);
        }
        let mut rows = vec![(state.first.with_replaced(self.columns, &replace), tag)];
        rows.extend(values);
        Ok(rows)
    }

    /// Whether a tag is that of a COUNT(DISTINCT) value's row.
    pub fn is_value_tag(tag: &[u8]) -> bool {
        tag.first() == Some(&VALUE)
    }

    /// Adds the COUNT(DISTINCT) value of a row tagged by [`Aggregation::state_rows`] to
    /// the group's set; returns the bytes the group grew by.
    pub fn add_value_row(
        &self,
        state: &mut GroupState,
        tag: &[u8],
        row: &Row,
    ) -> Result<usize, MergeError> {
        let bad = || MergeError::SpillIo("a spilled COUNT(DISTINCT) value is cut".into());
        let position = tag
            .get(1..5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_le_bytes(b) as usize)
            .ok_or_else(bad)?;
        let column = self.aggs.get(position).map(|(c, _)| *c).ok_or_else(bad)?;
        let key = row.value(column).ok_or_else(bad)?;
        match state.accs.get_mut(position) {
            Some(Acc::CountDistinct(seen, _)) => Ok(if seen.insert(Box::from(key)) {
                key.len() + ENTRY_OVERHEAD
            } else {
                0
            }),
            _ => Err(bad()),
        }
    }

    /// Whether some aggregate is a COUNT(DISTINCT).
    pub fn has_distinct(&self) -> bool {
        self.aggs
            .iter()
            .any(|(_, c)| matches!(c, Combine::CountDistinct { .. }))
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
