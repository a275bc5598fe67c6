//! Merge operators with MySQL semantics over rows streamed from several data nodes.
//!
//! A query plan (`strata_planner::Plan::Query`) sends a statement to several data nodes
//! and names the operator tree that merges their replies; this crate builds that tree
//! and turns the text-protocol result rows into the single result MySQL would have
//! returned: k-way merge of sorted streams, cross-node aggregation, HAVING, DISTINCT,
//! ORDER BY, LIMIT/OFFSET, under a memory budget. `driver` runs a plan over a `NodeIo`
//! (storage connections, or a fake in tests) into a `RowSink`; `Merger` builds and
//! drives the tree (`merger.rs`); each operator lives in its own
//! module with its tests (`merge_sort`, `gather`, `hash_aggregate`, `ordered_aggregate`,
//! `having`, `distinct`, `memory_sort`, `limit`); `value` decodes row values, and the
//! MySQL semantics under it (collations, decimals, numbers, date/time) come from
//! `strata_mysql`, which routing uses too.

mod aggregate;
pub mod collation;
mod distinct;
mod distinct_count;
pub mod driver;
pub mod error;
mod gather;
mod hash_aggregate;
mod hash_join;
mod having;
mod layout;
mod limit;
pub mod literal_rows;
mod materialize;
pub mod memory;
mod memory_sort;
mod merge_sort;
mod merger;
mod operator;
mod ordered_aggregate;
pub mod row;
mod sorted_runs;
pub mod spill;
#[cfg(test)]
mod test_support;
pub mod value;

pub use driver::{
    returned_in_order, run_materialize, run_query, run_write, CombinedOk, MaterializeOptions,
    NodeIo, NodeReply, QueryOutcome, RowSink, WriteResult,
};
pub use error::MergeError;
pub use memory::{MemoryBudget, DEFAULT_MEMORY_BUDGET};
#[cfg(feature = "test-util")]
pub use merger::{merge_all, merge_all_with_options};
pub use merger::{
    output_columns, MergeOptions, Merger, Step, DEFAULT_GROUP_CONCAT_MAX_LEN,
    DEFAULT_MAX_SORT_LENGTH,
};
pub use operator::{Demand, MergeWarning};
pub use spill::{NodeSpill, Spill};
