#!/usr/bin/env python3
"""Syscalls per query from `strace -c -f` summaries written by bench/run (BENCH_PROFILE=1).

usage: syscalls.py PROFILE_DIR EVENTS   (reads strace_haproxy.txt and strace_strata.txt)
"""
import os
import sys


def parse(path):
    calls = {}
    secs = {}
    if not os.path.exists(path):
        return calls, secs
    for line in open(path):
        parts = line.split()
        if len(parts) < 5 or not parts[0][0].isdigit() or parts[-1] == "total":
            continue
        # % time, seconds, usecs/call, calls, [errors], syscall
        try:
            calls[parts[-1]] = int(parts[3])
            secs[parts[-1]] = float(parts[1])
        except ValueError:
            continue
    return calls, secs


def perf_stat(path):
    """Counter values from a `perf stat -o` file (task-clock in ms)."""
    values = {}
    if not os.path.exists(path):
        return values
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2 and parts[0][0].isdigit():
            try:
                values[parts[2] if parts[1] == "msec" else parts[1]] = float(parts[0].replace(",", ""))
            except (ValueError, IndexError):
                continue
    return values


def main():
    d, events = sys.argv[1], int(sys.argv[2])
    h, hs = parse(os.path.join(d, "strace_haproxy.txt"))
    s, ss = parse(os.path.join(d, "strace_strata.txt"))
    names = sorted(set(h) | set(s), key=lambda n: -(h.get(n, 0) + s.get(n, 0)))
    out = [f"Syscalls per point select (strace -c -f, {events} point selects, 16 threads; "
           "counts include connect/disconnect of 16 connections):", "",
           "| syscall | haproxy /query | strata /query |", "|---|---:|---:|"]
    for n in names:
        hv, sv = h.get(n, 0) / events, s.get(n, 0) / events
        if hv < 0.01 and sv < 0.01:
            continue
        out.append(f"| {n} | {hv:.2f} | {sv:.2f} |")
    out.append(f"| **total** | **{sum(h.values()) / events:.2f}** | **{sum(s.values()) / events:.2f}** |")
    stats = {t: perf_stat(os.path.join(d, f"perf_stat_{t}.txt")) for t in ("haproxy", "strata")}
    if any(stats.values()):
        out += ["", f"Scheduling per point select (perf stat, {events} point selects, 16 threads):", "",
                "| event | haproxy /query | strata /query |", "|---|---:|---:|"]
        for ev, label in (("task-clock", "CPU us (task-clock)"),
                          ("context-switches", "context switches"),
                          ("cpu-migrations", "CPU migrations")):
            hv, sv = stats["haproxy"].get(ev), stats["strata"].get(ev)
            scale = 1000.0 if ev == "task-clock" else 1.0  # task-clock is in ms
            cell = lambda v: "-" if v is None else f"{v * scale / events:.2f}"
            out.append(f"| {label} | {cell(hv)} | {cell(sv)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
