//! Differential test of joins run in the compute node: the same tables and rows in
//! Strata over 4 data nodes (sharded on different keys, a global table, a vertical
//! table) and in one plain MariaDB database; every join below must answer exactly as
//! MariaDB does: INNER and LEFT/RIGHT joins, comma joins with WHERE equalities, three
//! tables, WHERE filters, GROUP BY with aggregates, ORDER BY ... LIMIT, DISTINCT, NULL
//! and duplicate keys, string keys compared under their collation; what the hash join
//! cannot compute exactly runs on one data node over copies of the tables. A join past
//! the merge memory budget fails with 1114 when spilling is off (`spill.rs` shows it
//! spilling).

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, explain_holding, node_and_reference,
    node_with_tables, prepared_difference, BoxError,
};

type TestResult = Result<(), BoxError>;

/// (table, columns and keys, Strata distribution)
const TABLES: &[(&str, &str, &str)] = &[
    (
        "jc",
        "cid INT NOT NULL PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci NULL, \
         city VARCHAR(10) COLLATE utf8mb4_general_ci NULL, score INT NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'cid' ON DATANODE '1-4'",
    ),
    (
        "jo",
        "oid INT NOT NULL PRIMARY KEY, cid INT NULL, amount DECIMAL(10,2) NULL, \
         note VARCHAR(20) COLLATE utf8mb4_general_ci NULL, big BIGINT NULL",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'oid' ON DATANODE '1-4'",
    ),
    (
        "jl",
        "lid INT NOT NULL PRIMARY KEY, oid INT NULL, qty INT NULL, d DATE NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'lid' ON DATANODE '1-3'",
    ),
    (
        "jg",
        "code VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, label VARCHAR(20) NULL",
        "SHARD BY GLOBAL",
    ),
    (
        "jv",
        "id INT NOT NULL PRIMARY KEY, cid INT NULL, tag VARCHAR(10) NULL",
        "SHARD BY VERTICAL ON DATANODE '2'",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO jc VALUES (1, 'ann', 'north', 10), (2, 'Bob', 'SOUTH', NULL), \
     (3, 'cy', NULL, 5), (4, 'ann', 'east', 7), (5, 'émile', 'North', 3), \
     (6, 'zoë', 'west', 10), (7, 'dup', 'east', 1), (8, 'nobody', 'nowhere', 2)",
    "INSERT INTO jo VALUES (10, 1, 5.50, 'a', 100), (11, 1, 7.25, 'b', NULL), \
     (12, 2, 0.00, NULL, 3), (13, 4, 100.10, 'c', 4), (14, NULL, 9.99, 'orphan', 5), \
     (15, 99, 1.00, 'ghost', 6), (16, 7, 2.50, 'a', 7), (17, 7, 2.50, 'a', 7), \
     (18, 3, NULL, 'x', NULL), (19, 6, 50.00, 'y', 9)",
    "INSERT INTO jl VALUES (100, 10, 1, '2024-01-01'), (101, 10, 2, '2024-01-02'), \
     (102, 11, NULL, NULL), (103, 13, 4, '2024-02-29'), (104, NULL, 5, '2024-03-01'), \
     (105, 16, 6, '2024-01-01'), (106, 16, 7, '2024-01-01'), (107, 500, 8, NULL)",
    "INSERT INTO jg VALUES ('north', 'N'), ('south', 'S'), ('east', 'E'), ('centre', 'C')",
    "INSERT INTO jv VALUES (1, 1, 'vip'), (2, 4, 'new'), (3, NULL, 'none'), (4, 4, 'again'), (5, 42, 'gone')",
];

/// Joins that must answer as MariaDB does; `true` when the statement has a total order.
const JOINS: &[(&str, bool)] = &[
    // INNER joins on different sharding keys, NULL and duplicate keys.
    ("SELECT c.name, o.oid, o.amount FROM jc c JOIN jo o ON o.cid = c.cid", false),
    ("SELECT c.name, o.oid FROM jo o INNER JOIN jc c ON c.cid = o.cid ORDER BY o.oid", true),
    ("SELECT * FROM jc c JOIN jo o ON o.cid = c.cid", false),
    ("SELECT o.*, c.name FROM jc c, jo o WHERE c.cid = o.cid AND o.amount > 2", false),
    ("SELECT c.cid, o.oid FROM jc c CROSS JOIN jo o WHERE o.cid = c.cid AND c.cid IN (1, 7)", false),
    ("SELECT c.cid, o.oid FROM jc c JOIN jo o ON o.cid = c.cid WHERE c.cid = 7 ORDER BY o.oid DESC", true),
    ("SELECT c.cid, v.tag FROM jc c JOIN jo o ON o.cid = c.cid JOIN jv v ON v.cid = c.cid", false),
    // Batched lookups: the first table filtered to one node by its sharding key.
    ("SELECT c.cid, c.name, o.oid, o.note FROM jc c LEFT JOIN jo o ON o.cid = c.cid AND o.amount > 1 WHERE c.cid = 1 ORDER BY o.oid", true),
    ("SELECT c.cid, g.label FROM jc c JOIN jg g ON g.code = c.city WHERE c.cid = 5", false),
    ("SELECT c.cid, o.oid FROM jc c LEFT JOIN jo o ON o.cid = c.score WHERE c.cid = 2", false),
    ("SELECT o.oid, l.lid, l.d FROM jo o JOIN jl l ON l.oid = o.oid WHERE o.oid = 16 ORDER BY l.lid", true),
    // LEFT and RIGHT joins: rows without a match get NULLs; NULL keys never match.
    ("SELECT c.cid, c.name, o.oid FROM jc c LEFT JOIN jo o ON o.cid = c.cid", false),
    ("SELECT o.oid, c.name FROM jo o LEFT JOIN jc c ON c.cid = o.cid ORDER BY o.oid", true),
    ("SELECT o.oid, c.name FROM jc c RIGHT JOIN jo o ON c.cid = o.cid ORDER BY o.oid", true),
    ("SELECT c.cid, o.oid FROM jc c LEFT JOIN jo o ON o.cid = c.cid AND o.amount > 5 ORDER BY c.cid, o.oid", true),
    ("SELECT c.cid, o.oid FROM jc c LEFT JOIN jo o ON o.cid = c.cid WHERE o.note = 'a'", false),
    ("SELECT c.cid, o.oid, l.lid FROM jc c LEFT JOIN jo o ON o.cid = c.cid LEFT JOIN jl l ON l.oid = o.oid", false),
    ("SELECT v.id, c.name FROM jv v LEFT JOIN jc c ON c.cid = v.cid ORDER BY v.id", true),
    // Three tables, filters on each.
    ("SELECT c.name, o.oid, l.qty FROM jc c JOIN jo o ON o.cid = c.cid JOIN jl l ON l.oid = o.oid WHERE l.qty > 1 AND c.name <> 'zoë'", false),
    ("SELECT c.name, l.d FROM jl l JOIN jo o ON o.oid = l.oid JOIN jc c ON c.cid = o.cid WHERE l.d >= '2024-01-02'", false),
    // Global and string keys compared under the column collation ('north' = 'North').
    ("SELECT c.cid, g.label FROM jc c JOIN jg g ON g.code = c.city", false),
    ("SELECT g.code, c.cid FROM jg g LEFT JOIN jc c ON c.city = g.code ORDER BY g.code, c.cid", true),
    ("SELECT c.name, o.note FROM jc c JOIN jo o ON o.note = c.name", false),
    // GROUP BY and aggregates over joined rows.
    ("SELECT c.name, COUNT(*), SUM(o.amount), MIN(o.oid), MAX(o.big) FROM jc c JOIN jo o ON o.cid = c.cid GROUP BY c.name", true),
    ("SELECT c.cid, COUNT(o.oid), AVG(o.amount) FROM jc c LEFT JOIN jo o ON o.cid = c.cid GROUP BY c.cid", true),
    ("SELECT COUNT(*), SUM(l.qty), AVG(l.qty) FROM jo o JOIN jl l ON l.oid = o.oid", true),
    ("SELECT c.score, COUNT(DISTINCT o.note), COUNT(DISTINCT c.name) FROM jc c LEFT JOIN jo o ON o.cid = c.cid GROUP BY c.score", true),
    ("SELECT COUNT(*) FROM jc c JOIN jo o ON o.cid = c.cid WHERE c.cid > 100", true),
    ("SELECT g.label, COUNT(*) AS n FROM jc c JOIN jg g ON g.code = c.city GROUP BY g.label ORDER BY n DESC, g.label", true),
    ("SELECT o.note, COUNT(*) FROM jo o JOIN jl l ON l.oid = o.oid GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2", true),
    // HAVING over aliases, selected and unselected aggregates.
    ("SELECT c.name, COUNT(*) AS n FROM jc c JOIN jo o ON o.cid = c.cid GROUP BY c.name HAVING n > 1 ORDER BY c.name", true),
    ("SELECT o.note FROM jo o JOIN jl l ON l.oid = o.oid GROUP BY o.note HAVING SUM(l.qty) BETWEEN 2 AND 20 OR MAX(l.d) < '2024-01-02' ORDER BY o.note", true),
    // ORDER BY ... LIMIT, DISTINCT, expressions over one table.
    ("SELECT c.name, o.amount FROM jc c JOIN jo o ON o.cid = c.cid ORDER BY o.amount DESC, o.oid LIMIT 3", true),
    ("SELECT o.oid, c.name FROM jc c JOIN jo o ON o.cid = c.cid ORDER BY c.name, o.oid LIMIT 2, 3", true),
    ("SELECT DISTINCT c.city FROM jc c JOIN jo o ON o.cid = c.cid", false),
    ("SELECT DISTINCT o.note FROM jo o JOIN jl l ON l.oid = o.oid ORDER BY o.note", true),
    ("SELECT UPPER(c.name) AS u, o.amount * 2 FROM jc c JOIN jo o ON o.cid = c.cid ORDER BY u, o.oid", true),
    ("SELECT c.cid, 'k' AS k FROM jc c JOIN jv v ON v.cid = c.cid", false),
    // ORDER BY a name that is both an alias and a column: the alias (GROUP BY: the column).
    ("SELECT c.name AS cid, o.oid FROM jc c JOIN jo o ON o.cid = c.cid ORDER BY cid, o.oid", true),
    ("SELECT c.name FROM jc c JOIN jo o ON o.cid = c.cid GROUP BY c.name ORDER BY COUNT(*) DESC, c.name", true),
    // Tables listed so that the second connects only to the third.
    ("SELECT c.cid, l.lid FROM jc c, jl l, jo o WHERE l.oid = o.oid AND o.cid = c.cid", false),
    // What the hash join cannot compute exactly runs on one data node over copies of
    // the tables (differential_materialize.rs has more).
    ("SELECT c.cid FROM jc c JOIN jo o ON o.cid < c.cid", false),
    ("SELECT c.cid + o.oid FROM jc c JOIN jo o ON o.cid = c.cid", false),
    ("SELECT c.cid FROM jc c LEFT JOIN jo o ON o.cid = c.cid WHERE o.oid IS NULL", false),
    ("SELECT c.cid, COALESCE(o.note, '-') FROM jc c LEFT JOIN jo o ON o.cid = c.cid", false),
    // MySQL compares a string with a number as numbers: not a key the hash join hashes.
    ("SELECT c.cid FROM jc c JOIN jo o ON o.note = c.cid", false),
];

#[tokio::test]
async fn joins_across_data_nodes_answer_like_one_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("jdiff", "jref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;

    let mut failures = differences(&mut reference, &mut strata, JOINS).await?;
    // A prepared statement: the values are bound into each table's query, the rows
    // go out in the binary protocol.
    let sql = "SELECT c.name, o.oid, o.amount FROM jc c JOIN jo o ON o.cid = c.cid WHERE o.amount > ? AND c.cid <> ? ORDER BY o.oid";
    let params = [mysql_async::Value::from(2), mysql_async::Value::from(4)];
    failures.extend(prepared_difference(&mut reference, &mut strata, sql, &params).await?);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn explain_shows_the_join_tree() -> TestResult {
    let (node, db, mut c) = node_with_tables("jexplain", TABLES, |_| {}).await?;
    let rows = explain_holding(
        &mut c,
        "SELECT c.name, o.tag FROM jc c JOIN jv o ON o.cid = c.cid",
        &[
            "Probe side 0 c: Scatter(dnid 1,2,3,4)",
            "Hash side 1 o: Scatter(dnid 2)",
            "HashJoin(0 c; inner 1 o on 0.#0 = 1.#0; columns 0.#1, 1.#1)",
        ],
    )
    .await?;
    // The hashed side's statement first, then the streamed side's on every node.
    let sqls: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(sqls.len(), 5, "{sqls:?}");
    assert!(sqls[0].contains("FROM jv AS o"), "{sqls:?}");
    // Filtered to one node by its sharding key, the first table is read first and the
    // other looked up by its keys.
    let rows = explain_holding(
        &mut c,
        "SELECT c.name, o.oid FROM jc c JOIN jo o ON o.cid = c.cid WHERE c.cid = 7",
        &["(lookup `o`.`cid` IN batches of 1000)", "Lookup side 1 o"],
    )
    .await?;
    assert!(rows[0].1.contains("FROM jc AS c WHERE"), "{rows:?}");
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn a_join_past_the_memory_budget_fails_with_1114_without_spilling() -> TestResult {
    let (node, db, mut c) = node_with_tables("jbudget", TABLES, |config| {
        config.merge.memory_budget = 4096;
        config.merge.spill_cap = 0;
    })
    .await?;
    let values: Vec<String> = (1..=400)
        .map(|i| format!("({i}, {i}, {i}, 'nineteen characters', {i})"))
        .collect();
    c.query_drop(format!("INSERT INTO jo VALUES {}", values.join(", ")))
        .await?;
    c.query_drop("INSERT INTO jc VALUES (1, 'a', 'b', 1)")
        .await?;
    let err = c
        .query_drop("SELECT c.name, o.note FROM jc c JOIN jo o ON o.cid = c.cid")
        .await
        .err()
        .ok_or("the join ran past the budget")?;
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1114, "{e:?}"),
        other => return Err(format!("unexpected error {other}").into()),
    }
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn a_join_inside_a_transaction_sees_its_own_writes() -> TestResult {
    let (node, db, mut c) = node_with_tables("jtxn", TABLES, |_| {}).await?;
    c.query_drop("INSERT INTO jc VALUES (1, 'ann', 'north', 1), (2, 'bob', 'south', 2)")
        .await?;
    let join = "SELECT c.name, o.oid FROM jc c JOIN jo o ON o.cid = c.cid ORDER BY o.oid";
    c.query_drop("BEGIN").await?;
    c.query_drop("INSERT INTO jo VALUES (10, 1, 1.00, 'a', 1), (11, 2, 2.00, 'b', 2)")
        .await?;
    let inside: Vec<(String, i64)> = c.query(join).await?;
    assert_eq!(
        inside,
        vec![("ann".to_string(), 10), ("bob".to_string(), 11)]
    );
    c.query_drop("ROLLBACK").await?;
    let after: Vec<(String, i64)> = c.query(join).await?;
    assert!(after.is_empty(), "{after:?}");
    drop_and_shut_down(node, &mut c, &db).await
}
