//! The one shape every management view has: named columns and rows of typed cells.
//! The admin port writes it as a MySQL result set, the HTTP API as a JSON array of
//! objects keyed by the same column names, so both always show the same data.

use serde_json::{Map, Value};
use strata_protocol::packets::ColumnDef;

use crate::results::LocalResult;

/// A cell: NULL, an integer, a decimal number or text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL / JSON null.
    Null,
    /// A whole number.
    Int(i64),
    /// A number with a fraction (written with 3 decimals on the admin port).
    Float(f64),
    /// Text.
    Text(String),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        s.map_or(Cell::Null, Cell::Text)
    }
}

/// Integers a cell holds as they are.
macro_rules! lossless_int_cells {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell {
            fn from(n: $t) -> Cell {
                Cell::Int(i64::from(n))
            }
        }
    )*};
}

/// Integers a cell holds up to `i64::MAX` (a larger value shows as that).
macro_rules! saturated_int_cells {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell {
            fn from(n: $t) -> Cell {
                Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}

lossless_int_cells!(u32, bool);
saturated_int_cells!(u64, usize);

impl From<f64> for Cell {
    fn from(n: f64) -> Cell {
        Cell::Float(n)
    }
}

/// The type of a column (its MySQL column definition and JSON type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// BIGINT.
    Int,
    /// DECIMAL-like number.
    Float,
    /// VARCHAR.
    Text,
}

/// A management view's result.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminTable {
    /// Column names and types.
    pub columns: Vec<(&'static str, ColumnType)>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl AdminTable {
    /// An empty table with these columns.
    pub fn new(columns: &[(&'static str, ColumnType)]) -> AdminTable {
        AdminTable {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (cells beyond the columns are ignored, missing ones are NULL).
    pub fn push(&mut self, mut row: Vec<Cell>) {
        row.resize(self.columns.len(), Cell::Null);
        self.rows.push(row);
    }

    /// The table as a MySQL result set.
    pub fn to_result(&self) -> LocalResult {
        LocalResult {
            columns: self
                .columns
                .iter()
                .map(|(name, ty)| match ty {
                    ColumnType::Int => ColumnDef::bigint(name, false),
                    ColumnType::Float | ColumnType::Text => ColumnDef::varchar(name),
                })
                .collect(),
            rows: self
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|c| match c {
                            Cell::Null => None,
                            Cell::Int(n) => Some(n.to_string()),
                            Cell::Float(f) => Some(format!("{f:.3}")),
                            Cell::Text(t) => Some(t.clone()),
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// The table as a JSON array of objects keyed by column name.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    let mut obj = Map::new();
                    for ((name, _), cell) in self.columns.iter().zip(row) {
                        let v = match cell {
                            Cell::Null => Value::Null,
                            Cell::Int(n) => Value::from(*n),
                            Cell::Float(f) => {
                                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
                            }
                            Cell::Text(t) => Value::from(t.as_str()),
                        };
                        obj.insert((*name).to_string(), v);
                    }
                    Value::Object(obj)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_gives_the_same_values_to_both_surfaces() {
        let mut t = AdminTable::new(&[
            ("id", ColumnType::Int),
            ("name", ColumnType::Text),
            ("rate", ColumnType::Float),
        ]);
        t.push(vec![7u32.into(), "dn".into(), 1.5.into()]);
        t.push(vec![8u32.into()]);
        let r = t.to_result();
        assert_eq!(
            r.rows,
            vec![
                vec![Some("7".into()), Some("dn".into()), Some("1.500".into())],
                vec![Some("8".into()), None, None],
            ]
        );
        assert_eq!(
            t.to_json(),
            serde_json::json!([
                {"id": 7, "name": "dn", "rate": 1.5},
                {"id": 8, "name": null, "rate": null},
            ])
        );
    }
}
