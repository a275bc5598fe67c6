//! Storage isolation, the session's side of default deny: a client sees its logical
//! databases and Strata's own sessions and values, never a storage server's accounts,
//! files, schemas, variables or threads. `strata_sql::guard` decides what text is
//! refused; this file holds what the session knows for it (which schema names are
//! private, the compute node's own values for identifying variables) and the answers
//! it builds itself: information_schema restricted to the client's databases, the
//! process list of Strata's sessions, SHOW VARIABLES with storage values masked.

use std::borrow::Cow;
use std::sync::Arc;

use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::guard::{
    identifies_storage, is_identity_variable, is_storage_schema, mask_variables,
    rewrite_information_schema, InformationSchemaTable, STORAGE_SCHEMAS,
};
use strata_sql::lexer::ident_value;
use strata_sql::{
    code_tokens, contains_ignore_ascii_case, table_references, ByteSummary, Refusal, SchemaPolicy,
    StatementKind, Token, TokenKind,
};

use super::handshake::ServerIdentity;
use super::optimizer_trace::mentions_optimizer_trace;
use super::own_variables::{own_variable, OwnValue};
use super::{Answer, Session, SessionError};
use crate::context::Topology;
use crate::results::LocalResult;

/// Schema names a client may not qualify a name with: the storage servers' own schemas
/// and physical database names that are not also logical ones.
pub struct PrivateSchemas {
    /// Lowercased physical names that differ from every logical name.
    physical: Vec<String>,
    /// Logical database names (CREATE/DROP DATABASE change them).
    logical: std::sync::RwLock<Vec<String>>,
    /// Storage globals are settable: statements may name the server-wide data tables
    /// of `mysql` (the session routes and authorizes them, see `server_data`).
    server_data_tables: bool,
}

impl PrivateSchemas {
    /// The private names of `topology`; `server_data_tables` when storage globals are
    /// settable.
    pub fn of(topology: &Topology, server_data_tables: bool) -> PrivateSchemas {
        let logical: Vec<String> = topology.dbs().iter().map(|d| d.name.clone()).collect();
        let mut physical: Vec<String> = topology
            .nodes()
            .map(|n| n.physical_db.to_lowercase())
            .filter(|p| !logical.iter().any(|l| l.eq_ignore_ascii_case(p)))
            .collect();
        physical.sort();
        physical.dedup();
        PrivateSchemas {
            physical,
            logical: std::sync::RwLock::new(logical),
            server_data_tables,
        }
    }

    /// Records a logical database created at runtime.
    pub fn add_logical(&self, db: &str) {
        let mut logical = self.logical.write().unwrap_or_else(|p| p.into_inner());
        if !logical.iter().any(|l| l == db) {
            logical.push(db.to_string());
        }
    }

    /// The schema names no client reads: the storage servers' own and physical names
    /// that are no logical one.
    pub fn private_names(&self) -> Vec<String> {
        STORAGE_SCHEMAS
            .iter()
            .map(|s| s.to_string())
            .chain(self.physical.iter().cloned())
            .collect()
    }

    /// Forgets a dropped logical database.
    pub fn remove_logical(&self, db: &str) {
        self.logical
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|l| l != db);
    }
}

impl SchemaPolicy for PrivateSchemas {
    fn denied(&self, schema: &str) -> bool {
        is_storage_schema(schema) || self.physical.contains(&schema.to_lowercase())
    }

    fn logical(&self, db: &str) -> bool {
        self.logical
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|l| l == db)
    }

    fn server_data_tables(&self) -> bool {
        self.server_data_tables
    }

    fn may_mention(&self, text: &[u8]) -> bool {
        STORAGE_SCHEMAS
            .iter()
            .map(|s| s.as_bytes())
            .chain(self.physical.iter().map(|s| s.as_bytes()))
            .any(|name| contains_ignore_ascii_case(text, name))
    }
}

/// A string as an SQL literal that reads the same whatever the session's sql_mode
/// (backslashes go through a hex literal, since NO_BACKSLASH_ESCAPES changes them).
pub fn sql_string(value: &str) -> String {
    string_literal(value, None)
}

/// `value` as a string literal of `charset` (`_utf8mb3'...'`; the connection's when
/// None), in hex where a quoted literal could not hold it safely.
pub(super) fn string_literal(value: &str, charset: Option<&str>) -> String {
    if value.contains('\\') || value.bytes().any(|b| b < 0x20) {
        let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
        return format!("CONVERT(X'{hex}' USING {})", charset.unwrap_or("utf8mb4"));
    }
    let introducer = charset.map(|c| format!("_{c}")).unwrap_or_default();
    format!("{introducer}'{}'", value.replace('\'', "''"))
}

impl Session {
    /// USE and a login's database: information_schema in any letter case, else a
    /// logical database. In information_schema statements run on the home data node
    /// with unqualified names qualified (see [`qualify_information_schema`]), so they
    /// read the same restricted tables as qualified ones.
    pub(super) fn change_database(&mut self, db: &str) -> Result<(), MysqlError> {
        if !db.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
            return self.use_database(db);
        }
        // The data node a session without a database would use.
        let saved = (self.state.home.take(), self.state.db.take());
        let node = self.home_node();
        (self.state.home, self.state.db) = saved;
        let (dnid, _) = node?;
        self.state.db = Some(INFORMATION_SCHEMA.into());
        self.state.home = Some((dnid, Arc::from(INFORMATION_SCHEMA)));
        self.state.rename = None;
        self.state.multi_node = false;
        self.publish_database();
        Ok(())
    }

    /// True while the current database is information_schema.
    fn in_information_schema(&self) -> bool {
        self.state
            .db
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(INFORMATION_SCHEMA))
    }

    /// True for a statement that names tables (or might) while information_schema is
    /// the current database: it goes through [`Self::information_schema_query`] like
    /// one naming information_schema. Statements without tables (BEGIN, DO 1, SELECT
    /// 1) take their usual path.
    pub(super) fn reads_information_schema(&self, sql: &str, kind: StatementKind) -> bool {
        if !self.in_information_schema() {
            return false;
        }
        let tables = table_references(sql, kind);
        tables.unknown || !tables.refs.is_empty()
    }

    /// `'user'@'host'` as MySQL prints the client's account in errors.
    pub(super) fn account_text(&self) -> String {
        format!(
            "'{}'@'{}'",
            self.identity.user,
            client_host(&self.identity.entry.host)
        )
    }

    /// The MySQL error for a refused statement.
    pub(super) fn refusal_error(&self, refusal: &Refusal) -> MysqlError {
        let code = refusal.code();
        let state = refusal.sqlstate();
        MysqlError {
            code,
            state,
            message: refusal.message(&self.account_text()),
        }
    }

    /// Default deny for a statement about to be answered, planned or sent to a storage
    /// node: Err is the error the client gets instead.
    pub(super) fn guard(
        &self,
        sql: &str,
        kind: StatementKind,
        bytes: ByteSummary,
    ) -> Result<(), MysqlError> {
        self.guard_as(sql, kind, bytes, false)
    }

    /// [`Self::guard`]; `top_level` for the client's own text statement, which the
    /// session routes to every data node when it writes server-wide tables of `mysql`
    /// (see `server_data`).
    pub(super) fn guard_as(
        &self,
        sql: &str,
        kind: StatementKind,
        bytes: ByteSummary,
        top_level: bool,
    ) -> Result<(), MysqlError> {
        strata_sql::check_statement(sql, kind, bytes, &self.ctx.private_schemas)
            .map_err(|r| self.refusal_error(&r))?;
        if !top_level {
            // The client's own statement is checked where it is routed, after its
            // privileges (MariaDB's 1142 first).
            self.check_server_data(sql, kind, false)?;
        }
        self.check_merge_table(sql, kind)
    }

    /// The statement with system variables that identify a storage server, and the
    /// server identity (`@@version`, `VERSION()`), replaced by the compute node's own
    /// values.
    pub(super) fn mask_variables<'a>(&self, sql: &'a str, bytes: ByteSummary) -> Cow<'a, str> {
        if !bytes.at_sign() && !contains_ignore_ascii_case(sql.as_bytes(), b"version") {
            return Cow::Borrowed(sql);
        }
        let globals = (!self.ctx.globals.is_empty()).then(|| self.ctx.globals.all());
        let global = |name: &str| {
            globals
                .as_ref()
                .and_then(|g| g.get(name).cloned())
                .or_else(|| self.ctx.globals.own_global_only(name))
                .as_ref()
                .map(super::globals::global_literal)
        };
        match mask_variables(sql, |name| self.masking_literal(name), global) {
            Some(masked) => Cow::Owned(masked),
            None => Cow::Borrowed(sql),
        }
    }

    /// The compute node's value for an identifying variable, as an SQL literal.
    fn own_variable_literal(&self, name: &str) -> String {
        match own_variable(&self.ctx, name) {
            OwnValue::Int(i) => i.to_string(),
            OwnValue::Text(t) => sql_string(&t),
            OwnValue::Null => "''".to_string(),
        }
    }

    /// What replaces a read of an identifying variable in a text a storage node runs:
    /// [`Self::own_variable_literal`] in the system character set (as MariaDB's
    /// variables are), or None when every storage server says the same (its own
    /// `VERSION()` then keeps its column name and type).
    fn masking_literal(&self, name: &str) -> Option<String> {
        if name == "version" {
            let own = ServerIdentity::of(&self.ctx).version;
            let mut announced = self.ctx.topology.nodes().map(|n| n.pool.server_version());
            let same = |v: &str| super::handshake::without_greeting_prefix(v) == own;
            if announced.all(|v| v.is_some_and(|v| same(&v))) {
                return None;
            }
        }
        Some(match own_variable(&self.ctx, name) {
            OwnValue::Int(i) => i.to_string(),
            OwnValue::Text(t) => format!("_utf8mb3{}", sql_string(&t)),
            OwnValue::Null => "CAST(NULL AS CHAR CHARACTER SET utf8mb3)".to_string(),
        })
    }

    /// SHOW VARIABLES: the storage node's list with identifying values and the server
    /// identity replaced.
    pub(super) async fn show_variables(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Result<Answer, SessionError> {
        // SHOW GLOBAL VARIABLES: the compute node's own global values.
        let global = strata_sql::code_tokens(sql)
            .nth(1)
            .is_some_and(|t| t.is_keyword(sql, "GLOBAL"));
        let globals = if global {
            self.ctx.globals.all()
        } else {
            Default::default()
        };
        self.show_name_values(sql, more, |ctx, name| {
            if let Some(own) = globals.get(&name.to_ascii_lowercase()) {
                Some(own.shown.clone())
            } else if let Some(own) = ctx.globals.own_global_only(name) {
                Some(own.shown)
            } else if identifies_storage(name) || is_identity_variable(name) {
                Some(match own_variable(ctx, name) {
                    OwnValue::Int(i) => i.to_string(),
                    OwnValue::Text(t) => t,
                    OwnValue::Null => String::new(),
                })
            } else {
                None
            }
        })
        .await
    }

    /// Logical databases the client may see, with their physical names on their home
    /// data nodes.
    fn visible_databases(&self) -> Vec<(Arc<str>, Arc<str>)> {
        self.visible_databases_on(None)
    }

    /// Logical databases the client may see, with their physical names on data node
    /// `dnid` (on their home data node for those not on it, or for None).
    pub(super) fn visible_databases_on(
        &self,
        dnid: Option<DataNodeId>,
    ) -> Vec<(Arc<str>, Arc<str>)> {
        self.ctx
            .topology
            .dbs()
            .iter()
            .filter(|db| self.may_use(&db.name))
            .filter_map(|db| {
                let target = dnid
                    .filter(|d| db.data_nodes.contains(d))
                    .or_else(|| crate::context::home_node(db))?;
                let physical = self.ctx.topology.physical(db, target)?;
                Some((Arc::from(db.name.as_str()), physical))
            })
            .collect()
    }

    /// Where a statement over information_schema about one table runs when that is
    /// not the home data node: the table's first data node. A table placed on other
    /// nodes than its database's home (a vertical table) is unknown at the home, and
    /// mariadb-dump reads each table's columns this way before dumping its rows.
    fn information_schema_node(&self, sql: &str) -> Option<DataNodeId> {
        let pin = strata_sql::information_schema_table_pin(sql)?;
        let db = pin.schema.or_else(|| self.state.db.clone())?;
        let info = self.ctx.topology.catalog().table(&db, &pin.table)?;
        let first = *info.data_nodes.first()?;
        let (home, _) = self.home_node().ok()?;
        (first != home).then_some(first)
    }

    /// The text a storage node runs for a statement over information_schema: each
    /// table it reads replaced by a derived table holding only what the client may see
    /// (its logical databases' objects, Strata's sessions, masked variables), logical
    /// names in string literals and qualifiers mapped to physical ones. `later`: the
    /// text runs after this (a stored body, a prepared statement), so tables whose
    /// derived rows are the present's values are refused: they would stay those.
    pub(super) fn restricted_information_schema(
        &self,
        sql: &str,
        names: &[(Arc<str>, Arc<str>)],
        dnid: Option<DataNodeId>,
        later: bool,
    ) -> Result<String, MysqlError> {
        let to_physical = |v: &str| {
            names
                .iter()
                .find(|(l, _)| **l == *v)
                .map(|(_, p)| p.clone())
        };
        let mut text = String::with_capacity(sql.len());
        let mut last = 0;
        for token in code_tokens(sql) {
            if token.kind == TokenKind::String {
                let value = strata_sql::lexer::string_value(token.text(sql));
                if let Some(physical) = to_physical(&value) {
                    text.push_str(&sql[last..token.span.start]);
                    text.push_str(&sql_string(&physical));
                    last = token.span.end;
                }
            }
        }
        text.push_str(&sql[last..]);
        let visible: Vec<VisibleSchema> = names
            .iter()
            .map(|(logical, physical)| VisibleSchema {
                logical: logical.clone(),
                physical: physical.clone(),
                literal: sql_string(physical),
                tables: self.visible_tables_only(logical),
            })
            .collect();
        let dynamic = later && self.lists_databases_when_run(sql);
        let mut snapshot = None;
        let rewritten = rewrite_information_schema(&text, |table, how| {
            use InformationSchemaTable as T;
            let now = matches!(
                how,
                T::Status
                    | T::ProcessList
                    | T::ApplicableRoles
                    | T::EnabledRoles
                    | T::OptimizerTrace
            );
            if later && now {
                snapshot.get_or_insert_with(|| table.to_ascii_uppercase());
            }
            self.information_schema_source(table, how, &visible, dynamic)
        });
        if let Some(table) = snapshot {
            return Err(MysqlError::not_supported(&format!(
                "information_schema.{table} in a stored routine, trigger, event, view or prepared statement (it would keep the values of the time it was defined)"
            )));
        }
        match rewritten {
            Ok(t) => Ok(self.rewrite_schemas_for(&t, dnid)),
            Err(r) => Err(self.refusal_error(&r)),
        }
    }

    /// A statement over information_schema, run on the home data node through
    /// [`Self::restricted_information_schema`]; physical names in the result are mapped
    /// back, so tools see only logical databases.
    pub(super) async fn information_schema_query(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let target = self.information_schema_node(sql);
        if let Some(e) = self.information_schema_refusal(sql, target) {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        let names = self.visible_databases_on(target);
        let stored = strata_sql::parse_object_ddl(sql).is_some_and(|d| {
            matches!(
                d.verb,
                strata_sql::ObjectVerb::Create | strata_sql::ObjectVerb::Alter
            )
        });
        if strata_sql::contains_ignore_ascii_case(sql.as_bytes(), b"PROCESSLIST") {
            self.statement.process_states = self.storage_thread_states().await;
        }
        let home = self.home_node().ok().map(|(dnid, _)| dnid);
        if let Err(e) = mentions_optimizer_trace(sql)
            .then(|| self.check_trace_read(target.or(home)))
            .transpose()
        {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        let qualified = if self.in_information_schema() {
            qualify_information_schema(sql).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(sql))
        };
        let text = match qualified
            .and_then(|sql| self.restricted_information_schema(&sql, &names, target, stored))
        {
            Ok(t) => t,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        // In information_schema, with no database selected, a name the qualification
        // missed fails on the storage node instead of reading its unrestricted
        // information_schema.
        let no_database = self.in_information_schema();
        let result = match target {
            Some(dnid) => {
                let physical = (!no_database)
                    .then(|| {
                        self.state
                            .db
                            .as_deref()
                            .and_then(|db| self.ctx.topology.db(db))
                    })
                    .flatten()
                    .and_then(|db| self.ctx.topology.physical(&db, dnid));
                self.node_result(dnid, physical.as_deref(), &text).await
            }
            None => self.home_result(&text, no_database).await,
        };
        let (mut columns, mut rows) = match result {
            Ok(r) => r,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let to_logical = |v: &str| {
            names
                .iter()
                .find(|(_, p)| **p == *v)
                .map(|(l, _)| l.to_string())
        };
        for col in &mut columns {
            if let Some(l) = to_logical(&col.schema) {
                col.schema = l;
            }
        }
        for row in &mut rows {
            for value in row.iter_mut().flatten() {
                if let Some(l) = to_logical(value) {
                    *value = l;
                }
            }
        }
        if columns.is_empty() {
            self.ok(0, more);
        } else {
            self.write_local(&LocalResult { columns, rows }, more);
        }
        Ok(Answer::Ok)
    }

    /// The derived table standing for `information_schema.<table>`.
    fn information_schema_source(
        &self,
        table: &str,
        how: InformationSchemaTable,
        visible: &[VisibleSchema],
        dynamic: bool,
    ) -> String {
        match how {
            InformationSchemaTable::Static => format!("SELECT * FROM information_schema.`{table}`"),
            InformationSchemaTable::PerSchema(column) => {
                self.per_schema_source(table, column, visible, dynamic)
            }
            InformationSchemaTable::Variables => format!(
                "SELECT VARIABLE_NAME, {} AS VARIABLE_VALUE FROM information_schema.`{table}`",
                self.masked_variable_value(
                    "VARIABLE_VALUE",
                    table.eq_ignore_ascii_case("GLOBAL_VARIABLES")
                )
            ),
            InformationSchemaTable::Status => format!(
                "SELECT VARIABLE_NAME, {} AS VARIABLE_VALUE FROM information_schema.`{table}`",
                self.status_snapshot(table.eq_ignore_ascii_case("GLOBAL_STATUS"))
                    .case_sql("VARIABLE_VALUE")
            ),
            InformationSchemaTable::SystemVariables => format!(
                // Every column in MariaDB 10.11's order; a value that is NULL (a global
                // variable's SESSION_VALUE) stays NULL, and the option file a value came
                // from is the storage server's business.
                "SELECT VARIABLE_NAME, IF(SESSION_VALUE IS NULL, NULL, {session}) AS SESSION_VALUE, \
                 IF(GLOBAL_VALUE IS NULL, NULL, {global}) AS GLOBAL_VALUE, GLOBAL_VALUE_ORIGIN, \
                 IF(VARIABLE_NAME IN ({own}) OR {pattern}, NULL, DEFAULT_VALUE) AS DEFAULT_VALUE, \
                 VARIABLE_SCOPE, VARIABLE_TYPE, VARIABLE_COMMENT, NUMERIC_MIN_VALUE, \
                 NUMERIC_MAX_VALUE, NUMERIC_BLOCK_SIZE, ENUM_VALUE_LIST, READ_ONLY, \
                 COMMAND_LINE_ARGUMENT, CAST(NULL AS CHAR(2048)) AS GLOBAL_VALUE_PATH \
                 FROM information_schema.`{table}`",
                session = self.masked_variable_value("SESSION_VALUE", false),
                global = self.masked_variable_value("GLOBAL_VALUE", true),
                own = own_variable_names(),
                pattern = IDENTIFYING_PATTERN,
            ),
            InformationSchemaTable::Plugins => format!(
                "SELECT * FROM information_schema.`{table}` WHERE PLUGIN_LIBRARY IS NULL \
                 AND PLUGIN_TYPE NOT IN ('AUTHENTICATION', 'AUDIT', 'PASSWORD VALIDATION', 'ENCRYPTION')"
            ),
            InformationSchemaTable::ProcessList => self.process_list_source(),
            InformationSchemaTable::ApplicableRoles => self.applicable_roles_source(),
            InformationSchemaTable::EnabledRoles => self.enabled_roles_source(),
            InformationSchemaTable::OptimizerTrace => self.optimizer_trace_source(visible),
        }
    }

    /// An SQL expression for a variable's value column: the compute node's own value
    /// for OWN_VARIABLES, '' for the other identifying ones, the storage's otherwise;
    /// for a column of `global` values, the compute node's own global values first.
    fn masked_variable_value(&self, column: &str, global: bool) -> String {
        let masked = self.masked_storage_value(column);
        let mut globals = if global {
            self.ctx.globals.all()
        } else {
            Default::default()
        };
        // A global-only variable shows its global value in the session lists too.
        for name in crate::globals::OWN_GLOBAL_ONLY {
            if let Some(v) = self.ctx.globals.own_global_only(name) {
                globals.insert((*name).to_string(), v);
            }
        }
        if globals.is_empty() {
            return masked;
        }
        let cases: String = globals
            .iter()
            .map(|(name, value)| {
                format!(
                    " WHEN '{}' THEN {}",
                    name.to_ascii_uppercase(),
                    sql_string(&value.shown)
                )
            })
            .collect();
        format!("CASE VARIABLE_NAME{cases} ELSE {masked} END")
    }

    /// [`Self::masked_variable_value`] for the storage node's values alone.
    fn masked_storage_value(&self, column: &str) -> String {
        let mut cases = String::new();
        for name in OWN_VARIABLES {
            cases.push_str(&format!(
                " WHEN '{}' THEN {}",
                name.to_ascii_uppercase(),
                self.own_variable_literal(name)
            ));
        }
        format!(
            "CASE WHEN VARIABLE_NAME IN ({own}) THEN CASE VARIABLE_NAME{cases} END \
             WHEN {pattern} THEN '' ELSE {column} END",
            own = own_variable_names(),
            pattern = IDENTIFYING_PATTERN,
        )
    }

    /// A server-side prepared statement over information_schema: restricted like a
    /// text one. Its rows are relayed as the storage node sends them, so where physical
    /// names differ from logical ones it is refused rather than show them.
    pub(super) fn prepared_information_schema(&self, sql: &str) -> Result<String, MysqlError> {
        if self.ctx.topology.names_differ {
            return Err(MysqlError::not_supported(
                "server-side prepared statements over information_schema (use the text protocol)",
            ));
        }
        if self.in_information_schema() {
            let sql = qualify_information_schema(sql)?;
            return self.restricted_information_schema(&sql, &self.visible_databases(), None, true);
        }
        self.restricted_information_schema(sql, &self.visible_databases(), None, true)
    }

    /// For a database the account sees only through table grants, those tables; None
    /// when it holds privileges on the whole database.
    pub(super) fn visible_tables_only(&self, db: &str) -> Option<Vec<String>> {
        if !self.identity.account.database_privileges(db).is_empty() {
            return None;
        }
        Some(
            self.identity
                .account
                .tables
                .iter()
                .filter(|((d, _), p)| d == db && !p.is_empty())
                .map(|((_, t), _)| t.clone())
                .collect(),
        )
    }
}

/// A database a statement over information_schema may show: its physical name as an
/// SQL literal, and the only tables shown when the account holds table grants alone.
pub(super) struct VisibleSchema {
    pub(super) logical: Arc<str>,
    pub(super) physical: Arc<str>,
    pub(super) literal: String,
    pub(super) tables: Option<Vec<String>>,
}

/// information_schema tables with a TABLE_NAME column, filtered per table for accounts
/// with table grants alone (the others show whole databases or nothing).
pub(super) const TABLE_NAME_TABLES: &[&str] = &[
    "TABLES",
    "COLUMNS",
    "STATISTICS",
    "VIEWS",
    "PARTITIONS",
    "KEY_COLUMN_USAGE",
    "TABLE_CONSTRAINTS",
    "REFERENTIAL_CONSTRAINTS",
    "CHECK_CONSTRAINTS",
    "KEY_PERIOD_USAGE",
    "PERIODS",
    "TABLE_STATISTICS",
    "INDEX_STATISTICS",
];

/// The host part of a client address (`ip:port` -> `ip`).
pub(super) fn client_host(peer: &str) -> &str {
    let host = match peer.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
            host.trim_start_matches('[').trim_end_matches(']')
        }
        _ => peer,
    };
    shown_host(host)
}

/// A client's host as MariaDB names it in messages and `USER()`: a loopback client is
/// `localhost` (MariaDB does so before any name lookup), others their address.
pub(super) fn shown_host(ip: &str) -> &str {
    match ip.parse::<std::net::IpAddr>() {
        Ok(addr) if addr.is_loopback() => "localhost",
        _ => ip,
    }
}

/// Identifying variables for which the compute node has a value of its own (and the
/// server identity); the others read as empty.
const OWN_VARIABLES: &[&str] = &[
    "version",
    "version_comment",
    "datadir",
    "hostname",
    "port",
    "server_id",
    "tmpdir",
    "basedir",
    "secure_file_priv",
];

/// OWN_VARIABLES as an SQL list of upper-case names.
fn own_variable_names() -> String {
    OWN_VARIABLES
        .iter()
        .map(|n| format!("'{}'", n.to_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An SQL condition on VARIABLE_NAME matching the other names `identifies_storage`
/// matches (the ones in OWN_VARIABLES are answered by value). No LIKE escapes, whose
/// meaning depends on the session's sql_mode.
const IDENTIFYING_PATTERN: &str =
    "VARIABLE_NAME IN ('SOCKET', 'SERVER_UUID', 'PID_FILE', 'LOG_ERROR', \
     'PLUGIN_DIR', 'SLAVE_LOAD_TMPDIR', 'LOG_BIN_INDEX', 'RELAY_LOG', 'RELAY_LOG_INDEX', \
     'REPORT_HOST', 'REPORT_PORT', 'REPORT_USER', 'REPORT_PASSWORD', \
     'BIND_ADDRESS', 'EXTRA_PORT', 'WSREP_NODE_ADDRESS', 'WSREP_NODE_NAME', \
     'WSREP_NODE_INCOMING_ADDRESS', 'WSREP_CLUSTER_ADDRESS', 'WSREP_SST_RECEIVE_ADDRESS', \
     'LOG_BIN_BASENAME', 'RELAY_LOG_BASENAME', 'GTID_DOMAIN_ID') \
     OR RIGHT(VARIABLE_NAME, 5) = '_FILE' OR RIGHT(VARIABLE_NAME, 9) = '_FILENAME' \
     OR RIGHT(VARIABLE_NAME, 4) = '_DIR' OR RIGHT(VARIABLE_NAME, 5) = '_PATH' \
     OR RIGHT(VARIABLE_NAME, 10) = '_DIRECTORY' OR RIGHT(VARIABLE_NAME, 9) = '_BASENAME' \
     OR (LEFT(VARIABLE_NAME, 4) = 'SSL_' AND VARIABLE_NAME <> 'SSL_CIPHER')";

/// The name of the one schema besides logical databases a client may USE.
const INFORMATION_SCHEMA: &str = "information_schema";

/// A statement run while information_schema is the current database, with each
/// unqualified table name qualified with it, so the restriction of qualified names
/// applies. Refused (1235) when its tables cannot all be found in table position:
/// forwarding an unqualified name would read the storage node's whole
/// information_schema.
pub(super) fn qualify_information_schema(sql: &str) -> Result<String, MysqlError> {
    let kind = strata_sql::classify(sql);
    let refused = || {
        MysqlError::not_supported(
            "this statement with information_schema as the current database (qualify its tables: information_schema.<table>)",
        )
    };
    let tables = table_references(sql, kind);
    if tables.unknown {
        return Err(refused());
    }
    let unqualified: Vec<&str> = tables
        .refs
        .iter()
        .filter(|r| r.schema.is_none())
        .map(|r| r.name.as_str())
        .collect();
    let toks: Vec<Token> = code_tokens(sql).collect();
    let mut out = String::with_capacity(sql.len() + 20 * unqualified.len());
    let mut last = 0;
    let mut qualified = 0;
    for (i, t) in toks.iter().enumerate() {
        if !t.kind.is_ident() {
            continue;
        }
        let name = ident_value(t.text(sql));
        let in_table_position = i.checked_sub(1).is_some_and(|p| {
            toks[p].is_punct(sql, ",")
                || ["FROM", "JOIN", "STRAIGHT_JOIN", "UPDATE", "INTO", "TABLE"]
                    .iter()
                    .any(|k| toks[p].is_keyword(sql, k))
        });
        let dotted = (i > 0 && toks[i - 1].is_punct(sql, "."))
            || toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "."));
        if in_table_position && !dotted && unqualified.iter().any(|u| u.eq_ignore_ascii_case(&name))
        {
            out.push_str(&sql[last..t.span.start]);
            out.push_str("information_schema.");
            last = t.span.start;
            qualified += 1;
        }
    }
    out.push_str(&sql[last..]);
    // Exactly the unqualified references, and none left: anything else (a column in a
    // select list named like a table, a name this scan cannot place) is refused.
    let left = table_references(&out, kind);
    if qualified != unqualified.len()
        || left.unknown
        || left.refs.iter().any(|r| r.schema.is_none())
    {
        return Err(refused());
    }
    Ok(out)
}

/// Whether a statement names information_schema (then it is answered through
/// [`Session::information_schema_query`]).
pub(super) fn mentions_information_schema(sql: &str) -> bool {
    contains_ignore_ascii_case(sql.as_bytes(), b"information_schema")
}

/// Refuses a SHOW that names a database other than a logical one (or
/// information_schema), as `SHOW COLUMNS FROM user FROM mysql` would.
pub(super) fn logical_or_refused(topology: &Topology, db: Option<&str>) -> Result<(), MysqlError> {
    match db {
        Some(name)
            if topology.db(name).is_none() && !name.eq_ignore_ascii_case("information_schema") =>
        {
            Err(MysqlError::unknown_database(name))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod information_schema_tests;
