//! Throwaway MariaDB storage nodes for tests: a private set per test, or one shared set
//! per test binary. A private set may serve TLS from its own CA
//! ([`StorageNodes::start_with_tls`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strata_localnode::{free_port, MariadbNode, MariadbOptions, MariadbTls, ReplicationOptions};
use tempfile::TempDir;
use tokio::sync::OnceCell;

use crate::cleanup::{fixture_dir, remove_at_exit, wait_until_dead};
use crate::{mysql_opts, TestkitError};

/// Attempts to start a node when its randomly chosen port turns out to be taken.
const PORT_ATTEMPTS: usize = 5;
/// How long a replica may take to catch up with its primary in a fixture.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);
/// Semi-synchronous replication timeout of replicated fixtures: long enough that a
/// primary does not silently fall back to asynchronous replication during a test.
const SEMI_SYNC_TIMEOUT: Duration = Duration::from_secs(10);

/// N local MariaDB servers, each with its own data directory and port.
///
/// A set from [`StorageNodes::start`] belongs to one test: its processes are killed and
/// its directory removed on drop. A set from [`shared_storage`] lives until the test
/// binary exits.
#[derive(Debug)]
pub struct StorageNodes {
    // Declared before `dir` so the processes die before their directory is removed.
    nodes: Vec<MariadbNode>,
    /// Replicas of each node of `nodes` (empty lists for a set without replication).
    replicas: Vec<Vec<MariadbNode>>,
    dir: Option<TempDir>,
}

impl StorageNodes {
    /// Starts `n` servers on free ports in a new temporary directory.
    pub async fn start(n: usize) -> Result<StorageNodes, TestkitError> {
        let dir = fixture_dir("nodes")?;
        let nodes = start_nodes(&dir, n, None, &[]).await?;
        Ok(StorageNodes {
            replicas: (0..n).map(|_| Vec::new()).collect(),
            nodes,
            dir: Some(dir),
        })
    }

    /// Starts `n` servers whose system time zone (`@@system_time_zone`, what
    /// `time_zone = SYSTEM` means) is `tz`, a zoneinfo name such as `America/New_York`.
    pub async fn start_in_system_time_zone(
        n: usize,
        tz: &str,
    ) -> Result<StorageNodes, TestkitError> {
        let dir = fixture_dir("nodes")?;
        let env = [("TZ".to_string(), tz.to_string())];
        let nodes = start_nodes(&dir, n, None, &env).await?;
        Ok(StorageNodes {
            replicas: (0..n).map(|_| Vec::new()).collect(),
            nodes,
            dir: Some(dir),
        })
    }

    /// Starts `n` primaries, each with `replicas` replicas replicating from it with GTID
    /// and semi-synchronous replication (`ReplicationOptions`), and returns once every
    /// replica runs, has caught up and acknowledges its primary's commits.
    pub async fn start_replicated(n: usize, replicas: usize) -> Result<StorageNodes, TestkitError> {
        let dir = fixture_dir("nodes")?;
        let member = |server_id: usize, read_only: bool| {
            ReplicationOptions {
                server_id: server_id as u32,
                read_only,
                semi_sync_timeout: SEMI_SYNC_TIMEOUT,
            }
            .server_args()
        };
        let mut specs = Vec::new();
        for i in 0..n {
            specs.push((
                dir.path().join(format!("dn{}", i + 1)),
                member(i + 1, false),
            ));
        }
        for r in 0..replicas {
            for i in 0..n {
                specs.push((
                    dir.path().join(format!("dn{}-r{}", i + 1, r + 1)),
                    member((r + 1) * 100 + i + 1, true),
                ));
            }
        }
        let mut all = start_specs(specs, None, &[]).await?.into_iter();
        let nodes: Vec<MariadbNode> = all.by_ref().take(n).collect();
        let mut per_node: Vec<Vec<MariadbNode>> = (0..n).map(|_| Vec::new()).collect();
        for (k, replica) in all.enumerate() {
            per_node[k % n].push(replica);
        }
        let set = StorageNodes {
            nodes,
            replicas: per_node,
            dir: Some(dir),
        };
        for (i, primary) in set.nodes.iter().enumerate() {
            for replica in &set.replicas[i] {
                replica
                    .replicate_from("127.0.0.1", primary.port(), set.user(), set.password())
                    .await?;
            }
        }
        set.wait_replicas_caught_up().await?;
        for (i, primary) in set.nodes.iter().enumerate() {
            wait_semi_sync_clients(primary, set.replicas[i].len()).await?;
        }
        Ok(set)
    }

    /// Replica `r` (0-based) of server `i`.
    pub fn replica(&self, i: usize, r: usize) -> &MariadbNode {
        &self.replicas[i][r]
    }

    /// Replica `r` of server `i`, to kill, stop or restart it.
    pub fn replica_mut(&mut self, i: usize, r: usize) -> &mut MariadbNode {
        &mut self.replicas[i][r]
    }

    /// The replicas of server `i` (empty without replication).
    pub fn replicas(&self, i: usize) -> &[MariadbNode] {
        self.replicas.get(i).map_or(&[], Vec::as_slice)
    }

    /// Waits until every running replica has applied what its primary had written.
    pub async fn wait_replicas_caught_up(&self) -> Result<(), TestkitError> {
        for (primary, replicas) in self.nodes.iter().zip(&self.replicas) {
            for replica in replicas {
                replica.wait_caught_up(primary, CATCH_UP_TIMEOUT).await?;
            }
        }
        Ok(())
    }

    /// Starts `n` servers that serve TLS with certificates for 127.0.0.1 and localhost
    /// from a CA made for this set; with `require_secure_transport` they refuse
    /// clear-text connections.
    pub async fn start_with_tls(
        n: usize,
        require_secure_transport: bool,
    ) -> Result<StorageNodes, TestkitError> {
        let dir = fixture_dir("nodes")?;
        let mut tls = MariadbTls::generate(&dir.path().join("tls"), &["127.0.0.1", "localhost"])?;
        tls.require_secure_transport = require_secure_transport;
        let nodes = start_nodes(&dir, n, Some(tls), &[]).await?;
        Ok(StorageNodes {
            replicas: (0..n).map(|_| Vec::new()).collect(),
            nodes,
            dir: Some(dir),
        })
    }

    /// The TLS the servers serve with, if any (the same for all of them).
    pub fn tls(&self) -> Option<&MariadbTls> {
        self.nodes.first().and_then(|n| n.options().tls.as_ref())
    }

    /// Number of servers.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the set has no servers.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Server `i` (0-based).
    pub fn node(&self, i: usize) -> &MariadbNode {
        &self.nodes[i]
    }

    /// Server `i` (0-based), to kill, stop or restart it (private sets only).
    pub fn node_mut(&mut self, i: usize) -> &mut MariadbNode {
        &mut self.nodes[i]
    }

    /// All servers in order.
    pub fn nodes(&self) -> &[MariadbNode] {
        &self.nodes
    }

    /// TCP port of server `i`.
    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].port()
    }

    /// Address of server `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port(i)))
    }

    /// Account Strata uses on every server (all privileges).
    pub fn user(&self) -> &'static str {
        "strata"
    }

    /// Password of that account.
    pub fn password(&self) -> &'static str {
        "strata"
    }

    /// Creates database `name` on every server (no-op where it exists); replicas get it
    /// through replication.
    pub async fn create_database(&self, name: &str) -> Result<(), TestkitError> {
        for node in &self.nodes {
            node.ensure_databases(&[name]).await?;
        }
        self.wait_replicas_caught_up().await
    }

    /// Drops database `name` on every server (no-op where it is missing).
    pub async fn drop_database(&self, name: &str) -> Result<(), TestkitError> {
        let sql = format!("DROP DATABASE IF EXISTS `{}`", name.replace('`', "``"));
        for node in &self.nodes {
            node.execute_sql(&sql).await?;
        }
        self.wait_replicas_caught_up().await
    }

    /// `mysql_async` options for server `i` directly, as the Strata account (over
    /// verified TLS when the servers serve it).
    pub fn opts(&self, i: usize, db: Option<&str>) -> mysql_async::Opts {
        let opts = mysql_opts(self.addr(i), self.user(), self.password(), db);
        match self.tls() {
            Some(tls) => mysql_async::OptsBuilder::from_opts(opts)
                .ssl_opts(
                    mysql_async::SslOpts::default().with_root_certs(vec![tls.ca.clone().into()]),
                )
                .into(),
            None => opts,
        }
    }

    /// Opens a connection to server `i` directly, as the Strata account.
    pub async fn connect(
        &self,
        i: usize,
        db: Option<&str>,
    ) -> Result<mysql_async::Conn, TestkitError> {
        Ok(mysql_async::Conn::new(self.opts(i, db)).await?)
    }
}

impl Drop for StorageNodes {
    fn drop(&mut self) {
        if self.dir.is_none() {
            return;
        }
        // Kill every server and wait until it is gone, so that removing the directory
        // does not race with a dying server's last writes.
        let pids: Vec<u32> = self
            .nodes
            .iter()
            .chain(self.replicas.iter().flatten())
            .filter_map(MariadbNode::pid)
            .collect();
        self.nodes.clear();
        self.replicas.clear();
        for pid in pids {
            wait_until_dead(pid, Duration::from_secs(10));
        }
    }
}

/// Waits until `primary` has `clients` semi-synchronous replicas connected (its
/// commits then wait for one of them).
async fn wait_semi_sync_clients(primary: &MariadbNode, clients: usize) -> Result<(), TestkitError> {
    if clients == 0 {
        return Ok(());
    }
    let started = std::time::Instant::now();
    loop {
        let out = primary
            .execute_sql(
                "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
                 WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'",
            )
            .await?;
        if out.trim().parse::<usize>().unwrap_or(0) >= clients {
            return Ok(());
        }
        if started.elapsed() > CATCH_UP_TIMEOUT {
            return Err(TestkitError::Usage(format!(
                "primary on port {} has {} semi-sync replicas, expected {clients}",
                primary.port(),
                out.trim()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `n` servers in `dir/dn<i>` concurrently, with environment `env`; order
/// follows `i`.
async fn start_nodes(
    dir: &TempDir,
    n: usize,
    tls: Option<MariadbTls>,
    env: &[(String, String)],
) -> Result<Vec<MariadbNode>, TestkitError> {
    let specs = (0..n)
        .map(|i| (dir.path().join(format!("dn{}", i + 1)), Vec::new()))
        .collect();
    start_specs(specs, tls, env).await
}

/// Starts one server per (data directory, extra arguments) concurrently, with
/// environment `env`; order follows the list.
async fn start_specs(
    specs: Vec<(std::path::PathBuf, Vec<String>)>,
    tls: Option<MariadbTls>,
    env: &[(String, String)],
) -> Result<Vec<MariadbNode>, TestkitError> {
    let n = specs.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (datadir, extra_args)) in specs.into_iter().enumerate() {
        let tls = tls.clone();
        let env = env.to_vec();
        tasks.spawn(async move { (i, start_one(datadir, tls, extra_args, env).await) });
    }
    let mut started: Vec<Option<MariadbNode>> = (0..n).map(|_| None).collect();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, Ok(node))) => started[i] = Some(node),
            Ok((_, Err(e))) => {
                first_error.get_or_insert(e);
            }
            Err(join_error) => {
                first_error.get_or_insert(TestkitError::Usage(format!(
                    "storage node start-up task failed: {join_error}"
                )));
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(started.into_iter().flatten().collect())
}

async fn start_one(
    datadir: std::path::PathBuf,
    tls: Option<MariadbTls>,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
) -> Result<MariadbNode, TestkitError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut opts = MariadbOptions::new(&datadir, free_port()?);
        opts.tls = tls.clone();
        opts.extra_args = extra_args.clone();
        opts.env = env.clone();
        match MariadbNode::start(opts).await {
            Ok(node) => return Ok(node),
            Err(e) if e.is_port_in_use() && attempt < PORT_ATTEMPTS => {
                tracing::debug!(attempt, "storage node port was taken; retrying on another");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

type SharedCell = Arc<OnceCell<Arc<StorageNodes>>>;

/// One shared set per size, started at most once per test binary.
static SHARED: Mutex<BTreeMap<usize, SharedCell>> = Mutex::new(BTreeMap::new());

/// `n` storage nodes shared by all tests of this test binary that ask for `n`, started
/// on first use and stopped when the binary exits.
///
/// Tests keep independent by creating their own databases (see [`crate::unique_name`]);
/// they must not stop or kill shared nodes (use [`StorageNodes::start`] for that).
pub async fn shared_storage(n: usize) -> Result<Arc<StorageNodes>, TestkitError> {
    let cell = {
        let mut map = SHARED
            .lock()
            .map_err(|_| TestkitError::Usage("shared storage registry is poisoned".into()))?;
        map.entry(n).or_default().clone()
    };
    let nodes = cell.get_or_try_init(|| start_shared(n)).await?;
    Ok(Arc::clone(nodes))
}

/// Starts the shared set on a dedicated thread that lives as long as the process: the
/// servers die with the thread that started them, and each test has its own runtime.
async fn start_shared(n: usize) -> Result<Arc<StorageNodes>, TestkitError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("strata-testkit-shared-storage-{n}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(TestkitError::io("building a runtime", e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let started = async {
                    let dir = fixture_dir("shared")?;
                    let nodes = start_nodes(&dir, n, None, &[]).await?;
                    let pids = nodes.iter().filter_map(MariadbNode::pid).collect();
                    let path = dir.keep();
                    remove_at_exit(pids, path);
                    Ok(Arc::new(StorageNodes {
                        replicas: (0..n).map(|_| Vec::new()).collect(),
                        nodes,
                        dir: None,
                    }))
                }
                .await;
                let ok = started.is_ok();
                let _ = tx.send(started);
                if ok {
                    // Keep this thread (and so the servers) alive until the process exits.
                    std::future::pending::<()>().await;
                }
            });
        })
        .map_err(|e| TestkitError::io("spawning the shared storage thread", e))?;
    rx.await
        .map_err(|_| TestkitError::Usage("shared storage thread ended before reporting".into()))?
}
