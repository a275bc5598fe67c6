//! TLS towards storage nodes, from the `[data_node.primary]` settings: one rustls client
//! config per distinct set of files (data nodes signed by the same CA share it), paired
//! with the name each node's certificate must carry. Built once at start-up, so a bad
//! CA bundle, key or server name stops the compute node before it serves.

use std::collections::HashMap;

use strata_backend::{ClientTls, ClientTlsOptions, StorageTlsMap};
use strata_catalog::config::StorageNodeConfig;
use strata_catalog::Config;
use strata_protocol::tls::load_client_config;

/// The TLS settings of every storage node (primary or replica) with `tls = true`.
pub fn storage_tls(config: &Config) -> Result<StorageTlsMap, String> {
    let mut configs = HashMap::new();
    let mut map = StorageTlsMap::default();
    let members = config.data_nodes.iter().flat_map(|dn| {
        std::iter::once(("primary".to_string(), &dn.primary))
            .chain(
                dn.replicas
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("replica #{}", i + 1), r)),
            )
            .map(move |(role, p)| (dn, role, p))
    });
    for (dn, role, p) in members {
        if !p.tls {
            continue;
        }
        let options = client_options(p);
        let client_config = match configs.get(&options) {
            Some(c) => std::sync::Arc::clone(c),
            None => {
                let c = load_client_config(&options)
                    .map_err(|e| format!("data node {}: {role}: {e}", dn.id))?;
                configs.insert(options, std::sync::Arc::clone(&c));
                c
            }
        };
        let tls = ClientTls::new(client_config, p.tls_server_name())
            .map_err(|e| format!("data node {}: {role}: {e}", dn.id))?;
        map.insert(dn.id, &p.host, p.port, tls);
    }
    Ok(map)
}

fn client_options(p: &StorageNodeConfig) -> ClientTlsOptions {
    ClientTlsOptions {
        ca: p.tls_ca.clone(),
        verify: p.tls_verify,
        client_cert: p.tls_cert.clone().zip(p.tls_key.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_catalog::config::DataNodeConfig;
    use strata_catalog::DataNodeId;

    fn config_with(nodes: Vec<StorageNodeConfig>) -> Config {
        Config {
            data_nodes: nodes
                .into_iter()
                .enumerate()
                .map(|(i, primary)| DataNodeConfig::new(DataNodeId::new(i as u32 + 1), primary))
                .collect(),
            ..Config::default()
        }
    }

    #[test]
    fn only_nodes_with_tls_on_get_settings() {
        let mut encrypted = StorageNodeConfig::new("db2.internal", 3306, "s", "p", "d");
        encrypted.tls = true;
        encrypted.tls_verify = false;
        let config = config_with(vec![
            StorageNodeConfig::new("db1.internal", 3306, "s", "p", "d"),
            encrypted,
        ]);
        let map = storage_tls(&config).unwrap_or_else(|e| panic!("{e}"));
        let target = |dnid: u32, host: &str| strata_backend::StorageTarget {
            dnid: DataNodeId::new(dnid),
            host: host.into(),
            port: 3306,
            user: "s".into(),
            password: "p".into(),
            database: "d".into(),
        };
        assert!(map.get(&target(1, "db1.internal")).is_none());
        let tls = map
            .get(&target(2, "db2.internal"))
            .map(|t| t.server_name().to_str().into_owned());
        assert_eq!(tls.as_deref(), Some("db2.internal"));
    }

    #[test]
    fn an_unusable_ca_bundle_or_server_name_names_the_data_node() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap_or_else(|e| panic!("{e}"));
        let mut node = StorageNodeConfig::new("127.0.0.1", 3306, "s", "p", "d");
        node.tls = true;
        node.tls_ca = Some(ca.clone());
        let error = storage_tls(&config_with(vec![node.clone()])).map(|_| ());
        assert_eq!(
            error,
            Err(format!(
                "data node 1: primary: {}: no PEM certificate found",
                ca.display()
            ))
        );
        node.tls_verify = false;
        node.tls_ca = None;
        node.tls_server_name = Some("bad name".into());
        let error = storage_tls(&config_with(vec![node])).map(|_| ());
        assert_eq!(
            error,
            Err("data node 1: primary: 'bad name' is not a valid TLS server name".into())
        );
    }
}
