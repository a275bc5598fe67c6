//! The rows of a write with RETURNING over several data nodes: read from each node
//! within a byte budget while the write runs, handed out in the statement's order once
//! it committed (see `strata_planner::ReturnedOrder`).

use bytes::Bytes;
use strata_planner::ReturnedOrder;
use strata_protocol::MysqlError;

use super::NodeIo;
use crate::error::RESULT_TOO_LARGE;

/// Reads the rest of node `node`'s result set, taking each row's size from `budget`
/// (`limit` is the whole budget, for the message).
pub(super) async fn read_rows<I: NodeIo>(
    io: &mut I,
    node: usize,
    budget: &mut usize,
    limit: usize,
) -> Result<Vec<Bytes>, MysqlError> {
    let mut rows = Vec::new();
    while let Some(row) = io.next_row(node).await? {
        match budget.checked_sub(row.len()) {
            Some(left) => *budget = left,
            None => {
                io.drain(node).await;
                return Err(MysqlError::new(
                    RESULT_TOO_LARGE,
                    format!(
                        "The rows a write with RETURNING returned exceed the merge memory budget of {limit} bytes ([merge] memory_budget)"
                    ),
                ));
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The returned rows (per plan position: its rows) in the statement's order; None when
/// `order` names a row no node returned.
pub fn returned_in_order(
    order: &ReturnedOrder,
    mut returned: Vec<(usize, Vec<Bytes>)>,
) -> Option<Vec<Bytes>> {
    returned.sort_by_key(|(node, _)| *node);
    match order {
        ReturnedOrder::ByNode => Some(returned.into_iter().flat_map(|(_, rows)| rows).collect()),
        ReturnedOrder::Rows(rows) => rows
            .iter()
            .map(|&(part, k)| {
                returned
                    .iter()
                    .find(|(node, _)| *node == part)
                    .and_then(|(_, r)| r.get(k).cloned())
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_out_in_the_statements_order() {
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        let returned = vec![(1, vec![b("b"), b("c")]), (0, vec![b("a"), b("d")])];
        let order = ReturnedOrder::Rows(vec![(0, 0), (1, 0), (1, 1), (0, 1)]);
        assert_eq!(
            returned_in_order(&order, returned.clone()),
            Some(vec![b("a"), b("b"), b("c"), b("d")])
        );
        assert_eq!(
            returned_in_order(&ReturnedOrder::ByNode, returned.clone()),
            Some(vec![b("a"), b("d"), b("b"), b("c")])
        );
        let missing = ReturnedOrder::Rows(vec![(0, 5)]);
        assert_eq!(returned_in_order(&missing, returned), None);
    }
}
