//! The SHOW statements default deny lets through, and SHOW in prepared statements.

use crate::lexer::{code_tokens, ident_value, Token, TokenKind};

use super::{Refusal, SchemaPolicy};

/// The SHOW statements the session does not answer itself ([`crate::Show::Other`]):
/// those about the client's own objects pass, those about the storage server
/// (replication, logs, plugins, engine internals, its accounts) are refused, and so is
/// anything not known. `logical` tells whether a `FROM|IN db` names a logical database.
pub fn check_show_other(sql: &str, logical: &dyn Fn(&str) -> bool) -> Result<(), Refusal> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(sql).to_ascii_uppercase())
            .unwrap_or_default()
    };
    let (second, third) = (word(1), word(2));
    if routine_code_name(sql).is_some() {
        return Err(Refusal::FeatureDisabled {
            feature: "SHOW PROCEDURE|FUNCTION CODE".into(),
            option: "--with-debug".into(),
        });
    }
    let allowed = match second.as_str() {
        "CREATE" => matches!(
            third.as_str(),
            "PROCEDURE" | "FUNCTION" | "TRIGGER" | "EVENT" | "SEQUENCE" | "PACKAGE"
        ),
        "TRIGGERS" | "EVENTS" | "PRIVILEGES" | "AUTHORS" | "CONTRIBUTORS" | "LOCALES" | "COUNT" => {
            true
        }
        // The storage connection's profiles are of the statements Strata sent it (its
        // own among them), on whichever connection ran them, and lack those the compute
        // node answered itself: never the client's list.
        "PROFILE" | "PROFILES" => {
            return Err(Refusal::Unsupported(format!(
                "SHOW {second} (statement profiles of a client's connection)"
            )));
        }
        "MASTER"
        | "SLAVE"
        | "REPLICA"
        | "BINARY"
        | "BINLOG"
        | "RELAYLOG"
        | "ENGINE"
        | "PLUGINS"
        | "OPEN"
        | "ALL"
        | "USER_STATISTICS"
        | "CLIENT_STATISTICS"
        | "INDEX_STATISTICS"
        | "TABLE_STATISTICS"
        | "EXPLAIN"
        | "ANALYZE"
        | "QUERY_RESPONSE_TIME" => {
            return Err(Refusal::ServerCommand(format!("SHOW {second}")));
        }
        w if w.starts_with("WSREP") => {
            return Err(Refusal::ServerCommand(format!("SHOW {second}")));
        }
        _ => false,
    };
    if !allowed {
        let what = if third.is_empty() {
            second
        } else {
            format!("{second} {third}")
        };
        return Err(Refusal::Unsupported(format!("SHOW {what}")));
    }
    for (i, t) in toks.iter().enumerate() {
        if t.is_keyword(sql, "FROM") || t.is_keyword(sql, "IN") {
            if let Some(db) = toks.get(i + 1).filter(|n| n.kind.is_ident()) {
                let name = ident_value(db.text(sql));
                if !logical(&name) {
                    return Err(Refusal::StorageSchema(name.into_owned()));
                }
            }
        }
    }
    Ok(())
}

/// The routine `SHOW PROCEDURE|FUNCTION|PACKAGE BODY CODE [db.]name` names, if `sql`
/// is one: MariaDB's release builds answer it 1289 (the instructions it shows exist in
/// debug builds only), after 1046 for an unqualified name without a current database.
pub fn routine_code_name(sql: &str) -> Option<(Option<String>, String)> {
    let toks: Vec<Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let is = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if !is(0, "SHOW") {
        return None;
    }
    let at = if (is(1, "PROCEDURE") || is(1, "FUNCTION")) && is(2, "CODE") {
        3
    } else if is(1, "PACKAGE") && is(2, "BODY") && is(3, "CODE") {
        4
    } else {
        return None;
    };
    let (schema, name, end) = crate::sequences::name_at(&toks, sql, at)?;
    (end == toks.len()).then_some((schema, name))
}

/// A SHOW run as a prepared statement goes to a storage node as it is, so only the
/// forms that show nothing but the client's own objects and server-independent facts
/// pass; the ones the session answers itself (databases, tables, variables, grants,
/// processes) cannot be prepared through Strata.
pub fn check_prepared_show(sql: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    use crate::show::Show;
    let show = crate::show::parse_show(sql).map_err(Refusal::Syntax)?;
    let logical_or_refused = |db: Option<&str>| match db {
        Some(db) if !schemas.logical(db) => Err(Refusal::StorageSchema(db.to_string())),
        _ => Ok(()),
    };
    match show {
        Show::Status { .. }
        | Show::Warnings { .. }
        | Show::Errors { .. }
        | Show::Engines
        | Show::Charset { .. }
        | Show::Collation { .. } => Ok(()),
        Show::TableStatus { db, .. } => logical_or_refused(db.as_deref()),
        Show::Columns { table, .. }
        | Show::Index { table, .. }
        | Show::CreateTable { table }
        | Show::CreateView { view: table } => logical_or_refused(table.schema.as_deref()),
        Show::Other => check_show_other(sql, &|db| schemas.logical(db)),
        _ => Err(Refusal::Unsupported(
            "this SHOW as a prepared statement (run it as a plain query)".into(),
        )),
    }
}

/// True for a SHOW the session answers itself (databases, tables, variables, status,
/// processes, ...) that `PREPARE ... FROM` may prepare: the session keeps its text and
/// runs it as a query at EXECUTE, so the prepared one answers as the text one. Not with
/// a `?` (its value would have to be put into the text) nor for SHOW WARNINGS/ERRORS
/// (the storage node's own answer is the right one).
pub fn show_prepared_by_session(sql: &str) -> bool {
    use crate::show::Show;
    if code_tokens(sql).any(|t| t.kind == TokenKind::Placeholder) {
        return false;
    }
    !matches!(
        crate::show::parse_show(sql),
        Err(_) | Ok(Show::Warnings { .. } | Show::Errors { .. } | Show::Other)
    )
}

/// A SHOW about the server's own binary log, which the compute node does not have (the
/// storage servers' logs are private to Strata): answered as MariaDB without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinlogShow {
    /// `SHOW BINARY|MASTER LOGS`: ER_NO_BINARY_LOGGING (1381).
    Logs,
    /// `SHOW MASTER|BINLOG STATUS`: nothing (no result set).
    Status,
    /// `SHOW BINLOG EVENTS ...`: nothing (no result set).
    Events,
}

/// The [`BinlogShow`] `sql` is, if it is one.
pub fn binlog_show(sql: &str) -> Option<BinlogShow> {
    let toks: Vec<Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let is = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if !is(0, "SHOW") {
        return None;
    }
    if (is(1, "BINARY") || is(1, "MASTER")) && is(2, "LOGS") && toks.len() == 3 {
        Some(BinlogShow::Logs)
    } else if (is(1, "MASTER") || is(1, "BINLOG")) && is(2, "STATUS") && toks.len() == 3 {
        Some(BinlogShow::Status)
    } else if is(1, "BINLOG") && is(2, "EVENTS") {
        // `[IN 'log'] [FROM pos] [LIMIT [offset,] n]`; anything else is left to the
        // guard's refusal.
        let plain = toks[3..].iter().enumerate().all(|(i, t)| {
            ["IN", "FROM", "LIMIT"].iter().any(|k| is(i + 3, k))
                || t.is_punct(sql, ",")
                || matches!(t.kind, TokenKind::String | TokenKind::Integer)
        });
        plain.then_some(BinlogShow::Events)
    } else {
        None
    }
}
