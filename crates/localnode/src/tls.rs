//! TLS files for local storage nodes: a private CA and a server certificate it signs,
//! written as PEM for `mariadbd --ssl-cert/--ssl-key/--ssl-ca`, so the playground and
//! tests can run storage nodes that Strata reaches over verified TLS.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

use crate::LocalNodeError;

/// The TLS a storage node serves with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariadbTls {
    /// PEM server certificate.
    pub cert: PathBuf,
    /// PEM private key of `cert`.
    pub key: PathBuf,
    /// PEM CA bundle that signed `cert` (what clients verify against).
    pub ca: PathBuf,
    /// Refuse clear-text connections (`require_secure_transport=ON`).
    pub require_secure_transport: bool,
}

impl MariadbTls {
    /// Creates a new CA in `dir` (`ca.pem`, `ca-key.pem`) and a server certificate it
    /// signs for `names` (DNS names or IP addresses; `server.pem`, `server-key.pem`).
    pub fn generate(dir: &Path, names: &[&str]) -> Result<MariadbTls, LocalNodeError> {
        let ca = CertificateAuthority::generate("Strata test CA")?;
        ca.write(&dir.join("ca.pem"), &dir.join("ca-key.pem"))?;
        let (cert, key) = (dir.join("server.pem"), dir.join("server-key.pem"));
        ca.issue_server_certificate(names, &cert, &key)?;
        Ok(MariadbTls {
            cert,
            key,
            ca: dir.join("ca.pem"),
            require_secure_transport: false,
        })
    }

    /// `mariadbd` arguments that turn this TLS on.
    pub(crate) fn server_args(&self) -> Vec<String> {
        let mut args = vec![
            format!("--ssl-cert={}", self.cert.display()),
            format!("--ssl-key={}", self.key.display()),
            format!("--ssl-ca={}", self.ca.display()),
        ];
        if self.require_secure_transport {
            args.push("--require-secure-transport=ON".into());
        }
        args
    }
}

/// A private certificate authority that signs server certificates.
pub struct CertificateAuthority {
    key: KeyPair,
    cert: rcgen::Certificate,
}

impl CertificateAuthority {
    /// A new self-signed CA named `common_name`.
    pub fn generate(common_name: &str) -> Result<CertificateAuthority, LocalNodeError> {
        let key = KeyPair::generate().map_err(tls_error)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).map_err(tls_error)?;
        Ok(CertificateAuthority { key, cert })
    }

    /// Writes the CA certificate and its key as PEM.
    pub fn write(&self, cert: &Path, key: &Path) -> Result<(), LocalNodeError> {
        write_pem(cert, &self.cert.pem())?;
        write_pem(key, &self.key.serialize_pem())
    }

    /// Signs a new server certificate for `names` and writes it and its key as PEM.
    pub fn issue_server_certificate(
        &self,
        names: &[&str],
        cert: &Path,
        key: &Path,
    ) -> Result<(), LocalNodeError> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let server_key = KeyPair::generate().map_err(tls_error)?;
        let mut params = CertificateParams::new(names).map_err(tls_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "Strata storage node");
        let signed = params
            .signed_by(&server_key, &self.cert, &self.key)
            .map_err(tls_error)?;
        write_pem(cert, &signed.pem())?;
        write_pem(key, &server_key.serialize_pem())
    }
}

fn write_pem(path: &Path, pem: &str) -> Result<(), LocalNodeError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| LocalNodeError::io(format!("creating {}", parent.display()), e))?;
    }
    std::fs::write(path, pem)
        .map_err(|e| LocalNodeError::io(format!("writing {}", path.display()), e))
}

fn tls_error(e: rcgen::Error) -> LocalNodeError {
    LocalNodeError::io(
        "generating a TLS certificate",
        std::io::Error::other(e.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_pem_and_turn_into_server_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let mut tls = MariadbTls::generate(dir.path(), &["127.0.0.1", "localhost"]).unwrap();
        for path in [&tls.cert, &tls.key, &tls.ca] {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(text.starts_with("-----BEGIN "), "{}", path.display());
        }
        assert_eq!(tls.server_args().len(), 3);
        tls.require_secure_transport = true;
        assert_eq!(
            tls.server_args().last().map(String::as_str),
            Some("--require-secure-transport=ON")
        );
    }
}
