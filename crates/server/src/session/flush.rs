//! `FLUSH STATUS`, `FLUSH TABLE[S] [t, ...]` and `FLUSH TABLES WITH READ LOCK` (the
//! compute node's own lock, see `read_lock`), after the guard let them through (see
//! `strata_sql::flush`). Both need Strata's RELOAD privilege, as MariaDB's need RELOAD.
//! `FLUSH STATUS` runs on the session's connection to its home data node, which the
//! session keeps from then on, so the `SHOW STATUS` that follows reads the counters it
//! reset, and resets the compute node's own counters (`crate::status`). `FLUSH TABLES` runs on every data node of the current database (the named
//! tables' names mapped to each node's physical database). `FLUSH QUERY CACHE` and
//! `RESET QUERY CACHE` run on every storage server of every data node, replicas
//! included: they only defragment or empty its query cache (no rows are shown or
//! changed), which serves every session of every node.

use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::Flush;

use super::query::ConnectionState;
use super::{Answer, Session, SessionError};

impl Session {
    /// Runs a `FLUSH` of the form `flush` (the guard refused the other forms).
    pub(super) async fn flush(
        &mut self,
        flush: Flush,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        if !self.has_global(Privilege::Reload) {
            self.err(&super::accounts::account_error(
                &strata_catalog::accounts::AccountError::NeedPrivilege("RELOAD"),
            ));
            return Ok(Answer::Failed);
        }
        match flush {
            Flush::Status => {
                self.note_connection_state(ConnectionState::Other);
                let answer = self.forward(sql, raw, more).await;
                if matches!(answer, Ok(Answer::Ok)) {
                    self.flush_status();
                }
                answer
            }
            Flush::Tables { .. } if self.state.multi_node => {
                let done = self.flush_every_node(sql).await;
                Ok(self.done_or_failed(done, more))
            }
            Flush::Tables { .. } => self.forward(sql, raw, more).await,
            Flush::QueryCache { reset } => {
                let what = if reset {
                    "RESET QUERY CACHE"
                } else {
                    "FLUSH QUERY CACHE"
                };
                // The statement as MariaDB knows it, without the client's comments. It
                // commits implicitly, as MariaDB's FLUSH and RESET do: the session's own
                // connection (or coordinated transaction) first.
                let done = match self.txn.open.is_some() {
                    true => self.commit_txn().await,
                    false if !self.state.multi_node => self.home_result(what, true).await.map(drop),
                    false => Ok(()),
                };
                let done = match done {
                    Ok(()) => self.on_storage_servers(what, what, "done", true).await,
                    Err(e) => Err(e),
                };
                Ok(self.done_or_failed(done, more))
            }
            Flush::GlobalReadLock => Ok(self.flush_tables_with_read_lock(more).await),
            Flush::TablesLocked | Flush::Hosts | Flush::ServerWide => {
                self.err(&MysqlError::not_supported("this FLUSH through Strata"));
                Ok(Answer::Failed)
            }
        }
    }

    /// Runs `sql` on every data node of the current database.
    async fn flush_every_node(&mut self, sql: &str) -> Result<(), MysqlError> {
        let db = self
            .state
            .db
            .as_deref()
            .and_then(|name| self.ctx.topology.db(name));
        let Some(db) = db else {
            return Ok(());
        };
        for &dnid in &db.data_nodes {
            let physical = self.ctx.topology.physical(&db, dnid);
            let text = self.rewrite_schemas_for(sql, Some(dnid));
            self.node_result(dnid, physical.as_deref(), &text).await?;
        }
        Ok(())
    }

    /// An OK for `done`, or its error.
    fn done_or_failed(&mut self, done: Result<(), MysqlError>, more: bool) -> Answer {
        match done {
            Ok(()) => {
                self.ok(0, more);
                Answer::Ok
            }
            Err(e) => {
                self.err(&e);
                Answer::Failed
            }
        }
    }
}
