#!/usr/bin/env bash
# The real-client scenario with the mariadb command-line client in batch mode; each
# step's output is compared with the text MariaDB itself prints.
#
# Connection settings come from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME. Prints
# `PASS mariadb-cli` or `FAIL mariadb-cli: <reason>` and exits 0 or 1.
set -uo pipefail

NAME=mariadb-cli
T=t_cli
export MYSQL_PWD="${DB_PASSWORD:-}"
TAB=$'\t'

run_sql() {
    mariadb --no-defaults --protocol=TCP --connect-timeout=10 \
        -h"${DB_HOST:-127.0.0.1}" -P"$DB_PORT" -u"${DB_USER:-root}" \
        --batch "${DB_NAME:-test}" -e "$1"
}

fail() {
    echo "FAIL $NAME: $1"
    exit 1
}

# expect STEP SQL EXPECTED-OUTPUT
expect() {
    local out err rc
    err=$(mktemp)
    out=$(run_sql "$2" 2>"$err")
    rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$1: exit code $rc: $(head -c 300 "$err")"
    fi
    rm -f "$err"
    if [ "$out" != "$3" ]; then
        fail "$1: expected $(printf '%q' "$3"), got $(printf '%q' "$out")"
    fi
}

# expect_error STEP SQL CODE
expect_error() {
    local err rc
    err=$(run_sql "$2" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        fail "$1: succeeded, expected error $3"
    fi
    # The client may echo the failing statement before the ERROR line.
    if ! printf '%s\n' "$err" | grep -q "^ERROR $3 "; then
        fail "$1: expected error $3, got: $(printf '%s' "$err" | grep '^ERROR' | head -c 300)"
    fi
}

expect "create and insert" "DROP TABLE IF EXISTS $T;
CREATE TABLE $T (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2));
INSERT INTO $T (id, name, qty, price) VALUES
  (1, 'apple', 10, 1.50), (2, 'banana', 20, 0.25), (3, 'cherry', 30, 12.00),
  (4, 'date', 40, NULL), (5, 'elder', 50, 3.10)" ""

expect "all rows" "SELECT id, name, qty, price FROM $T ORDER BY id" \
"id${TAB}name${TAB}qty${TAB}price
1${TAB}apple${TAB}10${TAB}1.50
2${TAB}banana${TAB}20${TAB}0.25
3${TAB}cherry${TAB}30${TAB}12.00
4${TAB}date${TAB}40${TAB}NULL
5${TAB}elder${TAB}50${TAB}3.10"

expect "row 3" "SELECT name FROM $T WHERE id = 3" "name
cherry"

expect "count and sum" "SELECT COUNT(*), SUM(qty) FROM $T" "COUNT(*)${TAB}SUM(qty)
5${TAB}150"

expect "update" "UPDATE $T SET qty = qty + 1 WHERE id = 2; SELECT qty FROM $T WHERE id = 2" "qty
21"

expect "delete" "DELETE FROM $T WHERE id = 5; SELECT COUNT(*) FROM $T" "COUNT(*)
4"

expect "rollback" "BEGIN; INSERT INTO $T VALUES (6, 'fig', 60, 2.00); ROLLBACK;
SELECT COUNT(*) FROM $T WHERE id = 6" "COUNT(*)
0"

expect "commit" "START TRANSACTION; INSERT INTO $T VALUES (7, 'grape', 70, 4.00);
UPDATE $T SET qty = 0 WHERE id = 1; COMMIT" ""
expect "committed rows" "SELECT id, qty FROM $T WHERE id IN (1, 7) ORDER BY id" "id${TAB}qty
1${TAB}0
7${TAB}70"

expect_error "syntax error" "SELEC 1" 1064
expect_error "duplicate key" "INSERT INTO $T VALUES (1, 'again', 1, 1.00)" 1062

expect "drop" "DROP TABLE $T" ""
echo "PASS $NAME"
