//! The DATE, DATETIME, TIME or YEAR a sharding key's literal is placed by: the value
//! MariaDB stores for it.

use strata_mysql::temporal::{stored_datetime, stored_time};

use super::*;

/// The key of a temporal column's literal (1292 for what Strata cannot read exactly).
pub(super) fn temporal_of(
    kind: &str,
    literal: &KeyLiteral,
    key_type: &KeyType,
) -> Result<KeyValue, ShardingError> {
    let bad = |reason: &str| invalid(literal, key_type, reason, 1292);
    if kind == "year" {
        return stored_year(literal)
            .map(KeyValue::Int)
            .ok_or_else(|| bad("not a valid YEAR"));
    }
    if let (KeyLiteral::Integer(t), "date" | "datetime") = (literal, kind) {
        // Placed where MariaDB stores it: an integer no SQL mode reads as a date is
        // 0000-00-00 (INSERT IGNORE; in strict mode the data node's own error), main.type_date.
        let (date, time) = match integer_datetime(t) {
            IntegerDatetime::Stored(date, time) => (date, time),
            IntegerDatetime::Invalid => ("0000-00-00".to_string(), "00:00:00".to_string()),
            IntegerDatetime::Unknown => {
                return Err(bad(&format!(
                    "not a {} value Strata can read exactly",
                    kind.to_ascii_uppercase()
                )))
            }
        };
        let text = if kind == "date" {
            date
        } else {
            format!("{date} {time}")
        };
        return Ok(KeyValue::Bytes(text.into_bytes()));
    }
    let text: String = match literal {
        KeyLiteral::Null => return Err(bad("NULL")),
        KeyLiteral::String(b) | KeyLiteral::Bytes(b) => {
            String::from_utf8_lossy(b).trim().to_string()
        }
        KeyLiteral::Integer(t) => t.trim().to_string(),
        KeyLiteral::Number(t) if is_float_literal(t) => {
            return Err(bad("a float literal is not a temporal value"))
        }
        KeyLiteral::Number(t) => {
            // 20240102030405.5: fractional seconds, dropped like every fraction.
            let (int, frac) = t.trim().split_once('.').unwrap_or((t.trim(), ""));
            if kind == "date" && frac.bytes().any(|b| b != b'0') {
                return Err(bad("a DATE has no fraction"));
            }
            int.to_string()
        }
    };
    let numeric = matches!(literal, KeyLiteral::Integer(_) | KeyLiteral::Number(_));
    let canonical = match kind {
        "date" => stored_datetime(&text, numeric).map(|(d, _)| d),
        "datetime" => stored_datetime(&text, numeric).map(|(d, t)| format!("{d} {t}")),
        "time" => stored_time(&text),
        _ => {
            return Err(ShardingError::unsupported_key_type(
                kind,
                "unknown temporal type",
            ))
        }
    };
    canonical
        .map(|c| KeyValue::Bytes(c.into_bytes()))
        .ok_or_else(|| {
            bad(&format!(
                "not a {} value Strata can read exactly",
                kind.to_ascii_uppercase()
            ))
        })
}
