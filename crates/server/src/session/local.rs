//! Answers the compute node gives itself: SHOW statements about logical objects, the
//! variables and functions drivers read on connect, KILL and COM_STATISTICS.

use std::sync::atomic::Ordering;

use strata_protocol::packets::ColumnDef;
use strata_protocol::{codes, MysqlError};
use strata_sql::{SelectExpr, SelectFunction, SelectLiteral, Show, ShowFilter, SimpleSelect};

use super::handshake::ServerIdentity;
use super::isolation::logical_or_refused;
use super::query::sql_error;
use super::{backend_error, Answer, Handled, ReplyFormat, Session, SessionError};
use crate::context::ServerContext;
use crate::results::{like_matches, LocalResult};
use strata_catalog::DataNodeId;

/// COM_STATISTICS' one-line report.
pub(super) fn statistics(ctx: &ServerContext) -> String {
    let uptime = ctx.started.elapsed().as_secs().max(1);
    let questions = ctx.metrics.status.questions();
    format!(
        "Uptime: {uptime}  Threads: {}  Questions: {questions}  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: {:.3}",
        ctx.session_count(),
        questions as f64 / uptime as f64
    )
}

impl Session {
    /// Evaluates a driver's connect-time SELECT when every item is known locally.
    pub(super) fn answer_select(&self, select: &SimpleSelect) -> Option<LocalResult> {
        // MariaDB takes leading blanks off a column name, with a warning (1466, 1474):
        // the storage node answers a SELECT of literals so named (its answer tells
        // nothing of it).
        let blank_led =
            |i: &strata_sql::SelectItem| i.name.starts_with(|c: char| c.is_ascii_whitespace());
        if select.items.iter().any(blank_led)
            && select
                .items
                .iter()
                .all(|i| matches!(i.expr, SelectExpr::Literal(_)))
        {
            return None;
        }
        // A name from bytes that are not UTF-8 (a latin1 client's `SELECT 1 AS <0xE9>`)
        // reads here as U+FFFD: the storage node answers with the client's own bytes.
        if select.items.iter().any(|i| i.name.contains('\u{FFFD}')) {
            return None;
        }
        let mut columns = Vec::with_capacity(select.items.len());
        let mut row = Vec::with_capacity(select.items.len());
        for item in &select.items {
            let (col, value) = match &item.expr {
                SelectExpr::SysVar {
                    scope: Some(strata_sql::VarScope::Global),
                    name,
                } => {
                    // The compute node's own global value; else the storage node's
                    // (the session's values below are not global ones).
                    let v = self.ctx.globals.get(name)?;
                    if v.numeric && v.text == "NULL" {
                        (ColumnDef::varchar(&item.name), None)
                    } else if v.numeric && v.text.bytes().all(|b| b.is_ascii_digit()) {
                        (ColumnDef::bigint(&item.name, false), Some(v.text))
                    } else {
                        (ColumnDef::varchar(&item.name), Some(v.text))
                    }
                }
                SelectExpr::SysVar { name, .. } => {
                    let v = self.local_variable(name)?;
                    match v {
                        LocalValue::Int(i) => {
                            (ColumnDef::bigint(&item.name, false), Some(i.to_string()))
                        }
                        LocalValue::Unsigned(u) => {
                            (ColumnDef::bigint(&item.name, true), Some(u.to_string()))
                        }
                        LocalValue::Text(t) => (ColumnDef::varchar(&item.name), Some(t)),
                    }
                }
                SelectExpr::Function(f) => match f {
                    SelectFunction::Database => {
                        (ColumnDef::varchar(&item.name), self.state.db.clone())
                    }
                    // MariaDB's types: INT UNSIGNED NOT NULL of 10 digits, and BIGINT
                    // UNSIGNED NOT NULL.
                    SelectFunction::ConnectionId => (
                        not_null(ColumnDef {
                            col_type: strata_protocol::constants::coltype::LONG,
                            length: 10,
                            ..ColumnDef::bigint(&item.name, true)
                        }),
                        Some(self.identity.id.to_string()),
                    ),
                    SelectFunction::LastInsertId => (
                        not_null(ColumnDef::bigint(&item.name, true)),
                        Some(self.state.last_insert_id.to_string()),
                    ),
                    SelectFunction::Version => (
                        ColumnDef::varchar(&item.name),
                        Some(ServerIdentity::of(&self.ctx).version),
                    ),
                    SelectFunction::User
                    | SelectFunction::SessionUser
                    | SelectFunction::SystemUser => (
                        ColumnDef::varchar(&item.name),
                        Some(format!(
                            "{}@{}",
                            self.identity.user,
                            super::isolation::shown_host(&self.identity.entry.host)
                        )),
                    ),
                    SelectFunction::CurrentUser => (
                        ColumnDef::varchar(&item.name),
                        Some(format!(
                            "{}@{}",
                            self.identity.account.user,
                            self.identity.account.host.as_str()
                        )),
                    ),
                    SelectFunction::CurrentRole => {
                        (ColumnDef::varchar(&item.name), self.current_role())
                    }
                    SelectFunction::RowCount => (
                        ColumnDef::bigint(&item.name, false),
                        Some(self.state.row_count.to_string()),
                    ),
                    SelectFunction::FoundRows => return None,
                },
                SelectExpr::Literal(l) => match l {
                    SelectLiteral::Int(i) => {
                        let text = i.to_string();
                        (ColumnDef::int_literal(&item.name, text.len()), Some(text))
                    }
                    SelectLiteral::Number(_) | SelectLiteral::Str(_) | SelectLiteral::Null => {
                        return None
                    }
                },
            };
            columns.push(col);
            row.push(value);
        }
        let mut rows = vec![row];
        // One row: LIMIT 0 or any offset leaves none (`LIMIT 4294967296, 10`: main.limit).
        if select
            .limit
            .as_ref()
            .is_some_and(|l| l.count == 0 || l.offset > 0)
        {
            rows.clear();
        }
        Some(LocalResult { columns, rows })
    }

    /// System variables the compute node answers itself (the rest come from a storage node).
    /// `tx_read_only` is the storage connection's: a routine body may set it there.
    fn local_variable(&self, name: &str) -> Option<LocalValue> {
        Some(match name {
            "version" => LocalValue::Text(ServerIdentity::of(&self.ctx).version),
            "version_comment" => LocalValue::Text(ServerIdentity::of(&self.ctx).comment),
            // The session's own, taken at login (`SET GLOBAL` changes new sessions').
            "max_allowed_packet" => {
                LocalValue::Int(i64::try_from(self.client.conn.max_packet()).unwrap_or(i64::MAX))
            }
            "autocommit" => LocalValue::Int(i64::from(self.state.autocommit)),
            "tx_isolation" | "transaction_isolation" => {
                LocalValue::Text(self.state.isolation.as_str().to_string())
            }
            "last_insert_id" | "identity" => LocalValue::Unsigned(self.state.last_insert_id),
            // The previous statement's diagnostics when the compute node collected them
            // from several data nodes (the home connection knows its own only).
            "warning_count" | "error_count" => {
                let (_, rows) = self.backends.warned.1.as_ref()?;
                let errors = name == "error_count";
                let counted = rows
                    .iter()
                    .filter(|r| !errors || r.first().and_then(|l| l.as_deref()) == Some("Error"))
                    .count();
                LocalValue::Int(i64::try_from(counted).unwrap_or(i64::MAX))
            }
            _ => return None,
        })
    }

    /// SHOW: logical objects locally, the rest forwarded.
    pub(super) async fn show(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let show = match strata_sql::parse_show(sql) {
            Ok(s) => s,
            Err(e) => {
                self.err(&sql_error(&e));
                return Ok(Answer::Failed);
            }
        };
        let create_table = matches!(show, Show::CreateTable { .. });
        let sequence = matches!(show, Show::Other)
            .then(|| strata_sql::show_create_sequence(sql))
            .flatten();
        let result = match show {
            Show::Databases { filter } => self.show_databases(filter.as_ref()),
            Show::Tables { full, db, filter } => {
                self.show_tables(full, db.as_deref(), filter.as_ref()).await
            }
            Show::ProcessList { full } => {
                self.statement.process_states = self.storage_thread_states().await;
                Ok(self.show_processlist(full))
            }
            Show::AbnormalXaTrx => Ok(self.show_abnormal_xa()),
            Show::OpenTables { filter, .. } => self.show_open_tables(sql, filter.as_ref()).await,
            Show::CreateDatabase { db, if_not_exists } => {
                self.show_create_database(&db, if_not_exists).await
            }
            Show::Variables { .. } => return self.show_variables(sql, more).await,
            Show::TableStatus { db, .. } => {
                match logical_or_refused(&self.ctx.topology, db.as_deref()) {
                    Ok(()) => return self.show_table_status(sql, raw, db.as_deref(), more).await,
                    Err(e) => Err(e),
                }
            }
            Show::CreateTable { table } if self.names_a_view(&table) => {
                let db = table.schema.clone().or_else(|| self.state.db.clone());
                let own = db
                    .as_deref()
                    .and_then(|db| self.show_create_view(db, &table.name));
                own.unwrap_or_else(|| Err(MysqlError::no_database()))
            }
            Show::CreateTable { table } if self.is_recorded_view(&table) => {
                // A view of a database on one data node: the storage node shows it.
                let show = strata_sql::DefinerShow::Create {
                    kind: strata_sql::StoredObject::View,
                    name: table.clone(),
                };
                match logical_or_refused(&self.ctx.topology, table.schema.as_deref())
                    .and_then(|()| self.authorize_show_view(table.schema.as_deref(), &table.name))
                {
                    Ok(()) => match self
                        .show_with_definers(sql, table.schema.as_deref(), &show, more)
                        .await
                    {
                        Some(done) => return done,
                        None => return self.forward(sql, raw, more).await,
                    },
                    Err(e) => Err(e),
                }
            }
            // A view over several data nodes is Strata's alone: described from its
            // SELECT (mariadb-dump asks SHOW FIELDS of each view).
            Show::Columns {
                table,
                full,
                filter,
            } if self.names_a_view(&table) => {
                return self
                    .show_view_columns(&table, full, filter.as_ref(), false, more)
                    .await
            }
            Show::Index { table, filter } if self.names_a_view(&table) => {
                return self
                    .show_view_columns(&table, false, filter.as_ref(), true, more)
                    .await
            }
            Show::CreateTable { table }
            | Show::Columns { table, .. }
            | Show::Index { table, .. } => {
                let command = if create_table { "SHOW" } else { "SELECT" };
                match logical_or_refused(&self.ctx.topology, table.schema.as_deref()).and_then(
                    |()| self.authorize_any(table.schema.as_deref(), &table.name, command),
                ) {
                    Ok(()) => {
                        return self
                            .show_about_table(
                                sql,
                                raw,
                                table.schema.as_deref(),
                                &table.name,
                                create_table,
                                more,
                            )
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
            Show::CreateView { view: table } => {
                let db = table.schema.clone().or_else(|| self.state.db.clone());
                let own = db
                    .as_deref()
                    .and_then(|db| self.show_create_view(db, &table.name));
                match own {
                    Some(answer) => answer,
                    None => match logical_or_refused(&self.ctx.topology, table.schema.as_deref())
                        .and_then(|()| {
                            self.authorize_show_view(table.schema.as_deref(), &table.name)
                        }) {
                        Ok(()) => {
                            let show = strata_sql::DefinerShow::Create {
                                kind: strata_sql::StoredObject::View,
                                name: table.clone(),
                            };
                            return match self
                                .show_with_definers(sql, table.schema.as_deref(), &show, more)
                                .await
                            {
                                Some(done) => done,
                                None => self.forward(sql, raw, more).await,
                            };
                        }
                        Err(e) => Err(e),
                    },
                }
            }
            // A sequence of a database over several nodes is where the catalog says.
            Show::Other if self.state.multi_node && sequence.is_some() => {
                let (schema, name) = sequence.clone().unwrap_or_default();
                match self.authorize_any(schema.as_deref(), &name, "SHOW") {
                    Ok(()) => return self.planned(sql, raw, ReplyFormat::text(more)).await,
                    Err(e) => Err(e),
                }
            }
            Show::Other if is_show_plugins(sql) => {
                // The rows information_schema.PLUGINS shows (built-in plugins only).
                let text = "SELECT PLUGIN_NAME AS Name, PLUGIN_STATUS AS Status, \
                    PLUGIN_TYPE AS Type, PLUGIN_LIBRARY AS Library, PLUGIN_LICENSE AS License \
                    FROM information_schema.PLUGINS";
                return self.information_schema_query(text, more).await;
            }
            Show::Other if strata_sql::routine_status_query(sql).is_some() => {
                // MariaDB answers it from information_schema.ROUTINES too: the
                // account's databases only, definers as Strata shows them.
                let text = strata_sql::routine_status_query(sql).unwrap_or_default();
                return self.information_schema_query(&text, more).await;
            }
            Show::Other => {
                if let Some(binlog) = strata_sql::guard::binlog_show(sql) {
                    return Ok(self.binlog_show(binlog, more));
                }
                let topology = &self.ctx.topology;
                match strata_sql::check_show_other(sql, &|db| topology.db(db).is_some()) {
                    Ok(()) => {
                        if let Some(show) = strata_sql::parse_definer_show(sql) {
                            let db = match &show {
                                strata_sql::DefinerShow::Create { name, .. } => name.schema.clone(),
                                strata_sql::DefinerShow::Triggers { db }
                                | strata_sql::DefinerShow::Events { db } => db.clone(),
                            };
                            if let Some(done) = self
                                .show_with_definers(sql, db.as_deref(), &show, more)
                                .await
                            {
                                return done;
                            }
                        }
                        return self.forward(sql, raw, more).await;
                    }
                    // MariaDB's release builds: 1046 first for an unqualified name
                    // without a current database, then 1289.
                    Err(r @ strata_sql::Refusal::FeatureDisabled { .. }) => {
                        let unqualified = strata_sql::guard::routine_code_name(sql)
                            .is_some_and(|(schema, _)| schema.is_none());
                        if unqualified && self.state.db.is_none() {
                            Err(MysqlError::no_database())
                        } else {
                            Err(self.refusal_error(&r))
                        }
                    }
                    Err(r @ strata_sql::Refusal::Unsupported(_)) => {
                        let refused = self.refusal_error(&r);
                        Err(self.mariadb_rejection(sql, refused).await)
                    }
                    Err(r) => Err(self.refusal_error(&r)),
                }
            }
            Show::Status { scope, .. } => return self.show_status(sql, scope, more).await,
            // The notes of a statement the compute node answered itself (an account
            // statement's) are the session's, on one data node too.
            Show::Warnings { limit }
                if self.state.multi_node || self.backends.warned.1.is_some() =>
            {
                return self.show_diagnostics(sql, raw, false, limit, more).await
            }
            Show::Errors { limit } if self.state.multi_node || self.backends.warned.1.is_some() => {
                return self.show_diagnostics(sql, raw, true, limit, more).await
            }
            Show::Warnings { .. }
            | Show::Errors { .. }
            | Show::Engines
            | Show::Charset { .. }
            | Show::Collation { .. } => return self.forward(sql, raw, more).await,
        };
        match result {
            Ok(result) => {
                self.write_local(&result, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// SHOW TABLE STATUS of a database over several data nodes: every node's rows,
    /// one per table (a vertical table is on one node only); the size columns of a
    /// table spread over nodes add up (a global table's copies count once).
    async fn show_table_status(
        &mut self,
        sql: &str,
        raw: &[u8],
        schema: Option<&str>,
        more: bool,
    ) -> Result<Answer, SessionError> {
        /// Rows, Data_length, Index_length, Data_free.
        const SUMMED: [usize; 4] = [4, 6, 8, 9];
        let ctx = self.ctx.clone();
        let topo = &ctx.topology;
        let Some(db) = schema
            .or(self.state.db.as_deref())
            .and_then(|db| topo.db(db))
            .filter(|db| db.data_nodes.len() > 1)
        else {
            return self.forward(sql, raw, more).await;
        };
        let mut columns = Vec::new();
        let mut merged: std::collections::BTreeMap<String, Vec<Option<String>>> =
            std::collections::BTreeMap::new();
        for &dnid in &db.data_nodes {
            let text = self.rewrite_schemas_for(sql, Some(dnid));
            let physical = topo.physical(&db, dnid);
            let result = self.node_result(dnid, physical.as_deref(), &text).await;
            let (cols, rows) = match result {
                Ok(r) => r,
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            };
            columns = cols;
            for row in rows {
                let Some(Some(name)) = row.first().cloned() else {
                    continue;
                };
                let spread = topo.catalog().table(&db.name, &name).is_some_and(|t| {
                    !matches!(
                        t.distribution,
                        strata_catalog::sharding::Distribution::Global { .. }
                    )
                });
                match merged.get_mut(&name) {
                    Some(seen) if spread => {
                        for i in SUMMED {
                            let add = |a: &Option<String>, b: &Option<String>| {
                                let n = |v: &Option<String>| {
                                    v.as_deref().and_then(|v| v.parse::<u64>().ok())
                                };
                                n(a).zip(n(b)).map(|(a, b)| a.saturating_add(b).to_string())
                            };
                            if let (Some(a), Some(b)) = (seen.get(i), row.get(i)) {
                                let sum = add(a, b);
                                if sum.is_some() {
                                    seen[i] = sum;
                                }
                            }
                        }
                    }
                    Some(_) => {}
                    None => {
                        merged.insert(name, row);
                    }
                }
            }
        }
        let rows = merged.into_values().collect();
        self.write_local(&LocalResult { columns, rows }, more);
        Ok(Answer::Ok)
    }

    /// Statements of no classified kind that the compute node answers itself: FLUSH
    /// HOSTS acts on Strata's own host cache. `NotMine` for anything else.
    pub(super) fn own_statement(&mut self, sql: &str, more: bool) -> Handled {
        let mut words = strata_sql::code_tokens(sql)
            .filter(|t| t.kind == strata_sql::TokenKind::Ident)
            .map(|t| t.text(sql).to_ascii_uppercase());
        let Some(first) = words.next() else {
            return Handled::NotMine;
        };
        let second = words.next();
        let rest = words.next();
        if first == "FLUSH" && rest.is_none() && second.as_deref() == Some("HOSTS") {
            if !self.has_global(strata_sql::account::Privilege::Reload) {
                self.err(&super::accounts::account_error(
                    &strata_catalog::accounts::AccountError::NeedPrivilege("RELOAD"),
                ));
                return Handled::Answered(Answer::Failed);
            }
            self.ctx.flush_hosts();
            self.ok(0, more);
            return Handled::Answered(Answer::Ok);
        }
        Handled::NotMine
    }

    fn show_databases(&self, filter: Option<&ShowFilter>) -> Result<LocalResult, MysqlError> {
        let pattern = match filter {
            Some(ShowFilter::Like(p)) => Some(p.as_str()),
            Some(ShowFilter::Where(_)) => {
                return Err(MysqlError::not_supported("SHOW DATABASES WHERE"))
            }
            None => None,
        };
        let mut result = LocalResult::text(&[&match pattern {
            Some(p) => format!("Database ({p})"),
            None => "Database".to_string(),
        }]);
        let mut names: Vec<String> = vec!["information_schema".into()];
        names.extend(
            self.ctx
                .topology
                .dbs()
                .iter()
                .filter(|d| self.may_use(&d.name))
                .map(|d| d.name.clone()),
        );
        names.sort();
        for name in names {
            if pattern.is_none_or(|p| like_matches(p, &name)) {
                result.rows.push(vec![Some(name)]);
            }
        }
        Ok(result)
    }

    /// `SHOW CREATE DATABASE`: the options as a data node of the database holds them
    /// (character set, collation, comment), under the logical name, then Strata's own
    /// clauses (data nodes, read/write splitting) as comments that `CREATE DATABASE`
    /// through Strata reads back (so a dump restores the database as it was).
    async fn show_create_database(
        &mut self,
        db: &str,
        if_not_exists: bool,
    ) -> Result<LocalResult, MysqlError> {
        let ctx = self.ctx.clone();
        let topo = &ctx.topology;
        let logic = topo
            .db(db)
            .ok_or_else(|| MysqlError::unknown_database(db))?;
        let (dnid, physical) = topo
            .live_home(&logic)
            .ok_or_else(|| MysqlError::unknown_database(db))?;
        let quoted = |name: &str| format!("`{}`", name.replace('`', "``"));
        let sql = format!("SHOW CREATE DATABASE {}", quoted(&physical));
        let (_, rows) = self.node_result(dnid, None, &sql).await?;
        let stored = rows
            .first()
            .and_then(|r| r.get(1).cloned().flatten())
            .unwrap_or_default();
        let head = format!("CREATE DATABASE {}", quoted(&physical));
        let options = stored.strip_prefix(&head).unwrap_or("");
        let ine = if if_not_exists {
            "/*!32312 IF NOT EXISTS*/ "
        } else {
            ""
        };
        let mut text = format!("CREATE DATABASE {ine}{}{options}", quoted(db));
        // Only Strata's data nodes say where a database is, so a dump restores it on the
        // same ones whatever `server.new_database_data_nodes` says; one data node is
        // where everything is, and the text stays MariaDB's.
        if topo.nodes().count() > 1 {
            let ids: Vec<String> = logic.data_nodes.iter().map(|d| d.to_string()).collect();
            text.push_str(&format!(
                " /*!999999 DEFAULT DATANODE '{}' */",
                ids.join(",")
            ));
        }
        // Strata's own clauses, in versioned comments only Strata reads, so a dump
        // replays on Strata with them and on MariaDB without them.
        if !logic.rw_split.is_off() {
            text.push_str(&format!(
                " /*!999999 RW_SPLIT '{}' */",
                logic.rw_split.as_str()
            ));
        }
        let mut result = LocalResult::text(&["Database", "Create Database"]);
        result.rows.push(vec![Some(db.to_string()), Some(text)]);
        Ok(result)
    }

    /// SHOW TABLES lists a logical database's tables under its logical name.
    async fn show_tables(
        &mut self,
        full: bool,
        db: Option<&str>,
        filter: Option<&ShowFilter>,
    ) -> Result<LocalResult, MysqlError> {
        let name = match db.map(str::to_owned).or_else(|| self.state.db.clone()) {
            Some(n) => n,
            None => return Err(MysqlError::no_database()),
        };
        let information_schema = name.eq_ignore_ascii_case("information_schema");
        // Where to look: a database's tables are spread over its data nodes (a vertical
        // table lives on one of them only), so each is asked and the lists merged.
        let targets: Vec<(DataNodeId, std::sync::Arc<str>)> = if information_schema {
            // The same on every storage node, and everyone's to read.
            let (dnid, _) = self.home_node()?;
            vec![(dnid, std::sync::Arc::from("information_schema"))]
        } else {
            let logic = self
                .ctx
                .topology
                .db(&name)
                .ok_or_else(|| MysqlError::unknown_database(&name))?
                .clone();
            if !self.may_use(&name) {
                return Err(self.database_denied(&name));
            }
            let mut targets = Vec::with_capacity(logic.data_nodes.len());
            for &dnid in &logic.data_nodes {
                let physical = self.ctx.topology.physical(&logic, dnid).ok_or_else(|| {
                    MysqlError::new(
                        codes::UNKNOWN,
                        format!("data node {dnid} is not configured"),
                    )
                })?;
                targets.push((dnid, physical));
            }
            targets
        };
        let name = if information_schema {
            "information_schema".to_string()
        } else {
            name
        };
        let mut merged: std::collections::BTreeMap<String, Vec<Option<String>>> =
            std::collections::BTreeMap::new();
        for (dnid, physical) in targets {
            let mut sql = format!(
                "SHOW {}TABLES FROM `{}`",
                if full { "FULL " } else { "" },
                physical.replace('`', "``")
            );
            match filter {
                Some(ShowFilter::Like(p)) => sql.push_str(&format!(
                    " LIKE '{}'",
                    p.replace('\\', "\\\\").replace('\'', "''")
                )),
                Some(ShowFilter::Where(w)) => {
                    let (from, to) = (format!("Tables_in_{name}"), format!("Tables_in_{physical}"));
                    sql.push_str(" WHERE ");
                    sql.push_str(&strata_sql::rename_identifier(w, &from, &to));
                }
                None => {}
            }
            let mut lease = self.lease(dnid, Some(&physical)).await?;
            let rows = lease.query(&sql).await;
            self.finish(lease);
            for row in rows.map_err(|e| backend_error(dnid, &e))? {
                if let Some(Some(table)) = row.first() {
                    merged.entry(table.clone()).or_insert(row);
                }
            }
        }
        if !information_schema {
            self.add_views(&name, full, filter, &mut merged).await?;
        }
        let mut rows: Vec<Vec<Option<String>>> = merged.into_values().collect();
        let account = self.identity.account.clone();
        rows.retain(|row| {
            information_schema
                || row
                    .first()
                    .and_then(|t| t.as_deref())
                    .is_some_and(|t| account.may_see_table(&name, t))
        });
        let header = match filter {
            Some(ShowFilter::Like(p)) => format!("Tables_in_{name} ({p})"),
            _ => format!("Tables_in_{name}"),
        };
        let mut result = if full {
            LocalResult::text(&[&header, "Table_type"])
        } else {
            LocalResult::text(&[&header])
        };
        result.rows = rows;
        Ok(result)
    }

    /// In-doubt distributed transactions (a logged commit not yet applied on every data
    /// node) and branches that recovery finished recently: the admin port's `SHOW @@XA`
    /// under HotDB's column names.
    fn show_abnormal_xa(&self) -> LocalResult {
        let mut result = LocalResult::text(&["XID", "State", "DNIDs", "Time"]);
        let mut xa = crate::admin::views::xa(&self.ctx).to_result();
        result.rows = std::mem::take(&mut xa.rows)
            .into_iter()
            .map(|mut row| {
                row.truncate(4);
                row
            })
            .collect();
        result
    }

    fn show_processlist(&self, full: bool) -> LocalResult {
        let mut result = LocalResult::text(&[
            "Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress",
        ]);
        result.columns[0] = ColumnDef::bigint("Id", true);
        result.columns[5] = ColumnDef::bigint("Time", false);
        for p in self.visible_sessions() {
            let command = if p.info.is_some() { "Query" } else { "Sleep" };
            let info = p.info.map(|i| {
                if full {
                    i
                } else {
                    i.chars().take(100).collect()
                }
            });
            result.rows.push(vec![
                Some(p.id.to_string()),
                Some(p.user),
                Some(p.host),
                p.db,
                Some(command.into()),
                Some(p.since.as_secs().to_string()),
                Some(p.state),
                info,
                Some("0.000".into()),
            ]);
        }
        result
    }

    /// The client sessions this account may see (all of them with PROCESS, else its
    /// own user's), for SHOW PROCESSLIST and information_schema.PROCESSLIST.
    pub(super) fn visible_sessions(&self) -> Vec<ProcessRow> {
        let everyone = self.has_global(strata_sql::account::Privilege::Process);
        self.ctx
            .all_sessions()
            .into_iter()
            .filter(|(_, entry)| everyone || entry.user == self.identity.user)
            .map(|(id, entry)| ProcessRow {
                id,
                user: entry.user.clone(),
                host: entry.host.clone(),
                db: entry.db.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                info: entry
                    .info
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                    .map(|b| super::process_states::statement_info(b)),
                since: entry
                    .since
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .elapsed(),
                // Its own statement: the info lock above is held until it ends.
                state: String::new(),
                query_id: entry.query_id.load(Ordering::Relaxed),
            })
            .map(|mut row| {
                if row.info.is_some() {
                    if let Some(entry) = self.ctx.session(row.id) {
                        let backend = entry
                            .backend
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .clone();
                        let waiting = *entry.waiting.lock().unwrap_or_else(|p| p.into_inner());
                        row.state = match waiting {
                            Some(state) => state.to_string(),
                            None => self.session_state(&backend),
                        };
                        let body = row
                            .info
                            .as_deref()
                            .and_then(|info| self.session_substatement(info, &backend));
                        if body.is_some() {
                            row.info = body;
                        }
                    }
                }
                row
            })
            .collect()
    }

    /// KILL [QUERY|CONNECTION] id for a Strata connection id.
    pub(super) async fn kill(&mut self, id: u64, query_only: bool) {
        let target = u32::try_from(id).ok().and_then(|id| self.ctx.session(id));
        let Some(target) = target else {
            self.err(&MysqlError::new(
                codes::NO_SUCH_THREAD,
                format!("Unknown thread id: {id}"),
            ));
            return;
        };
        // MariaDB 10.11: CONNECTION ADMIN (or SUPER) kills other accounts' sessions.
        if target.user != self.identity.user
            && !self.has_global(strata_sql::account::Privilege::Super)
            && !self.has_global(strata_sql::account::Privilege::ConnectionAdmin)
        {
            self.err(&MysqlError::new(
                codes::KILL_DENIED,
                format!("You are not owner of thread {id}"),
            ));
            return;
        }
        crate::admin::actions::interrupt_storage_queries(&self.ctx, &target).await;
        // A wait on the compute node's own lock (FLUSH TABLES WITH READ LOCK) ends too.
        target.interrupt.notify_waiters();
        // The KILL QUERY statement interrupts itself (MariaDB's 1317).
        if query_only && u64::from(self.identity.id) == id {
            self.err(&MysqlError::new(
                codes::QUERY_INTERRUPTED,
                "Query execution was interrupted",
            ));
            return;
        }
        if !query_only {
            target.killed.store(true, Ordering::Relaxed);
            target.kill_signal.notify_one();
            crate::admin::actions::end_killed_statement(
                std::sync::Arc::clone(&self.ctx),
                std::sync::Arc::clone(&target),
            );
            if u64::from(self.identity.id) == id {
                self.err(&MysqlError::new(
                    codes::CONNECTION_KILLED,
                    "Connection was killed",
                ));
                return;
            }
        }
        self.ok(0, false);
    }
}

/// One client session as the process list shows it.
pub(super) struct ProcessRow {
    /// Strata's connection id.
    pub id: u32,
    /// The user name it logged in with.
    pub user: String,
    /// The client's address.
    pub host: String,
    /// Its current logical database.
    pub db: Option<String>,
    /// The statement running, if any.
    pub info: Option<String>,
    /// Time in the current command.
    pub since: std::time::Duration,
    /// What its storage thread is doing (MariaDB's State), when it runs a statement.
    pub state: String,
    /// Its current (or latest) request's query id.
    pub query_id: u64,
}

enum LocalValue {
    Int(i64),
    /// A BIGINT UNSIGNED (`@@last_insert_id`: a signed column would show a value
    /// above 2^63 negative).
    Unsigned(u64),
    Text(String),
}

/// `column` declared NOT NULL.
fn not_null(mut column: ColumnDef) -> ColumnDef {
    column.flags |= strata_protocol::constants::colflag::NOT_NULL;
    column
}

/// True for `SHOW PLUGINS` alone (`SHOW PLUGINS SONAME` lists the storage host's files).
fn is_show_plugins(sql: &str) -> bool {
    let words: Vec<_> = strata_sql::code_tokens(sql).take(3).collect();
    words.len() == 2 && words[1].is_keyword(sql, "PLUGINS")
}

impl Session {
    /// Strata's sessions as the rows of MariaDB's information_schema.PROCESSLIST.
    pub(super) fn process_list_source(&self) -> String {
        let mut selects = Vec::new();
        for p in self.visible_sessions() {
            let opt = |v: Option<String>| {
                v.map_or("NULL".to_string(), |v| super::isolation::sql_string(&v))
            };
            selects.push(format!(
                "SELECT {id} AS ID, {user} AS USER, {host} AS HOST, {db} AS DB, {command} AS COMMAND, \
                 {secs} AS TIME, {state} AS STATE, {info} AS INFO, {ms:.3} AS TIME_MS, 0 AS STAGE, \
                 0 AS MAX_STAGE, 0.000 AS PROGRESS, 0 AS MEMORY_USED, 0 AS MAX_MEMORY_USED, \
                 0 AS EXAMINED_ROWS, {query_id} AS QUERY_ID, NULL AS INFO_BINARY, 0 AS TID",
                id = p.id,
                user = super::isolation::sql_string(&p.user),
                host = super::isolation::sql_string(&p.host),
                db = opt(p.db),
                command = if p.info.is_some() { "'Query'" } else { "'Sleep'" },
                secs = p.since.as_secs(),
                state = super::isolation::sql_string(&p.state),
                info = opt(p.info),
                ms = p.since.as_secs_f64() * 1000.0,
                query_id = p.query_id,
            ));
        }
        selects.join(" UNION ALL ")
    }
}
