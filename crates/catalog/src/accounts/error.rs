//! Account-statement failures with the MySQL error each one is sent as, and the notes
//! IF [NOT] EXISTS statements leave instead.

use crate::error::CatalogError;

/// Account-statement failures and the MySQL error each one is sent as.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// ER_CANNOT_USER (1396).
    #[error("Operation {op} failed for {}", quote_account(.user, .host))]
    OperationFailed {
        /// CREATE USER, DROP USER, RENAME USER or ALTER USER.
        op: &'static str,
        /// User part.
        user: String,
        /// Host part.
        host: String,
    },
    /// ER_CANNOT_USER (1396) naming every account of a statement that could not be
    /// changed (MariaDB changes the others).
    #[error("Operation {} failed for {}", .0.op, .0.names())]
    AccountsFailed(FailedAccounts),
    /// ER_PASSWORD_NO_MATCH (1133): GRANT or SET PASSWORD for a missing account.
    #[error("Can't find any matching row in the user table")]
    NoMatchingRow,
    /// ER_CANT_CREATE_USER_WITH_GRANT (1410): a GRANT that would create an account by
    /// a grantor without CREATE USER.
    #[error("You are not allowed to create a user with GRANT")]
    CantCreateUserWithGrant,
    /// ER_NONEXISTING_GRANT (1141).
    #[error("There is no such grant defined for user '{user}' on host '{host}'")]
    NoSuchGrant {
        /// User part.
        user: String,
        /// Host part.
        host: String,
    },
    /// ER_NONEXISTING_TABLE_GRANT (1147).
    #[error(
        "There is no such grant defined for user '{user}' on host '{host}' on table '{table}'"
    )]
    NoSuchTableGrant {
        /// User part.
        user: String,
        /// Host part.
        host: String,
        /// The table.
        table: String,
    },
    /// ER_PASSWD_LENGTH (1372): not a `*` + 40 hex digits hash.
    #[error("Password hash should be a 41-digit hexadecimal number")]
    NativeHashFormat,
    /// ER_PASSWORD_FORMAT (1827): not a caching_sha2 verifier.
    #[error("The password hash doesn't have the expected format.")]
    Sha2HashFormat,
    /// ER_PLUGIN_IS_NOT_LOADED (1524).
    #[error("Plugin '{0}' is not loaded")]
    UnknownPlugin(String),
    /// ER_WRONG_USAGE (1221): a global-only privilege at the database level.
    #[error("Incorrect usage of DB GRANT and GLOBAL PRIVILEGES")]
    GlobalPrivilegeOnDatabase,
    /// ER_WRONG_USAGE (1221).
    #[error("Incorrect usage of OR REPLACE and IF NOT EXISTS")]
    OrReplaceAndIfNotExists,
    /// ER_ILLEGAL_GRANT_FOR_TABLE (1144): a privilege that does not exist for tables.
    #[error("Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used")]
    IllegalTableGrant,
    /// ER_NO_DB_ERROR (1046).
    #[error("No database selected")]
    NoDatabaseSelected,
    /// ER_NOT_SUPPORTED_YET (1235).
    #[error("This version of MySQL doesn't yet support '{0}'")]
    Unsupported(&'static str),
    /// ER_ACCESS_DENIED_ERROR (1045): a global GRANT without the privileges to give.
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *.using_password { "YES" } else { "NO" })]
    AccessDenied {
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
        /// Whether the grantor's account has a password.
        using_password: bool,
    },
    /// ER_DBACCESS_DENIED_ERROR (1044).
    #[error("Access denied for user '{user}'@'{host}' to database '{db}'")]
    DatabaseAccessDenied {
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
        /// The database.
        db: String,
    },
    /// ER_TABLEACCESS_DENIED_ERROR (1142).
    #[error("{command} command denied to user '{user}'@'{host}' for table `{db}`.`{table}`")]
    TableAccessDenied {
        /// The missing privileges, as MariaDB lists them (`INSERT, DELETE`).
        command: String,
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
        /// The database.
        db: String,
        /// The table.
        table: String,
    },
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR (1227).
    #[error("Access denied; you need (at least one of) the {0} privilege(s) for this operation")]
    NeedPrivilege(&'static str),
    /// ER_CANNOT_USER (1396) for a role: CREATE ROLE or DROP ROLE.
    #[error("Operation {op} failed for '{role}'")]
    RoleOperationFailed {
        /// CREATE ROLE or DROP ROLE.
        op: &'static str,
        /// The role.
        role: String,
    },
    /// ER_INVALID_ROLE (1959): a role name that is not a role (or not one the account
    /// may use).
    #[error("Invalid role specification `{0}`")]
    InvalidRole(String),
    /// ER_INVALID_ROLE (1959) from SET DEFAULT ROLE: the role is not granted to the user.
    #[error("User {grantee} has not been granted role `{role}`")]
    RoleNotGranted {
        /// The account, quoted with backticks.
        grantee: String,
        /// The role.
        role: String,
    },
    /// ER_CANNOT_GRANT_ROLE (1961): the grant would make a role contain itself.
    #[error("Cannot grant role '{role}' to: {grantee}")]
    CannotGrantRole {
        /// The role.
        role: String,
        /// The grantee, quoted as MariaDB does.
        grantee: String,
    },
    /// ER_CANNOT_REVOKE_ROLE (1962): the role is not granted to the grantee.
    #[error("Cannot revoke role '{role}' from: {grantee}")]
    CannotRevokeRole {
        /// The role.
        role: String,
        /// The grantee, quoted as MariaDB does.
        grantee: String,
    },
    /// ER_ACCESS_DENIED_NO_PASSWORD_ERROR (1698): granting or revoking a role without
    /// its ADMIN OPTION.
    #[error("Access denied for user '{user}'@'{host}'")]
    AccessDeniedNoPassword {
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
    },
    /// ER_MALFORMED_DEFINER (1446): CREATE ROLE ... WITH ADMIN CURRENT_ROLE with no
    /// role enabled.
    #[error("Invalid definer")]
    InvalidDefiner,
    /// The metadata store failed.
    #[error(transparent)]
    Store(#[from] CatalogError),
}

/// The accounts a CREATE/ALTER/DROP/RENAME USER of several accounts could not change,
/// in the statement's order (the others were changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAccounts {
    /// CREATE USER, DROP USER, RENAME USER or ALTER USER.
    pub op: &'static str,
    /// (user, host) of each account that failed.
    pub accounts: Vec<(String, String)>,
}

impl FailedAccounts {
    /// The accounts as MariaDB lists them: `'u1'@'%','u2'@'%'`.
    fn names(&self) -> String {
        self.accounts
            .iter()
            .map(|(user, host)| quote_account(user, host))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl AccountError {
    /// MySQL error number.
    pub fn code(&self) -> u16 {
        match self {
            AccountError::OperationFailed { .. } | AccountError::AccountsFailed(_) => 1396,
            AccountError::NoMatchingRow => 1133,
            AccountError::CantCreateUserWithGrant => 1410,
            AccountError::NoSuchGrant { .. } => 1141,
            AccountError::NoSuchTableGrant { .. } => 1147,
            AccountError::NativeHashFormat => 1372,
            AccountError::Sha2HashFormat => 1827,
            AccountError::UnknownPlugin(_) => 1524,
            AccountError::GlobalPrivilegeOnDatabase | AccountError::OrReplaceAndIfNotExists => 1221,
            AccountError::IllegalTableGrant => 1144,
            AccountError::NoDatabaseSelected => 1046,
            AccountError::Unsupported(_) => 1235,
            AccountError::AccessDenied { .. } => 1045,
            AccountError::DatabaseAccessDenied { .. } => 1044,
            AccountError::TableAccessDenied { .. } => 1142,
            AccountError::NeedPrivilege(_) => 1227,
            AccountError::RoleOperationFailed { .. } => 1396,
            AccountError::InvalidRole(_) | AccountError::RoleNotGranted { .. } => 1959,
            AccountError::CannotGrantRole { .. } => 1961,
            AccountError::CannotRevokeRole { .. } => 1962,
            AccountError::AccessDeniedNoPassword { .. } => 1698,
            AccountError::InvalidDefiner => 1446,
            AccountError::Store(_) => 1105,
        }
    }

    /// SQLSTATE of the error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            AccountError::NoMatchingRow
            | AccountError::AccessDenied { .. }
            | AccountError::AccessDeniedNoPassword { .. } => "28000",
            AccountError::NoDatabaseSelected => "3D000",
            AccountError::InvalidDefiner => "0L000",
            AccountError::InvalidRole(_) | AccountError::RoleNotGranted { .. } => "OP000",
            AccountError::NoSuchGrant { .. }
            | AccountError::CantCreateUserWithGrant
            | AccountError::NoSuchTableGrant { .. }
            | AccountError::IllegalTableGrant
            | AccountError::Unsupported(_)
            | AccountError::DatabaseAccessDenied { .. }
            | AccountError::TableAccessDenied { .. }
            | AccountError::NeedPrivilege(_) => "42000",
            _ => "HY000",
        }
    }
}

/// A note (SHOW WARNINGS level Note) an IF [NOT] EXISTS statement leaves instead of an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// MySQL code.
    pub code: u16,
    /// Message.
    pub message: String,
}

pub(super) fn quote_account(user: &str, host: &str) -> String {
    format!("'{user}'@'{host}'")
}
