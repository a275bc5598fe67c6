//! From fuzz bytes to a session: the login header, the operations, seeds and descriptions.

use super::*;

/// Login header: bit 0 multi-statements, 1 DEPRECATE_EOF, 2-3 database (test, test,
/// fuzz, none), 4 restricted user, 5 no MULTI_RESULTS/SESSION_TRACK, 6 COM_QUIT at the
/// end, 7 a sync point after every operation.
pub(super) fn decode_header(data: &[u8]) -> (Login, u8, &[u8]) {
    let (flags, rest) = match data.split_first() {
        Some((&f, rest)) => (f, rest),
        None => (0, data),
    };
    let root = flags & 0x10 == 0;
    let mut capabilities = BASE_CAPS;
    if flags & 0x01 != 0 {
        capabilities |= cap::MULTI_STATEMENTS;
    }
    if flags & 0x02 != 0 {
        capabilities |= cap::DEPRECATE_EOF;
    }
    if flags & 0x20 == 0 {
        capabilities |= cap::MULTI_RESULTS | cap::PS_MULTI_RESULTS | cap::SESSION_TRACK;
    }
    let database = match (flags >> 2) & 3 {
        0 | 1 => Some(LOGICAL_DB.to_string()),
        2 if root => Some(RENAMED_DB.to_string()),
        _ => None,
    };
    (
        Login {
            root,
            database,
            capabilities,
        },
        flags,
        rest,
    )
}

/// `STRATA_FUZZ_AVOID`: `;`-separated `query:TEXT` / `prepare:TEXT` patterns; a generated
/// COM_QUERY / COM_STMT_PREPARE whose SQL contains TEXT (ASCII case ignored) becomes
/// `SELECT 1`. Lets a long run look past a known, still open finding.
pub(super) fn avoided(command: u8, sql: &[u8]) -> bool {
    static AVOID: OnceLock<Vec<(u8, Vec<u8>)>> = OnceLock::new();
    let patterns = AVOID.get_or_init(|| {
        let spec = std::env::var("STRATA_FUZZ_AVOID").unwrap_or_default();
        spec.split(';')
            .filter_map(|p| {
                let (kind, text) = p.split_once(':')?;
                let command = match kind.trim() {
                    "query" => com::QUERY,
                    "prepare" => com::STMT_PREPARE,
                    _ => return None,
                };
                Some((command, text.to_ascii_lowercase().into_bytes()))
            })
            .filter(|(_, text)| !text.is_empty())
            .collect()
    });
    patterns.iter().any(|(c, text)| {
        *c == command
            && sql
                .windows(text.len())
                .any(|w| w.eq_ignore_ascii_case(text))
    })
}

/// Reads choices off the input; zeros once it is exhausted.
pub(super) struct Input<'a> {
    pub(super) data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(super) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(super) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub(super) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A length byte, then that many bytes.
    pub(super) fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.take(n)
    }

    pub(super) fn u32(&mut self) -> u32 {
        let b = self.take(4);
        let mut v = [0u8; 4];
        v[..b.len()].copy_from_slice(b);
        u32::from_le_bytes(v)
    }
}

/// Turns the input after the header into steps.
pub(super) fn generate(data: &[u8], flags: u8, info: &SessionInfo) -> Vec<Step> {
    let mut g = Gen {
        input: Input { data },
        info,
        steps: Vec::new(),
        prepares: 0,
        big_left: 1,
    };
    let lockstep = flags & 0x80 != 0;
    let mut ops = 0;
    while !g.input.is_empty() && ops < MAX_OPS {
        ops += 1;
        let op = g.input.byte();
        if !g.op(op) {
            break;
        }
        if lockstep {
            g.steps.push(Step::Sync);
        }
    }
    if flags & 0x40 != 0 {
        g.steps.push(Step::Command(vec![com::QUIT]));
    }
    g.steps
}

pub(super) struct Gen<'a, 'i> {
    pub(super) input: Input<'a>,
    pub(super) info: &'i SessionInfo,
    pub(super) steps: Vec<Step>,
    /// COM_STMT_PREPAREs sent, to guess the ids the node hands out (1, 2, ...).
    pub(super) prepares: u32,
    pub(super) big_left: u8,
}

impl Gen<'_, '_> {
    /// Adds one operation's steps; false to stop.
    pub(super) fn op(&mut self, op: u8) -> bool {
        match op {
            0..OP_RAW_COMMAND => {
                let command = KNOWN[usize::from(op) % KNOWN.len()];
                let payload = self.command(command);
                self.steps.push(Step::Command(payload));
            }
            OP_RAW_COMMAND..OP_RAW_FRAME => {
                let mut payload = vec![self.input.byte()];
                payload.extend_from_slice(self.input.chunk());
                self.steps.push(Step::Command(payload));
            }
            OP_RAW_FRAME..OP_MULTI => {
                let flags = self.input.byte();
                let body = self.input.chunk();
                let seq = self.input.byte();
                let declared = match flags % 8 {
                    1 => body.len().saturating_sub(1 + usize::from(flags >> 3) % 4),
                    2 => body.len() + 1 + usize::from(flags >> 3) % 4,
                    5 => 0,
                    7 => MAX_FRAME_PAYLOAD,
                    _ => body.len(),
                };
                let mut raw = Vec::with_capacity(4 + body.len());
                raw.extend_from_slice(&(declared as u32).to_le_bytes()[..3]);
                raw.push(seq);
                raw.extend_from_slice(body);
                self.steps.push(Step::Raw(raw));
            }
            OP_MULTI..OP_PREPARED => {
                let parts = 2 + usize::from(self.input.byte() % 4);
                let mut sql = Vec::new();
                for i in 0..parts {
                    if i > 0 {
                        let sep: &[u8] = match self.input.byte() % 5 {
                            0 => b";",
                            1 => b"; ",
                            2 => b";\n",
                            3 => b" ;",
                            _ => b";;",
                        };
                        sql.extend_from_slice(sep);
                    }
                    sql.extend_from_slice(&self.sql());
                }
                let mut payload = vec![com::QUERY];
                payload.extend_from_slice(&sql);
                self.steps.push(Step::Command(payload));
            }
            OP_PREPARED..OP_SYNC => self.prepared(),
            OP_SYNC..OP_BIG => self.steps.push(Step::Sync),
            OP_BIG..OP_CHANGE_USER => self.big(),
            OP_CHANGE_USER..OP_QUIT => {
                let payload = self.change_user();
                self.steps.push(Step::Command(payload));
            }
            OP_QUIT..=u8::MAX => {
                self.steps.push(Step::Command(vec![com::QUIT]));
                return false;
            }
        }
        true
    }

    pub(super) fn command(&mut self, command: u8) -> Vec<u8> {
        let mut p = vec![command];
        match command {
            com::QUERY | com::STMT_PREPARE => {
                let mut sql = self.sql();
                if command == com::STMT_PREPARE {
                    self.prepares += 1;
                }
                if avoided(command, &sql) {
                    sql = b"SELECT 1".to_vec();
                }
                p.extend_from_slice(&sql);
            }
            com::STMT_EXECUTE => {
                let id = self.statement_id();
                let params = usize::from(self.input.byte() % 4);
                self.execute_body(&mut p, &id, params);
            }
            com::STMT_FETCH => {
                p.extend_from_slice(&self.statement_id());
                let rows = match self.input.byte() % 4 {
                    0 => 1,
                    1 => 0,
                    2 => u32::MAX,
                    _ => self.input.u32(),
                };
                p.extend_from_slice(&rows.to_le_bytes());
            }
            com::STMT_CLOSE | com::STMT_RESET => p.extend_from_slice(&self.statement_id()),
            com::STMT_SEND_LONG_DATA => {
                p.extend_from_slice(&self.statement_id());
                let param = match self.input.byte() % 4 {
                    3 => u16::MAX,
                    n => u16::from(n),
                };
                p.extend_from_slice(&param.to_le_bytes());
                p.extend_from_slice(self.input.chunk());
            }
            com::INIT_DB => {
                let db: &[u8] = match self.input.byte() % 8 {
                    0 | 1 => b"test",
                    2 => b"fuzz",
                    3 => b"nosuch",
                    4 => b"",
                    5 => b"TEST",
                    6 => b"information_schema",
                    _ => self.input.chunk(),
                };
                p.extend_from_slice(db);
            }
            com::FIELD_LIST => {
                let table: &[u8] = match self.input.byte() % 4 {
                    0 | 1 => b"fz",
                    2 => b"nosuch",
                    _ => self.input.chunk(),
                };
                p.extend_from_slice(table);
                match self.input.byte() % 4 {
                    0 | 1 => p.push(0),
                    2 => p.extend_from_slice(b"\0v%"),
                    _ => {}
                }
            }
            com::PROCESS_KILL => {
                let id = match self.input.byte() % 6 {
                    0 | 1 => self.info.connection_id,
                    2 => self.info.bystander_id,
                    3 => 0,
                    4 => u32::MAX,
                    _ => self.input.u32(),
                };
                let n = match self.input.byte() % 8 {
                    0 => 2,
                    1 => 6,
                    _ => 4,
                };
                let bytes = id.to_le_bytes();
                p.extend_from_slice(&bytes[..n.min(4)]);
                p.resize(1 + n, 0);
            }
            com::SET_OPTION => {
                let body: &[u8] = match self.input.byte() % 6 {
                    0 => &[0, 0],
                    1 => &[1, 0],
                    2 => &[],
                    3 => &[0],
                    4 => &[2, 0],
                    _ => self.input.chunk(),
                };
                p.extend_from_slice(body);
            }
            com::CHANGE_USER => {
                // Garbage-ish: a user name, then raw bytes.
                let user: &[u8] = match self.input.byte() % 4 {
                    0 => b"root\0",
                    1 => b"fuzz\0",
                    2 => b"",
                    _ => b"nosuch",
                };
                p.extend_from_slice(user);
                p.extend_from_slice(self.input.chunk());
            }
            _ => {
                if self.input.byte() % 8 == 7 {
                    p.extend_from_slice(self.input.chunk());
                }
            }
        }
        p
    }

    /// SQL text: a statement from the list, sometimes with raw bytes added or instead.
    pub(super) fn sql(&mut self) -> Vec<u8> {
        let t = usize::from(self.input.byte()) % TEMPLATES.len();
        let mode = self.input.byte();
        let mut sql = self.fill(TEMPLATES[t]);
        match mode % 8 {
            5 => sql.extend_from_slice(self.input.chunk()),
            6 => {
                let mut raw = self.input.chunk().to_vec();
                raw.extend_from_slice(&sql);
                sql = raw;
            }
            7 => sql = self.input.chunk().to_vec(),
            _ => {}
        }
        sql
    }

    pub(super) fn fill(&mut self, template: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.extend_from_slice(&rest.as_bytes()[..start]);
            rest = &rest[start..];
            let (value, len): (Vec<u8>, usize) = if rest.starts_with("{self}") {
                (self.info.connection_id.to_string().into_bytes(), 6)
            } else if rest.starts_with("{other}") {
                (self.info.bystander_id.to_string().into_bytes(), 7)
            } else if rest.starts_with("{n}") {
                (self.number(), 3)
            } else if rest.starts_with("{s}") {
                let n = usize::from(self.input.byte() % 16);
                (self.input.take(n).to_vec(), 3)
            } else {
                (b"{".to_vec(), 1)
            };
            out.extend_from_slice(&value);
            rest = &rest[len..];
        }
        out.extend_from_slice(rest.as_bytes());
        out
    }

    pub(super) fn number(&mut self) -> Vec<u8> {
        const NUMBERS: [&str; 12] = [
            "0",
            "1",
            "2",
            "-1",
            "255",
            "65536",
            "4294967295",
            "18446744073709551615",
            "99999999999999999999999",
            "1e308",
            "0x10",
            "NULL",
        ];
        let b = self.input.byte();
        match NUMBERS.get(usize::from(b % 16)) {
            Some(n) => n.as_bytes().to_vec(),
            None => b.to_string().into_bytes(),
        }
    }

    /// A statement id: mostly one the node may have handed out.
    pub(super) fn statement_id(&mut self) -> Vec<u8> {
        let b = self.input.byte();
        let id = match b % 8 {
            0..=3 => u32::from(b % 4) + 1,
            4 => self.prepares.max(1),
            5 => 0,
            6 => u32::MAX,
            _ => self.input.u32(),
        };
        let mut bytes = id.to_le_bytes().to_vec();
        if b >= 0xf8 {
            bytes.truncate(usize::from(b % 4));
        }
        bytes
    }

    /// A COM_STMT_EXECUTE body (after the command byte) for `params` parameters.
    pub(super) fn execute_body(&mut self, p: &mut Vec<u8>, id: &[u8], params: usize) {
        let start = p.len();
        p.extend_from_slice(id);
        let flags = match self.input.byte() % 8 {
            0..=4 => 0,
            5 => 1,
            6 => 8,
            _ => self.input.byte(),
        };
        p.push(flags);
        let iterations: u32 = match self.input.byte() % 8 {
            7 => self.input.u32(),
            _ => 1,
        };
        p.extend_from_slice(&iterations.to_le_bytes());
        if params > 0 {
            let nulls = self.input.byte();
            let mut bitmap = vec![0u8; params.div_ceil(8)];
            if nulls % 4 == 3 {
                for (i, b) in bitmap.iter_mut().enumerate() {
                    *b = nulls.rotate_left(i as u32);
                }
            }
            p.extend_from_slice(&bitmap);
            let bound = match self.input.byte() % 8 {
                0..=5 => 1,
                6 => 0,
                _ => self.input.byte(),
            };
            p.push(bound);
            let mut types = Vec::with_capacity(params);
            if bound == 1 {
                for _ in 0..params {
                    let t = self.param_type();
                    let unsigned = if self.input.byte() % 4 == 3 { 0x80 } else { 0 };
                    p.extend_from_slice(&[t, unsigned]);
                    types.push(t);
                }
            }
            for (i, t) in types.iter().enumerate() {
                let is_null = bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
                if !is_null {
                    self.value(p, *t);
                }
            }
        }
        match self.input.byte() % 16 {
            14 => {
                let keep = start + usize::from(self.input.byte()) % (p.len() - start + 1);
                p.truncate(keep);
            }
            15 => p.extend_from_slice(self.input.chunk()),
            _ => {}
        }
    }

    pub(super) fn param_type(&mut self) -> u8 {
        const TYPES: [u8; 15] = [
            coltype::LONGLONG,
            coltype::LONG,
            coltype::SHORT,
            coltype::TINY,
            coltype::DOUBLE,
            coltype::FLOAT,
            coltype::VAR_STRING,
            coltype::VARCHAR,
            coltype::BLOB,
            coltype::DATE,
            coltype::DATETIME,
            coltype::TIME,
            coltype::NEWDECIMAL,
            coltype::NULL,
            coltype::JSON,
        ];
        let b = self.input.byte();
        TYPES.get(usize::from(b % 16)).copied().unwrap_or(b)
    }

    /// One binary-protocol value of type `t`.
    pub(super) fn value(&mut self, p: &mut Vec<u8>, t: u8) {
        let fixed = |n: usize, g: &mut Self, p: &mut Vec<u8>| {
            let b = g.input.take(n);
            p.extend_from_slice(b);
            p.resize(p.len() + (n - b.len()), 0);
        };
        match t {
            coltype::TINY => fixed(1, self, p),
            coltype::SHORT | coltype::YEAR => fixed(2, self, p),
            coltype::LONG | coltype::INT24 | coltype::FLOAT => fixed(4, self, p),
            coltype::LONGLONG | coltype::DOUBLE => fixed(8, self, p),
            coltype::NULL => {}
            coltype::DATE | coltype::DATETIME | coltype::TIMESTAMP | coltype::TIME => {
                let b = self.input.byte();
                let len = match (t == coltype::TIME, b % 5) {
                    (_, 0) => 0,
                    (false, 1) => 4,
                    (false, 2) => 7,
                    (false, 3) => 11,
                    (true, 1 | 2) => 8,
                    (true, 3) => 12,
                    _ => usize::from(b),
                };
                p.push(len as u8);
                fixed(len.min(255), self, p);
            }
            _ => {
                let b = self.input.byte();
                match b % 8 {
                    6 => {
                        // A length claiming far more than follows.
                        p.push(0xfc);
                        p.extend_from_slice(&[0xff, 0xff]);
                    }
                    7 => {
                        p.push(0xfe);
                        p.extend_from_slice(&u64::MAX.to_le_bytes());
                    }
                    _ => {
                        let s = self.input.chunk();
                        let mut lenenc = BytesMut::new();
                        strata_protocol::wire::put_lenenc_bytes(&mut lenenc, s);
                        p.extend_from_slice(&lenenc);
                    }
                }
            }
        }
    }

    /// COM_STMT_PREPARE of a statement with known parameters, then its execution and
    /// sometimes long data, a fetch, a reset or a close.
    pub(super) fn prepared(&mut self) {
        let (sql, params) =
            PARAM_STATEMENTS[usize::from(self.input.byte()) % PARAM_STATEMENTS.len()];
        let extras = self.input.byte();
        let mut prepare = vec![com::STMT_PREPARE];
        prepare.extend_from_slice(sql.as_bytes());
        self.steps.push(Step::Command(prepare));
        self.prepares += 1;
        let id = self.prepares.to_le_bytes();
        if extras & 0x01 != 0 && params > 0 {
            let mut long = vec![com::STMT_SEND_LONG_DATA];
            long.extend_from_slice(&id);
            long.extend_from_slice(&0u16.to_le_bytes());
            long.extend_from_slice(self.input.chunk());
            self.steps.push(Step::Command(long));
        }
        let mut execute = vec![com::STMT_EXECUTE];
        self.execute_body(&mut execute, &id, params);
        if extras & 0x02 != 0 {
            // A cursor (unless the body was cut before the flags).
            if let Some(flags) = execute.get_mut(5) {
                *flags = 1;
            }
        }
        self.steps.push(Step::Command(execute));
        if extras & 0x04 != 0 {
            let mut fetch = vec![com::STMT_FETCH];
            fetch.extend_from_slice(&id);
            fetch.extend_from_slice(&u32::from(extras >> 4).to_le_bytes());
            self.steps.push(Step::Command(fetch));
        }
        if extras & 0x08 != 0 {
            let mut reset = vec![com::STMT_RESET];
            reset.extend_from_slice(&id);
            self.steps.push(Step::Command(reset));
        }
        if extras & 0x80 != 0 {
            let mut close = vec![com::STMT_CLOSE];
            close.extend_from_slice(&id);
            self.steps.push(Step::Command(close));
        }
    }

    /// A well-formed COM_CHANGE_USER: to root or the restricted account, with right or
    /// wrong credentials, some database, charset and plugin.
    pub(super) fn change_user(&mut self) -> Vec<u8> {
        let target = self.input.byte();
        let (user, password) = match target % 6 {
            0 => (ROOT_USER, ROOT_PASSWORD),
            1 => (RESTRICTED_USER, ""),
            2 => (ROOT_USER, "wrong"),
            3 => ("nosuch", ""),
            4 => (RESTRICTED_USER, "x"),
            _ => (ROOT_USER, ROOT_PASSWORD),
        };
        let database = match self.input.byte() % 5 {
            0 => None,
            1 => Some(LOGICAL_DB.to_string()),
            2 => Some(RENAMED_DB.to_string()),
            3 => Some("nosuch".to_string()),
            _ => Some(String::new()),
        };
        let plugin = match self.input.byte() % 5 {
            0 | 1 => Some(AuthPlugin::MysqlNativePassword),
            2 => Some(AuthPlugin::CachingSha2Password),
            _ => None,
        };
        let auth_response = match plugin {
            Some(p) if !password.is_empty() => p.scramble(&self.info.scramble, password.as_bytes()),
            None if !password.is_empty() => {
                AuthPlugin::MysqlNativePassword.scramble(&self.info.scramble, password.as_bytes())
            }
            _ => Vec::new(),
        };
        let charset = match self.input.byte() % 4 {
            0 | 1 => Some(u16::from(charset::UTF8MB4_GENERAL_CI)),
            2 => None,
            _ => Some(u16::from(self.input.byte())),
        };
        let request = ChangeUser {
            user: user.to_string(),
            auth_response,
            database,
            charset,
            auth_plugin: plugin.map(|p| p.name().to_string()),
            attrs: vec![("_client_name".into(), "strata-fuzz".into())],
        };
        let mut buf = BytesMut::new();
        request.encode(&mut buf, self.info.capabilities);
        buf.to_vec()
    }

    /// One packet at the 16 MiB frame boundary (at most one per input). The payload is a
    /// command whose handling is cheap (COM_PING, COM_STMT_SEND_LONG_DATA, COM_INIT_DB,
    /// an unknown command), so the time goes into framing rather than into scanning 16 MiB
    /// of statement text (seconds in the debug builds the stable test runs).
    pub(super) fn big(&mut self) {
        let kind = self.input.byte();
        let delta = usize::from(self.input.byte() % 8);
        if self.big_left == 0 {
            return;
        }
        self.big_left -= 1;
        let command = match kind / 8 % 4 {
            0 => com::PING,
            1 => com::STMT_SEND_LONG_DATA,
            2 => com::INIT_DB,
            _ => 0x1e,
        };
        let payload = |len: usize| {
            let mut p = vec![b'x'; len.max(1)];
            p[0] = command;
            if command == com::STMT_SEND_LONG_DATA && len > 7 {
                p[1..7].copy_from_slice(&[1, 0, 0, 0, 0, 0]);
            }
            p
        };
        match kind % 5 {
            // Around the boundary: one frame, exactly full (plus an empty frame), or two.
            0 => self
                .steps
                .push(Step::Command(payload(MAX_FRAME_PAYLOAD - 4 + delta))),
            // Continuation frames with a wrong sequence id.
            1 => {
                let mut raw = Vec::with_capacity(MAX_FRAME_PAYLOAD + 32);
                frame_into(&mut raw, &payload(MAX_FRAME_PAYLOAD + 10 + delta), 0);
                let second = 4 + MAX_FRAME_PAYLOAD + 3;
                raw[second] = raw[second].wrapping_add(1 + delta as u8);
                self.steps.push(Step::Raw(raw));
            }
            // A full frame and no continuation: the node waits for the rest.
            2 => {
                let mut raw = Vec::with_capacity(MAX_FRAME_PAYLOAD + 8);
                frame_into(&mut raw, &payload(MAX_FRAME_PAYLOAD), 0);
                raw.truncate(4 + MAX_FRAME_PAYLOAD);
                self.steps.push(Step::Raw(raw));
            }
            // Over max_allowed_packet (refused while reading, whatever the command).
            3 => {
                let mut p = payload(MAX_ALLOWED_PACKET + 1 + delta);
                p[0] = com::QUERY;
                self.steps.push(Step::Command(p));
            }
            // A full frame and a short one, joined below the limit.
            _ => self
                .steps
                .push(Step::Command(payload(MAX_FRAME_PAYLOAD + 1 + delta * 100))),
        }
    }
}

/// Writes inputs in `run_session`'s format (for seeds).
pub(super) struct Seed(pub(super) Vec<u8>);

pub(super) fn tpl(template: &str) -> usize {
    TEMPLATES.iter().position(|t| *t == template).unwrap_or(0)
}

pub(super) fn pstmt(sql: &str) -> u8 {
    PARAM_STATEMENTS
        .iter()
        .position(|(s, _)| *s == sql)
        .unwrap_or(0) as u8
}

impl Seed {
    pub(super) fn new(header: u8) -> Seed {
        Seed(vec![header])
    }

    pub(super) fn op(&mut self, op: u8) {
        self.0.push(op);
    }

    /// A known command (its first index in KNOWN) and its choice bytes.
    pub(super) fn command(&mut self, command: u8, choices: &[u8]) {
        let index = KNOWN.iter().position(|&c| c == command).unwrap_or(0);
        self.0.push(index as u8);
        self.0.extend_from_slice(choices);
    }

    /// COM_QUERY of template `index` as is, then the bytes its placeholders take.
    pub(super) fn query(&mut self, index: usize, fill: &[u8]) {
        self.command(com::QUERY, &[index as u8, 0]);
        let template = TEMPLATES.get(index).copied().unwrap_or("");
        for _ in 0..template.matches("{n}").count() {
            self.0.push(1);
        }
        for _ in 0..template.matches("{s}").count() {
            self.0
                .extend_from_slice(if fill.is_empty() { &[1, b'x'] } else { fill });
        }
    }

    /// Prepare and execute statement `index` with typed parameters (`variant` picks the
    /// types).
    pub(super) fn prepared(&mut self, index: usize, params: usize, variant: u8) {
        self.op(OP_PREPARED);
        self.0.extend_from_slice(&[index as u8, 0x00]);
        // flags 0, iterations 1, no NULLs, types bound.
        self.0.extend_from_slice(&[0, 0]);
        if params > 0 {
            self.0.extend_from_slice(&[0, 0]);
            for i in 0..params {
                let t = (i as u8 + variant * 5) % 15;
                self.0.extend_from_slice(&[t, 0]);
            }
            for i in 0..params {
                let t = (i as u8 + variant * 5) % 15;
                match t {
                    0..=5 => self
                        .0
                        .extend_from_slice(&[7; 8][..[8, 4, 2, 1, 8, 4][usize::from(t)]]),
                    9 | 10 => self.0.extend_from_slice(&[2, 0xe8, 0x07, 1, 2, 3, 4, 5]),
                    11 => self.0.extend_from_slice(&[1, 0, 1, 0, 0, 0, 2, 3, 4]),
                    13 => {}
                    _ => self.0.extend_from_slice(&[0, 3, b'4', b'2', b'.']),
                }
            }
        }
        self.0.push(0);
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, bytes) = match self {
            // Named as the compute node decodes it (a truncated one is "malformed").
            Step::Command(p) => match strata_protocol::Command::decode(p) {
                Ok(Ok(command)) => (command.name(), p),
                Ok(Err(_)) => ("malformed command", p),
                Err(_) => ("command", p),
            },
            Step::Raw(r) => ("raw", r),
            Step::Sync => return f.write_str("sync"),
        };
        let mut text = String::new();
        for &b in bytes.iter().take(64) {
            if b.is_ascii_graphic() || b == b' ' {
                text.push(b as char);
            } else {
                let _ = write!(text, "\\x{b:02x}");
            }
        }
        if bytes.len() > 64 {
            let _ = write!(text, "... ({} bytes)", bytes.len());
        }
        write!(f, "{kind} {text}")
    }
}

/// The steps `run_session` would send for `data` in a session with the given ids (to
/// explain a failing input).
pub fn describe(data: &[u8], connection_id: u32, bystander_id: u32) -> Vec<String> {
    let (login, flags, rest) = decode_header(data);
    let info = SessionInfo {
        connection_id,
        bystander_id,
        scramble: [0; 20],
        capabilities: login.capabilities,
    };
    let mut out = vec![format!("login {login:?}")];
    out.extend(generate(rest, flags, &info).iter().map(|s| s.to_string()));
    out
}
