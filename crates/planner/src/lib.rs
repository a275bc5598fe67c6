//! Routing and distributed planning: a pure function from (statement, catalog view,
//! session context) to a [`Plan`] — a route to one data node, a write over several
//! (with whether it must be atomic), or a tree of merge operators over a scatter —
//! that says which data nodes run what and how their replies combine. No I/O happens here: the server gives a [`CatalogView`] and a
//! [`PlanContext`], runs the plan with the executor, and prints it for EXPLAIN with
//! [`explain`], so what runs is what is shown.
//!
//! A statement that routes to one data node keeps its original text (minus Strata hints,
//! with prepared-statement parameters inlined); statements on several nodes are
//! rewritten per node and carry a merge specification. What cannot run correctly across
//! nodes is refused with error 1235 naming the construct — never a wrong answer.
//!
//! Layout: `source` reads the text (hints, clauses sqlparser cannot parse, parameters);
//! `scope` finds the tables and where their rows are, with `prune` for shard pruning
//! and `keys` for the catalog's sharding functions; `select` and `scatter` plan reads,
//! `insert` and `modify` writes, [`ddl`] schema changes; `lower` turns a query's
//! merge requirements into the operator tree; `materialize` plans the reads those
//! refuse on one data node over temporary copies of their tables; [`explain`] prints plans and
//! [`cache`] keeps parsed statement shapes, routing those that `point` recognises
//! without planning them again.

pub mod cache;
mod call;
pub mod catalog_view;
mod collations;
mod column_reads;
pub mod context;
pub mod ddl;
mod dnid;
pub mod error;
pub mod explain;
mod exprs;
mod having;
mod insert;
mod insert_key;
mod insert_select;
mod join;
mod join_output;
mod keys;
mod limited_write;
mod literal;
mod load;
mod lower;
mod materialize;
#[cfg(any(test, feature = "test-util"))]
mod memory_catalog;
mod modify;
mod multi_table;
mod nondeterministic;
pub mod plan;
mod point;
mod prune;
mod rename_tables;
mod returning;
mod routine;
mod scatter;
mod scope;
mod select;
mod sequence;
mod sequence_engine;
mod source;
mod subquery_first;
mod view;

use sqlparser::ast::Statement;
use strata_catalog::DataNodeId;

pub use cache::{CacheStats, PlanCache};
pub use call::{check_stored_functions, may_call_stored_function, RoutineBodies, StoredRoutine};
pub use catalog_view::{CatalogView, DatabaseInfo, NamedRule, TableInfo, ViewInfo};
pub use column_reads::first_column_read;
pub use context::{DateTime, IdAllocator, LocalTime, PlanContext};
pub use ddl::{plan_ddl, CatalogChange, DdlPlan};
pub use error::PlanError;
pub use explain::{describe, explain, explain_target, explanation, tree, Explanation};
pub use insert_key::{KeyQuery, KeyValues};
pub use load::{plan_load_data, plan_load_everywhere, AutoIncrement, LoadPlan};
#[cfg(any(test, feature = "test-util"))]
pub use memory_catalog::MemoryCatalog;
pub use plan::{
    auto_key_name, normalized_definition, undo_alter, Aggregate, AggregateFunction, BitOp, Columns,
    CompareOp, DdlGuard, DdlUndo, HashJoin, InsertCounts, JoinColumn, JoinKey, JoinSide, JoinStep,
    KeyedWrite, Literal, Lookup, Materialize, MergeSpec, NodeStatement, Operator, OrderCheck, Plan,
    Predicate, QueryPlan, ReadThenWrite, Reply, ReturnedOrder, Route, RowsAs, Scatter, SetPiece,
    SortKey, TableCopy, UniqueCheck, Write, WriteCombine, WriteKind,
};
pub use sequence::{sequence_draw, takes_sequence_values, SequenceDraw};

use crate::keys::{canonical, route};
use crate::literal::text_literal;
use crate::scope::Resolver;
use crate::source::{HintRoute, Source};

/// A plan with what the server reports besides running it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// What runs where.
    pub plan: Plan,
    /// The first global AUTO_INCREMENT value the planner wrote into an INSERT: the
    /// server sends it as the OK packet's insert id and makes it the session's
    /// LAST_INSERT_ID(). None when the statement generated no value (the data nodes'
    /// OK packets then report explicit values as MySQL does).
    pub insert_id: Option<u64>,
    /// It writes a table whose AUTO_INCREMENT values Strata's global sequence gives:
    /// the data nodes generate none, and their OK packets' ids are explicit values.
    pub strata_numbers: bool,
    /// Catalog changes to apply once the plan succeeded (DDL).
    pub catalog_changes: Vec<CatalogChange>,
    /// What the planner decided differently from what the statement suggests, for the
    /// client's warnings once the compute node keeps its own (the server logs them).
    pub notes: Vec<String>,
}

impl Planned {
    fn of(plan: Plan) -> Planned {
        Planned {
            plan,
            insert_id: None,
            strata_numbers: false,
            catalog_changes: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Plans one statement.
pub fn plan(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    plan_statement(sql, ctx, catalog).map(|p| p.plan)
}

/// Plans one statement, with the generated insert id and catalog changes.
pub fn plan_statement(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let joined = multi_table::comma_update_as_join(sql);
    let sql = joined.as_deref().unwrap_or(sql);
    if let Some(expanded) = view::expand(sql, ctx, catalog)? {
        let src = Source::new(&expanded)?;
        return with_stack_for(&src, || plan_source(&src, ctx, catalog))?;
    }
    let src = Source::new(sql)?;
    with_stack_for(&src, || plan_source(&src, ctx, catalog))?
}

/// `sql` with the views it reads replaced by their SELECTs as derived tables (None when
/// it names no view): what a data node can prepare for a statement over views.
pub fn expand_views(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<String>, PlanError> {
    view::expand(sql, ctx, catalog)
}

/// The view `db`.`name` of a database over several data nodes as a data node can read
/// it: its SELECT with `LIMIT 0` (views in it expanded) and a data node holding every
/// table it reads, which describes its columns (SHOW COLUMNS of the view). None when it
/// is no such view, no node holds all its tables or the SELECT takes sequence values.
pub fn view_probe(
    db: &str,
    name: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<(strata_catalog::DataNodeId, String)>, PlanError> {
    let Some(view) = catalog.view(db, name) else {
        return Ok(None);
    };
    view::ddl::probe(&view.select, db, ctx, catalog)
}

/// The plan that runs the read `sql` whole on one data node over temporary copies of its
/// tables ([`Plan::Materialize`]), for a plan the executor found it cannot run once it
/// saw the data nodes' columns (a merge that refuses to compare strings of a collation
/// it does not implement); None when the statement may not run that way.
pub fn materialize_plan(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Option<Plan> {
    let src = Source::new(sql).ok()?;
    if src.hint.is_some() {
        return None;
    }
    with_stack_for(&src, || materialize::plan(&src, ctx, catalog))
        .ok()
        .flatten()
}

/// Statements with at most this many binary operators are planned on the caller's stack.
const INLINE_OPERATORS: usize = 64;

/// Statements with more binary operators are refused.
const MAX_OPERATORS: usize = 10_000;

/// Runs `f` on the caller's stack for ordinary statements, and on a thread whose stack
/// fits the statement's expression depth for long operator chains (`a = 1 OR a = 2 OR
/// ...`): sqlparser clones, prints and visits expression trees recursively, and a chain
/// of n operators is a tree n deep.
pub(crate) fn with_stack_for<T: Send>(
    src: &Source<'_>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, PlanError> {
    let ops = src.operator_count();
    if ops <= INLINE_OPERATORS {
        return Ok(f());
    }
    if ops > MAX_OPERATORS {
        return Err(PlanError::unsupported(format!(
            "statements with more than {MAX_OPERATORS} operators"
        )));
    }
    let stack = (16 << 20) + ops * (16 << 10);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("strata-plan".into())
            .stack_size(stack)
            .spawn_scoped(scope, f)
            .ok()
            .and_then(|handle| handle.join().ok())
    })
    .ok_or_else(|| PlanError::unsupported("a statement this large (no planning thread)"))
}

/// Plans a statement from its source text.
fn plan_source(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    if let Some(hint) = &src.hint {
        if let Some(planned) = plan_hint(src, hint, ctx, catalog)? {
            return Ok(planned);
        }
    }
    sequence_engine::refuse_writes(src.sql, ctx, catalog)?;
    if let Some(planned) = sequence::plan(src, ctx, catalog)? {
        return Ok(planned);
    }
    if let Some(planned) = routine::plan_routine(src, ctx, catalog)? {
        return Ok(planned);
    }
    if let Some(planned) = view::ddl::plan(src, ctx, catalog)? {
        return Ok(planned);
    }
    if is_create_table(src) {
        if let Some(planned) = ddl::plan_sharded_create(src, ctx, catalog)? {
            return Ok(planned);
        }
    }
    let mut stmt = match src.parse() {
        Ok(s) => s,
        Err(e) => return fallback(src, ctx, catalog, e).map(Planned::of),
    };
    src.bind(&mut stmt, ctx.params)?;
    plan_parsed(src, stmt, ctx, catalog)
}

/// True for CREATE TABLE text with a SHARD BY clause.
fn is_create_table(src: &Source<'_>) -> bool {
    let mut code = src.tokens.iter().filter(|t| t.kind.is_code());
    code.next().is_some_and(|t| t.is_keyword(src.sql, "CREATE"))
        && src.tokens.iter().any(|t| t.is_keyword(src.sql, "SHARD"))
}

/// Plans a parsed (and bound) statement.
pub(crate) fn plan_parsed(
    src: &Source<'_>,
    stmt: Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    call::check_functions(&stmt, ctx, catalog)?;
    match stmt {
        Statement::Query(q) => select::plan_query(src, *q, ctx, catalog).map(Planned::of),
        Statement::Insert(insert) => {
            let what = if insert.replace_into {
                "REPLACE ... RETURNING"
            } else {
                "INSERT ... RETURNING"
            };
            let returning = returning::clause(what, insert.returning.as_deref())?;
            let planned = insert::plan_insert(src, insert, ctx, catalog)?;
            match returning {
                Some(what) => returning::answer_rows(what, planned),
                None => Ok(planned),
            }
        }
        stmt @ (Statement::Update { .. } | Statement::Delete(_)) => {
            let items = match &stmt {
                Statement::Delete(d) => d.returning.as_deref(),
                _ => None,
            };
            let returning = returning::clause("DELETE ... RETURNING", items)?;
            let planned = modify::plan_modify(src, stmt, ctx, catalog).map(Planned::of)?;
            match returning {
                Some(what) => returning::answer_rows(what, planned),
                None => Ok(planned),
            }
        }
        Statement::Explain { statement, .. } => {
            // A Strata EXPLAIN is answered by the server through `explain_target`;
            // EXPLAIN with options runs on the data nodes the statement would use.
            let inner = plan_parsed(src, *statement, ctx, catalog)?;
            Ok(Planned::of(explain::pass_through(src, &inner.plan)))
        }
        Statement::ExplainTable { table_name, .. } => {
            let resolver = Resolver::new(ctx, catalog);
            let table = resolver.table(&table_name, None)?;
            let node = table.placement.nodes().first().copied().ok_or_else(|| {
                PlanError::data_nodes(format!("table {} has no data node", table.name))
            })?;
            Ok(Planned::of(Plan::route(
                node,
                src.forward_text(ctx.params),
                Reply::Rows,
            )))
        }
        other => ddl::plan_ddl_statement(src, other, ctx, catalog),
    }
}

/// Plans a statement routed by a hint; None when the hint does not route.
fn plan_hint(
    src: &Source<'_>,
    hint: &HintRoute,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let text = src.forward_text(ctx.params).into_owned();
    let nodes: Vec<DataNodeId> = match hint {
        HintRoute::Nodes(n) => n.clone(),
        HintRoute::All => {
            let db = ctx.db.ok_or(PlanError::NoDatabase)?;
            catalog
                .database(db)
                .ok_or_else(|| PlanError::UnknownDatabase(db.to_string()))?
                .data_nodes
        }
        HintRoute::TableKey { table, value } => {
            let resolver = Resolver::new(ctx, catalog);
            let name = sqlparser::ast::ObjectName::from(
                table
                    .split('.')
                    .map(sqlparser::ast::Ident::new)
                    .collect::<Vec<_>>(),
            );
            let t = resolver.table(&name, None)?;
            let node = match &t.placement {
                keys::Placement::Sharded { key_type, rule, .. } => {
                    let lit = text_literal(value).unwrap_or_else(|| {
                        strata_catalog::sharding::KeyLiteral::String(value.clone().into_bytes())
                    });
                    route(rule, key_type, &canonical(key_type, &lit)?)?
                }
                other => other.nodes().first().copied().ok_or_else(|| {
                    PlanError::data_nodes(format!("table {} has no data node", t.name))
                })?,
            };
            vec![node]
        }
    };
    let rows = returns_rows(src.sql);
    let plan = match nodes.as_slice() {
        [] => return Err(PlanError::data_nodes("the hint names no data node")),
        [n] => Plan::route(*n, text, reply_of(src.sql)),
        _ if rows => Plan::scatter(
            &nodes,
            &text,
            MergeSpec {
                visible_to_end: true,
                ..MergeSpec::default()
            },
        ),
        _ => {
            use strata_sql::StatementKind as K;
            let dml = matches!(
                strata_sql::classify(src.sql),
                K::Insert | K::Replace | K::Update | K::Delete
            );
            Plan::Write(Write::new(
                WriteKind::Hinted { dml },
                NodeStatement::same(&nodes, &text),
            ))
        }
    };
    Ok(Some(Planned::of(plan)))
}

/// True for statements that return rows (SELECT, SHOW, ...).
fn returns_rows(sql: &str) -> bool {
    let first = strata_sql::code_tokens(sql)
        .find(|t| t.kind.is_ident() || t.is_punct(sql, "("))
        .map(|t| t.text(sql).to_ascii_uppercase());
    matches!(
        first.as_deref(),
        Some(
            "SELECT"
                | "SHOW"
                | "WITH"
                | "("
                | "DESC"
                | "DESCRIBE"
                | "EXPLAIN"
                | "VALUES"
                | "TABLE"
                | "CHECKSUM"
                | "ANALYZE"
                | "CHECK"
                | "OPTIMIZE"
                | "REPAIR"
                | "HELP"
        )
    )
}

/// What a statement the planner only routes answers.
fn reply_of(sql: &str) -> Reply {
    if returns_rows(sql) {
        Reply::Rows
    } else {
        Reply::Ok
    }
}

/// True for `CREATE`, `ALTER`, `DROP` or `RENAME` of a table or an index, which the
/// catalog records (`code` are the statement's code tokens).
fn changes_tables(sql: &str, code: &[strata_sql::Token]) -> bool {
    let Some((first, rest)) = code.split_first() else {
        return false;
    };
    if !["CREATE", "ALTER", "DROP", "RENAME"]
        .iter()
        .any(|k| first.is_keyword(sql, k))
    {
        return false;
    }
    const MODIFIERS: [&str; 8] = [
        "OR",
        "REPLACE",
        "TEMPORARY",
        "ONLINE",
        "IGNORE",
        "UNIQUE",
        "FULLTEXT",
        "SPATIAL",
    ];
    rest.iter()
        .find(|t| !MODIFIERS.iter().any(|k| t.is_keyword(sql, k)))
        .is_some_and(|t| {
            ["TABLE", "TABLES", "INDEX"]
                .iter()
                .any(|k| t.is_keyword(sql, k))
        })
}

/// For statements sqlparser cannot parse: if every table the text names (by the
/// catalog) is on one common node, forward it there; otherwise report the parse error.
fn fallback(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
    error: PlanError,
) -> Result<Plan, PlanError> {
    if let Some(plan) = ddl::plan_keys_toggle(src, ctx, catalog)? {
        return Ok(plan);
    }
    let sql = src.sql;
    let code: Vec<strata_sql::Token> = strata_sql::code_tokens(sql).collect();
    if changes_tables(sql, &code) {
        // Run on a node as sent, the table would change behind the catalog's back (a
        // CREATE TABLE ... SELECT the catalog never heard of: main.ctype_gb2312).
        return Err(error);
    }
    let ident = |t: &strata_sql::Token| strata_sql::lexer::ident_value(t.text(sql)).into_owned();
    let mut placements: Vec<keys::Placement> = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let t = code[i];
        if !t.kind.is_ident() {
            i += 1;
            continue;
        }
        let qualified = code.get(i + 1).is_some_and(|d| d.is_punct(sql, "."))
            && code.get(i + 2).is_some_and(|n| n.kind.is_ident());
        let (db, name, step) = if qualified {
            (Some(ident(&t)), ident(&code[i + 2]), 3)
        } else {
            (ctx.db.map(str::to_string), ident(&t), 1)
        };
        if let Some(db) = db {
            if let Some(info) = catalog.table(&db, &name) {
                placements.push(keys::Placement::of(&db, &info, catalog)?);
            }
        }
        i += step;
    }
    if placements.is_empty() {
        return match ctx.db.and_then(|db| catalog.database(db)) {
            Some(db) if db.data_nodes.len() == 1 => Ok(Plan::route(
                db.data_nodes[0],
                src.forward_text(ctx.params),
                reply_of(sql),
            )),
            _ => Err(error),
        };
    }
    let spread = placements
        .iter()
        .any(|p| matches!(p, keys::Placement::Sharded { rule, .. } if rule.data_nodes.len() > 1));
    let sets: Vec<Vec<DataNodeId>> = placements.iter().map(keys::Placement::nodes).collect();
    let pick = sets
        .iter()
        .find(|s| s.len() == 1)
        .or(sets.first())
        .and_then(|s| s.first().copied());
    match pick {
        Some(dnid) if !spread && sets.iter().all(|s| s.contains(&dnid)) => Ok(Plan::route(
            dnid,
            src.forward_text(ctx.params),
            reply_of(sql),
        )),
        _ => Err(error),
    }
}
