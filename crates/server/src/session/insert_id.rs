//! `LAST_INSERT_ID()` after a statement a storage node ran: its OK packet reports the
//! first AUTO_INCREMENT value it generated, or, when no row generated one, the explicit
//! value of the last row, which `LAST_INSERT_ID()` does not take. When the text cannot
//! tell the two apart (see `strata_sql::insert_id`), the connection's own
//! `LAST_INSERT_ID()` is read back: it is the reported id only if the statement
//! generated it.

use strata_backend::pool::Lease;
use strata_protocol::command::ParamValue;
use strata_sql::insert_id::number_could_be;

use super::optimizer_trace::untraced_select;
use super::Session;

impl Session {
    /// Takes `reported`, the id the OK packet of `sql` gave, as the session's
    /// `LAST_INSERT_ID()` if the statement generated it (`params_differ`: no parameter of
    /// a prepared `sql` can be it). One round trip on `lease` when the text cannot tell.
    pub(super) async fn settle_insert_id(
        &mut self,
        lease: &mut Lease,
        sql: &str,
        reported: u64,
        params_differ: bool,
    ) {
        if reported == 0 || self.statement.planner_owns_insert_id {
            return;
        }
        if strata_sql::insert_id_generated(sql, reported, params_differ) {
            self.state.last_insert_id = reported;
            return;
        }
        let read = untraced_select("SELECT LAST_INSERT_ID()", self.backends.trace.on);
        match lease.query(&read).await {
            Ok(rows) => {
                let value = rows.first().and_then(|r| r.first().cloned().flatten());
                // Not generated: the connection kept its earlier value, which is not
                // necessarily the session's (a pooled connection); the session's stays.
                if value.and_then(|v| v.parse::<u64>().ok()) == Some(reported) {
                    self.state.last_insert_id = reported;
                }
            }
            Err(_) => {
                lease.mark_broken();
                self.state.last_insert_id = reported;
            }
        }
    }
}

/// True when a prepared statement's parameter could be stored as AUTO_INCREMENT value
/// `reported` (dates and long data are assumed to).
pub(super) fn param_could_be(value: &ParamValue<'_>, reported: u64) -> bool {
    match *value {
        ParamValue::Null => false,
        ParamValue::Int(i) => i as u64 == reported,
        ParamValue::UInt(u) => u == reported,
        ParamValue::Float(f) => number_could_be(f.to_string().as_bytes(), reported),
        ParamValue::Double(d) => number_could_be(d.to_string().as_bytes(), reported),
        ParamValue::Decimal(b) | ParamValue::Bytes(b) => number_could_be(b, reported),
        ParamValue::LongData
        | ParamValue::Date(_)
        | ParamValue::DateTime(_)
        | ParamValue::Time(_) => true,
    }
}
