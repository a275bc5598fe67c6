//! Exact decimal numbers for what the merge computes: SUM of integers and DECIMALs,
//! AVG as SUM / COUNT rounded half away from zero (MySQL's ROUND_HALF_UP) to the result
//! scale, and comparisons without float rounding. The magnitude is an arbitrary-precision
//! integer in base 10^9 limbs, so sums of DECIMAL(65,30) or of many BIGINT UNSIGNED
//! values stay exact.

use std::cmp::Ordering;
use std::fmt;

const BASE: u64 = 1_000_000_000;

/// An exact decimal: sign, integer magnitude and the count of fractional digits.
#[derive(Debug, Clone)]
pub struct Decimal {
    negative: bool,
    /// Little-endian base-10^9 limbs without high zero limbs; empty for zero.
    mag: Vec<u32>,
    scale: u32,
}

impl Decimal {
    /// Zero with no fractional digits.
    pub fn zero() -> Self {
        Self {
            negative: false,
            mag: Vec::new(),
            scale: 0,
        }
    }

    /// A signed integer.
    pub fn from_i128(v: i128) -> Self {
        let mut mag = Vec::new();
        let mut rest = v.unsigned_abs();
        while rest > 0 {
            mag.push((rest % BASE as u128) as u32);
            rest /= BASE as u128;
        }
        Self {
            negative: v < 0,
            mag,
            scale: 0,
        }
    }

    /// Parses MySQL's decimal text: `[+-]digits[.digits]` (either part may be empty, not
    /// both). Anything else, exponents included, is `None`.
    pub fn parse(text: &[u8]) -> Option<Self> {
        let (negative, body) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (int_part, frac_part) = match body.iter().position(|&b| b == b'.') {
            Some(dot) => (&body[..dot], &body[dot + 1..]),
            None => (body, &body[body.len()..]),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part.iter().chain(frac_part).all(u8::is_ascii_digit) {
            return None;
        }
        let scale = u32::try_from(frac_part.len()).ok()?;
        let mut mag = Vec::with_capacity((int_part.len() + frac_part.len()) / 9 + 1);
        for &d in int_part.iter().chain(frac_part) {
            mag_mul_add(&mut mag, 10, u32::from(d - b'0'));
        }
        Some(Self::new(negative, mag, scale))
    }

    fn new(negative: bool, mut mag: Vec<u32>, scale: u32) -> Self {
        while mag.last() == Some(&0) {
            mag.pop();
        }
        let negative = negative && !mag.is_empty();
        Self {
            negative,
            mag,
            scale,
        }
    }

    /// Digits after the decimal point.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The same value with `scale` fractional digits (never fewer than it has).
    fn widened(&self, scale: u32) -> Self {
        let mut mag = self.mag.clone();
        mag_mul_pow10(&mut mag, scale.saturating_sub(self.scale));
        Self::new(self.negative, mag, scale.max(self.scale))
    }

    /// The exact sum; its scale is the larger of the two.
    pub fn add(&self, other: &Decimal) -> Decimal {
        let scale = self.scale.max(other.scale);
        let a = self.widened(scale);
        let b = other.widened(scale);
        if a.negative == b.negative {
            return Self::new(a.negative, mag_add(&a.mag, &b.mag), scale);
        }
        match mag_cmp(&a.mag, &b.mag) {
            Ordering::Equal => Self::new(false, Vec::new(), scale),
            Ordering::Greater => Self::new(a.negative, mag_sub(&a.mag, &b.mag), scale),
            Ordering::Less => Self::new(b.negative, mag_sub(&b.mag, &a.mag), scale),
        }
    }

    /// Rounds half away from zero (MySQL's ROUND_HALF_UP) to `scale` fractional digits,
    /// or pads with zeros when `scale` is larger than the current one.
    pub fn round_to(&self, scale: u32) -> Decimal {
        if scale >= self.scale {
            return self.widened(scale);
        }
        let mut mag = self.mag.clone();
        let dropped = self.scale - scale;
        // Remove all but one of the dropped digits, then look at the last one.
        mag_div_pow10(&mut mag, dropped - 1);
        let last = mag_divrem_small(&mut mag, 10);
        if last >= 5 {
            mag_mul_add(&mut mag, 1, 1);
        }
        Self::new(self.negative, mag, scale)
    }

    /// `self / divisor` rounded half away from zero to `scale` fractional digits, as
    /// MySQL computes AVG from an exact SUM and a COUNT. `divisor` must not be zero.
    pub fn div_round(&self, divisor: u64, scale: u32) -> Decimal {
        if divisor == 0 {
            return Decimal::zero().widened(scale);
        }
        // Exact quotient at one digit more than needed is enough: the remainder below
        // that digit never changes a half-up decision (the kept digit decides alone).
        let work = scale.max(self.scale) + 1;
        let mut mag = self.mag.clone();
        mag_mul_pow10(&mut mag, work - self.scale);
        mag_divrem_u64(&mut mag, divisor);
        Self::new(self.negative, mag, work).round_to(scale)
    }

    /// The nearest double (for comparisons MySQL makes in floating point).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    /// Canonical bytes for hashing: equal values (1.50 and 1.5) give equal bytes.
    pub fn canonical(&self) -> String {
        let mut text = self.to_string();
        if self.scale > 0 {
            let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
            text.truncate(trimmed);
        }
        if text == "-0" {
            text = "0".into();
        }
        text
    }

    /// The value as an i128 when it is an integer that fits.
    pub fn to_i128(&self) -> Option<i128> {
        if self.scale > 0 {
            let mut probe = self.mag.clone();
            let mut rest = self.scale;
            while rest > 0 {
                if mag_divrem_small(&mut probe, 10) != 0 {
                    return None;
                }
                rest -= 1;
            }
            return Self::new(self.negative, probe, 0).to_i128();
        }
        let mut value: i128 = 0;
        for &limb in self.mag.iter().rev() {
            value = value
                .checked_mul(BASE as i128)?
                .checked_add(i128::from(limb))?;
        }
        Some(if self.negative { -value } else { value })
    }
}

impl fmt::Display for Decimal {
    /// MySQL's text: `-` for negative non-zero values, at least one integer digit and
    /// exactly `scale` fractional digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = mag_to_digits(&self.mag);
        let scale = self.scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
        } else {
            digits
        };
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(int_part)?;
        if scale > 0 {
            f.write_str(".")?;
            f.write_str(frac_part)?;
        }
        Ok(())
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let scale = self.scale.max(other.scale);
        let by_magnitude = mag_cmp(&self.widened(scale).mag, &other.widened(scale).mag);
        if self.negative {
            by_magnitude.reverse()
        } else {
            by_magnitude
        }
    }
}

fn mag_mul_add(mag: &mut Vec<u32>, mul: u32, add: u32) {
    let mut carry = u64::from(add);
    for limb in mag.iter_mut() {
        let v = u64::from(*limb) * u64::from(mul) + carry;
        *limb = (v % BASE) as u32;
        carry = v / BASE;
    }
    while carry > 0 {
        mag.push((carry % BASE) as u32);
        carry /= BASE;
    }
}

fn mag_mul_pow10(mag: &mut Vec<u32>, mut exp: u32) {
    if mag.is_empty() {
        return;
    }
    while exp >= 9 {
        mag.insert(0, 0);
        exp -= 9;
    }
    if exp > 0 {
        mag_mul_add(mag, 10u32.pow(exp), 0);
    }
}

fn mag_div_pow10(mag: &mut Vec<u32>, mut exp: u32) {
    while exp >= 9 && !mag.is_empty() {
        mag.remove(0);
        exp -= 9;
    }
    if exp > 0 {
        mag_divrem_small(mag, 10u32.pow(exp));
    }
}

fn mag_divrem_small(mag: &mut Vec<u32>, div: u32) -> u32 {
    mag_divrem_u64(mag, u64::from(div)) as u32
}

fn mag_divrem_u64(mag: &mut Vec<u32>, div: u64) -> u64 {
    let mut rem: u128 = 0;
    for limb in mag.iter_mut().rev() {
        let cur = rem * u128::from(BASE) + u128::from(*limb);
        *limb = (cur / u128::from(div)) as u32;
        rem = cur % u128::from(div);
    }
    while mag.last() == Some(&0) {
        mag.pop();
    }
    rem as u64
}

fn mag_add(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u64;
    for i in 0..a.len().max(b.len()) {
        let v = u64::from(a.get(i).copied().unwrap_or(0))
            + u64::from(b.get(i).copied().unwrap_or(0))
            + carry;
        out.push((v % BASE) as u32);
        carry = v / BASE;
    }
    if carry > 0 {
        out.push(carry as u32);
    }
    out
}

/// `a - b` for `a >= b`.
fn mag_sub(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i64;
    for (i, &limb) in a.iter().enumerate() {
        let mut v = i64::from(limb) - i64::from(b.get(i).copied().unwrap_or(0)) - borrow;
        borrow = 0;
        if v < 0 {
            v += BASE as i64;
            borrow = 1;
        }
        out.push(v as u32);
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

fn mag_cmp(a: &[u32], b: &[u32]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn mag_to_digits(mag: &[u32]) -> String {
    let mut out = String::new();
    for (i, limb) in mag.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&limb.to_string());
        } else {
            out.push_str(&format!("{limb:09}"));
        }
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn parses_and_prints_mysql_text() {
        for (input, printed) in [
            ("0", "0"),
            ("-0.00", "0.00"),
            ("123.45", "123.45"),
            ("-0.05", "-0.05"),
            ("+7", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("000123.4500", "123.4500"),
            (
                "99999999999999999999999999999999999.999999999999999999999999999999",
                "99999999999999999999999999999999999.999999999999999999999999999999",
            ),
        ] {
            assert_eq!(d(input).to_string(), printed, "{input}");
        }
        for bad in ["", "-", ".", "1e5", "1.2.3", "12a", " 1"] {
            assert!(Decimal::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn compares_by_value_across_scales() {
        assert_eq!(d("1.50").cmp(&d("1.5")), Ordering::Equal);
        assert_eq!(d("-1.5").cmp(&d("-1.49")), Ordering::Less);
        assert_eq!(d("-0.00").cmp(&d("0")), Ordering::Equal);
        assert_eq!(
            d("18446744073709551616").cmp(&d("18446744073709551615.999")),
            Ordering::Greater
        );
        assert_eq!(d("0.1").cmp(&d("0.10000000000000001")), Ordering::Less);
    }

    #[test]
    fn adds_exactly_with_mixed_signs() {
        for (a, b, sum) in [
            ("1.25", "2.50", "3.75"),
            ("-1.25", "1.25", "0.00"),
            ("-5", "3.5", "-1.5"),
            (
                "18446744073709551615",
                "18446744073709551615",
                "36893488147419103230",
            ),
            ("999999999.999999999", "0.000000001", "1000000000.000000000"),
            ("-1000000000", "1", "-999999999"),
        ] {
            assert_eq!(d(a).add(&d(b)).to_string(), sum, "{a} + {b}");
        }
    }

    /// Expected values from MariaDB 10.11:
    /// `SELECT AVG(i), AVG(-i), AVG(d), AVG(-d)` over 32 rows where one row has i = 1,
    /// d = 0.01 and the rest 0 gives `0.0313 -0.0313 0.000313 -0.000313`;
    /// AVG over (1, 2, 2) gives `1.6667`, over (-1, -2, -2) `-1.6667`;
    /// `SELECT AVG(IF(seq=1,-1,0)) FROM seq_1_to_30000` gives `0.0000`.
    #[test]
    fn avg_division_rounds_half_away_from_zero_like_mariadb() {
        for (sum, count, scale, avg) in [
            ("1", 32, 4, "0.0313"),
            ("-1", 32, 4, "-0.0313"),
            ("0.01", 32, 6, "0.000313"),
            ("-0.01", 32, 6, "-0.000313"),
            ("5", 3, 4, "1.6667"),
            ("-5", 3, 4, "-1.6667"),
            ("-1", 30000, 4, "0.0000"),
            ("7", 2, 4, "3.5000"),
            ("3.75", 2, 6, "1.875000"),
        ] {
            assert_eq!(
                d(sum).div_round(count, scale).to_string(),
                avg,
                "{sum}/{count}"
            );
        }
    }

    #[test]
    fn rounding_to_fewer_digits_is_half_up() {
        assert_eq!(d("2.345").round_to(2).to_string(), "2.35");
        assert_eq!(d("-2.345").round_to(2).to_string(), "-2.35");
        assert_eq!(d("2.3449999999999").round_to(2).to_string(), "2.34");
        assert_eq!(
            d("0.0000000000000000005").round_to(18).to_string(),
            "0.000000000000000001"
        );
        assert_eq!(d("-0.004").round_to(2).to_string(), "0.00");
    }

    #[test]
    fn canonical_form_ignores_trailing_fraction_zeros() {
        assert_eq!(d("1.500").canonical(), "1.5");
        assert_eq!(d("2.000").canonical(), "2");
        assert_eq!(d("-0.0").canonical(), "0");
        assert_eq!(d("10").canonical(), "10");
    }

    proptest! {
        #[test]
        fn arithmetic_matches_i128(a in -10i128.pow(30)..10i128.pow(30), b in -10i128.pow(30)..10i128.pow(30), scale in 0u32..12) {
            let da = Decimal::from_i128(a);
            let db = Decimal::from_i128(b);
            prop_assert_eq!(da.add(&db).to_i128(), Some(a + b));
            prop_assert_eq!(da.cmp(&db), a.cmp(&b));
            let text = format!("{}", Decimal { scale, ..da.clone() });
            prop_assert_eq!(Decimal::parse(text.as_bytes()).unwrap().to_string(), text);
        }

        #[test]
        fn division_matches_i128_rounding(a in -10i128.pow(25)..10i128.pow(25), count in 1u64..1_000_000) {
            // a / count rounded half away from zero to 4 digits, computed in i128.
            let scaled = a * 10_000;
            let c = i128::from(count);
            let mut q = scaled / c;
            if (scaled % c).abs() * 2 >= c {
                q += scaled.signum();
            }
            let expect = Decimal { scale: 4, ..Decimal::from_i128(q) };
            prop_assert_eq!(Decimal::from_i128(a).div_round(count, 4).to_string(), expect.to_string());
        }
    }
}
