//! The session's side of the audit log and the statement statistics: what each
//! statement returned, recorded for the statistics (`crate::stats`), and the audit
//! event built from it when the audit log is on (nothing is built when it is off).

use std::time::Instant;

use super::{Answer, Session, SessionError};
use crate::audit::{now_micros, AuditRecord};
use crate::context::ServerContext;

/// What a statement returned: its error code (0 on success) and row counts where known.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Outcome {
    /// MySQL error code, 0 on success.
    pub error: u16,
    /// Rows changed, from the last OK.
    pub affected_rows: Option<u64>,
    /// Rows returned, where the compute node saw them.
    pub returned_rows: Option<u64>,
    /// Data nodes the statement ran on (0: answered by the compute node).
    pub nodes: u32,
    /// Bit `dnid` set for each data node below 64 it ran on.
    pub node_mask: u64,
}

/// Records a login (error 0) or a failed one.
pub(super) fn login(
    ctx: &ServerContext,
    session: u32,
    user: &str,
    client: &str,
    db: Option<&str>,
    error: u16,
) {
    let Some(audit) = &ctx.audit else {
        return;
    };
    audit.record(&AuditRecord {
        at_micros: now_micros(),
        event: if error == 0 { "login" } else { "login_failed" },
        session,
        user,
        client,
        db: db.filter(|d| !d.is_empty()),
        statement: None,
        error,
        affected_rows: None,
        returned_rows: None,
        duration_us: 0,
    });
}

impl Session {
    /// Runs one statement of a COM_QUERY, recorded in the statistics and audited when
    /// the audit log is on.
    pub(super) async fn audited(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        self.start_statement();
        let com = self.count_statement(sql);
        if self.backends.trace.on {
            // The trace's QUERY is shown as the client wrote it.
            self.backends.trace.client_text = Some(sql.into());
        }
        let started = Instant::now();
        let result = self.statement(sql, raw, more).await;
        // The statement's admission past the global read lock ends with it.
        self.txn.write_permit = None;
        self.release_planned_tables();
        self.settle_writes();
        self.settle_row_count();
        self.count_done(com);
        self.note_views_changed();
        self.record_statement(sql, started);
        self.audit_statement(sql, started);
        result
    }

    /// COM_STMT_EXECUTE, recorded and audited like `audited` (the statement's text is
    /// the one it was prepared with).
    pub(super) async fn audited_execute(
        &mut self,
        statement_id: u32,
        body: &[u8],
    ) -> Result<(), SessionError> {
        self.start_statement();
        let started = Instant::now();
        let sql = self
            .prepared
            .statements
            .get(&statement_id)
            .map(|s| std::sync::Arc::clone(&s.sql));
        let result = self.stmt_execute(statement_id, body).await;
        self.txn.write_permit = None;
        self.release_planned_tables();
        self.settle_writes();
        self.settle_row_count();
        // An execution that opened a cursor returned no row yet (MariaDB counts it
        // neither).
        self.note_views_changed();
        let cursor = self.cursor_open(statement_id);
        if let Some(sql) = sql {
            if !cursor {
                self.count_done(crate::status::com::of_statement(&sql));
            }
            self.record_statement(&sql, started);
            self.audit_statement(&sql, started);
        }
        result
    }

    /// Keeps what `ROW_COUNT()` answers next: the affected rows of the OK packet the
    /// statement ended with, -1 after rows or an error (as MariaDB does).
    fn settle_row_count(&mut self) {
        let o = &self.statement.outcome;
        self.state.row_count = match (o.error, o.affected_rows) {
            (0, Some(n)) => i64::try_from(n).unwrap_or(i64::MAX),
            _ => -1,
        };
    }

    /// Hands the statement just run to the statistics (a copy into this thread's
    /// buffer; everything else happens off the session's path).
    fn record_statement(&self, sql: &str, started: Instant) {
        let o = &self.statement.outcome;
        self.ctx.stats.record(&crate::stats::Sample {
            sql,
            digest: self.statement.digest.as_ref().map(|d| d.text.as_str()),
            kind: self.statement.kind.map(crate::metrics::KindGroup::of),
            micros: started.elapsed().as_micros() as u64,
            rows: o.returned_rows.or(o.affected_rows).unwrap_or(0),
            error: o.error,
            nodes: o.nodes,
            node_mask: o.node_mask,
            session: self.identity.id,
            user: &self.identity.user,
            db: self.state.db.as_deref(),
        });
        self.identity
            .entry
            .in_transaction
            .store(self.in_transaction(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Records the statement just run (a prepared statement's execution included).
    pub(super) fn audit_statement(&self, sql: &str, started: Instant) {
        let Some(audit) = &self.ctx.audit else {
            return;
        };
        audit.record(&AuditRecord {
            at_micros: now_micros(),
            event: "statement",
            session: self.identity.id,
            user: &self.identity.user,
            client: &self.identity.entry.host,
            db: self.state.db.as_deref(),
            statement: Some(sql),
            error: self.statement.outcome.error,
            affected_rows: self.statement.outcome.affected_rows,
            returned_rows: self.statement.outcome.returned_rows,
            duration_us: started.elapsed().as_micros() as u64,
        });
    }
}
