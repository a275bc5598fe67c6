//! Running a [`Materialize`] plan: the connections it runs on (a scratch connection to
//! its node, or the session's own one when the statement names the session's
//! temporary tables) and giving them back.

use strata_backend::pool::Lease;
use strata_catalog::DataNodeId;
use strata_executor::MaterializeOptions;
use strata_planner::Materialize;
use strata_protocol::MysqlError;

use super::super::{Answer, ReplyFormat, Session, SessionError};
use super::Driver;

impl Session {
    /// Runs a materialize plan: the copies' reads on the session's connections to the
    /// source nodes (inside a transaction, its own branches, which see its writes),
    /// the temporary tables and the statement on a dedicated scratch connection to the
    /// target node, whose result streams to the client unchanged. The scratch
    /// connection is closed instead of pooled after any failure.
    pub(in crate::session) async fn execute_materialize(
        &mut self,
        plan: &Materialize,
        reply: ReplyFormat,
    ) -> Result<Answer, SessionError> {
        let ctx = self.ctx.clone();
        // The copies read several nodes: their snapshots are taken while no
        // distributed commit is half done, as for any read over several nodes.
        let _gate = match self.read_gate(&ctx, false).await {
            Ok(gate) => gate,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let (mut leases, nodes, options) = match self.materialize_leases(plan).await {
            Ok(l) => l,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let format = self.result_format(reply);
        let driver = Driver::Materialize(plan, options);
        let (outcome, _) = self
            .stream_to_client(&mut leases, &nodes, driver, format)
            .await;
        self.give_back_materialize(plan, leases).await;
        self.answer_query(outcome?, format, reply).await
    }

    /// Gives back the connections of a materialize plan. A scratch connection is no
    /// branch of the session's transaction: it goes back to its pool (or is closed when
    /// the driver discarded it), never pinned. The session's own connection
    /// (`on_session`) is finished like the others.
    pub(in crate::session) async fn give_back_materialize(
        &mut self,
        plan: &Materialize,
        mut leases: Vec<Lease>,
    ) {
        if !plan.on_session {
            drop(leases.pop());
        }
        self.give_back(leases).await;
    }

    /// The connections a materialize plan runs on (the copies' sources, then the
    /// connection to its node: a scratch connection, or the session's own when the
    /// statement names its temporary tables), their data nodes, and its options.
    pub(in crate::session) async fn materialize_leases(
        &mut self,
        plan: &Materialize,
    ) -> Result<(Vec<Lease>, Vec<DataNodeId>, MaterializeOptions), MysqlError> {
        let in_transaction = self.in_transaction();
        let mut nodes = plan.sources(in_transaction);
        let mut leases = self.leases_for(&nodes).await?;
        let target = if plan.on_session {
            // The session's connection holding its temporary tables, enlisted in its
            // transaction like any other it uses.
            let physical = self.physical_of(plan.dnid);
            self.lease(plan.dnid, physical.as_deref()).await
        } else {
            self.scratch_lease(plan.dnid, &plan.copies).await
        };
        match target {
            Ok(lease) => leases.push(lease),
            Err(e) => {
                self.give_back(leases).await;
                return Err(e);
            }
        }
        nodes.push(plan.dnid);
        self.note_backends(&leases);
        let options = MaterializeOptions {
            in_transaction,
            max_rows: self.ctx.config.limits.materialize_max_rows,
            session_names: self
                .state
                .vars
                .get("names")
                .map(|names| format!("SET {names}")),
        };
        Ok((leases, nodes, options))
    }
}
