//! Table distributions: checked construction and the data nodes a table lives on.

use std::ops::Bound;

use super::{
    canonical_key, key, Distribution, KeyLiteral, KeyType, KeyValue, ShardingError,
    ShardingErrorKind, ShardingRule,
};
use crate::DataNodeId;

impl Distribution {
    /// A sharded distribution, checked: the rule can route keys of `key_type`.
    pub fn sharded(
        column: impl Into<String>,
        key_type: KeyType,
        rule: ShardingRule,
    ) -> Result<Distribution, ShardingError> {
        rule.validate()?;
        rule.check_key_type(&key_type)?;
        Ok(Distribution::Sharded {
            column: column.into(),
            key_type,
            rule,
        })
    }

    /// `sharded`, `global`, `vertical` or `child`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Distribution::Vertical { .. } => "vertical",
            Distribution::Global { .. } => "global",
            Distribution::Sharded { .. } => "sharded",
            Distribution::Child { .. } => "child",
        }
    }

    /// The data nodes holding the table (sorted, no repeats); None for a child table,
    /// whose nodes are its parent's.
    pub fn data_nodes(&self) -> Option<Vec<DataNodeId>> {
        let mut nodes: Vec<DataNodeId> = match self {
            Distribution::Vertical { dnid } => vec![*dnid],
            Distribution::Global { data_nodes } => data_nodes.clone(),
            Distribution::Sharded { rule, .. } => rule.data_nodes.clone(),
            Distribution::Child { .. } => return None,
        };
        nodes.sort_unstable();
        nodes.dedup();
        Some(nodes)
    }

    /// Checks the distribution on its own: positive DNIDs, a valid rule for the key type,
    /// non-empty names.
    pub fn validate(&self) -> Result<(), ShardingError> {
        let bad = |reason: &str| Err(ShardingError::invalid_rule(reason));
        match self {
            Distribution::Vertical { dnid } if dnid.get() == 0 => {
                bad("data node ids must be positive")
            }
            Distribution::Global { data_nodes } if data_nodes.is_empty() => {
                bad("a global table needs at least one data node")
            }
            Distribution::Global { data_nodes } if data_nodes.contains(&DataNodeId::new(0)) => {
                bad("data node ids must be positive")
            }
            Distribution::Sharded { column, .. } if column.is_empty() => {
                bad("the sharding column name is empty")
            }
            Distribution::Sharded { key_type, rule, .. } => {
                rule.validate()?;
                rule.check_key_type(key_type)
            }
            Distribution::Child {
                parent,
                parent_column,
                column,
            } if parent.is_empty() || parent_column.is_empty() || column.is_empty() => {
                bad("a child table needs its parent, the parent's column and its own column")
            }
            _ => Ok(()),
        }
    }

    /// The data node of a canonical key: the rule's route for a sharded table, the node
    /// of a vertical table. Global and child tables have no per-key route.
    pub fn route(&self, key: &KeyValue) -> Result<DataNodeId, ShardingError> {
        match self {
            Distribution::Sharded { key_type, rule, .. } => rule.route_typed(key_type, key),
            Distribution::Vertical { dnid } => Ok(*dnid),
            Distribution::Global { .. } => {
                Err(ShardingError::new(ShardingErrorKind::NotRoutable {
                    reason: "a global table has a copy on every data node; it has no per-key route"
                        .into(),
                }))
            }
            Distribution::Child { parent, .. } => {
                Err(ShardingError::new(ShardingErrorKind::NotRoutable {
                    reason: format!("a child table routes by its parent '{parent}' row"),
                }))
            }
        }
    }

    /// Canonicalizes `literal` for the sharding column and routes it (what an INSERT
    /// needs); errors show the literal as written.
    pub fn route_literal(&self, literal: &KeyLiteral) -> Result<DataNodeId, ShardingError> {
        match self {
            Distribution::Sharded { key_type, rule, .. } => {
                let key = canonical_key(key_type, literal)?;
                rule.route_typed(key_type, &key)
                    .map_err(|e| e.with_value(&key::literal_text(literal)))
            }
            _ => self.route(&KeyValue::Null),
        }
    }

    /// The data nodes that can hold keys in the range (see [`ShardingRule::route_range`]);
    /// a vertical table's one node; None (all) for global and child tables.
    pub fn route_range(
        &self,
        low: Bound<&KeyValue>,
        high: Bound<&KeyValue>,
    ) -> Option<Vec<DataNodeId>> {
        match self {
            Distribution::Sharded { rule, .. } => rule.route_range(low, high),
            Distribution::Vertical { dnid } => Some(vec![*dnid]),
            _ => None,
        }
    }
}
