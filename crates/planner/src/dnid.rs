//! The `DNID` pseudo-column (HotDB's): in the select list it is the number of the data
//! node a row comes from; `WHERE DNID = n` (or `DNID IN (...)`) as a top-level AND
//! condition keeps the rows of those nodes. The planner removes the condition and
//! restricts the route, and each node's query selects its own number as a literal
//! (`3 AS DNID`). Anywhere else `DNID` is refused; a real column named `dnid` is
//! shadowed.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, BinaryOperator, Expr, Ident, OrderByKind, Query, SelectItem, SetExpr,
};

use crate::error::PlanError;
use crate::exprs::number;
use crate::keys::NodeSet;
use crate::literal::expr_literal;
use crate::scope::conjuncts;
use strata_catalog::sharding::KeyLiteral;
use strata_catalog::DataNodeId;

/// How a query uses `DNID`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DnidUse {
    /// Nodes kept by `WHERE DNID ...` conditions (intersected), if any.
    pub restrict: Option<NodeSet>,
    /// The select list has `DNID` items.
    pub selected: bool,
}

/// True if `name` is the pseudo-column.
fn is_dnid(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(id) if id.value.eq_ignore_ascii_case("dnid"))
}

/// True if the node mentions `DNID` anywhere.
pub(crate) fn mentions_dnid<V: sqlparser::ast::Visit>(node: &V) -> bool {
    visit_expressions(node, |e| {
        if is_dnid(e) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// Takes the `DNID` conditions out of a single-SELECT query and checks that `DNID`
/// appears nowhere else but in plain select items and `ORDER BY DNID`.
pub(crate) fn extract(query: &mut Query) -> Result<DnidUse, PlanError> {
    let mut dnid = DnidUse::default();
    if !mentions_dnid(&*query) {
        return Ok(dnid);
    }
    let SetExpr::Select(select) = &mut *query.body else {
        return Err(PlanError::unsupported("DNID in a UNION"));
    };
    if let Some(selection) = select.selection.take() {
        let mut parts = Vec::new();
        conjuncts(&selection, &mut parts);
        let mut kept: Vec<Expr> = Vec::new();
        for p in parts {
            match dnid_condition(p)? {
                Some(nodes) => {
                    dnid.restrict = Some(match dnid.restrict.take() {
                        Some(r) => r.intersection(&nodes).copied().collect(),
                        None => nodes,
                    })
                }
                None => kept.push(match p {
                    Expr::BinaryOp {
                        op: BinaryOperator::Or | BinaryOperator::Xor,
                        ..
                    } => Expr::Nested(Box::new(p.clone())),
                    other => other.clone(),
                }),
            }
        }
        select.selection = kept.into_iter().reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        });
    }
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }
                if is_dnid(e) =>
            {
                dnid.selected = true
            }
            other if mentions_dnid(other) => {
                return Err(PlanError::unsupported("DNID inside an expression"))
            }
            _ => {}
        }
    }
    let elsewhere = mentions_dnid(&select.selection)
        || mentions_dnid(&select.group_by)
        || mentions_dnid(&select.having)
        || mentions_dnid(&select.from)
        || mentions_dnid(&query.limit_clause)
        || query.with.as_ref().is_some_and(mentions_dnid);
    let order_ok = match &query.order_by {
        Some(ob) => match &ob.kind {
            OrderByKind::Expressions(keys) => keys
                .iter()
                .all(|k| (is_dnid(&k.expr) && dnid.selected) || !mentions_dnid(&k.expr)),
            OrderByKind::All(_) => true,
        },
        None => true,
    };
    if elsewhere || !order_ok {
        return Err(PlanError::unsupported(
            "DNID outside the select list and top-level WHERE DNID conditions",
        ));
    }
    Ok(dnid)
}

/// `DNID = n`, `n = DNID` or `DNID IN (n, ...)`: the nodes it keeps.
fn dnid_condition(expr: &Expr) -> Result<Option<NodeSet>, PlanError> {
    let node = |e: &Expr| -> Result<DataNodeId, PlanError> {
        match expr_literal(e) {
            Some(KeyLiteral::Integer(s)) => s
                .parse()
                .map_err(|_| PlanError::unsupported("DNID compared with a non-node value")),
            _ => Err(PlanError::unsupported("DNID compared with a non-literal")),
        }
    };
    match expr {
        Expr::Nested(inner) => dnid_condition(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if is_dnid(left) {
                Ok(Some(NodeSet::from([node(right)?])))
            } else if is_dnid(right) {
                Ok(Some(NodeSet::from([node(left)?])))
            } else {
                Ok(None)
            }
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } if is_dnid(expr) => list
            .iter()
            .map(node)
            .collect::<Result<NodeSet, _>>()
            .map(Some),
        _ => Ok(None),
    }
}

/// Replaces the `DNID` select items of a single-SELECT query by `node AS DNID`.
pub(crate) fn fill(query: &mut Query, node: DataNodeId) {
    let SetExpr::Select(select) = &mut *query.body else {
        return;
    };
    for item in &mut select.projection {
        let replacement = match item {
            SelectItem::UnnamedExpr(e) if is_dnid(e) => {
                let alias = match e {
                    Expr::Identifier(id) => id.clone(),
                    _ => Ident::new("DNID"),
                };
                Some(SelectItem::ExprWithAlias {
                    expr: number(node),
                    alias,
                })
            }
            SelectItem::ExprWithAlias { expr, alias } if is_dnid(expr) => {
                Some(SelectItem::ExprWithAlias {
                    expr: number(node),
                    alias: alias.clone(),
                })
            }
            _ => None,
        };
        if let Some(r) = replacement {
            *item = r;
        }
    }
}

/// Adds an always-false condition (the `DNID` condition kept no node of the table).
pub(crate) fn make_empty(query: &mut Query) {
    if let SetExpr::Select(select) = &mut *query.body {
        let never = Expr::value(sqlparser::ast::Value::Boolean(false));
        select.selection = Some(match select.selection.take() {
            Some(e) => Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(e))),
                op: BinaryOperator::And,
                right: Box::new(never),
            },
            None => never,
        });
    }
}
