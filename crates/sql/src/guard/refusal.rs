//! Why the guard refuses a statement, and the MySQL error each reason is.

use crate::error::SqlError;

/// Why a statement may not reach a storage node; mapped to a MySQL error by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Acts on a storage server as a whole (replication, plugins, logs, shutdown, ...):
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR (1227). The text names the statement.
    ServerCommand(String),
    /// Reads or writes a file of a storage host: ER_OPTION_PREVENTS_STATEMENT (1290).
    FileAccess(String),
    /// Names a schema internal to the storage servers (`mysql`, `sys`, ...) or a physical
    /// database: ER_DBACCESS_DENIED_ERROR (1044) for that schema.
    StorageSchema(String),
    /// Account management through the storage node's own account tables (1227 until the
    /// compute node answers the statement itself).
    AccountStatement(String),
    /// Valid MySQL that Strata does not run: ER_NOT_SUPPORTED_YET (1235).
    Unsupported(String),
    /// A feature MariaDB's release builds disable, answered as they answer it:
    /// ER_FEATURE_DISABLED (1289) with the feature and the build option it needs.
    FeatureDisabled {
        /// The feature as MariaDB names it (`SHOW PROCEDURE|FUNCTION CODE`).
        feature: String,
        /// The build option that enables it (`--with-debug`).
        option: String,
    },
    /// A subquery in a table's CHECK constraint: MariaDB's own
    /// ER_SUBQUERIES_NOT_SUPPORTED (1970), given before the names in it are looked at
    /// (as MariaDB's parser does).
    SubqueryInCheck,
    /// `ALTER DATABASE name UPGRADE DATA DIRECTORY NAME`, which renames a MySQL 5.0
    /// database directory (`#mysql50#name`): no Strata database has one, so MariaDB's
    /// answer for a name without such a directory (1221, 1102 or 1049).
    UpgradeDirectoryName(String),
    /// Only comments or nothing: ER_EMPTY_QUERY (1065).
    Empty,
    /// A statement no MySQL/MariaDB grammar starts this way: ER_PARSE_ERROR (1064).
    Syntax(SqlError),
}

impl Refusal {
    /// MySQL error number.
    pub fn code(&self) -> u16 {
        match self {
            Refusal::ServerCommand(_) | Refusal::AccountStatement(_) => 1227,
            Refusal::FileAccess(_) => 1290,
            Refusal::StorageSchema(_) => 1044,
            Refusal::Unsupported(_) => 1235,
            Refusal::FeatureDisabled { .. } => 1289,
            Refusal::UpgradeDirectoryName(name) => match name.strip_prefix("#mysql50#") {
                None => 1221,
                Some("") => 1102,
                Some(_) => 1049,
            },
            Refusal::Empty => 1065,
            Refusal::SubqueryInCheck => 1970,
            Refusal::Syntax(e) => e.code(),
        }
    }

    /// SQLSTATE of the error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Refusal::FileAccess(_) | Refusal::FeatureDisabled { .. } => "HY000",
            Refusal::UpgradeDirectoryName(name) if !name.starts_with("#mysql50#") => "HY000",
            _ => "42000",
        }
    }

    /// The error message; `account` is the client's `'user'@'host'` as MySQL prints it.
    pub fn message(&self, account: &str) -> String {
        match self {
            Refusal::ServerCommand(what) => format!(
                "Access denied; {what} acts on a storage server, which Strata keeps private (operate storage nodes from the admin port or on the storage servers themselves)"
            ),
            Refusal::FileAccess(what) => format!(
                "The Strata compute node keeps storage hosts' files private, so it cannot execute {what} (read and load rows through a client instead)"
            ),
            Refusal::StorageSchema(schema) => {
                format!("Access denied for user {account} to database '{schema}'")
            }
            Refusal::AccountStatement(what) => format!(
                "Access denied; {what} would change a storage server's accounts: accounts and privileges are Strata's own"
            ),
            Refusal::Unsupported(what) => {
                format!("This version of Strata doesn't yet support '{what}'")
            }
            Refusal::FeatureDisabled { feature, option } => format!(
                "The '{feature}' feature is disabled; you need MariaDB built with '{option}' to have it working"
            ),
            Refusal::UpgradeDirectoryName(name) => match name.strip_prefix("#mysql50#") {
                None => "Incorrect usage of ALTER DATABASE UPGRADE DATA DIRECTORY NAME and name"
                    .to_string(),
                Some("") => format!("Incorrect database name '{name}'"),
                Some(_) => format!("Unknown database '{name}'"),
            },
            Refusal::Empty => "Query was empty".to_string(),
            Refusal::SubqueryInCheck => {
                "CHECK does not support subqueries or stored functions".to_string()
            }
            Refusal::Syntax(e) => e.to_string(),
        }
    }
}
