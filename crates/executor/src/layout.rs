//! How the columns of a merge are typed: each per-node column's `ColumnKind` (for
//! operators before aggregation) and each output column's kind (after aggregation an
//! AVG is a DECIMAL and a COUNT(DISTINCT) an integer, whatever the per-node column held),
//! plus the sort-key and grouping-key helpers the operators share.

use std::cmp::Ordering;

use strata_protocol::packets::ColumnDef;

use crate::error::MergeError;
use crate::row::Row;
use crate::value::{compare, compare_prefix, ColumnKind, Value};

/// Column kinds before and after aggregation; `Err` names why a column cannot be
/// compared (raised only if an operator needs to compare it).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    node: Vec<Result<ColumnKind, String>>,
    output: Vec<Result<ColumnKind, String>>,
}

impl Layout {
    /// Kinds of per-node columns `node_columns` and output columns `output_columns`;
    /// `declared` holds the real collation of string columns when known.
    pub fn new(
        node_columns: &[ColumnDef],
        output_columns: &[ColumnDef],
        declared: &[Option<u16>],
    ) -> Self {
        let kinds = |defs: &[ColumnDef]| {
            defs.iter()
                .enumerate()
                .map(|(i, def)| ColumnKind::of(def, declared.get(i).copied().flatten()))
                .collect()
        };
        Self {
            node: kinds(node_columns),
            output: kinds(output_columns),
        }
    }

    fn kind(kinds: &[Result<ColumnKind, String>], column: usize) -> Result<ColumnKind, MergeError> {
        match kinds.get(column) {
            Some(Ok(kind)) => Ok(*kind),
            Some(Err(what)) => Err(MergeError::Unsupported(format!(
                "{what} (column {column}) across data nodes"
            ))),
            None => Err(MergeError::InvalidSpec(format!(
                "column {column} does not exist"
            ))),
        }
    }

    /// Kind of per-node column `column`.
    pub fn node_kind(&self, column: usize) -> Result<ColumnKind, MergeError> {
        Self::kind(&self.node, column)
    }

    /// Kind of output column `column`.
    pub fn output_kind(&self, column: usize) -> Result<ColumnKind, MergeError> {
        Self::kind(&self.output, column)
    }
}

/// Decodes value `column` of `row` as `kind`, naming the column in the error.
pub(crate) fn decode(row: &Row, column: usize, kind: &ColumnKind) -> Result<Value, MergeError> {
    let bytes = row.value(column);
    kind.decode(bytes).map_err(|_| MergeError::BadValue {
        column,
        value: String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned(),
        expected: kind.type_name(),
    })
}

/// ORDER BY keys with their column kinds.
#[derive(Debug, Clone)]
pub(crate) struct SortSpec {
    keys: Vec<(usize, bool, ColumnKind)>,
}

impl SortSpec {
    /// Keys `(column, descending)` typed by `kind_of`. ENUM and SET columns are refused:
    /// MySQL orders them by member index, which their text does not carry.
    pub fn new(
        keys: impl IntoIterator<Item = (usize, bool)>,
        kind_of: impl Fn(usize) -> Result<ColumnKind, MergeError>,
    ) -> Result<Self, MergeError> {
        let mut typed = Vec::new();
        for (column, descending) in keys {
            let kind = kind_of(column)?;
            if let ColumnKind::Text {
                enum_or_set: true, ..
            } = kind
            {
                return Err(MergeError::Unsupported(format!(
                    "ORDER BY an ENUM or SET column (column {column}) across data nodes; order by CAST(col AS CHAR) or col+0 instead"
                )));
            }
            typed.push((column, descending, kind));
        }
        Ok(Self { keys: typed })
    }

    /// Decodes the key values of a row.
    pub fn decode(&self, row: &Row) -> Result<Vec<Value>, MergeError> {
        self.keys
            .iter()
            .map(|(column, _, kind)| decode(row, *column, kind))
            .collect()
    }

    /// Compares decoded keys in ORDER BY order (directions applied).
    pub fn compare(&self, a: &[Value], b: &[Value]) -> Ordering {
        self.compare_with(a, b, compare)
    }

    /// Like `compare`, with strings compared on their first `chars` weights.
    pub fn compare_prefix(&self, a: &[Value], b: &[Value], chars: usize) -> Ordering {
        self.compare_with(a, b, |x, y| compare_prefix(x, y, chars))
    }

    fn compare_with(
        &self,
        a: &[Value],
        b: &[Value],
        cmp: impl Fn(&Value, &Value) -> Ordering,
    ) -> Ordering {
        for ((_, descending, _), (x, y)) in self.keys.iter().zip(a.iter().zip(b)) {
            let ord = cmp(x, y);
            if ord != Ordering::Equal {
                return if *descending { ord.reverse() } else { ord };
            }
        }
        Ordering::Equal
    }
}

/// Builds canonical key bytes of some columns: rows whose values compare equal under
/// their collations get equal keys (grouping, DISTINCT).
#[derive(Debug, Clone)]
pub(crate) struct KeySpec {
    columns: Vec<(usize, ColumnKind)>,
}

impl KeySpec {
    /// Key over `columns` typed by `kind_of`.
    pub fn new(
        columns: impl IntoIterator<Item = usize>,
        kind_of: impl Fn(usize) -> Result<ColumnKind, MergeError>,
    ) -> Result<Self, MergeError> {
        let columns = columns
            .into_iter()
            .map(|c| Ok((c, kind_of(c)?)))
            .collect::<Result<_, MergeError>>()?;
        Ok(Self { columns })
    }

    /// The key bytes of a row.
    pub fn key(&self, row: &Row) -> Result<Box<[u8]>, MergeError> {
        let mut out = Vec::new();
        for (column, kind) in &self.columns {
            decode(row, *column, kind)?.write_key(&mut out);
        }
        Ok(out.into_boxed_slice())
    }
}
