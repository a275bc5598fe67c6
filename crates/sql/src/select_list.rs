//! The items of a SELECT list as the client wrote them: MySQL names a column without
//! an alias by its item's text, so rewrites that change an item's text must keep it.

use crate::lexer::{code_tokens, Token};

/// The original text of each item of the outermost (first) SELECT list, trimmed; None
/// when the list cannot be found.
pub fn select_item_texts(sql: &str) -> Option<Vec<&str>> {
    const ENDS: &[&str] = &[
        "FROM",
        "INTO",
        "WHERE",
        "GROUP",
        "HAVING",
        "ORDER",
        "LIMIT",
        "UNION",
        "WINDOW",
        "FOR",
        "LOCK",
        "EXCEPT",
        "INTERSECT",
    ];
    const OPTIONS: &[&str] = &[
        "ALL",
        "DISTINCT",
        "DISTINCTROW",
        "HIGH_PRIORITY",
        "STRAIGHT_JOIN",
        "SQL_SMALL_RESULT",
        "SQL_BIG_RESULT",
        "SQL_BUFFER_RESULT",
        "SQL_NO_CACHE",
        "SQL_CACHE",
        "SQL_CALC_FOUND_ROWS",
    ];
    let code: Vec<Token> = code_tokens(sql).collect();
    let mut i = first_select(&code, sql) + 1;
    while code
        .get(i)
        .is_some_and(|t| OPTIONS.iter().any(|o| t.is_keyword(sql, o)))
    {
        i += 1;
    }
    let mut items = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut depth = 0i32;
    while let Some(t) = code.get(i) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        }
        let at_end =
            depth == 0 && (ENDS.iter().any(|k| t.is_keyword(sql, k)) || t.is_punct(sql, ";"));
        if depth < 0 || at_end {
            break;
        }
        if depth == 0 && t.is_punct(sql, ",") {
            items.push(sql.get(start?..end)?);
            start = None;
        } else {
            start.get_or_insert(t.span.start);
            end = t.span.end;
        }
        i += 1;
    }
    items.push(sql.get(start?..end)?);
    Some(items)
}

/// The index of the first `SELECT` outside parentheses, or `code.len()`.
fn first_select(code: &[Token], sql: &str) -> usize {
    let mut depth = 0i32;
    for (i, t) in code.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0 && t.is_keyword(sql, "SELECT") {
            return i;
        }
    }
    code.len()
}
