//! What every session shares: the topology (logical databases, data nodes and their
//! pools), the accounts, TLS, and the registry of live sessions used by KILL and
//! SHOW PROCESSLIST.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strata_backend::{Pool, PoolSettings, StorageTarget};
use strata_catalog::DataNodeId;
use strata_catalog::{Catalog, Config, LogicDb, TableInfo};
use tokio::sync::Notify;

/// A data node with the pool of its primary storage node.
pub struct DataNode {
    /// DNID.
    pub id: DataNodeId,
    /// Physical database on the storage node.
    pub physical_db: Arc<str>,
    /// Connections to the primary.
    pub pool: Arc<Pool>,
    /// Where reads may go under read/write splitting (the heartbeat keeps it).
    pub reads: crate::read_split::ReadSet,
}

/// Logical databases (from the catalog) and data nodes with their pools.
pub struct Topology {
    /// Shared with the cluster watch, which applies other compute nodes' DDL to it.
    catalog: Arc<Catalog>,
    /// Sorted by id (looked up on every statement: a binary search over a few entries
    /// beats hashing the id).
    nodes: Vec<DataNode>,
    /// True when some physical database name differs from its logical one, so
    /// qualified names in statements must be rewritten.
    pub names_differ: bool,
}

impl Topology {
    /// Builds one pool per data node of the catalog (connections open on demand), over
    /// TLS for the storage nodes `storage_tls` lists.
    pub fn new(catalog: Catalog, storage_tls: &strata_backend::StorageTlsMap) -> Topology {
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
            let tls = storage_tls.get(&target).cloned();
            nodes.push(DataNode {
                id: dn.id,
                physical_db: Arc::from(p.database.as_str()),
                pool: Pool::with_tls(target, tls, settings.clone(), workers),
                reads: crate::read_split::ReadSet::new(settings.clone(), workers),
            });
        }
        nodes.sort_by_key(|n| n.id);
        let mut topology = Topology {
            catalog: Arc::new(catalog),
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
                .find(|d| d.physical.is_none() && d.data_nodes.contains(&n.id))
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

    /// The catalog, shared (for background threads that outlive a borrow).
    pub fn shared_catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog)
    }

    /// Looks a logical database up by its exact name.
    pub fn db(&self, name: &str) -> Option<Arc<LogicDb>> {
        self.catalog.logic_db(name)
    }

    /// Logical databases, by name.
    pub fn dbs(&self) -> Vec<Arc<LogicDb>> {
        self.catalog.logic_dbs()
    }

    /// The physical database of logical database `db` on data node `id`: its own
    /// (databases created through SQL) or the data node's configured one.
    pub fn physical(&self, db: &LogicDb, id: DataNodeId) -> Option<Arc<str>> {
        let node = self.node(id)?;
        Some(match &db.physical {
            Some(own) => Arc::from(own.as_str()),
            None => node.physical_db.clone(),
        })
    }

    /// The tables `wanted` picks, of every logical database, grouped by the first data
    /// node holding each and the physical database there (so that one query per data
    /// node can read about all of them): (logical database, table) pairs.
    pub fn tables_by_first_node(
        &self,
        wanted: impl Fn(&TableInfo) -> bool,
    ) -> BTreeMap<(DataNodeId, String), Vec<(String, String)>> {
        let mut grouped: BTreeMap<(DataNodeId, String), Vec<(String, String)>> = BTreeMap::new();
        for db in self.catalog.logic_dbs() {
            for (name, info) in self.catalog.tables(&db.name) {
                if !wanted(&info) {
                    continue;
                }
                let Some(&dnid) = info.data_nodes.first() else {
                    continue;
                };
                if let Some(physical) = self.physical(&db, dnid) {
                    grouped
                        .entry((dnid, physical.to_string()))
                        .or_default()
                        .push((db.name.clone(), name));
                }
            }
        }
        grouped
    }

    /// Where a session of `db` sends statements that name no table (its home), with
    /// the physical database there: the database's first data node, or while that
    /// one's storage server is down, the first live data node with the same physical
    /// database name (so names in replies are renamed alike).
    pub fn live_home(&self, db: &LogicDb) -> Option<(DataNodeId, Arc<str>)> {
        let first = home_node(db)?;
        let physical = self.physical(db, first)?;
        if !self.node(first)?.pool.is_down() {
            return Some((first, physical));
        }
        let live = db
            .default_data_nodes
            .iter()
            .chain(&db.data_nodes)
            .copied()
            .find(|&d| {
                self.node(d).is_some_and(|n| !n.pool.is_down())
                    && self.physical(db, d).as_deref() == Some(&*physical)
            });
        Some((live.unwrap_or(first), physical))
    }

    /// A data node by DNID.
    pub fn node(&self, id: DataNodeId) -> Option<&DataNode> {
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
pub fn home_node(db: &LogicDb) -> Option<DataNodeId> {
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
    /// Host pattern of the account the session logged in as (with `user`, the account:
    /// MAX_USER_CONNECTIONS counts per account).
    pub account_host: String,
    /// Current logical database.
    pub db: Mutex<Option<String>>,
    /// Statement being executed, if any (shares the request's buffer: no copy per statement).
    pub info: Mutex<Option<bytes::Bytes>>,
    /// When the current command started.
    pub since: Mutex<Instant>,
    /// The query id of its current (or latest) request, what `KILL QUERY ID` names and
    /// information_schema.PROCESSLIST's QUERY_ID shows.
    pub query_id: std::sync::atomic::AtomicU64,
    /// Storage nodes and threads currently running this session's statement.
    pub backend: Mutex<Vec<(DataNodeId, u32)>>,
    /// (data node, storage thread) of each branch of the session's open transaction,
    /// for the deadlock detector.
    pub branches: Mutex<Vec<(DataNodeId, u32)>>,
    /// Set when the deadlock detector chose this session's transaction as the victim.
    pub deadlock_victim: std::sync::atomic::AtomicBool,
    /// The session had a transaction open after its latest statement.
    pub in_transaction: std::sync::atomic::AtomicBool,
    /// Set to ask the session to close.
    pub killed: std::sync::atomic::AtomicBool,
    /// Wakes the session when killed.
    pub kill_signal: Notify,
    /// Wakes a wait on the compute node's own locks (KILL QUERY, KILL).
    pub interrupt: Notify,
    /// What the session's statement waits for on the compute node (the process list's
    /// State), if anything.
    pub waiting: Mutex<Option<&'static str>>,
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
    /// The last query id given to a request (MariaDB's global query id).
    next_query_id: std::sync::atomic::AtomicU64,
    /// Parsed statement shapes, so repeated shapes are not re-parsed.
    pub plans: strata_planner::PlanCache,
    /// Global variables set with `SET GLOBAL` on this compute node.
    pub globals: crate::globals::GlobalVariables,
    /// When the compute node started.
    pub started: Instant,
    /// Distributed transaction coordinator (XA ids, decision log, recovery, gate).
    pub xa: crate::xa::Coordinator,
    /// Schema names clients may not use (storage-internal and physical ones).
    pub private_schemas: crate::session::PrivateSchemas,
    /// The bound service port (what `@@port` answers).
    pub service_port: std::sync::atomic::AtomicU16,
    /// Accounts and privileges (swapped whole on every change).
    accounts: std::sync::RwLock<strata_catalog::accounts::Accounts>,
    /// Bumped on every account change, so sessions refresh their account cheaply.
    pub accounts_version: AtomicU64,
    /// Networks clients may connect from (empty: any); RELOAD @@CONFIG replaces them.
    allowed_networks: std::sync::RwLock<Vec<strata_catalog::security::Network>>,
    /// Failed-login limits in force (RELOAD @@CONFIG replaces them).
    security: std::sync::RwLock<strata_catalog::security::SecurityConfig>,
    /// The configuration file's accounts in force (FLUSH PRIVILEGES and RELOAD
    /// @@CONFIG bring them in).
    config_users: std::sync::RwLock<Vec<strata_catalog::config::UserConfig>>,
    /// Failed logins in a row per client address (FLUSH HOSTS clears them).
    failed_logins: Mutex<HashMap<std::net::IpAddr, u32>>,
    /// The audit log, when enabled.
    pub audit: Option<crate::audit::AuditLog>,
    /// The SQL firewall (RELOAD @@CONFIG replaces it).
    firewall: std::sync::RwLock<Arc<crate::firewall::Firewall>>,
    /// False when no firewall rule is configured: sessions skip it with one load.
    firewall_active: std::sync::atomic::AtomicBool,
    /// Counters for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The data nodes' time zone settings, as statements over several nodes read them.
    pub system_zones: crate::session::SystemZones,
    /// Statement statistics and the slow query log.
    pub stats: crate::stats::StatementStats,
    /// Set by OFFLINE on the admin port: new client connections are refused.
    offline: std::sync::atomic::AtomicBool,
    /// The file the configuration came from (RELOAD @@CONFIG re-reads it).
    config_path: Mutex<Option<std::path::PathBuf>>,
    /// The configuration last applied (at start or by RELOAD @@CONFIG).
    applied_config: Mutex<Config>,
    /// The bound admin and HTTP addresses.
    pub admin_addr: Mutex<Option<std::net::SocketAddr>>,
    /// The bound HTTP address.
    pub http_addr: Mutex<Option<std::net::SocketAddr>>,
    /// This node's membership of a cluster sharing metadata in etcd (None: embedded
    /// store); taken and dropped at shutdown, which ends its lease.
    pub cluster: Mutex<Option<strata_catalog::cluster::ClusterMembership>>,
    /// Test builds: a DDL stops here once every compute node acknowledged its
    /// announcement, before it changes the data nodes.
    #[cfg(feature = "failpoints")]
    pub ddl_announced: crate::failpoints::Pause,
    /// Test builds: a failover or switchover decided under the cluster's lock stops
    /// here, its new primary promoted, before it records it in etcd
    /// (`FailDecisionLog`: as if recording failed).
    #[cfg(feature = "failpoints")]
    pub ha_promoted: crate::failpoints::Pause,
    /// Storage nodes' health and roles, failovers (published by the heartbeat tasks).
    pub ha: Arc<crate::failover::HaState>,
    /// Long-running work and its progress (`SHOW @@JOB`).
    pub jobs: crate::jobs::JobRegistry,
    /// Where sorts, hash joins, groupings and DISTINCTs spill past the merge memory
    /// budget, and the disk all statements hold there; None when `merge.spill_cap` is 0
    /// (spilling off).
    pub spill: Option<(std::path::PathBuf, strata_executor::NodeSpill)>,
    /// FLUSH TABLES WITH READ LOCK: this compute node's global read lock.
    pub read_lock: crate::global_read_lock::GlobalReadLock,
}

/// Readies the spill directory at start-up (created, emptied of a crash's spill files,
/// checked writable); None when spilling is off. A directory that cannot be used stops
/// the start with an error naming it.
fn prepare_spill(
    config: &Config,
) -> Result<Option<(std::path::PathBuf, strata_executor::NodeSpill)>, strata_catalog::CatalogError>
{
    let merge = &config.merge;
    if merge.spill_cap == 0 {
        return Ok(None);
    }
    let dir = merge.effective_spill_dir(&config.server.data_dir);
    let swept = strata_executor::spill::prepare_dir(&dir).map_err(|problem| {
        strata_catalog::CatalogError::InvalidConfig {
            problems: vec![format!("merge.spill_dir: {problem}")],
        }
    })?;
    if swept > 0 {
        tracing::info!(dir = %dir.display(), files = swept, "removed spill files left by a crash");
    }
    Ok(Some((
        dir,
        strata_executor::NodeSpill::new(merge.spill_node_cap),
    )))
}

impl ServerContext {
    /// Builds the shared state (takes a new XA epoch from the metadata store).
    pub fn new(
        catalog: Catalog,
        tls: Option<Arc<rustls::ServerConfig>>,
        storage_tls: &strata_backend::StorageTlsMap,
    ) -> Result<ServerContext, strata_catalog::CatalogError> {
        let config = catalog.config();
        let xa = crate::xa::Coordinator::new(
            config.transaction.mode,
            config.server.node_id,
            catalog.shared_store(),
        )?;
        let accounts =
            strata_catalog::accounts::Accounts::load(catalog.store(), &catalog.config().users)?;
        let allowed_networks = catalog
            .config()
            .security
            .networks()
            .map_err(|problems| strata_catalog::CatalogError::InvalidConfig { problems })?;
        let audit = if catalog.config().audit.enabled {
            let log = crate::audit::AuditLog::start(
                &catalog.config().audit,
                &catalog.config().server.data_dir,
            )
            .map_err(|e| strata_catalog::CatalogError::InvalidConfig {
                problems: vec![e.to_string()],
            })?;
            Some(log)
        } else {
            None
        };
        let firewall = crate::firewall::Firewall::new(&catalog.config().firewall).map_err(|e| {
            strata_catalog::CatalogError::InvalidConfig {
                problems: vec![e.to_string()],
            }
        })?;
        let stats = crate::stats::StatementStats::new(
            &catalog.config().statistics,
            &catalog.config().slow_log,
            &catalog.config().server.data_dir,
        )
        .map_err(|e| strata_catalog::CatalogError::InvalidConfig {
            problems: vec![e.to_string()],
        })?;
        let spill = prepare_spill(catalog.config())?;
        let topology = Topology::new(catalog, storage_tls);
        let config = topology.catalog().config().clone();
        Ok(ServerContext {
            spill,
            ha: Arc::new(crate::failover::HaState::new(storage_tls.clone())),
            jobs: crate::jobs::JobRegistry::new(),
            audit,
            firewall_active: std::sync::atomic::AtomicBool::new(firewall.is_active()),
            firewall: std::sync::RwLock::new(Arc::new(firewall)),
            metrics: Default::default(),
            system_zones: Default::default(),
            stats,
            offline: Default::default(),
            config_path: Mutex::new(None),
            applied_config: Mutex::new(config.clone()),
            admin_addr: Mutex::new(None),
            http_addr: Mutex::new(None),
            cluster: Mutex::new(None),
            read_lock: Default::default(),
            #[cfg(feature = "failpoints")]
            ddl_announced: crate::failpoints::Pause::default(),
            #[cfg(feature = "failpoints")]
            ha_promoted: crate::failpoints::Pause::default(),
            security: std::sync::RwLock::new(config.security.clone()),
            config_users: std::sync::RwLock::new(config.users.clone()),
            accounts: std::sync::RwLock::new(accounts),
            accounts_version: AtomicU64::new(0),
            allowed_networks: std::sync::RwLock::new(allowed_networks),
            failed_logins: Mutex::new(HashMap::new()),
            xa,
            private_schemas: crate::session::PrivateSchemas::of(
                &topology,
                !config.server.storage_globals.is_private(),
            ),
            service_port: Default::default(),
            config,
            topology,
            tls,
            sha2_cache: Default::default(),
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
            next_query_id: std::sync::atomic::AtomicU64::new(0),
            plans: strata_planner::PlanCache::new(4096),
            globals: Default::default(),
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

    /// Allocates a query id (never 0: MariaDB's `KILL QUERY ID 0` names no query).
    pub fn next_query_id(&self) -> u64 {
        self.next_query_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The live session whose current (or latest) request has query id `id`.
    pub fn session_by_query_id(&self, id: u64) -> Option<(u32, Arc<SessionEntry>)> {
        self.sessions()
            .iter()
            .find(|(_, s)| s.query_id.load(Ordering::Relaxed) == id)
            .map(|(k, v)| (*k, v.clone()))
    }

    /// Registers a live session.
    pub fn register(&self, id: u32, entry: Arc<SessionEntry>) {
        let mut sessions = self.sessions();
        sessions.insert(id, entry);
        self.metrics.status.sessions_now(sessions.len());
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

    /// Whether a client from `ip` may connect at all: Err is the error it gets (1130
    /// outside the whitelist, 1129 when blocked by failed logins).
    pub fn admit(
        &self,
        ip: Option<std::net::IpAddr>,
        peer: &str,
    ) -> Result<(), strata_protocol::MysqlError> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let allowed = self
            .allowed_networks
            .read()
            .unwrap_or_else(|p| p.into_inner());
        if !allowed.is_empty() && !allowed.iter().any(|n| n.contains(ip)) {
            return Err(strata_protocol::MysqlError::new(
                (1130, "HY000"),
                format!("Host '{peer}' is not allowed to connect to this Strata server"),
            ));
        }
        drop(allowed);
        let limit = self.security().max_failed_logins;
        let failures = self.failed_login_count(ip);
        if limit > 0 && failures >= limit {
            return Err(strata_protocol::MysqlError::new(
                (1129, "HY000"),
                format!("Host '{peer}' is blocked because of many connection errors; unblock with 'FLUSH HOSTS'"),
            ));
        }
        Ok(())
    }

    fn failed_login_count(&self, ip: std::net::IpAddr) -> u32 {
        self.failed_logins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&ip)
            .copied()
            .unwrap_or(0)
    }

    /// Records a failed login from `ip`; returns how long to wait before answering it.
    pub fn login_failed(&self, ip: Option<std::net::IpAddr>) -> Duration {
        let Some(ip) = ip else {
            return Duration::ZERO;
        };
        let mut map = self.failed_logins.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        *n = n.saturating_add(1);
        Duration::from_millis(self.security().delay_ms(*n))
    }

    /// A login from `ip` succeeded: its failures are forgotten.
    pub fn login_succeeded(&self, ip: Option<std::net::IpAddr>) {
        if let Some(ip) = ip {
            self.failed_logins
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&ip);
        }
    }

    /// FLUSH HOSTS: unblocks every address.
    pub fn flush_hosts(&self) {
        self.failed_logins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The accounts in force (a cheap snapshot).
    pub fn accounts(&self) -> strata_catalog::accounts::Accounts {
        self.accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The account a login as `user` from `client` uses (most specific host first).
    pub fn login_account(
        &self,
        user: &str,
        client: std::net::IpAddr,
    ) -> Option<strata_catalog::accounts::Account> {
        self.accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .lookup(user, client)
            .cloned()
    }

    /// Applies an account change: `change` edits a copy, the copy's changes are stored,
    /// and only then do sessions see it. Serialized, so concurrent changes never lose
    /// one another.
    pub fn change_accounts(
        &self,
        change: impl FnOnce(
            &mut strata_catalog::accounts::Accounts,
        ) -> Result<
            strata_catalog::accounts::Changes,
            strata_catalog::accounts::AccountError,
        >,
    ) -> Result<strata_catalog::accounts::Changes, strata_catalog::accounts::AccountError> {
        let mut guard = self.accounts.write().unwrap_or_else(|p| p.into_inner());
        let mut copy = guard.clone();
        let changes = change(&mut copy)?;
        copy.save(self.topology.catalog().store(), &changes)?;
        *guard = copy;
        self.accounts_version.fetch_add(1, Ordering::AcqRel);
        // Some accounts of the statement failed: the others stay changed, as MariaDB's.
        if let Some(failed) = changes.failed {
            return Err(strata_catalog::accounts::AccountError::AccountsFailed(
                failed,
            ));
        }
        Ok(changes)
    }

    /// Re-reads the accounts from the metadata store (FLUSH PRIVILEGES).
    pub fn reload_accounts(&self) -> Result<(), strata_catalog::accounts::AccountError> {
        let catalog = self.topology.catalog();
        let users = self
            .config_users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let fresh = strata_catalog::accounts::Accounts::load(catalog.store(), &users)?;
        *self.accounts.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.accounts_version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Re-reads the accounts another compute node changed (no bootstrap accounts are
    /// written back, unlike `reload_accounts`: that would echo around the cluster).
    pub fn read_changed_accounts(&self) -> Result<(), strata_catalog::CatalogError> {
        let users = self
            .config_users
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let fresh =
            strata_catalog::accounts::Accounts::read(self.topology.catalog().store(), &users)?;
        *self.accounts.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.accounts_version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// The failed-login limits in force.
    pub fn security(&self) -> strata_catalog::security::SecurityConfig {
        self.security
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The SQL firewall, or None when it has no rule (one atomic load).
    pub fn firewall(&self) -> Option<Arc<crate::firewall::Firewall>> {
        if !self.firewall_active.load(Ordering::Relaxed) {
            return None;
        }
        Some(
            self.firewall
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }

    /// True while this node lost its cluster membership and has not reloaded the
    /// metadata and joined again: `/health` says offline and statements are refused.
    pub fn is_rejoining(&self) -> bool {
        self.topology.catalog().fence().is_rejoining()
    }

    /// True while OFFLINE: new client connections are refused.
    pub fn is_offline(&self) -> bool {
        self.offline.load(Ordering::Relaxed)
    }

    /// OFFLINE (true) or ONLINE (false); returns the previous state.
    pub fn set_offline(&self, offline: bool) -> bool {
        self.offline.swap(offline, Ordering::AcqRel)
    }

    /// Remembers the file the configuration came from, for RELOAD @@CONFIG.
    pub fn set_config_path(&self, path: std::path::PathBuf) {
        *self.config_path.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
    }

    /// The file the configuration came from, when known.
    pub fn config_path(&self) -> Option<std::path::PathBuf> {
        self.config_path
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The configuration last applied (the start-up one until a reload).
    pub fn applied_config(&self) -> Config {
        self.applied_config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records `config` as applied.
    pub(crate) fn set_applied_config(&self, config: Config) {
        *self
            .applied_config
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// Replaces the whitelist and the failed-login limits.
    pub(crate) fn replace_security(
        &self,
        security: strata_catalog::security::SecurityConfig,
    ) -> Result<(), Vec<String>> {
        let networks = security.networks()?;
        *self
            .allowed_networks
            .write()
            .unwrap_or_else(|p| p.into_inner()) = networks;
        *self.security.write().unwrap_or_else(|p| p.into_inner()) = security;
        Ok(())
    }

    /// Replaces the SQL firewall.
    pub(crate) fn replace_firewall(&self, firewall: crate::firewall::Firewall) {
        let active = firewall.is_active();
        *self.firewall.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(firewall);
        self.firewall_active.store(active, Ordering::Relaxed);
    }

    /// Replaces the configuration file's accounts and reloads the accounts with them.
    pub(crate) fn replace_config_users(
        &self,
        users: Vec<strata_catalog::config::UserConfig>,
    ) -> Result<(), strata_catalog::accounts::AccountError> {
        *self.config_users.write().unwrap_or_else(|p| p.into_inner()) = users;
        self.reload_accounts()
    }
}
