//! `ROW_COUNT()` is the affected rows of the session's previous statement, which only
//! the compute node knows: a pooled storage connection would answer with whatever
//! statement it ran last. The compute node writes the value into the text instead.

use crate::lexer::{code_tokens, Token, TokenKind};

/// What [`substitute_row_count`] made of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCountText {
    /// The statement calls no `ROW_COUNT()`.
    Unchanged,
    /// The text with each call replaced by the value.
    Substituted(String),
    /// A call inside an expression of a SELECT's select list: the literal would change
    /// the column's name, which MySQL takes from the text as written.
    NamesColumn,
}

/// Keywords that end a select list.
const LIST_ENDS: &[&str] = &[
    "FROM",
    "INTO",
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "LIMIT",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "FOR",
    "LOCK",
    "WINDOW",
];

/// Keywords that may stand before a select list's first item.
const LIST_STARTS: &[&str] = &["SELECT", "DISTINCT", "ALL", "DISTINCTROW"];

/// `sql` with each call `ROW_COUNT()` replaced by `(value)`. With `select`, the text is
/// a SELECT whose column names matter: a call that is a whole item of the outermost
/// select list is given its text as the alias (`(3) AS ``ROW_COUNT()```), as MySQL
/// names it; a call elsewhere in that list is [`RowCountText::NamesColumn`].
pub fn substitute_row_count(sql: &str, value: i64, select: bool) -> RowCountText {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let list = if select {
        outer_select_list(sql, &toks)
    } else {
        None
    };
    let mut out = String::new();
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        let call = t.kind == TokenKind::Ident
            && t.is_keyword(sql, "ROW_COUNT")
            && !(i > 0 && toks[i - 1].is_punct(sql, "."))
            && toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "("))
            && toks.get(i + 2).is_some_and(|n| n.is_punct(sql, ")"));
        if !call {
            continue;
        }
        out.push_str(&sql[last..t.span.start]);
        out.push_str(&format!("({value})"));
        last = toks[i + 2].span.end;
        if let Some((start, end)) = list.filter(|(s, e)| (*s..*e).contains(&i)) {
            match item_alias(sql, &toks, start, end, i) {
                Some(Alias::Needed) => {
                    out.push_str(" AS `");
                    out.push_str(&sql[t.span.start..last].replace('`', "``"));
                    out.push('`');
                }
                Some(Alias::Given) => {}
                None => return RowCountText::NamesColumn,
            }
        }
    }
    if last == 0 {
        return RowCountText::Unchanged;
    }
    out.push_str(&sql[last..]);
    RowCountText::Substituted(out)
}

/// The token range of the outermost SELECT's select list (its items; the keyword and
/// modifiers before them included), outside any parentheses.
fn outer_select_list(sql: &str, toks: &[Token]) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut start = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            match start {
                None if t.is_keyword(sql, "SELECT") => start = Some(i),
                Some(s)
                    if t.is_punct(sql, ";") || LIST_ENDS.iter().any(|k| t.is_keyword(sql, k)) =>
                {
                    return Some((s, i));
                }
                _ => {}
            }
        }
    }
    start.map(|s| (s, toks.len()))
}

/// Whether a call at `call` (its three tokens) is a whole item of the select list
/// `start..end`, and whether an alias follows it.
enum Alias {
    /// The item is the call alone: MySQL names the column by its text.
    Needed,
    /// The item is the call and an alias.
    Given,
}

fn item_alias(sql: &str, toks: &[Token], start: usize, end: usize, call: usize) -> Option<Alias> {
    let before = toks[call - 1];
    let item_starts =
        before.is_punct(sql, ",") || LIST_STARTS.iter().any(|k| before.is_keyword(sql, k));
    if !item_starts || call <= start {
        return None;
    }
    let next = call + 3;
    let ends_item = |j: usize| j >= end || toks[j].is_punct(sql, ",");
    if ends_item(next) {
        return Some(Alias::Needed);
    }
    let named = if toks[next].is_keyword(sql, "AS") {
        next + 1
    } else {
        next
    };
    let alias = toks.get(named)?;
    let is_name = matches!(
        alias.kind,
        TokenKind::Ident | TokenKind::QuotedIdent | TokenKind::String
    );
    (is_name && ends_item(named + 1)).then_some(Alias::Given)
}

#[cfg(test)]
mod tests {
    use super::{substitute_row_count, RowCountText};

    fn text(sql: &str, value: i64, select: bool) -> Option<String> {
        match substitute_row_count(sql, value, select) {
            RowCountText::Substituted(s) => Some(s),
            RowCountText::Unchanged => None,
            RowCountText::NamesColumn => Some("names column".into()),
        }
    }

    #[test]
    fn row_count_calls_become_the_value() {
        assert_eq!(
            text(
                "INSERT INTO t VALUES (ROW_COUNT()), (row_count ( ))",
                -1,
                false
            )
            .as_deref(),
            Some("INSERT INTO t VALUES ((-1)), ((-1))")
        );
        assert_eq!(
            text("SET @x = ROW_COUNT() + 1", 3, false).as_deref(),
            Some("SET @x = (3) + 1")
        );
        for sql in [
            "UPDATE t SET row_count = 1",
            "SELECT db.ROW_COUNT()",
            "SELECT 'ROW_COUNT()'",
            "SELECT ROW_COUNT",
        ] {
            assert_eq!(text(sql, 2, true), None, "{sql}");
        }
    }

    #[test]
    fn a_whole_select_item_keeps_its_name() {
        for (sql, want) in [
            (
                "SELECT ROW_COUNT() FROM t",
                "SELECT (2) AS `ROW_COUNT()` FROM t",
            ),
            (
                "SELECT id, row_count ( ) FROM t",
                "SELECT id, (2) AS `row_count ( )` FROM t",
            ),
            (
                "SELECT DISTINCT ROW_COUNT(), id FROM t",
                "SELECT DISTINCT (2) AS `ROW_COUNT()`, id FROM t",
            ),
            ("SELECT ROW_COUNT() AS rc FROM t", "SELECT (2) AS rc FROM t"),
            ("SELECT ROW_COUNT() rc, 1 FROM t", "SELECT (2) rc, 1 FROM t"),
            ("SELECT ROW_COUNT()", "SELECT (2) AS `ROW_COUNT()`"),
            (
                "SELECT id FROM t WHERE k > ROW_COUNT() + 1",
                "SELECT id FROM t WHERE k > (2) + 1",
            ),
            (
                "SELECT id FROM t WHERE k IN (1, ROW_COUNT(), 3)",
                "SELECT id FROM t WHERE k IN (1, (2), 3)",
            ),
            (
                "WITH c AS (SELECT ROW_COUNT() + 1 AS r) SELECT r FROM c",
                "WITH c AS (SELECT (2) + 1 AS r) SELECT r FROM c",
            ),
        ] {
            assert_eq!(text(sql, 2, true).as_deref(), Some(want), "{sql}");
        }
    }

    #[test]
    fn a_call_inside_a_select_item_expression_would_rename_the_column() {
        for sql in [
            "SELECT ROW_COUNT() + 1 FROM t",
            "SELECT CONCAT('n', ROW_COUNT()) FROM t",
            "SELECT id, 1 + ROW_COUNT() FROM t",
        ] {
            assert_eq!(
                substitute_row_count(sql, 2, true),
                RowCountText::NamesColumn,
                "{sql}"
            );
        }
        // Names do not matter in a write's SELECT.
        assert_eq!(
            text("INSERT INTO u SELECT ROW_COUNT() + 1 FROM t", 2, false).as_deref(),
            Some("INSERT INTO u SELECT (2) + 1 FROM t")
        );
    }
}
