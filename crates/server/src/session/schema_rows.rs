//! The rows of an information_schema table about databases' objects (TABLES, COLUMNS,
//! ROUTINES, SCHEMATA, ...) a client may see: those of its logical databases (by
//! physical name; the caller maps them back), or, for a stored object or prepared
//! statement of an account that sees every database on storage servers serving this
//! Strata alone, every database but the storage servers' own, so that a database
//! created later is listed when it runs (a list written in at definition would miss
//! it).

use strata_sql::SchemaPolicy;

use super::isolation::{sql_string, VisibleSchema, TABLE_NAME_TABLES};
use super::Session;

impl Session {
    /// True when a stored body or prepared statement over information_schema may list
    /// databases when it runs instead of those of its definition: storage servers
    /// serving this Strata alone (`settable`), physical names the logical ones, an
    /// account that sees every database (global SELECT), and no `SQL SECURITY INVOKER`
    /// (whose reader may see fewer).
    pub(super) fn lists_databases_when_run(&self, sql: &str) -> bool {
        self.ctx.private_schemas.server_data_tables()
            && !self.ctx.topology.names_differ
            && self.has_global(strata_sql::account::Privilege::Select)
            && !strata_sql::code_tokens(sql).any(|t| t.is_keyword(sql, "INVOKER"))
    }

    /// The derived table standing for per-schema `information_schema.<table>` whose
    /// schema column is `column`; `dynamic`: see [`Self::lists_databases_when_run`].
    pub(super) fn per_schema_source(
        &self,
        table: &str,
        column: &str,
        visible: &[VisibleSchema],
        dynamic: bool,
    ) -> String {
        let by_table = TABLE_NAME_TABLES.contains(&table.to_ascii_uppercase().as_str());
        let mut whole: Vec<String> = Vec::new();
        let mut partial: Vec<String> = Vec::new();
        for schema in visible {
            match &schema.tables {
                None => whole.push(schema.literal.clone()),
                Some(tables) if by_table && !tables.is_empty() => partial.push(format!(
                    "(`{column}` = {} AND TABLE_NAME IN ({}))",
                    schema.literal,
                    tables
                        .iter()
                        .map(|t| sql_string(t))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(_) => {}
            }
        }
        // information_schema's own tables and columns are listed as MariaDB
        // lists them (SHOW TABLES FROM information_schema shows them too).
        if ["TABLES", "COLUMNS", "PARTITIONS"]
            .iter()
            .any(|t| table.eq_ignore_ascii_case(t))
        {
            whole.push("'information_schema'".into());
        }
        if by_table {
            partial.extend(self.server_data_listing(column));
        }
        if column == "SCHEMA_NAME" {
            whole.push("'information_schema'".into());
            // A database the account sees through table grants is listed too.
            whole.extend(
                visible
                    .iter()
                    .filter(|v| v.tables.is_some())
                    .map(|v| v.literal.clone()),
            );
        }
        if whole.is_empty() {
            whole.push("NULL".into());
        }
        let mut condition = if dynamic {
            // Every database but the storage servers' own, whenever it runs.
            let private: Vec<String> = self
                .ctx
                .private_schemas
                .private_names()
                .iter()
                .map(|n| sql_string(n))
                .collect();
            format!("`{column}` NOT IN ({})", private.join(", "))
        } else {
            format!("`{column}` IN ({})", whole.join(", "))
        };
        for p in partial {
            condition.push_str(" OR ");
            condition.push_str(&p);
        }
        let columns = super::definers::information_schema_columns(&self.ctx, table, visible)
            .unwrap_or_else(|| "*".into());
        let rows = format!("SELECT {columns} FROM information_schema.`{table}` WHERE {condition}");
        match super::views::information_schema_rows(&self.ctx, table, visible) {
            Some(views) => format!("{rows} UNION ALL {views}"),
            None => rows,
        }
    }
}
