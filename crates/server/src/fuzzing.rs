//! Fuzzing harness for command dispatch: arbitrary bytes become a client session against a
//! real compute node, and after every input the harness checks that the node still serves
//! everyone else.
//!
//! One process-wide compute node (its own tokio runtime, service port on 127.0.0.1:0) is
//! started on first use. Its data nodes point at a real storage node (`STRATA_FUZZ_STORAGE`
//! = host:port, with `STRATA_FUZZ_STORAGE_USER` / `_PASSWORD` / `_DB`, defaults `strata` /
//! `strata` / `test` as `strata playground --storage-only` creates them) or, when unset, at
//! a closed local port so forwarded statements fail fast and only local handling runs.
//! Two logical databases: `test` (physical name = the storage database) and `fuzz` (same
//! physical database under another name, so schema renaming is exercised too).
//!
//! [`run_session`] reads the input as a login header followed by operations, mostly real
//! commands (COM_* byte from the known set, SQL from a list of statements drivers and
//! tools send, prepared-statement execute bodies with typed random parameters) and
//! sometimes raw frames with bogus lengths and sequence ids, sends them pipelined (with
//! optional sync points), reads whatever comes back, closes, and then asserts:
//!
//! - no task of the compute node panicked,
//! - a fresh connection logs in and COM_PING gets OK,
//! - the fuzzed session is gone from SHOW PROCESSLIST soon after its client left (no hang),
//! - long-lived bystander sessions (one per logical database) still answer, and their
//!   state as seen locally and on the storage node is what it was at the start (no
//!   session state leaks through pooled storage connections).
//!
//! A violated invariant panics with a description; that is what the fuzzers report. A
//! watchdog aborts the process when one input runs for minutes (a hung node).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use strata_catalog::Config;
use strata_protocol::auth::ChangeUser;
use strata_protocol::constants::{cap, charset, coltype, com, MAX_FRAME_PAYLOAD};
use strata_protocol::handshake::{client_authenticate, read_server_handshake, ClientLogin};
use strata_protocol::packets::{decode_text_row, is_eof, ErrPacket, ERR_HEADER, OK_HEADER};
use strata_protocol::wire::Reader;
use strata_protocol::{AuthPlugin, PacketConn};

use crate::RunningServer;

/// Account with every right (may KILL any session).
pub const ROOT_USER: &str = "root";
/// Its password.
pub const ROOT_PASSWORD: &str = "fuzz-secret";
/// Account without a password that may only use [`LOGICAL_DB`].
pub const RESTRICTED_USER: &str = "fuzz";
/// Logical database whose physical name is the storage database's.
pub const LOGICAL_DB: &str = "test";
/// Logical database on the same physical database under another name.
pub const RENAMED_DB: &str = "fuzz";
/// max_allowed_packet of the fuzzed node: just above one full frame, so both joined
/// 16 MiB packets and too-large packets are reachable.
pub const MAX_ALLOWED_PACKET: usize = MAX_FRAME_PAYLOAD + 4096;

/// A COM_STATISTICS request: answered with a line starting `Uptime: `, it marks the end
/// of the replies to everything sent before it.
const SENTINEL: [u8; 5] = [1, 0, 0, 0, com::STATISTICS];
/// Longest one input may run before the watchdog aborts the process.
const HANG_LIMIT: Duration = Duration::from_secs(120);
/// Limit for each step of the checks that follow an input.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a fuzzed session may stay listed after its client left, plus [`per_mib`] of
/// what the input sent.
const SESSION_END_LIMIT: Duration = Duration::from_secs(10);
/// Extra time allowed per MiB sent (see [`per_mib`]).
const PER_MIB_DEBUG: Duration = Duration::from_secs(2);
const PER_MIB_OPTIMIZED: Duration = Duration::from_millis(100);
/// Operations generated from one input at most.
const MAX_OPS: usize = 64;
/// Bytes kept of each reply (for tests' assertions) and of all replies together.
const KEEP_REPLY: usize = 64 * 1024;
const KEEP_TOTAL: usize = 4 << 20;

/// A storage node the fuzzed compute node forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzStorage {
    /// host:port.
    pub addr: String,
    /// Account on the storage node.
    pub user: String,
    /// Its password.
    pub password: String,
    /// Physical database (must exist).
    pub database: String,
}

impl FuzzStorage {
    /// From `STRATA_FUZZ_STORAGE` (host:port) and `STRATA_FUZZ_STORAGE_USER` / `_PASSWORD` /
    /// `_DB` (defaults `strata` / `strata` / `test`); `None` when the address is unset or
    /// `none`.
    pub fn from_env() -> Option<FuzzStorage> {
        let addr = std::env::var("STRATA_FUZZ_STORAGE").ok()?;
        if addr.trim().is_empty() || Self::disabled() {
            return None;
        }
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        Some(FuzzStorage {
            addr: addr.trim().to_string(),
            user: var("STRATA_FUZZ_STORAGE_USER", "strata"),
            password: var("STRATA_FUZZ_STORAGE_PASSWORD", "strata"),
            database: var("STRATA_FUZZ_STORAGE_DB", "test"),
        })
    }

    /// True when `STRATA_FUZZ_STORAGE=none` asks for no storage node (a closed port).
    pub fn disabled() -> bool {
        std::env::var("STRATA_FUZZ_STORAGE").is_ok_and(|v| v.trim() == "none")
    }
}

/// How a fuzzed session logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// [`ROOT_USER`] when true, else [`RESTRICTED_USER`].
    pub root: bool,
    /// Database to open at login.
    pub database: Option<String>,
    /// Capabilities the client asks for (the usual ones are always added).
    pub capabilities: u32,
}

impl Default for Login {
    fn default() -> Self {
        Login {
            root: true,
            database: Some(LOGICAL_DB.into()),
            capabilities: BASE_CAPS
                | cap::MULTI_STATEMENTS
                | cap::MULTI_RESULTS
                | cap::PS_MULTI_RESULTS,
        }
    }
}

/// Capabilities every harness client asks for.
const BASE_CAPS: u32 = cap::LONG_PASSWORD
    | cap::LONG_FLAG
    | cap::PROTOCOL_41
    | cap::SECURE_CONNECTION
    | cap::PLUGIN_AUTH
    | cap::PLUGIN_AUTH_LENENC_CLIENT_DATA
    | cap::TRANSACTIONS
    | cap::CONNECT_ATTRS;

/// What a logged-in fuzzed session knows, to build its requests.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Its connection id.
    pub connection_id: u32,
    /// Connection id of a bystander session (a KILL target).
    pub bystander_id: u32,
    /// The scramble of the login (for COM_CHANGE_USER).
    pub scramble: [u8; 20],
    /// Capabilities in force.
    pub capabilities: u32,
}

/// One thing a fuzzed session sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A request: its payload (command byte first), framed with sequence ids from 0.
    Command(Vec<u8>),
    /// Bytes written as they are (frames with any header).
    Raw(Vec<u8>),
    /// Wait until everything sent so far is answered before sending more.
    Sync,
}

/// What a fuzzed session got back.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Its connection id.
    pub connection_id: u32,
    /// Payloads of the frames received (each cut to 64 KiB), sentinel replies excluded.
    pub replies: Vec<Bytes>,
    /// The compute node closed the connection.
    pub closed_by_server: bool,
    /// The node stopped answering while the connection stayed open (e.g. waiting for the
    /// rest of a frame); the harness gave up on it.
    pub stalled: bool,
}

impl Outcome {
    /// Error codes of the ERR packets received, in order.
    pub fn error_codes(&self) -> Vec<u16> {
        self.replies
            .iter()
            .filter(|r| r.first() == Some(&ERR_HEADER))
            .filter_map(|r| ErrPacket::decode(r).ok().map(|e| e.code))
            .collect()
    }
}

/// Starts the fuzzing compute node over `storage` (or a closed port) unless one is
/// already running; true when this call started it.
pub fn init(storage: Option<FuzzStorage>) -> bool {
    let mut started = false;
    HARNESS.get_or_init(|| {
        started = true;
        Harness::start(storage)
    });
    started
}

/// Whether the running harness forwards to a real storage node.
pub fn has_storage() -> bool {
    harness().storage
}

/// Runs `data` as one client session and checks the compute node's invariants.
///
/// # Panics
///
/// When the compute node panicked, stopped accepting logins, kept the session after its
/// client left, or disturbed another session: the bugs the fuzzers look for.
pub fn run_session(data: &[u8]) {
    let (login, flags, rest) = decode_header(data);
    harness().run(&login, |info| generate(rest, flags, info), data);
}

/// Runs a scripted session (`steps` built from the logged-in session's details) and
/// checks the same invariants as [`run_session`]; returns what came back.
///
/// # Panics
///
/// As [`run_session`].
pub fn run_steps(login: &Login, steps: impl FnOnce(&SessionInfo) -> Vec<Step>) -> Outcome {
    harness().run(login, steps, b"(scripted session)")
}

/// Inputs in [`run_session`]'s format that reach the interesting commands, to seed the
/// fuzzers' corpora.
pub fn seed_inputs() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    // Every statement once, in a session with multi-statements, and the first few in
    // the other login variants.
    for (i, _) in TEMPLATES.iter().enumerate() {
        let mut s = Seed::new(0x01);
        s.query(i, &[]);
        seeds.push(s.0);
    }
    for header in [0x00u8, 0x02, 0x08, 0x0c, 0x10, 0x13, 0x20, 0x41, 0x81] {
        let mut s = Seed::new(header);
        s.query(tpl("SELECT @@version_comment LIMIT 1"), &[]);
        s.query(tpl("SHOW DATABASES"), &[]);
        s.command(com::PING, &[]);
        seeds.push(s.0);
    }
    // A driver's connect sequence, then a transaction.
    let mut s = Seed::new(0x03);
    for t in [
        "SET NAMES utf8mb4",
        "SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@max_allowed_packet AS max_allowed_packet, @@sql_mode AS sql_mode, @@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout",
        "SET autocommit = 0",
        "CREATE TABLE IF NOT EXISTS fz (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64))",
        "INSERT INTO fz (v) VALUES ('{s}')",
        "SELECT LAST_INSERT_ID()",
        "ROLLBACK",
    ] {
        s.query(tpl(t), &[3, b'a', b'b', b'c']);
    }
    seeds.push(s.0);
    // Prepared statements: every parameterised statement with typed parameters.
    for (i, (_, params)) in PARAM_STATEMENTS.iter().enumerate() {
        for variant in 0..3u8 {
            let mut s = Seed::new(0x01);
            s.prepared(i, *params, variant);
            seeds.push(s.0);
        }
    }
    // Cursor and fetch, reset, close, long data.
    let mut s = Seed::new(0x01);
    s.query(
        tpl("CREATE TABLE IF NOT EXISTS fz (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64))"),
        &[],
    );
    s.op(OP_PREPARED);
    s.0.extend_from_slice(&[pstmt("SELECT * FROM fz ORDER BY id"), 1, 0, 0]);
    s.command(com::STMT_FETCH, &[1, 0]);
    s.command(com::STMT_RESET, &[1]);
    s.command(com::STMT_CLOSE, &[1]);
    seeds.push(s.0);
    // Multi-statements with errors in the middle, KILL of oneself, sync points.
    let mut s = Seed::new(0x01);
    s.op(OP_MULTI);
    s.0.push(2);
    for t in ["SELECT 1", "SELECT nosuch_function()", "SELECT 3"] {
        s.0.extend_from_slice(&[tpl(t) as u8, 0]);
    }
    s.op(OP_SYNC);
    s.query(tpl("KILL QUERY {self}"), &[]);
    s.op(OP_SYNC);
    s.query(tpl("KILL {self}"), &[]);
    s.command(com::PING, &[]);
    seeds.push(s.0);
    // COM_CHANGE_USER variants, COM_SET_OPTION, COM_PROCESS_KILL, COM_INIT_DB.
    for target in 0..6u8 {
        let mut s = Seed::new(0x01);
        s.op(OP_CHANGE_USER);
        s.0.extend_from_slice(&[target, target, 0, 0]);
        s.query(tpl("SELECT DATABASE(), CONNECTION_ID(), LAST_INSERT_ID(), VERSION(), USER(), CURRENT_USER()"), &[]);
        seeds.push(s.0);
    }
    let mut s = Seed::new(0x00);
    s.command(com::SET_OPTION, &[0]);
    s.command(com::SET_OPTION, &[1]);
    s.command(com::SET_OPTION, &[2]);
    s.command(com::PROCESS_KILL, &[5]);
    s.command(com::INIT_DB, &[1]);
    s.command(com::FIELD_LIST, &[0, 0]);
    s.command(com::STATISTICS, &[]);
    s.command(com::RESET_CONNECTION, &[]);
    seeds.push(s.0);
    // Raw frames: short, long and continued length claims, odd sequence ids.
    for flags in [0u8, 1, 2, 5, 7] {
        let mut s = Seed::new(0x00);
        s.op(OP_RAW_FRAME);
        s.0.extend_from_slice(&[flags, 3, com::QUERY, b'd', b'o', 7]);
        s.command(com::PING, &[]);
        seeds.push(s.0);
    }
    let mut s = Seed::new(0x00);
    s.op(OP_RAW_COMMAND);
    s.0.extend_from_slice(&[0x20, 2, 0xff, 0xfe]);
    seeds.push(s.0);
    // Packets at the 16 MiB boundary.
    for kind in [0u8, 1, 2, 3, 4, 8, 12, 16, 20, 24] {
        let mut s = Seed::new(0x00);
        s.op(OP_BIG);
        s.0.extend_from_slice(&[kind, 3]);
        s.command(com::PING, &[]);
        seeds.push(s.0);
    }
    seeds
}

// ---------------------------------------------------------------------------------------
// The process-wide compute node.

static HARNESS: OnceLock<Harness> = OnceLock::new();

fn harness() -> &'static Harness {
    HARNESS.get_or_init(|| Harness::start(FuzzStorage::from_env()))
}

struct Harness {
    rt: Runtime,
    addr: SocketAddr,
    storage: bool,
    /// Kept so the node runs for the life of the process.
    _server: RunningServer,
    /// One session at a time, and the bystanders between inputs.
    state: Mutex<Bystanders>,
    /// Replies to wait for before sending more or giving up.
    idle: Duration,
    segment_limit: Duration,
}

impl Harness {
    fn start(storage: Option<FuzzStorage>) -> Harness {
        panics::install();
        watchdog::start();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(panics::WORKER_THREAD)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("fuzz harness: cannot build a tokio runtime: {e}"));
        let config = harness_config(storage.as_ref(), data_dir());
        let server = rt
            .block_on(RunningServer::start(config))
            .unwrap_or_else(|e| panic!("fuzz harness: cannot start the compute node: {e}"));
        let addr = server.service_addr();
        let with_storage = storage.is_some();
        Harness {
            rt,
            addr,
            storage: with_storage,
            _server: server,
            state: Mutex::new(Bystanders::default()),
            idle: Duration::from_millis(if with_storage { 100 } else { 50 }),
            segment_limit: Duration::from_secs(if with_storage { 20 } else { 5 }),
        }
    }

    fn run(
        &self,
        login: &Login,
        steps: impl FnOnce(&SessionInfo) -> Vec<Step>,
        input: &[u8],
    ) -> Outcome {
        let mut state = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                // An earlier input failed a check while holding the lock; start afresh.
                let mut g = poisoned.into_inner();
                g.sessions.clear();
                g
            }
        };
        let _watch = watchdog::arm(input);
        self.rt.block_on(async {
            let bystander_id = state.ensure(self.addr, self.storage).await;
            let (stream, info) = match tokio::time::timeout(
                CHECK_TIMEOUT,
                login_session(self.addr, login, bystander_id),
            )
            .await
            {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => panic!("the compute node refused a valid login: {e}"),
                Err(_) => panic!("logging in to the compute node took over {CHECK_TIMEOUT:?}"),
            };
            let steps = steps(&info);
            let may_kill = login.root || steps.iter().any(becomes_root);
            let sent: usize = steps.iter().map(step_len).sum();
            let outcome = self.drive(stream, &info, &steps).await;
            let end_limit = SESSION_END_LIMIT + per_mib(sent);
            self.check(&mut state, info.connection_id, may_kill, end_limit)
                .await;
            outcome
        })
    }

    /// Sends `steps` segment by segment (split at `Sync`), reading the replies.
    async fn drive(&self, stream: TcpStream, info: &SessionInfo, steps: &[Step]) -> Outcome {
        let (mut rd, wr) = stream.into_split();
        let mut wr = Some(wr);
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let mut out = Outcome {
            connection_id: info.connection_id,
            ..Outcome::default()
        };
        let mut kept = 0usize;
        for segment in steps.split(|s| *s == Step::Sync) {
            let Some(w) = wr.take() else { break };
            let mut bytes = Vec::new();
            let mut expected = 1usize;
            for step in segment {
                match step {
                    Step::Command(payload) => {
                        if payload.first() == Some(&com::STATISTICS) {
                            expected += 1;
                        }
                        frame_into(&mut bytes, payload, 0);
                    }
                    Step::Raw(raw) => bytes.extend_from_slice(raw),
                    Step::Sync => {}
                }
            }
            bytes.extend_from_slice(&SENTINEL);
            // Big requests take a while before anything comes back.
            let idle = self.idle + per_mib(bytes.len()) / 2;
            let mut writer = Some(tokio::spawn(async move {
                let mut w = w;
                let ok = w.write_all(&bytes).await.is_ok();
                (w, ok)
            }));
            let mut spare: Option<OwnedWriteHalf> = None;
            let started = Instant::now();
            let mut seen = 0usize;
            let mut nudged = false;
            let mut done = false;
            loop {
                if started.elapsed() > self.segment_limit {
                    out.stalled = true;
                    break;
                }
                // After the nudge a node with storage gets longer: a huge request
                // (65,535 parameters) makes the storage node and a debug build busy for
                // a while under load, which is not a stall. Never past the segment's
                // limit, though: a 16 MiB frame that is never completed makes `idle`
                // 16 s, and ten times that would outlast the hang watchdog.
                let wait = if nudged && self.storage {
                    (idle * 10).min(
                        self.segment_limit
                            .saturating_sub(started.elapsed())
                            .max(idle),
                    )
                } else {
                    idle
                };
                match tokio::time::timeout(wait, read_frame(&mut rd, &mut buf)).await {
                    Ok(Some(payload)) => {
                        if payload.starts_with(b"Uptime: ") {
                            seen += 1;
                            if seen >= expected {
                                done = true;
                                break;
                            }
                        } else if kept < KEEP_TOTAL {
                            let keep = payload.slice(..payload.len().min(KEEP_REPLY));
                            kept += keep.len();
                            out.replies.push(keep);
                        }
                    }
                    Ok(None) => {
                        out.closed_by_server = true;
                        break;
                    }
                    Err(_) => {
                        if writer.as_ref().is_some_and(|h| !h.is_finished()) {
                            // The node is still taking our bytes: it is busy, not idle.
                            continue;
                        }
                        if let Some(h) = writer.take() {
                            spare = h.await.ok().and_then(|(w, ok)| ok.then_some(w));
                        }
                        // Waiting for more of a frame, or for an authentication reply:
                        // nudge once with another sentinel, then give up.
                        let Some(w) = spare.as_mut().filter(|_| !nudged) else {
                            out.stalled = true;
                            break;
                        };
                        nudged = true;
                        expected += 1;
                        let _ = tokio::time::timeout(idle, w.write_all(&SENTINEL)).await;
                    }
                }
            }
            if let Some(h) = writer.take() {
                if done {
                    if let Ok(Ok((w, true))) = tokio::time::timeout(CHECK_TIMEOUT, h).await {
                        spare = Some(w);
                    }
                } else {
                    h.abort();
                }
            }
            if !done {
                break;
            }
            wr = spare;
        }
        out
    }

    /// The invariants after an input; panics with a description when one fails.
    async fn check(
        &self,
        state: &mut Bystanders,
        fuzz_id: u32,
        may_kill: bool,
        end_limit: Duration,
    ) {
        panics::check("while serving the input");
        let mut checker = match tokio::time::timeout(
            CHECK_TIMEOUT,
            Client::connect(self.addr, ROOT_USER, ROOT_PASSWORD, Some(LOGICAL_DB)),
        )
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => panic!("a fresh connection cannot log in after the input: {e}"),
            Err(_) => panic!("a fresh login took over {CHECK_TIMEOUT:?} after the input"),
        };
        match within(checker.command(com::PING, b"")).await {
            Ok(reply) if reply.first() == Some(&OK_HEADER) => {}
            Ok(reply) => panic!("COM_PING on a fresh connection got {reply:?} instead of OK"),
            Err(e) => panic!("COM_PING on a fresh connection failed: {e}"),
        }
        // The fuzzed session must end once its client is gone.
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let rows = match within(checker.query("SHOW FULL PROCESSLIST")).await {
                Ok(Ok(rows)) => rows,
                Ok(Err((code, msg))) => panic!("SHOW PROCESSLIST failed: {code} {msg}"),
                Err(e) => panic!("SHOW PROCESSLIST on a fresh connection failed: {e}"),
            };
            let fuzz_id = fuzz_id.to_string();
            let Some(row) = rows
                .iter()
                .find(|r| r.first().and_then(|c| c.as_deref()) == Some(fuzz_id.as_str()))
            else {
                break;
            };
            if started.elapsed() > end_limit {
                let row: Vec<String> = row
                    .iter()
                    .map(|c| {
                        let c = c.as_deref().unwrap_or("NULL");
                        match c.char_indices().nth(120) {
                            Some((i, _)) => format!("{}... ({} bytes)", &c[..i], c.len()),
                            None => c.to_string(),
                        }
                    })
                    .collect();
                panic!(
                    "session {fuzz_id} is still listed {end_limit:?} after its client \
                     left (hung?): {row:?}"
                );
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
        state.verify(self.addr, self.storage, may_kill).await;
        checker.quit().await;
        panics::check("while checking after the input");
    }
}

/// Builds the node's configuration: two data nodes on the same storage database, one
/// logical database each. Written as TOML so fields added to the configuration later
/// keep their defaults.
fn harness_config(storage: Option<&FuzzStorage>, data_dir: PathBuf) -> Config {
    let (host, port, user, password, database) = match storage {
        Some(s) => {
            let (host, port) = s
                .addr
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                .unwrap_or_else(|| panic!("STRATA_FUZZ_STORAGE '{}' is not host:port", s.addr));
            (
                host,
                port,
                s.user.clone(),
                s.password.clone(),
                s.database.clone(),
            )
        }
        None => (
            "127.0.0.1".into(),
            closed_port(),
            "strata".into(),
            "strata".into(),
            "test".into(),
        ),
    };
    let q = |s: &str| {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    let mut toml = String::new();
    let _ = write!(
        toml,
        "[server]\n\
         service_addr = \"127.0.0.1:0\"\n\
         admin_addr = \"127.0.0.1:0\"\n\
         http_addr = \"127.0.0.1:0\"\n\
         data_dir = {}\n\
         max_allowed_packet = {MAX_ALLOWED_PACKET}\n\
         max_connections = 200\n\n\
         [[user]]\nname = {}\npassword = {}\n\n\
         [[user]]\nname = {}\npassword = \"\"\ndatabases = [{}]\n\n",
        q(&data_dir.to_string_lossy()),
        q(ROOT_USER),
        q(ROOT_PASSWORD),
        q(RESTRICTED_USER),
        q(LOGICAL_DB),
    );
    for (id, db) in [(1, LOGICAL_DB), (2, RENAMED_DB)] {
        let _ = write!(
            toml,
            "[[data_node]]\nid = {id}\nprimary = {{ host = {}, port = {port}, user = {}, \
             password = {}, database = {} }}\n\n\
             [[database]]\nname = {}\ndata_nodes = [{id}]\n\n",
            q(&host),
            q(&user),
            q(&password),
            q(&database),
            q(db),
        );
    }
    toml.push_str(
        "[pool]\nmin_idle = 1\nmax_size = 32\nconnect_timeout_ms = 2000\n\
         acquire_timeout_ms = 5000\n",
    );
    Config::from_toml(&toml)
        .unwrap_or_else(|e| panic!("fuzz harness: invalid configuration: {e}\n{toml}"))
}

/// A local port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1)
}

/// A fresh metadata directory for this process; directories of dead processes are removed.
fn data_dir() -> PathBuf {
    let tmp = std::env::temp_dir();
    if std::path::Path::new("/proc/self").exists() {
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let pid = name
                    .to_str()
                    .and_then(|n| n.strip_prefix("strata-fuzz-"))
                    .and_then(|p| p.parse::<u32>().ok());
                if let Some(pid) = pid {
                    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
    }
    let dir = tmp.join(format!("strata-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Extra time allowed for `bytes` bytes of requests. Handling a statement scans its text
/// several times (about 0.5 s per MiB in unoptimized builds, 60 times less when
/// optimized); cargo-fuzz builds are optimized (with debug assertions), so they get the
/// short allowance.
#[allow(unexpected_cfgs)] // `fuzzing` is set by cargo-fuzz.
fn per_mib(bytes: usize) -> Duration {
    let per_mib = if cfg!(debug_assertions) && !cfg!(fuzzing) {
        PER_MIB_DEBUG
    } else {
        PER_MIB_OPTIMIZED
    };
    per_mib.mul_f64(bytes as f64 / (1 << 20) as f64)
}

fn step_len(step: &Step) -> usize {
    match step {
        Step::Command(p) | Step::Raw(p) => p.len(),
        Step::Sync => 0,
    }
}

/// True for a COM_CHANGE_USER to root (which may then KILL bystanders). Raw bytes are
/// searched only when small: the big ones the generator makes carry other commands.
fn becomes_root(step: &Step) -> bool {
    let needle = [&[com::CHANGE_USER][..], ROOT_USER.as_bytes(), b"\0"].concat();
    match step {
        Step::Command(p) => p.starts_with(&needle),
        Step::Raw(r) if r.len() <= 64 * 1024 => {
            r.windows(needle.len()).any(|w| w == needle.as_slice())
        }
        Step::Raw(_) | Step::Sync => false,
    }
}

// ---------------------------------------------------------------------------------------
// Clients: the fuzzed session, the checker and the bystanders.

async fn login_session(
    addr: SocketAddr,
    login: &Login,
    bystander_id: u32,
) -> Result<(TcpStream, SessionInfo), String> {
    let (user, password) = if login.root {
        (ROOT_USER, ROOT_PASSWORD)
    } else {
        (RESTRICTED_USER, "")
    };
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut conn = PacketConn::new(stream, 1 << 30);
    let hs = read_server_handshake(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let client = ClientLogin {
        user,
        password,
        database: login.database.as_deref(),
        capabilities: login.capabilities | BASE_CAPS,
        charset: charset::UTF8MB4_GENERAL_CI,
    };
    let server = client_authenticate(&mut conn, &hs, &client, false)
        .await
        .map_err(|e| e.to_string())?;
    let (stream, rest) = conn.into_parts();
    if !rest.is_empty() {
        return Err(format!("{} unexpected bytes after the login", rest.len()));
    }
    Ok((
        stream,
        SessionInfo {
            connection_id: hs.connection_id,
            bystander_id,
            scramble: hs.scramble,
            capabilities: server.capabilities,
        },
    ))
}

/// Frames `payload` (split at 16 MiB - 1, with an empty last frame when needed).
fn frame_into(out: &mut Vec<u8>, payload: &[u8], first_seq: u8) {
    let mut seq = first_seq;
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_FRAME_PAYLOAD);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        out.push(seq);
        seq = seq.wrapping_add(1);
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        if n < MAX_FRAME_PAYLOAD {
            break;
        }
    }
}

/// Reads one frame's payload; `None` when the connection ends. Cancel-safe.
async fn read_frame(rd: &mut OwnedReadHalf, buf: &mut BytesMut) -> Option<Bytes> {
    loop {
        if buf.len() >= 4 {
            let len = usize::from(buf[0]) | usize::from(buf[1]) << 8 | usize::from(buf[2]) << 16;
            if buf.len() >= 4 + len {
                let frame = buf.split_to(4 + len).freeze();
                return Some(frame.slice(4..));
            }
            buf.reserve(4 + len - buf.len());
        }
        match rd.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Rows of a text result set, or an error's code and message.
type QueryResult = Result<Vec<Vec<Option<String>>>, (u16, String)>;

/// A plain client for the checks (no DEPRECATE_EOF, text protocol only).
struct Client {
    conn: PacketConn<TcpStream>,
    id: u32,
}

/// Runs a check's request with [`CHECK_TIMEOUT`].
async fn within<T>(fut: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}

impl Client {
    async fn connect(
        addr: SocketAddr,
        user: &str,
        password: &str,
        db: Option<&str>,
    ) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let mut conn = PacketConn::new(stream, 1 << 30);
        let hs = read_server_handshake(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let login = ClientLogin {
            user,
            password,
            database: db,
            capabilities: BASE_CAPS,
            charset: charset::UTF8MB4_GENERAL_CI,
        };
        client_authenticate(&mut conn, &hs, &login, false)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Client {
            conn,
            id: hs.connection_id,
        })
    }

    async fn command(&mut self, command: u8, body: &[u8]) -> Result<Bytes, String> {
        self.conn.set_seq(0);
        let mut payload = Vec::with_capacity(1 + body.len());
        payload.push(command);
        payload.extend_from_slice(body);
        self.conn.write_packet(&payload);
        self.conn.flush().await.map_err(|e| e.to_string())?;
        let packet = self.conn.read_packet().await.map_err(|e| e.to_string())?;
        Ok(packet.payload)
    }

    async fn query(&mut self, sql: &'static str) -> Result<QueryResult, String> {
        let first = self.command(com::QUERY, sql.as_bytes()).await?;
        match first.first() {
            Some(&ERR_HEADER) => {
                let e = ErrPacket::decode(&first).map_err(|e| e.to_string())?;
                return Ok(Err((e.code, e.message)));
            }
            Some(&OK_HEADER) => return Ok(Ok(Vec::new())),
            _ => {}
        }
        let columns = Reader::new(&first)
            .lenenc("column count")
            .map_err(|e| e.to_string())? as usize;
        for _ in 0..columns {
            self.conn.read_packet().await.map_err(|e| e.to_string())?;
        }
        let eof = self.conn.read_packet().await.map_err(|e| e.to_string())?;
        if !is_eof(&eof.payload) {
            return Err("no EOF after the column definitions".into());
        }
        let mut rows = Vec::new();
        loop {
            let p = self.conn.read_packet().await.map_err(|e| e.to_string())?;
            if is_eof(&p.payload) {
                break;
            }
            if p.payload.first() == Some(&ERR_HEADER) {
                let e = ErrPacket::decode(&p.payload).map_err(|e| e.to_string())?;
                return Ok(Err((e.code, e.message)));
            }
            let row = decode_text_row(&p.payload, columns).map_err(|e| e.to_string())?;
            rows.push(
                row.into_iter()
                    .map(|v| v.map(|b| String::from_utf8_lossy(b).into_owned()))
                    .collect(),
            );
        }
        Ok(Ok(rows))
    }

    async fn quit(mut self) {
        self.conn.set_seq(0);
        self.conn.write_packet(&[com::QUIT]);
        let _ = self.conn.flush().await;
    }
}

/// State a bystander sees of itself, answered by the compute node.
const LOCAL_STATE: &str = "SELECT DATABASE(), @@autocommit, @@tx_isolation, @@max_allowed_packet";
/// State a bystander's storage connection has (forwarded as a whole).
const REMOTE_STATE: &str = "SELECT @@session.sql_mode, @@session.time_zone, \
     @@session.character_set_client, @@session.character_set_results, \
     @@session.collation_connection, @@session.autocommit, @@session.tx_isolation, \
     @@session.wait_timeout, @@session.sql_select_limit, @@session.max_statement_time, \
     @@in_transaction, @@session.foreign_key_checks, @@session.unique_checks";

/// Long-lived sessions, one per logical database, and what they saw when they started.
#[derive(Default)]
struct Bystanders {
    sessions: Vec<Bystander>,
    /// First observations per database, which every later observation must match.
    baselines: Vec<(QueryResult, QueryResult)>,
}

struct Bystander {
    client: Client,
}

const BYSTANDER_DBS: [&str; 2] = [LOGICAL_DB, RENAMED_DB];

impl Bystanders {
    /// Connects missing bystanders; returns the first one's connection id.
    async fn ensure(&mut self, addr: SocketAddr, storage: bool) -> u32 {
        while self.sessions.len() < BYSTANDER_DBS.len() {
            let i = self.sessions.len();
            let client = self.connect(addr, storage, i).await;
            self.sessions.push(Bystander { client });
        }
        self.sessions[0].client.id
    }

    /// Logs bystander `i` in and compares what it sees with the first one's baseline.
    async fn connect(&mut self, addr: SocketAddr, storage: bool, i: usize) -> Client {
        let db = BYSTANDER_DBS[i];
        let mut client =
            match within(Client::connect(addr, ROOT_USER, ROOT_PASSWORD, Some(db))).await {
                Ok(c) => c,
                Err(e) => panic!("a bystander cannot log in to database {db}: {e}"),
            };
        let observed = observe(&mut client, db).await;
        if self.baselines.len() <= i {
            if storage {
                if let Err((code, msg)) = &observed.1 {
                    panic!("the storage node does not answer a bystander: {code} {msg}");
                }
            }
            self.baselines.push(observed);
        } else {
            compare(db, &self.baselines[i], &observed, "a new session");
        }
        client
    }

    /// Checks every bystander: alive (unless the input may have killed it) and unchanged.
    async fn verify(&mut self, addr: SocketAddr, storage: bool, may_kill: bool) {
        for (i, db) in BYSTANDER_DBS
            .into_iter()
            .enumerate()
            .take(self.sessions.len())
        {
            let alive = matches!(
                within(self.sessions[i].client.command(com::PING, b"")).await,
                Ok(reply) if reply.first() == Some(&OK_HEADER)
            );
            if !alive {
                if !may_kill {
                    panic!(
                        "bystander session {} (database {db}) stopped answering COM_PING, and \
                         the input could not have killed it",
                        self.sessions[i].client.id
                    );
                }
                // A root session may KILL it: reconnect (and compare the new session).
                self.sessions[i].client = self.connect(addr, storage, i).await;
                continue;
            }
            let observed = observe(&mut self.sessions[i].client, db).await;
            compare(db, &self.baselines[i], &observed, "a bystander");
        }
    }
}

async fn observe(client: &mut Client, db: &str) -> (QueryResult, QueryResult) {
    let local = match within(client.query(LOCAL_STATE)).await {
        Ok(r) => r,
        Err(e) => panic!("a bystander (database {db}) failed to read its state: {e}"),
    };
    let remote = match within(client.query(REMOTE_STATE)).await {
        Ok(r) => r,
        Err(e) => panic!("a bystander (database {db}) failed to read its storage state: {e}"),
    };
    (local, remote)
}

fn compare(
    db: &str,
    baseline: &(QueryResult, QueryResult),
    now: &(QueryResult, QueryResult),
    who: &str,
) {
    if now.0 != baseline.0 {
        panic!(
            "{who} in database {db} sees different session state after the input:\n  \
             {LOCAL_STATE}\n  before: {:?}\n  now:    {:?}",
            baseline.0, now.0
        );
    }
    // Without a storage node both are errors; with one, the answer must not change.
    if baseline.1.is_ok() && now.1 != baseline.1 {
        panic!(
            "{who} in database {db} got a storage connection in a different state after the \
             input (session state leaked through the pool?):\n  {REMOTE_STATE}\n  before: {:?}\n  \
             now:    {:?}",
            baseline.1, now.1
        );
    }
}

// ---------------------------------------------------------------------------------------
// Panics in the compute node's tasks, and the hang watchdog.

mod panics {
    use std::sync::{Mutex, Once};

    /// Name of the runtime threads whose panics count as the compute node's.
    pub(super) const WORKER_THREAD: &str = "strata-fuzz-worker";

    static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static HOOK: Once = Once::new();

    /// Records panics on the runtime's threads (tokio would swallow them), then runs the
    /// previous hook (libFuzzer's aborts, which is what it should do).
    pub(super) fn install() {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let thread = std::thread::current();
                if thread.name() == Some(WORKER_THREAD) {
                    let trace = std::backtrace::Backtrace::force_capture();
                    let mut list = PANICS.lock().unwrap_or_else(|p| p.into_inner());
                    list.push(format!("{info}\n{trace}"));
                }
                previous(info);
            }));
        });
    }

    /// Panics (on the caller's thread) when a compute-node task panicked.
    pub(super) fn check(when: &str) {
        let found: Vec<String> =
            std::mem::take(&mut *PANICS.lock().unwrap_or_else(|p| p.into_inner()));
        if !found.is_empty() {
            panic!(
                "the compute node panicked {when} ({} panic(s)):\n{}",
                found.len(),
                found.join("\n---\n")
            );
        }
    }
}

mod watchdog {
    use std::fmt::Write as _;
    use std::sync::{Mutex, Once};
    use std::time::{Duration, Instant};

    use super::HANG_LIMIT;

    static CURRENT: Mutex<Option<(Instant, String)>> = Mutex::new(None);
    static START: Once = Once::new();

    /// Starts the thread that aborts the process when one input runs too long.
    pub(super) fn start() {
        START.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("strata-fuzz-watchdog".into())
                .spawn(|| loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some((deadline, input)) = current.as_ref() {
                        if Instant::now() > *deadline {
                            eprintln!(
                                "fuzz harness: one input ran for over {HANG_LIMIT:?}; the compute \
                                 node hangs. Input (hex, first 4 KiB): {input}"
                            );
                            std::process::abort();
                        }
                    }
                });
        });
    }

    /// Watches the current input until the guard drops.
    pub(super) fn arm(input: &[u8]) -> Guard {
        let mut hex = String::new();
        for b in input.iter().take(4096) {
            let _ = write!(hex, "{b:02x}");
        }
        *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now() + HANG_LIMIT, hex));
        Guard
    }

    pub(super) struct Guard;

    impl Drop for Guard {
        fn drop(&mut self) {
            *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

// ---------------------------------------------------------------------------------------
// From fuzz bytes to a session.

/// Statements drivers, tools and users send; `{self}` / `{other}` become the session's
/// and a bystander's connection ids, `{n}` a number and `{s}` raw bytes from the input.
/// Deliberately absent: anything that changes storage accounts or global state, or runs
/// for long (the storage node is shared by every input).
const TEMPLATES: &[&str] = &[
    "SELECT 1",
    "select 1",
    "SELECT @@version_comment LIMIT 1",
    "SELECT @@version, @@max_allowed_packet, @@session.transaction_isolation",
    "SELECT @@tx_isolation, @@autocommit, @@tx_read_only, @@last_insert_id, @@identity",
    "SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@max_allowed_packet AS max_allowed_packet, @@sql_mode AS sql_mode, @@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout",
    "SELECT DATABASE(), CONNECTION_ID(), LAST_INSERT_ID(), VERSION(), USER(), CURRENT_USER()",
    "SELECT SESSION_USER(), SYSTEM_USER(), FOUND_ROWS(), ROW_COUNT()",
    "SELECT @@{s}",
    "SELECT @@session.{s} AS x, @@global.{s}",
    "SELECT 1 LIMIT 0",
    "SELECT {n}, '{s}', NULL, 1.5, 'a' 'b'",
    "SELECT @fuzz_marker",
    "SELECT * FROM fz ORDER BY id LIMIT 20",
    "SELECT v FROM test.fz WHERE id = {n}",
    "SELECT v FROM `fuzz`.`fz` WHERE id = {n}",
    "SELECT * FROM fz WHERE id = ? AND v <> ?",
    "SELECT ?, ?, ?",
    "SELECT SQL_CALC_FOUND_ROWS * FROM fz LIMIT 1",
    "SELECT GET_LOCK('fz', 0)",
    "SELECT RELEASE_LOCK('fz')",
    "SELECT REPEAT('x', {n})",
    "SELECT SLEEP(0.01)",
    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('test', 'fuzz', '{s}')",
    "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'fuzz' AND TABLE_NAME = 'fz'",
    "SELECT ID, INFO FROM information_schema.PROCESSLIST LIMIT 1",
    "SET NAMES utf8mb4",
    "SET NAMES latin1 COLLATE latin1_bin",
    "SET NAMES '{s}'",
    "SET CHARACTER SET utf8",
    "SET character_set_results = NULL",
    "SET autocommit = 0",
    "SET autocommit = 1",
    "SET autocommit = {n}",
    "SET SESSION sql_mode = ''",
    "SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'",
    "SET @@session.sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')",
    "SET time_zone = '+01:00'",
    "SET SESSION wait_timeout = {n}",
    "SET sql_select_limit = {n}",
    "SET max_statement_time = {n}",
    "SET foreign_key_checks = 0, unique_checks = 0",
    "SET @fuzz_marker = {n}",
    "SET @a = 1, @@session.time_zone = '+02:00', SESSION sql_mode = DEFAULT",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    "SET TRANSACTION READ ONLY",
    "SET GLOBAL max_connections = 10",
    "SET @@global.sql_mode = ''",
    "SET {s} = {n}",
    "SET",
    "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
    "/*!40101 SET NAMES binary */",
    "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */",
    "SET STATEMENT max_statement_time = 1 FOR SELECT 1",
    "SHOW DATABASES",
    "SHOW DATABASES LIKE '{s}%'",
    "SHOW SCHEMAS WHERE `Database` = 'test'",
    "SHOW TABLES",
    "SHOW FULL TABLES FROM fuzz LIKE 'f%'",
    "SHOW TABLES FROM nosuch",
    "SHOW TABLES WHERE Tables_in_test LIKE '%'",
    "SHOW PROCESSLIST",
    "SHOW FULL PROCESSLIST",
    "SHOW CREATE DATABASE test",
    "SHOW CREATE SCHEMA IF NOT EXISTS `{s}`",
    "SHOW VARIABLES LIKE 'max_allowed%'",
    "SHOW SESSION STATUS LIKE 'Threads%'",
    "SHOW WARNINGS",
    "SHOW COUNT(*) ERRORS",
    "SHOW COLUMNS FROM fz",
    "SHOW CREATE TABLE test.fz",
    "SHOW {s}",
    "DESC fz",
    "USE test",
    "USE fuzz",
    "USE `{s}`",
    "USE nosuch",
    "KILL {self}",
    "KILL QUERY {self}",
    "KILL CONNECTION {other}",
    "KILL QUERY {other}",
    "KILL {n}",
    "KILL QUERY 4294967296",
    "KILL nonsense",
    "BEGIN",
    "START TRANSACTION READ ONLY",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT sp",
    "ROLLBACK TO SAVEPOINT sp",
    "CREATE TABLE IF NOT EXISTS fz (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64))",
    "INSERT INTO fz (v) VALUES ('{s}')",
    "INSERT INTO fz (v) VALUES (?)",
    "INSERT INTO fz (id, v) VALUES ({n}, 'x') ON DUPLICATE KEY UPDATE v = VALUES(v)",
    "INSERT INTO fuzz.fz (v) SELECT v FROM test.fz LIMIT 1",
    "UPDATE fz SET v = ? WHERE id = ?",
    "DELETE FROM fz WHERE id > 64",
    "DELETE FROM fz WHERE id = ?",
    "SELECT * FROM fz WHERE id = {n} FOR UPDATE",
    "CREATE TEMPORARY TABLE IF NOT EXISTS fz_tmp (a INT)",
    "DROP TEMPORARY TABLE IF EXISTS fz_tmp",
    "CREATE DATABASE fz_db",
    "DROP SCHEMA IF EXISTS fz_db",
    "LOCK TABLES fz READ",
    "UNLOCK TABLES",
    "PREPARE s1 FROM 'SELECT ?'",
    "EXECUTE s1 USING @fuzz_marker",
    "DEALLOCATE PREPARE s1",
    "DO 1",
    "DO GET_LOCK('fz2', 0)",
    "CALL nosuch_proc()",
    "HANDLER fz OPEN",
    "XA START 'fz'",
    "XA END 'fz'",
    "XA ROLLBACK 'fz'",
    "LOAD DATA LOCAL INFILE '/nonexistent' INTO TABLE fz",
    "/*!strata:dnid=1*/ SELECT 1",
    "/*!strata:dnid=all*/ SELECT * FROM fz LIMIT 1",
    "/*!hotdb:rw=slave*/ SELECT 1",
    "SELECT 1 /* unterminated",
    "SELECT 'unterminated",
    "SELECT `unterminated",
    "-- only a comment",
    "# hash comment\nSELECT 2",
    "",
    " ",
    ";",
    ";;",
    "SELECT 1;",
    "SELECT 1; SELECT 2",
    "SELECT 1; SELEC 2; SELECT 3",
    "SET @a = 1; SELECT @a; USE nosuch; SELECT 3",
    "SELECT 'a;b'; SELECT \"c;d\"; SELECT `e;f`",
    "BEGIN; INSERT INTO fz (v) VALUES ('m'); ROLLBACK",
    "SHOW TABLES; KILL QUERY {self}; SELECT 1",
    "SELECT nosuch_function()",
    // Default deny: each of these must be refused or answered by the compute node; one
    // that reached a storage node (SHUTDOWN above all) would fail the bystander checks.
    "SHUTDOWN",
    "FLUSH TABLES",
    "FLUSH PRIVILEGES",
    "FLUSH HOSTS",
    "GRANT SELECT ON *.* TO '{s}'@'%'",
    "REVOKE ALL ON *.* FROM 'strata'@'%'",
    "CREATE USER '{s}' IDENTIFIED BY 'x'",
    "SHOW GRANTS",
    "SHOW GRANTS FOR '{s}'",
    "SHOW MASTER STATUS",
    "SELECT @@datadir, @@port, @@hostname",
    "SHOW VARIABLES LIKE '%dir'",
    "SELECT * FROM mysql.user",
    "SELECT LOAD_FILE('/etc/hostname')",
    "SELECT 1 INTO OUTFILE '/tmp/strata_fuzz_outfile'",
    "LOAD DATA INFILE '/etc/hostname' INTO TABLE fz",
    "PREPARE s2 FROM @fuzz_marker",
    "XA RECOVER",
    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME LIKE '%DIR' LIMIT 3",
    "SELECT * FROM information_schema.USER_PRIVILEGES",
    "BEGIN NOT ATOMIC SELECT 1; END",
    "CREATE PROCEDURE fz_p() FLUSH LOGS",
];

/// Statements with parameters for prepare-and-execute operations, with their counts.
const PARAM_STATEMENTS: &[(&str, usize)] = &[
    ("SELECT ?", 1),
    ("SELECT ?, ?, ?", 3),
    ("SELECT 1", 0),
    ("SELECT * FROM fz ORDER BY id", 0),
    ("INSERT INTO fz (v) VALUES (?)", 1),
    ("UPDATE fz SET v = ? WHERE id = ?", 2),
    ("SELECT * FROM fz WHERE id = ? AND v <> ?", 2),
    ("DO ?", 1),
    ("SELECT CONCAT(?, ?, ?, ?, ?, ?, ?, ?, ?)", 9),
    ("SET @fuzz_marker = ?", 1),
    ("SELECT @@version_comment", 0),
    ("SHOW TABLES", 0),
];

/// Known commands, weighted towards the interesting ones.
const KNOWN: &[u8] = &[
    com::QUERY,
    com::QUERY,
    com::QUERY,
    com::QUERY,
    com::QUERY,
    com::QUERY,
    com::STMT_PREPARE,
    com::STMT_PREPARE,
    com::STMT_EXECUTE,
    com::STMT_EXECUTE,
    com::STMT_EXECUTE,
    com::STMT_FETCH,
    com::STMT_CLOSE,
    com::STMT_RESET,
    com::STMT_SEND_LONG_DATA,
    com::INIT_DB,
    com::PING,
    com::FIELD_LIST,
    com::STATISTICS,
    com::PROCESS_KILL,
    com::RESET_CONNECTION,
    com::SET_OPTION,
    com::CHANGE_USER,
];

// Operation bytes: below OP_RAW_COMMAND a known command (KNOWN[op % len]).
const OP_RAW_COMMAND: u8 = 160;
const OP_RAW_FRAME: u8 = 180;
const OP_MULTI: u8 = 195;
const OP_PREPARED: u8 = 210;
const OP_SYNC: u8 = 225;
const OP_BIG: u8 = 240;
const OP_CHANGE_USER: u8 = 245;
const OP_QUIT: u8 = 250;

/// Login header: bit 0 multi-statements, 1 DEPRECATE_EOF, 2-3 database (test, test,
/// fuzz, none), 4 restricted user, 5 no MULTI_RESULTS/SESSION_TRACK, 6 COM_QUIT at the
/// end, 7 a sync point after every operation.
fn decode_header(data: &[u8]) -> (Login, u8, &[u8]) {
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
fn avoided(command: u8, sql: &[u8]) -> bool {
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
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A length byte, then that many bytes.
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.take(n)
    }

    fn u32(&mut self) -> u32 {
        let b = self.take(4);
        let mut v = [0u8; 4];
        v[..b.len()].copy_from_slice(b);
        u32::from_le_bytes(v)
    }
}

/// Turns the input after the header into steps.
fn generate(data: &[u8], flags: u8, info: &SessionInfo) -> Vec<Step> {
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

struct Gen<'a, 'i> {
    input: Input<'a>,
    info: &'i SessionInfo,
    steps: Vec<Step>,
    /// COM_STMT_PREPAREs sent, to guess the ids the node hands out (1, 2, ...).
    prepares: u32,
    big_left: u8,
}

impl Gen<'_, '_> {
    /// Adds one operation's steps; false to stop.
    fn op(&mut self, op: u8) -> bool {
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

    fn command(&mut self, command: u8) -> Vec<u8> {
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
    fn sql(&mut self) -> Vec<u8> {
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

    fn fill(&mut self, template: &str) -> Vec<u8> {
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

    fn number(&mut self) -> Vec<u8> {
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
    fn statement_id(&mut self) -> Vec<u8> {
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
    fn execute_body(&mut self, p: &mut Vec<u8>, id: &[u8], params: usize) {
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

    fn param_type(&mut self) -> u8 {
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
    fn value(&mut self, p: &mut Vec<u8>, t: u8) {
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
    fn prepared(&mut self) {
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
    fn change_user(&mut self) -> Vec<u8> {
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
    fn big(&mut self) {
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
struct Seed(Vec<u8>);

fn tpl(template: &str) -> usize {
    TEMPLATES.iter().position(|t| *t == template).unwrap_or(0)
}

fn pstmt(sql: &str) -> u8 {
    PARAM_STATEMENTS
        .iter()
        .position(|(s, _)| *s == sql)
        .unwrap_or(0) as u8
}

impl Seed {
    fn new(header: u8) -> Seed {
        Seed(vec![header])
    }

    fn op(&mut self, op: u8) {
        self.0.push(op);
    }

    /// A known command (its first index in KNOWN) and its choice bytes.
    fn command(&mut self, command: u8, choices: &[u8]) {
        let index = KNOWN.iter().position(|&c| c == command).unwrap_or(0);
        self.0.push(index as u8);
        self.0.extend_from_slice(choices);
    }

    /// COM_QUERY of template `index` as is, then the bytes its placeholders take.
    fn query(&mut self, index: usize, fill: &[u8]) {
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
    fn prepared(&mut self, index: usize, params: usize, variant: u8) {
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
