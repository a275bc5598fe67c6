//! MariaDB's `SET STATEMENT var = value [, ...] FOR statement`: session variables that
//! hold for one statement only. The session checks the assignments as a SET's, runs the
//! inner statement as itself, and has every storage node that runs part of it run that
//! part under the same assignments (the storage node validates them, as MariaDB does).

use crate::error::SqlError;
use crate::lexer::{ident_value, Token, TokenKind};
use crate::parser::Parser;
use crate::set::{expect_assign, parse_expr_before, specialise, NamedScope, SetItem};

/// A parsed `SET STATEMENT ... FOR ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetStatement<'a> {
    /// The assignments, as a SET of session variables would have them.
    pub items: Vec<SetItem>,
    /// The assignments' source text (`a = 1, b = 'x'`), sent to storage nodes as is.
    pub assignments: &'a str,
    /// The statement they apply to (may itself be a `SET STATEMENT`).
    pub inner: &'a str,
}

/// True when `sql` starts `SET STATEMENT` (a cheap test before [`parse_set_statement`]).
pub fn is_set_statement(sql: &str) -> bool {
    let mut toks = crate::lexer::code_tokens(sql);
    toks.next().is_some_and(|t| t.is_keyword(sql, "SET"))
        && toks.next().is_some_and(|t| t.is_keyword(sql, "STATEMENT"))
        && !toks
            .next()
            .is_some_and(|t| t.is_punct(sql, "=") || t.is_punct(sql, ":="))
}

/// Parses `SET STATEMENT name = expr [, name = expr ...] FOR statement`. As in MariaDB,
/// the names are plain identifiers (no scope, no `@@`, no user variables).
pub fn parse_set_statement(sql: &str) -> Result<SetStatement<'_>, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("SET")?;
    p.expect_keyword("STATEMENT")?;
    let mut items = Vec::new();
    let mut first: Option<Token> = None;
    let mut last;
    loop {
        let tok = match p.peek() {
            Some(t)
                if t.kind == TokenKind::QuotedIdent
                    || (t.kind == TokenKind::Ident && !t.is_keyword(sql, "FOR")) =>
            {
                t
            }
            _ => return Err(p.error("variable")),
        };
        first.get_or_insert(tok);
        p.advance();
        let name = ident_value(tok.text(sql)).to_lowercase();
        expect_assign(&mut p)?;
        let value = parse_expr_before(&mut p, Some("FOR"))?;
        last = p.previous();
        items.push(specialise(NamedScope::Bare, name, value)?);
        if !p.eat_punct(",") {
            break;
        }
    }
    p.expect_keyword("FOR")?;
    let (Some(first), Some(last)) = (first, last) else {
        return Err(p.error("variable"));
    };
    if p.at_end() {
        return Err(p.error("statement"));
    }
    let inner = p.rest_text()?;
    Ok(SetStatement {
        items,
        assignments: &sql[first.span.start..last.span.end],
        inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::assert_syntax_errors;

    #[test]
    fn assignments_and_inner_statement() {
        let s = parse_set_statement(
            "SET STATEMENT max_statement_time = 1, sql_mode = CONCAT(@@sql_mode, ',ANSI') FOR SELECT a FROM t FOR UPDATE",
        )
        .unwrap();
        assert_eq!(
            s.assignments,
            "max_statement_time = 1, sql_mode = CONCAT(@@sql_mode, ',ANSI')"
        );
        assert_eq!(s.inner, "SELECT a FROM t FOR UPDATE");
        let names: Vec<String> = s
            .items
            .iter()
            .map(|i| match i {
                SetItem::System { name, .. } => name.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["max_statement_time", "sql_mode"]);
        let nested =
            parse_set_statement("set statement a=1 for set statement b=2 for do 1;").unwrap();
        assert_eq!(nested.inner, "set statement b=2 for do 1");
        assert!(is_set_statement(nested.inner));
        assert!(!is_set_statement("SET statement = 1"));
    }

    #[test]
    fn malformed_set_statement_is_a_syntax_error_where_mariadb_reports_it() {
        assert_syntax_errors(
            |sql| parse_set_statement(sql).map(|s| s.items),
            &[
                ("SET STATEMENT @@x=1 FOR SELECT 1", "@@x=1 FOR SELECT 1"),
                ("SET STATEMENT @x=1 FOR SELECT 1", "@x=1 FOR SELECT 1"),
                ("SET STATEMENT session x=1 FOR SELECT 1", "x=1 FOR SELECT 1"),
                ("SET STATEMENT x=1, FOR SELECT 1", "FOR SELECT 1"),
                ("SET STATEMENT FOR SELECT 1", "FOR SELECT 1"),
                ("SET STATEMENT x=1 FOR", ""),
            ],
        );
    }
}
