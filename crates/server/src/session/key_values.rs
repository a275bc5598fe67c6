//! The values of INSERT sharding-key expressions that are not literals
//! (`strata_planner::KeyValues`): when planning asks for them, the session's connection
//! to its home data node evaluates them all with one `SELECT` (under the session's
//! sql_mode, time zone and character sets), and the statement is planned again.

use strata_executor::literal_rows::literal_values;
use strata_planner::{Plan, Reply};
use strata_protocol::MysqlError;

use super::planning::plan_error;
use super::Session;

impl Session {
    /// After planning failed: when it failed for want of the session's local time or of
    /// key values, gets them and returns true (plan again); false when planning failed
    /// for another reason.
    pub(super) async fn fetch_wanted(&mut self) -> Result<bool, MysqlError> {
        if self.fetch_wanted_local_time().await? {
            return Ok(true);
        }
        if self.fetch_wanted_key_values().await? {
            return Ok(true);
        }
        self.fetch_wanted_routines().await
    }

    /// Evaluates the key expressions planning asked for; false when it asked for none.
    async fn fetch_wanted_key_values(&mut self) -> Result<bool, MysqlError> {
        let Some(query) = self.statement.key_values.query() else {
            return Ok(false);
        };
        let (dnid, _) = self.home_node()?;
        tracing::debug!(%dnid, sql = %query.sql, "sharding key values from the home data node");
        let rows = self
            .read_literals(&Plan::route(dnid, query.sql.clone(), Reply::Rows))
            .await?;
        let row = rows.rows.first().ok_or_else(|| {
            MysqlError::new(
                strata_protocol::codes::UNKNOWN,
                format!("data node {dnid} gave no row for the sharding key values"),
            )
        })?;
        let values: Vec<&str> = literal_values(row).collect();
        self.statement
            .key_values
            .give(&query, &values)
            .map_err(|e| plan_error(&e))?;
        Ok(true)
    }
}
