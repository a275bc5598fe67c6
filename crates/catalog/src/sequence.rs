//! Global AUTO_INCREMENT values (HotDB mode 1): unique and increasing per table across
//! all data nodes, handed out from batches reserved durably in the metadata store.
//!
//! A batch is committed to the store (`MetadataStore::reserve_batch`) before any of its
//! values is handed out, so a crash never reissues a value; the unused rest of a batch is
//! skipped (gaps are allowed). Each table's sequence is a small mutex-guarded state; a
//! background thread reserves the next batch when half of the current one is used, and
//! the batch size doubles while batches last less than a second, so the fast path never
//! waits for the disk. `observe` moves a sequence above an explicitly inserted value,
//! durably, before any later value is handed out. Dropping [`Sequences`] writes nothing:
//! everything that matters is already durable.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::CatalogError;
use crate::store::MetadataStore;

/// First batch size of a sequence.
const INITIAL_BATCH: u64 = 128;
/// Smallest batch size after shrinking.
const MIN_BATCH: u64 = 16;
/// Largest batch size (the most values a crash can skip per table is twice this).
const MAX_BATCH: u64 = 1 << 17;
/// Batches used up faster than this grow.
const GROW_BELOW: Duration = Duration::from_secs(1);
/// Batches lasting longer than this shrink.
const SHRINK_ABOVE: Duration = Duration::from_secs(60);

/// The store counter behind the AUTO_INCREMENT sequence of `db`.`table`. The database
/// name has '%' and '/' escaped (names without them, all older ones, are unchanged), so
/// the first '/' after it ends it and the name is unambiguous.
pub fn counter_name(db: &str, table: &str) -> String {
    let db = db.replace('%', "%25").replace('/', "%2F");
    format!("auto_increment/{db}/{table}")
}

/// The AUTO_INCREMENT sequences of one catalog; share it by reference (`Send + Sync`).
pub struct Sequences {
    shared: Arc<Shared>,
    refill: Option<Sender<Arc<Sequence>>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sequences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequences").finish_non_exhaustive()
    }
}

struct Shared {
    store: Arc<MetadataStore>,
    by_db: RwLock<HashMap<String, HashMap<String, Arc<Sequence>>>>,
}

/// One table's sequence.
struct Sequence {
    counter: String,
    state: Mutex<State>,
    ready: Condvar,
}

/// Values `next..end` are reserved durably and not yet handed out.
struct State {
    next: u64,
    end: u64,
    /// The batch after this one, reserved ahead of time.
    prefetched: Option<Range<u64>>,
    /// A reservation is in flight (background or synchronous).
    refilling: bool,
    /// Size of the next reservation.
    batch: u64,
    /// No value below this may be handed out (raised by `observe`).
    floor: u64,
    /// When the last batch arrived.
    last_batch_at: Option<Instant>,
}

impl Sequence {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// Takes a freshly reserved batch into account: trims it to the floor and adapts the
    /// batch size to how long the previous batch lasted.
    fn trimmed(&mut self, range: Range<u64>) -> Range<u64> {
        let now = Instant::now();
        if let Some(at) = self.last_batch_at {
            let lasted = now.duration_since(at);
            if lasted < GROW_BELOW {
                self.batch = (self.batch * 2).min(MAX_BATCH);
            } else if lasted > SHRINK_ABOVE {
                self.batch = (self.batch / 2).max(MIN_BATCH);
            }
        }
        self.last_batch_at = Some(now);
        let start = range.start.max(self.floor);
        start..range.end.max(start)
    }

    fn make_current(&mut self, range: Range<u64>) {
        self.next = range.start;
        self.end = range.end;
    }
}

impl Sequences {
    /// Sequences over `store`, with a background thread reserving batches ahead.
    pub fn new(store: Arc<MetadataStore>) -> Sequences {
        let shared = Arc::new(Shared {
            store,
            by_db: RwLock::new(HashMap::new()),
        });
        let (tx, rx) = mpsc::channel::<Arc<Sequence>>();
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("strata-autoinc".into())
            .spawn(move || {
                for seq in rx {
                    worker_shared.prefetch(&seq);
                }
            });
        match worker {
            Ok(handle) => Sequences {
                shared,
                refill: Some(tx),
                worker: Some(handle),
            },
            Err(e) => {
                tracing::warn!(error = %e, "no AUTO_INCREMENT prefetch thread; batches are reserved on demand");
                Sequences {
                    shared,
                    refill: None,
                    worker: None,
                }
            }
        }
    }

    /// `n` consecutive values for a multi-row insert into `db`.`table` (empty for 0),
    /// each above every value handed out or observed before.
    pub fn next(&self, db: &str, table: &str, n: u64) -> Result<Range<u64>, CatalogError> {
        let seq = self.shared.sequence(db, table);
        let mut st = seq.lock();
        loop {
            if st.end - st.next >= n {
                let start = st.next;
                st.next += n;
                self.maybe_prefetch(&seq, &mut st);
                return Ok(start..start + n);
            }
            if let Some(batch) = st.prefetched.take() {
                // What is left of the current batch is too small: skip it.
                let batch = batch.start.max(st.floor)..batch.end.max(st.floor);
                st.make_current(batch);
                continue;
            }
            if st.refilling {
                st = seq.ready.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Nothing reserved ahead: reserve now, without holding the lock.
            st.refilling = true;
            let size = st.batch.max(n);
            drop(st);
            let reserved = self.shared.store.reserve_batch(&seq.counter, size);
            st = seq.lock();
            st.refilling = false;
            seq.ready.notify_all();
            let batch = st.trimmed(reserved?);
            st.make_current(batch);
        }
    }

    /// Records an explicitly inserted value: later values of `db`.`table` are above it.
    /// When the value is beyond what is reserved, the counter is raised durably before
    /// this returns.
    pub fn observe(&self, db: &str, table: &str, value: u64) -> Result<(), CatalogError> {
        let seq = self.shared.sequence(db, table);
        let mut st = seq.lock();
        if st.next > value {
            return Ok(());
        }
        let above = value
            .checked_add(1)
            .ok_or_else(|| CatalogError::CounterExhausted(seq.counter.clone()))?;
        if value < st.end {
            st.next = above;
            return Ok(());
        }
        st.floor = st.floor.max(above);
        if let Some(batch) = st.prefetched.take() {
            if batch.end > above {
                st.make_current(above.max(batch.start)..batch.end);
                return Ok(());
            }
        }
        // Hold the lock across the write: nothing is handed out until it is durable.
        self.shared.store.raise_counter(&seq.counter, above)?;
        st.make_current(above..above);
        Ok(())
    }

    /// The value `next` would hand out now (for SHOW CREATE TABLE's AUTO_INCREMENT).
    pub fn peek(&self, db: &str, table: &str) -> Result<u64, CatalogError> {
        let seq = self.shared.sequence(db, table);
        let st = seq.lock();
        if st.next < st.end {
            return Ok(st.next);
        }
        if let Some(batch) = &st.prefetched {
            return Ok(batch.start.max(st.floor));
        }
        let stored = self.shared.store.counter(&seq.counter)?.unwrap_or(1);
        Ok(stored.max(st.floor))
    }

    /// Forgets the in-memory state of a table's sequence (after DROP or RENAME TABLE);
    /// values reserved for it are skipped.
    pub fn forget(&self, db: &str, table: &str) {
        let mut by_db = self.shared.write();
        if let Some(tables) = by_db.get_mut(db) {
            tables.remove(table);
        }
    }

    /// Forgets every sequence of a database.
    pub fn forget_database(&self, db: &str) {
        self.shared.write().remove(db);
    }

    /// Asks the background thread for the next batch once half of this one is used.
    fn maybe_prefetch(&self, seq: &Arc<Sequence>, st: &mut State) {
        if st.prefetched.is_some() || st.refilling || (st.end - st.next) * 2 >= st.batch {
            return;
        }
        if let Some(tx) = &self.refill {
            st.refilling = tx.send(Arc::clone(seq)).is_ok();
        }
    }
}

impl Shared {
    fn sequence(&self, db: &str, table: &str) -> Arc<Sequence> {
        if let Some(seq) = self.read().get(db).and_then(|t| t.get(table)) {
            return Arc::clone(seq);
        }
        let mut by_db = self.write();
        let seq = by_db
            .entry(db.to_string())
            .or_default()
            .entry(table.to_string())
            .or_insert_with(|| {
                Arc::new(Sequence {
                    counter: counter_name(db, table),
                    state: Mutex::new(State {
                        next: 0,
                        end: 0,
                        prefetched: None,
                        refilling: false,
                        batch: INITIAL_BATCH,
                        floor: 0,
                        last_batch_at: None,
                    }),
                    ready: Condvar::new(),
                })
            });
        Arc::clone(seq)
    }

    /// Background reservation of the batch after the current one.
    fn prefetch(&self, seq: &Sequence) {
        let size = seq.lock().batch;
        let reserved = self.store.reserve_batch(&seq.counter, size);
        let mut st = seq.lock();
        st.refilling = false;
        match reserved {
            Ok(range) => {
                let batch = st.trimmed(range);
                if st.next == st.end {
                    st.make_current(batch);
                } else if !batch.is_empty() {
                    st.prefetched = Some(batch);
                }
            }
            Err(e) => {
                tracing::warn!(counter = %seq.counter, error = %e, "AUTO_INCREMENT batch reservation failed; retrying on demand");
            }
        }
        seq.ready.notify_all();
    }

    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<String, HashMap<String, Arc<Sequence>>>> {
        self.by_db.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<String, HashMap<String, Arc<Sequence>>>> {
        self.by_db.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Sequences {
    fn drop(&mut self) {
        // Closing the channel ends the worker after its current reservation.
        self.refill = None;
        if let Some(worker) = self.worker.take() {
            if worker.join().is_err() {
                tracing::warn!("AUTO_INCREMENT prefetch thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use super::*;

    fn store(dir: &Path) -> Arc<MetadataStore> {
        Arc::new(MetadataStore::open(dir).unwrap_or_else(|e| panic!("{e}")))
    }

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn values_are_contiguous_per_call_and_increasing() -> Result<(), CatalogError> {
        let dir = tempdir();
        let seqs = Sequences::new(store(dir.path()));
        assert_eq!(seqs.next("shop", "orders", 1)?, 1..2);
        assert_eq!(seqs.next("shop", "orders", 3)?, 2..5);
        assert!(seqs.next("shop", "orders", 0)?.is_empty());
        assert_eq!(
            seqs.next("shop", "other", 2)?,
            1..3,
            "sequences are per table"
        );
        let big = seqs.next("shop", "orders", 10_000)?;
        assert_eq!(big.end - big.start, 10_000);
        assert!(big.start >= 5);
        let after = seqs.next("shop", "orders", 1)?;
        assert!(after.start >= big.end);
        Ok(())
    }

    #[test]
    fn threads_get_unique_increasing_values() -> Result<(), CatalogError> {
        let dir = tempdir();
        let seqs = Arc::new(Sequences::new(store(dir.path())));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let seqs = Arc::clone(&seqs);
                std::thread::spawn(move || -> Result<Vec<u64>, CatalogError> {
                    let mut got = Vec::new();
                    for i in 0..20_000u64 {
                        let n = 1 + (i + t) % 3;
                        got.extend(seqs.next("shop", "orders", n)?);
                    }
                    Ok(got)
                })
            })
            .collect();
        let mut seen = HashSet::new();
        let mut total = 0;
        for t in threads {
            let values = t
                .join()
                .map_err(|_| CatalogError::Invalid("thread panicked".into()))??;
            assert!(
                values.windows(2).all(|w| w[0] < w[1]),
                "increasing per thread"
            );
            total += values.len();
            for v in values {
                assert!(seen.insert(v), "value {v} handed out twice");
            }
        }
        assert_eq!(seen.len(), total);
        assert!(total > 4 * 20_000);
        Ok(())
    }

    #[test]
    fn the_stored_counter_is_always_above_every_value_handed_out() -> Result<(), CatalogError> {
        // What a crash leaves behind is the stored counter: it must already be past
        // every value handed out, at every moment, without any shutdown step.
        let dir = tempdir();
        let store = store(dir.path());
        let seqs = Sequences::new(Arc::clone(&store));
        for i in 0..5_000u64 {
            let r = seqs.next("shop", "t", 1 + i % 7)?;
            if i % 97 == 0 {
                let stored = store.counter(&counter_name("shop", "t"))?.unwrap_or(0);
                assert!(stored >= r.end, "stored {stored} < handed out {}", r.end);
            }
        }
        Ok(())
    }

    #[test]
    fn no_value_is_reissued_after_reopening() -> Result<(), CatalogError> {
        let dir = tempdir();
        let mut max = 0;
        for _ in 0..3 {
            let seqs = Sequences::new(store(dir.path()));
            for _ in 0..1_000 {
                let r = seqs.next("shop", "t", 2)?;
                assert!(r.start > max, "{} reissued (max {max})", r.start);
                max = r.end - 1;
            }
            // Dropped here without any shutdown call, as a crash would.
        }
        Ok(())
    }

    #[test]
    fn observe_moves_the_sequence_above_explicit_values_durably() -> Result<(), CatalogError> {
        let dir = tempdir();
        {
            let seqs = Sequences::new(store(dir.path()));
            assert_eq!(seqs.next("shop", "t", 1)?, 1..2);
            seqs.observe("shop", "t", 5)?;
            assert_eq!(seqs.next("shop", "t", 1)?, 6..7, "inside the current batch");
            seqs.observe("shop", "t", 3)?;
            assert_eq!(
                seqs.next("shop", "t", 1)?,
                7..8,
                "lower values change nothing"
            );
            seqs.observe("shop", "t", 1_000_000)?;
            assert_eq!(seqs.next("shop", "t", 2)?, 1_000_001..1_000_003);
            seqs.observe("shop", "fresh", 41)?;
            assert_eq!(seqs.peek("shop", "fresh")?, 42);
            assert!(matches!(
                seqs.observe("shop", "t", u64::MAX),
                Err(CatalogError::CounterExhausted(_))
            ));
        }
        let seqs = Sequences::new(store(dir.path()));
        assert!(seqs.next("shop", "t", 1)?.start > 1_000_002);
        assert_eq!(
            seqs.next("shop", "fresh", 1)?,
            42..43,
            "the raise was durable"
        );
        Ok(())
    }

    #[test]
    fn forget_skips_reserved_values_but_keeps_increasing() -> Result<(), CatalogError> {
        let dir = tempdir();
        let seqs = Sequences::new(store(dir.path()));
        let first = seqs.next("shop", "t", 1)?;
        seqs.forget("shop", "t");
        seqs.forget_database("shop");
        let second = seqs.next("shop", "t", 1)?;
        assert!(second.start > first.start);
        Ok(())
    }
}
