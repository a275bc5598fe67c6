//! MERGE tables (`ENGINE=MERGE UNION=(...)`): the storage node that holds one reads
//! and writes its UNION tables itself, so one is allowed only in a database over one
//! data node, over tables of that same database, and (MariaDB's rule) for an account
//! that holds SELECT, UPDATE and DELETE on each of them.

use strata_catalog::accounts::{AccountError, PrivSet};
use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::StatementKind;

use super::accounts::account_error;
use super::isolation::client_host;
use super::Session;

impl Session {
    /// Checks a CREATE or ALTER TABLE that makes or changes a MERGE table.
    pub(super) fn check_merge_table(
        &self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<(), MysqlError> {
        if let Some(inner) = strata_sql::guard::dynamic_statement_text(sql, kind) {
            return self.check_merge_table(&inner, strata_sql::classify(&inner));
        }
        if !matches!(kind, StatementKind::Create | StatementKind::Alter) {
            return Ok(());
        }
        let Some(merge) = strata_sql::guard::merge_table(sql) else {
            return Ok(());
        };
        let refused = |what: &str| MysqlError::not_supported(&format!("ENGINE=MERGE {what}"));
        let topology = &self.ctx.topology;
        let db_name = merge
            .table
            .as_ref()
            .and_then(|t| t.schema.as_deref())
            .or(self.state.db.as_deref())
            .ok_or_else(MysqlError::no_database)?;
        let Some(db) = topology.db(db_name) else {
            return Err(refused("outside a logical database"));
        };
        if db.data_nodes.len() != 1 {
            return Err(refused("in a database over several data nodes"));
        }
        for table in &merge.union {
            if let Some(schema) = table.schema.as_deref() {
                if topology.db(schema).is_none_or(|d| d.name != db.name) {
                    return Err(refused("over a table of another database"));
                }
                // The storage node keeps the name as written, not a physical one.
                if topology.names_differ {
                    return Err(refused(
                        "over a qualified table where logical and physical database names differ (leave it unqualified)",
                    ));
                }
            }
            let need = PrivSet::of(Privilege::Select)
                | PrivSet::of(Privilege::Update)
                | PrivSet::of(Privilege::Delete);
            let have = self
                .identity
                .account
                .table_privileges(&db.name, &table.name);
            let missing = need.minus(have);
            if !missing.is_empty() {
                return Err(account_error(&AccountError::TableAccessDenied {
                    command: super::accounts::command_name(missing),
                    user: self.identity.user.clone(),
                    host: client_host(&self.identity.entry.host).to_string(),
                    db: db.name.clone(),
                    table: table.name.clone(),
                }));
            }
        }
        Ok(())
    }
}
