//! From what a query asks of the merge ([`MergeSpec`], found by the SELECT rewrite) to
//! the operator tree that runs ([`QueryPlan`]). Every physical choice is made here, once:
//! a k-way merge sort when each node's rows arrive sorted, a streaming ordered aggregate
//! only when the nodes' rows arrive sorted by the group keys, otherwise a hash aggregate
//! followed by an in-memory sort. The executor builds exactly this tree and EXPLAIN
//! prints it.
//!
//! Order of the operators (MySQL's): source -> aggregate -> HAVING -> DISTINCT -> sort
//! -> LIMIT -> project.

use crate::plan::{
    Columns, MergeSpec, NodeStatement, Operator, OrderCheck, QueryPlan, Scatter, SortKey,
};

impl QueryPlan {
    /// The tree that merges the results of `parts` as `spec` asks.
    pub fn from_spec(parts: Vec<NodeStatement>, spec: MergeSpec) -> QueryPlan {
        let visible = if spec.visible_to_end {
            Columns::From(spec.visible_start)
        } else {
            Columns::First(spec.visible_columns)
        };
        let scatter = Scatter { parts };
        let aggregating = !spec.group_by.is_empty() || !spec.aggregates.is_empty();
        let ordered = aggregating && spec.presorted_groups && order_leads_with_groups(&spec);
        let mut op = if !spec.order_by.is_empty() && (!aggregating || ordered) {
            let (keys, check) = if ordered {
                (
                    spec.order_by[..spec.group_by.len()].to_vec(),
                    OrderCheck::Strict,
                )
            } else {
                (spec.order_by.clone(), OrderCheck::Prefix)
            };
            Operator::MergeSort {
                input: scatter,
                keys,
                check,
            }
        } else {
            Operator::Gather(scatter)
        };
        if aggregating {
            let input = Box::new(op);
            let group_by = spec.group_by.clone();
            let aggregates = spec.aggregates.clone();
            op = if ordered {
                Operator::OrderedAggregate {
                    input,
                    group_by,
                    aggregates,
                }
            } else {
                Operator::HashAggregate {
                    input,
                    group_by,
                    aggregates,
                }
            };
        }
        if let Some(predicate) = spec.having {
            op = Operator::Having {
                input: Box::new(op),
                predicate,
            };
        }
        if spec.distinct {
            op = Operator::Distinct {
                input: Box::new(op),
                columns: visible,
            };
        }
        if aggregating && !ordered && !spec.order_by.is_empty() {
            op = Operator::Sort {
                input: Box::new(op),
                keys: spec.order_by.clone(),
                keep: spec.limit.map(|l| spec.offset.saturating_add(l)),
            };
        }
        if spec.offset > 0 || spec.limit.is_some() {
            op = Operator::Limit {
                input: Box::new(op),
                offset: spec.offset,
                limit: spec.limit,
            };
        }
        QueryPlan {
            root: Operator::Project {
                input: Box::new(op),
                columns: visible,
            },
            collations: spec.collations,
            other_collation_columns: spec.other_collation_columns,
        }
    }
}

/// Whether the ORDER BY starts with exactly the GROUP BY columns (in any order).
fn order_leads_with_groups(spec: &MergeSpec) -> bool {
    let groups = spec.group_by.len();
    if groups == 0 || spec.order_by.len() < groups {
        return false;
    }
    let mut lead: Vec<usize> = spec.order_by[..groups]
        .iter()
        .map(|k: &SortKey| k.column)
        .collect();
    let mut group: Vec<usize> = spec.group_by.clone();
    lead.sort_unstable();
    group.sort_unstable();
    lead.dedup();
    lead == group
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Aggregate, AggregateFunction};

    fn key(column: usize) -> SortKey {
        SortKey {
            column,
            descending: false,
        }
    }

    fn grouped(presorted_groups: bool) -> MergeSpec {
        MergeSpec {
            visible_columns: 2,
            group_by: vec![0],
            aggregates: vec![Aggregate {
                column: 1,
                function: AggregateFunction::Count,
            }],
            order_by: vec![key(0)],
            limit: Some(3),
            presorted_groups,
            ..MergeSpec::default()
        }
    }

    fn names(op: &Operator) -> Vec<&'static str> {
        let mut out = vec![op.name()];
        let mut cur = op;
        while let Some(input) = cur.input() {
            out.push(input.name());
            cur = input;
        }
        out
    }

    #[test]
    fn grouping_streams_only_when_nodes_promise_the_group_order() {
        let hashed = QueryPlan::from_spec(Vec::new(), grouped(false));
        assert_eq!(
            names(&hashed.root),
            ["Project", "Limit", "MemorySort", "HashAggregate", "Gather"]
        );
        let ordered = QueryPlan::from_spec(Vec::new(), grouped(true));
        assert_eq!(
            names(&ordered.root),
            ["Project", "Limit", "OrderedAggregate", "MergeSort"]
        );
    }

    #[test]
    fn select_star_projects_the_columns_after_the_helpers() {
        let spec = MergeSpec {
            visible_to_end: true,
            visible_start: 1,
            order_by: vec![key(0)],
            ..MergeSpec::default()
        };
        let plan = QueryPlan::from_spec(Vec::new(), spec);
        assert_eq!(plan.visible(), Columns::From(1));
        assert_eq!(names(&plan.root), ["Project", "MergeSort"]);
    }
}
