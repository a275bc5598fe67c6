//! Distributed plans: what the executor runs on which data nodes and how the replies
//! are combined. The planner produces them; the executor runs them; EXPLAIN prints them,
//! so what runs is what is shown.

use strata_catalog::DataNodeId;

mod ddl_guard;
mod materialize;
mod read_then_write;

pub use ddl_guard::{
    auto_key_name, normalized_definition, undo_alter, DdlGuard, DdlUndo, UniqueCheck,
};

pub use materialize::{quote_ident, Materialize, TableCopy};
pub use read_then_write::{
    InsertCounts, KeyedWrite, ReadThenWrite, RowsAs, SetPiece, INSERT_BATCH_ROWS,
};

/// How a statement is executed: a route to one data node, a write over several, or a
/// tree of merge operators over a scatter to several. The executor runs exactly this
/// value and EXPLAIN prints it ([`crate::explain`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// One data node runs the statement and its reply streams to the client unchanged
    /// (the fast path: no row is decoded).
    Route(Route),
    /// Statements that return no rows on several data nodes; their OK packets combine.
    Write(Write),
    /// A query on several data nodes whose result sets an operator tree merges.
    Query(QueryPlan),
    /// A query the operators above cannot run across data nodes, run whole on one data
    /// node over temporary copies of its tables (see [`Materialize`]).
    Materialize(Materialize),
    /// A write completed by the rows of a read that runs first (INSERT ... SELECT
    /// across data nodes, see [`ReadThenWrite`]).
    ReadThenWrite(ReadThenWrite),
}

impl Plan {
    /// A route of `sql` to data node `dnid`, answered as `reply` says.
    pub fn route(dnid: DataNodeId, sql: impl Into<String>, reply: Reply) -> Plan {
        Plan::Route(Route {
            dnid,
            sql: sql.into(),
            reply,
        })
    }

    /// The query plan that runs `parts` and merges their results as `spec` asks.
    pub fn query(parts: Vec<NodeStatement>, spec: MergeSpec) -> Plan {
        Plan::Query(QueryPlan::from_spec(parts, spec))
    }

    /// The same `sql` on each of `nodes`, merged as `spec` asks.
    pub fn scatter(nodes: &[DataNodeId], sql: &str, spec: MergeSpec) -> Plan {
        Plan::query(NodeStatement::same(nodes, sql), spec)
    }

    /// The data nodes the plan sends statements to, with each node's statement, in
    /// plan order.
    pub fn node_statements(&self) -> Vec<(DataNodeId, &str)> {
        match self {
            Plan::Route(r) => vec![(r.dnid, r.sql.as_str())],
            Plan::Write(w) => w.parts.iter().map(|p| (p.dnid, p.sql.as_str())).collect(),
            Plan::Query(q) => q.statements(),
            Plan::Materialize(m) => m.statements(),
            // The write's statements are known once the read ran.
            Plan::ReadThenWrite(r) => r.source.node_statements(),
        }
    }
}

/// The relay of one statement to one data node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Target data node.
    pub dnid: DataNodeId,
    /// Statement text for that node.
    pub sql: String,
    /// What the statement answers.
    pub reply: Reply,
}

/// What a routed statement answers: the server needs it when it cannot relay the reply
/// as is (a prepared statement's rows are converted to the binary protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A result set (SELECT, SHOW, ...).
    Rows,
    /// An OK packet (DML, DDL, ...).
    Ok,
}

/// Statements that return no rows, on several data nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// What kind of write this is (it decides how the OK packets combine).
    pub kind: WriteKind,
    /// Statement per data node, in DNID order.
    pub parts: Vec<NodeStatement>,
    /// The statement must apply on every node or on none: it runs as its own XA
    /// transaction outside a transaction and under a statement savepoint inside one
    /// (DML over several nodes). DDL cannot be rolled back and is not atomic.
    pub atomic: bool,
    /// A write with RETURNING: each node answers with rows, which are the statement's
    /// answer in this order (None: each node answers with an OK packet).
    pub returning: Option<ReturnedOrder>,
    /// DDL over several nodes of one table: what keeps its nodes alike (checks before,
    /// undo after a partial failure).
    pub guard: Option<DdlGuard>,
}

/// The order of the rows a write with RETURNING gives back from its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnedOrder {
    /// Node after node, in plan order (DELETE: MariaDB promises no order).
    ByNode,
    /// Row `i` of the statement is row `.1` of part `.0` (INSERT: the VALUES order).
    Rows(Vec<(usize, usize)>),
}

impl Write {
    /// A write of `kind` over `parts`; DML over several nodes is atomic.
    pub fn new(kind: WriteKind, parts: Vec<NodeStatement>) -> Write {
        let atomic = kind.is_dml() && parts.len() > 1;
        Write {
            kind,
            parts,
            atomic,
            returning: None,
            guard: None,
        }
    }

    /// How the OK packets combine.
    pub fn combine(&self) -> WriteCombine {
        match self.kind {
            WriteKind::GlobalWrite => WriteCombine::Replicated,
            _ => WriteCombine::Sum,
        }
    }
}

impl Route {
    /// The route as a one-node query whose rows pass through the merge unchanged (a
    /// prepared statement's rows are converted to the binary protocol on the way).
    pub fn as_query(&self) -> QueryPlan {
        QueryPlan::from_spec(
            vec![NodeStatement {
                dnid: self.dnid,
                sql: self.sql.clone(),
            }],
            MergeSpec {
                visible_to_end: true,
                ..MergeSpec::default()
            },
        )
    }

    /// The route as a one-node write answered with one OK packet.
    pub fn as_write(&self) -> Write {
        Write::new(
            WriteKind::Routed,
            vec![NodeStatement {
                dnid: self.dnid,
                sql: self.sql.clone(),
            }],
        )
    }
}

/// The kinds of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A statement routed to one node whose OK packet the server answers itself
    /// (a prepared statement run as text).
    Routed,
    /// An INSERT whose rows go to different nodes: each node gets its rows.
    SplitInsert,
    /// UPDATE / DELETE of a sharded table on several nodes: the same text everywhere.
    Dml,
    /// A write to every copy of a global table.
    GlobalWrite,
    /// DDL run on every node of the table or database.
    DdlFanOut,
    /// A statement a routing hint sends to several nodes; `dml` says whether it is
    /// INSERT/REPLACE/UPDATE/DELETE (then atomic).
    Hinted {
        /// The statement is DML.
        dml: bool,
    },
}

impl WriteKind {
    /// Whether the write changes rows (and so must be atomic across nodes).
    pub fn is_dml(self) -> bool {
        match self {
            WriteKind::SplitInsert | WriteKind::Dml | WriteKind::GlobalWrite => true,
            WriteKind::DdlFanOut | WriteKind::Routed => false,
            WriteKind::Hinted { dml } => dml,
        }
    }

    /// The operator's name in EXPLAIN.
    pub fn name(self) -> &'static str {
        match self {
            WriteKind::Routed => "RoutedWrite",
            WriteKind::SplitInsert => "SplitInsert",
            WriteKind::Dml => "MultiNodeDml",
            WriteKind::GlobalWrite => "GlobalWrite",
            WriteKind::DdlFanOut => "DdlFanOut",
            WriteKind::Hinted { .. } => "HintedWrite",
        }
    }
}

/// A query over several data nodes: the operator tree and what the merge must know
/// of the per-node columns.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    /// The root operator (a [`Operator::Project`]); the leaf is the scatter.
    pub root: Operator,
    /// The real collation id of per-node columns, by column number, when the plan
    /// knows it (the nodes' column definitions carry only the connection's character
    /// set): a table's column or MIN/MAX of one, from the catalog's recorded collations.
    pub collations: Vec<Option<u16>>,
    /// String columns (lowercase names; `*`: all) of the statement's tables whose
    /// collation the merge cannot know: comparing them, or expressions when the list is
    /// not empty, is refused (binary and `*_bin` strings are exact).
    pub other_collation_columns: Vec<String>,
}

impl QueryPlan {
    /// The scatter at the tree's leaf (a join's streamed side for a join).
    pub fn scatter(&self) -> &Scatter {
        self.root.scatter()
    }

    /// The join at the tree's leaf, if the plan joins in the compute node.
    pub fn join(&self) -> Option<&HashJoin> {
        let mut op = &self.root;
        loop {
            match op {
                Operator::HashJoin(j) => return Some(j),
                other => op = other.input()?,
            }
        }
    }

    /// The data nodes the plan talks to, by position (the driver's node numbers): the
    /// scatter's parts, or each data node once for a join, whose sides run one after
    /// another over the same connections.
    pub fn nodes(&self) -> Vec<DataNodeId> {
        match self.join() {
            None => self.scatter().parts.iter().map(|p| p.dnid).collect(),
            Some(j) => {
                let mut out: Vec<DataNodeId> = Vec::new();
                for part in j.sides().flat_map(|s| &s.scatter.parts) {
                    if !out.contains(&part.dnid) {
                        out.push(part.dnid);
                    }
                }
                out
            }
        }
    }

    /// Every statement the plan sends, with its data node, in the order they run.
    pub fn statements(&self) -> Vec<(DataNodeId, &str)> {
        match self.join() {
            None => statement_texts(self.scatter()),
            Some(j) => {
                // A lookup reads the streamed side first (for its keys).
                let probe_first = j.steps.iter().any(|s| s.lookup.is_some());
                let mut out = Vec::new();
                if probe_first {
                    out.extend(statement_texts(&j.probe.scatter));
                }
                for step in &j.steps {
                    out.extend(statement_texts(&step.side.scatter));
                }
                if !probe_first {
                    out.extend(statement_texts(&j.probe.scatter));
                }
                out
            }
        }
    }

    /// The aggregates the tree recomputes (empty without aggregation).
    pub fn aggregates(&self) -> &[Aggregate] {
        self.root.aggregates()
    }

    /// The columns the client sees (the root `Project`'s; all columns without one).
    pub fn visible(&self) -> Columns {
        match &self.root {
            Operator::Project { columns, .. } => *columns,
            _ => Columns::From(0),
        }
    }
}

/// A scatter's (data node, statement) pairs.
fn statement_texts(s: &Scatter) -> Vec<(DataNodeId, &str)> {
    s.parts.iter().map(|p| (p.dnid, p.sql.as_str())).collect()
}

/// The leaf of a query tree: each data node runs its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scatter {
    /// Statement per data node, in plan order (the order of the merge's inputs).
    pub parts: Vec<NodeStatement>,
}

/// One operator of a query tree. Column numbers index the per-node result's columns;
/// an aggregate's column holds its final value after aggregation.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    /// The nodes' rows in arrival order (no order promised).
    Gather(Scatter),
    /// A k-way merge of node streams each sorted by `keys` (the per-node query carries
    /// the ORDER BY): one row per node in memory.
    MergeSort {
        /// The nodes.
        input: Scatter,
        /// Sort keys.
        keys: Vec<SortKey>,
        /// How strictly each node's order is checked.
        check: OrderCheck,
    },
    /// Regroups rows that arrive sorted by the group keys: one group in memory.
    OrderedAggregate {
        /// Rows sorted by `group_by`.
        input: Box<Operator>,
        /// Grouping columns.
        group_by: Vec<usize>,
        /// Aggregates recomputed from per-node partials.
        aggregates: Vec<Aggregate>,
    },
    /// Regroups rows in any order in a hash table; with no `group_by`, exactly one row.
    HashAggregate {
        /// Rows in any order.
        input: Box<Operator>,
        /// Grouping columns; empty: one group over all rows.
        group_by: Vec<usize>,
        /// Aggregates recomputed from per-node partials.
        aggregates: Vec<Aggregate>,
    },
    /// Keeps the rows (groups) for which the HAVING predicate holds.
    Having {
        /// Input.
        input: Box<Operator>,
        /// The predicate.
        predicate: Predicate,
    },
    /// Removes rows whose `columns` repeat an earlier row's.
    Distinct {
        /// Input.
        input: Box<Operator>,
        /// Columns compared (the visible ones).
        columns: Columns,
    },
    /// Sorts in memory, keeping only the first `keep` rows when set (ORDER BY after
    /// aggregation).
    Sort {
        /// Input.
        input: Box<Operator>,
        /// Sort keys.
        keys: Vec<SortKey>,
        /// Rows worth keeping (OFFSET + LIMIT).
        keep: Option<u64>,
    },
    /// Skips `offset` rows and passes at most `limit`.
    Limit {
        /// Input.
        input: Box<Operator>,
        /// Rows skipped.
        offset: u64,
        /// Rows passed (None: all).
        limit: Option<u64>,
    },
    /// Joins tables read from their own per-node queries, in the compute node: the
    /// joined rows are what the operators above see (see [`HashJoin`]).
    HashJoin(Box<HashJoin>),
    /// Sends `columns` to the client and drops the helper columns (sort keys, AVG's
    /// COUNT) the planner appended.
    Project {
        /// Input.
        input: Box<Operator>,
        /// The client's columns.
        columns: Columns,
    },
}

impl Operator {
    /// The operator's input, None for a leaf operator.
    pub fn input(&self) -> Option<&Operator> {
        self.input_or_scatter().ok()
    }

    /// The scatter at the leaf.
    pub fn scatter(&self) -> &Scatter {
        let mut op = self;
        loop {
            match op.input_or_scatter() {
                Ok(input) => op = input,
                Err(scatter) => return scatter,
            }
        }
    }

    /// The operator's input, or its scatter for a leaf operator.
    fn input_or_scatter(&self) -> Result<&Operator, &Scatter> {
        match self {
            Operator::Gather(s) | Operator::MergeSort { input: s, .. } => Err(s),
            Operator::HashJoin(j) => Err(&j.probe.scatter),
            Operator::OrderedAggregate { input, .. }
            | Operator::HashAggregate { input, .. }
            | Operator::Having { input, .. }
            | Operator::Distinct { input, .. }
            | Operator::Sort { input, .. }
            | Operator::Limit { input, .. }
            | Operator::Project { input, .. } => Ok(input),
        }
    }

    /// The aggregates of the aggregate operator under (or at) this one.
    pub fn aggregates(&self) -> &[Aggregate] {
        match self {
            Operator::OrderedAggregate { aggregates, .. }
            | Operator::HashAggregate { aggregates, .. } => aggregates,
            other => other.input().map_or(&[], Operator::aggregates),
        }
    }

    /// The operator's name in EXPLAIN.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Gather(_) => "Gather",
            Operator::MergeSort { .. } => "MergeSort",
            Operator::OrderedAggregate { .. } => "OrderedAggregate",
            Operator::HashAggregate { .. } => "HashAggregate",
            Operator::Having { .. } => "Having",
            Operator::Distinct { .. } => "Distinct",
            Operator::Sort { .. } => "MemorySort",
            Operator::Limit { .. } => "Limit",
            Operator::HashJoin(_) => "HashJoin",
            Operator::Project { .. } => "Project",
        }
    }
}

/// A join in the compute node, left-deep: the rows of `probe` stream through the
/// steps, each of which looks its matches up in a hash table built from its own side
/// (read whole, under the merge memory budget, before the probe side is read). Sides
/// are numbered in join order: 0 is `probe`, step i's side is i + 1. Keys compare as
/// MySQL compares the two columns (NULL never matches); a step without keys is a cross
/// join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashJoin {
    /// The side that streams (the preserved side of a LEFT JOIN).
    pub probe: JoinSide,
    /// The joins, in order.
    pub steps: Vec<JoinStep>,
    /// The joined row's columns, which the operators above number.
    pub output: Vec<JoinColumn>,
}

impl HashJoin {
    /// Every side, in join order.
    pub fn sides(&self) -> impl Iterator<Item = &JoinSide> {
        std::iter::once(&self.probe).chain(self.steps.iter().map(|s| &s.side))
    }
}

/// One table's rows for a join: its per-node query (needed columns, its own filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinSide {
    /// The table as the statement qualifies it (for EXPLAIN).
    pub table: String,
    /// Statement per data node (the union of their rows is the side).
    pub scatter: Scatter,
    /// The collation id of each of the side's columns where the catalog knows it.
    pub collations: Vec<Option<u16>>,
}

/// One join of the rows so far with a side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinStep {
    /// LEFT JOIN: rows so far without a match are kept, with NULLs for the side.
    pub outer: bool,
    /// The side hashed and looked up.
    pub side: JoinSide,
    /// Equalities between a column of an earlier side and one of this side.
    pub keys: Vec<JoinKey>,
    /// Read the side by looking up the streamed side's keys (`IN` lists) instead of
    /// whole; None: read whole.
    pub lookup: Option<Lookup>,
}

/// A batched lookup: the streamed side (few rows: filtered by its sharding key) is read
/// first; its distinct key values go to the step's side as `IN (...)` lists of at most
/// `batch` values, appended to each node's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The condition's column as the side's statement names it (`` `x`.`k` ``).
    pub column: String,
    /// The side's statements already have a WHERE clause (the list is AND-ed to it).
    pub has_where: bool,
    /// Values per `IN` list.
    pub batch: usize,
    /// The locking clause the side's statements end with (` FOR UPDATE`), kept last.
    pub lock: Option<String>,
}

impl Lookup {
    /// The statement `sql` restricted to the key values `values` (SQL literals).
    pub fn statement(&self, sql: &str, values: &[String]) -> String {
        let glue = if self.has_where { " AND" } else { " WHERE" };
        let (body, lock) = match &self.lock {
            Some(lock) if sql.ends_with(lock.as_str()) => {
                (&sql[..sql.len() - lock.len()], lock.as_str())
            }
            _ => (sql, ""),
        };
        format!(
            "{body}{glue} {} IN ({}){lock}",
            self.column,
            values.join(", ")
        )
    }
}

/// `earlier.column = side.column` in a join step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinKey {
    /// Earlier side (join order).
    pub probe_side: usize,
    /// Its column.
    pub probe_column: usize,
    /// The step's side's column.
    pub column: usize,
}

/// One column of a joined row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinColumn {
    /// A column of a side (NULL when an outer join found no row of that side); `name`
    /// renames it for the client.
    Side {
        /// Side (join order).
        side: usize,
        /// Column of the side's query.
        column: usize,
        /// The client's name for it, when not the data node's.
        name: Option<String>,
    },
    /// 1 when the side's column is not NULL, else 0: COUNT's per-row partial
    /// (`side` None: COUNT(*), always 1).
    Count {
        /// Side and column counted; None for COUNT(*).
        of: Option<(usize, usize)>,
        /// The client's name for the aggregate.
        name: String,
    },
}

/// How strictly a merge sort checks that each node's rows arrive in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderCheck {
    /// Ties between long strings beyond the storage nodes' `max_sort_length` are
    /// tolerated (MariaDB sorts long strings by a prefix).
    Prefix,
    /// Out-of-order rows fail the merge (grouping depends on the order).
    Strict,
}

/// A set of per-node columns, by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// The first n columns.
    First(usize),
    /// Every column from this one on (`SELECT *`: the width is known at run time).
    From(usize),
}

impl Columns {
    /// The column numbers among `width` per-node columns (clamped).
    pub fn range(self, width: usize) -> std::ops::Range<usize> {
        match self {
            Columns::First(n) => 0..n.min(width),
            Columns::From(start) => start.min(width)..width,
        }
    }
}

/// One data node's statement in a multi-node plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatement {
    /// Target data node.
    pub dnid: DataNodeId,
    /// Statement text.
    pub sql: String,
}

impl NodeStatement {
    /// The same text for each of `nodes`.
    pub fn same(nodes: &[DataNodeId], sql: &str) -> Vec<NodeStatement> {
        nodes
            .iter()
            .map(|&dnid| NodeStatement {
                dnid,
                sql: sql.to_string(),
            })
            .collect()
    }
}

/// How the OK packets of a multi-node write become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCombine {
    /// Rows were split between nodes (sharded DML, DDL): affected rows add up.
    Sum,
    /// Every node holds a full copy (global table): report one node's counts.
    Replicated,
}

/// What a query over several nodes asks of the merge, as the SELECT rewrite finds it;
/// [`QueryPlan::from_spec`] (`lower.rs`) turns it into the operator tree that runs.
/// Column numbers index
/// the per-node result's columns; the first `visible_columns` are sent to the client and
/// the rest are helper columns the planner appended (sort keys, AVG's SUM/COUNT parts).
/// When the select list has `*` its width is known only at run time: then the helper
/// columns come first (`visible_start` of them) and every column after them is visible
/// (`visible_to_end`).
///
/// The merge runs in this order: regroup and combine aggregates (when `group_by` or
/// `aggregates` is non-empty; with an empty `group_by` there is exactly one output row,
/// even when no node returned a row), HAVING, DISTINCT, ORDER BY, OFFSET/LIMIT, then
/// helper columns are dropped. Columns that are neither grouped nor aggregated take the
/// value of any row of their group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergeSpec {
    /// Columns the client sees (a prefix of the per-node columns).
    pub visible_columns: usize,
    /// Grouping columns; empty with aggregates means one group over all rows.
    pub group_by: Vec<usize>,
    /// Aggregate output columns, recomputed across nodes from per-node partials.
    pub aggregates: Vec<Aggregate>,
    /// Filter over merged groups (HAVING), evaluated after aggregation.
    pub having: Option<Predicate>,
    /// Remove duplicate visible rows (SELECT DISTINCT).
    pub distinct: bool,
    /// Final order; per-node results arrive sorted by it when no aggregation intervenes.
    pub order_by: Vec<SortKey>,
    /// Rows to skip after merging.
    pub offset: u64,
    /// Rows to return after the offset (None: all).
    pub limit: Option<u64>,
    /// First visible column (non-zero only with `visible_to_end`).
    pub visible_start: usize,
    /// The visible columns are all per-node columns from `visible_start` on (`SELECT *`);
    /// `visible_columns` is then 0 and unused.
    pub visible_to_end: bool,
    /// String columns (lowercase names; `*`: all) of the statement's tables whose
    /// collation the merge cannot know: comparing them, or expressions when the list is
    /// not empty, is refused (binary and `*_bin` strings are exact).
    pub other_collation_columns: Vec<String>,
    /// The collation id of per-node columns, by column number, where the planner knows
    /// it (a table's column or MIN/MAX of one, from the catalog's recorded collations).
    pub collations: Vec<Option<u16>>,
    /// Each node's rows arrive sorted by `order_by` even with aggregation (the per-node
    /// query carries it): when the ORDER BY starts with the GROUP BY columns, grouping
    /// streams (merge sort + ordered aggregate). The SELECT rewrite drops ORDER BY from
    /// aggregated per-node queries, so it never sets this today.
    pub presorted_groups: bool,
}

/// One ORDER BY key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// Column number in the per-node result.
    pub column: usize,
    /// DESC.
    pub descending: bool,
}

/// An aggregate whose per-node partial results are combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// Column that holds the per-node partial and, after merging, the final value.
    pub column: usize,
    /// How partials combine.
    pub function: AggregateFunction,
}

/// Cross-node combination of per-node partial aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggregateFunction {
    /// COUNT(*) / COUNT(x): partial counts add up.
    Count,
    /// SUM(x): partial sums add up (NULL when every partial is NULL).
    Sum,
    /// MIN(x).
    Min,
    /// MAX(x).
    Max,
    /// AVG(x) = SUM / COUNT with MySQL's result type: the per-node query returns
    /// SUM(x) in `column` and COUNT(x) in `count_column`. The planner does not know the
    /// argument's type, so `scale` is div_precision_increment (4 by default): the result's
    /// decimals are the per-node SUM column's decimals plus `scale` (at most 30), and a
    /// floating-point SUM gives a floating-point AVG.
    Avg {
        /// Column holding the per-node COUNT(x).
        count_column: usize,
        /// Decimal places of the result.
        scale: u32,
    },
    /// COUNT(DISTINCT x): the per-node query returns the distinct values of x (one row
    /// per group and value); the merge counts distinct values across nodes.
    CountDistinct,
    /// GROUP_CONCAT(x SEPARATOR s): partial strings are joined with the separator.
    GroupConcat {
        /// The separator.
        separator: String,
    },
    /// BIT_AND(x) / BIT_OR(x) / BIT_XOR(x): the per-node results (BIGINT UNSIGNED, the
    /// operation's identity for a node without rows) combine with the same operation.
    Bit(BitOp),
}

/// A bitwise aggregate's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// BIT_AND: identity all ones.
    And,
    /// BIT_OR: identity 0.
    Or,
    /// BIT_XOR: identity 0.
    Xor,
}

impl BitOp {
    /// The SQL function's name.
    pub fn name(self) -> &'static str {
        match self {
            BitOp::And => "BIT_AND",
            BitOp::Or => "BIT_OR",
            BitOp::Xor => "BIT_XOR",
        }
    }

    /// The result over no rows.
    pub fn identity(self) -> u64 {
        match self {
            BitOp::And => u64::MAX,
            BitOp::Or | BitOp::Xor => 0,
        }
    }

    /// Combines two partial results.
    pub fn apply(self, a: u64, b: u64) -> u64 {
        match self {
            BitOp::And => a & b,
            BitOp::Or => a | b,
            BitOp::Xor => a ^ b,
        }
    }
}

/// A HAVING condition over merged columns: comparisons of a column with a literal,
/// combined with AND/OR/NOT. Anything richer is refused by the planner.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// `column op literal`.
    Compare {
        /// Column number.
        column: usize,
        /// Comparison.
        op: CompareOp,
        /// Literal as SQL text (number or string); NULL never compares true.
        literal: Literal,
    },
    /// Both hold.
    And(Box<Predicate>, Box<Predicate>),
    /// Either holds.
    Or(Box<Predicate>, Box<Predicate>),
    /// Negation.
    Not(Box<Predicate>),
}

impl Predicate {
    /// `column [NOT] BETWEEN lo AND hi`.
    pub(crate) fn between(column: usize, lo: Literal, hi: Literal, negated: bool) -> Predicate {
        let between = Predicate::And(
            Box::new(Predicate::Compare {
                column,
                op: CompareOp::Ge,
                literal: lo,
            }),
            Box::new(Predicate::Compare {
                column,
                op: CompareOp::Le,
                literal: hi,
            }),
        );
        if negated {
            Predicate::Not(Box::new(between))
        } else {
            between
        }
    }
}

/// Comparison operators in HAVING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>` / `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A literal in a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// NULL.
    Null,
    /// A number as written (integer or decimal).
    Number(String),
    /// A string.
    String(String),
}
