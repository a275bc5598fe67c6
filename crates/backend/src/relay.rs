//! Streams a storage node's response to a client without decoding rows.
//!
//! Storage-node connections always use the classic EOF format (no DEPRECATE_EOF); the
//! EOF after column definitions and the closing EOF are written anew in the client's
//! format by `strata_protocol::ResultSetWriter` (for a client with DEPRECATE_EOF: none
//! after the definitions, an OK packet with header 0xfe at the end). Sequence ids are
//! renumbered into the client's sequence, so packets can be dropped or added. Only the
//! first byte of each packet and the terminators are inspected; rows are copied.

use tokio::io::{AsyncRead, AsyncWrite};

use strata_protocol::codec::frame_is_continued;
use strata_protocol::constants::status;
use strata_protocol::packets::{ColumnDef, ErrPacket, OkHead, EOF_HEADER, ERR_HEADER, OK_HEADER};
use strata_protocol::wire::Reader;
use strata_protocol::{Frame, PacketConn, ProtocolError, ResultFormat};

/// Flush the client's buffer once this much is pending, so large results stream.
const FLUSH_AT: usize = 64 * 1024;

/// What the relayed response told us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayOutcome {
    /// Status flags of the last OK/EOF.
    pub status: u16,
    /// Affected rows of the last OK.
    pub affected_rows: u64,
    /// Insert id of the last OK (0 when none).
    pub last_insert_id: u64,
    /// Warnings of the last OK/EOF.
    pub warnings: u16,
    /// The storage node's error, already forwarded to the client.
    pub error: Option<ErrPacket>,
    /// Result sets (with columns) that were relayed.
    pub result_sets: u32,
    /// Rows relayed, over all result sets.
    pub rows: u64,
    /// The final OK payload, not written to the client (`RelayMode::hold_final_ok`),
    /// its status flags already adapted.
    pub held_ok: Option<Vec<u8>>,
}

/// Which response shape the command produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// COM_QUERY: OK, ERR or result sets, possibly several. A result set always has
    /// its rows (MariaDB flags SERVER_STATUS_CURSOR_EXISTS on a SELECT run while a
    /// stored program's cursor is open: the rows still follow).
    Results,
    /// COM_STMT_EXECUTE asking for a cursor: as `Results`, and a result set flagged
    /// SERVER_STATUS_CURSOR_EXISTS opened one: no rows follow until COM_STMT_FETCH.
    Execute,
    /// COM_FIELD_LIST: column definitions closed by EOF.
    FieldList,
}

/// A physical database name to show under its logical name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRename {
    /// Name on the storage node.
    pub physical: std::sync::Arc<str>,
    /// Name the client knows.
    pub logical: std::sync::Arc<str>,
}

impl SchemaRename {
    /// Rewrites the physical name where a storage node's error message quotes it.
    pub fn rewrite_message(&self, message: &str) -> String {
        let (p, l) = (&*self.physical, &*self.logical);
        message
            .replace(&format!("'{p}."), &format!("'{l}."))
            .replace(&format!("'{p}'"), &format!("'{l}'"))
            .replace(&format!("`{p}`"), &format!("`{l}`"))
    }

    /// Renames the schema of a column definition when it is the physical database.
    pub fn rename_column(&self, def: &mut ColumnDef) -> bool {
        if *def.schema == *self.physical {
            def.schema = self.logical.to_string();
            true
        } else {
            false
        }
    }
}

/// How the relay adapts packets for the client.
#[derive(Debug, Clone, Copy)]
pub struct RelayMode<'a> {
    /// How the client takes result sets (the EOF packets it expects).
    pub format: ResultFormat,
    /// Set MORE_RESULTS_EXISTS on the final terminator (more statements follow).
    pub more_results_follow: bool,
    /// Physical database name to hide from column definitions and error messages.
    pub rename: Option<&'a SchemaRename>,
    /// Status bits the compute node decides itself, as (mask, value): the bits in
    /// `mask` of every final OK/EOF are replaced by those of `value` (a transaction the
    /// compute node coordinates is open, or autocommit is off, whatever the storage
    /// connection says).
    pub status_override: (u16, u16),
    /// Set by the compute node's deadlock detector when it interrupted this session's
    /// statement to break a deadlock spanning data nodes: the storage node's
    /// "interrupted" error then reaches the client as the deadlock error MySQL gives.
    pub deadlock_victim: Option<&'a std::sync::atomic::AtomicBool>,
    /// Keep a final OK packet in `RelayOutcome::held_ok` instead of writing it: the
    /// compute node completes it (session state it tracks) and writes it itself.
    pub hold_final_ok: bool,
    /// A storage-node error the client gets as another: MariaDB words some errors
    /// without the row values they would show an account lacking SELECT.
    pub swap_error: Option<&'a ErrorSwap>,
}

/// An error code of the storage node and the error the client gets instead.
#[derive(Debug)]
pub struct ErrorSwap {
    /// The storage node's error number.
    pub code: u16,
    /// What the client gets.
    pub with: fn() -> ErrPacket,
}

/// Failures while relaying: the storage node's connection broke or spoke nonsense.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading from the storage node failed.
    #[error("storage node: {0}")]
    Backend(ProtocolError),
    /// Writing to the client failed.
    #[error("client: {0}")]
    Client(ProtocolError),
}

struct Relay<'a, B, C> {
    backend: &'a mut PacketConn<B>,
    client: &'a mut PacketConn<C>,
    mode: RelayMode<'a>,
    out: RelayOutcome,
    /// The command may open a cursor (COM_STMT_EXECUTE).
    cursors: bool,
}

impl<B, C> Relay<'_, B, C>
where
    B: AsyncRead + AsyncWrite + Unpin,
    C: AsyncRead + AsyncWrite + Unpin,
{
    async fn frame(&mut self) -> Result<Frame, RelayError> {
        self.backend.next_frame().await.map_err(RelayError::Backend)
    }

    async fn forward(&mut self, frame: &Frame) -> Result<(), RelayError> {
        self.client.write_frame(&frame.bytes);
        if self.client.pending_write() >= FLUSH_AT {
            self.client.flush().await.map_err(RelayError::Client)?;
        }
        Ok(())
    }

    /// Forwards a packet that may span several frames.
    async fn forward_packet(&mut self, first: Frame) -> Result<(), RelayError> {
        let mut continued = first.is_continued();
        self.forward(&first).await?;
        while continued {
            let next = self.frame().await?;
            continued = next.is_continued();
            self.forward(&next).await?;
        }
        Ok(())
    }

    /// Writes the closing EOF of a result set in the client's format.
    fn write_terminator(&mut self, warnings: u16, flags: u16) {
        let flags = final_flags(&self.mode, flags);
        self.mode.format.writer(self.client).end(warnings, flags);
    }

    fn forward_error(&mut self, frame: &Frame) -> Result<(), RelayError> {
        let mut err = ErrPacket::decode(frame.payload()).map_err(RelayError::Backend)?;
        let victim = self
            .mode
            .deadlock_victim
            .is_some_and(|v| v.load(std::sync::atomic::Ordering::Acquire));
        if victim && err.code == QUERY_INTERRUPTED {
            err = deadlock_error();
            self.client.write_with(|b| err.encode(b));
            self.out.error = Some(err);
            return Ok(());
        }
        if let Some(swap) = self.mode.swap_error.filter(|s| s.code == err.code) {
            err = (swap.with)();
            self.client.write_with(|b| err.encode(b));
            self.out.error = Some(err);
            return Ok(());
        }
        match self.mode.rename {
            Some(rename) => {
                err.message = rename.rewrite_message(&err.message);
                self.client.write_with(|b| err.encode(b));
            }
            None => self.client.write_frame(&frame.bytes),
        }
        self.out.error = Some(err);
        Ok(())
    }

    /// Forwards a column definition, renaming its schema when asked.
    async fn forward_column(&mut self, frame: Frame) -> Result<(), RelayError> {
        if let Some(rename) = self.mode.rename {
            if !frame.is_continued() {
                let mut def = ColumnDef::decode(frame.payload()).map_err(RelayError::Backend)?;
                if rename.rename_column(&mut def) {
                    self.client.write_with(|b| def.encode(b));
                    return Ok(());
                }
            }
        }
        self.forward_packet(frame).await
    }

    async fn run(mut self, kind: ResponseKind) -> Result<RelayOutcome, RelayError> {
        if kind == ResponseKind::FieldList {
            self.columns_until_eof().await?;
            return Ok(self.out);
        }
        loop {
            let frame = peek(self.backend).await?;
            let payload = &frame[4..];
            let more = match payload.first().copied() {
                Some(OK_HEADER) => {
                    let ok = OkHead::decode(payload).map_err(RelayError::Backend)?;
                    // Copied as received, only the status flags patched in place.
                    let flags = final_flags(&self.mode, ok.status).to_le_bytes();
                    let at = ok.status_offset;
                    let patch = |p: &mut [u8]| {
                        if let Some(status) = p.get_mut(at..at + 2) {
                            status.copy_from_slice(&flags);
                        }
                    };
                    if self.mode.hold_final_ok && ok.status & status::MORE_RESULTS_EXISTS == 0 {
                        let mut held = payload.to_vec();
                        patch(&mut held);
                        self.out.held_ok = Some(held);
                    } else {
                        self.client.write_frame_patched(frame, patch);
                    }
                    self.backend.consume_frame();
                    self.out.status = ok.status;
                    self.out.affected_rows = ok.affected_rows;
                    self.out.last_insert_id = ok.last_insert_id;
                    self.out.warnings = ok.warnings;
                    ok.status & status::MORE_RESULTS_EXISTS != 0
                }
                Some(ERR_HEADER) => {
                    let frame = self.frame().await?;
                    self.forward_error(&frame)?;
                    false
                }
                Some(_) => {
                    let columns = Reader::new(payload)
                        .lenenc("column count")
                        .map_err(RelayError::Backend)?;
                    self.client.write_frame(frame);
                    self.backend.consume_frame();
                    self.result_set(columns).await?
                }
                None => {
                    return Err(RelayError::Backend(ProtocolError::Malformed(
                        "empty response packet",
                    )))
                }
            };
            if !more {
                return Ok(self.out);
            }
        }
    }

    /// Relays one result set after its column count; returns whether more results follow.
    async fn result_set(&mut self, columns: u64) -> Result<bool, RelayError> {
        for _ in 0..columns {
            self.column().await?;
        }
        let frame = peek(self.backend).await?;
        let payload = &frame[4..];
        if !strata_protocol::packets::is_eof(payload) {
            return Err(RelayError::Backend(ProtocolError::Malformed(
                "missing EOF after column definitions",
            )));
        }
        let (warnings, flags) = eof_fields(payload)?;
        if self.cursors && flags & status::CURSOR_EXISTS != 0 {
            // An opened cursor: no rows follow until COM_STMT_FETCH.
            self.backend.consume_frame();
            self.write_terminator(warnings, flags);
            self.out.status = flags;
            self.out.result_sets += 1;
            return Ok(false);
        }
        self.backend.consume_frame();
        self.mode
            .format
            .writer(self.client)
            .end_columns(warnings, flags);
        self.rows().await
    }

    /// Relays one column definition, renaming its schema when asked.
    async fn column(&mut self) -> Result<(), RelayError> {
        let frame = peek(self.backend).await?;
        if let Some(rename) = self.mode.rename {
            if !frame_is_continued(frame) {
                let mut def = ColumnDef::decode(&frame[4..]).map_err(RelayError::Backend)?;
                if rename.rename_column(&mut def) {
                    self.backend.consume_frame();
                    self.client.write_with(|b| def.encode(b));
                    return Ok(());
                }
            }
        }
        self.pass_frame().await
    }

    /// Copies the buffered frame to the client as it is, and the rest of its packet when
    /// it continues over several frames.
    async fn pass_frame(&mut self) -> Result<(), RelayError> {
        let frame = peek(self.backend).await?;
        let continued = frame_is_continued(frame);
        self.client.write_frame(frame);
        self.backend.consume_frame();
        if continued {
            let next = self.frame().await?;
            self.forward_packet(next).await?;
        }
        if self.client.pending_write() >= FLUSH_AT {
            self.client.flush().await.map_err(RelayError::Client)?;
        }
        Ok(())
    }

    /// Relays rows until the closing EOF or an error; returns whether more results follow.
    async fn rows(&mut self) -> Result<bool, RelayError> {
        loop {
            let frame = peek(self.backend).await?;
            let payload = &frame[4..];
            match payload.first().copied() {
                Some(EOF_HEADER) if payload.len() < 9 => {
                    let (warnings, flags) = eof_fields(payload)?;
                    self.backend.consume_frame();
                    self.write_terminator(warnings, flags);
                    self.out.status = flags;
                    self.out.warnings = warnings;
                    self.out.result_sets += 1;
                    return Ok(flags & status::MORE_RESULTS_EXISTS != 0);
                }
                Some(ERR_HEADER) => {
                    let frame = self.frame().await?;
                    self.forward_error(&frame)?;
                    return Ok(false);
                }
                _ => {
                    self.out.rows += 1;
                    self.pass_frame().await?
                }
            }
        }
    }

    /// COM_FIELD_LIST and COM_STMT_FETCH-style responses: packets until EOF or ERR.
    async fn columns_until_eof(&mut self) -> Result<(), RelayError> {
        loop {
            let frame = self.frame().await?;
            let payload = frame.payload();
            match payload.first().copied() {
                Some(EOF_HEADER) if payload.len() < 9 => {
                    let (warnings, flags) = eof_fields(payload)?;
                    self.write_terminator(warnings, flags);
                    self.out.status = flags;
                    return Ok(());
                }
                Some(ERR_HEADER) => return self.forward_error(&frame),
                _ => self.forward_column(frame).await?,
            }
        }
    }
}

/// The next whole frame of `backend`, left in its buffer (a free function, so the
/// relay can write it into the client's buffer while holding it).
async fn peek<B: AsyncRead + AsyncWrite + Unpin>(
    backend: &mut PacketConn<B>,
) -> Result<&[u8], RelayError> {
    backend.peek_frame().await.map_err(RelayError::Backend)
}

/// The status flags a final OK/EOF carries to the client: the compute node's own bits
/// (`status_override`), MORE_RESULTS when more statements follow.
fn final_flags(mode: &RelayMode<'_>, flags: u16) -> u16 {
    let (mask, value) = mode.status_override;
    // Storage connections do not negotiate SESSION_TRACK: what a client is told of its
    // session state is the compute node's to add.
    let flags = ((flags & !mask) | (value & mask)) & !status::SESSION_STATE_CHANGED;
    if mode.more_results_follow {
        flags | status::MORE_RESULTS_EXISTS
    } else {
        flags
    }
}

/// Warnings and status flags of an EOF packet (header 0xfe, then two 2-byte fields).
fn eof_fields(payload: &[u8]) -> Result<(u16, u16), RelayError> {
    match payload {
        [_, w0, w1, s0, s1, ..] => Ok((
            u16::from_le_bytes([*w0, *w1]),
            u16::from_le_bytes([*s0, *s1]),
        )),
        _ => Err(RelayError::Backend(ProtocolError::Malformed(
            "EOF packet shorter than 5 bytes",
        ))),
    }
}

/// Relays the response to a command already sent on `backend` into `client`'s buffer.
/// The caller flushes the client afterwards.
pub async fn relay_response<B, C>(
    backend: &mut PacketConn<B>,
    client: &mut PacketConn<C>,
    kind: ResponseKind,
    mode: RelayMode<'_>,
) -> Result<RelayOutcome, RelayError>
where
    B: AsyncRead + AsyncWrite + Unpin,
    C: AsyncRead + AsyncWrite + Unpin,
{
    Relay {
        backend,
        client,
        mode,
        out: RelayOutcome::default(),
        cursors: kind == ResponseKind::Execute,
    }
    .run(kind)
    .await
}

/// Relays the rows of a COM_STMT_FETCH (rows then EOF, or ERR).
pub async fn relay_fetch<B, C>(
    backend: &mut PacketConn<B>,
    client: &mut PacketConn<C>,
    mode: RelayMode<'_>,
) -> Result<RelayOutcome, RelayError>
where
    B: AsyncRead + AsyncWrite + Unpin,
    C: AsyncRead + AsyncWrite + Unpin,
{
    let mut relay = Relay {
        backend,
        client,
        mode,
        out: RelayOutcome::default(),
        cursors: false,
    };
    relay.rows().await?;
    Ok(relay.out)
}

/// ER_QUERY_INTERRUPTED, what a storage node answers to a statement stopped by KILL QUERY.
const QUERY_INTERRUPTED: u16 = 1317;

/// ER_LOCK_DEADLOCK as MySQL words it.
pub fn deadlock_error() -> ErrPacket {
    ErrPacket {
        code: 1213,
        state: *b"40001",
        message: "Deadlock found when trying to get lock; try restarting transaction".into(),
    }
}
