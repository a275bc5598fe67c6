//! Membership of a compute node in a cluster sharing its metadata through etcd: the
//! node registers under `P/members/<node>` with a lease it keeps alive, watches
//! `P/meta/` and applies what other nodes change to its in-memory catalog, and
//! acknowledges each applied revision under `P/acks/<node>` — what a DDL on another
//! node waits for before it returns OK (`store::etcd`).
//!
//! A node whose lease lapsed (it was too slow to acknowledge, or cut off from etcd)
//! reads the whole catalog again and registers anew. Nothing here is on a statement's
//! path: statements read the in-memory catalog.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::catalog::Catalog;
use crate::config::EtcdLossPolicy;
use crate::error::CatalogError;
use crate::etcd::{Compare, TxnOp, WatchMessage};
use crate::store::etcd::{EtcdStore, Incarnation, MemberRecord};
use crate::store::MetadataStore;
use crate::xalog::DecisionLog;

/// How often the background threads look whether they should stop.
const STOP_POLL: Duration = Duration::from_millis(100);

/// This compute node's membership; leaving (drop) ends its lease, so the others stop
/// waiting for it at once.
pub struct ClusterMembership {
    stop: Arc<AtomicBool>,
    store: Arc<MetadataStore>,
    lease: Arc<AtomicI64>,
}

impl std::fmt::Debug for ClusterMembership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterMembership")
            .field("lease", &self.lease.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for ClusterMembership {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(etcd) = self.store.etcd() {
            if let Err(e) = etcd
                .client()
                .lease_revoke(self.lease.load(Ordering::Relaxed))
            {
                tracing::warn!(error = %e, "leaving the cluster: lease not revoked (it expires on its own)");
            }
        }
    }
}

/// Registers `record` under a new lease and a new XA epoch (the transactions of an
/// earlier registration are not this one's: the cluster's takeover finishes them); an
/// error when a live member has the same id.
fn register(etcd: &EtcdStore, record: &MemberRecord, ttl: Duration) -> Result<i64, CatalogError> {
    let client = etcd.client();
    let ttl_s = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(2);
    let record = MemberRecord {
        xa_epoch: etcd.next_epoch()?,
        ..record.clone()
    };
    let lease = client.lease_grant(ttl_s)?;
    let key = etcd.member_key(record.node_id);
    let value = serde_json::to_vec(&record).map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let acked = etcd.loaded_revision().unwrap_or(0);
    let (registered, revision) = client.txn(
        &[Compare::ModRevision(key.clone(), 0)],
        &[
            TxnOp::Put(key, value, lease),
            TxnOp::Put(
                etcd.ack_key(record.node_id),
                acked.to_string().into_bytes(),
                lease,
            ),
        ],
        &[],
    )?;
    if !registered {
        let _ = client.lease_revoke(lease);
        return Err(CatalogError::Invalid(format!(
            "compute node {} is already a member of the cluster: [server] node_id must be unique \
             (after a crash, wait for its lease of {} s to lapse)",
            record.node_id, ttl_s
        )));
    }
    etcd.set_incarnation(Incarnation {
        epoch: record.xa_epoch,
        member_revision: revision,
        lease,
    });
    Ok(lease)
}

impl ClusterMembership {
    /// Joins the cluster when the catalog's store is etcd (None for the embedded store):
    /// registers, then watches and keeps the lease alive on background threads.
    pub fn join(
        catalog: Arc<Catalog>,
        record: MemberRecord,
        lease_ttl: Duration,
        on_loss: EtcdLossPolicy,
    ) -> Result<Option<ClusterMembership>, CatalogError> {
        let store = catalog.shared_store();
        let Some(etcd) = store.etcd() else {
            return Ok(None);
        };
        catalog.fence().activate();
        catalog.load_pending()?;
        let lease = Arc::new(AtomicI64::new(register(etcd, &record, lease_ttl)?));
        let stop = Arc::new(AtomicBool::new(false));
        tracing::info!(
            node = record.node_id,
            lease = lease.load(Ordering::Relaxed),
            "joined the cluster"
        );
        {
            let (catalog, store, stop, lease) = (
                Arc::clone(&catalog),
                Arc::clone(&store),
                Arc::clone(&stop),
                Arc::clone(&lease),
            );
            std::thread::Builder::new()
                .name("strata-cluster-watch".into())
                .spawn(move || apply_loop(&catalog, &store, &stop, &lease))
                .map_err(|e| {
                    CatalogError::Invalid(format!("cannot start the cluster watch: {e}"))
                })?;
        }
        {
            let (store, stop, lease) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&lease));
            std::thread::Builder::new()
                .name("strata-cluster-lease".into())
                .spawn(move || {
                    let lease = Lease {
                        id: &lease,
                        ttl: lease_ttl,
                        on_loss,
                    };
                    keepalive_loop(&catalog, &store, &stop, &lease, &record)
                })
                .map_err(|e| {
                    CatalogError::Invalid(format!("cannot start the cluster lease: {e}"))
                })?;
        }
        Ok(Some(ClusterMembership { stop, store, lease }))
    }

    /// True when this node is the cluster's leader (elected now if there was none).
    pub fn lead(&self) -> Result<bool, CatalogError> {
        match self.store.etcd() {
            Some(etcd) => etcd.lead(self.lease.load(Ordering::Relaxed)),
            None => Ok(true),
        }
    }
}

/// Watches `P/meta/` and applies every change; acknowledges what it applied.
fn apply_loop(catalog: &Catalog, store: &MetadataStore, stop: &AtomicBool, lease: &AtomicI64) {
    let Some(etcd) = store.etcd() else {
        return;
    };
    let prefix = etcd.meta_prefix().into_bytes();
    'watch: while !stop.load(Ordering::Relaxed) {
        let from = etcd.loaded_revision().unwrap_or(0) + 1;
        let (tx, rx) = mpsc::channel();
        if let Err(e) = etcd.client().watch(prefix.clone(), from, tx) {
            tracing::error!(error = %e, "cannot watch the cluster metadata");
            return;
        }
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let message = match rx.recv_timeout(STOP_POLL) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            match message {
                WatchMessage::Events { events, .. } => {
                    let Some(newest) = events.iter().map(|e| e.kv.mod_revision).max() else {
                        continue;
                    };
                    for event in &events {
                        match etcd.meta_change(event) {
                            Some(Ok(change)) => catalog.apply_remote(event.kv.mod_revision, change),
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "unreadable metadata change from the cluster")
                            }
                            None => {}
                        }
                    }
                    acknowledge(etcd, lease, newest);
                }
                WatchMessage::Compacted => {
                    tracing::warn!("cluster metadata history compacted past this node; reloading");
                    // A failed reload was logged; the watch starts again either way.
                    reload(catalog, etcd).ok();
                    continue 'watch;
                }
            }
        }
    }
}

fn acknowledge(etcd: &EtcdStore, lease: &AtomicI64, revision: i64) {
    let key = etcd.ack_key(etcd.node_id());
    let lease = lease.load(Ordering::Relaxed);
    if let Err(e) = etcd
        .client()
        .put(&key, revision.to_string().as_bytes(), lease)
    {
        tracing::warn!(revision, error = %e, "cannot acknowledge a metadata change");
    }
}

/// Reads the whole catalog and the pending DDLs again.
fn reload(catalog: &Catalog, etcd: &EtcdStore) -> Result<(), CatalogError> {
    etcd.reset_loaded_revision();
    catalog
        .reload_stored()
        .and_then(|()| catalog.load_pending())
        .inspect_err(
            |e| tracing::error!(error = %e, "cannot reload the catalog from the cluster store"),
        )
}

/// How often a lapsed node looks whether its statements in flight ended.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// This node's membership lease, and what it does when etcd stays out of reach.
struct Lease<'a> {
    id: &'a AtomicI64,
    ttl: Duration,
    on_loss: EtcdLossPolicy,
}

/// Keeps the lease alive (three times per time to live); when it lapsed, refuses
/// statements (the fence's rejoining state) until it has reloaded the catalog and
/// registered again. With [`EtcdLossPolicy::Refuse`], each renewal also moves the time
/// until which the fence lets statements run to a time to live after it was sent: a
/// node that cannot reach etcd stops serving by the time etcd may let its lease expire
/// (a DDL that revokes it waits that long before changing the data nodes).
fn keepalive_loop(
    catalog: &Catalog,
    store: &MetadataStore,
    stop: &AtomicBool,
    lease: &Lease<'_>,
    record: &MemberRecord,
) {
    let Some(etcd) = store.etcd() else {
        return;
    };
    let fence = catalog.fence();
    let refuse = lease.on_loss == EtcdLossPolicy::Refuse;
    // Registration happened just before; its lease lives at least this long.
    let mut renewed = Instant::now();
    if refuse {
        fence.serve_until(Some(renewed + lease.ttl));
    }
    let every = lease.ttl / 3;
    let mut next = Instant::now() + every;
    let mut out_of_reach = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(STOP_POLL.min(every));
        if refuse && !out_of_reach && renewed.elapsed() >= lease.ttl {
            out_of_reach = true;
            tracing::error!(
                node = record.node_id,
                "etcd out of reach for a whole lease time to live; refusing statements until it answers again (cluster.on_etcd_loss = \"refuse\")"
            );
        }
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + every;
        let sent = Instant::now();
        match etcd
            .client()
            .lease_keepalive(lease.id.load(Ordering::Relaxed))
        {
            Ok(left) if left > 0 => {
                // The lease outlived the outage, so no DDL went on without this node;
                // the watch may still have missed changes: read them all first.
                if out_of_reach && reload(catalog, etcd).is_err() {
                    continue;
                }
                if out_of_reach {
                    tracing::info!(node = record.node_id, "etcd answers again; serving");
                }
                out_of_reach = false;
                renewed = sent;
                if refuse {
                    fence.serve_until(Some(sent + lease.ttl));
                }
            }
            Ok(_) => {
                if !fence.is_rejoining() || out_of_reach {
                    tracing::warn!(
                        node = record.node_id,
                        "cluster membership lapsed; refusing statements until this node has reloaded the catalog and joined again"
                    );
                }
                fence.set_rejoining(true);
                // Statements still running on the old metadata are interrupted by the
                // server while this node is out (see `strata_server::lapse`): join again
                // only once they ended, or they would run on as a member's.
                let drain_until = Instant::now() + lease.ttl;
                while !fence.holders().is_empty()
                    && Instant::now() < drain_until
                    && !stop.load(Ordering::Relaxed)
                {
                    std::thread::sleep(DRAIN_POLL);
                }
                if reload(catalog, etcd).is_err() {
                    continue;
                }
                let registered = Instant::now();
                match register(etcd, record, lease.ttl) {
                    Ok(new) => {
                        lease.id.store(new, Ordering::Relaxed);
                        out_of_reach = false;
                        renewed = registered;
                        if refuse {
                            fence.serve_until(Some(registered + lease.ttl));
                        }
                        fence.set_rejoining(false);
                        tracing::info!(node = record.node_id, "joined the cluster again");
                    }
                    Err(e) => tracing::error!(error = %e, "cannot join the cluster again"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew the cluster lease"),
        }
    }
}
