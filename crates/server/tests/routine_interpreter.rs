//! Procedures whose body runs SQL text built from an expression (`EXECUTE IMMEDIATE
//! expr`, `PREPARE s FROM expr`) on a database over one data node: the compute node
//! runs them statement by statement, each dynamic text checked as the client's own
//! statement. Compared with one plain MariaDB running the same CREATEs and CALLs: the
//! same result sets, in order, and the same errors; a dynamic text naming `mysql.user`
//! or writing a file is refused at CALL where MariaDB would run it.

mod common;

use common::{error_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

/// Every result set of `sql` (rows as text) and the error it ended with.
async fn all_results(c: &mut Conn, sql: &str) -> TestResult<(Vec<Vec<Vec<String>>>, Option<u16>)> {
    let mut sets = Vec::new();
    let mut result = match c.query_iter(sql).await {
        Ok(r) => r,
        Err(mysql_async::Error::Server(e)) => return Ok((sets, Some(e.code))),
        Err(e) => return Err(e.into()),
    };
    loop {
        let has_columns = result.columns().is_some_and(|c| !c.is_empty());
        let rows: Vec<mysql_async::Row> = match result.collect().await {
            Ok(rows) => rows,
            Err(mysql_async::Error::Server(e)) => return Ok((sets, Some(e.code))),
            Err(e) => return Err(e.into()),
        };
        if has_columns {
            sets.push(
                rows.into_iter()
                    .map(|r| {
                        r.unwrap()
                            .into_iter()
                            .map(|v| match v {
                                mysql_async::Value::NULL => "NULL".to_string(),
                                mysql_async::Value::Bytes(b) => {
                                    String::from_utf8_lossy(&b).into_owned()
                                }
                                other => other.as_sql(true),
                            })
                            .collect()
                    })
                    .collect(),
            );
        }
        if result.is_empty() {
            return Ok((sets, None));
        }
    }
}

/// A compute node over one data node, a connection to a new database on it, and a
/// connection to a new database of the plain MariaDB behind it.
async fn strata_and_reference() -> TestResult<(ComputeNode, Conn, Conn)> {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("interp");
    let mut strata = node.connect(Some("test")).await?;
    strata.query_drop(format!("CREATE DATABASE {db}")).await?;
    strata.query_drop(format!("USE {db}")).await?;
    let reference_db = unique_name("interpref");
    storage.create_database(&reference_db).await?;
    let reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    Ok((node, strata, reference))
}

/// Runs each statement on both sides; the outcomes must be the same.
async fn same_on_both(strata: &mut Conn, reference: &mut Conn, statements: &[&str]) -> TestResult {
    for sql in statements {
        let want = all_results(reference, sql).await?;
        let got =
            tokio::time::timeout(std::time::Duration::from_secs(20), all_results(strata, sql))
                .await
                .map_err(|_| format!("no answer to {sql}"))??;
        assert_eq!(got, want, "{sql}");
    }
    Ok(())
}

const PROCEDURES: &[&str] = &[
    "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))",
    "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')",
    "CREATE PROCEDURE exec_verbose(query TEXT CHARACTER SET utf8mb4) \
     BEGIN SELECT query AS q; EXECUTE IMMEDIATE query; END",
    "CREATE PROCEDURE p_prec(prec INT, scale INT, suffix VARCHAR(32)) \
     BEGIN \
       EXECUTE IMMEDIATE CONCAT('CREATE TABLE d1 (a decimal(', prec, ',', scale, ')', suffix, ')'); \
       INSERT IGNORE INTO d1 VALUES (-1e100), (+1e100); \
       SELECT a, FLOOR(a) FROM d1 ORDER BY a; \
       DROP TABLE d1; \
     END",
    "CREATE PROCEDURE p_flow(n INT, OUT total INT, INOUT tag VARCHAR(20)) \
     BEGIN \
       DECLARE i INT DEFAULT 0; \
       DECLARE q TEXT DEFAULT 'SELECT v FROM t WHERE id = ?'; \
       SET total = 0; \
       l: WHILE i < n DO \
         SET i = i + 1; \
         IF i = 2 THEN ITERATE l; END IF; \
         SET total = total + i; \
         IF i > 3 THEN LEAVE l; END IF; \
       END WHILE l; \
       CASE WHEN total > 100 THEN SET tag = 'big'; ELSE SET tag = CONCAT(tag, '-', total); END CASE; \
       PREPARE s FROM q; \
       EXECUTE s USING i; \
       DEALLOCATE PREPARE s; \
       SELECT v INTO tag FROM t WHERE id = 1; \
     END",
    "CREATE PROCEDURE p_handler(q TEXT) \
     BEGIN \
       DECLARE result TEXT DEFAULT NULL; \
       DECLARE CONTINUE HANDLER FOR 1064, 1146 \
       BEGIN \
         GET DIAGNOSTICS CONDITION 1 result = MYSQL_ERRNO; \
         SET result = CONCAT('ERROR: ', result); \
       END; \
       EXECUTE IMMEDIATE q; \
       SELECT COALESCE(result, 'ok') AS r; \
     END",
    "CREATE PROCEDURE p_exit() \
     BEGIN \
       DECLARE x INT DEFAULT 1; \
       BEGIN \
         DECLARE EXIT HANDLER FOR SQLEXCEPTION SET x = 2; \
         EXECUTE IMMEDIATE CONCAT('SELECT * FROM ', 'no_such_table'); \
         SET x = 3; \
       END; \
       SELECT x; \
     END",
    "CREATE PROCEDURE p_outer(a VARCHAR(10)) BEGIN CALL exec_verbose(CONCAT('SELECT ', a)); SELECT 'after'; END",
    "CREATE PROCEDURE p_cursor() BEGIN \
       DECLARE done INT DEFAULT 0; \
       DECLARE val VARCHAR(20); \
       DECLARE c CURSOR FOR SELECT v FROM t ORDER BY id; \
       DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1; \
       OPEN c; \
       rd: LOOP \
         FETCH c INTO val; \
         IF done THEN LEAVE rd; END IF; \
         EXECUTE IMMEDIATE CONCAT('SELECT ''', val, ''' AS v'); \
       END LOOP; \
       CLOSE c; \
       FETCH c INTO val; \
     END",
    "CREATE PROCEDURE p_user_var() BEGIN SET @s = 'SELECT 40 + 2'; PREPARE st FROM @s; EXECUTE st; END",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interpreted_procedures_answer_as_mariadb() -> TestResult {
    let (_node, mut strata, mut reference) = strata_and_reference().await?;
    same_on_both(&mut strata, &mut reference, PROCEDURES).await?;
    same_on_both(
        &mut strata,
        &mut reference,
        &[
            "CALL exec_verbose('SELECT id, v FROM t ORDER BY id')",
            "CALL exec_verbose('SELECT nothing FROM t')",
            "CALL exec_verbose(NULL)",
            "CALL p_prec(38, 10, '')",
            "CALL p_prec(20, 10, '')",
            "SET @tag = 'x'",
            "CALL p_flow(10, @total, @tag)",
            "SELECT @total, @tag",
            "CALL p_flow(1, 5, @tag)",
            "CALL p_flow(1)",
            "CALL p_handler('SELECT 1')",
            "CALL p_handler('SELEC 1')",
            "CALL p_handler('SELECT * FROM missing')",
            "CALL p_exit()",
            "CALL p_outer('7')",
            "CALL p_user_var()",
            "CALL p_cursor()",
            "CALL p_user_var(); SELECT 1",
        ],
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_text_is_checked_as_the_clients_statement() -> TestResult {
    let (_node, mut strata, mut reference) = strata_and_reference().await?;
    let create = "CREATE PROCEDURE p_dyn(q TEXT) BEGIN EXECUTE IMMEDIATE q; END";
    strata.query_drop(create).await?;
    reference.query_drop(create).await?;
    let file = format!("/tmp/{}.txt", unique_name("interp_out"));
    for (sql, code) in [
        (
            "CALL p_dyn('SELECT COUNT(*) FROM mysql.user')".to_string(),
            1044,
        ),
        (
            "CALL p_dyn(CONCAT('SELECT user FROM mysql', '.user'))".to_string(),
            1044,
        ),
        (
            format!("CALL p_dyn('SELECT 1 INTO OUTFILE ''{file}''')"),
            1290,
        ),
        ("CALL p_dyn('XA RECOVER')".to_string(), 1227),
        // Texts no check of the CALL itself can see.
        (
            "CALL p_dyn(CONCAT('SELECT user FROM my', 'sql.us', 'er'))".to_string(),
            1044,
        ),
        (
            format!("CALL p_dyn(CONCAT('SELECT 1 INTO OUT', 'FILE ''{file}'''))"),
            1290,
        ),
        ("CALL p_dyn(CONCAT('XA REC', 'OVER'))".to_string(), 1227),
    ] {
        let (got, message) = error_of(&mut strata, &sql).await;
        assert_eq!(got, Some(code), "{sql}: {message}");
    }
    // MariaDB itself runs the first one (the storage account may read mysql.user).
    let (sets, error) = all_results(
        &mut reference,
        "CALL p_dyn('SELECT COUNT(*) FROM mysql.user')",
    )
    .await?;
    assert_eq!((sets.len(), error), (1, None));
    // A procedure calling it is run by the compute node too.
    strata
        .query_drop("CREATE PROCEDURE p_via() CALL p_dyn('SELECT * FROM mysql.user')")
        .await?;
    let (got, message) = error_of(&mut strata, "CALL p_via()").await;
    assert_eq!(got, Some(1044), "{message}");
    // The data node's copy does not run by itself (an event, a prepared CALL, a
    // compound statement would reach it): its definer does not exist there.
    let prepared = "PREPARE s FROM 'CALL p_dyn(CONCAT(''SELECT user FROM my'', ''sql.user''))'";
    let (got, message) = error_of(&mut strata, prepared).await;
    if got.is_none() {
        let (got, message) = error_of(&mut strata, "EXECUTE s").await;
        assert_eq!(got, Some(1449), "{message}");
    } else {
        assert_eq!(got, Some(1235), "{message}");
    }
    // The client sees its own definer, not the data node's.
    let row: Option<mysql_async::Row> = strata.query_first("SHOW CREATE PROCEDURE p_dyn").await?;
    let text: String = row.and_then(|r| r.get(2)).unwrap_or_default();
    assert!(!text.contains("strata_interpreted"), "{text}");
    let definers: Vec<String> = strata
        .query("SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'p_dyn'")
        .await?;
    assert!(
        definers.iter().all(|d| !d.contains("strata_interpreted")),
        "{definers:?}"
    );
    // Stored functions, triggers and events keep the refusal.
    for sql in [
        "CREATE FUNCTION f_dyn(q TEXT) RETURNS INT BEGIN EXECUTE IMMEDIATE q; RETURN 1; END",
        "CREATE EVENT e_dyn ON SCHEDULE EVERY 1 DAY DO EXECUTE IMMEDIATE CONCAT('SELECT ', 1)",
    ] {
        let (got, message) = error_of(&mut strata, sql).await;
        assert_eq!(got, Some(1235), "{sql}: {message}");
    }
    // What the interpreter cannot run is refused at CALL, naming it.
    strata
        .query_drop(
            "CREATE PROCEDURE p_warning() BEGIN DECLARE CONTINUE HANDLER FOR SQLWARNING BEGIN END; \
             EXECUTE IMMEDIATE CONCAT('SELECT ', 1); END",
        )
        .await?;
    let (got, message) = error_of(&mut strata, "CALL p_warning()").await;
    assert_eq!(got, Some(1235), "{message}");
    assert!(message.contains("SQLWARNING"), "{message}");
    Ok(())
}

/// Compound statements (`BEGIN NOT ATOMIC ... END`, IF, loops) with dynamic SQL of an
/// expression run on the compute node as a procedure's body does; FOR loops, named
/// conditions and RESIGNAL in both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compound_statements_and_for_loops_answer_as_mariadb() -> TestResult {
    let (_node, mut strata, mut reference) = strata_and_reference().await?;
    same_on_both(&mut strata, &mut reference, &PROCEDURES[..2]).await?;
    same_on_both(
        &mut strata,
        &mut reference,
        &[
            "BEGIN NOT ATOMIC \
               FOR i IN 1..3 DO \
                 SELECT CONCAT('BIT(', i, ')') AS ty; \
                 EXECUTE IMMEDIATE REPLACE('CREATE TABLE b1 (a BIT(64))', '64', i); \
                 INSERT IGNORE INTO b1 VALUES (0xFFFF); \
                 SELECT CAST(a AS UNSIGNED) FROM b1; \
                 DROP TABLE b1; \
               END FOR; \
             END",
            "BEGIN NOT ATOMIC \
               DECLARE ch INT DEFAULT 65; \
               DECLARE query TEXT DEFAULT 'SELECT ''FF'' AS c'; \
               WHILE ch <= 67 DO \
                 SET @query = REPLACE(query, 'FF', CHAR(ch)); \
                 PREPARE stmt FROM @query; \
                 EXECUTE stmt; \
                 DEALLOCATE PREPARE stmt; \
                 SET ch = ch + 1; \
               END WHILE; \
             END",
            "BEGIN NOT ATOMIC \
               lp: FOR i IN REVERSE 1 .. 6 DO \
                 IF i = 5 THEN ITERATE lp; END IF; \
                 IF i = 2 THEN LEAVE lp; END IF; \
                 EXECUTE IMMEDIATE CONCAT('SELECT ', i, ' AS i'); \
               END FOR lp; \
             END",
            "IF (SELECT COUNT(*) FROM t) = 3 THEN EXECUTE IMMEDIATE CONCAT('SELECT ', 'v FROM t WHERE id = 2'); END IF",
            "BEGIN NOT ATOMIC \
               FOR r IN (SELECT id, v AS result FROM t ORDER BY id) DO \
                 EXECUTE IMMEDIATE CONCAT('SELECT ''', r.result, ''' AS v, ', r.id, ' AS id'); \
               END FOR; \
             END",
            "BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('SELECT * FROM ', 'no_such_table'); END",
            "CREATE PROCEDURE p_for_cursor(prefix TEXT) BEGIN \
               DECLARE result TEXT DEFAULT ''; \
               DECLARE c CURSOR FOR SELECT v AS result FROM t ORDER BY id DESC; \
               FOR r IN c DO SET result = CONCAT(result, prefix, r.result); END FOR; \
               FOR r IN (SELECT COLUMN_NAME AS result FROM information_schema.COLUMNS \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION) DO \
                 SET result = CONCAT(result, '|', r.result); \
               END FOR; \
               EXECUTE IMMEDIATE CONCAT('SELECT ''', result, ''' AS r'); \
             END",
            "CALL p_for_cursor('-')",
            "CREATE PROCEDURE p_for_where(n INT) BEGIN \
               FOR r IN (SELECT v AS w FROM t WHERE id >= n ORDER BY id) DO \
                 EXECUTE IMMEDIATE CONCAT('SELECT ''', r.w, ''' AS w'); \
               END FOR; \
             END",
            "CALL p_for_where(2)",
            "CALL p_for_where(NULL)",
            "BEGIN NOT ATOMIC \
               DECLARE r TEXT; \
               SET r = (SELECT COUNT(*) FROM information_schema.COLUMNS \
                        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't'); \
               EXECUTE IMMEDIATE CONCAT('SELECT ', r, ' AS n'); \
             END",
            "CREATE PROCEDURE p_named(q TEXT) BEGIN \
               DECLARE no_table CONDITION FOR 1146; \
               DECLARE custom CONDITION FOR SQLSTATE '45001'; \
               DECLARE CONTINUE HANDLER FOR no_table SELECT 'no table' AS h; \
               BEGIN \
                 DECLARE EXIT HANDLER FOR custom SELECT 'custom' AS h; \
                 EXECUTE IMMEDIATE q; \
                 SIGNAL custom SET MESSAGE_TEXT = 'raised'; \
               END; \
               SIGNAL custom SET MESSAGE_TEXT = 'unhandled'; \
             END",
            "CALL p_named('SELECT * FROM missing')",
            "CALL p_named('SELECT 1')",
            "CREATE PROCEDURE p_resignal() BEGIN \
               DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SELECT 'caught' AS h; RESIGNAL; END; \
               EXECUTE IMMEDIATE CONCAT('SELECT * FROM ', 'nope'); \
             END",
            "CALL p_resignal()",
            "BEGIN NOT ATOMIC \
               DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SELECT 'outer' AS h; END; \
               BEGIN \
                 DECLARE EXIT HANDLER FOR 1146 RESIGNAL; \
                 EXECUTE IMMEDIATE CONCAT('SELECT * FROM ', 'nope'); \
               END; \
               SELECT 'after' AS a; \
             END",
        ],
    )
    .await?;
    Ok(())
}

/// A compound statement's dynamic text is checked as the client's statement when it
/// exists: what no check of the whole statement can see is refused then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compound_statements_dynamic_text_is_checked_when_it_runs() -> TestResult {
    let (_node, mut strata, _reference) = strata_and_reference().await?;
    for sql in [
        "BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('SELECT user FROM my', 'sql.us', 'er'); END",
        "BEGIN NOT ATOMIC \
           DECLARE q TEXT DEFAULT CONCAT('SELECT user FROM mysql', '.user'); \
           SELECT 'before' AS b; \
           PREPARE s FROM q; EXECUTE s; \
         END",
        "FOR i IN 1..2 DO EXECUTE IMMEDIATE CONCAT('SELECT ', i, ' FROM my', 'sql.user'); END FOR",
    ] {
        let (got, message) = error_of(&mut strata, sql).await;
        assert_eq!(got, Some(1044), "{sql}: {message}");
    }
    // What the guard refuses in any body is refused before anything runs.
    let (got, message) = error_of(
        &mut strata,
        "BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('SELECT ', 1); FLUSH LOGS; END",
    )
    .await;
    assert_eq!(got, Some(1227), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_several_data_nodes_the_create_stays_refused() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    let db = unique_name("interp4");
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("USE {db}")).await?;
    let (code, message) = error_of(
        &mut c,
        "CREATE PROCEDURE p4(q TEXT) BEGIN EXECUTE IMMEDIATE q; END",
    )
    .await;
    assert_eq!(code, Some(1235), "{message}");
    // A compound statement with dynamic SQL too.
    let (code, message) = error_of(
        &mut c,
        "BEGIN NOT ATOMIC EXECUTE IMMEDIATE CONCAT('SELECT ', 1); END",
    )
    .await;
    assert_eq!(code, Some(1235), "{message}");
    Ok(())
}

/// A text built from a latin1 value is sent in the client's character set (alias.test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_text_keeps_the_clients_character_set() -> TestResult {
    let (_node, mut strata, mut reference) = strata_and_reference().await?;
    same_on_both(&mut strata, &mut reference, &[
        "SET NAMES latin1",
        "CREATE PROCEDURE ti(arg TEXT CHARACTER SET latin1) BEGIN SET @stmt=CONCAT('SELECT ''', arg, ''' AS c'); PREPARE stmt FROM @stmt; EXECUTE stmt; SET @stmt=CONCAT('CREATE TABLE t1 AS ', @stmt); PREPARE stmt FROM @stmt; EXECUTE stmt; END",
        "CALL ti(x'FF32')",
        "SELECT HEX(@stmt)",
        "SELECT HEX(c), CHARACTER_MAXIMUM_LENGTH FROM t1, information_schema.COLUMNS WHERE TABLE_NAME = 't1' AND TABLE_SCHEMA = DATABASE()",
    ]).await
}
