//! Graceful shutdown as in tokio's mini-redis: one signal every task listens to, and a
//! channel whose last sender, held by those tasks, is dropped when the last of them
//! ends — so the server learns that everything finished without polling counters.
//!
//! `ShutdownTrigger` belongs to `RunningServer`; each task (acceptor, worker thread,
//! session, background loop) holds a `Shutdown`. The signal carries the deadline by
//! which a statement in progress must have finished: sessions finish the statement
//! they are running and close, and are cut off (their storage connections dropped,
//! which rolls their transactions back) once the deadline passes. A worker thread
//! relays the signal to its own sessions through a channel of its own, so the
//! per-statement wait on it never touches memory shared with other threads.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Starts the shutdown and learns when every task holding a `Shutdown` has ended.
pub(crate) struct ShutdownTrigger {
    signal: watch::Sender<Option<Instant>>,
    /// Cloned into every `Shutdown`; this one is dropped when waiting starts.
    complete_tx: Option<mpsc::Sender<()>>,
    complete_rx: mpsc::Receiver<()>,
}

impl ShutdownTrigger {
    /// A trigger with no listeners yet.
    pub(crate) fn new() -> ShutdownTrigger {
        let (signal, _) = watch::channel(None);
        let (complete_tx, complete_rx) = mpsc::channel(1);
        ShutdownTrigger {
            signal,
            complete_tx: Some(complete_tx),
            complete_rx,
        }
    }

    /// A listener for one more task; the trigger waits for it to be dropped.
    pub(crate) fn listener(&self) -> Shutdown {
        let complete = self.complete_tx.clone();
        Shutdown {
            signal: self.signal.subscribe(),
            _complete: complete,
        }
    }

    /// Tells every listener to stop; statements must finish by `deadline`.
    pub(crate) fn trigger(&self, deadline: Instant) {
        // send_replace: delivers even when no listener exists right now.
        self.signal.send_replace(Some(deadline));
    }

    /// Waits until every listener has been dropped, or `limit` passes; true when all
    /// were dropped.
    pub(crate) async fn wait_complete(&mut self, limit: Instant) -> bool {
        self.complete_tx = None;
        // recv yields None only once every sender (one per listener) is gone; nothing is
        // ever sent on the channel.
        tokio::time::timeout_at(limit, self.complete_rx.recv())
            .await
            .is_ok()
    }
}

/// One task's view of the shutdown signal; dropping it (and its clones) tells the
/// trigger the task ended.
#[derive(Clone)]
pub struct Shutdown {
    signal: watch::Receiver<Option<Instant>>,
    _complete: Option<mpsc::Sender<()>>,
}

impl Shutdown {
    /// The deadline for statements in progress, once shutdown has started.
    pub fn deadline(&self) -> Option<Instant> {
        *self.signal.borrow()
    }

    /// True once shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.deadline().is_some()
    }

    /// Waits until shutdown starts (returns at once if it has); returns the deadline.
    /// A trigger dropped without firing (its server dropped, not shut down) means
    /// stopping now.
    pub async fn triggered(&mut self) -> Instant {
        loop {
            if let Some(deadline) = *self.signal.borrow_and_update() {
                return deadline;
            }
            if self.signal.changed().await.is_err() {
                return Instant::now();
            }
        }
    }

    /// Waits until the deadline for statements in progress has passed.
    pub async fn deadline_passed(&mut self) {
        let deadline = self.triggered().await;
        tokio::time::sleep_until(deadline).await;
    }
}

/// A worker thread's relay of the shutdown signal to the sessions it runs.
pub(crate) struct LocalShutdown {
    inner: ShutdownTrigger,
}

impl LocalShutdown {
    /// A relay with no sessions yet.
    pub(crate) fn new() -> LocalShutdown {
        LocalShutdown {
            inner: ShutdownTrigger::new(),
        }
    }

    /// A listener for one session on this thread.
    pub(crate) fn listener(&self) -> Shutdown {
        self.inner.listener()
    }

    /// Passes the signal on to this thread's sessions.
    pub(crate) fn relay(&self, deadline: Instant) {
        self.inner.trigger(deadline);
    }

    /// Waits for this thread's sessions to end, or `limit`; true when all ended.
    pub(crate) async fn wait_complete(&mut self, limit: Instant) -> bool {
        self.inner.wait_complete(limit).await
    }
}

/// How long after the statement deadline closing sessions (rolling back, returning
/// connections) and background tasks may take before they are abandoned.
pub(crate) const CLOSE_MARGIN: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiting_ends_when_the_last_listener_is_dropped() {
        let mut trigger = ShutdownTrigger::new();
        let mut first = trigger.listener();
        let mut second = trigger.listener();
        let deadline = Instant::now() + Duration::from_millis(50);
        let tasks = [
            tokio::spawn(async move { first.triggered().await }),
            tokio::spawn(async move { second.triggered().await }),
        ];
        trigger.trigger(deadline);
        for t in tasks {
            assert_eq!(t.await.expect("task"), deadline);
        }
        assert!(
            trigger
                .wait_complete(Instant::now() + Duration::from_secs(5))
                .await
        );
    }

    #[tokio::test]
    async fn waiting_gives_up_while_a_listener_lives() {
        let mut trigger = ShutdownTrigger::new();
        let held = trigger.listener();
        trigger.trigger(Instant::now());
        assert!(held.is_triggered());
        assert!(
            !trigger
                .wait_complete(Instant::now() + Duration::from_millis(50))
                .await
        );
        drop(held);
    }

    #[tokio::test]
    async fn a_dropped_trigger_means_stop_now() {
        let trigger = ShutdownTrigger::new();
        let mut listener = trigger.listener();
        drop(trigger);
        let before = Instant::now();
        assert!(listener.triggered().await >= before);
    }

    #[tokio::test]
    async fn a_listener_made_after_the_signal_sees_it() {
        let trigger = ShutdownTrigger::new();
        let deadline = Instant::now();
        trigger.trigger(deadline);
        let mut late = trigger.listener();
        assert_eq!(late.triggered().await, deadline);
    }
}
