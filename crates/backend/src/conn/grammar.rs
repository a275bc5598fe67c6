//! Whether a storage node's parser accepts a statement, without running it: the
//! statement is prepared (COM_STMT_PREPARE never executes) and closed at once. The
//! compute node asks this when its own parser rejects a statement, so that valid
//! MariaDB SQL it cannot plan is refused as unsupported rather than as bad SQL.

use strata_protocol::constants::com;

use super::BackendConn;
use crate::BackendError;

impl BackendConn {
    /// Prepares `sql` and closes the statement again, keeping nothing on this
    /// connection (not even in its cache of prepared statements); the storage node's
    /// error when it does not prepare.
    pub async fn prepare_and_close(&mut self, sql: &str) -> Result<(), BackendError> {
        let prepared = self.prepare(sql).await?;
        self.queue_command(com::STMT_CLOSE, &prepared.id.to_le_bytes());
        self.flush().await?;
        Ok(())
    }
}
