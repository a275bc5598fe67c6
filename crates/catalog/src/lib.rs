//! Catalog of the compute node: its configuration (loaded and validated from TOML), the
//! embedded metadata store (redb) for what changes at runtime, and the [`Catalog`] that
//! merges both into the logical databases, data nodes and users the server looks up on
//! every statement.

mod catalog;
pub mod config;
pub mod sharding;
mod error;
mod load;
pub mod store;

pub use catalog::{Catalog, DbOrigin, LogicDb};
pub use config::Config;
pub use error::CatalogError;
pub use load::validate_logic_db_name;
pub use store::{DatabaseMeta, MetadataStore, TableKind, TableMeta};
