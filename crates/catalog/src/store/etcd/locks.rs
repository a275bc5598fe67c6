//! Cluster-wide DDL locks on tables (`P/lock/table/<db>/<table>`) and the pending
//! records that announce the same DDL to every compute node's watch
//! (`P/meta/pending/<db>/<table>`, `crate::fence`): taken together in one etcd
//! transaction under the node's membership lease, released together.

use std::sync::Arc;

use super::{esc, unesc, EtcdStore};
use crate::error::CatalogError;
use crate::etcd::{Compare, EtcdClient, TxnOp};

/// Cluster-wide DDL locks on some tables, held until dropped (or until the holder's
/// lease ends, when it dies), with the pending records that announce the DDL.
#[derive(Debug)]
pub struct TableLocks {
    client: Arc<EtcdClient>,
    keys: Vec<Vec<u8>>,
    /// The revision that created every key (so only these keys are released).
    revision: i64,
}

impl TableLocks {
    /// The etcd revision that took the locks and announced the DDL.
    pub fn revision(&self) -> i64 {
        self.revision
    }
}

impl Drop for TableLocks {
    fn drop(&mut self) {
        let compare: Vec<Compare> = self
            .keys
            .iter()
            .map(|k| Compare::CreateRevision(k.clone(), self.revision))
            .collect();
        let ops: Vec<TxnOp> = self.keys.iter().cloned().map(TxnOp::Delete).collect();
        if let Err(e) = self.client.txn(&compare, &ops, &[]) {
            tracing::warn!(error = %e, "cannot release DDL table locks (they end with the lease)");
        }
    }
}

impl EtcdStore {
    /// Takes the cluster-wide DDL locks of `tables` (database, table), all or none, under
    /// this node's membership lease: None when another DDL holds one of them (try again
    /// later), an error when this node is not a member.
    pub fn try_lock_tables(
        &self,
        tables: &[(String, String)],
    ) -> Result<Option<TableLocks>, CatalogError> {
        let Some(current) = self.incarnation() else {
            return Err(CatalogError::Invalid(format!(
                "compute node {} is not a member of the cluster: DDL is refused",
                self.node_id
            )));
        };
        let mut keys: Vec<Vec<u8>> = tables
            .iter()
            .flat_map(|(db, table)| {
                [
                    format!("{}/lock/table/{}/{}", self.prefix, esc(db), esc(table)).into_bytes(),
                    self.pending_key(db, table),
                ]
            })
            .collect();
        keys.sort();
        keys.dedup();
        let compare: Vec<Compare> = keys
            .iter()
            .map(|k| Compare::CreateRevision(k.clone(), 0))
            .collect();
        let holder = self.node_id.to_string().into_bytes();
        let ops: Vec<TxnOp> = keys
            .iter()
            .map(|k| TxnOp::Put(k.clone(), holder.clone(), current.lease))
            .collect();
        let (won, revision) = self.client.txn(&compare, &ops, &[])?;
        if !won {
            return Ok(None);
        }
        // This node marks its own DDL's tables itself; its watch skips the records.
        self.remember_own(revision);
        Ok(Some(TableLocks {
            client: Arc::clone(&self.client),
            keys,
            revision,
        }))
    }

    pub(super) fn pending_prefix(&self) -> String {
        format!("{}/meta/pending/", self.prefix)
    }

    fn pending_key(&self, db: &str, table: &str) -> Vec<u8> {
        format!("{}{}/{}", self.pending_prefix(), esc(db), esc(table)).into_bytes()
    }

    /// The DDLs announced now: (database, table, revision that announced it).
    pub fn list_pending(&self) -> Result<Vec<(String, String, i64)>, CatalogError> {
        let prefix = self.pending_prefix();
        let (kvs, rev) = self.client.range_prefix(prefix.as_bytes())?;
        self.note_read(rev);
        Ok(kvs
            .into_iter()
            .filter_map(|kv| {
                let key = String::from_utf8(kv.key).ok()?;
                let (db, table) = key.get(prefix.len()..)?.split_once('/')?;
                Some((unesc(db), unesc(table), kv.create_revision))
            })
            .collect())
    }
}
