//! Detection: the watch task of one data node probes its storage nodes, publishes
//! their state and read set, holds statements while the primary is suspected, and
//! decides when it failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_backend::heartbeat::{ProbeReport, Prober};
use strata_catalog::config::{HaConfig, StorageNodeConfig};
use strata_catalog::ha::{DecisionLock, PrimaryView, RecordedPrimary};
use strata_catalog::store::MetadataStore;
use strata_catalog::DataNodeId;
use strata_mysql::gtid::{gtid_behind, gtid_covers};
use tracing::{error, warn};

use super::cluster::{cluster_store, publish_views};
use super::state::{NodeStatus, Role, StorageNodeState};
use super::{prober, storage_target, WatchRequest};
use crate::context::ServerContext;
use crate::read_split::ReadMember;
use crate::shutdown::Shutdown;

/// Shortest pause between two probe rounds woken by sessions' failed connects.
const MIN_PROBE_GAP: Duration = Duration::from_millis(20);

/// One storage node of a watched data node.
pub(super) struct Member {
    pub(super) config: StorageNodeConfig,
    pub(super) prober: Prober,
    /// Consecutive failed probes.
    pub(super) failures: u32,
    pub(super) last: Option<ProbeReport>,
    pub(super) last_error: Option<String>,
    /// Replaced by failover: never the data node's primary again.
    pub(super) fenced: bool,
    /// The fresh connect run beside this round's probe of a suspected primary (the
    /// second path confirming a failure): Err says why it failed.
    pub(super) confirmed: Option<Result<(), String>>,
    /// Rebuilt from a backup holding this GTID position: made a replica from it once
    /// it answers.
    pub(super) rejoin_at: Option<String>,
}

impl Member {
    pub(super) fn address(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port)
    }
}

/// The watch of one data node.
pub(super) struct Watch {
    pub(super) dnid: DataNodeId,
    pub(super) database: String,
    pub(super) members: Vec<Member>,
    pub(super) primary: usize,
    pub(super) last_failover_at: Option<Instant>,
    /// New statements are held because the primary missed a heartbeat.
    pub(super) suspect_hold: bool,
    pub(super) last_failover: Option<String>,
    /// Per member: every write the primary acknowledged before this instant is
    /// applied there (read-your-writes for read/write splitting); reset when roles
    /// change.
    caught_up: Vec<Option<Instant>>,
    /// Per member: when its latest successful probe started.
    probed_at: Vec<Option<Instant>>,
    /// The etcd store when compute nodes share one: changes of primary are decided
    /// once for the cluster and recorded there.
    pub(super) cluster: Option<Arc<MetadataStore>>,
    /// The epoch of the cluster's record of this data node's primary that this node
    /// follows (0: none yet).
    pub(super) epoch: u64,
    /// What this node's heartbeat sees of the primary, for the other compute nodes.
    pub(super) views: Option<tokio::sync::watch::Sender<Option<PrimaryView>>>,
    /// Why the latest failover attempt was declined (logged once per reason).
    pub(super) declined: Option<String>,
    /// New statements are held because another compute node announced a change of
    /// primary.
    pub(super) announced: bool,
    /// A decision this node carried out but could not record (etcd failed, or its lock
    /// lapsed), with its lock: recorded at the next rounds if nobody decided meanwhile.
    pub(super) unrecorded: Option<(RecordedPrimary, DecisionLock)>,
}

/// Probes one data node's storage nodes every `ha.heartbeat_interval_ms` until
/// shutdown, publishes their state and fails the data node over when its primary fails.
pub async fn watch_data_node(ctx: Arc<ServerContext>, dnid: DataNodeId, mut shutdown: Shutdown) {
    let ha = ctx.config.ha.clone();
    let Some(dn) = ctx.config.data_nodes.iter().find(|d| d.id == dnid).cloned() else {
        return;
    };
    let timeout = Duration::from_millis(ha.heartbeat_timeout_ms);
    let tls = &ctx.ha.storage_tls;
    let database = dn.primary.database.clone();
    let members = std::iter::once(&dn.primary)
        .chain(&dn.replicas)
        .map(|config| Member {
            prober: prober(dnid, config, &database, tls, timeout),
            config: config.clone(),
            failures: 0,
            last: None,
            last_error: None,
            fenced: false,
            confirmed: None,
            rejoin_at: None,
        })
        .collect();
    let mut watch = Watch {
        dnid,
        database,
        members,
        primary: 0,
        last_failover_at: None,
        last_failover: None,
        suspect_hold: false,
        caught_up: vec![None; dn.replicas.len() + 1],
        probed_at: vec![None; dn.replicas.len() + 1],
        cluster: cluster_store(&ctx),
        epoch: 0,
        views: None,
        declined: None,
        announced: false,
        unrecorded: None,
    };
    if let Some(store) = watch.cluster.clone() {
        let (views, published) = tokio::sync::watch::channel(None);
        watch.views = Some(views);
        tokio::spawn(publish_views(store, dnid, published));
    }
    let interval = Duration::from_millis(ha.heartbeat_interval_ms);
    // While the primary is suspected it is probed this often, so confirming a failure
    // takes `failure_threshold` short probes rather than full periods.
    let suspect_interval = interval.min(Duration::from_millis(ha.heartbeat_timeout_ms));
    let Some(pool) = ctx.topology.node(dnid).map(|n| n.pool.clone()) else {
        return;
    };
    let (switch_sender, mut switches) = tokio::sync::mpsc::channel::<WatchRequest>(4);
    ctx.ha
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(dnid, switch_sender);
    loop {
        let wait = if watch.members[watch.primary].failures > 0 {
            suspect_interval
        } else {
            interval
        };
        tokio::select! {
            _ = shutdown.triggered() => return,
            _ = tokio::time::sleep(wait) => {}
            // A session could not connect: look now rather than at the next period
            // (but not more often than every few milliseconds, whatever sessions do).
            _ = pool.connect_failure() => {
                tokio::time::sleep(MIN_PROBE_GAP).await;
            }
            Some(request) = switches.recv() => {
                let request = match request {
                    WatchRequest::Switch(request) => request,
                    WatchRequest::Rejoin(request) => {
                        watch.accept_rejoin(request);
                        continue;
                    }
                    WatchRequest::Follow(recorded) => {
                        watch.follow(&ctx, &recorded);
                        watch.publish(&ctx, &ha);
                        continue;
                    }
                    WatchRequest::Announced(revision) => {
                        watch.on_announced(&ctx, &ha, revision).await;
                        continue;
                    }
                    WatchRequest::Released => {
                        watch.on_released(&ctx);
                        continue;
                    }
                };
                let result = watch.switch_over(&ctx, &ha, request.target).await;
                match &result {
                    Ok(event) => watch.last_failover = Some(event.summary()),
                    Err(e) => warn!(dnid = dnid.get(), error = %e, "switchover refused or abandoned"),
                }
                watch.publish(&ctx, &ha);
                // The operator may have given up waiting: nothing to tell then.
                let _ = request.reply.send(result);
                continue;
            }
        }
        watch.probe_all(&ha).await;
        watch.note_view();
        watch.record_late().await;
        if watch.members[watch.primary].failures == 0 {
            watch.declined = None;
        }
        // Down as SHOW @@DATASOURCE shows it (the latest heartbeat failed): idle
        // connections go, and statements without a table go to another data node.
        pool.mark_down(watch.members[watch.primary].failures > 0);
        watch.hold_while_suspected(&ctx, &ha);
        watch.fence_returning_primaries().await;
        watch.rejoin_rebuilt().await;
        watch.publish(&ctx, &ha);
        if watch.primary_failed(&ha).await {
            if let Some(event) = watch.fail_over(&ctx, &ha).await {
                // The switch (or giving up) released the hold.
                watch.suspect_hold = false;
                watch.last_failover = Some(event.summary());
                ctx.ha.record(event);
                watch.publish(&ctx, &ha);
            }
        }
    }
}

impl Watch {
    async fn probe_all(&mut self, ha: &HaConfig) {
        // The primary first: a replica probed after it that applied what it had written
        // has every write acknowledged before its probe started (`caught_up`).
        let order: Vec<usize> = std::iter::once(self.primary)
            .chain((0..self.members.len()).filter(|&i| i != self.primary))
            .collect();
        let confirm = Duration::from_millis(ha.heartbeat_timeout_ms);
        for i in order {
            let member = &mut self.members[i];
            let started = Instant::now();
            // A suspected primary whose probe may be the one that reaches the failure
            // threshold gets its confirming fresh connect at the same time, not after.
            let confirming = i == self.primary
                && member.failures > 0
                && member.failures + 1 >= ha.failure_threshold;
            let probed = if confirming {
                let fresh = member.prober.fresh_connect(confirm);
                let (probed, fresh) = tokio::join!(member.prober.probe(), fresh);
                member.confirmed = Some(fresh.map_err(|e| e.to_string()));
                probed
            } else {
                member.confirmed = None;
                member.prober.probe().await
            };
            match probed {
                Ok(report) => {
                    member.failures = 0;
                    member.last = Some(report);
                    member.last_error = None;
                    self.probed_at[i] = Some(started);
                }
                Err(e) => {
                    member.failures = member.failures.saturating_add(1);
                    member.last_error = Some(e.to_string());
                }
            }
        }
    }

    /// From the first missed heartbeat of a primary that can fail over, new statements
    /// for the data node wait (bounded by `hold_timeout_ms`) instead of failing on a
    /// dead connection; they go on as soon as the primary answers again or another
    /// primary takes over.
    fn hold_while_suspected(&mut self, ctx: &ServerContext, ha: &HaConfig) {
        let Some(node) = ctx.topology.node(self.dnid) else {
            return;
        };
        let missed = self.members[self.primary].failures > 0;
        if missed && !self.suspect_hold && ha.auto_failover && self.can_fail_over(ha) {
            node.pool.hold(
                Duration::from_millis(ha.hold_timeout_ms),
                ha.hold_queue_limit,
            );
            self.suspect_hold = true;
        } else if !missed && self.suspect_hold {
            node.pool.release_hold();
            self.suspect_hold = false;
        }
    }

    /// Publishes the members' state (`SHOW @@DATASOURCE`) and the data node's read set:
    /// the primary and the replicas that are `up` (answering, replicating, within the
    /// lag threshold), each with up to when it is known to have every acknowledged
    /// write.
    fn publish(&mut self, ctx: &ServerContext, ha: &HaConfig) {
        let states = self.states(ha);
        let Some(node) = ctx.topology.node(self.dnid) else {
            ctx.ha.publish(self.dnid, states);
            return;
        };
        let primary = &self.members[self.primary];
        let written = primary
            .last
            .as_ref()
            .filter(|_| primary.failures == 0)
            .map(|r| r.gtid_binlog_pos.clone());
        let written_at = self.probed_at[self.primary];
        let mut reads = vec![ReadMember {
            pool: node.pool.clone(),
            weight: primary.config.weight.unwrap_or(1),
            primary: true,
            caught_up_to: Some(Instant::now()),
        }];
        for (i, m) in self.members.iter().enumerate() {
            node.reads.mark_down(&m.address(), m.failures > 0);
            if i == self.primary || m.fenced {
                continue;
            }
            let applied = m.last.as_ref().filter(|_| m.failures == 0);
            if let (Some(report), Some(written), Some(at), Some(probed)) =
                (applied, &written, written_at, self.probed_at[i])
            {
                if probed > at && gtid_covers(&report.gtid_slave_pos, written) {
                    self.caught_up[i] = Some(at);
                }
            }
            let up = states.iter().any(|s| {
                s.host == m.config.host && s.port == m.config.port && s.status == NodeStatus::Up
            });
            if !up {
                continue;
            }
            let target = storage_target(self.dnid, &m.config, &self.database);
            let tls = ctx.ha.storage_tls.get(&target).cloned();
            reads.push(ReadMember {
                pool: node.reads.replica_pool(target, tls),
                weight: m.config.weight.unwrap_or(1),
                primary: false,
                caught_up_to: self.caught_up[i],
            });
        }
        node.reads.publish(reads);
        ctx.ha.publish(self.dnid, states);
    }

    /// Forgets what replicas were known to have applied (roles changed).
    pub(super) fn forget_catch_up(&mut self) {
        self.caught_up.iter_mut().for_each(|c| *c = None);
        self.probed_at.iter_mut().for_each(|c| *c = None);
    }

    /// Whether a replica is there to promote and the anti-flapping period is over.
    fn can_fail_over(&self, ha: &HaConfig) -> bool {
        let has_candidates = self
            .members
            .iter()
            .enumerate()
            .any(|(i, m)| i != self.primary && !m.fenced);
        let flapping = self
            .last_failover_at
            .is_some_and(|at| at.elapsed() < Duration::from_millis(ha.anti_flap_ms));
        has_candidates && !flapping
    }

    /// Whether the primary missed `failure_threshold` heartbeats in a row and a fresh
    /// connect confirms it is gone.
    async fn primary_failed(&mut self, ha: &HaConfig) -> bool {
        let can = self.can_fail_over(ha);
        let primary = &mut self.members[self.primary];
        if primary.failures < ha.failure_threshold {
            return false;
        }
        let confirmed = match primary.confirmed.take() {
            Some(confirmed) => confirmed,
            None => {
                let confirm = Duration::from_millis(ha.heartbeat_timeout_ms);
                let fresh = primary.prober.fresh_connect(confirm).await;
                fresh.map_err(|e| e.to_string())
            }
        };
        match confirmed {
            Ok(()) => {
                warn!(dnid = self.dnid.get(), node = %primary.address(), failures = primary.failures, "primary missed heartbeats but accepts a fresh connection; not failing over");
                false
            }
            Err(e) => {
                if primary.failures == ha.failure_threshold {
                    error!(dnid = self.dnid.get(), node = %primary.address(), error = %e, can_fail_over = can, auto = ha.auto_failover, "primary failed: heartbeats and a fresh connect fail");
                }
                can && ha.auto_failover
            }
        }
    }

    /// The published state of every member.
    pub(super) fn states(&self, ha: &HaConfig) -> Vec<StorageNodeState> {
        let primary_pos = self.members[self.primary]
            .last
            .as_ref()
            .map(|r| r.gtid_binlog_pos.clone())
            .unwrap_or_default();
        let mut states: Vec<StorageNodeState> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let role = if i == self.primary {
                    Role::Primary
                } else {
                    Role::Replica
                };
                let report = m.last.as_ref().filter(|_| m.failures == 0);
                let replication = report.and_then(|r| r.replication.first());
                let lag_ms = replication.and_then(|s| s.seconds_behind).map(|s| s * 1000);
                let (gtid, lag_transactions) = match (role, report) {
                    (Role::Primary, Some(r)) => (r.gtid_binlog_pos.clone(), None),
                    (Role::Replica, Some(r)) => (
                        r.gtid_slave_pos.clone(),
                        Some(gtid_behind(&r.gtid_slave_pos, &primary_pos)),
                    ),
                    (_, None) => (String::new(), None),
                };
                let status = if m.fenced {
                    NodeStatus::Fenced
                } else if report.is_none() {
                    NodeStatus::Down
                } else if role == Role::Replica
                    && (replication.is_none_or(|s| !s.sql_running)
                        || lag_ms.is_none_or(|l| l > ha.max_replica_lag_ms))
                {
                    NodeStatus::Lagging
                } else {
                    NodeStatus::Up
                };
                let at_risk = role == Role::Primary
                    && self.members.len() > 1
                    && report.is_some_and(|r| !r.semi_sync_active);
                let last_error = m.last_error.clone().or_else(|| {
                    replication.and_then(|s| {
                        [&s.last_io_error, &s.last_sql_error]
                            .into_iter()
                            .find(|e| !e.is_empty())
                            .cloned()
                    })
                });
                StorageNodeState {
                    dnid: self.dnid,
                    host: m.config.host.clone(),
                    port: m.config.port,
                    role,
                    status,
                    lag_ms,
                    lag_transactions,
                    gtid,
                    at_risk,
                    last_error,
                    last_failover: self.last_failover.clone(),
                }
            })
            .collect();
        // Primary first.
        states.swap(0, self.primary);
        states[1..].sort_by_key(|s| (s.host.clone(), s.port));
        states
    }
}
