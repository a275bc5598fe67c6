//! SQL-level prepared statements over four data nodes, against one plain MariaDB:
//! `PREPARE name FROM` text, a user variable or an expression, `EXECUTE name USING`
//! user variables and literals (integers, strings, decimals, NULL), `EXECUTE IMMEDIATE
//! ... USING`, `DEALLOCATE`/`DROP PREPARE`, re-prepare under the same name, and
//! MariaDB's errors (wrong number of values, unknown name, syntax errors and unknown
//! tables at PREPARE). A bound sharding key routes an INSERT: reading the row back by
//! that key (one data node) finds it.

mod diffkit;

use diffkit::{create_on_both, differences, drop_and_shut_down, node_and_reference, BoxError};

const TABLES: &[(&str, &str, &str)] = &[
    (
        "d",
        "id INT NOT NULL PRIMARY KEY, v INT NULL, name VARCHAR(20) NULL, amount DECIMAL(10,2) NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "e",
        "id INT NOT NULL PRIMARY KEY, d_id INT NULL, tag VARCHAR(10) NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO d VALUES (1, 10, 'one', 1.50), (2, 20, 'two', 2.25), (3, 30, 'three', NULL), (4, 40, 'four', 4.00)",
    "INSERT INTO e VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 2, 'c'), (4, 4, 'd')",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_of_text_run_planned_over_every_data_node() -> Result<(), BoxError> {
    let (node, db, mut strata, mut reference) = node_and_reference("dynp", "dynpref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let statements: &[(&str, bool)] = &[
        ("SET @one = 1, @two = 2, @name = 'seven', @amount = 7.25, @none = NULL", true),
        ("PREPARE s FROM 'SELECT id, v FROM d WHERE v > ? ORDER BY id LIMIT ?'", true),
        ("EXECUTE s USING 15, @two", true),
        ("EXECUTE s USING @one, 3", true),
        ("EXECUTE s USING '25', '1'", true),
        // Wrong number of values.
        ("EXECUTE s USING 1", true),
        ("EXECUTE s", true),
        ("EXECUTE s USING (SELECT 1), 2", true),
        // INSERT routed by the bound key, read back by it (one data node).
        ("PREPARE ins FROM 'INSERT INTO d VALUES (?, ?, ?, ?)'", true),
        ("SET @seven = 7", true),
        ("EXECUTE ins USING @seven, 70, @name, @amount", true),
        ("EXECUTE ins USING 6, @none, 'six''s', 6.125", true),
        ("EXECUTE ins USING 5, 50, @none, @none", true),
        ("EXECUTE IMMEDIATE 'INSERT INTO d VALUES (?, ?, ?, ?)' USING 9, 90, 'nine', 9.99", true),
        ("SELECT * FROM d WHERE id = 7", true),
        ("SELECT * FROM d WHERE id = 6", true),
        ("SELECT * FROM d WHERE id = 9", true),
        ("SELECT * FROM d ORDER BY id", true),
        ("PREPARE sel FROM CONCAT('SELECT name, amount FROM d WHERE ', 'id = ?')", true),
        ("EXECUTE sel USING @seven", true),
        ("EXECUTE sel USING 5", true),
        ("SELECT id FROM d WHERE name <=> NULL ORDER BY id", true),
        // UPDATE, and a join.
        ("PREPARE up FROM 'UPDATE d SET v = v + ? WHERE id = ?'", true),
        ("EXECUTE up USING 100, @one", true),
        ("SELECT id, v FROM d ORDER BY id", true),
        (
            "PREPARE j FROM 'SELECT d.id, e.tag FROM d JOIN e ON e.d_id = d.id WHERE e.tag <> ? ORDER BY e.id'",
            true,
        ),
        ("EXECUTE j USING 'c'", true),
        ("EXECUTE IMMEDIATE 'SELECT COUNT(*) AS n FROM d WHERE amount > ?' USING 2.2", true),
        ("EXECUTE IMMEDIATE 'SELECT COUNT(*) AS n FROM d WHERE amount > ?' USING 1, 2", true),
        // Re-prepare under the same name; a failed PREPARE drops the old statement.
        ("PREPARE s FROM 'SELECT COUNT(*) AS n FROM d WHERE id < ?'", true),
        ("EXECUTE s USING 4", true),
        ("PREPARE s FROM 'SELECT 1 AS one'", true),
        ("EXECUTE s", true),
        ("PREPARE s FROM 'SELECT * FROM no_such_table WHERE id = ?'", true),
        ("EXECUTE s USING 1", true),
        ("PREPARE s FROM 'SELECT * FROM d WHERE'", true),
        ("PREPARE s FROM 'SELECT id FROM d WHERE id = ? ORDER BY id'", true),
        ("EXECUTE s USING 2", true),
        ("DEALLOCATE PREPARE s", true),
        ("EXECUTE s USING 2", true),
        ("DROP PREPARE sel", true),
        ("DEALLOCATE PREPARE sel", true),
        ("DEALLOCATE PREPARE never_prepared", true),
        ("EXECUTE never_prepared", true),
    ];
    let failures = differences(&mut reference, &mut strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}
