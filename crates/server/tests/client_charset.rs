//! The character set a client announces in its handshake is the one its statements
//! are read in on the storage nodes: a latin1 client (mariadb-test's default) sends
//! latin1 bytes and may name latin1 collations. Run with the mariadb CLI, which lets
//! the handshake's character set be chosen.

mod common;

use common::{root_client_args, run_piped, TestResult};
use strata_testkit::ComputeNode;

/// Runs `sql` (bytes as the client would send them) with the mariadb CLI in batch mode;
/// returns stdout, or the error output when the client failed.
fn mariadb_cli(addr: std::net::SocketAddr, charset: &str, sql: &[u8]) -> Result<String, String> {
    let mut args = root_client_args(addr);
    args.extend([
        format!("--default-character-set={charset}"),
        "--batch".into(),
        "--skip-column-names".into(),
        "test".into(),
    ]);
    let out = run_piped("mariadb", &args, sql)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_statement_runs_its_inner_statement_from_the_clients_bytes() -> TestResult {
    // cast.test: `SET STATEMENT ... FOR CREATE TABLE ... SELECT _koi8r'...'` under SET
    // NAMES binary stored U+FFFD where the client sent koi8r bytes.
    let node = ComputeNode::on_shared_storage(1).await?;
    let addr = node.service_addr();
    let mut sql = b"SET NAMES binary;\n\
        SET STATEMENT sql_mode = 'NO_ENGINE_SUBSTITUTION' FOR \
        CREATE TABLE ss1 SELECT CAST(_koi8r'"
        .to_vec();
    sql.extend_from_slice(&[0xC6, 0xC7]); // two Cyrillic letters in koi8r
    sql.extend_from_slice(
        b"' AS NCHAR) AS c1;\nSELECT HEX(c1), CHAR_LENGTH(c1) FROM ss1;\nDROP TABLE ss1;\n",
    );
    let out = tokio::task::spawn_blocking(move || mariadb_cli(addr, "latin1", &sql)).await??;
    // MariaDB: koi8r C6 C7 is U+0444 U+0433, utf8mb3 D184 D0B3.
    assert_eq!(out.trim(), "D184D0B3\t2", "{out}");
    node.shutdown().await;
    Ok(())
}
