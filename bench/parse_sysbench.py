#!/usr/bin/env python3
"""Turn one sysbench run's output into a CSV line for bench/run.

usage: parse_sysbench.py RAW WORKLOAD THREADS TARGET REP STRATA_TICKS HAPROXY_TICKS MARIADB_TICKS
                         STRATA_USER_TICKS HAPROXY_USER_TICKS CLK_TCK

Ticks are CPU clock ticks (user+system unless named _USER) spent during the run.
"""
import re
import sys


def grab(pattern, text, default=0.0):
    m = re.search(pattern, text, re.MULTILINE)
    return float(m.group(1)) if m else default


def main():
    raw, workload, threads, target, rep = sys.argv[1:6]
    s_ticks, h_ticks, m_ticks, su_ticks, hu_ticks, clk = (int(x) for x in sys.argv[6:12])
    text = open(raw, encoding="utf-8", errors="replace").read()
    ok = "SQL statistics:" in text and "FATAL" not in text
    queries = int(grab(r"^\s+queries:\s+(\d+)", text)) if ok else 0
    qps = grab(r"^\s+queries:\s+\d+\s+\(([\d.]+) per sec", text) if ok else 0.0
    tps = grab(r"^\s+transactions:\s+\d+\s+\(([\d.]+) per sec", text) if ok else 0.0
    p95 = grab(r"95th percentile:\s+([\d.]+)", text) if ok else 0.0
    seconds = grab(r"total time:\s+([\d.]+)s", text) if ok else 0.0
    errors = int(grab(r"ignored errors:\s+(\d+)", text)) if ok else -1
    print(
        f"{workload},{threads},{target},{rep},{tps:.2f},{qps:.2f},{p95:.3f},{queries},"
        f"{errors},{seconds:.3f},{s_ticks / clk:.2f},{h_ticks / clk:.2f},{m_ticks / clk:.2f},"
        f"{su_ticks / clk:.2f},{hu_ticks / clk:.2f}"
    )


if __name__ == "__main__":
    main()
