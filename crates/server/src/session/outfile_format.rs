//! `SELECT ... INTO OUTFILE/DUMPFILE`: the INTO clause taken out of the statement, and
//! rows written byte for byte as MariaDB's `select_export` writes them (the escape
//! character before the escape, enclosure, field and line separator characters and NUL
//! (as `0`), `\N` for NULL, numbers left unenclosed by OPTIONALLY ENCLOSED BY).

use strata_protocol::constants::coltype;
use strata_protocol::packets::ColumnDef;
use strata_sql::lexer::string_value;
use strata_sql::{code_tokens, Token, TokenKind};

/// MariaDB's ESCAPE_CHARS: a field separator among them is written doubled, not escaped.
const ESCAPE_CHARS: &[u8] = b"ntrb0ZN";
/// MariaDB's NUMERIC_CHARS: a field separator among them escapes numbers too.
const NUMERIC_CHARS: &[u8] = b".0123456789e+-";

/// Where the rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// `INTO OUTFILE`: rows in the format.
    Outfile(Export),
    /// `INTO DUMPFILE`: one row's values, raw.
    Dumpfile,
}

/// An `INTO OUTFILE`'s CHARACTER SET, FIELDS and LINES clauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Export {
    /// `CHARACTER SET cs`, lowercased.
    pub charset: Option<String>,
    /// `FIELDS TERMINATED BY` (default tab).
    pub field_term: Vec<u8>,
    /// `ENCLOSED BY` (default empty).
    pub enclosed: Vec<u8>,
    /// `OPTIONALLY ENCLOSED BY`.
    pub optionally: bool,
    /// `ESCAPED BY` (default backslash).
    pub escaped: Vec<u8>,
    /// ESCAPED BY was written (it holds under NO_BACKSLASH_ESCAPES).
    pub escaped_given: bool,
    /// `LINES STARTING BY` (default empty).
    pub line_start: Vec<u8>,
    /// `LINES TERMINATED BY` (default newline).
    pub line_term: Vec<u8>,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            charset: None,
            field_term: b"\t".to_vec(),
            enclosed: Vec::new(),
            optionally: false,
            escaped: b"\\".to_vec(),
            escaped_given: false,
            line_start: Vec::new(),
            line_term: b"\n".to_vec(),
        }
    }
}

/// A SELECT split at its `INTO OUTFILE/DUMPFILE` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SelectToFile {
    /// The statement without its INTO clause.
    pub select: String,
    /// The file name as written (escapes resolved).
    pub file: String,
    /// What is written.
    pub target: Target,
    /// MariaDB's 1287: a plain SELECT whose INTO follows its FROM.
    pub deprecated: bool,
}

/// The statement split at its INTO OUTFILE/DUMPFILE clause, when it is a SELECT with
/// one at its top level; Err(()) when the clause is malformed (MariaDB's parser then
/// answers), None when there is none.
pub(super) fn split_select_to_file(sql: &str) -> Option<Result<SelectToFile, ()>> {
    // Executable comments are code (mariadb-dump --tab writes `/*!50138 CHARACTER SET
    // binary */`): their markers go, so that the clause can be cut out whole.
    let opened: String;
    let sql = if sql.contains("/*") {
        let mut text = sql.to_string();
        for t in strata_sql::tokenize(sql).iter().rev() {
            if matches!(
                t.kind,
                TokenKind::ExecCommentStart | TokenKind::ExecCommentEnd
            ) {
                text.replace_range(t.span.start..t.span.end, " ");
            }
        }
        opened = text;
        opened.as_str()
    } else {
        sql
    };
    let tokens: Vec<Token> = code_tokens(sql).collect();
    let first = tokens.first()?;
    if !(first.is_keyword(sql, "SELECT") || first.is_punct(sql, "(")) {
        return None;
    }
    let mut depth = 0usize;
    let mut seen_from = false;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_keyword(sql, "FROM") {
            seen_from = true;
        } else if depth == 0
            && t.is_keyword(sql, "INTO")
            && tokens
                .get(i + 1)
                .is_some_and(|n| n.is_keyword(sql, "OUTFILE") || n.is_keyword(sql, "DUMPFILE"))
        {
            let set_operation = tokens.iter().any(|t| {
                ["UNION", "EXCEPT", "INTERSECT"]
                    .iter()
                    .any(|k| t.is_keyword(sql, k))
            });
            let deprecated = first.is_keyword(sql, "SELECT") && !set_operation && seen_from;
            return Some(parse_clause(sql, &tokens, i).map(|mut s| {
                s.deprecated = deprecated;
                s
            }));
        }
    }
    None
}

/// Parses the clause starting at `tokens[at]` (`INTO`).
fn parse_clause(sql: &str, tokens: &[Token], at: usize) -> Result<SelectToFile, ()> {
    let kw = |i: usize, k: &str| tokens.get(i).is_some_and(|t| t.is_keyword(sql, k));
    let string = |i: usize| -> Result<Vec<u8>, ()> {
        match tokens.get(i) {
            Some(t) if t.kind == TokenKind::String => {
                Ok(string_value(t.text(sql)).into_owned().into_bytes())
            }
            _ => Err(()),
        }
    };
    let dump = kw(at + 1, "DUMPFILE");
    let file = String::from_utf8(string(at + 2)?).map_err(|_| ())?;
    let mut i = at + 3;
    let target = if dump {
        Target::Dumpfile
    } else {
        let mut export = Export::default();
        if kw(i, "CHARACTER") && kw(i + 1, "SET") {
            i += 2;
            export.charset = Some(charset_name(sql, tokens.get(i))?);
            i += 1;
        } else if kw(i, "CHARSET") {
            export.charset = Some(charset_name(sql, tokens.get(i + 1))?);
            i += 2;
        }
        if kw(i, "FIELDS") || kw(i, "COLUMNS") {
            i += 1;
            let start = i;
            loop {
                if kw(i, "TERMINATED") && kw(i + 1, "BY") {
                    export.field_term = string(i + 2)?;
                    i += 3;
                } else if kw(i, "OPTIONALLY") && kw(i + 1, "ENCLOSED") && kw(i + 2, "BY") {
                    export.enclosed = string(i + 3)?;
                    export.optionally = true;
                    i += 4;
                } else if kw(i, "ENCLOSED") && kw(i + 1, "BY") {
                    export.enclosed = string(i + 2)?;
                    i += 3;
                } else if kw(i, "ESCAPED") && kw(i + 1, "BY") {
                    export.escaped = string(i + 2)?;
                    export.escaped_given = true;
                    i += 3;
                } else {
                    break;
                }
            }
            if i == start {
                return Err(());
            }
        }
        if kw(i, "LINES") {
            i += 1;
            let start = i;
            loop {
                if kw(i, "STARTING") && kw(i + 1, "BY") {
                    export.line_start = string(i + 2)?;
                    i += 3;
                } else if kw(i, "TERMINATED") && kw(i + 1, "BY") {
                    export.line_term = string(i + 2)?;
                    i += 3;
                } else {
                    break;
                }
            }
            if i == start {
                return Err(());
            }
        }
        if export.enclosed.len() > 1 || export.escaped.len() > 1 {
            return Err(());
        }
        Target::Outfile(export)
    };
    let start = tokens[at].span.start;
    let end = tokens.get(i - 1).map_or(sql.len(), |t| t.span.end);
    let rest = sql.get(end..).unwrap_or("");
    let select = format!(
        "{} {}",
        sql.get(..start).unwrap_or("").trim_end(),
        rest.trim_start()
    );
    Ok(SelectToFile {
        select: select.trim().to_string(),
        file,
        target,
        deprecated: false,
    })
}

fn charset_name(sql: &str, t: Option<&Token>) -> Result<String, ()> {
    match t {
        Some(t) if t.kind.is_ident() || t.kind == TokenKind::String => {
            let text = t.text(sql);
            let name = if t.kind == TokenKind::String {
                string_value(text).into_owned()
            } else {
                strata_sql::lexer::ident_value(text).into_owned()
            };
            Ok(name.to_ascii_lowercase())
        }
        _ => Err(()),
    }
}

/// True for the column types MariaDB's `select_export` treats as numbers (not
/// STRING_RESULT): never enclosed by OPTIONALLY ENCLOSED BY, escaped only when the
/// field separator could be read as part of a number.
fn numeric(def: &ColumnDef) -> bool {
    matches!(
        def.col_type,
        coltype::DECIMAL
            | coltype::NEWDECIMAL
            | coltype::TINY
            | coltype::SHORT
            | coltype::LONG
            | coltype::FLOAT
            | coltype::DOUBLE
            | coltype::LONGLONG
            | coltype::INT24
            | coltype::YEAR
            | coltype::BIT
    )
}

/// The rules one export writes its rows by (MariaDB's `select_export::prepare`).
#[derive(Debug)]
pub(super) struct Writer {
    export: Export,
    field_term_char: Option<u8>,
    field_sep_char: Option<u8>,
    escape_char: Option<u8>,
    line_sep_char: Option<u8>,
    ambiguous_field_sep: bool,
    unsafe_field_sep: bool,
    /// True when MariaDB warns 1475 and writes field separators unescaped.
    pub ambiguous_field_term: bool,
}

impl Writer {
    /// The writer of `export` for rows of `columns`; `no_backslash_escapes` is the
    /// session's sql_mode. None for a fixed-row-size export (no separator, no
    /// enclosure), which Strata does not write.
    pub(super) fn new(
        mut export: Export,
        columns: &[ColumnDef],
        no_backslash_escapes: bool,
    ) -> Option<Writer> {
        let field_term_char = export.field_term.first().copied();
        if export.line_term.is_empty() {
            export.line_term = export.field_term.clone();
        }
        let field_sep_char = export.enclosed.first().copied().or(field_term_char);
        let escape_char = export
            .escaped
            .first()
            .copied()
            .filter(|_| export.escaped_given || !no_backslash_escapes);
        let in_set = |c: Option<u8>, set: &[u8]| c.is_some_and(|c| set.contains(&c));
        let ambiguous_field_sep = in_set(field_sep_char, ESCAPE_CHARS);
        let unsafe_field_sep = in_set(field_sep_char, NUMERIC_CHARS);
        let line_sep_char = export.line_term.first().copied();
        if export.field_term.is_empty() {
            export.optionally = false;
        }
        if export.enclosed.is_empty() {
            export.optionally = true;
        }
        if export.field_term.is_empty() && export.enclosed.is_empty() {
            return None;
        }
        let non_string = columns.iter().any(numeric);
        let string = columns.iter().any(|c| !numeric(c));
        let ambiguous_field_term =
            (ambiguous_field_sep && export.enclosed.is_empty() && (string || unsafe_field_sep))
                || (export.optionally && non_string && in_set(field_term_char, NUMERIC_CHARS));
        Some(Writer {
            export,
            field_term_char,
            field_sep_char,
            escape_char,
            line_sep_char,
            ambiguous_field_sep,
            unsafe_field_sep,
            ambiguous_field_term,
        })
    }

    /// Appends one row (`values` in the order of `columns`) to `out`.
    pub(super) fn row(&self, columns: &[ColumnDef], values: &[Option<&[u8]>], out: &mut Vec<u8>) {
        let e = &self.export;
        out.extend_from_slice(&e.line_start);
        for (i, (def, value)) in columns.iter().zip(values).enumerate() {
            let string = !numeric(def);
            let enclosed = !e.enclosed.is_empty() && (!e.optionally || string);
            if value.is_some() && enclosed {
                out.extend_from_slice(&e.enclosed);
            }
            match value {
                None => match self.escape_char {
                    Some(c) => out.extend_from_slice(&[c, b'N']),
                    None => out.extend_from_slice(b"NULL"),
                },
                Some(bytes) if (string || self.unsafe_field_sep) && self.escape_char.is_some() => {
                    self.escape(bytes, enclosed, out)
                }
                Some(bytes) => out.extend_from_slice(bytes),
            }
            if value.is_some() && enclosed {
                out.extend_from_slice(&e.enclosed);
            }
            if i + 1 < columns.len() {
                out.extend_from_slice(&e.field_term);
            }
        }
        out.extend_from_slice(&e.line_term);
    }

    fn escape(&self, bytes: &[u8], enclosed: bool, out: &mut Vec<u8>) {
        let is = |c: Option<u8>, b: u8| c == Some(b);
        for &b in bytes {
            let separator = if enclosed {
                self.field_sep_char
            } else {
                self.field_term_char
            };
            let needs =
                is(self.escape_char, b) || is(separator, b) || is(self.line_sep_char, b) || b == 0;
            if needs && (enclosed || !self.ambiguous_field_term || !is(self.field_term_char, b)) {
                let lead = if is(self.field_sep_char, b) && self.ambiguous_field_sep {
                    b
                } else {
                    self.escape_char.unwrap_or(b'\\')
                };
                out.push(lead);
                out.push(if b == 0 { b'0' } else { b });
            } else {
                out.push(b);
            }
        }
    }
}

/// True for a character set whose multi-byte characters may hold a byte below 0x80
/// (MariaDB skips such characters whole when it escapes; Strata does not look into
/// them, so it refuses such columns).
pub(super) fn unsafe_multibyte(charset: &str) -> bool {
    matches!(
        charset,
        "big5" | "cp932" | "gbk" | "gb18030" | "sjis" | "ucs2" | "utf16" | "utf16le" | "utf32"
    )
}

/// MariaDB's INTO DUMPFILE row: each value's bytes, NULL as one NUL byte.
pub(super) fn dump_row(values: &[Option<&[u8]>], out: &mut Vec<u8>) {
    for v in values {
        match v {
            Some(bytes) => out.extend_from_slice(bytes),
            None => out.push(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(col_type: u8) -> ColumnDef {
        let mut c = ColumnDef::varchar("c");
        c.col_type = col_type;
        c
    }

    #[test]
    fn the_clause_is_taken_out_in_either_place() {
        let s = split_select_to_file("SELECT a INTO OUTFILE 'f' FIELDS TERMINATED BY ',' FROM t")
            .and_then(Result::ok)
            .expect("split");
        assert_eq!(s.select, "SELECT a FROM t");
        assert_eq!(s.file, "f");
        let Target::Outfile(e) = &s.target else {
            panic!("outfile")
        };
        assert_eq!(e.field_term, b",");
        let s = split_select_to_file(
            "SELECT a FROM t INTO OUTFILE '/x' CHARACTER SET utf8mb4 FIELDS OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES STARTING BY '>' TERMINATED BY '\\r\\n'",
        )
        .and_then(Result::ok)
        .expect("split");
        assert_eq!(s.select, "SELECT a FROM t");
        let Target::Outfile(e) = &s.target else {
            panic!("outfile")
        };
        assert_eq!(e.charset.as_deref(), Some("utf8mb4"));
        assert!(e.optionally && e.escaped.is_empty() && e.escaped_given);
        assert_eq!(e.line_term, b"\r\n");
        let s = split_select_to_file("SELECT a INTO DUMPFILE 'd' FROM t")
            .and_then(Result::ok)
            .expect("split");
        assert_eq!(s.target, Target::Dumpfile);
        let s = split_select_to_file(
            "SELECT /*!40001 SQL_NO_CACHE */ * INTO OUTFILE '/x' /*!50138 CHARACTER SET binary */ FROM `t`",
        )
        .and_then(Result::ok)
        .expect("split");
        assert_eq!(s.select, "SELECT   SQL_NO_CACHE   * FROM `t`");
        assert!(split_select_to_file("SELECT a INTO @x FROM t").is_none());
        assert!(split_select_to_file("SELECT (SELECT 1) FROM t").is_none());
        assert!(matches!(
            split_select_to_file("SELECT a INTO OUTFILE f FROM t"),
            Some(Err(()))
        ));
    }

    #[test]
    fn rows_are_escaped_as_mariadb_escapes_them() {
        let cols = [col(coltype::LONG), col(coltype::VAR_STRING)];
        let w = Writer::new(Export::default(), &cols, false).expect("writer");
        let mut out = Vec::new();
        w.row(&cols, &[Some(b"1"), Some(b"a\tb\n\\\0")], &mut out);
        w.row(&cols, &[None, Some(b"")], &mut out);
        assert_eq!(out, b"1\ta\\\tb\\\n\\\\\\0\n\\N\t\n");
        let export = Export {
            field_term: b",".to_vec(),
            enclosed: b"\"".to_vec(),
            optionally: true,
            ..Export::default()
        };
        let w = Writer::new(export, &cols, false).expect("writer");
        let mut out = Vec::new();
        w.row(&cols, &[Some(b"2"), Some(b"x\"y,z")], &mut out);
        assert_eq!(out, b"2,\"x\\\"y,z\"\n");
    }
}
