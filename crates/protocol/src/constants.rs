//! Numbers of the MySQL client/server protocol: capability and status flags, command
//! bytes, column types and character-set ids, named as in the MySQL sources.

/// Capability flags exchanged in the handshake.
pub mod cap {
    /// Long passwords (always set by modern peers).
    pub const LONG_PASSWORD: u32 = 1;
    /// Found rows instead of affected rows in UPDATE's OK packet.
    pub const FOUND_ROWS: u32 = 1 << 1;
    /// Column definitions carry flags.
    pub const LONG_FLAG: u32 = 1 << 2;
    /// The handshake response may name a database.
    pub const CONNECT_WITH_DB: u32 = 1 << 3;
    /// Do not allow database.table.column.
    pub const NO_SCHEMA: u32 = 1 << 4;
    /// Compression (not offered).
    pub const COMPRESS: u32 = 1 << 5;
    /// ODBC client.
    pub const ODBC: u32 = 1 << 6;
    /// LOAD DATA LOCAL INFILE.
    pub const LOCAL_FILES: u32 = 1 << 7;
    /// Ignore spaces before '('.
    pub const IGNORE_SPACE: u32 = 1 << 8;
    /// The 4.1 protocol.
    pub const PROTOCOL_41: u32 = 1 << 9;
    /// Interactive client (wait_timeout vs interactive_timeout).
    pub const INTERACTIVE: u32 = 1 << 10;
    /// Switch to TLS after the handshake.
    pub const SSL: u32 = 1 << 11;
    /// Ignore SIGPIPE (client-side only).
    pub const IGNORE_SIGPIPE: u32 = 1 << 12;
    /// Status flags in EOF packets, transactions.
    pub const TRANSACTIONS: u32 = 1 << 13;
    /// Old 4.1 flag.
    pub const RESERVED: u32 = 1 << 14;
    /// 4.1 authentication (20-byte scramble).
    pub const SECURE_CONNECTION: u32 = 1 << 15;
    /// Several statements in one COM_QUERY.
    pub const MULTI_STATEMENTS: u32 = 1 << 16;
    /// Several result sets for one COM_QUERY.
    pub const MULTI_RESULTS: u32 = 1 << 17;
    /// Several result sets for COM_STMT_EXECUTE.
    pub const PS_MULTI_RESULTS: u32 = 1 << 18;
    /// Authentication plugins.
    pub const PLUGIN_AUTH: u32 = 1 << 19;
    /// Connection attributes in the handshake response.
    pub const CONNECT_ATTRS: u32 = 1 << 20;
    /// Length-encoded auth response.
    pub const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
    /// Client can handle expired passwords.
    pub const CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 1 << 22;
    /// Session state changes in OK packets.
    pub const SESSION_TRACK: u32 = 1 << 23;
    /// OK packets replace EOF packets.
    pub const DEPRECATE_EOF: u32 = 1 << 24;
    /// What a client of Strata's must speak, whatever else it asks for: protocol 4.1
    /// with long passwords and pluggable, length-encoded authentication.
    pub const CLIENT_REQUIRED: u32 = LONG_PASSWORD
        | PROTOCOL_41
        | SECURE_CONNECTION
        | PLUGIN_AUTH
        | PLUGIN_AUTH_LENENC_CLIENT_DATA;
}

/// Server status flags found in OK and EOF packets.
pub mod status {
    /// A transaction is open.
    pub const IN_TRANS: u16 = 1;
    /// Autocommit is on.
    pub const AUTOCOMMIT: u16 = 2;
    /// More result sets follow.
    pub const MORE_RESULTS_EXISTS: u16 = 8;
    /// The query used no good index.
    pub const NO_GOOD_INDEX_USED: u16 = 16;
    /// The query used no index.
    pub const NO_INDEX_USED: u16 = 32;
    /// A read-only cursor exists for the statement.
    pub const CURSOR_EXISTS: u16 = 64;
    /// The cursor has sent its last row.
    pub const LAST_ROW_SENT: u16 = 128;
    /// A database was dropped.
    pub const DB_DROPPED: u16 = 256;
    /// NO_BACKSLASH_ESCAPES is in sql_mode.
    pub const NO_BACKSLASH_ESCAPES: u16 = 512;
    /// Metadata changed (prepared statements).
    pub const METADATA_CHANGED: u16 = 1024;
    /// The query was slow.
    pub const QUERY_WAS_SLOW: u16 = 2048;
    /// The statement has OUT parameters.
    pub const PS_OUT_PARAMS: u16 = 4096;
    /// The open transaction is read-only.
    pub const IN_TRANS_READONLY: u16 = 8192;
    /// Session state changed (SESSION_TRACK).
    pub const SESSION_STATE_CHANGED: u16 = 16384;
}

/// Command bytes, the first byte of a client request.
pub mod com {
    /// Close the connection.
    pub const QUIT: u8 = 0x01;
    /// Change the current database.
    pub const INIT_DB: u8 = 0x02;
    /// A text-protocol query.
    pub const QUERY: u8 = 0x03;
    /// List a table's columns (deprecated).
    pub const FIELD_LIST: u8 = 0x04;
    /// Server statistics string.
    pub const STATISTICS: u8 = 0x09;
    /// Kill a connection.
    pub const PROCESS_KILL: u8 = 0x0c;
    /// Liveness check.
    pub const PING: u8 = 0x0e;
    /// Re-authenticate as another user.
    pub const CHANGE_USER: u8 = 0x11;
    /// Prepare a statement.
    pub const STMT_PREPARE: u8 = 0x16;
    /// Execute a prepared statement.
    pub const STMT_EXECUTE: u8 = 0x17;
    /// Send a long parameter value in pieces.
    pub const STMT_SEND_LONG_DATA: u8 = 0x18;
    /// Deallocate a prepared statement.
    pub const STMT_CLOSE: u8 = 0x19;
    /// Reset a prepared statement's long data and cursor.
    pub const STMT_RESET: u8 = 0x1a;
    /// Set an option (multi-statements on/off).
    pub const SET_OPTION: u8 = 0x1b;
    /// Fetch rows from an open cursor.
    pub const STMT_FETCH: u8 = 0x1c;
    /// Reset the session state.
    pub const RESET_CONNECTION: u8 = 0x1f;
}

/// Column types in column definitions and binary rows.
pub mod coltype {
    /// DECIMAL (old).
    pub const DECIMAL: u8 = 0x00;
    /// TINYINT.
    pub const TINY: u8 = 0x01;
    /// SMALLINT.
    pub const SHORT: u8 = 0x02;
    /// INT.
    pub const LONG: u8 = 0x03;
    /// FLOAT.
    pub const FLOAT: u8 = 0x04;
    /// DOUBLE.
    pub const DOUBLE: u8 = 0x05;
    /// NULL.
    pub const NULL: u8 = 0x06;
    /// TIMESTAMP.
    pub const TIMESTAMP: u8 = 0x07;
    /// BIGINT.
    pub const LONGLONG: u8 = 0x08;
    /// MEDIUMINT.
    pub const INT24: u8 = 0x09;
    /// DATE.
    pub const DATE: u8 = 0x0a;
    /// TIME.
    pub const TIME: u8 = 0x0b;
    /// DATETIME.
    pub const DATETIME: u8 = 0x0c;
    /// YEAR.
    pub const YEAR: u8 = 0x0d;
    /// VARCHAR.
    pub const VARCHAR: u8 = 0x0f;
    /// BIT.
    pub const BIT: u8 = 0x10;
    /// JSON (MySQL).
    pub const JSON: u8 = 0xf5;
    /// DECIMAL.
    pub const NEWDECIMAL: u8 = 0xf6;
    /// ENUM.
    pub const ENUM: u8 = 0xf7;
    /// SET.
    pub const SET: u8 = 0xf8;
    /// TINYBLOB.
    pub const TINY_BLOB: u8 = 0xf9;
    /// MEDIUMBLOB.
    pub const MEDIUM_BLOB: u8 = 0xfa;
    /// LONGBLOB.
    pub const LONG_BLOB: u8 = 0xfb;
    /// BLOB / TEXT.
    pub const BLOB: u8 = 0xfc;
    /// VARCHAR / VARBINARY.
    pub const VAR_STRING: u8 = 0xfd;
    /// CHAR / BINARY.
    pub const STRING: u8 = 0xfe;
    /// GEOMETRY.
    pub const GEOMETRY: u8 = 0xff;
}

/// Column definition flags.
pub mod colflag {
    /// NOT NULL.
    pub const NOT_NULL: u16 = 1;
    /// Part of the primary key.
    pub const PRI_KEY: u16 = 2;
    /// Part of a unique key.
    pub const UNIQUE_KEY: u16 = 4;
    /// BLOB or TEXT.
    pub const BLOB: u16 = 16;
    /// UNSIGNED.
    pub const UNSIGNED: u16 = 32;
    /// Binary collation.
    pub const BINARY: u16 = 128;
    /// AUTO_INCREMENT.
    pub const AUTO_INCREMENT: u16 = 512;
    /// Numeric column.
    pub const NUM: u16 = 32768;
}

/// Character-set/collation ids used in handshakes and column definitions.
pub mod charset {
    /// utf8mb4_general_ci, the default Strata announces.
    pub const UTF8MB4_GENERAL_CI: u8 = 45;
    /// utf8mb3_general_ci.
    pub const UTF8_GENERAL_CI: u8 = 33;
    /// binary, used for numeric columns.
    pub const BINARY: u8 = 63;
    /// latin1_swedish_ci.
    pub const LATIN1_SWEDISH_CI: u8 = 8;
}

/// Largest payload one frame carries; a payload of this size is continued in the next frame.
pub const MAX_FRAME_PAYLOAD: usize = 0xff_ffff;

/// Capabilities Strata offers to clients (SSL is added when TLS is configured).
pub const SERVER_CAPABILITIES: u32 = cap::LONG_PASSWORD
    | cap::FOUND_ROWS
    | cap::LONG_FLAG
    | cap::CONNECT_WITH_DB
    | cap::NO_SCHEMA
    | cap::ODBC
    | cap::IGNORE_SPACE
    | cap::PROTOCOL_41
    | cap::INTERACTIVE
    | cap::IGNORE_SIGPIPE
    | cap::TRANSACTIONS
    | cap::RESERVED
    | cap::SECURE_CONNECTION
    | cap::MULTI_STATEMENTS
    | cap::MULTI_RESULTS
    | cap::PS_MULTI_RESULTS
    | cap::PLUGIN_AUTH
    | cap::CONNECT_ATTRS
    | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA
    | cap::CAN_HANDLE_EXPIRED_PASSWORDS
    | cap::SESSION_TRACK
    | cap::DEPRECATE_EOF;
