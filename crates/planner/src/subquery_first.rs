//! `UPDATE`/`DELETE` of one table `WHERE ... expr [NOT] IN (SELECT ...)` whose
//! subquery cannot run beside the write on each data node (it reads tables spread over
//! other nodes): the subquery is uncorrelated, so it is read first — planned like any
//! SELECT Strata answers — and its values replace it as a literal list; the write is
//! then planned with that list like a statement the client sent, pruned by the
//! sharding key when the list is on it ([`ReadThenWrite`] with [`RowsAs::InList`]).
//! MariaDB also reads such a subquery before changing rows (it may even read the
//! table being written), so the values are those before the write.
//!
//! Only one such subquery, in WHERE, of a single-table statement without ORDER BY or
//! LIMIT; a subquery that names the outer table's columns (correlated) is refused.

use sqlparser::ast::{
    Delete, Expr, FromTable, Ident, Query, Statement, TableFactor, TableWithJoins,
};
use sqlparser::ast::{VisitMut, VisitorMut};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::plan::{Plan, ReadThenWrite, RowsAs};
use crate::scope::{query_scope, Resolver};
use crate::source::Source;

/// What stands for the subquery in the write's text until its values are known.
pub(crate) const MARKER: &str = "strata_subquery_values";

/// Plans `stmt` with its subquery read first, or returns `refusal` (why the ordinary
/// plan failed) when that does not apply.
pub(crate) fn plan(
    src: &Source<'_>,
    stmt: &Statement,
    ordered_or_limited: bool,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
    refusal: PlanError,
) -> Result<Plan, PlanError> {
    if ordered_or_limited || src.sql.contains(MARKER) || src.hint.is_some() {
        return Err(refusal);
    }
    let Some(target) = single_table(stmt) else {
        return Err(refusal);
    };
    let mut template = stmt.clone();
    let mut taker = TakeSubquery::default();
    let _ = selection_mut(&mut template).map(|e| e.visit(&mut taker));
    let (Some((expr, query, negated)), false) = (taker.found.take(), taker.more) else {
        return Err(refusal);
    };
    // The statement's parameters are bound in it: what is planned from it has none.
    let ctx = &PlanContext {
        params: None,
        ..*ctx
    };
    let resolver = Resolver::new(ctx, catalog);
    if correlated(&query, &target, &resolver)? {
        return Err(PlanError::unsupported(
            "a correlated subquery in an UPDATE or DELETE across data nodes",
        ));
    }
    let text = template.to_string();
    let (before, after) = text
        .split_once(MARKER)
        .ok_or_else(|| PlanError::unsupported("this subquery in an UPDATE or DELETE"))?;
    let expr = match &expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Tuple(_) | Expr::Nested(_) => {
            expr.to_string()
        }
        other => format!("({other})"),
    };
    // The write must plan once the values are in (NULL stands for them here).
    let probe = format!("{before}({expr} IN (NULL)){after}");
    crate::plan_statement(&probe, ctx, catalog)?;

    let select_sql = query.to_string();
    let select_src = Source::new(&select_sql)?;
    let source = crate::select::plan_query(&select_src, *query, ctx, catalog)?;
    Ok(Plan::ReadThenWrite(ReadThenWrite {
        source: Box::new(source),
        before: before.to_string(),
        after: after.to_string(),
        rows: RowsAs::InList { expr, negated },
    }))
}

/// The written table of a single-table UPDATE or DELETE (no joins, no USING).
pub(crate) fn single_table(stmt: &Statement) -> Option<TableFactor> {
    let only = |from: &[TableWithJoins]| match from {
        [t] if t.joins.is_empty() && matches!(t.relation, TableFactor::Table { .. }) => {
            Some(t.relation.clone())
        }
        _ => None,
    };
    match stmt {
        Statement::Update {
            table, from: None, ..
        } => only(std::slice::from_ref(table)),
        Statement::Delete(Delete {
            tables,
            from: FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from),
            using: None,
            ..
        }) if tables.is_empty() => only(from),
        _ => None,
    }
}

fn selection_mut(stmt: &mut Statement) -> Option<&mut Expr> {
    match stmt {
        Statement::Update { selection, .. } => selection.as_mut(),
        Statement::Delete(d) => d.selection.as_mut(),
        _ => None,
    }
}

/// Takes the first `expr [NOT] IN (subquery)` out of an expression, leaving the marker.
#[derive(Default)]
struct TakeSubquery {
    found: Option<(Expr, Box<Query>, bool)>,
    /// Another subquery of any kind is there too.
    more: bool,
}

impl VisitorMut for TakeSubquery {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> std::ops::ControlFlow<()> {
        match expr {
            Expr::InSubquery { .. } if self.found.is_none() => {
                let taken = std::mem::replace(expr, Expr::Identifier(Ident::new(MARKER)));
                if let Expr::InSubquery {
                    expr: left,
                    subquery,
                    negated,
                } = taken
                {
                    self.found = Some((*left, subquery, negated));
                }
            }
            Expr::InSubquery { .. } | Expr::Subquery(_) | Expr::Exists { .. } => self.more = true,
            _ => {}
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// True when the subquery names the written table's columns: qualified by its name or
/// alias, or unqualified names of its columns that no table of the subquery has (or
/// whose tables' columns the catalog does not know).
fn correlated(
    query: &Query,
    target: &TableFactor,
    resolver: &Resolver<'_>,
) -> Result<bool, PlanError> {
    let TableFactor::Table { name, alias, .. } = target else {
        return Ok(true);
    };
    let outer = resolver.table(name, alias.as_ref().map(|a| a.name.value.as_str()))?;
    let scope = query_scope(query, resolver)?;
    let inner: Vec<_> = scope.tables().map(|t| t.table.clone()).collect();
    let mut names = Names::default();
    let _ = sqlparser::ast::Visit::visit(query, &mut names);
    let qualifier = outer.qualifier.to_ascii_lowercase();
    let inner_qualifiers: Vec<String> = inner
        .iter()
        .map(|t| t.qualifier.to_ascii_lowercase())
        .collect();
    for parts in names.0 {
        let found = match parts.as_slice() {
            [column] => {
                let column = column.to_ascii_lowercase();
                let outer_has = outer.info.columns.is_empty()
                    || outer
                        .info
                        .columns
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&column));
                let inner_has = inner.iter().any(|t| {
                    t.info
                        .columns
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&column))
                });
                outer_has && !inner_has
            }
            [.., q, _] => {
                let q = q.to_ascii_lowercase();
                q == qualifier && !inner_qualifiers.contains(&q)
            }
            [] => false,
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Column references, as their name parts.
#[derive(Default)]
struct Names(Vec<Vec<String>>);

impl sqlparser::ast::Visitor for Names {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> std::ops::ControlFlow<()> {
        match expr {
            Expr::Identifier(id) => self.0.push(vec![id.value.clone()]),
            Expr::CompoundIdentifier(ids) => {
                self.0.push(ids.iter().map(|i| i.value.clone()).collect())
            }
            _ => {}
        }
        std::ops::ControlFlow::Continue(())
    }
}
