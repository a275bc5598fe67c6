//! TLS on both sides of Strata. Towards clients: loading the server certificate and key
//! (PEM), generating a self-signed pair for first start-up and tests, and upgrading a TCP
//! stream after the client's SSL request. Towards storage nodes: a client config that
//! verifies the storage node's certificate against a CA bundle and its name (or, when
//! told to, only encrypts), with an optional client certificate, and the upgrade after
//! Strata's own SSL request. rustls with the ring provider, installed explicitly.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::BytesMut;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;

use crate::stream::{ClientStream, Rewind, ServerStream};

/// Failures of TLS set-up or of a TLS handshake.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("{}: no PEM certificate found", .0.display())]
    NoCertificate(PathBuf),
    /// The key file holds no PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[error("{}: no PEM private key found", .0.display())]
    NoPrivateKey(PathBuf),
    /// rustls refused the certificate/key pair.
    #[error("invalid certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
    /// Generating a self-signed certificate failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The TLS handshake with the peer failed (for a storage node: also when its
    /// certificate does not verify).
    #[error("TLS handshake failed: {0}")]
    Handshake(io::Error),
    /// Certificate verification was asked for without a CA bundle to verify against.
    #[error("verifying the server certificate needs a CA bundle")]
    NoTrustAnchors,
    /// The name a server certificate must carry is neither a DNS name nor an IP address.
    #[error("'{0}' is not a valid TLS server name")]
    ServerName(String),
}

fn file_error(path: &Path) -> impl FnOnce(io::Error) -> TlsError + '_ {
    move |source| TlsError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// The ring crypto provider every Strata TLS config is built with.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every PEM certificate of `path`; none at all is an error.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = fs::read(path).map_err(file_error(path))?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(file_error(path))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// Reads the first PEM private key of `path`.
fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = fs::read(path).map_err(file_error(path))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(file_error(path))?
        .ok_or_else(|| TlsError::NoPrivateKey(path.to_path_buf()))
}

/// Builds a server config from a PEM certificate chain and a PEM private key.
pub fn load_server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = read_certificates(cert)?;
    let private_key = read_private_key(key)?;
    let config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, private_key)?;
    Ok(Arc::new(config))
}

/// Writes a new self-signed certificate for `names` (DNS names or IP addresses) and its
/// private key (mode 0600) as PEM, creating parent directories.
pub fn generate_self_signed(cert: &Path, key: &Path, names: &[&str]) -> Result<(), TlsError> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names)?;
    write_file(cert, certified.cert.pem().as_bytes(), 0o644)?;
    write_file(key, certified.key_pair.serialize_pem().as_bytes(), 0o600)?;
    Ok(())
}

// Off Unix there are no mode bits to set: the file gets its directory's permissions.
#[cfg_attr(not(unix), allow(unused_variables))]
fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(file_error(parent))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(mode);
        let mut file = options.open(path).map_err(file_error(path))?;
        // An existing file keeps its old mode on open; tighten it explicitly.
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(file_error(path))?;
        file.write_all(contents).map_err(file_error(path))?;
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path).map_err(file_error(path))?;
        file.write_all(contents).map_err(file_error(path))?;
    }
    Ok(())
}

/// Runs the server side of a TLS handshake on `stream`, first replaying `leftover`
/// (bytes read after the SSL request, e.g. the start of the ClientHello).
pub async fn accept(
    config: &Arc<rustls::ServerConfig>,
    stream: TcpStream,
    leftover: BytesMut,
) -> Result<ServerStream, TlsError> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(config));
    let tls = acceptor
        .accept(Rewind::new(leftover, stream))
        .await
        .map_err(TlsError::Handshake)?;
    Ok(ServerStream::Tls(Box::new(tls)))
}

/// How Strata, as a client, checks a server's certificate and proves its own identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientTlsOptions {
    /// PEM bundle of the CAs trusted to sign the server's certificate.
    pub ca: Option<PathBuf>,
    /// Verify the certificate chain against `ca` and the server name; off encrypts
    /// without authenticating the server (open to an active man in the middle).
    pub verify: bool,
    /// PEM certificate chain and private key presented to servers that require one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// Builds a client config; with `verify` the CA bundle is required (there is no
/// fallback to a system store: storage nodes are normally signed by a private CA, and
/// trusting every public CA would let any of them vouch for a storage node).
pub fn load_client_config(
    options: &ClientTlsOptions,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let builder = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?;
    let builder = if options.verify {
        let ca = options.ca.as_deref().ok_or(TlsError::NoTrustAnchors)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in read_certificates(ca)? {
            roots.add(cert)?;
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(crypto_provider())))
    };
    let config = match &options.client_cert {
        Some((cert, key)) => {
            builder.with_client_auth_cert(read_certificates(cert)?, read_private_key(key)?)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Accepts any server certificate but still checks that the server holds its key, for
/// `verify = false`: the traffic is encrypted, the server is not authenticated.
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// TLS towards one server: the client config and the name its certificate must carry.
#[derive(Debug, Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
}

impl ClientTls {
    /// TLS to the server called `server_name` (a DNS name or an IP address).
    pub fn new(config: Arc<rustls::ClientConfig>, server_name: &str) -> Result<Self, TlsError> {
        let server_name = ServerName::try_from(server_name.to_string())
            .map_err(|_| TlsError::ServerName(server_name.to_string()))?;
        Ok(Self {
            config,
            server_name,
        })
    }

    /// The name the server's certificate is checked against.
    pub fn server_name(&self) -> &ServerName<'static> {
        &self.server_name
    }

    /// Runs the client side of a TLS handshake on `stream` (after the SSL request).
    pub async fn connect(&self, stream: TcpStream) -> Result<ClientStream, TlsError> {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.config));
        let tls = connector
            .connect(self.server_name.clone(), stream)
            .await
            .map_err(TlsError::Handshake)?;
        Ok(ClientStream::Tls(Box::new(tls)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_loads_and_its_key_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("tls/new/cert.pem");
        let key = dir.path().join("tls/new/key.pem");
        generate_self_signed(&cert, &key, &["localhost", "127.0.0.1"]).unwrap();
        load_server_config(&cert, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn pkcs1_and_sec1_keys_load_too() {
        let dir = tempfile::tempdir().unwrap();
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = dir.path().join("cert.pem");
        fs::write(&cert, certified.cert.pem()).unwrap();

        // SEC1 ("BEGIN EC PRIVATE KEY"): an ECDSA P-256 key with its own certificate.
        let ec_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let ec_cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&ec_key)
            .unwrap();
        let sec1 = sec1_pem_from_pkcs8(&ec_key.serialize_der());
        assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let (c, k) = (dir.path().join("ec.pem"), dir.path().join("ec.key"));
        fs::write(&c, ec_cert.pem()).unwrap();
        fs::write(&k, sec1).unwrap();
        load_server_config(&c, &k).unwrap();

        // PKCS#1 ("BEGIN RSA PRIVATE KEY"): an RSA key from the rsa crate.
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let rsa_key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let pkcs1 = rsa_key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        use rsa::pkcs8::EncodePrivateKey;
        let pkcs8_der = rsa_key.to_pkcs8_der().unwrap();
        let rsa_pair = rcgen::KeyPair::try_from(pkcs8_der.as_bytes()).unwrap();
        let rsa_cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&rsa_pair)
            .unwrap();
        let (c, k) = (dir.path().join("rsa.pem"), dir.path().join("rsa.key"));
        fs::write(&c, rsa_cert.pem()).unwrap();
        fs::write(&k, pkcs1.as_bytes()).unwrap();
        load_server_config(&c, &k).unwrap();
    }

    /// Re-wraps a PKCS#8 EC key as SEC1 PEM: PKCS#8's privateKey field holds the SEC1
    /// ECPrivateKey structure.
    fn sec1_pem_from_pkcs8(pkcs8: &[u8]) -> String {
        use rsa::pkcs8::der::Decode;
        let info = rsa::pkcs8::PrivateKeyInfo::from_der(pkcs8).unwrap();
        rsa::pkcs8::der::pem::encode_string(
            "EC PRIVATE KEY",
            rsa::pkcs8::LineEnding::LF,
            info.private_key,
        )
        .unwrap()
    }

    #[test]
    fn client_configs_need_a_ca_to_verify_and_load_a_client_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        generate_self_signed(&cert, &key, &["localhost"]).unwrap();
        let mut options = ClientTlsOptions {
            ca: None,
            verify: true,
            client_cert: None,
        };
        assert!(matches!(
            load_client_config(&options),
            Err(TlsError::NoTrustAnchors)
        ));
        options.ca = Some(cert.clone());
        options.client_cert = Some((cert.clone(), key.clone()));
        load_client_config(&options).unwrap();
        options.ca = Some(key.clone());
        assert!(matches!(
            load_client_config(&options),
            Err(TlsError::NoCertificate(path)) if path == key
        ));
        let encrypt_only = ClientTlsOptions {
            ca: None,
            verify: false,
            client_cert: None,
        };
        load_client_config(&encrypt_only).unwrap();
    }

    #[test]
    fn server_names_may_be_dns_names_or_ip_addresses() {
        let config = load_client_config(&ClientTlsOptions {
            ca: None,
            verify: false,
            client_cert: None,
        })
        .unwrap();
        assert!(matches!(
            ClientTls::new(config.clone(), "127.0.0.1")
                .unwrap()
                .server_name(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            ClientTls::new(config.clone(), "db1.internal")
                .unwrap()
                .server_name(),
            ServerName::DnsName(_)
        ));
        assert!(matches!(
            ClientTls::new(config, "not a name"),
            Err(TlsError::ServerName(name)) if name == "not a name"
        ));
    }

    #[test]
    fn missing_files_and_empty_pem_are_reported_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        assert!(matches!(
            load_server_config(&cert, &key),
            Err(TlsError::File { path, .. }) if path == cert
        ));
        fs::write(&cert, "not pem").unwrap();
        assert!(matches!(
            load_server_config(&cert, &key),
            Err(TlsError::NoCertificate(path)) if path == cert
        ));
        generate_self_signed(&cert, &key, &["localhost"]).unwrap();
        fs::write(&key, "").unwrap();
        assert!(matches!(
            load_server_config(&cert, &key),
            Err(TlsError::NoPrivateKey(path)) if path == key
        ));
    }
}
