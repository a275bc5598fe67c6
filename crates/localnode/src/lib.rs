//! Local MariaDB storage nodes as child processes.
//!
//! The playground, the integration-test kit and the benchmarks all need real MariaDB
//! servers on this machine, each with its own data directory and port. This crate is the
//! one piece of code that initialises such a data directory (`mariadb-install-db`),
//! starts `mariadbd` on it, waits until it accepts connections, creates the account
//! Strata uses, and stops, kills or restarts it. `tls` makes the CA and certificates for
//! a storage node that serves TLS.
//!
//! ```no_run
//! # async fn demo() -> Result<(), strata_localnode::LocalNodeError> {
//! use strata_localnode::{free_port, MariadbNode, MariadbOptions};
//! let opts = MariadbOptions::new("/tmp/dn1", free_port()?);
//! let mut node = MariadbNode::start(opts).await?;
//! node.ensure_databases(&["test"]).await?;
//! node.stop().await?;
//! # Ok(()) }
//! ```

mod binaries;
mod child;
mod error;
mod etcd;
mod mariadb;
mod port;
mod readiness;
mod replication;
mod tls;

pub use binaries::find_binary;
pub use child::{kill_and_reap, set_parent_death_signal};
pub use error::LocalNodeError;
pub use etcd::{etcd_healthy, etcd_member_args};
pub use mariadb::{MariadbNode, MariadbOptions};
pub use port::{free_port, free_port_block, free_port_range};
pub use readiness::wait_for_mysql_handshake;
pub use replication::ReplicationOptions;
pub use tls::{CertificateAuthority, MariadbTls};
