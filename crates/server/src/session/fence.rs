//! The session's side of the metadata fence (`strata_catalog::fence`) in a cluster of
//! compute nodes: a planned statement runs only when no DDL through any compute node
//! is changing its tables (else it waits and is planned again), a DDL announces its
//! tables and waits for the statements in flight on them before it changes the data
//! nodes, and a node that lost its cluster membership refuses statements until it has
//! joined again. With one compute node (the embedded store) the fence is inactive.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use strata_catalog::fence::{fenced_table, FencedTable, MetadataFence};
use strata_catalog::store::etcd::TableLocks;
use strata_catalog::Catalog;
use strata_protocol::{codes, MysqlError};
use strata_sql::StatementKind;

use super::Session;

/// What a member put out may take beyond its renewal period to notice (the renewal
/// request, the keepalive thread's polling).
const RENEWAL_SLACK: Duration = Duration::from_millis(500);

/// How often a waiting statement looks whether the pending DDL ended.
const PENDING_POLL: Duration = Duration::from_millis(5);

/// Why the fence did not admit a statement just planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fenced {
    /// A DDL is about to change this table: plan again once it ended.
    Pending(FencedTable),
    /// This node lost its membership and has not joined again.
    Rejoining,
}

/// The error of a statement refused while the node rejoins the cluster: 1047 with
/// SQLSTATE 08S01, as a Galera node outside the primary component answers, which
/// drivers and pools take as "use another server".
pub(crate) fn rejoining_error(node_id: u32) -> MysqlError {
    MysqlError::new(
        codes::UNKNOWN_COM,
        format!(
            "compute node {node_id} is rejoining the cluster (its membership lapsed, or \
             etcd is out of reach): statements are refused until it has reloaded the \
             metadata; use another compute node or try again"
        ),
    )
}

fn pending_error((db, table): &FencedTable, waited: Option<Duration>) -> MysqlError {
    let waited = waited.map_or(String::new(), |w| format!(" ({} ms)", w.as_millis()));
    MysqlError::new(
        codes::LOCK_WAIT_TIMEOUT,
        format!(
            "Lock wait timeout exceeded: a DDL through a compute node is changing {db}.{table}{waited}"
        ),
    )
}

impl Fenced {
    /// The client's error when the statement does not wait (any more).
    pub(super) fn error(&self, node_id: u32, waited: Option<Duration>) -> MysqlError {
        match self {
            Fenced::Pending(table) => pending_error(table, waited),
            Fenced::Rejoining => rejoining_error(node_id),
        }
    }
}

/// True for statements a rejoining node still answers: they read no table and leave
/// no metadata behind (session settings, ending a transaction, KILL).
fn answered_while_rejoining(kind: StatementKind) -> bool {
    use StatementKind as K;
    matches!(
        kind,
        K::Set
            | K::Use
            | K::Show
            | K::Commit
            | K::Rollback
            | K::RollbackToSavepoint
            | K::Release
            | K::Kill
            | K::Unlock
            | K::Deallocate
            | K::Help
    )
}

/// A DDL announced to every compute node: the pending marks of its tables here are
/// cleared, then its locks and pending records in etcd released, when it is dropped.
pub(super) struct Announced<'a> {
    fence: &'a MetadataFence,
    tables: Vec<FencedTable>,
    locks: TableLocks,
}

impl Drop for Announced<'_> {
    fn drop(&mut self) {
        self.fence.settle_own(&self.tables, self.locks.revision());
    }
}

impl Session {
    fn fence(&self) -> &MetadataFence {
        self.ctx.topology.catalog().fence()
    }

    /// The statement that ran ended: the tables it was planned on are no longer held.
    pub(super) fn release_planned_tables(&self) {
        self.fence().release(self.identity.id);
    }

    /// Refuses a statement of `kind` while this node rejoins the cluster.
    pub(super) fn refuse_while_rejoining(&self, kind: StatementKind) -> Result<(), MysqlError> {
        if self.fence().is_rejoining() && !answered_while_rejoining(kind) {
            return Err(rejoining_error(self.ctx.config.server.node_id));
        }
        Ok(())
    }

    /// Admits a statement planned on `tables` from the metadata at `planned_at`.
    pub(super) fn admit(&self, tables: &[FencedTable], planned_at: u64) -> Admitted {
        use strata_catalog::fence::Admission;
        match self.fence().admit(self.identity.id, tables, planned_at) {
            Admission::Admitted => Admitted::Yes,
            Admission::Stale => Admitted::Again,
            Admission::Pending(table) => Admitted::No(Fenced::Pending(table)),
            Admission::Rejoining => Admitted::No(Fenced::Rejoining),
        }
    }

    /// Runs `plan` (which plans through `with_plan_context`) until the fence admits
    /// it, waiting while a DDL changes one of its tables, up to `[cluster]
    /// ddl_lock_timeout_ms`.
    pub(super) async fn plan_waiting<T>(
        &self,
        mut plan: impl FnMut() -> Result<Result<T, MysqlError>, Fenced>,
    ) -> Result<T, MysqlError> {
        let node_id = self.ctx.config.server.node_id;
        let wait = Duration::from_millis(self.ctx.config.cluster.ddl_lock_timeout_ms);
        let started = Instant::now();
        loop {
            let version = self.fence().version();
            match plan() {
                Ok(planned) => return planned,
                Err(Fenced::Pending(table)) => {
                    let _waiting = self.fence().wait_started();
                    while self.fence().version() == version {
                        if started.elapsed() >= wait {
                            return Err(pending_error(&table, Some(wait)));
                        }
                        // KILL CONNECTION ends the wait (the session closes after it).
                        if self.identity.entry.killed.load(Ordering::Relaxed) {
                            return Err(MysqlError::new(
                                codes::CONNECTION_KILLED,
                                "Connection was killed",
                            ));
                        }
                        tokio::time::sleep(PENDING_POLL).await;
                    }
                }
                Err(e @ Fenced::Rejoining) => return Err(e.error(node_id, None)),
            }
        }
    }

    /// Announces a DDL on `tables`, which holds their cluster-wide `locks`: marks them
    /// pending here, waits for this node's statements in flight on them, then for
    /// every other member to acknowledge the announcement (each did the same). The
    /// DDL may change the data nodes once this returns.
    pub(super) async fn announce_ddl<'a>(
        &self,
        catalog: &'a Catalog,
        tables: &[(String, String)],
        locks: TableLocks,
    ) -> Result<Announced<'a>, MysqlError> {
        let fenced: Vec<FencedTable> = tables.iter().map(|(d, t)| fenced_table(d, t)).collect();
        // This statement's own hold from its first planning would hold itself up.
        self.release_planned_tables();
        let fence = catalog.fence();
        let holders = fence.announce(&fenced, locks.revision(), Some(self.identity.id));
        let announced = Announced {
            fence,
            tables: fenced,
            locks,
        };
        let wait = Duration::from_millis(self.ctx.config.cluster.ddl_lock_timeout_ms);
        let started = Instant::now();
        while !fence.drained(&holders, &announced.tables) {
            if started.elapsed() >= wait {
                let (db, table) = announced.tables.first().cloned().unwrap_or_default();
                return Err(MysqlError::new(
                    codes::LOCK_WAIT_TIMEOUT,
                    format!(
                        "Lock wait timeout exceeded: statements through this compute node \
                         still use {db}.{table} ({} ms)",
                        wait.as_millis()
                    ),
                ));
            }
            tokio::time::sleep(PENDING_POLL).await;
        }
        if let Some(etcd) = catalog.store().etcd() {
            let put_out = etcd
                .wait_for_acks(announced.locks.revision())
                .map_err(|e| MysqlError::new(codes::UNKNOWN, e.to_string()))?;
            if put_out {
                // A member put out for not acknowledging learns it at its next renewal
                // (every lease_ttl_ms / 3) and refuses statements from then on; one that
                // cannot reach etcd stops serving a lease time to live after its last
                // renewal, which came before the revocation (cluster.on_etcd_loss =
                // "refuse"). The data nodes change only after that.
                let cluster = &self.ctx.config.cluster;
                let wait = match cluster.on_etcd_loss {
                    strata_catalog::config::EtcdLossPolicy::Refuse => cluster.lease_ttl_ms,
                    strata_catalog::config::EtcdLossPolicy::Serve => cluster.lease_ttl_ms / 3,
                };
                tokio::time::sleep(Duration::from_millis(wait) + RENEWAL_SLACK).await;
            }
        }
        Ok(announced)
    }
}

/// The fence's answer to a statement just planned.
pub(super) enum Admitted {
    /// Run it.
    Yes,
    /// Plan it again (the metadata moved meanwhile).
    Again,
    /// Not now.
    No(Fenced),
}
