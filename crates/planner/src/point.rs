//! Point routes: statement shapes whose data node the WHERE clause of their one sharded
//! table decides, so a cached shape can be routed without planning it again.
//!
//! `SELECT ... FROM t WHERE id = 5`, `UPDATE t SET c = 'x' WHERE id = 5` and
//! `DELETE FROM t WHERE id = 5` make up most of an OLTP application's statements. When
//! such a statement reaches one data node, the planner forwards its original text; all
//! that depends on its literals is which node. A [`PointRoute`] keeps the shape's WHERE
//! clause; for each statement it binds the literals into that clause alone and prunes
//! with the same code as the planner (`KeyColumn::prune`). Anything else — several
//! nodes, no sharded table, a literal that does not route — gives None, and the caller
//! plans the statement in full, so the answer is always the planner's.
//!
//! Only shapes where nothing else can change the plan qualify: one table and no joins,
//! no CTE, no subquery anywhere, no `DNID`, no `FOUND_ROWS()` or `ROW_COUNT()`, and an UPDATE must not
//! assign the sharding column (checked per statement, against the current catalog).

use std::ops::ControlFlow;

use std::collections::HashMap;

use sqlparser::ast::{
    visit_expressions, AssignmentTarget, BinaryOperator, Delete, Expr, FromTable, ObjectName,
    Query, SetExpr, Statement, TableFactor, TableWithJoins, Value,
};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::exprs::calls_any;
use crate::keys::Nodes;
use crate::literal::text_literal;
use crate::scope::Resolver;
use crate::source::bind_placeholders;
use strata_catalog::DataNodeId;

/// A cached shape's routing by its WHERE clause.
#[derive(Debug, Clone)]
pub(crate) struct PointRoute {
    table: ObjectName,
    alias: Option<String>,
    /// The shape's WHERE clause, its literals still `?`.
    selection: Expr,
    /// Columns an UPDATE assigns (the last part of each name).
    assigned: Vec<String>,
    /// When the WHERE clause is just `column = ?` (either way round): the column and
    /// the index of the `?`'s value, so the key is read from its literal without
    /// copying and binding the clause.
    equality: Option<(Expr, usize)>,
}

impl PointRoute {
    /// The point route of a parsed shape, if it has the form described above.
    pub(crate) fn of(
        statement: &Statement,
        positions: &HashMap<(u64, u64), usize>,
    ) -> Option<PointRoute> {
        let mut route = Self::of_shape(statement)?;
        route.equality = equality(&route.selection)
            .and_then(|(column, at)| Some((column, *positions.get(&at)?)));
        Some(route)
    }

    fn of_shape(statement: &Statement) -> Option<PointRoute> {
        if has_subquery(statement) || names_dnid(statement) {
            return None;
        }
        match statement {
            Statement::Query(q) => Self::of_query(q),
            Statement::Update {
                table,
                assignments,
                from: None,
                selection: Some(selection),
                returning: None,
                ..
            } => {
                let mut assigned = Vec::with_capacity(assignments.len());
                for a in assignments {
                    let AssignmentTarget::ColumnName(name) = &a.target else {
                        return None;
                    };
                    assigned.push(name.0.last()?.as_ident()?.value.clone());
                }
                Self::of_table(table, selection, assigned)
            }
            Statement::Delete(Delete {
                tables,
                from: FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from),
                using: None,
                selection: Some(selection),
                returning: None,
                ..
            }) if tables.is_empty() => match from.as_slice() {
                [table] => Self::of_table(table, selection, Vec::new()),
                _ => None,
            },
            _ => None,
        }
    }

    fn of_query(q: &Query) -> Option<PointRoute> {
        if q.with.is_some() || calls_any(q, &["FOUND_ROWS", "ROW_COUNT"]) {
            return None;
        }
        let SetExpr::Select(select) = &*q.body else {
            return None;
        };
        match (select.from.as_slice(), &select.selection) {
            ([table], Some(selection)) => Self::of_table(table, selection, Vec::new()),
            _ => None,
        }
    }

    fn of_table(
        table: &TableWithJoins,
        selection: &Expr,
        assigned: Vec<String>,
    ) -> Option<PointRoute> {
        if !table.joins.is_empty() {
            return None;
        }
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = &table.relation
        else {
            return None;
        };
        Some(PointRoute {
            table: name.clone(),
            alias: alias.as_ref().map(|a| a.name.value.clone()),
            selection: selection.clone(),
            assigned,
            equality: None,
        })
    }

    /// The one data node a statement of this shape runs on, its `?`s being `values`
    /// (placed by `positions`); None when the planner must decide.
    pub(crate) fn node(
        &self,
        ctx: &PlanContext<'_>,
        catalog: &dyn CatalogView,
        positions: &HashMap<(u64, u64), usize>,
        values: &[impl AsRef<str>],
    ) -> Option<DataNodeId> {
        let resolver = Resolver::new(ctx, catalog);
        let table = resolver.table(&self.table, self.alias.as_deref()).ok()?;
        let key = table.key_column(true)?;
        if self
            .assigned
            .iter()
            .any(|c| c.eq_ignore_ascii_case(key.column))
        {
            return None;
        }
        let nodes = match &self.equality {
            Some((column, at)) => {
                if !key.is_column(column) {
                    return None;
                }
                let value = values.get(*at)?;
                key.equal_to(text_literal(value.as_ref())?, false)
            }
            None => {
                let mut selection = self.selection.clone();
                bind_placeholders(&mut selection, positions, values).ok()?;
                key.prune(&selection)
            }
        };
        let Nodes::Some(nodes) = nodes else {
            return None;
        };
        let mut nodes = nodes.into_iter();
        match (nodes.next(), nodes.next()) {
            (Some(n), None) if table.placement.nodes().contains(&n) => Some(n),
            _ => None,
        }
    }
}

/// The column and the `?`'s position of a WHERE clause that is `column = ?` or
/// `? = column`.
fn equality(selection: &Expr) -> Option<(Expr, (u64, u64))> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = selection
    else {
        return None;
    };
    let placeholder = |e: &Expr| match e {
        Expr::Value(v) if matches!(&v.value, Value::Placeholder(p) if p == "?") => {
            Some((v.span.start.line, v.span.start.column))
        }
        _ => None,
    };
    let column = |e: &Expr| matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
    match (&**left, &**right) {
        (c, v) | (v, c) if column(c) => Some((c.clone(), placeholder(v)?)),
        _ => None,
    }
}

fn has_subquery(statement: &Statement) -> bool {
    visit_expressions(statement, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// True when an identifier anywhere is `DNID` (the pseudo-column makes the planner
/// rewrite the text).
fn names_dnid(statement: &Statement) -> bool {
    let is_dnid = |i: &sqlparser::ast::Ident| i.value.eq_ignore_ascii_case("dnid");
    visit_expressions(statement, |e| match e {
        Expr::Identifier(i) if is_dnid(i) => ControlFlow::Break(()),
        Expr::CompoundIdentifier(parts) if parts.last().is_some_and(is_dnid) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}
