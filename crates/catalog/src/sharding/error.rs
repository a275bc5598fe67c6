//! Errors of building rules, canonicalizing keys and routing, with their MySQL codes.

use super::{KeyType, KeyValue, ShardingFunction};

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

    pub(super) fn new(kind: ShardingErrorKind) -> Self {
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

    pub(super) fn no_route(key: &KeyValue) -> Self {
        Self::new(ShardingErrorKind::NoRoute {
            value: key.to_string(),
        })
    }

    pub(super) fn mismatch(function: &ShardingFunction, key_type: &str) -> Self {
        Self::new(ShardingErrorKind::KeyTypeMismatch {
            function: function.type_name().to_ascii_uppercase(),
            key_type: key_type.to_string(),
        })
    }
}
