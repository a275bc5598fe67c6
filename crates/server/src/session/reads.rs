//! Read/write splitting in the session: which reads may go to a replica, taking a
//! replica's connection for them, and read-your-writes — after the session writes on
//! a data node, its reads there go only to replicas the heartbeat saw holding every
//! write acknowledged up to then (the primary otherwise).
//!
//! A read qualifies when it is a SELECT run outside any transaction (autocommit on,
//! nothing open), the session holds no connection state (user variables, temporary
//! tables, locks), it neither locks nor writes nor reads connection state
//! (`strata_sql::rw::replica_safe_select`), and either the current database's
//! `rw_split` is on or the statement says `/*!strata:rw=replica*/`.
//! `/*!strata:rw=primary*/` keeps it on the primary.

use std::sync::Arc;
use std::time::Instant;

use strata_backend::pool::Lease;
use strata_catalog::config::RwSplit;
use strata_catalog::DataNodeId;
use strata_sql::rw::{replica_safe_select, RwHint};

use super::Session;

/// A statement's permission to read from a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReplicaRead {
    /// The primary takes a share of the reads too (`primary_and_replicas`).
    pub with_primary: bool,
    /// Asked for by `rw=replica`: any replica in the read set, even one that may not
    /// have the session's latest writes yet.
    pub hinted: bool,
}

/// What the session wrote where, for read-your-writes.
#[derive(Debug, Default)]
pub(super) struct WrittenNodes {
    /// Per data node, when the session's latest write there was acknowledged.
    written: Vec<(DataNodeId, Instant)>,
    /// Data nodes written by the running statement or the open transaction, not yet
    /// acknowledged (recorded in `written` when the statement ends outside a
    /// transaction).
    pending: Vec<DataNodeId>,
}

impl WrittenNodes {
    fn written_at(&self, dnid: DataNodeId) -> Option<Instant> {
        self.written
            .iter()
            .find(|(d, _)| *d == dnid)
            .map(|(_, at)| *at)
    }
}

impl Session {
    /// Whether the SELECT `sql`, with its `rw=` hint `hint`, may read from a replica,
    /// and how (see the module documentation); None: the primary.
    pub(super) fn replica_read(&self, sql: &str, hint: Option<RwHint>) -> Option<ReplicaRead> {
        if hint == Some(RwHint::Primary)
            || self.in_transaction()
            || !self.state.autocommit
            || self.backends.sticky
            || self.has_open_cursor()
        {
            return None;
        }
        let mode = self
            .state
            .db
            .as_deref()
            .and_then(|db| self.ctx.topology.db(db))
            .map_or(RwSplit::Off, |d| d.rw_split);
        let hinted = hint == Some(RwHint::Replica);
        if (mode == RwSplit::Off && !hinted) || !replica_safe_select(sql) {
            return None;
        }
        Some(ReplicaRead {
            with_primary: mode == RwSplit::PrimaryAndReplicas && !hinted,
            hinted,
        })
    }

    /// A connection to a replica of `dnid` for the running statement's read, when it
    /// may have one and a replica qualifies; None sends it to the primary (also when
    /// no connection to the replica can be had).
    pub(super) async fn replica_lease(
        &mut self,
        dnid: DataNodeId,
        physical_db: Option<&str>,
    ) -> Option<Lease> {
        let read = self.statement.replica_read?;
        let written_at = if read.hinted {
            None
        } else {
            self.written.written_at(dnid)
        };
        let pool = self
            .ctx
            .topology
            .node(dnid)?
            .reads
            .choose(read.with_primary, written_at)?;
        let counting = self.client.row_counting();
        let mut lease = match pool.acquire_counting(physical_db, counting).await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(dnid = dnid.get(), error = %e, "replica unavailable for a read; reading from the primary");
                return None;
            }
        };
        if let Err(e) = lease.sync_state(physical_db, &self.state.vars).await {
            lease.mark_broken();
            tracing::debug!(dnid = dnid.get(), error = %e, "replica connection failed; reading from the primary");
            return None;
        }
        self.statement.on_replica = true;
        Some(lease)
    }

    /// Notes that the running statement uses `dnid`'s primary: a write there (or any
    /// statement of a transaction) is pending until the statement ends outside a
    /// transaction.
    pub(super) fn note_primary_use(&mut self, dnid: DataNodeId) {
        let writes = self.statement.writes || self.in_transaction() || !self.state.autocommit;
        if writes && !self.written.pending.contains(&dnid) {
            self.written.pending.push(dnid);
        }
    }

    /// At the end of a statement: outside a transaction, what it (or the transaction
    /// it ended) wrote is acknowledged now.
    pub(super) fn settle_writes(&mut self) {
        // Commands that are not statements (COM_STMT_PREPARE...) must not inherit it.
        self.statement.replica_read = None;
        if self.written.pending.is_empty() || self.in_transaction() {
            return;
        }
        let now = Instant::now();
        for dnid in std::mem::take(&mut self.written.pending) {
            match self.written.written.iter_mut().find(|(d, _)| *d == dnid) {
                Some(entry) => entry.1 = now,
                None => self.written.written.push((dnid, now)),
            }
        }
    }

    /// True when `lease` is a connection to a replica (not to its data node's current
    /// primary): it is never kept across statements, nor named to KILL QUERY.
    pub(super) fn is_replica_lease(&self, lease: &Lease) -> bool {
        if !self.statement.on_replica {
            return false;
        }
        let target = lease.target();
        self.ctx
            .topology
            .node(target.dnid)
            .is_some_and(|n| !Arc::ptr_eq(target, &n.pool.target()))
    }
}
