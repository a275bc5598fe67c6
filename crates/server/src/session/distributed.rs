//! Statements that involve several data nodes: writes fanned out to several nodes
//! (split INSERTs, DDL, global tables), transaction control for a transaction enlisted
//! on several nodes, and queries whose results are merged.
//!
//! Plans run through `strata_executor::driver` (`run_query`, `run_write`): the session
//! gives it the storage connections (`LeaseIo`, a `NodeIo`) and the client
//! (`ClientSink`, a `RowSink`), and keeps what only it knows — leases, the XA
//! transaction of an atomic write, the read gate, the reply's status flags.

use std::sync::Arc;

use bytes::Bytes;
use strata_backend::pool::Lease;
use strata_backend::{BackendError, ResponseHead, SchemaRename};
use strata_executor::{
    MaterializeOptions, MemoryBudget, MergeOptions, NodeIo, NodeReply, QueryOutcome, RowSink, Spill,
};
use strata_planner::{Materialize, QueryPlan, ReturnedOrder, Write, WriteKind};
use strata_protocol::constants::com;
use strata_protocol::packets::{ColumnDef, OkPacket};
use strata_protocol::ResultFormat;
use strata_protocol::{codes, MysqlError};

use crate::context::ServerContext;
use crate::jobs::{JobHandle, JobKind};

use super::merge_limits::{group_concat_max_len, joins_limited};
use super::transaction::STATEMENT_SAVEPOINT;
use super::{
    backend_error, state_spanning_nodes, Answer, Handled, ReplyFormat, Session, SessionError,
};
use strata_catalog::DataNodeId;

mod ddl_guard;
mod materialize;

impl Session {
    /// Physical database of the current database on a data node (else the node's own).
    pub(super) fn physical_of(&self, dnid: DataNodeId) -> Option<Arc<str>> {
        let topo = &self.ctx.topology;
        if let Some(db) = self.state.db.as_deref().and_then(|d| topo.db(d)) {
            if db.data_nodes.contains(&dnid) {
                return topo.physical(&db, dnid);
            }
        }
        topo.node(dnid).map(|n| n.physical_db.clone())
    }

    /// Leases a connection per listed data node (in the given order).
    pub(super) async fn leases_for(
        &mut self,
        nodes: &[DataNodeId],
    ) -> Result<Vec<Lease>, MysqlError> {
        // Checked up front: `lease` checks it per node, but taking the pinned
        // connection first would leave no pinned one for that check to see.
        if nodes.len() > 1 && self.state_on_pinned_connection() {
            return Err(state_spanning_nodes());
        }
        let mut leases = Vec::with_capacity(nodes.len());
        for &dnid in nodes {
            let physical = self.physical_of(dnid);
            match self.lease(dnid, physical.as_deref()).await {
                Ok(l) => leases.push(l),
                Err(e) => {
                    for l in leases {
                        self.finish(l);
                    }
                    return Err(e);
                }
            }
        }
        Ok(leases)
    }

    /// Runs a write plan and answers with one OK packet. An atomic write (DML over
    /// several nodes, decided by the planner) runs as its own XA transaction outside a
    /// transaction; inside one, a failure on some nodes rolls the statement back on all
    /// of them (a statement savepoint) and the transaction stays open. Other writes
    /// (DDL) report which nodes applied them when some fail.
    pub(super) async fn execute_write(
        &mut self,
        write: &Write,
        insert_id: Option<u64>,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let atomic = write.atomic && self.state.multi_node && self.ctx.xa.xa();
        let implicit = atomic && self.txn.open.is_none();
        if implicit {
            self.begin_txn(false);
        }
        let savepoint = atomic && !implicit;
        let result = self.run_write(write, savepoint).await;
        let (combined, returned) = match self.end_implicit(implicit, result).await {
            Ok(parts) => (parts.combined(write.combine()), parts.returned),
            Err(e) => {
                self.statement_failed(e).await;
                return Ok(Answer::Failed);
            }
        };
        let last_insert_id = insert_id.unwrap_or(combined.last_insert_id);
        let texts = write.parts.iter().map(|p| p.sql.as_str());
        self.state
            .note_planned_insert_id(insert_id, last_insert_id, texts);
        if combined.warnings > 0 {
            self.backends.keep_for_warnings = true;
        }
        if let Some(order) = &write.returning {
            return self.answer_returned(order, returned, more).await;
        }
        let mut status = self.status();
        if more {
            status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
        }
        self.statement.outcome.affected_rows = Some(combined.affected_rows);
        let ok = OkPacket {
            affected_rows: combined.affected_rows,
            last_insert_id,
            status,
            warnings: combined.warnings,
            info: combined.info,
            session_state: Vec::new(),
        };
        self.client.write_ok(ok);
        Ok(Answer::Ok)
    }

    /// Ends the transaction an atomic statement began for itself (`implicit`):
    /// committed when `result` is Ok, rolled back otherwise.
    pub(super) async fn end_implicit<T>(
        &mut self,
        implicit: bool,
        result: Result<T, MysqlError>,
    ) -> Result<T, MysqlError> {
        if !implicit {
            return result;
        }
        match result {
            Ok(done) => self.commit_txn().await.map(|()| done),
            Err(e) => {
                self.rollback_txn().await;
                Err(e)
            }
        }
    }

    /// Answers a failed write with its error (a deadlock's victim as the deadlock),
    /// and rolls the transaction back when MySQL would.
    pub(super) async fn statement_failed(&mut self, e: MysqlError) {
        let e = self.deadlock_error_if_victim(e);
        self.err(&e);
        self.after_statement_error(e.code).await;
    }

    /// Runs the write's statements through the driver (under a statement savepoint
    /// when `savepoint`) and combines the OK packets; the error names the node that
    /// failed and, for a write that is not atomic, where it was applied.
    pub(super) async fn run_write(
        &mut self,
        write: &Write,
        savepoint: bool,
    ) -> Result<strata_executor::WriteResult, MysqlError> {
        let nodes: Vec<DataNodeId> = write.parts.iter().map(|p| p.dnid).collect();
        let ctx = self.ctx.clone();
        let variables = self.statement.variables.clone();
        // DDL over several data nodes is a job: SHOW @@JOB follows it node by node.
        let job = (write.kind == WriteKind::DdlFanOut && write.parts.len() > 1).then(|| {
            let statement = write.parts.first().map_or("", |p| p.sql.as_str());
            ctx.jobs
                .start(JobKind::Ddl, statement, write.parts.len() as u64)
        });
        let mut leases = match self.leases_for(&nodes).await {
            Ok(leases) => leases,
            Err(e) => {
                if let Some(job) = job {
                    job.fail(&e.message);
                }
                return Err(e);
            }
        };
        self.note_backends(&leases);
        if let Some(guard) = &write.guard {
            if let Err(e) = ddl_guard::check_unique_keys(&ctx, guard, &mut leases).await {
                self.give_back(leases).await;
                if let Some(job) = job {
                    job.fail(&e.message);
                }
                return Err(e);
            }
        }
        let mut io = LeaseIo {
            leases: &mut leases,
            ctx: &ctx,
            job: job.as_ref(),
            dnids: &nodes,
            variables: variables.as_deref(),
        };
        let budget = usize::try_from(ctx.config.merge.memory_budget).unwrap_or(usize::MAX);
        let result = strata_executor::run_write(
            &mut io,
            write,
            savepoint.then_some(STATEMENT_SAVEPOINT),
            budget,
        )
        .await;
        // A DDL statement applied on some nodes only is undone there when it can be.
        let undone = match &write.guard {
            Some(guard) if !result.oks.is_empty() && !result.failures.is_empty() => {
                let failed: Vec<usize> = result.failures.iter().map(|(n, _)| *n).collect();
                let succeeded: Vec<usize> = result.oks.iter().map(|(n, _)| *n).collect();
                Some(ddl_guard::undo_partial(&ctx, guard, &mut leases, &failed, &succeeded).await)
            }
            _ => None,
        };
        let mut result = result;
        self.statement.warnings = super::warnings::read_warnings(
            &mut leases,
            &mut result.oks,
            write.kind == WriteKind::DdlFanOut,
        )
        .await;
        self.give_back(leases).await;
        let dnid_of = |node: usize| write.parts.get(node).map_or(DataNodeId::new(0), |p| p.dnid);
        let Some((node, first)) = result.failures.first() else {
            if let Some(job) = job {
                job.finish();
            }
            return Ok(result);
        };
        let dnid = dnid_of(*node);
        let applied: Vec<String> = result
            .oks
            .iter()
            .map(|(n, _)| dnid_of(*n).to_string())
            .collect();
        let atomic = savepoint || self.txn.open.is_some();
        let failed_on: Vec<String> = result
            .failures
            .iter()
            .map(|(n, _)| dnid_of(*n).to_string())
            .collect();
        let (error, report) =
            ddl_guard::partial_failure(first, dnid, &applied, &failed_on, atomic, undone);
        if let Some(job) = job {
            job.fail(&report);
        }
        Err(error)
    }

    /// Answers a committed write with RETURNING: the rows its nodes returned, in the
    /// statement's order, under the first node's column definitions (the nodes hold
    /// the same table, so they give the same ones).
    async fn answer_returned(
        &mut self,
        order: &ReturnedOrder,
        returned: Returned,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let columns = returned
            .first()
            .map(|(_, columns, _)| columns.clone())
            .unwrap_or_default();
        let rows = returned
            .into_iter()
            .map(|(node, _, rows)| (node, rows))
            .collect();
        let Some(rows) = strata_executor::returned_in_order(order, rows) else {
            self.err(&MysqlError::new(
                codes::UNKNOWN,
                "the data nodes returned fewer rows than the write wrote",
            ));
            return Ok(Answer::Failed);
        };
        let format = self.result_format(ReplyFormat::text(more));
        let mut status = self.status();
        let mut sink = ClientSink::new(
            &mut self.client.conn,
            self.state.rename.as_ref(),
            format,
            status,
        );
        sink.columns(&columns).await?;
        for row in rows {
            if let Err(e) = sink.row(row).await {
                return match e {
                    Ok(e) => {
                        self.err(&e);
                        Ok(Answer::Failed)
                    }
                    Err(fatal) => Err(fatal),
                };
            }
        }
        self.statement.outcome.returned_rows = Some(sink.rows);
        if more {
            status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
        }
        format.writer(&mut self.client.conn).end(0, status);
        Ok(Answer::Ok)
    }

    /// Returns a statement's connections: broken ones are dropped and their
    /// transaction branches handled as lost.
    pub(super) async fn give_back(&mut self, leases: Vec<Lease>) {
        self.note_backend(None);
        let mut lost = Vec::new();
        for lease in leases {
            if lease.is_broken() {
                lost.push(lease.target().dnid);
            }
            self.finish(lease);
        }
        for dnid in lost {
            self.after_lost_branch(dnid).await;
        }
    }

    /// The data nodes whose pinned connection holds an open transaction.
    pub(super) fn nodes_in_transaction(&self) -> Vec<DataNodeId> {
        self.backends
            .pinned
            .iter()
            .filter(|l| l.in_transaction())
            .map(|l| l.target().dnid)
            .collect()
    }

    /// COMMIT / ROLLBACK / SAVEPOINT ... when the transaction spans several data nodes:
    /// the statement runs on every enlisted node (best effort until XA commits land).
    /// `NotMine` when at most one node is enlisted (the caller forwards as usual).
    pub(super) async fn transaction_control(&mut self, sql: &str, more: bool) -> Handled {
        let enlisted = self
            .backends
            .pinned
            .iter()
            .filter(|l| l.in_transaction())
            .count();
        if enlisted < 2 {
            return Handled::NotMine;
        }
        let mut first_error: Option<MysqlError> = None;
        let mut done = Vec::new();
        for mut lease in std::mem::take(&mut self.backends.pinned) {
            if lease.in_transaction() {
                let dnid = lease.target().dnid;
                match lease.execute(sql).await {
                    Ok(_) => done.push(dnid),
                    Err(e) => {
                        first_error.get_or_insert_with(|| backend_error(dnid, &e));
                    }
                }
            }
            self.finish(lease);
        }
        Handled::Answered(match first_error {
            Some(e) => {
                let message = if done.is_empty() {
                    e.message.clone()
                } else {
                    format!(
                        "{}; the statement succeeded on data node(s) {}",
                        e.message,
                        done.iter()
                            .map(DataNodeId::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                };
                self.err(&MysqlError { message, ..e });
                Answer::Failed
            }
            None => {
                self.ok(0, more);
                Answer::Ok
            }
        })
    }

    /// Runs a query plan: the per-node statements on leased connections, the merge
    /// through the plan's operator tree, streaming (an ordered merge holds one row per
    /// node). When the merge refuses (1235) before any column went out — it compares
    /// strings of a collation it does not implement, which it sees only in the nodes'
    /// column definitions — the statement `fallback` runs on one data node over copies
    /// of its tables instead, when it may.
    pub(super) async fn execute_query(
        &mut self,
        plan: &QueryPlan,
        reply: ReplyFormat,
        fallback: Option<&str>,
    ) -> Result<Answer, SessionError> {
        if plan.join().is_some() && joins_limited(&self.state.vars) {
            self.err(&MysqlError::not_supported(
                "a join across data nodes while MAX_JOIN_SIZE or SQL_BIG_SELECTS=0 limits joins (the compute node has no row estimate to check against it)",
            ));
            return Ok(Answer::Failed);
        }
        let ctx = self.ctx.clone();
        let locking = plan
            .statements()
            .iter()
            .any(|(_, sql)| is_locking_read(sql));
        let gate = match self.read_gate(&ctx, locking).await {
            Ok(gate) => gate,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let nodes: Vec<DataNodeId> = plan.nodes();
        let mut leases = match self.leases_for(&nodes).await {
            Ok(l) => l,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        self.note_backends(&leases);
        let format = self.result_format(reply);
        let driver = Driver::Query(plan, self.merge_options());
        let (outcome, rows) = self
            .stream_to_client(&mut leases, &nodes, driver, format)
            .await;
        ctx.metrics.rows_merged(rows);
        let outcome = match outcome {
            Ok(QueryOutcome::Done { warnings }) => Ok(QueryOutcome::Done {
                warnings: warnings.saturating_add(self.nodes_warnings(&mut leases).await),
            }),
            other => other,
        };
        self.give_back(leases).await;
        drop(gate);
        let outcome = outcome?;
        if let (QueryOutcome::FailedBeforeColumns(e), Some(sql)) = (&outcome, fallback) {
            if e.code == codes::NOT_SUPPORTED.0 {
                if let Some(m) = self.materialize_plan(sql) {
                    return self.execute_materialize(&m, reply).await;
                }
            }
        }
        self.answer_query(outcome, format, reply).await
    }

    /// Runs `driver` over `leases` (the connections to `nodes`, in plan order) and
    /// streams its result to the client in `format`. Notes the rows sent in the
    /// statement's outcome and returns their count with the driver's outcome.
    async fn stream_to_client(
        &mut self,
        leases: &mut [Lease],
        nodes: &[DataNodeId],
        driver: Driver<'_>,
        format: ResultFormat,
    ) -> (Result<QueryOutcome, SessionError>, u64) {
        let ctx = self.ctx.clone();
        let status = self.status();
        let variables = self.statement.variables.clone();
        let mut io = LeaseIo {
            leases,
            ctx: &ctx,
            job: None,
            dnids: nodes,
            variables: variables.as_deref(),
        };
        let mut sink = ClientSink::new(
            &mut self.client.conn,
            self.state.rename.as_ref(),
            format,
            status,
        );
        let outcome = drive(&mut io, driver, &mut sink).await;
        self.statement.outcome.returned_rows = Some(sink.rows);
        (outcome, sink.rows)
    }

    /// Ends a query's reply: the closing EOF/OK, or the error.
    async fn answer_query(
        &mut self,
        outcome: QueryOutcome,
        format: ResultFormat,
        reply: ReplyFormat,
    ) -> Result<Answer, SessionError> {
        match outcome {
            QueryOutcome::Done { warnings } => {
                let mut status = self.status();
                if reply.more {
                    status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
                }
                format.writer(&mut self.client.conn).end(warnings, status);
                Ok(Answer::Ok)
            }
            QueryOutcome::FailedBeforeColumns(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
            QueryOutcome::Wrote(ok) => {
                self.statement.outcome.affected_rows = Some(ok.affected_rows);
                let ok = strata_protocol::packets::OkPacket {
                    status: self.status()
                        | if reply.more {
                            strata_protocol::constants::status::MORE_RESULTS_EXISTS
                        } else {
                            0
                        },
                    last_insert_id: 0,
                    ..ok
                };
                self.client.write_ok(ok);
                Ok(Answer::Ok)
            }
            // The column definitions went out; the result ends with ERR.
            QueryOutcome::FailedAfterColumns(e) => {
                let e = self.deadlock_error_if_victim(e);
                self.err(&e);
                self.after_statement_error(e.code).await;
                Ok(Answer::Failed)
            }
        }
    }

    /// The settings of this session's merges: the configured memory budget and spill
    /// cap (one per statement) and the session's `group_concat_max_len`.
    pub(super) fn merge_options(&self) -> MergeOptions {
        let merge = &self.ctx.config.merge;
        let budget = usize::try_from(merge.memory_budget).unwrap_or(usize::MAX);
        let spill = self
            .ctx
            .spill
            .as_ref()
            .map(|(dir, node)| Spill::new(dir, merge.spill_cap, Some(node.clone())));
        MergeOptions {
            memory: MemoryBudget::counted(budget, self.ctx.metrics.merge_memory.clone()),
            group_concat_max_len: group_concat_max_len(&self.state.vars),
            spill,
            ..MergeOptions::default()
        }
    }

    /// The visibility gate a read over several nodes holds while it takes its per-node
    /// snapshots, so it sees each distributed transaction on every node or on none:
    /// entered once no committed transaction is unfinished. None when the read needs
    /// none: without XA, under SERIALIZABLE, and for `locking` reads, which wait for
    /// row locks a committing transaction holds until its XA COMMIT (they read the
    /// latest committed rows under locks). An error when unfinished transactions stay
    /// too long.
    pub(super) async fn read_gate<'c>(
        &self,
        ctx: &'c crate::context::ServerContext,
        locking: bool,
    ) -> Result<Option<crate::xa::ReadGuard<'c>>, MysqlError> {
        if !ctx.xa.xa()
            || self.state.isolation == strata_sql::IsolationLevel::Serializable
            || locking
        {
            return Ok(None);
        }
        loop {
            // Checked under the gate: no commit phase can add an unfinished
            // transaction while a reader holds it.
            let guard = ctx.xa.gate.read().await;
            if ctx.xa.all_finished() {
                return Ok(Some(guard));
            }
            drop(guard);
            if let Err(unfinished) = ctx.xa.wait_all_finished(UNFINISHED_COMMIT_WAIT).await {
                return Err(MysqlError::new(
                    codes::LOCK_WAIT_TIMEOUT,
                    format!(
                        "Lock wait timeout exceeded; try restarting transaction (committed distributed transaction(s) {} not yet finished on every data node)",
                        unfinished.join(", ")
                    ),
                ));
            }
        }
    }
}

/// Runs `driver` over `io`, its rows into `sink`.
pub(super) async fn drive<S: RowSink>(
    io: &mut LeaseIo<'_>,
    driver: Driver<'_>,
    sink: &mut S,
) -> Result<QueryOutcome, S::Error> {
    match driver {
        Driver::Query(plan, options) => strata_executor::run_query(io, plan, options, sink).await,
        Driver::Materialize(plan, options) => {
            strata_executor::run_materialize(io, plan, options, sink).await
        }
    }
}

/// The rows each node of a write with RETURNING returned: (plan position, columns, rows).
type Returned = Vec<(usize, Vec<ColumnDef>, Vec<Bytes>)>;

/// What streams a query's result to the client: a merge of several data nodes'
/// replies, or one node's reply to a statement run over copies of its tables.
pub(super) enum Driver<'p> {
    Query(&'p QueryPlan, MergeOptions),
    Materialize(&'p Materialize, MaterializeOptions),
}

/// The driver's storage I/O: the statement's leased connections, by plan position.
pub(super) struct LeaseIo<'a> {
    pub(super) leases: &'a mut [Lease],
    pub(super) ctx: &'a ServerContext,
    /// The job a write reports its progress to, node by node.
    pub(super) job: Option<&'a JobHandle>,
    /// The data node of each plan position (for the job's error messages).
    pub(super) dnids: &'a [DataNodeId],
    /// The statement's `SET STATEMENT ... FOR ` prefix, sent before each text.
    pub(super) variables: Option<&'a str>,
}

impl LeaseIo<'_> {
    /// The lease of plan position `node`, unless its connection is already broken.
    fn usable(&mut self, node: usize) -> Result<&mut Lease, MysqlError> {
        let lease = self.leases.get_mut(node).ok_or_else(|| {
            MysqlError::new(
                codes::UNKNOWN,
                format!("no connection for plan node {node}"),
            )
        })?;
        if lease.is_broken() {
            return Err(MysqlError::new(
                codes::NET_READ,
                format!("Lost connection to data node {}", lease.target().dnid),
            ));
        }
        Ok(lease)
    }
}

/// A storage failure as the client's error; a connection that failed other than by
/// an ERR packet is not reused.
pub(super) fn failed(lease: &mut Lease, e: &BackendError) -> MysqlError {
    if !matches!(e, BackendError::Server(_)) {
        lease.mark_broken();
    }
    super::backend_error(lease.target().dnid, e)
}

impl NodeIo for LeaseIo<'_> {
    async fn send(&mut self, node: usize, statements: &[&str]) -> Result<(), MysqlError> {
        let topology = &self.ctx.topology;
        let variables = self.variables;
        let lease = self.usable(node)?;
        let dnid = lease.target().dnid;
        for sql in statements {
            let renamed;
            let mut text: &str = sql;
            if topology.names_differ {
                renamed = rewrite_schemas(topology, sql, Some(dnid));
                text = &renamed;
            }
            match variables {
                Some(prefix) => lease.queue_command(
                    com::QUERY,
                    [prefix.as_bytes(), text.as_bytes()].concat().as_slice(),
                ),
                None => lease.queue_command(com::QUERY, text.as_bytes()),
            }
        }
        match lease.flush().await {
            Ok(()) => Ok(()),
            Err(e) => {
                lease.mark_broken();
                Err(super::backend_error(dnid, &e))
            }
        }
    }

    async fn read_reply(&mut self, node: usize) -> Result<NodeReply, MysqlError> {
        let lease = self.usable(node)?;
        match lease.read_response_head().await {
            Ok(ResponseHead::Rows(columns)) => Ok(NodeReply::Rows(columns)),
            Ok(ResponseHead::Ok(ok)) => Ok(NodeReply::Ok(ok)),
            Err(e) => Err(failed(lease, &e)),
        }
    }

    async fn next_row(&mut self, node: usize) -> Result<Option<Bytes>, MysqlError> {
        let lease = self.usable(node)?;
        match lease.next_row().await {
            Ok(row) => Ok(row),
            Err(e) => Err(failed(lease, &e)),
        }
    }

    async fn drain(&mut self, node: usize) {
        if let Ok(lease) = self.usable(node) {
            drain_rows(lease).await;
        }
    }

    async fn execute(&mut self, node: usize, sql: &str) -> Result<(), MysqlError> {
        let lease = self.usable(node)?;
        match lease.execute(sql).await {
            Ok(_) => Ok(()),
            Err(e) => {
                lease.mark_broken();
                Err(super::backend_error(lease.target().dnid, &e))
            }
        }
    }

    fn discard(&mut self, node: usize) {
        if let Some(lease) = self.leases.get_mut(node) {
            lease.mark_broken();
        }
    }

    fn write_part_done(&mut self, node: usize, result: Result<(), &MysqlError>) {
        let Some(job) = self.job else { return };
        match result {
            Ok(()) => job.step_done(),
            Err(e) => {
                let dnid = self.dnids.get(node).copied().unwrap_or(DataNodeId::new(0));
                job.step_failed(&format!("{} (data node {dnid})", e.message));
            }
        }
    }
}

/// `sql` with the logical database names it qualifies replaced by data node `dnid`'s
/// physical names (when the topology's names differ).
pub(super) fn rewrite_schemas(
    topology: &crate::context::Topology,
    sql: &str,
    dnid: Option<DataNodeId>,
) -> String {
    strata_sql::rewrite_schema_names_as_written(sql, |name| {
        let db = topology.db(name)?;
        let target = dnid
            .filter(|d| db.data_nodes.contains(d))
            .or_else(|| crate::context::home_node(&db))?;
        topology.physical(&db, target)
    })
    .into_owned()
}

/// The driver's client: column definitions (renamed to the client's database), rows
/// (converted for a prepared statement), flushed as they accumulate.
struct ClientSink<'a> {
    conn: &'a mut strata_protocol::PacketConn<strata_protocol::stream::ServerStream>,
    rename: Option<&'a SchemaRename>,
    format: ResultFormat,
    status: u16,
    columns: Vec<ColumnDef>,
    /// Rows sent (for the statement statistics and the audit log).
    rows: u64,
}

impl<'a> ClientSink<'a> {
    /// A sink writing to `conn` in `format`, column definitions renamed by `rename`.
    fn new(
        conn: &'a mut strata_protocol::PacketConn<strata_protocol::stream::ServerStream>,
        rename: Option<&'a SchemaRename>,
        format: ResultFormat,
        status: u16,
    ) -> Self {
        ClientSink {
            conn,
            rename,
            format,
            status,
            columns: Vec::new(),
            rows: 0,
        }
    }
}

impl RowSink for ClientSink<'_> {
    type Error = SessionError;

    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), SessionError> {
        self.columns = columns.to_vec();
        let mut out = self.format.writer(self.conn);
        out.column_count(columns.len());
        for col in columns {
            let mut col = col.clone();
            if let Some(rename) = self.rename {
                rename.rename_column(&mut col);
            }
            out.column(&col);
        }
        out.end_columns(0, self.status);
        Ok(())
    }

    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, SessionError>> {
        let mut out = self.format.writer(self.conn);
        if let Err(e) = out.row(&payload, &self.columns) {
            return Err(Ok(MysqlError::new(
                codes::UNKNOWN,
                format!("cannot convert a row for the binary protocol: {e}"),
            )));
        }
        self.rows += 1;
        if out.pending_write() >= 64 * 1024 {
            out.flush().await.map_err(|e| Err(SessionError::from(e)))?;
        }
        Ok(())
    }
}

/// Reads a result set's remaining rows so the connection can serve the next statement.
async fn drain_rows(lease: &mut Lease) {
    loop {
        match lease.next_row().await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(strata_backend::BackendError::Server(_)) => return,
            Err(_) => {
                lease.mark_broken();
                return;
            }
        }
    }
}

/// How long a multi-node read waits for recovery to finish a committed transaction
/// whose commit did not reach every data node.
const UNFINISHED_COMMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// True for SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE.
pub(super) fn is_locking_read(sql: &str) -> bool {
    let words: Vec<&str> = strata_sql::code_tokens(sql).map(|t| t.text(sql)).collect();
    words.windows(2).any(|w| {
        w[0].eq_ignore_ascii_case("FOR")
            && (w[1].eq_ignore_ascii_case("UPDATE") || w[1].eq_ignore_ascii_case("SHARE"))
    }) || words.windows(3).any(|w| {
        w[0].eq_ignore_ascii_case("LOCK")
            && w[1].eq_ignore_ascii_case("IN")
            && w[2].eq_ignore_ascii_case("SHARE")
    })
}

#[cfg(test)]
mod tests {
    use super::is_locking_read;

    #[test]
    fn recognises_locking_reads() {
        assert!(is_locking_read("SELECT * FROM t WHERE id > 3 FOR UPDATE"));
        assert!(is_locking_read("select a from t lock in share mode"));
        assert!(is_locking_read("SELECT a FROM t FOR SHARE NOWAIT"));
        assert!(!is_locking_read("SELECT 'for update' FROM t"));
        assert!(!is_locking_read("SELECT SUM(balance) FROM accounts"));
    }
}
