//! The catalog the server reads on every statement: logical databases (from the
//! configuration plus those created at runtime and kept in the metadata store), data
//! nodes, physical database names, users, tables with their distributions, named sharding
//! rules, tables declared in the configuration, and the global AUTO_INCREMENT sequences.
//! Reads take a shared lock and clone an `Arc`; runtime changes (CREATE/DROP DATABASE,
//! CREATE/DROP/RENAME TABLE) are validated, persisted, then published.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::{Config, DataNodeConfig, TableType, UserConfig};
use crate::error::CatalogError;
use crate::load::{
    check_database_set, check_logic_db, declared_rule, rule_from_config, validate_table_name,
};
use crate::sequence::{counter_name, Sequences};
use crate::sharding::{Distribution, KeyType, ShardingRule};
use crate::store::{now_ms, DatabaseMeta, MetaChange, MetadataStore};
use crate::table::TableInfo;
use crate::unique_keys::{unique_key_violations, KeyViolation, UniqueKey};
use crate::DataNodeId;

/// Tables by database, then by name (both case-sensitive).
type TableMap = BTreeMap<String, BTreeMap<String, Arc<TableInfo>>>;

/// A table's distribution as declared in the configuration, before its column types
/// are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredDistribution {
    /// Sharded on `column` by `rule`.
    Sharded {
        /// The sharding column.
        column: String,
        /// The rule (named or inline).
        rule: ShardingRule,
    },
    /// A copy on each of the database's data nodes.
    Global {
        /// The database's data nodes.
        data_nodes: Vec<DataNodeId>,
    },
    /// On one data node.
    Vertical {
        /// The data node.
        dnid: DataNodeId,
    },
    /// With its parent rows.
    Child {
        /// Parent table.
        parent: String,
        /// Parent's sharding column.
        parent_column: String,
        /// This table's joining column.
        column: String,
    },
}

/// A table declared in the configuration: a plain CREATE TABLE of that name gets this
/// distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDeclaration {
    /// The declared placement.
    pub distribution: DeclaredDistribution,
    /// The global AUTO_INCREMENT column, if declared.
    pub auto_increment_column: Option<String>,
}

impl DeclaredDistribution {
    /// The distribution itself; `sharded` makes a sharded table's, which depends on the
    /// sharding column's key type, known only from a column definition.
    pub fn resolve<E>(
        &self,
        sharded: impl FnOnce(&str, &ShardingRule) -> Result<Distribution, E>,
    ) -> Result<Distribution, E> {
        Ok(match self {
            DeclaredDistribution::Sharded { column, rule } => return sharded(column, rule),
            DeclaredDistribution::Global { data_nodes } => Distribution::Global {
                data_nodes: data_nodes.clone(),
            },
            DeclaredDistribution::Vertical { dnid } => Distribution::Vertical { dnid: *dnid },
            DeclaredDistribution::Child {
                parent,
                parent_column,
                column,
            } => Distribution::Child {
                parent: parent.clone(),
                parent_column: parent_column.clone(),
                column: column.clone(),
            },
        })
    }
}

impl TableDeclaration {
    /// The table to create, given the sharding column's key type (from the CREATE TABLE
    /// column definition; only sharded tables need it).
    pub fn table_info(&self, key_type: Option<KeyType>) -> Result<TableInfo, CatalogError> {
        let distribution = self.distribution.resolve(|column, rule| {
            let key_type = key_type.ok_or_else(|| {
                CatalogError::Invalid(format!(
                    "the type of sharding column '{column}' is needed to create the table"
                ))
            })?;
            Distribution::sharded(column.to_string(), key_type, rule.clone())
                .map_err(|e| CatalogError::Invalid(e.to_string()))
        })?;
        let mut info = TableInfo::new(distribution);
        info.auto_increment_column = self.auto_increment_column.clone();
        Ok(info)
    }
}

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
}

impl LogicDb {
    /// The physical database holding this database's tables on a data node whose
    /// configured database is `node_database`.
    pub fn physical_on<'a>(&'a self, node_database: &'a str) -> &'a str {
        self.physical.as_deref().unwrap_or(node_database)
    }
}

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
    /// Told about accounts and databases another compute node changed (the server
    /// re-reads accounts and updates its schema policy).
    remote_listener: ListenerSlot,
}

/// What `Catalog::on_remote_change` registers.
pub type RemoteListener = Box<dyn Fn(&MetaChange) + Send + Sync>;

/// The registered listener (a closure: shown only as present or not).
#[derive(Default)]
struct ListenerSlot(RwLock<Option<RemoteListener>>);

impl std::fmt::Debug for ListenerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.0.read().map(|l| l.is_some()).unwrap_or(false);
        f.debug_tuple("ListenerSlot").field(&set).finish()
    }
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
            };
            dbs.insert(db.name.clone(), Arc::new(logic));
        }
        let known: HashSet<DataNodeId> = config.data_nodes.iter().map(|d| d.id).collect();
        let mut problems = Vec::new();
        let stored = store.list_databases()?;
        for (name, meta) in &stored {
            let mut found = Vec::new();
            check_logic_db(
                name,
                &meta.data_nodes,
                meta.default_data_nodes.as_deref(),
                &known,
                &mut found,
            );
            problems.extend(
                found
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
            remote_listener: ListenerSlot::default(),
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
        let mut problems = Vec::new();
        let known: HashSet<DataNodeId> = self.data_nodes.keys().copied().collect();
        check_logic_db(
            name,
            &data_nodes,
            default_data_nodes.as_deref(),
            &known,
            &mut problems,
        );
        let all = dbs
            .values()
            .map(|d| (d.name.as_str(), owned_nodes(d)))
            .chain(std::iter::once((name, data_nodes.as_slice())));
        check_database_set(all, &mut problems);
        if !problems.is_empty() {
            return Err(CatalogError::Invalid(problems.join("; ")));
        }
        let meta = DatabaseMeta {
            data_nodes,
            default_data_nodes,
            created_at_ms: now_ms(),
            physical: None,
        };
        self.store.put_database(name, &meta)?;
        let db = Arc::new(runtime_db(name.to_string(), meta));
        dbs.insert(name.to_string(), Arc::clone(&db));
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
        let known: HashSet<DataNodeId> = self.data_nodes.keys().copied().collect();
        check_logic_db(
            name,
            &data_nodes,
            default_data_nodes.as_deref(),
            &known,
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(CatalogError::Invalid(problems.join("; ")));
        }
        let meta = DatabaseMeta {
            data_nodes,
            default_data_nodes,
            created_at_ms: now_ms(),
            physical: Some(name.to_string()),
        };
        self.store.put_database(name, &meta)?;
        let db = Arc::new(runtime_db(name.to_string(), meta));
        dbs.insert(name.to_string(), Arc::clone(&db));
        tracing::info!(database = %name, data_nodes = ?db.data_nodes, "logical database created with its own physical databases");
        Ok(db)
    }

    /// Drops a logical database created at runtime, with its table records. Databases from
    /// the configuration file cannot be dropped this way.
    pub fn drop_database(&self, name: &str) -> Result<(), CatalogError> {
        let mut dbs = self.write();
        match dbs.get(name).map(|d| d.origin) {
            None => Err(CatalogError::UnknownDatabase(name.to_string())),
            Some(DbOrigin::Config) => Err(CatalogError::Invalid(format!(
                "database '{name}' is defined in the configuration file; remove it there"
            ))),
            Some(DbOrigin::Runtime) => {
                let mut tables = self.tables_write();
                self.store.drop_database(name)?;
                dbs.remove(name);
                for table in tables.remove(name).unwrap_or_default().keys() {
                    self.remove_counter(name, table);
                }
                self.sequences.forget_database(name);
                tracing::info!(database = %name, "logical database dropped");
                Ok(())
            }
        }
    }

    /// The global AUTO_INCREMENT sequences.
    pub fn sequences(&self) -> &Sequences {
        &self.sequences
    }

    /// The table `db`.`name` (both case-sensitive, as MariaDB on Linux).
    pub fn table(&self, db: &str, name: &str) -> Option<Arc<TableInfo>> {
        self.tables_read().get(db)?.get(name).cloned()
    }

    /// The tables of a database, sorted by name.
    pub fn tables(&self, db: &str) -> Vec<(String, Arc<TableInfo>)> {
        self.tables_read()
            .get(db)
            .map(|t| t.iter().map(|(n, i)| (n.clone(), Arc::clone(i))).collect())
            .unwrap_or_default()
    }

    /// Records a new table and persists it. Checks: the database exists, the name is
    /// valid and free, the distribution is valid and uses only the database's data nodes,
    /// a global table covers all of them, a child's parent exists in the same database
    /// and is sharded on the parent column. Fills in `data_nodes`.
    pub fn create_table(
        &self,
        db: &str,
        name: &str,
        info: TableInfo,
    ) -> Result<Arc<TableInfo>, CatalogError> {
        let dbs = self.read();
        let logic = dbs
            .get(db)
            .ok_or_else(|| CatalogError::UnknownDatabase(db.to_string()))?;
        validate_table_name(name).map_err(CatalogError::Invalid)?;
        let mut tables = self.tables_write();
        let existing = tables.get(db);
        if existing.is_some_and(|t| t.contains_key(name)) {
            return Err(CatalogError::Invalid(format!(
                "Table '{name}' already exists"
            )));
        }
        let mut info = info;
        info.data_nodes = resolve_nodes(logic, name, &info, existing)?;
        if info.auto_increment_column.as_deref() == Some("") {
            return Err(CatalogError::Invalid(format!(
                "table '{db}.{name}': the AUTO_INCREMENT column name is empty"
            )));
        }
        self.store.insert_table(db, name, &info)?;
        let info = Arc::new(info);
        tables
            .entry(db.to_string())
            .or_default()
            .insert(name.to_string(), Arc::clone(&info));
        tracing::info!(database = %db, table = %name, kind = info.distribution.kind_name(), data_nodes = ?info.data_nodes, "table created");
        Ok(info)
    }

    /// Forgets a table: removes its record and its AUTO_INCREMENT counter (a new table of
    /// that name starts again at 1). A parent with child tables cannot be dropped.
    pub fn drop_table(&self, db: &str, name: &str) -> Result<(), CatalogError> {
        let _dbs = self.read();
        let mut tables = self.tables_write();
        let Some(db_tables) = tables.get_mut(db) else {
            return Err(unknown_table(db, name));
        };
        if !db_tables.contains_key(name) {
            return Err(unknown_table(db, name));
        }
        let children = children_of(db_tables, name);
        if !children.is_empty() {
            return Err(CatalogError::Invalid(format!(
                "table '{db}.{name}' is the parent of child table(s) {}; drop them first",
                children.join(", ")
            )));
        }
        self.store.drop_table(db, name)?;
        db_tables.remove(name);
        self.remove_counter(db, name);
        self.sequences.forget(db, name);
        tracing::info!(database = %db, table = %name, "table dropped");
        Ok(())
    }

    /// Renames a table within its database; child tables follow, and its AUTO_INCREMENT
    /// counter moves with it. Everything is persisted in one store transaction.
    pub fn rename_table(
        &self,
        db: &str,
        old: &str,
        new: &str,
    ) -> Result<Arc<TableInfo>, CatalogError> {
        let _dbs = self.read();
        validate_table_name(new).map_err(CatalogError::Invalid)?;
        let mut tables = self.tables_write();
        let Some(db_tables) = tables.get_mut(db) else {
            return Err(unknown_table(db, old));
        };
        let Some(info) = db_tables.get(old).cloned() else {
            return Err(unknown_table(db, old));
        };
        if db_tables.contains_key(new) {
            return Err(CatalogError::Invalid(format!(
                "Table '{new}' already exists"
            )));
        }
        let children: Vec<(String, TableInfo)> = children_of(db_tables, old)
            .into_iter()
            .filter_map(|child| {
                let mut moved = TableInfo::clone(db_tables.get(&child)?);
                if let Distribution::Child { parent, .. } = &mut moved.distribution {
                    *parent = new.to_string();
                }
                Some((child, moved))
            })
            .collect();
        let rewritten: Vec<(&str, &TableInfo)> =
            children.iter().map(|(n, i)| (n.as_str(), i)).collect();
        let (from, to) = (counter_name(db, old), counter_name(db, new));
        self.sequences.forget(db, old);
        self.sequences.forget(db, new);
        self.store
            .rename_table(db, old, new, &info, &rewritten, Some((&from, &to)))?;
        db_tables.remove(old);
        db_tables.insert(new.to_string(), Arc::clone(&info));
        for (child, moved) in children {
            db_tables.insert(child, Arc::new(moved));
        }
        tracing::info!(database = %db, from = %old, to = %new, "table renamed");
        Ok(info)
    }

    /// Records (or, with None, forgets) a table's PRIMARY/UNIQUE keys.
    pub fn set_unique_keys(
        &self,
        db: &str,
        name: &str,
        keys: Option<Vec<UniqueKey>>,
    ) -> Result<(), CatalogError> {
        self.update_table(db, name, |info| info.unique_keys = keys)
    }

    /// Records (or, with None, forgets) a table's column collations as a data node
    /// reports them.
    pub fn set_column_collations(
        &self,
        db: &str,
        name: &str,
        collations: Option<BTreeMap<String, String>>,
    ) -> Result<(), CatalogError> {
        self.update_table(db, name, |info| info.column_collations = collations)
    }

    /// Changes what the catalog knows of an existing table (not its distribution) and
    /// stores it; nothing is written when nothing changed.
    pub fn update_table(
        &self,
        db: &str,
        name: &str,
        change: impl FnOnce(&mut TableInfo),
    ) -> Result<(), CatalogError> {
        let _dbs = self.read();
        let mut tables = self.tables_write();
        let Some(current) = tables.get_mut(db).and_then(|t| t.get_mut(name)) else {
            return Err(unknown_table(db, name));
        };
        let mut info = TableInfo::clone(current);
        change(&mut info);
        if info == **current {
            return Ok(());
        }
        self.store.put_table(db, name, &info)?;
        *current = Arc::new(info);
        Ok(())
    }

    /// Every recorded key of a table spread over several data nodes that does not
    /// contain its sharding column (tables with unrecorded keys are not listed).
    pub fn unique_key_violations(&self) -> Vec<KeyViolation> {
        let tables = self.tables_read();
        unique_key_violations(tables.iter().flat_map(|(db, t)| {
            t.iter()
                .map(move |(name, info)| (db.as_str(), name.as_str(), info.as_ref()))
        }))
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

    /// Removes a table's AUTO_INCREMENT counter; a failure only leaves the counter behind
    /// (a recreated table then continues above the old values, which is still correct).
    /// Registers what to do after another compute node's change of accounts or of a
    /// logical database was applied (replacing what was registered before).
    pub fn on_remote_change(&self, listener: RemoteListener) {
        *self
            .remote_listener
            .0
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(listener);
    }

    /// Whether a DDL may change the data nodes now: always with the embedded store; with
    /// etcd only while etcd answers and this node is a member (a node whose membership
    /// lapsed reloads the catalog first).
    pub fn ready_for_ddl(&self) -> Result<(), CatalogError> {
        match self.store.etcd() {
            None => Ok(()),
            Some(etcd) => etcd.check_member(),
        }
    }

    /// Applies a change another compute node made to the shared metadata (seen by the
    /// cluster watch at `revision`); changes this node made itself are already in force
    /// and skipped. A change that does not fit what this node knows is logged and left
    /// out: the next full reload settles it.
    pub fn apply_remote(&self, revision: i64, change: MetaChange) {
        if change == MetaChange::Accounts {
            // Re-reading is idempotent, this node's own changes included: no revision
            // check, and no catalog lock held while the server reads them.
            self.notify(&change);
            return;
        }
        let database = matches!(change, MetaChange::Database(..)).then(|| change.clone());
        if self.apply_locked(revision, change) {
            if let Some(change) = database {
                self.notify(&change);
            }
        }
    }

    fn notify(&self, change: &MetaChange) {
        let listener = self
            .remote_listener
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(listener) = listener.as_ref() {
            listener(change);
        }
    }

    /// Applies a table or database change under the catalog's locks; false when it was
    /// this node's own or did not fit.
    fn apply_locked(&self, revision: i64, change: MetaChange) -> bool {
        let mut dbs = self.write();
        let mut tables = self.tables_write();
        // Checked under the locks: a local change records its revision before it
        // releases them.
        if self
            .store
            .etcd()
            .is_some_and(|s| s.is_own_revision(revision))
        {
            return false;
        }
        match change {
            MetaChange::Database(name, meta) => {
                if from_config_name(&dbs, &name) {
                    tracing::warn!(database = %name, "the cluster changed a database this node's configuration defines; ignored");
                    return false;
                }
                match meta {
                    Some(meta) => {
                        dbs.insert(name.clone(), Arc::new(runtime_db(name.clone(), meta)));
                        tracing::info!(database = %name, revision, "database created by another compute node");
                    }
                    None => {
                        dbs.remove(&name);
                        tables.remove(&name);
                        self.sequences.forget_database(&name);
                        tracing::info!(database = %name, revision, "database dropped by another compute node");
                    }
                }
            }
            MetaChange::Table(db, name, Some(info)) => {
                let mut info = *info;
                let Some(logic) = dbs.get(&db) else {
                    tracing::warn!(database = %db, table = %name, "table of an unknown database from the cluster; ignored");
                    return false;
                };
                let existing = tables.get(&db);
                match resolve_nodes(logic, &name, &info, existing) {
                    Ok(nodes) => info.data_nodes = nodes,
                    Err(e) => {
                        tracing::warn!(database = %db, table = %name, error = %e, "table from the cluster does not fit; ignored");
                        return false;
                    }
                }
                let known = existing.is_some_and(|t| t.contains_key(&name));
                if !known {
                    // A new table (or a renamed one): its counter starts from the store.
                    self.sequences.forget(&db, &name);
                }
                tables
                    .entry(db.clone())
                    .or_default()
                    .insert(name.clone(), Arc::new(info));
                tracing::debug!(database = %db, table = %name, revision, "table metadata from another compute node");
            }
            MetaChange::Accounts => {}
            MetaChange::Table(db, name, None) => {
                if let Some(t) = tables.get_mut(&db) {
                    t.remove(&name);
                }
                self.sequences.forget(&db, &name);
                tracing::debug!(database = %db, table = %name, revision, "table dropped by another compute node");
            }
        }
        true
    }

    /// Reads every database created at runtime and every table again from the store,
    /// replacing what this node knew (after its membership lapsed or its watch lost
    /// track); AUTO_INCREMENT segments held are given up.
    pub fn reload_stored(&self) -> Result<(), CatalogError> {
        let stored = self.store.list_databases()?;
        let mut dbs = self.write();
        let mut tables = self.tables_write();
        let dropped: Vec<String> = dbs
            .values()
            .filter(|d| d.origin == DbOrigin::Runtime)
            .map(|d| d.name.clone())
            .collect();
        for name in &dropped {
            dbs.remove(name);
        }
        for (name, meta) in stored {
            if from_config_name(&dbs, &name) {
                continue;
            }
            dbs.insert(name.clone(), Arc::new(runtime_db(name, meta)));
        }
        let loaded = load_tables(&self.store, &dbs)?;
        for db in tables.keys().chain(loaded.keys()) {
            self.sequences.forget_database(db);
        }
        *tables = loaded;
        tracing::info!(
            databases = dbs.len(),
            "catalog reloaded from the cluster store"
        );
        Ok(())
    }

    fn remove_counter(&self, db: &str, table: &str) {
        if let Err(e) = self.store.remove_counter(&counter_name(db, table)) {
            tracing::warn!(database = %db, table = %table, error = %e, "AUTO_INCREMENT counter not removed");
        }
    }

    fn tables_read(&self) -> RwLockReadGuard<'_, TableMap> {
        // Single-operation updates: a poisoned lock is still consistent.
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn tables_write(&self) -> RwLockWriteGuard<'_, TableMap> {
        self.tables.write().unwrap_or_else(|e| e.into_inner())
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

fn from_config_name(dbs: &BTreeMap<String, Arc<LogicDb>>, name: &str) -> bool {
    dbs.get(name).is_some_and(|d| d.origin == DbOrigin::Config)
}

fn unknown_table(db: &str, name: &str) -> CatalogError {
    CatalogError::Invalid(format!("Unknown table '{db}.{name}'"))
}

/// Child tables whose parent is `parent`.
fn children_of(tables: &BTreeMap<String, Arc<TableInfo>>, parent: &str) -> Vec<String> {
    tables
        .iter()
        .filter(|(_, t)| matches!(&t.distribution, Distribution::Child { parent: p, .. } if p == parent))
        .map(|(n, _)| n.clone())
        .collect()
}

/// Checks a table's distribution against its database and returns its data nodes.
fn resolve_nodes(
    db: &LogicDb,
    name: &str,
    info: &TableInfo,
    tables: Option<&BTreeMap<String, Arc<TableInfo>>>,
) -> Result<Vec<DataNodeId>, CatalogError> {
    let entry = format!("table '{}.{name}'", db.name);
    let bad = |reason: String| Err(CatalogError::Invalid(format!("{entry}: {reason}")));
    if let Err(e) = info.distribution.validate() {
        return bad(e.to_string());
    }
    let nodes = match &info.distribution {
        Distribution::Child {
            parent,
            parent_column,
            ..
        } => {
            let Some(parent_info) = tables.and_then(|t| t.get(parent)) else {
                return bad(format!("parent table '{parent}' does not exist"));
            };
            match &parent_info.distribution {
                Distribution::Sharded { column, .. } if column == parent_column => {}
                Distribution::Sharded { column, .. } => {
                    return bad(format!(
                        "parent_column must be the parent's sharding column '{column}'"
                    ))
                }
                other => {
                    return bad(format!(
                        "parent '{parent}' is a {} table; a parent must be sharded",
                        other.kind_name()
                    ))
                }
            }
            parent_info.data_nodes.clone()
        }
        other => other.data_nodes().unwrap_or_default(),
    };
    for dn in &nodes {
        if !db.data_nodes.contains(dn) {
            return bad(format!(
                "data node {dn} is not one of database '{}'s data nodes",
                db.name
            ));
        }
    }
    if let Distribution::Global { .. } = info.distribution {
        let mut all = db.data_nodes.clone();
        all.sort_unstable();
        if nodes != all {
            return bad(format!(
                "a global table must be on all of the database's data nodes {all:?}"
            ));
        }
    }
    Ok(nodes)
}

/// Loads the stored tables of every known database, resolving child tables' nodes.
fn load_tables(
    store: &MetadataStore,
    dbs: &BTreeMap<String, Arc<LogicDb>>,
) -> Result<TableMap, CatalogError> {
    let mut all = TableMap::new();
    let mut problems = Vec::new();
    for (db_name, db) in dbs {
        let mut loaded: BTreeMap<String, Arc<TableInfo>> = BTreeMap::new();
        let stored = store.list_tables(db_name)?;
        // Parents first: a child's nodes are its parent's.
        let (children, others): (Vec<_>, Vec<_>) = stored
            .into_iter()
            .partition(|(_, m)| matches!(m.distribution, Distribution::Child { .. }));
        for (name, mut info) in others.into_iter().chain(children) {
            match resolve_nodes(db, &name, &info, Some(&loaded)) {
                Ok(nodes) => {
                    info.data_nodes = nodes;
                    loaded.insert(name, Arc::new(info));
                }
                Err(e) => problems.push(format!("{e} (stored table)")),
            }
        }
        if !loaded.is_empty() {
            all.insert(db_name.clone(), loaded);
        }
    }
    if problems.is_empty() {
        Ok(all)
    } else {
        Err(CatalogError::InvalidConfig { problems })
    }
}

/// Named rules and declared tables of the configuration (already validated).
type Declarations = (
    BTreeMap<String, Arc<ShardingRule>>,
    BTreeMap<String, BTreeMap<String, Arc<TableDeclaration>>>,
);

fn declarations(
    config: &Config,
    dbs: &BTreeMap<String, Arc<LogicDb>>,
) -> Result<Declarations, CatalogError> {
    let invalid = |problem: String| CatalogError::InvalidConfig {
        problems: vec![problem],
    };
    let mut rules = BTreeMap::new();
    for rule in &config.rules {
        let built =
            rule_from_config(rule).map_err(|e| invalid(format!("rule '{}': {e}", rule.name)))?;
        rules.insert(rule.name.clone(), built);
    }
    let mut declared: BTreeMap<String, BTreeMap<String, Arc<TableDeclaration>>> = BTreeMap::new();
    for table in &config.tables {
        let entry = format!("table '{}.{}'", table.database, table.name);
        let missing = |field: &str| invalid(format!("{entry}: '{field}' is missing"));
        let distribution = match table.kind {
            TableType::Sharded => DeclaredDistribution::Sharded {
                column: table.column.clone().ok_or_else(|| missing("column"))?,
                rule: declared_rule(table, &rules).map_err(|e| invalid(format!("{entry}: {e}")))?,
            },
            TableType::Global => DeclaredDistribution::Global {
                data_nodes: dbs
                    .get(&table.database)
                    .map(|d| {
                        let mut nodes = d.data_nodes.clone();
                        nodes.sort_unstable();
                        nodes
                    })
                    .unwrap_or_default(),
            },
            TableType::Vertical => DeclaredDistribution::Vertical {
                dnid: table.data_node.ok_or_else(|| missing("data_node"))?,
            },
            TableType::Child => DeclaredDistribution::Child {
                parent: table.parent.clone().ok_or_else(|| missing("parent"))?,
                parent_column: table
                    .parent_column
                    .clone()
                    .ok_or_else(|| missing("parent_column"))?,
                column: table
                    .child_column
                    .clone()
                    .ok_or_else(|| missing("child_column"))?,
            },
        };
        declared.entry(table.database.clone()).or_default().insert(
            table.name.clone(),
            Arc::new(TableDeclaration {
                distribution,
                auto_increment_column: table.auto_increment.clone(),
            }),
        );
    }
    let rules = rules.into_iter().map(|(n, r)| (n, Arc::new(r))).collect();
    Ok((rules, declared))
}

fn runtime_db(name: String, meta: DatabaseMeta) -> LogicDb {
    let default_data_nodes = meta
        .default_data_nodes
        .unwrap_or_else(|| meta.data_nodes.clone());
    LogicDb {
        name,
        data_nodes: meta.data_nodes,
        default_data_nodes,
        origin: DbOrigin::Runtime,
        physical: meta.physical,
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

#[cfg(test)]
mod tests;
