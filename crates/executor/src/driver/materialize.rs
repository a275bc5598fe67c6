//! Running a [`Materialize`] plan: on the scratch connection to the target node (the
//! driver's last position), each table that is not complete there becomes a TEMPORARY
//! table of the same name — its definition from the first source's `SHOW CREATE TABLE`
//! and `SHOW FULL COLUMNS`, its rows streamed from every source into INSERT batches
//! (one batch in memory at a time) — then the statement runs there and its result
//! streams to the sink unchanged, then the temporary tables are dropped. Inside a
//! transaction every table is copied, through the transaction's own connections.
//!
//! Any failure discards the scratch connection (closing it drops whatever temporary
//! table it holds), so nothing is left behind and nothing half-built is pooled; a
//! source whose rows were not all read is drained.

use strata_planner::{Materialize, TableCopy};
use strata_protocol::packets::decode_text_row;
use strata_protocol::{codes, MysqlError};

use super::{no_result_set, NodeIo, NodeReply, QueryOutcome, RowSink};
use crate::error::MergeError;
use crate::materialize::{
    copy_columns, read_statement, temporary_table, CopyColumn, InsertBatch, COLUMNS_READ_MODE,
    DEFINITION_READ_MODE,
};

/// The run-time settings of a materialize plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterializeOptions {
    /// The statement runs inside a transaction: every table is copied.
    pub in_transaction: bool,
    /// Rows the copies may hold in all (`limits.materialize_max_rows`).
    pub max_rows: u64,
    /// The session's connection character set when it is not utf8mb4, as the `SET`
    /// that restores it (`SET NAMES latin1`): the scratch connection speaks utf8mb4
    /// while it creates and fills the copies, then the session's again for the
    /// statement.
    pub session_names: Option<String>,
}

/// Runs `plan` on `io`: positions `0..n` are `plan.sources(in_transaction)`, position
/// `n` the scratch connection to `plan.dnid`. `io.discard(n)` is called when the
/// scratch connection must not be reused.
pub async fn run_materialize<I: NodeIo, S: RowSink>(
    io: &mut I,
    plan: &Materialize,
    options: MaterializeOptions,
    sink: &mut S,
) -> Result<QueryOutcome, S::Error> {
    let sources = plan.sources(options.in_transaction);
    let scratch = sources.len();
    let mut created: Vec<String> = Vec::new();
    let mut copied = 0u64;
    let switch_names =
        options.session_names.is_some() && plan.copies_run(options.in_transaction).next().is_some();
    if switch_names {
        if let Err(e) = execute(io, scratch, "SET NAMES utf8mb4").await {
            io.discard(scratch);
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    }
    for copy in plan.copies_run(options.in_transaction) {
        let at: Vec<usize> = copy
            .sources
            .iter()
            .filter_map(|d| sources.iter().position(|s| s == d))
            .collect();
        let result = copy_table(
            io,
            copy,
            &at,
            scratch,
            &mut created,
            &mut copied,
            options.max_rows,
            plan,
        )
        .await;
        if let Err(e) = result {
            io.discard(scratch);
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    }
    if let (true, Some(names)) = (switch_names, &options.session_names) {
        if let Err(e) = execute(io, scratch, names).await {
            io.discard(scratch);
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    }
    if let Err(e) = io.send(scratch, &[&plan.sql]).await {
        io.discard(scratch);
        return Ok(QueryOutcome::FailedBeforeColumns(e));
    }
    let columns = match io.read_reply(scratch).await {
        Ok(NodeReply::Rows(columns)) if !plan.creates_table => columns,
        Ok(NodeReply::Ok(ok)) if plan.creates_table => {
            if drop_tables(io, scratch, &created).await.is_err() {
                io.discard(scratch);
            }
            return Ok(QueryOutcome::Wrote(ok));
        }
        Ok(_) => {
            io.discard(scratch);
            return Ok(QueryOutcome::FailedBeforeColumns(no_result_set()));
        }
        Err(e) => {
            io.discard(scratch);
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    };
    if let Err(e) = sink.columns(&columns).await {
        io.discard(scratch);
        return Err(e);
    }
    let outcome: Result<(), Result<MysqlError, S::Error>> = loop {
        match io.next_row(scratch).await {
            Ok(Some(row)) => {
                if let Err(e) = sink.row(row).await {
                    break Err(e);
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(Ok(e)),
        }
    };
    match outcome {
        Ok(()) => {
            if drop_tables(io, scratch, &created).await.is_err() {
                io.discard(scratch);
            }
            Ok(QueryOutcome::Done { warnings: 0 })
        }
        Err(Ok(e)) => {
            io.discard(scratch);
            Ok(QueryOutcome::FailedAfterColumns(e))
        }
        Err(Err(fatal)) => {
            io.discard(scratch);
            Err(fatal)
        }
    }
}

/// Creates `copy`'s temporary table on `scratch` and fills it from the positions `at`.
#[allow(clippy::too_many_arguments)]
async fn copy_table<I: NodeIo>(
    io: &mut I,
    copy: &TableCopy,
    at: &[usize],
    scratch: usize,
    created: &mut Vec<String>,
    copied: &mut u64,
    max_rows: u64,
    plan: &Materialize,
) -> Result<(), MysqlError> {
    let Some(&first) = at.first() else {
        return Err(MysqlError::new(
            codes::UNKNOWN,
            format!("no data node to copy {}.{} from", copy.db, copy.table),
        ));
    };
    let qualified = copy.qualified();
    let create = small_result(
        io,
        first,
        &format!("{DEFINITION_READ_MODE}{}", copy.show_create),
    )
    .await?;
    let create = create
        .first()
        .and_then(|row| row.get(1).cloned().flatten())
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .ok_or_else(|| {
            MysqlError::new(
                codes::UNKNOWN,
                format!("SHOW CREATE TABLE {qualified} returned no definition"),
            )
        })?;
    let columns = small_result(
        io,
        first,
        &format!("{COLUMNS_READ_MODE}{}", copy.show_columns),
    )
    .await?;
    let columns = copy_columns(&copy.table, &columns).map_err(|e| e.to_mysql_error())?;
    let ddl = temporary_table(&create, &copy.table, &qualified).map_err(|e| e.to_mysql_error())?;
    execute(io, scratch, &ddl).await?;
    created.push(qualified.clone());
    let mut read = read_statement(&qualified, &columns);
    if let Some(lock) = &plan.lock {
        read.push_str(lock);
    }
    let mut batch = InsertBatch::new(&qualified, &columns);
    for &source in at {
        io.send(source, &[&read]).await?;
        match io.read_reply(source).await? {
            NodeReply::Rows(_) => {}
            NodeReply::Ok(_) => return Err(no_result_set()),
        }
        let filled = fill(
            io, source, scratch, &columns, &mut batch, copied, max_rows, plan,
        )
        .await;
        if let Err(e) = filled {
            io.drain(source).await;
            return Err(e);
        }
    }
    if let Some(sql) = batch.take() {
        execute(io, scratch, &sql).await?;
    }
    Ok(())
}

/// Streams the open result of `source` into `batch`, sending full batches to
/// `scratch`; stops at the result's end.
#[allow(clippy::too_many_arguments)]
async fn fill<I: NodeIo>(
    io: &mut I,
    source: usize,
    scratch: usize,
    columns: &[CopyColumn],
    batch: &mut InsertBatch,
    copied: &mut u64,
    max_rows: u64,
    plan: &Materialize,
) -> Result<(), MysqlError> {
    let width = columns.len().max(1);
    while let Some(row) = io.next_row(source).await? {
        *copied += 1;
        if *copied > max_rows {
            return Err(MergeError::MaterializeRowLimit {
                limit: max_rows,
                node: plan.dnid.get(),
            }
            .to_mysql_error());
        }
        let values = decode_text_row(&row, width).map_err(|e| {
            MergeError::MalformedRow {
                node: source,
                detail: e.to_string(),
            }
            .to_mysql_error()
        })?;
        batch
            .push(columns, &values)
            .map_err(|e| e.to_mysql_error())?;
        if batch.is_full() {
            if let Some(sql) = batch.take() {
                execute(io, scratch, &sql).await?;
            }
        }
    }
    Ok(())
}

/// Runs a statement that answers OK on `node`.
async fn execute<I: NodeIo>(io: &mut I, node: usize, sql: &str) -> Result<(), MysqlError> {
    io.send(node, &[sql]).await?;
    match io.read_reply(node).await? {
        NodeReply::Ok(_) => Ok(()),
        NodeReply::Rows(_) => {
            io.drain(node).await;
            Err(MysqlError::new(
                codes::UNKNOWN,
                "a data node returned a result set for a write",
            ))
        }
    }
}

/// Runs `sql` on `node` and reads its (small) result whole.
async fn small_result<I: NodeIo>(
    io: &mut I,
    node: usize,
    sql: &str,
) -> Result<Vec<Vec<Option<Vec<u8>>>>, MysqlError> {
    io.send(node, &[sql]).await?;
    let width = match io.read_reply(node).await? {
        NodeReply::Rows(columns) => columns.len(),
        NodeReply::Ok(_) => {
            return Err(MysqlError::new(
                codes::UNKNOWN,
                format!("a data node returned no result set for {sql}"),
            ))
        }
    };
    let mut rows = Vec::new();
    while let Some(row) = io.next_row(node).await? {
        match decode_text_row(&row, width) {
            Ok(values) => rows.push(values.into_iter().map(|v| v.map(<[u8]>::to_vec)).collect()),
            Err(e) => {
                io.drain(node).await;
                return Err(MergeError::MalformedRow {
                    node,
                    detail: e.to_string(),
                }
                .to_mysql_error());
            }
        }
    }
    Ok(rows)
}

/// Drops the temporary tables `created` on `scratch`.
async fn drop_tables<I: NodeIo>(
    io: &mut I,
    scratch: usize,
    created: &[String],
) -> Result<(), MysqlError> {
    if created.is_empty() {
        return Ok(());
    }
    execute(
        io,
        scratch,
        &format!("DROP TEMPORARY TABLE IF EXISTS {}", created.join(", ")),
    )
    .await
}

#[cfg(test)]
mod tests;
