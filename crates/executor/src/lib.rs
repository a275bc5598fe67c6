//! Merge operators with MySQL semantics over rows streamed from several data nodes.
//!
//! A scatter plan (`strata_planner::Plan::Scatter`) sends one query to several data nodes;
//! this crate turns their text-protocol result rows into the single result MySQL would
//! have returned: k-way merge of sorted streams, cross-node aggregation, HAVING,
//! DISTINCT, ORDER BY, LIMIT/OFFSET, under a memory budget. `Merger` is the entry point
//! (`merger.rs` says which pipeline each plan gets); each operator lives in its own
//! module with its tests (`merge_sort`, `gather`, `hash_aggregate`, `ordered_aggregate`,
//! `having`, `distinct`, `memory_sort`, `limit`); `value` decodes row values, and the
//! MySQL semantics under it (collations, decimals, numbers, date/time) come from
//! `strata_mysql`, which routing uses too.

mod aggregate;
pub mod collation;
mod distinct;
pub mod error;
mod gather;
mod hash_aggregate;
mod having;
mod layout;
mod limit;
pub mod memory;
mod memory_sort;
mod merge_sort;
mod merger;
mod operator;
mod ordered_aggregate;
pub mod row;
#[cfg(test)]
mod test_support;
pub mod value;

pub use error::MergeError;
pub use memory::{MemoryBudget, DEFAULT_MEMORY_BUDGET};
#[cfg(feature = "test-util")]
pub use merger::{merge_all, merge_all_with_options};
pub use merger::{
    output_columns, MergeOptions, Merger, Step, DEFAULT_GROUP_CONCAT_MAX_LEN,
    DEFAULT_MAX_SORT_LENGTH,
};
pub use operator::{Demand, MergeWarning};
