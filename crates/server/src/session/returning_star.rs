//! `RETURNING *` of a write by an account without SELECT on its table: MariaDB's 1143
//! names the table's first column, which only the storage node knows for a table of a
//! database over one data node (the catalog keeps columns of sharded tables only).

use strata_protocol::MysqlError;
use strata_sql::{Access, StatementKind};

use super::isolation::sql_string;
use super::Session;

/// ER_COLUMNACCESS_DENIED_ERROR.
const COLUMN_ACCESS_DENIED: u16 = 1143;

impl Session {
    /// `e` with the column `*` of a 1143 replaced by the written table's first column
    /// (unchanged when it is another error or the column cannot be read).
    pub(super) async fn first_column_named(
        &mut self,
        sql: &str,
        kind: StatementKind,
        e: MysqlError,
    ) -> MysqlError {
        if e.code != COLUMN_ACCESS_DENIED || !e.message.contains("for column '*'") {
            return e;
        }
        let refs = strata_sql::table_references(sql, kind).refs;
        let mut targets = refs.iter().filter(|r| {
            matches!(
                r.access,
                Access::Update
                    | Access::Delete
                    | Access::Insert
                    | Access::InsertUpdate
                    | Access::Replace
            )
        });
        let (Some(target), None) = (targets.next(), targets.next()) else {
            return e;
        };
        let Some(db) = target.schema.clone().or_else(|| self.state.db.clone()) else {
            return e;
        };
        let first = match self.ctx.topology.catalog().table(&db, &target.name) {
            Some(info) if !info.columns.is_empty() => info.columns.first().cloned(),
            _ => self.storage_first_column(&db, &target.name).await,
        };
        match first {
            Some(column) => self.column_denied(&column, &target.name),
            None => e,
        }
    }

    /// The first column of table `db`.`name` as the storage node holding it says.
    async fn storage_first_column(&mut self, db: &str, name: &str) -> Option<String> {
        let topology = &self.ctx.topology;
        let logical = topology.db(db)?;
        let &dnid = logical.data_nodes.first()?;
        let physical = topology.physical(&logical, dnid)?.to_string();
        let text = format!(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} \
             AND TABLE_NAME = {} ORDER BY ORDINAL_POSITION LIMIT 1",
            sql_string(&physical),
            sql_string(name)
        );
        let rows = self.detached_rows(dnid, &text).await.ok()?;
        rows.into_iter().next()?.into_iter().next().flatten()
    }
}
