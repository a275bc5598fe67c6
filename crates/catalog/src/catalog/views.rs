//! View records: looking them up, creating, replacing and dropping them. A view's name
//! is taken from the same namespace as the database's tables (MySQL's rule), which the
//! store enforces too: both live under one key per name.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLockWriteGuard};

use super::{Catalog, LogicDb};
use crate::error::CatalogError;
use crate::load::validate_table_name;
use crate::store::MetadataStore;
use crate::view::ViewInfo;

/// Views by database, then by name (both case-sensitive).
pub(super) type ViewMap = BTreeMap<String, BTreeMap<String, Arc<ViewInfo>>>;

/// The views' write lock; releasing it records whether any view is left, so the
/// planner's [`Catalog::any_views`] needs no lock.
pub(super) struct ViewsGuard<'a> {
    pub(super) guard: RwLockWriteGuard<'a, ViewMap>,
    pub(super) flag: &'a AtomicBool,
}

impl Deref for ViewsGuard<'_> {
    type Target = ViewMap;
    fn deref(&self) -> &ViewMap {
        &self.guard
    }
}

impl DerefMut for ViewsGuard<'_> {
    fn deref_mut(&mut self) -> &mut ViewMap {
        &mut self.guard
    }
}

impl Drop for ViewsGuard<'_> {
    fn drop(&mut self) {
        let any = self.guard.values().any(|v| !v.is_empty());
        self.flag.store(any, Ordering::Release);
    }
}

impl Catalog {
    /// False when no database has a view (one atomic read).
    pub fn any_views(&self) -> bool {
        self.has_views.load(Ordering::Acquire)
    }

    /// The view `db`.`name` (both case-sensitive, as MariaDB on Linux).
    pub fn view(&self, db: &str, name: &str) -> Option<Arc<ViewInfo>> {
        self.views_read().get(db)?.get(name).cloned()
    }

    /// The views of a database, sorted by name.
    pub fn views(&self, db: &str) -> Vec<(String, Arc<ViewInfo>)> {
        self.views_read()
            .get(db)
            .map(|v| v.iter().map(|(n, i)| (n.clone(), Arc::clone(i))).collect())
            .unwrap_or_default()
    }

    /// Records a view and persists it. A table of that name is MySQL's 1050 (`Table
    /// '..' already exists`), and so is an existing view unless `replace` (CREATE OR
    /// REPLACE, ALTER VIEW).
    pub fn create_view(
        &self,
        db: &str,
        name: &str,
        view: ViewInfo,
        replace: bool,
    ) -> Result<Arc<ViewInfo>, CatalogError> {
        let dbs = self.read();
        if !dbs.contains_key(db) {
            return Err(CatalogError::UnknownDatabase(db.to_string()));
        }
        validate_table_name(name).map_err(CatalogError::Invalid)?;
        let tables = self.tables_read();
        let mut views = self.views_write();
        let is_table = tables.get(db).is_some_and(|t| t.contains_key(name));
        let is_view = views.get(db).is_some_and(|v| v.contains_key(name));
        if is_table || (is_view && !replace) {
            return Err(CatalogError::Invalid(format!(
                "Table '{name}' already exists"
            )));
        }
        self.store.put_view(db, name, &view)?;
        let view = Arc::new(view);
        views
            .entry(db.to_string())
            .or_default()
            .insert(name.to_string(), Arc::clone(&view));
        tracing::info!(database = %db, view = %name, replaced = is_view, "view recorded");
        Ok(view)
    }

    /// Forgets a view and removes its record.
    pub fn drop_view(&self, db: &str, name: &str) -> Result<(), CatalogError> {
        let _dbs = self.read();
        let _tables = self.tables_read();
        let mut views = self.views_write();
        let known = views.get_mut(db).and_then(|v| v.remove(name)).is_some();
        if !known {
            return Err(CatalogError::Invalid(format!(
                "Unknown VIEW: '{db}.{name}'"
            )));
        }
        self.store.drop_table(db, name)?;
        tracing::info!(database = %db, view = %name, "view dropped");
        Ok(())
    }

    /// True when `db`.`name` is a view (for the table paths' name checks).
    pub(super) fn is_view(&self, db: &str, name: &str) -> bool {
        self.views_read()
            .get(db)
            .is_some_and(|v| v.contains_key(name))
    }

    /// Applies another compute node's view change (`None`: the name was dropped, which
    /// may have been a table's).
    pub(super) fn apply_remote_view(&self, db: &str, name: &str, view: Option<ViewInfo>) {
        let mut views = self.views_write();
        match view {
            Some(view) => {
                views
                    .entry(db.to_string())
                    .or_default()
                    .insert(name.to_string(), Arc::new(view));
            }
            None => {
                if let Some(v) = views.get_mut(db) {
                    v.remove(name);
                }
            }
        }
    }

    /// Forgets every view of a dropped database.
    pub(super) fn forget_views_of(&self, db: &str) {
        self.views_write().remove(db);
    }

    /// Replaces every view with what the store holds (after a full reload).
    pub(super) fn reload_views(
        &self,
        dbs: &BTreeMap<String, Arc<LogicDb>>,
    ) -> Result<(), CatalogError> {
        let loaded = load_views(&self.store, dbs)?;
        *self.views_write() = loaded;
        Ok(())
    }
}

/// Loads the stored views of every known database.
pub(super) fn load_views(
    store: &MetadataStore,
    dbs: &BTreeMap<String, Arc<LogicDb>>,
) -> Result<ViewMap, CatalogError> {
    let mut all = ViewMap::new();
    for db_name in dbs.keys() {
        let stored = store.list_views(db_name)?;
        if !stored.is_empty() {
            all.insert(
                db_name.clone(),
                stored.into_iter().map(|(n, v)| (n, Arc::new(v))).collect(),
            );
        }
    }
    Ok(all)
}
