//! The client's side of a session: its packet connection, what was negotiated at the
//! handshake, and the reply writers that need nothing but the connection and the
//! status flags they are given.

use strata_backend::{RowCounting, SchemaRename};
use strata_protocol::constants::status;
use strata_protocol::packets::OkPacket;
use strata_protocol::stream::ServerStream;
use strata_protocol::{PacketConn, ProtocolError, ResultFormat};

use super::ReplyFormat;
use crate::context::SessionEntry;
use crate::results::{write_err, write_ok, LocalResult};

/// The client connection of one session.
pub(super) struct ClientConn {
    /// Packets to and from the client.
    pub conn: PacketConn<ServerStream>,
    /// Capabilities negotiated at the handshake.
    pub caps: u32,
    /// Scramble in force, for COM_CHANGE_USER.
    pub scramble: [u8; 20],
    /// COM_QUERY may carry several statements (CLIENT_MULTI_STATEMENTS / COM_SET_OPTION).
    pub multi_statements: bool,
    /// The client ended the session with COM_QUIT (otherwise it was aborted).
    pub quit: bool,
    /// The collation id the client announced (handshake or COM_CHANGE_USER): what
    /// COM_RESET_CONNECTION returns the session's character set to.
    pub collation: u8,
    /// Session state tracking (CLIENT_SESSION_TRACK): what the next OK reports.
    pub tracker: super::tracking::Tracker,
}

impl ClientConn {
    /// The kind of storage connection this client's statements run on, so that the
    /// affected rows it is told are those its login asked for (CLIENT_FOUND_ROWS).
    pub fn row_counting(&self) -> RowCounting {
        RowCounting::of_client(self.caps)
    }

    /// How result sets go to this client: its EOF format, binary rows when the reply
    /// asks for them.
    pub fn result_format(&self, reply: ReplyFormat) -> ResultFormat {
        let format = ResultFormat::for_client(self.caps);
        if reply.binary {
            format.binary()
        } else {
            format
        }
    }

    /// An OK packet with `status` (MORE_RESULTS added when `more`).
    pub fn ok(&mut self, affected_rows: u64, warnings: u16, status: u16, more: bool) {
        let ok = OkPacket {
            affected_rows,
            warnings,
            status: with_more(status, more),
            ..OkPacket::default()
        };
        self.write_ok(ok);
    }

    /// Writes `ok` with the session state changes the statement made (and
    /// SERVER_STATUS_DB_DROPPED after it dropped the current database).
    pub fn write_ok(&mut self, mut ok: OkPacket) {
        let (flags, state) = self.tracker.take();
        ok.status |= flags;
        ok.session_state = state;
        write_ok(&mut self.conn, &ok);
    }

    /// An ERR packet, its message speaking of logical names when `rename` is set.
    pub fn err(&mut self, e: &strata_protocol::MysqlError, rename: Option<&SchemaRename>) {
        match rename {
            Some(rename) => {
                let renamed = strata_protocol::MysqlError {
                    message: rename.rewrite_message(&e.message),
                    ..e.clone()
                };
                write_err(&mut self.conn, &renamed);
            }
            None => write_err(&mut self.conn, e),
        }
    }

    /// A result computed locally, in the reply's format; Err when a row cannot be
    /// converted to the binary protocol (nothing else can fail).
    pub fn write_local(
        &mut self,
        result: &LocalResult,
        reply: ReplyFormat,
        status: u16,
    ) -> Result<(), ProtocolError> {
        let format = self.result_format(reply);
        crate::results::write_result(
            &mut self.conn,
            format,
            result,
            with_more(status, reply.more),
        )
    }

    /// A bare EOF in the client's format (COM_SET_OPTION's answer).
    pub fn eof(&mut self, status: u16) {
        let format = self.result_format(ReplyFormat::default());
        format.writer(&mut self.conn).end(0, status);
    }
}

/// `status` with MORE_RESULTS_EXISTS when more results follow.
fn with_more(status: u16, more: bool) -> u16 {
    if more {
        status | status::MORE_RESULTS_EXISTS
    } else {
        status
    }
}

/// SQLSTATEs are `&'static str` in `MysqlError`; intern the ones storage nodes send.
pub(super) fn sqlstate(state: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "HY000", "42000", "42S02", "42S22", "23000", "22001", "22003", "22007", "22012", "21S01",
        "40001", "HY001", "08S01", "28000", "3D000", "42S01", "42S21", "XAE04", "XAE07", "XAE08",
        "XAE09", "01000", "22004", "70100", "25000", "25001", "25006", "0A000", "21000", "22018",
        "23001", "40000",
    ];
    if let Some(k) = KNOWN.iter().find(|k| **k == state) {
        return k;
    }
    // Others (SIGNAL's own, which handlers match) are interned once each, up to a
    // bound a client cannot grow memory past.
    static OTHERS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let valid = state.len() == 5 && state.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return "HY000";
    }
    let mut others = OTHERS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = others.iter().find(|k| **k == state) {
        return k;
    }
    if others.len() >= 4096 {
        return "HY000";
    }
    let interned: &'static str = Box::leak(state.to_string().into_boxed_str());
    others.push(interned);
    interned
}

/// How a relayed reply is adapted for this client (see `RelayMode`).
pub(super) fn relay_mode<'a>(
    rename: &'a Option<SchemaRename>,
    entry: &'a SessionEntry,
    client_caps: u32,
    status_override: (u16, u16),
    more: bool,
) -> strata_backend::RelayMode<'a> {
    strata_backend::RelayMode {
        format: ResultFormat::for_client(client_caps),
        more_results_follow: more,
        rename: rename.as_ref(),
        status_override,
        deadlock_victim: Some(&entry.deadlock_victim),
        hold_final_ok: false,
        swap_error: None,
    }
}
