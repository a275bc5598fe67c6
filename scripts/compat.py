#!/usr/bin/env python3
"""MariaDB's own test suite (`mariadb-test`, suite `main/`) through Strata.

Starts MariaDB storage node(s) configured like mysql-test-run's default server, a Strata
compute node over them (logical database `test` on every data node), and runs each test
file twice with `mariadb-test`: directly against storage node 1 and through Strata. A
file passes when mariadb-test exits 0 (its output equals the recorded `.result`).
Reports per file pass/fail both ways, the ratio (files passing through Strata / files
passing directly) and, for each file that passes directly but not through Strata, the
reason: the first error or the first differing line, grouped into classes.

Only the Python standard library and the MariaDB client tools are used. See
docs/compatibility.md for how to run it and what the numbers are today.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

MTR_DIR = Path("/usr/share/mysql/mysql-test")
REPO = Path(__file__).resolve().parent.parent
SYSTEM_SCHEMAS = {"information_schema", "mysql", "performance_schema", "sys", "test", "mtr"}
# mariadb-test's exit status for a file that skipped itself (--skip, have_xxx.inc).
SKIPPED = 62
# Files that stop, restart or kill the server or need per-test server options cannot
# run against a server the harness shares between files.
SERVER_CONTROL = re.compile(
    r"restart_mysqld|shutdown_server|kill_mysqld|start_mysqld|restart_abort|"
    r"wait_until_disconnected|send_shutdown|kill_server|crash_mysqld|\$MYSQLD\b|"
    r"rpl_|have_debug|not_embedded_server_with_restart",
    re.I,
)

# Files that rewrite the storage server's own account tables can lock every account
# out (bad_user_table empties mysql.global_priv and restores it only if all goes well).
SYSTEM_TABLE_WRITE = re.compile(
    r"\b(truncate|delete\s+from|insert(\s+into)?|update|alter\s+table|drop\s+table|rename\s+table)\s+(table\s+)?`?mysql`?\.`?(global_priv|user|db)\b",
    re.I,
)

# Options of include/default_mysqld.cnf that change results (the rest tune memory).
STORAGE_ARGS = [
    "--character-set-server=latin1",
    "--collation-server=latin1_swedish_ci",
    "--local-infile",
    "--log-bin-trust-function-creators=1",
    "--key-buffer-size=1M",
    "--sort-buffer-size=256K",
    "--max-heap-table-size=1M",
    "--default-storage-engine=myisam",
    "--use-stat-tables=preferably",
    "--histogram-type=json_hb",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=16M",
    "--performance-schema=OFF",
    "--skip-log-bin",
    "--max-connections=300",
    "--open-files-limit=1024",
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_port(port, timeout, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def client(port, sql, user="root", password="", database=None, timeout=30, force=False):
    """Runs SQL with the mariadb CLI; returns (ok, stdout, stderr). `force` goes on
    after a failing statement."""
    cmd = ["mariadb", "--no-defaults", "--protocol=TCP", "-h127.0.0.1", f"-P{port}",
           f"-u{user}", "--batch", "--skip-column-names"] + (["--force"] if force else [])
    if password:
        cmd.append(f"-p{password}")
    if database:
        cmd.append(database)
    try:
        p = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                           timeout=timeout, errors="replace")
    except subprocess.TimeoutExpired:
        return False, "", "timeout"
    return p.returncode == 0, p.stdout, p.stderr


def stop_process(proc, timeout):
    """Asks a child process to stop (SIGTERM) and reaps it; kills it after `timeout` s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class StorageNode:
    """One mariadbd with its own data directory, configured like mysql-test-run's."""

    def __init__(self, root, index, port):
        self.dir = root / "storage" / f"dn{index}"
        self.port = port
        self.proc = None

    def start(self, vardir):
        datadir = self.dir / "data"
        tmp = self.dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        if not (datadir / "mysql").is_dir():
            datadir.mkdir(parents=True, exist_ok=True)
            init = self.dir / "init.sql"
            init.write_text(
                "FLUSH PRIVILEGES;\n"
                "CREATE USER IF NOT EXISTS 'strata'@'localhost' IDENTIFIED BY 'strata';\n"
                "GRANT ALL ON *.* TO 'strata'@'localhost' WITH GRANT OPTION;\n"
                "CREATE USER IF NOT EXISTS 'strata'@'127.0.0.1' IDENTIFIED BY 'strata';\n"
                "GRANT ALL ON *.* TO 'strata'@'127.0.0.1' WITH GRANT OPTION;\n"
                "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n"
                "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
                "CREATE DATABASE IF NOT EXISTS test;\n"
            )
            subprocess.run(
                ["mariadb-install-db", "--no-defaults", f"--datadir={datadir}",
                 "--auth-root-authentication-method=normal", "--skip-test-db",
                 f"--tmpdir={tmp}", f"--extra-file={init}", "--user=root"],
                check=True, capture_output=True)
        cmd = ["mariadbd", "--no-defaults", f"--datadir={datadir}", f"--tmpdir={tmp}",
               f"--port={self.port}", "--bind-address=127.0.0.1",
               f"--socket={self.dir / 'mysqld.sock'}", f"--pid-file={self.dir / 'mysqld.pid'}",
               f"--log-error={self.dir / 'error.log'}", f"--secure-file-priv={vardir}",
               "--user=root"] + STORAGE_ARGS
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        if not wait_port(self.port, 60, self.proc):
            raise RuntimeError(f"storage node on port {self.port} did not start; see {self.dir / 'error.log'}")
        for _ in range(50):
            if client(self.port, "SELECT 1")[0]:
                return
            time.sleep(0.2)
        raise RuntimeError(f"storage node on port {self.port} does not accept root")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wipe(self):
        """Forgets the data directory (the next start initialises a fresh one)."""
        shutil.rmtree(self.dir / "data", ignore_errors=True)

    def stop(self):
        stop_process(self.proc, 60)
        self.proc = None


class ComputeNode:
    """`strata serve` over the storage nodes, logical database `test` on all of them."""

    def __init__(self, root, binary, port, storage, vardir):
        self.root = root
        self.binary = binary
        self.port = port
        self.storage = storage
        self.vardir = vardir
        self.proc = None

    def config(self):
        nodes = "".join(
            f"""
[[data_node]]
id = {i}
primary = {{ host = "127.0.0.1", port = {s.port}, user = "strata", password = "strata", database = "test" }}
""" for i, s in enumerate(self.storage, 1))
        ids = ", ".join(str(i) for i in range(1, len(self.storage) + 1))
        return f"""[server]
service_addr = "127.0.0.1:{self.port}"
admin_addr = "127.0.0.1:0"
http_addr = "127.0.0.1:0"
data_dir = "{self.root / 'meta'}"
storage_globals = "settable"
# Server-side files as the direct MariaDB has them: its --secure-file-priv, relative
# names under its data directory (storage node 1's, where the direct run writes).
secure_file_priv = "{self.vardir}"
file_base_dir = "{self.storage[0].dir / 'data'}"

[[user]]
name = "root"
host = "localhost"
password = ""
{nodes}
[[database]]
name = "test"
data_nodes = [{ids}]
"""

    def start(self):
        path = self.root / "strata.toml"
        path.write_text(self.config())
        logf = open(self.root / "strata.log", "ab")
        env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.proc = subprocess.Popen([str(self.binary), "serve", "--config", str(path)],
                                     stdout=logf, stderr=logf, env=env, start_new_session=True)
        if not wait_port(self.port, 60, self.proc):
            raise RuntimeError(f"strata did not start; see {self.root / 'strata.log'}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        stop_process(self.proc, 30)
        self.proc = None


def test_env(port, vardir):
    """The variables mysql-test-run exports that test files refer to."""
    conn = f"--no-defaults --protocol=TCP --host=127.0.0.1 --port={port} --user=root"
    return dict(
        os.environ,
        MYSQL_TEST_DIR=str(MTR_DIR),
        MYSQLTEST_VARDIR=str(vardir),
        MYSQL_TMP_DIR=str(vardir / "tmp"),
        MYSQL_CHARSETSDIR="/usr/share/mysql/charsets",
        MYSQL_SHAREDIR="/usr/share/mysql",
        MYSQL_BINDIR="/usr",
        MASTER_MYPORT=str(port),
        MASTER_MYSOCK=str(vardir / "no.sock"),
        MYSQL=f"mariadb {conn}",
        MYSQL_DUMP=f"mariadb-dump {conn}",
        MYSQL_SHOW=f"mariadb-show {conn}",
        MYSQL_CHECK=f"mariadb-check {conn}",
        MYSQL_IMPORT=f"mariadb-import {conn}",
        MYSQL_SLAP=f"mariadb-slap {conn}",
        MYSQLADMIN=f"mariadb-admin {conn}",
        MYSQL_ADMIN=f"mariadb-admin {conn}",
        MYSQL_BINLOG="mariadb-binlog --no-defaults",
        MYSQL_TEST=f"mariadb-test {conn}",
    )


def run_file(name, port, vardir, timeout, tag):
    """Runs main/<name>.test against `port`; returns (status, detail, output)."""
    logdir = vardir / "log" / tag
    logdir.mkdir(parents=True, exist_ok=True)
    # mariadb-test writes `<result>.reject` beside the result file: use a copy.
    result = logdir / f"{name}.result"
    shutil.copyfile(MTR_DIR / "main" / f"{name}.result", result)
    reject = logdir / f"{name}.reject"
    if reject.exists():
        reject.unlink()
    cmd = ["mariadb-test", "--no-defaults", "--protocol=TCP", "--host=127.0.0.1",
           f"--port={port}", "--user=root", "--database=test", f"--basedir={MTR_DIR}",
           f"--test-file={MTR_DIR / 'main' / (name + '.test')}",
           f"--result-file={result}",
           f"--logdir={logdir}", f"--tmpdir={vardir / 'tmp'}",
           "--character-sets-dir=/usr/share/mysql/charsets", "--tail-lines=5",
           "--max-connect-retries=3"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=timeout, env=test_env(port, vardir), cwd=str(MTR_DIR))
    except subprocess.TimeoutExpired:
        return "fail", "timeout", ""
    out = p.stdout + p.stderr
    (logdir / f"{name}.out").write_text(out)
    if p.returncode == 0:
        return "pass", "", out
    if p.returncode == SKIPPED:
        return "skip", out.strip().splitlines()[-1] if out.strip() else "", out
    return "fail", classify(name, out, reject), out


NUM = re.compile(r"\b\d+\b")
QUOTED = re.compile(r"(?<![A-Za-z])'[^']*'")


def normalize(message):
    # Strata's refusals (1235) name what is unsupported inside quotes: keep it.
    if "doesn't yet support" in message:
        return message.strip()[:160]
    return NUM.sub("N", QUOTED.sub("'?'", message)).strip()[:120]


def classify(name, out, reject):
    """The reason a run failed, as a class name (first error or first differing line)."""
    m = re.search(r"query '(.*?)' failed: (?:(\w+) )?\(?(\d+)\)?: (.*)", out, re.S)
    if m:
        stmt, code, msg = m.group(1), m.group(3), m.group(4)
        return f"error {code}: {normalize(msg.splitlines()[0] if msg else '')} [{statement_head(stmt)}]"
    m = re.search(r"query '(.*?)' succeeded - should have failed with error[^\n]*?\((\d+)\)", out, re.S)
    if m:
        return f"succeeded, expected error {m.group(2)} [{statement_head(m.group(1))}]"
    m = re.search(r"query '(.*?)' failed with wrong errno (?:\w+ )?\(?(\d+)\)?: '(.*?)', instead of (?:\w+ )?\(?(\d+)\)?", out, re.S)
    if m:
        return f"error {m.group(2)} instead of {m.group(4)}: {normalize(m.group(3))} [{statement_head(m.group(1))}]"
    if "Result content mismatch" in out or "Result length mismatch" in out:
        return first_difference(name, reject)
    m = re.search(r"mysqltest: (?:At line \d+: )?(.*)", out)
    if m:
        return "mysqltest: " + normalize(m.group(1))
    return "failed: " + normalize(out.strip().splitlines()[-1] if out.strip() else "no output")


def statement_head(stmt):
    # mysqltest's `if (`query`)` shows the whole block: the query is the backquoted part.
    inner = re.search(r"`([^`]*)`", stmt) if stmt.lstrip().lower().startswith(("if", "while")) else None
    words = re.findall(r"[A-Za-z_@]+", inner.group(1) if inner else stmt)[:2]
    return " ".join(w.upper() for w in words)


def first_difference(name, reject):
    expected = (MTR_DIR / "main" / f"{name}.result").read_text(errors="replace").splitlines()
    try:
        got = reject.read_text(errors="replace").splitlines()
    except OSError:
        return "result mismatch (no reject file)"
    last_stmt = ""
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        if e != g:
            line = g if g is not None else "<end of output>"
            if line.startswith("ERROR "):
                return f"different error: {normalize(line)} [{statement_head(last_stmt)}]"
            if e is not None and e.startswith("ERROR "):
                return f"missing error: {normalize(e)} [{statement_head(last_stmt)}]"
            return f"different result [{statement_head(last_stmt)}]"
        if e and re.match(r"[A-Za-z]", e) and not e.startswith(("Warning", "Note", "Error")):
            last_stmt = e
    return "result mismatch"


def stop_on_signal(compute, storage):
    """Returns a function that stops the compute node and the storage nodes, and makes
    SIGTERM/SIGINT call it before exiting, so no server outlives the harness."""
    def stop_all():
        compute.stop()
        for s in storage:
            s.stop()

    def on_signal(signum, _frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop_all


def port_taken(port):
    """True when something accepts connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def prepare_mtr_schema(compute, storage):
    """mysql-test-run's own database `mtr`: test files call mtr.add_suppression(). It
    is created through Strata (so both runs see it) with a no-op procedure on each
    storage node."""
    client(compute.port, "CREATE DATABASE IF NOT EXISTS mtr")
    for s in storage:
        client(s.port, "CREATE DATABASE IF NOT EXISTS mtr;\n"
                       "CREATE OR REPLACE PROCEDURE mtr.add_suppression(pattern VARCHAR(255)) BEGIN END;")


# The tables of each storage server's `mysql` schema when its cluster started (port ->
# names): with storage globals settable a file may rename or drop them (time zone and
# statistics tables) and fail before putting them back.
MYSQL_TABLES = {}


def mysql_tables(port):
    ok, out, _ = client(port, "SELECT table_name FROM information_schema.TABLES "
                              "WHERE table_schema = 'mysql' ORDER BY 1")
    return out if ok else None


def reset_state(port, via_strata):
    """Drops what a failed file left behind: databases, tables and views in `test`,
    accounts, routines and events (directly only). Returns False when the server does not answer."""
    # Through Strata the check logs in as the files do, into `test`: a file that left
    # an account shadowing root's (`''@localhost`) makes that fail.
    ok, out, _ = client(port, "SHOW DATABASES", database="test" if via_strata else None)
    if not ok:
        return False
    stmts = [f"DROP DATABASE IF EXISTS `{d}`;" for d in out.split()
             if d.lower() not in SYSTEM_SCHEMAS]
    ok, out, _ = client(port, "SHOW FULL TABLES FROM test")
    for line in out.splitlines() if ok else []:
        parts = line.split("\t")
        if len(parts) == 2:
            kind = "VIEW" if parts[1] == "VIEW" else "TABLE"
            stmts.append(f"DROP {kind} IF EXISTS test.`{parts[0]}`;")
    if not via_strata:
        ok, out, _ = client(port, "SELECT CONCAT(QUOTE(user), '@', QUOTE(host)) FROM mysql.user "
                                  "WHERE user NOT IN ('root', 'strata', 'mariadb.sys', 'mysql', '')")
        stmts += [f"DROP USER {u};" for u in out.split()] if ok else []
        # Routines and events a failed file left in `test` (triggers go with tables).
        ok, out, _ = client(port, "SELECT CONCAT(ROUTINE_TYPE, ' IF EXISTS test.`', ROUTINE_NAME, '`') "
                                  "FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'test' "
                                  "UNION ALL SELECT CONCAT('EVENT IF EXISTS test.`', EVENT_NAME, '`') "
                                  "FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'test'")
        stmts += [f"DROP {r};" for r in out.splitlines() if r.strip()] if ok else []
        stmts.append("CREATE DATABASE IF NOT EXISTS test;")
    if stmts:
        client(port, "SET foreign_key_checks = 0;\n" + "\n".join(stmts), force=True)
    if not via_strata and port in MYSQL_TABLES and mysql_tables(port) != MYSQL_TABLES[port]:
        # A `mysql` table renamed or dropped and not put back: start again.
        return False
    return True


def reset_globals(compute_port, storage_port):
    """Puts the compute node's own global variables (SET GLOBAL through Strata) back to
    the storage server's values, which are its defaults: a file that failed between its
    SET GLOBAL and the restore would otherwise leave them to the files after it."""
    ok_c, through, _ = client(compute_port, "SHOW GLOBAL VARIABLES")
    ok_s, direct, _ = client(storage_port, "SHOW GLOBAL VARIABLES")
    if not (ok_c and ok_s):
        return
    def values(out):
        return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    theirs = values(direct)
    stmts = [f"SET GLOBAL `{name}` = DEFAULT;" for name, value in values(through).items()
             if name in theirs and theirs[name] != value]
    if stmts:
        client(compute_port, "\n".join(stmts), force=True)


def select_files(args):
    all_files = sorted(p.stem for p in (MTR_DIR / "main").glob("*.test"))
    if args.list:
        wanted = [l.split("#")[0].strip() for l in Path(args.list).read_text().splitlines()]
        names = [w for w in wanted if w]
    elif args.tests:
        names = args.tests
    else:
        names = all_files
        if args.every > 1:
            names = names[args.offset::args.every]
        if args.files:
            names = names[: args.files]
    runnable, excluded = [], {}
    for n in names:
        test = MTR_DIR / "main" / f"{n}.test"
        if not test.exists():
            excluded[n] = "no such test"
        elif not (MTR_DIR / "main" / f"{n}.result").exists():
            excluded[n] = "no result file"
        elif any((MTR_DIR / "main" / f"{n}{s}").exists() for s in
                 ("-master.opt", ".opt", ".cnf", "-master.sh", ".combinations")):
            excluded[n] = "needs its own server options"
        elif SERVER_CONTROL.search(test.read_text(errors="replace")):
            excluded[n] = "controls the server (restart, debug build, replication)"
        elif SYSTEM_TABLE_WRITE.search(test.read_text(errors="replace")):
            excluded[n] = "rewrites the storage server's account tables"
        else:
            runnable.append(n)
    return runnable, excluded


def report(results, excluded, nodes, out_dir, elapsed):
    direct = [r for r in results if r["direct"] == "pass"]
    through = [r for r in direct if r["strata"] == "pass"]
    ratio = len(through) / len(direct) if direct else 0.0
    classes = defaultdict(list)
    for r in direct:
        if r["strata"] != "pass":
            classes[r["strata_reason"] or r["strata"]].append(r["file"])
    refused = sorted(r["file"] for r in direct if r["strata"] != "pass"
                     and "1235" in (r["strata_reason"] or ""))
    lines = [
        f"# mariadb-test main/ through Strata ({nodes} data node{'s' if nodes > 1 else ''})",
        "",
        f"- files run: {len(results)} (excluded before running: {len(excluded)}); {elapsed:.0f} s",
        f"- skipped directly (missing feature of the server build): {sum(r['direct'] == 'skip' for r in results)}",
        f"- failed directly: {sum(r['direct'] == 'fail' for r in results)}",
        f"- **pass directly: {len(direct)}; pass through Strata too: {len(through)}; ratio {ratio:.3f}**",
        f"- pass through Strata but not directly: {sum(r['direct'] != 'pass' and r['strata'] == 'pass' for r in results)}",
    ]
    if nodes > 1:
        lines.append(f"- refused with 1235 through Strata: {len(refused)}; "
                     f"other differences (different answers or errors): {len(direct) - len(through) - len(refused)}")
    lines += ["", "## Differences by class (files passing directly, not through Strata)", ""]
    for reason, files in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"- {len(files)} × `{reason}`: {', '.join(sorted(files))}")
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    (out_dir / "results.json").write_text(json.dumps(
        {"nodes": nodes, "ratio": ratio, "direct_pass": len(direct),
         "strata_pass": len(through), "results": results, "excluded": excluded}, indent=1))
    return text, ratio, direct, through


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tests", nargs="*", help="test names (main/<name>.test); default: all")
    ap.add_argument("--list", help="file with one test name a line (# comments)")
    ap.add_argument("--files", type=int, help="run only the first N selected files")
    ap.add_argument("--every", type=int, default=1, help="take every K-th file (a spread sample)")
    ap.add_argument("--offset", type=int, default=0, help="start of the --every sample")
    ap.add_argument("--nodes", type=int, default=1, help="data nodes under database test")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per file and run")
    ap.add_argument("--budget", type=float, default=0, help="stop starting files after S seconds")
    ap.add_argument("--out", default=str(REPO / "target" / "compat"), help="work and report directory")
    ap.add_argument("--base-port", type=int, default=3700)
    ap.add_argument("--strata", help="strata binary (default: $CARGO_TARGET_DIR/debug/strata)")
    ap.add_argument("--require-all", action="store_true",
                    help="exit 1 unless every selected file passes both ways (CI sample)")
    args = ap.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = Path(args.strata) if args.strata else target / "debug" / "strata"
    if not binary.exists():
        sys.exit(f"compat: {binary} not found; run cargo build -p strata")
    out_dir = Path(args.out).resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    vardir = out_dir / "var"
    (vardir / "tmp").mkdir(parents=True)
    (vardir / "log").mkdir(parents=True)

    runnable, excluded = select_files(args)
    log(f"compat: {len(runnable)} files to run, {len(excluded)} excluded, {args.nodes} data node(s)")
    taken = [p for p in range(args.base_port, args.base_port + args.nodes + 1) if port_taken(p)]
    if taken:
        # Another run (or anything else) listens there: its servers would answer this
        # run's files, and the numbers would be theirs.
        sys.exit(f"compat: port(s) {taken} already in use; choose other ports with --base-port")
    storage = [StorageNode(out_dir, i, args.base_port + i) for i in range(1, args.nodes + 1)]
    compute = ComputeNode(out_dir, binary, args.base_port, storage, vardir)

    def start_all():
        for s in storage:
            s.start(vardir)
        compute.start()
        prepare_mtr_schema(compute, storage)
        for s in storage:
            MYSQL_TABLES.setdefault(s.port, mysql_tables(s.port))

    stop_all = stop_on_signal(compute, storage)
    results = []
    started = time.time()
    try:
        start_all()
        for i, name in enumerate(runnable, 1):
            if args.budget and time.time() - started > args.budget:
                log(f"compat: time budget spent after {i - 1} files")
                break
            entry = {"file": name}
            for tag, port, via in (("direct", storage[0].port, False),
                                   ("strata", compute.port, True)):
                t0 = time.time()
                status, reason, _ = run_file(name, port, vardir, args.timeout, tag)
                entry[tag] = status
                entry[f"{tag}_reason"] = reason
                entry[f"{tag}_seconds"] = round(time.time() - t0, 1)
                if tag == "direct" and status != "pass":
                    entry["strata"], entry["strata_reason"] = "not run", ""
                    break
                healthy = all(s.alive() for s in storage) and compute.alive()
                if healthy:
                    healthy = reset_state(compute.port, True) and reset_state(storage[0].port, False)
                    if healthy and tag == "strata":
                        reset_globals(compute.port, storage[0].port)
                    for s in storage[1:]:
                        healthy = reset_state(s.port, False) and healthy
                if not healthy:
                    # A file that leaves a server unusable (dead, hung, accounts gone):
                    # start again from fresh data directories and metadata.
                    log(f"compat: recreating the cluster after {name} ({tag})")
                    entry[f"{tag}_reason"] = (reason + "; " if reason else "") + "left the server unusable"
                    stop_all()
                    for s in storage:
                        s.wipe()
                    shutil.rmtree(out_dir / "meta", ignore_errors=True)
                    start_all()
            if entry["direct"] != "pass":
                reset_state(compute.port, True)
                reset_state(storage[0].port, False)
            results.append(entry)
            log(f"[{i}/{len(runnable)}] {name}: direct {entry['direct']}, strata {entry['strata']}"
                + (f" ({entry['strata_reason']})" if entry["strata"] == "fail" else ""))
    finally:
        stop_all()
    text, ratio, direct, through = report(results, excluded, args.nodes, out_dir, time.time() - started)
    print(text)
    log(f"compat: report in {out_dir / 'report.md'}")
    if args.require_all:
        bad = [r["file"] for r in results if r["direct"] != "pass" or r["strata"] != "pass"]
        if bad:
            log(f"compat: not passing both ways: {', '.join(bad)}")
            sys.exit(1)


if __name__ == "__main__":
    main()
