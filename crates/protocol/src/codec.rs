//! Packet framing over any byte stream: 4-byte headers (3-byte length, sequence id),
//! payloads of 16 MiB - 1 and more split over several frames and joined again.
//!
//! `PacketConn` owns one read buffer and one write buffer. Writes only fill the buffer;
//! the caller flushes once per response, so a whole result set costs one system call
//! where it fits the socket buffer. Relays read raw frames (`next_frame`) and copy them
//! without decoding rows.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::constants::MAX_FRAME_PAYLOAD;
use crate::ProtocolError;

/// Initial capacity of a connection's buffers; grown on demand.
const INITIAL_BUFFER: usize = 8 * 1024;
/// Read buffers larger than this are shrunk back after a large packet.
const SHRINK_ABOVE: usize = 1024 * 1024;

/// One logical packet: its first sequence id and its joined payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Sequence id of the packet's first frame.
    pub seq: u8,
    /// The payload, all frames joined.
    pub payload: Bytes,
}

/// One raw frame as it came off the wire, header included.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Header and payload bytes.
    pub bytes: Bytes,
}

impl Frame {
    /// Payload length from the header.
    pub fn payload_len(&self) -> usize {
        frame_payload_len(&self.bytes)
    }
    /// The payload without its header.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[4..]
    }
    /// Sequence id from the header.
    pub fn seq(&self) -> u8 {
        self.bytes[3]
    }
    /// True when another frame continues this packet.
    pub fn is_continued(&self) -> bool {
        frame_is_continued(&self.bytes)
    }
}

/// True when another frame continues the packet of this raw frame (header included).
pub fn frame_is_continued(frame: &[u8]) -> bool {
    frame.len() >= 4 && frame_payload_len(frame) == MAX_FRAME_PAYLOAD
}

fn frame_payload_len(header: &[u8]) -> usize {
    header[0] as usize | (header[1] as usize) << 8 | (header[2] as usize) << 16
}

/// A position in a connection's output (see [`PacketConn::write_mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMark {
    buffered: usize,
    flushed: u64,
}

/// A framed MySQL connection over a stream `S` with sequence-id bookkeeping.
pub struct PacketConn<S> {
    stream: S,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// Sequence id the next written frame carries.
    seq: u8,
    /// Largest joined payload accepted from the peer.
    max_packet: usize,
    /// Bytes read from the stream so far (the server's `Bytes_received`).
    read_total: u64,
    /// Bytes written to the stream so far (the server's `Bytes_sent`).
    written_total: u64,
    /// While set, what is written is dropped instead of sent (a server's statements
    /// whose replies no client asked for: `init_connect`).
    muted: bool,
    /// Bytes dropped while muted (marks tell a drop from a flush as from a write).
    dropped: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> PacketConn<S> {
    /// Wraps a stream; `max_packet` bounds what `read_packet` accepts.
    pub fn new(stream: S, max_packet: usize) -> Self {
        Self::with_buffer(stream, BytesMut::with_capacity(INITIAL_BUFFER), max_packet)
    }

    /// Wraps a stream whose first bytes were already read into `rbuf`.
    pub fn with_buffer(stream: S, rbuf: BytesMut, max_packet: usize) -> Self {
        Self {
            stream,
            rbuf,
            wbuf: BytesMut::with_capacity(INITIAL_BUFFER),
            seq: 0,
            max_packet,
            read_total: 0,
            written_total: 0,
            muted: false,
            dropped: 0,
        }
    }

    /// Bytes read from the stream since the connection was wrapped.
    pub fn bytes_read(&self) -> u64 {
        self.read_total
    }

    /// Bytes written to the stream since the connection was wrapped.
    pub fn bytes_written(&self) -> u64 {
        self.written_total
    }

    /// Gives back the stream and any bytes read but not consumed (e.g. a TLS ClientHello).
    pub fn into_parts(self) -> (S, BytesMut) {
        (self.stream, self.rbuf)
    }

    /// The underlying stream.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Sequence id the next written frame will carry.
    pub fn seq(&self) -> u8 {
        self.seq
    }

    /// Sets the sequence id of the next written frame (0 starts a new command).
    pub fn set_seq(&mut self, seq: u8) {
        self.seq = seq;
    }

    /// Changes the largest accepted packet (after authentication, from config).
    pub fn set_max_packet(&mut self, max_packet: usize) {
        self.max_packet = max_packet;
    }

    /// The largest accepted packet.
    pub fn max_packet(&self) -> usize {
        self.max_packet
    }

    /// True when unread bytes are buffered (pipelined requests).
    pub fn has_buffered_input(&self) -> bool {
        !self.rbuf.is_empty()
    }

    async fn fill(&mut self, want: usize) -> Result<(), ProtocolError> {
        while self.rbuf.len() < want {
            self.rbuf.reserve(want - self.rbuf.len());
            let n = self.stream.read_buf(&mut self.rbuf).await?;
            self.read_total += n as u64;
            if n == 0 {
                return Err(ProtocolError::ConnectionClosed);
            }
        }
        Ok(())
    }

    /// Reads one raw frame; the next write continues its sequence.
    pub async fn next_frame(&mut self) -> Result<Frame, ProtocolError> {
        self.fill(4).await?;
        let len = frame_payload_len(&self.rbuf);
        self.fill(4 + len).await?;
        let bytes = self.rbuf.split_to(4 + len).freeze();
        self.seq = bytes[3].wrapping_add(1);
        Ok(Frame { bytes })
    }

    /// Waits until a whole frame is buffered and returns it (header included) without
    /// consuming it; `consume_frame` drops it. Relays copy frames from here, so the read
    /// buffer is never split into shared `Bytes` (no reference counting per row).
    pub async fn peek_frame(&mut self) -> Result<&[u8], ProtocolError> {
        self.fill(4).await?;
        let len = 4 + frame_payload_len(&self.rbuf);
        self.fill(len).await?;
        Ok(&self.rbuf[..len])
    }

    /// Drops the frame `peek_frame` returned; the next write continues its sequence.
    pub fn consume_frame(&mut self) {
        if self.rbuf.len() < 4 {
            return;
        }
        let len = (4 + frame_payload_len(&self.rbuf)).min(self.rbuf.len());
        self.seq = self.rbuf[3].wrapping_add(1);
        self.rbuf.advance(len);
    }

    /// Like `next_frame` but only when a whole frame is already buffered.
    pub fn try_buffered_frame(&mut self) -> Option<Frame> {
        if self.rbuf.len() < 4 {
            return None;
        }
        let len = frame_payload_len(&self.rbuf);
        if self.rbuf.len() < 4 + len {
            return None;
        }
        let bytes = self.rbuf.split_to(4 + len).freeze();
        self.seq = bytes[3].wrapping_add(1);
        Some(Frame { bytes })
    }

    /// Reads one logical packet, joining continuation frames; checks sequence ids.
    pub async fn read_packet(&mut self) -> Result<Packet, ProtocolError> {
        // Refuse an oversized first frame before buffering it (up to 16 MiB otherwise).
        self.fill(4).await?;
        if frame_payload_len(&self.rbuf) > self.max_packet {
            return Err(ProtocolError::PacketTooLarge {
                limit: self.max_packet,
            });
        }
        let first = self.next_frame().await?;
        let seq = first.seq();
        if !first.is_continued() {
            let mut bytes = first.bytes;
            bytes.advance(4);
            self.maybe_shrink();
            return Ok(Packet {
                seq,
                payload: bytes,
            });
        }
        let mut joined = BytesMut::with_capacity(MAX_FRAME_PAYLOAD * 2);
        joined.extend_from_slice(first.payload());
        let mut expected = seq.wrapping_add(1);
        loop {
            let frame = self.next_frame().await?;
            if frame.seq() != expected {
                return Err(ProtocolError::SequenceMismatch {
                    expected,
                    got: frame.seq(),
                });
            }
            expected = expected.wrapping_add(1);
            if joined.len() + frame.payload_len() > self.max_packet {
                return Err(ProtocolError::PacketTooLarge {
                    limit: self.max_packet,
                });
            }
            joined.extend_from_slice(frame.payload());
            if !frame.is_continued() {
                break;
            }
        }
        self.maybe_shrink();
        Ok(Packet {
            seq,
            payload: joined.freeze(),
        })
    }

    fn maybe_shrink(&mut self) {
        if self.rbuf.capacity() > SHRINK_ABOVE && self.rbuf.len() < INITIAL_BUFFER {
            let mut fresh = BytesMut::with_capacity(INITIAL_BUFFER);
            fresh.extend_from_slice(&self.rbuf);
            self.rbuf = fresh;
        }
    }

    /// Buffers one packet, split into frames as needed, with the next sequence ids.
    pub fn write_packet(&mut self, payload: &[u8]) {
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_FRAME_PAYLOAD);
            self.wbuf.reserve(4 + n);
            self.wbuf.put_uint_le(n as u64, 3);
            self.wbuf.put_u8(self.seq);
            self.seq = self.seq.wrapping_add(1);
            self.wbuf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if n < MAX_FRAME_PAYLOAD {
                break;
            }
        }
    }

    /// Builds a packet in place in the write buffer: `build` appends the payload.
    /// Saves a copy per packet on hot paths (column definitions, rows).
    pub fn write_with(&mut self, build: impl FnOnce(&mut BytesMut)) {
        let start = self.begin_in_place();
        build(&mut self.wbuf);
        self.end_in_place(start);
    }

    /// Like `write_with` for a payload whose building can fail: on `Err` nothing is
    /// written (what `build` appended is taken back and the sequence id is unchanged).
    pub fn try_write_with<E>(
        &mut self,
        build: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.begin_in_place();
        match build(&mut self.wbuf) {
            Ok(()) => {
                self.end_in_place(start);
                Ok(())
            }
            Err(e) => {
                self.wbuf.truncate(start);
                Err(e)
            }
        }
    }

    /// Reserves the header of a packet built in place; returns where it starts.
    fn begin_in_place(&mut self) -> usize {
        let start = self.wbuf.len();
        self.wbuf.extend_from_slice(&[0, 0, 0, 0]);
        start
    }

    /// Fills in the header reserved at `start`, splitting the payload into frames
    /// when it is too long for one.
    fn end_in_place(&mut self, start: usize) {
        let len = self.wbuf.len() - start - 4;
        if len < MAX_FRAME_PAYLOAD {
            let header = &mut self.wbuf[start..start + 4];
            header[0] = len as u8;
            header[1] = (len >> 8) as u8;
            header[2] = (len >> 16) as u8;
            header[3] = self.seq;
            self.seq = self.seq.wrapping_add(1);
        } else {
            let payload = self.wbuf.split_off(start + 4);
            self.wbuf.truncate(start);
            self.write_packet(&payload);
        }
    }

    /// Appends an already framed frame, rewriting its sequence id to ours.
    pub fn write_frame(&mut self, frame: &[u8]) {
        let start = self.wbuf.len();
        self.wbuf.extend_from_slice(frame);
        self.wbuf[start + 3] = self.seq;
        self.seq = self.seq.wrapping_add(1);
    }

    /// Like `write_frame`, then lets `patch` change the copied payload in place.
    pub fn write_frame_patched(&mut self, frame: &[u8], patch: impl FnOnce(&mut [u8])) {
        let start = self.wbuf.len();
        self.write_frame(frame);
        if let Some(payload) = self.wbuf.get_mut(start + 4..) {
            patch(payload);
        }
    }

    /// Where the next packet written starts (see [`PacketConn::take_back_last`]).
    pub fn write_mark(&self) -> WriteMark {
        WriteMark {
            buffered: self.wbuf.len(),
            flushed: self.written_total + self.dropped,
        }
    }

    /// Takes back the last packet written since `mark` when it is still buffered, a
    /// single frame, and `take` accepts its payload: the payload, with the sequence id
    /// set back to the one it carried. A reply relayed into a larger one (a statement
    /// of a procedure the compute node runs) thus loses its closing OK or ERR.
    pub fn take_back_last(
        &mut self,
        mark: WriteMark,
        take: impl FnOnce(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        // A flush since the mark leaves the buffer starting at a packet boundary.
        let mut pos = if self.written_total + self.dropped == mark.flushed {
            mark.buffered
        } else {
            0
        };
        let mut last = None;
        let mut prev_full = false;
        while pos + 4 <= self.wbuf.len() {
            let h = &self.wbuf[pos..pos + 4];
            let len = frame_payload_len(h);
            last = (!prev_full).then_some(pos);
            prev_full = len == MAX_FRAME_PAYLOAD;
            pos += 4 + len;
        }
        let last = last?;
        if pos != self.wbuf.len() || prev_full {
            return None;
        }
        let payload = self.wbuf[last + 4..].to_vec();
        if !take(&payload) {
            return None;
        }
        self.seq = self.wbuf[last + 3];
        self.wbuf.truncate(last);
        Some(payload)
    }

    /// Bytes waiting in the write buffer.
    pub fn pending_write(&self) -> usize {
        self.wbuf.len()
    }

    /// Drops what is written from now on (`true`) or sends it again (`false`); what
    /// was written while muted is dropped either way.
    pub fn set_muted(&mut self, muted: bool) {
        if self.muted {
            self.dropped += self.wbuf.len() as u64;
            self.wbuf.clear();
        }
        self.muted = muted;
    }

    /// Writes out everything buffered.
    pub async fn flush(&mut self) -> Result<(), ProtocolError> {
        if self.muted {
            self.dropped += self.wbuf.len() as u64;
            self.wbuf.clear();
            return Ok(());
        }
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.written_total += self.wbuf.len() as u64;
            self.wbuf.clear();
            if self.wbuf.capacity() > SHRINK_ABOVE {
                self.wbuf = BytesMut::with_capacity(INITIAL_BUFFER);
            }
        }
        self.stream.flush().await?;
        Ok(())
    }

    /// Flushes and shuts the write side down.
    pub async fn shutdown(&mut self) -> Result<(), ProtocolError> {
        self.flush().await?;
        self.stream.shutdown().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn roundtrip(len: usize) -> Packet {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let expected = payload.clone();
        let writer = tokio::spawn(async move {
            let mut w = PacketConn::new(a, 64 << 20);
            w.set_seq(3);
            w.write_packet(&payload);
            w.flush().await.map(|_| w)
        });
        let mut r = PacketConn::new(b, 64 << 20);
        let packet = r.read_packet().await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(packet.payload.as_ref(), expected.as_slice());
        packet
    }

    #[tokio::test]
    async fn packets_at_and_around_the_16mib_boundary_survive_split_and_join() {
        for len in [
            0,
            1,
            MAX_FRAME_PAYLOAD - 1,
            MAX_FRAME_PAYLOAD,
            MAX_FRAME_PAYLOAD + 1,
            2 * MAX_FRAME_PAYLOAD,
        ] {
            let p = roundtrip(len).await;
            assert_eq!(p.seq, 3, "len {len}");
        }
    }

    #[tokio::test]
    async fn a_payload_of_exactly_16mib_minus_1_is_followed_by_an_empty_frame() {
        let (a, mut b) = tokio::io::duplex(64 << 20);
        let mut w = PacketConn::new(a, 64 << 20);
        w.write_packet(&vec![7u8; MAX_FRAME_PAYLOAD]);
        w.flush().await.unwrap();
        drop(w);
        let mut all = Vec::new();
        b.read_to_end(&mut all).await.unwrap();
        assert_eq!(all.len(), 4 + MAX_FRAME_PAYLOAD + 4);
        assert_eq!(&all[4 + MAX_FRAME_PAYLOAD..], &[0, 0, 0, 1]);
    }

    #[tokio::test]
    async fn write_with_frames_large_payloads_like_write_packet() {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let writer = tokio::spawn(async move {
            let mut w = PacketConn::new(a, 64 << 20);
            w.write_with(|buf| buf.extend_from_slice(&vec![1u8; MAX_FRAME_PAYLOAD + 10]));
            w.write_with(|buf| buf.extend_from_slice(b"next"));
            w.flush().await.unwrap();
        });
        let mut r = PacketConn::new(b, 64 << 20);
        let big = r.read_packet().await.unwrap();
        assert_eq!(big.payload.len(), MAX_FRAME_PAYLOAD + 10);
        let next = r.read_packet().await.unwrap();
        assert_eq!(next.seq, 2);
        assert_eq!(next.payload.as_ref(), b"next");
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn a_packet_over_the_limit_is_refused() {
        let (a, b) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut w = PacketConn::new(a, 64 << 20);
            w.write_packet(&vec![0u8; MAX_FRAME_PAYLOAD + 5]);
            let _ = w.flush().await;
        });
        let mut r = PacketConn::new(b, 1024);
        assert!(matches!(
            r.read_packet().await,
            Err(ProtocolError::PacketTooLarge { .. })
        ));
    }

    #[tokio::test]
    async fn a_single_frame_over_the_limit_is_refused_without_reading_it() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut r = PacketConn::new(a, 100);
        b.write_all(&[101, 0, 0, 0]).await.unwrap();
        assert!(matches!(
            r.read_packet().await,
            Err(ProtocolError::PacketTooLarge { limit: 100 })
        ));
    }

    #[tokio::test]
    async fn a_truncated_stream_is_a_closed_connection_not_a_panic() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut r = PacketConn::new(a, 1024);
        b.write_all(&[10, 0, 0, 0, 1, 2]).await.unwrap();
        drop(b);
        assert!(matches!(
            r.read_packet().await,
            Err(ProtocolError::ConnectionClosed)
        ));
    }
}
