//! Connection phase: the server greeting, the optional switch to TLS, authentication
//! and the initial database; also COM_CHANGE_USER.

use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpStream;

use strata_backend::SessionVars;
use strata_protocol::auth;
use strata_protocol::constants::{cap, charset, status, SERVER_CAPABILITIES};
use strata_protocol::handshake::server_handshake;
use strata_protocol::packets::{Handshake, OkPacket};
use strata_protocol::stream::ServerStream;
use strata_protocol::{codes, MysqlError, PacketConn};

use super::backends::Backends;
use super::client::ClientConn;
use super::identity::Identity;
use super::prepared::PreparedStatements;
use super::state::SessionState;
use super::transaction::TxnState;
use super::{Flow, Session, SessionError};
use crate::context::{ServerContext, SessionEntry};
use crate::results::{write_err, write_ok};

/// `@@version` until a storage node has announced its own: the storage server Strata
/// is tested with.
const DEFAULT_STORAGE_VERSION: &str = "10.11.0-MariaDB";

/// The prefix MariaDB 10 and later put before their version in the greeting, so that
/// old clients that read the first digit as the major version see 5; drivers strip it.
const MARIADB_GREETING_PREFIX: &str = "5.5.5-";

/// The one identity the compute node presents: in the greeting, `@@version`,
/// `VERSION()`, `SHOW VARIABLES` and information_schema. Strata's SQL semantics are its
/// storage nodes', so drivers must see the storage server's version to pick features;
/// Strata itself shows in `@@version_comment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// The version string of the greeting (`5.5.5-10.11.x-MariaDB...` for MariaDB).
    pub greeting: String,
    /// `@@version` and `VERSION()`.
    pub version: String,
    /// `@@version_comment`.
    pub comment: String,
}

impl ServerIdentity {
    /// The identity for storage nodes that announced `announced` (greeting versions,
    /// any order; empty when none has answered yet), with the configuration's overrides.
    pub fn derive(
        announced: &[&str],
        version: Option<&str>,
        comment: Option<&str>,
    ) -> ServerIdentity {
        let storage = lowest_version(announced).unwrap_or(DEFAULT_STORAGE_VERSION);
        let version = version.map_or_else(|| storage.to_string(), printable);
        let greeting = if is_mariadb_10_or_later(&version) {
            format!("{MARIADB_GREETING_PREFIX}{version}")
        } else {
            version.clone()
        };
        let comment = comment.map_or_else(
            || {
                let product = if storage.contains("MariaDB") {
                    "MariaDB"
                } else {
                    "MySQL"
                };
                let (major, minor, patch) = version_number(storage);
                format!(
                    "Strata {} compute node ({product} {major}.{minor}.{patch} storage)",
                    env!("CARGO_PKG_VERSION")
                )
            },
            printable,
        );
        ServerIdentity {
            greeting,
            version,
            comment,
        }
    }

    /// The identity the compute node presents now: derived from the versions its data
    /// nodes' primaries announced (a client connecting after a storage node first
    /// answers sees the update) and the configuration.
    pub fn of(ctx: &ServerContext) -> ServerIdentity {
        let announced: Vec<Arc<str>> = ctx
            .topology
            .nodes()
            .filter_map(|n| n.pool.server_version())
            .collect();
        let announced: Vec<&str> = announced.iter().map(|v| &**v).collect();
        log_mixed_versions(&announced);
        let server = &ctx.config.server;
        ServerIdentity::derive(
            &announced,
            server.version.as_deref(),
            server.version_comment.as_deref(),
        )
    }
}

/// A configured string as it can be sent: the greeting's version is NUL-terminated and
/// control characters have no place in a banner.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// A greeting version without MariaDB's `5.5.5-` prefix: what `@@version` says.
pub(super) fn without_greeting_prefix(announced: &str) -> &str {
    announced
        .strip_prefix(MARIADB_GREETING_PREFIX)
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(announced)
}

/// The leading `major.minor.patch` of a version string (missing parts read as 0).
fn version_number(version: &str) -> (u32, u32, u32) {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The lowest of the storage nodes' versions, without the greeting prefix: features a
/// driver picks from the version must work on every node.
fn lowest_version<'a>(announced: &[&'a str]) -> Option<&'a str> {
    announced
        .iter()
        .map(|v| without_greeting_prefix(v))
        .min_by_key(|v| version_number(v))
}

fn is_mariadb_10_or_later(version: &str) -> bool {
    version.contains("MariaDB") && version_number(version).0 >= 10
}

/// Storage nodes announcing different versions are worth a warning (once per distinct
/// set, not per client): the compute node presents the lowest.
fn log_mixed_versions(announced: &[&str]) {
    static LOGGED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut distinct: Vec<String> = announced.iter().map(|v| v.to_string()).collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < 2 {
        return;
    }
    let mut logged = LOGGED.lock().unwrap_or_else(|p| p.into_inner());
    if *logged != distinct {
        tracing::warn!(
            versions = ?distinct,
            presented = lowest_version(announced).unwrap_or_default(),
            "storage nodes run different versions; clients see the lowest"
        );
        *logged = distinct;
    }
}

/// Largest packet accepted before authentication (a handshake response is small).
const HANDSHAKE_MAX_PACKET: usize = 64 * 1024;

pub(crate) async fn fail<T>(
    conn: &mut PacketConn<ServerStream>,
    e: MysqlError,
) -> Result<T, SessionError> {
    write_err(conn, &e);
    let _ = conn.flush().await;
    Err(SessionError::Handshake(e.message))
}

/// Which listener a client came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Port {
    /// The service port: applications.
    Service,
    /// The admin port: `SHOW @@...` and friends (not limited by `max_connections` or
    /// OFFLINE, so an operator can always get in).
    Admin,
}

/// A client that passed the connection phase.
pub(crate) struct LoggedIn {
    /// The connection, past authentication.
    pub conn: PacketConn<ServerStream>,
    /// What the client sent in its handshake response.
    pub response: strata_protocol::packets::HandshakeResponse,
    /// Capabilities both sides have.
    pub client_caps: u32,
    /// The scramble in force (for COM_CHANGE_USER).
    pub scramble: [u8; 20],
    /// The account it logged in as.
    pub account: strata_catalog::accounts::Account,
}

/// Longest time a client may take to log in, on any port (like MySQL's
/// `connect_timeout`: a client that stalls in the handshake is dropped).
pub(crate) const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the handshake takes from a freshly accepted connection, on any port: the
/// client's address as text (for logs and host checks) and a new connection id. Nagle's
/// delay is turned off, as every reply is written whole.
pub(crate) fn accepted(ctx: &ServerContext, stream: &TcpStream) -> (String, u32) {
    let peer = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let _ = stream.set_nodelay(true);
    ctx.metrics.status.connection_attempt();
    (peer, ctx.next_connection_id())
}

/// A connection that got no session: counted in `Aborted_connects`, and logged.
pub(crate) fn failed(ctx: &ServerContext, id: u32, peer: &str, e: &super::SessionError) {
    ctx.metrics.status.aborted_connect();
    tracing::debug!(session = id, peer = %peer, error = %e, "handshake failed");
}

/// Greets a client, checks where it comes from and authenticates it against the
/// accounts (the same for every port); refusals are written to the client, counted and
/// audited here.
pub(crate) async fn log_in(
    ctx: &Arc<ServerContext>,
    stream: TcpStream,
    id: u32,
    peer: &str,
    port: Port,
) -> Result<LoggedIn, SessionError> {
    use crate::metrics::RefusedReason;
    let mut conn = PacketConn::new(ServerStream::Tcp(stream), HANDSHAKE_MAX_PACKET);
    if port == Port::Service && ctx.is_offline() {
        ctx.metrics.connection_refused(RefusedReason::Offline);
        return fail(&mut conn, offline_error()).await;
    }
    if port == Port::Service && ctx.is_rejoining() {
        ctx.metrics.connection_refused(RefusedReason::Offline);
        let refused = super::fence::rejoining_error(ctx.config.server.node_id);
        return fail(&mut conn, refused).await;
    }
    if port == Port::Service && ctx.session_count() >= ctx.config.server.max_connections as usize {
        ctx.metrics
            .connection_refused(RefusedReason::TooManyConnections);
        return fail(
            &mut conn,
            MysqlError::new(codes::TOO_MANY_CONNECTIONS, "Too many connections"),
        )
        .await;
    }
    let client_ip: Option<std::net::IpAddr> = peer.parse().ok();
    if let Err(e) = ctx.admit(client_ip, peer) {
        ctx.metrics.connection_refused(if e.code == 1129 {
            RefusedReason::Blocked
        } else {
            RefusedReason::NotAllowed
        });
        return fail(&mut conn, e).await;
    }
    let scramble = auth::new_scramble();
    // LOCAL INFILE only where Strata places the rows, and only if configured.
    let capabilities = if port == Port::Service && ctx.config.server.local_infile {
        SERVER_CAPABILITIES | cap::LOCAL_FILES
    } else {
        SERVER_CAPABILITIES
    };
    let greeting = Handshake {
        server_version: ServerIdentity::of(ctx).greeting,
        connection_id: id,
        scramble,
        capabilities,
        charset: charset::UTF8MB4_GENERAL_CI,
        status: status::AUTOCOMMIT,
        auth_plugin: "mysql_native_password".to_string(),
    };
    let (mut conn, response) = match server_handshake(conn, &greeting, ctx.tls.as_ref()).await {
        Ok(v) => v,
        Err(e) => return Err(SessionError::Handshake(e.to_string())),
    };
    let client_caps = response.capabilities & capabilities;
    let account = client_ip.and_then(|ip| ctx.login_account(&response.user, ip));
    let credential = account.as_ref().map(|a| a.credential.clone());
    let is_tls = conn.stream().is_tls();
    let authenticated = match auth::authenticate(
        &mut conn,
        &scramble,
        &response,
        credential.as_ref(),
        is_tls,
        &ctx.sha2_cache,
    )
    .await
    {
        Ok(a) => a,
        Err(e) if e.is_disconnect() => return Err(SessionError::Handshake(e.to_string())),
        Err(e) => {
            let error = e.to_mysql_error(&response.user, super::isolation::shown_host(peer));
            super::audit::login(ctx, id, &response.user, peer, None, error.code);
            ctx.metrics.connection_refused(RefusedReason::AuthFailed);
            let delay = ctx.login_failed(client_ip);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            return fail(&mut conn, error).await;
        }
    };
    ctx.login_succeeded(client_ip);
    super::audit::login(
        ctx,
        id,
        &response.user,
        peer,
        response.database.as_deref(),
        0,
    );
    // A successful authentication implies an account was found.
    let Some(account) = account else {
        return fail(
            &mut conn,
            MysqlError::access_denied(&response.user, super::isolation::shown_host(peer), false),
        )
        .await;
    };
    Ok(LoggedIn {
        conn,
        response,
        client_caps,
        scramble: authenticated.scramble,
        account,
    })
}

/// What a client connecting to the service port while OFFLINE gets.
pub(crate) fn offline_error() -> MysqlError {
    MysqlError::new(
        (1053, "08S01"),
        "Strata compute node is offline (an operator ran OFFLINE on the admin port); connect to another compute node or retry later",
    )
}

/// Greets a new client, authenticates it and returns its session.
pub(super) async fn accept(
    ctx: Arc<ServerContext>,
    stream: TcpStream,
    id: u32,
    peer: &str,
) -> Result<Session, SessionError> {
    let LoggedIn {
        mut conn,
        response,
        client_caps,
        scramble,
        account,
    } = log_in(&ctx, stream, id, peer, Port::Service).await?;
    if account.max_user_connections > 0 {
        let open = ctx
            .all_sessions()
            .iter()
            .filter(|(_, e)| e.user == account.user && e.account_host == account.host.as_str())
            .count() as u64;
        if open >= account.max_user_connections {
            ctx.metrics
                .connection_refused(crate::metrics::RefusedReason::UserLimit);
            return fail(
                &mut conn,
                MysqlError::new(
                    codes::USER_LIMIT_REACHED,
                    format!(
                        "User '{}' has exceeded the 'max_user_connections' resource (current value: {})",
                        response.user, account.max_user_connections
                    ),
                ),
            )
            .await;
        }
    }
    let accounts_version = ctx
        .accounts_version
        .load(std::sync::atomic::Ordering::Acquire);
    // The default role is enabled at login (MariaDB's SET DEFAULT ROLE).
    let (role, account) = ctx.accounts().at_login(account);
    let entry = Arc::new(SessionEntry {
        user: response.user.clone(),
        host: peer.to_string(),
        account_host: account.host.as_str().to_string(),
        db: Default::default(),
        info: Default::default(),
        since: std::sync::Mutex::new(Instant::now()),
        query_id: Default::default(),
        backend: Default::default(),
        branches: Default::default(),
        deadlock_victim: Default::default(),
        in_transaction: Default::default(),
        killed: Default::default(),
        kill_signal: Default::default(),
        interrupt: Default::default(),
        waiting: Default::default(),
    });
    let mut session = Session {
        ctx: ctx.clone(),
        client: ClientConn {
            conn,
            caps: client_caps,
            scramble,
            multi_statements: client_caps & cap::MULTI_STATEMENTS != 0,
            quit: false,
            collation: response.charset,
            tracker: super::tracking::Tracker::new(
                client_caps & cap::SESSION_TRACK != 0,
                &ctx.globals,
            ),
        },
        identity: Identity {
            id,
            entry: entry.clone(),
            user: response.user.clone(),
            account: Arc::new(account),
            accounts_version,
            role,
            failed_change_user: 0,
        },
        state: SessionState {
            vars: handshake_names(response.charset),
            ..SessionState::default()
        },
        backends: Backends::default(),
        prepared: PreparedStatements::default(),
        txn: TxnState::default(),
        statement: Default::default(),
        written: Default::default(),
        status: Default::default(),
    };
    super::globals::apply_globals(&mut session.state, &session.ctx.globals);
    if let Some(db) = response.database.as_deref().filter(|d| !d.is_empty()) {
        if let Err(e) = session.change_database(db) {
            return fail(&mut session.client.conn, e).await;
        }
    }
    ctx.register(id, entry);
    ctx.metrics.connection_accepted();
    session.client.conn.set_max_packet(
        usize::try_from(
            ctx.globals
                .max_allowed_packet(ctx.config.server.max_allowed_packet),
        )
        .unwrap_or(usize::MAX),
    );
    let ok = OkPacket {
        status: status::AUTOCOMMIT,
        ..OkPacket::default()
    };
    write_ok(&mut session.client.conn, &ok);
    session.client.conn.flush().await?;
    Ok(session)
}

impl Session {
    /// COM_CHANGE_USER as MariaDB answers it: a failed one resets the session but keeps
    /// its account and database, and after three failures on a connection the command
    /// is unknown (1047), which holds off guessing passwords on one connection; each
    /// failure also waits a second, as MariaDB's does.
    pub(super) async fn change_user(&mut self, packet: &[u8]) -> Result<Flow, SessionError> {
        if self.identity.failed_change_user >= 3 {
            self.err(&MysqlError::new(codes::UNKNOWN_COM, "Unknown command"));
            return Ok(Flow::Continue);
        }
        let changed = change_user(self, packet).await;
        self.reset_session().await;
        match changed {
            Ok(()) => self.ok(0, false),
            Err(e) if e.code == codes::HANDSHAKE.0 => {
                // A packet that is no COM_CHANGE_USER: the connection is not trusted on.
                self.err(&e);
                self.client.conn.flush().await?;
                return Ok(Flow::Close);
            }
            Err(e) => {
                self.identity.failed_change_user =
                    self.identity.failed_change_user.saturating_add(1);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                self.err(&e);
            }
        }
        Ok(Flow::Continue)
    }
}

/// Re-authenticates for COM_CHANGE_USER and switches user and database.
pub(super) async fn change_user(session: &mut Session, packet: &[u8]) -> Result<(), MysqlError> {
    let request = auth::ChangeUser::decode(packet, session.client.caps)
        .map_err(|e| MysqlError::new(codes::HANDSHAKE, format!("Bad COM_CHANGE_USER: {e}")))?;
    let host = session.identity.entry.host.clone();
    let account = host
        .parse()
        .ok()
        .and_then(|ip| session.ctx.login_account(&request.user, ip));
    let credential = account.as_ref().map(|a| a.credential.clone());
    let is_tls = session.client.conn.stream().is_tls();
    let ctx = session.ctx.clone();
    let scramble = session.client.scramble;
    let authenticated = auth::authenticate_change_user(
        &mut session.client.conn,
        &scramble,
        &request,
        credential.as_ref(),
        is_tls,
        &ctx.sha2_cache,
    )
    .await
    .map_err(|e| e.to_mysql_error(&request.user, super::isolation::shown_host(&host)))?;
    let account = account.ok_or_else(|| {
        MysqlError::access_denied(&request.user, super::isolation::shown_host(&host), false)
    })?;
    // A database the new account may not use fails the whole change: the session is
    // given back its account and database, as MariaDB restores them.
    let before = (
        session.client.scramble,
        session.client.collation,
        session.identity.user.clone(),
        session.identity.accounts_version,
        session.identity.role.clone(),
        session.identity.account.clone(),
        session.state.db.clone(),
        session.state.home.clone(),
        session.state.rename.clone(),
        session.state.multi_node,
    );
    session.client.scramble = authenticated.scramble;
    // MariaDB takes the character set the packet names (an id beyond one byte is no
    // character set a handshake could name: the session keeps its own).
    if let Some(id) = request.charset.and_then(|c| u8::try_from(c).ok()) {
        session.client.collation = id;
    }
    session.identity.user = request.user.clone();
    session.identity.accounts_version = session
        .ctx
        .accounts_version
        .load(std::sync::atomic::Ordering::Acquire);
    let (role, account) = session.ctx.accounts().at_login(account);
    session.identity.role = role;
    session.identity.account = Arc::new(account);
    session.state.clear_database();
    if let Some(db) = request.database.as_deref().filter(|d| !d.is_empty()) {
        if let Err(e) = session.change_database(db) {
            (
                session.client.scramble,
                session.client.collation,
                session.identity.user,
                session.identity.accounts_version,
                session.identity.role,
                session.identity.account,
                session.state.db,
                session.state.home,
                session.state.rename,
                session.state.multi_node,
            ) = before;
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod identity_tests {
    use super::ServerIdentity;

    /// The identity derived from the storage `versions` alone, checked to greet with
    /// `greeting` and report `version`.
    fn derived(versions: &[&str], greeting: &str, version: &str) -> ServerIdentity {
        let id = ServerIdentity::derive(versions, None, None);
        assert_eq!(id.greeting, greeting);
        assert_eq!(id.version, version);
        id
    }

    #[test]
    fn mariadb_storage_gives_its_version_with_the_greeting_prefix() {
        let id = derived(
            &["5.5.5-10.11.6-MariaDB-0+deb12u1"],
            "5.5.5-10.11.6-MariaDB-0+deb12u1",
            "10.11.6-MariaDB-0+deb12u1",
        );
        assert_eq!(
            id.comment,
            format!(
                "Strata {} compute node (MariaDB 10.11.6 storage)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn the_lowest_storage_version_wins() {
        let versions = [
            "5.5.5-10.11.10-MariaDB",
            "5.5.5-10.11.9-MariaDB-log",
            "5.5.5-10.11.11-MariaDB",
        ];
        derived(
            &versions,
            "5.5.5-10.11.9-MariaDB-log",
            "10.11.9-MariaDB-log",
        );
    }

    #[test]
    fn mysql_storage_gets_no_prefix() {
        let id = derived(&["8.0.36"], "8.0.36", "8.0.36");
        assert!(
            id.comment.ends_with("(MySQL 8.0.36 storage)"),
            "{}",
            id.comment
        );
    }

    #[test]
    fn no_storage_answer_gives_the_default() {
        derived(&[], "5.5.5-10.11.0-MariaDB", "10.11.0-MariaDB");
    }

    #[test]
    fn configuration_overrides_win() {
        let id = ServerIdentity::derive(
            &["5.5.5-10.11.6-MariaDB"],
            Some("10.6.99-MariaDB-custom"),
            Some("my banner\0"),
        );
        assert_eq!(id.version, "10.6.99-MariaDB-custom");
        assert_eq!(id.greeting, "5.5.5-10.6.99-MariaDB-custom");
        assert_eq!(id.comment, "my banner");
        let mysql = ServerIdentity::derive(&["5.5.5-10.11.6-MariaDB"], Some("8.0.36"), None);
        assert_eq!(mysql.greeting, "8.0.36");
    }
}

/// Session variables that make storage connections speak the character set the client
/// announced in its handshake, replayed as `SET NAMES` is: storage connections open in
/// utf8mb4, so without it a latin1 client's bytes would be read as UTF-8. An id the
/// compute node does not know keeps utf8mb4 (logged).
pub(super) fn handshake_names(collation_id: u8) -> SessionVars {
    let mut vars = SessionVars::default();
    if collation_id == charset::UTF8MB4_GENERAL_CI {
        return vars;
    }
    match strata_mysql::Collation::from_id(u16::from(collation_id)) {
        Some(c) => vars.set(
            "names",
            format!("NAMES {} COLLATE {}", c.charset().name(), c.name()),
        ),
        None => tracing::debug!(
            collation_id,
            "unknown client collation in the handshake; the session speaks utf8mb4"
        ),
    }
    vars
}

#[cfg(test)]
mod names_tests {
    use super::handshake_names;

    #[test]
    fn the_handshake_collation_becomes_set_names() {
        assert_eq!(
            handshake_names(8).get("names"),
            Some("NAMES latin1 COLLATE latin1_swedish_ci")
        );
        assert_eq!(
            handshake_names(33).get("names"),
            Some("NAMES utf8mb3 COLLATE utf8mb3_general_ci")
        );
        assert_eq!(
            handshake_names(45).get("names"),
            None,
            "the storage default"
        );
        assert_eq!(handshake_names(250).get("names"), None, "unknown: utf8mb4");
    }
}
