//! `ROW_COUNT()` is the affected rows of the session's previous statement, and
//! `LAST_INSERT_ID()` the first value it generated, which only the compute node knows:
//! a pooled storage connection would answer with whatever statement it (or another
//! session on it) ran last. The compute node writes the value into the text instead.

use crate::lexer::{code_tokens, Token, TokenKind};
use crate::select_list::select_item_texts;

/// What [`substitute_row_count`] made of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowCountText {
    /// The statement calls no `ROW_COUNT()`.
    Unchanged,
    /// The text with each call replaced by the value.
    Substituted(String),
    /// A call inside an item of a SELECT's select list whose column name this cannot
    /// keep (its alias cannot be told apart, or its text is too long to be an alias).
    NamesColumn,
}

/// Longest item text given as an alias: MariaDB refuses longer aliases (1059), while it
/// shortens a column name it derives from a longer text.
const LONGEST_ALIAS: usize = 250;

/// `sql` with each call `ROW_COUNT()` replaced by the value, typed as the function is.
/// With `select`, the text is a SELECT whose column names matter: an item of the
/// outermost select list that calls it and has no alias is given its text as written
/// as the alias (`<value> AS ``ROW_COUNT()```, `hex(<value>) AS
/// ``hex(row_count())```), as MySQL names it.
pub fn substitute_row_count(sql: &str, value: i64, select: bool) -> RowCountText {
    substitute_call(sql, "ROW_COUNT", &row_count_value(value), select)
}

/// `sql` with each call `LAST_INSERT_ID()` (without argument) replaced by the session's
/// value, typed BIGINT UNSIGNED NOT NULL as the function is (a bitwise OR's type); select items keep their names as
/// [`substitute_row_count`] keeps them.
pub fn substitute_last_insert_id(sql: &str, value: u64, select: bool) -> RowCountText {
    substitute_call(sql, "LAST_INSERT_ID", &format!("({value} | 0)"), select)
}

/// `value` as an expression of `ROW_COUNT()`'s type, BIGINT NOT NULL (a bare literal
/// is an INT of its own width: a client reading the column's metadata sees the
/// difference).
fn row_count_value(value: i64) -> String {
    format!("COALESCE({value}, 0 * 9223372036854775807)")
}

/// `sql` with each argument-less call of `values`' functions (`CONNECTION_ID`, `USER`,
/// ...: what the session is, which a storage connection would answer with its own
/// thread and account) replaced by its value, select items keeping their names as
/// [`substitute_row_count`] keeps them.
pub fn substitute_session_calls(
    sql: &str,
    values: &[(&str, String)],
    select: bool,
) -> RowCountText {
    let mut text: Option<String> = None;
    for (function, value) in values {
        match substitute_call(text.as_deref().unwrap_or(sql), function, value, select) {
            RowCountText::Substituted(t) => text = Some(t),
            RowCountText::Unchanged => {}
            RowCountText::NamesColumn => return RowCountText::NamesColumn,
        }
    }
    text.map_or(RowCountText::Unchanged, RowCountText::Substituted)
}

/// Whether `sql` tests a value for NULL (`x IS NULL` or `ISNULL(x)`) outside strings
/// and comments: under `sql_auto_is_null=1` MariaDB reads such a test of an
/// AUTO_INCREMENT column as "the row the previous INSERT generated", which only the
/// compute node knows over several data nodes.
pub fn tests_is_null(sql: &str) -> bool {
    let toks: Vec<Token> = code_tokens(sql).collect();
    toks.iter().enumerate().any(|(i, t)| {
        let next = toks.get(i + 1);
        (t.is_keyword(sql, "IS") && next.is_some_and(|n| n.is_keyword(sql, "NULL")))
            || (t.kind == TokenKind::Ident
                && t.is_keyword(sql, "ISNULL")
                && next.is_some_and(|n| n.is_punct(sql, "(")))
    })
}

/// Whether `sql` calls `LAST_INSERT_ID(expr)`, which sets the session's value: a call
/// with an argument, outside strings and comments (a routine body's calls are its own:
/// callers leave CREATE statements and compound statements out).
pub fn sets_last_insert_id(sql: &str) -> bool {
    let toks: Vec<Token> = code_tokens(sql).collect();
    // SET last_insert_id = n (or identity, @@session.last_insert_id, ...).
    let is_set = toks.first().is_some_and(|t| t.is_keyword(sql, "SET"));
    let assigns = |i: usize, t: &Token| {
        let name = match t.kind {
            TokenKind::Ident => t.text(sql).to_ascii_lowercase(),
            TokenKind::SysVar => crate::guard::sysvar_name(t.text(sql)),
            _ => return false,
        };
        crate::guard::is_session_value_variable(&name)
            && !(i > 0 && toks[i - 1].is_punct(sql, "."))
            && toks
                .get(i + 1)
                .is_some_and(|n| n.is_punct(sql, "=") || n.is_punct(sql, ":="))
    };
    if is_set && toks.iter().enumerate().any(|(i, t)| assigns(i, t)) {
        return true;
    }
    toks.iter().enumerate().any(|(i, t)| {
        t.kind == TokenKind::Ident
            && t.is_keyword(sql, "LAST_INSERT_ID")
            && !(i > 0 && toks[i - 1].is_punct(sql, "."))
            && toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "("))
            && toks.get(i + 2).is_some_and(|n| !n.is_punct(sql, ")"))
    })
}

/// Where the argument-less call of `function` starting at token `i` ends, None when
/// token `i` is no such call. `CURRENT_USER` is also a call without parentheses, as in
/// MariaDB, except where it names an account (`DEFINER = CURRENT_USER`, `FOR`/`TO`/`FROM`/`USER
/// CURRENT_USER`).
pub fn call_end(sql: &str, toks: &[Token], i: usize, function: &str) -> Option<usize> {
    let t = toks.get(i)?;
    let before = |back: usize| i.checked_sub(back).and_then(|j| toks.get(j));
    if !t.is_keyword(sql, function) || before(1).is_some_and(|p| p.is_punct(sql, ".")) {
        return None;
    }
    let next = toks.get(i + 1);
    if next.is_some_and(|n| n.is_punct(sql, "(")) {
        return toks
            .get(i + 2)
            .filter(|c| c.is_punct(sql, ")"))
            .map(|c| c.span.end);
    }
    let names_account = before(1).is_some_and(|p| {
        ["FOR", "TO", "FROM", "USER"]
            .iter()
            .any(|k| p.is_keyword(sql, k))
            || (p.is_punct(sql, "=") && before(2).is_some_and(|d| d.is_keyword(sql, "DEFINER")))
    });
    (function == "CURRENT_USER" && !names_account).then_some(t.span.end)
}

/// Each argument-less call of `function` replaced by `value` (see
/// [`substitute_row_count`]).
fn substitute_call(sql: &str, function: &str, value: &str, select: bool) -> RowCountText {
    let matcher = |s: &str, toks: &[Token], i: usize| {
        call_end(s, toks, i, function).map(|end| (end, value.to_string()))
    };
    substitute_with(sql, &matcher, select)
}

/// `sql` with each read of `@@last_insert_id` or `@@identity` (not the variable a SET
/// assigns) replaced by the session's value, select items keeping their names as
/// [`substitute_row_count`] keeps them.
pub fn substitute_last_insert_id_variables(sql: &str, value: u64, select: bool) -> RowCountText {
    let is_set = code_tokens(sql)
        .next()
        .is_some_and(|t| t.is_keyword(sql, "SET"));
    let value = format!("CAST({value} AS UNSIGNED)");
    let read = |s: &str, toks: &[Token], i: usize| {
        let t = toks.get(i)?;
        let assigned = is_set
            && toks
                .get(i + 1)
                .is_some_and(|n| n.is_punct(s, "=") || n.is_punct(s, ":="));
        (t.kind == TokenKind::SysVar
            && !assigned
            && crate::guard::is_session_value_variable(&crate::guard::sysvar_name(t.text(s))))
        .then(|| (t.span.end, value.clone()))
    };
    substitute_with(sql, &read, select)
}

/// What finds a call to replace at a token: where the call ends (a byte offset) and
/// the text that replaces it.
pub(crate) type CallMatcher<'a> = dyn Fn(&str, &[Token], usize) -> Option<(usize, String)> + 'a;

/// Each call `matcher` finds replaced by its value, select items keeping their names
/// as [`substitute_row_count`] keeps them.
pub(crate) fn substitute_with(sql: &str, matcher: &CallMatcher<'_>, select: bool) -> RowCountText {
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
    let mut named = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Some((call_end, value)) = matcher(sql, &toks, i) else {
            continue;
        };
        let value = value.as_str();
        // The item's alias goes after its end, which may come after this call.
        if let Some(&(item_start, item_end)) =
            items.iter().find(|(s, e)| (*s..*e).contains(&t.span.start))
        {
            if !named.contains(&item_start) {
                named.push(item_start);
                match has_alias(&sql[item_start..item_end]) {
                    Some(true) => {}
                    Some(false) if item_end - item_start <= LONGEST_ALIAS => {
                        out.push_str(&sql[last..t.span.start]);
                        out.push_str(value);
                        let rest = substitute_with(&sql[call_end..item_end], matcher, false);
                        match rest {
                            RowCountText::Substituted(r) => out.push_str(&r),
                            _ => out.push_str(&sql[call_end..item_end]),
                        }
                        out.push_str(" AS `");
                        out.push_str(&sql[item_start..item_end].replace('`', "``"));
                        out.push('`');
                        last = item_end;
                        continue;
                    }
                    _ => return RowCountText::NamesColumn,
                }
            }
        }
        if t.span.start < last {
            continue;
        }
        out.push_str(&sql[last..t.span.start]);
        out.push_str(value);
        last = call_end;
    }
    if last == 0 {
        return RowCountText::Unchanged;
    }
    out.push_str(&sql[last..]);
    RowCountText::Substituted(out)
}

/// Whether a select item ends with an alias: `expr AS name`, or a name right after a
/// closing parenthesis or a literal (`f(x) n`, `1 'n'`). None when that cannot be told
/// from the tokens (an item ending with a bare word after another word may be an
/// operator's operand: `x IS NULL`, `a DIV b`).
fn has_alias(item: &str) -> Option<bool> {
    let code: Vec<Token> = code_tokens(item).collect();
    let [.., before, name] = code.as_slice() else {
        return Some(false);
    };
    if before.is_keyword(item, "AS") {
        return Some(true);
    }
    let after_operand = before.is_punct(item, ")") || before.kind.is_literal();
    const NOT_NAMES: &[&str] = &["NULL", "TRUE", "FALSE", "UNKNOWN"];
    match name.kind {
        // Adjacent strings are one string ('a' 'b'), not a value and its name.
        TokenKind::String if before.kind == TokenKind::String => Some(false),
        TokenKind::String | TokenKind::QuotedIdent if after_operand => Some(true),
        TokenKind::Ident
            if after_operand && !NOT_NAMES.iter().any(|k| name.is_keyword(item, k)) =>
        {
            Some(true)
        }
        _ if name.is_punct(item, ")") || name.kind.is_literal() => Some(false),
        // `x IS [NOT] NULL`: a test, not a name.
        TokenKind::Ident
            if NOT_NAMES.iter().any(|k| name.is_keyword(item, k))
                && (before.is_keyword(item, "IS") || before.is_keyword(item, "NOT")) =>
        {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{
        sets_last_insert_id, substitute_last_insert_id, substitute_row_count,
        substitute_session_calls, tests_is_null, RowCountText,
    };

    #[test]
    fn session_calls_are_the_sessions_and_keep_their_column_names() {
        let values = [
            ("CONNECTION_ID", "CAST(7 AS UNSIGNED)".to_string()),
            ("USER", "'u@h'".to_string()),
        ];
        let sub = |sql: &str| match substitute_session_calls(sql, &values, true) {
            RowCountText::Substituted(t) => t,
            other => format!("{other:?}"),
        };
        assert_eq!(
            sub("SELECT user(), connection_id() + 1 FROM t WHERE b = CONNECTION_ID()"),
            "SELECT 'u@h' AS `user()`, CAST(7 AS UNSIGNED) + 1 AS `connection_id() + 1` FROM t WHERE b = CAST(7 AS UNSIGNED)"
        );
        assert_eq!(
            sub("SELECT concat(user(), connection_id()) x FROM t"),
            "SELECT concat('u@h', CAST(7 AS UNSIGNED)) x FROM t"
        );
        assert_eq!(
            substitute_session_calls("SELECT db.user() FROM t", &values, true),
            RowCountText::Unchanged
        );
    }

    #[test]
    fn current_user_is_a_call_without_parentheses_unless_it_names_an_account() {
        let values = [("CURRENT_USER", "'u@%'".to_string())];
        let sub = |sql: &str| match substitute_session_calls(sql, &values, true) {
            RowCountText::Substituted(t) => t,
            other => format!("{other:?}"),
        };
        assert_eq!(
            sub("SELECT current_user, a FROM t WHERE b = CURRENT_USER"),
            "SELECT 'u@%' AS `current_user`, a FROM t WHERE b = 'u@%'"
        );
        assert_eq!(
            sub("UPDATE t SET who = Current_User()"),
            "UPDATE t SET who = 'u@%'"
        );
        for sql in [
            "ALTER DEFINER = CURRENT_USER VIEW v AS SELECT 1",
            "SHOW GRANTS FOR CURRENT_USER",
            "SELECT t.current_user FROM t",
            "SELECT `current_user` FROM t",
            "SELECT 'CURRENT_USER'",
        ] {
            assert_eq!(sub(sql), "Unchanged", "{sql}");
        }
    }

    #[test]
    fn a_null_test_is_found_outside_strings_and_comments() {
        assert!(tests_is_null("SELECT * FROM t WHERE a is  null"));
        assert!(tests_is_null("DELETE FROM t WHERE ISNULL(a)"));
        assert!(!tests_is_null("SELECT * FROM t WHERE a IS NOT NULL"));
        assert!(!tests_is_null("SELECT 'a IS NULL' /* b IS NULL */ FROM t"));
        assert!(!tests_is_null("SELECT isnull FROM t"));
    }

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
            Some("INSERT INTO t VALUES (COALESCE(-1, 0 * 9223372036854775807)), (COALESCE(-1, 0 * 9223372036854775807))")
        );
        assert_eq!(
            text("SET @x = ROW_COUNT() + 1", 3, false).as_deref(),
            Some("SET @x = COALESCE(3, 0 * 9223372036854775807) + 1")
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
    fn last_insert_id_calls_become_the_sessions_value() {
        let sub = |sql: &str| match substitute_last_insert_id(sql, 7, true) {
            RowCountText::Substituted(s) => Some(s),
            _ => None,
        };
        assert_eq!(
            sub("SELECT id, LAST_INSERT_ID() FROM t WHERE id = last_insert_id()").as_deref(),
            Some("SELECT id, (7 | 0) AS `LAST_INSERT_ID()` FROM t WHERE id = (7 | 0)")
        );
        // With an argument it sets the value: not a read of it.
        assert_eq!(sub("SELECT LAST_INSERT_ID(5)"), None);
        assert!(sets_last_insert_id(
            "UPDATE s SET id = last_insert_id(id + 1)"
        ));
        for sql in [
            "SELECT LAST_INSERT_ID()",
            "SELECT 'LAST_INSERT_ID(1)'",
            "SELECT 1 /* LAST_INSERT_ID(1) */",
            "SELECT db.LAST_INSERT_ID(1)",
        ] {
            assert!(!sets_last_insert_id(sql), "{sql}");
        }
    }

    #[test]
    fn a_whole_select_item_keeps_its_name() {
        for (sql, want) in [
            (
                "SELECT ROW_COUNT() FROM t",
                "SELECT COALESCE(2, 0 * 9223372036854775807) AS `ROW_COUNT()` FROM t",
            ),
            (
                "SELECT id, row_count ( ) FROM t",
                "SELECT id, COALESCE(2, 0 * 9223372036854775807) AS `row_count ( )` FROM t",
            ),
            (
                "SELECT DISTINCT ROW_COUNT(), id FROM t",
                "SELECT DISTINCT COALESCE(2, 0 * 9223372036854775807) AS `ROW_COUNT()`, id FROM t",
            ),
            (
                "SELECT ROW_COUNT() AS rc FROM t",
                "SELECT COALESCE(2, 0 * 9223372036854775807) AS rc FROM t",
            ),
            (
                "SELECT ROW_COUNT() rc, 1 FROM t",
                "SELECT COALESCE(2, 0 * 9223372036854775807) rc, 1 FROM t",
            ),
            (
                "SELECT ROW_COUNT()",
                "SELECT COALESCE(2, 0 * 9223372036854775807) AS `ROW_COUNT()`",
            ),
            (
                "SELECT id FROM t WHERE k > ROW_COUNT() + 1",
                "SELECT id FROM t WHERE k > COALESCE(2, 0 * 9223372036854775807) + 1",
            ),
            (
                "SELECT id FROM t WHERE k IN (1, ROW_COUNT(), 3)",
                "SELECT id FROM t WHERE k IN (1, COALESCE(2, 0 * 9223372036854775807), 3)",
            ),
            (
                "WITH c AS (SELECT ROW_COUNT() + 1 AS r) SELECT r FROM c",
                "WITH c AS (SELECT COALESCE(2, 0 * 9223372036854775807) + 1 AS r) SELECT r FROM c",
            ),
        ] {
            assert_eq!(text(sql, 2, true).as_deref(), Some(want), "{sql}");
        }
    }

    #[test]
    fn an_item_calling_it_inside_an_expression_keeps_its_text_as_its_name() {
        for (sql, want) in [
            (
                "SELECT ROW_COUNT() + 1 FROM t",
                "SELECT COALESCE(2, 0 * 9223372036854775807) + 1 AS `ROW_COUNT() + 1` FROM t",
            ),
            (
                "select hex(concat(row_count())), `a``b`",
                "select hex(concat(COALESCE(2, 0 * 9223372036854775807))) AS `hex(concat(row_count()))`, `a``b`",
            ),
            (
                "SELECT id, ROW_COUNT() - ROW_COUNT() * 2 FROM t",
                "SELECT id, COALESCE(2, 0 * 9223372036854775807) - COALESCE(2, 0 * 9223372036854775807) * 2 AS `ROW_COUNT() - ROW_COUNT() * 2` FROM t",
            ),
            (
                "SELECT CONCAT('n', ROW_COUNT()) AS c, 1 + ROW_COUNT() 'd' FROM t",
                "SELECT CONCAT('n', COALESCE(2, 0 * 9223372036854775807)) AS c, 1 + COALESCE(2, 0 * 9223372036854775807) 'd' FROM t",
            ),
        ] {
            assert_eq!(text(sql, 2, true).as_deref(), Some(want), "{sql}");
        }
        assert_eq!(
            text("SELECT ROW_COUNT() IS NOT NULL FROM t", 2, true).as_deref(),
            Some("SELECT COALESCE(2, 0 * 9223372036854775807) IS NOT NULL AS `ROW_COUNT() IS NOT NULL` FROM t")
        );
        // An item whose end cannot be told from an alias keeps the refusal.
        for sql in [
            "SELECT ROW_COUNT() DIV x FROM t",
            "SELECT ROW_COUNT() MOD x FROM t",
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
            Some("INSERT INTO u SELECT COALESCE(2, 0 * 9223372036854775807) + 1 FROM t")
        );
    }
}
