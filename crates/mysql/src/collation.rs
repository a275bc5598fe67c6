//! Collations: one [`Collation`] value per MariaDB collation, found by id (what a result
//! column announces) or by name (what DDL says), with the same weights serving every
//! use: [`Collation::compare`] and [`Collation::sort_key`] for merging rows,
//! [`Collation::weight_string`] for routing sharding keys. Equal strings get equal
//! weights, so a row is routed where the merge would group it.
//!
//! A string's weights are its characters' weights in order; a character is first
//! converted to the collation's character set as `CONVERT` does (`?` for what it cannot
//! hold). PAD SPACE collations (all but `binary` and the `_nopad_` ones) compare as if
//! the shorter string were padded with spaces. The weight functions live one family per
//! module: `general_ci`, `uca400` (`*_unicode_ci`), `latin1`, `ascii`, `binary` (`*_bin`
//! of UTF-8 and `binary`); their tables (`tables.rs`) are generated from MariaDB's
//! `WEIGHT_STRING()` by `tools/gen_collation_tables.py`. MariaDB 10.11 has no
//! `utf8mb4_0900_ai_ci`, so neither does Strata.

mod ascii;
mod binary;
mod general_ci;
mod latin1;
#[rustfmt::skip]
pub(crate) mod tables;
mod uca400;

use std::cmp::Ordering;

use crate::charset::{Charset, Encoding, Unit};

/// How characters become weights (one variant per collation family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rules {
    /// `*_general_ci` of UTF-8: one 16-bit weight per character.
    GeneralCi,
    /// `*_unicode_ci` (UCA 4.0.0, primary level): 0..n 16-bit weights per character.
    Uca400,
    /// `utf8*_bin`: the code point.
    CodePoint,
    /// A latin1 collation with one weight byte per latin1 byte.
    Latin1(latin1::Table),
    /// `latin1_bin`: the latin1 byte.
    Latin1Bin,
    /// `ascii_general_ci`: the upper-cased byte.
    AsciiGeneralCi,
    /// `ascii_bin`: the byte.
    AsciiBin,
    /// `binary`: the bytes.
    Bytes,
}

impl Rules {
    /// Bytes per weight in `WEIGHT_STRING()`.
    fn width(self) -> usize {
        match self {
            Rules::GeneralCi | Rules::Uca400 => 2,
            Rules::CodePoint => 3,
            _ => 1,
        }
    }
}

/// A collation Strata implements, with the encoding of the bytes it is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Collation {
    id: u16,
    name: &'static str,
    charset: Charset,
    rules: Rules,
    pad_space: bool,
    encoding: Encoding,
}

const fn c(id: u16, name: &'static str, charset: Charset, rules: Rules, pad: bool) -> Collation {
    let encoding = match charset {
        Charset::Latin1 => Encoding::Latin1,
        Charset::Binary => Encoding::Binary,
        _ => Encoding::Utf8,
    };
    Collation {
        id,
        name,
        charset,
        rules,
        pad_space: pad,
        encoding,
    }
}

use Charset::{Ascii, Binary, Latin1, Utf8mb3, Utf8mb4};

/// Every supported collation (ids and names as MariaDB 10.11 has them).
const COLLATIONS: [Collation; 23] = [
    c(45, "utf8mb4_general_ci", Utf8mb4, Rules::GeneralCi, true),
    c(46, "utf8mb4_bin", Utf8mb4, Rules::CodePoint, true),
    c(224, "utf8mb4_unicode_ci", Utf8mb4, Rules::Uca400, true),
    c(
        1069,
        "utf8mb4_general_nopad_ci",
        Utf8mb4,
        Rules::GeneralCi,
        false,
    ),
    c(1070, "utf8mb4_nopad_bin", Utf8mb4, Rules::CodePoint, false),
    c(
        1248,
        "utf8mb4_unicode_nopad_ci",
        Utf8mb4,
        Rules::Uca400,
        false,
    ),
    c(33, "utf8mb3_general_ci", Utf8mb3, Rules::GeneralCi, true),
    c(83, "utf8mb3_bin", Utf8mb3, Rules::CodePoint, true),
    c(192, "utf8mb3_unicode_ci", Utf8mb3, Rules::Uca400, true),
    c(
        1057,
        "utf8mb3_general_nopad_ci",
        Utf8mb3,
        Rules::GeneralCi,
        false,
    ),
    c(1107, "utf8mb3_nopad_bin", Utf8mb3, Rules::CodePoint, false),
    c(
        1216,
        "utf8mb3_unicode_nopad_ci",
        Utf8mb3,
        Rules::Uca400,
        false,
    ),
    c(
        8,
        "latin1_swedish_ci",
        Latin1,
        Rules::Latin1(latin1::Table::SwedishCi),
        true,
    ),
    c(47, "latin1_bin", Latin1, Rules::Latin1Bin, true),
    c(
        48,
        "latin1_general_ci",
        Latin1,
        Rules::Latin1(latin1::Table::GeneralCi),
        true,
    ),
    c(
        49,
        "latin1_general_cs",
        Latin1,
        Rules::Latin1(latin1::Table::GeneralCs),
        true,
    ),
    c(
        1032,
        "latin1_swedish_nopad_ci",
        Latin1,
        Rules::Latin1(latin1::Table::SwedishCi),
        false,
    ),
    c(1071, "latin1_nopad_bin", Latin1, Rules::Latin1Bin, false),
    c(11, "ascii_general_ci", Ascii, Rules::AsciiGeneralCi, true),
    c(65, "ascii_bin", Ascii, Rules::AsciiBin, true),
    c(
        1035,
        "ascii_general_nopad_ci",
        Ascii,
        Rules::AsciiGeneralCi,
        false,
    ),
    c(1089, "ascii_nopad_bin", Ascii, Rules::AsciiBin, false),
    c(63, "binary", Binary, Rules::Bytes, false),
];

/// Collation ids of MariaDB collations Strata does not implement, to name them in errors.
const KNOWN_UNSUPPORTED: &[(u16, &str)] = &[
    (246, "utf8mb4_unicode_520_ci"),
    (214, "utf8mb3_unicode_520_ci"),
    (5, "latin1_german1_ci"),
    (31, "latin1_german2_ci"),
    (94, "latin1_spanish_ci"),
    (15, "latin1_danish_ci"),
];

/// Weight base for bytes that are not valid UTF-8: above every code point, as MariaDB
/// falls back to comparing bytes from there.
const INVALID_BYTE_WEIGHT: u32 = 0x11_0000;

/// Why a string has no weight string under a collation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollationError {
    /// The text is not valid UTF-8.
    #[error("invalid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
}

impl Collation {
    /// The collation with MariaDB id `id`, applied to bytes in its own character set.
    pub fn from_id(id: u16) -> Option<Collation> {
        COLLATIONS.iter().copied().find(|c| c.id == id)
    }

    /// The collation called `name` (case-insensitive; `utf8_` means `utf8mb3_`).
    pub fn from_name(name: &str) -> Option<Collation> {
        let lower = name.to_ascii_lowercase();
        let lower = match lower.strip_prefix("utf8_") {
            Some(rest) => format!("utf8mb3_{rest}"),
            None => lower,
        };
        COLLATIONS.iter().copied().find(|c| c.name == lower)
    }

    /// A collation of the constant table (ids known to be there).
    pub(crate) fn known(id: u16) -> Collation {
        Collation::from_id(id).unwrap_or(COLLATIONS[0])
    }

    /// A name for an id, supported or not (for error messages).
    pub fn name_of(id: u16) -> String {
        Collation::from_id(id)
            .map(|c| c.name.to_string())
            .or_else(|| {
                KNOWN_UNSUPPORTED
                    .iter()
                    .find(|c| c.0 == id)
                    .map(|c| c.1.to_string())
            })
            .unwrap_or_else(|| format!("collation #{id}"))
    }

    /// Names of all supported collations.
    pub fn supported_names() -> impl Iterator<Item = &'static str> {
        COLLATIONS.iter().map(|c| c.name)
    }

    /// MariaDB's collation id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// MariaDB's collation name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The collation's character set.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// True for PAD SPACE collations (trailing spaces do not count).
    pub fn pad_space(&self) -> bool {
        self.pad_space
    }

    /// The encoding of the bytes this collation is applied to.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The same rules applied to bytes in `encoding`.
    pub fn with_encoding(mut self, encoding: Encoding) -> Collation {
        self.encoding = encoding;
        self
    }

    /// Appends the weights of one decoded unit.
    fn push_weights(&self, unit: Unit, out: &mut Vec<u32>) {
        let cp = match unit {
            Unit::Byte(b) if self.rules == Rules::Bytes => return out.push(u32::from(b)),
            Unit::Byte(b) => return out.push(INVALID_BYTE_WEIGHT + u32::from(b)),
            Unit::Char(cp) => self.charset.storable(cp),
        };
        match self.rules {
            Rules::GeneralCi => out.push(u32::from(general_ci::weight(cp))),
            Rules::Uca400 => uca400::push_weights(cp, out),
            Rules::CodePoint | Rules::Bytes => out.push(cp),
            Rules::Latin1(table) => out.push(u32::from(latin1::weight(table, cp))),
            Rules::Latin1Bin => out.push(u32::from(latin1::byte(cp))),
            Rules::AsciiGeneralCi => out.push(u32::from(ascii::general_ci(cp))),
            Rules::AsciiBin => out.push(cp),
        }
    }

    /// The encoding the bytes are decoded with (`binary` never decodes characters).
    fn decoding(&self) -> Encoding {
        if self.rules == Rules::Bytes {
            Encoding::Binary
        } else {
            self.encoding
        }
    }

    /// The weight of a space, what PAD SPACE pads with.
    fn space_weight(&self) -> u32 {
        let mut w = Vec::with_capacity(1);
        self.push_weights(Unit::Char(u32::from(b' ')), &mut w);
        w.first().copied().unwrap_or(0x20)
    }

    /// The weights of `bytes` in order (per byte for `binary`), trailing spaces kept.
    pub fn weights(&self, bytes: &[u8]) -> impl Iterator<Item = u32> {
        let mut out = Vec::with_capacity(bytes.len());
        for unit in self.decoding().decode(bytes) {
            self.push_weights(unit, &mut out);
        }
        out.into_iter()
    }

    /// The sort key of `bytes`: its weights without trailing spaces under PAD SPACE, so
    /// that equal keys mean equal strings and `compare_keys` orders them.
    pub fn sort_key(&self, bytes: &[u8]) -> Box<[u32]> {
        let mut key: Vec<u32> = Vec::with_capacity(bytes.len());
        for unit in self.decoding().decode(bytes) {
            self.push_weights(unit, &mut key);
        }
        if self.pad_space {
            let space = self.space_weight();
            while key.last() == Some(&space) {
                key.pop();
            }
        }
        key.into_boxed_slice()
    }

    /// Compares two sort keys made by `sort_key`.
    pub fn compare_keys(&self, a: &[u32], b: &[u32]) -> Ordering {
        compare_padded(
            a.iter().copied(),
            b.iter().copied(),
            self.pad_space.then(|| self.space_weight()),
        )
    }

    /// Compares two strings under this collation.
    pub fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        self.compare_keys(&self.sort_key(a), &self.sort_key(b))
    }

    /// The routing weight of UTF-8 `text` (raw bytes for `binary`): MariaDB's
    /// `WEIGHT_STRING(CONVERT(text USING charset) COLLATE self)` without its padding and
    /// without trailing space weights (trailing NULs for `binary`, which BINARY(n) pads
    /// with). Equal strings under this collation get equal weights; NO PAD collations
    /// get the same weights, coarser than their equality but never routing equal
    /// strings apart.
    pub fn weight_string(&self, text: &[u8]) -> Result<Vec<u8>, CollationError> {
        if self.rules == Rules::Bytes {
            let mut out = text.to_vec();
            while out.last() == Some(&0) {
                out.pop();
            }
            return Ok(out);
        }
        let mut units = Vec::with_capacity(text.len());
        let mut chars = Encoding::Utf8.decode(text);
        loop {
            let at = chars.offset();
            match chars.next() {
                None => break,
                Some(Unit::Byte(_)) => return Err(CollationError::InvalidUtf8(at)),
                Some(unit) => self.push_weights(unit, &mut units),
            }
        }
        let space = self.space_weight();
        while units.last() == Some(&space) {
            units.pop();
        }
        let width = self.rules.width();
        let mut out = Vec::with_capacity(units.len() * width);
        for w in units {
            out.extend_from_slice(&w.to_be_bytes()[4 - width..]);
        }
        Ok(out)
    }
}

impl std::fmt::Display for Collation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn compare_padded(
    mut a: impl Iterator<Item = u32>,
    mut b: impl Iterator<Item = u32>,
    pad: Option<u32>,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) => return x.cmp(&y),
            (None, None) => return Ordering::Equal,
            (Some(x), None) => {
                let Some(space) = pad else {
                    return Ordering::Greater;
                };
                return std::iter::once(x)
                    .chain(a)
                    .find(|w| *w != space)
                    .map_or(Ordering::Equal, |w| w.cmp(&space));
            }
            (None, Some(y)) => {
                let Some(space) = pad else {
                    return Ordering::Less;
                };
                return std::iter::once(y)
                    .chain(b)
                    .find(|w| *w != space)
                    .map_or(Ordering::Equal, |w| space.cmp(&w));
            }
        }
    }
}

#[cfg(test)]
mod tests;
