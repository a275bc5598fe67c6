//! Every entry point accepts any text: no panic, and the splitter only returns slices of
//! its input. Inputs mix SQL-significant characters so quotes, comments and variables are
//! cut off in every possible place.

use proptest::prelude::*;
use strata_sql::*;

fn exercise(sql: &str) {
    let _ = classify(sql);
    let _ = parse_set(sql);
    let _ = parse_use(sql);
    let _ = parse_show(sql);
    let _ = parse_kill(sql);
    let _ = parse_simple_select(sql);
    let digest = normalize_digest(sql);
    for t in &digest.literals {
        assert!(sql.get(t.span.start..t.span.end).is_some());
    }
    let rewritten = rewrite_schema_names(sql, |name| (name == "db").then_some("phys"));
    if !sql.contains("db") {
        assert_eq!(rewritten, sql);
    }
    for piece in split_statements(sql) {
        let offset = piece.as_ptr() as usize - sql.as_ptr() as usize;
        assert!(offset + piece.len() <= sql.len(), "piece outside the input");
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
        exercise(&s);
    }

    #[test]
    fn sql_shaped_text_never_panics(
        words in proptest::collection::vec(
            prop_oneof![
                Just("SET"), Just("SHOW"), Just("SELECT"), Just("USE"), Just("KILL"), Just("FROM"),
                Just("NAMES"), Just("TRANSACTION"), Just("GLOBAL"), Just("FULL"), Just("TABLES"),
                Just("LIMIT"), Just("db"), Just("."), Just(","), Just("="), Just("("), Just(")"),
                Just("'x"), Just("'"), Just("\""), Just("`"), Just("@@"), Just("@"), Just("@@session."),
                Just("/*"), Just("*/"), Just("/*!"), Just("/*!strata:"), Just("--"), Just("#"),
                Just(";"), Just("1"), Just("-"), Just("0x"), Just("1e"), Just("\\"), Just("\n"), Just(" "),
            ],
            0..16,
        )
    ) {
        exercise(&words.concat());
        exercise(&words.join(" "));
    }
}
