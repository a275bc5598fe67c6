//! MariaDB grammar sqlparser does not read, read by [`super::dialect::MariaDbDialect`]
//! (and, for two tokenizer slips, on sqlparser's tokens before it parses) into trees that
//! print back as MariaDB text of the same meaning:
//!
//! - an identifier of digits then `e` and a non-digit (`1Eq`, `1e`): sqlparser splits it
//!   into the number and a word, so `SELECT 1Eq FROM t` would read as `1 AS Eq`; the two
//!   tokens are joined back into the identifier MariaDB reads;
//! - `ESCAPE _cs 0xFF` (an introduced literal after ESCAPE, where sqlparser takes a bare
//!   literal only): kept as the verbatim text `_cs X'FF'`;
//! - a column's `CHARSET cs` (read as `CHARACTER SET cs`) and its `BINARY` attribute (the
//!   binary collation of its character set, kept as the word `BINARY`, which the
//!   sharding key's type reads);
//! - `CAST(x AS SIGNED INT)` / `UNSIGNED INT` (`SIGNED INTEGER`), and a cast type's
//!   length written as a decimal number, `DECIMAL(5.2)`, read as MariaDB does, `(5)`;
//! - ALTER TABLE's `ADD [COLUMN] [IF NOT EXISTS] (column or key, ...)` (one addition per
//!   element) and `ALTER INDEX i [NOT] IGNORED` (read as `LOCK = DEFAULT`, which changes
//!   nothing the planner checks; the data nodes get the statement's own text).

use sqlparser::ast::{AlterTableLock, AlterTableOperation, ColumnOption, DataType};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Word};

/// `token` is the unquoted word `keyword`.
fn is_word(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none())
}

/// sqlparser's tokens of `text` (string literals kept as written), with an identifier it
/// split at an `e` joined back and an introduced literal after ESCAPE made one token.
pub(super) fn tokenize(
    dialect: &dyn Dialect,
    text: &str,
) -> Result<Vec<TokenWithSpan>, ParserError> {
    let tokens = Tokenizer::new(dialect, text)
        .with_unescape(false)
        .tokenize_with_location()?;
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if let Some(joined) = tokens.get(i + 1).and_then(|next| split_identifier(t, next)) {
            out.push(joined);
            i += 2;
            continue;
        }
        if is_word(&t.token, Keyword::ESCAPE) {
            out.push(t.clone());
            if let Some((literal, consumed)) = introduced_literal(&tokens[i + 1..]) {
                out.push(literal);
                i += 1 + consumed;
                continue;
            }
            i += 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    Ok(out)
}

/// `1Eq` as sqlparser splits it: the number (or, after a `.`, word) `1` and, right after
/// it, the word `Eq` (its reading of an exponent without digits). The identifier
/// MariaDB reads.
fn split_identifier(number: &TokenWithSpan, word: &TokenWithSpan) -> Option<TokenWithSpan> {
    // After a `.` (`t.1Eq`) sqlparser makes the digits a word.
    let digits = match &number.token {
        Token::Number(digits, false) => digits,
        Token::Word(w) if w.quote_style.is_none() => &w.value,
        _ => return None,
    };
    let Token::Word(w) = &word.token else {
        return None;
    };
    let adjacent = number.span.end == word.span.start;
    let exponent_like = w.quote_style.is_none() && w.value.starts_with(['e', 'E']);
    if !adjacent || !exponent_like || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(TokenWithSpan {
        token: Token::make_word(&format!("{digits}{}", w.value), None),
        span: number.span.union(&word.span),
    })
}

/// After ESCAPE: `_cs` and a string, hex or bit literal, as one verbatim token (a
/// placeholder prints as its text); with the number of tokens it replaces.
fn introduced_literal(rest: &[TokenWithSpan]) -> Option<(TokenWithSpan, usize)> {
    let code: Vec<(usize, &TokenWithSpan)> = rest
        .iter()
        .enumerate()
        .filter(|(_, t)| !matches!(t.token, Token::Whitespace(_)))
        .take(2)
        .collect();
    let [(_, intro), (at, literal)] = code[..] else {
        return None;
    };
    let Token::Word(Word {
        value,
        quote_style: None,
        ..
    }) = &intro.token
    else {
        return None;
    };
    if value.len() < 2 || !value.starts_with('_') {
        return None;
    }
    let literal_text = match &literal.token {
        Token::HexStringLiteral(digits) => format!("X'{digits}'"),
        Token::SingleQuotedByteStringLiteral(bits) => format!("b'{bits}'"),
        // Kept as written (the tokenizer does not unescape); a quote or backslash inside
        // would need its escaping reproduced, so such text stays unread.
        Token::SingleQuotedString(s) if !s.contains(['\'', '\\']) => format!("'{s}'"),
        _ => return None,
    };
    Some((
        TokenWithSpan {
            token: Token::Placeholder(format!("{value} {literal_text}")),
            span: intro.span.union(&literal.span),
        },
        at + 1,
    ))
}

/// A column option sqlparser does not know: `CHARSET cs` and the `BINARY` attribute.
pub(super) fn column_option(
    parser: &mut Parser,
) -> Result<Option<Result<Option<ColumnOption>, ParserError>>, ParserError> {
    let next = parser.peek_token().token;
    if is_word(&next, Keyword::CHARSET) {
        parser.next_token();
        return Ok(Some(
            parser
                .parse_object_name(false)
                .map(|cs| Some(ColumnOption::CharacterSet(cs))),
        ));
    }
    if is_word(&next, Keyword::BINARY) {
        parser.next_token();
        return Ok(Some(Ok(Some(binary_attribute()))));
    }
    Ok(None)
}

/// The column option standing for the `BINARY` attribute.
fn binary_attribute() -> ColumnOption {
    ColumnOption::DialectSpecific(vec![Token::make_keyword("BINARY")])
}

/// True for a column's `BINARY` attribute (the binary collation of its character set).
pub(crate) fn is_binary_attribute(option: &ColumnOption) -> bool {
    matches!(option, ColumnOption::DialectSpecific(tokens)
        if tokens.len() == 1 && is_word(&tokens[0], Keyword::BINARY))
}

/// Cast types whose length MariaDB takes written as a decimal number (its integer part).
const DECIMAL_LENGTH_CASTS: &[Keyword] = &[
    Keyword::DECIMAL,
    Keyword::DEC,
    Keyword::CHAR,
    Keyword::NCHAR,
    Keyword::VARCHAR,
    Keyword::BINARY,
    Keyword::TIME,
    Keyword::DATETIME,
];

/// The type of a `CAST(x AS type` or `CONVERT(x, type`.
pub(super) fn cast_type(parser: &mut Parser) -> Result<DataType, ParserError> {
    let first = parser.peek_token().token;
    let second = parser.peek_nth_token(1).token;
    let int = is_word(&second, Keyword::INT) || is_word(&second, Keyword::INTEGER);
    if int && is_word(&first, Keyword::SIGNED) {
        parser.next_token();
        parser.next_token();
        return Ok(DataType::SignedInteger);
    }
    if int && is_word(&first, Keyword::UNSIGNED) {
        parser.next_token();
        parser.next_token();
        return Ok(DataType::UnsignedInteger);
    }
    let length = parser.peek_nth_token(2).token;
    let closes = parser.peek_nth_token(3).token == Token::RParen;
    let decimal_length = match &length {
        Token::Number(n, false) if closes && second == Token::LParen => n
            .split_once('.')
            .filter(|(whole, frac)| {
                !whole.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && frac.bytes().all(|b| b.is_ascii_digit())
            })
            .map(|(whole, _)| whole.to_string()),
        _ => None,
    };
    match decimal_length {
        Some(whole) if DECIMAL_LENGTH_CASTS.iter().any(|k| is_word(&first, *k)) => {
            let tokens: Vec<Token> = (0..4).map(|_| parser.next_token().token).collect();
            let mut rewritten = tokens;
            rewritten[2] = Token::Number(whole, false);
            let dialect = super::dialect::MariaDbDialect::new();
            Parser::new(&dialect)
                .with_tokens(rewritten)
                .parse_data_type()
        }
        _ => parser.parse_data_type(),
    }
}

/// An ALTER TABLE operation sqlparser does not read, as the operations it stands for;
/// None when the next one is not such.
pub(super) fn alter_operations(
    p: &mut Parser,
) -> Option<Result<Vec<AlterTableOperation>, ParserError>> {
    let peek = |p: &Parser, n: usize| p.peek_nth_token(n).token;
    if is_word(&peek(p, 0), Keyword::ADD) {
        let mut at = 1;
        let column_keyword = is_word(&peek(p, at), Keyword::COLUMN);
        if column_keyword {
            at += 1;
        }
        let if_not_exists = is_word(&peek(p, at), Keyword::IF)
            && is_word(&peek(p, at + 1), Keyword::NOT)
            && is_word(&peek(p, at + 2), Keyword::EXISTS);
        if if_not_exists {
            at += 3;
        }
        if peek(p, at) != Token::LParen {
            return None;
        }
        for _ in 0..=at {
            p.next_token();
        }
        return Some(add_list(p, column_keyword, if_not_exists));
    }
    let ignored = is_word(&peek(p, 0), Keyword::ALTER) && is_word(&peek(p, 1), Keyword::INDEX);
    if ignored {
        let not = is_word(&peek(p, 3), Keyword::NOT);
        let word = peek(p, if not { 4 } else { 3 });
        if matches!(&word, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("IGNORED"))
        {
            p.next_token();
            p.next_token();
            return Some(p.parse_identifier().map(|_| {
                if not {
                    p.next_token();
                }
                p.next_token();
                vec![AlterTableOperation::Lock {
                    equals: true,
                    lock: AlterTableLock::Default,
                }]
            }));
        }
    }
    None
}

/// `(column or key, ...)` after `ADD [COLUMN] [IF NOT EXISTS] (`: one addition each.
fn add_list(
    p: &mut Parser,
    column_keyword: bool,
    if_not_exists: bool,
) -> Result<Vec<AlterTableOperation>, ParserError> {
    let operations = p.parse_comma_separated(|p| {
        if let Some(constraint) = p.parse_optional_table_constraint()? {
            return Ok(AlterTableOperation::AddConstraint {
                constraint,
                not_valid: false,
            });
        }
        Ok(AlterTableOperation::AddColumn {
            column_keyword,
            if_not_exists,
            column_def: p.parse_column_def()?,
            column_position: None,
        })
    })?;
    p.expect_token(&Token::RParen)?;
    Ok(operations)
}

#[cfg(test)]
mod tests {
    use sqlparser::ast::{AlterTableOperation, Statement};

    use super::super::{parse_one, Source};

    /// `sql` (masked as the planner masks it) parsed and printed.
    fn printed(sql: &str) -> String {
        let src = Source::new(sql).expect("lexes");
        src.parse()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .to_string()
    }

    #[test]
    fn identifiers_of_digits_and_an_e_are_one_name() {
        assert_eq!(
            printed("SELECT 1 AS 1Eq, 2 AS 1e, 1Eq, t.1eX FROM t"),
            "SELECT 1 AS 1Eq, 2 AS 1e, 1Eq, t.1eX FROM t"
        );
        // Numbers stay numbers: an exponent with digits, or a space before the word.
        assert_eq!(
            printed("SELECT 1e5, 1 e, 1.5e"),
            "SELECT 1e5, 1 AS e, 1.5 AS e"
        );
    }

    #[test]
    fn an_introduced_escape_character_is_kept_verbatim() {
        assert_eq!(
            printed("SELECT _cp866'' LIKE _cp866'' ESCAPE _cp866 0xFF"),
            "SELECT _cp866 '' LIKE _cp866 '' ESCAPE _cp866 X'FF'"
        );
        assert_eq!(
            printed("SELECT a NOT LIKE 'x|%' ESCAPE _latin1 '|' FROM t"),
            "SELECT a NOT LIKE 'x|%' ESCAPE _latin1 '|' FROM t"
        );
        // A quote inside stays unread rather than re-escaped.
        assert!(Source::new("SELECT a LIKE 'x' ESCAPE _latin1 ''''")
            .expect("lexes")
            .parse()
            .is_err());
    }

    #[test]
    fn cast_types_are_read_as_mariadb_reads_them() {
        assert_eq!(
            printed("SELECT CAST(a AS SIGNED INT), CAST(a AS unsigned integer), CONVERT(a, SIGNED INT)"),
            "SELECT CAST(a AS SIGNED INTEGER), CAST(a AS UNSIGNED INTEGER), CONVERT(a, SIGNED INTEGER)"
        );
        assert_eq!(
            printed("SELECT CAST(a AS DECIMAL(5.2)), CAST(a AS CHAR(3.9)), CONVERT(a, DEC(4.))"),
            "SELECT CAST(a AS DECIMAL(5)), CAST(a AS CHAR(3)), CONVERT(a, DEC(4))"
        );
        // What MariaDB rejects stays unread.
        for sql in [
            "SELECT CAST(a AS SIGNED INT(3))",
            "SELECT CAST(a AS DOUBLE(5.2))",
            "SELECT CAST(a AS DECIMAL(5.2, 1))",
        ] {
            assert!(Source::new(sql).expect("lexes").parse().is_err(), "{sql}");
        }
    }

    #[test]
    fn column_charset_and_binary_attributes_are_read() {
        let sql = "CREATE TABLE t (a VARCHAR(32) CHARSET latin1, b CHAR(255) binary, c ENUM('a', 'A') BINARY, d VARCHAR(5) CHARSET latin1 BINARY NOT NULL)";
        let Statement::CreateTable(ct) = parse_one(sql).expect("parses") else {
            panic!("not a CREATE TABLE");
        };
        let binary: Vec<bool> = ct
            .columns
            .iter()
            .map(|c| {
                c.options
                    .iter()
                    .any(|o| super::is_binary_attribute(&o.option))
            })
            .collect();
        assert_eq!(binary, [false, true, true, true]);
        assert_eq!(
            ct.to_string(),
            "CREATE TABLE t (a VARCHAR(32) CHARACTER SET latin1, b CHAR(255) BINARY, c ENUM('a', 'A') BINARY, d VARCHAR(5) CHARACTER SET latin1 BINARY NOT NULL)"
        );
    }

    #[test]
    fn alter_tables_column_lists_and_ignored_indexes_are_read() {
        let Statement::AlterTable { operations, .. } = parse_one(
            "ALTER TABLE t ADD COLUMN (c INT, d INT UNIQUE), ADD (e INT, INDEX (e)), ALTER INDEX a1 IGNORED, alter index b not ignored, ADD f INT",
        )
        .expect("parses") else {
            panic!("not an ALTER TABLE");
        };
        let kinds: Vec<&str> = operations
            .iter()
            .map(|op| match op {
                AlterTableOperation::AddColumn { .. } => "column",
                AlterTableOperation::AddConstraint { .. } => "key",
                AlterTableOperation::Lock { .. } => "nothing",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["column", "column", "column", "key", "nothing", "nothing", "column"]
        );
        assert_eq!(
            printed("ALTER TABLE t ADD COLUMN IF NOT EXISTS (c INT)"),
            "ALTER TABLE t ADD COLUMN c INT"
        );
        assert_eq!(
            printed("ALTER TABLE t ADD IF NOT EXISTS (c INT)"),
            "ALTER TABLE t ADD IF NOT EXISTS c INT"
        );
        for sql in [
            "ALTER TABLE t ADD COLUMN ()",
            "ALTER TABLE t ALTER INDEX a1 IGNORED x",
            "ALTER TABLE t ADD (c INT",
        ] {
            assert!(parse_one(sql).is_err(), "{sql}");
        }
    }
}
