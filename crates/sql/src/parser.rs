//! A cursor over the code tokens of one statement, shared by the small parsers. Trivia and
//! hints are dropped up front and a trailing `;` is ignored, so each parser sees only the
//! statement's grammar.

use crate::error::SqlError;
use crate::lexer::{ident_value, string_value, Lexer, Token, TokenKind};

/// Code tokens of a statement and a position in them.
pub(crate) struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

impl<'a> Parser<'a> {
    /// A cursor at the first code token of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        let mut toks: Vec<Token> = Lexer::new(src).filter(|t| t.kind.is_code()).collect();
        while toks.last().is_some_and(|t| t.is_punct(src, ";")) {
            toks.pop();
        }
        Parser { src, toks, pos: 0 }
    }

    pub(crate) fn src(&self) -> &'a str {
        self.src
    }

    pub(crate) fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, n: usize) -> Option<Token> {
        self.toks.get(self.pos + n).copied()
    }

    pub(crate) fn advance(&mut self) -> Option<Token> {
        let t = self.peek()?;
        self.pos += 1;
        Some(t)
    }

    /// The token consumed last.
    pub(crate) fn previous(&self) -> Option<Token> {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i).copied())
    }

    pub(crate) fn text(&self, t: Token) -> &'a str {
        t.text(self.src)
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub(crate) fn peek_is_keyword(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_keyword(self.src, kw))
    }

    pub(crate) fn peek_at_is_keyword(&self, n: usize, kw: &str) -> bool {
        self.peek_at(n).is_some_and(|t| t.is_keyword(self.src, kw))
    }

    pub(crate) fn peek_is_punct(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.is_punct(self.src, p))
    }

    /// Consumes the keyword `kw` if it is next.
    pub(crate) fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = self.peek_is_keyword(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Consumes whichever of `kws` is next and returns its index.
    pub(crate) fn eat_one_of(&mut self, kws: &[&str]) -> Option<usize> {
        let i = kws.iter().position(|kw| self.peek_is_keyword(kw))?;
        self.pos += 1;
        Some(i)
    }

    pub(crate) fn eat_punct(&mut self, p: &str) -> bool {
        let hit = self.peek_is_punct(p);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub(crate) fn expect_keyword(&mut self, kw: &'static str) -> Result<(), SqlError> {
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(self.error(kw))
        }
    }

    pub(crate) fn expect_end(&self) -> Result<(), SqlError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("end of statement"))
        }
    }

    /// A syntax error at the next token (or at the end of the input).
    pub(crate) fn error(&self, expected: &'static str) -> SqlError {
        let offset = self.peek().map_or(self.src.len(), |t| t.span.start);
        SqlError::syntax_at(self.src, offset, expected)
    }

    /// An identifier (plain or backquoted), unquoted.
    pub(crate) fn ident(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(t) if t.kind.is_ident() => {
                self.pos += 1;
                Ok(ident_value(self.text(t)).into_owned())
            }
            _ => Err(self.error("identifier")),
        }
    }

    /// An identifier or a string literal (charset names, LIKE patterns), unquoted.
    pub(crate) fn ident_or_string(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(t) if t.kind == TokenKind::String => {
                self.pos += 1;
                Ok(string_value(self.text(t)).into_owned())
            }
            Some(t) if t.kind.is_ident() => {
                self.pos += 1;
                Ok(ident_value(self.text(t)).into_owned())
            }
            _ => Err(self.error("name")),
        }
    }

    /// A string literal's value.
    pub(crate) fn string(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(t) if t.kind == TokenKind::String => {
                self.pos += 1;
                Ok(string_value(self.text(t)).into_owned())
            }
            _ => Err(self.error("string literal")),
        }
    }

    /// An unsigned integer literal.
    pub(crate) fn unsigned(&mut self) -> Result<u64, SqlError> {
        match self.peek() {
            Some(t) if t.kind == TokenKind::Integer => {
                let n = self.text(t).parse().map_err(|_| self.error("integer"))?;
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.error("integer")),
        }
    }

    /// Source text from the next token to the end of the statement (trailing `;` excluded),
    /// and consumes it all.
    pub(crate) fn rest_text(&mut self) -> Result<&'a str, SqlError> {
        let (Some(first), Some(last)) = (self.peek(), self.toks.last().copied()) else {
            return Err(self.error("expression"));
        };
        self.pos = self.toks.len();
        Ok(&self.src[first.span.start..last.span.end])
    }

    /// Tokens from the next one up to (not including) a `,` at parenthesis depth 0 or the
    /// end; consumes them and returns their first and last token.
    /// With `stop`, it also stops before that keyword at depth 0 (`FOR` ends the
    /// assignments of `SET STATEMENT`).
    pub(crate) fn expression_before(
        &mut self,
        stop: Option<&str>,
    ) -> Result<(Token, Token), SqlError> {
        let first = self.peek().ok_or_else(|| self.error("expression"))?;
        if first.is_punct(self.src, ",") {
            return Err(self.error("expression"));
        }
        let mut depth = 0usize;
        let mut last = first;
        while let Some(t) = self.peek() {
            if let TokenKind::Error(_) = t.kind {
                return Err(self.error("expression"));
            }
            if t.kind == TokenKind::Punct {
                match self.text(t) {
                    "(" => depth += 1,
                    ")" => depth = depth.saturating_sub(1),
                    "," if depth == 0 => break,
                    _ => {}
                }
            }
            if depth == 0 && stop.is_some_and(|kw| t.is_keyword(self.src, kw)) {
                break;
            }
            last = t;
            self.pos += 1;
        }
        Ok((first, last))
    }
}
