//! Views of databases over several data nodes, which Strata keeps in its catalog: the
//! session records CREATE/ALTER/DROP VIEW (planned as catalog changes; nothing runs on
//! a data node) with the session's account as definer, and answers `SHOW CREATE VIEW`
//! and the views' rows of `SHOW [FULL] TABLES` from the catalog. Reads of views are
//! planned like any read (the planner expands them).

use std::collections::BTreeMap;

use strata_catalog::ViewInfo;
use strata_planner::{CatalogChange, Plan, Planned};
use strata_protocol::{codes, MysqlError};
use strata_sql::ShowFilter;

use super::{Answer, Session};
use crate::results::{like_matches, LocalResult};

/// True for a view DDL plan: catalog changes, with at most a check run on a data node
/// (a plan that runs nothing on the data nodes is one too).
pub(super) fn is_view_ddl(planned: &Planned) -> bool {
    matches!(&planned.plan, Plan::Write(w) if w.parts.is_empty())
        || planned.catalog_changes.iter().any(|c| {
            matches!(
                c,
                CatalogChange::CreateView { .. } | CatalogChange::DropView { .. }
            )
        })
}

impl Session {
    /// `sql` with the views it reads expanded (planned statements expand them
    /// themselves; a statement prepared on a data node needs the expanded text).
    pub(super) fn expanded_views(&self, sql: &str) -> Result<Option<String>, MysqlError> {
        self.with_plan_context(None, |ctx, catalog| {
            strata_planner::expand_views(sql, ctx, catalog)
                .map_err(|e| super::planning::plan_error(&e))
        })
        .map_err(|f| self.fenced_error(&f))?
    }

    /// Applies CREATE/ALTER/DROP VIEW changes and answers OK (or MariaDB's error: 1050
    /// when another session created the name meanwhile, 4092 for DROP VIEW of views
    /// that do not exist — the others listed are dropped, as MariaDB does).
    pub(super) async fn view_ddl(&mut self, planned: &Planned, more: bool) -> Answer {
        // A new view's SELECT runs first with LIMIT 0 where its tables are, so the
        // columns and expressions MariaDB would check are checked.
        if let Plan::Route(check) = &planned.plan {
            let text = self.rewrite_schemas_for(&check.sql, Some(check.dnid));
            let physical = self.physical_of(check.dnid);
            if let Err(e) = self
                .node_result(check.dnid, physical.as_deref(), &text)
                .await
            {
                self.err(&e);
                return Answer::Failed;
            }
        }
        let changes = &planned.catalog_changes;
        let ctx = self.ctx.clone();
        let catalog = ctx.topology.catalog();
        let mut missing = Vec::new();
        for change in changes {
            match change {
                CatalogChange::CreateView {
                    db,
                    name,
                    view,
                    replace,
                } => {
                    let mut view = ViewInfo::clone(view);
                    // The account named by DEFINER, else the session's; ALTER VIEW
                    // without one keeps the view's definer, as MariaDB does.
                    let change = self.statement.definer.as_ref();
                    let kept = change
                        .filter(|c| c.ddl.verb == strata_sql::ObjectVerb::Alter)
                        .and_then(|_| catalog.view(db, name))
                        .map(|v| {
                            strata_sql::UserName::new(
                                v.definer_user.clone(),
                                v.definer_host.clone(),
                            )
                        });
                    let definer = change
                        .and_then(|c| c.definer.clone())
                        .or(kept)
                        .unwrap_or_else(|| self.own_definer());
                    view.definer_user = definer.user;
                    view.definer_host = definer.host;
                    if let Err(e) = catalog.create_view(db, name, view, *replace) {
                        tracing::info!(database = %db, view = %name, error = %e, "view not recorded");
                        let err = match e {
                            strata_catalog::CatalogError::Invalid(message) => MysqlError {
                                code: 1050,
                                state: "42S01",
                                message,
                            },
                            other => MysqlError::new(codes::UNKNOWN, other.to_string()),
                        };
                        self.err(&err);
                        return Answer::Failed;
                    }
                }
                CatalogChange::DropView {
                    db,
                    name,
                    if_exists,
                } => {
                    let dropped =
                        catalog.view(db, name).is_some() && catalog.drop_view(db, name).is_ok();
                    if !dropped && !if_exists {
                        missing.push(format!("{db}.{name}"));
                    }
                }
                other => {
                    tracing::error!(
                        ?other,
                        "a catalog-only plan with a change that is not a view's"
                    );
                }
            }
        }
        if !missing.is_empty() {
            self.err(&MysqlError {
                code: 4092,
                state: "42S02",
                message: format!("Unknown VIEW: '{}'", missing.join(",")),
            });
            return Answer::Failed;
        }
        self.ok(0, more);
        Answer::Ok
    }

    /// True when `table` (or the current database's table of that name) is a view.
    pub(super) fn names_a_view(&self, table: &strata_sql::ObjectName) -> bool {
        let db = table.schema.as_deref().or(self.state.db.as_deref());
        db.is_some_and(|db| self.ctx.topology.catalog().view(db, &table.name).is_some())
    }

    /// `SHOW CREATE VIEW` (and `SHOW CREATE TABLE` of a view) of a view in the catalog:
    /// MariaDB's four columns. None when `db`.`name` is not one (then the caller goes on).
    /// Needs the SHOW VIEW privilege on it, as MariaDB does.
    pub(super) fn show_create_view(
        &self,
        db: &str,
        name: &str,
    ) -> Option<Result<LocalResult, MysqlError>> {
        let view = self.ctx.topology.catalog().view(db, name)?;
        if let Err(e) = self.authorize_show_view(Some(db), name) {
            return Some(Err(e));
        }
        let mut result = LocalResult::text(&[
            "View",
            "Create View",
            "character_set_client",
            "collation_connection",
        ]);
        result.rows.push(vec![
            Some(name.to_string()),
            Some(view.create_statement(name)),
            Some(view.character_set_client.clone()),
            Some(view.collation_connection.clone()),
        ]);
        Some(Ok(result))
    }

    /// Adds the views of `db` to SHOW [FULL] TABLES rows (`Table_type` VIEW), filtered
    /// by the statement's LIKE, or by its WHERE evaluated on a data node over the
    /// views' rows (under the column names the client sees).
    pub(super) async fn add_views(
        &mut self,
        db: &str,
        full: bool,
        filter: Option<&ShowFilter>,
        rows: &mut BTreeMap<String, Vec<Option<String>>>,
    ) -> Result<(), MysqlError> {
        let views = self.ctx.topology.catalog().views(db);
        if views.is_empty() {
            return Ok(());
        }
        let mut names: Vec<String> = views.into_iter().map(|(n, _)| n).collect();
        match filter {
            Some(ShowFilter::Like(p)) => names.retain(|n| like_matches(p, n)),
            Some(ShowFilter::Where(w)) => names = self.views_where(db, &names, w).await?,
            None => {}
        }
        for name in names {
            let mut row = vec![Some(name.clone())];
            if full {
                row.push(Some("VIEW".into()));
            }
            rows.insert(name, row);
        }
        Ok(())
    }

    /// The view names of `names` for which SHOW TABLES' WHERE `condition` holds, asked
    /// of the home data node.
    async fn views_where(
        &mut self,
        db: &str,
        names: &[String],
        condition: &str,
    ) -> Result<Vec<String>, MysqlError> {
        let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
        let column = format!("`Tables_in_{}`", db.replace('`', "``"));
        let rows: Vec<String> = names
            .iter()
            .map(|n| format!("SELECT {} AS {column}, 'VIEW' AS `Table_type`", quote(n)))
            .collect();
        let sql = format!(
            "SELECT {column} FROM ({}) AS `views` WHERE {condition}",
            rows.join(" UNION ALL ")
        );
        let (dnid, physical) = self.home_node()?;
        let (_, result) = self.node_result(dnid, physical.as_deref(), &sql).await?;
        Ok(result
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect())
    }
}

/// `text` (a view's definition or a routine's, trigger's or event's text as a storage
/// node shows it) with each database qualifier that is the physical name of a logical
/// database (on any of its data nodes) replaced by the logical name, so storage names
/// never reach the client; a bare qualifier stays bare, so a body reads as written.
pub(super) fn logical_schemas(topology: &crate::context::Topology, text: &str) -> String {
    let dbs = topology.dbs();
    strata_sql::rewrite_schema_names_as_written(text, |name| {
        dbs.iter()
            .find(|db| {
                db.data_nodes
                    .iter()
                    .any(|&dnid| topology.physical(db, dnid).is_some_and(|p| *p == *name))
            })
            .filter(|db| db.name != name)
            .map(|db| db.name.clone())
    })
    .into_owned()
}

/// The rows Strata's views add to `information_schema.VIEWS` and `.TABLES` (as a
/// SELECT to append with UNION ALL, in MariaDB 10.11's column order), for the
/// databases (and tables) the account may see; None for other tables or no views.
/// The schema is the physical name, mapped back to the logical one with the rest.
pub(super) fn information_schema_rows(
    ctx: &crate::context::ServerContext,
    table: &str,
    visible: &[super::isolation::VisibleSchema],
) -> Option<String> {
    let views_table = table.eq_ignore_ascii_case("VIEWS");
    if !views_table && !table.eq_ignore_ascii_case("TABLES") {
        return None;
    }
    let catalog = ctx.topology.catalog();
    if !catalog.any_views() {
        return None;
    }
    let text = |v: &str| super::isolation::sql_string(v);
    let mut rows = Vec::new();
    for schema in visible {
        for (name, view) in catalog.views(&schema.logical) {
            if schema.tables.as_ref().is_some_and(|t| !t.contains(&name)) {
                continue;
            }
            let (schema_name, name) = (&schema.literal, text(&name));
            rows.push(if views_table {
                format!(
                    "SELECT 'def', {schema_name}, {name}, {}, {}, 'NO', {}, {}, {}, {}, {}",
                    text(&view.select),
                    text(view.check_option.as_deref().unwrap_or("NONE")),
                    text(&format!("{}@{}", view.definer_user, view.definer_host)),
                    text(&view.sql_security),
                    text(&view.character_set_client),
                    text(&view.collation_connection),
                    text(&view.algorithm),
                )
            } else {
                format!(
                    "SELECT 'def', {schema_name}, {name}, 'VIEW', NULL, NULL, NULL, NULL, NULL, \
                     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'VIEW', \
                     NULL, NULL"
                )
            });
        }
    }
    (!rows.is_empty()).then(|| rows.join(" UNION ALL "))
}
