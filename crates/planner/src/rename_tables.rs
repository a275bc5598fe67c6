//! RENAME TABLE of one or more pairs. MariaDB renames the pairs in order, so a later
//! pair may name what an earlier one freed or created (`t3 TO t4, t2 TO t3, t4 TO t2`
//! swaps two tables): the pairs are checked against the catalog as it will be after
//! the pairs before them, and each data node gets the pairs of the tables it holds.

use sqlparser::ast::{Ident, ObjectName, RenameTable, Statement};
use strata_catalog::DataNodeId;

use crate::ddl::{parts_plan, CatalogChange};
use crate::error::PlanError;
use crate::plan::NodeStatement;
use crate::scope::Resolver;
use crate::Planned;

type Name = (String, String);

/// Plans `RENAME TABLE pairs` (its text `text`).
pub(crate) fn plan_rename_tables(
    pairs: &[RenameTable],
    text: &str,
    resolver: &Resolver<'_>,
) -> Result<Planned, PlanError> {
    // (name now, name in the catalog) of each table an earlier pair renamed.
    let mut moved: Vec<(Name, Name)> = Vec::new();
    let mut per_node: Vec<(DataNodeId, Vec<RenameTable>)> = Vec::new();
    let mut changes = Vec::new();
    for pair in pairs {
        let current = resolver.names(&pair.old_name)?;
        let original = match moved.iter().find(|(now, _)| *now == current) {
            Some((_, original)) => original.clone(),
            None if moved.iter().any(|(_, original)| *original == current) => {
                return Err(PlanError::UnknownTable {
                    db: current.0,
                    table: current.1,
                });
            }
            None => current.clone(),
        };
        let table = resolver.table(&object_name(&original), None)?;
        let target = resolver.names(&pair.new_name)?;
        let taken_now = moved.iter().any(|(now, _)| *now == target);
        let renamed_away = moved
            .iter()
            .any(|(now, original)| *original == target && *now != target);
        let in_catalog = resolver.catalog.table(&target.0, &target.1).is_some();
        if taken_now || (in_catalog && !renamed_away) {
            return Err(PlanError::TableExists(target.1));
        }
        match moved.iter_mut().find(|(now, _)| *now == current) {
            Some(entry) => entry.0 = target.clone(),
            None => moved.push((target.clone(), original)),
        }
        changes.push(CatalogChange::RenameTable {
            db: current.0,
            name: current.1,
            new_db: target.0,
            new_name: target.1,
        });
        for n in table.placement.nodes() {
            match per_node.iter_mut().find(|(d, _)| *d == n) {
                Some((_, list)) => list.push(pair.clone()),
                None => per_node.push((n, vec![pair.clone()])),
            }
        }
    }
    per_node.sort_by_key(|(d, _)| *d);
    let parts: Vec<NodeStatement> = per_node
        .into_iter()
        .map(|(dnid, list)| NodeStatement {
            dnid,
            sql: if list.len() == pairs.len() {
                text.to_string()
            } else {
                Statement::RenameTable(list).to_string()
            },
        })
        .collect();
    Ok(Planned {
        plan: parts_plan(parts),
        insert_id: None,
        strata_numbers: false,
        catalog_changes: changes,
        notes: Vec::new(),
    })
}

fn object_name((db, table): &Name) -> ObjectName {
    ObjectName::from(vec![Ident::new(db), Ident::new(table)])
}
