//! Server-side prepared statements. The compute node owns the statement ids clients
//! see; each storage connection prepares a statement the first time it runs it there,
//! so executions can go to whichever pooled connection is free. Parameter types are
//! remembered and always sent, and long data is buffered until EXECUTE.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{BufMut, BytesMut};

use strata_backend::{BackendConn, ResponseKind};
use strata_catalog::sharding::KeyLiteral;
use strata_protocol::constants::{com, status};
use strata_protocol::packets::OkPacket;
use strata_protocol::wire::Reader;
use strata_protocol::{codes, MysqlError};

use super::{backend_error, Session, SessionError};

/// COM_STMT_EXECUTE flag asking for a read-only cursor.
const CURSOR_TYPE_READ_ONLY: u8 = 1;

/// A statement prepared by the client.
pub struct ClientStatement {
    pub(super) sql: Arc<str>,
    /// The text again, shared with SHOW PROCESSLIST without a copy per execute.
    info: bytes::Bytes,
    params: usize,
    /// Types from the last execute that bound them (2 bytes per parameter).
    types: Option<Vec<u8>>,
    /// Parameter data sent with COM_STMT_SEND_LONG_DATA since the last execute.
    long_data: HashMap<u16, Vec<u8>>,
    /// Data node whose pinned connection holds this statement's open cursor.
    cursor_node: Option<u32>,
    /// Executing it changes session state that only its connection holds (a prepared
    /// SET, user variables, locks): the session keeps that connection from then on.
    pins_connection: bool,
}

fn statement_id(body: &[u8]) -> Option<u32> {
    body.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn unknown_statement(id: u32, command: &str) -> MysqlError {
    MysqlError::new(
        codes::UNKNOWN_STMT_HANDLER,
        format!("Unknown prepared statement handler ({id}) given to {command}"),
    )
}

impl Session {
    /// The data node (and its physical database) a prepared statement runs on.
    fn statement_node(
        &self,
        sql: &str,
        params: Option<&[KeyLiteral]>,
    ) -> Result<(u32, Option<Arc<str>>), MysqlError> {
        match self.route_prepared(sql, params)? {
            Some(dnid) => Ok((dnid, self.physical_of(dnid))),
            None => self.home_node(),
        }
    }

    pub(super) fn has_open_cursor(&self) -> bool {
        self.statements.values().any(|s| s.cursor_node.is_some())
    }

    pub(super) async fn stmt_prepare(&mut self, body: &[u8]) -> Result<(), SessionError> {
        let sql: Arc<str> = Arc::from(String::from_utf8_lossy(body).as_ref());
        let kind = strata_sql::classify(&sql);
        self.refresh_account();
        let bytes = strata_sql::ByteSummary::of(sql.as_bytes());
        let checked = match kind {
            strata_sql::StatementKind::Show => {
                strata_sql::guard::check_prepared_show(&sql, &self.ctx.private_schemas)
                    .map_err(|r| self.refusal_error(&r))
            }
            strata_sql::StatementKind::Use => Err(MysqlError::new(
                (1295, "HY000"),
                "This command is not supported in the prepared statement protocol yet",
            )),
            _ => Ok(()),
        }
        .and_then(|()| self.guard(&sql, kind, bytes))
        .and_then(|()| self.authorize(&sql, kind));
        let checked = match checked {
            Ok(()) => self.firewall(&sql, kind).await,
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            self.err(&e);
            return Ok(());
        }
        let sql: Arc<str> = match self.mask_variables(&sql, bytes) {
            std::borrow::Cow::Owned(masked) => Arc::from(masked),
            std::borrow::Cow::Borrowed(_) => sql,
        };
        let sql: Arc<str> = if super::isolation::mentions_information_schema(&sql)
            || self.reads_information_schema(&sql, kind)
        {
            match self.prepared_information_schema(&sql) {
                Ok(text) => Arc::from(text),
                Err(e) => {
                    self.err(&e);
                    return Ok(());
                }
            }
        } else {
            sql
        };
        if kind == strata_sql::StatementKind::Set {
            if let Some(e) = strata_sql::parse_set(&sql)
                .ok()
                .and_then(|items| super::query::global_set_refusal(&items))
            {
                self.err(&e);
                return Ok(());
            }
        }
        let pins_connection = matches!(
            kind,
            strata_sql::StatementKind::Set | strata_sql::StatementKind::Use
        ) || super::query::creates_connection_state(
            &sql,
            kind,
            strata_sql::ByteSummary::of(sql.as_bytes()),
        );
        let (dnid, physical) = match self.statement_node(&sql, None) {
            Ok(v) => v,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        let mut lease = match self.lease(dnid, physical.as_deref()).await {
            Ok(l) => l,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        let prepared = lease.ensure_prepared(&sql).await;
        self.finish(lease);
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.err(&backend_error(dnid, &e));
                return Ok(());
            }
        };
        let id = self.next_statement_id;
        self.next_statement_id = self.next_statement_id.wrapping_add(1).max(1);
        self.statements.insert(
            id,
            ClientStatement {
                info: bytes::Bytes::copy_from_slice(sql.as_bytes()),
                sql,
                params: prepared.params.len(),
                types: None,
                long_data: HashMap::new(),
                cursor_node: None,
                pins_connection,
            },
        );
        self.conn.write_with(|b| {
            b.put_u8(0);
            b.put_u32_le(id);
            b.put_u16_le(prepared.columns.len() as u16);
            b.put_u16_le(prepared.params.len() as u16);
            b.put_u8(0);
            b.put_u16_le(prepared.warnings);
        });
        let flags = self.status();
        let mut out = self.result_format().writer(&mut self.conn);
        for defs in [&prepared.params, &prepared.columns] {
            if defs.is_empty() {
                continue;
            }
            for def in defs.iter() {
                match &self.rename {
                    Some(rename) => {
                        let mut def = def.clone();
                        rename.rename_column(&mut def);
                        out.column(&def);
                    }
                    None => out.column(def),
                }
            }
            out.end_columns(0, flags);
        }
        Ok(())
    }

    pub(super) async fn stmt_execute(&mut self, body: &[u8]) -> Result<(), SessionError> {
        self.ctx
            .questions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(id) = statement_id(body) else {
            self.err(&MysqlError::new(
                codes::HANDSHAKE,
                "Malformed COM_STMT_EXECUTE",
            ));
            return Ok(());
        };
        let Some(stmt) = self.statements.get_mut(&id) else {
            self.err(&unknown_statement(id, "mysqld_stmt_execute"));
            return Ok(());
        };
        // Remember parameter types when this execute binds them.
        if stmt.params > 0 {
            let mut r = Reader::new(body);
            let types = r
                .bytes(9, "header")
                .and_then(|_| r.bytes(stmt.params.div_ceil(8), "null bitmap"))
                .and_then(|_| r.u8("bound flag"))
                .and_then(|bound| {
                    if bound == 1 {
                        r.bytes(stmt.params * 2, "types").map(Some)
                    } else {
                        Ok(None)
                    }
                });
            match types {
                Ok(Some(t)) => stmt.types = Some(t.to_vec()),
                Ok(None) if stmt.types.is_some() => {}
                _ => {
                    self.err(&MysqlError::new(
                        codes::HANDSHAKE,
                        "Malformed COM_STMT_EXECUTE: parameter types missing",
                    ));
                    return Ok(());
                }
            }
        }
        let cursor = body.get(4).is_some_and(|f| f & CURSOR_TYPE_READ_ONLY != 0);
        let sql = stmt.sql.clone();
        let info = stmt.info.clone();
        if stmt.pins_connection {
            self.sticky = true;
        }
        let params = stmt.params;
        let types = stmt.types.clone().unwrap_or_default();
        let long_data = std::mem::take(&mut stmt.long_data);
        if self.coordinated() {
            let kind = strata_sql::classify(&sql);
            self.statement_writes = super::transaction::may_write(kind);
            if let Some(done) = self.coordinated_statement(&sql, kind, false).await {
                done?;
                return Ok(());
            }
        }
        if params == 0 {
            // A prepared COMMIT / ROLLBACK / SAVEPOINT must reach every enlisted node.
            use strata_sql::StatementKind as K;
            if matches!(
                strata_sql::classify(&sql),
                K::Commit | K::Rollback | K::RollbackToSavepoint | K::Savepoint | K::Release
            ) {
                if let Some(done) = self.transaction_control(&sql, false).await {
                    done?;
                    return Ok(());
                }
            }
        }
        self.set_info(Some(info));

        let routed = if self.multi_node {
            let values = decode_params(body, params, &types, &long_data).map_err(|e| {
                MysqlError::new(codes::HANDSHAKE, format!("Malformed COM_STMT_EXECUTE: {e}"))
            });
            match values {
                Ok(values) => match self.statement_node(&sql, Some(&values)) {
                    Err(e) if e == super::planning::several_nodes() => {
                        return self.execute_several(&sql, &values).await;
                    }
                    other => other,
                },
                Err(e) => Err(e),
            }
        } else {
            self.home_node()
        };
        let (dnid, physical) = match routed {
            Ok(v) => v,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        let mut lease = match self.lease(dnid, physical.as_deref()).await {
            Ok(l) => l,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        let backend_stmt = match lease.ensure_prepared(&sql).await {
            Ok(p) => p,
            Err(e) => {
                self.finish(lease);
                self.err(&backend_error(dnid, &e));
                return Ok(());
            }
        };
        for (param, data) in &long_data {
            let mut b = BytesMut::with_capacity(6 + data.len());
            b.put_u32_le(backend_stmt.id);
            b.put_u16_le(*param);
            b.extend_from_slice(data);
            lease.queue_command(com::STMT_SEND_LONG_DATA, &b);
        }
        let exec = match BackendConn::execute_body(backend_stmt.id, body, params, &types) {
            Ok(b) => b,
            Err(e) => {
                self.finish(lease);
                self.err(&MysqlError::new(
                    codes::HANDSHAKE,
                    format!("Malformed COM_STMT_EXECUTE: {e}"),
                ));
                return Ok(());
            }
        };
        lease.queue_command(com::STMT_EXECUTE, &exec);
        self.note_backend(Some(&lease));
        let mode = relay_mode!(self, false);
        let outcome = lease
            .relay(&mut self.conn, ResponseKind::Results, mode)
            .await;
        self.note_backend(None);
        self.set_info(None);
        match outcome {
            Ok(out) => {
                if out.last_insert_id != 0 {
                    self.last_insert_id = out.last_insert_id;
                }
                if out.warnings > 0 {
                    self.keep_for_warnings = true;
                }
                if cursor && out.status & status::CURSOR_EXISTS != 0 {
                    if let Some(stmt) = self.statements.get_mut(&id) {
                        stmt.cursor_node = Some(dnid);
                    }
                }
                self.finish(lease);
                if let Some(e) = &out.error {
                    self.after_statement_error(e.code).await;
                }
            }
            Err(e) => {
                self.finish(lease);
                self.relay_failed(dnid, e)?;
                self.after_lost_branch(dnid).await;
            }
        }
        Ok(())
    }

    /// Runs an execution that needs several data nodes as text with its parameters
    /// bound as literals; result rows are converted to the binary protocol.
    async fn execute_several(
        &mut self,
        sql: &str,
        values: &[KeyLiteral],
    ) -> Result<(), SessionError> {
        let no_backslash_escapes = self
            .vars
            .get("sql_mode")
            .is_some_and(|m| m.to_ascii_uppercase().contains("NO_BACKSLASH_ESCAPES"));
        let literals: Result<Vec<String>, MysqlError> = values
            .iter()
            .map(|v| sql_literal(v, no_backslash_escapes))
            .collect();
        let text = literals.and_then(|l| {
            strata_sql::inline_params(sql, &l).map_err(|e| super::query::sql_error(&e))
        });
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                self.err(&e);
                return Ok(());
            }
        };
        self.binary_results = true;
        let result = self.planned(&text, text.as_bytes(), false).await;
        self.binary_results = false;
        self.set_info(None);
        result.map(|_| ())
    }

    pub(super) async fn stmt_fetch(&mut self, body: &[u8]) -> Result<(), SessionError> {
        let Some(id) = statement_id(body) else {
            self.err(&MysqlError::new(
                codes::HANDSHAKE,
                "Malformed COM_STMT_FETCH",
            ));
            return Ok(());
        };
        let Some(stmt) = self.statements.get(&id) else {
            self.err(&unknown_statement(id, "mysqld_stmt_fetch"));
            return Ok(());
        };
        let sql = stmt.sql.clone();
        let cursor_node = stmt.cursor_node;
        let pinned =
            cursor_node.and_then(|n| self.pinned.iter().position(|l| l.target().dnid == n));
        let Some(mut lease) = pinned.map(|pos| self.pinned.swap_remove(pos)) else {
            self.err(&MysqlError::new(
                codes::UNKNOWN,
                format!("The statement ({id}) has no open cursor"),
            ));
            return Ok(());
        };
        let dnid = lease.target().dnid;
        let backend_id = match lease.ensure_prepared(&sql).await {
            Ok(p) => p.id,
            Err(e) => {
                self.finish(lease);
                self.err(&backend_error(dnid, &e));
                return Ok(());
            }
        };
        let mut b = BytesMut::with_capacity(8);
        b.put_u32_le(backend_id);
        b.extend_from_slice(body.get(4..8).unwrap_or(&[0, 0, 0, 0]));
        lease.queue_command(com::STMT_FETCH, &b);
        let mode = relay_mode!(self, false);
        let outcome = lease.relay_fetch(&mut self.conn, mode).await;
        match outcome {
            Ok(out) => {
                if out.error.is_some() || out.status & status::LAST_ROW_SENT != 0 {
                    if let Some(stmt) = self.statements.get_mut(&id) {
                        stmt.cursor_node = None;
                    }
                }
                self.finish(lease);
            }
            Err(e) => {
                if let Some(stmt) = self.statements.get_mut(&id) {
                    stmt.cursor_node = None;
                }
                self.finish(lease);
                self.relay_failed(dnid, e)?;
            }
        }
        Ok(())
    }

    pub(super) fn stmt_close(&mut self, body: &[u8]) {
        if let Some(id) = statement_id(body) {
            self.statements.remove(&id);
        }
    }

    pub(super) async fn stmt_reset(&mut self, body: &[u8]) -> Result<(), SessionError> {
        let Some(id) = statement_id(body) else {
            self.err(&MysqlError::new(
                codes::HANDSHAKE,
                "Malformed COM_STMT_RESET",
            ));
            return Ok(());
        };
        let Some(stmt) = self.statements.get_mut(&id) else {
            self.err(&unknown_statement(id, "mysqld_stmt_reset"));
            return Ok(());
        };
        stmt.long_data.clear();
        let had_cursor = stmt.cursor_node.take();
        let sql = stmt.sql.clone();
        if let Some(node) = had_cursor {
            let pinned = self.pinned.iter().position(|l| l.target().dnid == node);
            if let Some(mut lease) = pinned.map(|pos| self.pinned.swap_remove(pos)) {
                if let Ok(p) = lease.ensure_prepared(&sql).await {
                    lease.queue_command(com::STMT_RESET, &p.id.to_le_bytes());
                    if lease.flush().await.is_err() || lease.read_ok().await.is_err() {
                        lease.mark_broken();
                    }
                }
                self.finish(lease);
            }
        }
        let ok = OkPacket {
            status: self.status(),
            ..OkPacket::default()
        };
        crate::results::write_ok(&mut self.conn, &ok);
        Ok(())
    }

    pub(super) fn stmt_send_long_data(&mut self, body: &[u8]) {
        let (Some(id), Some(param)) = (statement_id(body), body.get(4..6)) else {
            return;
        };
        let param = u16::from_le_bytes([param[0], param[1]]);
        if let Some(stmt) = self.statements.get_mut(&id) {
            if usize::from(param) < stmt.params {
                stmt.long_data
                    .entry(param)
                    .or_default()
                    .extend_from_slice(&body[6..]);
            }
        }
    }
}

/// Decodes a COM_STMT_EXECUTE's parameter values into literals for routing.
fn decode_params(
    body: &[u8],
    count: usize,
    types: &[u8],
    long_data: &HashMap<u16, Vec<u8>>,
) -> Result<Vec<KeyLiteral>, strata_protocol::ProtocolError> {
    use strata_protocol::constants::coltype as t;
    let mut values = Vec::with_capacity(count);
    if count == 0 {
        return Ok(values);
    }
    let mut r = Reader::new(body);
    r.bytes(9, "execute header")?;
    let nulls = r.bytes(count.div_ceil(8), "null bitmap")?;
    if r.u8("bound flag")? == 1 {
        r.bytes(count * 2, "parameter types")?;
    }
    for i in 0..count {
        if nulls[i / 8] & (1 << (i % 8)) != 0 {
            values.push(KeyLiteral::Null);
            continue;
        }
        if let Some(data) = long_data.get(&(i as u16)) {
            values.push(KeyLiteral::String(data.clone()));
            continue;
        }
        let ty = types.get(i * 2).copied().unwrap_or(t::VAR_STRING);
        let unsigned = types.get(i * 2 + 1).is_some_and(|f| f & 0x80 != 0);
        let value = match ty {
            t::TINY => {
                let v = r.u8("tiny")?;
                KeyLiteral::Integer(if unsigned {
                    v.to_string()
                } else {
                    (v as i8).to_string()
                })
            }
            t::SHORT | t::YEAR => {
                let v = r.u16("short")?;
                KeyLiteral::Integer(if unsigned {
                    v.to_string()
                } else {
                    (v as i16).to_string()
                })
            }
            t::LONG | t::INT24 => {
                let v = r.u32("long")?;
                KeyLiteral::Integer(if unsigned {
                    v.to_string()
                } else {
                    (v as i32).to_string()
                })
            }
            t::LONGLONG => {
                let v = r.u64("longlong")?;
                KeyLiteral::Integer(if unsigned {
                    v.to_string()
                } else {
                    (v as i64).to_string()
                })
            }
            t::FLOAT => {
                let b = r.bytes(4, "float")?;
                KeyLiteral::Number(f32::from_le_bytes([b[0], b[1], b[2], b[3]]).to_string())
            }
            t::DOUBLE => {
                let b = r.bytes(8, "double")?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                KeyLiteral::Number(f64::from_le_bytes(a).to_string())
            }
            t::DATE | t::DATETIME | t::TIMESTAMP => {
                let n = r.u8("temporal length")? as usize;
                let b = r.bytes(n, "temporal")?;
                let field = |i: usize| b.get(i).copied().unwrap_or(0) as u32;
                let year = u16::from_le_bytes([
                    b.first().copied().unwrap_or(0),
                    b.get(1).copied().unwrap_or(0),
                ]);
                let mut text = format!("{year:04}-{:02}-{:02}", field(2), field(3));
                if ty != t::DATE {
                    text.push_str(&format!(" {:02}:{:02}:{:02}", field(4), field(5), field(6)));
                    if n >= 11 {
                        let micros = u32::from_le_bytes([
                            field(7) as u8,
                            field(8) as u8,
                            field(9) as u8,
                            field(10) as u8,
                        ]);
                        text.push_str(&format!(".{micros:06}"));
                    }
                }
                KeyLiteral::String(text.into_bytes())
            }
            t::TIME => {
                let n = r.u8("time length")? as usize;
                let b = r.bytes(n, "time")?;
                let field = |i: usize| b.get(i).copied().unwrap_or(0) as u32;
                let days = u32::from_le_bytes([
                    field(1) as u8,
                    field(2) as u8,
                    field(3) as u8,
                    field(4) as u8,
                ]);
                let sign = if field(0) == 1 { "-" } else { "" };
                KeyLiteral::String(
                    format!(
                        "{sign}{:02}:{:02}:{:02}",
                        days * 24 + field(5),
                        field(6),
                        field(7)
                    )
                    .into_bytes(),
                )
            }
            t::NEWDECIMAL | t::DECIMAL => {
                KeyLiteral::Number(String::from_utf8_lossy(r.lenenc_bytes("decimal")?).into_owned())
            }
            t::NULL => KeyLiteral::Null,
            _ => KeyLiteral::String(r.lenenc_bytes("string")?.to_vec()),
        };
        values.push(value);
    }
    Ok(values)
}

/// A parameter value as an SQL literal in the statement text. Strings stay in the
/// connection's character set (only `'`, and `\` unless NO_BACKSLASH_ESCAPES, are
/// escaped); bytes that are not UTF-8 become a hexadecimal (binary) literal.
fn sql_literal(value: &KeyLiteral, no_backslash_escapes: bool) -> Result<String, MysqlError> {
    let hex = |b: &[u8]| {
        let mut s = String::with_capacity(3 + 2 * b.len());
        s.push_str("X'");
        for x in b {
            s.push_str(&format!("{x:02X}"));
        }
        s.push('\'');
        s
    };
    Ok(match value {
        KeyLiteral::Null => "NULL".into(),
        KeyLiteral::Integer(t) => t.clone(),
        KeyLiteral::Number(t) => {
            if t.parse::<f64>().map_or(true, |f| !f.is_finite()) {
                return Err(MysqlError::new(
                    codes::WRONG_VALUE_FOR_VAR,
                    format!("Incorrect numeric parameter value '{t}'"),
                ));
            }
            t.clone()
        }
        KeyLiteral::Bytes(b) => hex(b),
        KeyLiteral::String(b) => match std::str::from_utf8(b) {
            Ok(s) => {
                let mut out = String::with_capacity(s.len() + 2);
                out.push('\'');
                for c in s.chars() {
                    match c {
                        '\'' => out.push_str("''"),
                        '\\' if !no_backslash_escapes => out.push_str("\\\\"),
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            Err(_) => hex(b),
        },
    })
}
