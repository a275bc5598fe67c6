//! MariaDB GTID replication between local nodes: the server options a member of a
//! replicated data node starts with (binary log, GTID, semi-synchronous replication
//! built into MariaDB 10.11) and the statements that make one node a replica of another.
//!
//! Every member gets the same options, primary or replica, so any replica can be
//! promoted without a restart, except two: replicas are read-only, and only the primary
//! waits for semi-synchronous acknowledgements (a replica that did would hold each
//! replicated transaction for the whole timeout, since nothing replicates from it;
//! failover turns the wait on for the promoted replica).

use std::time::{Duration, Instant};

use crate::mariadb::{quote_string, MariadbNode};
use crate::LocalNodeError;
use strata_mysql::gtid::gtid_covers;

/// How a member of a replicated data node is configured.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationOptions {
    /// `server_id`, unique among the members of one replication topology.
    pub server_id: u32,
    /// Start read-only (a replica).
    pub read_only: bool,
    /// How long a semi-synchronous primary waits for a replica's acknowledgement before
    /// it falls back to asynchronous replication (and reports it).
    pub semi_sync_timeout: Duration,
}

impl ReplicationOptions {
    /// The `mariadbd` arguments (appended after the defaults, so `--log-bin` here wins
    /// over the default `--skip-log-bin`).
    pub fn server_args(&self) -> Vec<String> {
        vec![
            format!("--server-id={}", self.server_id),
            "--log-bin=mariadb-bin".into(),
            "--relay-log=relay-bin".into(),
            "--log-slave-updates=ON".into(),
            "--binlog-format=ROW".into(),
            "--sync-binlog=1".into(),
            "--innodb-flush-log-at-trx-commit=1".into(),
            format!(
                "--rpl-semi-sync-master-enabled={}",
                if self.read_only { "OFF" } else { "ON" }
            ),
            "--rpl-semi-sync-slave-enabled=ON".into(),
            "--rpl-semi-sync-master-wait-point=AFTER_SYNC".into(),
            format!(
                "--rpl-semi-sync-master-timeout={}",
                self.semi_sync_timeout.as_millis()
            ),
            // A replica whose primary went silent notices within seconds, not a minute:
            // failure detection asks the replicas whether they still see the primary.
            "--slave-net-timeout=5".into(),
            // A replica that restarts after a crash discards relay logs it cannot trust
            // and fetches again from its GTID position.
            "--relay-log-recovery=ON".into(),
            format!("--read-only={}", if self.read_only { "ON" } else { "OFF" }),
        ]
    }
}

impl MariadbNode {
    /// Makes this node a replica of `host:port` from its own GTID position
    /// (`MASTER_USE_GTID = slave_pos`) as `user`, and starts replication.
    pub async fn replicate_from(
        &self,
        host: &str,
        port: u16,
        user: &str,
        password: &str,
    ) -> Result<(), LocalNodeError> {
        let sql = format!(
            "STOP SLAVE; CHANGE MASTER TO MASTER_HOST = {}, MASTER_PORT = {port}, \
             MASTER_USER = {}, MASTER_PASSWORD = {}, MASTER_USE_GTID = slave_pos, \
             MASTER_CONNECT_RETRY = 1; START SLAVE;",
            quote_string(host),
            quote_string(user),
            quote_string(password),
        );
        self.execute_sql(&sql).await.map(|_| ())
    }

    /// Waits until this replica's IO and SQL threads both run and it has applied
    /// everything the primary at `primary` had written when the wait began.
    pub async fn wait_caught_up(
        &self,
        primary: &MariadbNode,
        timeout: Duration,
    ) -> Result<(), LocalNodeError> {
        let target = primary
            .execute_sql("SELECT @@gtid_binlog_pos")
            .await?
            .trim()
            .to_string();
        let started = Instant::now();
        loop {
            let status = self
                .execute_sql(
                    "SELECT (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
                     WHERE VARIABLE_NAME = 'SLAVE_RUNNING'), @@gtid_slave_pos",
                )
                .await?;
            let applied = status.split('\t').nth(1).unwrap_or("").trim();
            if status.starts_with("ON") && gtid_covers(applied, &target) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(LocalNodeError::Replication {
                    port: self.port(),
                    what: format!(
                        "not caught up with {target:?} within {timeout:?} (slave running / applied: {})",
                        status.trim()
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_start_read_only_with_semi_sync() {
        let args = ReplicationOptions {
            server_id: 7,
            read_only: true,
            semi_sync_timeout: Duration::from_secs(10),
        }
        .server_args();
        assert!(args.contains(&"--server-id=7".to_string()));
        assert!(args.contains(&"--read-only=ON".to_string()));
        assert!(args.contains(&"--rpl-semi-sync-master-enabled=OFF".to_string()));
        assert!(args.contains(&"--rpl-semi-sync-master-timeout=10000".to_string()));
    }
}
