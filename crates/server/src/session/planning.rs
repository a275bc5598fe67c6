//! Statements in a logical database that spans several data nodes go through the
//! planner: it decides which data nodes run what, and the session executes the plan
//! (`distributed.rs`) and records catalog changes (DDL). Databases on one data node
//! skip all of this and forward directly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use strata_catalog::fence::{fenced_table, FencedTable};

use strata_catalog::sharding::{KeyLiteral, ShardingRule};
use strata_catalog::store::etcd::TableLocks;
use strata_catalog::Catalog;
use strata_catalog::DataNodeId;
use strata_planner::{
    CatalogChange, CatalogView, DatabaseInfo, IdAllocator, NamedRule, Plan, PlanContext, PlanError,
    Planned, Reply, TableInfo,
};
use strata_protocol::MysqlError;

use super::fence::{Admitted, Fenced};
use super::{Answer, ReplyFormat, Session, SessionError};

/// Plannings of one statement while the metadata keeps moving under it, before it
/// waits instead.
const STALE_REPLANS: usize = 16;

/// The planner's view of the compute node's catalog; in a cluster it notes every
/// table the planner looked up (what the plan stands on, for the metadata fence).
struct CatalogAdapter<'a> {
    catalog: &'a Catalog,
    looked_up: Option<Mutex<Vec<FencedTable>>>,
    /// The session's temporary tables, which shadow the catalog's.
    temporary: &'a super::temporary_tables::TemporaryTables,
    /// The data node holding the session's connection state, if any.
    state_node: Option<DataNodeId>,
}

impl CatalogAdapter<'_> {
    fn note(&self, db: &str, name: &str) {
        if let Some(looked_up) = &self.looked_up {
            looked_up
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(fenced_table(db, name));
        }
    }
}

impl CatalogView for CatalogAdapter<'_> {
    fn database(&self, db: &str) -> Option<DatabaseInfo> {
        let logic = self.catalog.logic_db(db)?;
        Some(DatabaseInfo {
            data_nodes: logic.data_nodes.clone(),
            // Tables created without a distribution stay on the database's first default
            // data node until automatic sharding of plain CREATE TABLE is switched on.
            default_data_nodes: if self.catalog.config().server.auto_shard_plain_tables {
                logic.default_data_nodes.clone()
            } else {
                logic
                    .default_data_nodes
                    .first()
                    .copied()
                    .into_iter()
                    .collect()
            },
        })
    }

    fn table(&self, db: &str, name: &str) -> Option<Arc<TableInfo>> {
        if let Some(dnid) = self.temporary.lookup(db, name) {
            // The session's own: whole on the node of its connection.
            let vertical = strata_catalog::sharding::Distribution::Vertical { dnid };
            return Some(Arc::new(TableInfo::new(vertical)));
        }
        self.note(db, name);
        self.catalog.table(db, name)
    }

    fn temporary_table(&self, db: &str, name: &str) -> Option<DataNodeId> {
        self.temporary.lookup(db, name)
    }

    fn temporary_node(&self) -> Option<DataNodeId> {
        self.state_node
    }

    fn view(&self, db: &str, name: &str) -> Option<Arc<strata_catalog::ViewInfo>> {
        self.note(db, name);
        self.catalog.view(db, name)
    }

    fn any_views(&self) -> bool {
        self.catalog.any_views()
    }

    fn declared_table(
        &self,
        db: &str,
        name: &str,
    ) -> Option<strata_catalog::sharding::Distribution> {
        use strata_catalog::sharding::{Distribution, KeyType};
        self.note(db, name);
        let declared = self.catalog.declared_table(db, name)?;
        // The key type is a stand-in: the planner reads it from the column definition
        // and checks it against the rule.
        let stand_in = |column: &str, rule: &ShardingRule| {
            Ok::<_, std::convert::Infallible>(Distribution::Sharded {
                column: column.to_string(),
                key_type: KeyType::Integer {
                    unsigned: false,
                    bytes: None,
                },
                rule: rule.clone(),
            })
        };
        declared.distribution.resolve(stand_in).ok()
    }

    fn sharding_rule(&self, name: &str) -> Option<NamedRule> {
        self.catalog.rule(name).map(|r| NamedRule {
            rule: (*r).clone(),
            column: None,
        })
    }

    // A `[[rule]]` is what HotDB calls a sharding function (type, parameters, data
    // nodes; the column comes with each table), so FUNCTIONNAME/FUNCTIONID name one.
    fn sharding_function(&self, name: &str) -> Option<ShardingRule> {
        self.catalog.rule(name).map(|r| (*r).clone())
    }
}

/// Global AUTO_INCREMENT values from the catalog's persisted sequences.
struct SequenceAllocator<'a> {
    catalog: &'a Catalog,
}

impl IdAllocator for SequenceAllocator<'_> {
    fn allocate(&self, db: &str, table: &str, count: u64) -> Result<std::ops::Range<u64>, String> {
        self.catalog
            .sequences()
            .next(db, table, count)
            .map_err(|e| e.to_string())
    }

    fn observe(&self, db: &str, table: &str, value: u64) {
        if let Err(e) = self.catalog.sequences().observe(db, table, value) {
            tracing::warn!(db, table, value, error = %e, "cannot move the AUTO_INCREMENT sequence");
        }
    }
}

/// Where a prepared statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PreparedRoute {
    /// The session's home node (a database on one node, or a statement that is not
    /// planned).
    Home,
    /// This data node.
    Node(DataNodeId),
    /// Several data nodes: the execution runs as text with its values bound, through
    /// the planner and the driver (`execute_several`).
    Several,
}

/// Maps a planner error to the client's error.
pub(crate) fn plan_error(e: &PlanError) -> MysqlError {
    MysqlError {
        code: e.code(),
        state: e.sqlstate(),
        message: e.to_string(),
    }
}

impl Session {
    /// True when statements need the planner: the current database spans several data
    /// nodes, or the statement carries Strata syntax (SHARD BY, routing hints). Cheap on
    /// the single-node path: only CREATE statements and comments are looked into.
    pub(super) fn needs_planner(
        &self,
        sql: &str,
        kind: strata_sql::StatementKind,
        bytes: strata_sql::ByteSummary,
    ) -> bool {
        if self.state.multi_node || self.names_multi_node_database(sql, kind) {
            return true;
        }
        let has = |needle: &[u8]| strata_sql::contains_ignore_ascii_case(sql.as_bytes(), needle);
        match kind {
            strata_sql::StatementKind::Create => has(b"shard"),
            _ => {
                bytes.slash()
                    && sql.contains("/*")
                    && (has(b"strata:") || has(b"hotdb:"))
                    // rw= hints choose primary or replica, not a data node.
                    && !strata_sql::rw::only_rw_hints(sql)
            }
        }
    }

    /// True when `sql` qualifies a table with a database over several data nodes: run
    /// from another (or no) current database it must be planned too, or it would reach
    /// only the home node (a DROP TABLE there left the table on the other nodes and in
    /// the catalog).
    fn names_multi_node_database(&self, sql: &str, kind: strata_sql::StatementKind) -> bool {
        if !sql.contains('.') {
            return false;
        }
        let topo = &self.ctx.topology;
        strata_sql::table_references(sql, kind)
            .refs
            .iter()
            .filter_map(|r| r.schema.as_deref())
            .any(|schema| topo.db(schema).is_some_and(|db| db.data_nodes.len() > 1))
    }

    /// Plans a statement without running it; `params` are a prepared statement's values.
    pub(super) fn plan_only(
        &self,
        sql: &str,
        params: Option<&[KeyLiteral]>,
    ) -> Result<Planned, MysqlError> {
        self.plan_only_digested(sql, &strata_sql::normalize_digest(sql), params)
    }

    /// [`Session::plan_only`] with the statement's digest already computed.
    pub(super) fn plan_only_digested(
        &self,
        sql: &str,
        digest: &strata_sql::Digest,
        params: Option<&[KeyLiteral]>,
    ) -> Result<Planned, MysqlError> {
        self.with_plan_context(params, |plan_ctx, view| {
            self.ctx
                .plans
                .plan_digested(sql, digest, plan_ctx, view)
                .map_err(|e| plan_error(&e))
        })
        .map_err(|f| self.fenced_error(&f))?
    }

    /// [`Session::plan_only_digested`] that waits while a DDL changes one of the
    /// statement's tables, then plans it again.
    async fn plan_waiting_digested(
        &self,
        sql: &str,
        digest: &strata_sql::Digest,
    ) -> Result<Planned, MysqlError> {
        self.plan_waiting(|| {
            self.with_plan_context(None, |plan_ctx, view| {
                self.ctx
                    .plans
                    .plan_digested(sql, digest, plan_ctx, view)
                    .map_err(|e| plan_error(&e))
            })
        })
        .await
    }

    /// The client's error for a statement the fence did not admit (no waiting).
    pub(super) fn fenced_error(&self, fenced: &Fenced) -> MysqlError {
        fenced.error(self.ctx.config.server.node_id, None)
    }

    /// The plan that runs the read `sql` on one data node over copies of its tables,
    /// for a query plan the merge refused once it saw the nodes' columns.
    pub(super) fn materialize_plan(&self, sql: &str) -> Option<strata_planner::Materialize> {
        self.with_plan_context(
            None,
            |plan_ctx, view| match strata_planner::materialize_plan(sql, plan_ctx, view) {
                Some(Plan::Materialize(m)) => Some(m),
                _ => None,
            },
        )
        .ok()
        .flatten()
    }

    /// Runs `f` with the planner's view of this session and of the catalog, as often as
    /// the metadata fence asks (in a cluster: until what `f` planned on is admitted).
    pub(super) fn with_plan_context<T>(
        &self,
        params: Option<&[KeyLiteral]>,
        mut f: impl FnMut(&PlanContext<'_>, &dyn CatalogView) -> T,
    ) -> Result<T, Fenced> {
        let catalog = self.ctx.topology.catalog();
        let fenced = catalog.fence().is_active();
        let ids = SequenceAllocator { catalog };
        let mut last = None;
        let state_node = self.backends.state_node.filter(|_| self.backends.sticky);
        for _ in 0..STALE_REPLANS {
            let version = catalog.fence().version();
            let view = CatalogAdapter {
                catalog,
                looked_up: fenced.then(Mutex::default),
                temporary: &self.backends.temporary,
                state_node,
            };
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0);
            let (now_micros, local_time) = self.plan_clock(now);
            let wants_local_time = AtomicBool::new(false);
            let plan_ctx = PlanContext {
                db: self.state.db.as_deref(),
                params,
                home_node: self.state.home.as_ref().map(|(d, _)| *d),
                now_micros,
                sysdate_micros: now,
                local_time,
                wants_local_time: Some(&wants_local_time),
                seed: rand::random(),
                ids: Some(&ids),
                no_auto_value_on_zero: false,
                key_values: Some(&self.statement.key_values),
                routines: Some(&self.statement.routines),
            };
            let planned = f(&plan_ctx, &view);
            if wants_local_time.load(Ordering::Relaxed) {
                self.statement.clock.wanted.set();
            }
            if !fenced {
                return Ok(planned);
            }
            let tables = view
                .looked_up
                .map(|l| l.into_inner().unwrap_or_else(|p| p.into_inner()))
                .unwrap_or_default();
            match self.admit(&tables, version) {
                Admitted::Yes => return Ok(planned),
                Admitted::Again => last = tables.into_iter().next(),
                Admitted::No(why) => return Err(why),
            }
        }
        Err(Fenced::Pending(last.unwrap_or_default()))
    }

    /// Where a prepared statement runs in a database spanning several nodes. At PREPARE
    /// (no values) a statement that will need several nodes is prepared on the first of
    /// them for its metadata; at EXECUTE one that needs several is `Several`.
    pub(super) fn route_prepared(
        &self,
        sql: &str,
        digest: &strata_sql::Digest,
        params: Option<&[KeyLiteral]>,
    ) -> Result<PreparedRoute, MysqlError> {
        if !self.state.multi_node {
            return Ok(PreparedRoute::Home);
        }
        use strata_sql::StatementKind as K;
        let kind = strata_sql::classify(sql);
        if !matches!(
            kind,
            K::Select | K::Insert | K::Replace | K::Update | K::Delete
        ) {
            // Transaction control, SET and the like run on the home node; see
            // `stmt_execute` for transaction control over several nodes.
            return Ok(PreparedRoute::Home);
        }
        let planned = match self.plan_only_digested(sql, digest, params) {
            Ok(planned) => planned,
            // Wants the session's local time from the home data node: a statement over
            // several nodes, planned again (and the time fetched) when it runs.
            Err(_)
                if self.statement.clock.wanted.take()
                    || self.statement.key_values.query().is_some()
                    || self.statement.routines.wanted().is_some() =>
            {
                return Ok(match params {
                    Some(_) => PreparedRoute::Several,
                    None => PreparedRoute::Home,
                })
            }
            Err(e) => return Err(e),
        };
        Ok(match (&planned.plan, params) {
            (Plan::Route(route), _) => PreparedRoute::Node(route.dnid),
            // Prepared (for its metadata) where it would run.
            (Plan::Materialize(m), None) => PreparedRoute::Node(m.dnid),
            (plan, None) => plan
                .node_statements()
                .first()
                .map_or(PreparedRoute::Home, |(dnid, _)| PreparedRoute::Node(*dnid)),
            _ => PreparedRoute::Several,
        })
    }

    /// EXPLAIN: per data node, the SQL that will run there, and the operator tree that
    /// combines the replies, with this session's merge memory budget.
    async fn explain(&mut self, sql: &str, target: &str, reply: ReplyFormat) -> Answer {
        let mut planned = self.plan_only(target, None);
        // The local time, then key values, may each be wanted once.
        for _ in 0..2 {
            if planned.is_ok() {
                break;
            }
            match self.fetch_wanted().await {
                Ok(true) => planned = self.plan_only(target, None),
                Ok(false) => break,
                Err(e) => planned = Err(e),
            }
        }
        match planned {
            Ok(planned) => {
                let budget = self.ctx.config.merge.memory_budget;
                let explanation = strata_planner::explanation(&planned.plan, Some(budget));
                if let Err(e) = self.node_verdict(&planned.plan, &explanation).await {
                    self.err(&e);
                    return Answer::Failed;
                }
                let mut result = crate::results::LocalResult::text(&["DNID", "SQL", "Merge"]);
                result.columns[0] = strata_protocol::packets::ColumnDef::bigint("DNID", true);
                for (i, (dnid, sql)) in explanation.rows.into_iter().enumerate() {
                    let merge = (i == 0).then(|| explanation.merge.clone());
                    result
                        .rows
                        .push(vec![Some(dnid.to_string()), Some(sql), merge]);
                }
                self.write_local_as(&result, reply);
                Answer::Ok
            }
            Err(e) => {
                let e = self.syntax_verdict(sql, e, false).await;
                self.err(&e);
                Answer::Failed
            }
        }
    }

    /// MariaDB's own error for a read Strata explains (an illegal mix of collations, a
    /// function it refuses, ...), which the plan alone does not show: the first data
    /// node explains the text it would run. Reads whose texts depend on an earlier step
    /// (copies, a subquery's values) are not asked.
    async fn node_verdict(
        &mut self,
        plan: &Plan,
        explanation: &strata_planner::Explanation,
    ) -> Result<(), MysqlError> {
        let staged = [
            "Materialize",
            "SubqueryFirst",
            "InsertSelect",
            "MultiTableWrite",
        ];
        let Some((dnid, text)) = explanation.rows.first() else {
            return Ok(());
        };
        let select = super::query::starts_with_word(text, "SELECT");
        if !matches!(plan, Plan::Query(_) | Plan::Route(_))
            || !select
            || staged.iter().any(|s| explanation.merge.contains(s))
        {
            return Ok(());
        }
        let physical = self.physical_of(*dnid);
        let mut lease = self.lease(*dnid, physical.as_deref()).await?;
        let verdict = lease.query(&format!("EXPLAIN {text}")).await;
        self.finish(lease);
        match verdict {
            Err(e @ strata_backend::BackendError::Server(_)) => {
                Err(super::backends::backend_error(*dnid, &e))
            }
            _ => Ok(()),
        }
    }

    /// Plans a statement and runs the plan; `EXPLAIN <statement>` shows the plan instead.
    pub(super) async fn planned(
        &mut self,
        sql: &str,
        raw: &[u8],
        reply: ReplyFormat,
    ) -> Result<Answer, SessionError> {
        let more = reply.more;
        let keep_digest = std::mem::take(&mut self.statement.keep_digest);
        if let Some(target) = strata_planner::explain_target(sql) {
            return Ok(self.explain(sql, target, reply).await);
        }
        if super::merge_limits::auto_is_null(&self.state.vars)
            && strata_sql::row_count::tests_is_null(sql)
        {
            self.err(&MysqlError::not_supported(
                "IS NULL while sql_auto_is_null=1 in a database over several data nodes (the AUTO_INCREMENT value it finds is the compute node's)",
            ));
            return Ok(Answer::Failed);
        }
        if let Some(answer) = self.with_sequence_values(sql, reply).await? {
            return Ok(answer);
        }
        let digest = strata_sql::normalize_digest(sql);
        let mut planned = self.plan_waiting_digested(sql, &digest).await;
        // Refused for want of the session's local time, or of the values of sharding-key
        // expressions: planned again with what the home data node gave (each once).
        for _ in 0..3 {
            if planned.is_ok() {
                break;
            }
            match self.fetch_wanted().await {
                Ok(true) => planned = self.plan_waiting_digested(sql, &digest).await,
                Ok(false) => break,
                Err(e) => planned = Err(e),
            }
        }
        let ctx = self.ctx.clone();
        let catalog = ctx.topology.catalog();
        // Held until the DDL is recorded and in force on every compute node.
        let mut _announced = None;
        if let Ok(p) = &planned {
            let tables = ddl_tables(&p.catalog_changes);
            let announced = match self.lock_ddl_tables(&tables).await {
                Ok(None) => Ok(None),
                Ok(Some(locks)) => self.announce_ddl(catalog, &tables, locks).await.map(Some),
                Err(e) => Err(e),
            };
            match announced {
                Ok(None) => {}
                Ok(Some(announced)) => {
                    _announced = Some(announced);
                    #[cfg(feature = "failpoints")]
                    ctx.ddl_announced.at().await;
                    // Planned before the lock: another node's DDL on these tables may
                    // have changed them meanwhile.
                    planned = self.plan_only_digested(sql, &digest, None);
                }
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            }
        }
        if keep_digest {
            self.statement.digest = Some(std::sync::Arc::new(digest));
        }
        let mut planned = match planned {
            Ok(p) => p,
            Err(e) => {
                let e = self.syntax_verdict(sql, e, false).await;
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        if let Err(e) = self.screen_temporary_changes(&mut planned) {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        // Bytes that are not UTF-8 (binary strings in a dump taken without --hex-blob,
        // a latin1 client's text) are U+FFFD in `sql`: only the client's own bytes may
        // reach a data node, never text Strata wrote from it.
        if sql.as_bytes() != raw && !matches!(&planned.plan, Plan::Route(r) if r.sql == sql) {
            self.err(&MysqlError::not_supported(
                "a statement that is not valid UTF-8 (binary bytes in a string literal: \
                 write them as X'...', e.g. mariadb-dump --hex-blob) in a database over \
                 several data nodes",
            ));
            return Ok(Answer::Failed);
        }
        // Metadata shared through etcd must be writable before the data nodes change:
        // afterwards the OK is already on its way.
        let changes_tables = planned.catalog_changes.iter().any(|c| {
            matches!(
                c,
                CatalogChange::CreateTable { .. }
                    | CatalogChange::DropTable { .. }
                    | CatalogChange::RenameTable { .. }
                    | CatalogChange::CreateView { .. }
                    | CatalogChange::DropView { .. }
            )
        });
        if changes_tables {
            if let Err(e) = catalog.ready_for_ddl() {
                self.err(&MysqlError::new(
                    strata_protocol::codes::UNKNOWN,
                    e.to_string(),
                ));
                return Ok(Answer::Failed);
            }
        }
        if super::views::is_view_ddl(&planned) {
            return Ok(self.view_ddl(&planned, more).await);
        }
        let ok = match &planned.plan {
            // A prepared statement's rows must be converted: run the route through the
            // driver as a one-node query or write.
            Plan::Route(route) if reply.binary => match route.reply {
                Reply::Rows => self.execute_query(&route.as_query(), reply, None).await?,
                Reply::Ok => {
                    self.execute_write(&route.as_write(), planned.insert_id, more)
                        .await?
                }
            },
            Plan::Route(route) => {
                let physical = self.physical_of(route.dnid);
                let text = route.sql.as_str();
                let bytes = if text == sql { raw } else { text.as_bytes() };
                let before = self.state.last_insert_id;
                let owned = planned.insert_id.is_some() || planned.strata_numbers;
                self.statement.planner_owns_insert_id = owned;
                let answer = self
                    .forward_to(route.dnid, physical, text, bytes, more)
                    .await?;
                // The node's OK packet reports an explicit AUTO_INCREMENT value too;
                // LAST_INSERT_ID() changes only with a value the planner generated (or
                // one a LAST_INSERT_ID(expr) set, which the node reported). A table the
                // data node numbers (a vertical one) is settled as on one node.
                if owned && route.reply == Reply::Ok && !strata_sql::sets_last_insert_id(text) {
                    self.state.last_insert_id = planned.insert_id.unwrap_or(before);
                }
                answer
            }
            Plan::Write(write) => self.execute_write(write, planned.insert_id, more).await?,
            Plan::Query(query) => self.execute_query(query, reply, Some(sql)).await?,
            Plan::Materialize(m) => self.execute_materialize(m, reply).await?,
            Plan::ReadThenWrite(r) => self.execute_read_then_write(r, more).await?,
        };
        self.note_temporary_changes(&planned.catalog_changes, ok == Answer::Ok)
            .await;
        if ok == Answer::Ok {
            for change in &planned.catalog_changes {
                if let Err(e) = apply_change(catalog, change) {
                    tracing::error!(error = %e, ?change, "DDL ran on the data nodes but the catalog could not record it");
                }
            }
            // Read after the catalog knows the (new or renamed) table, before the OK
            // reaches the client, so its next statement merges under them.
            for change in &planned.catalog_changes {
                if let CatalogChange::ReadColumnCollations { db, name, .. } = change {
                    crate::column_collations::refresh_table(&ctx, db, name).await;
                }
            }
            // The compute node has no warning list of its own for SHOW WARNINGS yet.
            for note in &planned.notes {
                tracing::info!(session = self.identity.id, note = %note, "planner note");
            }
        }
        Ok(ok)
    }
}

impl Session {
    /// Takes the cluster-wide DDL locks of `tables` (with etcd only;
    /// None otherwise), waiting up to `[cluster] ddl_lock_timeout_ms` while another
    /// compute node's DDL holds one of them.
    async fn lock_ddl_tables(
        &self,
        tables: &[(String, String)],
    ) -> Result<Option<TableLocks>, MysqlError> {
        let store = self.ctx.topology.catalog().shared_store();
        let Some(etcd) = store.etcd() else {
            return Ok(None);
        };
        if tables.is_empty() {
            return Ok(None);
        }
        let wait = Duration::from_millis(self.ctx.config.cluster.ddl_lock_timeout_ms);
        let deadline = Instant::now() + wait;
        loop {
            match etcd.try_lock_tables(tables) {
                Ok(Some(locks)) => return Ok(Some(locks)),
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(DDL_LOCK_POLL).await;
                }
                Ok(None) => {
                    let names: Vec<String> =
                        tables.iter().map(|(d, t)| format!("{d}.{t}")).collect();
                    return Err(MysqlError::new(
                        strata_protocol::codes::LOCK_WAIT_TIMEOUT,
                        format!(
                            "Lock wait timeout exceeded: a DDL through another compute node \
                             holds {} ({} ms)",
                            names.join(", "),
                            wait.as_millis()
                        ),
                    ));
                }
                Err(e) => {
                    return Err(MysqlError::new(
                        strata_protocol::codes::UNKNOWN,
                        e.to_string(),
                    ))
                }
            }
        }
    }
}

/// How often a DDL waiting for another node's DDL on the same table looks again.
const DDL_LOCK_POLL: Duration = Duration::from_millis(20);

/// The tables (database, table) whose metadata a DDL changes; a renamed one under both
/// names.
fn ddl_tables(changes: &[CatalogChange]) -> Vec<(String, String)> {
    let mut tables = Vec::new();
    for change in changes {
        match change {
            CatalogChange::CreateTable { db, name, .. }
            | CatalogChange::CreateView { db, name, .. }
            | CatalogChange::DropView { db, name, .. }
            | CatalogChange::DropTable { db, name }
            | CatalogChange::ForgetUniqueKeys { db, name }
            | CatalogChange::ReadColumnCollations { db, name, .. } => {
                tables.push((db.clone(), name.clone()))
            }
            CatalogChange::CreateTemporaryTable { .. }
            | CatalogChange::DropTemporaryTable { .. } => {}
            CatalogChange::RenameTable {
                db: from_db,
                name: from,
                new_db: to_db,
                new_name: to,
            } => {
                tables.push((from_db.clone(), from.clone()));
                tables.push((to_db.clone(), to.clone()));
            }
        }
    }
    tables
}

fn apply_change(
    catalog: &Catalog,
    change: &CatalogChange,
) -> Result<(), strata_catalog::CatalogError> {
    match change {
        CatalogChange::CreateTable { db, name, table } => catalog
            .create_table(db, name, TableInfo::clone(table))
            .map(|_| ()),
        CatalogChange::ForgetUniqueKeys { db, name } => catalog.set_unique_keys(db, name, None),
        CatalogChange::ReadColumnCollations { db, name, fallback } => {
            catalog.update_table(db, name, |info| {
                info.column_collations = None;
                info.table_collation = None;
                if let Some(fallback) = fallback {
                    info.other_collation_columns = fallback.clone();
                }
            })
        }
        CatalogChange::DropTable { db, name } => catalog.drop_table(db, name),
        // Answered by `view_ddl` before any plan runs.
        CatalogChange::CreateView { .. } | CatalogChange::DropView { .. } => Ok(()),
        // The session's own, recorded by `note_temporary_changes`.
        CatalogChange::CreateTemporaryTable { .. } | CatalogChange::DropTemporaryTable { .. } => {
            Ok(())
        }
        CatalogChange::RenameTable {
            db,
            name,
            new_db,
            new_name,
        } => {
            if db != new_db {
                let info = catalog.table(db, name).map(|t| (*t).clone());
                catalog.drop_table(db, name)?;
                if let Some(info) = info {
                    catalog.create_table(new_db, new_name, info)?;
                }
                Ok(())
            } else {
                catalog.rename_table(db, name, new_name).map(|_| ())
            }
        }
    }
}
