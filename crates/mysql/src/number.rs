//! Numbers in MySQL's text forms: how MariaDB prints a DOUBLE (shortest round-trip
//! digits, exponent form outside 1e-15..1e15), and how it reads a number out of a string
//! when a string meets a number in a comparison or is stored into a numeric column (the
//! longest numeric prefix; no digits means 0). Routing and merging share the scanner.

use crate::decimal::Decimal;

/// Formats a double as MariaDB 10.11 prints it in a text-protocol row.
///
/// Expected values from MariaDB: `SELECT 0.1e0+0.2e0, 1e300*10, 1e15, 123456789012345e0,
/// 1234567890123456e0, 1e-15, 1e-16, 1.5e-5, -1.5e-20` gives `0.30000000000000004 1e301
/// 1e15 123456789012345 1.234567890123456e15 0.000000000000001 1e-16 0.000015 -1.5e-20`.
pub fn format_double(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".into();
    }
    let exp_form = format!("{value:e}");
    let exponent: i32 = exp_form
        .rsplit_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    if (-15..15).contains(&exponent) {
        format!("{value}")
    } else {
        exp_form
    }
}

/// A number read from text the way MySQL converts a string operand to a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Numeric {
    /// Digits with an optional fraction and no exponent: exact.
    Exact(Decimal),
    /// An exponent was present: a double.
    Approx(f64),
}

impl Numeric {
    /// The value as a double.
    pub fn to_f64(&self) -> f64 {
        match self {
            Numeric::Exact(d) => d.to_f64(),
            Numeric::Approx(f) => *f,
        }
    }
}

/// The longest numeric prefix of a text, as MySQL finds it when it converts a string to
/// a number: leading whitespace, sign, digits, fraction, exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPrefix {
    /// A minus sign was written.
    pub negative: bool,
    /// The mantissa's digits (integer then fraction part, leading zeros kept), ASCII.
    pub digits: Vec<u8>,
    /// The power of ten the digits are multiplied by (fraction digits and exponent).
    pub exponent: i64,
    /// An exponent (`e5`) was part of the number: MySQL reads it as a DOUBLE.
    pub has_exponent: bool,
    /// Where the sign (or first digit) starts, after the whitespace.
    pub start: usize,
    /// Where the mantissa ends (the exponent, if any, starts there).
    pub mantissa_end: usize,
    /// Bytes of the text the number used, whitespace included.
    pub end: usize,
}

/// Largest exponent magnitude kept; anything larger is already beyond every type.
const MAX_EXPONENT: i64 = 1_000_000;

/// Finds the numeric prefix of `text`; `None` when it has no digits (MySQL reads 0).
pub fn scan_number_prefix(text: &[u8]) -> Option<NumberPrefix> {
    let mut i = 0;
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) {
        i += 1;
    }
    let start = i;
    let mut negative = false;
    if i < text.len() && matches!(text[i], b'+' | b'-') {
        negative = text[i] == b'-';
        i += 1;
    }
    let mut digits = Vec::new();
    while i < text.len() && text[i].is_ascii_digit() {
        digits.push(text[i]);
        i += 1;
    }
    let mut exponent: i64 = 0;
    if i < text.len() && text[i] == b'.' {
        let mut j = i + 1;
        while j < text.len() && text[j].is_ascii_digit() {
            digits.push(text[j]);
            exponent -= 1;
            j += 1;
        }
        if !digits.is_empty() {
            i = j;
        }
    }
    if digits.is_empty() {
        return None;
    }
    let mantissa_end = i;
    let mut has_exponent = false;
    if i < text.len() && matches!(text[i], b'e' | b'E') {
        let mut j = i + 1;
        let mut exp_negative = false;
        if j < text.len() && matches!(text[j], b'+' | b'-') {
            exp_negative = text[j] == b'-';
            j += 1;
        }
        let exp_start = j;
        let mut e: i64 = 0;
        while j < text.len() && text[j].is_ascii_digit() {
            e = (e * 10 + i64::from(text[j] - b'0')).min(MAX_EXPONENT);
            j += 1;
        }
        if j > exp_start {
            exponent += if exp_negative { -e } else { e };
            has_exponent = true;
            i = j;
        }
    }
    Some(NumberPrefix {
        negative,
        digits,
        exponent,
        has_exponent,
        start,
        mantissa_end,
        end: i,
    })
}

/// Reads the longest numeric prefix of `text` after leading whitespace: sign, digits,
/// fraction and exponent. Text without one reads as 0, as MySQL reads 'abc' (with a
/// warning the merge does not raise).
pub fn parse_numeric_prefix(text: &[u8]) -> Numeric {
    let Some(prefix) = scan_number_prefix(text) else {
        return Numeric::Exact(Decimal::zero());
    };
    if prefix.has_exponent {
        let approx = std::str::from_utf8(&text[prefix.start..prefix.end])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
        return Numeric::Approx(approx);
    }
    Numeric::Exact(
        Decimal::parse(&text[prefix.start..prefix.mantissa_end]).unwrap_or_else(Decimal::zero),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_mariadb() {
        for (value, text) in [
            (0.1 + 0.2, "0.30000000000000004"),
            (1e301, "1e301"),
            (1e15, "1e15"),
            (1e16, "1e16"),
            (1.234_567_890_123_456_8e17, "1.2345678901234568e17"),
            (1.5e-5, "0.000015"),
            (0.0001, "0.0001"),
            (1e-300, "1e-300"),
            (3.0, "3"),
            (2.5e20, "2.5e20"),
            (1.7976931348623157e308, "1.7976931348623157e308"),
            (100000000000000.0, "100000000000000"),
            (1234567.891, "1234567.891"),
            (100000000000000.5, "100000000000000.5"),
            (1.0 / 3.0, "0.3333333333333333"),
            (1e-15, "0.000000000000001"),
            (1e-16, "1e-16"),
            (1.2345678901234e-15, "0.0000000000000012345678901234"),
            (1.2345678901234e-16, "1.2345678901234e-16"),
            (123456789012345.0, "123456789012345"),
            (1234567890123456.0, "1.234567890123456e15"),
            (-1.5e-20, "-1.5e-20"),
            (-2.5e16, "-2.5e16"),
            (-0.0, "0"),
        ] {
            assert_eq!(format_double(value), text, "{value:e}");
        }
    }

    /// MariaDB: for an INT column i = 10, `i='10'`, `i='10abc'`, `i='1e1'`, `i=' 10'`,
    /// `i='10.0'` are all 1, `i='abc'` is 0 and `i='10.4'` is 0.
    #[test]
    fn string_prefixes_read_as_mysql_reads_them() {
        let exact = |s: &str| match parse_numeric_prefix(s.as_bytes()) {
            Numeric::Exact(d) => d.to_string(),
            Numeric::Approx(f) => format!("approx {f}"),
        };
        assert_eq!(exact("10"), "10");
        assert_eq!(exact("10abc"), "10");
        assert_eq!(exact("  10"), "10");
        assert_eq!(exact("10.0"), "10.0");
        assert_eq!(exact("-0.5x"), "-0.5");
        assert_eq!(exact("abc"), "0");
        assert_eq!(exact(""), "0");
        assert_eq!(exact("."), "0");
        assert_eq!(exact("1e1"), "approx 10");
        assert_eq!(exact("1.5E-1z"), "approx 0.15");
        assert_eq!(exact("2e"), "2");
        assert_eq!(exact("2e+"), "2");
        assert_eq!(exact(".5"), "0.5");
    }
}
