//! `utf8mb4_unicode_ci` / `utf8mb3_unicode_ci`: UCA 4.0.0 primary weights, 0..n per
//! character (ignorables weigh nothing; `ß` weighs like `ss`). Code points missing from
//! the table get UCA's implicit weights, with the CJK bases; above U+FFFF, 0xFFFD.

use super::tables::{UCA400_RUNS, UCA400_WEIGHTS};

/// Code points of the CJK Compatibility block that UCA treats as unified ideographs.
const CJK_COMPAT_UNIFIED: [u16; 12] = [
    0xFA0E, 0xFA0F, 0xFA11, 0xFA13, 0xFA14, 0xFA1F, 0xFA21, 0xFA23, 0xFA24, 0xFA27, 0xFA28, 0xFA29,
];

/// Appends the primary weights of code point `cp`.
pub(super) fn push_weights(cp: u32, out: &mut Vec<u32>) {
    let Ok(cp16) = u16::try_from(cp) else {
        out.push(0xFFFD);
        return;
    };
    let i = UCA400_RUNS.partition_point(|&(_, last, _, _)| last < cp16);
    if let Some(&(first, _, idx, n)) = UCA400_RUNS.get(i) {
        if first <= cp16 {
            let idx = usize::from(idx);
            if n == 1 {
                // A run of one-weight entries: the weight grows by one per code point.
                out.push(u32::from(UCA400_WEIGHTS[idx].wrapping_add(cp16 - first)));
            } else {
                let weights = UCA400_WEIGHTS.get(idx..idx + usize::from(n)).unwrap_or(&[]);
                out.extend(weights.iter().map(|&w| u32::from(w)));
            }
            return;
        }
    }
    let base: u16 = if (0x4E00..=0x9FA5).contains(&cp16) || CJK_COMPAT_UNIFIED.contains(&cp16) {
        0xFB40
    } else if (0x3400..=0x4DB5).contains(&cp16) {
        0xFB80
    } else {
        0xFBC0
    };
    out.push(u32::from(base + (cp16 >> 15)));
    out.push(u32::from((cp16 & 0x7FFF) | 0x8000));
}
