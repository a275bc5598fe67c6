//! sqlparser's MySQL dialect with MariaDB's expression grammar where the two differ:
//! the bit operators `~`, `<<`, `>>` and MariaDB's precedence for `^` (below a sign),
//! `&`, `|`, `XOR`,
//! `&&` (AND), `||` (OR, or concatenation under PIPES_AS_CONCAT: read at OR's precedence
//! as an operator the planner never looks into), `MOD`, `DIV` (whose MySQL reading
//! panics on a missing operand), `BINARY expr`, compound units in `EXTRACT` and
//! `INTERVAL`, a charset introducer before a bit literal, `CAST(x AS CHAR CHARACTER SET
//! cs)`, `CONVERT(x, CHAR CHARSET cs)`, a column's `KEY` / `UNIQUE KEY`, `!x` (NOT,
//! binding as tightly as `~`), `a SOUNDS LIKE b`, the function `INTERVAL(n, n1, ...)`,
//! `CHAR(n, ... USING cs)`, ALTER TABLE's `DROP KEY name` and `0x..` apart from `X'..'`.
//!
//! The dialect reports itself as [`MySqlDialect`] (its type id), so every MySQL rule of
//! sqlparser still applies. What it reads prints back as MariaDB text of the same meaning
//! (statements over several nodes are sent printed): `a << 1`, `~a`, `a AND b`, `a % b`,
//! `CAST(a AS BINARY)`, `CONVERT(a, CHAR CHARACTER SET cs)`, `PRIMARY KEY`, `!a`,
//! `a SOUNDS LIKE b`, `INTERVAL(a, 1, 2)`, `CHAR(a USING cs)`, `DROP INDEX name`, `0x41`. Where the
//! tree would let the planner decide something (pruning, HAVING), the precedences are
//! MariaDB's, so conjuncts are the ones MariaDB sees.

use std::any::TypeId;

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    AlterTableOperation, BinaryOperator, CastKind, ColumnOption, DateTimeField, Expr,
    ExtractSyntax, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments,
    Ident, Interval, ObjectName, ObjectNamePart, Statement, UnaryOperator, Value,
};
use sqlparser::dialect::{Dialect, MySqlDialect, Precedence};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// MariaDB's compound interval units (`EXTRACT` and `INTERVAL` take them).
const COMPOUND_UNITS: &[&str] = &[
    "SECOND_MICROSECOND",
    "MINUTE_MICROSECOND",
    "MINUTE_SECOND",
    "HOUR_MICROSECOND",
    "HOUR_SECOND",
    "HOUR_MINUTE",
    "DAY_MICROSECOND",
    "DAY_SECOND",
    "DAY_MINUTE",
    "DAY_HOUR",
    "YEAR_MONTH",
];

/// Binding strength of MariaDB's operators, on sqlparser's scale (higher binds tighter):
/// `^` above `*`, then `+ -`, `<< >>`, `&`, `|`, the comparisons, NOT, AND, XOR, OR.
const CARET: u8 = 45;
const SHIFT: u8 = 27;
const AMPERSAND: u8 = 26;
const PIPE: u8 = 25;
const XOR: u8 = 7;
/// The operand of a prefix `~` or `BINARY`: a primary (sqlparser's `::` level).
const PREFIX_OPERAND: u8 = 50;

/// The MySQL dialect with MariaDB's expression grammar where they differ.
#[derive(Debug)]
pub(crate) struct MariaDbDialect {
    mysql: MySqlDialect,
}

impl MariaDbDialect {
    /// The dialect.
    pub(crate) fn new() -> MariaDbDialect {
        MariaDbDialect {
            mysql: MySqlDialect {},
        }
    }
}

/// The compound unit `token` names, upper-cased.
fn compound_unit(token: &Token) -> Option<String> {
    match token {
        Token::Word(w) if w.quote_style.is_none() => {
            let upper = w.value.to_ascii_uppercase();
            COMPOUND_UNITS.contains(&upper.as_str()).then_some(upper)
        }
        _ => None,
    }
}

fn is_word(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none())
}

/// The next tokens are `SOUNDS LIKE` (SOUNDS is no keyword of sqlparser's).
fn sounds_like(parser: &Parser) -> bool {
    let sounds = matches!(
        &parser.peek_token().token,
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("SOUNDS")
    );
    sounds && is_word(&parser.peek_nth_token(1).token, Keyword::LIKE)
}

/// The hex literal `token` (digits `digits`) was written `0x..`, not `X'..'` (its
/// span is two columns wider than its digits, not three).
fn zero_x(token: &TokenWithSpan, digits: &str) -> bool {
    let (start, end) = (token.span.start, token.span.end);
    !digits.is_empty()
        && start.line == end.line
        && end.column.checked_sub(start.column) == Some(digits.chars().count() as u64 + 2)
}

/// `!operand`.
fn bang_not(operand: Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::BangNot,
        expr: Box::new(operand),
    }
}

/// After `CAST(x AS type` or `CONVERT(x, type`: `CHARACTER SET cs` or `CHARSET cs`.
fn charset(parser: &mut Parser) -> Result<Option<sqlparser::ast::ObjectName>, ParserError> {
    if parser.parse_keywords(&[Keyword::CHARACTER, Keyword::SET])
        || parser.parse_keyword(Keyword::CHARSET)
    {
        Ok(Some(parser.parse_object_name(false)?))
    } else {
        Ok(None)
    }
}

/// `CAST(x AS type [charset])`, after `CAST`: a CONVERT when a charset is named.
fn cast(parser: &mut Parser) -> Result<Expr, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let expr = Box::new(parser.parse_expr()?);
    parser.expect_keyword_is(Keyword::AS)?;
    let data_type = super::mariadb_grammar::cast_type(parser)?;
    let charset = charset(parser)?;
    parser.expect_token(&Token::RParen)?;
    Ok(match charset {
        Some(cs) => Expr::Convert {
            is_try: false,
            expr,
            data_type: Some(data_type),
            charset: Some(cs),
            target_before_value: false,
            styles: Vec::new(),
        },
        None => Expr::Cast {
            kind: CastKind::Cast,
            expr,
            data_type,
            format: None,
        },
    })
}

/// `CONVERT(x USING cs)` or `CONVERT(x, type [charset])`, after `CONVERT`.
fn convert(parser: &mut Parser) -> Result<Expr, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let expr = Box::new(parser.parse_expr()?);
    let (data_type, charset) = if parser.parse_keyword(Keyword::USING) {
        (None, Some(parser.parse_object_name(false)?))
    } else {
        parser.expect_token(&Token::Comma)?;
        let data_type = super::mariadb_grammar::cast_type(parser)?;
        (Some(data_type), charset(parser)?)
    };
    parser.expect_token(&Token::RParen)?;
    Ok(Expr::Convert {
        is_try: false,
        expr,
        data_type,
        charset,
        target_before_value: false,
        styles: Vec::new(),
    })
}

/// True when the expression about to be read is a column's `DEFAULT` (signs and NOT
/// aside): a `COLLATE` after it is the column's, as sqlparser reads it in a column
/// definition (its state saying so is not public).
fn is_column_default(parser: &Parser) -> bool {
    for i in (0..parser.index()).rev() {
        match &parser.token_at(i).token {
            Token::Whitespace(_)
            | Token::Minus
            | Token::Plus
            | Token::Tilde
            | Token::ExclamationMark
            | Token::DoubleExclamationMark
            | Token::ExclamationMarkTilde => {}
            Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::NOT => {}
            Token::Word(w) => return w.quote_style.is_none() && w.keyword == Keyword::DEFAULT,
            _ => return false,
        }
    }
    false
}

/// `expr` with the `COLLATE name` that follows it, which sqlparser reads after the
/// expressions it reads itself but not after a dialect's; none after a column's DEFAULT.
fn collated(parser: &mut Parser, expr: Expr, column_default: bool) -> Result<Expr, ParserError> {
    if !column_default && parser.parse_keyword(Keyword::COLLATE) {
        Ok(Expr::Collate {
            expr: Box::new(expr),
            collation: parser.parse_object_name(false)?,
        })
    } else {
        Ok(expr)
    }
}

/// `CHAR(n, ... USING cs)`, after `CHAR`: a call `CHAR` whose last argument is `n USING
/// cs` (a `USING` operator before the name, written verbatim), so that it prints back
/// as written; an error when there is no `USING` (sqlparser reads that call itself).
fn char_using(parser: &mut Parser, name: Ident) -> Result<Expr, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let mut args = vec![parser.parse_expr()?];
    while parser.consume_token(&Token::Comma) {
        args.push(parser.parse_expr()?);
    }
    parser.expect_keyword_is(Keyword::USING)?;
    // MariaDB's charset_name: a name (BINARY included) or a quoted string.
    let next = parser.next_token();
    let charset = match next.token {
        Token::Word(w) => match w.quote_style {
            Some(q) => Ident::with_quote(q, w.value).to_string(),
            None => w.value,
        },
        Token::SingleQuotedString(s) => Value::SingleQuotedString(s).to_string(),
        _ => return parser.expected("a character set name", next),
    };
    parser.expect_token(&Token::RParen)?;
    let last = args.pop().map(|n| Expr::BinaryOp {
        left: Box::new(n),
        op: BinaryOperator::Custom("USING".to_string()),
        right: Box::new(Expr::value(Value::Placeholder(charset))),
    });
    let args = args
        .into_iter()
        .chain(last)
        .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
        .collect();
    Ok(Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    }))
}

/// `INTERVAL expr unit`, after `INTERVAL`; a compound unit is kept as its name.
fn interval(parser: &mut Parser) -> Result<Expr, ParserError> {
    let value = Box::new(parser.parse_expr()?);
    let leading_field = match compound_unit(&parser.peek_token().token) {
        Some(unit) => {
            parser.next_token();
            DateTimeField::Custom(Ident::new(unit))
        }
        None if parser.next_token_is_temporal_unit() => parser.parse_date_time_field()?,
        None => {
            return Err(ParserError::ParserError(format!(
                "INTERVAL requires a unit after the literal value{}",
                parser.peek_token().span.start
            )))
        }
    };
    Ok(Expr::Interval(Interval {
        value,
        leading_field: Some(leading_field),
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    }))
}

/// The function `INTERVAL(n, n1, ...)` (two arguments at least, as MariaDB's grammar
/// has it), after `INTERVAL`; an error otherwise, so that `INTERVAL (1) DAY` is tried
/// as the literal.
fn interval_function(parser: &mut Parser, name: Ident) -> Result<Expr, ParserError> {
    let function = parser.parse_function(ObjectName::from(vec![name]))?;
    let args = match &function {
        Expr::Function(f) => match &f.args {
            sqlparser::ast::FunctionArguments::List(list) => list.args.len(),
            _ => 0,
        },
        _ => 0,
    };
    if args < 2 {
        return Err(ParserError::ParserError(
            "INTERVAL() takes two arguments at least".to_string(),
        ));
    }
    Ok(function)
}

/// `ALTER TABLE name op, ...` after `ALTER TABLE`, reading MariaDB's `DROP KEY name` as
/// `DROP INDEX name` (sqlparser's reading of every other operation is kept).
fn alter_table(parser: &mut Parser) -> Result<Statement, ParserError> {
    let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    let operations = parser.parse_comma_separated(|p| {
        if let Some(read) = super::mariadb_grammar::alter_operations(p) {
            return read;
        }
        let drop_key = is_word(&p.peek_token().token, Keyword::DROP)
            && is_word(&p.peek_nth_token(1).token, Keyword::KEY);
        if drop_key {
            p.next_token();
            p.next_token();
            Ok(vec![AlterTableOperation::DropIndex {
                name: p.parse_identifier()?,
            }])
        } else {
            p.parse_alter_table_operation().map(|op| vec![op])
        }
    })?;
    let operations = operations.into_iter().flatten().collect();
    Ok(Statement::AlterTable {
        name,
        if_exists,
        only: false,
        operations,
        location: None,
        on_cluster: None,
        iceberg: false,
        end_token: AttachedToken(parser.get_current_token().clone()),
    })
}

/// `EXTRACT(unit FROM expr)` with a compound unit, after `EXTRACT`.
fn extract(parser: &mut Parser) -> Result<Expr, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let next = parser.next_token();
    let Some(unit) = compound_unit(&next.token) else {
        return parser.expected("date/time field", next);
    };
    parser.expect_keyword_is(Keyword::FROM)?;
    let expr = Box::new(parser.parse_expr()?);
    parser.expect_token(&Token::RParen)?;
    Ok(Expr::Extract {
        field: DateTimeField::Custom(Ident::new(unit)),
        syntax: ExtractSyntax::From,
        expr,
    })
}

impl Dialect for MariaDbDialect {
    fn dialect(&self) -> TypeId {
        // sqlparser's MySQL rules are asked for by type: they all apply.
        TypeId::of::<MySqlDialect>()
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.mysql.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.mysql.is_identifier_part(ch)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.mysql.is_delimited_identifier_start(ch)
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.mysql.identifier_quote_style(identifier)
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        self.mysql.supports_string_literal_backslash_escape()
    }

    fn supports_string_literal_concatenation(&self) -> bool {
        self.mysql.supports_string_literal_concatenation()
    }

    fn ignores_wildcard_escapes(&self) -> bool {
        self.mysql.ignores_wildcard_escapes()
    }

    fn supports_numeric_prefix(&self) -> bool {
        self.mysql.supports_numeric_prefix()
    }

    fn parse_statement(
        &self,
        parser: &mut Parser,
    ) -> Option<Result<sqlparser::ast::Statement, ParserError>> {
        let is_alter_table = is_word(&parser.peek_token().token, Keyword::ALTER)
            && is_word(&parser.peek_nth_token(1).token, Keyword::TABLE);
        if is_alter_table {
            parser.next_token();
            parser.next_token();
            return Some(alter_table(parser));
        }
        self.mysql.parse_statement(parser)
    }

    fn require_interval_qualifier(&self) -> bool {
        self.mysql.require_interval_qualifier()
    }

    fn supports_limit_comma(&self) -> bool {
        self.mysql.supports_limit_comma()
    }

    fn supports_create_table_select(&self) -> bool {
        self.mysql.supports_create_table_select()
    }

    fn supports_insert_set(&self) -> bool {
        self.mysql.supports_insert_set()
    }

    fn supports_user_host_grantee(&self) -> bool {
        self.mysql.supports_user_host_grantee()
    }

    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.mysql.is_table_factor_alias(explicit, kw, parser)
    }

    fn supports_table_hints(&self) -> bool {
        self.mysql.supports_table_hints()
    }

    fn requires_single_line_comment_whitespace(&self) -> bool {
        self.mysql.requires_single_line_comment_whitespace()
    }

    fn supports_match_against(&self) -> bool {
        self.mysql.supports_match_against()
    }

    fn supports_set_names(&self) -> bool {
        self.mysql.supports_set_names()
    }

    fn supports_comma_separated_set_assignments(&self) -> bool {
        self.mysql.supports_comma_separated_set_assignments()
    }

    fn supports_data_type_signed_suffix(&self) -> bool {
        self.mysql.supports_data_type_signed_suffix()
    }

    fn supports_cross_join_constraint(&self) -> bool {
        self.mysql.supports_cross_join_constraint()
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let next = parser.peek_token().token;
        let after = parser.peek_nth_token(1).token;
        match next {
            Token::Tilde => {
                parser.next_token();
                Some(
                    parser
                        .parse_subexpr(PREFIX_OPERAND)
                        .map(|operand| Expr::UnaryOp {
                            op: UnaryOperator::PGBitwiseNot,
                            expr: Box::new(operand),
                        }),
                )
            }
            // A sign binds tighter than `^` (sqlparser's reading of `-2 ^ 1` is `-(2 ^ 1)`).
            Token::Minus | Token::Plus => {
                parser.next_token();
                let op = if next == Token::Minus {
                    UnaryOperator::Minus
                } else {
                    UnaryOperator::Plus
                };
                Some(parser.parse_subexpr(CARET).map(|operand| Expr::UnaryOp {
                    op,
                    expr: Box::new(operand),
                }))
            }
            // `BINARY expr` is CAST(expr AS BINARY) (sqlparser read `BINARY a` as a
            // column named BINARY aliased a).
            // `0x41` is a number in numeric context, `X'41'` always a string; sqlparser
            // reads both as one token printed `X'41'`, so `0x` stays verbatim text.
            Token::HexStringLiteral(digits) if zero_x(&parser.peek_token(), &digits) => {
                parser.next_token();
                Some(Ok(Expr::value(Value::Placeholder(format!("0x{digits}")))))
            }
            Token::Word(_) if is_word(&next, Keyword::BINARY) => {
                parser.next_token();
                Some(
                    parser
                        .parse_subexpr(PREFIX_OPERAND)
                        .map(|operand| Expr::Cast {
                            kind: CastKind::Cast,
                            expr: Box::new(operand),
                            data_type: sqlparser::ast::DataType::Binary(None),
                            format: None,
                        }),
                )
            }
            // `!x` is NOT x with `~`'s operand (`!a = 0` is `(!a) = 0`); `!!` and `!~`
            // are single tokens to sqlparser.
            Token::ExclamationMark | Token::DoubleExclamationMark | Token::ExclamationMarkTilde => {
                parser.next_token();
                Some(parser.parse_subexpr(PREFIX_OPERAND).map(|operand| {
                    let inner = match next {
                        Token::DoubleExclamationMark => bang_not(operand),
                        Token::ExclamationMarkTilde => Expr::UnaryOp {
                            op: UnaryOperator::PGBitwiseNot,
                            expr: Box::new(operand),
                        },
                        _ => operand,
                    };
                    bang_not(inner)
                }))
            }
            Token::Word(w) if is_word(&next, Keyword::INTERVAL) => {
                parser.next_token();
                if after == Token::LParen {
                    let name = Ident::new(w.value);
                    match parser.maybe_parse(|p| interval_function(p, name.clone())) {
                        Ok(Some(function)) => return Some(Ok(function)),
                        Ok(None) => {}
                        Err(e) => return Some(Err(e)),
                    }
                }
                Some(interval(parser))
            }
            Token::Word(_)
                if is_word(&next, Keyword::EXTRACT)
                    && after == Token::LParen
                    && compound_unit(&parser.peek_nth_token(2).token).is_some() =>
            {
                parser.next_token();
                Some(extract(parser))
            }
            Token::Word(_) if is_word(&next, Keyword::CAST) && after == Token::LParen => {
                let column_default = is_column_default(parser);
                parser.next_token();
                Some(cast(parser).and_then(|e| collated(parser, e, column_default)))
            }
            // `CHAR(n, ... USING cs)`; without USING, sqlparser's own call.
            Token::Word(w)
                if w.quote_style.is_none()
                    && is_word(&next, Keyword::CHAR)
                    && after == Token::LParen =>
            {
                let name = Ident::new(w.value);
                let column_default = is_column_default(parser);
                let read = parser.maybe_parse(|p| {
                    p.next_token();
                    char_using(p, name.clone())
                });
                match read {
                    Ok(Some(call)) => Some(collated(parser, call, column_default)),
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                }
            }
            Token::Word(_) if is_word(&next, Keyword::CONVERT) && after == Token::LParen => {
                let column_default = is_column_default(parser);
                parser.next_token();
                Some(convert(parser).and_then(|e| collated(parser, e, column_default)))
            }
            // `_cs b'0101'`: an introducer before a bit literal.
            Token::Word(w)
                if w.quote_style.is_none()
                    && w.value.starts_with('_')
                    && matches!(after, Token::SingleQuotedByteStringLiteral(_)) =>
            {
                parser.next_token();
                let Token::SingleQuotedByteStringLiteral(bits) = parser.next_token().token else {
                    return None;
                };
                Some(Ok(Expr::Prefixed {
                    prefix: Ident::new(w.value),
                    value: Box::new(Expr::Value(
                        Value::SingleQuotedByteStringLiteral(bits).into(),
                    )),
                }))
            }
            _ => None,
        }
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        let token = parser.peek_token().token;
        if sounds_like(parser) {
            // MariaDB's SOUNDEX(a) = SOUNDEX(b), printed as written; its right operand is
            // read as LIKE's.
            parser.next_token();
            parser.next_token();
            let like = self.prec_value(Precedence::Like);
            return Some(parser.parse_subexpr(like).map(|right| Expr::BinaryOp {
                left: Box::new(expr.clone()),
                op: BinaryOperator::Custom("SOUNDS LIKE".to_string()),
                right: Box::new(right),
            }));
        }
        let op = match token {
            Token::ShiftLeft => BinaryOperator::PGBitwiseShiftLeft,
            Token::ShiftRight => BinaryOperator::PGBitwiseShiftRight,
            Token::Overlap => BinaryOperator::And,
            Token::Word(_) if is_word(&token, Keyword::DIV) => BinaryOperator::MyIntegerDivide,
            Token::Word(_) if is_word(&token, Keyword::MOD) => BinaryOperator::Modulo,
            _ => return None,
        };
        parser.next_token();
        Some(
            parser
                .parse_subexpr(precedence)
                .map(|right| Expr::BinaryOp {
                    left: Box::new(expr.clone()),
                    op,
                    right: Box::new(right),
                }),
        )
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        if sounds_like(parser) {
            return Some(Ok(self.prec_value(Precedence::Like)));
        }
        let token = parser.peek_token().token;
        let precedence = match token {
            Token::Caret => CARET,
            Token::ShiftLeft | Token::ShiftRight => SHIFT,
            Token::Ampersand => AMPERSAND,
            Token::Pipe => PIPE,
            Token::Overlap => self.prec_value(Precedence::And),
            Token::StringConcat => self.prec_value(Precedence::Or),
            Token::Word(_) if is_word(&token, Keyword::XOR) => XOR,
            Token::Word(_) if is_word(&token, Keyword::MOD) => {
                self.prec_value(Precedence::MulDivModOp)
            }
            _ => return None,
        };
        Some(Ok(precedence))
    }

    fn parse_column_option(
        &self,
        parser: &mut Parser,
    ) -> Result<Option<Result<Option<ColumnOption>, ParserError>>, ParserError> {
        // MariaDB's `KEY` after a column's type is PRIMARY KEY; `UNIQUE KEY` is UNIQUE.
        let is_primary = if parser.parse_keyword(Keyword::KEY) {
            true
        } else if parser.parse_keywords(&[Keyword::UNIQUE, Keyword::KEY]) {
            false
        } else {
            return super::mariadb_grammar::column_option(parser);
        };
        Ok(Some(Ok(Some(ColumnOption::Unique {
            is_primary,
            characteristics: None,
        }))))
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::{BinaryOperator, ColumnOption, Expr, SelectItem, SetExpr, Statement};

    use super::super::parse_one;

    /// The first select item of `SELECT <expr>`.
    fn item(expr: &str) -> Expr {
        let sql = format!("SELECT {expr}");
        let Statement::Query(q) = parse_one(&sql).unwrap_or_else(|e| panic!("{sql}: {e}")) else {
            panic!("{sql}: not a query")
        };
        let SetExpr::Select(s) = *q.body else {
            panic!("{sql}: not a select")
        };
        match s.projection.into_iter().next() {
            Some(SelectItem::UnnamedExpr(e)) => e,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn top_op(expr: &str) -> BinaryOperator {
        match item(expr) {
            Expr::BinaryOp { op, .. } => op,
            other => panic!("{expr}: {other:?}"),
        }
    }

    #[test]
    fn bit_operators_print_back_and_bind_as_in_mariadb() {
        for (sql, printed) in [
            ("~a", "~a"),
            ("~ a ^ b", "~a ^ b"),
            ("a << 2", "a << 2"),
            ("a >> 1 + 1", "a >> 1 + 1"),
            ("a && b", "a AND b"),
            ("a MOD 3", "a % 3"),
            ("7 DIV 2", "7 DIV 2"),
            ("CAST(~0 AS UNSIGNED)", "CAST(~0 AS UNSIGNED)"),
            ("0x41 + 0x616E6E", "0x41 + 0x616E6E"),
            ("X'41' + x'4a'", "X'41' + X'4a'"),
        ] {
            assert_eq!(item(sql).to_string(), printed, "{sql}");
        }
        // `<<` binds tighter than `&`, which binds tighter than `|`, than `=`.
        assert_eq!(top_op("a << 1 & 3"), BinaryOperator::BitwiseAnd);
        assert_eq!(top_op("a & 1 | 2"), BinaryOperator::BitwiseOr);
        assert_eq!(top_op("a | 1 = 3"), BinaryOperator::Eq);
        assert_eq!(top_op("a + 1 << 2"), BinaryOperator::PGBitwiseShiftLeft);
        assert_eq!(top_op("a * 2 ^ 3"), BinaryOperator::Multiply);
        assert_eq!(top_op("-2 ^ 1"), BinaryOperator::BitwiseXor);
        assert_eq!(top_op("-a * 2"), BinaryOperator::Multiply);
        assert_eq!(top_op("a = 1 && b = 2"), BinaryOperator::And);
        // XOR between AND and OR; `||` at OR's level, never looked into.
        assert_eq!(top_op("a AND b XOR c"), BinaryOperator::Xor);
        assert_eq!(top_op("a XOR b OR c"), BinaryOperator::Or);
        assert_eq!(
            top_op("id = 1 AND 0 || b = 2"),
            BinaryOperator::StringConcat
        );
        assert_eq!(top_op("a MOD 2 + 1"), BinaryOperator::Plus);
        assert_eq!(top_op("a DIV 2 + 1"), BinaryOperator::Plus);
    }

    #[test]
    fn a_missing_operand_is_an_error_not_a_panic() {
        for sql in ["SELECT 1 DIV", "SELECT 1 <<", "SELECT ~", "SELECT BINARY"] {
            assert!(parse_one(sql).is_err(), "{sql}");
        }
    }

    #[test]
    fn mariadb_forms_print_as_mariadb_text_of_the_same_meaning() {
        for (sql, printed) in [
            (
                "EXTRACT(DAY_MICROSECOND FROM d)",
                "EXTRACT(DAY_MICROSECOND FROM d)",
            ),
            ("extract(year_month from d)", "EXTRACT(YEAR_MONTH FROM d)"),
            ("EXTRACT(HOUR FROM d)", "EXTRACT(HOUR FROM d)"),
            (
                "date_add(d, INTERVAL '1:1' MINUTE_SECOND)",
                "date_add(d, INTERVAL '1:1' MINUTE_SECOND)",
            ),
            ("d + INTERVAL 1 + 1 DAY", "d + INTERVAL 1 + 1 DAY"),
            ("_cp866 0xFF", "_cp866 X'FF'"),
            ("_latin1 b'0101'", "_latin1 B'0101'"),
            (
                "CAST(a AS CHAR CHARACTER SET latin1)",
                "CONVERT(a, CHAR CHARACTER SET latin1)",
            ),
            (
                "CAST(a AS CHAR(3) CHARSET binary)",
                "CONVERT(a, CHAR(3) CHARACTER SET binary)",
            ),
            ("CAST(a AS SIGNED)", "CAST(a AS SIGNED)"),
            (
                "CONVERT(a, CHAR CHARSET utf8mb4)",
                "CONVERT(a, CHAR CHARACTER SET utf8mb4)",
            ),
            ("CONVERT(a USING latin1)", "CONVERT(a USING latin1)"),
            ("BINARY a", "CAST(a AS BINARY)"),
            ("BINARY a = 'x'", "CAST(a AS BINARY) = 'x'"),
            ("BINARY 'x' + 1", "CAST('x' AS BINARY) + 1"),
            ("CHAR(seq USING utf32)", "CHAR(seq USING utf32)"),
            (
                "char(65, a + 1 using 'latin1')",
                "char(65, a + 1 USING 'latin1')",
            ),
            ("CHAR(65 USING `binary`)", "CHAR(65 USING `binary`)"),
            (
                "CONVERT(CHAR(a USING utf32) USING utf8mb3) COLLATE utf8mb3_general_ci",
                "CONVERT(CHAR(a USING utf32) USING utf8mb3) COLLATE utf8mb3_general_ci",
            ),
            ("CHAR(65, 66)", "CHAR(65, 66)"),
            (
                "CAST(a AS CHAR CHARSET latin1) COLLATE latin1_bin",
                "CONVERT(a, CHAR CHARACTER SET latin1) COLLATE latin1_bin",
            ),
            ("CAST(a AS SIGNED) COLLATE x", "CAST(a AS SIGNED) COLLATE x"),
        ] {
            assert_eq!(item(sql).to_string(), printed, "{sql}");
        }
        assert!(parse_one("SELECT d + INTERVAL 1 FORTNIGHT").is_err());
        for sql in [
            "SELECT CHAR(1 USING)",
            "SELECT CHAR(USING utf8)",
            "SELECT CHAR(1 USING 2)",
        ] {
            assert!(parse_one(sql).is_err(), "{sql}");
        }
    }

    #[test]
    fn bang_sounds_like_and_the_interval_function_read_as_in_mariadb() {
        for (sql, printed) in [
            ("!a", "!a"),
            ("!!a", "!!a"),
            ("!~a", "!~a"),
            ("! a + 1", "!a + 1"),
            ("-!a", "-!a"),
            ("!(a = 1)", "!(a = 1)"),
            ("a SOUNDS LIKE 'x'", "a SOUNDS LIKE 'x'"),
            ("a sounds like b || c", "a SOUNDS LIKE b || c"),
            ("INTERVAL(a, 1, 2)", "INTERVAL(a, 1, 2)"),
            ("interval(a + 1, 2)", "interval(a + 1, 2)"),
            ("d + INTERVAL (1) DAY", "d + INTERVAL (1) DAY"),
            ("d + INTERVAL (1 + 1) DAY", "d + INTERVAL (1 + 1) DAY"),
        ] {
            assert_eq!(item(sql).to_string(), printed, "{sql}");
        }
        // `!` takes a primary: `!a = 0` is `(!a) = 0`, `!a IS NULL` is `(!a) IS NULL`.
        assert_eq!(top_op("!a = 0"), BinaryOperator::Eq);
        assert_eq!(top_op("!a AND b"), BinaryOperator::And);
        assert!(matches!(item("!a IS NULL"), Expr::IsNull(_)));
        // SOUNDS LIKE binds as LIKE: below `|`, above AND.
        assert_eq!(top_op("a SOUNDS LIKE b AND c"), BinaryOperator::And);
        assert_eq!(
            top_op("a SOUNDS LIKE b | 1"),
            BinaryOperator::Custom("SOUNDS LIKE".to_string())
        );
        // A column named sounds stays an alias.
        assert!(matches!(
            parse_one("SELECT a sounds FROM t").expect("parses"),
            Statement::Query(_)
        ));
        for sql in ["SELECT !", "SELECT a SOUNDS LIKE", "SELECT INTERVAL(1)"] {
            assert!(parse_one(sql).is_err(), "{sql}");
        }
    }

    #[test]
    fn a_collate_after_a_columns_default_is_the_columns() {
        for sql in [
            "CREATE TABLE t (c VARCHAR(9) DEFAULT CONVERT('a' USING latin1) COLLATE latin1_bin)",
            "CREATE TABLE t (c VARCHAR(9) DEFAULT CAST(1 AS CHAR) COLLATE latin1_bin)",
            "CREATE TABLE t (c VARCHAR(9) DEFAULT CHAR(97 USING latin1) COLLATE latin1_bin)",
        ] {
            let Statement::CreateTable(t) = parse_one(sql).expect("parses") else {
                panic!("{sql}: not a CREATE TABLE")
            };
            let options: Vec<_> = t.columns[0].options.iter().map(|o| &o.option).collect();
            assert!(
                matches!(
                    options[..],
                    [ColumnOption::Default(_), ColumnOption::Collation(_)]
                ),
                "{sql}: {options:?}"
            );
        }
    }

    #[test]
    fn a_columns_key_is_its_primary_key() {
        assert_eq!(
            parse_one("CREATE TABLE t (id INT KEY, u INT UNIQUE KEY, v INT)")
                .expect("parses")
                .to_string(),
            "CREATE TABLE t (id INT PRIMARY KEY, u INT UNIQUE, v INT)"
        );
    }
}
