//! The hash join of a [`strata_planner::HashJoin`] plan, without I/O: each step's side
//! goes into a hash table keyed by its join columns ([`SideTable`], under the merge
//! memory budget), then every row of the streamed side is joined through the steps in
//! order ([`HashJoiner::probe`]), and each joined row is encoded with the plan's output
//! columns for the operators above (aggregate, sort, LIMIT, projection).
//!
//! Keys compare as MySQL compares the two columns: a key is the canonical bytes of the
//! value (`Value::write_key`), which are equal exactly when the values compare equal —
//! integers and DECIMAL by exact value, strings by their collation's weights, dates by
//! their point in time. Pairs MySQL would compare by other rules (a string with a
//! number, an integer with a DOUBLE, strings of two collations) are refused with 1235.
//! A NULL key never matches; a LEFT JOIN step keeps rows without a match, with NULLs
//! for the side's columns.

use std::collections::{HashMap, VecDeque};

use bytes::{Bytes, BytesMut};
use strata_planner::{Aggregate, AggregateFunction, HashJoin, JoinColumn};
use strata_protocol::constants::{colflag, coltype};
use strata_protocol::packets::{encode_text_row, ColumnDef};

use crate::error::MergeError;
use crate::memory::{MemoryBudget, Reservation, ENTRY_OVERHEAD};
use crate::row::Row;
use crate::value::{ColumnKind, Value};

/// One hashed side: its rows and, per key, the rows that have it.
#[derive(Debug)]
pub(crate) struct SideTable {
    width: usize,
    key_columns: Vec<(usize, ColumnKind)>,
    rows: Vec<Row>,
    index: HashMap<Box<[u8]>, Vec<u32>>,
    memory: Reservation,
}

impl SideTable {
    /// An empty table of rows with `defs` columns, keyed by `key_columns` (column
    /// numbers); `collations` are the side's columns' collations where known.
    pub fn new(
        defs: &[ColumnDef],
        collations: &[Option<u16>],
        key_columns: &[usize],
        budget: &MemoryBudget,
    ) -> Result<SideTable, MergeError> {
        let key_columns = key_columns
            .iter()
            .map(|&c| Ok((c, kind_of(defs, collations, c)?)))
            .collect::<Result<_, MergeError>>()?;
        Ok(SideTable {
            width: defs.len(),
            key_columns,
            rows: Vec::new(),
            index: HashMap::new(),
            memory: budget.reservation(),
        })
    }

    /// The width of the side's rows.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The canonical key of a row of this side; None when a key value is NULL (such a
    /// row can never match).
    pub fn key_of(&self, row: &Row) -> Result<Option<Vec<u8>>, MergeError> {
        let mut key = Vec::new();
        for (column, kind) in &self.key_columns {
            let value = crate::layout::decode(row, *column, kind)?;
            if value.is_null() {
                return Ok(None);
            }
            value.write_key(&mut key);
        }
        Ok(Some(key))
    }

    /// Adds a row; a row with a NULL key can never match and is not kept.
    pub fn insert(&mut self, row: Row) -> Result<(), MergeError> {
        let Some(key) = self.key_of(&row)? else {
            return Ok(());
        };
        let index = u32::try_from(self.rows.len())
            .map_err(|_| MergeError::Unsupported("a join side of more than 4G rows".into()))?;
        self.memory
            .grow(row.heap_size() + key.len() + 2 * ENTRY_OVERHEAD)?;
        self.rows.push(row.detached());
        self.index
            .entry(key.into_boxed_slice())
            .or_default()
            .push(index);
        Ok(())
    }

    /// Takes every row out, leaving the table empty (its memory given back).
    pub fn take_rows(&mut self) -> Vec<Row> {
        self.index = HashMap::new();
        let held = self.memory.held();
        self.memory.shrink(held);
        std::mem::take(&mut self.rows)
    }

    /// The rows kept (those with a non-NULL key), in arrival order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    fn matches(&self, key: &[u8]) -> &[u32] {
        self.index.get(key).map_or(&[], Vec::as_slice)
    }
}

/// A join step ready to probe.
#[derive(Debug)]
struct Step {
    outer: bool,
    /// (earlier side, its column, the kind its values decode as).
    probe_keys: Vec<(usize, usize, ColumnKind)>,
    table: SideTable,
}

/// Joins streamed rows through the hashed sides and queues the joined rows.
#[derive(Debug)]
pub struct HashJoiner {
    steps: Vec<Step>,
    output: Vec<JoinColumn>,
    probe_width: usize,
    pending: VecDeque<Bytes>,
    memory: Reservation,
}

impl HashJoiner {
    /// A joiner for `plan` over the hashed sides `tables` (one per step, in order),
    /// with the streamed side's column definitions `probe_defs`; `side_defs` are every
    /// side's column definitions in join order (the probe's first). Refuses key pairs
    /// MySQL would compare other than by the canonical value.
    pub(crate) fn new(
        plan: &HashJoin,
        tables: Vec<SideTable>,
        side_defs: &[Vec<ColumnDef>],
        budget: &MemoryBudget,
    ) -> Result<HashJoiner, MergeError> {
        let collations: Vec<&[Option<u16>]> =
            plan.sides().map(|s| s.collations.as_slice()).collect();
        let mut steps = Vec::with_capacity(tables.len());
        for (i, (step, table)) in plan.steps.iter().zip(tables).enumerate() {
            let mut probe_keys = Vec::new();
            for (k, key) in step.keys.iter().enumerate() {
                let defs = side_defs
                    .get(key.probe_side)
                    .filter(|_| key.probe_side <= i)
                    .ok_or_else(|| MergeError::InvalidSpec("join key of a later side".into()))?;
                let kind = kind_of(defs, collations[key.probe_side], key.probe_column)?;
                let (_, build) = table.key_columns[k];
                if !comparable(&kind, &build) {
                    return Err(MergeError::Unsupported(format!(
                        "joining a {} column with a {} column across data nodes (MySQL compares them by other rules)",
                        kind.type_name(),
                        build.type_name()
                    )));
                }
                probe_keys.push((key.probe_side, key.probe_column, kind));
            }
            steps.push(Step {
                outer: step.outer,
                probe_keys,
                table,
            });
        }
        let probe_width = side_defs.first().map_or(0, Vec::len);
        Ok(HashJoiner {
            steps,
            output: plan.output.clone(),
            probe_width,
            pending: VecDeque::new(),
            memory: budget.reservation(),
        })
    }

    /// The width of the streamed side's rows.
    pub fn probe_width(&self) -> usize {
        self.probe_width
    }

    /// The hashed side of a one-step join (the grace join loads it partition by
    /// partition); None for a join of several steps.
    pub(crate) fn single_table(&mut self) -> Option<&mut SideTable> {
        match self.steps.as_mut_slice() {
            [step] => Some(&mut step.table),
            _ => None,
        }
    }

    /// The canonical key a streamed row probes a one-step join with; None when a key
    /// value is NULL.
    pub(crate) fn probe_key(&self, row: &Row) -> Result<Option<Vec<u8>>, MergeError> {
        let step = self
            .steps
            .first()
            .ok_or_else(|| MergeError::InvalidSpec("a join without steps".into()))?;
        step_key(step, &[Some(row)])
    }

    /// Joins one row of the streamed side; the joined rows queue up for `pop`.
    pub fn probe(&mut self, row: Row) -> Result<(), MergeError> {
        let mut tuple: Vec<Option<&Row>> = Vec::with_capacity(self.steps.len() + 1);
        tuple.push(Some(&row));
        let mut out = Vec::new();
        expand(&self.steps, &self.output, &mut tuple, &mut out)?;
        for payload in out {
            self.memory.grow(payload.len() + ENTRY_OVERHEAD)?;
            self.pending.push_back(payload);
        }
        Ok(())
    }

    /// The next joined row.
    pub fn pop(&mut self) -> Option<Bytes> {
        let payload = self.pending.pop_front()?;
        self.memory.shrink(payload.len() + ENTRY_OVERHEAD);
        Some(payload)
    }
}

/// Joins `tuple` (the sides so far) through the remaining steps into `out`.
fn expand<'r>(
    steps: &'r [Step],
    output: &[JoinColumn],
    tuple: &mut Vec<Option<&'r Row>>,
    out: &mut Vec<Bytes>,
) -> Result<(), MergeError> {
    let Some(step) = steps.get(tuple.len() - 1) else {
        out.push(encode(output, tuple));
        return Ok(());
    };
    let matches: &[u32] = match step_key(step, tuple)? {
        Some(key) => step.table.matches(&key),
        None => &[],
    };
    if matches.is_empty() {
        if step.outer {
            tuple.push(None);
            let r = expand(steps, output, tuple, out);
            tuple.pop();
            r?;
        }
        return Ok(());
    }
    for &m in matches {
        tuple.push(step.table.rows.get(m as usize));
        let r = expand(steps, output, tuple, out);
        tuple.pop();
        r?;
    }
    Ok(())
}

/// The canonical key `step` looks up for `tuple` (the sides joined so far); None when a
/// key value is NULL (or its side is a LEFT JOIN's missing row), which matches nothing.
fn step_key(step: &Step, tuple: &[Option<&Row>]) -> Result<Option<Vec<u8>>, MergeError> {
    let mut key = Vec::new();
    for (side, column, kind) in &step.probe_keys {
        let value = match tuple.get(*side).copied().flatten() {
            Some(row) => crate::layout::decode(row, *column, kind)?,
            None => Value::Null,
        };
        if value.is_null() {
            return Ok(None);
        }
        value.write_key(&mut key);
    }
    Ok(Some(key))
}

/// The joined row's payload.
fn encode(output: &[JoinColumn], tuple: &[Option<&Row>]) -> Bytes {
    let value = |side: usize, column: usize| -> Option<&[u8]> {
        tuple
            .get(side)
            .copied()
            .flatten()
            .and_then(|r| r.value(column))
    };
    let values = output.iter().map(|c| match c {
        JoinColumn::Side { side, column, .. } => value(*side, *column),
        JoinColumn::Count { of: None, .. } => Some(&b"1"[..]),
        JoinColumn::Count {
            of: Some((side, column)),
            ..
        } => Some(if value(*side, *column).is_some() {
            &b"1"[..]
        } else {
            &b"0"[..]
        }),
    });
    let mut buf = BytesMut::new();
    encode_text_row(&mut buf, values);
    buf.freeze()
}

/// A value of a column of `kind` as an SQL literal for a lookup's `IN` list: numbers
/// as the data node printed them, strings and dates quoted (`'` doubled; binary strings
/// in hex). Strings with a backslash are refused: their quoting depends on the
/// session's `NO_BACKSLASH_ESCAPES`.
pub(crate) fn sql_literal(kind: &ColumnKind, bytes: &[u8]) -> Result<String, MergeError> {
    let refuse = || MergeError::Unsupported("this join key value in a lookup".into());
    let text = std::str::from_utf8(bytes).map_err(|_| refuse())?;
    match kind {
        ColumnKind::Int
        | ColumnKind::UInt
        | ColumnKind::TwoDigitYear
        | ColumnKind::Decimal
        | ColumnKind::Double => {
            let numeric = !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
            if numeric {
                Ok(text.to_string())
            } else {
                Err(refuse())
            }
        }
        ColumnKind::Text { collation, .. } if collation.id() == 63 => {
            let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            Ok(format!("X'{hex}'"))
        }
        ColumnKind::Text { .. } | ColumnKind::DateTime | ColumnKind::Time => {
            if text.contains('\\') || text.contains('\0') {
                return Err(refuse());
            }
            Ok(format!("'{}'", text.replace('\'', "''")))
        }
        ColumnKind::Null => Ok("NULL".into()),
    }
}

fn kind_of(
    defs: &[ColumnDef],
    collations: &[Option<u16>],
    column: usize,
) -> Result<ColumnKind, MergeError> {
    let def = defs.get(column).ok_or_else(|| {
        MergeError::InvalidSpec(format!("join column {column} of {}", defs.len()))
    })?;
    ColumnKind::of(def, collations.get(column).copied().flatten()).map_err(MergeError::Unsupported)
}

/// Whether two columns' values are equal exactly when their canonical keys are.
fn comparable(a: &ColumnKind, b: &ColumnKind) -> bool {
    use ColumnKind as K;
    let exact = |k: &K| matches!(k, K::Int | K::UInt | K::Decimal);
    match (a, b) {
        (K::Null, _) | (_, K::Null) => true,
        (x, y) if exact(x) && exact(y) => true,
        (K::Double, K::Double) | (K::DateTime, K::DateTime) | (K::Time, K::Time) => true,
        (K::Text { collation: x, .. }, K::Text { collation: y, .. }) => x.id() == y.id(),
        _ => false,
    }
}

/// The column definitions of joined rows: each side column's own (nullable when an
/// outer join can fill it with NULL), renamed as the client named it; COUNT partials
/// as BIGINT; SUM (and AVG's sum) typed as MariaDB types SUM of the column.
pub(crate) fn output_defs(
    plan: &HashJoin,
    side_defs: &[Vec<ColumnDef>],
    aggregates: &[Aggregate],
) -> Result<Vec<ColumnDef>, MergeError> {
    let outer = |side: usize| side > 0 && plan.steps.get(side - 1).is_some_and(|s| s.outer);
    let mut out = Vec::with_capacity(plan.output.len());
    for c in &plan.output {
        out.push(match c {
            JoinColumn::Side { side, column, name } => {
                let mut def = side_defs
                    .get(*side)
                    .and_then(|d| d.get(*column))
                    .cloned()
                    .ok_or_else(|| {
                        MergeError::InvalidSpec(format!("join column {side}.#{column}"))
                    })?;
                if outer(*side) {
                    def.flags &= !colflag::NOT_NULL;
                }
                if let Some(name) = name {
                    def.name = name.clone();
                }
                def
            }
            JoinColumn::Count { name, .. } => {
                let mut def = ColumnDef::bigint(name, false);
                def.flags |= colflag::NOT_NULL;
                def
            }
        });
    }
    for agg in aggregates {
        let is_sum = matches!(
            agg.function,
            AggregateFunction::Sum | AggregateFunction::Avg { .. }
        );
        if let Some(def) = out.get_mut(agg.column).filter(|_| is_sum) {
            *def = sum_def(def);
        }
    }
    Ok(out)
}

/// SUM's type over a column of type `arg`: DOUBLE over floating point, else
/// DECIMAL(p + 22, s) capped at 65 (MariaDB's).
fn sum_def(arg: &ColumnDef) -> ColumnDef {
    if matches!(arg.col_type, coltype::DOUBLE | coltype::FLOAT) {
        return ColumnDef {
            col_type: coltype::DOUBLE,
            length: 23,
            flags: colflag::BINARY | colflag::NUM,
            charset: 63,
            ..arg.clone()
        };
    }
    let unsigned = arg.flags & colflag::UNSIGNED != 0;
    let precision = arg
        .length
        .saturating_sub(u32::from(!unsigned))
        .saturating_sub(u32::from(arg.decimals > 0))
        .max(1);
    let sum_precision = (precision + 22).min(65);
    ColumnDef {
        col_type: coltype::NEWDECIMAL,
        length: sum_precision + 1 + u32::from(arg.decimals > 0),
        flags: colflag::BINARY | colflag::NUM,
        charset: 63,
        ..arg.clone()
    }
}

pub(crate) mod grace;
#[cfg(test)]
mod tests;
