//! Sharding keys in canonical form: a column type parsed from its definition
//! ([`KeyType::from_column_definition`]) and the literal-to-key conversions that make every
//! literal form of one stored value route alike.
//!
//! [`canonical_key`] is the value MariaDB stores when the literal is inserted into the
//! column (non-strict conversions included: `'abc'` into INT is 0, `5.5` is 6), so the row
//! lands where later lookups look. [`comparison_key`] is the key of the rows that
//! `column = literal` can match, or `None` when rows with different keys can match (a
//! number compared with a string column compares as DOUBLE). [`bound_key`] turns `<`,
//! `<=`, `>`, `>=` on integer columns into inclusive integer bounds.

use column_def::ColumnDef;
use std::ops::Bound;
use strata_mysql::temporal::{integer_datetime, IntegerDatetime};
use temporal::temporal_of;
use year::{exact_year, stored_year};

use super::{KeyLiteral, KeyType, KeyValue, ShardingError};
use strata_mysql::number::scan_number_prefix;
use strata_mysql::{Charset, Collation};

/// Largest DECIMAL precision (digits).
const MAX_DECIMAL_DIGITS: usize = 65;

/// Largest DECIMAL scale in MariaDB.
const MAX_DECIMAL_SCALE: u32 = 38;

/// A comparison of the sharding column with a literal, for range pruning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    /// `column > literal`.
    Greater,
    /// `column >= literal`.
    GreaterEqual,
    /// `column < literal`.
    Less,
    /// `column <= literal`.
    LessEqual,
}

impl KeyType {
    /// Parses a MySQL column type (`int(11) unsigned`, `varchar(32) collate utf8mb4_bin`,
    /// `decimal(10,2)`, `datetime(3)`) into the key type routing needs. The collation of a
    /// string column is the first of: COLLATE in `type_text`, `collation`, the default of a
    /// CHARACTER SET in `type_text`, `table_default_collation` (a collation or a charset
    /// name), `utf8mb4_general_ci`. FLOAT/DOUBLE/REAL, TEXT/BLOB, JSON, ENUM/SET, BIT,
    /// TIMESTAMP and other types are refused with an error naming the type.
    pub fn from_column_definition(
        type_text: &str,
        collation: Option<&str>,
        table_default_collation: Option<&str>,
    ) -> Result<KeyType, ShardingError> {
        let def = ColumnDef::parse(type_text)?;
        let refuse = |reason: &str| Err(ShardingError::unsupported_key_type(&def.base, reason));
        match def.base.as_str() {
            "tinyint" | "smallint" | "mediumint" | "middleint" | "int" | "integer" | "bigint"
            | "int1" | "int2" | "int3" | "int4" | "int8" | "bool" | "boolean" => {
                Ok(KeyType::Integer {
                    unsigned: def.unsigned,
                    bytes: width::integer_bytes(&def.base),
                })
            }
            "serial" => Ok(KeyType::Integer {
                unsigned: true,
                bytes: Some(8),
            }),
            "decimal" | "dec" | "numeric" | "fixed" => {
                let scale = def.args.get(1).copied().unwrap_or(0);
                // DECIMAL and DECIMAL(0) are DECIMAL(10,0) in MariaDB.
                let precision = match def.args.first().copied() {
                    None | Some(0) => 10,
                    Some(p) => p,
                };
                if scale > MAX_DECIMAL_SCALE || u64::from(scale) > u64::from(precision) {
                    return refuse(&format!(
                        "scale {scale} is not valid for precision {precision}"
                    ));
                }
                Ok(KeyType::Decimal {
                    scale,
                    precision: Some(precision),
                    unsigned: def.unsigned,
                })
            }
            "float" | "double" | "real" | "float4" | "float8" => {
                refuse("approximate numbers do not compare exactly; use DECIMAL or an integer type")
            }
            "char" | "varchar" | "varchar2" | "nchar" | "nvarchar" => {
                let collation = def.collation(collation, table_default_collation)?;
                let length = def.length();
                if collation.charset() == Charset::Binary {
                    Ok(KeyType::Binary { length })
                } else {
                    Ok(KeyType::String {
                        collation: collation.name().to_string(),
                        length,
                    })
                }
            }
            "binary" | "varbinary" => Ok(KeyType::Binary {
                length: def.length(),
            }),
            "tinytext" | "text" | "mediumtext" | "longtext" | "long" | "long varchar" => {
                refuse("TEXT columns cannot be sharding keys; use VARCHAR")
            }
            "tinyblob" | "blob" | "mediumblob" | "longblob" | "long varbinary" => {
                refuse("BLOB columns cannot be sharding keys; use VARBINARY")
            }
            "json" => refuse("JSON columns cannot be sharding keys"),
            "enum" | "set" => refuse("ENUM and SET columns cannot be sharding keys yet"),
            "bit" => refuse("BIT columns cannot be sharding keys; use an integer type"),
            "timestamp" => refuse("TIMESTAMP values depend on the session time zone; use DATETIME"),
            "date" | "datetime" | "time" | "year" => Ok(KeyType::Temporal { kind: def.base }),
            _ => refuse("this column type cannot be a sharding key"),
        }
    }

    /// A column definition that [`KeyType::from_column_definition`] reads back as this
    /// key type (used to persist it). An unknown width is written as catalogs written
    /// before widths were kept wrote it (`bigint`, `decimal(65,s)`, `varchar(1)`), which
    /// reads back with a width: clear it with [`KeyType::without_width`] unless
    /// [`KeyType::has_width`] held when it was written.
    pub fn to_column_definition(&self) -> String {
        let sign = |unsigned: bool| if unsigned { " unsigned" } else { "" };
        match self {
            KeyType::Integer { unsigned, bytes } => {
                format!("{}{}", width::integer_name(*bytes), sign(*unsigned))
            }
            KeyType::Decimal {
                scale,
                precision,
                unsigned,
            } => format!(
                "decimal({},{scale}){}",
                precision.map_or(MAX_DECIMAL_DIGITS, |p| p as usize),
                sign(*unsigned)
            ),
            KeyType::String { collation, length } => {
                format!("varchar({}) collate {collation}", length.unwrap_or(1))
            }
            KeyType::Binary { length } => format!("varbinary({})", length.unwrap_or(1)),
            KeyType::Temporal { kind } => kind.clone(),
        }
    }

    /// The collation of a string key type.
    fn collation(&self) -> Result<Collation, ShardingError> {
        match self {
            KeyType::String { collation, .. } => Collation::from_name(collation)
                .ok_or_else(|| ShardingError::unsupported_collation(collation)),
            other => Err(ShardingError::unsupported_key_type(
                &other.to_string(),
                "not a string type",
            )),
        }
    }

    /// Checks that literals of this key type can be canonicalized (known collation and
    /// temporal kind, scale in range).
    pub fn validate(&self) -> Result<(), ShardingError> {
        match self {
            KeyType::String { .. } => self.collation().map(|_| ()),
            KeyType::Decimal { scale, .. } if *scale > MAX_DECIMAL_SCALE => {
                Err(ShardingError::unsupported_key_type(
                    &format!("decimal scale {scale}"),
                    "scale exceeds 38",
                ))
            }
            KeyType::Temporal { kind }
                if !matches!(kind.as_str(), "date" | "datetime" | "time" | "year") =>
            {
                Err(ShardingError::unsupported_key_type(
                    kind,
                    "unknown temporal type",
                ))
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyType::Integer {
                unsigned: false, ..
            } => f.write_str("INTEGER"),
            KeyType::Integer { unsigned: true, .. } => f.write_str("INTEGER UNSIGNED"),
            KeyType::Decimal { scale, .. } => write!(f, "DECIMAL(_,{scale})"),
            KeyType::String { collation, .. } => write!(f, "VARCHAR COLLATE {collation}"),
            KeyType::Binary { .. } => f.write_str("VARBINARY"),
            KeyType::Temporal { kind } => f.write_str(&kind.to_ascii_uppercase()),
        }
    }
}

/// The key a row gets when `literal` is inserted into a column of `key_type`: the value
/// MariaDB stores, in canonical form. Conversions follow MariaDB 10.11 in non-strict
/// mode (in strict mode the data node refuses those rows, so their route is moot):
/// integers round half away from zero from decimal and string literals and half to even
/// from float literals (`2.5e0`); a string is read up to its first non-numeric character
/// (`'5abc'` is 5, `'abc'` is 0). Values the column cannot hold are clipped to its width
/// as MariaDB stores them (300 into a TINYINT UNSIGNED is 255, `'abcdef'` into a
/// VARCHAR(3) is `'abc'`); without a known width, values outside BIGINT (UNSIGNED) are
/// errors. Strings get their collation weight. Temporal values are parsed to canonical
/// text; what cannot be parsed exactly is an error rather than a guess.
pub fn canonical_key(key_type: &KeyType, literal: &KeyLiteral) -> Result<KeyValue, ShardingError> {
    stored_key(key_type, literal).map(|(key, _)| key)
}

/// [`canonical_key`], and whether the column's width changed the value (an integer
/// clamped to its type's range, a decimal to its precision, a string or bytes cut to
/// the column's length) so that the stored value no longer equals the literal.
fn stored_key(key_type: &KeyType, literal: &KeyLiteral) -> Result<(KeyValue, bool), ShardingError> {
    if matches!(literal, KeyLiteral::Null) {
        return Ok((KeyValue::Null, false));
    }
    match key_type {
        KeyType::Integer { unsigned, bytes } => {
            let value = integer_of(literal)?;
            let Some((low, high)) = bytes.and_then(|b| width::integer_range(b, *unsigned)) else {
                check_integer_range(value, *unsigned, literal)?;
                return Ok((KeyValue::Int(value), false));
            };
            let stored = value.clamp(low, high);
            Ok((KeyValue::Int(stored), stored != value))
        }
        KeyType::Decimal {
            scale,
            precision,
            unsigned,
        } => decimal_of(literal, *scale, *precision, *unsigned)
            .map(|(text, clipped)| (KeyValue::Decimal(text), clipped)),
        KeyType::String { length, .. } => {
            let collation = key_type.collation()?;
            let text = text_of(literal, key_type)?;
            let weight = |text: &[u8]| {
                collation
                    .weight_string(text)
                    .map(KeyValue::Weight)
                    .map_err(|e| invalid(literal, key_type, &e.to_string(), 1366))
            };
            match width::cut_chars(&text, collation.charset(), *length) {
                Some(cut) => {
                    let key = weight(cut)?;
                    let clipped = weight(&text).ok().as_ref() != Some(&key);
                    Ok((key, clipped))
                }
                None => Ok((weight(&text)?, false)),
            }
        }
        KeyType::Binary { length } => {
            let full = text_of(literal, key_type)?;
            let cut = width::cut_bytes(&full, *length);
            let clipped = width::without_zero_tail(cut) != width::without_zero_tail(&full);
            Ok((
                KeyValue::Bytes(width::without_zero_tail(cut).to_vec()),
                clipped,
            ))
        }
        KeyType::Temporal { kind } => Ok((temporal_of(kind, literal, key_type)?, false)),
    }
}

/// The key of every row that `column = literal` can match, or `None` when rows with
/// different keys can match or the literal cannot be converted (scatter: correct, if
/// slower). Errors only for key types that cannot be routed at all.
pub fn comparison_key(
    key_type: &KeyType,
    literal: &KeyLiteral,
) -> Result<Option<KeyValue>, ShardingError> {
    key_type.validate()?;
    let ambiguous = match (key_type, literal) {
        // A number compared with a string compares as DOUBLE: '5', '05', '5.0' all match 5.
        (
            KeyType::String { .. } | KeyType::Binary { .. },
            KeyLiteral::Integer(_) | KeyLiteral::Number(_),
        ) => true,
        // A float literal compares as DOUBLE with a DECIMAL column (0.30000000000000004e0
        // matches 0.30000000000000004441) and loses integers beyond 2^53.
        (KeyType::Decimal { .. }, KeyLiteral::Number(t)) if is_float_literal(t) => true,
        (KeyType::Integer { .. }, KeyLiteral::Number(t)) if is_float_literal(t) => {
            !matches!(t.trim().parse::<f64>(), Ok(f) if f.abs() < 9_007_199_254_740_992.0)
        }
        (KeyType::Temporal { .. }, KeyLiteral::Number(_)) => true,
        (KeyType::Temporal { kind }, _) if kind == "year" => exact_year(literal).is_none(),
        // An integer stored as 0000-00-00 is compared as MariaDB converts it for a
        // comparison, which may differ: any node.
        (KeyType::Temporal { kind }, KeyLiteral::Integer(t))
            if kind == "date" || kind == "datetime" =>
        {
            !matches!(integer_datetime(t), IntegerDatetime::Stored(..))
        }
        _ => false,
    };
    if ambiguous {
        return Ok(None);
    }
    // A literal the column cannot hold (300 for a TINYINT) matches no row; its stored
    // form (255) must not route the lookup to rows that hold that value.
    Ok(stored_key(key_type, literal)
        .ok()
        .and_then(|(key, clipped)| (!clipped).then_some(key)))
}

/// The bound that `column <op> literal` puts on an integer sharding column, as an
/// inclusive integer bound (`id > 5.5` is `id >= 6`). `None` when no bound can be derived
/// exactly (non-integer key types, float literals beyond 2^53, unparsable literals).
pub fn bound_key(key_type: &KeyType, literal: &KeyLiteral, op: RangeOp) -> Option<Bound<KeyValue>> {
    if !matches!(key_type, KeyType::Integer { .. }) {
        return None;
    }
    let dec = match literal {
        KeyLiteral::Integer(t) => Dec::parse_exact(t)?,
        KeyLiteral::Number(t) if is_float_literal(t) => {
            let f = t.trim().parse::<f64>().ok()?;
            if !f.is_finite() || f.abs() >= 9_007_199_254_740_992.0 {
                return None;
            }
            Dec::parse_exact(&format!("{f:e}"))?
        }
        KeyLiteral::Number(t) => Dec::parse_exact(t)?,
        KeyLiteral::String(b) => Dec::parse_prefix(b),
        KeyLiteral::Bytes(b) => Dec::from_u64(bytes_to_u64(b)?),
        KeyLiteral::Null => return None,
    };
    let (floor, exact) = dec.floor()?;
    let value = match op {
        RangeOp::Greater => floor + 1,
        RangeOp::GreaterEqual if exact => floor,
        RangeOp::GreaterEqual => floor + 1,
        RangeOp::Less if exact => floor - 1,
        RangeOp::Less | RangeOp::LessEqual => floor,
    };
    Some(Bound::Included(KeyValue::Int(value)))
}

/// The canonical key of a MATCH list value for a column of `key_type`: numbers must be
/// written as numbers; other values are read as string literals.
pub(super) fn match_value_key(key_type: &KeyType, value: &str) -> Result<KeyValue, ShardingError> {
    let literal = match key_type {
        KeyType::Integer { .. } | KeyType::Decimal { .. } if !value.is_empty() => {
            if Dec::parse_exact(value).is_none() {
                return Err(ShardingError::invalid_value(
                    value,
                    key_type,
                    "a MATCH value for a numeric column must be a number",
                    1366,
                ));
            }
            KeyLiteral::Number(value.trim().to_string())
        }
        _ => KeyLiteral::String(value.as_bytes().to_vec()),
    };
    canonical_key(key_type, &literal)
}

fn is_float_literal(text: &str) -> bool {
    text.contains(['e', 'E'])
}

/// An InvalidValue error for `literal`.
fn invalid(literal: &KeyLiteral, key_type: &KeyType, reason: &str, code: u16) -> ShardingError {
    ShardingError::invalid_value(&literal_text(literal), key_type, reason, code)
}

/// A literal as a user would recognize it in an error message.
pub(super) fn literal_text(literal: &KeyLiteral) -> String {
    match literal {
        KeyLiteral::Null => "NULL".into(),
        KeyLiteral::Integer(t) | KeyLiteral::Number(t) => t.clone(),
        KeyLiteral::String(b) => String::from_utf8_lossy(b).into_owned(),
        KeyLiteral::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
            format!("0x{hex}")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Numbers

/// An exact decimal: `digits` (ASCII, no leading zeros; empty for zero) times 10^`exp`.
#[derive(Debug, Clone, PartialEq)]
struct Dec {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Dec {
    fn from_u64(v: u64) -> Dec {
        Dec::from_parts(false, v.to_string().into_bytes(), 0)
    }

    fn from_parts(neg: bool, mut digits: Vec<u8>, exp: i64) -> Dec {
        let lead = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..lead);
        Dec { neg, digits, exp }
    }

    /// MySQL's string-to-number reading (the scanner the merge uses too); nothing
    /// numeric is 0. Returns the number and how many bytes it used.
    fn parse_prefix_len(text: &[u8]) -> (Dec, usize) {
        match scan_number_prefix(text) {
            Some(p) => (Dec::from_parts(p.negative, p.digits, p.exponent), p.end),
            None => (Dec::from_parts(false, Vec::new(), 0), 0),
        }
    }

    fn parse_prefix(text: &[u8]) -> Dec {
        Dec::parse_prefix_len(text).0
    }

    /// A number literal as written in SQL: the whole text must be the number.
    fn parse_exact(text: &str) -> Option<Dec> {
        let t = text.trim();
        let (dec, used) = Dec::parse_prefix_len(t.as_bytes());
        (used == t.len() && used > 0).then_some(dec)
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The value times 10^scale, rounded half away from zero, as digits (no sign); None
    /// when it would have more than `max_digits` digits.
    fn scaled_round(&self, scale: u32, max_digits: usize) -> Option<Vec<u8>> {
        let shift = self.exp + i64::from(scale);
        let mut out = self.digits.clone();
        if shift >= 0 {
            let shift = usize::try_from(shift).ok()?;
            if out.len() + shift > max_digits && !out.is_empty() {
                return None;
            }
            if !out.is_empty() {
                out.extend(std::iter::repeat_n(b'0', shift));
            }
        } else {
            let drop = usize::try_from(-shift).ok()?;
            if drop > out.len() {
                return Some(Vec::new());
            }
            let round_up = out[out.len() - drop] >= b'5';
            out.truncate(out.len() - drop);
            if round_up {
                increment(&mut out);
            }
            let lead = out.iter().take_while(|&&d| d == b'0').count();
            out.drain(..lead);
            if out.len() > max_digits {
                return None;
            }
        }
        Some(out)
    }

    /// Rounded half away from zero to an integer; None beyond i128.
    fn round_to_i128(&self) -> Option<i128> {
        let digits = self.scaled_round(0, 39)?;
        digits_to_i128(&digits, self.neg)
    }

    /// The floor as an i128 and whether the value is an integer.
    fn floor(&self) -> Option<(i128, bool)> {
        let (int_digits, frac_nonzero) = if self.exp >= 0 {
            let mut d = self.digits.clone();
            if !d.is_empty() {
                let exp = usize::try_from(self.exp).ok()?;
                if d.len() + exp > 39 {
                    return None;
                }
                d.extend(std::iter::repeat_n(b'0', exp));
            }
            (d, false)
        } else {
            let frac = usize::try_from(-self.exp).ok()?;
            let keep = self.digits.len().saturating_sub(frac);
            let nonzero = self.digits[keep..].iter().any(|&d| d != b'0');
            (self.digits[..keep].to_vec(), nonzero)
        };
        let v = digits_to_i128(&int_digits, self.neg)?;
        if frac_nonzero && self.neg {
            Some((v - 1, false))
        } else {
            Some((v, !frac_nonzero))
        }
    }
}

fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, b'1');
}

fn digits_to_i128(digits: &[u8], neg: bool) -> Option<i128> {
    let mut v: i128 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

/// Big-endian bytes of a hex/bit literal as an unsigned integer.
fn bytes_to_u64(bytes: &[u8]) -> Option<u64> {
    let lead = bytes.iter().take_while(|&&b| b == 0).count();
    let rest = &bytes[lead..];
    if rest.len() > 8 {
        return None;
    }
    Some(rest.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// The integer MariaDB stores for `literal` in an integer column (before range checks).
fn integer_of(literal: &KeyLiteral) -> Result<i128, ShardingError> {
    let int_type = KeyType::Integer {
        unsigned: false,
        bytes: None,
    };
    let out_of_range = || invalid(literal, &int_type, "out of range", 1264);
    match literal {
        KeyLiteral::Null => Err(invalid(literal, &int_type, "NULL", 1048)),
        KeyLiteral::Integer(t) => {
            let dec = Dec::parse_exact(t)
                .ok_or_else(|| invalid(literal, &int_type, "not an integer literal", 1366))?;
            dec.round_to_i128().ok_or_else(out_of_range)
        }
        KeyLiteral::Number(t) if is_float_literal(t) => {
            let f =
                parse_float(t).ok_or_else(|| invalid(literal, &int_type, "not a number", 1366))?;
            let r = f.round_ties_even();
            if !(-1.8e19..=1.9e19).contains(&r) {
                return Err(out_of_range());
            }
            // In range of i128 by the check above.
            Ok(r as i128)
        }
        KeyLiteral::Number(t) => Dec::parse_exact(t)
            .ok_or_else(|| invalid(literal, &int_type, "not a number", 1366))?
            .round_to_i128()
            .ok_or_else(out_of_range),
        KeyLiteral::String(b) => Dec::parse_prefix(b)
            .round_to_i128()
            .ok_or_else(out_of_range),
        KeyLiteral::Bytes(b) => bytes_to_u64(b).map(i128::from).ok_or_else(out_of_range),
    }
}

fn parse_float(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

fn check_integer_range(
    value: i128,
    unsigned: bool,
    literal: &KeyLiteral,
) -> Result<(), ShardingError> {
    let ok = if unsigned {
        (0..=i128::from(u64::MAX)).contains(&value)
    } else {
        (i128::from(i64::MIN)..=i128::from(i64::MAX)).contains(&value)
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            literal,
            &KeyType::Integer {
                unsigned,
                bytes: None,
            },
            "out of range",
            1264,
        ))
    }
}

/// The canonical text of a DECIMAL(precision, scale) value: exactly `scale` fraction
/// digits, no sign on zero; values beyond the precision (or negative for UNSIGNED) are
/// clamped as MariaDB stores them, and the flag says so. An unknown precision refuses
/// values beyond 65 digits.
fn decimal_of(
    literal: &KeyLiteral,
    scale: u32,
    precision: Option<u32>,
    unsigned: bool,
) -> Result<(String, bool), ShardingError> {
    let key_type = KeyType::Decimal {
        scale,
        precision,
        unsigned,
    };
    let bad = |reason: &str, code| invalid(literal, &key_type, reason, code);
    let dec = match literal {
        KeyLiteral::Null => return Err(bad("NULL", 1048)),
        KeyLiteral::Integer(t) => {
            Dec::parse_exact(t).ok_or_else(|| bad("not an integer literal", 1366))?
        }
        KeyLiteral::Number(t) if is_float_literal(t) => {
            let f = parse_float(t).ok_or_else(|| bad("not a number", 1366))?;
            // MariaDB converts a double to DECIMAL through its shortest decimal form.
            Dec::parse_exact(&format!("{f:e}")).ok_or_else(|| bad("not a number", 1366))?
        }
        KeyLiteral::Number(t) => Dec::parse_exact(t).ok_or_else(|| bad("not a number", 1366))?,
        KeyLiteral::String(b) => Dec::parse_prefix(b),
        KeyLiteral::Bytes(b) => {
            Dec::from_u64(bytes_to_u64(b).ok_or_else(|| bad("out of range", 1264))?)
        }
    };
    let scale_digits = usize::try_from(scale).unwrap_or(usize::MAX);
    let max_digits = precision.map_or(MAX_DECIMAL_DIGITS, |p| {
        usize::try_from(p).unwrap_or(MAX_DECIMAL_DIGITS)
    });
    let mut clipped = false;
    let mut dec = dec;
    if unsigned && dec.neg && !dec.is_zero() {
        dec = Dec::from_parts(false, Vec::new(), 0);
        clipped = true;
    }
    let digits = match (dec.scaled_round(scale, max_digits), precision) {
        (Some(digits), _) => digits,
        (None, Some(_)) => {
            clipped = true;
            vec![b'9'; max_digits]
        }
        (None, None) => return Err(bad("out of range", 1264)),
    };
    let zero = digits.is_empty();
    let mut padded = digits;
    if padded.len() <= scale_digits {
        let missing = scale_digits + 1 - padded.len();
        padded.splice(0..0, std::iter::repeat_n(b'0', missing));
    }
    let split = padded.len() - scale_digits;
    let mut text = String::with_capacity(padded.len() + 2);
    if dec.neg && !zero && !dec.is_zero() {
        text.push('-');
    }
    text.push_str(&String::from_utf8_lossy(&padded[..split]));
    if scale_digits > 0 {
        text.push('.');
        text.push_str(&String::from_utf8_lossy(&padded[split..]));
    }
    Ok((text, clipped))
}

/// The text a string or binary column stores for `literal` (before collation).
fn text_of(literal: &KeyLiteral, key_type: &KeyType) -> Result<Vec<u8>, ShardingError> {
    match literal {
        KeyLiteral::Null => Err(invalid(literal, key_type, "NULL", 1048)),
        KeyLiteral::String(b) | KeyLiteral::Bytes(b) => Ok(b.clone()),
        KeyLiteral::Integer(t) => {
            let dec = Dec::parse_exact(t)
                .ok_or_else(|| invalid(literal, key_type, "not an integer literal", 1366))?;
            let mut out = Vec::new();
            if dec.neg && !dec.is_zero() {
                out.push(b'-');
            }
            if dec.is_zero() {
                out.push(b'0');
            } else {
                out.extend_from_slice(&dec.digits);
            }
            Ok(out)
        }
        KeyLiteral::Number(t) if is_float_literal(t) => Err(invalid(
            literal,
            key_type,
            "a float literal stored into a string column is not supported; quote it",
            1235,
        )),
        KeyLiteral::Number(t) => {
            // A decimal literal keeps its written scale: 5.50 is '5.50', .5 is '0.5'.
            let t = t.trim();
            let (neg, body) = match t.as_bytes().first() {
                Some(b'-') => (true, &t[1..]),
                Some(b'+') => (false, &t[1..]),
                _ => (false, t),
            };
            let (int, frac) = body.split_once('.').unwrap_or((body, ""));
            if !int.bytes().all(|b| b.is_ascii_digit())
                || !frac.bytes().all(|b| b.is_ascii_digit())
                || (int.is_empty() && frac.is_empty())
            {
                return Err(invalid(literal, key_type, "not a number", 1366));
            }
            let int = int.trim_start_matches('0');
            let zero = int.is_empty() && frac.bytes().all(|b| b == b'0');
            let mut out = String::new();
            if neg && !zero {
                out.push('-');
            }
            out.push_str(if int.is_empty() { "0" } else { int });
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
            Ok(out.into_bytes())
        }
    }
}

mod column_def;
mod temporal;
#[cfg(test)]
mod tests;
mod width;
mod year;
