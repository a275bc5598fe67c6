//! SQL SECURITY INVOKER views of databases over one data node. MariaDB runs such a view
//! with the rights of the account using it: a SELECT, INSERT, UPDATE or DELETE through
//! it needs that privilege on the tables it reads too (ER_VIEW_INVALID, 1356,
//! otherwise). On the storage node it runs with the storage account's rights, which may
//! do anything, so the session checks the client's account on the view's tables itself
//! (an INSERT on an invoker view would otherwise write a table the account may not).
//! Views Strata keeps (databases over several data nodes) cannot be INVOKER.

use std::collections::BTreeMap;

use strata_catalog::accounts::{Level, PrivSet};
use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::{Access, StatementKind};

use super::accounts::needed;
use super::isolation::sql_string;
use super::Session;

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
            let list: Vec<String> = names.iter().map(|n| sql_string(n)).collect();
            let text = format!(
                "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
                 WHERE TABLE_SCHEMA = {} AND TABLE_NAME IN ({}) AND SECURITY_TYPE = 'INVOKER'",
                sql_string(&physical),
                list.join(", ")
            );
            let (_, rows) = self.node_result(dnid, None, &text).await?;
            for row in rows {
                let mut cells = row.into_iter();
                let (Some(Some(name)), Some(Some(select))) = (cells.next(), cells.next()) else {
                    continue;
                };
                found.insert((db.clone(), name), (select, (dnid, physical.clone())));
            }
        }
        Ok(found)
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
