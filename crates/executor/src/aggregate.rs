//! Cross-node aggregation: how the per-node partial results of one group combine into
//! the value MySQL would have computed over all rows. Both grouping operators
//! (`hash_aggregate`, `ordered_aggregate`) use `Aggregation` for the per-group state.
//!
//! What each aggregate expects from the per-node query, and what it outputs:
//! - COUNT: the node's COUNT; output the sum, as BIGINT text.
//! - SUM: the node's SUM (DECIMAL for integer and DECIMAL arguments, DOUBLE for
//!   FLOAT/DOUBLE); output the exact sum with the per-node scale (SUM of INT prints no
//!   decimals, of DECIMAL(10,2) two), or the double sum printed as MariaDB prints doubles.
//!   NULL partials are skipped; all NULL gives NULL.
//! - MIN / MAX: the node's MIN/MAX; output the smallest/largest by the column's
//!   comparison, as the bytes the data node sent (the first node's on ties).
//! - AVG: SUM(x) in the aggregate's column and COUNT(x) in `count_column`; output
//!   exact SUM / COUNT rounded half away from zero to the SUM column's decimals plus
//!   `scale` (div_precision_increment), at most 38, as MariaDB types AVG (a DOUBLE when
//!   the SUM is a DOUBLE); NULL when the count is 0.
//! - COUNT(DISTINCT x): the node's distinct values of x, one row per (group, value);
//!   output the number of distinct non-NULL values across nodes, equal under the
//!   column's collation. Other aggregates in the same query still combine correctly
//!   over such rows (partial COUNT/SUM of the (group, value) rows add up to the group's).
//! - GROUP_CONCAT: the node's GROUP_CONCAT; partials joined with the separator in
//!   arrival order, truncated to `group_concat_max_len` bytes at a character boundary
//!   with warning 1260 "Row N was cut by GROUP_CONCAT()", as MySQL truncates (N is the
//!   output row's number).
//!
//! - BIT_AND / BIT_OR / BIT_XOR: the node's result (BIGINT UNSIGNED; a node without
//!   rows sends the operation's identity); output the partials combined with the same
//!   operation.
//!
//! Columns that are neither grouped nor aggregated keep the first row's value.

use std::collections::HashSet;

use strata_planner::{Aggregate, AggregateFunction, BitOp};
use strata_protocol::packets::ColumnDef;

use crate::error::MergeError;
use crate::layout::{decode, Layout};
use crate::memory::ENTRY_OVERHEAD;
use crate::operator::MergeWarning;
use crate::row::Row;
use crate::value::{compare, ColumnKind, Value};
use strata_mysql::number::format_double;
use strata_mysql::Decimal;
use strata_mysql::Encoding;

/// How one aggregate column combines.
#[derive(Debug, Clone)]
enum Combine {
    Count,
    Sum {
        float: bool,
    },
    MinMax {
        max: bool,
        kind: ColumnKind,
    },
    Avg {
        count_column: usize,
        scale: u32,
        float: bool,
    },
    CountDistinct {
        kind: ColumnKind,
    },
    GroupConcat {
        separator: Vec<u8>,
        encoding: Encoding,
    },
    Bit(BitOp),
}

impl Combine {
    fn name(&self) -> &'static str {
        match self {
            Combine::Count => "COUNT",
            Combine::Sum { .. } => "SUM",
            Combine::MinMax { max: false, .. } => "MIN",
            Combine::MinMax { max: true, .. } => "MAX",
            Combine::Avg { .. } => "AVG",
            Combine::CountDistinct { .. } => "COUNT(DISTINCT)",
            Combine::GroupConcat { .. } => "GROUP_CONCAT",
            Combine::Bit(op) => op.name(),
        }
    }
}

/// A running SUM.
#[derive(Debug, Clone)]
enum Number {
    Exact(Decimal),
    Float(f64),
}

/// The running state of one aggregate in one group.
#[derive(Debug)]
enum Acc {
    Count(u64),
    Sum(Option<Number>),
    MinMax(Option<(Value, Option<Box<[u8]>>)>),
    Avg {
        sum: Option<Number>,
        count: u64,
    },
    /// The values seen in memory, and how many more distinct values were counted on
    /// disk (a grouping without GROUP BY that spilled its values).
    CountDistinct(HashSet<Box<[u8]>>, u64),
    GroupConcat {
        text: Option<Vec<u8>>,
        truncated: bool,
    },
    Bit(u64),
}

/// One group being aggregated: its first row and the aggregates' running state.
#[derive(Debug)]
pub(crate) struct GroupState {
    first: Row,
    accs: Vec<Acc>,
}

/// The aggregates of a merge and how to combine them.
#[derive(Debug, Clone)]
pub(crate) struct Aggregation {
    columns: usize,
    aggs: Vec<(usize, Combine)>,
    group_concat_max_len: usize,
}

fn numeric_partial(kind: ColumnKind, what: &str, column: usize) -> Result<bool, MergeError> {
    match kind {
        ColumnKind::Int | ColumnKind::UInt | ColumnKind::Decimal => Ok(false),
        ColumnKind::Double => Ok(true),
        other => Err(MergeError::InvalidSpec(format!(
            "{what} partial in column {column} is a {} column, not a number",
            other.type_name()
        ))),
    }
}

fn count_partial(kind: ColumnKind, column: usize) -> Result<(), MergeError> {
    match kind {
        ColumnKind::Int | ColumnKind::UInt | ColumnKind::Decimal => Ok(()),
        other => Err(MergeError::InvalidSpec(format!(
            "COUNT partial in column {column} is a {} column",
            other.type_name()
        ))),
    }
}

impl Aggregation {
    /// The aggregation of `aggregates` over rows of `node_columns`.
    pub fn new(
        aggregates: &[Aggregate],
        node_columns: &[ColumnDef],
        layout: &Layout,
        group_concat_max_len: usize,
    ) -> Result<Self, MergeError> {
        let mut aggs = Vec::new();
        for agg in aggregates {
            let column = agg.column;
            let kind = layout.node_kind(column);
            let combine = match &agg.function {
                AggregateFunction::Count => {
                    count_partial(kind?, column)?;
                    Combine::Count
                }
                AggregateFunction::Sum => Combine::Sum {
                    float: numeric_partial(kind?, "SUM", column)?,
                },
                AggregateFunction::Min | AggregateFunction::Max => Combine::MinMax {
                    max: agg.function == AggregateFunction::Max,
                    kind: kind?,
                },
                AggregateFunction::Avg {
                    count_column,
                    scale,
                } => {
                    count_partial(layout.node_kind(*count_column)?, *count_column)?;
                    let sum_decimals = node_columns.get(column).map_or(0, |d| d.decimals);
                    Combine::Avg {
                        count_column: *count_column,
                        scale: avg_scale(sum_decimals, *scale),
                        float: numeric_partial(kind?, "AVG's SUM", column)?,
                    }
                }
                AggregateFunction::CountDistinct => Combine::CountDistinct { kind: kind? },
                AggregateFunction::GroupConcat { separator } => Combine::GroupConcat {
                    separator: separator.as_bytes().to_vec(),
                    encoding: node_columns
                        .get(column)
                        .and_then(|def| Encoding::of_charset(def.charset))
                        .unwrap_or(Encoding::Binary),
                },
                AggregateFunction::Bit(op) => {
                    count_partial(kind?, column)?;
                    Combine::Bit(*op)
                }
            };
            aggs.push((column, combine));
        }
        Ok(Self {
            columns: node_columns.len(),
            aggs,
            group_concat_max_len,
        })
    }

    /// A new group starting with `row`; returns it and the bytes it holds.
    pub fn start(&self, row: Row) -> Result<(GroupState, usize), MergeError> {
        let accs = self
            .aggs
            .iter()
            .map(|(_, combine)| match combine {
                Combine::Count => Acc::Count(0),
                Combine::Sum { .. } => Acc::Sum(None),
                Combine::MinMax { .. } => Acc::MinMax(None),
                Combine::Avg { .. } => Acc::Avg {
                    sum: None,
                    count: 0,
                },
                Combine::CountDistinct { .. } => Acc::CountDistinct(HashSet::new(), 0),
                Combine::GroupConcat { .. } => Acc::GroupConcat {
                    text: None,
                    truncated: false,
                },
                Combine::Bit(op) => Acc::Bit(op.identity()),
            })
            .collect();
        let mut state = GroupState {
            first: row.clone(),
            accs,
        };
        let size = row.heap_size() + self.accumulate(&mut state, &row)?;
        Ok((state, size))
    }

    /// Adds one per-node partial row to a group; returns the bytes the group grew by.
    pub fn accumulate(&self, state: &mut GroupState, row: &Row) -> Result<usize, MergeError> {
        let mut grown = 0;
        for ((column, combine), acc) in self.aggs.iter().zip(state.accs.iter_mut()) {
            let column = *column;
            let value = row.value(column);
            match (combine, acc) {
                (Combine::Count, Acc::Count(total)) => {
                    *total = add_count(*total, value, column, "COUNT")?;
                }
                (Combine::Sum { float }, Acc::Sum(total)) => {
                    if let Some(text) = value {
                        let partial = parse_number(text, *float, column)?;
                        *total = Some(add_numbers(total.take(), partial, "SUM")?);
                    }
                }
                (Combine::MinMax { max, kind }, Acc::MinMax(best)) => {
                    let candidate = decode(row, column, kind)?;
                    if candidate.is_null() {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some((current, _)) => {
                            let ord = compare(&candidate, current);
                            if *max {
                                ord.is_gt()
                            } else {
                                ord.is_lt()
                            }
                        }
                    };
                    if better {
                        let old = best.as_ref().map_or(0, |(v, b)| {
                            v.heap_size() + b.as_ref().map_or(0, |b| b.len())
                        });
                        grown += (candidate.heap_size() + value.map_or(0, <[u8]>::len))
                            .saturating_sub(old);
                        *best = Some((candidate, value.map(Box::from)));
                    }
                }
                (
                    Combine::Avg {
                        count_column,
                        float,
                        ..
                    },
                    Acc::Avg { sum, count },
                ) => {
                    *count = add_count(*count, row.value(*count_column), *count_column, "AVG")?;
                    if let Some(text) = value {
                        let partial = parse_number(text, *float, column)?;
                        *sum = Some(add_numbers(sum.take(), partial, "AVG")?);
                    }
                }
                (Combine::CountDistinct { kind }, Acc::CountDistinct(seen, _)) => {
                    let v = decode(row, column, kind)?;
                    if v.is_null() {
                        continue;
                    }
                    let mut key = Vec::new();
                    v.write_key(&mut key);
                    let size = key.len() + ENTRY_OVERHEAD;
                    if seen.insert(key.into_boxed_slice()) {
                        grown += size;
                    }
                }
                (
                    Combine::GroupConcat {
                        separator,
                        encoding,
                    },
                    Acc::GroupConcat { text, truncated },
                ) => {
                    let Some(part) = value else { continue };
                    if *truncated {
                        continue;
                    }
                    let had_text = text.is_some();
                    let joined = text.get_or_insert_with(Vec::new);
                    let before = joined.len();
                    if had_text {
                        joined.extend_from_slice(separator);
                    }
                    joined.extend_from_slice(part);
                    let keep = encoding.truncate_len(joined, self.group_concat_max_len);
                    if keep < joined.len() {
                        joined.truncate(keep);
                        *truncated = true;
                    }
                    grown += joined.len().saturating_sub(before);
                }
                (Combine::Bit(op), Acc::Bit(total)) => {
                    let Some(text) = value else { continue };
                    let partial: u64 = std::str::from_utf8(text)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| MergeError::BadValue {
                            column,
                            value: String::from_utf8_lossy(text).into_owned(),
                            expected: "BIGINT UNSIGNED",
                        })?;
                    *total = op.apply(*total, partial);
                }
                _ => {
                    return Err(MergeError::InvalidSpec(
                        "aggregate state does not match its function".into(),
                    ))
                }
            }
        }
        Ok(grown)
    }

    /// The output row of a finished group (`ordinal` numbers it for warnings).
    pub fn finish(
        &self,
        state: GroupState,
        ordinal: u64,
        warnings: &mut Vec<MergeWarning>,
    ) -> Result<Row, MergeError> {
        let mut replace = Vec::with_capacity(self.aggs.len());
        for ((column, combine), acc) in self.aggs.iter().zip(state.accs) {
            let value = match (combine, acc) {
                (_, Acc::Count(total)) => Some(total.to_string().into_bytes()),
                (_, Acc::Sum(total)) => total.map(|n| number_text(&n).into_bytes()),
                (_, Acc::MinMax(best)) => best.and_then(|(_, bytes)| bytes.map(Vec::from)),
                (
                    Combine::Avg {
                        scale,
                        count_column,
                        ..
                    },
                    Acc::Avg { sum, count },
                ) => match sum {
                    // The hidden count column holds the group's count, whichever
                    // partial came first (a spilled group's state row holds it too).
                    _ if {
                        replace.push((*count_column, Some(count.to_string().into_bytes())));
                        false
                    } =>
                    {
                        None
                    }
                    Some(_) if count == 0 => None,
                    Some(Number::Exact(d)) => {
                        Some(d.div_round(count, *scale).to_string().into_bytes())
                    }
                    Some(Number::Float(f)) => Some(format_double(f / count as f64).into_bytes()),
                    None => None,
                },
                (_, Acc::CountDistinct(seen, on_disk)) => {
                    Some((seen.len() as u64 + on_disk).to_string().into_bytes())
                }
                (_, Acc::Bit(total)) => Some(total.to_string().into_bytes()),
                (_, Acc::GroupConcat { text, truncated }) => {
                    if truncated {
                        warnings.push(MergeWarning {
                            code: 1260,
                            message: format!("Row {ordinal} was cut by GROUP_CONCAT()"),
                        });
                    }
                    text
                }
                (c, _) => {
                    return Err(MergeError::InvalidSpec(format!(
                        "{} state does not match its function",
                        c.name()
                    )))
                }
            };
            replace.push((*column, value));
        }
        Ok(state.first.with_replaced(self.columns, &replace))
    }

    /// The single row of an aggregation without GROUP BY over no rows at all: COUNTs are
    /// 0, everything else NULL (MySQL's answer for an empty table).
    pub fn empty_result(&self) -> Row {
        let replace: Vec<(usize, Option<Vec<u8>>)> = self
            .aggs
            .iter()
            .map(|(column, combine)| {
                let value = match combine {
                    Combine::Count | Combine::CountDistinct { .. } => Some(b"0".to_vec()),
                    Combine::Bit(op) => Some(op.identity().to_string().into_bytes()),
                    _ => None,
                };
                (*column, value)
            })
            .collect();
        Row::from_values((0..self.columns).map(|c| {
            replace
                .iter()
                .find(|(col, _)| *col == c)
                .and_then(|(_, v)| v.as_deref())
        }))
    }
}

/// MariaDB's AVG decimals: the argument's (= its SUM's) plus div_precision_increment,
/// at most DECIMAL_MAX_SCALE (38). MariaDB 10.11: AVG over DECIMAL(10,2) has 6,
/// over DECIMAL(40,27) 31, over DECIMAL(38,35) and DECIMAL(40,38) 38, over
/// DATETIME(6) 10, over INT 4.
pub(crate) fn avg_scale(sum_decimals: u8, increment: u32) -> u32 {
    if sum_decimals > 38 {
        // A DOUBLE SUM (decimals 31 means "not fixed"); AVG is a DOUBLE too.
        return increment.min(38);
    }
    (u32::from(sum_decimals) + increment).min(38)
}

fn add_count(
    total: u64,
    value: Option<&[u8]>,
    column: usize,
    what: &str,
) -> Result<u64, MergeError> {
    let Some(text) = value else { return Ok(total) };
    let partial: u64 = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| MergeError::BadValue {
            column,
            value: String::from_utf8_lossy(text).into_owned(),
            expected: "count",
        })?;
    total
        .checked_add(partial)
        .filter(|t| *t <= i64::MAX as u64)
        .ok_or_else(|| MergeError::OutOfRange {
            what: "BIGINT",
            expression: what.into(),
        })
}

fn parse_number(text: &[u8], float: bool, column: usize) -> Result<Number, MergeError> {
    let bad = || MergeError::BadValue {
        column,
        value: String::from_utf8_lossy(text).into_owned(),
        expected: if float { "DOUBLE" } else { "DECIMAL" },
    };
    if float {
        let v: f64 = std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(bad)?;
        Ok(Number::Float(v))
    } else {
        Decimal::parse(text).map(Number::Exact).ok_or_else(bad)
    }
}

fn add_numbers(total: Option<Number>, partial: Number, what: &str) -> Result<Number, MergeError> {
    Ok(match (total, partial) {
        (None, p) => p,
        (Some(Number::Exact(a)), Number::Exact(b)) => Number::Exact(a.add(&b)),
        (Some(a), b) => {
            let sum = number_f64(&a) + number_f64(&b);
            if !sum.is_finite() {
                return Err(MergeError::OutOfRange {
                    what: "DOUBLE",
                    expression: what.into(),
                });
            }
            Number::Float(sum)
        }
    })
}

fn number_f64(n: &Number) -> f64 {
    match n {
        Number::Exact(d) => d.to_f64(),
        Number::Float(f) => *f,
    }
}

fn number_text(n: &Number) -> String {
    match n {
        Number::Exact(d) => d.to_string(),
        Number::Float(f) => format_double(*f),
    }
}

mod partial_state;
pub(crate) use partial_state::DistinctSets;
#[cfg(test)]
mod tests;
