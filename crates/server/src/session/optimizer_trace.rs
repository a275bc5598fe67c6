//! `information_schema.OPTIMIZER_TRACE` through Strata. A storage node keeps the trace
//! of the last traced statement per connection, so a session that enables
//! `optimizer_trace` keeps its storage connection (as for user variables), Strata's own
//! reads on that connection are made untraceable, and the trace is read on that same
//! connection with the statement texts Strata sent mapped back to the client's.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use strata_catalog::accounts::Level;
use strata_catalog::{DataNodeId, PrivSet};
use strata_protocol::MysqlError;
use strata_sql::{contains_ignore_ascii_case, SetItem};

use super::isolation::VisibleSchema;
use super::Session;

/// How many texts sent for client statements are remembered to map a trace's QUERY
/// back (the trace is of the last traced one, which a few untraced ones may follow).
const SENT_KEPT: usize = 16;

/// The session's optimizer trace: where it is and what its QUERY stands for.
#[derive(Debug, Default)]
pub(super) struct TraceState {
    /// The session has set `optimizer_trace` (its connection may hold a trace, which
    /// outlives `enabled=off`).
    pub on: bool,
    /// The connection the trace lives on (data node, storage thread id), once known.
    pub connection: Option<(DataNodeId, u32)>,
    /// The client's statement being run, while `on`.
    pub client_text: Option<Arc<str>>,
    /// Texts sent to the storage node for the client's recent statements, newest
    /// last, with the client's text each stands for.
    sent: VecDeque<(String, Arc<str>)>,
}

impl TraceState {
    /// Records that `sent` ran on connection `(dnid, thread)` for the current client
    /// statement.
    pub fn note_sent(&mut self, sent: &[u8], dnid: DataNodeId, thread: u32) {
        if !self.on {
            return;
        }
        if self.connection.is_none() {
            self.connection = Some((dnid, thread));
        }
        // A statement naming OPTIMIZER_TRACE is never traced (a read of it, SET
        // optimizer_trace): a read's text holds the earlier texts, kept out.
        let Some(client) = self
            .client_text
            .clone()
            .filter(|_| !contains_ignore_ascii_case(sent, b"optimizer_trace"))
        else {
            return;
        };
        let sent = String::from_utf8_lossy(sent).into_owned();
        if sent == *client {
            return;
        }
        self.sent.retain(|(s, _)| *s != sent);
        if self.sent.len() == SENT_KEPT {
            self.sent.pop_front();
        }
        self.sent.push_back((sent, client));
    }
}

/// True when the SET assigns `optimizer_trace`.
pub(super) fn sets_optimizer_trace(items: &[SetItem]) -> bool {
    items
        .iter()
        .any(|i| matches!(i, SetItem::System { name, .. } if name.eq_ignore_ascii_case("optimizer_trace")))
}

/// True when the text names `OPTIMIZER_TRACE` (a byte search; the information_schema
/// rewrite decides).
pub(super) fn mentions_optimizer_trace(sql: &str) -> bool {
    contains_ignore_ascii_case(sql.as_bytes(), b"optimizer_trace")
}

/// Strata's own FROM-less SELECT (`SELECT @@session.x`), made one the storage node does
/// not trace when the session traces: a statement reading OPTIMIZER_TRACE is never
/// traced, so it would not replace the client's trace. (`SET STATEMENT
/// optimizer_trace=... FOR` would change the very value a read-back reads.)
pub(super) fn untraced_select(select: &str, tracing: bool) -> Cow<'_, str> {
    if tracing {
        Cow::Owned(format!(
            "{select} FROM DUAL WHERE 1 OR EXISTS (SELECT 1 FROM information_schema.OPTIMIZER_TRACE)"
        ))
    } else {
        Cow::Borrowed(select)
    }
}

/// A MariaDB string literal of `s`.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `REPLACE(expr, physical, logical)` for each database whose names differ.
fn logical_names(expr: &str, names: &[(Arc<str>, Arc<str>)]) -> String {
    let mut out = expr.to_string();
    for (logical, physical) in names {
        if logical != physical {
            out = format!(
                "REPLACE({out}, {}, {})",
                literal(physical),
                literal(logical)
            );
        }
    }
    out
}

impl Session {
    /// Before a SET that assigns `optimizer_trace` runs: the connection it runs on is
    /// kept for the session from now on, and its trace read there.
    pub(super) fn note_trace_setting(&mut self) {
        self.backends.sticky = true;
        self.backends.trace.on = true;
    }

    /// Err when `information_schema.OPTIMIZER_TRACE` cannot be shown as MariaDB would:
    /// the trace may be another connection's (a database over several data nodes, a
    /// lost connection), or the account lacks privileges MariaDB would check against
    /// the traced statement's objects (the storage account has them all).
    pub(super) fn check_trace_read(&self, dnid: Option<DataNodeId>) -> Result<(), MysqlError> {
        let trace = &self.backends.trace;
        if !trace.on {
            return Ok(());
        }
        let spans = self
            .state
            .db
            .as_deref()
            .and_then(|db| self.ctx.topology.db(db))
            .is_some_and(|db| db.data_nodes.len() > 1);
        if spans {
            return Err(MysqlError::not_supported(
                "information_schema.OPTIMIZER_TRACE in a database over several data nodes",
            ));
        }
        if !self
            .identity
            .account
            .global
            .contains(PrivSet::all(Level::Global))
        {
            return Err(MysqlError::not_supported(
                "information_schema.OPTIMIZER_TRACE for an account without all privileges on *.*",
            ));
        }
        if let (Some((node, _)), Some(target)) = (trace.connection, dnid) {
            if node != target {
                return Err(MysqlError::not_supported(
                    "information_schema.OPTIMIZER_TRACE of a statement on another data node",
                ));
            }
        }
        Ok(())
    }

    /// Err when the connection `thread` of `dnid` is not the one holding the session's
    /// trace (it was lost and replaced): its trace would be another one's or none.
    pub(super) fn check_trace_connection(
        &self,
        dnid: DataNodeId,
        thread: u32,
    ) -> Result<(), MysqlError> {
        match self.backends.trace.connection {
            Some(held) if held != (dnid, thread) => Err(MysqlError::not_supported(
                "information_schema.OPTIMIZER_TRACE after the session's storage connection was lost",
            )),
            _ => Ok(()),
        }
    }

    /// The derived table standing for `information_schema.OPTIMIZER_TRACE`: the
    /// session's connection's trace, QUERY as the client wrote it and physical database
    /// names (`names`: logical, physical) shown as logical ones; no rows for a session
    /// that never traced (a pooled connection's trace is another session's).
    pub(super) fn optimizer_trace_source(&self, visible: &[VisibleSchema]) -> String {
        let names: Vec<(Arc<str>, Arc<str>)> = visible
            .iter()
            .map(|v| (v.logical.clone(), v.physical.clone()))
            .collect();
        let names = names.as_slice();
        let trace = &self.backends.trace;
        let mut query = String::from("CASE `QUERY`");
        for (sent, client) in trace.sent.iter().rev() {
            query.push_str(&format!(" WHEN {} THEN {}", literal(sent), literal(client)));
        }
        query.push_str(&format!(" ELSE {} END", logical_names("`QUERY`", names)));
        if trace.sent.is_empty() {
            query = logical_names("`QUERY`", names);
        }
        format!(
            "SELECT {query} AS `QUERY`, {} AS `TRACE`, `MISSING_BYTES_BEYOND_MAX_MEM_SIZE`, \
             `INSUFFICIENT_PRIVILEGES` FROM information_schema.`OPTIMIZER_TRACE`{}",
            logical_names("`TRACE`", names),
            if trace.on { "" } else { " WHERE 0" }
        )
    }
}
