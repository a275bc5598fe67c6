//! The bank test's workload, shared by the tests of one compute node and of several:
//! money moves between accounts on different data nodes through one or more compute
//! nodes while readers check that the total never changes, and helpers that look for
//! prepared branches left behind.

#![allow(dead_code)] // Each test file uses part of it.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use strata_testkit::StorageNodes;

/// Any error a test step may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// What a test returns.
pub type TestResult = Result<(), BoxError>;

/// The MySQL error code of a server error (None: the connection failed).
pub fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// Rows of each storage node's XA RECOVER (every branch left prepared anywhere).
pub async fn prepared_branches(storage: &StorageNodes) -> Result<Vec<String>, BoxError> {
    let mut out = Vec::new();
    for i in 0..storage.len() {
        let mut c = storage.connect(i, None).await?;
        let rows: Vec<(u32, u32, u32, String)> = c.query("XA RECOVER").await?;
        out.extend(rows.into_iter().map(|r| format!("node {i}: {}", r.3)));
        c.disconnect().await?;
    }
    Ok(out)
}

/// Our branches only: a shared storage node also holds other tests' transactions.
pub async fn branches_of(storage: &StorageNodes, node_id: u32) -> Result<Vec<String>, BoxError> {
    let prefix = format!("strata:{node_id}:");
    Ok(prepared_branches(storage)
        .await?
        .into_iter()
        .filter(|b| b.contains(&prefix))
        .collect())
}

/// `accounts` sharded over data nodes 1-4: `rows` accounts holding `balance` each.
pub async fn accounts_table(c: &mut Conn, rows: u32, balance: i64) -> TestResult {
    c.query_drop(
        "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    let values: Vec<String> = (0..rows).map(|id| format!("({id}, {balance})")).collect();
    c.query_drop(format!("INSERT INTO accounts VALUES {}", values.join(",")))
        .await?;
    Ok(())
}

/// The bank: `ACCOUNTS` accounts over 4 nodes, transfers by `writers` clients, sums
/// by `readers`; every sum must be exact. `disrupt` runs alongside (crashes, restarts).
pub struct Bank {
    /// The compute nodes clients connect to; client `k` prefers node `k % len` and
    /// moves on to the next when it cannot connect.
    pub nodes: Vec<Opts>,
    /// Number of accounts.
    pub accounts: u32,
    /// Balance of each account at the start.
    pub initial: i64,
}

/// What a bank run counted.
#[derive(Default)]
pub struct BankStats {
    /// Transfers committed.
    pub transfers: AtomicU64,
    /// Transfer attempts that failed.
    pub failed: AtomicU64,
    /// Sums that were exact.
    pub reads: AtomicU64,
    /// Sums that were not.
    pub bad_reads: AtomicU64,
    /// Transfers committed, per compute node (index into `Bank::nodes`).
    pub through: [AtomicU64; 4],
}

impl Bank {
    /// A bank whose clients all go through one compute node.
    pub fn through(opts: Opts, accounts: u32, initial: i64) -> Bank {
        Bank {
            nodes: vec![opts],
            accounts,
            initial,
        }
    }

    /// The sum of all balances, at every moment.
    pub fn total(&self) -> i64 {
        self.initial * self.accounts as i64
    }

    /// A connection to the first compute node that accepts one, from `preferred` on.
    async fn connect(&self, preferred: usize, until: Instant) -> Option<(Conn, usize)> {
        let mut i = preferred;
        while Instant::now() < until {
            let node = i % self.nodes.len();
            if let Ok(c) = Conn::new(self.nodes[node].clone()).await {
                return Some((c, node));
            }
            i += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    /// One transfer; Err carries whether the client knows it did not commit (any
    /// failure before COMMIT was sent, or an error reply to COMMIT) and the error.
    async fn transfer(
        c: &mut Conn,
        from: u32,
        to: u32,
        amount: i64,
    ) -> Result<(), (bool, mysql_async::Error)> {
        let before_commit = async {
            c.query_drop("BEGIN").await?;
            c.query_drop(format!(
                "UPDATE accounts SET balance = balance - {amount} WHERE id = {from}"
            ))
            .await?;
            c.query_drop(format!(
                "UPDATE accounts SET balance = balance + {amount} WHERE id = {to}"
            ))
            .await
        }
        .await;
        if let Err(e) = before_commit {
            let _ = c.query_drop("ROLLBACK").await;
            return Err((true, e));
        }
        match c.query_drop("COMMIT").await {
            Ok(()) => Ok(()),
            // The server answered: the transaction was rolled back.
            Err(e) if server_code(&e).is_some() => Err((true, e)),
            // The connection broke: the outcome is unknown, so no retry.
            Err(e) => Err((false, e)),
        }
    }

    /// Runs the workload for `run`; returns the statistics.
    pub async fn run(self: Arc<Self>, writers: u32, readers: u32, run: Duration) -> Arc<BankStats> {
        let stats = Arc::new(BankStats::default());
        let until = Instant::now() + run;
        let mut tasks = Vec::new();
        for w in 0..writers {
            let (bank, stats) = (self.clone(), stats.clone());
            tasks.push(tokio::spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(w);
                let mut next = move || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                };
                let mut conn = None;
                let preferred = w as usize;
                while Instant::now() < until {
                    if conn.is_none() {
                        conn = bank.connect(preferred, until).await;
                    }
                    if conn.is_none() {
                        break;
                    }
                    let a = (next() % bank.accounts as u64) as u32;
                    let mut b = (next() % bank.accounts as u64) as u32;
                    if a == b {
                        b = (b + 1) % bank.accounts;
                    }
                    // Locks taken in id order: this test is about atomicity, the
                    // deadlock test about deadlocks.
                    let (from, to, amount) = if a < b {
                        (a, b, (next() % 50) as i64 + 1)
                    } else {
                        (b, a, -((next() % 50) as i64 + 1))
                    };
                    // Retried (on a new connection if needed) while the client knows
                    // it did not commit.
                    for _attempt in 0..5 {
                        let Some((c, node)) = conn.as_mut() else {
                            break;
                        };
                        match Bank::transfer(c, from, to, amount).await {
                            Ok(()) => {
                                stats.transfers.fetch_add(1, Ordering::Relaxed);
                                stats.through[*node % 4].fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err((known_not_committed, e)) => {
                                stats.failed.fetch_add(1, Ordering::Relaxed);
                                if server_code(&e).is_none() {
                                    conn = bank.connect(preferred, until).await;
                                }
                                if !known_not_committed || Instant::now() >= until {
                                    break;
                                }
                            }
                        }
                    }
                }
            }));
        }
        for r in 0..readers {
            let (bank, stats) = (self.clone(), stats.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = None;
                while Instant::now() < until {
                    if conn.is_none() {
                        conn = bank.connect(r as usize, until).await;
                    }
                    let Some((c, _)) = conn.as_mut() else { break };
                    match c
                        .query_first::<String, _>("SELECT SUM(balance) FROM accounts")
                        .await
                    {
                        Ok(Some(sum)) if sum == bank.total().to_string() => {
                            stats.reads.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(other) => {
                            eprintln!("bank: a reader saw {other:?}, expected {}", bank.total());
                            stats.bad_reads.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            if server_code(&e).is_none() {
                                conn = None;
                            }
                        }
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        stats
    }
}

/// The sum of all balances, read once through `opts`.
pub async fn settled_total(opts: &Opts) -> Result<i64, BoxError> {
    let mut c = Conn::new(opts.clone()).await?;
    let total: Option<String> = c.query_first("SELECT SUM(balance) FROM accounts").await?;
    Ok(total.and_then(|t| t.parse().ok()).unwrap_or(-1))
}

/// Waits (30 s at most) until no branch of compute node `node_id` is prepared anywhere.
pub async fn wait_no_branches(storage: &StorageNodes, node_id: u32) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = branches_of(storage, node_id).await?;
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("prepared branches left behind: {left:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The run committed at least `min_transfers` and every read sum was exact.
pub fn check_stats(stats: &BankStats, min_transfers: u64) -> TestResult {
    let (t, f, r, bad) = (
        stats.transfers.load(Ordering::Relaxed),
        stats.failed.load(Ordering::Relaxed),
        stats.reads.load(Ordering::Relaxed),
        stats.bad_reads.load(Ordering::Relaxed),
    );
    eprintln!("bank: {t} transfers committed, {f} failed, {r} exact reads, {bad} wrong reads");
    assert_eq!(bad, 0, "a reader saw a partial transfer");
    assert!(t >= min_transfers, "too few transfers ({t})");
    assert!(r > 0, "no read succeeded");
    Ok(())
}
