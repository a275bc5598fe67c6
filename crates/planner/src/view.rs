//! Views are Strata's own (the data nodes never hold them): a statement that reads a
//! view is planned as if the view's SELECT stood in its place as a derived table, so
//! every read over views runs through the same planner (one node, scatter/merge,
//! joins in the compute node, or one node over copies) and gives MariaDB's answer.
//!
//! The expansion edits the statement's text, not its parsed form: each view name in a
//! FROM clause becomes `(<select>) AS name`, everything else stays byte-identical
//! (hints, clauses sqlparser cannot read, placeholders). Views inside views expand on
//! the next round. A view's SELECT names its tables relative to the view's database;
//! read from another current database, its unqualified names are qualified first.
//! Writes through views are refused (1235). `ddl` plans CREATE/ALTER/DROP VIEW.

pub(crate) mod ddl;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{ObjectName, Query, Statement, TableFactor, Visit, Visitor};
use strata_sql::Token;

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::source::Source;

/// Views inside views are expanded at most this deep; deeper is taken for a cycle.
const MAX_DEPTH: usize = 8;

/// The text of `sql` with every view it reads replaced by the view's SELECT; None when
/// it names no view (the common case costs one flag read when no view exists).
pub(crate) fn expand(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<String>, PlanError> {
    if !catalog.any_views() || !mentions_a_view(sql, ctx, catalog) {
        return Ok(None);
    }
    let mut text = sql.to_string();
    let mut changed = false;
    for _ in 0..MAX_DEPTH {
        match expand_once(&text, ctx, catalog)? {
            Some(next) => {
                text = next;
                changed = true;
            }
            None => return Ok(changed.then_some(text)),
        }
    }
    Err(PlanError::Statement {
        code: 1462,
        sqlstate: "HY000",
        message: format!(
            "A view contains view recursion (or views nested more than {MAX_DEPTH} deep)"
        ),
    })
}

/// True when an identifier of `sql` (alone or qualified) names a view: a cheap test
/// before parsing.
fn mentions_a_view(sql: &str, ctx: &PlanContext<'_>, catalog: &dyn CatalogView) -> bool {
    let code: Vec<Token> = strata_sql::code_tokens(sql).collect();
    let ident = |t: &Token| strata_sql::lexer::ident_value(t.text(sql));
    // A table name follows FROM, JOIN, INTO, UPDATE, a comma (of a FROM list) or a
    // parenthesis (a nested join): only those identifiers are looked up.
    let names_a_table = |i: usize| {
        i > 0 && {
            let before = code[i - 1];
            before.is_punct(sql, ",")
                || before.is_punct(sql, "(")
                || ["FROM", "JOIN", "STRAIGHT_JOIN", "INTO", "UPDATE"]
                    .iter()
                    .any(|k| before.is_keyword(sql, k))
        }
    };
    code.iter().enumerate().any(|(i, t)| {
        if !t.kind.is_ident() || !names_a_table(i) {
            return false;
        }
        let qualified = code.get(i + 1).is_some_and(|d| d.is_punct(sql, "."))
            && code.get(i + 2).is_some_and(|n| n.kind.is_ident());
        match qualified {
            true => catalog.view(&ident(t), &ident(&code[i + 2])).is_some(),
            false => ctx
                .db
                .is_some_and(|db| catalog.view(db, &ident(t)).is_some()),
        }
    })
}

/// One round: the views `text` reads directly replaced; None when there are none.
fn expand_once(
    text: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<String>, PlanError> {
    let src = Source::new(text)?;
    // What does not parse is reported by the statement's own planning.
    let Ok(stmt) = src.parse() else {
        return Ok(None);
    };
    if !expands(&stmt) {
        return Ok(None);
    }
    if let Some((db, name)) = insert_target_view(&stmt, ctx, catalog) {
        return Err(PlanError::unsupported(format!(
            "INSERT into view '{db}.{name}' (views are read-only in Strata)"
        )));
    }
    let refs = TableRefs::of(&stmt);
    let mut edits = Vec::new();
    for r in &refs.tables {
        let Some((db, name)) = resolve(&r.name, ctx.db) else {
            continue;
        };
        if r.name.0.len() == 1 && refs.ctes.contains(&name) {
            continue;
        }
        let Some(view) = catalog.view(&db, &name) else {
            continue;
        };
        writes_through_view(&stmt, &db, &name)?;
        let Some((start, end)) = name_span(&src, &r.name) else {
            return Err(PlanError::unsupported(format!(
                "reading view '{db}.{name}' here (its name could not be located)"
            )));
        };
        let select = select_in(&view.select, &db, ctx.db)?;
        let replacement = match r.aliased {
            true => format!("({select})"),
            false => format!("({select}) AS {}", quote(&name)),
        };
        edits.push((start, end, replacement));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    Ok(Some(apply_edits(text, edits)))
}

/// Refuses UPDATE and DELETE naming view `db`.`name`: writes through views are not
/// supported (reads and INSERT ... SELECT reading a view expand).
fn writes_through_view(stmt: &Statement, db: &str, name: &str) -> Result<(), PlanError> {
    match stmt {
        Statement::Update { .. } | Statement::Delete(_) => Err(PlanError::unsupported(format!(
            "UPDATE or DELETE naming view '{db}.{name}' (views are read-only in Strata)"
        ))),
        _ => Ok(()),
    }
}

/// Statements whose views are expanded: reads, INSERT and CREATE TABLE (their
/// SELECT), and UPDATE/DELETE (to refuse them); other DDL keeps its text (CREATE VIEW
/// over a view stores the name).
fn expands(stmt: &Statement) -> bool {
    match stmt {
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_) => true,
        Statement::CreateTable(ct) => ct.query.is_some(),
        Statement::Explain { statement, .. } => expands(statement),
        _ => false,
    }
}

/// The view an INSERT writes into, if its target is one.
fn insert_target_view(
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<(String, String)> {
    let Statement::Insert(insert) = stmt else {
        return None;
    };
    let sqlparser::ast::TableObject::TableName(name) = &insert.table else {
        return None;
    };
    let (db, table) = resolve(name, ctx.db)?;
    catalog.view(&db, &table).map(|_| (db, table))
}

/// A view's SELECT as the reading statement must see it: as stored when read from the
/// view's own database, else with its unqualified table names qualified by it.
pub(crate) fn select_in(
    select: &str,
    view_db: &str,
    current: Option<&str>,
) -> Result<String, PlanError> {
    if current == Some(view_db) {
        return Ok(select.to_string());
    }
    let src = Source::new(select)?;
    let stmt = src.parse()?;
    let refs = TableRefs::of(&stmt);
    let mut edits = Vec::new();
    for r in &refs.tables {
        let [part] = r.name.0.as_slice() else {
            continue;
        };
        let Some(ident) = part.as_ident() else {
            continue;
        };
        if refs.ctes.contains(&ident.value) {
            continue;
        }
        if let Some((start, end)) = name_span(&src, &r.name) {
            edits.push((
                start,
                end,
                format!("{}.{}", quote(view_db), quote(&ident.value)),
            ));
        }
    }
    Ok(apply_edits(select, edits))
}

/// True when `select` (of database `db`) reads view `target`, directly or through
/// other views: defining `target` so would make a cycle.
pub(crate) fn reaches(
    select: &str,
    db: &str,
    target: (&str, &str),
    catalog: &dyn CatalogView,
    depth: usize,
) -> bool {
    let readable = strata_sql::sequence_calls_as_functions(select);
    let Ok(stmt) = Source::new(&readable).and_then(|s| s.parse()) else {
        return false;
    };
    let refs = TableRefs::of(&stmt);
    refs.tables.iter().any(|r| {
        let Some((vdb, vname)) = resolve(&r.name, Some(db)) else {
            return false;
        };
        if r.name.0.len() == 1 && refs.ctes.contains(&vname) {
            return false;
        }
        if (vdb.as_str(), vname.as_str()) == target {
            return true;
        }
        depth < MAX_DEPTH
            && catalog
                .view(&vdb, &vname)
                .is_some_and(|v| reaches(&v.select, &vdb, target, catalog, depth + 1))
    })
}

/// `name` as a backquoted identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// (database, name) of a one- or two-part table name.
pub(crate) fn resolve(name: &ObjectName, db: Option<&str>) -> Option<(String, String)> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.as_ident().map(crate::source::ident_name))
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [t] => Some((db?.to_string(), t.to_string())),
        [d, t] => Some((d.to_string(), t.to_string())),
        _ => None,
    }
}

/// Byte range of a table name in the source text: from its first identifier's token to
/// its last's (sqlparser gives line/column positions of each identifier).
fn name_span(src: &Source<'_>, name: &ObjectName) -> Option<(usize, usize)> {
    let starts = token_starts(src);
    let first = name.0.first()?.as_ident()?.span.start;
    let last = name.0.last()?.as_ident()?.span.start;
    let a = starts.get(&(first.line, first.column))?;
    let b = starts.get(&(last.line, last.column))?;
    Some((a.span.start, b.span.end))
}

/// Each code token by its 1-based (line, column), as sqlparser counts.
fn token_starts(src: &Source<'_>) -> HashMap<(u64, u64), Token> {
    crate::source::token_positions(src.sql, src.tokens.iter().filter(|t| t.kind.is_code()))
        .into_iter()
        .collect()
}

/// `text` with each (start, end) byte range replaced; ranges do not overlap.
fn apply_edits(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for (start, end, replacement) in edits {
        if start < at {
            continue;
        }
        out.push_str(text.get(at..start).unwrap_or(""));
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// A table name of a FROM clause.
pub(crate) struct NamedTable {
    pub(crate) name: ObjectName,
    aliased: bool,
}

/// The table names a statement's FROM clauses use, and its CTE names (which hide
/// tables and views of the same name).
#[derive(Default)]
pub(crate) struct TableRefs {
    pub(crate) tables: Vec<NamedTable>,
    pub(crate) ctes: HashSet<String>,
}

impl TableRefs {
    pub(crate) fn of(stmt: &Statement) -> TableRefs {
        let mut refs = TableRefs::default();
        let _ = stmt.visit(&mut refs);
        refs
    }
}

impl Visitor for TableRefs {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        {
            self.tables.push(NamedTable {
                name: name.clone(),
                aliased: alias.is_some(),
            });
        }
        ControlFlow::Continue(())
    }
}
