//! `FLUSH`: which of its forms act on what a client owns. `FLUSH STATUS` resets the
//! counters of the session's own storage connection and `FLUSH TABLE[S] [t, ...]`
//! closes and reopens tables (both need Strata's RELOAD privilege); `FLUSH HOSTS` and
//! `FLUSH PRIVILEGES` act on Strata's own host cache and accounts.
//! `FLUSH TABLES WITH READ LOCK` takes the compute node's own global read lock. The
//! forms that would take locks on a storage server (`FLUSH TABLES t WITH READ LOCK`,
//! `FOR EXPORT`) and the server-wide ones (logs, statistics, ...) are not the client's.
//! `FLUSH QUERY CACHE` and `RESET QUERY CACHE` (RELOAD) only defragment or empty the
//! storage servers' query caches: no data is shown or changed, so the session runs them
//! on every storage server.

use crate::lexer::{code_tokens, TokenKind};

/// What a `FLUSH` statement acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// `FLUSH STATUS`: the session's status counters.
    Status,
    /// `FLUSH TABLE[S] [t, ...]`; `named` when it lists tables.
    Tables {
        /// True when the statement names its tables.
        named: bool,
    },
    /// `FLUSH TABLE[S] WITH READ LOCK` (no table named): the compute node's global read
    /// lock.
    GlobalReadLock,
    /// `FLUSH TABLE[S] t ... WITH READ LOCK` or `... FOR EXPORT`: locks on a storage server.
    TablesLocked,
    /// `FLUSH HOSTS`: the compute node's blocked addresses.
    Hosts,
    /// `FLUSH QUERY CACHE` (defragments) or, with `reset`, `RESET QUERY CACHE` (empties).
    QueryCache {
        /// True for `RESET QUERY CACHE`.
        reset: bool,
    },
    /// Any other form (logs, caches, several options, ...): a storage server's as a whole.
    ServerWide,
}

/// The form of a `FLUSH` statement (or `RESET QUERY CACHE`, a [`Flush::QueryCache`]);
/// None when `sql` is not one.
pub fn flush_kind(sql: &str) -> Option<Flush> {
    let toks: Vec<_> = code_tokens(sql).collect();
    let is = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if is(0, "RESET") {
        return (toks.len() == 3 && is(1, "QUERY") && is(2, "CACHE"))
            .then_some(Flush::QueryCache { reset: true });
    }
    if !is(0, "FLUSH") {
        return None;
    }
    // `FLUSH NO_WRITE_TO_BINLOG | LOCAL option`: the same option.
    let mut at = 1;
    while toks
        .get(at)
        .is_some_and(|t| t.is_keyword(sql, "NO_WRITE_TO_BINLOG") || t.is_keyword(sql, "LOCAL"))
    {
        at += 1;
    }
    let Some(option) = toks.get(at) else {
        return Some(Flush::ServerWide);
    };
    let rest = &toks[at + 1..];
    let word = |k: &str| option.is_keyword(sql, k);
    Some(if word("STATUS") && rest.is_empty() {
        Flush::Status
    } else if word("HOSTS") && rest.is_empty() {
        Flush::Hosts
    } else if word("QUERY") && rest.len() == 1 && rest[0].is_keyword(sql, "CACHE") {
        Flush::QueryCache { reset: false }
    } else if word("TABLE") || word("TABLES") {
        let locks = rest.iter().any(|t| {
            t.kind == TokenKind::Ident && (t.is_keyword(sql, "WITH") || t.is_keyword(sql, "FOR"))
        });
        let global = rest.len() == 3
            && ["WITH", "READ", "LOCK"]
                .iter()
                .zip(rest)
                .all(|(k, t)| t.is_keyword(sql, k));
        if global {
            Flush::GlobalReadLock
        } else if locks {
            Flush::TablesLocked
        } else {
            Flush::Tables {
                named: !rest.is_empty(),
            }
        }
    } else {
        Flush::ServerWide
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_flush() {
        let cases = [
            ("FLUSH STATUS", Some(Flush::Status)),
            ("flush local status", Some(Flush::Status)),
            ("FLUSH TABLES", Some(Flush::Tables { named: false })),
            (
                "FLUSH NO_WRITE_TO_BINLOG TABLES",
                Some(Flush::Tables { named: false }),
            ),
            (
                "FLUSH TABLE t1, `db`.t2",
                Some(Flush::Tables { named: true }),
            ),
            ("FLUSH TABLES WITH READ LOCK", Some(Flush::GlobalReadLock)),
            (
                "flush local table with read lock",
                Some(Flush::GlobalReadLock),
            ),
            (
                "FLUSH TABLES WITH READ LOCK AND DISABLE CHECKPOINT",
                Some(Flush::TablesLocked),
            ),
            ("FLUSH TABLES t1 WITH READ LOCK", Some(Flush::TablesLocked)),
            ("FLUSH TABLES t1 FOR EXPORT", Some(Flush::TablesLocked)),
            ("FLUSH HOSTS", Some(Flush::Hosts)),
            ("FLUSH LOGS", Some(Flush::ServerWide)),
            (
                "FLUSH QUERY CACHE",
                Some(Flush::QueryCache { reset: false }),
            ),
            (
                "flush local query cache",
                Some(Flush::QueryCache { reset: false }),
            ),
            ("FLUSH QUERY CACHE, LOGS", Some(Flush::ServerWide)),
            ("RESET QUERY CACHE", Some(Flush::QueryCache { reset: true })),
            ("RESET QUERY", None),
            ("RESET MASTER", None),
            ("FLUSH STATUS, LOGS", Some(Flush::ServerWide)),
            ("FLUSH", Some(Flush::ServerWide)),
            ("SELECT 1", None),
        ];
        for (sql, expected) in cases {
            assert_eq!(flush_kind(sql), expected, "{sql}");
        }
    }
}
