//! Takeover of a dead compute node's distributed transactions, in a cluster sharing its
//! metadata through etcd. Every member campaigns for `P/leader` (a key bound to its
//! membership lease); the one holding it runs, every `[cluster] takeover_interval_ms`,
//! a recovery pass (`crate::xa::recovery_pass`) over the prepared branches whose
//! compute node and XA epoch belong to no live member: committed where that node logged
//! a commit decision in etcd, rolled back otherwise, on every data node, pass after
//! pass until none is left, and the decisions then forgotten.
//!
//! A node whose lease lapsed cannot log a decision any more (etcd checks its member key
//! in the same transaction), so rolling back its undecided branches is safe even if it
//! is still running; when it registers again it takes a new epoch and leaves the old
//! one's branches to the leader.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use strata_catalog::store::etcd::EtcdStore;
use strata_catalog::xalog::gtrid_owner;
use strata_catalog::{CatalogError, Decision};
use tracing::{info, warn};

use crate::context::ServerContext;
use crate::xa::{recovery_pass, RecoveryScope};

/// The branches of every (compute node, epoch) with no live member.
struct Orphans<'a> {
    etcd: &'a EtcdStore,
    /// (node, epoch) of each live member.
    live: HashSet<(u32, u64)>,
    /// Live members registered by a version without epochs: all their epochs are live.
    live_any_epoch: HashSet<u32>,
}

impl<'a> Orphans<'a> {
    fn read(etcd: &'a EtcdStore) -> Result<Orphans<'a>, CatalogError> {
        let mut scope = Orphans {
            etcd,
            live: HashSet::new(),
            live_any_epoch: HashSet::new(),
        };
        scope.refresh()?;
        Ok(scope)
    }
}

impl RecoveryScope for Orphans<'_> {
    fn decisions(&self) -> Result<Vec<Decision>, CatalogError> {
        let mut list = self.etcd.all_decisions()?;
        list.retain(|d| self.claims(&d.gtrid));
        Ok(list)
    }

    fn refresh(&mut self) -> Result<(), CatalogError> {
        let members = self.etcd.members()?;
        self.live = members
            .iter()
            .map(|m| (m.record.node_id, m.record.xa_epoch))
            .collect();
        self.live_any_epoch = members
            .iter()
            .filter(|m| m.record.xa_epoch == 0)
            .map(|m| m.record.node_id)
            .collect();
        Ok(())
    }

    fn claims(&self, gtrid: &str) -> bool {
        gtrid_owner(gtrid).is_some_and(|(node, epoch)| {
            !self.live.contains(&(node, epoch)) && !self.live_any_epoch.contains(&node)
        })
    }
}

/// True when this node is the cluster's leader now (campaigning if nobody is).
fn leading(ctx: &ServerContext) -> Result<bool, CatalogError> {
    let cluster = ctx.cluster.lock().unwrap_or_else(|p| p.into_inner());
    match cluster.as_ref() {
        Some(membership) => membership.lead(),
        None => Ok(false),
    }
}

/// While this node leads, finishes dead nodes' prepared branches every `interval`,
/// until the server stops.
pub async fn takeover_loop(
    ctx: Arc<ServerContext>,
    interval: Duration,
    mut shutdown: crate::shutdown::Shutdown,
) {
    let store = ctx.topology.catalog().shared_store();
    let Some(etcd) = store.etcd() else {
        return;
    };
    let mut was_leading = false;
    loop {
        tokio::select! {
            _ = shutdown.triggered() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let now_leading = match leading(&ctx) {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "cannot campaign for the cluster's leadership");
                false
            }
        };
        if now_leading != was_leading {
            info!(
                node = ctx.config.server.node_id,
                leading = now_leading,
                "cluster leadership changed"
            );
            was_leading = now_leading;
        }
        if !now_leading {
            continue;
        }
        let mut scope = match Orphans::read(etcd) {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "takeover cannot read the cluster's members");
                continue;
            }
        };
        if let Some(outcome) = recovery_pass(&ctx, &mut scope).await {
            let report = outcome.report;
            if report.committed + report.rolled_back + outcome.finished.len() > 0 {
                info!(
                    committed = report.committed,
                    rolled_back = report.rolled_back,
                    decisions_forgotten = outcome.finished.len(),
                    unfinished = outcome.unfinished.len(),
                    "took over dead compute nodes' XA branches"
                );
            }
        }
    }
}
