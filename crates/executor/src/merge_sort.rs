//! MergeSort: the k-way merge of data-node streams that each arrive sorted by the ORDER
//! BY keys (the planner pushes the ORDER BY down). A binary heap holds the head row of
//! every node; the smallest head goes out next, ties going to the lower node so the merge
//! is stable by node order. The merge needs a head from every unfinished node before it
//! can emit, and asks for exactly the node that is missing one.
//!
//! Every node's stream is checked to really be sorted: a row that sorts before its
//! predecessor from the same node is an error (`OutOfOrder`), never a silently wrong
//! order. For ORDER BY the check compares strings on their first `max_sort_length / 8`
//! characters, because MariaDB itself sorts long strings on a prefix and leaves the rest
//! of such ties in any order; for grouping (`strict`) it compares whole values, since a
//! split group would be a wrong answer.

use std::cmp::Ordering;

use crate::error::MergeError;
use crate::layout::SortSpec;
use crate::memory::{MemoryBudget, Reservation};
use crate::operator::{Context, Demand, Operator, Pull};
use crate::row::Row;
use crate::value::Value;

/// How strictly each node's order is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderCheck {
    /// Strings compare on this many leading characters.
    Prefix(usize),
    /// Whole values.
    Strict,
}

#[derive(Debug)]
struct Head {
    keys: Vec<Value>,
    node: usize,
    row: Row,
    /// Bytes charged for the row and its keys.
    size: usize,
}

fn keys_size(keys: &[Value]) -> usize {
    keys.iter().map(Value::heap_size).sum()
}

/// k-way merge of sorted node streams.
#[derive(Debug)]
pub(crate) struct MergeSort {
    spec: SortSpec,
    check: OrderCheck,
    heap: Vec<Head>,
    in_heap: Vec<bool>,
    last: Vec<Option<Vec<Value>>>,
    last_sizes: Vec<usize>,
    memory: Reservation,
}

impl MergeSort {
    /// A merge of `nodes` streams sorted by `spec`.
    pub fn new(spec: SortSpec, nodes: usize, check: OrderCheck, budget: &MemoryBudget) -> Self {
        Self {
            spec,
            check,
            heap: Vec::with_capacity(nodes),
            in_heap: vec![false; nodes],
            last: vec![None; nodes],
            last_sizes: vec![0; nodes],
            memory: budget.reservation(),
        }
    }

    fn less(&self, a: usize, b: usize) -> bool {
        let (x, y) = (&self.heap[a], &self.heap[b]);
        self.spec
            .compare(&x.keys, &y.keys)
            .then(x.node.cmp(&y.node))
            == Ordering::Less
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(i, parent) {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut smallest = i;
            if l < self.heap.len() && self.less(l, smallest) {
                smallest = l;
            }
            if r < self.heap.len() && self.less(r, smallest) {
                smallest = r;
            }
            if smallest == i {
                return;
            }
            self.heap.swap(i, smallest);
            i = smallest;
        }
    }

    fn admit(&mut self, node: usize, row: Row) -> Result<(), MergeError> {
        let keys = self.spec.decode(&row)?;
        if let Some(previous) = &self.last[node] {
            let ord = match self.check {
                OrderCheck::Prefix(chars) => self.spec.compare_prefix(previous, &keys, chars),
                OrderCheck::Strict => self.spec.compare(previous, &keys),
            };
            if ord == Ordering::Greater {
                tracing::warn!(node, "data node returned rows out of the pushed-down order");
                return Err(MergeError::OutOfOrder { node });
            }
        }
        let size = row.heap_size() + keys_size(&keys);
        self.memory.grow(size + keys_size(&keys))?;
        self.memory.shrink(self.last_sizes[node]);
        self.last_sizes[node] = keys_size(&keys);
        self.last[node] = Some(keys.clone());
        self.in_heap[node] = true;
        self.heap.push(Head {
            keys,
            node,
            row,
            size,
        });
        let last = self.heap.len() - 1;
        self.sift_up(last);
        Ok(())
    }
}

impl Operator for MergeSort {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        for node in 0..self.in_heap.len() {
            if self.in_heap[node] {
                continue;
            }
            match cx.inputs.take(node) {
                Some(row) => self.admit(node, row)?,
                None if !cx.inputs.is_finished(node) => return Ok(Pull::Need(Demand::Node(node))),
                None => {}
            }
        }
        if self.heap.is_empty() {
            // Every node is exhausted: the order check needs its last keys no more.
            self.last.iter_mut().for_each(|l| *l = None);
            self.last_sizes.iter_mut().for_each(|s| *s = 0);
            self.memory.shrink(self.memory.held());
            return Ok(Pull::Done);
        }
        let last = self.heap.len() - 1;
        self.heap.swap(0, last);
        let Some(head) = self.heap.pop() else {
            return Ok(Pull::Done);
        };
        self.sift_down(0);
        self.in_heap[head.node] = false;
        self.memory.shrink(head.size);
        Ok(Pull::Row(head.row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::operator::NodeInputs;
    use crate::test_support::{int_col, payload, texts, varchar_col};
    use proptest::prelude::*;
    use strata_protocol::packets::ColumnDef;

    fn merge(
        columns: &[ColumnDef],
        keys: &[(usize, bool)],
        nodes: &[Vec<Vec<Option<&str>>>],
        check: OrderCheck,
    ) -> Result<Vec<Vec<Option<String>>>, MergeError> {
        let budget = MemoryBudget::default();
        let layout = Layout::new(columns, columns, &[]);
        let spec = SortSpec::new(keys.iter().copied(), |c| layout.node_kind(c))?;
        let mut op = MergeSort::new(spec, nodes.len(), check, &budget);
        let mut cx = Context {
            inputs: NodeInputs::new(nodes.len(), columns.len(), &budget),
            warnings: Vec::new(),
        };
        let mut cursors = vec![0usize; nodes.len()];
        let mut out = Vec::new();
        loop {
            match op.pull(&mut cx)? {
                Pull::Row(row) => out.push(texts(&row)),
                Pull::Need(Demand::Node(n)) => match nodes[n].get(cursors[n]) {
                    Some(values) => {
                        cx.inputs.push(n, payload(values))?;
                        cursors[n] += 1;
                    }
                    None => cx.inputs.finish(n)?,
                },
                Pull::Need(Demand::AnyNode) => panic!("a merge asks for a specific node"),
                Pull::Done => break,
            }
        }
        assert_eq!(budget.used(), 0, "nothing stays reserved");
        Ok(out)
    }

    fn owned(rows: &[Vec<Option<&str>>]) -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|r| r.iter().map(|v| v.map(String::from)).collect())
            .collect()
    }

    #[test]
    fn merges_mixed_directions_with_nulls_first_ascending() {
        let cols = [varchar_col("s"), int_col("n")];
        // ORDER BY s ASC, n DESC, as three nodes would return it.
        let out = merge(
            &cols,
            &[(0, false), (1, true)],
            &[
                vec![
                    vec![None, Some("1")],
                    vec![Some("a"), Some("5")],
                    vec![Some("B"), Some("1")],
                ],
                vec![
                    vec![None, Some("7")],
                    vec![Some("A"), Some("9")],
                    vec![Some("a"), Some("2")],
                ],
                vec![],
            ],
            OrderCheck::Strict,
        )
        .unwrap();
        assert_eq!(
            out,
            owned(&[
                vec![None, Some("7")],
                vec![None, Some("1")],
                vec![Some("A"), Some("9")],
                vec![Some("a"), Some("5")],
                vec![Some("a"), Some("2")],
                vec![Some("B"), Some("1")],
            ])
        );
    }

    #[test]
    fn ties_keep_node_order() {
        let cols = [varchar_col("s"), int_col("node")];
        let out = merge(
            &cols,
            &[(0, false)],
            &[
                vec![vec![Some("x"), Some("0")], vec![Some("X"), Some("0")]],
                vec![vec![Some("x "), Some("1")]],
            ],
            OrderCheck::Strict,
        )
        .unwrap();
        let nodes: Vec<_> = out.iter().map(|r| r[1].clone().unwrap()).collect();
        assert_eq!(nodes, ["0", "0", "1"]);
    }

    #[test]
    fn an_unsorted_node_is_an_error() {
        let cols = [int_col("n")];
        let err = merge(
            &cols,
            &[(0, false)],
            &[
                vec![vec![Some("2")], vec![Some("1")]],
                vec![vec![Some("0")]],
            ],
            OrderCheck::Strict,
        )
        .unwrap_err();
        assert_eq!(err, MergeError::OutOfOrder { node: 0 });
    }

    #[test]
    fn long_string_ties_past_the_sort_prefix_are_tolerated() {
        let cols = [varchar_col("s")];
        let (b, a) = ("xxxxb", "xxxxa");
        let nodes = [vec![vec![Some(b)], vec![Some(a)]]];
        assert!(merge(&cols, &[(0, false)], &nodes, OrderCheck::Prefix(4)).is_ok());
        assert!(merge(&cols, &[(0, false)], &nodes, OrderCheck::Strict).is_err());
    }

    #[test]
    fn enum_columns_cannot_be_merged_by_order() {
        let mut col = varchar_col("e");
        col.flags |= crate::value::ENUM_FLAG;
        let err = merge(&[col], &[(0, false)], &[vec![]], OrderCheck::Strict).unwrap_err();
        assert!(matches!(err, MergeError::Unsupported(_)));
    }

    proptest! {
        /// Merging sorted streams equals sorting their concatenation (stably, by node).
        #[test]
        fn merge_equals_sorting_the_concatenation(
            nodes in proptest::collection::vec(
                proptest::collection::vec((proptest::option::of(-5i64..5), 0i64..3), 0..12), 1..5),
            desc in any::<bool>(),
        ) {
            let cols = [int_col("k"), int_col("tag")];
            let keys = [(0usize, desc), (1usize, false)];
            let cmp = |a: &(Option<i64>, i64), b: &(Option<i64>, i64)| {
                let first = a.0.cmp(&b.0);
                (if desc { first.reverse() } else { first }).then(a.1.cmp(&b.1))
            };
            let mut sorted_nodes = nodes.clone();
            for n in &mut sorted_nodes {
                n.sort_by(cmp);
            }
            let text: Vec<Vec<Vec<Option<String>>>> = sorted_nodes
                .iter()
                .map(|n| n.iter().map(|(k, t)| vec![k.map(|k| k.to_string()), Some(t.to_string())]).collect())
                .collect();
            let borrowed: Vec<Vec<Vec<Option<&str>>>> = text
                .iter()
                .map(|n| n.iter().map(|r| r.iter().map(|v| v.as_deref()).collect()).collect())
                .collect();
            let out = merge(&cols, &keys, &borrowed, OrderCheck::Strict).unwrap();
            let mut expected: Vec<(Option<i64>, i64)> = sorted_nodes.concat();
            expected.sort_by(cmp);
            let expected: Vec<Vec<Option<String>>> = expected
                .iter()
                .map(|(k, t)| vec![k.map(|k| k.to_string()), Some(t.to_string())])
                .collect();
            prop_assert_eq!(out, expected);
        }
    }
}
