//! Table distributions and sharding functions (HotDB's set): how a sharding key value
//! maps to a data node. Pure logic, no I/O; the planner calls it for every routed row
//! or predicate.
//!
//! A key value is first brought to a canonical form for its column type and collation
//! (`canonical_key`), so `5`, `'5'` and `5.0` route alike for an INT column, and
//! `'abc '`, `'ABC'` alike for a `_ci` string column; functions then route the
//! canonical value. Rules are built by validating constructors (`ShardingRule::range`,
//! ...) or from a compact text form (`ShardingFunction::from_spec`, `to_spec`) used by
//! the configuration, DDL and the metadata store. `docs/sharding.md` is the user's view.

mod key;
mod spec;

use std::collections::BTreeSet;
use std::ops::Bound;

pub use key::{bound_key, canonical_key, comparison_key, RangeOp};

/// How a table's rows are placed.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// TINYINT .. BIGINT (and BOOL, SERIAL).
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
    /// DATE, DATETIME, TIME (canonical text form) and YEAR (an integer key).
    Temporal {
        /// The column type, lower-case: `date`, `datetime`, `time` or `year`.
        kind: String,
    },
}

/// A literal as it appears in SQL, before canonicalization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLiteral {
    /// NULL.
    Null,
    /// An integer literal as written (`-5`, `18446744073709551615`).
    Integer(String),
    /// A decimal or float literal as written (`5.0`, `1e3`).
    Number(String),
    /// A string literal's value (escapes already resolved).
    String(Vec<u8>),
    /// A `0x..` or `b'..'` literal's bytes: a number for numeric columns (big-endian),
    /// the bytes for string columns. MariaDB stores `X'..'` into an INT as a string
    /// (`X'3130'` is 10), so pass `X'..'` literals as `String`.
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// HotDB's error code for a sharding value with no route (also NULL with no NULL route).
pub const ER_NO_ROUTE: u16 = 10104;
/// MySQL's "not supported" error code (unsupported key types and collations).
pub const ER_NOT_SUPPORTED_YET: u16 = 1235;
/// MySQL's "Incorrect arguments" error code (invalid rule parameters).
pub const ER_WRONG_ARGUMENTS: u16 = 1210;

/// What went wrong while building a rule, canonicalizing a key or routing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardingErrorKind {
    /// The value matches no interval, list entry or remainder of the rule (10104).
    NoRoute {
        /// The value as the user wrote it (or its canonical form).
        value: String,
    },
    /// A NULL key and the rule has no NULL route (10104).
    NullNoRoute,
    /// The column type cannot be a sharding key (1235).
    UnsupportedKeyType {
        /// The column type as written.
        column_type: String,
        /// Why, and what to use instead.
        reason: String,
    },
    /// The column's collation has no weight table in Strata (1235).
    UnsupportedCollation {
        /// The collation (or charset) name.
        collation: String,
    },
    /// A literal that cannot be converted to the column type exactly (1264, 1292, 1366).
    InvalidValue {
        /// The literal as written.
        value: String,
        /// The key type.
        key_type: String,
        /// Why.
        reason: String,
        /// The MySQL error code MariaDB gives for the same conversion in strict mode.
        code: u16,
    },
    /// The function cannot route keys of this type (AUTO_MOD on a string column) (1235).
    KeyTypeMismatch {
        /// The function's type name.
        function: String,
        /// The key type.
        key_type: String,
    },
    /// Invalid rule parameters (1210).
    InvalidRule {
        /// What is wrong.
        reason: String,
    },
    /// The distribution has no per-key route (global and child tables) (1235).
    NotRoutable {
        /// Which distribution and why.
        reason: String,
    },
}

/// A sharding error with its MySQL error code, optionally naming the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardingError {
    kind: ShardingErrorKind,
    table: Option<String>,
}

impl std::error::Error for ShardingError {}

impl std::fmt::Display for ShardingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let of = match &self.table {
            Some(t) => format!(" of table '{t}'"),
            None => String::new(),
        };
        match &self.kind {
            ShardingErrorKind::NoRoute { value } => {
                write!(f, "Sharding column value '{value}'{of} has no route")
            }
            ShardingErrorKind::NullNoRoute => write!(
                f,
                "Sharding column value NULL{of} has no route (the sharding rule has no NULL route)"
            ),
            ShardingErrorKind::UnsupportedKeyType {
                column_type,
                reason,
            } => write!(
                f,
                "Sharding key type '{column_type}'{of} is not supported: {reason}"
            ),
            ShardingErrorKind::UnsupportedCollation { collation } => write!(
                f,
                "Sharding key collation '{collation}'{of} is not supported (supported: {})",
                strata_mysql::Collation::supported_names()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ShardingErrorKind::InvalidValue {
                value,
                key_type,
                reason,
                ..
            } => write!(
                f,
                "Incorrect {key_type} value '{value}' for the sharding column{of}: {reason}"
            ),
            ShardingErrorKind::KeyTypeMismatch { function, key_type } => write!(
                f,
                "Sharding function {function} cannot route {key_type} keys{of}"
            ),
            ShardingErrorKind::InvalidRule { reason } => {
                write!(f, "Invalid sharding rule{of}: {reason}")
            }
            ShardingErrorKind::NotRoutable { reason } => write!(f, "{reason}{of}"),
        }
    }
}

impl ShardingError {
    /// What went wrong.
    pub fn kind(&self) -> &ShardingErrorKind {
        &self.kind
    }

    /// The MySQL error code to send (10104 for values with no route).
    pub fn code(&self) -> u16 {
        match &self.kind {
            ShardingErrorKind::NoRoute { .. } | ShardingErrorKind::NullNoRoute => ER_NO_ROUTE,
            ShardingErrorKind::UnsupportedKeyType { .. }
            | ShardingErrorKind::UnsupportedCollation { .. }
            | ShardingErrorKind::KeyTypeMismatch { .. }
            | ShardingErrorKind::NotRoutable { .. } => ER_NOT_SUPPORTED_YET,
            ShardingErrorKind::InvalidValue { code, .. } => *code,
            ShardingErrorKind::InvalidRule { .. } => ER_WRONG_ARGUMENTS,
        }
    }

    /// The SQLSTATE that goes with [`ShardingError::code`].
    pub fn sqlstate(&self) -> &'static str {
        match self.code() {
            ER_NOT_SUPPORTED_YET => "42000",
            1264 => "22003",
            1292 | 1366 => "22007",
            1048 => "23000",
            _ => "HY000",
        }
    }

    /// The table named in the message (`db.table`), if any.
    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// Names the table in the message: `... of table 'db.t' ...`.
    pub fn for_table(mut self, db: &str, table: &str) -> Self {
        self.table = Some(format!("{db}.{table}"));
        self
    }

    /// Shows `value` (the literal as the user wrote it) instead of the canonical key.
    pub fn with_value(mut self, value: &str) -> Self {
        match &mut self.kind {
            ShardingErrorKind::NoRoute { value: v }
            | ShardingErrorKind::InvalidValue { value: v, .. } => {
                *v = value.to_string();
            }
            _ => {}
        }
        self
    }

    fn new(kind: ShardingErrorKind) -> Self {
        ShardingError { kind, table: None }
    }

    pub(crate) fn invalid_rule(reason: impl Into<String>) -> Self {
        Self::new(ShardingErrorKind::InvalidRule {
            reason: reason.into(),
        })
    }

    pub(crate) fn unsupported_key_type(column_type: &str, reason: &str) -> Self {
        Self::new(ShardingErrorKind::UnsupportedKeyType {
            column_type: column_type.to_string(),
            reason: reason.to_string(),
        })
    }

    pub(crate) fn unsupported_collation(collation: &str) -> Self {
        Self::new(ShardingErrorKind::UnsupportedCollation {
            collation: collation.to_string(),
        })
    }

    pub(crate) fn invalid_value(value: &str, key_type: &KeyType, reason: &str, code: u16) -> Self {
        Self::new(ShardingErrorKind::InvalidValue {
            value: value.to_string(),
            key_type: key_type.to_string(),
            reason: reason.to_string(),
            code,
        })
    }

    fn no_route(key: &KeyValue) -> Self {
        Self::new(ShardingErrorKind::NoRoute {
            value: key.to_string(),
        })
    }

    fn mismatch(function: &ShardingFunction, key_type: &str) -> Self {
        Self::new(ShardingErrorKind::KeyTypeMismatch {
            function: function.type_name().to_ascii_uppercase(),
            key_type: key_type.to_string(),
        })
    }
}

impl std::fmt::Display for KeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyValue::Null => f.write_str("NULL"),
            KeyValue::Int(v) => write!(f, "{v}"),
            KeyValue::Decimal(s) => f.write_str(s),
            KeyValue::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
            KeyValue::Weight(w) => {
                f.write_str("weight 0x")?;
                w.iter().try_for_each(|b| write!(f, "{b:02X}"))
            }
        }
    }
}

impl KeyValue {
    /// The bytes AUTO_CRC32 and CRC32_MOD hash: decimal ASCII of an integer, the text of
    /// a decimal, the bytes of a weight or binary/temporal value (empty for NULL).
    pub fn hash_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            KeyValue::Null => std::borrow::Cow::Borrowed(&[]),
            KeyValue::Int(v) => std::borrow::Cow::Owned(v.to_string().into_bytes()),
            KeyValue::Decimal(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            KeyValue::Weight(b) | KeyValue::Bytes(b) => std::borrow::Cow::Borrowed(b),
        }
    }

    /// CRC32 (IEEE) of [`KeyValue::hash_bytes`].
    pub fn crc32(&self) -> u32 {
        match self {
            KeyValue::Int(v) => {
                // Decimal ASCII without allocating: i128 has at most 40 characters.
                let mut buf = [0u8; 48];
                let mut cursor = std::io::Cursor::new(&mut buf[..]);
                let _ = std::io::Write::write_fmt(&mut cursor, format_args!("{v}"));
                let len = usize::try_from(cursor.position()).unwrap_or(0);
                crc32fast::hash(&buf[..len])
            }
            other => crc32fast::hash(&other.hash_bytes()),
        }
    }
}

const MAX_MODULUS: u64 = 2_147_483_647;

impl ShardingFunction {
    /// The function's type name in configuration and DDL (`auto_crc32`, `range`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            ShardingFunction::AutoCrc32 => "auto_crc32",
            ShardingFunction::AutoMod => "auto_mod",
            ShardingFunction::Range { .. } => "range",
            ShardingFunction::Match { .. } => "match",
            ShardingFunction::Route { .. } => "route",
            ShardingFunction::SimpleMod { .. } => "simple_mod",
            ShardingFunction::Crc32Mod { .. } => "crc32_mod",
        }
    }

    /// True for AUTO_CRC32 and AUTO_MOD, which spread keys over the rule's data node list
    /// by position; the others name their data nodes in their parameters.
    pub fn is_auto(&self) -> bool {
        matches!(
            self,
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod
        )
    }

    /// True when the function needs integer keys (AUTO_MOD, RANGE, ROUTE, SIMPLE_MOD).
    pub fn needs_integer_key(&self) -> bool {
        matches!(
            self,
            ShardingFunction::AutoMod
                | ShardingFunction::Range { .. }
                | ShardingFunction::Route { .. }
                | ShardingFunction::SimpleMod { .. }
        )
    }

    /// Data nodes named in the parameters, sorted, without repeats.
    pub fn referenced_nodes(&self) -> Vec<u32> {
        let mut set = BTreeSet::new();
        match self {
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod => {}
            ShardingFunction::Range {
                intervals,
                below_min,
                above_max,
            } => {
                set.extend(intervals.iter().map(|i| i.2));
                set.extend(below_min.iter().chain(above_max.iter()));
            }
            ShardingFunction::Match {
                values,
                empty_route,
            } => {
                set.extend(values.iter().map(|v| v.1));
                set.extend(empty_route.iter());
            }
            ShardingFunction::Route { values } => set.extend(values.iter().map(|v| v.1)),
            ShardingFunction::SimpleMod { remainders, .. }
            | ShardingFunction::Crc32Mod { remainders, .. } => {
                set.extend(remainders.iter().map(|r| r.2));
            }
        }
        set.into_iter().collect()
    }

    /// Sorts intervals, list entries and remainders (the canonical order `to_spec`
    /// writes); MATCH keeps its written order.
    pub fn normalized(mut self) -> Self {
        match &mut self {
            ShardingFunction::Range { intervals, .. } => intervals.sort_unstable(),
            ShardingFunction::Route { values } => values.sort_unstable(),
            ShardingFunction::SimpleMod { remainders, .. }
            | ShardingFunction::Crc32Mod { remainders, .. } => remainders.sort_unstable(),
            _ => {}
        }
        self
    }

    /// Checks the parameters: positive DNIDs; RANGE intervals with low <= high that do
    /// not overlap; MATCH and ROUTE values listed once; a modulus in 2..=2147483647 whose
    /// remainders 0..modulus-1 are each covered by exactly one interval.
    pub fn validate(&self) -> Result<(), ShardingError> {
        let bad = |reason: String| Err(ShardingError::invalid_rule(reason));
        if self.referenced_nodes().first() == Some(&0) {
            return bad("data node ids must be positive".into());
        }
        match self {
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod => Ok(()),
            ShardingFunction::Range { intervals, .. } => {
                if intervals.is_empty() {
                    return bad("RANGE needs at least one interval".into());
                }
                let mut sorted = intervals.clone();
                sorted.sort_unstable();
                for &(low, high, _) in &sorted {
                    if low > high {
                        return bad(format!("RANGE interval {low}:{high} has low > high"));
                    }
                }
                for pair in sorted.windows(2) {
                    if pair[1].0 <= pair[0].1 {
                        return bad(format!(
                            "RANGE intervals {}:{} and {}:{} overlap",
                            pair[0].0, pair[0].1, pair[1].0, pair[1].1
                        ));
                    }
                }
                Ok(())
            }
            ShardingFunction::Match {
                values,
                empty_route,
            } => {
                if values.is_empty() && empty_route.is_none() {
                    return bad("MATCH needs at least one value".into());
                }
                let mut seen = BTreeSet::new();
                for (value, _) in values {
                    if value.is_empty() {
                        return bad(
                            "MATCH lists the empty string as a value; use the empty-string route"
                                .into(),
                        );
                    }
                    if !seen.insert(value.as_str()) {
                        return bad(format!("MATCH value '{value}' is listed twice"));
                    }
                }
                Ok(())
            }
            ShardingFunction::Route { values } => {
                if values.is_empty() {
                    return bad("ROUTE needs at least one value".into());
                }
                let mut seen = BTreeSet::new();
                for (value, _) in values {
                    if !seen.insert(*value) {
                        return bad(format!("ROUTE value {value} is listed twice"));
                    }
                }
                Ok(())
            }
            ShardingFunction::SimpleMod {
                modulus,
                remainders,
            }
            | ShardingFunction::Crc32Mod {
                modulus,
                remainders,
            } => {
                let name = self.type_name().to_ascii_uppercase();
                if !(2..=MAX_MODULUS).contains(modulus) {
                    return bad(format!(
                        "{name} modulus {modulus} is outside 2..=2147483647"
                    ));
                }
                let mut sorted = remainders.clone();
                sorted.sort_unstable();
                let mut expected = 0u64;
                for &(low, high, _) in &sorted {
                    if low > high {
                        return bad(format!(
                            "{name} remainder interval {low}:{high} has low > high"
                        ));
                    }
                    if high >= *modulus {
                        return bad(format!(
                            "{name} remainder {high} is not below the modulus {modulus}"
                        ));
                    }
                    if low < expected {
                        return bad(format!("{name} remainder {low} is covered twice"));
                    }
                    if low > expected {
                        return bad(format!(
                            "{name} remainders {expected}..{} have no data node (every remainder below the modulus needs one)",
                            low - 1
                        ));
                    }
                    expected = high + 1;
                }
                if expected < *modulus {
                    return bad(format!(
                        "{name} remainders {expected}..{} have no data node (every remainder below the modulus needs one)",
                        modulus - 1
                    ));
                }
                Ok(())
            }
        }
    }
}

impl ShardingRule {
    /// A validated rule. AUTO functions need `data_nodes` (non-empty, no repeats); the
    /// others may pass an empty list to mean the nodes their parameters name, or a list
    /// holding all of those. The NULL route must be one of the data nodes (it is added to
    /// a derived list).
    pub fn new(
        function: ShardingFunction,
        data_nodes: Vec<u32>,
        null_route: Option<u32>,
    ) -> Result<ShardingRule, ShardingError> {
        let function = function.normalized();
        function.validate()?;
        let data_nodes = if !function.is_auto() && data_nodes.is_empty() {
            let mut nodes: BTreeSet<u32> = function.referenced_nodes().into_iter().collect();
            nodes.extend(null_route);
            nodes.into_iter().collect()
        } else {
            data_nodes
        };
        let rule = ShardingRule {
            name: None,
            function,
            data_nodes,
            null_route,
        };
        rule.validate()?;
        Ok(rule)
    }

    /// AUTO_CRC32 over `data_nodes`; as in HotDB, NULL keys are routed automatically (to
    /// the first data node) unless [`ShardingRule::with_null_route`] says otherwise.
    pub fn auto_crc32(data_nodes: Vec<u32>) -> Result<ShardingRule, ShardingError> {
        let first = data_nodes.first().copied();
        ShardingRule::new(ShardingFunction::AutoCrc32, data_nodes, first)
    }

    /// AUTO_MOD over `data_nodes` (integer keys; NULL is an error unless a NULL route is set).
    pub fn auto_mod(data_nodes: Vec<u32>) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(ShardingFunction::AutoMod, data_nodes, None)
    }

    /// RANGE: inclusive (low, high, dnid) intervals plus optional below-min/above-max nodes.
    pub fn range(
        intervals: Vec<(i128, i128, u32)>,
        below_min: Option<u32>,
        above_max: Option<u32>,
    ) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(
            ShardingFunction::Range {
                intervals,
                below_min,
                above_max,
            },
            Vec::new(),
            None,
        )
    }

    /// MATCH: (value, dnid) pairs compared with the column's canonical form, plus an
    /// optional node for the empty string.
    pub fn match_list(
        values: Vec<(String, u32)>,
        empty_route: Option<u32>,
    ) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(
            ShardingFunction::Match {
                values,
                empty_route,
            },
            Vec::new(),
            None,
        )
    }

    /// ROUTE: (integer value, dnid) pairs.
    pub fn route_list(values: Vec<(i128, u32)>) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(ShardingFunction::Route { values }, Vec::new(), None)
    }

    /// SIMPLE_MOD: key % modulus, (low, high, dnid) remainder intervals covering 0..modulus.
    pub fn simple_mod(
        modulus: u64,
        remainders: Vec<(u64, u64, u32)>,
    ) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(
            ShardingFunction::SimpleMod {
                modulus,
                remainders,
            },
            Vec::new(),
            None,
        )
    }

    /// CRC32_MOD: crc32(key) % modulus, remainder intervals covering 0..modulus.
    pub fn crc32_mod(
        modulus: u64,
        remainders: Vec<(u64, u64, u32)>,
    ) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(
            ShardingFunction::Crc32Mod {
                modulus,
                remainders,
            },
            Vec::new(),
            None,
        )
    }

    /// A rule from its text form: function type name, parameters (see `to_spec`), data
    /// nodes (required for AUTO functions) and NULL route.
    pub fn from_spec(
        type_name: &str,
        params: &str,
        data_nodes: Vec<u32>,
        null_route: Option<u32>,
    ) -> Result<ShardingRule, ShardingError> {
        let function = ShardingFunction::from_spec(type_name, params)?;
        ShardingRule::new(function, data_nodes, null_route)
    }

    /// The same rule with another NULL route (None: NULL keys are an error).
    pub fn with_null_route(
        mut self,
        null_route: Option<u32>,
    ) -> Result<ShardingRule, ShardingError> {
        if let Some(dn) = null_route {
            if !self.function.is_auto() && !self.data_nodes.contains(&dn) {
                self.data_nodes.push(dn);
                self.data_nodes.sort_unstable();
            }
        }
        self.null_route = null_route;
        self.validate()?;
        Ok(self)
    }

    /// The same rule under a name (named rules from configuration).
    pub fn with_name(mut self, name: impl Into<String>) -> ShardingRule {
        self.name = Some(name.into());
        self
    }

    /// Checks the function's parameters, the data node list and the NULL route.
    pub fn validate(&self) -> Result<(), ShardingError> {
        self.function.validate()?;
        let bad = |reason: String| Err(ShardingError::invalid_rule(reason));
        if self.data_nodes.is_empty() {
            return bad(format!(
                "{} needs at least one data node",
                self.function.type_name().to_ascii_uppercase()
            ));
        }
        let mut seen = BTreeSet::new();
        for &dn in &self.data_nodes {
            if dn == 0 {
                return bad("data node ids must be positive".into());
            }
            if !seen.insert(dn) {
                return bad(format!("data node {dn} is listed twice"));
            }
        }
        for dn in self.function.referenced_nodes() {
            if !seen.contains(&dn) {
                return bad(format!(
                    "data node {dn} is used by the parameters but is not one of the rule's data nodes"
                ));
            }
        }
        if let Some(dn) = self.null_route {
            if !seen.contains(&dn) {
                return bad(format!(
                    "NULL route {dn} is not one of the rule's data nodes"
                ));
            }
        }
        Ok(())
    }

    /// Checks that the rule can route keys of `key_type`: integer keys for AUTO_MOD,
    /// RANGE, ROUTE and SIMPLE_MOD; MATCH values valid for the type and, where the
    /// collation makes two of them equal, routed to the same node.
    pub fn check_key_type(&self, key_type: &KeyType) -> Result<(), ShardingError> {
        key_type.validate()?;
        let integer = matches!(key_type, KeyType::Integer { .. })
            || matches!(key_type, KeyType::Temporal { kind } if kind == "year");
        if self.function.needs_integer_key() && !integer {
            return Err(ShardingError::mismatch(
                &self.function,
                &key_type.to_string(),
            ));
        }
        if let ShardingFunction::Match {
            values,
            empty_route,
        } = &self.function
        {
            let mut keys: Vec<(KeyValue, &str, u32)> = Vec::new();
            let empty = empty_route.map(|dn| (String::new(), dn));
            for (value, dn) in values.iter().chain(empty.iter()) {
                let key = key::match_value_key(key_type, value)?;
                if let Some((_, other, other_dn)) = keys.iter().find(|(k, _, _)| *k == key) {
                    if *other_dn != *dn {
                        return Err(ShardingError::invalid_rule(format!(
                            "MATCH values '{other}' and '{value}' are equal for {key_type} but go to data nodes {other_dn} and {dn}"
                        )));
                    }
                }
                keys.push((key, value, *dn));
            }
        }
        Ok(())
    }

    /// True when both rules put every key on the same node (names are ignored): tables
    /// sharded by such rules on equal keys are co-located.
    pub fn same_placement(&self, other: &ShardingRule) -> bool {
        self.function == other.function
            && self.data_nodes == other.data_nodes
            && self.null_route == other.null_route
    }

    /// The data node of a canonical key. MATCH on string, binary or temporal keys needs
    /// the column's key type: use [`ShardingRule::route_typed`] or
    /// [`Distribution::route`].
    pub fn route(&self, key: &KeyValue) -> Result<u32, ShardingError> {
        self.route_inner(None, key)
    }

    /// The data node of a canonical key of a column of `key_type`.
    pub fn route_typed(&self, key_type: &KeyType, key: &KeyValue) -> Result<u32, ShardingError> {
        self.route_inner(Some(key_type), key)
    }

    fn node_at(&self, index: u64) -> Result<u32, ShardingError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.data_nodes.get(i).copied())
            .ok_or_else(|| ShardingError::invalid_rule("the rule has no data nodes"))
    }

    fn node_count(&self) -> Result<u64, ShardingError> {
        match self.data_nodes.len() {
            0 => Err(ShardingError::invalid_rule("the rule has no data nodes")),
            n => Ok(n as u64),
        }
    }

    fn route_inner(
        &self,
        key_type: Option<&KeyType>,
        key: &KeyValue,
    ) -> Result<u32, ShardingError> {
        if matches!(key, KeyValue::Null) {
            return self
                .null_route
                .ok_or_else(|| ShardingError::new(ShardingErrorKind::NullNoRoute));
        }
        let int = || match key {
            KeyValue::Int(v) => Ok(*v),
            other => Err(ShardingError::mismatch(&self.function, key_kind(other))),
        };
        let no_route = || ShardingError::no_route(key);
        match &self.function {
            ShardingFunction::AutoCrc32 => {
                let n = self.node_count()?;
                self.node_at(u64::from(key.crc32()) % n)
            }
            ShardingFunction::AutoMod => {
                let n = i128::from(self.node_count()?);
                let index = int()?.rem_euclid(n);
                self.node_at(u64::try_from(index).unwrap_or(0))
            }
            ShardingFunction::Range {
                intervals,
                below_min,
                above_max,
            } => {
                let v = int()?;
                if let Some(&(_, _, dn)) = intervals.iter().find(|(lo, hi, _)| *lo <= v && v <= *hi)
                {
                    return Ok(dn);
                }
                let min = intervals.iter().map(|i| i.0).min();
                let max = intervals.iter().map(|i| i.1).max();
                match (min, max) {
                    (Some(min), _) if v < min => below_min.ok_or_else(no_route),
                    (_, Some(max)) if v > max => above_max.ok_or_else(no_route),
                    _ => Err(no_route()),
                }
            }
            ShardingFunction::Match {
                values,
                empty_route,
            } => {
                let inferred;
                let key_type = match key_type {
                    Some(t) => t,
                    None => {
                        inferred = infer_key_type(key).ok_or_else(|| {
                            ShardingError::new(ShardingErrorKind::NotRoutable {
                                reason: "MATCH on a string, binary or temporal column needs the column's key type (route through the table's Distribution)".into(),
                            })
                        })?;
                        &inferred
                    }
                };
                for (value, dn) in values {
                    if key::match_value_key(key_type, value).ok().as_ref() == Some(key) {
                        return Ok(*dn);
                    }
                }
                match empty_route {
                    Some(dn) if key::match_value_key(key_type, "").ok().as_ref() == Some(key) => {
                        Ok(*dn)
                    }
                    _ => Err(no_route()),
                }
            }
            ShardingFunction::Route { values } => {
                let v = int()?;
                values
                    .iter()
                    .find(|(value, _)| *value == v)
                    .map(|(_, dn)| *dn)
                    .ok_or_else(no_route)
            }
            ShardingFunction::SimpleMod {
                modulus,
                remainders,
            } => {
                let m = i128::from((*modulus).max(1));
                let r = u64::try_from(int()?.rem_euclid(m)).unwrap_or(0);
                remainder_node(remainders, r).ok_or_else(no_route)
            }
            ShardingFunction::Crc32Mod {
                modulus,
                remainders,
            } => {
                let r = u64::from(key.crc32()) % (*modulus).max(1);
                remainder_node(remainders, r).ok_or_else(no_route)
            }
        }
    }

    /// The data nodes that can hold keys in the range (sorted, no repeats; empty when
    /// the range is empty or routes nowhere), or None when it may be any of them. Exact
    /// for RANGE and ROUTE on integer keys; other functions enumerate integer ranges of
    /// at most 64 values. NULL never falls in a range.
    pub fn route_range(&self, low: Bound<&KeyValue>, high: Bound<&KeyValue>) -> Option<Vec<u32>> {
        let lo = match low {
            Bound::Unbounded => None,
            Bound::Included(KeyValue::Int(v)) => Some(*v),
            Bound::Excluded(KeyValue::Int(v)) => Some(v.checked_add(1)?),
            _ => return None,
        };
        let hi = match high {
            Bound::Unbounded => None,
            Bound::Included(KeyValue::Int(v)) => Some(*v),
            Bound::Excluded(KeyValue::Int(v)) => Some(v.checked_sub(1)?),
            _ => return None,
        };
        if let (Some(l), Some(h)) = (lo, hi) {
            if l > h {
                return Some(Vec::new());
            }
        }
        let within = |v: i128| lo.is_none_or(|l| v >= l) && hi.is_none_or(|h| v <= h);
        let mut nodes = BTreeSet::new();
        match &self.function {
            ShardingFunction::Range {
                intervals,
                below_min,
                above_max,
            } => {
                for &(a, b, dn) in intervals {
                    if lo.is_none_or(|l| b >= l) && hi.is_none_or(|h| a <= h) {
                        nodes.insert(dn);
                    }
                }
                let min = intervals.iter().map(|i| i.0).min()?;
                let max = intervals.iter().map(|i| i.1).max()?;
                if lo.is_none_or(|l| l < min) {
                    nodes.extend(below_min);
                }
                if hi.is_none_or(|h| h > max) {
                    nodes.extend(above_max);
                }
            }
            ShardingFunction::Route { values } => {
                nodes.extend(values.iter().filter(|(v, _)| within(*v)).map(|(_, dn)| *dn));
            }
            _ => {
                let (l, h) = (lo?, hi?);
                if h - l >= 64 {
                    return None;
                }
                for v in l..=h {
                    if let Ok(dn) = self.route(&KeyValue::Int(v)) {
                        nodes.insert(dn);
                    }
                }
            }
        }
        Some(nodes.into_iter().collect())
    }
}

fn remainder_node(remainders: &[(u64, u64, u32)], r: u64) -> Option<u32> {
    remainders
        .iter()
        .find(|(lo, hi, _)| *lo <= r && r <= *hi)
        .map(|(_, _, dn)| *dn)
}

fn key_kind(key: &KeyValue) -> &'static str {
    match key {
        KeyValue::Null => "NULL",
        KeyValue::Int(_) => "integer",
        KeyValue::Decimal(_) => "DECIMAL",
        KeyValue::Weight(_) => "string",
        KeyValue::Bytes(_) => "binary or temporal",
    }
}

/// The key type a MATCH list is read with when only the key is known.
fn infer_key_type(key: &KeyValue) -> Option<KeyType> {
    match key {
        KeyValue::Int(_) => Some(KeyType::Integer { unsigned: false }),
        KeyValue::Decimal(s) => {
            let scale = s.split_once('.').map_or(0, |(_, f)| f.len());
            Some(KeyType::Decimal {
                scale: u32::try_from(scale).ok()?,
            })
        }
        _ => None,
    }
}

impl Distribution {
    /// A sharded distribution, checked: the rule can route keys of `key_type`.
    pub fn sharded(
        column: impl Into<String>,
        key_type: KeyType,
        rule: ShardingRule,
    ) -> Result<Distribution, ShardingError> {
        rule.validate()?;
        rule.check_key_type(&key_type)?;
        Ok(Distribution::Sharded {
            column: column.into(),
            key_type,
            rule,
        })
    }

    /// `sharded`, `global`, `vertical` or `child`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Distribution::Vertical { .. } => "vertical",
            Distribution::Global { .. } => "global",
            Distribution::Sharded { .. } => "sharded",
            Distribution::Child { .. } => "child",
        }
    }

    /// The data nodes holding the table (sorted, no repeats); None for a child table,
    /// whose nodes are its parent's.
    pub fn data_nodes(&self) -> Option<Vec<u32>> {
        let mut nodes: Vec<u32> = match self {
            Distribution::Vertical { dnid } => vec![*dnid],
            Distribution::Global { data_nodes } => data_nodes.clone(),
            Distribution::Sharded { rule, .. } => rule.data_nodes.clone(),
            Distribution::Child { .. } => return None,
        };
        nodes.sort_unstable();
        nodes.dedup();
        Some(nodes)
    }

    /// Checks the distribution on its own: positive DNIDs, a valid rule for the key type,
    /// non-empty names.
    pub fn validate(&self) -> Result<(), ShardingError> {
        let bad = |reason: &str| Err(ShardingError::invalid_rule(reason));
        match self {
            Distribution::Vertical { dnid } if *dnid == 0 => bad("data node ids must be positive"),
            Distribution::Global { data_nodes } if data_nodes.is_empty() => {
                bad("a global table needs at least one data node")
            }
            Distribution::Global { data_nodes } if data_nodes.contains(&0) => {
                bad("data node ids must be positive")
            }
            Distribution::Sharded { column, .. } if column.is_empty() => {
                bad("the sharding column name is empty")
            }
            Distribution::Sharded { key_type, rule, .. } => {
                rule.validate()?;
                rule.check_key_type(key_type)
            }
            Distribution::Child {
                parent,
                parent_column,
                column,
            } if parent.is_empty() || parent_column.is_empty() || column.is_empty() => {
                bad("a child table needs its parent, the parent's column and its own column")
            }
            _ => Ok(()),
        }
    }

    /// The data node of a canonical key: the rule's route for a sharded table, the node
    /// of a vertical table. Global and child tables have no per-key route.
    pub fn route(&self, key: &KeyValue) -> Result<u32, ShardingError> {
        match self {
            Distribution::Sharded { key_type, rule, .. } => rule.route_typed(key_type, key),
            Distribution::Vertical { dnid } => Ok(*dnid),
            Distribution::Global { .. } => {
                Err(ShardingError::new(ShardingErrorKind::NotRoutable {
                    reason: "a global table has a copy on every data node; it has no per-key route"
                        .into(),
                }))
            }
            Distribution::Child { parent, .. } => {
                Err(ShardingError::new(ShardingErrorKind::NotRoutable {
                    reason: format!("a child table routes by its parent '{parent}' row"),
                }))
            }
        }
    }

    /// Canonicalizes `literal` for the sharding column and routes it (what an INSERT
    /// needs); errors show the literal as written.
    pub fn route_literal(&self, literal: &KeyLiteral) -> Result<u32, ShardingError> {
        match self {
            Distribution::Sharded { key_type, rule, .. } => {
                let key = canonical_key(key_type, literal)?;
                rule.route_typed(key_type, &key)
                    .map_err(|e| e.with_value(&key::literal_text(literal)))
            }
            _ => self.route(&KeyValue::Null),
        }
    }

    /// The data nodes that can hold keys in the range (see [`ShardingRule::route_range`]);
    /// a vertical table's one node; None (all) for global and child tables.
    pub fn route_range(&self, low: Bound<&KeyValue>, high: Bound<&KeyValue>) -> Option<Vec<u32>> {
        match self {
            Distribution::Sharded { rule, .. } => rule.route_range(low, high),
            Distribution::Vertical { dnid } => Some(vec![*dnid]),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
