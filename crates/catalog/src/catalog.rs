//! The catalog the server reads on every statement: logical databases (from the
//! configuration plus those created at runtime and kept in the metadata store), data
//! nodes, physical database names and users. Reads take a shared lock and clone an `Arc`;
//! runtime changes (CREATE/DROP DATABASE) are validated, persisted, then published.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::{Config, DataNodeConfig, UserConfig};
use crate::error::CatalogError;
use crate::load::{check_database_set, check_logic_db};
use crate::store::{now_ms, DatabaseMeta, MetadataStore};

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
    pub data_nodes: Vec<u32>,
    /// DNIDs for tables without a distribution clause (all of `data_nodes` when not set).
    pub default_data_nodes: Vec<u32>,
    /// Where it is defined.
    pub origin: DbOrigin,
}

/// Configuration plus persisted metadata; share it as `Arc<Catalog>`.
#[derive(Debug)]
pub struct Catalog {
    config: Config,
    data_nodes: BTreeMap<u32, DataNodeConfig>,
    store: MetadataStore,
    dbs: RwLock<BTreeMap<String, Arc<LogicDb>>>,
}

impl Catalog {
    /// Validates `config`, opens the metadata store in `config.server.data_dir` and merges
    /// the databases defined in both. A stored database that now conflicts with the
    /// configuration (same name, unknown or shared data node) is an error, not a guess.
    pub fn open(config: Config) -> Result<Catalog, CatalogError> {
        config.validate()?;
        let store = MetadataStore::open(&config.server.data_dir)?;
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
            };
            dbs.insert(db.name.clone(), Arc::new(logic));
        }
        let known: HashSet<u32> = config.data_nodes.iter().map(|d| d.id).collect();
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
        let all = dbs
            .values()
            .map(|d| (d.name.as_str(), d.data_nodes.as_slice()))
            .chain(
                stored
                    .iter()
                    .map(|(n, m)| (n.as_str(), m.data_nodes.as_slice())),
            );
        check_database_set(all, &mut problems);
        if !problems.is_empty() {
            return Err(CatalogError::InvalidConfig { problems });
        }
        for (name, meta) in stored {
            dbs.insert(name.clone(), Arc::new(runtime_db(name, meta)));
        }
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
            "catalog open"
        );
        Ok(Catalog {
            config,
            data_nodes,
            store,
            dbs: RwLock::new(dbs),
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

    /// The logical database named exactly `name` (case-sensitive, as MySQL on Linux).
    pub fn logic_db(&self, name: &str) -> Option<Arc<LogicDb>> {
        self.read().get(name).cloned()
    }

    /// All logical databases, sorted by name (the order of SHOW DATABASES).
    pub fn logic_dbs(&self) -> Vec<Arc<LogicDb>> {
        self.read().values().cloned().collect()
    }

    /// The data node with this DNID.
    pub fn data_node(&self, dnid: u32) -> Option<&DataNodeConfig> {
        self.data_nodes.get(&dnid)
    }

    /// All data nodes, by DNID.
    pub fn data_nodes(&self) -> impl Iterator<Item = &DataNodeConfig> {
        self.data_nodes.values()
    }

    /// The physical database of a data node's storage nodes.
    pub fn physical_db(&self, dnid: u32) -> Option<&str> {
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
        data_nodes: Vec<u32>,
        default_data_nodes: Option<Vec<u32>>,
    ) -> Result<Arc<LogicDb>, CatalogError> {
        let mut dbs = self.write();
        if dbs.contains_key(name) {
            return Err(CatalogError::DatabaseExists(name.to_string()));
        }
        let mut problems = Vec::new();
        let known: HashSet<u32> = self.data_nodes.keys().copied().collect();
        check_logic_db(
            name,
            &data_nodes,
            default_data_nodes.as_deref(),
            &known,
            &mut problems,
        );
        let all = dbs
            .values()
            .map(|d| (d.name.as_str(), d.data_nodes.as_slice()))
            .chain(std::iter::once((name, data_nodes.as_slice())));
        check_database_set(all, &mut problems);
        if !problems.is_empty() {
            return Err(CatalogError::Invalid(problems.join("; ")));
        }
        let meta = DatabaseMeta {
            data_nodes,
            default_data_nodes,
            created_at_ms: now_ms(),
        };
        self.store.put_database(name, &meta)?;
        let db = Arc::new(runtime_db(name.to_string(), meta));
        dbs.insert(name.to_string(), Arc::clone(&db));
        tracing::info!(database = %name, data_nodes = ?db.data_nodes, "logical database created");
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
                self.store.drop_database(name)?;
                dbs.remove(name);
                tracing::info!(database = %name, "logical database dropped");
                Ok(())
            }
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

fn runtime_db(name: String, meta: DatabaseMeta) -> LogicDb {
    let default_data_nodes = meta
        .default_data_nodes
        .unwrap_or_else(|| meta.data_nodes.clone());
    LogicDb {
        name,
        data_nodes: meta.data_nodes,
        default_data_nodes,
        origin: DbOrigin::Runtime,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(data_dir: &Path) -> Config {
        let text = format!(
            r#"
[server]
data_dir = "{}"

[[user]]
name = "app"

[[data_node]]
id = 1
primary = {{ host = "127.0.0.1", port = 3306, user = "s", database = "shop_1" }}

[[data_node]]
id = 2
primary = {{ host = "127.0.0.1", port = 3307, user = "s", database = "shop_2" }}

[[data_node]]
id = 3
primary = {{ host = "127.0.0.1", port = 3308, user = "s", database = "free_3" }}

[[data_node]]
id = 4
primary = {{ host = "127.0.0.1", port = 3309, user = "s", database = "free_4" }}

[[database]]
name = "shop"
data_nodes = [1, 2]
default_data_nodes = [2]
"#,
            data_dir.display()
        );
        Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn tempdir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn lookups_answer_from_config() -> Result<(), CatalogError> {
        let dir = tempdir();
        let catalog = Catalog::open(config(dir.path()))?;
        let shop = catalog
            .logic_db("shop")
            .ok_or_else(|| CatalogError::UnknownDatabase("shop".into()))?;
        assert_eq!(
            (
                shop.data_nodes.as_slice(),
                shop.default_data_nodes.as_slice(),
                shop.origin
            ),
            (&[1, 2][..], &[2][..], DbOrigin::Config)
        );
        assert!(
            catalog.logic_db("SHOP").is_none(),
            "lookups are case-sensitive"
        );
        assert_eq!(catalog.physical_db(2), Some("shop_2"));
        assert_eq!(catalog.physical_db(9), None);
        assert_eq!(catalog.data_node(3).map(|d| d.primary.port), Some(3308));
        assert_eq!(
            catalog.data_nodes().map(|d| d.id).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert_eq!(catalog.users().len(), 1);
        assert!(catalog.user("app").is_some() && catalog.user("App").is_none());
        Ok(())
    }

    #[test]
    fn runtime_databases_persist_and_merge_with_config() -> Result<(), CatalogError> {
        let dir = tempdir();
        {
            let catalog = Catalog::open(config(dir.path()))?;
            let created = catalog.create_database("crm", vec![3], None)?;
            assert_eq!(
                (created.default_data_nodes.as_slice(), created.origin),
                (&[3][..], DbOrigin::Runtime)
            );
        }
        let catalog = Catalog::open(config(dir.path()))?;
        let names: Vec<_> = catalog.logic_dbs().iter().map(|d| d.name.clone()).collect();
        assert_eq!(names, ["crm", "shop"]);
        catalog.drop_database("crm")?;
        assert!(catalog.logic_db("crm").is_none());
        drop(catalog);
        let catalog = Catalog::open(config(dir.path()))?;
        assert!(catalog.logic_db("crm").is_none());
        Ok(())
    }

    #[test]
    fn create_database_enforces_the_config_rules() -> Result<(), CatalogError> {
        let dir = tempdir();
        let catalog = Catalog::open(config(dir.path()))?;
        type Case = (&'static str, Vec<u32>, Option<Vec<u32>>, &'static str);
        let cases: Vec<Case> = vec![
            (
                "shop",
                vec![3],
                None,
                "Can't create database 'shop'; database exists",
            ),
            (
                "Shop",
                vec![3],
                None,
                "database 'Shop' differs only in letter case from database 'shop'",
            ),
            (
                "crm",
                vec![2],
                None,
                "data node 2 belongs to both database 'shop' and database 'crm'",
            ),
            (
                "crm",
                vec![9],
                None,
                "database 'crm': data node 9 is not defined",
            ),
            ("crm", vec![], None, "database 'crm': data_nodes is empty"),
            (
                "crm",
                vec![3],
                Some(vec![4]),
                "database 'crm': default data node 4 is not one of its data_nodes",
            ),
            (
                "bad-name",
                vec![3],
                None,
                "database name 'bad-name' may only contain",
            ),
        ];
        for (name, nodes, defaults, expected) in cases {
            let err = catalog
                .create_database(name, nodes, defaults)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains(expected),
                "{name}: expected {expected:?}, got {err:?}"
            );
        }
        assert_eq!(
            catalog.logic_dbs().len(),
            1,
            "no failed creation leaves a trace"
        );
        Ok(())
    }

    #[test]
    fn only_runtime_databases_can_be_dropped() -> Result<(), CatalogError> {
        let dir = tempdir();
        let catalog = Catalog::open(config(dir.path()))?;
        assert!(matches!(
            catalog.drop_database("shop"),
            Err(CatalogError::Invalid(_))
        ));
        assert!(matches!(
            catalog.drop_database("nope"),
            Err(CatalogError::UnknownDatabase(_))
        ));
        Ok(())
    }

    #[test]
    fn a_stored_database_that_conflicts_with_a_changed_config_fails_open(
    ) -> Result<(), CatalogError> {
        let dir = tempdir();
        {
            let catalog = Catalog::open(config(dir.path()))?;
            catalog.create_database("crm", vec![3], None)?;
        }
        // The DBA now gives data node 3 to a database in the file.
        let mut changed = config(dir.path());
        changed.databases[0].data_nodes.push(3);
        let err = Catalog::open(changed)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("data node 3 belongs to both database 'shop' and database 'crm'"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn catalog_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Catalog>();
    }
}
