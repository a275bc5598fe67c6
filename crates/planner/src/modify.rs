//! UPDATE and DELETE planning. They route by WHERE like SELECT; one node gets the
//! original text, several nodes get the same text each (`WriteKind::Dml`), global
//! tables get it on every node (`Replicated`). ORDER BY and LIMIT run as sent on one
//! node; across nodes the rows are picked first by primary key (`limited_write`). An
//! UPDATE may set a sharding column only to a literal that routes to the node the
//! statement already runs on (the row stays where it is); otherwise it is refused
//! ("sharding column's value cannot be changed"). Time functions are written as
//! literals when several nodes run the statement; RAND()/UUID() are refused in writes
//! to several copies of a global table (each copy would get other values).
//!
//! `WHERE DNID = n` (top-level AND condition) restricts the statement to node `n`; the
//! condition is replaced by `1 = 1` in the text sent.

use sqlparser::ast::{
    AssignmentTarget, Delete, Expr, FromTable, ObjectName, Statement, TableFactor, TableWithJoins,
    UpdateTableFromKind,
};
use strata_sql::{Lexer, Token};

use crate::catalog_view::CatalogView;
use crate::context::{PlanContext, Random};
use crate::dnid::mentions_dnid;
use crate::error::PlanError;
use crate::insert::fan_out;
use crate::keys::{canonical, route, NodeSet, Placement};
use crate::literal::expr_literal;
use crate::nondeterministic::{pin_timestamp, Fixer, RandomCalls};
use crate::plan::{Plan, Reply, WriteKind};
use crate::scope::{conjuncts, dml_scope, Resolver, Route, Scope, TableRef};
use crate::source::Source;
use strata_catalog::DataNodeId;

/// The parts of an UPDATE or DELETE the planner looks at.
struct Modify<'s> {
    kind: &'static str,
    from: Vec<TableWithJoins>,
    selection: Option<&'s Expr>,
    /// Tables written (names as written).
    targets: Vec<ObjectName>,
    /// (column as written, new value) for UPDATE.
    assignments: Vec<(&'s ObjectName, &'s Expr)>,
    ordered_or_limited: bool,
}

/// Plans an UPDATE or DELETE: on the data nodes that hold its rows; when an
/// `IN (SELECT ...)` in its WHERE reads tables that cannot run beside it, with the
/// subquery read first (`subquery_first`); with ORDER BY / LIMIT over several nodes,
/// with its rows picked first by primary key (`limited_write`); a multi-table one over
/// tables that are not co-located, with its join read first (`multi_table`).
pub(crate) fn plan_modify(
    src: &Source<'_>,
    stmt: Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    let planned = plan_in_place(src, &stmt, ctx, catalog);
    if matches!(planned, Err(PlanError::Unsupported(_))) {
        if let Some(m) = temporary_target(src, &stmt, ctx, catalog) {
            return Ok(Plan::Materialize(m));
        }
    }
    match planned {
        Err(refusal @ PlanError::Unsupported(_)) if crate::multi_table::applies(&stmt) => {
            crate::multi_table::plan(src, &stmt, ctx, catalog, refusal)
        }
        Err(refusal @ PlanError::Unsupported(_)) => {
            let ordered = describe(&stmt, src).map_or(true, |m| m.ordered_or_limited);
            if ordered {
                crate::limited_write::plan(src, &stmt, ctx, catalog, refusal)
            } else {
                crate::subquery_first::plan(src, &stmt, false, ctx, catalog, refusal)
            }
        }
        other => other,
    }
}

/// An UPDATE or DELETE that writes only the session's temporary tables (on its own
/// connection to one node) and reads tables elsewhere: run there over copies of what
/// it reads ([`crate::materialize::temporary_write`]).
fn temporary_target(
    src: &Source<'_>,
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<crate::plan::Materialize> {
    let m = describe(stmt, src).ok()?;
    let resolver = Resolver::new(ctx, catalog);
    let others: Vec<&Expr> = m.assignments.iter().map(|(_, v)| *v).collect();
    let scope = dml_scope(&m.from, m.selection, &others, &resolver).ok()?;
    let temporary = |name: &ObjectName| {
        target_table(&scope, name, &resolver)
            .is_ok_and(|t| catalog.temporary_table(&t.db, &t.name).is_some())
    };
    if m.targets.is_empty() || !m.targets.iter().all(temporary) || mentions_dnid_text(src) {
        return None;
    }
    crate::materialize::temporary_write(src, &scope, ctx, catalog)
}

/// True when the statement's text names `DNID` (a Strata condition no node knows).
fn mentions_dnid_text(src: &Source<'_>) -> bool {
    src.tokens
        .iter()
        .any(|t| t.kind.is_code() && t.is_keyword(src.sql, "DNID"))
}

/// Plans an UPDATE or DELETE on the data nodes that hold its rows.
fn plan_in_place(
    src: &Source<'_>,
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    let m = describe(stmt, src)?;
    let resolver = Resolver::new(ctx, catalog);
    let others: Vec<&Expr> = m.assignments.iter().map(|(_, v)| *v).collect();
    let mut scope = dml_scope(&m.from, m.selection, &others, &resolver)?;

    // DNID conditions.
    let mut text = src.forward_text(ctx.params).into_owned();
    let restrict = dnid_restriction(&m)?;
    if let Some(r) = &restrict {
        let kept = scope.restrict(r);
        text = strip_dnid_text(&text, if kept { "1 = 1" } else { "1 = 0" })
            .ok_or_else(|| PlanError::unsupported("this form of WHERE DNID condition"))?;
        if !kept {
            // No node of the table is kept: nothing matches.
            return Ok(Plan::route(first_node(&scope)?, text, Reply::Ok));
        }
    }

    // Writes to global tables go to every copy.
    let targets: Vec<TableRef> = m
        .targets
        .iter()
        .map(|t| target_table(&scope, t, &resolver))
        .collect::<Result<_, _>>()?;
    let rng = Random::new(ctx.seed);
    let fixer = Fixer::new(ctx, &rng);
    if let Some(global) = targets.iter().find_map(|t| match &t.placement {
        Placement::Global { nodes } => Some(nodes.clone()),
        _ => None,
    }) {
        let all_global = scope.tables().all(|t| match &t.table.placement {
            Placement::Global { nodes } => global.iter().all(|n| nodes.contains(n)),
            _ => false,
        });
        if !all_global {
            return Err(PlanError::unsupported(format!(
                "{} of a global table together with other kinds of tables",
                m.kind
            )));
        }
        if global.len() > 1 {
            text = several_nodes_text(
                &m,
                &fixer,
                text,
                RandomCalls::Refuse,
                "of a global table with ORDER BY or LIMIT",
            )?;
            // ON UPDATE CURRENT_TIMESTAMP columns: the same time on every copy.
            text = pin_timestamp(ctx, text);
        }
        return Ok(fan_out(&global, text, WriteKind::GlobalWrite));
    }

    let route_result = scope.route(ctx.home_node, restrict.as_ref())?;
    check_key_assignments(&m, &scope, &route_result)?;
    match route_result {
        Route::Single(node) => Ok(Plan::route(node, text, Reply::Ok)),
        Route::Multi(nodes) => {
            let text = several_nodes_text(
                &m,
                &fixer,
                text,
                RandomCalls::Keep,
                "with ORDER BY or LIMIT across data nodes",
            )?;
            let nodes: Vec<DataNodeId> = nodes.into_iter().collect();
            Ok(fan_out(&nodes, text, WriteKind::Dml))
        }
    }
}

/// The text of a write that runs on several nodes, its nondeterministic calls fixed as
/// `random` says. Refused with ORDER BY or LIMIT (`refusal` follows the statement kind in
/// the message), since each node would pick its own rows.
fn several_nodes_text(
    m: &Modify<'_>,
    fixer: &Fixer<'_>,
    text: String,
    random: RandomCalls,
    refusal: &str,
) -> Result<String, PlanError> {
    if m.ordered_or_limited {
        return Err(PlanError::unsupported(format!("{} {refusal}", m.kind)));
    }
    Ok(fixer.fix_text(&text, random)?.unwrap_or(text))
}

fn describe<'s>(stmt: &'s Statement, src: &Source<'_>) -> Result<Modify<'s>, PlanError> {
    match stmt {
        Statement::Update {
            table,
            assignments,
            from,
            selection,
            returning,
            limit,
            ..
        } => {
            if returning.is_some() {
                return Err(PlanError::unsupported("UPDATE ... RETURNING"));
            }
            let mut tables = vec![table.clone()];
            if let Some(UpdateTableFromKind::BeforeSet(f) | UpdateTableFromKind::AfterSet(f)) = from
            {
                tables.extend(f.iter().cloned());
            }
            let mut pairs = Vec::new();
            let mut targets: Vec<ObjectName> = Vec::new();
            for a in assignments {
                let AssignmentTarget::ColumnName(col) = &a.target else {
                    return Err(PlanError::unsupported("UPDATE ... SET (a, b) = ..."));
                };
                pairs.push((col, &a.value));
            }
            // The written tables: those whose columns are assigned (every table of
            // the UPDATE when a column is unqualified and there are several).
            let names = relation_names(&tables);
            for (col, _) in &pairs {
                let qualifier: Vec<sqlparser::ast::Ident> = col.0[..col.0.len().saturating_sub(1)]
                    .iter()
                    .filter_map(|p| p.as_ident().cloned())
                    .collect();
                if qualifier.is_empty() {
                    targets.extend(names.iter().cloned());
                } else {
                    targets.push(ObjectName::from(qualifier));
                }
            }
            targets.dedup();
            Ok(Modify {
                kind: "UPDATE",
                from: tables,
                selection: selection.as_ref(),
                targets,
                assignments: pairs,
                ordered_or_limited: limit.is_some() || src.masked.update_order_by,
            })
        }
        Statement::Delete(Delete {
            tables,
            from,
            using,
            selection,
            order_by,
            limit,
            ..
        }) => {
            let mut from_tables = match from {
                FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f.clone(),
            };
            if let Some(u) = using {
                from_tables.extend(u.iter().cloned());
            }
            let targets = if tables.is_empty() {
                relation_names(&from_tables[..from_tables.len().min(1)])
            } else {
                tables.clone()
            };
            Ok(Modify {
                kind: "DELETE",
                from: from_tables,
                selection: selection.as_ref(),
                targets,
                assignments: Vec::new(),
                ordered_or_limited: !order_by.is_empty() || limit.is_some(),
            })
        }
        _ => Err(PlanError::unsupported("this statement")),
    }
}

/// Table names (or aliases) of FROM items, in order.
fn relation_names(from: &[TableWithJoins]) -> Vec<ObjectName> {
    let mut out = Vec::new();
    let mut push = |f: &TableFactor| {
        if let TableFactor::Table { name, alias, .. } = f {
            out.push(match alias {
                Some(a) => ObjectName::from(vec![a.name.clone()]),
                None => name.clone(),
            });
        }
    };
    for twj in from {
        push(&twj.relation);
        for j in &twj.joins {
            push(&j.relation);
        }
    }
    out
}

/// The scoped table a written name (alias or table name) refers to.
fn target_table(
    scope: &Scope,
    name: &ObjectName,
    resolver: &Resolver<'_>,
) -> Result<TableRef, PlanError> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(crate::source::ident_name))
        .collect();
    let found = scope.tables().find(|t| match parts.as_slice() {
        [n] => t.table.qualifier == *n || t.table.name == *n,
        [d, n] => t.table.db == *d && t.table.name == *n,
        _ => false,
    });
    match found {
        Some(t) => Ok(t.table.clone()),
        None => resolver.table(name, None),
    }
}

/// Refuses assignments that could move a row to another node.
fn check_key_assignments(
    m: &Modify<'_>,
    scope: &Scope,
    route_result: &Route,
) -> Result<(), PlanError> {
    let single = scope.blocks.first().is_some_and(|b| b.tables.len() == 1);
    for (column, value) in &m.assignments {
        let col_expr = match column.0.as_slice() {
            [_] => Expr::Identifier(
                column.0[0]
                    .as_ident()
                    .cloned()
                    .unwrap_or_else(|| sqlparser::ast::Ident::new("")),
            ),
            parts => Expr::CompoundIdentifier(
                parts.iter().filter_map(|p| p.as_ident().cloned()).collect(),
            ),
        };
        for st in scope
            .blocks
            .first()
            .map(|b| b.tables.as_slice())
            .unwrap_or(&[])
        {
            let Some(key) = st.table.key_column(single) else {
                continue;
            };
            if !key.is_column(&col_expr) {
                continue;
            }
            let stays = match (route_result, expr_literal(value)) {
                (Route::Single(node), Some(lit)) => {
                    let Placement::Sharded { key_type, rule, .. } = &st.table.placement else {
                        continue;
                    };
                    canonical(key_type, &lit)
                        .and_then(|k| route(rule, key_type, &k))
                        .is_ok_and(|n| n == *node)
                }
                _ => false,
            };
            if !stays {
                return Err(PlanError::ShardingColumnChange(format!(
                    "{}.{} would move rows to another data node",
                    st.table.name, key.column
                )));
            }
        }
    }
    Ok(())
}

/// Nodes kept by top-level `DNID = n` / `DNID IN (...)` conditions.
fn dnid_restriction(m: &Modify<'_>) -> Result<Option<NodeSet>, PlanError> {
    let Some(selection) = m.selection else {
        return Ok(None);
    };
    if !mentions_dnid(selection) {
        return Ok(None);
    }
    let mut parts = Vec::new();
    conjuncts(selection, &mut parts);
    let mut restrict: Option<NodeSet> = None;
    for p in parts {
        let nodes = match p {
            Expr::BinaryOp {
                left,
                op: sqlparser::ast::BinaryOperator::Eq,
                right,
            } => {
                let (d, v) = if is_dnid(left) {
                    (left, right)
                } else {
                    (right, left)
                };
                if !is_dnid(d) {
                    None
                } else {
                    Some(NodeSet::from([node_literal(v)?]))
                }
            }
            Expr::InList {
                expr,
                list,
                negated: false,
            } if is_dnid(expr) => Some(
                list.iter()
                    .map(node_literal)
                    .collect::<Result<NodeSet, _>>()?,
            ),
            _ => None,
        };
        match nodes {
            Some(n) => {
                restrict = Some(match restrict {
                    Some(r) => r.intersection(&n).copied().collect(),
                    None => n,
                })
            }
            None if mentions_dnid(p) => {
                return Err(PlanError::unsupported(
                    "DNID outside top-level WHERE DNID conditions",
                ))
            }
            None => {}
        }
    }
    Ok(restrict)
}

fn is_dnid(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(id) if id.value.eq_ignore_ascii_case("dnid"))
}

fn node_literal(e: &Expr) -> Result<DataNodeId, PlanError> {
    match expr_literal(e) {
        Some(strata_catalog::sharding::KeyLiteral::Integer(s)) => s
            .parse()
            .map_err(|_| PlanError::unsupported("DNID compared with a non-node value")),
        _ => Err(PlanError::unsupported("DNID compared with a non-literal")),
    }
}

/// Replaces `DNID = n`, `n = DNID` and `DNID IN (...)` in the text by `with`.
fn strip_dnid_text(sql: &str, with: &str) -> Option<String> {
    let code: Vec<Token> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    let mut edits: Vec<(usize, usize)> = Vec::new();
    let is_d = |t: &Token| t.is_keyword(sql, "DNID");
    let mut i = 0;
    while i < code.len() {
        let t = code[i];
        if is_d(&t) && code.get(i + 1).is_some_and(|n| n.is_punct(sql, "=")) {
            let v = code.get(i + 2)?;
            edits.push((t.span.start, v.span.end));
            i += 3;
        } else if is_d(&t) && code.get(i + 1).is_some_and(|n| n.is_keyword(sql, "IN")) {
            let mut j = i + 2;
            while j < code.len() && !code[j].is_punct(sql, ")") {
                j += 1;
            }
            edits.push((t.span.start, code.get(j)?.span.end));
            i = j + 1;
        } else if code.get(i + 1).is_some_and(|n| n.is_punct(sql, "="))
            && code.get(i + 2).is_some_and(is_d)
            && t.kind.is_literal()
        {
            edits.push((t.span.start, code[i + 2].span.end));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (s, e) in edits {
        out.push_str(sql.get(at..s)?);
        out.push_str(with);
        at = e;
    }
    out.push_str(sql.get(at..)?);
    Some(out)
}

fn first_node(scope: &Scope) -> Result<DataNodeId, PlanError> {
    scope
        .tables()
        .next()
        .and_then(|t| t.table.placement.nodes().first().copied())
        .ok_or(PlanError::NoDatabase)
}
