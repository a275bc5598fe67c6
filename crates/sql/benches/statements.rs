//! Micro-benchmarks of what the session does to every statement before forwarding it:
//! classification, digest normalization and multi-statement splitting, over the
//! statements sysbench's OLTP workloads send.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strata_sql::{classify, normalize_digest, split_statements};

/// One statement of each shape sysbench's oltp_* scripts send (text protocol).
const SYSBENCH: &[(&str, &str)] = &[
    ("point_select", "SELECT c FROM sbtest1 WHERE id=5000"),
    ("simple_range", "SELECT c FROM sbtest3 WHERE id BETWEEN 4970 AND 5069"),
    ("sum_range", "SELECT SUM(k) FROM sbtest2 WHERE id BETWEEN 4970 AND 5069"),
    ("order_range", "SELECT c FROM sbtest4 WHERE id BETWEEN 4970 AND 5069 ORDER BY c"),
    ("distinct_range", "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 4970 AND 5069 ORDER BY c"),
    ("index_update", "UPDATE sbtest2 SET k=k+1 WHERE id=5021"),
    (
        "non_index_update",
        "UPDATE sbtest3 SET c='21347998765-20136373462-05476355467-90863580473-38567931372-41394591929-02624302522-02512218451-48592880183-15370390963' WHERE id=4999",
    ),
    ("delete", "DELETE FROM sbtest4 WHERE id=5002"),
    (
        "insert",
        "INSERT INTO sbtest4 (id, k, c, pad) VALUES (5002, 4988, '83868641912-28773972837-60736120486-75162659906-27563526494-20381887404-41576422241-93426793964-56405065102-33518432330', '67847967377-48000963322-62604785301-91415491898-96926520291')",
    ),
    ("begin", "BEGIN"),
    ("commit", "COMMIT"),
];

/// Benchmarks `f` on each of the sysbench statements, as the group `name`.
fn per_statement<R>(c: &mut Criterion, name: &str, f: impl Fn(&str) -> R) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    for (name, sql) in SYSBENCH {
        group.bench_function(*name, |b| b.iter(|| f(black_box(sql))));
    }
    group.finish();
}

fn classify_bench(c: &mut Criterion) {
    per_statement(c, "classify", classify);
}

fn digest_bench(c: &mut Criterion) {
    per_statement(c, "normalize_digest", normalize_digest);
}

fn split_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("split_statements");
    group.bench_function("point_select_single", |b| {
        b.iter(|| split_statements(black_box(SYSBENCH[0].1)).len())
    });
    let transaction: String = SYSBENCH
        .iter()
        .map(|(_, sql)| format!("{sql};"))
        .collect::<Vec<_>>()
        .join(" ");
    group.bench_function("read_write_transaction_11_statements", |b| {
        b.iter(|| split_statements(black_box(&transaction)).len())
    });
    group.finish();
}

criterion_group!(benches, classify_bench, digest_bench, split_bench);
criterion_main!(benches);
