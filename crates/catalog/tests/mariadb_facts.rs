//! Re-checks, against a live MariaDB, every MariaDB fact the sharding code is built on:
//! the generated collation tables (`WEIGHT_STRING()` of every BMP code point), the
//! equal/unequal pairs of `tests/data/collation_pairs.tsv`, the stored values of
//! `tests/data/insert_conversions.tsv`, and the comparisons `comparison_key` relies on.
//! The unit tests check Strata against the recorded facts; this test checks the facts.

use strata_localnode::{free_port, MariadbNode, MariadbOptions};
use strata_mysql::Collation;

// The pairs as the unit tests of strata-mysql read them.
#[path = "../../mysql/tests/data/collation_pairs.rs"]
mod facts;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A string in `collation` as a SQL expression (UTF-8 bytes, converted like a column).
fn sql_string(collation: &str, s: &str) -> String {
    let lit = if s.is_empty() {
        "''".to_string()
    } else {
        format!("X'{}'", hex(s.as_bytes()))
    };
    match collation.split('_').next() {
        Some("binary") => format!("_binary {lit}"),
        Some("latin1") => format!("CONVERT(_utf8mb4 {lit} USING latin1) COLLATE {collation}"),
        Some("utf8mb3") => format!("CONVERT(_utf8mb4 {lit} USING utf8mb3) COLLATE {collation}"),
        _ => format!("_utf8mb4 {lit} COLLATE {collation}"),
    }
}

fn data_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

async fn start() -> (tempfile::TempDir, MariadbNode) {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port().expect("port");
    let node = MariadbNode::start(MariadbOptions::new(dir.path().join("facts"), port))
        .await
        .expect("mariadbd starts (is MariaDB 10.11 installed?)");
    node.ensure_databases(&["facts"]).await.expect("database");
    (dir, node)
}

#[tokio::test]
async fn recorded_mariadb_facts_still_hold() {
    let (_dir, mut node) = start().await;

    // 1. Collation pairs: one SELECT with every comparison.
    let pairs = facts::collation_pairs();
    let select: Vec<String> = pairs
        .iter()
        .map(|(c, a, b, _)| format!("{} = {}", sql_string(c, a), sql_string(c, b)))
        .collect();
    let out = node
        .execute_sql(&format!("SELECT {};", select.join(", ")))
        .await
        .expect("pairs");
    let got: Vec<&str> = out.trim_end_matches('\n').split('\t').collect();
    assert_eq!(got.len(), pairs.len());
    for ((c, a, b, equal), got) in pairs.iter().zip(got) {
        assert_eq!(got, if *equal { "1" } else { "0" }, "{c}: {a:?} = {b:?}");
    }

    // 2. Stored values of the conversion table.
    let rows: Vec<Vec<&str>> = data_lines(include_str!("data/insert_conversions.tsv")).collect();
    let mut sql = String::from("SET sql_mode = ''; USE facts;");
    for (i, row) in rows.iter().enumerate() {
        sql.push_str(&format!(
            "CREATE TABLE c{i} (v {}) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci; \
             INSERT INTO c{i} VALUES ({}); SELECT HEX(CAST(v AS CHAR)) FROM c{i}; DROP TABLE c{i};",
            row[0], row[1]
        ));
    }
    let out = node.execute_sql(&sql).await.expect("conversions");
    let stored: Vec<&str> = out.lines().collect();
    assert_eq!(stored.len(), rows.len());
    for (row, got) in rows.iter().zip(stored) {
        assert_eq!(
            got,
            hex(row[2].as_bytes()),
            "{} {} is stored as",
            row[0],
            row[1]
        );
    }

    // 3. Comparisons comparison_key relies on (exact for strings against BIGINT and
    // DECIMAL, DOUBLE for float literals against DECIMAL and numbers against strings).
    let out = node
        .execute_sql(
            "USE facts; CREATE TABLE cmp (b BIGINT, d DECIMAL(30,0), e DECIMAL(30,20), s VARCHAR(8)); \
             INSERT INTO cmp VALUES (9007199254740992, 123456789012345678901, 0.30000000000000004441, '5'), \
               (9007199254740993, 0, 0, '05'), (9007199254740994, 0, 0, '5.0'); \
             SELECT COUNT(*) FROM cmp WHERE b = '9007199254740993'; \
             SELECT COUNT(*) FROM cmp WHERE d = '123456789012345678902'; \
             SELECT COUNT(*) FROM cmp WHERE e = 0.30000000000000004e0; \
             SELECT COUNT(*) FROM cmp WHERE s = 5; \
             SELECT COUNT(*) FROM cmp WHERE b = '9007199254740993abc';",
        )
        .await
        .expect("comparisons");
    assert_eq!(out, "1\n0\n1\n3\n1\n");

    // 4. The generated weight tables, code point by code point.
    let out = node
        .execute_sql(
            "SELECT seq, \
               HEX(WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE utf8mb4_general_ci)), \
               HEX(WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE utf8mb4_unicode_ci)) \
             FROM facts.seq_0_to_65535 WHERE seq NOT BETWEEN 55296 AND 57343;",
        )
        .await
        .expect("weights");
    let general = Collation::from_name("utf8mb4_general_ci").expect("general_ci");
    let unicode = Collation::from_name("utf8mb4_unicode_ci").expect("unicode_ci");
    let mut checked = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let cp: u32 = f[0].parse().expect("code point");
        let text = char::from_u32(cp).expect("scalar").to_string();
        // Weights drop trailing space weights (PAD SPACE), MariaDB's do not.
        let strip = |w: &str, space: &str| {
            let mut w = w.to_string();
            while w.ends_with(space) {
                w.truncate(w.len() - 4);
            }
            w
        };
        assert_eq!(
            hex(&general.weight_string(text.as_bytes()).expect("weight")),
            strip(f[1], "0020"),
            "utf8mb4_general_ci U+{cp:04X}"
        );
        assert_eq!(
            hex(&unicode.weight_string(text.as_bytes()).expect("weight")),
            strip(f[2], "0209"),
            "utf8mb4_unicode_ci U+{cp:04X}"
        );
        checked += 1;
    }
    assert_eq!(checked, 65536 - 2048);

    node.stop().await.expect("stop");
}
