//! [`MetadataStore`]: the one type the catalog, the sequences, the accounts and the XA
//! coordinator use, over either backend — the embedded redb file (one compute node, the
//! default) or etcd (`[cluster] etcd`, several compute nodes). Both hold the same records
//! in the same encoding; only where they live differs.

use std::ops::Range;
use std::path::Path;

use crate::accounts::Account;
use crate::config::Config;
use crate::error::CatalogError;
use crate::store::etcd::EtcdStore;
use crate::store::{DatabaseMeta, RedbStore};
use crate::table::TableInfo;
use crate::view::ViewInfo;
use crate::xalog::{Decision, DecisionLog};

pub use crate::store::etcd::MetaChange;

/// Where the metadata lives; share it as `Arc<MetadataStore>` (`Send + Sync`).
#[derive(Debug)]
pub enum MetadataStore {
    /// `<data_dir>/metadata.redb`, this compute node's alone.
    Redb(RedbStore),
    /// etcd, shared by every compute node of the cluster.
    Etcd(EtcdStore),
}

/// Calls the same method on whichever backend is in use.
macro_rules! each {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            MetadataStore::Redb($s) => $call,
            MetadataStore::Etcd($s) => $call,
        }
    };
}

impl MetadataStore {
    /// The embedded store in `data_dir` (created as needed).
    pub fn open(data_dir: &Path) -> Result<MetadataStore, CatalogError> {
        RedbStore::open(data_dir).map(MetadataStore::Redb)
    }

    /// The store `config` asks for: etcd when `[cluster] etcd` lists endpoints, else the
    /// embedded one in `[server] data_dir`.
    pub fn for_config(config: &Config) -> Result<MetadataStore, CatalogError> {
        if config.cluster.uses_etcd() {
            let store = EtcdStore::connect(&config.cluster, config.server.node_id)?;
            tracing::info!(endpoints = ?store.client().endpoints(), "metadata store: etcd");
            Ok(MetadataStore::Etcd(store))
        } else {
            MetadataStore::open(&config.server.data_dir)
        }
    }

    /// The etcd backend, when that is the one in use.
    pub fn etcd(&self) -> Option<&EtcdStore> {
        match self {
            MetadataStore::Etcd(s) => Some(s),
            MetadataStore::Redb(_) => None,
        }
    }

    /// Creates or replaces a logical database record.
    pub fn put_database(&self, name: &str, meta: &DatabaseMeta) -> Result<(), CatalogError> {
        each!(self, s => s.put_database(name, meta))
    }

    /// Removes a logical database and all its table records; false if it was not there.
    pub fn drop_database(&self, name: &str) -> Result<bool, CatalogError> {
        each!(self, s => s.drop_database(name))
    }

    /// One logical database record.
    pub fn database(&self, name: &str) -> Result<Option<DatabaseMeta>, CatalogError> {
        each!(self, s => s.database(name))
    }

    /// All logical database records, by name.
    pub fn list_databases(&self) -> Result<Vec<(String, DatabaseMeta)>, CatalogError> {
        each!(self, s => s.list_databases())
    }

    /// Creates or replaces a table record.
    pub fn put_table(&self, db: &str, table: &str, info: &TableInfo) -> Result<(), CatalogError> {
        each!(self, s => s.put_table(db, table, info))
    }

    /// Creates a table record that must not exist yet (another compute node may have
    /// created it meanwhile: then an error).
    pub fn insert_table(
        &self,
        db: &str,
        table: &str,
        info: &TableInfo,
    ) -> Result<(), CatalogError> {
        match self {
            // One compute node: the catalog's own lock already excludes a second creator.
            MetadataStore::Redb(s) => s.put_table(db, table, info),
            MetadataStore::Etcd(s) => s.insert_table(db, table, info),
        }
    }

    /// Removes a table record; false if it was not there.
    pub fn drop_table(&self, db: &str, table: &str) -> Result<bool, CatalogError> {
        each!(self, s => s.drop_table(db, table))
    }

    /// One table record.
    pub fn table(&self, db: &str, table: &str) -> Result<Option<TableInfo>, CatalogError> {
        each!(self, s => s.table(db, table))
    }

    /// The table records of one logical database, by table name.
    pub fn list_tables(&self, db: &str) -> Result<Vec<(String, TableInfo)>, CatalogError> {
        each!(self, s => s.list_tables(db))
    }

    /// The view records of one logical database, by view name.
    pub fn list_views(&self, db: &str) -> Result<Vec<(String, ViewInfo)>, CatalogError> {
        each!(self, s => s.list_views(db))
    }

    /// Creates or replaces a view record; `drop_table` removes it.
    pub fn put_view(&self, db: &str, name: &str, view: &ViewInfo) -> Result<(), CatalogError> {
        each!(self, s => s.put_view(db, name, view))
    }

    /// Durably reserves `n` consecutive values of counter `name` (counters start at 1);
    /// no value is handed out twice, also across compute nodes sharing etcd.
    pub fn reserve_batch(&self, name: &str, n: u64) -> Result<Range<u64>, CatalogError> {
        each!(self, s => s.reserve_batch(name, n))
    }

    /// Durably moves counter `name` to at least `at_least`; its next value afterwards.
    pub fn raise_counter(&self, name: &str, at_least: u64) -> Result<u64, CatalogError> {
        each!(self, s => s.raise_counter(name, at_least))
    }

    /// The next value counter `name` would hand out (None if it never handed out one).
    pub fn counter(&self, name: &str) -> Result<Option<u64>, CatalogError> {
        each!(self, s => s.counter(name))
    }

    /// Removes counter `name` (it starts again at 1); false if it was not there.
    pub fn remove_counter(&self, name: &str) -> Result<bool, CatalogError> {
        each!(self, s => s.remove_counter(name))
    }

    /// Renames a table record in one transaction (see [`RedbStore::rename_table`]).
    pub fn rename_table(
        &self,
        db: &str,
        old: &str,
        new: &str,
        meta: &TableInfo,
        rewritten: &[(&str, &TableInfo)],
        counter: Option<(&str, &str)>,
    ) -> Result<bool, CatalogError> {
        each!(self, s => s.rename_table(db, old, new, meta, rewritten, counter))
    }

    /// Creates or replaces an account record.
    pub fn put_account(&self, account: &Account) -> Result<(), CatalogError> {
        each!(self, s => s.put_account(account))
    }

    /// Removes an account record; false if it was not there.
    pub fn drop_account(&self, user: &str, host: &str) -> Result<bool, CatalogError> {
        each!(self, s => s.drop_account(user, host))
    }

    /// Every stored account.
    pub fn list_accounts(&self) -> Result<Vec<Account>, CatalogError> {
        each!(self, s => s.list_accounts())
    }
}

impl DecisionLog for MetadataStore {
    fn log_commits(&self, decisions: &[Decision], forget: &[String]) -> Result<(), CatalogError> {
        each!(self, s => s.log_commits(decisions, forget))
    }

    fn decisions(&self) -> Result<Vec<Decision>, CatalogError> {
        each!(self, s => s.decisions())
    }

    fn is_committed(&self, gtrid: &str) -> Result<bool, CatalogError> {
        each!(self, s => s.is_committed(gtrid))
    }

    fn next_epoch(&self) -> Result<u64, CatalogError> {
        each!(self, s => s.next_epoch())
    }
}
