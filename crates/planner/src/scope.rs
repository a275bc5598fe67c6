//! Which tables a statement reads and on which data nodes the rows it needs can be.
//!
//! A query is cut into blocks (each SELECT; subqueries, derived tables and CTE bodies are
//! blocks of their own). In a block, every table is pruned by the predicates that filter
//! it (WHERE and inner-join ON for tables that are not on the NULL side of an outer join;
//! the join's own ON for those that are). Sharded tables joined by equality of their
//! sharding columns under the same rule form a co-located group: a joined row needs
//! matching rows on one node, so the group's nodes are the intersection of its filtering
//! members' nodes. Vertical tables are groups of one node; global tables can be read on
//! any of their nodes.
//!
//! [`Scope::route`] then decides: one node if every group fits on the same node (and the
//! global tables are there too); several nodes only when a single co-located group in
//! the outer block spans them and everything else is global and present on all of them.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    BinaryOperator, Expr, Join, JoinConstraint, JoinOperator, ObjectName, Query, Select, SetExpr,
    TableFactor, TableWithJoins, Visit, Visitor,
};

use crate::catalog_view::{CatalogView, TableInfo};
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::keys::{NodeSet, Nodes, Placement};
use crate::prune::KeyColumn;
use strata_catalog::DataNodeId;

/// Schemas every MySQL server has; their tables are read on the home node.
pub(crate) const SYSTEM_SCHEMAS: &[&str] =
    &["information_schema", "mysql", "performance_schema", "sys"];

/// Resolves table names against the catalog and the session's database.
#[derive(Clone, Copy)]
pub(crate) struct Resolver<'a> {
    /// The catalog.
    pub catalog: &'a dyn CatalogView,
    /// Current database.
    pub db: Option<&'a str>,
    /// Node for system tables and table-less statements.
    pub home: Option<DataNodeId>,
}

/// A table the statement names, resolved.
#[derive(Debug, Clone)]
pub(crate) struct TableRef {
    /// Logical database.
    pub db: String,
    /// Table name.
    pub name: String,
    /// The name that qualifies its columns in the statement (alias or table name).
    pub qualifier: String,
    /// Catalog entry, shared with the catalog (a stand-in for system tables).
    pub info: Arc<TableInfo>,
    /// Where its rows are.
    pub placement: Placement,
}

impl TableRef {
    /// The sharding column as the statement may name it, for sharded tables.
    pub(crate) fn key_column(&self, unqualified: bool) -> Option<KeyColumn<'_>> {
        match &self.placement {
            Placement::Sharded {
                column,
                key_type,
                rule,
            } => Some(KeyColumn {
                column,
                qualifier: &self.qualifier,
                db: &self.db,
                table: &self.name,
                unqualified,
                key_type,
                rule,
            }),
            _ => None,
        }
    }
}

impl<'a> Resolver<'a> {
    /// Resolves names for a statement planned in `ctx`.
    pub(crate) fn new(ctx: &PlanContext<'a>, catalog: &'a dyn CatalogView) -> Self {
        Resolver {
            catalog,
            db: ctx.db,
            home: ctx.home_node,
        }
    }
}

impl Resolver<'_> {
    /// The (database, table) a name refers to.
    pub(crate) fn names(&self, name: &ObjectName) -> Result<(String, String), PlanError> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| p.as_ident().map(crate::source::ident_name))
            .collect::<Option<_>>()
            .ok_or_else(|| PlanError::unsupported("table functions"))?;
        match parts.as_slice() {
            [t] => Ok((
                self.db.ok_or(PlanError::NoDatabase)?.to_string(),
                t.to_string(),
            )),
            [d, t] => Ok((d.to_string(), t.to_string())),
            _ => Err(PlanError::Parse(format!("bad table name '{name}'"))),
        }
    }

    /// Resolves a table name (with the alias that qualifies its columns).
    pub(crate) fn table(
        &self,
        name: &ObjectName,
        alias: Option<&str>,
    ) -> Result<TableRef, PlanError> {
        let (db, table) = self.names(name)?;
        let qualifier = alias.unwrap_or(&table).to_string();
        if SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(&db)) {
            let home = self.home.ok_or(PlanError::NoDatabase)?;
            let placement = Placement::Global { nodes: vec![home] };
            let info = Arc::new(TableInfo::new(
                strata_catalog::sharding::Distribution::Global {
                    data_nodes: vec![home],
                },
            ));
            return Ok(TableRef {
                db,
                name: table,
                qualifier,
                info,
                placement,
            });
        }
        let Some(info) = self.catalog.table(&db, &table) else {
            // Views are expanded before planning; one left here is named where only a
            // table can stand (ALTER TABLE, TRUNCATE, ...).
            if self.catalog.view(&db, &table).is_some() {
                return Err(PlanError::Statement {
                    code: 1347,
                    sqlstate: "HY000",
                    message: format!("'{db}.{table}' is not of type 'BASE TABLE'"),
                });
            }
            // MariaDB's Sequence engine makes these up on every data node alike.
            if let Some(info) = crate::sequence_engine::table(self.catalog, &db, &table) {
                let placement = Placement::Global {
                    nodes: info.data_nodes.clone(),
                };
                return Ok(TableRef {
                    db,
                    name: table,
                    qualifier,
                    info,
                    placement,
                });
            }
            return Err(PlanError::UnknownTable { db, table });
        };
        let placement = Placement::of(&db, &info, self.catalog)?;
        Ok(TableRef {
            db,
            name: table,
            qualifier,
            info,
            placement,
        })
    }
}

/// A table of a block with the nodes its needed rows can be on.
#[derive(Debug, Clone)]
pub(crate) struct ScopedTable {
    /// The table.
    pub table: TableRef,
    /// Nodes holding the rows its filters accept.
    pub nodes: Nodes,
    /// False when it is on the NULL side of an outer join (it does not restrict rows).
    pub restricting: bool,
    /// True when it is the preserved side of an outer join.
    pub preserved: bool,
}

/// A set of tables whose needed rows must be on the same node.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Indexes into the block's tables.
    pub members: Vec<usize>,
    /// Nodes where the group's rows can be.
    pub candidate: NodeSet,
    /// Every node of the group's tables.
    pub universe: Vec<DataNodeId>,
}

/// One SELECT block.
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    /// True for the outermost block (or a branch of the outermost UNION).
    pub outer: bool,
    /// Its tables.
    pub tables: Vec<ScopedTable>,
    /// Its co-located groups (sharded and vertical tables).
    pub groups: Vec<Group>,
    /// An outer join whose preserved side is global and NULL side is not.
    pub global_outer_join: bool,
}

/// Every block of a statement.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The blocks, outer ones first.
    pub blocks: Vec<Block>,
}

/// Where a statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// On one node.
    Single(DataNodeId),
    /// On these nodes (two or more), each running the outer block's group locally.
    Multi(NodeSet),
}

impl Scope {
    /// Every table, in order.
    pub(crate) fn tables(&self) -> impl Iterator<Item = &ScopedTable> {
        self.blocks.iter().flat_map(|b| b.tables.iter())
    }

    /// Restricts the outer blocks' groups to `nodes` (the `DNID` pseudo-column);
    /// returns false when that leaves no node for some group.
    pub(crate) fn restrict(&mut self, nodes: &NodeSet) -> bool {
        let mut ok = true;
        for b in self.blocks.iter_mut().filter(|b| b.outer) {
            for g in &mut b.groups {
                g.candidate = g.candidate.intersection(nodes).copied().collect();
                ok &= !g.candidate.is_empty();
            }
        }
        ok
    }

    /// Where the statement runs; `home` serves statements without tables and
    /// `restrict` (from `DNID`) narrows the choice of node for global-only reads.
    pub(crate) fn route(
        &self,
        home: Option<DataNodeId>,
        restrict: Option<&NodeSet>,
    ) -> Result<Route, PlanError> {
        let groups: Vec<(&Block, &Group)> = self
            .blocks
            .iter()
            .flat_map(|b| b.groups.iter().map(move |g| (b, g)))
            .collect();
        let globals: Vec<Vec<DataNodeId>> = self
            .tables()
            .filter_map(|t| match &t.table.placement {
                Placement::Global { nodes } => Some(nodes.clone()),
                _ => None,
            })
            .collect();
        let all_tables: Vec<Vec<DataNodeId>> =
            self.tables().map(|t| t.table.placement.nodes()).collect();
        let common = |candidates: Vec<DataNodeId>| -> Option<DataNodeId> {
            candidates
                .into_iter()
                .find(|n| all_tables.iter().all(|nodes| nodes.contains(n)))
        };
        if groups.is_empty() {
            if globals.is_empty() {
                return home.map(Route::Single).ok_or(PlanError::NoDatabase);
            }
            let first = globals[0].clone();
            let preferred: Vec<DataNodeId> = match restrict {
                Some(r) => first.iter().copied().filter(|n| r.contains(n)).collect(),
                None => first.clone(),
            };
            let mut order = preferred;
            order.extend(first);
            return common(order)
                .map(Route::Single)
                .ok_or_else(|| PlanError::unsupported("global tables on different data nodes"));
        }
        let union: NodeSet = groups
            .iter()
            .flat_map(|(_, g)| g.candidate.iter().copied())
            .collect();
        if union.len() <= 1 {
            let node = match union.iter().next() {
                Some(&n) => Some(n).filter(|n| all_tables.iter().all(|t| t.contains(n))),
                None => common(groups[0].1.universe.clone()),
            };
            return node
                .map(Route::Single)
                .ok_or_else(|| PlanError::unsupported("tables on different data nodes"));
        }
        // Several nodes: one co-located group in an outer block, the rest global.
        if groups.len() > 1 {
            if groups.iter().any(|(b, _)| !b.outer) {
                return Err(PlanError::unsupported(
                    "subqueries over sharded tables across data nodes",
                ));
            }
            return Err(PlanError::unsupported(
                "joins of tables that are not co-located across data nodes",
            ));
        }
        let (block, group) = groups[0];
        if !block.outer {
            return Err(PlanError::unsupported(
                "subqueries over sharded tables across data nodes",
            ));
        }
        if block.global_outer_join {
            return Err(PlanError::unsupported(
                "outer joins preserving a global table across data nodes",
            ));
        }
        if !globals
            .iter()
            .all(|g| group.candidate.iter().all(|n| g.contains(n)))
        {
            return Err(PlanError::unsupported(
                "joins with a global table that is not on every data node of the sharded table",
            ));
        }
        Ok(Route::Multi(group.candidate.clone()))
    }
}

/// Builds the scope of a query.
pub(crate) fn query_scope(query: &Query, resolver: &Resolver<'_>) -> Result<Scope, PlanError> {
    let mut scope = Scope::default();
    let mut ctes = HashSet::new();
    collect_query(query, resolver, &mut ctes, true, &mut scope, 0)?;
    Ok(scope)
}

/// Adds the blocks of `query` (outer when `outer`).
pub(crate) fn collect_query(
    query: &Query,
    resolver: &Resolver<'_>,
    ctes: &mut HashSet<String>,
    outer: bool,
    scope: &mut Scope,
    depth: usize,
) -> Result<(), PlanError> {
    if depth > 32 {
        return Err(PlanError::unsupported("queries nested more than 32 levels"));
    }
    let mut ctes = ctes.clone();
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            ctes.insert(cte.alias.name.value.clone());
            collect_query(&cte.query, resolver, &mut ctes, false, scope, depth + 1)?;
        }
    }
    collect_set_expr(&query.body, resolver, &mut ctes, outer, scope, depth)?;
    let mut nested = Vec::new();
    if let Some(order_by) = &query.order_by {
        let _ = order_by.visit(&mut SubqueryFinder::new(&mut nested));
    }
    for q in nested {
        collect_query(&q, resolver, &mut ctes, false, scope, depth + 1)?;
    }
    Ok(())
}

fn collect_set_expr(
    body: &SetExpr,
    resolver: &Resolver<'_>,
    ctes: &mut HashSet<String>,
    outer: bool,
    scope: &mut Scope,
    depth: usize,
) -> Result<(), PlanError> {
    match body {
        SetExpr::Select(select) => collect_select(select, resolver, ctes, outer, scope, depth),
        SetExpr::Query(q) => collect_query(q, resolver, ctes, outer, scope, depth + 1),
        SetExpr::SetOperation { left, right, .. } => {
            collect_set_expr(left, resolver, ctes, outer, scope, depth + 1)?;
            collect_set_expr(right, resolver, ctes, outer, scope, depth + 1)
        }
        SetExpr::Values(values) => {
            let mut nested = Vec::new();
            let _ = values.visit(&mut SubqueryFinder::new(&mut nested));
            for q in nested {
                collect_query(&q, resolver, ctes, false, scope, depth + 1)?;
            }
            Ok(())
        }
        _ => Err(PlanError::unsupported("this kind of query")),
    }
}

/// A relation of a FROM clause flattened: table or derived/nested content.
struct Relation<'q> {
    factor: &'q TableFactor,
    /// On the NULL side of an outer join.
    null_side: bool,
    /// On the preserved side of an outer join.
    preserved: bool,
    /// The ON condition of the outer join that makes it NULL-side, if directly so.
    own_on: Option<&'q Expr>,
    /// USING columns of the join that brought it in.
    using: Vec<String>,
}

fn collect_select(
    select: &Select,
    resolver: &Resolver<'_>,
    ctes: &mut HashSet<String>,
    outer: bool,
    scope: &mut Scope,
    depth: usize,
) -> Result<(), PlanError> {
    let mut nested_queries: Vec<Query> = Vec::new();
    {
        let mut finder = SubqueryFinder::new(&mut nested_queries);
        let _ = select.projection.visit(&mut finder);
        let _ = select.having.visit(&mut finder);
        let _ = select.group_by.visit(&mut finder);
    }
    collect_block(
        &select.from,
        select.selection.as_ref(),
        nested_queries,
        resolver,
        ctes,
        outer,
        scope,
        depth,
    )
}

/// Builds the scope of an UPDATE or DELETE: its tables, WHERE, and the expressions
/// (assigned values) that may hold subqueries.
pub(crate) fn dml_scope(
    from: &[TableWithJoins],
    selection: Option<&Expr>,
    others: &[&Expr],
    resolver: &Resolver<'_>,
) -> Result<Scope, PlanError> {
    let mut scope = Scope::default();
    let mut nested = Vec::new();
    {
        let mut finder = SubqueryFinder::new(&mut nested);
        for e in others {
            let _ = e.visit(&mut finder);
        }
    }
    collect_block(
        from,
        selection,
        nested,
        resolver,
        &mut HashSet::new(),
        true,
        &mut scope,
        0,
    )?;
    Ok(scope)
}

/// Adds one block: FROM items, WHERE, and subqueries found elsewhere in it.
#[allow(clippy::too_many_arguments)]
fn collect_block(
    from: &[TableWithJoins],
    selection: Option<&Expr>,
    mut nested_queries: Vec<Query>,
    resolver: &Resolver<'_>,
    ctes: &mut HashSet<String>,
    outer: bool,
    scope: &mut Scope,
    depth: usize,
) -> Result<(), PlanError> {
    let mut relations: Vec<Relation<'_>> = Vec::new();
    let mut inner_on: Vec<&Expr> = Vec::new();
    let mut all_on: Vec<&Expr> = Vec::new();
    for twj in from {
        flatten(twj, &mut relations, &mut inner_on, &mut all_on, false)?;
    }
    let mut block = Block {
        outer,
        ..Block::default()
    };
    let mut using_pairs: Vec<(usize, String)> = Vec::new();
    let mut own_on: Vec<Option<&Expr>> = Vec::new();
    for rel in &relations {
        match rel.factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(PlanError::unsupported("table functions"));
                }
                if name.0.len() == 1
                    && name.0[0]
                        .as_ident()
                        .is_some_and(|i| ctes.contains(&i.value))
                {
                    continue;
                }
                let table = resolver.table(name, alias.as_ref().map(|a| a.name.value.as_str()))?;
                let idx = block.tables.len();
                for u in &rel.using {
                    using_pairs.push((idx, u.clone()));
                }
                own_on.push(rel.own_on);
                block.tables.push(ScopedTable {
                    table,
                    nodes: Nodes::All,
                    restricting: !rel.null_side,
                    preserved: rel.preserved,
                });
            }
            TableFactor::Derived { subquery, .. } => nested_queries.push((**subquery).clone()),
            TableFactor::NestedJoin { .. } => {}
            _ => return Err(PlanError::unsupported("this kind of FROM item")),
        }
    }
    // Subqueries in WHERE and ON.
    {
        let mut finder = SubqueryFinder::new(&mut nested_queries);
        if let Some(selection) = selection {
            let _ = selection.visit(&mut finder);
        }
        for on in &all_on {
            let _ = on.visit(&mut finder);
        }
    }
    // An unqualified column name can only be taken for a table's when the block reads
    // one relation (with several, another table may have a column of that name).
    let single = relations.len() == 1;
    // Prune each table by the filters that restrict it.
    for (st, on) in block.tables.iter_mut().zip(&own_on) {
        let Some(key) = st.table.key_column(single) else {
            continue;
        };
        st.nodes = if st.restricting {
            let mut n = selection.map_or(Nodes::All, |w| key.prune(w));
            for on in &inner_on {
                n = n.and(key.prune(on));
            }
            n
        } else {
            on.map_or(Nodes::All, |on| key.prune(on))
        };
    }
    // Co-located groups: union-find over sharding-key equalities.
    let mut parent: Vec<usize> = (0..block.tables.len()).collect();
    let mut equalities: Vec<&Expr> = Vec::new();
    for on in &all_on {
        conjuncts(on, &mut equalities);
    }
    if let Some(w) = selection {
        conjuncts(w, &mut equalities);
    }
    for e in equalities {
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = e
        {
            let l = key_owner(&block.tables, left, single);
            let r = key_owner(&block.tables, right, single);
            if let (Some(l), Some(r)) = (l, r) {
                if l != r && same_rule(&block.tables[l].table, &block.tables[r].table) {
                    union(&mut parent, l, r);
                }
            }
        }
    }
    for (right, column) in &using_pairs {
        for left in 0..*right {
            let both_keyed = [left, *right].iter().all(|&i| {
                matches!(&block.tables[i].table.placement,
                    Placement::Sharded { column: c, .. } if c.eq_ignore_ascii_case(column))
            });
            if both_keyed && same_rule(&block.tables[left].table, &block.tables[*right].table) {
                union(&mut parent, left, *right);
            }
        }
    }
    let mut roots: Vec<usize> = Vec::new();
    for i in 0..block.tables.len() {
        if matches!(block.tables[i].table.placement, Placement::Global { .. }) {
            continue;
        }
        let root = find(&mut parent, i);
        match roots.iter().position(|&r| r == root) {
            Some(g) => block.groups[g].members.push(i),
            None => {
                roots.push(root);
                block.groups.push(Group {
                    members: vec![i],
                    candidate: NodeSet::new(),
                    universe: Vec::new(),
                });
            }
        }
    }
    for g in &mut block.groups {
        let universe = block.tables[g.members[0]].table.placement.nodes();
        let mut candidate: NodeSet = universe.iter().copied().collect();
        // The rows a group contributes are on the nodes of its filtering members' rows;
        // a group with none (all on the NULL side of outer joins) contributes the rows
        // its ON conditions match.
        let any_restricting = g.members.iter().any(|&m| block.tables[m].restricting);
        for &m in &g.members {
            let st = &block.tables[m];
            if st.restricting || !any_restricting {
                candidate = candidate
                    .intersection(&st.nodes.within(&universe))
                    .copied()
                    .collect();
            }
        }
        g.candidate = candidate;
        g.universe = universe;
    }
    block.global_outer_join = block
        .tables
        .iter()
        .any(|t| t.preserved && matches!(t.table.placement, Placement::Global { .. }))
        && block
            .tables
            .iter()
            .any(|t| !t.restricting && !matches!(t.table.placement, Placement::Global { .. }));
    scope.blocks.push(block);
    for q in nested_queries {
        collect_query(&q, resolver, ctes, false, scope, depth + 1)?;
    }
    Ok(())
}

/// The table whose sharding column `expr` names.
fn key_owner(tables: &[ScopedTable], expr: &Expr, single: bool) -> Option<usize> {
    tables.iter().position(|t| {
        t.table
            .key_column(single)
            .is_some_and(|k| k.is_column(expr))
    })
}

/// Same function, nodes, NULL route and key type: equal keys land on the same node.
fn same_rule(a: &TableRef, b: &TableRef) -> bool {
    match (&a.placement, &b.placement) {
        (
            Placement::Sharded {
                key_type: ka,
                rule: ra,
                ..
            },
            Placement::Sharded {
                key_type: kb,
                rule: rb,
                ..
            },
        ) => {
            ka == kb
                && ra.function == rb.function
                && ra.data_nodes == rb.data_nodes
                && ra.null_route == rb.null_route
        }
        _ => false,
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[rb] = ra;
    }
}

/// The top-level AND operands of `expr`.
pub(crate) fn conjuncts<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            Expr::Nested(inner)
                if matches!(
                    &**inner,
                    Expr::BinaryOp {
                        op: BinaryOperator::And,
                        ..
                    }
                ) =>
            {
                stack.push(inner)
            }
            other => out.push(other),
        }
    }
}

/// Flattens a FROM item into relations, noting outer-join sides and ON conditions.
fn flatten<'q>(
    twj: &'q TableWithJoins,
    out: &mut Vec<Relation<'q>>,
    inner_on: &mut Vec<&'q Expr>,
    all_on: &mut Vec<&'q Expr>,
    nested_null: bool,
) -> Result<(), PlanError> {
    let start = out.len();
    push_factor(
        &twj.relation,
        out,
        inner_on,
        all_on,
        nested_null,
        None,
        Vec::new(),
    )?;
    for join in &twj.joins {
        let Join {
            relation,
            join_operator,
            ..
        } = join;
        let (constraint, kind) = match join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::CrossJoin(c)
            | JoinOperator::StraightJoin(c) => (c, JoinKind::Inner),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, JoinKind::Left),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (c, JoinKind::Right),
            _ => return Err(PlanError::unsupported("this kind of join")),
        };
        let (on, using) = match constraint {
            JoinConstraint::On(e) => (Some(e), Vec::new()),
            JoinConstraint::Using(cols) => (
                None,
                cols.iter()
                    .filter_map(|c| {
                        c.0.last()
                            .and_then(|p| p.as_ident())
                            .map(|i| i.value.clone())
                    })
                    .collect(),
            ),
            // NATURAL joins name no columns: no co-location is inferred from them.
            JoinConstraint::None | JoinConstraint::Natural => (None, Vec::new()),
        };
        if let Some(on) = on {
            all_on.push(on);
            if kind == JoinKind::Inner {
                inner_on.push(on);
            }
        }
        let before = out.len();
        match kind {
            JoinKind::Inner => {
                push_factor(relation, out, inner_on, all_on, nested_null, None, using)?
            }
            JoinKind::Left => {
                for r in &mut out[start..before] {
                    r.preserved = true;
                }
                push_factor(relation, out, inner_on, all_on, true, on, using)?
            }
            JoinKind::Right => {
                for r in &mut out[start..before] {
                    r.null_side = true;
                    r.own_on = None;
                }
                push_factor(relation, out, inner_on, all_on, nested_null, None, using)?;
                for r in &mut out[before..] {
                    r.preserved = true;
                }
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JoinKind {
    Inner,
    Left,
    Right,
}

fn push_factor<'q>(
    factor: &'q TableFactor,
    out: &mut Vec<Relation<'q>>,
    inner_on: &mut Vec<&'q Expr>,
    all_on: &mut Vec<&'q Expr>,
    null_side: bool,
    own_on: Option<&'q Expr>,
    using: Vec<String>,
) -> Result<(), PlanError> {
    match factor {
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            // Inside parentheses under an outer join, filters of the inner joins do not
            // restrict the outer rows: treat every table there as NULL-side.
            let mut nested_inner_on = Vec::new();
            flatten(
                table_with_joins,
                out,
                &mut nested_inner_on,
                all_on,
                null_side,
            )?;
            if null_side {
                all_on.append(&mut nested_inner_on);
            } else {
                inner_on.append(&mut nested_inner_on);
            }
            Ok(())
        }
        other => {
            out.push(Relation {
                factor: other,
                null_side,
                preserved: false,
                own_on: if null_side { own_on } else { None },
                using,
            });
            Ok(())
        }
    }
}

/// Collects (clones of) the subqueries directly inside an expression tree.
pub(crate) struct SubqueryFinder<'v> {
    depth: usize,
    found: &'v mut Vec<Query>,
}

impl<'v> SubqueryFinder<'v> {
    /// A finder appending to `found`.
    pub(crate) fn new(found: &'v mut Vec<Query>) -> SubqueryFinder<'v> {
        SubqueryFinder { depth: 0, found }
    }
}

impl Visitor for SubqueryFinder<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.found.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }
}
