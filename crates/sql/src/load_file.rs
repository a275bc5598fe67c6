//! `LOAD_FILE(path)` reads a file of the server's host, which for a client of Strata is
//! the compute node's: the compute node reads the file and writes its value into the
//! text (see [`substitute_load_files`]) before a storage node, whose own files stay
//! private, runs the statement.

use crate::lexer::{code_tokens, string_value, Token, TokenKind};
use crate::row_count::{substitute_with, RowCountText};

/// The argument of a `LOAD_FILE` call whose value the text alone gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadFileArg {
    /// A file name, as its bytes.
    Path(Vec<u8>),
    /// NULL: the call's value is NULL.
    Null,
}

/// What replaces a call whose value is NULL: `LOAD_FILE(NULL)` reads no file, and keeps
/// the function's type (LONGBLOB) where a bare NULL would not.
pub const NULL_VALUE: &str = "LOAD_FILE(NULL)";

/// The literal that stands for a file's `bytes`: a binary string typed LONGBLOB and
/// nullable as the call is (a hex literal alone would be a number in a numeric context).
pub fn file_value(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 32);
    out.push_str("IF(1, X'");
    for b in bytes {
        out.push_str(&format!("{b:02X}"));
    }
    out.push_str("', LOAD_FILE(NULL))");
    out
}

/// Whether the call at token `i` is `LOAD_FILE(NULL)` (which reads no file).
pub fn is_null_call(sql: &str, toks: &[Token], i: usize) -> bool {
    matches!(
        call_at(sql, toks, i, false),
        Some((_, Some(LoadFileArg::Null)))
    )
}

/// Words after which `load_file (` names a table, not a call: `CREATE TABLE load_file(...)`,
/// `REFERENCES load_file(...)`, `INSERT INTO load_file(...)`.
const TABLE_NAME_BEFORE: [&str; 8] = [
    "TABLE",
    "EXISTS",
    "REFERENCES",
    "INTO",
    "INSERT",
    "UPDATE",
    "FROM",
    "JOIN",
];

/// Whether token `i` starts a call of the function `LOAD_FILE` (not a qualified name's
/// part, nor a table named `load_file` followed by its column list).
pub fn is_call(sql: &str, toks: &[Token], i: usize) -> bool {
    let Some(t) = toks.get(i) else {
        return false;
    };
    let before = i.checked_sub(1).and_then(|p| toks.get(p));
    t.kind == TokenKind::Ident
        && t.is_keyword(sql, "LOAD_FILE")
        && toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "("))
        && !before.is_some_and(|b| {
            b.is_punct(sql, ".") || TABLE_NAME_BEFORE.iter().any(|w| b.is_keyword(sql, w))
        })
}

/// The value of a string literal token; under `NO_BACKSLASH_ESCAPES` a backslash is
/// itself.
fn literal_value(text: &str, no_backslash_escapes: bool) -> Vec<u8> {
    if !no_backslash_escapes {
        return string_value(text).as_bytes().to_vec();
    }
    let Some(open) = text.find(['\'', '"']) else {
        return text.as_bytes().to_vec();
    };
    let quote = &text[open..open + 1];
    let body = &text[open + 1..];
    let body = body.strip_suffix(quote).unwrap_or(body);
    body.replace(&format!("{quote}{quote}"), quote).into_bytes()
}

/// The `LOAD_FILE(...)` call starting at token `i`: where it ends (a byte offset) and
/// its argument, None when that is not a literal (a column, a variable, an expression).
fn call_at(
    sql: &str,
    toks: &[Token],
    i: usize,
    no_backslash_escapes: bool,
) -> Option<(usize, Option<LoadFileArg>)> {
    if !is_call(sql, toks, i) {
        return None;
    }
    // The closing parenthesis.
    let mut depth = 0usize;
    let mut close = None;
    for (j, t) in toks.iter().enumerate().skip(i + 1) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                close = Some(j);
                break;
            }
        }
    }
    let close = close?;
    let args = &toks[i + 2..close];
    let arg = match args {
        [one] if one.is_keyword(sql, "NULL") => Some(LoadFileArg::Null),
        [one] if one.kind == TokenKind::HexNumber => {
            hex_value(one.text(sql)).map(LoadFileArg::Path)
        }
        [_, ..] if args.iter().all(|a| a.kind == TokenKind::String) => {
            let mut path = Vec::new();
            for a in args {
                path.extend(literal_value(a.text(sql), no_backslash_escapes));
            }
            Some(LoadFileArg::Path(path))
        }
        _ => None,
    };
    Some((toks[close].span.end, arg))
}

/// The bytes of a hex literal (`0x41`, `X'41'`); an odd number of digits is padded with
/// a leading zero, as MariaDB pads `0x` literals.
fn hex_value(text: &str) -> Option<Vec<u8>> {
    let digits = if let Some(d) = text.strip_prefix("0x") {
        d.to_string()
    } else {
        let inner = text.get(1..)?.strip_prefix('\'')?.strip_suffix('\'')?;
        inner.to_string()
    };
    let digits = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    };
    (0..digits.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(digits.get(k..k + 2)?, 16).ok())
        .collect()
}

/// Every `LOAD_FILE` call of `sql`, in order: its argument, None when that is not a
/// literal (`no_backslash_escapes`: the session's sql_mode has NO_BACKSLASH_ESCAPES).
pub fn load_file_calls(sql: &str, no_backslash_escapes: bool) -> Vec<Option<LoadFileArg>> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    (0..toks.len())
        .filter_map(|i| call_at(sql, &toks, i, no_backslash_escapes).map(|(_, arg)| arg))
        .collect()
}

/// `sql` with each `LOAD_FILE` call of a literal argument replaced by `value` of it
/// (calls of `LOAD_FILE(NULL)` are kept); with `select`, an item of the outermost
/// select list keeps its name as [`crate::substitute_row_count`] keeps it.
pub fn substitute_load_files(
    sql: &str,
    value: &dyn Fn(&LoadFileArg) -> String,
    select: bool,
    no_backslash_escapes: bool,
) -> RowCountText {
    let matcher =
        |s: &str, toks: &[Token], i: usize| match call_at(s, toks, i, no_backslash_escapes)? {
            (_, Some(LoadFileArg::Null)) | (_, None) => None,
            (end, Some(arg)) => Some((end, value(&arg))),
        };
    substitute_with(sql, &matcher, select)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_their_literal_arguments_are_found() {
        assert_eq!(
            load_file_calls(
                "SELECT load_file('/a/b'), LOAD_FILE ( \"c\" 'd' ) FROM t",
                false
            ),
            vec![
                Some(LoadFileArg::Path(b"/a/b".to_vec())),
                Some(LoadFileArg::Path(b"cd".to_vec()))
            ]
        );
        assert_eq!(
            load_file_calls(
                "SELECT LOAD_FILE(0x2f61), LOAD_FILE(NULL), LOAD_FILE(a), LOAD_FILE(CONCAT('a', 'b'))",
                false
            ),
            vec![
                Some(LoadFileArg::Path(b"/a".to_vec())),
                Some(LoadFileArg::Null),
                None,
                None
            ]
        );
        assert!(
            load_file_calls("SELECT 'LOAD_FILE(1)', db.load_file('x'), load_file", false)
                .is_empty()
        );
        // A table named load_file, with its column list.
        for sql in [
            "CREATE TABLE load_file(a INT)",
            "CREATE TABLE IF NOT EXISTS load_file (a INT)",
            "CREATE TABLE c (a INT, FOREIGN KEY (a) REFERENCES load_file(a))",
            "INSERT INTO load_file(a) VALUES (1)",
        ] {
            assert!(load_file_calls(sql, false).is_empty(), "{sql}");
        }
        assert_eq!(
            load_file_calls("SELECT a FROM t WHERE a = LOAD_FILE(b)", false),
            vec![None]
        );
        // Backslashes as the session's sql_mode reads them.
        let sql = r"SELECT LOAD_FILE('/a\\b''c')";
        assert_eq!(
            load_file_calls(sql, false),
            vec![Some(LoadFileArg::Path(br"/a\b'c".to_vec()))]
        );
        assert_eq!(
            load_file_calls(sql, true),
            vec![Some(LoadFileArg::Path(br"/a\\b'c".to_vec()))]
        );
    }

    #[test]
    fn calls_become_values_keeping_column_names() {
        let value = |a: &LoadFileArg| match a {
            LoadFileArg::Path(p) if p == b"/f" => file_value(b"ab"),
            _ => NULL_VALUE.to_string(),
        };
        let sub = |sql: &str| match substitute_load_files(sql, &value, true, false) {
            RowCountText::Substituted(t) => t,
            other => format!("{other:?}"),
        };
        assert_eq!(
            sub("SELECT LOAD_FILE('/f'), hex(load_file('/g')) AS h FROM t WHERE b = LOAD_FILE('/f')"),
            "SELECT IF(1, X'6162', LOAD_FILE(NULL)) AS `LOAD_FILE('/f')`, hex(LOAD_FILE(NULL)) AS h FROM t WHERE b = IF(1, X'6162', LOAD_FILE(NULL))"
        );
        assert_eq!(
            sub("INSERT INTO t VALUES (1, LOAD_FILE('/f'))"),
            "INSERT INTO t VALUES (1, IF(1, X'6162', LOAD_FILE(NULL)))"
        );
        assert_eq!(sub("SELECT LOAD_FILE(NULL)"), "Unchanged");
        assert_eq!(file_value(b""), "IF(1, X'', LOAD_FILE(NULL))");
    }
}
