//! The HTTP listener through a real HTTP/1 client (hyper) against a compute node over
//! real MariaDB storage nodes: health that follows OFFLINE, Prometheus metrics read by
//! a real exposition parser with every family present and counters that move under
//! load, the JSON views and actions with basic authentication, and the OpenAPI
//! document.

mod common;

use common::{is_closed_soon, node_and_conn, TestResult};
use std::net::SocketAddr;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use mysql_async::prelude::*;
use serde_json::Value;
use strata_testkit::ComputeNode;

/// An HTTP response: status, `WWW-Authenticate` if any, body.
struct Reply {
    status: u16,
    www_authenticate: Option<String>,
    content_type: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One request on a fresh connection.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    body: Option<&str>,
) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    if let Some((user, password)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        builder = builder.header("authorization", format!("Basic {token}"));
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder.body(Full::new(Bytes::from(body.unwrap_or("").to_string())))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let www_authenticate = header("www-authenticate");
    let content_type = header("content-type");
    let bytes = response.into_body().collect().await?.to_bytes();
    driver.abort();
    Ok(Reply {
        status,
        www_authenticate,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

const ROOT: Option<(&str, &str)> = Some(("root", "secret"));

/// A GET of `path` with the credential `auth`.
async fn get(
    addr: SocketAddr,
    path: &str,
    auth: Option<(&str, &str)>,
) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
    request(addr, "GET", path, auth, None).await
}

/// A compute node on two data nodes with the sharded table `ht` of four rows, and its
/// HTTP address.
async fn sharded_node() -> TestResult<(ComputeNode, SocketAddr)> {
    let (node, mut c) = node_and_conn(2).await?;
    c.query_drop("CREATE TABLE ht (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    c.query_drop("INSERT INTO ht VALUES (1, 10), (2, 20), (3, 30), (4, 40)")
        .await?;
    let addr = node.http_addr();
    Ok((node, addr))
}

/// The value of the first sample of `metric` whose labels include `labels`.
fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(h) => h.last().map_or(0.0, |c| c.count),
            prometheus_parse::Value::Summary(_) => f64::NAN,
        })
        .unwrap_or_else(|| panic!("no sample {metric} {labels:?}"))
}

async fn scrape(
    addr: SocketAddr,
) -> Result<prometheus_parse::Scrape, Box<dyn std::error::Error + Send + Sync>> {
    let reply = get(addr, "/metrics", None).await?;
    assert_eq!(reply.status, 200);
    assert!(reply
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let lines = reply.body.lines().map(|l| Ok(l.to_string()));
    Ok(prometheus_parse::Scrape::parse(lines)?)
}

#[tokio::test]
async fn metrics_parse_list_every_family_and_move_under_load() -> TestResult {
    let (node, addr) = sharded_node().await?;
    let before = scrape(addr).await?;
    for family in strata_server::metrics::FAMILIES {
        assert!(
            before.samples.iter().any(|s| s.metric == *family)
                || strata_server::metrics::MAY_BE_EMPTY.contains(family),
            "{family} missing from the exposition"
        );
        assert!(before.docs.contains_key(*family), "{family} has no HELP");
    }

    let mut c = node.connect(Some("test")).await?;
    for i in 0..30 {
        let _: Option<i32> = c
            .query_first(format!("SELECT v FROM ht WHERE id = {}", i % 4 + 1))
            .await?;
    }
    let _: Vec<i32> = c.query("SELECT v FROM ht ORDER BY v").await?;
    assert!(c.query_drop("SELEKT 1").await.is_err());
    // A transaction writing on both data nodes commits in two phases.
    c.query_drop("BEGIN").await?;
    c.query_drop("UPDATE ht SET v = v + 1 WHERE id IN (1, 2, 3, 4)")
        .await?;
    c.query_drop("COMMIT").await?;

    let after = scrape(addr).await?;
    let single = [("kind", "select"), ("route", "single")];
    assert!(
        value(&after, "strata_statements_total", &single)
            >= value(&before, "strata_statements_total", &single) + 30.0
    );
    let scatter = [("kind", "select"), ("route", "scatter")];
    assert!(
        value(&after, "strata_statements_total", &scatter)
            > value(&before, "strata_statements_total", &scatter)
    );
    let syntax = [("class", "syntax")];
    assert!(
        value(&after, "strata_statement_errors_total", &syntax)
            > value(&before, "strata_statement_errors_total", &syntax)
    );
    let two_phase = [("path", "two_phase")];
    assert!(
        value(&after, "strata_xa_commits_total", &two_phase)
            > value(&before, "strata_xa_commits_total", &two_phase)
    );
    assert!(
        value(&after, "strata_statement_duration_seconds", &[])
            >= value(&before, "strata_statement_duration_seconds", &[]) + 33.0
    );
    // Every data node's count, those without a single-node statement yet counting 0.
    let per_node = |scrape: &prometheus_parse::Scrape| {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == "strata_data_node_statement_duration_seconds")
            .map(|s| match &s.value {
                prometheus_parse::Value::Histogram(h) => h.last().map_or(0.0, |c| c.count),
                _ => 0.0,
            })
            .sum::<f64>()
    };
    assert!(per_node(&after) >= per_node(&before) + 30.0);
    assert!(
        value(&after, "strata_rows_merged_total", &[])
            >= value(&before, "strata_rows_merged_total", &[]) + 4.0
    );
    assert_eq!(value(&after, "strata_merge_memory_bytes", &[]), 0.0);
    assert!(value(&after, "strata_client_connections_total", &[]) >= 2.0);
    assert!(value(&after, "strata_client_connections", &[]) >= 1.0);
    for dnid in ["1", "2"] {
        assert_eq!(
            value(&after, "strata_storage_node_up", &[("dnid", dnid)]),
            1.0
        );
        assert!(value(&after, "strata_pool_connections_max", &[("dnid", dnid)]) > 0.0);
        assert!(
            value(&after, "strata_pool_connections_idle", &[("dnid", dnid)])
                + value(&after, "strata_pool_connections_active", &[("dnid", dnid)])
                >= 1.0
        );
    }
    assert_eq!(value(&after, "strata_up", &[]), 1.0);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn views_need_an_admin_credential_and_mirror_the_admin_port() -> TestResult {
    let (node, addr) = sharded_node().await?;
    let mut root = node.connect(Some("test")).await?;
    root.query_drop("CREATE USER 'watcher'@'%' IDENTIFIED BY 'pw'")
        .await?;
    root.query_drop("GRANT SELECT ON *.* TO 'watcher'@'%'")
        .await?;
    for i in 1..=5 {
        let _: Option<i32> = root
            .query_first(format!("SELECT v FROM ht WHERE id = {i}"))
            .await?;
    }

    let anonymous = get(addr, "/api/v1/datanodes", None).await?;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.www_authenticate.as_deref(),
        Some("Basic realm=\"strata\"")
    );
    assert_eq!(anonymous.json()["error"]["code"], 1045);
    let wrong = get(addr, "/api/v1/datanodes", Some(("root", "bad"))).await?;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json()["error"]["message"],
        "Access denied for user 'root'@'127.0.0.1'"
    );
    let weak = get(addr, "/api/v1/datanodes", Some(("watcher", "pw"))).await?;
    assert_eq!(weak.status, 403);
    assert_eq!(weak.json()["error"]["code"], 1227);
    let unknown = get(addr, "/api/v1/nothing", ROOT).await?;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("'nothing'")));

    let datanodes = get(addr, "/api/v1/datanodes", ROOT).await?;
    assert_eq!(datanodes.status, 200);
    let datanodes = datanodes.json();
    let ids: Vec<i64> = datanodes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["dnid"].as_i64())
        .collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(datanodes[0]["databases"], "test");
    assert!(datanodes[0]["statements_per_s"].is_number());

    let tables = get(addr, "/api/v1/tables", ROOT).await?.json();
    assert_eq!(tables[0]["table"], "ht");
    assert_eq!(tables[0]["type"], "sharded");
    assert_eq!(tables[0]["key"], "id");

    let sessions = get(addr, "/api/v1/sessions", ROOT).await?.json();
    assert!(sessions
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x["id"] == i64::from(root.id()))));

    let digests = get(addr, "/api/v1/digests", ROOT).await?.json();
    let point = digests
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["digest"] == "select v from ht where id = ?")
        .unwrap_or_else(|| panic!("no digest in {digests}"));
    assert_eq!(point["count"], 5);
    assert!(point["p99_ms"].is_number());

    // The CREATE TABLE of `sharded_node` ran on both data nodes: a finished job.
    let jobs = get(addr, "/api/v1/jobs", ROOT).await?.json();
    let create = jobs
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| {
            j["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("CREATE TABLE ht"))
        })
        .unwrap_or_else(|| panic!("no CREATE TABLE job in {jobs}"));
    assert_eq!(create["kind"], "ddl");
    assert_eq!(create["state"], "finished");
    assert_eq!(create["progress_pct"], 100.0);
    assert_eq!(create["steps"], 2);
    assert!(create["id"].is_i64());
    assert!(create["started"].is_string());
    assert!(create["eta_s"].is_null());
    assert!(create["last_error"].is_null());

    for view in [
        "datasources",
        "backends",
        "databases",
        "xa",
        "slow",
        "server",
        "help",
    ] {
        let reply = get(addr, &format!("/api/v1/{view}"), ROOT).await?;
        assert_eq!(reply.status, 200, "{view}: {}", reply.body);
        assert!(reply.json().is_array(), "{view}");
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn actions_take_the_node_offline_kill_sessions_and_refuse_bad_bodies() -> TestResult {
    let (node, addr) = sharded_node().await?;
    let health = get(addr, "/health", None).await?;
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, "online".into())
    );

    let denied = request(addr, "POST", "/api/v1/offline", None, None).await?;
    assert_eq!(denied.status, 401);
    let offline = request(addr, "POST", "/api/v1/offline", ROOT, None).await?;
    assert_eq!(offline.status, 200);
    assert_eq!(offline.json()["changed"], true);
    let health = get(addr, "/health", None).await?;
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (503, "offline".into())
    );
    assert!(node.connect(None).await.is_err());
    let online = request(addr, "POST", "/api/v1/online", ROOT, None).await?;
    assert_eq!(online.json()["state"], "online");
    assert_eq!(get(addr, "/health", None).await?.status, 200);

    let mut victim = node.connect(Some("test")).await?;
    let bad = request(addr, "POST", "/api/v1/kill", ROOT, Some("{\"id\": 1}")).await?;
    assert_eq!(bad.status, 400);
    let empty = request(addr, "POST", "/api/v1/kill", ROOT, Some("{\"ids\": []}")).await?;
    assert_eq!(empty.status, 400);
    let missing = request(
        addr,
        "POST",
        "/api/v1/kill",
        ROOT,
        Some("{\"ids\": [4000000]}"),
    )
    .await?;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], 1094);
    let body = format!("{{\"ids\": [{}]}}", victim.id());
    let killed = request(addr, "POST", "/api/v1/kill", ROOT, Some(&body)).await?;
    assert_eq!(killed.status, 200);
    assert_eq!(killed.json()["killed"], 1);
    assert!(is_closed_soon(&mut victim).await);

    let reload = request(addr, "POST", "/api/v1/reload", ROOT, None).await?;
    assert_eq!(reload.status, 422);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("strata.toml");
    let mut changed = node.config().clone();
    changed.slow_log.slow_query_ms = 5;
    std::fs::write(&path, changed.to_toml()?)?;
    node.server().set_config_path(path);
    let reload = request(addr, "POST", "/api/v1/reload", ROOT, None).await?;
    assert_eq!(reload.status, 200);
    assert_eq!(reload.json()["changes"][0]["status"], "applied");

    let reset = request(addr, "POST", "/api/v1/reset_digests", ROOT, None).await?;
    assert_eq!(reset.status, 200);
    let wrong_method = get(addr, "/api/v1/offline", ROOT).await?;
    assert_eq!(wrong_method.status, 405);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() -> TestResult {
    let (node, addr) = sharded_node().await?;
    let reply = get(addr, "/api/v1/openapi.json", None).await?;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.0")));
    for (method, path) in strata_server::http::ROUTES {
        if path.contains('{') {
            continue;
        }
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    for view in [
        "datanodes",
        "datasources",
        "sessions",
        "tables",
        "xa",
        "digests",
        "slow",
        "jobs",
    ] {
        assert!(
            doc["paths"][format!("/api/v1/{view}")]["get"].is_object(),
            "{view}"
        );
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn switch_refusals_are_conflicts_with_the_admin_error() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let addr = node.http_addr();
    let unknown = request(addr, "POST", "/api/v1/switch", ROOT, Some(r#"{"dnid": 9}"#)).await?;
    assert_eq!(unknown.status, 409, "{}", unknown.body);
    assert_eq!(
        unknown.json()["error"]["message"],
        Value::from("Unknown data node 9")
    );
    let none = request(addr, "POST", "/api/v1/switch", ROOT, Some(r#"{"dnid": 1}"#)).await?;
    assert_eq!(none.status, 409, "{}", none.body);
    assert_eq!(
        none.json()["error"]["message"],
        Value::from("Data node 1 has no replica to switch to")
    );
    for body in [r#"{"ids": [1]}"#, r#"{"dnid": 1, "target": "nowhere"}"#] {
        let bad = request(addr, "POST", "/api/v1/switch", ROOT, Some(body)).await?;
        assert_eq!(bad.status, 400, "{body}: {}", bad.body);
    }
    let anonymous = request(addr, "POST", "/api/v1/switch", None, Some(r#"{"dnid": 1}"#)).await?;
    assert_eq!(anonymous.status, 401);
    node.shutdown().await;
    Ok(())
}
