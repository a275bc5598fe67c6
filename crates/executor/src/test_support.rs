//! Helpers shared by the unit tests: column definitions as MariaDB 10.11 reports them,
//! text-row payloads from strings, and a source operator over fixed rows.

use bytes::{Bytes, BytesMut};
use strata_protocol::constants::{colflag, coltype};
use strata_protocol::packets::{encode_text_row, ColumnDef};
use strata_protocol::MysqlError;

use crate::error::MergeError;
use crate::operator::{Context, NodeInputs, Operator, Pull};
use crate::row::Row;
use crate::RowSink;

fn col(name: &str, col_type: u8, flags: u16, charset: u16, length: u32, decimals: u8) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        org_name: name.into(),
        charset,
        length,
        col_type,
        flags,
        decimals,
        ..ColumnDef::default()
    }
}

/// An INT column.
pub fn int_col(name: &str) -> ColumnDef {
    col(
        name,
        coltype::LONG,
        colflag::NUM | colflag::BINARY,
        63,
        11,
        0,
    )
}

/// A COUNT(*) column (BIGINT NOT NULL).
pub fn count_col(name: &str) -> ColumnDef {
    col(
        name,
        coltype::LONGLONG,
        colflag::NOT_NULL | colflag::NUM | colflag::BINARY,
        63,
        21,
        0,
    )
}

/// A DECIMAL(p, s) column as SUM/DECIMAL results are described (length p + 2).
pub fn decimal_col(name: &str, length: u32, scale: u8) -> ColumnDef {
    col(
        name,
        coltype::NEWDECIMAL,
        colflag::NUM | colflag::BINARY,
        63,
        length,
        scale,
    )
}

/// A DOUBLE column.
pub fn double_col(name: &str) -> ColumnDef {
    col(
        name,
        coltype::DOUBLE,
        colflag::NUM | colflag::BINARY,
        63,
        23,
        31,
    )
}

/// A VARCHAR column in utf8mb4_general_ci.
pub fn varchar_col(name: &str) -> ColumnDef {
    col(name, coltype::VAR_STRING, 0, 45, 80, 0)
}

/// A DATETIME column.
pub fn datetime_col(name: &str) -> ColumnDef {
    col(name, coltype::DATETIME, colflag::BINARY, 63, 19, 0)
}

/// A `SHOW FULL COLUMNS` row (Field, Type, Collation, Null, Key, Default, Extra) of a
/// column without a default.
pub fn show_column<'a>(
    field: &'a str,
    ty: &'a str,
    collation: Option<&'a str>,
    null: &'a str,
    key: &'a str,
    extra: &'a str,
) -> [Option<&'a str>; 7] {
    [
        Some(field),
        Some(ty),
        collation,
        Some(null),
        Some(key),
        None,
        Some(extra),
    ]
}

/// A text-protocol row payload.
pub fn payload(values: &[Option<&str>]) -> Bytes {
    let mut buf = BytesMut::new();
    encode_text_row(&mut buf, values.iter().map(|v| v.map(str::as_bytes)));
    buf.freeze()
}

/// The values of a row as strings.
pub fn texts(row: &Row) -> Vec<Option<String>> {
    (0..row.len())
        .map(|c| {
            row.value(c)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .collect()
}

/// Decodes an output payload of `columns` values into strings.
pub fn decode_payload(payload: &Bytes, columns: usize) -> Vec<Option<String>> {
    texts(&Row::decode(payload.clone(), columns).expect("well-formed output row"))
}

/// A source yielding fixed rows, then done.
#[derive(Debug)]
pub struct RowsSource {
    rows: std::collections::VecDeque<Row>,
}

impl RowsSource {
    /// A source of rows given as strings.
    pub fn new(rows: &[Vec<Option<&str>>]) -> Self {
        Self {
            rows: rows
                .iter()
                .map(|r| Row::decode(payload(r), r.len()).expect("test row"))
                .collect(),
        }
    }
}

impl Operator for RowsSource {
    fn pull(&mut self, _cx: &mut Context) -> Result<Pull, MergeError> {
        Ok(match self.rows.pop_front() {
            Some(row) => Pull::Row(row),
            None => Pull::Done,
        })
    }
}

/// An empty pulling context.
pub fn context() -> Context {
    Context {
        inputs: NodeInputs::new(0, 0, &crate::memory::MemoryBudget::default()),
        warnings: Vec::new(),
    }
}

/// Pulls every row of an operator whose inputs never run dry.
pub fn drain(
    op: &mut dyn Operator,
    cx: &mut Context,
) -> Result<Vec<Vec<Option<String>>>, MergeError> {
    let mut out = Vec::new();
    loop {
        match op.pull(cx)? {
            Pull::Row(row) => out.push(texts(&row)),
            Pull::Need(d) => panic!("unexpected demand {d:?}"),
            Pull::Done => return Ok(out),
        }
    }
}

/// Rows of strings, owned.
pub fn owned(rows: &[Vec<Option<&str>>]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|r| r.iter().map(|v| v.map(String::from)).collect())
        .collect()
}

/// A sink that collects a result's column names and rows, decoded.
#[derive(Debug, Default)]
pub struct Collect {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl RowSink for Collect {
    type Error = ();

    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), ()> {
        self.columns = columns.iter().map(|c| c.name.to_string()).collect();
        Ok(())
    }

    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, ()>> {
        self.rows.push(decode_payload(&payload, self.columns.len()));
        Ok(())
    }
}
