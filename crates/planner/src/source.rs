//! A statement's text before planning: its tokens, its Strata hints, the MySQL clauses
//! sqlparser cannot read (masked out with spaces, so byte offsets and line/column
//! positions stay those of the original), the parsed statement with `?` placeholders
//! bound to parameter values, and the text to forward to a single node (hints removed,
//! parameters inlined, everything else byte-identical).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions_mut, Expr, Statement, Value, VisitMut};
use sqlparser::parser::{Parser, ParserOptions};
use strata_catalog::sharding::KeyLiteral;
use strata_catalog::DataNodeId;
use strata_sql::lexer::string_value;
use strata_sql::{Lexer, Token, TokenKind};

use crate::error::PlanError;
use crate::literal::sql_literal;

mod dialect;
mod dual;
mod mariadb_grammar;
mod mariadb_only;

pub(crate) use mariadb_grammar::is_binary_attribute;

/// Routing asked for by a `/*!strata:...*/` (or `/*!hotdb:...*/`) hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HintRoute {
    /// `dnid=all`.
    All,
    /// `dnid=N` (or `dnid=N,M`).
    Nodes(Vec<DataNodeId>),
    /// `table=t:value`: the node holding `value` of `t`'s sharding column.
    TableKey {
        /// Table name as written.
        table: String,
        /// The key value as written.
        value: String,
    },
}

/// Clauses masked out of the text given to sqlparser, which the planner honours itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Masked {
    /// `SQL_CALC_FOUND_ROWS`.
    pub calc_found_rows: bool,
    /// `LOCK IN SHARE MODE` (re-appended to rewritten per-node SELECTs).
    pub lock_in_share_mode: bool,
    /// `GROUP BY ... WITH ROLLUP`.
    pub with_rollup: bool,
    /// `UPDATE ... ORDER BY ...`.
    pub update_order_by: bool,
    /// The keys of that ORDER BY, as written (byte range of the text).
    pub update_order_keys: Option<std::ops::Range<usize>>,
}

/// A statement's text, tokens, hints and masked clauses.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    /// The original text.
    pub sql: &'a str,
    /// Every token of it, trivia included.
    pub tokens: Vec<Token>,
    /// The routing hint, if any.
    pub hint: Option<HintRoute>,
    /// What was masked.
    pub masked: Masked,
    /// The text sqlparser reads: the original with masked clauses and hints blanked.
    pub parse_text: String,
}

impl<'a> Source<'a> {
    /// Lexes `sql`, reads its hints and masks what sqlparser cannot parse.
    pub(crate) fn new(sql: &'a str) -> Result<Source<'a>, PlanError> {
        let tokens: Vec<Token> = Lexer::new(sql).collect();
        let mut hint = None;
        let mut blank: Vec<(usize, usize)> = Vec::new();
        let mut replace: Vec<(usize, usize, &'static str)> = Vec::new();
        for t in &tokens {
            // An executable comment's content is code (the lexer made the skipped ones
            // plain comments): sqlparser reads it without the markers.
            if matches!(
                t.kind,
                TokenKind::ExecCommentStart | TokenKind::ExecCommentEnd
            ) {
                blank.push((t.span.start, t.span.end));
            }
            if let Some(body) = t.hint_body(sql) {
                if let Some(h) = parse_hint(body)? {
                    hint = Some(h);
                }
                blank.push((t.span.start, t.span.end));
            }
        }
        let code: Vec<Token> = tokens
            .iter()
            .copied()
            .filter(|t| t.kind.is_code())
            .collect();
        let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
        let first = code.first().map(|t| t.text(sql).to_ascii_uppercase());
        let mariadb_only = mariadb_only::edits(&code, sql, first.as_deref());
        blank.extend(mariadb_only.blank);
        replace.extend(mariadb_only.replace);
        let mut masked = Masked::default();
        let mut depth = 0i32;
        let mut i = 0;
        while i < code.len() {
            let t = code[i];
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth -= 1;
            } else if kw(i, "SELECT") {
                let mut j = i + 1;
                while let Some(opt) = code.get(j) {
                    let word = opt.text(sql).to_ascii_uppercase();
                    match word.as_str() {
                        "ALL" | "DISTINCT" => {}
                        "DISTINCTROW" => replace.push((opt.span.start, opt.span.end, "DISTINCT")),
                        "HIGH_PRIORITY" | "STRAIGHT_JOIN" | "SQL_SMALL_RESULT"
                        | "SQL_BIG_RESULT" | "SQL_BUFFER_RESULT" | "SQL_NO_CACHE" | "SQL_CACHE" => {
                            blank.push((opt.span.start, opt.span.end))
                        }
                        "SQL_CALC_FOUND_ROWS" => {
                            masked.calc_found_rows = true;
                            blank.push((opt.span.start, opt.span.end));
                        }
                        _ => break,
                    }
                    j += 1;
                }
                i = j;
                continue;
            } else if kw(i, "LOCK") && kw(i + 1, "IN") && kw(i + 2, "SHARE") && kw(i + 3, "MODE") {
                masked.lock_in_share_mode = true;
                blank.push((t.span.start, code[i + 3].span.end));
                i += 4;
                continue;
            } else if kw(i, "WITH") && kw(i + 1, "ROLLUP") {
                masked.with_rollup = true;
                blank.push((t.span.start, code[i + 1].span.end));
                i += 2;
                continue;
            } else if depth == 0
                && i > 0
                && first.as_deref() == Some("UPDATE")
                && kw(i, "ORDER")
                && kw(i + 1, "BY")
            {
                masked.update_order_by = true;
                let j = outside_parens(&code, sql, i + 2, |n| {
                    n.is_keyword(sql, "LIMIT") || n.is_punct(sql, ";")
                });
                let end = code.get(j - 1).map_or(t.span.end, |n| n.span.end);
                masked.update_order_keys = code.get(i + 2).map(|k| k.span.start..end);
                blank.push((t.span.start, end));
                i = j;
                continue;
            }
            i += 1;
        }
        // Statement modifiers sqlparser does not know.
        let modifiers: &[&str] = match first.as_deref() {
            Some("UPDATE") => &["LOW_PRIORITY", "IGNORE"],
            Some("DELETE") => &["LOW_PRIORITY", "QUICK", "IGNORE"],
            Some("INSERT") | Some("REPLACE") => &["DELAYED"],
            _ => &[],
        };
        let mut j = 1;
        while let Some(t) = code.get(j) {
            if !modifiers.iter().any(|m| t.is_keyword(sql, m)) {
                break;
            }
            if first.as_deref() != Some("INSERT") || t.is_keyword(sql, "DELAYED") {
                blank.push((t.span.start, t.span.end));
            }
            j += 1;
        }
        let mut bytes = sql.as_bytes().to_vec();
        for (start, end) in blank {
            for b in &mut bytes[start..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        }
        for (start, end, with) in replace {
            let target = &mut bytes[start..end];
            for (k, b) in target.iter_mut().enumerate() {
                *b = with.as_bytes().get(k).copied().unwrap_or(b' ');
            }
        }
        // Blanking whole tokens (ASCII keywords, hints) keeps the text valid UTF-8 except
        // inside a hint with multi-byte characters; fall back to a lossy copy then.
        let parse_text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(Source {
            sql,
            tokens,
            hint,
            masked,
            parse_text,
        })
    }

    /// The number of binary operators (AND, OR, `+`, `=`, ...): a bound on how deep the
    /// parsed expression trees can be, which recursive passes over them must respect.
    pub(crate) fn operator_count(&self) -> usize {
        const WORDS: &[&str] = &["AND", "OR", "XOR", "DIV", "MOD", "LIKE", "REGEXP", "RLIKE"];
        let mut count = 0;
        let mut prev_operand = false;
        for t in self.tokens.iter().filter(|t| t.kind.is_code()) {
            let text = t.text(self.sql);
            let operand = match t.kind {
                TokenKind::Punct => {
                    if text != "("
                        && text != ")"
                        && text != ","
                        && text != ";"
                        && text != "."
                        && prev_operand
                    {
                        count += 1;
                    }
                    text == ")"
                }
                TokenKind::Ident if WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) => {
                    count += 1;
                    false
                }
                _ => true,
            };
            prev_operand = operand;
        }
        count
    }

    /// The number of `?` placeholders.
    pub(crate) fn placeholder_count(&self) -> usize {
        self.tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Placeholder)
            .count()
    }

    /// Parses the statement (exactly one).
    pub(crate) fn parse(&self) -> Result<Statement, PlanError> {
        parse_one(&self.parse_text)
    }

    /// Binds every `?` of `stmt` (parsed from this source) to its parameter value.
    pub(crate) fn bind(
        &self,
        stmt: &mut Statement,
        params: Option<&[KeyLiteral]>,
    ) -> Result<(), PlanError> {
        let Some(params) = params else {
            return Ok(());
        };
        if params.len() != self.placeholder_count() {
            return Err(PlanError::WrongArguments);
        }
        let values: Vec<String> = params.iter().map(sql_literal).collect();
        let positions = placeholder_positions(self.sql, &self.tokens);
        bind_placeholders(stmt, &positions, &values)
    }

    /// The text for one data node: hints removed and `?` replaced by the parameter
    /// values; otherwise the original bytes.
    pub(crate) fn forward_text(&self, params: Option<&[KeyLiteral]>) -> Cow<'a, str> {
        let has_hint = self.tokens.iter().any(|t| t.kind == TokenKind::Hint);
        let bind = params.is_some() && self.placeholder_count() > 0;
        if !has_hint && !bind {
            return Cow::Borrowed(self.sql);
        }
        let mut out = String::with_capacity(self.sql.len() + 16);
        let mut next_param = 0;
        for t in &self.tokens {
            match t.kind {
                TokenKind::Hint => {
                    let before = out
                        .as_bytes()
                        .last()
                        .is_some_and(|b| !b.is_ascii_whitespace());
                    let after = self
                        .sql
                        .as_bytes()
                        .get(t.span.end)
                        .is_some_and(|b| !b.is_ascii_whitespace());
                    if before && after {
                        out.push(' ');
                    }
                }
                TokenKind::Placeholder => match params.and_then(|p| p.get(next_param)) {
                    Some(v) => {
                        out.push_str(&sql_literal(v));
                        next_param += 1;
                    }
                    None => out.push_str(t.text(self.sql)),
                },
                _ => out.push_str(t.text(self.sql)),
            }
        }
        let trimmed = out.trim_start();
        if trimmed.len() != out.len() {
            out = trimmed.to_string();
        }
        Cow::Owned(out)
    }
}

/// The index of the first token from `from` on that `stop` accepts outside the
/// parentheses opened after `from`, or `code.len()`.
pub(crate) fn outside_parens(
    code: &[Token],
    sql: &str,
    from: usize,
    stop: impl Fn(&Token) -> bool,
) -> usize {
    let mut depth = 0i32;
    for (i, t) in code.iter().enumerate().skip(from) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0 && stop(t) {
            return i;
        }
    }
    code.len()
}

pub(crate) use strata_sql::select_list::select_item_texts;

/// The name an identifier stands for. Statements are parsed without unescaping (so
/// that they print back as written), which leaves a quoted name's doubled backticks in
/// its value.
pub(crate) fn ident_name(ident: &sqlparser::ast::Ident) -> String {
    match ident.quote_style {
        Some('`') => ident.value.replace("``", "`"),
        _ => ident.value.clone(),
    }
}

/// Parses exactly one statement of the MySQL dialect (with MariaDB's expression grammar
/// where the two differ), keeping string literals as written.
pub(crate) fn parse_one(text: &str) -> Result<Statement, PlanError> {
    let dialect = dialect::MariaDbDialect::new();
    let mut statements = mariadb_grammar::tokenize(&dialect, text)
        .map(|tokens| {
            Parser::new(&dialect)
                .with_options(ParserOptions::new().with_unescape(false))
                .with_tokens_with_locations(tokens)
        })
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| {
            let msg = e.to_string();
            PlanError::Parse(
                msg.strip_prefix("sql parser error: ")
                    .unwrap_or(&msg)
                    .to_string(),
            )
        })?;
    match statements.len() {
        1 => {
            let mut stmt = statements.remove(0);
            dual::drop_from_dual(&mut stmt);
            Ok(stmt)
        }
        0 => Err(PlanError::Parse("Query was empty".into())),
        _ => Err(PlanError::unsupported("several statements in one query")),
    }
}

/// (line, column) of each `?` token, 1-based as sqlparser counts them (columns in
/// characters), mapped to its ordinal.
pub(crate) fn placeholder_positions(sql: &str, tokens: &[Token]) -> HashMap<(u64, u64), usize> {
    token_positions(
        sql,
        tokens.iter().filter(|t| t.kind == TokenKind::Placeholder),
    )
    .into_iter()
    .enumerate()
    .map(|(ordinal, (at, _))| (at, ordinal))
    .collect()
}

/// Each of `tokens` (in text order) with its 1-based (line, column) as sqlparser counts
/// them (columns in characters).
pub(crate) fn token_positions<'t>(
    sql: &str,
    tokens: impl Iterator<Item = &'t Token>,
) -> Vec<((u64, u64), Token)> {
    let mut out = Vec::new();
    let (mut line, mut col, mut at) = (1u64, 1u64, 0usize);
    for t in tokens {
        for c in sql.get(at..t.span.start).unwrap_or("").chars() {
            if c == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        at = t.span.start;
        out.push(((line, col), *t));
    }
    out
}

/// Replaces each `?` value of `stmt` by `Value::Placeholder(values[ordinal])`, the
/// ordinal found from its position.
pub(crate) fn bind_placeholders<V: VisitMut>(
    stmt: &mut V,
    positions: &HashMap<(u64, u64), usize>,
    values: &[impl AsRef<str>],
) -> Result<(), PlanError> {
    let mut missing = false;
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Value(v) = e {
            if matches!(&v.value, Value::Placeholder(p) if p == "?") {
                let at = (v.span.start.line, v.span.start.column);
                match positions.get(&at).and_then(|&i| values.get(i)) {
                    Some(text) => v.value = Value::Placeholder(text.as_ref().to_string()),
                    None => missing = true,
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if missing {
        return Err(PlanError::WrongArguments);
    }
    Ok(())
}

/// Reads a hint body (`dnid=1`, `dnid=all`, `table=t:5`); other hints (`rw=...`) are
/// for the server and give None.
fn parse_hint(body: &str) -> Result<Option<HintRoute>, PlanError> {
    let Some((key, value)) = body.split_once('=') else {
        return Ok(None);
    };
    let value = value.trim();
    match key.trim().to_ascii_lowercase().as_str() {
        "dnid" => {
            if value.eq_ignore_ascii_case("all") {
                return Ok(Some(HintRoute::All));
            }
            strata_sql::ddl::parse_data_nodes(value)
                .filter(|n| !n.is_empty())
                .map(|n| Some(HintRoute::Nodes(DataNodeId::from_numbers(&n))))
                .ok_or_else(|| PlanError::Parse(format!("bad dnid hint '{body}'")))
        }
        "table" => {
            let (table, key) = value
                .split_once(':')
                .ok_or_else(|| PlanError::Parse(format!("bad table hint '{body}'")))?;
            let key = key.trim();
            let key = if key.starts_with('\'') || key.starts_with('"') {
                string_value(key).into_owned()
            } else {
                key.to_string()
            };
            Ok(Some(HintRoute::TableKey {
                table: table.trim().trim_matches('`').to_string(),
                value: key,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_read_and_removed_from_forwarded_text() {
        let cases = [
            (
                "/*!strata:dnid=2*/ SELECT * FROM t",
                Some(HintRoute::Nodes(vec![DataNodeId::new(2)])),
                "SELECT * FROM t",
            ),
            (
                "SELECT/*!hotdb:dnid=all*/1",
                Some(HintRoute::All),
                "SELECT 1",
            ),
            (
                "/*!strata:table=orders:'a b'*/ DELETE FROM orders",
                Some(HintRoute::TableKey {
                    table: "orders".into(),
                    value: "a b".into(),
                }),
                "DELETE FROM orders",
            ),
            ("/*!strata:rw=slave*/ SELECT 1", None, "SELECT 1"),
        ];
        for (sql, hint, forwarded) in cases {
            let src = Source::new(sql).expect("lexes");
            assert_eq!(src.hint, hint, "{sql}");
            assert_eq!(src.forward_text(None), forwarded, "{sql}");
        }
    }

    #[test]
    fn parameters_are_inlined_as_literals() {
        let src = Source::new("SELECT ? , a FROM t WHERE b = ? AND c = '?'").expect("lexes");
        let params = [
            KeyLiteral::Integer("-3".into()),
            KeyLiteral::String(b"it's".to_vec()),
        ];
        assert_eq!(
            src.forward_text(Some(&params)),
            "SELECT (-3) , a FROM t WHERE b = 'it\\'s' AND c = '?'"
        );
        let mut stmt = src.parse().expect("parses");
        src.bind(&mut stmt, Some(&params)).expect("binds");
        assert_eq!(
            stmt.to_string(),
            "SELECT (-3), a FROM t WHERE b = 'it\\'s' AND c = '?'"
        );
        assert_eq!(
            src.bind(&mut src.parse().expect("parses"), Some(&params[..1])),
            Err(PlanError::WrongArguments)
        );
    }

    #[test]
    fn clauses_sqlparser_cannot_read_are_masked() {
        let cases = [
            (
                "SELECT SQL_CALC_FOUND_ROWS SQL_NO_CACHE * FROM t",
                "SELECT * FROM t",
            ),
            (
                "SELECT DISTINCTROW a FROM t LOCK IN SHARE MODE",
                "SELECT DISTINCT a FROM t",
            ),
            (
                "UPDATE LOW_PRIORITY IGNORE t SET a = 1 ORDER BY b DESC LIMIT 2",
                "UPDATE t SET a = 1 LIMIT 2",
            ),
            (
                "DELETE QUICK FROM t WHERE a = 1",
                "DELETE FROM t WHERE a = 1",
            ),
        ];
        for (sql, printed) in cases {
            let src = Source::new(sql).expect("lexes");
            let stmt = src.parse().expect("parses");
            let expected = parse_one(printed).expect("expected parses");
            assert_eq!(stmt.to_string(), expected.to_string(), "{sql}");
        }
        let src = Source::new("SELECT a, COUNT(*) FROM t GROUP BY a WITH ROLLUP").expect("lexes");
        assert_eq!(
            select_item_texts("SELECT DISTINCT a,COUNT( * ), f(x, y) AS z FROM t"),
            Some(vec!["a", "COUNT( * )", "f(x, y) AS z"])
        );
        assert!(src.masked.with_rollup);
        assert!(src.parse().is_ok());
    }
}
