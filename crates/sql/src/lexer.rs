//! MySQL tokenizer over `&str`: every byte of the input belongs to exactly one token, and a
//! token is only a kind plus a byte span, so lexing allocates nothing. Keywords are plain
//! identifiers (compare them with [`Token::is_keyword`]). Executable comments `/*! ... */`
//! are code: the lexer reports their opening and closing markers as trivia and lexes the
//! content as SQL. Strata hints `/*!strata:...*/` (alias `/*!hotdb:...*/`) are one
//! [`TokenKind::Hint`] token. Malformed input yields a [`TokenKind::Error`] token that runs
//! to the end of the input; the lexer never panics.
//!
//! Here the scanner; `token` holds what a token is, `value` what literal and
//! identifier tokens stand for.

mod token;
mod value;

pub use token::{LexErrorKind, Span, Token, TokenKind};
pub use value::{ident_value, string_value, user_var_name};

/// Tokenizer state: an iterator of [`Token`]s over one statement text.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    in_exec_comment: bool,
    prev_code_is_ident: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            in_exec_comment: false,
            prev_code_is_ident: false,
        }
    }

    /// The text being lexed.
    pub fn source(&self) -> &'a str {
        self.src
    }

    fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    fn lex_whitespace(&mut self) -> TokenKind {
        while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
            self.pos += 1;
        }
        TokenKind::Whitespace
    }

    fn lex_line_comment(&mut self) -> TokenKind {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
        TokenKind::LineComment
    }

    /// Moves past the `*/` that closes a comment whose body starts at `from` and returns
    /// `kind`; without one, the comment is malformed up to the end of the input.
    fn close_comment(&mut self, from: usize, kind: TokenKind) -> TokenKind {
        let end = self.bytes.get(from..).and_then(|rest| {
            rest.windows(2)
                .position(|w| w == b"*/")
                .map(|i| from + i + 2)
        });
        match end {
            Some(end) => {
                self.pos = end;
                kind
            }
            None => {
                self.pos = self.bytes.len();
                TokenKind::Error(LexErrorKind::UnterminatedComment)
            }
        }
    }

    /// Lexes `/* ... */`. An executable comment's content is code unless no server
    /// runs its version (see [`runs_version`]); Strata's own clauses in such a comment
    /// (`/*!999999 SHARD BY ... */`, which SHOW CREATE TABLE writes, and `/*!999999
    /// DEFAULT DATANODE ... RW_SPLIT ... */` of SHOW CREATE DATABASE: every MySQL and
    /// MariaDB server skips them) are code for Strata all the same ([`STRATA_CLAUSES`]).
    fn lex_slash_star(&mut self) -> TokenKind {
        let start = self.pos;
        let exec_marker = match (self.at(start + 2), self.at(start + 3)) {
            (b'!', _) => Some(3),
            (b'M', b'!') => Some(4),
            _ => None,
        };
        if let Some(marker) = exec_marker {
            let after = start + marker;
            if marker == 3
                && (starts_with_ci(&self.bytes[after..], b"strata:")
                    || starts_with_ci(&self.bytes[after..], b"hotdb:"))
            {
                return self.close_comment(after, TokenKind::Hint);
            }
            let digits = self.bytes[after..]
                .iter()
                .take(6)
                .take_while(|b| b.is_ascii_digit())
                .count();
            let digits = if digits >= 5 { digits } else { 0 };
            let content = after + digits;
            let code = self.bytes[content..].trim_ascii_start();
            if !runs_version(&self.bytes[after..content])
                && !STRATA_CLAUSES.iter().any(|c| starts_with_ci(code, c))
            {
                // No server runs it: a plain comment.
                return self.close_comment(content, TokenKind::BlockComment);
            }
            self.pos = content;
            self.in_exec_comment = true;
            return TokenKind::ExecCommentStart;
        }
        self.close_comment(start + 2, TokenKind::BlockComment)
    }

    /// Scans a quoted run starting at the opening quote; backslash escapes apply to strings
    /// only. Returns false if the closing quote is missing (then `pos` is at the end).
    fn scan_quoted(&mut self, quote: u8, backslash: bool) -> bool {
        let mut i = self.pos + 1;
        let len = self.bytes.len();
        while i < len {
            let b = self.bytes[i];
            if b == b'\\' && backslash {
                i += 2;
            } else if b == quote {
                if self.at(i + 1) == quote {
                    i += 2;
                } else {
                    self.pos = i + 1;
                    return true;
                }
            } else {
                i += 1;
            }
        }
        self.pos = len;
        false
    }

    fn lex_string(&mut self) -> TokenKind {
        let quote = self.bytes[self.pos];
        if self.scan_quoted(quote, true) {
            TokenKind::String
        } else {
            TokenKind::Error(LexErrorKind::UnterminatedString)
        }
    }

    fn lex_quoted_ident(&mut self) -> TokenKind {
        if self.scan_quoted(b'`', false) {
            TokenKind::QuotedIdent
        } else {
            TokenKind::Error(LexErrorKind::UnterminatedIdent)
        }
    }

    fn skip_ident_chars(&mut self) {
        while self.pos < self.bytes.len() && is_ident_byte(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    fn lex_ident(&mut self) -> TokenKind {
        self.skip_ident_chars();
        TokenKind::Ident
    }

    /// `X'..'` / `B'..'` literals (the prefix byte is at `pos`).
    fn lex_prefixed_quoted(&mut self, kind: TokenKind) -> TokenKind {
        self.pos += 1;
        if self.scan_quoted(b'\'', false) {
            kind
        } else {
            TokenKind::Error(LexErrorKind::UnterminatedString)
        }
    }

    fn lex_number(&mut self) -> TokenKind {
        let start = self.pos;
        let b1 = self.at(start + 1);
        if self.bytes[start] == b'0'
            && (b1 == b'x' || b1 == b'X')
            && self.at(start + 2).is_ascii_hexdigit()
        {
            self.pos = start + 2;
            while self.at(self.pos).is_ascii_hexdigit() {
                self.pos += 1;
            }
            return self.number_or_ident(start, TokenKind::HexNumber);
        }
        if self.bytes[start] == b'0'
            && (b1 == b'b' || b1 == b'B')
            && matches!(self.at(start + 2), b'0' | b'1')
        {
            self.pos = start + 2;
            while matches!(self.at(self.pos), b'0' | b'1') {
                self.pos += 1;
            }
            return self.number_or_ident(start, TokenKind::BitNumber);
        }
        while self.at(self.pos).is_ascii_digit() {
            self.pos += 1;
        }
        let mut kind = TokenKind::Integer;
        if self.at(self.pos) == b'.' {
            kind = TokenKind::Decimal;
            self.pos += 1;
            while self.at(self.pos).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.at(self.pos), b'e' | b'E') {
            let mut exp = self.pos + 1;
            if matches!(self.at(exp), b'+' | b'-') {
                exp += 1;
            }
            if self.at(exp).is_ascii_digit() {
                self.pos = exp;
                while self.at(self.pos).is_ascii_digit() {
                    self.pos += 1;
                }
                return TokenKind::Float;
            }
        }
        if kind == TokenKind::Integer {
            self.number_or_ident(start, kind)
        } else {
            kind
        }
    }

    /// MySQL reads `123abc` and `0x1g` as identifiers: digits followed by identifier
    /// characters are an identifier.
    fn number_or_ident(&mut self, start: usize, kind: TokenKind) -> TokenKind {
        if is_ident_byte(self.at(self.pos)) {
            self.pos = start;
            self.lex_ident()
        } else {
            kind
        }
    }

    fn lex_variable(&mut self) -> TokenKind {
        let start = self.pos;
        if self.at(start + 1) == b'@' {
            self.pos = start + 2;
            if !self.lex_var_name() {
                return TokenKind::Error(LexErrorKind::UnterminatedIdent);
            }
            if self.pos == start + 2 {
                return TokenKind::Punct;
            }
            if self.at(self.pos) == b'.'
                && (is_ident_byte(self.at(self.pos + 1)) || self.at(self.pos + 1) == b'`')
            {
                self.pos += 1;
                if !self.lex_var_name() {
                    return TokenKind::Error(LexErrorKind::UnterminatedIdent);
                }
            }
            return TokenKind::SysVar;
        }
        self.pos = start + 1;
        match self.at(self.pos) {
            b'\'' | b'"' => {
                let quote = self.at(self.pos);
                if self.scan_quoted(quote, true) {
                    TokenKind::UserVar
                } else {
                    TokenKind::Error(LexErrorKind::UnterminatedString)
                }
            }
            b'`' => {
                if self.scan_quoted(b'`', false) {
                    TokenKind::UserVar
                } else {
                    TokenKind::Error(LexErrorKind::UnterminatedIdent)
                }
            }
            b if is_ident_byte(b) || b == b'.' => {
                while is_ident_byte(self.at(self.pos)) || self.at(self.pos) == b'.' {
                    self.pos += 1;
                }
                TokenKind::UserVar
            }
            _ => TokenKind::Punct,
        }
    }

    /// A system variable name part: identifier characters or a backquoted identifier.
    /// Returns false if a backquote is unterminated.
    fn lex_var_name(&mut self) -> bool {
        if self.at(self.pos) == b'`' {
            return self.scan_quoted(b'`', false);
        }
        self.skip_ident_chars();
        true
    }

    fn lex_punct(&mut self) -> TokenKind {
        let rest = &self.bytes[self.pos..];
        const THREE: [&[u8]; 2] = [b"<=>", b"->>"];
        const TWO: [&[u8]; 10] = [
            b"<=", b">=", b"<>", b"!=", b":=", b"||", b"&&", b"<<", b">>", b"->",
        ];
        let len = if THREE.iter().any(|op| rest.starts_with(op)) {
            3
        } else if TWO.iter().any(|op| rest.starts_with(op)) {
            2
        } else {
            1
        };
        self.pos += len;
        TokenKind::Punct
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = *self.bytes.get(start)?;
        let b1 = self.at(start + 1);
        let kind = match b {
            _ if is_space(b) => self.lex_whitespace(),
            b'#' => self.lex_line_comment(),
            b'-' if b1 == b'-'
                && (start + 2 >= self.bytes.len() || self.bytes[start + 2] <= b' ') =>
            {
                self.lex_line_comment()
            }
            b'/' if b1 == b'*' => self.lex_slash_star(),
            b'*' if b1 == b'/' && self.in_exec_comment => {
                self.pos += 2;
                self.in_exec_comment = false;
                TokenKind::ExecCommentEnd
            }
            b'\'' | b'"' => self.lex_string(),
            b'`' => self.lex_quoted_ident(),
            b'0'..=b'9' => self.lex_number(),
            b'.' if b1.is_ascii_digit() && !self.prev_code_is_ident => self.lex_number(),
            b'?' => {
                self.pos += 1;
                TokenKind::Placeholder
            }
            b'@' => self.lex_variable(),
            b'x' | b'X' if b1 == b'\'' => self.lex_prefixed_quoted(TokenKind::HexNumber),
            b'b' | b'B' if b1 == b'\'' => self.lex_prefixed_quoted(TokenKind::BitNumber),
            b'n' | b'N' if b1 == b'\'' => {
                self.pos += 1;
                self.lex_string()
            }
            b'_' => {
                self.skip_ident_chars();
                if matches!(self.at(self.pos), b'\'' | b'"') {
                    self.lex_string()
                } else {
                    TokenKind::Ident
                }
            }
            _ if is_ident_byte(b) => self.lex_ident(),
            _ => self.lex_punct(),
        };
        if kind.is_code() {
            self.prev_code_is_ident = kind.is_ident();
        }
        Some(Token {
            kind,
            span: Span {
                start,
                end: self.pos,
            },
        })
    }
}

/// All tokens of `sql`, trivia included.
pub fn tokenize(sql: &str) -> Vec<Token> {
    Lexer::new(sql).collect()
}

/// The code tokens of `sql`: no whitespace, comments, executable-comment markers or hints.
pub fn code_tokens(sql: &str) -> impl Iterator<Item = Token> + '_ {
    Lexer::new(sql).filter(|t| t.kind.is_code())
}

/// Comments and whitespace with at least one comment (an executable comment's content
/// is code): MariaDB answers such a query with OK, and an empty one with 1065.
pub fn only_comments(sql: &str) -> bool {
    let mut comment = false;
    for token in Lexer::new(sql) {
        match token.kind {
            TokenKind::Whitespace => {}
            // An executable comment holding no code (`/*!*/`, `/*!40101 */`: what the
            // mariadb client leaves of `/*!\C cp932 */`) is a comment too for MariaDB.
            TokenKind::LineComment
            | TokenKind::BlockComment
            | TokenKind::ExecCommentStart
            | TokenKind::ExecCommentEnd => comment = true,
            _ => return false,
        }
    }
    comment
}

/// The tokens of `tokens` (from `sql`) outside any parentheses, the parentheses
/// themselves left out; an unbalanced `)` does not count.
pub fn outside_parens<'a>(
    sql: &'a str,
    tokens: impl Iterator<Item = Token> + 'a,
) -> impl Iterator<Item = Token> + 'a {
    let mut depth = 0usize;
    tokens.filter(move |t| {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else {
            return depth == 0;
        }
        false
    })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Bytes that may appear in an unquoted identifier (any non-ASCII byte, as MySQL allows
/// Unicode identifiers).
pub(crate) fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Lowest version of an executable comment that no server runs: no MySQL or MariaDB
/// release number is that high, and mariadb-dump marks its client-only first line with
/// 999999.
pub const NEVER_RUN_VERSION: u32 = 900_000;

/// Whether a storage server may run an executable comment of `version` (its digits;
/// empty: no version). Strata reads as code whatever some server it may front runs, so
/// its checks see all a storage node could execute; only the never-run versions are
/// comments.
/// How Strata's own clauses start inside a never-run versioned comment.
const STRATA_CLAUSES: [&[u8]; 3] = [b"SHARD BY", b"RW_SPLIT", b"DEFAULT DATANODE"];

fn runs_version(version: &[u8]) -> bool {
    let number = version
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    !(version.len() == 6 && number >= NEVER_RUN_VERSION)
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

#[cfg(test)]
mod tests;
