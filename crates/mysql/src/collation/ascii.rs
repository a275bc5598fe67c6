//! ascii collations: `ascii_bin` weighs the byte, `ascii_general_ci` the upper-cased
//! byte (MariaDB's table folds only a-z). Characters above 0x7F arrive as `?`.

/// The `ascii_general_ci` weight of an ASCII code point.
pub(super) fn general_ci(cp: u32) -> u8 {
    u8::try_from(cp).map_or(b'?', |b| b.to_ascii_uppercase())
}
