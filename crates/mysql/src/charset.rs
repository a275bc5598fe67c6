//! Character sets: how the bytes of a value encode characters, and conversion of text
//! into a column's character set. Conversion follows MariaDB's `CONVERT(x USING cs)`: a
//! character the target cannot hold becomes `?` (what a non-strict INSERT stores, with
//! warning 1366; a strict INSERT refuses it and a comparison is error 1267, so routing
//! by the `?` form never misplaces a row).

use crate::collation::tables::LATIN1_TO_UNICODE;
use crate::collation::Collation;

/// A character set of string values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// UTF-8, up to 4 bytes per character.
    Utf8mb4,
    /// UTF-8 restricted to the BMP (`utf8` in MariaDB 10.11).
    Utf8mb3,
    /// MariaDB's latin1 (cp1252 with five undefined bytes passed through).
    Latin1,
    /// 7-bit ASCII.
    Ascii,
    /// Bytes.
    Binary,
}

impl Charset {
    /// The charset called `name` (case-insensitive; `utf8` means `utf8mb3`).
    pub fn from_name(name: &str) -> Option<Charset> {
        match name.to_ascii_lowercase().as_str() {
            "utf8mb4" => Some(Charset::Utf8mb4),
            "utf8mb3" | "utf8" => Some(Charset::Utf8mb3),
            "latin1" => Some(Charset::Latin1),
            "ascii" => Some(Charset::Ascii),
            "binary" => Some(Charset::Binary),
            _ => None,
        }
    }

    /// The charset's name as MariaDB prints it.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8mb4 => "utf8mb4",
            Charset::Utf8mb3 => "utf8mb3",
            Charset::Latin1 => "latin1",
            Charset::Ascii => "ascii",
            Charset::Binary => "binary",
        }
    }

    /// The charset's default collation (MariaDB 10.11).
    pub fn default_collation(self) -> Collation {
        Collation::known(match self {
            Charset::Utf8mb4 => 45,
            Charset::Utf8mb3 => 33,
            Charset::Latin1 => 8,
            Charset::Ascii => 11,
            Charset::Binary => 63,
        })
    }

    /// The charset's `_bin` collation (what the BINARY column attribute selects).
    pub fn bin_collation(self) -> Collation {
        Collation::known(match self {
            Charset::Utf8mb4 => 46,
            Charset::Utf8mb3 => 83,
            Charset::Latin1 => 47,
            Charset::Ascii => 65,
            Charset::Binary => 63,
        })
    }

    /// How bytes in this charset encode characters.
    pub fn encoding(self) -> Encoding {
        match self {
            Charset::Utf8mb4 | Charset::Utf8mb3 | Charset::Ascii => Encoding::Utf8,
            Charset::Latin1 => Encoding::Latin1,
            Charset::Binary => Encoding::Binary,
        }
    }

    /// The code point this charset stores for `cp`: `cp` itself, or `?` when the charset
    /// cannot hold it (MariaDB's `CONVERT`).
    pub fn storable(self, cp: u32) -> u32 {
        let fits = match self {
            Charset::Utf8mb4 | Charset::Binary => true,
            Charset::Utf8mb3 => cp <= 0xFFFF,
            Charset::Ascii => cp < 0x80,
            Charset::Latin1 => latin1_byte(cp).is_some(),
        };
        if fits {
            cp
        } else {
            u32::from(b'?')
        }
    }

    /// `CONVERT(text USING self)` for UTF-8 `text`: the bytes the charset stores (raw
    /// bytes for `binary`). `Err` carries the offset of the first invalid UTF-8 byte.
    pub fn convert_from_utf8(self, text: &[u8]) -> Result<Vec<u8>, usize> {
        if self == Charset::Binary {
            return Ok(text.to_vec());
        }
        let s = std::str::from_utf8(text).map_err(|e| e.valid_up_to())?;
        let mut out = Vec::with_capacity(text.len());
        for ch in s.chars() {
            let cp = self.storable(u32::from(ch));
            match self {
                Charset::Latin1 => out.push(latin1_byte(cp).unwrap_or(b'?')),
                _ => {
                    let ch = char::from_u32(cp).unwrap_or('?');
                    out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
        }
        Ok(out)
    }
}

/// The latin1 byte of a code point, if latin1 has it.
pub(crate) fn latin1_byte(cp: u32) -> Option<u8> {
    if let Ok(byte) = u8::try_from(cp) {
        if u32::from(LATIN1_TO_UNICODE[usize::from(byte)]) == cp {
            return Some(byte);
        }
    }
    LATIN1_TO_UNICODE
        .iter()
        .position(|&u| u32::from(u) == cp)
        .and_then(|p| u8::try_from(p).ok())
}

/// How the bytes of a value encode characters (a result set's character set may differ
/// from the collation's own: a latin1 column read over a utf8mb4 connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// utf8mb3 / utf8mb4 (and ASCII, a subset).
    Utf8,
    /// latin1 (MariaDB's latin1 is cp1252).
    Latin1,
    /// Bytes, no characters.
    Binary,
}

impl Encoding {
    /// The encoding of a character set/collation id, if Strata knows it.
    pub fn of_charset(id: u16) -> Option<Encoding> {
        Collation::from_id(id).map(|c| c.charset().encoding())
    }

    /// The largest prefix of `bytes` no longer than `max` that ends on a character
    /// boundary (for truncating GROUP_CONCAT as MySQL does).
    pub fn truncate_len(self, bytes: &[u8], max: usize) -> usize {
        if bytes.len() <= max {
            return bytes.len();
        }
        match self {
            Encoding::Latin1 | Encoding::Binary => max,
            Encoding::Utf8 => {
                let mut end = max;
                // Step back over continuation bytes to the start of the cut character.
                while end > 0 && (bytes[end] & 0xC0) == 0x80 {
                    end -= 1;
                }
                end
            }
        }
    }

    /// The characters of `bytes`; bytes that do not start a valid sequence come out one
    /// by one as [`Unit::Byte`] (every byte, for `Binary`).
    pub fn decode(self, bytes: &[u8]) -> Chars<'_> {
        Chars {
            bytes,
            pos: 0,
            encoding: self,
        }
    }
}

/// One decoded unit of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A character (code point).
    Char(u32),
    /// A byte that is not (part of) a valid character.
    Byte(u8),
}

/// Iterator of [`Unit`]s made by [`Encoding::decode`].
#[derive(Debug, Clone)]
pub struct Chars<'a> {
    bytes: &'a [u8],
    pos: usize,
    encoding: Encoding,
}

impl Chars<'_> {
    /// Offset of the next unit in the input.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl Iterator for Chars<'_> {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        let rest = self.bytes.get(self.pos..)?;
        let first = *rest.first()?;
        match self.encoding {
            Encoding::Binary => {
                self.pos += 1;
                Some(Unit::Byte(first))
            }
            Encoding::Latin1 => {
                self.pos += 1;
                Some(Unit::Char(u32::from(LATIN1_TO_UNICODE[usize::from(first)])))
            }
            Encoding::Utf8 => {
                let (len, min, init) = match first {
                    0x00..=0x7F => {
                        self.pos += 1;
                        return Some(Unit::Char(u32::from(first)));
                    }
                    0xC2..=0xDF => (2, 0x80, u32::from(first & 0x1F)),
                    0xE0..=0xEF => (3, 0x800, u32::from(first & 0x0F)),
                    0xF0..=0xF4 => (4, 0x1_0000, u32::from(first & 0x07)),
                    _ => {
                        self.pos += 1;
                        return Some(Unit::Byte(first));
                    }
                };
                let mut cp = init;
                for i in 1..len {
                    match rest.get(i) {
                        Some(&b) if b & 0xC0 == 0x80 => cp = (cp << 6) | u32::from(b & 0x3F),
                        _ => {
                            self.pos += 1;
                            return Some(Unit::Byte(first));
                        }
                    }
                }
                if cp < min || cp > 0x10_FFFF || (0xD800..=0xDFFF).contains(&cp) {
                    self.pos += 1;
                    return Some(Unit::Byte(first));
                }
                self.pos += len;
                Some(Unit::Char(cp))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_replaces_what_the_charset_cannot_hold_with_a_question_mark() {
        // Expected values: MariaDB 10.11.19, `SELECT HEX(CONVERT('€ā' USING latin1)),
        // HEX(CONVERT('a😀' USING utf8mb3)), HEX(CONVERT('é' USING ascii))` gives
        // 803F, 613F, 3F.
        let cases: [(Charset, &str, &[u8]); 5] = [
            (Charset::Latin1, "€ā", &[0x80, 0x3F]),
            (Charset::Utf8mb3, "a😀", b"a?"),
            (Charset::Ascii, "é", b"?"),
            (Charset::Utf8mb4, "a😀", "a😀".as_bytes()),
            (Charset::Latin1, "Äé", &[0xC4, 0xE9]),
        ];
        for (charset, text, expected) in cases {
            assert_eq!(
                charset.convert_from_utf8(text.as_bytes()).as_deref(),
                Ok(expected),
                "{} {text:?}",
                charset.name()
            );
        }
        assert_eq!(Charset::Latin1.convert_from_utf8(b"a\xFF"), Err(1));
    }

    #[test]
    fn group_concat_truncation_keeps_whole_characters() {
        // MariaDB: SET group_concat_max_len=4; GROUP_CONCAT of 'aé','xyzw' gives 'aé,'.
        let joined = "a\u{e9},xyzw".as_bytes();
        assert_eq!(Encoding::Utf8.truncate_len(joined, 4), 4);
        assert_eq!(Encoding::Utf8.truncate_len(joined, 2), 1);
        assert_eq!(Encoding::Latin1.truncate_len(joined, 2), 2);
        assert_eq!(Encoding::Utf8.truncate_len(b"abc", 10), 3);
    }
}
