//! Text-protocol result rows turned into binary-protocol rows (COM_STMT_EXECUTE
//! results), by column type: a prepared statement whose rows the compute node merges
//! from several data nodes gets the format its driver asked for.

use bytes::{BufMut, BytesMut};

use crate::constants::coltype as t;
use crate::packets::ColumnDef;
use crate::wire::{put_lenenc_bytes, Reader};
use crate::ProtocolError;

/// UNSIGNED column flag.
const UNSIGNED: u16 = 0x20;

/// Appends the binary form of text row `row` (lenenc values, 0xFB for NULL) with
/// `columns` to `out`.
pub fn text_row_to_binary(
    row: &[u8],
    columns: &[ColumnDef],
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    out.put_u8(0x00);
    let bitmap_at = out.len();
    let bitmap_len = (columns.len() + 7 + 2) / 8;
    out.put_bytes(0, bitmap_len);
    let mut r = Reader::new(row);
    for (i, col) in columns.iter().enumerate() {
        let Some(len) = r.lenenc_int("row value length")? else {
            let bit = i + 2;
            if let Some(b) = out.get_mut(bitmap_at + bit / 8) {
                *b |= 1 << (bit % 8);
            }
            continue;
        };
        let len = usize::try_from(len)
            .map_err(|_| ProtocolError::Malformed("row value longer than memory"))?;
        let value = r.bytes(len, "row value")?;
        put_value(col, value, out)?;
    }
    Ok(())
}

fn text(value: &[u8]) -> Result<&str, ProtocolError> {
    std::str::from_utf8(value).map_err(|_| ProtocolError::Malformed("non-text numeric value"))
}

fn bad(what: &'static str) -> ProtocolError {
    ProtocolError::Malformed(what)
}

/// A FLOAT or DOUBLE from its text (`what` names it in the error).
fn float<F: std::str::FromStr>(value: &[u8], what: &'static str) -> Result<F, ProtocolError> {
    text(value)?.trim().parse().map_err(|_| bad(what))
}

fn put_value(col: &ColumnDef, value: &[u8], out: &mut BytesMut) -> Result<(), ProtocolError> {
    let unsigned = col.flags & UNSIGNED != 0;
    let int = |value: &[u8]| -> Result<u64, ProtocolError> {
        let s = text(value)?.trim();
        if unsigned {
            s.parse::<u64>().map_err(|_| bad("integer value"))
        } else {
            s.parse::<i64>()
                .map(|v| v as u64)
                .map_err(|_| bad("integer value"))
        }
    };
    match col.col_type {
        t::TINY => out.put_u8(int(value)? as u8),
        t::SHORT | t::YEAR => out.put_u16_le(int(value)? as u16),
        t::INT24 | t::LONG => out.put_u32_le(int(value)? as u32),
        t::LONGLONG => out.put_u64_le(int(value)?),
        t::FLOAT => out.put_f32_le(float(value, "float value")?),
        t::DOUBLE => out.put_f64_le(float(value, "double value")?),
        t::DATE | t::DATETIME | t::TIMESTAMP => put_datetime(text(value)?, out)?,
        t::TIME => put_time(text(value)?, out)?,
        _ => put_lenenc_bytes(out, value),
    }
    Ok(())
}

/// `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` as the binary protocol's length-prefixed form.
fn put_datetime(s: &str, out: &mut BytesMut) -> Result<(), ProtocolError> {
    let (date, time) = s.split_once(' ').unwrap_or((s, ""));
    let mut d = date.split('-');
    let num = |part: Option<&str>| -> Result<u32, ProtocolError> {
        part.unwrap_or("0")
            .parse::<u32>()
            .map_err(|_| bad("date value"))
    };
    let (year, month, day) = (num(d.next())?, num(d.next())?, num(d.next())?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut h = hms.split(':').filter(|p| !p.is_empty());
    let (hour, minute, second) = (num(h.next())?, num(h.next())?, num(h.next())?);
    let micros = micros_of(frac)?;
    if micros != 0 {
        out.put_u8(11);
    } else if hour != 0 || minute != 0 || second != 0 {
        out.put_u8(7);
    } else if year != 0 || month != 0 || day != 0 {
        out.put_u8(4);
    } else {
        out.put_u8(0);
        return Ok(());
    }
    out.put_u16_le(year as u16);
    out.put_u8(month as u8);
    out.put_u8(day as u8);
    if hour != 0 || minute != 0 || second != 0 || micros != 0 {
        out.put_u8(hour as u8);
        out.put_u8(minute as u8);
        out.put_u8(second as u8);
    }
    if micros != 0 {
        out.put_u32_le(micros);
    }
    Ok(())
}

/// `[-]HHH:MM:SS[.ffffff]` as the binary protocol's TIME form.
fn put_time(s: &str, out: &mut BytesMut) -> Result<(), ProtocolError> {
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = hms.split(':');
    let mut num = || -> Result<u32, ProtocolError> {
        parts
            .next()
            .unwrap_or("0")
            .parse::<u32>()
            .map_err(|_| bad("time value"))
    };
    let (hours, minute, second) = (num()?, num()?, num()?);
    let micros = micros_of(frac)?;
    if hours == 0 && minute == 0 && second == 0 && micros == 0 {
        out.put_u8(0);
        return Ok(());
    }
    out.put_u8(if micros != 0 { 12 } else { 8 });
    out.put_u8(u8::from(negative));
    out.put_u32_le(hours / 24);
    out.put_u8((hours % 24) as u8);
    out.put_u8(minute as u8);
    out.put_u8(second as u8);
    if micros != 0 {
        out.put_u32_le(micros);
    }
    Ok(())
}

fn micros_of(frac: &str) -> Result<u32, ProtocolError> {
    if frac.is_empty() {
        return Ok(0);
    }
    let digits: String = frac.chars().take(6).collect();
    let v: u32 = digits.parse().map_err(|_| bad("fractional seconds"))?;
    Ok(v * 10u32.pow(6 - digits.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(col_type: u8, flags: u16) -> ColumnDef {
        ColumnDef {
            col_type,
            flags,
            ..ColumnDef::varchar("c")
        }
    }

    fn text_row(values: &[Option<&str>]) -> BytesMut {
        let mut b = BytesMut::new();
        for v in values {
            match v {
                Some(v) => put_lenenc_bytes(&mut b, v.as_bytes()),
                None => b.put_u8(0xfb),
            }
        }
        b
    }

    #[test]
    fn converts_each_type_like_mariadb_sends_it() {
        let columns = vec![
            col(t::TINY, 0),
            col(t::LONG, UNSIGNED),
            col(t::LONGLONG, 0),
            col(t::VAR_STRING, 0),
            col(t::NEWDECIMAL, 0),
            col(t::DOUBLE, 0),
            col(t::DATE, 0),
            col(t::DATETIME, 0),
            col(t::TIME, 0),
            col(t::SHORT, 0),
        ];
        let row = text_row(&[
            Some("-1"),
            Some("4294967295"),
            Some("-9000000000"),
            Some("héllo"),
            Some("12.50"),
            Some("0.5"),
            Some("2026-11-22"),
            Some("2026-11-22 10:11:12.5"),
            Some("-26:00:01"),
            None,
        ]);
        let mut out = BytesMut::new();
        text_row_to_binary(&row, &columns, &mut out).expect("converts");
        let mut want = BytesMut::new();
        want.put_u8(0);
        // 10 columns + 2 offset bits = 2 bitmap bytes; column 9 (bit 11) is NULL.
        want.put_u8(0);
        want.put_u8(1 << 3);
        want.put_u8(0xff);
        want.put_u32_le(u32::MAX);
        want.put_i64_le(-9_000_000_000);
        put_lenenc_bytes(&mut want, "héllo".as_bytes());
        put_lenenc_bytes(&mut want, b"12.50");
        want.put_f64_le(0.5);
        want.extend_from_slice(&[4, 0xea, 0x07, 11, 22]);
        want.extend_from_slice(&[11, 0xea, 0x07, 11, 22, 10, 11, 12]);
        want.put_u32_le(500_000);
        want.extend_from_slice(&[8, 1]);
        want.put_u32_le(1);
        want.extend_from_slice(&[2, 0, 1]);
        assert_eq!(out, want);
    }

    #[test]
    fn malformed_values_are_errors_not_panics() {
        let mut out = BytesMut::new();
        let columns = vec![col(t::LONG, 0)];
        assert!(text_row_to_binary(&text_row(&[Some("x")]), &columns, &mut out).is_err());
        assert!(text_row_to_binary(&[0xfc, 0xff], &columns, &mut out).is_err());
        let dates = vec![col(t::DATETIME, 0)];
        assert!(text_row_to_binary(&text_row(&[Some("a-b-c")]), &dates, &mut out).is_err());
    }
}
