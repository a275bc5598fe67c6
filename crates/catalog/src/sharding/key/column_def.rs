//! Column definitions as MariaDB writes them (`int(11) unsigned`, `varchar(32) collate
//! utf8mb4_bin`), read into base type, arguments and attributes.

use strata_mysql::{Charset, Collation};

use super::ShardingError;

/// MariaDB's default server collation, for string columns with no charset anywhere.
const SERVER_DEFAULT_COLLATION: &str = "utf8mb4_general_ci";

/// A parsed column type: base name, numeric arguments, attributes.
pub(super) struct ColumnDef {
    pub(super) base: String,
    pub(super) args: Vec<u32>,
    pub(super) unsigned: bool,
    binary_attr: bool,
    national: bool,
    charset: Option<String>,
    collate: Option<String>,
}

impl ColumnDef {
    /// The length of a CHAR/BINARY (1 when not written) or VARCHAR/VARBINARY column.
    pub(super) fn length(&self) -> Option<u32> {
        match (self.args.first(), self.base.as_str()) {
            (Some(n), _) => Some(*n),
            (None, "char" | "nchar" | "binary") => Some(1),
            (None, _) => None,
        }
    }

    pub(super) fn parse(type_text: &str) -> Result<ColumnDef, ShardingError> {
        let lower = type_text.trim().to_ascii_lowercase();
        let tokens = tokenize(&lower);
        let mut words = tokens.iter().peekable();
        let mut base = match words.next() {
            Some(Token::Word(w)) => w.clone(),
            _ => {
                return Err(ShardingError::unsupported_key_type(
                    type_text,
                    "not a column type",
                ))
            }
        };
        let mut national = false;
        if base == "national" {
            national = true;
            base = match words.next() {
                Some(Token::Word(w)) => w.clone(),
                _ => base,
            };
        }
        let next_word = |w: &mut std::iter::Peekable<std::slice::Iter<'_, Token>>, s: &str| {
            if matches!(w.peek(), Some(Token::Word(x)) if x == s) {
                w.next();
                true
            } else {
                false
            }
        };
        let written = base.clone();
        base = match written.as_str() {
            "character" | "char" if next_word(&mut words, "varying") => "varchar".into(),
            "character" => "char".into(),
            "double" => {
                next_word(&mut words, "precision");
                "double".into()
            }
            "long" if next_word(&mut words, "varchar") => "long varchar".into(),
            "long" if next_word(&mut words, "varbinary") => "long varbinary".into(),
            "nchar" if next_word(&mut words, "varchar") || next_word(&mut words, "varying") => {
                national = true;
                "varchar".into()
            }
            "nchar" | "nvarchar" => {
                national = true;
                base
            }
            _ => base,
        };
        let mut args = Vec::new();
        if matches!(words.peek(), Some(Token::Open)) {
            words.next();
            for t in words.by_ref() {
                match t {
                    Token::Close => break,
                    Token::Word(w) => {
                        if let Ok(n) = w.parse::<u32>() {
                            args.push(n);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut def = ColumnDef {
            base,
            args,
            unsigned: false,
            binary_attr: false,
            national,
            charset: None,
            collate: None,
        };
        while let Some(t) = words.next() {
            let Token::Word(w) = t else { continue };
            match w.as_str() {
                "unsigned" => def.unsigned = true,
                "binary" => def.binary_attr = true,
                "ascii" => def.charset = Some("latin1".into()),
                "charset" => def.charset = word(words.next()),
                "character" if next_word(&mut words, "set") => def.charset = word(words.next()),
                "collate" => def.collate = word(words.next()),
                _ => {}
            }
        }
        Ok(def)
    }

    /// The collation of a string column (see `from_column_definition`).
    pub(super) fn collation(
        &self,
        collation: Option<&str>,
        table_default: Option<&str>,
    ) -> Result<Collation, ShardingError> {
        let charset = match (&self.charset, self.national) {
            (Some(cs), _) => Some(
                Charset::from_name(cs).ok_or_else(|| ShardingError::unsupported_collation(cs))?,
            ),
            (None, true) => Some(Charset::Utf8mb3),
            (None, false) => None,
        };
        let named = self.collate.as_deref().or(collation);
        let chosen = if let Some(name) = named {
            let c = Collation::from_name(name)
                .ok_or_else(|| ShardingError::unsupported_collation(name))?;
            if let Some(cs) = charset {
                if cs != c.charset() {
                    return Err(ShardingError::unsupported_key_type(
                        &self.base,
                        &format!(
                            "collation '{}' is not valid for character set '{}'",
                            c.name(),
                            cs.name()
                        ),
                    ));
                }
            }
            c
        } else if let Some(cs) = charset {
            if self.binary_attr {
                cs.bin_collation()
            } else {
                cs.default_collation()
            }
        } else {
            let fallback = match table_default {
                Some(name) => match Charset::from_name(name) {
                    Some(cs) => cs.default_collation(),
                    None => Collation::from_name(name)
                        .ok_or_else(|| ShardingError::unsupported_collation(name))?,
                },
                None => Collation::from_name(SERVER_DEFAULT_COLLATION).ok_or_else(|| {
                    ShardingError::unsupported_collation(SERVER_DEFAULT_COLLATION)
                })?,
            };
            if self.binary_attr {
                fallback.charset().bin_collation()
            } else {
                fallback
            }
        };
        Ok(chosen)
    }
}

/// A token of a column type.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Open,
    Close,
    Other,
}

fn word(t: Option<&Token>) -> Option<String> {
    match t {
        Some(Token::Word(w)) => Some(w.clone()),
        _ => None,
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&ch) = chars.peek() {
        if ch.is_ascii_alphanumeric() || ch == '_' || ch == '$' {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                    w.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token::Word(w));
        } else if ch == '\'' || ch == '"' || ch == '`' {
            // Quoted text (ENUM members, quoted names): one token; quotes stripped.
            chars.next();
            let mut w = String::new();
            for c in chars.by_ref() {
                if c == ch {
                    break;
                }
                w.push(c);
            }
            out.push(Token::Word(w));
        } else {
            chars.next();
            out.push(match ch {
                '(' => Token::Open,
                ')' => Token::Close,
                c if c.is_whitespace() => continue,
                _ => Token::Other,
            });
        }
    }
    out
}
