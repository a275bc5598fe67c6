//! A [`CatalogView`] held in memory, for the planner's tests and for other crates' tests
//! and tools (the `test-util` feature): databases, tables, declared distributions, rules
//! and sharding functions are added by hand instead of read from a metadata store.

use std::collections::HashMap;
use std::sync::Arc;

use strata_catalog::sharding::{Distribution, ShardingRule};
use strata_catalog::DataNodeId;

use crate::catalog_view::{CatalogView, DatabaseInfo, NamedRule, TableInfo, ViewInfo};

/// A catalog held in memory: for tests and tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryCatalog {
    databases: HashMap<String, DatabaseInfo>,
    tables: HashMap<(String, String), Arc<TableInfo>>,
    declared: HashMap<(String, String), Distribution>,
    rules: HashMap<String, NamedRule>,
    functions: HashMap<String, ShardingRule>,
    views: HashMap<(String, String), Arc<ViewInfo>>,
}

impl MemoryCatalog {
    /// An empty catalog.
    pub fn new() -> MemoryCatalog {
        MemoryCatalog::default()
    }

    /// Adds a logical database over `data_nodes` (all of them default nodes).
    pub fn add_database(&mut self, db: &str, data_nodes: &[DataNodeId]) -> &mut MemoryCatalog {
        self.add_database_with_defaults(db, data_nodes, data_nodes)
    }

    /// Adds a logical database with explicit default data nodes.
    pub fn add_database_with_defaults(
        &mut self,
        db: &str,
        data_nodes: &[DataNodeId],
        default_data_nodes: &[DataNodeId],
    ) -> &mut MemoryCatalog {
        self.databases.insert(
            db.to_string(),
            DatabaseInfo {
                data_nodes: data_nodes.to_vec(),
                default_data_nodes: default_data_nodes.to_vec(),
            },
        );
        self
    }

    /// Adds (or replaces) a table.
    pub fn add_table(&mut self, db: &str, name: &str, table: TableInfo) -> &mut MemoryCatalog {
        self.tables
            .insert((db.to_string(), name.to_string()), Arc::new(table));
        self
    }

    /// Adds (or replaces) a view.
    pub fn add_view(&mut self, db: &str, name: &str, view: ViewInfo) -> &mut MemoryCatalog {
        self.views
            .insert((db.to_string(), name.to_string()), Arc::new(view));
        self
    }

    /// Removes a view.
    pub fn remove_view(&mut self, db: &str, name: &str) -> Option<Arc<ViewInfo>> {
        self.views.remove(&(db.to_string(), name.to_string()))
    }

    /// Removes a table.
    pub fn remove_table(&mut self, db: &str, name: &str) -> Option<Arc<TableInfo>> {
        self.tables.remove(&(db.to_string(), name.to_string()))
    }

    /// Declares a distribution for a table to be created later.
    pub fn declare_table(
        &mut self,
        db: &str,
        name: &str,
        distribution: Distribution,
    ) -> &mut MemoryCatalog {
        self.declared
            .insert((db.to_string(), name.to_string()), distribution);
        self
    }

    /// Adds a named sharding rule.
    pub fn add_rule(&mut self, name: &str, rule: NamedRule) -> &mut MemoryCatalog {
        self.rules.insert(name.to_string(), rule);
        self
    }

    /// Adds a named sharding function with its data nodes.
    pub fn add_function(&mut self, name: &str, rule: ShardingRule) -> &mut MemoryCatalog {
        self.functions.insert(name.to_string(), rule);
        self
    }
}

impl CatalogView for MemoryCatalog {
    fn database(&self, db: &str) -> Option<DatabaseInfo> {
        self.databases.get(db).cloned()
    }

    fn table(&self, db: &str, name: &str) -> Option<Arc<TableInfo>> {
        self.tables
            .get(&(db.to_string(), name.to_string()))
            .cloned()
    }

    fn view(&self, db: &str, name: &str) -> Option<Arc<ViewInfo>> {
        self.views.get(&(db.to_string(), name.to_string())).cloned()
    }

    fn any_views(&self) -> bool {
        !self.views.is_empty()
    }

    fn declared_table(&self, db: &str, name: &str) -> Option<Distribution> {
        self.declared
            .get(&(db.to_string(), name.to_string()))
            .cloned()
    }

    fn sharding_rule(&self, name: &str) -> Option<NamedRule> {
        self.rules.get(name).cloned()
    }

    fn sharding_function(&self, name: &str) -> Option<ShardingRule> {
        self.functions.get(name).cloned()
    }
}
