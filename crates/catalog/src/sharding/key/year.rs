//! The YEAR a sharding key's literal stands for: what MariaDB stores (placement) and
//! what it names exactly (comparisons).

use super::*;

/// The YEAR MariaDB stores for `literal` in non-strict mode (`Field_year::store`): what
/// is out of range (below 0, 100 to 1900, above 2155) is 0000; a string is read like an
/// integer, rounded (`'1.5'` is 2002, `'5abc'` 2005, nothing numeric 0000); a value below
/// 100 is a two-digit year, except the integer 0 and the string `'0000'`, which are 0000.
/// None only for NULL and unreadable number literals.
pub(super) fn stored_year(literal: &KeyLiteral) -> Option<i128> {
    let (value, zero_is_2000) = match literal {
        KeyLiteral::Null => return None,
        KeyLiteral::String(b) | KeyLiteral::Bytes(b) => {
            let (dec, used) = Dec::parse_prefix_len(b);
            if used == 0 {
                return Some(0);
            }
            (dec.round_to_i128(), b.len() != 4)
        }
        KeyLiteral::Integer(t) => (Dec::parse_exact(t)?.round_to_i128(), false),
        KeyLiteral::Number(t) if is_float_literal(t) => {
            let f = parse_float(t)?;
            if !(0.0..=2155.0).contains(&f) {
                return Some(0);
            }
            // In range of i128 by the check above.
            (Some(f.round_ties_even() as i128), false)
        }
        KeyLiteral::Number(t) => (Dec::parse_exact(t)?.round_to_i128(), false),
    };
    let Some(value) = value else {
        return Some(0);
    };
    Some(match value {
        v if v < 0 || (100..=1900).contains(&v) || v > 2155 => 0,
        0 if !zero_is_2000 => 0,
        v @ 0..=69 => 2000 + v,
        v @ 70..=99 => 1900 + v,
        v => v,
    })
}

/// The year a literal names exactly (no conversion MariaDB would warn about), for
/// comparisons: `y = 'abc'` compares as DOUBLE, not as the YEAR 'abc' would store.
pub(super) fn exact_year(literal: &KeyLiteral) -> Option<i128> {
    let (value, short_string) = match literal {
        KeyLiteral::String(b) | KeyLiteral::Bytes(b) => {
            let t = String::from_utf8_lossy(b);
            let t = t.trim();
            if t.is_empty() || t.len() > 4 || !t.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (t.parse::<i128>().ok()?, t.len() <= 2)
        }
        KeyLiteral::Integer(t) => (Dec::parse_exact(t)?.round_to_i128()?, false),
        KeyLiteral::Number(t) if !is_float_literal(t) => {
            (Dec::parse_exact(t)?.round_to_i128()?, false)
        }
        _ => return None,
    };
    match value {
        0 if short_string => Some(2000),
        0 => Some(0),
        1..=69 => Some(2000 + value),
        70..=99 => Some(1900 + value),
        1901..=2155 => Some(value),
        _ => None,
    }
}
