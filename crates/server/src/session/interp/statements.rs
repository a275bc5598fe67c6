//! The statements of an interpreted body that are not control flow: assignments to
//! locals, SELECT ... INTO locals, dynamic SQL, GET DIAGNOSTICS in a handler, CALLs
//! with local arguments, and any other statement as the client's own.

use strata_protocol::{codes, MysqlError};
use strata_sql::{code_tokens, Token, TokenKind};

use super::quote;
use super::run::{literal_of, split_commas, word, Fail, Frame};
use super::skeleton;
use super::values;
use crate::session::Session;

impl Session {
    /// Runs one statement of the body (see the module's comment).
    pub(super) async fn exec_sql(&mut self, frame: &mut Frame, text: &str) -> Result<(), Fail> {
        let toks: Vec<Token> = code_tokens(text).collect();
        let locals: Vec<String> = frame.locals().into_iter().map(String::from).collect();
        let locals: Vec<&str> = locals.iter().map(String::as_str).collect();
        let first = word(text, toks.first());
        let second = word(text, toks.get(1));
        let is_local = |src: &str, t: Option<&Token>| {
            t.is_some_and(|t| {
                t.kind.is_ident() && locals.contains(&skeleton::ident(t.text(src)).as_str())
            })
        };
        match first.as_str() {
            "SET"
                if !matches!(
                    second.as_str(),
                    "NAMES"
                        | "CHARACTER"
                        | "TRANSACTION"
                        | "STATEMENT"
                        | "PASSWORD"
                        | "ROLE"
                        | "DEFAULT"
                ) =>
            {
                let assignments = split_commas(text, &toks, 1);
                let any_local = assignments.iter().any(|a| {
                    let t: Vec<Token> = code_tokens(a).collect();
                    is_local(a, t.first())
                        && t.get(1)
                            .is_some_and(|e| e.is_punct(a, "=") || e.is_punct(a, ":="))
                });
                if any_local {
                    for a in &assignments {
                        let t: Vec<Token> = code_tokens(a).collect();
                        let target_local = is_local(a, t.first())
                            && t.get(1)
                                .is_some_and(|e| e.is_punct(a, "=") || e.is_punct(a, ":="));
                        match (target_local, t.first(), t.get(2)) {
                            (true, Some(target), Some(e)) => {
                                let name = skeleton::ident(target.text(a));
                                let expr = a.get(e.span.start..).unwrap_or("");
                                let catalog =
                                    super::super::isolation::mentions_information_schema(expr)
                                        && !skeleton::mentions(expr, &locals);
                                if catalog {
                                    // Read as the client's own query over information_schema.
                                    let (_, rows) =
                                        self.select_rows(frame, &format!("SELECT {expr}")).await?;
                                    let value = rows
                                        .into_iter()
                                        .next()
                                        .and_then(|r| r.into_iter().next())
                                        .unwrap_or_else(|| "NULL".into());
                                    self.assign(frame, &name, Some(&value)).await?;
                                } else {
                                    self.assign(frame, &name, Some(expr)).await?;
                                }
                            }
                            _ => self.opaque(frame, &format!("SET {a}"), &locals).await?,
                        }
                    }
                    return Ok(());
                }
            }
            "SELECT" => {
                if let Some(targets) = into_locals(text, &toks, &locals) {
                    return self.select_into_locals(frame, text, &targets).await;
                }
            }
            "EXECUTE"
                if second == "IMMEDIATE"
                    && toks.get(2).is_some_and(|t| t.kind != TokenKind::String) =>
            {
                return self
                    .dynamic(frame, text, &toks, 2, "EXECUTE IMMEDIATE", &locals)
                    .await;
            }
            "PREPARE" => {
                let from = (1..toks.len().min(5)).find(|&j| toks[j].is_keyword(text, "FROM"));
                if let Some(j) = from {
                    if toks.get(j + 1).is_some_and(|t| t.kind != TokenKind::String) {
                        let head = text.get(..toks[j].span.end).unwrap_or("");
                        return self.dynamic(frame, text, &toks, j + 1, head, &locals).await;
                    }
                }
            }
            "GET" if frame.condition.is_some() => {
                return self.diagnostics(frame, text, &toks, &locals).await;
            }
            "CALL" if skeleton::mentions(text, &locals) => {
                return self.call_with_locals(frame, text, &locals).await;
            }
            _ => {}
        }
        self.opaque(frame, text, &locals).await
    }

    /// A statement as the client's: inside a block declaring the locals when it names
    /// one.
    async fn opaque(&mut self, frame: &Frame, text: &str, locals: &[&str]) -> Result<(), Fail> {
        if skeleton::mentions(text, locals) {
            if super::super::isolation::mentions_information_schema(text) {
                return Err(Fail::Unhandled(MysqlError::not_supported(
                    "information_schema with a local variable in a procedure the compute node runs",
                )));
            }
            self.as_client(&frame.block(&format!("{text};"))).await
        } else {
            self.as_client(text).await
        }
    }

    /// `EXECUTE IMMEDIATE expr [USING ...]` / `PREPARE s FROM expr`: the expression's
    /// value becomes the literal of the statement the client runs.
    async fn dynamic(
        &mut self,
        frame: &Frame,
        text: &str,
        toks: &[Token],
        expr_at: usize,
        head: &str,
        locals: &[&str],
    ) -> Result<(), Fail> {
        let mut depth = 0usize;
        let using = (expr_at..toks.len()).find(|&i| {
            let t = toks[i];
            if t.is_punct(text, "(") {
                depth += 1;
            } else if t.is_punct(text, ")") {
                depth = depth.saturating_sub(1);
            }
            depth == 0 && t.is_keyword(text, "USING")
        });
        let end = using.unwrap_or(toks.len());
        let Some(expr) = text.get(toks[expr_at].span.start..toks[end - 1].span.end) else {
            return self.opaque(frame, text, locals).await;
        };
        if toks[expr_at..end]
            .iter()
            .any(|t| t.is_keyword(text, "SELECT"))
        {
            // MariaDB's 1970 for a subquery, as the session gives it.
            return self.opaque(frame, text, locals).await;
        }
        // The text in the client's character set, what the data node reads the
        // statement's bytes as (a binary string's bytes as they are, as MariaDB takes
        // them).
        let charset = frame.client_charset.clone();
        let (_, row) = self
            .eval_row(
                frame,
                "",
                &[format!("HEX({expr})"), format!("CHARSET({expr})")],
            )
            .await?;
        let (hex, of) = match row.as_slice() {
            [Some(hex), of] => (hex.clone(), of.clone().unwrap_or_default()),
            _ => return Err(Fail::Sql(MysqlError::parse("NULL", 1))),
        };
        let hex = if of == "binary" || of == charset {
            hex
        } else {
            let (_, row) = self
                .eval_row(
                    frame,
                    "",
                    &[format!("HEX(CONVERT(({expr}) USING {charset}))")],
                )
                .await?;
            row.into_iter()
                .next()
                .flatten()
                .ok_or_else(|| Fail::Sql(MysqlError::parse("NULL", 1)))?
        };
        let dynamic = values::unhex(&hex).ok_or_else(|| {
            Fail::Sql(MysqlError::new(
                codes::UNKNOWN,
                "a data node sent a text as bad hexadecimal digits",
            ))
        })?;
        let mut statement = format!("{head} '").into_bytes();
        for &b in &dynamic {
            match b {
                b'\'' => statement.extend_from_slice(b"''"),
                b'\\' if frame.backslashes => statement.extend_from_slice(b"\\\\"),
                b => statement.push(b),
            }
        }
        statement.push(b'\'');
        if let Some(u) = using {
            let mut args = Vec::new();
            for a in split_commas(text, toks, u + 1) {
                args.push(if skeleton::mentions(&a, locals) {
                    self.eval_literal(frame, &a).await?
                } else {
                    a
                });
            }
            statement.extend_from_slice(format!(" USING {}", args.join(", ")).as_bytes());
        }
        self.as_client_bytes(&statement).await
    }

    /// `SELECT ... INTO` locals: run in a block that reads them back (no row: NOT FOUND,
    /// for the handlers; the values stay).
    async fn select_into_locals(
        &mut self,
        frame: &mut Frame,
        text: &str,
        targets: &[String],
    ) -> Result<(), Fail> {
        let nf = values::quoted_ident("strata interp not found");
        let pre = format!("DECLARE {nf} INT DEFAULT 0; BEGIN DECLARE CONTINUE HANDLER FOR NOT FOUND SET {nf} = 1; {text}; END;");
        let mut items = vec![nf.clone()];
        for t in targets {
            items.extend(values::readback(&values::quoted_ident(t)));
        }
        let (columns, row) = self.eval_row(frame, &pre, &items).await?;
        if row.first().and_then(|v| v.as_deref()) == Some("1") {
            let e = MysqlError::new(
                (1329, "02000"),
                "No data - zero rows fetched, selected, or processed",
            );
            let limit = frame.scopes.len();
            return match self.handle(frame, e, limit).await {
                Ok(_) | Err(Fail::Unhandled(_)) => Ok(()),
                Err(f) => Err(f),
            };
        }
        for (i, t) in targets.iter().enumerate() {
            let value = literal_of(&columns, &row, 1 + 3 * i)?;
            if let Some(v) = frame.var_mut(t) {
                v.value = value;
            }
        }
        Ok(())
    }

    /// `GET DIAGNOSTICS CONDITION 1 local = item, ...` in a handler: the condition it
    /// runs for.
    async fn diagnostics(
        &mut self,
        frame: &mut Frame,
        text: &str,
        toks: &[Token],
        locals: &[&str],
    ) -> Result<(), Fail> {
        let Some(cond) = frame.condition.clone() else {
            return self.opaque(frame, text, locals).await;
        };
        let Some(at) = toks.iter().position(|t| t.is_keyword(text, "CONDITION")) else {
            return Err(Fail::Unhandled(MysqlError::not_supported(
                "GET DIAGNOSTICS statement information in a procedure the compute node runs",
            )));
        };
        for a in split_commas(text, toks, at + 2) {
            let t: Vec<Token> = code_tokens(&a).collect();
            let (Some(target), Some(item)) = (t.first(), t.get(2)) else {
                continue;
            };
            let value = match word(&a, Some(item)).as_str() {
                "MESSAGE_TEXT" => quote(&cond.message, frame.backslashes),
                "MYSQL_ERRNO" => cond.code.to_string(),
                "RETURNED_SQLSTATE" => quote(cond.state, frame.backslashes),
                "CLASS_ORIGIN" | "SUBCLASS_ORIGIN" => quote("ISO 9075", frame.backslashes),
                other => {
                    return Err(Fail::Unhandled(MysqlError::not_supported(&format!(
                        "GET DIAGNOSTICS {other} in a procedure the compute node runs"
                    ))))
                }
            };
            let name = skeleton::ident(target.text(&a));
            if frame.var(&name).is_some() {
                self.assign(frame, &name, Some(&value)).await?;
            } else {
                self.opaque(frame, &format!("SET {} = {value}", target.text(&a)), locals)
                    .await?;
            }
        }
        Ok(())
    }

    /// A CALL naming locals: the callee runs here, its arguments evaluated with them and
    /// its OUT/INOUT parameters written back to them.
    async fn call_with_locals(
        &mut self,
        frame: &mut Frame,
        text: &str,
        locals: &[&str],
    ) -> Result<(), Fail> {
        let Some(call) = super::parse_call(text) else {
            return self.opaque(frame, text, locals).await;
        };
        let db = call
            .db
            .clone()
            .or_else(|| self.state.db.clone())
            .unwrap_or_default();
        if self.state.db.as_deref() != Some(db.as_str()) {
            return self.opaque(frame, text, locals).await;
        }
        let routine = match self.load_routine(&db, &call.name, true).await? {
            Some(r) => r,
            None => return self.opaque(frame, text, locals).await,
        };
        if self.state.interp_depth >= super::MAX_DEPTH {
            return Err(Fail::Sql(MysqlError::not_supported(
                "CALLs of procedures with dynamic SQL nested this deep",
            )));
        }
        self.state.interp_depth += 1;
        let ran = self.call_routine(frame, &routine, &call.args).await;
        self.state.interp_depth -= 1;
        let ran = ran.map_err(|f| match f {
            Fail::Unhandled(e) => Fail::Sql(e),
            f => f,
        })?;
        for (i, value) in ran {
            let Some(arg) = call.args.get(i) else {
                continue;
            };
            let name = skeleton::ident(arg.trim());
            if frame.var(&name).is_some() {
                self.assign(frame, &name, Some(&value)).await?;
            } else if arg.trim_start().starts_with('@') {
                self.assign_user_vars(&format!("SET {arg} = {value}"))
                    .await?;
            } else {
                return Err(Fail::Sql(MysqlError::new(
                    (1414, "42000"),
                    format!(
                        "OUT or INOUT argument {} for routine {db}.{} is not a variable or NEW pseudo-variable in BEFORE trigger",
                        i + 1,
                        routine.name
                    ),
                )));
            }
        }
        Ok(())
    }
}

/// The locals a `SELECT ... INTO a, b` assigns, when all its targets are locals.
fn into_locals(sql: &str, toks: &[Token], locals: &[&str]) -> Option<Vec<String>> {
    let mut depth = 0usize;
    let at = toks.iter().position(|t| {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        }
        depth == 0 && t.is_keyword(sql, "INTO")
    })?;
    let mut out = Vec::new();
    let mut i = at + 1;
    loop {
        let t = toks.get(i)?;
        if !t.kind.is_ident() {
            return None;
        }
        let name = skeleton::ident(t.text(sql));
        if !locals.contains(&name.as_str()) {
            return None;
        }
        out.push(name);
        if toks.get(i + 1).is_some_and(|c| c.is_punct(sql, ",")) {
            i += 2;
        } else {
            return Some(out);
        }
    }
}
