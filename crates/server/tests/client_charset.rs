//! The character set a client announces in its handshake is the one its statements
//! are read in on the storage nodes: a latin1 client (mariadb-test's default) sends
//! latin1 bytes and may name latin1 collations. Run with the mariadb CLI, which lets
//! the handshake's character set be chosen.

use std::io::Write;
use std::process::{Command, Stdio};

use strata_testkit::{ComputeNode, ROOT_PASSWORD, ROOT_USER};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Runs `sql` (bytes as the client would send them) with the mariadb CLI in batch mode;
/// returns stdout, or the error output when the client failed.
fn mariadb_cli(addr: std::net::SocketAddr, charset: &str, sql: &[u8]) -> Result<String, String> {
    let mut child = Command::new("mariadb")
        .args([
            "--no-defaults",
            "--protocol=TCP",
            &format!("--host={}", addr.ip()),
            &format!("--port={}", addr.port()),
            &format!("--user={ROOT_USER}"),
            &format!("--password={ROOT_PASSWORD}"),
            &format!("--default-character-set={charset}"),
            "--batch",
            "--skip-column-names",
            "test",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("mariadb CLI: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(sql)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latin1_client_is_read_as_latin1_on_the_storage_node() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let addr = node.service_addr();
    let mut sql = b"SELECT @@character_set_client, @@collation_connection;\n\
        SELECT 'a' COLLATE latin1_bin;\n\
        CREATE TABLE l1 (s VARCHAR(10) CHARACTER SET latin1);\n\
        INSERT INTO l1 VALUES ('"
        .to_vec();
    sql.push(0xE9); // 'é' in latin1: not valid UTF-8 on its own.
    sql.extend_from_slice(b"');\nSELECT HEX(s), CHAR_LENGTH(s) FROM l1;\nDROP TABLE l1;\n");
    let out = tokio::task::spawn_blocking(move || mariadb_cli(addr, "latin1", &sql)).await??;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["latin1\tlatin1_swedish_ci", "a", "E9\t1"],
        "{out}"
    );
    let out = tokio::task::spawn_blocking(move || {
        mariadb_cli(
            addr,
            "utf8mb4",
            b"SELECT @@character_set_client, HEX('\xC3\xA9')",
        )
    })
    .await??;
    assert_eq!(out.trim(), "utf8mb4\tC3A9");
    node.shutdown().await;
    Ok(())
}
