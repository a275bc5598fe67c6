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

mod corpus;
mod generate;
mod guards;
mod harness;

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
use strata_protocol::handshake::{
    client_authenticate, read_server_handshake, ClientLogin, ServerInfo,
};
use strata_protocol::packets::{
    decode_text_row, is_eof, ErrPacket, Handshake, ERR_HEADER, OK_HEADER,
};
use strata_protocol::wire::Reader;
use strata_protocol::{AuthPlugin, PacketConn};

use crate::RunningServer;

use corpus::*;
pub use generate::describe;
use generate::*;
use guards::*;
use harness::*;
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
const BASE_CAPS: u32 =
    cap::CLIENT_REQUIRED | cap::LONG_FLAG | cap::TRANSACTIONS | cap::CONNECT_ATTRS;

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
