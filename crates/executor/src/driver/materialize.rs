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
//! source whose rows were not all read is drained. A plan over the session's temporary
//! tables (`on_session`) runs on the session's own connection instead, which holds
//! them: its copies are dropped and its character set restored after a failure too,
//! and it is discarded only when that fails.

use strata_planner::plan::quote_ident;
use strata_planner::{Materialize, TableCopy};
use strata_protocol::packets::decode_text_row;
use strata_protocol::{codes, MysqlError};

use super::{no_result_set, NodeIo, NodeReply, QueryOutcome, RowSink};
use crate::error::MergeError;
use crate::materialize::{
    copy_columns, read_statement, temporary_table, CopyColumn, InsertBatch, COLUMNS_READ_MODE,
    DEFINITION_READ_MODE, WRITE_MODE,
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
/// `n` the connection to `plan.dnid` that runs the statement. `io.discard(n)` is called
/// when that connection must not be reused: a scratch connection after any failure; the
/// session's own connection (`plan.on_session`) only when its copies could not be
/// dropped (it is cleaned up instead, as it holds the client's temporary tables).
pub async fn run_materialize<I: NodeIo, S: RowSink>(
    io: &mut I,
    plan: &Materialize,
    options: MaterializeOptions,
    sink: &mut S,
) -> Result<QueryOutcome, S::Error> {
    let sources = plan.sources(options.in_transaction);
    let scratch = sources.len();
    let mut run = Run {
        scratch,
        created: Vec::new(),
        names: None,
        on_session: plan.on_session,
    };
    let mut copied = 0u64;
    let switch_names =
        options.session_names.is_some() && plan.copies_run(options.in_transaction).next().is_some();
    if switch_names {
        if let Err(e) = execute(io, scratch, "SET NAMES utf8mb4").await {
            run.abandon(io).await;
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
        run.names = options.session_names.clone();
    }
    for copy in plan.copies_run(options.in_transaction) {
        let at: Vec<usize> = copy
            .sources
            .iter()
            .filter_map(|d| sources.iter().position(|s| s == d))
            .collect();
        let limit = (&mut copied, options.max_rows);
        let result = copy_table(io, copy, &at, &mut run, limit, plan).await;
        if let Err(e) = result {
            run.abandon(io).await;
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    }
    if let Some(names) = run.names.clone() {
        if let Err(e) = execute(io, scratch, &names).await {
            run.abandon(io).await;
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
        run.names = None;
    }
    if let Err(e) = io.send(scratch, &[&plan.sql]).await {
        run.abandon(io).await;
        return Ok(QueryOutcome::FailedBeforeColumns(e));
    }
    let columns = match io.read_reply(scratch).await {
        Ok(NodeReply::Rows(columns)) if !plan.creates_table => columns,
        Ok(NodeReply::Ok(ok)) if plan.creates_table => {
            run.finish(io).await;
            return Ok(QueryOutcome::Wrote(ok));
        }
        Ok(reply) => {
            if matches!(reply, NodeReply::Rows(_)) {
                io.drain(scratch).await;
            }
            run.abandon(io).await;
            return Ok(QueryOutcome::FailedBeforeColumns(no_result_set()));
        }
        Err(e) => {
            run.abandon(io).await;
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    };
    if let Err(e) = sink.columns(&columns).await {
        // The client is gone; the connection's result was not read.
        io.discard(scratch);
        return Err(e);
    }
    let outcome: Result<(), Result<MysqlError, S::Error>> = loop {
        match io.next_row(scratch).await {
            Ok(Some(row)) => {
                if let Err(e) = sink.row(row).await {
                    if e.is_ok() {
                        // The sink refused a row: the rest of the result is read
                        // before the connection is cleaned up.
                        io.drain(scratch).await;
                    }
                    break Err(e);
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(Ok(e)),
        }
    };
    match outcome {
        Ok(()) => {
            run.finish(io).await;
            Ok(QueryOutcome::Done { warnings: 0 })
        }
        Err(Ok(e)) => {
            // The node's ERR ended its result: the connection is between statements.
            run.abandon(io).await;
            Ok(QueryOutcome::FailedAfterColumns(e))
        }
        Err(Err(fatal)) => {
            io.discard(scratch);
            Err(fatal)
        }
    }
}

/// What a run left on the connection that runs the statement.
struct Run {
    /// Its plan position.
    scratch: usize,
    /// The temporary tables created there, qualified.
    created: Vec<String>,
    /// The `SET NAMES` that restores the session's character set, while it is switched.
    names: Option<String>,
    /// The connection is the session's own (see [`Materialize::on_session`]).
    on_session: bool,
}

impl Run {
    /// After the statement: the copies are dropped (a connection that cannot drop them
    /// is not reused).
    async fn finish<I: NodeIo>(&mut self, io: &mut I) {
        if drop_tables(io, self.scratch, &self.created).await.is_err() {
            io.discard(self.scratch);
        }
        self.created.clear();
    }

    /// After a failure: a scratch connection is discarded (closing it drops its copies);
    /// the session's own connection, which holds the client's temporary tables, gets its
    /// copies dropped and its character set back, and is discarded only when that fails.
    async fn abandon<I: NodeIo>(&mut self, io: &mut I) {
        if !self.on_session {
            io.discard(self.scratch);
            return;
        }
        let mut clean = drop_tables(io, self.scratch, &self.created).await.is_ok();
        if let Some(names) = self.names.take() {
            clean &= execute(io, self.scratch, &names).await.is_ok();
        }
        self.created.clear();
        if !clean {
            io.discard(self.scratch);
        }
    }
}

/// The name of the `n`th table a run creates on the session's own connection besides
/// the copies (`#` starts no name a client's temporary table is likely to have; one
/// that has it makes the CREATE fail, and is never dropped).
fn private_name(db: &str, n: usize) -> String {
    format!(
        "{}.{}",
        quote_ident(db),
        quote_ident(&format!("#strata_copy_{n}"))
    )
}

/// Creates `copy`'s temporary table on the run's connection and fills it from the
/// positions `at`. On the session's own connection, the rows of `plan.dnid` (the same
/// node) are copied there first into a table of another name (the copy shadows the
/// base table once it exists), then into the copy.
async fn copy_table<I: NodeIo>(
    io: &mut I,
    copy: &TableCopy,
    at: &[usize],
    run: &mut Run,
    (copied, max_rows): (&mut u64, u64),
    plan: &Materialize,
) -> Result<(), MysqlError> {
    let scratch = run.scratch;
    let local = plan.on_session && copy.sources.contains(&plan.dnid);
    let first = match at.first() {
        Some(&first) => first,
        None if local => scratch,
        None => {
            return Err(MysqlError::new(
                codes::UNKNOWN,
                format!("no data node to copy {}.{} from", copy.db, copy.table),
            ))
        }
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
    let list = columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let private = private_name(&copy.db, run.created.len());
    if local {
        if columns.is_empty() {
            return Err(MysqlError::not_supported(&format!(
                "copying table {qualified}, which has no stored column"
            )));
        }
        let ddl =
            temporary_table(&create, &copy.table, &private).map_err(|e| e.to_mysql_error())?;
        execute(io, scratch, &ddl).await?;
        run.created.push(private.clone());
        let lock = plan.lock.as_deref().unwrap_or_default();
        let here = format!(
            "{WRITE_MODE}INSERT INTO {private} ({list}) SELECT {list} FROM {qualified}{lock}"
        );
        *copied += execute_counted(io, scratch, &here).await?;
        if *copied > max_rows {
            return Err(row_limit(max_rows, plan));
        }
    }
    let ddl = temporary_table(&create, &copy.table, &qualified).map_err(|e| e.to_mysql_error())?;
    execute(io, scratch, &ddl).await?;
    run.created.push(qualified.clone());
    if local {
        let into =
            format!("{WRITE_MODE}INSERT INTO {qualified} ({list}) SELECT {list} FROM {private}");
        execute(io, scratch, &into).await?;
        execute(io, scratch, &format!("DROP TEMPORARY TABLE {private}")).await?;
        run.created.retain(|c| *c != private);
    }
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

/// The refusal of a copy past `limits.materialize_max_rows`.
fn row_limit(max_rows: u64, plan: &Materialize) -> MysqlError {
    MergeError::MaterializeRowLimit {
        limit: max_rows,
        node: plan.dnid.get(),
    }
    .to_mysql_error()
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
            return Err(row_limit(max_rows, plan));
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

/// Runs a statement that answers OK on `node`; its affected rows.
async fn execute_counted<I: NodeIo>(io: &mut I, node: usize, sql: &str) -> Result<u64, MysqlError> {
    io.send(node, &[sql]).await?;
    match io.read_reply(node).await? {
        NodeReply::Ok(ok) => Ok(ok.affected_rows),
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
