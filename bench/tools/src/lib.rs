//! Helpers for Strata's benchmark harness (`bench/run`).
//!
//! `mysql` is a deliberately minimal MySQL client (handshake with
//! `mysql_native_password`, COM_QUERY, COM_QUIT) so the connection-scale test can hold
//! tens of thousands of connections cheaply and depends on nothing in the Strata
//! workspace: it measures Strata from the outside, like any client would. `tpcc` is the
//! TPC-C driver built on it.

pub mod mysql;
pub mod proc;
pub mod tpcc;
