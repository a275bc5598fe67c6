//! What can go wrong while merging per-node results, and how each failure reaches the
//! client as a MySQL error. A storage node's reply is input: malformed rows, values that
//! do not parse for their column type and out-of-order streams are errors, never panics.

use strata_protocol::{codes, MysqlError};

/// ER_RECORD_FILE_FULL: MySQL's answer when an internal temporary table (what GROUP BY,
/// DISTINCT and sorting buffer into) exceeds its limit with nowhere to spill.
pub const RESULT_TOO_LARGE: (u16, &str) = (1114, "HY000");
/// ER_ERROR_ON_WRITE: MariaDB's answer when writing a temporary file fails (a spill
/// file that cannot be written or read back).
pub const SPILL_IO: (u16, &str) = (1026, "HY000");
/// ER_DATA_OUT_OF_RANGE: a COUNT or SUM left its type's range.
pub const DATA_OUT_OF_RANGE: (u16, &str) = (1690, "22003");

/// A failure of the merge operators.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// The merge spec does not fit the per-node columns (a planner bug).
    #[error("invalid merge plan: {0}")]
    InvalidSpec(String),
    /// Data nodes returned result sets of different shapes.
    #[error("data node #{node} returned {detail}")]
    ColumnMismatch {
        /// Position of the node in the plan.
        node: usize,
        /// What differs.
        detail: String,
    },
    /// A row payload is not a valid text-protocol row of the expected width.
    #[error("data node #{node} sent a malformed row: {detail}")]
    MalformedRow {
        /// Position of the node in the plan.
        node: usize,
        /// What is wrong.
        detail: String,
    },
    /// A value does not parse as its column's type.
    #[error("column {column} holds {value:?}, which is not a valid {expected}")]
    BadValue {
        /// Column number in the per-node result.
        column: usize,
        /// The offending text (lossy UTF-8).
        value: String,
        /// The type it should have had.
        expected: &'static str,
    },
    /// A node's rows are not in the order the plan pushed down to it.
    #[error(
        "data node #{node} returned rows out of the order the merge relies on (ORDER BY / GROUP BY pushed down)"
    )]
    OutOfOrder {
        /// Position of the node in the plan.
        node: usize,
    },
    /// The rows buffered for this statement exceed the memory budget.
    #[error(
        "The result exceeds the compute node's merge memory budget of {budget} bytes (configuration setting merge.memory_budget)"
    )]
    MemoryBudgetExceeded {
        /// The budget in force.
        budget: usize,
    },
    /// The statement's spill files would pass their cap on disk.
    #[error(
        "The result exceeds the cap of {cap} bytes of spill files on disk (configuration setting {setting})"
    )]
    SpillCapExceeded {
        /// The cap in force.
        cap: u64,
        /// The setting that sets it.
        setting: &'static str,
    },
    /// A spill file could not be written or read.
    #[error("Error writing file 'spill file': {0}")]
    SpillIo(String),
    /// A join partition still does not fit in memory after repartitioning (one key
    /// holds too many rows).
    #[error(
        "A partition of the hash join's hashed side exceeds the merge memory budget of {budget} bytes after {depth} repartitionings (configuration setting merge.memory_budget)"
    )]
    JoinPartitionTooLarge {
        /// The budget in force.
        budget: usize,
        /// Times the partition was split.
        depth: usize,
    },
    /// The tables a materialize plan copies hold more rows than the limit.
    #[error(
        "The table copies of a query run on data node {node} exceed {limit} rows (configuration setting limits.materialize_max_rows)"
    )]
    MaterializeRowLimit {
        /// The limit in force.
        limit: u64,
        /// The data node the query would run on.
        node: u32,
    },
    /// A COUNT or SUM overflowed.
    #[error("{what} value is out of range in '{expression}'")]
    OutOfRange {
        /// MySQL type name (BIGINT, DOUBLE).
        what: &'static str,
        /// The aggregate.
        expression: String,
    },
    /// The plan asks for something the merge cannot do correctly.
    #[error("This version of Strata doesn't yet support '{0}'")]
    Unsupported(String),
    /// The caller drove the merger wrongly (node index out of range, push after finish).
    #[error("merge misuse: {0}")]
    Misuse(String),
}

impl MergeError {
    /// The ERR the client receives for this failure.
    pub fn to_mysql_error(&self) -> MysqlError {
        match self {
            MergeError::MemoryBudgetExceeded { .. }
            | MergeError::MaterializeRowLimit { .. }
            | MergeError::SpillCapExceeded { .. }
            | MergeError::JoinPartitionTooLarge { .. } => {
                MysqlError::new(RESULT_TOO_LARGE, self.to_string())
            }
            MergeError::SpillIo(_) => MysqlError::new(SPILL_IO, self.to_string()),
            MergeError::OutOfRange { .. } => MysqlError::new(DATA_OUT_OF_RANGE, self.to_string()),
            MergeError::Unsupported(what) => MysqlError::not_supported(what),
            _ => MysqlError::new(codes::UNKNOWN, self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_errors_are_1114_hy000_and_name_the_setting() {
        let err = MergeError::MemoryBudgetExceeded { budget: 1024 }.to_mysql_error();
        assert_eq!((err.code, err.state), (1114, "HY000"));
        assert_eq!(
            err.message,
            "The result exceeds the compute node's merge memory budget of 1024 bytes (configuration setting merge.memory_budget)"
        );
    }

    #[test]
    fn unsupported_constructs_are_1235() {
        let err = MergeError::Unsupported("ORDER BY an ENUM column across data nodes".into())
            .to_mysql_error();
        assert_eq!((err.code, err.state), (1235, "42000"));
    }

    #[test]
    fn overflow_is_1690() {
        let err = MergeError::OutOfRange {
            what: "BIGINT",
            expression: "COUNT".into(),
        }
        .to_mysql_error();
        assert_eq!((err.code, err.state), (1690, "22003"));
        assert_eq!(err.message, "BIGINT value is out of range in 'COUNT'");
    }
}
