//! `INSERT [IGNORE] ... SELECT` and `REPLACE ... SELECT` whose target and source are not
//! on one common data node: the SELECT is planned like any query Strata answers (one
//! node, scatter/merge, join, or materialize), and the server writes its rows as the
//! VALUES rows of INSERT statements planned again one batch at a time, so the target's
//! distribution places them and AUTO_INCREMENT is handled as for INSERT ... VALUES
//! ([`ReadThenWrite`]). The source is read to its end before the first row is written,
//! as MySQL does when the target is among the source's tables.
//!
//! `ON DUPLICATE KEY UPDATE` is refused: the storage connections count found rows
//! (CLIENT_FOUND_ROWS), so the affected rows and duplicates of rows updated to their
//! own values could not be reported as MySQL reports them.

use sqlparser::ast::{Insert, ObjectName, Query};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::plan::{InsertCounts, Plan, ReadThenWrite, RowsAs, INSERT_BATCH_ROWS};
use crate::source::Source;

/// Plans an INSERT ... SELECT whose target and source are not on one common node.
pub(crate) fn plan(
    insert: &Insert,
    query: &Query,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    refuse_extras(insert)?;

    // The SELECT as a statement of its own (parameters are already bound in it).
    let ctx = &PlanContext {
        params: None,
        ..*ctx
    };
    let select_sql = query.to_string();
    let select_src = Source::new(&select_sql)?;
    let source = crate::select::plan_query(&select_src, query.clone(), ctx, catalog)?;

    let mut before = String::from(if insert.replace_into {
        "REPLACE"
    } else {
        "INSERT"
    });
    if insert.ignore {
        before.push_str(" IGNORE");
    }
    before.push_str(&format!(" INTO {}", table_name(insert)?));
    if !insert.columns.is_empty() {
        let columns: Vec<String> = insert.columns.iter().map(ToString::to_string).collect();
        before.push_str(&format!(" ({})", columns.join(", ")));
    }
    before.push_str(" VALUES ");
    let counts = match (insert.replace_into, insert.ignore) {
        (true, _) => InsertCounts::Replace,
        (false, true) => InsertCounts::Ignore,
        _ => InsertCounts::Insert,
    };
    Ok(Plan::ReadThenWrite(ReadThenWrite {
        source: Box::new(source),
        before,
        after: String::new(),
        rows: RowsAs::Values {
            batch_rows: INSERT_BATCH_ROWS,
            counts,
        },
    }))
}

/// The target as the statement names it.
fn table_name(insert: &Insert) -> Result<&ObjectName, PlanError> {
    match &insert.table {
        sqlparser::ast::TableObject::TableName(name) => Ok(name),
        _ => Err(PlanError::unsupported("INSERT into a table function")),
    }
}

/// Clauses the VALUES form would lose, refused rather than dropped.
fn refuse_extras(insert: &Insert) -> Result<(), PlanError> {
    let refuse = |what: &str| {
        Err(PlanError::unsupported(format!(
            "INSERT ... SELECT across data nodes with {what}"
        )))
    };
    if insert.priority.is_some() {
        return refuse("LOW_PRIORITY, DELAYED or HIGH_PRIORITY");
    }
    if insert.partitioned.is_some() || !insert.after_columns.is_empty() {
        return refuse("a PARTITION clause");
    }
    if insert.returning.is_some() {
        return refuse("RETURNING");
    }
    if insert.table_alias.is_some() || insert.insert_alias.is_some() {
        return refuse("an alias");
    }
    if insert.on.is_some() {
        return refuse("ON DUPLICATE KEY UPDATE");
    }
    Ok(())
}
