//! Collation weights for string sharding keys. Two strings that a column's collation
//! considers equal get the same weight bytes, so they route to the same data node.
//!
//! The weights are MariaDB's own: `collation/tables.rs` is generated from
//! `WEIGHT_STRING()` of every BMP code point (see `tools/gen_collation_tables.py`), and a
//! table of equal/unequal pairs checked against MariaDB guards the result. A weight is
//! what `WEIGHT_STRING(s COLLATE c)` returns without its padding, with trailing
//! space-equivalent weights removed: PAD SPACE collations ignore trailing spaces (and
//! anything that weighs like a space). NO PAD collations get the same weights, which is
//! coarser than their equality but never routes equal strings apart.

#[rustfmt::skip]
mod tables;

use tables::{
    GENERAL_CI_EXCEPTIONS, LATIN1_SWEDISH_CI, LATIN1_TO_UNICODE, UCA400_RUNS, UCA400_WEIGHTS,
};

/// A character set of string sharding keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// UTF-8, up to 4 bytes per character.
    Utf8mb4,
    /// UTF-8 restricted to the BMP (`utf8` in MariaDB 10.11).
    Utf8mb3,
    /// MariaDB's latin1 (cp1252).
    Latin1,
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
            Charset::Binary => "binary",
        }
    }

    /// The charset's default collation (MariaDB 10.11).
    pub fn default_collation(self) -> Collation {
        let name = match self {
            Charset::Utf8mb4 => "utf8mb4_general_ci",
            Charset::Utf8mb3 => "utf8mb3_general_ci",
            Charset::Latin1 => "latin1_swedish_ci",
            Charset::Binary => "binary",
        };
        Collation::known(name)
    }

    /// The charset's `_bin` collation (what the BINARY column attribute selects).
    pub fn bin_collation(self) -> Collation {
        let name = match self {
            Charset::Utf8mb4 => "utf8mb4_bin",
            Charset::Utf8mb3 => "utf8mb3_bin",
            Charset::Latin1 => "latin1_bin",
            Charset::Binary => "binary",
        };
        Collation::known(name)
    }
}

/// How characters become weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Weights {
    /// `*_general_ci`: one 16-bit weight per character, supplementary characters 0xFFFD.
    GeneralCi,
    /// `*_unicode_ci` (UCA 4.0.0, primary level): 0..n 16-bit weights per character.
    Uca400,
    /// `utf8*_bin`: the code point, 3 bytes.
    CodePoint,
    /// `latin1_swedish_ci`: one byte per latin1 byte.
    Latin1SwedishCi,
    /// `latin1_bin`: the latin1 byte.
    Latin1Bin,
    /// `binary`: the bytes, trailing 0x00 removed (BINARY(n) pads with 0x00).
    Bytes,
}

/// A collation Strata can compute sharding-key weights for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Collation {
    name: &'static str,
    charset: Charset,
    weights: Weights,
    pad_space: bool,
}

/// Every supported collation (names as MariaDB 10.11 prints them).
const COLLATIONS: [Collation; 16] = [
    c(
        "utf8mb4_general_ci",
        Charset::Utf8mb4,
        Weights::GeneralCi,
        true,
    ),
    c("utf8mb4_bin", Charset::Utf8mb4, Weights::CodePoint, true),
    c(
        "utf8mb4_unicode_ci",
        Charset::Utf8mb4,
        Weights::Uca400,
        true,
    ),
    c(
        "utf8mb4_general_nopad_ci",
        Charset::Utf8mb4,
        Weights::GeneralCi,
        false,
    ),
    c(
        "utf8mb4_nopad_bin",
        Charset::Utf8mb4,
        Weights::CodePoint,
        false,
    ),
    c(
        "utf8mb4_unicode_nopad_ci",
        Charset::Utf8mb4,
        Weights::Uca400,
        false,
    ),
    c(
        "utf8mb3_general_ci",
        Charset::Utf8mb3,
        Weights::GeneralCi,
        true,
    ),
    c("utf8mb3_bin", Charset::Utf8mb3, Weights::CodePoint, true),
    c(
        "utf8mb3_unicode_ci",
        Charset::Utf8mb3,
        Weights::Uca400,
        true,
    ),
    c(
        "utf8mb3_general_nopad_ci",
        Charset::Utf8mb3,
        Weights::GeneralCi,
        false,
    ),
    c(
        "utf8mb3_nopad_bin",
        Charset::Utf8mb3,
        Weights::CodePoint,
        false,
    ),
    c(
        "utf8mb3_unicode_nopad_ci",
        Charset::Utf8mb3,
        Weights::Uca400,
        false,
    ),
    c(
        "latin1_swedish_ci",
        Charset::Latin1,
        Weights::Latin1SwedishCi,
        true,
    ),
    c("latin1_bin", Charset::Latin1, Weights::Latin1Bin, true),
    c(
        "latin1_swedish_nopad_ci",
        Charset::Latin1,
        Weights::Latin1SwedishCi,
        false,
    ),
    c("binary", Charset::Binary, Weights::Bytes, false),
];

const fn c(name: &'static str, charset: Charset, weights: Weights, pad_space: bool) -> Collation {
    Collation {
        name,
        charset,
        weights,
        pad_space,
    }
}

/// Why a string has no weight under a collation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollationError {
    /// The text is not valid UTF-8.
    #[error("invalid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
    /// A character the column's charset cannot store.
    #[error("character U+{code_point:04X} cannot be stored in {charset}")]
    Unrepresentable {
        /// The character.
        code_point: u32,
        /// The column's charset.
        charset: &'static str,
    },
}

impl Collation {
    /// The collation called `name` (case-insensitive; `utf8_` means `utf8mb3_`).
    pub fn from_name(name: &str) -> Option<Collation> {
        let lower = name.to_ascii_lowercase();
        let lower = match lower.strip_prefix("utf8_") {
            Some(rest) => format!("utf8mb3_{rest}"),
            None => lower,
        };
        COLLATIONS.iter().copied().find(|c| c.name == lower)
    }

    /// A collation of the constant table (used for names known to be there).
    fn known(name: &str) -> Collation {
        COLLATIONS
            .iter()
            .copied()
            .find(|c| c.name == name)
            .unwrap_or(COLLATIONS[0])
    }

    /// Names of all supported collations.
    pub fn supported_names() -> impl Iterator<Item = &'static str> {
        COLLATIONS.iter().map(|c| c.name)
    }

    /// The collation's name as MariaDB prints it.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The collation's character set.
    pub fn charset(self) -> Charset {
        self.charset
    }

    /// True for PAD SPACE collations (trailing spaces do not count).
    pub fn pad_space(self) -> bool {
        self.pad_space
    }

    /// The weight of `text`, given in UTF-8 (raw bytes for `binary`). Equal strings under
    /// this collation get equal weights; trailing space weights are removed.
    pub fn weight(self, text: &[u8]) -> Result<Vec<u8>, CollationError> {
        let mut out = Vec::with_capacity(text.len() * 2);
        match self.weights {
            Weights::Bytes => {
                out.extend_from_slice(text);
                while out.last() == Some(&0) {
                    out.pop();
                }
                return Ok(out);
            }
            Weights::GeneralCi => {
                for cp in self.chars(text)? {
                    out.extend_from_slice(&general_ci(cp).to_be_bytes());
                }
                strip_trailing(&mut out, &[0x00, 0x20]);
            }
            Weights::Uca400 => {
                for cp in self.chars(text)? {
                    uca400(cp, &mut out);
                }
                strip_trailing(&mut out, &[0x02, 0x09]);
            }
            Weights::CodePoint => {
                for cp in self.chars(text)? {
                    out.extend_from_slice(&cp.to_be_bytes()[1..]);
                }
                strip_trailing(&mut out, &[0x00, 0x00, 0x20]);
            }
            Weights::Latin1SwedishCi => {
                for byte in to_latin1(text)? {
                    out.push(LATIN1_SWEDISH_CI[usize::from(byte)]);
                }
                strip_trailing(&mut out, &[LATIN1_SWEDISH_CI[0x20]]);
            }
            Weights::Latin1Bin => {
                out = to_latin1(text)?;
                strip_trailing(&mut out, b" ");
            }
        }
        Ok(out)
    }

    /// Decodes UTF-8, refusing what the charset cannot store.
    fn chars(self, text: &[u8]) -> Result<impl Iterator<Item = u32> + '_, CollationError> {
        let s =
            std::str::from_utf8(text).map_err(|e| CollationError::InvalidUtf8(e.valid_up_to()))?;
        if self.charset == Charset::Utf8mb3 {
            if let Some(ch) = s.chars().find(|ch| u32::from(*ch) > 0xFFFF) {
                return Err(CollationError::Unrepresentable {
                    code_point: u32::from(ch),
                    charset: self.charset.name(),
                });
            }
        }
        Ok(s.chars().map(u32::from))
    }
}

impl std::fmt::Display for Collation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Removes trailing copies of `unit` (one weight) from `out`.
fn strip_trailing(out: &mut Vec<u8>, unit: &[u8]) {
    while out.len() >= unit.len() && out.ends_with(unit) {
        out.truncate(out.len() - unit.len());
    }
}

/// utf8mb4_general_ci weight of one code point.
fn general_ci(cp: u32) -> u16 {
    if cp > 0xFFFF {
        return 0xFFFD;
    }
    if cp < 0x80 {
        // ASCII: only lower-case letters change.
        let b = cp as u8;
        return u16::from(b.to_ascii_uppercase());
    }
    let cp16 = cp as u16;
    match GENERAL_CI_EXCEPTIONS.binary_search_by_key(&cp16, |&(c, _)| c) {
        Ok(i) => GENERAL_CI_EXCEPTIONS[i].1,
        Err(_) => cp16,
    }
}

/// utf8mb4_unicode_ci (UCA 4.0.0) primary weights of one code point, appended big-endian.
fn uca400(cp: u32, out: &mut Vec<u8>) {
    if cp > 0xFFFF {
        out.extend_from_slice(&0xFFFDu16.to_be_bytes());
        return;
    }
    let cp16 = cp as u16;
    let i = UCA400_RUNS.partition_point(|&(_, last, _, _)| last < cp16);
    if let Some(&(first, _, idx, n)) = UCA400_RUNS.get(i) {
        if first <= cp16 {
            let idx = usize::from(idx);
            if n == 1 {
                let w = UCA400_WEIGHTS[idx].wrapping_add(cp16 - first);
                out.extend_from_slice(&w.to_be_bytes());
            } else {
                for w in &UCA400_WEIGHTS[idx..idx + usize::from(n)] {
                    out.extend_from_slice(&w.to_be_bytes());
                }
            }
            return;
        }
    }
    // Not in the table: UCA implicit weights, with the CJK bases.
    let base: u16 = if (0x4E00..=0x9FA5).contains(&cp16)
        || matches!(
            cp16,
            0xFA0E
                | 0xFA0F
                | 0xFA11
                | 0xFA13
                | 0xFA14
                | 0xFA1F
                | 0xFA21
                | 0xFA23
                | 0xFA24
                | 0xFA27
                | 0xFA28
                | 0xFA29
        ) {
        0xFB40
    } else if (0x3400..=0x4DB5).contains(&cp16) {
        0xFB80
    } else {
        0xFBC0
    };
    out.extend_from_slice(&(base + (cp16 >> 15)).to_be_bytes());
    out.extend_from_slice(&((cp16 & 0x7FFF) | 0x8000).to_be_bytes());
}

/// Converts UTF-8 text to MariaDB's latin1 bytes.
fn to_latin1(text: &[u8]) -> Result<Vec<u8>, CollationError> {
    let s = std::str::from_utf8(text).map_err(|e| CollationError::InvalidUtf8(e.valid_up_to()))?;
    s.chars()
        .map(|ch| {
            let cp = u32::from(ch);
            LATIN1_TO_UNICODE
                .iter()
                .position(|&u| u32::from(u) == cp)
                .and_then(|b| u8::try_from(b).ok())
                .ok_or(CollationError::Unrepresentable {
                    code_point: cp,
                    charset: "latin1",
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a field of `tests/data/collation_pairs.tsv`: `\u{XXXX}` escapes a code
    /// point, `\\` a backslash.
    pub(crate) fn unescape(field: &str) -> String {
        let mut out = String::new();
        let mut rest = field;
        while let Some(pos) = rest.find('\\') {
            out.push_str(&rest[..pos]);
            let tail = &rest[pos + 1..];
            if let Some(hex) = tail.strip_prefix("u{") {
                let end = hex.find('}').unwrap_or(hex.len());
                let cp = u32::from_str_radix(&hex[..end], 16).unwrap_or(0xFFFD);
                out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                rest = hex.get(end + 1..).unwrap_or("");
            } else {
                out.push('\\');
                rest = tail.get(1..).unwrap_or("");
            }
        }
        out.push_str(rest);
        out
    }

    /// (collation, a, b, MariaDB's `a = b`) from the shared fact table.
    fn pairs() -> Vec<(String, String, String, bool)> {
        include_str!("../tests/data/collation_pairs.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f.len(), 4, "bad line {l:?}");
                (
                    f[0].to_string(),
                    unescape(f[1]),
                    unescape(f[2]),
                    f[3] == "1",
                )
            })
            .collect()
    }

    #[test]
    fn weights_agree_with_mariadb_equality_on_the_checked_pairs() {
        // Expected values: `SELECT a = b COLLATE c` on MariaDB 10.11.19, recorded in
        // tests/data/collation_pairs.tsv (re-checked live by tests/mariadb_facts.rs).
        let pairs = pairs();
        assert!(pairs.len() > 80, "the fact table is loaded");
        for (name, a, b, equal) in pairs {
            let collation = Collation::from_name(&name).unwrap_or_else(|| panic!("{name}"));
            let wa = collation.weight(a.as_bytes());
            let wb = collation.weight(b.as_bytes());
            let (wa, wb) = match (wa, wb) {
                (Ok(wa), Ok(wb)) => (wa, wb),
                (wa, wb) => panic!("{name} {a:?} {b:?}: {wa:?} {wb:?}"),
            };
            if collation.pad_space() || equal {
                assert_eq!(wa == wb, equal, "{name}: {a:?} vs {b:?}");
            } else {
                // NO PAD: strings that differ only in trailing spaces (or, for binary,
                // trailing NULs) may share a weight; that routing is coarser, never wrong.
                let trim = |s: &str| s.trim_end_matches([' ', '\0']).to_string();
                assert!(wa != wb || trim(&a) == trim(&b), "{name}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn weights_are_mariadb_weight_string_bytes() {
        // Expected values: SELECT HEX(WEIGHT_STRING(x COLLATE c)) on MariaDB 10.11.19
        // (trailing space weights removed, as PAD SPACE comparison ignores them).
        let cases: [(&str, &str, &str); 12] = [
            ("utf8mb4_general_ci", "aé ", "00410045"),
            ("utf8mb4_general_ci", "ß😀", "0053FFFD"),
            ("utf8mb4_unicode_ci", "ß", "0FEA0FEA"),
            ("utf8mb4_unicode_ci", "a\u{0}", "0E33"),
            ("utf8mb4_unicode_ci", "\u{1E9E}", "FBC09E9E"),
            ("utf8mb4_unicode_ci", "中", "FB40CE2D"),
            ("utf8mb4_unicode_ci", "a\u{2002}", "0E33"),
            ("utf8mb4_bin", "a😀", "00006101F600"),
            ("latin1_swedish_ci", "Äé", "5C45"),
            ("latin1_bin", "€ ", "80"),
            ("binary", "a\u{0}\u{0}", "61"),
            ("binary", "a ", "6120"),
        ];
        for (name, text, hex) in cases {
            let collation = Collation::from_name(name).unwrap_or_else(|| panic!("{name}"));
            let weight = collation
                .weight(text.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            let got: String = weight.iter().map(|b| format!("{b:02X}")).collect();
            assert_eq!(got, hex, "{name} {text:?}");
        }
    }

    #[test]
    fn names_resolve_case_insensitively_with_the_utf8_alias() {
        let found = |n| Collation::from_name(n).map(Collation::name);
        assert_eq!(found("UTF8MB4_General_CI"), Some("utf8mb4_general_ci"));
        assert_eq!(found("utf8_general_ci"), Some("utf8mb3_general_ci"));
        assert_eq!(found("utf8_bin"), Some("utf8mb3_bin"));
        assert_eq!(found("utf8mb4_unicode_520_ci"), None);
        assert_eq!(found("latin1_german2_ci"), None);
        assert_eq!(
            Charset::from_name("UTF8").map(Charset::name),
            Some("utf8mb3")
        );
        assert_eq!(
            Charset::Latin1.default_collation().name(),
            "latin1_swedish_ci"
        );
        assert_eq!(Charset::Utf8mb4.bin_collation().name(), "utf8mb4_bin");
    }

    #[test]
    fn unstorable_text_is_refused() {
        let mb3 = Collation::known("utf8mb3_general_ci");
        assert_eq!(
            mb3.weight("a😀".as_bytes()),
            Err(CollationError::Unrepresentable {
                code_point: 0x1F600,
                charset: "utf8mb3"
            })
        );
        let latin1 = Collation::known("latin1_swedish_ci");
        assert!(matches!(
            latin1.weight("ā".as_bytes()),
            Err(CollationError::Unrepresentable {
                code_point: 0x101,
                ..
            })
        ));
        assert_eq!(
            Collation::known("utf8mb4_bin").weight(b"a\xFF"),
            Err(CollationError::InvalidUtf8(1))
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn case_and_trailing_spaces_never_change_a_ci_weight(s in "[a-zA-Z0-9 àéÉßøØ]{0,12}", pad in 0usize..4) {
                for name in ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "latin1_swedish_ci"] {
                    // to_uppercase maps ß to SS, which only unicode_ci treats as equal.
                    if s.contains('ß') && name != "utf8mb4_unicode_ci" {
                        continue;
                    }
                    let c = Collation::known(name);
                    let padded = format!("{}{}", s.to_uppercase(), " ".repeat(pad));
                    prop_assert_eq!(c.weight(s.as_bytes()), c.weight(padded.as_bytes()));
                }
            }

            #[test]
            fn any_utf8_has_a_utf8mb4_weight(s in "\\PC{0,16}") {
                for name in ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_bin"] {
                    prop_assert!(Collation::known(name).weight(s.as_bytes()).is_ok());
                }
            }
        }
    }
}
