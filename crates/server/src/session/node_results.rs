//! Results the compute node reads from a data node for itself (SHOW VARIABLES,
//! information_schema, routine lookups) before it answers the client, and
//! COM_FIELD_LIST, relayed from the home data node.

use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;

use super::backends::backend_error;
use super::optimizer_trace::mentions_optimizer_trace;
use super::{Session, SessionError};

impl Session {
    /// Runs `text` on the home data node and reads its whole result (the small ones
    /// the session rewrites before the client sees them: SHOW VARIABLES,
    /// information_schema). `no_database`: the storage connection has none selected.
    pub(super) async fn home_result(
        &mut self,
        text: &str,
        no_database: bool,
    ) -> Result<
        (
            Vec<strata_protocol::packets::ColumnDef>,
            strata_backend::TextRows,
        ),
        MysqlError,
    > {
        let (dnid, physical) = self.home_node()?;
        let physical = if no_database { None } else { physical };
        self.node_result(dnid, physical.as_deref(), text).await
    }

    /// Runs `text` on data node `dnid` (with `physical` selected) and reads its whole
    /// result; a connection lost on the way is not reused.
    /// The rows of `text` on `dnid`, read on a pooled connection of its own when the
    /// session keeps one there and another is free now: a lookup of the compute node's
    /// then leaves nothing on the connection that runs the client's statements
    /// (MariaDB's warnings count rows from its previous statement: `Data truncated ...
    /// at row 54` for a CALL's argument). Without a free one it never waits for one
    /// (every session keeping its connection would wait on the others): it reads on
    /// the session's.
    pub(super) async fn detached_rows(
        &mut self,
        dnid: DataNodeId,
        text: &str,
    ) -> Result<strata_backend::TextRows, MysqlError> {
        let pinned = self.backends.pinned.iter().any(|l| l.target().dnid == dnid);
        let node = self.ctx.topology.node(dnid);
        let free = node
            .as_ref()
            .filter(|n| n.pool.idle_count() > 0 || n.pool.open_count() < n.pool.max_size());
        let Some(node) = free.filter(|_| pinned) else {
            return self
                .node_result(dnid, None, text)
                .await
                .map(|(_, rows)| rows);
        };
        let vars = strata_backend::SessionVars::default();
        let kind = (self.client.row_counting(), false);
        let wait = std::time::Duration::from_millis(200);
        let acquired = tokio::time::timeout(
            wait,
            super::backends::pooled_lease(&node.pool, dnid, None, &vars, kind),
        )
        .await;
        let Ok(Ok(mut lease)) = acquired else {
            return self
                .node_result(dnid, None, text)
                .await
                .map(|(_, rows)| rows);
        };
        let result = lease.query(text).await;
        if let Err(e) = &result {
            if !matches!(e, strata_backend::BackendError::Server(_)) {
                lease.mark_broken();
            }
        }
        result.map_err(|e| backend_error(dnid, &e))
    }

    pub(super) async fn node_result(
        &mut self,
        dnid: DataNodeId,
        physical: Option<&str>,
        text: &str,
    ) -> Result<
        (
            Vec<strata_protocol::packets::ColumnDef>,
            strata_backend::TextRows,
        ),
        MysqlError,
    > {
        let mut lease = self.lease(dnid, physical).await?;
        let reads_trace = self.backends.trace.on && mentions_optimizer_trace(text);
        if let Err(e) = reads_trace
            .then(|| self.check_trace_connection(dnid, lease.thread_id()))
            .transpose()
        {
            self.finish(lease);
            return Err(e);
        }
        let thread = lease.thread_id();
        self.backends.trace.note_sent(text.as_bytes(), dnid, thread);
        let result = lease.query_result(text).await;
        if let Err(e) = &result {
            if !matches!(e, strata_backend::BackendError::Server(_)) {
                lease.mark_broken();
            }
        }
        self.finish(lease);
        result.map_err(|e| backend_error(dnid, &e))
    }

    /// COM_FIELD_LIST: forwarded to the home data node.
    pub(super) async fn com_field_list(
        &mut self,
        table: &[u8],
        wildcard: &[u8],
    ) -> Result<(), SessionError> {
        let Some((dnid, mut lease)) = self.lease_or_report(self.home_node()).await else {
            return Ok(());
        };
        let mut body = Vec::with_capacity(table.len() + 1 + wildcard.len());
        body.extend_from_slice(table);
        body.push(0);
        body.extend_from_slice(wildcard);
        lease.queue_command(strata_protocol::constants::com::FIELD_LIST, &body);
        let mode = relay_mode!(self, false);
        let outcome = lease
            .relay(
                &mut self.client.conn,
                strata_backend::ResponseKind::FieldList,
                mode,
            )
            .await;
        self.finish(lease);
        if let Err(e) = outcome {
            self.relay_failed(dnid, e)?;
        }
        Ok(())
    }
}
