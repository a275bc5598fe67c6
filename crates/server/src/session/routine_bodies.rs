//! The routines of a database, for a `CALL` the planner runs on one data node when the
//! bodies allow it (`strata_planner::RoutineBodies`): when planning asks for them, one
//! data node of the database reads them from its `information_schema.ROUTINES`, and the
//! statement is planned again.

use strata_executor::literal_rows::literal_values;
use strata_planner::{Plan, Reply, StoredRoutine};
use strata_protocol::MysqlError;

use super::Session;

impl Session {
    /// Refuses a statement run on the home data node without a plan (`SET`, `DO`) that
    /// calls a stored function using tables spread over several data nodes (the home
    /// node would run it over its own rows only), reading the routines when asked.
    pub(super) async fn check_stored_functions(&mut self, sql: &str) -> Result<(), MysqlError> {
        let check = |s: &Self| {
            s.with_plan_context(None, |ctx, view| {
                strata_planner::check_stored_functions(sql, ctx, view)
                    .map_err(|e| super::planning::plan_error(&e))
            })
            .map_err(|f| s.fenced_error(&f))?
        };
        let mut checked = check(self);
        for _ in 0..2 {
            if checked.is_ok() {
                break;
            }
            match self.fetch_wanted().await {
                Ok(true) => checked = check(self),
                Ok(false) => break,
                Err(e) => checked = Err(e),
            }
        }
        checked
    }

    /// Reads the routines planning asked for; false when it asked for none.
    pub(super) async fn fetch_wanted_routines(&mut self) -> Result<bool, MysqlError> {
        let Some(db) = self.statement.routines.wanted() else {
            return Ok(false);
        };
        let topo = &self.ctx.topology;
        let logic = topo
            .db(&db)
            .ok_or_else(|| MysqlError::unknown_database(&db))?;
        let home = self.state.home.as_ref().map(|(d, _)| *d);
        let dnid = match home {
            Some(h) if logic.data_nodes.contains(&h) => h,
            _ => logic.data_nodes.first().copied().ok_or_else(|| {
                MysqlError::new(
                    strata_protocol::codes::UNKNOWN,
                    format!("database {db} has no data node"),
                )
            })?,
        };
        let physical = topo.physical(&logic, dnid).ok_or_else(|| {
            MysqlError::new(
                strata_protocol::codes::UNKNOWN,
                format!("data node {dnid} is not configured"),
            )
        })?;
        let sql = format!(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = '{}' AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')",
            physical.replace('\\', "\\\\").replace('\'', "''")
        );
        tracing::debug!(%dnid, %db, "routine bodies from a data node");
        let rows = self
            .read_literals(&Plan::route(dnid, sql, Reply::Rows))
            .await?;
        let mut routines = Vec::with_capacity(rows.rows.len());
        for row in &rows.rows {
            let values: Vec<Option<String>> = literal_values(row).map(string_literal).collect();
            let [kind, Some(name), body] = values.as_slice() else {
                continue;
            };
            routines.push(StoredRoutine {
                function: kind.as_deref() == Some("FUNCTION"),
                name: name.clone(),
                body: body.clone(),
            });
        }
        self.statement.routines.give(&db, &physical, routines);
        Ok(true)
    }
}

/// The text of a string literal as [`literal_values`] writes it (`_cs X'..'`, `'..'`);
/// None for NULL or another form.
fn string_literal(literal: &str) -> Option<String> {
    let hex = literal
        .find("X'")
        .and_then(|at| literal.get(at + 2..))
        .and_then(|rest| rest.strip_suffix('\''));
    if let Some(hex) = hex {
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        return bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
    }
    literal
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
        .map(|l| l.replace("''", "'"))
}
