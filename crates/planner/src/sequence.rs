//! Sequences (`CREATE/ALTER/DROP SEQUENCE`, `SHOW CREATE SEQUENCE`, `NEXTVAL(s)`,
//! `NEXT VALUE FOR s`, `LASTVAL(s)`, `PREVIOUS VALUE FOR s`, `SETVAL(s, n)`) in a
//! database over several data nodes. A sequence lives whole on one data node, as a
//! vertical table does (the database's first default node), and the catalog records it
//! as such a table marked `sequence`: MariaDB's own sequence object there gives every
//! semantic (INCREMENT, bounds, CYCLE, CACHE, SETVAL, RESTART, 4084 when it runs out),
//! and values unique across compute nodes, since all of them take values from that one
//! object.
//!
//! This module plans the statements that name a sequence object (here) and those that
//! take its values (`uses`): a statement whose tables are all on the sequence's node
//! runs there whole; an INSERT whose rows go elsewhere takes its values first
//! ([`SequenceDraw`], run by the server) and is planned with them as literals; anything
//! else that would evaluate a sequence once per row on several nodes is refused (1235).
//! On one data node sequences are forwarded like any statement.

mod uses;

use strata_catalog::sharding::Distribution;
use strata_catalog::DataNodeId;
use strata_sql::Token;

use crate::catalog_view::{CatalogView, TableInfo};
use crate::context::PlanContext;
use crate::ddl::CatalogChange;
use crate::error::PlanError;
use crate::insert::fan_out;
use crate::plan::{NodeStatement, Plan, Reply, Write, WriteKind};
use crate::source::{outside_parens, Source};
use crate::Planned;

pub use uses::{sequence_draw, SequenceDraw};

/// True when `src` may name a sequence object or take a sequence's values (a cheap
/// look at its text: plans of such statements are not cached).
pub(crate) fn mentions_sequences(src: &Source<'_>) -> bool {
    takes_sequence_values(src.sql)
        || (strata_sql::contains_ignore_ascii_case(src.sql.as_bytes(), b"sequence")
            && (object_statement(&code_of(src.sql), src.sql).is_some()
                || creates_sequence_table(src.sql)))
}

/// True when `sql` takes or sets a sequence's values (`NEXTVAL`, `SETVAL`, `LASTVAL`
/// and their `... VALUE FOR` forms).
pub fn takes_sequence_values(sql: &str) -> bool {
    !strata_sql::sequence_uses(sql).is_empty()
}

/// Plans a statement about a sequence; None when it names none.
pub(crate) fn plan(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let has = |needle: &[u8]| strata_sql::contains_ignore_ascii_case(src.sql.as_bytes(), needle);
    if !(strata_sql::may_use_sequences(src.sql) || has(b"sequence")) {
        return Ok(None);
    }
    let text = src.forward_text(ctx.params);
    let code = code_of(&text);
    if code.first().is_some_and(|t| t.is_keyword(&text, "CREATE"))
        && code.iter().any(|t| t.is_keyword(&text, "TABLE"))
    {
        if let Some(planned) = plan_sequence_table(&text, ctx, catalog)? {
            return Ok(Some(planned));
        }
    }
    if let Some(object) = object_statement(&code, &text) {
        return plan_object(object, &code, &text, ctx, catalog).map(Some);
    }
    uses::plan(&text, ctx, catalog)
}

/// The code tokens of `sql` (no trivia, no trailing `;`).
fn code_of(sql: &str) -> Vec<Token> {
    strata_sql::code_tokens(sql)
        .filter(|t| !t.is_punct(sql, ";"))
        .collect()
}

/// What a statement naming a sequence object does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Create,
    Alter,
    Drop,
    ShowCreate,
}

/// The kind of sequence statement and the index of the token after `SEQUENCE`.
fn object_statement(code: &[Token], sql: &str) -> Option<(Object, usize)> {
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    let (object, mut i) = if kw(0, "CREATE") {
        (Object::Create, 1)
    } else if kw(0, "ALTER") {
        (Object::Alter, 1)
    } else if kw(0, "DROP") {
        (Object::Drop, 1)
    } else if kw(0, "SHOW") && kw(1, "CREATE") {
        (Object::ShowCreate, 2)
    } else {
        return None;
    };
    while ["OR", "REPLACE", "TEMPORARY"].iter().any(|k| kw(i, k)) {
        i += 1;
    }
    kw(i, "SEQUENCE").then_some((object, i + 1))
}

/// A named sequence resolved: its database, name and catalog entry (None if unknown).
struct Named {
    db: String,
    name: String,
    info: Option<std::sync::Arc<TableInfo>>,
}

impl Named {
    fn resolve(
        schema: Option<String>,
        name: String,
        ctx: &PlanContext<'_>,
        catalog: &dyn CatalogView,
    ) -> Result<Named, PlanError> {
        let db = match schema {
            Some(db) => db,
            None => ctx.db.ok_or(PlanError::NoDatabase)?.to_string(),
        };
        let info = catalog.table(&db, &name);
        Ok(Named { db, name, info })
    }

    /// The data node that answers for it: the node holding it (the first of a table on
    /// several, whose MariaDB answers that it is no sequence), else the database's first
    /// default node (whose MariaDB answers that it does not exist).
    fn node(&self, catalog: &dyn CatalogView) -> Result<DataNodeId, PlanError> {
        if let Some(n) = self.info.as_ref().and_then(|i| i.data_nodes.first()) {
            return Ok(*n);
        }
        first_default_node(&self.db, catalog)
    }

    /// MariaDB's 4089 for a name that is a view (Strata's own, unknown to the nodes).
    fn not_a_view(&self, catalog: &dyn CatalogView) -> Result<(), PlanError> {
        if self.info.is_none() && catalog.view(&self.db, &self.name).is_some() {
            return Err(PlanError::Statement {
                code: 4089,
                sqlstate: "42S02",
                message: format!("'{}.{}' is not a SEQUENCE", self.db, self.name),
            });
        }
        Ok(())
    }

    /// True when the catalog records it as a sequence.
    fn is_sequence(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.sequence)
    }
}

/// Where a database's new sequences go: its first default data node.
fn first_default_node(db: &str, catalog: &dyn CatalogView) -> Result<DataNodeId, PlanError> {
    let info = catalog
        .database(db)
        .ok_or_else(|| PlanError::UnknownDatabase(db.to_string()))?;
    info.default_data_nodes
        .first()
        .or(info.data_nodes.first())
        .copied()
        .ok_or_else(|| PlanError::data_nodes(format!("database {db} has no data node")))
}

/// Plans CREATE, ALTER, DROP and SHOW CREATE SEQUENCE.
fn plan_object(
    (object, at): (Object, usize),
    code: &[Token],
    text: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(text, k));
    if code[..at].iter().any(|t| t.is_keyword(text, "TEMPORARY")) {
        return Err(PlanError::unsupported(
            "TEMPORARY sequences in a database over several data nodes",
        ));
    }
    let if_clause = (kw(at, "IF") && (kw(at + 1, "EXISTS") || kw(at + 2, "EXISTS")))
        .then_some(if kw(at + 1, "NOT") { 3 } else { 2 });
    let first_name = at + if_clause.unwrap_or(0);
    let bad_name = || PlanError::Parse(format!("expected a sequence name in '{text}'"));
    match object {
        Object::Drop => plan_drop(code, text, first_name, if_clause.is_some(), ctx, catalog),
        Object::Create => {
            let (schema, name, _) =
                strata_sql::sequences::name_at(code, text, first_name).ok_or_else(bad_name)?;
            let named = Named::resolve(schema, name, ctx, catalog)?;
            let replace = kw(1, "OR") && kw(2, "REPLACE");
            plan_create(named, replace, if_clause.is_some(), text, catalog)
        }
        Object::Alter | Object::ShowCreate => {
            let (schema, name, _) =
                strata_sql::sequences::name_at(code, text, first_name).ok_or_else(bad_name)?;
            let named = Named::resolve(schema, name, ctx, catalog)?;
            let reply = if object == Object::ShowCreate {
                named.not_a_view(catalog)?;
                Reply::Rows
            } else {
                Reply::Ok
            };
            Ok(Planned::of(Plan::route(
                named.node(catalog)?,
                text.to_string(),
                reply,
            )))
        }
    }
}

/// CREATE [OR REPLACE] SEQUENCE [IF NOT EXISTS]: on the first default node, or where
/// the name already is.
fn plan_create(
    named: Named,
    replace: bool,
    if_not_exists: bool,
    text: &str,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    if catalog.view(&named.db, &named.name).is_some() {
        return Err(PlanError::TableExists(named.name));
    }
    let dnid = match &named.info {
        None => first_default_node(&named.db, catalog)?,
        // MariaDB answers a note (IF NOT EXISTS) or replaces it where it is.
        Some(existing) if if_not_exists || replace => match existing.data_nodes[..] {
            [only] => only,
            _ if if_not_exists => {
                let route = fan_out(&existing.data_nodes, text.to_string(), WriteKind::DdlFanOut);
                return Ok(Planned::of(route));
            }
            _ => {
                return Err(PlanError::unsupported(format!(
                    "CREATE OR REPLACE SEQUENCE over table {} on several data nodes (DROP TABLE it first)",
                    named.name
                )))
            }
        },
        Some(_) => return Err(PlanError::TableExists(named.name)),
    };
    let mut planned = Planned::of(Plan::route(dnid, text.to_string(), Reply::Ok));
    if named.info.is_none() || replace {
        let mut table = TableInfo::new(Distribution::Vertical { dnid });
        table.sequence = true;
        planned.catalog_changes = vec![CatalogChange::CreateTable {
            db: named.db,
            name: named.name,
            table: Box::new(table),
        }];
    }
    Ok(planned)
}

/// DROP SEQUENCE [IF EXISTS] s, ...: each node drops the sequences it holds. Names that
/// are no sequence of the catalog go to the node that answers for them (a note with IF
/// EXISTS); without IF EXISTS one of several names that is no sequence is refused, since
/// MariaDB would drop the others and fail the statement.
fn plan_drop(
    code: &[Token],
    text: &str,
    mut i: usize,
    if_exists: bool,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let mut names = Vec::new();
    loop {
        let (schema, name, next) = strata_sql::sequences::name_at(code, text, i)
            .ok_or_else(|| PlanError::Parse(format!("expected a sequence name in '{text}'")))?;
        let written = code[i..next]
            .iter()
            .map(|t| t.text(text))
            .collect::<String>();
        names.push((Named::resolve(schema, name, ctx, catalog)?, written));
        if !code.get(next).is_some_and(|t| t.is_punct(text, ",")) {
            if next != code.len() {
                // RESTRICT / CASCADE are accepted and ignored by MariaDB.
                let rest_ok = code[next..]
                    .iter()
                    .all(|t| t.is_keyword(text, "RESTRICT") || t.is_keyword(text, "CASCADE"));
                if !rest_ok {
                    return Err(PlanError::Parse(format!("unexpected text in '{text}'")));
                }
            }
            break;
        }
        i = next + 1;
    }
    if names.len() == 1 {
        let (named, _) = &names[0];
        let mut planned = Planned::of(Plan::route(named.node(catalog)?, text, Reply::Ok));
        if named.is_sequence() {
            planned.catalog_changes = vec![drop_change(named)];
        }
        return Ok(planned);
    }
    if !if_exists {
        if let Some((named, _)) = names.iter().find(|(n, _)| !n.is_sequence()) {
            return Err(PlanError::unsupported(format!(
                "DROP SEQUENCE of several names when {}.{} is no sequence Strata knows (drop it alone)",
                named.db, named.name
            )));
        }
    }
    let mut per_node: Vec<(DataNodeId, Vec<&str>)> = Vec::new();
    let mut changes = Vec::new();
    for (named, written) in &names {
        let n = named.node(catalog)?;
        match per_node.iter_mut().find(|(d, _)| *d == n) {
            Some((_, list)) => list.push(written),
            None => per_node.push((n, vec![written])),
        }
        if named.is_sequence() {
            changes.push(drop_change(named));
        }
    }
    per_node.sort_by_key(|(d, _)| *d);
    let head = if if_exists {
        "DROP SEQUENCE IF EXISTS"
    } else {
        "DROP SEQUENCE"
    };
    let parts: Vec<NodeStatement> = per_node
        .into_iter()
        .map(|(dnid, list)| NodeStatement {
            dnid,
            sql: format!("{head} {}", list.join(", ")),
        })
        .collect();
    let plan = if parts.len() == 1 {
        Plan::route(parts[0].dnid, text, Reply::Ok)
    } else {
        Plan::Write(Write::new(WriteKind::DdlFanOut, parts))
    };
    let mut planned = Planned::of(plan);
    planned.catalog_changes = changes;
    Ok(planned)
}

fn drop_change(named: &Named) -> CatalogChange {
    CatalogChange::DropTable {
        db: named.db.clone(),
        name: named.name.clone(),
    }
}

/// True when a CREATE TABLE makes a sequence (`SEQUENCE=1` among its table options).
pub(crate) fn creates_sequence_table(sql: &str) -> bool {
    strata_sql::contains_ignore_ascii_case(sql.as_bytes(), b"sequence")
        && sequence_option(sql).is_some()
}

/// The bytes of a CREATE TABLE's `SEQUENCE=1` option (outside the column list).
fn sequence_option(sql: &str) -> Option<std::ops::Range<usize>> {
    let code = code_of(sql);
    let mut from = 0;
    loop {
        let i = outside_parens(&code, sql, from, |t| t.is_keyword(sql, "SEQUENCE"));
        let t = code.get(i)?;
        let value_at = if code.get(i + 1).is_some_and(|eq| eq.is_punct(sql, "=")) {
            i + 2
        } else {
            i + 1
        };
        if let Some(value) = code.get(value_at) {
            let v = value.text(sql);
            if v.eq_ignore_ascii_case("ON")
                || v.eq_ignore_ascii_case("YES")
                || v.parse::<u64>().is_ok_and(|n| n != 0)
            {
                return Some(t.span.start..value.span.end);
            }
        }
        from = i + 1;
    }
}

/// Plans `CREATE TABLE s (...) SEQUENCE=1` (which sqlparser cannot parse): the text
/// without the option is parsed, the whole text runs.
fn plan_sequence_table(
    text: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let Some(option) = sequence_option(text) else {
        return Ok(None);
    };
    let mut parsed = text.to_string();
    parsed.replace_range(option.clone(), &" ".repeat(option.len()));
    let sqlparser::ast::Statement::CreateTable(ct) = crate::source::parse_one(&parsed)? else {
        return Ok(None);
    };
    crate::ddl::plan_create(&ct, text.to_string(), None, ctx, catalog).map(Some)
}

#[cfg(test)]
mod tests;
