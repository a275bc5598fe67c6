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

use crate::DataNodeId;

/// How a table's rows are placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distribution {
    /// All rows on one data node.
    Vertical {
        /// The data node.
        dnid: DataNodeId,
    },
    /// A full copy on each data node listed.
    Global {
        /// The data nodes (all of the logical database's).
        data_nodes: Vec<DataNodeId>,
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

/// Type of a sharding column, as far as routing needs it. The width fields are `None`
/// ("unknown") for key types read from catalogs written before widths were kept; an
/// unknown width routes as before (BIGINT range, no precision or length limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyType {
    /// TINYINT .. BIGINT (and BOOL, SERIAL).
    Integer {
        /// UNSIGNED.
        unsigned: bool,
        /// Storage size in bytes: 1 TINYINT, 2 SMALLINT, 3 MEDIUMINT, 4 INT, 8 BIGINT.
        bytes: Option<u8>,
    },
    /// DECIMAL(p, s).
    Decimal {
        /// Scale.
        scale: u32,
        /// Precision (total digits).
        precision: Option<u32>,
        /// UNSIGNED (negative values are stored as 0).
        unsigned: bool,
    },
    /// CHAR / VARCHAR / ENUM / SET with a collation (e.g. `utf8mb4_general_ci`).
    String {
        /// Collation name.
        collation: String,
        /// Length in characters.
        length: Option<u32>,
    },
    /// BINARY / VARBINARY.
    Binary {
        /// Length in bytes.
        length: Option<u32>,
    },
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
        intervals: Vec<(i128, i128, DataNodeId)>,
        /// Node for keys below every interval.
        below_min: Option<DataNodeId>,
        /// Node for keys above every interval.
        above_max: Option<DataNodeId>,
    },
    /// Value list to data nodes (strings compared with the column's collation).
    Match {
        /// (value as written, dnid).
        values: Vec<(String, DataNodeId)>,
        /// Node for the empty string, if any.
        empty_route: Option<DataNodeId>,
    },
    /// Integer value to data node.
    Route {
        /// (value, dnid).
        values: Vec<(i128, DataNodeId)>,
    },
    /// key % modulus; remainder intervals (inclusive) to data nodes.
    SimpleMod {
        /// Modulus, 2 ..= 2147483647.
        modulus: u64,
        /// (low remainder, high remainder, dnid).
        remainders: Vec<(u64, u64, DataNodeId)>,
    },
    /// crc32(key) % modulus; remainder intervals (inclusive) to data nodes.
    Crc32Mod {
        /// Modulus, 2 ..= 2147483647.
        modulus: u64,
        /// (low remainder, high remainder, dnid).
        remainders: Vec<(u64, u64, DataNodeId)>,
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
    pub data_nodes: Vec<DataNodeId>,
    /// Data node for NULL keys; None makes NULL an error (10104).
    pub null_route: Option<DataNodeId>,
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

impl ShardingRule {
    /// A validated rule. AUTO functions need `data_nodes` (non-empty, no repeats); the
    /// others may pass an empty list to mean the nodes their parameters name, or a list
    /// holding all of those. The NULL route must be one of the data nodes (it is added to
    /// a derived list).
    pub fn new(
        function: ShardingFunction,
        data_nodes: Vec<DataNodeId>,
        null_route: Option<DataNodeId>,
    ) -> Result<ShardingRule, ShardingError> {
        let function = function.normalized();
        function.validate()?;
        let data_nodes = if !function.is_auto() && data_nodes.is_empty() {
            let mut nodes: BTreeSet<DataNodeId> = function.referenced_nodes().into_iter().collect();
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
    pub fn auto_crc32(data_nodes: Vec<DataNodeId>) -> Result<ShardingRule, ShardingError> {
        let first = data_nodes.first().copied();
        ShardingRule::new(ShardingFunction::AutoCrc32, data_nodes, first)
    }

    /// AUTO_MOD over `data_nodes` (integer keys; NULL is an error unless a NULL route is set).
    pub fn auto_mod(data_nodes: Vec<DataNodeId>) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(ShardingFunction::AutoMod, data_nodes, None)
    }

    /// RANGE: inclusive (low, high, dnid) intervals plus optional below-min/above-max nodes.
    pub fn range(
        intervals: Vec<(i128, i128, DataNodeId)>,
        below_min: Option<DataNodeId>,
        above_max: Option<DataNodeId>,
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
        values: Vec<(String, DataNodeId)>,
        empty_route: Option<DataNodeId>,
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
    pub fn route_list(values: Vec<(i128, DataNodeId)>) -> Result<ShardingRule, ShardingError> {
        ShardingRule::new(ShardingFunction::Route { values }, Vec::new(), None)
    }

    /// SIMPLE_MOD: key % modulus, (low, high, dnid) remainder intervals covering 0..modulus.
    pub fn simple_mod(
        modulus: u64,
        remainders: Vec<(u64, u64, DataNodeId)>,
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
        remainders: Vec<(u64, u64, DataNodeId)>,
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
        data_nodes: Vec<DataNodeId>,
        null_route: Option<DataNodeId>,
    ) -> Result<ShardingRule, ShardingError> {
        let function = ShardingFunction::from_spec(type_name, params)?;
        ShardingRule::new(function, data_nodes, null_route)
    }

    /// The same rule with another NULL route (None: NULL keys are an error).
    pub fn with_null_route(
        mut self,
        null_route: Option<DataNodeId>,
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
            if dn.get() == 0 {
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
            let mut keys: Vec<(KeyValue, &str, DataNodeId)> = Vec::new();
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
    pub fn route(&self, key: &KeyValue) -> Result<DataNodeId, ShardingError> {
        self.route_inner(None, key)
    }

    /// The data node of a canonical key of a column of `key_type`.
    pub fn route_typed(
        &self,
        key_type: &KeyType,
        key: &KeyValue,
    ) -> Result<DataNodeId, ShardingError> {
        self.route_inner(Some(key_type), key)
    }

    fn node_at(&self, index: u64) -> Result<DataNodeId, ShardingError> {
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
    ) -> Result<DataNodeId, ShardingError> {
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
    pub fn route_range(
        &self,
        low: Bound<&KeyValue>,
        high: Bound<&KeyValue>,
    ) -> Option<Vec<DataNodeId>> {
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

fn remainder_node(remainders: &[(u64, u64, DataNodeId)], r: u64) -> Option<DataNodeId> {
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
        KeyValue::Int(_) => Some(KeyType::Integer {
            unsigned: false,
            bytes: None,
        }),
        KeyValue::Decimal(s) => {
            let scale = s.split_once('.').map_or(0, |(_, f)| f.len());
            Some(KeyType::Decimal {
                scale: u32::try_from(scale).ok()?,
                precision: None,
                unsigned: false,
            })
        }
        _ => None,
    }
}

mod distribution;
mod error;
mod function;

pub use error::{
    ShardingError, ShardingErrorKind, ER_NOT_SUPPORTED_YET, ER_NO_ROUTE, ER_WRONG_ARGUMENTS,
};

#[cfg(test)]
mod tests;
