//! The tables a `LOCK TABLES` statement names, read off its tokens (the session
//! decides from them whether the locks stay on one data node).

use strata_sql::code_tokens;

/// The tables `LOCK TABLE[S] t [[AS] a] lock_type, ...` names, as (schema, name).
pub(super) fn lock_table_names(sql: &str) -> Vec<(Option<String>, String)> {
    let code: Vec<strata_sql::Token> = code_tokens(sql).collect();
    let ident = |t: &strata_sql::Token| strata_sql::lexer::ident_value(t.text(sql)).into_owned();
    let mut names = Vec::new();
    // After LOCK TABLE(S), and after each comma at depth 0: a (qualified) name.
    let mut at = 2;
    while let Some(t) = code.get(at) {
        if !t.kind.is_ident() {
            break;
        }
        let qualified = code.get(at + 1).is_some_and(|d| d.is_punct(sql, "."))
            && code.get(at + 2).is_some_and(|n| n.kind.is_ident());
        if qualified {
            names.push((Some(ident(t)), ident(&code[at + 2])));
        } else {
            names.push((None, ident(t)));
        }
        match code[at..].iter().position(|n| n.is_punct(sql, ",")) {
            Some(comma) => at += comma + 1,
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_tables_names_every_table() {
        assert_eq!(
            super::lock_table_names("LOCK TABLES a READ, `d`.b AS x WRITE, c LOW_PRIORITY WRITE"),
            [
                (None, "a".to_string()),
                (Some("d".to_string()), "b".to_string()),
                (None, "c".to_string())
            ]
        );
        assert_eq!(
            super::lock_table_names("LOCK TABLE t READ LOCAL"),
            [(None, "t".to_string())]
        );
    }
}
