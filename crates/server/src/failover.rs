//! Storage high availability: role verification at start-up, heartbeats to every
//! storage node, failure detection, and automatic failover of a data node whose primary
//! failed.
//!
//! One task per data node ([`watch_data_node`]) probes its primary and replicas on
//! connections of their own (`strata_backend::heartbeat`) and publishes what it sees in
//! [`HaState`], which the admin surface reads (`ServerContext::ha`). A primary is
//! declared failed after `ha.failure_threshold` consecutive failed probes confirmed by a
//! second path (a fresh connect fails too). Failover then holds new statements for the
//! data node, stops the replicas' IO threads, picks the replica that received the most
//! (failover priority breaks ties), waits until it applied all it received
//! (`MASTER_GTID_WAIT`), fences the old primary, promotes the replica, switches the
//! data node's pool to it and repoints the other replicas. Each step is logged with its
//! duration and kept in the event.
//!
//! A planned switchover (`SWITCH @@DATASOURCE`, [`HaState::switch_over`]) runs in the
//! same task, so it never races a failover: it holds statements, lets running ones
//! finish, makes the old primary read-only, waits until the chosen replica applied all
//! the old primary wrote, promotes it, makes the old primary and the other replicas
//! replicate from it, and switches the pool.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use strata_backend::heartbeat::{ProbeReport, Prober};
use strata_backend::{StorageTarget, StorageTlsMap};
use strata_catalog::config::{DataNodeConfig, HaConfig, StorageNodeConfig};
use strata_catalog::{Config, DataNodeId};
use strata_mysql::gtid::{gtid_behind, gtid_covers, gtid_sequences};
use tracing::{error, info, warn};

use crate::context::ServerContext;
use crate::read_split::ReadMember;
use crate::shutdown::Shutdown;

/// Longest a single failover statement (on a replica or the old primary) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest the start-up role check waits for one storage node.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(3);
/// Shortest pause between two probe rounds woken by sessions' failed connects.
const MIN_PROBE_GAP: Duration = Duration::from_millis(20);
/// Failover events kept for the admin surface.
const EVENTS_KEPT: usize = 64;

/// What a storage node is to its data node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Takes the data node's reads and writes.
    Primary,
    /// Replicates from the primary; a failover candidate.
    Replica,
}

impl Role {
    /// The name the admin surface shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        }
    }
}

/// Health of a storage node as the heartbeat sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    /// Answering heartbeats (a replica: replicating within the lag threshold).
    Up,
    /// Not answering heartbeats.
    Down,
    /// A replica whose replication stopped or is behind by more than the threshold.
    Lagging,
    /// A former primary replaced by failover: never routed to again.
    Fenced,
}

impl NodeStatus {
    /// The name the admin surface shows.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Up => "up",
            NodeStatus::Down => "down",
            NodeStatus::Lagging => "lagging",
            NodeStatus::Fenced => "fenced",
        }
    }
}

/// One storage node's state (a row of `SHOW @@DATASOURCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageNodeState {
    /// Its data node.
    pub dnid: DataNodeId,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Primary or replica.
    pub role: Role,
    /// Health.
    pub status: NodeStatus,
    /// Replication lag of a replica (`Seconds_Behind_Master`), None when unknown.
    pub lag_ms: Option<u64>,
    /// Transactions a replica has not applied yet, from the GTID positions.
    pub lag_transactions: Option<u64>,
    /// GTID position: written (primary) or applied (replica).
    pub gtid: String,
    /// A primary whose semi-synchronous replication fell back to asynchronous (or
    /// without a replica to acknowledge): a failover now may lose commits.
    pub at_risk: bool,
    /// Last failure seen, if any.
    pub last_error: Option<String>,
    /// The last failover of its data node, described.
    pub last_failover: Option<String>,
}

/// One failover, as logged and shown on the admin surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverEvent {
    /// The data node.
    pub dnid: DataNodeId,
    /// `host:port` of the failed primary.
    pub old_primary: String,
    /// `host:port` of the promoted replica, None when failover gave up.
    pub new_primary: Option<String>,
    /// When it started.
    pub started: SystemTime,
    /// Each step and how long it took.
    pub steps: Vec<(String, Duration)>,
    /// Why it gave up, None when it succeeded.
    pub error: Option<String>,
    /// An operator's switchover (`SWITCH @@DATASOURCE`), not a failure.
    pub planned: bool,
}

impl FailoverEvent {
    /// Total time from detection to the new primary taking statements.
    pub fn duration(&self) -> Duration {
        self.steps.iter().map(|(_, d)| *d).sum()
    }

    fn summary(&self) -> String {
        let what = if self.planned {
            "switchover"
        } else {
            "failover"
        };
        match (&self.new_primary, &self.error) {
            (Some(new), None) => format!(
                "{what} {} -> {new} in {} ms",
                self.old_primary,
                self.duration().as_millis()
            ),
            (_, Some(e)) => format!("{what} from {} failed: {e}", self.old_primary),
            (None, None) => format!("{what} from {} gave up", self.old_primary),
        }
    }

    fn new(dnid: DataNodeId, old_primary: String, planned: bool) -> FailoverEvent {
        FailoverEvent {
            dnid,
            old_primary,
            new_primary: None,
            started: SystemTime::now(),
            steps: Vec::new(),
            error: None,
            planned,
        }
    }
}

/// Times the steps of a failover or switchover, logging each.
struct StepClock(Instant);

impl StepClock {
    fn start() -> StepClock {
        StepClock(Instant::now())
    }

    /// Ends step `name` of `event`: logs how long it took and keeps it in the event.
    fn done(&mut self, event: &mut FailoverEvent, name: String) {
        let took = self.0.elapsed();
        let what = if event.planned {
            "switchover step"
        } else {
            "failover step"
        };
        info!(dnid = event.dnid.get(), step = %name, took_ms = took.as_millis() as u64, "{what}");
        event.steps.push((name, took));
        self.0 = Instant::now();
    }
}

/// Why a planned switchover was refused or did not happen; the message is what the
/// operator sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    /// No data node has that id.
    #[error("Unknown data node {0}")]
    UnknownDataNode(DataNodeId),
    /// The data node has no replica that could become its primary.
    #[error("Data node {0} has no replica to switch to")]
    NoReplica(DataNodeId),
    /// The storage node named is not a replica of the data node.
    #[error("{target} is not a replica of data node {dnid}")]
    NotAReplica {
        /// The data node.
        dnid: DataNodeId,
        /// `host:port` as the operator wrote it.
        target: String,
    },
    /// The storage node named is the data node's primary already.
    #[error("{target} is already the primary of data node {dnid}")]
    AlreadyPrimary {
        /// The data node.
        dnid: DataNodeId,
        /// `host:port`.
        target: String,
    },
    /// The replica is down, stopped replicating, or is not the primary's replica.
    #[error("Replica {target} of data node {dnid} cannot take over: {why}")]
    Unusable {
        /// The data node.
        dnid: DataNodeId,
        /// `host:port`.
        target: String,
        /// What is wrong with it.
        why: String,
    },
    /// A step failed; the old primary was given its writes back and stays primary.
    #[error("Switchover of data node {dnid} abandoned, {primary} stays primary: {why}")]
    Abandoned {
        /// The data node.
        dnid: DataNodeId,
        /// `host:port` of the primary that stays.
        primary: String,
        /// The step that failed.
        why: String,
    },
    /// The watch of the data node did not answer in time (its outcome is unknown:
    /// `SHOW @@DATASOURCE` tells).
    #[error("Switchover of data node {0} did not finish within {1} s; SHOW @@DATASOURCE shows its outcome")]
    TimedOut(DataNodeId, u64),
}

/// An operator's request to switch a data node's primary, sent to its watch task.
struct SwitchRequest {
    /// `(host, port)` of the replica to promote; None: the best one.
    target: Option<(String, u16)>,
    reply: tokio::sync::oneshot::Sender<Result<FailoverEvent, SwitchError>>,
}

/// High-availability state of every data node, published by the watch tasks.
pub struct HaState {
    nodes: Mutex<BTreeMap<DataNodeId, Vec<StorageNodeState>>>,
    events: Mutex<Vec<FailoverEvent>>,
    /// Each watched data node's queue of switchover requests.
    switches: Mutex<BTreeMap<DataNodeId, tokio::sync::mpsc::Sender<SwitchRequest>>>,
    /// TLS per storage node, replicas included (for probes and a switched pool).
    storage_tls: StorageTlsMap,
}

impl HaState {
    /// Empty state; `storage_tls` gives each storage node's TLS settings.
    pub fn new(storage_tls: StorageTlsMap) -> HaState {
        HaState {
            nodes: Mutex::new(BTreeMap::new()),
            events: Mutex::new(Vec::new()),
            switches: Mutex::new(BTreeMap::new()),
            storage_tls,
        }
    }

    /// Every storage node's state, by data node, primary first.
    pub fn datasources(&self) -> Vec<StorageNodeState> {
        self.nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// The storage nodes of one data node, primary first.
    pub fn data_node(&self, dnid: DataNodeId) -> Vec<StorageNodeState> {
        self.nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&dnid)
            .cloned()
            .unwrap_or_default()
    }

    /// Failovers so far (the latest last; at most the last 64).
    pub fn failovers(&self) -> Vec<FailoverEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Switches data node `dnid`'s primary to the replica at `target` (`host`, `port`),
    /// or to its best replica: a planned switchover, run by the data node's watch task
    /// (see the module documentation). Returns the event, as `failovers` keeps it.
    pub async fn switch_over(
        &self,
        dnid: DataNodeId,
        target: Option<(String, u16)>,
        ha: &HaConfig,
    ) -> Result<FailoverEvent, SwitchError> {
        let sender = self
            .switches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&dnid)
            .cloned()
            .ok_or(SwitchError::UnknownDataNode(dnid))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        sender
            .send(SwitchRequest { target, reply })
            .await
            .map_err(|_| SwitchError::UnknownDataNode(dnid))?;
        // Every step is bounded; this bounds their sum (and a request queued behind
        // another switchover).
        let limit = Duration::from_millis(
            ha.catch_up_timeout_ms + ha.hold_timeout_ms + ha.switchover_drain_ms,
        ) + 10 * STEP_TIMEOUT;
        match tokio::time::timeout(limit, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(SwitchError::UnknownDataNode(dnid)),
            Err(_) => Err(SwitchError::TimedOut(dnid, limit.as_secs())),
        }
    }

    fn publish(&self, dnid: DataNodeId, states: Vec<StorageNodeState>) {
        self.nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dnid, states);
    }

    fn record(&self, event: FailoverEvent) {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() >= EVENTS_KEPT {
            events.remove(0);
        }
        events.push(event);
    }
}

/// The connection target of a storage node of data node `dnid` (`database` is the data
/// node's physical database: a replica may leave it out).
fn storage_target(dnid: DataNodeId, node: &StorageNodeConfig, database: &str) -> StorageTarget {
    StorageTarget {
        dnid,
        host: node.host.clone(),
        port: node.port,
        user: node.user.clone(),
        password: node.password.clone(),
        database: database.to_string(),
    }
}

fn prober(
    dnid: DataNodeId,
    node: &StorageNodeConfig,
    database: &str,
    tls: &StorageTlsMap,
    timeout: Duration,
) -> Prober {
    let target = storage_target(dnid, node, database);
    let tls = tls.get(&target).cloned();
    Prober::new(target, tls, timeout)
}

/// Checks the role of every reachable storage node of the data nodes that have
/// replicas: the primary writable and replicating from nobody, each replica read-only
/// and replicating from the primary. Returns every problem found; an unreachable node
/// is logged, not a problem (the heartbeat reports it down).
pub async fn verify_roles(config: &Config, storage_tls: &StorageTlsMap) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for dn in config.data_nodes.iter().filter(|d| !d.replicas.is_empty()) {
        verify_data_node(dn, storage_tls, &mut problems).await;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

async fn verify_data_node(dn: &DataNodeConfig, tls: &StorageTlsMap, problems: &mut Vec<String>) {
    let db = &dn.primary.database;
    let entry = format!("data node {}", dn.id);
    let primary = &dn.primary;
    let mut p = prober(dn.id, primary, db, tls, VERIFY_TIMEOUT);
    match p.probe().await {
        Ok(report) => {
            if report.read_only {
                problems.push(format!(
                    "{entry}: primary {}:{} has read_only = ON (a primary must be writable; after a failover, make the promoted replica the primary in the configuration)",
                    primary.host, primary.port
                ));
            }
            if let Some(source) = report.replication.first() {
                problems.push(format!(
                    "{entry}: primary {}:{} replicates from {}:{} (a primary replicates from nobody)",
                    primary.host, primary.port, source.source_host, source.source_port
                ));
            }
        }
        Err(e) => {
            warn!(dnid = dn.id.get(), node = %format!("{}:{}", primary.host, primary.port), error = %e, "primary not reachable at start-up; its role is not verified")
        }
    }
    for replica in &dn.replicas {
        let at = format!("{}:{}", replica.host, replica.port);
        let mut r = prober(dn.id, replica, db, tls, VERIFY_TIMEOUT);
        let report = match r.probe().await {
            Ok(report) => report,
            Err(e) => {
                warn!(dnid = dn.id.get(), node = %at, error = %e, "replica not reachable at start-up; its role is not verified");
                continue;
            }
        };
        if !report.read_only {
            problems.push(format!(
                "{entry}: replica {at} has read_only = OFF (a replica must be read-only)"
            ));
        }
        match report.replication.as_slice() {
            [] => problems.push(format!(
                "{entry}: replica {at} does not replicate from anything (CHANGE MASTER TO the primary {}:{})",
                primary.host, primary.port
            )),
            sources => {
                if !sources
                    .iter()
                    .any(|s| s.source_host == primary.host && s.source_port == primary.port)
                {
                    let list: Vec<String> = sources
                        .iter()
                        .map(|s| format!("{}:{}", s.source_host, s.source_port))
                        .collect();
                    problems.push(format!(
                        "{entry}: replica {at} replicates from {} instead of the primary {}:{}",
                        list.join(", "),
                        primary.host,
                        primary.port
                    ));
                }
            }
        }
    }
}

/// One storage node of a watched data node.
struct Member {
    config: StorageNodeConfig,
    prober: Prober,
    /// Consecutive failed probes.
    failures: u32,
    last: Option<ProbeReport>,
    last_error: Option<String>,
    /// Replaced by failover: never the data node's primary again.
    fenced: bool,
}

impl Member {
    fn address(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port)
    }
}

/// The watch of one data node.
struct Watch {
    dnid: DataNodeId,
    database: String,
    members: Vec<Member>,
    primary: usize,
    last_failover_at: Option<Instant>,
    /// New statements are held because the primary missed a heartbeat.
    suspect_hold: bool,
    last_failover: Option<String>,
    /// Per member: every write the primary acknowledged before this instant is
    /// applied there (read-your-writes for read/write splitting); reset when roles
    /// change.
    caught_up: Vec<Option<Instant>>,
    /// Per member: when its latest successful probe started.
    probed_at: Vec<Option<Instant>>,
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
    };
    let interval = Duration::from_millis(ha.heartbeat_interval_ms);
    // While the primary is suspected it is probed this often, so confirming a failure
    // takes `failure_threshold` short probes rather than full periods.
    let suspect_interval = interval.min(Duration::from_millis(ha.heartbeat_timeout_ms));
    let Some(pool) = ctx.topology.node(dnid).map(|n| n.pool.clone()) else {
        return;
    };
    let (switch_sender, mut switches) = tokio::sync::mpsc::channel::<SwitchRequest>(4);
    ctx.ha
        .switches
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
        watch.probe_all().await;
        // Down as SHOW @@DATASOURCE shows it (the latest heartbeat failed): idle
        // connections go, and statements without a table go to another data node.
        pool.mark_down(watch.members[watch.primary].failures > 0);
        watch.hold_while_suspected(&ctx, &ha);
        watch.fence_returning_primaries().await;
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
    async fn probe_all(&mut self) {
        // The primary first: a replica probed after it that applied what it had written
        // has every write acknowledged before its probe started (`caught_up`).
        let order: Vec<usize> = std::iter::once(self.primary)
            .chain((0..self.members.len()).filter(|&i| i != self.primary))
            .collect();
        for i in order {
            let member = &mut self.members[i];
            let started = Instant::now();
            match member.prober.probe().await {
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
            node.pool.hold(Duration::from_millis(ha.hold_timeout_ms));
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
    fn forget_catch_up(&mut self) {
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

    /// A fenced former primary that answers again (it was frozen, or restarted) is made
    /// read-only and its client connections killed, every time it is seen writable.
    async fn fence_returning_primaries(&mut self) {
        for member in self.members.iter_mut().filter(|m| m.fenced) {
            let writable = member.last.as_ref().is_some_and(|r| !r.read_only);
            if member.failures == 0 && writable {
                let started = Instant::now();
                let result = fence(&mut member.prober, STEP_TIMEOUT).await;
                info!(dnid = self.dnid.get(), node = %member.address(), elapsed = ?started.elapsed(), ?result, "fenced a former primary that came back");
            }
        }
    }

    /// Whether the primary missed `failure_threshold` heartbeats in a row and a fresh
    /// connect confirms it is gone.
    async fn primary_failed(&mut self, ha: &HaConfig) -> bool {
        let primary = &self.members[self.primary];
        if primary.failures < ha.failure_threshold {
            return false;
        }
        let confirm = Duration::from_millis(ha.heartbeat_timeout_ms);
        match primary.prober.fresh_connect(confirm).await {
            Ok(()) => {
                warn!(dnid = self.dnid.get(), node = %primary.address(), failures = primary.failures, "primary missed heartbeats but accepts a fresh connection; not failing over");
                false
            }
            Err(e) => {
                let can = self.can_fail_over(ha);
                if primary.failures == ha.failure_threshold {
                    error!(dnid = self.dnid.get(), node = %primary.address(), error = %e, can_fail_over = can, auto = ha.auto_failover, "primary failed: heartbeats and a fresh connect fail");
                }
                can && ha.auto_failover
            }
        }
    }

    /// The published state of every member.
    fn states(&self, ha: &HaConfig) -> Vec<StorageNodeState> {
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

    /// Promotes the best replica; None when there was nothing to do.
    async fn fail_over(&mut self, ctx: &ServerContext, ha: &HaConfig) -> Option<FailoverEvent> {
        let node = ctx.topology.node(self.dnid)?;
        let old = self.primary;
        let mut event = FailoverEvent::new(self.dnid, self.members[old].address(), false);
        self.last_failover_at = Some(Instant::now());
        info!(dnid = self.dnid.get(), old_primary = %event.old_primary, "failover: starting");
        node.pool.hold(Duration::from_millis(ha.hold_timeout_ms));
        let mut clock = StepClock::start();
        let mut step = |event: &mut FailoverEvent, name: String| clock.done(event, name);
        // Detection to here counts as a step too: the heartbeats that failed.
        step(&mut event, "hold new statements".into());

        // 1. Freeze what each candidate received and read how far it got.
        let mut candidates = Vec::new();
        for (i, m) in self.members.iter_mut().enumerate() {
            if i == old || m.fenced {
                continue;
            }
            if let Err(e) = m.prober.execute("STOP SLAVE IO_THREAD", STEP_TIMEOUT).await {
                warn!(dnid = self.dnid.get(), node = %m.address(), error = %e, "failover: replica unusable");
                continue;
            }
            match read_received(&mut m.prober).await {
                Ok(received) => candidates.push((i, received)),
                Err(e) => {
                    warn!(dnid = self.dnid.get(), node = %m.address(), error = %e, "failover: replica unusable")
                }
            }
        }
        step(
            &mut event,
            format!("stop IO threads on {} replicas", candidates.len()),
        );
        let Some((chosen, received)) = best_candidate(&candidates, &self.members) else {
            return Some(self.give_up(node, event, "no replica reachable"));
        };
        let chosen_addr = self.members[chosen].address();
        step(
            &mut event,
            format!("choose {chosen_addr} (received {received})"),
        );

        // 2. Wait until it applied all it received.
        let wait_s = ha.catch_up_timeout_ms.div_ceil(1000).max(1);
        let waited = self.members[chosen]
            .prober
            .query(
                &format!("SELECT MASTER_GTID_WAIT('{}', {wait_s})", escape(&received)),
                Duration::from_millis(ha.catch_up_timeout_ms) + STEP_TIMEOUT,
            )
            .await;
        match waited {
            Ok(rows) if first_value(&rows) == "0" => {}
            Ok(rows) => {
                let why = format!("{chosen_addr} did not apply {received} within {wait_s} s (MASTER_GTID_WAIT returned {})", first_value(&rows));
                return Some(self.give_up(node, event, &why));
            }
            Err(e) => {
                return Some(self.give_up(node, event, &format!("{chosen_addr}: {e}")));
            }
        }
        step(&mut event, format!("{chosen_addr} applied all it received"));

        // 3. Fence the old primary: never routed to again; read-only if it answers.
        self.members[old].fenced = true;
        // Short: a frozen primary must not hold up the failover.
        let fence_timeout = Duration::from_millis(ha.heartbeat_timeout_ms);
        let fenced = fence(&mut self.members[old].prober, fence_timeout).await;
        let old_addr = event.old_primary.clone();
        let fenced = match fenced {
            Ok(killed) => format!("fence {old_addr} (read_only = ON, {killed} connections killed)"),
            Err(_) => format!("fence {old_addr} (unreachable: fenced by routing)"),
        };
        step(&mut event, fenced);

        // 4. Promote.
        let others = self
            .members
            .iter()
            .enumerate()
            .filter(|(i, m)| *i != chosen && *i != old && !m.fenced)
            .count();
        let semi_sync = if others > 0 { "ON" } else { "OFF" };
        let promote = [
            "STOP SLAVE".to_string(),
            "RESET SLAVE ALL".to_string(),
            format!("SET GLOBAL rpl_semi_sync_master_enabled = {semi_sync}"),
            "SET GLOBAL read_only = OFF".to_string(),
        ];
        for sql in &promote {
            if let Err(e) = self.members[chosen].prober.execute(sql, STEP_TIMEOUT).await {
                return Some(self.give_up(
                    node,
                    event,
                    &format!("promoting {chosen_addr}: {sql}: {e}"),
                ));
            }
        }
        step(&mut event, format!("promote {chosen_addr}"));

        // 5. Route the data node to it.
        let target = storage_target(self.dnid, &self.members[chosen].config, &self.database);
        let tls = ctx.ha.storage_tls.get(&target).cloned();
        node.pool.switch_target(target, tls);
        self.primary = chosen;
        self.forget_catch_up();
        event.new_primary = Some(chosen_addr.clone());
        // A restart with the configuration as written must not go back to the old one.
        if let Err(e) =
            crate::primaries::record(&ctx.config.server.data_dir, self.dnid, &chosen_addr)
        {
            warn!(dnid = self.dnid.get(), error = %e, "failover: cannot record the new primary in the data directory; update the configuration before restarting");
        }
        step(
            &mut event,
            format!("switch data node {} to {chosen_addr}", self.dnid),
        );

        // 6. Repoint the other replicas.
        let source = self.members[chosen].config.clone();
        for i in 0..self.members.len() {
            if i == chosen || self.members[i].fenced {
                continue;
            }
            let m = &mut self.members[i];
            if let Err(e) = repoint(&mut m.prober, &source, false).await {
                warn!(dnid = self.dnid.get(), node = %m.address(), error = %e, "failover: could not repoint replica");
            }
        }
        if others > 0 {
            step(
                &mut event,
                format!("repoint {others} replicas to {chosen_addr}"),
            );
        } else {
            warn!(dnid = self.dnid.get(), primary = %chosen_addr, "data node has no replica left: a failure of its primary now loses it (semi-synchronous replication is off)");
        }
        info!(dnid = self.dnid.get(), old_primary = %event.old_primary, new_primary = %chosen_addr, total_ms = event.duration().as_millis() as u64, "failover: done");
        Some(event)
    }

    /// The member a switchover promotes: the one at `target`, or the up-to-date
    /// replica that applied the most (priority, then configuration order, on a tie).
    fn switch_candidate(
        &self,
        target: Option<&(String, u16)>,
        ha: &HaConfig,
    ) -> Result<usize, SwitchError> {
        let dnid = self.dnid;
        let replicas: Vec<usize> = (0..self.members.len())
            .filter(|&i| i != self.primary && !self.members[i].fenced)
            .collect();
        if replicas.is_empty() {
            return Err(SwitchError::NoReplica(dnid));
        }
        let states = self.states(ha);
        let state_of = |i: usize| {
            let m = &self.members[i];
            states
                .iter()
                .find(|s| s.host == m.config.host && s.port == m.config.port)
        };
        let usable = |i: usize| -> Result<(), String> {
            let m = &self.members[i];
            let report = m
                .last
                .as_ref()
                .filter(|_| m.failures == 0)
                .ok_or_else(|| "it does not answer heartbeats".to_string())?;
            let primary = &self.members[self.primary].config;
            let replicates = report.replication.iter().any(|r| {
                r.source_host == primary.host && r.source_port == primary.port && r.io_running
            });
            if !replicates {
                return Err(format!(
                    "it does not replicate from the primary {}:{}",
                    primary.host, primary.port
                ));
            }
            if state_of(i).is_some_and(|s| s.status == NodeStatus::Lagging) {
                return Err(
                    "it is lagging (its SQL thread stopped or it is too far behind)".into(),
                );
            }
            Ok(())
        };
        match target {
            Some((host, port)) => {
                let named = format!("{host}:{port}");
                let at = |m: &Member| m.config.host == *host && m.config.port == *port;
                if at(&self.members[self.primary]) {
                    return Err(SwitchError::AlreadyPrimary {
                        dnid,
                        target: named,
                    });
                }
                let Some(&i) = replicas.iter().find(|&&i| at(&self.members[i])) else {
                    return Err(SwitchError::NotAReplica {
                        dnid,
                        target: named,
                    });
                };
                usable(i).map_err(|why| SwitchError::Unusable {
                    dnid,
                    target: named,
                    why,
                })?;
                Ok(i)
            }
            None => {
                let candidates: Vec<(usize, String)> = replicas
                    .iter()
                    .filter(|&&i| usable(i).is_ok())
                    .filter_map(|&i| {
                        let applied = self.members[i].last.as_ref()?.gtid_slave_pos.clone();
                        Some((i, applied))
                    })
                    .collect();
                match best_candidate(&candidates, &self.members) {
                    Some((i, _)) => Ok(i),
                    None => {
                        let i = replicas[0];
                        Err(SwitchError::Unusable {
                            dnid,
                            target: self.members[i].address(),
                            why: usable(i).err().unwrap_or_default(),
                        })
                    }
                }
            }
        }
    }

    /// A planned switchover to `target` (or the best replica); see the module
    /// documentation. The event is recorded whether it succeeds or is abandoned.
    async fn switch_over(
        &mut self,
        ctx: &ServerContext,
        ha: &HaConfig,
        target: Option<(String, u16)>,
    ) -> Result<FailoverEvent, SwitchError> {
        let dnid = self.dnid;
        let node = ctx
            .topology
            .node(dnid)
            .ok_or(SwitchError::UnknownDataNode(dnid))?;
        let chosen = self.switch_candidate(target.as_ref(), ha)?;
        let old = self.primary;
        let old_addr = self.members[old].address();
        let chosen_addr = self.members[chosen].address();
        let mut event = FailoverEvent::new(dnid, old_addr.clone(), true);
        info!(dnid = dnid.get(), old_primary = %old_addr, new_primary = %chosen_addr, "switchover: starting");
        let mut clock = StepClock::start();
        node.pool.hold(Duration::from_millis(ha.hold_timeout_ms));
        clock.done(&mut event, "hold new statements".into());

        // 1. Let the statements running on the old primary finish.
        let still = node
            .pool
            .drain(Duration::from_millis(ha.switchover_drain_ms))
            .await;
        clock.done(
            &mut event,
            format!("drain running statements ({still} connections still lent)"),
        );

        // 2. No more writes there: read-only, and the connections still open closed
        // (a transaction left on one is rolled back; its session gets a retryable
        // error at its next statement).
        let fenced = fence(&mut self.members[old].prober, STEP_TIMEOUT).await;
        // Its replica pool's idle connections (from an earlier turn as a replica) were
        // just killed too.
        node.reads.mark_down(&old_addr, true);
        node.reads.mark_down(&old_addr, false);
        match fenced {
            Ok(killed) => clock.done(
                &mut event,
                format!("{old_addr}: read_only = ON, {killed} connections closed"),
            ),
            Err(e) => {
                let why = format!("making {old_addr} read-only: {e}");
                return Err(self.abandon_switch(ctx, event, None, why).await);
            }
        }

        // 3. Wait until the chosen replica applied all the old primary wrote.
        let written = match self.members[old]
            .prober
            .query("SELECT @@global.gtid_binlog_pos", STEP_TIMEOUT)
            .await
        {
            Ok(rows) => first_value(&rows),
            Err(e) => {
                let why = format!("reading the GTID position of {old_addr}: {e}");
                return Err(self.abandon_switch(ctx, event, None, why).await);
            }
        };
        let wait_s = ha.catch_up_timeout_ms.div_ceil(1000).max(1);
        let waited = self.members[chosen]
            .prober
            .query(
                &format!("SELECT MASTER_GTID_WAIT('{}', {wait_s})", escape(&written)),
                Duration::from_millis(ha.catch_up_timeout_ms) + STEP_TIMEOUT,
            )
            .await;
        match waited {
            Ok(rows) if first_value(&rows) == "0" => {}
            Ok(rows) => {
                let why = format!(
                    "{chosen_addr} did not apply {written} within {wait_s} s (MASTER_GTID_WAIT returned {})",
                    first_value(&rows)
                );
                return Err(self.abandon_switch(ctx, event, None, why).await);
            }
            Err(e) => {
                let why = format!("waiting for {chosen_addr} to apply {written}: {e}");
                return Err(self.abandon_switch(ctx, event, None, why).await);
            }
        }
        clock.done(&mut event, format!("{chosen_addr} applied {written}"));

        // 4. Promote. Semi-sync waits on: the old primary becomes a replica.
        for sql in [
            "STOP SLAVE",
            "RESET SLAVE ALL",
            "SET GLOBAL rpl_semi_sync_master_enabled = ON",
            "SET GLOBAL read_only = OFF",
        ] {
            if let Err(e) = self.members[chosen].prober.execute(sql, STEP_TIMEOUT).await {
                let why = format!("promoting {chosen_addr}: {sql}: {e}");
                return Err(self.abandon_switch(ctx, event, Some(chosen), why).await);
            }
        }
        self.members[chosen].last = None;
        clock.done(&mut event, format!("promote {chosen_addr}"));

        // 5. The old primary and the other replicas replicate from it, before
        // statements go on: a commit then has a replica to acknowledge it.
        let source = self.members[chosen].config.clone();
        let mut repointed = 0;
        for i in 0..self.members.len() {
            if i == chosen || self.members[i].fenced {
                continue;
            }
            let m = &mut self.members[i];
            match repoint(&mut m.prober, &source, i == old).await {
                Ok(()) => repointed += 1,
                Err(e) => {
                    warn!(dnid = dnid.get(), node = %m.address(), error = %e, "switchover: could not make it a replica of the new primary")
                }
            }
        }
        let acknowledging = wait_semi_sync_client(
            &mut self.members[chosen].prober,
            Duration::from_millis(ha.heartbeat_interval_ms.max(1000)),
        )
        .await;
        if !acknowledging {
            warn!(dnid = dnid.get(), primary = %chosen_addr, "switchover: no semi-synchronous replica connected to the new primary yet");
        }
        clock.done(
            &mut event,
            format!("{repointed} replicas (the old primary included) replicate from {chosen_addr}"),
        );

        // 6. Route the data node to it; held statements go on there.
        let target = storage_target(dnid, &source, &self.database);
        let tls = ctx.ha.storage_tls.get(&target).cloned();
        node.pool.switch_target(target, tls);
        self.primary = chosen;
        self.forget_catch_up();
        self.members[old].last = None;
        event.new_primary = Some(chosen_addr.clone());
        let recorded = crate::primaries::record_switchover(
            &ctx.config.server.data_dir,
            dnid,
            &chosen_addr,
            &old_addr,
        );
        if let Err(e) = recorded {
            warn!(dnid = dnid.get(), error = %e, "switchover: cannot record the new primary in the data directory; update the configuration before restarting");
        }
        clock.done(
            &mut event,
            format!("switch data node {dnid} to {chosen_addr}"),
        );
        info!(dnid = dnid.get(), old_primary = %old_addr, new_primary = %chosen_addr, total_ms = event.duration().as_millis() as u64, "switchover: done");
        ctx.ha.record(event.clone());
        Ok(event)
    }

    /// Undoes a switchover that failed at `why`: the old primary gets its writes back
    /// (and `promoted`, the replica being promoted, replicates from it again),
    /// held statements go on there.
    async fn abandon_switch(
        &mut self,
        ctx: &ServerContext,
        mut event: FailoverEvent,
        promoted: Option<usize>,
        why: String,
    ) -> SwitchError {
        error!(dnid = self.dnid.get(), error = %why, "switchover: abandoned");
        let old = self.primary;
        if let Some(i) = promoted {
            let source = self.members[old].config.clone();
            let m = &mut self.members[i];
            if let Err(e) = repoint(&mut m.prober, &source, false).await {
                warn!(dnid = self.dnid.get(), node = %m.address(), error = %e, "switchover: could not make the replica replicate again");
            }
        }
        if let Err(e) = self.members[old]
            .prober
            .execute("SET GLOBAL read_only = OFF", STEP_TIMEOUT)
            .await
        {
            warn!(dnid = self.dnid.get(), error = %e, "switchover: could not make the primary writable again");
        }
        if let Some(node) = ctx.topology.node(self.dnid) {
            node.pool.release_hold();
        }
        event.error = Some(why.clone());
        ctx.ha.record(event);
        SwitchError::Abandoned {
            dnid: self.dnid,
            primary: self.members[old].address(),
            why,
        }
    }

    fn give_up(
        &mut self,
        node: &crate::context::DataNode,
        mut event: FailoverEvent,
        why: &str,
    ) -> FailoverEvent {
        error!(dnid = self.dnid.get(), error = why, "failover: giving up");
        node.pool.release_hold();
        // Anti-flapping counts promotions: a failover that promoted nothing may be
        // tried again at the next heartbeat.
        self.last_failover_at = None;
        event.error = Some(why.to_string());
        event
    }
}

/// The GTID position a replica received (`Gtid_IO_Pos`), or what it applied when that
/// is empty.
async fn read_received(prober: &mut Prober) -> Result<String, strata_backend::BackendError> {
    let report = prober.probe().await?;
    let received = report
        .replication
        .first()
        .map(|s| s.gtid_io_pos.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or(report.gtid_slave_pos);
    Ok(received)
}

/// The candidate that received the most transactions; the higher failover priority,
/// then the earlier configuration entry, on a tie.
fn best_candidate(candidates: &[(usize, String)], members: &[Member]) -> Option<(usize, String)> {
    candidates
        .iter()
        .max_by_key(|(i, received)| {
            let total: u64 = gtid_sequences(received).iter().map(|(_, s)| *s).sum();
            let priority = members[*i].config.failover_priority.unwrap_or(0);
            (total, priority, std::cmp::Reverse(*i))
        })
        .cloned()
}

/// Makes a storage node replicate from `source` with GTIDs, as a semi-synchronous
/// replica. `was_primary`: it was the primary until now (a switchover), so what it
/// applied is its own binary log, not `gtid_slave_pos`: that position is taken as the
/// starting point.
async fn repoint(
    prober: &mut Prober,
    source: &StorageNodeConfig,
    was_primary: bool,
) -> Result<(), strata_backend::BackendError> {
    let change = format!(
        "CHANGE MASTER TO MASTER_HOST = '{}', MASTER_PORT = {}, MASTER_USER = '{}', MASTER_PASSWORD = '{}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
        escape(&source.host),
        source.port,
        escape(&source.user),
        escape(&source.password)
    );
    let mut statements = vec!["STOP SLAVE"];
    if was_primary {
        statements.extend([
            "SET GLOBAL rpl_semi_sync_master_enabled = OFF",
            "SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos",
        ]);
    }
    statements.extend([
        "SET GLOBAL rpl_semi_sync_slave_enabled = ON",
        "SET GLOBAL read_only = ON",
        change.as_str(),
        "START SLAVE",
    ]);
    for sql in statements {
        prober.execute(sql, STEP_TIMEOUT).await?;
    }
    Ok(())
}

/// Makes a former primary read-only and kills its client connections; Ok is how many.
async fn fence(
    prober: &mut Prober,
    timeout: Duration,
) -> Result<usize, strata_backend::BackendError> {
    prober.execute("SET GLOBAL read_only = ON", timeout).await?;
    let rows = prober
        .query(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
             AND USER NOT IN ('system user', 'event_scheduler') AND COMMAND <> 'Binlog Dump'",
            timeout,
        )
        .await?;
    let mut killed = 0;
    for id in rows.iter().filter_map(|r| r.first().cloned().flatten()) {
        if prober
            .execute(&format!("KILL CONNECTION {id}"), timeout)
            .await
            .is_ok()
        {
            killed += 1;
        }
    }
    Ok(killed)
}

/// Waits, at most `limit`, until a semi-synchronous replica is connected to the
/// primary `prober` probes; false when none came.
async fn wait_semi_sync_client(prober: &mut Prober, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let clients = prober
            .query(
                "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
                 WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'",
                STEP_TIMEOUT,
            )
            .await
            .map(|rows| first_value(&rows));
        if clients.is_ok_and(|c| c.parse::<u64>().is_ok_and(|n| n > 0)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn first_value(rows: &[Vec<Option<String>>]) -> String {
    rows.first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_else(|| "NULL".into())
}

/// `s` for a single-quoted SQL string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(priority: Option<u32>) -> Member {
        let mut config = StorageNodeConfig::new("h", 1, "u", "", "d");
        config.failover_priority = priority;
        Member {
            prober: Prober::new(
                storage_target(DataNodeId::new(1), &config, "d"),
                None,
                Duration::from_millis(1),
            ),
            config,
            failures: 0,
            last: None,
            last_error: None,
            fenced: false,
        }
    }

    #[test]
    fn the_replica_that_received_most_wins_and_priority_breaks_ties() {
        let members = vec![member(None), member(Some(1)), member(Some(5)), member(None)];
        let most = vec![(1, "0-1-12".to_string()), (2, "0-1-11".to_string())];
        assert_eq!(best_candidate(&most, &members).map(|c| c.0), Some(1));
        let tie = vec![(1, "0-1-12".to_string()), (2, "0-1-12".to_string())];
        assert_eq!(best_candidate(&tie, &members).map(|c| c.0), Some(2));
        let plain = vec![(3, "0-1-12".to_string()), (1, "0-1-12".to_string())];
        assert_eq!(best_candidate(&plain, &members).map(|c| c.0), Some(1));
        assert_eq!(best_candidate(&[], &members), None);
    }
}
