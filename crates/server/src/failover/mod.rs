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
//!
//! With several compute nodes sharing etcd, a failover or switchover is decided by one
//! of them under a lock in etcd and recorded there; the others follow (`cluster`).
//!
//! A replica rebuild (`REBUILD @@DATASOURCE`, [`HaState::rebuild`]) copies the primary
//! into a stopped node's empty data directory with mariadb-backup; the watch makes the
//! node a replica again when it is started.

mod backup;
mod cluster;
mod fencing;
mod promotion;
mod rebuild;
mod state;
mod switchover;
mod verify;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use strata_backend::heartbeat::Prober;
use strata_backend::{Pool, StorageTarget, StorageTlsMap};
use strata_catalog::config::{HaConfig, StorageNodeConfig};
use strata_catalog::DataNodeId;

pub use backup::BackupError;
pub use cluster::{apply_recorded_primaries, follow_loop};
pub use rebuild::RebuildError;
pub use state::{FailoverEvent, HaState, NodeStatus, Role, StorageNodeState};
pub use switchover::SwitchError;
pub use verify::verify_roles;
pub use watch::watch_data_node;

/// What an operator asks of a data node's watch task.
enum WatchRequest {
    /// `SWITCH @@DATASOURCE`.
    Switch(switchover::SwitchRequest),
    /// The re-admission of a node `REBUILD @@DATASOURCE` copied.
    Rejoin(rebuild::RejoinRequest),
    /// A primary the cluster recorded (another compute node's decision, or one read
    /// at start-up).
    Follow(strata_catalog::ha::RecordedPrimary),
    /// Another compute node took the data node's decision lock (its create revision):
    /// hold, drain, acknowledge.
    Announced(i64),
    /// The decision lock was released.
    Released,
}

/// Longest a single failover statement (on a replica or the old primary) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

/// Every storage server of data node `dnid` with a pool to it, each with a name for
/// messages ("data node 1's primary", "... replica 2"): the current primary first (the
/// data node's own pool), then the other members in configuration order (replica
/// pools, made now when a replica has none yet), so a replica promoted later is there.
pub fn storage_servers(
    ctx: &crate::context::ServerContext,
    dnid: DataNodeId,
) -> Vec<(String, Arc<Pool>)> {
    let Some(node) = ctx.topology.node(dnid) else {
        return Vec::new();
    };
    let primary = node.pool.target();
    let mut out = vec![(format!("data node {dnid}'s primary"), node.pool.clone())];
    let Some(dn) = ctx.config.data_nodes.iter().find(|d| d.id == dnid) else {
        return out;
    };
    let others = std::iter::once(&dn.primary)
        .chain(&dn.replicas)
        .filter(|m| !(m.host == primary.host && m.port == primary.port));
    for (i, member) in others.enumerate() {
        let target = storage_target(dnid, member, &dn.primary.database);
        let tls = ctx.ha.storage_tls.get(&target).cloned();
        out.push((
            format!("data node {dnid}'s replica {}", i + 1),
            node.reads.replica_pool(target, tls),
        ));
    }
    out
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

/// Waits, at most `ha.catch_up_timeout_ms`, until the replica at `addr` (probed by
/// `prober`) applied GTID position `gtid`; Err says why it did not.
async fn wait_applied(
    prober: &mut Prober,
    addr: &str,
    gtid: &str,
    ha: &HaConfig,
) -> Result<(), String> {
    let wait_s = ha.catch_up_timeout_ms.div_ceil(1000).max(1);
    let waited = prober
        .query(
            &format!("SELECT MASTER_GTID_WAIT('{}', {wait_s})", escape(gtid)),
            Duration::from_millis(ha.catch_up_timeout_ms) + STEP_TIMEOUT,
        )
        .await;
    match waited {
        Ok(rows) if first_value(&rows) == "0" => Ok(()),
        Ok(rows) => Err(format!(
            "{addr} did not apply {gtid} within {wait_s} s (MASTER_GTID_WAIT returned {})",
            first_value(&rows)
        )),
        Err(e) => Err(format!("waiting for {addr} to apply {gtid}: {e}")),
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
