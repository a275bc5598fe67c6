//! Statements whose bytes are not valid UTF-8 (binary bytes in a string literal, a
//! latin1 client's text): the session works on their text with U+FFFD in place of
//! those bytes, so whatever reaches a data node is made from the client's own bytes.

use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::split_statements;

use super::{Answer, Session, SessionError};

impl Session {
    /// Several statements in one COM_QUERY that is not UTF-8: split where the client's
    /// bytes split, so that each statement's own bytes (not U+FFFD) reach the data node.
    pub(super) async fn non_utf8_statements(&mut self, body: &[u8]) -> Result<(), SessionError> {
        let mapped = utf8_placeholders(body);
        let pieces = split_statements(&mapped);
        let n = pieces.len();
        for (i, piece) in pieces.iter().enumerate() {
            let start = (piece.as_ptr() as usize).saturating_sub(mapped.as_ptr() as usize);
            let raw = body.get(start..start + piece.len()).unwrap_or_default();
            let text = String::from_utf8_lossy(raw);
            if self.audited(&text, raw, i + 1 < n).await? == Answer::Failed {
                break;
            }
        }
        Ok(())
    }

    /// The statement with logical database names made data node `dnid`'s, from the
    /// client's bytes `raw` (`sql` is their text, with U+FFFD where they are not UTF-8:
    /// the names are then rewritten in a text that keeps each such byte a character of
    /// its own).
    pub(super) fn rewrite_names_in_bytes(
        &self,
        sql: &str,
        raw: &[u8],
        dnid: DataNodeId,
    ) -> Result<Vec<u8>, MysqlError> {
        if sql.as_bytes() == raw {
            return Ok(self.rewrite_schemas_for(sql, Some(dnid)).into_bytes());
        }
        let escaped = escape_invalid_utf8(raw).ok_or_else(|| {
            MysqlError::not_supported(
                "a statement that is not valid UTF-8 and holds characters U+F700..U+F7FF \
                 (write binary bytes as X'...')",
            )
        })?;
        Ok(unescape_invalid_utf8(
            &self.rewrite_schemas_for(&escaped, Some(dnid)),
        ))
    }
}

/// `bytes` with every byte of an invalid UTF-8 sequence replaced by `?`: the same
/// length, so a statement split of it is at the same offsets as in `bytes` (`?` opens
/// no quote or comment).
pub(super) fn utf8_placeholders(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len());
                out.extend(std::iter::repeat_n('?', bad));
                rest = after.get(bad..).unwrap_or_default();
            }
        }
    }
    out
}

/// The private-use characters that stand for the bytes of invalid UTF-8 sequences in
/// [`escape_invalid_utf8`]: U+F700 + the byte.
const ESCAPED_BYTES: u32 = 0xF700;

/// `bytes` as text with each byte of an invalid UTF-8 sequence as the character
/// U+F700 + byte, which [`unescape_invalid_utf8`] turns back into it; None when the
/// valid text already holds one of those characters (it would come back as a byte).
fn escape_invalid_utf8(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    let ours = |c: char| (ESCAPED_BYTES..=ESCAPED_BYTES + 0xFF).contains(&u32::from(c));
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(valid) => (valid, 0),
            Err(e) => {
                let valid = std::str::from_utf8(rest.get(..e.valid_up_to())?).ok()?;
                (valid, e.error_len().unwrap_or(rest.len() - e.valid_up_to()))
            }
        };
        if valid.chars().any(ours) {
            return None;
        }
        out.push_str(valid);
        let invalid = rest.get(valid.len()..valid.len() + bad)?;
        for &b in invalid {
            out.push(char::from_u32(ESCAPED_BYTES + u32::from(b))?);
        }
        rest = rest.get(valid.len() + bad..)?;
    }
    Some(out)
}

/// The bytes [`escape_invalid_utf8`] stood for, the rest of `text` as UTF-8.
fn unescape_invalid_utf8(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match u32::from(c).checked_sub(ESCAPED_BYTES) {
            Some(b) if b <= 0xFF => out.push(b as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaped_bytes_come_back() {
        let bytes = b"INSERT INTO db.t VALUES ('\xff\x00\xde\xad', '\xc3\xa9', '\xc3')";
        let escaped = super::escape_invalid_utf8(bytes).unwrap_or_default();
        assert!(escaped.contains("db.t"));
        assert_eq!(super::unescape_invalid_utf8(&escaped), bytes.to_vec());
        assert_eq!(super::escape_invalid_utf8(b"'\xef\x9c\x80' '\xff'"), None);
    }

    #[test]
    fn invalid_bytes_keep_their_offsets() {
        let bytes = b"INSERT INTO t VALUES ('\xff;\xe9'); SELECT '\xc3\xa9'";
        let mapped = super::utf8_placeholders(bytes);
        assert_eq!(mapped.len(), bytes.len());
        assert_eq!(mapped, "INSERT INTO t VALUES ('?;?'); SELECT 'é'");
    }
}
