//! `INSERT [IGNORE] ... SELECT` and `REPLACE ... SELECT` whose target and source are not
//! on one common data node: the SELECT is planned like any query Strata answers (one
//! node, scatter/merge, join, or materialize), and the server writes its rows as the
//! VALUES rows of INSERT statements planned again one batch at a time, so the target's
//! distribution places them and AUTO_INCREMENT is handled as for INSERT ... VALUES
//! ([`ReadThenWrite`]). The source is read to its end before the first row is written,
//! as MySQL does when the target is among the source's tables.
//!
//! `ON DUPLICATE KEY UPDATE` goes with each batch: `VALUES(col)` there means the row's
//! value as in MySQL's INSERT ... SELECT. Other columns must name the target
//! (`t.col`): the SELECT's columns are not in the VALUES form, and an unqualified name
//! that both sides have is ambiguous in MySQL (1052). The storage connections count
//! affected rows as the client asked (see `strata_backend::RowCounting`), so the sums
//! are MySQL's.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, visit_expressions_mut, Assignment, Expr, Insert, ObjectName, OnInsert,
    Query, Value,
};

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
    let (after, upsert) = match &insert.on {
        None => (String::new(), false),
        Some(OnInsert::DuplicateKeyUpdate(assignments)) => {
            let target = table_name(insert)?;
            check_update_list(assignments, target, query, ctx, catalog)?;
            let list: Vec<String> = assignments.iter().map(ToString::to_string).collect();
            (format!("ON DUPLICATE KEY UPDATE {}", list.join(", ")), true)
        }
        Some(_) => {
            return Err(PlanError::unsupported(
                "INSERT ... SELECT across data nodes with ON CONFLICT",
            ))
        }
    };
    let counts = match (insert.replace_into, insert.ignore, upsert) {
        (true, _, _) => InsertCounts::Replace,
        (false, true, false) => InsertCounts::Ignore,
        (false, true, true) => {
            return Err(PlanError::unsupported(
                "INSERT IGNORE ... SELECT ... ON DUPLICATE KEY UPDATE across data nodes",
            ))
        }
        (false, false, true) => InsertCounts::Upsert,
        (false, false, false) => InsertCounts::Insert,
    };
    Ok(Plan::ReadThenWrite(ReadThenWrite {
        source: Box::new(source),
        before,
        after,
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
    Ok(())
}

/// Refuses an update list the VALUES form would read differently: a column outside
/// `VALUES()` not qualified by the target's name (it may be the SELECT's, or
/// ambiguous), a subquery, or a SELECT that names one of its tables as the target is
/// named (then `t.col` would be ambiguous too).
fn check_update_list(
    assignments: &[Assignment],
    target: &ObjectName,
    query: &Query,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<(), PlanError> {
    let refuse = |what: &str| {
        Err(PlanError::unsupported(format!(
            "INSERT ... SELECT ... ON DUPLICATE KEY UPDATE across data nodes with {what}"
        )))
    };
    let Some(name) = target.0.last().and_then(|p| p.as_ident()) else {
        return refuse("this target");
    };
    let resolver = crate::scope::Resolver::new(ctx, catalog);
    let scope = crate::scope::query_scope(query, &resolver)?;
    if scope
        .tables()
        .any(|t| t.table.qualifier.eq_ignore_ascii_case(&name.value))
    {
        return refuse("a SELECT reading a table named as the target");
    }
    for assignment in assignments {
        let mut value = assignment.value.clone();
        // The inserted row's values: what VALUES() means in both forms.
        let _ = visit_expressions_mut(&mut value, |e| {
            if matches!(e, Expr::Function(f) if crate::exprs::function_name(f) == "VALUES") {
                *e = Expr::Value(Value::Null.into());
            }
            ControlFlow::<()>::Continue(())
        });
        let foreign = visit_expressions(&value, |e| match e {
            Expr::CompoundIdentifier(parts)
                if parts.len() == 2 && parts[0].value.eq_ignore_ascii_case(&name.value) =>
            {
                ControlFlow::Continue(())
            }
            Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::Subquery(_)
            | Expr::Exists { .. }
            | Expr::InSubquery { .. } => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        });
        if foreign.is_break() {
            return refuse(&format!(
                "'{assignment}' (name the target's columns as {}.col, the row's as VALUES(col))",
                name.value
            ));
        }
    }
    Ok(())
}
