//! The MariaDB server and the storage target the backend's integration tests connect
//! to.

use std::path::Path;

use strata_backend::StorageTarget;
use strata_catalog::DataNodeId;
use strata_localnode::{free_port, MariadbNode, MariadbOptions, MariadbTls};

/// Starts a MariaDB server with its data in `dir`, serving `tls` if given.
pub async fn start_node(dir: &Path, tls: Option<MariadbTls>) -> MariadbNode {
    let mut opts = MariadbOptions::new(dir.join("data"), free_port().expect("free port"));
    opts.tls = tls;
    MariadbNode::start(opts).await.expect("mariadbd starts")
}

/// Data node 1 on `node`, as Strata's account, in the `mysql` database.
pub fn target(node: &MariadbNode) -> StorageTarget {
    let opts = node.options();
    StorageTarget {
        dnid: DataNodeId::new(1),
        host: opts.connect_host().to_string(),
        port: node.port(),
        user: opts.user.clone(),
        password: opts.password.clone(),
        database: "mysql".into(),
    }
}
