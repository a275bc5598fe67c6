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
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::warn;

use crate::context::ServerContext;
use crate::session;

/// How long a worker waits for its sessions to close after accepting stopped, before
/// its event loop (and whatever still runs on it) is dropped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// The session worker threads of one compute node.
pub(crate) struct Workers {
    threads: Vec<Worker>,
}

struct Worker {
    clients: mpsc::UnboundedSender<std::net::TcpStream>,
    /// Sessions running on the thread (the accept loop gives new ones to the least busy).
    sessions: Arc<AtomicUsize>,
}

impl Workers {
    /// Starts `server.worker_threads` threads; they stop once this is dropped and their
    /// sessions have closed.
    pub(crate) fn start(ctx: &Arc<ServerContext>) -> std::io::Result<Workers> {
        let n = ctx.config.server.effective_worker_threads();
        let mut threads = Vec::with_capacity(n);
        for index in 0..n {
            threads.push(Worker::start(index, ctx.clone())?);
        }
        Ok(Workers { threads })
    }

    /// Hands an accepted client to the worker with the fewest sessions.
    pub(crate) fn dispatch(&self, ctx: &Arc<ServerContext>, stream: TcpStream) {
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
                tokio::spawn(session::run(ctx.clone(), stream));
            }
            Err(e) => warn!(error = %e, "cannot register an accepted connection"),
        }
    }
}

impl Worker {
    fn start(index: usize, ctx: Arc<ServerContext>) -> std::io::Result<Worker> {
        let (clients, mut incoming) = mpsc::unbounded_channel::<std::net::TcpStream>();
        let sessions = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let count = sessions.clone();
        std::thread::Builder::new()
            .name(format!("strata-worker-{index}"))
            .spawn(move || {
                // Pool shard 0 belongs to the background tasks.
                strata_backend::pool::set_thread_shard(index + 1);
                runtime.block_on(async move {
                    while let Some(stream) = incoming.recv().await {
                        let (ctx, count) = (ctx.clone(), count.clone());
                        tokio::spawn(async move {
                            match TcpStream::from_std(stream) {
                                Ok(stream) => session::run(ctx, stream).await,
                                Err(e) => warn!(error = %e, "cannot register a client connection"),
                            }
                            count.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                    // Accepting stopped: shutdown has asked the sessions to close; let
                    // them roll back and return their connections.
                    let deadline = Instant::now() + DRAIN_TIMEOUT;
                    while count.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                });
            })?;
        Ok(Worker { clients, sessions })
    }
}
