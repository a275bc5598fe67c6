//! The trivial SELECTs that drivers and tools send at connect time (`SELECT
//! @@version_comment LIMIT 1`, `SELECT DATABASE()`, Connector/J's list of `@@session.x AS
//! x`): no FROM, only system variables, a few session functions and literals. The session
//! answers them itself; anything else is `None` and goes to a storage node.

use crate::keywords::is_reserved;
use crate::lexer::{ident_value, string_value, Token, TokenKind};
use crate::parser::Parser;
use crate::set::{split_sys_var, VarScope};
use crate::show::Limit;

/// A session function a trivial SELECT may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectFunction {
    /// `DATABASE()` / `SCHEMA()`.
    Database,
    /// `CONNECTION_ID()`.
    ConnectionId,
    /// `LAST_INSERT_ID()` (no argument).
    LastInsertId,
    /// `VERSION()`.
    Version,
    /// `USER()`.
    User,
    /// `CURRENT_USER()` / `CURRENT_USER`.
    CurrentUser,
    /// `SESSION_USER()`.
    SessionUser,
    /// `CURRENT_ROLE()` / `CURRENT_ROLE`.
    CurrentRole,
    /// `SYSTEM_USER()`.
    SystemUser,
    /// `FOUND_ROWS()`.
    FoundRows,
    /// `ROW_COUNT()`.
    RowCount,
}

/// A literal in a trivial SELECT.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectLiteral {
    /// An integer that fits i64.
    Int(i64),
    /// Any other number, as written (decimal, float, huge integer).
    Number(String),
    /// A string's value.
    Str(String),
    /// NULL.
    Null,
}

/// What one select item computes.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectExpr {
    /// A system variable; `scope` None is `@@name` (session value, else global).
    SysVar {
        /// `@@session.` / `@@local.` / `@@global.` / ...
        scope: Option<VarScope>,
        /// Variable name, lowercased.
        name: String,
    },
    /// A session function.
    Function(SelectFunction),
    /// A literal.
    Literal(SelectLiteral),
}

/// One item of a trivial SELECT and the column name MySQL gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// What to compute.
    pub expr: SelectExpr,
    /// Column name: the alias, else the expression as written (a string's value for strings).
    pub name: String,
}

/// A SELECT the session answers without a storage node.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSelect {
    /// The select list.
    pub items: Vec<SelectItem>,
    /// The LIMIT clause, if any.
    pub limit: Option<Limit>,
}

impl SimpleSelect {
    /// Whether the result has its one row (`LIMIT 0` or an offset leave it empty).
    pub fn returns_row(&self) -> bool {
        self.limit.is_none_or(|l| l.offset == 0 && l.count > 0)
    }
}

const FUNCTIONS: [(&str, SelectFunction); 12] = [
    ("DATABASE", SelectFunction::Database),
    ("SCHEMA", SelectFunction::Database),
    ("CONNECTION_ID", SelectFunction::ConnectionId),
    ("LAST_INSERT_ID", SelectFunction::LastInsertId),
    ("VERSION", SelectFunction::Version),
    ("USER", SelectFunction::User),
    ("CURRENT_USER", SelectFunction::CurrentUser),
    ("CURRENT_ROLE", SelectFunction::CurrentRole),
    ("SESSION_USER", SelectFunction::SessionUser),
    ("SYSTEM_USER", SelectFunction::SystemUser),
    ("FOUND_ROWS", SelectFunction::FoundRows),
    ("ROW_COUNT", SelectFunction::RowCount),
];

/// Recognises a trivial SELECT; None means "not one of those, forward it".
pub fn parse_simple_select(sql: &str) -> Option<SimpleSelect> {
    if !may_be_simple(sql) {
        return None;
    }
    let mut p = Parser::new(sql);
    if !p.eat_keyword("SELECT") {
        return None;
    }
    let mut items = Vec::new();
    loop {
        items.push(item(&mut p)?);
        if !p.eat_punct(",") {
            break;
        }
    }
    if p.eat_keyword("FROM") && !p.eat_keyword("DUAL") {
        return None;
    }
    let limit = if p.eat_keyword("LIMIT") {
        let first = p.unsigned().ok()?;
        if p.eat_punct(",") {
            Some(Limit {
                offset: first,
                count: p.unsigned().ok()?,
            })
        } else if p.eat_keyword("OFFSET") {
            Some(Limit {
                offset: p.unsigned().ok()?,
                count: first,
            })
        } else {
            Some(Limit {
                offset: 0,
                count: first,
            })
        }
    } else {
        None
    };
    p.at_end().then_some(SimpleSelect { items, limit })
}

/// Looks at the first select item only, without tokenising the rest: an application's
/// `SELECT c FROM t WHERE ...` is rejected after two tokens (this runs for every SELECT).
fn may_be_simple(sql: &str) -> bool {
    let mut toks = crate::lexer::Lexer::new(sql).filter(|t| t.kind.is_code());
    if !toks.next().is_some_and(|t| t.is_keyword(sql, "SELECT")) {
        return false;
    }
    toks.next().is_some_and(|t| may_begin_simple(sql, t))
}

/// Whether a trivial SELECT's first item may start with `first` (the token after SELECT).
pub(crate) fn may_begin_simple(sql: &str, first: Token) -> bool {
    let text = first.text(sql);
    match first.kind {
        TokenKind::SysVar
        | TokenKind::Integer
        | TokenKind::Decimal
        | TokenKind::Float
        | TokenKind::String => true,
        TokenKind::Punct => text == "-" || text == "+",
        TokenKind::Ident => {
            text.eq_ignore_ascii_case("NULL")
                || FUNCTIONS
                    .iter()
                    .any(|(name, _)| name.eq_ignore_ascii_case(text))
        }
        _ => false,
    }
}

fn item(p: &mut Parser<'_>) -> Option<SelectItem> {
    let src = p.src();
    let first = p.advance()?;
    let text = p.text(first);
    let (expr, last, default_name) = match first.kind {
        TokenKind::SysVar => {
            let (scope, name) = split_sys_var(text);
            (SelectExpr::SysVar { scope, name }, first, None)
        }
        TokenKind::Integer | TokenKind::Decimal | TokenKind::Float => {
            (SelectExpr::Literal(number(text, false)), first, None)
        }
        TokenKind::Punct if text == "-" || text == "+" => {
            let n = p.advance()?;
            if !matches!(
                n.kind,
                TokenKind::Integer | TokenKind::Decimal | TokenKind::Float
            ) {
                return None;
            }
            let literal = match number(p.text(n), text == "-") {
                SelectLiteral::Int(i) => SelectLiteral::Number(format!("+{i}")),
                other => other,
            };
            (SelectExpr::Literal(literal), n, None)
        }
        TokenKind::String => {
            let value = string_value(text).into_owned();
            (
                SelectExpr::Literal(SelectLiteral::Str(value.clone())),
                first,
                Some(value),
            )
        }
        TokenKind::Ident if text.eq_ignore_ascii_case("NULL") => (
            SelectExpr::Literal(SelectLiteral::Null),
            first,
            Some("NULL".to_string()),
        ),
        TokenKind::Ident => {
            let (_, function) = FUNCTIONS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(text))?;
            let last = if p.eat_punct("(") {
                let close = p.peek().filter(|t| t.is_punct(src, ")"))?;
                p.advance();
                close
            } else if matches!(
                *function,
                SelectFunction::CurrentUser | SelectFunction::CurrentRole
            ) {
                first
            } else {
                return None;
            };
            (SelectExpr::Function(*function), last, None)
        }
        _ => return None,
    };
    // `'a' 'b'` is one concatenated string in MySQL, not a string with an alias.
    if first.kind == TokenKind::String && p.peek().is_some_and(|t| t.kind == TokenKind::String) {
        return None;
    }
    let name = match alias(p)? {
        Some(alias) => alias,
        None => default_name.unwrap_or_else(|| src[first.span.start..last.span.end].to_string()),
    };
    Some(SelectItem { expr, name })
}

/// An `Int` only for a plain integer (no sign, no leading zero): its column is one the
/// compute node describes as MariaDB does; a signed or zero-led one's type, length and
/// name follow rules of MariaDB's own (`-999999999` is a BIGINT of length 10, `00012` an
/// INT of length 5, `+5` is named `5`), so the storage node answers it.
fn number(text: &str, negative: bool) -> SelectLiteral {
    let signed = if negative {
        format!("-{text}")
    } else {
        text.to_string()
    };
    let plain = text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    match signed.parse::<i64>() {
        Ok(i) if plain && !negative => SelectLiteral::Int(i),
        _ => SelectLiteral::Number(signed),
    }
}

/// `[AS] alias`: Some(None) when there is none, None when the text after AS is no alias.
fn alias(p: &mut Parser<'_>) -> Option<Option<String>> {
    let explicit = p.eat_keyword("AS");
    let Some(t) = p.peek() else {
        return if explicit { None } else { Some(None) };
    };
    let name = alias_name(p, t, explicit);
    if name.is_some() {
        p.advance();
    } else if explicit {
        return None;
    }
    Some(name)
}

fn alias_name(p: &Parser<'_>, t: Token, explicit: bool) -> Option<String> {
    let text = p.text(t);
    match t.kind {
        TokenKind::QuotedIdent => Some(ident_value(text).into_owned()),
        TokenKind::String => Some(string_value(text).into_owned()),
        TokenKind::Ident if explicit || !is_reserved(text) => Some(text.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SelectExpr as E;
    use SelectFunction as F;
    use SelectLiteral as L;

    fn var(scope: Option<VarScope>, name: &str) -> E {
        E::SysVar {
            scope,
            name: name.into(),
        }
    }

    fn items(sql: &str) -> Vec<(E, String)> {
        parse_simple_select(sql)
            .unwrap_or_else(|| panic!("{sql}: not recognised"))
            .items
            .into_iter()
            .map(|i| (i.expr, i.name))
            .collect()
    }

    #[test]
    fn recognises_connect_time_selects_and_names_columns_like_mysql() {
        let s = |x: &str| x.to_string();
        let cases: Vec<(&str, Vec<(E, String)>)> = vec![
            // mysql / mariadb CLI.
            ("select @@version_comment limit 1", vec![(var(None, "version_comment"), s("@@version_comment"))]),
            ("SELECT DATABASE()", vec![(E::Function(F::Database), s("DATABASE()"))]),
            ("select database( )", vec![(E::Function(F::Database), s("database( )"))]),
            ("SELECT USER()", vec![(E::Function(F::User), s("USER()"))]),
            // MySQL Connector/J 8.
            ("select @@session.transaction_read_only", vec![(var(Some(VarScope::Session), "transaction_read_only"), s("@@session.transaction_read_only"))]),
            ("SELECT @@session.tx_isolation", vec![(var(Some(VarScope::Session), "tx_isolation"), s("@@session.tx_isolation"))]),
            (
                "/* mysql-connector-java-8.0.33 (Revision: 7d6b0800528b6b25c68b52dc10d6c1c8429c100c) */SELECT  @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@license AS license, @@transaction_isolation AS transaction_isolation",
                vec![
                    (var(Some(VarScope::Session), "auto_increment_increment"), s("auto_increment_increment")),
                    (var(None, "character_set_client"), s("character_set_client")),
                    (var(None, "license"), s("license")),
                    (var(None, "transaction_isolation"), s("transaction_isolation")),
                ],
            ),
            // MariaDB Connector/J.
            (
                "SELECT @@max_allowed_packet,@@system_time_zone,@@time_zone,@@auto_increment_increment",
                vec![
                    (var(None, "max_allowed_packet"), s("@@max_allowed_packet")),
                    (var(None, "system_time_zone"), s("@@system_time_zone")),
                    (var(None, "time_zone"), s("@@time_zone")),
                    (var(None, "auto_increment_increment"), s("@@auto_increment_increment")),
                ],
            ),
            // Go driver, PyMySQL, mysql2.
            ("SELECT @@max_allowed_packet", vec![(var(None, "max_allowed_packet"), s("@@max_allowed_packet"))]),
            ("SELECT @@GLOBAL.Max_Allowed_Packet", vec![(var(Some(VarScope::Global), "max_allowed_packet"), s("@@GLOBAL.Max_Allowed_Packet"))]),
            ("SELECT CONNECTION_ID()", vec![(E::Function(F::ConnectionId), s("CONNECTION_ID()"))]),
            ("SELECT LAST_INSERT_ID() AS id", vec![(E::Function(F::LastInsertId), s("id"))]),
            ("select version(), current_user, CURRENT_USER(), session_user(), system_user(), schema()", vec![
                (E::Function(F::Version), s("version()")),
                (E::Function(F::CurrentUser), s("current_user")),
                (E::Function(F::CurrentUser), s("CURRENT_USER()")),
                (E::Function(F::SessionUser), s("session_user()")),
                (E::Function(F::SystemUser), s("system_user()")),
                (E::Function(F::Database), s("schema()")),
            ]),
            ("SELECT FOUND_ROWS(), ROW_COUNT()", vec![(E::Function(F::FoundRows), s("FOUND_ROWS()")), (E::Function(F::RowCount), s("ROW_COUNT()"))]),
            // Connection validation queries of pools.
            ("SELECT 1", vec![(E::Literal(L::Int(1)), s("1"))]),
            ("/* ping */ SELECT 1 FROM DUAL", vec![(E::Literal(L::Int(1)), s("1"))]),
            ("SELECT +5, 007, 0", vec![
                (E::Literal(L::Number("+5".into())), s("+5")),
                (E::Literal(L::Number("007".into())), s("007")),
                (E::Literal(L::Int(0)), s("0")),
            ]),
            ("select -5, 1.50, 1e3, 'it''s', NULL, null", vec![
                (E::Literal(L::Number("-5".into())), s("-5")),
                (E::Literal(L::Number("1.50".into())), s("1.50")),
                (E::Literal(L::Number("1e3".into())), s("1e3")),
                (E::Literal(L::Str("it's".into())), s("it's")),
                (E::Literal(L::Null), s("NULL")),
                (E::Literal(L::Null), s("NULL")),
            ]),
            ("SELECT 1 x, 2 AS `y z`, 3 'w', 4 AS \"v\"", vec![
                (E::Literal(L::Int(1)), s("x")),
                (E::Literal(L::Int(2)), s("y z")),
                (E::Literal(L::Int(3)), s("w")),
                (E::Literal(L::Int(4)), s("v")),
            ]),
            ("SELECT @@version_comment AS from_alias;", vec![(var(None, "version_comment"), s("from_alias"))]),
        ];
        for (sql, expected) in cases {
            assert_eq!(items(sql), expected, "parsing {sql}");
        }
    }

    #[test]
    fn limit_decides_whether_the_row_is_returned() {
        let cases = [
            ("SELECT @@version_comment LIMIT 1", true),
            ("SELECT 1", true),
            ("SELECT 1 LIMIT 0", false),
            ("SELECT 1 LIMIT 1, 1", false),
            ("SELECT 1 LIMIT 5 OFFSET 0", true),
        ];
        for (sql, returns_row) in cases {
            let select =
                parse_simple_select(sql).unwrap_or_else(|| panic!("{sql}: not recognised"));
            assert_eq!(select.returns_row(), returns_row, "{sql}");
        }
    }

    #[test]
    fn anything_else_is_forwarded() {
        for sql in [
            "SELECT * FROM t",
            "SELECT @@version_comment FROM t",
            "SELECT a",
            "SELECT NOW()",
            "SELECT 1 + 1",
            "SELECT LAST_INSERT_ID(5)",
            "SELECT DATABASE",
            "SELECT @x",
            "SELECT ?",
            "SELECT 1 FOR UPDATE",
            "SELECT 1 LIMIT ?",
            "SELECT 1 AS",
            "SELECT 1,",
            "SELECT",
            "SELECT 1 UNION SELECT 2",
            "SELECT 'a' 'b'",
            "SELECT 'a' AS 'b' 'c'",
            "SELECT SQL_NO_CACHE 1",
            "(SELECT 1)",
            "INSERT INTO t VALUES (1)",
            "SELECT 'unterminated",
        ] {
            assert_eq!(parse_simple_select(sql), None, "{sql} should be forwarded");
        }
    }
}
