//! The compute node's listeners and client sessions.
//!
//! `RunningServer::start` builds the shared context (topology, pools, TLS), binds the
//! service port and hands each accepted client to one of the session worker threads
//! (`workers`), where it runs as a task (`session`) for its whole life. Shutdown stops
//! accepting, tells sessions to finish, and closes the storage pools.
//!
//! With the `fuzzing` feature (fuzz/ and this crate's tests only), `fuzzing` holds the
//! command-dispatch fuzzing harness.

pub mod audit;
pub mod context;
pub mod deadlock;
pub mod firewall;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod key_report;
pub mod results;
pub mod session;
pub mod storage_tls;
mod workers;
pub mod xa;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use strata_catalog::Config;

use crate::context::ServerContext;

/// Errors that stop the compute node from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A listener could not bind its address.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the configuration.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configuration is invalid or the metadata store cannot be opened.
    #[error("{0}")]
    Catalog(strata_catalog::CatalogError),
    /// The TLS certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// The TLS settings for a storage node are unusable, or did not reach its pool.
    #[error("TLS to storage nodes: {0}")]
    StorageTls(String),
    /// A session worker thread could not be started.
    #[error("cannot start a session worker thread: {0}")]
    Workers(std::io::Error),
}

/// Checks that every data node whose configuration asks for TLS has a pool that uses it:
/// a pool built some other way would log in in clear text.
fn refuse_clear_text_where_tls_is_configured(ctx: &ServerContext) -> Result<(), ServerError> {
    for dn in ctx.topology.catalog().data_nodes() {
        let pool_tls = ctx.topology.node(dn.id).map(|n| n.pool.tls().is_some());
        if dn.primary.tls && pool_tls != Some(true) {
            return Err(ServerError::StorageTls(format!(
                "data node {}: its connection pool was built without TLS",
                dn.id
            )));
        }
    }
    Ok(())
}

/// A compute node that is serving; `shutdown` stops it.
pub struct RunningServer {
    service_addr: SocketAddr,
    ctx: Arc<ServerContext>,
    stop: watch::Sender<bool>,
    acceptor: JoinHandle<()>,
}

impl RunningServer {
    /// Binds the listeners from `config` and starts serving in background tasks.
    pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
        let tls = match &config.server.tls {
            Some(t) => Some(
                strata_protocol::tls::load_server_config(&t.cert, &t.key)
                    .map_err(|e| ServerError::Tls(e.to_string()))?,
            ),
            None => None,
        };
        let storage_tls = storage_tls::storage_tls(&config).map_err(ServerError::StorageTls)?;
        let addr = config.server.service_addr.clone();
        let catalog = strata_catalog::Catalog::open(config).map_err(ServerError::Catalog)?;
        let ctx =
            Arc::new(ServerContext::new(catalog, tls, &storage_tls).map_err(ServerError::Catalog)?);
        refuse_clear_text_where_tls_is_configured(&ctx)?;
        // Prepared branches a crash left behind are finished before clients can come
        // and trip over their locks; nodes that do not answer now are retried later.
        let report = xa::recover(&ctx).await;
        if report.committed + report.rolled_back > 0 || !report.unreachable.is_empty() {
            info!(?report, "XA recovery at start-up");
        }
        // Old tables whose unique keys the data nodes cannot enforce are reported in the
        // background: reading unrecorded keys must not hold up serving.
        let report_ctx = ctx.clone();
        tokio::spawn(async move {
            key_report::report_unique_key_violations(&report_ctx).await;
        });
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let service_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        ctx.service_port
            .store(service_addr.port(), std::sync::atomic::Ordering::Relaxed);
        let (stop, stopped) = watch::channel(false);
        let interval = ctx.config.transaction.recovery_interval_ms;
        if interval > 0 {
            tokio::spawn(xa::recovery_loop(
                ctx.clone(),
                Duration::from_millis(interval),
                stopped.clone(),
            ));
        }
        let deadlock_interval = ctx.config.transaction.deadlock_check_interval_ms;
        if deadlock_interval > 0 && ctx.xa.xa() {
            tokio::spawn(deadlock::deadlock_loop(
                ctx.clone(),
                Duration::from_millis(deadlock_interval),
                stopped.clone(),
            ));
        }
        let workers = workers::Workers::start(&ctx).map_err(ServerError::Workers)?;
        let acceptor = tokio::spawn(accept_loop(listener, ctx.clone(), workers, stopped));
        info!(%service_addr, "Strata compute node serving");
        Ok(RunningServer {
            service_addr,
            ctx,
            stop,
            acceptor,
        })
    }

    /// The bound service address (useful when the config asked for port 0).
    pub fn service_addr(&self) -> SocketAddr {
        self.service_addr
    }

    /// Stops accepting, closes sessions and backend pools, and waits until done.
    pub async fn shutdown(self) {
        // Both fail only when the acceptor has already ended (it returned or panicked);
        // either way nothing is accepting any more, which is what is wanted here.
        let _ = self.stop.send(true);
        let _ = self.acceptor.await;
        for (_, entry) in self.ctx.all_sessions() {
            entry
                .killed
                .store(true, std::sync::atomic::Ordering::Relaxed);
            entry.kill_signal.notify_one();
        }
        // Give sessions a moment to roll back and return their connections.
        for _ in 0..50 {
            if self.ctx.session_count() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for node in self.ctx.topology.nodes() {
            node.pool.close();
        }
        info!("Strata compute node stopped");
    }
}

async fn accept_loop(
    listener: TcpListener,
    ctx: Arc<ServerContext>,
    workers: workers::Workers,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => workers.dispatch(&ctx, stream),
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}
