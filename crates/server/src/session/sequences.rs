//! Sequence values an INSERT takes before it is planned, in a database over several
//! data nodes: the planner says which uses to evaluate where ([`SequenceDraw`]); this
//! runs that one `SELECT` on the session's own connection to the sequence's node (so the
//! session's LASTVAL is the one MariaDB would give), then plans and runs the statement
//! with the values as literals. Values taken are consumed even when the statement then
//! fails, as in MariaDB.

use strata_planner::SequenceDraw;

use super::planning::plan_error;
use super::{Answer, ReplyFormat, Session, SessionError};

impl Session {
    /// Runs `sql` with its sequence values taken first when it needs that; None when it
    /// does not (it is planned as it is).
    pub(super) async fn with_sequence_values(
        &mut self,
        sql: &str,
        reply: ReplyFormat,
    ) -> Result<Option<Answer>, SessionError> {
        if !strata_planner::takes_sequence_values(sql) {
            return Ok(None);
        }
        // Like any planned statement, it waits while a DDL through another compute
        // node still changes the sequence (just after a CREATE SEQUENCE there).
        let draw = self
            .plan_waiting(|| {
                self.with_plan_context(None, |ctx, view| {
                    strata_planner::sequence_draw(sql, ctx, view).map_err(|e| plan_error(&e))
                })
            })
            .await;
        let draw: SequenceDraw = match draw {
            Ok(Some(draw)) => draw,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.err(&e);
                return Ok(Some(Answer::Failed));
            }
        };
        let physical = self.physical_of(draw.dnid);
        let query = self.rewrite_schemas_for(&draw.query, Some(draw.dnid));
        let values = match self
            .node_result(draw.dnid, physical.as_deref(), &query)
            .await
        {
            Ok((_, rows)) => rows.into_iter().next().unwrap_or_default(),
            Err(e) => {
                self.err(&e);
                return Ok(Some(Answer::Failed));
            }
        };
        let statement = match draw.statement(&values) {
            Ok(s) => s,
            Err(e) => {
                self.err(&plan_error(&e));
                return Ok(Some(Answer::Failed));
            }
        };
        Box::pin(self.planned(&statement, statement.as_bytes(), reply))
            .await
            .map(Some)
    }
}
