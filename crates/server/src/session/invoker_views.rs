//! SQL SECURITY INVOKER views of databases over one data node. MariaDB runs such a view
//! with the rights of the account using it: a SELECT, INSERT, UPDATE or DELETE through
//! it needs that privilege on the tables it reads too (ER_VIEW_INVALID, 1356,
//! otherwise). On the storage node it runs with the storage account's rights, which may
//! do anything, so the session checks the client's account on the view's tables itself
//! (an INSERT on an invoker view would otherwise write a table the account may not).
//! Views Strata keeps (databases over several data nodes) cannot be INVOKER.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_catalog::accounts::{Level, PrivSet};
use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::{Access, StatementKind};

use super::accounts::needed;
use super::isolation::sql_string;
use super::Session;

/// Bumped by every statement of this process that may create, change or drop a view:
/// the sessions' lists of invoker views are read again.
static DDL_EPOCH: AtomicU64 = AtomicU64::new(0);

/// How long a session trusts its list of a database's invoker views without a DDL
/// statement of this compute node (another compute node's is seen after this long).
const FRESH_FOR: Duration = Duration::from_secs(1);

/// A session's lists of invoker views, per data node and physical database.
#[derive(Default)]
pub(super) struct InvokerCache {
    entries: HashMap<(DataNodeId, String), CachedViews>,
}

/// One database's invoker views as read at `at`.
struct CachedViews {
    at: Instant,
    epoch: u64,
    views: Arc<BTreeMap<String, String>>,
}

/// Statements of `kind` may create, alter or drop a view (a routine's body, dynamic or
/// compound SQL too): every session reads its lists of invoker views again.
pub(super) fn note_statement(kind: StatementKind) {
    use StatementKind as K;
    let plain = matches!(
        kind,
        K::Select
            | K::Insert
            | K::Update
            | K::Delete
            | K::Replace
            | K::Show
            | K::Set
            | K::Use
            | K::Begin
            | K::Commit
            | K::Rollback
            | K::Explain
            | K::Do
    );
    if !plain {
        DDL_EPOCH.fetch_add(1, Ordering::AcqRel);
    }
}

/// ER_VIEW_INVALID.
const VIEW_INVALID: u16 = 1356;

/// How deep views over invoker views are followed (MariaDB's own limit on nested views
/// is far higher, but a deeper chain is refused rather than left unchecked).
const MAX_DEPTH: usize = 16;

/// A table a statement (or a view it uses) touches, with the view of the statement it
/// was reached through (named in the 1356).
struct Touched {
    /// Logical database.
    db: String,
    /// Table or view name.
    name: String,
    /// What is done with it.
    access: Access,
    /// The statement's own view this table is under, as `db.view`; None for the
    /// statement's own tables.
    via: Option<String>,
}

/// MariaDB's 1356 for view `view` (`db.name`).
fn view_invalid(view: &str) -> MysqlError {
    MysqlError {
        code: VIEW_INVALID,
        state: "HY000",
        message: format!(
            "View '{view}' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them"
        ),
    }
}

impl Session {
    /// Err 1356 when `sql` uses an SQL SECURITY INVOKER view reading or writing a table
    /// the account may not read or write that way (checked after [`Self::authorize`],
    /// which checked the view itself). One lookup per data node and level of views,
    /// for accounts without every privilege only.
    pub(super) async fn authorize_invoker_views(
        &mut self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<(), MysqlError> {
        if self
            .identity
            .account
            .global
            .contains(PrivSet::all(Level::Database))
        {
            return Ok(());
        }
        // What PREPARE or EXECUTE IMMEDIATE of a literal will run is checked now, and
        // what EXPLAIN or ANALYZE names as the statement would be.
        let dynamic = strata_sql::guard::dynamic_statement_text(sql, kind);
        let (sql, kind) = match &dynamic {
            Some(inner) => (inner.as_str(), strata_sql::classify(inner)),
            None => (sql, kind),
        };
        let (sql, kind) = match strata_sql::explained_statement(sql) {
            Some(inner) => (inner, strata_sql::classify(inner)),
            None => (sql, kind),
        };
        let kind = if kind == StatementKind::Show {
            StatementKind::Select
        } else {
            kind
        };
        let current = self.state.db.clone();
        let mut touched: Vec<Touched> = strata_sql::table_references(sql, kind)
            .refs
            .into_iter()
            .filter_map(|r| {
                let db = r.schema.clone().or_else(|| current.clone())?;
                Some(Touched {
                    db,
                    name: r.name,
                    access: r.access,
                    via: None,
                })
            })
            .collect();
        // A write whose WHERE or ORDER BY reads columns reads them through the view's
        // tables too: SELECT on them, as MariaDB (its assigned values need none there).
        let reads_columns = touched.iter().any(|t| t.access != Access::Select)
            && strata_sql::code_tokens(sql)
                .any(|t| t.is_keyword(sql, "WHERE") || t.is_keyword(sql, "ORDER"))
            && strata_planner::first_column_read(sql).is_some();
        for _ in 0..MAX_DEPTH {
            if touched.is_empty() {
                return Ok(());
            }
            let views = self.invoker_definitions(&touched).await?;
            let mut next = Vec::new();
            for t in &touched {
                let Some((select, (dnid, _))) = views.get(&(t.db.clone(), t.name.clone())) else {
                    continue;
                };
                let via = t
                    .via
                    .clone()
                    .unwrap_or_else(|| format!("{}.{}", t.db, t.name));
                // A write through the view writes its tables; a read reads them.
                let need = match t.access {
                    Access::Select | Access::SelectInsert => PrivSet::of(Privilege::Select),
                    Access::Insert
                    | Access::Update
                    | Access::Delete
                    | Access::Replace
                    | Access::InsertUpdate
                    | Access::DeleteHistory
                        if reads_columns =>
                    {
                        needed(t.access) | PrivSet::of(Privilege::Select)
                    }
                    Access::Insert
                    | Access::Update
                    | Access::Delete
                    | Access::Replace
                    | Access::InsertUpdate
                    | Access::DeleteHistory => needed(t.access),
                    // DDL and the like act on the view itself, checked already.
                    _ => continue,
                };
                let underlying = strata_sql::table_references(select, StatementKind::Select);
                let account = &self.identity.account;
                if underlying.unknown && !account.database_privileges(&t.db).contains(need) {
                    return Err(view_invalid(&via));
                }
                for u in underlying.refs {
                    let db = match u.schema.as_deref() {
                        None => t.db.clone(),
                        Some(s) => self.logical_of_physical(*dnid, s),
                    };
                    if db.eq_ignore_ascii_case("information_schema") {
                        continue;
                    }
                    if !account.table_privileges(&db, &u.name).contains(need) {
                        return Err(view_invalid(&via));
                    }
                    next.push(Touched {
                        db,
                        name: u.name,
                        access: t.access,
                        via: Some(via.clone()),
                    });
                }
            }
            touched = next;
        }
        // Deeper than followed: refuse rather than leave a level unchecked.
        match touched.first().and_then(|t| t.via.clone()) {
            Some(via) => Err(view_invalid(&via)),
            None => Ok(()),
        }
    }

    /// The SELECTs of the invoker views among `touched` (tables of databases over one
    /// data node), by (logical database, name), with the data node and physical
    /// database their names are qualified with.
    async fn invoker_definitions(
        &mut self,
        touched: &[Touched],
    ) -> Result<BTreeMap<(String, String), (String, (DataNodeId, String))>, MysqlError> {
        // Per data node and physical database: (physical name, logical db, names).
        let mut wanted: BTreeMap<(DataNodeId, String), (String, Vec<String>)> = BTreeMap::new();
        for t in touched {
            if t.db.eq_ignore_ascii_case("information_schema") {
                continue;
            }
            let topology = &self.ctx.topology;
            let Some(logical) = topology.db(&t.db) else {
                continue;
            };
            let [dnid] = logical.data_nodes[..] else {
                continue;
            };
            let Some(physical) = topology.physical(&logical, dnid) else {
                continue;
            };
            let entry = wanted
                .entry((dnid, physical.to_string()))
                .or_insert_with(|| (t.db.clone(), Vec::new()));
            if !entry.1.contains(&t.name) {
                entry.1.push(t.name.clone());
            }
        }
        let mut found = BTreeMap::new();
        for ((dnid, physical), (db, names)) in wanted {
            let views = self.invoker_views_of(dnid, &physical).await?;
            for name in names {
                if let Some(select) = views.get(&name) {
                    found.insert(
                        (db.clone(), name),
                        (select.clone(), (dnid, physical.clone())),
                    );
                }
            }
        }
        Ok(found)
    }

    /// The invoker views of `physical` on `dnid` (name → SELECT): the session's copy
    /// while it is fresh, else read again (one query for the whole database).
    async fn invoker_views_of(
        &mut self,
        dnid: DataNodeId,
        physical: &str,
    ) -> Result<Arc<BTreeMap<String, String>>, MysqlError> {
        let key = (dnid, physical.to_string());
        let epoch = DDL_EPOCH.load(Ordering::Acquire);
        if let Some(cached) = self.backends.invoker_views.entries.get(&key) {
            if cached.epoch == epoch && cached.at.elapsed() < FRESH_FOR {
                return Ok(Arc::clone(&cached.views));
            }
        }
        let text = format!(
            "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = {} AND SECURITY_TYPE = 'INVOKER'",
            sql_string(physical)
        );
        // On a connection of its own where it can: the statement's warnings number
        // rows from the previous statement on the session's connection.
        let rows = self.detached_rows(dnid, &text).await?;
        let views: BTreeMap<String, String> = rows
            .into_iter()
            .filter_map(|row| {
                let mut cells = row.into_iter();
                match (cells.next(), cells.next()) {
                    (Some(Some(name)), Some(Some(select))) => Some((name, select)),
                    _ => None,
                }
            })
            .collect();
        let views = Arc::new(views);
        self.backends.invoker_views.entries.insert(
            key,
            CachedViews {
                at: Instant::now(),
                epoch,
                views: Arc::clone(&views),
            },
        );
        Ok(views)
    }

    /// Once a statement ended: what it changed is read again by every session (a view
    /// read between its start and its end would stay cached with the new epoch).
    pub(super) fn note_views_changed(&self) {
        if let Some(kind) = self.statement.kind {
            note_statement(kind);
        }
    }

    /// The logical database whose physical database on data node `dnid` is `physical`
    /// (itself when none is: a name the storage server qualified with is then kept).
    fn logical_of_physical(&self, dnid: DataNodeId, physical: &str) -> String {
        let topology = &self.ctx.topology;
        topology
            .dbs()
            .into_iter()
            .find(|db| {
                db.data_nodes.contains(&dnid)
                    && topology.physical(db, dnid).as_deref() == Some(physical)
            })
            .map(|db| db.name.clone())
            .unwrap_or_else(|| physical.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_definition_names_its_tables() {
        let select =
            "select `meow`.`table_target3`.`mexs_id` AS `mexs_id` from `meow`.`table_target3`";
        let refs = strata_sql::table_references(select, StatementKind::Select).refs;
        let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["table_target3"]);
        assert_eq!(refs[0].schema.as_deref(), Some("meow"));
    }

    #[test]
    fn the_error_is_mariadbs() {
        let e = view_invalid("meow.v");
        assert_eq!(e.code, 1356);
        assert!(e
            .message
            .starts_with("View 'meow.v' references invalid table(s)"));
    }
}
