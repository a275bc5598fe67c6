//! Splitting a LOAD DATA file into rows and fields as MySQL's reader does, without
//! converting anything: the compute node only needs where each row starts and ends (to
//! send it whole to its data node, which parses it again under the same FIELDS/LINES
//! clauses) and the value of a few fields (the sharding key, the AUTO_INCREMENT column).
//! Data arrives in pieces; a row is returned once all of it is buffered, and the buffer
//! never holds more than one unfinished row beyond what was pushed.

use std::ops::Range;

use super::LoadFormat;

/// A row found in the buffer: byte ranges into [`RowSplitter::buffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRow {
    /// The row's bytes after any `LINES STARTING BY` prefix, with its line terminator
    /// when it has one.
    pub raw: Range<usize>,
    /// False for a last row that ended at the end of the file without a terminator.
    pub terminated: bool,
    /// Each field's bytes as written (enclosing characters included), relative to
    /// `raw.start`.
    pub fields: Vec<Range<usize>>,
}

/// A field's value after enclosing characters and escapes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// `\N`, or the unenclosed word `NULL` when fields may be enclosed.
    Null,
    /// The bytes.
    Text(Vec<u8>),
}

/// What parsing at a position found.
enum Step {
    Row(SplitRow),
    NeedMore,
    End,
}

/// What follows a position: a line or field terminator, the start of one cut by the
/// end of the buffer, or neither.
#[derive(PartialEq)]
enum Term {
    Line,
    Field,
    Partial,
    None,
}

/// Splits pushed file data into rows by a [`LoadFormat`].
#[derive(Debug)]
pub struct RowSplitter {
    format: LoadFormat,
    buf: Vec<u8>,
    /// Start of the bytes not yet returned as rows.
    at: usize,
    eof: bool,
    max_row: usize,
}

impl RowSplitter {
    /// A splitter for `format` that refuses a row (with what precedes it on its line)
    /// longer than `max_row` bytes.
    pub fn new(format: LoadFormat, max_row: usize) -> RowSplitter {
        RowSplitter {
            format,
            buf: Vec::new(),
            at: 0,
            eof: false,
            max_row,
        }
    }

    /// Appends file data.
    pub fn push(&mut self, data: &[u8]) {
        if self.at > 0 && self.at >= self.buf.len() / 2 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Marks the end of the file: the last row may lack its terminator.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// The buffered data the ranges of a [`SplitRow`] point into (valid until the
    /// next `push`).
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The next complete row; None when more data is needed (or, after `finish`, when
    /// the file is done). Err(limit) when an unfinished row outgrew the limit.
    pub fn next_row(&mut self) -> Result<Option<SplitRow>, usize> {
        match self.parse() {
            Step::Row(row) => {
                if row.raw.end - self.at > self.max_row {
                    return Err(self.max_row);
                }
                self.at = row.raw.end;
                Ok(Some(row))
            }
            Step::End => {
                self.at = self.buf.len();
                Ok(None)
            }
            Step::NeedMore if self.buf.len() - self.at > self.max_row => Err(self.max_row),
            Step::NeedMore => Ok(None),
        }
    }

    fn term_at(&self, pos: usize) -> Term {
        let rest = &self.buf[pos.min(self.buf.len())..];
        let f = &self.format;
        if rest.starts_with(&f.line_term) {
            return Term::Line;
        }
        if rest.starts_with(&f.field_term) {
            return Term::Field;
        }
        let cut = |t: &[u8]| !rest.is_empty() && rest.len() < t.len() && t.starts_with(rest);
        if !self.eof && (rest.is_empty() || cut(&f.line_term) || cut(&f.field_term)) {
            return Term::Partial;
        }
        Term::None
    }

    fn parse(&self) -> Step {
        let buf = &self.buf;
        let len = buf.len();
        let f = &self.format;
        let mut start = self.at;
        if !f.line_start.is_empty() {
            match find(&buf[start..], &f.line_start) {
                Some(p) => start += p + f.line_start.len(),
                None if self.eof => return Step::End,
                None => return Step::NeedMore,
            }
        }
        if start >= len {
            return if self.eof { Step::End } else { Step::NeedMore };
        }
        let mut fields = Vec::new();
        let row_end = |fields: Vec<Range<usize>>, end: usize, terminated: bool| {
            Step::Row(SplitRow {
                raw: start..end,
                terminated,
                fields: fields
                    .into_iter()
                    .map(|r: Range<usize>| r.start - start..r.end - start)
                    .collect(),
            })
        };
        let mut i = start;
        loop {
            let field = i;
            let enclosed = f.enclosed.filter(|&e| buf.get(i) == Some(&e));
            if let Some(enc) = enclosed {
                i += 1;
                loop {
                    let Some(&c) = buf.get(i) else {
                        if !self.eof {
                            return Step::NeedMore;
                        }
                        fields.push(field..len);
                        return row_end(fields, len, false);
                    };
                    if Some(c) == f.escaped {
                        if i + 1 >= len && !self.eof {
                            return Step::NeedMore;
                        }
                        i = (i + 2).min(len);
                        continue;
                    }
                    if c != enc {
                        i += 1;
                        continue;
                    }
                    if buf.get(i + 1) == Some(&enc) {
                        i += 2;
                        continue;
                    }
                    let after = i + 1;
                    match self.term_at(after) {
                        Term::Field => {
                            fields.push(field..after);
                            i = after + f.field_term.len();
                            break;
                        }
                        Term::Line => {
                            fields.push(field..after);
                            return row_end(fields, after + f.line_term.len(), true);
                        }
                        Term::Partial => return Step::NeedMore,
                        Term::None if after >= len => {
                            fields.push(field..len);
                            return row_end(fields, len, false);
                        }
                        // A lone enclosing character inside the field is data.
                        Term::None => i = after,
                    }
                }
            } else {
                loop {
                    if i >= len {
                        if !self.eof {
                            return Step::NeedMore;
                        }
                        fields.push(field..len);
                        return row_end(fields, len, false);
                    }
                    if Some(buf[i]) == f.escaped {
                        if i + 1 >= len && !self.eof {
                            return Step::NeedMore;
                        }
                        i = (i + 2).min(len);
                        continue;
                    }
                    match self.term_at(i) {
                        Term::Line => {
                            fields.push(field..i);
                            return row_end(fields, i + f.line_term.len(), true);
                        }
                        Term::Field => {
                            fields.push(field..i);
                            i += f.field_term.len();
                            break;
                        }
                        Term::Partial => return Step::NeedMore,
                        Term::None => i += 1,
                    }
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of a field written as `raw` (a range of a [`SplitRow`]).
pub fn field_value(raw: &[u8], format: &LoadFormat) -> FieldValue {
    let esc = format.escaped;
    if let Some(e) = esc {
        if raw == [e, b'N'] {
            return FieldValue::Null;
        }
    }
    let body = match format.enclosed {
        Some(enc) if raw.first() == Some(&enc) => {
            let inner = &raw[1..];
            inner.strip_suffix(&[enc]).unwrap_or(inner)
        }
        Some(_) if raw == b"NULL" => return FieldValue::Null,
        _ => raw,
    };
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if Some(c) == esc && i + 1 < body.len() {
            out.push(match body[i + 1] {
                b'0' => 0,
                b'b' => 8,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'Z' => 0x1a,
                other => other,
            });
            i += 2;
        } else if Some(c) == format.enclosed && body.get(i + 1) == Some(&c) {
            out.push(c);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    FieldValue::Text(out)
}
