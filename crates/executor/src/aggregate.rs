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
    CountDistinct(HashSet<Box<[u8]>>),
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
                Combine::CountDistinct { .. } => Acc::CountDistinct(HashSet::new()),
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
                (Combine::CountDistinct { kind }, Acc::CountDistinct(seen)) => {
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
                (Combine::Avg { scale, .. }, Acc::Avg { sum, count }) => match sum {
                    Some(_) if count == 0 => None,
                    Some(Number::Exact(d)) => {
                        Some(d.div_round(count, *scale).to_string().into_bytes())
                    }
                    Some(Number::Float(f)) => Some(format_double(f / count as f64).into_bytes()),
                    None => None,
                },
                (_, Acc::CountDistinct(seen)) => Some(seen.len().to_string().into_bytes()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        count_col, decimal_col, double_col, int_col, payload, texts, varchar_col,
    };
    use strata_planner::Aggregate;
    use strata_planner::MergeSpec;

    fn agg(column: usize, function: AggregateFunction) -> Aggregate {
        Aggregate { column, function }
    }

    /// Combines partial rows (all one group) and returns the output row.
    fn combine(
        columns: &[ColumnDef],
        aggregates: Vec<Aggregate>,
        partials: &[Vec<Option<&str>>],
        max_len: usize,
    ) -> Result<(Vec<Option<String>>, Vec<MergeWarning>), MergeError> {
        let spec = MergeSpec {
            visible_columns: columns.len(),
            aggregates,
            ..MergeSpec::default()
        };
        let layout = Layout::new(columns, columns, &[]);
        let aggregation = Aggregation::new(&spec.aggregates, columns, &layout, max_len)?;
        let mut rows = partials
            .iter()
            .map(|p| Row::decode(payload(p), columns.len()).unwrap());
        let first = rows.next().unwrap();
        let (mut state, _) = aggregation.start(first)?;
        for row in rows {
            aggregation.accumulate(&mut state, &row)?;
        }
        let mut warnings = Vec::new();
        let row = aggregation.finish(state, 1, &mut warnings)?;
        Ok((texts(&row), warnings))
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    /// Single-table answers from MariaDB 10.11 over the union of the partials' rows:
    /// `SELECT COUNT(*), SUM(i), SUM(d), MIN(i), MAX(d)` with i INT, d DECIMAL(10,2).
    #[test]
    fn count_sum_min_max_combine_exactly() {
        let cols = [
            count_col("c"),
            decimal_col("si", 33, 0),
            decimal_col("sd", 34, 2),
            int_col("mi"),
            decimal_col("md", 12, 2),
        ];
        let aggs = vec![
            agg(0, AggregateFunction::Count),
            agg(1, AggregateFunction::Sum),
            agg(2, AggregateFunction::Sum),
            agg(3, AggregateFunction::Min),
            agg(4, AggregateFunction::Max),
        ];
        let (row, _) = combine(
            &cols,
            aggs,
            &[
                vec![Some("2"), Some("3"), Some("3.75"), Some("1"), Some("2.50")],
                vec![Some("0"), None, None, None, None],
                vec![
                    Some("1"),
                    Some("-10"),
                    Some("-0.05"),
                    Some("-10"),
                    Some("-0.05"),
                ],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![s("3"), s("-7"), s("3.70"), s("-10"), s("2.50")]);
    }

    #[test]
    fn sums_of_bigint_unsigned_do_not_overflow() {
        let cols = [decimal_col("s", 43, 0)];
        let (row, _) = combine(
            &cols,
            vec![agg(0, AggregateFunction::Sum)],
            &[
                vec![Some("18446744073709551615")],
                vec![Some("18446744073709551615")],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![s("36893488147419103230")]);
    }

    #[test]
    fn all_null_sums_stay_null_and_counts_zero() {
        let cols = [
            decimal_col("s", 33, 0),
            count_col("c"),
            decimal_col("a", 33, 0),
            count_col("ac"),
        ];
        let (row, _) = combine(
            &cols,
            vec![
                agg(0, AggregateFunction::Sum),
                agg(1, AggregateFunction::Count),
                agg(
                    2,
                    AggregateFunction::Avg {
                        count_column: 3,
                        scale: 4,
                    },
                ),
            ],
            &[
                vec![None, Some("0"), None, Some("0")],
                vec![None, Some("0"), None, Some("0")],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![None, s("0"), None, s("0")]);
    }

    /// MariaDB: over 32 rows with one i = 1 and d = 0.01, AVG(i) = 0.0313 and
    /// AVG(d) = 0.000313 (DECIMAL(10,2): the SUM's 2 decimals + 4).
    #[test]
    fn avg_is_exact_sum_over_count_rounded_half_up() {
        let cols = [
            decimal_col("si", 33, 0),
            count_col("ci"),
            decimal_col("sd", 34, 2),
            count_col("cd"),
        ];
        let (row, _) = combine(
            &cols,
            vec![
                agg(
                    0,
                    AggregateFunction::Avg {
                        count_column: 1,
                        scale: 4,
                    },
                ),
                agg(
                    2,
                    AggregateFunction::Avg {
                        count_column: 3,
                        scale: 4,
                    },
                ),
            ],
            &[
                vec![Some("1"), Some("10"), Some("0.01"), Some("10")],
                vec![Some("0"), Some("22"), Some("0.00"), Some("22")],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(&row[0], &s("0.0313"));
        assert_eq!(&row[2], &s("0.000313"));
    }

    /// MariaDB: `SELECT SUM(x) FROM (SELECT 1e0/3 x UNION ALL SELECT 2e0/3) q` gives 1;
    /// `SELECT AVG(g)` of DOUBLE g = 2.5, 3.5 gives 3.
    #[test]
    fn double_sums_and_averages_print_like_mariadb() {
        let cols = [double_col("s"), double_col("a"), count_col("c")];
        let (row, _) = combine(
            &cols,
            vec![
                agg(0, AggregateFunction::Sum),
                agg(
                    1,
                    AggregateFunction::Avg {
                        count_column: 2,
                        scale: 4,
                    },
                ),
            ],
            &[
                vec![Some("0.3333333333333333"), Some("2.5"), Some("1")],
                vec![Some("0.6666666666666666"), Some("3.5"), Some("1")],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![s("1"), s("3"), s("1")]);
    }

    #[test]
    fn min_max_compare_by_collation_and_keep_the_first_spelling() {
        let cols = [varchar_col("mn"), varchar_col("mx")];
        let (row, _) = combine(
            &cols,
            vec![
                agg(0, AggregateFunction::Min),
                agg(1, AggregateFunction::Max),
            ],
            &[
                vec![Some("b"), Some("Y")],
                vec![Some("A"), Some("y")],
                vec![Some("a"), Some("X")],
                vec![None, None],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![s("A"), s("Y")]);
    }

    #[test]
    fn count_distinct_counts_values_equal_under_the_collation_once() {
        let cols = [varchar_col("v")];
        let (row, _) = combine(
            &cols,
            vec![agg(0, AggregateFunction::CountDistinct)],
            &[
                vec![Some("a")],
                vec![Some("b")],
                vec![Some("A ")],
                vec![None],
                vec![Some("B")],
                vec![Some("c")],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![s("3")]);
    }

    /// MariaDB: `SET group_concat_max_len=5; SELECT GROUP_CONCAT(x)` over 'é','é','é'
    /// gives 'é,é' (5 bytes) with warning 1260 "Row 1 was cut by GROUP_CONCAT()".
    #[test]
    fn group_concat_joins_partials_and_truncates_at_a_character_boundary() {
        let cols = [varchar_col("g")];
        let concat = || {
            vec![agg(
                0,
                AggregateFunction::GroupConcat {
                    separator: ",".into(),
                },
            )]
        };
        let (row, warnings) = combine(
            &cols,
            concat(),
            &[vec![Some("é,é")], vec![None], vec![Some("é")]],
            5,
        )
        .unwrap();
        assert_eq!(row, vec![s("é,é")]);
        assert_eq!(
            warnings,
            vec![MergeWarning {
                code: 1260,
                message: "Row 1 was cut by GROUP_CONCAT()".into()
            }]
        );
        let (row, warnings) =
            combine(&cols, concat(), &[vec![Some("a")], vec![Some("b")]], 1024).unwrap();
        assert_eq!((row, warnings.len()), (vec![s("a,b")], 0));
        let (row, _) = combine(&cols, concat(), &[vec![None], vec![None]], 1024).unwrap();
        assert_eq!(row, vec![None]);
    }

    #[test]
    fn avg_scale_follows_mariadb() {
        assert_eq!(avg_scale(0, 4), 4);
        assert_eq!(avg_scale(2, 4), 6);
        assert_eq!(avg_scale(6, 4), 10);
        assert_eq!(avg_scale(27, 4), 31);
        assert_eq!(avg_scale(35, 4), 38);
        assert_eq!(avg_scale(38, 4), 38);
    }

    #[test]
    fn bit_aggregates_combine_partials_with_their_operation() {
        // Node 1 holds 12 and 10 (BIT_AND 8, BIT_OR 14, BIT_XOR 6), node 2 no rows (the
        // identities: BIT_AND 18446744073709551615, the others 0), node 3 holds 3.
        // MariaDB over 12, 10, 3: BIT_AND 0, BIT_OR 15, BIT_XOR 5.
        let cols = [count_col("a"), count_col("o"), count_col("x")];
        let aggs = || {
            vec![
                agg(0, AggregateFunction::Bit(BitOp::And)),
                agg(1, AggregateFunction::Bit(BitOp::Or)),
                agg(2, AggregateFunction::Bit(BitOp::Xor)),
            ]
        };
        let (row, _) = combine(
            &cols,
            aggs(),
            &[
                vec![Some("8"), Some("14"), Some("6")],
                vec![Some("18446744073709551615"), Some("0"), Some("0")],
                vec![Some("3"), Some("3"), Some("3")],
            ],
            1024,
        )
        .unwrap();
        assert_eq!(row, vec![s("0"), s("15"), s("5")]);
        let spec = MergeSpec {
            visible_columns: 3,
            aggregates: aggs(),
            ..MergeSpec::default()
        };
        let layout = Layout::new(&cols, &cols, &[]);
        let aggregation = Aggregation::new(&spec.aggregates, &cols, &layout, 1024).unwrap();
        assert_eq!(
            texts(&aggregation.empty_result()),
            vec![s("18446744073709551615"), s("0"), s("0")]
        );
        let err = combine(
            &cols,
            aggs(),
            &[vec![Some("-1"), Some("0"), Some("0")]],
            1024,
        )
        .unwrap_err();
        assert!(matches!(err, MergeError::BadValue { column: 0, .. }));
    }

    #[test]
    fn bad_partials_are_errors() {
        let cols = [count_col("c")];
        let err = combine(
            &cols,
            vec![agg(0, AggregateFunction::Count)],
            &[vec![Some("x")]],
            1024,
        )
        .unwrap_err();
        assert!(matches!(err, MergeError::BadValue { column: 0, .. }));
        let cols = [varchar_col("s")];
        let err = combine(
            &cols,
            vec![agg(0, AggregateFunction::Sum)],
            &[vec![Some("1")]],
            1024,
        )
        .unwrap_err();
        assert!(matches!(err, MergeError::InvalidSpec(_)));
    }

    #[test]
    fn count_overflow_is_out_of_range() {
        let cols = [count_col("c")];
        let err = combine(
            &cols,
            vec![agg(0, AggregateFunction::Count)],
            &[vec![Some("9223372036854775807")], vec![Some("1")]],
            1024,
        )
        .unwrap_err();
        assert!(matches!(err, MergeError::OutOfRange { what: "BIGINT", .. }));
    }

    #[test]
    fn no_rows_without_group_by_give_zero_counts_and_nulls() {
        let cols = [varchar_col("g"), count_col("c"), decimal_col("s", 33, 0)];
        let spec = MergeSpec {
            visible_columns: 3,
            aggregates: vec![
                agg(1, AggregateFunction::Count),
                agg(2, AggregateFunction::Sum),
            ],
            ..MergeSpec::default()
        };
        let layout = Layout::new(&cols, &cols, &[]);
        let aggregation = Aggregation::new(&spec.aggregates, &cols, &layout, 1024).unwrap();
        assert_eq!(texts(&aggregation.empty_result()), vec![None, s("0"), None]);
    }
}
