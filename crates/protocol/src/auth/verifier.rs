//! Stored password verifiers and the credential a login is checked against. Strata never
//! keeps a clear-text password: an account stores `SHA1(SHA1(pw))` (what
//! `mysql_native_password` needs, shown as `*HEX40` like MariaDB's `PASSWORD()`) and/or a
//! salted, iterated SHA-256 crypt in MySQL 8's `caching_sha2_password` format
//! (`$A$005$` + 20-byte salt + 43 characters), which checks the clear password a client
//! sends during caching_sha2 full authentication.

use rand::Rng;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use super::{constant_time_eq, AuthPlugin};

/// `SHA1(SHA1(password))`, the stored form of a `mysql_native_password` password.
pub type NativeHash = [u8; 20];

/// Rounds of SHA-256 crypt in MySQL's default verifiers (`005` times 1000).
pub const SHA2_ROUNDS: u32 = 5000;

/// Salt length of MySQL's caching_sha2 verifiers.
pub const SHA2_SALT_LEN: usize = 20;

/// The stored native hash of `password`.
pub fn native_hash(password: &[u8]) -> NativeHash {
    Sha1::digest(Sha1::digest(password)).into()
}

/// A native hash as MariaDB prints it: `*` and 40 uppercase hex digits.
pub fn format_native_hash(hash: &NativeHash) -> String {
    let mut out = String::with_capacity(41);
    out.push('*');
    for b in hash {
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// Parses `*` followed by 40 hex digits (either case); `None` for anything else.
pub fn parse_native_hash(text: &str) -> Option<NativeHash> {
    let hex = text.strip_prefix('*')?;
    if hex.len() != 40 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A `caching_sha2_password` verifier: `$A$<rounds/1000, 3 hex digits>$<salt><hash>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha2Verifier(String);

impl Sha2Verifier {
    /// A verifier for `password` with a fresh random salt and MySQL's default rounds.
    pub fn generate(password: &[u8]) -> Self {
        const SALT_CHARS: &[u8] =
            b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut rng = rand::thread_rng();
        let salt: String = (0..SHA2_SALT_LEN)
            .map(|_| SALT_CHARS[rng.gen_range(0..SALT_CHARS.len())] as char)
            .collect();
        Self::with_salt(password, &salt, SHA2_ROUNDS)
    }

    /// A verifier for `password` with the given salt (printable, no `$`) and rounds
    /// (a multiple of 1000, as the format stores thousands).
    pub fn with_salt(password: &[u8], salt: &str, rounds: u32) -> Self {
        let hash = sha256_crypt(password, salt.as_bytes(), rounds);
        Sha2Verifier(format!("$A${:03X}${salt}{hash}", rounds / 1000))
    }

    /// Parses a stored verifier; `None` when it is not in the `$A$` format.
    pub fn parse(text: &str) -> Option<Self> {
        Self::parts(text)?;
        Some(Sha2Verifier(text.to_string()))
    }

    fn parts(text: &str) -> Option<(u32, &str, &str)> {
        let rest = text.strip_prefix("$A$")?;
        let (count, rest) = rest.split_once('$')?;
        if count.len() != 3 {
            return None;
        }
        let rounds = u32::from_str_radix(count, 16).ok()?.checked_mul(1000)?;
        if rounds == 0 || rest.len() != SHA2_SALT_LEN + 43 || !rest.is_ascii() {
            return None;
        }
        let (salt, hash) = rest.split_at(SHA2_SALT_LEN);
        Some((rounds, salt, hash))
    }

    /// True when `password` is the one this verifier was made from.
    pub fn verify(&self, password: &[u8]) -> bool {
        match Self::parts(&self.0) {
            Some((rounds, salt, hash)) => constant_time_eq(
                sha256_crypt(password, salt.as_bytes(), rounds).as_bytes(),
                hash.as_bytes(),
            ),
            None => false,
        }
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a login is verified against: the account's stored verifiers and the plugin it
/// demands. `Credential::default()` has no verifier at all and admits nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credential {
    /// The account has no password: only an empty response is accepted.
    pub no_password: bool,
    /// `SHA1(SHA1(pw))`: verifies mysql_native_password responses and clear passwords.
    pub native: Option<NativeHash>,
    /// SHA-256 crypt: verifies clear passwords from caching_sha2 full authentication.
    pub sha2: Option<Sha2Verifier>,
    /// The plugin the account demands (`None`: whichever the verifiers allow).
    pub required: Option<AuthPlugin>,
}

impl Credential {
    /// Both verifiers of a clear-text password (an empty one means no password).
    pub fn from_password(password: &str) -> Self {
        Self::build(password, Sha2Verifier::generate)
    }

    /// Like `from_password` with a fixed caching_sha2 salt, so the same password always
    /// gives the same credential (fixtures, fuzzing).
    pub fn from_password_with_salt(password: &str, salt: &str) -> Self {
        Self::build(password, |pw| {
            Sha2Verifier::with_salt(pw, salt, SHA2_ROUNDS)
        })
    }

    fn build(password: &str, sha2: impl FnOnce(&[u8]) -> Sha2Verifier) -> Self {
        if password.is_empty() {
            return Credential {
                no_password: true,
                ..Credential::default()
            };
        }
        Credential {
            no_password: false,
            native: Some(native_hash(password.as_bytes())),
            sha2: Some(sha2(password.as_bytes())),
            required: None,
        }
    }

    /// The same credential demanding `plugin`.
    pub fn requiring(self, plugin: Option<AuthPlugin>) -> Self {
        Credential {
            required: plugin,
            ..self
        }
    }

    /// True when the clear `password` matches (checked against every stored verifier).
    pub fn verify_clear(&self, password: &[u8]) -> bool {
        if self.no_password {
            return password.is_empty();
        }
        if password.is_empty() {
            return false;
        }
        let native_ok = self
            .native
            .is_none_or(|h| constant_time_eq(&native_hash(password), &h));
        let sha2_ok = self.sha2.as_ref().is_none_or(|v| v.verify(password));
        (self.native.is_some() || self.sha2.is_some()) && native_ok && sha2_ok
    }

    /// The plugin a login must use: the required one, else the one the stored verifiers
    /// force (a caching_sha2 verifier alone cannot check a native response; a native hash
    /// alone is checked without RSA or TLS by native), else `None` (either).
    pub fn effective_plugin(&self) -> Option<AuthPlugin> {
        if self.required.is_some() || self.no_password {
            return self.required;
        }
        match (&self.native, &self.sha2) {
            (Some(_), None) => Some(AuthPlugin::MysqlNativePassword),
            (None, Some(_)) => Some(AuthPlugin::CachingSha2Password),
            _ => None,
        }
    }

    /// A digest of the stored verifiers: a fast-auth cache entry proven against one
    /// credential is not trusted once the account's password changed.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([u8::from(self.no_password)]);
        h.update(self.native.unwrap_or_default());
        h.update(self.sha2.as_ref().map_or("", |v| v.as_str()).as_bytes());
        h.finalize().into()
    }
}

/// SHA-256 crypt (Ulrich Drepper's "Unix crypt using SHA-256", as glibc's `$5$` and
/// MySQL's caching_sha2 verifiers use it): the 43-character encoded hash, without
/// prefix or salt.
pub fn sha256_crypt(password: &[u8], salt: &[u8], rounds: u32) -> String {
    let digest = |parts: &[&[u8]]| -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    };
    let b = digest(&[password, salt, password]);
    let mut a = Sha256::new();
    a.update(password);
    a.update(salt);
    let mut left = password.len();
    while left > 32 {
        a.update(b);
        left -= 32;
    }
    a.update(&b[..left]);
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            a.update(b);
        } else {
            a.update(password);
        }
        bits >>= 1;
    }
    let a: [u8; 32] = a.finalize().into();

    let repeat_to = |unit: &[u8; 32], len: usize| -> Vec<u8> {
        unit.iter().cycle().take(len).copied().collect()
    };
    let mut dp = Sha256::new();
    for _ in 0..password.len() {
        dp.update(password);
    }
    let p = repeat_to(&dp.finalize().into(), password.len());
    let mut ds = Sha256::new();
    for _ in 0..16 + usize::from(a[0]) {
        ds.update(salt);
    }
    let s = repeat_to(&ds.finalize().into(), salt.len());

    let mut c = a;
    for i in 0..rounds {
        let mut h = Sha256::new();
        if i % 2 == 1 {
            h.update(&p);
        } else {
            h.update(c);
        }
        if i % 3 != 0 {
            h.update(&s);
        }
        if i % 7 != 0 {
            h.update(&p);
        }
        if i % 2 == 1 {
            h.update(c);
        } else {
            h.update(&p);
        }
        c = h.finalize().into();
    }
    encode_crypt_base64(&c)
}

/// crypt's base-64 of a SHA-256 digest: its own alphabet and byte permutation.
fn encode_crypt_base64(c: &[u8; 32]) -> String {
    const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(43);
    let mut put = |b2: u8, b1: u8, b0: u8, n: usize| {
        let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
        for _ in 0..n {
            out.push(ALPHABET[(w & 0x3f) as usize] as char);
            w >>= 6;
        }
    };
    // Each triple takes bytes i, i+10, i+20 rotating which one leads.
    for i in 0..10 {
        let (x, y, z) = (i, (i + 10) % 30, (i + 20) % 30);
        match i % 3 {
            0 => put(c[x], c[y], c[z], 4),
            1 => put(c[z], c[x], c[y], 4),
            _ => put(c[y], c[z], c[x], 4),
        }
    }
    put(0, c[31], c[30], 3);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_hash_is_mariadbs_password_function() {
        // SELECT PASSWORD('secret'), PASSWORD('x') on MariaDB 10.11.
        for (pw, expected) in [
            ("secret", "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"),
            ("x", "*B69027D44F6E5EDC07F1AEAD1477967B16F28227"),
            ("p", "*7B9EBEED26AA52ED10C0F549FA863F13C39E0209"),
        ] {
            let hash = native_hash(pw.as_bytes());
            assert_eq!(format_native_hash(&hash), expected);
            assert_eq!(parse_native_hash(expected), Some(hash));
            assert_eq!(parse_native_hash(&expected.to_lowercase()), Some(hash));
        }
    }

    #[test]
    fn malformed_native_hashes_are_refused() {
        for text in [
            "",
            "*",
            "14E65567ABDB5135D0CFD9A70B3032C179A49EE7",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EEZ",
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7F",
            "606706156665cd86",
            "*é4E65567ABDB5135D0CFD9A70B3032C179A49EE",
        ] {
            assert_eq!(parse_native_hash(text), None, "{text}");
        }
    }

    #[test]
    fn sha256_crypt_matches_glibc_and_openssl() {
        // `openssl passwd -5 -salt SALT PW` (5000 rounds, the default).
        for (pw, salt, expected) in [
            (
                "Hello world!",
                "saltstring",
                "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
            ),
            (
                "secret",
                "abcdefghijklmnop",
                "i7zHaTeYqXlesRXJ8dXj6o.MEFQdzfIJpJpcWAtszs6",
            ),
            ("a", "x", "85aGabM7xSEYcp0wkefjwtqWAYi1Rrq3b01Gtllmmh7"),
        ] {
            assert_eq!(
                sha256_crypt(pw.as_bytes(), salt.as_bytes(), 5000),
                expected,
                "{pw}"
            );
        }
        let long = vec![b'p'; 100];
        assert_eq!(sha256_crypt(&long, b"s", 1000).len(), 43);
    }

    #[test]
    fn a_sha2_verifier_checks_only_its_password() {
        let v = Sha2Verifier::generate(b"secret");
        assert!(v.as_str().starts_with("$A$005$"));
        assert_eq!(v.as_str().len(), 7 + 20 + 43);
        assert!(v.verify(b"secret"));
        assert!(!v.verify(b"Secret"));
        assert!(!v.verify(b""));
        assert_eq!(Sha2Verifier::parse(v.as_str()), Some(v.clone()));
        assert_ne!(Sha2Verifier::generate(b"secret"), v, "salts differ");
        let fixed = Sha2Verifier::with_salt(b"secret", "abcdefghijklmnopqrst", 5000);
        assert!(fixed.verify(b"secret"));
        for bad in [
            "",
            "$A$005$short",
            "$5$abc$def",
            "$A$XYZ$abcdefghijklmnopqrst",
        ] {
            assert_eq!(Sha2Verifier::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn credentials_verify_clear_passwords_against_what_they_store() {
        let full = Credential::from_password("secret");
        assert!(full.verify_clear(b"secret"));
        assert!(!full.verify_clear(b"other"));
        assert!(!full.verify_clear(b""));
        let native_only = Credential {
            native: Some(native_hash(b"secret")),
            ..Credential::default()
        };
        assert!(native_only.verify_clear(b"secret"));
        assert!(!native_only.verify_clear(b"secreT"));
        let empty = Credential::from_password("");
        assert!(empty.verify_clear(b""));
        assert!(!empty.verify_clear(b"x"));
        assert!(!Credential::default().verify_clear(b""));
        assert!(!Credential::default().verify_clear(b"x"));
    }

    #[test]
    fn the_effective_plugin_follows_the_stored_verifiers() {
        let sha2_only = Credential {
            sha2: Some(Sha2Verifier::generate(b"pw")),
            ..Credential::default()
        };
        let native_only = Credential {
            native: Some(native_hash(b"pw")),
            ..Credential::default()
        };
        let cases = [
            (Credential::from_password("pw"), None),
            (Credential::from_password(""), None),
            (native_only.clone(), Some(AuthPlugin::MysqlNativePassword)),
            (sha2_only, Some(AuthPlugin::CachingSha2Password)),
            (
                native_only.requiring(Some(AuthPlugin::CachingSha2Password)),
                Some(AuthPlugin::CachingSha2Password),
            ),
        ];
        for (credential, expected) in cases {
            assert_eq!(credential.effective_plugin(), expected, "{credential:?}");
        }
    }
}
