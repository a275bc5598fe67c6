use super::*;
use proptest::prelude::*;

fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
    tokenize(sql)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Whitespace)
        .map(|t| (t.kind, t.text(sql)))
        .collect()
}

use TokenKind as K;

#[test]
fn lexes_each_token_kind() {
    let cases: &[(&str, &[(TokenKind, &str)])] = &[
        ("select", &[(K::Ident, "select")]),
        (
            "t1.c_2$",
            &[(K::Ident, "t1"), (K::Punct, "."), (K::Ident, "c_2$")],
        ),
        ("`a``b`", &[(K::QuotedIdent, "`a``b`")]),
        (
            "'it''s' \"q\\\"\"",
            &[(K::String, "'it''s'"), (K::String, "\"q\\\"\"")],
        ),
        (
            "_utf8mb4'x' N'y' n'z'",
            &[
                (K::String, "_utf8mb4'x'"),
                (K::String, "N'y'"),
                (K::String, "n'z'"),
            ],
        ),
        (
            "_utf8mb4 'x'",
            &[(K::Ident, "_utf8mb4"), (K::String, "'x'")],
        ),
        (
            "42 1.5 .5 1. 1e10 1.5E-3 2e+2",
            &[
                (K::Integer, "42"),
                (K::Decimal, "1.5"),
                (K::Decimal, ".5"),
                (K::Decimal, "1."),
                (K::Float, "1e10"),
                (K::Float, "1.5E-3"),
                (K::Float, "2e+2"),
            ],
        ),
        (
            "0x1F X'1f' x'' 0b101 b'01' B'1'",
            &[
                (K::HexNumber, "0x1F"),
                (K::HexNumber, "X'1f'"),
                (K::HexNumber, "x''"),
                (K::BitNumber, "0b101"),
                (K::BitNumber, "b'01'"),
                (K::BitNumber, "B'1'"),
            ],
        ),
        (
            "123abc 0x1g 1e",
            &[(K::Ident, "123abc"), (K::Ident, "0x1g"), (K::Ident, "1e")],
        ),
        (
            "t.5c",
            &[(K::Ident, "t"), (K::Punct, "."), (K::Ident, "5c")],
        ),
        ("? ?", &[(K::Placeholder, "?"), (K::Placeholder, "?")]),
        (
            "@a @a.b$ @'x y' @`q` @\"d\"",
            &[
                (K::UserVar, "@a"),
                (K::UserVar, "@a.b$"),
                (K::UserVar, "@'x y'"),
                (K::UserVar, "@`q`"),
                (K::UserVar, "@\"d\""),
            ],
        ),
        (
            "@@autocommit @@session.tx_isolation @@GLOBAL.x @@local.y",
            &[
                (K::SysVar, "@@autocommit"),
                (K::SysVar, "@@session.tx_isolation"),
                (K::SysVar, "@@GLOBAL.x"),
                (K::SysVar, "@@local.y"),
            ],
        ),
        (
            "a<=>b->>'$.x'",
            &[
                (K::Ident, "a"),
                (K::Punct, "<=>"),
                (K::Ident, "b"),
                (K::Punct, "->>"),
                (K::String, "'$.x'"),
            ],
        ),
        (
            "a:=1,b!=2;",
            &[
                (K::Ident, "a"),
                (K::Punct, ":="),
                (K::Integer, "1"),
                (K::Punct, ","),
                (K::Ident, "b"),
                (K::Punct, "!="),
                (K::Integer, "2"),
                (K::Punct, ";"),
            ],
        ),
        (
            "1-- c\n2",
            &[
                (K::Integer, "1"),
                (K::LineComment, "-- c"),
                (K::Integer, "2"),
            ],
        ),
        (
            "1--2",
            &[
                (K::Integer, "1"),
                (K::Punct, "-"),
                (K::Punct, "-"),
                (K::Integer, "2"),
            ],
        ),
        (
            "1 # c\n2",
            &[
                (K::Integer, "1"),
                (K::LineComment, "# c"),
                (K::Integer, "2"),
            ],
        ),
        (
            "1 /* c */ 2 /*+ BKA(t) */",
            &[
                (K::Integer, "1"),
                (K::BlockComment, "/* c */"),
                (K::Integer, "2"),
                (K::BlockComment, "/*+ BKA(t) */"),
            ],
        ),
        (
            "/*!40101 SET x=1*/",
            &[
                (K::ExecCommentStart, "/*!40101"),
                (K::Ident, "SET"),
                (K::Ident, "x"),
                (K::Punct, "="),
                (K::Integer, "1"),
                (K::ExecCommentEnd, "*/"),
            ],
        ),
        (
            "/*! STRAIGHT_JOIN */ /*M!100100 a*/",
            &[
                (K::ExecCommentStart, "/*!"),
                (K::Ident, "STRAIGHT_JOIN"),
                (K::ExecCommentEnd, "*/"),
                (K::ExecCommentStart, "/*M!100100"),
                (K::Ident, "a"),
                (K::ExecCommentEnd, "*/"),
            ],
        ),
        (
            // Versions no server runs are comments (mariadb-dump's sandbox line);
            // any other version is code, as some storage server may run it; Strata's
            // own distribution comment is read.
            "/*!50700 a*/ /*M!999999\\- enable the sandbox mode */ /*!101200 c*/ /*!999999 SHARD BY GLOBAL */ /*!999999 DEFAULT DATANODE '2' */ /*!999999 DEFAULT 1 */",
            &[
                (K::ExecCommentStart, "/*!50700"),
                (K::Ident, "a"),
                (K::ExecCommentEnd, "*/"),
                (K::BlockComment, "/*M!999999\\- enable the sandbox mode */"),
                (K::ExecCommentStart, "/*!101200"),
                (K::Ident, "c"),
                (K::ExecCommentEnd, "*/"),
                (K::ExecCommentStart, "/*!999999"),
                (K::Ident, "SHARD"),
                (K::Ident, "BY"),
                (K::Ident, "GLOBAL"),
                (K::ExecCommentEnd, "*/"),
                (K::ExecCommentStart, "/*!999999"),
                (K::Ident, "DEFAULT"),
                (K::Ident, "DATANODE"),
                (K::String, "'2'"),
                (K::ExecCommentEnd, "*/"),
                (K::BlockComment, "/*!999999 DEFAULT 1 */"),
            ],
        ),
        (
            "/*!strata:dnid=1*/select 2*3 /*!HotDB:rw=slave*/",
            &[
                (K::Hint, "/*!strata:dnid=1*/"),
                (K::Ident, "select"),
                (K::Integer, "2"),
                (K::Punct, "*"),
                (K::Integer, "3"),
                (K::Hint, "/*!HotDB:rw=slave*/"),
            ],
        ),
        (
            "'abc",
            &[(K::Error(LexErrorKind::UnterminatedString), "'abc")],
        ),
        (
            "`abc",
            &[(K::Error(LexErrorKind::UnterminatedIdent), "`abc")],
        ),
        (
            "1 /* abc",
            &[
                (K::Integer, "1"),
                (K::Error(LexErrorKind::UnterminatedComment), "/* abc"),
            ],
        ),
        (
            "'a\\'",
            &[(K::Error(LexErrorKind::UnterminatedString), "'a\\'")],
        ),
        (
            "/*!strata:dnid=1",
            &[(
                K::Error(LexErrorKind::UnterminatedComment),
                "/*!strata:dnid=1",
            )],
        ),
        ("café 表", &[(K::Ident, "café"), (K::Ident, "表")]),
    ];
    for (sql, expected) in cases {
        assert_eq!(kinds(sql), expected.to_vec(), "lexing {sql:?}");
    }
}

#[test]
fn hint_body_is_the_text_after_the_prefix() {
    let sql = "/*!strata:dnid=all*/ /*!hotdb:rw=master*/";
    let bodies: Vec<_> = tokenize(sql)
        .into_iter()
        .filter_map(|t| t.hint_body(sql))
        .collect();
    assert_eq!(bodies, ["dnid=all", "rw=master"]);
}

#[test]
fn literal_values_are_unescaped() {
    let cases = [
        ("'abc'", "abc"),
        ("'it''s'", "it's"),
        ("\"say \"\"hi\"\"\"", "say \"hi\""),
        ("'a\\nb\\tc\\\\d\\'e'", "a\nb\tc\\d'e"),
        ("'100\\%'", "100\\%"),
        ("_utf8mb4'x'", "x"),
        ("N'über'", "über"),
        ("''", ""),
    ];
    for (text, value) in cases {
        assert_eq!(string_value(text), value, "string {text}");
    }
    assert_eq!(ident_value("`a``b`"), "a`b");
    assert_eq!(ident_value("plain"), "plain");
    assert_eq!(user_var_name("@'My Var'"), "my var");
    assert_eq!(user_var_name("@Foo"), "foo");
    assert_eq!(user_var_name("@`x`"), "x");
}

proptest! {
    #[test]
    fn lexing_arbitrary_text_never_panics_and_spans_tile_the_input(s in "\\PC*") {
        check_tiling(&s);
    }

    #[test]
    fn lexing_sql_like_text_never_panics_and_spans_tile_the_input(
        s in "[ \\t\\n'\"`@.0-9a-fxXbBnN_*/!#;:=<>()?\\\\-]{0,40}"
    ) {
        check_tiling(&s);
    }
}

fn check_tiling(s: &str) {
    let mut expected_start = 0;
    for t in Lexer::new(s) {
        assert_eq!(t.span.start, expected_start);
        assert!(t.span.end > t.span.start, "empty token in {s:?}");
        assert!(s.is_char_boundary(t.span.end));
        expected_start = t.span.end;
    }
    assert_eq!(expected_start, s.len());
}

#[test]
fn a_query_of_comments_alone_is_told_from_an_empty_one_and_from_code() {
    assert!(only_comments("/* line with only comment */"));
    assert!(only_comments("  # hash\n-- dash\n"));
    assert!(!only_comments(""));
    assert!(!only_comments("   "));
    assert!(!only_comments("/* c */ SELECT 1"));
    assert!(!only_comments("/*!40101 SET @a = 1 */"));
    assert!(!only_comments("/*!strata:dnid=1*/"));
    // Executable comments without code (mysql_cp932: the client's `/*!\C cp932 */`).
    assert!(only_comments("/*!*/"));
    assert!(only_comments("/*!40101 */ /*M!100100 */"));
    assert!(!only_comments("/*!40101 SET @a = 1 */ /*!*/"));
}
