//! `strata playground --compute-nodes 2`: the real binary with two data nodes, a local
//! etcd of three members and two `strata serve` processes; a table created through node
//! 1 is used through node 2, an etcd member is SIGKILLed and DDL still goes through,
//! node 1 is SIGKILLed and node 2 keeps answering; SIGTERM stops it all.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Longest wait for the playground to print that every compute node serves (two fresh
/// MariaDB data directories are initialised first).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait for the playground to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

fn bindable(ports: &[u16]) -> bool {
    let listeners: Vec<_> = ports
        .iter()
        .map(|&p| TcpListener::bind(("127.0.0.1", p)))
        .collect();
    listeners.iter().all(Result::is_ok)
}

/// A service port P with P..P+2 and P+100..P+102 free (two compute nodes' service,
/// HTTP and admin ports), and a storage base port B = P + 200 with B+1, B+2 (two data
/// nodes) and B+90..=B+95 (three etcd members) free; all below the ephemeral range, so
/// no other test's connection takes one while the data nodes initialise.
fn free_ports() -> (u16, u16) {
    let mut offsets = vec![0, 1, 2, 100, 101, 102, 201, 202];
    offsets.extend(290..=295);
    let p = strata_localnode::free_port_block(&offsets).expect("free ports");
    (p, p + 200)
}

async fn connect(port: u16) -> Result<Conn, mysql_async::Error> {
    let opts = Opts::from_url(&format!("mysql://root@127.0.0.1:{port}/test")).expect("url");
    Conn::new(opts).await
}

fn signal(pid: u32, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: kill(2) on a process this test started (or its child); no memory is touched.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_compute_nodes_share_tables_and_survive_one_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, storage_base) = free_ports();
    let stderr = std::fs::File::create(dir.path().join("playground.stderr")).expect("log");
    let mut playground = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("playground")
        .arg("--dir")
        .arg(dir.path().join("pg"))
        .args(["--data-nodes", "2", "--compute-nodes", "2"])
        .args(["--port", &port.to_string()])
        .args(["--http-port", &(port + 1).to_string()])
        .args(["--admin-port", &(port + 2).to_string()])
        .args(["--storage-base-port", &storage_base.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("start the playground");
    let stdout = playground.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();

    // "  etcd member 1 (pid 1233): http://..." for each etcd member, "  compute node 1
    // (pid 1234): mariadb ..." for each node, then "Press Ctrl-C".
    let mut pids = Vec::new();
    let mut etcd_pids = Vec::new();
    let pid_in = |rest: &str| -> Option<u32> {
        let (_, after) = rest.split_once("(pid ")?;
        after.split(')').next()?.parse().ok()
    };
    let started = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(rest) = line.trim_start().strip_prefix("compute node ") {
                pids.extend(pid_in(rest));
            }
            if let Some(rest) = line.trim_start().strip_prefix("etcd member ") {
                etcd_pids.extend(pid_in(rest));
            }
            if line.starts_with("Press Ctrl-C") {
                return true;
            }
        }
        false
    })
    .await;
    let log = || std::fs::read_to_string(dir.path().join("playground.stderr")).unwrap_or_default();
    assert!(
        matches!(started, Ok(true)),
        "the playground did not start; its stderr:\n{}",
        log()
    );
    assert_eq!(pids.len(), 2, "one pid per compute node");
    assert_eq!(etcd_pids.len(), 3, "three etcd members");
    // One cluster: what is written through the first member is read through the third.
    let member = |m: u16| {
        strata_catalog::etcd::EtcdClient::new(
            &[format!("http://127.0.0.1:{}", storage_base + 88 + 2 * m)],
            Duration::from_secs(5),
        )
        .expect("etcd client")
    };
    member(1)
        .put(b"/playground-test/key", b"written through member 1", 0)
        .expect("put through etcd member 1");
    let read = member(3)
        .get(b"/playground-test/key")
        .expect("get through etcd member 3")
        .map(|kv| kv.value);
    assert_eq!(read.as_deref(), Some(&b"written through member 1"[..]));
    let config2 = std::fs::read_to_string(dir.path().join("pg").join("strata-2.toml"))
        .expect("node 2's configuration");
    for m in 1..=3 {
        let url = format!("http://127.0.0.1:{}", storage_base + 88 + 2 * m);
        assert!(
            config2.contains(&url),
            "node 2 does not list {url}:\n{config2}"
        );
    }
    // Keep reading stdout so the playground never blocks on a full pipe.
    let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let node1 = port;
    let node2 = port + 100;
    let mut c1 = connect(node1).await.expect("connect to compute node 1");
    c1.query_drop("CREATE TABLE pg_t (id INT PRIMARY KEY, v VARCHAR(20))")
        .await
        .expect("create through node 1");
    c1.query_drop("INSERT INTO pg_t VALUES (1, 'one'), (2, 'two')")
        .await
        .expect("insert through node 1");
    drop(c1);

    let mut c2 = connect(node2).await.expect("connect to compute node 2");
    c2.query_drop("INSERT INTO pg_t VALUES (3, 'three')")
        .await
        .expect("insert through node 2 into the table node 1 created");
    let v: Option<String> = c2
        .query_first("SELECT v FROM pg_t WHERE id = 1")
        .await
        .expect("select through node 2");
    assert_eq!(v.as_deref(), Some("one"));

    // One etcd member dies: DDL through node 2 still goes through (two of three).
    signal(etcd_pids[0], libc::SIGKILL);
    c2.query_drop("CREATE TABLE pg_after_etcd (id INT PRIMARY KEY)")
        .await
        .expect("DDL with one etcd member down");
    c2.disconnect().await.expect("disconnect");

    // Node 1 dies for good; node 2 and the playground carry on.
    signal(pids[0], libc::SIGKILL);
    let mut refused = false;
    for _ in 0..100 {
        if connect(node1).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "compute node 1 still accepts connections after SIGKILL"
    );

    let mut c2 = connect(node2).await.expect("node 2 after node 1 died");
    c2.query_drop("INSERT INTO pg_t VALUES (4, 'four')")
        .await
        .expect("insert through node 2 after node 1 died");
    let count: Option<i64> = c2
        .query_first("SELECT COUNT(*) FROM pg_t")
        .await
        .expect("count through node 2");
    assert_eq!(count, Some(4));
    c2.disconnect().await.expect("disconnect");
    assert!(
        playground.try_wait().expect("try_wait").is_none(),
        "the playground exited when one compute node died; its stderr:\n{}",
        log()
    );

    // SIGTERM stops node 2, etcd and the storage nodes, and the playground exits 0.
    signal(playground.id().expect("playground pid"), libc::SIGTERM);
    let status = tokio::time::timeout(STOP_TIMEOUT, playground.wait())
        .await
        .expect("the playground stops after SIGTERM")
        .expect("wait");
    assert!(status.success(), "exit status {status}; stderr:\n{}", log());
    drain.abort();
    assert!(
        connect(node2).await.is_err(),
        "compute node 2 still serves after the playground stopped"
    );
    assert!(
        bindable(&[storage_base + 92, storage_base + 94]),
        "etcd still listens after the playground stopped"
    );
}
