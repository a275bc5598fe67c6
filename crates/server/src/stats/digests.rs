//! The digest table: per normalized statement, how often it ran, how long it took
//! (total, max, and a p99 from a fixed log-scale histogram), its rows, errors and data
//! nodes — what performance_schema's `events_statements_summary_by_digest` keeps. The
//! number of digests is bounded; a new digest beyond the bound evicts the one executed
//! least often.

use std::collections::HashMap;

use serde::Serialize;

/// Histogram buckets: bucket `i` holds times below 2^((i+1)/2) microseconds, so two
/// buckets per doubling, from 1 µs to beyond 15 minutes.
const BUCKETS: usize = 60;

/// One digest's numbers.
#[derive(Debug, Clone)]
struct DigestStats {
    count: u64,
    errors: u64,
    rows: u64,
    total_us: u64,
    max_us: u64,
    nodes: u64,
    histogram: [u32; BUCKETS],
    first_seen_ms: u64,
    last_seen_ms: u64,
}

impl DigestStats {
    fn record(&mut self, e: &Execution) {
        self.count += 1;
        self.errors += u64::from(e.error);
        self.rows += e.rows;
        self.total_us += e.micros;
        self.max_us = self.max_us.max(e.micros);
        self.nodes += u64::from(e.nodes);
        self.histogram[bucket(e.micros)] += 1;
        self.last_seen_ms = e.now_ms;
    }
}

/// A row of `SHOW @@SQL_DIGEST` and `/api/v1/digests`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DigestRow {
    /// The normalized statement text.
    pub digest: String,
    /// Executions.
    pub count: u64,
    /// Executions that returned an error.
    pub errors: u64,
    /// Rows returned or changed, summed.
    pub rows: u64,
    /// Total time, microseconds.
    pub total_us: u64,
    /// Average time, microseconds.
    pub avg_us: u64,
    /// Longest time, microseconds.
    pub max_us: u64,
    /// 99th percentile of the time, microseconds (the upper bound of its histogram
    /// bucket, at most `max_us`).
    pub p99_us: u64,
    /// Data nodes per execution, on average.
    pub nodes_per_execution: f64,
    /// First execution, milliseconds since the Unix epoch.
    pub first_seen_ms: u64,
    /// Latest execution, milliseconds since the Unix epoch.
    pub last_seen_ms: u64,
}

/// One execution to add to a digest's numbers.
#[derive(Debug, Clone, Copy)]
pub struct Execution {
    /// Time taken, microseconds.
    pub micros: u64,
    /// Rows returned or changed.
    pub rows: u64,
    /// Whether it returned an error.
    pub error: bool,
    /// Data nodes it ran on.
    pub nodes: u32,
    /// When it was folded in, milliseconds since the Unix epoch.
    pub now_ms: u64,
}

/// Digests and their numbers.
pub struct DigestTable {
    capacity: usize,
    map: HashMap<String, DigestStats, foldhash::fast::RandomState>,
}

fn bucket(micros: u64) -> usize {
    if micros <= 1 {
        return 0;
    }
    // floor(2 * log2(micros)), from the bit length and the next bit.
    let log = 63 - micros.leading_zeros() as usize;
    let half = if log > 0 && micros & (1 << (log - 1)) != 0 {
        1
    } else {
        0
    };
    (2 * log + half).min(BUCKETS - 1)
}

/// The upper bound (microseconds) of bucket `i`.
fn bucket_bound(i: usize) -> u64 {
    let exp = (i + 1) as f64 / 2.0;
    2f64.powf(exp).ceil() as u64
}

/// Milliseconds since the Unix epoch (read once per collection, not per statement).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl DigestTable {
    /// An empty table holding at most `capacity` digests.
    pub fn new(capacity: usize) -> DigestTable {
        DigestTable {
            capacity: capacity.max(1),
            map: HashMap::default(),
        }
    }

    /// Changes the bound (digests beyond it go at the next new digest).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
    }

    /// Digests tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no digest is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets every digest.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Adds one execution of `digest` (allocates only for a digest not seen before).
    pub fn add(&mut self, digest: &str, e: Execution) {
        // One hash for a digest seen before (every statement but the first of a shape).
        if let Some(s) = self.map.get_mut(digest) {
            s.record(&e);
            return;
        }
        while self.map.len() >= self.capacity {
            let least = self
                .map
                .iter()
                .min_by_key(|(_, s)| (s.count, s.last_seen_ms))
                .map(|(k, _)| k.clone());
            match least {
                Some(k) => self.map.remove(&k),
                None => break,
            };
        }
        let mut s = DigestStats {
            count: 0,
            errors: 0,
            rows: 0,
            total_us: 0,
            max_us: 0,
            nodes: 0,
            histogram: [0; BUCKETS],
            first_seen_ms: e.now_ms,
            last_seen_ms: e.now_ms,
        };
        s.record(&e);
        self.map.insert(digest.to_string(), s);
    }

    /// Every digest, by total time (most first).
    pub fn rows(&self) -> Vec<DigestRow> {
        let mut rows: Vec<DigestRow> = self
            .map
            .iter()
            .map(|(digest, s)| DigestRow {
                digest: digest.clone(),
                count: s.count,
                errors: s.errors,
                rows: s.rows,
                total_us: s.total_us,
                avg_us: s.total_us / s.count.max(1),
                max_us: s.max_us,
                p99_us: percentile(&s.histogram, s.count, 0.99).min(s.max_us),
                nodes_per_execution: s.nodes as f64 / s.count.max(1) as f64,
                first_seen_ms: s.first_seen_ms,
                last_seen_ms: s.last_seen_ms,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.total_us
                .cmp(&a.total_us)
                .then_with(|| a.digest.cmp(&b.digest))
        });
        rows
    }
}

/// The upper bound of the bucket holding the `q` quantile of `count` values.
fn percentile(histogram: &[u32; BUCKETS], count: u64, q: f64) -> u64 {
    let rank = ((count as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0u64;
    for (i, n) in histogram.iter().enumerate() {
        seen += u64::from(*n);
        if seen >= rank {
            return bucket_bound(i);
        }
    }
    bucket_bound(BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_double_every_two_steps() {
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(2), 2);
        assert_eq!(bucket(3), 3);
        assert_eq!(bucket(4), 4);
        assert_eq!(bucket(1024), 20);
        for us in [5u64, 100, 999, 123_456, 10_000_000] {
            assert!(us <= bucket_bound(bucket(us)), "{us}");
            assert!(us * 2 > bucket_bound(bucket(us)), "{us}");
        }
    }

    fn run(micros: u64, rows: u64, error: bool, nodes: u32) -> Execution {
        Execution {
            micros,
            rows,
            error,
            nodes,
            now_ms: 1,
        }
    }

    #[test]
    fn p99_follows_the_slow_tail() {
        let mut t = DigestTable::new(10);
        for _ in 0..98 {
            t.add("q", run(100, 1, false, 1));
        }
        t.add("q", run(50_000, 1, false, 1));
        t.add("q", run(60_000, 1, true, 3));
        let row = &t.rows()[0];
        assert_eq!(row.count, 100);
        assert_eq!(row.errors, 1);
        assert_eq!(row.max_us, 60_000);
        assert!(row.p99_us >= 50_000 && row.p99_us <= 60_000, "{row:?}");
        assert!((row.nodes_per_execution - 1.02).abs() < 1e-9);
    }

    #[test]
    fn the_least_executed_digest_is_evicted() {
        let mut t = DigestTable::new(2);
        t.add("a", run(1, 0, false, 1));
        t.add("a", run(1, 0, false, 1));
        t.add("b", run(1, 0, false, 1));
        t.add("c", run(1, 0, false, 1));
        let mut names: Vec<String> = t.rows().into_iter().map(|r| r.digest).collect();
        names.sort();
        assert_eq!(names, ["a", "c"]);
    }
}
