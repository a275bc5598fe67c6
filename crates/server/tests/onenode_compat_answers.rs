//! Answers of MariaDB's `main/` test files (issue 14) that differed through Strata on
//! one data node, each reduced to its statements and compared with one plain MariaDB:
//! a routine whose body is one loop without BEGIN (sp-bugs: split at its inner `;`, a
//! 1064), `CREATE USER ... REQUIRE` (create_user: 1064, now 1235 but REQUIRE NONE),
//! `ft_stopword_file` (fulltext_var), the definer of a view created by a prepared
//! statement (cte_nonrecursive), a latin1 client's column names that are not UTF-8
//! (ctype_latin1), information_schema's own tables in `information_schema.COLUMNS`
//! (opt_trace), `ALTER DATABASE ... UPGRADE DATA DIRECTORY NAME` (renamedb) and
//! `SET STATEMENT ... FOR ANALYZE` (rowid_filter).

mod common;
mod diffkit;

use common::{error_of, run_all, TestResult};
use diffkit::{compare, run, Shape, Verdict};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

/// A compute node on one shared storage node, a Strata connection using a new
/// database and a connection to the storage node's MariaDB using another.
async fn sides(prefix: &str) -> TestResult<(ComputeNode, Conn, Conn)> {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let strata_db = unique_name(prefix);
    let reference_db = unique_name(&format!("{prefix}ref"));
    let mut strata = node.connect(Some("test")).await?;
    run_all(
        &mut strata,
        &[
            &format!("CREATE DATABASE {strata_db}"),
            &format!("USE {strata_db}"),
        ],
    )
    .await?;
    storage.create_database(&reference_db).await?;
    let reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    Ok((node, strata, reference))
}

/// Runs each statement on both sides and fails naming every answer of Strata's that
/// differs from MariaDB's.
async fn same_answers(strata: &mut Conn, reference: &mut Conn, statements: &[&str]) -> TestResult {
    let shape = Shape {
        ordered: true,
        check_names: true,
        ..Shape::default()
    };
    let mut failures = Vec::new();
    for sql in statements {
        let expected = run(reference, sql).await?;
        let got = run(strata, sql).await?;
        if compare(&expected, &got, &shape) != Verdict::Same {
            failures.push(format!(
                "{sql}\n  MariaDB: {}  Strata: {}",
                expected.describe(10),
                got.describe(10)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// The column names and rows of `sql` run as one COM_QUERY of raw bytes.
async fn raw_answer(
    c: &mut Conn,
    sql: &[u8],
) -> TestResult<(Vec<Vec<u8>>, Vec<Vec<Option<Vec<u8>>>>)> {
    let mut result = c.query_iter(sql).await?;
    let names = result
        .columns_ref()
        .iter()
        .map(|col| col.name_ref().to_vec())
        .collect();
    let rows: Vec<mysql_async::Row> = result.collect().await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            row.unwrap()
                .into_iter()
                .map(|v| match v {
                    mysql_async::Value::Bytes(b) => Some(b),
                    mysql_async::Value::NULL => None,
                    other => Some(other.as_sql(true).into_bytes()),
                })
                .collect()
        })
        .collect();
    Ok((names, rows))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routine_whose_body_is_one_loop_is_one_statement_of_a_multi_statement_text() -> TestResult
{
    let (node, mut strata, mut reference) = sides("bareloop").await?;
    // One COM_QUERY: the routine's inner `;` do not end it (sp-bugs, MDEV-16117).
    let text = "CREATE PROCEDURE p1() FOR i IN 1..10 DO SET @x = i; END FOR; \
                CREATE FUNCTION f1() RETURNS INT DETERMINISTIC FOR i IN 1..10 DO RETURN i; END FOR; \
                CREATE PROCEDURE p2(a INT) MODIFIES SQL DATA WHILE a > 0 DO SET a = a - 1; \
                SET @y = a; END WHILE; \
                CALL p1(); CALL p2(3)";
    for c in [&mut strata, &mut reference] {
        c.query_drop(text).await?;
    }
    same_answers(
        &mut strata,
        &mut reference,
        &[
            "SELECT @x, @y, f1()",
            "SELECT body FROM mysql.proc WHERE db = DATABASE() ORDER BY name",
            "DROP PROCEDURE p1",
            "DROP PROCEDURE p2",
            "DROP FUNCTION f1",
        ],
    )
    .await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_of_an_account_is_refused_not_a_syntax_error() -> TestResult {
    let (node, mut strata, _reference) = sides("require").await?;
    let user = unique_name("req");
    // MariaDB takes them all (create_user); Strata checks no client certificate or
    // cipher, so it keeps no requirement it would not enforce.
    for clause in [
        "REQUIRE SSL",
        "REQUIRE X509",
        "REQUIRE CIPHER 'cipher' AND SUBJECT 'subject' AND ISSUER 'issuer'",
        "REQUIRE CIPHER 'cipher' SUBJECT 'subject'",
    ] {
        let sql = format!("CREATE USER {user} IDENTIFIED BY 'password' {clause}");
        let (code, message) = error_of(&mut strata, &sql).await;
        assert_eq!(code, Some(1235), "{sql}: {message}");
        assert!(message.contains("REQUIRE"), "{message}");
    }
    // REQUIRE NONE is what every account has.
    strata
        .query_drop(format!(
            "CREATE USER {user} IDENTIFIED BY 'password' REQUIRE NONE"
        ))
        .await?;
    strata
        .query_drop(format!("GRANT SELECT ON *.* TO {user} REQUIRE NONE"))
        .await?;
    let (code, _) = error_of(&mut strata, &format!("ALTER USER {user} REQUIRE SSL")).await;
    assert_eq!(code, Some(1235));
    let (code, _) = error_of(&mut strata, &format!("ALTER USER {user} REQUIRE SSL AND")).await;
    assert_eq!(code, Some(1064));
    strata.query_drop(format!("DROP USER {user}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ft_stopword_file_is_mariadbs_built_in_list() -> TestResult {
    let (node, mut strata, mut reference) = sides("stopword").await?;
    same_answers(
        &mut strata,
        &mut reference,
        &[
            "SHOW VARIABLES LIKE 'ft\\_stopword\\_file'",
            "SELECT @@ft_stopword_file, @@global.ft_stopword_file",
        ],
    )
    .await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_created_by_a_prepared_statement_is_the_sessions() -> TestResult {
    let (node, mut strata, _reference) = sides("prepview").await?;
    let me: String = strata
        .query_first("SELECT CURRENT_USER()")
        .await?
        .ok_or("no CURRENT_USER()")?;
    let (user, host) = me.split_once('@').ok_or("no @")?;
    let definer = format!("DEFINER=`{user}`@`{host}`");
    run_all(
        &mut strata,
        &[
            "SET @q = 'CREATE OR REPLACE VIEW v1 AS WITH c AS (SELECT 1 AS a) SELECT * FROM c'",
            "PREPARE s FROM @q",
            "EXECUTE s",
            "EXECUTE s",
            "EXECUTE IMMEDIATE 'CREATE VIEW v2 AS SELECT 2 AS b'",
            "PREPARE s FROM 'CREATE PROCEDURE p() SELECT 3'",
            "EXECUTE s",
        ],
    )
    .await?;
    for show in [
        "SHOW CREATE VIEW v1",
        "SHOW CREATE VIEW v2",
        "SHOW CREATE PROCEDURE p",
    ] {
        let row: mysql_async::Row = strata.query_first(show).await?.ok_or("no row")?;
        let text: String = row
            .get(if show.contains("VIEW") { 1 } else { 2 })
            .ok_or("no text")?;
        assert!(text.contains(&definer), "{show}: {text}");
    }
    // What MariaDB refuses at PREPARE is refused there too.
    let (code, _) = error_of(&mut strata, "PREPARE s FROM 'CREATE VIEW v3 AS SELECT ?'").await;
    assert_eq!(code, Some(1351));
    run_all(
        &mut strata,
        &[
            "PREPARE s FROM 'DROP VIEW v1, v2'",
            "EXECUTE s",
            "DROP PROCEDURE p",
        ],
    )
    .await?;
    let (code, _) = error_of(&mut strata, "EXECUTE s").await;
    assert_eq!(code, Some(4092));
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latin1_clients_column_names_keep_their_bytes() -> TestResult {
    let (node, mut strata, mut reference) = sides("latin1names").await?;
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET NAMES latin1").await?;
    }
    // ctype_latin1: names that are not UTF-8, of literals the compute node would
    // answer itself.
    for sql in [
        &b"SELECT 1 AS \x83, 2 AS \x8a, 3 AS \xe9x"[..],
        b"SELECT 1 AS \xe9 FROM DUAL",
        b"SELECT 'a' AS \xe9, 2 AS \xe9\x83",
    ] {
        let expected = raw_answer(&mut reference, sql).await?;
        let got = raw_answer(&mut strata, sql).await?;
        assert_eq!(got, expected, "{}", String::from_utf8_lossy(sql));
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_schema_lists_its_own_tables_and_columns() -> TestResult {
    let (node, mut strata, mut reference) = sides("istables").await?;
    same_answers(
        &mut strata,
        &mut reference,
        &[
            "SELECT table_name, column_name FROM information_schema.COLUMNS \
             WHERE table_name = 'OPTIMIZER_TRACE' ORDER BY ordinal_position",
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE table_schema = 'information_schema'",
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE table_schema = 'information_schema'",
            "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE table_schema = 'information_schema'",
        ],
    )
    .await?;
    // The storage servers' other schemas stay out of sight.
    let schemas: Vec<String> = strata
        .query("SELECT DISTINCT table_schema FROM information_schema.COLUMNS ORDER BY 1")
        .await?;
    assert!(
        schemas
            .iter()
            .all(|s| s != "mysql" && s != "performance_schema" && s != "sys"),
        "{schemas:?}"
    );
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_database_upgrade_data_directory_name_and_analyze_under_set_statement() -> TestResult
{
    let (node, mut strata, mut reference) = sides("upgradedir").await?;
    for c in [&mut strata, &mut reference] {
        run_all(
            c,
            &[
                "CREATE TABLE t1 (a INT, b INT, KEY (a))",
                "INSERT INTO t1 VALUES (1, 1), (2, 2), (3, 3)",
            ],
        )
        .await?;
    }
    same_answers(
        &mut strata,
        &mut reference,
        &[
            // renamedb: MariaDB's errors for a name without a 5.0 directory.
            "ALTER DATABASE wrong UPGRADE DATA DIRECTORY NAME",
            "ALTER DATABASE `#mysql41#not-supported` UPGRADE DATA DIRECTORY NAME",
            "ALTER DATABASE `#mysql50#` UPGRADE DATA DIRECTORY NAME",
            "ALTER DATABASE `#mysql50#upgrade-me` UPGRADE DATA DIRECTORY NAME",
            // rowid_filter: ANALYZE of a statement under statement variables.
            "SET STATEMENT optimizer_switch = 'rowid_filter=on' FOR \
             ANALYZE SELECT a, b FROM t1 WHERE a > 1",
            "SET STATEMENT optimizer_switch = 'rowid_filter=off' FOR SELECT a FROM t1 ORDER BY a",
        ],
    )
    .await?;
    let (code, _) = error_of(
        &mut strata,
        "SET STATEMENT sql_mode = '' FOR ANALYZE SELECT * FROM mysql.user",
    )
    .await;
    assert_eq!(code, Some(1044));
    node.shutdown().await;
    Ok(())
}

/// A CALL's argument truncated into its parameter warns `at row 0`, as MariaDB: the
/// compute node's lookup of the procedure ran on the session's own connection and left
/// its row count there (sp-vars: `at row 53`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calls_argument_warning_counts_rows_as_mariadb() -> TestResult {
    let (node, mut strata, mut reference) = sides("spv").await?;
    let setup = [
        "SET sql_mode = ''",
        // A user variable keeps the session's connection, as the test file's do.
        "SET @pin = 1",
        "CREATE PROCEDURE p1(x VARCHAR(10), y CHAR(3)) READS SQL DATA SELECT x, y",
    ];
    run_all(&mut strata, &setup).await?;
    run_all(&mut reference, &setup).await?;
    same_answers(
        &mut strata,
        &mut reference,
        &["CALL p1('alpha', 'abcdef')", "SHOW WARNINGS"],
    )
    .await?;
    node.shutdown().await;
    Ok(())
}

/// `SHOW OPEN TABLES` (sp-dynamic prepares it): the tables the data node has open, of
/// the client's databases only, by logical name; preparable like the other SHOWs the
/// compute node answers; `FROM` a storage schema shows nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_open_tables_shows_the_clients_open_tables() -> TestResult {
    let (node, mut strata, _reference) = sides("opentab").await?;
    let db: Option<String> = strata.query_first("SELECT DATABASE()").await?;
    let db = db.ok_or("no database")?;
    run_all(
        &mut strata,
        &["CREATE TABLE ot (a INT)", "SELECT * FROM ot"],
    )
    .await?;
    let rows: Vec<(String, String, u64, u64)> = strata
        .query("SHOW OPEN TABLES FROM `".to_string() + &db + "` LIKE 'ot'")
        .await?;
    assert_eq!(rows, vec![(db.clone(), "ot".to_string(), 0, 0)]);
    let all: Vec<(String, String, u64, u64)> = strata.query("SHOW OPEN TABLES").await?;
    assert!(all.iter().any(|r| r.0 == db && r.1 == "ot"), "{all:?}");
    assert!(
        all.iter()
            .all(|r| !["mysql", "sys", "performance_schema"].contains(&r.0.as_str())),
        "{all:?}"
    );
    let mysql: Vec<(String, String, u64, u64)> =
        strata.query("SHOW OPEN TABLES FROM mysql").await?;
    assert!(mysql.is_empty(), "{mysql:?}");
    strata
        .query_drop("PREPARE s FROM 'SHOW OPEN TABLES LIKE ''ot'''")
        .await?;
    let prepared: Vec<(String, String, u64, u64)> = strata.query("EXECUTE s").await?;
    assert_eq!(prepared, vec![(db.clone(), "ot".to_string(), 0, 0)]);
    // This deployment's physical names differ from the logical ones (`test`): a WHERE
    // would compare physical names.
    let (code, _) = error_of(&mut strata, "SHOW OPEN TABLES WHERE `Database` = 'test'").await;
    assert_eq!(code, Some(1235));
    run_all(&mut strata, &[&format!("DROP DATABASE {db}")]).await?;
    node.shutdown().await;
    Ok(())
}

/// func_json: `JSON_ARRAY(1, USER(), COMPRESS(x))` is NULL on MariaDB, as USER()'s
/// collation derivation (SYSCONST) makes it; the value Strata writes in for the call
/// (the session's account, not the storage connection's) keeps that derivation, so the
/// answer is the same (a plain literal made it an array).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_functions_written_in_keep_their_collation_derivation() -> TestResult {
    let (node, mut strata, mut reference) = sides("userderiv").await?;
    let statements = [
        "SELECT JSON_ARRAY(1, USER(), COMPRESS(5.140264e+307)) IS NULL AS n",
        "SELECT COERCIBILITY(USER()) a, COERCIBILITY(CURRENT_USER()) b, \
         COERCIBILITY(SESSION_USER()) c, COERCIBILITY(SYSTEM_USER()) d",
        "SELECT COLLATION(USER()), CHARSET(CURRENT_USER())",
    ];
    same_answers(&mut strata, &mut reference, &statements).await?;
    // `test`'s physical name differs here: DATABASE() is written in as well.
    strata.query_drop("USE test").await?;
    let db: Option<(String, i64)> = strata
        .query_first("SELECT DATABASE(), COERCIBILITY(DATABASE())")
        .await?;
    assert_eq!(db, Some(("test".to_string(), 3)));
    same_answers(&mut strata, &mut reference, &statements).await?;
    node.shutdown().await;
    Ok(())
}
