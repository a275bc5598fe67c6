//! The one driver of multi-node plans: it runs a [`QueryPlan`] or a [`Write`] over a
//! [`NodeIo`] (storage connections in the server, canned replies in tests) and hands
//! the client's rows to a [`RowSink`].
//!
//! Queries: every node gets its statement before any reply is read (the nodes work in
//! parallel without a task per node); then each node's response head; then the merge
//! pulls rows demand-driven — exactly the node a merge sort needs, round robin when any
//! node will do — and stops reading when LIMIT is satisfied, draining what the nodes
//! still send so their connections stay usable. Writes: every node gets its statement
//! (under a statement savepoint when the write is atomic inside a transaction) before
//! any reply is read; a failure on some nodes rolls the statement back on all of them.
//!
//! Materialize plans (`materialize.rs`) copy tables to one node and relay the
//! statement's result from there.
//!
//! What only the session knows stays there: leases, XA begin/commit, the read gate,
//! and how packets reach the client.

use bytes::Bytes;
use strata_planner::{QueryPlan, Write, WriteCombine};
use strata_protocol::packets::{ColumnDef, OkPacket};
use strata_protocol::{codes, MysqlError};

use crate::merger::{MergeOptions, Merger, Step};
use crate::operator::Demand;

/// What a data node answered to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeReply {
    /// An OK packet: the statement returned no rows.
    Ok(OkPacket),
    /// A result set with these columns; rows follow.
    Rows(Vec<ColumnDef>),
}

/// Statements to data nodes and their replies, by the node's position in the plan.
/// A method that fails has already recorded what it means for the connection (a
/// broken one is not reused); errors are the client's errors, naming the node.
#[allow(async_fn_in_trait)] // Driven on one task per session: no Send bound wanted.
pub trait NodeIo {
    /// Sends `statements` to node `node` in one write (queued, then flushed); their
    /// replies are read later, one `read_reply` each.
    async fn send(&mut self, node: usize, statements: &[&str]) -> Result<(), MysqlError>;
    /// Reads the head of node `node`'s next reply.
    async fn read_reply(&mut self, node: usize) -> Result<NodeReply, MysqlError>;
    /// The next row of node `node`'s result set; None at its end. After an error
    /// nothing is left to read on that node.
    async fn next_row(&mut self, node: usize) -> Result<Option<Bytes>, MysqlError>;
    /// Reads away the rest of node `node`'s result set.
    async fn drain(&mut self, node: usize);
    /// Runs `sql` on node `node` and reads its reply (savepoint rollbacks).
    async fn execute(&mut self, node: usize, sql: &str) -> Result<(), MysqlError>;
    /// Node `node` is done with its part of a write: `Ok` when it applied it. Lets the
    /// caller report progress (the server's job registry); does nothing by default.
    fn write_part_done(&mut self, _node: usize, _result: Result<(), &MysqlError>) {}
    /// Node `node`'s connection must not be reused (it holds state of a failed
    /// statement, such as temporary tables): closed instead of pooled. Does nothing by
    /// default.
    fn discard(&mut self, _node: usize) {}
}

/// Where the merged result goes (the client connection in the server).
#[allow(async_fn_in_trait)]
pub trait RowSink {
    /// A failure of the sink itself (the client went away); it ends the statement.
    type Error;
    /// The column definitions of the result, once, before any row.
    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), Self::Error>;
    /// One row, a text-protocol payload of the visible columns. An `Err(Ok(e))` ends
    /// the result with `e` (a row that cannot be converted); `Err(Err(_))` is fatal.
    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, Self::Error>>;
}

/// How a query ended.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryOutcome {
    /// Every row was sent; the merge raised this many warnings.
    Done {
        /// Warnings for the client's EOF/OK packet.
        warnings: u16,
    },
    /// The query failed before any column definition was sent.
    FailedBeforeColumns(MysqlError),
    /// The query failed after the column definitions (and maybe rows) were sent.
    FailedAfterColumns(MysqlError),
    /// The statement answered with an OK packet (a materialized `CREATE TABLE ...
    /// SELECT`): the client's answer.
    Wrote(OkPacket),
}

/// Runs a query plan: the statements of its scatter on `io`, the merge through the
/// plan's operator tree, the result into `sink`. Every node's reply is read to its end
/// (or drained) before this returns, also when the sink fails.
pub async fn run_query<I: NodeIo, S: RowSink>(
    io: &mut I,
    plan: &QueryPlan,
    options: MergeOptions,
    sink: &mut S,
) -> Result<QueryOutcome, S::Error> {
    if let Some(join) = plan.join() {
        return join::run_join_query(io, plan, join, options, sink).await;
    }
    let parts = &plan.scatter().parts;
    let mut sent = Vec::with_capacity(parts.len());
    for (node, part) in parts.iter().enumerate() {
        sent.push(io.send(node, &[&part.sql]).await);
    }
    let mut columns = Vec::with_capacity(parts.len());
    // Nodes whose result set is still being read (drained on every way out).
    let mut open = vec![false; parts.len()];
    let mut failure: Option<MysqlError> = None;
    for (node, sent) in sent.into_iter().enumerate() {
        if let Err(e) = sent {
            failure.get_or_insert(e);
            continue;
        }
        match io.read_reply(node).await {
            Ok(NodeReply::Rows(cols)) => {
                open[node] = true;
                columns.push(cols);
            }
            Ok(NodeReply::Ok(_)) => {
                failure.get_or_insert_with(no_result_set);
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    let merger = match failure {
        Some(e) => Err(e),
        None => Merger::with_options(plan, &columns, options).map_err(|e| e.to_mysql_error()),
    };
    let mut merger = match merger {
        Ok(m) => m,
        Err(e) => {
            drain_open(io, &open).await;
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    };
    if let Err(e) = sink.columns(merger.columns()).await {
        drain_open(io, &open).await;
        return Err(e);
    }
    let mut next_any = 0usize;
    let outcome: Result<(), Result<MysqlError, S::Error>> = loop {
        let step = match merger.next_step() {
            Ok(s) => s,
            Err(e) => break Err(Ok(e.to_mysql_error())),
        };
        let node = match step {
            Step::Row(row) => match sink.row(row).await {
                Ok(()) => continue,
                Err(e) => break Err(e),
            },
            Step::Done => break Ok(()),
            Step::Need(Demand::Node(n)) => n,
            Step::Need(Demand::AnyNode) => {
                let unfinished = merger.unfinished_nodes();
                let pick = unfinished
                    .iter()
                    .copied()
                    .find(|&n| n >= next_any)
                    .or_else(|| unfinished.first().copied());
                match pick {
                    Some(n) => {
                        next_any = n + 1;
                        n
                    }
                    None => {
                        break Err(Ok(MysqlError::new(
                            codes::UNKNOWN,
                            "merge wants input but every node finished",
                        )))
                    }
                }
            }
        };
        if node >= open.len() {
            break Err(Ok(MysqlError::new(
                codes::UNKNOWN,
                "merge asked for an unknown node",
            )));
        }
        let fed = match io.next_row(node).await {
            Ok(Some(row)) => merger.push(node, row),
            Ok(None) => {
                open[node] = false;
                merger.finish_node(node)
            }
            Err(e) => {
                // The node's response ended (ERR) or its connection broke: nothing is
                // left to drain there.
                open[node] = false;
                break Err(Ok(e));
            }
        };
        if let Err(e) = fed {
            break Err(Ok(e.to_mysql_error()));
        }
    };
    let warnings = merger.warnings().len().min(usize::from(u16::MAX)) as u16;
    drop(merger);
    // Nodes whose rows were not all needed (LIMIT) are drained so their connections
    // stay usable.
    drain_open(io, &open).await;
    match outcome {
        Ok(()) => Ok(QueryOutcome::Done { warnings }),
        Err(Ok(e)) => Ok(QueryOutcome::FailedAfterColumns(e)),
        Err(Err(fatal)) => Err(fatal),
    }
}

async fn drain_open<I: NodeIo>(io: &mut I, open: &[bool]) {
    for (node, open) in open.iter().enumerate() {
        if *open {
            io.drain(node).await;
        }
    }
}

/// What a write on several nodes did, per node (positions in the plan).
#[derive(Debug, Clone, PartialEq)]
pub struct WriteResult {
    /// The OK packets of the nodes that applied the statement.
    pub oks: Vec<(usize, OkPacket)>,
    /// The nodes that failed, with their errors.
    pub failures: Vec<(usize, MysqlError)>,
    /// A write with RETURNING: the column definitions and rows each node returned.
    pub returned: Vec<(usize, Vec<ColumnDef>, Vec<Bytes>)>,
}

impl WriteResult {
    /// The combined OK packet's counts: (affected rows, warnings, last insert id, info).
    pub fn combined(&self, combine: WriteCombine) -> CombinedOk {
        let first = self.oks.first().map(|(_, ok)| ok);
        CombinedOk {
            affected_rows: match combine {
                WriteCombine::Sum => self.oks.iter().map(|(_, ok)| ok.affected_rows).sum(),
                WriteCombine::Replicated => first.map_or(0, |ok| ok.affected_rows),
            },
            warnings: self
                .oks
                .iter()
                .map(|(_, ok)| ok.warnings)
                .fold(0u16, u16::saturating_add),
            last_insert_id: self
                .oks
                .iter()
                .map(|(_, ok)| ok.last_insert_id)
                .find(|&id| id != 0)
                .unwrap_or(0),
            info: match combine {
                WriteCombine::Sum => summed_info(self.oks.iter().map(|(_, ok)| ok.info.as_str())),
                WriteCombine::Replicated => first.map(|ok| ok.info.clone()).unwrap_or_default(),
            },
        }
    }
}

/// The info texts of several nodes' OK packets as one: each count added up when every
/// text has the same labels (`Rows matched: 2  Changed: 1  Warnings: 0` of an UPDATE,
/// `Records: 3  Duplicates: 1  Warnings: 0` of a multi-row INSERT); empty when they
/// differ (a node that got one row of an INSERT sends no text, and what it counted
/// as duplicates is not known here).
pub fn summed_info<'a>(infos: impl Iterator<Item = &'a str>) -> String {
    let mut sum: Option<Vec<(&str, u64)>> = None;
    for info in infos {
        let Some(counts) = info_counts(info) else {
            return String::new();
        };
        match &mut sum {
            None => sum = Some(counts),
            Some(sum) => {
                if sum.len() != counts.len() || sum.iter().zip(&counts).any(|(a, b)| a.0 != b.0) {
                    return String::new();
                }
                for (total, (_, n)) in sum.iter_mut().zip(counts) {
                    total.1 += n;
                }
            }
        }
    }
    sum.map(|counts| {
        let parts: Vec<String> = counts.iter().map(|(l, n)| format!("{l}: {n}")).collect();
        parts.join("  ")
    })
    .unwrap_or_default()
}

/// The `Label: N` pairs of an info text, None when it is empty or has anything else.
fn info_counts(info: &str) -> Option<Vec<(&str, u64)>> {
    let counts = info
        .split("  ")
        .map(|part| {
            let (label, n) = part.split_once(": ")?;
            Some((label, n.trim().parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()?;
    (!counts.is_empty()).then_some(counts)
}

/// The counts of the one OK packet a multi-node write answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CombinedOk {
    /// Affected rows: summed over nodes, or one copy's for a global table.
    pub affected_rows: u64,
    /// Warnings, summed.
    pub warnings: u16,
    /// The first non-zero insert id a node reported (0: none).
    pub last_insert_id: u64,
    /// One copy's info text for a global table; the nodes' counts added up otherwise
    /// (see [`summed_info`]).
    pub info: String,
}

/// Runs a write's statements: each node gets its statement before any reply is read.
/// With `savepoint` (the name of a statement savepoint), each node takes it first and
/// every node still connected rolls back to it when any node failed. The rows of a
/// write with RETURNING are kept, at most `returned_budget` bytes of them.
pub async fn run_write<I: NodeIo>(
    io: &mut I,
    write: &Write,
    savepoint: Option<&str>,
    returned_budget: usize,
) -> WriteResult {
    let mut budget = returned_budget;
    let mut sent = Vec::with_capacity(write.parts.len());
    for (node, part) in write.parts.iter().enumerate() {
        let result = match savepoint {
            Some(name) => {
                io.send(node, &[&format!("SAVEPOINT {name}"), &part.sql])
                    .await
            }
            None => io.send(node, &[&part.sql]).await,
        };
        sent.push(result);
    }
    let mut result = WriteResult {
        oks: Vec::new(),
        failures: Vec::new(),
        returned: Vec::new(),
    };
    for (node, sent) in sent.into_iter().enumerate() {
        if let Err(e) = sent {
            io.write_part_done(node, Err(&e));
            result.failures.push((node, e));
            continue;
        }
        let mut savepoint_error = None;
        if savepoint.is_some() {
            // A failed savepoint is still followed by the statement's reply.
            savepoint_error = io.read_reply(node).await.err();
        }
        let statement = io.read_reply(node).await;
        match (savepoint_error, statement) {
            (Some(e), _) | (None, Err(e)) => {
                io.write_part_done(node, Err(&e));
                result.failures.push((node, e));
            }
            (None, Ok(NodeReply::Ok(ok))) => {
                io.write_part_done(node, Ok(()));
                result.oks.push((node, ok));
            }
            (None, Ok(NodeReply::Rows(columns))) if write.returning.is_some() => {
                match returning::read_rows(io, node, &mut budget, returned_budget).await {
                    Ok(rows) => {
                        io.write_part_done(node, Ok(()));
                        result.returned.push((node, columns, rows));
                    }
                    Err(e) => {
                        io.write_part_done(node, Err(&e));
                        result.failures.push((node, e));
                    }
                }
            }
            (None, Ok(NodeReply::Rows(_))) => {
                io.drain(node).await;
                let e = MysqlError::new(
                    codes::UNKNOWN,
                    "a data node returned a result set for a write",
                );
                io.write_part_done(node, Err(&e));
                result.failures.push((node, e));
            }
        }
    }
    if let Some(name) = savepoint {
        if !result.failures.is_empty() {
            for node in 0..write.parts.len() {
                // A connection that cannot roll back is marked broken by the I/O.
                let undo = format!("ROLLBACK TO SAVEPOINT {name}");
                if let Err(e) = io.execute(node, &undo).await {
                    tracing::warn!(node, error = %e.message, "statement rollback failed");
                }
            }
        }
    }
    result
}

/// The error of a data node that answered a query with an OK packet instead of rows.
fn no_result_set() -> MysqlError {
    MysqlError::new(
        codes::UNKNOWN,
        "a data node returned no result set for a query",
    )
}

mod join;
mod materialize;
mod returning;

pub use materialize::{run_materialize, MaterializeOptions};
pub use returning::returned_in_order;
#[cfg(test)]
mod tests;
