//! Server-side prepared statements. The compute node owns the statement ids clients
//! see; each storage connection prepares a statement the first time it runs it there,
//! so executions can go to whichever pooled connection is free. Parameter types are
//! remembered and always sent, and long data is buffered until EXECUTE.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{BufMut, BytesMut};

use strata_backend::ResponseKind;
use strata_catalog::sharding::KeyLiteral;
use strata_catalog::DataNodeId;
use strata_protocol::command::{ExecuteError, ParamTypes, ParamValue, StmtExecute};
use strata_protocol::constants::{com, status};
use strata_protocol::packets::OkPacket;
use strata_protocol::{codes, MysqlError};

use super::planning::PreparedRoute;
use super::{backend_error, Handled, Session, SessionError};

/// A statement prepared by the client.
pub struct ClientStatement {
    pub(super) sql: Arc<str>,
    /// The text as the client sent it and it was authorized: authorized again at every
    /// execute (a REVOKE since PREPARE counts, as in MariaDB).
    pub(super) checked_sql: Arc<str>,
    /// The database it was prepared in (its unqualified names are there).
    pub(super) prepared_in: Option<String>,
    /// The accounts version it was last authorized at.
    pub(super) authorized_at: u64,
    /// Its kind and digest, computed once at PREPARE for every execution's planning
    /// and statistics.
    pub(super) kind: strata_sql::StatementKind,
    pub(super) digest: Arc<strata_sql::Digest>,
    /// The text again, shared with SHOW PROCESSLIST without a copy per execute.
    info: bytes::Bytes,
    params: usize,
    /// Types from the last execute that bound them.
    types: Option<ParamTypes>,
    /// Parameter data sent with COM_STMT_SEND_LONG_DATA since the last execute.
    long_data: HashMap<u16, Vec<u8>>,
    /// Data node whose pinned connection holds this statement's open cursor.
    cursor_node: Option<DataNodeId>,
    /// Executing it changes session state that only its connection holds (a prepared
    /// SET, user variables, locks): the session keeps that connection from then on.
    pins_connection: bool,
    /// Its `rw=` hint (read/write splitting), taken out of `sql`: a storage node
    /// would run the hint as code.
    rw_hint: Option<strata_sql::rw::RwHint>,
}

/// The client's prepared statements, by the ids the compute node gave them.
pub(super) struct PreparedStatements {
    /// Statements by id.
    pub statements: HashMap<u32, ClientStatement>,
    /// The id the next COM_STMT_PREPARE gets.
    pub next_id: u32,
    /// SHOWs and account statements of `PREPARE name FROM` the session answers itself,
    /// by lower-case name.
    pub shows: HashMap<String, Arc<str>>,
    /// Texts of `PREPARE name FROM`, by lower-case name, authorized again at every
    /// `EXECUTE name` (the storage node's statement runs with the storage account's
    /// rights).
    pub checked: HashMap<String, (Arc<str>, Option<String>)>,
    /// Texts of `PREPARE name FROM` that need the planner, by lower-case name.
    pub texts: HashMap<String, Arc<str>>,
}

impl Default for PreparedStatements {
    fn default() -> Self {
        PreparedStatements {
            statements: HashMap::new(),
            next_id: 1,
            shows: HashMap::new(),
            checked: HashMap::new(),
            texts: HashMap::new(),
        }
    }
}

impl PreparedStatements {
    /// Forgets every statement (a connection reset or change of user).
    pub fn forget_all(&mut self) {
        self.statements.clear();
        self.shows.clear();
        self.texts.clear();
    }
}

/// The error for a COM_STMT_EXECUTE whose body does not decode.
fn malformed_execute(e: &ExecuteError) -> MysqlError {
    MysqlError::new(codes::HANDSHAKE, format!("Malformed COM_STMT_EXECUTE: {e}"))
}

fn unknown_statement(id: u32, command: &str) -> MysqlError {
    MysqlError::new(
        codes::UNKNOWN_STMT_HANDLER,
        format!("Unknown prepared statement handler ({id}) given to {command}"),
    )
}

/// A data node and its physical database.
type NodeTarget = (DataNodeId, Option<Arc<str>>);

impl Session {
    /// The data node (and its physical database) a prepared statement runs on; None
    /// when it runs on several (only with values: see `route_prepared`).
    pub(super) fn statement_node(
        &self,
        sql: &str,
        digest: &strata_sql::Digest,
        params: Option<&[KeyLiteral]>,
    ) -> Result<Option<NodeTarget>, MysqlError> {
        match self.route_prepared(sql, digest, params)? {
            PreparedRoute::Node(dnid) => Ok(Some((dnid, self.physical_of(dnid)))),
            PreparedRoute::Home => self.home_node().map(Some),
            PreparedRoute::Several => Ok(None),
        }
    }

    pub(super) fn has_open_cursor(&self) -> bool {
        self.prepared
            .statements
            .values()
            .any(|s| s.cursor_node.is_some())
    }

    /// True while statement `id` has a cursor open.
    pub(super) fn cursor_open(&self, id: u32) -> bool {
        self.prepared
            .statements
            .get(&id)
            .is_some_and(|s| s.cursor_node.is_some())
    }

    pub(super) async fn stmt_prepare(&mut self, body: &[u8]) -> Result<(), SessionError> {
        // Prepared on the primary: the connection that executes it prepares it again.
        self.statement.replica_read = None;
        let sql: Arc<str> = Arc::from(String::from_utf8_lossy(body).as_ref());
        let rw_hint = strata_sql::rw::rw_hint(&sql);
        let sql = match strata_sql::rw::without_rw_hints(&sql) {
            Some(plain) => Arc::from(plain),
            None => sql,
        };
        let kind = strata_sql::classify(&sql);
        self.refresh_account();
        let bytes = strata_sql::ByteSummary::of(sql.as_bytes());
        let checked = match kind {
            strata_sql::StatementKind::Show => {
                strata_sql::guard::check_prepared_show(&sql, &self.ctx.private_schemas)
                    .map_err(|r| self.refusal_error(&r))
            }
            strata_sql::StatementKind::Use => Err(MysqlError::new(
                (1295, "HY000"),
                "This command is not supported in the prepared statement protocol yet",
            )),
            // The session takes the global read lock itself; prepared, it would run on
            // a storage server.
            _ if strata_sql::flush_kind(&sql) == Some(strata_sql::Flush::GlobalReadLock) => {
                Err(MysqlError::not_supported(
                    "FLUSH TABLES WITH READ LOCK as a prepared statement (run it as a statement)",
                ))
            }
            _ => Ok(()),
        }
        .and_then(|()| self.guard(&sql, kind, bytes))
        .and_then(|()| self.authorize(&sql, kind));
        let checked = match checked {
            Ok(()) => self.firewall(&sql, kind).await,
            Err(e) => Err(e),
        };
        let checked = match checked {
            Ok(()) => self.authorize_invoker_views(&sql, kind).await,
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            self.err(&e);
            return Ok(());
        }
        let checked_sql = sql.clone();
        let sql: Arc<str> = match self.mask_variables(&sql, bytes) {
            std::borrow::Cow::Owned(masked) => Arc::from(masked),
            std::borrow::Cow::Borrowed(_) => sql,
        };
        let sql: Arc<str> = if super::isolation::mentions_information_schema(&sql)
            || self.reads_information_schema(&sql, kind)
        {
            match self.prepared_information_schema(&sql) {
                Ok(text) => Arc::from(text),
                Err(e) => {
                    self.err(&e);
                    return Ok(());
                }
            }
        } else {
            sql
        };
        // A statement over views is prepared (and run) as its expansion: the data
        // nodes do not have Strata's views.
        let sql: Arc<str> = match self.expanded_views(&sql) {
            Ok(Some(expanded)) => Arc::from(expanded),
            Ok(None) => sql,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        if kind == strata_sql::StatementKind::Set {
            // A global value is validated and kept by the compute node, which the
            // storage node's prepared statement would bypass.
            let items = strata_sql::parse_set(&sql).unwrap_or_default();
            if super::globals::sets_global(&items) {
                self.err(&MysqlError::not_supported(
                    "SET GLOBAL as a server-side prepared statement (send it as text)",
                ));
                return Ok(());
            }
            // The storage account may set what the client's may not.
            if let Err(e) = self.session_privileges(&items) {
                self.err(&e);
                return Ok(());
            }
        }
        let pins_connection = matches!(
            kind,
            strata_sql::StatementKind::Set | strata_sql::StatementKind::Use
        ) || super::query::creates_connection_state(
            &sql,
            kind,
            strata_sql::ByteSummary::of(sql.as_bytes()),
        );
        // Without values a statement is never `Several` (it is prepared on its first
        // node); the home node is the fallback.
        let digest = Arc::new(strata_sql::normalize_digest(&sql));
        let routed = match self.statement_node(&sql, &digest, None) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => self.home_node(),
            Err(e) => Err(self.syntax_verdict(&sql, e, true).await),
        };
        let Some((dnid, mut lease)) = self.lease_or_report(routed).await else {
            return Ok(());
        };
        let prepared = lease.ensure_prepared(&sql).await;
        self.finish(lease);
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.err(&backend_error(dnid, &e));
                return Ok(());
            }
        };
        let id = self.prepared.next_id;
        self.prepared.next_id = self.prepared.next_id.wrapping_add(1).max(1);
        self.prepared.statements.insert(
            id,
            ClientStatement {
                info: bytes::Bytes::copy_from_slice(sql.as_bytes()),
                sql,
                checked_sql,
                prepared_in: self.state.db.clone(),
                authorized_at: self.identity.accounts_version,
                kind,
                digest,
                params: prepared.params.len(),
                types: None,
                long_data: HashMap::new(),
                cursor_node: None,
                pins_connection,
                rw_hint,
            },
        );
        self.client.conn.write_with(|b| {
            b.put_u8(0);
            b.put_u32_le(id);
            b.put_u16_le(prepared.columns.len() as u16);
            b.put_u16_le(prepared.params.len() as u16);
            b.put_u8(0);
            b.put_u16_le(prepared.warnings);
        });
        let flags = self.status();
        let mut out = self
            .result_format(super::ReplyFormat::default())
            .writer(&mut self.client.conn);
        for defs in [&prepared.params, &prepared.columns] {
            if defs.is_empty() {
                continue;
            }
            for def in defs.iter() {
                match &self.state.rename {
                    Some(rename) => {
                        let mut def = def.clone();
                        rename.rename_column(&mut def);
                        out.column(&def);
                    }
                    None => out.column(def),
                }
            }
            out.end_columns(0, flags);
        }
        Ok(())
    }

    pub(super) async fn stmt_execute(&mut self, id: u32, body: &[u8]) -> Result<(), SessionError> {
        let refused = self
            .prepared
            .statements
            .get(&id)
            .and_then(|s| self.refuse_while_rejoining(s.kind).err());
        let refused = refused.or_else(|| self.authorize_execute(id).err());
        if let Some(e) = refused {
            self.err(&e);
            return Ok(());
        }
        let Some(stmt) = self.prepared.statements.get_mut(&id) else {
            self.err(&unknown_statement(id, "mysqld_stmt_execute"));
            return Ok(());
        };
        let exec = match StmtExecute::decode(body, stmt.params, stmt.types.as_ref()) {
            Ok(exec) => exec,
            Err(e) => {
                self.err(&malformed_execute(&e));
                return Ok(());
            }
        };
        // Later executions may leave the types out: remember them.
        if exec.new_params_bound {
            stmt.types = Some(exec.types.clone());
        }
        let cursor = exec.wants_cursor();
        let sql = stmt.sql.clone();
        let info = stmt.info.clone();
        let kind = stmt.kind;
        let digest = stmt.digest.clone();
        super::invoker_views::note_statement(kind);
        self.statement.kind = Some(kind);
        self.statement.digest = Some(digest.clone());
        if stmt.pins_connection {
            self.backends.sticky = true;
            self.backends.beyond_user_vars = true;
        }
        let params = stmt.params;
        let rw_hint = stmt.rw_hint;
        let long_data = std::mem::take(&mut stmt.long_data);
        self.statement.writes = super::transaction::may_write(kind);
        if let Err(e) = self.check_unknown_engine(&sql, kind).await {
            self.err(&e);
            return Ok(());
        }
        if let Err(e) = self.pass_read_lock(&sql, kind, None).await {
            self.err(&e);
            return Ok(());
        }
        if kind == strata_sql::StatementKind::Select
            && !cursor
            && !super::isolation::mentions_information_schema(&sql)
        {
            self.statement.replica_read = self.replica_read(&sql, rw_hint);
        }
        if self.coordinated() {
            if let Handled::Answered(_) = self.coordinated_statement(&sql, kind, false).await? {
                return Ok(());
            }
        }
        if params == 0 {
            // A prepared COMMIT / ROLLBACK / SAVEPOINT must reach every enlisted node.
            use strata_sql::StatementKind as K;
            if matches!(
                kind,
                K::Commit | K::Rollback | K::RollbackToSavepoint | K::Savepoint | K::Release
            ) {
                if let Handled::Answered(_) = self.transaction_control(&sql, false).await {
                    return Ok(());
                }
            }
        }
        self.set_info(Some(info));

        let routed = if self.state.multi_node {
            let values = exec
                .values(|i| u16::try_from(i).is_ok_and(|p| long_data.contains_key(&p)))
                .map(|values| key_literals(&values, &long_data))
                .map_err(|e| malformed_execute(&e));
            match values {
                Ok(values) => match self.statement_node(&sql, &digest, Some(&values)) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => return self.execute_several(&sql, &values).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        } else {
            self.home_node()
        };
        // CONNECTION_ID(), USER(), LAST_INSERT_ID(), ROW_COUNT() ... are the session's,
        // not the storage connection's: the storage node prepares the text with this
        // execution's values written in, and forgets it after the execution.
        let bytes = strata_sql::ByteSummary::of(sql.as_bytes());
        let own: Option<Arc<str>> = match self.substitute_session_values(&sql, kind, bytes) {
            Ok(own) => own.map(Arc::from),
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        if own.is_some() && cursor {
            self.err(&MysqlError::not_supported(
                "a cursor over a prepared statement that calls CONNECTION_ID(), USER(), \
                 LAST_INSERT_ID() or ROW_COUNT()",
            ));
            return Ok(());
        }
        let backend_sql = own.clone().unwrap_or_else(|| sql.clone());
        let Some((dnid, mut lease)) = self.lease_or_report(routed).await else {
            return Ok(());
        };
        let backend_stmt = match lease.ensure_prepared(&backend_sql).await {
            Ok(p) => p,
            Err(e) => {
                self.finish(lease);
                self.err(&backend_error(dnid, &e));
                return Ok(());
            }
        };
        for (param, data) in &long_data {
            let mut b = BytesMut::with_capacity(6 + data.len());
            b.put_u32_le(backend_stmt.id);
            b.put_u16_le(*param);
            b.extend_from_slice(data);
            lease.queue_command(com::STMT_SEND_LONG_DATA, &b);
        }
        let mut exec_body = BytesMut::with_capacity(body.len() + 2 * params + 1);
        exec.encode_for(backend_stmt.id, &mut exec_body);
        lease.queue_command(com::STMT_EXECUTE, &exec_body);
        self.note_backend(Some(&lease));
        let mode = relay_mode!(self, false);
        let outcome = lease
            .relay(
                &mut self.client.conn,
                if cursor {
                    ResponseKind::Execute
                } else {
                    ResponseKind::Results
                },
                mode,
            )
            .await;
        self.note_backend(None);
        self.set_info(None);
        if let Some(text) = &own {
            if lease.close_prepared(text).await.is_err() {
                lease.mark_broken();
            }
        }
        match outcome {
            Ok(out) => {
                let reported = out.last_insert_id;
                if reported != 0 {
                    let params_differ = exec
                        .values(|i| u16::try_from(i).is_ok_and(|p| long_data.contains_key(&p)))
                        .is_ok_and(|values| {
                            !values
                                .iter()
                                .any(|v| super::insert_id::param_could_be(v, reported))
                        });
                    self.settle_insert_id(&mut lease, &sql, reported, params_differ)
                        .await;
                }
                if out.warnings > 0 {
                    self.backends.keep_for_warnings = true;
                }
                if cursor && out.status & status::CURSOR_EXISTS != 0 {
                    if let Some(stmt) = self.prepared.statements.get_mut(&id) {
                        stmt.cursor_node = Some(dnid);
                    }
                }
                self.finish(lease);
                // As a text statement's: the statistics and the audit log read these.
                self.statement.outcome.error = out.error.as_ref().map_or(0, |e| e.code);
                if out.result_sets > 0 {
                    self.statement.outcome.returned_rows = Some(out.rows);
                } else {
                    self.statement.outcome.affected_rows = Some(out.affected_rows);
                }
                if let Some(e) = &out.error {
                    self.after_statement_error(e.code).await;
                }
            }
            Err(e) => {
                self.finish(lease);
                self.relay_failed(dnid, e)?;
                self.after_lost_branch(dnid).await;
            }
        }
        Ok(())
    }

    /// Runs an execution that needs several data nodes as text with its parameters
    /// bound as literals; result rows are converted to the binary protocol.
    async fn execute_several(
        &mut self,
        sql: &str,
        values: &[KeyLiteral],
    ) -> Result<(), SessionError> {
        let no_backslash_escapes = self
            .state
            .vars
            .get("sql_mode")
            .is_some_and(|m| m.to_ascii_uppercase().contains("NO_BACKSLASH_ESCAPES"));
        let literals: Result<Vec<String>, MysqlError> = values
            .iter()
            .map(|v| sql_literal(v, no_backslash_escapes))
            .collect();
        let text = literals.and_then(|l| {
            strata_sql::inline_params(sql, &l).map_err(|e| super::query::sql_error(&e))
        });
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        let reply = super::ReplyFormat {
            more: false,
            binary: true,
        };
        let result = self.planned(&text, text.as_bytes(), reply).await;
        self.set_info(None);
        result.map(|_| ())
    }

    pub(super) async fn stmt_fetch(&mut self, id: u32, rows: u32) -> Result<(), SessionError> {
        let Some(stmt) = self.prepared.statements.get(&id) else {
            self.err(&unknown_statement(id, "mysqld_stmt_fetch"));
            return Ok(());
        };
        let sql = stmt.sql.clone();
        let cursor_node = stmt.cursor_node;
        let Some(mut lease) = cursor_node.and_then(|n| self.backends.take(n)) else {
            self.err(&MysqlError::new(
                codes::UNKNOWN,
                format!("The statement ({id}) has no open cursor"),
            ));
            return Ok(());
        };
        let dnid = lease.target().dnid;
        let backend_id = match lease.ensure_prepared(&sql).await {
            Ok(p) => p.id,
            Err(e) => {
                self.finish(lease);
                self.err(&backend_error(dnid, &e));
                return Ok(());
            }
        };
        let mut b = BytesMut::with_capacity(8);
        b.put_u32_le(backend_id);
        b.put_u32_le(rows);
        lease.queue_command(com::STMT_FETCH, &b);
        let mode = relay_mode!(self, false);
        let outcome = lease.relay_fetch(&mut self.client.conn, mode).await;
        match outcome {
            Ok(out) => {
                if out.error.is_some() || out.status & status::LAST_ROW_SENT != 0 {
                    if let Some(stmt) = self.prepared.statements.get_mut(&id) {
                        stmt.cursor_node = None;
                    }
                }
                self.finish(lease);
            }
            Err(e) => {
                if let Some(stmt) = self.prepared.statements.get_mut(&id) {
                    stmt.cursor_node = None;
                }
                self.finish(lease);
                self.relay_failed(dnid, e)?;
            }
        }
        Ok(())
    }

    pub(super) fn stmt_close(&mut self, id: u32) {
        self.prepared.statements.remove(&id);
    }

    pub(super) async fn stmt_reset(&mut self, id: u32) -> Result<(), SessionError> {
        let Some(stmt) = self.prepared.statements.get_mut(&id) else {
            self.err(&unknown_statement(id, "mysqld_stmt_reset"));
            return Ok(());
        };
        stmt.long_data.clear();
        let had_cursor = stmt.cursor_node.take();
        let sql = stmt.sql.clone();
        if let Some(node) = had_cursor {
            if let Some(mut lease) = self.backends.take(node) {
                if let Ok(p) = lease.ensure_prepared(&sql).await {
                    lease.queue_command(com::STMT_RESET, &p.id.to_le_bytes());
                    if lease.flush().await.is_err() || lease.read_ok().await.is_err() {
                        lease.mark_broken();
                    }
                }
                self.finish(lease);
            }
        }
        let ok = OkPacket {
            status: self.status(),
            ..OkPacket::default()
        };
        self.client.write_ok(ok);
        Ok(())
    }

    pub(super) fn stmt_send_long_data(&mut self, id: u32, param: u16, data: &[u8]) {
        if let Some(stmt) = self.prepared.statements.get_mut(&id) {
            if usize::from(param) < stmt.params {
                stmt.long_data
                    .entry(param)
                    .or_default()
                    .extend_from_slice(data);
            }
        }
    }
}

/// A COM_STMT_EXECUTE's parameter values as literals for routing; a parameter sent
/// with COM_STMT_SEND_LONG_DATA is a string.
fn key_literals(values: &[ParamValue<'_>], long_data: &HashMap<u16, Vec<u8>>) -> Vec<KeyLiteral> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| match value {
            ParamValue::Null => KeyLiteral::Null,
            ParamValue::LongData => KeyLiteral::String(
                u16::try_from(i)
                    .ok()
                    .and_then(|p| long_data.get(&p))
                    .cloned()
                    .unwrap_or_default(),
            ),
            ParamValue::Int(v) => KeyLiteral::Integer(v.to_string()),
            ParamValue::UInt(v) => KeyLiteral::Integer(v.to_string()),
            ParamValue::Float(v) => KeyLiteral::Number(v.to_string()),
            ParamValue::Double(v) => KeyLiteral::Number(v.to_string()),
            ParamValue::Decimal(text) => {
                KeyLiteral::Number(String::from_utf8_lossy(text).into_owned())
            }
            ParamValue::Date(d) => KeyLiteral::String(
                format!("{:04}-{:02}-{:02}", d.year, d.month, d.day).into_bytes(),
            ),
            ParamValue::DateTime(d) => {
                let mut text = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d.year, d.month, d.day, d.hour, d.minute, d.second
                );
                if let Some(micros) = d.micros {
                    text.push_str(&format!(".{micros:06}"));
                }
                KeyLiteral::String(text.into_bytes())
            }
            ParamValue::Time(t) => {
                let sign = if t.negative { "-" } else { "" };
                // Days as hours, as MySQL prints a TIME over 24 hours.
                let hours = u64::from(t.days) * 24 + u64::from(t.hours);
                let mut text = format!("{sign}{hours:02}:{:02}:{:02}", t.minutes, t.seconds);
                if t.micros != 0 {
                    text.push_str(&format!(".{:06}", t.micros));
                }
                KeyLiteral::String(text.into_bytes())
            }
            ParamValue::Bytes(b) => KeyLiteral::String(b.to_vec()),
        })
        .collect()
}

/// A parameter value as an SQL literal in the statement text. Strings stay in the
/// connection's character set (only `'`, and `\` unless NO_BACKSLASH_ESCAPES, are
/// escaped); bytes that are not UTF-8 become a hexadecimal (binary) literal.
pub(super) fn sql_literal(
    value: &KeyLiteral,
    no_backslash_escapes: bool,
) -> Result<String, MysqlError> {
    let hex = |b: &[u8]| {
        let mut s = String::with_capacity(3 + 2 * b.len());
        s.push_str("X'");
        for x in b {
            s.push_str(&format!("{x:02X}"));
        }
        s.push('\'');
        s
    };
    Ok(match value {
        KeyLiteral::Null => "NULL".into(),
        KeyLiteral::Integer(t) => t.clone(),
        KeyLiteral::Number(t) => {
            if t.parse::<f64>().map_or(true, |f| !f.is_finite()) {
                return Err(MysqlError::new(
                    codes::WRONG_VALUE_FOR_VAR,
                    format!("Incorrect numeric parameter value '{t}'"),
                ));
            }
            t.clone()
        }
        KeyLiteral::Bytes(b) => hex(b),
        KeyLiteral::String(b) => match std::str::from_utf8(b) {
            Ok(s) => {
                let mut out = String::with_capacity(s.len() + 2);
                out.push('\'');
                for c in s.chars() {
                    match c {
                        '\'' => out.push_str("''"),
                        '\\' if !no_backslash_escapes => out.push_str("\\\\"),
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            Err(_) => hex(b),
        },
    })
}
