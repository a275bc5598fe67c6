//! Definers of views, routines, triggers and events through a real client: on a
//! database over one data node the client sees the definer MariaDB would show (the
//! creating account, or the one `DEFINER = ...` names) in `SHOW CREATE ...`,
//! `SHOW TRIGGERS`, `SHOW EVENTS` and information_schema, never the storage account;
//! compared with a plain MariaDB where the same account runs the same statements.
//! Naming another account needs SUPER (1227, as MariaDB); definers survive a restart
//! of the compute node; views Strata keeps (databases over several data nodes) show
//! the named definer too. Also `USER()` and `CURRENT_USER()` as MariaDB answers them.

mod cluster_kit;
mod common;

use common::{code_of, error_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use strata_testkit::{mysql_opts, shared_storage, unique_name, ComputeNode, StorageNodes};

const APP_PASSWORD: &str = "app-pw";

/// The objects each side creates, as the same account.
const CREATES: &[&str] = &[
    "CREATE TABLE t1 (a INT)",
    "CREATE VIEW v1 AS SELECT 1 AS a",
    "CREATE DEFINER = CURRENT_USER VIEW v2 AS SELECT 2 AS b",
    "ALTER VIEW v1 AS SELECT 3 AS c",
    "CREATE PROCEDURE p1() SELECT 1",
    "CREATE FUNCTION f1() RETURNS INT RETURN 1",
    "CREATE TRIGGER tr1 BEFORE INSERT ON t1 FOR EACH ROW SET NEW.a = NEW.a + 1",
    "CREATE EVENT e1 ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1",
    "CREATE DEFINER = app@'%' PROCEDURE p2() SELECT 2",
];

/// What shows definers, as (statement, column): compared between the two sides.
const SHOWN: &[(&str, usize)] = &[
    ("SHOW CREATE VIEW v1", 1),
    ("SHOW CREATE VIEW v2", 1),
    ("SHOW CREATE TABLE v1", 1),
    ("SHOW CREATE PROCEDURE p1", 2),
    ("SHOW CREATE PROCEDURE p2", 2),
    ("SHOW CREATE FUNCTION f1", 2),
    ("SHOW CREATE TRIGGER tr1", 2),
    ("SHOW CREATE EVENT e1", 3),
    ("SHOW TRIGGERS", 7),
    ("SHOW EVENTS", 2),
    ("SHOW PROCEDURE STATUS WHERE Db = DATABASE()", 3),
    ("SHOW FUNCTION STATUS LIKE 'f%'", 3),
    (
        "SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
        1,
    ),
    (
        "SELECT ROUTINE_NAME, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1",
        1,
    ),
    (
        "SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
        1,
    ),
    (
        "SELECT EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
        1,
    ),
];

/// Column `i` of every row `sql` returns, as text.
async fn column(c: &mut Conn, sql: &str, i: usize) -> TestResult<Vec<String>> {
    let rows: Vec<Row> = c.query(sql).await?;
    Ok(rows
        .iter()
        .map(|r| match r.as_ref(i) {
            Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn definers_are_the_client_accounts_as_on_mariadb() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    // The same account on both sides: `app`@`%`, all privileges on its database.
    let mut root = node.connect(Some("test")).await?;
    root.query_drop(format!(
        "CREATE USER app@'%' IDENTIFIED BY '{APP_PASSWORD}'"
    ))
    .await?;
    root.query_drop("GRANT ALL ON test.* TO app@'%'").await?;
    let reference_db = unique_name("definers_ref");
    storage.create_database(&reference_db).await?;
    let mut direct = storage.connect(0, None).await?;
    direct
        .query_drop(format!(
            "CREATE USER IF NOT EXISTS app@'%' IDENTIFIED BY '{APP_PASSWORD}'"
        ))
        .await?;
    direct
        .query_drop(format!("GRANT ALL ON `{reference_db}`.* TO app@'%'"))
        .await?;
    let mut strata = Conn::new(mysql_opts(
        node.service_addr(),
        "app",
        APP_PASSWORD,
        Some("test"),
    ))
    .await?;
    let mut mariadb = Conn::new(mysql_opts(
        storage.addr(0),
        "app",
        APP_PASSWORD,
        Some(&reference_db),
    ))
    .await?;

    for sql in CREATES {
        strata
            .query_drop(*sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        mariadb
            .query_drop(*sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    for (sql, i) in SHOWN {
        let ours = column(&mut strata, sql, *i).await?;
        let theirs = column(&mut mariadb, sql, *i).await?;
        assert_eq!(ours, theirs, "{sql}");
        assert!(!ours.is_empty(), "{sql} shows nothing");
        assert!(
            ours.iter().all(|v| !v.contains("strata")),
            "{sql} shows the storage account: {ours:?}"
        );
    }
    let view: Vec<String> = column(&mut strata, "SHOW CREATE VIEW v1", 1).await?;
    assert_eq!(
        view,
        ["CREATE ALGORITHM=UNDEFINED DEFINER=`app`@`%` SQL SECURITY DEFINER VIEW `v1` AS select 3 AS `c`"]
    );

    // Another account needs SUPER (SET USER), on both sides.
    for sql in [
        "CREATE DEFINER = root@localhost VIEW v3 AS SELECT 1",
        "CREATE DEFINER = 'other'@'%' PROCEDURE p3() SELECT 1",
        "ALTER DEFINER = root@localhost VIEW v1 AS SELECT 1",
    ] {
        let (ours, message) = error_of(&mut strata, sql).await;
        let (theirs, expected) = error_of(&mut mariadb, sql).await;
        assert_eq!((ours, theirs), (Some(1227), Some(1227)), "{sql}: {message}");
        assert_eq!(message, expected, "{sql}");
    }

    // The one with SUPER names any account; the object works (the storage account owns
    // it there) and shows that account.
    root.query_drop("CREATE DEFINER = `owner`@`10.0.0.%` VIEW v4 AS SELECT a FROM t1")
        .await?;
    root.query_drop("CREATE DEFINER = 'owner'@'10.0.0.%' PROCEDURE p4() SELECT COUNT(*) FROM v4")
        .await?;
    root.query_drop("CALL p4()").await?;
    let shown = column(&mut root, "SHOW CREATE PROCEDURE p4", 2).await?;
    assert_eq!(
        shown,
        ["CREATE DEFINER=`owner`@`10.0.0.%` PROCEDURE `p4`()\nSELECT COUNT(*) FROM v4"]
    );
    let shown = column(
        &mut root,
        "SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_NAME = 'v4'",
        0,
    )
    .await?;
    assert_eq!(shown, ["owner@10.0.0.%"]);

    // A dropped object's definer goes with it; re-created by root, it is root's.
    root.query_drop("DROP PROCEDURE p1").await?;
    root.query_drop("CREATE PROCEDURE p1() SELECT 1").await?;
    let create = column(&mut root, "SHOW CREATE PROCEDURE p1", 2).await?;
    assert_eq!(
        create,
        ["CREATE DEFINER=`root`@`%` PROCEDURE `p1`()\nSELECT 1"]
    );
    let status = column(&mut root, "SHOW PROCEDURE STATUS WHERE Db = 'test'", 3).await?;
    assert_eq!(status, ["root@%", "app@%", "owner@10.0.0.%"]);

    // Definers are kept in the metadata store: a restarted compute node shows them.
    drop((strata, root));
    let node = node.restart().await?;
    let mut root = node.connect(Some("test")).await?;
    let view = column(&mut root, "SHOW CREATE VIEW v4", 1).await?;
    assert_eq!(
        view,
        ["CREATE ALGORITHM=UNDEFINED DEFINER=`owner`@`10.0.0.%` SQL SECURITY DEFINER VIEW `v4` AS select `t1`.`a` AS `a` from `t1`"]
    );
    for sql in [
        "DROP VIEW v1, v2, v4",
        "DROP PROCEDURE p1",
        "DROP PROCEDURE p2",
        "DROP PROCEDURE p4",
        "DROP FUNCTION f1",
        "DROP EVENT e1",
        "DROP TABLE t1",
        "DROP USER app@'%'",
    ] {
        root.query_drop(sql).await?;
    }
    drop(mariadb);
    direct.query_drop("DROP USER IF EXISTS app@'%'").await?;
    storage.drop_database(&reference_db).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn user_and_current_user_are_mariadbs() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut strata = node.connect(Some("test")).await?;
    let account = unique_name("who");
    strata
        .query_drop(format!(
            "CREATE USER {account}@'%' IDENTIFIED BY '{APP_PASSWORD}'"
        ))
        .await?;
    let mut direct = storage.connect(0, None).await?;
    direct
        .query_drop(format!(
            "CREATE USER {account}@'%' IDENTIFIED BY '{APP_PASSWORD}'"
        ))
        .await?;
    let sql = "SELECT USER(), CURRENT_USER()";
    let mut ours = Conn::new(mysql_opts(
        node.service_addr(),
        &account,
        APP_PASSWORD,
        None,
    ))
    .await?;
    let mut theirs = Conn::new(mysql_opts(storage.addr(0), &account, APP_PASSWORD, None)).await?;
    let a: Option<(String, String)> = ours.query_first(sql).await?;
    let b: Option<(String, String)> = theirs.query_first(sql).await?;
    // A loopback client is `localhost` to a MariaDB that resolves names (its default,
    // and mariadb-test's setup); the testkit's servers run with --skip-name-resolve, so
    // theirs says the address.
    assert_eq!(
        a,
        Some((format!("{account}@localhost"), format!("{account}@%")))
    );
    assert_eq!(
        b,
        Some((format!("{account}@127.0.0.1"), format!("{account}@%")))
    );
    drop((ours, theirs));
    strata
        .query_drop(format!("DROP USER {account}@'%'"))
        .await?;
    direct
        .query_drop(format!("DROP USER {account}@'%'"))
        .await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn views_strata_keeps_show_the_named_definer() -> TestResult {
    let storage = shared_storage(2).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    c.query_drop("CREATE DEFINER = 'owner'@'%' VIEW kv AS SELECT 1 AS a")
        .await?;
    c.query_drop("ALTER VIEW kv AS SELECT 2 AS b").await?;
    let create = column(&mut c, "SHOW CREATE VIEW kv", 1).await?.concat();
    assert!(
        create.starts_with(
            "CREATE ALGORITHM=UNDEFINED DEFINER=`owner`@`%` SQL SECURITY DEFINER VIEW `kv`"
        ),
        "{create}"
    );
    c.query_drop("CREATE VIEW kv2 AS SELECT 1 AS a").await?;
    let definer: Option<String> = c
        .query_first("SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_NAME = 'kv2'")
        .await?;
    assert_eq!(definer.as_deref(), Some("root@%"));
    c.query_drop("CREATE USER lowly@'%'").await?;
    c.query_drop("GRANT ALL ON test.* TO lowly@'%'").await?;
    let mut lowly = Conn::new(mysql_opts(node.service_addr(), "lowly", "", Some("test"))).await?;
    let refused = lowly
        .query_drop("CREATE DEFINER = root@'%' VIEW kv3 AS SELECT 1")
        .await
        .err();
    assert_eq!(refused.as_ref().and_then(code_of), Some(1227));
    drop(lowly);
    c.query_drop("DROP VIEW kv, kv2").await?;
    c.query_drop("DROP USER lowly@'%'").await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definers_recorded_through_one_compute_node_are_shown_by_the_others() -> TestResult {
    let (_etcd, nodes) = cluster_kit::cluster(1, 2, |_| {}).await?;
    let mut one = nodes[0].connect(Some("test")).await?;
    let mut two = nodes[1].connect(Some("test")).await?;
    // Over two data nodes a procedure is created on both; its definer is in etcd.
    one.query_drop("CREATE DEFINER = 'owner'@'%' PROCEDURE shared_p() SELECT 1")
        .await?;
    let shown = column(&mut two, "SHOW CREATE PROCEDURE shared_p", 2).await?;
    assert_eq!(
        shown,
        ["CREATE DEFINER=`owner`@`%` PROCEDURE `shared_p`()\nSELECT 1"]
    );
    two.query_drop("DROP PROCEDURE shared_p").await?;
    one.query_drop("CREATE PROCEDURE shared_p() SELECT 1")
        .await?;
    let shown = column(
        &mut two,
        "SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'shared_p'",
        0,
    )
    .await?;
    assert_eq!(shown, ["root@%"]);
    one.query_drop("DROP PROCEDURE shared_p").await?;
    drop((one, two));
    cluster_kit::shut_down(nodes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_object_keeps_its_definer_and_a_renamed_view_takes_it_along() -> TestResult {
    let (node, mut c) = common::node_and_conn(1).await?;
    c.query_drop("CREATE DEFINER = 'owner'@'%' PROCEDURE kept_p() SELECT 1")
        .await?;
    // Exists already: a note, nothing created, and the definer stays (MariaDB's 1304).
    c.query_drop("CREATE PROCEDURE IF NOT EXISTS kept_p() SELECT 2")
        .await?;
    let warnings: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await?;
    assert_eq!(warnings.iter().map(|w| w.1).collect::<Vec<_>>(), [1304]);
    let shown = column(&mut c, "SHOW CREATE PROCEDURE kept_p", 2).await?;
    assert_eq!(
        shown,
        ["CREATE DEFINER=`owner`@`%` PROCEDURE `kept_p`()\nSELECT 1"]
    );
    // Routine names are case-insensitive: the record is found under any case (MariaDB
    // prints the name as the SHOW wrote it).
    let shown = column(&mut c, "SHOW CREATE PROCEDURE KEPT_P", 2).await?;
    assert_eq!(
        shown,
        ["CREATE DEFINER=`owner`@`%` PROCEDURE `KEPT_P`()\nSELECT 1"]
    );
    c.query_drop("DROP PROCEDURE KEPT_P").await?;
    c.query_drop("CREATE PROCEDURE kept_p() SELECT 3").await?;
    let shown = column(&mut c, "SHOW CREATE PROCEDURE kept_p", 2).await?;
    assert_eq!(
        shown,
        ["CREATE DEFINER=`root`@`%` PROCEDURE `kept_p`()\nSELECT 3"]
    );
    c.query_drop("DROP PROCEDURE kept_p").await?;

    // A renamed view keeps its definer.
    c.query_drop("CREATE DEFINER = 'owner'@'%' VIEW renamed_a AS SELECT 1 AS x")
        .await?;
    c.query_drop("RENAME TABLE renamed_a TO renamed_b").await?;
    let shown = column(&mut c, "SHOW CREATE VIEW renamed_b", 1).await?;
    assert_eq!(
        shown,
        ["CREATE ALGORITHM=UNDEFINED DEFINER=`owner`@`%` SQL SECURITY DEFINER VIEW `renamed_b` AS select 1 AS `x`"]
    );
    c.query_drop("DROP VIEW renamed_b").await?;
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// Routines, triggers and events of database `db` whose bodies name its tables
/// qualified with `db` (bare and backquoted, in table positions and function calls).
fn qualified_bodies(db: &str) -> Vec<String> {
    vec![
        "CREATE TABLE t1 (a INT)".into(),
        "CREATE TABLE t2 (a INT)".into(),
        format!("CREATE PROCEDURE p1() INSERT INTO {db}.t1 VALUES (1)"),
        format!(
            "CREATE PROCEDURE {db}.p2(n INT)\nBEGIN\n  SELECT a FROM `{db}`.t1 WHERE a > n;\n  \
             SELECT COUNT(*) FROM {db}.t1 JOIN {db}.t2 USING (a);\n  CALL {db}.p1();\nEND"
        ),
        format!("CREATE FUNCTION f1() RETURNS INT RETURN (SELECT COUNT(*) FROM {db}.t1)"),
        format!("CREATE FUNCTION f2() RETURNS INT RETURN {db}.f1() + 1"),
        format!(
            "CREATE TRIGGER tr1 AFTER INSERT ON t1 FOR EACH ROW INSERT INTO {db}.t2 VALUES (NEW.a)"
        ),
        format!(
            "CREATE TRIGGER tr2 BEFORE INSERT ON t2 FOR EACH ROW \
             SET NEW.a = NEW.a + (SELECT COUNT(*) FROM `{db}`.`t1`)"
        ),
        format!(
            "CREATE TRIGGER {db}.tr3 AFTER DELETE ON {db}.t1 FOR EACH ROW \
             DELETE FROM {db}.t2 WHERE a = OLD.a"
        ),
        format!("CREATE EVENT e1 ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM {db}.t1"),
        format!(
            "CREATE EVENT e2 ON SCHEDULE EVERY 1 HOUR DISABLE DO \
             BEGIN INSERT INTO `{db}`.t2 SELECT a FROM {db}.t1; END"
        ),
    ]
}

/// `text` without its `DEFINER=...` clause and an event's `STARTS '...'` (the time it
/// was created), which differ between the two sides.
fn without_definer_and_start(text: &str) -> String {
    let mut text = text.to_string();
    for (marker, quoted) in [("DEFINER=", false), (" STARTS '", true)] {
        if let Some(start) = text.find(marker) {
            let from = start + marker.len();
            let end = if quoted {
                text[from..].find('\'').map(|e| from + e + 1)
            } else {
                text[from..].find(' ').map(|e| from + e + 1)
            };
            if let Some(end) = end {
                text.replace_range(start..end, "");
            }
        }
    }
    text
}

/// The bodies a connection shows for the objects of `qualified_bodies` in `db`.
async fn shown_bodies(c: &mut Conn, db: &str) -> TestResult<Vec<String>> {
    let mut shown = Vec::new();
    for (sql, i) in [
        (format!("SHOW CREATE PROCEDURE {db}.p1"), 2),
        (format!("SHOW CREATE PROCEDURE {db}.p2"), 2),
        (format!("SHOW CREATE FUNCTION {db}.f1"), 2),
        (format!("SHOW CREATE FUNCTION {db}.f2"), 2),
        (format!("SHOW CREATE TRIGGER {db}.tr1"), 2),
        (format!("SHOW CREATE TRIGGER {db}.tr2"), 2),
        (format!("SHOW CREATE TRIGGER {db}.tr3"), 2),
        (format!("SHOW CREATE EVENT {db}.e1"), 3),
        (format!("SHOW CREATE EVENT {db}.e2"), 3),
        (format!("SHOW TRIGGERS FROM {db}"), 3),
        (format!("SHOW TRIGGERS FROM {db} LIKE 't2'"), 3),
        (
            format!(
                "SELECT CONCAT(ROUTINE_NAME, ': ', ROUTINE_DEFINITION) FROM information_schema.ROUTINES \
                 WHERE ROUTINE_SCHEMA = '{db}' ORDER BY ROUTINE_NAME"
            ),
            0,
        ),
        (
            format!(
                "SELECT ROUTINE_NAME FROM information_schema.ROUTINES \
                 WHERE ROUTINE_DEFINITION LIKE '%{db}.t1%' ORDER BY 1"
            ),
            0,
        ),
        (
            format!(
                "SELECT CONCAT(TRIGGER_NAME, ': ', ACTION_STATEMENT) \
                 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{db}' ORDER BY TRIGGER_NAME"
            ),
            0,
        ),
        (
            format!(
                "SELECT EVENT_OBJECT_SCHEMA FROM information_schema.TRIGGERS \
                 WHERE EVENT_OBJECT_SCHEMA = '{db}' ORDER BY TRIGGER_NAME"
            ),
            0,
        ),
        (
            format!(
                "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS \
                 WHERE ACTION_STATEMENT LIKE '%`{db}`%' ORDER BY 1"
            ),
            0,
        ),
        (
            format!(
                "SELECT CONCAT(EVENT_NAME, ': ', EVENT_DEFINITION) FROM information_schema.EVENTS \
                 WHERE EVENT_SCHEMA = '{db}' ORDER BY EVENT_NAME"
            ),
            0,
        ),
        (
            format!(
                "SELECT EVENT_NAME FROM information_schema.EVENTS \
                 WHERE EVENT_DEFINITION LIKE '%{db}.t1%' ORDER BY 1"
            ),
            0,
        ),
    ] {
        let values = column(c, &sql, i).await.map_err(|e| format!("{sql}: {e}"))?;
        shown.extend(
            values
                .iter()
                .map(|v| format!("{sql}: {}", without_definer_and_start(v))),
        );
    }
    Ok(shown)
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_one_node_name_the_logical_database_as_one_mariadb() -> TestResult {
    let storage = shared_storage(1).await?;
    let db = unique_name("bone");
    let other = unique_name("bother");
    let node = ComputeNode::builder(&storage)
        .logical_database(&db)
        .logical_database(&other)
        .start()
        .await?;
    let physical = node
        .physical_database(&db)
        .ok_or("no physical database")?
        .to_string();
    assert_ne!(physical, db);
    // The reference: one MariaDB database with the logical name, on a server of its
    // own (on Strata's, a name Strata failed to map would reach the reference's).
    let plain = StorageNodes::start(1).await?;
    plain.create_database(&db).await?;
    plain.create_database(&other).await?;
    let mut reference = Conn::new(plain.opts(0, Some(&db))).await?;
    let mut strata = node.connect(Some(&db)).await?;
    for sql in qualified_bodies(&db) {
        reference
            .query_drop(&sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        strata
            .query_drop(&sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    // The bodies run: the trigger and the routines reach the physical tables.
    strata.query_drop("INSERT INTO t1 VALUES (5)").await?;
    strata.query_drop(format!("CALL {db}.p2(0)")).await?;
    let counted: Option<i64> = strata.query_first("SELECT f2()").await?;
    assert_eq!(counted, Some(3));
    for current in [&db, &other] {
        reference.query_drop(format!("USE {current}")).await?;
        strata.query_drop(format!("USE {current}")).await?;
        let expected = shown_bodies(&mut reference, &db).await?;
        let got = shown_bodies(&mut strata, &db).await?;
        assert_eq!(got, expected, "in {current}");
        assert!(
            !got.iter().any(|text| text.contains(&physical)),
            "{physical} shown: {got:?}"
        );
    }
    // Objects named with the logical database are dropped on both sides.
    for sql in [
        format!("DROP PROCEDURE {db}.p1"),
        format!("DROP PROCEDURE IF EXISTS {db}.p2"),
        format!("DROP FUNCTION {db}.f2"),
        format!("DROP TRIGGER {db}.tr1"),
        format!("DROP EVENT IF EXISTS {db}.e1"),
        format!("ALTER EVENT {db}.e2 ENABLE"),
    ] {
        reference.query_drop(&sql).await?;
        strata
            .query_drop(&sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    let expected = shown_counts(&mut reference, &db).await?;
    assert_eq!(shown_counts(&mut strata, &db).await?, expected);
    reference.disconnect().await?;
    strata.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

/// How many routines, triggers and enabled events `db` has.
async fn shown_counts(c: &mut Conn, db: &str) -> TestResult<Vec<String>> {
    let mut counts = Vec::new();
    for sql in [
        format!("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{db}'"),
        format!("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{db}'"),
        format!(
            "SELECT COUNT(*) FROM information_schema.EVENTS \
             WHERE EVENT_SCHEMA = '{db}' AND STATUS = 'ENABLED'"
        ),
    ] {
        counts.extend(column(c, &sql, 0).await?);
    }
    Ok(counts)
}
