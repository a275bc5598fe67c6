//! `LOAD DATA [LOCAL] INFILE`: the statement's parts as the compute node needs them to
//! place a client's file row by row (target table, the format its rows are written in,
//! lines to skip, which field feeds which column), plus the byte spans of the clauses it
//! rewrites when it sends each data node that node's rows. [`rows`] splits a file into
//! rows and fields by the same format.

use crate::error::SqlError;
use crate::lexer::{user_var_name, TokenKind};
use crate::parser::Parser;

pub mod rows;

pub use rows::{field_value, FieldValue, RowSplitter, SplitRow};

/// What a duplicate key does to a loaded row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// The statement fails (the default of `LOAD DATA LOCAL` is IGNORE in MySQL; the
    /// data node applies its own rule, this only records what was written).
    Default,
    /// `REPLACE`: the new row replaces the old one.
    Replace,
    /// `IGNORE`: the row is skipped.
    Ignore,
}

/// How rows and fields are written in the file (FIELDS and LINES clauses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadFormat {
    /// `FIELDS TERMINATED BY` (default tab).
    pub field_term: Vec<u8>,
    /// `[OPTIONALLY] ENCLOSED BY` character (default none).
    pub enclosed: Option<u8>,
    /// `ESCAPED BY` character (default backslash; None when empty).
    pub escaped: Option<u8>,
    /// `LINES STARTING BY` (default empty).
    pub line_start: Vec<u8>,
    /// `LINES TERMINATED BY` (default newline).
    pub line_term: Vec<u8>,
}

impl Default for LoadFormat {
    fn default() -> Self {
        LoadFormat {
            field_term: b"\t".to_vec(),
            enclosed: None,
            escaped: Some(b'\\'),
            line_start: Vec::new(),
            line_term: b"\n".to_vec(),
        }
    }
}

/// One entry of the column list: a column or a user variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadTarget {
    /// A column of the table.
    Column(String),
    /// `@var`, lowercased.
    Var(String),
}

/// A parsed `LOAD DATA ... INFILE` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadData {
    /// `LOCAL`: the client sends the file.
    pub local: bool,
    /// The file name as written.
    pub file: String,
    /// REPLACE / IGNORE.
    pub duplicates: Duplicates,
    /// Database qualifier of the table, if any.
    pub db: Option<String>,
    /// The table.
    pub table: String,
    /// `CHARACTER SET` of the file, lowercased, if given.
    pub charset: Option<String>,
    /// How rows and fields are written.
    pub format: LoadFormat,
    /// `IGNORE n LINES`.
    pub ignore_lines: u64,
    /// The column list; None when the statement has none (every column in table order).
    pub targets: Option<Vec<LoadTarget>>,
    /// Columns assigned by the SET clause, as written.
    pub set_columns: Vec<String>,
    /// The SET clause's text after `SET`, if any.
    pub set_text: Option<String>,
    /// Byte span of the `IGNORE n LINES` clause in the statement.
    ignore_span: Option<(usize, usize)>,
    /// Byte offset just after the column list's `(`, or where a list would go.
    list_at: usize,
    /// Byte offset of the `INFILE` keyword.
    infile_at: usize,
    /// The statement text.
    sql: String,
}

/// Parses `LOAD DATA [LOW_PRIORITY|CONCURRENT] [LOCAL] INFILE 'f' [REPLACE|IGNORE]
/// INTO TABLE t ...` with its CHARACTER SET, FIELDS, LINES, IGNORE, column list and SET
/// clauses. PARTITION and `LOAD XML` are refused (1235); a FIELDS ENCLOSED/ESCAPED BY of
/// more than one character is MySQL's error 1083, reported as a syntax error here.
pub fn parse_load_data(sql: &str) -> Result<LoadData, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("LOAD")?;
    if p.eat_keyword("XML") {
        return Err(SqlError::Unsupported("LOAD XML".into()));
    }
    p.expect_keyword("DATA")?;
    p.eat_one_of(&["LOW_PRIORITY", "CONCURRENT"]);
    let local = p.eat_keyword("LOCAL");
    let infile_at = p.peek().map_or(0, |t| t.span.start);
    p.expect_keyword("INFILE")?;
    let file = p.string()?;
    let mut duplicates = match p.eat_one_of(&["REPLACE", "IGNORE"]) {
        Some(0) => Duplicates::Replace,
        Some(_) => Duplicates::Ignore,
        None => Duplicates::Default,
    };
    p.expect_keyword("INTO")?;
    p.expect_keyword("TABLE")?;
    let first = p.ident()?;
    let (db, table) = if p.eat_punct(".") {
        (Some(first), p.ident()?)
    } else {
        (None, first)
    };
    if p.peek_is_keyword("PARTITION") {
        return Err(SqlError::Unsupported("LOAD DATA ... PARTITION".into()));
    }
    // MariaDB also takes REPLACE/IGNORE after the table name.
    let count_follows = p.peek_at(1).is_some_and(|t| t.kind == TokenKind::Integer);
    if duplicates == Duplicates::Default && !count_follows {
        duplicates = match p.eat_one_of(&["REPLACE", "IGNORE"]) {
            Some(0) => Duplicates::Replace,
            Some(_) => Duplicates::Ignore,
            None => Duplicates::Default,
        };
    }
    let mut charset = None;
    if p.eat_keyword("CHARACTER") {
        p.expect_keyword("SET")?;
        charset = Some(p.ident_or_string()?.to_ascii_lowercase());
    } else if p.eat_keyword("CHARSET") {
        charset = Some(p.ident_or_string()?.to_ascii_lowercase());
    }
    let mut format = LoadFormat::default();
    if p.eat_one_of(&["FIELDS", "COLUMNS"]).is_some() {
        let mut any = false;
        loop {
            if p.eat_keyword("TERMINATED") {
                p.expect_keyword("BY")?;
                format.field_term = p.string()?.into_bytes();
            } else if p.peek_is_keyword("OPTIONALLY") || p.peek_is_keyword("ENCLOSED") {
                p.eat_keyword("OPTIONALLY");
                p.expect_keyword("ENCLOSED")?;
                p.expect_keyword("BY")?;
                format.enclosed = one_char(&mut p)?;
            } else if p.eat_keyword("ESCAPED") {
                p.expect_keyword("BY")?;
                format.escaped = one_char(&mut p)?;
            } else {
                break;
            }
            any = true;
        }
        if !any {
            return Err(p.error("TERMINATED, ENCLOSED or ESCAPED"));
        }
    }
    if p.eat_keyword("LINES") {
        let mut any = false;
        loop {
            if p.eat_keyword("STARTING") {
                p.expect_keyword("BY")?;
                format.line_start = p.string()?.into_bytes();
            } else if p.eat_keyword("TERMINATED") {
                p.expect_keyword("BY")?;
                format.line_term = p.string()?.into_bytes();
            } else {
                break;
            }
            any = true;
        }
        if !any {
            return Err(p.error("STARTING or TERMINATED"));
        }
    }
    let mut ignore_lines = 0;
    let mut ignore_span = None;
    if let Some(start) = p.peek().filter(|t| t.is_keyword(sql, "IGNORE")) {
        p.advance();
        ignore_lines = p.unsigned()?;
        let end = p.peek().ok_or_else(|| p.error("LINES or ROWS"))?;
        if p.eat_one_of(&["LINES", "ROWS"]).is_none() {
            return Err(p.error("LINES or ROWS"));
        }
        ignore_span = Some((start.span.start, end.span.end));
    }
    let mut targets = None;
    let mut list_at = p.peek().map_or(sql.trim_end().len(), |t| t.span.start);
    if let Some(open) = p.peek().filter(|t| t.is_punct(sql, "(")) {
        p.advance();
        list_at = open.span.end;
        let mut list = Vec::new();
        if !p.eat_punct(")") {
            loop {
                match p.peek() {
                    Some(t) if t.kind == TokenKind::UserVar => {
                        p.advance();
                        list.push(LoadTarget::Var(user_var_name(t.text(sql))));
                    }
                    _ => list.push(LoadTarget::Column(column_name(&mut p)?)),
                }
                if p.eat_punct(")") {
                    break;
                }
                if !p.eat_punct(",") {
                    return Err(p.error(", or )"));
                }
            }
        }
        targets = Some(list);
    }
    let mut set_columns = Vec::new();
    let mut set_text = None;
    if p.eat_keyword("SET") {
        let from = p.peek().map_or(sql.len(), |t| t.span.start);
        loop {
            set_columns.push(column_name(&mut p)?);
            if !p.eat_punct("=") && !p.eat_punct(":=") {
                return Err(p.error("="));
            }
            let (_, last) = p.expression_before(None)?;
            set_text = Some(sql[from..last.span.end].to_string());
            if !p.eat_punct(",") {
                break;
            }
        }
    }
    p.expect_end()?;
    Ok(LoadData {
        local,
        file,
        duplicates,
        db,
        table,
        charset,
        format,
        ignore_lines,
        targets,
        set_columns,
        set_text,
        ignore_span,
        list_at,
        infile_at,
        sql: sql.to_string(),
    })
}

/// A one-character FIELDS ENCLOSED/ESCAPED BY value (empty: none).
fn one_char(p: &mut Parser<'_>) -> Result<Option<u8>, SqlError> {
    let err = p.error("a single character");
    let value = p.string()?;
    match value.as_bytes() {
        [] => Ok(None),
        [c] => Ok(Some(*c)),
        _ => Err(err),
    }
}

/// A column name, possibly qualified (`t.c`): the last part.
fn column_name(p: &mut Parser<'_>) -> Result<String, SqlError> {
    let mut name = p.ident()?;
    while p.eat_punct(".") {
        name = p.ident()?;
    }
    Ok(name)
}

impl LoadData {
    /// The statement a data node runs to load the rows Strata sends it: the original
    /// text without its `IGNORE n LINES` (Strata skips those lines itself), with
    /// `first_column` (a column whose values Strata puts first in each row) added at
    /// the head of the column list, which `all_columns` gives when the statement has
    /// none.
    pub fn node_statement(&self, first_column: Option<&str>, all_columns: &[String]) -> String {
        let quote = |c: &str| format!("`{}`", c.replace('`', "``"));
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        if let Some((start, end)) = self.ignore_span {
            edits.push((start, end, String::new()));
        }
        if !self.local {
            // The compute node reads a server-side file itself and sends its rows.
            edits.push((self.infile_at, self.infile_at, "LOCAL ".into()));
        }
        if let Some(column) = first_column {
            let text = match &self.targets {
                Some(list) if list.is_empty() => quote(column),
                Some(_) => format!("{}, ", quote(column)),
                None => {
                    let cols: Vec<String> = std::iter::once(column)
                        .chain(all_columns.iter().map(String::as_str))
                        .map(quote)
                        .collect();
                    format!(" ({}) ", cols.join(", "))
                }
            };
            edits.push((self.list_at, self.list_at, text));
        }
        edits.sort_by_key(|e| e.0);
        let mut out = String::with_capacity(self.sql.len() + 32);
        let mut pos = 0;
        for (start, end, text) in edits {
            out.push_str(&self.sql[pos..start]);
            out.push_str(&text);
            pos = end;
        }
        out.push_str(&self.sql[pos..]);
        out
    }

    /// The statement as its LOCAL form (what the session checks a server-side
    /// `LOAD DATA INFILE` as: the compute node, not a storage host, reads the file).
    pub fn as_local(&self) -> String {
        if self.local {
            return self.sql.clone();
        }
        let (head, tail) = self.sql.split_at(self.infile_at.min(self.sql.len()));
        format!("{head}LOCAL {tail}")
    }

    /// Position in a row's fields of each target, by column name (case-insensitive);
    /// `all_columns` stands for a missing column list.
    pub fn field_of(&self, column: &str, all_columns: &[String]) -> Option<usize> {
        match &self.targets {
            Some(list) => list
                .iter()
                .position(|t| matches!(t, LoadTarget::Column(c) if c.eq_ignore_ascii_case(column))),
            None => all_columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(column)),
        }
    }

    /// True when the SET clause assigns `column`.
    pub fn sets(&self, column: &str) -> bool {
        self.set_columns
            .iter()
            .any(|c| c.eq_ignore_ascii_case(column))
    }
}

#[cfg(test)]
mod tests;
