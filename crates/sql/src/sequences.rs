//! The uses of MariaDB sequences in a statement's text: `NEXTVAL(s)`, `LASTVAL(s)`,
//! `SETVAL(s, ...)`, `NEXT VALUE FOR s`, `PREVIOUS VALUE FOR s`. The sequence is a table
//! to privilege checks ([`crate::table_references`] lists it: INSERT to take or set
//! values, SELECT to read the last one) and to the planner, which runs them where the
//! sequence is.

use std::ops::Range;

use crate::lexer::{code_tokens, ident_value, Token};
use crate::search::contains_ignore_ascii_case;

/// One use of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceUse {
    /// Its bytes in the text (`NEXTVAL(s)`, `NEXT VALUE FOR db.s`).
    pub span: Range<usize>,
    /// The sequence's database as written, if qualified (unquoted).
    pub schema: Option<String>,
    /// The sequence's name (unquoted).
    pub name: String,
    /// True when it takes or sets a value (NEXTVAL, NEXT VALUE FOR, SETVAL); false when
    /// it reads the session's last one (LASTVAL, PREVIOUS VALUE FOR).
    pub takes: bool,
}

/// False when `sql` surely uses no sequence: a look at its bytes that spares the lexer
/// every INSERT ... VALUES.
pub fn may_use_sequences(sql: &str) -> bool {
    let has = |needle: &[u8]| contains_ignore_ascii_case(sql.as_bytes(), needle);
    has(b"val")
        && (has(b"nextval")
            || has(b"lastval")
            || has(b"setval")
            || (has(b"value") && has(b"for") && (has(b"next") || has(b"previous"))))
}

/// Every use of a sequence in `sql`, in text order.
pub fn sequence_uses(sql: &str) -> Vec<SequenceUse> {
    if !may_use_sequences(sql) {
        return Vec::new();
    }
    let code: Vec<Token> = code_tokens(sql).collect();
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    let mut uses = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let qualified = i > 0 && code[i - 1].is_punct(sql, ".");
        let call = !qualified
            && ["NEXTVAL", "LASTVAL", "SETVAL"].iter().any(|f| kw(i, f))
            && code.get(i + 1).is_some_and(|t| t.is_punct(sql, "("));
        let value_for =
            (kw(i, "NEXT") || kw(i, "PREVIOUS")) && kw(i + 1, "VALUE") && kw(i + 2, "FOR");
        let found = if call {
            name_at(&code, sql, i + 2)
                .and_then(|(schema, name, _)| Some((schema, name, closing(&code, sql, i + 1)?)))
        } else if value_for {
            name_at(&code, sql, i + 3).map(|(schema, name, next)| (schema, name, next - 1))
        } else {
            None
        };
        match found {
            Some((schema, name, last)) => {
                uses.push(SequenceUse {
                    span: code[i].span.start..code[last].span.end,
                    schema,
                    name,
                    takes: !(kw(i, "LASTVAL") || kw(i, "PREVIOUS")),
                });
                i = last + 1;
            }
            None => i += 1,
        }
    }
    uses
}

/// `sql` with `NEXT VALUE FOR s` written `NEXTVAL(s)` and `PREVIOUS VALUE FOR s`
/// written `LASTVAL(s)`: the same values, in the function form a parser that does not
/// know MariaDB's `... VALUE FOR` reads (a column named by such an item gets the
/// function's text as its name there). Borrowed when there is nothing to rewrite.
pub fn sequence_calls_as_functions(sql: &str) -> std::borrow::Cow<'_, str> {
    let uses: Vec<SequenceUse> = sequence_uses(sql)
        .into_iter()
        .filter(|u| {
            sql.get(u.span.clone())
                .is_some_and(|t| !t.trim_end().ends_with(')'))
        })
        .collect();
    if uses.is_empty() {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8 * uses.len());
    let mut at = 0;
    for u in &uses {
        let Some(text) = sql.get(u.span.clone()) else {
            return std::borrow::Cow::Borrowed(sql);
        };
        // The name is what follows `FOR`, as written (quotes and qualifier kept).
        let code: Vec<Token> = code_tokens(text).collect();
        let Some(name) = code.get(3).and_then(|first| text.get(first.span.start..)) else {
            return std::borrow::Cow::Borrowed(sql);
        };
        let function = if u.takes { "NEXTVAL" } else { "LASTVAL" };
        out.push_str(&sql[at..u.span.start]);
        out.push_str(&format!("{function}({name})"));
        at = u.span.end;
    }
    out.push_str(&sql[at..]);
    std::borrow::Cow::Owned(out)
}

/// The sequence `SHOW CREATE SEQUENCE [db.]s` names: (schema, name); None for other
/// statements.
pub fn show_create_sequence(sql: &str) -> Option<(Option<String>, String)> {
    let code: Vec<Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if !(kw(0, "SHOW") && kw(1, "CREATE") && kw(2, "SEQUENCE")) {
        return None;
    }
    let (schema, name, next) = name_at(&code, sql, 3)?;
    (next == code.len()).then_some((schema, name))
}

/// A possibly qualified name at `code[i..]` (code tokens): (schema, name, index after it).
pub fn name_at(code: &[Token], sql: &str, i: usize) -> Option<(Option<String>, String, usize)> {
    let ident = |j: usize| {
        code.get(j)
            .filter(|t| t.kind.is_ident())
            .map(|t| ident_value(t.text(sql)).into_owned())
    };
    let first = ident(i)?;
    if code.get(i + 1).is_some_and(|t| t.is_punct(sql, ".")) {
        let second = ident(i + 2)?;
        return Some((Some(first), second, i + 3));
    }
    Some((None, first, i + 1))
}

/// The index of the `)` closing the `(` at `open`.
fn closing(code: &[Token], sql: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in code.iter().enumerate().skip(open) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_create_sequence_names_its_sequence() {
        assert_eq!(
            show_create_sequence("show create sequence `d`.s;"),
            Some((Some("d".to_string()), "s".to_string()))
        );
        assert_eq!(show_create_sequence("SHOW CREATE TABLE s"), None);
        assert_eq!(show_create_sequence("SHOW CREATE SEQUENCE s x"), None);
    }

    #[test]
    fn sequence_uses_are_told_from_columns_and_functions_of_that_name() {
        assert_eq!(
            sequence_uses("SELECT nextval, val FROM t WHERE val = 1"),
            []
        );
        assert_eq!(sequence_uses("SELECT db.nextval(1)"), []);
        let sql = "SELECT NEXTVAL(`a b`) + previous value for d.s, SETVAL(s, 5)";
        let found = sequence_uses(sql);
        let uses: Vec<(Option<&str>, &str, bool, &str)> = found
            .iter()
            .map(|u| {
                (
                    u.schema.as_deref(),
                    u.name.as_str(),
                    u.takes,
                    &sql[u.span.clone()],
                )
            })
            .collect();
        assert_eq!(
            uses,
            [
                (None, "a b", true, "NEXTVAL(`a b`)"),
                (Some("d"), "s", false, "previous value for d.s"),
                (None, "s", true, "SETVAL(s, 5)"),
            ]
        );
    }

    #[test]
    fn value_for_forms_read_as_functions() {
        assert_eq!(
            sequence_calls_as_functions(
                "SELECT NEXT VALUE FOR s1, previous value for `d`.s2 FROM t"
            ),
            "SELECT NEXTVAL(s1), LASTVAL(`d`.s2) FROM t"
        );
        assert_eq!(
            sequence_calls_as_functions("SELECT nextval(s1), 1"),
            "SELECT nextval(s1), 1"
        );
    }
}
