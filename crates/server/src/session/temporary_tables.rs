//! The session's temporary tables in databases over several data nodes. MariaDB keeps
//! a temporary table on the one connection that created it, so the table lives on the
//! session's pinned connection to one data node; the session remembers where (an
//! overlay of the catalog, [`TemporaryTables`]) and the planner routes statements
//! naming it there, as a table on that node alone that shadows a permanent table of
//! the same name. Only the connection knows whether the table still exists, so a
//! failed statement that may have dropped some is checked against it.

use strata_catalog::DataNodeId;
use strata_planner::CatalogChange;
use strata_protocol::{codes, MysqlError};

use super::Session;

/// The session's temporary tables: (logical database, table) and the data node whose
/// pinned connection holds each.
#[derive(Default)]
pub(super) struct TemporaryTables {
    tables: Vec<(String, String, DataNodeId)>,
}

impl TemporaryTables {
    /// The node holding temporary table `db`.`name`.
    pub fn lookup(&self, db: &str, name: &str) -> Option<DataNodeId> {
        self.tables
            .iter()
            .find(|(d, n, _)| d == db && n == name)
            .map(|t| t.2)
    }

    /// Forgets them all (the connection holding them was reset, closed or lost).
    pub fn forget_all(&mut self) {
        self.tables.clear();
    }

    /// Records what a statement that succeeded created or dropped.
    pub fn apply(&mut self, change: &CatalogChange) {
        match change {
            CatalogChange::CreateTemporaryTable { db, name, dnid } => {
                self.forget(db, name);
                self.tables.push((db.clone(), name.clone(), *dnid));
            }
            CatalogChange::DropTemporaryTable { db, name } => self.forget(db, name),
            _ => {}
        }
    }

    fn forget(&mut self, db: &str, name: &str) {
        self.tables.retain(|(d, n, _)| !(d == db && n == name));
    }

    /// True when `change` records a permanent table's metadata under the name of one
    /// of these (ALTER, RENAME): it would land on the permanent table of that name.
    pub fn shadowed_change(&self, change: &CatalogChange) -> bool {
        let has = |db: &str, name: &str| self.tables.iter().any(|(d, n, _)| d == db && n == name);
        match change {
            CatalogChange::CreateTable { db, name, .. }
            | CatalogChange::DropTable { db, name }
            | CatalogChange::ForgetUniqueKeys { db, name }
            | CatalogChange::ReadColumnCollations { db, name, .. } => has(db, name),
            CatalogChange::RenameTable {
                db,
                name,
                new_db,
                new_name,
            } => has(db, name) || has(new_db, new_name),
            _ => false,
        }
    }
}

impl Session {
    /// Why a statement may not run on a scratch connection of its own (a query over
    /// copies of its tables): the session's state is not on it, nor its temporary
    /// tables (a plan reading them runs on the session's own connection instead; one
    /// that would copy them is refused).
    pub(super) fn scratch_refusal(
        &self,
        copies: &[strata_planner::TableCopy],
    ) -> Option<MysqlError> {
        let temporary = &self.backends.temporary;
        if copies
            .iter()
            .any(|c| temporary.lookup(&c.db, &c.table).is_some())
        {
            return Some(MysqlError::not_supported(
                "a query joining a temporary table with tables on other data nodes in this form (copy the rows into a temporary table first with INSERT ... SELECT)",
            ));
        }
        self.state_on_pinned_connection()
            .then(super::connection_state::state_spanning_nodes)
    }

    /// Before a planned statement runs: the metadata changes it would record of a
    /// temporary table's name are dropped (they belong to no catalog table), and a
    /// RENAME of one is refused (the session would have to follow it).
    pub(super) fn screen_temporary_changes(
        &self,
        planned: &mut strata_planner::Planned,
    ) -> Result<(), MysqlError> {
        let temporary = &self.backends.temporary;
        if planned
            .catalog_changes
            .iter()
            .any(|c| matches!(c, CatalogChange::RenameTable { .. }) && temporary.shadowed_change(c))
        {
            return Err(MysqlError::not_supported(
                "RENAME of a temporary table in a database over several data nodes",
            ));
        }
        planned
            .catalog_changes
            .retain(|c| !temporary.shadowed_change(c));
        Ok(())
    }

    /// Refuses a statement on data node `dnid` once the pinned connection that held the
    /// session's temporary tables there is gone (lost or broken): a new connection has
    /// none, and a permanent table of the same name would answer in their place. The
    /// session forgets them, as a reconnecting client finds them gone.
    pub(super) fn temporary_tables_lost(&mut self, dnid: DataNodeId) -> Result<(), MysqlError> {
        let held_here = self.backends.temporary.tables.iter().any(|t| t.2 == dnid);
        if !held_here {
            return Ok(());
        }
        self.backends.temporary.forget_all();
        Err(MysqlError::new(
            codes::NET_READ,
            format!("Lost the connection to data node {dnid} that held this session's temporary tables; they are gone"),
        ))
    }

    /// After a planned statement that created or dropped temporary tables: records
    /// them when it succeeded; when it failed, asks the connection which of the tables
    /// it meant to drop still exist (MariaDB drops the ones it knows before it reports
    /// the one it does not).
    pub(super) async fn note_temporary_changes(&mut self, changes: &[CatalogChange], ok: bool) {
        for change in changes {
            let CatalogChange::DropTemporaryTable { db, name } = change else {
                if ok {
                    self.backends.temporary.apply(change);
                }
                continue;
            };
            if ok || !self.temporary_table_exists(db, name).await {
                self.backends.temporary.apply(change);
            }
        }
    }

    /// True when the pinned connection still has temporary table `db`.`name` (or
    /// cannot say: then it is kept, and a later statement on a lost connection is
    /// refused by [`Session::temporary_tables_lost`]).
    async fn temporary_table_exists(&mut self, db: &str, name: &str) -> bool {
        let Some(dnid) = self.backends.temporary.lookup(db, name) else {
            return false;
        };
        let topo = &self.ctx.topology;
        let physical = topo.db(db).and_then(|logic| topo.physical(&logic, dnid));
        let physical = physical.as_deref().unwrap_or(db);
        let Some(mut lease) = self.backends.take(dnid) else {
            return true;
        };
        let text = format!(
            "SHOW CREATE TABLE {}.{}",
            super::dynamic::quote_ident(physical),
            super::dynamic::quote_ident(name)
        );
        let exists = match lease.query(&text).await {
            Ok(rows) => rows.iter().any(|r| {
                r.get(1)
                    .and_then(Option::as_deref)
                    .is_some_and(|c| c.starts_with("CREATE TEMPORARY TABLE"))
            }),
            Err(strata_backend::BackendError::Server(_)) => false,
            Err(_) => {
                lease.mark_broken();
                true
            }
        };
        self.finish(lease);
        exists
    }
}
