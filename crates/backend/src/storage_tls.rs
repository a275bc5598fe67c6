//! Which storage nodes the compute node reaches over TLS: the settings per storage node
//! that the server builds from its configuration at start-up and gives each pool as it
//! creates it (`Pool::with_tls`), so no connection can open before them.

use std::collections::HashMap;

use strata_catalog::DataNodeId;
use strata_protocol::ClientTls;

use crate::conn::StorageTarget;

/// TLS settings per storage node: (DNID, host, port) -> settings.
#[derive(Debug, Clone, Default)]
pub struct StorageTlsMap {
    by_node: HashMap<(DataNodeId, String, u16), ClientTls>,
}

impl StorageTlsMap {
    /// Connections to `host:port` for data node `dnid` use `tls`.
    pub fn insert(&mut self, dnid: DataNodeId, host: &str, port: u16, tls: ClientTls) {
        self.by_node.insert((dnid, host.to_string(), port), tls);
    }

    /// The settings for `target`, if it is listed.
    pub fn get(&self, target: &StorageTarget) -> Option<&ClientTls> {
        self.by_node
            .get(&(target.dnid, target.host.clone(), target.port))
    }

    /// True when no storage node is listed.
    pub fn is_empty(&self) -> bool {
        self.by_node.is_empty()
    }
}
