//! Runs an interpreted procedure: control flow here, every statement as the client's
//! own (inside an anonymous block declaring the locals when it names one), handlers
//! around them, OUT parameters written back.

use std::future::Future;
use std::pin::Pin;

use strata_protocol::{codes, MysqlError};
use strata_sql::{classify, code_tokens, ByteSummary, Token, TokenKind};

use super::skeleton::{self, Block, Condition, Handler, Stmt};
use super::values::{self, Var};
use super::{quote, Mode, Routine};
use crate::session::{Answer, Session, SessionError};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a statement did not complete.
pub(super) enum Fail {
    /// An error a handler may take.
    Sql(MysqlError),
    /// An error no handler took: it ends the CALL.
    Unhandled(MysqlError),
    /// The session cannot go on (the client connection failed).
    Fatal(SessionError),
}

impl From<MysqlError> for Fail {
    fn from(e: MysqlError) -> Self {
        Fail::Sql(e)
    }
}

/// Where control goes after a statement.
enum Flow {
    Next,
    Leave(String),
    Iterate(String),
    /// An EXIT handler of scope n ran: leave that block.
    Exit(usize),
}

struct Scope {
    vars: Vec<Var>,
    handlers: Vec<Handler>,
}

/// One interpreted CALL's state.
pub(super) struct Frame {
    scopes: Vec<Scope>,
    /// The condition a handler is running for (what GET DIAGNOSTICS reads).
    condition: Option<MysqlError>,
    /// Backslashes escape in string literals (no NO_BACKSLASH_ESCAPES).
    backslashes: bool,
}

impl Frame {
    fn locals(&self) -> Vec<&str> {
        self.scopes
            .iter()
            .flat_map(|s| s.vars.iter().map(|v| v.name.as_str()))
            .collect()
    }

    fn var_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.scopes
            .iter_mut()
            .rev()
            .find_map(|s| s.vars.iter_mut().rev().find(|v| v.name == name))
    }

    fn var(&self, name: &str) -> Option<&Var> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.vars.iter().rev().find(|v| v.name == name))
    }

    /// An anonymous block declaring the visible locals, running `body`.
    fn block(&self, body: &str) -> String {
        let decls = values::declarations(self.scopes.iter().flat_map(|s| s.vars.iter()));
        format!("BEGIN NOT ATOMIC {decls} {body} END")
    }
}

fn matches(c: &Condition, e: &MysqlError) -> bool {
    match c {
        Condition::Code(code) => e.code == *code,
        Condition::State(s) => e.state == s,
        Condition::Exception => !["00", "01", "02"].iter().any(|p| e.state.starts_with(p)),
        Condition::NotFound => e.state.starts_with("02"),
    }
}

/// The error of an ERR packet's payload.
fn err_packet(p: &[u8]) -> Option<MysqlError> {
    if p.first() != Some(&0xff) || p.len() < 3 {
        return None;
    }
    let code = u16::from_le_bytes([p[1], p[2]]);
    let (state, message) = if p.get(3) == Some(&b'#') && p.len() >= 9 {
        (std::str::from_utf8(&p[4..9]).unwrap_or("HY000"), &p[9..])
    } else {
        ("HY000", &p[3..])
    };
    Some(MysqlError {
        code,
        state: crate::session::client::sqlstate(state),
        message: String::from_utf8_lossy(message).into_owned(),
    })
}

fn word(sql: &str, t: Option<&Token>) -> String {
    t.filter(|t| t.kind == TokenKind::Ident)
        .map(|t| t.text(sql).to_ascii_uppercase())
        .unwrap_or_default()
}

/// `sql` split at commas outside parentheses, from token `from` on, as texts.
fn split_commas(sql: &str, toks: &[Token], from: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = from;
    for i in from..=toks.len() {
        let at_end = i == toks.len();
        if !at_end {
            let t = toks[i];
            if t.is_punct(sql, "(") {
                depth += 1;
            } else if t.is_punct(sql, ")") {
                depth = depth.saturating_sub(1);
            }
            if !(depth == 0 && t.is_punct(sql, ",")) {
                continue;
            }
        }
        if i > start {
            if let Some(text) = sql.get(toks[start].span.start..toks[i - 1].span.end) {
                out.push(text.to_string());
            }
        }
        start = i + 1;
    }
    out
}

impl Session {
    /// Runs a top-level CALL of `routine` with the client's arguments; the inner Err is
    /// the error that ends the CALL.
    pub(super) async fn run_top_call(
        &mut self,
        routine: &Routine,
        args: &[String],
    ) -> Result<Result<(), MysqlError>, SessionError> {
        let mut caller = Frame {
            scopes: Vec::new(),
            condition: None,
            backslashes: true,
        };
        for (i, p) in routine.params.iter().enumerate() {
            let is_var = args.get(i).is_some_and(|a| {
                code_tokens(a).count() == 1 && a.starts_with('@') && !a.starts_with("@@")
            });
            if p.mode != Mode::In && !is_var && args.len() == routine.params.len() {
                return Ok(Err(MysqlError::new(
                    (1414, "42000"),
                    format!(
                        "OUT or INOUT argument {} for routine {}.{} is not a variable or NEW pseudo-variable in BEFORE trigger",
                        i + 1,
                        self.state.db.as_deref().unwrap_or(""),
                        routine.name
                    ),
                )));
            }
        }
        match self.call_routine(&mut caller, routine, args).await {
            Ok(outs) => {
                for (i, value) in outs {
                    let Some(arg) = args.get(i) else { continue };
                    if let Err(e) = self.assign_user_vars(&format!("SET {arg} = {value}")).await {
                        return Ok(Err(e));
                    }
                }
                Ok(Ok(()))
            }
            Err(Fail::Sql(e) | Fail::Unhandled(e)) => Ok(Err(e)),
            Err(Fail::Fatal(f)) => Err(f),
        }
    }

    /// Runs `routine` with `args` evaluated in `caller`; the values of its OUT and INOUT
    /// parameters, by argument position.
    fn call_routine<'a>(
        &'a mut self,
        caller: &'a mut Frame,
        routine: &'a Routine,
        args: &'a [String],
    ) -> Boxed<'a, Result<Vec<(usize, String)>, Fail>> {
        Box::pin(async move {
            let qualified = format!(
                "{}.{}",
                self.state.db.as_deref().unwrap_or(""),
                routine.name
            );
            if args.len() != routine.params.len() {
                return Err(Fail::Unhandled(MysqlError::new(
                    (1318, "42000"),
                    format!(
                        "Incorrect number of arguments for PROCEDURE {qualified}; expected {}, got {}",
                        routine.params.len(),
                        args.len()
                    ),
                )));
            }
            let body = skeleton::parse_body(&routine.body).map_err(|what| {
                Fail::Unhandled(MysqlError::not_supported(&format!(
                    "{what} (procedure {qualified}, which the compute node runs for its dynamic SQL)"
                )))
            })?;
            let (_, rows) = self
                .home_result(
                    "SELECT @@SESSION.sql_mode, @@SESSION.character_set_client",
                    false,
                )
                .await?;
            let (mode, charset) = match rows.into_iter().next().as_deref() {
                Some([m, c]) => (m.clone().unwrap_or_default(), c.clone().unwrap_or_default()),
                _ => Default::default(),
            };
            if !routine.body.is_ascii() && !charset.starts_with("utf8") {
                return Err(Fail::Unhandled(MysqlError::not_supported(&format!(
                    "a procedure with dynamic SQL and non-ASCII text called with character_set_client={charset}"
                ))));
            }
            let mut params = Vec::with_capacity(args.len());
            for (p, arg) in routine.params.iter().zip(args) {
                let value = match p.mode {
                    Mode::Out => "NULL".to_string(),
                    _ => self.eval_literal(caller, arg).await?,
                };
                params.push(Var {
                    name: p.name.clone(),
                    ty: p.ty.clone(),
                    value,
                });
            }
            let switch = mode != routine.sql_mode;
            if switch {
                self.as_client(&format!(
                    "SET SESSION sql_mode = {}",
                    quote(&routine.sql_mode, true)
                ))
                .await?;
            }
            let mut frame = Frame {
                scopes: vec![Scope {
                    vars: params,
                    handlers: Vec::new(),
                }],
                condition: None,
                backslashes: !routine.sql_mode.contains("NO_BACKSLASH_ESCAPES"),
            };
            let ran = self.run_routine(&mut frame, &body).await;
            if switch {
                let restored = self
                    .as_client(&format!("SET SESSION sql_mode = {}", quote(&mode, true)))
                    .await;
                if let Err(Fail::Fatal(f)) = restored {
                    return Err(Fail::Fatal(f));
                }
            }
            ran?;
            let mut outs = Vec::new();
            for (i, p) in routine.params.iter().enumerate() {
                if p.mode != Mode::In {
                    if let Some(v) = frame.var(&p.name) {
                        outs.push((i, v.value.clone()));
                    }
                }
            }
            Ok(outs)
        })
    }

    async fn run_routine(&mut self, frame: &mut Frame, body: &[Stmt]) -> Result<(), Fail> {
        // The parameters' values as their types make them.
        let names: Vec<String> = frame.scopes[0]
            .vars
            .iter()
            .map(|v| v.name.clone())
            .collect();
        for name in names {
            self.assign(frame, &name, None).await?;
        }
        match self.exec_list(frame, body).await {
            Ok(_) => Ok(()),
            Err(Fail::Sql(e)) => Err(Fail::Unhandled(e)),
            Err(f) => Err(f),
        }
    }

    /// Runs `text` as the client's own statement, its result sets relayed and its
    /// closing OK or ERR taken back (the CALL ends with its own).
    async fn as_client(&mut self, text: &str) -> Result<(), Fail> {
        let mark = self.client.conn.write_mark();
        let answer = Box::pin(self.audited(text, text.as_bytes(), true))
            .await
            .map_err(Fail::Fatal)?;
        let last = self
            .client
            .conn
            .take_back_last(mark, |p| matches!(p.first(), Some(0x00 | 0xff)));
        match answer {
            Answer::Ok => Ok(()),
            Answer::Failed => Err(Fail::Sql(
                last.as_deref().and_then(err_packet).unwrap_or_else(|| {
                    MysqlError::new(codes::UNKNOWN, "a statement of the procedure failed")
                }),
            )),
        }
    }

    /// Checks `text` as a statement of the client's and runs it on the session's home
    /// connection, returning its first row.
    async fn eval_row(
        &mut self,
        frame: &Frame,
        pre: &str,
        items: &[String],
    ) -> Result<
        (
            Vec<strata_protocol::packets::ColumnDef>,
            Vec<Option<String>>,
        ),
        Fail,
    > {
        let text = frame.block(&format!("{pre} SELECT {};", items.join(", ")));
        if super::super::isolation::mentions_information_schema(&text) {
            return Err(Fail::Unhandled(MysqlError::not_supported(
                "information_schema with a local variable in a procedure the compute node runs",
            )));
        }
        let kind = classify(&text);
        self.guard(&text, kind, ByteSummary::of(text.as_bytes()))?;
        self.authorize(&text, kind)?;
        self.firewall(&text, kind).await?;
        let text = match (self.ctx.topology.names_differ, self.home_node()) {
            (true, Ok((dnid, _))) => {
                let bytes = self.rewrite_names_in_bytes(&text, text.as_bytes(), dnid)?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => text,
        };
        let (columns, rows) = self.home_result(&text, false).await?;
        let row = rows.into_iter().next().unwrap_or_default();
        Ok((columns, row))
    }

    /// The literal of `expr` evaluated with the frame's locals.
    async fn eval_literal(&mut self, frame: &Frame, expr: &str) -> Result<String, Fail> {
        let (columns, row) = self.eval_row(frame, "", &values::readback(expr)).await?;
        literal_of(&columns, &row, 0)
    }

    /// Sets local `name` to `expr` (to its own value when None: its type's conversion).
    async fn assign(
        &mut self,
        frame: &mut Frame,
        name: &str,
        expr: Option<&str>,
    ) -> Result<(), Fail> {
        let q = values::quoted_ident(name);
        let pre = expr.map(|e| format!("SET {q} = {e};")).unwrap_or_default();
        let (columns, row) = self.eval_row(frame, &pre, &values::readback(&q)).await?;
        let value = literal_of(&columns, &row, 0)?;
        if let Some(v) = frame.var_mut(name) {
            v.value = value;
        }
        Ok(())
    }

    async fn truth(&mut self, frame: &Frame, cond: &str) -> Result<bool, Fail> {
        let (_, row) = self
            .eval_row(frame, "", &[format!("(({cond})) IS TRUE")])
            .await?;
        Ok(row.first().and_then(|v| v.as_deref()) == Some("1"))
    }

    fn exec_list<'a>(
        &'a mut self,
        frame: &'a mut Frame,
        list: &'a [Stmt],
    ) -> Boxed<'a, Result<Flow, Fail>> {
        Box::pin(async move {
            for stmt in list {
                match self.exec_stmt(frame, stmt).await {
                    Ok(Flow::Next) => {}
                    Ok(flow) => return Ok(flow),
                    Err(Fail::Sql(e)) => {
                        let limit = frame.scopes.len();
                        match self.handle(frame, e, limit).await? {
                            Flow::Next => {}
                            flow => return Ok(flow),
                        }
                    }
                    Err(f) => return Err(f),
                }
            }
            Ok(Flow::Next)
        })
    }

    /// Runs the handler of the scopes below `limit` that takes `e`, innermost first.
    fn handle<'a>(
        &'a mut self,
        frame: &'a mut Frame,
        e: MysqlError,
        limit: usize,
    ) -> Boxed<'a, Result<Flow, Fail>> {
        Box::pin(async move {
            let limit = limit.min(frame.scopes.len());
            let found = (0..limit).rev().find_map(|d| {
                frame.scopes[d]
                    .handlers
                    .iter()
                    .find(|h| h.conditions.iter().any(|c| matches(c, &e)))
                    .map(|h| (d, h.clone()))
            });
            let Some((d, handler)) = found else {
                return Err(Fail::Unhandled(e));
            };
            // The handler runs in its block's scope; that block's handlers do not take
            // its own errors.
            let hidden = frame.scopes.split_off(d + 1);
            let handlers = std::mem::take(&mut frame.scopes[d].handlers);
            let condition = frame.condition.replace(e);
            let ran = self.exec_stmt(frame, &handler.body).await;
            frame.scopes.truncate(d + 1);
            frame.scopes[d].handlers = handlers;
            frame.scopes.extend(hidden);
            frame.condition = condition;
            match ran {
                Ok(Flow::Next) if handler.exit => Ok(Flow::Exit(d)),
                Ok(flow) => Ok(flow),
                Err(Fail::Sql(e2)) => self.handle(frame, e2, d).await,
                Err(f) => Err(f),
            }
        })
    }

    fn exec_stmt<'a>(
        &'a mut self,
        frame: &'a mut Frame,
        stmt: &'a Stmt,
    ) -> Boxed<'a, Result<Flow, Fail>> {
        Box::pin(async move {
            match stmt {
                Stmt::Block(b) => self.exec_block(frame, b).await,
                Stmt::If {
                    arms,
                    otherwise,
                    case,
                } => {
                    for (cond, body) in arms {
                        if self.truth(frame, cond).await? {
                            return self.exec_list(frame, body).await;
                        }
                    }
                    match otherwise {
                        Some(body) => self.exec_list(frame, body).await,
                        None if *case => Err(Fail::Sql(MysqlError::new(
                            (1339, "20000"),
                            "Case not found for CASE statement",
                        ))),
                        None => Ok(Flow::Next),
                    }
                }
                Stmt::Loop {
                    label,
                    before,
                    until,
                    body,
                } => loop {
                    if let Some(c) = before {
                        if !self.truth(frame, c).await? {
                            return Ok(Flow::Next);
                        }
                    }
                    match self.exec_list(frame, body).await? {
                        Flow::Next => {}
                        Flow::Leave(l) if label.as_ref() == Some(&l) => return Ok(Flow::Next),
                        Flow::Iterate(l) if label.as_ref() == Some(&l) => continue,
                        flow => return Ok(flow),
                    }
                    if let Some(c) = until {
                        if self.truth(frame, c).await? {
                            return Ok(Flow::Next);
                        }
                    }
                },
                Stmt::Leave(l) => Ok(Flow::Leave(l.clone())),
                Stmt::Iterate(l) => Ok(Flow::Iterate(l.clone())),
                Stmt::Sql(text) => self.exec_sql(frame, text).await.map(|()| Flow::Next),
            }
        })
    }

    async fn exec_block(&mut self, frame: &mut Frame, b: &Block) -> Result<Flow, Fail> {
        let depth = frame.scopes.len();
        frame.scopes.push(Scope {
            vars: Vec::new(),
            handlers: b.handlers.clone(),
        });
        let mut flow = Ok(Flow::Next);
        for decl in &b.vars {
            let value = match &decl.default {
                Some(expr) => {
                    let probe = Var {
                        name: "strata interp default".into(),
                        ty: decl.ty.clone(),
                        value: "NULL".into(),
                    };
                    let q = values::quoted_ident(&probe.name);
                    let pre = format!(
                        "BEGIN DECLARE {q} {} DEFAULT ({expr}); SELECT {}; END;",
                        decl.ty,
                        values::readback(&q).join(", ")
                    );
                    self.eval_default(frame, &pre).await
                }
                None => Ok("NULL".to_string()),
            };
            match value {
                Ok(value) => {
                    for name in &decl.names {
                        if let Some(scope) = frame.scopes.last_mut() {
                            scope.vars.push(Var {
                                name: name.clone(),
                                ty: decl.ty.clone(),
                                value: value.clone(),
                            });
                        }
                    }
                }
                Err(e) => {
                    flow = Err(e);
                    break;
                }
            }
        }
        if flow.is_ok() {
            flow = self.exec_list(frame, &b.body).await;
        }
        frame.scopes.truncate(depth);
        match flow? {
            Flow::Leave(l) if b.label.as_ref() == Some(&l) => Ok(Flow::Next),
            Flow::Exit(d) if d == depth => Ok(Flow::Next),
            other => Ok(other),
        }
    }

    /// A DEFAULT's value: `pre` is a nested block that selects it.
    async fn eval_default(&mut self, frame: &Frame, pre: &str) -> Result<String, Fail> {
        let text = frame.block(pre);
        let kind = classify(&text);
        if super::super::isolation::mentions_information_schema(&text) {
            return Err(Fail::Unhandled(MysqlError::not_supported(
                "information_schema in a DECLARE of a procedure the compute node runs",
            )));
        }
        self.guard(&text, kind, ByteSummary::of(text.as_bytes()))?;
        self.authorize(&text, kind)?;
        let (columns, rows) = self.home_result(&text, false).await?;
        let row = rows.into_iter().next().unwrap_or_default();
        literal_of(&columns, &row, 0)
    }

    /// Runs one statement of the body (see the module's comment).
    async fn exec_sql(&mut self, frame: &mut Frame, text: &str) -> Result<(), Fail> {
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
                                self.assign(frame, &name, Some(expr)).await?;
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
            "EXECUTE" if second == "IMMEDIATE" => {
                if toks.get(2).is_some_and(|t| t.kind != TokenKind::String) {
                    return self
                        .dynamic(frame, text, &toks, 2, "EXECUTE IMMEDIATE", &locals)
                        .await;
                }
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
        let (_, row) = self
            .eval_row(
                frame,
                "",
                &[format!("HEX(CONVERT(({expr}) USING utf8mb4))")],
            )
            .await?;
        let Some(hex) = row.into_iter().next().flatten() else {
            return Err(Fail::Sql(MysqlError::parse("NULL", 1)));
        };
        let dynamic = values::unhex(&hex)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                Fail::Sql(MysqlError::new(
                    codes::UNKNOWN,
                    "dynamic SQL text is not UTF-8",
                ))
            })?;
        let mut statement = format!("{head} {}", quote(&dynamic, frame.backslashes));
        if let Some(u) = using {
            let mut args = Vec::new();
            for a in split_commas(text, toks, u + 1) {
                args.push(if skeleton::mentions(&a, locals) {
                    self.eval_literal(frame, &a).await?
                } else {
                    a
                });
            }
            statement.push_str(&format!(" USING {}", args.join(", ")));
        }
        self.as_client(&statement).await
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

fn literal_of(
    columns: &[strata_protocol::packets::ColumnDef],
    row: &[Option<String>],
    at: usize,
) -> Result<String, Fail> {
    let def = columns
        .get(at)
        .ok_or_else(|| Fail::Sql(MysqlError::new(codes::UNKNOWN, "no value read back")))?;
    let get = |i: usize| row.get(i).and_then(|v| v.as_deref());
    values::literal(def, get(at), get(at + 1), get(at + 2)).map_err(Fail::Sql)
}
