//! Result sets computed by the compute node itself (SHOW DATABASES, driver variables,
//! SHOW PROCESSLIST ...), written in the client's negotiated format.

use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncWrite};

use strata_protocol::packets::{
    encode_eof, encode_text_row, ColumnDef, OkPacket, EOF_HEADER, OK_HEADER,
};
use strata_protocol::wire::put_lenenc_int;
use strata_protocol::{MysqlError, PacketConn};

/// A small result set built in memory.
#[derive(Debug, Clone, Default)]
pub struct LocalResult {
    /// Column definitions.
    pub columns: Vec<ColumnDef>,
    /// Rows of text values (None is NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

impl LocalResult {
    /// A result whose columns are all VARCHAR.
    pub fn text(names: &[&str]) -> Self {
        Self {
            columns: names.iter().map(|n| ColumnDef::varchar(n)).collect(),
            rows: Vec::new(),
        }
    }
}

/// Writes `result` with `status` on the closing packet.
pub fn write_result<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    deprecate_eof: bool,
    result: &LocalResult,
    status: u16,
) {
    conn.write_with(|b| put_lenenc_int(b, result.columns.len() as u64));
    for col in &result.columns {
        conn.write_with(|b| col.encode(b));
    }
    if !deprecate_eof {
        conn.write_with(|b| encode_eof(b, 0, status));
    }
    for row in &result.rows {
        conn.write_with(|b| {
            encode_text_row(b, row.iter().map(|v| v.as_deref().map(str::as_bytes)))
        });
    }
    if deprecate_eof {
        let ok = OkPacket {
            status,
            ..OkPacket::default()
        };
        conn.write_with(|b| ok.encode(b, EOF_HEADER));
    } else {
        conn.write_with(|b| encode_eof(b, 0, status));
    }
}

/// Writes an OK packet.
pub fn write_ok<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut PacketConn<S>, ok: &OkPacket) {
    conn.write_with(|b| ok.encode(b, OK_HEADER));
}

/// Writes an ERR packet.
pub fn write_err<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut PacketConn<S>, err: &MysqlError) {
    conn.write_with(|b| err.encode(b));
}

/// Writes a bare EOF (COM_SET_OPTION's answer) in the client's format.
pub fn write_eof<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    deprecate_eof: bool,
    status: u16,
) {
    if deprecate_eof {
        let ok = OkPacket {
            status,
            ..OkPacket::default()
        };
        conn.write_with(|b| ok.encode(b, EOF_HEADER));
    } else {
        conn.write_with(|b| {
            b.put_u8(EOF_HEADER);
            b.put_u16_le(0);
            b.put_u16_le(status);
        });
    }
}

/// SQL LIKE matching with `%`, `_` and backslash escapes, case-insensitive as with
/// the `_ci` collations SHOW statements use.
pub fn like_matches(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                !t.is_empty() && eq(rest[0], t[0]) && go(&rest[1..], &t[1..])
            }
            Some((c, rest)) => !t.is_empty() && eq(*c, t[0]) && go(rest, &t[1..]),
        }
    }
    fn eq(a: char, b: char) -> bool {
        a.to_lowercase().eq(b.to_lowercase())
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::like_matches;

    #[test]
    fn like_follows_mysql_wildcards_and_escapes() {
        let cases = [
            ("t%", "test", true),
            ("t_st", "TEST", true),
            ("t_st", "tst", false),
            ("%", "", true),
            ("a\\_b", "a_b", true),
            ("a\\_b", "axb", false),
            ("%max%", "max_allowed_packet", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(like_matches(p, t), want, "{p} LIKE {t}");
        }
    }
}
