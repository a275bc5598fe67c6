//! Joins of tables that are not co-located: each table becomes its own per-node query
//! (the columns the statement needs and the conditions on that table alone, routed and
//! pruned by the table's own distribution), and the compute node joins the rows
//! ([`HashJoin`]) under the operators that merge any multi-node query (aggregate,
//! DISTINCT, sort, LIMIT, projection).
//!
//! The join order is the FROM order (a leading RIGHT JOIN is turned into a LEFT JOIN
//! by swapping its two tables). Conditions are sorted out here: a condition on one
//! table goes to that table's query (for the NULL side of a LEFT JOIN only from its
//! ON clause, or from a WHERE condition that rejects NULL, which makes the join an
//! inner one, as MySQL's optimizer does); an equality of two tables' columns becomes a
//! join key; anything else over several tables is refused with 1235, as is every
//! construct the merge cannot compute exactly (`join_output.rs` has the select list).

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    BinaryOperator, Distinct, Expr, JoinConstraint, JoinOperator, Query, SetExpr, Statement,
    TableFactor, Visit, Visitor,
};

use crate::catalog_view::{CatalogView, TableInfo};
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::plan::{
    HashJoin, JoinKey, JoinSide, JoinStep, Lookup, Operator, Plan, QueryPlan, Scatter,
};
use crate::scope::{Resolver, Scope};
use crate::source::Source;

/// Key values per `IN` list of a batched lookup (HotDB's default is 10,000; a shorter
/// statement keeps each node's reply small).
const LOOKUP_BATCH: usize = 1000;

/// MariaDB's limit on the tables of one join (ER_TOO_MANY_TABLES).
const MAX_TABLES: usize = 61;

/// Whether a query whose tables cannot run together on the data nodes can be joined in
/// the compute node: one SELECT block over two or more tables.
pub(crate) fn applies(query: &Query, scope: &Scope) -> bool {
    matches!(&*query.body, SetExpr::Select(_))
        && scope.blocks.len() == 1
        && scope.blocks[0].tables.len() >= 2
}

/// A table of the join.
#[derive(Debug)]
pub(crate) struct JoinTable {
    /// The FROM item as written (name, alias, hints).
    pub relation: TableFactor,
    /// Qualifier of its columns (alias or table name), as written.
    pub qualifier: String,
    /// Logical database and table name.
    pub db: String,
    /// Table name.
    pub name: String,
    /// Catalog entry.
    pub info: Arc<TableInfo>,
    /// Its column names, lowercase, in table order.
    pub columns: Vec<String>,
    /// LEFT JOIN's NULL side: its columns are NULL in rows without a match.
    pub outer: bool,
    /// Conditions on this table alone, run in its per-node query.
    pub filters: Vec<Expr>,
    /// The per-node query's columns: (canonical key, expression as sent).
    pub select: Vec<(String, Expr)>,
}

impl JoinTable {
    /// The side column for `expr` (added to the per-node query when new).
    pub(crate) fn column_for(&mut self, key: String, expr: Expr) -> usize {
        if let Some(i) = self.select.iter().position(|(k, _)| *k == key) {
            return i;
        }
        self.select.push((key, expr));
        self.select.len() - 1
    }

    /// The side column holding table column `column` (added when new).
    pub(crate) fn plain_column(&mut self, column: &str) -> usize {
        let expr = column_expr(self, column);
        self.column_for(column_key(column), expr)
    }

    /// The collation id the catalog recorded for a column.
    pub(crate) fn collation(&self, column: &str) -> Option<u16> {
        let name = self.info.column_collations.as_ref()?.get(column)?;
        strata_mysql::Collation::from_name(name).map(|c| c.id())
    }
}

/// A column reference resolved to a table: (table index in join order, lowercase name).
pub(crate) type ColumnRef = (usize, String);

/// The tables of a join in join order, with name resolution for their columns.
#[derive(Debug)]
pub(crate) struct Tables {
    /// Tables in join order.
    pub list: Vec<JoinTable>,
    /// Each table's index in FROM order (for `SELECT *`).
    pub from_order: Vec<usize>,
}

impl Tables {
    /// The table and column a plain column reference names; `Ok(None)` for other
    /// expressions.
    pub(crate) fn column(&self, expr: &Expr) -> Result<Option<ColumnRef>, PlanError> {
        match expr {
            Expr::Nested(inner) => self.column(inner),
            Expr::Identifier(id) => {
                let c = id.value.to_lowercase();
                let mut found = self
                    .list
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.columns.contains(&c));
                match (found.next(), found.next()) {
                    (Some((i, _)), None) => Ok(Some((i, c))),
                    (Some(_), Some(_)) => Err(PlanError::Parse(format!(
                        "Column '{}' in field list is ambiguous",
                        id.value
                    ))),
                    (None, _) => Err(unknown_column(&id.value)),
                }
            }
            Expr::CompoundIdentifier(parts) => {
                let (db, q, c) = match parts.as_slice() {
                    [q, c] => (None, q, c),
                    [d, q, c] => (Some(d), q, c),
                    _ => return Err(unknown_column(&expr.to_string())),
                };
                let column = c.value.to_lowercase();
                let hit = self.list.iter().position(|t| {
                    let named = match db {
                        // `db.t.c` names the table, not an alias.
                        Some(d) => {
                            crate::source::ident_name(d) == t.db
                                && crate::source::ident_name(q) == t.name
                                && t.qualifier == t.name
                        }
                        None => q.value == t.qualifier,
                    };
                    named && t.columns.contains(&column)
                });
                hit.map(|i| Some((i, column)))
                    .ok_or_else(|| unknown_column(&expr.to_string()))
            }
            _ => Ok(None),
        }
    }

    /// The tables whose columns `expr` reads; subqueries are refused.
    pub(crate) fn tables_of(&self, expr: &Expr) -> Result<BTreeSet<usize>, PlanError> {
        struct Collect<'t> {
            tables: &'t Tables,
            found: BTreeSet<usize>,
            error: Option<PlanError>,
        }
        impl Visitor for Collect<'_> {
            type Break = ();
            fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
                match e {
                    Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                        self.error = Some(PlanError::unsupported(
                            "subqueries in joins across data nodes",
                        ));
                        ControlFlow::Break(())
                    }
                    Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                        match self.tables.column(e) {
                            Ok(Some((t, _))) => {
                                self.found.insert(t);
                                ControlFlow::Continue(())
                            }
                            Ok(None) => ControlFlow::Continue(()),
                            Err(err) => {
                                self.error = Some(err);
                                ControlFlow::Break(())
                            }
                        }
                    }
                    _ => ControlFlow::Continue(()),
                }
            }
        }
        let mut v = Collect {
            tables: self,
            found: BTreeSet::new(),
            error: None,
        };
        let _ = expr.visit(&mut v);
        match v.error {
            Some(e) => Err(e),
            None => Ok(v.found),
        }
    }
}

fn unknown_column(name: &str) -> PlanError {
    PlanError::unsupported(format!(
        "column {name} that Strata cannot place in a join across data nodes"
    ))
}

/// MariaDB's 1054 for an ON condition of join `j` naming a column of a table joined
/// after it (its name is not in scope yet): the first such column, as written.
fn later_column(tables: &Tables, c: &Expr, j: usize) -> PlanError {
    let mut written = None;
    let _ = sqlparser::ast::visit_expressions(c, |e| {
        if let Ok(Some((t, _))) = tables.column(e) {
            if t > j {
                written = Some(match e {
                    Expr::CompoundIdentifier(parts) => parts
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                    other => other.to_string(),
                });
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    PlanError::Statement {
        code: 1054,
        sqlstate: "42S22",
        message: format!("Unknown column '{}' in 'ON'", written.unwrap_or_default()),
    }
}

/// A join of the rows so far with the table of the same index, before its keys are
/// known.
#[derive(Debug, Default)]
struct Step {
    outer: bool,
    keys: Vec<(ColumnRef, ColumnRef)>,
}

/// Plans a SELECT over tables that are not co-located.
pub(crate) fn plan_join(
    src: &Source<'_>,
    query: &Query,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    let SetExpr::Select(select) = &*query.body else {
        return Err(PlanError::unsupported("this query shape across data nodes"));
    };
    if query.with.is_some() {
        return Err(PlanError::unsupported("WITH in joins across data nodes"));
    }
    let lock = lock_suffix(query, src)?;
    if matches!(select.distinct, Some(Distinct::On(_))) || select.top.is_some() {
        return Err(PlanError::unsupported("DISTINCT ON / TOP"));
    }
    let resolver = Resolver::new(ctx, catalog);
    let (mut tables, mut ons) = join_tables(select, &resolver)?;
    if tables.list.len() > MAX_TABLES {
        return Err(PlanError::Statement {
            code: 1116,
            sqlstate: "HY000",
            message: format!("Too many tables; MariaDB can only use {MAX_TABLES} tables in a join"),
        });
    }
    if tables.list.iter().all(|t| !t.outer) {
        ons = order_inner_joins(&mut tables, ons, select.selection.as_ref())?;
    }
    let mut steps: Vec<Step> = tables
        .list
        .iter()
        .map(|t| Step {
            outer: t.outer,
            keys: Vec::new(),
        })
        .collect();
    // ON conditions, then WHERE (which may turn a LEFT JOIN into an inner one).
    for (j, on) in ons.into_iter().enumerate() {
        if let Some(on) = on {
            for c in conjuncts(&on) {
                place_on(&mut tables, &mut steps, j, c)?;
            }
        }
    }
    if let Some(w) = &select.selection {
        for c in conjuncts(w) {
            place_where(&mut tables, &mut steps, c)?;
        }
    }
    for (t, step) in tables.list.iter_mut().zip(&steps) {
        t.outer = step.outer;
    }
    let mut out = crate::join_output::plan_output(src, query, select, &mut tables)?;
    let mut sides = Vec::with_capacity(tables.list.len());
    for t in &tables.list {
        sides.push(side(t, lock, ctx, catalog)?);
    }
    let mut sides = sides.into_iter();
    let probe = sides
        .next()
        .ok_or_else(|| PlanError::unsupported("a join without tables"))?;
    // The streamed side is few rows when its own filters pruned a table spread over
    // several nodes to one (its sharding key): the other sides are then looked up by
    // its keys rather than read whole.
    let first = &tables.list[0];
    let small_probe = !first.filters.is_empty()
        && first.info.data_nodes.len() > 1
        && probe.scatter.parts.len() == 1;
    let mut join_steps = Vec::new();
    for (i, (side, step)) in sides.zip(steps.into_iter().skip(1)).enumerate() {
        let table = &tables.list[i + 1];
        let mut keys = Vec::new();
        for ((pt, pc), (bt, bc)) in step.keys {
            let probe_column = tables.list[pt]
                .select
                .iter()
                .position(|(k, _)| *k == column_key(&pc))
                .ok_or_else(|| PlanError::unsupported("a join key Strata lost"))?;
            let column = table
                .select
                .iter()
                .position(|(k, _)| *k == column_key(&bc))
                .ok_or_else(|| PlanError::unsupported("a join key Strata lost"))?;
            if bt != i + 1 {
                return Err(PlanError::unsupported(
                    "a join key Strata placed on the wrong table",
                ));
            }
            keys.push(JoinKey {
                probe_side: pt,
                probe_column,
                column,
            });
        }
        let lookup = match keys.as_slice() {
            [key] if small_probe && key.probe_side == 0 => {
                table.select.get(key.column).map(|(_, e)| Lookup {
                    column: e.to_string(),
                    has_where: !table.filters.is_empty(),
                    batch: LOOKUP_BATCH,
                    lock: lock.map(str::to_string),
                })
            }
            _ => None,
        };
        join_steps.push(JoinStep {
            outer: step.outer,
            side,
            keys,
            lookup,
        });
    }
    let join = HashJoin {
        probe,
        steps: join_steps,
        output: std::mem::take(&mut out.output),
    };
    let root = out.lower(Operator::HashJoin(Box::new(join)));
    Ok(Plan::Query(QueryPlan {
        root,
        collations: std::mem::take(&mut out.collations),
        other_collation_columns: std::mem::take(&mut out.other_collation_columns),
    }))
}

/// Orders the tables of a join without outer joins so that each table after the first
/// has an equality with one before it where the conditions allow (a cross join only
/// when nothing connects): tables in FROM order, the first one that connects taken
/// next. Inner joins' ON conditions are conditions of the whole join, so they all go
/// with the first table's (none) and are placed like WHERE's.
fn order_inner_joins(
    tables: &mut Tables,
    ons: Vec<Option<Expr>>,
    selection: Option<&Expr>,
) -> Result<Vec<Option<Expr>>, PlanError> {
    let mut all: Vec<Expr> = ons.iter().flatten().flat_map(conjuncts).collect();
    all.extend(selection.map(conjuncts).unwrap_or_default());
    let mut edges = Vec::new();
    for c in &all {
        if let Some(((a, _), (b, _))) = equality(tables, c)? {
            edges.push((a, b));
        }
    }
    let n = tables.list.len();
    let mut order = vec![0];
    while order.len() < n {
        let connected = |t: usize| {
            edges
                .iter()
                .any(|&(a, b)| (a == t && order.contains(&b)) || (b == t && order.contains(&a)))
        };
        let rest = (0..n).filter(|t| !order.contains(t));
        let next = rest
            .clone()
            .find(|&t| connected(t))
            .or_else(|| rest.clone().next())
            .unwrap_or(0);
        order.push(next);
    }
    let mut taken: Vec<Option<JoinTable>> = std::mem::take(&mut tables.list)
        .into_iter()
        .map(Some)
        .collect();
    tables.list = order
        .iter()
        .filter_map(|&t| taken.get_mut(t).and_then(Option::take))
        .collect();
    tables.from_order = (0..n)
        .map(|f| order.iter().position(|&t| t == f).unwrap_or(f))
        .collect();
    let on = all
        .into_iter()
        .take(ons.iter().flatten().flat_map(conjuncts).count())
        .reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: BinaryOperator::And,
            right: Box::new(b),
        });
    let mut out: Vec<Option<Expr>> = vec![None; n];
    if let Some(on) = on {
        // Placed as an inner join's ON: like WHERE.
        out[n - 1] = Some(on);
    }
    Ok(out)
}

/// The canonical key of a plain column in a side's select list.
pub(crate) fn column_key(column: &str) -> String {
    format!("column {column}")
}

/// The tables in join order and the ON condition of each (None for the first and for
/// comma/CROSS joins).
fn join_tables(
    select: &sqlparser::ast::Select,
    resolver: &Resolver<'_>,
) -> Result<(Tables, Vec<Option<Expr>>), PlanError> {
    let mut list = Vec::new();
    let mut ons: Vec<Option<Expr>> = Vec::new();
    let mut right_first = false;
    for twj in &select.from {
        list.push(join_table(&twj.relation, resolver)?);
        ons.push(None);
        for j in &twj.joins {
            let (constraint, outer, right) = match &j.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (c, false, false),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, true, false),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (c, false, true),
                _ => return Err(PlanError::unsupported("this join across data nodes")),
            };
            let on = match constraint {
                JoinConstraint::On(e) => Some(e.clone()),
                JoinConstraint::None => None,
                _ => {
                    return Err(PlanError::unsupported(
                        "USING and NATURAL joins across data nodes",
                    ))
                }
            };
            if right && !(list.len() == 1 && ons.len() == 1) {
                return Err(PlanError::unsupported(
                    "RIGHT JOIN other than of the first two tables across data nodes",
                ));
            }
            if (right || outer) && on.is_none() {
                return Err(PlanError::Parse("an outer join needs ON".into()));
            }
            let mut t = join_table(&j.relation, resolver)?;
            t.outer = outer;
            right_first |= right;
            list.push(t);
            ons.push(on);
        }
    }
    let mut from_order: Vec<usize> = (0..list.len()).collect();
    if right_first {
        // `a RIGHT JOIN b ON c` is `b LEFT JOIN a ON c`; SELECT * still lists a first.
        list.swap(0, 1);
        list[0].outer = false;
        list[1].outer = true;
        from_order.swap(0, 1);
    }
    let tables = Tables { list, from_order };
    Ok((tables, ons))
}

fn join_table(relation: &TableFactor, resolver: &Resolver<'_>) -> Result<JoinTable, PlanError> {
    let TableFactor::Table { name, alias, .. } = relation else {
        return Err(PlanError::unsupported(
            "derived tables and table functions in joins across data nodes",
        ));
    };
    if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
        return Err(PlanError::unsupported("column aliases of a table"));
    }
    let t = resolver.table(name, alias.as_ref().map(|a| a.name.value.as_str()))?;
    if t.info.columns.is_empty() {
        return Err(PlanError::unsupported(format!(
            "joins across data nodes of table {} whose columns Strata does not know",
            t.name
        )));
    }
    Ok(JoinTable {
        relation: relation.clone(),
        qualifier: t.qualifier.clone(),
        db: t.db.clone(),
        name: t.name.clone(),
        columns: t.info.columns.iter().map(|c| c.to_lowercase()).collect(),
        info: t.info.clone(),
        outer: false,
        filters: Vec::new(),
        select: Vec::new(),
    })
}

/// The AND-ed parts of a condition.
fn conjuncts(e: &Expr) -> Vec<Expr> {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        Expr::Nested(inner)
            if matches!(
                **inner,
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(inner)
        }
        other => vec![other.clone()],
    }
}

/// `left = right` of two plain columns of different tables.
fn equality(tables: &Tables, c: &Expr) -> Result<Option<(ColumnRef, ColumnRef)>, PlanError> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = c
    else {
        return Ok(None);
    };
    match (tables.column(left)?, tables.column(right)?) {
        (Some(a), Some(b)) if a.0 != b.0 => Ok(Some(if a.0 < b.0 { (a, b) } else { (b, a) })),
        _ => Ok(None),
    }
}

fn add_key(tables: &mut Tables, steps: &mut [Step], (a, b): (ColumnRef, ColumnRef)) {
    tables.list[a.0].plain_column(&a.1);
    tables.list[b.0].plain_column(&b.1);
    steps[b.0].keys.push((a, b));
}

/// `qualifier.column` for a side's query.
pub(crate) fn column_expr(t: &JoinTable, column: &str) -> Expr {
    Expr::CompoundIdentifier(vec![
        sqlparser::ast::Ident::with_quote('`', t.qualifier.replace('`', "``")),
        sqlparser::ast::Ident::with_quote('`', column.replace('`', "``")),
    ])
}

fn several_tables() -> PlanError {
    PlanError::unsupported(
        "conditions over several tables other than equalities of columns, in joins across data nodes",
    )
}

/// A conjunct of the ON clause of join `j`.
fn place_on(tables: &mut Tables, steps: &mut [Step], j: usize, c: Expr) -> Result<(), PlanError> {
    if !steps[j].outer {
        return place_where(tables, steps, c);
    }
    let used = tables.tables_of(&c)?;
    if let Some(eq) = equality(tables, &c)? {
        if eq.1 .0 == j {
            add_key(tables, steps, eq);
            return Ok(());
        }
    }
    // Only this table (or none): it restricts which rows of the table can match.
    if used.iter().all(|&t| t == j) {
        tables.list[j].filters.push(c);
        return Ok(());
    }
    Err(if used.iter().any(|&t| t > j) {
        later_column(tables, &c, j)
    } else if used.len() == 1 {
        PlanError::unsupported(
            "ON conditions of a LEFT JOIN on the preserved table alone, across data nodes",
        )
    } else {
        several_tables()
    })
}

/// A conjunct of WHERE (or of an inner join's ON).
fn place_where(tables: &mut Tables, steps: &mut [Step], c: Expr) -> Result<(), PlanError> {
    let used = tables.tables_of(&c)?;
    if let Some(eq) = equality(tables, &c)? {
        // NULL never equals: rows without a match on either side are rejected.
        steps[eq.0 .0].outer = false;
        steps[eq.1 .0].outer = false;
        add_key(tables, steps, eq);
        return Ok(());
    }
    match used.len() {
        0 => {
            // A condition on no column holds for all rows or none: the streamed side,
            // which is never NULL-filled, carries it.
            tables.list[0].filters.push(c);
            Ok(())
        }
        1 => {
            let t = *used.iter().next().unwrap_or(&0);
            if steps[t].outer {
                if !rejects_null(tables, t, &c)? {
                    return Err(PlanError::unsupported(
                        "WHERE conditions that hold for NULL on the inner table of a LEFT JOIN, across data nodes",
                    ));
                }
                steps[t].outer = false;
            }
            tables.list[t].filters.push(c);
            Ok(())
        }
        _ => Err(several_tables()),
    }
}

/// Whether `c` is false or NULL whenever table `t`'s columns are all NULL: a comparison,
/// IN, BETWEEN or LIKE whose tested operand is a plain column of `t`, or IS NOT NULL.
fn rejects_null(tables: &Tables, t: usize, c: &Expr) -> Result<bool, PlanError> {
    let is_column_of_t = |e: &Expr| -> Result<bool, PlanError> {
        Ok(matches!(tables.column(e)?, Some((tt, _)) if tt == t))
    };
    Ok(match c {
        Expr::Nested(inner) => rejects_null(tables, t, inner)?,
        Expr::BinaryOp { left, op, right } => {
            matches!(
                op,
                BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq
            ) && (is_column_of_t(left)? || is_column_of_t(right)?)
        }
        Expr::InList { expr, .. }
        | Expr::Between { expr, .. }
        | Expr::Like { expr, .. }
        | Expr::IsNotNull(expr) => is_column_of_t(expr)?,
        _ => false,
    })
}

/// A table's per-node query, planned as a one-table SELECT (routed and pruned by its
/// own distribution and filters).
/// The locking clause each side's statements end with: a locking read across nodes
/// locks, on each node, the rows its side reads there (the rows its filters keep, a
/// superset of the rows MySQL's join locks, never fewer).
pub(crate) fn lock_suffix(
    query: &Query,
    src: &Source<'_>,
) -> Result<Option<&'static str>, PlanError> {
    if src.masked.lock_in_share_mode {
        return Ok(Some(" LOCK IN SHARE MODE"));
    }
    match query.locks.as_slice() {
        [] => Ok(None),
        [lock] if lock.of.is_none() && lock.nonblock.is_none() => match lock.lock_type {
            sqlparser::ast::LockType::Update => Ok(Some(" FOR UPDATE")),
            sqlparser::ast::LockType::Share => Ok(Some(" LOCK IN SHARE MODE")),
        },
        _ => Err(PlanError::unsupported(
            "FOR UPDATE OF / NOWAIT / SKIP LOCKED in joins across data nodes",
        )),
    }
}

fn side(
    t: &JoinTable,
    lock: Option<&str>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<JoinSide, PlanError> {
    let columns: Vec<String> = if t.select.is_empty() {
        vec!["1".into()]
    } else {
        t.select.iter().map(|(_, e)| e.to_string()).collect()
    };
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), t.relation);
    if !t.filters.is_empty() {
        let filters: Vec<String> = t.filters.iter().map(|f| format!("({f})")).collect();
        sql.push_str(&format!(" WHERE {}", filters.join(" AND ")));
    }
    if let Some(lock) = lock {
        sql.push_str(lock);
    }
    let side_src = Source::new(&sql)?;
    let Statement::Query(q) = side_src.parse()? else {
        return Err(PlanError::unsupported("a join side Strata cannot plan"));
    };
    let side_ctx = PlanContext {
        params: None,
        ..*ctx
    };
    let plan = crate::select::plan_native(&side_src, *q, &side_ctx, catalog)?;
    let parts = match plan {
        Plan::Route(r) => vec![crate::plan::NodeStatement {
            dnid: r.dnid,
            sql: r.sql,
        }],
        Plan::Query(q) => match &q.root {
            Operator::Project { input, columns }
                if matches!(**input, Operator::Gather(_))
                    && *columns == crate::plan::Columns::First(columns_len(t)) =>
            {
                q.scatter().parts.clone()
            }
            _ => {
                return Err(PlanError::unsupported(
                    "a join side that needs its own merge, across data nodes",
                ))
            }
        },
        Plan::Write(_) | Plan::Materialize(_) | Plan::ReadThenWrite(_) => {
            return Err(PlanError::unsupported("a join side Strata cannot plan"))
        }
    };
    let collations = t
        .select
        .iter()
        .map(|(k, _)| k.strip_prefix("column ").and_then(|c| t.collation(c)))
        .collect();
    Ok(JoinSide {
        table: t.qualifier.clone(),
        scatter: Scatter { parts },
        collations,
    })
}

fn columns_len(t: &JoinTable) -> usize {
    t.select.len().max(1)
}
