//! Column widths of sharding keys: integer sizes and their ranges, string and binary
//! lengths. MariaDB clips a value that does not fit (in non-strict sql_mode, or with
//! INSERT IGNORE): 300 into a TINYINT UNSIGNED is stored as 255, `'abcdef'` into a
//! VARCHAR(3) as `'abc'`; a row routes by the value stored.

use strata_mysql::Charset;

use super::KeyType;

/// The storage size in bytes of an integer column type (its base name, lower-case).
pub(super) fn integer_bytes(base: &str) -> Option<u8> {
    match base {
        "tinyint" | "int1" | "bool" | "boolean" => Some(1),
        "smallint" | "int2" => Some(2),
        "mediumint" | "middleint" | "int3" => Some(3),
        "int" | "integer" | "int4" => Some(4),
        "bigint" | "int8" => Some(8),
        _ => None,
    }
}

/// The column type name of an integer of `bytes` bytes (BIGINT when unknown).
pub(super) fn integer_name(bytes: Option<u8>) -> &'static str {
    match bytes {
        Some(1) => "tinyint",
        Some(2) => "smallint",
        Some(3) => "mediumint",
        Some(4) => "int",
        _ => "bigint",
    }
}

/// The inclusive range of an integer column of `bytes` bytes, or None for sizes that
/// are not integer column sizes.
pub(super) fn integer_range(bytes: u8, unsigned: bool) -> Option<(i128, i128)> {
    if !matches!(bytes, 1..=4 | 8) {
        return None;
    }
    let bits = u32::from(bytes) * 8;
    Some(if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    })
}

/// The first `length` characters of `text` in `charset`, or None when the length is
/// unknown, `text` fits, or is not valid in the charset (then the weight reports it).
pub(super) fn cut_chars(text: &[u8], charset: Charset, length: Option<u32>) -> Option<&[u8]> {
    let length = usize::try_from(length?).ok()?;
    match charset {
        Charset::Utf8mb4 | Charset::Utf8mb3 => {
            let s = std::str::from_utf8(text).ok()?;
            let (end, _) = s.char_indices().nth(length)?;
            Some(&text[..end])
        }
        Charset::Latin1 | Charset::Ascii | Charset::Binary => {
            (text.len() > length).then(|| &text[..length])
        }
    }
}

/// The first `length` bytes of `bytes` (all of them when the length is unknown).
pub(super) fn cut_bytes(bytes: &[u8], length: Option<u32>) -> &[u8] {
    match length.and_then(|l| usize::try_from(l).ok()) {
        Some(l) if l < bytes.len() => &bytes[..l],
        _ => bytes,
    }
}

/// `bytes` without trailing zero bytes: BINARY(n) pads with them, so they are no part
/// of a binary key.
pub(super) fn without_zero_tail(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

impl KeyType {
    /// True when the key type knows its column's width (integer size, DECIMAL
    /// precision, string or binary length).
    pub fn has_width(&self) -> bool {
        match self {
            KeyType::Integer { bytes, .. } => bytes.is_some(),
            KeyType::Decimal { precision, .. } => precision.is_some(),
            KeyType::String { length, .. } | KeyType::Binary { length } => length.is_some(),
            KeyType::Temporal { .. } => false,
        }
    }

    /// This key type with its width unknown (and DECIMAL not UNSIGNED), as catalogs
    /// written before widths were kept describe it: values route as written, BIGINT
    /// range and 65 decimal digits at most.
    pub fn without_width(self) -> KeyType {
        match self {
            KeyType::Integer { unsigned, .. } => KeyType::Integer {
                unsigned,
                bytes: None,
            },
            KeyType::Decimal { scale, .. } => KeyType::Decimal {
                scale,
                precision: None,
                unsigned: false,
            },
            KeyType::String { collation, .. } => KeyType::String {
                collation,
                length: None,
            },
            KeyType::Binary { .. } => KeyType::Binary { length: None },
            other @ KeyType::Temporal { .. } => other,
        }
    }
}
