//! `ROW_COUNT()` is the affected rows of the session's previous statement, which only
//! the compute node knows: a pooled storage connection would answer with whatever
//! statement it ran last. The compute node writes the value into the text instead.

use crate::lexer::{code_tokens, Token, TokenKind};
use crate::select_list::select_item_texts;

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

/// `sql` with each call `ROW_COUNT()` replaced by `(value)`. With `select`, the text is
/// a SELECT whose column names matter: a call that is a whole item of the outermost
/// select list is given its text as the alias (`(3) AS ``ROW_COUNT()```), as MySQL
/// names it; a call elsewhere in that list is [`RowCountText::NamesColumn`].
pub fn substitute_row_count(sql: &str, value: i64, select: bool) -> RowCountText {
    let toks: Vec<Token> = code_tokens(sql).collect();
    // Byte ranges of the outermost select list's items.
    let items: Vec<(usize, usize)> = select
        .then(|| select_item_texts(sql))
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .map(|item| {
            let start = item.as_ptr() as usize - sql.as_ptr() as usize;
            (start, start + item.len())
        })
        .collect();
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
        let call_end = toks[i + 2].span.end;
        out.push_str(&sql[last..t.span.start]);
        out.push_str(&format!("({value})"));
        last = call_end;
        let Some(&(_, item_end)) = items.iter().find(|(s, e)| (*s..*e).contains(&t.span.start))
        else {
            continue;
        };
        if items.iter().all(|(s, _)| *s != t.span.start) {
            return RowCountText::NamesColumn;
        }
        match alias_after(&sql[call_end..item_end]) {
            Some(false) => {
                out.push_str(" AS `");
                out.push_str(&sql[t.span.start..call_end].replace('`', "``"));
                out.push('`');
            }
            Some(true) => {}
            None => return RowCountText::NamesColumn,
        }
    }
    if last == 0 {
        return RowCountText::Unchanged;
    }
    out.push_str(&sql[last..]);
    RowCountText::Substituted(out)
}

/// What follows a call to the end of its select item: nothing (`Some(false)`: the
/// column is named by the call's text), an alias (`Some(true)`), or more of an
/// expression (None).
fn alias_after(rest: &str) -> Option<bool> {
    let code: Vec<Token> = code_tokens(rest).collect();
    let name = match code.as_slice() {
        [] => return Some(false),
        [name] => name,
        [kw, name] if kw.is_keyword(rest, "AS") => name,
        _ => return None,
    };
    matches!(
        name.kind,
        TokenKind::Ident | TokenKind::QuotedIdent | TokenKind::String
    )
    .then_some(true)
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
