//! Tokens: a kind plus a byte span into the statement text.

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
