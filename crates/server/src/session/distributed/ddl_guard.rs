//! Keeping a table's data nodes alike through ALTER TABLE and CREATE INDEX over
//! several nodes (the plan's `DdlGuard`). Before any node changes, the PRIMARY KEY and
//! UNIQUE keys the statement adds are checked for duplicates on every node (MySQL's
//! 1062 refuses the statement). When the statement still fails on some nodes after
//! succeeding on others, it is undone where it succeeded: the definition before is read
//! from a node where it failed (MariaDB's ALTER is atomic on one server), the undo is
//! planned by `strata_planner::undo_alter`, and each undone node is read again to
//! prove it matches. What cannot be undone is reported, never guessed.

use strata_backend::pool::Lease;
use strata_backend::TextRows;
use strata_catalog::DataNodeId;
use strata_planner::{auto_key_name, normalized_definition, undo_alter, DdlGuard, DdlUndo};
use strata_protocol::{codes, MysqlError};

use crate::context::ServerContext;

use super::{failed, rewrite_schemas};

/// Runs `sql` on `lease` (logical database names made physical) and collects its rows.
async fn query_on(
    ctx: &ServerContext,
    lease: &mut Lease,
    sql: &str,
) -> Result<TextRows, MysqlError> {
    let dnid = lease.target().dnid;
    let text = if ctx.topology.names_differ {
        rewrite_schemas(&ctx.topology, sql, Some(dnid))
    } else {
        sql.to_string()
    };
    lease.query(&text).await.map_err(|e| failed(lease, &e))
}

/// Refuses the statement with MySQL's 1062 when a node holds rows that a key it adds
/// would find duplicated (the keys contain the sharding column, so a duplicate is
/// always within one node).
pub(super) async fn check_unique_keys(
    ctx: &ServerContext,
    guard: &DdlGuard,
    leases: &mut [Lease],
) -> Result<(), MysqlError> {
    for check in &guard.unique_checks {
        for lease in leases.iter_mut() {
            let rows = query_on(ctx, lease, &check.sql).await?;
            if let Some(value) = rows.first().and_then(|r| r.first()).cloned().flatten() {
                let mut message = check.message(&value);
                if check.unnamed {
                    let name =
                        key_name_given(ctx, lease, &guard.table, &check.key, &check.taken).await?;
                    message = format!("Duplicate entry '{value}' for key '{name}'");
                }
                return Err(MysqlError::new(codes::DUP_ENTRY, message));
            }
        }
    }
    Ok(())
}

/// The name MariaDB gives a key left unnamed whose first column is `column`, from the
/// table's columns and keys on `lease` and the names the statement gives before it.
async fn key_name_given(
    ctx: &ServerContext,
    lease: &mut Lease,
    table: &str,
    column: &str,
    taken: &[String],
) -> Result<String, MysqlError> {
    let columns = query_on(ctx, lease, &format!("SHOW COLUMNS FROM {table}")).await?;
    let spelled = columns
        .iter()
        .filter_map(|r| r.first().cloned().flatten())
        .find(|c| c.eq_ignore_ascii_case(column))
        .unwrap_or_else(|| column.to_string());
    let keys: Vec<String> = query_on(ctx, lease, &format!("SHOW INDEX FROM {table}"))
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().nth(2).flatten())
        .chain(taken.iter().cloned())
        .collect();
    Ok(auto_key_name(&spelled, &keys))
}

/// The table's `SHOW CREATE TABLE` text on `lease`.
async fn definition(ctx: &ServerContext, lease: &mut Lease, table: &str) -> Result<String, String> {
    // In the form the undo reads, whatever the client's sql_mode.
    let sql =
        format!("SET STATEMENT sql_mode='', sql_quote_show_create=1 FOR SHOW CREATE TABLE {table}");
    let rows = query_on(ctx, lease, &sql).await.map_err(|e| e.message)?;
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().nth(1).flatten())
        .ok_or_else(|| "SHOW CREATE TABLE returned no definition".to_string())
}

/// Undoes a statement that succeeded on plan positions `succeeded` and failed on
/// `failed_nodes`: each succeeded node is brought back to the definition of the first
/// failed node and read again to prove it. The error says why it could not be done.
pub(super) async fn undo_partial(
    ctx: &ServerContext,
    guard: &DdlGuard,
    leases: &mut [Lease],
    failed_nodes: &[usize],
    succeeded: &[usize],
) -> Result<(), String> {
    match guard.undo {
        DdlUndo::Never(reason) => return Err(reason.into()),
        DdlUndo::DropCreated => return drop_created(ctx, guard, leases, succeeded).await,
        DdlUndo::Definition => {}
    }
    let mut before = None;
    for &node in failed_nodes {
        let lease = leases.get_mut(node).ok_or("no connection")?;
        if lease.is_broken() {
            // The node may have applied it before the connection broke.
            return Err(format!(
                "the connection to data node {} was lost",
                lease.target().dnid
            ));
        }
        if before.is_none() {
            before = Some(definition(ctx, lease, &guard.table).await?);
        }
    }
    let before = before.ok_or("no node failed")?;
    for &node in succeeded {
        let lease = leases.get_mut(node).ok_or("no connection")?;
        let dnid = lease.target().dnid;
        let after = definition(ctx, lease, &guard.table).await?;
        let Some(undo) = undo_alter(&guard.table, &before, &after)? else {
            continue;
        };
        query_on(ctx, lease, &undo)
            .await
            .map_err(|e| format!("{undo} failed on data node {dnid}: {}", e.message))?;
        let now = definition(ctx, lease, &guard.table).await?;
        if normalized_definition(&now) != normalized_definition(&before) {
            return Err(format!("data node {dnid} still differs after {undo}"));
        }
        tracing::info!(%dnid, %undo, "a DDL statement that failed on another data node was undone");
    }
    Ok(())
}

/// Drops the table a CREATE TABLE created on plan positions `succeeded`.
async fn drop_created(
    ctx: &ServerContext,
    guard: &DdlGuard,
    leases: &mut [Lease],
    succeeded: &[usize],
) -> Result<(), String> {
    for &node in succeeded {
        let lease = leases.get_mut(node).ok_or("no connection")?;
        let dnid = lease.target().dnid;
        let drop = format!("DROP TABLE {}", guard.table);
        query_on(ctx, lease, &drop)
            .await
            .map_err(|e| format!("{drop} failed on data node {dnid}: {}", e.message))?;
    }
    Ok(())
}

/// The error of a write that failed on data node `dnid` (`first`), and the job's
/// report of it. A DDL statement applied on `applied` and undone there (`undone` Ok)
/// answers with the failing node's error as MariaDB gives it; one that was applied on
/// some nodes and not undone says where it was applied, and why not undone.
pub(super) fn partial_failure(
    first: &MysqlError,
    dnid: DataNodeId,
    applied: &[String],
    failed_on: &[String],
    atomic: bool,
    undone: Option<Result<(), String>>,
) -> (MysqlError, String) {
    let applied = applied.join(",");
    let failed_on = failed_on.join(",");
    let message = match undone {
        Some(Ok(())) => {
            let report = format!(
                "{} (data node {dnid}); undone on data node(s) {applied}",
                first.message
            );
            return (first.clone(), report);
        }
        Some(Err(reason)) => format!(
            "{} (data node {dnid}); the statement was applied on data node(s) {applied} and \
             failed on {failed_on}, and could not be undone: {reason}",
            first.message
        ),
        None if applied.is_empty() || atomic => format!("{} (data node {dnid})", first.message),
        None => format!(
            "{} (data node {dnid}); the statement was applied on data node(s) {applied} and \
             failed on {failed_on}",
            first.message
        ),
    };
    let error = MysqlError {
        message: message.clone(),
        ..first.clone()
    };
    (error, message)
}
