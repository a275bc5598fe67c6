//! `strata playground`: a complete local cluster in one command, for trying Strata out.
//!
//! It starts N MariaDB storage nodes (one primary per data node) under
//! `<dir>/storage/dn<i>`, and with `--replicas R` R replicas of each under
//! `<dir>/storage/dn<i>-r<j>` (GTID, semi-synchronous replication), writes `<dir>/strata.toml` describing them (logical database `test` over all data
//! nodes, user `root` without password, listeners on 127.0.0.1 only), starts the compute
//! node in-process and runs until SIGINT/SIGTERM, then shuts down the compute node and
//! the storage nodes gracefully. Running it again reuses the directory and its data.
//! With `--compute-nodes N` (N > 1) the compute nodes are `strata serve` child processes
//! sharing their metadata through a local etcd instead (`crate::compute_nodes`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use strata_catalog::config::{
    DataNodeConfig, LogicDbConfig, ServerConfig, StorageNodeConfig, TlsConfig, UserConfig,
};
use strata_catalog::{Config, DataNodeId};
use strata_localnode::{MariadbNode, MariadbOptions, ReplicationOptions};

use crate::ShutdownSignal;

/// Physical database on every storage node (never visible to clients).
const PHYSICAL_DATABASE: &str = "test";
/// Logical database clients see.
const LOGICAL_DATABASE: &str = "test";
/// Replica j of data node i listens on the storage base port + j * this + i.
const REPLICA_PORT_STRIDE: u16 = 100;
/// How long a primary waits for a replica's acknowledgement before it falls back to
/// asynchronous replication (Strata then reports the data node at risk).
const SEMI_SYNC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a new replica may take to catch up at start-up.
const CATCH_UP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Flags of `strata playground`.
#[derive(clap::Args, Debug, Clone)]
pub struct PlaygroundArgs {
    /// Directory for configuration, metadata and storage-node data (reused across runs).
    #[arg(long, default_value = "./playground-data")]
    pub dir: PathBuf,
    /// Number of data nodes (one MariaDB storage node each).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub data_nodes: u16,
    /// Service port (MySQL protocol).
    #[arg(long, default_value_t = 3323)]
    pub port: u16,
    /// Admin port (MySQL protocol, management commands).
    #[arg(long, default_value_t = 3325)]
    pub admin_port: u16,
    /// HTTP port (REST API, metrics, console).
    #[arg(long, default_value_t = 3324)]
    pub http_port: u16,
    /// Storage node i (1-based) listens on this port + i; its replica j on this
    /// port + 100 * j + i.
    #[arg(long, default_value_t = 3400)]
    pub storage_base_port: u16,
    /// Replicas per data node (GTID, semi-synchronous replication from its primary),
    /// candidates for automatic failover.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=9))]
    pub replicas: u16,
    /// Start only the storage nodes (to run `strata serve --config <dir>/strata.toml`
    /// yourself).
    #[arg(long)]
    pub storage_only: bool,
    /// Compute nodes: 1 runs one in-process with its metadata in its own file; more
    /// start a local etcd and one `strata serve` process per compute node, compute
    /// node k (0-based) on the ports above + 100 * k.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=9))]
    pub compute_nodes: u16,
    /// Members of the local etcd with several compute nodes (1, 3 or 5; 3 by
    /// default): member m (1-based) serves clients on `--storage-base-port + 88 + 2m`
    /// and peers on the port after it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=5))]
    pub etcd_members: Option<u16>,
}

/// Runs the playground until SIGINT or SIGTERM.
pub async fn run(args: PlaygroundArgs) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install()?;
    let highest = usize::from(args.storage_base_port)
        + usize::from(REPLICA_PORT_STRIDE) * usize::from(args.replicas)
        + usize::from(args.data_nodes);
    if highest > usize::from(u16::MAX) {
        bail!(
            "--storage-base-port {} with --data-nodes {} and --replicas {} exceeds the largest port",
            args.storage_base_port,
            args.data_nodes,
            args.replicas
        );
    }
    if args.replicas > 0 && args.data_nodes >= REPLICA_PORT_STRIDE {
        bail!(
            "--replicas needs fewer than {REPLICA_PORT_STRIDE} data nodes (replica ports are spaced by {REPLICA_PORT_STRIDE})"
        );
    }
    if args.replicas > 0 && args.compute_nodes > 1 {
        // Each compute node detects storage failures and fails over on its own: two of
        // them could promote different replicas of one data node.
        bail!("--replicas cannot be combined with --compute-nodes above 1 yet (automatic failover is decided by each compute node alone)");
    }
    crate::compute_nodes::check_ports(&args)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir)
        .with_context(|| format!("resolving {}", args.dir.display()))?;
    crate::compute_nodes::check_metadata_store(&dir, &args)?;

    let tls = ensure_tls_pair(&dir.join("tls"))?;
    let mut nodes = start_storage_nodes(&dir, &args).await?;
    let storage: Vec<(MariadbOptions, Vec<MariadbOptions>)> = nodes
        .iter()
        .map(|m| {
            let replicas = m.replicas.iter().map(|r| r.options().clone()).collect();
            (m.primary.options().clone(), replicas)
        })
        .collect();
    let config = playground_config(&dir, &args, &storage, tls);
    let config_path = dir.join("strata.toml");
    let written = if args.compute_nodes > 1 && !args.storage_only {
        // Written with the cluster settings by `compute_nodes::run`.
        Ok(())
    } else {
        config
            .to_toml()
            .context("serialising the configuration")
            .and_then(|text| {
                std::fs::write(&config_path, text)
                    .with_context(|| format!("writing {}", config_path.display()))
            })
    };
    if let Err(e) = written {
        stop_storage_nodes(&mut nodes).await;
        return Err(e);
    }

    println!("Storage nodes:");
    for (i, members) in nodes.iter().enumerate() {
        println!(
            "  data node {}: primary 127.0.0.1:{}  (datadir {})",
            i + 1,
            members.primary.port(),
            members.primary.datadir().display()
        );
        for replica in &members.replicas {
            println!(
                "               replica 127.0.0.1:{}  (datadir {})",
                replica.port(),
                replica.datadir().display()
            );
        }
    }
    if args.compute_nodes == 1 || args.storage_only {
        println!("Configuration: {}", config_path.display());
    }

    if args.storage_only {
        println!();
        println!("Storage nodes are running (--storage-only). Start a compute node with:");
        println!("  strata serve --config {}", config_path.display());
        println!("Press Ctrl-C to stop.");
        let signal = shutdown.wait().await;
        tracing::info!(signal, "stopping the playground");
    } else if args.compute_nodes > 1 {
        let result = crate::compute_nodes::run(&dir, &args, &config, &mut shutdown).await;
        if let Err(e) = result {
            stop_storage_nodes(&mut nodes).await;
            return Err(e);
        }
    } else {
        let server = match strata_server::RunningServer::start(config).await {
            Ok(server) => server,
            Err(e) => {
                stop_storage_nodes(&mut nodes).await;
                return Err(e).context("starting the compute node");
            }
        };
        println!();
        server.set_config_path(config_path.clone());
        println!(
            "Strata is listening on {} (admin port {}, HTTP port {}).",
            server.service_addr(),
            server.admin_addr(),
            server.http_addr()
        );
        println!("Connect with:");
        println!("  mariadb -h127.0.0.1 -P{} -uroot test", args.port);
        println!("Manage with:");
        println!(
            "  mariadb -h127.0.0.1 -P{} -uroot -e 'SHOW @@HELP'",
            server.admin_addr().port()
        );
        println!(
            "  curl http://{}/metrics    curl -u root: http://{}/api/v1/datanodes",
            server.http_addr(),
            server.http_addr()
        );
        println!(
            "  web console: http://{}/ (user root, empty password)",
            server.http_addr()
        );
        println!("Press Ctrl-C to stop.");
        let signal = shutdown.wait().await;
        tracing::info!(signal, "stopping the playground");
        server.shutdown().await;
    }
    stop_storage_nodes(&mut nodes).await;
    println!("Playground stopped; data is kept in {}.", dir.display());
    Ok(())
}

/// A data node's running storage nodes: the primary, then its replicas.
struct DataNodeMembers {
    primary: MariadbNode,
    replicas: Vec<MariadbNode>,
}

/// Starts (initialising on first run) each data node's primary and replicas,
/// concurrently, creates the physical database on each primary and, on a replica's
/// first run, makes it replicate from its primary; stops the started ones if any fails.
async fn start_storage_nodes(
    dir: &Path,
    args: &PlaygroundArgs,
) -> anyhow::Result<Vec<DataNodeMembers>> {
    // Failovers and switchovers recorded by the compute node: those members start in
    // the roles they have now.
    let recorded = strata_server::primaries::recorded(&dir.join("meta"));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..=args.data_nodes {
        let (primary, left_out) = current_roles(args, i, recorded.get(&DataNodeId::new(i.into())));
        let opts = member_options(dir, args, i, primary, true);
        let replicas: Vec<MariadbOptions> = (0..=args.replicas)
            .filter(|&j| j != primary && Some(j) != left_out)
            .map(|j| member_options(dir, args, i, j, false))
            .collect();
        tasks.spawn(async move { (i, start_data_node(opts, replicas).await) });
    }
    let mut started = Vec::new();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, Ok(members))) => started.push((i, members)),
            Ok((i, Err(e))) => {
                first_error.get_or_insert_with(|| e.context(format!("data node {i}")));
            }
            Err(e) => {
                first_error.get_or_insert_with(|| anyhow::Error::new(e));
            }
        }
    }
    started.sort_by_key(|(i, _)| *i);
    let mut nodes: Vec<DataNodeMembers> = started.into_iter().map(|(_, m)| m).collect();
    if let Some(e) = first_error {
        stop_storage_nodes(&mut nodes).await;
        return Err(e.context("starting the storage nodes"));
    }
    Ok(nodes)
}

/// Port of data node `i`'s member `j` (0: the first primary, `j`: its replica `j`).
pub(crate) fn member_port(args: &PlaygroundArgs, i: u16, j: u16) -> u16 {
    args.storage_base_port + REPLICA_PORT_STRIDE * j + i
}

/// Which member of data node `i` is its primary now (0 unless a failover or switchover
/// recorded another), and which one is left out: a primary replaced by a failover was
/// fenced, not made a replica.
fn current_roles(
    args: &PlaygroundArgs,
    i: u16,
    recorded: Option<&(String, Option<String>)>,
) -> (u16, Option<u16>) {
    let port_of = |address: &str| address.rsplit_once(':')?.1.parse::<u16>().ok();
    let Some((primary, rejoined)) = recorded else {
        return (0, None);
    };
    let Some(j) = (1..=args.replicas).find(|&j| port_of(primary) == Some(member_port(args, i, j)))
    else {
        return (0, None);
    };
    let rejoined = rejoined.as_deref().and_then(port_of);
    let left_out = (rejoined != Some(member_port(args, i, 0))).then_some(0);
    (j, left_out)
}

/// Options of data node `i`'s member `j` (0: the first primary, `j`: its replica `j`),
/// started as the primary or as a replica.
fn member_options(
    dir: &Path,
    args: &PlaygroundArgs,
    i: u16,
    j: u16,
    primary: bool,
) -> MariadbOptions {
    let name = if j == 0 {
        format!("dn{i}")
    } else {
        format!("dn{i}-r{j}")
    };
    let mut opts = MariadbOptions::new(dir.join("storage").join(name), member_port(args, i, j));
    opts.buffer_pool_size = if args.replicas > 0 { "16M" } else { "32M" }.into();
    if args.replicas > 0 {
        opts.extra_args = ReplicationOptions {
            server_id: u32::from(j) * u32::from(REPLICA_PORT_STRIDE) + u32::from(i),
            read_only: !primary,
            semi_sync_timeout: SEMI_SYNC_TIMEOUT,
        }
        .server_args();
    }
    opts
}

/// Starts one data node's primary and replicas.
async fn start_data_node(
    primary: MariadbOptions,
    replicas: Vec<MariadbOptions>,
) -> anyhow::Result<DataNodeMembers> {
    if !replicas.is_empty()
        && primary.datadir.join("mysql").is_dir()
        && !primary.datadir.join("mariadb-bin.index").is_file()
    {
        bail!(
            "{} was created without replicas (no binary log to replicate from); use a new --dir to add replicas",
            primary.datadir.display()
        );
    }
    let primary = MariadbNode::start(primary).await?;
    let mut members = DataNodeMembers {
        primary,
        replicas: Vec::new(),
    };
    let result = async {
        for opts in replicas {
            let fresh = !opts.datadir.join("mysql").is_dir();
            let replica = MariadbNode::start(opts).await?;
            if fresh {
                let p = members.primary.options();
                replica
                    .replicate_from(p.connect_host(), p.port, &p.user, &p.password)
                    .await?;
            }
            members.replicas.push(replica);
        }
        // After the replicas connect: a semi-synchronous primary without one would
        // hold this commit for the whole semi-sync timeout.
        members
            .primary
            .ensure_databases(&[PHYSICAL_DATABASE])
            .await?;
        for replica in &members.replicas {
            replica
                .wait_caught_up(&members.primary, CATCH_UP_TIMEOUT)
                .await?;
        }
        Ok::<_, strata_localnode::LocalNodeError>(())
    }
    .await;
    if let Err(e) = result {
        stop_storage_nodes(std::slice::from_mut(&mut members)).await;
        return Err(e.into());
    }
    Ok(members)
}

/// Stops every storage node gracefully (SIGTERM), reporting failures without stopping.
async fn stop_storage_nodes(nodes: &mut [DataNodeMembers]) {
    // Replicas first: a primary that stops before them leaves them retrying.
    let (primaries, replicas): (Vec<_>, Vec<_>) = nodes
        .iter_mut()
        .map(|m| (&mut m.primary, &mut m.replicas))
        .unzip();
    let replicas = replicas.into_iter().flat_map(|r| r.iter_mut());
    for node in replicas.chain(primaries) {
        if let Err(e) = node.stop().await {
            tracing::warn!(port = node.port(), error = %e, "storage node did not stop cleanly");
        }
    }
}

/// The compute node's configuration for the running storage nodes.
fn playground_config(
    dir: &Path,
    args: &PlaygroundArgs,
    storage: &[(MariadbOptions, Vec<MariadbOptions>)],
    tls: TlsConfig,
) -> Config {
    let node_config = |node: &MariadbOptions, database: &str| {
        StorageNodeConfig::new(
            node.connect_host(),
            node.port,
            &node.user,
            &node.password,
            database,
        )
    };
    let data_nodes: Vec<DataNodeConfig> = storage
        .iter()
        .zip(1u32..)
        .map(|((primary, replicas), id)| DataNodeConfig {
            id: DataNodeId::new(id),
            primary: node_config(primary, PHYSICAL_DATABASE),
            replicas: replicas.iter().map(|r| node_config(r, "")).collect(),
        })
        .collect();
    Config {
        server: ServerConfig {
            service_addr: format!("127.0.0.1:{}", args.port),
            admin_addr: format!("127.0.0.1:{}", args.admin_port),
            http_addr: format!("127.0.0.1:{}", args.http_port),
            data_dir: dir.join("meta"),
            tls: Some(tls),
            ..ServerConfig::default()
        },
        users: vec![UserConfig {
            name: "root".into(),
            host: None,
            password: String::new(),
            password_hash: None,
            databases: None,
            auth_plugin: None,
        }],
        databases: vec![LogicDbConfig {
            name: LOGICAL_DATABASE.into(),
            data_nodes: data_nodes.iter().map(|dn| dn.id).collect(),
            default_data_nodes: None,
            rw_split: Default::default(),
        }],
        data_nodes,
        audit: strata_catalog::config::AuditConfig {
            enabled: true,
            path: Some(dir.join("audit.log")),
            ..Default::default()
        },
        slow_log: strata_catalog::config::SlowLogConfig {
            enabled: true,
            path: Some(dir.join("slow.log")),
            ..Default::default()
        },
        ..Config::default()
    }
}

/// Returns `<tls_dir>/cert.pem` and `key.pem`, generating a self-signed pair for
/// localhost when either is missing.
fn ensure_tls_pair(tls_dir: &Path) -> anyhow::Result<TlsConfig> {
    let tls = TlsConfig {
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    };
    if tls.cert.is_file() && tls.key.is_file() {
        return Ok(tls);
    }
    strata_protocol::tls::generate_self_signed(&tls.cert, &tls.key, &["localhost", "127.0.0.1"])
        .context("generating a self-signed TLS certificate")?;
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A playground of two data nodes with `replicas` replicas each, in `/pg`, on the
    /// default ports.
    fn two_data_nodes(replicas: u16) -> PlaygroundArgs {
        PlaygroundArgs {
            dir: PathBuf::from("/pg"),
            data_nodes: 2,
            port: 3323,
            admin_port: 3325,
            http_port: 3324,
            storage_base_port: 3400,
            replicas,
            storage_only: false,
            compute_nodes: 1,
            etcd_members: None,
        }
    }

    #[test]
    fn config_file_round_trips_and_spans_every_data_node() {
        let args = two_data_nodes(1);
        let storage = [
            (
                member_options(Path::new("/pg"), &args, 1, 0, true),
                vec![member_options(Path::new("/pg"), &args, 1, 1, false)],
            ),
            (
                member_options(Path::new("/pg"), &args, 2, 0, true),
                vec![member_options(Path::new("/pg"), &args, 2, 1, false)],
            ),
        ];
        let tls = TlsConfig {
            cert: PathBuf::from("/pg/tls/cert.pem"),
            key: PathBuf::from("/pg/tls/key.pem"),
        };
        let config = playground_config(Path::new("/pg"), &args, &storage, tls);
        let text = config.to_toml().expect("serialise");
        let parsed = Config::from_toml(&text).expect("parse and validate");
        assert_eq!(parsed, config);
        assert_eq!(config.server.service_addr, "127.0.0.1:3323");
        assert_eq!(config.server.data_dir, PathBuf::from("/pg/meta"));
        assert_eq!(config.users[0].name, "root");
        assert_eq!(config.users[0].password, "");
        assert_eq!(config.databases[0].name, "test");
        assert_eq!(
            config.databases[0].data_nodes,
            DataNodeId::from_numbers(&[1, 2])
        );
        assert_eq!(config.data_nodes[1].primary.port, 3402);
        assert_eq!(config.data_nodes[1].primary.database, "test");
        assert_eq!(config.data_nodes[1].replicas[0].port, 3502);
        assert!(storage[1].1[0]
            .extra_args
            .contains(&"--read-only=ON".to_string()));
        assert!(storage[1]
            .0
            .extra_args
            .contains(&"--server-id=2".to_string()));
    }

    #[test]
    fn tls_pair_is_generated_once_and_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = ensure_tls_pair(&dir.path().join("tls")).expect("generate");
        let cert = std::fs::read_to_string(&tls.cert).expect("cert");
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        let key = std::fs::read_to_string(&tls.key).expect("key");
        assert!(key.contains("PRIVATE KEY-----"));
        ensure_tls_pair(&dir.path().join("tls")).expect("reuse");
        assert_eq!(std::fs::read_to_string(&tls.cert).expect("cert"), cert);
    }

    #[test]
    fn members_restart_in_the_roles_failovers_and_switchovers_left() {
        let args = two_data_nodes(2);
        let rec = |primary: &str, rejoined: Option<&str>| {
            (primary.to_string(), rejoined.map(str::to_string))
        };
        assert_eq!(current_roles(&args, 1, None), (0, None));
        // Switched to replica 2 (port 3400 + 200 + 1), the old primary its replica.
        let switched = rec("127.0.0.1:3601", Some("127.0.0.1:3401"));
        assert_eq!(current_roles(&args, 1, Some(&switched)), (2, None));
        // Failed over to replica 1: the old primary was fenced, it stays out.
        let failed = rec("127.0.0.1:3502", None);
        assert_eq!(current_roles(&args, 2, Some(&failed)), (1, Some(0)));
        // Back on the first primary, or a record of another node: as configured.
        assert_eq!(
            current_roles(&args, 1, Some(&rec("127.0.0.1:3401", None))),
            (0, None)
        );
        assert_eq!(
            current_roles(&args, 1, Some(&rec("10.0.0.9:3306", None))),
            (0, None)
        );
    }
}
