//! The recorded collation facts of `collation_pairs.tsv`, decoded once for the two
//! tests that use them: the unit tests check Strata's collations against them, and
//! `catalog/tests/mariadb_facts.rs` re-checks them against a live MariaDB.

/// (collation, a, b, MariaDB's `a = b`), one per data line of the table.
pub fn collation_pairs() -> Vec<(String, String, String, bool)> {
    include_str!("collation_pairs.tsv")
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

/// `\u{XXXX}` escapes a code point, `\\` a backslash.
fn unescape(field: &str) -> String {
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
