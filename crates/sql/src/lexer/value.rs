//! What literal and identifier tokens stand for: quotes removed, escapes resolved.

use std::borrow::Cow;

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
