//! Data nodes' primaries decided once for the whole cluster, in etcd.
//!
//! With several compute nodes, a failover or switchover of data node N is decided by
//! one of them: it takes `P/lock/ha/<N>` (created only if absent, attached to its
//! membership lease, so a dead decider's lock goes with its lease), changes the storage
//! nodes, then writes the new primary with the next epoch to `P/ha/primary/<N>` in the
//! etcd transaction that deletes the lock — only if the record did not change since it
//! read it under the lock. Every compute node watches `P/ha/primary/` and follows.
//!
//! Each compute node also publishes what its heartbeat sees of each data node's primary
//! (`P/ha/view/<N>/<node>`, attached to its lease): a decider does not fail over a
//! primary another live compute node still reaches (the decider may be the one cut
//! off from it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CatalogError;
use crate::etcd::{Compare, KeyValue, TxnOp};
use crate::store::etcd::EtcdStore;

/// The primary of one data node as the cluster decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedPrimary {
    /// `host:port` of the primary.
    pub primary: String,
    /// After a switchover, `host:port` of the old primary, now its replica (after a
    /// failover the old primary is fenced: None).
    pub rejoined: Option<String>,
    /// Grows by one with every decision on this data node.
    pub epoch: u64,
    /// The compute node that decided.
    pub decided_by: u32,
    /// An operator's switchover (`SWITCH @@DATASOURCE`), not a failure.
    pub planned: bool,
}

/// What one compute node's heartbeat sees of a data node's primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryView {
    /// `host:port` of the primary it probes.
    pub primary: String,
    /// Its latest probe succeeded.
    pub up: bool,
}

/// The right to decide data node `dnid`'s primary, held by this compute node until it
/// is committed or released.
#[derive(Debug)]
pub struct DecisionLock {
    dnid: u32,
    /// Create revision of the lock key (it is ours while that holds).
    lock_revision: i64,
    /// Mod revision of the record when it was read under the lock (0: none).
    record_revision: i64,
    /// The record as read under the lock.
    pub recorded: Option<RecordedPrimary>,
}

/// What asking for the decision on a data node gave.
#[derive(Debug)]
pub enum Claim {
    /// This node decides.
    Granted(DecisionLock),
    /// Another compute node (this one) is deciding now.
    Busy(u32),
}

fn lock_key(etcd: &EtcdStore, dnid: u32) -> Vec<u8> {
    format!("{}/lock/ha/{dnid}", etcd.key_prefix()).into_bytes()
}

/// `P/ha/primary/`: what every compute node watches.
pub fn primaries_prefix(etcd: &EtcdStore) -> String {
    format!("{}/ha/primary/", etcd.key_prefix())
}

fn record_key(etcd: &EtcdStore, dnid: u32) -> Vec<u8> {
    format!("{}{dnid}", primaries_prefix(etcd)).into_bytes()
}

fn views_prefix(etcd: &EtcdStore, dnid: u32) -> String {
    format!("{}/ha/view/{dnid}/", etcd.key_prefix())
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, CatalogError> {
    serde_json::from_slice(bytes).map_err(|e| CatalogError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CatalogError> {
    serde_json::to_vec(value).map_err(|e| CatalogError::Invalid(e.to_string()))
}

/// The lease of this node's registration; deciding needs one (a node that is not a
/// member must not change what members route to).
fn lease(etcd: &EtcdStore) -> Result<i64, CatalogError> {
    etcd.incarnation().map(|i| i.lease).ok_or_else(|| {
        CatalogError::Invalid("this compute node is not a member of the cluster yet".into())
    })
}

/// The data node and record of a key under [`primaries_prefix`] (None for another key).
pub fn decode_recorded(
    etcd: &EtcdStore,
    kv: &KeyValue,
) -> Option<Result<(u32, RecordedPrimary), CatalogError>> {
    let key = std::str::from_utf8(&kv.key).ok()?;
    let dnid: u32 = key.strip_prefix(&primaries_prefix(etcd))?.parse().ok()?;
    Some(decode(&kv.value, "recorded primary").map(|r| (dnid, r)))
}

/// Every recorded primary by data node, and the revision they were read at.
pub fn recorded_primaries(
    etcd: &EtcdStore,
) -> Result<(BTreeMap<u32, RecordedPrimary>, i64), CatalogError> {
    let (kvs, revision) = etcd
        .client()
        .range_prefix(primaries_prefix(etcd).as_bytes())?;
    let mut recorded = BTreeMap::new();
    for kv in &kvs {
        if let Some(entry) = decode_recorded(etcd, kv) {
            let (dnid, record) = entry?;
            recorded.insert(dnid, record);
        }
    }
    Ok((recorded, revision))
}

/// Asks for the decision on data node `dnid`: the lock, and the record read under it.
pub fn claim(etcd: &EtcdStore, dnid: u32) -> Result<Claim, CatalogError> {
    let lease = lease(etcd)?;
    let key = lock_key(etcd, dnid);
    let client = etcd.client();
    let (won, revision) = client.txn(
        &[Compare::CreateRevision(key.clone(), 0)],
        &[TxnOp::Put(
            key.clone(),
            etcd.node_id().to_string().into_bytes(),
            lease,
        )],
        &[],
    )?;
    if !won {
        let holder = client
            .get(&key)?
            .and_then(|kv| std::str::from_utf8(&kv.value).ok()?.parse().ok())
            .unwrap_or(0);
        return Ok(Claim::Busy(holder));
    }
    let mut lock = DecisionLock {
        dnid,
        lock_revision: revision,
        record_revision: 0,
        recorded: None,
    };
    match client.get(&record_key(etcd, dnid)) {
        Ok(Some(kv)) => match decode(&kv.value, "recorded primary") {
            Ok(record) => {
                lock.record_revision = kv.mod_revision;
                lock.recorded = Some(record);
            }
            Err(e) => {
                release(etcd, lock)?;
                return Err(e);
            }
        },
        Ok(None) => {}
        Err(e) => {
            // Best effort: the lock goes with the lease otherwise.
            let _ = release(etcd, lock);
            return Err(e.into());
        }
    }
    Ok(Claim::Granted(lock))
}

/// Records `record` as data node `lock.dnid`'s primary and releases the lock, in one
/// transaction; false (nothing recorded, the lock released) when the lock was lost or
/// the record changed since it was read under the lock.
pub fn commit(
    etcd: &EtcdStore,
    lock: DecisionLock,
    record: &RecordedPrimary,
) -> Result<bool, CatalogError> {
    let key = lock_key(etcd, lock.dnid);
    let (committed, _) = etcd.client().txn(
        &[
            Compare::CreateRevision(key.clone(), lock.lock_revision),
            Compare::ModRevision(record_key(etcd, lock.dnid), lock.record_revision),
        ],
        &[
            TxnOp::Put(record_key(etcd, lock.dnid), encode(record)?, 0),
            TxnOp::Delete(key.clone()),
        ],
        &[],
    )?;
    if !committed {
        release(etcd, lock)?;
    }
    Ok(committed)
}

/// Releases the lock without deciding anything (if it is still this node's).
pub fn release(etcd: &EtcdStore, lock: DecisionLock) -> Result<(), CatalogError> {
    let key = lock_key(etcd, lock.dnid);
    etcd.client().txn(
        &[Compare::CreateRevision(key.clone(), lock.lock_revision)],
        &[TxnOp::Delete(key)],
        &[],
    )?;
    Ok(())
}

/// Publishes what this node's heartbeat sees of data node `dnid`'s primary, attached to
/// its membership lease.
pub fn publish_view(etcd: &EtcdStore, dnid: u32, view: &PrimaryView) -> Result<i64, CatalogError> {
    let lease = lease(etcd)?;
    let key = format!("{}{}", views_prefix(etcd, dnid), etcd.node_id());
    etcd.client().put(key.as_bytes(), &encode(view)?, lease)?;
    Ok(lease)
}

/// What every other live compute node's heartbeat sees of data node `dnid`'s primary.
pub fn other_views(etcd: &EtcdStore, dnid: u32) -> Result<Vec<(u32, PrimaryView)>, CatalogError> {
    let prefix = views_prefix(etcd, dnid);
    let (kvs, _) = etcd.client().range_prefix(prefix.as_bytes())?;
    let mut views = Vec::new();
    for kv in kvs {
        let node = std::str::from_utf8(&kv.key)
            .ok()
            .and_then(|k| k.strip_prefix(&prefix)?.parse::<u32>().ok());
        match node {
            Some(node) if node != etcd.node_id() => {
                views.push((node, decode(&kv.value, "primary view")?));
            }
            _ => {}
        }
    }
    Ok(views)
}
