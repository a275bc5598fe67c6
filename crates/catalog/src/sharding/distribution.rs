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

    /// The `SHARD BY` clause of CREATE TABLE that gives this distribution again: what
    /// SHOW CREATE TABLE appends, so a dump restored through Strata keeps each table's
    /// type and rule. A named rule is named (the restoring cluster must define it); an
    /// unnamed one is an AUTO function over its data nodes.
    pub fn shard_clause(&self) -> String {
        let nodes = |nodes: &[DataNodeId]| {
            let mut sorted = nodes.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            sorted
                .iter()
                .map(DataNodeId::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Distribution::Vertical { dnid } => format!("SHARD BY VERTICAL ON DATANODE '{dnid}'"),
            Distribution::Global { data_nodes } => {
                format!("SHARD BY GLOBAL ON DATANODE '{}'", nodes(data_nodes))
            }
            Distribution::Sharded { column, rule, .. } => {
                let how = match &rule.name {
                    Some(name) => format!("RULENAME {}", quoted(name)),
                    None => format!("FUNCTIONTYPE '{}'", rule.function.type_name()),
                };
                format!(
                    "SHARD BY {how} USING COLUMN {} ON DATANODE '{}'",
                    quoted(column),
                    nodes(&rule.data_nodes)
                )
            }
            Distribution::Child {
                parent,
                parent_column,
                column,
            } => format!(
                "SHARD BY CHILD OF {}({}) USING COLUMN {}",
                backquoted(parent),
                backquoted(parent_column),
                quoted(column)
            ),
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

/// `text` as a single-quoted SQL string.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// `name` as a backquoted identifier.
fn backquoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use strata_sql::ddl::{strip_shard_clause, ShardClause};

    use super::*;

    fn clause_of(d: &Distribution) -> ShardClause {
        let sql = format!("CREATE TABLE t (a INT) ENGINE=InnoDB {}", d.shard_clause());
        strip_shard_clause(&sql)
            .expect("the clause parses")
            .expect("a clause is found")
            .clause
    }

    #[test]
    fn each_distribution_prints_a_clause_that_reads_back_to_it() {
        let nodes = DataNodeId::from_numbers(&[3, 1, 2]);
        assert_eq!(
            clause_of(&Distribution::Vertical {
                dnid: DataNodeId::new(2)
            }),
            ShardClause::Vertical { data_node: 2 }
        );
        assert_eq!(
            clause_of(&Distribution::Global {
                data_nodes: nodes.clone()
            }),
            ShardClause::Global {
                data_nodes: Some(vec![1, 2, 3])
            }
        );
        let rule = ShardingRule::auto_mod(DataNodeId::from_numbers(&[1, 2, 3])).expect("rule");
        let sharded = Distribution::sharded(
            "it's",
            KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            rule.clone(),
        )
        .expect("valid");
        assert_eq!(
            clause_of(&sharded),
            ShardClause::FunctionType {
                function: "auto_mod".into(),
                column: "it's".into(),
                data_nodes: Some(vec![1, 2, 3]),
            }
        );
        let named = ShardingRule {
            name: Some("by_k".into()),
            ..rule
        };
        let sharded = Distribution::sharded(
            "k",
            KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            named,
        )
        .expect("valid");
        assert_eq!(
            clause_of(&sharded),
            ShardClause::Rule {
                name: "by_k".into(),
                by_id: false,
                column: Some("k".into()),
                data_nodes: Some(vec![1, 2, 3]),
            }
        );
        assert_eq!(
            clause_of(&Distribution::Child {
                parent: "or`ders".into(),
                parent_column: "id".into(),
                column: "order_id".into(),
            }),
            ShardClause::Child {
                parent: "or`ders".into(),
                parent_column: "id".into(),
                column: "order_id".into(),
            }
        );
    }
}
