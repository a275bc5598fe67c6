//! Micro-benchmarks of the packet codec and the packets on the hot path: framing over an
//! in-memory duplex, OK packets, column definitions and text rows.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strata_protocol::packets::{decode_text_row, encode_text_row, ColumnDef, OkPacket};
use strata_protocol::PacketConn;

mod sysbench;
use sysbench::{c_value, sbtest_c_column};

/// `SELECT c FROM sbtest1 WHERE id=5000` as sysbench sends it.
const POINT_SELECT: &[u8] = b"\x03SELECT c FROM sbtest1 WHERE id=5000";

fn packet_conn(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (a, b) = tokio::io::duplex(64 * 1024);
    let mut writer = PacketConn::new(a, 64 << 20);
    let mut reader = PacketConn::new(b, 64 << 20);
    let mut group = c.benchmark_group("packet_conn");
    group.throughput(Throughput::Elements(1));
    // One runtime entry per sample, not per packet: only the codec work is timed.
    group.bench_function("write_flush_read_query_packet", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    writer.set_seq(0);
                    writer.write_packet(black_box(POINT_SELECT));
                    writer.flush().await.expect("flush");
                    let p = reader.read_packet().await.expect("read");
                    black_box(p.payload.len());
                }
                start.elapsed()
            })
        })
    });
    let row = {
        let mut buf = BytesMut::new();
        encode_text_row(&mut buf, [Some(c_value().as_slice())]);
        buf
    };
    group.bench_function("write_with_flush_next_frame_row", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    writer.write_with(|buf| buf.extend_from_slice(black_box(&row)));
                    writer.flush().await.expect("flush");
                    let f = reader.next_frame().await.expect("read");
                    black_box(f.payload_len());
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn packets(c: &mut Criterion) {
    let mut group = c.benchmark_group("packets");
    let ok = OkPacket {
        affected_rows: 1,
        last_insert_id: 10_001,
        status: 2,
        warnings: 0,
        info: String::new(),
        session_state: Vec::new(),
    };
    let mut buf = BytesMut::with_capacity(256);
    group.bench_function("ok_encode", |bench| {
        bench.iter(|| {
            buf.clear();
            black_box(&ok).encode(&mut buf, 0);
            black_box(buf.len())
        })
    });
    let mut ok_bytes = BytesMut::new();
    ok.encode(&mut ok_bytes, 0);
    group.bench_function("ok_decode", |bench| {
        bench.iter(|| OkPacket::decode(black_box(&ok_bytes)).expect("decode"))
    });

    let col = sbtest_c_column();
    group.bench_function("column_def_encode", |bench| {
        bench.iter(|| {
            buf.clear();
            black_box(&col).encode(&mut buf);
            black_box(buf.len())
        })
    });
    let mut col_bytes = BytesMut::new();
    col.encode(&mut col_bytes);
    group.bench_function("column_def_decode", |bench| {
        bench.iter(|| ColumnDef::decode(black_box(&col_bytes)).expect("decode"))
    });

    let c = c_value();
    let k = b"4993".to_vec();
    let pad = b"67847967377-48000963322-62604785301-91415491898-96926520291".to_vec();
    group.bench_function("text_row_encode_4_columns", |bench| {
        bench.iter(|| {
            buf.clear();
            encode_text_row(
                &mut buf,
                [
                    Some(b"5000".as_slice()),
                    Some(k.as_slice()),
                    Some(c.as_slice()),
                    None,
                ]
                .into_iter()
                .chain([Some(pad.as_slice())]),
            );
            black_box(buf.len())
        })
    });
    let mut row_bytes = BytesMut::new();
    encode_text_row(
        &mut row_bytes,
        [Some(b"5000".as_slice()), Some(&k), Some(&c), Some(&pad)],
    );
    group.bench_function("text_row_decode_4_columns", |bench| {
        bench.iter(|| {
            decode_text_row(black_box(&row_bytes), 4)
                .expect("decode")
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, packet_conn, packets);
criterion_main!(benches);
