//! Spilling to disk, end to end: a `strata serve` process with a 1 MiB merge memory
//! budget over 4 data nodes joins two sharded tables that are not co-located (about
//! 13 MiB each) and sorts the joined rows; the answer must be plain MariaDB's for the
//! same rows, and the process's peak resident memory while it runs must stay within
//! what it held before plus the budget plus a fixed margin. Past a small spill cap the
//! statement fails with the documented error, and no spill file is left open or on disk;
//! a statement whose client dies leaves none open either. A GROUP BY over a key with
//! 40,000 values, a SELECT DISTINCT whose rows come to the compute node unordered, a
//! COUNT(DISTINCT) without GROUP BY over 40,000 values and one per group of 5,000 groups
//! spill the same way.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode, ComputeProcess};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), BoxError>;

/// The merge memory budget of the compute node under test.
const BUDGET: u64 = 1 << 20;
/// Rows per table; with their 200-character pads each table holds about 13 MiB,
/// more than 10 times the budget.
const ROWS: usize = 60_000;
/// Distinct join key values (each key has one or two rows per side).
const KEYS: usize = 40_000;

/// What resident memory may grow by past the budget while the statement runs. Measured
/// (debug build, glibc malloc, a fresh process of about 60 MiB): 0 to 13 MiB over three
/// runs: the allocator's per-thread arenas and fragmentation around the budget's
/// estimates, the 16 KiB buffers of partitions and runs, the storage and client
/// connections' packet buffers. The same statement held in memory (spilling off) grew
/// by 66 to 68 MiB, so 24 MiB keeps the test stable on a busy machine while a join or
/// sort that does not spill fails it.
const MARGIN: u64 = 24 << 20;

/// The key is indexed so that MariaDB's own join (the reference) is not a nested loop
/// over 60,000 x 60,000 rows.
const CREATE_A: &str = "CREATE TABLE sa (id INT NOT NULL PRIMARY KEY, k INT NULL, \
                        pad VARCHAR(220) NOT NULL, KEY (k))";
const CREATE_B: &str = "CREATE TABLE sb (id INT NOT NULL PRIMARY KEY, k INT NULL, \
                        pad VARCHAR(220) NOT NULL, KEY (k))";
/// Sharded on their ids by two functions: the join on `k` runs in the compute node.
const SHARD_A: &str = " SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'";
const SHARD_B: &str = " SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

/// A LEFT JOIN (rows of `sa` without a match keep NULLs; NULL keys match nothing) whose
/// rows are sorted in the compute node.
const JOIN: &str = "SELECT a.id, a.k, b.id, b.pad FROM sa a LEFT JOIN sb b ON b.k = a.k \
                    ORDER BY a.id, b.id";

type Joined = (i32, Option<i32>, Option<i32>, Option<String>);

/// INSERT statements of `ROWS` rows of table `name`, key `id * step % KEYS` (NULL every
/// `null_every` rows), 500 rows each.
fn inserts(name: &str, step: usize, null_every: usize) -> Vec<String> {
    (0..ROWS)
        .collect::<Vec<_>>()
        .chunks(500)
        .map(|ids| {
            let values: Vec<String> = ids
                .iter()
                .map(|&i| {
                    let k = if i % null_every == 0 {
                        "NULL".to_string()
                    } else {
                        (i * step % KEYS).to_string()
                    };
                    format!("({i}, {k}, '{i:06}{}')", "p".repeat(194))
                })
                .collect();
            format!("INSERT INTO {name} VALUES {}", values.join(", "))
        })
        .collect()
}

async fn load(c: &mut Conn, shard: bool) -> TestResult {
    let (a, b) = if shard {
        (
            format!("{CREATE_A}{SHARD_A}"),
            format!("{CREATE_B}{SHARD_B}"),
        )
    } else {
        (CREATE_A.to_string(), CREATE_B.to_string())
    };
    c.query_drop(a).await?;
    c.query_drop(b).await?;
    for statement in inserts("sa", 1, 97).into_iter().chain(inserts("sb", 7, 89)) {
        c.query_drop(statement).await?;
    }
    Ok(())
}

/// A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(pid: u32, field: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unreadable {line:?}"))?;
    Ok(kib * 1024)
}

/// Spill files the process has open (unlinked files under `dir`).
fn open_spill_files(pid: u32, dir: &Path) -> Result<usize, String> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_err(|e| e.to_string())?;
    Ok(fds
        .filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count())
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect())
}

/// Rewrites the process's configuration file: its first configuration with `tweak`
/// applied, for the next restart.
fn rewrite_config(
    node: &ComputeProcess,
    tweak: impl FnOnce(&mut strata_catalog::Config),
) -> TestResult {
    let mut config = node.config().clone();
    tweak(&mut config);
    std::fs::write(node.config_path(), config.to_toml()?)?;
    Ok(())
}

/// Restarts the process (so the allocator holds nothing from earlier statements), opens
/// its storage connections with the small statement `warm`, runs `query` and returns
/// its rows and how far the peak resident memory rose above the resident memory before
/// it.
async fn run_measured<T>(
    node: &mut ComputeProcess,
    warm: &str,
    query: &str,
) -> Result<(Vec<T>, u64), BoxError>
where
    T: FromRow + Send + 'static,
{
    node.restart().await?;
    let pid = node.pid().ok_or("strata is not running")?;
    let mut strata = node.connect(Some("test")).await?;
    let warmed: Option<i64> = strata.query_first(warm).await?;
    assert!(warmed.is_some());
    // The peak is reset (`clear_refs` 5) so it measures this statement alone.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
    let baseline = status_bytes(pid, "VmRSS")?;
    let started = std::time::Instant::now();
    let rows: Vec<T> = strata.query(query).await?;
    // Reported, not asserted: what spilling costs against the in-memory run.
    let elapsed = started.elapsed();
    let peak = status_bytes(pid, "VmHWM")?;
    let growth = peak.saturating_sub(baseline);
    eprintln!("spill: baseline RSS {baseline} B, peak {peak} B, growth {growth} B, {elapsed:?}");
    Ok((rows, growth))
}

/// The small statement that opens the join test's storage connections.
const JOIN_WARM: &str = "SELECT COUNT(*) FROM sa a JOIN sb b ON b.k = a.k WHERE a.id < 10";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_and_a_sort_ten_times_the_budget_spill_and_answer_as_mariadb() -> TestResult {
    let storage = shared_storage(4).await?;
    let mut node = ComputeNode::builder(&storage)
        .configure(|c| c.merge.memory_budget = BUDGET)
        .spawn()
        .await?;
    let spill_dir = node.config().server.data_dir.join("tmp");
    let mut strata = node.connect(Some("test")).await?;
    load(&mut strata, true).await?;
    let plan: Vec<(u64, String, Option<String>)> = strata.query(format!("EXPLAIN {JOIN}")).await?;
    let merge = plan.first().and_then(|r| r.2.clone()).unwrap_or_default();
    assert!(
        merge.contains("HashJoin") && merge.contains("MemorySort"),
        "the join and the sort run in the compute node: {merge}"
    );
    drop(strata);

    let reference_db = unique_name("spillref");
    storage.create_database(&reference_db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    load(&mut reference, false).await?;
    let expected: Vec<Joined> = reference.query(JOIN).await?;
    assert!(
        expected.len() > ROWS,
        "keys repeat: {} rows",
        expected.len()
    );

    let (joined, growth): (Vec<Joined>, u64) = run_measured(&mut node, JOIN_WARM, JOIN).await?;
    assert_eq!(joined.len(), expected.len(), "row count");
    if let Some(i) = (0..joined.len()).find(|&i| joined[i] != expected[i]) {
        panic!("row {i}: Strata {:?}, MariaDB {:?}", joined[i], expected[i]);
    }
    assert!(
        growth <= BUDGET + MARGIN,
        "resident memory grew by {growth} bytes, more than the budget {BUDGET} + margin {MARGIN}"
    );
    let pid = node.pid().ok_or("strata is not running")?;
    assert_eq!(open_spill_files(pid, &spill_dir)?, 0, "spill files closed");
    assert_eq!(files_in(&spill_dir)?, Vec::<PathBuf>::new());

    // A statement whose client dies while it spills closes its files. (KILL acts
    // between statements, so it would let this one finish.)
    let mut args = common::root_client_args(node.service_addr());
    args.extend(["--database=test".to_string(), "--quick".to_string()]);
    args.push(format!("--execute={JOIN}"));
    let mut client = tokio::process::Command::new("mariadb")
        .args(&args)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut spilling = false;
    for _ in 0..1200 {
        if open_spill_files(pid, &spill_dir)? > 0 {
            spilling = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(spilling, "the statement opened spill files");
    client.kill().await?;
    let mut closed = false;
    for _ in 0..2400 {
        if open_spill_files(pid, &spill_dir)? == 0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        closed,
        "the spill files of a statement whose client died are closed"
    );
    assert_eq!(files_in(&spill_dir)?, Vec::<PathBuf>::new());

    // The measure is not blind: the same statement with spilling off and a budget it
    // fits in grows resident memory past the bound above.
    rewrite_config(&node, |c| {
        c.merge.memory_budget = 256 << 20;
        c.merge.spill_cap = 0;
    })?;
    let (in_memory, growth): (Vec<Joined>, u64) = run_measured(&mut node, JOIN_WARM, JOIN).await?;
    assert_eq!(in_memory.len(), expected.len());
    assert!(
        growth > BUDGET + MARGIN,
        "without spilling the statement grew resident memory by only {growth} bytes"
    );

    // Past a 1 MiB spill cap: 1114 naming the setting, nothing left behind.
    rewrite_config(&node, |c| c.merge.spill_cap = 1 << 20)?;
    node.restart().await?;
    let pid = node.pid().ok_or("strata is not running")?;
    let mut strata = node.connect(Some("test")).await?;
    let err = strata
        .query_drop(JOIN)
        .await
        .expect_err("the join spills more than 1 MiB");
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!((e.code, e.state.as_str()), (1114, "HY000"));
            assert_eq!(
                e.message,
                "The result exceeds the cap of 1048576 bytes of spill files on disk \
                 (configuration setting merge.spill_cap)"
            );
        }
        other => return Err(other.into()),
    }
    assert_eq!(open_spill_files(pid, &spill_dir)?, 0);
    assert_eq!(files_in(&spill_dir)?, Vec::<PathBuf>::new());
    let n: Option<i64> = strata.query_first("SELECT COUNT(*) FROM sb").await?;
    assert_eq!(n, Some(ROWS as i64), "the session goes on");

    storage.drop_database(&reference_db).await?;
    node.terminate().await?;
    Ok(())
}

#[tokio::test]
async fn a_spill_directory_that_cannot_be_written_stops_the_start() -> TestResult {
    let storage = shared_storage(1).await?;
    let blocker = tempfile::NamedTempFile::new()?;
    let path = blocker.path().to_path_buf();
    let started = ComputeNode::builder(&storage)
        .configure(move |c| c.merge.spill_dir = Some(path))
        .start()
        .await;
    let err = match started {
        Ok(_) => return Err("a file as spill directory was accepted".into()),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("merge.spill_dir: cannot create"), "{err}");
    Ok(())
}

/// Rows of the grouping and DISTINCT test's table.
const GROUP_ROWS: usize = 80_000;
/// Values of its group key: two rows each, spelt `key-N` and `Key-N ` (one value under
/// utf8mb4_general_ci), usually on two data nodes.
const GROUPS: usize = 40_000;

/// Sharded on the id, so a group's rows are on several data nodes and the grouping and
/// the DISTINCT run in the compute node over per-node partial rows.
const CREATE_G: &str = "CREATE TABLE sg (id INT NOT NULL PRIMARY KEY, \
                        g VARCHAR(40) COLLATE utf8mb4_general_ci NOT NULL, \
                        d DECIMAL(12,2) NULL, pad VARCHAR(120) NOT NULL)";
const SHARD_G: &str = " SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'";

/// Every aggregate that combines partial states: exact DECIMAL sums and averages,
/// MIN/MAX under the collation, BIT_XOR; about 13 MiB of partial rows reach the
/// compute node (MAX(pad) is 105 characters).
const GROUP_BY: &str = "SELECT g, COUNT(*), SUM(d), MIN(d), MAX(id), AVG(d), BIT_XOR(id), \
                        MAX(pad) FROM sg GROUP BY g";
/// 40,000 distinct rows of about 115 characters; every node sends its own, so about
/// 9 MiB reach the compute node and its set of keys (collation weights) passes 10 MiB.
const DISTINCT: &str = "SELECT DISTINCT g, pad FROM sg";
/// COUNT(DISTINCT) without GROUP BY: 80,000 values from the nodes, 40,000 distinct
/// under the collation.
const COUNT_DISTINCT: &str = "SELECT COUNT(DISTINCT g), COUNT(*), SUM(d) FROM sg";
/// COUNT(DISTINCT) with GROUP BY: 5,000 groups of 16 rows with 8 distinct values each
/// (under the collation), about 5 MiB of groups and sets in the compute node.
const GROUP_DISTINCT: &str =
    "SELECT MOD(id, 5000) AS m, COUNT(DISTINCT g), COUNT(*) FROM sg GROUP BY m";
/// The small statement that opens the grouping test's storage connections.
const GROUP_WARM: &str = "SELECT COUNT(*) FROM sg WHERE id < 10";

type Grouped = (
    String,
    i64,
    Option<String>,
    Option<String>,
    i32,
    Option<String>,
    u64,
    String,
);

async fn load_groups(c: &mut Conn, shard: bool) -> TestResult {
    let create = if shard {
        format!("{CREATE_G}{SHARD_G}")
    } else {
        CREATE_G.to_string()
    };
    c.query_drop(create).await?;
    let ids: Vec<usize> = (0..GROUP_ROWS).collect();
    for chunk in ids.chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let k = i % GROUPS;
                let g = if i < GROUPS {
                    format!("key-{k}")
                } else {
                    format!("Key-{k} ")
                };
                let d = if i % 101 == 0 {
                    "NULL".to_string()
                } else {
                    let cents = (i * 7919 % 2_000_001) as i64 - 1_000_000;
                    let sign = if cents < 0 { "-" } else { "" };
                    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
                };
                format!("({i}, '{g}', {d}, '{k:05}{}')", "p".repeat(100))
            })
            .collect();
        c.query_drop(format!("INSERT INTO sg VALUES {}", values.join(", ")))
            .await?;
    }
    Ok(())
}

/// A group or DISTINCT row's key as compared: spellings of one value under the
/// collation (case, trailing spaces) are one.
fn folded(g: &str) -> String {
    g.trim_end().to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouping_and_a_distinct_ten_times_the_budget_spill_and_answer_as_mariadb() -> TestResult
{
    let storage = shared_storage(4).await?;
    let mut node = ComputeNode::builder(&storage)
        .configure(|c| c.merge.memory_budget = BUDGET)
        .spawn()
        .await?;
    let spill_dir = node.config().server.data_dir.join("tmp");
    let mut strata = node.connect(Some("test")).await?;
    load_groups(&mut strata, true).await?;
    for (query, operator) in [(GROUP_BY, "HashAggregate"), (DISTINCT, "Distinct")] {
        let plan: Vec<(u64, String, Option<String>)> =
            strata.query(format!("EXPLAIN {query}")).await?;
        let merge = plan.first().and_then(|r| r.2.clone()).unwrap_or_default();
        assert!(
            merge.contains(operator) && !merge.contains("MergeSort"),
            "{operator} runs over unordered rows in the compute node: {merge}"
        );
    }
    drop(strata);

    let reference_db = unique_name("spillgroups");
    storage.create_database(&reference_db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    load_groups(&mut reference, false).await?;
    let mut expected: Vec<Grouped> = reference.query(GROUP_BY).await?;
    let mut expected_distinct: Vec<(String, String)> = reference.query(DISTINCT).await?;
    let expected_count: Vec<(i64, i64, String)> = reference.query(COUNT_DISTINCT).await?;
    let mut expected_group_distinct: Vec<(i64, i64, i64)> = reference.query(GROUP_DISTINCT).await?;
    expected_group_distinct.sort();
    assert_eq!(expected_group_distinct.first(), Some(&(0, 8, 16)));
    assert_eq!(expected.len(), GROUPS);
    assert_eq!(expected_distinct.len(), GROUPS);

    let (mut grouped, growth): (Vec<Grouped>, u64) =
        run_measured(&mut node, GROUP_WARM, GROUP_BY).await?;
    assert!(
        growth <= BUDGET + MARGIN,
        "GROUP BY grew resident memory by {growth} bytes, more than the budget {BUDGET} + margin {MARGIN}"
    );
    // One row per group with some spelling of its key: compare keys as the collation
    // does, rows in key order.
    for rows in [&mut expected, &mut grouped] {
        for row in rows.iter_mut() {
            row.0 = folded(&row.0);
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
    }
    assert_eq!(grouped.len(), expected.len(), "groups");
    if let Some(i) = (0..grouped.len()).find(|&i| grouped[i] != expected[i]) {
        panic!(
            "group {i}: Strata {:?}, MariaDB {:?}",
            grouped[i], expected[i]
        );
    }

    let (mut distinct, growth): (Vec<(String, String)>, u64) =
        run_measured(&mut node, GROUP_WARM, DISTINCT).await?;
    assert!(
        growth <= BUDGET + MARGIN,
        "DISTINCT grew resident memory by {growth} bytes, more than the budget {BUDGET} + margin {MARGIN}"
    );
    for rows in [&mut expected_distinct, &mut distinct] {
        for row in rows.iter_mut() {
            row.0 = folded(&row.0);
        }
        rows.sort();
    }
    assert_eq!(distinct, expected_distinct);

    let (count, growth): (Vec<(i64, i64, String)>, u64) =
        run_measured(&mut node, GROUP_WARM, COUNT_DISTINCT).await?;
    assert!(
        growth <= BUDGET + MARGIN,
        "COUNT(DISTINCT) grew resident memory by {growth} bytes, more than the budget {BUDGET} + margin {MARGIN}"
    );
    assert_eq!(count, expected_count);
    assert_eq!(count.first().map(|r| r.0), Some(GROUPS as i64));

    let (mut group_distinct, growth): (Vec<(i64, i64, i64)>, u64) =
        run_measured(&mut node, GROUP_WARM, GROUP_DISTINCT).await?;
    assert!(
        growth <= BUDGET + MARGIN,
        "COUNT(DISTINCT) with GROUP BY grew resident memory by {growth} bytes, more than the budget {BUDGET} + margin {MARGIN}"
    );
    group_distinct.sort();
    assert_eq!(group_distinct, expected_group_distinct);
    let pid = node.pid().ok_or("strata is not running")?;
    assert_eq!(open_spill_files(pid, &spill_dir)?, 0, "spill files closed");
    assert_eq!(files_in(&spill_dir)?, Vec::<PathBuf>::new());

    // The bound is not free: with spilling off the same budget refuses the statements,
    // and a budget they fit in lets the grouping grow resident memory past it.
    rewrite_config(&node, |c| c.merge.spill_cap = 0)?;
    node.restart().await?;
    let mut strata = node.connect(Some("test")).await?;
    for query in [GROUP_BY, DISTINCT, COUNT_DISTINCT, GROUP_DISTINCT] {
        match strata.query_drop(query).await {
            Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1114, "{query}: {e}"),
            other => panic!("{query} without spilling: {other:?}"),
        }
    }
    drop(strata);
    rewrite_config(&node, |c| {
        c.merge.memory_budget = 256 << 20;
        c.merge.spill_cap = 0;
    })?;
    let (in_memory, growth): (Vec<Grouped>, u64) =
        run_measured(&mut node, GROUP_WARM, GROUP_BY).await?;
    assert_eq!(in_memory.len(), expected.len());
    assert!(
        growth > BUDGET + MARGIN,
        "without spilling the grouping grew resident memory by only {growth} bytes"
    );

    storage.drop_database(&reference_db).await?;
    node.terminate().await?;
    Ok(())
}
