//! Case-insensitive substring tests over statement text, for the cheap checks the
//! session makes on every statement before (or instead of) lexing it.

/// Which of a few telling bytes a statement contains, from one pass over its text: the
/// session's checks for user variables, statement separators, comments, qualified names
/// and `GET_LOCK`-style names start from here instead of searching the text once each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByteSummary(u8);

const SEMICOLON: u8 = 1;
const AT: u8 = 2;
const UNDERSCORE: u8 = 4;
const SLASH: u8 = 8;
const DOT: u8 = 16;

static BYTE_CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b';' as usize] = SEMICOLON;
    t[b'@' as usize] = AT;
    t[b'_' as usize] = UNDERSCORE;
    t[b'/' as usize] = SLASH;
    t[b'.' as usize] = DOT;
    t
};

impl ByteSummary {
    /// Summarises `text`.
    pub fn of(text: &[u8]) -> Self {
        Self(text.iter().fold(0, |m, &b| m | BYTE_CLASSES[b as usize]))
    }
    /// Contains `;` (may hold several statements).
    pub fn semicolon(self) -> bool {
        self.0 & SEMICOLON != 0
    }
    /// Contains `@` (may use user or system variables).
    pub fn at_sign(self) -> bool {
        self.0 & AT != 0
    }
    /// Contains `_`.
    pub fn underscore(self) -> bool {
        self.0 & UNDERSCORE != 0
    }
    /// Contains `/` (may hold a `/* */` comment or hint).
    pub fn slash(self) -> bool {
        self.0 & SLASH != 0
    }
    /// Contains `.` (may use qualified names).
    pub fn dot(self) -> bool {
        self.0 & DOT != 0
    }
}

/// True when `haystack` contains `needle`, ASCII letters compared case-insensitively.
///
/// When the needle has a byte that case folding leaves alone (`_`, `:`, a digit), only
/// the places holding that byte are compared: statements rarely contain it, so the
/// usual cost is one pass over the bytes.
pub fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let n = needle.len();
    if n == 0 {
        return true;
    }
    if haystack.len() < n {
        return false;
    }
    let last_start = haystack.len() - n;
    if let Some(k) = needle.iter().position(|b| !b.is_ascii_alphabetic()) {
        let anchor = needle[k];
        // `contains` on bytes is a word-at-a-time memchr: the usual answer, cheaply.
        if !haystack.contains(&anchor) {
            return false;
        }
        return haystack[k..=last_start + k]
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == anchor)
            .any(|(start, _)| haystack[start..start + n].eq_ignore_ascii_case(needle));
    }
    // All letters: look for the first letter in either case eight bytes at a time
    // (setting bit 5 lowercases a letter and maps only that letter's two cases onto it),
    // and compare the whole needle where it is.
    let first = needle[0] | 0x20;
    let matches_at = |start: usize| haystack[start..start + n].eq_ignore_ascii_case(needle);
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let starts = &haystack[..=last_start];
    let mut chunks = starts.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = (u64::from_le_bytes(word) | (ONES * 0x20)) ^ (ONES * u64::from(first));
        // A high bit for each zero byte of `x` (and, after one, maybe for later bytes:
        // the comparison below sorts those out).
        let mut zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        while zeros != 0 {
            let start = base + (zeros.trailing_zeros() / 8) as usize;
            if matches_at(start) {
                return true;
            }
            zeros &= zeros - 1;
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .enumerate()
        .any(|(k, b)| *b | 0x20 == first && matches_at(base + k))
}

#[cfg(test)]
mod tests {
    use super::contains_ignore_ascii_case as has;

    #[test]
    fn summarises_the_telling_bytes() {
        let s = super::ByteSummary::of(b"SELECT @a; /* x */ SELECT t.get_lock");
        assert!(s.semicolon() && s.at_sign() && s.slash() && s.dot() && s.underscore());
        let s = super::ByteSummary::of(b"SELECT c FROM sbtest1 WHERE id=5");
        assert!(!s.semicolon() && !s.at_sign() && !s.slash() && !s.dot() && !s.underscore());
        assert_eq!(super::ByteSummary::of(b""), super::ByteSummary::default());
    }

    #[test]
    fn finds_needles_in_any_case_and_position() {
        for (hay, needle, expected) in [
            ("SELECT GET_LOCK('a', 1)", "get_lock", true),
            ("select get_lock('a', 1)", "get_lock", true),
            ("get_lock", "get_lock", true),
            ("xget_loc", "get_lock", false),
            ("SELECT 1", "get_lock", false),
            ("_", "get_lock", false),
            (
                "SELECT SQL_CALC_FOUND_ROWS * FROM t",
                "sql_calc_found_rows",
                true,
            ),
            (
                "SELECT * FROM INFORMATION_SCHEMA.TABLES",
                "information_schema",
                true,
            ),
            ("information_schem", "information_schema", false),
            ("/* Strata: node=1 */ SELECT 1", "strata:", true),
            ("CREATE TABLE t (a int) SHARD BY x", "shard", true),
            ("CREATE TEMPORARY TABLE t (a int)", "temporary", true),
            ("CREATE TABLE t (a int)", "temporary", false),
            ("tempo", "temporary", false),
            ("", "", true),
            ("abc", "", true),
            ("ab_", "b_", true),
            ("_b", "b_", false),
        ] {
            let naive = hay
                .as_bytes()
                .windows(needle.len().max(1))
                .any(|w| needle.is_empty() || w.eq_ignore_ascii_case(needle.as_bytes()));
            assert_eq!(
                has(hay.as_bytes(), needle.as_bytes()),
                expected,
                "{hay} / {needle}"
            );
            assert_eq!(
                naive || needle.is_empty(),
                expected,
                "{hay} / {needle} (naive)"
            );
        }
    }

    /// The word-at-a-time search answers like the plain one at every offset and length,
    /// whatever the bytes around (bit 5 set or not, high bytes).
    #[test]
    fn word_search_answers_like_a_plain_one() {
        let bytes = b"fFiIlLeE@`_. \x80\xc3vVrR0";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut found = [0usize; 5];
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 27) as usize;
            let mut hay: Vec<u8> = (0..len)
                .map(|k| bytes[((state >> (k % 50)) as usize + k * 7) % bytes.len()])
                .collect();
            if len >= 4 && state.is_multiple_of(3) {
                let at = (state >> 20) as usize % (len - 3);
                hay[at..at + 4].copy_from_slice(if state.is_multiple_of(2) {
                    b"FiLe"
                } else {
                    b"filE"
                });
            }
            for (i, needle) in [&b"file"[..], b"f", b"ve", b"fi", b"FILEfile"]
                .into_iter()
                .enumerate()
            {
                let naive = hay
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle));
                assert_eq!(has(&hay, needle), naive, "{hay:?} / {needle:?}");
                found[i] += usize::from(naive);
            }
        }
        assert!(found.iter().take(4).all(|n| *n > 100), "{found:?}");
    }
}
