//! `SHOW [GLOBAL|SESSION] STATUS` (and information_schema's `GLOBAL_STATUS` /
//! `SESSION_STATUS`, see `isolation`): the home data node's counters with the compute
//! node's own counters of the client connection in place (`crate::status`); and the
//! name/value rewrite it shares with `SHOW VARIABLES`.

use super::{Answer, Session, SessionError};
use crate::results::LocalResult;

impl Session {
    /// `SHOW [GLOBAL|SESSION] STATUS`: the home data node's counters of the storage
    /// engine (on the session's connection, so `FLUSH STATUS` before it counts), and the
    /// compute node's own counters of the client connection (`Questions`, `Com_*`,
    /// `Threads_connected`, ...): the storage node's count Strata's pooled connections
    /// and statements, not the client's.
    pub(super) async fn show_status(
        &mut self,
        sql: &str,
        scope: strata_sql::VarScope,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let mine = self.status_snapshot(!matches!(scope, strata_sql::VarScope::Session));
        self.show_name_values(sql, more, |_, name| mine.value(name).map(str::to_string))
            .await
    }

    /// A SHOW of name/value rows (VARIABLES, STATUS) read on the home data node, on the
    /// session's connection, with the value `own` gives for a name put in its place.
    pub(super) async fn show_name_values(
        &mut self,
        sql: &str,
        more: bool,
        own: impl Fn(&crate::context::ServerContext, &str) -> Option<String>,
    ) -> Result<Answer, SessionError> {
        let text = self.rewrite_schemas(sql);
        let (columns, mut rows) = match self.home_result(&text, false).await {
            Ok(r) => r,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        for row in &mut rows {
            let name = row.first().cloned().flatten().unwrap_or_default();
            if let (Some(value), Some(mine)) = (row.get_mut(1), own(&self.ctx, &name)) {
                *value = Some(mine);
            }
        }
        self.write_local(&LocalResult { columns, rows }, more);
        Ok(Answer::Ok)
    }
}
