//! Running a plan whose leaf is a join in the compute node ([`HashJoin`]): each hashed
//! side's statements go to its data nodes and their rows are read whole into hash
//! tables, one side after another over the same connections; then the streamed side's
//! statements go out and its rows are read one at a time, as the operators above the
//! join ask for rows, joined, and handed to them as the rows of one input.

use bytes::Bytes;
use strata_planner::{HashJoin, JoinSide, QueryPlan};
use strata_protocol::packets::ColumnDef;
use strata_protocol::{codes, MysqlError};

use super::{NodeIo, NodeReply, QueryOutcome, RowSink};
use crate::error::MergeError;
use crate::hash_join::{output_defs, HashJoiner, SideTable};
use crate::memory::MemoryBudget;
use crate::merger::{MergeOptions, Merger, Step};
use crate::row::Row;

/// Runs `plan`, whose leaf is `join`.
pub(super) async fn run_join_query<I: NodeIo, S: RowSink>(
    io: &mut I,
    plan: &QueryPlan,
    join: &HashJoin,
    options: MergeOptions,
    sink: &mut S,
) -> Result<QueryOutcome, S::Error> {
    // Each side's parts as driver positions (each data node once in the plan).
    let nodes = plan.nodes();
    let at: Result<Vec<Vec<usize>>, MysqlError> = join
        .sides()
        .map(|side| {
            side.scatter
                .parts
                .iter()
                .map(|p| {
                    nodes.iter().position(|n| *n == p.dnid).ok_or_else(|| {
                        MysqlError::new(codes::UNKNOWN, "a join side on a node outside the plan")
                    })
                })
                .collect()
        })
        .collect();
    let at = match at {
        Ok(at) => at,
        Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e)),
    };
    let mut tables = Vec::with_capacity(join.steps.len());
    let mut side_defs: Vec<Vec<ColumnDef>> = vec![Vec::new()];
    for (i, step) in join.steps.iter().enumerate() {
        let keys: Vec<usize> = step.keys.iter().map(|k| k.column).collect();
        match read_side(io, &step.side, &at[i + 1], &keys, &options.memory).await {
            Ok((defs, table)) => {
                side_defs.push(defs);
                tables.push(table);
            }
            Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e)),
        }
    }
    let probe = at[0].clone();
    let (defs, mut open) = match open_side(io, &join.probe, &probe).await {
        Ok(opened) => opened,
        Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e)),
    };
    side_defs[0] = defs;
    let started = HashJoiner::new(join, tables, &side_defs, &options.memory).and_then(|joiner| {
        let defs = output_defs(join, &side_defs, plan.aggregates())?;
        let merger = Merger::with_options(plan, &[defs], options)?;
        Ok((joiner, merger))
    });
    let (mut joiner, mut merger) = match started {
        Ok(s) => s,
        Err(e) => {
            drain(io, &probe, &open).await;
            return Ok(QueryOutcome::FailedBeforeColumns(e.to_mysql_error()));
        }
    };
    if let Err(e) = sink.columns(merger.columns()).await {
        drain(io, &probe, &open).await;
        return Err(e);
    }
    let mut next = 0usize;
    let mut finished = false;
    let outcome: Result<(), Result<MysqlError, S::Error>> = loop {
        let step = match merger.next_step() {
            Ok(s) => s,
            Err(e) => break Err(Ok(e.to_mysql_error())),
        };
        match step {
            Step::Row(row) => match sink.row(row).await {
                Ok(()) => continue,
                Err(e) => break Err(e),
            },
            Step::Done => break Ok(()),
            Step::Need(_) => {}
        }
        if let Some(row) = joiner.pop() {
            if let Err(e) = merger.push(0, row) {
                break Err(Ok(e.to_mysql_error()));
            }
            continue;
        }
        // The next streamed row, from the open nodes in turn.
        let Some(part) = (0..open.len())
            .map(|i| (next + i) % open.len())
            .find(|&i| open[i])
        else {
            if finished {
                break Err(Ok(MysqlError::new(
                    codes::UNKNOWN,
                    "the join was asked for rows after its end",
                )));
            }
            finished = true;
            if let Err(e) = merger.finish_node(0) {
                break Err(Ok(e.to_mysql_error()));
            }
            continue;
        };
        next = part + 1;
        match io.next_row(probe[part]).await {
            Ok(Some(payload)) => {
                let joined =
                    decode(payload, joiner.probe_width(), part).and_then(|row| joiner.probe(row));
                if let Err(e) = joined {
                    break Err(Ok(e.to_mysql_error()));
                }
            }
            Ok(None) => open[part] = false,
            Err(e) => {
                open[part] = false;
                break Err(Ok(e));
            }
        }
    };
    let warnings = merger.warnings().len().min(usize::from(u16::MAX)) as u16;
    drop(merger);
    drain(io, &probe, &open).await;
    match outcome {
        Ok(()) => Ok(QueryOutcome::Done { warnings }),
        Err(Ok(e)) => Ok(QueryOutcome::FailedAfterColumns(e)),
        Err(Err(fatal)) => Err(fatal),
    }
}

fn decode(payload: Bytes, width: usize, node: usize) -> Result<Row, MergeError> {
    Row::decode(payload, width).map_err(|detail| MergeError::MalformedRow { node, detail })
}

/// Sends a side's statements and reads every reply head: the side's columns and which
/// of its parts have rows to read. On failure every opened reply is drained.
async fn open_side<I: NodeIo>(
    io: &mut I,
    side: &JoinSide,
    at: &[usize],
) -> Result<(Vec<ColumnDef>, Vec<bool>), MysqlError> {
    let mut sent = Vec::with_capacity(at.len());
    for (part, &node) in side.scatter.parts.iter().zip(at) {
        sent.push(io.send(node, &[&part.sql]).await);
    }
    let mut open = vec![false; at.len()];
    let mut defs: Option<Vec<ColumnDef>> = None;
    let mut failure = None;
    for (i, sent) in sent.into_iter().enumerate() {
        if let Err(e) = sent {
            failure.get_or_insert(e);
            continue;
        }
        match io.read_reply(at[i]).await {
            Ok(NodeReply::Rows(cols)) => {
                open[i] = true;
                match &defs {
                    Some(d) if d.len() != cols.len() => {
                        failure.get_or_insert_with(|| {
                            MysqlError::new(
                                codes::UNKNOWN,
                                "join side nodes returned different columns",
                            )
                        });
                    }
                    Some(_) => {}
                    None => defs = Some(cols),
                }
            }
            Ok(NodeReply::Ok(_)) => {
                failure.get_or_insert_with(|| {
                    MysqlError::new(
                        codes::UNKNOWN,
                        "a data node returned no result set for a query",
                    )
                });
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    match (failure, defs) {
        (None, Some(defs)) => Ok((defs, open)),
        (failure, _) => {
            drain(io, at, &open).await;
            Err(failure
                .unwrap_or_else(|| MysqlError::new(codes::UNKNOWN, "a join side without nodes")))
        }
    }
}

/// Reads a hashed side whole into its table.
async fn read_side<I: NodeIo>(
    io: &mut I,
    side: &JoinSide,
    at: &[usize],
    keys: &[usize],
    budget: &MemoryBudget,
) -> Result<(Vec<ColumnDef>, SideTable), MysqlError> {
    let (defs, mut open) = open_side(io, side, at).await?;
    let mut table = match SideTable::new(&defs, &side.collations, keys, budget) {
        Ok(t) => t,
        Err(e) => {
            drain(io, at, &open).await;
            return Err(e.to_mysql_error());
        }
    };
    for i in 0..at.len() {
        while open[i] {
            match io.next_row(at[i]).await {
                Ok(Some(payload)) => {
                    let added = decode(payload, table.width(), i).and_then(|row| table.insert(row));
                    if let Err(e) = added {
                        drain(io, at, &open).await;
                        return Err(e.to_mysql_error());
                    }
                }
                Ok(None) => open[i] = false,
                Err(e) => {
                    open[i] = false;
                    drain(io, at, &open).await;
                    return Err(e);
                }
            }
        }
    }
    Ok((defs, table))
}

/// Reads away the replies still open.
async fn drain<I: NodeIo>(io: &mut I, at: &[usize], open: &[bool]) {
    for (&node, &open) in at.iter().zip(open) {
        if open {
            io.drain(node).await;
        }
    }
}
