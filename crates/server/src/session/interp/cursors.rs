//! Cursors of an interpreted procedure: OPEN reads the SELECT's rows (checked as the
//! client's statement) into literals, FETCH assigns the next row to locals (NOT FOUND,
//! 1329, after the last), CLOSE forgets them.

use std::collections::VecDeque;

use strata_executor::literal_rows::literal_values;
use strata_planner::{Plan, Reply};
use strata_protocol::MysqlError;
use strata_sql::{classify, ByteSummary};

use super::run::{Fail, Frame};
use super::skeleton;
use crate::session::Session;

/// A declared cursor.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    name: String,
    select: String,
    /// The rows not fetched yet (literals), while open.
    rows: Option<VecDeque<Vec<String>>>,
}

impl Cursor {
    /// A closed cursor over `select`.
    pub(crate) fn new(name: &str, select: &str) -> Cursor {
        Cursor {
            name: name.to_string(),
            select: select.to_string(),
            rows: None,
        }
    }
}

fn cursor_error(code: u16, message: &str) -> Fail {
    Fail::Sql(MysqlError::new((code, "24000"), message.to_string()))
}

impl Frame {
    fn cursor_mut(&mut self, name: &str) -> Result<&mut Cursor, Fail> {
        self.scopes
            .iter_mut()
            .rev()
            .find_map(|s| s.cursors.iter_mut().find(|c| c.name == name))
            .ok_or_else(|| {
                Fail::Sql(MysqlError::new(
                    (1324, "42000"),
                    format!("Undefined CURSOR: {name}"),
                ))
            })
    }

    /// CLOSE.
    pub(super) fn close_cursor(&mut self, name: &str) -> Result<(), Fail> {
        let c = self.cursor_mut(name)?;
        if c.rows.take().is_none() {
            return Err(cursor_error(1326, "Cursor is not open"));
        }
        Ok(())
    }
}

impl Session {
    /// OPEN: the SELECT's rows, read now as literals.
    pub(super) async fn open_cursor(&mut self, frame: &mut Frame, name: &str) -> Result<(), Fail> {
        let (select, open) = {
            let c = frame.cursor_mut(name)?;
            (c.select.clone(), c.rows.is_some())
        };
        if open {
            return Err(cursor_error(1325, "Cursor is already open"));
        }
        let locals: Vec<String> = frame.locals().into_iter().map(String::from).collect();
        let locals: Vec<&str> = locals.iter().map(String::as_str).collect();
        if skeleton::mentions(&select, &locals) {
            return Err(Fail::Unhandled(MysqlError::not_supported(
                "a cursor whose SELECT names a local variable in a procedure the compute node runs",
            )));
        }
        if super::super::isolation::mentions_information_schema(&select) {
            return Err(Fail::Unhandled(MysqlError::not_supported(
                "a cursor over information_schema in a procedure the compute node runs",
            )));
        }
        let kind = classify(&select);
        self.guard(&select, kind, ByteSummary::of(select.as_bytes()))?;
        self.authorize(&select, kind)?;
        self.firewall(&select, kind).await?;
        let (dnid, _) = self.home_node()?;
        let text = if self.ctx.topology.names_differ {
            let bytes = self.rewrite_names_in_bytes(&select, select.as_bytes(), dnid)?;
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            select
        };
        // Strings come in their own character set, as their literals say.
        let prefix: std::sync::Arc<str> = format!(
            "{}SET STATEMENT character_set_results=NULL FOR ",
            self.statement.variables.as_deref().unwrap_or("")
        )
        .into();
        let outer = self.statement.variables.replace(prefix);
        let read = self
            .read_literals(&Plan::route(dnid, text, Reply::Rows))
            .await;
        self.statement.variables = outer;
        let rows = read?;
        let rows = rows
            .rows
            .iter()
            .map(|r| literal_values(r).map(String::from).collect())
            .collect();
        frame.cursor_mut(name)?.rows = Some(rows);
        Ok(())
    }

    /// FETCH: the next row into `targets`.
    pub(super) async fn fetch_cursor(
        &mut self,
        frame: &mut Frame,
        name: &str,
        targets: &[String],
    ) -> Result<(), Fail> {
        let row = {
            let c = frame.cursor_mut(name)?;
            let Some(rows) = c.rows.as_mut() else {
                return Err(cursor_error(1326, "Cursor is not open"));
            };
            rows.pop_front()
        };
        let Some(row) = row else {
            return Err(Fail::Sql(MysqlError::new(
                (1329, "02000"),
                "No data - zero rows fetched, selected, or processed",
            )));
        };
        if row.len() != targets.len() {
            return Err(Fail::Sql(MysqlError::new(
                (1328, "HY000"),
                "Incorrect number of FETCH variables",
            )));
        }
        for (target, value) in targets.iter().zip(row) {
            self.assign(frame, target, Some(&value)).await?;
        }
        Ok(())
    }
}
