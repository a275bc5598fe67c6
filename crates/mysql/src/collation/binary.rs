//! The byte and code point orders (`binary`, `utf8mb4_bin`, `utf8mb3_bin`) need no
//! table: a byte weighs itself and a character its code point, written as 3 bytes in
//! `WEIGHT_STRING()`. This module holds their checks against MariaDB.

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use crate::collation::Collation;

    #[test]
    fn bin_is_code_point_order_with_pad_space_and_binary_is_bytes() {
        let c = |id| Collation::from_id(id).expect("known id");
        let bin = c(46);
        assert_eq!(bin.compare(b"B", b"a"), Ordering::Less);
        assert_eq!(bin.compare(b"a ", b"a"), Ordering::Equal);
        assert_eq!(bin.compare("\u{e9}".as_bytes(), b"z"), Ordering::Greater);
        let nopad = c(1070);
        assert_eq!(nopad.compare(b"a ", b"a"), Ordering::Greater);
        let binary = c(63);
        assert_eq!(binary.compare(b"a ", b"a"), Ordering::Greater);
        assert_eq!(binary.compare(b"a\0", b"a"), Ordering::Greater);
        assert_eq!(binary.compare(&[0xFF], &[0x7F]), Ordering::Greater);
    }
}
