//! A pool of connections to one storage node: bounded size, LIFO reuse, connect and
//! acquire timeouts, idle expiry, health checks and reconnection with backoff.
//!
//! Each open connection holds one semaphore permit, idle ones included, so the number of
//! connections never exceeds `max_size`. A `Lease` gives its connection back when it is
//! dropped, so no path can forget to return one; code that must keep a connection
//! across statements (a transaction, a cursor) simply keeps the lease.
//!
//! The storage node a pool connects to can change (failover promotes a replica):
//! `switch_target` points new connections at the new primary and drops idle ones;
//! connections to the old one are closed when they come back. `hold` makes new acquires
//! wait (bounded) while the switch is being prepared.
//!
//! Idle connections are kept per *shard*: shard 0 for the compute node's background
//! tasks, shard `i` for session worker thread `i` (see `set_thread_shard`). A socket is
//! driven by the reactor of the runtime that opened it, so a worker reuses only the
//! connections it opened itself: its statements never wait for another thread's event
//! loop. When the pool is full a worker closes another shard's idle connection and
//! opens its own.
//!
//! Each shard keeps two idle lists, one per [`RowCounting`]: a connection counts
//! affected rows the way its login asked for all its life, and a session borrows the
//! kind its client asked for.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, warn};

use strata_protocol::ClientTls;

use crate::conn::{BackendConn, RowCounting, StorageTarget};
use crate::BackendError;
use strata_catalog::DataNodeId;

/// Limits and timings of one pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Idle connections kept open.
    pub min_idle: usize,
    /// Most connections open at once.
    pub max_size: usize,
    /// Idle connections above `min_idle` are closed after this long.
    pub idle_timeout: Duration,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Give up waiting for a connection after this long.
    pub acquire_timeout: Duration,
    /// Ping idle connections and top the pool up this often.
    pub health_check_interval: Duration,
}

thread_local! {
    static THREAD_SHARD: Cell<usize> = const { Cell::new(0) };
}

/// Declares that this thread is session worker `shard` (1-based; 0, the default, is
/// the background shard): connections it opens are pooled for it alone.
pub fn set_thread_shard(shard: usize) {
    THREAD_SHARD.with(|s| s.set(shard));
}

fn thread_shard() -> usize {
    THREAD_SHARD.with(Cell::get)
}

/// How long `Pool::shutdown` spends saying COM_QUIT to idle connections.
const QUIT_TIME_LIMIT: Duration = Duration::from_secs(1);

/// An open connection with the permit it holds: what the idle lists keep and what a
/// lease lends.
struct Pooled {
    /// Boxed: a connection moves between the pool, the session and its pinned list
    /// several times per statement.
    conn: Box<BackendConn>,
    permit: OwnedSemaphorePermit,
    /// The idle list it returns to: the shard of the thread that opened it and its
    /// kind (see `Pool::list`).
    home: usize,
    /// The pool's epoch when it was opened (see `Pool::renew`).
    epoch: u64,
}

impl Pooled {
    /// False for a connection that broke, is inside a transaction, or has a reply
    /// still coming (a statement abandoned halfway): it is closed, not pooled.
    fn reusable(&self) -> bool {
        let conn = &self.conn;
        !conn.is_broken() && !conn.in_transaction() && !conn.awaits_reply()
    }
}

/// A connection lent to a session. Dropping it gives it back to its pool (a broken
/// one, one left inside a transaction or one with a reply still coming is closed
/// there instead of pooled); whoever must keep the connection across statements keeps
/// the lease.
pub struct Lease {
    /// Always `Some` until `Drop` takes it out.
    pooled: Option<Pooled>,
    /// The pool the connection belongs to; when that pool is gone (its data node was
    /// reconfigured) the connection is closed.
    pool: Weak<Pool>,
}

impl Lease {
    fn pooled(&self) -> &Pooled {
        match &self.pooled {
            Some(p) => p,
            // Only `drop` empties a lease, and nothing uses it after that.
            None => unreachable!("a lease used after it was returned"),
        }
    }
}

impl std::ops::Deref for Lease {
    type Target = BackendConn;
    fn deref(&self) -> &BackendConn {
        &self.pooled().conn
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut BackendConn {
        match &mut self.pooled {
            Some(p) => &mut p.conn,
            None => unreachable!("a lease used after it was returned"),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(pooled) = self.pooled.take() else {
            return;
        };
        match self.pool.upgrade() {
            Some(pool) => pool.give_back(pooled),
            // Its pool was replaced: closing the connection frees the permit.
            None => drop(pooled),
        }
    }
}

/// Connections to one storage node.
pub struct Pool {
    /// This pool, for the leases it lends (they give themselves back on drop).
    me: Weak<Pool>,
    /// The data node (never changes, unlike the storage node serving it).
    dnid: DataNodeId,
    /// The storage node new connections go to (swapped by failover).
    target: RwLock<Arc<StorageTarget>>,
    /// TLS for every connection of this pool (health checks included), or None.
    tls: RwLock<Option<ClientTls>>,
    /// Set while the data node fails over: acquires wait for `switched` (bounded by
    /// the hold's deadline) instead of reaching a storage node.
    held: AtomicBool,
    /// When a hold set by `hold` ends on its own.
    held_until: Mutex<Option<Instant>>,
    /// Most acquires that may wait on the current hold; the others fail at once.
    held_max: AtomicUsize,
    /// Acquires waiting on a hold now.
    held_waiting: AtomicUsize,
    /// Set during a planned switchover's drain: the old primary still takes writes,
    /// so a transaction already open elsewhere is let through to finish (holding it
    /// could leave another transaction, waiting on its row locks, undrained).
    admit_open: AtomicBool,
    /// Wakes acquires waiting on a hold.
    switched: Notify,
    /// Signalled when a connect fails, so the heartbeat looks at the node at once.
    connect_failed: Notify,
    /// Set while the heartbeat cannot reach the storage node (see `mark_down`).
    down: AtomicBool,
    settings: PoolSettings,
    /// Idle connections per shard and kind (see `list`), most recently used last.
    idle: Box<[Mutex<Vec<Pooled>>]>,
    permits: Arc<Semaphore>,
    returned: Notify,
    closed: AtomicBool,
    /// Wakes the health task to end when the pool is closed (shared with the task,
    /// which holds no strong reference to the pool while it waits).
    closing: Arc<Notify>,
    /// Consecutive failed connects, for backoff in the health task.
    failures: AtomicU64,
    /// Failed connects since the pool was made (for the metrics).
    connect_errors: AtomicU64,
    /// Acquires that found no idle connection (connected or waited), and their total
    /// time in microseconds (for the metrics; the common idle case is not timed).
    acquire_waits: AtomicU64,
    acquire_wait_us: AtomicU64,
    /// Sessions waiting for a connection right now.
    waiters: std::sync::atomic::AtomicUsize,
    /// The latest failed connect's error, cleared by the next successful one.
    last_error: Mutex<Option<String>>,
    /// The version the storage node announced on the latest connect; the compute
    /// node presents an identity derived from it.
    server_version: Mutex<Option<Arc<str>>>,
    /// Bumped by `renew`: connections opened under an older epoch are not lent again.
    epoch: AtomicU64,
}

impl Pool {
    /// Creates a pool with idle lists for `workers` session threads plus the background
    /// shard, and starts its health task; connections open on demand, in clear text.
    pub fn new(target: StorageTarget, settings: PoolSettings, workers: usize) -> Arc<Pool> {
        Pool::with_tls(target, None, settings, workers)
    }

    /// Like `new`, with the pool's TLS settings given explicitly.
    pub fn with_tls(
        target: StorageTarget,
        tls: Option<ClientTls>,
        settings: PoolSettings,
        workers: usize,
    ) -> Arc<Pool> {
        let pool = Arc::new_cyclic(|me| Pool {
            me: me.clone(),
            dnid: target.dnid,
            target: RwLock::new(Arc::new(target)),
            tls: RwLock::new(tls),
            held: AtomicBool::new(false),
            held_until: Mutex::new(None),
            held_max: AtomicUsize::new(usize::MAX),
            held_waiting: AtomicUsize::new(0),
            admit_open: AtomicBool::new(false),
            switched: Notify::new(),
            connect_failed: Notify::new(),
            down: AtomicBool::new(false),
            permits: Arc::new(Semaphore::new(settings.max_size.max(1))),
            settings,
            idle: (0..Pool::list(workers + 1, RowCounting::Found))
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
            returned: Notify::new(),
            closed: AtomicBool::new(false),
            closing: Arc::new(Notify::new()),
            failures: AtomicU64::new(0),
            connect_errors: AtomicU64::new(0),
            acquire_waits: AtomicU64::new(0),
            acquire_wait_us: AtomicU64::new(0),
            waiters: std::sync::atomic::AtomicUsize::new(0),
            last_error: Mutex::new(None),
            server_version: Mutex::new(None),
            epoch: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&pool);
        let closing = pool.closing.clone();
        tokio::spawn(async move {
            loop {
                let interval = match weak.upgrade() {
                    Some(p) if !p.closed.load(Ordering::Relaxed) => p.backoff_interval(),
                    _ => return,
                };
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    // `close` leaves a permit when the task is not waiting right then.
                    _ = closing.notified() => return,
                }
                match weak.upgrade() {
                    Some(p) if !p.closed.load(Ordering::Relaxed) => p.maintain().await,
                    _ => return,
                }
            }
        });
        pool
    }

    /// The storage node this pool connects to now.
    pub fn target(&self) -> Arc<StorageTarget> {
        self.target
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The TLS settings of this pool's connections (None: clear text).
    pub fn tls(&self) -> Option<ClientTls> {
        self.tls.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes acquires wait, at most `limit`, until `switch_target` or `release_hold`
    /// (failover is choosing the new primary); beyond `max_waiting` acquires waiting,
    /// the next ones fail at once, so a long switch cannot pile up unbounded work.
    pub fn hold(&self, limit: Duration, max_waiting: usize) {
        self.admit_open.store(false, Ordering::Relaxed);
        *self.held_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + limit);
        self.held_max.store(max_waiting, Ordering::Relaxed);
        self.held.store(true, Ordering::Release);
    }

    /// A hold for a planned switchover: as [`Self::hold`], except that acquires of
    /// transactions already open ([`Self::acquire_in_transaction`]) go on to the old
    /// primary until [`Self::stop_admitting`], so the drain can finish them.
    pub fn hold_for_switchover(&self, limit: Duration, max_waiting: usize) {
        self.hold(limit, max_waiting);
        self.admit_open.store(true, Ordering::Release);
    }

    /// Ends the drain's exception: from now on every acquire waits on the hold (the
    /// old primary is about to be made read-only).
    pub fn stop_admitting(&self) {
        self.admit_open.store(false, Ordering::Release);
    }

    /// Ends a hold without switching (failover gave up): waiting acquires go on to the
    /// current target.
    pub fn release_hold(&self) {
        self.admit_open.store(false, Ordering::Relaxed);
        self.held.store(false, Ordering::Release);
        self.switched.notify_waiters();
    }

    /// Points the pool at another storage node (the promoted primary): idle connections
    /// are closed now, lent ones when they come back, and held acquires go on.
    pub fn switch_target(&self, target: StorageTarget, tls: Option<ClientTls>) {
        *self.target.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(target);
        *self.tls.write().unwrap_or_else(|p| p.into_inner()) = tls;
        self.failures.store(0, Ordering::Relaxed);
        self.down.store(false, Ordering::Relaxed);
        self.close_idle();
        self.returned.notify_waiters();
        self.release_hold();
    }

    /// Records whether the heartbeat reaches the storage node. When it stops, idle
    /// connections are closed (they are dead, or will be), so sessions do not find out
    /// one by one; sessions send statements that need no particular data node elsewhere
    /// while `is_down` says so.
    pub fn mark_down(&self, down: bool) {
        if down && !self.down.swap(true, Ordering::Relaxed) {
            self.close_idle();
        } else if !down {
            self.down.store(false, Ordering::Relaxed);
        }
    }

    /// True while the heartbeat cannot reach the storage node.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    fn close_idle(&self) {
        for shard in 0..self.idle.len() {
            let stale = std::mem::take(&mut *self.idle_guard(shard));
            drop(stale);
        }
    }

    /// True while a hold is set (acquires wait or fail).
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// Acquires waiting on a hold right now.
    pub fn held_waiting(&self) -> usize {
        self.held_waiting.load(Ordering::Relaxed)
    }

    /// Waits while the pool is held; Err when the hold outlives its limit, or when
    /// as many acquires as the hold allows wait already.
    async fn wait_hold(&self) -> Result<(), BackendError> {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let before = self.held_waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.held_waiting);
        let max = self.held_max.load(Ordering::Relaxed);
        if before >= max && self.held.load(Ordering::Acquire) {
            return Err(BackendError::HoldQueueFull(self.dnid, max));
        }
        loop {
            let switched = self.switched.notified();
            if !self.held.load(Ordering::Acquire) {
                return Ok(());
            }
            let until = *self.held_until.lock().unwrap_or_else(|p| p.into_inner());
            let Some(until) = until else { return Ok(()) };
            let now = Instant::now();
            if now >= until {
                return Err(BackendError::FailingOver(self.dnid));
            }
            let _ = tokio::time::timeout(until - now, switched).await;
        }
    }

    /// Connections lent right now (to sessions or pinned by them).
    pub fn lent_count(&self) -> usize {
        self.open_count().saturating_sub(self.idle_count())
    }

    /// Waits until no connection is lent, at most `limit` (a planned switchover lets
    /// running statements finish); returns how many still are.
    pub async fn drain(&self, limit: Duration) -> usize {
        // Polled, not woken by `returned`: taking its notifications would starve an
        // acquire waiting for a connection.
        const POLL: Duration = Duration::from_millis(5);
        let deadline = Instant::now() + limit;
        loop {
            let lent = self.lent_count();
            if lent == 0 || Instant::now() >= deadline {
                return lent;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Resolves after a connect to the pool's storage node failed (a permit is kept
    /// when nobody waits, so one failure is never missed).
    pub async fn connect_failure(&self) {
        self.connect_failed.notified().await;
    }

    /// Whether a connection still points at the storage node the pool serves.
    /// Connections opened before now are not lent again: idle ones are closed now,
    /// lent ones when they come back. For a server-wide setting that a storage
    /// session takes at login (`max_allowed_packet`) and that just changed, so that
    /// sessions from now on get connections with the new value.
    pub fn renew(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.close_idle();
    }

    fn is_current(&self, pooled: &Pooled) -> bool {
        pooled.epoch == self.epoch.load(Ordering::SeqCst)
            && Arc::ptr_eq(
                pooled.conn.target(),
                &self.target.read().unwrap_or_else(|p| p.into_inner()),
            )
    }

    fn idle_guard(&self, shard: usize) -> std::sync::MutexGuard<'_, Vec<Pooled>> {
        self.idle[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The idle list of `shard`'s connections of kind `counting`.
    fn list(shard: usize, counting: RowCounting) -> usize {
        shard * 2
            + match counting {
                RowCounting::Found => 0,
                RowCounting::Changed => 1,
            }
    }

    /// The kind of the connections of idle list `list`.
    fn kind_of(list: usize) -> RowCounting {
        if list.is_multiple_of(2) {
            RowCounting::Found
        } else {
            RowCounting::Changed
        }
    }

    /// The calling thread's idle list for `counting` (the background shard's for
    /// threads this pool was not sized for).
    fn own_list(&self, counting: RowCounting) -> usize {
        let list = Pool::list(thread_shard(), counting);
        if list < self.idle.len() {
            list
        } else {
            Pool::list(0, counting)
        }
    }

    /// The version the storage node announced on the latest connect, None until one
    /// connect succeeded.
    pub fn server_version(&self) -> Option<Arc<str>> {
        self.server_version
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Number of idle connections.
    pub fn idle_count(&self) -> usize {
        (0..self.idle.len()).map(|s| self.idle_guard(s).len()).sum()
    }

    /// Number of open connections, idle and lent.
    pub fn open_count(&self) -> usize {
        self.settings.max_size.max(1) - self.permits.available_permits()
    }

    /// Most connections the pool opens.
    pub fn max_size(&self) -> usize {
        self.settings.max_size.max(1)
    }

    /// Sessions waiting for a connection right now (the pool is exhausted).
    pub fn waiter_count(&self) -> usize {
        self.waiters.load(Ordering::Relaxed)
    }

    /// Failed connects since the pool was made.
    pub fn connect_error_count(&self) -> u64 {
        self.connect_errors.load(Ordering::Relaxed)
    }

    /// Acquires that found no idle connection, and their total time: (count, seconds).
    pub fn acquire_waits(&self) -> (u64, f64) {
        (
            self.acquire_waits.load(Ordering::Relaxed),
            self.acquire_wait_us.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }

    /// True while the latest connect failed (the storage node looks down).
    pub fn is_failing(&self) -> bool {
        self.failures.load(Ordering::Relaxed) > 0
    }

    /// The latest failed connect's error, until a connect succeeds again.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Thread ids and idle times of the idle connections (for the admin port).
    pub fn idle_connections(&self) -> Vec<(u32, Duration)> {
        let mut out = Vec::new();
        for s in 0..self.idle.len() {
            out.extend(
                self.idle_guard(s)
                    .iter()
                    .map(|l| (l.conn.thread_id(), l.conn.last_used().elapsed())),
            );
        }
        out
    }

    fn take_idle(&self, list: usize, want_db: Option<&str>) -> Option<Lease> {
        let mut idle = self.idle_guard(list);
        // Most recently used first: its caches are warm.
        let pos = idle.iter().rposition(|p| match want_db {
            None => p.conn.applied_db().is_none(),
            Some(_) => true,
        })?;
        let pooled = idle.remove(pos);
        drop(idle);
        if !self.is_current(&pooled) {
            // Put back by the upkeep while `renew` ran: closed, and the next one tried.
            drop(pooled);
            return self.take_idle(list, want_db);
        }
        Some(self.lend(pooled))
    }

    fn lend(&self, pooled: Pooled) -> Lease {
        Lease {
            pooled: Some(pooled),
            pool: self.me.clone(),
        }
    }

    /// Closes the least recently used idle connection, the calling thread's list first, and
    /// hands over its permit.
    fn evict_one_idle(&self, list: usize) -> Option<OwnedSemaphorePermit> {
        let others = (0..self.idle.len()).filter(|s| *s != list);
        for s in std::iter::once(list).chain(others) {
            let mut idle = self.idle_guard(s);
            if !idle.is_empty() {
                let pooled = idle.remove(0);
                drop(idle);
                return Some(pooled.permit);
            }
        }
        None
    }

    /// Lends a connection counting found rows; `want_db` None asks for one that never
    /// selected a database.
    pub async fn acquire(&self, want_db: Option<&str>) -> Result<Lease, BackendError> {
        self.acquire_counting(want_db, RowCounting::Found).await
    }

    /// Lends a connection whose affected rows count as `counting` says (a client
    /// session's kind); `want_db` as for [`Self::acquire`].
    pub async fn acquire_counting(
        &self,
        want_db: Option<&str>,
        counting: RowCounting,
    ) -> Result<Lease, BackendError> {
        self.acquire_as(want_db, counting, false).await
    }

    /// As [`Self::acquire_counting`], for a transaction that already has work on
    /// another data node: a planned switchover's drain lets it through (see
    /// [`Self::hold_for_switchover`]).
    pub async fn acquire_in_transaction(
        &self,
        want_db: Option<&str>,
        counting: RowCounting,
    ) -> Result<Lease, BackendError> {
        self.acquire_as(want_db, counting, true).await
    }

    async fn acquire_as(
        &self,
        want_db: Option<&str>,
        counting: RowCounting,
        in_transaction: bool,
    ) -> Result<Lease, BackendError> {
        let list = self.own_list(counting);
        if self.closed.load(Ordering::Relaxed) {
            return Err(BackendError::PoolClosed(self.dnid));
        }
        if self.held.load(Ordering::Acquire)
            && !(in_transaction && self.admit_open.load(Ordering::Acquire))
        {
            self.wait_hold().await?;
        }
        // The common case: an idle connection of this thread, no clock read needed.
        if let Some(lease) = self.take_idle(list, want_db) {
            return Ok(lease);
        }
        let started = Instant::now();
        let result = self.acquire_slow(list, want_db, started).await;
        self.acquire_waits.fetch_add(1, Ordering::Relaxed);
        self.acquire_wait_us
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        result
    }

    /// An acquire that found no idle connection at first: opens one, or waits for one
    /// to come back, until the acquire timeout.
    async fn acquire_slow(
        &self,
        list: usize,
        want_db: Option<&str>,
        started: Instant,
    ) -> Result<Lease, BackendError> {
        let deadline = started + self.settings.acquire_timeout;
        loop {
            if self.closed.load(Ordering::Relaxed) {
                return Err(BackendError::PoolClosed(self.dnid));
            }
            if let Some(lease) = self.take_idle(list, want_db) {
                return Ok(lease);
            }
            let permit = match self.permits.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => self.evict_one_idle(list),
            };
            if let Some(permit) = permit {
                return self.open(permit, list).await.map(|p| self.lend(p));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(BackendError::PoolTimeout(
                    self.dnid,
                    self.settings.acquire_timeout.as_millis() as u64,
                ));
            }
            let wait = self.returned.notified();
            self.waiters.fetch_add(1, Ordering::Relaxed);
            // A returned lease or the deadline: the loop tells which.
            let _ = tokio::time::timeout(deadline - now, wait).await;
            self.waiters.fetch_sub(1, Ordering::Relaxed);
        }
    }

    async fn open(
        &self,
        permit: OwnedSemaphorePermit,
        home: usize,
    ) -> Result<Pooled, BackendError> {
        // Read before connecting: a `renew` while this connects counts it as old.
        let epoch = self.epoch.load(Ordering::SeqCst);
        let tls = self.tls();
        let timeout = self.settings.connect_timeout;
        let counting = Pool::kind_of(home);
        match BackendConn::connect_counting(self.target(), tls.as_ref(), timeout, counting).await {
            Ok(conn) => {
                if self.failures.swap(0, Ordering::Relaxed) > 0 {
                    *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                // Read on every connect: an upgraded or failed-over storage node may
                // announce another version.
                *self
                    .server_version
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(conn.server_version().clone());
                Ok(Pooled {
                    conn: Box::new(conn),
                    permit,
                    home,
                    epoch,
                })
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.connect_errors.fetch_add(1, Ordering::Relaxed);
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                self.connect_failed.notify_one();
                Err(e)
            }
        }
    }

    /// Takes a connection back from a dropped lease; ones that are not `reusable` are
    /// closed. One carrying a session's `wait_timeout` gets the storage
    /// node's own back first (in a task: the dropping code does not wait), since the
    /// storage node would otherwise close it while it waits here and its next borrower
    /// would fail.
    fn give_back(self: Arc<Self>, mut pooled: Pooled) {
        if pooled.reusable() && pooled.conn.idle_time_limited() {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                // No runtime to run the reset on (shutting down): close it.
                drop(pooled);
                self.returned.notify_one();
                return;
            };
            runtime.spawn(async move {
                if pooled.conn.restore_idle_limits().await.is_err() {
                    pooled.conn.mark_broken();
                }
                self.park(pooled);
            });
            return;
        }
        self.park(pooled);
    }

    /// Puts a connection in its idle list, or closes it when it cannot be reused.
    fn park(&self, pooled: Pooled) {
        if !pooled.reusable() || self.closed.load(Ordering::Relaxed) || !self.is_current(&pooled) {
            debug!(
                dnid = self.dnid.get(),
                "closing storage connection instead of pooling it"
            );
            drop(pooled);
        } else {
            self.idle_guard(pooled.home).push(pooled);
        }
        self.returned.notify_one();
    }

    fn backoff_interval(&self) -> Duration {
        let failures = self.failures.load(Ordering::Relaxed).min(6) as u32;
        if failures == 0 {
            self.settings.health_check_interval
        } else {
            // 100 ms, 200 ms, ... up to 6.4 s while the storage node is unreachable.
            Duration::from_millis(100 * 2u64.pow(failures)).min(self.settings.health_check_interval)
        }
    }

    /// One round of upkeep: ping idle connections, expire surplus ones, top up to `min_idle`.
    async fn maintain(&self) {
        let mut kept_total = 0;
        for shard in 0..self.idle.len() {
            // Only connections idle long enough are taken out (to be pinged or expired);
            // the others stay available to sessions meanwhile.
            let now = Instant::now();
            let due = |p: &Pooled| {
                let idle_for = now.saturating_duration_since(p.conn.last_used());
                idle_for >= self.settings.health_check_interval
                    || idle_for >= self.settings.idle_timeout
            };
            let checked: Vec<Pooled> = {
                let mut idle = self.idle_guard(shard);
                let (due, fresh): (Vec<Pooled>, Vec<Pooled>) = idle.drain(..).partition(due);
                *idle = fresh;
                kept_total += idle.len();
                due
            };
            let mut kept = Vec::with_capacity(checked.len());
            for mut pooled in checked {
                let idle_for = now.saturating_duration_since(pooled.conn.last_used());
                if kept_total >= self.settings.min_idle && idle_for >= self.settings.idle_timeout {
                    continue;
                }
                if idle_for >= self.settings.health_check_interval
                    && pooled.conn.ping().await.is_err()
                {
                    warn!(
                        dnid = self.dnid.get(),
                        "dropping a storage connection that failed its health check"
                    );
                    continue;
                }
                kept_total += 1;
                kept.push(pooled);
            }
            // Back in front: the least recently used end.
            let mut idle = self.idle_guard(shard);
            kept.append(&mut idle);
            *idle = kept;
        }
        while self.idle_count() < self.settings.min_idle && !self.closed.load(Ordering::Relaxed) {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            match self.open(permit, self.own_list(RowCounting::Found)).await {
                Ok(pooled) => self.park(pooled),
                Err(e) => {
                    warn!(dnid = self.dnid.get(), error = %e, "cannot open a storage connection; will retry");
                    break;
                }
            }
        }
    }

    /// Closes idle connections (dropping them) and refuses further acquires.
    pub fn close(&self) {
        drop(self.take_all_idle());
    }

    /// Like `close`, but says COM_QUIT on each idle connection first, so the storage
    /// node ends those sessions at once.
    pub async fn shutdown(&self) {
        let idle = self.take_all_idle();
        // A storage node that does not answer must not hold up the shutdown; whatever
        // is left when time is up is dropped (closed without COM_QUIT).
        let _ = tokio::time::timeout(QUIT_TIME_LIMIT, async move {
            for pooled in idle {
                pooled.conn.quit().await;
            }
        })
        .await;
    }

    fn take_all_idle(&self) -> Vec<Pooled> {
        self.closed.store(true, Ordering::Relaxed);
        self.closing.notify_one();
        let mut all = Vec::new();
        for shard in 0..self.idle.len() {
            all.append(&mut self.idle_guard(shard));
        }
        self.returned.notify_waiters();
        all
    }
}
