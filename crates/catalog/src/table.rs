//! The one model of a table that the whole compute node shares: the catalog owns each
//! table's [`TableInfo`] behind an `Arc`, the metadata store encodes and decodes it
//! (`store.rs`, whose record layout is independent of this struct), and the planner
//! reads it through the same `Arc` without copying its columns. A new table attribute
//! is a field here, a field in the store's record, and the code that fills it.

use std::collections::BTreeMap;

use crate::sharding::{Distribution, KeyLiteral};
use crate::store::{now_ms, TableKind};
use crate::unique_keys::UniqueKey;
use crate::DataNodeId;

/// A table: how its rows are placed and what routing and merging need of its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// How the rows are placed.
    pub distribution: Distribution,
    /// The column whose AUTO_INCREMENT values Strata allocates globally, if any.
    pub auto_increment_column: Option<String>,
    /// Data nodes holding the table, sorted (a child table's are its parent's); the
    /// catalog fills this in when the table is created or loaded (not stored).
    pub data_nodes: Vec<DataNodeId>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Column names in table order (empty when unknown; then `INSERT` without a column
    /// list into a sharded table is refused).
    pub columns: Vec<String>,
    /// Columns whose DEFAULT is the current time (`DEFAULT CURRENT_TIMESTAMP`), as the
    /// CREATE TABLE named them (kept in the record; writes to global tables pin the
    /// data nodes' `timestamp` instead, which also covers precision and ON UPDATE).
    pub now_default_columns: Vec<String>,
    /// The sharding column's DEFAULT literal, used for rows that do not give it (None:
    /// NULL).
    pub shard_key_default: Option<KeyLiteral>,
    /// String columns whose collation a merge cannot reproduce (lowercase names; `*`
    /// for all): rows reach the merge in the connection's character set with no trace
    /// of it, so comparing such strings across nodes is refused.
    pub other_collation_columns: Vec<String>,
    /// Each string column's collation as a data node reports it (lowercase column name
    /// to collation name, from `information_schema.COLUMNS` after CREATE/ALTER TABLE);
    /// None until read. Merges compare strings under these; without them they fall
    /// back to `other_collation_columns`.
    pub column_collations: Option<BTreeMap<String, String>>,
    /// The table's default collation as a data node reports it (read with
    /// `column_collations`): a column an ALTER redefines without naming its character set
    /// takes it, which decides whether a sharding column's key type changes.
    pub table_collation: Option<String>,
    /// PRIMARY KEY and UNIQUE keys as of CREATE TABLE; None when not recorded (tables
    /// created before keys were recorded, or whose keys an ALTER changed since).
    pub unique_keys: Option<Vec<UniqueKey>>,
    /// A MariaDB sequence (CREATE SEQUENCE): its one row lives on one data node, whose
    /// own sequence object gives every compute node its values.
    pub sequence: bool,
}

impl TableInfo {
    /// A table created now with a distribution and nothing else known; `data_nodes`
    /// comes from the distribution (the catalog resolves a child table's).
    pub fn new(distribution: Distribution) -> TableInfo {
        TableInfo {
            data_nodes: distribution.data_nodes().unwrap_or_default(),
            distribution,
            auto_increment_column: None,
            created_at_ms: now_ms(),
            columns: Vec::new(),
            now_default_columns: Vec::new(),
            shard_key_default: None,
            other_collation_columns: Vec::new(),
            column_collations: None,
            table_collation: None,
            unique_keys: None,
            sequence: false,
        }
    }

    /// The same table with its column names.
    pub fn with_columns(mut self, columns: &[&str]) -> TableInfo {
        self.columns = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// The same table with a global AUTO_INCREMENT column.
    pub fn with_auto_increment(mut self, column: &str) -> TableInfo {
        self.auto_increment_column = Some(column.to_string());
        self
    }

    /// The placement kind.
    pub fn kind(&self) -> TableKind {
        match self.distribution {
            Distribution::Vertical { .. } => TableKind::Vertical,
            Distribution::Global { .. } => TableKind::Global,
            Distribution::Sharded { .. } => TableKind::Sharded,
            Distribution::Child { .. } => TableKind::Child,
        }
    }
}
