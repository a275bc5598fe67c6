//! Statement shapes: a cheap key under which statements that differ only in the values of
//! plain literals meet, so a statement's digest can be looked up instead of lexed again.
//!
//! The key is the text itself, byte for byte, with each integer and quoted string that
//! certainly lexes as one whole literal token replaced by a marker byte. Everything else
//! is copied, so two texts with one key differ only inside those literals, and the lexer
//! splits both into the same tokens: they have the same digest. A text the scan does not
//! follow exactly (comments, non-ASCII bytes, control bytes, prefixed strings, user
//! variables named by a string) has no key; its digest is computed the long way.

use std::collections::HashMap;

use crate::digest::digest_text_into;

/// Replaces a quoted string in a shape key (control bytes never appear in a key's copied
/// text: the scan gives up on them).
const STRING_MARK: u8 = 0x01;
/// Replaces an integer in a shape key.
const INTEGER_MARK: u8 = 0x02;

/// Texts longer than this are digested the long way: a key is a copy of the text, and
/// long statements (bulk INSERTs) rarely repeat a shape with the same row count.
const MAX_KEYED_LEN: usize = 2048;

/// Writes the shape key of `sql` into `out` (cleared first); false when `sql` has no key.
pub fn shape_key_into(sql: &str, out: &mut Vec<u8>) -> bool {
    out.clear();
    let bytes = sql.as_bytes();
    if bytes.len() > MAX_KEYED_LEN {
        return false;
    }
    out.reserve(bytes.len());
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    // Copied text is flushed in runs, from `copied` up to the next marker.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if PLAIN[usize::from(b)] {
            i += 1;
            continue;
        }
        let prev = if i == 0 { 0 } else { bytes[i - 1] };
        match b {
            0..=0x1f | 0x7f..=0xff | b'#' => return false,
            b'-' if at(i + 1) == b'-' => return false,
            b'/' if at(i + 1) == b'*' => return false,
            b'\'' | b'"' => {
                // After a name byte the string is part of a prefixed literal or a user
                // variable (`N'..'`, `_utf8'..'`, `X'..'`, `@'..'`): not followed here.
                if is_name_byte(prev) || prev == b'@' {
                    return false;
                }
                let Some(end) = quoted_end(bytes, i, true) else {
                    return false;
                };
                out.extend_from_slice(&bytes[copied..i]);
                out.push(STRING_MARK);
                i = end;
                copied = end;
            }
            b'`' => match quoted_end(bytes, i, false) {
                Some(end) => i = end,
                None => return false,
            },
            // Digits lex as one integer token only between token boundaries: not in a
            // name or variable (`t1`, `@1`), a decimal (`1.5`, `.5`), a hex or bit number
            // (`0x1F`), an exponent (`1e5`) or `123abc` (a name).
            b'0'..=b'9' if !is_name_byte(prev) && prev != b'@' && prev != b'.' => {
                let mut end = i + 1;
                while at(end).is_ascii_digit() {
                    end += 1;
                }
                let next = at(end);
                if !is_name_byte(next) && next != b'.' {
                    out.extend_from_slice(&bytes[copied..i]);
                    out.push(INTEGER_MARK);
                    copied = end;
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    true
}

/// Bytes copied as they are whatever surrounds them: letters, `_`, `$`, spacing and the
/// punctuation that neither starts a literal, a quoted name or a comment.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = !matches!(
            b as u8,
            b'0'..=b'9' | b'\'' | b'"' | b'`' | b'-' | b'/' | b'#'
        );
        b += 1;
    }
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// ASCII bytes of an unquoted name (the scan gives up on non-ASCII ones).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// End (one past the closing quote) of the quoted run opening at `start`, by the
/// lexer's rules: a doubled quote stays inside, and in strings a backslash escapes the
/// next byte. None when it is not closed.
fn quoted_end(bytes: &[u8], start: usize, backslash: bool) -> Option<usize> {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && backslash {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Digests computed once per statement shape: the statement statistics digest every
/// statement, and most statements repeat a few shapes with other values.
#[derive(Debug, Default)]
pub struct ShapeDigests {
    known: HashMap<Vec<u8>, String, foldhash::fast::RandomState>,
    key: Vec<u8>,
}

/// Shapes remembered at most; past it the memo starts again empty.
const MAX_SHAPES: usize = 4096;

impl ShapeDigests {
    /// An empty memo.
    pub fn new() -> ShapeDigests {
        ShapeDigests::default()
    }

    /// Writes the digest text of `sql` into `out` (cleared first), as
    /// [`digest_text_into`] does.
    pub fn digest_into(&mut self, sql: &str, out: &mut String) {
        if !shape_key_into(sql, &mut self.key) {
            digest_text_into(sql, out);
            return;
        }
        if let Some(digest) = self.known.get(self.key.as_slice()) {
            out.clear();
            out.push_str(digest);
            return;
        }
        digest_text_into(sql, out);
        if self.known.len() >= MAX_SHAPES {
            self.known.clear();
        }
        self.known.insert(self.key.clone(), out.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sql: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        shape_key_into(sql, &mut out).then_some(out)
    }

    #[test]
    fn statements_differing_only_in_literals_share_a_key() {
        let groups: &[&[&str]] = &[
            &[
                "SELECT c FROM sbtest1 WHERE id=5034",
                "SELECT c FROM sbtest1 WHERE id=7",
            ],
            &[
                "INSERT INTO t VALUES (1, 'a', \"b\")",
                "INSERT INTO t VALUES (22, 'it''s', \"\\\"q\")",
            ],
            &[
                "UPDATE t SET v = v - 3 WHERE k = 9",
                "UPDATE t SET v = v - 44 WHERE k = 0",
            ],
        ];
        for group in groups {
            let keys: Vec<_> = group.iter().map(|s| key(s)).collect();
            assert!(keys[0].is_some(), "{group:?}");
            assert!(keys.windows(2).all(|w| w[0] == w[1]), "{group:?}");
        }
    }

    #[test]
    fn names_decimals_and_prefixed_literals_are_kept_or_not_keyed() {
        let distinct = [
            ("SELECT * FROM t1", "SELECT * FROM t2"),
            ("SELECT 1.5", "SELECT 2.5"),
            ("SELECT 0x1F", "SELECT 0x2F"),
            ("SELECT 1e5", "SELECT 2e5"),
            ("SELECT @1", "SELECT @2"),
            ("SELECT t.1a FROM t", "SELECT t.2a FROM t"),
            ("SELECT `a1`", "SELECT `a2`"),
            ("SELECT 'a' FROM t", "SELECT 'a' FROM u"),
        ];
        for (a, b) in distinct {
            assert_ne!(key(a), key(b), "{a} / {b}");
        }
        for sql in [
            "SELECT N'a'",
            "SELECT _utf8'a'",
            "SELECT X'1F'",
            "SELECT @'v'",
            "SELECT 1 -- c",
            "SELECT 1 # c",
            "SELECT /*!50700 1 */",
            "SELECT é",
            "SELECT 'a",
            "SELECT \u{1}",
        ] {
            assert_eq!(key(sql), None, "{sql}");
        }
    }

    /// Every pair of texts with one key has one digest: checked over many short texts
    /// made of the bytes where the lexer's decisions turn.
    #[test]
    fn texts_with_one_key_have_one_digest() {
        const ALPHABET: &[u8] = b"0129xXeEbB.-+@'\"\\`a_N $=(),?*/#!;\t";
        let mut seen: HashMap<Vec<u8>, (String, String)> = HashMap::new();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut keyed = 0;
        for _ in 0..300_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 1 + (state % 9) as usize;
            let mut s = state;
            let text: String = (0..len)
                .map(|_| {
                    let c = ALPHABET[(s % ALPHABET.len() as u64) as usize] as char;
                    s /= ALPHABET.len() as u64;
                    if s == 0 {
                        s = state.rotate_left(17);
                    }
                    c
                })
                .collect();
            let Some(k) = key(&text) else { continue };
            keyed += 1;
            let mut digest = String::new();
            digest_text_into(&text, &mut digest);
            match seen.get(&k) {
                Some((first, first_digest)) => assert_eq!(
                    &digest, first_digest,
                    "{text:?} and {first:?} share a key, not a digest"
                ),
                None => {
                    seen.insert(k, (text, digest));
                }
            }
        }
        assert!(
            keyed > 10_000 && seen.len() < keyed,
            "{keyed} keyed, {} keys",
            seen.len()
        );
    }

    #[test]
    fn the_memo_answers_like_the_digest() {
        let mut memo = ShapeDigests::new();
        let mut out = String::new();
        for sql in [
            "SELECT c FROM t WHERE id=5",
            "SELECT c FROM t WHERE id=6",
            "select c from t where id = 'x'",
            "SELECT 1.5 -- c",
            "SELECT c FROM t WHERE id=7",
        ] {
            memo.digest_into(sql, &mut out);
            let mut direct = String::new();
            digest_text_into(sql, &mut direct);
            assert_eq!(out, direct, "{sql}");
        }
        assert_eq!(memo.known.len(), 2);
    }
}
