//! MariaDB's `init_connect`, the compute node's own global (`SET GLOBAL init_connect`):
//! its statements run at the start of each new session of an account without SUPER or
//! CONNECTION ADMIN, as that account, their replies dropped. When one fails MariaDB
//! closes the connection, the client reading 1184 at its next command; Strata sends that
//! error as the reply to the client's next command and then closes. It is never the
//! storage servers' `init_connect`, which would run on Strata's pooled storage
//! connections.

use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::{split_statements, SetExpr, SetValue};

use super::{Answer, Session, SessionError};
use crate::globals::GlobalValue;

/// How long a session whose `init_connect` failed waits for the client's next command
/// (which gets the error) before it closes.
const FAILED_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Session {
    /// Runs `init_connect` for a session that just logged in; the error its client is
    /// to get when a statement of it failed (the session then ends).
    pub(super) async fn run_init_connect(&mut self) -> Result<Option<MysqlError>, SessionError> {
        let text = self.ctx.globals.init_connect();
        if text.trim().is_empty()
            || self.has_global(Privilege::Super)
            || self.has_global(Privilege::ConnectionAdmin)
        {
            return Ok(None);
        }
        self.client.conn.flush().await?;
        self.client.conn.set_muted(true);
        let parts = split_statements(&text);
        let n = parts.len();
        let mut failed = false;
        for (i, part) in parts.iter().enumerate() {
            match self.audited(part, part.as_bytes(), i + 1 < n).await {
                Ok(Answer::Ok) => {}
                Ok(Answer::Failed) => {
                    failed = true;
                    break;
                }
                Err(e) => {
                    self.client.conn.set_muted(false);
                    return Err(e);
                }
            }
        }
        self.client.conn.set_muted(false);
        if !failed {
            return Ok(None);
        }
        tracing::warn!(
            session = self.identity.id,
            user = %self.identity.user,
            "init_connect command failed; closing the connection"
        );
        let db = self.state.db.clone();
        Ok(Some(MysqlError::new(
            (1184, "08S01"),
            format!(
                "Aborted connection {} to db: '{}' user: '{}' host: '{}' (init_connect command failed)",
                self.identity.id,
                db.as_deref().unwrap_or("unconnected"),
                self.identity.user,
                super::isolation::shown_host(&self.identity.entry.host)
            ),
        )))
    }

    /// Ends a session whose `init_connect` failed: `e` is the reply to the client's
    /// next command (sequence id 1, as a reply is), sent now as MariaDB sends it.
    pub(super) async fn refuse_after_init_connect(
        &mut self,
        e: &MysqlError,
    ) -> Result<(), SessionError> {
        self.client.conn.set_seq(1);
        self.err(e);
        self.client.conn.flush().await?;
        // The command it answers is read (and dropped) before the connection closes: a
        // close with it unread could reset the connection before the client reads.
        let _ = tokio::time::timeout(FAILED_WAIT, self.client.conn.read_packet()).await;
        Ok(())
    }

    /// The value of `SET GLOBAL init_connect = value`: a string ('' for DEFAULT or
    /// NULL). A compute node of a cluster refuses a value (its own sessions alone would
    /// run it).
    pub(super) async fn init_connect_assignment(
        &mut self,
        value: &SetExpr,
    ) -> Result<GlobalValue, MysqlError> {
        let text = match &value.value {
            Some(SetValue::Default | SetValue::Null) => String::new(),
            Some(SetValue::Int(_) | SetValue::Number(_) | SetValue::Bool(_)) => {
                return Err(MysqlError::new(
                    (1232, "42000"),
                    "Incorrect argument type to variable 'init_connect'",
                ))
            }
            _ => self.value_text(value).await?.unwrap_or_default(),
        };
        if !text.is_empty() && self.in_cluster() {
            return Err(MysqlError::not_supported(
                "SET GLOBAL init_connect on a compute node of a cluster (the setting is this compute node's: sessions of the other compute nodes would not run it)",
            ));
        }
        Ok(GlobalValue {
            shown: text.clone(),
            text,
            numeric: false,
        })
    }
}
