//! Running a plan whose leaf is a join in the compute node ([`HashJoin`]): each hashed
//! side's statements go to its data nodes and their rows are read whole into hash
//! tables, one side after another over the same connections; then the streamed side's
//! statements go out and its rows are read one at a time, as the operators above the
//! join ask for rows, joined, and handed to them as the rows of one input.

use bytes::Bytes;
use strata_planner::{HashJoin, JoinSide, Lookup, QueryPlan};
use strata_protocol::packets::ColumnDef;
use strata_protocol::{codes, MysqlError};

use super::{no_result_set, NodeIo, NodeReply, QueryOutcome, RowSink};
use crate::error::MergeError;
use crate::hash_join::grace::{BuildSide, GraceJoin};
use crate::hash_join::{output_defs, sql_literal, HashJoiner, SideTable};
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
    // Only a one-step join without lookups can go to disk (a later step's keys may
    // come from an earlier hashed side).
    let spill = match join.steps.as_slice() {
        [step] if step.lookup.is_none() => options.spill.clone(),
        _ => None,
    };
    let mut grace: Option<GraceJoin> = None;
    let mut side_defs: Vec<Vec<ColumnDef>> = vec![Vec::new()];
    // With a lookup, the streamed side is read first, whole (it is few rows), for its
    // keys; its rows are then replayed from memory.
    let mut held: Option<SideTable> = None;
    if join.steps.iter().any(|s| s.lookup.is_some()) {
        let whole = read_side(io, &join.probe, &at[0], &[], None, &options.memory).await;
        match whole.and_then(|(defs, side)| {
            let (table, _) = side.finish(false).map_err(|e| e.to_mysql_error())?;
            Ok((defs, table))
        }) {
            Ok((defs, table)) => {
                side_defs[0] = defs;
                held = Some(table);
            }
            Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e)),
        }
    }
    for (i, step) in join.steps.iter().enumerate() {
        let keys: Vec<usize> = step.keys.iter().map(|k| k.column).collect();
        let read = match (&step.lookup, &held, step.keys.first()) {
            (Some(lookup), Some(probe), Some(key)) => {
                let values = match lookup_values(
                    &side_defs[0],
                    &join.probe.collations,
                    probe,
                    key.probe_column,
                ) {
                    Ok(v) => v,
                    Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e.to_mysql_error())),
                };
                read_lookup(
                    io,
                    &step.side,
                    &at[i + 1],
                    &keys,
                    lookup,
                    &values,
                    &options.memory,
                )
                .await
            }
            _ => read_side(
                io,
                &step.side,
                &at[i + 1],
                &keys,
                spill.clone(),
                &options.memory,
            )
            .await
            .and_then(|(defs, side)| {
                let (table, spilled) = side.finish(step.outer).map_err(|e| e.to_mysql_error())?;
                grace = spilled;
                Ok((defs, table))
            }),
        };
        match read {
            Ok((defs, table)) => {
                side_defs.push(defs);
                tables.push(table);
            }
            Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e)),
        }
    }
    let probe = at[0].clone();
    let mut replay = 0usize;
    let mut open = vec![false; probe.len()];
    if held.is_none() {
        match open_side(io, &join.probe, &probe).await {
            Ok((defs, opened)) => {
                side_defs[0] = defs;
                open = opened;
            }
            Err(e) => return Ok(QueryOutcome::FailedBeforeColumns(e)),
        }
    }
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
    if let Some(g) = &mut grace {
        if let Err(e) = read_probe_partitions(io, &probe, &mut open, g, &joiner).await {
            return Ok(QueryOutcome::FailedBeforeColumns(e));
        }
    }
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
        // The next streamed row from the compute node itself: a held side replayed, or
        // the grace join's partitions.
        let local = match (&mut grace, &held) {
            (Some(g), _) => Some(g.next_probe(&mut joiner)),
            (None, Some(table)) => {
                let row = table.rows().get(replay).cloned();
                replay += usize::from(row.is_some());
                Some(Ok(row))
            }
            (None, None) => None,
        };
        if let Some(local) = local {
            match local {
                Ok(Some(row)) => {
                    if let Err(e) = joiner.probe(row) {
                        break Err(Ok(e.to_mysql_error()));
                    }
                }
                Ok(None) if !finished => {
                    finished = true;
                    if let Err(e) = merger.finish_node(0) {
                        break Err(Ok(e.to_mysql_error()));
                    }
                }
                Ok(None) => break Err(Ok(after_end())),
                Err(e) => break Err(Ok(e.to_mysql_error())),
            }
            continue;
        }
        // The next streamed row, from the open nodes in turn.
        let Some(part) = (0..open.len())
            .map(|i| (next + i) % open.len())
            .find(|&i| open[i])
        else {
            if finished {
                break Err(Ok(after_end()));
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

/// The merge asked for rows after it was told the join's input ended (a bug).
fn after_end() -> MysqlError {
    MysqlError::new(codes::UNKNOWN, "the join was asked for rows after its end")
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
    let statements: Vec<&str> = side.scatter.parts.iter().map(|p| p.sql.as_str()).collect();
    open_statements(io, &statements, at).await
}

/// Sends `statements[i]` to node `at[i]` and reads every reply head, as `open_side`.
async fn open_statements<I: NodeIo>(
    io: &mut I,
    statements: &[&str],
    at: &[usize],
) -> Result<(Vec<ColumnDef>, Vec<bool>), MysqlError> {
    let mut sent = Vec::with_capacity(at.len());
    for (sql, &node) in statements.iter().zip(at) {
        sent.push(io.send(node, &[sql]).await);
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
                failure.get_or_insert_with(no_result_set);
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

/// Reads a hashed side whole: into its table, or past the budget into partition
/// files when `spill` is given.
async fn read_side<I: NodeIo>(
    io: &mut I,
    side: &JoinSide,
    at: &[usize],
    keys: &[usize],
    spill: Option<crate::spill::Spill>,
    budget: &MemoryBudget,
) -> Result<(Vec<ColumnDef>, BuildSide), MysqlError> {
    let (defs, mut open) = open_side(io, side, at).await?;
    let table = match SideTable::new(&defs, &side.collations, keys, budget) {
        Ok(t) => t,
        Err(e) => {
            drain(io, at, &open).await;
            return Err(e.to_mysql_error());
        }
    };
    let mut build = BuildSide::new(table, spill, budget);
    read_rows(io, at, &mut open, &mut build).await?;
    Ok((defs, build))
}

/// Reads the streamed side whole into the grace join's partitions; drains the rest on
/// failure.
async fn read_probe_partitions<I: NodeIo>(
    io: &mut I,
    at: &[usize],
    open: &mut [bool],
    grace: &mut GraceJoin,
    joiner: &HashJoiner,
) -> Result<(), MysqlError> {
    let mut target = ProbeTarget { grace, joiner };
    read_rows(io, at, open, &mut target).await
}

/// Where `read_rows` puts a side's rows.
trait RowTarget {
    /// The width of the side's rows.
    fn width(&self) -> usize;
    /// Keeps one row.
    fn insert(&mut self, row: Row) -> Result<(), MergeError>;
}

impl RowTarget for SideTable {
    fn width(&self) -> usize {
        SideTable::width(self)
    }
    fn insert(&mut self, row: Row) -> Result<(), MergeError> {
        SideTable::insert(self, row)
    }
}

impl RowTarget for BuildSide {
    fn width(&self) -> usize {
        BuildSide::width(self)
    }
    fn insert(&mut self, row: Row) -> Result<(), MergeError> {
        BuildSide::insert(self, row)
    }
}

/// The streamed side's rows going into a grace join's partitions.
struct ProbeTarget<'a> {
    grace: &'a mut GraceJoin,
    joiner: &'a HashJoiner,
}

impl RowTarget for ProbeTarget<'_> {
    fn width(&self) -> usize {
        self.joiner.probe_width()
    }
    fn insert(&mut self, row: Row) -> Result<(), MergeError> {
        self.grace.add_probe(self.joiner, row)
    }
}

/// Reads a looked-up side: its statements restricted to `values` (SQL literals), one
/// batch after another, into one table. No values: an empty table, nothing sent.
async fn read_lookup<I: NodeIo>(
    io: &mut I,
    side: &JoinSide,
    at: &[usize],
    keys: &[usize],
    lookup: &Lookup,
    values: &[String],
    budget: &MemoryBudget,
) -> Result<(Vec<ColumnDef>, SideTable), MysqlError> {
    let mut defs: Option<Vec<ColumnDef>> = None;
    let mut table: Option<SideTable> = None;
    // An empty list still asks once (`IN ()` is not SQL; NULL matches nothing) so
    // the side's columns are known.
    let null = ["NULL".to_string()];
    let batches: Vec<&[String]> = if values.is_empty() {
        vec![&null[..]]
    } else {
        values.chunks(lookup.batch.max(1)).collect()
    };
    for batch in batches {
        let statements: Vec<String> = side
            .scatter
            .parts
            .iter()
            .map(|p| lookup.statement(&p.sql, batch))
            .collect();
        let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
        let (cols, mut open) = open_statements(io, &refs, at).await?;
        if table.is_none() {
            match SideTable::new(&cols, &side.collations, keys, budget) {
                Ok(t) => table = Some(t),
                Err(e) => {
                    drain(io, at, &open).await;
                    return Err(e.to_mysql_error());
                }
            }
        }
        let Some(t) = table.as_mut() else {
            drain(io, at, &open).await;
            return Err(MysqlError::new(
                codes::UNKNOWN,
                "a lookup without its table",
            ));
        };
        read_rows(io, at, &mut open, t).await?;
        defs.get_or_insert(cols);
    }
    match (defs, table) {
        (Some(d), Some(t)) => Ok((d, t)),
        _ => Err(MysqlError::new(
            codes::UNKNOWN,
            "a lookup without rows' columns",
        )),
    }
}

/// The distinct non-NULL values of the streamed side's `column`, as SQL literals.
fn lookup_values(
    defs: &[ColumnDef],
    collations: &[Option<u16>],
    probe: &SideTable,
    column: usize,
) -> Result<Vec<String>, MergeError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let def = defs
        .get(column)
        .ok_or_else(|| MergeError::InvalidSpec(format!("lookup column {column}")))?;
    let kind = crate::value::ColumnKind::of(def, collations.get(column).copied().flatten())
        .map_err(MergeError::Unsupported)?;
    for row in probe.rows() {
        let Some(bytes) = row.value(column) else {
            continue;
        };
        if seen.insert(bytes.to_vec()) {
            out.push(sql_literal(&kind, bytes)?);
        }
    }
    Ok(out)
}

/// Reads the open replies' rows into `table`; drains the rest on failure.
async fn read_rows<I: NodeIo>(
    io: &mut I,
    at: &[usize],
    open: &mut [bool],
    table: &mut impl RowTarget,
) -> Result<(), MysqlError> {
    for i in 0..at.len() {
        while open[i] {
            match io.next_row(at[i]).await {
                Ok(Some(payload)) => {
                    let added = decode(payload, table.width(), i).and_then(|row| table.insert(row));
                    if let Err(e) = added {
                        drain(io, at, open).await;
                        return Err(e.to_mysql_error());
                    }
                }
                Ok(None) => open[i] = false,
                Err(e) => {
                    open[i] = false;
                    drain(io, at, open).await;
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Reads away the replies still open.
async fn drain<I: NodeIo>(io: &mut I, at: &[usize], open: &[bool]) {
    for (&node, &open) in at.iter().zip(open) {
        if open {
            io.drain(node).await;
        }
    }
}
