//! `caching_sha2_password` (MySQL 8's default plugin), both sides.
//!
//! The client first sends `XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) + scramble))`. A server
//! that has this user in its cache of recent full logins accepts it ("fast auth"); otherwise
//! it asks for full authentication: the password in clear over TLS, or without TLS
//! RSA-OAEP(SHA-1)-encrypted with the server's public key after XOR with the scramble.
//! This module holds the pure parts: scrambles, the cache, the server's RSA key and
//! the password encryption; `auth` and `handshake` drive the exchanges.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::constant_time_eq;
use super::verifier::Credential;

/// The plugin's name on the wire.
pub const NAME: &str = "caching_sha2_password";
/// Client -> server: "send me your RSA public key".
pub const REQUEST_PUBLIC_KEY: u8 = 0x02;
/// Server -> client (in AuthMoreData): the fast path succeeded, an OK follows.
pub const FAST_AUTH_SUCCESS: u8 = 0x03;
/// Server -> client (in AuthMoreData): send the password itself.
pub const PERFORM_FULL_AUTHENTICATION: u8 = 0x04;
/// Size of the server's RSA key in bits.
pub const RSA_KEY_BITS: usize = 2048;

/// Failures of the RSA part of full authentication.
#[derive(Debug, thiserror::Error)]
pub enum RsaError {
    /// The server's public key is not a PEM RSA public key (PKCS#8 or PKCS#1).
    #[error("unusable RSA public key")]
    BadPublicKey,
    /// Key generation, encryption or decryption failed.
    #[error("RSA: {0}")]
    Rsa(#[from] rsa::Error),
}

/// The fast-path response a client sends (empty for an empty password).
pub fn scramble(scramble: &[u8], password: &[u8]) -> Vec<u8> {
    mysql_common::scramble::scramble_sha256(scramble, password)
        .map(|s| s.to_vec())
        .unwrap_or_default()
}

/// True when a fast-path `response` proves knowledge of `password` for `scramble`.
pub fn verify_fast(scramble: &[u8], password: &[u8], response: &[u8]) -> bool {
    constant_time_eq(&self::scramble(scramble, password), response)
}

fn double_sha256(password: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(password)).into()
}

/// XORs `data` with `scramble` repeated (how the password is masked before RSA).
fn xor_with_scramble(data: &mut [u8], scramble: &[u8]) {
    if scramble.is_empty() {
        return;
    }
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= scramble[i % scramble.len()];
    }
}

/// Encrypts `password` for full authentication without TLS: RSA-OAEP(SHA-1) of
/// `(password + NUL) XOR scramble`, with the server's PEM public key.
pub fn encrypt_password(
    public_key_pem: &[u8],
    password: &[u8],
    scramble: &[u8],
) -> Result<Vec<u8>, RsaError> {
    let pem = std::str::from_utf8(public_key_pem).map_err(|_| RsaError::BadPublicKey)?;
    let pem = pem.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let key = RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| RsaError::BadPublicKey)?;
    let mut plain = Vec::with_capacity(password.len() + 1);
    plain.extend_from_slice(password);
    plain.push(0);
    xor_with_scramble(&mut plain, scramble);
    Ok(key.encrypt(&mut rand::thread_rng(), Oaep::new::<Sha1>(), &plain)?)
}

/// The server's RSA key pair for full authentication without TLS, with its public key
/// as the PEM text sent to clients.
pub struct ServerRsaKey {
    private: RsaPrivateKey,
    public_pem: String,
}

impl std::fmt::Debug for ServerRsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerRsaKey").finish_non_exhaustive()
    }
}

impl ServerRsaKey {
    /// Generates a fresh 2048-bit key pair (slow: hundreds of milliseconds).
    pub fn generate() -> Result<Self, RsaError> {
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), RSA_KEY_BITS)?;
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| RsaError::BadPublicKey)?;
        Ok(Self {
            private,
            public_pem,
        })
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), what MySQL sends.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// Size in bytes of one ciphertext block.
    pub fn ciphertext_len(&self) -> usize {
        self.private.size()
    }

    /// Decrypts a client's encrypted password; `None` when it does not decrypt.
    pub fn decrypt_password(&self, ciphertext: &[u8], scramble: &[u8]) -> Option<Vec<u8>> {
        let mut plain = self.private.decrypt(Oaep::new::<Sha1>(), ciphertext).ok()?;
        xor_with_scramble(&mut plain, scramble);
        if plain.last() == Some(&0) {
            plain.pop();
        }
        Some(plain)
    }
}

static SERVER_KEY: OnceLock<ServerRsaKey> = OnceLock::new();

/// The process's RSA key, generated on first use and shared by all sessions.
/// Blocks while generating: call it once from a blocking context at start-up to warm it.
pub fn server_rsa_key() -> Result<&'static ServerRsaKey, RsaError> {
    if let Some(key) = SERVER_KEY.get() {
        return Ok(key);
    }
    let key = ServerRsaKey::generate()?;
    Ok(SERVER_KEY.get_or_init(|| key))
}

/// Like `server_rsa_key`, but generates on tokio's blocking pool when inside a runtime.
pub(crate) async fn server_rsa_key_async() -> Result<&'static ServerRsaKey, RsaError> {
    if let Some(key) = SERVER_KEY.get() {
        return Ok(key);
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        if let Ok(generated) = tokio::task::spawn_blocking(ServerRsaKey::generate).await {
            let key = generated?;
            return Ok(SERVER_KEY.get_or_init(|| key));
        }
    }
    server_rsa_key()
}

/// Users who completed full authentication, by name, with the SHA256(SHA256(password))
/// they proved and a fingerprint of the stored credential they proved it against; only
/// they may use the fast path, and only while that credential is unchanged.
#[derive(Debug, Default)]
pub struct FastAuthCache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

#[derive(Debug, Clone, Copy)]
struct CacheEntry {
    stage2: [u8; 32],
    credential: [u8; 32],
}

impl FastAuthCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, CacheEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that `user` fully authenticated with `password` against `credential`.
    pub fn insert(&self, user: &str, password: &[u8], credential: &Credential) {
        let entry = CacheEntry {
            stage2: double_sha256(password),
            credential: credential.fingerprint(),
        };
        self.entries().insert(user.to_string(), entry);
    }

    /// True when `user` fully authenticated with this same `password` before.
    pub fn contains(&self, user: &str, password: &[u8]) -> bool {
        let digest = double_sha256(password);
        self.entries()
            .get(user)
            .is_some_and(|cached| constant_time_eq(&cached.stage2, &digest))
    }

    /// True when a fast-path `response` for `scramble` proves the password `user`
    /// fully authenticated with, against this same `credential`. The server holds no
    /// password: it recovers `SHA256(pw)` from the response with the cached
    /// `SHA256(SHA256(pw))` and checks that it hashes back to it.
    pub fn verify_fast(
        &self,
        user: &str,
        credential: &Credential,
        scramble: &[u8],
        response: &[u8],
    ) -> bool {
        let Some(entry) = self.entries().get(user).copied() else {
            return false;
        };
        if response.len() != 32 || !constant_time_eq(&entry.credential, &credential.fingerprint()) {
            return false;
        }
        let mask: [u8; 32] = Sha256::new()
            .chain_update(entry.stage2)
            .chain_update(scramble)
            .finalize()
            .into();
        let stage1: Vec<u8> = response.iter().zip(mask).map(|(r, m)| r ^ m).collect();
        constant_time_eq(&Sha256::digest(&stage1), &entry.stage2)
    }

    /// Forgets `user` (after a password change or DROP USER).
    pub fn remove(&self, user: &str) {
        self.entries().remove(user);
    }

    /// Forgets everyone (FLUSH PRIVILEGES, config reload).
    pub fn clear(&self) {
        self.entries().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAMBLE: &[u8; 20] = b"abcdefghijklmnopqrst";

    /// Computed independently:
    /// python3 -c "import hashlib as h; s=b'abcdefghijklmnopqrst'; p=b'secret';
    ///   a=h.sha256(p).digest(); b=h.sha256(h.sha256(a).digest()+s).digest();
    ///   print(bytes(x^y for x,y in zip(a,b)).hex())"
    const SECRET_RESPONSE: &str =
        "c76e2898612a4cf042c77fa8c4702c4c64c0c2c557c53c4d75595aaa6abae809";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn fast_path_scramble_matches_an_independently_computed_vector() {
        assert_eq!(hex(&scramble(SCRAMBLE, b"secret")), SECRET_RESPONSE);
        assert!(verify_fast(
            SCRAMBLE,
            b"secret",
            &scramble(SCRAMBLE, b"secret")
        ));
        assert!(!verify_fast(
            SCRAMBLE,
            b"secreT",
            &scramble(SCRAMBLE, b"secret")
        ));
        assert!(scramble(SCRAMBLE, b"").is_empty());
    }

    #[test]
    fn an_encrypted_password_decrypts_with_the_server_key() {
        let key = server_rsa_key().unwrap();
        let encrypted =
            encrypt_password(key.public_key_pem().as_bytes(), b"secret", SCRAMBLE).unwrap();
        assert_eq!(encrypted.len(), key.ciphertext_len());
        assert_eq!(
            key.decrypt_password(&encrypted, SCRAMBLE).as_deref(),
            Some(&b"secret"[..])
        );
        assert_ne!(
            key.decrypt_password(&encrypted, b"tsrqponmlkjihgfedcba")
                .as_deref(),
            Some(&b"secret"[..])
        );
        assert!(key.decrypt_password(&encrypted[1..], SCRAMBLE).is_none());
    }

    #[test]
    fn the_public_key_is_pkcs8_pem_and_is_accepted_with_a_trailing_nul() {
        let key = server_rsa_key().unwrap();
        assert!(key
            .public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let mut pem = key.public_key_pem().as_bytes().to_vec();
        pem.push(0);
        assert!(encrypt_password(&pem, b"x", SCRAMBLE).is_ok());
    }

    #[test]
    fn garbage_instead_of_a_public_key_is_an_error() {
        assert!(matches!(
            encrypt_password(
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                b"x",
                SCRAMBLE
            ),
            Err(RsaError::BadPublicKey)
        ));
        assert!(matches!(
            encrypt_password(&[0xff, 0xfe], b"x", SCRAMBLE),
            Err(RsaError::BadPublicKey)
        ));
    }

    #[test]
    fn the_fast_path_needs_the_cached_password_and_the_same_credential() {
        let cache = FastAuthCache::new();
        let credential = Credential::from_password("secret");
        let response = scramble(SCRAMBLE, b"secret");
        assert!(!cache.verify_fast("app", &credential, SCRAMBLE, &response));
        cache.insert("app", b"secret", &credential);
        assert!(cache.verify_fast("app", &credential, SCRAMBLE, &response));
        assert!(!cache.verify_fast("app", &credential, b"tsrqponmlkjihgfedcba", &response));
        let wrong = scramble(SCRAMBLE, b"secreT");
        assert!(!cache.verify_fast("app", &credential, SCRAMBLE, &wrong));
        assert!(!cache.verify_fast("app", &credential, SCRAMBLE, &response[..31]));
        assert!(!cache.verify_fast("other", &credential, SCRAMBLE, &response));
        // ALTER USER gave the account new verifiers (even for the same password).
        let changed = Credential::from_password("secret");
        assert!(!cache.verify_fast("app", &changed, SCRAMBLE, &response));
    }

    #[test]
    fn the_cache_admits_only_the_password_that_was_proven() {
        let cache = FastAuthCache::new();
        let credential = Credential::from_password("pw");
        assert!(!cache.contains("app", b"pw"));
        cache.insert("app", b"pw", &credential);
        assert!(cache.contains("app", b"pw"));
        assert!(!cache.contains("app", b"changed"));
        assert!(!cache.contains("other", b"pw"));
        cache.remove("app");
        assert!(!cache.contains("app", b"pw"));
        cache.insert("app", b"pw", &credential);
        cache.clear();
        assert!(!cache.contains("app", b"pw"));
    }
}
