//! Data nodes' primaries decided once for the whole cluster, in etcd.
//!
//! With several compute nodes, a failover or switchover of data node N is decided by
//! one of them: it takes `P/ha/lock/<N>` (created only if absent, attached to its
//! membership lease, so a dead decider's lock goes with its lease), changes the storage
//! nodes, then writes the new primary with the next epoch to `P/ha/primary/<N>` in the
//! etcd transaction that deletes the lock — only if the record did not change since it
//! read it under the lock. Every compute node watches `P/ha/` and follows the records.
//!
//! The lock of a switchover is an announcement too: every other compute node holds new
//! statements for the data node, lets its running ones finish, and acknowledges
//! (`P/ha/ack/<N>/<node>`); a switchover waits for those acknowledgements before it
//! makes the old primary read-only, so no node's statement is cut there.
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

/// `P/ha/`: what every compute node watches (records, locks, views, acknowledgements).
pub fn ha_prefix(etcd: &EtcdStore) -> String {
    format!("{}/ha/", etcd.key_prefix())
}

fn locks_prefix(etcd: &EtcdStore) -> String {
    format!("{}lock/", ha_prefix(etcd))
}

fn lock_key(etcd: &EtcdStore, dnid: u32) -> Vec<u8> {
    format!("{}{dnid}", locks_prefix(etcd)).into_bytes()
}

fn primaries_prefix(etcd: &EtcdStore) -> String {
    format!("{}primary/", ha_prefix(etcd))
}

fn ack_prefix(etcd: &EtcdStore, dnid: u32) -> String {
    format!("{}ack/{dnid}/", ha_prefix(etcd))
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

/// A change under [`ha_prefix`] that compute nodes act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaChange {
    /// Data node `0`'s primary was recorded.
    Recorded(u32, RecordedPrimary),
    /// A compute node (`holder`) took data node `dnid`'s lock: it is about to change
    /// its primary.
    Announced {
        /// The data node.
        dnid: u32,
        /// The compute node deciding.
        holder: u32,
        /// The lock's create revision (what an acknowledgement names).
        revision: i64,
        /// A switchover (the others drain for it), not a failover.
        planned: bool,
    },
    /// Data node `0`'s lock was released (decided or not).
    Released(u32),
}

/// A lock's value: the holder's node id, and `switchover` when planned.
fn lock_value(node: u32, planned: bool) -> String {
    if planned {
        format!("{node} switchover")
    } else {
        node.to_string()
    }
}

/// The holder and whether it is a switchover, from a lock's value.
fn parse_lock(value: &[u8]) -> Option<(u32, bool)> {
    let text = std::str::from_utf8(value).ok()?;
    let mut words = text.split_whitespace();
    let holder = words.next()?.parse().ok()?;
    Some((holder, words.next() == Some("switchover")))
}

fn dnid_under(key: &str, prefix: &str) -> Option<u32> {
    key.strip_prefix(prefix)?.parse().ok()
}

/// What the watch event `kv` (`deleted`: a deletion) under [`ha_prefix`] means; None
/// for the keys compute nodes do not act on (views, acknowledgements).
pub fn decode_change(
    etcd: &EtcdStore,
    kv: &KeyValue,
    deleted: bool,
) -> Option<Result<HaChange, CatalogError>> {
    let key = std::str::from_utf8(&kv.key).ok()?;
    if let Some(dnid) = dnid_under(key, &primaries_prefix(etcd)) {
        if deleted {
            return None;
        }
        return Some(decode(&kv.value, "recorded primary").map(|r| HaChange::Recorded(dnid, r)));
    }
    let dnid = dnid_under(key, &locks_prefix(etcd))?;
    if deleted {
        return Some(Ok(HaChange::Released(dnid)));
    }
    let (holder, planned) = parse_lock(&kv.value)?;
    Some(Ok(HaChange::Announced {
        dnid,
        holder,
        revision: kv.create_revision,
        planned,
    }))
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
        if let Some(dnid) = std::str::from_utf8(&kv.key)
            .ok()
            .and_then(|k| dnid_under(k, &primaries_prefix(etcd)))
        {
            recorded.insert(dnid, decode(&kv.value, "recorded primary")?);
        }
    }
    Ok((recorded, revision))
}

/// Asks for the decision on data node `dnid` (`planned`: for a switchover, which the
/// other compute nodes drain for): the lock, and the record read under it.
pub fn claim(etcd: &EtcdStore, dnid: u32, planned: bool) -> Result<Claim, CatalogError> {
    let lease = lease(etcd)?;
    let key = lock_key(etcd, dnid);
    let client = etcd.client();
    let (won, revision) = client.txn(
        &[Compare::CreateRevision(key.clone(), 0)],
        &[TxnOp::Put(
            key.clone(),
            lock_value(etcd.node_id(), planned).into_bytes(),
            lease,
        )],
        &[],
    )?;
    if !won {
        let holder = client
            .get(&key)?
            .and_then(|kv| parse_lock(&kv.value))
            .map_or(0, |(holder, _)| holder);
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
                release(etcd, &lock)?;
                return Err(e);
            }
        },
        Ok(None) => {}
        Err(e) => {
            // Best effort: the lock goes with the lease otherwise.
            let _ = release(etcd, &lock);
            return Err(e.into());
        }
    }
    Ok(Claim::Granted(lock))
}

impl DecisionLock {
    /// The lock's create revision: what the other compute nodes acknowledge.
    pub fn revision(&self) -> i64 {
        self.lock_revision
    }
}

/// What recording a decision again, after its commit failed, gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LateRecord {
    /// Recorded (and the lock released): the others follow now.
    Recorded,
    /// Another compute node recorded a primary meanwhile: this decision lost.
    Superseded,
    /// Another compute node holds the lock now (this one's lapsed): try again later.
    Wait,
}

/// Records `record` after [`commit`] failed (etcd was unreachable, or the lock lapsed
/// with this node's lease): under the lock if it is still this node's, else only while
/// nobody holds it; either way only if the record is still the one read under the lock.
pub fn record_late(
    etcd: &EtcdStore,
    lock: &DecisionLock,
    record: &RecordedPrimary,
) -> Result<LateRecord, CatalogError> {
    if commit(etcd, lock, record)? {
        return Ok(LateRecord::Recorded);
    }
    let key = record_key(etcd, lock.dnid);
    let (recorded, _) = etcd.client().txn(
        &[
            Compare::CreateRevision(lock_key(etcd, lock.dnid), 0),
            Compare::ModRevision(key.clone(), lock.record_revision),
        ],
        &[TxnOp::Put(key.clone(), encode(record)?, 0)],
        &[],
    )?;
    if recorded {
        return Ok(LateRecord::Recorded);
    }
    let now = etcd.client().get(&key)?.map_or(0, |kv| kv.mod_revision);
    if now == lock.record_revision {
        return Ok(LateRecord::Wait);
    }
    release(etcd, lock)?;
    Ok(LateRecord::Superseded)
}

/// Acknowledges data node `dnid`'s announcement `revision` (this node holds new
/// statements and its running ones ended), attached to its lease.
pub fn acknowledge(etcd: &EtcdStore, dnid: u32, revision: i64) -> Result<(), CatalogError> {
    let key = format!("{}{}", ack_prefix(etcd, dnid), etcd.node_id());
    etcd.client().put(
        key.as_bytes(),
        revision.to_string().as_bytes(),
        lease(etcd)?,
    )?;
    Ok(())
}

/// The live compute nodes other than this one that have not acknowledged data node
/// `dnid`'s announcement `revision`.
pub fn unacknowledged(
    etcd: &EtcdStore,
    dnid: u32,
    revision: i64,
) -> Result<Vec<u32>, CatalogError> {
    let prefix = ack_prefix(etcd, dnid);
    let (kvs, _) = etcd.client().range_prefix(prefix.as_bytes())?;
    let acked: Vec<u32> = kvs
        .iter()
        .filter(|kv| std::str::from_utf8(&kv.value).ok() == Some(revision.to_string().as_str()))
        .filter_map(|kv| dnid_under(std::str::from_utf8(&kv.key).ok()?, &prefix))
        .collect();
    Ok(etcd
        .members()?
        .into_iter()
        .map(|m| m.record.node_id)
        .filter(|n| *n != etcd.node_id() && !acked.contains(n))
        .collect())
}

/// Records `record` as data node `lock.dnid`'s primary and releases the lock, in one
/// transaction; false (nothing changed: the lock is kept if it is still this node's)
/// when the lock was lost or the record changed since it was read under the lock.
pub fn commit(
    etcd: &EtcdStore,
    lock: &DecisionLock,
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
            TxnOp::Delete(key),
        ],
        &[],
    )?;
    Ok(committed)
}

/// Releases the lock without deciding anything (if it is still this node's).
pub fn release(etcd: &EtcdStore, lock: &DecisionLock) -> Result<(), CatalogError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_value_names_its_holder_and_whether_it_is_a_switchover() {
        assert_eq!(
            parse_lock(lock_value(3, false).as_bytes()),
            Some((3, false))
        );
        assert_eq!(
            parse_lock(lock_value(12, true).as_bytes()),
            Some((12, true))
        );
        assert_eq!(lock_value(12, true), "12 switchover");
        assert_eq!(parse_lock(b""), None);
        assert_eq!(parse_lock(b"x"), None);
    }

    #[test]
    fn a_recorded_primary_reads_back_as_written() -> Result<(), CatalogError> {
        let record = RecordedPrimary {
            primary: "127.0.0.1:3401".into(),
            rejoined: Some("127.0.0.1:3301".into()),
            epoch: 2,
            decided_by: 1,
            planned: true,
        };
        let read: RecordedPrimary = decode(&encode(&record)?, "recorded primary")?;
        assert_eq!(read, record);
        Ok(())
    }
}
