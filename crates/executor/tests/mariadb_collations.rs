//! Collations checked against a real MariaDB 10.11: every weight of the general_ci and
//! latin1 tables against `WEIGHT_STRING()`, every pair of tricky strings against
//! `STRCMP()` under each supported collation, ORDER BY against `compare`, and what
//! column definitions tell (and do not tell) about a column's collation.

mod common;

use std::cmp::Ordering;

use common::RawClient;
use strata_mysql::{Collation, Encoding};
use strata_protocol::constants::colflag;
use strata_protocol::packets::decode_text_row;

/// Strings that trip collations: case, accents, expansions, PAD SPACE, characters
/// below space, supplementary characters, cp1252 specials, invalid-in-latin1 text.
const WORDS: &[&str] = &[
    "",
    " ",
    "  ",
    "a",
    "A",
    "a ",
    "a\t",
    "a\0",
    "\t",
    "á",
    "Ä",
    "ä",
    "Å",
    "æ",
    "Æ",
    "ß",
    "ss",
    "SS",
    "s",
    "ø",
    "Ø",
    "ö",
    "Ö",
    "ü",
    "y",
    "Y",
    "ÿ",
    "z",
    "Z",
    "€",
    "Œ",
    "œ",
    "Š",
    "\u{1F600}",
    "\u{1F601}",
    "\u{FFFD}",
    "İ",
    "ı",
    "i",
    "I",
    "Ǆ",
    "ǅ",
    "ǆ",
    "Ω",
    "ω",
    "\u{2126}",
    "ﬁ",
    "fi",
    "１",
    "1",
    "abc",
    "ABC",
    "abc  ",
    "abd",
    "ab",
    "Straße",
    "STRASSE",
    "strasse",
    "中",
    "日本",
    "µ",
    "Μ",
    "~",
    "_",
    "-",
    "0",
    "9",
    "@",
    "[",
    "ª",
    "º",
    "Ð",
    "ð",
    "Þ",
    "þ",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn text(values: &[Option<&[u8]>], i: usize) -> String {
    String::from_utf8_lossy(values[i].unwrap_or_default()).into_owned()
}

#[tokio::test]
async fn collations_match_mariadb() {
    let mut node = common::start().await;
    let mut client = RawClient::connect(&node.node, "test").await;
    let mut failures: Vec<String> = Vec::new();

    // 1. general_ci weights of every BMP code point (utf8mb4 and utf8mb3).
    for (id, charset) in [(45u16, "utf8mb4"), (33, "utf8mb3")] {
        let collation = Collation::from_id(id).unwrap();
        let sql = format!(
            "SELECT seq, HEX(WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING {charset}) COLLATE {})) \
             FROM seq_0_to_65535 WHERE seq NOT BETWEEN 55296 AND 57343",
            collation.name()
        );
        let result = client.query(&sql).await;
        assert_eq!(result.rows.len(), 63488);
        for row in &result.rows {
            let values = decode_text_row(row, 2).unwrap();
            let cp: u32 = text(&values, 0).parse().unwrap();
            let expected = u32::from_str_radix(&text(&values, 1), 16).unwrap();
            let ch = char::from_u32(cp).unwrap().to_string();
            let ours: Vec<u32> = collation.weights(ch.as_bytes()).collect();
            if ours != [expected] {
                failures.push(format!(
                    "{}: U+{cp:04X} weighs {ours:X?}, MariaDB {expected:X}",
                    collation.name()
                ));
            }
        }
    }
    // Characters above the BMP weigh U+FFFD.
    let result = client
        .query("SELECT HEX(WEIGHT_STRING(_utf8mb4 0xF09F9880 COLLATE utf8mb4_general_ci)), HEX(WEIGHT_STRING(_utf8mb4 0xF0908080 COLLATE utf8mb4_general_ci))")
        .await;
    let values = decode_text_row(&result.rows[0], 2).unwrap();
    assert_eq!(
        (text(&values, 0), text(&values, 1)),
        ("FFFD".into(), "FFFD".into())
    );

    // 2. latin1_swedish_ci weights and latin1's mapping to Unicode (cp1252).
    let result = client
        .query(
            "SELECT seq, HEX(WEIGHT_STRING(CHAR(seq USING latin1) COLLATE latin1_swedish_ci)), \
             HEX(CONVERT(CHAR(seq USING latin1) USING utf8mb4)) FROM seq_0_to_255",
        )
        .await;
    let swedish = Collation::from_id(8).unwrap();
    let latin1_bin_over_utf8 = Collation::from_id(47)
        .unwrap()
        .with_encoding(Encoding::Utf8);
    for row in &result.rows {
        let values = decode_text_row(row, 3).unwrap();
        let byte: u8 = text(&values, 0).parse().unwrap();
        let expected = u32::from_str_radix(&text(&values, 1), 16).unwrap();
        let ours: Vec<u32> = swedish.weights(&[byte]).collect();
        if ours != [expected] {
            failures.push(format!(
                "latin1_swedish_ci: byte {byte:#04x} weighs {ours:X?}, MariaDB {expected:X}"
            ));
        }
        let utf8: Vec<u8> = (0..text(&values, 2).len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text(&values, 2)[i..i + 2], 16).unwrap())
            .collect();
        let back: Vec<u32> = latin1_bin_over_utf8.weights(&utf8).collect();
        if back != [u32::from(byte)] {
            failures.push(format!(
                "latin1: byte {byte:#04x} is {} in utf8mb4, read back as {back:X?}",
                hex(&utf8)
            ));
        }
    }

    // 3. Every pair of tricky words, STRCMP under each collation vs `compare`.
    client
        .execute("CREATE TABLE words (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)")
        .await;
    let values: Vec<String> = WORDS
        .iter()
        .enumerate()
        .map(|(i, w)| format!("({i}, X'{}')", hex(w.as_bytes())))
        .collect();
    client
        .execute(&format!("INSERT INTO words VALUES {}", values.join(",")))
        .await;
    let cases: [(u16, &str); 18] = [
        (45, "a.s COLLATE utf8mb4_general_ci, b.s COLLATE utf8mb4_general_ci"),
        (46, "a.s COLLATE utf8mb4_bin, b.s COLLATE utf8mb4_bin"),
        (1069, "a.s COLLATE utf8mb4_general_nopad_ci, b.s COLLATE utf8mb4_general_nopad_ci"),
        (1070, "a.s COLLATE utf8mb4_nopad_bin, b.s COLLATE utf8mb4_nopad_bin"),
        (33, "CONVERT(a.s USING utf8mb3) COLLATE utf8mb3_general_ci, CONVERT(b.s USING utf8mb3) COLLATE utf8mb3_general_ci"),
        (83, "CONVERT(a.s USING utf8mb3) COLLATE utf8mb3_bin, CONVERT(b.s USING utf8mb3) COLLATE utf8mb3_bin"),
        (8, "CONVERT(a.s USING latin1) COLLATE latin1_swedish_ci, CONVERT(b.s USING latin1) COLLATE latin1_swedish_ci"),
        (47, "CONVERT(a.s USING latin1) COLLATE latin1_bin, CONVERT(b.s USING latin1) COLLATE latin1_bin"),
        (1032, "CONVERT(a.s USING latin1) COLLATE latin1_swedish_nopad_ci, CONVERT(b.s USING latin1) COLLATE latin1_swedish_nopad_ci"),
        (1071, "CONVERT(a.s USING latin1) COLLATE latin1_nopad_bin, CONVERT(b.s USING latin1) COLLATE latin1_nopad_bin"),
        (63, "CAST(a.s AS BINARY), CAST(b.s AS BINARY)"),
        (224, "a.s COLLATE utf8mb4_unicode_ci, b.s COLLATE utf8mb4_unicode_ci"),
        (1248, "a.s COLLATE utf8mb4_unicode_nopad_ci, b.s COLLATE utf8mb4_unicode_nopad_ci"),
        (192, "CONVERT(a.s USING utf8mb3) COLLATE utf8mb3_unicode_ci, CONVERT(b.s USING utf8mb3) COLLATE utf8mb3_unicode_ci"),
        (48, "CONVERT(a.s USING latin1) COLLATE latin1_general_ci, CONVERT(b.s USING latin1) COLLATE latin1_general_ci"),
        (49, "CONVERT(a.s USING latin1) COLLATE latin1_general_cs, CONVERT(b.s USING latin1) COLLATE latin1_general_cs"),
        (11, "CONVERT(a.s USING ascii) COLLATE ascii_general_ci, CONVERT(b.s USING ascii) COLLATE ascii_general_ci"),
        (65, "CONVERT(a.s USING ascii) COLLATE ascii_bin, CONVERT(b.s USING ascii) COLLATE ascii_bin"),
    ];
    for (id, args) in cases {
        // A character the collation's charset cannot hold converts to '?' on both sides
        // (utf8mb3 and supplementary characters, latin1 and ascii and the rest).
        let collation = Collation::from_id(id)
            .unwrap()
            .with_encoding(Encoding::Utf8);
        let result = client
            .query(&format!(
                "SELECT a.id, b.id, STRCMP({args}) FROM words a JOIN words b"
            ))
            .await;
        assert_eq!(result.rows.len(), WORDS.len() * WORDS.len());
        for row in &result.rows {
            let values = decode_text_row(row, 3).unwrap();
            let a: usize = text(&values, 0).parse().unwrap();
            let b: usize = text(&values, 1).parse().unwrap();
            let (wa, wb) = (WORDS[a], WORDS[b]);
            let expected = match text(&values, 2).as_str() {
                "-1" => Ordering::Less,
                "0" => Ordering::Equal,
                _ => Ordering::Greater,
            };
            let ours = collation.compare(wa.as_bytes(), wb.as_bytes());
            if ours != expected {
                failures.push(format!(
                    "{}: {wa:?} vs {wb:?}: ours {ours:?}, MariaDB {expected:?}",
                    collation.name()
                ));
            }
            let keys = collation.compare_keys(
                &collation.sort_key(wa.as_bytes()),
                &collation.sort_key(wb.as_bytes()),
            );
            if keys != expected {
                failures.push(format!(
                    "{} sort keys: {wa:?} vs {wb:?}: ours {keys:?}, MariaDB {expected:?}",
                    collation.name()
                ));
            }
        }
    }

    // 4. ORDER BY (filesort) agrees with the pairwise order.
    for (id, expr) in [
        (45u16, "s COLLATE utf8mb4_general_ci"),
        (46, "s COLLATE utf8mb4_bin"),
        (8, "CONVERT(s USING latin1) COLLATE latin1_swedish_ci"),
    ] {
        let collation = Collation::from_id(id)
            .unwrap()
            .with_encoding(Encoding::Utf8);
        let result = client
            .query(&format!("SELECT id FROM words ORDER BY {expr}, id"))
            .await;
        let order: Vec<usize> = result
            .rows
            .iter()
            .map(|r| text(&decode_text_row(r, 1).unwrap(), 0).parse().unwrap())
            .collect();
        let mut ours: Vec<usize> = (0..WORDS.len()).collect();
        ours.sort_by(|a, b| {
            collation
                .compare(WORDS[*a].as_bytes(), WORDS[*b].as_bytes())
                .then(a.cmp(b))
        });
        if order != ours {
            failures.push(format!("ORDER BY {expr}: MariaDB {order:?}, ours {ours:?}"));
        }
    }

    // 5. Column definitions carry the result character set, not the column's collation:
    // only BINARY tells a _bin column apart, a unicode_ci or latin1 column looks like
    // utf8mb4_general_ci. This is why a plan carries `QueryPlan::collations`.
    client
        .execute(
            "CREATE TABLE coll (a VARCHAR(5) COLLATE utf8mb4_general_ci, b VARCHAR(5) COLLATE utf8mb4_bin, \
             c VARCHAR(5) COLLATE utf8mb4_unicode_ci, d VARCHAR(5) CHARACTER SET latin1, e VARBINARY(5))",
        )
        .await;
    let result = client.query("SELECT a, b, c, d, e FROM coll").await;
    let seen: Vec<(u16, bool)> = result
        .columns
        .iter()
        .map(|c| (c.charset, c.flags & colflag::BINARY != 0))
        .collect();
    assert_eq!(
        seen,
        vec![
            (45, false),
            (45, true),
            (45, false),
            (45, false),
            (63, true)
        ]
    );

    node.node.stop().await.ok();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
