//! Literals between their three forms: SQL text (as written, or as the planner writes a
//! parameter value into a statement), parsed expressions, and the `KeyLiteral` the
//! sharding functions route. A `?` bound to a value becomes `Value::Placeholder(text)`
//! holding the literal's SQL text, which the statement printer writes verbatim.

use sqlparser::ast::{Expr, UnaryOperator, Value};
use strata_catalog::sharding::KeyLiteral;
use strata_sql::lexer::string_value;
use strata_sql::{Lexer, TokenKind};

/// The literal an expression stands for, if it is one (a number, string, hex or bit
/// literal, NULL, TRUE/FALSE, a signed number, a charset-introduced string, or a bound
/// parameter).
pub(crate) fn expr_literal(expr: &Expr) -> Option<KeyLiteral> {
    match expr {
        Expr::Value(v) => value_literal(&v.value),
        Expr::Nested(inner) => expr_literal(inner),
        Expr::UnaryOp { op, expr } => {
            let inner = expr_literal(expr)?;
            match (op, inner) {
                (UnaryOperator::Plus, lit @ (KeyLiteral::Integer(_) | KeyLiteral::Number(_))) => {
                    Some(lit)
                }
                (UnaryOperator::Minus, KeyLiteral::Integer(s)) => {
                    Some(KeyLiteral::Integer(negate(&s)))
                }
                (UnaryOperator::Minus, KeyLiteral::Number(s)) => {
                    Some(KeyLiteral::Number(negate(&s)))
                }
                _ => None,
            }
        }
        Expr::Prefixed { prefix, value } => {
            let lit = expr_literal(value)?;
            match lit {
                KeyLiteral::String(b) if prefix.value.eq_ignore_ascii_case("_binary") => {
                    Some(KeyLiteral::Bytes(b))
                }
                // The text is the connection's (UTF-8) bytes read in the introducer's
                // character set: the same characters only when ASCII or UTF-8.
                KeyLiteral::String(b)
                    if b.is_ascii()
                        || ["_utf8mb4", "_utf8mb3", "_utf8"]
                            .iter()
                            .any(|p| prefix.value.eq_ignore_ascii_case(p)) =>
                {
                    Some(KeyLiteral::String(b))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn negate(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => format!("-{s}"),
    }
}

/// The literal a parsed value stands for (strings were parsed without unescaping).
pub(crate) fn value_literal(value: &Value) -> Option<KeyLiteral> {
    match value {
        Value::Number(n, _) => Some(number_literal(n)),
        Value::SingleQuotedString(raw) | Value::NationalStringLiteral(raw) => Some(
            KeyLiteral::String(string_value(&format!("'{raw}'")).into_owned().into_bytes()),
        ),
        Value::DoubleQuotedString(raw) => Some(KeyLiteral::String(
            string_value(&format!("\"{raw}\""))
                .into_owned()
                .into_bytes(),
        )),
        Value::HexStringLiteral(hex) => decode_hex(hex).map(KeyLiteral::Bytes),
        Value::SingleQuotedByteStringLiteral(bits) => decode_bits(bits).map(KeyLiteral::Bytes),
        Value::Boolean(b) => Some(KeyLiteral::Integer(if *b { "1" } else { "0" }.into())),
        Value::Null => Some(KeyLiteral::Null),
        Value::Placeholder(text) if text != "?" => text_literal(text),
        _ => None,
    }
}

/// True when the string token `t` starts with a UTF-8 character set introducer.
fn utf8_introducer(t: &str) -> bool {
    ["_utf8mb4", "_utf8mb3", "_utf8"].iter().any(|p| {
        t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))
            && t[p.len()..].trim_start().starts_with(['\'', '"'])
    })
}

fn number_literal(n: &str) -> KeyLiteral {
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
        KeyLiteral::Integer(n.to_string())
    } else {
        KeyLiteral::Number(n.to_string())
    }
}

/// The literal SQL text `text` stands for: one literal token, `NULL`, or a
/// parenthesized signed number (how [`sql_literal`] writes negatives).
pub(crate) fn text_literal(text: &str) -> Option<KeyLiteral> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    let (negative, body) = match inner.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let mut tokens = Lexer::new(body).filter(|t| t.kind.is_code());
    let token = tokens.next()?;
    if tokens.next().is_some() {
        return None;
    }
    let t = token.text(body);
    let lit = match token.kind {
        TokenKind::Integer => KeyLiteral::Integer(t.to_string()),
        TokenKind::Decimal | TokenKind::Float => KeyLiteral::Number(t.to_string()),
        TokenKind::String => {
            let bytes = string_value(t).into_owned().into_bytes();
            // A byte slice: the string may hold multi-byte characters from byte 1 on.
            if t.as_bytes()
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"_binary"))
            {
                KeyLiteral::Bytes(bytes)
            } else if bytes.is_ascii() || !t.starts_with('_') || utf8_introducer(t) {
                KeyLiteral::String(bytes)
            } else {
                // Another character set reads the connection's bytes as other characters.
                return None;
            }
        }
        TokenKind::HexNumber => KeyLiteral::Bytes(hex_token_bytes(t)?),
        TokenKind::BitNumber => KeyLiteral::Bytes(bit_token_bytes(t)?),
        TokenKind::Ident if t.eq_ignore_ascii_case("NULL") => KeyLiteral::Null,
        TokenKind::Ident if t.eq_ignore_ascii_case("TRUE") => KeyLiteral::Integer("1".into()),
        TokenKind::Ident if t.eq_ignore_ascii_case("FALSE") => KeyLiteral::Integer("0".into()),
        _ => return None,
    };
    if negative {
        return match lit {
            KeyLiteral::Integer(s) => Some(KeyLiteral::Integer(negate(&s))),
            KeyLiteral::Number(s) => Some(KeyLiteral::Number(negate(&s))),
            _ => None,
        };
    }
    Some(lit)
}

fn hex_token_bytes(t: &str) -> Option<Vec<u8>> {
    if let Some(h) = t.strip_prefix("0x") {
        return decode_hex(h);
    }
    let body = t.get(2..t.len().checked_sub(1)?)?;
    decode_hex(body)
}

fn bit_token_bytes(t: &str) -> Option<Vec<u8>> {
    if let Some(b) = t.strip_prefix("0b") {
        return decode_bits(b);
    }
    let body = t.get(2..t.len().checked_sub(1)?)?;
    decode_bits(body)
}

/// Hex digits to bytes (an odd count gets a leading zero, as MySQL does).
pub(crate) fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = hex
        .bytes()
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let mut iter = digits.iter();
    if digits.len() % 2 == 1 {
        out.push(*iter.next()?);
    }
    while let (Some(h), Some(l)) = (iter.next(), iter.next()) {
        out.push(h << 4 | l);
    }
    Some(out)
}

/// Binary digits to bytes, right-aligned.
fn decode_bits(bits: &str) -> Option<Vec<u8>> {
    if !bits.bytes().all(|b| b == b'0' || b == b'1') {
        return None;
    }
    let mut out = Vec::new();
    let len = bits.len();
    let first = len % 8;
    let mut start = 0;
    if first > 0 {
        out.push(u8::from_str_radix(&bits[..first], 2).ok()?);
        start = first;
    }
    while start < len {
        out.push(u8::from_str_radix(&bits[start..start + 8], 2).ok()?);
        start += 8;
    }
    Some(out)
}

/// SQL text for a literal: numbers as written (negatives parenthesized so they survive
/// any neighbour), strings quoted with MySQL escapes, bytes and non-UTF-8 strings as
/// hex literals.
pub(crate) fn sql_literal(lit: &KeyLiteral) -> String {
    match lit {
        KeyLiteral::Null => "NULL".into(),
        KeyLiteral::Integer(s) | KeyLiteral::Number(s) => {
            let valid = !s.is_empty()
                && s.trim_start_matches(['-', '+'])
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
            if !valid {
                return "NULL".into();
            }
            if s.starts_with('-') {
                format!("({s})")
            } else {
                s.clone()
            }
        }
        KeyLiteral::String(b) => match std::str::from_utf8(b) {
            Ok(s) => quote_string(s),
            Err(_) => hex_literal(b),
        },
        KeyLiteral::Bytes(b) => hex_literal(b),
    }
}

/// A MySQL single-quoted string literal for `s`.
pub(crate) fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn hex_literal(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 2 + 3);
    out.push_str("X'");
    for byte in b {
        out.push_str(&format!("{byte:02X}"));
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_round_trips_through_sql_literal() {
        let cases = [
            KeyLiteral::Null,
            KeyLiteral::Integer("42".into()),
            KeyLiteral::Integer("-42".into()),
            KeyLiteral::Number("-1.50".into()),
            KeyLiteral::Number("1e3".into()),
            KeyLiteral::String(b"it's a \\ test".to_vec()),
            KeyLiteral::String(vec![0xff, 0x00]),
            KeyLiteral::Bytes(vec![0x01, 0xab]),
        ];
        for lit in cases {
            let text = sql_literal(&lit);
            let back = text_literal(&text).expect("parses back");
            let expected = match &lit {
                KeyLiteral::String(b) if std::str::from_utf8(b).is_err() => {
                    KeyLiteral::Bytes(b.clone())
                }
                other => other.clone(),
            };
            assert_eq!(back, expected, "{text}");
        }
    }

    #[test]
    fn token_texts_read_as_mysql_reads_them() {
        let cases = [
            ("5", KeyLiteral::Integer("5".into())),
            ("'a\\'b'", KeyLiteral::String(b"a'b".to_vec())),
            ("\"x\"\"y\"", KeyLiteral::String(b"x\"y".to_vec())),
            ("_binary'ab'", KeyLiteral::Bytes(b"ab".to_vec())),
            ("0x0102", KeyLiteral::Bytes(vec![1, 2])),
            ("X'0102'", KeyLiteral::Bytes(vec![1, 2])),
            ("b'100000001'", KeyLiteral::Bytes(vec![1, 1])),
            ("null", KeyLiteral::Null),
            ("(-7)", KeyLiteral::Integer("-7".into())),
            // Multi-byte characters within the first 7 bytes (main.type_binary).
            (
                "'1äÖüß@µ*$'",
                KeyLiteral::String("1äÖüß@µ*$".as_bytes().to_vec()),
            ),
            ("'äö'", KeyLiteral::String("äö".as_bytes().to_vec())),
        ];
        for (text, lit) in cases {
            assert_eq!(text_literal(text), Some(lit), "{text}");
        }
        assert_eq!(text_literal("a + 1"), None);
        assert_eq!(text_literal("?"), None);
    }

    #[test]
    fn zero_x_and_x_quote_literals_route_as_the_same_bytes() {
        use sqlparser::ast::{SelectItem, SetExpr, Statement};
        for (sql, bytes) in [
            ("0x61", vec![0x61]),
            ("X'61'", vec![0x61]),
            ("0x102", vec![1, 2]),
        ] {
            let Ok(Statement::Query(q)) = crate::source::parse_one(&format!("SELECT {sql}")) else {
                panic!("{sql}: not a query")
            };
            let SetExpr::Select(s) = *q.body else {
                panic!("{sql}: not a select")
            };
            let Some(SelectItem::UnnamedExpr(e)) = s.projection.first() else {
                panic!("{sql}: no item")
            };
            assert_eq!(expr_literal(e), Some(KeyLiteral::Bytes(bytes)), "{sql}");
        }
    }
}
