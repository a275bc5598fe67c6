"""The real-client scenario with PyMySQL: DDL, DML, transactions and error codes.

Connection settings come from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME. Prints
`PASS pymysql` or `FAIL pymysql: <reason>` and exits 0 or 1.
"""

import decimal
import os
import sys

import pymysql

NAME = "pymysql"
TABLE = "t_pymysql"


def check(what, got, expected):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def expect_error(cur, sql, code, args=None):
    try:
        cur.execute(sql, args)
    except pymysql.err.MySQLError as e:
        check(f"error code of {sql!r}", e.args[0], code)
        return
    raise AssertionError(f"{sql!r} succeeded, expected error {code}")


def scenario(conn):
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    cur.execute(
        f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, "
        "qty INT NOT NULL, price DECIMAL(10,2))"
    )
    rows = [
        (1, "apple", 10, decimal.Decimal("1.50")),
        (2, "banana", 20, decimal.Decimal("0.25")),
        (3, "cherry", 30, decimal.Decimal("12.00")),
        (4, "date", 40, None),
        (5, "elder", 50, decimal.Decimal("3.10")),
    ]
    n = cur.executemany(f"INSERT INTO {TABLE} (id, name, qty, price) VALUES (%s, %s, %s, %s)", rows)
    check("inserted rows", n, 5)

    cur.execute(f"SELECT id, name, qty, price FROM {TABLE} ORDER BY id")
    check("all rows", cur.fetchall(), tuple(rows))
    cur.execute(f"SELECT name FROM {TABLE} WHERE id = %s", (3,))
    check("row 3", cur.fetchall(), (("cherry",),))
    cur.execute(f"SELECT COUNT(*), SUM(qty) FROM {TABLE}")
    check("count and sum", cur.fetchone(), (5, decimal.Decimal(150)))

    check("updated rows", cur.execute(f"UPDATE {TABLE} SET qty = qty + 1 WHERE id = %s", (2,)), 1)
    cur.execute(f"SELECT qty FROM {TABLE} WHERE id = 2")
    check("updated qty", cur.fetchone(), (21,))
    check("deleted rows", cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", (5,)), 1)
    cur.execute(f"SELECT COUNT(*) FROM {TABLE}")
    check("count after delete", cur.fetchone(), (4,))

    conn.begin()
    cur.execute(f"INSERT INTO {TABLE} VALUES (6, 'fig', 60, 2.00)")
    conn.rollback()
    cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE id = 6")
    check("rolled-back row", cur.fetchone(), (0,))

    conn.begin()
    cur.execute(f"INSERT INTO {TABLE} VALUES (7, 'grape', 70, 4.00)")
    cur.execute(f"UPDATE {TABLE} SET qty = 0 WHERE id = 1")
    conn.commit()
    cur.execute(f"SELECT id, qty FROM {TABLE} WHERE id IN (1, 7) ORDER BY id")
    check("committed rows", cur.fetchall(), ((1, 0), (7, 70)))

    expect_error(cur, "SELEC 1", 1064)
    expect_error(cur, f"INSERT INTO {TABLE} VALUES (%s, 'again', 1, 1.00)", 1062, (1,))
    cur.execute("SELECT 1")
    check("connection usable after errors", cur.fetchone(), (1,))

    cur.execute(f"DROP TABLE {TABLE}")


def main():
    try:
        conn = pymysql.connect(
            host=os.environ.get("DB_HOST", "127.0.0.1"),
            port=int(os.environ["DB_PORT"]),
            user=os.environ.get("DB_USER", "root"),
            password=os.environ.get("DB_PASSWORD", ""),
            database=os.environ.get("DB_NAME", "test"),
            autocommit=True,
            connect_timeout=10,
            read_timeout=60,
        )
        try:
            scenario(conn)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - any failure is the test's result
        print(f"FAIL {NAME}: {type(e).__name__}: {e}")
        return 1
    print(f"PASS {NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
