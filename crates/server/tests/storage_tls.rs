//! TLS from the compute node to its storage nodes, end to end: with storage nodes that
//! refuse clear text, a `strata serve` configured with `tls = true` and their CA serves
//! queries on every data node; a compute node that asks for TLS refuses a storage node
//! that does not offer it, or whose certificate another CA signed, with an error that
//! says so, instead of falling back to clear text.

mod common;

use common::run_all;
use mysql_async::prelude::*;
use strata_testkit::{CertificateAuthority, ComputeNode, StorageNodes};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::test]
async fn queries_run_over_tls_to_storage_nodes_that_require_it() -> TestResult {
    let storage = StorageNodes::start_with_tls(2, true).await?;
    // A child process: the TLS settings go through the configuration file as a user
    // would write them.
    let node = ComputeNode::builder(&storage).spawn().await?;
    let primary = &node.config().data_nodes[0].primary;
    assert!(primary.tls && primary.tls_verify && primary.tls_ca.is_some());

    let mut c = node.connect(Some("test")).await?;
    run_all(
        &mut c,
        &[
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)) \
             SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'",
            "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')",
        ],
    )
    .await?;
    let total: Option<(i64, i64)> = c.query_first("SELECT SUM(id), COUNT(*) FROM t").await?;
    assert_eq!(total, Some((15, 5)));
    let rows: Vec<(i64, String)> = c.query("SELECT id, v FROM t ORDER BY id").await?;
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4], (5, "e".to_string()));

    // Both storage nodes hold rows, so Strata logged in to both; they refuse every
    // clear-text login, so each of its connections was TLS.
    for i in 0..storage.len() {
        let mut direct = storage.connect(i, None).await?;
        let (required, cipher): (String, String) = direct
            .query_first(
                "SELECT @@require_secure_transport, VARIABLE_VALUE \
                 FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'",
            )
            .await?
            .ok_or("no row")?;
        assert_eq!(required, "1");
        assert!(!cipher.is_empty());
        let physical = node.physical_database("test").ok_or("physical database")?;
        let rows: Option<i64> = direct
            .query_first(format!("SELECT COUNT(*) FROM `{physical}`.t"))
            .await?;
        assert!(rows.unwrap_or(0) > 0, "storage node {i} holds rows");
        let strata_connections: Option<i64> = direct
            .query_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE USER = 'strata' AND ID <> CONNECTION_ID()",
            )
            .await?;
        assert!(strata_connections.unwrap_or(0) > 0);
    }
    Ok(())
}

/// The error a client gets from `node` when it logs in to logical database `test` (which
/// needs a storage connection) and creates a table.
async fn first_error(
    node: &ComputeNode,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let result = async {
        let mut c = node.connect(Some("test")).await?;
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY)").await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    match result {
        Ok(()) => Err("expected an error".into()),
        Err(e) => Ok(e.to_string()),
    }
}

/// A compute node that asks `storage` for TLS verified against a CA that signed none
/// of its certificates (kept in the returned directory).
async fn node_trusting_another_ca(
    storage: &StorageNodes,
) -> TestResult<(ComputeNode, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let other = dir.path().join("other-ca.pem");
    CertificateAuthority::generate("Another CA")?.write(&other, &dir.path().join("key.pem"))?;
    let node = ComputeNode::builder(storage)
        .configure(move |config| {
            for dn in &mut config.data_nodes {
                dn.primary.tls = true;
                dn.primary.tls_ca = Some(other.clone());
            }
        })
        .start()
        .await?;
    Ok((node, dir))
}

#[tokio::test]
async fn a_storage_node_without_tls_is_refused_not_used_in_clear_text() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let (node, _dir) = node_trusting_another_ca(&storage).await?;
    let message = first_error(&node).await?;
    assert!(
        message.contains("Unable to connect to data node 1")
            && message.contains("does not offer TLS, which is required"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn a_storage_certificate_from_another_ca_is_refused() -> TestResult {
    let storage = StorageNodes::start_with_tls(1, false).await?;
    let (node, _dir) = node_trusting_another_ca(&storage).await?;
    let message = first_error(&node).await?;
    assert!(
        message.contains("TLS handshake failed") && message.contains("UnknownIssuer"),
        "{message}"
    );
    Ok(())
}
