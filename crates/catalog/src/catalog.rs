//! The catalog the server reads on every statement: logical databases (from the
//! configuration plus those created at runtime and kept in the metadata store), data
//! nodes, physical database names, users, tables with their distributions, named sharding
//! rules, tables declared in the configuration, and the global AUTO_INCREMENT sequences.
//! Reads take a shared lock and clone an `Arc`; runtime changes (CREATE/DROP DATABASE,
//! CREATE/DROP/RENAME TABLE) are validated, persisted, then published.
//!
//! This file opens the catalog and answers the lookups; `databases` changes logical
//! databases, `tables` the table records, `declared` reads what the configuration
//! declares, and `remote` applies other compute nodes' changes.

mod databases;
mod declared;
mod remote;
mod tables;
mod views;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::{Config, DataNodeConfig, UserConfig};
use crate::error::CatalogError;
use crate::load::check_database_set;
use crate::sequence::Sequences;
use crate::sharding::ShardingRule;
use crate::store::MetadataStore;
use crate::table::TableInfo;
use crate::DataNodeId;

pub use databases::{DbOrigin, LogicDb};
pub use declared::{DeclaredDistribution, TableDeclaration};
pub use remote::RemoteListener;

use databases::{node_problems, runtime_db};
use declared::declarations;
use remote::ListenerSlot;
use tables::load_tables;
use views::{load_views, ViewMap, ViewsGuard};

/// Tables by database, then by name (both case-sensitive).
type TableMap = BTreeMap<String, BTreeMap<String, Arc<TableInfo>>>;

/// Configuration plus persisted metadata; share it as `Arc<Catalog>`.
#[derive(Debug)]
pub struct Catalog {
    config: Config,
    data_nodes: BTreeMap<DataNodeId, DataNodeConfig>,
    store: Arc<MetadataStore>,
    sequences: Sequences,
    rules: BTreeMap<String, Arc<ShardingRule>>,
    declared: BTreeMap<String, BTreeMap<String, Arc<TableDeclaration>>>,
    dbs: RwLock<BTreeMap<String, Arc<LogicDb>>>,
    /// Lock order: `dbs` before `tables`.
    tables: RwLock<TableMap>,
    /// Views by database, then by name. Lock order: `tables` before `views`.
    views: RwLock<ViewMap>,
    /// Whether `views` holds any (read on every planned statement without the lock).
    has_views: std::sync::atomic::AtomicBool,
    /// Told about accounts and databases another compute node changed (the server
    /// re-reads accounts and updates its schema policy).
    remote_listener: ListenerSlot,
    /// Holds statements back from tables a DDL through any compute node is changing.
    fence: crate::fence::MetadataFence,
}

impl Catalog {
    /// Validates `config`, opens the metadata store (`config.server.data_dir`, or etcd
    /// with `[cluster] etcd`) and merges the databases defined in both. A stored database that now conflicts with the
    /// configuration (same name, unknown or shared data node) is an error, not a guess.
    pub fn open(config: Config) -> Result<Catalog, CatalogError> {
        config.validate()?;
        let store = MetadataStore::for_config(&config)?;
        let mut dbs = BTreeMap::new();
        for db in &config.databases {
            let default_data_nodes = db
                .default_data_nodes
                .clone()
                .unwrap_or_else(|| db.data_nodes.clone());
            let logic = LogicDb {
                name: db.name.clone(),
                data_nodes: db.data_nodes.clone(),
                default_data_nodes,
                origin: DbOrigin::Config,
                physical: None,
                rw_split: db.rw_split,
            };
            dbs.insert(db.name.clone(), Arc::new(logic));
        }
        let known: HashSet<DataNodeId> = config.data_nodes.iter().map(|d| d.id).collect();
        let mut problems = Vec::new();
        let stored = store.list_databases()?;
        for (name, meta) in &stored {
            problems.extend(
                node_problems(name, meta, &known)
                    .into_iter()
                    .map(|p| format!("{p} (database created at runtime)")),
            );
        }
        // Databases with their own physical databases share data nodes; the others own
        // theirs, and every name is unique.
        let all = dbs
            .values()
            .map(|d| (d.name.as_str(), d.data_nodes.as_slice()))
            .chain(stored.iter().map(|(n, m)| {
                let nodes: &[DataNodeId] = match m.physical {
                    Some(_) => &[],
                    None => m.data_nodes.as_slice(),
                };
                (n.as_str(), nodes)
            }));
        check_database_set(all, &mut problems);
        if !problems.is_empty() {
            return Err(CatalogError::InvalidConfig { problems });
        }
        for (name, meta) in stored {
            dbs.insert(name.clone(), Arc::new(runtime_db(name, meta)));
        }
        let tables = load_tables(&store, &dbs)?;
        let views = load_views(&store, &dbs)?;
        let (rules, declared) = declarations(&config, &dbs)?;
        for user in &config.users {
            for db in user.databases.iter().flatten() {
                if !dbs.contains_key(db) {
                    tracing::warn!(user = %user.name, database = %db, "user is granted a database that does not exist");
                }
            }
        }
        let data_nodes = config
            .data_nodes
            .iter()
            .map(|d| (d.id, d.clone()))
            .collect();
        tracing::info!(
            databases = dbs.len(),
            data_nodes = config.data_nodes.len(),
            tables = tables.values().map(BTreeMap::len).sum::<usize>(),
            rules = rules.len(),
            "catalog open"
        );
        let store = Arc::new(store);
        Ok(Catalog {
            config,
            data_nodes,
            sequences: Sequences::new(Arc::clone(&store)),
            store,
            rules,
            declared,
            dbs: RwLock::new(dbs),
            tables: RwLock::new(tables),
            has_views: std::sync::atomic::AtomicBool::new(!views.is_empty()),
            views: RwLock::new(views),
            remote_listener: ListenerSlot::default(),
            fence: crate::fence::MetadataFence::default(),
        })
    }

    /// The configuration the catalog was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The metadata store (table records, counters).
    pub fn store(&self) -> &MetadataStore {
        &self.store
    }

    /// The metadata fence (active only in a cluster sharing metadata through etcd).
    pub fn fence(&self) -> &crate::fence::MetadataFence {
        &self.fence
    }

    /// The metadata store, shared (for tasks that outlive a borrow, e.g. the XA log writer).
    pub fn shared_store(&self) -> Arc<MetadataStore> {
        Arc::clone(&self.store)
    }

    /// The logical database named exactly `name` (case-sensitive, as MySQL on Linux).
    pub fn logic_db(&self, name: &str) -> Option<Arc<LogicDb>> {
        self.read().get(name).cloned()
    }

    /// All logical databases, sorted by name (the order of SHOW DATABASES).
    pub fn logic_dbs(&self) -> Vec<Arc<LogicDb>> {
        self.read().values().cloned().collect()
    }

    /// The data node with this DNID.
    pub fn data_node(&self, dnid: DataNodeId) -> Option<&DataNodeConfig> {
        self.data_nodes.get(&dnid)
    }

    /// All data nodes, by DNID.
    pub fn data_nodes(&self) -> impl Iterator<Item = &DataNodeConfig> {
        self.data_nodes.values()
    }

    /// The physical database of a data node's storage nodes.
    pub fn physical_db(&self, dnid: DataNodeId) -> Option<&str> {
        self.data_node(dnid).map(|d| d.primary.database.as_str())
    }

    /// The configured client accounts.
    pub fn users(&self) -> &[UserConfig] {
        &self.config.users
    }

    /// The account named exactly `name`.
    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.config.users.iter().find(|u| u.name == name)
    }

    /// The global AUTO_INCREMENT sequences.
    pub fn sequences(&self) -> &Sequences {
        &self.sequences
    }

    /// The named sharding rule from the configuration.
    pub fn rule(&self, name: &str) -> Option<Arc<ShardingRule>> {
        self.rules.get(name).cloned()
    }

    /// All named rules, by name.
    pub fn rules(&self) -> impl Iterator<Item = &Arc<ShardingRule>> {
        self.rules.values()
    }

    /// The configuration's declaration of `db`.`name`, if any.
    pub fn declared_table(&self, db: &str, name: &str) -> Option<Arc<TableDeclaration>> {
        self.declared.get(db)?.get(name).cloned()
    }

    fn tables_read(&self) -> RwLockReadGuard<'_, TableMap> {
        // Single-operation updates: a poisoned lock is still consistent.
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn tables_write(&self) -> RwLockWriteGuard<'_, TableMap> {
        self.tables.write().unwrap_or_else(|e| e.into_inner())
    }

    fn views_read(&self) -> RwLockReadGuard<'_, ViewMap> {
        self.views.read().unwrap_or_else(|e| e.into_inner())
    }

    fn views_write(&self) -> ViewsGuard<'_> {
        ViewsGuard {
            guard: self.views.write().unwrap_or_else(|e| e.into_inner()),
            flag: &self.has_views,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Arc<LogicDb>>> {
        // A panic while holding the lock cannot leave the map half-updated (inserts and
        // removes are single operations), so a poisoned lock is still consistent.
        self.dbs.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Arc<LogicDb>>> {
        self.dbs.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
