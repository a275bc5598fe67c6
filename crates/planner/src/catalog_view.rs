//! What the planner needs to know about logical databases and tables, as a trait the
//! server implements over its catalog (and tests implement with `MemoryCatalog`, behind
//! the `test-util` feature). The planner never does I/O: every lookup goes through
//! [`CatalogView`]. Tables are the catalog's [`TableInfo`], lent through an `Arc`.

use std::sync::Arc;

use strata_catalog::sharding::{Distribution, ShardingRule};
use strata_catalog::DataNodeId;
pub use strata_catalog::{TableInfo, ViewInfo};

/// Read access to the catalog. Names are passed as written in the statement (MySQL
/// table names are case-sensitive on Linux; the implementation decides). `Sync`, as a
/// very long statement is planned on a helper thread.
pub trait CatalogView: Sync {
    /// A logical database, or None when it does not exist.
    fn database(&self, db: &str) -> Option<DatabaseInfo>;

    /// A table of a logical database, or None when the catalog does not know it. The
    /// catalog's own entry is shared, not copied: this runs for every planned statement.
    fn table(&self, db: &str, name: &str) -> Option<Arc<TableInfo>>;

    /// A view of a logical database, or None (views are Strata's own; see `view`).
    fn view(&self, _db: &str, _name: &str) -> Option<Arc<ViewInfo>> {
        None
    }

    /// False when no database has a view: statements are then not looked at for them.
    fn any_views(&self) -> bool {
        false
    }

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

    /// The data node holding the session's temporary table `db`.`name`, if the session
    /// has one ([`CatalogView::table`] then describes it as a table on that node alone).
    fn temporary_table(&self, _db: &str, _name: &str) -> Option<DataNodeId> {
        None
    }

    /// The data node whose connection holds the session's connection state (temporary
    /// tables, user variables), if it holds any: new temporary tables go there.
    fn temporary_node(&self) -> Option<DataNodeId> {
        None
    }
}

/// A logical database's data nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInfo {
    /// Every data node it spans.
    pub data_nodes: Vec<DataNodeId>,
    /// Nodes for tables created without a distribution (all of `data_nodes` if unset).
    pub default_data_nodes: Vec<DataNodeId>,
}

/// A sharding rule with the column it usually applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRule {
    /// Function, nodes and NULL route.
    pub rule: ShardingRule,
    /// Sharding column the rule names, if any (`USING COLUMN` may give it instead).
    pub column: Option<String>,
}
