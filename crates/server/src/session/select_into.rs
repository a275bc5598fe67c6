//! `SELECT ... INTO @a, @b` in a database over several data nodes: the SELECT without
//! its INTO clause is planned and run like any other (merges, aggregates, ORDER BY and
//! LIMIT), then the compute node assigns its row to the user variables on the session's
//! home connection, where they live, as MariaDB would: one row sets them (with the
//! column's type: integers stay integers, decimals decimals, strings keep their
//! character set and collation), no row leaves them unchanged with warning 1329, a
//! second row is 1172 (after the first row's values were assigned, as MariaDB does), a
//! different number of variables is 1222. The read runs with
//! `character_set_results=NULL` so that strings come in their own character set and
//! their column definitions name their collation.

use std::sync::Arc;

use bytes::Bytes;
use strata_executor::row::Row;
use strata_executor::RowSink;
use strata_mysql::collation::Collation;
use strata_planner::Plan;
use strata_protocol::constants::coltype;
use strata_protocol::packets::ColumnDef;
use strata_protocol::{codes, MysqlError};
use strata_sql::{code_tokens, TokenKind};

use super::{Answer, Session, SessionError};

/// MariaDB's `decimals` of a floating-point result without fixed decimals.
const NOT_FIXED_DECIMALS: u8 = 31;
/// The column flag of an UNSIGNED number.
const UNSIGNED_FLAG: u16 = 32;
/// MariaDB's ER_TOO_MANY_ROWS.
const TOO_MANY_ROWS: (u16, &str) = (1172, "42000");
/// MariaDB's ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT.
const WRONG_NUMBER_OF_COLUMNS: (u16, &str) = (1222, "21000");

/// A `SELECT ... INTO @a, @b` split at its INTO clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SelectInto {
    /// The statement without its INTO clause.
    pub select: String,
    /// The variables as written (`@a`, `@'b c'`).
    pub vars: Vec<String>,
    /// The clause follows FROM (MariaDB's 1287: this placement is deprecated).
    pub at_end: bool,
}

/// The statement split at its INTO clause, when it is a SELECT whose only INTO (outside
/// parentheses) names user variables; None otherwise (OUTFILE, DUMPFILE, local
/// variables of a routine stay with the planner, which refuses them).
pub(super) fn split_select_into(sql: &str) -> Option<SelectInto> {
    let tokens: Vec<_> = code_tokens(sql).collect();
    if !tokens.first()?.is_keyword(sql, "SELECT") {
        return None;
    }
    let mut depth = 0usize;
    let mut seen_from = false;
    let mut found: Option<(usize, usize, Vec<String>, bool)> = None;
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        match (t.kind, t.text(sql)) {
            (TokenKind::Punct, "(") => depth += 1,
            (TokenKind::Punct, ")") => depth = depth.saturating_sub(1),
            (TokenKind::Ident, _) if depth == 0 && t.is_keyword(sql, "FROM") => seen_from = true,
            (TokenKind::Ident, _) if depth == 0 && t.is_keyword(sql, "INTO") => {
                if found.is_some() {
                    return None;
                }
                let mut vars = Vec::new();
                let mut j = i + 1;
                loop {
                    let v = tokens.get(j)?;
                    if v.kind != TokenKind::UserVar {
                        return None;
                    }
                    vars.push(v.text(sql).to_string());
                    match tokens.get(j + 1) {
                        Some(c) if c.kind == TokenKind::Punct && c.text(sql) == "," => j += 2,
                        _ => break,
                    }
                }
                found = Some((t.span.start, tokens[j].span.end, vars, seen_from));
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    let (start, end, vars, at_end) = found?;
    let select = format!("{} {}", sql[..start].trim_end(), sql[end..].trim_start());
    Some(SelectInto {
        select: select.trim().to_string(),
        vars,
        at_end,
    })
}

/// Keeps a result's column definitions and its first row; a second row ends the read
/// with 1172.
#[derive(Debug, Default)]
struct FirstRow {
    columns: Vec<ColumnDef>,
    row: Option<Bytes>,
}

impl RowSink for FirstRow {
    type Error = std::convert::Infallible;

    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), Self::Error> {
        self.columns = columns.to_vec();
        Ok(())
    }

    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, Self::Error>> {
        if self.row.is_some() {
            return Err(Ok(MysqlError::new(
                TOO_MANY_ROWS,
                "Result consisted of more than one row",
            )));
        }
        self.row = Some(payload);
        Ok(())
    }
}

impl Session {
    /// Runs `SELECT ... INTO @vars` over several data nodes (see the module's comment).
    pub(super) async fn select_into(
        &mut self,
        into: &SelectInto,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let assigned = self.select_into_vars(into).await;
        self.answer_select_into(into, assigned, more).await
    }

    /// Answers a `SELECT ... INTO @vars` whose row was assigned (`assigned` rows, 0 or
    /// 1) or failed: OK with MariaDB's warnings, or the error (kept for SHOW WARNINGS).
    pub(super) async fn answer_select_into(
        &mut self,
        into: &SelectInto,
        assigned: Result<u64, MysqlError>,
        more: bool,
    ) -> Result<Answer, SessionError> {
        match assigned {
            Ok(assigned) => {
                let mut warnings = Vec::new();
                if into.at_end {
                    warnings.push((1287u16, DEPRECATED.to_string()));
                }
                if assigned == 0 {
                    warnings.push((
                        1329,
                        "No data - zero rows fetched, selected, or processed".to_string(),
                    ));
                }
                let count = u16::try_from(warnings.len()).unwrap_or(u16::MAX);
                if !warnings.is_empty() {
                    let rows = warnings
                        .into_iter()
                        .map(|(code, text)| ("Warning", code, text))
                        .collect();
                    self.keep_diagnostics(rows).await;
                }
                self.ok_warned(assigned, count, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                if e.code == TOO_MANY_ROWS.0 || e.code == WRONG_NUMBER_OF_COLUMNS.0 {
                    // MariaDB's SHOW WARNINGS lists the statement's error.
                    self.keep_diagnostics(vec![("Error", e.code, e.message.clone())])
                        .await;
                }
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// Keeps `rows` (level, code, message) for SHOW WARNINGS after this statement.
    pub(super) async fn keep_diagnostics(&mut self, rows: Vec<(&str, u16, String)>) {
        match self.home_result("SHOW WARNINGS LIMIT 0", true).await {
            Ok((columns, _)) => {
                let rows = rows
                    .into_iter()
                    .map(|(level, code, text)| {
                        vec![Some(level.to_string()), Some(code.to_string()), Some(text)]
                    })
                    .collect();
                self.statement.warnings = Some((columns, rows));
            }
            Err(e) => tracing::debug!(error = %e, "SELECT ... INTO diagnostics not kept"),
        }
    }

    /// Reads the SELECT and assigns its row; the number of rows assigned (0 or 1).
    async fn select_into_vars(&mut self, into: &SelectInto) -> Result<u64, MysqlError> {
        // The variables are written, not read: the SELECT may run on every node.
        let bytes = strata_sql::ByteSummary::of(into.select.as_bytes());
        self.statement.reads_user_vars =
            super::connection_state::reads_user_variables(&into.select, bytes);
        let planned = self.plan_select(&into.select).await?;
        let prefix: Arc<str> = format!(
            "{}SET STATEMENT character_set_results=NULL FOR ",
            self.statement.variables.as_deref().unwrap_or("")
        )
        .into();
        let outer = self.statement.variables.replace(prefix);
        let mut first = FirstRow::default();
        let read = self.read_rows(&planned, &mut first).await;
        self.statement.variables = outer;
        let too_many = match read {
            Ok(()) => None,
            Err(e) if e.code == TOO_MANY_ROWS.0 && first.row.is_some() => Some(e),
            Err(e) => return Err(e),
        };
        if first.columns.len() == into.vars.len() && divides(&into.select) {
            if let Some(def) = first
                .columns
                .iter()
                .find(|c| matches!(c.col_type, coltype::DECIMAL | coltype::NEWDECIMAL))
            {
                // MariaDB keeps a quotient's digits beyond the result column's
                // decimals (up to a multiple of nine) in the variable.
                return Err(MysqlError::not_supported(&format!(
                    "SELECT ... INTO a user variable of a DECIMAL quotient or AVG() across data nodes (column '{}')",
                    def.name
                )));
            }
        }
        if first.columns.len() != into.vars.len() {
            return Err(MysqlError::new(
                WRONG_NUMBER_OF_COLUMNS,
                "The used SELECT statements have a different number of columns",
            ));
        }
        let Some(payload) = first.row else {
            return Ok(0);
        };
        let row = Row::decode(payload, first.columns.len())
            .map_err(|detail| MysqlError::new(codes::UNKNOWN, detail))?;
        let values: Vec<Option<&[u8]>> = (0..first.columns.len()).map(|i| row.value(i)).collect();
        self.assign_row(into, &first.columns, &values).await?;
        match too_many {
            Some(e) => Err(e),
            None => Ok(1),
        }
    }

    /// Assigns one row's `values` (of result columns `columns`) to the INTO variables.
    async fn assign_row(
        &mut self,
        into: &SelectInto,
        columns: &[ColumnDef],
        values: &[Option<&[u8]>],
    ) -> Result<(), MysqlError> {
        let mut assignments = Vec::with_capacity(into.vars.len());
        for ((var, def), value) in into.vars.iter().zip(columns).zip(values) {
            assignments.push(format!("{var} = {}", value_literal(def, *value)?));
        }
        self.assign_user_vars(&format!("SET {}", assignments.join(", ")))
            .await
    }

    /// Assigns a whole result read by the compute node (`SELECT ... INTO @vars` over a
    /// table Strata answers itself) as MariaDB would: 1222 for a different number of
    /// columns, nothing for no row, the first row then 1172 for more; the rows assigned.
    pub(super) async fn assign_result(
        &mut self,
        into: &SelectInto,
        columns: &[ColumnDef],
        rows: &[Vec<Option<String>>],
    ) -> Result<u64, MysqlError> {
        if columns.len() != into.vars.len() {
            return Err(MysqlError::new(
                WRONG_NUMBER_OF_COLUMNS,
                "The used SELECT statements have a different number of columns",
            ));
        }
        let Some(row) = rows.first() else {
            return Ok(0);
        };
        let values: Vec<Option<&[u8]>> = row
            .iter()
            .map(|v| v.as_deref().map(str::as_bytes))
            .collect();
        self.assign_row(into, columns, &values).await?;
        if rows.len() > 1 {
            return Err(MysqlError::new(
                TOO_MANY_ROWS,
                "Result consisted of more than one row",
            ));
        }
        Ok(1)
    }

    /// Plans the SELECT (with what planning may ask the home node for first).
    pub(super) async fn plan_select(&mut self, select: &str) -> Result<Plan, MysqlError> {
        let mut planned = self.plan_only(select, None);
        for _ in 0..3 {
            if planned.is_ok() {
                break;
            }
            match self.fetch_wanted().await {
                Ok(true) => planned = self.plan_only(select, None),
                Ok(false) => break,
                Err(e) => planned = Err(e),
            }
        }
        match planned {
            Ok(p) => Ok(p.plan),
            Err(e) => Err(self.syntax_verdict(select, e, false).await),
        }
    }

    /// Runs `set` (`SET @a = ...`) on the session's home connection, which keeps the
    /// variables for the statements that read them.
    pub(super) async fn assign_user_vars(&mut self, set: &str) -> Result<(), MysqlError> {
        self.statement.reads_user_vars = true;
        self.note_connection_state(super::connection_state::ConnectionState::UserVariables);
        self.home_result(set, false).await.map(|_| ())
    }
}

/// MariaDB's 1287 for INTO after FROM.
pub(super) const DEPRECATED: &str = "'<select expression> INTO <destination>;' is deprecated and will be removed in a future release. Please use 'SELECT <select list> INTO <destination> FROM...' instead";

/// A value of a result column as an SQL expression of the type MariaDB gives a user
/// variable assigned from that column (NULL too keeps the type).
pub(super) fn value_literal(def: &ColumnDef, value: Option<&[u8]>) -> Result<String, MysqlError> {
    let refuse = |what: &str| {
        Err(MysqlError::not_supported(&format!(
            "SELECT ... INTO a user variable of a {what} value across data nodes (column '{}'); CAST it in the SELECT",
            def.name
        )))
    };
    let unsigned = def.flags & UNSIGNED_FLAG != 0;
    let number = |text: &str| {
        let ok = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
        if ok {
            Ok(text.to_string())
        } else {
            Err(MysqlError::new(
                codes::UNKNOWN,
                format!("a data node sent '{text}' as a number"),
            ))
        }
    };
    let text = value.map(String::from_utf8_lossy);
    Ok(match def.col_type {
        coltype::NULL => "NULL".into(),
        coltype::TINY
        | coltype::SHORT
        | coltype::LONG
        | coltype::INT24
        | coltype::LONGLONG
        | coltype::YEAR => {
            let as_type = if unsigned || def.col_type == coltype::YEAR {
                "UNSIGNED"
            } else {
                "SIGNED"
            };
            match text {
                None => format!("CAST(NULL AS {as_type})"),
                Some(t) if as_type == "UNSIGNED" => format!("CAST({} AS UNSIGNED)", number(&t)?),
                Some(t) => number(&t)?,
            }
        }
        coltype::BIT => match value {
            None => "CAST(NULL AS UNSIGNED)".into(),
            Some(bytes) => {
                let n = bytes
                    .iter()
                    .fold(0u64, |n, &b| n.wrapping_shl(8) | u64::from(b));
                format!("CAST({n} AS UNSIGNED)")
            }
        },
        coltype::DECIMAL | coltype::NEWDECIMAL => match text {
            None => "CAST(NULL AS DECIMAL)".into(),
            Some(t) if t.contains('.') => number(&t)?,
            Some(t) => format!("CAST({} AS DECIMAL(65,0))", number(&t)?),
        },
        coltype::FLOAT => return refuse("FLOAT"),
        coltype::DOUBLE if def.decimals != NOT_FIXED_DECIMALS => {
            return refuse("DOUBLE with fixed decimals")
        }
        coltype::DOUBLE => match text {
            None => "CAST(NULL AS DOUBLE)".into(),
            Some(t) if t.contains(['e', 'E']) => number(&t)?,
            Some(t) => format!("{}e0", number(&t)?),
        },
        coltype::DATE | coltype::TIME | coltype::DATETIME | coltype::TIMESTAMP => {
            let keyword = match def.col_type {
                coltype::DATE => "DATE",
                coltype::TIME => "TIME",
                _ => "TIMESTAMP",
            };
            match text {
                None => format!("CAST(NULL AS {})", keyword.replace("TIMESTAMP", "DATETIME")),
                Some(t) if t.contains(['\'', '\\']) => {
                    return Err(MysqlError::new(
                        codes::UNKNOWN,
                        format!("a data node sent '{t}' as a date or time"),
                    ))
                }
                // A date or time becomes a string of MariaDB's numeric character set.
                Some(t) if zero_date(&t) => format!("_latin1'{t}'"),
                Some(t) => format!("{keyword}'{t}'"),
            }
        }
        coltype::GEOMETRY => return refuse("GEOMETRY"),
        _ if def.charset == 63 => match value {
            None => "CAST(NULL AS BINARY)".into(),
            Some(bytes) => format!("X'{}'", hex(bytes)),
        },
        _ => {
            let Some(collation) = Collation::from_id(def.charset) else {
                return refuse(&format!("{} string", Collation::name_of(def.charset)));
            };
            let charset = collation.charset().name().to_string();
            let name = collation.name();
            match value {
                None => format!("CAST(NULL AS CHAR CHARACTER SET {charset}) COLLATE {name}"),
                Some(bytes) => format!("_{charset} X'{}' COLLATE {name}", hex(bytes)),
            }
        }
    })
}

/// True when the select list (what precedes the first FROM outside parentheses)
/// divides (`/`) or averages (AVG).
fn divides(select: &str) -> bool {
    let mut depth = 0usize;
    for t in code_tokens(select) {
        match (t.kind, t.text(select)) {
            (TokenKind::Punct, "(") => depth += 1,
            (TokenKind::Punct, ")") => depth = depth.saturating_sub(1),
            (TokenKind::Punct, "/") => return true,
            (TokenKind::Ident, _) if t.is_keyword(select, "AVG") => return true,
            (TokenKind::Ident, _) if depth == 0 && t.is_keyword(select, "FROM") => return false,
            _ => {}
        }
    }
    false
}

/// A date with a zero year, month or day has no typed literal: it stays a string.
fn zero_date(v: &str) -> bool {
    let v = v.as_bytes();
    let part = |r: std::ops::Range<usize>| v.get(r).is_some_and(|p| p.iter().all(|&b| b == b'0'));
    v.get(4) == Some(&b'-') && (part(0..4) || part(5..7) || part(8..10))
}

/// Bytes as upper-case hexadecimal digits.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_into_clause_is_taken_out_wherever_it_stands() {
        let s = split_select_into("SELECT a, b INTO @x, @`y z` FROM t WHERE c = 1").expect("split");
        assert_eq!(s.select, "SELECT a, b FROM t WHERE c = 1");
        assert_eq!(s.vars, ["@x", "@`y z`"]);
        assert!(!s.at_end);
        let s = split_select_into("SELECT a FROM t ORDER BY a LIMIT 1 INTO @x FOR UPDATE")
            .expect("split");
        assert_eq!(s.select, "SELECT a FROM t ORDER BY a LIMIT 1 FOR UPDATE");
        assert!(s.at_end);
        let s = split_select_into("SELECT (SELECT 1 FROM u) INTO @x FROM t").expect("split");
        assert!(!s.at_end);
        for other in [
            "SELECT a INTO OUTFILE '/tmp/x' FROM t",
            "SELECT a INTO v FROM t",
            "SELECT a FROM t",
            "INSERT INTO t SELECT @a",
            "SELECT a INTO @x FROM t INTO @y",
        ] {
            assert_eq!(split_select_into(other), None, "{other}");
        }
    }

    #[test]
    fn quotients_are_found_in_the_select_list_only() {
        assert!(divides("SELECT AVG(d) FROM t"));
        assert!(divides("SELECT (SELECT d / 3 FROM u) FROM t"));
        assert!(!divides("SELECT d FROM t WHERE id = 6 / 2"));
        assert!(!divides(
            "SELECT d FROM t WHERE id IN (SELECT AVG(x) FROM u)"
        ));
    }

    #[test]
    fn values_keep_their_types() {
        let col = |col_type: u8, charset: u16, decimals: u8, flags: u16| ColumnDef {
            name: "c".into(),
            charset,
            col_type,
            decimals,
            flags,
            ..ColumnDef::varchar("c")
        };
        let lit = |def: &ColumnDef, v: Option<&[u8]>| value_literal(def, v).expect("literal");
        assert_eq!(lit(&col(coltype::LONG, 63, 0, 0), Some(b"-7")), "-7");
        assert_eq!(
            lit(&col(coltype::LONG, 63, 0, UNSIGNED_FLAG), Some(b"7")),
            "CAST(7 AS UNSIGNED)"
        );
        assert_eq!(
            lit(&col(coltype::NEWDECIMAL, 63, 2, 0), Some(b"1.50")),
            "1.50"
        );
        assert_eq!(
            lit(&col(coltype::NEWDECIMAL, 63, 0, 0), Some(b"3")),
            "CAST(3 AS DECIMAL(65,0))"
        );
        assert_eq!(lit(&col(coltype::DOUBLE, 63, 31, 0), Some(b"1.5")), "1.5e0");
        assert_eq!(
            lit(&col(coltype::VAR_STRING, 8, 0, 0), Some(b"\xE9'")),
            "_latin1 X'E927' COLLATE latin1_swedish_ci"
        );
        assert_eq!(
            lit(&col(coltype::VAR_STRING, 8, 0, 0), None),
            "CAST(NULL AS CHAR CHARACTER SET latin1) COLLATE latin1_swedish_ci"
        );
        assert_eq!(
            lit(&col(coltype::BIT, 63, 0, 0), Some(&[1, 2])),
            "CAST(258 AS UNSIGNED)"
        );
        assert_eq!(
            lit(
                &col(coltype::DATETIME, 63, 0, 0),
                Some(b"2024-01-02 03:04:05")
            ),
            "TIMESTAMP'2024-01-02 03:04:05'"
        );
        assert!(value_literal(&col(coltype::FLOAT, 63, 31, 0), Some(b"1.1")).is_err());
    }
}
