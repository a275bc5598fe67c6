//! `strata playground --compute-nodes 2`: the real binary with two data nodes, a local
//! etcd and two `strata serve` processes; a table created through node 1 is used
//! through node 2, node 1 is SIGKILLed and node 2 keeps answering; SIGTERM stops it all.

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
/// HTTP and admin ports), and a storage base port B with B+1, B+2 (two data nodes) and
/// B+90, B+91 (etcd) free.
fn free_ports() -> (u16, u16) {
    for _ in 0..200 {
        let p = strata_localnode::free_port().expect("free port");
        let b = strata_localnode::free_port().expect("free port");
        if p > u16::MAX - 102 || b > u16::MAX - 91 {
            continue;
        }
        let mut ports = vec![p, p + 1, p + 2, p + 100, p + 101, p + 102];
        ports.extend([b + 1, b + 2, b + 90, b + 91]);
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() == ports.len() && bindable(&ports) {
            return (p, b);
        }
    }
    panic!("no free ports for the playground");
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

    // "  compute node 1 (pid 1234): mariadb ..." for each node, then "Press Ctrl-C".
    let mut pids = Vec::new();
    let started = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(rest) = line.trim_start().strip_prefix("compute node ") {
                if let Some((_, after)) = rest.split_once("(pid ") {
                    let pid: u32 = after
                        .split(')')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .expect("pid in the line");
                    pids.push(pid);
                }
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
        bindable(&[storage_base + 90]),
        "etcd still listens after the playground stopped"
    );
}
