//! CREATE DATABASE and DROP DATABASE: the compute node creates a logical database on its
//! data nodes (the `DEFAULT DATANODE` list, else `server.new_database_data_nodes`, else
//! every data node), with its own physical database named like it on each, and records
//! it in the catalog only once every physical database exists; DROP removes the
//! physical databases first and forgets the catalog entry (tables, AUTO_INCREMENT
//! counters, unique-key records) only when every data node dropped its part, so the
//! catalog never names what does not exist and never forgets what still does.

use strata_catalog::config::RwSplit;
use strata_catalog::CatalogError;
use strata_catalog::DataNodeId;
use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::{parse_database_statement, CreateDatabase, DatabaseStatement};

use super::query::sql_error;
use super::Answer;
use super::{backend_error, Session, SessionError};

/// ER_WRONG_DB_NAME.
const WRONG_DB_NAME: (u16, &str) = (1102, "42000");
/// ER_WRONG_USAGE.
const WRONG_USAGE: (u16, &str) = (1221, "HY000");
/// Longest database name MariaDB accepts.
const MAX_NAME_CHARS: usize = 64;

/// What happened on one data node.
struct NodeOutcome {
    dnid: DataNodeId,
    result: Result<u64, MysqlError>,
}

impl Session {
    /// Runs a CREATE or DROP DATABASE; the result is the statement's success.
    pub(super) async fn database_statement(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let result = match parse_database_statement(sql) {
            Err(e) => Err(sql_error(&e)),
            Ok(DatabaseStatement::Create(create)) => self.create_database(create, more).await,
            Ok(DatabaseStatement::Drop { name, if_exists }) => {
                self.drop_database(&name, if_exists, more).await
            }
            Ok(DatabaseStatement::Alter {
                name,
                options,
                rw_split,
            }) => {
                self.alter_database(name.as_deref(), &options, rw_split.as_deref(), more)
                    .await
            }
        };
        match result {
            Ok(done) => Ok(done),
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// Refuses names MariaDB refuses and names of schemas clients may not touch.
    fn check_database_name(&self, name: &str, privilege: Privilege) -> Result<(), MysqlError> {
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.ends_with(' ') {
            return Err(MysqlError::new(
                WRONG_DB_NAME,
                format!("Incorrect database name '{name}'"),
            ));
        }
        let private = {
            use strata_sql::SchemaPolicy;
            self.ctx.private_schemas.denied(name)
        };
        let granted = self
            .identity
            .account
            .database_privileges(name)
            .contains(strata_catalog::accounts::PrivSet::of(privilege));
        if private || name.eq_ignore_ascii_case("information_schema") || !granted {
            return Err(self.database_denied(name));
        }
        Ok(())
    }

    /// `ALTER DATABASE db RW_SPLIT 'mode'`: a database made through SQL takes the new
    /// mode at its sessions' next read.
    /// `ALTER DATABASE [name] [options] [RW_SPLIT 'mode']`: MySQL's options are applied to
    /// the database's physical database on each of its data nodes (where SHOW CREATE
    /// DATABASE reads them back), Strata's RW_SPLIT to its catalog record.
    async fn alter_database(
        &mut self,
        name: Option<&str>,
        options: &str,
        mode: Option<&str>,
        more: bool,
    ) -> Result<Answer, MysqlError> {
        let Some(name) = name.map(str::to_string).or_else(|| self.state.db.clone()) else {
            return Err(MysqlError::no_database());
        };
        self.check_database_name(&name, Privilege::Alter)?;
        self.refuse_in_read_only_session()?;
        let rw_split = mode.map(|m| rw_split_named(&name, m)).transpose()?;
        let db = self.ctx.topology.db(&name);
        if !options.is_empty() {
            self.commit_before_ddl().await?;
            match &db {
                Some(db) => {
                    for &dnid in &db.data_nodes {
                        let physical = self.ctx.topology.physical(db, dnid);
                        let physical = physical.as_deref().unwrap_or(&name);
                        let text = format!("ALTER DATABASE {} {options}", quote_ident(physical));
                        self.node_result(dnid, None, &text).await?;
                    }
                }
                // No such database: the home data node answers as MariaDB does (it names
                // the directory it could not write), the name being no storage schema
                // or physical database (checked above).
                None => {
                    let (dnid, _) = self.home_node()?;
                    let text = format!("ALTER DATABASE {} {options}", quote_ident(&name));
                    self.node_result(dnid, None, &text).await?;
                }
            }
        }
        if let Some(rw_split) = rw_split {
            self.ctx
                .topology
                .catalog()
                .set_database_rw_split(&name, rw_split)
                .map_err(|e| catalog_error(&e))?;
        }
        self.ok(1, more);
        Ok(Answer::Ok)
    }

    async fn create_database(
        &mut self,
        create: CreateDatabase,
        more: bool,
    ) -> Result<Answer, MysqlError> {
        let name = create.name.as_str();
        if create.or_replace && create.if_not_exists {
            return Err(MysqlError::new(
                WRONG_USAGE,
                "Incorrect usage of OR REPLACE and IF NOT EXISTS",
            ));
        }
        if name.contains(char::REPLACEMENT_CHARACTER) {
            // The statement's bytes were not UTF-8 (a koi8r or cp1251 client's letters):
            // the session's text has U+FFFD for each, so the catalog would record a name
            // the storage server (decoding the client's bytes) does not have.
            return Err(MysqlError::not_supported(
                "CREATE DATABASE of a name that is not UTF-8 in the statement's bytes (names are not decoded from other client character sets)",
            ));
        }
        self.check_database_name(name, Privilege::Create)?;
        self.refuse_in_read_only_session()?;
        if let Err(why) = strata_catalog::validate_logic_db_name(name) {
            // `#mysql50#` and NUL: MariaDB refuses them the same way; a system
            // schema's name reaching here (an account allowed to touch it) stays
            // Strata's own.
            if name.starts_with("#mysql50#") || name.contains('\0') {
                return Err(MysqlError::new(
                    WRONG_DB_NAME,
                    format!("Incorrect database name '{name}'"),
                ));
            }
            return Err(MysqlError::not_supported(&format!(
                "CREATE DATABASE with this name ({why})"
            )));
        }
        let topo = &self.ctx.topology;
        let mut replaced = 0;
        if let Some(existing) = topo
            .dbs()
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
        {
            if create.or_replace {
                self.check_database_name(name, Privilege::Drop)?;
                replaced = self.drop_everywhere(&existing.name).await?;
            } else if create.if_not_exists {
                return self.note_database_exists(&existing, more).await;
            } else {
                return Err(MysqlError::new(
                    codes::DB_CREATE_EXISTS,
                    format!("Can't create database '{name}'; database exists"),
                ));
            }
        }
        let data_nodes = match &create.data_nodes {
            Some(nodes) => DataNodeId::from_numbers(nodes),
            None => {
                let config = &self.ctx.topology.catalog().config().server;
                match &config.new_database_data_nodes {
                    Some(nodes) => nodes.clone(),
                    None => self.ctx.topology.nodes().map(|n| n.id).collect(),
                }
            }
        };
        let rw_split = match create.rw_split.as_deref() {
            None => {
                let config = &self.ctx.topology.catalog().config().server;
                config.new_database_rw_split
            }
            Some(mode) => rw_split_named(name, mode)?,
        };
        if let Some(unknown) = data_nodes
            .iter()
            .find(|id| self.ctx.topology.node(**id).is_none())
        {
            return Err(MysqlError::new(
                codes::UNKNOWN,
                format!("CREATE DATABASE '{name}': data node {unknown} is not defined"),
            ));
        }
        self.commit_before_ddl().await?;
        let text = format!("CREATE DATABASE {} {}", quote_ident(name), create.options);
        let outcomes = self.on_each_node(&data_nodes, &text, None).await;
        let created: Vec<DataNodeId> = outcomes
            .iter()
            .filter(|o| o.result.is_ok())
            .map(|o| o.dnid)
            .collect();
        let failure = outcomes.into_iter().find_map(|o| match o.result {
            Err(e) => Some((o.dnid, e)),
            Ok(_) => None,
        });
        if let Some((dnid, e)) = failure {
            return Err(self.undo_create(name, &created, dnid, e).await);
        }
        let recorded = self
            .ctx
            .topology
            .catalog()
            .create_database_with_own_schema(name, data_nodes, None, rw_split);
        if let Err(e) = recorded {
            let undo = self
                .undo_create(name, &created, DataNodeId::new(0), catalog_error(&e))
                .await;
            return Err(undo);
        }
        self.ctx.private_schemas.add_logical(name);
        // MariaDB counts the tables CREATE OR REPLACE dropped, plus one.
        self.ok(replaced + 1, more);
        Ok(Answer::Ok)
    }

    /// Drops the physical databases just created after a data node failed, and says
    /// what is left where (nothing, normally).
    async fn undo_create(
        &mut self,
        name: &str,
        created: &[DataNodeId],
        failed_node: DataNodeId,
        e: MysqlError,
    ) -> MysqlError {
        let text = format!("DROP DATABASE IF EXISTS {}", quote_ident(name));
        let left: Vec<DataNodeId> = self
            .on_each_node(created, &text, Some(name))
            .await
            .into_iter()
            .filter(|o| o.result.is_err())
            .map(|o| o.dnid)
            .collect();
        if created.is_empty() && failed_node.get() != 0 {
            // Nothing was created: the storage node's own answer is the right one
            // (1007 when the physical database exists, an invalid character set, ...).
            return e;
        }
        let place = if failed_node.get() == 0 {
            "in the catalog".to_string()
        } else {
            format!("on data node {failed_node}")
        };
        let remains = if left.is_empty() {
            "nothing was created".to_string()
        } else {
            format!(
                "its physical database remains on data node(s) {} (drop it there)",
                list(&left)
            )
        };
        MysqlError {
            message: format!(
                "CREATE DATABASE '{name}' failed {place}: {}; {remains}",
                e.message
            ),
            ..e
        }
    }

    async fn drop_database(
        &mut self,
        name: &str,
        if_exists: bool,
        more: bool,
    ) -> Result<Answer, MysqlError> {
        self.check_database_name(name, Privilege::Drop)?;
        self.refuse_in_read_only_session()?;
        let Some(db) = self.ctx.topology.db(name) else {
            if if_exists {
                return self.note_database_missing(name, more).await;
            }
            return Err(MysqlError::new(
                codes::DB_DROP_EXISTS,
                format!("Can't drop database '{name}'; database doesn't exist"),
            ));
        };
        if db.physical.is_none() {
            return Err(MysqlError::not_supported(
                "DROP DATABASE of a database defined in the configuration file (remove it there)",
            ));
        }
        self.commit_before_ddl().await?;
        let dropped = self.drop_everywhere(name).await?;
        if self.state.db.as_deref() == Some(name) {
            self.leave_database();
            self.client.tracker.database_dropped();
            self.deselect_pinned().await;
        }
        self.ok(dropped, more);
        Ok(Answer::Ok)
    }

    /// Drops a database's physical databases on all its data nodes, then its catalog
    /// entry; returns the number of tables dropped (as MariaDB's affected rows).
    async fn drop_everywhere(&mut self, name: &str) -> Result<u64, MysqlError> {
        let Some(db) = self.ctx.topology.db(name) else {
            return Ok(0);
        };
        let physical = db.physical.clone().unwrap_or_else(|| name.to_string());
        let text = format!("DROP DATABASE IF EXISTS {}", quote_ident(&physical));
        let outcomes = self
            .on_each_node(&db.data_nodes, &text, Some(&physical))
            .await;
        let dropped: Vec<DataNodeId> = outcomes
            .iter()
            .filter(|o| o.result.is_ok())
            .map(|o| o.dnid)
            .collect();
        let tables = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .copied()
            .max()
            .unwrap_or(0);
        if let Some((dnid, e)) = outcomes.into_iter().find_map(|o| match o.result {
            Err(e) => Some((o.dnid, e)),
            Ok(_) => None,
        }) {
            let done = if dropped.is_empty() {
                String::new()
            } else {
                format!(" (dropped on data node(s) {})", list(&dropped))
            };
            return Err(MysqlError {
                message: format!(
                    "DROP DATABASE '{name}' failed on data node {dnid}: {}{done}; the database stays until DROP DATABASE succeeds on every data node (run it again)",
                    e.message
                ),
                ..e
            });
        }
        self.ctx
            .topology
            .catalog()
            .drop_database(name)
            .map_err(|e| catalog_error(&e))?;
        self.ctx.private_schemas.remove_logical(name);
        Ok(tables)
    }

    /// `CREATE DATABASE IF NOT EXISTS` of an existing database: OK with MariaDB's note
    /// 1007, which the database's home storage node gives for its physical database
    /// (so SHOW WARNINGS finds it there). Databases whose physical name differs from
    /// the logical one get a plain OK rather than a note naming the physical database.
    async fn note_database_exists(
        &mut self,
        db: &strata_catalog::LogicDb,
        more: bool,
    ) -> Result<Answer, MysqlError> {
        let home = crate::context::home_node(db).unwrap_or(DataNodeId::new(0));
        match self.ctx.topology.physical(db, home) {
            Some(physical) if *physical == *db.name => {
                let text = format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(&physical));
                self.forward_to(home, Some(physical), &text, text.as_bytes(), more)
                    .await
                    .map_err(|e| MysqlError::new(codes::UNKNOWN, e.to_string()))
            }
            _ => {
                self.ok(0, more);
                Ok(Answer::Ok)
            }
        }
    }

    /// `DROP DATABASE IF EXISTS` of a database that does not exist: OK with MariaDB's
    /// note 1008, from the session's home storage node when it has no physical database
    /// of that name either (so nothing is dropped there), else a plain OK.
    async fn note_database_missing(
        &mut self,
        name: &str,
        more: bool,
    ) -> Result<Answer, MysqlError> {
        let (dnid, _) = self.home_node().or_else(|_| {
            self.ctx
                .topology
                .nodes()
                .map(|n| n.id)
                .min()
                .map(|id| (id, None))
                .ok_or_else(|| MysqlError::new(codes::UNKNOWN, "no data node is configured"))
        })?;
        let probe = format!(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
            super::isolation::sql_string(name)
        );
        let absent = match self.run_on_node(dnid, &probe, true, None).await {
            Ok(rows) => rows == 0,
            Err(_) => false,
        };
        if !absent {
            self.ok(0, more);
            return Ok(Answer::Ok);
        }
        let text = format!("DROP DATABASE IF EXISTS {}", quote_ident(name));
        self.forward_to(dnid, None, &text, text.as_bytes(), more)
            .await
            .map_err(|e| MysqlError::new(codes::UNKNOWN, e.to_string()))
    }

    /// Runs `sql` on a pooled connection (no database selected) of every listed data
    /// node, one after the other.
    async fn on_each_node(
        &mut self,
        nodes: &[DataNodeId],
        sql: &str,
        dropped: Option<&str>,
    ) -> Vec<NodeOutcome> {
        let mut outcomes = Vec::with_capacity(nodes.len());
        for &dnid in nodes {
            let result = self.run_on_node(dnid, sql, false, dropped).await;
            if let Err(e) = &result {
                tracing::warn!(dnid = dnid.get(), statement = %sql, error = %e.message, "database statement failed on a data node");
            }
            outcomes.push(NodeOutcome { dnid, result });
        }
        outcomes
    }

    /// Runs one statement on data node `dnid` on a pooled connection with the session's
    /// variables (`CHARACTER SET DEFAULT` means the session's character_set_server):
    /// the number of rows (a query) or affected rows (anything else).
    pub(super) async fn run_on_node(
        &mut self,
        dnid: DataNodeId,
        sql: &str,
        query: bool,
        dropped: Option<&str>,
    ) -> Result<u64, MysqlError> {
        // A pooled connection, not one of the session's: a session holding state on
        // one node's connection (user variables, ...) may still create a database on
        // every node.
        if let Some(db) = dropped {
            if let Some(result) = self.drop_on_pinned(dnid, sql, db).await {
                return result;
            }
        }
        let node = self.ctx.topology.node(dnid).ok_or_else(|| {
            MysqlError::new(
                codes::UNKNOWN,
                format!("data node {dnid} is not configured"),
            )
        })?;
        let pool = std::sync::Arc::clone(&node.pool);
        let mut lease = pool
            .acquire(None)
            .await
            .map_err(|e| backend_error(dnid, &e))?;
        if let Err(e) = lease
            .sync_state(None, &self.state.vars.without_idle_limits())
            .await
        {
            lease.mark_broken();
            return Err(backend_error(dnid, &e));
        }
        // The process list shows what its thread waits for (a schema metadata lock
        // while another session holds LOCK TABLES: scripts wait on that state), and
        // KILL QUERY reaches it.
        self.note_backend(Some(&lease));
        let result = if query {
            lease.query(sql).await.map(|rows| rows.len() as u64)
        } else {
            lease.execute(sql).await.map(|ok| ok.affected_rows)
        };
        self.note_backend(None);
        if let Some(db) = dropped {
            // MariaDB leaves the connection that dropped its current database without
            // one, while the lease still believes it is there: never reuse it.
            if lease.applied_db() == Some(db) {
                lease.mark_broken();
            }
        }
        drop(lease);
        result.map_err(|e| backend_error(dnid, &e))
    }

    /// Runs `DROP DATABASE` (`sql`) of physical database `db` on the session's pinned
    /// connection to `dnid` when that connection has `db` selected: MariaDB then leaves
    /// it without a current database, so later statements get 1046 as on MariaDB (a
    /// pooled connection would drop it and leave the pinned one in the dropped
    /// database). None when there is no such connection.
    async fn drop_on_pinned(
        &mut self,
        dnid: DataNodeId,
        sql: &str,
        db: &str,
    ) -> Option<Result<u64, MysqlError>> {
        let mut lease = self.backends.take(dnid)?;
        if lease.applied_db() != Some(db) {
            self.backends.pinned.push(lease);
            return None;
        }
        self.note_backend(Some(&lease));
        let result = lease.execute(sql).await.map(|ok| ok.affected_rows);
        self.note_backend(None);
        if result.is_ok() {
            lease.forget_database();
        }
        self.finish(lease);
        Some(result.map_err(|e| backend_error(dnid, &e)))
    }

    /// MariaDB commits the open transaction before CREATE/DROP DATABASE.
    /// After `SET SESSION TRANSACTION READ ONLY` every transaction is read-only, and
    /// MariaDB refuses DDL (1792) before it looks at the database it names.
    fn refuse_in_read_only_session(&self) -> Result<(), MysqlError> {
        let read_only = ["tx_read_only", "transaction_read_only"]
            .iter()
            .any(|name| {
                self.state.vars.value(name).is_some_and(|v| {
                    let v = v.trim_matches(|c| c == '\'' || c == '"');
                    v == "1" || v.eq_ignore_ascii_case("ON") || v.eq_ignore_ascii_case("TRUE")
                })
            });
        if read_only {
            return Err(MysqlError::new(
                codes::CANT_EXECUTE_IN_READ_ONLY_TRANSACTION,
                "Cannot execute statement in a READ ONLY transaction",
            ));
        }
        Ok(())
    }

    async fn commit_before_ddl(&mut self) -> Result<(), MysqlError> {
        if self.txn.open.is_some() {
            return self.commit_txn().await;
        }
        for i in 0..self.backends.pinned.len() {
            if self.backends.pinned[i].in_transaction() {
                let dnid = self.backends.pinned[i].target().dnid;
                self.backends.pinned[i]
                    .execute("COMMIT")
                    .await
                    .map_err(|e| backend_error(dnid, &e))?;
            }
        }
        Ok(())
    }

    /// After dropping the current database, the session's pinned connections may still
    /// have a database selected (the one they last used): an unqualified name must be
    /// 1046 there too, not a table of that database. A connection that cannot be made
    /// so is given up (its state with it) rather than left to answer wrongly.
    async fn deselect_pinned(&mut self) {
        for lease in self.backends.pinned.iter_mut() {
            let scratch = format!("strata_deselect_{}", lease.thread_id());
            if let Err(e) = lease.deselect_database(&scratch).await {
                tracing::warn!(error = %e, "cannot deselect the database of a pinned storage connection; closing it");
                lease.mark_broken();
            }
        }
    }

    /// After dropping the current database: no database is selected, as in MariaDB.
    fn leave_database(&mut self) {
        self.state.db = None;
        self.state.home = None;
        self.state.rename = None;
        self.state.multi_node = false;
        self.publish_database();
    }
}

fn catalog_error(e: &CatalogError) -> MysqlError {
    match e {
        CatalogError::DatabaseExists(_) => MysqlError::new(codes::DB_CREATE_EXISTS, e.to_string()),
        _ => MysqlError::new(codes::UNKNOWN, e.to_string()),
    }
}

fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn list(nodes: &[DataNodeId]) -> String {
    nodes
        .iter()
        .map(DataNodeId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The read/write splitting mode `mode` names, for database `db`; 1105 for none.
fn rw_split_named(db: &str, mode: &str) -> Result<RwSplit, MysqlError> {
    RwSplit::from_name(mode).ok_or_else(|| {
        MysqlError::new(
            codes::UNKNOWN,
            format!(
                "Database '{db}': RW_SPLIT '{mode}' is not one of 'off', 'replicas', 'primary_and_replicas'"
            ),
        )
    })
}

/// MariaDB's 1300 for a database name with a character its system character set
/// (utf8mb3) cannot hold, sent in a UTF-8 or binary client character set: it converts
/// the name before it looks for the database.
pub(super) fn invalid_database_name(db: &str, collation: u8) -> Option<MysqlError> {
    use strata_mysql::charset::Charset;
    let charset = strata_mysql::collation::Collation::from_id(u16::from(collation))?.charset();
    if !matches!(
        charset,
        Charset::Utf8mb4 | Charset::Utf8mb3 | Charset::Binary
    ) || db.chars().all(|c| u32::from(c) <= 0xFFFF)
    {
        return None;
    }
    let mut shown = String::with_capacity(db.len() * 2);
    for b in db.bytes() {
        if b.is_ascii_graphic() || b == b' ' {
            shown.push(char::from(b));
        } else {
            shown.push_str(&format!("\\x{b:02X}"));
        }
    }
    Some(MysqlError::new(
        codes::CANNOT_CONVERT_STRING,
        format!("Invalid {} character string: '{shown}'", charset.name()),
    ))
}
