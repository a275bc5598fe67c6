//! Micro-benchmark of the pass-through relay: a storage node's response to a sysbench
//! point select (one column, one row) streamed into a client's buffer, for a client with
//! and without DEPRECATE_EOF and with the schema renamed in column definitions (logical
//! and physical database names differ), over in-memory streams.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use strata_backend::relay::{relay_response, RelayMode, ResponseKind, SchemaRename};
use strata_protocol::constants::cap;
use strata_protocol::packets::{encode_eof, encode_text_row};
use strata_protocol::{PacketConn, ResultFormat};

#[path = "../../protocol/benches/sysbench/mod.rs"]
mod sysbench;
use sysbench::{c_value, sbtest_c_column};

/// An in-memory stream: reads return `response` over and over, writes are dropped.
struct MemStream {
    response: Vec<u8>,
    pos: usize,
    written: usize,
}

impl AsyncRead for MemStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.response.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let n = buf.remaining().min(self.response.len() - self.pos);
        let start = self.pos;
        buf.put_slice(&self.response[start..start + n]);
        self.pos = (self.pos + n) % self.response.len();
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn frame(out: &mut Vec<u8>, seq: u8, build: impl FnOnce(&mut BytesMut)) {
    let mut payload = BytesMut::new();
    build(&mut payload);
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_le_bytes()[..3]);
    out.push(seq);
    out.extend_from_slice(&payload);
}

/// MariaDB's classic-EOF response to `SELECT c FROM sbtest1 WHERE id=...`.
fn point_select_response() -> Vec<u8> {
    let col = sbtest_c_column();
    let c = c_value();
    let mut out = Vec::new();
    frame(&mut out, 1, |b| b.put_u8(1));
    frame(&mut out, 2, |b| col.encode(b));
    frame(&mut out, 3, |b| encode_eof(b, 0, 2));
    frame(&mut out, 4, |b| encode_text_row(b, [Some(c.as_slice())]));
    frame(&mut out, 5, |b| encode_eof(b, 0, 2));
    out
}

fn relay(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let response = point_select_response();
    let mut group = c.benchmark_group("relay_point_select");
    group.throughput(Throughput::Elements(1));
    let rename = SchemaRename {
        physical: "sbtest".into(),
        logical: "shop".into(),
    };
    let cases = [
        ("client_classic_eof", 0, None),
        ("client_deprecate_eof", cap::DEPRECATE_EOF, None),
        (
            "client_deprecate_eof_schema_renamed",
            cap::DEPRECATE_EOF,
            Some(&rename),
        ),
    ];
    for (name, client_caps, rename) in cases {
        let mut backend = PacketConn::new(
            MemStream {
                response: response.clone(),
                pos: 0,
                written: 0,
            },
            64 << 20,
        );
        let mut client = PacketConn::new(
            MemStream {
                response: Vec::new(),
                pos: 0,
                written: 0,
            },
            64 << 20,
        );
        let mode = RelayMode {
            format: ResultFormat::for_client(client_caps),
            more_results_follow: false,
            rename,
            status_override: (0, 0),
            deadlock_victim: None,
            hold_final_ok: false,
            swap_error: None,
        };
        // One runtime entry per sample, not per relay: only the relay itself is timed.
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = std::time::Instant::now();
                    for _ in 0..iters {
                        client.set_seq(1);
                        let out =
                            relay_response(&mut backend, &mut client, ResponseKind::Results, mode)
                                .await
                                .expect("relay");
                        client.flush().await.expect("flush");
                        black_box(out.result_sets);
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, relay);
criterion_main!(benches);
