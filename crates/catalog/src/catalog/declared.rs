//! Sharding rules and tables declared in the configuration, before their columns are known.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::LogicDb;
use crate::config::{Config, TableType};
use crate::error::CatalogError;
use crate::load::{declared_rule, rule_from_config};
use crate::sharding::{Distribution, KeyType, ShardingRule};
use crate::table::TableInfo;
use crate::DataNodeId;

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

/// Named rules and declared tables of the configuration (already validated).
type Declarations = (
    BTreeMap<String, Arc<ShardingRule>>,
    BTreeMap<String, BTreeMap<String, Arc<TableDeclaration>>>,
);

pub(super) fn declarations(
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
