//! Routing and distributed planning: a pure function from (statement, catalog view) to a
//! `Plan` that says which data nodes run what and how their replies combine.

pub mod plan;

pub use plan::{
    Aggregate, AggregateFunction, CompareOp, Literal, MergeSpec, NodeStatement, Plan, Predicate,
    SortKey, WriteCombine,
};
