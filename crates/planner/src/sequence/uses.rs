//! Statements that take a sequence's values (`NEXTVAL(s)`, `NEXT VALUE FOR s`,
//! `LASTVAL(s)`, `PREVIOUS VALUE FOR s`, `SETVAL(s, ...)`) in a database over several
//! data nodes. MariaDB evaluates them where the statement runs, per row, in text order;
//! the sequence exists on its own node only. So a statement whose tables are all on that
//! node runs there whole (the session's connection keeps LASTVAL per session); an
//! INSERT or REPLACE that names them only in its VALUES rows or SET list takes the
//! values first, in text order, with one `SELECT` on the sequence's node, and is then
//! planned with the values as literals ([`SequenceDraw`]); anything else would take
//! values on nodes that have no such sequence, or once for all rows, and is refused.

use std::ops::Range;

use strata_catalog::DataNodeId;
use strata_sql::{SequenceUse, Token};

use super::{code_of, Named};
use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::plan::Plan;
use crate::source::Source;
use crate::Planned;

/// The values an INSERT takes from its sequences before it is planned: the server runs
/// [`SequenceDraw::query`] on its connection to [`SequenceDraw::dnid`] and plans
/// [`SequenceDraw::statement`] of the one row it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceDraw {
    /// The sequences' data node.
    pub dnid: DataNodeId,
    /// `SELECT NEXTVAL(s), ...`: one column per use, in the statement's text order,
    /// which is the order MariaDB evaluates them in (row by row, left to right).
    pub query: String,
    text: String,
    spans: Vec<Range<usize>>,
}

impl SequenceDraw {
    /// The statement with each use replaced by its value (NULL for a NULL).
    pub fn statement(&self, values: &[Option<String>]) -> Result<String, PlanError> {
        if values.len() != self.spans.len() {
            return Err(PlanError::data_nodes(format!(
                "the sequence's data node returned {} values for {} uses",
                values.len(),
                self.spans.len()
            )));
        }
        let mut pieces = Vec::with_capacity(values.len());
        for v in values {
            pieces.push(match v {
                None => "NULL".to_string(),
                Some(v) if v.parse::<i64>().is_ok() => v.clone(),
                Some(v) => {
                    return Err(PlanError::data_nodes(format!(
                        "the sequence's data node returned '{v}', not an integer"
                    )))
                }
            });
        }
        Ok(splice(&self.text, &self.spans, &pieces))
    }
}

/// `text` with each span replaced by its piece.
fn splice(text: &str, spans: &[Range<usize>], pieces: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (span, piece) in spans.iter().zip(pieces) {
        out.push_str(&text[at..span.start]);
        out.push_str(piece);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The draw an INSERT into tables off its sequence's node needs before it is planned;
/// None for every other statement.
pub fn sequence_draw(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<SequenceDraw>, PlanError> {
    if !strata_sql::may_use_sequences(sql) {
        return Ok(None);
    }
    let src = Source::new(sql)?;
    if src.hint.is_some() {
        return Ok(None);
    }
    let text = src.forward_text(ctx.params);
    let refs = strata_sql::sequence_uses(&text);
    if refs.is_empty() {
        return Ok(None);
    }
    Ok(match decide(&text, &refs, ctx, catalog)? {
        Decision::Draw(draw) => Some(draw),
        Decision::Route(_) | Decision::Elsewhere => None,
    })
}

/// Plans a statement that takes sequence values; None when it takes none.
pub(super) fn plan(
    text: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let refs = strata_sql::sequence_uses(text);
    if refs.is_empty() {
        return Ok(None);
    }
    match decide(text, &refs, ctx, catalog)? {
        Decision::Route(plan) => Ok(Some(Planned::of(plan))),
        Decision::Elsewhere => Ok(None),
        // The server takes the values before planning; a prepared statement's
        // execution and EXPLAIN do not.
        Decision::Draw(_) => Err(PlanError::unsupported(
            "sequence values in a prepared INSERT, or its EXPLAIN, whose rows go to other data nodes than the sequence's",
        )),
    }
}

/// How a statement that takes sequence values runs.
enum Decision {
    /// Whole on the sequence's node.
    Route(Plan),
    /// With values taken first.
    Draw(SequenceDraw),
    /// As any statement: it defines a view or routine that names a sequence, whose
    /// statements are planned when they run.
    Elsewhere,
}

fn decide(
    text: &str,
    refs: &[SequenceUse],
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Decision, PlanError> {
    let mut node = None;
    let mut unknown = None;
    for r in refs {
        let named = Named::resolve(r.schema.clone(), r.name.clone(), ctx, catalog)?;
        named.not_a_view(catalog)?;
        let n = named.node(catalog)?;
        if named.info.is_none() {
            unknown.get_or_insert((named.db, named.name));
        }
        match node {
            Some(m) if m != n => {
                return Err(PlanError::unsupported(
                    "sequences on different data nodes in one statement",
                ))
            }
            _ => node = Some(n),
        }
    }
    let Some(dnid) = node else {
        return Err(PlanError::Parse("no sequence in the statement".into()));
    };
    let spans: Vec<Range<usize>> = refs.iter().map(|r| r.span.clone()).collect();
    let nulls = vec!["NULL".to_string(); spans.len()];
    let without = splice(text, &spans, &nulls);
    let kind = strata_sql::classify(&without);
    let code = code_of(&without);
    let table_ddl = matches!(
        kind,
        strata_sql::StatementKind::Create | strata_sql::StatementKind::Alter
    ) && code
        .iter()
        .take_while(|t| !t.is_punct(&without, "("))
        .any(|t| t.is_keyword(&without, "TABLE"));
    if table_ddl {
        return Err(PlanError::unsupported(
            "a sequence in a table definition (DEFAULT NEXTVAL()) in a database over several data nodes",
        ));
    }
    if matches!(
        kind,
        strata_sql::StatementKind::Create | strata_sql::StatementKind::Alter
    ) {
        return Ok(Decision::Elsewhere);
    }
    let tables = strata_sql::table_references(&without, kind);
    let mut on_node = !tables.unknown;
    for t in &tables.refs {
        let db = match &t.schema {
            Some(db) => db.as_str(),
            None => ctx.db.ok_or(PlanError::NoDatabase)?,
        };
        match catalog.table(db, &t.name) {
            Some(info) => on_node &= info.data_nodes == [dnid],
            None if catalog.view(db, &t.name).is_some() => on_node = false,
            // MariaDB's SEQUENCE engine tables (`seq_1_to_10`) are on every node.
            None if crate::sequence_engine::is_sequence_engine_table(&t.name) => {}
            // Taking values for a statement that then fails to find its table would
            // consume them where MariaDB does not.
            None => {
                return Err(PlanError::UnknownTable {
                    db: db.to_string(),
                    table: t.name.clone(),
                })
            }
        }
    }
    if on_node {
        let returning = code_of(text)
            .iter()
            .any(|t| t.is_keyword(text, "RETURNING"));
        let reply = if returning {
            crate::plan::Reply::Rows
        } else {
            crate::reply_of(text)
        };
        return Ok(Decision::Route(Plan::route(dnid, text.to_string(), reply)));
    }
    if in_rows_only(text, refs) {
        // MariaDB opens an INSERT's sequences with its tables: an unknown one is 1146.
        if let Some((db, table)) = unknown {
            return Err(PlanError::UnknownTable { db, table });
        }
        return Ok(Decision::Draw(SequenceDraw {
            dnid,
            query: format!(
                "SELECT {}",
                refs.iter()
                    .map(|r| &text[r.span.clone()])
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            text: text.to_string(),
            spans,
        }));
    }
    Err(PlanError::unsupported(format!(
        "sequence values in this statement: its rows are not all on the sequence's data node {dnid} (only the VALUES or SET of an INSERT or REPLACE can take them)"
    )))
}

/// True for an INSERT or REPLACE without a SELECT whose sequence uses all stand in its
/// VALUES rows or SET list (not in ON DUPLICATE KEY UPDATE or RETURNING).
fn in_rows_only(text: &str, refs: &[SequenceUse]) -> bool {
    let code = code_of(text);
    let kw = |t: &Token, k: &str| t.is_keyword(text, k);
    if !code
        .first()
        .is_some_and(|t| kw(t, "INSERT") || kw(t, "REPLACE"))
        || code.iter().any(|t| kw(t, "SELECT"))
    {
        return false;
    }
    let mut depth = 0i32;
    let mut rows_from = None;
    let mut rows_to = text.len();
    for t in &code {
        if t.is_punct(text, "(") {
            depth += 1;
        } else if t.is_punct(text, ")") {
            depth -= 1;
        } else if depth == 0 {
            if rows_from.is_none() && (kw(t, "VALUES") || kw(t, "VALUE") || kw(t, "SET")) {
                rows_from = Some(t.span.end);
            } else if rows_from.is_some() && (kw(t, "ON") || kw(t, "RETURNING")) {
                rows_to = t.span.start;
                break;
            }
        }
    }
    rows_from.is_some_and(|from| {
        refs.iter()
            .all(|r| r.span.start >= from && r.span.end <= rows_to)
    })
}
