//! A query's result rows as SQL literals, collected in the compute node for a write that
//! needs them (INSERT ... SELECT across data nodes writes them as VALUES rows; a
//! subquery's values become an IN list). Each value gets a literal that MySQL reads as
//! the value of the result column's type: numbers as written, strings as their bytes
//! with their character set (`_utf8mb4 X'..'`), binary strings and BIT as `X'..'`,
//! dates and times as typed literals (`TIMESTAMP'..'`), so a DATETIME stored into an
//! integer column converts as MySQL converts it. Result types whose text is not exact
//! (FLOAT, DOUBLE with fixed decimals), has no literal (GEOMETRY) or is not the value
//! a number is made from (ENUM and SET convert by their index) are refused at their
//! first value that is not NULL. The
//! rows are held under the statement's merge memory budget.

use bytes::Bytes;
use strata_mysql::collation::Collation;
use strata_protocol::constants::coltype;
use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;

use crate::driver::RowSink;
use crate::error::MergeError;
use crate::materialize::{push_literal, ValueKind};
use crate::memory::{MemoryBudget, Reservation, ENTRY_OVERHEAD};
use crate::row::Row;
use crate::value::{ENUM_FLAG, SET_FLAG};

/// MariaDB's `decimals` of a floating-point result without fixed decimals.
const NOT_FIXED_DECIMALS: u8 = 31;

/// How one result column's values are written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Literal {
    /// A value kind the table copies use.
    Value(ValueKind),
    /// A date or time with its SQL type keyword (`DATE`, `TIME`, `TIMESTAMP`).
    Typed(&'static str),
    /// No literal is exact (the refusal's text): only NULL can be written.
    Refused(String),
}

/// The literal form of each column of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLiterals {
    columns: Vec<Literal>,
}

impl RowLiterals {
    /// The literal forms of `columns` (a column whose values have none refuses them,
    /// with 1235 naming it, when a row holds one that is not NULL).
    pub fn of(columns: &[ColumnDef]) -> Result<RowLiterals, MysqlError> {
        let columns = columns
            .iter()
            .map(literal_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RowLiterals { columns })
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Appends the row `payload` to `out` as literals separated by `, `.
    pub fn push_row(&self, out: &mut String, payload: Bytes) -> Result<(), MergeError> {
        let row = Row::decode(payload, self.columns.len())
            .map_err(|detail| MergeError::MalformedRow { node: 0, detail })?;
        for (i, literal) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match (row.value(i), literal) {
                (None, _) => out.push_str("NULL"),
                (Some(_), Literal::Refused(why)) => {
                    return Err(MergeError::Unsupported(why.clone()))
                }
                (Some(v), Literal::Value(kind)) => push_literal(out, kind, v)?,
                (Some(v), Literal::Typed(keyword)) => {
                    if !zero_date(v) {
                        out.push_str(keyword);
                    }
                    push_literal(out, &ValueKind::Temporal, v)?;
                }
            }
        }
        Ok(())
    }
}

/// A date with a zero year, month or day has no typed literal: it stays a string.
fn zero_date(v: &[u8]) -> bool {
    let part = |r: std::ops::Range<usize>| v.get(r).is_some_and(|p| p.iter().all(|&b| b == b'0'));
    v.get(4) == Some(&b'-') && (part(0..4) || part(5..7) || part(8..10))
}

fn literal_of(def: &ColumnDef) -> Result<Literal, MysqlError> {
    // Refused at the first value that is not NULL (a NULL has its literal).
    let refuse = |what: &str| {
        Ok(Literal::Refused(format!(
            "writing a {what} value read across data nodes (column '{}'); CAST it in the SELECT",
            def.name
        )))
    };
    Ok(match def.col_type {
        coltype::TINY
        | coltype::SHORT
        | coltype::LONG
        | coltype::INT24
        | coltype::LONGLONG
        | coltype::YEAR
        | coltype::DECIMAL
        | coltype::NEWDECIMAL => Literal::Value(ValueKind::Number),
        coltype::NULL => Literal::Value(ValueKind::Bytes),
        coltype::FLOAT => return refuse("FLOAT"),
        coltype::DOUBLE if def.decimals != NOT_FIXED_DECIMALS => {
            return refuse("DOUBLE with fixed decimals")
        }
        coltype::DOUBLE => Literal::Value(ValueKind::Float),
        coltype::DATE => Literal::Typed("DATE"),
        coltype::TIME => Literal::Typed("TIME"),
        coltype::DATETIME | coltype::TIMESTAMP => Literal::Typed("TIMESTAMP"),
        coltype::BIT => Literal::Value(ValueKind::Bytes),
        coltype::GEOMETRY => return refuse("GEOMETRY"),
        // MySQL converts them to numbers by their index, which the text does not carry.
        _ if def.flags & (ENUM_FLAG | SET_FLAG) != 0 => return refuse("ENUM or SET"),
        _ if def.charset == 63 => Literal::Value(ValueKind::Bytes),
        _ => match Collation::from_id(def.charset) {
            Some(c) => Literal::Value(ValueKind::Text {
                charset: c.charset().name().to_string(),
            }),
            None => return refuse(&format!("{} string", Collation::name_of(def.charset))),
        },
    })
}

/// The literals of a row kept by [`LiteralRows`], in column order: no literal contains
/// `, ` (strings and binary values are hexadecimal, dates have no comma), so the row
/// splits where it was joined.
pub fn literal_values(row: &str) -> impl Iterator<Item = &str> {
    row.split(", ")
}

/// A [`RowSink`] that keeps a result's rows as literal lists (`1, _utf8mb4 X'61'`, one
/// string per row) under a memory budget.
#[derive(Debug)]
pub struct LiteralRows {
    /// The columns' literal forms, or why they have none (reported at the first row:
    /// a result without rows writes nothing).
    literals: Option<Result<RowLiterals, MysqlError>>,
    /// The rows, in the order they came.
    pub rows: Vec<String>,
    reservation: Reservation,
}

impl LiteralRows {
    /// An empty collection whose rows count against `budget`.
    pub fn new(budget: &MemoryBudget) -> LiteralRows {
        LiteralRows {
            literals: None,
            rows: Vec::new(),
            reservation: budget.reservation(),
        }
    }

    /// The number of columns (0 before the result's columns came).
    pub fn width(&self) -> usize {
        match &self.literals {
            Some(Ok(l)) => l.width(),
            _ => 0,
        }
    }
}

impl RowSink for LiteralRows {
    type Error = std::convert::Infallible;

    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), Self::Error> {
        self.literals = Some(RowLiterals::of(columns));
        Ok(())
    }

    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, Self::Error>> {
        let literals = match &self.literals {
            Some(Ok(l)) => l,
            Some(Err(e)) => return Err(Ok(e.clone())),
            None => {
                return Err(Ok(MergeError::InvalidSpec(
                    "a row before the columns".into(),
                )
                .to_mysql_error()))
            }
        };
        let mut text = String::with_capacity(payload.len() * 2 + 8);
        literals
            .push_row(&mut text, payload)
            .map_err(|e| Ok(e.to_mysql_error()))?;
        self.reservation
            .grow(text.capacity() + ENTRY_OVERHEAD)
            .map_err(|e| Ok(e.to_mysql_error()))?;
        self.rows.push(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(col_type: u8, charset: u16, decimals: u8) -> ColumnDef {
        ColumnDef {
            name: "c".into(),
            charset,
            col_type,
            decimals,
            ..ColumnDef::varchar("c")
        }
    }

    fn payload(values: &[Option<&[u8]>]) -> Bytes {
        Row::from_values(values.iter().copied()).payload().clone()
    }

    #[test]
    fn each_type_gets_a_literal_of_its_own_type() {
        let literals = RowLiterals::of(&[
            column(coltype::LONG, 63, 0),
            column(coltype::VAR_STRING, 45, 0),
            column(coltype::DATETIME, 63, 0),
            column(coltype::DATE, 63, 0),
            column(coltype::DOUBLE, 63, 31),
            column(coltype::BLOB, 63, 0),
            column(coltype::NEWDECIMAL, 63, 2),
        ])
        .expect("literal forms");
        let mut out = String::new();
        let row = payload(&[
            Some(b"-7"),
            Some("é'".as_bytes()),
            Some(b"2024-01-02 03:04:05"),
            Some(b"0000-00-00"),
            Some(b"1.5"),
            None,
            Some(b"1.50"),
        ]);
        literals.push_row(&mut out, row).expect("a valid row");
        assert_eq!(
            out,
            "-7, _utf8mb4 X'C3A927', TIMESTAMP'2024-01-02 03:04:05', '0000-00-00', 1.5e0, NULL, 1.50"
        );
    }

    #[test]
    fn values_of_inexact_and_literal_less_types_are_refused() {
        for def in [
            column(coltype::FLOAT, 63, 31),
            column(coltype::DOUBLE, 63, 2),
            column(coltype::GEOMETRY, 63, 0),
            ColumnDef {
                flags: ENUM_FLAG,
                ..column(coltype::STRING, 45, 0)
            },
        ] {
            let literals = RowLiterals::of(&[def]).expect("forms");
            let mut out = String::new();
            let err = literals
                .push_row(&mut out, payload(&[Some(b"1.5")]))
                .expect_err("refused");
            assert_eq!(err.to_mysql_error().code, 1235, "{err:?}");
            // A NULL has its literal.
            let mut out = String::new();
            literals
                .push_row(&mut out, payload(&[None]))
                .expect("NULL is written");
            assert_eq!(out, "NULL");
        }
    }

    #[test]
    fn a_number_column_holding_text_is_an_error_not_an_injection() {
        let literals = RowLiterals::of(&[column(coltype::LONG, 63, 0)]).expect("forms");
        let mut out = String::new();
        assert!(literals
            .push_row(&mut out, payload(&[Some(b"1); DROP TABLE t")]))
            .is_err());
    }
}
