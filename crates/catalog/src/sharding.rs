//! Table distributions and sharding functions (HotDB's set): how a sharding key value
//! maps to a data node. Pure logic, no I/O; the planner calls it for every routed row
//! or predicate.
//!
//! A key value is first brought to a canonical form for its column type and collation
//! (`canonical_key`), so `5`, `'5'` and `5.0` route alike for an INT column, and
//! `'abc '`, `'ABC'` alike for a `_ci` string column; functions then route the
//! canonical value.

/// How a table's rows are placed.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// All rows on one data node.
    Vertical {
        /// The data node.
        dnid: u32,
    },
    /// A full copy on each data node listed.
    Global {
        /// The data nodes (all of the logical database's).
        data_nodes: Vec<u32>,
    },
    /// Rows spread by a sharding rule on one column.
    Sharded {
        /// Sharding column name (as declared).
        column: String,
        /// Type of the sharding column, for canonicalizing literals.
        key_type: KeyType,
        /// Function and data nodes.
        rule: ShardingRule,
    },
    /// A row lives on the data node of its parent row: `column` of this table joins
    /// `parent_column` of `parent`, which is sharded on `parent_column`.
    Child {
        /// Parent table name (same logical database).
        parent: String,
        /// Parent's joined column (its sharding column).
        parent_column: String,
        /// This table's joining column.
        column: String,
    },
}

/// Type of a sharding column, as far as routing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyType {
    /// TINYINT .. BIGINT, YEAR, BIT.
    Integer {
        /// UNSIGNED.
        unsigned: bool,
    },
    /// DECIMAL(p, s).
    Decimal {
        /// Scale.
        scale: u32,
    },
    /// CHAR / VARCHAR / ENUM / SET with a collation (e.g. `utf8mb4_general_ci`).
    String {
        /// Collation name.
        collation: String,
    },
    /// BINARY / VARBINARY.
    Binary,
    /// DATE, DATETIME, TIMESTAMP, TIME (canonical text form).
    Temporal {
        /// The column type, lower-case (`date`, `datetime`, ...).
        kind: String,
    },
}

/// A literal as it appears in SQL, before canonicalization.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyLiteral {
    /// NULL.
    Null,
    /// An integer literal as written (`-5`, `18446744073709551615`).
    Integer(String),
    /// A decimal or float literal as written (`5.0`, `1e3`).
    Number(String),
    /// A string literal's value (escapes already resolved).
    String(Vec<u8>),
    /// A hex/bit literal's bytes.
    Bytes(Vec<u8>),
}

/// A sharding key value in canonical form: equal values for the column compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyValue {
    /// SQL NULL.
    Null,
    /// Integer columns (and integral values of other numeric literals).
    Int(i128),
    /// DECIMAL columns: normalized text (no trailing zeros beyond the scale, no '+').
    Decimal(String),
    /// String columns: collation weight bytes (case folded for `_ci`, trailing spaces
    /// removed for PAD SPACE collations).
    Weight(Vec<u8>),
    /// Binary columns and temporal canonical text.
    Bytes(Vec<u8>),
}

/// A sharding function with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum ShardingFunction {
    /// CRC32 of the key's canonical bytes modulo the node count.
    AutoCrc32,
    /// Integer key modulo the node count.
    AutoMod,
    /// Integer intervals (inclusive) to data nodes, with below-min/above-max buckets.
    Range {
        /// (low, high, dnid), non-overlapping, low <= high.
        intervals: Vec<(i128, i128, u32)>,
        /// Node for keys below every interval.
        below_min: Option<u32>,
        /// Node for keys above every interval.
        above_max: Option<u32>,
    },
    /// Value list to data nodes (strings compared with the column's collation).
    Match {
        /// (value as written, dnid).
        values: Vec<(String, u32)>,
        /// Node for the empty string, if any.
        empty_route: Option<u32>,
    },
    /// Integer value to data node.
    Route {
        /// (value, dnid).
        values: Vec<(i128, u32)>,
    },
    /// key % modulus; remainder intervals (inclusive) to data nodes.
    SimpleMod {
        /// Modulus, 2 ..= 2147483647.
        modulus: u64,
        /// (low remainder, high remainder, dnid).
        remainders: Vec<(u64, u64, u32)>,
    },
    /// crc32(key) % modulus; remainder intervals (inclusive) to data nodes.
    Crc32Mod {
        /// Modulus, 2 ..= 2147483647.
        modulus: u64,
        /// (low remainder, high remainder, dnid).
        remainders: Vec<(u64, u64, u32)>,
    },
}

/// A sharding function over a list of data nodes, with an optional NULL route.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardingRule {
    /// Rule name when it is a named rule from configuration or metadata.
    pub name: Option<String>,
    /// The function.
    pub function: ShardingFunction,
    /// Data nodes, in order (AUTO_* functions index into it).
    pub data_nodes: Vec<u32>,
    /// Data node for NULL keys; None makes NULL an error (10104).
    pub null_route: Option<u32>,
}
