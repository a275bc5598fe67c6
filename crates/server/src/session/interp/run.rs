//! Runs an interpreted procedure: control flow here, every statement as the client's
//! own (inside an anonymous block declaring the locals when it names one), handlers
//! around them, OUT parameters written back.

use std::future::Future;
use std::pin::Pin;

use strata_protocol::{codes, MysqlError};
use strata_sql::{classify, code_tokens, ByteSummary, Token, TokenKind};

use super::skeleton::{self, Block, Condition, ForOver, Handler, Stmt};
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
pub(super) enum Flow {
    /// On to the next statement.
    Next,
    /// LEAVE the block or loop of this label.
    Leave(String),
    /// ITERATE the loop of this label.
    Iterate(String),
    /// An EXIT handler of scope n ran: leave that block.
    Exit(usize),
}

/// One BEGIN ... END block's locals and handlers (the parameters' scope first).
pub(super) struct Scope {
    vars: Vec<Var>,
    handlers: Vec<Handler>,
    /// Its cursors: name, SELECT, and the rows left while open.
    pub(super) cursors: Vec<super::cursors::Cursor>,
}

/// One interpreted CALL's state.
pub(super) struct Frame {
    pub(super) scopes: Vec<Scope>,
    /// The condition a handler is running for (what GET DIAGNOSTICS reads).
    pub(super) condition: Option<MysqlError>,
    /// Backslashes escape in string literals (no NO_BACKSLASH_ESCAPES).
    pub(super) backslashes: bool,
    /// The session's character_set_client, which dynamic texts are sent in.
    pub(super) client_charset: String,
}

impl Frame {
    pub(super) fn locals(&self) -> Vec<&str> {
        self.scopes
            .iter()
            .flat_map(|s| s.vars.iter().map(|v| v.name.as_str()))
            .collect()
    }

    pub(super) fn var_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.scopes
            .iter_mut()
            .rev()
            .find_map(|s| s.vars.iter_mut().rev().find(|v| v.name == name))
    }

    pub(super) fn var(&self, name: &str) -> Option<&Var> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.vars.iter().rev().find(|v| v.name == name))
    }

    /// An anonymous block declaring the visible locals, running `body`.
    pub(super) fn block(&self, body: &str) -> String {
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

pub(super) fn word(sql: &str, t: Option<&Token>) -> String {
    t.filter(|t| t.kind == TokenKind::Ident)
        .map(|t| t.text(sql).to_ascii_uppercase())
        .unwrap_or_default()
}

/// `sql` split at commas outside parentheses, from token `from` on, as texts.
pub(super) fn split_commas(sql: &str, toks: &[Token], from: usize) -> Vec<String> {
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
            client_charset: "utf8mb4".into(),
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
    pub(super) fn call_routine<'a>(
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
                let whose = if routine.name.is_empty() {
                    "a compound statement".to_string()
                } else {
                    format!("procedure {qualified}")
                };
                Fail::Unhandled(MysqlError::not_supported(&format!(
                    "{what} ({whose}, which the compute node runs for its dynamic SQL)"
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
            let own_mode = routine.sql_mode.as_deref().unwrap_or(&mode);
            let switch = mode != own_mode;
            if switch {
                self.as_client(&format!("SET SESSION sql_mode = {}", quote(own_mode, true)))
                    .await?;
            }
            let mut frame = Frame {
                scopes: vec![Scope {
                    vars: params,
                    handlers: Vec::new(),
                    cursors: Vec::new(),
                }],
                condition: None,
                backslashes: !own_mode.contains("NO_BACKSLASH_ESCAPES"),
                client_charset: if !charset.is_empty()
                    && charset
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    charset.clone()
                } else {
                    "utf8mb4".into()
                },
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
    pub(super) async fn as_client(&mut self, text: &str) -> Result<(), Fail> {
        self.as_client_bytes(text.as_bytes()).await
    }

    /// [`Session::as_client`] of a text in the client's character set (checked as its
    /// UTF-8 reading, as a COM_QUERY of those bytes is).
    pub(super) async fn as_client_bytes(&mut self, raw: &[u8]) -> Result<(), Fail> {
        let text = String::from_utf8_lossy(raw);
        let mark = self.client.conn.write_mark();
        let answer = Box::pin(self.audited(&text, raw, true))
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
    pub(super) async fn eval_row(
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
    pub(super) async fn eval_literal(&mut self, frame: &Frame, expr: &str) -> Result<String, Fail> {
        let (columns, row) = self.eval_row(frame, "", &values::readback(expr)).await?;
        literal_of(&columns, &row, 0)
    }

    /// Sets local `name` to `expr` (to its own value when None: its type's conversion).
    pub(super) async fn assign(
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
    pub(super) fn handle<'a>(
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
                Stmt::Open(c) => self.open_cursor(frame, c).await.map(|()| Flow::Next),
                Stmt::Fetch { cursor, targets } => self
                    .fetch_cursor(frame, cursor, targets)
                    .await
                    .map(|()| Flow::Next),
                Stmt::Close(c) => frame.close_cursor(c).map(|()| Flow::Next),
                Stmt::For {
                    label,
                    var,
                    over,
                    body,
                } => self.exec_for(frame, label.as_ref(), var, over, body).await,
                Stmt::Resignal => Err(Fail::Sql(frame.condition.clone().unwrap_or_else(|| {
                    MysqlError::new((1645, "0K000"), "RESIGNAL when handler not active")
                }))),
                Stmt::Sql(text) => self.exec_sql(frame, text).await.map(|()| Flow::Next),
            }
        })
    }

    async fn exec_block(&mut self, frame: &mut Frame, b: &Block) -> Result<Flow, Fail> {
        let depth = frame.scopes.len();
        frame.scopes.push(Scope {
            vars: Vec::new(),
            handlers: b.handlers.clone(),
            cursors: b
                .cursors
                .iter()
                .map(|(name, select)| super::cursors::Cursor::new(name, select))
                .collect(),
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

    /// A FOR loop: over a BIGINT index from one bound to the other, or over the rows of
    /// a SELECT (each row's values replacing `var.field` in the body's texts).
    async fn exec_for(
        &mut self,
        frame: &mut Frame,
        label: Option<&String>,
        var: &str,
        over: &ForOver,
        body: &[Stmt],
    ) -> Result<Flow, Fail> {
        let ends = |flow: Flow| -> Option<Result<Flow, Fail>> {
            match flow {
                Flow::Next => None,
                Flow::Leave(l) if label == Some(&l) => Some(Ok(Flow::Next)),
                Flow::Iterate(l) if label == Some(&l) => None,
                flow => Some(Ok(flow)),
            }
        };
        let (lower, upper, reverse) = match over {
            ForOver::Range {
                lower,
                upper,
                reverse,
            } => (lower, upper, *reverse),
            ForOver::Rows(_) | ForOver::Cursor(_) => {
                let select = match over {
                    ForOver::Cursor(c) => frame.cursor_select(c)?,
                    ForOver::Rows(s) => s.clone(),
                    ForOver::Range { .. } => String::new(),
                };
                let (names, rows) = self.select_rows(frame, &select).await?;
                for row in rows {
                    let field = |f: &str| {
                        names
                            .iter()
                            .position(|n| n == f)
                            .and_then(|i| row.get(i).cloned())
                    };
                    let this = super::records::map_texts(body, &|t| {
                        super::records::replace_fields(t, var, &field)
                    });
                    if let Some(done) = ends(self.exec_list(frame, &this).await?) {
                        return done;
                    }
                }
                return Ok(Flow::Next);
            }
        };
        let bound = "strata interp for bound";
        let depth = frame.scopes.len();
        frame.scopes.push(Scope {
            vars: [var, bound]
                .iter()
                .map(|n| Var {
                    name: n.to_string(),
                    ty: "BIGINT".into(),
                    value: "NULL".into(),
                })
                .collect(),
            handlers: Vec::new(),
            cursors: Vec::new(),
        });
        let (from, to) = if reverse {
            (upper, lower)
        } else {
            (lower, upper)
        };
        let flow = async {
            self.assign(frame, var, Some(from)).await?;
            self.assign(frame, bound, Some(to)).await?;
            let int =
                |frame: &Frame, n: &str| frame.var(n).and_then(|v| v.value.parse::<i64>().ok());
            let Some(end) = int(frame, bound) else {
                return Ok(Flow::Next);
            };
            loop {
                let Some(i) = int(frame, var) else {
                    return Ok(Flow::Next);
                };
                if (reverse && i < end) || (!reverse && i > end) {
                    return Ok(Flow::Next);
                }
                if let Some(done) = ends(self.exec_list(frame, body).await?) {
                    return done;
                }
                let step = if reverse { "- 1" } else { "+ 1" };
                let q = values::quoted_ident(var);
                self.assign(frame, var, Some(&format!("{q} {step}")))
                    .await?;
            }
        }
        .await;
        frame.scopes.truncate(depth);
        flow
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
}

pub(super) fn literal_of(
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
