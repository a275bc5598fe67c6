//! Per-transaction-type counts and latencies of a run, merged over terminals, and their
//! summary (mean and percentiles over every transaction's latency, kept in memory: a
//! 10-minute run holds a few hundred thousand numbers).

use super::txn::Kind;
use std::fmt::Write;
use std::time::Duration;

/// One transaction type's record.
#[derive(Debug, Clone, Default)]
pub struct TypeStats {
    /// Latencies in microseconds of the transactions that finished (committed or rolled
    /// back on purpose), including their retries.
    pub latencies_us: Vec<u64>,
    /// Of those, rolled back on purpose.
    pub rolled_back: u64,
    /// Of those, touching a second warehouse.
    pub remote: u64,
    /// Retries after a deadlock (1213) or lock wait timeout (1205).
    pub retries: u64,
    /// Transactions that ended with any other error.
    pub errors: u64,
}

/// The records of all five types.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Indexed by `Kind::index`.
    pub by_kind: [TypeStats; 5],
}

impl Stats {
    /// Adds another terminal's records.
    pub fn merge(&mut self, other: Stats) {
        for (mine, theirs) in self.by_kind.iter_mut().zip(other.by_kind) {
            mine.latencies_us.extend(theirs.latencies_us);
            mine.rolled_back += theirs.rolled_back;
            mine.remote += theirs.remote;
            mine.retries += theirs.retries;
            mine.errors += theirs.errors;
        }
    }

    /// Errors other than retried deadlocks and lock wait timeouts, over all types.
    pub fn errors(&self) -> u64 {
        self.by_kind.iter().map(|t| t.errors).sum()
    }

    /// New-Orders per minute over `elapsed` (rolled-back ones count, spec 5.4.1).
    pub fn tpmc(&self, elapsed: Duration) -> f64 {
        let n = self.by_kind[Kind::NewOrder.index()].latencies_us.len() as f64;
        n * 60.0 / elapsed.as_secs_f64().max(1e-9)
    }

    /// A tab-separated table: a `tpmC` line, an `elapsed_s` line, then one line per type
    /// with count, rolled back, remote (a second warehouse), mean/p50/p95/p99 latency in
    /// ms, retries and errors.
    pub fn to_tsv(&mut self, elapsed: Duration) -> String {
        let mut out = format!(
            "tpmC\t{:.1}\nelapsed_s\t{:.1}\ntype\tcount\trolled_back\tremote\tmean_ms\tp50_ms\tp95_ms\tp99_ms\tretries\terrors\n",
            self.tpmc(elapsed),
            elapsed.as_secs_f64()
        );
        for kind in Kind::ALL {
            let t = &mut self.by_kind[kind.index()];
            t.latencies_us.sort_unstable();
            let n = t.latencies_us.len();
            let ms = |us: u64| us as f64 / 1000.0;
            let pct = |p: usize| {
                if n == 0 {
                    0.0
                } else {
                    ms(t.latencies_us[((n * p).div_ceil(100)).clamp(1, n) - 1])
                }
            };
            let mean = if n == 0 {
                0.0
            } else {
                ms(t.latencies_us.iter().sum::<u64>()) / n as f64
            };
            let _ = writeln!(
                out,
                "{}\t{n}\t{}\t{}\t{mean:.2}\t{:.2}\t{:.2}\t{:.2}\t{}\t{}",
                kind.name(),
                t.rolled_back,
                t.remote,
                pct(50),
                pct(95),
                pct(99),
                t.retries,
                t.errors
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut s = Stats::default();
        s.by_kind[0].latencies_us = (1..=100).map(|i| i * 1000).collect();
        let tsv = s.to_tsv(Duration::from_secs(60));
        assert!(tsv.starts_with("tpmC\t100.0\n"), "{tsv}");
        assert!(
            tsv.contains("New-Order\t100\t0\t0\t50.50\t50.00\t95.00\t99.00\t0\t0"),
            "{tsv}"
        );
    }
}
