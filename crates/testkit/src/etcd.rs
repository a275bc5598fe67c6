//! Throwaway etcd clusters for tests of compute nodes that share their metadata: real
//! `etcd` processes (Debian's `etcd-server` package) on free loopback ports, their data
//! in a temporary directory, killed when the fixture is dropped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), strata_testkit::TestkitError> {
//! let etcd = strata_testkit::EtcdCluster::start(1).await?;
//! let endpoints: Vec<String> = etcd.endpoints();
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use strata_localnode::{
    etcd_healthy, etcd_member_args, free_port, kill_and_reap, set_parent_death_signal,
};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::cleanup::fixture_dir;
use crate::TestkitError;

/// How long a cluster may take to elect a leader and answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with fresh ports when a chosen port turns out to be taken.
const PORT_ATTEMPTS: usize = 3;

/// One etcd member process.
struct Member {
    child: Option<Child>,
    client_port: u16,
    log: PathBuf,
}

/// True when the member log at `log` says the member serves clients on `port`.
fn serves_clients_on(log: &Path, port: u16) -> bool {
    let text = std::fs::read(log).unwrap_or_default();
    let marker = format!("client requests on 127.0.0.1:{port}");
    String::from_utf8_lossy(&text).contains(&marker)
}

/// An etcd cluster of one or more members; every member is killed on drop.
pub struct EtcdCluster {
    // Declared before `dir`: the processes die before their directory is removed.
    members: Vec<Member>,
    dir: TempDir,
}

/// Path of the `etcd` binary: `ETCD_BIN`, else `etcd` on the PATH or in /usr/bin.
fn etcd_binary() -> Result<PathBuf, TestkitError> {
    if let Some(bin) = std::env::var_os("ETCD_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("etcd"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin/etcd")])
        .find(|p| p.is_file())
        .ok_or_else(|| {
            TestkitError::Usage(
                "etcd not found: install Debian's etcd-server package (scripts/test does) or set ETCD_BIN"
                    .into(),
            )
        })
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl EtcdCluster {
    /// Starts `n` members (1 or 3, usually) forming one new cluster and waits until
    /// every member answers healthy.
    pub async fn start(n: usize) -> Result<EtcdCluster, TestkitError> {
        if n == 0 {
            return Err(TestkitError::Usage("an etcd cluster needs a member".into()));
        }
        let binary = etcd_binary()?;
        let dir = fixture_dir("etcd")?;
        let mut last = None;
        for attempt in 0..PORT_ATTEMPTS {
            match Self::try_start(&binary, dir.path(), n, attempt).await {
                Ok(members) => return Ok(EtcdCluster { members, dir }),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "etcd cluster did not start; retrying on other ports");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| TestkitError::Usage("etcd did not start".into())))
    }

    async fn try_start(
        binary: &Path,
        dir: &Path,
        n: usize,
        attempt: usize,
    ) -> Result<Vec<Member>, TestkitError> {
        let mut ports = Vec::new();
        for _ in 0..n {
            ports.push((free_port()?, free_port()?));
        }
        let initial_cluster = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let token = format!("strata-test-{}-{attempt}", std::process::id());
        let mut members = Vec::new();
        for (i, (client, peer)) in ports.iter().enumerate() {
            let data = dir.join(format!("a{attempt}-m{i}"));
            let log = dir.join(format!("a{attempt}-m{i}.log"));
            let out = std::fs::File::create(&log)
                .map_err(|e| TestkitError::io(format!("creating {}", log.display()), e))?;
            let err = out
                .try_clone()
                .map_err(|e| TestkitError::io("duplicating a log handle", e))?;
            let mut cmd = Command::new(binary);
            cmd.args(etcd_member_args(
                &format!("m{i}"),
                &data,
                *client,
                *peer,
                &initial_cluster,
                Some(&token),
            ))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
            set_parent_death_signal(&mut cmd);
            let child = cmd
                .spawn()
                .map_err(|e| TestkitError::io(format!("starting {}", binary.display()), e))?;
            members.push(Member {
                child: Some(child),
                client_port: *client,
                log,
            });
        }
        let deadline = Instant::now() + START_TIMEOUT;
        for m in &mut members {
            loop {
                // The health answer alone may come from another test's etcd that took
                // the port we were given; our member's log names the port it serves.
                if serves_clients_on(&m.log, m.client_port) && etcd_healthy(m.client_port).await {
                    break;
                }
                let exited = m
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                    .is_some();
                if exited || Instant::now() >= deadline {
                    let reason = if exited {
                        "a member exited".to_string()
                    } else {
                        format!("not healthy within {} s", START_TIMEOUT.as_secs())
                    };
                    let log_tail = log_tail(&m.log);
                    for m in &mut members {
                        if let Some(mut c) = m.child.take() {
                            let _ = kill_and_reap(&mut c).await;
                        }
                    }
                    return Err(TestkitError::Etcd { reason, log_tail });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        tracing::info!(members = n, "test etcd cluster started");
        Ok(members)
    }

    /// Client URLs of every member (`http://127.0.0.1:port`), for `[cluster] etcd`.
    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| format!("http://127.0.0.1:{}", m.client_port))
            .collect()
    }

    /// Kills member `i` (SIGKILL) and waits for it to exit; it stays down.
    pub async fn kill(&mut self, i: usize) -> Result<(), TestkitError> {
        let member = self
            .members
            .get_mut(i)
            .ok_or_else(|| TestkitError::Usage(format!("no etcd member {i}")))?;
        if let Some(mut child) = member.child.take() {
            kill_and_reap(&mut child)
                .await
                .map_err(|e| TestkitError::io("killing an etcd member", e))?;
        }
        Ok(())
    }

    /// The directory holding the members' data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}
