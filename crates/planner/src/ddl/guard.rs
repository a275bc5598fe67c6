//! The guard of an ALTER TABLE or CREATE INDEX over several data nodes: the duplicate
//! checks of the PRIMARY KEY and UNIQUE keys it adds, and whether a partial failure may
//! be undone (see `crate::plan::DdlGuard`).

use super::*;
use crate::plan::{quote_ident, DdlGuard, UniqueCheck};

/// A DDL fan-out over `table`'s nodes that first checks `new_keys` for duplicates on
/// each node (when the table's rows are spread, not copied) and, when `undo`, may be
/// undone where it succeeded if it failed elsewhere.
pub(super) fn guarded_fan_out(
    table: &crate::scope::TableRef,
    text: String,
    new_keys: &[UniqueKey],
    undo: bool,
) -> Plan {
    let mut plan = fan_out(&table.placement.nodes(), text, WriteKind::DdlFanOut);
    if let Plan::Write(write) = &mut plan {
        let qualified = format!("{}.{}", quote_ident(&table.db), quote_ident(&table.name));
        let spread = !matches!(table.placement, Placement::Global { .. });
        let unique_checks = new_keys
            .iter()
            .filter(|k| spread && k.columns.iter().all(|c| is_plain_column(c)))
            .map(|k| UniqueCheck::new(&qualified, &k.name, &k.columns))
            .collect();
        write.guard = Some(DdlGuard {
            table: qualified,
            unique_checks,
            undo,
        });
    }
    plan
}

/// The keys an ALTER TABLE adds over columns the table already has (a key over a
/// column the same statement adds or renames cannot be checked before it exists).
pub(super) fn checkable_keys(operations: &[AlterTableOperation]) -> Vec<UniqueKey> {
    let new_columns: Vec<&str> = operations
        .iter()
        .filter_map(|op| match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                Some(column_def.name.value.as_str())
            }
            AlterTableOperation::ChangeColumn { new_name, .. } => Some(new_name.value.as_str()),
            _ => None,
        })
        .collect();
    operations
        .iter()
        .flat_map(keys_added_by)
        .filter(|k| !new_columns.iter().any(|c| k.contains(c)))
        .collect()
}

/// True for a key part that is a whole column: a prefix (`c(10)`) or an expression
/// keeps its text (see `key_part`), which a duplicate check cannot group by as is.
fn is_plain_column(part: &str) -> bool {
    !part.is_empty() && !part.contains(['(', ' '])
}
