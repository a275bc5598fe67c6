//! Failover and switchover decided once for every compute node sharing etcd.
//!
//! The watch task that wants to change its data node's primary (its heartbeat failed
//! the primary, or an operator asked for a switchover) first takes the data node's
//! decision lock in etcd (`strata_catalog::ha`). Under it, it reads the recorded
//! primary: when another compute node already moved it, this node follows that
//! decision and promotes nothing. A failover first reads the other live compute
//! nodes' views of the primary: while one of them still reaches it, this node (which
//! may be the one cut off) does not fail it over. A switchover's lock makes the others
//! hold and drain their statements for the data node and acknowledge before the old
//! primary is made read-only. The new primary is recorded with the next epoch in the
//! transaction that releases the lock (or at a later heartbeat, the lock kept, when
//! etcd failed); every compute node watches the records ([`follow_loop`]) and switches
//! its pool the way a local failover or switchover does.
//!
//! With the embedded store (one compute node) none of this runs: the watch decides
//! alone, as it always did.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_catalog::config::{Config, HaConfig};
use strata_catalog::ha::{self, DecisionLock, HaChange, PrimaryView, RecordedPrimary};
use strata_catalog::store::etcd::EtcdStore;
use strata_catalog::store::MetadataStore;
use strata_catalog::{CatalogError, DataNodeId};
use tracing::{error, info, warn};

use super::watch::Watch;
use super::{storage_target, WatchRequest};
use crate::context::ServerContext;
use crate::shutdown::Shutdown;

/// How often a view is published again even when it did not change (a new lease after
/// the membership lapsed took the old key with it).
const VIEW_REFRESH: Duration = Duration::from_secs(2);

/// Pause before reading the records again after the etcd watch failed.
const FOLLOW_RETRY: Duration = Duration::from_millis(500);

/// Who decides a change of primary.
pub(super) enum Decision {
    /// No cluster: this node alone.
    Local,
    /// This node, holding the cluster's lock on the data node.
    Cluster(DecisionLock),
    /// Not this node, not now.
    Declined {
        /// Why.
        why: String,
        /// The cluster could not be asked (etcd unreachable): worth an event, not
        /// only a log line.
        unreachable: bool,
    },
}

/// No `what` (failover, switchover): etcd, which must record the decision, did not
/// answer.
fn unreachable(what: &str, e: &CatalogError) -> Decision {
    Decision::Declined {
        why: format!("no {what}: the cluster metadata store cannot record the decision ({e})"),
        unreachable: true,
    }
}

/// Runs `f` on the etcd store on a blocking thread (the etcd client blocks).
async fn on_etcd<T: Send + 'static>(
    store: &Arc<MetadataStore>,
    f: impl FnOnce(&EtcdStore) -> Result<T, CatalogError> + Send + 'static,
) -> Result<T, CatalogError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || match store.etcd() {
        Some(etcd) => f(etcd),
        None => Err(CatalogError::Invalid("no cluster metadata store".into())),
    })
    .await
    .map_err(|e| CatalogError::Invalid(e.to_string()))?
}

/// The etcd store, when compute nodes share one.
pub(super) fn cluster_store(ctx: &ServerContext) -> Option<Arc<MetadataStore>> {
    let store = ctx.topology.catalog().shared_store();
    store.etcd().is_some().then_some(store)
}

impl Watch {
    /// Takes the decision on a new primary for this data node (`planned`: a
    /// switchover); see the module documentation.
    pub(super) async fn take_decision(&mut self, ctx: &ServerContext, planned: bool) -> Decision {
        let Some(store) = self.cluster.clone() else {
            return Decision::Local;
        };
        let dnid = self.dnid.get();
        let what = if planned { "switchover" } else { "failover" };
        let current = self.members[self.primary].address();
        // A failover first asks the others' heartbeats, without the lock: a node cut
        // off from a primary the others reach retries every round, and must not
        // disturb them each time.
        if !planned {
            match on_etcd(&store, move |etcd| ha::other_views(etcd, dnid)).await {
                Ok(views) => {
                    if let Some((node, _)) =
                        views.iter().find(|(_, v)| v.primary == current && v.up)
                    {
                        return Decision::Declined {
                            why: format!(
                                "compute node {node} still reaches the primary {current}: this node may be cut off from it, so it does not fail it over"
                            ),
                            unreachable: false,
                        };
                    }
                }
                Err(e) => return unreachable(what, &e),
            }
        }
        let lock = match on_etcd(&store, move |etcd| ha::claim(etcd, dnid, planned)).await {
            Ok(ha::Claim::Granted(lock)) => lock,
            Ok(ha::Claim::Busy(holder)) => {
                return Decision::Declined {
                    why: format!(
                        "compute node {holder} is deciding data node {dnid}'s primary now"
                    ),
                    unreachable: false,
                }
            }
            Err(e) => return unreachable(what, &e),
        };
        if let Some(recorded) = lock.recorded.clone() {
            if recorded.primary != current {
                self.release_decision(lock).await;
                let why = format!(
                    "compute node {} already made {} the primary (epoch {})",
                    recorded.decided_by, recorded.primary, recorded.epoch
                );
                self.follow(ctx, &recorded);
                return Decision::Declined {
                    why,
                    unreachable: false,
                };
            }
            self.epoch = self.epoch.max(recorded.epoch);
        }
        Decision::Cluster(lock)
    }

    /// Records `primary` (and `rejoined`, the old primary a switchover made its
    /// replica) as decided under `lock`; Err says why it is not recorded.
    pub(super) async fn record_decision(
        &mut self,
        ctx: &ServerContext,
        lock: DecisionLock,
        primary: &str,
        rejoined: Option<String>,
        planned: bool,
    ) -> Result<(), String> {
        let Some(store) = self.cluster.clone() else {
            return Ok(());
        };
        let record = RecordedPrimary {
            primary: primary.to_string(),
            rejoined,
            epoch: lock.recorded.as_ref().map_or(0, |r| r.epoch) + 1,
            decided_by: ctx.config.server.node_id,
            planned,
        };
        let epoch = record.epoch;
        #[cfg(feature = "failpoints")]
        let fail = ctx.ha_promoted.at().await == crate::failpoints::Resume::FailDecisionLog;
        #[cfg(not(feature = "failpoints"))]
        let fail = false;
        let committed = if fail {
            Err(("etcd failed (test failpoint)".to_string(), lock, record))
        } else {
            on_etcd(&store, move |etcd| {
                Ok(match ha::commit(etcd, &lock, &record) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(("the decision lock lapsed or another compute node recorded a primary meanwhile".to_string(), lock, record)),
                    Err(e) => Err((e.to_string(), lock, record)),
                })
            })
            .await
            .map_err(|e| e.to_string())?
        };
        match committed {
            Ok(()) => {
                self.epoch = epoch;
                Ok(())
            }
            // Kept, the lock with it (others do not decide meanwhile), and recorded at
            // the next rounds unless another node decided.
            Err((why, lock, record)) => {
                self.unrecorded = Some((record, lock));
                Err(why)
            }
        }
    }

    /// Records the decision [`Watch::record_decision`] could not, unless another
    /// compute node recorded another primary meanwhile (then this node follows that
    /// one, through the watch of the records).
    pub(super) async fn record_late(&mut self) {
        let (Some(store), Some((record, lock))) = (self.cluster.clone(), self.unrecorded.take())
        else {
            return;
        };
        let dnid = self.dnid.get();
        let late = on_etcd(&store, move |etcd| {
            Ok((ha::record_late(etcd, &lock, &record), lock, record))
        })
        .await;
        let Ok((late, lock, record)) = late else {
            return;
        };
        match late {
            Ok(ha::LateRecord::Recorded) => {
                self.epoch = self.epoch.max(record.epoch);
                info!(dnid, primary = %record.primary, epoch = record.epoch, "recorded the new primary in the cluster late: the other compute nodes follow now");
            }
            Ok(ha::LateRecord::Superseded) => {
                error!(dnid, primary = %record.primary, "another compute node recorded a different primary meanwhile; following that one");
            }
            Ok(ha::LateRecord::Wait) => self.unrecorded = Some((record, lock)),
            Err(e) => {
                warn!(dnid, error = %e, "the new primary is still not recorded in the cluster");
                self.unrecorded = Some((record, lock));
            }
        }
    }

    /// Gives the decision lock back without deciding.
    pub(super) async fn release_decision(&self, lock: DecisionLock) {
        let Some(store) = self.cluster.clone() else {
            return;
        };
        if let Err(e) = on_etcd(&store, move |etcd| ha::release(etcd, &lock)).await {
            // It goes with this node's lease otherwise.
            warn!(dnid = self.dnid.get(), error = %e, "cannot release the decision lock of the data node");
        }
    }

    /// Follows a primary another compute node recorded: switches the pool the way a
    /// local failover or switchover does (the decider fenced the old primary, which
    /// closed this node's connections there too).
    pub(super) fn follow(&mut self, ctx: &ServerContext, recorded: &RecordedPrimary) {
        if recorded.epoch <= self.epoch {
            return;
        }
        self.epoch = recorded.epoch;
        let old = self.primary;
        let old_addr = self.members[old].address();
        if recorded.primary == old_addr {
            return;
        }
        let dnid = self.dnid;
        let Some(new) = self
            .members
            .iter()
            .position(|m| m.address() == recorded.primary)
        else {
            error!(dnid = dnid.get(), primary = %recorded.primary, decided_by = recorded.decided_by, "the cluster recorded a primary this compute node's configuration does not list; still routing to {old_addr}");
            return;
        };
        let Some(node) = ctx.topology.node(dnid) else {
            return;
        };
        let rejoined = recorded.rejoined.as_deref() == Some(old_addr.as_str());
        self.members[old].fenced = !rejoined;
        self.members[old].last = None;
        self.members[new].fenced = false;
        self.members[new].failures = 0;
        let target = storage_target(dnid, &self.members[new].config, &self.database);
        let tls = ctx.ha.storage_tls.get(&target).cloned();
        node.pool.switch_target(target, tls);
        // Its replica pool's idle connections were killed by the fencing.
        node.reads.mark_down(&old_addr, true);
        node.reads.mark_down(&old_addr, false);
        self.primary = new;
        self.forget_catch_up();
        self.suspect_hold = false;
        let what = if recorded.planned {
            "switchover"
        } else {
            self.last_failover_at = Some(Instant::now());
            "failover"
        };
        let summary = format!(
            "{what} {old_addr} -> {} decided by compute node {} (epoch {})",
            recorded.primary, recorded.decided_by, recorded.epoch
        );
        info!(dnid = dnid.get(), "followed the cluster: {summary}");
        self.last_failover = Some(summary);
        let data_dir = &ctx.config.server.data_dir;
        let written = match &recorded.rejoined {
            Some(r) => crate::primaries::record_switchover(data_dir, dnid, &recorded.primary, r),
            None => crate::primaries::record(data_dir, dnid, &recorded.primary),
        };
        if let Err(e) = written {
            warn!(dnid = dnid.get(), error = %e, "cannot record the new primary in the data directory");
        }
    }

    /// Another compute node is about to change the primary: new statements wait, the
    /// running ones may finish (at most `ha.switchover_drain_ms`), then this node
    /// acknowledges, so the decider does not cut them when it fences the old primary.
    pub(super) async fn on_announced(&mut self, ctx: &ServerContext, ha: &HaConfig, revision: i64) {
        let (Some(store), Some(node)) = (self.cluster.clone(), ctx.topology.node(self.dnid)) else {
            return;
        };
        node.pool.hold_for_switchover(
            Duration::from_millis(ha.hold_timeout_ms),
            ha.hold_queue_limit,
        );
        self.announced = true;
        let still = node
            .pool
            .drain(Duration::from_millis(ha.switchover_drain_ms))
            .await;
        node.pool.stop_admitting();
        let dnid = self.dnid.get();
        info!(
            dnid,
            still_lent = still,
            "another compute node is changing the primary: statements held, running ones drained"
        );
        if let Err(e) = on_etcd(&store, move |etcd| ha::acknowledge(etcd, dnid, revision)).await {
            warn!(dnid, error = %e, "cannot acknowledge another compute node's change of primary");
        }
    }

    /// The decision lock was released: statements held for it go on (on the new
    /// primary if it was followed meanwhile, which released them already).
    pub(super) fn on_released(&mut self, ctx: &ServerContext) {
        if !std::mem::take(&mut self.announced) || self.suspect_hold {
            return;
        }
        if let Some(node) = ctx.topology.node(self.dnid) {
            node.pool.release_hold();
        }
    }

    /// Waits, at most `limit`, until every other live compute node acknowledged the
    /// announcement `lock`; returns those that did not.
    pub(super) async fn wait_acknowledged(&self, lock: &DecisionLock, limit: Duration) -> Vec<u32> {
        let Some(store) = self.cluster.clone() else {
            return Vec::new();
        };
        let (dnid, revision) = (self.dnid.get(), lock.revision());
        let deadline = Instant::now() + limit;
        loop {
            let missing =
                on_etcd(&store, move |etcd| ha::unacknowledged(etcd, dnid, revision)).await;
            match missing {
                Ok(missing) if missing.is_empty() || Instant::now() >= deadline => return missing,
                Ok(_) => {}
                Err(e) => {
                    warn!(dnid, error = %e, "cannot read the other compute nodes' acknowledgements");
                    return Vec::new();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Tells the view publisher what this round's heartbeat saw of the primary.
    pub(super) fn note_view(&self) {
        if let Some(views) = &self.views {
            let primary = &self.members[self.primary];
            let view = PrimaryView {
                primary: primary.address(),
                up: primary.failures == 0,
            };
            views.send_if_modified(|v| {
                let changed = v.as_ref() != Some(&view);
                *v = Some(view);
                changed
            });
        }
    }
}

/// Publishes what data node `dnid`'s heartbeat sees of its primary when it changes
/// (and every [`VIEW_REFRESH`] whatever the lease), until the watch task ends.
pub(super) async fn publish_views(
    store: Arc<MetadataStore>,
    dnid: DataNodeId,
    mut views: tokio::sync::watch::Receiver<Option<PrimaryView>>,
) {
    let mut published: Option<(PrimaryView, i64)> = None;
    loop {
        tokio::select! {
            changed = views.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(VIEW_REFRESH) => {}
        }
        let Some(view) = views.borrow_and_update().clone() else {
            continue;
        };
        let lease = store.etcd().and_then(|e| e.incarnation()).map(|i| i.lease);
        if published
            .as_ref()
            .is_some_and(|(v, l)| *v == view && Some(*l) == lease)
        {
            continue;
        }
        let sent = view.clone();
        match on_etcd(&store, move |etcd| {
            ha::publish_view(etcd, dnid.get(), &sent)
        })
        .await
        {
            Ok(lease) => published = Some((view, lease)),
            Err(e) => {
                published = None;
                warn!(dnid = dnid.get(), error = %e, "cannot publish this node's view of the primary");
            }
        }
    }
}

/// Reads every recorded primary, then watches them (and the decision locks), sending each to its data node's
/// watch task, until shutdown. Started by a compute node sharing etcd.
pub async fn follow_loop(ctx: Arc<ServerContext>, mut shutdown: Shutdown) {
    let Some(store) = cluster_store(&ctx) else {
        return;
    };
    loop {
        let from = match on_etcd(&store, ha::recorded_primaries).await {
            Ok((records, revision)) => {
                for (dnid, record) in records {
                    send(&ctx, dnid, WatchRequest::Follow(record)).await;
                }
                revision + 1
            }
            Err(e) => {
                warn!(error = %e, "cannot read the primaries the cluster recorded");
                tokio::select! {
                    _ = shutdown.triggered() => return,
                    _ = tokio::time::sleep(FOLLOW_RETRY) => continue,
                }
            }
        };
        let (sink, messages) = std::sync::mpsc::channel();
        let watched = store.etcd().map(|etcd| {
            let prefix = ha::ha_prefix(etcd).into_bytes();
            etcd.client().watch(prefix, from, sink)
        });
        if let Some(Err(e)) = watched {
            warn!(error = %e, "cannot watch the primaries the cluster records");
            tokio::select! {
                _ = shutdown.triggered() => return,
                _ = tokio::time::sleep(FOLLOW_RETRY) => continue,
            }
        }
        let mut messages = Some(messages);
        loop {
            let Some(receiver) = messages.take() else {
                break;
            };
            let next = tokio::task::spawn_blocking(move || {
                let message = receiver.recv_timeout(Duration::from_millis(200));
                (receiver, message)
            });
            let (receiver, message) = tokio::select! {
                _ = shutdown.triggered() => return,
                next = next => match next {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            match message {
                Ok(strata_catalog::etcd::WatchMessage::Events { events, .. }) => {
                    for event in &events {
                        let decoded = store
                            .etcd()
                            .and_then(|e| ha::decode_change(e, &event.kv, event.deleted));
                        match decoded {
                            Some(Ok(HaChange::Recorded(dnid, record))) => {
                                send(&ctx, dnid, WatchRequest::Follow(record)).await
                            }
                            Some(Ok(HaChange::Announced {
                                dnid,
                                holder,
                                revision,
                                planned: true,
                            })) if holder != ctx.config.server.node_id => {
                                send(&ctx, dnid, WatchRequest::Announced(revision)).await
                            }
                            Some(Ok(HaChange::Released(dnid))) => {
                                send(&ctx, dnid, WatchRequest::Released).await
                            }
                            Some(Ok(HaChange::Announced { .. })) | None => {}
                            Some(Err(e)) => warn!(error = %e, "unreadable recorded primary"),
                        }
                    }
                }
                // Read everything again.
                Ok(strata_catalog::etcd::WatchMessage::Compacted) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            messages = Some(receiver);
        }
    }
}

/// Hands what the cluster changed to data node `dnid`'s watch task (waiting a little
/// for a task that is starting).
async fn send(ctx: &ServerContext, dnid: u32, request: WatchRequest) {
    let dnid = DataNodeId::new(dnid);
    for _ in 0..100 {
        if let Some(sender) = ctx.ha.sender(dnid) {
            if sender.send(request).await.is_err() {
                warn!(
                    dnid = dnid.get(),
                    "the data node's watch ended; the cluster's change not followed"
                );
            }
            return;
        }
        if ctx.topology.node(dnid).is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Makes the primaries the cluster recorded the primaries of `config` (as a restart
/// after a local failover does with `primaries.json`); returns what it changed.
pub fn apply_recorded_primaries(config: &mut Config) -> Result<Vec<String>, CatalogError> {
    let etcd = EtcdStore::connect(&config.cluster, config.server.node_id)?;
    let (records, _) = ha::recorded_primaries(&etcd)?;
    let recorded = records
        .into_iter()
        .map(|(dnid, r)| (DataNodeId::new(dnid), (r.primary, r.rejoined)))
        .collect();
    Ok(crate::primaries::apply_recorded(config, &recorded))
}
