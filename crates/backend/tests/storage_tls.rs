//! Storage connections over TLS against real MariaDB servers: a node that requires
//! secure transport takes Strata's verified TLS connections and refuses clear text; a
//! certificate from another CA or for another name is refused; a node without TLS is
//! refused rather than logged in to in clear text.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use strata_backend::{BackendConn, BackendError, ClientTls, ClientTlsOptions, StorageTarget};
use strata_localnode::{CertificateAuthority, MariadbNode, MariadbTls};
use strata_protocol::tls::load_client_config;

mod common;
use common::{start_node, target};

const TIMEOUT: Duration = Duration::from_secs(20);

fn verified_tls(ca: &Path, server_name: &str) -> ClientTls {
    let config = load_client_config(&ClientTlsOptions {
        ca: Some(ca.to_path_buf()),
        verify: true,
        client_cert: None,
    })
    .expect("client config");
    ClientTls::new(config, server_name).expect("server name")
}

fn handshake_message(result: Result<BackendConn, BackendError>) -> String {
    match result {
        Ok(_) => panic!("the connection was expected to fail"),
        Err(BackendError::Handshake(_, message)) => message,
        Err(other) => panic!("expected a handshake error, got {other}"),
    }
}

/// Why a login to `target` over TLS verified against `ca` for `server_name` fails.
async fn verified_tls_refusal(target: Arc<StorageTarget>, ca: &Path, server_name: &str) -> String {
    let tls = verified_tls(ca, server_name);
    handshake_message(BackendConn::connect(target, Some(&tls), TIMEOUT).await)
}

/// The certificate of a CA that signed none of the servers' certificates.
fn another_ca(dir: &Path) -> PathBuf {
    let ca = dir.join("other-ca.pem");
    CertificateAuthority::generate("Another CA")
        .expect("CA")
        .write(&ca, &dir.join("other-ca-key.pem"))
        .expect("write CA");
    ca
}

/// Starts a node that serves TLS from a fresh CA and refuses clear-text connections.
async fn secure_node(dir: &Path) -> (MariadbNode, MariadbTls) {
    let mut tls =
        MariadbTls::generate(&dir.join("tls"), &["127.0.0.1", "localhost"]).expect("certificates");
    tls.require_secure_transport = true;
    (start_node(dir, Some(tls.clone())).await, tls)
}

#[tokio::test]
async fn a_node_requiring_secure_transport_takes_verified_tls_and_refuses_clear_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, tls) = secure_node(dir.path()).await;
    let target = Arc::new(target(&node));

    let client = verified_tls(&tls.ca, "127.0.0.1");
    let mut conn = BackendConn::connect(target.clone(), Some(&client), TIMEOUT)
        .await
        .expect("TLS login");
    assert!(conn.is_tls());
    let rows = conn
        .query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .expect("status");
    let cipher = rows[0][1].clone().unwrap_or_default();
    assert!(!cipher.is_empty(), "the storage node sees a TLS session");
    assert_eq!(
        conn.query("SELECT @@require_secure_transport, 1 + 1")
            .await
            .expect("query"),
        vec![vec![Some("1".to_string()), Some("2".to_string())]]
    );

    // MariaDB 10.11 answers a clear-text login on such a server with 1045, although
    // the password is the one the TLS login above used.
    let message = handshake_message(BackendConn::connect(target, None, TIMEOUT).await);
    assert!(message.contains("ERROR 1045 (28000)"), "{message}");
}

#[tokio::test]
async fn a_certificate_from_another_ca_or_for_another_name_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (node, tls) = secure_node(dir.path()).await;
    let target = Arc::new(target(&node));

    let other = another_ca(dir.path());
    let message = verified_tls_refusal(target.clone(), &other, "127.0.0.1").await;
    assert!(
        message.contains("TLS handshake failed") && message.contains("UnknownIssuer"),
        "{message}"
    );

    let message = verified_tls_refusal(target, &tls.ca, "db1.example.net").await;
    assert!(
        message.contains("TLS handshake failed")
            && message.contains("not valid for name \"db1.example.net\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_node_without_tls_is_refused_instead_of_used_in_clear_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = start_node(dir.path(), None).await;
    let ca = another_ca(dir.path());

    let message = verified_tls_refusal(Arc::new(target(&node)), &ca, "127.0.0.1").await;
    assert!(
        message.contains("does not offer TLS, which is required"),
        "{message}"
    );
    // The same node still serves clear-text connections that do not ask for TLS.
    let mut conn = BackendConn::connect(Arc::new(target(&node)), None, TIMEOUT)
        .await
        .expect("clear-text login");
    assert!(!conn.is_tls());
    conn.ping().await.expect("ping");
}
