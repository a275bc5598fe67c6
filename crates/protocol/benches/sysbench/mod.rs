//! sysbench's point select as the benchmarks of the codec and of the relay see it: the
//! `c` column of `sbtest1` and a value of it, so both measure the same packets.

use strata_protocol::constants::{charset, coltype};
use strata_protocol::packets::ColumnDef;

/// sysbench's `c` column: 120 characters.
pub fn c_value() -> Vec<u8> {
    b"83868641912-28773972837-60736120486-75162659906-27563526494-20381887404-41576422241-93426793964-56405065102-33518432330"
        .to_vec()
}

/// The definition of `sbtest1.c` as MariaDB sends it.
pub fn sbtest_c_column() -> ColumnDef {
    ColumnDef {
        schema: "sbtest".into(),
        table: "sbtest1".into(),
        org_table: "sbtest1".into(),
        name: "c".into(),
        org_name: "c".into(),
        charset: charset::UTF8MB4_GENERAL_CI as u16,
        length: 480,
        col_type: coltype::STRING,
        flags: 1,
        decimals: 0,
    }
}
