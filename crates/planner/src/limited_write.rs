//! `UPDATE`/`DELETE` of one table `... [ORDER BY ...] LIMIT n` whose rows are on
//! several data nodes: which n rows MySQL changes depends on all of them, so the compute
//! node picks them first — `SELECT <primary key> FROM t WHERE ... ORDER BY ... LIMIT n
//! FOR UPDATE`, planned like any SELECT (a merge sort over the nodes), which locks the
//! rows it returns — and the write then runs by key: `... WHERE (<where>) AND pk IN
//! (...)`, without ORDER BY and LIMIT, pruned to the nodes holding those keys
//! ([`ReadThenWrite`] with [`RowsAs::InList`]). A table without a recorded PRIMARY KEY
//! is refused: only its values name exactly one row each.

use sqlparser::ast::{BinaryOperator, Delete, Expr, Ident, Statement, TableFactor};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::plan::{Plan, ReadThenWrite, RowsAs};
use crate::scope::Resolver;
use crate::source::Source;
use crate::subquery_first::{single_table, MARKER};

/// Plans `stmt` with its rows picked first, or returns `refusal` (why the ordinary
/// plan failed) when that does not apply.
pub(crate) fn plan(
    src: &Source<'_>,
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
    refusal: PlanError,
) -> Result<Plan, PlanError> {
    if src.sql.contains(MARKER) || src.hint.is_some() {
        return Err(refusal);
    }
    let Some(TableFactor::Table { name, alias, .. }) = single_table(stmt) else {
        return Err(refusal);
    };
    let (limit, order_keys) = match stmt {
        Statement::Update { limit, .. } => (
            limit.clone(),
            src.masked
                .update_order_keys
                .clone()
                .and_then(|r| src.sql.get(r))
                .map(str::to_string),
        ),
        Statement::Delete(Delete {
            limit, order_by, ..
        }) => (
            limit.clone(),
            (!order_by.is_empty()).then(|| {
                order_by
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        ),
        _ => return Err(refusal),
    };
    let Some(limit) = limit else {
        // ORDER BY without LIMIT changes every matching row: only the order of the
        // changes differs, which no other node sees.
        return Err(refusal);
    };
    if order_keys.as_deref().is_some_and(|k| k.contains('?')) {
        return Err(refusal);
    }
    // The statement's parameters are bound in it: what is planned from it has none.
    let ctx = &PlanContext {
        params: None,
        ..*ctx
    };
    let resolver = Resolver::new(ctx, catalog);
    let table = resolver.table(&name, alias.as_ref().map(|a| a.name.value.as_str()))?;
    if limit.to_string() == "0" {
        // Changes nothing; any node of the table answers as MySQL does.
        if let Some(node) = table.placement.nodes().first() {
            return Ok(Plan::route(
                *node,
                src.forward_text(ctx.params),
                crate::plan::Reply::Ok,
            ));
        }
    }
    let key = table
        .info
        .unique_keys
        .as_ref()
        .and_then(|keys| keys.iter().find(|k| k.is_primary()))
        .map(|k| k.columns.clone())
        .filter(|columns| !columns.is_empty())
        .ok_or_else(|| {
            PlanError::unsupported(format!(
                "{} with ORDER BY or LIMIT across data nodes of a table without a recorded PRIMARY KEY",
                if matches!(stmt, Statement::Update { .. }) {
                    "UPDATE"
                } else {
                    "DELETE"
                }
            ))
        })?;
    let quoted: Vec<String> = key
        .iter()
        .map(|c| Ident::with_quote('`', c.as_str()).to_string())
        .collect();

    let mut template = stmt.clone();
    let selection = match &mut template {
        Statement::Update {
            selection, limit, ..
        } => {
            *limit = None;
            selection
        }
        Statement::Delete(d) => {
            d.limit = None;
            d.order_by.clear();
            &mut d.selection
        }
        _ => return Err(refusal),
    };
    let original = selection.take();
    let marker = Expr::Identifier(Ident::new(MARKER));
    *selection = Some(match &original {
        Some(w) => Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(w.clone()))),
            op: BinaryOperator::And,
            right: Box::new(marker),
        },
        None => marker,
    });
    let text = template.to_string();
    let (before, after) = text
        .split_once(MARKER)
        .ok_or_else(|| PlanError::unsupported("this UPDATE or DELETE with LIMIT"))?;
    let expr = match quoted.as_slice() {
        [one] => one.clone(),
        several => format!("({})", several.join(", ")),
    };
    // The write must plan once the keys are in (NULL stands for them here).
    let probe = format!("{before}({expr} IN (NULL)){after}");
    crate::plan_statement(&probe, ctx, catalog)?;

    let mut select = format!(
        "SELECT {} FROM {}",
        quoted.join(", "),
        match &alias {
            Some(a) => format!("{name} AS {}", a.name),
            None => name.to_string(),
        }
    );
    if let Some(w) = &original {
        select.push_str(&format!(" WHERE {w}"));
    }
    if let Some(keys) = &order_keys {
        select.push_str(&format!(" ORDER BY {keys}"));
    }
    select.push_str(&format!(" LIMIT {limit} FOR UPDATE"));
    let select_src = Source::new(&select)?;
    let mut parsed = select_src.parse()?;
    select_src.bind(&mut parsed, None)?;
    let Statement::Query(query) = parsed else {
        return Err(PlanError::unsupported("this UPDATE or DELETE with LIMIT"));
    };
    let source = crate::select::plan_query(&select_src, *query, ctx, catalog)?;
    Ok(Plan::ReadThenWrite(ReadThenWrite {
        source: Box::new(source),
        before: before.to_string(),
        after: after.to_string(),
        rows: RowsAs::InList {
            expr,
            negated: false,
        },
    }))
}
