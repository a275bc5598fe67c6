//! `CALL` in a database over several data nodes. Procedures and functions are created on
//! every data node of the database, so a call may run on one of them when that node's
//! run is the database's: the procedure, and every routine it calls as far as the
//! bodies show, touches no table, reads global tables only, or touches tables whose
//! rows are all on that one node (global tables read, never written: a write must
//! reach every copy). Anything else is refused with 1235: a sharded table, tables on
//! different nodes, views (Strata's, not the data nodes'), dynamic SQL, calls to
//! routines Strata cannot read, names of other databases.
//!
//! The bodies are the data nodes': planning asks for the database's routines
//! ([`RoutineBodies::wanted`]), the server reads them from one data node's
//! `information_schema.ROUTINES`, hands them back ([`RoutineBodies::give`]) and plans
//! again. A table is found by name: every word of a body that names a table of the
//! database counts as a use of it (a column or variable of the same name too, which
//! only refuses more).

use std::ops::ControlFlow;
use std::sync::Mutex;

use sqlparser::ast::{visit_expressions, visit_relations, Expr, ObjectNamePart, Statement};

use strata_catalog::sharding::Distribution;
use strata_catalog::DataNodeId;
use strata_sql::{code_tokens, Token, TokenKind};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::plan::{Plan, Reply};
use crate::source::Source;
use crate::Planned;

mod builtins;
mod stored_calls;

pub use stored_calls::may_call_stored_function;

/// A stored procedure or function as a data node holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoutine {
    /// A function (else a procedure).
    pub function: bool,
    /// Its name.
    pub name: String,
    /// Its body (None: the data node did not show it).
    pub body: Option<String>,
}

/// The routines of databases, as a data node gave them, for one statement; and the
/// database whose routines planning asked for.
#[derive(Debug, Default)]
pub struct RoutineBodies {
    wanted: Mutex<Option<String>>,
    /// Per database: the name the data node knows it by, and its routines.
    given: Vec<(String, String, Vec<StoredRoutine>)>,
}

impl Clone for RoutineBodies {
    fn clone(&self) -> RoutineBodies {
        RoutineBodies {
            wanted: Mutex::new(
                self.wanted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
            ),
            given: self.given.clone(),
        }
    }
}

impl RoutineBodies {
    /// The database whose routines planning wanted, if any (taking it).
    pub fn wanted(&self) -> Option<String> {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// The routines of `db`, read from one of its data nodes, which knows the database
    /// as `physical` (the name the bodies qualify its tables with).
    pub fn give(&mut self, db: &str, physical: &str, routines: Vec<StoredRoutine>) {
        self.given.retain(|(d, _, _)| d != db);
        self.given
            .push((db.to_string(), physical.to_string(), routines));
    }

    fn get(&self, db: &str) -> Option<(&str, &[StoredRoutine])> {
        self.given
            .iter()
            .find(|(d, _, _)| d == db)
            .map(|(_, p, r)| (p.as_str(), r.as_slice()))
    }

    fn want(&self, db: &str) {
        *self.wanted.lock().unwrap_or_else(|p| p.into_inner()) = Some(db.to_string());
    }
}

/// Databases whose tables are the data node's own, never the logical database's.
const SYSTEM_DATABASES: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];

/// Words that start a statement that writes (or changes the schema).
const WRITES: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "REPLACE", "TRUNCATE", "LOAD", "ALTER", "DROP", "RENAME",
    "CREATE",
];

/// Words after which a qualified name is a table's.
const BEFORE_TABLE: &[&str] = &[
    "FROM",
    "JOIN",
    "STRAIGHT_JOIN",
    "INTO",
    "UPDATE",
    "TABLE",
    "TRUNCATE",
];

/// What the bodies touch.
#[derive(Default)]
struct Reach {
    /// Tables with all rows on one node: (name, node).
    single: Vec<(String, DataNodeId)>,
    /// Global tables: (name, nodes).
    global: Vec<(String, Vec<DataNodeId>)>,
    /// Some body writes.
    writes: bool,
}

/// Plans `CALL [db.]p(...)` without a routing hint.
pub(crate) fn plan_call(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let sql = src.sql;
    let toks: Vec<Token> = code_tokens(sql).collect();
    let Some(call) = toks.iter().position(|t| t.is_keyword(sql, "CALL")) else {
        return Err(PlanError::Parse("CALL without a procedure".into()));
    };
    let (qualifier, name, after) = name_at(sql, &toks, call + 1)
        .ok_or_else(|| PlanError::Parse("CALL without a procedure name".into()))?;
    let db = match qualifier {
        Some(q) => q,
        None => ctx.db.ok_or(PlanError::NoDatabase)?.to_string(),
    };
    let info = catalog
        .database(&db)
        .ok_or_else(|| PlanError::UnknownDatabase(db.clone()))?;
    let Some((physical, routines)) = ctx.routines.and_then(|r| r.get(&db)) else {
        if let Some(r) = ctx.routines {
            r.want(&db);
        }
        return Err(PlanError::unsupported(
            "CALL in a database over several data nodes without its routines (route it to one data node with /*!strata:dnid=N*/)",
        ));
    };
    let scan = Scan {
        db: &db,
        physical,
        catalog,
        routines,
    };
    let mut reach = Reach::default();
    let mut work: Vec<String> = Vec::new();
    // The arguments may hold subqueries and function calls.
    scan.text(sql, &toks[after..], &mut reach, &mut work)?;
    let top = routine(routines, false, &name);
    if let Some(p) = top {
        work.push(format!("p:{}", p.name.to_ascii_lowercase()));
    }
    scan.follow(work, &mut reach)?;
    let node = choose_node(&reach, &info.data_nodes, ctx.home_node)?;
    Ok(Planned::of(Plan::route(
        node,
        src.forward_text(ctx.params).into_owned(),
        Reply::Ok,
    )))
}

/// Checks a statement the planner does not plan (`SET`, `DO`), which runs on the
/// session's home data node: a table it reads must be there whole, and a stored function
/// it calls must not use tables spread over several data nodes (the home node would see
/// its own rows only). A text the planner's parser cannot read is refused when it has a
/// subquery or calls one of the database's stored functions.
pub fn check_stored_functions(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<(), PlanError> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    // DO's expressions are a select list's; `:=` (which the parser does not read) is
    // `=` for what is looked at here (tables and calls).
    let mut text = String::with_capacity(sql.len() + 8);
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        if i == 0 && t.is_keyword(sql, "DO") {
            text.push_str("SELECT");
            last = t.span.end;
        } else if t.is_punct(sql, ":=") {
            text.push_str(&sql[last..t.span.start]);
            text.push('=');
            last = t.span.end;
        }
    }
    text.push_str(&sql[last..]);
    if let Ok(stmt) = crate::source::parse_one(&text) {
        tables_on_home_node(&stmt, ctx, catalog)?;
        return check_functions(&stmt, ctx, catalog);
    }
    if toks.iter().any(|t| t.is_keyword(sql, "SELECT")) {
        return Err(PlanError::unsupported(
            "a subquery in a statement of a database over several data nodes that Strata cannot read",
        ));
    }
    for i in 0..toks.len() {
        if i > 0 && toks[i - 1].is_punct(sql, ".") {
            continue;
        }
        let Some((db, name, next)) = name_at(sql, &toks, i) else {
            continue;
        };
        let called = toks.get(next).is_some_and(|t| t.is_punct(sql, "("));
        if !called || (db.is_none() && builtins::is_builtin(&name.to_ascii_uppercase())) {
            continue;
        }
        let Some(db) = db.or_else(|| ctx.db.map(str::to_string)) else {
            continue;
        };
        if catalog.database(&db).is_none() {
            continue;
        }
        let known = ctx.routines.and_then(|r| r.get(&db));
        if known.is_some_and(|(_, routines)| routine(routines, true, &name).is_none()) {
            continue;
        }
        if known.is_none() {
            if let Some(r) = ctx.routines {
                r.want(&db);
            }
        }
        return Err(PlanError::unsupported(format!(
            "a call of {name}, which may be a stored function, in a statement of a database over several data nodes that Strata cannot read"
        )));
    }
    Ok(())
}

/// Refuses a statement run on the home data node that reads a table Strata places
/// elsewhere or over several nodes (`SET @n = (SELECT COUNT(*) FROM sharded)` counted
/// the home node's rows).
fn tables_on_home_node(
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<(), PlanError> {
    let mut elsewhere = None;
    let _ = visit_relations(stmt, |name| {
        let parts: Vec<&str> = name
            .0
            .iter()
            .filter_map(ObjectNamePart::as_ident)
            .map(|i| i.value.as_str())
            .collect();
        let (db, table) = match parts.as_slice() {
            [table] => (ctx.db, *table),
            [db, table] => (Some(*db), *table),
            _ => return ControlFlow::Continue(()),
        };
        let Some(db) = db else {
            return ControlFlow::Continue(());
        };
        let Some(info) = catalog.table(db, table) else {
            return ControlFlow::Continue(());
        };
        let home = ctx.home_node;
        let on_home = match crate::keys::Placement::of(db, &info, catalog) {
            Ok(crate::keys::Placement::Global { nodes }) => {
                home.is_some_and(|h| nodes.contains(&h))
            }
            Ok(placement) => home.is_some_and(|h| placement.nodes() == [h]),
            Err(_) => false,
        };
        if on_home {
            return ControlFlow::Continue(());
        }
        elsewhere = Some(format!("{db}.{table}"));
        ControlFlow::Break(())
    });
    match elsewhere {
        Some(table) => Err(PlanError::unsupported(format!(
            "a SET or DO reading table {table}, which is not on the session's home data node alone (it would read that node's rows only; to set a user variable write SELECT ... INTO @v FROM ...)"
        ))),
        None => Ok(()),
    }
}

/// Refuses a statement that calls a stored function whose run on each data node (or on
/// the one the plan chose) would not be the database's: one that writes or uses a table
/// that is not global. A function that touches no table, or reads global tables only,
/// gives every node the same answer.
pub(crate) fn check_functions(
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<(), PlanError> {
    let mut calls: Vec<(Option<String>, String)> = Vec::new();
    let _ = visit_expressions(stmt, |e| {
        if let Expr::Function(f) = e {
            let parts: Vec<String> = f
                .name
                .0
                .iter()
                .filter_map(ObjectNamePart::as_ident)
                .map(|i| i.value.clone())
                .collect();
            match parts.as_slice() {
                [name] if !builtins::is_builtin(&name.to_ascii_uppercase()) => {
                    calls.push((None, name.clone()))
                }
                [db, name] => calls.push((Some(db.clone()), name.clone())),
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
    for (db, name) in calls {
        let Some(db) = db.or_else(|| ctx.db.map(str::to_string)) else {
            continue;
        };
        if catalog.database(&db).is_none() {
            continue;
        }
        let Some((physical, routines)) = ctx.routines.and_then(|r| r.get(&db)) else {
            if let Some(r) = ctx.routines {
                r.want(&db);
            }
            return Err(PlanError::unsupported(format!(
                "a call of {name}, which may be a stored function, in a database over several data nodes"
            )));
        };
        let Some(f) = routine(routines, true, &name) else {
            // A user-defined (SONAME) function or none: no body of the database's.
            continue;
        };
        let scan = Scan {
            db: &db,
            physical,
            catalog,
            routines,
        };
        let mut reach = Reach::default();
        scan.follow(
            vec![format!("f:{}", f.name.to_ascii_lowercase())],
            &mut reach,
        )
        .map_err(|e| match e {
            PlanError::Unsupported(why) => {
                PlanError::unsupported(format!("stored function {name}: {why}"))
            }
            e => e,
        })?;
        if reach.writes || !reach.single.is_empty() {
            return Err(PlanError::unsupported(format!(
                "stored function {name} that writes or reads a table on one data node, in a statement of a database over several data nodes"
            )));
        }
    }
    Ok(())
}

impl Scan<'_> {
    /// Reads the bodies of the routines in `work` and of those they call.
    fn follow(&self, mut work: Vec<String>, reach: &mut Reach) -> Result<(), PlanError> {
        let routines = self.routines;
        let scan = self;
        let mut seen: Vec<String> = Vec::new();
        while let Some(next) = work.pop() {
            if seen.contains(&next) {
                continue;
            }
            seen.push(next.clone());
            let key = next.split_once(':').map_or(next.as_str(), |(_, n)| n);
            let function = next.starts_with("f:");
            let Some(r) = routine(routines, function, key) else {
                continue;
            };
            let body = r.body.as_deref().ok_or_else(|| {
            PlanError::unsupported(format!(
                "a routine whose body Strata cannot read ({}) in a database over several data nodes",
                r.name
            ))
        })?;
            let body_toks: Vec<Token> = code_tokens(body).collect();
            scan.text(body, &body_toks, reach, &mut work)?;
        }
        Ok(())
    }
}

/// The routine named `name` (case-insensitive) of that kind.
fn routine<'r>(
    routines: &'r [StoredRoutine],
    function: bool,
    name: &str,
) -> Option<&'r StoredRoutine> {
    routines
        .iter()
        .find(|r| r.function == function && r.name.eq_ignore_ascii_case(name))
}

/// The (possibly qualified) name at token `i`: (qualifier, name, index after it).
fn name_at(sql: &str, toks: &[Token], i: usize) -> Option<(Option<String>, String, usize)> {
    let first = toks.get(i).filter(|t| t.kind.is_ident())?;
    let value = |t: &Token| strata_sql::lexer::ident_value(t.text(sql)).into_owned();
    if toks.get(i + 1).is_some_and(|t| t.is_punct(sql, ".")) {
        if let Some(second) = toks.get(i + 2).filter(|t| t.kind.is_ident()) {
            return Some((Some(value(first)), value(second), i + 3));
        }
    }
    Some((None, value(first), i + 1))
}

/// The routine's database and what it can see.
struct Scan<'a> {
    db: &'a str,
    /// The database's name on the data node the bodies came from.
    physical: &'a str,
    catalog: &'a dyn CatalogView,
    routines: &'a [StoredRoutine],
}

impl Scan<'_> {
    /// Notes the tables and routines the tokens of `sql` name; refuses what cannot be
    /// told. Routines to read next go to `work` (`p:name`, `f:name`, lower case).
    fn text(
        &self,
        sql: &str,
        toks: &[Token],
        reach: &mut Reach,
        work: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if !t.kind.is_ident() || (i > 0 && toks[i - 1].is_punct(sql, ".")) {
                i += 1;
                continue;
            }
            let word = t.text(sql).to_ascii_uppercase();
            if t.kind == TokenKind::Ident {
                if matches!(word.as_str(), "PREPARE" | "EXECUTE" | "DEALLOCATE") {
                    return Err(PlanError::unsupported(
                        "a routine with dynamic SQL (PREPARE/EXECUTE) in a database over several data nodes",
                    ));
                }
                if WRITES.contains(&word.as_str()) {
                    reach.writes = true;
                }
                // A table, database or temporary table made on the one node would be
                // unknown to the catalog and the session.
                if matches!(word.as_str(), "CREATE" | "ALTER" | "DROP" | "RENAME")
                    && !(word == "DROP"
                        && toks
                            .get(i + 1)
                            .is_some_and(|t| t.is_keyword(sql, "TEMPORARY")))
                {
                    return Err(PlanError::unsupported(format!(
                        "a routine that runs {word} in a database over several data nodes (route it with /*!strata:dnid=N*/)"
                    )));
                }
                if word == "CALL" {
                    let (q, name, after) = name_at(sql, toks, i + 1)
                        .ok_or_else(|| PlanError::Parse("CALL without a procedure name".into()))?;
                    self.own_database(q.as_deref(), &name)?;
                    if routine(self.routines, false, &name).is_none() {
                        return Err(PlanError::unsupported(format!(
                            "a routine that calls procedure {name}, which Strata cannot read, in a database over several data nodes"
                        )));
                    }
                    work.push(format!("p:{}", name.to_ascii_lowercase()));
                    i = after;
                    continue;
                }
            }
            let Some((q, name, after)) = name_at(sql, toks, i) else {
                i += 1;
                continue;
            };
            let called = toks.get(after).is_some_and(|t| t.is_punct(sql, "("));
            let before_table = i > 0 && BEFORE_TABLE.iter().any(|k| toks[i - 1].is_keyword(sql, k));
            match q {
                Some(q) => {
                    if SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(&q)) {
                        return Err(PlanError::unsupported(format!(
                            "a routine that names {q}.{name} in a database over several data nodes (each data node has its own)"
                        )));
                    }
                    if self.is_own(&q) || self.catalog.database(&q).is_some() || before_table {
                        // `db.t` or `db.f(...)`: only the routine's own database.
                        self.own_database(Some(&q), &name)?;
                        self.name(&name, called, reach, work)?;
                    } else {
                        // `alias.column` or `t.column`: the qualifier may be a table.
                        self.name(&q, false, reach, work)?;
                    }
                }
                None => self.name(&name, called, reach, work)?,
            }
            i = after;
        }
        Ok(())
    }

    /// True when `q` names the routine's database (as the client or the data node
    /// knows it).
    fn is_own(&self, q: &str) -> bool {
        q.eq_ignore_ascii_case(self.db) || q.eq_ignore_ascii_case(self.physical)
    }

    /// Refuses a name qualified with another database than the routine's.
    fn own_database(&self, q: Option<&str>, name: &str) -> Result<(), PlanError> {
        match q {
            Some(q) if !self.is_own(q) => Err(PlanError::unsupported(format!(
                "a routine that names {q}.{name} (another database) in a database over several data nodes"
            ))),
            _ => Ok(()),
        }
    }

    /// Notes an unqualified name of the routine's database: a table, a view, a stored
    /// function called.
    fn name(
        &self,
        name: &str,
        called: bool,
        reach: &mut Reach,
        work: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        if called {
            if let Some(f) = routine(self.routines, true, name) {
                work.push(format!("f:{}", f.name.to_ascii_lowercase()));
            }
        }
        let lower = name.to_ascii_lowercase();
        if self.catalog.view(self.db, name).is_some()
            || self.catalog.view(self.db, &lower).is_some()
        {
            return Err(PlanError::unsupported(format!(
                "a routine that uses view {name} in a database over several data nodes"
            )));
        }
        let Some(table) = self
            .catalog
            .table(self.db, name)
            .or_else(|| self.catalog.table(self.db, &lower))
        else {
            return Ok(());
        };
        match &table.distribution {
            Distribution::Vertical { dnid } => reach.single.push((name.to_string(), *dnid)),
            Distribution::Global { data_nodes } => {
                reach.global.push((name.to_string(), data_nodes.clone()))
            }
            _ => {
                return Err(PlanError::unsupported(format!(
                    "a routine that uses sharded table {name} in a database over several data nodes (each data node would run it over its own rows only)"
                )))
            }
        }
        Ok(())
    }
}

/// The one data node whose run of the call is the database's.
fn choose_node(
    reach: &Reach,
    database_nodes: &[DataNodeId],
    home: Option<DataNodeId>,
) -> Result<DataNodeId, PlanError> {
    if reach.writes {
        if let Some((name, _)) = reach.global.first() {
            return Err(PlanError::unsupported(format!(
                "CALL of a routine that uses global table {name} and writes (a write to a global table must reach every copy; route it with /*!strata:dnid=N*/)"
            )));
        }
    }
    let mut candidates: Vec<DataNodeId> = database_nodes.to_vec();
    if let Some((first, node)) = reach.single.first() {
        if let Some((other, _)) = reach.single.iter().find(|(_, n)| n != node) {
            return Err(PlanError::unsupported(format!(
                "CALL of a routine that uses tables {first} and {other} on different data nodes"
            )));
        }
        candidates.retain(|n| n == node);
    }
    for (_, nodes) in &reach.global {
        candidates.retain(|n| nodes.contains(n));
    }
    match home {
        Some(h) if candidates.contains(&h) => Ok(h),
        _ => candidates.first().copied().ok_or_else(|| {
            PlanError::unsupported(
                "CALL of a routine whose tables have no data node of the database in common",
            )
        }),
    }
}
