//! Start-up check of every replicated data node's roles: the primary writable and
//! replicating from nobody, each replica read-only and replicating from the primary.

use std::time::Duration;

use strata_backend::StorageTlsMap;
use strata_catalog::config::DataNodeConfig;
use strata_catalog::Config;
use tracing::warn;

use super::prober;

/// Longest the start-up role check waits for one storage node.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(3);

/// Checks the role of every reachable storage node of the data nodes that have
/// replicas: the primary writable and replicating from nobody, each replica read-only
/// and replicating from the primary. Returns every problem found; an unreachable node
/// is logged, not a problem (the heartbeat reports it down).
pub async fn verify_roles(config: &Config, storage_tls: &StorageTlsMap) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for dn in config.data_nodes.iter().filter(|d| !d.replicas.is_empty()) {
        verify_data_node(dn, storage_tls, &mut problems).await;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

async fn verify_data_node(dn: &DataNodeConfig, tls: &StorageTlsMap, problems: &mut Vec<String>) {
    let db = &dn.primary.database;
    let entry = format!("data node {}", dn.id);
    let primary = &dn.primary;
    let mut p = prober(dn.id, primary, db, tls, VERIFY_TIMEOUT);
    match p.probe().await {
        Ok(report) => {
            if report.read_only {
                problems.push(format!(
                    "{entry}: primary {}:{} has read_only = ON (a primary must be writable; after a failover, make the promoted replica the primary in the configuration)",
                    primary.host, primary.port
                ));
            }
            if let Some(source) = report.replication.first() {
                problems.push(format!(
                    "{entry}: primary {}:{} replicates from {}:{} (a primary replicates from nobody)",
                    primary.host, primary.port, source.source_host, source.source_port
                ));
            }
        }
        Err(e) => {
            warn!(dnid = dn.id.get(), node = %format!("{}:{}", primary.host, primary.port), error = %e, "primary not reachable at start-up; its role is not verified")
        }
    }
    for replica in &dn.replicas {
        let at = format!("{}:{}", replica.host, replica.port);
        let mut r = prober(dn.id, replica, db, tls, VERIFY_TIMEOUT);
        let report = match r.probe().await {
            Ok(report) => report,
            Err(e) => {
                warn!(dnid = dn.id.get(), node = %at, error = %e, "replica not reachable at start-up; its role is not verified");
                continue;
            }
        };
        if !report.read_only {
            problems.push(format!(
                "{entry}: replica {at} has read_only = OFF (a replica must be read-only)"
            ));
        }
        match report.replication.as_slice() {
            [] => problems.push(format!(
                "{entry}: replica {at} does not replicate from anything (CHANGE MASTER TO the primary {}:{})",
                primary.host, primary.port
            )),
            sources => {
                if !sources
                    .iter()
                    .any(|s| s.source_host == primary.host && s.source_port == primary.port)
                {
                    let list: Vec<String> = sources
                        .iter()
                        .map(|s| format!("{}:{}", s.source_host, s.source_port))
                        .collect();
                    problems.push(format!(
                        "{entry}: replica {at} replicates from {} instead of the primary {}:{}",
                        list.join(", "),
                        primary.host,
                        primary.port
                    ));
                }
            }
        }
    }
}
