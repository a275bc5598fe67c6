//! The guard of an ALTER TABLE or CREATE INDEX over several data nodes: the duplicate
//! checks of the PRIMARY KEY and UNIQUE keys it adds, and whether a partial failure may
//! be undone (see `crate::plan::DdlGuard`).

use super::*;
use crate::plan::{quote_ident, DdlGuard, DdlUndo, UniqueCheck};

/// A DDL fan-out over `table`'s nodes that first checks `new_keys` for duplicates on
/// each node (when the table's rows are spread, not copied) and is undone as `undo`
/// says where it succeeded if it failed elsewhere.
pub(super) fn guarded_fan_out(
    table: &crate::scope::TableRef,
    text: String,
    new_keys: &[NewKey],
    undo: DdlUndo,
) -> Plan {
    let mut plan = fan_out(&table.placement.nodes(), text, WriteKind::DdlFanOut);
    if let Plan::Write(write) = &mut plan {
        let qualified = qualified(&table.db, &table.name);
        let spread = !matches!(table.placement, Placement::Global { .. });
        let unique_checks = new_keys
            .iter()
            .filter(|n| spread && n.key.columns.iter().all(|c| is_plain_column(c)))
            .map(|n| UniqueCheck {
                taken: n.taken.clone(),
                ..UniqueCheck::new(&qualified, &n.key.name, &n.key.columns, n.unnamed)
            })
            .collect();
        write.guard = Some(DdlGuard {
            table: qualified,
            unique_checks,
            undo,
        });
    }
    plan
}

/// A PRIMARY KEY or UNIQUE key a statement adds.
pub(super) struct NewKey {
    /// The key (an unnamed one: named after its first column as written).
    pub key: UniqueKey,
    /// The statement leaves it unnamed.
    pub unnamed: bool,
    /// Key names the statement gives before it.
    pub taken: Vec<String>,
}

impl NewKey {
    /// A key the statement names.
    pub fn named(key: UniqueKey) -> NewKey {
        NewKey {
            key,
            unnamed: false,
            taken: Vec::new(),
        }
    }
}

/// The keys an ALTER TABLE adds over columns the table already has (a key over a
/// column the same statement adds or renames cannot be checked before it exists).
pub(super) fn checkable_keys(operations: &[AlterTableOperation]) -> Vec<NewKey> {
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
    let mut taken = Vec::new();
    let mut out = Vec::new();
    for op in operations {
        let (unnamed, index_name) = match op {
            AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                TableConstraint::Unique {
                    name, index_name, ..
                } => (name.is_none() && index_name.is_none(), None),
                TableConstraint::Index { name, columns, .. } => (
                    false,
                    name.as_ref()
                        .map(|n| n.value.clone())
                        .or_else(|| columns.first().map(key_part)),
                ),
                _ => (false, None),
            },
            // A column's own UNIQUE is named after the column.
            _ => (true, None),
        };
        for key in keys_added_by(op) {
            let unnamed = unnamed && !key.is_primary();
            taken.push(key.name.clone());
            if !new_columns.iter().any(|c| key.contains(c)) {
                out.push(NewKey {
                    taken: taken[..taken.len() - 1].to_vec(),
                    key,
                    unnamed,
                });
            }
        }
        taken.extend(index_name);
    }
    out
}

/// True for a key part that is a whole column: a prefix (`c(10)`) or an expression
/// keeps its text (see `key_part`), which a duplicate check cannot group by as is.
fn is_plain_column(part: &str) -> bool {
    !part.is_empty() && !part.contains(['(', ' '])
}

/// A table's name qualified with its logical database, quoted.
pub(super) fn qualified(db: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(db), quote_ident(name))
}

/// A CREATE TABLE fan-out that drops the new table where it was created when it failed
/// elsewhere (unless IF NOT EXISTS or OR REPLACE: a table may have been there).
pub(super) fn guarded_create(mut plan: Plan, ct: &CreateTable, db: &str, name: &str) -> Plan {
    if let Plan::Write(write) = &mut plan {
        if !ct.if_not_exists && !ct.or_replace {
            write.guard = Some(DdlGuard {
                table: qualified(db, name),
                unique_checks: Vec::new(),
                undo: DdlUndo::DropCreated,
            });
        }
    }
    plan
}
