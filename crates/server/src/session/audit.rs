//! The session's side of the audit log: what each statement returned, and the event
//! built from it when the audit log is on (nothing is built when it is off).

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
    /// Runs one statement of a COM_QUERY, audited when the audit log is on.
    pub(super) async fn audited(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        self.start_statement();
        if self.ctx.audit.is_none() {
            return self.statement(sql, raw, more).await;
        }
        let started = Instant::now();
        let result = self.statement(sql, raw, more).await;
        self.audit_statement(sql, started);
        result
    }

    /// COM_STMT_EXECUTE, audited when the audit log is on (the statement's text is the
    /// one it was prepared with).
    pub(super) async fn audited_execute(
        &mut self,
        statement_id: u32,
        body: &[u8],
    ) -> Result<(), SessionError> {
        self.start_statement();
        if self.ctx.audit.is_none() {
            return self.stmt_execute(statement_id, body).await;
        }
        let started = Instant::now();
        let sql = self
            .prepared
            .statements
            .get(&statement_id)
            .map(|s| std::sync::Arc::clone(&s.sql));
        let result = self.stmt_execute(statement_id, body).await;
        if let Some(sql) = sql {
            self.audit_statement(&sql, started);
        }
        result
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
