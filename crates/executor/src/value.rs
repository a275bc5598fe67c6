//! MySQL values decoded from text-protocol bytes by their column definition, compared
//! the way MySQL compares values of one column: NULL below everything (first in ASC, last
//! in DESC), integers signed or unsigned by value, DECIMAL exactly, DOUBLE as doubles,
//! strings by collation weights (see `collation`), DATE/DATETIME/TIMESTAMP/TIME by their
//! point in time. Only the columns the merge compares are decoded; the rest travel as
//! the bytes the data node sent.

use std::cmp::Ordering;

use strata_protocol::constants::coltype;
use strata_protocol::packets::ColumnDef;

use strata_mysql::temporal::{parse_canonical_datetime, parse_canonical_time};
use strata_mysql::Collation;
use strata_mysql::Decimal;

/// ENUM flag of a column definition (values sort by their index in MySQL).
pub const ENUM_FLAG: u16 = 256;
/// SET flag of a column definition (values sort by their bitmap in MySQL).
pub const SET_FLAG: u16 = 2048;

/// How the values of one result column are decoded and compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnKind {
    /// Only NULLs (`SELECT NULL`).
    Null,
    /// Signed integers (TINYINT .. BIGINT).
    Int,
    /// Unsigned integers and YEAR.
    UInt,
    /// YEAR(2): `70`..`99` are 1970..1999 and `00`..`69` are 2000..2069, and they sort
    /// so (decoded to the full year).
    TwoDigitYear,
    /// DECIMAL.
    Decimal,
    /// FLOAT and DOUBLE.
    Double,
    /// Strings (and BIT/BLOB/binary strings under the `binary` collation).
    Text {
        /// The comparison rules and the encoding of the bytes.
        collation: Collation,
        /// ENUM or SET: ORDER BY uses the member index, which the text does not carry.
        enum_or_set: bool,
    },
    /// DATE, DATETIME, TIMESTAMP.
    DateTime,
    /// TIME.
    Time,
}

impl ColumnKind {
    /// The kind of a column. `declared_collation` is the column's collation id when the
    /// planner knows it (column definitions only carry the result character set).
    /// `Err` names what Strata cannot compare.
    pub fn of(def: &ColumnDef, declared_collation: Option<u16>) -> Result<ColumnKind, String> {
        let unsigned = def.flags & strata_protocol::constants::colflag::UNSIGNED != 0;
        Ok(match def.col_type {
            coltype::NULL => ColumnKind::Null,
            coltype::TINY | coltype::SHORT | coltype::LONG | coltype::INT24 | coltype::LONGLONG => {
                if unsigned {
                    ColumnKind::UInt
                } else {
                    ColumnKind::Int
                }
            }
            coltype::YEAR if def.length == 2 => ColumnKind::TwoDigitYear,
            coltype::YEAR => ColumnKind::UInt,
            coltype::DECIMAL | coltype::NEWDECIMAL => ColumnKind::Decimal,
            coltype::FLOAT | coltype::DOUBLE => ColumnKind::Double,
            coltype::DATE | coltype::DATETIME | coltype::TIMESTAMP | NEWDATE => {
                ColumnKind::DateTime
            }
            coltype::TIME => ColumnKind::Time,
            coltype::BIT | coltype::GEOMETRY => ColumnKind::Text {
                collation: Collation::from_id(63).ok_or("binary collation")?,
                enum_or_set: false,
            },
            coltype::VARCHAR
            | coltype::VAR_STRING
            | coltype::STRING
            | coltype::ENUM
            | coltype::SET
            | coltype::TINY_BLOB
            | coltype::MEDIUM_BLOB
            | coltype::LONG_BLOB
            | coltype::BLOB
            | coltype::JSON => ColumnKind::Text {
                collation: crate::collation::for_column(def, declared_collation)?,
                enum_or_set: def.flags & (ENUM_FLAG | SET_FLAG) != 0
                    || matches!(def.col_type, coltype::ENUM | coltype::SET),
            },
            other => return Err(format!("comparing values of column type {other:#04x}")),
        })
    }

    /// The type name used in errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            ColumnKind::Null => "NULL",
            ColumnKind::Int => "integer",
            ColumnKind::UInt => "unsigned integer",
            ColumnKind::TwoDigitYear => "YEAR(2)",
            ColumnKind::Decimal => "DECIMAL",
            ColumnKind::Double => "DOUBLE",
            ColumnKind::Text { .. } => "string",
            ColumnKind::DateTime => "DATE/DATETIME",
            ColumnKind::Time => "TIME",
        }
    }

    /// Decodes one value of this column (`None` is SQL NULL). `Err` when the text is not
    /// a valid value of the type.
    pub fn decode(&self, bytes: Option<&[u8]>) -> Result<Value, InvalidValue> {
        let Some(bytes) = bytes else {
            return Ok(Value::Null);
        };
        let invalid = InvalidValue(self.type_name());
        let text = || std::str::from_utf8(bytes).map_err(|_| invalid);
        Ok(match self {
            ColumnKind::Null => Value::Null,
            ColumnKind::Int => Value::Int(text()?.parse().map_err(|_| invalid)?),
            ColumnKind::UInt => Value::UInt(text()?.parse().map_err(|_| invalid)?),
            ColumnKind::TwoDigitYear => {
                let two: u64 = text()?.parse().map_err(|_| invalid)?;
                Value::UInt(if two < 70 { 2000 + two } else { 1900 + two })
            }
            ColumnKind::Decimal => Value::Decimal(Decimal::parse(bytes).ok_or(invalid)?),
            ColumnKind::Double => {
                let v: f64 = text()?.parse().map_err(|_| invalid)?;
                if !v.is_finite() {
                    return Err(invalid);
                }
                Value::Double(v)
            }
            ColumnKind::Text { collation, .. } => Value::Text {
                key: collation.sort_key(bytes),
                collation: *collation,
            },
            ColumnKind::DateTime => {
                Value::DateTime(parse_canonical_datetime(bytes).ok_or(invalid)?)
            }
            ColumnKind::Time => Value::Time(parse_canonical_time(bytes).ok_or(invalid)?),
        })
    }
}

/// A value's text is not valid for its column type (named inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {0} value")]
pub struct InvalidValue(pub &'static str);

/// NEWDATE, an internal type some servers leak into result sets.
const NEWDATE: u8 = 0x0e;

/// A decoded value.
#[derive(Debug, Clone)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// An exact decimal.
    Decimal(Decimal),
    /// A double.
    Double(f64),
    /// A string as its collation sort key (trailing spaces dropped under PAD SPACE).
    Text {
        /// Collation weights.
        key: Box<[u32]>,
        /// The collation the key was made with.
        collation: Collation,
    },
    /// DATE/DATETIME/TIMESTAMP, packed so that integer order is time order.
    DateTime(i64),
    /// TIME in signed microseconds.
    Time(i64),
}

impl Value {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Bytes this value keeps on the heap (for the memory budget).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Text { key, .. } => key.len() * 4,
            Value::Decimal(_) => 16,
            _ => 0,
        }
    }

    /// Appends canonical bytes: two values of one column give equal bytes exactly when
    /// they compare equal (the key of grouping, DISTINCT and COUNT(DISTINCT)).
    pub fn write_key(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0),
            Value::Int(v) => write_exact(out, &v.to_string()),
            Value::UInt(v) => write_exact(out, &v.to_string()),
            Value::Decimal(d) => write_exact(out, &d.canonical()),
            Value::Double(v) => {
                out.push(2);
                let v = if *v == 0.0 { 0.0f64 } else { *v };
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            Value::Text { key, .. } => {
                out.push(3);
                out.extend_from_slice(&(key.len() as u64).to_be_bytes());
                for w in key.iter() {
                    out.extend_from_slice(&w.to_be_bytes());
                }
            }
            Value::DateTime(v) => {
                out.push(4);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Time(v) => {
                out.push(5);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
}

fn write_exact(out: &mut Vec<u8>, canonical: &str) {
    out.push(1);
    out.extend_from_slice(&(canonical.len() as u64).to_be_bytes());
    out.extend_from_slice(canonical.as_bytes());
}

/// Rank of each variant, ordering values that should never meet in one column.
fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Int(_) | Value::UInt(_) | Value::Decimal(_) | Value::Double(_) => 1,
        Value::Text { .. } => 2,
        Value::DateTime(_) => 3,
        Value::Time(_) => 4,
    }
}

fn to_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from_i128(i128::from(*i))),
        Value::UInt(u) => Some(Decimal::from_i128(i128::from(*u))),
        Value::Decimal(d) => Some(d.clone()),
        _ => None,
    }
}

fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::Decimal(d) => d.to_f64(),
        Value::Double(f) => *f,
        _ => 0.0,
    }
}

/// Compares two values of one column with MySQL's semantics (NULL smallest).
pub fn compare(a: &Value, b: &Value) -> Ordering {
    compare_prefix(a, b, usize::MAX)
}

/// Like `compare`, but strings compare on their first `chars` weights only (MariaDB
/// sorts long strings on a prefix of `max_sort_length` bytes; the merge's order check
/// must not call such ties out of order).
pub fn compare_prefix(a: &Value, b: &Value, chars: usize) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::UInt(x), Value::UInt(y)) => x.cmp(y),
        (Value::Int(x), Value::UInt(y)) => i128::from(*x).cmp(&i128::from(*y)),
        (Value::UInt(x), Value::Int(y)) => i128::from(*x).cmp(&i128::from(*y)),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        // total_cmp alone would order -0.0 below 0.0; MySQL treats them as equal.
        (Value::Double(x), Value::Double(y)) if x == y => Ordering::Equal,
        (Value::Double(x), Value::Double(y)) => x.total_cmp(y),
        (Value::Double(_), _) | (_, Value::Double(_)) if rank(a) == 1 && rank(b) == 1 => {
            let (x, y) = (to_f64(a), to_f64(b));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (
            Value::Text {
                key: x,
                collation: c,
            },
            Value::Text { key: y, .. },
        ) => {
            if chars == usize::MAX {
                c.compare_keys(x, y)
            } else {
                c.compare_keys(&x[..x.len().min(chars)], &y[..y.len().min(chars)])
            }
        }
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        _ if rank(a) == 1 && rank(b) == 1 => match (to_decimal(a), to_decimal(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => Ordering::Equal,
        },
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_protocol::constants::colflag;

    fn def(col_type: u8, flags: u16, charset: u16) -> ColumnDef {
        ColumnDef {
            col_type,
            flags,
            charset,
            ..ColumnDef::default()
        }
    }

    fn sort(kind: ColumnKind, texts: &[Option<&str>]) -> Vec<Option<String>> {
        let mut values: Vec<(Value, Option<&str>)> = texts
            .iter()
            .map(|t| (kind.decode(t.map(str::as_bytes)).unwrap(), *t))
            .collect();
        values.sort_by(|a, b| compare(&a.0, &b.0));
        values.into_iter().map(|v| v.1.map(String::from)).collect()
    }

    fn strs(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|s| s.map(String::from)).collect()
    }

    #[test]
    fn null_is_smallest_and_integers_compare_by_value() {
        let kind = ColumnKind::of(&def(coltype::LONGLONG, 0, 63), None).unwrap();
        let input = [
            Some("10"),
            None,
            Some("-3"),
            Some("9"),
            Some("-10"),
            Some("0"),
        ];
        assert_eq!(
            sort(kind, &input),
            strs(&[
                None,
                Some("-10"),
                Some("-3"),
                Some("0"),
                Some("9"),
                Some("10")
            ])
        );
    }

    #[test]
    fn two_digit_years_sort_by_the_year_they_stand_for() {
        // main.type_year: YEAR(2) values 70..99 are 1970..1999, 00..69 are 2000..2069.
        let year2 = ColumnDef {
            length: 2,
            ..def(coltype::YEAR, colflag::UNSIGNED, 63)
        };
        let kind = ColumnKind::of(&year2, None).unwrap();
        let input = [Some("00"), Some("99"), Some("69"), Some("70"), Some("01")];
        assert_eq!(
            sort(kind, &input),
            strs(&[Some("70"), Some("99"), Some("00"), Some("01"), Some("69")])
        );
        let year4 = ColumnDef {
            length: 4,
            ..def(coltype::YEAR, colflag::UNSIGNED, 63)
        };
        assert_eq!(ColumnKind::of(&year4, None).unwrap(), ColumnKind::UInt);
    }

    #[test]
    fn unsigned_bigints_above_i64_max_keep_their_order() {
        let kind = ColumnKind::of(&def(coltype::LONGLONG, colflag::UNSIGNED, 63), None).unwrap();
        let input = [
            Some("18446744073709551615"),
            Some("9223372036854775808"),
            Some("1"),
        ];
        assert_eq!(
            sort(kind, &input),
            strs(&[
                Some("1"),
                Some("9223372036854775808"),
                Some("18446744073709551615")
            ])
        );
    }

    #[test]
    fn decimals_compare_exactly() {
        let kind = ColumnKind::of(&def(coltype::NEWDECIMAL, 0, 63), None).unwrap();
        let a = kind
            .decode(Some(b"12345678901234567890.000000000000000001"))
            .unwrap();
        let b = kind
            .decode(Some(b"12345678901234567890.000000000000000000"))
            .unwrap();
        assert_eq!(compare(&a, &b), Ordering::Greater);
        let c = kind.decode(Some(b"-0.10")).unwrap();
        let d = kind.decode(Some(b"-0.1")).unwrap();
        assert_eq!(compare(&c, &d), Ordering::Equal);
    }

    #[test]
    fn doubles_treat_negative_zero_as_zero() {
        let kind = ColumnKind::of(&def(coltype::DOUBLE, 0, 63), None).unwrap();
        let z = kind.decode(Some(b"0")).unwrap();
        let nz = kind.decode(Some(b"-0")).unwrap();
        assert_eq!(compare(&z, &nz), Ordering::Equal);
        let (mut kz, mut knz) = (Vec::new(), Vec::new());
        z.write_key(&mut kz);
        nz.write_key(&mut knz);
        assert_eq!(kz, knz);
        let big = kind.decode(Some(b"1.2345678901234568e17")).unwrap();
        assert_eq!(compare(&big, &z), Ordering::Greater);
    }

    #[test]
    fn strings_compare_by_collation_and_keys_match_equality() {
        let kind = ColumnKind::of(&def(coltype::VAR_STRING, 0, 45), None).unwrap();
        let a = kind.decode(Some(b"Abc ")).unwrap();
        let b = kind.decode(Some(b"aBC")).unwrap();
        assert_eq!(compare(&a, &b), Ordering::Equal);
        let (mut ka, mut kb) = (Vec::new(), Vec::new());
        a.write_key(&mut ka);
        b.write_key(&mut kb);
        assert_eq!(ka, kb);
        let bin = ColumnKind::of(&def(coltype::VAR_STRING, colflag::BINARY, 45), None).unwrap();
        let a = bin.decode(Some(b"Abc")).unwrap();
        let b = bin.decode(Some(b"aBC")).unwrap();
        assert_eq!(compare(&a, &b), Ordering::Less);
    }

    #[test]
    fn prefix_comparison_ignores_differences_past_the_prefix() {
        let kind = ColumnKind::of(&def(coltype::VAR_STRING, 0, 45), None).unwrap();
        let a = kind.decode(Some(b"xxxxb")).unwrap();
        let b = kind.decode(Some(b"xxxxa")).unwrap();
        assert_eq!(compare_prefix(&a, &b, 4), Ordering::Equal);
        assert_eq!(compare_prefix(&a, &b, 5), Ordering::Greater);
    }

    #[test]
    fn temporal_values_compare_as_points_in_time() {
        let time = ColumnKind::of(&def(coltype::TIME, 0, 63), None).unwrap();
        let input = [
            Some("100:00:00"),
            Some("-10:00:00"),
            Some("09:00:00"),
            Some("-01:00:00"),
        ];
        assert_eq!(
            sort(time, &input),
            strs(&[
                Some("-10:00:00"),
                Some("-01:00:00"),
                Some("09:00:00"),
                Some("100:00:00")
            ])
        );
        let dt = ColumnKind::of(&def(coltype::DATETIME, 0, 63), None).unwrap();
        assert!(dt.decode(Some(b"2020-02-30x")).is_err());
    }

    #[test]
    fn bad_numbers_from_a_data_node_are_errors_not_panics() {
        for (t, text) in [
            (coltype::LONG, "abc"),
            (coltype::LONG, "99999999999999999999"),
            (coltype::NEWDECIMAL, "1e5"),
            (coltype::DOUBLE, "inf"),
            (coltype::DOUBLE, "x"),
            (coltype::TIME, "10"),
        ] {
            let kind = ColumnKind::of(&def(t, 0, 63), None).unwrap();
            assert!(kind.decode(Some(text.as_bytes())).is_err(), "{text}");
        }
    }

    #[test]
    fn enum_and_set_columns_are_flagged() {
        let kind = ColumnKind::of(&def(coltype::STRING, ENUM_FLAG, 45), None).unwrap();
        assert!(matches!(
            kind,
            ColumnKind::Text {
                enum_or_set: true,
                ..
            }
        ));
    }
}
