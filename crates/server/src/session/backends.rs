//! The storage connections a session holds between statements ("pinned") and the
//! reasons it holds them.

use strata_backend::pool::Lease;
use strata_backend::SessionVars;
use strata_catalog::DataNodeId;

use strata_protocol::{codes, MysqlError};

/// A session's pinned storage connections.
#[derive(Default)]
pub(super) struct Backends {
    /// Storage connections kept across statements.
    pub pinned: Vec<Lease>,
    /// The session created state only its pinned connection has.
    pub sticky: bool,
    /// That state is more than user variables (temporary tables, locks, prepared
    /// statements, ...): no statement may use another data node while it lasts.
    pub beyond_user_vars: bool,
    /// Keep the connection until the next statement (so SHOW WARNINGS finds them).
    pub keep_for_warnings: bool,
    /// The data nodes the previous statement ran on (a bit per id below 64), where
    /// SHOW WARNINGS finds its diagnostics, and those it read of a write's nodes.
    pub warned: (u64, Option<super::warnings::Diagnostics>),
    /// The data node whose connection holds that state (the first kept once sticky):
    /// connections to other nodes a statement used are not kept for it, so a later
    /// statement cannot find user variables missing on them.
    pub state_node: Option<DataNodeId>,
    /// The optimizer trace the session's connection holds.
    pub trace: super::optimizer_trace::TraceState,
    /// Temporary tables of databases over several data nodes, on the connection to
    /// `state_node`.
    pub temporary: super::temporary_tables::TemporaryTables,
    /// The invoker views of the databases the session's statements used, as last read.
    pub invoker_views: super::invoker_views::InvokerCache,
}

/// What [`Backends`] records of the state the session's connection holds, to put
/// back when a statement that would have created some failed.
#[derive(Debug, Clone, Copy)]
pub(super) struct StateMarks {
    sticky: bool,
    beyond_user_vars: bool,
    state_node: Option<DataNodeId>,
}

impl Backends {
    /// The marks of state held now.
    pub fn state_marks(&self) -> StateMarks {
        StateMarks {
            sticky: self.sticky,
            beyond_user_vars: self.beyond_user_vars,
            state_node: self.state_node,
        }
    }

    /// Puts back marks taken before a statement that created no state after all.
    pub fn restore_marks(&mut self, marks: StateMarks) {
        self.sticky = marks.sticky;
        self.beyond_user_vars = marks.beyond_user_vars;
        self.state_node = marks.state_node;
    }

    /// Takes the pinned connection to data node `dnid`, if there is one.
    pub fn take(&mut self, dnid: DataNodeId) -> Option<Lease> {
        let pos = self.pinned.iter().position(|l| l.target().dnid == dnid)?;
        Some(self.pinned.swap_remove(pos))
    }

    /// True while a storage node reports an open transaction on a pinned connection.
    pub fn in_transaction(&self) -> bool {
        self.pinned.iter().any(|l| l.in_transaction())
    }

    /// Keeps a connection after a statement (pins it) when it is still needed: by
    /// its own open transaction, by this session's state, or because `needed` (the
    /// session's transaction or an open cursor uses it); otherwise drops the lease,
    /// which gives the connection back to its pool. A connection `tainted` by state the
    /// session cannot see (a routine body ran on it) that is not kept is closed instead:
    /// the next session to borrow it would inherit that state.
    pub fn finish(&mut self, mut lease: Lease, needed: bool, tainted: bool) {
        let dnid = lease.target().dnid;
        let holds_state =
            self.sticky && !lease.is_broken() && *self.state_node.get_or_insert(dnid) == dnid;
        let keep = !lease.is_broken()
            && (lease.in_transaction() || needed || holds_state || self.keep_for_warnings);
        if keep {
            self.pinned.push(lease);
        } else if tainted {
            lease.mark_broken();
        }
    }
}

/// A pooled connection of kind `counting` to `dnid` with `physical_db` and `vars`
/// applied (`in_transaction`: for a transaction with work on another data node, which a
/// switchover's drain lets through). An idle pooled connection may have died since it
/// was pooled (its storage server restarted or failed over): nothing of the statement
/// has run on it yet, so one more connection is tried before the session sees an error.
pub(super) async fn pooled_lease(
    pool: &strata_backend::pool::Pool,
    dnid: DataNodeId,
    physical_db: Option<&str>,
    vars: &SessionVars,
    (counting, in_transaction): (strata_backend::RowCounting, bool),
) -> Result<Lease, MysqlError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let acquired = if in_transaction {
            pool.acquire_in_transaction(physical_db, counting).await
        } else {
            pool.acquire_counting(physical_db, counting).await
        };
        let mut lease = acquired.map_err(|e| backend_error(dnid, &e))?;
        match lease.sync_state(physical_db, vars).await {
            Ok(()) => return Ok(lease),
            Err(e) => {
                lease.mark_broken();
                let lost = !matches!(e, strata_backend::BackendError::Server(_));
                if !lost || attempts >= 2 {
                    return Err(backend_error(dnid, &e));
                }
                tracing::debug!(dnid = dnid.get(), error = %e, "pooled storage connection lost; trying another");
            }
        }
    }
}

/// Maps a storage-node failure to the client's error, keeping the storage node's own
/// error code and message when it sent one.
pub(crate) fn backend_error(dnid: DataNodeId, e: &strata_backend::BackendError) -> MysqlError {
    use strata_backend::BackendError as B;
    match e {
        B::Server(err) => MysqlError {
            code: err.code,
            state: super::client::sqlstate(err.state_str()),
            message: err.message.clone(),
        },
        B::PoolTimeout(..) => MysqlError::new(codes::UNKNOWN, e.to_string()),
        B::HoldQueueFull(..) => MysqlError::new(codes::UNKNOWN, format!("{e}; try again")),
        _ => MysqlError::new(
            codes::STORAGE_UNREACHABLE,
            format!("Unable to connect to data node {dnid}: {e}"),
        ),
    }
}

impl super::Session {
    /// Maps a relay failure to what the client sees; Err means the client is gone.
    pub(super) fn relay_failed(
        &mut self,
        dnid: DataNodeId,
        e: strata_backend::RelayError,
    ) -> Result<(), super::SessionError> {
        use strata_backend::RelayError;
        match e {
            RelayError::Client(e) => Err(e.into()),
            RelayError::Backend(e) => {
                tracing::info!(session = self.identity.id, dnid = dnid.get(), error = %e, "storage connection failed during a statement");
                // Inside a transaction the caller rolls it back everywhere: say so.
                let error = if self.branch_lost(dnid) {
                    super::transaction::transaction_lost(dnid)
                } else {
                    MysqlError::new(
                        codes::NET_READ,
                        format!("Lost connection to data node {dnid} during query; the statement's outcome there is unknown"),
                    )
                };
                self.err(&error);
                Ok(())
            }
        }
    }
}
