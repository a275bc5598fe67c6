//! The process-wide compute node under test, its clients and the bystander sessions whose state must not change.

use super::*;

pub(super) static HARNESS: OnceLock<Harness> = OnceLock::new();

pub(super) fn harness() -> &'static Harness {
    HARNESS.get_or_init(|| Harness::start(FuzzStorage::from_env()))
}

pub(super) struct Harness {
    pub(super) rt: Runtime,
    pub(super) addr: SocketAddr,
    pub(super) storage: bool,
    /// Kept so the node runs for the life of the process.
    pub(super) _server: RunningServer,
    /// One session at a time, and the bystanders between inputs.
    pub(super) state: Mutex<Bystanders>,
    /// Replies to wait for before sending more or giving up.
    pub(super) idle: Duration,
    pub(super) segment_limit: Duration,
}

impl Harness {
    pub(super) fn start(storage: Option<FuzzStorage>) -> Harness {
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

    pub(super) fn run(
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
        // A `SET GLOBAL` of the input changes what new sessions start with, as in
        // MySQL; what must not reach them is the input's session state.
        self._server.context().globals.clear();
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
pub(super) fn harness_config(storage: Option<&FuzzStorage>, data_dir: PathBuf) -> Config {
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
pub(super) fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1)
}

/// A fresh metadata directory for this process; directories of dead processes are removed.
pub(super) fn data_dir() -> PathBuf {
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
pub(super) fn per_mib(bytes: usize) -> Duration {
    let per_mib = if cfg!(debug_assertions) && !cfg!(fuzzing) {
        PER_MIB_DEBUG
    } else {
        PER_MIB_OPTIMIZED
    };
    per_mib.mul_f64(bytes as f64 / (1 << 20) as f64)
}

pub(super) fn step_len(step: &Step) -> usize {
    match step {
        Step::Command(p) | Step::Raw(p) => p.len(),
        Step::Sync => 0,
    }
}

/// True for a COM_CHANGE_USER to root (which may then KILL bystanders). Raw bytes are
/// searched only when small: the big ones the generator makes carry other commands.
pub(super) fn becomes_root(step: &Step) -> bool {
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

/// Connects to `addr` and logs in as `client`: the connection, the server's greeting and
/// what the login settled.
async fn log_in(
    addr: SocketAddr,
    client: &ClientLogin<'_>,
) -> Result<(PacketConn<TcpStream>, Handshake, ServerInfo), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut conn = PacketConn::new(stream, 1 << 30);
    let hs = read_server_handshake(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let server = client_authenticate(&mut conn, &hs, client, false)
        .await
        .map_err(|e| e.to_string())?;
    Ok((conn, hs, server))
}

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
    let client = ClientLogin {
        user,
        password,
        database: login.database.as_deref(),
        capabilities: login.capabilities | BASE_CAPS,
        charset: charset::UTF8MB4_GENERAL_CI,
    };
    let (conn, hs, server) = log_in(addr, &client).await?;
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
pub(super) fn frame_into(out: &mut Vec<u8>, payload: &[u8], first_seq: u8) {
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
pub(super) type QueryResult = Result<Vec<Vec<Option<String>>>, (u16, String)>;

/// A plain client for the checks (no DEPRECATE_EOF, text protocol only).
pub(super) struct Client {
    pub(super) conn: PacketConn<TcpStream>,
    pub(super) id: u32,
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
        let login = ClientLogin {
            user,
            password,
            database: db,
            capabilities: BASE_CAPS,
            charset: charset::UTF8MB4_GENERAL_CI,
        };
        let (conn, hs, _) = log_in(addr, &login).await?;
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
pub(super) const LOCAL_STATE: &str =
    "SELECT DATABASE(), @@autocommit, @@tx_isolation, @@max_allowed_packet";
/// State a bystander's storage connection has (forwarded as a whole).
pub(super) const REMOTE_STATE: &str = "SELECT @@session.sql_mode, @@session.time_zone, \
     @@session.character_set_client, @@session.character_set_results, \
     @@session.collation_connection, @@session.autocommit, @@session.tx_isolation, \
     @@session.wait_timeout, @@session.sql_select_limit, @@session.max_statement_time, \
     @@in_transaction, @@session.foreign_key_checks, @@session.unique_checks";

/// Long-lived sessions, one per logical database, and what they saw when they started.
#[derive(Default)]
pub(super) struct Bystanders {
    pub(super) sessions: Vec<Bystander>,
    /// First observations per database, which every later observation must match.
    pub(super) baselines: Vec<(QueryResult, QueryResult)>,
}

pub(super) struct Bystander {
    pub(super) client: Client,
}

pub(super) const BYSTANDER_DBS: [&str; 2] = [LOGICAL_DB, RENAMED_DB];

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

pub(super) fn compare(
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
