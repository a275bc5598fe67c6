//! Writing result sets to a client in the format it negotiated. A result set is its
//! column count, the column definitions, an EOF after them, the rows, and a closing
//! EOF; a client with `CLIENT_DEPRECATE_EOF` gets no EOF after the definitions and an
//! OK packet (header 0xfe) at the end instead. Rows are in the text protocol, or in the
//! binary protocol when they answer COM_STMT_EXECUTE.
//!
//! `ResultFormat` is that choice, made once from the client's capabilities; it is the
//! only place the capability is tested. `ResultSetWriter` borrows a connection and
//! writes each part straight into its write buffer (no copy of a row outside it).
//! The relay of a storage node's reply uses the same writer for the packets it adapts.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::binary_row::text_row_to_binary;
use crate::constants::cap;
use crate::packets::{encode_eof, encode_text_row, ColumnDef, OkPacket, EOF_HEADER};
use crate::wire::put_lenenc_int;
use crate::{PacketConn, ProtocolError};

/// How result sets are written to one client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultFormat {
    /// The client negotiated `CLIENT_DEPRECATE_EOF`.
    deprecate_eof: bool,
    /// Rows go out in the binary protocol.
    binary: bool,
}

impl ResultFormat {
    /// The format a client with `capabilities` expects, with text rows.
    pub fn for_client(capabilities: u32) -> Self {
        Self {
            deprecate_eof: capabilities & cap::DEPRECATE_EOF != 0,
            binary: false,
        }
    }

    /// The same format with rows in the binary protocol (an answer to COM_STMT_EXECUTE).
    pub fn binary(self) -> Self {
        Self {
            binary: true,
            ..self
        }
    }

    /// True when rows go out in the binary protocol.
    pub fn is_binary(self) -> bool {
        self.binary
    }

    /// A writer of result sets in this format on `conn`.
    pub fn writer<S>(self, conn: &mut PacketConn<S>) -> ResultSetWriter<'_, S> {
        ResultSetWriter { conn, format: self }
    }
}

/// Writes the parts of result sets into a connection's write buffer; the caller
/// flushes. Cheap to make: code that must let go of the connection between rows makes
/// a new one for the next part.
pub struct ResultSetWriter<'c, S> {
    conn: &'c mut PacketConn<S>,
    format: ResultFormat,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ResultSetWriter<'_, S> {
    /// The column count that opens a result set.
    pub fn column_count(&mut self, count: usize) {
        self.conn.write_with(|b| put_lenenc_int(b, count as u64));
    }

    /// One column definition.
    pub fn column(&mut self, def: &ColumnDef) {
        self.conn.write_with(|b| def.encode(b));
    }

    /// The column count and every definition.
    pub fn columns<'d>(&mut self, defs: impl ExactSizeIterator<Item = &'d ColumnDef>) {
        self.column_count(defs.len());
        for def in defs {
            self.column(def);
        }
    }

    /// Closes a block of column (or parameter) definitions: an EOF packet, or nothing
    /// for a client with `CLIENT_DEPRECATE_EOF`.
    pub fn end_columns(&mut self, warnings: u16, status: u16) {
        if !self.format.deprecate_eof {
            self.conn.write_with(|b| encode_eof(b, warnings, status));
        }
    }

    /// One row given in the text protocol (length-encoded values, 0xfb for NULL), as
    /// storage nodes and the merge operators produce them; converted by `columns`'
    /// types when the format is binary. Nothing is written when the row does not fit
    /// `columns`.
    pub fn row(&mut self, text_row: &[u8], columns: &[ColumnDef]) -> Result<(), ProtocolError> {
        if self.format.binary {
            self.conn
                .try_write_with(|b| text_row_to_binary(text_row, columns, b))
        } else {
            self.conn.write_packet(text_row);
            Ok(())
        }
    }

    /// One row of values (None is NULL), in the format's protocol.
    pub fn values<'v>(
        &mut self,
        values: impl IntoIterator<Item = Option<&'v [u8]>>,
        columns: &[ColumnDef],
    ) -> Result<(), ProtocolError> {
        if self.format.binary {
            // Rare (a locally answered statement run as a prepared statement): the text
            // form is built first and converted.
            let mut text = BytesMut::new();
            encode_text_row(&mut text, values);
            self.conn
                .try_write_with(|b| text_row_to_binary(&text, columns, b))
        } else {
            self.conn.write_with(|b| encode_text_row(b, values));
            Ok(())
        }
    }

    /// Closes a result set: an EOF packet, or for a client with `CLIENT_DEPRECATE_EOF`
    /// an OK packet with header 0xfe. Also the whole answer of commands that reply with
    /// a bare EOF (COM_SET_OPTION, the end of COM_FIELD_LIST and COM_STMT_FETCH).
    pub fn end(&mut self, warnings: u16, status: u16) {
        if self.format.deprecate_eof {
            let ok = OkPacket {
                status,
                warnings,
                ..OkPacket::default()
            };
            self.conn.write_with(|b| ok.encode(b, EOF_HEADER));
        } else {
            self.conn.write_with(|b| encode_eof(b, warnings, status));
        }
    }

    /// Bytes waiting in the connection's write buffer.
    pub fn pending_write(&self) -> usize {
        self.conn.pending_write()
    }

    /// Writes out what is buffered (for long results, so they stream).
    pub async fn flush(&mut self) -> Result<(), ProtocolError> {
        self.conn.flush().await
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::constants::coltype;

    /// The payloads a writer produced, in order.
    async fn written(
        format: ResultFormat,
        write: impl FnOnce(&mut ResultSetWriter<'_, tokio::io::DuplexStream>),
    ) -> Vec<Vec<u8>> {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut conn = PacketConn::new(a, 1 << 20);
        write(&mut format.writer(&mut conn));
        conn.flush().await.expect("flush");
        drop(conn);
        let mut all = Vec::new();
        b.read_to_end(&mut all).await.expect("read");
        let mut packets = Vec::new();
        let mut rest = &all[..];
        let mut seq = 0u8;
        while rest.len() >= 4 {
            let len = usize::from(rest[0]) | usize::from(rest[1]) << 8 | usize::from(rest[2]) << 16;
            assert_eq!(rest[3], seq, "sequence ids follow each other");
            seq = seq.wrapping_add(1);
            packets.push(rest[4..4 + len].to_vec());
            rest = &rest[4 + len..];
        }
        packets
    }

    fn int_column() -> ColumnDef {
        ColumnDef::bigint("n", false)
    }

    fn one_row_result(w: &mut ResultSetWriter<'_, tokio::io::DuplexStream>) {
        let cols = [int_column()];
        w.columns(cols.iter());
        w.end_columns(0, 2);
        w.values([Some(&b"7"[..])], &cols).expect("row");
        w.end(1, 2);
    }

    #[tokio::test]
    async fn classic_clients_get_an_eof_after_the_columns_and_at_the_end() {
        let packets = written(ResultFormat::for_client(0), one_row_result).await;
        let mut col = BytesMut::new();
        int_column().encode(&mut col);
        assert_eq!(
            packets,
            vec![
                vec![1],
                col.to_vec(),
                vec![0xfe, 0, 0, 2, 0],
                vec![1, b'7'],
                vec![0xfe, 1, 0, 2, 0],
            ]
        );
    }

    #[tokio::test]
    async fn deprecate_eof_clients_get_no_eof_after_the_columns_and_an_ok_at_the_end() {
        let format = ResultFormat::for_client(cap::DEPRECATE_EOF);
        let packets = written(format, one_row_result).await;
        assert_eq!(packets.len(), 4);
        assert_eq!(packets[2], vec![1, b'7']);
        // OK with header 0xfe: no affected rows, no insert id, status, warnings.
        assert_eq!(packets[3], vec![0xfe, 0, 0, 2, 0, 1, 0]);
    }

    #[tokio::test]
    async fn binary_rows_are_converted_by_column_type() {
        let format = ResultFormat::for_client(cap::DEPRECATE_EOF).binary();
        let cols = [int_column()];
        let packets = written(format, |w| {
            w.values([Some(&b"7"[..])], &cols).expect("int row");
            w.row(&[0xfb], &cols).expect("NULL row");
        })
        .await;
        assert_eq!(cols[0].col_type, coltype::LONGLONG);
        assert_eq!(packets[0], vec![0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
        // NULL bitmap with the offset of 2 bits the binary protocol uses.
        assert_eq!(packets[1], vec![0, 0b100]);
    }

    #[tokio::test]
    async fn a_row_that_does_not_fit_its_columns_writes_nothing() {
        let format = ResultFormat::for_client(0).binary();
        let cols = [int_column()];
        let packets = written(format, |w| {
            assert!(
                w.row(&[5, b'1'], &cols).is_err(),
                "value shorter than its length"
            );
            assert!(w.values([Some(&b"x"[..])], &cols).is_err(), "not a number");
            w.end(0, 0);
        })
        .await;
        assert_eq!(packets, vec![vec![0xfe, 0, 0, 0, 0]]);
    }
}
