//! What the planner needs to know about logical databases and tables, as a trait the
//! server implements over its catalog (and tests implement with `MemoryCatalog`, behind
//! the `test-util` feature). The planner never does I/O: every lookup goes through
//! [`CatalogView`].

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
