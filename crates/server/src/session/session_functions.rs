//! `ROW_COUNT()`, `LAST_INSERT_ID()`, `CONNECTION_ID()`, `USER()`, `SESSION_USER()`,
//! `SYSTEM_USER()` and `CURRENT_USER()` in a statement a storage node runs: a pooled
//! storage connection would answer with whatever statement it (or another session on
//! it) ran last, its own thread id and Strata's storage account, so the compute node
//! writes the session's values into the text (a routine body, run later, keeps its
//! calls).

use strata_protocol::MysqlError;
use strata_sql::{contains_ignore_ascii_case, ByteSummary, RowCountText, StatementKind};

use super::isolation::string_literal;
use super::Session;

/// The functions whose calls are the session's.
const SESSION_FUNCTIONS: [&str; 5] = [
    "CONNECTION_ID",
    "USER",
    "SESSION_USER",
    "SYSTEM_USER",
    "CURRENT_USER",
];

/// The error of a call in a select item whose column name could not be kept.
fn names_column(function: &str) -> MysqlError {
    MysqlError::not_supported(&format!(
        "{function} in a select item whose alias cannot be told from its expression (give it an alias)"
    ))
}

/// `text` (or `sql` when None) after `substitute`, which may change it.
fn then(
    text: Option<String>,
    sql: &str,
    substitute: impl FnOnce(&str) -> RowCountText,
    function: &str,
) -> Result<Option<String>, MysqlError> {
    match substitute(text.as_deref().unwrap_or(sql)) {
        RowCountText::Substituted(t) => Ok(Some(t)),
        RowCountText::Unchanged => Ok(text),
        RowCountText::NamesColumn => Err(names_column(function)),
    }
}

impl Session {
    /// The text with the calls of all these functions replaced by the session's
    /// values, None when it has none; Err when a select item's column name could not
    /// be kept.
    pub(super) fn substitute_session_values(
        &self,
        sql: &str,
        kind: StatementKind,
        bytes: ByteSummary,
    ) -> Result<Option<String>, MysqlError> {
        if kind == StatementKind::Create || strata_sql::split::is_compound_statement(sql) {
            return Ok(None);
        }
        let select = kind == StatementKind::Select;
        let mentions = |word: &[u8]| contains_ignore_ascii_case(sql.as_bytes(), word);
        let mut text = None;
        if bytes.underscore() && mentions(b"row_count") {
            let count = self.state.row_count;
            let sub = |t: &str| strata_sql::substitute_row_count(t, count, select);
            text = then(text, sql, sub, "ROW_COUNT()")?;
        }
        if bytes.underscore() && mentions(b"last_insert_id") {
            let id = self.state.last_insert_id;
            let sub = |t: &str| strata_sql::substitute_last_insert_id(t, id, select);
            text = then(text, sql, sub, "LAST_INSERT_ID()")?;
        }
        if bytes.at_sign() && (mentions(b"last_insert_id") || mentions(b"identity")) {
            let id = self.state.last_insert_id;
            let sub = |t: &str| strata_sql::substitute_last_insert_id_variables(t, id, select);
            text = then(text, sql, sub, "@@last_insert_id")?;
        }
        // A read of information_schema is rewritten over physical names, which its
        // DATABASE() is compared with; the rewrite gives the rows their logical names.
        if (mentions(b"database") || mentions(b"schema"))
            && !super::isolation::mentions_information_schema(sql)
        {
            if let Some(value) = self.database_literal(kind) {
                let values = [("DATABASE", value.clone()), ("SCHEMA", value)];
                let sub = |t: &str| strata_sql::substitute_session_calls(t, &values, select);
                text = then(text, sql, sub, "DATABASE()")?;
            }
        }
        let current = text.as_deref().unwrap_or(sql);
        match self.substitute_session_functions(current, kind)? {
            Some(t) => Ok(Some(t)),
            None => Ok(text),
        }
    }

    /// What `DATABASE()` is in a statement of `kind` a storage node runs, when the node
    /// would answer otherwise: the logical name of the current database where its
    /// physical name differs (the node's name is Strata's, not the client's). Only in
    /// statements that evaluate it now (a column DEFAULT in ALTER TABLE keeps the call).
    fn database_literal(&self, kind: StatementKind) -> Option<String> {
        use StatementKind as K;
        if !matches!(
            kind,
            K::Select | K::Insert | K::Replace | K::Update | K::Delete | K::Set | K::Call
        ) {
            return None;
        }
        let db = self.state.db.as_deref()?;
        let (_, physical) = self.state.home.as_ref()?;
        (**physical != *db).then(|| as_called(&string_literal(db, Some("utf8mb3")), "DATABASE"))
    }

    /// The text with the session functions' calls replaced, None when it has none;
    /// Err when a select item's column name could not be kept.
    fn substitute_session_functions(
        &self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<Option<String>, MysqlError> {
        let mentions = |word: &[u8]| contains_ignore_ascii_case(sql.as_bytes(), word);
        // KILL [QUERY] CONNECTION_ID() is the compute node's own statement.
        if kind == StatementKind::Kill || !(mentions(b"user") || mentions(b"connection_id")) {
            return Ok(None);
        }
        // One pass over the tokens (a table `users` is common): which are called.
        let toks: Vec<strata_sql::Token> = strata_sql::code_tokens(sql).collect();
        let called = |name: &str| {
            (0..toks.len()).any(|i| strata_sql::session_call_end(sql, &toks, i, name).is_some())
        };
        if !SESSION_FUNCTIONS.iter().any(|name| called(name)) {
            return Ok(None);
        }
        let user = format!(
            "{}@{}",
            self.identity.user,
            super::isolation::shown_host(&self.identity.entry.host)
        );
        let current = format!(
            "{}@{}",
            self.identity.account.user,
            self.identity.account.host.as_str()
        );
        let text =
            |s: &str, function: &str| as_called(&string_literal(s, Some("utf8mb3")), function);
        let values = [
            (
                "CONNECTION_ID",
                format!("CAST({} AS UNSIGNED)", self.identity.id),
            ),
            ("USER", text(&user, "USER")),
            ("SESSION_USER", text(&user, "SESSION_USER")),
            ("SYSTEM_USER", text(&user, "SYSTEM_USER")),
            ("CURRENT_USER", text(&current, "CURRENT_USER")),
        ];
        let values: Vec<(&str, String)> = values.into_iter().filter(|(n, _)| called(n)).collect();
        let select = kind == StatementKind::Select;
        match strata_sql::substitute_session_calls(sql, &values, select) {
            RowCountText::Substituted(t) => Ok(Some(t)),
            RowCountText::Unchanged => Ok(None),
            RowCountText::NamesColumn => Err(names_column("CONNECTION_ID() or USER()")),
        }
    }
}

/// `literal` standing for a call of `function` (`USER`, `DATABASE`, ...) with the
/// call's collation derivation (SYSCONST, stronger than a literal's): `IF(1, literal,
/// FUNCTION())` never evaluates the call, and takes its type and derivation with the
/// literal's value (`JSON_ARRAY(1, USER(), COMPRESS(x))` is NULL on MariaDB as the
/// call's derivation makes it, not an array as a plain literal's would).
fn as_called(literal: &str, function: &str) -> String {
    format!("IF(1, {literal}, {function}())")
}
