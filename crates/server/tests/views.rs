//! Views in a database over four data nodes, through a real client: the same tables,
//! rows and views in Strata and in one plain MariaDB database must give the same
//! answers (reads of views over sharded, global and vertical tables, joins,
//! aggregates, nested views, views in subqueries) and the same errors (1146, 1050,
//! 1353, 1965, 4092, 1347); SHOW CREATE VIEW and SHOW FULL TABLES show them; they
//! survive a restart of the compute node and go with their database; writes through
//! them are refused with 1235. Their definitions never show a physical (storage)
//! database name: over four data nodes as written, over one as one MariaDB shows them.

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, node_with_tables,
    prepared_difference, run_all, BoxError,
};

type TestResult = Result<(), BoxError>;

/// (table, columns and keys, Strata distribution)
const TABLES: &[(&str, &str, &str)] = &[
    (
        "vt",
        "id INT NOT NULL PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci NULL, score INT NULL",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "vo",
        "oid INT NOT NULL PRIMARY KEY, cid INT NULL, amount DECIMAL(10,2) NULL",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'oid' ON DATANODE '1-4'",
    ),
    (
        "vg",
        "code VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, label VARCHAR(20) NULL",
        "SHARD BY GLOBAL",
    ),
    (
        "vv",
        "id INT NOT NULL PRIMARY KEY, tag VARCHAR(10) NULL",
        "SHARD BY VERTICAL ON DATANODE '3'",
    ),
];

const ROWS: &[&str] = &[
    "INSERT INTO vt VALUES (1, 'north', 10), (2, 'South', NULL), (3, NULL, 5), (4, 'east', 7), \
     (5, 'North', 3), (6, 'zoë', 10), (7, 'east', 1), (8, 'west', 2)",
    "INSERT INTO vo VALUES (10, 1, 5.50), (11, 1, 7.25), (12, 2, 0.00), (13, 4, 100.10), \
     (14, NULL, 9.99), (15, 99, 1.00), (16, 7, 2.50), (17, 7, 2.50), (18, 3, NULL)",
    "INSERT INTO vg VALUES ('north', 'N'), ('south', 'S'), ('east', 'E')",
    "INSERT INTO vv VALUES (1, 'vip'), (4, 'new'), (9, 'gone')",
];

/// CREATE VIEW statements (and their errors), then reads of the views; `true` when the
/// statement has a total order.
const STATEMENTS: &[(&str, bool)] = &[
    ("CREATE VIEW v_all AS SELECT * FROM vt", false),
    ("CREATE VIEW v_cols (k, label) AS SELECT id, name FROM vt WHERE id > 2", false),
    ("CREATE VIEW v_star (a, b, c) AS SELECT * FROM vt", false),
    ("CREATE VIEW v_agg AS SELECT cid, COUNT(*) AS n, SUM(amount) AS total FROM vo GROUP BY cid", false),
    ("CREATE VIEW v_join AS SELECT t.id, t.name, o.oid, o.amount FROM vt t JOIN vo o ON o.cid = t.id", false),
    ("CREATE VIEW v_nested AS SELECT k FROM v_cols WHERE label IS NOT NULL", false),
    ("CREATE VIEW v_union AS SELECT id FROM vt UNION SELECT cid FROM vo", false),
    ("CREATE ALGORITHM=MERGE VIEW v_global AS SELECT code, label FROM vg", false),
    ("CREATE VIEW v_top AS SELECT id, name FROM vt ORDER BY id LIMIT 3", false),
    ("CREATE VIEW v_vertical AS SELECT v.id, v.tag, t.name FROM vv v LEFT JOIN vt t ON t.id = v.id", false),
    ("CREATE OR REPLACE VIEW v_replaced AS SELECT 1 AS one", false),
    ("CREATE OR REPLACE VIEW v_replaced AS SELECT id * 2 AS twice FROM vt WHERE id < 4", false),
    ("ALTER VIEW v_replaced AS SELECT id * 3 AS thrice FROM vt WHERE id < 3", false),
    // MariaDB's errors.
    ("CREATE VIEW v_bad AS SELECT * FROM nope", false),
    ("CREATE VIEW vt AS SELECT 1", false),
    ("CREATE VIEW v_all AS SELECT 1", false),
    ("CREATE VIEW v_bad (a) AS SELECT id, name FROM vt", false),
    ("CREATE VIEW v_bad AS SELECT id, name AS id FROM vt", false),
    ("CREATE VIEW v_bad AS SELECT nope FROM vt", false),
    ("ALTER VIEW nope AS SELECT 1", false),
    ("DROP TABLE v_all", false),
    ("DROP VIEW nope", false),
    ("ALTER TABLE v_all ADD c INT", false),
    ("SELECT * FROM v_bad", false),
    // Reads.
    ("SELECT * FROM v_all", false),
    ("SELECT * FROM v_all WHERE id = 3", false),
    ("SELECT name, score FROM v_all WHERE score > 4 ORDER BY score, name", true),
    ("SELECT k, label FROM v_cols ORDER BY k", true),
    ("SELECT * FROM v_star ORDER BY a", true),
    ("SELECT * FROM v_agg ORDER BY cid", true),
    ("SELECT n, COUNT(*) FROM v_agg GROUP BY n ORDER BY n", true),
    ("SELECT * FROM v_join", false),
    ("SELECT id, SUM(amount) FROM v_join GROUP BY id ORDER BY id", true),
    ("SELECT v.name, g.label FROM v_all v JOIN vg g ON g.code = v.name", false),
    ("SELECT * FROM v_nested", false),
    ("SELECT * FROM v_union", false),
    ("SELECT * FROM v_global WHERE code = 'NORTH'", false),
    ("SELECT * FROM v_top", false),
    ("SELECT * FROM v_vertical ORDER BY id", true),
    ("SELECT * FROM v_replaced", false),
    ("SELECT COUNT(*) FROM v_all a JOIN v_cols b ON a.id = b.k", false),
    ("SELECT id FROM vt WHERE id IN (SELECT k FROM v_cols) ORDER BY id", true),
    ("SELECT x.id FROM v_all AS x WHERE x.id > 5", false),
    ("WITH v_all AS (SELECT 1 AS id) SELECT * FROM v_all", false),
    ("DROP VIEW v_top, nope", false),
    ("SELECT * FROM v_top", false),
    ("DROP VIEW IF EXISTS v_top, v_global", false),
    ("SELECT * FROM v_global", false),
];

#[tokio::test]
async fn views_answer_like_one_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("vdiff", "vref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, ROWS).await?;
    let mut failures = differences(&mut reference, &mut strata, STATEMENTS).await?;
    // A prepared statement over a view: planned at PREPARE, values bound at EXECUTE.
    let sql = "SELECT k, label FROM v_cols WHERE k > ? ORDER BY k";
    let params = [mysql_async::Value::from(3)];
    failures.extend(prepared_difference(&mut reference, &mut strata, sql, &params).await?);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop_and_shut_down(node, &mut strata, &db).await
}

async fn code_of(c: &mut mysql_async::Conn, sql: &str) -> Option<u16> {
    match c.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) => Some(e.code),
        _ => None,
    }
}

#[tokio::test]
async fn views_are_shown_kept_across_restarts_and_dropped_with_their_database() -> TestResult {
    let (node, db, mut c) = node_with_tables("vshow", TABLES, |_| {}).await?;
    run_all(
        &mut c,
        &[
            "CREATE VIEW v1 AS SELECT id, name FROM vt WHERE id > 1 WITH CHECK OPTION",
            "CREATE VIEW v2 (a) AS SELECT code FROM vg",
        ],
    )
    .await?;
    let shown: Option<(String, String, String, String)> =
        c.query_first("SHOW CREATE VIEW v1").await?;
    let (name, text, _, _) = shown.ok_or("no row")?;
    assert_eq!(name, "v1");
    assert!(
        text.starts_with("CREATE ALGORITHM=UNDEFINED DEFINER=`")
            && text.ends_with(
                "SQL SECURITY DEFINER VIEW `v1` AS SELECT id, name FROM vt WHERE id > 1 WITH CASCADED CHECK OPTION"
            ),
        "{text}"
    );
    let shown: Option<(String, String, String, String)> =
        c.query_first(format!("SHOW CREATE TABLE {db}.v2")).await?;
    assert!(
        shown.as_ref().is_some_and(|s| s
            .1
            .ends_with("VIEW `v2` (`a`) AS SELECT code AS `a` FROM vg")),
        "{shown:?}"
    );
    let full: Vec<(String, String)> = c.query("SHOW FULL TABLES").await?;
    for (name, kind) in [
        ("v1", "VIEW"),
        ("v2", "VIEW"),
        ("vt", "BASE TABLE"),
        ("vv", "BASE TABLE"),
    ] {
        assert!(full.contains(&(name.into(), kind.into())), "{full:?}");
    }
    let like: Vec<String> = c.query("SHOW TABLES LIKE 'v_'").await?;
    assert_eq!(like, vec!["v1", "v2", "vg", "vo", "vt", "vv"]);
    let only_views: Vec<(String, String)> = c
        .query("SHOW FULL TABLES WHERE Table_type = 'VIEW'")
        .await?;
    assert_eq!(
        only_views,
        vec![("v1".into(), "VIEW".into()), ("v2".into(), "VIEW".into())]
    );

    let described: Vec<(String, String, String, String)> = c
        .query(format!(
            "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = '{db}' ORDER BY TABLE_NAME"
        ))
        .await?;
    assert_eq!(
        described,
        vec![
            (
                db.clone(),
                "v1".into(),
                "SELECT id, name FROM vt WHERE id > 1".into(),
                "CASCADED".into()
            ),
            (
                db.clone(),
                "v2".into(),
                "SELECT code AS `a` FROM vg".into(),
                "NONE".into()
            ),
        ]
    );
    let listed: Vec<(String, String)> = c
        .query(format!(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = '{db}' AND TABLE_NAME LIKE 'v_' ORDER BY TABLE_NAME"
        ))
        .await?;
    assert!(
        listed.contains(&("v1".into(), "VIEW".into()))
            && listed.contains(&("v2".into(), "VIEW".into()))
            && listed.contains(&("vt".into(), "BASE TABLE".into())),
        "{listed:?}"
    );

    // Writes through views are refused; the name is the view's in every other way.
    for sql in [
        "UPDATE v1 SET name = 'x'",
        "DELETE FROM v1",
        "INSERT INTO v1 VALUES (20, 'x')",
    ] {
        assert_eq!(code_of(&mut c, sql).await, Some(1235), "{sql}");
    }
    assert_eq!(code_of(&mut c, "CREATE TABLE v1 (a INT)").await, Some(1050));
    assert_eq!(code_of(&mut c, "SHOW CREATE VIEW vt").await, Some(1347));

    // Kept in the metadata store.
    let node = node.restart().await?;
    let mut c = node.connect(Some(&db)).await?;
    c.query_drop("INSERT INTO vt VALUES (5, 'five', 5), (1, 'one', 1)")
        .await?;
    let names: Vec<String> = c.query("SELECT name FROM v1").await?;
    assert_eq!(names, vec!["five"]);
    let codes: Vec<String> = c.query("SELECT a FROM v2").await?;
    assert!(codes.is_empty());

    // Dropped with their database.
    c.query_drop(format!("DROP DATABASE {db}")).await?;
    c.query_drop(format!("CREATE DATABASE {db}")).await?;
    c.query_drop(format!("USE {db}")).await?;
    let tables: Vec<String> = c.query("SHOW TABLES").await?;
    assert!(tables.is_empty(), "{tables:?}");
    assert_eq!(code_of(&mut c, "SELECT * FROM v1").await, Some(1146));
    drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn privileges_are_checked_on_the_view_as_mariadb_does() -> TestResult {
    let (node, db, mut root) = node_with_tables("vpriv", TABLES, |_| {}).await?;
    run_all(
        &mut root,
        &[
            "INSERT INTO vt VALUES (1, 'a', 1), (2, 'b', 2)",
            "CREATE VIEW v1 AS SELECT id, name FROM vt",
        ],
    )
    .await?;
    let user = strata_testkit::unique_name("viewer");
    root.query_drop(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'v-pw'"))
        .await?;
    root.query_drop(format!("GRANT SELECT ON {db}.v1 TO '{user}'@'%'"))
        .await?;
    let opts = strata_testkit::mysql_opts(node.service_addr(), &user, "v-pw", Some(&db));
    let mut viewer = mysql_async::Conn::new(opts).await?;
    // SQL SECURITY DEFINER: the view's SELECT reads tables the viewer may not read.
    let names: Vec<String> = viewer.query("SELECT name FROM v1 ORDER BY id").await?;
    assert_eq!(names, vec!["a", "b"]);
    let tables: Vec<String> = viewer.query("SHOW TABLES").await?;
    assert_eq!(tables, vec!["v1"]);
    for sql in [
        "SELECT * FROM vt",
        "SHOW CREATE VIEW v1",
        "CREATE VIEW v2 AS SELECT 1",
        "DROP VIEW v1",
    ] {
        assert_eq!(code_of(&mut viewer, sql).await, Some(1142), "{sql}");
    }
    root.query_drop(format!("GRANT SHOW VIEW ON {db}.v1 TO '{user}'@'%'"))
        .await?;
    let shown: Option<(String, String, String, String)> =
        viewer.query_first("SHOW CREATE VIEW v1").await?;
    assert!(shown.is_some_and(|s| s.1.ends_with("AS SELECT id, name FROM vt")));
    viewer.disconnect().await?;
    root.query_drop(format!("DROP USER '{user}'@'%'")).await?;
    drop_and_shut_down(node, &mut root, &db).await
}

/// `SHOW CREATE VIEW`'s text without its DEFINER clause (Strata's account is not the
/// storage node's).
fn without_definer(text: &str) -> String {
    match (text.find("DEFINER="), text.find(" SQL SECURITY")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &text[..start], &text[end + 1..])
        }
        _ => text.to_string(),
    }
}

/// The view texts a connection shows for `views` of `db`: SHOW CREATE VIEW, SHOW CREATE
/// TABLE (without definers) and information_schema.VIEWS' VIEW_DEFINITION.
async fn shown_views(
    c: &mut mysql_async::Conn,
    db: &str,
    views: &[&str],
) -> Result<Vec<String>, BoxError> {
    let mut shown = Vec::new();
    for view in views {
        for show in ["VIEW", "TABLE"] {
            let row: Option<(String, String, String, String)> = c
                .query_first(format!("SHOW CREATE {show} {db}.{view}"))
                .await?;
            let text = row.map(|r| r.1).ok_or("no row")?;
            shown.push(format!(
                "SHOW CREATE {show} {view}: {}",
                without_definer(&text)
            ));
        }
    }
    let definitions: Vec<(String, String)> = c
        .query(format!(
            "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = '{db}' ORDER BY TABLE_NAME"
        ))
        .await?;
    shown.extend(
        definitions
            .into_iter()
            .map(|(name, text)| format!("VIEW_DEFINITION {name}: {text}")),
    );
    Ok(shown)
}

/// Views of joins, subqueries, qualified names and other views, in database `db`.
fn view_statements(db: &str) -> Vec<String> {
    vec![
        "CREATE TABLE t1 (a INT, b INT)".into(),
        "CREATE TABLE t2 (a INT, c INT)".into(),
        "CREATE VIEW v AS SELECT a FROM t1".into(),
        "CREATE VIEW vj AS SELECT t1.a, x.c FROM t1 JOIN t2 x ON x.a = t1.a".into(),
        "CREATE VIEW vs AS SELECT a FROM t1 WHERE b IN (SELECT c FROM t2)".into(),
        format!("CREATE VIEW vq AS SELECT {db}.t1.a, t2.c FROM {db}.t1, `{db}`.t2"),
        "CREATE VIEW vv AS SELECT a FROM v".into(),
    ]
}

const VIEW_NAMES: &[&str] = &["v", "vj", "vq", "vs", "vv"];

#[tokio::test]
async fn view_definitions_over_four_nodes_name_no_storage_database() -> TestResult {
    let storage = strata_testkit::shared_storage(4).await?;
    let node = strata_testkit::ComputeNode::builder(&storage)
        .start()
        .await?;
    let physical = node
        .physical_database("test")
        .ok_or("no physical database")?
        .to_string();
    assert_ne!(physical, "test");
    let mut c = node.connect(Some("test")).await?;
    for sql in view_statements("test") {
        c.query_drop(&sql).await?;
    }
    let shown = shown_views(&mut c, "test", VIEW_NAMES).await?;
    // Kept as written (sharding.md, Views), so with the logical name.
    let expected_selects = [
        ("v", "SELECT a FROM t1"),
        ("vj", "SELECT t1.a, x.c FROM t1 JOIN t2 x ON x.a = t1.a"),
        ("vq", "SELECT test.t1.a, t2.c FROM test.t1, `test`.t2"),
        ("vs", "SELECT a FROM t1 WHERE b IN (SELECT c FROM t2)"),
        ("vv", "SELECT a FROM v"),
    ];
    let mut expected = Vec::new();
    for (name, select) in expected_selects {
        for show in ["VIEW", "TABLE"] {
            expected.push(format!(
                "SHOW CREATE {show} {name}: CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER \
                 VIEW `{name}` AS {select}"
            ));
        }
    }
    expected.extend(
        expected_selects
            .iter()
            .map(|(name, select)| format!("VIEW_DEFINITION {name}: {select}")),
    );
    assert_eq!(shown, expected);
    let rows: Vec<(String, u32)> = c.query("SELECT * FROM vq").await?;
    assert!(rows.is_empty());
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn view_definitions_over_one_node_are_one_mariadbs() -> TestResult {
    let storage = strata_testkit::shared_storage(1).await?;
    let db = strata_testkit::unique_name("vone");
    let other = strata_testkit::unique_name("vother");
    let node = strata_testkit::ComputeNode::builder(&storage)
        .logical_database(&db)
        .logical_database(&other)
        .start()
        .await?;
    let physical = node.physical_database(&db).ok_or("no physical database")?;
    assert_ne!(physical, db);
    // The reference: one MariaDB database with the logical name.
    storage.create_database(&db).await?;
    storage.create_database(&other).await?;
    let mut reference = mysql_async::Conn::new(storage.opts(0, Some(&db))).await?;
    let mut strata = node.connect(Some(&db)).await?;
    for sql in view_statements(&db) {
        reference.query_drop(&sql).await?;
        strata.query_drop(&sql).await?;
    }
    // In the view's database (MariaDB leaves its name out) and in another one.
    for current in [&db, &other] {
        reference.query_drop(format!("USE {current}")).await?;
        strata.query_drop(format!("USE {current}")).await?;
        let expected = shown_views(&mut reference, &db, VIEW_NAMES).await?;
        let got = shown_views(&mut strata, &db, VIEW_NAMES).await?;
        assert_eq!(got, expected, "in {current}");
        assert!(
            !got.iter().any(|text| text.contains(physical)),
            "{physical} shown: {got:?}"
        );
    }
    reference.disconnect().await?;
    strata.disconnect().await?;
    storage.drop_database(&db).await?;
    storage.drop_database(&other).await?;
    node.shutdown().await;
    Ok(())
}
