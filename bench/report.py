#!/usr/bin/env python3
"""Summarise bench/run's results.csv into results.md and chart.dat.

usage: report.py OUT_DIR   (reads OUT_DIR/results.csv and OUT_DIR/env.txt)

Throughput is the median over repetitions. CPU microseconds per query are computed per
run (process CPU delta / queries that run completed) and the median is reported; the
Strata column uses runs against Strata, the HAProxy column runs against HAProxy.
"""
import csv
import os
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


def main():
    out = sys.argv[1]
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
        "Median of repetitions. qps = queries/s (for read_write one transaction is 18 queries, "
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
    tx = [c for c in cases if c[0] in ("read_write", "read_only")]
    if tx:
        lines += ["", "Transactions per second (median):", "",
                  "| workload | thr | direct tps | haproxy tps | strata tps |", "|---|---:|---:|---:|---:|"]
        for case in tx:
            lines.append(f"| {case[0]} | {case[1]} | "
                         + " | ".join(fmt(stat(case, t, "tps")) for t in TARGETS) + " |")
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
    open(os.path.join(out, "results.md"), "w").write("\n".join(lines) + "\n")
    open(os.path.join(out, "chart.dat"), "w").write("\n".join(chart) + "\n")


if __name__ == "__main__":
    main()
