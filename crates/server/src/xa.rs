//! The XA coordinator shared by all sessions: transaction ids, the group-committed
//! decision log, the set of transactions in their commit protocol, the gate that keeps
//! multi-node reads from seeing a commit half done, and recovery of prepared branches
//! left behind by a crash.
//!
//! A branch's XID is `'strata:<node>:<epoch>:<seq>', '<dnid>', 0x5354`: recovery
//! recognises this compute node's branches by the gtrid prefix and the format id, and
//! the epoch (bumped in the metadata store at each start) keeps ids unique across
//! restarts. With the embedded store a node owns every epoch of its own; in a cluster
//! (etcd) it owns only the epoch of its current registration, and the branches of every
//! other epoch with no live member are the cluster's, finished by the elected leader
//! (`crate::takeover`) through the same recovery pass.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use strata_catalog::config::CommitMode;
use strata_catalog::xalog::{gtrid_prefix, node_gtrid_prefix};
use strata_catalog::{CatalogError, DataNodeId, Decision, DecisionLog, MetadataStore};
use tokio::sync::{oneshot, Notify};
use tracing::{info, warn};

use crate::context::ServerContext;

/// The XA format id of Strata's branches ("ST").
pub const FORMAT_ID: u32 = 0x5354;

/// ER_XAER_NOTA: the XID is not known (anymore).
const XAER_NOTA: u16 = 1397;

/// How many finished in-doubt transactions the coordinator remembers for the admin view.
const RECENT_LIMIT: usize = 256;

/// The XID clause for a branch of `gtrid` on data node `dnid` (`XA START <this>`).
pub fn xid_sql(gtrid: &str, dnid: DataNodeId) -> String {
    format!("'{gtrid}','{dnid}',{FORMAT_ID}")
}

/// A branch that recovery found prepared and finished, for the admin view.
#[derive(Debug, Clone)]
pub struct ResolvedBranch {
    /// Global transaction id.
    pub gtrid: String,
    /// Data node of the branch.
    pub dnid: DataNodeId,
    /// True when it was committed (a decision was logged), false when rolled back.
    pub committed: bool,
    /// When it was finished (ms since the Unix epoch).
    pub at_ms: u64,
}

/// Coordinator state shared by every session of a compute node.
pub struct Coordinator {
    /// Commit protocol for multi-node transactions.
    pub mode: CommitMode,
    node_id: u32,
    /// "strata:<node>:", shared by every id this compute node ever issued.
    node_prefix: String,
    /// "strata:<node>:<epoch>:", the prefix of ids issued since this start.
    prefix: String,
    next_seq: AtomicU64,
    /// Transactions between their first XA PREPARE and their last XA COMMIT/ROLLBACK:
    /// periodic recovery must leave their branches alone.
    active: Mutex<HashSet<String>>,
    log: LogWriter,
    store: Arc<MetadataStore>,
    /// Keeps multi-node reads and commit phases apart.
    pub gate: VisibilityGate,
    recent: Mutex<VecDeque<ResolvedBranch>>,
    /// Committed transactions with a branch not yet committed (its node failed during
    /// XA COMMIT, or the decision was found at start-up): multi-node reads wait for
    /// recovery to finish them, so they never see such a transaction half done.
    unfinished: Mutex<HashSet<String>>,
    unfinished_changed: Notify,
    recovery_kick: Notify,
    /// Stops a distributed commit after every XA PREPARE succeeded, before its decision
    /// is logged (tests only).
    #[cfg(feature = "failpoints")]
    pub after_prepare: crate::failpoints::Pause,
    /// Stops a distributed commit after its first XA COMMIT was sent, before the others
    /// (tests only).
    #[cfg(feature = "failpoints")]
    pub between_commits: crate::failpoints::Pause,
}

impl Coordinator {
    /// Where a distributed commit's first XA COMMIT has been sent and the others not yet:
    /// the `between_commits` pause in test builds, nothing otherwise.
    pub(crate) async fn after_first_commit(&self) {
        #[cfg(feature = "failpoints")]
        self.between_commits.at().await;
    }

    /// Starts the decision-log writer and takes a new epoch from the metadata store.
    pub fn new(
        mode: CommitMode,
        node_id: u32,
        store: Arc<MetadataStore>,
    ) -> Result<Coordinator, strata_catalog::CatalogError> {
        let epoch = store.next_epoch()?;
        Ok(Coordinator {
            mode,
            node_id,
            node_prefix: node_gtrid_prefix(node_id),
            prefix: gtrid_prefix(node_id, epoch),
            next_seq: AtomicU64::new(1),
            active: Mutex::new(HashSet::new()),
            log: LogWriter::start(Arc::clone(&store)),
            store,
            gate: VisibilityGate::default(),
            recent: Mutex::new(VecDeque::new()),
            unfinished: Mutex::new(HashSet::new()),
            unfinished_changed: Notify::new(),
            recovery_kick: Notify::new(),
            #[cfg(feature = "failpoints")]
            after_prepare: crate::failpoints::Pause::default(),
            #[cfg(feature = "failpoints")]
            between_commits: crate::failpoints::Pause::default(),
        })
    }

    /// True when multi-node transactions use XA.
    pub fn xa(&self) -> bool {
        self.mode == CommitMode::Xa
    }

    /// The prefix of the ids this node issues now: in a cluster, that of its current
    /// registration's epoch (None before it joined).
    fn issuing_prefix(&self) -> Option<String> {
        match self.store.etcd() {
            Some(etcd) => etcd
                .incarnation()
                .map(|i| gtrid_prefix(self.node_id, i.epoch)),
            None => Some(self.prefix.clone()),
        }
    }

    /// A new global transaction id.
    pub fn new_gtrid(&self) -> String {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        // Before joining no decision can be logged, so the start-up prefix will do.
        let prefix = self.issuing_prefix().unwrap_or_else(|| self.prefix.clone());
        format!("{prefix}{seq}")
    }

    /// True when `gtrid` is this compute node's to recover: issued in any epoch with the
    /// embedded store, in the current registration's epoch in a cluster.
    fn owns(&self, gtrid: &str) -> bool {
        match self.store.etcd() {
            Some(_) => self.issuing_prefix().is_some_and(|p| gtrid.starts_with(&p)),
            None => gtrid.starts_with(&self.node_prefix),
        }
    }

    /// Marks a transaction as inside its commit protocol.
    pub fn begin_commit(&self, gtrid: &str) {
        lock(&self.active).insert(gtrid.to_string());
    }

    /// The commit protocol of a transaction is over (its branches are finished or
    /// left to recovery).
    pub fn end_commit(&self, gtrid: &str) {
        lock(&self.active).remove(gtrid);
    }

    fn is_active(&self, gtrid: &str) -> bool {
        lock(&self.active).contains(gtrid)
    }

    /// Records the commit decision durably (group-committed with concurrent ones).
    pub async fn log_commit(&self, gtrid: &str, data_nodes: &[DataNodeId]) -> Result<(), String> {
        let decision = Decision {
            gtrid: gtrid.to_string(),
            data_nodes: data_nodes.to_vec(),
            decided_ms: strata_catalog::store::now_ms(),
        };
        self.log.log(decision).await
    }

    /// Forgets a decision whose branches all committed.
    pub fn forget(&self, gtrid: &str) {
        self.log.forget(gtrid.to_string());
    }

    /// A committed transaction could not commit every branch: recovery must finish it
    /// (asked to start at once), and multi-node reads wait until it has.
    pub fn mark_unfinished(&self, gtrid: &str) {
        lock(&self.unfinished).insert(gtrid.to_string());
        self.recovery_kick.notify_one();
    }

    fn mark_finished(&self, gtrid: &str) {
        if lock(&self.unfinished).remove(gtrid) {
            self.unfinished_changed.notify_waiters();
        }
    }

    /// True when every committed transaction is finished on all its branches.
    pub fn all_finished(&self) -> bool {
        lock(&self.unfinished).is_empty()
    }

    /// Waits until no committed transaction has an unfinished branch; Err lists those
    /// still unfinished after `limit`.
    pub async fn wait_all_finished(&self, limit: Duration) -> Result<(), Vec<String>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.unfinished_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let set = lock(&self.unfinished);
                if set.is_empty() {
                    return Ok(());
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(set.iter().cloned().collect());
                }
            }
            self.recovery_kick.notify_one();
            // A change or the deadline: the loop looks at the set again either way.
            let _ = tokio::time::timeout_at(deadline, changed).await;
        }
    }

    /// Finished in-doubt branches, newest first.
    pub fn recently_resolved(&self) -> Vec<ResolvedBranch> {
        lock(&self.recent).iter().rev().cloned().collect()
    }

    /// Committed transactions not yet finished on every branch (in doubt until
    /// recovery reaches their data nodes).
    pub fn pending_decisions(&self) -> Vec<Decision> {
        let unfinished = lock(&self.unfinished).clone();
        let mut list: Vec<Decision> = self
            .store
            .decisions()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| unfinished.contains(&d.gtrid))
            .collect();
        list.sort_by_key(|d| d.decided_ms);
        list
    }

    fn note_resolved(&self, branch: ResolvedBranch) {
        let mut recent = lock(&self.recent);
        if recent.len() == RECENT_LIMIT {
            recent.pop_front();
        }
        recent.push_back(branch);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

enum LogRequest {
    Commit(Decision, oneshot::Sender<Result<(), String>>),
    Forget(String),
}

/// A thread that writes decisions in batches: every decision waiting while the previous
/// batch was being synced goes into the next one, so concurrent commits share an fsync.
struct LogWriter {
    tx: Mutex<mpsc::Sender<LogRequest>>,
}

impl LogWriter {
    fn start(store: Arc<MetadataStore>) -> LogWriter {
        let (tx, rx) = mpsc::channel::<LogRequest>();
        let spawned = std::thread::Builder::new()
            .name("strata-xa-log".into())
            .spawn(move || log_writer_loop(&*store, rx));
        if let Err(e) = spawned {
            // Without the writer every log_commit fails, so XA commits are refused.
            warn!(error = %e, "cannot start the XA decision log writer");
        }
        LogWriter { tx: Mutex::new(tx) }
    }

    async fn log(&self, decision: Decision) -> Result<(), String> {
        let (reply, done) = oneshot::channel();
        lock(&self.tx)
            .send(LogRequest::Commit(decision, reply))
            .map_err(|_| "the decision log writer stopped".to_string())?;
        done.await
            .unwrap_or_else(|_| Err("the decision log writer stopped".to_string()))
    }

    fn forget(&self, gtrid: String) {
        // Fails only once the writer has stopped; the decision then stays in the log
        // and the next recovery pass finds the branch finished and forgets it.
        let _ = lock(&self.tx).send(LogRequest::Forget(gtrid));
    }
}

fn log_writer_loop(store: &dyn DecisionLog, rx: mpsc::Receiver<LogRequest>) {
    // Removals ride along with the next batch of decisions (one fsync for both); when
    // no decision comes for a while they are written on their own.
    let mut forgets: Vec<String> = Vec::new();
    loop {
        let first = if forgets.is_empty() {
            rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(Duration::from_millis(200))
        };
        let first = match first {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = store.forget(&forgets) {
                    warn!(error = %e, "cannot remove finished XA decisions (recovery retries)");
                }
                forgets.clear();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut commits = Vec::new();
        let mut take = |req: LogRequest| match req {
            LogRequest::Commit(d, reply) => commits.push((d, reply)),
            LogRequest::Forget(g) => forgets.push(g),
        };
        take(first);
        while let Ok(more) = rx.try_recv() {
            take(more);
        }
        if commits.is_empty() {
            continue;
        }
        let decisions: Vec<Decision> = commits.iter().map(|(d, _)| d.clone()).collect();
        let result = store
            .log_commits(&decisions, &forgets)
            .map_err(|e| e.to_string());
        if result.is_ok() {
            forgets.clear();
        }
        for (_, reply) in commits {
            // A committer that stopped waiting (its session ended) needs no answer.
            let _ = reply.send(result.clone());
        }
    }
}

/// Keeps statements that read several data nodes and the commit phases of distributed
/// transactions apart: readers share the gate with readers, committers with
/// committers, and the two alternate, so a reader's per-node snapshots are all taken
/// either before or after any transaction's XA COMMITs — never in between.
#[derive(Default)]
pub struct VisibilityGate {
    state: Mutex<GateState>,
    changed: Notify,
}

#[derive(Default)]
struct GateState {
    /// Sessions inside, per side (READ, COMMIT).
    active: [u32; 2],
    /// Sessions waiting to enter, per side.
    waiting: [u32; 2],
    /// Which side goes next when both wait (set by the side that starts waiting).
    turn: usize,
}

const READ: usize = 0;
const COMMIT: usize = 1;

/// Held by a multi-node read; see [`VisibilityGate`].
pub struct ReadGuard<'a>(&'a VisibilityGate);

/// Held during a distributed commit's XA COMMIT phase; see [`VisibilityGate`].
pub struct CommitGuard<'a>(&'a VisibilityGate);

impl VisibilityGate {
    /// Waits until no commit phase is running (or waiting its turn) and enters as a reader.
    pub async fn read(&self) -> ReadGuard<'_> {
        self.enter(READ).await;
        ReadGuard(self)
    }

    /// Waits until no multi-node read is running (or waiting its turn) and enters as a
    /// committer.
    pub async fn commit(&self) -> CommitGuard<'_> {
        self.enter(COMMIT).await;
        CommitGuard(self)
    }

    async fn enter(&self, side: usize) {
        let other = 1 - side;
        let mut waiting = false;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = lock(&self.state);
                if s.active[other] == 0 && (s.waiting[other] == 0 || s.turn == side) {
                    if waiting {
                        s.waiting[side] -= 1;
                    }
                    s.active[side] += 1;
                    return;
                }
                if !waiting {
                    waiting = true;
                    s.waiting[side] += 1;
                    if s.active[other] > 0 {
                        s.turn = side;
                    }
                }
            }
            notified.await;
        }
    }

    fn leave(&self, side: usize) {
        let mut s = lock(&self.state);
        s.active[side] -= 1;
        if s.active[side] == 0 {
            s.turn = 1 - side;
            drop(s);
            self.changed.notify_waiters();
        }
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        self.0.leave(READ);
    }
}

impl Drop for CommitGuard<'_> {
    fn drop(&mut self) {
        self.0.leave(COMMIT);
    }
}

/// A prepared branch reported by XA RECOVER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedBranch {
    /// Global transaction id.
    pub gtrid: String,
    /// Branch qualifier.
    pub bqual: String,
}

/// Parses XA RECOVER rows (formatID, gtrid_length, bqual_length, data) keeping
/// Strata's branches.
pub fn strata_branches(rows: &[Vec<Option<String>>]) -> Vec<PreparedBranch> {
    let mut out = Vec::new();
    for row in rows {
        let field = |i: usize| row.get(i).and_then(|v| v.as_deref());
        let (Some(format), Some(glen), Some(blen), Some(data)) =
            (field(0), field(1), field(2), field(3))
        else {
            continue;
        };
        if format.parse::<u32>().ok() != Some(FORMAT_ID) {
            continue;
        }
        let (Ok(glen), Ok(blen)) = (glen.parse::<usize>(), blen.parse::<usize>()) else {
            continue;
        };
        if data.len() != glen + blen || !data.is_char_boundary(glen) {
            continue;
        }
        out.push(PreparedBranch {
            gtrid: data[..glen].to_string(),
            bqual: data[glen..].to_string(),
        });
    }
    out
}

/// What one recovery pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Branches committed (their transaction had a logged decision).
    pub committed: usize,
    /// Branches rolled back (no decision: presumed abort).
    pub rolled_back: usize,
    /// Data nodes that could not be asked (retried on the next pass).
    pub unreachable: Vec<DataNodeId>,
}

/// Whose prepared branches a recovery pass finishes, and by which decision log.
pub(crate) trait RecoveryScope: Send {
    /// The logged decisions of the transactions in scope, read before the data nodes
    /// are asked.
    fn decisions(&self) -> Result<Vec<Decision>, CatalogError>;
    /// Called after each data node's XA RECOVER: what the scope depends on may have
    /// changed meanwhile (a compute node joined or died).
    fn refresh(&mut self) -> Result<(), CatalogError> {
        Ok(())
    }
    /// True when the branches of `gtrid` are in scope.
    fn claims(&self, gtrid: &str) -> bool;
}

/// A compute node's own branches, by its own decision log.
struct OwnBranches<'a>(&'a Coordinator);

impl RecoveryScope for OwnBranches<'_> {
    fn decisions(&self) -> Result<Vec<Decision>, CatalogError> {
        let mut list = self.0.store.decisions()?;
        // In a cluster an earlier epoch's decisions are the takeover's, not this
        // registration's.
        list.retain(|d| self.0.owns(&d.gtrid));
        Ok(list)
    }

    fn claims(&self, gtrid: &str) -> bool {
        self.0.owns(gtrid)
    }
}

/// What a pass left for the caller: decisions finished everywhere (forgotten) and
/// decisions with a branch possibly still prepared.
pub(crate) struct PassOutcome {
    pub(crate) report: RecoveryReport,
    pub(crate) finished: Vec<String>,
    pub(crate) unfinished: Vec<String>,
}

/// One recovery pass over every data node: finishes this compute node's prepared
/// branches that no live session is committing, then forgets decisions none of whose
/// branches is left.
pub async fn recover(ctx: &ServerContext) -> RecoveryReport {
    let coord = &ctx.xa;
    let Some(outcome) = recovery_pass(ctx, &mut OwnBranches(coord)).await else {
        return RecoveryReport::default();
    };
    for gtrid in &outcome.finished {
        coord.mark_finished(gtrid);
    }
    lock(&coord.unfinished).extend(outcome.unfinished);
    // A transaction whose decision is gone from the log is finished (decisions are
    // removed only once every branch committed), whoever removed it.
    if let Ok(left) = coord.store.decisions() {
        let left: HashSet<String> = left.into_iter().map(|d| d.gtrid).collect();
        let mut unfinished = lock(&coord.unfinished);
        let before = unfinished.len();
        unfinished.retain(|g| left.contains(g));
        if unfinished.len() != before {
            drop(unfinished);
            coord.unfinished_changed.notify_waiters();
        }
    }
    outcome.report
}

/// Finishes the prepared branches `scope` claims on every data node (commit where a
/// decision is logged, roll back otherwise) and forgets the decisions none of whose
/// branches is left; None when the decision log cannot be read.
pub(crate) async fn recovery_pass(
    ctx: &ServerContext,
    scope: &mut dyn RecoveryScope,
) -> Option<PassOutcome> {
    let coord = &ctx.xa;
    let mut report = RecoveryReport::default();
    let decisions: HashMap<String, Decision> = match scope.decisions() {
        Ok(list) => list.into_iter().map(|d| (d.gtrid.clone(), d)).collect(),
        Err(e) => {
            warn!(error = %e, "XA recovery cannot read the decision log");
            return None;
        }
    };
    // Every transaction with a branch seen prepared and not finished by this pass (in
    // scope or not): its decision must stay.
    let mut left: HashSet<String> = HashSet::new();
    // Those a session of this node is committing: not for recovery to track.
    let mut active_seen: HashSet<String> = HashSet::new();
    let mut nodes: Vec<_> = ctx.topology.nodes().collect();
    nodes.sort_by_key(|n| n.id);
    for node in nodes {
        let mut lease = match node.pool.acquire(None).await {
            Ok(l) => l,
            Err(e) => {
                warn!(dnid = node.id.get(), error = %e, "XA recovery cannot reach the data node; retrying later");
                report.unreachable.push(node.id);
                continue;
            }
        };
        let rows = match lease.query("XA RECOVER").await {
            Ok(rows) => rows,
            Err(e) => {
                warn!(dnid = node.id.get(), error = %e, "XA RECOVER failed; retrying later");
                lease.mark_broken();
                report.unreachable.push(node.id);
                continue;
            }
        };
        if let Err(e) = scope.refresh() {
            warn!(error = %e, "XA recovery cannot tell whose branches are left; retrying later");
            report.unreachable.push(node.id);
            continue;
        }
        for branch in strata_branches(&rows) {
            if !scope.claims(&branch.gtrid) {
                left.insert(branch.gtrid.clone());
                continue;
            }
            if coord.is_active(&branch.gtrid) {
                // Its session is committing it; the session finishes it or marks it
                // unfinished itself.
                active_seen.insert(branch.gtrid.clone());
                continue;
            }
            // Looked up now, not in the list read before XA RECOVER: a transaction
            // that logged its decision and ended its commit protocol since then must
            // be committed, never rolled back.
            let commit = match decisions.contains_key(&branch.gtrid) {
                true => true,
                false => match coord.store.is_committed(&branch.gtrid) {
                    Ok(c) => c,
                    Err(e) => {
                        warn!(error = %e, "XA recovery cannot read the decision log");
                        left.insert(branch.gtrid.clone());
                        continue;
                    }
                },
            };
            let verb = if commit { "COMMIT" } else { "ROLLBACK" };
            let sql = format!(
                "XA {verb} '{}','{}',{FORMAT_ID}",
                branch.gtrid.replace('\'', "''"),
                branch.bqual.replace('\'', "''")
            );
            match lease.execute(&sql).await {
                Ok(_) => {
                    info!(dnid = node.id.get(), gtrid = %branch.gtrid, committed = commit, "XA recovery finished a prepared branch");
                    if commit {
                        report.committed += 1;
                    } else {
                        report.rolled_back += 1;
                    }
                    coord.note_resolved(ResolvedBranch {
                        gtrid: branch.gtrid.clone(),
                        dnid: node.id,
                        committed: commit,
                        at_ms: strata_catalog::store::now_ms(),
                    });
                }
                Err(strata_backend::BackendError::Server(e)) if e.code == XAER_NOTA => {
                    // Either its session finished it after XA RECOVER listed it, or it
                    // is still attached to a connection the storage node has not
                    // dropped yet (a crashed compute node's): only the next pass can
                    // tell, so it counts as still prepared.
                    tracing::debug!(dnid = node.id.get(), gtrid = %branch.gtrid, "branch not finishable yet");
                    left.insert(branch.gtrid.clone());
                }
                Err(e) => {
                    warn!(dnid = node.id.get(), gtrid = %branch.gtrid, error = %e, "XA recovery could not finish a branch; retrying later");
                    left.insert(branch.gtrid.clone());
                }
            }
        }
        drop(lease);
    }
    let mut outcome = PassOutcome {
        report,
        finished: Vec::new(),
        unfinished: Vec::new(),
    };
    for (gtrid, decision) in &decisions {
        if left.contains(gtrid)
            || active_seen.contains(gtrid)
            || coord.is_active(gtrid)
            || !scope.claims(gtrid)
        {
            continue;
        }
        let unknown = decision
            .data_nodes
            .iter()
            .any(|d| outcome.report.unreachable.contains(d));
        if unknown {
            outcome.unfinished.push(gtrid.clone());
        } else {
            coord.forget(gtrid);
            outcome.finished.push(gtrid.clone());
        }
    }
    for gtrid in &left {
        if decisions.contains_key(gtrid) && scope.claims(gtrid) {
            outcome.unfinished.push(gtrid.clone());
        }
    }
    ctx.metrics
        .branches_recovered((outcome.report.committed + outcome.report.rolled_back) as u64);
    Some(outcome)
}

/// Runs recovery every `interval` until the server stops.
pub async fn recovery_loop(
    ctx: Arc<ServerContext>,
    interval: Duration,
    mut shutdown: crate::shutdown::Shutdown,
) {
    loop {
        // While a committed transaction is unfinished, readers wait for it: retry soon.
        let wait = if lock(&ctx.xa.unfinished).is_empty() {
            interval
        } else {
            interval.min(Duration::from_millis(200))
        };
        tokio::select! {
            _ = shutdown.triggered() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = ctx.xa.recovery_kick.notified() => {}
        }
        let report = recover(&ctx).await;
        if report.committed + report.rolled_back > 0 {
            info!(?report, "XA recovery pass");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> Vec<Option<String>> {
        fields.iter().map(|f| Some(f.to_string())).collect()
    }

    #[test]
    fn recover_rows_keep_only_strata_branches() {
        let rows = vec![
            row(&["21332", "14", "1", "strata:1:3:17x2"]),
            row(&["1", "2", "0", "x3"]),
            row(&["21332", "40", "1", "short"]),
        ];
        assert_eq!(
            strata_branches(&rows),
            vec![PreparedBranch {
                gtrid: "strata:1:3:17x".into(),
                bqual: "2".into()
            }]
        );
    }

    #[test]
    fn gtrids_are_unique_and_recognised() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(MetadataStore::open(dir.path()).expect("store"));
        let a = Coordinator::new(CommitMode::Xa, 7, Arc::clone(&store)).expect("coordinator");
        let b = Coordinator::new(CommitMode::Xa, 7, Arc::clone(&store)).expect("coordinator");
        let (x, y) = (a.new_gtrid(), b.new_gtrid());
        assert_ne!(x, y, "a restart takes a new epoch");
        assert!(a.owns(&y) && b.owns(&x));
        let other = Coordinator::new(CommitMode::Xa, 71, store).expect("coordinator");
        assert!(!a.owns(&other.new_gtrid()));
    }

    #[tokio::test]
    async fn the_gate_keeps_readers_and_committers_apart() {
        let gate = Arc::new(VisibilityGate::default());
        let r1 = gate.read().await;
        let r2 = gate.read().await;
        let g = Arc::clone(&gate);
        let committer = tokio::spawn(async move {
            let _c = g.commit().await;
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !committer.is_finished(),
            "a commit waits for running readers"
        );
        // A new reader waits behind the waiting committer (no starvation).
        let g = Arc::clone(&gate);
        let late_reader = tokio::spawn(async move {
            let _r = g.read().await;
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!late_reader.is_finished());
        drop((r1, r2));
        committer.await.expect("committer");
        late_reader.await.expect("reader");
        let c1 = gate.commit().await;
        let c2 = gate.commit().await;
        drop((c1, c2));
    }
}
