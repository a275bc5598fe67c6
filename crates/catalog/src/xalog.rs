//! The decision log of distributed (XA) transactions: a coordinator records "commit"
//! for a transaction, durably, after every branch prepared and before the first
//! XA COMMIT is sent; recovery commits the prepared branches of logged transactions and
//! rolls back every other branch it owns (presumed abort). Entries are removed once
//! every branch is finished. The log sits behind [`DecisionLog`] so a replicated store
//! can hold it when several compute nodes share one.

use redb::{Durability, ReadableTable, TableDefinition};

use crate::error::CatalogError;
#[cfg(test)]
use crate::store::MetadataStore;
use crate::store::RedbStore;
use crate::DataNodeId;

const XA_DECISIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("xa_decisions");
/// Counter bumped at each start, so transaction ids never repeat across restarts.
pub(crate) const EPOCH_COUNTER: &str = "strata.xa.epoch";

/// The gtrid prefix shared by every transaction compute node `node` issued in any epoch.
pub fn node_gtrid_prefix(node: u32) -> String {
    format!("strata:{node}:")
}

/// The gtrid prefix of the transactions compute node `node` issues in epoch `epoch`
/// (a gtrid is `strata:<node>:<epoch>:<seq>`).
pub fn gtrid_prefix(node: u32, epoch: u64) -> String {
    format!("strata:{node}:{epoch}:")
}

/// The compute node and epoch that issued `gtrid`; None for ids Strata did not make.
pub fn gtrid_owner(gtrid: &str) -> Option<(u32, u64)> {
    let mut parts = gtrid.strip_prefix("strata:")?.splitn(3, ':');
    let node = parts.next()?.parse().ok()?;
    let epoch = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((node, epoch))
}

/// A commit decision: the transaction's global id and the data nodes of its branches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Global transaction id (the XID's gtrid).
    pub gtrid: String,
    /// Data nodes that hold a prepared branch.
    pub data_nodes: Vec<DataNodeId>,
    /// When the decision was taken (ms since the Unix epoch).
    pub decided_ms: u64,
}

/// Where commit decisions are kept.
pub trait DecisionLog: Send + Sync {
    /// Records commit decisions and removes finished ones (`forget`), in one durable
    /// step; returns only once the change survives a crash.
    fn log_commits(&self, decisions: &[Decision], forget: &[String]) -> Result<(), CatalogError>;
    /// Removes decisions whose branches are all finished.
    fn forget(&self, gtrids: &[String]) -> Result<(), CatalogError> {
        self.log_commits(&[], gtrids)
    }
    /// Every recorded decision.
    fn decisions(&self) -> Result<Vec<Decision>, CatalogError>;
    /// True when a commit decision is recorded for `gtrid`.
    fn is_committed(&self, gtrid: &str) -> Result<bool, CatalogError>;
    /// A number never returned before by this log (one per compute node start).
    fn next_epoch(&self) -> Result<u64, CatalogError>;
}

/// A decision's stored value (the same bytes in redb and in etcd).
pub(crate) fn encode(d: &Decision) -> Vec<u8> {
    let nodes: Vec<String> = d.data_nodes.iter().map(DataNodeId::to_string).collect();
    format!("{};{}", d.decided_ms, nodes.join(",")).into_bytes()
}

/// Decodes what `encode` wrote for `gtrid`.
pub(crate) fn decode(gtrid: &str, value: &[u8]) -> Result<Decision, CatalogError> {
    let bad = || CatalogError::Decode {
        what: format!("XA decision record for {gtrid}"),
        reason: "malformed value".into(),
    };
    let text = std::str::from_utf8(value).map_err(|_| bad())?;
    let (ms, nodes) = text.split_once(';').ok_or_else(bad)?;
    let data_nodes = nodes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<DataNodeId>().map_err(|_| bad()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Decision {
        gtrid: gtrid.to_string(),
        data_nodes,
        decided_ms: ms.parse().map_err(|_| bad())?,
    })
}

impl DecisionLog for RedbStore {
    fn log_commits(&self, decisions: &[Decision], forget: &[String]) -> Result<(), CatalogError> {
        let mut txn = self.db().begin_write()?;
        txn.set_durability(Durability::Immediate);
        {
            let mut table = txn.open_table(XA_DECISIONS)?;
            for g in forget {
                table.remove(g.as_str())?;
            }
            for d in decisions {
                table.insert(d.gtrid.as_str(), encode(d).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn decisions(&self) -> Result<Vec<Decision>, CatalogError> {
        let txn = self.db().begin_read()?;
        let table = match txn.open_table(XA_DECISIONS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push(decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    fn is_committed(&self, gtrid: &str) -> Result<bool, CatalogError> {
        let txn = self.db().begin_read()?;
        let table = match txn.open_table(XA_DECISIONS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        Ok(table.get(gtrid)?.is_some())
    }

    fn next_epoch(&self) -> Result<u64, CatalogError> {
        Ok(self.reserve_batch(EPOCH_COUNTER, 1)?.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(n: u32) -> DataNodeId {
        DataNodeId::new(n)
    }

    #[test]
    fn gtrids_name_their_node_and_epoch() {
        let g = format!("{}17", gtrid_prefix(3, 42));
        assert_eq!(g, "strata:3:42:17");
        assert!(g.starts_with(&node_gtrid_prefix(3)));
        assert!(!g.starts_with(&node_gtrid_prefix(34)));
        assert_eq!(gtrid_owner(&g), Some((3, 42)));
        for other in ["strata:3:42", "strata:x:1:2", "mine:3:42:1", "strata:3::1"] {
            assert_eq!(gtrid_owner(other), None, "{other}");
        }
    }

    #[test]
    fn decisions_survive_reopening_and_can_be_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d1 = Decision {
            gtrid: "strata:1:7:1".into(),
            data_nodes: vec![dn(1), dn(3)],
            decided_ms: 42,
        };
        let d2 = Decision {
            gtrid: "strata:1:7:2".into(),
            data_nodes: vec![dn(2)],
            decided_ms: 43,
        };
        let first_epoch;
        {
            let store = MetadataStore::open(dir.path()).expect("open");
            assert!(store.decisions().expect("list").is_empty());
            store
                .log_commits(&[d1.clone(), d2.clone()], &[])
                .expect("log");
            store
                .forget(std::slice::from_ref(&d2.gtrid))
                .expect("forget");
            first_epoch = store.next_epoch().expect("epoch");
        }
        let store = MetadataStore::open(dir.path()).expect("reopen");
        assert!(store.is_committed(&d1.gtrid).expect("get"));
        assert!(!store.is_committed(&d2.gtrid).expect("get"));
        assert_eq!(store.decisions().expect("list"), vec![d1]);
        assert!(store.next_epoch().expect("epoch") > first_epoch);
    }
}
