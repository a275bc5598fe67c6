//! Writes whose rows or keys come from a read that runs first: `INSERT ... SELECT`
//! across data nodes, `UPDATE`/`DELETE ... WHERE col IN (SELECT ...)` whose
//! subquery spans other nodes, and multi-table `UPDATE`/`DELETE` over tables that are
//! not co-located (the join read first, each target row then written by key). The read is an ordinary plan (one node, scatter/merge,
//! join, or materialize); its rows become SQL literals in the compute node, and the
//! write built from them is planned again like any statement the client sent.

use super::Plan;

/// A read whose rows, turned into SQL literals, complete a write statement: the
/// server runs `source` to its end (bounded by the merge memory budget), then writes
/// `before` + the rows + `after` (in batches for VALUES rows), each statement planned
/// and run inside the session's transaction (its own XA transaction outside one, a
/// statement savepoint inside one), so the whole statement applies on every node or on
/// none.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadThenWrite {
    /// The read.
    pub source: Box<Plan>,
    /// The write statement's text before the rows.
    pub before: String,
    /// The write statement's text after the rows.
    pub after: String,
    /// How the rows enter the statement.
    pub rows: RowsAs,
}

/// How a read's rows enter the write statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowsAs {
    /// As the VALUES rows of an INSERT or REPLACE (`before` ends with `VALUES `),
    /// at most `batch_rows` per statement; the OK packet's info counts them as MySQL's
    /// INSERT ... SELECT does.
    Values {
        /// Rows per INSERT statement.
        batch_rows: usize,
        /// What the data nodes' counts mean for the duplicates reported.
        counts: InsertCounts,
    },
    /// As the list of `expr [NOT] IN (...)` in place of a subquery (one column; a
    /// row of several as a row constructor). No rows: the condition is FALSE (TRUE
    /// for NOT IN), as for an empty subquery.
    InList {
        /// The left side, as SQL text.
        expr: String,
        /// NOT IN.
        negated: bool,
    },
    /// As the keys (and, for UPDATE, the new values) of each target table of a
    /// multi-table UPDATE or DELETE: the read returns each joined row's target keys and
    /// the values its SET expressions take from other tables; each target row is
    /// written once, by key, in batches of rows that get the same SET text. A target
    /// row whose joined rows give it different SET texts is refused (MySQL's result
    /// depends on its join order); a NULL key (the NULL side of a LEFT JOIN) writes
    /// nothing. `before` and `after` are unused.
    ByKey(Vec<KeyedWrite>),
}

/// The writes of one target table of a multi-table UPDATE or DELETE ([`RowsAs::ByKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedWrite {
    /// The statement up to its SET list (`UPDATE [IGNORE] t SET `) or its WHERE
    /// (`DELETE [IGNORE] FROM t`).
    pub head: String,
    /// The SET list, its values read from other tables left as read columns; empty
    /// for DELETE.
    pub set: Vec<SetPiece>,
    /// The primary key as the left side of `IN` (`` `id` `` or `` (`a`, `b`) ``).
    pub key: String,
    /// The read's columns holding the primary key, in key order.
    pub key_columns: Vec<usize>,
    /// Keys per statement.
    pub batch_rows: usize,
}

/// A piece of a [`KeyedWrite`]'s SET list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetPiece {
    /// SQL text as it is.
    Text(String),
    /// The literal of the read's column of this index.
    Column(usize),
}

impl KeyedWrite {
    /// The SET list with the row `values` (literals, one per read column) in place.
    pub fn set_text(&self, values: &[&str]) -> String {
        let mut out = String::new();
        for piece in &self.set {
            match piece {
                SetPiece::Text(t) => out.push_str(t),
                SetPiece::Column(i) => out.push_str(values.get(*i).copied().unwrap_or("NULL")),
            }
        }
        out
    }

    /// The key of the row `values` as an `IN` list item; None when a part is NULL.
    pub fn key_text(&self, values: &[&str]) -> Option<String> {
        let parts: Vec<&str> = self
            .key_columns
            .iter()
            .map(|i| values.get(*i).copied().unwrap_or("NULL"))
            .collect();
        if parts.iter().any(|p| p.eq_ignore_ascii_case("NULL")) {
            return None;
        }
        Some(match parts.as_slice() {
            [one] => (*one).to_string(),
            several => format!("({})", several.join(", ")),
        })
    }

    /// The statement that writes the rows of `keys` (IN list items) with `set`.
    pub fn statement(&self, set: &str, keys: &[String]) -> String {
        format!(
            "{}{set} WHERE {} IN ({})",
            self.head,
            self.key,
            keys.join(", ")
        )
    }
}

/// What kind of INSERT writes the rows, for MySQL's `Duplicates:` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertCounts {
    /// INSERT IGNORE: rows not inserted.
    Ignore,
    /// REPLACE: rows deleted before their replacement was inserted (with several
    /// unique keys, one row may replace several).
    Replace,
    /// INSERT: no duplicates (one fails the statement).
    Insert,
    /// INSERT ... ON DUPLICATE KEY UPDATE: rows updated to new values (a row set to
    /// its current values is no duplicate, as in MySQL).
    Upsert,
}

impl InsertCounts {
    /// The duplicates of a data node's one-row INSERT that affected `affected` rows
    /// (its OK packet has no info text): MySQL counts `records - copied` with IGNORE,
    /// else `deleted + updated`, and reports `copied + deleted + updated` as affected
    /// (an upsert: 1 inserted, 2 updated, 0 unchanged — 1 with CLIENT_FOUND_ROWS).
    pub fn one_row_duplicates(self, affected: u64) -> u64 {
        match self {
            InsertCounts::Insert => 0,
            InsertCounts::Ignore => u64::from(affected == 0),
            InsertCounts::Replace | InsertCounts::Upsert => affected.saturating_sub(1),
        }
    }
}

/// Rows per INSERT statement of an INSERT ... SELECT.
pub const INSERT_BATCH_ROWS: usize = 1000;
