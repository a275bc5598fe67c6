//! `INSERT/REPLACE/DELETE ... RETURNING` (MariaDB): a write that answers with rows.
//! On one data node its text goes there and the node's rows are the answer. Over
//! several data nodes each node's statement keeps its RETURNING clause, the write runs
//! atomically as any DML over several nodes, and the rows the nodes return are the
//! answer once it committed: an INSERT's in the order of its VALUES rows (as MariaDB
//! returns them), a DELETE's node after node (MariaDB promises no order). A write to
//! every copy of a global table would return each row once per copy, and a subquery in
//! the clause would read each node's rows only: both refused.

use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions, Expr, SelectItem};

use crate::error::PlanError;
use crate::plan::{Plan, Reply, ReturnedOrder, WriteKind};
use crate::Planned;

/// `what` when the statement has a RETURNING clause (`items`), None without one; Err
/// for a clause with a subquery, which each node would run over its own rows only.
pub(crate) fn clause<'w>(
    what: &'w str,
    items: Option<&[SelectItem]>,
) -> Result<Option<&'w str>, PlanError> {
    let Some(items) = items else {
        return Ok(None);
    };
    let subquery = visit_expressions(&items.to_vec(), |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    if subquery.is_break() {
        return Err(PlanError::unsupported(format!(
            "{what} with a subquery in a database over several data nodes"
        )));
    }
    Ok(Some(what))
}

/// `planned`, the plan of a write with a RETURNING clause (`what` names it), made to
/// answer with rows; refused when its rows cannot be given as MariaDB gives them.
pub(crate) fn answer_rows(what: &str, mut planned: Planned) -> Result<Planned, PlanError> {
    planned.plan = match planned.plan {
        Plan::Route(mut route) => {
            route.reply = Reply::Rows;
            Plan::Route(route)
        }
        // A write planned for one node (a global AUTO_INCREMENT value filled in, ...).
        Plan::Write(write) if write.parts.len() == 1 && write.kind.is_dml() => {
            let part = write
                .parts
                .into_iter()
                .next()
                .ok_or_else(|| PlanError::unsupported(format!("{what} without a data node")))?;
            Plan::route(part.dnid, part.sql, Reply::Rows)
        }
        Plan::Write(mut write) if write.kind == WriteKind::Dml || write.returning.is_some() => {
            // An INSERT split over nodes carries its VALUES order already.
            write.returning.get_or_insert(ReturnedOrder::ByNode);
            Plan::Write(write)
        }
        _ => {
            return Err(PlanError::unsupported(format!(
                "{what} over several copies of a global table"
            )))
        }
    };
    Ok(planned)
}

/// Where each VALUES row of a split INSERT comes back: `parts` are the row indexes each
/// node's statement got, in plan order.
pub(crate) fn values_order<'a>(parts: impl Iterator<Item = &'a Vec<usize>>) -> ReturnedOrder {
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (part, rows) in parts.enumerate() {
        for (k, &row) in rows.iter().enumerate() {
            if order.len() <= row {
                order.resize(row + 1, (0, 0));
            }
            order[row] = (part, k);
        }
    }
    ReturnedOrder::Rows(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_rows_come_back_in_their_order() {
        // Rows 0 and 3 went to the first node, 1 and 2 to the second.
        let parts = [vec![0, 3], vec![1, 2]];
        assert_eq!(
            values_order(parts.iter()),
            ReturnedOrder::Rows(vec![(0, 0), (1, 0), (1, 1), (0, 1)])
        );
    }
}
