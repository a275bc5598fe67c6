//! SET: what the compute node refuses, runs on a storage connection (which validates
//! the values) and remembers for replay on the session's later connections.

use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::lexer::{code_tokens, outside_parens};
use strata_sql::{parse_set, SetItem};

use super::optimizer_trace::untraced_select;
use super::query::sql_error;
use super::{Answer, Session, SessionError};

impl Session {
    /// SET: refuse what a compute node must not forward, run the rest on a storage
    /// connection (which validates it), then remember it for replay.
    pub(super) async fn set_statement(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let items = match parse_set(sql) {
            Ok(items) => items,
            Err(e) => {
                self.err(&sql_error(&e));
                return Ok(Answer::Failed);
            }
        };
        if let Err(e) = super::tracking::refuse_untracked(&items) {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        if super::globals::sets_global(&items) {
            if let Some(session_text) = session_part(sql, &items) {
                return self.set_mixed(&items, &session_text, more).await;
            }
            return self.set_global(&items, more).await;
        }
        if let Err(e) = self.session_privileges(&items) {
            self.err(&e);
            return Ok(Answer::Failed);
        }
        if super::optimizer_trace::sets_optimizer_trace(&items) {
            self.note_trace_setting();
        }
        let with_defaults =
            super::globals::session_defaults_from_globals(sql, &items, &self.ctx.globals);
        let (sql, raw, items) = match &with_defaults {
            Some(text) => match parse_set(text) {
                Ok(items) => (text.as_str(), text.as_bytes(), items),
                Err(_) => (sql, raw, items),
            },
            None => (sql, raw, items),
        };
        if self.coordinated()
            && !items.is_empty()
            && items.iter().all(|i| {
                matches!(
                    i,
                    SetItem::Transaction {
                        scope: strata_sql::TxScope::Next,
                        ..
                    }
                )
            })
        {
            // SET TRANSACTION ... (next transaction only): kept here and applied to
            // each branch as it joins the next transaction.
            return Ok(self.set_next_transaction(&items, more));
        }
        if items.iter().any(|i| {
            matches!(
                i,
                SetItem::User { .. }
                    | SetItem::Transaction {
                        scope: strata_sql::TxScope::Next,
                        ..
                    }
            )
        }) {
            // User variables and next-transaction settings live on one connection only.
            self.backends.sticky = true;
            if items
                .iter()
                .any(|i| matches!(i, SetItem::Transaction { .. }))
            {
                self.backends.beyond_user_vars = true;
            }
        }
        let mut vars = self.state.vars.clone();
        let mut eval: Vec<String> = Vec::new();
        let mut autocommit = self.state.autocommit;
        let mut isolation = self.state.isolation;
        for item in &items {
            match item {
                // Spent by the next INSERT: replayed on another connection it would be
                // used again, so the connection that holds it is kept instead.
                SetItem::System { name, .. } if name == "insert_id" => {
                    self.backends.sticky = true;
                }
                SetItem::System { name, value, .. } => {
                    if name == "autocommit" {
                        if let Some(on) = value.value.as_ref().and_then(|v| v.as_bool()) {
                            autocommit = on;
                        }
                    }
                    // group_concat_max_len is read back too: merges cut at the value
                    // the storage node took (it clamps out-of-range values).
                    if value.value.is_none() || name == "group_concat_max_len" {
                        // An expression (e.g. CONCAT(@@sql_mode, ...)) is replayed as the
                        // value it produced, not re-evaluated on another connection.
                        eval.push(if name == "transaction_isolation" {
                            "tx_isolation".to_string()
                        } else {
                            name.clone()
                        });
                    }
                    if name == "tx_isolation" || name == "transaction_isolation" {
                        if let Some(level) = value
                            .value
                            .as_ref()
                            .and_then(strata_sql::IsolationLevel::from_variable_value)
                        {
                            isolation = level;
                        }
                        vars.set(
                            "tx_isolation",
                            format!("SESSION tx_isolation = {}", value.text),
                        );
                    } else {
                        vars.set(name, format!("SESSION {name} = {}", value.text));
                    }
                }
                SetItem::Autocommit(on) => {
                    autocommit = *on;
                    vars.set(
                        "autocommit",
                        format!("SESSION autocommit = {}", u8::from(*on)),
                    );
                }
                SetItem::Names { charset, collation } => {
                    // NAMES sets these: an earlier assignment of one is replaced.
                    forget_character_sets(&mut vars);
                    let mut a = format!("NAMES {}", charset.as_deref().unwrap_or("DEFAULT"));
                    if let Some(c) = collation {
                        a.push_str(&format!(" COLLATE {c}"));
                    }
                    vars.set("names", a);
                }
                SetItem::CharacterSet { charset } => {
                    forget_character_sets(&mut vars);
                    vars.set(
                        "names",
                        format!("CHARACTER SET {}", charset.as_deref().unwrap_or("DEFAULT")),
                    );
                }
                SetItem::Transaction {
                    scope: strata_sql::TxScope::Session,
                    isolation: level,
                    read_only,
                } => {
                    if let Some(level) = level {
                        isolation = *level;
                        vars.set(
                            "tx_isolation",
                            format!("SESSION tx_isolation = '{}'", level.as_str()),
                        );
                    }
                    if let Some(ro) = read_only {
                        vars.set(
                            "tx_read_only",
                            format!("SESSION tx_read_only = {}", u8::from(*ro)),
                        );
                    }
                }
                SetItem::Transaction { .. } | SetItem::User { .. } => {}
            }
        }
        // The storage node validates the statement; only when it succeeds do the new
        // values become the session's, recorded on the connection that ran it.
        if autocommit && !self.state.autocommit && self.txn.open.is_some() {
            // Turning autocommit on commits the open transaction, as in MySQL.
            if let Err(e) = self.commit_txn().await {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        }
        self.state.pending_vars = Some(vars);
        self.state.pending_eval = eval;
        self.state.pending_track = self.client.tracker.to_read_back(&items);
        let ok = self.forward(sql, raw, more).await;
        self.state.pending_vars = None;
        self.state.pending_eval.clear();
        self.state.pending_track.clear();
        let ok = ok?;
        if ok == Answer::Ok {
            self.state.autocommit = autocommit;
            self.state.isolation = isolation;
        }
        Ok(ok)
    }
}

/// Session variables MariaDB 10.11 lets only some privileges set, and those
/// privileges (any one will do; SUPER always). The storage connection's account has
/// them all, so the compute node checks the client's.
const PRIVILEGED_SESSION_VARIABLES: &[(&str, &[Privilege])] = &[
    ("enforce_storage_engine", &[]),
    ("sql_log_off", &[]),
    ("wsrep_on", &[]),
    ("binlog_format", &[Privilege::BinlogAdmin]),
    ("sql_log_bin", &[Privilege::BinlogAdmin]),
    ("binlog_annotate_row_events", &[Privilege::BinlogAdmin]),
    ("binlog_row_image", &[Privilege::BinlogAdmin]),
    (
        "binlog_direct_non_transactional_updates",
        &[Privilege::BinlogAdmin],
    ),
    ("pseudo_thread_id", &[Privilege::BinlogReplay]),
    ("gtid_domain_id", &[Privilege::BinlogReplay]),
    ("server_id", &[Privilege::BinlogReplay]),
    ("gtid_seq_no", &[Privilege::BinlogReplay]),
];

impl Session {
    /// MariaDB's 1227 for a session variable the client's account may not set.
    pub(super) fn session_privileges(&self, items: &[SetItem]) -> Result<(), MysqlError> {
        for item in items {
            let SetItem::System { name, .. } = item else {
                continue;
            };
            let Some((_, others)) = PRIVILEGED_SESSION_VARIABLES
                .iter()
                .find(|(v, _)| v.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            if self.has_global(Privilege::Super) || others.iter().any(|p| self.has_global(*p)) {
                continue;
            }
            let names: Vec<&str> = std::iter::once("SUPER")
                .chain(others.iter().map(|p| p.name()))
                .collect();
            return Err(MysqlError::new(
                codes::SPECIFIC_ACCESS_DENIED,
                format!(
                    "Access denied; you need (at least one of) the {} privilege(s) for this operation",
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Reads back the values that SET expressions produced and records them as literals.
pub(super) async fn evaluate_expressions(
    lease: &mut strata_backend::pool::Lease,
    vars: &mut strata_backend::SessionVars,
    names: &[String],
    tracing: bool,
) -> Result<(), strata_backend::BackendError> {
    if names.is_empty() {
        return Ok(());
    }
    let select: Vec<String> = names.iter().map(|n| format!("@@session.{n}")).collect();
    let select = format!("SELECT {}", select.join(", "));
    let rows = lease.query(&untraced_select(&select, tracing)).await?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    for (name, value) in names.iter().zip(row) {
        let literal = match value {
            // Numeric variables refuse a quoted value (1232) when it is replayed:
            // integers, and `timestamp` (a DOUBLE, main.type_timestamp_hires).
            Some(v) if is_number(v) => v.clone(),
            Some(v) => format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''")),
            None => "NULL".to_string(),
        };
        vars.set(name, format!("SESSION {name} = {literal}"));
    }
    Ok(())
}

/// True for a plain decimal number (`42`, `-7`, `981184830.123456`), as the storage
/// node prints numeric variables.
fn is_number(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(frac)
}

/// Forgets the session's assignments of the variables `SET NAMES` and `SET CHARACTER
/// SET` give new values, which would otherwise be replayed over them.
fn forget_character_sets(vars: &mut strata_backend::SessionVars) {
    for name in [
        "character_set_client",
        "character_set_connection",
        "character_set_results",
        "collation_connection",
    ] {
        vars.remove(name);
    }
}

impl Session {
    /// A SET of global values and session or user variables together: the global
    /// assignments are validated first, the others run as their own SET, and the global
    /// values are kept only when that succeeded (nothing changes on an error, as in
    /// MariaDB, which checks every assignment before it makes any).
    async fn set_mixed(
        &mut self,
        items: &[SetItem],
        session_text: &str,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let global: Vec<SetItem> = items
            .iter()
            .filter(|i| super::globals::sets_global(std::slice::from_ref(*i)))
            .cloned()
            .collect();
        let values = match self.global_assignments(&global).await {
            Ok(values) => values,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        let answer =
            Box::pin(self.set_statement(session_text, session_text.as_bytes(), more)).await?;
        if matches!(answer, Answer::Ok) {
            for (name, value) in values {
                self.ctx.globals.set(&name, value);
            }
        }
        Ok(answer)
    }
}

/// For a SET of global values and session or user variables together
/// (`SET @@global.x = 0, @@local.x = 0`), the statement setting the latter alone:
/// `SET` and their assignments as written. None when every assignment is global, or
/// when the text's top-level commas do not separate its assignments one to one.
fn session_part(sql: &str, items: &[SetItem]) -> Option<String> {
    let global: Vec<bool> = items
        .iter()
        .map(|i| super::globals::sets_global(std::slice::from_ref(i)))
        .collect();
    if global.iter().all(|g| *g) {
        return None;
    }
    let mut toks = code_tokens(sql);
    let set = toks.next()?;
    let mut bounds = vec![set.span.end];
    for t in outside_parens(sql, code_tokens(sql)) {
        if t.is_punct(sql, ",") {
            bounds.push(t.span.start);
        }
    }
    if bounds.len() != items.len() {
        return None;
    }
    let end = sql.trim_end().trim_end_matches(';').len();
    let mut parts = Vec::new();
    for (k, start) in bounds.iter().enumerate() {
        let stop = bounds.get(k + 1).copied().unwrap_or(end);
        // An assignment after the first starts after its comma.
        let from = if k == 0 { *start } else { start + 1 };
        if !global[k] {
            parts.push(sql.get(from..stop)?.trim());
        }
    }
    Some(format!("SET {}", parts.join(", ")))
}
