//! One client connection: handshake and authentication, then a loop reading commands
//! and answering them — locally where the compute node knows the answer, otherwise by
//! forwarding to the data node that holds the data and streaming the reply back.
//!
//! Outside transactions a session borrows a storage-node connection per statement and
//! gives it back, so many idle clients need few storage connections. It keeps the
//! connection ("pins" it) while the storage node reports an open transaction, and for
//! the rest of its life once it created state that cannot be replayed on another
//! connection (user variables, temporary tables, locks, SQL-level PREPARE).
//!
//! A `Session` is made of parts with one job each, so borrows split by field: the
//! client connection (`client.rs`), who it is (`identity.rs`), what USE and SET
//! established (`state.rs`), its pinned storage connections (`backends.rs`), its
//! prepared statements (`prepared.rs`), its coordinated transaction
//! (`transaction.rs`), and the state of the statement being run (`StatementState`,
//! reset in one place). How a reply is written travels down the calls as a
//! `ReplyFormat`, not as a flag on the session.

/// The `RelayMode` for relaying a reply to this session's client (`more`: more results
/// follow). A macro so the mode borrows only the parts it needs (state, identity,
/// client caps) next to `&mut client.conn`; `status_override` reads the whole session,
/// so it is evaluated before the connection is borrowed.
macro_rules! relay_mode {
    ($session:expr, $more:expr) => {
        super::client::relay_mode(
            &$session.state.rename,
            &$session.identity.entry,
            $session.client.caps,
            $session.status_override(),
            $more,
        )
    };
}

mod accounts;
mod audit;
mod backends;
mod binlog;
mod client;
mod client_watch;
mod clock;
mod connection_state;
mod databases;
mod definers;
mod distributed;
mod dynamic;
mod dynamic_planned;
mod explain_views;
mod fence;
mod firewall;
mod flush;
mod global_priv_rows;
mod globals;
mod grammar;
mod handler;
pub(crate) mod handshake;
mod hidden_values;
mod identity;
mod information_schema_spread;
mod init_connect;
mod insert_id;
mod interp;
mod invoker_views;
mod isolation;
mod key_values;
mod kill_user;
mod load_data;
mod load_file;
mod local;
mod maintenance;
mod merge_limits;
mod merge_tables;
mod mysql_tables;
mod node_results;
mod open_tables;
mod optimizer_trace;
mod outfile_format;
mod own_variables;
mod planning;
mod prepared;
mod process_states;
mod query;
mod raw_text;
mod read_lock;
mod read_only;
mod read_then_write;
mod reads;
mod returning_star;
mod role_tables;
mod routine_bodies;
mod schema_rows;
mod select_into;
mod sequences;
mod server_data;
mod server_files;
mod session_functions;
mod set_statement;
mod show_status;
mod show_table;
mod state;
mod statement_vars;
mod status_count;
mod storage_globals;
mod table_locks;
mod temporary_tables;
mod tracking;
mod transaction;
mod unknown_engine;
mod view_columns;
mod views;
mod warnings;

use connection_state::state_spanning_nodes;
use std::{sync::atomic::Ordering, sync::Arc, time::Instant};

use tokio::net::TcpStream;
use tracing::{debug, info};

use strata_backend::pool::Lease;
use strata_backend::{SchemaRename, SessionVars};
use strata_catalog::DataNodeId;
use strata_protocol::command::{Command, MalformedCommand, SetOption};
use strata_protocol::constants::{com, status};
use strata_protocol::{codes, MysqlError, ProtocolError, ResultFormat};

use crate::context::{home_node, ServerContext};
use crate::shutdown::Shutdown;

use backends::Backends;
use client::ClientConn;
use identity::Identity;
use prepared::PreparedStatements;
use state::SessionState;

pub(crate) use backends::backend_error;
pub use clock::SystemZones;
pub use handshake::ServerIdentity;
pub use isolation::{sql_string, PrivateSchemas};
pub use prepared::ClientStatement;

/// Why a session ended abnormally (logged; never reaches other sessions).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The client's connection failed or it broke the protocol.
    #[error("client protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// Authentication or handshake failed (already reported to the client).
    #[error("handshake: {0}")]
    Handshake(String),
}

/// A live client session: the server's context and the parts it is made of, each
/// with one job.
pub struct Session {
    ctx: Arc<ServerContext>,
    /// The client connection and what the handshake negotiated.
    client: ClientConn,
    /// Who the session is (changes at COM_CHANGE_USER).
    identity: Identity,
    /// Database, variables, autocommit, isolation: what USE and SET establish.
    state: SessionState,
    /// Storage connections kept across statements.
    backends: Backends,
    /// The client's prepared statements.
    prepared: PreparedStatements,
    /// The transaction the compute node coordinates, and the next one's settings.
    txn: transaction::TxnState,
    /// What the statement being run has established so far (reset when it starts).
    statement: StatementState,
    /// Where the session wrote, for read-your-writes under read/write splitting.
    written: reads::WrittenNodes,
    /// Its status counters (`Questions`, `Com_*`, `Bytes_*`).
    status: crate::status::SessionStatus,
}

/// How the statement being run answers its client, passed down the calls that write
/// its reply (instead of a flag set on the session around them).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ReplyFormat {
    /// More results follow this one (MORE_RESULTS_EXISTS).
    pub more: bool,
    /// Rows go out in the binary protocol: a prepared statement's execution over
    /// several data nodes, whose merged rows the compute node writes itself.
    pub binary: bool,
}

impl ReplyFormat {
    /// A text-protocol reply (COM_QUERY).
    pub(super) fn text(more: bool) -> Self {
        ReplyFormat {
            more,
            binary: false,
        }
    }
}

/// Whether the session goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Read the next command.
    Continue,
    /// End the session (COM_QUIT, a failed COM_CHANGE_USER).
    Close,
}

/// How a statement ended; its reply (OK, result set or ERR) went out either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(super) enum Answer {
    /// It succeeded.
    Ok,
    /// It failed: an ERR was written (a multi-statement query stops there).
    Failed,
}

/// Whether a step that may answer a statement did, or leaves it to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(super) enum Handled {
    /// The step answered the statement.
    Answered(Answer),
    /// Not a statement this step answers: run it as usual.
    NotMine,
}

/// Per-statement state: what the running statement may do and what it returned. Reset
/// in one place, `Session::start_statement`, when a statement starts.
#[derive(Debug, Clone)]
pub(super) struct StatementState {
    /// The statement may change data (its branches must take part in a two-phase
    /// commit; read-only branches commit in one phase). Until the statement is
    /// classified, assume it does.
    writes: bool,
    /// What it returned (the audit log reads it).
    outcome: audit::Outcome,
    /// Its kind, once classified (the statistics take it instead of classifying again).
    kind: Option<strata_sql::StatementKind>,
    /// Planning may keep the digest it computes as the statement's own: set while the
    /// text being planned is the client's statement as sent.
    keep_digest: bool,
    /// The digest of the client's statement, when planning computed it.
    digest: Option<std::sync::Arc<strata_sql::Digest>>,
    /// It is a read that may go to a replica (read/write splitting), and how.
    replica_read: Option<reads::ReplicaRead>,
    /// It was given a replica's connection.
    on_replica: bool,
    /// `SET STATEMENT ... FOR ` when it runs under statement variables: sent before each
    /// text that runs for it on a storage node.
    variables: Option<std::sync::Arc<str>>,
    /// It names user variables (`@x`), which live on the session's pinned connection
    /// only (assumed until the text is looked at).
    reads_user_vars: bool,
    /// It creates, alters or drops an object with a definer: what to record once it
    /// succeeded.
    definer: Option<definers::DefinerDdl>,
    /// The session's local time, when the home data node had to give it.
    clock: clock::StatementClock,
    /// Values of INSERT sharding-key expressions the home data node evaluated.
    key_values: strata_planner::KeyValues,
    /// The routines of a database a data node gave for a CALL.
    routines: strata_planner::RoutineBodies,
    /// Its warnings as read from the nodes of a write over several (SHOW WARNINGS).
    warnings: Option<warnings::Diagnostics>,
    /// The storage threads' states, when it shows the process list.
    process_states: process_states::ThreadStates,
    /// It runs a routine body (CALL), which may leave state on its connection the
    /// session cannot see: a connection the session does not keep is closed, not
    /// pooled.
    leaves_unknown_state: bool,
    /// A planned write whose AUTO_INCREMENT values Strata gave: the OK packet's id is
    /// not the storage node's to settle (`insert_id`).
    planner_owns_insert_id: bool,
}

impl Default for StatementState {
    fn default() -> Self {
        StatementState {
            writes: true,
            reads_user_vars: true,
            outcome: audit::Outcome::default(),
            kind: None,
            keep_digest: false,
            digest: None,
            replica_read: None,
            on_replica: false,
            variables: None,
            definer: None,
            clock: clock::StatementClock::default(),
            key_values: strata_planner::KeyValues::default(),
            routines: strata_planner::RoutineBodies::default(),
            warnings: None,
            process_states: Default::default(),
            leaves_unknown_state: false,
            planner_owns_insert_id: false,
        }
    }
}

impl Session {
    /// How result sets go to the client: the client's EOF format, and binary rows when
    /// the reply asks for them.
    fn result_format(&self, reply: ReplyFormat) -> ResultFormat {
        self.client.result_format(reply)
    }

    /// Starts a statement: per-statement state back to its defaults.
    fn start_statement(&mut self) {
        let previous = std::mem::take(&mut self.statement);
        self.backends.warned = (previous.outcome.node_mask, previous.warnings);
        self.leave_down_home();
    }

    /// Moves the session's home (where statements without a table go) off a data node
    /// whose storage server stopped answering, unless the session is tied to its
    /// connection there (a transaction, or session state such as user variables).
    fn leave_down_home(&mut self) {
        let Some((dnid, _)) = &self.state.home else {
            return;
        };
        let topo = &self.ctx.topology;
        if !topo.node(*dnid).is_some_and(|n| n.pool.is_down())
            || self.in_transaction()
            || self.backends.sticky
        {
            return;
        }
        let home = self.state.db.as_deref().and_then(|db| topo.db(db));
        if let Some(home) = home.and_then(|logic| topo.live_home(&logic)) {
            self.state.home = Some(home);
        }
    }

    /// Status flags for packets the compute node writes itself.
    fn status(&self) -> u16 {
        let mut s = 0;
        if self.state.autocommit {
            s |= status::AUTOCOMMIT;
        }
        if self.in_transaction() {
            s |= status::IN_TRANS;
        }
        s
    }

    fn ok(&mut self, affected_rows: u64, more: bool) {
        self.ok_warned(affected_rows, 0, more);
    }

    /// An OK packet counting `warnings` (that SHOW WARNINGS then finds on a kept
    /// storage connection).
    fn ok_warned(&mut self, affected_rows: u64, warnings: u16, more: bool) {
        self.statement.outcome.affected_rows = Some(affected_rows);
        let status = self.status();
        self.client.ok(affected_rows, warnings, status, more);
    }

    fn err(&mut self, e: &MysqlError) {
        self.statement.outcome.error = e.code;
        self.client.err(e, self.state.rename.as_ref());
    }

    /// Writes a result computed locally, flagging MORE_RESULTS when statements follow.
    fn write_local(&mut self, result: &crate::results::LocalResult, more: bool) {
        self.write_local_as(result, ReplyFormat::text(more));
    }

    /// Writes a result computed locally in the reply's format.
    fn write_local_as(&mut self, result: &crate::results::LocalResult, reply: ReplyFormat) {
        self.statement.outcome.returned_rows = Some(result.rows.len() as u64);
        let status = self.status();
        if let Err(e) = self.client.write_local(result, reply, status) {
            // Only the binary protocol can fail (a value its column type cannot take).
            self.err(&MysqlError::new(
                codes::UNKNOWN,
                format!("cannot convert a row for the binary protocol: {e}"),
            ));
        }
    }

    /// A bare EOF in the client's format (COM_SET_OPTION's answer).
    fn eof(&mut self) {
        let status = self.status();
        self.client.eof(status);
    }

    /// Answers commands until the client leaves, the session is killed, or shutdown:
    /// the signal is only looked at between commands, so a statement in progress
    /// finishes (`run` bounds it by the shutdown deadline).
    async fn serve(
        &mut self,
        shutdown: &mut Shutdown,
        watch: client_watch::ClientWatch,
    ) -> Result<(), SessionError> {
        // The two stop signals are waited on for the session's lifetime, not per
        // command: between commands they are polled, not built and registered anew.
        let entry = Arc::clone(&self.identity.entry);
        let killed = entry.kill_signal.notified();
        tokio::pin!(killed);
        let mut stop = shutdown.clone();
        let stopped = stop.triggered();
        tokio::pin!(stopped);
        if let Some(e) = self.run_init_connect().await? {
            return self.refuse_after_init_connect(&e).await;
        }
        loop {
            // No timer at all outside transactions: the hot path stays timer-free.
            let idle_timeout = self.idle_in_transaction_limit();
            let idle = async move {
                match idle_timeout {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending::<()>().await,
                }
            };
            let packet = tokio::select! {
                // In order: no random number per command.
                biased;
                p = self.client.conn.read_packet() => p,
                _ = &mut killed => return Ok(()),
                _ = &mut stopped => return Ok(()),
                _ = idle => {
                    // MariaDB's idle_transaction_timeout: the connection is closed and
                    // its transaction rolled back (by `close`).
                    info!(session = self.identity.id, "idle in transaction too long; closing");
                    return Ok(());
                }
            };
            let packet = match packet {
                Ok(p) => p,
                Err(ProtocolError::ConnectionClosed) => return Ok(()),
                Err(ProtocolError::PacketTooLarge { .. }) => {
                    self.err(&MysqlError::new(
                        codes::PACKET_TOO_LARGE,
                        "Got a packet bigger than 'max_allowed_packet' bytes",
                    ));
                    self.client.conn.flush().await?;
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            if self.identity.entry.killed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let command = Command::decode(&packet.payload)?;
            *self
                .identity
                .entry
                .since
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Instant::now();
            if self
                .dispatch_watched(&watch, command, &packet.payload)
                .await?
                == Flow::Close
            {
                return Ok(());
            }
            self.client.conn.flush().await?;
            if self.identity.entry.killed.load(Ordering::Relaxed)
                || self.txn.release_requested
                || shutdown.is_triggered()
            {
                return Ok(());
            }
        }
    }

    /// Answers one command; `Flow::Close` ends the session. `request` is the whole packet
    /// (COM_QUERY keeps it to forward without a copy).
    async fn dispatch(
        &mut self,
        command: Result<Command<'_>, MalformedCommand>,
        request: &bytes::Bytes,
    ) -> Result<Flow, SessionError> {
        let command = match command {
            Ok(c) => c,
            // COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA get no reply, not even an error.
            Err(m) if matches!(m.command, com::STMT_CLOSE | com::STMT_SEND_LONG_DATA) => {
                return Ok(Flow::Continue)
            }
            Err(m) => {
                self.err(&MysqlError::new(codes::HANDSHAKE, m.to_string()));
                return Ok(Flow::Continue);
            }
        };
        self.count_command(&command);
        match command {
            Command::Quit => return Ok(Flow::Close),
            Command::Query(_) => self.com_query(request).await?,
            Command::InitDb(db) => {
                let db = String::from_utf8_lossy(db).into_owned();
                match self.use_tracked(&db) {
                    Ok(()) => self.ok(0, false),
                    Err(e) => self.err(&e),
                }
            }
            Command::Ping => self.ok(0, false),
            Command::FieldList { table, wildcard } => self.com_field_list(table, wildcard).await?,
            Command::Statistics => {
                let text = local::statistics(&self.ctx);
                self.client.conn.write_packet(text.as_bytes());
            }
            Command::ProcessKill(id) => self.kill(u64::from(id), false).await,
            Command::ResetConnection => {
                self.reset_session().await;
                self.ok(0, false);
            }
            Command::SetOption(SetOption::MultiStatementsOn) => {
                self.client.multi_statements = true;
                self.eof();
            }
            Command::SetOption(SetOption::MultiStatementsOff) => {
                self.client.multi_statements = false;
                self.eof();
            }
            Command::SetOption(SetOption::Unknown) => self.err(&MysqlError::unknown_command()),
            Command::ChangeUser(packet) => return self.change_user(packet).await,
            Command::StmtPrepare(sql) => self.stmt_prepare(sql).await?,
            Command::StmtExecute { statement_id, body } => {
                self.audited_execute(statement_id, body).await?
            }
            Command::StmtFetch { statement_id, rows } => {
                self.stmt_fetch(statement_id, rows).await?
            }
            Command::StmtClose(id) => self.stmt_close(id),
            Command::StmtReset(id) => self.stmt_reset(id).await?,
            Command::StmtSendLongData {
                statement_id,
                param,
                data,
            } => self.stmt_send_long_data(statement_id, param, data),
            Command::Unknown(other) => {
                debug!(
                    session = self.identity.id,
                    command = other,
                    "unknown command"
                );
                self.err(&MysqlError::unknown_command());
            }
        }
        // Whatever the command planned (PREPARE plans too) no longer runs.
        self.release_planned_tables();
        Ok(Flow::Continue)
    }

    fn use_database(&mut self, db: &str) -> Result<(), MysqlError> {
        databases::invalid_database_name(db, self.client.collation).map_or(Ok(()), Err)?;
        let topo = &self.ctx.topology;
        // As in MySQL, a database the account has no privilege on is 1044 whether it
        // exists or not (the answer must not tell).
        if !self.may_use(db) {
            return Err(self.database_denied(db));
        }
        let Some(logic) = topo.db(db) else {
            return Err(MysqlError::unknown_database(db));
        };
        let Some(home) = topo.live_home(&logic) else {
            return Err(MysqlError::new(
                codes::UNKNOWN,
                format!("logical database '{db}' has no data node"),
            ));
        };
        self.state.db = Some(db.to_string());
        self.state.rename = (*home.1 != *db).then(|| SchemaRename {
            physical: home.1.clone(),
            logical: Arc::from(db),
        });
        self.state.home = Some(home);
        self.state.multi_node = logic.data_nodes.len() > 1;
        self.publish_database();
        Ok(())
    }

    /// Shows the current database in the session list (SHOW PROCESSLIST).
    fn publish_database(&self) {
        *self
            .identity
            .entry
            .db
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = self.state.db.clone();
    }

    /// The data node statements without a table-level route go to, and its physical
    /// database (cached at USE, so the per-statement path does no lookups).
    fn home_node(&self) -> Result<(DataNodeId, Option<Arc<str>>), MysqlError> {
        if let Some((dnid, physical)) = &self.state.home {
            return Ok((*dnid, Some(physical.clone())));
        }
        let topo = &self.ctx.topology;
        if let Some(name) = &self.state.db {
            return Err(MysqlError::unknown_database(name));
        }
        let dnid = topo
            .dbs()
            .iter()
            .find(|d| self.may_use(&d.name))
            .and_then(|d| home_node(d))
            .or_else(|| topo.nodes().map(|n| n.id).min())
            .ok_or_else(|| MysqlError::new(codes::UNKNOWN, "no data node is configured"))?;
        Ok((dnid, None))
    }

    /// True while the session has an open transaction (coordinated here, or reported
    /// by a storage node).
    fn in_transaction(&self) -> bool {
        self.txn.open.is_some() || self.backends.in_transaction()
    }

    /// A storage connection to `dnid` with the session's state applied. Inside a
    /// transaction a data node joins it on first use (best-effort commit across nodes
    /// until XA lands).
    async fn lease(
        &mut self,
        dnid: DataNodeId,
        physical_db: Option<&str>,
    ) -> Result<Lease, MysqlError> {
        self.note_write(dnid);
        if let Some(mut lease) = self.backends.take(dnid) {
            self.note_primary_use(dnid);
            // Kept since an earlier statement (a transaction, session state): the
            // session may have changed its database since (USE inside a transaction).
            if let Err(e) = lease.sync_database(physical_db).await {
                self.finish(lease);
                return Err(backend_error(dnid, &e));
            }
            // Pinned for the session's state (user variables, a sequence's LASTVAL)
            // before the transaction began: it joins the transaction now, or its writes
            // would commit on their own.
            if self.txn.open.is_some() && !self.is_branch(dnid) {
                if let Err(e) = self.enlist(&mut lease).await {
                    lease.mark_broken();
                    self.finish(lease);
                    return Err(backend_error(dnid, &e));
                }
            }
            return Ok(lease);
        }
        if self.statement.replica_read.is_some() {
            if let Some(lease) = self.replica_lease(dnid, physical_db).await {
                return Ok(lease);
            }
        }
        self.note_primary_use(dnid);
        if self.is_branch(dnid) {
            // The branch's connection was lost, and its work with it: the transaction
            // cannot commit as a whole any more.
            self.rollback_txn().await;
            return Err(transaction::transaction_lost(dnid));
        }
        if self.state_on_pinned_connection() {
            return Err(state_spanning_nodes());
        }
        self.temporary_tables_lost(dnid)?;
        let enlist = self.txn.open.is_none() && self.in_transaction() && self.state.autocommit;
        let node = self.ctx.topology.node(dnid).ok_or_else(|| {
            MysqlError::new(
                codes::UNKNOWN,
                format!("data node {dnid} is not configured"),
            )
        })?;
        let xa_vars = (self.coordinated() && !self.state.autocommit).then(|| {
            // XA branches run with autocommit on: the compute node opens and ends the
            // transaction, and XA START refuses to run inside an implicit one.
            let mut vars = self.state.vars.clone();
            vars.set("autocommit", "SESSION autocommit = 1".into());
            vars
        });
        let vars = xa_vars.as_ref().unwrap_or(&self.state.vars);
        let counting = self.client.row_counting();
        let open = self
            .txn
            .open
            .as_ref()
            .is_some_and(|t| !t.branches.is_empty());
        let mut lease =
            backends::pooled_lease(&node.pool, dnid, physical_db, vars, (counting, open)).await?;
        if self.txn.open.is_some() {
            if let Err(e) = self.enlist(&mut lease).await {
                lease.mark_broken();
                return Err(backend_error(dnid, &e));
            }
        }
        if enlist {
            if let Err(e) = lease.execute("START TRANSACTION").await {
                lease.mark_broken();
                return Err(backend_error(dnid, &e));
            }
        }
        Ok(lease)
    }

    /// A connection to `dnid` of its own, outside the session's transaction and pinned
    /// connections, with the session's variables (autocommit on) and database applied:
    /// the scratch connection of a materialize plan. The session's own connection state
    /// (user variables, temporary tables, locks) is not on it: a session that has such
    /// state on a pinned connection is refused, as for any statement over several data
    /// nodes. `copies` are the tables a materialize plan copies onto it.
    async fn scratch_lease(
        &mut self,
        dnid: DataNodeId,
        copies: &[strata_planner::TableCopy],
    ) -> Result<Lease, MysqlError> {
        if let Some(refused) = self.scratch_refusal(copies) {
            return Err(refused);
        }
        self.note_primary_use(dnid);
        let ctx = self.ctx.clone();
        let node = ctx.topology.node(dnid).ok_or_else(|| {
            MysqlError::new(
                codes::UNKNOWN,
                format!("data node {dnid} is not configured"),
            )
        })?;
        let physical = self.physical_of(dnid);
        let mut vars = self.state.vars.clone();
        vars.set("autocommit", "SESSION autocommit = 1".into());
        let counting = self.client.row_counting();
        let kind = (counting, false);
        backends::pooled_lease(&node.pool, dnid, physical.as_deref(), &vars, kind).await
    }

    /// Leases a connection on the data node `routed` names, as [`Self::lease`] does;
    /// None once the client has been told why there is none (routing or leasing failed).
    async fn lease_or_report(
        &mut self,
        routed: Result<(DataNodeId, Option<Arc<str>>), MysqlError>,
    ) -> Option<(DataNodeId, Lease)> {
        let leased = match routed {
            Ok((dnid, physical)) => self
                .lease(dnid, physical.as_deref())
                .await
                .map(|l| (dnid, l)),
            Err(e) => Err(e),
        };
        match leased {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(&e);
                None
            }
        }
    }

    /// Keeps a connection after a statement (pins it) when the session still needs
    /// it; otherwise drops the lease, which gives the connection back to its pool.
    fn finish(&mut self, lease: Lease) {
        if self.is_replica_lease(&lease) {
            // A replica's connection serves one read; what the session keeps is on
            // the primary.
            return;
        }
        let needed = self.is_branch(lease.target().dnid) || self.has_open_cursor();
        self.backends
            .finish(lease, needed, self.statement.leaves_unknown_state);
    }

    /// Re-decides every pinned connection (after a reason to keep them ended).
    fn refinish_pinned(&mut self) {
        for lease in std::mem::take(&mut self.backends.pinned) {
            self.finish(lease);
        }
    }

    fn note_backend(&mut self, lease: Option<&Lease>) {
        self.note_backends(lease.map(std::slice::from_ref).unwrap_or_default());
    }

    /// Records where the current statement runs, for KILL QUERY and the statistics.
    fn note_backends(&mut self, leases: &[Lease]) {
        self.statement.outcome.nodes = self.statement.outcome.nodes.max(leases.len() as u32);
        for l in leases {
            let dnid = l.target().dnid;
            if dnid.get() < 64 {
                self.statement.outcome.node_mask |= 1 << dnid.get();
            }
        }
        let mut running = self
            .identity
            .entry
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        running.clear();
        // KILL QUERY runs on the primary: a replica's thread id means nothing there.
        running.extend(
            leases
                .iter()
                .filter(|l| !self.is_replica_lease(l))
                .map(|l| (l.target().dnid, l.thread_id())),
        );
    }

    async fn reset_session(&mut self) {
        self.rollback_txn().await;
        self.txn.next = Default::default();
        self.txn.global_read_lock = None;
        self.txn.lock_tables_held = false;
        for mut lease in std::mem::take(&mut self.backends.pinned) {
            if lease.in_transaction() && lease.execute("ROLLBACK").await.is_err() {
                lease.mark_broken();
            }
            if lease.is_broken() || lease.reset().await.is_err() {
                lease.mark_broken();
            } else {
                lease.note_applied_vars(&SessionVars::default());
            }
        }
        // As MariaDB: the character set the client announced, not the server's.
        self.state.vars = handshake::handshake_names(self.client.collation);
        self.state.autocommit = true;
        self.state.isolation = strata_sql::IsolationLevel::RepeatableRead;
        globals::apply_globals(&mut self.state, &self.ctx.globals);
        self.client.tracker.reset(&self.ctx.globals);
        self.backends.sticky = false;
        self.backends.beyond_user_vars = false;
        self.backends.state_node = None;
        self.backends.temporary.forget_all();
        self.backends.keep_for_warnings = false;
        self.backends.trace = Default::default();
        self.state.last_insert_id = 0;
        self.state.row_count = -1;
        self.prepared.forget_all();
        // MariaDB's session status starts again too (THD::change_user).
        let bytes = self.client_bytes();
        self.status.flush(bytes);
    }

    async fn close(mut self) {
        // A statement cut off (a serve error, shutdown) holds its tables no more.
        self.release_planned_tables();
        self.rollback_txn().await;
        for mut lease in std::mem::take(&mut self.backends.pinned) {
            if lease.in_transaction() && lease.execute("ROLLBACK").await.is_err() {
                lease.mark_broken();
            }
            if self.backends.sticky && !lease.is_broken() && lease.reset().await.is_err() {
                lease.mark_broken();
            }
        }
        let _ = self.client.conn.shutdown().await;
        self.count_end();
        self.ctx.unregister(self.identity.id);
    }
}

/// Runs a session on an accepted TCP connection until it ends or shutdown closes it.
pub async fn run(ctx: Arc<ServerContext>, stream: TcpStream, mut shutdown: Shutdown) {
    let (peer, id) = handshake::accepted(&ctx, &stream);
    let watch = client_watch::ClientWatch::of(&stream);
    let accepted = tokio::select! {
        accepted = tokio::time::timeout(
            handshake::HANDSHAKE_TIMEOUT,
            handshake::accept(ctx.clone(), stream, id, &peer),
        ) => accepted,
        _ = shutdown.triggered() => return,
    };
    let accepted = accepted.unwrap_or_else(|_| Err(SessionError::Handshake("timed out".into())));
    match accepted {
        Ok(mut session) => {
            let mut cut_off = shutdown.clone();
            let result = tokio::select! {
                result = session.serve(&mut shutdown, watch) => result,
                _ = cut_off.deadline_passed() => {
                    // The statement in progress is abandoned with the storage
                    // connections it held; `close` rolls back what the session kept.
                    info!(session = id, peer = %peer, "statement cut off by shutdown");
                    Ok(())
                }
            };
            if let Err(e) = &result {
                info!(session = id, peer = %peer, error = %e, "closing session");
            }
            session.close().await;
        }
        Err(e) => handshake::failed(&ctx, id, &peer, &e),
    }
}
