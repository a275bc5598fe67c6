//! Catalog of the compute node: its configuration and the metadata it persists.

pub mod config;

pub use config::Config;
