//! MariaDB syntax in a database over 4 data nodes, against one plain MariaDB. What
//! Strata's parser does not read is never a 1064 when MariaDB accepts it: a data node's
//! parser is asked (the statement is prepared, never run), and the answer is 1235 naming
//! the construct; SQL MariaDB rejects gets MariaDB's own 1064, word for word. The
//! constructs Strata now reads (ODBC `{fn}` / `{oj}` escapes, ZEROFILL, COMPRESSED, a
//! quoted ENGINE, PARTITION BY, EXPLAIN EXTENDED, DROP TABLES; the bit operators, `&&`
//! and `||`, compound interval units, introducers before bit literals, CAST to a
//! character set, a column's `KEY`, `BINARY expr`, ALTER TABLE's `DROP ... IF EXISTS`,
//! `DROP KEY` and `ADD ... IF NOT EXISTS`, `!x`, `SOUNDS LIKE`, the `INTERVAL()`
//! function, `CHAR(n USING cs)`, COLLATE after CAST / CONVERT, `DECIMAL(5.2)` lengths,
//! hex ENUM values) answer as MariaDB does, and `0x..` literals keep their meaning.

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    column_type_difference, create_on_both, differences, drop_and_shut_down, node_and_reference,
    run, BoxError, Outcome, ER_NOT_SUPPORTED_YET,
};

type TestResult = Result<(), BoxError>;

const ER_PARSE_ERROR: u16 = 1064;

/// (table, columns and keys, Strata distribution)
const TABLES: &[(&str, &str, &str)] = &[
    (
        "sa",
        "id INT NOT NULL PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci NULL, d DATE NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "sb",
        "id INT NOT NULL PRIMARY KEY, qty INT NULL",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO sa VALUES (1, 'ann', '2024-01-01'), (2, 'Bob', NULL), (3, 'cy', '2020-02-29'), \
     (4, NULL, '2024-03-01'), (5, 'émile', '2001-01-01')",
    "INSERT INTO sb VALUES (1, 10), (3, NULL), (5, 7), (6, 1)",
];

/// `sql`'s error on `conn`, or None when it succeeds.
async fn error_of(
    conn: &mut mysql_async::Conn,
    sql: &str,
) -> Result<Option<(u16, String)>, BoxError> {
    Ok(match run(conn, sql).await? {
        Outcome::Error { code, message } => Some((code, message)),
        _ => None,
    })
}

#[tokio::test]
async fn valid_mariadb_sql_strata_cannot_read_is_refused_not_called_bad() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("syn", "synref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    // (statement, the construct named in the refusal)
    let accepted = [
        ("SELECT id, CAST(name AS CHAR(2) BINARY) FROM sa", "BINARY"),
        ("CREATE TABLE sv (id INT, v VARCHAR(3) ASCII)", "ASCII"),
        ("CREATE TABLE sw (id INT, KEY k (id) IGNORED)", "IGNORED"),
    ];
    for (sql, construct) in accepted {
        assert_eq!(
            error_of(&mut reference, sql).await?,
            None,
            "MariaDB takes {sql}"
        );
        let Some((code, message)) = error_of(&mut strata, sql).await? else {
            panic!("Strata ran {sql}: update this test with a statement it cannot read");
        };
        assert_eq!(code, ER_NOT_SUPPORTED_YET, "{sql}: {message}");
        assert!(
            message.contains(construct) && message.contains("over several data nodes"),
            "{sql}: {message}"
        );
    }
    // Through COM_STMT_PREPARE as well (its `?` is a placeholder there).
    let unreadable = "SELECT id, CAST(name AS CHAR(2) BINARY) FROM sa WHERE name LIKE ?";
    let prepared = strata.prep(unreadable).await;
    match prepared {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, ER_NOT_SUPPORTED_YET, "{}", e.message)
        }
        other => panic!("prepared: {other:?}"),
    }
    reference.prep(unreadable).await?;

    // SQL MariaDB rejects: its own 1064, message and all.
    let rejected = [
        "SELECT id FROM sa WHERE",
        "SELECT id FROM sa WHERE id = = 1",
        "SELECT id,\n  name\nFROM sa\nWHERE {fn} id",
        "SELECT !id FROM sa WHERE id id",
        "UPDATE sa SET name = 'x' WHERE id IN (1,",
    ];
    for sql in rejected {
        let expected = error_of(&mut reference, sql)
            .await?
            .expect("MariaDB rejects it");
        assert_eq!(expected.0, ER_PARSE_ERROR, "{sql}");
        assert_eq!(error_of(&mut strata, sql).await?, Some(expected), "{sql}");
    }
    // A qualified name after the error: MariaDB's words, with the logical name.
    let sql = |d: &str| format!("SELECT id id id FROM {d}.sa");
    let reference_name = reference_db(&mut reference).await?;
    let (code, message) = error_of(&mut reference, &sql(&reference_name))
        .await?
        .expect("MariaDB rejects it");
    let expected = (code, message.replace(&reference_name, &db));
    assert_eq!(error_of(&mut strata, &sql(&db)).await?, Some(expected));

    // The guard decides first: a private schema is refused as it always is, whatever
    // the statement's syntax, and nothing is prepared there.
    let plain = error_of(&mut strata, "SELECT 1 FROM mysql.tables_priv").await?;
    let odd = error_of(
        &mut strata,
        "SELECT user FROM mysql.tables_priv WHERE user LIKE 'a' ESCAPE _latin1 0x5C",
    )
    .await?;
    assert!(plain.is_some(), "mysql.tables_priv is private");
    assert_eq!(odd.map(|e| e.0), plain.map(|e| e.0));

    drop_and_shut_down(node, &mut strata, &db).await
}

/// The reference connection's current database.
async fn reference_db(reference: &mut mysql_async::Conn) -> Result<String, BoxError> {
    let db: Option<String> = reference.query_first("SELECT DATABASE()").await?;
    Ok(db.ok_or("no database")?)
}

#[tokio::test]
async fn mariadb_syntax_strata_reads_answers_as_mariadb_does() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("synok", "synokref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    // Column attributes and partitioning only the data nodes act on.
    let columns = "id INT NOT NULL PRIMARY KEY, n INT(5) ZEROFILL, m BIGINT UNSIGNED ZEROFILL, \
                   c VARCHAR(100) COMPRESSED, b BLOB COMPRESSED=zlib";
    let tail = "ENGINE='InnoDB' PARTITION BY HASH (id) PARTITIONS 3";
    strata
        .query_drop(format!(
            "CREATE TABLE sz ({columns}) SHARD BY functiontype 'auto_mod' USING COLUMN 'id' \
             ON DATANODE '1-4' {tail}"
        ))
        .await?;
    reference
        .query_drop(format!("CREATE TABLE sz ({columns}) {tail}"))
        .await?;
    strata
        .query_drop("CREATE TABLE sp (id INT NOT NULL, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)")
        .await?;
    reference
        .query_drop("CREATE TABLE sp (id INT NOT NULL, v INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)")
        .await?;
    for sql in [
        "INSERT INTO sz VALUES (1, 7, 8, 'abc', 'x'), (2, 12345, 0, NULL, NULL), (7, NULL, 99, 'é', 'y')",
        "INSERT INTO sp VALUES (1, 1), (12, 2), (30, 3)",
    ] {
        strata.query_drop(sql).await?;
        reference.query_drop(sql).await?;
    }
    let queries: &[(&str, bool)] = &[
        (
            "SELECT {fn concat(name, 'x')}, {fn ucase(name)} FROM sa ORDER BY id",
            true,
        ),
        (
            "SELECT id FROM sa WHERE {fn length(name)} > 2 ORDER BY id",
            true,
        ),
        (
            "SELECT id, {x concat(name, id)}, {d '2024-01-01'} FROM sa ORDER BY id",
            true,
        ),
        (
            "SELECT a.id, b.qty FROM {oj sa a LEFT OUTER JOIN sb b ON a.id = b.id} ORDER BY a.id",
            true,
        ),
        ("SELECT * FROM {oj sa} WHERE id > 2 ORDER BY id", true),
        ("SELECT * FROM sz ORDER BY id", true),
        ("SELECT n, m FROM sz WHERE id = 2", true),
        ("SELECT * FROM sp ORDER BY id", true),
    ];
    let failures = differences(&mut reference, &mut strata, queries).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A list of tables to analyze (each data node answers for the tables it holds).
    let rows: Vec<mysql_async::Row> = strata.query("ANALYZE TABLE sa, sb").await?;
    assert!(!rows.is_empty(), "ANALYZE TABLE answers");
    // MariaDB rejects an escape that holds no single expression; so does Strata.
    for sql in [
        "SELECT {fn concat(name, 'x'), id} FROM sa",
        "SELECT * FROM {oj sa, sb}",
    ] {
        let expected = error_of(&mut reference, sql)
            .await?
            .expect("MariaDB rejects it");
        assert_eq!(error_of(&mut strata, sql).await?, Some(expected), "{sql}");
    }
    // DROP TABLES is DROP TABLE: gone from every data node and from the catalog.
    for conn in [&mut strata, &mut reference] {
        conn.query_drop("DROP TABLES sp, sz").await?;
    }
    for sql in ["SELECT * FROM sp", "SELECT * FROM sz"] {
        let expected = error_of(&mut reference, sql).await?.map(|e| e.0);
        assert_eq!(expected, Some(1146), "{sql}");
        assert_eq!(
            error_of(&mut strata, sql).await?.map(|e| e.0),
            expected,
            "{sql}"
        );
    }
    // EXPLAIN EXTENDED runs on the data nodes as MariaDB's own EXPLAIN.
    let rows: Vec<mysql_async::Row> = strata
        .query("EXPLAIN EXTENDED SELECT * FROM sa WHERE id > 1")
        .await?;
    assert_eq!(rows.len(), 4, "one plan row per data node");
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn mariadb_expressions_strata_reads_answer_as_mariadb_does() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("synex", "synexref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let queries: &[(&str, bool)] = &[
        // Bit operators, `&&` and `||` (OR in the default sql_mode), XOR's precedence.
        (
            "SELECT id, ~id, id << 2, id >> 1, id ^ 3, id & 6 | 1, 1 << 2 & 7 FROM sa ORDER BY id",
            true,
        ),
        ("SELECT CAST(~0 AS UNSIGNED) FROM sa WHERE id = 1", true),
        ("SELECT id FROM sa WHERE id & 1 && id > 1 ORDER BY id", true),
        ("SELECT id FROM sa WHERE id = 1 << 1", true),
        (
            "SELECT id FROM sa WHERE id = 1 AND 0 || name = 'cy' ORDER BY id",
            true,
        ),
        ("SELECT id FROM sa WHERE id = 2 || id = 4 ORDER BY id", true),
        (
            "SELECT id FROM sa WHERE name = 'ann' AND id = 9 XOR id = 2 ORDER BY id",
            true,
        ),
        ("SELECT id, id MOD 2, id DIV 2 FROM sa ORDER BY id", true),
        // Joins across nodes: conditions split by MariaDB's precedence.
        (
            "SELECT a.id, b.id FROM sa a JOIN sb b ON a.id = b.id || b.qty = 1 ORDER BY 1, 2",
            true,
        ),
        (
            "SELECT a.id, b.qty FROM sa a JOIN sb b ON a.id = b.id WHERE a.id << 1 = 2 && b.qty ^ 1 ORDER BY 1",
            true,
        ),
        ("SELECT id, qty FROM sb ORDER BY qty << 1 DESC, id", true),
        (
            "SELECT id & 1 AS odd, COUNT(*) FROM sa GROUP BY id & 1 ORDER BY odd",
            true,
        ),
        (
            "SELECT id & 1 AS odd, COUNT(*) AS c FROM sa GROUP BY odd HAVING c & 1 ORDER BY odd",
            true,
        ),
        (
            "SELECT id >> 1 AS h, COUNT(*) AS c FROM sa GROUP BY h HAVING ~c > 0 ORDER BY h",
            true,
        ),
        // An alias inside a HAVING expression (it was Strata's 1054).
        (
            "SELECT id % 2 AS odd, COUNT(*) AS c FROM sa GROUP BY odd HAVING c % 2 = 1 ORDER BY odd",
            true,
        ),
        (
            "SELECT id << 1 AS h, SUM(id) AS s FROM sa GROUP BY h HAVING s << 1 BETWEEN 3 AND 9 ORDER BY h",
            true,
        ),
        // Compound interval units.
        (
            "SELECT id, EXTRACT(DAY_MICROSECOND FROM d), EXTRACT(YEAR_MONTH FROM d) FROM sa ORDER BY id",
            true,
        ),
        (
            "SELECT id, date_add(d, INTERVAL \"1:1\" MINUTE_SECOND), d + INTERVAL '1-2' YEAR_MONTH, \
             d - INTERVAL '1 2' DAY_HOUR FROM sa ORDER BY id",
            true,
        ),
        (
            "SELECT id FROM sa WHERE d > '2020-01-01' + INTERVAL '1-1' YEAR_MONTH ORDER BY id",
            true,
        ),
        (
            "SELECT id FROM sa ORDER BY d + INTERVAL '1 1' DAY_HOUR DESC, id",
            true,
        ),
        // Introducers before hex and bit literals.
        (
            "SELECT id, _latin1 X'41', HEX(_cp866 0xFF), _utf8mb4 b'1000001', \
             CHARSET(_latin1 b'1000001') FROM sa ORDER BY id",
            true,
        ),
        ("SELECT id FROM sa WHERE name = _latin1 X'616E6E'", true),
        // CAST / CONVERT to a character set.
        (
            "SELECT id, CAST(name AS CHAR CHARACTER SET latin1), CONVERT(name, CHAR(2) CHARSET utf8mb4), \
             CHARSET(CAST(name AS CHAR CHARACTER SET latin1)) FROM sa ORDER BY id",
            true,
        ),
        // BINARY expr.
        (
            "SELECT id, BINARY name, BINARY name = 'ann', BINARY(name) FROM sa ORDER BY id",
            true,
        ),
        ("SELECT id FROM sa WHERE BINARY name = 'bob'", true),
        ("SELECT id FROM sa WHERE BINARY name = 'Bob'", true),
        ("SELECT name FROM sa ORDER BY BINARY name", true),
        // `!x`: NOT, binding tighter than any binary operator.
        (
            "SELECT id, !id, ! id, !id + 1, !id = 0, - !id, NOT !id, !!id, !~id, !name, !NULL, \
             !(id > 2) FROM sa ORDER BY id",
            true,
        ),
        ("SELECT id FROM sa WHERE !(id = 2) && !(name IS NULL) ORDER BY id", true),
        ("SELECT id FROM sa WHERE !id = 0 ORDER BY id", true),
        ("SELECT id FROM sa WHERE !id IS NOT NULL AND id = 3", true),
        // SOUNDS LIKE, named as written.
        (
            "SELECT id, name SOUNDS LIKE 'an', name sounds like 'Bop' = 1 FROM sa ORDER BY id",
            true,
        ),
        ("SELECT id FROM sa WHERE name SOUNDS LIKE 'emil' ORDER BY id", true),
        (
            "SELECT id FROM sa WHERE id = 3 OR name SOUNDS LIKE 'an' AND id < 5 ORDER BY id",
            true,
        ),
        // The function INTERVAL(n, n1, ...), beside the INTERVAL literal.
        (
            "SELECT id, INTERVAL(id, 2, 4), interval(id * 2, 1, 3, 5, 7), \
             d + INTERVAL (1) DAY FROM sa ORDER BY id",
            true,
        ),
        ("SELECT id FROM sa WHERE INTERVAL(id, 3) = 1 ORDER BY id", true),
        // CHAR(n, ... USING cs), and COLLATE after CHAR / CAST / CONVERT.
        (
            "SELECT id, HEX(CHAR(id + 64 USING utf32)), CHARSET(CHAR(id, 65 USING latin1)), \
             HEX(CONVERT(CHAR(id + 0x410 USING utf32) USING utf8mb3) COLLATE utf8mb3_general_ci), \
             COLLATION(CAST(name AS CHAR CHARACTER SET latin1) COLLATE latin1_bin), CHAR(id) \
             FROM sa ORDER BY id",
            true,
        ),
        (
            "SELECT id FROM sa WHERE name = CHAR(97, 110, 110 USING 'utf8mb4') COLLATE utf8mb4_bin",
            true,
        ),
        (
            "SELECT a.id, b.qty FROM sa a JOIN sb b ON a.id = b.id \
             WHERE CONVERT(a.name USING latin1) COLLATE latin1_bin = CHAR(97, 110, 110 USING latin1)",
            true,
        ),
    ];
    let mut failures = differences(&mut reference, &mut strata, queries).await?;
    // Writes with the new operators; a key to route is taken from WHERE as before.
    let written: &[(&str, bool)] = &[
        (
            "INSERT INTO sb VALUES (8, ~0 >> 60), (9, BINARY '2' << 1)",
            false,
        ),
        ("UPDATE sb SET qty = qty << 1 WHERE id = 4 << 1", false),
        ("SELECT * FROM sb ORDER BY id", true),
        ("DELETE FROM sb WHERE id = 2 << 2 || id = 9", false),
        ("SELECT * FROM sb ORDER BY id", true),
    ];
    failures.extend(differences(&mut reference, &mut strata, written).await?);
    // MariaDB's own casefolding tests (include/ctype_unicode_casefold_bmp.inc) build a
    // view with EXECUTE IMMEDIATE SFORMAT(...) (there over a SEQUENCE engine table).
    let casefold: &[(&str, bool)] = &[
        ("SET NAMES utf8mb3 COLLATE utf8mb3_general_ci", false),
        (
            "EXECUTE IMMEDIATE SFORMAT('\nCREATE VIEW v_bmp AS\nSELECT\n  id AS codepoint,\n  \
             LPAD(HEX(id),4,''0'') AS codepoint_hex4,\n  \
             CONVERT(CHAR(id + 0x3A0 USING utf32) USING {}) COLLATE {} AS c\nFROM\n  sa', \
             @@character_set_connection, @@collation_connection)",
            false,
        ),
        ("SELECT COLLATION(c) FROM v_bmp LIMIT 1", true),
        (
            "SELECT codepoint_hex4, HEX(CAST(LOWER(c) AS CHAR CHARACTER SET ucs2)), \
             HEX(CAST(UPPER(c) AS CHAR CHARACTER SET ucs2)) FROM v_bmp \
             WHERE BINARY(c)<>BINARY(LOWER(c)) OR BINARY(c)<>BINARY(UPPER(c)) ORDER BY codepoint",
            true,
        ),
        ("DROP VIEW v_bmp", false),
        ("SET NAMES utf8mb4", false),
    ];
    failures.extend(differences(&mut reference, &mut strata, casefold).await?);
    // A sharding key that is an expression is evaluated by MariaDB and the row routed
    // by its value (docs/sharding.md), never guessed: the rows are MariaDB's.
    let keys = [
        ("INSERT INTO sb VALUES (1 << 4, 1)", false),
        ("INSERT INTO sb VALUES (!0, 1)", false),
        ("INSERT INTO sb VALUES (INTERVAL(5, 1, 9), 1)", false),
        ("SELECT * FROM sb ORDER BY 1, 2", true),
    ];
    failures.extend(differences(&mut reference, &mut strata, &keys).await?);
    for (sql, _) in queries {
        if let Some(d) = column_type_difference(&mut reference, &mut strata, sql).await? {
            failures.push(d);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // `||` concatenates under PIPES_AS_CONCAT, on the data nodes as on MariaDB.
    for conn in [&mut strata, &mut reference] {
        conn.query_drop("SET sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')")
            .await?;
    }
    let piped: &[(&str, bool)] = &[
        ("SELECT id, name || 'x' FROM sa ORDER BY id", true),
        ("SELECT id FROM sa WHERE name || 'x' = 'annx'", true),
        ("SELECT id FROM sa WHERE id = 1 || 0 ORDER BY id", true),
    ];
    let failures = differences(&mut reference, &mut strata, piped).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for conn in [&mut strata, &mut reference] {
        conn.query_drop("SET sql_mode = DEFAULT").await?;
    }

    // A column's KEY is its PRIMARY KEY: the table is placed by it and keeps it unique.
    for conn in [&mut strata, &mut reference] {
        conn.query_drop("CREATE TABLE sk (id INT KEY, v INT UNIQUE KEY, w INT, INDEX iw (w))")
            .await?;
        conn.query_drop("INSERT INTO sk VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3)")
            .await?;
    }
    let keyed: &[(&str, bool)] = &[
        ("INSERT INTO sk VALUES (2, 9, 9)", false),
        ("SELECT * FROM sk ORDER BY id", true),
        ("SELECT id, v FROM sk WHERE id = 3", true),
        // DROP ... IF EXISTS: what is there goes, what is not is a note.
        (
            "ALTER TABLE sk DROP IF EXISTS nothere, DROP INDEX IF EXISTS nope, DROP KEY IF EXISTS iw, \
             DROP COLUMN IF EXISTS w",
            false,
        ),
        ("SELECT * FROM sk ORDER BY id", true),
        ("ALTER TABLE sk DROP FOREIGN KEY IF EXISTS nofk", false),
        ("ALTER TABLE sk DROP CHECK IF EXISTS nocheck", false),
    ];
    let mut failures = differences(&mut reference, &mut strata, keyed).await?;

    // Over 4 data nodes: ADD ... IF NOT EXISTS (what is there already is a note) and
    // DROP KEY; a length written (5.2) is MariaDB's (5); hex values of an ENUM or SET.
    let columns = "id INT NOT NULL PRIMARY KEY, a DECIMAL(5.2), b VARCHAR(10.9), \
                   e ENUM(0xE4, 'b', X'63'), s SET(0x41, 0x42)";
    strata
        .query_drop(format!(
            "CREATE TABLE st ({columns}) CHARSET latin1 \
             SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'"
        ))
        .await?;
    reference
        .query_drop(format!("CREATE TABLE st ({columns}) CHARSET latin1"))
        .await?;
    let altered: &[(&str, bool)] = &[
        (
            "INSERT INTO st VALUES (1, 12.7, 'abcdefghij', 'c', 'A,B'), (2, 3, 'x', 1, 'B'), \
             (3, NULL, NULL, NULL, NULL)",
            false,
        ),
        ("SELECT * FROM st ORDER BY id", true),
        ("SELECT id, HEX(e), s + 0 FROM st ORDER BY id", true),
        (
            "ALTER TABLE st ADD COLUMN IF NOT EXISTS a INT, ADD COLUMN IF NOT EXISTS x INT, \
             ADD INDEX IF NOT EXISTS ix (x), ADD KEY IF NOT EXISTS ix (x), \
             ADD UNIQUE KEY IF NOT EXISTS ux (id, x), ADD KEY ia (a)",
            false,
        ),
        ("INSERT INTO st (id, x) VALUES (4, 4), (5, 4)", false),
        ("SELECT * FROM st ORDER BY id", true),
        ("ALTER TABLE st DROP KEY ix, DROP KEY ux", false),
        ("ALTER TABLE st DROP KEY nothere", false),
        ("SELECT * FROM st WHERE x = 4 ORDER BY id", true),
    ];
    failures.extend(differences(&mut reference, &mut strata, altered).await?);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for table in ["sk", "st"] {
        let sql = format!("SHOW CREATE TABLE {table}");
        let expected: Option<(String, String)> = reference.query_first(&sql).await?;
        let got: Option<(String, String)> = strata.query_first(&sql).await?;
        // Strata's answer ends with its distribution, in a comment.
        let got = got.map(|(t, c)| match c.find("\n/*!999999 ") {
            Some(at) => (t, c[..at].to_string()),
            None => (t, c),
        });
        assert_eq!(got, expected, "{sql}");
    }
    drop_and_shut_down(node, &mut strata, &db).await
}

/// A `0x..` literal is a number in numeric context and a string otherwise; `X'..'` is
/// always a string. Statements Strata re-prints (merges, joins across nodes, split
/// inserts) keep `0x..` as written, and a `0x..` sharding-key value routes as the
/// string or the number the key column makes of it.
#[tokio::test]
async fn zero_x_literals_keep_their_meaning_over_several_nodes() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("synhex", "synhexref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let columns =
        "id INT NOT NULL, s VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL, PRIMARY KEY (s, id)";
    strata
        .query_drop(format!(
            "CREATE TABLE hs ({columns}) SHARD BY functiontype 'auto_crc32' USING COLUMN 's' \
             ON DATANODE '1-4'"
        ))
        .await?;
    reference
        .query_drop(format!("CREATE TABLE hs ({columns})"))
        .await?;
    let queries: &[(&str, bool)] = &[
        (
            "INSERT INTO hs VALUES (1, 0x616E6E), (2, X'626F62'), (3, 0x6379), (4, 'zoe')",
            false,
        ),
        ("INSERT INTO sb VALUES (0x10, 0x20), (0x11, 1)", false),
        (
            "SELECT id, 0x41 + 0, CHAR(0x616E6E USING latin1), HEX(0x41), 0x41 = 'A', \
             X'41' = 'A', id + 0x30 FROM sa ORDER BY id",
            true,
        ),
        (
            "SELECT a.id, 0x41 + 0, CHAR(0x616E6E USING latin1), HEX(0x41), 0x41 = 'A', \
             b.qty + 0x01 FROM sa a JOIN sb b ON a.id = b.id ORDER BY a.id",
            true,
        ),
        (
            "SELECT 0x41 + 0, CHAR(0x616E6E USING latin1), COUNT(*) FROM sa \
             GROUP BY 0x41 + 0, CHAR(0x616E6E USING latin1)",
            true,
        ),
        ("SELECT id, name FROM sa WHERE id = 0x03", true),
        (
            "SELECT id FROM sa WHERE id IN (0x01, 0x05) ORDER BY id",
            true,
        ),
        ("SELECT id, s FROM hs WHERE s = 0x616E6E", true),
        ("SELECT id, s FROM hs WHERE s = X'626F62'", true),
        (
            "SELECT id, s FROM hs WHERE s IN (0x6379, 0x7A6F65) ORDER BY id",
            true,
        ),
        ("SELECT * FROM sb WHERE id = 16", true),
        ("SELECT * FROM sb WHERE id = 0x11", true),
        ("SELECT * FROM sb ORDER BY id", true),
        ("SELECT * FROM hs ORDER BY id", true),
    ];
    let failures = differences(&mut reference, &mut strata, queries).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}
