//! The web console in a real browser: Debian's `chromium`, headless, opens `/` of a
//! compute node over real MariaDB storage nodes, signing in with HTTP basic
//! credentials in the URL, and prints the page's DOM after ten seconds of virtual time
//! (`--dump-dom --virtual-time-budget`: the page's timers run, its requests are real,
//! so it refreshes a few times). The page reports its own health in the DOM — script
//! errors in `#console-errors` and `<body data-errors>`, failed API reads in
//! `data-api-failures`, refreshes in `data-refreshes` — and chromium's own log
//! (`--enable-logging=stderr`) shows any console message; both must stay empty. The test
//! then reads what the page shows: every data node of the compute node with its storage
//! node, the compute node, the tables; and a throughput number that is 0 while the node
//! is idle and moves once load runs.
//!
//! Chromium missing is a failure with instructions, not a skip: `./scripts/test`
//! installs it. `STRATA_CHROMIUM` names another binary; `STRATA_CONSOLE_SCREENSHOT=path`
//! also saves a screenshot of the console under load there (docs/console.png is made so).

mod common;

use common::{node_on_shared, TestResult};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use strata_testkit::ComputeNode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Where Debian installs the browser (`apt-get install chromium`).
const CHROMIUM: &str = "/usr/bin/chromium";

/// Virtual time each page load runs for: the console refreshes every 3 s, so it reads
/// the node four times.
const VIRTUAL_TIME_MS: u32 = 10_000;

/// The browser, or a failure that says how to get it.
fn chromium() -> PathBuf {
    let path =
        std::env::var_os("STRATA_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from);
    assert!(
        path.exists(),
        "chromium is not installed ({} is missing): the web console is tested in a real \
         browser. Install it with `apt-get install -y chromium` (./scripts/test does), or \
         set STRATA_CHROMIUM to a Chromium binary.",
        path.display()
    );
    path
}

/// What one headless page load produced.
struct Page {
    /// The serialized DOM after the virtual time budget.
    dom: String,
    /// Console messages chromium logged (any is a failure).
    console: Vec<String>,
}

/// Runs chromium headless on `url`: the DOM (`--dump-dom`), or a screenshot into
/// `screenshot`.
async fn browse(browser: &Path, url: &str, screenshot: Option<&Path>) -> Result<Page, Error> {
    let profile = tempfile::tempdir()?;
    let mut command = tokio::process::Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"));
    match screenshot {
        Some(path) => command.arg(format!("--screenshot={}", path.display())),
        None => command.arg("--dump-dom"),
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .map_err(|_| "chromium did not finish within 120 s")??;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    if screenshot.is_none() && !dom.contains("</html>") {
        return Err(format!(
            "chromium printed no page (status {}): {stderr}",
            output.status
        )
        .into());
    }
    Ok(Page { dom, console })
}

/// The start tag that contains `needle` (e.g. `id="throughput"`).
fn tag_with<'a>(dom: &'a str, needle: &str) -> Option<&'a str> {
    let at = dom.find(needle)?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    Some(&dom[start..=end])
}

/// The value of attribute `name` in a start tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = at + tag[at..].find('"')?;
    Some(tag[at..end].replace("&amp;", "&"))
}

impl Page {
    /// Attribute `name` of the element whose start tag contains `needle`.
    fn attr(&self, needle: &str, name: &str) -> String {
        let tag = tag_with(&self.dom, needle)
            .unwrap_or_else(|| panic!("no element with {needle} in the page:\n{}", self.dom));
        attr(tag, name).unwrap_or_else(|| panic!("{tag} has no {name}"))
    }

    /// The markup of the element whose start tag contains `needle`, to its `end` tag.
    fn element(&self, needle: &str, end: &str) -> &str {
        let Some(at) = self.dom.find(needle) else {
            return "";
        };
        let start = self.dom[..at].rfind('<').unwrap_or(at);
        let stop = self.dom[at..]
            .find(end)
            .map_or(self.dom.len(), |i| at + i + end.len());
        &self.dom[start..stop]
    }

    /// A number the page shows in `data-value` of element `id`.
    fn number(&self, id: &str) -> f64 {
        let value = self.attr(&format!("id=\"{id}\""), "data-value");
        value
            .parse()
            .unwrap_or_else(|_| panic!("#{id} shows no number ({value:?})"))
    }

    /// No script error, no failed API read, no console message; refreshed at least
    /// twice (so rates were computed).
    fn assert_healthy(&self) {
        let errors = self.attr("<body", "data-errors");
        assert_eq!(
            errors,
            "0",
            "script errors: {}",
            self.element("id=\"console-errors\"", "</ul>")
        );
        assert!(
            tag_with(&self.dom, "id=\"console-errors\"").is_some_and(|t| t.contains("hidden")),
            "#console-errors is shown"
        );
        assert_eq!(
            self.attr("<body", "data-api-failures"),
            "0",
            "failed API reads: {}",
            self.element("id=\"banner\"", "</div>")
        );
        assert!(
            self.console.is_empty(),
            "console messages: {:#?}",
            self.console
        );
        let refreshes: u32 = self.attr("<body", "data-refreshes").parse().unwrap_or(0);
        assert!(refreshes >= 2, "the page refreshed {refreshes} times");
    }
}

/// One HTTP/1.1 request; the status line and headers (lower-cased), and the body.
async fn http_get(
    addr: SocketAddr,
    path: &str,
    auth: Option<&str>,
) -> Result<(String, String), Error> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = auth {
        request.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no end of headers")?;
    Ok((head.to_ascii_lowercase(), body.to_string()))
}

/// Point selects from `clients` sessions until `stop` (or a bound on count and time).
fn start_load(
    node: &ComputeNode,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Result<u64, mysql_async::Error>>> {
    (0..clients)
        .map(|_| {
            let opts = node.opts(Some("test"));
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut c = mysql_async::Conn::new(opts).await?;
                let started = Instant::now();
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed)
                    && done < 1_000_000
                    && started.elapsed() < Duration::from_secs(120)
                {
                    let _: Option<i32> = c
                        .query_first(format!("SELECT v FROM ct WHERE id = {}", done % 8 + 1))
                        .await?;
                    done += 1;
                }
                c.disconnect().await?;
                Ok(done)
            })
        })
        .collect()
}

#[tokio::test]
async fn the_console_shows_every_data_node_and_its_throughput_moves_under_load() -> TestResult {
    let browser = chromium();
    let (storage, node) = node_on_shared(2).await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE TABLE ct (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    c.query_drop("INSERT INTO ct VALUES (1,1),(2,2),(3,3),(4,4),(5,5),(6,6),(7,7),(8,8)")
        .await?;
    drop(c);
    let addr = node.http_addr();

    // The page asks for credentials; its assets are served with their types.
    let (head, _) = http_get(addr, "/", None).await?;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(
        head.contains("www-authenticate: basic realm=\"strata\""),
        "{head}"
    );
    let token = "cm9vdDpzZWNyZXQ="; // root:secret
    let (head, body) = http_get(addr, "/", Some(token)).await?;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(body.contains("<title>Strata console</title>"));
    for (path, content_type) in [
        ("/console/app.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let (head, body) = http_get(addr, path, None).await?;
        assert!(head.starts_with("http/1.1 200"), "{path}: {head}");
        assert!(
            head.contains(&format!("content-type: {content_type}")),
            "{head}"
        );
        assert!(!body.is_empty());
    }

    let url = format!("http://root:secret@{addr}/");
    let idle = browse(&browser, &url, None).await?;
    idle.assert_healthy();
    // Every data node of this compute node, with its storage node and status.
    let dnids: Vec<u32> = node
        .context()
        .topology
        .nodes()
        .map(|n| n.id.get())
        .collect();
    assert_eq!(dnids, [1, 2]);
    for (i, dnid) in dnids.iter().enumerate() {
        let card = format!("data-dnid=\"{dnid}\"");
        assert!(
            idle.attr(&card, "class").contains("data-node"),
            "data node {dnid} is not shown"
        );
        assert_eq!(idle.attr(&card, "data-status"), "ok");
        let storage_node = format!("127.0.0.1:{}", storage.port(i));
        assert!(
            idle.dom.contains(&storage_node),
            "storage node {storage_node} of data node {dnid} is not shown"
        );
    }
    assert!(idle.dom.contains("data-role=\"primary\""));
    let node_id = node.config().server.node_id.to_string();
    assert_eq!(idle.attr("id=\"compute-node\"", "data-node-id"), node_id);
    assert!(idle.dom.contains(">ct<"), "table ct is not listed");
    assert!(
        idle.dom.contains(">CREATE TABLE ct"),
        "the CREATE job is not listed"
    );
    assert_eq!(idle.number("throughput"), 0.0, "idle, yet statements ran");
    let idle_total = idle.number("statements-total");

    // The same page while two sessions run point selects.
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&node, 2, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = browse(&browser, &url, None).await;
    let screenshot = match std::env::var_os("STRATA_CONSOLE_SCREENSHOT") {
        Some(path) if busy.is_ok() => {
            let path = PathBuf::from(path);
            browse(&browser, &url, Some(&path)).await?;
            Some(path)
        }
        _ => None,
    };
    stop.store(true, Ordering::Relaxed);
    let mut statements = 0;
    for task in load {
        statements += task.await??;
    }
    let busy = busy?;
    busy.assert_healthy();
    assert!(statements > 0);
    let throughput = busy.number("throughput");
    assert!(throughput > 0.0, "throughput did not move under load");
    assert!(busy.number("statements-total") > idle_total);
    assert!(busy.number("latency-avg") > 0.0);
    assert!(busy.number("connections") >= 2.0);
    if let Some(path) = screenshot {
        let png = std::fs::read(&path)?;
        assert!(png.starts_with(b"\x89PNG"), "{} is no PNG", path.display());
    }
    node.shutdown().await;
    Ok(())
}
