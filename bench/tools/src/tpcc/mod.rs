//! A TPC-C driver (spec v5.11) for Strata and plain MariaDB: the schema, the initial
//! population, the five transactions with the spec's input generation, and the
//! consistency conditions 1-4. Keying and think times are zero, so the tpmC it reports
//! is a throughput measure, not a compliant TPC-C result.
//!
//! The population may be scaled down by a divisor (`Scale`) so that a short CI run loads
//! in seconds; the divisor shrinks items, customers and orders per district and keeps
//! every per-warehouse relation of the spec.

pub mod check;
pub mod digest;
pub mod load;
pub mod rand;
pub mod schema;
pub mod stats;
pub mod txn;

use crate::mysql::{Conn, Error, Row};

/// The population's size.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Number of warehouses (W).
    pub warehouses: u64,
    /// Items (100,000 in the spec), and stock rows per warehouse.
    pub items: u64,
    /// Customers per district (3,000 in the spec), and initial orders per district.
    pub customers: u64,
}

impl Scale {
    /// The spec's cardinalities divided by `divisor` (1 = the spec's).
    pub fn new(warehouses: u64, divisor: u64) -> Scale {
        Scale {
            warehouses,
            items: 100_000 / divisor,
            customers: 3_000 / divisor,
        }
    }

    /// Initial undelivered orders per district (900 of 3,000 in the spec).
    pub fn new_orders(&self) -> u64 {
        self.customers * 3 / 10
    }

    /// The highest last-name number present: 999 at full scale (customers 1..1000 take
    /// the numbers 0..999), fewer when customers are scaled down.
    pub fn max_last_name(&self) -> u64 {
        self.customers.min(1000) - 1
    }
}

/// A value of a row as text; a protocol error when the column is missing or NULL.
pub fn text(row: &Row, i: usize) -> Result<&str, Error> {
    row.get(i)
        .and_then(|v| v.as_deref())
        .ok_or(Error::Protocol("missing or NULL column in a result"))
}

/// A value of a row as an integer.
pub fn int(row: &Row, i: usize) -> Result<i64, Error> {
    text(row, i)?
        .parse()
        .map_err(|_| Error::Protocol("integer column is not an integer"))
}

/// A DECIMAL's text as hundredths (`"12.3"` -> 1230, `"-10.00"` -> -1000).
pub fn cents(row: &Row, i: usize) -> Result<i64, Error> {
    let t = text(row, i)?;
    let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let frac = format!("{:0<2}", &frac[..frac.len().min(2)]);
    let v = whole
        .parse::<i64>()
        .ok()
        .zip(frac.parse::<i64>().ok())
        .map(|(w, f)| w * 100 + f)
        .ok_or(Error::Protocol("DECIMAL column is not a number"))?;
    Ok(if neg { -v } else { v })
}

/// Hundredths as DECIMAL text.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A string literal, quoted and escaped for MariaDB's default SQL mode.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The current UTC time as a DATETIME literal (`'YYYY-MM-DD hh:mm:ss'`).
pub fn now_literal() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "'{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}'",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Runs statements one after another, stopping at the first error.
pub async fn run_all(conn: &mut Conn, statements: &[String]) -> Result<(), Error> {
    for s in statements {
        conn.query(s).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_becomes_cents_and_back() {
        let row: Row = vec![Some("-10.00".into()), Some("12.3".into()), Some("7".into())];
        assert_eq!(cents(&row, 0).unwrap(), -1000);
        assert_eq!(cents(&row, 1).unwrap(), 1230);
        assert_eq!(cents(&row, 2).unwrap(), 700);
        assert_eq!(money(-1000), "-10.00");
        assert_eq!(money(5), "0.05");
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("a'b\\"), "'a''b\\\\'");
    }

    #[test]
    fn scaled_population_keeps_the_spec_ratios() {
        let s = Scale::new(2, 10);
        assert_eq!((s.items, s.customers, s.new_orders()), (10_000, 300, 90));
        assert_eq!(s.max_last_name(), 299);
        assert_eq!(Scale::new(1, 1).max_last_name(), 999);
    }
}
