//! Merger: the entry point. It checks that every data node returned the same columns,
//! builds exactly the operator tree the plan ([`QueryPlan`]) holds — the planner chose
//! each operator (`strata_planner`'s `lower.rs`); only run-time facts come in here: the
//! nodes' column definitions, the memory budget, `group_concat_max_len` — and is driven
//! by its caller: the caller pushes each node's row payloads (`push`, `finish_node`) and
//! pulls output rows (`next_step`), which either yields a client row, names the input it
//! needs next (`Step::Need`), or says the result is complete. `driver.rs` is that
//! caller over real or fake storage connections.
//!
//! A driver loop:
//! ```
//! # use bytes::Bytes;
//! # use strata_executor::{Merger, Step, Demand, MergeError};
//! # fn drive(merger: &mut Merger, streams: &mut [std::vec::IntoIter<Bytes>]) -> Result<Vec<Bytes>, MergeError> {
//! let mut out = Vec::new();
//! loop {
//!     match merger.next_step()? {
//!         Step::Row(payload) => out.push(payload),
//!         Step::Need(Demand::Node(n)) => match streams[n].next() {
//!             Some(row) => merger.push(n, row)?,
//!             None => merger.finish_node(n)?,
//!         },
//!         Step::Need(Demand::AnyNode) => {
//!             // Read whichever unfinished node delivers first (select! over streams).
//! #           let n = merger.unfinished_nodes()[0];
//! #           match streams[n].next() { Some(row) => merger.push(n, row)?, None => merger.finish_node(n)? }
//!         }
//!         Step::Done => break, // stop reading: LIMIT may end the result early
//!     }
//! }
//! # Ok(out) }
//! ```

use std::ops::Range;

use bytes::Bytes;
use strata_planner::{
    Aggregate, AggregateFunction, Columns, Operator as PlanOperator, OrderCheck as PlanOrderCheck,
    QueryPlan,
};
use strata_protocol::constants::{colflag, coltype};
use strata_protocol::packets::ColumnDef;

use crate::aggregate::{avg_scale, Aggregation};
use crate::distinct::Distinct;
use crate::error::MergeError;
use crate::gather::Gather;
use crate::hash_aggregate::HashAggregate;
use crate::having::Having;
use crate::layout::{KeySpec, Layout, SortSpec};
use crate::limit::Limit;
use crate::memory::{MemoryBudget, DEFAULT_MEMORY_BUDGET};
use crate::memory_sort::MemorySort;
use crate::merge_sort::{MergeSort, OrderCheck};
use crate::operator::{Context, Demand, MergeWarning, NodeInputs, Operator, Pull};
use crate::ordered_aggregate::OrderedAggregate;
use crate::spill::Spill;
use crate::value::{ENUM_FLAG, SET_FLAG};

/// MariaDB's default `group_concat_max_len` (1 MiB; MySQL's is 1024): the storage
/// nodes' value for a session that did not set it.
pub const DEFAULT_GROUP_CONCAT_MAX_LEN: usize = 1 << 20;
/// MariaDB's default `max_sort_length`.
pub const DEFAULT_MAX_SORT_LENGTH: usize = 1024;

/// Settings of one merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Budget for everything the merge buffers (share one handle to bound several
    /// statements together). Default: a fresh 64 MiB budget.
    pub memory: MemoryBudget,
    /// The session's `group_concat_max_len` in bytes.
    pub group_concat_max_len: usize,
    /// The storage nodes' `max_sort_length`: MariaDB orders long strings by a prefix, so
    /// the per-node order check tolerates ties beyond `max_sort_length / 8` characters.
    pub max_sort_length: usize,
    /// Where the sort, the hash join, hash grouping and DISTINCT may spill rows past
    /// the memory budget; None (the default): they fail with 1114 there.
    pub spill: Option<Spill>,
}

impl Default for MergeOptions {
    fn default() -> Self {
        Self {
            memory: MemoryBudget::new(DEFAULT_MEMORY_BUDGET),
            group_concat_max_len: DEFAULT_GROUP_CONCAT_MAX_LEN,
            max_sort_length: DEFAULT_MAX_SORT_LENGTH,
            spill: None,
        }
    }
}

/// What the merge does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A row for the client: a text-protocol payload of the visible columns.
    Row(Bytes),
    /// The merge cannot go on before this input arrives (`push` or `finish_node`).
    Need(Demand),
    /// The result is complete; rows not yet read from the nodes are not needed.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Done,
    Failed,
}

/// Merges the result sets of several data nodes into the client's result.
#[derive(Debug)]
pub struct Merger {
    pipeline: Box<dyn Operator>,
    cx: Context,
    visible: Range<usize>,
    output: Vec<ColumnDef>,
    description: String,
    state: State,
    budget: MemoryBudget,
}

/// The column definitions the client sees for a merge of `node_columns` (one node's
/// columns; all nodes return the same): COUNT(DISTINCT) becomes BIGINT NOT NULL and AVG
/// DECIMAL with the SUM's decimals plus `scale` (DOUBLE over a DOUBLE sum), as MariaDB
/// types them; the
/// rest keep the data node's definition, which is already MySQL's type for COUNT, SUM,
/// MIN, MAX and GROUP_CONCAT (the per-node query computes the same expression). Only
/// the visible columns are returned.
pub fn output_columns(plan: &QueryPlan, node_columns: &[ColumnDef]) -> Vec<ColumnDef> {
    let all = all_output_columns(plan.aggregates(), node_columns);
    let range = plan.visible().range(all.len());
    all.get(range)
        .map(<[ColumnDef]>::to_vec)
        .unwrap_or_default()
}

/// COUNT(DISTINCT)'s result: BIGINT NOT NULL (MariaDB sends no NUM flag; clients
/// derive it from the type).
fn count_def(base: &ColumnDef) -> ColumnDef {
    ColumnDef {
        col_type: coltype::LONGLONG,
        charset: 63,
        length: 21,
        flags: colflag::NOT_NULL | colflag::BINARY,
        decimals: 0,
        ..base.clone()
    }
}

/// AVG's result: DOUBLE for a DOUBLE sum, else DECIMAL(p + increment, s + increment)
/// where s is the SUM's decimals and p the argument's precision, recovered from the
/// SUM's length (MariaDB gives SUM a precision of p + 22, at most 65, and a length of
/// precision + sign + point; AVG's precision is not capped at 65).
fn avg_def(sum: &ColumnDef, increment: u32) -> ColumnDef {
    if matches!(sum.col_type, coltype::DOUBLE | coltype::FLOAT) {
        return ColumnDef {
            col_type: coltype::DOUBLE,
            charset: 63,
            length: 23,
            flags: colflag::BINARY,
            decimals: 31,
            ..sum.clone()
        };
    }
    let sum_precision = sum
        .length
        .saturating_sub(1)
        .saturating_sub(u32::from(sum.decimals > 0));
    let arg_precision = if sum.col_type == coltype::NEWDECIMAL && sum_precision > 22 {
        (sum_precision - 22).max(1)
    } else {
        sum_precision.max(1)
    };
    let precision = arg_precision + increment;
    let scale = avg_scale(sum.decimals, increment);
    ColumnDef {
        col_type: coltype::NEWDECIMAL,
        charset: 63,
        length: precision + u32::from(scale > 0) + 1,
        flags: colflag::BINARY,
        decimals: scale as u8,
        ..sum.clone()
    }
}

fn all_output_columns(aggregates: &[Aggregate], node_columns: &[ColumnDef]) -> Vec<ColumnDef> {
    let mut out = node_columns.to_vec();
    for agg in aggregates {
        let Some(base) = node_columns.get(agg.column) else {
            continue;
        };
        let def = match &agg.function {
            AggregateFunction::CountDistinct => count_def(base),
            AggregateFunction::Avg { scale, .. } => avg_def(base, *scale),
            _ => continue,
        };
        out[agg.column] = def;
    }
    out
}

/// Checks that every node returned the same columns as node 0 and returns the
/// columns of the merge: node 0's, except where nodes described an ENUM or SET
/// aggregate differently (see [`reconcile`]).
fn check_columns(node_columns: &[Vec<ColumnDef>]) -> Result<Vec<ColumnDef>, MergeError> {
    let Some(first) = node_columns.first() else {
        return Err(MergeError::InvalidSpec(
            "a merge needs at least one data node".into(),
        ));
    };
    let mut merged = first.clone();
    for (node, columns) in node_columns.iter().enumerate().skip(1) {
        if columns.len() != first.len() {
            return Err(MergeError::ColumnMismatch {
                node,
                detail: format!(
                    "{} columns where data node #0 returned {}",
                    columns.len(),
                    first.len()
                ),
            });
        }
        for (c, (a, b)) in merged.iter_mut().zip(columns).enumerate() {
            let Some(def) = reconcile(a, b) else {
                return Err(MergeError::ColumnMismatch {
                    node,
                    detail: format!(
                        "column {c} ('{}') as type {:#04x}, charset {}, decimals {}, flags {:#x} where data node #0 returned type {:#04x}, charset {}, decimals {}, flags {:#x}",
                        b.name, b.col_type, b.charset, b.decimals, b.flags, a.col_type, a.charset, a.decimals, a.flags
                    ),
                });
            };
            *a = def;
        }
    }
    Ok(merged)
}

/// One column as two nodes described it, or `None` when they disagree. MariaDB types
/// MIN/MAX of an ENUM or SET column by the plan it chose: a CHAR with the ENUM/SET
/// flag, or a VARCHAR without it where the table has at most one row (main.type_enum,
/// MDEV-6991); the values compare as strings either way, so the node that saw the
/// column's type answers for the merge, as one MariaDB holding all rows would.
fn reconcile(a: &ColumnDef, b: &ColumnDef) -> Option<ColumnDef> {
    // BINARY tells a binary collation from another only where the charset is not
    // binary (63): a node's SUM over an empty MyISAM table leaves it off a DECIMAL
    // column that other nodes flag (main.func_group).
    let shape = |d: &ColumnDef| {
        let binary = if d.charset == 63 { 0 } else { colflag::BINARY };
        (
            d.col_type,
            d.charset,
            d.decimals,
            d.flags & (colflag::UNSIGNED | binary | ENUM_FLAG | SET_FLAG),
        )
    };
    if shape(a) == shape(b) {
        return Some(a.clone());
    }
    let enum_or_set =
        |d: &ColumnDef| d.col_type == coltype::STRING && d.flags & (ENUM_FLAG | SET_FLAG) != 0;
    let plain =
        |d: &ColumnDef| d.col_type == coltype::VAR_STRING && d.flags & (ENUM_FLAG | SET_FLAG) == 0;
    let alike = a.charset == b.charset && a.decimals == b.decimals;
    match (enum_or_set(a), enum_or_set(b)) {
        (true, false) if alike && plain(b) => Some(a.clone()),
        (false, true) if alike && plain(a) => Some(b.clone()),
        _ => None,
    }
}

/// Checks the plan's column numbers against the per-node width.
fn check_plan(plan: &QueryPlan, columns: usize) -> Result<(), MergeError> {
    let bad = |what: String| Err(MergeError::InvalidSpec(what));
    match plan.visible() {
        Columns::From(start) if start >= columns => {
            return bad(format!("visible columns from {start} of {columns}"))
        }
        Columns::First(n) if n == 0 || n > columns => {
            return bad(format!("{n} visible columns of {columns}"))
        }
        _ => {}
    }
    let mut referenced = compared_columns(plan, columns);
    let mut aggregate_columns = Vec::new();
    let mut op = Some(&plan.root);
    while let Some(o) = op {
        if let PlanOperator::OrderedAggregate {
            group_by,
            aggregates,
            ..
        }
        | PlanOperator::HashAggregate {
            group_by,
            aggregates,
            ..
        } = o
        {
            for agg in aggregates {
                if aggregate_columns.contains(&agg.column) || group_by.contains(&agg.column) {
                    return bad(format!(
                        "column {} is aggregated twice or also grouped",
                        agg.column
                    ));
                }
                aggregate_columns.push(agg.column);
                if let AggregateFunction::Avg { count_column, .. } = agg.function {
                    referenced.push(count_column);
                }
            }
        }
        op = o.input();
    }
    referenced.extend(&aggregate_columns);
    if let Some(column) = referenced.iter().find(|c| **c >= columns) {
        return bad(format!("column {column} of {columns}"));
    }
    Ok(())
}

/// Every column some operator of the plan compares: sort keys, group keys, DISTINCT's
/// columns, and the aggregates that compare values (MIN, MAX, COUNT(DISTINCT),
/// GROUP_CONCAT's grouping of strings).
fn compared_columns(plan: &QueryPlan, columns: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut op = Some(&plan.root);
    while let Some(o) = op {
        match o {
            PlanOperator::MergeSort { keys, .. } | PlanOperator::Sort { keys, .. } => {
                out.extend(keys.iter().map(|k| k.column))
            }
            PlanOperator::OrderedAggregate {
                group_by,
                aggregates,
                ..
            }
            | PlanOperator::HashAggregate {
                group_by,
                aggregates,
                ..
            } => {
                out.extend(group_by);
                out.extend(aggregates.iter().filter_map(|a| {
                    matches!(
                        a.function,
                        AggregateFunction::Min
                            | AggregateFunction::Max
                            | AggregateFunction::CountDistinct
                            | AggregateFunction::GroupConcat { .. }
                    )
                    .then_some(a.column)
                }))
            }
            PlanOperator::Distinct { columns: c, .. } => out.extend(c.range(columns)),
            PlanOperator::Gather(_)
            | PlanOperator::HashJoin(_)
            | PlanOperator::Having { .. }
            | PlanOperator::Limit { .. }
            | PlanOperator::Project { .. } => {}
        }
        op = o.input();
    }
    out
}

/// Whether the rows `op` yields come in an order the client sees (a merge of sorted
/// streams, a streaming aggregate's group order); a hash aggregate, a join or a plain
/// gather yields them in no order.
fn arrives_ordered(op: &PlanOperator) -> bool {
    match op {
        PlanOperator::MergeSort { .. } | PlanOperator::OrderedAggregate { .. } => true,
        PlanOperator::Gather(_)
        | PlanOperator::HashJoin(_)
        | PlanOperator::HashAggregate { .. } => false,
        other => other.input().is_some_and(arrives_ordered),
    }
}

/// What building the pipeline needs besides the plan.
struct Build<'a> {
    nodes: usize,
    columns: &'a [ColumnDef],
    layout: &'a Layout,
    options: &'a MergeOptions,
    budget: &'a MemoryBudget,
    /// Operator names in data-flow order, for `description`.
    description: Vec<String>,
}

impl Build<'_> {
    /// The executor's operator for `node` of the plan and everything under it.
    fn operator(&mut self, node: &PlanOperator) -> Result<Box<dyn Operator>, MergeError> {
        let layout = self.layout;
        let budget = self.budget;
        let op: Box<dyn Operator> = match node {
            PlanOperator::Gather(_) => {
                self.description.push("Gather".into());
                Box::new(Gather)
            }
            // The driver joins (`driver/join.rs`) and hands the joined rows over as the
            // rows of one input.
            PlanOperator::HashJoin(_) => {
                self.description.push("HashJoin".into());
                Box::new(Gather)
            }
            PlanOperator::MergeSort { keys, check, .. } => {
                let sort = SortSpec::new(keys.iter().map(|k| (k.column, k.descending)), |c| {
                    layout.node_kind(c)
                })?;
                let check = match check {
                    PlanOrderCheck::Strict => OrderCheck::Strict,
                    PlanOrderCheck::Prefix => {
                        OrderCheck::Prefix((self.options.max_sort_length / 8).max(1))
                    }
                };
                self.description
                    .push(format!("MergeSort({} keys)", keys.len()));
                Box::new(MergeSort::new(sort, self.nodes, check, budget))
            }
            PlanOperator::OrderedAggregate {
                input,
                group_by,
                aggregates,
            }
            | PlanOperator::HashAggregate {
                input,
                group_by,
                aggregates,
            } => {
                let input = self.operator(input)?;
                let aggregation = Aggregation::new(
                    aggregates,
                    self.columns,
                    layout,
                    self.options.group_concat_max_len,
                )?;
                let key = KeySpec::new(group_by.iter().copied(), |c| layout.node_kind(c))?;
                self.description.push(node.name().into());
                if matches!(node, PlanOperator::OrderedAggregate { .. }) {
                    Box::new(OrderedAggregate::new(input, key, aggregation, budget))
                } else {
                    let grouped = !group_by.is_empty();
                    let spill = self.options.spill.clone();
                    Box::new(HashAggregate::new(
                        input,
                        key,
                        grouped,
                        aggregation,
                        budget,
                        spill,
                    ))
                }
            }
            PlanOperator::Having { input, predicate } => {
                let input = self.operator(input)?;
                self.description.push("Having".into());
                Box::new(Having::new(input, predicate, layout)?)
            }
            PlanOperator::Distinct {
                input: plan_input,
                columns,
            } => {
                let input = self.operator(plan_input)?;
                let key =
                    KeySpec::new(columns.range(self.columns.len()), |c| layout.output_kind(c))?;
                self.description.push("Distinct".into());
                // Spilled DISTINCT rows come out partition by partition: only when the
                // rows arrive in no particular order.
                let spill = self
                    .options
                    .spill
                    .clone()
                    .filter(|_| !arrives_ordered(plan_input));
                Box::new(Distinct::new(input, key, budget, spill))
            }
            PlanOperator::Sort { input, keys, keep } => {
                let input = self.operator(input)?;
                let sort = SortSpec::new(keys.iter().map(|k| (k.column, k.descending)), |c| {
                    layout.output_kind(c)
                })?;
                let keep = keep.map(|k| usize::try_from(k).unwrap_or(usize::MAX));
                self.description.push("MemorySort".into());
                let spill = self.options.spill.clone();
                Box::new(MemorySort::new(input, sort, keep, budget, spill))
            }
            PlanOperator::Limit {
                input,
                offset,
                limit,
            } => {
                let input = self.operator(input)?;
                self.description.push(match limit {
                    Some(l) => format!("Limit({offset}, {l})"),
                    None => format!("Limit({offset}, all)"),
                });
                Box::new(Limit::new(input, *offset, *limit))
            }
            // The visible columns are cut when rows are encoded for the client.
            PlanOperator::Project { .. } => {
                return Err(MergeError::InvalidSpec(
                    "a projection below the root of the plan".into(),
                ))
            }
        };
        Ok(op)
    }
}

impl Merger {
    /// A merge with default options.
    pub fn new(plan: &QueryPlan, node_columns: &[Vec<ColumnDef>]) -> Result<Self, MergeError> {
        Self::with_options(plan, node_columns, MergeOptions::default())
    }

    /// A merge of the results of `node_columns.len()` data nodes (their column
    /// definitions, in plan order) through the operator tree of `plan`.
    pub fn with_options(
        plan: &QueryPlan,
        node_columns: &[Vec<ColumnDef>],
        options: MergeOptions,
    ) -> Result<Self, MergeError> {
        let merged = check_columns(node_columns)?;
        let columns = merged.as_slice();
        check_plan(plan, columns.len())?;
        let nodes = node_columns.len();
        let budget = options.memory.clone();
        let outputs = all_output_columns(plan.aggregates(), columns);
        let layout = Layout::new(columns, &outputs, &plan.collations);
        let visible = plan.visible().range(columns.len());
        if !plan.other_collation_columns.is_empty() {
            refuse_unknown_collations(plan, &layout, columns)?;
        }
        let below_projection = match &plan.root {
            PlanOperator::Project { input, .. } => input,
            other => other,
        };
        let mut build = Build {
            nodes,
            columns,
            layout: &layout,
            options: &options,
            budget: &budget,
            description: Vec::new(),
        };
        let pipeline = build.operator(below_projection)?;
        let description = build.description.join(" -> ");
        tracing::debug!(nodes, pipeline = %description, "merge pipeline");
        Ok(Self {
            pipeline,
            cx: Context {
                inputs: NodeInputs::new(nodes, columns.len(), &budget),
                warnings: Vec::new(),
            },
            output: output_columns(plan, columns),
            visible,
            description,
            state: State::Running,
            budget,
        })
    }

    /// The column definitions of the client's result.
    pub fn columns(&self) -> &[ColumnDef] {
        &self.output
    }

    /// The operator pipeline, e.g. `MergeSort(2 keys) -> Limit(0, 10)` (for EXPLAIN).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Warnings raised so far (GROUP_CONCAT truncation).
    pub fn warnings(&self) -> &[MergeWarning] {
        &self.cx.warnings
    }

    /// Nodes that have not finished yet (candidates for `Demand::AnyNode`).
    pub fn unfinished_nodes(&self) -> Vec<usize> {
        (0..self.cx.inputs.nodes())
            .filter(|n| !self.cx.inputs.is_finished(*n))
            .collect()
    }

    /// Bytes the merge currently holds against its budget.
    pub fn memory_used(&self) -> usize {
        self.budget.used()
    }

    /// Hands over the next row payload of data node `node` (plan order). Rows pushed
    /// after the merge is done are dropped.
    pub fn push(&mut self, node: usize, row: Bytes) -> Result<(), MergeError> {
        match self.state {
            State::Running => self.cx.inputs.push(node, row),
            State::Done => Ok(()),
            State::Failed => Err(MergeError::Misuse("the merge already failed".into())),
        }
    }

    /// Records that data node `node` sent its last row.
    pub fn finish_node(&mut self, node: usize) -> Result<(), MergeError> {
        match self.state {
            State::Running => self.cx.inputs.finish(node),
            State::Done => Ok(()),
            State::Failed => Err(MergeError::Misuse("the merge already failed".into())),
        }
    }

    /// The next output row, the input needed before there can be one, or the end.
    pub fn next_step(&mut self) -> Result<Step, MergeError> {
        match self.state {
            State::Running => {}
            State::Done => return Ok(Step::Done),
            State::Failed => return Err(MergeError::Misuse("the merge already failed".into())),
        }
        match self.pipeline.pull(&mut self.cx) {
            Ok(Pull::Row(row)) => Ok(Step::Row(row.encode_columns(self.visible.clone()))),
            Ok(Pull::Need(demand)) => Ok(Step::Need(demand)),
            Ok(Pull::Done) => {
                self.state = State::Done;
                // Release what is still queued (rows a LIMIT made unnecessary).
                self.cx.inputs = NodeInputs::new(0, 0, &self.budget);
                self.pipeline = Box::new(Gather);
                Ok(Step::Done)
            }
            Err(err) => {
                self.state = State::Failed;
                self.cx.inputs = NodeInputs::new(0, 0, &self.budget);
                self.pipeline = Box::new(Gather);
                Err(err)
            }
        }
    }
}

/// Merges complete per-node results (payloads in node order) without async I/O; feeds
/// exactly the rows the merge asks for, as a streaming caller would.
#[cfg(any(test, feature = "test-util"))]
pub fn merge_all(
    plan: &QueryPlan,
    node_columns: &[Vec<ColumnDef>],
    rows: Vec<Vec<Bytes>>,
) -> Result<Vec<Bytes>, MergeError> {
    merge_all_with_options(plan, node_columns, rows, MergeOptions::default())
}

/// `merge_all` with explicit options.
#[cfg(any(test, feature = "test-util"))]
pub fn merge_all_with_options(
    plan: &QueryPlan,
    node_columns: &[Vec<ColumnDef>],
    rows: Vec<Vec<Bytes>>,
    options: MergeOptions,
) -> Result<Vec<Bytes>, MergeError> {
    if rows.len() != node_columns.len() {
        return Err(MergeError::Misuse(format!(
            "{} row lists for {} data nodes",
            rows.len(),
            node_columns.len()
        )));
    }
    let mut merger = Merger::with_options(plan, node_columns, options)?;
    let mut streams: Vec<std::vec::IntoIter<Bytes>> =
        rows.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    loop {
        let node = match merger.next_step()? {
            Step::Row(row) => {
                out.push(row);
                continue;
            }
            Step::Done => return Ok(out),
            Step::Need(Demand::Node(n)) => n,
            Step::Need(Demand::AnyNode) => match merger.unfinished_nodes().first() {
                Some(&n) => n,
                None => {
                    return Err(MergeError::Misuse(
                        "the merge asks for input but every node finished".into(),
                    ))
                }
            },
        };
        match streams.get_mut(node).and_then(Iterator::next) {
            Some(row) => merger.push(node, row)?,
            None => merger.finish_node(node)?,
        }
    }
}

/// Refuses a merge that would compare strings whose collation it cannot know (a table
/// of the statement has a column of another character set or collation, and the plan
/// does not give the compared column's): ORDER BY, GROUP BY, DISTINCT, MIN/MAX,
/// COUNT(DISTINCT) and GROUP_CONCAT over such text columns. Binary strings compare
/// bytewise and are fine.
fn refuse_unknown_collations(
    plan: &QueryPlan,
    layout: &Layout,
    columns: &[ColumnDef],
) -> Result<(), MergeError> {
    let unknown = |def: Option<&ColumnDef>| {
        let list = &plan.other_collation_columns;
        match def {
            Some(d) if !d.org_name.is_empty() => list
                .iter()
                .any(|c| c == "*" || c.eq_ignore_ascii_case(&d.org_name)),
            // An expression: it may be over such a column.
            _ => true,
        }
    };
    let compared = compared_columns(plan, columns.len());
    for column in compared {
        // The planner told the column's collation: the merge compares under it.
        if plan.collations.get(column).copied().flatten().is_some() {
            continue;
        }
        if let Ok(crate::value::ColumnKind::Text { collation, .. }) = layout.node_kind(column) {
            // Binary strings and `*_bin` collations (the BINARY column flag) are exact.
            if collation.id() != BINARY_COLLATION
                && !collation.name().ends_with("_bin")
                && unknown(columns.get(column))
            {
                return Err(MergeError::Unsupported(
                    "comparing strings of a column with a character set or collation other than utf8mb4_general_ci across data nodes".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The `binary` collation's id.
const BINARY_COLLATION: u16 = 63;

#[cfg(test)]
mod tests;
