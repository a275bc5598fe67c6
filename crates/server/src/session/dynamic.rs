//! Dynamic SQL: `PREPARE s FROM source` and `EXECUTE IMMEDIATE source [USING ...]`.
//! A string literal is checked by the guard as the statement it holds. An expression of
//! literals, user variables and `CONCAT`/`CONCAT_WS` is evaluated first on the
//! connection that holds the session's user variables (it has no side effect, and runs
//! again, with the same value, when the storage node runs the statement); its value is
//! then checked and authorized like any statement. Other expressions stay refused: their
//! text is known only where they run. Over several data nodes `EXECUTE IMMEDIATE` runs
//! its text as the statement itself, planned like any, and `PREPARE ... FROM` keeps
//! its text in the session (see `dynamic_planned.rs`). A SHOW the session
//! answers itself, USE, CREATE/ALTER/DROP DATABASE and an account statement (GRANT,
//! CREATE USER, ...) are kept here when prepared and run as the text statement at
//! EXECUTE; so is a CREATE/ALTER/DROP of an object with a definer (the session records
//! its definer).

use strata_protocol::{codes, MysqlError};
use strata_sql::dynamic::{dynamic_source, DynamicSource};
use strata_sql::{classify, code_tokens, ByteSummary, StatementKind};

use super::isolation::{mentions_information_schema, sql_string};
use super::{Answer, Session, SessionError};

impl Session {
    /// The text `PREPARE ... FROM expr` or `EXECUTE IMMEDIATE expr` will run when the
    /// compute node can evaluate `expr` (None for a literal, which the guard reads, for
    /// what it cannot evaluate, and for other statements); MariaDB's errors for a NULL
    /// text (1064) and a subquery (1970).
    pub(super) async fn dynamic_text(
        &mut self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<Option<String>, MysqlError> {
        let Some(dynamic) = dynamic_source(sql, kind) else {
            return Ok(None);
        };
        match dynamic.source {
            DynamicSource::Literal(_) | DynamicSource::Opaque => Ok(None),
            DynamicSource::Subquery => Err(MysqlError::new(
                codes::SUBQUERIES_NOT_SUPPORTED,
                dynamic.subquery_message(),
            )),
            DynamicSource::Evaluable(expr) => {
                let (_, rows) = self.home_result(&format!("SELECT {expr}"), false).await?;
                match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                    Some(Some(text)) => Ok(Some(text)),
                    _ => Err(MysqlError::parse("NULL", 1)),
                }
            }
        }
    }

    /// Default deny and privileges for the text a dynamic statement will run.
    pub(super) fn check_dynamic(&self, text: &str, kind: StatementKind) -> Result<(), MysqlError> {
        let schemas = &self.ctx.private_schemas;
        let checked = if kind == StatementKind::Prepare {
            strata_sql::guard::check_prepared_text(text, schemas)
        } else {
            strata_sql::guard::check_dynamic_statement(text, "EXECUTE IMMEDIATE", schemas)
        };
        checked.map_err(|r| self.refusal_error(&r))?;
        self.check_merge_table(text, classify(text))?;
        self.authorize(text, classify(text))
    }

    /// MariaDB's 1227 for a `PREPARE`/`EXECUTE IMMEDIATE` of a SET of a session
    /// variable the account may not set (the storage account may set them all).
    pub(super) fn dynamic_set_privileges(
        &self,
        sql: &str,
        kind: StatementKind,
        text: Option<&str>,
    ) -> Result<(), MysqlError> {
        if !matches!(kind, StatementKind::Prepare | StatementKind::Execute) {
            return Ok(());
        }
        let Some(inner) = statement_text(sql, text, kind) else {
            return Ok(());
        };
        if classify(&inner) != StatementKind::Set {
            return Ok(());
        }
        self.session_privileges(&strata_sql::parse_set(&inner).unwrap_or_default())
    }

    /// `PREPARE s FROM` a statement over information_schema: the same PREPARE of the
    /// text restricted as a read of it would be (what the client may see as of PREPARE
    /// time, as privileges are checked then). None when the text reads no
    /// information_schema table.
    pub(super) fn prepare_information_schema(
        &self,
        sql: &str,
        text: Option<&str>,
    ) -> Option<Result<String, MysqlError>> {
        let inner = statement_text(sql, text, StatementKind::Prepare)?;
        let inner = inner.as_ref();
        if !mentions_information_schema(inner)
            && !self.reads_information_schema(inner, classify(inner))
        {
            return None;
        }
        let from = code_tokens(sql).find(|t| t.is_keyword(sql, "FROM"))?;
        let prefix = sql.get(..from.span.end)?;
        Some(
            self.prepared_information_schema(inner)
                .map(|restricted| format!("{prefix} {}", sql_string(&restricted))),
        )
    }

    /// `EXECUTE IMMEDIATE` of `text` in a session whose statements the planner places
    /// (a database over several data nodes): the text runs as the statement itself.
    /// None when the statement goes to the home data node as usual.
    pub(super) async fn execute_immediate_planned(
        &mut self,
        sql: &str,
        text: Option<&str>,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let text = statement_text(sql, text, StatementKind::Execute)?;
        let text = text.as_ref();
        let kind = classify(text);
        if !self.needs_planner(text, kind, ByteSummary::of(text.as_bytes())) {
            return None;
        }
        let refusal = if matches!(
            kind,
            StatementKind::Prepare | StatementKind::Execute | StatementKind::Deallocate
        ) {
            Some(MysqlError::new(
                codes::UNSUPPORTED_PS,
                "This command is not supported in the prepared statement protocol yet",
            ))
        } else {
            None
        };
        if let Some(e) = refusal {
            self.err(&e);
            return Some(Ok(Answer::Failed));
        }
        Some(Box::pin(self.statement(text, text.as_bytes(), more)).await)
    }
}

impl Session {
    /// `PREPARE name FROM` a SHOW the session answers itself (see
    /// `strata_sql::guard::show_prepared_by_session`) or an account statement (parsed
    /// now, as MariaDB's PREPARE does; privileges are checked at EXECUTE): the session
    /// keeps the text, and `EXECUTE name` runs it as a query. A form the storage node
    /// checks (a table's
    /// columns, indexes, CREATE statement, status) is prepared there too, so PREPARE
    /// fails as MariaDB's does; any other storage statement of that name is dropped, as
    /// MariaDB replaces it. None when the text is not such a SHOW (the name is
    /// forgotten here: the storage node's statement replaces it).
    pub(super) async fn prepare_show(
        &mut self,
        sql: &str,
        text: Option<&str>,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let name = strata_sql::dynamic::prepared_name(sql, StatementKind::Prepare)?;
        self.prepared.shows.remove(&name);
        self.prepared.texts.remove(&name);
        let inner = statement_text(sql, text, StatementKind::Prepare)?;
        let inner = inner.as_ref();
        let account = kept_account_statement(inner);
        let ddl = !account && definer_ddl(inner);
        if !account && !ddl && !kept_show(inner) {
            return None;
        }
        if account {
            if let Err(e) = strata_sql::account::parse_account(inner) {
                self.err(&super::query::sql_error(&e));
                return Some(Ok(Answer::Failed));
            }
        }
        let checked_there = ddl
            || !account
                && classify(inner) == StatementKind::Show
                && strata_sql::guard::check_prepared_show(inner, &self.ctx.private_schemas).is_ok();
        let answer = if checked_there {
            let bytes = ByteSummary::of(sql.as_bytes());
            self.note_connection_state(super::query::connection_state(
                sql,
                StatementKind::Prepare,
                bytes,
            ));
            match self.forward(sql, sql.as_bytes(), more).await {
                Ok(answer) => answer,
                Err(e) => return Some(Err(e)),
            }
        } else {
            if !self.backends.pinned.is_empty() {
                // Only a pinned connection can hold the session's storage statements.
                let drop = format!("DEALLOCATE PREPARE {}", quote_ident(&name));
                let _ = self.home_result(&drop, false).await;
            }
            self.ok(0, more);
            Answer::Ok
        };
        if answer == Answer::Ok {
            self.prepared.shows.insert(name, inner.into());
        }
        Some(Ok(answer))
    }

    /// `EXECUTE name` of a SHOW or account statement the session keeps (1210 with
    /// USING: it has no parameters), `EXECUTE IMMEDIATE` of one (run as the query), and
    /// `DEALLOCATE PREPARE name` of one. None for every other statement.
    pub(super) async fn execute_show(
        &mut self,
        sql: &str,
        kind: StatementKind,
        text: Option<&str>,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let name = strata_sql::dynamic::prepared_name(sql, kind);
        if kind == StatementKind::Deallocate {
            self.prepared.shows.remove(&name?)?;
            self.ok(0, more);
            return Some(Ok(Answer::Ok));
        }
        if kind != StatementKind::Execute {
            return None;
        }
        let shown: String = match name {
            Some(name) => self.prepared.shows.get(&name)?.to_string(),
            None => {
                let inner = statement_text(sql, text, StatementKind::Execute)?;
                let inner = inner.as_ref();
                // An account statement, USE or a database's DDL never reaches a
                // storage node: with USING it is 1210 below.
                let own = kept_account_statement(inner) || never_sent(inner) || definer_ddl(inner);
                if !own && (!kept_show(inner) || strata_sql::dynamic::has_using(sql)) {
                    return None;
                }
                inner.to_string()
            }
        };
        if strata_sql::dynamic::has_using(sql) {
            self.err(&MysqlError::new(
                codes::WRONG_ARGUMENTS,
                "Incorrect arguments to EXECUTE",
            ));
            return Some(Ok(Answer::Failed));
        }
        Some(Box::pin(self.statement(&shown, shown.as_bytes(), more)).await)
    }
}

/// True for a SHOW the session answers itself, and for what is never sent to a storage
/// node as written: USE and CREATE/ALTER/DROP DATABASE (run as themselves at EXECUTE,
/// with their checks, the catalog and the schema tracking).
fn kept_show(text: &str) -> bool {
    classify(text) == StatementKind::Show && strata_sql::guard::show_prepared_by_session(text)
        || never_sent(text)
}

/// USE and CREATE/ALTER/DROP DATABASE: the session's own statements.
fn never_sent(text: &str) -> bool {
    match classify(text) {
        StatementKind::Use => true,
        StatementKind::Create | StatementKind::Drop | StatementKind::Alter => {
            strata_sql::is_database_statement(text)
        }
        _ => false,
    }
}

/// True for a CREATE/ALTER/DROP/RENAME of a view, routine, trigger or event: its
/// definer is recorded by the session (see `definers.rs`), so EXECUTE runs it as the
/// text statement; PREPARE is checked on the storage node, as MariaDB's is.
fn definer_ddl(text: &str) -> bool {
    matches!(
        classify(text),
        StatementKind::Create | StatementKind::Alter | StatementKind::Drop | StatementKind::Rename
    ) && strata_sql::parse_object_ddl(text).is_some()
}

/// True for an account statement (the session answers them all).
fn kept_account_statement(text: &str) -> bool {
    strata_sql::guard::is_account_statement(text, classify(text))
}

pub(super) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The text a dynamic statement runs: `text` when the caller has it, else the literal
/// `sql` names (None when it names none).
pub(super) fn statement_text<'a>(
    sql: &str,
    text: Option<&'a str>,
    kind: StatementKind,
) -> Option<std::borrow::Cow<'a, str>> {
    match text {
        Some(t) => Some(std::borrow::Cow::Borrowed(t)),
        None => strata_sql::guard::dynamic_statement_text(sql, kind).map(std::borrow::Cow::Owned),
    }
}
