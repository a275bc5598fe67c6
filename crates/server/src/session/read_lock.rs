//! FLUSH TABLES WITH READ LOCK in a session: taking the compute node's global read
//! lock (`crate::global_read_lock`) and admitting each statement that would change data
//! past it, as MariaDB does: such statements wait while another session holds it
//! (1205 after `lock_wait_timeout`) and fail with 1223 in a session holding it. UNLOCK
//! TABLES, COM_RESET_CONNECTION and the session's end release it.

use std::sync::Arc;
use std::time::Duration;

use strata_protocol::{codes, MysqlError};
use strata_sql::{code_tokens, StatementKind, TokenKind};

use super::{Answer, Session};
use crate::global_read_lock::{Interrupt, LockWaitError};

/// The process list's State of a statement waiting for the lock (MariaDB's words).
const WAITING_STATE: &str = "Waiting for backup lock";

/// MariaDB's 1223 for a statement that would change data in the session holding the lock.
fn conflicting_read_lock() -> MysqlError {
    MysqlError::new(
        codes::CANT_UPDATE_WITH_READLOCK,
        "Can't execute the query because you have a conflicting read lock",
    )
}

/// The client's error for a wait that ended without the lock.
fn wait_error(e: LockWaitError) -> MysqlError {
    match e {
        LockWaitError::Timeout => MysqlError::new(
            codes::LOCK_WAIT_TIMEOUT,
            "Lock wait timeout exceeded; try restarting transaction",
        ),
        LockWaitError::Interrupted => {
            MysqlError::new(codes::QUERY_INTERRUPTED, "Query execution was interrupted")
        }
    }
}

/// True when the statement `sql` (of `kind`) changes data, so that the global read lock
/// holds it back: DML, DDL (but on temporary tables), LOCK TABLES ... WRITE, table
/// maintenance that writes, routines and compound statements (which may write).
/// Transaction control is judged by the session (a COMMIT writes when its transaction
/// did).
pub(super) fn writes_under_read_lock(sql: &str, kind: StatementKind) -> bool {
    use StatementKind as K;
    let words = || {
        code_tokens(sql)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(move |t| t.text(sql).to_ascii_uppercase())
    };
    match kind {
        K::Insert
        | K::Replace
        | K::Update
        | K::Delete
        | K::Alter
        | K::Truncate
        | K::Rename
        | K::Load
        | K::Call => true,
        // Temporary tables are the session's own (MariaDB lets them be made and dropped).
        K::Create | K::Drop => words().nth(1).as_deref() != Some("TEMPORARY"),
        K::Lock => words().any(|w| w == "WRITE"),
        K::Other => {
            let first = words().next().unwrap_or_default();
            match first.as_str() {
                "FLUSH" | "HANDLER" | "CHECK" | "CHECKSUM" | "GET" | "SIGNAL" | "RESIGNAL"
                | "XA" => false,
                // ANALYZE SELECT ... is a read; ANALYZE TABLE writes statistics.
                "ANALYZE" => words()
                    .skip(1)
                    .take(2)
                    .any(|w| w == "TABLE" || w == "TABLES"),
                _ => true,
            }
        }
        _ => false,
    }
}

impl Session {
    /// Admits the statement past the global read lock before it runs (see the module):
    /// a statement that changes data holds a permit until it ends, so that FLUSH TABLES
    /// WITH READ LOCK waits for it. `dynamic`: the text EXECUTE IMMEDIATE runs, when
    /// it was evaluated.
    pub(super) async fn pass_read_lock(
        &mut self,
        sql: &str,
        kind: StatementKind,
        dynamic: Option<&str>,
    ) -> Result<(), MysqlError> {
        use StatementKind as K;
        // Ending a transaction that changed data writes it: MariaDB's COMMIT waits for
        // the lock, and so do the statements that commit implicitly.
        let commits_a_write = self.in_transaction()
            && self.txn.wrote
            && match kind {
                K::Commit | K::Begin | K::Lock => true,
                K::Set => strata_sql::contains_ignore_ascii_case(sql.as_bytes(), b"autocommit"),
                _ => false,
            };
        if self.held_by_read_only() {
            let (text, text_kind) = match kind {
                K::Execute => match self.executed_text(sql, dynamic) {
                    Some(text) => {
                        let k = strata_sql::classify(&text);
                        (text, k)
                    }
                    None => (sql.to_string(), K::Call),
                },
                _ => (sql.to_string(), kind),
            };
            if let Some(e) = self
                .read_only_refusal_of(&text, text_kind, commits_a_write)
                .await
            {
                return Err(e);
            }
        }
        let writes = match kind {
            K::Unlock => {
                self.txn.global_read_lock = None;
                self.txn.lock_tables_held = false;
                false
            }
            K::Execute => match self.executed_text(sql, dynamic) {
                Some(text) => writes_under_read_lock(&text, strata_sql::classify(&text)),
                None => true,
            },
            _ => writes_under_read_lock(sql, kind),
        };
        if !(writes || commits_a_write) {
            self.txn.lock_tables_held |= kind == K::Lock;
            return Ok(());
        }
        if self.txn.global_read_lock.is_some() {
            return Err(conflicting_read_lock());
        }
        if self.in_transaction() || !self.state.autocommit {
            self.txn.wrote = true;
        }
        let permit = self.wait_for_write().await?;
        self.txn.write_permit = Some(permit);
        self.txn.lock_tables_held |= kind == K::Lock;
        Ok(())
    }

    /// The text an EXECUTE runs, when the session knows it.
    fn executed_text(&self, sql: &str, dynamic: Option<&str>) -> Option<String> {
        if let Some(text) = dynamic {
            return Some(text.to_string());
        }
        if let Some(text) = strata_sql::guard::dynamic_statement_text(sql, StatementKind::Execute) {
            return Some(text);
        }
        let name = strata_sql::dynamic::prepared_name(sql, StatementKind::Execute)?;
        self.prepared
            .checked
            .get(&name)
            .map(|(text, _)| text.to_string())
    }

    /// A write permit for a statement of this session (a server-side prepared
    /// statement's execution included), waiting while the lock is held.
    pub(super) async fn wait_for_write(
        &mut self,
    ) -> Result<crate::global_read_lock::WritePermit, MysqlError> {
        let timeout = self.lock_wait_timeout();
        let entry = Arc::clone(&self.identity.entry);
        let lock = self.ctx.read_lock.clone();
        lock.write(
            timeout,
            Interrupt {
                signal: &entry.interrupt,
                killed: &entry.killed,
                shown: (&entry.waiting, WAITING_STATE),
            },
        )
        .await
        .map_err(wait_error)
    }

    /// MariaDB's `lock_wait_timeout` of the session (seconds; a day by default).
    fn lock_wait_timeout(&self) -> Duration {
        let seconds = |v: &str| v.trim().trim_matches('\'').parse::<f64>().ok();
        self.state
            .vars
            .value("lock_wait_timeout")
            .and_then(seconds)
            .or_else(|| {
                self.ctx
                    .globals
                    .get("lock_wait_timeout")
                    .and_then(|g| seconds(&g.text))
            })
            .filter(|s| s.is_finite())
            .map(|s| Duration::from_secs_f64(s.clamp(0.0, 31_536_000.0)))
            .unwrap_or(Duration::from_secs(86_400))
    }

    /// True on a compute node of a cluster (other compute nodes may join a node
    /// configured with etcd at any time).
    pub(super) fn in_cluster(&self) -> bool {
        !self.ctx.config.cluster.etcd.is_empty()
            || self
                .ctx
                .cluster
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
    }

    /// FLUSH TABLES WITH READ LOCK: commits the session's transaction (as MariaDB
    /// does), then takes the compute node's global read lock once the statements that
    /// change data finish.
    pub(super) async fn flush_tables_with_read_lock(&mut self, more: bool) -> Answer {
        if self.in_cluster() {
            self.err(&MysqlError::not_supported(
                "FLUSH TABLES WITH READ LOCK on a compute node of a cluster (the lock is this compute node's: writes through the other compute nodes would go on)",
            ));
            return Answer::Failed;
        }
        if self.txn.lock_tables_held || self.txn.table_locks {
            self.err(&MysqlError::new(
                codes::LOCK_OR_ACTIVE_TRANSACTION,
                "Can't execute the given command because you have active locked tables or an active transaction",
            ));
            return Answer::Failed;
        }
        if self.txn.global_read_lock.is_some() {
            self.ok(0, more);
            return Answer::Ok;
        }
        if let Err(e) = self.commit_before_read_lock().await {
            self.err(&e);
            return Answer::Failed;
        }
        let timeout = self.lock_wait_timeout();
        let entry = Arc::clone(&self.identity.entry);
        let lock = self.ctx.read_lock.clone();
        let held = lock
            .read_lock(
                timeout,
                Interrupt {
                    signal: &entry.interrupt,
                    killed: &entry.killed,
                    shown: (&entry.waiting, WAITING_STATE),
                },
            )
            .await;
        match held {
            Ok(hold) => {
                self.txn.global_read_lock = Some(hold);
                self.ok(0, more);
                Answer::Ok
            }
            Err(e) => {
                self.err(&wait_error(e));
                Answer::Failed
            }
        }
    }

    /// The implicit commit of FLUSH TABLES WITH READ LOCK (a transaction that changed
    /// data commits past the lock, as any COMMIT).
    async fn commit_before_read_lock(&mut self) -> Result<(), MysqlError> {
        if !self.in_transaction() {
            return Ok(());
        }
        let _permit = if self.txn.wrote {
            Some(self.wait_for_write().await?)
        } else {
            None
        };
        if self.txn.open.is_some() {
            return self.commit_txn().await;
        }
        for dnid in self.nodes_in_transaction() {
            self.node_result(dnid, None, "COMMIT").await?;
        }
        self.txn.wrote = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::writes_under_read_lock;
    use strata_sql::classify;

    #[test]
    fn what_the_read_lock_holds_back() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "update t set a = 1",
            "DELETE FROM t",
            "CREATE TABLE t (a INT)",
            "DROP TABLE t",
            "CREATE DATABASE d",
            "ALTER TABLE t ADD b INT",
            "TRUNCATE t",
            "LOCK TABLES t READ, u WRITE",
            "OPTIMIZE TABLE t",
            "ANALYZE TABLE t",
            "CALL p()",
        ] {
            assert!(writes_under_read_lock(sql, classify(sql)), "{sql}");
        }
        for sql in [
            "SELECT * FROM t",
            "LOCK TABLES t READ",
            "CREATE TEMPORARY TABLE t (a INT)",
            "DROP TEMPORARY TABLE t",
            "CHECK TABLE t",
            "FLUSH TABLES",
            "SHOW TABLES",
            "UNLOCK TABLES",
            "COMMIT",
            "ANALYZE SELECT 1",
        ] {
            assert!(!writes_under_read_lock(sql, classify(sql)), "{sql}");
        }
    }
}
