//! The `strata` binary: `strata serve --config FILE` runs a compute node;
//! `strata playground` runs a local cluster (storage nodes and a compute node) for trying
//! Strata out.

mod compute_nodes;
mod playground;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// mimalloc instead of glibc's malloc: every statement allocates a few dozen small,
/// short-lived objects (tokens, plans, rows), and glibc's free path (arena locks,
/// chunk consolidation) was about a tenth of the compute node's instructions per point
/// select (`bench/instructions`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command line of the `strata` binary.
#[derive(Parser, Debug)]
#[command(
    name = "strata",
    version,
    about = "MySQL-compatible distributed database compute node"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a compute node from a configuration file.
    Serve {
        /// TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run a local cluster: MariaDB storage nodes and a compute node.
    Playground(playground::PlaygroundArgs),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli.command {
        Command::Serve { config } => serve(config).await,
        Command::Playground(args) => playground::run(args).await,
    }
}

/// Runs a compute node until SIGINT or SIGTERM.
async fn serve(config_path: PathBuf) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install()?;
    let config = strata_catalog::Config::load(&config_path)
        .with_context(|| format!("loading {}", config_path.display()))?;
    let server = strata_server::RunningServer::start(config).await?;
    server.set_config_path(config_path.clone());
    tracing::info!(addr = %server.service_addr(), "compute node serving");
    let signal = shutdown.wait().await;
    tracing::info!(
        signal,
        grace = ?strata_server::SHUTDOWN_GRACE,
        "shutting down: finishing statements in progress (signal again to stop now)"
    );
    tokio::select! {
        report = server.shutdown() => tracing::info!(?report, "shut down"),
        // Dropping the unfinished shutdown drops the server: every task is told to
        // stop at once, and exiting closes whatever is left.
        signal = shutdown.wait() => tracing::warn!(signal, "second signal; stopping now"),
    }
    Ok(())
}

/// SIGINT/SIGTERM listeners; installed early so a signal during start-up is not lost
/// and leads to a clean shutdown once start-up is done.
pub(crate) struct ShutdownSignal {
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignal {
    /// Starts listening for SIGINT and SIGTERM.
    pub(crate) fn install() -> anyhow::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    /// Waits for either signal and returns its name.
    pub(crate) async fn wait(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
