//! Fencing of a former primary: read-only and its client connections killed, at
//! failover and whenever it is seen writable again.

use std::time::{Duration, Instant};

use strata_backend::heartbeat::Prober;
use tracing::{info, warn};

use super::watch::Watch;
use super::STEP_TIMEOUT;

impl Watch {
    /// A fenced former primary that answers again (it was frozen, or restarted) is made
    /// read-only and its client connections killed, every time it is seen writable.
    pub(super) async fn fence_returning_primaries(&mut self) {
        for member in self.members.iter_mut().filter(|m| m.fenced) {
            let writable = member.last.as_ref().is_some_and(|r| !r.read_only);
            if member.failures == 0 && writable {
                let started = Instant::now();
                let result = fence(&mut member.prober, STEP_TIMEOUT).await;
                info!(dnid = self.dnid.get(), node = %member.address(), elapsed = ?started.elapsed(), ?result, "fenced a former primary that came back");
            }
        }
    }
}

/// Makes a former primary read-only and kills its client connections; Ok is how many.
///
/// `SET GLOBAL read_only = ON` waits for the locks writers hold (a long statement or
/// commit, LOCK TABLES, a transaction a lock wait keeps open). When it does not finish
/// in time, what was running is logged, every client connection is killed (the stuck
/// SET among them) and it is tried once more: those connections would be killed just
/// after anyway, and a switchover abandoned for one slow writer helps nobody.
pub(super) async fn fence(
    prober: &mut Prober,
    timeout: Duration,
) -> Result<usize, strata_backend::BackendError> {
    let mut killed = 0;
    // Unblocked it takes milliseconds; the time a blocked first try wastes comes out of
    // the hold new statements are waiting in.
    let first_try = timeout.min(Duration::from_secs(1));
    if let Err(first) = prober.execute("SET GLOBAL read_only = ON", first_try).await {
        let running = prober
            .query(
                "SELECT ID, USER, COMMAND, TIME, STATE, LEFT(INFO, 200) \
                 FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
                 AND COMMAND NOT IN ('Sleep', 'Binlog Dump', 'Daemon')",
                timeout,
            )
            .await?;
        let running: Vec<String> = running
            .iter()
            .map(|row| {
                let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
                row.iter().map(cell).collect::<Vec<_>>().join(" | ")
            })
            .collect();
        warn!(error = %first, ?running, "read_only = ON did not finish in time; killing the client connections and trying again");
        killed += kill_clients(prober, timeout).await?;
        prober.execute("SET GLOBAL read_only = ON", timeout).await?;
    }
    Ok(killed + kill_clients(prober, timeout).await?)
}

/// Kills every client connection of the node but the prober's own and replication's;
/// Ok is how many.
async fn kill_clients(
    prober: &mut Prober,
    timeout: Duration,
) -> Result<usize, strata_backend::BackendError> {
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
