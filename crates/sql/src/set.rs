//! `SET` statements: session and global variables, user variables, `NAMES`, `CHARACTER
//! SET`, `TRANSACTION` and autocommit. The session applies the items it tracks locally and
//! keeps each value's source text for the rest (e.g. to replay on backend connections).

use crate::error::SqlError;
use crate::lexer::{ident_value, string_value, user_var_name, Span, Token, TokenKind};
use crate::parser::Parser;

/// Scope of a system variable assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarScope {
    /// `SESSION`, `LOCAL`, `@@session.`, `@@local.`, `@@name` or no scope at all.
    Session,
    /// `GLOBAL` or `@@global.`.
    Global,
    /// `PERSIST` or `@@persist.` (MySQL 8).
    Persist,
    /// `PERSIST_ONLY` or `@@persist_only.` (MySQL 8).
    PersistOnly,
}

/// Which transactions a transaction characteristic applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxScope {
    /// Only the next transaction: `SET TRANSACTION ...` or `SET @@transaction_isolation = ..`.
    Next,
    /// Every later transaction of this session.
    Session,
    /// Every later session (server-wide default).
    Global,
}

/// A transaction isolation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsolationLevel {
    /// READ UNCOMMITTED.
    ReadUncommitted,
    /// READ COMMITTED.
    ReadCommitted,
    /// REPEATABLE READ (MySQL's default).
    RepeatableRead,
    /// SERIALIZABLE.
    Serializable,
}

impl IsolationLevel {
    /// The level as `@@transaction_isolation` shows it: `READ-COMMITTED`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ-UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ-COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE-READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }

    /// The level as SQL writes it (`SET TRANSACTION ISOLATION LEVEL READ COMMITTED`).
    pub fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }

    /// Parses a variable value: `READ-COMMITTED` style (case-insensitive) or the enum index 0-3.
    pub fn from_variable_value(value: &SetValue) -> Option<IsolationLevel> {
        const LEVELS: [IsolationLevel; 4] = [
            IsolationLevel::ReadUncommitted,
            IsolationLevel::ReadCommitted,
            IsolationLevel::RepeatableRead,
            IsolationLevel::Serializable,
        ];
        match value {
            SetValue::Str(s) | SetValue::Ident(s) => LEVELS
                .into_iter()
                .find(|l| l.as_str().eq_ignore_ascii_case(s)),
            SetValue::Int(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| LEVELS.get(i).copied()),
            _ => None,
        }
    }
}

/// A literal value of a `SET` assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// An integer that fits i64 (sign included).
    Int(i64),
    /// Any other number (decimal, float, huge integer), as written.
    Number(String),
    /// A string literal's value.
    Str(String),
    /// `ON`/`TRUE` or `OFF`/`FALSE`.
    Bool(bool),
    /// `DEFAULT`.
    Default,
    /// `NULL`.
    Null,
    /// Any other single identifier, as written (`SET sql_mode = ANSI`).
    Ident(String),
}

impl SetValue {
    /// The value as a boolean system variable takes it: ON/OFF/TRUE/FALSE, 1/0, 'ON'/'OFF'.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            SetValue::Bool(b) => Some(*b),
            SetValue::Int(0) => Some(false),
            SetValue::Int(1) => Some(true),
            SetValue::Str(s) | SetValue::Ident(s) if s.eq_ignore_ascii_case("on") => Some(true),
            SetValue::Str(s) | SetValue::Ident(s) if s.eq_ignore_ascii_case("off") => Some(false),
            _ => None,
        }
    }
}

/// The right-hand side of an assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct SetExpr {
    /// Source text of the expression (not validated beyond balanced parentheses: whoever
    /// evaluates it, locally or on a storage node, reports its errors).
    pub text: String,
    /// Where that text is in the statement.
    pub span: Span,
    /// The parsed value when the expression is a single literal, `DEFAULT` or identifier.
    pub value: Option<SetValue>,
}

/// One assignment of a `SET` statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// A system variable (name lowercased) not covered by a more specific item.
    System {
        /// Where the value applies.
        scope: VarScope,
        /// Variable name, lowercased.
        name: String,
        /// The value.
        value: SetExpr,
    },
    /// `SET @name = expr` (name lowercased, quotes removed).
    User {
        /// Variable name without `@`.
        name: String,
        /// The value.
        value: SetExpr,
    },
    /// `SET NAMES cs [COLLATE coll]`; `charset` None means `SET NAMES DEFAULT`.
    Names {
        /// Character set, lowercased.
        charset: Option<String>,
        /// Collation, lowercased.
        collation: Option<String>,
    },
    /// `SET CHARACTER SET cs` / `SET CHARSET cs`; None means DEFAULT.
    CharacterSet {
        /// Character set, lowercased.
        charset: Option<String>,
    },
    /// `SET [scope] TRANSACTION ...`, or an assignment to `transaction_isolation`,
    /// `tx_isolation`, `transaction_read_only` or `tx_read_only` with a literal value.
    Transaction {
        /// Which transactions it applies to.
        scope: TxScope,
        /// New isolation level, if set.
        isolation: Option<IsolationLevel>,
        /// New access mode (true = READ ONLY), if set.
        read_only: Option<bool>,
    },
    /// `SET [SESSION] autocommit = <boolean literal>`.
    Autocommit(bool),
}

/// Parses a `SET` statement into its assignments.
pub fn parse_set(sql: &str) -> Result<Vec<SetItem>, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("SET")?;
    for (words, what) in [
        (&["PASSWORD"][..], "SET PASSWORD"),
        (&["ROLE"][..], "SET ROLE"),
        (&["DEFAULT", "ROLE"][..], "SET DEFAULT ROLE"),
        (&["RESOURCE", "GROUP"][..], "SET RESOURCE GROUP"),
        (&["STATEMENT"][..], "SET STATEMENT"),
    ] {
        if words
            .iter()
            .enumerate()
            .all(|(i, w)| p.peek_at_is_keyword(i, w))
        {
            return Err(SqlError::Unsupported(what.to_string()));
        }
    }
    let mut items = Vec::new();
    // A scope keyword applies to later assignments until another one appears.
    let mut keyword_scope: Option<VarScope> = None;
    loop {
        if let Some(scope) = scope_keyword(&p) {
            p.advance();
            keyword_scope = Some(scope);
        }
        if p.peek_is_keyword("TRANSACTION") && !next_is_assign(&p, 1) {
            if !items.is_empty() {
                return Err(p.error("assignment"));
            }
            p.advance();
            let scope = match keyword_scope {
                None => TxScope::Next,
                Some(VarScope::Session) => TxScope::Session,
                Some(VarScope::Global) => TxScope::Global,
                Some(_) => return Err(p.error("SESSION or GLOBAL")),
            };
            let item = parse_transaction_characteristics(&mut p, scope)?;
            p.expect_end()?;
            return Ok(vec![item]);
        }
        items.push(parse_item(&mut p, keyword_scope)?);
        if !p.eat_punct(",") {
            break;
        }
    }
    p.expect_end()?;
    Ok(items)
}

/// The scope `word` names in any letter case, as a keyword (`SET GLOBAL x = 1`) or as
/// the prefix of a system variable (`@@global.x`).
fn scope_named(word: &str) -> Option<VarScope> {
    match word.to_ascii_uppercase().as_str() {
        "SESSION" | "LOCAL" => Some(VarScope::Session),
        "GLOBAL" => Some(VarScope::Global),
        "PERSIST" => Some(VarScope::Persist),
        "PERSIST_ONLY" => Some(VarScope::PersistOnly),
        _ => None,
    }
}

fn scope_keyword(p: &Parser<'_>) -> Option<VarScope> {
    if next_is_assign(p, 1) {
        return None;
    }
    p.peek()
        .filter(|t| t.kind == TokenKind::Ident)
        .and_then(|t| scope_named(t.text(p.src())))
}

/// True if the token `n` ahead is `=` or `:=` (so the word before it is a variable name).
fn next_is_assign(p: &Parser<'_>, n: usize) -> bool {
    p.peek_at(n)
        .is_some_and(|t| t.is_punct(p.src(), "=") || t.is_punct(p.src(), ":="))
}

pub(crate) fn expect_assign(p: &mut Parser<'_>) -> Result<(), SqlError> {
    if p.eat_punct("=") || p.eat_punct(":=") {
        Ok(())
    } else {
        Err(p.error("="))
    }
}

/// How a system variable was named, which decides its effective scope.
pub(crate) enum NamedScope {
    /// `@@session.x`, `@@global.x`, or a scope keyword before it.
    Explicit(VarScope),
    /// `@@x`: session for most variables, the next transaction for transaction ones.
    AtAt,
    /// `x`: session.
    Bare,
}

fn parse_item(p: &mut Parser<'_>, keyword_scope: Option<VarScope>) -> Result<SetItem, SqlError> {
    let tok = p.peek().ok_or_else(|| p.error("variable"))?;
    if !next_is_assign(p, 1) {
        if tok.is_keyword(p.src(), "NAMES") {
            p.advance();
            return parse_names(p);
        }
        if tok.is_keyword(p.src(), "CHARSET")
            || (tok.is_keyword(p.src(), "CHARACTER") && p.peek_at_is_keyword(1, "SET"))
        {
            p.advance();
            p.eat_keyword("SET");
            let charset = charset_name(p)?;
            return Ok(SetItem::CharacterSet { charset });
        }
    }
    let (named, name) = match tok.kind {
        TokenKind::UserVar => {
            p.advance();
            expect_assign(p)?;
            let value = parse_expr(p)?;
            return Ok(SetItem::User {
                name: user_var_name(p.text(tok)),
                value,
            });
        }
        TokenKind::SysVar => {
            p.advance();
            let (scope, mut name) = split_sys_var(p.text(tok));
            // Structured variables: `@@global.keycache1.key_buffer_size`.
            if scope.is_some() && p.peek_is_punct(".") {
                p.advance();
                name.push('.');
                name.push_str(&p.ident()?.to_lowercase());
            }
            (scope.map_or(NamedScope::AtAt, NamedScope::Explicit), name)
        }
        TokenKind::Ident | TokenKind::QuotedIdent => {
            p.advance();
            let mut name = ident_value(p.text(tok)).to_lowercase();
            // Structured variables: `default.key_buffer_size`.
            if p.peek_is_punct(".") {
                p.advance();
                name.push('.');
                name.push_str(&p.ident()?.to_lowercase());
            }
            let named = keyword_scope.map_or(NamedScope::Bare, NamedScope::Explicit);
            (named, name)
        }
        _ => return Err(p.error("variable")),
    };
    expect_assign(p)?;
    let value = parse_expr(p)?;
    specialise(named, name, value)
}

/// Turns an assignment to a variable the session tracks into its specific item.
pub(crate) fn specialise(
    named: NamedScope,
    name: String,
    value: SetExpr,
) -> Result<SetItem, SqlError> {
    let scope = match named {
        NamedScope::Explicit(s) => s,
        NamedScope::AtAt | NamedScope::Bare => VarScope::Session,
    };
    let tx_scope = match (&named, scope) {
        (NamedScope::AtAt, _) => Some(TxScope::Next),
        (_, VarScope::Session) => Some(TxScope::Session),
        (_, VarScope::Global) => Some(TxScope::Global),
        _ => None,
    };
    let literal = match &value.value {
        Some(SetValue::Default) | None => None,
        Some(v) => Some(v),
    };
    let wrong = |value: &SetExpr| SqlError::WrongValue {
        variable: name.clone(),
        value: match &value.value {
            Some(SetValue::Str(s)) => s.clone(),
            _ => value.text.clone(),
        },
    };
    match (name.as_str(), literal, tx_scope) {
        ("autocommit", Some(v), _) if scope == VarScope::Session => match v.as_bool() {
            Some(on) => Ok(SetItem::Autocommit(on)),
            None => Err(wrong(&value)),
        },
        ("transaction_isolation" | "tx_isolation", Some(v), Some(scope)) => {
            match IsolationLevel::from_variable_value(v) {
                Some(level) => Ok(SetItem::Transaction {
                    scope,
                    isolation: Some(level),
                    read_only: None,
                }),
                None => Err(wrong(&value)),
            }
        }
        ("transaction_read_only" | "tx_read_only", Some(v), Some(scope)) => match v.as_bool() {
            Some(ro) => Ok(SetItem::Transaction {
                scope,
                isolation: None,
                read_only: Some(ro),
            }),
            None => Err(wrong(&value)),
        },
        _ => Ok(SetItem::System { scope, name, value }),
    }
}

/// `@@name`, `@@session.name`, `@@global.name`, `@@local.name`, ... -> (scope, lowercased name).
pub(crate) fn split_sys_var(text: &str) -> (Option<VarScope>, String) {
    let body = text.strip_prefix("@@").unwrap_or(text);
    if let Some((word, name)) = body.split_once('.') {
        if let Some(scope) = scope_named(word).filter(|_| !name.is_empty()) {
            return (Some(scope), ident_value(name).to_lowercase());
        }
    }
    (None, ident_value(body).to_lowercase())
}

fn parse_expr(p: &mut Parser<'_>) -> Result<SetExpr, SqlError> {
    parse_expr_before(p, None)
}

/// The right-hand side of an assignment, ending before `stop` (see
/// [`Parser::expression_before`]).
pub(crate) fn parse_expr_before(
    p: &mut Parser<'_>,
    stop: Option<&str>,
) -> Result<SetExpr, SqlError> {
    let (first, last) = p.expression_before(stop)?;
    let span = Span {
        start: first.span.start,
        end: last.span.end,
    };
    let text = span.text(p.src());
    let value = literal_value(p.src(), first, last);
    Ok(SetExpr {
        text: text.to_string(),
        span,
        value,
    })
}

/// The value of an expression that is one literal token, or a sign directly before a number.
fn literal_value(src: &str, first: Token, last: Token) -> Option<SetValue> {
    if first == last {
        return single_literal(src, first);
    }
    let negative = first.is_punct(src, "-");
    let adjacent = src
        .get(first.span.end..last.span.start)
        .is_some_and(|gap| gap.trim().is_empty());
    if !(negative || first.is_punct(src, "+")) || !adjacent {
        return None;
    }
    let text = last.text(src);
    let signed = if negative {
        format!("-{text}")
    } else {
        text.to_string()
    };
    match last.kind {
        TokenKind::Integer => Some(
            signed
                .parse()
                .map_or(SetValue::Number(signed), SetValue::Int),
        ),
        TokenKind::Decimal | TokenKind::Float => Some(SetValue::Number(signed)),
        _ => None,
    }
}

fn single_literal(src: &str, tok: Token) -> Option<SetValue> {
    let text = tok.text(src);
    Some(match tok.kind {
        TokenKind::Integer => text
            .parse()
            .map_or_else(|_| SetValue::Number(text.to_string()), SetValue::Int),
        TokenKind::Decimal | TokenKind::Float => SetValue::Number(text.to_string()),
        TokenKind::String => SetValue::Str(string_value(text).into_owned()),
        TokenKind::Ident => {
            const WORDS: [(&str, SetValue); 6] = [
                ("ON", SetValue::Bool(true)),
                ("TRUE", SetValue::Bool(true)),
                ("OFF", SetValue::Bool(false)),
                ("FALSE", SetValue::Bool(false)),
                ("DEFAULT", SetValue::Default),
                ("NULL", SetValue::Null),
            ];
            WORDS
                .into_iter()
                .find(|(w, _)| w.eq_ignore_ascii_case(text))
                .map_or_else(|| SetValue::Ident(text.to_string()), |(_, v)| v)
        }
        TokenKind::QuotedIdent => SetValue::Ident(ident_value(text).into_owned()),
        _ => return None,
    })
}

/// A character set or collation name, lowercased; None for DEFAULT.
fn charset_name(p: &mut Parser<'_>) -> Result<Option<String>, SqlError> {
    if p.eat_keyword("DEFAULT") {
        return Ok(None);
    }
    Ok(Some(p.ident_or_string()?.to_lowercase()))
}

fn parse_names(p: &mut Parser<'_>) -> Result<SetItem, SqlError> {
    let charset = charset_name(p)?;
    let collation = if charset.is_some() && p.eat_keyword("COLLATE") {
        charset_name(p)?
    } else {
        None
    };
    Ok(SetItem::Names { charset, collation })
}

fn parse_transaction_characteristics(
    p: &mut Parser<'_>,
    scope: TxScope,
) -> Result<SetItem, SqlError> {
    let mut isolation = None;
    let mut read_only = None;
    // MariaDB's grammar takes one access mode and one isolation level, in either
    // order: a second of the same kind is an error at its first keyword, a third item
    // one right after the comma before it (where its parser stops).
    for item in 0..2 {
        if item > 0 && !p.eat_punct(",") {
            break;
        }
        if p.peek_is_keyword("ISOLATION") && isolation.is_none() {
            p.advance();
            p.expect_keyword("LEVEL")?;
            isolation = Some(if p.eat_keyword("READ") {
                match p.eat_one_of(&["UNCOMMITTED", "COMMITTED"]) {
                    Some(0) => IsolationLevel::ReadUncommitted,
                    Some(_) => IsolationLevel::ReadCommitted,
                    None => return Err(p.error("UNCOMMITTED or COMMITTED")),
                }
            } else if p.eat_keyword("REPEATABLE") {
                p.expect_keyword("READ")?;
                IsolationLevel::RepeatableRead
            } else if p.eat_keyword("SERIALIZABLE") {
                IsolationLevel::Serializable
            } else {
                return Err(p.error("isolation level"));
            });
        } else if p.peek_is_keyword("READ") && read_only.is_none() {
            p.advance();
            read_only = Some(match p.eat_one_of(&["ONLY", "WRITE"]) {
                Some(0) => true,
                Some(_) => false,
                None => return Err(p.error("ONLY or WRITE")),
            });
        } else {
            return Err(p.error("ISOLATION LEVEL or READ ONLY/WRITE"));
        }
    }
    if p.peek_is_punct(",") {
        let after = p.peek().map_or(p.src().len(), |t| t.span.end);
        return Err(SqlError::syntax_at(p.src(), after, "end of statement"));
    }
    Ok(SetItem::Transaction {
        scope,
        isolation,
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::assert_syntax_errors;

    fn sys(
        scope: VarScope,
        name: &str,
        text: &str,
        value: Option<SetValue>,
    ) -> (VarScope, String, String, Option<SetValue>) {
        (scope, name.to_string(), text.to_string(), value)
    }

    /// Strips spans so tables stay readable.
    fn system_items(sql: &str) -> Vec<(VarScope, String, String, Option<SetValue>)> {
        parse_set(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|item| match item {
                SetItem::System { scope, name, value } => (scope, name, value.text, value.value),
                other => panic!("{sql}: not a system variable: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn system_variable_assignments() {
        use SetValue as V;
        use VarScope::*;
        let cases = [
            ("SET sql_mode = 'STRICT_TRANS_TABLES'", vec![sys(Session, "sql_mode", "'STRICT_TRANS_TABLES'", Some(V::Str("STRICT_TRANS_TABLES".into())))]),
            ("set SESSION wait_timeout=28800", vec![sys(Session, "wait_timeout", "28800", Some(V::Int(28800)))]),
            ("SET LOCAL net_write_timeout = 600", vec![sys(Session, "net_write_timeout", "600", Some(V::Int(600)))]),
            ("SET GLOBAL max_connections = 1000", vec![sys(Global, "max_connections", "1000", Some(V::Int(1000)))]),
            ("SET @@global.Max_Connections := -5", vec![sys(Global, "max_connections", "-5", Some(V::Int(-5)))]),
            ("SET @@session.time_zone = '+00:00'", vec![sys(Session, "time_zone", "'+00:00'", Some(V::Str("+00:00".into())))]),
            ("SET @@time_zone = SYSTEM", vec![sys(Session, "time_zone", "SYSTEM", Some(V::Ident("SYSTEM".into())))]),
            ("SET PERSIST innodb_buffer_pool_size = 1.5e9", vec![sys(Persist, "innodb_buffer_pool_size", "1.5e9", Some(V::Number("1.5e9".into())))]),
            ("SET @@persist_only.x = DEFAULT", vec![sys(PersistOnly, "x", "DEFAULT", Some(V::Default))]),
            ("SET character_set_results = NULL", vec![sys(Session, "character_set_results", "NULL", Some(V::Null))]),
            ("SET sql_safe_updates = ON", vec![sys(Session, "sql_safe_updates", "ON", Some(V::Bool(true)))]),
            ("SET foreign_key_checks = FALSE", vec![sys(Session, "foreign_key_checks", "FALSE", Some(V::Bool(false)))]),
            ("SET `sql_mode` = ''", vec![sys(Session, "sql_mode", "''", Some(V::Str(String::new())))]),
            ("SET default.key_buffer_size = 1", vec![sys(Session, "default.key_buffer_size", "1", Some(V::Int(1)))]),
            ("SET @@global.keycache1.key_buffer_size = 1", vec![sys(Global, "keycache1.key_buffer_size", "1", Some(V::Int(1)))]),
            ("SET big = 18446744073709551615", vec![sys(Session, "big", "18446744073709551615", Some(V::Number("18446744073709551615".into())))]),
            // The most recent scope keyword applies to the following assignments.
            (
                "SET GLOBAL a = 1, b = 2, SESSION c = 3, @@global.d = 4, e = 5",
                vec![
                    sys(Global, "a", "1", Some(V::Int(1))),
                    sys(Global, "b", "2", Some(V::Int(2))),
                    sys(Session, "c", "3", Some(V::Int(3))),
                    sys(Global, "d", "4", Some(V::Int(4))),
                    sys(Session, "e", "5", Some(V::Int(5))),
                ],
            ),
            // Expressions keep their source text; commas inside parentheses do not split.
            (
                "SET sql_mode = concat(@@sql_mode, ',STRICT_TRANS_TABLES'), net_read_timeout = (SELECT MAX(a) FROM t WHERE b IN (1, 2))",
                vec![
                    sys(Session, "sql_mode", "concat(@@sql_mode, ',STRICT_TRANS_TABLES')", None),
                    sys(Session, "net_read_timeout", "(SELECT MAX(a) FROM t WHERE b IN (1, 2))", None),
                ],
            ),
            ("SET x = 1 + 2", vec![sys(Session, "x", "1 + 2", None)]),
            ("SET x = - 3", vec![sys(Session, "x", "- 3", Some(V::Int(-3)))]),
            ("SET x = -a", vec![sys(Session, "x", "-a", None)]),
            ("SET x = 1;", vec![sys(Session, "x", "1", Some(V::Int(1)))]),
        ];
        for (sql, expected) in cases {
            assert_eq!(system_items(sql), expected, "parsing {sql}");
        }
    }

    #[test]
    fn session_tracked_items() {
        use IsolationLevel::*;
        use SetItem::*;
        let tx = |scope, isolation, read_only| Transaction {
            scope,
            isolation,
            read_only,
        };
        let names = |cs: Option<&str>, coll: Option<&str>| Names {
            charset: cs.map(String::from),
            collation: coll.map(String::from),
        };
        let cases: Vec<(&str, Vec<SetItem>)> = vec![
            ("SET NAMES utf8mb4", vec![names(Some("utf8mb4"), None)]),
            (
                "SET NAMES 'UTF8MB4' COLLATE 'utf8mb4_unicode_ci'",
                vec![names(Some("utf8mb4"), Some("utf8mb4_unicode_ci"))],
            ),
            (
                "set names utf8 collate utf8_general_ci, autocommit=1",
                vec![
                    names(Some("utf8"), Some("utf8_general_ci")),
                    Autocommit(true),
                ],
            ),
            ("SET NAMES DEFAULT", vec![names(None, None)]),
            (
                "SET CHARACTER SET latin1",
                vec![CharacterSet {
                    charset: Some("latin1".into()),
                }],
            ),
            (
                "SET CHARSET 'utf8mb4'",
                vec![CharacterSet {
                    charset: Some("utf8mb4".into()),
                }],
            ),
            (
                "SET CHARACTER SET DEFAULT",
                vec![CharacterSet { charset: None }],
            ),
            ("SET autocommit=0", vec![Autocommit(false)]),
            ("SET AUTOCOMMIT = 1", vec![Autocommit(true)]),
            ("SET autocommit = ON", vec![Autocommit(true)]),
            ("SET autocommit = off", vec![Autocommit(false)]),
            ("SET autocommit = TRUE", vec![Autocommit(true)]),
            ("SET @@autocommit = FALSE", vec![Autocommit(false)]),
            ("SET @@session.autocommit = 'ON'", vec![Autocommit(true)]),
            ("SET SESSION autocommit = 0", vec![Autocommit(false)]),
            (
                "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
                vec![tx(TxScope::Next, Some(ReadCommitted), None)],
            ),
            (
                "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                vec![tx(TxScope::Session, Some(RepeatableRead), None)],
            ),
            (
                "SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
                vec![tx(TxScope::Global, Some(Serializable), Some(false))],
            ),
            (
                "set session transaction read only",
                vec![tx(TxScope::Session, None, Some(true))],
            ),
            (
                "SET TRANSACTION READ WRITE, ISOLATION LEVEL READ UNCOMMITTED",
                vec![tx(TxScope::Next, Some(ReadUncommitted), Some(false))],
            ),
            (
                "SET LOCAL TRANSACTION READ ONLY",
                vec![tx(TxScope::Session, None, Some(true))],
            ),
            (
                "SET tx_isolation = 'READ-COMMITTED'",
                vec![tx(TxScope::Session, Some(ReadCommitted), None)],
            ),
            (
                "SET SESSION transaction_isolation='repeatable-read'",
                vec![tx(TxScope::Session, Some(RepeatableRead), None)],
            ),
            (
                "SET @@session.tx_isolation = 'SERIALIZABLE'",
                vec![tx(TxScope::Session, Some(Serializable), None)],
            ),
            (
                "SET @@transaction_isolation = 'READ-UNCOMMITTED'",
                vec![tx(TxScope::Next, Some(ReadUncommitted), None)],
            ),
            (
                "SET GLOBAL transaction_isolation = 1",
                vec![tx(TxScope::Global, Some(ReadCommitted), None)],
            ),
            (
                "SET session transaction_read_only = 1",
                vec![tx(TxScope::Session, None, Some(true))],
            ),
            (
                "SET @@tx_read_only = OFF",
                vec![tx(TxScope::Next, None, Some(false))],
            ),
            (
                "SET @My_Var = 5",
                vec![User {
                    name: "my_var".into(),
                    value: SetExpr {
                        text: "5".into(),
                        span: Span { start: 14, end: 15 },
                        value: Some(SetValue::Int(5)),
                    },
                }],
            ),
            (
                "SET @'a b' := 'x'",
                vec![User {
                    name: "a b".into(),
                    value: SetExpr {
                        text: "'x'".into(),
                        span: Span { start: 14, end: 17 },
                        value: Some(SetValue::Str("x".into())),
                    },
                }],
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(parse_set(sql), Ok(expected), "parsing {sql}");
        }
    }

    #[test]
    fn values_a_variable_cannot_take_are_wrong_values() {
        let cases = [
            ("SET autocommit = 2", "autocommit", "2"),
            ("SET autocommit = 'yes'", "autocommit", "yes"),
            (
                "SET tx_isolation = 'READ COMMITTED'",
                "tx_isolation",
                "READ COMMITTED",
            ),
            (
                "SET transaction_isolation = 7",
                "transaction_isolation",
                "7",
            ),
            (
                "SET transaction_read_only = 'maybe'",
                "transaction_read_only",
                "maybe",
            ),
        ];
        for (sql, variable, value) in cases {
            assert_eq!(
                parse_set(sql),
                Err(SqlError::WrongValue {
                    variable: variable.into(),
                    value: value.into()
                }),
                "parsing {sql}"
            );
        }
    }

    #[test]
    fn non_literal_or_default_tracked_values_stay_generic() {
        let items =
            system_items("SET autocommit = @x, tx_isolation = DEFAULT, GLOBAL autocommit = 0");
        let names: Vec<_> = items
            .iter()
            .map(|(scope, name, text, _)| (*scope, name.as_str(), text.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (VarScope::Session, "autocommit", "@x"),
                (VarScope::Session, "tx_isolation", "DEFAULT"),
                (VarScope::Global, "autocommit", "0"),
            ]
        );
    }

    #[test]
    fn malformed_set_statements_are_syntax_errors() {
        assert_syntax_errors(
            parse_set,
            &[
                ("SET", ""),
                ("SET x", ""),
                ("SET x =", ""),
                ("SET x = 1,", ""),
                ("SET = 1", "= 1"),
                ("SET NAMES", ""),
                ("SET TRANSACTION", ""),
                ("SET TRANSACTION ISOLATION LEVEL READ", ""),
                ("SET TRANSACTION READ SOMETIMES", "SOMETIMES"),
                ("SET TRANSACTION READ ONLY, READ WRITE", "READ WRITE"),
                (
                    "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, ISOLATION LEVEL READ COMMITTED",
                    "ISOLATION LEVEL READ COMMITTED",
                ),
                (
                    "SET TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE, READ WRITE",
                    " READ WRITE",
                ),
                ("SET a = 1, TRANSACTION READ ONLY", "TRANSACTION READ ONLY"),
                ("SET PERSIST TRANSACTION READ ONLY", "READ ONLY"),
                ("SET x = 'open", "'open"),
                ("SELECT 1", "SELECT 1"),
            ],
        );
    }

    #[test]
    fn statements_strata_does_not_handle_are_unsupported() {
        for (sql, what) in [
            ("SET PASSWORD = 'x'", "SET PASSWORD"),
            ("SET PASSWORD FOR u = 'x'", "SET PASSWORD"),
            ("SET ROLE ALL", "SET ROLE"),
            ("SET DEFAULT ROLE r TO u", "SET DEFAULT ROLE"),
            (
                "SET STATEMENT max_statement_time=1 FOR SELECT 1",
                "SET STATEMENT",
            ),
        ] {
            assert_eq!(
                parse_set(sql),
                Err(SqlError::Unsupported(what.into())),
                "parsing {sql}"
            );
        }
    }

    #[test]
    fn driver_connect_time_set_statements() {
        use SetItem::*;
        // MariaDB Connector/J 3.x.
        let sql = "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES'), session_track_schema=1, session_track_system_variables='autocommit,tx_isolation'";
        let items = parse_set(sql).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(items.len(), 4);
        assert_eq!(items[0], Autocommit(true));
        assert!(
            matches!(&items[1], System { name, value, .. } if name == "sql_mode" && value.value.is_none())
        );
        assert!(matches!(&items[3], System { name, value, .. }
            if name == "session_track_system_variables" && value.value == Some(SetValue::Str("autocommit,tx_isolation".into()))));
        // MySQL Connector/J 8, PyMySQL, mysql2, mysql CLI.
        for sql in [
            "SET character_set_results = NULL",
            "SET NAMES utf8mb4 COLLATE utf8mb4_0900_ai_ci",
            "SET AUTOCOMMIT = 0",
            "SET NAMES utf8mb4",
            "SET SQL_SELECT_LIMIT=DEFAULT",
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            "/* mysql-connector-java-8.0.33 */SET autocommit=1",
            "/*!40101 SET NAMES utf8mb4 */",
            "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;",
        ] {
            assert!(
                parse_set(sql).is_ok(),
                "parsing {sql}: {:?}",
                parse_set(sql)
            );
        }
    }
}
