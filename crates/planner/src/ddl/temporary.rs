//! Temporary tables in a database over several data nodes: a temporary table lives on
//! one storage connection, so it is created whole on the data node whose connection
//! holds the session's state, and the session (not the catalog) remembers it. Named
//! later, it reads as a table on that node alone ([`CatalogView::temporary_table`]),
//! shadowing a permanent table of the same name as MariaDB's own resolution does.

use sqlparser::ast::{CreateTable, CreateTableLikeKind, ObjectName, Statement};
use strata_catalog::DataNodeId;

use super::changes::CatalogChange;
use super::distribution::select_on_one_node;
use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::insert::fan_out;
use crate::plan::{NodeStatement, Plan, WriteKind};
use crate::scope::Resolver;
use crate::Planned;

/// The data node a new temporary table of database `db` goes to: the one holding the
/// session's connection state when there is one, else the session's home, else the
/// database's first default node.
fn node_for(
    db: &str,
    resolver: &Resolver<'_>,
    catalog: &dyn CatalogView,
) -> Result<DataNodeId, PlanError> {
    let dbinfo = catalog
        .database(db)
        .ok_or_else(|| PlanError::UnknownDatabase(db.to_string()))?;
    if let Some(state) = catalog.temporary_node() {
        if dbinfo.data_nodes.contains(&state) {
            return Ok(state);
        }
        return Err(PlanError::unsupported(format!(
            "a temporary table in database {db}, which is not on data node {state} (where this session's temporary tables and other connection state are)"
        )));
    }
    if let Some(home) = resolver.home.filter(|h| dbinfo.data_nodes.contains(h)) {
        return Ok(home);
    }
    dbinfo
        .default_data_nodes
        .first()
        .or(dbinfo.data_nodes.first())
        .copied()
        .ok_or_else(|| PlanError::data_nodes("the database has no data node"))
}

/// CREATE TEMPORARY TABLE: the statement as sent, on one node. A LIKE must find its
/// table there; a SELECT reading rows elsewhere runs on the session's connection over
/// temporary copies of the tables it reads ([`crate::plan::Materialize`] with
/// `on_session`).
pub(super) fn plan_create(
    ct: &CreateTable,
    create_sql: String,
    resolver: &Resolver<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let (db, name) = resolver.names(&ct.name)?;
    let dnid = node_for(&db, resolver, catalog)?;
    if ct.or_replace {
        return Err(PlanError::unsupported(
            "CREATE OR REPLACE TEMPORARY TABLE in a database over several data nodes (DROP TEMPORARY TABLE it first)",
        ));
    }
    if let Some(like) = &ct.like {
        let (CreateTableLikeKind::Plain(l) | CreateTableLikeKind::Parenthesized(l)) = like;
        let source = resolver.table(&l.name, None)?;
        if !source.placement.nodes().contains(&dnid) {
            return Err(PlanError::unsupported(format!(
                "CREATE TEMPORARY TABLE ... LIKE a table that has no copy or shard on data node {dnid} (where this session's temporary tables are)"
            )));
        }
    }
    let mut plan = None;
    if let Some(query) = &ct.query {
        if select_on_one_node(query, &[dnid], resolver).is_err() {
            let refused = || {
                PlanError::unsupported(format!(
                    "CREATE TEMPORARY TABLE ... SELECT reading rows outside data node {dnid} (where this session's temporary tables are) in this form; create it, then INSERT ... SELECT"
                ))
            };
            let m = crate::materialize::create_table_select(
                &create_sql,
                query,
                dnid,
                true,
                ctx,
                catalog,
            )
            .ok_or_else(refused)?;
            // The copy of a table the new one is named after would stand in its way
            // (MariaDB reads the permanent table while it creates the temporary one).
            if m.copies_run(true).any(|c| c.db == db && c.table == name) {
                return Err(PlanError::unsupported(format!(
                    "CREATE TEMPORARY TABLE {name} ... SELECT reading rows of the permanent table {name} outside data node {dnid} (create it under another name, or create it, then INSERT ... SELECT)"
                )));
            }
            plan = Some(Plan::Materialize(m));
        }
    }
    Ok(Planned {
        plan: plan.unwrap_or_else(|| fan_out(&[dnid], create_sql, WriteKind::DdlFanOut)),
        insert_id: None,
        strata_numbers: false,
        catalog_changes: vec![CatalogChange::CreateTemporaryTable { db, name, dnid }],
        notes: Vec::new(),
    })
}

/// True when one of `names` is a temporary table of the session.
pub(super) fn names_any(
    names: &[ObjectName],
    resolver: &Resolver<'_>,
    catalog: &dyn CatalogView,
) -> bool {
    names.iter().any(|n| {
        resolver
            .names(n)
            .is_ok_and(|(db, t)| catalog.temporary_table(&db, &t).is_some())
    })
}

/// DROP [TEMPORARY] TABLE naming a temporary table (or DROP TEMPORARY TABLE of any):
/// sent as is to the node of the session's temporary tables, where MariaDB drops them
/// (or says which it does not know). A DROP TABLE that also names permanent tables is
/// refused: those live on other nodes and in the catalog.
pub(super) fn plan_drop(
    stmt: &Statement,
    names: &[ObjectName],
    if_exists: bool,
    temporary: bool,
    resolver: &Resolver<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let mut node = None;
    let mut changes = Vec::new();
    for name in names {
        let (db, table) = resolver.names(name)?;
        match catalog.temporary_table(&db, &table) {
            Some(dnid) => {
                if node.is_some_and(|n| n != dnid) {
                    return Err(PlanError::unsupported(
                        "DROP TABLE of temporary tables on several data nodes",
                    ));
                }
                node = Some(dnid);
                changes.push(CatalogChange::DropTemporaryTable { db, name: table });
            }
            None if temporary => {
                // Not the session's: MariaDB answers for it (an error, or a note under
                // IF EXISTS) on the node of the session's temporary tables.
                if !if_exists {
                    return Err(PlanError::UnknownDropTable { db, table });
                }
            }
            None => {
                return Err(PlanError::unsupported(
                    "DROP TABLE of temporary and permanent tables together in a database over several data nodes (drop them in separate statements)",
                ));
            }
        }
    }
    let dnid = match node {
        Some(n) => n,
        None => {
            let db = resolver.db.map(str::to_string);
            match db {
                Some(db) => node_for(&db, resolver, catalog)?,
                None => resolver.home.ok_or(PlanError::NoDatabase)?,
            }
        }
    };
    Ok(Planned {
        plan: super::parts_plan(vec![NodeStatement {
            dnid,
            sql: stmt.to_string(),
        }]),
        insert_id: None,
        strata_numbers: false,
        catalog_changes: changes,
        notes: Vec::new(),
    })
}
