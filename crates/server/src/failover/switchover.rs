//! Planned switchover (`SWITCH @@DATASOURCE`): hold, drain, read-only on the old
//! primary, catch-up, promote, make the old primary a replica, switch the pool.

use std::time::{Duration, Instant};

use strata_backend::heartbeat::Prober;
use strata_catalog::config::HaConfig;
use strata_catalog::ha::DecisionLock;
use strata_catalog::DataNodeId;
use tracing::{error, info, warn};

use super::cluster::Decision;
use super::fencing::fence;
use super::promotion::{best_candidate, repoint, StartAt};
use super::state::{FailoverEvent, NodeStatus, StepClock};
use super::watch::{Member, Watch};
use super::{first_value, storage_target, wait_applied, STEP_TIMEOUT};
use crate::context::ServerContext;

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
    /// The cluster did not let this compute node switch now (another one is changing
    /// the primary, or etcd cannot record the decision).
    #[error("Switchover of data node {dnid} not started: {why}")]
    NotDecided {
        /// The data node.
        dnid: DataNodeId,
        /// Why.
        why: String,
    },
    /// The watch of the data node did not answer in time (its outcome is unknown:
    /// `SHOW @@DATASOURCE` tells).
    #[error("Switchover of data node {0} did not finish within {1} s; SHOW @@DATASOURCE shows its outcome")]
    TimedOut(DataNodeId, u64),
}

/// An operator's request to switch a data node's primary, sent to its watch task.
pub(super) struct SwitchRequest {
    /// `(host, port)` of the replica to promote; None: the best one.
    pub(super) target: Option<(String, u16)>,
    pub(super) reply: tokio::sync::oneshot::Sender<Result<FailoverEvent, SwitchError>>,
}

impl Watch {
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
    pub(super) async fn switch_over(
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
        // First the cluster's decision: another compute node may have moved the
        // primary meanwhile (then this one follows it and the candidate changes).
        let decision = match self.take_decision(ctx, true).await {
            Decision::Local => None,
            Decision::Cluster(lock) => Some(lock),
            Decision::Declined { why, .. } => return Err(SwitchError::NotDecided { dnid, why }),
        };
        let chosen = match self.switch_candidate(target.as_ref(), ha) {
            Ok(chosen) => chosen,
            Err(e) => {
                if let Some(lock) = decision {
                    self.release_decision(lock).await;
                }
                return Err(e);
            }
        };
        let old = self.primary;
        let old_addr = self.members[old].address();
        let chosen_addr = self.members[chosen].address();
        let mut event = FailoverEvent::new(dnid, old_addr.clone(), true);
        info!(dnid = dnid.get(), old_primary = %old_addr, new_primary = %chosen_addr, "switchover: starting");
        let mut clock = StepClock::start();
        node.pool.hold_for_switchover(
            Duration::from_millis(ha.hold_timeout_ms),
            ha.hold_queue_limit,
        );
        clock.done(&mut event, "hold new statements".into());

        // 1. Let the statements running on the old primary finish, here and through
        // the other compute nodes (they hold and drain when the lock announces the
        // switchover, then acknowledge).
        let drain = Duration::from_millis(ha.switchover_drain_ms);
        let others = async {
            match &decision {
                Some(lock) => Some(self.wait_acknowledged(lock, drain + STEP_TIMEOUT).await),
                None => None,
            }
        };
        let (still, others) = tokio::join!(node.pool.drain(drain), others);
        clock.done(
            &mut event,
            format!("drain running statements ({still} connections still lent)"),
        );
        if let Some(missing) = others {
            if !missing.is_empty() {
                warn!(dnid = dnid.get(), ?missing, "switchover: compute nodes that did not acknowledge in time; their statements on the old primary are cut");
            }
            clock.done(
                &mut event,
                format!(
                    "other compute nodes drained ({} did not acknowledge)",
                    missing.len()
                ),
            );
        }

        // 2. No more writes there: read-only, and the connections still open closed
        // (a transaction left on one is rolled back; its session gets a retryable
        // error at its next statement).
        node.pool.stop_admitting();
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
                return Err(self.abandon_switch(ctx, event, None, why, decision).await);
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
                return Err(self.abandon_switch(ctx, event, None, why, decision).await);
            }
        };
        let member = &mut self.members[chosen];
        if let Err(why) = wait_applied(&mut member.prober, &chosen_addr, &written, ha).await {
            return Err(self.abandon_switch(ctx, event, None, why, decision).await);
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
                return Err(self
                    .abandon_switch(ctx, event, Some(chosen), why, decision)
                    .await);
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
            match repoint(
                &mut m.prober,
                &source,
                if i == old {
                    StartAt::OwnBinlog
                } else {
                    StartAt::SlavePos
                },
            )
            .await
            {
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

        // 6. Record it for the cluster, then route the data node to it; held
        // statements go on there.
        if let Some(lock) = decision {
            let recorded = self
                .record_decision(ctx, lock, &chosen_addr, Some(old_addr.clone()), true)
                .await;
            if let Err(e) = recorded {
                error!(dnid = dnid.get(), primary = %chosen_addr, error = %e, "switchover: done but not recorded in the cluster: the other compute nodes do not follow");
            }
        }
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
        decision: Option<DecisionLock>,
    ) -> SwitchError {
        if let Some(lock) = decision {
            self.release_decision(lock).await;
        }
        error!(dnid = self.dnid.get(), error = %why, "switchover: abandoned");
        let old = self.primary;
        if let Some(i) = promoted {
            let source = self.members[old].config.clone();
            let m = &mut self.members[i];
            if let Err(e) = repoint(&mut m.prober, &source, StartAt::SlavePos).await {
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
