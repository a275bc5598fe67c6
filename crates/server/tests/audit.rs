//! The audit log through a real client: every statement, login and failed login is one
//! JSON line with who, from where, what, which tables, the outcome and how long.

use mysql_async::prelude::*;
use strata_testkit::{mysql_opts, shared_storage, ComputeNode};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn lines_of(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits (bounded) until the writer thread has written what the test expects.
async fn wait_for(
    path: &std::path::Path,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let lines = lines_of(path);
        if done(&lines) {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    lines_of(path)
}

/// A compute node writing its audit log (`digest_only`: statements as digests) into a
/// file of its own, kept while the returned directory lives.
async fn audited_node(
    digest_only: bool,
) -> TestResult<(ComputeNode, tempfile::TempDir, std::path::PathBuf)> {
    let storage = shared_storage(2).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("audit.log");
    let configured = path.clone();
    let node = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.audit.enabled = true;
            c.audit.digest_only = digest_only;
            c.audit.path = Some(configured);
        })
        .start()
        .await?;
    Ok((node, dir, path))
}

#[tokio::test]
async fn statements_and_logins_are_written_as_json_lines() -> TestResult {
    let (node, _dir, path) = audited_node(false).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE au (id INT PRIMARY KEY, v VARCHAR(10)) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    c.query_drop("INSERT INTO au VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        .await?;
    let _: Vec<i32> = c.query("SELECT id FROM au WHERE id = 2").await?;
    assert!(c.query_drop("SELECT * FROM nosuch").await.is_err());
    assert!(c
        .query_drop("SELECT * FROM mysql.tables_priv")
        .await
        .is_err());
    let bad = mysql_async::Conn::new(mysql_opts(node.service_addr(), "root", "wrong", None)).await;
    assert!(bad.is_err());

    // Sessions on different worker threads write into different buffers: wait for the
    // last line of each.
    let lines = wait_for(&path, |l| {
        l.iter().any(|e| e["event"] == "login_failed")
            && l.iter()
                .any(|e| e["statement"] == "SELECT * FROM mysql.tables_priv")
    })
    .await;
    let statement = |text: &str| {
        lines
            .iter()
            .find(|e| e["statement"].as_str().is_some_and(|s| s.starts_with(text)))
            .cloned()
            .ok_or(format!("no audit line for {text}: {lines:?}"))
    };
    let insert = statement("INSERT INTO au")?;
    assert_eq!(insert["event"], "statement");
    assert_eq!(insert["kind"], "insert");
    assert_eq!(insert["user"], "root");
    assert_eq!(insert["client"], "127.0.0.1");
    assert_eq!(insert["db"], "test");
    assert_eq!(insert["tables"], serde_json::json!(["test.au"]));
    assert_eq!(insert["error"], 0);
    assert_eq!(insert["affected_rows"], 3);
    assert!(insert["duration_us"].as_u64().is_some());
    let select = statement("SELECT id FROM au")?;
    assert_eq!(select["returned_rows"], 1);
    assert_eq!(statement("SELECT * FROM nosuch")?["error"], 1146);
    assert_eq!(statement("SELECT * FROM mysql.tables_priv")?["error"], 1044);
    let logins: Vec<&serde_json::Value> = lines.iter().filter(|e| e["event"] == "login").collect();
    assert!(!logins.is_empty());
    let failed = lines
        .iter()
        .find(|e| e["event"] == "login_failed")
        .ok_or("no failed login")?;
    assert_eq!(failed["error"], 1045);
    assert_eq!(failed["user"], "root");
    c.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn digest_only_logs_no_literals() -> TestResult {
    let (node, _dir, path) = audited_node(true).await?;
    let mut c = node.connect(Some("test")).await?;
    let _: Option<String> = c.query_first("SELECT 'secret-literal'").await?;
    // Lines of other statements (the driver's) may be written in an earlier batch:
    // wait for this one.
    let digest = |e: &serde_json::Value| {
        e["statement"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("SELECT ?"))
    };
    let lines = wait_for(&path, |l| l.iter().any(digest)).await;
    let text = serde_json::to_string(&lines)?;
    assert!(!text.contains("secret-literal"), "{text}");
    assert!(lines.iter().any(digest), "{text}");
    c.disconnect().await?;
    node.shutdown().await;
    Ok(())
}
