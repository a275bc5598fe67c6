//! Connection phase: the server greeting, the optional switch to TLS, authentication
//! and the initial database; also COM_CHANGE_USER.

use std::collections::HashMap;
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

use super::{Session, SessionError};
use crate::context::{ServerContext, SessionEntry};
use crate::results::{write_err, write_ok};

/// Version string announced to clients: MySQL 5.7-compatible, then Strata's own version.
pub const SERVER_VERSION: &str = concat!("5.7.40-Strata-", env!("CARGO_PKG_VERSION"));

/// Largest packet accepted before authentication (a handshake response is small).
const HANDSHAKE_MAX_PACKET: usize = 64 * 1024;

async fn fail<T>(conn: &mut PacketConn<ServerStream>, e: MysqlError) -> Result<T, SessionError> {
    write_err(conn, &e);
    let _ = conn.flush().await;
    Err(SessionError::Handshake(e.message))
}

/// Greets a new client, authenticates it and returns its session.
pub(super) async fn accept(
    ctx: Arc<ServerContext>,
    stream: TcpStream,
    id: u32,
    peer: &str,
) -> Result<Session, SessionError> {
    let mut conn = PacketConn::new(ServerStream::Tcp(stream), HANDSHAKE_MAX_PACKET);
    if ctx.session_count() >= ctx.config.server.max_connections as usize {
        return fail(
            &mut conn,
            MysqlError::new(codes::TOO_MANY_CONNECTIONS, "Too many connections"),
        )
        .await;
    }
    let client_ip: Option<std::net::IpAddr> = peer.parse().ok();
    if let Err(e) = ctx.admit(client_ip, peer) {
        return fail(&mut conn, e).await;
    }
    let scramble = auth::new_scramble();
    let capabilities = SERVER_CAPABILITIES;
    let greeting = Handshake {
        server_version: SERVER_VERSION.to_string(),
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
            let error = e.to_mysql_error(&response.user, peer);
            super::audit::login(&ctx, id, &response.user, peer, None, error.code);
            let delay = ctx.login_failed(client_ip);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            return fail(&mut conn, error).await;
        }
    };
    ctx.login_succeeded(client_ip);
    super::audit::login(
        &ctx,
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
            MysqlError::access_denied(&response.user, peer, false),
        )
        .await;
    };
    if account.max_user_connections > 0 {
        let open = ctx
            .all_sessions()
            .iter()
            .filter(|(_, e)| e.user == account.user && e.account_host == account.host.as_str())
            .count() as u64;
        if open >= account.max_user_connections {
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
    let entry = Arc::new(SessionEntry {
        user: response.user.clone(),
        host: peer.to_string(),
        account_host: account.host.as_str().to_string(),
        db: Default::default(),
        info: Default::default(),
        since: std::sync::Mutex::new(Instant::now()),
        backend: Default::default(),
        branches: Default::default(),
        deadlock_victim: Default::default(),
        killed: Default::default(),
        kill_signal: Default::default(),
    });
    let mut session = Session {
        ctx: ctx.clone(),
        conn,
        id,
        entry: entry.clone(),
        user: response.user.clone(),
        client_caps,
        scramble: authenticated.scramble,
        multi_statements: client_caps & cap::MULTI_STATEMENTS != 0,
        db: None,
        home: None,
        rename: None,
        multi_node: false,
        vars: SessionVars::default(),
        pending_vars: None,
        pending_eval: Vec::new(),
        autocommit: true,
        isolation: "REPEATABLE-READ".into(),
        pinned: Vec::new(),
        sticky: false,
        keep_for_warnings: false,
        last_insert_id: 0,
        statements: HashMap::new(),
        next_statement_id: 1,
        txn: None,
        next_txn: Default::default(),
        statement_writes: true,
        binary_results: false,
        release_requested: false,
        account: Arc::new(account),
        accounts_version,
        outcome: Default::default(),
    };
    if let Some(db) = response.database.as_deref().filter(|d| !d.is_empty()) {
        if let Err(e) = session.use_database(db) {
            return fail(&mut session.conn, e).await;
        }
    }
    ctx.register(id, entry);
    session
        .conn
        .set_max_packet(ctx.config.server.max_allowed_packet as usize);
    let ok = OkPacket {
        status: status::AUTOCOMMIT,
        ..OkPacket::default()
    };
    write_ok(&mut session.conn, &ok);
    session.conn.flush().await?;
    Ok(session)
}

/// Re-authenticates for COM_CHANGE_USER and switches user and database.
pub(super) async fn change_user(session: &mut Session, body: &[u8]) -> Result<(), MysqlError> {
    let mut payload = Vec::with_capacity(body.len() + 1);
    payload.push(strata_protocol::constants::com::CHANGE_USER);
    payload.extend_from_slice(body);
    let request = auth::ChangeUser::decode(&payload, session.client_caps)
        .map_err(|e| MysqlError::new(codes::HANDSHAKE, format!("Bad COM_CHANGE_USER: {e}")))?;
    let host = session.entry.host.clone();
    let account = host
        .parse()
        .ok()
        .and_then(|ip| session.ctx.login_account(&request.user, ip));
    let credential = account.as_ref().map(|a| a.credential.clone());
    let is_tls = session.conn.stream().is_tls();
    let ctx = session.ctx.clone();
    let scramble = session.scramble;
    let authenticated = auth::authenticate_change_user(
        &mut session.conn,
        &scramble,
        &request,
        credential.as_ref(),
        is_tls,
        &ctx.sha2_cache,
    )
    .await
    .map_err(|e| e.to_mysql_error(&request.user, &host))?;
    let account = account.ok_or_else(|| MysqlError::access_denied(&request.user, &host, false))?;
    session.scramble = authenticated.scramble;
    session.user = request.user.clone();
    session.accounts_version = session
        .ctx
        .accounts_version
        .load(std::sync::atomic::Ordering::Acquire);
    session.account = Arc::new(account);
    session.db = None;
    session.home = None;
    session.rename = None;
    session.multi_node = false;
    if let Some(db) = request.database.as_deref().filter(|d| !d.is_empty()) {
        session.use_database(db)?;
    }
    Ok(())
}
