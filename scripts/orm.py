#!/usr/bin/env python3
"""Django's own test suite through Strata, against the same MariaDB directly.

Issue 14's ORM measure: Django's test suite (its source release on PyPI carries `tests/`)
runs twice with PyMySQL as the MySQL driver: against storage node 1 directly, and through
a Strata compute node whose logical database `test` spans the storage nodes (Django
creates and drops its own test databases through `CREATE/DROP DATABASE`, which on Strata
places them on every data node). Each test's outcome is recorded
(tests/orm/strata_runner.py); the ratio is the share of tests passing directly that pass
through Strata too, and every test that differs is listed with its first error line.

Only the Python standard library here; Django and PyMySQL go into a virtualenv under
--out. See docs/compatibility.md for how to run it and what the numbers are today.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compat  # noqa: E402  (the storage and compute node classes of the compat harness)

REPO = Path(__file__).resolve().parent.parent
DJANGO = "5.1.4"
PYMYSQL = "1.1.1"
# A MariaDB configured the way Django's documentation asks for (utf8mb4), small otherwise.
STORAGE_ARGS = [
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=32M",
    "--performance-schema=OFF",
    "--skip-log-bin",
    "--max-connections=300",
    "--open-files-limit=2048",
]
# Django checks the driver's version; PyMySQL stands in for mysqlclient this way
# (the documented route for PyMySQL users).
SETTINGS = """\
import pymysql
pymysql.version_info = (2, 2, 1, "final", 0)
pymysql.install_as_MySQLdb()
_db = {{"ENGINE": "django.db.backends.mysql", "HOST": "127.0.0.1", "PORT": {port},
       "USER": "{user}", "PASSWORD": "{password}"}}
DATABASES = {{
    "default": dict(_db, NAME="orm_main", TEST={{"NAME": "test_orm_{tag}"}}),
    "other": dict(_db, NAME="orm_other", TEST={{"NAME": "test_orm_{tag}_other"}}),
}}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
TEST_RUNNER = "strata_runner.Runner"
"""
PASSED = ("ok",)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def django_tree(out):
    """Downloads Django's source release (once) into a virtualenv with PyMySQL."""
    cache = out.parent / "orm-cache"
    venv = cache / "venv"
    tree = cache / f"Django-{DJANGO}"
    python = venv / "bin" / "python"
    if not python.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not (tree / "tests" / "runtests.py").exists():
        subprocess.run([str(python), "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--no-binary", ":all:",
                        f"django=={DJANGO}", "-d", str(cache)], check=True)
        archive = next(cache.glob(f"[dD]jango-{DJANGO}.tar.gz"))
        with tarfile.open(archive) as tar:
            try:
                tar.extractall(cache, filter="data")
            except TypeError:  # a Python without extraction filters (before 3.11.4)
                tar.extractall(cache)
    ready = subprocess.run(
        [str(python), "-c", f"import django, pymysql; assert django.__version__ == '{DJANGO}'"],
        capture_output=True).returncode == 0
    if not ready:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "-e", str(tree),
                        f"pymysql=={PYMYSQL}"], check=True)
    return tree, python


def run_suite(tag, port, user, password, tree, python, apps, out, timeout):
    """One run of Django's runtests.py; returns {test id: [outcome, first error line]}."""
    (out / f"settings_{tag}.py").write_text(SETTINGS.format(port=port, user=user,
                                                           password=password, tag=tag))
    outcomes = out / f"outcomes_{tag}.json"
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(out), str(REPO / "tests" / "orm")]),
               STRATA_ORM_OUTCOMES=str(outcomes))
    cmd = [str(python), "runtests.py", f"--settings=settings_{tag}",
           "--parallel=1", "--noinput", "-v", "2"] + apps
    t0 = time.time()
    with open(out / f"{tag}.log", "w") as logf:
        try:
            subprocess.run(cmd, cwd=tree / "tests", env=env, stdout=logf,
                           stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"orm: the {tag} run passed its {timeout:.0f} s limit")
    log(f"orm: {tag} run took {time.time() - t0:.0f} s")
    if not outcomes.exists():
        sys.exit(f"orm: the {tag} run recorded no outcomes; see {out / (tag + '.log')}")
    return json.loads(outcomes.read_text())


def normalize(reason):
    """Groups error lines that differ only in names and numbers."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    return re.sub(r"\d+", "N", reason)[:160]


def report(direct, strata, nodes, apps, out, elapsed):
    passed = sorted(t for t, (o, _) in direct.items() if o in PASSED)
    through = [t for t in passed if strata.get(t, ["missing"])[0] in PASSED]
    ratio = len(through) / len(passed) if passed else 0.0
    classes = defaultdict(list)
    for t in passed:
        outcome, reason = strata.get(t, ["not run", ""])
        if outcome not in PASSED:
            classes[f"{outcome}: {normalize(reason)}"].append(t)
    lines = [
        f"# Django {DJANGO} test suite through Strata ({nodes} data node{'s' if nodes > 1 else ''})",
        "",
        f"- apps: {' '.join(apps) if apps else 'all'}; {elapsed:.0f} s",
        f"- tests recorded directly: {len(direct)}; through Strata: {len(strata)}",
        f"- **pass directly: {len(passed)}; pass through Strata too: {len(through)}; "
        f"ratio {ratio:.4f}**",
        f"- pass through Strata but not directly: "
        f"{sum(o in PASSED and direct.get(t, ['missing'])[0] not in PASSED for t, (o, _) in strata.items())}",
        "",
        "## Tests passing directly, not through Strata, by first error line",
        "",
    ]
    for reason, tests in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"- {len(tests)} × `{reason}`: {', '.join(tests[:12])}"
                     + (" ..." if len(tests) > 12 else ""))
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text)
    (out / "results.json").write_text(json.dumps(
        {"nodes": nodes, "apps": apps, "ratio": ratio, "direct_pass": len(passed),
         "strata_pass": len(through), "differences": classes}, indent=1))
    return text, ratio


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("apps", nargs="*", help="Django test apps (tests/<app>); default: all")
    ap.add_argument("--list", help="file with one app a line (# comments)")
    ap.add_argument("--nodes", type=int, default=1, help="data nodes under Strata")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    ap.add_argument("--out", default=str(REPO / "target" / "orm"), help="work and report directory")
    ap.add_argument("--base-port", type=int, default=3760)
    ap.add_argument("--strata", help="strata binary (default: $CARGO_TARGET_DIR/debug/strata)")
    ap.add_argument("--require-ratio", type=float,
                    help="exit 1 when the ratio is below this (the CI sample uses 1)")
    args = ap.parse_args()

    apps = list(args.apps)
    if args.list:
        apps += [line.split("#")[0].strip() for line in Path(args.list).read_text().splitlines()
                 if line.split("#")[0].strip()]
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = Path(args.strata) if args.strata else target / "debug" / "strata"
    if not binary.exists():
        sys.exit(f"orm: {binary} not found; run cargo build -p strata")
    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    (out / "var").mkdir(parents=True)
    tree, python = django_tree(out)

    compat.STORAGE_ARGS = STORAGE_ARGS
    storage = [compat.StorageNode(out, i, args.base_port + i) for i in range(1, args.nodes + 1)]
    compute = compat.ComputeNode(out, binary, args.base_port, storage, out / "var")

    stop_all = compat.stop_on_signal(compute, storage)
    started = time.time()
    try:
        for s in storage:
            s.start(out / "var")
        compute.start()
        log(f"orm: Django {DJANGO}, {len(apps) or 'all'} apps, {args.nodes} data node(s)")
        direct = run_suite("direct", storage[0].port, "root", "", tree, python, apps, out,
                           args.timeout)
        strata = run_suite("strata", compute.port, "root", "", tree, python, apps, out,
                           args.timeout)
    finally:
        stop_all()
    text, ratio = report(direct, strata, args.nodes, apps, out, time.time() - started)
    print(text)
    log(f"orm: report in {out / 'report.md'}")
    if args.require_ratio is not None and ratio < args.require_ratio:
        log(f"orm: ratio {ratio:.4f} is below {args.require_ratio}")
        sys.exit(1)


if __name__ == "__main__":
    main()
