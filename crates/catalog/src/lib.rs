//! Catalog of the compute node: its configuration (loaded and validated from TOML), the
//! embedded metadata store (redb) for what changes at runtime, and the [`Catalog`] that
//! merges both into the logical databases, data nodes, users and tables the server looks
//! up on every statement. `accounts` holds accounts and privileges; `sharding` table
//! distributions and sharding functions (string keys weigh by `strata_mysql` collations);
//! `sequence` the global AUTO_INCREMENT allocator. With `[cluster] etcd` the metadata
//! lives in etcd instead (`store::etcd`, over the small client in `etcd`) and `cluster`
//! keeps this node's copy in step with the other compute nodes'.

pub mod accounts;
mod catalog;
pub mod cluster;
pub mod config;
mod data_node_id;
pub mod definers;
mod error;
pub mod etcd;
pub mod fence;
pub mod firewall;
pub mod ha;
mod load;
pub mod security;
pub mod sequence;
pub mod sharding;
pub mod store;
mod table;
#[cfg(test)]
mod test_fixtures;
pub mod unique_keys;
mod view;
pub mod xalog;

pub use accounts::{Account, AccountError, Accounts, HostPattern, PrivSet};
pub use catalog::{
    Catalog, DbOrigin, DeclaredDistribution, LogicDb, RemoteListener, TableDeclaration,
};
pub use config::Config;
pub use data_node_id::DataNodeId;
pub use error::CatalogError;
pub use load::{validate_logic_db_name, validate_table_name};
pub use store::{DatabaseMeta, MetaChange, MetadataStore, RedbStore, StoredEntry, TableKind};
pub use table::TableInfo;
pub use unique_keys::{unique_key_violations, KeyViolation, UniqueKey};
pub use view::ViewInfo;
pub use xalog::{Decision, DecisionLog};
