//! Table records: looking them up, creating, dropping, renaming and updating them, and checking a distribution against its database.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Catalog, LogicDb, TableMap};
use crate::error::CatalogError;
use crate::load::validate_table_name;
use crate::sequence::counter_name;
use crate::sharding::Distribution;
use crate::store::MetadataStore;
use crate::table::TableInfo;
use crate::unique_keys::{unique_key_violations, KeyViolation, UniqueKey};
use crate::DataNodeId;

impl Catalog {
    /// The table `db`.`name` (both case-sensitive, as MariaDB on Linux).
    pub fn table(&self, db: &str, name: &str) -> Option<Arc<TableInfo>> {
        self.tables_read().get(db)?.get(name).cloned()
    }

    /// The tables of a database, sorted by name.
    pub fn tables(&self, db: &str) -> Vec<(String, Arc<TableInfo>)> {
        self.tables_read()
            .get(db)
            .map(|t| t.iter().map(|(n, i)| (n.clone(), Arc::clone(i))).collect())
            .unwrap_or_default()
    }

    /// Records a new table and persists it. Checks: the database exists, the name is
    /// valid and free, the distribution is valid and uses only the database's data nodes,
    /// a global table covers all of them, a child's parent exists in the same database
    /// and is sharded on the parent column. Fills in `data_nodes`.
    pub fn create_table(
        &self,
        db: &str,
        name: &str,
        info: TableInfo,
    ) -> Result<Arc<TableInfo>, CatalogError> {
        let dbs = self.read();
        let logic = dbs
            .get(db)
            .ok_or_else(|| CatalogError::UnknownDatabase(db.to_string()))?;
        validate_table_name(name).map_err(CatalogError::Invalid)?;
        let mut tables = self.tables_write();
        let existing = tables.get(db);
        if existing.is_some_and(|t| t.contains_key(name)) || self.is_view(db, name) {
            return Err(CatalogError::Invalid(format!(
                "Table '{name}' already exists"
            )));
        }
        let mut info = info;
        info.data_nodes = resolve_nodes(logic, name, &info, existing)?;
        if info.auto_increment_column.as_deref() == Some("") {
            return Err(CatalogError::Invalid(format!(
                "table '{db}.{name}': the AUTO_INCREMENT column name is empty"
            )));
        }
        self.store.insert_table(db, name, &info)?;
        let info = Arc::new(info);
        tables
            .entry(db.to_string())
            .or_default()
            .insert(name.to_string(), Arc::clone(&info));
        tracing::info!(database = %db, table = %name, kind = info.distribution.kind_name(), data_nodes = ?info.data_nodes, "table created");
        Ok(info)
    }

    /// Forgets a table: removes its record and its AUTO_INCREMENT counter (a new table of
    /// that name starts again at 1). A parent with child tables cannot be dropped.
    pub fn drop_table(&self, db: &str, name: &str) -> Result<(), CatalogError> {
        let _dbs = self.read();
        let mut tables = self.tables_write();
        let Some(db_tables) = tables.get_mut(db) else {
            return Err(unknown_table(db, name));
        };
        if !db_tables.contains_key(name) {
            return Err(unknown_table(db, name));
        }
        let children = children_of(db_tables, name);
        if !children.is_empty() {
            return Err(CatalogError::Invalid(format!(
                "table '{db}.{name}' is the parent of child table(s) {}; drop them first",
                children.join(", ")
            )));
        }
        self.store.drop_table(db, name)?;
        db_tables.remove(name);
        self.remove_counter(db, name);
        self.sequences.forget(db, name);
        tracing::info!(database = %db, table = %name, "table dropped");
        Ok(())
    }

    /// Renames a table within its database; child tables follow, and its AUTO_INCREMENT
    /// counter moves with it. Everything is persisted in one store transaction.
    pub fn rename_table(
        &self,
        db: &str,
        old: &str,
        new: &str,
    ) -> Result<Arc<TableInfo>, CatalogError> {
        let _dbs = self.read();
        validate_table_name(new).map_err(CatalogError::Invalid)?;
        let mut tables = self.tables_write();
        let Some(db_tables) = tables.get_mut(db) else {
            return Err(unknown_table(db, old));
        };
        let Some(info) = db_tables.get(old).cloned() else {
            return Err(unknown_table(db, old));
        };
        if db_tables.contains_key(new) || self.is_view(db, new) {
            return Err(CatalogError::Invalid(format!(
                "Table '{new}' already exists"
            )));
        }
        let children: Vec<(String, TableInfo)> = children_of(db_tables, old)
            .into_iter()
            .filter_map(|child| {
                let mut moved = TableInfo::clone(db_tables.get(&child)?);
                if let Distribution::Child { parent, .. } = &mut moved.distribution {
                    *parent = new.to_string();
                }
                Some((child, moved))
            })
            .collect();
        let rewritten: Vec<(&str, &TableInfo)> =
            children.iter().map(|(n, i)| (n.as_str(), i)).collect();
        let (from, to) = (counter_name(db, old), counter_name(db, new));
        self.sequences.forget(db, old);
        self.sequences.forget(db, new);
        self.store
            .rename_table(db, old, new, &info, &rewritten, Some((&from, &to)))?;
        db_tables.remove(old);
        db_tables.insert(new.to_string(), Arc::clone(&info));
        for (child, moved) in children {
            db_tables.insert(child, Arc::new(moved));
        }
        tracing::info!(database = %db, from = %old, to = %new, "table renamed");
        Ok(info)
    }

    /// Records (or, with None, forgets) a table's PRIMARY/UNIQUE keys.
    pub fn set_unique_keys(
        &self,
        db: &str,
        name: &str,
        keys: Option<Vec<UniqueKey>>,
    ) -> Result<(), CatalogError> {
        self.update_table(db, name, |info| info.unique_keys = keys)
    }

    /// Changes what the catalog knows of an existing table (not its distribution) and
    /// stores it; nothing is written when nothing changed.
    pub fn update_table(
        &self,
        db: &str,
        name: &str,
        change: impl FnOnce(&mut TableInfo),
    ) -> Result<(), CatalogError> {
        let _dbs = self.read();
        let mut tables = self.tables_write();
        let Some(current) = tables.get_mut(db).and_then(|t| t.get_mut(name)) else {
            return Err(unknown_table(db, name));
        };
        let mut info = TableInfo::clone(current);
        change(&mut info);
        if info == **current {
            return Ok(());
        }
        self.store.put_table(db, name, &info)?;
        *current = Arc::new(info);
        Ok(())
    }

    /// Every recorded key of a table spread over several data nodes that does not
    /// contain its sharding column (tables with unrecorded keys are not listed).
    pub fn unique_key_violations(&self) -> Vec<KeyViolation> {
        let tables = self.tables_read();
        unique_key_violations(tables.iter().flat_map(|(db, t)| {
            t.iter()
                .map(move |(name, info)| (db.as_str(), name.as_str(), info.as_ref()))
        }))
    }

    /// Removes a table's AUTO_INCREMENT counter; a failure only leaves the counter behind
    /// (a recreated table then continues above the old values, which is still correct).
    pub(super) fn remove_counter(&self, db: &str, table: &str) {
        if let Err(e) = self.store.remove_counter(&counter_name(db, table)) {
            tracing::warn!(database = %db, table = %table, error = %e, "AUTO_INCREMENT counter not removed");
        }
    }
}

pub(super) fn unknown_table(db: &str, name: &str) -> CatalogError {
    CatalogError::Invalid(format!("Unknown table '{db}.{name}'"))
}

/// Child tables whose parent is `parent`.
fn children_of(tables: &BTreeMap<String, Arc<TableInfo>>, parent: &str) -> Vec<String> {
    tables
        .iter()
        .filter(|(_, t)| matches!(&t.distribution, Distribution::Child { parent: p, .. } if p == parent))
        .map(|(n, _)| n.clone())
        .collect()
}

/// Checks a table's distribution against its database and returns its data nodes.
pub(super) fn resolve_nodes(
    db: &LogicDb,
    name: &str,
    info: &TableInfo,
    tables: Option<&BTreeMap<String, Arc<TableInfo>>>,
) -> Result<Vec<DataNodeId>, CatalogError> {
    let entry = format!("table '{}.{name}'", db.name);
    let bad = |reason: String| Err(CatalogError::Invalid(format!("{entry}: {reason}")));
    if let Err(e) = info.distribution.validate() {
        return bad(e.to_string());
    }
    let nodes = match &info.distribution {
        Distribution::Child {
            parent,
            parent_column,
            ..
        } => {
            let Some(parent_info) = tables.and_then(|t| t.get(parent)) else {
                return bad(format!("parent table '{parent}' does not exist"));
            };
            match &parent_info.distribution {
                Distribution::Sharded { column, .. } if column == parent_column => {}
                Distribution::Sharded { column, .. } => {
                    return bad(format!(
                        "parent_column must be the parent's sharding column '{column}'"
                    ))
                }
                other => {
                    return bad(format!(
                        "parent '{parent}' is a {} table; a parent must be sharded",
                        other.kind_name()
                    ))
                }
            }
            parent_info.data_nodes.clone()
        }
        other => other.data_nodes().unwrap_or_default(),
    };
    for dn in &nodes {
        if !db.data_nodes.contains(dn) {
            return bad(format!(
                "data node {dn} is not one of database '{}'s data nodes",
                db.name
            ));
        }
    }
    if let Distribution::Global { .. } = info.distribution {
        let mut all = db.data_nodes.clone();
        all.sort_unstable();
        if nodes != all {
            return bad(format!(
                "a global table must be on all of the database's data nodes {all:?}"
            ));
        }
    }
    Ok(nodes)
}

/// Loads the stored tables of every known database, resolving child tables' nodes.
pub(super) fn load_tables(
    store: &MetadataStore,
    dbs: &BTreeMap<String, Arc<LogicDb>>,
) -> Result<TableMap, CatalogError> {
    let mut all = TableMap::new();
    let mut problems = Vec::new();
    for (db_name, db) in dbs {
        let mut loaded: BTreeMap<String, Arc<TableInfo>> = BTreeMap::new();
        let stored = store.list_tables(db_name)?;
        // Parents first: a child's nodes are its parent's.
        let (children, others): (Vec<_>, Vec<_>) = stored
            .into_iter()
            .partition(|(_, m)| matches!(m.distribution, Distribution::Child { .. }));
        for (name, mut info) in others.into_iter().chain(children) {
            match resolve_nodes(db, &name, &info, Some(&loaded)) {
                Ok(nodes) => {
                    info.data_nodes = nodes;
                    loaded.insert(name, Arc::new(info));
                }
                Err(e) => problems.push(format!("{e} (stored table)")),
            }
        }
        if !loaded.is_empty() {
            all.insert(db_name.clone(), loaded);
        }
    }
    if problems.is_empty() {
        Ok(all)
    } else {
        Err(CatalogError::InvalidConfig { problems })
    }
}
