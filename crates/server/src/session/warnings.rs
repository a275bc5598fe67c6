//! SHOW WARNINGS / SHOW ERRORS in a database over several data nodes: the diagnostics
//! of the previous statement are on the storage connections it ran on, which need not
//! be the home node's (an INSERT routed to another node). A write over several nodes
//! reads them as it ends (its commit would clear them); otherwise each connection the
//! statement ran on, kept for the purpose, is read in data node order.

use strata_backend::pool::Lease;
use strata_catalog::DataNodeId;
use strata_protocol::packets::{ColumnDef, OkPacket};
use strata_sql::Limit;

/// MariaDB's "Row %u was cut by GROUP_CONCAT()".
const GROUP_CONCAT_CUT: &str = "1260";

/// What SHOW WARNINGS lists: its column definitions and rows (Level, Code, Message).
pub(super) type Diagnostics = (Vec<ColumnDef>, strata_backend::TextRows);

/// The warnings of the nodes of a write (`oks` indexes `leases`) that reported some,
/// read before anything else runs on their connections; None when none did. When
/// `same_statement` (DDL run alike on every node) and every node gave the same list of
/// notes, the notes are the statement's, not its rows' (`YEAR(2)` is deprecated, a
/// duplicate index): MariaDB reports them once, so one copy is kept and the other
/// nodes' OK counts are zeroed. Warnings (a converted row) may be alike by chance (one
/// row per node, each `at row 1`) and stay every node's.
pub(super) async fn read_warnings(
    leases: &mut [Lease],
    oks: &mut [(usize, OkPacket)],
    same_statement: bool,
) -> Option<Diagnostics> {
    let mut columns = None;
    let mut lists: Vec<strata_backend::TextRows> = Vec::new();
    for (node, ok) in oks.iter() {
        let Some(lease) = leases.get_mut(*node).filter(|_| ok.warnings > 0) else {
            continue;
        };
        match lease.query_result("SHOW WARNINGS").await {
            Ok((c, rows)) => {
                columns.get_or_insert(c);
                lists.push(rows);
            }
            Err(e) => tracing::debug!(error = %e, "warnings of a write not read"),
        }
    }
    let columns = columns?;
    let alike = same_statement
        && lists.len() == oks.len()
        && lists.len() > 1
        && lists.windows(2).all(|w| w[0] == w[1])
        && lists
            .iter()
            .flatten()
            .all(|r| r.first().and_then(|l| l.as_deref()) == Some("Note"));
    if alike {
        for (_, ok) in oks.iter_mut().skip(1) {
            ok.warnings = 0;
        }
        lists.truncate(1);
    }
    Some((columns, lists.into_iter().flatten().collect()))
}

use super::{Answer, Session, SessionError};
use crate::results::LocalResult;

impl Session {
    /// The warnings the data nodes reported at the end of a read over several of them
    /// (`leases`, read to their ends): their count, their rows read now for SHOW
    /// WARNINGS (the connections go back to the pool after the statement).
    pub(super) async fn nodes_warnings(&mut self, leases: &mut [Lease]) -> u16 {
        let mut oks: Vec<(usize, OkPacket)> = leases
            .iter()
            .enumerate()
            .filter(|(_, l)| l.eof_warnings() > 0)
            .map(|(i, l)| {
                let ok = OkPacket {
                    warnings: l.eof_warnings(),
                    ..OkPacket::default()
                };
                (i, ok)
            })
            .collect();
        if oks.is_empty() {
            return 0;
        }
        let count = oks
            .iter()
            .fold(0u16, |n, (_, ok)| n.saturating_add(ok.warnings));
        let Some((columns, rows)) = read_warnings(leases, &mut oks, false).await else {
            return count;
        };
        // A node's GROUP_CONCAT cut its part of a group; the merge cuts the whole
        // group at the same limit and counts its own 1260s.
        let (cut, rows): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| r.get(1).and_then(|c| c.as_deref()) == Some(GROUP_CONCAT_CUT));
        self.statement.warnings = (!rows.is_empty()).then_some((columns, rows));
        count.saturating_sub(u16::try_from(cut.len()).unwrap_or(u16::MAX))
    }

    /// Answers `SHOW WARNINGS` (or `SHOW ERRORS` when `errors`) with `limit`: from the
    /// home node as written when the previous statement ran there alone, else from the
    /// connections of the nodes it ran on. A node whose connection was not kept had
    /// nothing to report (connections are kept after a statement with warnings).
    pub(super) async fn show_diagnostics(
        &mut self,
        sql: &str,
        raw: &[u8],
        errors: bool,
        limit: Option<Limit>,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let mask = self.backends.warned.0;
        if let Some((columns, rows)) = &self.backends.warned.1 {
            let (columns, rows) = (
                columns.clone(),
                rows.iter()
                    .filter(|r| !errors || r.first().and_then(|l| l.as_deref()) == Some("Error"))
                    .cloned()
                    .collect(),
            );
            // A SHOW WARNINGS after this one answers from the same rows.
            self.statement.warnings = self.backends.warned.1.take();
            return self.answer_diagnostics(columns, rows, limit, mask, more);
        }
        let home = self.home_node().ok().map(|(dnid, _)| dnid);
        let nodes: Vec<DataNodeId> = (0..64u32)
            .filter(|i| mask & (1u64 << i) != 0)
            .map(DataNodeId::new)
            .collect();
        if nodes.iter().all(|dnid| Some(*dnid) == home) {
            return self.forward(sql, raw, more).await;
        }
        let text = if errors {
            "SHOW ERRORS"
        } else {
            "SHOW WARNINGS"
        };
        let mut columns = None;
        let mut rows = Vec::new();
        for dnid in nodes {
            let Some(mut lease) = self.backends.take(dnid) else {
                continue;
            };
            let result = lease.query_result(text).await;
            self.backends.pinned.push(lease);
            match result {
                Ok((c, r)) => {
                    columns.get_or_insert(c);
                    rows.extend(r);
                }
                Err(e) => {
                    self.err(&super::backend_error(dnid, &e));
                    return Ok(Answer::Failed);
                }
            }
        }
        let columns = match columns {
            Some(c) => c,
            // Only the column definitions: SHOW WARNINGS clears nothing.
            None => match self.home_result(&format!("{text} LIMIT 0"), true).await {
                Ok((c, _)) => c,
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            },
        };
        self.answer_diagnostics(columns, rows, limit, mask, more)
    }

    /// Writes `rows` of SHOW WARNINGS/ERRORS with `limit` applied; a SHOW WARNINGS after
    /// this one reads the same nodes.
    fn answer_diagnostics(
        &mut self,
        columns: Vec<ColumnDef>,
        mut rows: strata_backend::TextRows,
        limit: Option<Limit>,
        mask: u64,
        more: bool,
    ) -> Result<Answer, SessionError> {
        if let Some(limit) = limit {
            let skip = usize::try_from(limit.offset).unwrap_or(usize::MAX);
            let take = usize::try_from(limit.count).unwrap_or(usize::MAX);
            rows = rows.into_iter().skip(skip).take(take).collect();
        }
        self.statement.outcome.node_mask = mask;
        self.write_local(&LocalResult { columns, rows }, more);
        Ok(Answer::Ok)
    }
}
