//! Connection-scale test: open many idle client connections to a MySQL-protocol server
//! (Strata), then run point selects on a few of them while the rest stay open, and
//! report the server's RSS per idle connection and any errors.
//!
//! ```text
//! connscale --addr 127.0.0.1:3323 --user strata --password strata --db sbtest \
//!           --pid <server pid> [--idle 10000] [--active 64] [--seconds 10] \
//!           [--concurrency 200] [--table-size 10000] [--tables 4]
//! ```
//!
//! Prints `key=value` lines (parsed by bench/run) and a human summary. Exits 1 when any
//! connection or query failed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_bench_tools::mysql::{Conn, Login};
use strata_bench_tools::proc::rss_kib;
use tokio::sync::Semaphore;

struct Args {
    login: Login,
    pid: u32,
    idle: usize,
    active: usize,
    seconds: u64,
    concurrency: usize,
    table_size: u64,
    tables: u64,
}

fn usage() -> ! {
    eprintln!(
        "usage: connscale --addr HOST:PORT --user U [--password P] [--db D] --pid PID \
         [--idle N] [--active N] [--seconds S] [--concurrency N] [--table-size N] [--tables N]"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        login: Login {
            addr: String::new(),
            user: String::new(),
            password: String::new(),
            database: None,
        },
        pid: 0,
        idle: 10_000,
        active: 64,
        seconds: 10,
        concurrency: 200,
        table_size: 10_000,
        tables: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<u64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--addr" => args.login.addr = value,
            "--user" => args.login.user = value,
            "--password" => args.login.password = value,
            "--db" => args.login.database = Some(value),
            "--pid" => args.pid = num(&value) as u32,
            "--idle" => args.idle = num(&value) as usize,
            "--active" => args.active = num(&value) as usize,
            "--seconds" => args.seconds = num(&value),
            "--concurrency" => args.concurrency = num(&value).max(1) as usize,
            "--table-size" => args.table_size = num(&value).max(1),
            "--tables" => args.tables = num(&value).max(1),
            _ => usage(),
        }
    }
    if args.login.addr.is_empty() || args.login.user.is_empty() || args.pid == 0 {
        usage();
    }
    args
}

/// Tiny xorshift generator: no dependency, good enough to spread ids.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn rss(pid: u32) -> u64 {
    rss_kib(pid).unwrap_or_else(|e| {
        eprintln!("cannot read RSS of pid {pid}: {e}");
        std::process::exit(2);
    })
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let rss_before = rss(args.pid);

    // Phase 1: open idle connections, `concurrency` handshakes at a time.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.idle {
        let login = args.login.clone();
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore open");
            tokio::time::timeout(Duration::from_secs(30), Conn::connect(&login)).await
        });
    }
    let mut conns = Vec::with_capacity(args.idle);
    let mut connect_errors = 0u64;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(Ok(conn))) => conns.push(conn),
            Ok(Ok(Err(e))) => {
                connect_errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
            Ok(Err(_)) => {
                connect_errors += 1;
                first_error.get_or_insert_with(|| "connect timed out".to_string());
            }
            Err(e) => {
                connect_errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    // Let the server settle (allocator, deferred work) before sampling.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss(args.pid);
    let opened = conns.len() as u64;

    // Phase 2: point selects on `active` of the open connections.
    let active: Vec<Conn> = conns.drain(..args.active.min(conns.len())).collect();
    let queries = Arc::new(AtomicU64::new(0));
    let query_errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut workers = tokio::task::JoinSet::new();
    for (i, mut conn) in active.into_iter().enumerate() {
        let queries = queries.clone();
        let query_errors = query_errors.clone();
        let (tables, table_size) = (args.tables, args.table_size);
        workers.spawn(async move {
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1);
            let mut latencies = Vec::new();
            let mut error = None;
            while Instant::now() < deadline {
                let table = next_random(&mut state) % tables + 1;
                let id = next_random(&mut state) % table_size + 1;
                let sql = format!("SELECT c FROM sbtest{table} WHERE id={id}");
                let t = Instant::now();
                match conn.query(&sql).await {
                    Ok(_) => {
                        latencies.push(t.elapsed());
                        queries.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        query_errors.fetch_add(1, Ordering::Relaxed);
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            (conn, latencies, error)
        });
    }
    let mut latencies = Vec::new();
    let mut peak_rss = rss_idle;
    let mut returned = Vec::new();
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                Some(Ok((conn, l, e))) => {
                    latencies.extend(l);
                    if let Some(e) = e {
                        first_error.get_or_insert(e);
                    }
                    returned.push(conn);
                }
                Some(Err(e)) => {
                    query_errors.fetch_add(1, Ordering::Relaxed);
                    first_error.get_or_insert_with(|| e.to_string());
                }
                None => break,
            },
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                peak_rss = peak_rss.max(rss(args.pid));
            }
        }
    }
    let rss_active = rss(args.pid).max(peak_rss);
    latencies.sort_unstable();
    let p95_ms = latencies
        .get((latencies.len() * 95 / 100).min(latencies.len().saturating_sub(1)))
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let total_queries = queries.load(Ordering::Relaxed);
    let total_query_errors = query_errors.load(Ordering::Relaxed);
    let qps = total_queries as f64 / args.seconds.max(1) as f64;

    // Phase 3: close everything politely.
    conns.extend(returned);
    for conn in conns {
        let _ = conn.quit().await;
    }

    let per_conn = if opened > 0 {
        (rss_idle.saturating_sub(rss_before)) as f64 / opened as f64
    } else {
        0.0
    };
    println!("connections_requested={}", args.idle);
    println!("connections_opened={opened}");
    println!("connect_errors={connect_errors}");
    println!("connect_seconds={connect_secs:.2}");
    println!("rss_before_kib={rss_before}");
    println!("rss_idle_kib={rss_idle}");
    println!("rss_per_idle_conn_kib={per_conn:.2}");
    println!("rss_active_kib={rss_active}");
    println!("active_connections={}", args.active.min(opened as usize));
    println!("queries={total_queries}");
    println!("query_errors={total_query_errors}");
    println!("qps={qps:.0}");
    println!("p95_ms={p95_ms:.3}");
    if let Some(e) = &first_error {
        println!("first_error={e}");
    }
    eprintln!(
        "connscale: {opened}/{} connections in {connect_secs:.1}s, RSS {rss_before} -> {rss_idle} KiB \
         ({per_conn:.1} KiB per idle connection), {total_queries} point selects on {} of them \
         ({qps:.0}/s, p95 {p95_ms:.2} ms), RSS while active {rss_active} KiB, \
         {connect_errors} connect errors, {total_query_errors} query errors",
        args.idle,
        args.active.min(opened as usize),
    );
    if connect_errors > 0 || total_query_errors > 0 {
        std::process::exit(1);
    }
}
