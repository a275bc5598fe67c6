//! SHOW COLUMNS (DESCRIBE) and SHOW INDEX of a view of a database over several data
//! nodes: no data node holds the view, so its columns are those of a temporary table
//! made from its SELECT with `LIMIT 0`, which MariaDB describes exactly as the view
//! (its SHOW COLUMNS of a view builds the same fields), on a data node holding every
//! table it reads. mariadb-dump asks SHOW FIELDS of each view it dumps.

use strata_protocol::MysqlError;
use strata_sql::{ObjectName, ShowFilter};

use super::isolation::sql_string;
use super::{backend_error, Answer, Session, SessionError};
use crate::results::LocalResult;

/// The temporary table made on the scratch connection (dropped before it goes back).
const SCRATCH_TABLE: &str = "`strata_view_columns`";

impl Session {
    /// Answers SHOW COLUMNS (`index` false) or SHOW INDEX (`index` true) of the view
    /// `table` of the catalog. SHOW FULL COLUMNS is refused: its Privileges column
    /// would be the compute node's storage account's, not the client's.
    pub(super) async fn show_view_columns(
        &mut self,
        table: &ObjectName,
        full: bool,
        filter: Option<&ShowFilter>,
        index: bool,
        more: bool,
    ) -> Result<Answer, SessionError> {
        match self.view_columns(table, full, filter, index).await {
            Ok(result) => {
                self.write_local(&result, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    async fn view_columns(
        &mut self,
        table: &ObjectName,
        full: bool,
        filter: Option<&ShowFilter>,
        index: bool,
    ) -> Result<LocalResult, MysqlError> {
        self.authorize_any(table.schema.as_deref(), &table.name, "SELECT")?;
        if full {
            return Err(MysqlError::not_supported(
                "SHOW FULL COLUMNS of a view of a database over several data nodes",
            ));
        }
        let db = table
            .schema
            .clone()
            .or_else(|| self.state.db.clone())
            .ok_or_else(MysqlError::no_database)?;
        let probe = self
            .with_plan_context(None, |ctx, catalog| {
                strata_planner::view_probe(&db, &table.name, ctx, catalog)
            })
            .map_err(|f| self.fenced_error(&f))?
            .map_err(|e| super::planning::plan_error(&e))?;
        let Some((dnid, select)) = probe else {
            return Err(MysqlError::not_supported(
                "SHOW COLUMNS, SHOW INDEX or DESCRIBE of a view whose tables no single data \
                 node holds (or whose SELECT takes sequence values)",
            ));
        };
        let create = self.rewrite_schemas_for(
            &format!("CREATE TEMPORARY TABLE {SCRATCH_TABLE} {select}"),
            Some(dnid),
        );
        let mut show = if index {
            format!("SHOW INDEX FROM {SCRATCH_TABLE}")
        } else {
            format!("SHOW COLUMNS FROM {SCRATCH_TABLE}")
        };
        match filter {
            // As a WHERE on the column name: the literal is then an expression,
            // which reads the same whatever the session's sql_mode.
            Some(ShowFilter::Like(pattern)) => {
                show.push_str(&format!(" WHERE `Field` LIKE {}", sql_string(pattern)));
            }
            Some(ShowFilter::Where(condition)) => show.push_str(&format!(" WHERE {condition}")),
            None => {}
        }
        let mut lease = self.scratch_lease(dnid, &[]).await?;
        let described = async {
            lease.execute(&create).await?;
            let result = lease.query_result(&show).await;
            lease
                .execute(&format!("DROP TEMPORARY TABLE {SCRATCH_TABLE}"))
                .await?;
            result
        }
        .await;
        if described.is_err() {
            // The temporary table may be left on it: not lent to anyone again.
            lease.mark_broken();
        }
        drop(lease);
        let (columns, rows) = described.map_err(|e| backend_error(dnid, &e))?;
        Ok(LocalResult { columns, rows })
    }
}
