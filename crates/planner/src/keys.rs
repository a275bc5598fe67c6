//! Where a table's rows live, as routing needs it: a [`Placement`] resolved from the
//! catalog's `Distribution` (child tables take their parent's rule), sets of data nodes,
//! and the calls into the catalog's sharding functions (canonical key, route, range).

use std::collections::BTreeSet;
use std::ops::Bound;

use strata_catalog::sharding::{
    bound_key, canonical_key, comparison_key, Distribution, KeyLiteral, KeyType, KeyValue, RangeOp,
    ShardingError, ShardingRule,
};
use strata_catalog::DataNodeId;

use crate::catalog_view::{CatalogView, TableInfo};
use crate::error::PlanError;

/// A set of data nodes in DNID order.
pub(crate) type NodeSet = BTreeSet<DataNodeId>;

/// Where the rows a predicate can match may live: anywhere, or only on some nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Nodes {
    /// No restriction.
    All,
    /// Only these nodes (empty: no row can match).
    Some(NodeSet),
}

impl Nodes {
    /// Rows matching both.
    pub(crate) fn and(self, other: Nodes) -> Nodes {
        match (self, other) {
            (Nodes::All, n) | (n, Nodes::All) => n,
            (Nodes::Some(a), Nodes::Some(b)) => Nodes::Some(a.intersection(&b).copied().collect()),
        }
    }

    /// Rows matching either.
    pub(crate) fn or(self, other: Nodes) -> Nodes {
        match (self, other) {
            (Nodes::All, _) | (_, Nodes::All) => Nodes::All,
            (Nodes::Some(mut a), Nodes::Some(b)) => {
                a.extend(b);
                Nodes::Some(a)
            }
        }
    }

    /// The nodes within `universe`.
    pub(crate) fn within(&self, universe: &[DataNodeId]) -> NodeSet {
        match self {
            Nodes::All => universe.iter().copied().collect(),
            Nodes::Some(s) => s.iter().copied().filter(|n| universe.contains(n)).collect(),
        }
    }
}

/// How a table's rows are placed, with child tables resolved to the rule that places
/// them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Placement {
    /// Rows spread by `rule` over the value of `column`.
    Sharded {
        /// Column whose value routes a row (for a child: its joining column).
        column: String,
        /// Type for canonicalizing literals (for a child: the parent key's type).
        key_type: KeyType,
        /// Function and nodes.
        rule: ShardingRule,
    },
    /// A full copy on each node.
    Global {
        /// The nodes.
        nodes: Vec<DataNodeId>,
    },
    /// All rows on one node.
    Vertical {
        /// The node.
        node: DataNodeId,
    },
}

impl Placement {
    /// Every node holding some of the table.
    pub(crate) fn nodes(&self) -> Vec<DataNodeId> {
        match self {
            Placement::Sharded { rule, .. } => rule.data_nodes.clone(),
            Placement::Global { nodes } => nodes.clone(),
            Placement::Vertical { node } => vec![*node],
        }
    }

    /// Resolves a table's distribution; a child follows its parent chain (at most 8
    /// levels) to the sharding rule of the root.
    pub(crate) fn of(
        db: &str,
        table: &TableInfo,
        catalog: &dyn CatalogView,
    ) -> Result<Placement, PlanError> {
        let mut dist = table.distribution.clone();
        let mut child_column: Option<String> = None;
        for _ in 0..8 {
            match dist {
                Distribution::Vertical { dnid } => return Ok(Placement::Vertical { node: dnid }),
                Distribution::Global { data_nodes } => {
                    return Ok(Placement::Global { nodes: data_nodes })
                }
                Distribution::Sharded {
                    column,
                    key_type,
                    rule,
                } => {
                    return Ok(Placement::Sharded {
                        column: child_column.unwrap_or(column),
                        key_type,
                        rule,
                    })
                }
                Distribution::Child {
                    parent,
                    parent_column: _,
                    column,
                } => {
                    child_column.get_or_insert(column);
                    let parent_info =
                        catalog
                            .table(db, &parent)
                            .ok_or_else(|| PlanError::UnknownTable {
                                db: db.to_string(),
                                table: parent.clone(),
                            })?;
                    dist = parent_info.distribution.clone();
                }
            }
        }
        Err(PlanError::unsupported(
            "child tables nested more than 8 levels",
        ))
    }
}

/// A literal's canonical key for `key_type`: the value stored when it is inserted.
pub(crate) fn canonical(key_type: &KeyType, literal: &KeyLiteral) -> Result<KeyValue, PlanError> {
    canonical_key(key_type, literal).map_err(PlanError::from)
}

/// The key of every row `column = literal` can match, or None when rows with several
/// keys can match (then nothing is pruned).
pub(crate) fn comparison(key_type: &KeyType, literal: &KeyLiteral) -> Option<KeyValue> {
    comparison_key(key_type, literal).ok().flatten()
}

/// The inclusive bound `column <op> literal` puts on an integer key, if exact.
pub(crate) fn bound(
    key_type: &KeyType,
    literal: &KeyLiteral,
    op: RangeOp,
) -> Option<Bound<KeyValue>> {
    bound_key(key_type, literal, op)
}

/// The node holding rows whose key is `value`.
pub(crate) fn route(
    rule: &ShardingRule,
    key_type: &KeyType,
    value: &KeyValue,
) -> Result<DataNodeId, PlanError> {
    rule.route_typed(key_type, value).map_err(PlanError::from)
}

/// The nodes that may hold keys in the range, or None when the function cannot prune
/// ranges (all nodes).
pub(crate) fn route_range(
    rule: &ShardingRule,
    low: Bound<&KeyValue>,
    high: Bound<&KeyValue>,
) -> Option<Vec<DataNodeId>> {
    rule.route_range(low, high)
}

/// The key type of a column declared as `type_text` (sqlparser's rendering, e.g.
/// `INT UNSIGNED`, `VARCHAR(20)`), with its own collation or the table's default;
/// types that cannot be sharding keys (FLOAT, DOUBLE, TEXT, BLOB, JSON, ...) are refused.
pub(crate) fn key_type_of(
    type_text: &str,
    collation: Option<&str>,
    table_collation: Option<&str>,
) -> Result<KeyType, PlanError> {
    KeyType::from_column_definition(type_text, collation, table_collation).map_err(PlanError::from)
}

impl From<ShardingError> for PlanError {
    fn from(e: ShardingError) -> PlanError {
        PlanError::Sharding {
            code: e.code(),
            message: e.to_string(),
        }
    }
}
