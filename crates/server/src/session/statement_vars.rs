//! `SET STATEMENT var = value [, ...] FOR statement` (MariaDB). The inner statement runs
//! as itself — checked, authorized, answered, forwarded or planned like any — while the
//! statement's `variables` prefix (`SET STATEMENT ... FOR `) goes before every text sent
//! to a storage node for it, so each node that runs a part runs it under the same
//! assignments and validates them as MariaDB does (1971 for the variables it refuses
//! there, 1232/1231 for bad values). What the compute node would answer or run by other
//! means (SHOW, USE, transaction control, information_schema, ...) is refused, and so
//! are, over several data nodes, the variables the compute node itself acts on.

use std::sync::Arc;

use strata_protocol::MysqlError;
use strata_sql::{
    classify_head, code_tokens, ByteSummary, SetItem, SetStatement, SetValue, StatementKind,
    TokenKind,
};

use super::isolation::mentions_information_schema;
use super::query::sql_error;
use super::{Answer, Session, SessionError};

impl Session {
    /// Runs `SET STATEMENT ... FOR inner` (`sql`, the client's bytes `raw`); nested ones
    /// add their assignments.
    pub(super) async fn set_statement_for(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let parsed = match strata_sql::parse_set_statement(sql) {
            Ok(p) => p,
            Err(e) => {
                self.err(&sql_error(&e));
                return Ok(Answer::Failed);
            }
        };
        if let Err(e) = self.check_statement_variables(&parsed) {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        if super::optimizer_trace::mentions_optimizer_trace(parsed.assignments) {
            // The statement's trace stays on the connection it ran on.
            self.note_trace_setting();
        }
        let prefix: Arc<str> = format!(
            "{}SET STATEMENT {} FOR ",
            self.statement.variables.as_deref().unwrap_or(""),
            parsed.assignments
        )
        .into();
        let outer = self.statement.variables.replace(prefix);
        let inner = parsed.inner;
        // Bytes that are not UTF-8 are U+FFFD in `sql`: the inner statement must run
        // from the client's own bytes (found at the same offset of a text of the same
        // length), or a binary literal would reach the data node changed.
        let out = if sql.as_bytes() == raw {
            Box::pin(self.statement(inner, inner.as_bytes(), more)).await
        } else {
            let mapped = super::raw_text::utf8_placeholders(raw);
            let start = strata_sql::parse_set_statement(&mapped)
                .ok()
                .map(|p| (p.inner.as_ptr() as usize).saturating_sub(mapped.as_ptr() as usize));
            let inner_raw = start.and_then(|s| raw.get(s..)).unwrap_or(inner.as_bytes());
            let inner_text = String::from_utf8_lossy(inner_raw).into_owned();
            Box::pin(self.statement(&inner_text, inner_raw, more)).await
        };
        self.statement.variables = outer;
        out
    }

    /// Err when the assignments or the inner statement cannot run under `SET STATEMENT`.
    fn check_statement_variables(&self, parsed: &SetStatement<'_>) -> Result<(), MysqlError> {
        // The assignments are a SET's: the same default deny applies to them.
        let assignments = format!("SET {}", parsed.assignments);
        self.guard(
            &assignments,
            StatementKind::Set,
            ByteSummary::of(assignments.as_bytes()),
        )?;
        self.session_privileges(&parsed.items)?;
        let inner = parsed.inner;
        let (kind, _) = classify_head(inner);
        let refused_kind = match kind {
            StatementKind::Set => !strata_sql::is_set_statement(inner),
            StatementKind::Create | StatementKind::Drop => {
                strata_sql::is_database_statement(inner)
                    || strata_sql::guard::is_account_statement(inner, kind)
            }
            StatementKind::Alter | StatementKind::Rename => {
                strata_sql::guard::is_account_statement(inner, kind)
            }
            StatementKind::Select
            | StatementKind::Insert
            | StatementKind::Replace
            | StatementKind::Update
            | StatementKind::Delete
            | StatementKind::Truncate
            | StatementKind::Call
            | StatementKind::Do
            | StatementKind::Explain
            | StatementKind::Prepare
            | StatementKind::Execute => false,
            // `ANALYZE [FORMAT=JSON] <statement>` runs the statement like EXPLAIN shows it;
            // ANALYZE/CHECK/OPTIMIZE/REPAIR TABLE run where their tables are.
            StatementKind::Other => {
                strata_sql::explained_statement(inner).is_none()
                    && !super::query::is_table_maintenance(inner)
            }
            _ => true,
        };
        if refused_kind || mentions_information_schema(inner) {
            let what = code_tokens(inner)
                .next()
                .map(|t| t.text(inner).to_ascii_uppercase())
                .unwrap_or_default();
            let what = if refused_kind {
                what
            } else {
                "information_schema".to_string()
            };
            return Err(MysqlError::not_supported(&format!(
                "SET STATEMENT ... FOR {what}"
            )));
        }
        if self.needs_planner(inner, kind, ByteSummary::of(inner.as_bytes())) {
            if code_tokens(parsed.assignments).any(|t| t.kind == TokenKind::UserVar) {
                return Err(MysqlError::not_supported(
                    "SET STATEMENT with a user variable over several data nodes",
                ));
            }
            if let Some(name) = parsed.items.iter().find_map(compute_node_reads) {
                return Err(MysqlError::not_supported(&format!(
                    "SET STATEMENT {name} over several data nodes (the compute node acts on its session value)"
                )));
            }
        }
        Ok(())
    }
}

/// The variable of an assignment whose value the compute node itself acts on when it
/// plans or merges a statement over several data nodes (global AUTO_INCREMENT values,
/// merge limits, values it computes, the SQL it parses): a statement-only value would
/// reach the storage nodes but not the compute node.
fn compute_node_reads(item: &SetItem) -> Option<String> {
    const READ: &[&str] = &[
        "group_concat_max_len",
        "insert_id",
        "last_insert_id",
        "auto_increment_increment",
        "auto_increment_offset",
        "sql_select_limit",
        "div_precision_increment",
        "timestamp",
        "time_zone",
        "rand_seed1",
        "rand_seed2",
        "max_sort_length",
        "sql_mode",
    ];
    let SetItem::System { name, value, .. } = item else {
        return None;
    };
    if name == "sql_mode" && value.value.as_ref().is_some_and(plain_sql_mode) {
        return None;
    }
    READ.contains(&name.as_str()).then(|| name.clone())
}

/// True for an `sql_mode` value whose modes change only what each storage node checks
/// (strictness, zero dates), not how the compute node reads SQL or fills in values.
fn plain_sql_mode(value: &SetValue) -> bool {
    const PLAIN: &[&str] = &[
        "STRICT_TRANS_TABLES",
        "STRICT_ALL_TABLES",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_ENGINE_SUBSTITUTION",
        "NO_UNSIGNED_SUBTRACTION",
        "ALLOW_INVALID_DATES",
        "NO_DIR_IN_CREATE",
        "TRADITIONAL",
    ];
    let SetValue::Str(modes) = value else {
        return false;
    };
    modes
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .all(|m| PLAIN.iter().any(|p| p.eq_ignore_ascii_case(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(sql: &str) -> Vec<String> {
        strata_sql::parse_set_statement(sql)
            .unwrap()
            .items
            .iter()
            .filter_map(compute_node_reads)
            .collect()
    }

    #[test]
    fn variables_the_compute_node_acts_on_are_named() {
        assert_eq!(
            reads("SET STATEMENT max_statement_time=1, sql_mode='STRICT_ALL_TABLES,no_zero_date', sort_buffer_size=100000 FOR SELECT 1"),
            Vec::<String>::new()
        );
        assert_eq!(
            reads("SET STATEMENT group_concat_max_len=4, sql_mode='ANSI_QUOTES', sql_mode=CONCAT(@@sql_mode, ''), insert_id=5 FOR SELECT 1"),
            ["group_concat_max_len", "sql_mode", "sql_mode", "insert_id"]
        );
    }
}
