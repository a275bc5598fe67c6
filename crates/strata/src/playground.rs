//! `strata playground`: a complete local cluster in one command, for trying Strata out.
//!
//! It starts N MariaDB storage nodes (one per data node) under `<dir>/storage/dn<i>`,
//! writes `<dir>/strata.toml` describing them (logical database `test` over all data
//! nodes, user `root` without password, listeners on 127.0.0.1 only), starts the compute
//! node in-process and runs until SIGINT/SIGTERM, then shuts down the compute node and
//! the storage nodes gracefully. Running it again reuses the directory and its data.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use strata_catalog::config::{
    DataNodeConfig, LogicDbConfig, PoolConfig, ServerConfig, StorageNodeConfig, TlsConfig,
    UserConfig,
};
use strata_catalog::Config;
use strata_localnode::{MariadbNode, MariadbOptions};

use crate::ShutdownSignal;

/// Physical database on every storage node (never visible to clients).
const PHYSICAL_DATABASE: &str = "test";
/// Logical database clients see.
const LOGICAL_DATABASE: &str = "test";

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
    /// Storage node i (1-based) listens on this port + i.
    #[arg(long, default_value_t = 3400)]
    pub storage_base_port: u16,
    /// Start only the storage nodes (to run `strata serve --config <dir>/strata.toml`
    /// yourself).
    #[arg(long)]
    pub storage_only: bool,
}

/// Runs the playground until SIGINT or SIGTERM.
pub async fn run(args: PlaygroundArgs) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install()?;
    if usize::from(args.storage_base_port) + usize::from(args.data_nodes) > usize::from(u16::MAX) {
        bail!(
            "--storage-base-port {} + --data-nodes {} exceeds the largest port",
            args.storage_base_port,
            args.data_nodes
        );
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir)
        .with_context(|| format!("resolving {}", args.dir.display()))?;

    let tls = ensure_tls_pair(&dir.join("tls"))?;
    let mut nodes = start_storage_nodes(&dir, &args).await?;
    let storage: Vec<MariadbOptions> = nodes.iter().map(|n| n.options().clone()).collect();
    let config = playground_config(&dir, &args, &storage, tls);
    let config_path = dir.join("strata.toml");
    let written = config
        .to_toml()
        .context("serialising the configuration")
        .and_then(|text| {
            std::fs::write(&config_path, text)
                .with_context(|| format!("writing {}", config_path.display()))
        });
    if let Err(e) = written {
        stop_storage_nodes(&mut nodes).await;
        return Err(e);
    }

    println!("Storage nodes:");
    for (i, node) in nodes.iter().enumerate() {
        println!(
            "  data node {}: 127.0.0.1:{}  (datadir {})",
            i + 1,
            node.port(),
            node.datadir().display()
        );
    }
    println!("Configuration: {}", config_path.display());

    if args.storage_only {
        println!();
        println!("Storage nodes are running (--storage-only). Start a compute node with:");
        println!("  strata serve --config {}", config_path.display());
        println!("Press Ctrl-C to stop.");
        let signal = shutdown.wait().await;
        tracing::info!(signal, "stopping the playground");
    } else {
        let server = match strata_server::RunningServer::start(config).await {
            Ok(server) => server,
            Err(e) => {
                stop_storage_nodes(&mut nodes).await;
                return Err(e).context("starting the compute node");
            }
        };
        println!();
        println!(
            "Strata is listening on {} (admin port {}, HTTP port {}).",
            server.service_addr(),
            args.admin_port,
            args.http_port
        );
        println!("Connect with:");
        println!("  mariadb -h127.0.0.1 -P{} -uroot test", args.port);
        println!("Press Ctrl-C to stop.");
        let signal = shutdown.wait().await;
        tracing::info!(signal, "stopping the playground");
        server.shutdown().await;
    }
    stop_storage_nodes(&mut nodes).await;
    println!("Playground stopped; data is kept in {}.", dir.display());
    Ok(())
}

/// Starts (initialising on first run) one storage node per data node, concurrently, and
/// creates the physical database on each; stops the started ones if any fails.
async fn start_storage_nodes(
    dir: &Path,
    args: &PlaygroundArgs,
) -> anyhow::Result<Vec<MariadbNode>> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..=args.data_nodes {
        let opts = MariadbOptions::new(
            dir.join("storage").join(format!("dn{i}")),
            args.storage_base_port + i,
        );
        tasks.spawn(async move {
            let node = MariadbNode::start(opts).await?;
            node.ensure_databases(&[PHYSICAL_DATABASE]).await?;
            Ok::<_, strata_localnode::LocalNodeError>((i, node))
        });
    }
    let mut started = Vec::new();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(node)) => started.push(node),
            Ok(Err(e)) => {
                first_error.get_or_insert_with(|| anyhow::Error::new(e));
            }
            Err(e) => {
                first_error.get_or_insert_with(|| anyhow::Error::new(e));
            }
        }
    }
    started.sort_by_key(|(i, _)| *i);
    let mut nodes: Vec<MariadbNode> = started.into_iter().map(|(_, node)| node).collect();
    if let Some(e) = first_error {
        stop_storage_nodes(&mut nodes).await;
        return Err(e.context("starting the storage nodes"));
    }
    Ok(nodes)
}

/// Stops every storage node gracefully (SIGTERM), reporting failures without stopping.
async fn stop_storage_nodes(nodes: &mut [MariadbNode]) {
    for node in nodes.iter_mut() {
        if let Err(e) = node.stop().await {
            tracing::warn!(port = node.port(), error = %e, "storage node did not stop cleanly");
        }
    }
}

/// The compute node's configuration for the running storage nodes.
fn playground_config(
    dir: &Path,
    args: &PlaygroundArgs,
    storage: &[MariadbOptions],
    tls: TlsConfig,
) -> Config {
    let data_nodes: Vec<DataNodeConfig> = storage
        .iter()
        .zip(1u32..)
        .map(|(node, id)| {
            DataNodeConfig::new(
                id,
                StorageNodeConfig::new(
                    node.connect_host(),
                    node.port,
                    &node.user,
                    &node.password,
                    PHYSICAL_DATABASE,
                ),
            )
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
        }],
        data_nodes,
        pool: PoolConfig::default(),
        firewall: Default::default(),
        rules: Vec::new(),
        tables: Vec::new(),
        transaction: Default::default(),
        merge: Default::default(),
        security: Default::default(),
        audit: strata_catalog::config::AuditConfig {
            enabled: true,
            path: Some(dir.join("audit.log")),
            ..Default::default()
        },
        ha: Default::default(),
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

    #[test]
    fn config_file_round_trips_and_spans_every_data_node() {
        let args = PlaygroundArgs {
            dir: PathBuf::from("/pg"),
            data_nodes: 2,
            port: 3323,
            admin_port: 3325,
            http_port: 3324,
            storage_base_port: 3400,
            storage_only: false,
        };
        let storage = [
            MariadbOptions::new("/pg/storage/dn1", 3401),
            MariadbOptions::new("/pg/storage/dn2", 3402),
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
        assert_eq!(config.databases[0].data_nodes, vec![1, 2]);
        assert_eq!(config.data_nodes[1].primary.port, 3402);
        assert_eq!(config.data_nodes[1].primary.database, "test");
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
}
