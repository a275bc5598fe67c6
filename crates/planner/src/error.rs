//! Why a statement cannot be planned, worded as MySQL (or HotDB) words it, with the
//! error number and SQLSTATE the session sends in the ERR packet.

/// A statement the planner refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// ER_NOT_SUPPORTED_YET (1235): valid SQL that Strata cannot run correctly across
    /// data nodes; names the construct.
    #[error("This version of Strata doesn't yet support '{0}'")]
    Unsupported(String),
    /// 1235 too, but not a refusal to plan around (no fallback plan is tried): the
    /// statement needs the session's local time, which the compute node cannot compute
    /// (see [`crate::context::LocalTime::Unknown`]); the server fetches it and plans again.
    #[error("This version of Strata doesn't yet support '{0}'")]
    NeedsLocalTime(String),
    /// ER_PARSE_ERROR (1064), with the parser's message.
    #[error("You have an error in your SQL syntax: {0}")]
    Parse(String),
    /// ER_NO_SUCH_TABLE (1146).
    #[error("Table '{db}.{table}' doesn't exist")]
    UnknownTable {
        /// Logical database.
        db: String,
        /// Table.
        table: String,
    },
    /// ER_BAD_TABLE_ERROR (1051), from DROP TABLE.
    #[error("Unknown table '{db}.{table}'")]
    UnknownDropTable {
        /// Logical database.
        db: String,
        /// Table.
        table: String,
    },
    /// ER_TABLE_EXISTS_ERROR (1050), from CREATE TABLE or RENAME.
    #[error("Table '{0}' already exists")]
    TableExists(String),
    /// ER_NO_DB_ERROR (1046).
    #[error("No database selected")]
    NoDatabase,
    /// ER_BAD_DB_ERROR (1049).
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// A sharding function could not route a value (HotDB 10104 and friends).
    #[error("{message}")]
    Sharding {
        /// Error number.
        code: u16,
        /// Message.
        message: String,
    },
    /// An UPDATE (or ON DUPLICATE KEY UPDATE) would move a row to another data node.
    #[error("sharding column's value cannot be changed: {0}")]
    ShardingColumnChange(String),
    /// An error MariaDB itself gives the statement (e.g. 1116, too many tables).
    #[error("{message}")]
    Statement {
        /// Error number.
        code: u16,
        /// SQLSTATE.
        sqlstate: &'static str,
        /// Message, as MariaDB words it.
        message: String,
    },
    /// A bad distribution in DDL (HotDB 10070: function type, 10090: data nodes,
    /// 10172: conflicts with the configuration).
    #[error("{message}")]
    Distribution {
        /// Error number.
        code: u16,
        /// Message.
        message: String,
    },
    /// ER_UNIQUE_KEY_NEED_ALL_FIELDS_IN_PF (1503): a PRIMARY KEY or UNIQUE key of a table
    /// spread over several data nodes lacks the sharding column, so each node would
    /// enforce it only over its own rows.
    #[error(
        "A {} must include all columns in the table's partitioning function: {} of table '{table}' does not contain the sharding column '{column}'. Include '{column}' in the key, or shard the table by a column of the key (a unique constraint enforced across data nodes is not available yet)",
        if key.is_primary() { "PRIMARY KEY" } else { "UNIQUE INDEX" },
        key.describe()
    )]
    UniqueKeyWithoutShardingColumn {
        /// Table.
        table: String,
        /// The key.
        key: strata_catalog::UniqueKey,
        /// The sharding column (a child table's joining column).
        column: String,
    },
    /// ER_WRONG_ARGUMENTS (1210): the parameter values do not match the placeholders.
    #[error("Incorrect arguments to mysqld_stmt_execute")]
    WrongArguments,
    /// The global AUTO_INCREMENT sequence could not give values (ER_AUTOINC_READ_FAILED).
    #[error("Failed to read auto-increment value from storage engine: {0}")]
    Sequence(String),
}

impl PlanError {
    /// MySQL error number.
    pub fn code(&self) -> u16 {
        match self {
            PlanError::Unsupported(_) | PlanError::NeedsLocalTime(_) => 1235,
            PlanError::Parse(_) => 1064,
            PlanError::UnknownTable { .. } => 1146,
            PlanError::UnknownDropTable { .. } => 1051,
            PlanError::TableExists(_) => 1050,
            PlanError::NoDatabase => 1046,
            PlanError::UnknownDatabase(_) => 1049,
            PlanError::Sharding { code, .. }
            | PlanError::Distribution { code, .. }
            | PlanError::Statement { code, .. } => *code,
            PlanError::ShardingColumnChange(_) => 1235,
            PlanError::WrongArguments => 1210,
            PlanError::UniqueKeyWithoutShardingColumn { .. } => 1503,
            PlanError::Sequence(_) => 1467,
        }
    }

    /// SQLSTATE of the error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            PlanError::Unsupported(_)
            | PlanError::NeedsLocalTime(_)
            | PlanError::Parse(_)
            | PlanError::UnknownDatabase(_)
            | PlanError::ShardingColumnChange(_) => "42000",
            PlanError::UnknownTable { .. } | PlanError::UnknownDropTable { .. } => "42S02",
            PlanError::TableExists(_) => "42S01",
            PlanError::NoDatabase => "3D000",
            PlanError::Statement { sqlstate, .. } => sqlstate,
            PlanError::Sharding { .. }
            | PlanError::Distribution { .. }
            | PlanError::WrongArguments
            | PlanError::UniqueKeyWithoutShardingColumn { .. }
            | PlanError::Sequence(_) => "HY000",
        }
    }

    /// A 1235 refusal naming `construct`.
    pub(crate) fn unsupported(construct: impl Into<String>) -> PlanError {
        PlanError::Unsupported(construct.into())
    }

    /// A 10090 error: a missing or wrong data node list.
    pub(crate) fn data_nodes(message: impl Into<String>) -> PlanError {
        PlanError::Distribution {
            code: 10090,
            message: message.into(),
        }
    }

    /// A 10172 error: the distribution conflicts with the configuration (an unknown
    /// rule or function, a parent that is not sharded).
    pub(crate) fn distribution_conflict(message: impl Into<String>) -> PlanError {
        PlanError::Distribution {
            code: 10172,
            message: message.into(),
        }
    }
}
