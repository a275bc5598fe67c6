//! DATE/DATETIME/TIMESTAMP and TIME values as comparable integers. A data node sends
//! them in canonical text (`2020-01-31 10:00:00.5`, `-838:59:59`), whose order is the
//! order of the packed integers here (packing instead of comparing text keeps negative
//! and three-digit-hour TIMEs right). Literals in HAVING are read leniently, as MySQL
//! reads a string or number compared with a temporal column.

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

fn full_year(y: i64, written_digits: usize) -> i64 {
    match (written_digits <= 2, y) {
        (true, 0..=69) => 2000 + y,
        (true, _) => 1900 + y,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let packed: Vec<i64> = texts
            .iter()
            .map(|t| parse_canonical_datetime(t.as_bytes()).unwrap())
            .collect();
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
        let values: Vec<i64> = order
            .iter()
            .map(|t| parse_canonical_time(t.as_bytes()).unwrap())
            .collect();
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
