//! Read/write splitting from the statement's side: the `rw=` hint
//! (`/*!strata:rw=primary*/`, `/*!strata:rw=replica*/`, with HotDB's `master`/`slave`
//! spelled too) and whether a SELECT may run on a replica at all — it must neither lock
//! (`FOR UPDATE`, `LOCK IN SHARE MODE`), nor write (`INTO`), nor read or change what
//! only the session's own connection has (user variables, `LAST_INSERT_ID()`, named
//! locks, sequences...). Pure functions over the lexer's tokens.

use crate::lexer::{Lexer, Token, TokenKind};

/// Where an `rw=` hint sends a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RwHint {
    /// `rw=primary` (or `master`): the primary, whatever the database's setting.
    Primary,
    /// `rw=replica` (or `slave`): a replica in the read set, whatever the setting.
    Replica,
}

/// The statement's `rw=` hint, if it has one (the last one wins).
pub fn rw_hint(sql: &str) -> Option<RwHint> {
    let mut hint = None;
    for token in Lexer::new(sql) {
        let Some(body) = token.hint_body(sql) else {
            continue;
        };
        let Some((key, value)) = body.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("rw") {
            continue;
        }
        match value.trim().to_ascii_lowercase().as_str() {
            "primary" | "master" => hint = Some(RwHint::Primary),
            "replica" | "slave" => hint = Some(RwHint::Replica),
            _ => {}
        }
    }
    hint
}

/// True for an `rw=` hint's body.
fn is_rw_hint(body: &str) -> bool {
    body.split_once('=')
        .is_some_and(|(key, _)| key.trim().eq_ignore_ascii_case("rw"))
}

/// True when `sql` has Strata hints and all of them are `rw=` hints: nothing for the
/// planner to route by.
pub fn only_rw_hints(sql: &str) -> bool {
    let mut any = false;
    for token in Lexer::new(sql) {
        if let Some(body) = token.hint_body(sql) {
            if !is_rw_hint(body) {
                return false;
            }
            any = true;
        }
    }
    any
}

/// `sql` with its `rw=` hints blanked out (spaces, so positions stay), None when it
/// has none. A storage node must not see them: it would run `/*!...*/` as code.
pub fn without_rw_hints(sql: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for token in Lexer::new(sql) {
        if token.hint_body(sql).is_some_and(is_rw_hint) {
            let text = out.get_or_insert_with(|| sql.to_string());
            let (start, end) = (token.span.start, token.span.end);
            text.replace_range(start..end, &" ".repeat(end - start));
        }
    }
    out
}

/// Functions whose result or effect belongs to the session's connection (or that
/// change data): a replica's connection would answer differently.
pub const CONNECTION_FUNCTIONS: &[&str] = &[
    "LAST_INSERT_ID",
    "FOUND_ROWS",
    "ROW_COUNT",
    "GET_LOCK",
    "RELEASE_LOCK",
    "RELEASE_ALL_LOCKS",
    "IS_FREE_LOCK",
    "IS_USED_LOCK",
    "NEXTVAL",
    "LASTVAL",
    "SETVAL",
    "MASTER_GTID_WAIT",
    "MASTER_POS_WAIT",
];

/// System variables that describe the session's own last statements.
const CONNECTION_VARIABLES: &[&str] = &[
    "LAST_INSERT_ID",
    "INSERT_ID",
    "IDENTITY",
    "LAST_GTID",
    "WARNING_COUNT",
    "ERROR_COUNT",
];

/// True when `sql`, a SELECT, may run on a replica: no locking clause, no `INTO`, no
/// user variable, no sequence (`NEXT VALUE FOR`), none of the functions or variables
/// that belong to the session's connection.
pub fn replica_safe_select(sql: &str) -> bool {
    let code: Vec<Token> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    for (i, t) in code.iter().enumerate() {
        match t.kind {
            TokenKind::UserVar => return false,
            TokenKind::SysVar => {
                let name = t.text(sql).trim_start_matches('@');
                let name = name.rsplit('.').next().unwrap_or(name);
                if CONNECTION_VARIABLES
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(name))
                {
                    return false;
                }
            }
            TokenKind::Ident => {
                let locking = (kw(i, "FOR") && (kw(i + 1, "UPDATE") || kw(i + 1, "SHARE")))
                    || (kw(i, "LOCK") && kw(i + 1, "IN"))
                    || kw(i, "INTO")
                    || ((kw(i, "NEXT") || kw(i, "PREVIOUS")) && kw(i + 1, "VALUE"));
                if locking {
                    return false;
                }
                let called = code.get(i + 1).is_some_and(|n| n.is_punct(sql, "("));
                if called
                    && CONNECTION_FUNCTIONS
                        .iter()
                        .any(|f| t.text(sql).eq_ignore_ascii_case(f))
                {
                    return false;
                }
            }
            TokenKind::Error(_) => return false,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rw_hints_are_read_in_either_spelling() {
        let cases = [
            ("/*!strata:rw=primary*/ SELECT 1", Some(RwHint::Primary)),
            ("SELECT /*!strata:rw=replica*/ 1", Some(RwHint::Replica)),
            ("/*!hotdb:rw=master*/ SELECT 1", Some(RwHint::Primary)),
            ("/*!HotDB: rw = slave */ SELECT 1", Some(RwHint::Replica)),
            ("/*!strata:dnid=1*/ SELECT 1", None),
            ("/*!strata:rw=nowhere*/ SELECT 1", None),
            ("SELECT '/*!strata:rw=replica*/'", None),
            ("/* strata:rw=replica */ SELECT 1", None),
        ];
        for (sql, want) in cases {
            assert_eq!(rw_hint(sql), want, "{sql}");
        }
    }

    #[test]
    fn rw_hints_are_blanked_for_the_storage_node() {
        let sql = "/*!strata:rw=replica*/ SELECT 1";
        assert!(only_rw_hints(sql));
        assert_eq!(
            without_rw_hints(sql).as_deref(),
            Some("                       SELECT 1")
        );
        assert!(!only_rw_hints(
            "/*!strata:rw=replica*/ /*!strata:dnid=1*/ SELECT 1"
        ));
        assert!(!only_rw_hints("SELECT 1"));
        assert_eq!(without_rw_hints("/*!strata:dnid=1*/ SELECT 1"), None);
    }

    #[test]
    fn only_selects_without_locks_writes_or_connection_state_may_go_to_a_replica() {
        let safe = [
            "SELECT * FROM t WHERE id = 1",
            "SELECT COUNT(*), NOW(), @@sql_mode FROM t",
            "SELECT 'FOR UPDATE', `into` FROM t",
            "SELECT next_id FROM t -- FOR UPDATE",
            "WITH c AS (SELECT 1) SELECT * FROM c",
            "SELECT update_time FROM t",
        ];
        for sql in safe {
            assert!(replica_safe_select(sql), "{sql}");
        }
        let primary = [
            "SELECT * FROM t WHERE id = 1 FOR UPDATE",
            "select * from t for share",
            "SELECT * FROM t LOCK IN SHARE MODE",
            "SELECT v INTO @x FROM t",
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "SELECT @x",
            "SELECT @x := 1",
            "SELECT LAST_INSERT_ID()",
            "SELECT found_rows()",
            "SELECT GET_LOCK('a', 1)",
            "SELECT NEXTVAL(s)",
            "SELECT NEXT VALUE FOR s",
            "SELECT @@last_insert_id",
            "SELECT @@session.last_gtid",
            "SELECT 'unterminated",
        ];
        for sql in primary {
            assert!(!replica_safe_select(sql), "{sql}");
        }
    }
}
