//! Collation checks against facts recorded from MariaDB 10.11.19 (each test names the
//! statement); `tests/mariadb_collations.rs` re-checks the tables against a live server.

use std::cmp::Ordering;

use super::*;

fn coll(id: u16) -> Collation {
    Collation::from_id(id).unwrap_or_else(|| panic!("collation {id}"))
}

fn named(name: &str) -> Collation {
    Collation::from_name(name).unwrap_or_else(|| panic!("{name}"))
}

fn unhex(word: &str) -> Vec<u8> {
    (0..word.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&word[i..i + 2], 16).unwrap_or(0))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

// The recorded pairs, decoded by the same code as the live re-check reads them with.
#[path = "../../tests/data/collation_pairs.rs"]
mod facts;

#[test]
fn weights_and_compare_agree_with_mariadb_equality_on_the_checked_pairs() {
    // Expected values: `SELECT a = b COLLATE c` on MariaDB 10.11.19, recorded in
    // tests/data/collation_pairs.tsv (re-checked live by catalog/tests/mariadb_facts.rs).
    let pairs = facts::collation_pairs();
    assert!(pairs.len() > 80, "the fact table is loaded");
    for (name, a, b, equal) in pairs {
        let collation = named(&name);
        let wa = collation.weight_string(a.as_bytes());
        let wb = collation.weight_string(b.as_bytes());
        let (wa, wb) = match (wa, wb) {
            (Ok(wa), Ok(wb)) => (wa, wb),
            (wa, wb) => panic!("{name} {a:?} {b:?}: {wa:?} {wb:?}"),
        };
        // The merge compares the same strings sent over a utf8mb4 connection.
        let merged = collation
            .with_encoding(Encoding::Utf8)
            .compare(a.as_bytes(), b.as_bytes());
        assert_eq!(merged == Ordering::Equal, equal, "{name}: {a:?} vs {b:?}");
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
fn weight_strings_are_mariadb_weight_string_bytes() {
    // Expected values: SELECT HEX(WEIGHT_STRING(CONVERT(x USING cs) COLLATE c)) on
    // MariaDB 10.11.19 (trailing space weights removed, as PAD SPACE comparison ignores
    // them).
    // The last four: `SELECT HEX(WEIGHT_STRING(CONVERT(x USING cs) COLLATE c))` for
    // latin1_general_ci/cs and ascii_general_ci/bin.
    let cases: [(&str, &str, &str); 19] = [
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
        // What latin1 and utf8mb3 cannot hold converts to '?' (0x3F), as CONVERT does:
        // `HEX(WEIGHT_STRING(CONVERT('ā' USING latin1) COLLATE latin1_swedish_ci))` is
        // 3F, `... CONVERT('€ā' USING latin1) COLLATE latin1_bin` 803F, `...
        // CONVERT('a😀' USING utf8mb3) COLLATE utf8mb3_general_ci` 0041003F.
        ("latin1_swedish_ci", "ā", "3F"),
        ("latin1_bin", "€ā", "803F"),
        ("utf8mb3_general_ci", "a😀", "0041003F"),
        ("latin1_general_ci", "äA", "4B41"),
        ("latin1_general_cs", "äA", "4C41"),
        ("ascii_general_ci", "aZ{", "415A7B"),
        ("ascii_bin", "aé", "613F"),
    ];
    for (name, text, expected) in cases {
        let weight = named(name)
            .weight_string(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hex(&weight), expected, "{name} {text:?}");
    }
}

#[test]
fn routing_and_merging_convert_latin1_alike() {
    // The routing weight and the merge's comparison treat a character latin1 cannot
    // hold as the '?' MariaDB stores for it (`SELECT CONVERT('ā' USING latin1) = '?'`
    // is 1); before one crate served both, routing refused it and merging used '?'.
    let swedish = coll(8);
    let over_utf8 = swedish.with_encoding(Encoding::Utf8);
    assert_eq!(over_utf8.compare("ā".as_bytes(), b"?"), Ordering::Equal);
    assert_eq!(swedish.weight_string("ā".as_bytes()), Ok(b"?".to_vec()));
    assert_eq!(
        swedish.weight_string("ā".as_bytes()),
        swedish.weight_string(b"?")
    );
}

#[test]
fn names_and_ids_resolve_to_the_same_collations() {
    let found = |n| Collation::from_name(n).map(|c| c.name());
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
    // Ids from MariaDB 10.11.19's information_schema.COLLATIONS.
    for name in Collation::supported_names() {
        let c = named(name);
        assert_eq!(Collation::from_id(c.id()), Some(c), "{name}");
    }
    assert_eq!(coll(224).name(), "utf8mb4_unicode_ci");
    assert_eq!(Collation::name_of(246), "utf8mb4_unicode_520_ci");
    assert_eq!(Collation::name_of(999), "collation #999");
}

#[test]
fn invalid_utf8_has_no_weight_string_and_sorts_above_every_character() {
    assert_eq!(
        coll(46).weight_string(b"a\xFF"),
        Err(CollationError::InvalidUtf8(1))
    );
    let c = coll(45);
    assert_eq!(c.compare(&[0xFF], "\u{FFFF}".as_bytes()), Ordering::Greater);
    assert_eq!(c.compare(&[b'a', 0xC3], b"a"), Ordering::Greater);
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
fn unicode_ci_expands_and_ignores_like_mariadb() {
    // MariaDB: SELECT 'ß' = 'ss' COLLATE utf8mb4_unicode_ci, 'a\0' = 'a' COLLATE
    // utf8mb4_unicode_ci, 'ß' = 's' COLLATE utf8mb4_unicode_ci gives 1, 1, 0.
    let c = coll(224);
    assert_eq!(c.compare("ß".as_bytes(), b"ss"), Ordering::Equal);
    assert_eq!(c.compare(b"a\0", b"a"), Ordering::Equal);
    assert_ne!(c.compare("ß".as_bytes(), b"s"), Ordering::Equal);
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
    for id in [45, 224, 8, 11] {
        let c = coll(id);
        let words: [&[u8]; 6] = [b"a\t", b"a", b"a ", b"A b", b"a b ", b""];
        for a in words {
            for b in words {
                assert_eq!(
                    c.compare_keys(&c.sort_key(a), &c.sort_key(b)),
                    c.compare(a, b),
                    "{} {a:?} vs {b:?}",
                    c.name()
                );
            }
        }
    }
    assert_eq!(coll(45).sort_key(b"ab  ").len(), 2);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn case_and_trailing_spaces_never_change_a_ci_weight(s in "[a-zA-Z0-9 àéÉßøØ]{0,12}", pad in 0usize..4) {
            for name in ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "latin1_swedish_ci"] {
                // to_uppercase maps ß to SS, which only unicode_ci treats as equal.
                if s.contains('ß') && name != "utf8mb4_unicode_ci" {
                    continue;
                }
                let c = named(name);
                let padded = format!("{}{}", s.to_uppercase(), " ".repeat(pad));
                prop_assert_eq!(c.weight_string(s.as_bytes()), c.weight_string(padded.as_bytes()));
            }
        }

        #[test]
        fn equal_weight_strings_mean_equal_in_the_merge(a in "[a-zA-Z àéÉßøØ€ā]{0,6}", b in "[a-zA-Z àéÉßøØ€ā]{0,6}") {
            for name in ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "latin1_swedish_ci", "utf8mb4_bin"] {
                let c = named(name);
                let same_weight = c.weight_string(a.as_bytes()) == c.weight_string(b.as_bytes());
                let merged = c.with_encoding(Encoding::Utf8).compare(a.as_bytes(), b.as_bytes());
                prop_assert_eq!(same_weight, merged == Ordering::Equal, "{} {:?} {:?}", name, a, b);
            }
        }

        #[test]
        fn any_utf8_has_a_utf8mb4_weight(s in "\\PC{0,16}") {
            for name in ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_bin"] {
                prop_assert!(named(name).weight_string(s.as_bytes()).is_ok());
            }
        }
    }
}
