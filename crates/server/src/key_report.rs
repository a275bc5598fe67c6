//! The start-up report of unique keys the data nodes cannot enforce: on a table spread
//! over several data nodes, a PRIMARY KEY or UNIQUE key without the sharding column is
//! checked by each node over its own rows only, so two rows with the same key can live on
//! two nodes. Strata refuses such keys since they were understood (error 1503); tables
//! created before that are found here and logged with `tracing::warn!`.
//!
//! Keys the catalog has not recorded (tables created before keys were recorded, or whose
//! keys an ALTER TABLE or CREATE/DROP INDEX may have changed) are read from
//! `information_schema.STATISTICS` on the first data node holding the table, one query
//! per data node, and recorded so later starts need no query. The check itself is
//! `Catalog::unique_key_violations`, a pure function the admin surface can call too.

use std::collections::BTreeMap;

use strata_catalog::unique_keys::distributing_column;
use strata_catalog::DataNodeId;
use strata_catalog::{KeyViolation, UniqueKey};
use tracing::warn;

use crate::context::ServerContext;

/// Reads the keys the catalog lacks, records them, and warns about every key that does
/// not contain its table's sharding column; returns those keys.
pub async fn report_unique_key_violations(ctx: &ServerContext) -> Vec<KeyViolation> {
    let catalog = ctx.topology.catalog();
    // Tables with unrecorded keys, by the data node asked about them and the physical
    // database there (a database made by CREATE DATABASE has its own).
    let unknown = ctx.topology.tables_by_first_node(|info| {
        info.unique_keys.is_none() && distributing_column(info).is_some()
    });
    for ((dnid, physical), tables) in unknown {
        let Some(keys) = read_unique_keys(ctx, dnid, &physical).await else {
            continue;
        };
        for (db, name) in tables {
            let found = keys.get(&name).cloned().unwrap_or_default();
            if let Err(e) = catalog.set_unique_keys(&db, &name, Some(found)) {
                warn!(table = %format!("{db}.{name}"), error = %e, "cannot record the table's unique keys");
            }
        }
    }
    let violations = catalog.unique_key_violations();
    for v in &violations {
        warn!(
            table = %format!("{}.{}", v.db, v.table),
            key = %v.key.describe(),
            sharding_column = %v.sharding_column,
            "unique key without the sharding column: each data node enforces it over its own rows only, so duplicate keys on different nodes are possible; include the sharding column in the key or reshard the table by a column of the key"
        );
    }
    violations
}

/// Every table's PRIMARY/UNIQUE keys in `physical_db` on data node `dnid`, or
/// None when the node cannot be asked now (a warning says so; the next start retries).
async fn read_unique_keys(
    ctx: &ServerContext,
    dnid: DataNodeId,
    physical_db: &str,
) -> Option<BTreeMap<String, Vec<UniqueKey>>> {
    let node = ctx.topology.node(dnid)?;
    let sql = format!(
        "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART \
         FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = {} AND NON_UNIQUE = 0 \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        crate::session::sql_string(physical_db)
    );
    let mut lease = match node.pool.acquire(None).await {
        Ok(l) => l,
        Err(e) => {
            warn!(dnid = dnid.get(), error = %e, "cannot read unique keys from the data node; the check of its tables waits for the next start");
            return None;
        }
    };
    let rows = match lease.query(&sql).await {
        Ok(rows) => rows,
        Err(e) => {
            warn!(dnid = dnid.get(), error = %e, "cannot read unique keys from the data node; the check of its tables waits for the next start");
            lease.mark_broken();
            return None;
        }
    };
    drop(lease);
    Some(keys_from_statistics(&rows))
}

/// Groups `information_schema.STATISTICS` rows (table, index, column, prefix length)
/// into keys; a prefix part is written `c(n)` and an expression part `(expression)`, so
/// neither counts as the column.
fn keys_from_statistics(rows: &[Vec<Option<String>>]) -> BTreeMap<String, Vec<UniqueKey>> {
    let mut out: BTreeMap<String, Vec<UniqueKey>> = BTreeMap::new();
    for row in rows {
        let field = |i: usize| row.get(i).cloned().flatten();
        let (Some(table), Some(index)) = (field(0), field(1)) else {
            continue;
        };
        let part = match (field(2), field(3)) {
            (Some(column), Some(prefix)) => format!("{column}({prefix})"),
            (Some(column), None) => column,
            (None, _) => "(expression)".to_string(),
        };
        let keys = out.entry(table).or_default();
        match keys.last_mut() {
            Some(k) if k.name == index => k.columns.push(part),
            _ => keys.push(UniqueKey {
                name: index,
                columns: vec![part],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[Option<&str>]) -> Vec<Option<String>> {
        fields.iter().map(|f| f.map(str::to_string)).collect()
    }

    #[test]
    fn statistics_rows_become_keys_with_prefixes_and_expressions_marked() {
        let rows = [
            row(&[Some("rm"), Some("PRIMARY"), Some("id"), None]),
            row(&[Some("rm"), Some("uk"), Some("k"), None]),
            row(&[Some("rm"), Some("uk"), Some("s"), Some("3")]),
            row(&[Some("u"), Some("fx"), None, None]),
        ];
        let keys = keys_from_statistics(&rows);
        let key = |name: &str, columns: &[&str]| UniqueKey {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        };
        assert_eq!(
            keys.get("rm"),
            Some(&vec![key("PRIMARY", &["id"]), key("uk", &["k", "s(3)"])])
        );
        assert_eq!(keys.get("u"), Some(&vec![key("fx", &["(expression)"])]));
    }
}
