//! Strata compute nodes for tests, wired to a set of storage nodes.
//!
//! [`ComputeNodeBuilder`] turns storage nodes into a complete [`Config`]: one data node
//! per storage node and logical database, fresh physical databases (so tests sharing
//! storage never see each other's tables), user `root` / `secret`, listeners on
//! 127.0.0.1 with OS-chosen ports and a temporary data directory; storage nodes that
//! serve TLS are reached over TLS verified against their CA. The node then runs
//! in-process ([`ComputeNodeBuilder::start`]) or as a `strata serve` child process
//! ([`ComputeNodeBuilder::spawn`]) for tests that kill it.

use std::net::SocketAddr;

use strata_catalog::config::{
    DataNodeConfig, LogicDbConfig, ServerConfig, StorageNodeConfig, UserConfig,
};
use strata_catalog::{Config, DataNodeId};
use strata_server::RunningServer;
use tempfile::TempDir;

use crate::cleanup::fixture_dir;
use crate::process::ComputeProcess;
use crate::{mysql_opts, unique_name, StorageNodes, TestkitError};

/// User name of the account tests connect to Strata with.
pub const ROOT_USER: &str = "root";
/// Password of that account.
pub const ROOT_PASSWORD: &str = "secret";

/// A configuration tweak applied after the defaults.
type ConfigTweak = Box<dyn FnOnce(&mut Config) + Send>;

/// Describes a compute node over some storage nodes; finish with `start` or `spawn`.
pub struct ComputeNodeBuilder<'a> {
    storage: &'a StorageNodes,
    logical_dbs: Vec<String>,
    tweaks: Vec<ConfigTweak>,
    each: Option<EachTweak>,
}

/// A tweak of the configuration of the i-th node of `start_many`/`spawn_many`.
type EachTweak = Box<dyn Fn(usize, &mut Config) + Send>;

impl<'a> ComputeNodeBuilder<'a> {
    /// Adds a logical database spanning every storage node (default: one named `test`).
    pub fn logical_database(mut self, name: &str) -> Self {
        self.logical_dbs.push(name.to_string());
        self
    }

    /// Changes the generated configuration before the node starts.
    pub fn configure(mut self, tweak: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Changes the configuration of the i-th (0-based) of several nodes
    /// (`start_many`/`spawn_many`) after the other tweaks.
    pub fn configure_each(mut self, tweak: impl Fn(usize, &mut Config) + Send + 'static) -> Self {
        self.each = Some(Box::new(tweak));
        self
    }

    /// Creates the physical databases and returns the configuration with the temporary
    /// directory that holds the node's data directory.
    pub async fn build_config(self) -> Result<(Config, TempDir), TestkitError> {
        let dir = fixture_dir("compute")?;
        let logical_dbs = if self.logical_dbs.is_empty() {
            vec!["test".to_string()]
        } else {
            self.logical_dbs
        };
        let mut config = Config {
            server: ServerConfig {
                service_addr: "127.0.0.1:0".into(),
                admin_addr: "127.0.0.1:0".into(),
                http_addr: "127.0.0.1:0".into(),
                data_dir: dir.path().join("meta"),
                node_id: next_node_id(),
                ..ServerConfig::default()
            },
            users: vec![UserConfig {
                name: ROOT_USER.into(),
                host: None,
                password: ROOT_PASSWORD.into(),
                password_hash: None,
                databases: None,
                auth_plugin: None,
            }],
            ..Config::default()
        };
        let mut next_dnid = 1;
        for logical in logical_dbs {
            // Physical names are unique per test; keep them within MySQL's 64 characters.
            let prefix: String = logical
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(32)
                .collect();
            let physical = unique_name(if prefix.is_empty() { "db" } else { &prefix });
            self.storage.create_database(&physical).await?;
            let mut dnids = Vec::new();
            for i in 0..self.storage.len() {
                let mut primary = StorageNodeConfig::new(
                    "127.0.0.1",
                    self.storage.port(i),
                    self.storage.user(),
                    self.storage.password(),
                    &physical,
                );
                if let Some(tls) = self.storage.tls() {
                    primary.tls = true;
                    primary.tls_ca = Some(tls.ca.clone());
                }
                let replicas = self
                    .storage
                    .replicas(i)
                    .iter()
                    .map(|replica| {
                        let mut config = primary.clone();
                        config.port = replica.port();
                        config.database = String::new();
                        config
                    })
                    .collect();
                let dnid = DataNodeId::new(next_dnid);
                config.data_nodes.push(DataNodeConfig {
                    id: dnid,
                    primary,
                    replicas,
                });
                dnids.push(dnid);
                next_dnid += 1;
            }
            config.databases.push(LogicDbConfig {
                name: logical,
                data_nodes: dnids,
                default_data_nodes: None,
                rw_split: Default::default(),
            });
        }
        for tweak in self.tweaks {
            tweak(&mut config);
        }
        Ok((config, dir))
    }

    /// Starts the compute node in this process.
    pub async fn start(self) -> Result<ComputeNode, TestkitError> {
        let (config, dir) = self.build_config().await?;
        let server = RunningServer::start(config.clone()).await?;
        tracing::info!(addr = %server.service_addr(), "test compute node started");
        Ok(ComputeNode {
            server,
            config,
            _dir: dir,
        })
    }

    /// Starts `n` compute nodes in this process over the same storage nodes and physical
    /// databases, each with its own data directory and node id: the nodes of one
    /// cluster when the configuration names etcd (`[cluster] etcd`).
    pub async fn start_many(self, n: usize) -> Result<Vec<ComputeNode>, TestkitError> {
        let mut nodes = Vec::with_capacity(n);
        for (i, (config, dir)) in self.configs_of_many(n).await?.into_iter().enumerate() {
            let server = RunningServer::start(config.clone()).await?;
            tracing::info!(addr = %server.service_addr(), node = i, "test compute node started");
            nodes.push(ComputeNode {
                server,
                config,
                _dir: dir,
            });
        }
        Ok(nodes)
    }

    /// Starts `n` compute nodes as `strata serve` child processes over the same storage
    /// nodes and physical databases, each with its own directory and node id (see
    /// `start_many`), for tests that kill one.
    pub async fn spawn_many(self, n: usize) -> Result<Vec<ComputeProcess>, TestkitError> {
        let mut nodes = Vec::with_capacity(n);
        for (config, dir) in self.configs_of_many(n).await? {
            nodes.push(ComputeProcess::spawn(config, dir).await?);
        }
        Ok(nodes)
    }

    /// The configurations (and data directories) of `n` compute nodes of one cluster:
    /// this builder's, each with its own data directory, and from the second on its
    /// own node id.
    async fn configs_of_many(mut self, n: usize) -> Result<Vec<(Config, TempDir)>, TestkitError> {
        let each = self.each.take();
        let (config, first_dir) = self.build_config().await?;
        let mut first_dir = Some(first_dir);
        let mut configs = Vec::with_capacity(n);
        for i in 0..n {
            let dir = match first_dir.take() {
                Some(d) => d,
                None => fixture_dir("compute")?,
            };
            let mut config = config.clone();
            config.server.data_dir = dir.path().join("meta");
            if i > 0 {
                config.server.node_id = next_node_id();
            }
            if let Some(each) = &each {
                each(i, &mut config);
            }
            configs.push((config, dir));
        }
        Ok(configs)
    }

    /// Starts the compute node as a `strata serve` child process on free ports.
    pub async fn spawn(self) -> Result<ComputeProcess, TestkitError> {
        let (config, dir) = self.build_config().await?;
        ComputeProcess::spawn(config, dir).await
    }
}

/// A compute node running in this process.
pub struct ComputeNode {
    server: RunningServer,
    config: Config,
    _dir: TempDir,
}

impl ComputeNode {
    /// Describes a compute node over `storage`.
    pub fn builder(storage: &StorageNodes) -> ComputeNodeBuilder<'_> {
        ComputeNodeBuilder {
            storage,
            logical_dbs: Vec::new(),
            tweaks: Vec::new(),
            each: None,
        }
    }

    /// Starts a compute node with the default configuration on the `n` storage nodes
    /// of [`crate::shared_storage`], as most tests need.
    pub async fn on_shared_storage(n: usize) -> Result<ComputeNode, TestkitError> {
        let storage = crate::shared_storage(n).await?;
        ComputeNode::builder(&storage).start().await
    }

    /// Starts a compute node on the `n` storage nodes of [`crate::shared_storage`] with
    /// `tweak` applied to the default configuration.
    pub async fn configured(
        n: usize,
        tweak: impl FnOnce(&mut Config) + Send + 'static,
    ) -> Result<ComputeNode, TestkitError> {
        let storage = crate::shared_storage(n).await?;
        ComputeNode::builder(&storage)
            .configure(tweak)
            .start()
            .await
    }

    /// The bound service address.
    pub fn service_addr(&self) -> SocketAddr {
        self.server.service_addr()
    }

    /// The bound admin port address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.server.admin_addr()
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.server.http_addr()
    }

    /// The running server (its context, `set_config_path` for RELOAD @@CONFIG).
    pub fn server(&self) -> &RunningServer {
        &self.server
    }

    /// `mysql_async` options for the admin port as `root`.
    pub fn admin_opts(&self) -> mysql_async::Opts {
        mysql_opts(self.admin_addr(), ROOT_USER, ROOT_PASSWORD, None)
    }

    /// The running node's shared state (storage health, topology, sessions).
    pub fn context(&self) -> &std::sync::Arc<strata_server::context::ServerContext> {
        self.server.context()
    }

    /// The configuration the node runs with (listener ports as configured, i.e. 0).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Physical database behind logical database `logical` (the same on every node).
    pub fn physical_database(&self, logical: &str) -> Option<&str> {
        physical_database(&self.config, logical)
    }

    /// `mysql_async` options for the service port as `root`.
    pub fn opts(&self, db: Option<&str>) -> mysql_async::Opts {
        mysql_opts(self.service_addr(), ROOT_USER, ROOT_PASSWORD, db)
    }

    /// Opens a connection to the service port as `root`.
    pub async fn connect(&self, db: Option<&str>) -> Result<mysql_async::Conn, TestkitError> {
        Ok(mysql_async::Conn::new(self.opts(db)).await?)
    }

    /// Stops the compute node and waits until it is down.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// Stops the compute node and starts it again with the same configuration and data
    /// directory (new ports), as an operator restarting `strata serve` would.
    pub async fn restart(self) -> Result<ComputeNode, TestkitError> {
        let ComputeNode {
            server,
            config,
            _dir,
        } = self;
        server.shutdown().await;
        // Background tasks of the old server may hold its metadata store a moment
        // longer (the store opens once per process).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match RunningServer::start(config.clone()).await {
                Ok(server) => {
                    return Ok(ComputeNode {
                        server,
                        config,
                        _dir,
                    })
                }
                Err(e)
                    if e.to_string().contains("already open")
                        && std::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Physical database of the first data node of logical database `logical`.
pub(crate) fn physical_database<'c>(config: &'c Config, logical: &str) -> Option<&'c str> {
    let db = config.databases.iter().find(|d| d.name == logical)?;
    let first = db.data_nodes.first()?;
    config
        .data_nodes
        .iter()
        .find(|dn| dn.id == *first)
        .map(|dn| dn.primary.database.as_str())
}

/// A compute node number not used by another compute node of this process: they share
/// storage nodes, where XA transaction ids (which contain it) must not collide.
fn next_node_id() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 65535 + 1
}
