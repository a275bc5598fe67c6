use proptest::prelude::*;

use super::*;

/// A SQL literal as the planner hands it over: `'...'` and `X'..'` are strings (MariaDB
/// treats X'..' as a string on INSERT), `0x..` and `b'..'` are Bytes (numbers in numeric
/// context), numbers with `.` or an exponent are Number, other numbers Integer.
pub(crate) fn sql_literal(text: &str) -> KeyLiteral {
    let hex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0))
            .collect()
    };
    if let Some(body) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        let mut out = Vec::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            let c = if c == '\\' {
                match chars.next() {
                    Some('t') => '\t',
                    Some('n') => '\n',
                    Some('0') => '\0',
                    Some(other) => other,
                    None => '\\',
                }
            } else {
                c
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        return KeyLiteral::String(out);
    }
    if let Some(h) = text.strip_prefix("X'").and_then(|t| t.strip_suffix('\'')) {
        return KeyLiteral::String(hex(h));
    }
    if let Some(h) = text.strip_prefix("0x") {
        return KeyLiteral::Bytes(hex(h));
    }
    if let Some(bits) = text.strip_prefix("b'").and_then(|t| t.strip_suffix('\'')) {
        let v = u64::from_str_radix(bits, 2).unwrap_or(0);
        let bytes: Vec<u8> = v
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        return KeyLiteral::Bytes(bytes);
    }
    if text.contains(['.', 'e', 'E']) {
        KeyLiteral::Number(text.to_string())
    } else {
        KeyLiteral::Integer(text.to_string())
    }
}

fn literal(text: &str) -> KeyLiteral {
    sql_literal(text)
}

fn key_type(text: &str) -> KeyType {
    KeyType::from_column_definition(text, None, Some("utf8mb4_general_ci"))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn key(ty: &KeyType, literal: KeyLiteral) -> KeyValue {
    canonical_key(ty, &literal).unwrap_or_else(|e| panic!("{ty} {literal:?}: {e}"))
}

fn string(s: &str) -> KeyLiteral {
    KeyLiteral::String(s.as_bytes().to_vec())
}

#[test]
fn every_literal_routes_like_the_value_mariadb_stores() {
    // Expected values: `SET sql_mode=''; INSERT INTO t VALUES (literal); SELECT
    // CAST(v AS CHAR)` on MariaDB 10.11.19, recorded in tests/data/insert_conversions.tsv.
    let table = include_str!("../../../tests/data/insert_conversions.tsv");
    let mut checked = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [ty, literal, stored] = fields[..] else {
            panic!("bad line {line:?}");
        };
        let ty = key_type(ty);
        let from_literal = canonical_key(&ty, &sql_literal(literal));
        let from_stored = canonical_key(&ty, &string(stored));
        assert_eq!(
            from_literal, from_stored,
            "{ty}: literal {literal} is stored as {stored:?}"
        );
        assert!(from_literal.is_ok(), "{ty} {literal}: {from_literal:?}");
        checked += 1;
    }
    assert!(checked > 150, "{checked} lines");
}

#[test]
fn canonical_forms_are_the_stored_text() {
    // Values as MariaDB 10.11.19 prints them (SELECT CAST(v AS CHAR) after INSERT).
    let int = key_type("int(11)");
    assert_eq!(key(&int, sql_literal("5.5")), KeyValue::Int(6));
    assert_eq!(key(&int, sql_literal("-4.5")), KeyValue::Int(-5));
    assert_eq!(key(&int, sql_literal("2.5e0")), KeyValue::Int(2));
    assert_eq!(key(&int, sql_literal("'abc'")), KeyValue::Int(0));
    let dec = key_type("decimal(10,2)");
    assert_eq!(
        key(&dec, sql_literal("-0.005")),
        KeyValue::Decimal("-0.01".into())
    );
    assert_eq!(
        key(&dec, sql_literal("-0.001")),
        KeyValue::Decimal("0.00".into())
    );
    assert_eq!(
        key(&dec, sql_literal("5")),
        KeyValue::Decimal("5.00".into())
    );
    let dec0 = key_type("decimal(5)");
    assert_eq!(
        key(&dec0, sql_literal("'2.5'")),
        KeyValue::Decimal("3".into())
    );
    let date = key_type("date");
    assert_eq!(
        key(&date, sql_literal("'2024-1-2'")),
        KeyValue::Bytes(b"2024-01-02".to_vec())
    );
    let datetime = key_type("datetime(3)");
    assert_eq!(
        key(&datetime, sql_literal("'2024-01-02'")),
        KeyValue::Bytes(b"2024-01-02 00:00:00".to_vec())
    );
    let year = key_type("year(4)");
    assert_eq!(key(&year, sql_literal("'5'")), KeyValue::Int(2005));
    // What MariaDB 10.11 stores with INSERT IGNORE (main.type_date): out of range and
    // nothing numeric are 0000, strings are read like integers, rounded.
    for (text, stored) in [
        ("'abc'", 0),
        ("'5abc'", 2005),
        ("'3000'", 0),
        ("3000", 0),
        ("'12345'", 0),
        ("' 12 '", 2012),
        ("0", 0),
        ("'0'", 2000),
        ("'00'", 2000),
        ("'2a'", 2002),
        ("'0a'", 2000),
        ("'1.5'", 2002),
        ("'-1'", 0),
        ("1900", 0),
        ("'69.5'", 1970),
        ("69.5", 1970),
        ("'1e3'", 0),
        ("'000'", 2000),
        ("'0000'", 0),
        ("'0001'", 2001),
        ("'70x'", 1970),
    ] {
        assert_eq!(
            key(&year, sql_literal(text)),
            KeyValue::Int(stored),
            "{text}"
        );
    }
    let bin = key_type("binary(4)");
    assert_eq!(
        key(&bin, sql_literal("'ab'")),
        key(&bin, KeyLiteral::Bytes(b"ab\0\0".to_vec()))
    );
    let ci = key_type("varchar(10)");
    assert_eq!(key(&ci, string("abc  ")), key(&ci, string("ABC")));
    assert_eq!(key(&ci, KeyLiteral::Null), KeyValue::Null);
}

#[test]
fn characters_a_charset_cannot_hold_route_like_the_question_mark_mariadb_stores() {
    // MariaDB 10.11.19, `SET sql_mode = ''; CREATE TABLE t (c VARCHAR(10) CHARSET latin1,
    // m VARCHAR(10) CHARSET utf8mb3); INSERT INTO t VALUES ('ā', '😀'); SELECT HEX(c),
    // HEX(m) FROM t` gives 3F, 3F (warning 1366; strict mode refuses the INSERT, and
    // `c = 'ā'` is error 1267), as `CONVERT('ā' USING latin1)` gives '?'. The merge
    // compares the same way, through the same conversion.
    for (ty, text) in [
        ("varchar(10) charset latin1", "ā"),
        ("varchar(10) charset latin1 collate latin1_bin", "ā"),
        ("varchar(10) charset utf8mb3", "😀"),
    ] {
        let ty = key_type(ty);
        assert_eq!(
            canonical_key(&ty, &string(text)),
            canonical_key(&ty, &string("?")),
            "{ty} {text}"
        );
    }
}

#[test]
fn literals_that_cannot_be_converted_exactly_are_refused_with_codes() {
    let cases: Vec<(&str, KeyLiteral, u16, &str)> = vec![
        (
            "int",
            KeyLiteral::Integer("9223372036854775808".into()),
            1264,
            "out of range",
        ),
        (
            "int unsigned",
            KeyLiteral::Integer("-1".into()),
            1264,
            "out of range",
        ),
        ("bigint", string("1e400"), 1264, "out of range"),
        (
            "bigint",
            KeyLiteral::Number("1e400".into()),
            1366,
            "not a number",
        ),
        (
            "bigint",
            KeyLiteral::Integer("12abc".into()),
            1366,
            "not an integer literal",
        ),
        ("decimal(10,2)", string("1e70"), 1264, "out of range"),
        (
            "varchar(10)",
            KeyLiteral::Number("1.5e0".into()),
            1235,
            "float literal",
        ),
        (
            "varchar(10)",
            KeyLiteral::String(vec![0xFF]),
            1366,
            "invalid UTF-8",
        ),
        ("date", string("2024-02-30"), 1292, "not a DATE value"),
        ("date", string("2024-01-02xyz"), 1292, "not a DATE value"),
        (
            "datetime",
            string("2024-01-02 24:00:00"),
            1292,
            "not a DATETIME value",
        ),
        ("time", string("25:61:00"), 1292, "not a TIME value"),
    ];
    for (ty, literal, code, message) in cases {
        // Without a width (catalogs from before widths were kept) out-of-range values are
        // refused; with one they are clamped (`stored_values_are_clipped_to_the_width`).
        let err = canonical_key(&key_type(ty).without_width(), &literal)
            .err()
            .unwrap_or_else(|| panic!("{ty} {literal:?} accepted"));
        assert_eq!(err.code(), code, "{ty} {literal:?}: {err}");
        assert!(err.to_string().contains(message), "{ty} {literal:?}: {err}");
    }
}

#[test]
fn stored_values_are_clipped_to_the_width() {
    let cases: Vec<(&str, KeyLiteral, KeyLiteral)> = vec![
        ("tinyint unsigned", literal("300"), literal("255")),
        ("tinyint unsigned", literal("-5"), literal("0")),
        ("tinyint unsigned", string("300abc"), literal("255")),
        ("tinyint unsigned", literal("3e2"), literal("255")),
        ("tinyint", literal("-300"), literal("-128")),
        ("smallint", literal("99999"), literal("32767")),
        (
            "mediumint unsigned",
            literal("99999999"),
            literal("16777215"),
        ),
        ("int", literal("-9999999999"), literal("-2147483648")),
        (
            "bigint",
            literal("9223372036854775808"),
            literal("9223372036854775807"),
        ),
        (
            "bigint unsigned",
            literal("99999999999999999999"),
            literal("18446744073709551615"),
        ),
        ("decimal(5,2)", literal("12345.6"), literal("999.99")),
        ("decimal(5,2)", literal("999.999"), literal("999.99")),
        ("decimal(5,2)", literal("-12345.6"), literal("-999.99")),
        ("decimal(5,2) unsigned", literal("-5"), literal("0")),
        ("decimal(3,0)", string("1e70"), literal("999")),
        ("varchar(3)", string("abcdef"), string("abc")),
        ("varchar(3)", string("ÄÖÜßé"), string("ÄÖÜ")),
        ("char(2) charset latin1", string("abc"), string("ab")),
        ("varbinary(3)", string("abcdef"), string("abc")),
        (
            "binary(2)",
            KeyLiteral::Bytes(vec![1, 2, 3]),
            KeyLiteral::Bytes(vec![1, 2]),
        ),
    ];
    for (ty, written, stored) in cases {
        let ty = key_type(ty);
        assert_eq!(
            key(&ty, written.clone()),
            key(&ty, stored.clone()),
            "{ty:?} {written:?}"
        );
        // `k = written` matches no row: it must not find the rows of the stored value.
        assert_eq!(
            comparison_key(&ty, &written),
            Ok(None),
            "{ty:?} {written:?}"
        );
        assert_eq!(
            comparison_key(&ty, &stored),
            Ok(Some(key(&ty, stored.clone()))),
            "{ty:?} {stored:?}"
        );
    }
    // Rounding to the scale is no clipping: 123.456 routes (and is looked up) as 123.46.
    let ty = key_type("decimal(5,2)");
    assert_eq!(key(&ty, literal("123.456")), key(&ty, literal("123.46")));
    // Trailing spaces cut from a PAD SPACE string leave its key, and its lookups, alone.
    let ty = key_type("varchar(3)");
    assert_eq!(
        comparison_key(&ty, &string("ab    ")),
        Ok(Some(key(&ty, string("ab"))))
    );
}

#[test]
fn key_types_without_width_read_back_as_before() {
    for text in [
        "tinyint unsigned",
        "decimal(5,2) unsigned",
        "varchar(3)",
        "binary(4)",
    ] {
        let ty = key_type(text);
        assert!(ty.has_width(), "{text}");
        let old = ty.clone().without_width();
        assert!(!old.has_width(), "{text}");
        let again = KeyType::from_column_definition(&old.to_column_definition(), None, None)
            .map(KeyType::without_width);
        assert_eq!(again.ok(), Some(old), "{text}");
    }
    let old = key_type("tinyint unsigned").without_width();
    assert_eq!(key(&old, literal("300")), KeyValue::Int(300));
}

#[test]
fn column_definitions_parse_to_key_types() {
    let string = |c: &str, length: u32| KeyType::String {
        collation: c.to_string(),
        length: Some(length),
    };
    let int = |unsigned: bool, bytes: u8| KeyType::Integer {
        unsigned,
        bytes: Some(bytes),
    };
    let decimal = |precision: u32, scale: u32, unsigned: bool| KeyType::Decimal {
        scale,
        precision: Some(precision),
        unsigned,
    };
    let cases: Vec<(&str, Option<&str>, Option<&str>, KeyType)> = vec![
        ("int(11) unsigned", None, None, int(true, 4)),
        ("INT(11) UNSIGNED ZEROFILL", None, None, int(true, 4)),
        ("bigint(20)", None, None, int(false, 8)),
        ("tinyint(1)", None, None, int(false, 1)),
        ("serial", None, None, int(true, 8)),
        ("smallint", None, None, int(false, 2)),
        ("mediumint unsigned", None, None, int(true, 3)),
        ("bool", None, None, int(false, 1)),
        ("decimal(10,2)", None, None, decimal(10, 2, false)),
        ("decimal(5,2) unsigned", None, None, decimal(5, 2, true)),
        ("numeric(12)", None, None, decimal(12, 0, false)),
        ("decimal", None, None, decimal(10, 0, false)),
        ("varchar(32)", None, None, string("utf8mb4_general_ci", 32)),
        (
            "varchar(32)",
            Some("utf8mb4_bin"),
            None,
            string("utf8mb4_bin", 32),
        ),
        (
            "varchar(32)",
            None,
            Some("latin1"),
            string("latin1_swedish_ci", 32),
        ),
        (
            "varchar(32)",
            None,
            Some("utf8_unicode_ci"),
            string("utf8mb3_unicode_ci", 32),
        ),
        (
            "char(8) character set latin1",
            None,
            Some("utf8mb4_bin"),
            string("latin1_swedish_ci", 8),
        ),
        (
            "char(8) CHARSET utf8mb4 COLLATE utf8mb4_unicode_ci",
            None,
            None,
            string("utf8mb4_unicode_ci", 8),
        ),
        (
            "varchar(8) binary",
            None,
            Some("utf8mb4_general_ci"),
            string("utf8mb4_bin", 8),
        ),
        (
            "national varchar(8)",
            None,
            None,
            string("utf8mb3_general_ci", 8),
        ),
        ("nchar(8)", None, None, string("utf8mb3_general_ci", 8)),
        (
            "character varying(8)",
            None,
            None,
            string("utf8mb4_general_ci", 8),
        ),
        (
            "varchar(8) character set binary",
            None,
            None,
            KeyType::Binary { length: Some(8) },
        ),
        (
            "varbinary(16)",
            None,
            None,
            KeyType::Binary { length: Some(16) },
        ),
        ("binary", None, None, KeyType::Binary { length: Some(1) }),
        (
            "date",
            None,
            None,
            KeyType::Temporal {
                kind: "date".into(),
            },
        ),
        (
            "datetime(3)",
            None,
            None,
            KeyType::Temporal {
                kind: "datetime".into(),
            },
        ),
        (
            "time(6)",
            None,
            None,
            KeyType::Temporal {
                kind: "time".into(),
            },
        ),
        (
            "year(4)",
            None,
            None,
            KeyType::Temporal {
                kind: "year".into(),
            },
        ),
    ];
    for (text, collation, default, expected) in cases {
        let got = KeyType::from_column_definition(text, collation, default);
        assert_eq!(got.as_ref().ok(), Some(&expected), "{text}: {got:?}");
        let spec = expected.to_column_definition();
        assert_eq!(
            KeyType::from_column_definition(&spec, None, None).ok(),
            Some(expected),
            "{spec} reads back"
        );
    }
}

#[test]
fn unsupported_column_types_are_refused_naming_the_type() {
    let cases = [
        ("float", "float"),
        ("double precision", "double"),
        ("real", "real"),
        ("float(10,2) unsigned", "float"),
        ("text", "text"),
        ("mediumtext", "mediumtext"),
        ("long varchar", "long varchar"),
        ("blob", "blob"),
        ("longblob", "longblob"),
        ("json", "json"),
        ("enum('a','b')", "enum"),
        ("set('a')", "set"),
        ("bit(8)", "bit"),
        ("timestamp(3)", "timestamp"),
        ("geometry", "geometry"),
        ("uuid", "uuid"),
    ];
    for (text, named) in cases {
        let err = KeyType::from_column_definition(text, None, None)
            .err()
            .unwrap_or_else(|| panic!("{text} accepted"));
        assert_eq!(err.code(), 1235, "{text}");
        assert!(
            err.to_string()
                .starts_with(&format!("Sharding key type '{named}' is not supported")),
            "{text}: {err}"
        );
    }
    let err = KeyType::from_column_definition("varchar(8)", Some("utf8mb4_unicode_520_ci"), None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("collation 'utf8mb4_unicode_520_ci'"), "{err}");
    let err =
        KeyType::from_column_definition("varchar(8) charset latin1", Some("utf8mb4_bin"), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
    assert!(
        err.contains("not valid for character set 'latin1'"),
        "{err}"
    );
}

#[test]
fn comparison_keys_scatter_where_mariadb_compares_as_double() {
    // MariaDB 10.11.19:
    //   bigint b = '9007199254740993' matches only 9007199254740993 (exact);
    //   decimal(30,0) d = '123456789012345678902' does not match ...901 (exact);
    //   decimal(30,20) e = 0.30000000000000004e0 matches 0.30000000000000004441 (double);
    //   varchar s = 5 matches '5', '05', '5.0' (double).
    let bigint = key_type("bigint");
    assert_eq!(
        comparison_key(&bigint, &string("9007199254740993")),
        Ok(Some(KeyValue::Int(9_007_199_254_740_993)))
    );
    assert_eq!(
        comparison_key(&bigint, &KeyLiteral::Number("9007199254740993e0".into())),
        Ok(None)
    );
    assert_eq!(
        comparison_key(&bigint, &KeyLiteral::Number("12e0".into())),
        Ok(Some(KeyValue::Int(12)))
    );
    assert_eq!(
        comparison_key(
            &key_type("decimal(30,20)"),
            &KeyLiteral::Number("0.30000000000000004e0".into())
        ),
        Ok(None)
    );
    assert_eq!(
        comparison_key(&key_type("decimal(30,0)"), &string("123456789012345678902")),
        Ok(Some(KeyValue::Decimal("123456789012345678902".into())))
    );
    let varchar = key_type("varchar(8)");
    assert_eq!(
        comparison_key(&varchar, &KeyLiteral::Integer("5".into())),
        Ok(None)
    );
    assert_eq!(
        comparison_key(&varchar, &string("A ")),
        Ok(Some(key(&varchar, string("a"))))
    );
    // Unconvertible literals scatter instead of failing the query.
    assert_eq!(
        comparison_key(&key_type("date"), &string("2024-02-30")),
        Ok(None)
    );
    assert!(comparison_key(
        &KeyType::String {
            collation: "klingon_ci".into(),
            length: None,
        },
        &string("a")
    )
    .is_err());
}

#[test]
fn bounds_on_integer_columns_are_inclusive_integers() {
    let int = key_type("int");
    let b = |lit: KeyLiteral, op| bound_key(&int, &lit, op);
    let inc = |v| Some(Bound::Included(KeyValue::Int(v)));
    assert_eq!(b(KeyLiteral::Integer("5".into()), RangeOp::Greater), inc(6));
    assert_eq!(
        b(KeyLiteral::Integer("5".into()), RangeOp::GreaterEqual),
        inc(5)
    );
    assert_eq!(b(KeyLiteral::Integer("5".into()), RangeOp::Less), inc(4));
    assert_eq!(
        b(KeyLiteral::Integer("5".into()), RangeOp::LessEqual),
        inc(5)
    );
    assert_eq!(
        b(KeyLiteral::Number("5.5".into()), RangeOp::Greater),
        inc(6)
    );
    assert_eq!(
        b(KeyLiteral::Number("5.5".into()), RangeOp::GreaterEqual),
        inc(6)
    );
    assert_eq!(b(KeyLiteral::Number("5.5".into()), RangeOp::Less), inc(5));
    assert_eq!(
        b(KeyLiteral::Number("-5.5".into()), RangeOp::LessEqual),
        inc(-6)
    );
    assert_eq!(
        b(KeyLiteral::Number("-5.5".into()), RangeOp::Greater),
        inc(-5)
    );
    assert_eq!(b(string(" 10abc"), RangeOp::Less), inc(9));
    assert_eq!(b(KeyLiteral::Number("1e1".into()), RangeOp::Less), inc(9));
    assert_eq!(b(KeyLiteral::Number("1e300".into()), RangeOp::Less), None);
    assert_eq!(
        bound_key(&key_type("varchar(3)"), &string("a"), RangeOp::Less),
        None
    );
}

proptest! {
    #[test]
    fn every_literal_form_of_an_integer_is_one_key(v in any::<i64>()) {
        let int = key_type("bigint");
        let expected = KeyValue::Int(i128::from(v));
        let mut forms = vec![
            KeyLiteral::Integer(v.to_string()),
            string(&v.to_string()),
            string(&format!("  {v}")),
            string(&format!("{v}  ")),
            string(&format!("{v}.0")),
            KeyLiteral::Number(format!("{v}.000")),
            string(&format!("{v}.4")),
        ];
        if v.unsigned_abs() < (1 << 53) {
            forms.push(KeyLiteral::Number(format!("{v}e0")));
        }
        if v >= 0 {
            forms.push(KeyLiteral::Bytes(v.to_be_bytes().to_vec()));
        }
        for form in forms {
            prop_assert_eq!(canonical_key(&int, &form), Ok(expected.clone()), "{:?}", form);
        }
    }

    #[test]
    fn every_literal_form_of_a_decimal_is_one_key(units in -10_000_000i64..10_000_000, scale in 0u32..6) {
        let ty = KeyType::Decimal { scale, precision: None, unsigned: false };
        let text = {
            let s = format!("{:0>width$}", units.unsigned_abs(), width = scale as usize + 1);
            let (int, frac) = s.split_at(s.len() - scale as usize);
            let sign = if units < 0 { "-" } else { "" };
            if scale == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
        };
        let expected = canonical_key(&ty, &KeyLiteral::Number(text.clone()));
        prop_assert!(expected.is_ok());
        let more_zeros = if scale == 0 { format!("{text}.00") } else { format!("{text}00") };
        for form in [string(&text), string(&format!(" {more_zeros}")), KeyLiteral::Number(more_zeros.clone())] {
            prop_assert_eq!(canonical_key(&ty, &form), expected.clone(), "{:?}", form);
        }
        if scale == 0 {
            prop_assert_eq!(canonical_key(&ty, &KeyLiteral::Integer(text.clone())), expected.clone());
        }
    }

    #[test]
    fn case_and_trailing_spaces_do_not_change_a_ci_key(s in "[a-zA-Z0-9 é]{0,10}", pad in 0usize..3) {
        for collation in ["utf8mb4_general_ci", "utf8mb4_unicode_ci", "latin1_swedish_ci", "utf8mb3_general_ci"] {
            let ty = KeyType::String { collation: collation.into(), length: None };
            let variant = format!("{}{}", s.to_uppercase(), " ".repeat(pad));
            prop_assert_eq!(canonical_key(&ty, &string(&s)), canonical_key(&ty, &string(&variant)));
        }
    }

    #[test]
    fn canonicalization_never_panics(text in "\\PC{0,24}", ty in 0usize..8) {
        let types = ["bigint", "int unsigned", "decimal(10,3)", "varchar(5)", "varbinary(3)", "date", "datetime", "time"];
        let kt = key_type(types[ty]);
        for literal in [string(&text), KeyLiteral::Number(text.clone()), KeyLiteral::Integer(text.clone()), KeyLiteral::Bytes(text.clone().into_bytes())] {
            let _ = canonical_key(&kt, &literal);
            let _ = comparison_key(&kt, &literal);
            let _ = bound_key(&kt, &literal, RangeOp::Less);
        }
        let _ = KeyType::from_column_definition(&text, None, None);
    }
}
