use super::*;

/// Storage schemas plus one physical database name (`strata_db_1`) that differs from
/// its logical name.
struct Policy;

impl SchemaPolicy for Policy {
    fn denied(&self, schema: &str) -> bool {
        is_storage_schema(schema) || schema.eq_ignore_ascii_case("strata_db_1")
    }

    fn logical(&self, db: &str) -> bool {
        db == "shop"
    }

    fn may_mention(&self, text: &[u8]) -> bool {
        STORAGE_SCHEMAS
            .iter()
            .chain(["strata_db_1"].iter())
            .any(|s| contains_ignore_ascii_case(text, s.as_bytes()))
    }
}

fn check(sql: &str) -> Result<(), Refusal> {
    check_statement(sql, classify(sql), ByteSummary::of(sql.as_bytes()), &Policy)
}

fn code_of(sql: &str) -> u16 {
    match check(sql) {
        Ok(()) => 0,
        Err(r) => r.code(),
    }
}

/// Asserts that the guard lets each statement through.
fn assert_allowed(sqls: &[&str]) {
    for sql in sqls {
        assert_eq!(check(sql), Ok(()), "{sql}");
    }
}

/// Asserts that the guard refuses each statement with the MySQL error `code`.
fn assert_codes(sqls: &[&str], code: u16) {
    for sql in sqls {
        assert_eq!(code_of(sql), code, "{sql}");
    }
}

/// Asserts `holds` of each statement, naming the one it fails for.
fn assert_each(sqls: &[&str], holds: impl Fn(&str) -> bool) {
    for sql in sqls {
        assert!(holds(sql), "{sql}");
    }
}

#[test]
fn application_statements_pass() {
    assert_allowed(&[
        "SELECT * FROM t WHERE id = 1",
        "SELECT t.a, u.b FROM t JOIN u ON t.id = u.id",
        "SELECT db1.t.a FROM db1.t",
        "SELECT 1.5, .5 FROM dual",
        "INSERT INTO t VALUES (1, 'mysql.user')",
        "UPDATE t SET a = 'INTO OUTFILE' WHERE id = 1",
        "SELECT a INTO @x FROM t LIMIT 1",
        "CREATE TABLE t (id INT PRIMARY KEY, engine VARCHAR(10)) ENGINE=InnoDB",
        "CREATE TABLE t (id INT) ENGINE InnoDB DEFAULT CHARSET=utf8mb4",
        "ALTER TABLE t ENGINE = Aria",
        "CREATE TABLE t2 LIKE t",
        "DROP TABLE t",
        "CREATE PROCEDURE p() BEGIN DECLARE CONTINUE HANDLER FOR NOT FOUND SET @done = 1; SELECT * FROM t; END",
        "CREATE DEFINER = CURRENT_USER PROCEDURE p() SELECT 1",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NEW.a + 1",
        "BEGIN NOT ATOMIC SELECT 1; END",
        "PREPARE s FROM 'SELECT * FROM t WHERE id = ?'",
        "EXECUTE IMMEDIATE 'SELECT 1'",
        "EXECUTE s USING @a",
        "XA START 'app-xid-1'",
        "XA COMMIT 'app-xid-1'",
        "LOCK TABLES t READ",
        "LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t FIELDS TERMINATED BY ','",
        "CALL p(1)",
        "DO SLEEP(0)",
        "EXPLAIN SELECT * FROM t",
        "HELP 'contents'",
        "SIGNAL SQLSTATE '45000'",
        "GET DIAGNOSTICS @n = NUMBER",
        "SELECT `mysql`",
        "SELECT t.mysql FROM t",
    ]);
}

#[test]
fn flush_of_the_clients_tables_and_counters_passes_its_names_checked() {
    assert_allowed(&["FLUSH STATUS", "FLUSH TABLES", "flush local table t1, d.t2"]);
    // The query caches and key caches: no rows of anyone's shown or changed.
    assert_allowed(&[
        "FLUSH QUERY CACHE",
        "RESET QUERY CACHE",
        "CACHE INDEX t1, d.t2 KEY (a) IN hot",
        "LOAD INDEX INTO CACHE t1 IGNORE LEAVES, t2",
    ]);
    assert_codes(
        &[
            "CACHE INDEX mysql.user IN hot",
            "LOAD INDEX INTO CACHE t1, mysql.db",
        ],
        1044,
    );
    assert_codes(&["FLUSH TABLES mysql.user", "FLUSH TABLE t, sys.x"], 1044);
    // The compute node's own global read lock.
    assert_allowed(&[
        "FLUSH TABLES WITH READ LOCK",
        "flush no_write_to_binlog table with read lock",
    ]);
    assert_codes(
        &[
            "PREPARE s FROM 'FLUSH TABLES WITH READ LOCK'",
            "EXECUTE IMMEDIATE 'FLUSH TABLES WITH READ LOCK'",
        ],
        1235,
    );
    assert_codes(
        &[
            "FLUSH TABLES WITH READ LOCK AND DISABLE CHECKPOINT",
            "FLUSH TABLES t FOR EXPORT",
            "FLUSH TABLE t WITH READ LOCK",
        ],
        1235,
    );
    // Inside a routine the same forms act on the routine's data node.
    assert_allowed(&[
        "CREATE PROCEDURE p() FLUSH STATUS",
        "CREATE PROCEDURE p() FLUSH TABLES",
        "CREATE PROCEDURE p() BEGIN FLUSH LOCAL TABLES t1, t2; SELECT 1; END",
        "CREATE PROCEDURE p() BEGIN FLUSH TABLES END",
    ]);
    assert_codes(
        &[
            "CREATE PROCEDURE p() FLUSH TABLES WITH READ LOCK",
            "CREATE PROCEDURE p() FLUSH PRIVILEGES",
            "CREATE PROCEDURE p() BEGIN FLUSH TABLES; FLUSH LOGS; END",
        ],
        1227,
    );
    assert!(crate::guard::defines_flush(
        "CREATE PROCEDURE p() flush tables"
    ));
    assert!(!crate::guard::defines_flush(
        "CREATE PROCEDURE p() SELECT flush FROM t"
    ));
}

#[test]
fn server_wide_statements_are_refused_with_1227() {
    assert_codes(
        &[
            "SHUTDOWN",
            "RESET QUERY",
            "flush logs",
            "RESET MASTER",
            "PURGE BINARY LOGS TO 'mysql-bin.000010'",
            "CHANGE MASTER TO MASTER_HOST = 'evil'",
            "START SLAVE",
            "STOP REPLICA",
            "INSTALL SONAME 'ha_connect'",
            "UNINSTALL PLUGIN foo",
            "BINLOG 'AAAA'",
            "BACKUP STAGE START",
            "CREATE PROCEDURE p() CACHE INDEX t IN hot",
            "CREATE PROCEDURE p() LOAD INDEX INTO CACHE t",
            "CREATE PROCEDURE p() FLUSH QUERY CACHE",
            "CREATE PROCEDURE p() RESET QUERY CACHE",
            "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')",
            "DROP SERVER s",
            "LOCK INSTANCE FOR BACKUP",
            "XA RECOVER",
            "XA ROLLBACK 'strata:1:2:3', '1', 0x5354",
            "XA COMMIT X'7374726174613A31'",
            "EXPLAIN FOR CONNECTION 12",
            "CREATE DEFINER = 'root'@'localhost' PROCEDURE p() SELECT 1",
            "CREATE ALGORITHM=MERGE DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1",
            "CREATE TABLE f (id INT) ENGINE=InnoDB CONNECTION='mysql://u@h/db/t'",
        ],
        1227,
    );
}

#[test]
fn account_statements_are_not_forwarded() {
    assert_each(
        &[
            "GRANT ALL ON *.* TO x",
            "REVOKE ALL ON *.* FROM 'strata'@'%'",
            "CREATE USER u IDENTIFIED BY 'p'",
            "DROP USER u",
            "ALTER USER u IDENTIFIED BY 'q'",
            "RENAME USER a TO b",
            "SET PASSWORD FOR u = PASSWORD('x')",
        ],
        |sql| matches!(check(sql), Err(Refusal::AccountStatement(_))),
    );
}

#[test]
fn files_of_storage_hosts_are_refused_with_1290() {
    assert_codes(
        &[
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "SELECT * INTO DUMPFILE '/tmp/x' FROM t",
            "SELECT LOAD_FILE('/etc/hostname')",
            "select load_file ('/etc/passwd')",
            "UPDATE t SET a = LOAD_FILE('/etc/passwd')",
            "LOAD DATA INFILE '/etc/hostname' INTO TABLE t",
            "LOAD XML INFILE '/x.xml' INTO TABLE t",
            "CREATE TABLE t (id INT) DATA DIRECTORY = '/tmp'",
            "PREPARE s FROM 'SELECT 1 INTO OUTFILE ''/tmp/y'''",
            "EXECUTE IMMEDIATE 'SELECT LOAD_FILE(''/etc/passwd'')'",
            "CREATE VIEW v AS SELECT LOAD_FILE('/etc/passwd')",
            "SELECT LOAD_FILE(NULL), LOAD_FILE('/etc/passwd')",
            "SELECT LOAD_FILE(NULL || '/etc/passwd')",
        ],
        1290,
    );
    // LOAD_FILE(NULL) reads no file: the compute node writes it for a NULL value.
    assert_allowed(&[
        "SELECT IF(1, X'41', LOAD_FILE(NULL)) AS `LOAD_FILE('/f')`",
        "SELECT load_file ( null )",
    ]);
}

#[test]
fn storage_schemas_and_physical_names_are_refused_with_1044() {
    for (sql, schema) in [
        (
            "SELECT user, authentication_string FROM mysql.user",
            "mysql",
        ),
        ("SELECT * FROM `MySQL`.`user`", "MySQL"),
        (
            "select * from performance_schema.threads",
            "performance_schema",
        ),
        ("SELECT * FROM sys.session", "sys"),
        ("SELECT * FROM t JOIN mysql.db d ON 1", "mysql"),
        (
            "SELECT * FROM t WHERE a IN (SELECT user FROM mysql.user)",
            "mysql",
        ),
        ("SELECT * FROM strata_db_1.t", "strata_db_1"),
        ("DESCRIBE mysql.user", "mysql"),
        ("CALL sys.ps_setup_enable_instrument('x')", "sys"),
        ("INSERT INTO mysql.plugin VALUES ('x', 'y')", "mysql"),
        ("CREATE TABLE t2 LIKE mysql.user", "mysql"),
    ] {
        assert_eq!(
            check(sql),
            Err(Refusal::StorageSchema(schema.into())),
            "{sql}"
        );
    }
}

#[test]
fn routine_bodies_are_checked() {
    // A procedure's dynamic SQL of an expression is the compute node's to run (each
    // text checked when it exists): the body's other statements are still checked.
    assert!(
        check("CREATE PROCEDURE p() BEGIN SET @s = 'SHUT'; PREPARE x FROM @s; EXECUTE x; END")
            .is_ok()
    );
    assert!(check("CREATE PROCEDURE p(q TEXT) BEGIN EXECUTE IMMEDIATE q; SHUTDOWN; END").is_err());
    assert_each(
        &[
            "CREATE PROCEDURE p() BEGIN SELECT 1; SHUTDOWN; END",
            "CREATE PROCEDURE p() FLUSH LOGS",
            "CREATE FUNCTION f() RETURNS INT BEGIN SET @s = 'SHUT'; PREPARE x FROM @s; EXECUTE x; RETURN 1; END",
            "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO GRANT ALL ON *.* TO x",
            "CREATE PROCEDURE p() BEGIN PREPARE x FROM 'GRANT ALL ON *.* TO x'; EXECUTE x; END",
            "CREATE PROCEDURE p() EXECUTE IMMEDIATE 'CREATE USER x'",
            "CREATE PROCEDURE p() BEGIN SET GLOBAL general_log = 1; END",
            "CREATE PROCEDURE p() BEGIN SET @@global.read_only = 1; END",
            "CREATE PROCEDURE p(id INT) KILL id",
            "CREATE PROCEDURE p() XA RECOVER",
            "CREATE PROCEDURE p() BEGIN HANDLER t OPEN; END",
            "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO mysql.user VALUES ()",
            "BEGIN NOT ATOMIC CHANGE MASTER TO MASTER_HOST='x'; END",
            "lbl: BEGIN NOT ATOMIC DROP USER u; END",
            "IF 1 THEN PURGE BINARY LOGS BEFORE NOW(); END IF",
            "CREATE PROCEDURE p() LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
        ],
        |sql| check(sql).is_err(),
    );
}

#[test]
fn literal_dynamic_text_in_a_routine_is_checked_as_a_statement() {
    // The literal's names and files are hidden from the body's own checks by the
    // string: it is checked as a statement of its own.
    for (sql, code) in [
        ("CREATE PROCEDURE p() EXECUTE IMMEDIATE 'SELECT * FROM mysql.user'", 1044),
        ("CREATE PROCEDURE p() BEGIN PREPARE s FROM 'SELECT * FROM strata_db_1.t'; EXECUTE s; END", 1044),
        ("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO EXECUTE IMMEDIATE 'SELECT LOAD_FILE(\"/etc/passwd\")'", 1290),
        ("CREATE PROCEDURE p() EXECUTE IMMEDIATE 'SELECT 1 INTO OUTFILE \"/tmp/x\"'", 1290),
    ] {
        assert_eq!(code_of(sql), code, "{sql}");
    }
    assert_allowed(&[
        "CREATE PROCEDURE p() EXECUTE IMMEDIATE 'SELECT 1'",
        "CREATE PROCEDURE p() BEGIN PREPARE s FROM 'SELECT * FROM shop.t WHERE a = ?'; EXECUTE s USING 1; END",
        // Prepares nothing (in a function the storage server's 1336 answers it).
        "CREATE FUNCTION f() RETURNS INT BEGIN DEALLOCATE PREPARE s; DROP PREPARE s; RETURN 1; END",
    ]);
}

#[test]
fn dynamic_sql_from_variables_is_refused() {
    assert!(matches!(
        check("PREPARE s FROM @q"),
        Err(Refusal::Unsupported(_))
    ));
    assert!(matches!(
        check("EXECUTE IMMEDIATE @q"),
        Err(Refusal::Unsupported(_))
    ));
    assert!(matches!(
        check("EXECUTE IMMEDIATE CONCAT('SHUT', 'DOWN')"),
        Err(Refusal::Unsupported(_))
    ));
}

#[test]
fn unknown_and_empty_statements() {
    assert_eq!(check(""), Err(Refusal::Empty));
    assert_eq!(check("-- nothing\n"), Err(Refusal::Empty));
    let Err(Refusal::Syntax(SqlError::Syntax { near, .. })) = check("FROBNICATE the table") else {
        panic!("not a syntax error");
    };
    assert_eq!(near, "FROBNICATE the table");
    assert_eq!(code_of("'SELECT 1'"), 1064);
    assert_eq!(code_of("HANDLER t OPEN"), 0);
    assert_eq!(code_of("HANDLER mysql.user OPEN"), 1044);
    assert_eq!(code_of("ANALYZE TABLE t"), 0);
    assert_eq!(code_of("CHECK TABLE t1, t2 EXTENDED"), 0);
    assert_eq!(code_of("OPTIMIZE TABLE mysql.user"), 1044);
    // ALTER DATABASE is the session's (which checks the name: 1044 for `mysql`).
    assert_eq!(code_of("ALTER SCHEMA test COLLATE utf8mb4_bin"), 0);
    assert_eq!(
        code_of("ALTER DATABASE d UPGRADE DATA DIRECTORY NAME"),
        1221
    );
    assert_eq!(
        code_of("CREATE TABLE c (id INT) ENGINE=CONNECT TABLE_TYPE=DOS"),
        1235
    );
    assert_eq!(code_of("LOAD XML LOCAL INFILE 'x' INTO TABLE t"), 1235);
}

#[test]
fn refusals_read_like_mysql_errors() {
    let r = Refusal::StorageSchema("mysql".into());
    assert_eq!(
        r.message("'app'@'10.0.0.1'"),
        "Access denied for user 'app'@'10.0.0.1' to database 'mysql'"
    );
    assert_eq!((r.code(), r.sqlstate()), (1044, "42000"));
    let r = Refusal::FileAccess("LOAD_FILE()".into());
    assert_eq!((r.code(), r.sqlstate()), (1290, "HY000"));
    assert!(r.message("x").contains("LOAD_FILE()"));
}

#[test]
fn identifying_variables() {
    for name in [
        "datadir",
        "DATADIR",
        "hostname",
        "port",
        "socket",
        "basedir",
        "server_id",
        "pid_file",
        "log_error",
        "plugin_dir",
        "tmpdir",
        "general_log_file",
        "slow_query_log_file",
        "innodb_data_home_dir",
        "aria_log_dir_path",
        "ssl_key",
        "log_bin_basename",
    ] {
        assert!(identifies_storage(name), "{name}");
    }
    for name in [
        "version",
        "sql_mode",
        "autocommit",
        "max_allowed_packet",
        "ssl_cipher",
        "port_open",
    ] {
        assert!(!identifies_storage(name), "{name}");
    }
}

#[test]
fn storage_variables_are_masked_keeping_column_names() {
    let value = |name: &str| match name {
        "port" => "3323".to_string(),
        other => format!("'<{other}>'"),
    };
    let cases = [
        (
            "SELECT @@datadir",
            Some("SELECT '<datadir>' AS `@@datadir`"),
        ),
        (
            "SELECT @@global.datadir, @@port, @@sql_mode",
            Some("SELECT '<datadir>' AS `@@global.datadir`, 3323 AS `@@port`, @@sql_mode"),
        ),
        ("SELECT @@datadir AS d", Some("SELECT '<datadir>' AS d")),
        (
            "SELECT CONCAT(@@hostname, ':', @@port)",
            Some("SELECT CONCAT('<hostname>', ':', 3323)"),
        ),
        ("SET @d = @@datadir", Some("SET @d = '<datadir>'")),
        (
            "SELECT @@version, @@max_allowed_packet",
            Some("SELECT '<version>' AS `@@version`, @@max_allowed_packet"),
        ),
        ("SELECT @@sql_mode, @@max_allowed_packet", None),
        (
            "SELECT version(), VERSION() LIKE '10%', db.version() FROM t",
            Some("SELECT '<version>' AS `version()`, '<version>' LIKE '10%', db.version() FROM t"),
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            mask_storage_variables(sql, value).as_deref(),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn own_global_values_replace_global_reads_only() {
    let global = |name: &str| (name == "sql_mode").then(|| "'ANSI'".to_string());
    let cases = [
        (
            "SELECT @@global.sql_mode, @@sql_mode",
            Some("SELECT 'ANSI' AS `@@global.sql_mode`, @@sql_mode"),
        ),
        ("SET @save = @@GLOBAL.sql_mode", Some("SET @save = 'ANSI'")),
        // The variable a SET assigns stays.
        ("SET @@global.sql_mode = @@global.max_join_size", None),
        (
            "SET @@global.sql_mode = concat(@@global.sql_mode, ',X')",
            Some("SET @@global.sql_mode = concat('ANSI', ',X')"),
        ),
        ("SELECT @@global.max_join_size", None),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            mask_variables(sql, |_| Some("''".to_string()), global).as_deref(),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn sysvar_names() {
    assert_eq!(sysvar_name("@@datadir"), "datadir");
    assert_eq!(sysvar_name("@@GLOBAL.DataDir"), "datadir");
    assert_eq!(sysvar_name("@@session.port"), "port");
    assert_eq!(sysvar_name("@@local.port"), "port");
    // Multi-byte characters where a scope prefix would end: no panic.
    assert_eq!(
        sysvar_name("@@\u{ae}t\u{5c5}\u{e9}xyz"),
        "\u{ae}t\u{5c5}\u{e9}xyz"
    );
    assert!(!sysvar_scope_is_global("@@gl\u{e9}bal.x"));
    assert!(
        mask_storage_variables("SELECT @@\u{ae}t\u{5c5}\u{e9}xyz", |_| String::new()).is_none()
    );
}

#[test]
fn information_schema_references_become_derived_tables() {
    let replace = |name: &str, how: InformationSchemaTable| match how {
        InformationSchemaTable::PerSchema(col) => {
            format!("SELECT * FROM information_schema.{name} WHERE {col} IN ('p')")
        }
        other => format!("<{other:?}>"),
    };
    let cases = [
        (
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'db'",
            "SELECT TABLE_NAME AS `TABLE_NAME` FROM (SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('p')) AS `TABLES` WHERE TABLE_SCHEMA = 'db'",
        ),
        (
            "select * from INFORMATION_SCHEMA.schemata s where s.SCHEMA_NAME like 'd%'",
            "select * from (SELECT * FROM information_schema.schemata WHERE SCHEMA_NAME IN ('p')) s where s.SCHEMA_NAME like 'd%'",
        ),
        (
            "SELECT * FROM information_schema.PROCESSLIST AS p",
            "SELECT * FROM (<ProcessList>) AS p",
        ),
        (
            "SELECT c.COLUMN_NAME FROM information_schema.COLUMNS c JOIN information_schema.TABLES t USING (TABLE_NAME)",
            "SELECT c.COLUMN_NAME FROM (SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ('p')) c JOIN (SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('p')) t USING (TABLE_NAME)",
        ),
        (
            "SELECT * FROM information_schema.COLLATIONS",
            "SELECT * FROM (<Static>) AS `COLLATIONS`",
        ),
        (
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.PLUGINS WHERE PLUGIN_NAME = 'partition'",
            "SELECT COUNT(*) FROM (<Plugins>) AS `PLUGINS` WHERE PLUGIN_NAME = 'partition'",
        ),
        (
            "SELECT information_schema.TABLES.TABLE_NAME FROM information_schema.TABLES",
            "SELECT TABLES.TABLE_NAME AS `TABLE_NAME` FROM (SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('p')) AS `TABLES`",
        ),
        // A plain column keeps the name the client wrote, as read from a base table.
        (
            "SELECT table_name, c.`Column_Name`, COUNT(*), data_type AS t FROM information_schema.columns c WHERE 1",
            "SELECT table_name AS `table_name`, c.`Column_Name` AS `Column_Name`, COUNT(*), data_type AS t FROM (SELECT * FROM information_schema.columns WHERE TABLE_SCHEMA IN ('p')) c WHERE 1",
        ),
        (
            "SELECT table_name FROM information_schema.TABLES JOIN t USING (x)",
            "SELECT table_name FROM (SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('p')) AS `TABLES` JOIN t USING (x)",
        ),
        // A variable's type anchor reads no rows (sp-anchor-type).
        (
            "BEGIN DECLARE a TYPE OF INFORMATION_SCHEMA.PROCESSLIST.INFO; DECLARE r ROW TYPE OF information_schema.TABLES; END",
            "BEGIN DECLARE a TYPE OF INFORMATION_SCHEMA.PROCESSLIST.INFO; DECLARE r ROW TYPE OF information_schema.TABLES; END",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            rewrite_information_schema(sql, replace).as_deref(),
            Ok(expected),
            "{sql}"
        );
    }
    for sql in [
        "SELECT * FROM information_schema.USER_PRIVILEGES",
        "SELECT * FROM information_schema.INNODB_TRX",
    ] {
        assert!(matches!(
            rewrite_information_schema(sql, replace),
            Err(Refusal::Unsupported(_))
        ));
    }
}

#[test]
fn show_statements_about_the_storage_server_are_refused() {
    let logical = |db: &str| db == "shop";
    for sql in [
        "SHOW CREATE PROCEDURE p",
        "SHOW CREATE TRIGGER shop.tr",
        "SHOW TRIGGERS",
        "SHOW TRIGGERS FROM shop LIKE 't%'",
        "SHOW EVENTS IN shop",
        "SHOW PRIVILEGES",
    ] {
        assert_eq!(check_show_other(sql, &logical), Ok(()), "{sql}");
    }
    for (sql, code) in [
        ("SHOW MASTER STATUS", 1227),
        ("SHOW SLAVE STATUS", 1227),
        ("SHOW ALL SLAVES STATUS", 1227),
        ("SHOW BINARY LOGS", 1227),
        ("SHOW BINLOG EVENTS", 1227),
        ("SHOW ENGINE INNODB STATUS", 1227),
        ("SHOW PLUGINS", 1227),
        ("SHOW OPEN TABLES", 1227),
        ("SHOW EXPLAIN FOR 5", 1227),
        ("SHOW WSREP_STATUS", 1227),
        ("SHOW TRIGGERS FROM mysql", 1044),
        ("SHOW EVENTS FROM test", 1044),
        ("SHOW PROCEDURE STATUS", 1235),
        ("SHOW PROFILES", 1235),
        ("SHOW PROFILE CPU FOR QUERY 1", 1235),
        ("SHOW FROBS", 1235),
    ] {
        assert_eq!(
            check_show_other(sql, &logical).map_err(|r| r.code()),
            Err(code),
            "{sql}"
        );
    }
}

#[test]
fn prepared_text_is_checked_like_a_statement() {
    assert_each(
        &[
            "PREPARE s FROM 'SHOW VARIABLES LIKE ?'",
            "PREPARE s FROM 'SHOW MASTER STATUS'",
            "EXECUTE IMMEDIATE 'SELECT * FROM information_schema.TABLES'",
            "PREPARE s FROM 'SELECT * FROM information_schema.TABLES, mysql.user'",
            "PREPARE s FROM 'SHOW COLUMNS FROM user FROM mysql'",
        ],
        |sql| check(sql).is_err(),
    );
    assert_allowed(&[
        "PREPARE s FROM 'SHOW WARNINGS'",
        "PREPARE s FROM 'SHOW COLUMNS FROM t FROM shop'",
        "PREPARE s FROM 'SHOW CREATE TABLE t'",
        // The session runs these as queries at EXECUTE.
        "PREPARE s FROM 'SHOW DATABASES'",
        "PREPARE s FROM 'SHOW VARIABLES'",
        "EXECUTE IMMEDIATE 'SHOW PROCESSLIST'",
        // Account statements are the session's own, run by it at EXECUTE.
        "PREPARE s FROM 'SHOW GRANTS'",
        "PREPARE s FROM 'GRANT ALL ON test.t1 TO u@localhost IDENTIFIED BY ''x'''",
        "PREPARE s FROM ' drop user u@localhost '",
        "EXECUTE IMMEDIATE 'CREATE USER u'",
        // The session prepares it rewritten over the restricted tables.
        "PREPARE s FROM 'SELECT * FROM information_schema.TABLES'",
        // The session runs it as USE at EXECUTE, with its checks.
        "PREPARE s FROM 'USE mysql'",
        "EXECUTE IMMEDIATE 'USE test'",
    ]);
}

#[test]
fn account_statements_are_recognised() {
    for sql in [
        "GRANT SELECT ON db.* TO u",
        "revoke all privileges, grant option from u",
        "CREATE USER u",
        "CREATE OR REPLACE USER u",
        "ALTER USER u IDENTIFIED BY 'x'",
        "DROP USER IF EXISTS u",
        "RENAME USER a TO b",
        "SET PASSWORD = PASSWORD('x')",
        "SHOW GRANTS",
        "SHOW CREATE USER u",
        "FLUSH PRIVILEGES",
    ] {
        assert!(is_account_statement(sql, classify(sql)), "{sql}");
    }
    for sql in [
        "FLUSH PRIVILEGES, TABLES",
        "CREATE TABLE user (id INT)",
        "SHOW CREATE TABLE user",
        "SET password_x = 1",
        "SET @x = PASSWORD('a')",
        "SET @x := password('a'), @y = 1",
        "DROP TABLE user",
    ] {
        assert!(!is_account_statement(sql, classify(sql)), "{sql}");
    }
}

#[test]
fn a_select_may_read_the_public_reference_tables_of_mysql_only() {
    assert_allowed(&[
        "SELECT * FROM mysql.time_zone_name",
        "select name from `mysql`.help_topic where help_topic_id = 1",
        "SELECT mysql.time_zone.Time_zone_id FROM mysql.time_zone",
        "PREPARE s FROM 'SELECT * FROM mysql.help_keyword'",
        "EXPLAIN EXTENDED SELECT * FROM mysql.help_topic",
        "EXPLAIN FORMAT=JSON SELECT * FROM mysql.time_zone",
    ]);
    assert_each(
        &[
            "SELECT * FROM mysql.user",
            "SELECT * FROM mysql.help_topic, mysql.db",
            "SELECT mysql.help_topic(1)",
            "INSERT INTO mysql.time_zone_name VALUES ('x', 1)",
            "INSERT INTO t SELECT * FROM mysql.time_zone_name",
            "DELETE FROM mysql.help_topic",
            "CREATE VIEW v AS SELECT * FROM mysql.time_zone",
            "LOCK TABLES mysql.time_zone READ",
            "SELECT * FROM performance_schema.time_zone_name",
            "EXPLAIN DELETE FROM mysql.help_topic",
            "EXPLAIN SELECT * FROM mysql.slow_log",
        ],
        |sql| check(sql).is_err(),
    );
}

#[test]
fn a_prepare_of_the_wrong_shape_is_a_syntax_error() {
    for sql in [
        "prepare ",
        "prepare stmt1",
        "prepare stmt1 from ",
        "prepare stmt1 from_garbage ' select 1 '",
        "prepare from ' select 1 '",
        "prepare stmt1 ' select 1 '",
        "prepare ? from ' select ? as my_col '",
    ] {
        assert!(
            matches!(check(sql), Err(Refusal::Syntax(_))),
            "{sql}: {:?}",
            check(sql)
        );
    }
    assert_allowed(&["PREPARE `s 1` FROM 'SELECT 1'"]);
}

#[test]
fn a_subquery_in_a_check_constraint_is_mariadbs_1970_before_its_names() {
    for sql in [
        "create table t1 (a int check (@b in (select user from mysql.user)))",
        "CREATE TABLE t (a INT, CONSTRAINT c CHECK (a > (SELECT 1)))",
        "ALTER TABLE t ADD CHECK (a IN (SELECT id FROM u))",
    ] {
        assert_eq!(check(sql), Err(Refusal::SubqueryInCheck), "{sql}");
        assert_eq!(code_of(sql), 1970);
    }
    assert_allowed(&[
        "CREATE TABLE t (a INT CHECK (a > 0), b INT, CHECK (b IN (1, 2)))",
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 1)",
    ]);
}

#[test]
fn routine_code_is_the_release_builds_1289() {
    use crate::guard::{check_show_other, routine_code_name};
    for sql in [
        "SHOW PROCEDURE CODE p",
        "show function code d.f",
        "SHOW PACKAGE BODY CODE `pkg`",
    ] {
        let r = check_show_other(sql, &|_| true).unwrap_err();
        assert_eq!((r.code(), r.sqlstate()), (1289, "HY000"), "{sql}");
        assert_eq!(
            r.message("x"),
            "The 'SHOW PROCEDURE|FUNCTION CODE' feature is disabled; you need MariaDB built with '--with-debug' to have it working"
        );
    }
    assert_eq!(
        routine_code_name("SHOW FUNCTION CODE d.f"),
        Some((Some("d".into()), "f".into()))
    );
    assert_eq!(routine_code_name("SHOW PROCEDURE CODE"), None);
    assert_eq!(routine_code_name("SHOW PACKAGE CODE p"), None);
    assert_eq!(routine_code_name("SHOW PROCEDURE CODE p q"), None);
}

#[test]
fn defaults_naming_the_account_are_refused() {
    for sql in [
        "CREATE TABLE t (a VARCHAR(100) DEFAULT user())",
        "CREATE TABLE t (a VARCHAR(100) DEFAULT CURRENT_USER)",
        "CREATE TABLE t (a VARCHAR(100) DEFAULT current_role(), b INT)",
        "CREATE TABLE t (a VARCHAR(100) DEFAULT (concat('x', session_user())))",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT system_user()",
        "ALTER TABLE t ADD b TEXT DEFAULT concat(current_user(), '')",
    ] {
        assert_eq!(check(sql).map_err(|r| r.code()), Err(1235), "{sql}");
    }
    assert_allowed(&[
        "CREATE TABLE t (a INT DEFAULT 5, `user` TEXT) DEFAULT CHARSET=latin1",
        "CREATE TABLE t (a VARCHAR(100) DEFAULT database(), u TEXT DEFAULT 'user()')",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1",
    ]);
}

/// [`Policy`] with storage globals settable.
struct Settable;

impl SchemaPolicy for Settable {
    fn denied(&self, schema: &str) -> bool {
        Policy.denied(schema)
    }

    fn logical(&self, db: &str) -> bool {
        Policy.logical(db)
    }

    fn may_mention(&self, text: &[u8]) -> bool {
        Policy.may_mention(text)
    }

    fn server_data_tables(&self) -> bool {
        true
    }
}

#[test]
fn server_data_tables_of_mysql_are_reachable_only_when_settable() {
    let settable = |sql: &str| {
        check_statement(
            sql,
            classify(sql),
            ByteSummary::of(sql.as_bytes()),
            &Settable,
        )
    };
    for sql in [
        "DELETE FROM mysql.table_stats",
        "INSERT INTO mysql.column_stats (db_name) VALUES ('shop')",
        "SELECT * FROM mysql.index_stats WHERE db_name = 'shop'",
        "ALTER TABLE mysql.column_stats RENAME TO mysql.column_stats1",
        "ALTER TABLE `mysql`.`time_zone_transition` ORDER BY Time_zone_id",
        "RENAME TABLE mysql.time_zone TO mysql.time_zone_BACKUP",
        "CREATE TABLE mysql.time_zone LIKE mysql.time_zone_BACKUP",
        "DROP TABLE mysql.time_zone_name",
        "TRUNCATE TABLE mysql.general_log",
        "UPDATE mysql.help_topic SET name = 'x' WHERE 0",
        "EXECUTE IMMEDIATE 'ALTER TABLE mysql.time_zone_transition ORDER BY Time_zone_id'",
        "CREATE TABLE IF NOT EXISTS mysql.time_zone_x (a INT)",
        "CREATE PROCEDURE p() DELETE FROM mysql.table_stats",
    ] {
        assert!(settable(sql).is_ok(), "{sql}: {:?}", settable(sql));
        assert!(
            matches!(check(sql), Err(Refusal::StorageSchema(_))),
            "{sql}: {:?}",
            check(sql)
        );
    }
    for sql in [
        "SELECT * FROM mysql.user",
        "DELETE FROM mysql.global_priv",
        "INSERT INTO mysql.table_stats SELECT * FROM mysql.db",
        "RENAME TABLE mysql.time_zone TO mysql.user",
        "ALTER TABLE mysql.column_stats RENAME TO mysql.tables_priv",
        "SELECT * FROM performance_schema.threads",
        "SELECT sys.format_statement('x')",
        "SELECT mysql.time_zone(1)",
        "DELETE FROM strata_db_1.t",
        "CREATE TRIGGER mysql.time_zone_t BEFORE INSERT ON mysql.time_zone FOR EACH ROW DELETE FROM global_priv",
        "CREATE EVENT IF NOT EXISTS mysql.time_zone_e ON SCHEDULE EVERY 1 DAY DO DELETE FROM global_priv",
        "CREATE PROCEDURE IF NOT EXISTS mysql.time_zone_p() DELETE FROM global_priv",
        "CREATE DEFINER = CURRENT_USER VIEW mysql.time_zone_v AS SELECT 1",
        "ALTER EVENT e RENAME TO mysql.time_zone_e",
        "DROP FUNCTION mysql.time_zone_f",
    ] {
        assert!(
            matches!(settable(sql), Err(Refusal::StorageSchema(_))),
            "{sql}: {:?}",
            settable(sql)
        );
    }
}

#[test]
fn alter_database_upgrade_data_directory_name_is_mariadbs_answer_for_no_such_directory() {
    for (sql, code, sqlstate) in [
        (
            "ALTER DATABASE wrong UPGRADE DATA DIRECTORY NAME",
            1221,
            "HY000",
        ),
        (
            "ALTER SCHEMA `#mysql41#x` upgrade data directory name;",
            1221,
            "HY000",
        ),
        (
            "ALTER DATABASE `#mysql50#` UPGRADE DATA DIRECTORY NAME",
            1102,
            "42000",
        ),
        (
            "ALTER DATABASE `#mysql50#upgrade-me` UPGRADE DATA DIRECTORY NAME",
            1049,
            "42000",
        ),
    ] {
        let refusal = check(sql).expect_err(sql);
        assert_eq!(
            (refusal.code(), refusal.sqlstate()),
            (code, sqlstate),
            "{sql}"
        );
    }
    assert_eq!(
        check("ALTER DATABASE `#mysql50#a` UPGRADE DATA DIRECTORY NAME")
            .expect_err("refused")
            .message("'u'@'%'"),
        "Unknown database '#mysql50#a'"
    );
    assert_eq!(
        check("ALTER DATABASE d UPGRADE DATA DIRECTORY"),
        Err(Refusal::Unsupported("ALTER DATABASE".into()))
    );
}

#[test]
fn mysql_proc_is_lockable_only_when_settable() {
    let check = |sql: &str, policy: &dyn SchemaPolicy| {
        check_statement(sql, classify(sql), ByteSummary::of(sql.as_bytes()), policy)
    };
    for sql in [
        "LOCK TABLES mysql.time_zone READ, mysql.proc READ, t1 READ",
        "LOCK TABLE `mysql`.`proc` WRITE",
    ] {
        assert!(check(sql, &Settable).is_ok(), "{sql}");
        assert!(check(sql, &Policy).is_err(), "{sql}");
    }
    for sql in [
        "LOCK TABLES mysql.global_priv READ",
        "INSERT INTO mysql.proc SELECT * FROM mysql.proc",
        "SELECT * FROM t WHERE 'LOCK TABLES' = mysql.proc",
    ] {
        assert!(check(sql, &Settable).is_err(), "{sql}");
    }
}
