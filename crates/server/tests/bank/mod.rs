//! The bank test's workload, shared by the tests of one compute node and of several:
//! money moves between accounts on different data nodes through one or more compute
//! nodes while readers check that the total never changes (and, with a journal, that
//! no acknowledged transfer is lost), and helpers that look for prepared branches left
//! behind on storage nodes and their replicas; also the direct storage connections and
//! the polling helper that `failover.rs` and `cluster_takeover.rs` use, and the admin
//! port helpers of `switchover.rs` and `failover.rs`.

#![allow(dead_code)] // Each test file uses part of it.
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use strata_catalog::DataNodeId;
use strata_server::failover::Role;
use strata_testkit::{mysql_opts, ComputeNode, StorageNodes};

/// The XA format id of Strata's branches (what XA RECOVER lists them under).
pub const XA_FORMAT_ID: u32 = 0x5354;

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

/// Options for storage node (primary or replica) `port` directly, as the Strata account.
fn storage_opts(storage: &StorageNodes, port: u16, db: Option<&str>) -> Opts {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    mysql_opts(addr, storage.user(), storage.password(), db)
}

/// A connection straight to storage node `port` as the Strata account.
pub async fn storage_conn(
    storage: &StorageNodes,
    port: u16,
    db: Option<&str>,
) -> Result<Conn, BoxError> {
    Ok(Conn::new(storage_opts(storage, port, db)).await?)
}

/// Creates the failover tests' `acc` table with rows 1..=`rows` (all 0) and returns
/// where each row is: (id, data node).
pub async fn acc_table(conn: &mut Conn, rows: u32) -> Result<Vec<(i64, u32)>, BoxError> {
    conn.query_drop("CREATE TABLE acc (id INT PRIMARY KEY, v BIGINT NOT NULL)")
        .await?;
    let values: Vec<String> = (1..=rows).map(|i| format!("({i}, 0)")).collect();
    conn.query_drop(format!("INSERT INTO acc VALUES {}", values.join(",")))
        .await?;
    Ok(conn.query("SELECT id, DNID FROM acc ORDER BY id").await?)
}

/// Adds one to row `id` of the failover tests' `acc` table (what their clients do
/// while storage nodes fail or switch).
pub async fn increment(conn: &mut Conn, id: i64) -> Result<(), mysql_async::Error> {
    conn.exec_drop("UPDATE acc SET v = v + 1 WHERE id = ?", (id,))
        .await
}

/// The gtrids XA RECOVER lists on the server at `opts`.
async fn recover(opts: Opts) -> Result<Vec<String>, BoxError> {
    let mut c = Conn::new(opts).await?;
    let rows: Vec<(u32, u32, u32, String)> = c.query("XA RECOVER").await?;
    c.disconnect().await?;
    Ok(rows.into_iter().map(|r| r.3).collect())
}

/// The gtrids XA RECOVER lists on storage node `port`.
pub async fn xa_recover(storage: &StorageNodes, port: u16) -> Result<Vec<String>, BoxError> {
    recover(storage_opts(storage, port, None)).await
}

/// Polls `check` every 100 ms until it returns true; an error naming `what` after
/// `limit`. Returns how long it took.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Result<Duration, BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, BoxError>>,
{
    let start = Instant::now();
    loop {
        if check().await? {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            return Err(format!("{what}: not within {} s", limit.as_secs()).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rows of XA RECOVER on every storage node that runs, replicas included (every
/// branch left prepared anywhere; a killed node is not asked).
pub async fn prepared_branches(storage: &StorageNodes) -> Result<Vec<String>, BoxError> {
    let mut out = Vec::new();
    for i in 0..storage.len() {
        let mut members = Vec::new();
        if storage.node(i).pid().is_some() {
            members.push(storage.opts(i, None));
        }
        for replica in storage.replicas(i).iter().filter(|r| r.pid().is_some()) {
            members.push(storage_opts(storage, replica.port(), None));
        }
        for opts in members {
            let gtrids = recover(opts).await?;
            out.extend(gtrids.into_iter().map(|g| format!("node {i}: {g}")));
        }
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

/// The table where each transfer of a `journal` bank records itself, in the same
/// transaction.
pub async fn journal_table(c: &mut Conn) -> TestResult {
    c.query_drop(
        "CREATE TABLE journal (id BIGINT PRIMARY KEY, from_id INT NOT NULL, \
         to_id INT NOT NULL, amount BIGINT NOT NULL) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    Ok(())
}

/// Every account's (id, balance), by id.
pub async fn balances(c: &mut Conn) -> Result<Vec<(i32, i64)>, BoxError> {
    Ok(c.query("SELECT id, balance FROM accounts ORDER BY id")
        .await?)
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
    /// Each transfer also inserts its own row into `journal` (see `journal_table`), so
    /// what committed can be compared with what clients were told.
    pub journal: bool,
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
    /// Journal ids of the transfers whose COMMIT was acknowledged.
    pub acknowledged: Mutex<Vec<u64>>,
    /// Transfers' errors, one of each message.
    pub errors: Mutex<BTreeSet<String>>,
}

/// The value behind `m`, also after a panic elsewhere poisoned it.
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Bank {
    /// A bank of 64 accounts holding 1000 each, its clients going through `nodes`; its
    /// tables are not created (see `accounts_table`, `journal_table`).
    pub fn new(nodes: Vec<Opts>, journal: bool) -> Bank {
        Bank {
            nodes,
            accounts: 64,
            initial: 1000,
            journal,
        }
    }

    /// Creates the accounts (and the journal when `journal`) through the first of
    /// `nodes`, and the bank over them.
    pub async fn open(nodes: Vec<Opts>, journal: bool) -> Result<Arc<Bank>, BoxError> {
        let bank = Bank::new(nodes, journal);
        let mut c = Conn::new(bank.nodes[0].clone()).await?;
        accounts_table(&mut c, bank.accounts, bank.initial).await?;
        if journal {
            journal_table(&mut c).await?;
        }
        c.disconnect().await?;
        Ok(Arc::new(bank))
    }

    /// After a run: the statistics hold (`check_stats`), no branch of compute node
    /// `node_id` stays prepared on any running storage node, the total is exact, and
    /// with a journal every acknowledged transfer is in it and balances match it.
    pub async fn verify(
        &self,
        stats: &BankStats,
        min_transfers: u64,
        storage: &StorageNodes,
        node_id: u32,
    ) -> TestResult {
        check_stats(stats, min_transfers)?;
        wait_no_branches(storage, node_id).await?;
        assert_eq!(settled_total(&self.nodes[0]).await?, self.total());
        if self.journal {
            self.check_journal(stats).await?;
        }
        Ok(())
    }

    /// Checks a `journal` bank after its run: every acknowledged transfer is in the
    /// journal (no acknowledged commit lost), and every account's balance is exactly
    /// what the journal's transfers make of it (each transfer committed entirely or not
    /// at all).
    async fn check_journal(&self, stats: &BankStats) -> TestResult {
        let mut c = Conn::new(self.nodes[0].clone()).await?;
        let journal: Vec<(u64, u32, u32, i64)> = c
            .query("SELECT id, from_id, to_id, amount FROM journal")
            .await?;
        let ids: HashSet<u64> = journal.iter().map(|j| j.0).collect();
        let acknowledged = locked(&stats.acknowledged).clone();
        let lost: Vec<&u64> = acknowledged.iter().filter(|id| !ids.contains(id)).collect();
        assert!(lost.is_empty(), "acknowledged transfers lost: {lost:?}");
        let mut expected = vec![self.initial; self.accounts as usize];
        for (_, from, to, amount) in &journal {
            expected[*from as usize] -= amount;
            expected[*to as usize] += amount;
        }
        let actual: Vec<i64> = balances(&mut c).await?.into_iter().map(|b| b.1).collect();
        assert_eq!(
            actual, expected,
            "balances differ from the committed transfers"
        );
        eprintln!(
            "bank: {} transfers committed ({} acknowledged, the rest with a lost COMMIT reply)",
            journal.len(),
            acknowledged.len()
        );
        Ok(())
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
        journal_id: Option<u64>,
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
            .await?;
            if let Some(id) = journal_id {
                c.query_drop(format!(
                    "INSERT INTO journal VALUES ({id}, {from}, {to}, {amount})"
                ))
                .await?;
            }
            Ok(())
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
                let mut attempts = 0u64;
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
                        attempts += 1;
                        let journal_id = bank.journal.then_some(u64::from(w) << 32 | attempts);
                        match Bank::transfer(c, from, to, amount, journal_id).await {
                            Ok(()) => {
                                stats.transfers.fetch_add(1, Ordering::Relaxed);
                                stats.through[*node % 4].fetch_add(1, Ordering::Relaxed);
                                if let Some(id) = journal_id {
                                    locked(&stats.acknowledged).push(id);
                                }
                                break;
                            }
                            Err((known_not_committed, e)) => {
                                stats.failed.fetch_add(1, Ordering::Relaxed);
                                locked(&stats.errors).insert(e.to_string());
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

/// The admin port's answer to `command`: Ok, or the error's code and message.
pub async fn admin(compute: &ComputeNode, command: &str) -> Result<(), (u16, String)> {
    admin_with(compute.admin_opts(), command).await
}

/// As [`admin`], with the admin port's options (for a task of its own).
pub async fn admin_with(opts: Opts, command: &str) -> Result<(), (u16, String)> {
    let mut conn = mysql_async::Conn::new(opts)
        .await
        .map_err(|e| (0, e.to_string()))?;
    let result = conn.query_drop(command).await;
    let _ = conn.disconnect().await;
    match result {
        Ok(()) => Ok(()),
        Err(mysql_async::Error::Server(e)) => Err((e.code, e.message)),
        Err(e) => Err((0, e.to_string())),
    }
}

/// The port of data node `dnid`'s primary as `SHOW @@DATASOURCE` has it.
pub fn primary_port(compute: &ComputeNode, dnid: u32) -> Option<u16> {
    compute
        .context()
        .ha
        .data_node(DataNodeId::new(dnid))
        .iter()
        .find(|s| s.role == Role::Primary)
        .map(|s| s.port)
}
