//! The compute node's listeners and client sessions.
//!
//! `RunningServer::start` builds the shared context (topology, pools, TLS), binds the
//! service port and hands each accepted client to one of the session worker threads
//! (`workers`), where it runs as a task (`session`) for its whole life. Shutdown
//! (`shutdown`) signals every task at once: accepting stops, sessions finish their
//! statement and close, background loops end, worker threads are joined, and the
//! storage pools say goodbye to their connections.
//!
//! Beside the service port it binds the admin port (`admin`: MySQL protocol, management
//! commands) and the HTTP port (`http`: health, Prometheus metrics from `metrics`, the
//! management API and the web console); statement statistics and the slow log are
//! collected in `stats`, long-running work reports its progress to `jobs`.
//!
//! With the `fuzzing` feature (fuzz/ and this crate's tests only), `fuzzing` holds the
//! command-dispatch fuzzing harness; with `failpoints` (this crate's tests only),
//! `failpoints` holds the pauses tests arm inside the commit protocol.

pub mod admin;
pub mod audit;
pub mod column_collations;
pub mod context;
pub mod deadlock;
pub mod failover;
#[cfg(feature = "failpoints")]
pub mod failpoints;
pub mod firewall;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod global_read_lock;
pub mod globals;
pub mod http;
pub mod jobs;
pub mod key_report;
pub mod lapse;
mod log_file;
pub mod metrics;
pub mod primaries;
pub mod read_split;
pub mod results;
pub mod session;
pub mod shutdown;
pub mod stats;
pub mod status;
pub mod storage_tls;
pub mod takeover;
mod workers;
pub mod xa;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{info, warn};

use strata_catalog::Config;

use crate::context::ServerContext;
use crate::shutdown::{Shutdown, ShutdownTrigger, CLOSE_MARGIN};

/// How long `RunningServer::shutdown` lets statements in progress run before their
/// sessions are closed anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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
    /// A storage node does not have the role the configuration gives it.
    #[error("storage topology: {}", .0.join("; "))]
    Topology(Vec<String>),
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

/// A compute node that is serving; `shutdown` stops it (dropping it stops every task
/// at once, without waiting).
pub struct RunningServer {
    service_addr: SocketAddr,
    admin_addr: SocketAddr,
    http_addr: SocketAddr,
    ctx: Arc<ServerContext>,
    shutdown: ShutdownTrigger,
    /// Gives the worker threads back when it stops, for joining.
    acceptor: JoinHandle<workers::Workers>,
}

/// What `RunningServer::shutdown_within` found when it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Session worker threads joined.
    pub workers_joined: usize,
    /// Every task (sessions, background loops) ended before the time limit.
    pub all_tasks_ended: bool,
}

impl RunningServer {
    /// Binds the listeners from `config` and starts serving in background tasks.
    pub async fn start(mut config: Config) -> Result<RunningServer, ServerError> {
        // Failovers before a restart chose primaries the file may not name yet: with
        // several compute nodes the cluster's record in etcd says which, else the
        // data directory's.
        if config.cluster.uses_etcd() {
            failover::apply_recorded_primaries(&mut config).map_err(ServerError::Catalog)?;
        } else {
            primaries::apply(&mut config);
        }
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
        failover::verify_roles(&ctx.config, &storage_tls)
            .await
            .map_err(ServerError::Topology)?;
        // Prepared branches a crash left behind are finished before clients can come
        // and trip over their locks; nodes that do not answer now are retried later.
        let report = xa::recover(&ctx).await;
        if report.committed + report.rolled_back > 0 || !report.unreachable.is_empty() {
            info!(?report, "XA recovery at start-up");
        }
        // Old tables whose unique keys the data nodes cannot enforce are reported, and
        // unrecorded column collations read, in the background: reading must not hold
        // up serving.
        let shutdown = ShutdownTrigger::new();
        let report_ctx = ctx.clone();
        let mut report_stop = shutdown.listener();
        tokio::spawn(async move {
            tokio::select! {
                _ = async {
                    key_report::report_unique_key_violations(&report_ctx).await;
                    column_collations::record_missing(&report_ctx).await;
                } => {}
                _ = report_stop.triggered() => {}
            }
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
        let (admin_listener, admin_addr) = bind(&ctx.config.server.admin_addr).await?;
        let (http_listener, http_addr) = bind(&ctx.config.server.http_addr).await?;
        *ctx.admin_addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(admin_addr);
        *ctx.http_addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(http_addr);
        tokio::spawn(stats::collect_loop(ctx.clone(), shutdown.listener()));
        tokio::spawn(admin::accept_loop(
            admin_listener,
            ctx.clone(),
            shutdown.listener(),
        ));
        tokio::spawn(http::serve(http_listener, ctx.clone(), shutdown.listener()));
        ctx.service_port
            .store(service_addr.port(), std::sync::atomic::Ordering::Relaxed);
        let interval = ctx.config.transaction.recovery_interval_ms;
        if interval > 0 {
            tokio::spawn(xa::recovery_loop(
                ctx.clone(),
                Duration::from_millis(interval),
                shutdown.listener(),
            ));
        }
        let deadlock_interval = ctx.config.transaction.deadlock_check_interval_ms;
        if deadlock_interval > 0 && ctx.xa.xa() {
            tokio::spawn(deadlock::deadlock_loop(
                ctx.clone(),
                Duration::from_millis(deadlock_interval),
                shutdown.listener(),
            ));
        }
        for node in ctx.topology.nodes() {
            tokio::spawn(failover::watch_data_node(
                ctx.clone(),
                node.id,
                shutdown.listener(),
            ));
        }
        // A member before serving: from now on other compute nodes' DDL waits for this
        // one to apply it.
        let member = strata_catalog::store::etcd::MemberRecord {
            node_id: ctx.config.server.node_id,
            service_addr: service_addr.to_string(),
            admin_addr: admin_addr.to_string(),
            started_ms: strata_catalog::store::now_ms(),
            // Taken by the registration itself (a new one each time it registers).
            xa_epoch: 0,
        };
        // Accounts and databases changed through another compute node reach the
        // sessions here; the catalog holds the context weakly, so neither keeps the
        // other alive.
        let weak = Arc::downgrade(&ctx);
        ctx.topology
            .catalog()
            .on_remote_change(Box::new(move |change| {
                let Some(ctx) = weak.upgrade() else {
                    return;
                };
                match change {
                    strata_catalog::MetaChange::Accounts => {
                        if let Err(e) = ctx.read_changed_accounts() {
                            warn!(error = %e, "cannot read the accounts another compute node changed");
                        }
                    }
                    strata_catalog::MetaChange::Database(name, Some(_)) => {
                        ctx.private_schemas.add_logical(name)
                    }
                    strata_catalog::MetaChange::Database(name, None) => {
                        ctx.private_schemas.remove_logical(name)
                    }
                    strata_catalog::MetaChange::Table(..)
                    | strata_catalog::MetaChange::View(..)
                    | strata_catalog::MetaChange::Pending(..) => {}
                }
            }));
        let membership = strata_catalog::cluster::ClusterMembership::join(
            ctx.topology.shared_catalog(),
            member,
            Duration::from_millis(ctx.config.cluster.lease_ttl_ms),
            ctx.config.cluster.on_etcd_loss,
        )
        .map_err(ServerError::Catalog)?;
        *ctx.cluster.lock().unwrap_or_else(|p| p.into_inner()) = membership;
        if ctx.topology.catalog().store().etcd().is_some() {
            // Primaries another compute node decides are followed from now on.
            tokio::spawn(failover::follow_loop(ctx.clone(), shutdown.listener()));
            tokio::spawn(takeover::takeover_loop(
                ctx.clone(),
                Duration::from_millis(ctx.config.cluster.takeover_interval_ms),
                shutdown.listener(),
            ));
            tokio::spawn(lapse::interrupt_when_out(ctx.clone(), shutdown.listener()));
        }
        let workers = workers::Workers::start(&ctx, &shutdown).map_err(ServerError::Workers)?;
        let acceptor = tokio::spawn(accept_loop(
            listener,
            ctx.clone(),
            workers,
            shutdown.listener(),
        ));
        info!(%service_addr, %admin_addr, %http_addr, "Strata compute node serving");
        Ok(RunningServer {
            service_addr,
            admin_addr,
            http_addr,
            ctx,
            shutdown,
            acceptor,
        })
    }

    /// The bound service address (useful when the config asked for port 0).
    pub fn service_addr(&self) -> SocketAddr {
        self.service_addr
    }

    /// The bound admin port address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The shared state (for tests and the binary's own reporting).
    pub fn context(&self) -> &Arc<ServerContext> {
        &self.ctx
    }

    /// Remembers the configuration file, so RELOAD @@CONFIG can re-read it.
    pub fn set_config_path(&self, path: std::path::PathBuf) {
        self.ctx.set_config_path(path);
    }

    /// Stops with `SHUTDOWN_GRACE` for statements in progress; see `shutdown_within`.
    pub async fn shutdown(self) -> ShutdownReport {
        self.shutdown_within(SHUTDOWN_GRACE).await
    }

    /// Stops accepting, closes idle sessions at once and busy ones after their
    /// statement (cut off after `grace`, their transactions rolled back), ends the
    /// background tasks, joins the worker threads and closes the storage pools.
    pub async fn shutdown_within(mut self, grace: Duration) -> ShutdownReport {
        let deadline = Instant::now() + grace;
        // Offline first: `/health` says so while sessions drain, and a connection
        // arriving meanwhile is refused like after OFFLINE.
        self.ctx.set_offline(true);
        self.shutdown.trigger(deadline);
        let workers = self.acceptor.await;
        let all_tasks_ended = self.shutdown.wait_complete(deadline + CLOSE_MARGIN).await;
        if !all_tasks_ended {
            warn!("some tasks did not end in time after shutdown was signalled");
        }
        let workers_joined = match workers {
            // Every worker thread has left its event loop once `wait_complete` returned
            // true; after a timeout joining waits for the ones still dropping theirs.
            Ok(workers) => tokio::task::spawn_blocking(move || workers.join())
                .await
                .unwrap_or(0),
            Err(e) => {
                warn!(error = %e, "the acceptor task failed; its worker threads are not joined");
                0
            }
        };
        for node in self.ctx.topology.nodes() {
            node.pool.shutdown().await;
        }
        // Leaving ends the lease (a blocking etcd call): the others stop waiting for us.
        let membership = self
            .ctx
            .cluster
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if membership.is_some() {
            let _ = tokio::task::spawn_blocking(move || drop(membership)).await;
        }
        info!(
            workers_joined,
            all_tasks_ended, "Strata compute node stopped"
        );
        ShutdownReport {
            workers_joined,
            all_tasks_ended,
        }
    }
}

/// Binds a listener, reporting the configured address on failure.
async fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), ServerError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    Ok((listener, bound))
}

/// Hands accepted clients to the workers until shutdown; returns them for joining.
async fn accept_loop(
    listener: TcpListener,
    ctx: Arc<ServerContext>,
    workers: workers::Workers,
    mut shutdown: Shutdown,
) -> workers::Workers {
    loop {
        tokio::select! {
            _ = shutdown.triggered() => return workers,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => workers.dispatch(&ctx, stream, &shutdown),
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}
