//! The playground with several compute nodes (`--compute-nodes N`, N > 1): a local etcd
//! holding the shared metadata and one `strata serve` child process per compute node, so
//! one can be killed alone while the others keep serving.
//!
//! Compute node k (0-based) listens on `--port + 100*k` (admin `--admin-port + 100*k`,
//! HTTP `--http-port + 100*k`), reads `<dir>/strata.toml` (k = 0) or
//! `<dir>/strata-<k+1>.toml`, keeps its local state in `<dir>/meta` or
//! `<dir>/meta-<k+1>` and logs to `<dir>/strata-<k+1>.log`. etcd listens on
//! `--storage-base-port + 90` (clients) and `+ 91` (peers), its data in `<dir>/etcd`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use strata_catalog::config::ClusterConfig;
use strata_catalog::Config;
use strata_localnode::{
    etcd_healthy, etcd_member_args, find_binary, kill_and_reap, set_parent_death_signal,
};
use tokio::process::{Child, Command};

use crate::playground::PlaygroundArgs;
use crate::ShutdownSignal;

/// Compute node k's ports are the playground's ports + this * k.
pub const COMPUTE_PORT_STRIDE: u16 = 100;
/// etcd's client port is the storage base port + this (primaries use + 1..=64, replicas
/// + 100 and up).
pub const ETCD_CLIENT_OFFSET: u16 = 90;
/// etcd's peer port is the storage base port + this.
pub const ETCD_PEER_OFFSET: u16 = 91;
/// How long etcd may take to answer healthy.
const ETCD_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a compute node may take to accept connections.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a compute node or etcd may take to stop after SIGTERM before it is killed
/// (a compute node finishes running statements for up to its shutdown grace first).
const STOP_TIMEOUT: Duration = Duration::from_secs(40);
/// How often the playground looks for compute nodes that exited on their own.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Ports of compute node `k` (0-based): service, admin, HTTP.
pub fn node_ports(args: &PlaygroundArgs, k: u16) -> Option<(u16, u16, u16)> {
    let offset = COMPUTE_PORT_STRIDE.checked_mul(k)?;
    Some((
        args.port.checked_add(offset)?,
        args.admin_port.checked_add(offset)?,
        args.http_port.checked_add(offset)?,
    ))
}

/// etcd's client and peer ports.
pub fn etcd_ports(args: &PlaygroundArgs) -> Option<(u16, u16)> {
    Some((
        args.storage_base_port.checked_add(ETCD_CLIENT_OFFSET)?,
        args.storage_base_port.checked_add(ETCD_PEER_OFFSET)?,
    ))
}

/// Configuration file of compute node `k`.
pub fn config_path(dir: &Path, k: u16) -> PathBuf {
    if k == 0 {
        dir.join("strata.toml")
    } else {
        dir.join(format!("strata-{}.toml", k + 1))
    }
}

/// Compute node `k`'s configuration: node 1's (`base`, as the one-node playground
/// writes it) with its own ports, node id, data directory and logs, and the metadata in
/// the playground's etcd.
pub fn node_config(base: &Config, dir: &Path, args: &PlaygroundArgs, k: u16) -> Option<Config> {
    let (service, admin, http) = node_ports(args, k)?;
    let (etcd_client, _) = etcd_ports(args)?;
    let mut config = base.clone();
    config.server.service_addr = format!("127.0.0.1:{service}");
    config.server.admin_addr = format!("127.0.0.1:{admin}");
    config.server.http_addr = format!("127.0.0.1:{http}");
    config.server.node_id = u32::from(k) + 1;
    config.cluster = ClusterConfig {
        etcd: vec![format!("http://127.0.0.1:{etcd_client}")],
        ..ClusterConfig::default()
    };
    if k > 0 {
        let n = k + 1;
        config.server.data_dir = dir.join(format!("meta-{n}"));
        config.audit.path = Some(dir.join(format!("audit-{n}.log")));
        config.slow_log.path = Some(dir.join(format!("slow-{n}.log")));
    }
    Some(config)
}

/// Every port the playground would listen on, with what listens there, so overlapping
/// flags are refused before anything starts.
pub fn check_ports(args: &PlaygroundArgs) -> anyhow::Result<()> {
    let mut used: Vec<(u16, String)> = Vec::new();
    for k in 0..args.compute_nodes {
        let Some((service, admin, http)) = node_ports(args, k) else {
            bail!(
                "--compute-nodes {} puts compute node {}'s ports past 65535",
                args.compute_nodes,
                k + 1
            );
        };
        used.push((service, format!("compute node {} service port", k + 1)));
        used.push((admin, format!("compute node {} admin port", k + 1)));
        used.push((http, format!("compute node {} HTTP port", k + 1)));
    }
    for i in 1..=args.data_nodes {
        for j in 0..=args.replicas {
            let port = crate::playground::member_port(args, i, j);
            let what = if j == 0 {
                format!("data node {i}")
            } else {
                format!("data node {i} replica {j}")
            };
            used.push((port, what));
        }
    }
    if args.compute_nodes > 1 {
        let Some((client, peer)) = etcd_ports(args) else {
            bail!(
                "--storage-base-port {} leaves no room for etcd's ports",
                args.storage_base_port
            );
        };
        used.push((client, "etcd client port".into()));
        used.push((peer, "etcd peer port".into()));
    }
    used.sort();
    for pair in used.windows(2) {
        if pair[0].0 == pair[1].0 {
            bail!(
                "port {} would be both the {} and the {}; choose other --port/--admin-port/--http-port/--storage-base-port",
                pair[0].0,
                pair[0].1,
                pair[1].1
            );
        }
    }
    Ok(())
}

/// Refuses a directory whose metadata is in the other kind of store: tables created
/// through etcd are not in a lone compute node's redb file, and the reverse.
pub fn check_metadata_store(dir: &Path, compute_nodes: u16) -> anyhow::Result<()> {
    let etcd_dir = dir.join("etcd");
    let redb = dir.join("meta").join("metadata.redb");
    if compute_nodes == 1 && etcd_dir.is_dir() {
        bail!(
            "{} keeps its metadata in etcd ({}): run it with --compute-nodes 2 or more, or use a new --dir",
            dir.display(),
            etcd_dir.display()
        );
    }
    if compute_nodes > 1 && !etcd_dir.is_dir() && redb.is_file() {
        bail!(
            "{} keeps its metadata in one compute node's file ({}): run it without --compute-nodes, or use a new --dir",
            dir.display(),
            redb.display()
        );
    }
    Ok(())
}

/// A child process of the playground (etcd or a compute node).
struct ChildProcess {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl ChildProcess {
    /// Spawns `cmd` with its output in `log`; it dies with the playground.
    fn spawn(name: String, mut cmd: Command, log: PathBuf) -> anyhow::Result<ChildProcess> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone().context("duplicating a log handle")?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        set_parent_death_signal(&mut cmd);
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        Ok(ChildProcess {
            name,
            child: Some(child),
            log,
        })
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// True while the process runs; reports (once) that it exited.
    fn check_alive(&mut self) -> bool {
        let Some(child) = self.child.as_mut() else {
            return false;
        };
        match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                tracing::warn!(process = %self.name, %status, log = %self.log.display(), "exited");
                println!(
                    "{} exited ({status}); see {}",
                    self.name,
                    self.log.display()
                );
                self.child = None;
                false
            }
            Err(e) => {
                tracing::warn!(process = %self.name, error = %e, "cannot check the process");
                true
            }
        }
    }

    /// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`].
    async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let Some(pid) = child.id() else {
            return;
        };
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            let _ = kill_and_reap(&mut child).await;
            return;
        };
        // SAFETY: kill(2) with a pid of our own unreaped child; no memory is touched.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(Ok(status)) => tracing::info!(process = %self.name, %status, "stopped"),
            Ok(Err(e)) => tracing::warn!(process = %self.name, error = %e, "waiting for it failed"),
            Err(_) => {
                tracing::warn!(process = %self.name, "did not stop in time; killing it");
                let _ = kill_and_reap(&mut child).await;
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// Starts a one-member etcd on `<dir>/etcd` (created on first run, reused after) and
/// waits until it answers healthy.
async fn start_etcd(dir: &Path, args: &PlaygroundArgs) -> anyhow::Result<ChildProcess> {
    let binary = find_binary("etcd", "etcd-server")?;
    let Some((client, peer)) = etcd_ports(args) else {
        bail!("no room for etcd's ports above --storage-base-port");
    };
    let mut cmd = Command::new(binary);
    cmd.args(etcd_member_args(
        "playground",
        &dir.join("etcd"),
        client,
        peer,
        &format!("playground=http://127.0.0.1:{peer}"),
        None,
    ));
    let mut etcd = ChildProcess::spawn("etcd".into(), cmd, dir.join("etcd.log"))?;
    let deadline = Instant::now() + ETCD_START_TIMEOUT;
    while !etcd_healthy(client).await {
        if !etcd.check_alive() || Instant::now() >= deadline {
            let tail = etcd.log_tail();
            etcd.stop().await;
            bail!(
                "etcd did not start on port {client}; {}:\n{tail}",
                etcd.log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(etcd)
}

/// Starts `strata serve --config FILE` for each configuration and waits until each
/// accepts MySQL connections; stops the started ones if any fails.
async fn start_compute_nodes(
    dir: &Path,
    configs: &[(PathBuf, Config)],
) -> anyhow::Result<Vec<ChildProcess>> {
    let binary = std::env::current_exe().context("locating the strata binary")?;
    let mut nodes = Vec::new();
    for (n, (path, _)) in (1u16..).zip(configs) {
        let mut cmd = Command::new(&binary);
        cmd.arg("serve").arg("--config").arg(path);
        let log = dir.join(format!("strata-{n}.log"));
        match ChildProcess::spawn(format!("compute node {n}"), cmd, log) {
            Ok(node) => nodes.push(node),
            Err(e) => {
                stop_all(&mut nodes).await;
                return Err(e);
            }
        }
    }
    let deadline = Instant::now() + NODE_START_TIMEOUT;
    for (node, (_, config)) in nodes.iter_mut().zip(configs) {
        let addr: std::net::SocketAddr = config
            .server
            .service_addr
            .parse()
            .context("parsing a service address")?;
        loop {
            if strata_localnode::wait_for_mysql_handshake(addr, Duration::from_secs(1)).await {
                break;
            }
            if !node.check_alive() || Instant::now() >= deadline {
                let message = format!(
                    "{} did not start on {addr}; {}:\n{}",
                    node.name,
                    node.log.display(),
                    node.log_tail()
                );
                stop_all(&mut nodes).await;
                bail!(message);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(nodes)
}

/// Stops processes in reverse order of start.
async fn stop_all(processes: &mut [ChildProcess]) {
    for p in processes.iter_mut().rev() {
        p.stop().await;
    }
}

/// Writes each compute node's configuration, starts etcd and the compute nodes, prints
/// how to reach them and runs until SIGINT/SIGTERM; then stops the compute nodes and
/// etcd (the caller stops the storage nodes).
pub async fn run(
    dir: &Path,
    args: &PlaygroundArgs,
    base: &Config,
    shutdown: &mut ShutdownSignal,
) -> anyhow::Result<()> {
    let mut configs = Vec::new();
    for k in 0..args.compute_nodes {
        let Some(config) = node_config(base, dir, args, k) else {
            bail!("compute node {}'s ports exceed the largest port", k + 1);
        };
        let path = config_path(dir, k);
        let text = config.to_toml().context("serialising a configuration")?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        configs.push((path, config));
    }
    let mut etcd = start_etcd(dir, args).await?;
    let mut nodes = match start_compute_nodes(dir, &configs).await {
        Ok(nodes) => nodes,
        Err(e) => {
            etcd.stop().await;
            return Err(e.context("starting the compute nodes"));
        }
    };

    println!();
    if let Some((client, _)) = etcd_ports(args) {
        println!(
            "etcd (shared metadata) on http://127.0.0.1:{client}, data in {}",
            dir.join("etcd").display()
        );
    }
    println!("Compute nodes (each a `strata serve` process; kill one to try a node failure):");
    for (k, (node, (path, config))) in (0u16..).zip(nodes.iter().zip(&configs)) {
        println!(
            "  compute node {} (pid {}): mariadb -h127.0.0.1 -P{} -uroot test",
            k + 1,
            node.pid()
                .map_or_else(|| "?".to_string(), |p| p.to_string()),
            node_ports(args, k).map_or(0, |p| p.0)
        );
        println!(
            "      admin 127.0.0.1:{}  http://{}/  config {}  log {}",
            node_ports(args, k).map_or(0, |p| p.1),
            config.server.http_addr,
            path.display(),
            node.log.display()
        );
    }
    println!("One address for all of them: see docs/playground.md (HAProxy, Connector/J).");
    println!("Press Ctrl-C to stop.");

    let mut watch = tokio::time::interval(WATCH_INTERVAL);
    let signal = loop {
        tokio::select! {
            signal = shutdown.wait() => break signal,
            _ = watch.tick() => {
                for node in &mut nodes {
                    node.check_alive();
                }
            }
        }
    };
    tracing::info!(signal, "stopping the playground");
    stop_all(&mut nodes).await;
    etcd.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(compute_nodes: u16) -> PlaygroundArgs {
        PlaygroundArgs {
            dir: PathBuf::from("/pg"),
            data_nodes: 4,
            port: 3323,
            admin_port: 3325,
            http_port: 3324,
            storage_base_port: 3400,
            replicas: 0,
            storage_only: false,
            compute_nodes,
        }
    }

    #[test]
    fn node_k_gets_its_ports_id_directory_and_the_etcd_endpoint() {
        let args = args(3);
        let base = Config::default();
        let dir = Path::new("/pg");
        let first = node_config(&base, dir, &args, 0).expect("node 1");
        assert_eq!(first.server.service_addr, "127.0.0.1:3323");
        assert_eq!(first.server.node_id, 1);
        assert_eq!(first.server.data_dir, base.server.data_dir);
        assert_eq!(
            first.cluster.etcd,
            vec!["http://127.0.0.1:3490".to_string()]
        );
        let third = node_config(&base, dir, &args, 2).expect("node 3");
        assert_eq!(third.server.service_addr, "127.0.0.1:3523");
        assert_eq!(third.server.admin_addr, "127.0.0.1:3525");
        assert_eq!(third.server.http_addr, "127.0.0.1:3524");
        assert_eq!(third.server.node_id, 3);
        assert_eq!(third.server.data_dir, PathBuf::from("/pg/meta-3"));
        assert_eq!(third.cluster.etcd, first.cluster.etcd);
        assert_eq!(config_path(dir, 0), PathBuf::from("/pg/strata.toml"));
        assert_eq!(config_path(dir, 2), PathBuf::from("/pg/strata-3.toml"));
    }

    #[test]
    fn overlapping_ports_are_refused() {
        check_ports(&args(3)).expect("defaults do not overlap");
        let mut clash = args(2);
        // Compute node 2's service port would be data node 23's port.
        clash.data_nodes = 30;
        let err = check_ports(&clash).expect_err("overlap");
        assert!(err.to_string().contains("data node 23"), "{err}");
        let mut high = args(9);
        high.port = 65000;
        assert!(check_ports(&high).is_err());
    }
}
