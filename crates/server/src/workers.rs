//! Session worker threads: one single-threaded event loop per thread (by default one
//! thread per CPU), each owning the sessions it was given and the storage connections
//! they opened, as HAProxy runs its threads.
//!
//! Measured on the point-select benchmark, tokio's work-stealing scheduler cost Strata
//! about half as much CPU per query again as the proxying itself: every wake-up of a
//! session could wake another worker to look for work (futex calls, context switches),
//! and every task and socket was shared between threads. Here a session and its
//! storage sockets are driven by one thread's epoll loop, wake-ups stay on that thread,
//! and the pools keep each thread's idle connections apart (`strata_backend::pool`).
//! The cost: a session that computes for long (a large merge) delays the other
//! sessions of its thread, which the multi-threaded scheduler would have moved.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::warn;

use crate::context::ServerContext;
use crate::session;
use crate::shutdown::{LocalShutdown, Shutdown, ShutdownTrigger, CLOSE_MARGIN};

/// The session worker threads of one compute node.
pub(crate) struct Workers {
    threads: Vec<Worker>,
}

struct Worker {
    clients: mpsc::UnboundedSender<std::net::TcpStream>,
    /// Sessions running on the thread (the accept loop gives new ones to the least busy).
    sessions: Arc<AtomicUsize>,
    thread: JoinHandle<()>,
}

impl Workers {
    /// Starts `server.worker_threads` threads; each runs until shutdown is signalled
    /// and its sessions have closed (or were cut off), then ends.
    pub(crate) fn start(
        ctx: &Arc<ServerContext>,
        shutdown: &ShutdownTrigger,
    ) -> std::io::Result<Workers> {
        let n = ctx.config.server.effective_worker_threads();
        let mut threads = Vec::with_capacity(n);
        for index in 0..n {
            threads.push(Worker::start(index, ctx.clone(), shutdown.listener())?);
        }
        Ok(Workers { threads })
    }

    /// Hands an accepted client to the worker with the fewest sessions; `shutdown` is
    /// for a client served on the acceptor's runtime because no worker is left.
    pub(crate) fn dispatch(
        &self,
        ctx: &Arc<ServerContext>,
        stream: TcpStream,
        shutdown: &Shutdown,
    ) {
        let stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot detach an accepted connection from the acceptor");
                return;
            }
        };
        let worker = self
            .threads
            .iter()
            .min_by_key(|w| w.sessions.load(Ordering::Relaxed));
        let stream = match worker {
            Some(w) => {
                w.sessions.fetch_add(1, Ordering::Relaxed);
                match w.clients.send(stream) {
                    Ok(()) => return,
                    Err(mpsc::error::SendError(stream)) => {
                        w.sessions.fetch_sub(1, Ordering::Relaxed);
                        warn!("a session worker thread is gone; serving the client on the acceptor's runtime");
                        stream
                    }
                }
            }
            None => stream,
        };
        match TcpStream::from_std(stream) {
            Ok(stream) => {
                tokio::spawn(session::run(ctx.clone(), stream, shutdown.clone()));
            }
            Err(e) => warn!(error = %e, "cannot register an accepted connection"),
        }
    }

    /// Waits for every worker thread to end (after shutdown was signalled); returns how
    /// many were joined. Blocks: call it off the async threads.
    pub(crate) fn join(self) -> usize {
        let mut joined = 0;
        for worker in self.threads {
            drop(worker.clients);
            match worker.thread.join() {
                Ok(()) => joined += 1,
                Err(_) => warn!("a session worker thread panicked"),
            }
        }
        joined
    }
}

/// A session worker's stack: an interpreted procedure's CALL runs each statement of
/// its body (and of the procedures it calls, up to 16 deep) as a client statement,
/// inside the CALL's own future, and debug builds poll such chains with large frames
/// (2 MiB, the default, overflowed at three nested CALLs). Pages are only touched when
/// used.
const WORKER_STACK: usize = 64 << 20;

impl Worker {
    fn start(
        index: usize,
        ctx: Arc<ServerContext>,
        mut shutdown: Shutdown,
    ) -> std::io::Result<Worker> {
        let (clients, mut incoming) = mpsc::unbounded_channel::<std::net::TcpStream>();
        let sessions = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let count = sessions.clone();
        let thread = std::thread::Builder::new()
            .name(format!("strata-worker-{index}"))
            .stack_size(WORKER_STACK)
            .spawn(move || {
                // Pool shard 0 belongs to the background tasks.
                strata_backend::pool::set_thread_shard(index + 1);
                let mut local = LocalShutdown::new();
                let deadline = runtime.block_on(async {
                    let deadline = loop {
                        tokio::select! {
                            deadline = shutdown.triggered() => break deadline,
                            stream = incoming.recv() => {
                                let Some(stream) = stream else {
                                    // `Workers` is dropped only after the signal.
                                    break shutdown.triggered().await;
                                };
                                let (ctx, count, listener) = (ctx.clone(), count.clone(), local.listener());
                                tokio::spawn(async move {
                                    match TcpStream::from_std(stream) {
                                        Ok(stream) => session::run(ctx, stream, listener).await,
                                        Err(e) => warn!(error = %e, "cannot register a client connection"),
                                    }
                                    count.fetch_sub(1, Ordering::Relaxed);
                                });
                            }
                        }
                    };
                    local.relay(deadline);
                    if !local.wait_complete(deadline + CLOSE_MARGIN).await {
                        warn!(
                            worker = index,
                            sessions = count.load(Ordering::Relaxed),
                            "sessions did not close in time; dropping them"
                        );
                    }
                    deadline
                });
                // Dropping the event loop drops the sessions still on it, and with them
                // their storage connections: the storage nodes roll their work back.
                drop(runtime);
                tracing::debug!(worker = index, ?deadline, "session worker stopped");
            })?;
        Ok(Worker {
            clients,
            sessions,
            thread,
        })
    }
}
