//! TLS towards storage nodes, from the `[data_node.primary]` settings: one rustls client
//! config per distinct set of files (data nodes signed by the same CA share it), paired
//! with the name each node's certificate must carry. Built once at start-up, so a bad
//! CA bundle, key or server name stops the compute node before it serves.

use std::collections::HashMap;

use strata_backend::{ClientTls, ClientTlsOptions, StorageTlsMap};
use strata_catalog::config::StorageNodeConfig;
use strata_catalog::Config;
use strata_protocol::tls::load_client_config;

/// The TLS settings of every data node whose primary has `tls = true`.
pub fn storage_tls(config: &Config) -> Result<StorageTlsMap, String> {
    let mut configs = HashMap::new();
    let mut map = StorageTlsMap::default();
    for dn in &config.data_nodes {
        let p = &dn.primary;
        if !p.tls {
            continue;
        }
        let options = client_options(p);
        let client_config = match configs.get(&options) {
            Some(c) => std::sync::Arc::clone(c),
            None => {
                let c = load_client_config(&options)
                    .map_err(|e| format!("data node {}: primary: {e}", dn.id))?;
                configs.insert(options, std::sync::Arc::clone(&c));
                c
            }
        };
        let tls = ClientTls::new(client_config, p.tls_server_name())
            .map_err(|e| format!("data node {}: primary: {e}", dn.id))?;
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
