//! Procedures whose body builds SQL text from an expression (`EXECUTE IMMEDIATE expr`,
//! `PREPARE s FROM expr`), or calls one that does, are run by the compute node, in a
//! database over one data node: the body is read from the data node (which keeps the
//! procedure, so SHOW CREATE and information_schema stay MariaDB's), parsed into its
//! control flow (`skeleton`), and run statement by statement (`run`): a statement that
//! names no local variable runs as the client's own statement (every check, catalog
//! bookkeeping); one that does runs inside an anonymous block declaring the locals
//! with their values, itself checked as the client's statement; expressions are
//! evaluated by MariaDB the same way (`values`). Each dynamic text thus becomes a
//! statement of the client's, checked when it exists. Over several data nodes the
//! CREATE stays refused; what the interpreter cannot run is 1235 at CALL.

mod cursors;
mod records;
mod run;
pub(crate) mod skeleton;
mod statements;
mod values;

use std::collections::HashSet;
use std::sync::Arc;

use strata_protocol::{codes, MysqlError};
use strata_sql::{code_tokens, Token, TokenKind};

use super::{Answer, Session, SessionError};

/// How deep interpreted CALLs may nest (MariaDB's `max_sp_recursion_depth` is about
/// recursion; this bounds any chain).
const MAX_DEPTH: u8 = 16;

/// A parameter's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// IN.
    In,
    /// OUT.
    Out,
    /// INOUT.
    InOut,
}

/// A procedure parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    /// Its direction.
    pub mode: Mode,
    /// Its name, lowercased.
    pub name: String,
    /// Its type, with character set and collation.
    pub ty: String,
}

/// A procedure the compute node runs.
#[derive(Debug, Clone)]
pub(crate) struct Routine {
    /// Its name as stored.
    pub name: String,
    /// Its body.
    pub body: String,
    /// The sql_mode it was created with (None: a compound statement, which runs in
    /// the session's).
    pub sql_mode: Option<String>,
    /// Its parameters, in order.
    pub params: Vec<Param>,
}

/// True when `sql` (a body or compound statement) runs SQL text built from an
/// expression: `EXECUTE IMMEDIATE` or `PREPARE ... FROM` of anything but a string
/// literal.
pub fn has_dynamic_expression(sql: &str) -> bool {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let not_string = |t: Option<&Token>| t.is_none_or(|t| t.kind != TokenKind::String);
    toks.iter().enumerate().any(|(i, t)| {
        if i > 0 && toks[i - 1].is_punct(sql, ".") {
            return false;
        }
        if t.is_keyword(sql, "EXECUTE")
            && toks
                .get(i + 1)
                .is_some_and(|n| n.is_keyword(sql, "IMMEDIATE"))
        {
            return not_string(toks.get(i + 2));
        }
        if t.is_keyword(sql, "PREPARE") {
            let from = (i + 1..toks.len().min(i + 5)).find(|&j| toks[j].is_keyword(sql, "FROM"));
            return from.is_some_and(|j| not_string(toks.get(j + 1)));
        }
        false
    })
}

/// The procedures `body` CALLs, as (database or None for the routine's own, name
/// lowercased).
pub(crate) fn calls(body: &str) -> Vec<(Option<String>, String)> {
    let toks: Vec<Token> = code_tokens(body).collect();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !t.is_keyword(body, "CALL") || (i > 0 && toks[i - 1].is_punct(body, ".")) {
            continue;
        }
        let name = |j: usize| {
            toks.get(j)
                .filter(|t| t.kind.is_ident())
                .map(|t| strata_sql::lexer::ident_value(t.text(body)).into_owned())
        };
        let Some(first) = name(i + 1) else { continue };
        if toks.get(i + 2).is_some_and(|d| d.is_punct(body, ".")) {
            if let Some(second) = name(i + 3) {
                out.push((Some(first), second.to_lowercase()));
            }
        } else {
            out.push((None, first.to_lowercase()));
        }
    }
    out
}

/// The procedures (database, name lowercased) that must be interpreted: those with
/// dynamic SQL of an expression and those calling one of them, given every procedure's
/// (database, name, body).
pub(crate) fn interpreted_set(procs: &[(String, String, String)]) -> HashSet<(String, String)> {
    let mut set: HashSet<(String, String)> = procs
        .iter()
        .filter(|(_, _, body)| has_dynamic_expression(body))
        .map(|(s, n, _)| (s.clone(), n.to_lowercase()))
        .collect();
    loop {
        let before = set.len();
        for (schema, name, body) in procs {
            let key = (schema.clone(), name.to_lowercase());
            if set.contains(&key) {
                continue;
            }
            let reaches = calls(body)
                .into_iter()
                .any(|(db, callee)| set.contains(&(db.unwrap_or_else(|| schema.clone()), callee)));
            if reaches {
                set.insert(key);
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// True for a compound statement: `BEGIN NOT ATOMIC`, IF, CASE, WHILE, LOOP, REPEAT,
/// FOR (MariaDB takes no label on one at top level).
fn is_compound(sql: &str) -> bool {
    let mut toks = code_tokens(sql);
    let Some(first) = toks.next() else {
        return false;
    };
    if first.is_keyword(sql, "BEGIN") {
        return toks.next().is_some_and(|t| t.is_keyword(sql, "NOT"));
    }
    ["IF", "CASE", "WHILE", "LOOP", "REPEAT", "FOR"]
        .iter()
        .any(|k| first.is_keyword(sql, k))
}

/// A CALL statement's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallText {
    /// The database qualifier.
    pub db: Option<String>,
    /// The procedure's name as written (unquoted).
    pub name: String,
    /// The arguments' texts.
    pub args: Vec<String>,
}

/// Splits `CALL [db.]name[(arg, ...)]`.
pub(crate) fn parse_call(sql: &str) -> Option<CallText> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    if !toks.first()?.is_keyword(sql, "CALL") {
        return None;
    }
    let ident = |j: usize| {
        toks.get(j)
            .filter(|t| t.kind.is_ident())
            .map(|t| strata_sql::lexer::ident_value(t.text(sql)).into_owned())
    };
    let (db, name, mut at) = if toks.get(2).is_some_and(|t| t.is_punct(sql, ".")) {
        (Some(ident(1)?), ident(3)?, 4)
    } else {
        (None, ident(1)?, 2)
    };
    let mut args = Vec::new();
    if toks.get(at).is_some_and(|t| t.is_punct(sql, "(")) {
        let mut depth = 0usize;
        let mut start = at + 1;
        at += 1;
        loop {
            let t = toks.get(at)?;
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") && depth > 0 {
                depth -= 1;
            } else if depth == 0 && (t.is_punct(sql, ",") || t.is_punct(sql, ")")) {
                if at > start {
                    let text = sql.get(toks[start].span.start..toks[at - 1].span.end)?;
                    args.push(text.to_string());
                } else if t.is_punct(sql, ",") {
                    return None;
                }
                start = at + 1;
                if t.is_punct(sql, ")") {
                    at += 1;
                    break;
                }
            }
            at += 1;
        }
    }
    (at == toks.len()).then_some(CallText { db, name, args })
}

/// A string as a quoted SQL literal (valid with and without NO_BACKSLASH_ESCAPES when
/// it holds no backslash; `backslashes` says whether they escape).
pub(crate) fn quote(text: &str, backslashes: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if backslashes => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The database qualifier of `CREATE [OR REPLACE] PROCEDURE [IF NOT EXISTS]
/// [db.]name`: Some(None) for an unqualified name, None for another statement.
fn created_procedure_db(sql: &str) -> Option<Option<String>> {
    let toks: Vec<Token> = code_tokens(sql).take(12).collect();
    let at = toks.iter().position(|t| t.is_keyword(sql, "PROCEDURE"))?;
    if !toks.first()?.is_keyword(sql, "CREATE") || at > 4 {
        return None;
    }
    let mut i = at + 1;
    if toks.get(i).is_some_and(|t| t.is_keyword(sql, "IF")) {
        i += 3;
    }
    let qualified = toks.get(i + 1).is_some_and(|t| t.is_punct(sql, "."));
    Some(
        qualified
            .then(|| toks.get(i))
            .flatten()
            .map(|t| strata_sql::lexer::ident_value(t.text(sql)).into_owned()),
    )
}

/// The storage definer of a procedure the compute node runs: an account that does not
/// exist, so that the storage node refuses to run the procedure itself (1449) however
/// it is reached (an event, a prepared CALL, a compound statement, another routine).
pub(crate) const FENCE_DEFINER: &str = "`strata_interpreted`@`localhost`";

/// The statement prefix that keeps MariaDB's note about [`FENCE_DEFINER`] (1449) from
/// the client.
pub(crate) const FENCE_NOTES: &str = "SET STATEMENT sql_notes=0 FOR ";

impl Session {
    /// For a CREATE PROCEDURE with dynamic SQL of an expression: the text to run on the
    /// data node, with [`FENCE_DEFINER`]; 1235 outside a database over one data node (as
    /// before the compute node ran such procedures) and for SQL SECURITY INVOKER (which
    /// the storage node would run whatever its definer).
    pub(super) fn check_create_procedure(&self, sql: &str) -> Result<Option<String>, MysqlError> {
        let Some(db) = created_procedure_db(sql) else {
            return Ok(None);
        };
        if !has_dynamic_expression(sql) {
            return Ok(None);
        }
        let one_node = db
            .or_else(|| self.state.db.clone())
            .and_then(|db| self.ctx.topology.db(&db))
            .is_some_and(|logic| logic.data_nodes.len() == 1);
        if !one_node {
            return Err(MysqlError::not_supported(
                "EXECUTE IMMEDIATE or PREPARE of an expression inside a routine of a database over several data nodes",
            ));
        }
        let toks: Vec<Token> = code_tokens(sql).collect();
        let invoker = toks.windows(3).any(|w| {
            w[0].is_keyword(sql, "SQL")
                && w[1].is_keyword(sql, "SECURITY")
                && w[2].is_keyword(sql, "INVOKER")
        });
        if invoker {
            return Err(MysqlError::not_supported(
                "SQL SECURITY INVOKER for a procedure with dynamic SQL of an expression",
            ));
        }
        let mut after = 1;
        if toks.get(1).is_some_and(|t| t.is_keyword(sql, "OR"))
            && toks.get(2).is_some_and(|t| t.is_keyword(sql, "REPLACE"))
        {
            after = 3;
        }
        let Some(at) = toks.get(after - 1).map(|t| t.span.end) else {
            return Ok(None);
        };
        Ok(Some(format!(
            "{} DEFINER={FENCE_DEFINER}{}",
            sql.get(..at).unwrap_or(""),
            sql.get(at..).unwrap_or("")
        )))
    }

    /// Refuses `ALTER PROCEDURE p ... SQL SECURITY INVOKER` of a procedure the compute
    /// node runs (its storage copy would run again).
    pub(super) async fn check_alter_procedure(&mut self, sql: &str) -> Result<(), MysqlError> {
        let toks: Vec<Token> = code_tokens(sql).collect();
        let alters = toks.first().is_some_and(|t| t.is_keyword(sql, "ALTER"))
            && toks.get(1).is_some_and(|t| t.is_keyword(sql, "PROCEDURE"))
            && toks
                .windows(2)
                .any(|w| w[0].is_keyword(sql, "SECURITY") && w[1].is_keyword(sql, "INVOKER"));
        if !alters {
            return Ok(());
        }
        let Some(db) = self.state.db.clone() else {
            return Ok(());
        };
        let ident = |j: usize| {
            toks.get(j)
                .filter(|t| t.kind.is_ident())
                .map(|t| strata_sql::lexer::ident_value(t.text(sql)).into_owned())
        };
        let (db, name) = if toks.get(3).is_some_and(|t| t.is_punct(sql, ".")) {
            (ident(2).unwrap_or(db), ident(4))
        } else {
            (db, ident(2))
        };
        let Some(name) = name else { return Ok(()) };
        if self.load_routine(&db, &name, false).await?.is_some() {
            return Err(MysqlError::not_supported(
                "SQL SECURITY INVOKER for a procedure with dynamic SQL of an expression",
            ));
        }
        Ok(())
    }

    /// Runs a CALL of a procedure that must be interpreted (see the module's comment);
    /// None when the CALL goes the usual way.
    pub(super) async fn interpreted_call(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let call = parse_call(sql)?;
        let db = call.db.clone().or_else(|| self.state.db.clone())?;
        let routine = match self.load_routine(&db, &call.name, false).await {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                self.err(&e);
                return Some(Ok(Answer::Failed));
            }
        };
        if self.state.db.as_deref() != Some(db.as_str()) {
            self.err(&MysqlError::not_supported(
                "CALL of a procedure with dynamic SQL in another database than the current one",
            ));
            return Some(Ok(Answer::Failed));
        }
        if self.state.interp_depth >= MAX_DEPTH {
            self.err(&MysqlError::new(
                codes::NOT_SUPPORTED,
                "This version of Strata doesn't yet support 'CALLs of procedures with dynamic SQL nested this deep'",
            ));
            return Some(Ok(Answer::Failed));
        }
        self.state.interp_depth += 1;
        let result = self.run_top_call(&routine, &call.args).await;
        Some(self.end_interpreted(result, more))
    }

    /// Runs a compound statement (`BEGIN NOT ATOMIC ... END`, a loop, IF, CASE) with
    /// dynamic SQL of an expression the way an interpreted procedure's body runs, in a
    /// database over one data node; None when it goes the usual way (over several data
    /// nodes the guard refuses it, as it does every compound statement such a
    /// procedure's blocks would not cover).
    pub(super) async fn interpreted_compound(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        // The interpreter's own anonymous blocks go the usual way.
        if self.state.interp_depth > 0 || !is_compound(sql) || !has_dynamic_expression(sql) {
            return None;
        }
        let one_node = self
            .state
            .db
            .as_deref()
            .and_then(|db| self.ctx.topology.db(db))
            .is_some_and(|logic| logic.data_nodes.len() == 1);
        if !one_node {
            return None;
        }
        // What the guard refuses in any body, before anything runs.
        if let Err(r) = strata_sql::guard::check_interpreted_body(sql, &self.ctx.private_schemas) {
            self.err(&self.refusal_error(&r));
            return Some(Ok(Answer::Failed));
        }
        let routine = Routine {
            name: String::new(),
            body: sql.to_string(),
            sql_mode: None,
            params: Vec::new(),
        };
        self.state.interp_depth += 1;
        let result = self.run_top_call(&routine, &[]).await;
        Some(self.end_interpreted(result, more))
    }

    /// The client's answer to an interpreted CALL or compound statement.
    fn end_interpreted(
        &mut self,
        result: Result<Result<(), MysqlError>, SessionError>,
        more: bool,
    ) -> Result<Answer, SessionError> {
        self.state.interp_depth -= 1;
        if self.state.interp_depth == 0 {
            self.state.interp_routines.clear();
        }
        match result {
            Ok(Ok(())) => {
                self.ok(0, more);
                Ok(Answer::Ok)
            }
            Ok(Err(e)) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
            Err(fatal) => Err(fatal),
        }
    }

    /// The procedure `name` of logical database `db` when `db` is over one data node
    /// and the procedure (or one it calls) has dynamic SQL of an expression, or `any`.
    pub(super) async fn load_routine(
        &mut self,
        db: &str,
        name: &str,
        any: bool,
    ) -> Result<Option<Arc<Routine>>, MysqlError> {
        // Inside an interpreted CALL the procedures read stay as read (DDL in a body
        // that redefines a running procedure's callees is not seen).
        let key = (
            db.to_string(),
            format!("{}{}", u8::from(any), name.to_lowercase()),
        );
        let inside = self.state.interp_depth > 0;
        if inside {
            if let Some(r) = self.state.interp_routines.get(&key) {
                return Ok(r.clone());
            }
        }
        let r = self.read_routine(db, name, any).await?.map(Arc::new);
        if inside {
            self.state.interp_routines.insert(key, r.clone());
        }
        Ok(r)
    }

    async fn read_routine(
        &mut self,
        db: &str,
        name: &str,
        any: bool,
    ) -> Result<Option<Routine>, MysqlError> {
        let topo = &self.ctx.topology;
        let Some(logic) = topo.db(db) else {
            return Ok(None);
        };
        let [dnid] = logic.data_nodes.as_slice() else {
            return Ok(None);
        };
        let dnid = *dnid;
        let Some(physical) = topo.physical(&logic, dnid) else {
            return Ok(None);
        };
        let physical = physical.to_string();
        // Only procedures that run dynamic SQL or CALL matter for the closure.
        let list = format!(
            "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, HEX(CONVERT(ROUTINE_DEFINITION USING utf8mb4)), SQL_MODE \
             FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'PROCEDURE' \
             AND (ROUTINE_DEFINITION LIKE '%EXECUTE%' OR ROUTINE_DEFINITION LIKE '%PREPARE%' \
             OR ROUTINE_DEFINITION LIKE '%CALL%' OR (ROUTINE_SCHEMA = {} AND ROUTINE_NAME = {}))",
            quote(&physical, true),
            quote(name, true)
        );
        let rows = self.detached_rows(dnid, &list).await?;
        let mut procs = Vec::with_capacity(rows.len());
        let mut modes = Vec::with_capacity(rows.len());
        for row in rows {
            let [Some(schema), Some(pname), Some(body), mode] = row.as_slice() else {
                continue;
            };
            let Some(body) = values::unhex(body) else {
                continue;
            };
            procs.push((
                schema.clone(),
                pname.clone(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            modes.push(mode.clone().unwrap_or_default());
        }
        let set = interpreted_set(&procs);
        let lower = name.to_lowercase();
        if !any && !set.contains(&(physical.clone(), lower.clone())) {
            return Ok(None);
        }
        let Some(at) = procs
            .iter()
            .position(|(s, n, _)| *s == physical && n.to_lowercase() == lower)
        else {
            return Ok(None);
        };
        let (schema, pname, body) = procs.swap_remove(at);
        let sql_mode = modes.swap_remove(at);
        let params_sql = format!(
            "SELECT PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER, CHARACTER_SET_NAME, COLLATION_NAME \
             FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = {} AND SPECIFIC_NAME = {} \
             AND ROUTINE_TYPE = 'PROCEDURE' AND ORDINAL_POSITION > 0 ORDER BY ORDINAL_POSITION",
            quote(&schema, true),
            quote(&pname, true)
        );
        let rows = self.detached_rows(dnid, &params_sql).await?;
        let mut params = Vec::with_capacity(rows.len());
        for row in rows {
            let [mode, Some(pn), Some(dtd), charset, collation] = row.as_slice() else {
                continue;
            };
            let mode = match mode.as_deref() {
                Some("OUT") => Mode::Out,
                Some("INOUT") => Mode::InOut,
                _ => Mode::In,
            };
            let mut ty = dtd.clone();
            if let (Some(cs), Some(co)) = (charset, collation) {
                if cs != "binary" {
                    ty.push_str(&format!(" CHARACTER SET {cs} COLLATE {co}"));
                }
            }
            params.push(Param {
                mode,
                name: skeleton::ident(pn),
                ty,
            });
        }
        Ok(Some(Routine {
            name: pname,
            body,
            sql_mode: Some(sql_mode),
            params,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_expressions_are_told_from_literals() {
        assert!(has_dynamic_expression("BEGIN EXECUTE IMMEDIATE q; END"));
        assert!(has_dynamic_expression("BEGIN PREPARE s FROM @q; END"));
        assert!(!has_dynamic_expression(
            "BEGIN PREPARE s FROM 'SELECT 1'; END"
        ));
        assert!(!has_dynamic_expression(
            "BEGIN EXECUTE IMMEDIATE 'SELECT 1'; EXECUTE s; END"
        ));
    }

    #[test]
    fn callers_of_dynamic_procedures_are_interpreted_too() {
        let procs = vec![
            (
                "d".to_string(),
                "Dyn".to_string(),
                "EXECUTE IMMEDIATE q".to_string(),
            ),
            (
                "d".to_string(),
                "caller".to_string(),
                "BEGIN CALL dyn(1); END".to_string(),
            ),
            (
                "e".to_string(),
                "far".to_string(),
                "CALL d.caller()".to_string(),
            ),
            (
                "e".to_string(),
                "plain".to_string(),
                "CALL other()".to_string(),
            ),
        ];
        let set = interpreted_set(&procs);
        assert!(set.contains(&("d".into(), "dyn".into())));
        assert!(set.contains(&("d".into(), "caller".into())));
        assert!(set.contains(&("e".into(), "far".into())));
        assert!(!set.contains(&("e".into(), "plain".into())));
    }

    #[test]
    fn call_texts_split_into_name_and_arguments() {
        let c = parse_call("CALL d.p(1, CONCAT('a', 'b'), @x)").expect("call");
        assert_eq!(c.db.as_deref(), Some("d"));
        assert_eq!(c.args, ["1", "CONCAT('a', 'b')", "@x"]);
        assert_eq!(parse_call("CALL p").expect("call").args.len(), 0);
        assert_eq!(parse_call("CALL p()").expect("call").args.len(), 0);
        assert!(parse_call("CALL p(1) extra").is_none());
        assert_eq!(quote("a'b\\c", true), "'a''b\\\\c'");
    }
}
