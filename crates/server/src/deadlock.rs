//! Deadlocks that span data nodes: each storage node sees only a lock wait, so none of
//! them detects the cycle. Periodically the compute node reads every node's lock waits
//! (information_schema INNODB_LOCK_WAITS / INNODB_TRX), maps storage threads to the
//! sessions whose transaction branches they are, and looks for a cycle among sessions.
//! The session that did the least work (smallest InnoDB transaction weight summed over
//! its branches) is the victim: its waiting statement is interrupted, it reports error
//! 1213 as MySQL does, and its transaction is rolled back.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::context::ServerContext;
use strata_catalog::DataNodeId;

const LOCK_WAITS: &str = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id \
     FROM information_schema.INNODB_LOCK_WAITS w \
     JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id \
     JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id";
const WEIGHTS: &str = "SELECT trx_mysql_thread_id, trx_weight FROM information_schema.INNODB_TRX";

/// One wait-for edge between sessions, seen on a data node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Session waiting for a lock.
    pub waiter: u32,
    /// Session holding it.
    pub holder: u32,
    /// Where the waiter waits.
    pub dnid: DataNodeId,
    /// The waiter's storage thread there.
    pub thread: u32,
}

/// Finds one cycle in the wait-for graph and returns its sessions, in order.
pub fn find_cycle(waits: &[Wait]) -> Option<Vec<u32>> {
    let mut next: HashMap<u32, Vec<u32>> = HashMap::new();
    for w in waits {
        next.entry(w.waiter).or_default().push(w.holder);
    }
    let mut starts: Vec<u32> = next.keys().copied().collect();
    starts.sort_unstable();
    let mut done: HashSet<u32> = HashSet::new();
    for start in starts {
        if done.contains(&start) {
            continue;
        }
        // Iterative DFS keeping the current path.
        let mut path: Vec<u32> = vec![start];
        let mut iters: Vec<usize> = vec![0];
        let mut on_path: HashSet<u32> = HashSet::from([start]);
        while let Some(&node) = path.last() {
            let i = iters.last().copied().unwrap_or(0);
            let succ = next.get(&node).and_then(|v| v.get(i)).copied();
            match succ {
                Some(s) => {
                    if let Some(top) = iters.last_mut() {
                        *top += 1;
                    }
                    if on_path.contains(&s) {
                        let from = path.iter().position(|&p| p == s).unwrap_or(0);
                        return Some(path[from..].to_vec());
                    }
                    if !done.contains(&s) {
                        path.push(s);
                        iters.push(0);
                        on_path.insert(s);
                    }
                }
                None => {
                    done.insert(node);
                    on_path.remove(&node);
                    path.pop();
                    iters.pop();
                }
            }
        }
    }
    None
}

/// One check over every data node; returns the session chosen as victim, if any.
pub async fn check(ctx: &ServerContext) -> Option<u32> {
    // (dnid, storage thread) -> session, for sessions with open XA branches.
    let mut owner: HashMap<(DataNodeId, u32), u32> = HashMap::new();
    let sessions = ctx.all_sessions();
    for (id, entry) in &sessions {
        for &(dnid, thread) in entry
            .branches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            owner.insert((dnid, thread), *id);
        }
    }
    if owner.is_empty() {
        return None;
    }
    let mut waits = Vec::new();
    let mut weight: HashMap<u32, u64> = HashMap::new();
    let mut nodes: Vec<DataNodeId> = owner.keys().map(|(d, _)| *d).collect();
    nodes.sort_unstable();
    nodes.dedup();
    for dnid in nodes {
        let Some(node) = ctx.topology.node(dnid) else {
            continue;
        };
        let Ok(mut lease) = node.pool.acquire(None).await else {
            continue;
        };
        let rows = lease.query(LOCK_WAITS).await;
        let weights = match &rows {
            Ok(r) if !r.is_empty() => lease.query(WEIGHTS).await.ok(),
            _ => None,
        };
        if rows.is_err() {
            lease.mark_broken();
        }
        drop(lease);
        let parse = |v: Option<&Option<String>>| {
            v.and_then(|v| v.as_deref())
                .and_then(|s| s.parse::<u64>().ok())
        };
        for row in rows.unwrap_or_default() {
            let (Some(w), Some(h)) = (parse(row.first()), parse(row.get(1))) else {
                continue;
            };
            let (w, h) = (w as u32, h as u32);
            if let (Some(&waiter), Some(&holder)) = (owner.get(&(dnid, w)), owner.get(&(dnid, h))) {
                if waiter != holder {
                    waits.push(Wait {
                        waiter,
                        holder,
                        dnid,
                        thread: w,
                    });
                }
            }
        }
        for row in weights.unwrap_or_default() {
            if let (Some(t), Some(wt)) = (parse(row.first()), parse(row.get(1))) {
                if let Some(&session) = owner.get(&(dnid, t as u32)) {
                    *weight.entry(session).or_default() += wt;
                }
            }
        }
    }
    let cycle = find_cycle(&waits)?;
    let victim = cycle
        .iter()
        .copied()
        .min_by_key(|s| (weight.get(s).copied().unwrap_or(0), std::cmp::Reverse(*s)))?;
    let entry = sessions.iter().find(|(id, _)| *id == victim)?.1.clone();
    if entry.deadlock_victim.swap(true, Ordering::AcqRel) {
        return None; // already being rolled back
    }
    let wait = waits.iter().find(|w| w.waiter == victim)?;
    info!(
        ?cycle,
        victim,
        dnid = wait.dnid.get(),
        "deadlock across data nodes; rolling back the victim"
    );
    let node = ctx.topology.node(wait.dnid)?;
    match node.pool.acquire(None).await {
        Ok(mut lease) => match lease.execute(&format!("KILL QUERY {}", wait.thread)).await {
            Ok(_) => ctx.metrics.deadlock_broken(),
            Err(e) => {
                warn!(error = %e, "could not interrupt the deadlock victim's statement");
                entry.deadlock_victim.store(false, Ordering::Release);
            }
        },
        Err(e) => {
            warn!(error = %e, "could not reach the data node to break a deadlock");
            entry.deadlock_victim.store(false, Ordering::Release);
        }
    }
    Some(victim)
}

/// Runs `check` every `interval` until the server stops.
pub async fn deadlock_loop(
    ctx: Arc<ServerContext>,
    interval: Duration,
    mut shutdown: crate::shutdown::Shutdown,
) {
    loop {
        tokio::select! {
            _ = shutdown.triggered() => return,
            _ = tokio::time::sleep(interval) => { check(&ctx).await; }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(waiter: u32, holder: u32) -> Wait {
        Wait {
            waiter,
            holder,
            dnid: DataNodeId::new(1),
            thread: 0,
        }
    }

    #[test]
    fn finds_cycles_and_only_cycles() {
        assert_eq!(find_cycle(&[wait(1, 2), wait(2, 3)]), None);
        assert_eq!(find_cycle(&[wait(1, 2), wait(2, 1)]), Some(vec![1, 2]));
        let c = find_cycle(&[wait(5, 6), wait(1, 2), wait(2, 3), wait(3, 1)]).expect("cycle");
        assert_eq!(c.len(), 3);
        assert_eq!(find_cycle(&[wait(1, 2), wait(3, 2), wait(2, 4)]), None);
    }
}
