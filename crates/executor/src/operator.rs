//! The interface every merge operator implements, and the per-node input queues the
//! pipeline pulls from.
//!
//! Operators form a pull pipeline (source -> aggregate -> HAVING -> DISTINCT -> sort ->
//! LIMIT). A pull yields a row, says which input it needs before it can go on, or says
//! the operator is done. Sources never wait: when the row they need has not arrived they
//! answer `Need`, and `Merger` hands that demand to its caller, who reads exactly that
//! data node. This is how a pure ordered merge streams with one row per node in memory.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::error::MergeError;
use crate::memory::{MemoryBudget, Reservation};
use crate::row::Row;

/// Which input the merge needs before it can produce more output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demand {
    /// The next row (or the end) of this data node, by its position in the plan.
    Node(usize),
    /// The next row (or the end) of any unfinished data node; order does not matter.
    AnyNode,
}

/// The result of pulling from an operator.
#[derive(Debug)]
pub(crate) enum Pull {
    /// A row.
    Row(Row),
    /// Nothing can be produced before this input arrives.
    Need(Demand),
    /// No more rows.
    Done,
}

/// A warning the merge raised for the client (SHOW WARNINGS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeWarning {
    /// MySQL error number.
    pub code: u16,
    /// Message, worded as MySQL words it.
    pub message: String,
}

/// What operators share while pulling: the input queues and the warnings raised.
#[derive(Debug)]
pub(crate) struct Context {
    /// Rows received from the data nodes, not yet pulled.
    pub inputs: NodeInputs,
    /// Warnings for the client.
    pub warnings: Vec<MergeWarning>,
}

/// One merge operator.
pub(crate) trait Operator: std::fmt::Debug + Send {
    /// Produces the next row, a demand for input, or the end.
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError>;
}

/// Rows received from each data node and not yet consumed, with each node's end.
#[derive(Debug)]
pub(crate) struct NodeInputs {
    columns: usize,
    queues: Vec<VecDeque<Row>>,
    finished: Vec<bool>,
    memory: Reservation,
}

impl NodeInputs {
    /// Queues for `nodes` data nodes whose rows have `columns` values.
    pub fn new(nodes: usize, columns: usize, budget: &MemoryBudget) -> Self {
        Self {
            columns,
            queues: (0..nodes).map(|_| VecDeque::new()).collect(),
            finished: vec![false; nodes],
            memory: budget.reservation(),
        }
    }

    /// Number of data nodes.
    pub fn nodes(&self) -> usize {
        self.queues.len()
    }

    fn check_node(&self, node: usize) -> Result<(), MergeError> {
        if node >= self.queues.len() {
            return Err(MergeError::Misuse(format!(
                "data node #{node} is not part of this merge of {} nodes",
                self.queues.len()
            )));
        }
        if self.finished[node] {
            return Err(MergeError::Misuse(format!(
                "data node #{node} already finished"
            )));
        }
        Ok(())
    }

    /// Queues a row payload from `node`.
    pub fn push(&mut self, node: usize, payload: Bytes) -> Result<(), MergeError> {
        self.check_node(node)?;
        let row = Row::decode(payload, self.columns)
            .map_err(|detail| MergeError::MalformedRow { node, detail })?;
        self.memory.grow(row.heap_size())?;
        self.queues[node].push_back(row);
        Ok(())
    }

    /// Records that `node` sent its last row.
    pub fn finish(&mut self, node: usize) -> Result<(), MergeError> {
        self.check_node(node)?;
        self.finished[node] = true;
        Ok(())
    }

    /// Takes the next queued row of `node`.
    pub fn take(&mut self, node: usize) -> Option<Row> {
        let row = self.queues.get_mut(node)?.pop_front()?;
        self.memory.shrink(row.heap_size());
        Some(row)
    }

    /// Whether `node` has sent its last row (rows may still be queued).
    pub fn is_finished(&self, node: usize) -> bool {
        self.finished.get(node).copied().unwrap_or(true)
    }

    /// Whether `node` is finished and every row it sent was taken.
    pub fn is_exhausted(&self, node: usize) -> bool {
        self.is_finished(node) && self.queues.get(node).is_none_or(VecDeque::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use strata_protocol::packets::encode_text_row;

    fn row(v: &str) -> Bytes {
        let mut buf = BytesMut::new();
        encode_text_row(&mut buf, [Some(v.as_bytes())]);
        buf.freeze()
    }

    #[test]
    fn queued_rows_count_against_the_budget_until_taken() {
        let budget = MemoryBudget::new(1 << 20);
        let mut inputs = NodeInputs::new(2, 1, &budget);
        inputs.push(1, row("a")).unwrap();
        assert!(budget.used() > 0);
        assert!(inputs.take(0).is_none());
        assert!(inputs.take(1).is_some());
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn misuse_and_malformed_rows_are_errors() {
        let budget = MemoryBudget::new(1 << 20);
        let mut inputs = NodeInputs::new(1, 1, &budget);
        assert!(matches!(
            inputs.push(3, row("a")),
            Err(MergeError::Misuse(_))
        ));
        assert!(matches!(
            inputs.push(0, Bytes::from_static(b"\x05ab")),
            Err(MergeError::MalformedRow { node: 0, .. })
        ));
        inputs.push(0, row("a")).unwrap();
        inputs.finish(0).unwrap();
        assert!(inputs.is_finished(0) && !inputs.is_exhausted(0));
        assert!(matches!(
            inputs.push(0, row("b")),
            Err(MergeError::Misuse(_))
        ));
        inputs.take(0);
        assert!(inputs.is_exhausted(0));
    }

    #[test]
    fn a_row_larger_than_the_budget_is_refused() {
        let budget = MemoryBudget::new(10);
        let mut inputs = NodeInputs::new(1, 1, &budget);
        assert_eq!(
            inputs.push(0, row("a")),
            Err(MergeError::MemoryBudgetExceeded { budget: 10 })
        );
    }
}
