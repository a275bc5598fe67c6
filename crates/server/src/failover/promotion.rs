//! Automatic failover: choose the replica that received the most, wait until it
//! applied it, fence the old primary, promote, switch the pool, repoint the others.

use std::time::{Duration, Instant};

use strata_backend::heartbeat::Prober;
use strata_catalog::config::{HaConfig, StorageNodeConfig};
use strata_mysql::gtid::gtid_sequences;
use tracing::{debug, error, info, warn};

use super::cluster::Decision;
use super::fencing::fence;
use super::state::{FailoverEvent, StepClock};
use super::watch::{Member, Watch};
use super::{escape, storage_target, wait_applied, STEP_TIMEOUT};
use crate::context::ServerContext;

impl Watch {
    /// Promotes the best replica; None when there was nothing to do.
    pub(super) async fn fail_over(
        &mut self,
        ctx: &ServerContext,
        ha: &HaConfig,
    ) -> Option<FailoverEvent> {
        let node = ctx.topology.node(self.dnid)?;
        let mut decision = match self.take_decision(ctx, false).await {
            Decision::Local => None,
            Decision::Cluster(lock) => Some(lock),
            Decision::Declined { why, unreachable } => {
                self.decline(ctx, why, unreachable);
                return None;
            }
        };
        let old = self.primary;
        let mut event = FailoverEvent::new(self.dnid, self.members[old].address(), false);
        self.last_failover_at = Some(Instant::now());
        info!(dnid = self.dnid.get(), old_primary = %event.old_primary, "failover: starting");
        node.pool.hold(
            Duration::from_millis(ha.hold_timeout_ms),
            ha.hold_queue_limit,
        );
        let mut clock = StepClock::start();
        // Detection to here counts as a step too: the heartbeats that failed.
        clock.done(&mut event, "hold new statements".into());

        // 1. Fence the old primary — read-only if it answers, on a connection of its
        //    own — while the replicas are frozen and the chosen one catches up, so a
        //    frozen primary's fencing attempt times out meanwhile rather than after.
        let fence_timeout = Duration::from_millis(ha.heartbeat_timeout_ms);
        let old_prober = &self.members[old].prober;
        let mut fencer = Prober::new(
            (**old_prober.target()).clone(),
            old_prober.tls().cloned(),
            fence_timeout,
        );
        let fencing = async move {
            let fenced = fence(&mut fencer, fence_timeout).await;
            (fenced, fencer)
        };
        let catching_up = self.freeze_and_catch_up(old, ha, &mut event, &mut clock);
        let ((fenced, mut fencer), caught_up) = tokio::join!(fencing, catching_up);
        let (chosen, chosen_addr) = match caught_up {
            Ok(chosen) => chosen,
            Err(why) => {
                if fenced.is_ok() {
                    // It answers and stays the primary: writable again.
                    if let Err(e) = fencer
                        .execute("SET GLOBAL read_only = OFF", STEP_TIMEOUT)
                        .await
                    {
                        warn!(dnid = self.dnid.get(), node = %event.old_primary, error = %e, "failover: cannot make the old primary writable again");
                    }
                }
                if let Some(lock) = decision.take() {
                    self.release_decision(lock).await;
                }
                return Some(self.give_up(node, event, &why));
            }
        };
        self.members[old].fenced = true;
        let old_addr = event.old_primary.clone();
        let fenced = match fenced {
            Ok(killed) => format!("fence {old_addr} (read_only = ON, {killed} connections killed)"),
            Err(_) => format!("fence {old_addr} (unreachable: fenced by routing)"),
        };
        clock.done(&mut event, fenced);

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
                if let Some(lock) = decision.take() {
                    self.release_decision(lock).await;
                }
                return Some(self.give_up(
                    node,
                    event,
                    &format!("promoting {chosen_addr}: {sql}: {e}"),
                ));
            }
        }
        clock.done(&mut event, format!("promote {chosen_addr}"));

        // 5. Record it for the cluster, then route the data node to it.
        if let Some(lock) = decision.take() {
            match self
                .record_decision(ctx, lock, &chosen_addr, None, false)
                .await
            {
                Ok(()) => clock.done(
                    &mut event,
                    format!(
                        "record {chosen_addr} as the cluster's primary (epoch {})",
                        self.epoch
                    ),
                ),
                Err(e) => {
                    error!(dnid = self.dnid.get(), primary = %chosen_addr, error = %e, "failover: promoted but not recorded in the cluster: the other compute nodes do not follow");
                    clock.done(&mut event, format!("not recorded in the cluster: {e}"));
                }
            }
        }
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
        clock.done(
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
            if let Err(e) = repoint(&mut m.prober, &source, StartAt::SlavePos).await {
                warn!(dnid = self.dnid.get(), node = %m.address(), error = %e, "failover: could not repoint replica");
            }
        }
        if others > 0 {
            clock.done(
                &mut event,
                format!("repoint {others} replicas to {chosen_addr}"),
            );
        } else {
            warn!(dnid = self.dnid.get(), primary = %chosen_addr, "data node has no replica left: a failure of its primary now loses it (semi-synchronous replication is off)");
        }
        info!(dnid = self.dnid.get(), old_primary = %event.old_primary, new_primary = %chosen_addr, total_ms = event.duration().as_millis() as u64, "failover: done");
        Some(event)
    }

    /// Freezes what each replica received, chooses the one that received the most and
    /// waits until it applied it: the chosen member and its address, or why failover
    /// cannot go on.
    async fn freeze_and_catch_up(
        &mut self,
        old: usize,
        ha: &HaConfig,
        event: &mut FailoverEvent,
        clock: &mut StepClock,
    ) -> Result<(usize, String), String> {
        let mut candidates = Vec::new();
        for (i, m) in self.members.iter_mut().enumerate() {
            if i == old || m.fenced {
                continue;
            }
            if let Err(e) = stop_io_thread(&mut m.prober).await {
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
        clock.done(
            event,
            format!("stop IO threads on {} replicas", candidates.len()),
        );
        let (chosen, received) = best_candidate(&candidates, &self.members)
            .ok_or_else(|| "no replica reachable".to_string())?;
        let chosen_addr = self.members[chosen].address();
        clock.done(event, format!("choose {chosen_addr} (received {received})"));
        let member = &mut self.members[chosen];
        wait_applied(&mut member.prober, &chosen_addr, &received, ha).await?;
        clock.done(event, format!("{chosen_addr} applied all it received"));
        Ok((chosen, chosen_addr))
    }

    /// A failover this node may not run now (see `cluster`): logged once per reason,
    /// and kept as an event when the cluster could not be asked.
    fn decline(&mut self, ctx: &ServerContext, why: String, unreachable: bool) {
        if self.declined.as_deref() == Some(why.as_str()) {
            return;
        }
        self.declined = Some(why.clone());
        let old = self.members[self.primary].address();
        if !unreachable {
            warn!(dnid = self.dnid.get(), primary = %old, reason = %why, "failover: not run by this compute node");
            return;
        }
        error!(dnid = self.dnid.get(), primary = %old, reason = %why, "failover: not run");
        let mut event = FailoverEvent::new(self.dnid, old, false);
        event.error = Some(why);
        self.last_failover = Some(event.summary());
        ctx.ha.record(event);
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

/// Stops a replica's IO thread, so what it received is final. An IO thread blocked
/// reading from a frozen primary does not notice STOP SLAVE for 2 s (MariaDB signals
/// it again every 2 s); KILL interrupts its read at once, and STOP SLAVE then returns
/// in milliseconds.
async fn stop_io_thread(prober: &mut Prober) -> Result<(), strata_backend::BackendError> {
    let io_threads = prober
        .query(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'system user' \
             AND (COMMAND = 'Slave_IO' OR STATE LIKE 'Connecting to master%')",
            STEP_TIMEOUT,
        )
        .await?;
    for id in io_threads
        .iter()
        .filter_map(|r| r.first().cloned().flatten())
    {
        if let Err(e) = prober.execute(&format!("KILL {id}"), STEP_TIMEOUT).await {
            // It may have ended meanwhile; STOP SLAVE below stops it otherwise.
            debug!(thread = %id, error = %e, "failover: KILL of a replica's IO thread failed");
        }
    }
    prober.execute("STOP SLAVE IO_THREAD", STEP_TIMEOUT).await
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
pub(super) fn best_candidate(
    candidates: &[(usize, String)],
    members: &[Member],
) -> Option<(usize, String)> {
    candidates
        .iter()
        .max_by_key(|(i, received)| {
            let total: u64 = gtid_sequences(received).iter().map(|(_, s)| *s).sum();
            let priority = members[*i].config.failover_priority.unwrap_or(0);
            (total, priority, std::cmp::Reverse(*i))
        })
        .cloned()
}

/// Where a storage node made a replica starts replicating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartAt<'a> {
    /// Its own `gtid_slave_pos`: it was a replica already.
    SlavePos,
    /// Its own `gtid_binlog_pos`: it was the primary until now (a switchover), so what
    /// it applied is its own binary log.
    OwnBinlog,
    /// This position: a rebuilt node, restored from a backup that held it.
    Gtid(&'a str),
}

/// Makes a storage node replicate from `source` with GTIDs, as a semi-synchronous
/// replica, from `start`.
pub(super) async fn repoint(
    prober: &mut Prober,
    source: &StorageNodeConfig,
    start: StartAt<'_>,
) -> Result<(), strata_backend::BackendError> {
    let change = format!(
        "CHANGE MASTER TO MASTER_HOST = '{}', MASTER_PORT = {}, MASTER_USER = '{}', MASTER_PASSWORD = '{}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
        escape(&source.host),
        source.port,
        escape(&source.user),
        escape(&source.password)
    );
    let position = match start {
        StartAt::SlavePos => None,
        StartAt::OwnBinlog => Some("SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos".into()),
        StartAt::Gtid(gtid) => Some(format!("SET GLOBAL gtid_slave_pos = '{}'", escape(gtid))),
    };
    let mut statements = vec!["STOP SLAVE".to_string()];
    if let Some(position) = position {
        statements.extend([
            "SET GLOBAL rpl_semi_sync_master_enabled = OFF".into(),
            position,
        ]);
    }
    statements.extend([
        "SET GLOBAL rpl_semi_sync_slave_enabled = ON".into(),
        "SET GLOBAL read_only = ON".into(),
        change,
        "START SLAVE".into(),
    ]);
    for sql in &statements {
        prober.execute(sql, STEP_TIMEOUT).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use strata_catalog::DataNodeId;

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
            confirmed: None,
            rejoin_at: None,
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
