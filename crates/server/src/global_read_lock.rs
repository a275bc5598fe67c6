//! The compute node's global read lock (`FLUSH TABLES WITH READ LOCK`), with MariaDB's
//! semantics: the lock waits until the statements that change data finish, and while
//! it is held (or asked for) by any session, statements that would change data wait.
//! Several sessions may hold it at once. It covers this compute node only: the
//! session refuses it when other compute nodes share the catalog (a cluster).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// Why a wait for the lock ended without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LockWaitError {
    /// `lock_wait_timeout` passed.
    #[error("lock wait timeout exceeded")]
    Timeout,
    /// The session's statement was killed.
    #[error("interrupted")]
    Interrupted,
}

/// Who holds or waits for the lock, and how many statements that write run.
#[derive(Debug, Default)]
struct Counts {
    /// Sessions holding the read lock.
    holders: usize,
    /// Sessions waiting for it (new writes wait behind them, as in MariaDB).
    pending: usize,
    /// Statements that change data running now (and commits of transactions that did).
    writers: usize,
}

#[derive(Debug, Default)]
struct Inner {
    counts: Mutex<Counts>,
    /// Woken whenever the counts go down.
    changed: Notify,
}

impl Inner {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The compute node's global read lock (one per compute node).
#[derive(Debug, Default, Clone)]
pub struct GlobalReadLock {
    inner: Arc<Inner>,
}

/// What a waiting session watches besides the lock: its statement being killed.
pub struct Interrupt<'a> {
    /// Woken by KILL [QUERY].
    pub signal: &'a Notify,
    /// Set by KILL CONNECTION.
    pub killed: &'a AtomicBool,
    /// Where the session shows what it waits for (the process list's State), and the
    /// words: set only while it does wait.
    pub shown: (&'a Mutex<Option<&'static str>>, &'static str),
}

/// Clears the shown State when a wait ends.
struct Shown<'a>(&'a Mutex<Option<&'static str>>);

impl Drop for Shown<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// A statement that changes data, admitted while no session holds the read lock;
/// dropping it ends the statement's part.
#[derive(Debug)]
pub struct WritePermit {
    inner: Arc<Inner>,
}

impl Drop for WritePermit {
    fn drop(&mut self) {
        let mut c = self.inner.counts();
        c.writers = c.writers.saturating_sub(1);
        drop(c);
        self.inner.changed.notify_waiters();
    }
}

/// One session's hold of the read lock; dropping it (UNLOCK TABLES, the session
/// ending) releases it.
#[derive(Debug)]
pub struct ReadLockHold {
    inner: Arc<Inner>,
}

impl Drop for ReadLockHold {
    fn drop(&mut self) {
        let mut c = self.inner.counts();
        c.holders = c.holders.saturating_sub(1);
        drop(c);
        self.inner.changed.notify_waiters();
    }
}

/// Takes one back from the pending count when a wait for the read lock ends without it.
struct Pending<'a> {
    inner: &'a Inner,
    armed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut c = self.inner.counts();
            c.pending = c.pending.saturating_sub(1);
            drop(c);
            self.inner.changed.notify_waiters();
        }
    }
}

impl GlobalReadLock {
    /// True while some session holds the read lock.
    pub fn held(&self) -> bool {
        self.inner.counts().holders > 0
    }

    /// Admits a statement that changes data: waits while any session holds the read
    /// lock or waits for it, at most `timeout`.
    pub async fn write(
        &self,
        timeout: Duration,
        interrupt: Interrupt<'_>,
    ) -> Result<WritePermit, LockWaitError> {
        self.wait(timeout, interrupt, |c| {
            if c.holders == 0 && c.pending == 0 {
                c.writers += 1;
                true
            } else {
                false
            }
        })
        .await?;
        Ok(WritePermit {
            inner: Arc::clone(&self.inner),
        })
    }

    /// Takes the read lock: waits until the statements that change data finish, at
    /// most `timeout` (new ones wait meanwhile).
    pub async fn read_lock(
        &self,
        timeout: Duration,
        interrupt: Interrupt<'_>,
    ) -> Result<ReadLockHold, LockWaitError> {
        self.inner.counts().pending += 1;
        let mut pending = Pending {
            inner: &self.inner,
            armed: true,
        };
        self.wait(timeout, interrupt, |c| {
            if c.writers == 0 {
                c.pending = c.pending.saturating_sub(1);
                c.holders += 1;
                true
            } else {
                false
            }
        })
        .await?;
        pending.armed = false;
        Ok(ReadLockHold {
            inner: Arc::clone(&self.inner),
        })
    }

    /// Waits until `take` (called under the counts' mutex) succeeds.
    async fn wait(
        &self,
        timeout: Duration,
        interrupt: Interrupt<'_>,
        mut take: impl FnMut(&mut Counts) -> bool,
    ) -> Result<(), LockWaitError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut shown = None;
        loop {
            // Registered before the counts are read: a release in between still wakes.
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let killed = interrupt.signal.notified();
            tokio::pin!(killed);
            killed.as_mut().enable();
            if take(&mut self.inner.counts()) {
                return Ok(());
            }
            if interrupt.killed.load(Ordering::Relaxed) {
                return Err(LockWaitError::Interrupted);
            }
            if shown.is_none() {
                let (state, words) = interrupt.shown;
                *state.lock().unwrap_or_else(|p| p.into_inner()) = Some(words);
                shown = Some(Shown(state));
            }
            tokio::select! {
                _ = &mut changed => {}
                _ = &mut killed => return Err(LockWaitError::Interrupted),
                _ = tokio::time::sleep_until(deadline) => return Err(LockWaitError::Timeout),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_interrupt() -> (Notify, AtomicBool, Mutex<Option<&'static str>>) {
        (Notify::new(), AtomicBool::new(false), Mutex::new(None))
    }

    #[tokio::test]
    async fn writes_wait_for_the_holders_and_the_lock_for_the_writes() {
        let lock = GlobalReadLock::default();
        let (signal, killed, state) = no_interrupt();
        let i = || Interrupt {
            signal: &signal,
            killed: &killed,
            shown: (&state, "waiting"),
        };
        let short = Duration::from_millis(50);
        let write = lock.write(short, i()).await.expect("no holder");
        assert_eq!(
            lock.read_lock(short, i()).await.err(),
            Some(LockWaitError::Timeout)
        );
        drop(write);
        let first = lock.read_lock(short, i()).await.expect("no writer");
        let second = lock.read_lock(short, i()).await.expect("shared");
        assert!(lock.held());
        assert_eq!(
            lock.write(short, i()).await.err(),
            Some(LockWaitError::Timeout)
        );
        drop(first);
        assert!(lock.write(short, i()).await.is_err());
        drop(second);
        assert!(!lock.held());
        assert!(lock.write(short, i()).await.is_ok());
    }

    #[tokio::test]
    async fn a_kill_ends_the_wait() {
        let lock = GlobalReadLock::default();
        let (signal, killed, state) = no_interrupt();
        let _held = lock
            .read_lock(
                Duration::from_secs(1),
                Interrupt {
                    signal: &signal,
                    killed: &killed,
                    shown: (&state, "waiting"),
                },
            )
            .await
            .expect("free");
        let waiting = lock.write(
            Duration::from_secs(60),
            Interrupt {
                signal: &signal,
                killed: &killed,
                shown: (&state, "waiting"),
            },
        );
        let kill = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(*state.lock().expect("state"), Some("waiting"));
            signal.notify_waiters();
        };
        let (result, ()) = tokio::join!(waiting, kill);
        assert_eq!(result.err(), Some(LockWaitError::Interrupted));
        assert_eq!(*state.lock().expect("state"), None);
    }
}
