#!/usr/bin/env python3
"""Summarise bench/run's results.csv into results.md and chart.dat.

usage: report.py OUT_DIR [DATA_NODES]   (reads OUT_DIR/results.csv and OUT_DIR/env.txt)

Throughput is the median over repetitions. CPU microseconds per query are computed per
run (process CPU delta / queries that run completed) and the median is reported; the
Strata column uses runs against Strata, the HAProxy column runs against HAProxy.

With DATA_NODES > 1 the targets are two Strata compute nodes over the same sharded
tables, `strata` (XA commits) and `strata_be` (best-effort commits), and the report
gives each one's numbers, the XA / best-effort ratios (median of the per-repetition
ratios: the repetitions are interleaved) and the statements the storage nodes executed
per client transaction (SHOW GLOBAL STATUS deltas summed over the nodes). A `baseline`
target (BENCH_BASELINE_BIN) is compared with `strata` as in the one-node report.
"""
import csv
import glob
import os
import re
import statistics
import sys

TARGETS = ["direct", "haproxy", "strata"]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def error_lines(out, workload, threads, target, rep):
    """The first distinct error lines of one run's raw sysbench output."""
    raw = os.path.join(out, "raw", f"{workload}_t{threads}_{target}_r{rep}.txt")
    if not os.path.exists(raw):
        return []
    seen = []
    for line in open(raw, encoding="utf-8", errors="replace"):
        line = line.strip()
        if re.search(r"FATAL|ERROR|error \d+|Error", line) and line not in seen:
            seen.append(line[:300])
        if len(seen) >= 3:
            break
    return seen


def baseline_section(cases, runs):
    """This build against BENCH_BASELINE_BIN's, measured in the same run: the median of
    the per-repetition ratios (each repetition runs the two back to back)."""
    def ok(r):
        return int(r["errors"]) >= 0 and int(r["queries"]) > 0

    def cpu(r, col="strata_cpu_s"):
        return float(r[col]) * 1e6 / int(r["queries"])

    lines = []
    for case in cases:
        new = {r["rep"]: r for r in runs.get((case, "strata"), []) if ok(r)}
        old = {r["rep"]: r for r in runs.get((case, "baseline"), []) if ok(r)}
        reps = [k for k in new if k in old]
        if not reps:
            continue
        if not lines:
            lines = ["", "This build (`strata`) against the baseline build (BENCH_BASELINE_BIN), "
                     "interleaved in the same run; ratios are medians of the per-repetition "
                     "ratios (new / baseline):", "",
                     "| workload | thr | strata qps | baseline qps | qps new/base | strata us/q (user) "
                     "| baseline us/q (user) | cpu/q new/base | user cpu/q new/base |",
                     "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        qn = median([float(new[k]["qps"]) for k in reps])
        qb = median([float(old[k]["qps"]) for k in reps])
        cn = median([cpu(new[k]) for k in reps])
        cb = median([cpu(old[k]) for k in reps])
        un = median([cpu(new[k], "strata_user_s") for k in reps])
        ub = median([cpu(old[k], "strata_user_s") for k in reps])
        qr = median([float(new[k]["qps"]) / float(old[k]["qps"]) for k in reps])
        cr = median([cpu(new[k]) / cpu(old[k]) for k in reps if cpu(old[k]) > 0])
        ur = median([cpu(new[k], "strata_user_s") / cpu(old[k], "strata_user_s")
                     for k in reps if cpu(old[k], "strata_user_s") > 0])
        lines.append(f"| {case[0]} | {case[1]} | {fmt(qn)} | {fmt(qb)} | **{fmt(qr, 2)}** "
                     f"| {fmt(cn, 1)} ({fmt(un, 1)}) | {fmt(cb, 1)} ({fmt(ub, 1)}) "
                     f"| **{fmt(cr, 2)}** | {fmt(ur, 2)} |")
    return lines


def log_section(out):
    """The first lines of Strata's log(s) saved with the results (warnings and errors)."""
    lines = []
    for f in sorted(glob.glob(os.path.join(out, "strata*.log")) + glob.glob(os.path.join(out, "baseline.log"))):
        text = open(f, encoding="utf-8", errors="replace").read().strip()
        if text:
            n = len(text.splitlines())
            lines += ["", f"`{os.path.basename(f)}` ({n} lines at RUST_LOG=warn), first lines:", "", "```"]
            lines += [l[:300] for l in text.splitlines()[:10]] + ["```"]
    return lines


def main():
    out = sys.argv[1]
    data_nodes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if data_nodes > 1:
        return multi_node_report(out, data_nodes)
    rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
    cases = []
    runs = {}
    for r in rows:
        case = (r["workload"], int(r["threads"]))
        if case not in cases:
            cases.append(case)
        runs.setdefault((case, r["target"]), []).append(r)

    def stat(case, target, key, per_query_cpu=None):
        rs = runs.get((case, target), [])
        vals = []
        for r in rs:
            if int(r["errors"]) < 0 or int(r["queries"]) == 0:
                continue
            if per_query_cpu:
                vals.append(float(r[per_query_cpu]) * 1e6 / int(r["queries"]))
            else:
                vals.append(float(r[key]))
        return median(vals)

    lines = []
    env = os.path.join(out, "env.txt")
    if os.path.exists(env):
        lines += ["```", open(env).read().rstrip(), "```", ""]
    lines += [
        "Median of repetitions. qps = queries/s (for read_write one transaction is 20 queries: 14 reads, 4 writes, BEGIN and COMMIT; "
        "for point_select and insert 1). CPU us/q = process CPU (user+sys, /proc/<pid>/stat) "
        "per query during runs against that target; (user) is the user-space part, the rest is "
        "kernel time (system calls, TCP stack, scheduling).",
        "",
        "| workload | thr | direct qps | haproxy qps | strata qps | S/direct | S/haproxy "
        "| p95 ms d / h / s | haproxy us/q (user) | strata us/q (user) | S/H cpu | mariadb us/q d / h / s |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    chart = ["# label direct haproxy strata haproxy_cpu strata_cpu"]
    errors = []
    for case in cases:
        qps = {t: stat(case, t, "qps") for t in TARGETS}
        p95 = {t: stat(case, t, "p95_ms") for t in TARGETS}
        hcpu = stat(case, "haproxy", None, "haproxy_cpu_s")
        scpu = stat(case, "strata", None, "strata_cpu_s")
        hucpu = stat(case, "haproxy", None, "haproxy_user_s")
        sucpu = stat(case, "strata", None, "strata_user_s")
        mcpu = {t: stat(case, t, None, "mariadb_cpu_s") for t in TARGETS}
        lines.append(
            f"| {case[0]} | {case[1]} | {fmt(qps['direct'])} | {fmt(qps['haproxy'])} "
            f"| {fmt(qps['strata'])} | {ratio(qps['strata'], qps['direct'])} "
            f"| {ratio(qps['strata'], qps['haproxy'])} "
            f"| {' / '.join(fmt(p95[t], 2) for t in TARGETS)} "
            f"| {fmt(hcpu, 1)} ({fmt(hucpu, 1)}) | {fmt(scpu, 1)} ({fmt(sucpu, 1)}) "
            f"| {ratio(scpu, hcpu)} "
            f"| {' / '.join(fmt(mcpu[t], 1) for t in TARGETS)} |"
        )
        label = f"{case[0]}/{case[1]}"
        vals = [qps[t] for t in TARGETS] + [hcpu, scpu]
        chart.append(label + " " + " ".join("0" if v is None else f"{v:.2f}" for v in vals))
        for t in TARGETS:
            for r in runs.get((case, t), []):
                if int(r["errors"]) != 0:
                    errors.append(f"{case[0]} {case[1]} threads {t} rep {r['rep']}: "
                                  f"{'sysbench failed' if int(r['errors']) < 0 else r['errors'] + ' ignored errors'}")
                    if int(r["errors"]) < 0:
                        errors += [f"  `{l}`" for l in error_lines(out, case[0], case[1], t, r["rep"])]
    tx = [c for c in cases if c[0] in ("read_write", "read_only")]
    if tx:
        lines += ["", "Transactions per second (median):", "",
                  "| workload | thr | direct tps | haproxy tps | strata tps |", "|---|---:|---:|---:|---:|"]
        for case in tx:
            lines.append(f"| {case[0]} | {case[1]} | "
                         + " | ".join(fmt(stat(case, t, "tps")) for t in TARGETS) + " |")
    lines += baseline_section(cases, runs)
    if errors:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in errors]
    conn = os.path.join(out, "connscale.txt")
    if os.path.exists(conn):
        kv = dict(l.split("=", 1) for l in open(conn).read().splitlines() if "=" in l)
        lines += ["", "Connection scale (Strata):", "",
                  "| idle conns opened | connect errors | RSS before KiB | RSS idle KiB "
                  "| KiB per idle conn | active | point selects/s | p95 ms | query errors |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {kv.get('connections_opened')} | {kv.get('connect_errors')} "
                  f"| {kv.get('rss_before_kib')} | {kv.get('rss_idle_kib')} "
                  f"| {kv.get('rss_per_idle_conn_kib')} | {kv.get('active_connections')} "
                  f"| {kv.get('qps')} | {kv.get('p95_ms')} | {kv.get('query_errors')} |"]
        if "first_error" in kv:
            lines.append(f"\nfirst error: `{kv['first_error']}`")
    sysc = os.path.join(out, "profile", "syscalls.md")
    if os.path.exists(sysc):
        lines += ["", open(sysc).read().rstrip()]
    lines += log_section(out)
    open(os.path.join(out, "results.md"), "w").write("\n".join(lines) + "\n")
    open(os.path.join(out, "chart.dat"), "w").write("\n".join(chart) + "\n")


MODES = [("strata", "XA"), ("strata_be", "best effort"), ("baseline", "baseline build (XA)")]
DN = ["questions", "select", "insert", "update", "delete", "begin", "commit", "rollback",
      "xa_start", "xa_prepare", "xa_commit", "xa_rollback"]


def multi_node_report(out, data_nodes):
    rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
    cases, runs = [], {}
    for r in rows:
        case = (r["workload"], int(r["threads"]))
        if case not in cases:
            cases.append(case)
        runs.setdefault((case, r["target"]), []).append(r)

    def good(case, target):
        return [r for r in runs.get((case, target), [])
                if int(r["errors"]) >= 0 and int(r["queries"]) > 0]

    def med(case, target, f):
        return median([f(r) for r in good(case, target)])

    def per_query(col):
        return lambda r: float(r[col]) * 1e6 / int(r["queries"])

    def transactions(r):
        return float(r["tps"]) * float(r["seconds"])

    def per_tx(col):
        def f(r):
            v = r.get("dn_" + col)
            if v in (None, "") or not transactions(r):
                return None  # column absent (older results.csv)
            return float(v) / transactions(r)
        return f

    def storage_per_query(r):
        n = sum(float(r.get("dn_" + c) or 0) for c in ("select", "insert", "update", "delete"))
        return n / int(r["queries"])

    lines = []
    env = os.path.join(out, "env.txt")
    if os.path.exists(env):
        lines += ["```", open(env).read().rstrip(), "```", ""]
    lines += [
        f"Strata over {data_nodes} data nodes (sbtest tables sharded by AUTO_CRC32 on id). "
        "Median of repetitions. qps = queries/s (read_write: 20 queries per transaction, 14 reads, 4 writes, BEGIN, COMMIT). "
        "strata us/q = CPU (user+sys) of the Strata process measured, per query, (user part); "
        f"mariadb us/q = CPU of the {data_nodes} mariadbd processes together, per query; "
        "storage stmts/q = SELECT+INSERT+UPDATE+DELETE the storage nodes executed per client query "
        "(1.0: every statement routed to one node; more: scatter).",
        "",
        "| workload | thr | commit | qps | tps | p95 ms | strata us/q (user) | mariadb us/q | storage stmts/q | runs ok |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    chart = ["# label xa_qps best_effort_qps xa_cpu best_effort_cpu"]
    errors = []
    for case in cases:
        chart_vals = []
        for target, name in MODES:
            rs = runs.get((case, target), [])
            if not rs:
                chart_vals.append((None, None))
                continue
            qps = med(case, target, lambda r: float(r["qps"]))
            cpu = med(case, target, per_query("strata_cpu_s"))
            chart_vals.append((qps, cpu))
            lines.append(
                f"| {case[0]} | {case[1]} | {name} | {fmt(qps)} "
                f"| {fmt(med(case, target, lambda r: float(r['tps'])))} "
                f"| {fmt(med(case, target, lambda r: float(r['p95_ms'])), 2)} "
                f"| {fmt(cpu, 1)} ({fmt(med(case, target, per_query('strata_user_s')), 1)}) "
                f"| {fmt(med(case, target, per_query('mariadb_cpu_s')), 1)} "
                f"| {fmt(med(case, target, storage_per_query), 2)} "
                f"| {len(good(case, target))}/{len(rs)} |")
            for r in rs:
                if int(r["errors"]) != 0:
                    errors.append(f"{case[0]} {case[1]} threads {name} rep {r['rep']}: "
                                  f"{'sysbench failed' if int(r['errors']) < 0 else r['errors'] + ' ignored errors (1062/1213/1205)'}")
                    if int(r["errors"]) < 0:
                        errors += [f"  `{l}`" for l in error_lines(out, case[0], case[1], target, r["rep"])]
        label = f"{case[0]}/{case[1]}"
        chart.append(label + " " + " ".join(
            "0" if v is None else f"{v:.2f}" for v in [chart_vals[0][0], chart_vals[1][0],
                                                      chart_vals[0][1], chart_vals[1][1]]))

    both = [c for c in cases if good(c, "strata") and good(c, "strata_be")]
    if both:
        lines += ["", "XA versus best-effort commits (ratio XA / best effort; the median of the "
                  "per-repetition ratios, each repetition's XA and best-effort runs back to back; "
                  "the per-repetition throughput ratios in brackets):", "",
                  "| workload | thr | XA tps | best-effort tps | tps XA/BE | p95 XA/BE | strata CPU/q XA/BE | mariadb CPU/q XA/BE |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for case in both:
            xa = {r["rep"]: r for r in good(case, "strata")}
            be = {r["rep"]: r for r in good(case, "strata_be")}
            reps = [k for k in xa if k in be]

            def paired(f):
                vals = []
                for k in reps:
                    a, b = f(xa[k]), f(be[k])
                    if a is not None and b:
                        vals.append(a / b)
                return vals

            tps_r = paired(lambda r: float(r["tps"]))
            lines.append(
                f"| {case[0]} | {case[1]} | {fmt(med(case, 'strata', lambda r: float(r['tps'])))} "
                f"| {fmt(med(case, 'strata_be', lambda r: float(r['tps'])))} "
                f"| **{fmt(median(tps_r), 2)}** [{', '.join(f'{v:.2f}' for v in tps_r)}] "
                f"| {fmt(median(paired(lambda r: float(r['p95_ms']))), 2)} "
                f"| {fmt(median(paired(per_query('strata_cpu_s'))), 2)} "
                f"| {fmt(median(paired(per_query('mariadb_cpu_s'))), 2)} |")

    lines += baseline_section(cases, runs)
    lines += ["", "Statements the storage nodes executed per client transaction (sysbench event), "
              "summed over the nodes (SHOW GLOBAL STATUS deltas; `questions` counts every statement "
              "a client of the storage node sent, Strata's session set-up and background "
              "queries included; `xa_prepare`/`xa_commit` count XA PREPARE and XA COMMIT, one-phase "
              "ones included):", "",
              "| workload | thr | commit | " + " | ".join(DN) + " |",
              "|---|---:|---|" + "---:|" * len(DN)]
    for case in cases:
        for target, name in MODES:
            if good(case, target):
                lines.append(f"| {case[0]} | {case[1]} | {name} | "
                             + " | ".join(fmt(med(case, target, per_tx(c)), 2) for c in DN) + " |")
    if os.path.exists(os.path.join(out, "explain.txt")):
        lines += ["", "How Strata plans each statement shape: `explain.txt`; rows per node: "
                  "`distribution.txt`."]
    if errors:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in errors]
    sysc = os.path.join(out, "profile", "syscalls.md")
    if os.path.exists(sysc):
        lines += ["", "Profile of the XA compute node (`profile/`):", "", open(sysc).read().rstrip()]
    lines += log_section(out)
    open(os.path.join(out, "results.md"), "w").write("\n".join(lines) + "\n")
    open(os.path.join(out, "chart.dat"), "w").write("\n".join(chart) + "\n")


if __name__ == "__main__":
    main()
