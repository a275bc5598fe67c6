//! `INSERT/REPLACE/DELETE ... RETURNING` (MariaDB): a write that answers with rows.
//! When the write runs on one data node its text goes there and the node's rows are the
//! answer. Over several data nodes the rows would have to be merged from each node after
//! the write committed everywhere, in MariaDB's row order; that is not built, so such a
//! write is refused before any node runs it (`UPDATE ... RETURNING` is no MariaDB syntax).

use crate::error::PlanError;
use crate::plan::{Plan, Reply};
use crate::Planned;

/// `planned`, the plan of a write with a RETURNING clause (`what` names it), when it
/// runs on one data node (as a statement that answers with rows); refused otherwise.
pub(crate) fn on_one_node(what: &str, mut planned: Planned) -> Result<Planned, PlanError> {
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
        _ => {
            return Err(PlanError::unsupported(format!(
                "{what} over several data nodes"
            )))
        }
    };
    Ok(planned)
}
