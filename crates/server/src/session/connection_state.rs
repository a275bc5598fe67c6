//! The state a statement may leave on its storage connection that only that connection
//! holds (user variables, temporary tables, locks, a sequence's LASTVAL): the session
//! keeps such a connection (pins it) and routes what needs that state to it.

use strata_sql::{code_tokens, contains_ignore_ascii_case, ByteSummary, StatementKind, TokenKind};

use super::Session;

/// State a statement may create that only its storage connection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ConnectionState {
    /// None.
    None,
    /// User variables only: other data nodes can serve statements that do not read
    /// them.
    UserVariables,
    /// Temporary tables, locks, prepared statements, FOUND_ROWS: no statement may use
    /// another data node's connection while it lasts.
    Other,
}

/// True when the statement may create state that only its storage connection holds.
pub(super) fn creates_connection_state(sql: &str, kind: StatementKind, bytes: ByteSummary) -> bool {
    connection_state(sql, kind, bytes) != ConnectionState::None
}

/// The state the statement may create that only its storage connection holds. Taking
/// a sequence's values sets the connection's LASTVAL, which the session must find
/// again, as it finds its user variables.
pub(super) fn connection_state(
    sql: &str,
    kind: StatementKind,
    bytes: ByteSummary,
) -> ConnectionState {
    match statement_state(sql, kind, bytes) {
        ConnectionState::None
            if matches!(
                kind,
                StatementKind::Select
                    | StatementKind::Insert
                    | StatementKind::Replace
                    | StatementKind::Update
                    | StatementKind::Do
            ) && strata_planner::takes_sequence_values(sql) =>
        {
            ConnectionState::UserVariables
        }
        state => state,
    }
}

/// [`connection_state`] apart from sequences.
fn statement_state(sql: &str, kind: StatementKind, bytes: ByteSummary) -> ConnectionState {
    if runs_routine_body(sql, kind) {
        // The body may set user variables (and session variables) the caller reads
        // next, as on MariaDB: the session keeps the connection.
        return ConnectionState::UserVariables;
    }
    match kind {
        StatementKind::Lock | StatementKind::Prepare => return ConnectionState::Other,
        StatementKind::Set
        | StatementKind::Select
        | StatementKind::Create
        | StatementKind::Do
        | StatementKind::Call => {}
        _ => {
            if !bytes.at_sign() {
                return ConnectionState::None;
            }
        }
    }
    let has = |needle: &str| contains_ignore_ascii_case(sql.as_bytes(), needle.as_bytes());
    let other = match kind {
        StatementKind::Create => has("temporary"),
        StatementKind::Select | StatementKind::Do => {
            bytes.underscore() && (has("get_lock") || has("sql_calc_found_rows"))
        }
        _ => false,
    };
    if other {
        ConnectionState::Other
    } else if reads_user_variables(sql, bytes) {
        ConnectionState::UserVariables
    } else {
        ConnectionState::None
    }
}

/// True when the statement runs a stored procedure's body (`CALL`, also through
/// `EXECUTE IMMEDIATE 'CALL ...'`) or may run a stored function's (a call of a name
/// that is no built-in), which may leave state on its connection that the session
/// cannot see: session variables (`SET SESSION TRANSACTION READ ONLY`), user
/// variables, temporary tables. Such a connection is kept by the session, or closed
/// rather than pooled (another session would inherit that state).
pub(super) fn runs_routine_body(sql: &str, kind: StatementKind) -> bool {
    match kind {
        StatementKind::Call => true,
        StatementKind::Execute => strata_sql::guard::dynamic_statement_text(sql, kind)
            .is_some_and(|text| runs_routine_body(&text, strata_sql::classify(&text))),
        StatementKind::Select
        | StatementKind::Insert
        | StatementKind::Replace
        | StatementKind::Update
        | StatementKind::Delete
        | StatementKind::Do
        | StatementKind::Set => strata_planner::may_call_stored_function(sql),
        _ => false,
    }
}

/// True when the statement names a user variable (`@x`). The host of an account
/// (`DEFINER=`root`@`localhost``, `'u'@'h'`) is no variable: it follows its user name
/// with nothing between, as a variable never follows a name or a string.
pub(super) fn reads_user_variables(sql: &str, bytes: ByteSummary) -> bool {
    if !bytes.at_sign() {
        return false;
    }
    let mut before: Option<strata_sql::Token> = None;
    code_tokens(sql).any(|t| {
        let account_host = before.is_some_and(|b| {
            b.span.end == t.span.start && (b.kind.is_ident() || b.kind == TokenKind::String)
        });
        before = Some(t);
        t.kind == TokenKind::UserVar && !account_host
    })
}

impl Session {
    /// True when this statement needs state only the session's pinned connection has
    /// (so no other data node may serve it): temporary tables, locks and the like, or
    /// user variables the statement names.
    pub(super) fn state_on_pinned_connection(&self) -> bool {
        self.backends.sticky
            && !self.backends.pinned.is_empty()
            && (self.backends.beyond_user_vars || self.statement.reads_user_vars)
    }

    /// Records that the statement created state only its connection holds.
    pub(super) fn note_connection_state(&mut self, state: ConnectionState) {
        match state {
            ConnectionState::None => {}
            ConnectionState::UserVariables => self.backends.sticky = true,
            ConnectionState::Other => {
                self.backends.sticky = true;
                self.backends.beyond_user_vars = true;
            }
        }
    }
}

/// The refusal of a statement over several data nodes in a session whose state lives
/// on one pinned connection (its user variables would be NULL on the other nodes).
pub(super) fn state_spanning_nodes() -> strata_protocol::MysqlError {
    strata_protocol::MysqlError::not_supported(
        "session state (user variables, temporary tables, locks) spanning several data nodes",
    )
}

#[cfg(test)]
mod tests {
    use super::reads_user_variables;
    use strata_sql::ByteSummary;

    #[test]
    fn an_account_host_is_no_user_variable() {
        let reads = |sql: &str| reads_user_variables(sql, ByteSummary::of(sql.as_bytes()));
        assert!(!reads(
            "CREATE DEFINER=`root`@`localhost` FUNCTION f() RETURNS INT RETURN 1"
        ));
        assert!(!reads(
            "CREATE DEFINER=root@localhost PROCEDURE p() SELECT 1"
        ));
        assert!(!reads("CREATE DEFINER='u'@'%' VIEW v AS SELECT 1"));
        assert!(reads(
            "CREATE DEFINER=root@localhost PROCEDURE p() SELECT @x"
        ));
        assert!(reads("SELECT @x"));
        assert!(reads("SELECT 1,@x"));
    }
}
