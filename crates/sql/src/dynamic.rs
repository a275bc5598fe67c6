//! Where the text of dynamic SQL comes from: `PREPARE s FROM source` and `EXECUTE
//! IMMEDIATE source [USING ...]`. A string literal is read here; an expression made only
//! of literals, user variables, operators and pure built-in functions (`CONCAT`,
//! `SFORMAT`, `REPLACE`, `CAST`, ...) has no side effect, so the session may evaluate it
//! on the connection that holds the user variables and check the text like any
//! statement; anything else (other functions, system variables, ...) is text the compute
//! node cannot know before the storage node runs it.

use crate::classify::StatementKind;
use crate::lexer::{code_tokens, string_value, Token, TokenKind};

/// What the source of a dynamic statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynamicSource<'a> {
    /// A string literal, and its value.
    Literal(String),
    /// An expression the compute node may evaluate (`SELECT <text>`) without side effects.
    Evaluable(&'a str),
    /// An expression with a subquery, which MariaDB refuses (1970).
    Subquery,
    /// Any other expression: its value cannot be known here.
    Opaque,
}

/// A `PREPARE ... FROM` or `EXECUTE IMMEDIATE` statement's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dynamic<'a> {
    /// Where its text comes from.
    pub source: DynamicSource<'a>,
    /// `EXECUTE IMMEDIATE ... USING ...`: parameters follow.
    pub using: bool,
    /// The statement as MariaDB names it in messages (`EXECUTE IMMEDIATE`, `PREPARE..FROM`).
    pub what: &'static str,
}

impl Dynamic<'_> {
    /// MariaDB's ER_SUBQUERIES_NOT_SUPPORTED (1970) message for this statement.
    pub fn subquery_message(&self) -> String {
        format!(
            "{} does not support subqueries or stored functions",
            self.what
        )
    }
}

/// The statement name of `PREPARE name FROM ...`, `EXECUTE name [USING ...]` or
/// `DEALLOCATE|DROP PREPARE name`, in lower case (MariaDB's names ignore case); None
/// for other statements and `EXECUTE IMMEDIATE`.
pub fn prepared_name(sql: &str, kind: StatementKind) -> Option<String> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let at = match kind {
        StatementKind::Prepare => 1,
        StatementKind::Execute if !toks.get(1)?.is_keyword(sql, "IMMEDIATE") => 1,
        StatementKind::Deallocate => 2,
        _ => return None,
    };
    let name = toks.get(at).filter(|t| t.kind.is_ident())?;
    Some(crate::lexer::ident_value(name.text(sql)).to_lowercase())
}

/// True when `EXECUTE name` or `EXECUTE IMMEDIATE ...` has a USING clause.
pub fn has_using(sql: &str) -> bool {
    code_tokens(sql).any(|t| t.is_keyword(sql, "USING"))
}

/// The source of `PREPARE s FROM source` or `EXECUTE IMMEDIATE source [USING ...]`;
/// None for other statements.
pub fn dynamic_source(sql: &str, kind: StatementKind) -> Option<Dynamic<'_>> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let (start, what) = match kind {
        StatementKind::Prepare => {
            let from = toks.iter().position(|t| t.is_keyword(sql, "FROM"))?;
            (from + 1, "PREPARE..FROM")
        }
        StatementKind::Execute if toks.get(1)?.is_keyword(sql, "IMMEDIATE") => {
            (2, "EXECUTE IMMEDIATE")
        }
        _ => return None,
    };
    // The expression ends at USING (EXECUTE IMMEDIATE) or a `;` at depth 0.
    let mut depth = 0usize;
    let mut end = toks.len();
    for (i, t) in toks.iter().enumerate().skip(start) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && (t.is_keyword(sql, "USING") || t.is_punct(sql, ";")) {
            end = i;
            break;
        }
    }
    let using = toks.get(end).is_some_and(|t| t.is_keyword(sql, "USING"));
    let expr = toks.get(start..end).unwrap_or_default();
    let source = match expr {
        [] => DynamicSource::Opaque,
        [only] if only.kind == TokenKind::String => {
            DynamicSource::Literal(string_value(only.text(sql)).into_owned())
        }
        [first, .., last] | [first @ last] => classify_expression(sql, expr, first, last),
    };
    Some(Dynamic {
        source,
        using,
        what,
    })
}

fn classify_expression<'a>(
    sql: &'a str,
    expr: &[Token],
    first: &Token,
    last: &Token,
) -> DynamicSource<'a> {
    if expr.iter().any(|t| t.is_keyword(sql, "SELECT")) {
        return DynamicSource::Subquery;
    }
    let evaluable = expr.iter().enumerate().all(|(i, t)| match t.kind {
        k if k.is_literal() || k == TokenKind::UserVar => true,
        TokenKind::SysVar => session_variable_kept_in_step(t.text(sql)),
        // Operators; not `:=` (an assignment) nor `.` (a qualified, maybe stored, function).
        TokenKind::Punct => !matches!(t.text(sql), ":=" | "." | ";"),
        TokenKind::Ident => {
            let text = t.text(sql);
            let next = expr.get(i + 1);
            let qualified = next.is_some_and(|n| n.is_punct(sql, "."))
                || (i > 0 && expr[i - 1].is_punct(sql, "."));
            let called = next.is_some_and(|n| n.is_punct(sql, "("));
            // A word that is not called is a keyword, type or character set name
            // (`CAST(x AS CHAR)`, `CONVERT(x USING latin1)`, `_latin1 0x01`): a SELECT
            // without tables has no column it could read.
            !qualified && (!called || PURE_FUNCTIONS.iter().any(|f| text.eq_ignore_ascii_case(f)))
        }
        _ => false,
    });
    if evaluable {
        DynamicSource::Evaluable(&sql[first.span.start..last.span.end])
    } else {
        DynamicSource::Opaque
    }
}

/// Session variables whose value on the session's storage connection is the session's
/// own (the client's character sets, SQL mode, time zone): `@@x`, `@@session.x`,
/// `@@local.x`. Global values and the variables the compute node answers itself
/// (`@@version`, `@@hostname`, `@@last_insert_id`, ...) are not.
fn session_variable_kept_in_step(text: &str) -> bool {
    const KEPT: &[&str] = &[
        "character_set_client",
        "character_set_connection",
        "character_set_results",
        "collation_connection",
        "sql_mode",
        "time_zone",
        "lc_time_names",
        "div_precision_increment",
        "group_concat_max_len",
    ];
    let name = text.trim_start_matches('@');
    let name = ["session.", "local."]
        .iter()
        .find_map(|p| {
            name.get(..p.len())
                .filter(|head| head.eq_ignore_ascii_case(p))
                .map(|_| &name[p.len()..])
        })
        .unwrap_or(name);
    let name = name.trim_matches('`');
    KEPT.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// Built-in functions whose value depends only on their arguments (and the session's
/// character set and SQL mode): evaluating them once more on the session's connection
/// changes nothing. Functions that read or change state (`NEXTVAL`, `GET_LOCK`, `SLEEP`,
/// `LAST_INSERT_ID(x)`, `RAND`), tell about the storage server or its connection
/// (`DATABASE`, `USER`, `CONNECTION_ID`, `VERSION`), read files (`LOAD_FILE`) or may be
/// stored functions are not among them.
const PURE_FUNCTIONS: &[&str] = &[
    "CONCAT",
    "CONCAT_WS",
    "SFORMAT",
    "FORMAT",
    "REPLACE",
    "REPEAT",
    "SUBSTRING",
    "SUBSTR",
    "MID",
    "SUBSTRING_INDEX",
    "LEFT",
    "RIGHT",
    "LPAD",
    "RPAD",
    "TRIM",
    "LTRIM",
    "RTRIM",
    "UPPER",
    "LOWER",
    "UCASE",
    "LCASE",
    "HEX",
    "UNHEX",
    "CHAR",
    "CHR",
    "ASCII",
    "ORD",
    "LENGTH",
    "OCTET_LENGTH",
    "CHAR_LENGTH",
    "CHARACTER_LENGTH",
    "REVERSE",
    "INSERT",
    "INSTR",
    "LOCATE",
    "POSITION",
    "QUOTE",
    "SPACE",
    "ELT",
    "FIELD",
    "MAKE_SET",
    "EXPORT_SET",
    "CAST",
    "CONVERT",
    "IF",
    "IFNULL",
    "NULLIF",
    "COALESCE",
    "GREATEST",
    "LEAST",
    "ABS",
    "CEIL",
    "CEILING",
    "FLOOR",
    "ROUND",
    "TRUNCATE",
    "MOD",
    "CONV",
    "BIN",
    "OCT",
    "BIT_LENGTH",
    "STRCMP",
    "REGEXP_REPLACE",
    "REGEXP_SUBSTR",
    "TO_BASE64",
    "FROM_BASE64",
];

/// One value of `EXECUTE ... USING v1, v2, ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsingValue<'a> {
    /// An expression the compute node may evaluate (`SELECT <text>`) without side effects.
    Evaluable(&'a str),
    /// A subquery or stored function, which MariaDB refuses (1970).
    Subquery,
    /// `DEFAULT`, `IGNORE` or another expression whose value cannot be known here.
    Opaque,
}

/// The values of the USING clause of `EXECUTE name` or `EXECUTE IMMEDIATE source`
/// (empty without one), split at top-level commas.
pub fn using_values(sql: &str) -> Vec<UsingValue<'_>> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let mut depth = 0usize;
    let mut start = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_keyword(sql, "USING") {
            start = Some(i + 1);
            break;
        }
    }
    let Some(start) = start else {
        return Vec::new();
    };
    let mut items: Vec<&[Token]> = Vec::new();
    let mut from = start;
    depth = 0;
    let mut end = toks.len();
    for (i, t) in toks.iter().enumerate().skip(start) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(sql, ",") {
            items.push(toks.get(from..i).unwrap_or_default());
            from = i + 1;
        } else if depth == 0 && t.is_punct(sql, ";") {
            end = i;
            break;
        }
    }
    items.push(toks.get(from..end).unwrap_or_default());
    items
        .into_iter()
        .map(|item| match item {
            [] => UsingValue::Opaque,
            [only] if only.is_keyword(sql, "DEFAULT") || only.is_keyword(sql, "IGNORE") => {
                UsingValue::Opaque
            }
            [first, .., last] | [first @ last] => {
                match classify_expression(sql, item, first, last) {
                    DynamicSource::Evaluable(text) => UsingValue::Evaluable(text),
                    DynamicSource::Subquery => UsingValue::Subquery,
                    _ => UsingValue::Opaque,
                }
            }
        })
        .collect()
}

/// For each `?` parameter of a statement text, in order: whether it is a row count or
/// offset of a LIMIT clause (`LIMIT ?`, `LIMIT ?, ?`, `LIMIT ? OFFSET ?`), where the
/// value must be written as an integer.
pub fn placeholders(sql: &str) -> Vec<bool> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokenKind::Placeholder {
            continue;
        }
        let before = |n: usize| i.checked_sub(n).and_then(|j| toks.get(j));
        let limit_word = |t: Option<&Token>| {
            t.is_some_and(|t| t.is_keyword(sql, "LIMIT") || t.is_keyword(sql, "OFFSET"))
        };
        let in_limit = limit_word(before(1))
            || (before(1).is_some_and(|c| c.is_punct(sql, ","))
                && before(2).is_some_and(|v| {
                    v.kind == TokenKind::Placeholder || v.kind == TokenKind::Integer
                })
                && before(3).is_some_and(|l| l.is_keyword(sql, "LIMIT")));
        out.push(in_limit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;

    fn source(sql: &str) -> Option<(DynamicSource<'_>, bool)> {
        dynamic_source(sql, classify(sql)).map(|d| (d.source, d.using))
    }

    #[test]
    fn sources_of_dynamic_statements() {
        use DynamicSource::*;
        assert_eq!(
            source("PREPARE s FROM 'SELECT 1'"),
            Some((Literal("SELECT 1".into()), false))
        );
        assert_eq!(
            source("EXECUTE IMMEDIATE CONCAT('SELECT ', @a, ' FROM t') USING 1, @b"),
            Some((Evaluable("CONCAT('SELECT ', @a, ' FROM t')"), true))
        );
        assert_eq!(source("PREPARE s FROM @q"), Some((Evaluable("@q"), false)));
        assert_eq!(
            source("EXECUTE IMMEDIATE _latin1 0x01"),
            Some((Evaluable("_latin1 0x01"), false))
        );
        assert_eq!(
            source("EXECUTE IMMEDIATE concat_ws(',', 'a', 1.5)"),
            Some((Evaluable("concat_ws(',', 'a', 1.5)"), false))
        );
        assert_eq!(
            source("PREPARE s FROM (1 IN (SELECT * FROM t1))"),
            Some((Subquery, false))
        );
        for evaluable in [
            "EXECUTE IMMEDIATE REPLACE(@q, 'a', 'b')",
            "EXECUTE IMMEDIATE SFORMAT('CREATE VIEW v AS SELECT {} AS c', 1 + 2)",
            "PREPARE s FROM CONCAT('SELECT ', CAST(@n AS CHAR), ' ', CONVERT(@q USING latin1))",
            "EXECUTE IMMEDIATE IF(@a > 1, 'SELECT 1', 'SELECT 2')",
        ] {
            assert!(
                matches!(source(evaluable), Some((Evaluable(_), false))),
                "{evaluable}"
            );
        }
        assert!(matches!(
            source("EXECUTE IMMEDIATE SFORMAT('SELECT _utf8mb4 ''a'' COLLATE {}', @@collation_connection, @@session.character_set_connection)"),
            Some((Evaluable(_), false))
        ));
        for opaque in [
            "EXECUTE IMMEDIATE @@hostname",
            "EXECUTE IMMEDIATE CONCAT('SELECT ', @@global.sql_mode)",
            "EXECUTE IMMEDIATE CONCAT('SELECT ', @@version)",
            "EXECUTE IMMEDIATE CONCAT('SELECT ', f(1))",
            "EXECUTE IMMEDIATE CONCAT('SELECT ', db.concat(1))",
            "EXECUTE IMMEDIATE CONCAT('SELECT ', NEXTVAL(s))",
            "EXECUTE IMMEDIATE CONCAT('SELECT ', DATABASE())",
            "PREPARE s FROM @a := 'SELECT 1'",
        ] {
            assert_eq!(source(opaque), Some((Opaque, false)), "{opaque}");
        }
        assert_eq!(source("EXECUTE s USING @a"), None);
        assert_eq!(source("SELECT 1"), None);
    }

    #[test]
    fn names_of_prepared_statements() {
        use super::prepared_name;
        assert_eq!(
            prepared_name("PREPARE Stmt4 FROM 'SHOW TABLES'", StatementKind::Prepare).as_deref(),
            Some("stmt4")
        );
        assert_eq!(
            prepared_name("EXECUTE `s` USING @a", StatementKind::Execute).as_deref(),
            Some("s")
        );
        assert_eq!(
            prepared_name("EXECUTE IMMEDIATE 'SHOW TABLES'", StatementKind::Execute),
            None
        );
        assert_eq!(
            prepared_name("DEALLOCATE PREPARE s", StatementKind::Deallocate).as_deref(),
            Some("s")
        );
        assert_eq!(
            prepared_name("DROP PREPARE S", StatementKind::Deallocate).as_deref(),
            Some("s")
        );
    }
}

#[cfg(test)]
mod using_tests {
    use super::*;

    #[test]
    fn using_values_and_limit_placeholders() {
        use UsingValue::*;
        assert_eq!(
            using_values("EXECUTE s USING @a, 1, CONCAT('x', @b), DEFAULT"),
            vec![
                Evaluable("@a"),
                Evaluable("1"),
                Evaluable("CONCAT('x', @b)"),
                Opaque
            ]
        );
        assert_eq!(
            using_values("EXECUTE IMMEDIATE 'SELECT ?' USING (SELECT 1)"),
            vec![Subquery]
        );
        assert!(using_values("EXECUTE s").is_empty());
        assert_eq!(
            placeholders("SELECT ? FROM t WHERE a = '?' AND b = ? LIMIT ?, ?"),
            vec![false, false, true, true]
        );
        assert_eq!(placeholders("SELECT 1 LIMIT ? OFFSET ?"), vec![true, true]);
        assert_eq!(placeholders("SELECT 1 LIMIT 2, ?"), vec![true]);
    }
}
