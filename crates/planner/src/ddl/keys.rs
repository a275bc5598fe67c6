//! Unique keys of a CREATE or ALTER TABLE and the check that each includes the sharding column.

use super::*;

/// A column's type text and collation name for [`key_type_of`]: `COLLATE` names the
/// collation, `CHARACTER SET` gives its default one, and with the `BINARY` attribute
/// both go into the type text, which `KeyType::from_column_definition` reads as MariaDB
/// does (the binary collation of the column's, else the table's, character set).
pub(super) fn key_column_type<'o>(
    data_type: &sqlparser::ast::DataType,
    options: impl Iterator<Item = &'o ColumnOption>,
) -> (String, Option<String>) {
    let (mut collation, mut charset, mut binary) = (None, None, false);
    for o in options {
        match o {
            ColumnOption::Collation(c) => collation = Some(c.to_string().to_ascii_lowercase()),
            ColumnOption::CharacterSet(c) => charset = Some(c.to_string().to_ascii_lowercase()),
            o if crate::source::is_binary_attribute(o) => binary = true,
            _ => {}
        }
    }
    if !binary {
        let collation = collation.or_else(|| charset.map(|c| default_collation(&c)));
        return (data_type.to_string(), collation);
    }
    let mut text = data_type.to_string();
    if let Some(cs) = charset {
        text.push_str(&format!(" CHARACTER SET {cs}"));
    }
    text.push_str(" BINARY");
    (text, collation)
}

/// The change that forgets a table's recorded keys.
pub(super) fn forget_keys(table: &crate::scope::TableRef) -> CatalogChange {
    CatalogChange::ForgetUniqueKeys {
        db: table.db.clone(),
        name: table.name.clone(),
    }
}

/// The PRIMARY KEY and UNIQUE keys an ALTER TABLE operation adds.
pub(super) fn keys_added_by(op: &AlterTableOperation) -> Vec<UniqueKey> {
    let column_key = |column: &str, options: &mut dyn Iterator<Item = &ColumnOption>| {
        options
            .filter_map(|o| match o {
                ColumnOption::Unique { is_primary, .. } => {
                    Some(column_option_key(column, *is_primary))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    match op {
        AlterTableOperation::AddConstraint { constraint, .. } => {
            constraint_key(constraint).into_iter().collect()
        }
        AlterTableOperation::AddColumn { column_def, .. } => column_key(
            &column_def.name.value,
            &mut column_def.options.iter().map(|o| &o.option),
        ),
        AlterTableOperation::ModifyColumn {
            col_name, options, ..
        } => column_key(&col_name.value, &mut options.iter()),
        AlterTableOperation::ChangeColumn {
            new_name, options, ..
        } => column_key(&new_name.value, &mut options.iter()),
        _ => Vec::new(),
    }
}

/// Refuses keys a table spread over several data nodes cannot enforce: each node checks
/// a key only over its own rows, so a key must contain the column that places rows.
pub(super) fn check_new_keys(
    table: &crate::scope::TableRef,
    keys: &[UniqueKey],
) -> Result<(), PlanError> {
    check_keys(&table.name, &table.placement, keys)
}

/// [`check_new_keys`] for a placement (child tables: their joining column).
pub(super) fn check_keys(
    table: &str,
    placement: &Placement,
    keys: &[UniqueKey],
) -> Result<(), PlanError> {
    let Placement::Sharded { column, rule, .. } = placement else {
        return Ok(());
    };
    if rule.data_nodes.len() < 2 {
        return Ok(());
    }
    match violating_key(keys, column) {
        Some(key) => Err(PlanError::UniqueKeyWithoutShardingColumn {
            table: table.to_string(),
            key: key.clone(),
            column: column.clone(),
        }),
        None => Ok(()),
    }
}

/// The key a column-level `PRIMARY KEY` or `UNIQUE` declares (MySQL names a unique
/// index after its column).
pub(super) fn column_option_key(column: &str, is_primary: bool) -> UniqueKey {
    UniqueKey {
        name: if is_primary {
            UniqueKey::PRIMARY.to_string()
        } else {
            column.to_string()
        },
        columns: vec![column.to_string()],
    }
}

/// The key a table-level PRIMARY KEY or UNIQUE constraint declares.
pub(super) fn constraint_key(constraint: &TableConstraint) -> Option<UniqueKey> {
    match constraint {
        TableConstraint::PrimaryKey { columns, .. } => Some(UniqueKey {
            name: UniqueKey::PRIMARY.to_string(),
            columns: columns.iter().map(key_part).collect(),
        }),
        TableConstraint::Unique {
            name,
            index_name,
            columns,
            ..
        } => {
            let columns: Vec<String> = columns.iter().map(key_part).collect();
            // MySQL names the index by its index name, else the constraint's, else
            // after its first column.
            let name = index_name
                .as_ref()
                .or(name.as_ref())
                .map(|i| i.value.clone())
                .or_else(|| columns.first().cloned())
                .unwrap_or_default();
            Some(UniqueKey { name, columns })
        }
        _ => None,
    }
}

/// A key part as a column name; a prefix (`c(10)`) or expression keeps its text, which
/// never equals a column name.
pub(super) fn key_part(part: &IndexColumn) -> String {
    match &part.column.expr {
        Expr::Identifier(id) => id.value.clone(),
        Expr::CompoundIdentifier(ids) => ids.last().map(|i| i.value.clone()).unwrap_or_default(),
        other => other.to_string(),
    }
}

pub(super) fn same_key_type(
    data_type: &sqlparser::ast::DataType,
    options: &[ColumnOption],
    current: &KeyType,
    table: &crate::scope::TableRef,
    column: &str,
) -> Result<(), PlanError> {
    let current_collation = match current {
        KeyType::String { collation, .. } => Some(collation.as_str()),
        _ => None,
    };
    let (type_text, collation) = key_column_type(data_type, options.iter());
    // A string column redefined without its character set takes the table's default,
    // which may differ from the key's: then the key type changes (and rows would be
    // found on other nodes than the ones holding them).
    let table_default = table.info.table_collation.as_deref();
    let new = key_type_of(
        &type_text,
        collation.as_deref(),
        table_default.or(current_collation),
    )?;
    // A new width would clip stored keys (narrower) or let new rows route by values the
    // catalog's width clamps (wider). A key type whose width the catalog does not know
    // (recorded before widths were kept) compares without it, as it did then.
    let new = if current.has_width() {
        new
    } else {
        new.without_width()
    };
    if new != *current {
        // Between string types the difference may be the collation alone.
        let shown = match (&new, current) {
            (KeyType::String { collation, .. }, KeyType::String { .. }) => {
                format!("{type_text} COLLATE {collation}")
            }
            _ => type_text,
        };
        return Err(PlanError::unsupported(format!(
            "changing the type of the sharding column {}.{} to {shown}",
            table.name, column
        )));
    }
    let spread = table.placement.nodes().len() > 1;
    if spread
        && collation.is_none()
        && table_default.is_none()
        && matches!(new, KeyType::String { .. })
    {
        return Err(PlanError::unsupported(format!(
            "redefining the sharding column {}.{column} without its CHARACTER SET or COLLATE while the table's default collation is not known (name them)",
            table.name
        )));
    }
    Ok(())
}

/// True when the AUTO_INCREMENT `column` numbers rows per group: MyISAM and Aria take
/// its next value from the first key that holds it (primary, then unique, then other
/// keys), counting per value of the key's earlier parts when it is not the first
/// (`INDEX (a, b)`, `b` AUTO_INCREMENT: 1, 2 for each `a`).
pub(super) fn auto_increment_per_group(ct: &CreateTable, column: &str) -> bool {
    // Rank 0 primary, 1 unique, 2 other keys.
    let ranked = |c: &'_ TableConstraint| match c {
        TableConstraint::PrimaryKey { columns, .. } => Some((0, columns.clone())),
        TableConstraint::Unique { columns, .. } => Some((1, columns.clone())),
        TableConstraint::Index { columns, .. } => Some((2, columns.clone())),
        _ => None,
    };
    let inline = |primary: bool| {
        ct.columns.iter().any(|c| {
            c.name.value.eq_ignore_ascii_case(column)
                && c.options.iter().any(|o| {
                    matches!(o.option, ColumnOption::Unique { is_primary, .. } if is_primary == primary)
                })
        })
    };
    for rank in 0..3 {
        // A column-level PRIMARY KEY or UNIQUE is a key of that column alone.
        if rank < 2 && inline(rank == 0) {
            return false;
        }
        let position = ct
            .constraints
            .iter()
            .filter_map(ranked)
            .filter(|(r, _)| *r == rank)
            .find_map(|(_, parts)| {
                parts
                    .iter()
                    .map(key_part)
                    .position(|p| p.eq_ignore_ascii_case(column))
            });
        if let Some(at) = position {
            return at != 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse_one;

    fn per_group(sql: &str) -> bool {
        let Ok(Statement::CreateTable(ct)) = parse_one(sql) else {
            panic!("not a CREATE TABLE: {sql}");
        };
        auto_increment_per_group(&ct, "b")
    }

    #[test]
    fn a_columns_binary_attribute_makes_its_key_collation_binary() {
        let sql = "CREATE TABLE t (a CHAR(10) BINARY, b VARCHAR(5) CHARSET latin1 BINARY, \
                   c VARCHAR(5) CHARSET latin1, d CHAR(3) binary COLLATE utf8mb4_bin)";
        let Ok(Statement::CreateTable(ct)) = parse_one(sql) else {
            panic!("not a CREATE TABLE: {sql}");
        };
        let collations: Vec<String> = ct
            .columns
            .iter()
            .map(|c| {
                let (text, collation) =
                    key_column_type(&c.data_type, c.options.iter().map(|o| &o.option));
                match key_type_of(&text, collation.as_deref(), None) {
                    Ok(KeyType::String { collation, .. }) => collation,
                    other => panic!("{}: {other:?}", c.name),
                }
            })
            .collect();
        assert_eq!(
            collations,
            [
                "utf8mb4_bin",
                "latin1_bin",
                "latin1_swedish_ci",
                "utf8mb4_bin"
            ]
        );
        let (text, _) = key_column_type(&ct.columns[0].data_type, std::iter::empty());
        assert!(matches!(
            key_type_of(&text, None, Some("latin1")),
            Ok(KeyType::String { collation, .. }) if collation == "latin1_swedish_ci"
        ));
    }

    #[test]
    fn an_auto_increment_column_counts_per_group_only_behind_other_parts_of_its_first_key() {
        // main.ctype_latin1_de.
        assert!(per_group(
            "CREATE TABLE t (a CHAR(20) NOT NULL, b INT NOT NULL AUTO_INCREMENT, INDEX (a, b))"
        ));
        assert!(per_group(
            "CREATE TABLE t (a INT, b INT AUTO_INCREMENT, PRIMARY KEY (a, b), KEY (b))"
        ));
        assert!(!per_group(
            "CREATE TABLE t (a INT, b INT AUTO_INCREMENT PRIMARY KEY, KEY (a, b))"
        ));
        assert!(!per_group(
            "CREATE TABLE t (a INT, b INT AUTO_INCREMENT, PRIMARY KEY (b), KEY (a, b))"
        ));
        assert!(!per_group(
            "CREATE TABLE t (a INT, b INT AUTO_INCREMENT, KEY (a, b), UNIQUE KEY (b))"
        ));
        assert!(!per_group(
            "CREATE TABLE t (a INT, b INT AUTO_INCREMENT, KEY (b, a))"
        ));
    }
}
