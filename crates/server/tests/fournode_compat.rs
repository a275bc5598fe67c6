//! What MariaDB's own `main/` test files found over 4 data nodes (issue 14, item 4),
//! each reduced to the statements that showed it and run on Strata and on one plain
//! MariaDB: a crash on a non-ASCII literal (type_binary), RENAME TABLE pairs that name
//! what an earlier pair renamed (rename), INSERT IGNORE into a YEAR sharding column
//! (type_date), ROLLBACK's warning 1196 (rollback), CREATE OR REPLACE TABLE
//! (type_json), ORDER BY a YEAR(2) column (type_year) and SUM over a data node without
//! rows (func_group).

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, run, BoxError,
    ER_NOT_SUPPORTED_YET,
};

type TestResult = Result<(), BoxError>;

/// Runs `statements` (with whether each has a total order) on both sides and fails
/// the test naming every answer of Strata's that differs from MariaDB's.
async fn same_answers(
    reference: &mut mysql_async::Conn,
    strata: &mut mysql_async::Conn,
    statements: &[(&str, bool)],
) -> TestResult {
    let failures = differences(reference, strata, statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

const ALL_NODES: &str = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_ascii_string_routed_as_a_sharding_key_is_inserted() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnb", "fnbref").await?;
    let tables = [(
        "tb",
        "a BINARY(30)",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'a' ON DATANODE '1-4'",
    )];
    create_on_both(&mut strata, &mut reference, &tables, &["SET NAMES utf8"]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            // Multi-byte characters within the first 7 bytes of the literal's text.
            (
                "INSERT INTO tb VALUES ('1äÖüß@µ*$'), ('äö'), (_binary'ü')",
                false,
            ),
            ("SELECT HEX(a) FROM tb ORDER BY a", true),
            ("SELECT COUNT(*) FROM tb WHERE a = '1äÖüß@µ*$'", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_table_runs_its_pairs_in_order() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnr", "fnrref").await?;
    let tables = [
        ("t1", "id INT PRIMARY KEY, v VARCHAR(10)", ALL_NODES),
        (
            "t2",
            "id INT PRIMARY KEY, v VARCHAR(10)",
            "SHARD BY VERTICAL ON DATANODE '2'",
        ),
        ("t3", "id INT PRIMARY KEY, v VARCHAR(10)", "SHARD BY GLOBAL"),
    ];
    let rows = [
        "INSERT INTO t1 VALUES (1, 'one'), (2, 'one'), (3, 'one'), (4, 'one'), (5, 'one')",
        "INSERT INTO t2 VALUES (1, 'two')",
        "INSERT INTO t3 VALUES (1, 'three'), (2, 'three')",
    ];
    create_on_both(&mut strata, &mut reference, &tables, &rows).await?;
    let every_table = |failures: &mut Vec<(&'static str, bool)>| {
        for sql in [
            "SELECT * FROM t1 ORDER BY id",
            "SELECT * FROM t2 ORDER BY id",
            "SELECT * FROM t3 ORDER BY id",
        ] {
            failures.push((sql, true));
        }
    };
    // main.rename: a rotation through a name freed by an earlier pair.
    let mut statements = vec![("RENAME TABLE t3 TO t4, t2 TO t3, t1 TO t2, t4 TO t1", false)];
    every_table(&mut statements);
    // A table renamed twice in one statement, and a swap back.
    statements.push(("RENAME TABLE t1 TO t5, t5 TO t6, t2 TO t1, t6 TO t2", false));
    every_table(&mut statements);
    // A name an earlier pair renamed away no longer exists; a target taken is 1050;
    // either leaves every table as it was.
    statements.push(("RENAME TABLE t1 TO t7, t1 TO t8", false));
    statements.push(("RENAME TABLE t1 TO t7, t2 TO t3", false));
    statements.push(("RENAME TABLE t1 TO t7, t7 TO t2", false));
    every_table(&mut statements);
    statements.push(("SELECT * FROM t7", false));
    same_answers(&mut reference, &mut strata, &statements).await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_ignore_into_a_year_sharding_column_stores_what_mariadb_stores() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fny", "fnyref").await?;
    let tables = [(
        "ty",
        "n INT, y YEAR",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'y' ON DATANODE '1-4'",
    )];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            // Strict mode: the data node's own error (1366), not Strata's.
            ("INSERT INTO ty VALUES (0, 'abc')", false),
            (
                "INSERT IGNORE INTO ty VALUES (1, 'abc'), (2, '5abc'), (3, '3000'), (4, 3000), \
                 (5, ' 12 '), (6, 0), (7, '0'), (8, '0000'), (9, '1.5'), (10, '-1'), (11, 69.5), \
                 (12, '1e3'), (13, '0001'), (14, 1900)",
                false,
            ),
            ("SELECT n, y FROM ty ORDER BY n", true),
            // Each row is where a lookup of its stored value looks.
            ("SELECT n FROM ty WHERE y = 0 ORDER BY n", true),
            ("SELECT n FROM ty WHERE y = 2000 ORDER BY n", true),
            ("SELECT n FROM ty WHERE y = 2002 ORDER BY n", true),
            ("SELECT n FROM ty WHERE y = 'abc' ORDER BY n", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_of_non_transactional_changes_on_several_nodes_warns_once() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnw", "fnwref").await?;
    strata
        .query_drop(format!(
            "CREATE TABLE tm (id INT NOT NULL PRIMARY KEY) ENGINE=MyISAM {ALL_NODES}"
        ))
        .await?;
    reference
        .query_drop("CREATE TABLE tm (id INT NOT NULL PRIMARY KEY) ENGINE=MyISAM")
        .await?;
    let mut warned = Vec::new();
    for conn in [&mut reference, &mut strata] {
        conn.query_drop("BEGIN").await?;
        // Enough rows that several data nodes take part.
        for id in 1..=8 {
            conn.query_drop(format!("INSERT INTO tm VALUES ({id})"))
                .await?;
        }
        conn.query_drop("ROLLBACK").await?;
        let count = conn.get_warnings();
        let codes: Vec<(String, u16)> = conn
            .query("SHOW WARNINGS")
            .await?
            .into_iter()
            .map(|(level, code, _): (String, u16, String)| (level, code))
            .collect();
        let rows: Vec<u32> = conn.query("SELECT id FROM tm ORDER BY id").await?;
        warned.push((count, codes, rows));
    }
    assert_eq!(warned[0].0, 1, "MariaDB: {:?}", warned[0]);
    assert_eq!(warned[1], warned[0], "Strata, then MariaDB");
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_or_replace_of_an_existing_table_is_refused_and_changes_nothing() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fno", "fnoref").await?;
    let tables = [("tr", "id INT PRIMARY KEY", ALL_NODES)];
    create_on_both(
        &mut strata,
        &mut reference,
        &tables,
        &["INSERT INTO tr VALUES (1), (2)"],
    )
    .await?;
    let refused = run(&mut strata, "CREATE OR REPLACE TABLE tr (a INT)").await?;
    assert_eq!(
        refused.error_code(),
        Some(ER_NOT_SUPPORTED_YET),
        "{refused:?}"
    );
    // A new name is a plain CREATE TABLE.
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("SELECT id FROM tr ORDER BY id", true),
            ("CREATE OR REPLACE TABLE tn (id INT PRIMARY KEY)", false),
            ("INSERT INTO tn VALUES (1), (2), (3)", false),
            ("SELECT id FROM tn ORDER BY id", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_digit_years_and_sums_over_empty_nodes_merge_as_mariadb_answers() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fny2", "fny2ref").await?;
    let tables = [("t2y", "id INT PRIMARY KEY, y YEAR, y2 YEAR(2)", ALL_NODES)];
    create_on_both(
        &mut strata,
        &mut reference,
        &tables,
        &[
            "INSERT INTO t2y VALUES (1, 0, 0), (2, 1999, 1999), (3, 2000, 2000), (4, 2001, 2001), \
           (5, 70, 70), (6, 69, 69)",
        ],
    )
    .await?;
    // One group on each of three nodes (AUTO_MOD over 4): node 1 holds no rows, and
    // its MyISAM SUM column lacks the BINARY flag the others carry.
    strata
        .query_drop(
            "CREATE TABLE tg (grp INT, a BIGINT UNSIGNED, c CHAR(10) NOT NULL) ENGINE=MyISAM \
             SHARD BY functiontype 'auto_mod' USING COLUMN 'grp' ON DATANODE '1-4'",
        )
        .await?;
    reference
        .query_drop(
            "CREATE TABLE tg (grp INT, a BIGINT UNSIGNED, c CHAR(10) NOT NULL) ENGINE=MyISAM",
        )
        .await?;
    let rows = "INSERT INTO tg VALUES (1, 1, 'a'), (2, 2, 'b'), (2, 3, 'c'), (3, 4, 'E'), \
                (3, 5, 'C'), (3, 6, 'D')";
    strata.query_drop(rows).await?;
    reference.query_drop(rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("SELECT y2, id FROM t2y ORDER BY y2, id", true),
            ("SELECT y2 FROM t2y ORDER BY y2 DESC, id", true),
            ("SELECT MIN(y2), MAX(y2) FROM t2y", true),
            ("SELECT a, SUM(a) FROM tg GROUP BY a ORDER BY a", true),
            ("SELECT grp, SUM(a) FROM tg GROUP BY grp ORDER BY grp", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_group_auto_increment_is_refused_over_several_nodes_and_kept_on_one() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fna", "fnaref").await?;
    let columns = "a CHAR(20) NOT NULL, b INT NOT NULL AUTO_INCREMENT, INDEX (a, b)";
    // main.ctype_latin1_de: MyISAM numbers `b` per value of `a`, Strata's sequence
    // would number the table's rows.
    for distribution in [
        ALL_NODES.replace("'id'", "'a'"),
        "SHARD BY GLOBAL".to_string(),
    ] {
        let refused = run(
            &mut strata,
            &format!("CREATE TABLE ta ({columns}) ENGINE=MyISAM {distribution}"),
        )
        .await?;
        assert_eq!(
            refused.error_code(),
            Some(ER_NOT_SUPPORTED_YET),
            "{refused:?}"
        );
    }
    // InnoDB refuses the table itself, on every node alike.
    let innodb = format!("CREATE TABLE ta ({columns}) ENGINE=InnoDB");
    same_answers(&mut reference, &mut strata, &[(innodb.as_str(), false)]).await?;
    // On one node the node numbers the rows.
    strata
        .query_drop(format!(
            "CREATE TABLE ta ({columns}) ENGINE=MyISAM SHARD BY VERTICAL ON DATANODE '3'"
        ))
        .await?;
    reference
        .query_drop(format!("CREATE TABLE ta ({columns}) ENGINE=MyISAM"))
        .await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            (
                "INSERT INTO ta (a) VALUES ('x'), ('y'), ('x'), ('z'), ('x')",
                false,
            ),
            ("SELECT a, b FROM ta ORDER BY a, b", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_only_queries_and_limited_joins_answer_as_mariadb_or_are_refused() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnc", "fncref").await?;
    let tables = [(
        "tj",
        "id INT AUTO_INCREMENT PRIMARY KEY, b CHAR(20)",
        ALL_NODES,
    )];
    create_on_both(
        &mut strata,
        &mut reference,
        &tables,
        &["INSERT INTO tj VALUES (1, 'x'), (2, 'y')"],
    )
    .await?;
    // main.comments: a query of comments alone is OK; an empty one stays 1065.
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("/* line with only comment */", false),
            ("# a line comment", false),
            ("SELECT COUNT(*) FROM tj t1, tj t2", true),
        ],
    )
    .await?;
    // main.select_safe: MariaDB refuses joins its estimate puts above MAX_JOIN_SIZE
    // (1104); the compute node has no estimate and refuses its joins instead.
    for conn in [&mut strata, &mut reference] {
        conn.query_drop("SET MAX_JOIN_SIZE = 9").await?;
    }
    let five = "SELECT 1 FROM tj, tj t2, tj t3, tj t4, tj t5";
    assert_eq!(run(&mut reference, five).await?.error_code(), Some(1104));
    assert_eq!(
        run(&mut strata, five).await?.error_code(),
        Some(ER_NOT_SUPPORTED_YET)
    );
    // A statement on one node is the node's to check.
    same_answers(
        &mut reference,
        &mut strata,
        &[("SELECT b FROM tj WHERE id = 1", true)],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boolean_match_over_a_myisam_table_in_a_derived_table_answers_without_a_fulltext_key(
) -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnf", "fnfref").await?;
    // main.fulltext_derived_4257: the derived table is read off copies of the table,
    // which InnoDB would refuse (1191) where MyISAM reads without a FULLTEXT key.
    let create = "CREATE TABLE tf (id INT PRIMARY KEY, c1 CHAR(8), c2 CHAR(20)) ENGINE=MyISAM";
    strata.query_drop(format!("{create} {ALL_NODES}")).await?;
    reference.query_drop(create).await?;
    let rows = "INSERT INTO tf VALUES (1, 'test1', 'test2'), (2, 'test3', 'hello there'), \
                (3, 'test5', 'say hello'), (4, 'test7', 'nothing')";
    strata.query_drop(rows).await?;
    reference.query_drop(rows).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[(
            "SELECT * FROM (SELECT c1 FROM tf WHERE MATCH (c2) AGAINST ('hello' IN BOOLEAN MODE)) \
             AS alias ORDER BY c1",
            true,
        )],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_timestamp_and_time_zone_hold_on_every_node_a_statement_uses() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnt", "fntref").await?;
    // main.type_timestamp_hires: the read-back `timestamp` (a DOUBLE) was replayed
    // quoted on the other nodes' connections, which refuse it (1232); NOW() written as
    // a literal for several nodes ignored it and the session's time zone.
    same_answers(
        &mut reference,
        &mut strata,
        &[
            (
                "SET timestamp = UNIX_TIMESTAMP('2011-01-01 01:01:01') + 0.123456",
                false,
            ),
            ("CREATE TABLE tt (id INT PRIMARY KEY, t DATETIME(6))", false),
            (
                "INSERT INTO tt VALUES (1, NOW(6)), (2, NOW(6)), (3, NOW(6)), (4, NOW(6))",
                false,
            ),
            ("SELECT id, t FROM tt ORDER BY id", true),
            ("SELECT NOW(6)", true),
            // NOW() written as a literal for several nodes is the session's local time.
            ("SET time_zone = '+03:00'", false),
            (
                "INSERT INTO tt VALUES (5, NOW(6)), (6, NOW()), (7, CURDATE()), (8, NOW(3))",
                false,
            ),
            ("SELECT id, t FROM tt ORDER BY id", true),
            ("SELECT id, NOW(6) FROM tt ORDER BY id", true),
            ("SELECT COUNT(*) FROM tt WHERE t <= NOW(6)", true),
        ],
    )
    .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

/// LAST_INSERT_ID() inside a statement the data nodes run is the session's value, not
/// the one of whichever storage connection runs it (odbc).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_insert_id_inside_a_statement_is_the_sessions() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnl", "fnlref").await?;
    let tables = [("li", "id INT AUTO_INCREMENT PRIMARY KEY, b INT", ALL_NODES)];
    create_on_both(&mut strata, &mut reference, &tables, &[]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("INSERT INTO li (b) VALUES (7)", false),
            ("SELECT LAST_INSERT_ID()", true),
            ("SELECT id, LAST_INSERT_ID() FROM li", true),
            (
                "SELECT id, LAST_INSERT_ID() + 1 AS n FROM li WHERE id = 1",
                true,
            ),
            ("SELECT COUNT(*) FROM li WHERE id = LAST_INSERT_ID()", true),
            // An explicit value leaves it as it was.
            ("INSERT INTO li (id, b) VALUES (100, 8)", false),
            ("SELECT id, LAST_INSERT_ID() FROM li ORDER BY id", true),
            ("INSERT INTO li (b) VALUES (LAST_INSERT_ID())", false),
            ("SELECT b FROM li ORDER BY id", true),
            // The sequence idiom: the value set on the node that holds the row.
            (
                "UPDATE li SET b = LAST_INSERT_ID(b + 1) WHERE id = 1",
                false,
            ),
            ("SELECT LAST_INSERT_ID()", true),
            ("SELECT id, LAST_INSERT_ID() FROM li ORDER BY id", true),
        ],
    )
    .await?;
    // A vertical table's values are its data node's own, and so is telling an
    // explicit value (which the OK packet reports too) from a generated one.
    let vertical = [(
        "lv",
        "id INT AUTO_INCREMENT PRIMARY KEY, b INT",
        "SHARD BY VERTICAL ON DATANODE '2'",
    )];
    create_on_both(&mut strata, &mut reference, &vertical, &[]).await?;
    same_answers(
        &mut reference,
        &mut strata,
        &[
            ("INSERT INTO lv (b) VALUES (1)", false),
            ("SELECT LAST_INSERT_ID()", true),
            ("INSERT INTO lv VALUES (50, 2)", false),
            ("SELECT LAST_INSERT_ID()", true),
            ("INSERT INTO lv VALUES (60, 3), (NULL, 4)", false),
            ("SELECT LAST_INSERT_ID(), @@last_insert_id", true),
        ],
    )
    .await?;
    // Set by a SELECT the data nodes run, it would be each node's own.
    let set = strata.query_drop("SELECT LAST_INSERT_ID(42)").await;
    assert!(
        matches!(&set, Err(mysql_async::Error::Server(e)) if e.code == ER_NOT_SUPPORTED_YET),
        "{set:?}"
    );
    drop_and_shut_down(node, &mut strata, &db).await
}

/// EXPLAIN of a read over several data nodes shows Strata's plan, but the errors
/// MariaDB's EXPLAIN gives are its errors too (cset_narrowing: a utf8mb3 column compared
/// with a character it cannot hold is 1267).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_over_several_nodes_gives_the_data_nodes_errors() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fnx", "fnxref").await?;
    let tables = [(
        "tx",
        "id INT PRIMARY KEY, mb3 VARCHAR(32) COLLATE utf8mb3_general_ci",
        ALL_NODES,
    )];
    create_on_both(&mut strata, &mut reference, &tables, &["SET NAMES utf8mb4"]).await?;
    let sql = "EXPLAIN SELECT * FROM tx WHERE mb3 = '\u{1F60A}'";
    for conn in [&mut reference, &mut strata] {
        conn.query_drop("SET NAMES utf8mb4").await?;
        let got = conn.query_drop(sql).await;
        assert!(
            matches!(&got, Err(mysql_async::Error::Server(e)) if e.code == 1267),
            "{got:?}"
        );
    }
    let rows: Vec<mysql_async::Row> = strata
        .query("EXPLAIN SELECT * FROM tx WHERE mb3 = 'a'")
        .await?;
    assert_eq!(rows.len(), 4);
    drop_and_shut_down(node, &mut strata, &db).await
}
