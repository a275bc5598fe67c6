//! String comparison by collation, as MariaDB compares strings of one column: ORDER BY,
//! GROUP BY, DISTINCT, MIN/MAX and HAVING all go through `Collation`.
//!
//! A string value is the bytes a data node sent in the result's character set (the
//! column definition's `charset`, which is the *connection's* result character set, not
//! the column's collation) compared under the column's collation rules. Supported rules:
//! `*_general_ci` (MariaDB's case/accent folding table; characters above U+FFFF all weigh
//! U+FFFD), `*_bin` (code point order for utf8mb3/utf8mb4, cp1252 byte order for latin1),
//! `latin1_swedish_ci` and `binary` (bytes). Every collation but `binary` and the `_nopad_`
//! ones is PAD SPACE: trailing spaces do not count, and a shorter string compares as if
//! padded with spaces. Invalid UTF-8 bytes weigh more than any character (MariaDB falls
//! back to a byte comparison from there; such data cannot be stored in a strict-mode
//! utf8mb4 column).

use std::cmp::Ordering;
use std::sync::OnceLock;

use strata_protocol::constants::colflag;
use strata_protocol::packets::ColumnDef;

use crate::collation_tables::{GENERAL_CI_EXCEPTIONS, LATIN1_SWEDISH_CI, LATIN1_TO_UNICODE};

/// How the bytes of a value encode characters (from the result's character set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// utf8mb3 / utf8mb4.
    Utf8,
    /// latin1 (MariaDB's latin1 is cp1252).
    Latin1,
    /// Bytes, no characters.
    Binary,
}

impl Encoding {
    /// The encoding of a character set/collation id, if Strata knows it.
    pub fn of_charset(id: u16) -> Option<Encoding> {
        Collation::from_id(id).map(|c| c.natural_encoding())
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
}

/// Which weight function a collation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// MariaDB's `*_general_ci` table.
    GeneralCi,
    /// Unicode code point order (`utf8mb4_bin`, `utf8mb3_bin`).
    CodePoint,
    /// latin1_swedish_ci table over latin1 bytes.
    Latin1SwedishCi,
    /// latin1 byte order.
    Latin1Bin,
    /// Raw bytes (`binary`).
    Bytes,
}

/// A collation Strata can compare under, with the encoding of the bytes it is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collation {
    id: u16,
    name: &'static str,
    rules: Rules,
    pad_space: bool,
    encoding: Encoding,
}

/// (id, name, rules, PAD SPACE, natural encoding) of every supported collation.
const COLLATIONS: &[(u16, &str, Rules, bool, Encoding)] = &[
    (
        8,
        "latin1_swedish_ci",
        Rules::Latin1SwedishCi,
        true,
        Encoding::Latin1,
    ),
    (
        33,
        "utf8mb3_general_ci",
        Rules::GeneralCi,
        true,
        Encoding::Utf8,
    ),
    (
        45,
        "utf8mb4_general_ci",
        Rules::GeneralCi,
        true,
        Encoding::Utf8,
    ),
    (46, "utf8mb4_bin", Rules::CodePoint, true, Encoding::Utf8),
    (47, "latin1_bin", Rules::Latin1Bin, true, Encoding::Latin1),
    (63, "binary", Rules::Bytes, false, Encoding::Binary),
    (83, "utf8mb3_bin", Rules::CodePoint, true, Encoding::Utf8),
    (
        1032,
        "latin1_swedish_nopad_ci",
        Rules::Latin1SwedishCi,
        false,
        Encoding::Latin1,
    ),
    (
        1057,
        "utf8mb3_general_nopad_ci",
        Rules::GeneralCi,
        false,
        Encoding::Utf8,
    ),
    (
        1069,
        "utf8mb4_general_nopad_ci",
        Rules::GeneralCi,
        false,
        Encoding::Utf8,
    ),
    (
        1070,
        "utf8mb4_nopad_bin",
        Rules::CodePoint,
        false,
        Encoding::Utf8,
    ),
    (
        1071,
        "latin1_nopad_bin",
        Rules::Latin1Bin,
        false,
        Encoding::Latin1,
    ),
    (
        1107,
        "utf8mb3_nopad_bin",
        Rules::CodePoint,
        false,
        Encoding::Utf8,
    ),
];

/// Result character sets a data node may announce that Strata can decode, with the
/// `_bin` collation of each (what a column flagged BINARY compares under).
const BIN_OF_CHARSET: &[(u16, u16)] = &[(8, 47), (33, 83), (45, 46), (46, 46), (47, 47), (83, 83)];

/// Collation ids of the utf8mb3/utf8mb4 and latin1 families Strata does not implement,
/// to name them in errors.
const KNOWN_UNSUPPORTED: &[(u16, &str)] = &[
    (192, "utf8mb3_unicode_ci"),
    (224, "utf8mb4_unicode_ci"),
    (246, "utf8mb4_unicode_520_ci"),
    (1248, "utf8mb4_unicode_nopad_ci"),
    (5, "latin1_german1_ci"),
    (31, "latin1_german2_ci"),
    (48, "latin1_general_ci"),
    (49, "latin1_general_cs"),
    (94, "latin1_spanish_ci"),
];

impl Collation {
    /// The collation with MariaDB id `id`, applied to bytes in its own character set.
    pub fn from_id(id: u16) -> Option<Collation> {
        COLLATIONS
            .iter()
            .find(|c| c.0 == id)
            .map(|&(id, name, rules, pad_space, encoding)| Collation {
                id,
                name,
                rules,
                pad_space,
                encoding,
            })
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

    /// The collation a string column compares under. `declared` is the column's real
    /// collation when the planner knows it (from the catalog); without it the collation
    /// is inferred from the column definition, which only tells the result character set
    /// and whether the column is binary: a `utf8mb4_unicode_ci` column looks exactly like
    /// a `utf8mb4_general_ci` one, and a latin1 column read over a utf8mb4 connection
    /// looks like utf8mb4. `Err` names the collation or character set not supported.
    pub fn for_column(def: &ColumnDef, declared: Option<u16>) -> Result<Collation, String> {
        let encoding = Collation::from_id(def.charset)
            .map(|c| c.natural_encoding())
            .ok_or_else(|| format!("results in {}", Collation::name_of(def.charset)))?;
        let id = match declared {
            Some(id) => id,
            None if def.charset == 63 => 63,
            None if def.flags & colflag::BINARY != 0 => BIN_OF_CHARSET
                .iter()
                .find(|c| c.0 == def.charset)
                .map(|c| c.1)
                .unwrap_or(def.charset),
            None => def.charset,
        };
        let collation = Collation::from_id(id)
            .ok_or_else(|| format!("comparing strings under {}", Collation::name_of(id)))?;
        Ok(collation.with_encoding(encoding))
    }

    /// The same rules applied to bytes in `encoding`.
    pub fn with_encoding(mut self, encoding: Encoding) -> Collation {
        self.encoding = encoding;
        self
    }

    /// MariaDB's collation id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// MariaDB's collation name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether trailing spaces are ignored (PAD SPACE).
    pub fn is_pad_space(&self) -> bool {
        self.pad_space
    }

    /// The encoding of the bytes this collation is applied to.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn natural_encoding(&self) -> Encoding {
        COLLATIONS
            .iter()
            .find(|c| c.0 == self.id)
            .map(|c| c.4)
            .unwrap_or(Encoding::Utf8)
    }

    /// Weight of a space, what PAD SPACE pads with.
    fn space_weight(&self) -> u32 {
        self.weight_of_char(u32::from(b' '))
    }

    fn weight_of_char(&self, cp: u32) -> u32 {
        match self.rules {
            Rules::GeneralCi => match u16::try_from(cp) {
                Ok(bmp) => u32::from(general_ci_table()[usize::from(bmp)]),
                Err(_) => 0xFFFD,
            },
            Rules::CodePoint => cp,
            Rules::Latin1SwedishCi => u32::from(LATIN1_SWEDISH_CI[usize::from(latin1_byte(cp))]),
            Rules::Latin1Bin => u32::from(latin1_byte(cp)),
            Rules::Bytes => cp,
        }
    }

    /// The weights of `bytes`, one per character (per byte for `binary`).
    pub fn weights<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = u32> + 'a {
        Chars {
            bytes,
            pos: 0,
            encoding: if self.rules == Rules::Bytes {
                Encoding::Binary
            } else {
                self.encoding
            },
        }
        .map(move |unit| match unit {
            Unit::Char(cp) => self.weight_of_char(cp),
            Unit::Byte(b) if self.rules == Rules::Bytes => u32::from(b),
            Unit::Byte(b) => INVALID_BYTE_WEIGHT + u32::from(b),
        })
    }

    /// The sort key of `bytes`: its weights without trailing spaces under PAD SPACE, so
    /// that equal keys mean equal strings and `compare_keys` orders them.
    pub fn sort_key(&self, bytes: &[u8]) -> Box<[u32]> {
        let mut key: Vec<u32> = self.weights(bytes).collect();
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
        compare_padded(
            self.weights(a),
            self.weights(b),
            self.pad_space.then(|| self.space_weight()),
        )
    }
}

/// Weight base for bytes that are not valid UTF-8: above every code point.
const INVALID_BYTE_WEIGHT: u32 = 0x11_0000;

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

fn general_ci_table() -> &'static [u16] {
    static TABLE: OnceLock<Vec<u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<u16> = (0..=u16::MAX).collect();
        for &(cp, weight) in GENERAL_CI_EXCEPTIONS.iter() {
            table[usize::from(cp)] = weight;
        }
        table
    })
}

/// The latin1 (cp1252) byte of a code point; characters latin1 cannot hold become `?`,
/// as MariaDB converts them.
fn latin1_byte(cp: u32) -> u8 {
    if let Ok(byte) = u8::try_from(cp) {
        if u32::from(LATIN1_TO_UNICODE[usize::from(byte)]) == cp {
            return byte;
        }
    }
    LATIN1_TO_UNICODE
        .iter()
        .position(|&u| u32::from(u) == cp)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(b'?')
}

enum Unit {
    Char(u32),
    Byte(u8),
}

/// Decodes characters; bytes that do not start a valid sequence come out one by one.
struct Chars<'a> {
    bytes: &'a [u8],
    pos: usize,
    encoding: Encoding,
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

    fn coll(id: u16) -> Collation {
        Collation::from_id(id).unwrap()
    }

    fn unhex(word: &str) -> Vec<u8> {
        (0..word.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&word[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Asserts that MariaDB's order (hex words, ties broken by utf8mb4_bin) is sorted
    /// under `c` then utf8mb4_bin, with equality exactly for the pairs MariaDB cannot
    /// tell apart either ('' = ' ' and 'a' = 'a ' under PAD SPACE).
    fn assert_mariadb_order(c: Collation, mariadb: &str) {
        let bin = coll(46);
        let words: Vec<Vec<u8>> = mariadb.split(' ').map(unhex).collect();
        let mut ties = Vec::new();
        for pair in words.windows(2) {
            let ord = c
                .compare(&pair[0], &pair[1])
                .then_with(|| bin.compare(&pair[0], &pair[1]));
            assert_ne!(ord, Ordering::Greater, "{} before {:?}", c.name(), pair);
            if ord == Ordering::Equal {
                ties.push((pair[0].clone(), pair[1].clone()));
            }
        }
        let expected_ties: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b" ".to_vec(), b"".to_vec()),
            (b"a ".to_vec(), b"a".to_vec()),
        ];
        assert_eq!(ties, expected_ties, "{}", c.name());
    }

    /// Expected orders from MariaDB 10.11 over a utf8mb4_bin column `s` holding
    /// b B a A ä Ä á z Z ß s ss é e E æ 'a ' 'a<TAB>' '' ' ' ø o Ö y ü Y € ÿ Œ œ Ø:
    /// `SELECT GROUP_CONCAT(HEX(s) ORDER BY s COLLATE utf8mb4_general_ci,
    /// s COLLATE utf8mb4_bin SEPARATOR ' ') FROM words` (and the same with
    /// utf8mb4_bin, and with `CONVERT(s USING latin1) COLLATE latin1_swedish_ci` /
    /// `latin1_bin` as the first key).
    #[test]
    fn orders_tricky_words_like_mariadb() {
        assert_mariadb_order(
            coll(45),
            "20  6109 41 6120 61 C384 C3A1 C3A4 42 62 45 65 C3A9 6F C396 73 C39F 7373 C3BC 59 79 C3BF 5A 7A C3A6 C398 C3B8 C592 C593 E282AC",
        );
        assert_mariadb_order(
            coll(46),
            "20  41 42 45 59 5A 6109 6120 61 62 65 6F 73 7373 79 7A C384 C396 C398 C39F C3A1 C3A4 C3A6 C3A9 C3B8 C3BC C3BF C592 C593 E282AC",
        );
        assert_mariadb_order(
            coll(8).with_encoding(Encoding::Utf8),
            "20  6109 41 6120 61 C3A1 42 62 45 65 C3A9 6F 73 7373 59 79 C3BC 5A 7A C384 C3A4 C3A6 C396 E282AC C592 C593 C398 C3B8 C39F C3BF",
        );
        assert_mariadb_order(
            coll(47).with_encoding(Encoding::Utf8),
            "20  41 42 45 59 5A 6109 6120 61 62 65 6F 73 7373 79 7A E282AC C592 C593 C384 C396 C398 C39F C3A1 C3A4 C3A6 C3A9 C3B8 C3BC C3BF",
        );
    }

    #[test]
    fn general_ci_folds_case_and_accents_and_pads_spaces() {
        let c = coll(45);
        assert_eq!(c.compare(b"abc", b"ABC"), Ordering::Equal);
        assert_eq!(c.compare("\u{e4}".as_bytes(), b"A"), Ordering::Equal);
        assert_eq!(c.compare("\u{df}".as_bytes(), b"s"), Ordering::Equal);
        assert_eq!(c.compare(b"a  ", b"A"), Ordering::Equal);
        assert_eq!(
            c.compare(b"a\t", b"a"),
            Ordering::Less,
            "TAB sorts below the pad space"
        );
        assert_eq!(c.compare(b"a", b"ab"), Ordering::Less);
        assert_eq!(
            c.compare("\u{1F600}".as_bytes(), "\u{1F601}".as_bytes()),
            Ordering::Equal,
            "characters above the BMP all weigh U+FFFD"
        );
        assert_eq!(
            c.compare("\u{1F600}".as_bytes(), "\u{FFFD}".as_bytes()),
            Ordering::Equal
        );
    }

    #[test]
    fn bin_is_code_point_order_with_pad_space_and_binary_is_bytes() {
        let bin = coll(46);
        assert_eq!(bin.compare(b"B", b"a"), Ordering::Less);
        assert_eq!(bin.compare(b"a ", b"a"), Ordering::Equal);
        assert_eq!(bin.compare("\u{e9}".as_bytes(), b"z"), Ordering::Greater);
        let nopad = coll(1070);
        assert_eq!(nopad.compare(b"a ", b"a"), Ordering::Greater);
        let binary = coll(63);
        assert_eq!(binary.compare(b"a ", b"a"), Ordering::Greater);
        assert_eq!(binary.compare(b"a\0", b"a"), Ordering::Greater);
        assert_eq!(binary.compare(&[0xFF], &[0x7F]), Ordering::Greater);
    }

    #[test]
    fn latin1_rules_apply_to_utf8_bytes_through_cp1252() {
        let swedish = coll(8).with_encoding(Encoding::Utf8);
        // Swedish: Ä and Ö sort after Z; Ü equals Y; € (0x80 in cp1252) above ASCII.
        assert_eq!(
            swedish.compare("\u{c4}".as_bytes(), b"Z"),
            Ordering::Greater
        );
        assert_eq!(swedish.compare("\u{dc}".as_bytes(), b"y"), Ordering::Equal);
        assert_eq!(
            swedish.compare("\u{20ac}".as_bytes(), b"~"),
            Ordering::Greater
        );
        let latin1_bin = coll(47).with_encoding(Encoding::Utf8);
        // cp1252 byte order: € (0x80) below é (0xE9) although U+20AC > U+00E9.
        assert_eq!(
            latin1_bin.compare("\u{20ac}".as_bytes(), "\u{e9}".as_bytes()),
            Ordering::Less
        );
        let latin1_native = coll(8);
        assert_eq!(latin1_native.compare(&[0xC4], b"z"), Ordering::Greater);
    }

    #[test]
    fn sort_keys_order_like_compare_and_drop_trailing_spaces() {
        let c = coll(45);
        assert_eq!(c.sort_key(b"ab  ").len(), 2);
        let words: [&[u8]; 6] = [b"a\t", b"a", b"a ", b"A b", b"a b ", b""];
        for a in words {
            for b in words {
                assert_eq!(
                    c.compare_keys(&c.sort_key(a), &c.sort_key(b)),
                    c.compare(a, b),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn invalid_utf8_sorts_above_every_character() {
        let c = coll(45);
        assert_eq!(c.compare(&[0xFF], "\u{FFFF}".as_bytes()), Ordering::Greater);
        assert_eq!(c.compare(&[b'a', 0xC3], b"a"), Ordering::Greater);
    }

    #[test]
    fn column_collation_is_inferred_from_the_definition_unless_declared() {
        let mut def = ColumnDef {
            charset: 45,
            col_type: strata_protocol::constants::coltype::VAR_STRING,
            ..ColumnDef::default()
        };
        assert_eq!(
            Collation::for_column(&def, None).unwrap().name(),
            "utf8mb4_general_ci"
        );
        def.flags = colflag::BINARY;
        assert_eq!(
            Collation::for_column(&def, None).unwrap().name(),
            "utf8mb4_bin"
        );
        let declared = Collation::for_column(&def, Some(8)).unwrap();
        assert_eq!(
            (declared.name(), declared.encoding()),
            ("latin1_swedish_ci", Encoding::Utf8)
        );
        assert_eq!(
            Collation::for_column(&def, Some(224)).unwrap_err(),
            "comparing strings under utf8mb4_unicode_ci"
        );
        def.charset = 28;
        assert!(Collation::for_column(&def, None).is_err());
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
