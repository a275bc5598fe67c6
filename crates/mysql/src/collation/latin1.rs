//! latin1 collations: the character is converted to its latin1 byte (`?` when latin1
//! has none, as `CONVERT` does) and weighs one byte: the byte itself for `latin1_bin`,
//! or its entry in MariaDB's table for `latin1_swedish_ci` (Ä, Ö after Z; Ü = Y),
//! `latin1_general_ci` and `latin1_general_cs`.

use super::tables::{LATIN1_GENERAL_CI, LATIN1_GENERAL_CS, LATIN1_SWEDISH_CI};
use crate::charset::latin1_byte;

/// Which one-byte weight table a latin1 collation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Table {
    /// `latin1_swedish_ci`.
    SwedishCi,
    /// `latin1_general_ci`.
    GeneralCi,
    /// `latin1_general_cs`.
    GeneralCs,
}

/// The latin1 byte of `cp`, `?` when latin1 cannot hold it.
pub(super) fn byte(cp: u32) -> u8 {
    latin1_byte(cp).unwrap_or(b'?')
}

/// The weight of `cp` under `table`.
pub(super) fn weight(table: Table, cp: u32) -> u8 {
    let weights = match table {
        Table::SwedishCi => &LATIN1_SWEDISH_CI,
        Table::GeneralCi => &LATIN1_GENERAL_CI,
        Table::GeneralCs => &LATIN1_GENERAL_CS,
    };
    weights[usize::from(byte(cp))]
}
