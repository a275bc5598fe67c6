//! CREATE [OR REPLACE] / ALTER / DROP VIEW in a logical database over several data
//! nodes: nothing runs on the data nodes; the plan is a catalog change (an empty DDL
//! fan-out the server answers itself). The statement head is read from the tokens so
//! the SELECT is stored exactly as written. Checks follow MariaDB: the SELECT must plan
//! (unknown tables are 1146), the name must not be a table's (1050; 1347 for OR REPLACE
//! or ALTER of a table), the column list must match the SELECT (1353), names must be
//! unique (1060), and no variable or parameter may appear (1351). A column list is
//! folded into the SELECT as aliases, as MariaDB stores it.

use std::collections::HashSet;

use sqlparser::ast::{Expr, Ident, ObjectName, Query, SelectItem, SetExpr, Statement, TableFactor};
use strata_catalog::ViewInfo;
use strata_sql::{Token, TokenKind};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::ddl::CatalogChange;
use crate::error::PlanError;
use crate::plan::{Plan, Write, WriteKind};
use crate::source::{parse_one, Source};
use crate::Planned;

/// Plans a CREATE/ALTER/DROP VIEW of a database over several data nodes; None for other
/// statements and for views of single-node databases (forwarded as before).
pub(crate) fn plan(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let sql = src.sql;
    let code: Vec<Token> = src
        .tokens
        .iter()
        .copied()
        .filter(|t| t.kind.is_code())
        .collect();
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if kw(0, "DROP") && kw(1, "VIEW") {
        return plan_drop(sql, &code[2..], ctx, catalog);
    }
    let alter = kw(0, "ALTER");
    if !alter && !kw(0, "CREATE") {
        return Ok(None);
    }
    let mut head = Head::default();
    let mut i = 1;
    loop {
        if !alter && kw(i, "OR") && kw(i + 1, "REPLACE") {
            head.replace = true;
            i += 2;
        } else if kw(i, "ALGORITHM") && code.get(i + 1).is_some_and(|t| t.is_punct(sql, "=")) {
            let value = code.get(i + 2).map(|t| t.text(sql).to_ascii_uppercase());
            match value.as_deref() {
                Some(v @ ("UNDEFINED" | "MERGE" | "TEMPTABLE")) => head.algorithm = Some(v.into()),
                _ => return Err(syntax("ALGORITHM")),
            }
            i += 3;
        } else if kw(i, "DEFINER") {
            // The guard let only CURRENT_USER through: the definer is the session's.
            i += 1;
            while i < code.len() && !kw(i, "VIEW") && !(kw(i, "SQL") && kw(i + 1, "SECURITY")) {
                i += 1;
            }
        } else if kw(i, "SQL") && kw(i + 1, "SECURITY") {
            let value = code.get(i + 2).map(|t| t.text(sql).to_ascii_uppercase());
            match value.as_deref() {
                Some("DEFINER") => {}
                Some("INVOKER") => {
                    return Err(PlanError::unsupported(
                        "SQL SECURITY INVOKER views (Strata checks privileges on the view, as its definer's)",
                    ))
                }
                _ => return Err(syntax("SQL SECURITY")),
            }
            i += 3;
        } else {
            break;
        }
    }
    if !kw(i, "VIEW") {
        return Ok(None);
    }
    i += 1;
    if !alter && kw(i, "IF") && kw(i + 1, "NOT") && kw(i + 2, "EXISTS") {
        head.if_not_exists = true;
        i += 3;
    }
    let (db, name, next) = object_name(sql, &code, i, ctx)?;
    i = next;
    let Some(info) = catalog.database(&db) else {
        return Err(PlanError::UnknownDatabase(db));
    };
    if info.data_nodes.len() < 2 {
        return Ok(None);
    }
    if code.get(i).is_some_and(|t| t.is_punct(sql, "(")) {
        let (columns, next) = column_list(sql, &code, i + 1)?;
        head.columns = columns;
        i = next;
    }
    if !kw(i, "AS") {
        return Err(syntax("AS"));
    }
    let mut end = code.len();
    while end > i + 1 && code[end - 1].is_punct(sql, ";") {
        end -= 1;
    }
    if end >= i + 4 && kw(end - 2, "CHECK") && kw(end - 1, "OPTION") {
        let with = if kw(end - 3, "WITH") {
            end - 3
        } else {
            end - 4
        };
        if !kw(with, "WITH") {
            return Err(syntax("WITH CHECK OPTION"));
        }
        head.check_option = Some(match with + 1 < end - 2 {
            true => code[with + 1].text(sql).to_ascii_uppercase(),
            false => "CASCADED".into(),
        });
        if !matches!(head.check_option.as_deref(), Some("CASCADED" | "LOCAL")) {
            return Err(syntax("WITH CHECK OPTION"));
        }
        end = with;
    }
    let body = &code[i + 1..end];
    let (Some(first), Some(last)) = (body.first(), body.last()) else {
        return Err(syntax("AS"));
    };
    if body
        .iter()
        .any(|t| matches!(t.kind, TokenKind::UserVar | TokenKind::Placeholder))
    {
        return Err(PlanError::Statement {
            code: 1351,
            sqlstate: "HY000",
            message: "View's SELECT contains a variable or parameter".into(),
        });
    }
    let select = sql.get(first.span.start..last.span.end).unwrap_or("");
    let existing_view = catalog.view(&db, &name).is_some();
    let is_table = catalog.table(&db, &name).is_some();
    if is_table && (alter || head.replace) {
        return Err(PlanError::Statement {
            code: 1347,
            sqlstate: "HY000",
            message: format!("'{db}.{name}' is not of type 'VIEW'"),
        });
    }
    if alter && !existing_view {
        return Err(PlanError::UnknownTable { db, table: name });
    }
    if is_table || (existing_view && !alter && !head.replace) {
        if head.if_not_exists {
            return Ok(Some(catalog_only(Vec::new())));
        }
        return Err(PlanError::TableExists(name));
    }
    if super::reaches(select, &db, (&db, &name), catalog, 0) {
        return Err(PlanError::Statement {
            code: 1462,
            sqlstate: "HY000",
            message: format!("`{db}`.`{name}` contains view recursion"),
        });
    }
    // The SELECT must plan in the view's database (unknown tables and views: 1146).
    let view_ctx = PlanContext {
        db: Some(&db),
        params: None,
        ..*ctx
    };
    crate::plan_statement(select, &view_ctx, catalog)?;
    let stored = checked_select(select, &head.columns, &db, catalog)?;
    let probe = probe(&stored, &db, ctx, catalog)?;
    let mut view = ViewInfo::new(&stored, "", "");
    view.columns = head.columns;
    view.algorithm = head.algorithm.unwrap_or_else(|| "UNDEFINED".into());
    view.check_option = head.check_option;
    let mut planned = catalog_only(vec![CatalogChange::CreateView {
        db,
        name,
        view: Box::new(view),
        replace: alter || head.replace,
    }]);
    if let Some((dnid, sql)) = probe {
        planned.plan = Plan::route(dnid, sql, crate::plan::Reply::Rows);
    }
    Ok(Some(planned))
}

/// The check of a new view's columns and expressions, which only a MariaDB can make
/// (unknown columns, wrong functions): its SELECT with `LIMIT 0` on a data node that
/// holds every table it reads (after expanding views); None when no node holds them
/// all or its SELECT takes sequence values (then the SELECT is only planned).
pub(crate) fn probe(
    select: &str,
    db: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<(strata_catalog::DataNodeId, String)>, PlanError> {
    let text = format!(
        "SELECT * FROM ({}) AS `strata_view_check` LIMIT 0",
        super::select_in(select, db, ctx.db)?
    );
    let text = super::expand(&text, ctx, catalog)?.unwrap_or(text);
    // MariaDB evaluates a derived table's NEXTVAL even under LIMIT 0: the probe would
    // take a value (or fail on a node without the sequence).
    if strata_sql::sequence_uses(&text).iter().any(|u| u.takes) {
        return Ok(None);
    }
    let Some(mut nodes) = catalog.database(db).map(|d| d.data_nodes) else {
        return Ok(None);
    };
    let Ok(stmt) = Source::new(&text).and_then(|s| s.parse()) else {
        return Ok(None);
    };
    let refs = super::TableRefs::of(&stmt);
    for r in &refs.tables {
        let Some((tdb, table)) = super::resolve(&r.name, ctx.db) else {
            return Ok(None);
        };
        if r.name.0.len() == 1 && refs.ctes.contains(&table) {
            continue;
        }
        if crate::scope::SYSTEM_SCHEMAS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&tdb))
        {
            continue;
        }
        let Some(info) = crate::sequence_engine::catalog_or_sequence_table(catalog, &tdb, &table)
        else {
            return Ok(None);
        };
        nodes.retain(|n| info.data_nodes.contains(n));
    }
    Ok(nodes.first().map(|&n| (n, text)))
}

/// What the head of CREATE/ALTER VIEW said.
#[derive(Default)]
struct Head {
    replace: bool,
    if_not_exists: bool,
    algorithm: Option<String>,
    columns: Vec<String>,
    check_option: Option<String>,
}

/// DROP VIEW [IF EXISTS] v [, v ...] [RESTRICT | CASCADE]: every view listed in a
/// database over several data nodes; None when one is in a single-node database.
fn plan_drop(
    sql: &str,
    code: &[Token],
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    let mut i = 0;
    let if_exists = kw(0, "IF") && kw(1, "EXISTS");
    if if_exists {
        i = 2;
    }
    let mut changes = Vec::new();
    loop {
        let (db, name, next) = object_name(sql, code, i, ctx)?;
        match catalog.database(&db) {
            Some(info) if info.data_nodes.len() > 1 => {}
            Some(_) => return Ok(None),
            None if if_exists => {}
            None => return Err(PlanError::UnknownDatabase(db)),
        }
        changes.push(CatalogChange::DropView {
            db,
            name,
            if_exists,
        });
        i = next;
        if code.get(i).is_some_and(|t| t.is_punct(sql, ",")) {
            i += 1;
            continue;
        }
        break;
    }
    if kw(i, "RESTRICT") || kw(i, "CASCADE") {
        i += 1;
    }
    while code.get(i).is_some_and(|t| t.is_punct(sql, ";")) {
        i += 1;
    }
    if i != code.len() {
        return Err(syntax("DROP VIEW"));
    }
    Ok(Some(catalog_only(changes)))
}

/// A plan that runs nothing on the data nodes: only `changes` (the server answers it).
fn catalog_only(changes: Vec<CatalogChange>) -> Planned {
    Planned {
        plan: Plan::Write(Write::new(WriteKind::DdlFanOut, Vec::new())),
        insert_id: None,
        strata_numbers: false,
        catalog_changes: changes,
        notes: Vec::new(),
    }
}

fn syntax(near: &str) -> PlanError {
    PlanError::Parse(format!("a view statement near '{near}'"))
}

/// `[db .] name` at `code[i]`: the database (the current one if not given), the name
/// and the index after it.
fn object_name(
    sql: &str,
    code: &[Token],
    i: usize,
    ctx: &PlanContext<'_>,
) -> Result<(String, String, usize), PlanError> {
    let ident = |j: usize| {
        code.get(j)
            .filter(|t| t.kind.is_ident())
            .map(|t| strata_sql::lexer::ident_value(t.text(sql)).into_owned())
    };
    let first = ident(i).ok_or_else(|| syntax("the view name"))?;
    if code.get(i + 1).is_some_and(|t| t.is_punct(sql, ".")) {
        let name = ident(i + 2).ok_or_else(|| syntax("the view name"))?;
        return Ok((first, name, i + 3));
    }
    let db = ctx.db.ok_or(PlanError::NoDatabase)?;
    Ok((db.to_string(), first, i + 1))
}

/// The names of a `(a, b, ...)` list whose `(` is before `code[i]`, and the index
/// after its `)`.
fn column_list(sql: &str, code: &[Token], mut i: usize) -> Result<(Vec<String>, usize), PlanError> {
    let mut names = Vec::new();
    loop {
        let t = code
            .get(i)
            .filter(|t| t.kind.is_ident())
            .ok_or_else(|| syntax("the column list"))?;
        names.push(strata_sql::lexer::ident_value(t.text(sql)).into_owned());
        match code.get(i + 1) {
            Some(n) if n.is_punct(sql, ",") => i += 2,
            Some(n) if n.is_punct(sql, ")") => return Ok((names, i + 2)),
            _ => return Err(syntax("the column list")),
        }
    }
}

/// The SELECT to store: as written, or with the column list folded in as aliases of
/// its (first) SELECT's items. Refuses duplicate names (1060) and a list of another
/// length (1353).
fn checked_select(
    select: &str,
    columns: &[String],
    db: &str,
    catalog: &dyn CatalogView,
) -> Result<String, PlanError> {
    // `NEXT VALUE FOR s` is MariaDB's alone: read as `NEXTVAL(s)`; the view keeps
    // its text as written.
    let readable = strata_sql::sequence_calls_as_functions(select);
    let stmt = parse_one(&Source::new(&readable)?.parse_text)?;
    let Statement::Query(mut query) = stmt else {
        return Err(syntax("AS (a view is a SELECT)"));
    };
    if columns.is_empty() {
        let names = output_names(&query, db, catalog);
        first_duplicate(names.iter().flatten().map(String::as_str))
            .map_or(Ok(()), |d| Err(duplicate(d)))?;
        return Ok(select.to_string());
    }
    if let Some(d) = first_duplicate(columns.iter().map(String::as_str)) {
        return Err(duplicate(d));
    }
    let masked = Source::new(&readable)?.masked;
    if masked != Default::default() {
        return Err(PlanError::unsupported(
            "a view column list with WITH ROLLUP, SQL_CALC_FOUND_ROWS or LOCK IN SHARE MODE",
        ));
    }
    let expanded = expanded_items(&query, db, catalog).ok_or_else(|| {
        PlanError::unsupported(
            "a view column list over SELECT * of tables whose columns Strata does not know",
        )
    })?;
    if expanded.len() != columns.len() {
        return Err(PlanError::Statement {
            code: 1353,
            sqlstate: "HY000",
            message: "View's SELECT and view's field list have different column counts".into(),
        });
    }
    let Some(first) = first_select_mut(&mut query) else {
        return Err(syntax("AS"));
    };
    first.projection = expanded
        .into_iter()
        .zip(columns)
        .map(|(expr, name)| SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('`', name.as_str()),
        })
        .collect();
    Ok(query.to_string())
}

fn duplicate(name: &str) -> PlanError {
    PlanError::Statement {
        code: 1060,
        sqlstate: "42S21",
        message: format!("Duplicate column name '{name}'"),
    }
}

/// The first name that appears twice (column names are case-insensitive).
fn first_duplicate<'a>(names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = HashSet::new();
    names.into_iter().find(|n| !seen.insert(n.to_lowercase()))
}

/// The leftmost SELECT of a query (whose items name a set operation's columns).
fn first_select_mut(query: &mut Query) -> Option<&mut sqlparser::ast::Select> {
    let mut body = &mut *query.body;
    loop {
        match body {
            SetExpr::Select(s) => return Some(s),
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(q) => body = &mut q.body,
            _ => return None,
        }
    }
}

/// The leftmost SELECT's items with `*` and `t.*` expanded from the catalog's column
/// lists; None when a wildcard's columns are not known.
fn expanded_items(query: &Query, db: &str, catalog: &dyn CatalogView) -> Option<Vec<Expr>> {
    let mut q = query.clone();
    let select = first_select_mut(&mut q)?;
    if merges_columns(select) {
        return None;
    }
    let tables = from_tables(select, db, catalog);
    let mut out = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                out.push(e.clone())
            }
            SelectItem::Wildcard(_) => {
                for (qualifier, columns) in &tables {
                    out.extend(qualified(qualifier, columns.as_ref()?));
                }
            }
            SelectItem::QualifiedWildcard(kind, _) => {
                let name = kind.to_string();
                let wanted = name.rsplit('.').next().unwrap_or("").trim_matches('`');
                let (qualifier, columns) = tables.iter().find(|(q, _)| q == wanted)?;
                out.extend(qualified(qualifier, columns.as_ref()?));
            }
        }
    }
    Some(out)
}

fn qualified(qualifier: &str, columns: &[String]) -> Vec<Expr> {
    columns
        .iter()
        .map(|c| {
            Expr::CompoundIdentifier(vec![
                Ident::with_quote('`', qualifier),
                Ident::with_quote('`', c.as_str()),
            ])
        })
        .collect()
}

/// The output names of the leftmost SELECT where they are plain (aliases, columns,
/// expanded wildcards); None for an expression (MariaDB names it by its text).
fn output_names(query: &Query, db: &str, catalog: &dyn CatalogView) -> Vec<Option<String>> {
    let mut q = query.clone();
    let Some(select) = first_select_mut(&mut q) else {
        return Vec::new();
    };
    let tables = from_tables(select, db, catalog);
    let mut out = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::ExprWithAlias { alias, .. } => out.push(Some(alias.value.clone())),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => out.push(Some(i.value.clone())),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                out.push(parts.last().map(|i| i.value.clone()))
            }
            SelectItem::UnnamedExpr(_) => out.push(None),
            SelectItem::Wildcard(_) if !merges_columns(select) => {
                for (_, columns) in &tables {
                    out.extend(columns.iter().flatten().cloned().map(Some));
                }
            }
            SelectItem::Wildcard(_) => out.push(None),
            SelectItem::QualifiedWildcard(..) => out.push(None),
        }
    }
    out
}

/// The FROM clause's tables in order: (qualifier, its columns when the catalog knows
/// them).
fn from_tables(
    select: &sqlparser::ast::Select,
    db: &str,
    catalog: &dyn CatalogView,
) -> Vec<(String, Option<Vec<String>>)> {
    let mut out = Vec::new();
    let mut add = |factor: &TableFactor| match factor {
        TableFactor::Table { name, alias, .. } => {
            let table = last_ident(name);
            let qualifier = alias
                .as_ref()
                .map_or(table.clone(), |a| a.name.value.clone());
            let table_db = match name.0.len() {
                2 => name.0[0]
                    .as_ident()
                    .map_or(db.to_string(), |i| i.value.clone()),
                _ => db.to_string(),
            };
            let columns =
                crate::sequence_engine::catalog_or_sequence_table(catalog, &table_db, &table)
                    .map(|t| t.columns.clone())
                    .filter(|c| !c.is_empty());
            out.push((qualifier, columns));
        }
        TableFactor::Derived { alias, .. } => out.push((
            alias
                .as_ref()
                .map_or(String::new(), |a| a.name.value.clone()),
            None,
        )),
        _ => out.push((String::new(), None)),
    };
    for twj in &select.from {
        add(&twj.relation);
        for join in &twj.joins {
            add(&join.relation);
        }
    }
    out
}

/// True when a join of the FROM clause is NATURAL or has USING: `*` then lists the
/// shared columns once, which the catalog's column lists do not say.
fn merges_columns(select: &sqlparser::ast::Select) -> bool {
    select.from.iter().flat_map(|t| &t.joins).any(|j| {
        let text = j.to_string().to_ascii_uppercase();
        text.contains("NATURAL") || text.contains("USING")
    })
}

fn last_ident(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map_or(String::new(), |i| i.value.clone())
}
