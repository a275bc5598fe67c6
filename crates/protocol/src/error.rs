//! MySQL errors as the client sees them: code, SQLSTATE and message. Every crate's typed
//! error is mapped once into a `MysqlError` at the session boundary.

use bytes::BytesMut;

use crate::packets::ErrPacket;

/// An error to send to a client as an ERR packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ERROR {code} ({state}): {message}")]
pub struct MysqlError {
    /// MySQL error number.
    pub code: u16,
    /// SQLSTATE.
    pub state: &'static str,
    /// Message, worded as MySQL words it.
    pub message: String,
}

/// Error numbers and SQLSTATEs Strata sends, as in MySQL's `mysqld_error.h`.
pub mod codes {
    /// ER_CON_COUNT_ERROR.
    pub const TOO_MANY_CONNECTIONS: (u16, &str) = (1040, "08004");
    /// ER_HANDSHAKE_ERROR.
    pub const HANDSHAKE: (u16, &str) = (1043, "08S01");
    /// ER_DBACCESS_DENIED_ERROR.
    pub const DB_ACCESS_DENIED: (u16, &str) = (1044, "42000");
    /// ER_ACCESS_DENIED_ERROR.
    pub const ACCESS_DENIED: (u16, &str) = (1045, "28000");
    /// ER_NO_DB_ERROR.
    pub const NO_DB: (u16, &str) = (1046, "3D000");
    /// ER_DUP_ENTRY.
    pub const DUP_ENTRY: (u16, &str) = (1062, "23000");
    /// ER_UNKNOWN_COM_ERROR.
    pub const UNKNOWN_COM: (u16, &str) = (1047, "08S01");
    /// ER_BAD_DB_ERROR.
    pub const BAD_DB: (u16, &str) = (1049, "42000");
    /// ER_INVALID_CHARACTER_STRING.
    pub const CANNOT_CONVERT_STRING: (u16, &str) = (1300, "HY000");
    /// ER_DB_CREATE_EXISTS.
    pub const DB_CREATE_EXISTS: (u16, &str) = (1007, "HY000");
    /// ER_DB_DROP_EXISTS.
    pub const DB_DROP_EXISTS: (u16, &str) = (1008, "HY000");
    /// ER_PARSE_ERROR.
    pub const PARSE: (u16, &str) = (1064, "42000");
    /// ER_NONEXISTING_GRANT.
    pub const NONEXISTING_GRANT: (u16, &str) = (1141, "42000");
    /// ER_TOO_MANY_USER_CONNECTIONS.
    pub const USER_LIMIT_REACHED: (u16, &str) = (1226, "42000");
    /// ER_EMPTY_QUERY.
    pub const EMPTY_QUERY: (u16, &str) = (1065, "42000");
    /// ER_NO_SUCH_THREAD.
    pub const NO_SUCH_THREAD: (u16, &str) = (1094, "HY000");
    /// ER_KILL_DENIED_ERROR: KILL of another account's session without CONNECTION ADMIN.
    pub const KILL_DENIED: (u16, &str) = (1095, "HY000");
    /// ER_NO_SUCH_QUERY: `KILL QUERY ID` of a query id no session runs.
    pub const NO_SUCH_QUERY: (u16, &str) = (1957, "HY000");
    /// ER_KILL_QUERY_DENIED_ERROR: `KILL QUERY ID` of another account's query.
    pub const KILL_QUERY_DENIED: (u16, &str) = (1979, "HY000");
    /// ER_UNKNOWN_ERROR.
    pub const UNKNOWN: (u16, &str) = (1105, "HY000");
    /// ER_NET_PACKET_TOO_LARGE.
    pub const PACKET_TOO_LARGE: (u16, &str) = (1153, "08S01");
    /// ER_WRONG_ARGUMENTS (`EXECUTE ... USING` with the wrong number of values).
    pub const WRONG_ARGUMENTS: (u16, &str) = (1210, "HY000");
    /// ER_NET_READ_ERROR (a storage node's connection failed mid-statement).
    pub const NET_READ: (u16, &str) = (1158, "08S01");
    /// ER_UNKNOWN_SYSTEM_VARIABLE.
    pub const UNKNOWN_SYSTEM_VARIABLE: (u16, &str) = (1193, "HY000");
    /// ER_NOT_SUPPORTED_YET.
    pub const NOT_SUPPORTED: (u16, &str) = (1235, "42000");
    /// ER_UNSUPPORTED_PS (a statement that cannot be prepared).
    pub const UNSUPPORTED_PS: (u16, &str) = (1295, "HY000");
    /// ER_SUBQUERIES_NOT_SUPPORTED (MariaDB: a subquery where only a value may stand).
    pub const SUBQUERIES_NOT_SUPPORTED: (u16, &str) = (1970, "42000");
    /// ER_WRONG_VALUE_FOR_VAR.
    pub const WRONG_VALUE_FOR_VAR: (u16, &str) = (1231, "42000");
    /// ER_OPTION_PREVENTS_STATEMENT (`read_only` refuses the statement).
    pub const OPTION_PREVENTS_STATEMENT: (u16, &str) = (1290, "HY000");
    /// ER_UNKNOWN_STMT_HANDLER.
    pub const UNKNOWN_STMT_HANDLER: (u16, &str) = (1243, "HY000");
    /// ER_QUERY_INTERRUPTED.
    pub const QUERY_INTERRUPTED: (u16, &str) = (1317, "70100");
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR.
    pub const SPECIFIC_ACCESS_DENIED: (u16, &str) = (1227, "42000");
    /// ER_CONNECT_TO_FOREIGN_DATA_SOURCE (a storage node cannot be reached).
    pub const STORAGE_UNREACHABLE: (u16, &str) = (1429, "HY000");
    /// ER_NO_SUCH_TABLE.
    pub const NO_SUCH_TABLE: (u16, &str) = (1146, "42S02");
    /// ER_LOCK_OR_ACTIVE_TRANSACTION.
    pub const LOCK_OR_ACTIVE_TRANSACTION: (u16, &str) = (1192, "HY000");
    /// ER_CANT_UPDATE_WITH_READLOCK.
    pub const CANT_UPDATE_WITH_READLOCK: (u16, &str) = (1223, "HY000");
    /// ER_LOCK_WAIT_TIMEOUT.
    pub const LOCK_WAIT_TIMEOUT: (u16, &str) = (1205, "HY000");
    /// ER_LOCK_DEADLOCK.
    pub const LOCK_DEADLOCK: (u16, &str) = (1213, "40001");
    /// ER_SP_DOES_NOT_EXIST (also "SAVEPOINT x does not exist").
    pub const SP_DOES_NOT_EXIST: (u16, &str) = (1305, "42000");
    /// ER_XA_RBDEADLOCK (an XA branch was rolled back by a deadlock).
    pub const XA_RBDEADLOCK: (u16, &str) = (1614, "XA102");
    /// ER_CANT_CHANGE_TX_CHARACTERISTICS.
    pub const TRANSACTION_CHARACTERISTICS_IN_PROGRESS: (u16, &str) = (1568, "25001");
    /// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION.
    pub const CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: (u16, &str) = (1792, "25006");
    /// ER_CONNECTION_KILLED (MariaDB 1927).
    pub const CONNECTION_KILLED: (u16, &str) = (1927, "70100");
}

impl MysqlError {
    /// An error from a (code, SQLSTATE) pair in `codes` and a message.
    pub fn new(code: (u16, &'static str), message: impl Into<String>) -> Self {
        Self {
            code: code.0,
            state: code.1,
            message: message.into(),
        }
    }

    /// ER_ACCESS_DENIED_ERROR worded as MySQL words it.
    pub fn access_denied(user: &str, host: &str, used_password: bool) -> Self {
        Self::new(
            codes::ACCESS_DENIED,
            format!(
                "Access denied for user '{user}'@'{host}' (using password: {})",
                if used_password { "YES" } else { "NO" }
            ),
        )
    }

    /// ER_BAD_DB_ERROR.
    pub fn unknown_database(db: &str) -> Self {
        Self::new(codes::BAD_DB, format!("Unknown database '{db}'"))
    }

    /// ER_NO_DB_ERROR.
    pub fn no_database() -> Self {
        Self::new(codes::NO_DB, "No database selected")
    }

    /// ER_UNKNOWN_COM_ERROR.
    pub fn unknown_command() -> Self {
        Self::new(codes::UNKNOWN_COM, "Unknown command")
    }

    /// ER_NOT_SUPPORTED_YET naming the construct.
    pub fn not_supported(what: &str) -> Self {
        Self::new(
            codes::NOT_SUPPORTED,
            format!("This version of Strata doesn't yet support '{what}'"),
        )
    }

    /// ER_PARSE_ERROR with MariaDB's wording.
    pub fn parse(near: &str, line: usize) -> Self {
        Self::new(
            codes::PARSE,
            format!(
                "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '{near}' at line {line}"
            ),
        )
    }

    /// The ERR packet for this error.
    pub fn to_packet(&self) -> ErrPacket {
        let mut state = [b'H', b'Y', b'0', b'0', b'0'];
        if self.state.len() == 5 {
            state.copy_from_slice(self.state.as_bytes());
        }
        ErrPacket {
            code: self.code,
            state,
            message: self.message.clone(),
        }
    }

    /// Appends the ERR payload.
    pub fn encode(&self, buf: &mut BytesMut) {
        self.to_packet().encode(buf)
    }
}
