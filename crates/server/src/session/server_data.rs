//! The storage servers' server-wide data tables of `mysql` (statistics, time zones,
//! help, log tables: `strata_sql::guard::is_server_data_table`), reachable with
//! `server.storage_globals = "settable"`, when the storage servers serve this Strata
//! alone. They belong to the storage server, not to a database, so:
//! - a write or DDL runs on every data node's primary (replicas follow by
//!   replication); over several data nodes only a statement naming these tables alone
//!   can, others are refused (1235);
//! - a read runs on the home data node;
//! - the statistics tables name other databases in their rows: a SELECT reads them
//!   restricted to the logical databases the account may see, and any other statement
//!   naming one needs global SELECT (the account sees every database anyway).
//!
//! Privileges are MariaDB's: the statement's privilege on the `mysql` table, held
//! globally, on `mysql` or on the table (the session's usual table check, 1142).

use strata_catalog::accounts::{Level, PrivSet};
use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::guard::{
    dynamic_statement_text, is_server_data_table, is_statistics_table, rewrite_statistics_tables,
    server_data_table_name_condition, server_data_tables_named,
};
use strata_sql::{classify, SchemaPolicy, StatementKind};

use super::isolation::sql_string;
use super::{Answer, Session, SessionError};

/// What the session does with a statement naming server-wide data tables of `mysql`.
pub(super) enum ServerData {
    /// Nothing particular: it takes its usual path (to the home data node).
    NotMine,
    /// A SELECT of statistics tables, rewritten to read only the rows of the account's
    /// databases: this text takes the usual path instead.
    Read(String),
    /// Answered (run on every data node, or refused).
    Answered(Answer),
}

/// True for statements that only read (their reads go to the home data node).
fn reads_only(kind: StatementKind) -> bool {
    matches!(kind, StatementKind::Select | StatementKind::Explain)
}

impl Session {
    /// True when the deployment lets statements name the server-wide data tables.
    fn server_data_reachable(&self) -> bool {
        self.ctx.private_schemas.server_data_tables()
    }

    /// The condition adding the server-wide data tables of `mysql` to an information_schema
    /// table listing tables by `column` and `TABLE_NAME`, when the deployment lets
    /// statements name them and the account holds a table privilege there (globally or
    /// on `mysql`), as MariaDB lists them (`include/have_stat_tables.inc` looks for the
    /// statistics tables in `information_schema.TABLES`).
    pub(super) fn server_data_listing(&self, column: &str) -> Option<String> {
        let table_level = PrivSet::all(Level::Table) | PrivSet::of(Privilege::GrantOption);
        let held = self.identity.account.database_privileges("mysql");
        (self.server_data_reachable() && !held.intersect(table_level).is_empty()).then(|| {
            format!(
                "(`{column}` = 'mysql' AND {})",
                server_data_table_name_condition()
            )
        })
    }

    /// True when the deployment has more than one data node.
    fn several_data_nodes(&self) -> bool {
        self.ctx.topology.nodes().nth(1).is_some()
    }

    /// The checks for server-wide data tables of a statement about to run
    /// (`top_level`: the client's own text statement, which [`Self::server_data_statement`]
    /// routes; false for prepared statements, dynamic SQL and routine bodies, which run
    /// where they are sent). The text of `PREPARE ... FROM 'text'` and `EXECUTE
    /// IMMEDIATE 'text'` is what is checked for those.
    pub(super) fn check_server_data(
        &self,
        sql: &str,
        kind: StatementKind,
        top_level: bool,
    ) -> Result<(), MysqlError> {
        if !self.server_data_reachable() {
            return Ok(());
        }
        let inner = dynamic_statement_text(sql, kind);
        let (sql, kind, top_level) = match &inner {
            Some(text) => (text.as_str(), classify(text), false),
            None => (sql, kind, top_level),
        };
        let named = server_data_tables_named(sql);
        if named.is_empty() {
            return Ok(());
        }
        let statistics = named.iter().any(|t| is_statistics_table("mysql", t));
        if statistics && self.ctx.topology.names_differ {
            // Their rows name physical databases: a client's names would not match.
            return Err(MysqlError::not_supported(
                "the statistics tables of mysql where physical database names differ from logical ones",
            ));
        }
        if statistics
            && !(top_level && kind == StatementKind::Select)
            && !self.has_global(Privilege::Select)
        {
            return Err(MysqlError::not_supported(
                "this statement on the statistics tables of mysql without global SELECT (their rows name every database; a SELECT of them shows the rows of yours)",
            ));
        }
        if !top_level && !reads_only(kind) && self.several_data_nodes() {
            return Err(MysqlError::not_supported(
                "writing the server-wide tables of mysql from a prepared statement, routine or dynamic SQL over several data nodes",
            ));
        }
        Ok(())
    }

    /// A client statement naming server-wide data tables of `mysql`, after its other
    /// checks (so that MariaDB's 1142 comes first): a SELECT of statistics tables is
    /// rewritten to the account's rows; a write or DDL over several data nodes runs on
    /// every one of them (or is refused). `dynamic` is the text of a PREPARE or EXECUTE
    /// IMMEDIATE of an expression.
    pub(super) async fn server_data_statement(
        &mut self,
        sql: &str,
        raw: &[u8],
        kind: StatementKind,
        dynamic: Option<&str>,
        more: bool,
    ) -> Result<ServerData, SessionError> {
        if !self.server_data_reachable() {
            return Ok(ServerData::NotMine);
        }
        let (text, text_kind, top_level) = match dynamic {
            Some(text) => (text, classify(text), false),
            None => (sql, kind, true),
        };
        if let Err(e) = self.check_server_data(text, text_kind, top_level) {
            self.err(&e);
            return Ok(ServerData::Answered(Answer::Failed));
        }
        let named = server_data_tables_named(text);
        if named.is_empty() {
            return Ok(ServerData::NotMine);
        }
        if top_level && kind == StatementKind::Select {
            if !named.iter().any(|t| is_statistics_table("mysql", t)) {
                return Ok(ServerData::NotMine);
            }
            return Ok(ServerData::Read(self.statistics_read(sql)));
        }
        if reads_only(text_kind) || !self.several_data_nodes() {
            // One data node is every data node.
            return Ok(ServerData::NotMine);
        }
        if let Err(e) = self.check_everywhere(sql, kind, !top_level) {
            self.err(&e);
            return Ok(ServerData::Answered(Answer::Failed));
        }
        self.on_every_data_node(sql, raw, more)
            .await
            .map(ServerData::Answered)
    }

    /// Refuses (1235) a write of server-wide data tables that cannot run on every data
    /// node as it is: one in a transaction (it would be committed on each node
    /// separately), dynamic SQL, a definition of a routine, view, trigger or event
    /// (their bodies run on one node), LOCK, or a statement naming other tables.
    fn check_everywhere(
        &self,
        sql: &str,
        kind: StatementKind,
        dynamic: bool,
    ) -> Result<(), MysqlError> {
        let refuse = |why: &str| {
            Err(MysqlError::not_supported(&format!(
                "writing the server-wide tables of mysql over several data nodes {why}"
            )))
        };
        if dynamic {
            return refuse("from PREPARE or EXECUTE IMMEDIATE");
        }
        if self.in_transaction() {
            return refuse("inside a transaction");
        }
        use StatementKind as K;
        let table_ddl = || {
            strata_sql::code_tokens(sql)
                .skip(1)
                .take(4)
                .any(|t| t.is_keyword(sql, "TABLE") || t.is_keyword(sql, "INDEX"))
        };
        let plain = match kind {
            K::Insert | K::Replace | K::Update | K::Delete | K::Truncate | K::Rename => true,
            K::Create | K::Alter | K::Drop => table_ddl(),
            _ => false,
        };
        if !plain {
            return refuse("in this statement");
        }
        let tables = strata_sql::table_references(sql, kind);
        let only_server_data = !tables.unknown
            && tables.refs.iter().all(|r| {
                r.schema
                    .as_deref()
                    .is_some_and(|s| is_server_data_table(s, &r.name))
            });
        if !only_server_data {
            return refuse("together with other tables");
        }
        Ok(())
    }

    /// Runs `sql` on every data node's primary in DNID order, the home data node last,
    /// whose reply the client gets. A failure after some nodes ran it says which.
    async fn on_every_data_node(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let home = match self.home_node() {
            Ok((dnid, _)) => dnid,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let mut others: Vec<DataNodeId> = self
            .ctx
            .topology
            .nodes()
            .map(|n| n.id)
            .filter(|id| *id != home)
            .collect();
        others.sort();
        let text = match self.statement.variables.as_deref() {
            Some(prefix) => format!("{prefix}{sql}"),
            None => sql.to_string(),
        };
        let mut done: Vec<String> = Vec::new();
        for dnid in others {
            if let Err(e) = self.node_result(dnid, None, &text).await {
                let e = if done.is_empty() {
                    e
                } else {
                    tracing::warn!(dnid = dnid.get(), statement = %sql, error = %e.message, done_on = ?done, "statement on every data node failed part way");
                    MysqlError {
                        message: format!(
                            "{} (on data node {}; it ran on data node {} already)",
                            e.message,
                            dnid.get(),
                            done.join(", ")
                        ),
                        ..e
                    }
                };
                self.err(&e);
                return Ok(Answer::Failed);
            }
            done.push(dnid.get().to_string());
        }
        self.forward_to(home, None, sql, raw, more).await
    }

    /// A SELECT of statistics tables with each replaced by its rows of the logical
    /// databases the account may see (statistics name databases by physical name,
    /// which is the logical one: [`Self::check_server_data`] refused them where names differ).
    fn statistics_read(&self, sql: &str) -> String {
        let visible: Vec<String> = self
            .ctx
            .topology
            .dbs()
            .iter()
            .filter(|db| self.may_use(&db.name))
            .map(|db| sql_string(&db.name))
            .collect();
        rewrite_statistics_tables(sql, |table| {
            let column = if table.to_ascii_lowercase().starts_with("innodb_") {
                "database_name"
            } else {
                "db_name"
            };
            let table = table.replace('`', "``");
            if visible.is_empty() {
                format!("SELECT * FROM mysql.`{table}` WHERE 0")
            } else {
                // Through CONCAT the filter uses no index: the storage node reads the
                // table as the client's own conditions alone would have it, so rows come
                // in the order MariaDB gives them without ORDER BY.
                format!(
                    "SELECT * FROM mysql.`{table}` WHERE CONCAT(`{column}`) IN ({})",
                    visible.join(", ")
                )
            }
        })
    }
}
