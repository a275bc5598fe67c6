//! The fallback for reads the native operators refuse: a read-only SELECT whose shape
//! spans data nodes in a way pushdown, scatter/merge, hash join and lookup join cannot
//! run (correlated and uncorrelated subqueries, derived tables, CTEs, window functions,
//! WITH ROLLUP, UNION/INTERSECT/EXCEPT over sharded tables, joins they refuse) runs
//! whole on one data node over temporary copies of its tables ([`Materialize`], the
//! Grid paper's way). Only the shape may be the reason: statements refused for other
//! reasons (locking reads, SELECT ... INTO, user variables and other connection state,
//! `DNID`, system tables) keep their refusal.
//!
//! The node is the one of the statement's logical databases that already holds complete
//! copies of the most table references (a global table is complete on each of its
//! nodes, a vertical table on its node, a sharded table only on a node holding all of
//! its shards); ties go to the session's home node, then to the first in list order.

use sqlparser::ast::{Query, Statement};
use strata_catalog::DataNodeId;
use strata_sql::TokenKind;

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::dnid::mentions_dnid;
use crate::error::PlanError;
use crate::exprs::calls_any;
use crate::keys::Placement;
use crate::plan::{Materialize, Plan, TableCopy};
use crate::scope::{query_scope, Resolver, Scope, SYSTEM_SCHEMAS};
use crate::source::Source;

/// Functions whose value is the state of the connection that evaluates them (the
/// scratch connection is not the session's) or that change it: those a replica's
/// connection would answer differently, and the connection's id and the last value
/// of a sequence.
fn connection_state_functions() -> Vec<&'static str> {
    let mut names = strata_sql::rw::CONNECTION_FUNCTIONS.to_vec();
    names.extend(["CONNECTION_ID", "LAST_VALUE"]);
    names
}

/// The materialize plan for a query the native planner refused with `refusal`; the
/// refusal itself when the query may not run that way (or the refusal is not 1235).
pub(crate) fn instead_of(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
    refusal: PlanError,
) -> Result<Plan, PlanError> {
    if !matches!(refusal, PlanError::Unsupported(_)) {
        return Err(refusal);
    }
    match plan(src, ctx, catalog) {
        Some(plan) => Ok(plan),
        None => Err(refusal),
    }
}

/// The plan, when the statement is a read-only SELECT that may run on one node over
/// copies of its tables.
pub(crate) fn plan(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<Plan> {
    if !text_allows(src) {
        return None;
    }
    let mut stmt = src.parse().ok()?;
    src.bind(&mut stmt, ctx.params).ok()?;
    // `EXPLAIN FORMAT=... <query>` runs MariaDB's EXPLAIN where the query would run.
    let query = match stmt {
        Statement::Query(query) => query,
        Statement::Explain { statement, .. } => match *statement {
            Statement::Query(query) => query,
            _ => return None,
        },
        _ => return None,
    };
    if !query_allows(&query) {
        return None;
    }
    let lock = crate::join::lock_suffix(&query, src).ok()?;
    let sql = src.forward_text(ctx.params).into_owned();
    let mut plan = plan_query(&query, sql, None, ctx, catalog)?;
    plan.lock = lock.map(str::to_string);
    Some(Plan::Materialize(plan))
}

/// The materialize plan of `CREATE TABLE ... SELECT` (its text `create_sql`, as sent to
/// a data node) of a new table on `node` alone whose SELECT reads rows elsewhere: run
/// on `node` over copies of the tables it reads, so MariaDB itself derives the new
/// table's columns and fills it, in one statement that creates nothing when it fails.
/// A `temporary` table is made on the session's own connection to `node`.
pub(crate) fn create_table_select(
    create_sql: &str,
    query: &Query,
    node: DataNodeId,
    temporary: bool,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<Materialize> {
    let src = Source::new(create_sql).ok()?;
    if !text_allows(&src) || !query_allows(query) || !query.locks.is_empty() {
        return None;
    }
    let mut plan = plan_query(query, create_sql.to_string(), Some(node), ctx, catalog)?;
    plan.creates_table = true;
    plan.on_session |= temporary;
    Some(plan)
}

/// The plan of `query` run as `sql` on `forced` (else the node holding complete copies
/// of the most of its tables).
fn plan_query(
    query: &Query,
    sql: String,
    forced: Option<DataNodeId>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<Materialize> {
    let resolver = Resolver::new(ctx, catalog);
    let scope = query_scope(query, &resolver).ok()?;
    plan_scope(&scope, sql, forced, ctx, catalog)
}

/// An UPDATE or DELETE (`src`, its tables in `scope`) that writes only the session's
/// temporary tables and reads tables on other data nodes: run as sent on the session's
/// own connection to the temporary tables' node over copies of the tables it reads
/// (the written tables are read and written in place), answering with the node's OK
/// packet. None when it may not run that way.
pub(crate) fn temporary_write(
    src: &Source<'_>,
    scope: &Scope,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<Materialize> {
    if !text_allows(src) || src.hint.is_some() {
        return None;
    }
    let sql = src.forward_text(ctx.params).into_owned();
    let mut plan = plan_scope(scope, sql, None, ctx, catalog)?;
    if !plan.on_session {
        return None;
    }
    plan.creates_table = true;
    Some(plan)
}

/// The plan of the statement `sql` over the tables of `scope`, run on `forced` (else
/// the node holding complete copies of the most of its tables).
fn plan_scope(
    scope: &Scope,
    sql: String,
    forced: Option<DataNodeId>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<Materialize> {
    // Every reference, in statement order (a self-join counts twice for the choice).
    let refs: Vec<(&str, &str, &Placement)> = scope
        .tables()
        .map(|t| {
            (
                t.table.db.as_str(),
                t.table.name.as_str(),
                &t.table.placement,
            )
        })
        .collect();
    if refs.is_empty()
        || refs
            .iter()
            .any(|(db, _, _)| SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db)))
    {
        return None;
    }
    // The node must be in every database the statement names: the temporary tables
    // are created in each one's physical database there.
    let mut candidates: Option<Vec<DataNodeId>> = None;
    for (db, _, _) in &refs {
        let nodes = catalog.database(db)?.data_nodes;
        candidates = Some(match candidates {
            None => nodes,
            Some(c) => c.into_iter().filter(|n| nodes.contains(n)).collect(),
        });
    }
    let candidates = candidates?;
    // The session's temporary tables are on its own connection to one node: the
    // statement runs there, on that connection.
    let mut temporary = None;
    for (db, name, _) in &refs {
        if let Some(node) = catalog.temporary_table(db, name) {
            if temporary.is_some_and(|t| t != node) {
                return None;
            }
            temporary = Some(node);
        }
    }
    let forced = match (forced, temporary) {
        (Some(f), Some(t)) if f != t => return None,
        (f, t) => f.or(t),
    };
    let complete = |n: DataNodeId, p: &Placement| match p {
        Placement::Global { nodes } => nodes.contains(&n),
        Placement::Vertical { node } => *node == n,
        Placement::Sharded { rule, .. } => rule.data_nodes.iter().all(|&d| d == n),
    };
    let score = |n: DataNodeId| refs.iter().filter(|(_, _, p)| complete(n, p)).count();
    let dnid = match forced {
        Some(n) => candidates.contains(&n).then_some(n)?,
        None => {
            let best = candidates.iter().map(|&n| score(n)).max()?;
            ctx.home_node
                .filter(|h| candidates.contains(h) && score(*h) == best)
                .or_else(|| candidates.iter().copied().find(|&n| score(n) == best))?
        }
    };
    let mut copies: Vec<TableCopy> = Vec::new();
    for (db, name, placement) in refs {
        if copies.iter().any(|c| c.db == db && c.table == name) {
            continue;
        }
        let sources = match placement {
            Placement::Global { nodes } if nodes.contains(&dnid) => vec![dnid],
            Placement::Global { nodes } => nodes.first().copied().into_iter().collect(),
            Placement::Vertical { node } => vec![*node],
            Placement::Sharded { rule, .. } => rule.data_nodes.clone(),
        };
        if sources.is_empty() {
            return None;
        }
        copies.push(TableCopy::new(db, name, sources, complete(dnid, placement)));
    }
    Some(Materialize {
        dnid,
        copies,
        sql,
        creates_table: false,
        lock: None,
        on_session: temporary.is_some(),
    })
}

/// What the tokens rule out: user variables (their values live on the session's own
/// connection), locking clauses other than the statement's last one, `SELECT ...
/// INTO`, `SQL_CALC_FOUND_ROWS`.
fn text_allows(src: &Source<'_>) -> bool {
    if src.masked.calc_found_rows {
        return false;
    }
    let sql = src.sql;
    let mut code: Vec<&strata_sql::Token> =
        src.tokens.iter().filter(|t| t.kind.is_code()).collect();
    if code.iter().any(|t| t.kind == TokenKind::UserVar) {
        return false;
    }
    // The statement's own locking clause, last: its copies' reads take the locks.
    let ends_with = |code: &[&strata_sql::Token], words: &[&str]| {
        code.len() >= words.len()
            && code[code.len() - words.len()..]
                .iter()
                .zip(words)
                .all(|(t, w)| t.is_keyword(sql, w))
    };
    for clause in [&["FOR", "UPDATE"][..], &["LOCK", "IN", "SHARE", "MODE"][..]] {
        if ends_with(&code, clause) {
            code.truncate(code.len() - clause.len());
            break;
        }
    }
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    !(0..code.len()).any(|i| {
        kw(i, "INTO")
            || (kw(i, "FOR") && (kw(i + 1, "UPDATE") || kw(i + 1, "SHARE")))
            || (kw(i, "LOCK") && kw(i + 1, "IN") && kw(i + 2, "SHARE"))
    })
}

/// What the parsed query rules out: `DNID`, functions of connection state.
fn query_allows(query: &Query) -> bool {
    !mentions_dnid(query) && !calls_any(query, &connection_state_functions())
}
