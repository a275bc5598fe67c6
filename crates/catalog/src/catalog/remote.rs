//! Changes other compute nodes made to the shared metadata: applying them, reloading, and telling the server.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::tables::{load_tables, resolve_nodes};
use super::{runtime_db, Catalog, DbOrigin, LogicDb};
use crate::error::CatalogError;
use crate::fence::fenced_table;
use crate::store::MetaChange;

/// How often the watch looks whether the statements a DDL waits for have ended.
const DRAIN_POLL: Duration = Duration::from_millis(2);

/// What `Catalog::on_remote_change` registers.
pub type RemoteListener = Box<dyn Fn(&MetaChange) + Send + Sync>;

/// The registered listener (a closure: shown only as present or not).
#[derive(Default)]
pub(super) struct ListenerSlot(RwLock<Option<RemoteListener>>);

impl std::fmt::Debug for ListenerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.0.read().map(|l| l.is_some()).unwrap_or(false);
        f.debug_tuple("ListenerSlot").field(&set).finish()
    }
}

impl Catalog {
    /// Registers what to do after another compute node's change of accounts or of a
    /// logical database was applied (replacing what was registered before).
    pub fn on_remote_change(&self, listener: RemoteListener) {
        *self
            .remote_listener
            .0
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(listener);
    }

    /// Whether a DDL may change the data nodes now: always with the embedded store; with
    /// etcd only while etcd answers and this node is a member (a node whose membership
    /// lapsed reloads the catalog first).
    pub fn ready_for_ddl(&self) -> Result<(), CatalogError> {
        match self.store.etcd() {
            None => Ok(()),
            Some(etcd) => etcd.check_member(),
        }
    }

    /// Applies a change another compute node made to the shared metadata (seen by the
    /// cluster watch at `revision`); changes this node made itself are already in force
    /// and skipped. A change that does not fit what this node knows is logged and left
    /// out: the next full reload settles it.
    pub fn apply_remote(&self, revision: i64, change: MetaChange) {
        if let MetaChange::Pending(db, table, announced) = change {
            self.apply_pending(revision, &db, &table, announced);
            return;
        }
        if change == MetaChange::Accounts {
            // Re-reading is idempotent, this node's own changes included: no revision
            // check, and no catalog lock held while the server reads them.
            self.notify(&change);
            return;
        }
        let database = matches!(change, MetaChange::Database(..)).then(|| change.clone());
        if self.apply_locked(revision, change) {
            if let Some(change) = database {
                self.notify(&change);
            }
        }
    }

    fn notify(&self, change: &MetaChange) {
        let listener = self
            .remote_listener
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(listener) = listener.as_ref() {
            listener(change);
        }
    }

    /// Applies a table or database change under the catalog's locks; false when it was
    /// this node's own or did not fit.
    fn apply_locked(&self, revision: i64, change: MetaChange) -> bool {
        let mut dbs = self.write();
        let mut tables = self.tables_write();
        // Checked under the locks: a local change records its revision before it
        // releases them.
        if self
            .store
            .etcd()
            .is_some_and(|s| s.is_own_revision(revision))
        {
            return false;
        }
        match change {
            MetaChange::Database(name, meta) => {
                if from_config_name(&dbs, &name) {
                    tracing::warn!(database = %name, "the cluster changed a database this node's configuration defines; ignored");
                    return false;
                }
                match meta {
                    Some(meta) => {
                        dbs.insert(name.clone(), Arc::new(runtime_db(name.clone(), meta)));
                        tracing::info!(database = %name, revision, "database created by another compute node");
                    }
                    None => {
                        dbs.remove(&name);
                        tables.remove(&name);
                        self.sequences.forget_database(&name);
                        self.forget_views_of(&name);
                        tracing::info!(database = %name, revision, "database dropped by another compute node");
                    }
                }
            }
            MetaChange::Table(db, name, Some(info)) => {
                let mut info = *info;
                let Some(logic) = dbs.get(&db) else {
                    tracing::warn!(database = %db, table = %name, "table of an unknown database from the cluster; ignored");
                    return false;
                };
                let existing = tables.get(&db);
                match resolve_nodes(logic, &name, &info, existing) {
                    Ok(nodes) => info.data_nodes = nodes,
                    Err(e) => {
                        tracing::warn!(database = %db, table = %name, error = %e, "table from the cluster does not fit; ignored");
                        return false;
                    }
                }
                let known = existing.is_some_and(|t| t.contains_key(&name));
                if !known {
                    // A new table (or a renamed one): its counter starts from the store.
                    self.sequences.forget(&db, &name);
                }
                tables
                    .entry(db.clone())
                    .or_default()
                    .insert(name.clone(), Arc::new(info));
                tracing::debug!(database = %db, table = %name, revision, "table metadata from another compute node");
            }
            MetaChange::Accounts | MetaChange::Pending(..) => {}
            MetaChange::View(db, name, view) => {
                if !dbs.contains_key(&db) {
                    tracing::warn!(database = %db, view = %name, "view of an unknown database from the cluster; ignored");
                    return false;
                }
                self.apply_remote_view(&db, &name, Some(*view));
                tracing::debug!(database = %db, view = %name, revision, "view from another compute node");
            }
            MetaChange::Table(db, name, None) => {
                if let Some(t) = tables.get_mut(&db) {
                    t.remove(&name);
                }
                self.apply_remote_view(&db, &name, None);
                self.sequences.forget(&db, &name);
                tracing::debug!(database = %db, table = %name, revision, "table dropped by another compute node");
            }
        }
        true
    }

    /// Another node's DDL on `db`.`table` announced (the fence marks it pending, then
    /// waits up to `ddl_ack_timeout_ms` for the statements in flight planned on it: the
    /// acknowledgement that follows tells that DDL it may change the data nodes) or
    /// ended.
    fn apply_pending(&self, revision: i64, db: &str, table: &str, announced: bool) {
        let Some(etcd) = self.store.etcd() else {
            return;
        };
        if etcd.is_own_revision(revision) {
            return;
        }
        let key = fenced_table(db, table);
        if !announced {
            self.fence.settle(&key, revision);
            return;
        }
        let holders = self
            .fence
            .announce(std::slice::from_ref(&key), revision, None);
        // No acknowledgement before they ended: past ddl_ack_timeout_ms the DDL puts this
        // node out, and a node out of the cluster interrupts them (the server's lapse
        // task), which ends this wait too.
        let deadline = Instant::now() + etcd.ack_timeout();
        let mut warned = false;
        while !self.fence.drained(&holders, std::slice::from_ref(&key)) {
            if self.fence.is_rejoining() {
                return;
            }
            if !warned && Instant::now() >= deadline {
                warned = true;
                tracing::warn!(database = db, table, revision, "statements planned on a table another compute node's DDL changes are still running past ddl_ack_timeout_ms; that DDL puts this node out of the cluster");
            }
            std::thread::sleep(DRAIN_POLL);
        }
    }

    /// Marks pending every DDL announced now (at start-up and after a reload, when
    /// the watch starts after those announcements).
    pub fn load_pending(&self) -> Result<(), CatalogError> {
        let Some(etcd) = self.store.etcd() else {
            return Ok(());
        };
        self.fence.clear_pending();
        for (db, table, revision) in etcd.list_pending()? {
            self.fence
                .announce(&[fenced_table(&db, &table)], revision, None);
        }
        Ok(())
    }

    /// Reads every database created at runtime and every table again from the store,
    /// replacing what this node knew (after its membership lapsed or its watch lost
    /// track); AUTO_INCREMENT segments held are given up.
    pub fn reload_stored(&self) -> Result<(), CatalogError> {
        let stored = self.store.list_databases()?;
        let mut dbs = self.write();
        let mut tables = self.tables_write();
        let dropped: Vec<String> = dbs
            .values()
            .filter(|d| d.origin == DbOrigin::Runtime)
            .map(|d| d.name.clone())
            .collect();
        for name in &dropped {
            dbs.remove(name);
        }
        for (name, meta) in stored {
            if from_config_name(&dbs, &name) {
                continue;
            }
            dbs.insert(name.clone(), Arc::new(runtime_db(name, meta)));
        }
        let loaded = load_tables(&self.store, &dbs)?;
        for db in tables.keys().chain(loaded.keys()) {
            self.sequences.forget_database(db);
        }
        *tables = loaded;
        self.reload_views(&dbs)?;
        tracing::info!(
            databases = dbs.len(),
            "catalog reloaded from the cluster store"
        );
        Ok(())
    }
}

fn from_config_name(dbs: &BTreeMap<String, Arc<LogicDb>>, name: &str) -> bool {
    dbs.get(name).is_some_and(|d| d.origin == DbOrigin::Config)
}
