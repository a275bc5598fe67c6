//! The read set of a data node for read/write splitting: the storage nodes a read
//! outside a transaction may go to, with their weights, as the heartbeat last saw them
//! (`failover::watch_data_node` publishes it after every probe round). A replica is in
//! it while it answers heartbeats and is within `ha.max_replica_lag_ms`; for each one
//! the set also knows up to when it is known to have applied everything the primary
//! had acknowledged (`caught_up_to`), which is how a session's reads never see data
//! older than its own writes. Pools to replicas open when a replica first joins.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use strata_backend::{Pool, PoolSettings, StorageTarget};
use strata_protocol::ClientTls;

/// One storage node a read may go to.
#[derive(Clone)]
pub struct ReadMember {
    /// Its pool (the data node's own pool for the primary).
    pub pool: Arc<Pool>,
    /// Share of the reads, relative to the other members' weights.
    pub weight: u32,
    /// The data node's primary (reads there use the data node's pool).
    pub primary: bool,
    /// Every write acknowledged before this instant is applied on it (the primary:
    /// always; a replica: None until a heartbeat saw it caught up).
    pub caught_up_to: Option<Instant>,
}

/// Where the reads of one data node may go.
pub struct ReadSet {
    members: RwLock<Vec<ReadMember>>,
    /// Replica pools by `host:port`, made on first use and kept (a replica that leaves
    /// the read set for a while keeps its idle connections).
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    settings: PoolSettings,
    workers: usize,
    /// Spreads reads by weight (a counter, not a random draw: no lock, no RNG state).
    next: AtomicU64,
}

impl ReadSet {
    /// An empty read set whose replica pools get `settings`, sharded for `workers`.
    pub fn new(settings: PoolSettings, workers: usize) -> ReadSet {
        ReadSet {
            members: RwLock::new(Vec::new()),
            pools: Mutex::new(HashMap::new()),
            settings,
            workers,
            next: AtomicU64::new(0),
        }
    }

    /// The pool of the replica at `target`, made now if it has none yet.
    pub fn replica_pool(&self, target: StorageTarget, tls: Option<ClientTls>) -> Arc<Pool> {
        let key = format!("{}:{}", target.host, target.port);
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools
            .entry(key)
            .or_insert_with(|| Pool::with_tls(target, tls, self.settings.clone(), self.workers))
            .clone()
    }

    /// Tells the pool of the storage node at `host:port`, if it has one, whether the
    /// heartbeat reaches that node: while it does not, and whenever `down` turns true,
    /// its idle connections are closed (they are dead, or will be), so reads do not
    /// find out one by one.
    pub fn mark_down(&self, address: &str, down: bool) {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pool) = pools.get(address) {
            pool.mark_down(down);
        }
    }

    /// Replaces the members (the heartbeat's latest view).
    pub fn publish(&self, members: Vec<ReadMember>) {
        *self.members.write().unwrap_or_else(|p| p.into_inner()) = members;
    }

    /// The members now.
    pub fn members(&self) -> Vec<ReadMember> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The replica pool a read goes to, None for the primary: by weight among the
    /// replicas (and the primary when `with_primary`) that applied every write
    /// acknowledged before `written_at` (the session's last write on the data node).
    pub fn choose(&self, with_primary: bool, written_at: Option<Instant>) -> Option<Arc<Pool>> {
        let members = self.members.read().unwrap_or_else(|p| p.into_inner());
        let eligible = |m: &&ReadMember| {
            if m.primary {
                return with_primary;
            }
            match written_at {
                None => true,
                Some(w) => m.caught_up_to.is_some_and(|c| c > w),
            }
        };
        let total: u64 = members
            .iter()
            .filter(eligible)
            .map(|m| u64::from(m.weight))
            .sum();
        if total == 0 {
            return None;
        }
        let mut ticket = self.next.fetch_add(1, Ordering::Relaxed) % total;
        for m in members.iter().filter(eligible) {
            let w = u64::from(m.weight);
            if ticket < w {
                return (!m.primary).then(|| m.pool.clone());
            }
            ticket -= w;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use strata_catalog::DataNodeId;

    fn settings() -> PoolSettings {
        PoolSettings {
            min_idle: 0,
            max_size: 1,
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(1),
            acquire_timeout: Duration::from_secs(1),
            health_check_interval: Duration::from_secs(60),
        }
    }

    fn target(port: u16) -> StorageTarget {
        StorageTarget {
            dnid: DataNodeId::new(1),
            host: "127.0.0.1".into(),
            port,
            user: "u".into(),
            password: String::new(),
            database: "d".into(),
        }
    }

    #[tokio::test]
    async fn reads_spread_by_weight_and_skip_replicas_behind_the_sessions_writes() {
        let set = ReadSet::new(settings(), 1);
        let primary = Pool::new(target(1), settings(), 1);
        let a = set.replica_pool(target(2), None);
        let b = set.replica_pool(target(3), None);
        let early = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        let later = Instant::now();
        set.publish(vec![
            ReadMember {
                pool: primary,
                weight: 1,
                primary: true,
                caught_up_to: Some(later),
            },
            ReadMember {
                pool: a.clone(),
                weight: 1,
                primary: false,
                caught_up_to: Some(later),
            },
            ReadMember {
                pool: b.clone(),
                weight: 3,
                primary: false,
                caught_up_to: None,
            },
        ]);
        let port = |p: Option<Arc<Pool>>| p.map(|p| p.target().port);
        let picks: Vec<Option<u16>> = (0..8).map(|_| port(set.choose(false, None))).collect();
        assert_eq!(picks.iter().filter(|p| **p == Some(2)).count(), 2);
        assert_eq!(picks.iter().filter(|p| **p == Some(3)).count(), 6);
        let with_primary: Vec<Option<u16>> = (0..5).map(|_| port(set.choose(true, None))).collect();
        assert_eq!(with_primary.iter().filter(|p| p.is_none()).count(), 1);
        // After a write, only the replica known to have applied it qualifies.
        for _ in 0..4 {
            assert_eq!(port(set.choose(false, Some(early))), Some(2));
        }
        // A write newer than any replica's catch-up: the primary.
        assert_eq!(port(set.choose(false, Some(Instant::now()))), None);
        // The same replica gets the same pool.
        assert!(Arc::ptr_eq(&a, &set.replica_pool(target(2), None)));
    }
}
