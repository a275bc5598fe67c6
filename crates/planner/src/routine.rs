//! Stored programs and table maintenance in a database over several data nodes.
//! Procedures and functions are created, altered and dropped on every data node of the
//! database (each node then runs them over its own rows); a trigger is created on the
//! one data node of its table; events are refused, since no single node's run would be
//! the database's; `CALL` runs on one node when that node's run is the database's
//! (`call.rs`). `ANALYZE/CHECK/OPTIMIZE/REPAIR/
//! CHECKSUM TABLE` run on every data node holding the tables, their rows concatenated.

use sqlparser::ast::{Ident, ObjectName};
use strata_catalog::DataNodeId;

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::insert::fan_out;
use crate::plan::{MergeSpec, NodeStatement, Plan, WriteKind};
use crate::scope::Resolver;
use crate::source::Source;
use crate::Planned;

/// Plans a stored-program or table-maintenance statement; None for other statements.
pub(crate) fn plan_routine(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let sql = src.sql;
    let words: Vec<(usize, String)> = code_words(src);
    let word = |i: usize| words.get(i).map(|(_, w)| w.as_str()).unwrap_or("");
    let object = words
        .iter()
        .skip(1)
        .take(10)
        .map(|(_, w)| w.as_str())
        .find(|w| {
            matches!(
                *w,
                "PROCEDURE"
                    | "FUNCTION"
                    | "TRIGGER"
                    | "EVENT"
                    | "PACKAGE"
                    | "TABLE"
                    | "VIEW"
                    | "INDEX"
                    | "DATABASE"
                    | "SCHEMA"
                    | "SEQUENCE"
                    | "USER"
                    | "ROLE"
            )
        })
        .unwrap_or("");
    let text = || src.forward_text(ctx.params).into_owned();
    if !matches!(word(0), "CREATE" | "ALTER") && strata_sql::is_compound_statement(sql) {
        return Err(PlanError::unsupported(
            "compound statements in a database over several data nodes (route one to a data node with /*!strata:dnid=N*/)",
        ));
    }
    match (word(0), object) {
        ("CREATE" | "ALTER" | "DROP", "PROCEDURE" | "FUNCTION") => {
            if word(0) == "CREATE" && words.iter().any(|(_, w)| w == "SONAME") {
                return Err(PlanError::unsupported("CREATE FUNCTION ... SONAME"));
            }
            let nodes = database_nodes(routine_db(src, object), ctx, catalog)?;
            Ok(Some(Planned::of(fan_out(
                &nodes,
                text(),
                WriteKind::DdlFanOut,
            ))))
        }
        ("CREATE", "TRIGGER") => {
            let on = code_index_after(src, "ON")
                .ok_or_else(|| PlanError::Parse("CREATE TRIGGER without ON <table>".to_string()))?;
            let table = object_name_at(src, on);
            let resolved = Resolver::new(ctx, catalog).table(&table, None)?;
            match resolved.placement.nodes().as_slice() {
                [only] if !matches!(resolved.placement, crate::keys::Placement::Global { .. }) => {
                    Ok(Some(Planned::of(Plan::route(*only, text(), crate::Reply::Ok))))
                }
                _ => Err(PlanError::unsupported(
                    "CREATE TRIGGER on a table over several data nodes (each node would run it on its own rows only)",
                )),
            }
        }
        ("DROP", "TRIGGER") => {
            // The trigger is on one data node, which the compute node does not record:
            // with IF EXISTS every node drops it if it has it; without, the error for a
            // trigger no node has could not be given.
            if !words.iter().any(|(_, w)| w == "EXISTS") {
                return Err(PlanError::unsupported(
                    "DROP TRIGGER without IF EXISTS in a database over several data nodes (add IF EXISTS, or route it with /*!strata:dnid=N*/)",
                ));
            }
            let nodes = database_nodes(routine_db(src, object), ctx, catalog)?;
            Ok(Some(Planned::of(fan_out(
                &nodes,
                text(),
                WriteKind::DdlFanOut,
            ))))
        }
        ("CREATE" | "ALTER" | "DROP", "EVENT") => Err(PlanError::unsupported(format!(
            "{} EVENT in a database over several data nodes",
            word(0)
        ))),
        ("CALL", _) => crate::call::plan_call(src, ctx, catalog).map(Some),
        ("ANALYZE" | "CHECK" | "OPTIMIZE" | "REPAIR" | "CHECKSUM", _) => {
            maintenance(word(0), src, ctx, catalog).map(Some)
        }
        ("CACHE" | "LOAD", _) if strata_sql::key_cache_op(sql).is_some() => {
            key_cache(src, ctx, catalog).map(Some)
        }
        _ => Ok(None),
    }
}

/// `ANALYZE/CHECK/OPTIMIZE/REPAIR/CHECKSUM TABLE t, ...`: run on every data node holding
/// one of the tables; each node answers for the tables it holds, the rows concatenated.
fn maintenance(
    op: &str,
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let sql = src.sql;
    let table_kw = code_index_after(src, "TABLE")
        .or_else(|| code_index_after(src, "TABLES"))
        .ok_or_else(|| PlanError::unsupported("ANALYZE of a statement over several data nodes"))?;
    let resolver = Resolver::new(ctx, catalog);
    let mut nodes: Vec<DataNodeId> = Vec::new();
    let mut i = table_kw;
    loop {
        let name = object_name_at(src, i);
        let (db, short) = resolver.names(&name)?;
        if catalog.view(&db, &short).is_some() {
            // Views live in the compute node's catalog, not on the data nodes, and
            // MariaDB answers for a view (CHECK: its tables are valid) in the same
            // result as the tables: no data node can give that row.
            return Err(PlanError::unsupported(format!(
                "{op} TABLE of a view ('{db}.{short}') in a database over several data nodes"
            )));
        }
        let table = resolver.table(&name, None)?;
        for n in table.placement.nodes() {
            if !nodes.contains(&n) {
                nodes.push(n);
            }
        }
        // Skip the name's tokens to a `,` (another table) or the end of the list.
        let mut j = i;
        let mut more = false;
        while let Some(t) = src.tokens.get(j) {
            if t.is_punct(sql, ",") {
                more = true;
                j += 1;
                break;
            }
            if t.kind == strata_sql::TokenKind::Ident
                && j > i
                && !src.tokens[..j]
                    .iter()
                    .rev()
                    .find(|p| p.kind.is_code())
                    .is_some_and(|p| p.is_punct(sql, "."))
            {
                break;
            }
            j += 1;
        }
        if !more {
            break;
        }
        // The next name starts at the next code token (not the space after the `,`).
        i = (j..src.tokens.len())
            .find(|&k| src.tokens[k].kind.is_code())
            .unwrap_or(j);
    }
    nodes.sort();
    Ok(Planned::of(Plan::scatter(
        &nodes,
        &src.forward_text(ctx.params),
        MergeSpec {
            visible_to_end: true,
            ..MergeSpec::default()
        },
    )))
}

/// `CACHE INDEX t, ... IN c` / `LOAD INDEX INTO CACHE t, ...`: each data node holding
/// one of the tables runs the statement with the tables it holds (each assigns or
/// preloads its own part's indexes; the key cache is each storage server's); a table
/// the catalog does not know goes to its database's first node, which answers
/// MariaDB's "doesn't exist" rows. The session merges the rows as table maintenance's.
fn key_cache(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let text = src.forward_text(ctx.params);
    let op = strata_sql::key_cache_op(&text).map_or("CACHE INDEX", strata_sql::KeyCacheOp::command);
    let items = strata_sql::key_cache_items(&text)
        .ok_or_else(|| PlanError::Parse(format!("{op} without a table list")))?;
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Err(PlanError::Parse(format!("{op} without a table list")));
    };
    let (head, tail) = (&text[..first.span.start], &text[last.span.end..]);
    let resolver = Resolver::new(ctx, catalog);
    // Each node's items, in list order.
    let mut held: Vec<(DataNodeId, Vec<&str>)> = Vec::new();
    for item in &items {
        let mut parts: Vec<Ident> = item.schema.iter().map(Ident::new).collect();
        parts.push(Ident::new(&item.name));
        let name = ObjectName::from(parts);
        let (db, short) = resolver.names(&name)?;
        if catalog.view(&db, &short).is_some() {
            // The view is the compute node's; no data node can answer its row.
            return Err(PlanError::unsupported(format!(
                "{op} of a view ('{db}.{short}') in a database over several data nodes"
            )));
        }
        let nodes = if catalog.table(&db, &short).is_some() {
            resolver.table(&name, None)?.placement.nodes()
        } else {
            let mut all = database_nodes(Some(db), ctx, catalog)?;
            all.sort();
            all.truncate(1);
            all
        };
        for n in nodes {
            let item_text = text.get(item.span.clone()).unwrap_or_default();
            match held.iter_mut().find(|(d, _)| *d == n) {
                Some((_, list)) => list.push(item_text),
                None => held.push((n, vec![item_text])),
            }
        }
    }
    held.sort_by_key(|(d, _)| *d);
    let parts = held
        .into_iter()
        .map(|(dnid, list)| NodeStatement {
            dnid,
            sql: format!("{head}{}{tail}", list.join(", ")),
        })
        .collect();
    Ok(Planned::of(Plan::query(
        parts,
        MergeSpec {
            visible_to_end: true,
            ..MergeSpec::default()
        },
    )))
}

/// The code words (identifiers, uppercased) of the statement with their token index.
fn code_words(src: &Source<'_>) -> Vec<(usize, String)> {
    src.tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == strata_sql::TokenKind::Ident)
        .map(|(i, t)| (i, t.text(src.sql).to_ascii_uppercase()))
        .collect()
}

/// Index of the first code token after keyword `kw`.
fn code_index_after(src: &Source<'_>, kw: &str) -> Option<usize> {
    let at = src.tokens.iter().position(|t| t.is_keyword(src.sql, kw))?;
    (at + 1..src.tokens.len()).find(|&j| src.tokens[j].kind.is_code())
}

/// The (possibly qualified) name starting at token `i`: `a` or `a.b`.
fn object_name_at(src: &Source<'_>, i: usize) -> ObjectName {
    let sql = src.sql;
    let mut parts = Vec::new();
    let mut j = i;
    while let Some(t) = src.tokens.get(j) {
        if !t.kind.is_ident() {
            break;
        }
        parts.push(Ident::new(strata_sql::lexer::ident_value(t.text(sql))));
        let dot = (j + 1..src.tokens.len()).find(|&k| src.tokens[k].kind.is_code());
        match dot {
            Some(d) if src.tokens[d].is_punct(sql, ".") => {
                j = (d + 1..src.tokens.len())
                    .find(|&k| src.tokens[k].kind.is_code())
                    .unwrap_or(src.tokens.len());
            }
            _ => break,
        }
    }
    ObjectName::from(parts)
}

/// The database a routine's name is qualified with, if any.
fn routine_db(src: &Source<'_>, object: &str) -> Option<String> {
    let sql = src.sql;
    let at = src.tokens.iter().position(|t| t.is_keyword(sql, object))?;
    let mut code = (at + 1..src.tokens.len()).filter(|&k| src.tokens[k].kind.is_code());
    let mut first = code.next()?;
    // IF [NOT] EXISTS
    while ["IF", "NOT", "EXISTS"]
        .iter()
        .any(|k| src.tokens[first].is_keyword(sql, k))
    {
        first = code.next()?;
    }
    let dot = code.next()?;
    (src.tokens[dot].is_punct(sql, ".") && src.tokens[first].kind.is_ident())
        .then(|| strata_sql::lexer::ident_value(src.tokens[first].text(sql)).into_owned())
}

/// Every data node of the database (`db`, else the session's).
fn database_nodes(
    db: Option<String>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Vec<DataNodeId>, PlanError> {
    let db = match db {
        Some(d) => d,
        None => ctx.db.ok_or(PlanError::NoDatabase)?.to_string(),
    };
    Ok(catalog
        .database(&db)
        .ok_or(PlanError::UnknownDatabase(db))?
        .data_nodes)
}
