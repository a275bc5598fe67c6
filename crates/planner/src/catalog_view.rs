//! What the planner needs to know about logical databases and tables, as a trait the
//! server implements over its catalog (and tests implement with [`MemoryCatalog`]). The
//! planner never does I/O: every lookup goes through [`CatalogView`].

use std::collections::HashMap;

use strata_catalog::sharding::{Distribution, KeyLiteral, ShardingRule};
use strata_catalog::UniqueKey;

/// Read access to the catalog. Names are passed as written in the statement (MySQL
/// table names are case-sensitive on Linux; the implementation decides). `Sync`, as a
/// very long statement is planned on a helper thread.
pub trait CatalogView: Sync {
    /// A logical database, or None when it does not exist.
    fn database(&self, db: &str) -> Option<DatabaseInfo>;

    /// A table of a logical database, or None when the catalog does not know it.
    fn table(&self, db: &str, name: &str) -> Option<TableInfo>;

    /// A distribution declared in configuration for a table not created yet: a plain
    /// `CREATE TABLE` follows it. A sharded one's key type may be a stand-in: the
    /// planner takes the type from the CREATE TABLE's column definition.
    fn declared_table(&self, _db: &str, _name: &str) -> Option<Distribution> {
        None
    }

    /// A named (or numbered) sharding rule, for `SHARD BY RULENAME|RULEID`.
    fn sharding_rule(&self, _name: &str) -> Option<NamedRule> {
        None
    }

    /// A named (or numbered) sharding function with its data nodes, for
    /// `SHARD BY FUNCTIONNAME|FUNCTIONID`.
    fn sharding_function(&self, _name: &str) -> Option<ShardingRule> {
        None
    }
}

/// A logical database's data nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInfo {
    /// Every data node it spans.
    pub data_nodes: Vec<u32>,
    /// Nodes for tables created without a distribution (all of `data_nodes` if unset).
    pub default_data_nodes: Vec<u32>,
}

/// A sharding rule with the column it usually applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRule {
    /// Function, nodes and NULL route.
    pub rule: ShardingRule,
    /// Sharding column the rule names, if any (`USING COLUMN` may give it instead).
    pub column: Option<String>,
}

/// One table as routing sees it. [`crate::plan_ddl`] produces it for CREATE TABLE so the
/// server can record it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    /// How rows are placed.
    pub distribution: Distribution,
    /// Column names in table order (empty when unknown; then `INSERT` without a column
    /// list into a sharded table is refused).
    pub columns: Vec<String>,
    /// DEFAULT of the sharding column, used for rows that do not give it (None: NULL).
    pub shard_key_default: Option<KeyLiteral>,
    /// Column filled from the global AUTO_INCREMENT sequence, if any.
    pub auto_increment: Option<String>,
    /// Columns whose DEFAULT is the current time (`DEFAULT CURRENT_TIMESTAMP`): a write
    /// to several copies of a global table gives them the planner's time explicitly.
    pub now_default_columns: Vec<String>,
    /// String columns whose collation a merge cannot reproduce (lowercase names; `*`
    /// for all): rows reach the merge in the connection's character set with no trace
    /// of it, so comparing such strings across nodes is refused.
    pub other_collation_columns: Vec<String>,
    /// PRIMARY KEY and UNIQUE keys from CREATE TABLE (None: not recorded).
    pub unique_keys: Option<Vec<UniqueKey>>,
}

impl TableInfo {
    /// A table with a distribution and nothing else known.
    pub fn new(distribution: Distribution) -> TableInfo {
        TableInfo {
            distribution,
            columns: Vec::new(),
            shard_key_default: None,
            auto_increment: None,
            now_default_columns: Vec::new(),
            other_collation_columns: Vec::new(),
            unique_keys: None,
        }
    }

    /// The same table with its column names.
    pub fn with_columns(mut self, columns: &[&str]) -> TableInfo {
        self.columns = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// The same table with a global AUTO_INCREMENT column.
    pub fn with_auto_increment(mut self, column: &str) -> TableInfo {
        self.auto_increment = Some(column.to_string());
        self
    }
}

/// A catalog held in memory: for tests, tools and small deployments.
#[derive(Debug, Clone, Default)]
pub struct MemoryCatalog {
    databases: HashMap<String, DatabaseInfo>,
    tables: HashMap<(String, String), TableInfo>,
    declared: HashMap<(String, String), Distribution>,
    rules: HashMap<String, NamedRule>,
    functions: HashMap<String, ShardingRule>,
}

impl MemoryCatalog {
    /// An empty catalog.
    pub fn new() -> MemoryCatalog {
        MemoryCatalog::default()
    }

    /// Adds a logical database over `data_nodes` (all of them default nodes).
    pub fn add_database(&mut self, db: &str, data_nodes: &[u32]) -> &mut MemoryCatalog {
        self.add_database_with_defaults(db, data_nodes, data_nodes)
    }

    /// Adds a logical database with explicit default data nodes.
    pub fn add_database_with_defaults(
        &mut self,
        db: &str,
        data_nodes: &[u32],
        default_data_nodes: &[u32],
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
            .insert((db.to_string(), name.to_string()), table);
        self
    }

    /// Removes a table.
    pub fn remove_table(&mut self, db: &str, name: &str) -> Option<TableInfo> {
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

    fn table(&self, db: &str, name: &str) -> Option<TableInfo> {
        self.tables
            .get(&(db.to_string(), name.to_string()))
            .cloned()
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
