//! The metadata fence of one compute node in a cluster: no statement runs on a plan
//! made from a table's metadata while a DDL through any compute node changes that
//! table on the data nodes.
//!
//! A DDL first announces the tables it will change (a *pending* record in etcd, seen
//! by every node's watch); each node marks them pending here, waits until the
//! statements in flight that were planned on them have ended, and only then
//! acknowledges. From then on a statement planned on a pending table is not admitted:
//! it waits until the DDL settled (its new metadata applied, the pending record gone)
//! and is planned again. A version number that moves whenever a pending mark is set or
//! cleared lets a statement planned before a change notice it: its plan is made again.
//! Everything here is in memory; the statement path takes one short lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A table as the fence knows it: database and table name, lower-cased (a spurious
/// match only makes a statement wait, a missed one would let it run across a DDL).
pub type FencedTable = (String, String);

/// The fence's key for `db`.`table`.
pub fn fenced_table(db: &str, table: &str) -> FencedTable {
    (db.to_ascii_lowercase(), table.to_ascii_lowercase())
}

/// What [`MetadataFence::admit`] decided about a statement just planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Its plan stands: run it (its tables are held until `release`).
    Admitted,
    /// The metadata may have changed while it was planned: plan it again.
    Stale,
    /// A DDL is about to change one of its tables: wait until the version moves, then
    /// plan again.
    Pending(FencedTable),
    /// This node lost its cluster membership and has not joined again yet.
    Rejoining,
}

/// A DDL announced on a table.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// The etcd revision that announced it.
    revision: i64,
    /// The session of this node running it (its own statements are not held back).
    owner: Option<u32>,
}

#[derive(Debug, Default)]
struct FenceState {
    pending: HashMap<FencedTable, Pending>,
    /// The tables the statement in flight of each session was planned on.
    holds: HashMap<u32, Vec<FencedTable>>,
}

/// See the module documentation. Inactive (every statement admitted, nothing held)
/// until [`MetadataFence::activate`]: a single compute node needs none of it.
#[derive(Debug, Default)]
pub struct MetadataFence {
    active: AtomicBool,
    state: Mutex<FenceState>,
    version: AtomicU64,
    rejoining: AtomicBool,
    /// Milliseconds on [`clock_ms`] from which statements are refused until the lease
    /// is renewed again; 0: no such time.
    serve_until_ms: AtomicU64,
    waiting: AtomicUsize,
}

/// Milliseconds since the first call in this process (a monotonic clock; never 0).
fn clock_ms(at: Instant) -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(|| Instant::now() - Duration::from_millis(1));
    u64::try_from(at.saturating_duration_since(origin).as_millis()).unwrap_or(u64::MAX)
}

impl MetadataFence {
    /// Turns the fence on (a node sharing its metadata through etcd).
    pub fn activate(&self) {
        self.active.store(true, Ordering::SeqCst);
    }

    /// True once activated.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FenceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current version: read it before planning, hand it to [`MetadataFence::admit`].
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    fn bump(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    /// Decides whether the statement of `session`, planned on `tables` from the
    /// metadata at `planned_at`, may run; admitted, its tables are held (added to what
    /// the statement holds already) until [`MetadataFence::release`].
    pub fn admit(&self, session: u32, tables: &[FencedTable], planned_at: u64) -> Admission {
        if !self.is_active() {
            return Admission::Admitted;
        }
        if self.is_rejoining() {
            return Admission::Rejoining;
        }
        let mut state = self.state();
        if let Some(table) = tables.iter().find(|t| {
            state
                .pending
                .get(*t)
                .is_some_and(|p| p.owner != Some(session))
        }) {
            return Admission::Pending(table.clone());
        }
        // Checked under the lock `announce` takes: a mark set after this point finds
        // the hold and waits for it.
        if self.version() != planned_at {
            return Admission::Stale;
        }
        let held = state.holds.entry(session).or_default();
        for table in tables {
            if !held.contains(table) {
                held.push(table.clone());
            }
        }
        Admission::Admitted
    }

    /// The statement of `session` ended: its tables are no longer held.
    pub fn release(&self, session: u32) {
        if self.is_active() {
            self.state().holds.remove(&session);
        }
    }

    /// Marks `tables` pending for a DDL announced at `revision` (run by this node's
    /// `owner` session, or by another node): statements planned on them are no longer
    /// admitted. Returns the sessions whose statements in flight hold one of them —
    /// the DDL may change the data nodes once they ended ([`MetadataFence::drained`]).
    pub fn announce(&self, tables: &[FencedTable], revision: i64, owner: Option<u32>) -> Vec<u32> {
        let mut state = self.state();
        for table in tables {
            state
                .pending
                .insert(table.clone(), Pending { revision, owner });
        }
        self.bump();
        state
            .holds
            .iter()
            .filter(|(s, held)| Some(**s) != owner && held.iter().any(|t| tables.contains(t)))
            .map(|(s, _)| *s)
            .collect()
    }

    /// The sessions with a statement in flight planned on some table's metadata.
    pub fn holders(&self) -> Vec<u32> {
        self.state()
            .holds
            .iter()
            .filter(|(_, held)| !held.is_empty())
            .map(|(s, _)| *s)
            .collect()
    }

    /// True once none of `sessions` holds any of `tables` any more.
    pub fn drained(&self, sessions: &[u32], tables: &[FencedTable]) -> bool {
        let state = self.state();
        sessions.iter().all(|s| {
            state
                .holds
                .get(s)
                .is_none_or(|held| !held.iter().any(|t| tables.contains(t)))
        })
    }

    /// The pending record of `table` was removed at `revision` (the DDL ended, or its
    /// node's lease did): a mark set earlier is cleared. A mark of a later DDL stays.
    pub fn settle(&self, table: &FencedTable, revision: i64) {
        let mut state = self.state();
        if state
            .pending
            .get(table)
            .is_some_and(|p| p.revision < revision)
        {
            state.pending.remove(table);
            self.bump();
        }
    }

    /// This node's own DDL announced at `revision` ended: its marks are cleared.
    pub fn settle_own(&self, tables: &[FencedTable], revision: i64) {
        let mut state = self.state();
        for table in tables {
            if state
                .pending
                .get(table)
                .is_some_and(|p| p.revision == revision)
            {
                state.pending.remove(table);
            }
        }
        self.bump();
    }

    /// Forgets every mark (the node reads the whole metadata again, pending records
    /// included).
    pub fn clear_pending(&self) {
        self.state().pending.clear();
        self.bump();
    }

    /// True while a DDL is pending on `table`.
    pub fn is_pending(&self, table: &FencedTable) -> bool {
        self.state().pending.contains_key(table)
    }

    /// Statements in flight planned on `table` (for tests and the admin view).
    pub fn holding(&self, table: &FencedTable) -> usize {
        self.state()
            .holds
            .values()
            .filter(|held| held.contains(table))
            .count()
    }

    /// Marks this node as rejoining the cluster (statements are refused) or back.
    pub fn set_rejoining(&self, rejoining: bool) {
        self.rejoining.store(rejoining, Ordering::SeqCst);
        self.bump();
    }

    /// True while this node lost its membership and has not joined again, or has not
    /// renewed it in time (see [`MetadataFence::serve_until`]).
    pub fn is_rejoining(&self) -> bool {
        if self.rejoining.load(Ordering::SeqCst) {
            return true;
        }
        let until = self.serve_until_ms.load(Ordering::SeqCst);
        until != 0 && clock_ms(Instant::now()) >= until
    }

    /// Refuses statements from `deadline` on (None: never), unless called again before:
    /// a node that cannot renew its membership lease must stop serving before the
    /// others may take it for gone and change metadata without it.
    pub fn serve_until(&self, deadline: Option<Instant>) {
        let until = deadline.map_or(0, |d| clock_ms(d).max(1));
        self.serve_until_ms.store(until, Ordering::SeqCst);
    }

    /// Counts a statement waiting for a pending DDL (dropped: no longer waiting).
    pub fn wait_started(&self) -> WaitingStatement<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        WaitingStatement { fence: self }
    }

    /// Statements waiting for a pending DDL right now (for tests and the admin view).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// A statement counted as waiting for a pending DDL until dropped.
#[derive(Debug)]
pub struct WaitingStatement<'a> {
    fence: &'a MetadataFence,
}

impl Drop for WaitingStatement<'_> {
    fn drop(&mut self) {
        self.fence.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> FencedTable {
        fenced_table("db", name)
    }

    fn active() -> MetadataFence {
        let fence = MetadataFence::default();
        fence.activate();
        fence
    }

    #[test]
    fn an_inactive_fence_admits_everything_and_holds_nothing() {
        let fence = MetadataFence::default();
        fence.announce(&[t("a")], 5, None);
        assert_eq!(fence.admit(1, &[t("a")], 0), Admission::Admitted);
        assert!(fence.drained(&[1], &[t("a")]));
    }

    #[test]
    fn a_statement_planned_on_a_pending_table_is_not_admitted() {
        let fence = active();
        fence.announce(&[t("a")], 5, None);
        let v = fence.version();
        assert_eq!(
            fence.admit(1, &[t("b"), t("A")], v),
            Admission::Pending(t("a"))
        );
        assert_eq!(fence.admit(1, &[t("b")], v), Admission::Admitted);
    }

    #[test]
    fn the_ddl_owner_is_admitted_on_its_own_pending_tables() {
        let fence = active();
        fence.announce(&[t("a")], 5, Some(7));
        let v = fence.version();
        assert_eq!(fence.admit(7, &[t("a")], v), Admission::Admitted);
        assert_eq!(fence.admit(8, &[t("a")], v), Admission::Pending(t("a")));
    }

    #[test]
    fn a_plan_made_before_a_mark_moved_is_stale() {
        let fence = active();
        let before = fence.version();
        fence.announce(&[t("a")], 5, None);
        fence.settle(&t("a"), 6);
        assert_eq!(fence.admit(1, &[t("a")], before), Admission::Stale);
        assert_eq!(
            fence.admit(1, &[t("a")], fence.version()),
            Admission::Admitted
        );
    }

    #[test]
    fn announcing_names_the_statements_in_flight_on_those_tables() {
        let fence = active();
        let v = fence.version();
        assert_eq!(fence.admit(1, &[t("a")], v), Admission::Admitted);
        assert_eq!(fence.admit(2, &[t("b")], v), Admission::Admitted);
        let waits = fence.announce(&[t("a")], 5, None);
        assert_eq!(waits, vec![1]);
        assert!(!fence.drained(&waits, &[t("a")]));
        fence.release(1);
        assert!(fence.drained(&waits, &[t("a")]));
    }

    #[test]
    fn a_removal_clears_only_an_earlier_mark() {
        let fence = active();
        fence.announce(&[t("a")], 10, None);
        // The removal of an earlier DDL's record, delivered late.
        fence.settle(&t("a"), 8);
        assert!(fence.is_pending(&t("a")));
        fence.settle(&t("a"), 12);
        assert!(!fence.is_pending(&t("a")));
        fence.announce(&[t("a")], 20, Some(3));
        fence.settle_own(&[t("a")], 19);
        assert!(fence.is_pending(&t("a")));
        fence.settle_own(&[t("a")], 20);
        assert!(!fence.is_pending(&t("a")));
    }

    #[test]
    fn a_node_past_its_serving_deadline_admits_nothing_until_renewed() {
        let fence = active();
        fence.serve_until(Some(Instant::now() + Duration::from_secs(60)));
        assert!(!fence.is_rejoining());
        assert_eq!(fence.admit(1, &[], fence.version()), Admission::Admitted);
        fence.release(1);
        fence.serve_until(Some(Instant::now() - Duration::from_millis(1)));
        assert!(fence.is_rejoining());
        assert_eq!(fence.admit(1, &[], fence.version()), Admission::Rejoining);
        fence.serve_until(None);
        assert!(!fence.is_rejoining());
    }

    #[test]
    fn a_rejoining_node_admits_nothing() {
        let fence = active();
        fence.set_rejoining(true);
        assert_eq!(fence.admit(1, &[], fence.version()), Admission::Rejoining);
        fence.set_rejoining(false);
        assert_eq!(fence.admit(1, &[], fence.version()), Admission::Admitted);
    }
}
