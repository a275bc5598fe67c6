//! Tables of MariaDB's Sequence engine, which exist in every database without a CREATE.
//!
//! MariaDB answers `seq_<from>_to_<to>[_step_<n>]` in any database on every server with
//! the same rows, and refuses to write them: over several data nodes they are global
//! tables present on every data node of the database. A table the catalog knows by such
//! a name shadows it (as a real table does in MariaDB).

use std::sync::Arc;

use strata_catalog::sharding::Distribution;
use strata_catalog::unique_keys::UniqueKey;
use strata_sql::{Access, StatementKind};

use crate::catalog_view::{CatalogView, TableInfo};
use crate::context::PlanContext;
use crate::error::PlanError;

/// `seq_1_to_10000` or `seq_1_to_100_step_2`: a table MariaDB's Sequence engine makes up
/// in any database (main.cset_narrowing). MariaDB matches the name with its case
/// (`SEQ_1_TO_3` is 1146 on Linux); leading zeros are fine.
pub(crate) fn is_sequence_engine_table(name: &str) -> bool {
    let numbers = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = name.strip_prefix("seq_") else {
        return false;
    };
    let (range, step) = match rest.split_once("_step_") {
        Some((range, step)) => (range, Some(step)),
        None => (rest, None),
    };
    range
        .split_once("_to_")
        .is_some_and(|(from, to)| numbers(from) && numbers(to))
        && step.is_none_or(numbers)
}

/// The Sequence engine's table `db`.`name` as a global table on every data node of the
/// database; None when the name is not one, the database is unknown, or the catalog
/// has a table or view of that name (which shadows it).
pub(crate) fn table(catalog: &dyn CatalogView, db: &str, name: &str) -> Option<Arc<TableInfo>> {
    if !is_sequence_engine_table(name)
        || catalog.table(db, name).is_some()
        || catalog.view(db, name).is_some()
    {
        return None;
    }
    let data_nodes = catalog.database(db)?.data_nodes;
    let mut info = TableInfo::new(Distribution::Global { data_nodes }).with_columns(&["seq"]);
    // One BIGINT UNSIGNED column, the primary key; no strings to collate.
    info.column_collations = Some(Default::default());
    info.unique_keys = Some(vec![UniqueKey {
        name: UniqueKey::PRIMARY.to_string(),
        columns: vec!["seq".to_string()],
    }]);
    Some(Arc::new(info))
}

/// The catalog's table `db`.`name`, or the Sequence engine's table of that name.
pub(crate) fn catalog_or_sequence_table(
    catalog: &dyn CatalogView,
    db: &str,
    name: &str,
) -> Option<Arc<TableInfo>> {
    catalog.table(db, name).or_else(|| table(catalog, db, name))
}

/// Refuses a statement that writes or changes a Sequence engine table: MariaDB's 1031
/// for rows written (INSERT, REPLACE, UPDATE, DELETE, TRUNCATE, LOAD DATA), 1050 for a
/// new table or view of such a name, 1235 for the other DDL and LOCK TABLES, which
/// Strata does not carry to every node for such a table.
pub(crate) fn refuse_writes(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<(), PlanError> {
    // Cheap test first: this runs for every statement.
    if !sql.contains("seq_") {
        return Ok(());
    }
    let kind = strata_sql::classify(sql);
    for r in strata_sql::table_references(sql, kind).refs {
        if matches!(r.access, Access::Select | Access::Any) {
            continue;
        }
        let Some(db) = r.schema.as_deref().or(ctx.db) else {
            continue;
        };
        // A database on one data node forwards it whole: that node answers as MariaDB.
        match table(catalog, db, &r.name) {
            Some(info) if info.data_nodes.len() > 1 => {}
            _ => continue,
        }
        let rows = matches!(
            r.access,
            Access::Insert
                | Access::InsertUpdate
                | Access::Update
                | Access::Delete
                | Access::Replace
                | Access::DeleteHistory
        ) || (r.access == Access::Drop && kind == StatementKind::Truncate);
        // MariaDB keeps these names for the engine: a new table or view of one is 1050
        // (IF NOT EXISTS and OR REPLACE would need the nodes' own answer).
        if matches!(
            r.access,
            Access::Create | Access::CreateInsert | Access::CreateView | Access::CreateTemporary
        ) && !creates_conditionally(sql)
        {
            return Err(PlanError::TableExists(r.name));
        }
        if rows {
            return Err(PlanError::Statement {
                code: 1031,
                sqlstate: "HY000",
                message: format!(
                    "Storage engine SEQUENCE of the table `{db}`.`{}` doesn't have this option",
                    r.name
                ),
            });
        }
        return Err(PlanError::unsupported(format!(
            "this statement on the Sequence engine's table '{}' in a database over several data nodes",
            r.name
        )));
    }
    Ok(())
}

/// True when a CREATE says `IF NOT EXISTS` or `OR REPLACE`.
fn creates_conditionally(sql: &str) -> bool {
    let code: Vec<strata_sql::Token> = strata_sql::code_tokens(sql).collect();
    code.windows(2).any(|w| {
        (w[0].is_keyword(sql, "NOT") && w[1].is_keyword(sql, "EXISTS"))
            || (w[0].is_keyword(sql, "OR") && w[1].is_keyword(sql, "REPLACE"))
    })
}

#[cfg(test)]
mod tests {
    use super::is_sequence_engine_table;

    #[test]
    fn sequence_engine_names_are_recognised() {
        assert!(is_sequence_engine_table("seq_1_to_10000"));
        assert!(is_sequence_engine_table("seq_0_to_9_step_3"));
        assert!(is_sequence_engine_table("seq_01_to_3"));
        assert!(!is_sequence_engine_table("SEQ_0_to_9_step_3"));
        assert!(!is_sequence_engine_table("seq_a_to_b"));
        assert!(!is_sequence_engine_table("seq_1_to_"));
        assert!(!is_sequence_engine_table("seq_1_to_3_step_2_x"));
        assert!(!is_sequence_engine_table("sequence"));
    }
}
