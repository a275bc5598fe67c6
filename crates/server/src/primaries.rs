//! The primaries failovers chose, kept in the compute node's data directory
//! (`primaries.json`), so a restart with the configuration file as written before the
//! failover routes to the promoted storage node instead of stopping at the role check
//! (or, worse, writing to the fenced old primary).
//!
//! At start-up each recorded primary that the configuration lists as a replica of its
//! data node becomes the primary; the old primary is left out (it was fenced and must
//! be rejoined as a replica before it is listed again) and a warning says so — unless
//! a planned switchover recorded it as rejoined (it made the old primary a replica of
//! the new one): then it is listed as a replica. A record
//! that names a storage node the configuration no longer has is ignored with a warning;
//! one that names the configured primary (the file was updated by hand) is dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_catalog::{Config, DataNodeId};
use tracing::warn;

/// The file in the data directory.
const FILE: &str = "primaries.json";

/// What is recorded of one data node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Entry {
    /// A failover's primary, `host:port` (the old primary was fenced).
    Failover(String),
    /// A switchover's primary, and the old primary it made its replica.
    Switchover {
        /// `host:port` of the primary.
        primary: String,
        /// `host:port` of the old primary, now a replica of `primary`.
        rejoined: String,
    },
}

impl Entry {
    fn primary(&self) -> &str {
        match self {
            Entry::Failover(p) | Entry::Switchover { primary: p, .. } => p,
        }
    }
}

/// Recorded primaries by data node id.
type Recorded = BTreeMap<u32, Entry>;

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

fn read(data_dir: &Path) -> Recorded {
    match std::fs::read(path(data_dir)) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            warn!(file = %path(data_dir).display(), error = %e, "unreadable record of failed-over primaries; ignored");
            Recorded::new()
        }),
        Err(_) => Recorded::new(),
    }
}

fn write(data_dir: &Path, recorded: &Recorded) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let tmp = data_dir.join(format!("{FILE}.tmp"));
    let text = serde_json::to_vec_pretty(recorded).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    // A rename replaces the file whole: a crash leaves the old record or the new one.
    std::fs::rename(&tmp, path(data_dir))
}

/// Records that data node `dnid`'s primary is now the storage node at `address`
/// (`host:port`).
pub fn record(data_dir: &Path, dnid: DataNodeId, address: &str) -> std::io::Result<()> {
    let mut recorded = read(data_dir);
    recorded.insert(dnid.get(), Entry::Failover(address.to_string()));
    write(data_dir, &recorded)
}

/// Records that a switchover made the storage node at `address` data node `dnid`'s
/// primary and the old primary at `rejoined` its replica.
pub fn record_switchover(
    data_dir: &Path,
    dnid: DataNodeId,
    address: &str,
    rejoined: &str,
) -> std::io::Result<()> {
    let mut recorded = read(data_dir);
    recorded.insert(
        dnid.get(),
        Entry::Switchover {
            primary: address.to_string(),
            rejoined: rejoined.to_string(),
        },
    );
    write(data_dir, &recorded)
}

/// The recorded primary of each data node (`host:port`) and, after a switchover, the
/// old primary it made its replica: the roles the playground restarts its storage
/// nodes in.
pub fn recorded(data_dir: &Path) -> BTreeMap<DataNodeId, (String, Option<String>)> {
    read(data_dir)
        .into_iter()
        .map(|(dnid, entry)| {
            let rejoined = match &entry {
                Entry::Switchover { rejoined, .. } => Some(rejoined.clone()),
                Entry::Failover(_) => None,
            };
            (
                DataNodeId::new(dnid),
                (entry.primary().to_string(), rejoined),
            )
        })
        .collect()
}

/// Makes each recorded primary the primary of its data node in `config` (see the
/// module documentation); returns what it changed, one line each.
pub fn apply(config: &mut Config) -> Vec<String> {
    let data_dir = config.server.data_dir.clone();
    let mut recorded = read(&data_dir);
    let (changed, stale) = apply_entries(config, &recorded);
    if !stale.is_empty() {
        for dnid in stale {
            recorded.remove(&dnid);
        }
        if let Err(e) = write(&data_dir, &recorded) {
            warn!(error = %e, "cannot rewrite the record of failed-over primaries");
        }
    }
    changed
}

/// Makes the primaries the cluster recorded in etcd (`host:port`, and the old primary
/// a switchover made its replica) the primaries of `config`, as [`apply`] does with
/// the data directory's record; returns what it changed, one line each.
pub fn apply_recorded(
    config: &mut Config,
    recorded: &BTreeMap<DataNodeId, (String, Option<String>)>,
) -> Vec<String> {
    let entries: Recorded = recorded
        .iter()
        .map(|(dnid, (primary, rejoined))| {
            let entry = match rejoined {
                Some(rejoined) => Entry::Switchover {
                    primary: primary.clone(),
                    rejoined: rejoined.clone(),
                },
                None => Entry::Failover(primary.clone()),
            };
            (dnid.get(), entry)
        })
        .collect();
    apply_entries(config, &entries).0
}

/// Applies `recorded` to `config`: the lines describing what changed, and the data
/// nodes whose record is stale (the configuration names that primary already, or has
/// no such data node).
fn apply_entries(config: &mut Config, recorded: &Recorded) -> (Vec<String>, Vec<u32>) {
    let mut changed = Vec::new();
    let mut stale = Vec::new();
    for (&dnid, entry) in recorded {
        let address = entry.primary();
        let Some(dn) = config.data_nodes.iter_mut().find(|d| d.id.get() == dnid) else {
            stale.push(dnid);
            continue;
        };
        let addr = |n: &strata_catalog::config::StorageNodeConfig| format!("{}:{}", n.host, n.port);
        if addr(&dn.primary) == *address {
            stale.push(dnid);
            continue;
        }
        let Some(i) = dn.replicas.iter().position(|r| addr(r) == *address) else {
            warn!(dnid, recorded = %address, "the primary a failover chose is not in the configuration any more; using the configured one");
            continue;
        };
        let mut promoted = dn.replicas.remove(i);
        if promoted.database.is_empty() {
            promoted.database = dn.primary.database.clone();
        }
        let mut old = std::mem::replace(&mut dn.primary, promoted);
        let line = match entry {
            Entry::Switchover { rejoined, .. } if *rejoined == addr(&old) => {
                let line = format!(
                    "data node {dnid}: primary {address} (chosen by a switchover), instead of {rejoined} as configured, which is its replica now",
                );
                old.database.clear();
                dn.replicas.push(old);
                line
            }
            _ => format!(
                "data node {dnid}: primary {address} (chosen by a failover), instead of {} as configured, which is left out until it is rejoined as a replica and listed again",
                addr(&old)
            ),
        };
        warn!("{line}");
        changed.push(line);
    }
    (changed, stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_catalog::config::{DataNodeConfig, StorageNodeConfig};

    fn node(port: u16, database: &str) -> StorageNodeConfig {
        StorageNodeConfig::new("127.0.0.1", port, "u", "", database)
    }

    /// A configuration with a data directory of its own and data node 1: primary on
    /// port 3001 (database `db1`), replicas on `replica_ports`.
    fn one_data_node(replica_ports: &[u16]) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.server.data_dir = dir.path().to_path_buf();
        let mut dn = DataNodeConfig::new(DataNodeId::new(1), node(3001, "db1"));
        dn.replicas = replica_ports.iter().map(|&port| node(port, "")).collect();
        config.data_nodes = vec![dn];
        (dir, config)
    }

    #[test]
    fn a_recorded_replica_becomes_the_primary_and_the_old_one_is_left_out() {
        let (dir, mut config) = one_data_node(&[3002, 3003]);
        record(dir.path(), DataNodeId::new(1), "127.0.0.1:3003").expect("record");
        let changed = apply(&mut config);
        assert_eq!(changed.len(), 1, "{changed:?}");
        let dn = &config.data_nodes[0];
        assert_eq!(
            (dn.primary.port, dn.primary.database.as_str()),
            (3003, "db1")
        );
        assert_eq!(
            dn.replicas.iter().map(|r| r.port).collect::<Vec<_>>(),
            [3002]
        );
        // The configuration now names it the primary: the record is dropped.
        assert!(apply(&mut config).is_empty());
        assert!(read(dir.path()).is_empty());
    }

    #[test]
    fn after_a_switchover_the_old_primary_is_listed_as_a_replica() {
        let (dir, mut config) = one_data_node(&[3002]);
        record_switchover(
            dir.path(),
            DataNodeId::new(1),
            "127.0.0.1:3002",
            "127.0.0.1:3001",
        )
        .expect("record");
        assert_eq!(apply(&mut config).len(), 1);
        let dn = &config.data_nodes[0];
        assert_eq!(
            (dn.primary.port, dn.primary.database.as_str()),
            (3002, "db1")
        );
        let replicas: Vec<(u16, &str)> = dn
            .replicas
            .iter()
            .map(|r| (r.port, r.database.as_str()))
            .collect();
        assert_eq!(replicas, [(3001, "")]);
        // A file written before switchovers existed still reads.
        std::fs::write(path(dir.path()), r#"{"1": "127.0.0.1:3002"}"#).expect("write");
        assert_eq!(
            read(dir.path()).get(&1),
            Some(&Entry::Failover("127.0.0.1:3002".into()))
        );
    }

    #[test]
    fn a_record_of_a_storage_node_no_longer_configured_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.server.data_dir = dir.path().to_path_buf();
        config.data_nodes = vec![DataNodeConfig::new(DataNodeId::new(1), node(3001, "db1"))];
        record(dir.path(), DataNodeId::new(1), "10.0.0.9:3306").expect("record");
        assert!(apply(&mut config).is_empty());
        assert_eq!(config.data_nodes[0].primary.port, 3001);
    }
}
