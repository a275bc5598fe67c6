#!/usr/bin/env bash
# Real-client suite: the same scenario (DDL, DML, transactions, error codes) through the
# mariadb CLI, PyMySQL, MariaDB Connector/J (client-side and server-side prepared
# statements; `sequential` URLs whose first host is down or OFFLINE; `loadbalance` URLs
# over two compute nodes, one of them OFFLINE in the second run), Node mysql2 and sysbench.
#
# By default it starts a playground of 2 data nodes and 2 compute nodes (a 3-member
# etcd) from target/debug/strata (STRATA_BIN, or CARGO_TARGET_DIR's debug/strata)
# on free ports, runs every client against its first compute node (the Connector/J
# cluster cases against both) and stops it with SIGTERM. With
# TARGET_PORT set it runs the clients against that server instead (e.g. a plain MariaDB,
# to check the client programs themselves), using TARGET_HOST, TARGET_USER,
# TARGET_PASSWORD and TARGET_DB (defaults 127.0.0.1, root, empty, test).
# CLIENTS="cli pymysql" runs a subset. Ends with "N passed, M failed"; exits 1 if M > 0.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/clients"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
WORK="$TARGET_DIR/clients"
mkdir -p "$WORK"

passed=0
failed=0
failures=()

record() { # record NAME OK|FAIL [REASON]
    if [ "$2" = OK ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$1: ${3:-}")
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A port B such that B+OFFSET is free for every OFFSET given.
free_port_with() {
    python3 - "$@" <<'PY'
import socket, sys
offsets = [int(a) for a in sys.argv[1:]]
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); base = s.getsockname()[1]; s.close()
    if base + max(offsets) > 65535:
        continue
    socks = []
    try:
        for o in offsets:
            t = socket.socket(); t.bind(("127.0.0.1", base + o)); socks.append(t)
    except OSError:
        continue
    finally:
        for t in socks: t.close()
    print(base); sys.exit(0)
sys.exit("no free ports")
PY
}

# Succeeds once HOST:PORT sends a MySQL handshake (protocol version 10).
handshake() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.settimeout(2)
    data = b""
    while len(data) < 5:
        chunk = s.recv(5 - len(data))
        if not chunk:
            break
        data += chunk
    sys.exit(0 if len(data) == 5 and data[4] == 10 else 1)
except OSError:
    sys.exit(1)
PY
}

# ---------------------------------------------------------------- target server
PLAYGROUND_PID=
TMP=$(mktemp -d)
cleanup() {
    stop_playground
    rm -rf "$TMP"
}
trap cleanup EXIT

# start_playground ATTEMPT: starts a playground in $TMP/playground-ATTEMPT on free ports
# and waits for its first compute node's handshake; on failure prints the error.
start_playground() {
    local dir="$TMP/playground-$1" log="$TMP/playground-$1.log" deadline
    port=$(free_port_with 0 1 2 100 101 102)
    http_port=$((port + 1))
    admin_port=$((port + 2))
    storage_base=$(free_port_with 1 2 90 91 92 93 94 95)
    PLAYGROUND_LOG=$log
    echo "clients: starting a playground on ports $port and $((port + 100)) (storage nodes on $((storage_base + 1))-$((storage_base + 2)))"
    # A start-up error's causes are what the log must show, not a backtrace.
    RUST_LIB_BACKTRACE=0 "$STRATA_BIN" playground --dir "$dir" --data-nodes 2 --compute-nodes 2 \
        --port "$port" --admin-port "$admin_port" --http-port "$http_port" \
        --storage-base-port "$storage_base" >"$log" 2>&1 &
    PLAYGROUND_PID=$!
    deadline=$((SECONDS + ${PLAYGROUND_START_TIMEOUT:-120}))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$PLAYGROUND_PID" 2>/dev/null; then
            break
        fi
        if grep -q "^Press Ctrl-C" "$log" && handshake 127.0.0.1 "$port"; then
            return 0
        fi
        sleep 0.2
    done
    if grep -q "^Error" "$log"; then
        # The error with its causes, which name the failed process and its log's end.
        echo "FAIL playground: it stopped before its first compute node answered on port $port:"
        grep -m 1 -A 80 "^Error" "$log" | sed 's/^/    playground| /'
    else
        echo "FAIL playground: no MySQL handshake on port $port within ${PLAYGROUND_START_TIMEOUT:-120} s; its log ends with:"
        tail -n 40 "$log" | sed 's/^/    playground| /'
    fi
    return 1
}

# Stops the playground (SIGTERM, so it stops its storage nodes, etcd and compute
# nodes), then SIGKILL after 60 s.
stop_playground() {
    local waited=0
    [ -n "$PLAYGROUND_PID" ] || return 0
    kill -TERM "$PLAYGROUND_PID" 2>/dev/null
    while kill -0 "$PLAYGROUND_PID" 2>/dev/null && [ "$waited" -lt 600 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "$PLAYGROUND_PID" 2>/dev/null
    wait "$PLAYGROUND_PID" 2>/dev/null
    PLAYGROUND_PID=
}

if [ -n "${TARGET_PORT:-}" ]; then
    export DB_HOST="${TARGET_HOST:-127.0.0.1}" DB_PORT="$TARGET_PORT"
    export DB_USER="${TARGET_USER:-root}" DB_PASSWORD="${TARGET_PASSWORD:-}" DB_NAME="${TARGET_DB:-test}"
    echo "clients: using the server at $DB_HOST:$DB_PORT (TARGET_PORT)"
else
    STRATA_BIN="${STRATA_BIN:-$TARGET_DIR/debug/strata}"
    if [ ! -x "$STRATA_BIN" ]; then
        echo "clients: $STRATA_BIN is missing; run cargo build -p strata" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    # Compute node 2 listens 100 above node 1 (service, HTTP, admin); the storage nodes
    # on base+1, base+2 and the etcd members on base+90 .. base+95. Ports are only
    # known free when chosen, so a start that fails is told (its error, not a
    # backtrace) and tried once more on other ports before the suite gives up.
    for attempt in 1 2; do
        start_playground "$attempt" && break
        stop_playground
        if [ "$attempt" = 2 ]; then
            echo "0 passed, 1 failed"
            exit 1
        fi
        echo "clients: trying the playground once more on other ports"
    done
    export DB_HOST=127.0.0.1 DB_PORT="$port" DB_USER=root DB_PASSWORD= DB_NAME=test
    # The second compute node and the first one's admin port, for the cluster cases.
    DB_PORT2=$((port + 100))
    DB_ADMIN_PORT=$admin_port
fi

# ---------------------------------------------------------------- clients
# run_client NAME COMMAND...: runs with a time limit, echoes its output and records
# PASS only when it printed "PASS NAME" and exited 0.
run_client() {
    local name=$1 out rc reason
    shift
    out=$(timeout 600 "$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v -E "^(PASS|FAIL) $name\b" | sed "s/^/    $name| /"
    if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q -E "^PASS $name\b"; then
        printf '%s\n' "$out" | grep -E "^PASS $name\b" | head -n 1
        record "$name" OK
    else
        reason=$(printf '%s\n' "$out" | grep -E "^FAIL $name\b" | head -n 1 | sed "s/^FAIL $name: //")
        [ -n "$reason" ] || reason="exited with code $rc"
        echo "FAIL $name: $reason"
        record "$name" FAIL "$reason"
    fi
}

# setup_failed NAME REASON: a client whose tooling could not be prepared.
setup_failed() {
    echo "FAIL $1: $2"
    record "$1" FAIL "$2"
}

wanted() { [ -z "${CLIENTS:-}" ] || [[ " $CLIENTS " == *" $1 "* ]]; }

if wanted cli; then
    if command -v mariadb >/dev/null 2>&1; then
        run_client mariadb-cli bash "$HERE/cli.sh"
    else
        setup_failed mariadb-cli "mariadb client not installed (apt-get install mariadb-client)"
    fi
fi

if wanted pymysql; then
    venv="$WORK/venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pymysql' 2>/dev/null; then
        rm -rf "$venv"
        python3 -m venv "$venv" >"$TMP/venv.log" 2>&1 &&
            "$venv/bin/pip" install --quiet --disable-pip-version-check pymysql >>"$TMP/venv.log" 2>&1
    fi
    if "$venv/bin/python" -c 'import pymysql' 2>/dev/null; then
        run_client pymysql "$venv/bin/python" "$HERE/pymysql_client.py"
    else
        setup_failed pymysql "cannot create the PyMySQL virtualenv: $(tail -n 3 "$TMP/venv.log" 2>/dev/null)"
    fi
fi

if wanted jdbc; then
    jar=/usr/share/java/mariadb-java-client.jar
    classes="$WORK/java"
    mkdir -p "$classes"
    if [ ! -f "$jar" ]; then
        setup_failed jdbc "$jar missing (apt-get install libmariadb-java)"
    elif ! javac -d "$classes" "$HERE/JdbcClient.java" >"$TMP/javac.log" 2>&1; then
        setup_failed jdbc "javac failed: $(head -n 5 "$TMP/javac.log")"
    else
        base="jdbc:mariadb://$DB_HOST:$DB_PORT/$DB_NAME?user=$DB_USER&password=$DB_PASSWORD&connectTimeout=10000"
        run_client jdbc java -cp "$jar:$classes" JdbcClient jdbc "$base"
        run_client jdbc-server-prep java -cp "$jar:$classes" JdbcClient jdbc-server-prep \
            "$base&useServerPrepStmts=true"
        # docs/cluster.md's Connector/J recipe: a sequential URL whose first compute node
        # is down (nothing listens on its port) connects to the next and runs it all.
        dead=$(free_port)
        run_client jdbc-sequential java -cp "$jar:$classes" JdbcClient jdbc-sequential \
            "jdbc:mariadb:sequential://127.0.0.1:$dead,$DB_HOST:$DB_PORT/$DB_NAME?user=$DB_USER&password=$DB_PASSWORD&connectTimeout=10000"
        if [ -n "${DB_PORT2:-}" ]; then
            # Two compute nodes (@@server_id is the node_id): `loadbalance` spreads new
            # connections over both; with node 1 OFFLINE (it answers the handshake with
            # 1053/08S01) `loadbalance` and a `sequential` URL naming it first reach
            # node 2 only.
            hosts="$DB_HOST:$DB_PORT,$DB_HOST:$DB_PORT2"
            params="user=$DB_USER&password=$DB_PASSWORD&connectTimeout=10000"
            run_client jdbc-loadbalance java -cp "$jar:$classes" JdbcClient jdbc-loadbalance \
                "jdbc:mariadb:loadbalance://$hosts/$DB_NAME?$params" 1,2
            if mariadb -h127.0.0.1 -P"$DB_ADMIN_PORT" -uroot -e OFFLINE >"$TMP/offline.log" 2>&1; then
                run_client jdbc-loadbalance-offline java -cp "$jar:$classes" JdbcClient \
                    jdbc-loadbalance-offline "jdbc:mariadb:loadbalance://$hosts/$DB_NAME?$params" 2
                run_client jdbc-sequential-offline java -cp "$jar:$classes" JdbcClient \
                    jdbc-sequential-offline "jdbc:mariadb:sequential://$hosts/$DB_NAME?$params" 2
                mariadb -h127.0.0.1 -P"$DB_ADMIN_PORT" -uroot -e ONLINE >>"$TMP/offline.log" 2>&1 ||
                    setup_failed jdbc-online "ONLINE on node 1's admin port failed: $(tail -n 3 "$TMP/offline.log")"
            else
                setup_failed jdbc-offline "OFFLINE on node 1's admin port failed: $(tail -n 3 "$TMP/offline.log")"
            fi
        fi
    fi
fi

if wanted mysql2; then
    node_dir="$WORK/node"
    if [ ! -f "$node_dir/node_modules/mysql2/package.json" ]; then
        mkdir -p "$node_dir"
        npm install --prefix "$node_dir" --no-audit --no-fund --silent mysql2 >"$TMP/npm.log" 2>&1
    fi
    if [ -f "$node_dir/node_modules/mysql2/package.json" ]; then
        run_client mysql2 env NODE_PATH="$node_dir/node_modules" node "$HERE/mysql2_client.js"
    else
        setup_failed mysql2 "npm install mysql2 failed: $(tail -n 3 "$TMP/npm.log" 2>/dev/null)"
    fi
fi

if wanted sysbench; then
    if command -v sysbench >/dev/null 2>&1; then
        run_client sysbench bash "$HERE/sysbench.sh"
    else
        setup_failed sysbench "sysbench not installed (apt-get install sysbench)"
    fi
fi

# ---------------------------------------------------------------- shutdown
if [ -n "$PLAYGROUND_PID" ]; then
    kill -TERM "$PLAYGROUND_PID"
    exited=no
    for _ in $(seq 1 600); do
        if ! kill -0 "$PLAYGROUND_PID" 2>/dev/null; then
            exited=yes
            break
        fi
        sleep 0.1
    done
    if [ "$exited" = yes ]; then
        wait "$PLAYGROUND_PID"
        rc=$?
        PLAYGROUND_PID=
        if [ "$rc" -eq 0 ]; then
            echo "PASS playground-shutdown"
            record playground-shutdown OK
        else
            echo "FAIL playground-shutdown: exit code $rc after SIGTERM"
            tail -n 20 "$PLAYGROUND_LOG" | sed 's/^/    playground| /'
            record playground-shutdown FAIL "exit code $rc after SIGTERM"
        fi
    else
        echo "FAIL playground-shutdown: still running 60 s after SIGTERM"
        record playground-shutdown FAIL "still running 60 s after SIGTERM"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
