//! What every session shares: the topology (logical databases, data nodes and their
//! pools), the accounts, TLS, and the registry of live sessions used by KILL and
//! SHOW PROCESSLIST.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strata_backend::{Pool, PoolSettings, StorageTarget};
use strata_catalog::{Catalog, Config, LogicDb};
use tokio::sync::Notify;

/// A data node with the pool of its primary storage node.
pub struct DataNode {
    /// DNID.
    pub id: u32,
    /// Physical database on the storage node.
    pub physical_db: Arc<str>,
    /// Connections to the primary.
    pub pool: Arc<Pool>,
}

/// Logical databases (from the catalog) and data nodes with their pools.
pub struct Topology {
    catalog: Catalog,
    /// Sorted by id (looked up on every statement: a binary search over a few entries
    /// beats hashing the id).
    nodes: Vec<DataNode>,
    /// True when some physical database name differs from its logical one, so
    /// qualified names in statements must be rewritten.
    pub names_differ: bool,
}

impl Topology {
    /// Builds one pool per data node of the catalog (connections open on demand).
    pub fn new(catalog: Catalog) -> Topology {
        let config = catalog.config();
        let settings = PoolSettings {
            min_idle: config.pool.min_idle as usize,
            max_size: config.pool.max_size as usize,
            idle_timeout: Duration::from_millis(config.pool.idle_timeout_ms),
            connect_timeout: Duration::from_millis(config.pool.connect_timeout_ms),
            acquire_timeout: Duration::from_millis(config.pool.acquire_timeout_ms),
            health_check_interval: Duration::from_millis(
                config.pool.health_check_interval_ms.max(100),
            ),
        };
        let workers = config.server.effective_worker_threads();
        let mut nodes = Vec::new();
        for dn in catalog.data_nodes() {
            let p = &dn.primary;
            let target = StorageTarget {
                dnid: dn.id,
                host: p.host.clone(),
                port: p.port,
                user: p.user.clone(),
                password: p.password.clone(),
                database: p.database.clone(),
            };
            nodes.push(DataNode {
                id: dn.id,
                physical_db: Arc::from(p.database.as_str()),
                pool: Pool::new(target, settings.clone(), workers),
            });
        }
        nodes.sort_by_key(|n| n.id);
        let mut topology = Topology {
            catalog,
            nodes,
            names_differ: false,
        };
        topology.names_differ = topology.compute_names_differ();
        topology
    }

    fn compute_names_differ(&self) -> bool {
        // Data nodes of databases created later may differ too: assume the worst for
        // nodes that belong to no database yet.
        self.nodes.iter().any(|n| {
            match self
                .catalog
                .logic_dbs()
                .iter()
                .find(|d| d.data_nodes.contains(&n.id))
            {
                Some(db) => *db.name != *n.physical_db,
                None => true,
            }
        })
    }

    /// The catalog of logical databases.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Looks a logical database up by its exact name.
    pub fn db(&self, name: &str) -> Option<Arc<LogicDb>> {
        self.catalog.logic_db(name)
    }

    /// Logical databases, by name.
    pub fn dbs(&self) -> Vec<Arc<LogicDb>> {
        self.catalog.logic_dbs()
    }

    /// A data node by DNID.
    pub fn node(&self, id: u32) -> Option<&DataNode> {
        let i = self.nodes.binary_search_by_key(&id, |n| n.id).ok()?;
        self.nodes.get(i)
    }

    /// All data nodes, by id.
    pub fn nodes(&self) -> impl Iterator<Item = &DataNode> {
        self.nodes.iter()
    }
}

/// The data node that holds a logical database's tables until sharding routes them:
/// its first default data node.
pub fn home_node(db: &LogicDb) -> Option<u32> {
    db.default_data_nodes
        .first()
        .or(db.data_nodes.first())
        .copied()
}

/// What SHOW PROCESSLIST and KILL know about a live session.
pub struct SessionEntry {
    /// Account name.
    pub user: String,
    /// Client address.
    pub host: String,
    /// Current logical database.
    pub db: Mutex<Option<String>>,
    /// Statement being executed, if any (shares the request's buffer: no copy per statement).
    pub info: Mutex<Option<bytes::Bytes>>,
    /// When the current command started.
    pub since: Mutex<Instant>,
    /// Storage nodes and threads currently running this session's statement.
    pub backend: Mutex<Vec<(u32, u32)>>,
    /// (data node, storage thread) of each branch of the session's open transaction,
    /// for the deadlock detector.
    pub branches: Mutex<Vec<(u32, u32)>>,
    /// Set when the deadlock detector chose this session's transaction as the victim.
    pub deadlock_victim: std::sync::atomic::AtomicBool,
    /// Set to ask the session to close.
    pub killed: std::sync::atomic::AtomicBool,
    /// Wakes the session when killed.
    pub kill_signal: Notify,
}

/// Shared state of one compute node.
pub struct ServerContext {
    /// The configuration it was started with.
    pub config: Config,
    /// Logical databases and data nodes.
    pub topology: Topology,
    /// TLS for the service port, when configured.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Users who completed caching_sha2_password full authentication.
    pub sha2_cache: strata_protocol::FastAuthCache,
    sessions: Mutex<HashMap<u32, Arc<SessionEntry>>>,
    next_id: AtomicU32,
    /// Parsed statement shapes, so repeated shapes are not re-parsed.
    pub plans: strata_planner::PlanCache,
    /// Statements received, for COM_STATISTICS.
    pub questions: AtomicU64,
    /// When the compute node started.
    pub started: Instant,
    /// Distributed transaction coordinator (XA ids, decision log, recovery, gate).
    pub xa: crate::xa::Coordinator,
    /// Schema names clients may not use (storage-internal and physical ones).
    pub private_schemas: crate::session::PrivateSchemas,
    /// The bound service port (what `@@port` answers).
    pub service_port: std::sync::atomic::AtomicU16,
}

impl ServerContext {
    /// Builds the shared state (takes a new XA epoch from the metadata store).
    pub fn new(
        catalog: Catalog,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<ServerContext, strata_catalog::CatalogError> {
        let config = catalog.config();
        let xa = crate::xa::Coordinator::new(
            config.transaction.mode,
            config.server.node_id,
            catalog.shared_store(),
        )?;
        let topology = Topology::new(catalog);
        Ok(ServerContext {
            xa,
            private_schemas: crate::session::PrivateSchemas::of(&topology),
            service_port: Default::default(),
            config: topology.catalog().config().clone(),
            topology,
            tls,
            sha2_cache: Default::default(),
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
            plans: strata_planner::PlanCache::new(4096),
            questions: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<SessionEntry>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Allocates a connection id.
    pub fn next_connection_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a live session.
    pub fn register(&self, id: u32, entry: Arc<SessionEntry>) {
        self.sessions().insert(id, entry);
    }

    /// Forgets a closed session.
    pub fn unregister(&self, id: u32) {
        self.sessions().remove(&id);
    }

    /// A live session by id.
    pub fn session(&self, id: u32) -> Option<Arc<SessionEntry>> {
        self.sessions().get(&id).cloned()
    }

    /// All live sessions, by id.
    pub fn all_sessions(&self) -> Vec<(u32, Arc<SessionEntry>)> {
        let mut v: Vec<_> = self
            .sessions()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions().len()
    }

    /// The credential a login as `user` is verified against (`None`: unknown user, which
    /// fails like a wrong password), built from the config's clear-text password until
    /// accounts come from the catalog's `Accounts`.
    pub fn credentials(&self, user: &str) -> Option<strata_protocol::Credential> {
        self.config.users.iter().find(|u| u.name == user).map(|u| {
            // A fixed salt keeps the credential identical across logins, which the
            // caching_sha2 fast path requires; it is rebuilt per login and never stored.
            strata_protocol::Credential::from_password_with_salt(
                &u.password,
                "strata-config-users.",
            )
            .requiring(
                u.auth_plugin
                    .as_deref()
                    .and_then(strata_protocol::AuthPlugin::from_name),
            )
        })
    }

    /// True when `user` may use logical database `db`.
    pub fn may_use(&self, user: &str, db: &str) -> bool {
        self.config
            .users
            .iter()
            .find(|u| u.name == user)
            .is_some_and(|u| {
                u.databases
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|d| d == db))
            })
    }
}
