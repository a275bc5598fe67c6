//! The metadata store in etcd, shared by every compute node of a cluster: the same
//! records as the embedded store (same bytes), under one key prefix `P`
//! (`[cluster] prefix`):
//!
//! | key | value |
//! | --- | --- |
//! | `P/meta/db/<database>` | a logical database created at runtime |
//! | `P/meta/table/<database>/<table>` | a table and its distribution |
//! | `P/counter/<name>` | the next value of a counter (AUTO_INCREMENT segments), decimal |
//! | `P/meta/account/<user>/<host>` | an account and its privileges |
//! | `P/xa/<node>/<gtrid>` | a compute node's XA commit decisions |
//! | `P/members/<node>` | a live compute node (attached to its lease) |
//! | `P/acks/<node>` | the metadata revision a compute node has applied (its lease) |
//! | `P/leader` | the elected compute node that takes over dead nodes' XA branches (its lease) |
//! | `P/lock/table/<database>/<table>` | a DDL in progress on that table (its node's lease) |
//! | `P/meta/pending/<database>/<table>` | the same DDL announced to every node's watch (`crate::fence`) |
//!
//! Name parts are escaped (`%` and `/` as `%25`, `%2F`). Compute nodes watch `P/meta/`
//! and apply what they see (`crate::cluster`); a metadata change returns only once every
//! other live member acknowledged its revision, or lost its membership for not doing so
//! within `[cluster] ddl_ack_timeout_ms`. Counters move by compare-and-swap, so two nodes
//! never get the same segment.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::accounts::{decode_account, encode_account, Account};
use crate::config::ClusterConfig;
use crate::error::CatalogError;
use crate::etcd::{Compare, EtcdClient, EtcdError, KeyValue, TxnOp, WatchEvent};
use crate::store::{
    decode, decode_entry, encode, encode_table, encode_view, DatabaseMeta, StoredEntry,
};
use crate::table::TableInfo;
use crate::view::ViewInfo;
use crate::xalog::{self, Decision, DecisionLog};

mod locks;

pub use locks::TableLocks;

/// Attempts of a compare-and-swap before giving up (each lost race means another node
/// moved the same key meanwhile).
const CAS_ATTEMPTS: usize = 64;
/// Operations per etcd transaction (etcd's default `--max-txn-ops` is 128).
const MAX_TXN_OPS: usize = 120;
/// How often a DDL looks for the other members' acknowledgements.
const ACK_POLL: Duration = Duration::from_millis(5);
/// Own revisions remembered at most (older ones are only a missed skip: harmless).
const MAX_OWN_REVISIONS: usize = 4096;

/// A change of the shared metadata another compute node made, as a watch reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaChange {
    /// A logical database was created (Some) or dropped (None).
    Database(String, Option<DatabaseMeta>),
    /// A table was created or changed (Some) or dropped (None); a view's deletion is
    /// reported as a table's (they share the key).
    Table(String, String, Option<Box<TableInfo>>),
    /// A view was created or replaced.
    View(String, String, Box<ViewInfo>),
    /// An account was created, changed or dropped (read them all again).
    Accounts,
    /// A DDL on a table was announced (true: it is about to change the data nodes) or
    /// ended (false).
    Pending(String, String, bool),
}

/// A compute node as registered under `P/members/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// `[server] node_id`.
    pub node_id: u32,
    /// Its service (MySQL) address.
    pub service_addr: String,
    /// Its admin port address.
    pub admin_addr: String,
    /// When it registered (ms since the Unix epoch).
    pub started_ms: u64,
    /// The XA epoch of this registration: the transactions it issues are
    /// `strata:<node_id>:<xa_epoch>:<seq>`, and only while it is registered.
    #[serde(default)]
    pub xa_epoch: u64,
}

/// This compute node's current registration: its XA epoch and the etcd revision that
/// created its member key. A commit decision is logged only while that key is the one
/// created then, so once the membership lapsed (and another node may have rolled back
/// the epoch's prepared branches) none of the epoch's transactions can commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incarnation {
    /// XA epoch of the registration.
    pub epoch: u64,
    /// Create revision of `P/members/<node>`.
    pub member_revision: i64,
    /// The membership lease (what this registration's locks are attached to).
    pub lease: i64,
}

/// A live member and how far it has applied the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// What it registered.
    pub record: MemberRecord,
    /// Its membership lease.
    pub lease: i64,
    /// The metadata revision it acknowledged (0: none yet).
    pub acked: i64,
}

/// The etcd-backed metadata store of one compute node.
#[derive(Debug)]
pub struct EtcdStore {
    client: Arc<EtcdClient>,
    prefix: String,
    node_id: u32,
    ack_timeout: Duration,
    /// Metadata revisions this node wrote itself (already applied): its watch skips them.
    own: Mutex<BTreeSet<i64>>,
    /// The oldest revision the catalog's load read at (the watch starts after it).
    loaded_at: AtomicI64,
    /// The current registration (None before joining).
    incarnation: Mutex<Option<Incarnation>>,
}

/// `%` and `/` escaped, so a name is one key segment.
fn esc(name: &str) -> String {
    name.replace('%', "%25").replace('/', "%2F")
}

fn unesc(segment: &str) -> String {
    segment.replace("%2F", "/").replace("%25", "%")
}

fn text(bytes: &[u8], what: &str) -> Result<String, CatalogError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| CatalogError::Decode {
        what: what.to_string(),
        reason: "key is not UTF-8".into(),
    })
}

fn counter_value(kv: &KeyValue, name: &str) -> Result<u64, CatalogError> {
    std::str::from_utf8(&kv.value)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| CatalogError::Decode {
            what: format!("counter {name}"),
            reason: "not a number".into(),
        })
}

impl EtcdStore {
    /// Connects to the endpoints of `cluster` (nothing is sent yet) for compute node
    /// `node_id`.
    pub fn connect(cluster: &ClusterConfig, node_id: u32) -> Result<EtcdStore, CatalogError> {
        let client = EtcdClient::new(
            &cluster.etcd,
            Duration::from_millis(cluster.request_timeout_ms),
        )?;
        Ok(EtcdStore {
            client: Arc::new(client),
            prefix: cluster.prefix.clone(),
            node_id,
            ack_timeout: Duration::from_millis(cluster.ddl_ack_timeout_ms),
            own: Mutex::new(BTreeSet::new()),
            loaded_at: AtomicI64::new(i64::MAX),
            incarnation: Mutex::new(None),
        })
    }

    /// The client (for membership and the watch).
    pub fn client(&self) -> &Arc<EtcdClient> {
        &self.client
    }

    /// This compute node's id.
    pub fn node_id(&self) -> u32 {
        self.node_id
    }

    /// `[cluster] prefix`: what every key Strata writes starts with.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The prefix every metadata key starts with (what compute nodes watch).
    pub fn meta_prefix(&self) -> String {
        format!("{}/meta/", self.prefix)
    }

    fn db_key(&self, name: &str) -> Vec<u8> {
        format!("{}/meta/db/{}", self.prefix, esc(name)).into_bytes()
    }

    fn table_prefix(&self, db: &str) -> Vec<u8> {
        format!("{}/meta/table/{}/", self.prefix, esc(db)).into_bytes()
    }

    fn table_key(&self, db: &str, table: &str) -> Vec<u8> {
        let mut key = self.table_prefix(db);
        key.extend_from_slice(esc(table).as_bytes());
        key
    }

    fn counter_key(&self, name: &str) -> Vec<u8> {
        format!("{}/counter/{name}", self.prefix).into_bytes()
    }

    fn account_key(&self, user: &str, host: &str) -> Vec<u8> {
        format!("{}/meta/account/{}/{}", self.prefix, esc(user), esc(host)).into_bytes()
    }

    fn xa_prefix(&self, node_id: u32) -> String {
        format!("{}/xa/{node_id}/", self.prefix)
    }

    /// `P/xa/<node>/<gtrid>` for the node that issued `gtrid` (this one for ids in
    /// another format).
    fn decision_key(&self, gtrid: &str) -> Vec<u8> {
        let node = xalog::gtrid_owner(gtrid).map_or(self.node_id, |(n, _)| n);
        format!("{}{}", self.xa_prefix(node), esc(gtrid)).into_bytes()
    }

    /// This node's current registration (None before it joined).
    pub fn incarnation(&self) -> Option<Incarnation> {
        *self.incarnation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new registration (see [`Incarnation`]).
    pub(crate) fn set_incarnation(&self, incarnation: Incarnation) {
        *self.incarnation.lock().unwrap_or_else(|e| e.into_inner()) = Some(incarnation);
    }

    /// Every compute node's logged commit decisions.
    pub fn all_decisions(&self) -> Result<Vec<Decision>, CatalogError> {
        self.decisions_under(&format!("{}/xa/", self.prefix))
    }

    fn decisions_under(&self, prefix: &str) -> Result<Vec<Decision>, CatalogError> {
        let (kvs, _) = self.client.range_prefix(prefix.as_bytes())?;
        kvs.into_iter()
            .map(|kv| {
                let key = text(&kv.key, "XA decision key")?;
                let rest = key.get(prefix.len()..).unwrap_or_default();
                // Under `P/xa/` the node's segment comes first.
                let gtrid = rest.rsplit_once('/').map_or(rest, |(_, g)| g);
                xalog::decode(&unesc(gtrid), &kv.value)
            })
            .collect()
    }

    /// `P/leader`.
    fn leader_key(&self) -> Vec<u8> {
        format!("{}/leader", self.prefix).into_bytes()
    }

    /// Campaigns for leadership with `lease`: true when this node holds `P/leader`
    /// (taken now if nobody held it). The key lives as long as the lease, so a dead
    /// leader is replaced once its lease lapsed.
    pub fn lead(&self, lease: i64) -> Result<bool, CatalogError> {
        let key = self.leader_key();
        let (won, _) = self.client.txn(
            &[Compare::CreateRevision(key.clone(), 0)],
            &[TxnOp::Put(
                key.clone(),
                self.node_id.to_string().into_bytes(),
                lease,
            )],
            &[],
        )?;
        if won {
            return Ok(true);
        }
        Ok(self.client.get(&key)?.is_some_and(|kv| kv.lease == lease))
    }

    /// The compute node holding `P/leader`, if any.
    pub fn leader(&self) -> Result<Option<u32>, CatalogError> {
        Ok(self
            .client
            .get(&self.leader_key())?
            .and_then(|kv| std::str::from_utf8(&kv.value).ok()?.parse().ok()))
    }

    /// `P/members/<node>`.
    pub fn member_key(&self, node_id: u32) -> Vec<u8> {
        format!("{}/members/{node_id}", self.prefix).into_bytes()
    }

    /// `P/acks/<node>`.
    pub fn ack_key(&self, node_id: u32) -> Vec<u8> {
        format!("{}/acks/{node_id}", self.prefix).into_bytes()
    }

    fn note_read(&self, revision: i64) {
        self.loaded_at.fetch_min(revision, Ordering::Relaxed);
    }

    /// The oldest revision read since the store was opened (None before any read).
    pub fn loaded_revision(&self) -> Option<i64> {
        match self.loaded_at.load(Ordering::Relaxed) {
            i64::MAX => None,
            r => Some(r),
        }
    }

    /// Forgets the revision of earlier reads (before reading everything again).
    pub fn reset_loaded_revision(&self) {
        self.loaded_at.store(i64::MAX, Ordering::Relaxed);
    }

    /// True when this node wrote metadata revision `revision` itself; revisions below it
    /// are forgotten (the watch delivers in order).
    pub fn is_own_revision(&self, revision: i64) -> bool {
        let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        let kept = own.split_off(&revision);
        *own = kept;
        own.contains(&revision)
    }

    /// A metadata change committed at `revision`: remembered as this node's own, then
    /// returns once every other live member applied it (or lost its membership).
    fn published(&self, revision: i64) -> Result<(), CatalogError> {
        self.remember_own(revision);
        self.wait_for_acks(revision).map(|_| ())
    }

    fn remember_own(&self, revision: i64) {
        let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        own.insert(revision);
        while own.len() > MAX_OWN_REVISIONS {
            own.pop_first();
        }
    }

    /// How long a DDL waits for the other members' acknowledgements.
    pub fn ack_timeout(&self) -> Duration {
        self.ack_timeout
    }

    /// Succeeds when etcd answers and this node is a registered member.
    pub fn check_member(&self) -> Result<(), CatalogError> {
        match self.client.get(&self.member_key(self.node_id))? {
            Some(_) => Ok(()),
            None => Err(CatalogError::Invalid(format!(
                "compute node {} is not a member of the cluster right now (its membership \
                 lapsed and it is joining again); DDL is refused until it is",
                self.node_id
            ))),
        }
    }

    /// The live members and their acknowledged revisions.
    pub fn members(&self) -> Result<Vec<Member>, CatalogError> {
        let members = format!("{}/members/", self.prefix).into_bytes();
        let acks = format!("{}/acks/", self.prefix).into_bytes();
        let (member_kvs, _) = self.client.range_prefix(&members)?;
        let (ack_kvs, _) = self.client.range_prefix(&acks)?;
        let acked: BTreeMap<Vec<u8>, i64> = ack_kvs
            .into_iter()
            .filter_map(|kv| {
                let id = kv.key.get(acks.len()..)?.to_vec();
                let rev = std::str::from_utf8(&kv.value).ok()?.parse().ok()?;
                Some((id, rev))
            })
            .collect();
        let mut out = Vec::new();
        for kv in member_kvs {
            let Some(id) = kv.key.get(members.len()..) else {
                continue;
            };
            let record: MemberRecord = match serde_json::from_slice(&kv.value) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(key = %String::from_utf8_lossy(&kv.key), error = %e, "unreadable member record");
                    continue;
                }
            };
            out.push(Member {
                acked: acked.get(id).copied().unwrap_or(0),
                record,
                lease: kv.lease,
            });
        }
        Ok(out)
    }

    /// Waits until every other live member acknowledged `revision`; members that do not
    /// within the timeout have their lease revoked (they must reload before serving on).
    /// True when it revoked any.
    pub fn wait_for_acks(&self, revision: i64) -> Result<bool, CatalogError> {
        let deadline = Instant::now() + self.ack_timeout;
        loop {
            let laggards: Vec<Member> = self
                .members()?
                .into_iter()
                .filter(|m| m.record.node_id != self.node_id && m.acked < revision)
                .collect();
            if laggards.is_empty() {
                return Ok(false);
            }
            if Instant::now() >= deadline {
                for m in laggards {
                    tracing::warn!(
                        node = m.record.node_id,
                        acked = m.acked,
                        revision,
                        "compute node did not apply a metadata change in time; revoking its membership"
                    );
                    self.client.lease_revoke(m.lease)?;
                }
                return Ok(true);
            }
            std::thread::sleep(ACK_POLL);
        }
    }

    /// What a watch event under `P/meta/` means; None for keys outside the layout.
    pub fn meta_change(&self, event: &WatchEvent) -> Option<Result<MetaChange, CatalogError>> {
        let key = std::str::from_utf8(&event.kv.key).ok()?;
        let rest = key.strip_prefix(&self.meta_prefix())?;
        if rest.starts_with("account/") {
            return Some(Ok(MetaChange::Accounts));
        }
        if let Some((db, table)) = rest
            .strip_prefix("pending/")
            .and_then(|r| r.split_once('/'))
        {
            return Some(Ok(MetaChange::Pending(
                unesc(db),
                unesc(table),
                !event.deleted,
            )));
        }
        if let Some(name) = rest.strip_prefix("db/") {
            let name = unesc(name);
            if event.deleted {
                return Some(Ok(MetaChange::Database(name, None)));
            }
            return Some(
                decode::<DatabaseMeta>(&event.kv.value, &name)
                    .map(|meta| MetaChange::Database(name, Some(meta))),
            );
        }
        let (db, table) = rest.strip_prefix("table/")?.split_once('/')?;
        let (db, table) = (unesc(db), unesc(table));
        if event.deleted {
            return Some(Ok(MetaChange::Table(db, table, None)));
        }
        Some(
            decode_entry(&event.kv.value, &format!("{db}.{table}")).map(|entry| match entry {
                StoredEntry::Table(info) => MetaChange::Table(db, table, Some(Box::new(info))),
                StoredEntry::View(view) => MetaChange::View(db, table, Box::new(view)),
            }),
        )
    }

    /// Creates or replaces a logical database record.
    pub fn put_database(&self, name: &str, meta: &DatabaseMeta) -> Result<(), CatalogError> {
        let rev = self.client.put(&self.db_key(name), &encode(meta)?, 0)?;
        self.published(rev)
    }

    /// Removes a logical database and all its table records; false if it was not there.
    pub fn drop_database(&self, name: &str) -> Result<bool, CatalogError> {
        let existed = self.client.get(&self.db_key(name))?.is_some();
        let (_, rev) = self.client.txn(
            &[],
            &[
                TxnOp::Delete(self.db_key(name)),
                TxnOp::DeletePrefix(self.table_prefix(name)),
            ],
            &[],
        )?;
        self.published(rev)?;
        Ok(existed)
    }

    /// One logical database record.
    pub fn database(&self, name: &str) -> Result<Option<DatabaseMeta>, CatalogError> {
        self.client
            .get(&self.db_key(name))?
            .map(|kv| decode(&kv.value, name))
            .transpose()
    }

    /// All logical database records, by name.
    pub fn list_databases(&self) -> Result<Vec<(String, DatabaseMeta)>, CatalogError> {
        let prefix = format!("{}/meta/db/", self.prefix);
        let (kvs, rev) = self.client.range_prefix(prefix.as_bytes())?;
        self.note_read(rev);
        kvs.into_iter()
            .map(|kv| {
                let key = text(&kv.key, "database key")?;
                let name = unesc(key.get(prefix.len()..).unwrap_or_default());
                let meta = decode(&kv.value, &name)?;
                Ok((name, meta))
            })
            .collect()
    }

    /// Creates or replaces a table record.
    pub fn put_table(&self, db: &str, table: &str, info: &TableInfo) -> Result<(), CatalogError> {
        let rev = self
            .client
            .put(&self.table_key(db, table), &encode_table(info)?, 0)?;
        self.published(rev)
    }

    /// Creates a table record; an error if another compute node created it meanwhile.
    pub fn insert_table(
        &self,
        db: &str,
        table: &str,
        info: &TableInfo,
    ) -> Result<(), CatalogError> {
        let key = self.table_key(db, table);
        let (created, rev) = self.client.txn(
            &[Compare::ModRevision(key.clone(), 0)],
            &[TxnOp::Put(key, encode_table(info)?, 0)],
            &[],
        )?;
        if !created {
            return Err(CatalogError::Invalid(format!(
                "Table '{table}' already exists"
            )));
        }
        self.published(rev)
    }

    /// Removes a table record; false if it was not there.
    pub fn drop_table(&self, db: &str, table: &str) -> Result<bool, CatalogError> {
        let key = self.table_key(db, table);
        let existed = self.client.get(&key)?.is_some();
        let rev = self.client.delete(&key)?;
        self.published(rev)?;
        Ok(existed)
    }

    /// One table record (None for a view).
    pub fn table(&self, db: &str, table: &str) -> Result<Option<TableInfo>, CatalogError> {
        match self.client.get(&self.table_key(db, table))? {
            Some(kv) => Ok(decode_entry(&kv.value, &format!("{db}.{table}"))?.into_table()),
            None => Ok(None),
        }
    }

    /// The table records of one logical database, by table name.
    pub fn list_tables(&self, db: &str) -> Result<Vec<(String, TableInfo)>, CatalogError> {
        Ok(crate::store::only_tables(self.list_entries(db)?))
    }

    /// The view records of one logical database, by view name.
    pub fn list_views(&self, db: &str) -> Result<Vec<(String, ViewInfo)>, CatalogError> {
        Ok(crate::store::only_views(self.list_entries(db)?))
    }

    /// Creates or replaces a view record (in the tables' namespace).
    pub fn put_view(&self, db: &str, name: &str, view: &ViewInfo) -> Result<(), CatalogError> {
        let rev = self
            .client
            .put(&self.table_key(db, name), &encode_view(view)?, 0)?;
        self.published(rev)
    }

    /// Every table and view record of one logical database, by name.
    fn list_entries(&self, db: &str) -> Result<Vec<(String, StoredEntry)>, CatalogError> {
        let prefix = self.table_prefix(db);
        let (kvs, rev) = self.client.range_prefix(&prefix)?;
        self.note_read(rev);
        kvs.into_iter()
            .map(|kv| {
                let key = text(&kv.key, "table key")?;
                let name = unesc(key.get(prefix.len()..).unwrap_or_default());
                let entry = decode_entry(&kv.value, &format!("{db}.{name}"))?;
                Ok((name, entry))
            })
            .collect()
    }

    /// Reserves `n` consecutive values of counter `name` by compare-and-swap, so no
    /// other compute node gets any of them.
    pub fn reserve_batch(&self, name: &str, n: u64) -> Result<Range<u64>, CatalogError> {
        let key = self.counter_key(name);
        for _ in 0..CAS_ATTEMPTS {
            let current = self.client.get(&key)?;
            let start = match &current {
                Some(kv) => counter_value(kv, name)?,
                None => 1,
            };
            let end = start
                .checked_add(n)
                .ok_or_else(|| CatalogError::CounterExhausted(name.to_string()))?;
            if n == 0 {
                return Ok(start..end);
            }
            let seen = current.map_or(0, |kv| kv.mod_revision);
            let (won, _) = self.client.txn(
                &[Compare::ModRevision(key.clone(), seen)],
                &[TxnOp::Put(key.clone(), end.to_string().into_bytes(), 0)],
                &[],
            )?;
            if won {
                return Ok(start..end);
            }
        }
        Err(contended(name))
    }

    /// Moves counter `name` to at least `at_least`; its next value afterwards.
    pub fn raise_counter(&self, name: &str, at_least: u64) -> Result<u64, CatalogError> {
        let key = self.counter_key(name);
        for _ in 0..CAS_ATTEMPTS {
            let current = self.client.get(&key)?;
            let value = match &current {
                Some(kv) => counter_value(kv, name)?,
                None => 1,
            };
            let next = value.max(at_least);
            if next == value {
                return Ok(next);
            }
            let seen = current.map_or(0, |kv| kv.mod_revision);
            let (won, _) = self.client.txn(
                &[Compare::ModRevision(key.clone(), seen)],
                &[TxnOp::Put(key.clone(), next.to_string().into_bytes(), 0)],
                &[],
            )?;
            if won {
                return Ok(next);
            }
        }
        Err(contended(name))
    }

    /// The next value counter `name` would hand out (None if it never handed out one).
    pub fn counter(&self, name: &str) -> Result<Option<u64>, CatalogError> {
        self.client
            .get(&self.counter_key(name))?
            .map(|kv| counter_value(&kv, name))
            .transpose()
    }

    /// Removes counter `name`; false if it was not there.
    pub fn remove_counter(&self, name: &str) -> Result<bool, CatalogError> {
        let key = self.counter_key(name);
        let existed = self.client.get(&key)?.is_some();
        self.client.delete(&key)?;
        Ok(existed)
    }

    /// Renames a table record, rewrites `rewritten` and moves counter `counter.0` to
    /// `counter.1`, all in one etcd transaction (see `RedbStore::rename_table`).
    pub fn rename_table(
        &self,
        db: &str,
        old: &str,
        new: &str,
        meta: &TableInfo,
        rewritten: &[(&str, &TableInfo)],
        counter: Option<(&str, &str)>,
    ) -> Result<bool, CatalogError> {
        let (old_key, new_key) = (self.table_key(db, old), self.table_key(db, new));
        for _ in 0..CAS_ATTEMPTS {
            let Some(old_kv) = self.client.get(&old_key)? else {
                return Ok(false);
            };
            if self.client.get(&new_key)?.is_some() {
                return Err(CatalogError::Invalid(format!(
                    "Table '{new}' already exists"
                )));
            }
            let mut compare = vec![
                Compare::ModRevision(old_key.clone(), old_kv.mod_revision),
                Compare::ModRevision(new_key.clone(), 0),
            ];
            let mut ops = vec![
                TxnOp::Delete(old_key.clone()),
                TxnOp::Put(new_key.clone(), encode_table(meta)?, 0),
            ];
            for (name, info) in rewritten {
                ops.push(TxnOp::Put(self.table_key(db, name), encode_table(info)?, 0));
            }
            if let Some((from, to)) = counter {
                let (from_key, to_key) = (self.counter_key(from), self.counter_key(to));
                let moved = self.client.get(&from_key)?;
                let existing = self.client.get(&to_key)?;
                compare.push(Compare::ModRevision(
                    from_key.clone(),
                    moved.as_ref().map_or(0, |kv| kv.mod_revision),
                ));
                compare.push(Compare::ModRevision(
                    to_key.clone(),
                    existing.as_ref().map_or(0, |kv| kv.mod_revision),
                ));
                if let Some(moved) = moved {
                    let moved = counter_value(&moved, from)?;
                    let existing = match existing {
                        Some(kv) => counter_value(&kv, to)?,
                        None => 1,
                    };
                    ops.push(TxnOp::Delete(from_key));
                    ops.push(TxnOp::Put(
                        to_key,
                        moved.max(existing).to_string().into_bytes(),
                        0,
                    ));
                }
            }
            let (done, rev) = self.client.txn(&compare, &ops, &[])?;
            if done {
                self.published(rev)?;
                return Ok(true);
            }
        }
        Err(contended(&format!("{db}.{old}")))
    }

    /// Creates or replaces an account record.
    pub fn put_account(&self, account: &Account) -> Result<(), CatalogError> {
        let key = self.account_key(&account.user, account.host.as_str());
        let rev = self.client.put(&key, &encode_account(account)?, 0)?;
        self.published(rev)
    }

    /// Removes an account record; false if it was not there.
    pub fn drop_account(&self, user: &str, host: &str) -> Result<bool, CatalogError> {
        let key = self.account_key(user, host);
        let existed = self.client.get(&key)?.is_some();
        let rev = self.client.delete(&key)?;
        self.published(rev)?;
        Ok(existed)
    }

    /// Every stored account.
    pub fn list_accounts(&self) -> Result<Vec<Account>, CatalogError> {
        let prefix = format!("{}/meta/account/", self.prefix);
        let (kvs, _) = self.client.range_prefix(prefix.as_bytes())?;
        kvs.into_iter()
            .map(|kv| {
                let key = text(&kv.key, "account key")?;
                let rest = key.get(prefix.len()..).unwrap_or_default();
                let (user, host) = rest.split_once('/').ok_or_else(|| CatalogError::Decode {
                    what: format!("account key {key}"),
                    reason: "no host part".into(),
                })?;
                decode_account(&unesc(user), &unesc(host), &kv.value)
            })
            .collect()
    }
}

fn contended(what: &str) -> CatalogError {
    CatalogError::Etcd(EtcdError::Refused(format!(
        "{what} is changed by other compute nodes too often; try again"
    )))
}

/// A commit decision refused because the registration its transaction began under is
/// gone.
fn lapsed(node_id: u32) -> CatalogError {
    CatalogError::Etcd(EtcdError::Refused(format!(
        "compute node {node_id}'s cluster membership lapsed since the transaction began; \
         its prepared branches belong to the cluster's recovery now (rolled back)"
    )))
}

impl DecisionLog for EtcdStore {
    /// Decisions are refused unless they belong to this node's current registration and
    /// its member key is still the one created then (checked by etcd in the same
    /// transaction); removals may concern any node's decisions (takeover).
    fn log_commits(&self, decisions: &[Decision], forget: &[String]) -> Result<(), CatalogError> {
        let fence = match (decisions.is_empty(), self.incarnation()) {
            (true, _) => Vec::new(),
            (false, None) => return Err(lapsed(self.node_id)),
            (false, Some(current)) => {
                let issued_now = |d: &Decision| {
                    xalog::gtrid_owner(&d.gtrid) == Some((self.node_id, current.epoch))
                };
                if !decisions.iter().all(issued_now) {
                    return Err(lapsed(self.node_id));
                }
                vec![Compare::CreateRevision(
                    self.member_key(self.node_id),
                    current.member_revision,
                )]
            }
        };
        let mut ops: Vec<TxnOp> = forget
            .iter()
            .map(|g| TxnOp::Delete(self.decision_key(g)))
            .collect();
        ops.extend(
            decisions
                .iter()
                .map(|d| TxnOp::Put(self.decision_key(&d.gtrid), xalog::encode(d), 0)),
        );
        // Each decision stands alone, so a batch larger than one transaction may take
        // several: all are durable before this returns.
        for chunk in ops.chunks(MAX_TXN_OPS) {
            let (done, _) = self.client.txn(&fence, chunk, &[])?;
            if !done {
                return Err(lapsed(self.node_id));
            }
        }
        Ok(())
    }

    fn decisions(&self) -> Result<Vec<Decision>, CatalogError> {
        self.decisions_under(&self.xa_prefix(self.node_id))
    }

    fn is_committed(&self, gtrid: &str) -> Result<bool, CatalogError> {
        Ok(self.client.get(&self.decision_key(gtrid))?.is_some())
    }

    fn next_epoch(&self) -> Result<u64, CatalogError> {
        Ok(self.reserve_batch(xalog::EPOCH_COUNTER, 1)?.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: &str, deleted: bool) -> WatchEvent {
        WatchEvent {
            deleted,
            kv: KeyValue {
                key: key.as_bytes().to_vec(),
                value: b"1".to_vec(),
                mod_revision: 7,
                create_revision: 7,
                lease: 0,
            },
        }
    }

    #[test]
    fn a_pending_record_is_an_announcement_and_its_removal_the_end() -> Result<(), CatalogError> {
        let store = EtcdStore::connect(
            &ClusterConfig {
                etcd: vec!["http://127.0.0.1:1".into()],
                ..ClusterConfig::default()
            },
            1,
        )?;
        let key = format!("{}a%2Fb/t%25", store.pending_prefix());
        let announced = store.meta_change(&event(&key, false));
        assert_eq!(
            announced.transpose()?,
            Some(MetaChange::Pending("a/b".into(), "t%".into(), true))
        );
        let ended = store.meta_change(&event(&key, true));
        assert_eq!(
            ended.transpose()?,
            Some(MetaChange::Pending("a/b".into(), "t%".into(), false))
        );
        Ok(())
    }

    #[test]
    fn escaped_names_are_one_key_segment_and_come_back() {
        for name in ["plain", "a/b", "100%", "%2F", "x%/y"] {
            let e = esc(name);
            assert!(!e.contains('/'), "{e}");
            assert_eq!(unesc(&e), name);
        }
    }
}
