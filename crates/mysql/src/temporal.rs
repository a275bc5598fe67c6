//! DATE/DATETIME/TIMESTAMP and TIME values as comparable integers. A data node sends
//! them in canonical text (`2020-01-31 10:00:00.5`, `-838:59:59`), whose order is the
//! order of the packed integers here (packing instead of comparing text keeps negative
//! and three-digit-hour TIMEs right). Literals in HAVING are read leniently, as MySQL
//! reads a string or number compared with a temporal column. Routing reads a literal
//! as the value a column stores for it ([`stored_datetime`], [`stored_time`]): in
//! canonical text, refusing what MariaDB would not store as written.

/// Microseconds per second.
const MICROS: i64 = 1_000_000;

/// Packs a date and time into an integer that orders like the datetime.
fn pack(y: i64, m: i64, d: i64, h: i64, mi: i64, s: i64, us: i64) -> i64 {
    (((((y * 13 + m) * 32 + d) * 24 + h) * 60 + mi) * 60 + s) * MICROS + us
}

fn digits(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        text.iter()
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0')),
    )
}

/// Fraction digits (1 to 6) as microseconds.
fn micros(frac: &[u8]) -> Option<i64> {
    if frac.is_empty() || frac.len() > 6 {
        return None;
    }
    let value = digits(frac)?;
    Some(value * 10i64.pow(6 - frac.len() as u32))
}

/// Largest hour count a TIME literal may have (MariaDB's TIME ends at 838:59:59; a
/// little more is accepted, far less than would overflow).
const MAX_HOURS: i64 = 100_000;

fn valid(y: i64, m: i64, d: i64, h: i64, mi: i64, s: i64) -> bool {
    y <= 9999 && m <= 12 && d <= 31 && h <= 23 && mi <= 59 && s <= 59
}

/// Reads a DATE (`YYYY-MM-DD`) or DATETIME/TIMESTAMP (`YYYY-MM-DD HH:MM:SS[.ffffff]`)
/// exactly as a data node prints it.
pub fn parse_canonical_datetime(text: &[u8]) -> Option<i64> {
    if text.len() < 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let (y, m, d) = (
        digits(&text[0..4])?,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    );
    if text.len() == 10 {
        return valid(y, m, d, 0, 0, 0).then(|| pack(y, m, d, 0, 0, 0, 0));
    }
    if text.len() < 19 || text[10] != b' ' || text[13] != b':' || text[16] != b':' {
        return None;
    }
    let (h, mi, s) = (
        digits(&text[11..13])?,
        digits(&text[14..16])?,
        digits(&text[17..19])?,
    );
    let us = match text.get(19) {
        None => 0,
        Some(b'.') => micros(&text[20..])?,
        Some(_) => return None,
    };
    valid(y, m, d, h, mi, s).then(|| pack(y, m, d, h, mi, s, us))
}

/// Reads a TIME as a data node prints it (`[-]HH:MM:SS[.ffffff]`, hours up to 838) as
/// signed microseconds.
pub fn parse_canonical_time(text: &[u8]) -> Option<i64> {
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let mut parts = body.splitn(3, |&b| b == b':');
    let h = digits(parts.next()?)?;
    let mi = digits(parts.next()?)?;
    let rest = parts.next()?;
    let (s, us) = match rest.iter().position(|&b| b == b'.') {
        Some(dot) => (digits(&rest[..dot])?, micros(&rest[dot + 1..])?),
        None => (digits(rest)?, 0),
    };
    if h > MAX_HOURS || mi > 59 || s > 59 {
        return None;
    }
    let value = ((h * 60 + mi) * 60 + s) * MICROS + us;
    Some(if negative { -value } else { value })
}

/// The year a literal means: a year of one or two written digits is 1970..=2069.
fn full_year(y: i64, written_digits: usize) -> i64 {
    match u32::try_from(y) {
        Ok(short) if written_digits <= 2 => i64::from(two_digit_year(short)),
        _ => y,
    }
}

/// Reads a datetime written all in digits (`20200101`, `200101`, `20200101103000`,
/// `200101103000`, with an optional `.ffffff`), as MySQL reads a number compared with a
/// DATE or DATETIME.
pub fn datetime_from_digits(text: &[u8]) -> Option<i64> {
    let (int_part, us) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], micros(&text[dot + 1..]).unwrap_or(0)),
        None => (text, 0),
    };
    if !int_part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (y, rest, ydigits) = match int_part.len() {
        8 | 14 => (digits(&int_part[..4])?, &int_part[4..], 4),
        6 | 12 => (digits(&int_part[..2])?, &int_part[2..], 2),
        _ => return None,
    };
    let y = full_year(y, ydigits);
    let m = digits(&rest[0..2])?;
    let d = digits(&rest[2..4])?;
    let (h, mi, s) = if rest.len() == 10 {
        (
            digits(&rest[4..6])?,
            digits(&rest[6..8])?,
            digits(&rest[8..10])?,
        )
    } else {
        (0, 0, 0)
    };
    valid(y, m, d, h, mi, s).then(|| pack(y, m, d, h, mi, s, us))
}

/// Reads a datetime literal leniently, as MySQL's `str_to_datetime`: delimited parts
/// (`2020-1-1`, `2020/01/01 10:00`, `2020-01-01T10:00:00.5`) or digits only. `None`
/// when it is not a datetime (MySQL then compares with 0000-00-00 00:00:00).
pub fn parse_datetime_literal(text: &[u8]) -> Option<i64> {
    let text = trim(text);
    if text.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return datetime_from_digits(text);
    }
    // Split into runs of digits; remember where the fraction starts.
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut frac: Option<&[u8]> = None;
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_digit() {
            let start = i;
            while i < text.len() && text[i].is_ascii_digit() {
                i += 1;
            }
            if parts.len() == 6 {
                frac = Some(&text[start..i]);
            } else {
                parts.push(&text[start..i]);
            }
        } else if text[i] == b'.' && parts.len() == 6 {
            i += 1;
        } else if text[i] == b'.' && parts.len() >= 3 && parts.len() < 6 {
            // A fraction right after seconds written short ("10:00:00" is 6 parts).
            return None;
        } else if text[i].is_ascii_punctuation() || matches!(text[i], b' ' | b'T') {
            i += 1;
        } else {
            return None;
        }
    }
    if parts.len() < 3 || parts.len() == 4 {
        return None;
    }
    let y = full_year(digits(parts[0])?, parts[0].len());
    let m = digits(parts[1])?;
    let d = digits(parts[2])?;
    let h = parts.get(3).map_or(Some(0), |p| digits(p))?;
    let mi = parts.get(4).map_or(Some(0), |p| digits(p))?;
    let s = parts.get(5).map_or(Some(0), |p| digits(p))?;
    let us = match frac {
        Some(f) => micros(&f[..f.len().min(6)])?,
        None => 0,
    };
    valid(y, m, d, h, mi, s).then(|| pack(y, m, d, h, mi, s, us))
}

/// Reads a TIME literal leniently: `[-][D ]HH:MM[:SS][.ffffff]`, or digits `HHMMSS`,
/// `MMSS`, `SS` (MySQL's reading of a number compared with TIME).
pub fn parse_time_literal(text: &[u8]) -> Option<i64> {
    let text = trim(text);
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let (main, us) = match body.iter().position(|&b| b == b'.') {
        Some(dot) => (&body[..dot], micros(&body[dot + 1..])?),
        None => (body, 0),
    };
    let seconds = if main.contains(&b':') {
        let (days, clock) = match main.iter().position(|&b| b == b' ') {
            Some(sp) => (digits(&main[..sp])?, trim(&main[sp + 1..])),
            None => (0, main),
        };
        let fields: Vec<&[u8]> = clock.split(|&b| b == b':').collect();
        let (h, mi, s) = match fields.as_slice() {
            [h, m] => (digits(h)?, digits(m)?, 0),
            [h, m, s] => (digits(h)?, digits(m)?, digits(s)?),
            _ => return None,
        };
        if days > MAX_HOURS || days * 24 + h > MAX_HOURS || mi > 59 || s > 59 {
            return None;
        }
        (days * 24 + h) * 3600 + mi * 60 + s
    } else {
        let n = digits(main)?;
        let (h, mi, s) = (n / 10000, n / 100 % 100, n % 100);
        if h > MAX_HOURS || mi > 59 || s > 59 {
            return None;
        }
        h * 3600 + mi * 60 + s
    };
    let value = seconds * MICROS + us;
    Some(if negative { -value } else { value })
}

fn trim(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|b| *b != b' ').unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| *b != b' ')
        .map_or(start, |e| e + 1);
    &text[start..end.max(start)]
}

// ---------------------------------------------------------------------------------------
// Stored values (routing: the value a DATE/DATETIME/TIME column stores for a literal)

// `is_multiple_of` needs Rust 1.87; the workspace supports 1.85.
#[allow(clippy::manual_is_multiple_of)]
/// Days in `month` of `year` (31 for a month out of range; callers check months).
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The year MariaDB reads for a two-digit year: 00..=69 is 20xx, 70..=99 is 19xx.
pub fn two_digit_year(y: u32) -> u32 {
    if y < 70 {
        2000 + y
    } else {
        1900 + y
    }
}

/// What MariaDB stores for an integer literal in a DATE/DATETIME column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegerDatetime {
    /// The DATE and TIME parts, in canonical text.
    Stored(String, String),
    /// Not a date in any SQL mode: `0000-00-00` with warning 1265 where the mode
    /// allows it (INSERT IGNORE, non-strict), an error otherwise.
    Invalid,
    /// Depends on the SQL mode (a zero month or day, a day past the month's end) or
    /// out of what this reads (negative, beyond 64 bits).
    Unknown,
}

/// `number_to_datetime` of MariaDB's `my_time.c` for an integer literal: YYMMDD from
/// 101 (`101` is 2000-01-01), YYYYMMDD from 10000101, YYMMDDhhmmss from 101000000,
/// YYYYMMDDhhmmss from 10000101000000; the gaps between those ranges (`1010101`,
/// `9912101`) and fields out of range are [`IntegerDatetime::Invalid`].
pub fn integer_datetime(text: &str) -> IntegerDatetime {
    const YY: i64 = 70;
    let Ok(mut nr) = text.trim().parse::<i64>() else {
        return IntegerDatetime::Unknown;
    };
    if nr < 0 {
        return IntegerDatetime::Unknown;
    }
    if nr == 0 {
        return IntegerDatetime::Stored("0000-00-00".into(), "00:00:00".into());
    }
    if nr < 10_000_101_000_000 {
        nr = if nr < 101 {
            return IntegerDatetime::Invalid;
        } else if nr <= (YY - 1) * 10_000 + 1231 {
            (nr + 20_000_000) * 1_000_000
        } else if nr < YY * 10_000 + 101 {
            return IntegerDatetime::Invalid;
        } else if nr <= 991_231 {
            (nr + 19_000_000) * 1_000_000
        } else if nr < 10_000_101 {
            return IntegerDatetime::Invalid;
        } else if nr <= 99_991_231 {
            nr * 1_000_000
        } else if nr < 101_000_000 {
            return IntegerDatetime::Invalid;
        } else if nr <= (YY - 1) * 10_000_000_000 + 1_231_235_959 {
            nr + 20_000_000_000_000
        } else if nr < YY * 10_000_000_000 + 101_000_000 {
            return IntegerDatetime::Invalid;
        } else if nr <= 991_231_235_959 {
            nr + 19_000_000_000_000
        } else {
            nr
        };
    }
    let (date, time) = (nr / 1_000_000, nr % 1_000_000);
    let (y, m, d) = (date / 10_000, date % 10_000 / 100, date % 100);
    let (h, mi, sec) = (time / 10_000, time % 10_000 / 100, time % 100);
    if y > 9999 || m > 12 || d > 31 || h > 23 || mi > 59 || sec > 59 {
        return IntegerDatetime::Invalid;
    }
    // In range of u32 by the checks above.
    let (y, m, d) = (y as u32, m as u32, d as u32);
    if m == 0 || d == 0 || d > days_in_month(y, m) {
        return IntegerDatetime::Unknown;
    }
    IntegerDatetime::Stored(
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{h:02}:{mi:02}:{sec:02}"),
    )
}

/// The DATE and TIME parts MariaDB stores for `text` in a DATE/DATETIME column, in
/// canonical text (`numeric`: the literal was a number, which loses leading zeros).
/// Stricter than [`parse_datetime_literal`] (a comparison operand): the day must exist
/// in its month. Accepted: `Y-M-D[ T]h:m[:s][.f]` with any punctuation as delimiters
/// and 2- or 4-digit years; digit strings and numbers of YYMMDD, YYYYMMDD, YYMMDDhhmmss, YYYYMMDDhhmmss. Fractions are dropped.
pub fn stored_datetime(text: &str, numeric: bool) -> Option<(String, String)> {
    let (y, m, d, h, mi, s) = if text.bytes().all(|b| b.is_ascii_digit()) {
        let mut digits = text.trim_start_matches('0').to_string();
        if digits.is_empty() {
            return Some(("0000-00-00".into(), "00:00:00".into()));
        }
        if numeric {
            // Numbers lose leading zeros: pad to the next known width.
            let width = match digits.len() {
                5 | 6 => 6,
                7 | 8 => 8,
                11 | 12 => 12,
                13 | 14 => 14,
                _ => return None,
            };
            digits = format!("{digits:0>width$}");
        } else {
            digits = text.to_string();
        }
        let n = |r: std::ops::Range<usize>| digits.get(r)?.parse::<u32>().ok();
        match digits.len() {
            6 => (two_digit_year(n(0..2)?), n(2..4)?, n(4..6)?, 0, 0, 0),
            8 => (n(0..4)?, n(4..6)?, n(6..8)?, 0, 0, 0),
            12 => (
                two_digit_year(n(0..2)?),
                n(2..4)?,
                n(4..6)?,
                n(6..8)?,
                n(8..10)?,
                n(10..12)?,
            ),
            14 => (
                n(0..4)?,
                n(4..6)?,
                n(6..8)?,
                n(8..10)?,
                n(10..12)?,
                n(12..14)?,
            ),
            _ => return None,
        }
    } else {
        // Split into the date part and the time part at 'T' or whitespace.
        let split = text
            .char_indices()
            .find(|&(i, c)| c.is_ascii_whitespace() || (c == 'T' && i > 0))
            .map(|(i, _)| i);
        let (date_part, time_part) = match split {
            Some(i) => (&text[..i], text[i + 1..].trim_start()),
            None => (text, ""),
        };
        let fields: Vec<&str> = date_part
            .split(|c: char| c.is_ascii_punctuation())
            .collect();
        if fields.len() != 3
            || fields
                .iter()
                .any(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let year_text = fields[0];
        let y: u32 = year_text.parse().ok()?;
        let y = if year_text.len() <= 2 {
            two_digit_year(y)
        } else {
            y
        };
        let m: u32 = fields[1].parse().ok()?;
        let d: u32 = fields[2].parse().ok()?;
        let (h, mi, s) = if time_part.is_empty() {
            (0, 0, 0)
        } else {
            let (clock, _fraction) = split_fraction(time_part)?;
            let parts: Vec<&str> = clock.split(|c: char| c.is_ascii_punctuation()).collect();
            if parts.len() < 2
                || parts.len() > 3
                || parts
                    .iter()
                    .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
            let h: u32 = parts[0].parse().ok()?;
            let mi: u32 = parts[1].parse().ok()?;
            let s: u32 = parts.get(2).map_or(Some(0), |p| p.parse().ok())?;
            (h, mi, s)
        };
        (y, m, d, h, mi, s)
    };
    if y > 9999 || m > 12 || d > 31 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    if m > 0 && d > days_in_month(y, m) {
        return None;
    }
    Some((
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{h:02}:{mi:02}:{s:02}"),
    ))
}

/// Splits `10:00:00.123` into the clock text and the fraction digits.
fn split_fraction(text: &str) -> Option<(&str, &str)> {
    match text.split_once('.') {
        Some((clock, frac)) if frac.bytes().all(|b| b.is_ascii_digit()) => Some((clock, frac)),
        Some(_) => None,
        None => Some((text, "")),
    }
}

/// The TIME MariaDB stores for `text`, in canonical text `[-]h:mm:ss`. Accepted:
/// `[-][D ]h:mm[:ss][.f]` and digits `[-]hhmmss` (from the right: seconds, minutes, hours). Fractions are dropped.
pub fn stored_time(text: &str) -> Option<String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    };
    let (clock, _frac) = split_fraction(body)?;
    let (days, clock) = match clock.split_once(' ') {
        Some((d, rest)) if d.bytes().all(|b| b.is_ascii_digit()) && !d.is_empty() => {
            (d.parse::<u64>().ok()?, rest.trim())
        }
        Some(_) => return None,
        None => (0, clock),
    };
    let (h, m, s) = if clock.bytes().all(|b| b.is_ascii_digit()) {
        if days > 0 || clock.is_empty() {
            return None;
        }
        let v: u64 = clock.parse().ok()?;
        (v / 10_000, (v / 100) % 100, v % 100)
    } else {
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() < 2
            || parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let s: u64 = parts.get(2).map_or(Some(0), |p| p.parse().ok())?;
        if parts[1].len() > 2 || parts.get(2).is_some_and(|p| p.len() > 2) {
            return None;
        }
        (h, m, s)
    };
    let h = h.checked_add(days.checked_mul(24)?)?;
    if m > 59 || s > 59 || h > 838 {
        return None;
    }
    let zero = h == 0 && m == 0 && s == 0;
    Some(format!(
        "{}{h:02}:{m:02}:{s:02}",
        if neg && !zero { "-" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn integers_are_read_as_number_to_datetime_reads_them() {
        use super::{integer_datetime, IntegerDatetime::*};
        let stored = |d: &str, t: &str| Stored(d.to_string(), t.to_string());
        // Values MariaDB 10.11 stored with INSERT IGNORE into a DATE column.
        assert_eq!(integer_datetime("101"), stored("2000-01-01", "00:00:00"));
        assert_eq!(integer_datetime("100"), Invalid);
        assert_eq!(integer_datetime("691232"), Invalid);
        assert_eq!(integer_datetime("1010101"), Invalid);
        assert_eq!(integer_datetime("9912101"), Invalid);
        assert_eq!(integer_datetime("99999999"), Invalid);
        assert_eq!(integer_datetime("123456789"), Invalid);
        assert_eq!(integer_datetime("991231"), stored("1999-12-31", "00:00:00"));
        assert_eq!(
            integer_datetime("20240229"),
            stored("2024-02-29", "00:00:00")
        );
        assert_eq!(
            integer_datetime("20240102030405"),
            stored("2024-01-02", "03:04:05")
        );
        assert_eq!(
            integer_datetime("700101010203"),
            stored("1970-01-01", "01:02:03")
        );
        assert_eq!(integer_datetime("20010230"), Unknown);
        assert_eq!(integer_datetime("20010001"), Unknown);
        assert_eq!(integer_datetime("-5"), Unknown);
    }

    use super::*;

    fn parse_all(texts: &[&str], parse: fn(&[u8]) -> Option<i64>) -> Vec<i64> {
        texts
            .iter()
            .map(|t| parse(t.as_bytes()).unwrap_or_else(|| panic!("{t}")))
            .collect()
    }

    #[test]
    fn canonical_datetimes_order_like_their_text() {
        let texts = [
            "0000-00-00",
            "0000-00-00 00:00:00",
            "1999-12-31 23:59:59.999999",
            "2020-01-01",
            "2020-01-01 00:00:00.000001",
            "2020-01-01 00:00:01",
            "2020-02-01 00:00:00",
            "9999-12-31 23:59:59",
        ];
        let packed = parse_all(&texts, parse_canonical_datetime);
        assert_eq!(packed[0], packed[1], "a DATE equals its midnight DATETIME");
        for pair in packed[1..].windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for bad in [
            "2020-13-01",
            "2020-01-01x",
            "2020-01-01 25:00:00",
            "20-01-01",
            "",
        ] {
            assert_eq!(parse_canonical_datetime(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn canonical_times_order_by_signed_duration() {
        let order = [
            "-838:59:59",
            "-10:00:00",
            "-01:00:00",
            "00:00:00",
            "09:59:59.5",
            "10:00:00",
            "100:00:00",
        ];
        let values = parse_all(&order, parse_canonical_time);
        for pair in values.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
    }

    /// MariaDB, DATETIME dt = '2020-01-01 00:00:00': `dt='2020-01-01'`, `dt=20200101`,
    /// `dt='2020-1-1'`, `dt=20200101000000`, `dt='2020-01-01 00:00:00.000'` are all 1;
    /// `dt='2020-01-01 00:00:00.000001'` is 0.
    #[test]
    fn datetime_literals_read_like_mysql() {
        let dt = parse_canonical_datetime(b"2020-01-01 00:00:00").unwrap();
        for same in [
            "2020-01-01",
            "2020-1-1",
            "20200101",
            "20200101000000",
            "2020-01-01 00:00:00.000",
            "2020/01/01 00:00",
            "2020-01-01T00:00:00",
            "200101",
            " 2020-01-01 ",
        ] {
            assert_eq!(parse_datetime_literal(same.as_bytes()), Some(dt), "{same}");
        }
        assert!(parse_datetime_literal(b"2020-01-01 00:00:00.000001").unwrap() > dt);
        for bad in ["garbage", "2020-13-01", "2020", "2020-01"] {
            assert_eq!(parse_datetime_literal(bad.as_bytes()), None, "{bad}");
        }
    }

    /// MariaDB, TIME tm = '10:00:00': `tm='10:00:00'`, `tm=100000`, `tm='10:00'` are 1.
    #[test]
    fn time_literals_read_like_mysql() {
        let ten = parse_canonical_time(b"10:00:00").unwrap();
        for same in ["10:00:00", "100000", "10:00", "0 10:00:00", "10:00:00.0"] {
            assert_eq!(parse_time_literal(same.as_bytes()), Some(ten), "{same}");
        }
        assert_eq!(
            parse_time_literal(b"-1:30"),
            parse_canonical_time(b"-01:30:00")
        );
        assert_eq!(
            parse_time_literal(b"1 01:00:00"),
            parse_canonical_time(b"25:00:00")
        );
        assert_eq!(parse_time_literal(b"10:61"), None);
        assert_eq!(parse_time_literal(b"999999999999:00"), None, "no overflow");
        assert_eq!(parse_time_literal(b"999999999999 10:00"), None);
        assert_eq!(parse_datetime_literal(b"999999999999-01-01"), None);
    }
}
