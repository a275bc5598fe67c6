//! `tpcc`: the TPC-C driver of `bench/tpcc` (and of its short CI run in `scripts/test`).
//!
//! Written in Rust on the harness's own minimal MySQL client rather than in Python: the
//! machine has two cores shared by the storage nodes, Strata and the driver, and one
//! async process with a task per terminal costs far less CPU than a Python process per
//! terminal, so the driver takes little from what it measures.
//!
//!   tpcc load  --addr H:P --db tpcc --warehouses 4 [--scale-div 1] [--sharded]
//!   tpcc run   --addr H:P --db tpcc --warehouses 4 --terminals 8 --time 600 [--out run.tsv]
//!   tpcc check --addr H:P --db tpcc --warehouses 4 [--out check.txt]
//!   tpcc digest --addr H:P --db tpcc [--out digest.txt]   (answers to compare after a load)
//!
//! `run` exits 1 when any transaction failed with an error other than a retried
//! deadlock (1213) or lock wait timeout (1205); `check` exits 1 when a consistency
//! condition is violated. Keying and think times are zero: the tpmC is a throughput
//! measure, not a compliant TPC-C result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_bench_tools::mysql::{Conn, Error, Login};
use strata_bench_tools::tpcc::rand::{Rng, LOAD_CONSTANTS};
use strata_bench_tools::tpcc::stats::Stats;
use strata_bench_tools::tpcc::txn::{execute, Outcome, Terminal};
use strata_bench_tools::tpcc::{check, digest, load, now_literal, run_all, schema, Scale};

struct Args {
    command: String,
    login: Login,
    warehouses: u64,
    scale_div: u64,
    sharded: bool,
    terminals: u64,
    time: u64,
    out: Option<String>,
    seed: u64,
    load_connections: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("usage: tpcc load|run|check [options]")?;
    let mut args = Args {
        command,
        login: Login {
            addr: "127.0.0.1:3323".into(),
            user: "root".into(),
            password: String::new(),
            database: Some("tpcc".into()),
        },
        warehouses: 4,
        scale_div: 1,
        sharded: false,
        terminals: 8,
        time: 60,
        out: None,
        seed: 1,
        load_connections: 4,
    };
    while let Some(flag) = it.next() {
        if flag == "--sharded" {
            args.sharded = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--addr" => args.login.addr = value.clone(),
            "--user" => args.login.user = value.clone(),
            "--password" => args.login.password = value.clone(),
            "--db" => args.login.database = Some(value.clone()),
            "--warehouses" => args.warehouses = number()?,
            "--scale-div" => args.scale_div = number()?,
            "--terminals" => args.terminals = number()?,
            "--time" => args.time = number()?,
            "--seed" => args.seed = number()?,
            "--load-connections" => args.load_connections = number()?,
            "--out" => args.out = Some(value.clone()),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.warehouses == 0 || !(1..=100).contains(&args.scale_div) || args.terminals == 0 {
        return Err("--warehouses and --terminals must be positive, --scale-div 1..100".into());
    }
    Ok(args)
}

/// Writes a result to `--out`, or to stdout without it (stderr is for errors).
fn write_out(args: &Args, text: &str) -> Result<(), String> {
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{path}: {e}")),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

async fn connect(login: &Login) -> Result<Conn, String> {
    Conn::connect(login)
        .await
        .map_err(|e| format!("connecting to {}: {e}", login.addr))
}

async fn load_all(args: &Args, scale: Scale) -> Result<(), String> {
    let mut conn = connect(&args.login).await?;
    run_all(&mut conn, &schema::create_statements(args.sharded))
        .await
        .map_err(|e| format!("creating the tables: {e}"))?;
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(1));
    let now = now_literal();
    let mut tasks = Vec::new();
    let seed = args.seed;
    tasks.push(tokio::spawn(async move {
        load::load_items(&mut conn, scale, seed)
            .await
            .map_err(|e| format!("loading items: {e}"))
    }));
    for _ in 0..args.load_connections.clamp(1, args.warehouses) {
        let (login, next, now) = (args.login.clone(), next.clone(), now.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(&login).await?;
            loop {
                let w = next.fetch_add(1, Ordering::Relaxed);
                if w > scale.warehouses {
                    return Ok(());
                }
                load::load_warehouse(&mut conn, scale, w, seed, &now)
                    .await
                    .map_err(|e| format!("loading warehouse {w}: {e}"))?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("loader task: {e}"))??;
    }
    eprintln!(
        "tpcc: loaded {} warehouse(s) ({} items, {} customers per district) in {:.1} s",
        scale.warehouses,
        scale.items,
        scale.customers,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Attempts of one transaction before a deadlock or lock wait timeout counts as an error.
const MAX_ATTEMPTS: u32 = 100;

/// One terminal: transactions until the deadline, deadlocks retried with the same input.
async fn terminal(login: Login, mut term: Terminal, deadline: Instant) -> Result<Stats, String> {
    let mut conn = connect(&login).await?;
    let mut stats = Stats::default();
    while Instant::now() < deadline {
        let kind = term.next_kind();
        let input = term.input(kind);
        let t = &mut stats.by_kind[kind.index()];
        let started = Instant::now();
        let mut attempts = 1;
        loop {
            match execute(&mut conn, &input).await {
                Ok(outcome) => {
                    t.latencies_us.push(started.elapsed().as_micros() as u64);
                    t.rolled_back += u64::from(outcome == Outcome::RolledBack);
                    t.remote += u64::from(input.is_remote());
                    break;
                }
                Err(Error::Server {
                    code: 1213 | 1205, ..
                }) if attempts < MAX_ATTEMPTS => {
                    attempts += 1;
                    t.retries += 1;
                    let _ = conn.query("ROLLBACK").await;
                }
                Err(e) => {
                    t.errors += 1;
                    eprintln!("tpcc: {} failed: {e} (input {input:?})", kind.name());
                    if matches!(e, Error::Server { .. }) {
                        let _ = conn.query("ROLLBACK").await;
                    } else {
                        conn = connect(&login).await?;
                    }
                    break;
                }
            }
        }
    }
    let _ = conn.quit().await;
    Ok(stats)
}

async fn run(args: &Args, scale: Scale) -> Result<bool, String> {
    let mut seeds = Rng::new(args.seed.wrapping_mul(7919));
    let constants = seeds.run_constants(LOAD_CONSTANTS);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.time);
    let mut tasks = Vec::new();
    for i in 0..args.terminals {
        let w = i % scale.warehouses + 1;
        let d = (i / scale.warehouses) % 10 + 1;
        let term = Terminal::new(
            w,
            d,
            scale,
            constants,
            Rng::new(seeds.uniform(0, u64::MAX - 1)),
        );
        tasks.push(tokio::spawn(terminal(args.login.clone(), term, deadline)));
    }
    let mut stats = Stats::default();
    for t in tasks {
        stats.merge(t.await.map_err(|e| format!("terminal task: {e}"))??);
    }
    write_out(args, &stats.to_tsv(started.elapsed()))?;
    Ok(stats.errors() == 0)
}

async fn main_async(args: Args) -> Result<bool, String> {
    let scale = Scale::new(args.warehouses, args.scale_div);
    match args.command.as_str() {
        "load" => load_all(&args, scale).await.map(|()| true),
        "run" => run(&args, scale).await,
        "check" => {
            let mut conn = connect(&args.login).await?;
            let report = check::check(&mut conn, scale.warehouses)
                .await
                .map_err(|e| format!("consistency check: {e}"))?;
            write_out(&args, &(report.lines.join("\n") + "\n"))?;
            Ok(report.violations == 0)
        }
        "digest" => {
            let mut conn = connect(&args.login).await?;
            let text = digest::digest(&mut conn)
                .await
                .map_err(|e| format!("digest: {e}"))?;
            write_out(&args, &text)?;
            Ok(true)
        }
        other => Err(format!(
            "unknown command {other}: load, run, check or digest"
        )),
    }
}

fn main() {
    let result = parse_args().and_then(|args| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?
            .block_on(main_async(args))
    });
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("tpcc: {e}");
            std::process::exit(2);
        }
    }
}
