//! Column collations of tables spread over several data nodes, read from the data nodes.
//!
//! A result column's definition carries the connection's character set, not the column's
//! collation, so a merge across nodes cannot tell from the rows how MariaDB compares a
//! column's strings. The catalog records each string column's collation as
//! `information_schema.COLUMNS` on the first data node of the table reports it: after
//! CREATE/ALTER TABLE (before the statement's OK) and, for tables recorded before this or
//! whose read failed, at start-up in the background. The planner hands them to merges;
//! without them a merge falls back to the collations the CREATE TABLE text named. The
//! table's default collation is read with them: an ALTER redefining the sharding column
//! without its character set gives it that collation.

use std::collections::BTreeMap;

use tracing::warn;

use strata_catalog::DataNodeId;

use crate::context::ServerContext;

/// A table's collations as a data node reports them.
#[derive(Default)]
struct Collations {
    /// The table's default collation.
    table: Option<String>,
    /// Lowercase column name to collation name, string columns only.
    columns: BTreeMap<String, String>,
}

/// Collations by table.
type ByTable = BTreeMap<String, Collations>;

/// Reads and records the collations of one table; a failure is logged and leaves them
/// unrecorded (merges then use the fallback).
pub async fn refresh_table(ctx: &ServerContext, db: &str, name: &str) {
    let catalog = ctx.topology.catalog();
    let (Some(info), Some(logic)) = (catalog.table(db, name), catalog.logic_db(db)) else {
        return;
    };
    if info.data_nodes.len() < 2 {
        return;
    }
    let Some(&dnid) = info.data_nodes.first() else {
        return;
    };
    let Some(physical) = ctx.topology.physical(&logic, dnid) else {
        return;
    };
    match read(ctx, dnid, &physical, &[name.to_string()]).await {
        Ok(mut found) => record(ctx, db, name, found.remove(name).unwrap_or_default()),
        Err(e) => {
            warn!(table = %format!("{db}.{name}"), dnid = dnid.get(), error = %e, "cannot read the table's column collations; merges across data nodes use those its CREATE TABLE named")
        }
    }
}

/// Reads the collations of every table on several data nodes that has none recorded.
pub async fn record_missing(ctx: &ServerContext) {
    // Tables without collations, by the data node and physical database asked.
    let unknown = ctx.topology.tables_by_first_node(|info| {
        (info.column_collations.is_none() || info.table_collation.is_none())
            && info.data_nodes.len() >= 2
    });
    for ((dnid, physical), tables) in unknown {
        let names: Vec<String> = tables.iter().map(|(_, n)| n.clone()).collect();
        match read(ctx, dnid, &physical, &names).await {
            Ok(mut found) => {
                for (db, name) in tables {
                    // A table the node does not have keeps the fallback.
                    if let Some(columns) = found.remove(&name) {
                        record(ctx, &db, &name, columns);
                    }
                }
            }
            Err(e) => {
                warn!(dnid = dnid.get(), error = %e, "cannot read column collations from the data node; merges of its tables use those their CREATE TABLE named until the next start")
            }
        }
    }
}

fn record(ctx: &ServerContext, db: &str, name: &str, collations: Collations) {
    if let Err(e) = ctx.topology.catalog().update_table(db, name, |info| {
        info.column_collations = Some(collations.columns);
        info.table_collation = collations.table;
    }) {
        warn!(table = %format!("{db}.{name}"), error = %e, "cannot record the table's column collations");
    }
}

/// The string columns' collations of `tables` in `physical_db` on data node `dnid`.
async fn read(
    ctx: &ServerContext,
    dnid: DataNodeId,
    physical_db: &str,
    tables: &[String],
) -> Result<ByTable, String> {
    let node = ctx
        .topology
        .node(dnid)
        .ok_or_else(|| format!("data node {dnid} is not configured"))?;
    // Whatever the pooled connection's sql_mode: names may hold quotes and backslashes.
    let quote = crate::session::sql_string;
    let names: Vec<String> = tables.iter().map(|t| quote(t)).collect();
    let (schema, names) = (quote(physical_db), names.join(", "));
    // The table's own row has no column name.
    let sql = format!(
        "SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME IN ({names}) AND COLLATION_NAME IS NOT NULL \
         UNION ALL SELECT TABLE_NAME, NULL, TABLE_COLLATION FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME IN ({names})"
    );
    let mut lease = node.pool.acquire(None).await.map_err(|e| e.to_string())?;
    let rows = match lease.query(&sql).await {
        Ok(rows) => rows,
        Err(e) => {
            lease.mark_broken();
            return Err(e.to_string());
        }
    };
    drop(lease);
    let mut out = ByTable::new();
    for row in rows {
        let field = |i: usize| row.get(i).cloned().flatten();
        let (Some(table), Some(collation)) = (field(0), field(2)) else {
            continue;
        };
        let entry = out.entry(table).or_default();
        match field(1) {
            Some(column) => {
                entry.columns.insert(column.to_lowercase(), collation);
            }
            None => entry.table = Some(collation),
        }
    }
    Ok(out)
}
