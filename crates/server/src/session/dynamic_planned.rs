//! SQL-level prepared statements in a session whose statements the planner places (a
//! database over several data nodes): `PREPARE name FROM text` is checked where it
//! would run (the storage node's PREPARE finds syntax errors and unknown tables, as
//! MariaDB's does) and its text kept here under the name; `EXECUTE name USING ...` and
//! `EXECUTE IMMEDIATE text USING ...` bind their values as literals of their types,
//! as a server-side prepared statement over several nodes does, and run the text as
//! the statement itself, planned (so an INSERT goes where its bound key says).

use std::sync::Arc;

use strata_catalog::sharding::KeyLiteral;
use strata_protocol::constants::coltype;
use strata_protocol::{codes, MysqlError};
use strata_sql::dynamic::{placeholders, prepared_name, using_values, UsingValue};
use strata_sql::{classify, ByteSummary, StatementKind};

use super::{backend_error, Answer, Session, SessionError};

/// The binary character set: a string of it is written as a hexadecimal literal.
const BINARY: u16 = 63;

impl Session {
    /// `PREPARE name FROM` a text that needs the planner: checked, kept, answered OK.
    /// None when the text goes to the storage node as usual.
    pub(super) async fn prepare_planned(
        &mut self,
        sql: &str,
        text: Option<&str>,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let name = prepared_name(sql, StatementKind::Prepare)?;
        let text = super::dynamic::statement_text(sql, text, StatementKind::Prepare)?;
        let text: &str = text.as_ref();
        if !self.needs_planner(text, classify(text), ByteSummary::of(text.as_bytes())) {
            return None;
        }
        // MariaDB drops a statement of that name even when the new PREPARE fails.
        if !self.backends.pinned.is_empty() {
            // Only a pinned connection can hold the session's storage statements.
            let drop = format!("DEALLOCATE PREPARE {}", super::dynamic::quote_ident(&name));
            let _ = self.home_result(&drop, false).await;
        }
        if let Err(e) = self.check_prepared_text(text).await {
            self.err(&e);
            return Some(Ok(Answer::Failed));
        }
        self.prepared.texts.insert(name, Arc::from(text));
        self.ok(0, more);
        Some(Ok(Answer::Ok))
    }

    /// Prepares `text` (its views expanded) on the data node it would run on first, as
    /// a server-side prepared statement is: MariaDB's errors at PREPARE.
    async fn check_prepared_text(&mut self, text: &str) -> Result<(), MysqlError> {
        let expanded = self.expanded_views(text)?;
        let text = expanded.as_deref().unwrap_or(text);
        let digest = strata_sql::normalize_digest(text);
        let routed = match self.statement_node(text, &digest, None) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => self.home_node(),
            Err(e) => Err(self.syntax_verdict(text, e, true).await),
        };
        let (dnid, physical) = routed?;
        let mut lease = self.lease(dnid, physical.as_deref()).await?;
        let prepared = lease.ensure_prepared(&Arc::from(text)).await;
        self.finish(lease);
        prepared.map(|_| ()).map_err(|e| backend_error(dnid, &e))
    }

    /// `EXECUTE name [USING ...]` of a statement kept here, `EXECUTE IMMEDIATE text
    /// USING ...` of a text that needs the planner, and `DEALLOCATE PREPARE name` of a
    /// kept statement. None for every other statement.
    pub(super) async fn execute_planned(
        &mut self,
        sql: &str,
        kind: StatementKind,
        text: Option<&str>,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let name = prepared_name(sql, kind);
        if kind == StatementKind::Deallocate {
            self.prepared.texts.remove(&name?)?;
            self.ok(0, more);
            return Some(Ok(Answer::Ok));
        }
        if kind != StatementKind::Execute {
            return None;
        }
        let text: String = match name {
            Some(name) => self.prepared.texts.get(&name)?.to_string(),
            None => {
                let inner = super::dynamic::statement_text(sql, text, StatementKind::Execute)?;
                let inner: &str = inner.as_ref();
                let inner_kind = classify(inner);
                if !strata_sql::dynamic::has_using(sql)
                    || !self.needs_planner(inner, inner_kind, ByteSummary::of(inner.as_bytes()))
                    || matches!(
                        inner_kind,
                        StatementKind::Prepare | StatementKind::Execute | StatementKind::Deallocate
                    )
                {
                    return None;
                }
                inner.to_string()
            }
        };
        let bound = match self.bind_using(sql, &text).await {
            Ok(bound) => bound,
            Err(e) => {
                self.err(&e);
                return Some(Ok(Answer::Failed));
            }
        };
        Some(Box::pin(self.statement(&bound, bound.as_bytes(), more)).await)
    }

    /// `text` with the USING values of `sql` in place of its `?` parameters, each a
    /// literal of the value's type (integers, exact decimals, doubles, strings, NULL):
    /// 1210 when their numbers differ, 1970 for a subquery, as MariaDB.
    async fn bind_using(&mut self, sql: &str, text: &str) -> Result<String, MysqlError> {
        let values = using_values(sql);
        let params = placeholders(text);
        if values.len() != params.len() {
            return Err(MysqlError::new(
                codes::WRONG_ARGUMENTS,
                "Incorrect arguments to EXECUTE",
            ));
        }
        if values.is_empty() {
            return Ok(text.to_string());
        }
        let mut items = Vec::with_capacity(values.len());
        for value in &values {
            match value {
                UsingValue::Evaluable(expr) => items.push(format!("{expr}, HEX({expr})")),
                UsingValue::Subquery => {
                    return Err(MysqlError::new(
                        codes::SUBQUERIES_NOT_SUPPORTED,
                        "EXECUTE..USING does not support subqueries or stored functions",
                    ))
                }
                UsingValue::Opaque => {
                    return Err(MysqlError::not_supported(
                        "EXECUTE ... USING of this value in a database over several data nodes",
                    ))
                }
            }
        }
        let (columns, rows) = self
            .home_result(&format!("SELECT {}", items.join(", ")), false)
            .await?;
        let row = rows.into_iter().next().unwrap_or_default();
        let no_backslash_escapes = self
            .state
            .vars
            .get("sql_mode")
            .is_some_and(|m| m.to_ascii_uppercase().contains("NO_BACKSLASH_ESCAPES"));
        let mut literals = Vec::with_capacity(params.len());
        for (i, in_limit) in params.iter().enumerate() {
            let column = columns.get(2 * i);
            let value = row.get(2 * i).cloned().flatten();
            let hex = row.get(2 * i + 1).cloned().flatten();
            let literal = match (column, value) {
                (_, None) => KeyLiteral::Null,
                (None, Some(v)) => KeyLiteral::String(v.into_bytes()),
                (Some(c), Some(v)) => typed_literal(c, v, hex.as_deref()),
            };
            let literal = if *in_limit {
                limit_literal(literal)?
            } else {
                literal
            };
            let mut written = super::prepared::sql_literal(&literal, no_backslash_escapes)?;
            if column.is_some_and(|c| matches!(c.col_type, coltype::DOUBLE | coltype::FLOAT))
                && !*in_limit
                && matches!(literal, KeyLiteral::Number(_))
                && !written.contains(['e', 'E'])
            {
                // A double stays a double: `1.5` alone would be an exact decimal.
                written.push_str("e0");
            }
            literals.push(written);
        }
        strata_sql::inline_params(text, &literals).map_err(|e| super::query::sql_error(&e))
    }
}

/// A USING value as the literal the binary protocol would bind: by its column's type.
fn typed_literal(
    column: &strata_protocol::packets::ColumnDef,
    value: String,
    hex: Option<&str>,
) -> KeyLiteral {
    match column.col_type {
        coltype::TINY | coltype::SHORT | coltype::LONG | coltype::INT24 | coltype::LONGLONG => {
            KeyLiteral::Integer(value)
        }
        coltype::NEWDECIMAL | coltype::DECIMAL | coltype::DOUBLE | coltype::FLOAT => {
            KeyLiteral::Number(value)
        }
        _ if column.charset == BINARY => match hex.and_then(decode_hex) {
            Some(bytes) => KeyLiteral::Bytes(bytes),
            None => KeyLiteral::String(value.into_bytes()),
        },
        _ => KeyLiteral::String(value.into_bytes()),
    }
}

/// A LIMIT row count or offset: an integer (MariaDB converts a string or decimal
/// there; Strata refuses what is not written as a whole number).
fn limit_literal(literal: KeyLiteral) -> Result<KeyLiteral, MysqlError> {
    let whole = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match literal {
        KeyLiteral::Integer(t) if whole(&t) => Ok(KeyLiteral::Integer(t)),
        KeyLiteral::String(b) if std::str::from_utf8(&b).is_ok_and(whole) => Ok(
            KeyLiteral::Integer(String::from_utf8_lossy(&b).into_owned()),
        ),
        KeyLiteral::Integer(t) if t.starts_with('-') => Err(MysqlError::new(
            codes::WRONG_ARGUMENTS,
            "Incorrect arguments to EXECUTE",
        )),
        _ => Err(MysqlError::not_supported(
            "a LIMIT parameter that is not a whole number in a database over several data nodes",
        )),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}
