//! Transactions the compute node coordinates: in a database spanning several data
//! nodes (with `transaction.mode = "xa"`), a transaction is the session's own state,
//! and each data node it touches joins it lazily as an XA branch (`XA START`). COMMIT
//! of one branch is a one-phase XA commit; of several, XA PREPARE on all, a durable
//! decision in the log, then XA COMMIT on all. Savepoints are applied on every branch
//! and replayed on branches that join later, so ROLLBACK TO undoes work on every node.

use strata_backend::pool::Lease;
use strata_backend::BackendError;
use strata_protocol::constants::{com, status};
use strata_protocol::{codes, MysqlError};
use strata_sql::{Completion, StatementKind, TxnStatement};
use tracing::warn;

use super::{backend_error, Answer, Session, SessionError};
use crate::xa::xid_sql;
use strata_catalog::DataNodeId;

/// Savepoint taken before a multi-node write inside a transaction, so a failure on
/// some nodes undoes the statement everywhere and leaves the transaction open.
pub(super) const STATEMENT_SAVEPOINT: &str = "`strata$statement`";

/// A transaction coordinated by the compute node.
#[derive(Debug)]
pub(super) struct DistTxn {
    /// Global transaction id (the XID's gtrid).
    pub gtrid: String,
    /// Data nodes enlisted as XA branches, in order of enlistment.
    pub branches: Vec<DataNodeId>,
    /// Savepoint names (quoted identifiers), oldest first.
    pub savepoints: Vec<String>,
    /// START TRANSACTION READ ONLY: writes are refused with 1792.
    pub read_only: bool,
    /// Isolation level set for this transaction only (SET TRANSACTION ...).
    pub isolation: Option<strata_sql::IsolationLevel>,
    /// Data nodes where the transaction ran a statement that may change data.
    pub written: Vec<DataNodeId>,
}

/// True unless a statement of this kind only reads (SELECT, SHOW, ...): branches that
/// only read commit in one phase, outside the decision log. Stored functions called
/// from a SELECT that change data are not seen; CALL counts as a write.
pub(super) fn may_write(kind: StatementKind) -> bool {
    !matches!(
        kind,
        StatementKind::Select
            | StatementKind::Show
            | StatementKind::Explain
            | StatementKind::Set
            | StatementKind::Use
            | StatementKind::Help
            | StatementKind::Begin
            | StatementKind::Commit
            | StatementKind::Rollback
            | StatementKind::Savepoint
            | StatementKind::RollbackToSavepoint
            | StatementKind::Release
    )
}

/// What SET TRANSACTION (no scope) asked of the next transaction.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct NextTxn {
    /// Isolation level.
    pub isolation: Option<strata_sql::IsolationLevel>,
    /// Access mode.
    pub read_only: Option<bool>,
}

/// The session's side of transactions the compute node coordinates.
#[derive(Default)]
pub(super) struct TxnState {
    /// The open coordinated transaction (databases over several nodes).
    pub open: Option<DistTxn>,
    /// SET TRANSACTION (next transaction only) in a coordinated session.
    pub next: NextTxn,
    /// COMMIT/ROLLBACK ... RELEASE: close the connection after the reply.
    pub release_requested: bool,
    /// LOCK TABLES ran since the last UNLOCK TABLES: UNLOCK TABLES then commits, as in
    /// MySQL (without table locks it leaves the transaction open).
    pub table_locks: bool,
    /// A statement of the open transaction may have changed data (MariaDB's
    /// idle_write_transaction_timeout applies then, idle_readonly_... otherwise).
    pub wrote: bool,
    /// The session's hold of the compute node's global read lock (FLUSH TABLES WITH
    /// READ LOCK).
    pub global_read_lock: Option<crate::global_read_lock::ReadLockHold>,
    /// The running statement's admission past that lock (it changes data).
    pub write_permit: Option<crate::global_read_lock::WritePermit>,
    /// LOCK TABLES ran since the last UNLOCK TABLES (any session, coordinated or not).
    pub lock_tables_held: bool,
}

/// MySQL's error for a savepoint name that is not set.
fn no_savepoint(name: &str) -> MysqlError {
    MysqlError::new(
        codes::SP_DOES_NOT_EXIST,
        format!("SAVEPOINT {name} does not exist"),
    )
}

/// Quotes a savepoint name for the storage nodes.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl Session {
    /// How long the session may stay idle in its open transaction before its connection
    /// is closed and the transaction rolled back: the shortest of the compute node's
    /// `idle_in_transaction_timeout_ms` and MariaDB's session variables
    /// `idle_transaction_timeout`, else `idle_write_transaction_timeout` or
    /// `idle_readonly_transaction_timeout` as the transaction wrote or not (seconds, 0
    /// for none). The storage node applies them too, but to its own connection: the
    /// client would only learn of it at its next statement, as a lost storage connection.
    pub(super) fn idle_in_transaction_limit(&mut self) -> Option<std::time::Duration> {
        if !self.in_transaction() {
            self.txn.wrote = false;
            return None;
        }
        self.txn.wrote |= self.statement.writes;
        let seconds = |name: &str| {
            self.state
                .vars
                .value(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|s| *s > 0)
                .map(std::time::Duration::from_secs)
        };
        let session = seconds("idle_transaction_timeout").or_else(|| {
            if self.txn.wrote {
                seconds("idle_write_transaction_timeout")
            } else {
                seconds("idle_readonly_transaction_timeout")
            }
        });
        let configured = self.ctx.config.transaction.idle_in_transaction_timeout_ms;
        let configured = (configured > 0).then(|| std::time::Duration::from_millis(configured));
        match (session, configured) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// True when this session's transactions are coordinated by the compute node.
    pub(super) fn coordinated(&self) -> bool {
        self.txn.open.is_some() || (self.state.multi_node && self.ctx.xa.xa())
    }

    /// Status bits the compute node decides for relayed packets; see `RelayMode`.
    pub(super) fn status_override(&self) -> (u16, u16) {
        if self.coordinated() {
            (status::IN_TRANS | status::AUTOCOMMIT, self.status())
        } else {
            (0, 0)
        }
    }

    /// Starts a coordinated transaction (no data node is touched until used).
    pub(super) fn begin_txn(&mut self, read_only: bool) {
        let next = std::mem::take(&mut self.txn.next);
        self.txn.open = Some(DistTxn {
            gtrid: self.ctx.xa.new_gtrid(),
            branches: Vec::new(),
            savepoints: Vec::new(),
            read_only: read_only || next.read_only.unwrap_or(false),
            isolation: next.isolation,
            written: Vec::new(),
        });
    }

    /// SET TRANSACTION ISOLATION LEVEL ... / READ ONLY for the next transaction only.
    pub(super) fn set_next_transaction(
        &mut self,
        items: &[strata_sql::SetItem],
        more: bool,
    ) -> Answer {
        if self.txn.open.is_some() {
            self.err(&MysqlError::new(
                codes::TRANSACTION_CHARACTERISTICS_IN_PROGRESS,
                "Transaction characteristics can't be changed while a transaction is in progress",
            ));
            return Answer::Failed;
        }
        for item in items {
            if let strata_sql::SetItem::Transaction {
                isolation,
                read_only,
                ..
            } = item
            {
                if let Some(level) = isolation {
                    self.txn.next.isolation = Some(*level);
                }
                if read_only.is_some() {
                    self.txn.next.read_only = *read_only;
                }
            }
        }
        self.ok(0, more);
        Answer::Ok
    }

    /// With autocommit off, a statement that reads or writes data opens a transaction.
    pub(super) fn auto_begin(&mut self, kind: StatementKind) {
        if self.txn.open.is_none()
            && !self.state.autocommit
            && self.state.multi_node
            && self.ctx.xa.xa()
            && matches!(
                kind,
                StatementKind::Select
                    | StatementKind::Insert
                    | StatementKind::Replace
                    | StatementKind::Update
                    | StatementKind::Delete
                    | StatementKind::Load
                    | StatementKind::Call
                    | StatementKind::Do
            )
        {
            self.begin_txn(false);
        }
    }

    /// Makes a freshly leased connection a branch of the open transaction: XA START,
    /// then the transaction's savepoints, so ROLLBACK TO reaches this node too.
    pub(super) async fn enlist(&mut self, lease: &mut Lease) -> Result<(), BackendError> {
        let Some(txn) = self.txn.open.as_mut() else {
            return Ok(());
        };
        let dnid = lease.target().dnid;
        if let Some(level) = txn.isolation {
            lease.queue_command(
                com::QUERY,
                format!("SET TRANSACTION ISOLATION LEVEL {}", level.sql()).as_bytes(),
            );
        }
        lease.queue_command(
            com::QUERY,
            format!("XA START {}", xid_sql(&txn.gtrid, dnid)).as_bytes(),
        );
        for sp in &txn.savepoints {
            lease.queue_command(com::QUERY, format!("SAVEPOINT {sp}").as_bytes());
        }
        lease.flush().await?;
        let mut result = Ok(());
        if txn.isolation.is_some() {
            result = lease.read_ok().await.map(|_| ());
        }
        let started = lease.read_ok().await.map(|_| ());
        if result.is_ok() {
            result = started;
        }
        for _ in &txn.savepoints {
            let r = lease.read_ok().await.map(|_| ());
            if result.is_ok() {
                result = r;
            }
        }
        if result.is_ok() {
            txn.branches.push(dnid);
            self.identity
                .entry
                .branches
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((dnid, lease.thread_id()));
        }
        result
    }

    /// Records that the running statement may change data on `dnid`.
    pub(super) fn note_write(&mut self, dnid: DataNodeId) {
        if !self.statement.writes {
            return;
        }
        if let Some(txn) = self.txn.open.as_mut() {
            if !txn.written.contains(&dnid) {
                txn.written.push(dnid);
            }
        }
    }

    /// True when `dnid` is a branch of the open transaction.
    pub(super) fn is_branch(&self, dnid: DataNodeId) -> bool {
        self.txn
            .open
            .as_ref()
            .is_some_and(|t| t.branches.contains(&dnid))
    }

    /// Takes the transaction's branch connections out of the pinned set.
    fn take_branches(&mut self, txn: &DistTxn) -> Vec<Lease> {
        let mut branches = Vec::with_capacity(txn.branches.len());
        let mut rest = Vec::with_capacity(self.backends.pinned.len());
        for lease in std::mem::take(&mut self.backends.pinned) {
            if txn.branches.contains(&lease.target().dnid) {
                branches.push(lease);
            } else {
                rest.push(lease);
            }
        }
        self.backends.pinned = rest;
        branches
    }

    /// Gives branch connections back after the transaction ended.
    fn end_branches(&mut self, leases: Vec<Lease>) {
        for lease in leases {
            self.finish(lease);
        }
        self.identity
            .entry
            .branches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Commits the open transaction (if any): one-phase on one branch, two-phase with a
    /// logged decision on several. On failure the transaction is rolled back
    /// everywhere (unless its outcome is unknown, which the error then says).
    pub(super) async fn commit_txn(&mut self) -> Result<(), MysqlError> {
        let Some(txn) = self.txn.open.take() else {
            return Ok(());
        };
        let mut leases = self.take_branches(&txn);
        // Branches that only read have nothing to make durable: they commit in one
        // phase, and their outcome does not matter to the transaction's (their
        // replies are read after the writers are done). With at most one writing
        // branch no decision needs logging at all.
        let (mut writers, mut readers): (Vec<Lease>, Vec<Lease>) = leases
            .drain(..)
            .partition(|l| txn.written.contains(&l.target().dnid));
        for lease in readers.iter_mut() {
            let xid = xid_sql(&txn.gtrid, lease.target().dnid);
            lease.queue_command(com::QUERY, format!("XA END {xid}").as_bytes());
            lease.queue_command(com::QUERY, format!("XA COMMIT {xid} ONE PHASE").as_bytes());
            if lease.flush().await.is_err() {
                lease.mark_broken();
            }
        }
        let (result, path) = match writers.as_mut_slice() {
            [] => (Ok(()), crate::metrics::CommitPath::OnePhase),
            [one] => (
                self.commit_one_phase(&txn, one).await,
                crate::metrics::CommitPath::OnePhase,
            ),
            several => (
                self.commit_two_phase(&txn, several).await,
                crate::metrics::CommitPath::TwoPhase,
            ),
        };
        if result.is_ok() {
            self.ctx.metrics.xa_committed(path);
        }
        for lease in readers.iter_mut().filter(|l| !l.is_broken()) {
            let end = lease.read_ok().await;
            let commit = lease.read_ok().await;
            let broken = [end, commit]
                .iter()
                .any(|r| matches!(r, Err(e) if !matches!(e, BackendError::Server(_))));
            if broken || lease.in_transaction() {
                // Closing the connection ends whatever is left of a read-only branch.
                lease.mark_broken();
            }
        }
        readers.append(&mut writers);
        self.end_branches(readers);
        result
    }

    async fn commit_one_phase(&self, txn: &DistTxn, lease: &mut Lease) -> Result<(), MysqlError> {
        let dnid = lease.target().dnid;
        let xid = xid_sql(&txn.gtrid, dnid);
        lease.queue_command(com::QUERY, format!("XA END {xid}").as_bytes());
        lease.queue_command(com::QUERY, format!("XA COMMIT {xid} ONE PHASE").as_bytes());
        let sent = lease.flush().await;
        let end = match sent {
            Ok(()) => lease.read_ok().await,
            Err(e) => Err(e),
        };
        let commit = match &end {
            Ok(_) => lease.read_ok().await,
            Err(BackendError::Server(_)) => lease.read_ok().await,
            Err(_) => Err(BackendError::StateMismatch("not sent")),
        };
        match (end, commit) {
            (Ok(_), Ok(_)) => Ok(()),
            (Err(e), _) | (_, Err(e)) => {
                let lost = !matches!(e, BackendError::Server(_));
                if lost {
                    lease.mark_broken();
                    Err(MysqlError::new(
                        codes::NET_READ,
                        format!("Lost connection to data node {dnid} during COMMIT; the transaction's outcome there is unknown"),
                    ))
                } else {
                    // The branch is rolled back (or still open: make sure it is not).
                    rollback_branch(lease, &xid).await;
                    Err(rolled_back(backend_error(dnid, &e)))
                }
            }
        }
    }

    async fn commit_two_phase(
        &self,
        txn: &DistTxn,
        leases: &mut [Lease],
    ) -> Result<(), MysqlError> {
        let coord = &self.ctx.xa;
        coord.begin_commit(&txn.gtrid);
        let result = self.two_phase(txn, leases).await;
        coord.end_commit(&txn.gtrid);
        result
    }

    async fn two_phase(&self, txn: &DistTxn, leases: &mut [Lease]) -> Result<(), MysqlError> {
        let coord = &self.ctx.xa;
        for lease in leases.iter_mut() {
            let xid = xid_sql(&txn.gtrid, lease.target().dnid);
            lease.queue_command(com::QUERY, format!("XA END {xid}").as_bytes());
            lease.queue_command(com::QUERY, format!("XA PREPARE {xid}").as_bytes());
            if lease.flush().await.is_err() {
                lease.mark_broken();
            }
        }
        let mut failure: Option<MysqlError> = None;
        for lease in leases.iter_mut() {
            let dnid = lease.target().dnid;
            if lease.is_broken() {
                failure.get_or_insert_with(|| transaction_lost(dnid));
                continue;
            }
            for _ in 0..2 {
                if let Err(e) = lease.read_ok().await {
                    // A branch lost before the decision is logged is rolled back
                    // (presumed abort): as after a deadlock, the client may retry.
                    failure.get_or_insert_with(|| match e {
                        BackendError::Server(_) => rolled_back(backend_error(dnid, &e)),
                        _ => transaction_lost(dnid),
                    });
                    if !matches!(e, BackendError::Server(_)) {
                        lease.mark_broken();
                    }
                    if lease.is_broken() {
                        break;
                    }
                }
            }
        }
        #[cfg(feature = "failpoints")]
        if failure.is_none()
            && coord.after_prepare.at().await == crate::failpoints::Resume::FailDecisionLog
        {
            failure = Some(rolled_back(MysqlError::new(
                codes::UNKNOWN,
                "cannot record the commit decision: failpoint".to_string(),
            )));
        }
        if failure.is_none() {
            let nodes: Vec<DataNodeId> = leases.iter().map(|l| l.target().dnid).collect();
            if let Err(e) = coord.log_commit(&txn.gtrid, &nodes).await {
                failure = Some(rolled_back(MysqlError::new(
                    codes::UNKNOWN,
                    format!("cannot record the commit decision: {e}"),
                )));
            }
        }
        if let Some(e) = failure {
            // Presumed abort: no decision was logged, so every branch rolls back (a
            // branch this cannot reach is rolled back by recovery).
            for lease in leases.iter_mut() {
                let xid = xid_sql(&txn.gtrid, lease.target().dnid);
                if !lease.is_broken() {
                    rollback_branch(lease, &xid).await;
                }
            }
            return Err(e);
        }
        // The decision is durable: the transaction is committed, whatever happens to
        // the XA COMMITs below (recovery finishes any that do not arrive).
        let gate = coord.gate.commit().await;
        for (i, lease) in leases.iter_mut().enumerate() {
            if i == 1 {
                coord.after_first_commit().await;
            }
            let xid = xid_sql(&txn.gtrid, lease.target().dnid);
            lease.queue_command(com::QUERY, format!("XA COMMIT {xid}").as_bytes());
            if lease.flush().await.is_err() {
                lease.mark_broken();
            }
        }
        let mut all_done = true;
        for lease in leases.iter_mut() {
            if lease.is_broken() {
                all_done = false;
                continue;
            }
            if let Err(e) = lease.read_ok().await {
                warn!(dnid = lease.target().dnid.get(), gtrid = %txn.gtrid, error = %e, "XA COMMIT failed after the decision; recovery will finish it");
                all_done = false;
                if !matches!(e, BackendError::Server(_)) {
                    lease.mark_broken();
                }
            }
        }
        if all_done {
            coord.forget(&txn.gtrid);
        } else {
            // Marked before the gate opens, so no reader slips in before it.
            coord.mark_unfinished(&txn.gtrid);
        }
        drop(gate);
        Ok(())
    }

    /// Rolls the open transaction back on every branch (errors are not reported: a
    /// branch that cannot be rolled back is dropped, which rolls it back). Returns the
    /// most warnings one branch gave: each node that cannot undo a non-transactional
    /// table's changes warns 1196 once, as MariaDB warns once for the whole ROLLBACK.
    pub(super) async fn rollback_txn(&mut self) -> u16 {
        let Some(txn) = self.txn.open.take() else {
            return 0;
        };
        let mut warnings = 0;
        let mut leases = self.take_branches(&txn);
        for lease in leases.iter_mut() {
            let xid = xid_sql(&txn.gtrid, lease.target().dnid);
            lease.queue_command(com::QUERY, format!("XA END {xid}").as_bytes());
            lease.queue_command(com::QUERY, format!("XA ROLLBACK {xid}").as_bytes());
            if lease.flush().await.is_err() {
                lease.mark_broken();
            }
        }
        for lease in leases.iter_mut() {
            if lease.is_broken() {
                continue;
            }
            let _end = lease.read_ok().await;
            match lease.read_ok().await {
                Ok(ok) => warnings = warnings.max(ok.warnings),
                Err(e) => {
                    if !matches!(e, BackendError::Server(_)) {
                        lease.mark_broken();
                    }
                }
            }
            if lease.in_transaction() {
                // Not in a state we know: closing the connection rolls it back.
                lease.mark_broken();
            }
        }
        if warnings > 0 {
            self.backends.keep_for_warnings = true;
        }
        self.end_branches(leases);
        warnings
    }

    /// Runs `sql` on every branch; the first failure is returned.
    async fn on_all_branches(&mut self, sql: &str) -> Result<(), MysqlError> {
        let Some(txn) = self.txn.open.as_ref() else {
            return Ok(());
        };
        let branches = txn.branches.clone();
        let mut first: Option<MysqlError> = None;
        for lease in self.backends.pinned.iter_mut() {
            let dnid = lease.target().dnid;
            if !branches.contains(&dnid) {
                continue;
            }
            if let Err(e) = lease.execute(sql).await {
                first.get_or_insert_with(|| backend_error(dnid, &e));
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// A transaction-control statement in a coordinated session.
    pub(super) async fn transaction_statement(
        &mut self,
        stmt: TxnStatement,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let mut warnings = 0;
        let outcome = match stmt {
            TxnStatement::Begin { read_only, .. } => {
                // BEGIN commits the open transaction first, as in MySQL.
                let committed = self.commit_txn().await;
                if committed.is_ok() {
                    self.begin_txn(read_only);
                }
                committed
            }
            TxnStatement::Commit(done) => {
                let read_only = self.txn.open.as_ref().is_some_and(|t| t.read_only);
                let result = self.commit_txn().await;
                self.after_completion(done, read_only);
                result
            }
            TxnStatement::Rollback(done) => {
                let read_only = self.txn.open.as_ref().is_some_and(|t| t.read_only);
                warnings = self.rollback_txn().await;
                self.after_completion(done, read_only);
                Ok(())
            }
            TxnStatement::Savepoint(name) => {
                let sp = quote(&name);
                match self.on_all_branches(&format!("SAVEPOINT {sp}")).await {
                    Ok(()) => {
                        if let Some(txn) = self.txn.open.as_mut() {
                            txn.savepoints.retain(|s| *s != sp);
                            txn.savepoints.push(sp);
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            TxnStatement::RollbackTo(name) => {
                let sp = quote(&name);
                match self.savepoint_position(&sp) {
                    None => Err(no_savepoint(&name)),
                    Some(pos) => {
                        let r = self
                            .on_all_branches(&format!("ROLLBACK TO SAVEPOINT {sp}"))
                            .await;
                        if let Some(txn) = self.txn.open.as_mut() {
                            txn.savepoints.truncate(pos + 1);
                        }
                        r
                    }
                }
            }
            TxnStatement::Release(name) => {
                let sp = quote(&name);
                match self.savepoint_position(&sp) {
                    None => Err(no_savepoint(&name)),
                    Some(pos) => {
                        let r = self
                            .on_all_branches(&format!("RELEASE SAVEPOINT {sp}"))
                            .await;
                        if let Some(txn) = self.txn.open.as_mut() {
                            txn.savepoints.truncate(pos);
                        }
                        r
                    }
                }
            }
        };
        match outcome {
            Ok(()) => {
                self.ok_warned(0, warnings, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    fn savepoint_position(&self, sp: &str) -> Option<usize> {
        self.txn
            .open
            .as_ref()
            .and_then(|t| t.savepoints.iter().position(|s| s == sp))
    }

    /// `COMMIT/ROLLBACK ... RELEASE` the storage node runs (a session whose transaction
    /// is its storage connection's): RELEASE closes the client's connection, not the
    /// storage connection, so the node gets the statement without it. None when there is
    /// no RELEASE (the statement is forwarded as written).
    pub(super) async fn complete_and_release(
        &mut self,
        sql: &str,
        kind: StatementKind,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let done = match strata_sql::parse_transaction(sql) {
            Ok(TxnStatement::Commit(done) | TxnStatement::Rollback(done)) => done,
            _ => return None,
        };
        if !done.release {
            return None;
        }
        let text = if kind == StatementKind::Commit {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let answer = self.forward(text, text.as_bytes(), more).await;
        if matches!(answer, Ok(Answer::Ok)) {
            self.txn.release_requested = true;
        }
        Some(answer)
    }

    /// AND CHAIN starts the next transaction; RELEASE closes the connection.
    fn after_completion(&mut self, done: Completion, read_only: bool) {
        if done.chain {
            self.begin_txn(read_only);
        }
        if done.release {
            self.txn.release_requested = true;
        }
    }

    /// Statements that commit implicitly in MySQL (DDL, LOCK TABLES, ...) commit the
    /// open transaction first; Err when that commit failed (the statement must not run).
    pub(super) async fn implicit_commit(&mut self, kind: StatementKind) -> Result<(), MysqlError> {
        if self.txn.open.is_none() {
            return Ok(());
        }
        let commits = match kind {
            StatementKind::Create
            | StatementKind::Alter
            | StatementKind::Drop
            | StatementKind::Truncate
            | StatementKind::Rename
            | StatementKind::Lock => true,
            StatementKind::Unlock => self.txn.table_locks,
            _ => false,
        };
        if commits {
            self.commit_txn().await
        } else {
            Ok(())
        }
    }

    /// After a statement in a transaction failed with `code`: a deadlock rolled the
    /// branch back on its storage node, so the whole transaction is rolled back, as
    /// MySQL does.
    pub(super) async fn after_statement_error(&mut self, code: u16) {
        let victim = self
            .identity
            .entry
            .deadlock_victim
            .swap(false, std::sync::atomic::Ordering::AcqRel);
        let deadlock = victim || code == codes::LOCK_DEADLOCK.0 || code == codes::XA_RBDEADLOCK.0;
        if self.txn.open.is_some() && deadlock {
            self.rollback_txn().await;
        }
    }

    /// The error to report for a failed statement: an interruption by the deadlock
    /// detector is reported as the deadlock it broke.
    pub(super) fn deadlock_error_if_victim(&self, e: MysqlError) -> MysqlError {
        let victim = self
            .identity
            .entry
            .deadlock_victim
            .load(std::sync::atomic::Ordering::Acquire);
        if victim && e.code == codes::QUERY_INTERRUPTED.0 {
            MysqlError::new(
                codes::LOCK_DEADLOCK,
                "Deadlock found when trying to get lock; try restarting transaction",
            )
        } else {
            e
        }
    }

    /// A branch's storage connection broke mid-statement: its work is rolled back there,
    /// so the transaction cannot commit; roll it back everywhere.
    pub(super) async fn after_lost_branch(&mut self, dnid: DataNodeId) {
        if self.branch_lost(dnid) {
            self.rollback_txn().await;
        }
    }

    /// Whether `dnid` is a branch of the open transaction whose connection is gone.
    pub(super) fn branch_lost(&self, dnid: DataNodeId) -> bool {
        self.is_branch(dnid) && !self.backends.pinned.iter().any(|l| l.target().dnid == dnid)
    }

    /// Refuses a write in a READ ONLY transaction (MySQL error 1792).
    pub(super) fn read_only_refusal(&self, kind: StatementKind) -> Option<MysqlError> {
        let read_only = self.txn.open.as_ref().is_some_and(|t| t.read_only);
        let writes = matches!(
            kind,
            StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
                | StatementKind::Load
        );
        (read_only && writes).then(|| {
            MysqlError::new(
                codes::CANT_EXECUTE_IN_READ_ONLY_TRANSACTION,
                "Cannot execute statement in a READ ONLY transaction",
            )
        })
    }
}

/// XA ROLLBACK of a branch that failed to commit (idle or prepared); errors only break
/// the connection (closing it rolls an unprepared branch back).
async fn rollback_branch(lease: &mut Lease, xid: &str) {
    lease.queue_command(com::QUERY, format!("XA ROLLBACK {xid}").as_bytes());
    if lease.flush().await.is_err() {
        lease.mark_broken();
        return;
    }
    match lease.read_ok().await {
        Ok(_) | Err(BackendError::Server(_)) => {}
        Err(_) => lease.mark_broken(),
    }
    if lease.in_transaction() {
        lease.mark_broken();
    }
}

/// The error of a statement that lost a transaction branch's connection (its storage
/// server failed, or failed over): the whole transaction is rolled back and, as after a
/// deadlock, the client may run it again from the start: 1213 with SQLSTATE 40001
/// (class 40, transaction rollback), which drivers and frameworks treat as retryable,
/// as Galera does for its conflicts.
pub(super) fn transaction_lost(dnid: DataNodeId) -> MysqlError {
    MysqlError::new(
        codes::LOCK_DEADLOCK,
        format!("Lost connection to data node {dnid} inside the transaction (its storage server failed); the transaction was rolled back; try restarting transaction"),
    )
}

/// The error of a COMMIT that rolled the transaction back instead.
fn rolled_back(e: MysqlError) -> MysqlError {
    MysqlError {
        message: format!("{}; the transaction was rolled back", e.message),
        ..e
    }
}
