//! One connection from the compute node to a storage node, on Strata's own codec, over
//! TCP or, when the storage node's settings ask for it, TLS (see `connect`).
//!
//! It remembers which session state (database, session variables) has been applied to
//! it, so a pooled connection lent to another session is brought in line with one
//! round trip only when the state differs, and which statements are prepared on it, so
//! a client's prepared statement can run on whichever pooled connection is free.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use strata_protocol::constants::{cap, charset, com, status};
use strata_protocol::handshake::{client_connect_over, ClientLogin};
use strata_protocol::packets::{
    decode_text_row, is_eof, ColumnDef, ErrPacket, OkPacket, ERR_HEADER, OK_HEADER,
};
use strata_protocol::stream::ClientStream;
use strata_protocol::wire::Reader;
use strata_protocol::{ClientTls, PacketConn, ProtocolError};

use crate::relay::{
    relay_fetch, relay_response, RelayError, RelayMode, RelayOutcome, ResponseKind,
};
use crate::BackendError;
use strata_catalog::DataNodeId;

mod grammar;
mod local_infile;
mod session_vars;

pub use session_vars::SessionVars;

/// Capabilities Strata asks of storage nodes: classic EOF packets (the relay converts),
/// multi-statements and multi-results, no compression. LOCAL INFILE lets a storage node
/// ask for the rows of a `LOAD DATA LOCAL` that Strata sends it (no file is ever read).
/// CLIENT_FOUND_ROWS is added per connection (see [`RowCounting`]).
pub const BACKEND_CAPABILITIES: u32 = cap::LONG_PASSWORD
    | cap::LOCAL_FILES
    | cap::LONG_FLAG
    | cap::CONNECT_WITH_DB
    | cap::PROTOCOL_41
    | cap::TRANSACTIONS
    | cap::SECURE_CONNECTION
    | cap::MULTI_STATEMENTS
    | cap::MULTI_RESULTS
    | cap::PS_MULTI_RESULTS
    | cap::PLUGIN_AUTH
    | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA;

/// What the affected rows of an UPDATE (and of INSERT ... ON DUPLICATE KEY UPDATE)
/// count on a connection: fixed at login by CLIENT_FOUND_ROWS, so a client session
/// borrows connections of the kind its own login asked for and the storage node's
/// counts are the client's counts, relayed or summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RowCounting {
    /// Rows matched (CLIENT_FOUND_ROWS): most drivers' default.
    #[default]
    Found,
    /// Rows changed (no CLIENT_FOUND_ROWS): the mariadb CLI, `useAffectedRows`...
    Changed,
}

impl RowCounting {
    /// The kind a client's capability flags ask for.
    pub fn of_client(capabilities: u32) -> RowCounting {
        if capabilities & cap::FOUND_ROWS != 0 {
            RowCounting::Found
        } else {
            RowCounting::Changed
        }
    }

    fn capabilities(self) -> u32 {
        match self {
            RowCounting::Found => BACKEND_CAPABILITIES | cap::FOUND_ROWS,
            RowCounting::Changed => BACKEND_CAPABILITIES,
        }
    }
}

/// Largest packet accepted from a storage node on control paths.
const BACKEND_MAX_PACKET: usize = 1 << 30;

/// Where and as whom to connect to one storage node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageTarget {
    /// Data node this storage node serves.
    pub dnid: DataNodeId,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Account name.
    pub user: String,
    /// Account password.
    pub password: String,
    /// Physical database of the data node.
    pub database: String,
}

/// A statement prepared on one storage-node connection.
#[derive(Debug, Clone)]
pub struct PreparedOnBackend {
    /// The storage node's statement id.
    pub id: u32,
    /// Parameter definitions.
    pub params: Vec<ColumnDef>,
    /// Result column definitions.
    pub columns: Vec<ColumnDef>,
    /// Warnings the prepare raised.
    pub warnings: u16,
}

/// How a storage node's response to a query begins.
#[derive(Debug, Clone)]
pub enum ResponseHead {
    /// The statement returned no rows.
    Ok(OkPacket),
    /// A result set with these columns; rows follow.
    Rows(Vec<ColumnDef>),
}

/// Rows of a small control-path result, as text.
pub type TextRows = Vec<Vec<Option<String>>>;

/// A connection to one storage node.
pub struct BackendConn {
    conn: PacketConn<ClientStream>,
    target: Arc<StorageTarget>,
    thread_id: u32,
    /// The version string of the storage node's greeting.
    server_version: Arc<str>,
    applied_db: Option<String>,
    applied_vars: SessionVars,
    prepared: HashMap<Arc<str>, PreparedOnBackend>,
    status: u16,
    broken: bool,
    /// Commands sent whose reply has not been read to its last packet. A connection
    /// with one due cannot be lent again (its next borrower would read that reply):
    /// it happens when a statement is abandoned halfway (cancelled, or an error path
    /// that stops reading).
    replies_due: u32,
    /// The warning count of the last result set's EOF (0 until one ends a reply).
    eof_warnings: u16,
    last_used: Instant,
}

impl BackendConn {
    /// Opens and authenticates a connection counting found rows, with no database
    /// selected. With `tls` the login and everything after it run over TLS, and a
    /// storage node that does not offer TLS or whose certificate does not verify is
    /// refused (never clear text).
    pub async fn connect(
        target: Arc<StorageTarget>,
        tls: Option<&ClientTls>,
        timeout: Duration,
    ) -> Result<Self, BackendError> {
        Self::connect_counting(target, tls, timeout, RowCounting::Found).await
    }

    /// Like [`Self::connect`], its affected rows counted as `counting` says.
    pub async fn connect_counting(
        target: Arc<StorageTarget>,
        tls: Option<&ClientTls>,
        timeout: Duration,
        counting: RowCounting,
    ) -> Result<Self, BackendError> {
        let addr = format!("{}:{}", target.host, target.port);
        let open = async {
            let stream = TcpStream::connect(&addr)
                .await
                .map_err(|e| BackendError::Connect(addr.clone(), e))?;
            // Nagle only adds latency; a socket that refuses TCP_NODELAY still works.
            let _ = stream.set_nodelay(true);
            let login = ClientLogin {
                user: &target.user,
                password: &target.password,
                database: None,
                capabilities: counting.capabilities(),
                charset: charset::UTF8MB4_GENERAL_CI,
            };
            client_connect_over(stream, BACKEND_MAX_PACKET, &login, tls)
                .await
                .map_err(|e| BackendError::Handshake(addr.clone(), e.to_string()))
        };
        let (conn, info) = tokio::time::timeout(timeout, open).await.map_err(|_| {
            BackendError::ConnectTimeout(format!("{}:{}", target.host, target.port))
        })??;
        Ok(Self {
            conn,
            thread_id: info.connection_id,
            server_version: Arc::from(info.version.as_str()),
            applied_db: None,
            applied_vars: SessionVars::default(),
            target,
            prepared: HashMap::new(),
            status: info.status,
            broken: false,
            replies_due: 0,
            eof_warnings: 0,
            last_used: Instant::now(),
        })
    }

    /// The storage node this connection goes to.
    pub fn target(&self) -> &Arc<StorageTarget> {
        &self.target
    }

    /// The version the storage node announced in its greeting (MariaDB 10:
    /// `5.5.5-10.11.x-MariaDB...`).
    pub fn server_version(&self) -> &Arc<str> {
        &self.server_version
    }

    /// True when the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.conn.stream().is_tls()
    }

    /// The storage node's thread id for this connection (for KILL QUERY).
    pub fn thread_id(&self) -> u32 {
        self.thread_id
    }

    /// True when the connection failed and must not be reused.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// True while a command sent here has not had its whole reply read.
    pub fn awaits_reply(&self) -> bool {
        self.replies_due > 0
    }

    /// Counts the end of a reply when `status` (of its OK or EOF) announces no further
    /// result; an ERR packet always ends one (`status` 0).
    fn reply_ended(&mut self, status: u16) {
        if status & status::MORE_RESULTS_EXISTS == 0 {
            self.replies_due = self.replies_due.saturating_sub(1);
        }
    }

    /// A storage node's OK packet, which ends its reply with the server status.
    fn ok_packet(&mut self, payload: &[u8]) -> Result<OkPacket, BackendError> {
        let ok = OkPacket::decode(payload).map_err(BackendError::Protocol)?;
        self.status = ok.status;
        self.reply_ended(ok.status);
        Ok(ok)
    }

    /// The server status of the EOF packet that ends a result set.
    fn eof_packet(&mut self, eof: &[u8]) -> u16 {
        let flags = u16::from_le_bytes([
            eof.get(3).copied().unwrap_or(0),
            eof.get(4).copied().unwrap_or(0),
        ]);
        self.status = flags;
        self.eof_warnings = u16::from_le_bytes([
            eof.get(1).copied().unwrap_or(0),
            eof.get(2).copied().unwrap_or(0),
        ]);
        self.reply_ended(flags);
        flags
    }

    /// A storage node's ERR packet, which ends its reply.
    fn server_error(&mut self, payload: &[u8]) -> BackendError {
        self.reply_ended(0);
        self.error_ended();
        match ErrPacket::decode(payload) {
            Ok(err) => BackendError::Server(err),
            Err(e) => {
                self.broken = true;
                BackendError::Protocol(e)
            }
        }
    }

    /// A reply ended with an ERR, which carries no server status. With autocommit off
    /// the failed statement may have opened a transaction (MariaDB starts one at the
    /// first table a statement opens, and a failed statement leaves it open, with its
    /// locks): the connection counts as in one until a status says otherwise, so that it
    /// is rolled back, never pooled with them.
    fn error_ended(&mut self) {
        if self.status & status::AUTOCOMMIT == 0 {
            self.status |= status::IN_TRANS;
        }
    }

    /// True when the storage node reported an open transaction (or may have one).
    pub fn in_transaction(&self) -> bool {
        self.status & status::IN_TRANS != 0
    }

    /// Status flags of the last response.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The warnings the last result set read to its end reported (its EOF's count);
    /// 0 once another command is sent.
    pub fn eof_warnings(&self) -> u16 {
        self.eof_warnings
    }

    /// When the connection was last used.
    pub fn last_used(&self) -> Instant {
        self.last_used
    }

    /// The physical database currently selected.
    pub fn applied_db(&self) -> Option<&str> {
        self.applied_db.as_deref()
    }

    /// Records that the storage node left this connection without a current database
    /// (MariaDB does so on the connection that drops its current database).
    pub fn forget_database(&mut self) {
        self.applied_db = None;
    }

    /// True when a session's `wait_timeout` is in force here (see
    /// `SessionVars::limits_idle_time`).
    pub fn idle_time_limited(&self) -> bool {
        self.applied_vars.limits_idle_time()
    }

    /// Gives the storage node's own `wait_timeout` back to a connection a session had
    /// set one on, before it waits in a pool.
    pub async fn restore_idle_limits(&mut self) -> Result<(), BackendError> {
        let vars = self.applied_vars.without_idle_limits();
        let db = self.applied_db.clone();
        self.sync_state(db.as_deref(), &vars).await
    }

    fn fail<T>(&mut self, e: ProtocolError) -> Result<T, BackendError> {
        self.broken = true;
        Err(BackendError::Protocol(e))
    }

    /// Buffers a command packet (sequence 0) without sending it.
    pub fn queue_command(&mut self, command: u8, body: &[u8]) {
        if !matches!(
            command,
            com::STMT_CLOSE | com::STMT_SEND_LONG_DATA | com::QUIT
        ) {
            self.replies_due += 1;
        }
        self.eof_warnings = 0;
        self.conn.set_seq(0);
        self.conn.write_with(|buf| {
            buf.put_u8(command);
            buf.extend_from_slice(body);
        });
        self.last_used = Instant::now();
    }

    /// Sends everything buffered.
    pub async fn flush(&mut self) -> Result<(), BackendError> {
        if let Err(e) = self.conn.flush().await {
            return self.fail(e);
        }
        Ok(())
    }

    /// Sends what is buffered before a relay reads the reply; a failure breaks the
    /// connection.
    async fn flush_for_relay(&mut self) -> Result<(), RelayError> {
        if let Err(e) = self.conn.flush().await {
            self.broken = true;
            return Err(RelayError::Backend(e));
        }
        Ok(())
    }

    /// Sends a command and relays its response into the client's write buffer.
    pub async fn relay<C>(
        &mut self,
        client: &mut PacketConn<C>,
        kind: ResponseKind,
        mode: RelayMode<'_>,
    ) -> Result<RelayOutcome, RelayError>
    where
        C: AsyncRead + AsyncWrite + Unpin,
    {
        self.flush_for_relay().await?;
        let result = relay_response(&mut self.conn, client, kind, mode).await;
        self.after_relay(result)
    }

    /// Relays the rows of an open cursor after COM_STMT_FETCH was queued.
    pub async fn relay_fetch<C>(
        &mut self,
        client: &mut PacketConn<C>,
        mode: RelayMode<'_>,
    ) -> Result<RelayOutcome, RelayError>
    where
        C: AsyncRead + AsyncWrite + Unpin,
    {
        self.flush_for_relay().await?;
        let result = relay_fetch(&mut self.conn, client, mode).await;
        self.after_relay(result)
    }

    fn after_relay(
        &mut self,
        result: Result<RelayOutcome, RelayError>,
    ) -> Result<RelayOutcome, RelayError> {
        match &result {
            Ok(out) => {
                // The relay reads a reply to its end (every result of it).
                self.replies_due = self.replies_due.saturating_sub(1);
                if out.error.is_none() || out.status != 0 {
                    self.status = out.status;
                } else {
                    self.error_ended();
                }
            }
            Err(RelayError::Backend(_)) => self.broken = true,
            Err(RelayError::Client(_)) => {
                // The response may be half-read; the connection cannot be trusted.
                self.broken = true;
            }
        }
        self.last_used = Instant::now();
        result
    }

    /// Runs a statement on a control path and collects its (small) result as text.
    pub async fn query(&mut self, sql: &str) -> Result<TextRows, BackendError> {
        self.queue_command(com::QUERY, sql.as_bytes());
        self.flush().await?;
        let mut rows = Vec::new();
        loop {
            let more = self.read_result(&mut rows).await?;
            if !more {
                return Ok(rows);
            }
        }
    }

    /// Runs a statement that returns one result set and collects it with its column
    /// definitions (for results the compute node must rewrite before the client sees
    /// them). Further result sets are drained and dropped.
    pub async fn query_result(
        &mut self,
        sql: &str,
    ) -> Result<(Vec<ColumnDef>, TextRows), BackendError> {
        self.queue_command(com::QUERY, sql.as_bytes());
        self.flush().await?;
        let first = self.packet().await?;
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        let mut more = match first.first().copied() {
            Some(OK_HEADER) => {
                let ok = self.ok_packet(&first)?;
                ok.status & status::MORE_RESULTS_EXISTS != 0
            }
            Some(ERR_HEADER) => return Err(self.server_error(&first)),
            _ => {
                self.read_result_with_columns(&first, &mut rows, Some(&mut columns))
                    .await?
            }
        };
        let mut sink = Vec::new();
        while more {
            more = self.read_result(&mut sink).await?;
        }
        Ok((columns, rows))
    }

    /// Reads the start of the response to a queued and flushed query: an OK packet,
    /// or the column definitions of a result set whose rows follow (`next_row`).
    /// A storage node's error is `BackendError::Server`.
    pub async fn read_response_head(&mut self) -> Result<ResponseHead, BackendError> {
        let first = self.packet().await?;
        match first.first().copied() {
            Some(OK_HEADER) => {
                let ok = self.ok_packet(&first)?;
                Ok(ResponseHead::Ok(ok))
            }
            Some(ERR_HEADER) => Err(self.server_error(&first)),
            _ => {
                let n = Reader::new(&first)
                    .lenenc("column count")
                    .map_err(BackendError::Protocol)? as usize;
                let columns = self.column_defs(n, "missing EOF after columns").await?;
                Ok(ResponseHead::Rows(columns))
            }
        }
    }

    /// The next row payload of a result set, or None after its closing EOF (which must
    /// not announce more result sets: multi-result replies are not merged).
    pub async fn next_row(&mut self) -> Result<Option<Bytes>, BackendError> {
        let row = self.packet().await?;
        if is_eof(&row) {
            let flags = self.eof_packet(&row);
            if flags & status::MORE_RESULTS_EXISTS != 0 {
                return self.fail(ProtocolError::Malformed(
                    "several result sets where one was expected",
                ));
            }
            return Ok(None);
        }
        if row.first() == Some(&ERR_HEADER) {
            return Err(self.server_error(&row));
        }
        Ok(Some(row))
    }

    /// Runs a statement expected to return OK; returns the OK packet.
    pub async fn execute(&mut self, sql: &str) -> Result<OkPacket, BackendError> {
        self.queue_command(com::QUERY, sql.as_bytes());
        self.flush().await?;
        self.read_ok().await
    }

    async fn packet(&mut self) -> Result<Bytes, BackendError> {
        match self.conn.read_packet().await {
            Ok(p) => Ok(p.payload),
            Err(e) => self.fail(e),
        }
    }

    /// Reads an OK (or ERR) response.
    pub async fn read_ok(&mut self) -> Result<OkPacket, BackendError> {
        let payload = self.packet().await?;
        match payload.first().copied() {
            Some(OK_HEADER) => {
                let ok = self.ok_packet(&payload)?;
                Ok(ok)
            }
            Some(ERR_HEADER) => Err(self.server_error(&payload)),
            _ => {
                // A result set where an OK was expected: drain it so the connection stays usable.
                let mut sink = Vec::new();
                self.read_result_after_count(&payload, &mut sink).await?;
                Ok(OkPacket {
                    status: self.status,
                    ..OkPacket::default()
                })
            }
        }
    }

    async fn read_result(&mut self, rows: &mut TextRows) -> Result<bool, BackendError> {
        let first = self.packet().await?;
        match first.first().copied() {
            Some(OK_HEADER) => {
                let ok = self.ok_packet(&first)?;
                Ok(ok.status & status::MORE_RESULTS_EXISTS != 0)
            }
            Some(ERR_HEADER) => Err(self.server_error(&first)),
            _ => self.read_result_after_count(&first, rows).await,
        }
    }

    async fn read_result_after_count(
        &mut self,
        count: &[u8],
        rows: &mut TextRows,
    ) -> Result<bool, BackendError> {
        self.read_result_with_columns(count, rows, None).await
    }

    async fn read_result_with_columns(
        &mut self,
        count: &[u8],
        rows: &mut TextRows,
        mut columns: Option<&mut Vec<ColumnDef>>,
    ) -> Result<bool, BackendError> {
        let n = Reader::new(count)
            .lenenc("column count")
            .map_err(BackendError::Protocol)? as usize;
        for _ in 0..n {
            let def = self.packet().await?;
            if let Some(columns) = columns.as_mut() {
                columns.push(ColumnDef::decode(&def).map_err(BackendError::Protocol)?);
            }
        }
        let eof = self.packet().await?;
        if !is_eof(&eof) {
            return self.fail(ProtocolError::Malformed("missing EOF after columns"));
        }
        loop {
            let row = self.packet().await?;
            if is_eof(&row) {
                let flags = self.eof_packet(&row);
                return Ok(flags & status::MORE_RESULTS_EXISTS != 0);
            }
            if row.first() == Some(&ERR_HEADER) {
                return Err(self.server_error(&row));
            }
            let values = decode_text_row(&row, n).map_err(BackendError::Protocol)?;
            rows.push(
                values
                    .into_iter()
                    .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
                    .collect(),
            );
        }
    }

    /// Brings the connection's database and session variables in line with the session's.
    pub async fn sync_state(
        &mut self,
        db: Option<&str>,
        vars: &SessionVars,
    ) -> Result<(), BackendError> {
        if db.is_none() && self.applied_db.is_some() {
            // A database cannot be deselected; the pool never lends such a
            // connection to a session without a database (see Pool::acquire).
            return Err(BackendError::StateMismatch(
                "connection has a database selected",
            ));
        }
        self.sync_database(db).await?;
        if vars.fingerprint() != self.applied_vars.fingerprint() {
            if let Some(sql) = vars.diff_from(&self.applied_vars) {
                self.execute(&sql).await?;
            }
            self.applied_vars = vars.clone();
        }
        Ok(())
    }

    /// Selects `db` here unless it already is; None leaves the current one (see
    /// [`Self::deselect_database`]).
    pub async fn sync_database(&mut self, db: Option<&str>) -> Result<(), BackendError> {
        let Some(db) = db else {
            return Ok(());
        };
        if Some(db) != self.applied_db.as_deref() {
            self.queue_command(com::INIT_DB, db.as_bytes());
            self.flush().await?;
            self.read_ok().await?;
            self.applied_db = Some(db.to_string());
        }
        Ok(())
    }

    /// Leaves no database selected, as a connection that drops its database does:
    /// `scratch` (a name no one else uses) is created, selected and dropped here.
    pub async fn deselect_database(&mut self, scratch: &str) -> Result<(), BackendError> {
        if self.applied_db.is_some() {
            let quoted = format!("`{}`", scratch.replace('`', "``"));
            self.execute(&format!("CREATE DATABASE IF NOT EXISTS {quoted}"))
                .await?;
            self.sync_database(Some(scratch)).await?;
            self.execute(&format!("DROP DATABASE {quoted}")).await?;
            self.applied_db = None;
        }
        Ok(())
    }

    /// Records session variables that a statement run on this connection has just set.
    pub fn note_applied_vars(&mut self, vars: &SessionVars) {
        self.applied_vars = vars.clone();
    }

    /// Prepares `sql` here unless it already is; returns the storage node's statement.
    pub async fn ensure_prepared(
        &mut self,
        sql: &Arc<str>,
    ) -> Result<PreparedOnBackend, BackendError> {
        if let Some(p) = self.prepared.get(sql) {
            return Ok(p.clone());
        }
        let prepared = self.prepare(sql).await?;
        self.prepared.insert(sql.clone(), prepared.clone());
        Ok(prepared)
    }

    /// COM_STMT_PREPARE of `sql` and its reply, whatever this connection has cached.
    async fn prepare(&mut self, sql: &str) -> Result<PreparedOnBackend, BackendError> {
        self.queue_command(com::STMT_PREPARE, sql.as_bytes());
        self.flush().await?;
        let first = self.packet().await?;
        if first.first() == Some(&ERR_HEADER) {
            return Err(self.server_error(&first));
        }
        let mut r = Reader::new(&first);
        r.u8("prepare ok").map_err(BackendError::Protocol)?;
        let id = r.u32("statement id").map_err(BackendError::Protocol)?;
        let ncols = r.u16("columns").map_err(BackendError::Protocol)? as usize;
        let nparams = r.u16("params").map_err(BackendError::Protocol)? as usize;
        r.u8("filler").map_err(BackendError::Protocol)?;
        let warnings = if r.remaining() >= 2 {
            r.u16("warnings").map_err(BackendError::Protocol)?
        } else {
            0
        };
        let params = self.definitions(nparams).await?;
        let columns = self.definitions(ncols).await?;
        self.reply_ended(0);
        Ok(PreparedOnBackend {
            id,
            params,
            columns,
            warnings,
        })
    }

    /// The parameter or column definitions of a prepared statement (none, and no EOF,
    /// when there are none).
    async fn definitions(&mut self, n: usize) -> Result<Vec<ColumnDef>, BackendError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        self.column_defs(n, "missing EOF after definitions").await
    }

    /// `n` column definitions and the EOF after them (`missing_eof` if it is not one).
    async fn column_defs(
        &mut self,
        n: usize,
        missing_eof: &'static str,
    ) -> Result<Vec<ColumnDef>, BackendError> {
        let mut defs = Vec::with_capacity(n);
        for _ in 0..n {
            let p = self.packet().await?;
            defs.push(ColumnDef::decode(&p).map_err(BackendError::Protocol)?);
        }
        let eof = self.packet().await?;
        if !is_eof(&eof) {
            return self.fail(ProtocolError::Malformed(missing_eof));
        }
        Ok(defs)
    }

    /// Closes a statement prepared here (no response is sent by the server).
    pub async fn close_prepared(&mut self, sql: &str) -> Result<(), BackendError> {
        if let Some(p) = self.prepared.remove(sql) {
            self.queue_command(com::STMT_CLOSE, &p.id.to_le_bytes());
            self.flush().await?;
        }
        Ok(())
    }

    /// Number of statements prepared on this connection.
    pub fn prepared_count(&self) -> usize {
        self.prepared.len()
    }

    /// COM_PING.
    pub async fn ping(&mut self) -> Result<(), BackendError> {
        self.queue_command(com::PING, &[]);
        self.flush().await?;
        self.read_ok().await.map(|_| ())
    }

    /// COM_QUIT, then closes the socket: the storage node ends the session at once
    /// instead of noticing a dropped connection later. Best effort; errors are ignored
    /// since the connection is going away either way.
    pub async fn quit(mut self) {
        self.queue_command(com::QUIT, &[]);
        if self.flush().await.is_ok() {
            let _ = self.conn.shutdown().await;
        }
    }

    /// COM_RESET_CONNECTION: drops temporary tables, user variables, prepared statements
    /// and session variables, keeping the database.
    pub async fn reset(&mut self) -> Result<(), BackendError> {
        self.queue_command(com::RESET_CONNECTION, &[]);
        self.flush().await?;
        self.read_ok().await?;
        self.prepared.clear();
        self.applied_vars.clear();
        Ok(())
    }

    /// Marks the connection unusable (e.g. after a timeout mid-response).
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }
}

#[cfg(test)]
mod session_vars_tests;
