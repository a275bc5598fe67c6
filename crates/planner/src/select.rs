//! SELECT (and UNION) planning: find where the rows are; one node gets the original text
//! (the fast path); several nodes get the rewritten per-node query and a merge
//! specification ([`crate::scatter`]). Constructs that cannot be merged exactly are
//! refused with 1235 naming them.

use sqlparser::ast::{Query, SetExpr, TableFactor};

use crate::catalog_view::CatalogView;
use crate::context::{PlanContext, Random};
use crate::dnid;
use crate::error::PlanError;
use crate::exprs::{calls_any, contains_window};
use crate::keys::{NodeSet, Placement};
use crate::nondeterministic::{Fixer, RandomCalls};
use crate::plan::{MergeSpec, NodeStatement, Plan, Reply};
use crate::scatter::{rewrite_select, rewrite_union, RewriteContext};
use crate::scope::{query_scope, Resolver, Route, Scope};
use crate::source::{select_item_texts, Source};
use strata_catalog::DataNodeId;

/// Plans a query: with the native operators (one node, scatter/merge, joins in the
/// compute node) when they can run it; otherwise, when only its shape is in the way,
/// whole on one data node over copies of its tables ([`crate::materialize`]).
pub(crate) fn plan_query(
    src: &Source<'_>,
    query: Query,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    // A text statement's argument-less calls hold the session's value already (the
    // session writes it in); what is left would be a storage connection's own value, or
    // set one that each data node running it keeps for itself.
    if calls_any(&query, &["LAST_INSERT_ID"]) {
        return Err(PlanError::unsupported(
            "LAST_INSERT_ID() evaluated by the data nodes (in a prepared statement, or LAST_INSERT_ID(expr) in a SELECT)",
        ));
    }
    plan_native(src, query, ctx, catalog)
        .or_else(|refusal| crate::materialize::instead_of(src, ctx, catalog, refusal))
}

/// Plans a query with the native operators.
pub(crate) fn plan_native(
    src: &Source<'_>,
    mut query: Query,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    // Both belong to the session's previous statement: the compute node answers a
    // plain `SELECT ROW_COUNT()` itself, and a storage node cannot answer either.
    if calls_any(&query, &["FOUND_ROWS"]) {
        return Err(PlanError::unsupported("FOUND_ROWS()"));
    }
    if calls_any(&query, &["ROW_COUNT"]) {
        return Err(PlanError::unsupported(
            "ROW_COUNT() other than alone in a SELECT without tables",
        ));
    }
    let resolver = Resolver::new(ctx, catalog);
    let dnid = dnid::extract(&mut query)?;
    let mut scope = query_scope(&query, &resolver)?;
    if dnid.restrict.is_some() && scope.blocks.len() > 1 {
        return Err(PlanError::unsupported("DNID with subqueries"));
    }
    let mut empty = false;
    if let Some(r) = &dnid.restrict {
        empty = !scope.restrict(r);
    }
    let union = matches!(&*query.body, SetExpr::SetOperation { .. });
    let route = if union {
        union_route(&scope, ctx.home_node)?
    } else {
        match scope.route(ctx.home_node, dnid.restrict.as_ref()) {
            Ok(route) => route,
            // Tables that cannot run together on the data nodes: the compute node
            // joins them.
            Err(PlanError::Unsupported(_))
                if dnid.restrict.is_none()
                    && !dnid.selected
                    && crate::join::applies(&query, &scope) =>
            {
                check_multi_node(src, &query)?;
                let rng = Random::new(ctx.seed);
                Fixer::new(ctx, &rng).fix_ast(&mut query, RandomCalls::Keep)?;
                return crate::join::plan_join(src, &query, ctx, catalog);
            }
            Err(e) => return Err(e),
        }
    };
    if let (Route::Single(n), Some(r)) = (&route, &dnid.restrict) {
        empty |= !r.contains(n);
    }
    match route {
        Route::Single(node) => {
            let sql = if dnid.restrict.is_some() || dnid.selected {
                let mut q = query;
                if empty {
                    dnid::make_empty(&mut q);
                }
                dnid::fill(&mut q, node);
                render(&q, src)
            } else {
                src.forward_text(ctx.params).into_owned()
            };
            Ok(Plan::route(node, sql, Reply::Rows))
        }
        Route::Multi(nodes) => {
            check_multi_node(src, &query)?;
            let rng = Random::new(ctx.seed);
            Fixer::new(ctx, &rng).fix_ast(&mut query, RandomCalls::Keep)?;
            let rc = RewriteContext {
                qualifiers: single_table_qualifiers(&scope),
                star_expansion: star_expansion(&query),
                item_texts: select_item_texts(src.sql),
            };
            let (per_node, mut merge) = if union {
                rewrite_union(&query)?
            } else {
                rewrite_select(&query, &rc)?
            };
            merge.other_collation_columns = crate::collations::other_collation_columns(&scope);
            merge.collations = crate::collations::per_node_collations(&per_node, &scope);
            Ok(scatter_plan(src, per_node, merge, nodes, dnid.selected))
        }
    }
}

/// The plan for a rewritten per-node query on `nodes`.
fn scatter_plan(
    src: &Source<'_>,
    per_node: Query,
    merge: MergeSpec,
    nodes: NodeSet,
    dnid_selected: bool,
) -> Plan {
    if dnid_selected {
        let parts = nodes
            .iter()
            .map(|&n| {
                let mut q = per_node.clone();
                dnid::fill(&mut q, n);
                NodeStatement {
                    dnid: n,
                    sql: render(&q, src),
                }
            })
            .collect();
        return Plan::query(parts, merge);
    }
    let nodes: Vec<DataNodeId> = nodes.into_iter().collect();
    Plan::scatter(&nodes, &render(&per_node, src), merge)
}

/// A query as text, with the clauses sqlparser could not read put back.
pub(crate) fn render(query: &Query, src: &Source<'_>) -> String {
    let mut sql = query.to_string();
    if src.masked.lock_in_share_mode {
        sql.push_str(" LOCK IN SHARE MODE");
    }
    sql
}

/// Refusals for constructs that cannot run on several nodes and be merged exactly.
fn check_multi_node(src: &Source<'_>, query: &Query) -> Result<(), PlanError> {
    if src.masked.calc_found_rows {
        return Err(PlanError::unsupported(
            "SQL_CALC_FOUND_ROWS across data nodes",
        ));
    }
    if src.masked.with_rollup {
        return Err(PlanError::unsupported("WITH ROLLUP across data nodes"));
    }
    if contains_window(query) {
        return Err(PlanError::unsupported("window functions across data nodes"));
    }
    if query.fetch.is_some() {
        return Err(PlanError::unsupported("FETCH across data nodes"));
    }
    if let SetExpr::Select(s) = &*query.body {
        if s.into.is_some() {
            return Err(PlanError::unsupported("SELECT ... INTO across data nodes"));
        }
    }
    Ok(())
}

/// Qualifiers that name the only table's columns (for comparing `t.a` with `a`).
fn single_table_qualifiers(scope: &Scope) -> Vec<String> {
    match scope.blocks.first() {
        Some(b) if b.tables.len() == 1 => {
            let t = &b.tables[0].table;
            let mut q = vec![t.qualifier.clone()];
            if t.qualifier != t.name {
                q.push(t.name.clone());
            }
            q
        }
        _ => Vec::new(),
    }
}

/// `q1, q2, ...` to expand `*` into, when exact (no USING/NATURAL joins).
fn star_expansion(query: &Query) -> Option<Vec<String>> {
    let SetExpr::Select(select) = &*query.body else {
        return None;
    };
    let mut names = Vec::new();
    let mut push = |f: &TableFactor| -> Option<()> {
        match f {
            TableFactor::Table { name, alias, .. } => names.push(match alias {
                Some(a) => a.name.value.clone(),
                None => name.0.last()?.as_ident()?.value.clone(),
            }),
            TableFactor::Derived { alias, .. } => names.push(alias.as_ref()?.name.value.clone()),
            _ => return None,
        }
        Some(())
    };
    for twj in &select.from {
        push(&twj.relation)?;
        for j in &twj.joins {
            use sqlparser::ast::{JoinConstraint, JoinOperator as J};
            let constraint = match &j.join_operator {
                J::Join(c)
                | J::Inner(c)
                | J::Left(c)
                | J::LeftOuter(c)
                | J::Right(c)
                | J::RightOuter(c)
                | J::CrossJoin(c)
                | J::StraightJoin(c) => c,
                _ => return None,
            };
            if matches!(
                constraint,
                JoinConstraint::Using(_) | JoinConstraint::Natural
            ) {
                return None;
            }
            push(&j.relation)?;
        }
    }
    Some(names)
}

/// Where a UNION runs: one node if everything is there; else every branch must be one
/// co-located group of sharded tables present on all target nodes.
fn union_route(scope: &Scope, home: Option<DataNodeId>) -> Result<Route, PlanError> {
    if let Ok(Route::Single(n)) = scope.route(home, None) {
        return Ok(Route::Single(n));
    }
    let mut target = NodeSet::new();
    for b in &scope.blocks {
        if !b.outer {
            if b.groups.is_empty() {
                continue;
            }
            return Err(PlanError::unsupported(
                "subqueries over sharded tables across data nodes",
            ));
        }
        if b.groups.len() != 1 {
            return Err(PlanError::unsupported(
                "UNION branches that read no sharded table, or tables that are not co-located, across data nodes",
            ));
        }
        let g = &b.groups[0];
        if g.members
            .iter()
            .any(|&m| matches!(b.tables[m].table.placement, Placement::Vertical { .. }))
        {
            return Err(PlanError::unsupported(
                "UNION of vertical and sharded tables across data nodes",
            ));
        }
        if b.global_outer_join {
            return Err(PlanError::unsupported(
                "outer joins preserving a global table across data nodes",
            ));
        }
        target.extend(g.candidate.iter().copied());
    }
    let everywhere = scope.blocks.iter().flat_map(|b| b.tables.iter()).all(|t| {
        let nodes = t.table.placement.nodes();
        target.iter().all(|n| nodes.contains(n))
    });
    if !everywhere {
        return Err(PlanError::unsupported(
            "UNION of tables on different data nodes",
        ));
    }
    match target.len() {
        0 => scope.route(home, None),
        1 => Ok(Route::Single(
            *target.iter().next().unwrap_or(&DataNodeId::new(0)),
        )),
        _ => Ok(Route::Multi(target)),
    }
}
