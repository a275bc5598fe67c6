//! Fixtures for integration tests: throwaway MariaDB storage nodes and Strata compute
//! nodes wired to them, and etcd clusters ([`EtcdCluster`]) for compute nodes that
//! share their metadata.
//!
//! Storage nodes are real `mariadbd` processes (via `strata-localnode`) in temporary
//! directories that are removed when the fixture is dropped, even when the test fails.
//! Starting MariaDB costs about a second, so most tests share one set per test binary
//! ([`shared_storage`]) and stay independent by using their own physical database names
//! ([`unique_name`]); tests that kill storage nodes start their own ([`StorageNodes::start`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), strata_testkit::TestkitError> {
//! use mysql_async::prelude::Queryable;
//! let storage = strata_testkit::shared_storage(2).await?;
//! let compute = strata_testkit::ComputeNode::builder(&storage).start().await?;
//! let mut conn = compute.connect(Some("test")).await?;
//! conn.query_drop("CREATE TABLE t (id INT PRIMARY KEY)").await?;
//! compute.shutdown().await;
//! # Ok(()) }
//! ```

mod cleanup;
mod clients;
mod compute;
mod error;
mod etcd;
mod names;
mod process;
mod storage;

pub use clients::{mysql_opts, mysql_url};
pub use compute::{ComputeNode, ComputeNodeBuilder, ROOT_PASSWORD, ROOT_USER};
pub use error::TestkitError;
pub use etcd::EtcdCluster;
pub use names::unique_name;
pub use process::{strata_binary, ComputeProcess};
pub use storage::{shared_storage, StorageNodes};
pub use strata_localnode::{find_binary, free_port, CertificateAuthority, MariadbNode, MariadbTls};
