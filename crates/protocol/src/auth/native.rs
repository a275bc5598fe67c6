//! `mysql_native_password`: the client proves it knows the password by sending
//! `SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))`; an empty password is an empty
//! response. Strata knows clear-text passwords, so it recomputes the response and compares.

use super::constant_time_eq;

/// The plugin's name on the wire.
pub const NAME: &str = "mysql_native_password";

/// The response a client sends for `password` and `scramble` (empty for an empty password).
pub fn scramble(scramble: &[u8], password: &[u8]) -> Vec<u8> {
    mysql_common::scramble::scramble_native(scramble, password)
        .map(|s| s.to_vec())
        .unwrap_or_default()
}

/// True when `response` proves knowledge of `password` for `scramble`.
pub fn verify(scramble: &[u8], password: &[u8], response: &[u8]) -> bool {
    constant_time_eq(&self::scramble(scramble, password), response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAMBLE: &[u8; 20] = b"abcdefghijklmnopqrst";

    /// Computed independently:
    /// python3 -c "import hashlib as h; s=b'abcdefghijklmnopqrst'; p=b'secret';
    ///   a=h.sha1(p).digest(); b=h.sha1(s+h.sha1(a).digest()).digest();
    ///   print(bytes(x^y for x,y in zip(a,b)).hex())"
    const SECRET_RESPONSE: &str = "8817c50fa779daef010ee7577825b0847df9842e";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn scramble_matches_an_independently_computed_vector() {
        assert_eq!(hex(&scramble(SCRAMBLE, b"secret")), SECRET_RESPONSE);
    }

    #[test]
    fn the_right_response_verifies_and_a_wrong_one_does_not() {
        let response = scramble(SCRAMBLE, b"secret");
        assert!(verify(SCRAMBLE, b"secret", &response));
        assert!(!verify(SCRAMBLE, b"Secret", &response));
        assert!(!verify(b"tsrqponmlkjihgfedcba", b"secret", &response));
        assert!(!verify(SCRAMBLE, b"secret", &response[..19]));
    }

    #[test]
    fn an_empty_password_is_an_empty_response_and_nothing_else() {
        assert!(scramble(SCRAMBLE, b"").is_empty());
        assert!(verify(SCRAMBLE, b"", b""));
        assert!(!verify(SCRAMBLE, b"", &[0u8; 20]));
        assert!(!verify(SCRAMBLE, b"secret", b""));
    }
}
