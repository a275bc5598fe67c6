//! EXPLAIN (and ANALYZE) of a statement that reads a view: the plan shows the view's
//! underlying tables, so MariaDB answers it only to an account holding SHOW VIEW on
//! the view and SELECT on each table it reads (ER_VIEW_NO_EXPLAIN, 1345, otherwise).
//! The storage server explains with Strata's storage account, which may do anything:
//! the session checks the client's account itself.

use strata_catalog::accounts::{Level, PrivSet};
use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::StatementKind;

use super::isolation::sql_string;
use super::Session;

/// ER_VIEW_NO_EXPLAIN.
const VIEW_NO_EXPLAIN: u16 = 1345;

/// The views one EXPLAIN is checked through at most.
const MAX_VIEWS: usize = 64;

/// The refusal of a plan that would show tables the account may not see.
fn no_explain() -> MysqlError {
    MysqlError {
        code: VIEW_NO_EXPLAIN,
        state: "HY000",
        message: "ANALYZE/EXPLAIN/SHOW can not be issued; lacking privileges for underlying table"
            .into(),
    }
}

/// A view's SELECT and the database its unqualified and physical names belong to.
struct Definition {
    select: String,
    /// The physical database the storage server qualified its names with, if the view
    /// is the storage server's (a catalog view is written with logical names).
    physical: Option<String>,
}

impl Session {
    /// Err 1345 when `sql` explains or analyzes a statement reading a view whose
    /// underlying tables the account may not see (checked after [`Self::authorize`]).
    pub(super) async fn authorize_explained_views(
        &mut self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<(), MysqlError> {
        // ANALYZE <statement> shows its plan too (MariaDB checks it as EXPLAIN).
        let analyze = || super::query::starts_with_word(sql, "ANALYZE");
        if (kind != StatementKind::Explain && !analyze())
            || self
                .identity
                .account
                .global
                .contains(PrivSet::all(Level::Database))
        {
            return Ok(());
        }
        let Some(inner) = strata_sql::explained_statement(sql) else {
            return Ok(());
        };
        let refs = strata_sql::table_references(inner, strata_sql::classify(inner)).refs;
        let current = self.state.db.clone();
        // The views to check: the statement's, then the views they read (MariaDB checks
        // every view it opens for the plan, a view of a view too).
        let mut pending: Vec<(String, String)> = Vec::new();
        for r in refs {
            if let Some(db) = r.schema.clone().or_else(|| current.clone()) {
                pending.push((db, r.name));
            }
        }
        let mut seen: Vec<(String, String)> = Vec::new();
        while let Some((db, name)) = pending.pop() {
            if db.eq_ignore_ascii_case("information_schema")
                || seen
                    .iter()
                    .any(|(d, n)| d.eq_ignore_ascii_case(&db) && n.eq_ignore_ascii_case(&name))
            {
                continue;
            }
            // A chain of views deeper than this cannot be told: refused, not answered.
            if seen.len() >= MAX_VIEWS {
                return Err(no_explain());
            }
            seen.push((db.clone(), name.clone()));
            let Some(view) = self.view_definition(&db, &name).await? else {
                continue;
            };
            let account = &self.identity.account;
            let mut allowed = account
                .table_privileges(&db, &name)
                .contains(PrivSet::of(Privilege::ShowView));
            let underlying = strata_sql::table_references(&view.select, StatementKind::Select);
            for u in &underlying.refs {
                if !allowed {
                    break;
                }
                let udb = match u.schema.as_deref() {
                    None => db.as_str(),
                    Some(s) if view.physical.as_deref() == Some(s) => db.as_str(),
                    Some(s) => s,
                };
                let select = PrivSet::of(Privilege::Select);
                allowed = account.table_privileges(udb, &u.name).contains(select);
                pending.push((udb.to_string(), u.name.clone()));
            }
            if !allowed || underlying.unknown {
                return Err(no_explain());
            }
        }
        Ok(())
    }

    /// The SELECT of view `db`.`name` (the catalog's, else the storage server's); None
    /// when it is not a view.
    async fn view_definition(
        &mut self,
        db: &str,
        name: &str,
    ) -> Result<Option<Definition>, MysqlError> {
        let topology = &self.ctx.topology;
        if let Some(view) = topology.catalog().view(db, name) {
            return Ok(Some(Definition {
                select: view.select.clone(),
                physical: None,
            }));
        }
        let Some(logical) = topology.db(db) else {
            return Ok(None);
        };
        let Some(&dnid) = logical.data_nodes.first() else {
            return Ok(None);
        };
        let Some(physical) = topology.physical(&logical, dnid) else {
            return Ok(None);
        };
        let physical = physical.to_string();
        let text = format!(
            "SELECT VIEW_DEFINITION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {}",
            sql_string(&physical),
            sql_string(name)
        );
        let (_, rows) = self.node_result(dnid, None, &text).await?;
        let select = rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten());
        Ok(select.map(|select| Definition {
            select,
            physical: Some(physical),
        }))
    }
}
