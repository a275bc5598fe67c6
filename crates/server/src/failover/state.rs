//! What the watch tasks publish: storage nodes' roles and health, failover events,
//! and the shared [`HaState`] the admin surface reads.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use strata_backend::StorageTlsMap;
use strata_catalog::config::HaConfig;
use strata_catalog::DataNodeId;
use tracing::info;

use super::switchover::{SwitchError, SwitchRequest};
use super::{WatchRequest, STEP_TIMEOUT};

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

    pub(super) fn summary(&self) -> String {
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

    pub(super) fn new(dnid: DataNodeId, old_primary: String, planned: bool) -> FailoverEvent {
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
pub(super) struct StepClock(Instant);

impl StepClock {
    pub(super) fn start() -> StepClock {
        StepClock(Instant::now())
    }

    /// Ends step `name` of `event`: logs how long it took and keeps it in the event.
    pub(super) fn done(&mut self, event: &mut FailoverEvent, name: String) {
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

/// High-availability state of every data node, published by the watch tasks.
pub struct HaState {
    nodes: Mutex<BTreeMap<DataNodeId, Vec<StorageNodeState>>>,
    events: Mutex<Vec<FailoverEvent>>,
    /// Each watched data node's queue of operator requests.
    pub(super) requests: Mutex<BTreeMap<DataNodeId, tokio::sync::mpsc::Sender<WatchRequest>>>,
    /// TLS per storage node, replicas included (for probes and a switched pool).
    pub(super) storage_tls: StorageTlsMap,
}

impl HaState {
    /// Empty state; `storage_tls` gives each storage node's TLS settings.
    pub fn new(storage_tls: StorageTlsMap) -> HaState {
        HaState {
            nodes: Mutex::new(BTreeMap::new()),
            events: Mutex::new(Vec::new()),
            requests: Mutex::new(BTreeMap::new()),
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
            .sender(dnid)
            .ok_or(SwitchError::UnknownDataNode(dnid))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        sender
            .send(WatchRequest::Switch(SwitchRequest { target, reply }))
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

    /// The queue of data node `dnid`'s watch task.
    pub(super) fn sender(
        &self,
        dnid: DataNodeId,
    ) -> Option<tokio::sync::mpsc::Sender<WatchRequest>> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&dnid)
            .cloned()
    }

    pub(super) fn publish(&self, dnid: DataNodeId, states: Vec<StorageNodeState>) {
        self.nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dnid, states);
    }

    pub(super) fn record(&self, event: FailoverEvent) {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() >= EVENTS_KEPT {
            events.remove(0);
        }
        events.push(event);
    }
}
