//! `SHOW [GLOBAL|SESSION] STATUS` (and information_schema's `GLOBAL_STATUS` /
//! `SESSION_STATUS`, see `isolation`): the home data node's counters with the compute
//! node's own client count.

use super::{Answer, Session, SessionError};

impl Session {
    /// `SHOW [GLOBAL|SESSION] STATUS`: the home data node's counters (on the session's
    /// connection, so `FLUSH STATUS` before it counts), except `Threads_connected`, which
    /// is the compute node's own number of client connections: the storage node's counts
    /// Strata's pooled connections, which come and go with load (MariaDB's tests wait for
    /// it to fall back after their connections close).
    pub(super) async fn show_status(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Result<Answer, SessionError> {
        self.show_name_values(sql, more, |ctx, name| {
            name.eq_ignore_ascii_case("Threads_connected")
                .then(|| ctx.session_count().to_string())
        })
        .await
    }
}
