//! Statements that involve several data nodes: writes fanned out to several nodes
//! (split INSERTs, DDL, global tables), transaction control for a transaction enlisted
//! on several nodes, and scatter queries whose results are merged.
//!
//! Requests go out to every node before any reply is read, so nodes work in parallel
//! without a task per node.

use std::sync::Arc;

use strata_backend::pool::Lease;
use strata_backend::SessionVars;
use strata_backend::{BackendError, ResponseHead};
use strata_executor::{
    Demand, MemoryBudget, MergeOptions, Merger, Step, DEFAULT_GROUP_CONCAT_MAX_LEN,
};
use strata_planner::{MergeSpec, NodeStatement, WriteCombine};
use strata_protocol::constants::{cap, com};
use strata_protocol::packets::{encode_eof, OkPacket};
use strata_protocol::{codes, MysqlError};

use super::transaction::STATEMENT_SAVEPOINT;
use super::{backend_error, Session, SessionError};

impl Session {
    /// Physical database of the current database on a data node (else the node's own).
    pub(super) fn physical_of(&self, dnid: u32) -> Option<Arc<str>> {
        let topo = &self.ctx.topology;
        if let Some(db) = self.db.as_deref().and_then(|d| topo.db(d)) {
            if db.data_nodes.contains(&dnid) {
                return topo.physical(&db, dnid);
            }
        }
        topo.node(dnid).map(|n| n.physical_db.clone())
    }

    /// Leases a connection per listed data node (in the given order).
    async fn leases_for(&mut self, nodes: &[u32]) -> Result<Vec<Lease>, MysqlError> {
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

    /// Runs statements that return no rows on several data nodes and answers with one
    /// OK packet. DML over several nodes is atomic: outside a transaction it runs as
    /// its own XA transaction; inside one, a failure on some nodes rolls the statement
    /// back on all of them (a statement savepoint) and the transaction stays open.
    /// Other writes (DDL) report which nodes applied them when some fail.
    pub(super) async fn execute_write(
        &mut self,
        parts: &[NodeStatement],
        combine: WriteCombine,
        insert_id: Option<u64>,
        more: bool,
        dml: bool,
    ) -> Result<bool, SessionError> {
        let atomic = dml && parts.len() > 1 && self.multi_node && self.ctx.xa.xa();
        let implicit = atomic && self.txn.is_none();
        if implicit {
            self.begin_txn(false);
        }
        let savepoint = atomic && !implicit;
        let mut result = self.run_write(parts, savepoint).await;
        if implicit {
            result = match result {
                Ok(oks) => self.commit_txn().await.map(|()| oks),
                Err(e) => {
                    self.rollback_txn().await;
                    Err(e)
                }
            };
        }
        let oks = match result {
            Ok(oks) => oks,
            Err(e) => {
                let e = self.deadlock_error_if_victim(e);
                self.err(&e);
                self.after_statement_error(e.code).await;
                return Ok(false);
            }
        };
        let affected_rows = match combine {
            WriteCombine::Sum => oks.iter().map(|(_, ok)| ok.affected_rows).sum(),
            WriteCombine::Replicated => oks.first().map(|(_, ok)| ok.affected_rows).unwrap_or(0),
        };
        let warnings = oks
            .iter()
            .map(|(_, ok)| ok.warnings)
            .fold(0u16, u16::saturating_add);
        let last_insert_id = insert_id
            .or_else(|| {
                oks.iter()
                    .map(|(_, ok)| ok.last_insert_id)
                    .find(|&id| id != 0)
            })
            .unwrap_or(0);
        if last_insert_id != 0 {
            self.last_insert_id = last_insert_id;
        }
        if warnings > 0 {
            self.keep_for_warnings = true;
        }
        let mut status = self.status();
        if more {
            status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
        }
        let info = match combine {
            WriteCombine::Sum => String::new(),
            WriteCombine::Replicated => oks
                .first()
                .map(|(_, ok)| ok.info.clone())
                .unwrap_or_default(),
        };
        let ok = OkPacket {
            affected_rows,
            last_insert_id,
            status,
            warnings,
            info,
        };
        crate::results::write_ok(&mut self.conn, &ok);
        Ok(true)
    }

    /// Sends each part to its node (all before reading any reply) and collects the OK
    /// packets. With `savepoint`, each node takes a statement savepoint first and rolls
    /// back to it if any node failed.
    async fn run_write(
        &mut self,
        parts: &[NodeStatement],
        savepoint: bool,
    ) -> Result<Vec<(u32, OkPacket)>, MysqlError> {
        let nodes: Vec<u32> = parts.iter().map(|p| p.dnid).collect();
        let mut leases = self.leases_for(&nodes).await?;
        self.note_backends(&leases);
        let mut sent = Vec::with_capacity(parts.len());
        for (lease, part) in leases.iter_mut().zip(parts) {
            let sql = if self.ctx.topology.names_differ {
                self.rewrite_schemas_for(&part.sql, Some(part.dnid))
            } else {
                part.sql.clone()
            };
            if savepoint {
                lease.queue_command(
                    com::QUERY,
                    format!("SAVEPOINT {STATEMENT_SAVEPOINT}").as_bytes(),
                );
            }
            lease.queue_command(com::QUERY, sql.as_bytes());
            sent.push(lease.flush().await);
        }
        let mut oks: Vec<(u32, OkPacket)> = Vec::new();
        let mut failures: Vec<(u32, MysqlError)> = Vec::new();
        for ((lease, part), flushed) in leases.iter_mut().zip(parts).zip(sent) {
            let mut result = flushed.map(|()| OkPacket::default());
            if savepoint && result.is_ok() {
                result = lease.read_ok().await;
            }
            let statement = match result {
                Ok(_) => lease.read_ok().await,
                Err(BackendError::Server(e)) => {
                    // The savepoint failed; the statement's reply still follows.
                    let _ = lease.read_ok().await;
                    Err(BackendError::Server(e))
                }
                Err(e) => Err(e),
            };
            match statement {
                Ok(ok) => oks.push((part.dnid, ok)),
                Err(e) => {
                    if !matches!(e, BackendError::Server(_)) {
                        lease.mark_broken();
                    }
                    failures.push((part.dnid, backend_error(part.dnid, &e)));
                }
            }
        }
        if savepoint && !failures.is_empty() {
            for lease in leases.iter_mut().filter(|l| !l.is_broken()) {
                let undo = format!("ROLLBACK TO SAVEPOINT {STATEMENT_SAVEPOINT}");
                if lease.execute(&undo).await.is_err() {
                    lease.mark_broken();
                }
            }
        }
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
        let Some((dnid, first)) = failures.first() else {
            return Ok(oks);
        };
        let applied: Vec<String> = oks.iter().map(|(d, _)| d.to_string()).collect();
        let atomic = savepoint || self.txn.is_some();
        let message = if applied.is_empty() || atomic {
            format!("{} (data node {dnid})", first.message)
        } else {
            format!(
                "{} (data node {dnid}); the statement was applied on data node(s) {} and failed on {}",
                first.message,
                applied.join(","),
                failures
                    .iter()
                    .map(|(d, _)| d.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        Err(MysqlError {
            message,
            ..first.clone()
        })
    }

    /// COMMIT / ROLLBACK / SAVEPOINT ... when the transaction spans several data nodes:
    /// the statement runs on every enlisted node (best effort until XA commits land).
    /// Returns None when at most one node is enlisted (the caller forwards as usual).
    pub(super) async fn transaction_control(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Option<Result<bool, SessionError>> {
        let enlisted = self.pinned.iter().filter(|l| l.in_transaction()).count();
        if enlisted < 2 {
            return None;
        }
        let mut first_error: Option<MysqlError> = None;
        let mut done = Vec::new();
        for mut lease in std::mem::take(&mut self.pinned) {
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
        Some(match first_error {
            Some(e) => {
                let message = if done.is_empty() {
                    e.message.clone()
                } else {
                    format!(
                        "{}; the statement succeeded on data node(s) {}",
                        e.message,
                        done.iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                };
                self.err(&MysqlError { message, ..e });
                Ok(false)
            }
            None => {
                self.ok(0, more);
                Ok(true)
            }
        })
    }

    /// Runs a query on several data nodes and merges the results as `merge` says,
    /// streaming: an ordered merge holds one row per node.
    pub(super) async fn execute_scatter(
        &mut self,
        parts: &[NodeStatement],
        merge: &MergeSpec,
        more: bool,
    ) -> Result<bool, SessionError> {
        // A consistent read over several nodes takes its per-node snapshots while no
        // distributed commit is between its first and last XA COMMIT, so it sees each
        // transaction on every node or on none. Locking reads wait for row locks, which
        // a committing transaction holds until its XA COMMIT: they must not hold the
        // gate (nor need it: they read the latest committed rows under locks).
        let ctx = self.ctx.clone();
        let consistent_read = ctx.xa.xa()
            && self.isolation != "SERIALIZABLE"
            && !parts.first().is_some_and(|p| is_locking_read(&p.sql));
        let _gate = match consistent_read {
            true => match self.enter_read_gate(&ctx).await {
                Some(guard) => Some(guard),
                None => return Ok(false),
            },
            false => None,
        };
        let nodes: Vec<u32> = parts.iter().map(|p| p.dnid).collect();
        let mut leases = match self.leases_for(&nodes).await {
            Ok(l) => l,
            Err(e) => {
                self.err(&e);
                return Ok(false);
            }
        };
        self.note_backends(&leases);
        for (lease, part) in leases.iter_mut().zip(parts) {
            let sql = if self.ctx.topology.names_differ {
                self.rewrite_schemas_for(&part.sql, Some(part.dnid))
            } else {
                part.sql.clone()
            };
            lease.queue_command(com::QUERY, sql.as_bytes());
            if lease.flush().await.is_err() {
                lease.mark_broken();
            }
        }
        let mut columns = Vec::with_capacity(leases.len());
        let mut pending_rows = vec![false; leases.len()];
        let mut failure: Option<MysqlError> = None;
        for ((lease, part), pending) in leases.iter_mut().zip(parts).zip(pending_rows.iter_mut()) {
            if lease.is_broken() {
                failure.get_or_insert_with(|| {
                    MysqlError::new(
                        codes::NET_READ,
                        format!("Lost connection to data node {}", part.dnid),
                    )
                });
                continue;
            }
            match lease.read_response_head().await {
                Ok(ResponseHead::Rows(cols)) => {
                    *pending = true;
                    columns.push(cols);
                }
                Ok(ResponseHead::Ok(_)) => {
                    failure.get_or_insert_with(|| {
                        MysqlError::new(
                            codes::UNKNOWN,
                            "a data node returned no result set for a query",
                        )
                    });
                }
                Err(e) => {
                    failure.get_or_insert_with(|| backend_error(part.dnid, &e));
                }
            }
        }
        let merger = match failure {
            Some(e) => Err(e),
            None => Merger::with_options(merge, &columns, self.merge_options())
                .map_err(|e| e.to_mysql_error()),
        };
        let mut merger = match merger {
            Ok(m) => m,
            Err(e) => {
                self.end_scatter(leases, &pending_rows).await;
                self.err(&e);
                return Ok(false);
            }
        };
        // Column definitions go out first; a failure after them ends the result with ERR.
        let out_columns: Vec<_> = merger.columns().to_vec();
        self.conn
            .write_with(|b| strata_protocol::wire::put_lenenc_int(b, out_columns.len() as u64));
        for col in &out_columns {
            let mut col = col.clone();
            if let Some(rename) = &self.rename {
                rename.rename_column(&mut col);
            }
            self.conn.write_with(|b| col.encode(b));
        }
        let deprecate_eof = self.client_caps & cap::DEPRECATE_EOF != 0;
        if !deprecate_eof {
            let status = self.status();
            self.conn.write_with(|b| encode_eof(b, 0, status));
        }
        let mut binary_row = bytes::BytesMut::new();
        let mut next_any = 0usize;
        let mut ended = vec![false; leases.len()];
        let outcome: Result<(), MysqlError> = loop {
            let step = match merger.next_step() {
                Ok(s) => s,
                Err(e) => break Err(e.to_mysql_error()),
            };
            match step {
                Step::Row(row) => {
                    if self.binary_results {
                        binary_row.clear();
                        let converted = strata_protocol::binary_row::text_row_to_binary(
                            &row,
                            &out_columns,
                            &mut binary_row,
                        );
                        if let Err(e) = converted {
                            break Err(MysqlError::new(
                                codes::UNKNOWN,
                                format!("cannot convert a row for the binary protocol: {e}"),
                            ));
                        }
                        self.conn.write_packet(&binary_row);
                    } else {
                        self.conn.write_packet(&row);
                    }
                    if self.conn.pending_write() >= 64 * 1024 {
                        self.conn.flush().await?;
                    }
                }
                Step::Done => break Ok(()),
                Step::Need(demand) => {
                    let node = match demand {
                        Demand::Node(i) => i,
                        Demand::AnyNode => {
                            let unfinished = merger.unfinished_nodes();
                            let pick = unfinished
                                .iter()
                                .copied()
                                .find(|&i| i >= next_any)
                                .or_else(|| unfinished.first().copied());
                            match pick {
                                Some(i) => {
                                    next_any = i + 1;
                                    i
                                }
                                None => {
                                    break Err(MysqlError::new(
                                        codes::UNKNOWN,
                                        "merge wants input but every node finished",
                                    ))
                                }
                            }
                        }
                    };
                    let Some(lease) = leases.get_mut(node) else {
                        break Err(MysqlError::new(
                            codes::UNKNOWN,
                            "merge asked for an unknown node",
                        ));
                    };
                    let fed = match lease.next_row().await {
                        Ok(Some(row)) => merger.push(node, row),
                        Ok(None) => {
                            ended[node] = true;
                            merger.finish_node(node)
                        }
                        Err(e) => {
                            // The node's response ended (ERR) or its connection broke:
                            // nothing is left to drain there.
                            ended[node] = true;
                            break Err(backend_error(parts[node].dnid, &e));
                        }
                    };
                    if let Err(e) = fed {
                        break Err(e.to_mysql_error());
                    }
                }
            }
        };
        let warnings = merger.warnings().len().min(u16::MAX as usize) as u16;
        drop(merger);
        // Nodes whose rows were not all needed (LIMIT) are drained so their connections
        // stay usable; a broken one is dropped by the pool. Only this loop knows which
        // responses were read to their end.
        for (lease, done) in leases.iter_mut().zip(&ended) {
            if !done {
                drain_rows(lease).await;
            }
        }
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
        match outcome {
            Ok(()) => {
                let mut status = self.status();
                if more {
                    status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
                }
                if deprecate_eof {
                    let ok = OkPacket {
                        status,
                        warnings,
                        ..OkPacket::default()
                    };
                    self.conn
                        .write_with(|b| ok.encode(b, strata_protocol::packets::EOF_HEADER));
                } else {
                    self.conn.write_with(|b| encode_eof(b, warnings, status));
                }
                Ok(true)
            }
            Err(e) => {
                let e = self.deadlock_error_if_victim(e);
                self.err(&e);
                self.after_statement_error(e.code).await;
                Ok(false)
            }
        }
    }

    /// The settings of this session's merges: the configured memory budget (one per
    /// statement) and the session's `group_concat_max_len`.
    fn merge_options(&self) -> MergeOptions {
        let budget = usize::try_from(self.ctx.config.merge.memory_budget).unwrap_or(usize::MAX);
        MergeOptions {
            memory: MemoryBudget::new(budget),
            group_concat_max_len: group_concat_max_len(&self.vars),
            ..MergeOptions::default()
        }
    }

    /// Enters the visibility gate as a reader once no committed transaction is
    /// unfinished; None (an error was written) when that takes too long.
    async fn enter_read_gate<'c>(
        &mut self,
        ctx: &'c crate::context::ServerContext,
    ) -> Option<crate::xa::ReadGuard<'c>> {
        loop {
            // Checked under the gate: no commit phase can add an unfinished
            // transaction while a reader holds it.
            let guard = ctx.xa.gate.read().await;
            if ctx.xa.all_finished() {
                return Some(guard);
            }
            drop(guard);
            if let Err(unfinished) = ctx.xa.wait_all_finished(UNFINISHED_COMMIT_WAIT).await {
                self.err(&MysqlError::new(
                    codes::LOCK_WAIT_TIMEOUT,
                    format!(
                        "Lock wait timeout exceeded; try restarting transaction (committed distributed transaction(s) {} not yet finished on every data node)",
                        unfinished.join(", ")
                    ),
                ));
                return None;
            }
        }
    }

    /// Gives back the connections of a scatter that failed before merging, reading
    /// away the rows of nodes that had started a result set.
    async fn end_scatter(&mut self, mut leases: Vec<Lease>, pending_rows: &[bool]) {
        self.note_backend(None);
        for (lease, pending) in leases.iter_mut().zip(pending_rows) {
            if *pending {
                drain_rows(lease).await;
            }
        }
        for lease in leases {
            self.finish(lease);
        }
    }
}

/// The session's `group_concat_max_len`: after a SET the storage node's effective value is
/// read back and recorded as a literal (MariaDB clamps what it is given), so it parses;
/// without one the storage nodes use MariaDB's default.
fn group_concat_max_len(vars: &SessionVars) -> usize {
    vars.value("group_concat_max_len")
        .and_then(|v| v.trim_matches('\'').parse::<u64>().ok())
        .map_or(DEFAULT_GROUP_CONCAT_MAX_LEN, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
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
fn is_locking_read(sql: &str) -> bool {
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
    use super::{group_concat_max_len, is_locking_read, SessionVars};

    #[test]
    fn group_concat_max_len_is_the_value_read_back_after_set() {
        let mut vars = SessionVars::default();
        assert_eq!(group_concat_max_len(&vars), 1 << 20);
        vars.set(
            "group_concat_max_len",
            "SESSION group_concat_max_len = '4'".into(),
        );
        assert_eq!(group_concat_max_len(&vars), 4);
    }

    #[test]
    fn recognises_locking_reads() {
        assert!(is_locking_read("SELECT * FROM t WHERE id > 3 FOR UPDATE"));
        assert!(is_locking_read("select a from t lock in share mode"));
        assert!(is_locking_read("SELECT a FROM t FOR SHARE NOWAIT"));
        assert!(!is_locking_read("SELECT 'for update' FROM t"));
        assert!(!is_locking_read("SELECT SUM(balance) FROM accounts"));
    }
}
