//! What the statement statistics cost: on the session's path (`record`, one copy into
//! the thread's buffer, with the collector folding in the background as in the
//! server), and off it (`collect`, digest and kind per statement, on a background
//! task; and with the digest and kind handed over, as the session does for statements
//! it planned or prepared). The point-select path costs tens of microseconds of CPU per
//! statement; the first number must stay a small fraction of that.

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use strata_catalog::config::{SlowLogConfig, StatisticsConfig};
use strata_server::metrics::Metrics;
use strata_server::stats::{Sample, StatementStats};

const POINT_SELECT: &str = "SELECT c FROM sbtest1 WHERE id=5012";

fn sample(sql: &str) -> Sample<'_> {
    Sample {
        sql,
        digest: None,
        kind: None,
        micros: 180,
        rows: 1,
        error: 0,
        nodes: 1,
        node_mask: 0b10,
        session: 12,
        user: "sbtest",
        db: Some("sbtest"),
    }
}

fn stats() -> Arc<StatementStats> {
    Arc::new(
        StatementStats::new(
            &StatisticsConfig::default(),
            &SlowLogConfig::default(),
            Path::new("/nonexistent"),
        )
        .expect("no file when the slow log is off"),
    )
}

fn record(c: &mut Criterion) {
    let stats = stats();
    let metrics = Arc::new(Metrics::default());
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let (stats, metrics, stop) = (stats.clone(), metrics.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                stats.collect(&metrics);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    c.bench_function("stats_record_point_select", |b| {
        b.iter(|| {
            // The session reads the clock once per statement for its duration.
            let started = Instant::now();
            stats.record(&sample(black_box(POINT_SELECT)));
            black_box(started.elapsed());
        })
    });
    stop.store(true, Ordering::Relaxed);
    let _ = collector.join();
}

fn collect(c: &mut Criterion) {
    let stats = stats();
    let metrics = Metrics::default();
    c.bench_function("stats_collect_point_select_per_1000", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                stats.record(&sample(POINT_SELECT));
            }
            stats.collect(&metrics);
        })
    });
}

fn collect_digested(c: &mut Criterion) {
    let stats = stats();
    let metrics = Metrics::default();
    let digest = strata_sql::normalize_digest(POINT_SELECT).text;
    c.bench_function("stats_collect_digested_point_select_per_1000", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                stats.record(&Sample {
                    digest: Some(&digest),
                    kind: Some(strata_server::metrics::KindGroup::Select),
                    ..sample(POINT_SELECT)
                });
            }
            stats.collect(&metrics);
        })
    });
}

criterion_group!(benches, record, collect, collect_digested);
criterion_main!(benches);
