//! MySQL semantics that routing (catalog, planner) and merging (executor) must agree on,
//! written once: collations (compare, sort keys, `WEIGHT_STRING()` bytes), character set
//! conversion, exact decimals, MySQL's reading of numbers out of text, date/time
//! reading, and MariaDB GTID positions. Every rule here is table-tested against MariaDB 10.11; the crate depends on
//! no other Strata crate, so any layer of the data path can use it.

pub mod charset;
pub mod collation;
pub mod decimal;
pub mod gtid;
pub mod number;
pub mod temporal;

pub use charset::{Charset, Encoding};
pub use collation::{Collation, CollationError};
pub use decimal::Decimal;
