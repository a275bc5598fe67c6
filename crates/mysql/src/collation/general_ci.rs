//! `utf8mb4_general_ci` / `utf8mb3_general_ci`: one 16-bit weight per character from
//! MariaDB's folding table (case and most accents fold; `ß` weighs like `s`); every
//! character above U+FFFF weighs 0xFFFD.

use std::sync::OnceLock;

use super::tables::GENERAL_CI_EXCEPTIONS;

/// The weight of code point `cp`.
pub(super) fn weight(cp: u32) -> u16 {
    match u16::try_from(cp) {
        Ok(bmp) => table()[usize::from(bmp)],
        Err(_) => 0xFFFD,
    }
}

/// The whole BMP as one array: the merge weighs every character of every row, and an
/// index is cheaper than a binary search over the exceptions.
fn table() -> &'static [u16] {
    static TABLE: OnceLock<Vec<u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<u16> = (0..=u16::MAX).collect();
        for &(cp, weight) in GENERAL_CI_EXCEPTIONS.iter() {
            table[usize::from(cp)] = weight;
        }
        table
    })
}
