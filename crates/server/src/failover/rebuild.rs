//! Replica rebuild (`REBUILD @@DATASOURCE`): a stopped storage node of a data node
//! (typically the old primary a failover fenced) is re-created from the current
//! primary with mariadb-backup ([`super::backup`]), and when the operator starts it
//! again the watch makes it a GTID replica of the primary from the position the copy
//! holds and takes it back into the replica set.
//!
//! The copy runs outside the watch task (it can take minutes); only the re-admission,
//! which changes the watch's members, runs inside it, so it never races a failover or
//! a switchover.

use std::path::Path;
use std::time::Duration;

use strata_catalog::{Config, DataNodeId};
use tracing::{info, warn};

use super::backup::{copy_into, BackupError};
use super::promotion::{repoint, StartAt};
use super::state::{HaState, Role};
use super::watch::Watch;
use super::{WatchRequest, STEP_TIMEOUT};

/// How long a still-running storage node has to accept a TCP connection for the
/// rebuild to be refused.
const RUNNING_CHECK: Duration = Duration::from_secs(1);

/// Why a rebuild was refused or failed; the message is what the operator sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebuildError {
    /// No data node has that id.
    #[error("Unknown data node {0}")]
    UnknownDataNode(DataNodeId),
    /// The storage node named is not one of the data node's.
    #[error("{target} is not a storage node of data node {dnid}")]
    NotAMember {
        /// The data node.
        dnid: DataNodeId,
        /// `host:port` as the operator wrote it.
        target: String,
    },
    /// The storage node named is the primary: it is what replicas are built from.
    #[error("{target} is the primary of data node {dnid}; only a replica can be rebuilt")]
    IsPrimary {
        /// The data node.
        dnid: DataNodeId,
        /// `host:port`.
        target: String,
    },
    /// The storage node still accepts connections: its data directory is in use.
    #[error("{0} still accepts connections: stop it and empty its data directory first")]
    StillRunning(String),
    /// Making the copy failed.
    #[error("Rebuild of {target} failed: {source}")]
    Backup {
        /// `host:port`.
        target: String,
        /// What failed.
        source: BackupError,
    },
}

/// Re-admission of a rebuilt storage node, sent to its data node's watch task.
pub(super) struct RejoinRequest {
    /// `(host, port)` of the rebuilt node.
    pub(super) target: (String, u16),
    /// The GTID position its copy holds.
    pub(super) gtid: String,
    pub(super) reply: tokio::sync::oneshot::Sender<Result<(), RebuildError>>,
}

impl HaState {
    /// Rebuilds the stopped storage node `target` of data node `dnid` in `datadir` (on
    /// this machine, absent or empty) from the data node's current primary; returns the
    /// GTID position it will replicate from once started. See the module documentation.
    pub async fn rebuild(
        &self,
        config: &Config,
        dnid: DataNodeId,
        target: (String, u16),
        datadir: &Path,
    ) -> Result<String, RebuildError> {
        let named = format!("{}:{}", target.0, target.1);
        let states = self.data_node(dnid);
        if states.is_empty() {
            return Err(RebuildError::UnknownDataNode(dnid));
        }
        let member = states
            .iter()
            .find(|s| s.host == target.0 && s.port == target.1)
            .ok_or_else(|| RebuildError::NotAMember {
                dnid,
                target: named.clone(),
            })?;
        if member.role == Role::Primary {
            return Err(RebuildError::IsPrimary {
                dnid,
                target: named,
            });
        }
        let running = tokio::time::timeout(
            RUNNING_CHECK,
            tokio::net::TcpStream::connect((target.0.as_str(), target.1)),
        )
        .await;
        if matches!(running, Ok(Ok(_))) {
            return Err(RebuildError::StillRunning(named));
        }
        let primary = states
            .iter()
            .find(|s| s.role == Role::Primary)
            .and_then(|p| {
                let dn = config.data_nodes.iter().find(|d| d.id == dnid)?;
                std::iter::once(&dn.primary)
                    .chain(&dn.replicas)
                    .find(|c| c.host == p.host && c.port == p.port)
                    .cloned()
            })
            .ok_or(RebuildError::UnknownDataNode(dnid))?;
        let gtid = copy_into(&primary, datadir)
            .await
            .map_err(|source| RebuildError::Backup {
                target: named.clone(),
                source,
            })?;
        let sender = self
            .sender(dnid)
            .ok_or(RebuildError::UnknownDataNode(dnid))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = RejoinRequest {
            target,
            gtid: gtid.clone(),
            reply,
        };
        sender
            .send(WatchRequest::Rejoin(request))
            .await
            .map_err(|_| RebuildError::UnknownDataNode(dnid))?;
        answer
            .await
            .map_err(|_| RebuildError::UnknownDataNode(dnid))??;
        info!(dnid = dnid.get(), node = %named, %gtid, "rebuild: copy ready; the node becomes a replica once started");
        Ok(gtid)
    }
}

impl Watch {
    /// Marks the rebuilt member to be made a replica when it answers.
    pub(super) fn accept_rejoin(&mut self, request: RejoinRequest) {
        let (host, port) = &request.target;
        let named = format!("{host}:{port}");
        let found = self
            .members
            .iter()
            .position(|m| m.config.host == *host && m.config.port == *port);
        let result = match found {
            None => Err(RebuildError::NotAMember {
                dnid: self.dnid,
                target: named,
            }),
            Some(i) if i == self.primary => Err(RebuildError::IsPrimary {
                dnid: self.dnid,
                target: named,
            }),
            Some(i) => {
                self.members[i].rejoin_at = Some(request.gtid);
                Ok(())
            }
        };
        // The operator may have given up waiting: nothing to tell then.
        let _ = request.reply.send(result);
    }

    /// Makes each rebuilt member that answers again a semi-synchronous replica of the
    /// primary from the position its copy holds, and takes it back into the replica set
    /// (no longer fenced); the primary waits for semi-synchronous acknowledgements again.
    pub(super) async fn rejoin_rebuilt(&mut self) {
        let primary = self.members[self.primary].config.clone();
        let mut rejoined = false;
        for i in 0..self.members.len() {
            let member = &mut self.members[i];
            if i == self.primary || member.failures > 0 || member.last.is_none() {
                continue;
            }
            let Some(gtid) = member.rejoin_at.clone() else {
                continue;
            };
            match repoint(&mut member.prober, &primary, StartAt::Gtid(&gtid)).await {
                Ok(()) => {
                    info!(dnid = self.dnid.get(), node = %member.address(), %gtid, "rebuild: replicating from the primary; back in the replica set");
                    member.rejoin_at = None;
                    member.fenced = false;
                    rejoined = true;
                }
                Err(e) => {
                    warn!(dnid = self.dnid.get(), node = %member.address(), error = %e, "rebuild: cannot make the rebuilt node a replica yet")
                }
            }
        }
        if rejoined {
            let on = "SET GLOBAL rpl_semi_sync_master_enabled = ON";
            let primary = &mut self.members[self.primary];
            if let Err(e) = primary.prober.execute(on, STEP_TIMEOUT).await {
                warn!(dnid = self.dnid.get(), node = %primary.address(), error = %e, "rebuild: cannot turn semi-synchronous waiting on on the primary");
            }
        }
    }
}
