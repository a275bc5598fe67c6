//! Table-driven tests of the firewall: WHERE detection, each built-in switch, each rule
//! matcher, verdict order, laziness, and the error a denied client gets.

use super::*;
use strata_catalog::Config;
use strata_sql::classify;

/// The expected outcome of one statement, written compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Allow,
    Log(&'static [&'static str]),
    Deny(&'static str),
}

fn firewall(section: &str) -> Firewall {
    let config = Config::from_toml(section).unwrap_or_else(|e| panic!("{e}\n{section}"));
    Firewall::new(&config.firewall).unwrap_or_else(|e| panic!("{e}"))
}

fn outcome(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Allow => "Allow".into(),
        Verdict::Log { rules } => format!("Log({rules:?})"),
        Verdict::Deny { rule, .. } => format!("Deny({rule})"),
    }
}

fn expected(want: Want) -> String {
    match want {
        Want::Allow => "Allow".into(),
        Want::Log(rules) => format!("Log({rules:?})"),
        Want::Deny(rule) => format!("Deny({rule})"),
    }
}

/// Runs `(sql, user, current db, expected)` cases against one firewall.
fn check_cases(fw: &Firewall, cases: &[(&str, &str, Option<&str>, Want)]) {
    for &(sql, user, db, want) in cases {
        let facts = StatementFacts::new(sql, classify(sql), user, db);
        let verdict = fw.check(&facts);
        assert_eq!(
            outcome(&verdict),
            expected(want),
            "{sql:?} by {user} in {db:?}"
        );
    }
}

#[test]
fn where_is_found_only_at_the_top_level() {
    let cases = [
        ("DELETE FROM t", false),
        ("DELETE FROM t WHERE id = 1", true),
        ("delete from t where id=1", true),
        ("DELETE FROM t LIMIT 10", false),
        ("DELETE FROM t ORDER BY id LIMIT 10", false),
        ("UPDATE t SET a = 1 LIMIT 5", false),
        ("UPDATE t SET a = 1 WHERE (b = 2)", true),
        (
            "UPDATE t SET a = (SELECT MAX(b) FROM u WHERE u.id = 3)",
            false,
        ),
        (
            "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM u WHERE x = 1)",
            true,
        ),
        ("DELETE FROM t WHERE id IN (SELECT id FROM u)", true),
        ("DELETE t1, t2 FROM t1 JOIN t2 ON t1.id = t2.id", false),
        (
            "DELETE t1, t2 FROM t1 JOIN t2 ON t1.id = t2.id WHERE t1.x = 1",
            true,
        ),
        (
            "DELETE FROM t1 USING t1 JOIN (SELECT id FROM t2 WHERE y = 1) d ON t1.id = d.id",
            false,
        ),
        (
            "WITH c AS (SELECT id FROM u WHERE z = 1) UPDATE t JOIN c ON t.id = c.id SET t.a = 1",
            false,
        ),
        (
            "WITH c AS (SELECT id FROM u) UPDATE t JOIN c ON t.id = c.id SET t.a = 1 WHERE t.b = 2",
            true,
        ),
        (
            "WITH c AS (SELECT id FROM u WHERE z = 1) DELETE FROM t WHERE id IN (SELECT id FROM c)",
            true,
        ),
        ("UPDATE t SET note = 'WHERE'", false),
        ("UPDATE t SET `where` = 1", false),
        ("DELETE FROM t /* WHERE id = 1 */", false),
        ("DELETE FROM t -- WHERE id = 1", false),
        ("DELETE FROM t # WHERE id = 1", false),
        ("DELETE FROM t /*! WHERE id = 1 */", true),
        ("DELETE FROM t /*!50700 WHERE id = 1 */", false),
        ("DELETE FROM t /*M!999999 WHERE id = 1 */", false),
        ("DELETE FROM t; DELETE FROM u WHERE id = 1", false),
        ("DELETE FROM t WHERE id = 1;", true),
    ];
    for (sql, want) in cases {
        assert_eq!(has_top_level_where(sql), want, "{sql}");
    }
}

#[test]
fn updates_and_deletes_without_where_are_denied_when_switched_on() {
    let fw = firewall("[firewall]\ndeny_update_delete_without_where = true\n");
    check_cases(
        &fw,
        &[
            ("DELETE FROM t", "app", Some("shop"), Want::Deny(NO_WHERE)),
            (
                "UPDATE t SET a = 1 LIMIT 1",
                "app",
                Some("shop"),
                Want::Deny(NO_WHERE),
            ),
            (
                "WITH c AS (SELECT 1 WHERE 1) UPDATE t SET a = 1",
                "app",
                None,
                Want::Deny(NO_WHERE),
            ),
            (
                "DELETE FROM t WHERE id = 1",
                "app",
                Some("shop"),
                Want::Allow,
            ),
            (
                "UPDATE t SET a = 1 WHERE id = 1",
                "root",
                Some("shop"),
                Want::Allow,
            ),
            ("SELECT * FROM t", "app", Some("shop"), Want::Allow),
            ("INSERT INTO t VALUES (1)", "app", Some("shop"), Want::Allow),
            ("TRUNCATE t", "app", Some("shop"), Want::Allow),
        ],
    );
    let verdict = fw.check(&StatementFacts::new(
        "update t set a = 1",
        StatementKind::Update,
        "app",
        None,
    ));
    assert_eq!(
        verdict.mysql_error().map(|e| e.message),
        Some("Access denied; statement blocked by SQL firewall rule 'deny_update_delete_without_where': UPDATE without WHERE".to_string())
    );
}

#[test]
fn drop_and_truncate_are_left_to_the_listed_users() {
    let fw = firewall("[firewall]\ndeny_drop_truncate_except = [\"maint_user\", \"dba%\"]\n");
    let d = Want::Deny(DROP_TRUNCATE);
    check_cases(
        &fw,
        &[
            ("DROP TABLE t", "app", Some("shop"), d),
            ("drop table if exists shop.t", "app", None, d),
            ("DROP TABLES a, b", "app", Some("shop"), d),
            ("DROP DATABASE shop", "app", None, d),
            ("DROP SCHEMA IF EXISTS shop", "app", None, d),
            ("TRUNCATE t", "app", Some("shop"), d),
            ("TRUNCATE TABLE shop.t", "app", None, d),
            ("/*!40101 DROP TABLE t */", "app", Some("shop"), d),
            ("DROP TABLE t", "maint_user", Some("shop"), Want::Allow),
            ("TRUNCATE t", "dba_alice", Some("shop"), Want::Allow),
            ("DROP DATABASE shop", "dba", None, Want::Allow),
            ("DROP TABLE t", "maintXuser", Some("shop"), d),
            ("DROP TABLE t", "MAINT_USER", Some("shop"), d),
            ("DROP TEMPORARY TABLE tmp", "app", Some("shop"), Want::Allow),
            ("DROP VIEW v", "app", Some("shop"), Want::Allow),
            ("DROP INDEX i ON t", "app", Some("shop"), Want::Allow),
            ("DROP USER bob", "app", None, Want::Allow),
            ("DELETE FROM t", "app", Some("shop"), Want::Allow),
        ],
    );
    let nobody = firewall("[firewall]\ndeny_drop_truncate_except = []\n");
    check_cases(&nobody, &[("DROP TABLE t", "maint_user", Some("shop"), d)]);
    let verdict = fw.check(&StatementFacts::new(
        "TRUNCATE t",
        StatementKind::Truncate,
        "app",
        None,
    ));
    assert_eq!(
        verdict.mysql_error().map(|e| e.message),
        Some("Access denied; statement blocked by SQL firewall rule 'deny_drop_truncate_except': TRUNCATE is allowed only for the users listed in deny_drop_truncate_except".to_string())
    );
}

#[test]
fn kinds_matcher_takes_statement_kinds_by_name() {
    let fw = firewall(
        r#"
[[firewall.rule]]
name = "no_ddl"
action = "deny"
kinds = ["CREATE", "alter", "rename"]

[[firewall.rule]]
name = "watch_loads"
action = "log"
kinds = ["load", "call"]
"#,
    );
    check_cases(
        &fw,
        &[
            (
                "CREATE TABLE t (id INT)",
                "app",
                Some("shop"),
                Want::Deny("no_ddl"),
            ),
            (
                "ALTER TABLE t ADD c INT",
                "app",
                Some("shop"),
                Want::Deny("no_ddl"),
            ),
            (
                "RENAME TABLE a TO b",
                "app",
                Some("shop"),
                Want::Deny("no_ddl"),
            ),
            (
                "LOAD DATA INFILE 'f' INTO TABLE t",
                "app",
                Some("shop"),
                Want::Log(&["watch_loads"]),
            ),
            ("CALL p()", "app", Some("shop"), Want::Log(&["watch_loads"])),
            ("SELECT 1", "app", Some("shop"), Want::Allow),
            ("DROP TABLE t", "app", Some("shop"), Want::Allow),
        ],
    );
}

#[test]
fn tables_matcher_resolves_unqualified_names_to_the_current_database() {
    let fw = firewall(
        r#"
[[firewall.rule]]
name = "orders_locked"
action = "deny"
kinds = ["update", "delete", "insert", "replace", "drop", "truncate", "load", "alter"]
tables = ["shop.orders", "shop.order\\_%"]

[[firewall.rule]]
name = "salaries"
action = "log"
tables = ["*.salary", "hr.*"]
"#,
    );
    let deny = Want::Deny("orders_locked");
    check_cases(
        &fw,
        &[
            ("DELETE FROM orders WHERE id = 1", "app", Some("shop"), deny),
            ("DELETE FROM orders WHERE id = 1", "app", Some("crm"), Want::Allow),
            ("DELETE FROM orders WHERE id = 1", "app", None, Want::Allow),
            ("DELETE FROM shop.orders WHERE id = 1", "app", Some("crm"), deny),
            ("DELETE FROM `shop`.`orders` WHERE id = 1", "app", None, deny),
            ("UPDATE SHOP.Orders SET a = 1", "app", None, deny),
            ("UPDATE order_items SET a = 1", "app", Some("shop"), deny),
            ("UPDATE orderXitems SET a = 1", "app", Some("shop"), Want::Allow),
            ("INSERT INTO shop.orders VALUES (1)", "app", None, deny),
            ("REPLACE INTO orders VALUES (1)", "app", Some("shop"), deny),
            ("TRUNCATE TABLE orders", "app", Some("shop"), deny),
            ("DROP TABLE t1, orders", "app", Some("shop"), deny),
            ("ALTER TABLE orders ADD c INT", "app", Some("shop"), deny),
            ("LOAD DATA INFILE 'x.csv' INTO TABLE orders", "app", Some("shop"), deny),
            ("LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE crm.orders", "app", Some("shop"), Want::Allow),
            ("DROP DATABASE shop", "app", None, deny),
            // A whole database holds every table a pattern could name in it: crm may hold a
            // `salary` table.
            ("DROP DATABASE crm", "app", None, Want::Log(&["salaries"])),
            ("DROP DATABASE IF EXISTS sales", "app", None, Want::Log(&["salaries"])),
            ("ALTER DATABASE shop CHARACTER SET utf8mb4", "app", None, deny),
            ("CREATE DATABASE IF NOT EXISTS hr2", "app", None, Want::Log(&["salaries"])),
            ("SELECT * FROM orders", "app", Some("shop"), Want::Allow),
            // Multi-table DELETE: every table of the FROM list is touched.
            ("DELETE o FROM customers c JOIN orders o ON o.cid = c.id WHERE c.id = 1", "app", Some("shop"), deny),
            ("DELETE FROM t1 USING t1 JOIN shop.orders o ON t1.id = o.id", "app", Some("crm"), deny),
            // Tables read in subqueries count too.
            ("UPDATE t SET a = 1 WHERE id IN (SELECT id FROM orders WHERE x = 1)", "app", Some("shop"), deny),
            // A CTE named like a table is not that table.
            ("WITH orders AS (SELECT 1 AS id) UPDATE t JOIN orders ON t.id = orders.id SET t.a = 1", "app", Some("shop"), Want::Allow),
            ("WITH c AS (SELECT id FROM orders) UPDATE t JOIN c ON t.id = c.id SET t.a = 1", "app", Some("shop"), deny),
            ("WITH RECURSIVE c AS (SELECT id FROM shop.orders), d AS (SELECT * FROM c) DELETE FROM t WHERE id IN (SELECT id FROM d)", "app", None, deny),
            ("WITH c AS (SELECT id FROM shop.orders) DELETE t FROM t JOIN c ON t.id = c.id", "app", Some("crm"), deny),
            ("SELECT * FROM salary", "app", Some("crm"), Want::Log(&["salaries"])),
            ("SELECT * FROM payroll", "app", Some("hr"), Want::Log(&["salaries"])),
            ("SELECT * FROM shop.x JOIN hr.y ON x.id = y.id", "app", None, Want::Log(&["salaries"])),
            ("SHOW TABLES", "app", Some("hr"), Want::Allow),
            ("CALL hr.p()", "app", Some("hr"), Want::Allow),
        ],
    );
}

#[test]
fn users_and_except_users_narrow_a_rule() {
    let fw = firewall(
        r#"
[[firewall.rule]]
name = "reports_read_only"
action = "deny"
users = ["report%", "bi"]
kinds = ["insert", "update", "delete", "replace"]

[[firewall.rule]]
name = "no_drop"
action = "deny"
kinds = ["drop"]
except_users = ["maint_user", "dba%"]
"#,
    );
    check_cases(
        &fw,
        &[
            (
                "INSERT INTO t VALUES (1)",
                "report_daily",
                Some("shop"),
                Want::Deny("reports_read_only"),
            ),
            (
                "INSERT INTO t VALUES (1)",
                "bi",
                Some("shop"),
                Want::Deny("reports_read_only"),
            ),
            ("INSERT INTO t VALUES (1)", "BI", Some("shop"), Want::Allow),
            ("INSERT INTO t VALUES (1)", "app", Some("shop"), Want::Allow),
            ("SELECT * FROM t", "report_daily", Some("shop"), Want::Allow),
            ("DROP TABLE t", "app", Some("shop"), Want::Deny("no_drop")),
            ("DROP TABLE t", "maint_user", Some("shop"), Want::Allow),
            ("DROP VIEW v", "dba_bob", Some("shop"), Want::Allow),
            (
                "DROP VIEW v",
                "maint_users",
                Some("shop"),
                Want::Deny("no_drop"),
            ),
        ],
    );
}

#[test]
fn digest_matcher_is_a_case_insensitive_like_over_the_normalized_text() {
    let fw = firewall(
        r#"
[[firewall.rule]]
name = "no_sleep"
action = "deny"
digest = "%sleep(%"

[[firewall.rule]]
name = "no_full_scan"
action = "deny"
digest = "select * from `big`"

[[firewall.rule]]
name = "or_true"
action = "log"
digest = "% where % or ? = ?%"
"#,
    );
    check_cases(
        &fw,
        &[
            ("SELECT SLEEP(10)", "app", None, Want::Deny("no_sleep")),
            ("select  sleep( 1 )", "app", None, Want::Deny("no_sleep")),
            ("SELECT * FROM big", "app", Some("shop"), Want::Allow),
            (
                "SELECT * FROM `big`",
                "app",
                Some("shop"),
                Want::Deny("no_full_scan"),
            ),
            (
                "select *   from `BIG` /* hi */",
                "app",
                Some("shop"),
                Want::Deny("no_full_scan"),
            ),
            (
                "SELECT * FROM `big` WHERE id = 1",
                "app",
                Some("shop"),
                Want::Allow,
            ),
            (
                "SELECT * FROM t WHERE a = 'x' OR 1 = 1",
                "app",
                None,
                Want::Log(&["or_true"]),
            ),
            (
                "SELECT * FROM t WHERE a = 'x' OR 'a'='a' LIMIT 5",
                "app",
                None,
                Want::Log(&["or_true"]),
            ),
            ("SELECT * FROM t WHERE a = 'x'", "app", None, Want::Allow),
        ],
    );
}

#[test]
fn without_where_rules_apply_to_their_tables_only() {
    let fw = firewall(
        r#"
[[firewall.rule]]
name = "no_unbounded_delete"
action = "deny"
kinds = ["delete"]
tables = ["shop.orders"]
without_where = true

[[firewall.rule]]
name = "unbounded_update"
action = "log"
without_where = true
reason = "ignored for log rules"
"#,
    );
    check_cases(
        &fw,
        &[
            (
                "DELETE FROM orders",
                "app",
                Some("shop"),
                Want::Deny("no_unbounded_delete"),
            ),
            (
                "DELETE FROM orders LIMIT 100",
                "app",
                Some("shop"),
                Want::Deny("no_unbounded_delete"),
            ),
            (
                "DELETE FROM orders WHERE id = 1",
                "app",
                Some("shop"),
                Want::Allow,
            ),
            (
                "DELETE FROM other",
                "app",
                Some("shop"),
                Want::Log(&["unbounded_update"]),
            ),
            (
                "UPDATE orders SET a = 1",
                "app",
                Some("shop"),
                Want::Log(&["unbounded_update"]),
            ),
            ("SELECT * FROM orders", "app", Some("shop"), Want::Allow),
        ],
    );
    let verdict = fw.check(&StatementFacts::new(
        "DELETE FROM orders",
        StatementKind::Delete,
        "app",
        Some("shop"),
    ));
    assert_eq!(
        verdict.mysql_error(),
        Some(MysqlError {
            code: 1227,
            state: "42000",
            message: "Access denied; statement blocked by SQL firewall rule 'no_unbounded_delete': DELETE without WHERE".into(),
        })
    );
}

#[test]
fn first_deny_wins_and_every_log_rule_reports() {
    let fw = firewall(
        r#"
[firewall]
deny_update_delete_without_where = true

[[firewall.rule]]
name = "log_a"
action = "log"
kinds = ["select", "delete"]

[[firewall.rule]]
name = "deny_1"
action = "deny"
tables = ["*.secret"]
reason = "secret data"

[[firewall.rule]]
name = "deny_2"
action = "deny"
tables = ["*.secret"]

[[firewall.rule]]
name = "log_b"
action = "log"
tables = ["*.t"]
"#,
    );
    check_cases(
        &fw,
        &[
            (
                "SELECT * FROM t",
                "app",
                Some("shop"),
                Want::Log(&["log_a", "log_b"]),
            ),
            (
                "SELECT * FROM secret",
                "app",
                Some("shop"),
                Want::Deny("deny_1"),
            ),
            (
                "DELETE FROM secret",
                "app",
                Some("shop"),
                Want::Deny(NO_WHERE),
            ),
            (
                "INSERT INTO t VALUES (1)",
                "app",
                Some("shop"),
                Want::Log(&["log_b"]),
            ),
            ("INSERT INTO u VALUES (1)", "app", Some("shop"), Want::Allow),
        ],
    );
    let verdict = fw.check(&StatementFacts::new(
        "SELECT * FROM secret",
        StatementKind::Select,
        "app",
        Some("shop"),
    ));
    assert_eq!(
        verdict.mysql_error().map(|e| e.message),
        Some(
            "Access denied; statement blocked by SQL firewall rule 'deny_1': secret data"
                .to_string()
        )
    );
    assert_eq!(Verdict::Allow.mysql_error(), None);
}

#[test]
fn nothing_is_computed_that_no_rule_needs() {
    let sql = "DELETE FROM t";
    let empty = Firewall::default();
    assert!(!empty.is_active());
    let facts = StatementFacts::new(sql, StatementKind::Delete, "app", None);
    assert_eq!(empty.check(&facts), Verdict::Allow);
    assert!(
        facts.tables.get().is_none()
            && facts.digest.get().is_none()
            && facts.has_where.get().is_none()
    );

    let by_kind =
        firewall("[[firewall.rule]]\nname = \"k\"\naction = \"log\"\nkinds = [\"select\"]\n");
    let facts = StatementFacts::new(sql, StatementKind::Delete, "app", None);
    assert_eq!(by_kind.check(&facts), Verdict::Allow);
    assert!(
        facts.tables.get().is_none()
            && facts.digest.get().is_none()
            && facts.has_where.get().is_none()
    );

    let by_table = firewall(
        "[[firewall.rule]]\nname = \"t\"\naction = \"log\"\ntables = [\"*.t\"]\ndigest = \"%x%\"\n",
    );
    let facts = StatementFacts::new("SELECT 1 FROM u", StatementKind::Select, "app", None);
    assert_eq!(by_table.check(&facts), Verdict::Allow);
    assert!(facts.tables.get().is_some(), "tables are read");
    assert!(
        facts.digest.get().is_none(),
        "the digest is not, as the tables already failed"
    );
}

#[test]
fn facts_handed_in_are_used_as_given() {
    let fw = firewall("[[firewall.rule]]\nname = \"d\"\naction = \"deny\"\ndigest = \"precomputed\"\ntables = [\"x.y\"]\n");
    let tables = Tables {
        refs: vec![strata_sql::TableRef {
            schema: Some("x".into()),
            name: "y".into(),
            access: strata_sql::Access::Select,
        }],
        unknown: false,
    };
    let facts = StatementFacts::new("SELECT 1", StatementKind::Select, "app", None)
        .with_tables(&tables)
        .with_digest("PRECOMPUTED");
    assert_eq!(outcome(&fw.check(&facts)), "Deny(d)");
    assert_eq!((facts.kind(), facts.user()), (StatementKind::Select, "app"));
}

#[test]
fn row_estimates_above_the_limit_are_denied() {
    let fw = firewall("[firewall]\nmax_rows_estimate = 1000\n");
    assert!(fw.needs_estimate());
    assert!(!fw.is_active());
    let config = FirewallConfig {
        max_rows_estimate: Some(1000),
        ..FirewallConfig::default()
    };
    let cases = [(0, false), (1000, false), (1001, true), (u64::MAX, true)];
    for (estimate, over) in cases {
        assert_eq!(exceeds_estimate(estimate, &config), over, "{estimate}");
        assert_eq!(
            fw.check_estimate(estimate).mysql_error().is_some(),
            over,
            "{estimate}"
        );
    }
    assert!(!exceeds_estimate(u64::MAX, &FirewallConfig::default()));
    assert_eq!(Firewall::default().check_estimate(u64::MAX), Verdict::Allow);
    assert_eq!(
        fw.check_estimate(5000).mysql_error().map(|e| e.message),
        Some("Access denied; statement blocked by SQL firewall rule 'max_rows_estimate': estimated 5000 rows exceed the limit of 1000".to_string())
    );
}

#[test]
fn invalid_sections_are_refused_with_every_problem() {
    let config = FirewallConfig {
        max_rows_estimate: Some(0),
        rules: vec![strata_catalog::config::FirewallRuleConfig {
            name: "r".into(),
            action: FirewallAction::Deny,
            kinds: vec!["nope".into()],
            tables: vec!["t".into()],
            users: Vec::new(),
            digest: None,
            without_where: false,
            except_users: Vec::new(),
            reason: None,
        }],
        ..FirewallConfig::default()
    };
    let Err(FirewallError::InvalidConfig(problems)) = Firewall::new(&config) else {
        panic!("accepted");
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
}
