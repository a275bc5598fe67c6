//! COM_QUERY: split multi-statements, classify each statement, answer it locally when
//! the compute node owns the answer (USE, SET bookkeeping, SHOW DATABASES, driver
//! variables, KILL), otherwise forward its original text to the data node and relay
//! the reply.

use std::borrow::Cow;
use std::sync::Arc;

use strata_backend::ResponseKind;
use strata_protocol::constants::com;
use strata_protocol::{codes, MysqlError};
use strata_sql::{
    classify_head, code_tokens, contains_ignore_ascii_case, split_statements, ByteSummary,
    SqlError, StatementKind,
};

use super::isolation::mentions_information_schema;
use super::optimizer_trace::untraced_select;
use super::server_data::ServerData;
use super::{Answer, Handled, ReplyFormat, Session, SessionError};
use strata_catalog::DataNodeId;

/// Maps a parser error to the client's error.
pub(crate) fn sql_error(e: &SqlError) -> MysqlError {
    let code = match e {
        SqlError::Syntax { .. } => codes::PARSE,
        SqlError::WrongValue { .. } => codes::WRONG_VALUE_FOR_VAR,
        SqlError::Unsupported(_) => codes::NOT_SUPPORTED,
    };
    MysqlError::new(code, e.to_string())
}

pub(super) use super::connection_state::{
    connection_state, creates_connection_state, reads_user_variables, runs_routine_body,
    ConnectionState,
};

/// True when the statement's first word is `word`.
pub(super) fn starts_with_word(sql: &str, word: &str) -> bool {
    code_tokens(sql)
        .next()
        .is_some_and(|t| t.kind == strata_sql::TokenKind::Ident && t.is_keyword(sql, word))
}

/// True for statements starting ANALYZE/CHECK/OPTIMIZE/REPAIR/CHECKSUM (the planner
/// places them; MariaDB's `ANALYZE SELECT` is one too).
fn starts_maintenance(sql: &str) -> bool {
    code_tokens(sql).next().is_some_and(|t| {
        ["ANALYZE", "CHECK", "OPTIMIZE", "REPAIR", "CHECKSUM"]
            .iter()
            .any(|k| t.is_keyword(sql, k))
    })
}

/// True for `ANALYZE/CHECK/OPTIMIZE/REPAIR/CHECKSUM [NO_WRITE_TO_BINLOG] TABLE ...`,
/// whose rows name tables.
pub(super) fn is_table_maintenance(sql: &str) -> bool {
    starts_maintenance(sql)
        && code_tokens(sql)
            .skip(1)
            .take(2)
            .any(|t| t.is_keyword(sql, "TABLE") || t.is_keyword(sql, "TABLES"))
}

/// The first two keywords, uppercased, for statements whose second word matters.
fn second_keyword(sql: &str) -> Option<String> {
    let mut toks = code_tokens(sql).filter(|t| t.kind.is_ident());
    toks.next()?;
    let t = toks.next()?;
    Some(t.text(sql).to_ascii_uppercase())
}

impl Session {
    pub(super) async fn com_query(&mut self, request: &bytes::Bytes) -> Result<(), SessionError> {
        let body = request.get(1..).unwrap_or_default();
        // Validating is much cheaper than from_utf8_lossy's chunking, which only
        // non-UTF-8 statements need.
        let sql: Cow<'_, str> = match std::str::from_utf8(body) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(body),
        };
        self.set_info(Some(request.slice(1..)));
        let result = if !ByteSummary::of(body).semicolon() {
            self.audited(&sql, body, false).await.map(|_| ())
        } else {
            let parts = split_statements(&sql);
            if parts.len() <= 1 {
                // A query of comments holding `;` splits into no statement: MariaDB
                // answers it with OK, as any other query of comments alone.
                let nothing = if strata_sql::only_comments(&sql) {
                    &*sql
                } else {
                    ""
                };
                let one = parts.first().copied().unwrap_or(nothing);
                let raw = if matches!(sql, Cow::Borrowed(_)) {
                    one.as_bytes()
                } else {
                    body
                };
                self.audited(one, raw, false).await.map(|_| ())
            } else if !self.client.multi_statements {
                let near = parts[1];
                // MariaDB counts the question its parser refuses.
                self.status.question(&self.ctx.metrics.status, None);
                self.err(&MysqlError::parse(&format!("; {near}"), 1));
                Ok(())
            } else if matches!(sql, Cow::Owned(_)) {
                self.non_utf8_statements(body).await
            } else {
                let n = parts.len();
                let mut out = Ok(());
                for (i, part) in parts.iter().enumerate() {
                    match self.audited(part, part.as_bytes(), i + 1 < n).await {
                        Ok(Answer::Ok) => {}
                        Ok(Answer::Failed) => break,
                        Err(e) => {
                            out = Err(e);
                            break;
                        }
                    }
                }
                out
            }
        };
        self.set_info(None);
        result
    }

    pub(super) fn set_info(&self, sql: Option<bytes::Bytes>) {
        if sql.is_some() {
            let id = self.ctx.next_query_id();
            self.identity
                .entry
                .query_id
                .store(id, std::sync::atomic::Ordering::Relaxed);
        }
        *self
            .identity
            .entry
            .info
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = sql;
    }

    /// Handles one statement; Ok(Answer::Failed) when it failed (an ERR was written).
    pub(super) async fn statement(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        if sql.trim().is_empty() {
            self.err(&MysqlError::new(codes::EMPTY_QUERY, "Query was empty"));
            return Ok(Answer::Failed);
        }
        if strata_sql::only_comments(sql) {
            // MariaDB's parser answers a query of comments alone with OK (main.comments).
            self.ok(0, more);
            return Ok(Answer::Ok);
        }
        let (kind, trivial_select) = classify_head(sql);
        self.statement.kind = Some(kind);
        let bytes = ByteSummary::of(raw);
        self.statement.reads_user_vars = reads_user_variables(sql, bytes);
        self.refresh_account();
        if let Err(e) = self.refuse_while_rejoining(kind) {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        if kind == StatementKind::Set && strata_sql::is_set_statement(sql) {
            return self.set_statement_for(sql, raw, more).await;
        }
        // mysql-test's anonymous account includes write `mysql.global_priv` rows: they
        // are Strata's accounts.
        let global_priv = matches!(kind, StatementKind::Insert | StatementKind::Delete)
            .then(|| strata_sql::global_priv_write(sql))
            .flatten();
        if let Some(write) = global_priv {
            if let Err(e) = self.pass_read_lock(sql, kind, None).await {
                self.err(&e);
                return Ok(Answer::Failed);
            }
            return Ok(self.global_priv_rows(write, more).await);
        }
        if strata_sql::guard::is_account_statement(sql, kind) {
            if let Err(e) = self.pass_read_lock(sql, kind, None).await {
                self.err(&e);
                return Ok(Answer::Failed);
            }
            return Ok(self.account_statement(sql, more).await);
        }
        if kind == StatementKind::Other {
            if let Handled::Answered(done) = self.own_statement(sql, more) {
                return Ok(done);
            }
        }
        // A compound statement with dynamic SQL runs here, as a procedure's body would.
        if let Some(done) = self.interpreted_compound(sql, more).await {
            return done;
        }
        // A DEFINER clause is Strata's to record: the storage node's object is the
        // storage account's.
        let without_definer = match self.take_definer_clause(sql, kind) {
            Ok(text) => text,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let (sql, raw) = match &without_definer {
            Some(text) => (text.as_str(), text.as_bytes()),
            None => (sql, raw),
        };
        // LOAD_FILE() reads the compute node's host when `secure_file_priv` allows it:
        // its values are written into the text, which is then checked as any other.
        let loaded = match self.substitute_load_files(sql, raw, kind, bytes) {
            Ok(text) => text,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let (sql, raw, bytes) = match &loaded {
            Some(text) => (
                text.as_str(),
                text.as_bytes(),
                ByteSummary::of(text.as_bytes()),
            ),
            None => (sql, raw, bytes),
        };
        // Default deny: what follows answers, plans or forwards only statements that
        // passed, for accounts allowed to run them; what identifies a storage server is
        // replaced by the compute node's own.
        // PREPARE/EXECUTE IMMEDIATE of an expression: its value is what is checked.
        let mut dynamic = None;
        if matches!(kind, StatementKind::Prepare | StatementKind::Execute) {
            match self.dynamic_text(sql, kind).await {
                Ok(text) => dynamic = text,
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            }
        }
        // `mysql.user` and `mysql.proc` are Strata's to answer (their own checks first).
        if dynamic.is_none() {
            if let Some(done) = self.mysql_tables_query(sql, kind, more).await {
                return done;
            }
        }
        // Files of the compute node's own host, when `secure_file_priv` allows them
        // (the statement's checks are made there); otherwise the guard refuses them.
        if dynamic.is_none() {
            if let Some(done) = self.server_file_statement(sql, kind, bytes, more).await {
                return done;
            }
        }
        let checked = match &dynamic {
            Some(text) => self.check_dynamic(text, kind),
            None => self
                .guard_as(sql, kind, bytes, true)
                .and_then(|()| self.authorize(sql, kind)),
        };
        let checked = checked
            .and_then(|()| self.authorize_prepared(sql, kind, dynamic.as_deref()))
            .and_then(|()| self.dynamic_set_privileges(sql, kind, dynamic.as_deref()));
        if let Err(e) = checked {
            let expr = dynamic.as_ref().and_then(|_| {
                match strata_sql::dynamic::dynamic_source(sql, kind)?.source {
                    strata_sql::dynamic::DynamicSource::Evaluable(expr) => Some(expr),
                    _ => None,
                }
            });
            let e = match expr {
                Some(_) if e.code != 1064 => e,
                Some(expr) => self.dynamic_rejection(expr, e).await,
                None => {
                    let e = self.unknown_variable_first(sql, e).await;
                    let e = self.first_column_named(sql, kind, e).await;
                    self.mariadb_rejection(sql, e).await
                }
            };
            self.err(&e);
            return Ok(Answer::Failed);
        }
        if dynamic.is_none() {
            if let Err(e) = self.authorize_explained_views(sql, kind).await {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        }
        let invoker_checked = match &dynamic {
            Some(text) => {
                self.authorize_invoker_views(text, strata_sql::classify(text))
                    .await
            }
            None => self.authorize_invoker_views(sql, kind).await,
        };
        if let Err(e) = invoker_checked {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        let screened = match &dynamic {
            Some(text) => self.firewall(text, strata_sql::classify(text)).await,
            None => self.firewall(sql, kind).await,
        };
        if let Err(e) = screened {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        let engine_checked = match &dynamic {
            Some(text) => {
                self.check_unknown_engine(text, strata_sql::classify(text))
                    .await
            }
            None => self.check_unknown_engine(sql, kind).await,
        };
        if let Err(e) = engine_checked {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        // FLUSH TABLES WITH READ LOCK holds statements that change data back.
        if let Err(e) = self.pass_read_lock(sql, kind, dynamic.as_deref()).await {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        // Server-wide tables of `mysql` (storage globals settable): statistics read as
        // the account's rows, writes on every data node.
        let server_data;
        let (sql, raw) = match self
            .server_data_statement(sql, raw, kind, dynamic.as_deref(), more)
            .await?
        {
            ServerData::NotMine => (sql, raw),
            ServerData::Read(text) => {
                server_data = text;
                (server_data.as_str(), server_data.as_bytes())
            }
            ServerData::Answered(done) => return Ok(done),
        };
        // A procedure the compute node runs is kept on the data node under a definer
        // that cannot run it there.
        let fenced;
        let (sql, raw) = match kind {
            StatementKind::Create => match self.check_create_procedure(sql) {
                Ok(Some(text)) => {
                    fenced = text;
                    let outer = self.statement.variables.as_deref().unwrap_or("");
                    self.statement.variables =
                        Some(format!("{outer}{}", super::interp::FENCE_NOTES).into());
                    (fenced.as_str(), fenced.as_bytes())
                }
                Ok(None) => (sql, raw),
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            },
            StatementKind::Alter => match self.check_alter_procedure(sql).await {
                Ok(()) => (sql, raw),
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            },
            _ => (sql, raw),
        };
        // A procedure with dynamic SQL runs here, statement by statement (see `interp`).
        if kind == StatementKind::Call {
            if let Some(done) = self.interpreted_call(sql, more).await {
                return done;
            }
        }
        if let Some(done) = self.execute_show(sql, kind, dynamic.as_deref(), more).await {
            return done;
        }
        if let Some(done) = self
            .execute_planned(sql, kind, dynamic.as_deref(), more)
            .await
        {
            return done;
        }
        if kind == StatementKind::Prepare {
            if let Some(done) = self.prepare_show(sql, dynamic.as_deref(), more).await {
                return done;
            }
            if let Some(done) = self.prepare_planned(sql, dynamic.as_deref(), more).await {
                return done;
            }
            match self.prepare_information_schema(sql, dynamic.as_deref()) {
                Some(Ok(text)) => return self.forward(&text, text.as_bytes(), more).await,
                Some(Err(e)) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
                None => {}
            }
        }
        if kind == StatementKind::Execute {
            if let Some(done) = self
                .execute_immediate_planned(sql, dynamic.as_deref(), more)
                .await
            {
                return done;
            }
        }
        // Connect-time SELECTs are answered from the text as sent: masking turns their
        // variables into literals.
        let unmasked = sql;
        let masked = self.mask_variables(sql, bytes);
        let (sql, raw): (&str, &[u8]) = match &masked {
            Cow::Owned(m) => (m.as_str(), m.as_bytes()),
            Cow::Borrowed(_) => (sql, raw),
        };
        // ROW_COUNT(), LAST_INSERT_ID(), CONNECTION_ID(), USER() ... are the session's,
        // which only the compute node knows: written into the text (a SELECT of one
        // alone is answered below from the text as sent).
        let own = match self.substitute_session_values(sql, kind, bytes) {
            Ok(own) => own,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let (sql, raw): (&str, &[u8]) = own.as_ref().map_or((sql, raw), |c| (c, c.as_bytes()));
        // The digest of a masked text is not the statement's.
        let as_sent = matches!(masked, Cow::Borrowed(_)) && own.is_none();
        self.statement.writes = super::transaction::may_write(kind);
        // A view changed: the sessions' lists of invoker views are read again.
        super::invoker_views::note_statement(kind);
        let asks_for_warnings = kind == StatementKind::Show && {
            let second = second_keyword(sql);
            matches!(
                second.as_deref(),
                Some("WARNINGS") | Some("ERRORS") | Some("COUNT")
            )
        };
        if !asks_for_warnings && self.backends.keep_for_warnings {
            self.backends.keep_for_warnings = false;
            self.refinish_pinned();
        }
        if self.coordinated() || (kind == StatementKind::Begin && self.may_span_nodes_later()) {
            if let Handled::Answered(done) = self.coordinated_statement(sql, kind, more).await? {
                return Ok(done);
            }
        }
        if matches!(kind, StatementKind::Commit | StatementKind::Rollback) {
            if let Some(done) = self.complete_and_release(sql, kind, more).await {
                return done;
            }
        }
        // CURRENT_ROLE() on a storage node is the storage session's (none): with a role
        // enabled, only the compute node's answer is right.
        let answered_here = kind == StatementKind::Select
            && trivial_select
            && self.statement.variables.is_none()
            && strata_sql::parse_simple_select(unmasked).is_some();
        if !answered_here && self.current_role_would_be_wrong(sql) {
            self.err(&MysqlError::not_supported(
                "CURRENT_ROLE() inside a statement sent to a storage node while a role is enabled (SELECT it alone)",
            ));
            return Ok(Answer::Failed);
        }
        if self.state.multi_node
            && matches!(kind, StatementKind::Set | StatementKind::Do)
            && sql.contains('(')
        {
            if let Err(e) = self.check_stored_functions(sql).await {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        }
        let result = match kind {
            StatementKind::Use => match strata_sql::parse_use(sql) {
                Ok(db) => self.use_tracked(&db).map(|()| self.ok(0, more)),
                Err(e) => Err(sql_error(&e)),
            },
            StatementKind::Set => return self.set_statement(sql, raw, more).await,
            StatementKind::Show => return self.show(sql, raw, more).await,
            StatementKind::Select => {
                // Under SET STATEMENT the storage node answers, with the variables.
                if trivial_select && self.statement.variables.is_none() {
                    if let Some(select) = strata_sql::parse_simple_select(unmasked) {
                        if let Some(result) = self.answer_select(&select) {
                            // Like SHOW WARNINGS, reading the counts clears nothing.
                            self.statement.warnings = self.backends.warned.1.take();
                            self.statement.outcome.node_mask = self.backends.warned.0;
                            self.write_local(&result, more);
                            return Ok(Answer::Ok);
                        }
                    }
                }
                self.statement.leaves_unknown_state = runs_routine_body(sql, kind);
                self.note_connection_state(connection_state(sql, kind, bytes));
                if mentions_information_schema(sql) || self.reads_information_schema(sql, kind) {
                    return self.information_schema_query(sql, more).await;
                }
                // Hints are comments: text without `/` has none (no lexing then).
                let hint = bytes
                    .slash()
                    .then(|| strata_sql::rw::rw_hint(sql))
                    .flatten();
                self.statement.replica_read = self.replica_read(sql, hint);
                if self.needs_planner(sql, kind, bytes) {
                    if let Some(into) = super::select_into::split_select_into(sql) {
                        return self.select_into(&into, more).await;
                    }
                    self.statement.keep_digest = as_sent;
                    return self.planned(sql, raw, ReplyFormat::text(more)).await;
                }
                if bytes.slash() {
                    if let Some(plain) = strata_sql::rw::without_rw_hints(sql) {
                        return self.forward(&plain, plain.as_bytes(), more).await;
                    }
                }
                return self.forward(sql, raw, more).await;
            }
            StatementKind::Commit
            | StatementKind::Rollback
            | StatementKind::RollbackToSavepoint
            | StatementKind::Savepoint
            | StatementKind::Release => {
                if let Handled::Answered(done) = self.transaction_control(sql, more).await {
                    return Ok(done);
                }
                return self.forward(sql, raw, more).await;
            }
            StatementKind::Kill => match strata_sql::parse_kill(sql) {
                Ok(k) => {
                    self.kill_statement(k).await;
                    // A failed KILL ends a multi-statement query as any error does.
                    return Ok(if self.statement.outcome.error != 0 {
                        Answer::Failed
                    } else {
                        Answer::Ok
                    });
                }
                Err(e) => Err(sql_error(&e)),
            },
            // Strata places the client's rows itself; never forwarded.
            // (LOAD INDEX INTO CACHE is run as table maintenance, below.)
            StatementKind::Load if strata_sql::key_cache_op(sql).is_none() => {
                return self.load_data(sql, more).await
            }
            StatementKind::Create | StatementKind::Drop | StatementKind::Alter
                if strata_sql::is_database_statement(sql) =>
            {
                return self.database_statement(sql, more).await;
            }
            _ => {
                if kind == StatementKind::Other {
                    if let Some(flush) = strata_sql::flush_kind(sql) {
                        return self.flush(flush, sql, raw, more).await;
                    }
                    if starts_with_word(sql, "HANDLER") {
                        return self.handler(sql, raw, more).await;
                    }
                }
                if kind == StatementKind::Lock {
                    if let Err(e) = self.lock_tables_on_home(sql) {
                        self.err(&e);
                        return Ok(Answer::Failed);
                    }
                }
                let marks = self.backends.state_marks();
                self.statement.leaves_unknown_state = runs_routine_body(sql, kind);
                let mut state = connection_state(sql, kind, bytes);
                if kind == StatementKind::Create && self.needs_planner(sql, kind, bytes) {
                    // A temporary table the planner places binds only statements that
                    // name it to the pinned connection (see `temporary_tables`).
                    state = state.min(super::connection_state::ConnectionState::UserVariables);
                }
                self.note_connection_state(state);
                if mentions_information_schema(sql) || self.reads_information_schema(sql, kind) {
                    // Strata shows information_schema tables' columns itself.
                    if kind == StatementKind::Explain {
                        if let Some(show) = strata_sql::describe_as_show_columns(sql) {
                            return self.show(&show, show.as_bytes(), more).await;
                        }
                    }
                    return self.information_schema_query(sql, more).await;
                }
                if kind == StatementKind::Explain {
                    // DESCRIBE of a view over several data nodes: as SHOW COLUMNS.
                    if let Some(show) = strata_sql::describe_as_show_columns(sql) {
                        let view = matches!(
                            strata_sql::parse_show(&show),
                            Ok(strata_sql::Show::Columns { ref table, .. }) if self.names_a_view(table)
                        );
                        if view {
                            return self.show(&show, show.as_bytes(), more).await;
                        }
                    }
                }
                let plannable = matches!(
                    kind,
                    StatementKind::Insert
                        | StatementKind::Replace
                        | StatementKind::Update
                        | StatementKind::Delete
                        | StatementKind::Create
                        | StatementKind::Alter
                        | StatementKind::Drop
                        | StatementKind::Truncate
                        | StatementKind::Rename
                        | StatementKind::Explain
                        | StatementKind::Call
                ) || (kind == StatementKind::Other
                    && (starts_maintenance(sql) || strata_sql::is_compound_statement(sql)));
                // CACHE INDEX / LOAD INDEX INTO CACHE answer rows naming tables, as
                // table maintenance does.
                let key_cache = matches!(kind, StatementKind::Other | StatementKind::Load)
                    && strata_sql::key_cache_op(sql).is_some();
                let plannable = plannable || key_cache;
                let maintenance =
                    key_cache || (kind == StatementKind::Other && is_table_maintenance(sql));
                let planned = plannable && self.needs_planner(sql, kind, bytes);
                if maintenance && (planned || self.ctx.topology.names_differ) {
                    return self.table_maintenance(sql, planned, more).await;
                }
                let answer = if planned {
                    self.statement.keep_digest = as_sent;
                    self.planned(sql, raw, ReplyFormat::text(more)).await?
                } else {
                    self.forward(sql, raw, more).await?
                };
                if answer == Answer::Failed && kind == StatementKind::Create {
                    // A refused CREATE TEMPORARY created nothing the connection holds.
                    self.backends.restore_marks(marks);
                }
                self.record_definer(answer);
                return Ok(answer);
            }
        };
        match result {
            Ok(()) => Ok(Answer::Ok),
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// A transaction begun without a current database may go on in a database over
    /// several data nodes after a USE (mariadb-dump begins its transaction first): it
    /// begins coordinated, so savepoints and later branches are kept on every node.
    fn may_span_nodes_later(&self) -> bool {
        self.state.db.is_none()
            && self.ctx.xa.xa()
            && self
                .ctx
                .topology
                .dbs()
                .iter()
                .any(|db| db.data_nodes.len() > 1)
    }

    /// What a session whose transactions the compute node coordinates does before (or
    /// instead of) running a statement: transaction control, implicit commits, the
    /// autocommit-off transaction start. `NotMine`: run the statement as usual.
    pub(super) async fn coordinated_statement(
        &mut self,
        sql: &str,
        kind: StatementKind,
        more: bool,
    ) -> Result<Handled, SessionError> {
        use StatementKind as K;
        match kind {
            K::Begin
            | K::Commit
            | K::Rollback
            | K::RollbackToSavepoint
            | K::Savepoint
            | K::Release => {
                return Ok(Handled::Answered(
                    match strata_sql::parse_transaction(sql) {
                        Ok(stmt) => self.transaction_statement(stmt, more).await?,
                        Err(e) => {
                            self.err(&sql_error(&e));
                            Answer::Failed
                        }
                    },
                ));
            }
            K::Xa => {
                self.err(&MysqlError::not_supported(
                    "XA statements from clients in a database spanning several data nodes (Strata runs XA itself; use BEGIN/COMMIT)",
                ));
                return Ok(Handled::Answered(Answer::Failed));
            }
            _ => {}
        }
        if let Err(e) = self.implicit_commit(kind).await {
            self.err(&e);
            return Ok(Handled::Answered(Answer::Failed));
        }
        match kind {
            K::Lock => self.txn.table_locks = true,
            K::Unlock => self.txn.table_locks = false,
            _ => {}
        }
        if let Some(e) = self.read_only_refusal(kind) {
            self.err(&e);
            return Ok(Handled::Answered(Answer::Failed));
        }
        self.auto_begin(kind);
        Ok(Handled::NotMine)
    }

    /// Sends `raw` to the home data node and relays the reply.
    pub(super) async fn forward(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let (dnid, physical) = match self.home_node() {
            Ok(v) => v,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        self.forward_to(dnid, physical, sql, raw, more).await
    }

    /// Sends `raw` to data node `dnid` and relays the reply (the single-node fast path).
    pub(super) async fn forward_to(
        &mut self,
        dnid: DataNodeId,
        physical: Option<Arc<str>>,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let rewritten: Vec<u8>;
        let mut raw = if self.ctx.topology.names_differ && sql.contains('.') {
            rewritten = match self.rewrite_names_in_bytes(sql, raw, dnid) {
                Ok(bytes) => bytes,
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            };
            &rewritten
        } else {
            raw
        };
        let with_variables;
        if let Some(prefix) = &self.statement.variables {
            with_variables = [prefix.as_bytes(), raw].concat();
            raw = &with_variables;
        }
        let mut lease = match self.lease(dnid, physical.as_deref()).await {
            Ok(l) => l,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        self.note_backend(Some(&lease));
        self.backends.trace.note_sent(raw, dnid, lease.thread_id());
        lease.queue_command(com::QUERY, raw);
        let mut mode = relay_mode!(self, more);
        mode.hold_final_ok = !self.state.pending_track.is_empty();
        mode.swap_error = self.hidden_values(sql);
        let outcome = lease
            .relay(&mut self.client.conn, ResponseKind::Results, mode)
            .await;
        self.note_backend(None);
        let failed_code;
        let ok = match outcome {
            Ok(mut out) => {
                if out.error.is_none() {
                    if let Some(mut vars) = self.state.pending_vars.take() {
                        let names = &self.state.pending_eval;
                        let tracing = self.backends.trace.on;
                        let evaluated = super::set_statement::evaluate_expressions(
                            &mut lease, &mut vars, names, tracing,
                        )
                        .await;
                        if evaluated.is_err() {
                            lease.mark_broken();
                        }
                        self.state.vars = vars;
                        lease.note_applied_vars(&self.state.vars);
                    }
                }
                if let Some(held) = out.held_ok.take() {
                    self.write_held_ok(&mut lease, held).await;
                }
                // LAST_INSERT_ID(expr) set the connection's value, which a result set
                // does not report: read it back (argument-less calls were substituted).
                // The byte search first: this runs for every forwarded statement.
                let sets_it = out.error.is_none()
                    && (contains_ignore_ascii_case(sql.as_bytes(), b"last_insert_id")
                        || contains_ignore_ascii_case(sql.as_bytes(), b"identity"))
                    && !strata_sql::split::is_compound_statement(sql)
                    && strata_sql::classify(sql) != StatementKind::Create
                    && strata_sql::sets_last_insert_id(sql);
                if !sets_it {
                    self.settle_insert_id(&mut lease, sql, out.last_insert_id, false)
                        .await;
                } else {
                    let read = untraced_select("SELECT LAST_INSERT_ID()", self.backends.trace.on);
                    match lease.query(&read).await {
                        Ok(rows) => {
                            let value = rows.first().and_then(|r| r.first().cloned().flatten());
                            if let Some(id) = value.and_then(|v| v.parse().ok()) {
                                self.state.last_insert_id = id;
                            }
                        }
                        Err(_) => lease.mark_broken(),
                    }
                }
                if out.warnings > 0 {
                    self.backends.keep_for_warnings = true;
                }
                failed_code = out.error.as_ref().map(|e| e.code);
                self.statement.outcome.error = failed_code.unwrap_or(0);
                if out.result_sets > 0 {
                    self.statement.outcome.returned_rows = Some(out.rows);
                } else {
                    self.statement.outcome.affected_rows = Some(out.affected_rows);
                }
                if out.error.is_none() {
                    Answer::Ok
                } else {
                    Answer::Failed
                }
            }
            Err(e) => {
                self.finish(lease);
                self.relay_failed(dnid, e)?;
                self.after_lost_branch(dnid).await;
                return Ok(Answer::Failed);
            }
        };
        self.finish(lease);
        if let Some(code) = failed_code {
            self.after_statement_error(code).await;
        }
        Ok(ok)
    }

    /// Replaces logical database qualifiers with the physical names on the home node.
    pub(super) fn rewrite_schemas(&self, sql: &str) -> String {
        self.rewrite_schemas_for(sql, None)
    }

    /// Replaces logical database qualifiers with physical names on data node `dnid`
    /// (a database not on that node maps to its home node's name).
    pub(super) fn rewrite_schemas_for(&self, sql: &str, dnid: Option<DataNodeId>) -> String {
        super::distributed::rewrite_schemas(&self.ctx.topology, sql, dnid)
    }
}
