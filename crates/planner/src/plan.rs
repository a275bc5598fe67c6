//! Distributed plans: what the executor runs on which data nodes and how the replies
//! are combined. The planner produces them; the executor runs them; EXPLAIN prints them,
//! so what runs is what is shown.

/// How a statement is executed across data nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// One data node runs `sql` and its reply streams to the client unchanged
    /// (the fast path: no row is decoded).
    Single {
        /// Target data node.
        dnid: u32,
        /// Statement text for that node.
        sql: String,
    },
    /// Several data nodes run statements that return no rows (DML, DDL); their OK
    /// packets are combined.
    Write {
        /// Statement per data node (the same text for DDL fan-out and global tables,
        /// per-node row subsets for a split INSERT).
        parts: Vec<NodeStatement>,
        /// How affected rows and insert ids combine.
        combine: WriteCombine,
    },
    /// Several data nodes run `sql`; their result sets are merged as `merge` says.
    Scatter {
        /// Data nodes queried, in DNID order.
        nodes: Vec<u32>,
        /// The per-node query (rewritten: LIMIT o+n, AVG split into SUM and COUNT, ...).
        sql: String,
        /// How the per-node results become the client's result.
        merge: MergeSpec,
    },
    /// Like `Scatter`, but each data node runs its own text (e.g. the `DNID`
    /// pseudo-column selected as each node's own number); merged as `merge` says.
    ScatterPerNode {
        /// Statement per data node, in DNID order.
        parts: Vec<NodeStatement>,
        /// How the per-node results become the client's result.
        merge: MergeSpec,
    },
}

/// One data node's statement in a multi-node plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatement {
    /// Target data node.
    pub dnid: u32,
    /// Statement text.
    pub sql: String,
}

/// How the OK packets of a multi-node write become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCombine {
    /// Rows were split between nodes (sharded DML, DDL): affected rows add up.
    Sum,
    /// Every node holds a full copy (global table): report one node's counts.
    Replicated,
}

/// How per-node result sets are merged into the client's result. Column numbers index
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
