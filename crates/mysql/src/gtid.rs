//! MariaDB GTID positions (`domain-server-seq,...`, as in `@@gtid_binlog_pos`): which of
//! two positions covers the other and by how many transactions, per replication domain.
//! Failover reads them from heartbeats; the local test nodes wait on them for a replica
//! to catch up.

/// `(domain, sequence)` pairs of a MariaDB GTID position (`domain-server-seq,...`);
/// malformed parts are skipped.
pub fn gtid_sequences(pos: &str) -> Vec<(u32, u64)> {
    pos.split(',')
        .filter_map(|gtid| {
            let mut parts = gtid.trim().split('-');
            let domain = parts.next()?.parse().ok()?;
            let _server: u32 = parts.next()?.parse().ok()?;
            let seq = parts.next()?.parse().ok()?;
            Some((domain, seq))
        })
        .collect()
}

/// Whether position `have` includes everything in `want` (per replication domain).
pub fn gtid_covers(have: &str, want: &str) -> bool {
    let have = gtid_sequences(have);
    gtid_sequences(want)
        .into_iter()
        .all(|(domain, seq)| have.iter().any(|(d, s)| *d == domain && *s >= seq))
}

/// Transactions in `want` that `have` lacks, summed over domains (0 when it has them
/// all): how far a replica is behind in transactions.
pub fn gtid_behind(have: &str, want: &str) -> u64 {
    let have = gtid_sequences(have);
    gtid_sequences(want)
        .into_iter()
        .map(|(domain, seq)| {
            let got = have
                .iter()
                .find(|(d, _)| *d == domain)
                .map_or(0, |(_, s)| *s);
            seq.saturating_sub(got)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_positions_compare_per_domain() {
        assert!(gtid_covers("0-1-10", "0-1-10"));
        assert!(gtid_covers("0-2-11,1-1-3", "0-1-10"));
        assert!(!gtid_covers("0-1-9", "0-1-10"));
        assert!(!gtid_covers("1-1-10", "0-1-1"));
        assert!(gtid_covers("", ""));
        assert!(gtid_covers("0-1-1", ""));
        assert_eq!(gtid_behind("0-1-7", "0-1-10,1-2-3"), 6);
        assert_eq!(gtid_behind("0-1-12", "0-1-10"), 0);
        assert_eq!(gtid_sequences("0-1-5, junk,2-3-x"), vec![(0, 5)]);
    }
}
