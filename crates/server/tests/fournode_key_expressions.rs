//! INSERT rows whose sharding-key value is a constant expression, not a literal
//! (`-1`, `1+1`, `CONCAT(...)`, `CAST(...)`, `NOW()`, `DATE_FORMAT(...)`, ...), over four
//! data nodes and on one plain MariaDB: the stored rows, affected rows, warnings and
//! errors agree in strict and non-strict sql_mode, and each row is on the data node its
//! stored value routes to (read on the data nodes themselves, against a twin table
//! filled with the stored values as plain literals). What cannot be evaluated once
//! (a column, a variable, a subquery) is refused; CONNECTION_ID() is the session's, a
//! constant the compute node writes into the text.

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::Conn;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, run, value_text, BoxError,
    ER_NOT_SUPPORTED_YET,
};
use strata_testkit::shared_storage;

type TestResult = Result<(), BoxError>;

/// A table of key type `key` sharded by `k` over the four data nodes.
fn table(name: &'static str, key: &'static str) -> (&'static str, String, String) {
    (
        name,
        format!("k {key}, v VARCHAR(10)"),
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'k' ON DATANODE '1-4'".to_string(),
    )
}

/// (table, key type) of every table the tests write.
const TABLES: &[(&str, &str)] = &[
    ("ti", "INT"),
    ("tu", "TINYINT UNSIGNED"),
    ("tb", "BIGINT"),
    ("td", "DECIMAL(16,2)"),
    ("ts", "VARCHAR(20)"),
    ("tdt", "DATETIME(3)"),
    ("tda", "DATE"),
    ("ty", "YEAR"),
    ("tt", "TIME"),
];

const INSERTS: &[&str] = &[
    // Integers: signs, arithmetic, rounding, strings, functions.
    "INSERT INTO ti VALUES (-1, 'neg')",
    "INSERT INTO ti VALUES (1+1, 'sum')",
    "INSERT INTO ti VALUES (-(3), 'neg3')",
    "INSERT INTO ti VALUES (7 DIV 2, 'div')",
    "INSERT INTO ti VALUES (5/2, 'half')",
    "INSERT INTO ti VALUES (1.5e0 + 1, 'dbl')",
    "INSERT INTO ti VALUES (CAST('17' AS SIGNED), 'cast')",
    "INSERT INTO ti VALUES (CONCAT('1', '2abc'), 'trunc')",
    "INSERT INTO ti VALUES (ABS(-40) + LENGTH('abc'), 'fn')",
    "INSERT INTO ti VALUES (IF(1 > 0, 11, 12), 'if')",
    "INSERT INTO ti VALUES (COALESCE(NULL, 23), 'coal')",
    "INSERT INTO ti VALUES (1 + NULL, 'null')",
    "INSERT INTO tu VALUES (CAST(250 AS UNSIGNED), 'ok')",
    // Dates and times into numbers and strings (as a read across data nodes writes them).
    "INSERT INTO tb VALUES (TIMESTAMP'2010-11-12 11:14:17.76543', 'ts')",
    "INSERT INTO tb VALUES (DATE'2010-11-13', 'date')",
    "INSERT INTO tb VALUES (TIME'11:14:17.5', 'time')",
    "INSERT INTO tb VALUES (TIME'-100:00:01', 'neg')",
    "INSERT INTO td VALUES (TIMESTAMP'2010-11-12 11:14:17.765', 'ts')",
    "INSERT INTO td VALUES (TIME'11:14:17.5', 'time')",
    "INSERT INTO ts VALUES (TIMESTAMP'2010-11-12 11:14:17.76543', 'ts')",
    "INSERT INTO ts VALUES (DATE'2010-11-14', 'date')",
    "INSERT INTO ts VALUES (_latin1 X'636166E9', 'hex')",
    "INSERT INTO ts VALUES (_utf8mb4 X'C3A9', 'hex8')",
    // Decimals: rounding to the column's scale.
    "INSERT INTO td VALUES (1/3, 'third')",
    "INSERT INTO td VALUES (2.005 * 1, 'round')",
    "INSERT INTO td VALUES (-(12.5), 'neg')",
    "INSERT INTO td VALUES (CONCAT('4.', '567'), 'str')",
    // Strings: functions, introducers, collations, numbers.
    "INSERT INTO ts VALUES (CONCAT('a', 'b'), 'concat')",
    "INSERT INTO ts VALUES (UPPER('xyz'), 'upper')",
    "INSERT INTO ts VALUES (_latin1'caf\u{e9}', 'latin1')",
    "INSERT INTO ts VALUES ('Abc' COLLATE utf8mb4_bin, 'coll')",
    "INSERT INTO ts VALUES (DATE_FORMAT('2004-02-02', '%M'), 'month')",
    "INSERT INTO ts VALUES (1+1, 'num')",
    "INSERT INTO ts VALUES (CAST(12.5 AS CHAR), 'cast')",
    // Dates and times: functions, arithmetic, conversions.
    "INSERT INTO tdt VALUES ('2001-01-01 10:00:00' + INTERVAL 1 DAY, 'interval')",
    "INSERT INTO tdt VALUES (TIMESTAMP'2020-02-29 23:59:59.9999', 'round')",
    "INSERT INTO tdt VALUES (CAST('2024-05-06 07:08:09.123' AS DATETIME(3)), 'cast')",
    "INSERT INTO tdt VALUES (STR_TO_DATE('01,5,2013', '%d,%m,%Y'), 'str')",
    "INSERT INTO tdt VALUES (DATE('2011-11-11 11:11:11'), 'date')",
    "INSERT INTO tdt VALUES (FROM_UNIXTIME(1000000000), 'unix')",
    "INSERT INTO tda VALUES (DATE_ADD('2020-01-31', INTERVAL 1 MONTH), 'add')",
    "INSERT INTO tda VALUES (TIMESTAMP'2022-03-04 05:06:07', 'dt')",
    "INSERT INTO tda VALUES (LAST_DAY('2023-02-10'), 'last')",
    "INSERT INTO ty VALUES (2000 + 24, 'sum')",
    "INSERT INTO ty VALUES (YEAR('1999-12-31'), 'year')",
    "INSERT INTO ty VALUES (DATE'2031-06-07', 'date')",
    "INSERT INTO ty VALUES (CONCAT('7', '0'), 'two')",
    "INSERT INTO tt VALUES (SEC_TO_TIME(3661), 'sec')",
    "INSERT INTO tt VALUES (TIME'10:11:12' , 'lit')",
    "INSERT INTO tt VALUES (MAKETIME(100, 2, 3), 'make')",
];

/// Values out of the column's range or not of its type: errors in strict mode. Without
/// it MariaDB stores a clipped value with a warning, where the sharding functions
/// refuse the value (as for a literal): see docs/sharding.md.
const STRICT_ONLY: &[&str] = &[
    "INSERT INTO tda VALUES (CONCAT('2023-', '13-01'), 'bad')",
    "INSERT INTO ty VALUES (1800 + 1, 'range')",
];

/// Values wider than the column: errors in strict mode; without it MariaDB stores them
/// clipped to the column's width, and the row routes by the clipped value.
const CLIPPED: &[&str] = &[
    "INSERT INTO tu VALUES (200 + 100, 'over')",
    "INSERT INTO tu VALUES (1 - 2, 'under')",
    "INSERT INTO td VALUES (1000000 * 1000000 * 1000, 'range')",
    "INSERT INTO ts VALUES (REPEAT('z', 25), 'long')",
    "INSERT INTO ti VALUES (3000000000 + 1, 'range')",
];

/// Several rows per statement, to several nodes; the time is fixed so NOW() agrees.
const MULTI_ROW: &[&str] = &[
    "SET timestamp = 1700000000.25",
    "INSERT INTO ti VALUES (100 + 1, 'm'), (-(102), 'm'), (103, 'm'), (CAST(104.4 AS DECIMAL(5,1)), 'm'), (LENGTH('abcde') * 21, 'm')",
    "INSERT INTO ts VALUES (CONCAT('k', 1), 'm'), (LOWER('K2'), 'm'), ('k3', 'm'), (REVERSE('4k'), 'm'), (SUBSTRING('xk5', 2), 'm')",
    "INSERT INTO tdt VALUES (NOW(), 'now'), (NOW() - INTERVAL 1 HOUR, 'm'), (CURDATE(), 'm'), (UTC_TIMESTAMP(3), 'm'), (NOW(3) + INTERVAL 1 DAY, 'm')",
    "INSERT INTO ty VALUES (NOW(), 'now'), (YEAR(NOW()) + 1, 'm'), (1999, 'm'), (CURDATE() - INTERVAL 3 YEAR, 'm')",
    "INSERT INTO td SET k = 8 * 1.25, v = 'set'",
    "INSERT INTO ti (v, k) VALUES ('cols', 40 + 2), ('cols', DEFAULT)",
    "SET timestamp = DEFAULT",
];

/// Everything each table holds, in a total order.
fn all_rows() -> Vec<(String, bool)> {
    TABLES
        .iter()
        .map(|(t, _)| (format!("SELECT k, v FROM {t} ORDER BY k, v"), true))
        .collect()
}

async fn create_tables(strata: &mut Conn, reference: &mut Conn) -> TestResult {
    let tables: Vec<(&str, String, String)> = TABLES.iter().map(|(t, k)| table(t, k)).collect();
    let tables: Vec<(&str, &str, &str)> = tables
        .iter()
        .map(|(t, c, d)| (*t, c.as_str(), d.as_str()))
        .collect();
    create_on_both(strata, reference, &tables, &[]).await
}

/// Runs the inserts under `sql_mode` on both sides and compares everything: each
/// insert's reply and its warning count, then the rows.
async fn same_under(sql_mode: &str, prefix: &str, strict: bool) -> TestResult {
    let (node, db, mut strata, mut reference) =
        node_and_reference(prefix, &format!("{prefix}ref")).await?;
    create_tables(&mut strata, &mut reference).await?;
    let set = format!("SET sql_mode = '{sql_mode}'");
    strata.query_drop(&set).await?;
    reference.query_drop(&set).await?;
    let mut failures = Vec::new();
    let extra: &[&str] = if strict { STRICT_ONLY } else { &[] };
    let extra: Vec<&str> = extra.iter().chain(CLIPPED).copied().collect();
    for sql in INSERTS.iter().chain(&extra).chain(MULTI_ROW) {
        failures.extend(differences(&mut reference, &mut strata, &[(sql, false)]).await?);
        let (want, got) = (reference.get_warnings(), strata.get_warnings());
        if want != got {
            failures.push(format!("warnings: {sql}\n  MariaDB {want}, Strata {got}"));
        }
    }
    let rows = all_rows();
    let rows: Vec<(&str, bool)> = rows.iter().map(|(s, o)| (s.as_str(), *o)).collect();
    failures.extend(differences(&mut reference, &mut strata, &rows).await?);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    placed_as_literals(&node, &db, &mut strata).await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_key_expressions_in_strict_mode() -> TestResult {
    same_under(
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO",
        "fke",
        true,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_key_expressions_in_non_strict_mode() -> TestResult {
    same_under("", "fkn", false).await
}

/// Each table's rows are where the same values written as plain literals go: a twin
/// table with the same distribution gets the stored values as literals (the routing
/// every plain INSERT uses), and each data node holds the same rows of both.
async fn placed_as_literals(
    node: &strata_testkit::ComputeNode,
    db: &str,
    strata: &mut Conn,
) -> TestResult {
    let storage = shared_storage(4).await?;
    // A database made with CREATE DATABASE has its own name on the data nodes.
    let physical = node.physical_database(db).unwrap_or(db).to_string();
    strata.query_drop("SET sql_mode = ''").await?;
    let mut spread = 0;
    for (t, key) in TABLES {
        let (_, columns, distribution) = table(t, key);
        strata
            .query_drop(format!("CREATE TABLE {t}_lit ({columns}) {distribution}"))
            .await?;
        let rows: Vec<mysql_async::Row> = strata
            .query(format!("SELECT k, v FROM {t} WHERE k IS NOT NULL"))
            .await?;
        for row in rows {
            let k = row.as_ref(0).map(value_text).unwrap_or_default();
            let v = row.as_ref(1).map(value_text).unwrap_or_default();
            let k = k.replace('\'', "''");
            strata
                .query_drop(format!("INSERT INTO {t}_lit VALUES ('{k}', '{v}')"))
                .await?;
        }
        let mut nodes_with_rows = 0;
        for i in 0..4 {
            let mut c = storage.connect(i, Some(&physical)).await?;
            let q =
                |name: &str| format!("SELECT k, v FROM {name} WHERE k IS NOT NULL ORDER BY k, v");
            let got: Vec<mysql_async::Row> = c.query(q(t)).await?;
            let want: Vec<mysql_async::Row> = c.query(q(&format!("{t}_lit"))).await?;
            let text = |rows: Vec<mysql_async::Row>| -> Vec<String> {
                rows.iter()
                    .map(|r| {
                        (0..2)
                            .map(|c| r.as_ref(c).map(value_text).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect()
            };
            let (got, want) = (text(got), text(want));
            assert_eq!(got, want, "table {t} on data node {}", i + 1);
            nodes_with_rows += usize::from(!got.is_empty());
        }
        spread += usize::from(nodes_with_rows > 1);
    }
    assert!(
        spread >= 4,
        "rows of most tables spread over several data nodes"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_values_that_are_not_constant_are_refused() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fkr", "fkrref").await?;
    create_tables(&mut strata, &mut reference).await?;
    for sql in [
        "INSERT INTO ti VALUES ((SELECT 1 FROM ts LIMIT 1), 'sub')",
        "INSERT INTO ti VALUES (@x, 'var')",
        "INSERT INTO ti VALUES (FLOOR(RAND(7) * 10), 'seeded')",
        "INSERT INTO ti SET v = 'col', k = LENGTH(v)",
    ] {
        let got = run(&mut strata, sql).await?;
        assert_eq!(
            got.error_code(),
            Some(ER_NOT_SUPPORTED_YET),
            "{sql}: {got:?}"
        );
    }
    // RAND() and UUID_SHORT() alone: evaluated once, the row routed and stored by it.
    strata
        .query_drop("INSERT INTO ti VALUES (FLOOR(RAND() * 1000), 'r'), (UUID_SHORT() % 1000, 'u')")
        .await?;
    let n: Option<i64> = strata.query_first("SELECT COUNT(*) FROM ti").await?;
    assert_eq!(n, Some(2));
    // CONNECTION_ID() is the session's (the compute node writes it into the text):
    // a constant, routed by its value, found by it.
    strata
        .query_drop("INSERT INTO ti VALUES (CONNECTION_ID(), 'conn')")
        .await?;
    let id: Option<i64> = strata.query_first("SELECT CONNECTION_ID()").await?;
    let found: Option<String> = strata
        .query_first(format!("SELECT v FROM ti WHERE k = {}", id.ok_or("no id")?))
        .await?;
    assert_eq!(found.as_deref(), Some("conn"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_inserts_route_by_the_expression_value() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fkp", "fkpref").await?;
    create_tables(&mut strata, &mut reference).await?;
    let statements = [
        (
            "PREPARE s FROM 'INSERT INTO ti VALUES (? + 1, ?), (? * 2, ?)'",
            false,
        ),
        ("SET @a = 10, @b = 'p'", false),
        ("EXECUTE s USING @a, @b, @a, @b", false),
        ("SET @a = 31", false),
        ("EXECUTE s USING @a, @b, @a, @b", false),
        ("SELECT k, v FROM ti ORDER BY k", true),
    ];
    let failures = differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let mut stmt_rows = Vec::new();
    for k in [11, 20, 32, 62] {
        let n: Option<i64> = strata
            .query_first(format!("SELECT COUNT(*) FROM ti WHERE k = {k}"))
            .await?;
        stmt_rows.push(n);
    }
    assert_eq!(stmt_rows, vec![Some(1); 4]);
    drop_and_shut_down(node, &mut strata, &db).await
}
