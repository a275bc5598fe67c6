//! INSERT and REPLACE planning (VALUES with several rows, `INSERT ... SET`, IGNORE,
//! ON DUPLICATE KEY UPDATE).
//!
//! - Sharded (and child) tables: each row goes to the node its sharding key routes to;
//!   rows are grouped into one statement per node, keeping their order within a node.
//!   A row without the sharding column takes the column's DEFAULT if the catalog knows
//!   it, else NULL (which needs a NULL route, else error 10104). A sharding value that
//!   is not a literal but a constant expression routes by its value ([`crate::insert_key`]:
//!   evaluated once by the home data node, one round trip for all rows).
//! - Global tables: the same statement on every node (`WriteKind::GlobalWrite`), with
//!   NOW()/RAND()/UUID()... and time defaults written as literals so copies agree.
//! - Global AUTO_INCREMENT: rows that omit the column, or give NULL or 0 (unless
//!   NO_AUTO_VALUE_ON_ZERO), get consecutive values from the context's sequence, written
//!   into the rows; the first is reported as the insert id. Explicit values are passed
//!   on to the sequence so later values exceed them.
//! - INSERT ... SELECT runs as it is when the target and the SELECT are on the same
//!   single node; otherwise the SELECT runs first and its rows are written as VALUES
//!   rows (`insert_select`).
//!
//! With `?` placeholders and no values (PREPARE time) the plan sends the text to every
//! node of the table and allocates nothing: it is for validation only, and EXECUTE plans
//! again with the values.

use std::collections::BTreeMap;

use sqlparser::ast::{
    Assignment, AssignmentTarget, Expr, Ident, Insert, ObjectName, OnInsert, SetExpr, TableObject,
};
use strata_catalog::sharding::KeyLiteral;
use strata_catalog::DataNodeId;

use crate::catalog_view::CatalogView;
use crate::context::{PlanContext, Random};
use crate::error::PlanError;
use crate::exprs::{call, raw};
use crate::insert_key::{key_value, KeyValue};
use crate::keys::{canonical, route, Placement};
use crate::literal::expr_literal;
use crate::nondeterministic::{pin_timestamp, Fixer, RandomCalls};
use crate::plan::{NodeStatement, Plan, Reply, Write, WriteKind};
use crate::scope::{query_scope, Resolver, Route, TableRef};
use crate::source::Source;
use crate::Planned;

/// Plans an INSERT or REPLACE.
pub(crate) fn plan_insert(
    src: &Source<'_>,
    mut insert: Insert,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let resolver = Resolver::new(ctx, catalog);
    let TableObject::TableName(name) = &insert.table else {
        return Err(PlanError::unsupported("INSERT into a table function"));
    };
    let table = resolver.table(name, None)?;
    let table_nodes = table.placement.nodes();

    // INSERT ... SELECT: only within one node.
    let is_values = match insert.source.as_deref() {
        None => true,
        Some(q) => matches!(&*q.body, SetExpr::Values(_)),
    };
    if !is_values {
        let Some(q) = insert.source.as_deref() else {
            return Err(PlanError::unsupported("this INSERT"));
        };
        let scope = query_scope(q, &resolver)?;
        let prefer: crate::keys::NodeSet = table_nodes.iter().copied().collect();
        if let (Ok(Route::Single(n)), [only]) = (
            scope.route(ctx.home_node, Some(&prefer)),
            table_nodes.as_slice(),
        ) {
            if n == *only {
                return Ok(planned(Plan::route(
                    n,
                    src.forward_text(ctx.params),
                    Reply::Ok,
                )));
            }
        }
        let q = q.clone();
        return crate::insert_select::plan(&insert, &q, ctx, catalog).map(planned);
    }

    // At PREPARE time values are unknown: validate only.
    if ctx.params.is_none() && src.placeholder_count() > 0 {
        return Ok(planned(fan_out(
            &table_nodes,
            src.forward_text(None).into_owned(),
            WriteKind::SplitInsert,
        )));
    }

    let mut rows = InsertRows::of(&mut insert, &table)?;
    check_duplicate_update(&insert, &table)?;
    let mut changed = false;
    let mut insert_id = None;
    if let Some(column) = table.info.auto_increment_column.clone() {
        let (c, id) = fill_auto_increment(&mut insert, &mut rows, &table, &column, ctx)?;
        changed |= c;
        insert_id = id;
    }
    let rng = Random::new(ctx.seed);
    let fixer = Fixer::new(ctx, &rng);

    let plan = match &table.placement {
        Placement::Vertical { node } => {
            let sql = if changed {
                insert.to_string()
            } else {
                src.forward_text(ctx.params).into_owned()
            };
            Plan::route(*node, sql, Reply::Ok)
        }
        Placement::Global { nodes } => {
            if nodes.len() > 1 {
                changed |= fixer.fix_ast(&mut insert, RandomCalls::Replace)?;
            }
            let mut sql = if changed {
                insert.to_string()
            } else {
                src.forward_text(ctx.params).into_owned()
            };
            if nodes.len() > 1 {
                // Time defaults and ON DUPLICATE KEY UPDATE's ON UPDATE columns: the
                // same time on every copy, at each column's precision.
                sql = pin_timestamp(ctx, sql);
            }
            fan_out(nodes, sql, WriteKind::GlobalWrite)
        }
        Placement::Sharded {
            column,
            key_type,
            rule,
        } => {
            let key_index = rows.column_index(column);
            if key_index.is_none() && !rows.set_form && insert.columns.is_empty() {
                return Err(PlanError::unsupported(
                    "INSERT without a column list into a sharded table whose columns are unknown",
                ));
            }
            let mut by_node: BTreeMap<DataNodeId, Vec<usize>> = BTreeMap::new();
            let mut wanted = false;
            let mut rewrites: Vec<(usize, Expr)> = Vec::new();
            for r in 0..rows.len(&insert) {
                let literal = match key_index.and_then(|i| rows.value(&insert, r, i)) {
                    Some(e) if !is_default(e) => {
                        match key_value(r, e, key_type, &fixer, ctx.key_values)? {
                            KeyValue::Known(literal) => literal,
                            KeyValue::Rewritten(literal, fixed) => {
                                if *fixed != *e {
                                    rewrites.push((r, *fixed));
                                }
                                literal
                            }
                            // Every row's expressions are asked for at once.
                            KeyValue::Wanted => {
                                wanted = true;
                                continue;
                            }
                        }
                    }
                    _ => table
                        .info
                        .shard_key_default
                        .clone()
                        .unwrap_or(KeyLiteral::Null),
                };
                let key =
                    canonical(key_type, &literal).map_err(|e| ignored_bad_key(insert.ignore, e))?;
                let node = route(rule, key_type, &key)?;
                by_node.entry(node).or_default().push(r);
            }
            if wanted {
                return Err(crate::insert_key::refused());
            }
            if let (Some(i), false) = (key_index, rewrites.is_empty()) {
                // The data node stores the time and random values the row was routed by.
                for (r, fixed) in rewrites {
                    rows.set_value(&mut insert, r, i, fixed);
                }
                changed = true;
            }
            if by_node.len() <= 1 {
                let node = by_node
                    .keys()
                    .next()
                    .copied()
                    .or_else(|| rule.data_nodes.first().copied())
                    .ok_or_else(|| PlanError::data_nodes("the table has no data node"))?;
                let sql = if changed {
                    insert.to_string()
                } else {
                    src.forward_text(ctx.params).into_owned()
                };
                Plan::route(node, sql, Reply::Ok)
            } else {
                fixer.fix_ast(&mut insert, RandomCalls::Keep)?;
                let order = crate::returning::values_order(by_node.values());
                let parts = by_node
                    .into_iter()
                    .map(|(dnid, row_indexes)| NodeStatement {
                        dnid,
                        sql: rows.subset(&insert, &row_indexes).to_string(),
                    })
                    .collect();
                let mut write = Write::new(WriteKind::SplitInsert, parts);
                if insert.returning.is_some() {
                    write.returning = Some(order);
                }
                Plan::Write(write)
            }
        }
    };
    Ok(Planned {
        plan,
        insert_id,
        strata_numbers: table.info.auto_increment_column.is_some(),
        catalog_changes: Vec::new(),
        notes: Vec::new(),
    })
}

fn planned(plan: Plan) -> Planned {
    Planned {
        plan,
        insert_id: None,
        strata_numbers: false,
        catalog_changes: Vec::new(),
        notes: Vec::new(),
    }
}

/// The same statement on every node as a write of `kind` (one node: a route).
pub(crate) fn fan_out(nodes: &[DataNodeId], sql: String, kind: WriteKind) -> Plan {
    match nodes {
        [only] => Plan::route(*only, sql, Reply::Ok),
        _ => Plan::Write(Write::new(kind, NodeStatement::same(nodes, &sql))),
    }
}

/// The rows of an INSERT: VALUES rows or the single SET row, with the column names.
struct InsertRows {
    /// Column names in value order (lower-cased).
    columns: Vec<String>,
    /// True for `INSERT ... SET`.
    set_form: bool,
}

impl InsertRows {
    fn of(insert: &mut Insert, table: &TableRef) -> Result<InsertRows, PlanError> {
        if !insert.assignments.is_empty() {
            let columns = insert
                .assignments
                .iter()
                .map(|a| match &a.target {
                    AssignmentTarget::ColumnName(n) => Ok(last_name(n)),
                    AssignmentTarget::Tuple(_) => {
                        Err(PlanError::unsupported("INSERT ... SET (a, b) = ..."))
                    }
                })
                .collect::<Result<_, _>>()?;
            return Ok(InsertRows {
                columns,
                set_form: true,
            });
        }
        let columns: Vec<String> = if insert.columns.is_empty() {
            table
                .info
                .columns
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .collect()
        } else {
            insert
                .columns
                .iter()
                .map(|c| c.value.to_ascii_lowercase())
                .collect()
        };
        Ok(InsertRows {
            columns,
            set_form: false,
        })
    }

    fn values(insert: &Insert) -> Option<&Vec<Vec<Expr>>> {
        match insert.source.as_deref().map(|q| &*q.body) {
            Some(SetExpr::Values(v)) => Some(&v.rows),
            _ => None,
        }
    }

    fn values_mut(insert: &mut Insert) -> Option<&mut Vec<Vec<Expr>>> {
        match insert.source.as_deref_mut().map(|q| &mut *q.body) {
            Some(SetExpr::Values(v)) => Some(&mut v.rows),
            _ => None,
        }
    }

    fn len(&self, insert: &Insert) -> usize {
        if self.set_form {
            1
        } else {
            InsertRows::values(insert).map_or(0, Vec::len)
        }
    }

    fn column_index(&self, column: &str) -> Option<usize> {
        let column = column.to_ascii_lowercase();
        self.columns.iter().position(|c| *c == column)
    }

    fn value<'i>(&self, insert: &'i Insert, row: usize, col: usize) -> Option<&'i Expr> {
        if self.set_form {
            insert.assignments.get(col).map(|a| &a.value)
        } else {
            InsertRows::values(insert)?.get(row)?.get(col)
        }
    }

    fn set_value(&self, insert: &mut Insert, row: usize, col: usize, value: Expr) {
        if self.set_form {
            if let Some(a) = insert.assignments.get_mut(col) {
                a.value = value;
            }
        } else if let Some(cell) = InsertRows::values_mut(insert)
            .and_then(|rows| rows.get_mut(row))
            .and_then(|r| r.get_mut(col))
        {
            *cell = value;
        }
    }

    /// Adds a column with one value per row; false when the statement has an implicit
    /// column list (then every column is already there).
    fn add_column(&mut self, insert: &mut Insert, column: &str, values: Vec<Expr>) -> bool {
        if self.set_form {
            for v in values {
                insert.assignments.push(Assignment {
                    target: AssignmentTarget::ColumnName(ObjectName::from(vec![Ident::new(
                        column,
                    )])),
                    value: v,
                });
            }
        } else {
            if insert.columns.is_empty() {
                return false;
            }
            insert.columns.push(Ident::new(column));
            if let Some(rows) = InsertRows::values_mut(insert) {
                for (row, v) in rows.iter_mut().zip(values) {
                    row.push(v);
                }
            }
        }
        self.columns.push(column.to_ascii_lowercase());
        true
    }

    /// The statement with only the given rows.
    fn subset(&self, insert: &Insert, rows: &[usize]) -> Insert {
        let mut out = insert.clone();
        if let Some(all) = InsertRows::values(insert) {
            let chosen: Vec<Vec<Expr>> = rows.iter().filter_map(|&r| all.get(r).cloned()).collect();
            if let Some(v) = InsertRows::values_mut(&mut out) {
                *v = chosen;
            }
        }
        out
    }
}

/// A sharding-key value MariaDB rejects with 1292 in strict mode: under INSERT IGNORE
/// MariaDB stores a truncated value instead (a warning), which Strata cannot place
/// exactly, so the 1292 (the answer without IGNORE) becomes a refusal.
fn ignored_bad_key(ignore: bool, e: PlanError) -> PlanError {
    match e {
        PlanError::Sharding {
            code: 1292,
            message,
        } if ignore => PlanError::unsupported(format!(
            "INSERT IGNORE of a sharding column value MariaDB would truncate ({message})"
        )),
        e => e,
    }
}

fn last_name(n: &ObjectName) -> String {
    n.0.last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.to_ascii_lowercase())
        .unwrap_or_default()
}

/// `DEFAULT` in a VALUES row.
fn is_default(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("DEFAULT"))
}

/// ON DUPLICATE KEY UPDATE may not move a row: the sharding column may only be set to
/// the inserted row's own value (`c = VALUES(c)`).
fn check_duplicate_update(insert: &Insert, table: &TableRef) -> Result<(), PlanError> {
    let Placement::Sharded { column, .. } = &table.placement else {
        return Ok(());
    };
    let Some(OnInsert::DuplicateKeyUpdate(assignments)) = &insert.on else {
        return Ok(());
    };
    for a in assignments {
        let AssignmentTarget::ColumnName(n) = &a.target else {
            return Err(PlanError::unsupported(
                "ON DUPLICATE KEY UPDATE (a, b) = ...",
            ));
        };
        if last_name(n) == column.to_ascii_lowercase() {
            let own = call("VALUES", Expr::Identifier(Ident::new(column.clone())));
            let same = crate::exprs::canonical(&a.value, &[]) == crate::exprs::canonical(&own, &[]);
            if !same {
                return Err(PlanError::ShardingColumnChange(format!(
                    "ON DUPLICATE KEY UPDATE of {}.{}",
                    table.name, column
                )));
            }
        }
    }
    Ok(())
}

/// Writes generated values into rows that need one; returns (changed, first id).
/// As in MySQL, rows are taken in order: an explicit value moves the sequence above it
/// before later rows get theirs.
fn fill_auto_increment(
    insert: &mut Insert,
    rows: &mut InsertRows,
    table: &TableRef,
    column: &str,
    ctx: &PlanContext<'_>,
) -> Result<(bool, Option<u64>), PlanError> {
    let row_count = rows.len(insert);
    let index = rows.column_index(column);
    if index.is_none() && !rows.set_form && insert.columns.is_empty() {
        return Err(PlanError::unsupported(
            "INSERT without a column list into a table whose columns are unknown",
        ));
    }
    // Per row: None to generate, Some(v) for an explicit value.
    let mut wanted: Vec<Option<u64>> = Vec::with_capacity(row_count);
    for r in 0..row_count {
        let value = index.and_then(|i| rows.value(insert, r, i));
        wanted.push(match value {
            None => None,
            Some(e) if is_default(e) => None,
            Some(e) => match expr_literal(e) {
                Some(KeyLiteral::Null) => None,
                Some(KeyLiteral::Integer(s)) => {
                    let v: i128 = s.parse().unwrap_or(0);
                    if v == 0 && !ctx.no_auto_value_on_zero {
                        None
                    } else {
                        Some(u64::try_from(v).unwrap_or(0))
                    }
                }
                _ => {
                    return Err(PlanError::unsupported(
                        "an AUTO_INCREMENT value that is not an integer literal",
                    ))
                }
            },
        });
    }
    if wanted.iter().all(Option::is_some) {
        if let (Some(max), Some(ids)) = (wanted.iter().flatten().max(), ctx.ids) {
            ids.observe(&table.db, &table.name, *max);
        }
        return Ok((false, None));
    }
    let ids = ctx
        .ids
        .ok_or_else(|| PlanError::Sequence("no AUTO_INCREMENT sequence is available".into()))?;
    let mut generated: Vec<u64> = vec![0; row_count];
    let mut pending: Vec<usize> = Vec::new();
    let mut first = None;
    let mut allocate =
        |pending: &mut Vec<usize>, generated: &mut Vec<u64>| -> Result<(), PlanError> {
            if pending.is_empty() {
                return Ok(());
            }
            let n = pending.len() as u64;
            let range = ids
                .allocate(&table.db, &table.name, n)
                .map_err(PlanError::Sequence)?;
            if range.end.saturating_sub(range.start) != n {
                return Err(PlanError::Sequence(format!(
                    "asked for {n} values, got {}..{}",
                    range.start, range.end
                )));
            }
            first.get_or_insert(range.start);
            for (&r, id) in pending.iter().zip(range) {
                generated[r] = id;
            }
            pending.clear();
            Ok(())
        };
    for (r, w) in wanted.iter().enumerate() {
        match w {
            None => pending.push(r),
            Some(v) => {
                allocate(&mut pending, &mut generated)?;
                ids.observe(&table.db, &table.name, *v);
            }
        }
    }
    allocate(&mut pending, &mut generated)?;
    match index {
        Some(i) => {
            for (r, w) in wanted.iter().enumerate() {
                if w.is_none() {
                    rows.set_value(insert, r, i, raw(generated[r].to_string()));
                }
            }
        }
        None => {
            let values = generated.iter().map(|id| raw(id.to_string())).collect();
            rows.add_column(insert, column, values);
        }
    }
    Ok((true, first))
}
