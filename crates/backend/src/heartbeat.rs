//! Heartbeats to one storage node: a [`Prober`] keeps its own connection (never a pooled
//! one, so a full pool cannot hide a live node nor a dead pool a live one), and each
//! probe reports what failure detection and failover need: whether the node is
//! read-only, its GTID positions, semi-synchronous replication on a primary, and the
//! state of its replication threads on a replica. Every probe, connect included, is
//! bounded by the probe timeout; a failed probe drops the connection, so the next one
//! starts from a fresh connect.

use std::sync::Arc;
use std::time::Duration;

use strata_protocol::ClientTls;

use crate::conn::{BackendConn, StorageTarget};
use crate::BackendError;

/// One replication source of a replica (a row of `SHOW ALL SLAVES STATUS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationStatus {
    /// `Master_Host`.
    pub source_host: String,
    /// `Master_Port`.
    pub source_port: u16,
    /// `Slave_IO_Running` is `Yes` (connected to its primary and receiving).
    pub io_running: bool,
    /// `Slave_SQL_Running` is `Yes` (applying what it received).
    pub sql_running: bool,
    /// `Gtid_IO_Pos`: the GTID position received (written to the relay log).
    pub gtid_io_pos: String,
    /// `Seconds_Behind_Master`, None while the SQL thread does not run.
    pub seconds_behind: Option<u64>,
    /// `Last_IO_Error` (empty when none).
    pub last_io_error: String,
    /// `Last_SQL_Error` (empty when none).
    pub last_sql_error: String,
}

/// What one probe found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeReport {
    /// `@@read_only`.
    pub read_only: bool,
    /// `@@gtid_binlog_pos`: what this node wrote to its binary log.
    pub gtid_binlog_pos: String,
    /// `@@gtid_slave_pos`: what this node applied as a replica.
    pub gtid_slave_pos: String,
    /// `@@rpl_semi_sync_master_enabled`.
    pub semi_sync_enabled: bool,
    /// Status `Rpl_semi_sync_master_status`: on while commits wait for a replica's
    /// acknowledgement; off when the primary fell back to asynchronous replication.
    pub semi_sync_active: bool,
    /// Its replication sources (empty on a node that replicates from nobody).
    pub replication: Vec<ReplicationStatus>,
}

/// The statement that reads the node's role and positions.
const STATE_SQL: &str = "SELECT @@global.read_only, @@global.gtid_binlog_pos, \
     @@global.gtid_slave_pos, @@global.rpl_semi_sync_master_enabled, \
     (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
      WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS')";

/// Probes one storage node on a connection of its own.
pub struct Prober {
    target: Arc<StorageTarget>,
    tls: Option<ClientTls>,
    timeout: Duration,
    conn: Option<BackendConn>,
}

impl Prober {
    /// A prober for `target` whose probes (connect included) fail after `timeout`.
    pub fn new(target: StorageTarget, tls: Option<ClientTls>, timeout: Duration) -> Prober {
        Prober {
            target: Arc::new(target),
            tls,
            timeout,
            conn: None,
        }
    }

    /// The storage node probed.
    pub fn target(&self) -> &Arc<StorageTarget> {
        &self.target
    }

    /// The TLS settings of its connections.
    pub fn tls(&self) -> Option<&ClientTls> {
        self.tls.as_ref()
    }

    /// One heartbeat: reads the node's state within the probe timeout.
    pub async fn probe(&mut self) -> Result<ProbeReport, BackendError> {
        let timeout = self.timeout;
        let outcome = tokio::time::timeout(timeout, self.read_state())
            .await
            .unwrap_or_else(|_| {
                Err(self.timed_out(format!(
                    "no heartbeat answer within {} ms",
                    timeout.as_millis()
                )))
            });
        self.drop_failed(outcome)
    }

    /// Whether a brand-new connection succeeds within `timeout`: the second path that
    /// confirms a failure the heartbeat connection saw.
    /// The future owns what it needs, so it can run beside a probe.
    pub fn fresh_connect(
        &self,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<(), BackendError>> + Send + 'static {
        let (target, tls) = (self.target.clone(), self.tls.clone());
        async move {
            let conn = BackendConn::connect(target, tls.as_ref(), timeout).await?;
            conn.quit().await;
            Ok(())
        }
    }

    /// Runs control statements (failover steps) on the probe connection, connecting
    /// first if needed, each bounded by `timeout`.
    pub async fn execute(&mut self, sql: &str, timeout: Duration) -> Result<(), BackendError> {
        self.query(sql, timeout).await.map(|_| ())
    }

    /// Runs a query on the probe connection and returns its rows as text.
    pub async fn query(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<crate::conn::TextRows, BackendError> {
        let result = tokio::time::timeout(timeout, async {
            let conn = self.connection(timeout).await?;
            conn.query(sql).await
        })
        .await
        .unwrap_or_else(|_| {
            Err(self.timed_out(format!("{} ms running {sql:?}", timeout.as_millis())))
        });
        self.drop_failed(result)
    }

    /// A timeout on the probed node, `what` saying what took too long.
    fn timed_out(&self, what: String) -> BackendError {
        BackendError::ProbeTimeout(format!(
            "{}:{} ({what})",
            self.target.host, self.target.port
        ))
    }

    /// Passes `result` on; a failure drops the connection, so the next use connects
    /// afresh.
    fn drop_failed<T>(&mut self, result: Result<T, BackendError>) -> Result<T, BackendError> {
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// Drops the probe connection (the next probe connects again).
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    async fn connection(&mut self, timeout: Duration) -> Result<&mut BackendConn, BackendError> {
        if self.conn.is_none() {
            let conn =
                BackendConn::connect(self.target.clone(), self.tls.as_ref(), timeout).await?;
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or(BackendError::StateMismatch("probe connection vanished"))
    }

    async fn read_state(&mut self) -> Result<ProbeReport, BackendError> {
        let timeout = self.timeout;
        let conn = self.connection(timeout).await?;
        let rows = conn.query(STATE_SQL).await?;
        let row = rows.into_iter().next().unwrap_or_default();
        let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let (columns, slaves) = conn.query_result("SHOW ALL SLAVES STATUS").await?;
        let replication = slaves
            .iter()
            .map(|values| replication_status(&columns, values))
            .collect();
        Ok(ProbeReport {
            read_only: field(0) == "1",
            gtid_binlog_pos: field(1),
            gtid_slave_pos: field(2),
            semi_sync_enabled: field(3) == "1",
            semi_sync_active: field(4).eq_ignore_ascii_case("ON"),
            replication,
        })
    }
}

/// One row of `SHOW ALL SLAVES STATUS`, by column name.
fn replication_status(
    columns: &[strata_protocol::packets::ColumnDef],
    values: &[Option<String>],
) -> ReplicationStatus {
    let get = |name: &str| -> String {
        columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .and_then(|i| values.get(i).cloned().flatten())
            .unwrap_or_default()
    };
    ReplicationStatus {
        source_host: get("Master_Host"),
        source_port: get("Master_Port").parse().unwrap_or(0),
        io_running: get("Slave_IO_Running").eq_ignore_ascii_case("Yes"),
        sql_running: get("Slave_SQL_Running").eq_ignore_ascii_case("Yes"),
        gtid_io_pos: get("Gtid_IO_Pos"),
        seconds_behind: get("Seconds_Behind_Master").parse().ok(),
        last_io_error: get("Last_IO_Error"),
        last_sql_error: get("Last_SQL_Error"),
    }
}
