//! The playground with several compute nodes (`--compute-nodes N`, N > 1): a local etcd
//! holding the shared metadata and one `strata serve` child process per compute node, so
//! one can be killed alone while the others keep serving.
//!
//! Compute node k (0-based) listens on `--port + 100*k` (admin `--admin-port + 100*k`,
//! HTTP `--http-port + 100*k`), reads `<dir>/strata.toml` (k = 0) or
//! `<dir>/strata-<k+1>.toml`, keeps its local state in `<dir>/meta` or
//! `<dir>/meta-<k+1>` and logs to `<dir>/strata-<k+1>.log`. etcd has three members by
//! default (`--etcd-members`, 1, 3 or 5): member m (1-based) listens on
//! `--storage-base-port + 88 + 2m` (clients: + 90, + 92, + 94) and the port after it
//! (peers), its data in `<dir>/etcd/etcd<m>` (`<dir>/etcd` itself for one member) and
//! its log in `<dir>/etcd-<m>.log` (`<dir>/etcd.log`). Every compute node lists every
//! member, so one member down changes nothing.

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
/// The first etcd member's client port is the storage base port + this (primaries are
/// 1 to 64 above it, replicas 100 and more); its peer port is the one after, and each
/// further member's ports are two above the previous member's.
pub const ETCD_CLIENT_OFFSET: u16 = 90;
/// etcd members when `--etcd-members` is not given: a majority survives one down.
pub const DEFAULT_ETCD_MEMBERS: u16 = 3;
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

/// How many etcd members the playground runs.
pub fn etcd_members(args: &PlaygroundArgs) -> u16 {
    args.etcd_members.unwrap_or(DEFAULT_ETCD_MEMBERS)
}

/// Client and peer ports of etcd member `m` (0-based).
pub fn etcd_ports(args: &PlaygroundArgs, m: u16) -> Option<(u16, u16)> {
    let client = args
        .storage_base_port
        .checked_add(ETCD_CLIENT_OFFSET)?
        .checked_add(m.checked_mul(2)?)?;
    Some((client, client.checked_add(1)?))
}

/// Every member's client URL, as each compute node's `[cluster] etcd` lists them.
fn etcd_endpoints(args: &PlaygroundArgs) -> Option<Vec<String>> {
    (0..etcd_members(args))
        .map(|m| etcd_ports(args, m).map(|(client, _)| format!("http://127.0.0.1:{client}")))
        .collect()
}

/// Data directory and log of etcd member `m` (0-based) of `members`.
fn etcd_member_paths(dir: &Path, members: u16, m: u16) -> (PathBuf, PathBuf) {
    if members == 1 {
        (dir.join("etcd"), dir.join("etcd.log"))
    } else {
        (
            dir.join("etcd").join(format!("etcd{}", m + 1)),
            dir.join(format!("etcd-{}.log", m + 1)),
        )
    }
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
    let endpoints = etcd_endpoints(args)?;
    let mut config = base.clone();
    config.server.service_addr = format!("127.0.0.1:{service}");
    config.server.admin_addr = format!("127.0.0.1:{admin}");
    config.server.http_addr = format!("127.0.0.1:{http}");
    config.server.node_id = u32::from(k) + 1;
    config.cluster = ClusterConfig {
        etcd: endpoints,
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
        let members = etcd_members(args);
        if members.is_multiple_of(2) {
            bail!("--etcd-members must be 1, 3 or 5 (an even count survives no more failures than one less)");
        }
        for m in 0..members {
            let Some((client, peer)) = etcd_ports(args, m) else {
                bail!(
                    "--storage-base-port {} leaves no room for etcd's ports",
                    args.storage_base_port
                );
            };
            used.push((client, format!("etcd member {} client port", m + 1)));
            used.push((peer, format!("etcd member {} peer port", m + 1)));
        }
    } else if args.etcd_members.is_some() {
        bail!("--etcd-members needs --compute-nodes 2 or more (one compute node keeps its metadata in its own file)");
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

/// Refuses a directory whose metadata is in the other kind of store (tables created
/// through etcd are not in a lone compute node's redb file, and the reverse), or in an
/// etcd of another member count (its members' data name their peers).
pub fn check_metadata_store(dir: &Path, args: &PlaygroundArgs) -> anyhow::Result<()> {
    let compute_nodes = args.compute_nodes;
    let etcd_dir = dir.join("etcd");
    let redb = dir.join("meta").join("metadata.redb");
    if compute_nodes > 1 && etcd_dir.is_dir() {
        let members = etcd_members(args);
        let one_member = etcd_dir.join("member").is_dir();
        let found = (1..=5u16)
            .filter(|m| etcd_dir.join(format!("etcd{m}")).is_dir())
            .count();
        let existing = if one_member { 1 } else { found };
        if existing > 0 && existing != usize::from(members) {
            bail!(
                "{} holds an etcd of {existing} member(s): run it with --etcd-members {existing}, or use a new --dir",
                etcd_dir.display()
            );
        }
    }
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
        log_excerpt(&text)
    }
}

/// The part of a process's log that says why it stopped: from a `strata serve`'s final
/// `Error:` (its causes, not a backtrace) when there is one, else the last 20 lines.
fn log_excerpt(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if let Some(start) = lines.iter().rposition(|l| l.starts_with("Error:")) {
        let end = lines[start..]
            .iter()
            .position(|l| l.trim_start().starts_with("Stack backtrace:"))
            .map_or(lines.len(), |n| start + n);
        return lines[start..end.min(start + 40)].join("\n");
    }
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Starts the playground's etcd members (data created on first run, reused after) and
/// waits until each answers healthy; stops them all if one does not.
async fn start_etcd(dir: &Path, args: &PlaygroundArgs) -> anyhow::Result<Vec<ChildProcess>> {
    let binary = find_binary("etcd", "etcd-server")?;
    let members = etcd_members(args);
    let name = |m: u16| {
        if members == 1 {
            "playground".to_string()
        } else {
            format!("etcd{}", m + 1)
        }
    };
    let mut peers = Vec::new();
    for m in 0..members {
        let Some((_, peer)) = etcd_ports(args, m) else {
            bail!("no room for etcd's ports above --storage-base-port");
        };
        peers.push(format!("{}=http://127.0.0.1:{peer}", name(m)));
    }
    let initial_cluster = peers.join(",");
    let mut started = Vec::new();
    for m in 0..members {
        let Some((client, peer)) = etcd_ports(args, m) else {
            bail!("no room for etcd's ports above --storage-base-port");
        };
        let (data, log) = etcd_member_paths(dir, members, m);
        let mut cmd = Command::new(&binary);
        let token = (members > 1).then_some("strata-playground");
        cmd.args(etcd_member_args(
            &name(m),
            &data,
            client,
            peer,
            &initial_cluster,
            token,
        ));
        let what = if members == 1 {
            "etcd".to_string()
        } else {
            format!("etcd member {}", m + 1)
        };
        match ChildProcess::spawn(what, cmd, log) {
            Ok(member) => started.push((member, client)),
            Err(e) => {
                stop_members(&mut started).await;
                return Err(e);
            }
        }
    }
    // Members elect a leader only once a majority runs: wait for health after all
    // started.
    let deadline = Instant::now() + ETCD_START_TIMEOUT;
    for i in 0..started.len() {
        let client = started[i].1;
        while !etcd_healthy(client).await {
            if !started[i].0.check_alive() || Instant::now() >= deadline {
                let message = format!(
                    "{} did not start on port {client}; {}:\n{}",
                    started[i].0.name,
                    started[i].0.log.display(),
                    started[i].0.log_tail()
                );
                stop_members(&mut started).await;
                bail!(message);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(started.into_iter().map(|(member, _)| member).collect())
}

async fn stop_members(members: &mut [(ChildProcess, u16)]) {
    for (member, _) in members.iter_mut().rev() {
        member.stop().await;
    }
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
        // A start-up error's causes are what the log must show, not a backtrace.
        cmd.env("RUST_LIB_BACKTRACE", "0");
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
            stop_all(&mut etcd).await;
            return Err(e.context("starting the compute nodes"));
        }
    };

    println!();
    println!(
        "etcd (shared metadata), {} member(s), data in {}:",
        etcd.len(),
        dir.join("etcd").display()
    );
    for (m, member) in (0u16..).zip(&etcd) {
        println!(
            "  {} (pid {}): http://127.0.0.1:{}  log {}",
            member.name,
            member
                .pid()
                .map_or_else(|| "?".to_string(), |p| p.to_string()),
            etcd_ports(args, m).map_or(0, |p| p.0),
            member.log.display()
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
                for process in nodes.iter_mut().chain(etcd.iter_mut()) {
                    process.check_alive();
                }
            }
        }
    };
    tracing::info!(signal, "stopping the playground");
    stop_all(&mut nodes).await;
    stop_all(&mut etcd).await;
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
            etcd_members: None,
        }
    }

    #[test]
    fn a_failed_starts_excerpt_is_its_error_and_causes_not_the_backtrace() {
        let log = "INFO starting\nError: opening the catalog\n\nCaused by:\n    etcd: leader changed\n\nStack backtrace:\n   0: anyhow::new\n   1: main";
        assert_eq!(
            log_excerpt(log),
            "Error: opening the catalog\n\nCaused by:\n    etcd: leader changed\n"
        );
        let plain: String = (1..=30).map(|n| format!("line {n}\n")).collect();
        assert!(log_excerpt(&plain).starts_with("line 11\n"));
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
            vec![
                "http://127.0.0.1:3490".to_string(),
                "http://127.0.0.1:3492".to_string(),
                "http://127.0.0.1:3494".to_string(),
            ]
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
        let mut even = args(2);
        even.etcd_members = Some(2);
        assert!(check_ports(&even).is_err());
        let mut one_node = args(1);
        one_node.etcd_members = Some(3);
        assert!(check_ports(&one_node).is_err());
    }

    #[test]
    fn etcd_members_get_two_ports_each_above_the_storage_nodes() {
        let mut one = args(2);
        one.etcd_members = Some(1);
        assert_eq!(
            etcd_endpoints(&one),
            Some(vec!["http://127.0.0.1:3490".to_string()])
        );
        let five = PlaygroundArgs {
            etcd_members: Some(5),
            ..args(2)
        };
        assert_eq!(etcd_ports(&five, 4), Some((3498, 3499)));
        check_ports(&five).expect("five members fit");
        assert_eq!(
            etcd_member_paths(Path::new("/pg"), 3, 1),
            (
                PathBuf::from("/pg/etcd/etcd2"),
                PathBuf::from("/pg/etcd-2.log")
            )
        );
        assert_eq!(
            etcd_member_paths(Path::new("/pg"), 1, 0),
            (PathBuf::from("/pg/etcd"), PathBuf::from("/pg/etcd.log"))
        );
    }
}
