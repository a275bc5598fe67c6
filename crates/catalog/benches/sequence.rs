//! Throughput of the global AUTO_INCREMENT allocator, in process, with batches reserved
//! durably in a redb store in a temporary directory (target: at least 1,000,000
//! values/s). Run: `cargo bench -p strata-catalog --bench sequence`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata_catalog::sequence::Sequences;
use strata_catalog::MetadataStore;

fn allocator(c: &mut Criterion) {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let store = match MetadataStore::open(dir.path()) {
        Ok(store) => Arc::new(store),
        Err(e) => panic!("metadata store: {e}"),
    };
    let seqs = Arc::new(Sequences::new(store));
    let mut group = c.benchmark_group("auto_increment");

    group.throughput(Throughput::Elements(1));
    group.bench_function("next_1_value", |b| {
        b.iter(|| black_box(seqs.next("bench", "single", 1)))
    });

    group.throughput(Throughput::Elements(100));
    group.bench_function("next_100_values", |b| {
        b.iter(|| black_box(seqs.next("bench", "multi", 100)))
    });

    // Two threads inserting into the same table, one value per call.
    const PER_THREAD: u64 = 10_000;
    group.throughput(Throughput::Elements(2 * PER_THREAD));
    group.bench_function("next_1_value_2_threads", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let threads: Vec<_> = (0..2)
                    .map(|_| {
                        let seqs = Arc::clone(&seqs);
                        std::thread::spawn(move || {
                            for _ in 0..PER_THREAD {
                                let _ = black_box(seqs.next("bench", "shared", 1));
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().expect("a benchmark thread panicked");
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, allocator);
criterion_main!(benches);
