//! The memory budget of one merge. Every operator that buffers rows (the per-node input
//! queues, grouping, DISTINCT, sorting, COUNT(DISTINCT) sets) holds a `Reservation` and
//! grows it before keeping more bytes; when the statement's total would pass the budget
//! the operator spills to disk when it can and the statement has a spill directory (the
//! sort, the hash join, hash grouping, DISTINCT: `spill`), or fails with
//! `MergeError::MemoryBudgetExceeded` (MySQL error 1114, HY000) instead of growing
//! further. Nothing is silently dropped.
//!
//! Byte counts are estimates of heap use (payload bytes plus a fixed per-entry overhead),
//! good enough to bound a statement; they are not an allocator's exact numbers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::MergeError;

/// Default budget of one statement's merge: 64 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;

/// Bytes charged for every buffered entry on top of its payload (container slots,
/// headers, hash-table overhead).
pub const ENTRY_OVERHEAD: usize = 64;

/// A byte budget shared by the operators of one merge.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: usize,
    used: AtomicUsize,
    /// Bytes reserved by every budget of the process (the merge-memory gauge).
    total: Option<Arc<AtomicUsize>>,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
                total: None,
            }),
        }
    }

    /// A budget of `limit` bytes whose reservations are also added to `total`, shared
    /// by every query (what the compute node's merges hold right now).
    pub fn counted(limit: usize, total: Arc<AtomicUsize>) -> Self {
        Self {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
                total: Some(total),
            }),
        }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes currently reserved by all operators.
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// A new, empty reservation against this budget.
    pub fn reservation(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            held: 0,
        }
    }

    fn try_take(&self, bytes: usize) -> Result<(), MergeError> {
        let limit = self.inner.limit;
        self.inner
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= limit)
            })
            .map(|_| {
                if let Some(total) = &self.inner.total {
                    total.fetch_add(bytes, Ordering::Relaxed);
                }
            })
            .map_err(|_| {
                tracing::debug!(limit, bytes, "merge memory budget exceeded");
                MergeError::MemoryBudgetExceeded { budget: limit }
            })
    }

    fn give_back(&self, bytes: usize) {
        self.inner.used.fetch_sub(bytes, Ordering::Relaxed);
        if let Some(total) = &self.inner.total {
            total.fetch_sub(bytes, Ordering::Relaxed);
        }
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        Self::new(DEFAULT_MEMORY_BUDGET)
    }
}

/// Bytes one operator holds against the budget; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    held: usize,
}

impl Reservation {
    /// Reserves `bytes` more, or fails without reserving anything.
    pub fn grow(&mut self, bytes: usize) -> Result<(), MergeError> {
        self.budget.try_take(bytes)?;
        self.held += bytes;
        Ok(())
    }

    /// Grows by `bytes` unless this reservation would then hold more than `share`: an
    /// operator that can spill keeps to its share so that the rest of the budget stays
    /// for the rows queued below it. Past the share it fails as past the budget.
    pub fn grow_within(&mut self, bytes: usize, share: usize) -> Result<(), MergeError> {
        if self.held.saturating_add(bytes) > share {
            return Err(MergeError::MemoryBudgetExceeded {
                budget: self.budget.limit(),
            });
        }
        self.grow(bytes)
    }

    /// Returns `bytes` (at most what is held) to the budget.
    pub fn shrink(&mut self, bytes: usize) {
        let bytes = bytes.min(self.held);
        self.held -= bytes;
        self.budget.give_back(bytes);
    }

    /// Bytes held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The budget this reservation is part of.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// The limit of the budget this reservation is part of.
    pub fn budget_limit(&self) -> usize {
        self.budget.limit()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_back(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_budget_and_release_on_drop() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.reservation();
        let mut b = budget.reservation();
        a.grow(60).unwrap();
        assert_eq!(
            b.grow(41),
            Err(MergeError::MemoryBudgetExceeded { budget: 100 })
        );
        assert_eq!(b.held(), 0, "a failed grow reserves nothing");
        b.grow(40).unwrap();
        assert_eq!(budget.used(), 100);
        a.shrink(10);
        assert_eq!(budget.used(), 90);
        drop(a);
        assert_eq!(budget.used(), 40);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn shrinking_more_than_held_releases_only_what_is_held() {
        let budget = MemoryBudget::new(10);
        let mut a = budget.reservation();
        a.grow(5).unwrap();
        a.shrink(50);
        assert_eq!((a.held(), budget.used()), (0, 0));
    }
}
