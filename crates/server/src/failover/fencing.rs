//! Fencing of a former primary: read-only and its client connections killed, at
//! failover and whenever it is seen writable again.

use std::time::{Duration, Instant};

use strata_backend::heartbeat::Prober;
use tracing::info;

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
pub(super) async fn fence(
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
