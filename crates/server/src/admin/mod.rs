//! The admin port (`admin_addr`): the MySQL protocol with the same handshake, accounts
//! and TLS as the service port, for accounts with the admin privilege (SUPER, which
//! ALL PRIVILEGES ON *.* includes). It answers HotDB-style management commands
//! (`command`) — read-only views (`views`) and actions (`actions`) — and nothing else:
//! no statement ever reaches a storage node from here.
//!
//! Admin sessions run on the acceptor's runtime, not on the session worker threads;
//! they are not client sessions (SHOW @@SESSION and max_connections do not count
//! them, and OFFLINE does not refuse them, so an operator can always get back in).

pub mod actions;
pub mod command;
pub mod table;
pub mod views;

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

use strata_protocol::constants::{com, status};
use strata_protocol::packets::OkPacket;
use strata_protocol::stream::ServerStream;
use strata_protocol::{codes, MysqlError, PacketConn, ProtocolError};
use strata_sql::account::Privilege;

use crate::context::ServerContext;
use crate::results::{write_err, write_ok, write_result, LocalResult};
use crate::session::handshake::{accepted, fail, log_in, Port, HANDSHAKE_TIMEOUT};
use crate::shutdown::Shutdown;
use command::{Command, CommandError};

/// What the operator sees for a command that does not parse (1064, as MariaDB answers
/// text it cannot parse).
pub fn command_error(e: &CommandError) -> MysqlError {
    MysqlError::new(codes::PARSE, e.to_string())
}

/// True when `account` may use the admin port and the HTTP actions.
pub fn is_admin(account: &strata_catalog::accounts::Account) -> bool {
    account
        .global
        .contains(strata_catalog::PrivSet::of(Privilege::Super))
}

/// The error for an account without the admin privilege (MySQL's 1227).
pub fn admin_denied() -> MysqlError {
    MysqlError::new(
        codes::SPECIFIC_ACCESS_DENIED,
        "Access denied; you need (at least one of) the SUPER privilege(s) for this operation",
    )
}

/// Serves admin clients until shutdown.
pub async fn accept_loop(listener: TcpListener, ctx: Arc<ServerContext>, mut shutdown: Shutdown) {
    loop {
        tokio::select! {
            _ = shutdown.triggered() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(run(ctx.clone(), stream, shutdown.clone()));
                }
                Err(e) => {
                    warn!(error = %e, "admin port: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// Largest command accepted from an admin client.
const MAX_PACKET: usize = 1024 * 1024;

async fn run(ctx: Arc<ServerContext>, stream: TcpStream, mut shutdown: Shutdown) {
    let (peer, id) = accepted(&ctx, &stream);
    let logged_in = tokio::select! {
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, log_in(&ctx, stream, id, &peer, Port::Admin)) => r,
        _ = shutdown.triggered() => return,
    };
    let mut logged_in = match logged_in {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => {
            debug!(peer = %peer, error = %e, "admin login failed");
            return;
        }
        Err(_) => return,
    };
    if !is_admin(&logged_in.account) {
        ctx.metrics
            .connection_refused(crate::metrics::RefusedReason::NotAdmin);
        info!(peer = %peer, user = %logged_in.response.user, "admin port: account without the admin privilege refused");
        let _: Result<(), _> = fail(&mut logged_in.conn, admin_denied()).await;
        return;
    }
    let mut conn = logged_in.conn;
    conn.set_max_packet(MAX_PACKET);
    write_ok(
        &mut conn,
        &OkPacket {
            status: status::AUTOCOMMIT,
            ..OkPacket::default()
        },
    );
    if conn.flush().await.is_err() {
        return;
    }
    info!(peer = %peer, user = %logged_in.response.user, "admin session opened");
    let format = strata_protocol::ResultFormat::for_client(logged_in.client_caps);
    let mut session = AdminSession { ctx, conn, format };
    if let Err(e) = session.serve(&mut shutdown).await {
        debug!(peer = %peer, error = %e, "admin session ended");
    }
}

struct AdminSession {
    ctx: Arc<ServerContext>,
    conn: PacketConn<ServerStream>,
    format: strata_protocol::ResultFormat,
}

impl AdminSession {
    async fn serve(&mut self, shutdown: &mut Shutdown) -> Result<(), ProtocolError> {
        loop {
            let packet = tokio::select! {
                p = self.conn.read_packet() => p,
                _ = shutdown.triggered() => return Ok(()),
            };
            let packet = match packet {
                Ok(p) => p,
                Err(ProtocolError::ConnectionClosed) => return Ok(()),
                Err(e) => return Err(e),
            };
            let Some((&command, body)) = packet.payload.split_first() else {
                return Err(ProtocolError::Malformed("empty command packet"));
            };
            match command {
                com::QUIT => return Ok(()),
                com::QUERY => {
                    let text = String::from_utf8_lossy(body);
                    self.query(&text).await;
                }
                com::PING | com::INIT_DB | com::RESET_CONNECTION => self.ok(0),
                _ => write_err(&mut self.conn, &MysqlError::unknown_command()),
            }
            self.conn.flush().await?;
        }
    }

    fn ok(&mut self, affected_rows: u64) {
        write_ok(
            &mut self.conn,
            &OkPacket {
                affected_rows,
                status: status::AUTOCOMMIT,
                ..OkPacket::default()
            },
        );
    }

    fn result(&mut self, result: &LocalResult) {
        // The admin port writes text rows only, which cannot fail to encode.
        if let Err(e) = write_result(&mut self.conn, self.format, result, status::AUTOCOMMIT) {
            tracing::warn!(error = %e, "cannot write an admin result");
        }
    }

    async fn query(&mut self, text: &str) {
        let command = match command::parse(text) {
            Ok(c) => c,
            Err(e) => {
                write_err(&mut self.conn, &command_error(&e));
                return;
            }
        };
        let ctx = self.ctx.clone();
        match command {
            Command::Show(view) => {
                let table = views::view(&ctx, view);
                self.result(&table.to_result());
            }
            Command::Variables(names) => {
                let headers: Vec<&str> = names.iter().map(String::as_str).collect();
                let mut r = LocalResult::text(&headers);
                let identity = crate::session::ServerIdentity::of(&ctx);
                let row = names
                    .iter()
                    .map(|n| {
                        let n = n.trim_start_matches('@').to_ascii_lowercase();
                        let n = n
                            .strip_prefix("session.")
                            .or_else(|| n.strip_prefix("global."))
                            .unwrap_or(&n)
                            .to_string();
                        match n.as_str() {
                            "version_comment" => Some(identity.comment.clone()),
                            "version" => Some(identity.version.clone()),
                            "max_allowed_packet" => Some(MAX_PACKET.to_string()),
                            "wait_timeout" | "interactive_timeout" => Some("28800".into()),
                            "autocommit" => Some("1".into()),
                            _ => None,
                        }
                    })
                    .collect();
                r.rows.push(row);
                self.result(&r);
            }
            Command::Kill(ids) => match actions::kill_connections(&ctx, &ids).await {
                Ok(n) => self.ok(n),
                Err(e) => write_err(&mut self.conn, &e),
            },
            Command::Offline => {
                let changed = actions::set_offline(&ctx, true);
                self.ok(u64::from(changed));
            }
            Command::Online => {
                let changed = actions::set_offline(&ctx, false);
                self.ok(u64::from(changed));
            }
            Command::ResetDigests => {
                ctx.stats.reset_digests(&ctx.metrics);
                self.ok(0);
            }
            Command::Switch { dnid, target } => {
                match actions::switch_datasource(&ctx, dnid, target).await {
                    Ok(_) => self.ok(1),
                    Err(e) => write_err(&mut self.conn, &e),
                }
            }
            Command::Rebuild {
                dnid,
                target,
                datadir,
            } => match actions::rebuild_datasource(&ctx, dnid, target, &datadir).await {
                Ok(_) => self.ok(1),
                Err(e) => write_err(&mut self.conn, &e),
            },
            Command::Reload => match actions::reload_config(&ctx) {
                Ok(table) => self.result(&table.to_result()),
                Err(e) => write_err(&mut self.conn, &e),
            },
        }
    }
}
