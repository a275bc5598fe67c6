use super::*;
use crate::classify::classify;
use Access as A;

fn refs(sql: &str) -> Vec<(String, A)> {
    let t = table_references(sql, classify(sql));
    assert!(!t.unknown, "{sql}: unknown");
    t.refs
        .into_iter()
        .map(|r| {
            let name = match r.schema {
                Some(s) => format!("{s}.{}", r.name),
                None => r.name,
            };
            (name, r.access)
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn names(list: &[(&str, A)]) -> Vec<(String, A)> {
    list.iter()
        .map(|(n, a)| (n.to_string(), *a))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn reads_find_every_table_at_every_depth() {
    let cases: &[(&str, &[(&str, A)])] = &[
        ("SELECT * FROM t", &[("t", A::Select)]),
        ("SELECT 1", &[]),
        ("SELECT 1 FROM dual", &[]),
        (
            "SELECT a FROM db1.t AS x, `u` y WHERE x.a = y.a",
            &[("db1.t", A::Select), ("u", A::Select)],
        ),
        (
            "SELECT * FROM a JOIN b ON a.id = b.id LEFT JOIN c USING (id) STRAIGHT_JOIN d",
            &[
                ("a", A::Select),
                ("b", A::Select),
                ("c", A::Select),
                ("d", A::Select),
            ],
        ),
        (
            "SELECT * FROM t WHERE id IN (SELECT id FROM secret WHERE x = 1)",
            &[("t", A::Select), ("secret", A::Select)],
        ),
        (
            "SELECT (SELECT MAX(v) FROM s) FROM t",
            &[("s", A::Select), ("t", A::Select)],
        ),
        (
            "SELECT * FROM (SELECT * FROM inner_t) AS d JOIN o ON d.id = o.id",
            &[("inner_t", A::Select), ("o", A::Select)],
        ),
        (
            "SELECT * FROM (a JOIN b ON a.x = b.x)",
            &[("a", A::Select), ("b", A::Select)],
        ),
        (
            "WITH c AS (SELECT * FROM base) SELECT * FROM c JOIN other ON 1",
            &[("base", A::Select), ("other", A::Select)],
        ),
        (
            "SELECT a FROM t1 UNION SELECT b FROM t2",
            &[("t1", A::Select), ("t2", A::Select)],
        ),
        (
            "SELECT EXISTS (SELECT 1 FROM e WHERE e.id = t.id) FROM t",
            &[("e", A::Select), ("t", A::Select)],
        ),
        ("SELECT * FROM t WHERE a = 'FROM x'", &[("t", A::Select)]),
    ];
    for (sql, expected) in cases {
        assert_eq!(refs(sql), names(expected), "{sql}");
    }
}

#[test]
fn writes_name_their_targets() {
    let cases: &[(&str, &[(&str, A)])] = &[
        ("INSERT INTO t VALUES (1)", &[("t", A::Insert)]),
        ("INSERT IGNORE t (a) VALUES (1)", &[("t", A::Insert)]),
        (
            "INSERT INTO t SELECT * FROM s",
            &[("t", A::Insert), ("s", A::Select)],
        ),
        ("REPLACE INTO db.t VALUES (1)", &[("db.t", A::Replace)]),
        ("UPDATE t SET a = 1 WHERE id = 2", &[("t", A::Update)]),
        (
            "UPDATE t JOIN s ON t.id = s.id SET t.a = s.a",
            &[("t", A::Update), ("s", A::Select)],
        ),
        (
            "UPDATE t SET a = (SELECT MAX(b) FROM s)",
            &[("t", A::Update), ("s", A::Select)],
        ),
        ("DELETE FROM t WHERE id = 1", &[("t", A::Delete)]),
        (
            "WITH c AS (SELECT id FROM base) UPDATE t JOIN c ON t.id = c.id SET t.a = 1",
            &[("base", A::Select), ("t", A::Update)],
        ),
        (
            "WITH c AS (SELECT id FROM base) DELETE FROM t WHERE id IN (SELECT id FROM c)",
            &[("base", A::Select), ("t", A::Delete)],
        ),
        (
            "DELETE FROM t WHERE id IN (SELECT id FROM s)",
            &[("t", A::Delete), ("s", A::Select)],
        ),
        (
            "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id WHERE t2.x = 1",
            &[("t1", A::Delete), ("t2", A::Delete)],
        ),
        (
            "DELETE FROM t1 USING t1 JOIN t2 ON t1.id = t2.id",
            &[("t1", A::Delete), ("t1", A::Select), ("t2", A::Select)],
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(refs(sql), names(expected), "{sql}");
    }
}

#[test]
fn ddl_names_its_objects() {
    let cases: &[(&str, &[(&str, A)])] = &[
        ("CREATE TABLE t (id INT)", &[("t", A::Create)]),
        (
            "CREATE TABLE IF NOT EXISTS db.t (id INT)",
            &[("db.t", A::Create)],
        ),
        (
            "CREATE TABLE t LIKE s",
            &[("t", A::Create), ("s", A::Select)],
        ),
        (
            "CREATE TABLE t AS SELECT * FROM s",
            &[("t", A::CreateInsert), ("s", A::Select)],
        ),
        (
            "CREATE TABLE c (id INT, p INT, FOREIGN KEY (p) REFERENCES par (id))",
            &[("c", A::Create), ("par", A::References)],
        ),
        ("CREATE UNIQUE INDEX i ON t (a)", &[("t", A::Index)]),
        (
            "CREATE VIEW v AS SELECT * FROM t",
            &[("v", A::CreateView), ("t", A::Select)],
        ),
        (
            "DROP TABLE IF EXISTS a, b",
            &[("a", A::Drop), ("b", A::Drop)],
        ),
        ("DROP INDEX i ON t", &[("t", A::Index)]),
        ("TRUNCATE TABLE t", &[("t", A::Drop)]),
        ("TRUNCATE t", &[("t", A::Drop)]),
        (
            "ALTER ALGORITHM = MERGE SQL SECURITY INVOKER VIEW v AS SELECT * FROM t",
            &[("v", A::CreateView), ("v", A::Drop), ("t", A::Select)],
        ),
        ("ALTER TABLE t ADD COLUMN c INT", &[("t", A::Alter)]),
        ("ALTER TABLE t ADD INDEX i (c)", &[("t", A::Alter)]),
        (
            "ALTER TABLE t RENAME TO u",
            &[("t", A::AlterDrop), ("u", A::CreateInsert)],
        ),
        (
            "RENAME TABLE a TO b, c TO d",
            &[
                ("a", A::AlterDrop),
                ("b", A::CreateInsert),
                ("c", A::AlterDrop),
                ("d", A::CreateInsert),
            ],
        ),
        (
            "LOCK TABLES t READ, s AS x WRITE",
            &[
                ("t", A::Lock),
                ("t", A::Select),
                ("s", A::Lock),
                ("s", A::Select),
            ],
        ),
        ("DESCRIBE t", &[("t", A::Any)]),
        ("EXPLAIN db.t", &[("db.t", A::Any)]),
        ("EXPLAIN SELECT * FROM t", &[("t", A::Select)]),
    ];
    for (sql, expected) in cases {
        assert_eq!(refs(sql), names(expected), "{sql}");
    }
}

#[test]
fn statements_whose_tables_the_text_does_not_tell() {
    for sql in [
        "CALL p()",
        "CREATE PROCEDURE p() SELECT 1",
        "EXECUTE s",
        "SHOW TABLES",
    ] {
        assert!(table_references(sql, classify(sql)).unknown, "{sql}");
    }
}

#[test]
fn set_and_do_read_their_subqueries() {
    assert_eq!(
        refs("SET @s = (SELECT s FROM secrets LIMIT 1)"),
        names(&[("secrets", A::Select)])
    );
    assert_eq!(
        refs("DO (SELECT COUNT(*) FROM secrets)"),
        names(&[("secrets", A::Select)])
    );
}

#[test]
fn table_maintenance_names_its_tables() {
    let cases: &[(&str, &[(&str, A)])] = &[
        (
            "CHECK TABLE t1, db2.t2 EXTENDED",
            &[("t1", A::Any), ("db2.t2", A::Any)],
        ),
        ("CHECKSUM TABLE t", &[("t", A::Select)]),
        (
            "ANALYZE NO_WRITE_TO_BINLOG TABLE db2.t PERSISTENT FOR ALL",
            &[("db2.t", A::SelectInsert)],
        ),
        (
            "OPTIMIZE TABLE a, b",
            &[("a", A::SelectInsert), ("b", A::SelectInsert)],
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(refs(sql), names(expected), "{sql}");
    }
    assert!(table_references("ANALYZE SELECT 1", classify("ANALYZE SELECT 1")).unknown);
}
