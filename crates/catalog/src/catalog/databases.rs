//! Logical databases: what the router knows of one, and creating and dropping them at runtime.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::Catalog;
use crate::config::RwSplit;
use crate::error::CatalogError;
use crate::load::{check_database_set, check_logic_db};
use crate::store::{now_ms, DatabaseMeta};
use crate::DataNodeId;

/// Where a logical database is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbOrigin {
    /// The configuration file (changed by editing the file).
    Config,
    /// CREATE DATABASE at runtime (kept in the metadata store).
    Runtime,
}

/// A logical database as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicDb {
    /// Name, case-sensitive.
    pub name: String,
    /// DNIDs it spans.
    pub data_nodes: Vec<DataNodeId>,
    /// DNIDs for tables without a distribution clause (all of `data_nodes` when not set).
    pub default_data_nodes: Vec<DataNodeId>,
    /// Where it is defined.
    pub origin: DbOrigin,
    /// Its own physical database on each of its data nodes (databases created through
    /// SQL, which share data nodes); None: each data node's configured database.
    pub physical: Option<String>,
    /// Where its reads outside transactions go.
    pub rw_split: RwSplit,
}

impl LogicDb {
    /// The physical database holding this database's tables on a data node whose
    /// configured database is `node_database`.
    pub fn physical_on<'a>(&'a self, node_database: &'a str) -> &'a str {
        self.physical.as_deref().unwrap_or(node_database)
    }
}

impl Catalog {
    /// Creates a logical database at runtime and persists it. Rejects a name that exists
    /// (also differing only in case), undefined data nodes and nodes another database uses.
    pub fn create_database(
        &self,
        name: &str,
        data_nodes: Vec<DataNodeId>,
        default_data_nodes: Option<Vec<DataNodeId>>,
    ) -> Result<Arc<LogicDb>, CatalogError> {
        let mut dbs = self.write();
        if dbs.contains_key(name) {
            return Err(CatalogError::DatabaseExists(name.to_string()));
        }
        let new = new_meta(data_nodes, default_data_nodes, None, RwSplit::Off);
        let mut problems = node_problems(name, &new, &self.known_data_nodes());
        let all = dbs
            .values()
            .map(|d| (d.name.as_str(), owned_nodes(d)))
            .chain(std::iter::once((name, new.data_nodes.as_slice())));
        check_database_set(all, &mut problems);
        let db = self.record_database(&mut dbs, name, new, problems)?;
        tracing::info!(database = %name, data_nodes = ?db.data_nodes, "logical database created");
        Ok(db)
    }

    /// Records a logical database created through SQL: it has its own physical
    /// database, named like it, on each of `data_nodes`, which it may share with other
    /// databases. Rejects a name that exists (also differing only in case), a name that
    /// is some data node's configured physical database, and undefined data nodes.
    /// The caller creates the physical databases first, so the record never names
    /// something that does not exist.
    pub fn create_database_with_own_schema(
        &self,
        name: &str,
        data_nodes: Vec<DataNodeId>,
        default_data_nodes: Option<Vec<DataNodeId>>,
        rw_split: RwSplit,
    ) -> Result<Arc<LogicDb>, CatalogError> {
        let mut dbs = self.write();
        if let Some(existing) = dbs.keys().find(|d| d.eq_ignore_ascii_case(name)) {
            return Err(CatalogError::DatabaseExists(existing.clone()));
        }
        let mut problems = Vec::new();
        if let Some(dn) = self
            .data_nodes
            .values()
            .find(|dn| dn.primary.database.eq_ignore_ascii_case(name))
        {
            problems.push(format!(
                "database name '{name}' is the physical database of data node {}",
                dn.id
            ));
        }
        let new = new_meta(
            data_nodes,
            default_data_nodes,
            Some(name.to_string()),
            rw_split,
        );
        problems.extend(node_problems(name, &new, &self.known_data_nodes()));
        let db = self.record_database(&mut dbs, name, new, problems)?;
        tracing::info!(database = %name, data_nodes = ?db.data_nodes, "logical database created with its own physical databases");
        Ok(db)
    }

    /// Sets the read/write splitting of a database created at runtime and persists it
    /// (`ALTER DATABASE ... RW_SPLIT`); a configured database's is set in the file.
    pub fn set_database_rw_split(
        &self,
        name: &str,
        rw_split: RwSplit,
    ) -> Result<Arc<LogicDb>, CatalogError> {
        let mut dbs = self.write();
        made_at_runtime(&dbs, name, "set its rw_split there")?;
        let mut meta = self
            .store
            .database(name)?
            .ok_or_else(|| CatalogError::UnknownDatabase(name.to_string()))?;
        meta.rw_split = rw_split;
        self.store.put_database(name, &meta)?;
        let db = Arc::new(runtime_db(name.to_string(), meta));
        dbs.insert(name.to_string(), Arc::clone(&db));
        tracing::info!(database = %name, rw_split = rw_split.as_str(), "read/write splitting changed");
        Ok(db)
    }

    /// Drops a logical database created at runtime, with its table records. Databases from
    /// the configuration file cannot be dropped this way.
    pub fn drop_database(&self, name: &str) -> Result<(), CatalogError> {
        let mut dbs = self.write();
        made_at_runtime(&dbs, name, "remove it there")?;
        let mut tables = self.tables_write();
        self.store.drop_database(name)?;
        dbs.remove(name);
        for table in tables.remove(name).unwrap_or_default().keys() {
            self.remove_counter(name, table);
        }
        self.sequences.forget_database(name);
        self.forget_views_of(name);
        if let Err(e) = self.store.drop_definers_of(name) {
            // Left behind, they are replaced when objects of those names are created.
            tracing::warn!(database = %name, error = %e, "definers of a dropped database not removed");
        }
        tracing::info!(database = %name, "logical database dropped");
        Ok(())
    }

    /// The DNIDs of the configured data nodes.
    fn known_data_nodes(&self) -> HashSet<DataNodeId> {
        self.data_nodes.keys().copied().collect()
    }

    /// Persists and publishes a new runtime database, unless `problems` found any.
    fn record_database(
        &self,
        dbs: &mut BTreeMap<String, Arc<LogicDb>>,
        name: &str,
        new: DatabaseMeta,
        problems: Vec<String>,
    ) -> Result<Arc<LogicDb>, CatalogError> {
        if !problems.is_empty() {
            return Err(CatalogError::Invalid(problems.join("; ")));
        }
        self.store.put_database(name, &new)?;
        let db = Arc::new(runtime_db(name.to_string(), new));
        dbs.insert(name.to_string(), Arc::clone(&db));
        Ok(db)
    }
}

/// The record of a database created now.
fn new_meta(
    data_nodes: Vec<DataNodeId>,
    default_data_nodes: Option<Vec<DataNodeId>>,
    physical: Option<String>,
    rw_split: RwSplit,
) -> DatabaseMeta {
    DatabaseMeta {
        data_nodes,
        default_data_nodes,
        created_at_ms: now_ms(),
        physical,
        rw_split,
    }
}

/// What is wrong with a runtime database's data nodes (unknown ones, defaults outside
/// them), given the data nodes that exist.
pub(super) fn node_problems(
    name: &str,
    meta: &DatabaseMeta,
    known: &HashSet<DataNodeId>,
) -> Vec<String> {
    let mut problems = Vec::new();
    check_logic_db(
        name,
        &meta.data_nodes,
        meta.default_data_nodes.as_deref(),
        known,
        &mut problems,
    );
    problems
}

/// A database created at runtime, as the router sees it.
pub(super) fn runtime_db(name: String, meta: DatabaseMeta) -> LogicDb {
    let default_data_nodes = meta
        .default_data_nodes
        .unwrap_or_else(|| meta.data_nodes.clone());
    LogicDb {
        name,
        data_nodes: meta.data_nodes,
        default_data_nodes,
        origin: DbOrigin::Runtime,
        physical: meta.physical,
        rw_split: meta.rw_split,
    }
}

/// The data nodes a database owns exclusively (none when it has its own physical
/// databases).
fn owned_nodes(db: &LogicDb) -> &[DataNodeId] {
    match db.physical {
        Some(_) => &[],
        None => &db.data_nodes,
    }
}

/// Ok when `name` is a database made at runtime; a configured one is refused, the
/// message ending with what to do in the file (`in_file`).
fn made_at_runtime(
    dbs: &BTreeMap<String, Arc<LogicDb>>,
    name: &str,
    in_file: &str,
) -> Result<(), CatalogError> {
    match dbs.get(name).map(|d| d.origin) {
        None => Err(CatalogError::UnknownDatabase(name.to_string())),
        Some(DbOrigin::Config) => Err(CatalogError::Invalid(format!(
            "database '{name}' is defined in the configuration file; {in_file}"
        ))),
        Some(DbOrigin::Runtime) => Ok(()),
    }
}
