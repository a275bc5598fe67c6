//! Result sets computed by the compute node itself (SHOW DATABASES, driver variables,
//! SHOW PROCESSLIST ...), written in the client's negotiated format by
//! `strata_protocol::ResultSetWriter`; OK and ERR packets.

use tokio::io::{AsyncRead, AsyncWrite};

use strata_protocol::packets::{ColumnDef, OkPacket, OK_HEADER};
use strata_protocol::{MysqlError, PacketConn, ProtocolError, ResultFormat};

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

/// Writes `result` with `status` on the packets after the columns and at the end; Err
/// (after the rows that could be written) when a row cannot take the binary protocol.
pub fn write_result<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut PacketConn<S>,
    format: ResultFormat,
    result: &LocalResult,
    status: u16,
) -> Result<(), ProtocolError> {
    let mut out = format.writer(conn);
    out.columns(result.columns.iter());
    out.end_columns(0, status);
    for row in &result.rows {
        let values = row.iter().map(|v| v.as_deref().map(str::as_bytes));
        out.values(values, &result.columns)?;
    }
    out.end(0, status);
    Ok(())
}

/// Writes an OK packet.
pub fn write_ok<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut PacketConn<S>, ok: &OkPacket) {
    conn.write_with(|b| ok.encode(b, OK_HEADER));
}

/// Writes an ERR packet.
pub fn write_err<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut PacketConn<S>, err: &MysqlError) {
    conn.write_with(|b| err.encode(b));
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
