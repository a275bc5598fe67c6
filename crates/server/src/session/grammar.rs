//! What the client hears when Strata's own parser rejects a statement in a database over
//! several data nodes. sqlparser does not read all of MariaDB's grammar, so a 1064 from
//! it does not mean the SQL is bad: a data node's parser is asked (the statement is
//! prepared, which never executes, and closed at once). What MariaDB accepts is refused
//! with 1235 naming the construct Strata could not read; what it rejects gets MariaDB's
//! own 1064, worded and positioned as MariaDB words it. Only the error path pays. The
//! same is asked of a text Strata's guard rejects as starting no statement and of a
//! SHOW form it does not know, on any database.

use std::sync::Arc;

use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::{Lexer, TokenKind};

use super::Session;

/// ER_PARSE_ERROR.
const PARSE_ERROR: u16 = 1064;
/// ER_SYNTAX_ERROR, MariaDB's other word for a statement its grammar rejects.
const SYNTAX_ERROR: u16 = 1149;
/// ER_INVALID_CHARACTER_STRING: MariaDB's lexer rejects the text before its grammar.
const INVALID_CHARACTER_STRING: u16 = 1300;
/// ER_SUBQUERIES_NOT_SUPPORTED: MariaDB's grammar rejects a subquery in this clause
/// (`CHECK`, `PURGE ... BEFORE`); its message names the clause only.
const SUBQUERIES_NOT_SUPPORTED: u16 = 1970;
/// ER_UNSUPPORTED_PS: the statement cannot be prepared, so its grammar is not known.
const UNSUPPORTED_PS: u16 = 1295;
/// ER_SPECIFIC_ACCESS_DENIED_ERROR: the guard's refusal of a server-wide statement.
const ACCESS_DENIED: u16 = 1227;
/// ER_UNKNOWN_SYSTEM_VARIABLE.
const UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
/// Characters of the statement MariaDB quotes after `near` (`%-.80T`).
const NEAR_CHARS: usize = 80;

/// A data node's parser on a statement.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// It parses (its error, if any, came after the grammar: unknown table, column...).
    Accepted,
    /// MariaDB's 1064, as it worded it.
    Rejected(MysqlError),
    /// Not asked, or the answer says nothing about the grammar.
    Unknown,
}

impl Session {
    /// `e` when it is not a syntax error, or when MariaDB's verdict cannot be had;
    /// otherwise 1235 for what MariaDB's grammar accepts and MariaDB's own 1064 for what
    /// it does not. `sql` has passed the guard; `prepared` when it came through
    /// COM_STMT_PREPARE (its `?` are placeholders, not an error).
    pub(super) async fn syntax_verdict(
        &mut self,
        sql: &str,
        e: MysqlError,
        prepared: bool,
    ) -> MysqlError {
        if e.code != PARSE_ERROR || !askable(sql, prepared) {
            return e;
        }
        match self.ask_data_node(sql).await {
            Verdict::Accepted => MysqlError::not_supported(&unsupported_construct(sql, &e.message)),
            Verdict::Rejected(theirs) => theirs,
            Verdict::Unknown => e,
        }
    }

    /// MariaDB's own rejection of `sql` in place of Strata's refusal `refused`: Strata's
    /// 1064 for a text that starts no statement it knows, its 1235 for a SHOW form it
    /// does not know, its 1044/1227/1142 for what the guard or the account does not
    /// allow (MariaDB judges the grammar before privileges). What MariaDB rejects gets
    /// its 1064 (`SHOW STATISTICS`), 1970 (a subquery where its grammar allows none) or
    /// 1300 (an identifier invalid in the connection's character set); what its grammar
    /// takes gets Strata's refusal, a 1235 in place of a 1064 (Oracle mode's `x := 1`);
    /// `refused` when it cannot be asked.
    pub(super) async fn mariadb_rejection(&mut self, sql: &str, refused: MysqlError) -> MysqlError {
        if !askable(sql, false) {
            return refused;
        }
        match self.ask_data_node(sql).await {
            Verdict::Rejected(theirs) => theirs,
            Verdict::Accepted if refused.code == PARSE_ERROR => {
                let words: Vec<&str> = sql.split_whitespace().take(3).collect();
                let words: String = words.join(" ").chars().take(60).collect();
                MysqlError::not_supported(&format!("the statement \"{words}...\""))
            }
            Verdict::Accepted | Verdict::Unknown => refused,
        }
    }

    /// MariaDB's 1193 for a system variable `sql` sets globally that no server knows, in
    /// place of Strata's refusal `refused` of setting it (MariaDB's parser looks the name
    /// up before any privilege, in a routine body too); `refused` otherwise.
    pub(super) async fn unknown_variable_first(
        &mut self,
        sql: &str,
        refused: MysqlError,
    ) -> MysqlError {
        if refused.code != ACCESS_DENIED {
            return refused;
        }
        for name in strata_sql::guard::globally_set_variables(sql) {
            let probe = format!("SELECT @@global.`{}`", name.replace('`', "``"));
            if let Err(e) = self.home_result(&probe, true).await {
                if e.code == UNKNOWN_SYSTEM_VARIABLE {
                    return e;
                }
            }
        }
        refused
    }

    /// [`Self::mariadb_rejection`] for the text a dynamic statement computes from `expr`
    /// (`EXECUTE IMMEDIATE expr`, `PREPARE s FROM expr`): its value as the compute node
    /// read it may not be the bytes MariaDB would parse (a byte invalid in the
    /// connection's character set), so the session's own connection prepares `expr`
    /// itself, under a name of Strata's, and drops it at once.
    pub(super) async fn dynamic_rejection(
        &mut self,
        expr: &str,
        refused: MysqlError,
    ) -> MysqlError {
        if refused.code != PARSE_ERROR {
            return refused;
        }
        let probe = format!("PREPARE strata_syntax_probe FROM {expr}");
        match self.home_result(&probe, false).await {
            Ok(_) => {
                if let Err(e) = self
                    .home_result("DEALLOCATE PREPARE strata_syntax_probe", false)
                    .await
                {
                    tracing::debug!(session = self.identity.id, error = %e.message, "probe not dropped");
                }
                let words: String = expr.chars().take(60).collect();
                MysqlError::not_supported(&format!("the statement {words} computes"))
            }
            Err(e)
                if matches!(
                    e.code,
                    PARSE_ERROR | SYNTAX_ERROR | INVALID_CHARACTER_STRING
                ) =>
            {
                e
            }
            Err(_) => refused,
        }
    }

    /// Prepares `sql` (with the physical names it would be sent with) on the session's
    /// home data node and closes it, on the session's connection there or a pooled one
    /// that is outside its transaction.
    async fn ask_data_node(&mut self, sql: &str) -> Verdict {
        let Ok((dnid, physical)) = self.home_node() else {
            return Verdict::Unknown;
        };
        let sent = self.rewrite_schemas_for(sql, Some(dnid));
        let asked = match self.backends.take(dnid) {
            Some(mut lease) => {
                let asked = match lease.sync_database(physical.as_deref()).await {
                    Ok(()) => lease.prepare_and_close(&sent).await,
                    Err(e) => Err(e),
                };
                self.finish(lease);
                asked
            }
            None => match self.probe_lease(dnid, physical).await {
                // Dropped afterwards: back to the pool, never joined to a transaction.
                Some(mut lease) => lease.prepare_and_close(&sent).await,
                None => return Verdict::Unknown,
            },
        };
        let verdict = match asked {
            Ok(()) => Verdict::Accepted,
            Err(strata_backend::BackendError::Server(err)) => match err.code {
                PARSE_ERROR | SYNTAX_ERROR => match near_in_original(&err.message, &sent, sql) {
                    Some(message) => Verdict::Rejected(MysqlError {
                        code: err.code,
                        state: "42000",
                        message,
                    }),
                    None => Verdict::Unknown,
                },
                // Its message quotes the bytes, no name.
                INVALID_CHARACTER_STRING => Verdict::Rejected(MysqlError {
                    code: err.code,
                    state: "HY000",
                    message: err.message,
                }),
                SUBQUERIES_NOT_SUPPORTED => Verdict::Rejected(MysqlError {
                    code: err.code,
                    state: "42000",
                    message: err.message,
                }),
                UNSUPPORTED_PS => Verdict::Unknown,
                _ => Verdict::Accepted,
            },
            Err(_) => Verdict::Unknown,
        };
        tracing::debug!(
            session = self.identity.id,
            dnid = dnid.get(),
            ?verdict,
            "syntax asked of a data node"
        );
        verdict
    }

    /// A pooled connection to `dnid` with the session's variables (sql_mode shapes the
    /// grammar) and `physical` database; None when there is none to be had.
    async fn probe_lease(
        &mut self,
        dnid: DataNodeId,
        physical: Option<Arc<str>>,
    ) -> Option<strata_backend::Lease> {
        let node = self.ctx.topology.node(dnid)?;
        let counting = self.client.row_counting();
        super::backends::pooled_lease(
            &node.pool,
            dnid,
            physical.as_deref(),
            &self.state.vars,
            (counting, false),
        )
        .await
        .ok()
    }
}

/// False when a data node's parser cannot judge `sql` as the client meant it: Strata's
/// own syntax (routing hints, SHARD BY) is no MariaDB's, and a text statement's `?` is an
/// error that PREPARE would take for a placeholder.
fn askable(sql: &str, prepared: bool) -> bool {
    let mut code = Lexer::new(sql).filter(|t| t.kind != TokenKind::Whitespace);
    !code.any(|t| {
        t.kind == TokenKind::Hint
            || (!prepared && t.kind == TokenKind::Placeholder)
            || (t.kind == TokenKind::Ident && t.text(sql).eq_ignore_ascii_case("shard"))
    })
}

/// The construct named in the 1235: the statement's text around where Strata's parser
/// stopped (its message says `at Line: L, Column: C`), or the statement's first words.
fn unsupported_construct(sql: &str, message: &str) -> String {
    let code: Vec<_> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    let at = position_of(message)
        .and_then(|(line, column)| byte_offset(sql, line, column))
        .and_then(|offset| code.iter().position(|t| t.span.end > offset))
        .unwrap_or(0);
    let from = at.saturating_sub(1);
    let to = (at + 2).min(code.len().saturating_sub(1));
    let snippet = match (code.get(from), code.get(to)) {
        (Some(a), Some(b)) => sql.get(a.span.start..b.span.end).unwrap_or(""),
        _ => "",
    };
    let snippet: String = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    let snippet = match snippet.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &snippet[..cut]),
        None => snippet,
    };
    format!("the syntax at \"{snippet}\" over several data nodes")
}

/// (line, column) from a sqlparser message's `at Line: L, Column: C`.
fn position_of(message: &str) -> Option<(usize, usize)> {
    let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

/// The byte offset of 1-based `line` and `column` (in characters) in `sql`.
fn byte_offset(sql: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += sql.get(start..)?.find('\n')? + 1;
    }
    let text = sql.get(start..)?;
    Some(
        start
            + text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(text.len(), |(i, _)| i),
    )
}

/// MariaDB's 1064 `message` on `sent` (the statement with physical schema names),
/// its `near '...'` taken from the client's `original` at the same token instead, so
/// no physical name reaches the client. None when the two cannot be lined up.
fn near_in_original(message: &str, sent: &str, original: &str) -> Option<String> {
    if sent == original {
        return Some(message.to_string());
    }
    let open = message.find(" near '")? + " near '".len();
    let close = message.rfind("' at line ")?;
    let near = message.get(open..close)?;
    let near = near.strip_suffix("...").unwrap_or(near);
    let at = find_suffix_start(sent, near)?;
    let sent_tokens: Vec<_> = Lexer::new(sent).collect();
    let original_tokens: Vec<_> = Lexer::new(original).collect();
    if sent_tokens.len() != original_tokens.len() {
        return None;
    }
    let from = if at >= sent.len() {
        original.len()
    } else {
        let i = sent_tokens
            .iter()
            .position(|t| t.span.start <= at && at < t.span.end)?;
        let (s, o) = (sent_tokens[i], original_tokens[i]);
        if s.text(sent) == o.text(original) {
            o.span.start + (at - s.span.start)
        } else {
            o.span.start
        }
    };
    let rest = original.get(from..)?;
    let quoted = match rest.char_indices().nth(NEAR_CHARS) {
        Some((cut, _)) => format!("{}...", &rest[..cut]),
        None => rest.to_string(),
    };
    Some(format!("{}{quoted}{}", &message[..open], &message[close..]))
}

/// Where in `sql` the text `near` (a prefix of some suffix of it) starts: the last such
/// place, as MariaDB's position is that of the token it stopped at.
fn find_suffix_start(sql: &str, near: &str) -> Option<usize> {
    if near.is_empty() {
        return Some(sql.len());
    }
    sql.match_indices(near).map(|(i, _)| i).last()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strata_syntax_and_text_placeholders_are_not_asked() {
        assert!(askable("SELECT {fn concat('a', 'b')}", false));
        assert!(!askable("/*!strata:dnid=1*/ SELECT {fn x()}", false));
        assert!(!askable("CREATE TABLE t (a int) SHARD BY GLOBAL", false));
        assert!(!askable("SELECT ? + {fn x()}", false));
        assert!(askable("SELECT ? + {fn x()}", true));
        assert!(askable("SELECT 'shard' + {fn x()}", false));
    }

    #[test]
    fn the_construct_is_the_text_where_sqlparser_stopped() {
        let sql = "SELECT a,\n  {fn concat(a, 'x')} FROM t";
        let message = "Expected: an expression, found: { at Line: 2, Column: 3";
        assert_eq!(
            unsupported_construct(sql, message),
            "the syntax at \", {fn concat\" over several data nodes"
        );
        assert_eq!(
            unsupported_construct("EXPLAIN EXTENDED SELECT 1", "no position"),
            "the syntax at \"EXPLAIN EXTENDED SELECT\" over several data nodes"
        );
    }

    #[test]
    fn mariadbs_near_text_is_taken_from_the_clients_statement() {
        let prefix = "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use";
        let sent = "SELECT * FROM phys_db_1.t WHERE x x";
        let original = "SELECT * FROM shop.t WHERE x x";
        let message = format!("{prefix} near 'x' at line 1");
        assert_eq!(
            near_in_original(&message, sent, original).as_deref(),
            Some(format!("{prefix} near 'x' at line 1").as_str())
        );
        let sent = "SELECT * FROM t WHERE frm phys_db_1.t";
        let original = "SELECT * FROM t WHERE frm shop.t";
        let message = format!("{prefix} near 'phys_db_1.t' at line 1");
        assert_eq!(
            near_in_original(&message, sent, original).as_deref(),
            Some(format!("{prefix} near 'shop.t' at line 1").as_str())
        );
        let message = format!("{prefix} near '' at line 1");
        assert_eq!(
            near_in_original(&message, "SELECT phys.t.", "SELECT shop.t.").as_deref(),
            Some(message.as_str())
        );
    }

    #[test]
    fn a_long_near_text_is_cut_at_80_characters() {
        let original = format!("SELECT 1 FROM shop.t WHERE é{}", "x".repeat(100));
        let sent = original.replace("shop", "phys");
        let near = format!("é{}...", "x".repeat(79));
        let message = format!("syntax; near '{near}' at line 1");
        assert_eq!(
            near_in_original(&message, &sent, &original).as_deref(),
            Some(message.as_str())
        );
    }

    #[test]
    fn positions_are_read_from_sqlparser_messages() {
        assert_eq!(
            position_of("Expected: ), found: x at Line: 3, Column: 14"),
            Some((3, 14))
        );
        assert_eq!(byte_offset("ab\ncé d", 2, 3), Some(6));
        assert_eq!(position_of("Query was empty"), None);
    }
}
