//! MySQL tokenizer over `&str`: every byte of the input belongs to exactly one token, and a
//! token is only a kind plus a byte span, so lexing allocates nothing. Keywords are plain
//! identifiers (compare them with [`Token::is_keyword`]). Executable comments `/*! ... */`
//! are code: the lexer reports their opening and closing markers as trivia and lexes the
//! content as SQL. Strata hints `/*!strata:...*/` (alias `/*!hotdb:...*/`) are one
//! [`TokenKind::Hint`] token. Malformed input yields a [`TokenKind::Error`] token that runs
//! to the end of the input; the lexer never panics.

use std::borrow::Cow;

/// Byte range `start..end` of a token in the statement text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte of the token.
    pub start: usize,
    /// One past the last byte of the token.
    pub end: usize,
}

impl Span {
    /// The text this span covers in `src` (empty if the span does not fit `src`).
    pub fn text(self, src: &str) -> &str {
        src.get(self.start..self.end).unwrap_or("")
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True for a zero-length span.
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// Why a token is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LexErrorKind {
    /// A `'...'` or `"..."` literal (or a quoted user variable) without its closing quote.
    UnterminatedString,
    /// A `` `...` `` identifier without its closing backquote.
    UnterminatedIdent,
    /// A `/* ...` comment or hint without its closing `*/`.
    UnterminatedComment,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Spaces, tabs, newlines.
    Whitespace,
    /// `-- ...` or `# ...` up to (not including) the end of the line.
    LineComment,
    /// `/* ... */` (also optimizer hints `/*+ ... */`).
    BlockComment,
    /// Opening of an executable comment: `/*!`, `/*!50700`, `/*M!100100`; its content is code.
    ExecCommentStart,
    /// The `*/` closing an executable comment.
    ExecCommentEnd,
    /// A Strata hint `/*!strata:...*/` or `/*!hotdb:...*/`, whole.
    Hint,
    /// An unquoted identifier or keyword.
    Ident,
    /// A `` `backquoted` `` identifier.
    QuotedIdent,
    /// A string literal: `'..'`, `".."`, `N'..'`, `_utf8mb4'..'`.
    String,
    /// An integer literal: `42`.
    Integer,
    /// A fixed-point literal: `1.5`, `.5`, `1.`.
    Decimal,
    /// A floating-point literal with an exponent: `1e10`, `1.5E-3`.
    Float,
    /// A hexadecimal literal: `0x1F`, `X'1F'`.
    HexNumber,
    /// A bit literal: `0b101`, `b'101'`.
    BitNumber,
    /// A `?` parameter placeholder.
    Placeholder,
    /// A user variable: `@name`, `@'quoted'`, `` @`quoted` ``.
    UserVar,
    /// A system variable: `@@name`, `@@session.name`, `@@global.name`, `@@local.name`.
    SysVar,
    /// An operator or punctuation: `(`, `,`, `<=>`, `:=`, `->>`, ...
    Punct,
    /// Malformed input, from where it starts to the end of the statement.
    Error(LexErrorKind),
}

impl TokenKind {
    /// Whitespace, comments and executable-comment markers: nothing a parser looks at.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Whitespace
                | TokenKind::LineComment
                | TokenKind::BlockComment
                | TokenKind::ExecCommentStart
                | TokenKind::ExecCommentEnd
        )
    }

    /// Tokens that are SQL code: neither trivia nor a hint.
    pub fn is_code(self) -> bool {
        !self.is_trivia() && self != TokenKind::Hint
    }

    /// Literals a digest replaces by `?`: strings and numbers of every form.
    pub fn is_literal(self) -> bool {
        matches!(
            self,
            TokenKind::String
                | TokenKind::Integer
                | TokenKind::Decimal
                | TokenKind::Float
                | TokenKind::HexNumber
                | TokenKind::BitNumber
        )
    }

    /// Plain or backquoted identifier.
    pub fn is_ident(self) -> bool {
        matches!(self, TokenKind::Ident | TokenKind::QuotedIdent)
    }
}

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it is in the statement text.
    pub span: Span,
}

impl Token {
    /// The token's text in `src`.
    pub fn text(self, src: &str) -> &str {
        self.span.text(src)
    }

    /// True if this is the unquoted identifier `kw`, compared case-insensitively.
    pub fn is_keyword(self, src: &str, kw: &str) -> bool {
        self.kind == TokenKind::Ident && self.text(src).eq_ignore_ascii_case(kw)
    }

    /// True if this is the punctuation `p`.
    pub fn is_punct(self, src: &str, p: &str) -> bool {
        self.kind == TokenKind::Punct && self.text(src) == p
    }

    /// For a [`TokenKind::Hint`], the text after `strata:` / `hotdb:` and before `*/`.
    pub fn hint_body(self, src: &str) -> Option<&str> {
        if self.kind != TokenKind::Hint {
            return None;
        }
        let text = self.text(src);
        let inner = text.get(3..text.len().checked_sub(2)?)?;
        let colon = inner.find(':')?;
        inner.get(colon + 1..)
    }
}

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

    /// Position just past the `*/` that closes a comment whose body starts at `from`.
    fn comment_end(&self, from: usize) -> Option<usize> {
        let rest = self.bytes.get(from..)?;
        rest.windows(2)
            .position(|w| w == b"*/")
            .map(|i| from + i + 2)
    }

    /// Lexes `/* ... */`. An executable comment's content is code unless no server
    /// runs its version (see [`runs_version`]); Strata's own distribution comment
    /// (`/*!999999 SHARD BY ... */`, which SHOW CREATE TABLE writes: every MySQL and
    /// MariaDB server skips it) is code for Strata all the same.
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
                return match self.comment_end(after) {
                    Some(end) => {
                        self.pos = end;
                        TokenKind::Hint
                    }
                    None => {
                        self.pos = self.bytes.len();
                        TokenKind::Error(LexErrorKind::UnterminatedComment)
                    }
                };
            }
            let digits = self.bytes[after..]
                .iter()
                .take(6)
                .take_while(|b| b.is_ascii_digit())
                .count();
            let digits = if digits >= 5 { digits } else { 0 };
            let content = after + digits;
            if !runs_version(&self.bytes[after..content])
                && !starts_with_ci(self.bytes[content..].trim_ascii_start(), b"SHARD BY")
            {
                // No server runs it: a plain comment.
                return match self.comment_end(content) {
                    Some(end) => {
                        self.pos = end;
                        TokenKind::BlockComment
                    }
                    None => {
                        self.pos = self.bytes.len();
                        TokenKind::Error(LexErrorKind::UnterminatedComment)
                    }
                };
            }
            self.pos = content;
            self.in_exec_comment = true;
            return TokenKind::ExecCommentStart;
        }
        match self.comment_end(start + 2) {
            Some(end) => {
                self.pos = end;
                TokenKind::BlockComment
            }
            None => {
                self.pos = self.bytes.len();
                TokenKind::Error(LexErrorKind::UnterminatedComment)
            }
        }
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
fn runs_version(version: &[u8]) -> bool {
    let number = version
        .iter()
        .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    !(version.len() == 6 && number >= NEVER_RUN_VERSION)
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// The name an identifier token stands for: backquotes removed and ``` `` ``` undoubled.
pub fn ident_value(text: &str) -> Cow<'_, str> {
    match text.strip_prefix('`') {
        Some(inner) => {
            let inner = inner.strip_suffix('`').unwrap_or(inner);
            if inner.contains("``") {
                Cow::Owned(inner.replace("``", "`"))
            } else {
                Cow::Borrowed(inner)
            }
        }
        None => Cow::Borrowed(text),
    }
}

/// The value of a string literal token: introducer (`_utf8mb4`, `N`) and quotes removed,
/// backslash escapes and doubled quotes resolved as MySQL does.
pub fn string_value(text: &str) -> Cow<'_, str> {
    let Some(open) = text.find(['\'', '"']) else {
        return Cow::Borrowed(text);
    };
    let quote = text.as_bytes()[open] as char;
    let body = &text[open + 1..];
    let body = body.strip_suffix(quote).unwrap_or(body);
    if !body.contains('\\') && !body.contains(quote) {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('Z') => out.push('\u{1a}'),
                Some(c @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(c);
                }
                Some(c) => out.push(c),
                None => out.push('\\'),
            }
        } else if c == quote {
            // A doubled quote stands for one; the lexer guarantees the pair.
            out.push(c);
            chars.next();
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The name of a user variable token (`@name`, `@'name'`, `` @`name` ``), lowercased as
/// MySQL compares user variable names case-insensitively.
pub fn user_var_name(text: &str) -> String {
    let body = text.strip_prefix('@').unwrap_or(text);
    let name = match body.as_bytes().first() {
        Some(b'\'' | b'"') => string_value(body),
        Some(b'`') => ident_value(body),
        _ => Cow::Borrowed(body),
    };
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        tokenize(sql)
            .into_iter()
            .filter(|t| t.kind != TokenKind::Whitespace)
            .map(|t| (t.kind, t.text(sql)))
            .collect()
    }

    use TokenKind as K;

    #[test]
    fn lexes_each_token_kind() {
        let cases: &[(&str, &[(TokenKind, &str)])] = &[
            ("select", &[(K::Ident, "select")]),
            (
                "t1.c_2$",
                &[(K::Ident, "t1"), (K::Punct, "."), (K::Ident, "c_2$")],
            ),
            ("`a``b`", &[(K::QuotedIdent, "`a``b`")]),
            (
                "'it''s' \"q\\\"\"",
                &[(K::String, "'it''s'"), (K::String, "\"q\\\"\"")],
            ),
            (
                "_utf8mb4'x' N'y' n'z'",
                &[
                    (K::String, "_utf8mb4'x'"),
                    (K::String, "N'y'"),
                    (K::String, "n'z'"),
                ],
            ),
            (
                "_utf8mb4 'x'",
                &[(K::Ident, "_utf8mb4"), (K::String, "'x'")],
            ),
            (
                "42 1.5 .5 1. 1e10 1.5E-3 2e+2",
                &[
                    (K::Integer, "42"),
                    (K::Decimal, "1.5"),
                    (K::Decimal, ".5"),
                    (K::Decimal, "1."),
                    (K::Float, "1e10"),
                    (K::Float, "1.5E-3"),
                    (K::Float, "2e+2"),
                ],
            ),
            (
                "0x1F X'1f' x'' 0b101 b'01' B'1'",
                &[
                    (K::HexNumber, "0x1F"),
                    (K::HexNumber, "X'1f'"),
                    (K::HexNumber, "x''"),
                    (K::BitNumber, "0b101"),
                    (K::BitNumber, "b'01'"),
                    (K::BitNumber, "B'1'"),
                ],
            ),
            (
                "123abc 0x1g 1e",
                &[(K::Ident, "123abc"), (K::Ident, "0x1g"), (K::Ident, "1e")],
            ),
            (
                "t.5c",
                &[(K::Ident, "t"), (K::Punct, "."), (K::Ident, "5c")],
            ),
            ("? ?", &[(K::Placeholder, "?"), (K::Placeholder, "?")]),
            (
                "@a @a.b$ @'x y' @`q` @\"d\"",
                &[
                    (K::UserVar, "@a"),
                    (K::UserVar, "@a.b$"),
                    (K::UserVar, "@'x y'"),
                    (K::UserVar, "@`q`"),
                    (K::UserVar, "@\"d\""),
                ],
            ),
            (
                "@@autocommit @@session.tx_isolation @@GLOBAL.x @@local.y",
                &[
                    (K::SysVar, "@@autocommit"),
                    (K::SysVar, "@@session.tx_isolation"),
                    (K::SysVar, "@@GLOBAL.x"),
                    (K::SysVar, "@@local.y"),
                ],
            ),
            (
                "a<=>b->>'$.x'",
                &[
                    (K::Ident, "a"),
                    (K::Punct, "<=>"),
                    (K::Ident, "b"),
                    (K::Punct, "->>"),
                    (K::String, "'$.x'"),
                ],
            ),
            (
                "a:=1,b!=2;",
                &[
                    (K::Ident, "a"),
                    (K::Punct, ":="),
                    (K::Integer, "1"),
                    (K::Punct, ","),
                    (K::Ident, "b"),
                    (K::Punct, "!="),
                    (K::Integer, "2"),
                    (K::Punct, ";"),
                ],
            ),
            (
                "1-- c\n2",
                &[
                    (K::Integer, "1"),
                    (K::LineComment, "-- c"),
                    (K::Integer, "2"),
                ],
            ),
            (
                "1--2",
                &[
                    (K::Integer, "1"),
                    (K::Punct, "-"),
                    (K::Punct, "-"),
                    (K::Integer, "2"),
                ],
            ),
            (
                "1 # c\n2",
                &[
                    (K::Integer, "1"),
                    (K::LineComment, "# c"),
                    (K::Integer, "2"),
                ],
            ),
            (
                "1 /* c */ 2 /*+ BKA(t) */",
                &[
                    (K::Integer, "1"),
                    (K::BlockComment, "/* c */"),
                    (K::Integer, "2"),
                    (K::BlockComment, "/*+ BKA(t) */"),
                ],
            ),
            (
                "/*!40101 SET x=1*/",
                &[
                    (K::ExecCommentStart, "/*!40101"),
                    (K::Ident, "SET"),
                    (K::Ident, "x"),
                    (K::Punct, "="),
                    (K::Integer, "1"),
                    (K::ExecCommentEnd, "*/"),
                ],
            ),
            (
                "/*! STRAIGHT_JOIN */ /*M!100100 a*/",
                &[
                    (K::ExecCommentStart, "/*!"),
                    (K::Ident, "STRAIGHT_JOIN"),
                    (K::ExecCommentEnd, "*/"),
                    (K::ExecCommentStart, "/*M!100100"),
                    (K::Ident, "a"),
                    (K::ExecCommentEnd, "*/"),
                ],
            ),
            (
                // Versions no server runs are comments (mariadb-dump's sandbox line);
                // any other version is code, as some storage server may run it; Strata's
                // own distribution comment is read.
                "/*!50700 a*/ /*M!999999\\- enable the sandbox mode */ /*!101200 c*/ /*!999999 SHARD BY GLOBAL */",
                &[
                    (K::ExecCommentStart, "/*!50700"),
                    (K::Ident, "a"),
                    (K::ExecCommentEnd, "*/"),
                    (K::BlockComment, "/*M!999999\\- enable the sandbox mode */"),
                    (K::ExecCommentStart, "/*!101200"),
                    (K::Ident, "c"),
                    (K::ExecCommentEnd, "*/"),
                    (K::ExecCommentStart, "/*!999999"),
                    (K::Ident, "SHARD"),
                    (K::Ident, "BY"),
                    (K::Ident, "GLOBAL"),
                    (K::ExecCommentEnd, "*/"),
                ],
            ),
            (
                "/*!strata:dnid=1*/select 2*3 /*!HotDB:rw=slave*/",
                &[
                    (K::Hint, "/*!strata:dnid=1*/"),
                    (K::Ident, "select"),
                    (K::Integer, "2"),
                    (K::Punct, "*"),
                    (K::Integer, "3"),
                    (K::Hint, "/*!HotDB:rw=slave*/"),
                ],
            ),
            (
                "'abc",
                &[(K::Error(LexErrorKind::UnterminatedString), "'abc")],
            ),
            (
                "`abc",
                &[(K::Error(LexErrorKind::UnterminatedIdent), "`abc")],
            ),
            (
                "1 /* abc",
                &[
                    (K::Integer, "1"),
                    (K::Error(LexErrorKind::UnterminatedComment), "/* abc"),
                ],
            ),
            (
                "'a\\'",
                &[(K::Error(LexErrorKind::UnterminatedString), "'a\\'")],
            ),
            (
                "/*!strata:dnid=1",
                &[(
                    K::Error(LexErrorKind::UnterminatedComment),
                    "/*!strata:dnid=1",
                )],
            ),
            ("café 表", &[(K::Ident, "café"), (K::Ident, "表")]),
        ];
        for (sql, expected) in cases {
            assert_eq!(kinds(sql), expected.to_vec(), "lexing {sql:?}");
        }
    }

    #[test]
    fn hint_body_is_the_text_after_the_prefix() {
        let sql = "/*!strata:dnid=all*/ /*!hotdb:rw=master*/";
        let bodies: Vec<_> = tokenize(sql)
            .into_iter()
            .filter_map(|t| t.hint_body(sql))
            .collect();
        assert_eq!(bodies, ["dnid=all", "rw=master"]);
    }

    #[test]
    fn literal_values_are_unescaped() {
        let cases = [
            ("'abc'", "abc"),
            ("'it''s'", "it's"),
            ("\"say \"\"hi\"\"\"", "say \"hi\""),
            ("'a\\nb\\tc\\\\d\\'e'", "a\nb\tc\\d'e"),
            ("'100\\%'", "100\\%"),
            ("_utf8mb4'x'", "x"),
            ("N'über'", "über"),
            ("''", ""),
        ];
        for (text, value) in cases {
            assert_eq!(string_value(text), value, "string {text}");
        }
        assert_eq!(ident_value("`a``b`"), "a`b");
        assert_eq!(ident_value("plain"), "plain");
        assert_eq!(user_var_name("@'My Var'"), "my var");
        assert_eq!(user_var_name("@Foo"), "foo");
        assert_eq!(user_var_name("@`x`"), "x");
    }

    proptest! {
        #[test]
        fn lexing_arbitrary_text_never_panics_and_spans_tile_the_input(s in "\\PC*") {
            check_tiling(&s);
        }

        #[test]
        fn lexing_sql_like_text_never_panics_and_spans_tile_the_input(
            s in "[ \\t\\n'\"`@.0-9a-fxXbBnN_*/!#;:=<>()?\\\\-]{0,40}"
        ) {
            check_tiling(&s);
        }
    }

    fn check_tiling(s: &str) {
        let mut expected_start = 0;
        for t in Lexer::new(s) {
            assert_eq!(t.span.start, expected_start);
            assert!(t.span.end > t.span.start, "empty token in {s:?}");
            assert!(s.is_char_boundary(t.span.end));
            expected_start = t.span.end;
        }
        assert_eq!(expected_start, s.len());
    }
}
