//! Differential test of reads run whole on one data node over temporary copies of their
//! tables (the materialize operator): the same tables and rows in Strata over 4 data
//! nodes (sharded on different keys and rules, global, vertical) and in one plain
//! MariaDB database; subqueries (IN, NOT IN with NULLs, EXISTS, scalar, correlated),
//! derived tables, CTEs, window functions, WITH ROLLUP, UNION/EXCEPT/INTERSECT over
//! sharded tables, self-joins and joins the hash join refuses must answer exactly as
//! MariaDB does, with the same column names and types. Copies keep every value exact
//! (each type compared with the original row), see the transaction's own writes, stop
//! with 1114 past `limits.materialize_max_rows` leaving nothing behind, and EXPLAIN
//! shows the operator. Locking reads stay refused.

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    column_type_difference, create_on_both, differences, drop_and_shut_down, explain,
    node_and_reference, node_with_tables, prepared_difference, run, BoxError, Outcome,
};

type TestResult = Result<(), BoxError>;

/// (table, columns and keys, Strata distribution)
const TABLES: &[(&str, &str, &str)] = &[
    (
        "mc",
        "cid INT NOT NULL PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci NULL, \
         city VARCHAR(10) COLLATE utf8mb4_general_ci NULL, score INT NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'cid' ON DATANODE '1-4'",
    ),
    (
        "mo",
        "oid INT NOT NULL PRIMARY KEY, cid INT NULL, amount DECIMAL(10,2) NULL, \
         note VARCHAR(20) COLLATE utf8mb4_general_ci NULL",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'oid' ON DATANODE '1-4'",
    ),
    (
        "ml",
        "lid INT NOT NULL PRIMARY KEY, oid INT NULL, qty INT NULL, d DATE NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'lid' ON DATANODE '1-3'",
    ),
    (
        "mg",
        "code VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, label VARCHAR(20) NULL",
        "SHARD BY GLOBAL",
    ),
    (
        "mv",
        "id INT NOT NULL PRIMARY KEY, cid INT NULL, tag VARCHAR(10) NULL",
        "SHARD BY VERTICAL ON DATANODE '2'",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO mc VALUES (1, 'ann', 'north', 10), (2, 'Bob', 'SOUTH', NULL), \
     (3, 'cy', NULL, 5), (4, 'ann', 'east', 7), (5, 'émile', 'North', 3), \
     (6, 'zoë', 'west', 10), (7, 'dup', 'east', 1), (8, 'nobody', 'nowhere', 2)",
    "INSERT INTO mo VALUES (10, 1, 5.50, 'a'), (11, 1, 7.25, 'b'), \
     (12, 2, 0.00, NULL), (13, 4, 100.10, 'c'), (14, NULL, 9.99, 'orphan'), \
     (15, 99, 1.00, 'ghost'), (16, 7, 2.50, 'a'), (17, 7, 2.50, 'a'), \
     (18, 3, NULL, 'x'), (19, 6, 50.00, 'y')",
    "INSERT INTO ml VALUES (100, 10, 1, '2024-01-01'), (101, 10, 2, '2024-01-02'), \
     (102, 11, NULL, NULL), (103, 13, 4, '2024-02-29'), (104, NULL, 5, '2024-03-01'), \
     (105, 16, 6, '2024-01-01'), (106, 16, 7, '2024-01-01'), (107, 500, 8, NULL)",
    "INSERT INTO mg VALUES ('north', 'N'), ('south', 'S'), ('east', 'E'), ('centre', 'C')",
    "INSERT INTO mv VALUES (1, 1, 'vip'), (2, 4, 'new'), (3, NULL, 'none'), (4, 4, 'again'), (5, 42, 'gone')",
];

/// Reads the native operators refuse for their shape; `true` when the statement has a
/// total order.
const QUERIES: &[(&str, bool)] = &[
    // IN / NOT IN (with NULLs on either side), EXISTS, NOT EXISTS.
    ("SELECT cid, name FROM mc WHERE cid IN (SELECT cid FROM mo WHERE amount > 2)", false),
    ("SELECT cid FROM mc WHERE cid NOT IN (SELECT cid FROM mo)", false),
    ("SELECT cid FROM mc WHERE cid NOT IN (SELECT cid FROM mo WHERE cid IS NOT NULL)", false),
    ("SELECT oid FROM mo WHERE cid NOT IN (SELECT score FROM mc WHERE score IS NOT NULL)", false),
    ("SELECT cid, score IN (SELECT qty FROM ml) FROM mc ORDER BY cid", true),
    ("SELECT c.cid FROM mc c WHERE EXISTS (SELECT 1 FROM mo o WHERE o.cid = c.cid AND o.note = 'a')", false),
    ("SELECT c.cid FROM mc c WHERE NOT EXISTS (SELECT 1 FROM mo o WHERE o.cid = c.cid)", false),
    ("SELECT oid FROM mo WHERE (cid, note) IN (SELECT cid, tag FROM mv)", false),
    ("SELECT cid FROM mc WHERE score > ALL (SELECT qty FROM ml WHERE qty IS NOT NULL)", false),
    ("SELECT cid FROM mc WHERE score = ANY (SELECT qty FROM ml)", false),
    // Scalar subqueries, correlated or not; more than one row is error 1242.
    ("SELECT cid, (SELECT COUNT(*) FROM mo o WHERE o.cid = c.cid) AS n FROM mc c ORDER BY cid", true),
    ("SELECT cid, (SELECT MAX(amount) FROM mo o WHERE o.cid = c.cid) FROM mc c ORDER BY cid", true),
    ("SELECT oid FROM mo WHERE amount > (SELECT AVG(amount) FROM mo) ORDER BY oid", true),
    ("SELECT oid, (SELECT label FROM mg WHERE code = (SELECT city FROM mc WHERE cid = mo.cid)) FROM mo ORDER BY oid", true),
    ("SELECT (SELECT cid FROM mo) FROM mc", false),
    ("SELECT c.name FROM mc c WHERE c.score = (SELECT MAX(score) FROM mc d WHERE d.city = c.city)", false),
    // Derived tables and CTEs (recursive too).
    ("SELECT t.cid, t.n FROM (SELECT cid, COUNT(*) n FROM mo GROUP BY cid) t WHERE t.n > 1", false),
    ("SELECT c.name, t.total FROM mc c JOIN (SELECT cid, SUM(amount) total FROM mo GROUP BY cid) t ON t.cid = c.cid ORDER BY c.cid", true),
    ("WITH big AS (SELECT cid, SUM(amount) s FROM mo GROUP BY cid) SELECT * FROM big WHERE s > (SELECT AVG(s) FROM big) ORDER BY cid", true),
    ("WITH x AS (SELECT oid, cid FROM mo), y AS (SELECT cid FROM x WHERE oid > 12) SELECT cid, COUNT(*) FROM y GROUP BY cid", false),
    ("WITH RECURSIVE r (n) AS (SELECT MIN(cid) FROM mc UNION ALL SELECT n + 1 FROM r WHERE n < (SELECT MAX(cid) FROM mc)) SELECT n FROM r ORDER BY n", true),
    // Window functions.
    ("SELECT oid, cid, ROW_NUMBER() OVER (PARTITION BY cid ORDER BY oid) FROM mo ORDER BY oid", true),
    ("SELECT cid, score, RANK() OVER (ORDER BY score DESC), SUM(score) OVER (ORDER BY cid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM mc ORDER BY cid", true),
    ("SELECT lid, LAG(qty) OVER (ORDER BY lid), LEAD(d, 2) OVER (ORDER BY lid) FROM ml ORDER BY lid", true),
    // WITH ROLLUP, aggregates the merge cannot combine.
    ("SELECT cid, SUM(amount), COUNT(*) FROM mo GROUP BY cid WITH ROLLUP", true),
    ("SELECT city, name, COUNT(*) FROM mc GROUP BY city, name WITH ROLLUP", true),
    ("SELECT SUM(amount) / COUNT(*), STD(amount), SUM(DISTINCT amount) FROM mo", true),
    ("SELECT GROUP_CONCAT(note ORDER BY oid) FROM mo", true),
    // UNION / EXCEPT / INTERSECT over sharded, global and vertical tables.
    ("SELECT cid FROM mc UNION SELECT cid FROM mo", false),
    ("SELECT cid FROM mc UNION ALL SELECT cid FROM mv ORDER BY 1", true),
    ("SELECT cid FROM mc EXCEPT SELECT cid FROM mo", false),
    ("SELECT cid FROM mc INTERSECT SELECT cid FROM mo", false),
    ("SELECT city FROM mc INTERSECT SELECT code FROM mg", false),
    ("SELECT oid FROM mo UNION ALL SELECT oid FROM ml UNION SELECT lid FROM ml", false),
    ("(SELECT cid FROM mc ORDER BY cid DESC LIMIT 2) UNION (SELECT cid FROM mo ORDER BY cid LIMIT 2)", false),
    // Self-joins and joins the hash join refuses.
    ("SELECT a.oid, b.oid FROM mo a JOIN mo b ON a.cid = b.cid AND a.oid < b.oid", false),
    ("SELECT a.cid, b.cid FROM mc a JOIN mc b ON a.score = b.score AND a.cid <> b.cid WHERE a.cid IN (SELECT cid FROM mo)", false),
    ("SELECT c.cid FROM mc c JOIN mo o ON o.cid < c.cid", false),
    ("SELECT c.cid + o.oid FROM mc c JOIN mo o ON o.cid = c.cid", false),
    ("SELECT c.cid FROM mc c LEFT JOIN mo o ON o.cid = c.cid WHERE o.oid IS NULL", false),
    ("SELECT c.cid, COALESCE(o.note, '-') FROM mc c LEFT JOIN mo o ON o.cid = c.cid", false),
    ("SELECT c.cid FROM mc c JOIN mo o USING (cid) JOIN ml l ON l.oid = o.oid", false),
    ("SELECT v.tag, g.label, c.name FROM mv v JOIN mc c ON c.cid = v.cid LEFT JOIN mg g ON g.code = c.city ORDER BY v.id", true),
    ("SELECT * FROM mc ORDER BY score DESC, cid LIMIT 3", true),
    // Errors MariaDB gives must be the same.
    ("SELECT cid FROM mc WHERE cid = (SELECT cid FROM mo)", false),
];

#[tokio::test]
async fn reads_over_copies_answer_like_one_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("mdiff", "mref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;

    let mut failures = differences(&mut reference, &mut strata, QUERIES).await?;
    for (sql, _) in QUERIES {
        if run(&mut reference, sql).await?.error_code().is_none() {
            failures.extend(column_type_difference(&mut reference, &mut strata, sql).await?);
        }
    }
    // A prepared statement: its values are inlined, its rows go out in the binary
    // protocol.
    let sql = "SELECT cid, (SELECT COUNT(*) FROM mo o WHERE o.cid = c.cid AND o.amount > ?) AS n FROM mc c WHERE c.cid <> ? ORDER BY cid";
    let params = [mysql_async::Value::from(2), mysql_async::Value::from(4)];
    failures.extend(prepared_difference(&mut reference, &mut strata, sql, &params).await?);
    // Locking reads run over copies whose reads lock what they read.
    failures.extend(
        differences(
            &mut reference,
            &mut strata,
            &[
                (
                    "SELECT cid FROM mc WHERE cid IN (SELECT cid FROM mo) FOR UPDATE",
                    false,
                ),
                (
                    "SELECT cid FROM mc WHERE cid IN (SELECT cid FROM mo) LOCK IN SHARE MODE",
                    false,
                ),
            ],
        )
        .await?,
    );
    // SELECT ... INTO @v: the read over copies, the variable set by the compute node.
    failures.extend(
        differences(
            &mut reference,
            &mut strata,
            &[
                (
                    "SELECT COUNT(*) INTO @n FROM mc WHERE cid IN (SELECT cid FROM mo)",
                    false,
                ),
                ("SELECT @n", true),
            ],
        )
        .await?,
    );
    // Refused as before: user variables.
    let sql = "SELECT cid FROM mc WHERE cid IN (SELECT cid FROM mo WHERE oid > @x)";
    let got = run(&mut strata, sql).await?;
    if got.error_code() != Some(1235) {
        failures.push(format!("not refused: {sql}\n  {}", got.describe(5)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

/// A table with a column of every type a copy must keep exact.
const TYPES: &str = "id INT NOT NULL PRIMARY KEY, \
    f FLOAT NULL, d DOUBLE NULL, dd DOUBLE(10,2) NULL, dec1 DECIMAL(65,30) NULL, \
    u BIGINT UNSIGNED NULL, i TINYINT NULL, \
    bin VARBINARY(300) NULL, bl BLOB NULL, bn BINARY(4) NULL, \
    s VARCHAR(40) COLLATE utf8mb4_bin NULL, l1 VARCHAR(20) CHARACTER SET latin1 NULL, \
    ch CHAR(5) NULL, tx TEXT NULL, \
    dt DATE NULL, dtm DATETIME(6) NULL, tm TIME(3) NULL, ts TIMESTAMP(6) NULL, y YEAR NULL, \
    bt BIT(10) NULL, e ENUM('a','b','c') NULL, st SET('x','y','z') NULL, \
    gv INT AS (id * 2) VIRTUAL, gs VARCHAR(50) AS (CONCAT(s, '!')) STORED";

const TYPE_ROWS: &[&str] = &[
    "INSERT INTO {t} (id, f, d, dd, dec1, u, i, bin, bl, bn, s, l1, ch, tx, dt, dtm, tm, ts, y, bt, e, st) VALUES \
     (1, 1234567, 0.1e0 + 0.2e0, 1.005, 12345678901234567890.123456789012345678901234567890, \
      18446744073709551615, -128, X'00FF7F80', X'', X'61000000', 'a😀é', 'café', 'ab ', 'line\\nbreak\\ttab', \
      '2024-02-29', '2024-03-31 02:30:00.123456', '-838:59:59.999', '2024-03-31 01:30:00.654321', 2024, \
      b'1010101010', 'b', 'x,z')",
    "INSERT INTO {t} (id, f, d, dd, dec1, u, i, bin, bl, bn, s, l1, ch, tx, dt, dtm, tm, ts, y, bt, e, st) VALUES \
     (2, 0.1, 1e308, -0.5, -0.000000000000000000000000000001, 0, 127, '', NULL, X'FFFFFFFF', '', 'ÿ', '', '', \
      '1000-01-01', '9999-12-31 23:59:59.999999', '838:59:59', '1970-01-01 05:30:01', 1901, b'0', 'a', '')",
    "INSERT INTO {t} (id, f, d, dd, dec1, u, i, bin, bl, bn, s, l1, ch, tx, dt, dtm, tm, ts, y, bt, e, st) VALUES \
     (3, 3.40282e38, 5e-324, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
     (4, -1.17549435e-38, 2.2250738585072014e-308, 0, 0, 1, 0, X'5C27', NULL, NULL, '''\\\\', 'x', 'zz', NULL, \
      '2000-01-01', '2000-01-01 00:00:00', '00:00:00', '2038-01-19 03:14:07.999999', 0, b'1111111111', 'c', 'x,y,z'), \
     (5, 0.30000001192092896, 9007199254740993, 99999999.99, 1, 2, 3, X'', X'00', X'00', ' lead', ' ', 'c', '', \
      '2024-01-01', '2024-01-01 00:00:00.000001', '-00:00:00.001', '2024-10-27 02:30:00', 2155, b'1', NULL, NULL)",
];

#[tokio::test]
async fn copies_keep_every_value_exact() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("mexact", "mexref").await?;
    // The session's time zone is not UTC: TIMESTAMPs travel in UTC regardless.
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET time_zone = '+05:30'").await?;
    }
    // `tv` is sharded (copied to the node that runs the query); `tv_ref` is a global
    // table with the same rows, read in place there: comparing a copied row with its
    // original on the same node shows whether the copy changed a value.
    let tables = [
        (
            "tv",
            TYPES,
            "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
        ),
        ("tv_ref", TYPES, "SHARD BY GLOBAL"),
    ];
    // Binary strings with every byte value.
    let every_byte: String = (0..=255u8).map(|b| format!("{b:02X}")).collect();
    let mut rows = Vec::new();
    for t in ["tv", "tv_ref"] {
        rows.extend(TYPE_ROWS.iter().map(|row| row.replace("{t}", t)));
        rows.push(format!("INSERT INTO {t} (id, bin, bl) VALUES (6, X'{every_byte}', X'{every_byte}{every_byte}')"));
    }
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    let columns = [
        "f", "d", "dd", "dec1", "u", "i", "bin", "bl", "bn", "s", "l1", "ch", "tx", "dt", "dtm",
        "tm", "ts", "y", "bt", "e", "st", "gv", "gs",
    ];
    let same: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "a.{c} <=> b.{c} AND CAST(a.{c} AS BINARY) <=> CAST(b.{c} AS BINARY) AS same_{c}"
            )
        })
        .collect();
    let selects = [
        // A window function over the copy: it runs on one node, where the global
        // table is read in place.
        format!(
            "SELECT a.id, ROW_NUMBER() OVER (ORDER BY a.id) AS rn, {} FROM tv a JOIN tv_ref b ON b.id = a.id ORDER BY a.id",
            same.join(", ")
        ),
        // The copies' values as the client sees them, with their metadata.
        format!(
            "SELECT id, {}, HEX(f), HEX(bin), HEX(bl), HEX(l1), HEX(bt), ROW_NUMBER() OVER (ORDER BY id) AS rn FROM tv ORDER BY id",
            columns.join(", ")
        ),
        "SELECT id, f * 1e0, d * 1e0, CAST(f AS DOUBLE) FROM tv WHERE id IN (SELECT id FROM tv_ref) ORDER BY id".to_string(),
    ];
    let mut failures = Vec::new();
    for sql in &selects {
        failures.extend(differences(&mut reference, &mut strata, &[(sql.as_str(), true)]).await?);
        failures.extend(column_type_difference(&mut reference, &mut strata, sql).await?);
    }
    // Every comparison of a copied value with its original holds.
    let rows: Vec<mysql_async::Row> = strata.query(&selects[0]).await?;
    for row in rows {
        let id: i64 = row.get(0).ok_or("no id")?;
        for (i, c) in columns.iter().enumerate() {
            let same: Option<i64> = row.get(i + 2).ok_or("no column")?;
            if same != Some(1) {
                failures.push(format!("row {id}: column {c} changed in the copy"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn inside_a_transaction_the_copies_see_its_own_writes() -> TestResult {
    let (node, db, mut c) = node_with_tables("mtxn", TABLES, |_| {}).await?;
    c.query_drop("INSERT INTO mc VALUES (1, 'ann', 'north', 1), (2, 'bob', 'south', 2)")
        .await?;
    c.query_drop("INSERT INTO mg VALUES ('north', 'N')").await?;
    let query = "SELECT c.name, (SELECT COUNT(*) FROM mo o WHERE o.cid = c.cid) AS n, \
                 (SELECT COUNT(*) FROM mg) AS g FROM mc c ORDER BY c.cid";
    c.query_drop("BEGIN").await?;
    c.query_drop(
        "INSERT INTO mo VALUES (10, 1, 1.00, 'a'), (11, 1, 2.00, 'b'), (12, 2, 3.00, 'c')",
    )
    .await?;
    // A global table written in the transaction: complete on the node that runs the
    // query, yet copied from the transaction's own connection.
    c.query_drop("INSERT INTO mg VALUES ('south', 'S')").await?;
    c.query_drop("DELETE FROM mc WHERE cid = 2").await?;
    let inside: Vec<(String, i64, i64)> = c.query(query).await?;
    assert_eq!(inside, vec![("ann".to_string(), 2, 2)]);
    c.query_drop("ROLLBACK").await?;
    let after: Vec<(String, i64, i64)> = c.query(query).await?;
    assert_eq!(
        after,
        vec![("ann".to_string(), 0, 1), ("bob".to_string(), 0, 1)]
    );
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn copies_past_the_row_limit_fail_with_1114_and_leave_nothing_behind() -> TestResult {
    let (node, db, mut c) = node_with_tables("mlimit", TABLES, |config| {
        config.limits.materialize_max_rows = 12
    })
    .await?;
    for sql in ROWS {
        c.query_drop(*sql).await?;
    }
    // 8 + 10 rows to copy: past the limit of 12, twice (a temporary table left on a
    // pooled connection would make the second CREATE TEMPORARY TABLE fail with 1050).
    let over = "SELECT cid FROM mc WHERE cid IN (SELECT cid FROM mo)";
    let refusal = Outcome::Error {
        code: 1114,
        message: "The table copies of a query run on data node 1 exceed 12 rows (configuration setting limits.materialize_max_rows)".to_string(),
    };
    for _ in 0..2 {
        assert_eq!(run(&mut c, over).await?, refusal);
    }
    // 8 + 5 rows, of which the vertical table's 5 are read in place on node 2.
    let under = "SELECT v.id FROM mv v WHERE v.cid IN (SELECT cid FROM mc) ORDER BY v.id";
    let ids: Vec<i64> = c.query(under).await?;
    assert_eq!(ids, vec![1, 2, 4]);
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn explain_shows_the_node_the_copies_and_the_statement() -> TestResult {
    let (node, db, mut c) = node_with_tables("mexplain", TABLES, |_| {}).await?;
    let sql = "SELECT v.tag FROM mv v WHERE v.cid IN (SELECT cid FROM ml WHERE qty > 1)";
    let (rows, merge) = explain(&mut c, sql).await?;
    assert_eq!(
        merge,
        format!(
            "Copy {db}.mv: complete on dnid 2, read in place (copied from dnid 2 inside a transaction) -> \
             Copy {db}.ml from dnid 1,2,3 -> \
             Materialize(dnid 2: the statement runs there over temporary copies of its tables, dropped after it)"
        )
    );
    let last = rows.last().ok_or("no rows")?;
    assert_eq!((last.0, last.1.as_str()), (2, sql));
    assert!(
        rows.iter()
            .any(|r| r.0 == 3 && r.1.contains("FROM `") && r.1.ends_with("`.`ml`")),
        "{rows:?}"
    );
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn a_latin1_session_copies_enum_labels_latin1_cannot_spell() -> TestResult {
    let table = (
        "te",
        "id INT PRIMARY KEY, e ENUM('ā', 'é', 'x') CHARACTER SET utf8mb4",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    );
    let (node, db, mut c) = node_with_tables("mnames", &[table], |_| {}).await?;
    c.query_drop("INSERT INTO te VALUES (1, 'ā'), (2, 'é'), (3, 'x')")
        .await?;
    c.query_drop("SET NAMES latin1").await?;
    // A window function over the sharded table: it runs over a copy, whose ENUM
    // labels must be the base table's, whatever the session's character set.
    let rows: Vec<(i64, String, i64)> = c
        .query("SELECT id, HEX(CAST(e AS BINARY)), ROW_NUMBER() OVER (ORDER BY id) FROM te ORDER BY id")
        .await?;
    assert_eq!(
        rows,
        vec![
            (1, "C481".to_string(), 1),
            (2, "C3A9".to_string(), 2),
            (3, "78".to_string(), 3)
        ]
    );
    c.query_drop("SET NAMES utf8mb4").await?;
    drop_and_shut_down(node, &mut c, &db).await
}
