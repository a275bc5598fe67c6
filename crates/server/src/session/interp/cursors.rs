//! Cursors of an interpreted procedure: OPEN reads the SELECT's rows (checked as the
//! client's statement) into literals, FETCH assigns the next row to locals (NOT FOUND,
//! 1329, after the last), CLOSE forgets them.

use std::collections::VecDeque;

use bytes::Bytes;
use strata_executor::literal_rows::{literal_values, LiteralRows};
use strata_executor::RowSink;
use strata_planner::{Plan, Reply};
use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;
use strata_sql::{classify, code_tokens, ByteSummary, Token};

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

/// Literal rows with their columns' names (a FOR record's fields).
struct Named {
    names: Vec<String>,
    rows: LiteralRows,
}

impl RowSink for Named {
    type Error = std::convert::Infallible;

    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), Self::Error> {
        self.names = columns.iter().map(|c| c.name.to_lowercase()).collect();
        self.rows.columns(columns).await
    }

    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, Self::Error>> {
        self.rows.row(payload).await
    }
}

/// `select` with each local it names after its first FROM replaced by the local's value
/// when that is a number (or NULL): the value a local variable has there, with the
/// numeric type its literal has. None when a local is named before FROM (a column's
/// name would change) or holds another value (a string literal's collation would be
/// explicit where a variable's is implicit).
fn numeric_locals(select: &str, frame: &Frame) -> Option<String> {
    let toks: Vec<Token> = code_tokens(select).collect();
    let mut depth = 0usize;
    let from = toks.iter().position(|t| {
        if t.is_punct(select, "(") {
            depth += 1;
        } else if t.is_punct(select, ")") {
            depth = depth.saturating_sub(1);
        }
        depth == 0 && t.is_keyword(select, "FROM")
    })?;
    let mut out = String::with_capacity(select.len());
    let mut last = 0;
    for (i, t) in toks.iter().enumerate() {
        let after_dot_or_as =
            i > 0 && (toks[i - 1].is_punct(select, ".") || toks[i - 1].is_keyword(select, "AS"));
        if !t.kind.is_ident() || after_dot_or_as {
            continue;
        }
        let Some(var) = frame.var(&skeleton::ident(t.text(select))) else {
            continue;
        };
        let number = var.value == "NULL"
            || var.value.parse::<f64>().is_ok_and(f64::is_finite)
                && !var.value.starts_with('+')
                && !var.value.contains(['x', 'X', 'b', 'B']);
        if i < from || !number {
            return None;
        }
        out.push_str(select.get(last..t.span.start)?);
        out.push(' ');
        out.push_str(&var.value);
        out.push(' ');
        last = t.span.end;
    }
    out.push_str(select.get(last..)?);
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A string literal (`_cs X'..'`) whose value is one of `renames`' first, as the
/// second.
fn renamed(literal: &str, renames: &[(String, String)]) -> Option<String> {
    let at = literal.find("X'")?;
    let digits = literal.get(at + 2..)?.strip_suffix('\'')?;
    let (_, to) = renames
        .iter()
        .find(|(from, _)| from.eq_ignore_ascii_case(digits))?;
    Some(format!("{}X'{to}'", literal.get(..at)?))
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

    /// The SELECT of a declared cursor (a FOR loop over it).
    pub(super) fn cursor_select(&mut self, name: &str) -> Result<String, Fail> {
        Ok(self.cursor_mut(name)?.select.clone())
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
        let (_, rows) = self.select_rows(frame, &select).await?;
        frame.cursor_mut(name)?.rows = Some(rows);
        Ok(())
    }

    /// The column names and rows (literals) of a cursor's or FOR loop's SELECT, checked
    /// as the client's statement and read now.
    pub(super) async fn select_rows(
        &mut self,
        frame: &Frame,
        select: &str,
    ) -> Result<(Vec<String>, VecDeque<Vec<String>>), Fail> {
        let locals: Vec<String> = frame.locals().into_iter().map(String::from).collect();
        let locals: Vec<&str> = locals.iter().map(String::as_str).collect();
        let substituted;
        let select = if skeleton::mentions(select, &locals) {
            substituted = numeric_locals(select, frame).ok_or_else(|| {
                Fail::Unhandled(MysqlError::not_supported(
                    "a cursor whose SELECT names a local variable (other than a number after FROM) in a procedure the compute node runs",
                ))
            })?;
            substituted.as_str()
        } else {
            select
        };
        let kind = classify(select);
        self.guard(select, kind, ByteSummary::of(select.as_bytes()))?;
        self.authorize(select, kind)?;
        self.firewall(select, kind).await?;
        let (dnid, _) = self.home_node()?;
        let mut renames: Vec<(String, String)> = Vec::new();
        let text = if super::super::isolation::mentions_information_schema(select) {
            // Read through the derived tables of what the client may see; the rows
            // would name physical databases where those differ from the logical ones.
            let names = self.visible_databases_on(None);
            if let Some(e) = self.information_schema_refusal(select, None) {
                return Err(Fail::Sql(e));
            }
            let text = self.restricted_information_schema(select, &names, None, false)?;
            // Values naming a physical database are read as its logical name, as the
            // client's own query over information_schema reads them.
            renames = names
                .iter()
                .filter(|(logical, physical)| logical != physical)
                .map(|(logical, physical)| (hex(physical.as_bytes()), hex(logical.as_bytes())))
                .collect();
            text
        } else if self.ctx.topology.names_differ {
            let bytes = self.rewrite_names_in_bytes(select, select.as_bytes(), dnid)?;
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            select.to_string()
        };
        // Strings come in their own character set, as their literals say.
        let prefix: std::sync::Arc<str> = format!(
            "{}SET STATEMENT character_set_results=NULL FOR ",
            self.statement.variables.as_deref().unwrap_or("")
        )
        .into();
        let outer = self.statement.variables.replace(prefix);
        let mut sink = Named {
            names: Vec::new(),
            rows: LiteralRows::new(&self.merge_options().memory),
        };
        let read = self
            .read_rows(&Plan::route(dnid, text, Reply::Rows), &mut sink)
            .await;
        self.statement.variables = outer;
        read?;
        let rows = sink
            .rows
            .rows
            .iter()
            .map(|r| {
                literal_values(r)
                    .map(|v| renamed(v, &renames).unwrap_or_else(|| v.to_string()))
                    .collect()
            })
            .collect();
        Ok((sink.names, rows))
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
