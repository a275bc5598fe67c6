//! Gather: the unordered union of the data nodes' streams, the source when the final
//! order does not depend on arrival order (no ORDER BY, or an ORDER BY applied after
//! aggregation). Rows keep their order within a node; between nodes, whatever is queued
//! first goes first (lowest node first), and when nothing is queued any unfinished node
//! may deliver next.

use crate::error::MergeError;
use crate::operator::{Context, Demand, Operator, Pull};

/// Union of all node streams in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Gather;

impl Operator for Gather {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        let nodes = cx.inputs.nodes();
        for node in 0..nodes {
            if let Some(row) = cx.inputs.take(node) {
                return Ok(Pull::Row(row));
            }
        }
        if (0..nodes).all(|n| cx.inputs.is_exhausted(n)) {
            Ok(Pull::Done)
        } else {
            Ok(Pull::Need(Demand::AnyNode))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryBudget;
    use crate::operator::NodeInputs;
    use crate::test_support::{payload, texts};

    #[test]
    fn gathers_whatever_is_queued_and_asks_any_node_otherwise() {
        let mut cx = Context {
            inputs: NodeInputs::new(2, 1, &MemoryBudget::default()),
            warnings: Vec::new(),
        };
        let mut gather = Gather;
        assert!(matches!(
            gather.pull(&mut cx),
            Ok(Pull::Need(Demand::AnyNode))
        ));
        cx.inputs.push(1, payload(&[Some("b")])).unwrap();
        cx.inputs.push(0, payload(&[Some("a")])).unwrap();
        let mut out = Vec::new();
        while let Ok(Pull::Row(row)) = gather.pull(&mut cx) {
            out.push(texts(&row));
        }
        assert_eq!(
            out,
            vec![vec![Some("a".to_string())], vec![Some("b".to_string())]]
        );
        cx.inputs.finish(0).unwrap();
        assert!(matches!(
            gather.pull(&mut cx),
            Ok(Pull::Need(Demand::AnyNode))
        ));
        cx.inputs.finish(1).unwrap();
        assert!(matches!(gather.pull(&mut cx), Ok(Pull::Done)));
    }
}
