//! Views: a read of a view plans exactly as the same read with the view's SELECT as a
//! derived table; CREATE/ALTER/DROP VIEW are catalog changes checked as MariaDB checks
//! them; writes through views are refused.

mod common;

use common::{catalog, ctx};
use strata_planner::{plan_statement, CatalogChange, MemoryCatalog, Plan, PlanContext, PlanError};

fn view(select: &str) -> strata_planner::ViewInfo {
    strata_planner::ViewInfo::new(select, "app", "%")
}

fn with_views() -> MemoryCatalog {
    let mut c = catalog();
    c.add_view("shop", "v", view("SELECT id, amount FROM orders"));
    c.add_view("shop", "va", view("SELECT * FROM audit"));
    c.add_view("shop", "v2", view("SELECT id FROM v WHERE amount > 1"));
    c.add_view("shop", "loop1", view("SELECT * FROM loop2"));
    c.add_view("shop", "loop2", view("SELECT * FROM loop1"));
    c
}

fn plan_in(c: &MemoryCatalog, ctx: &PlanContext<'_>, sql: &str) -> Result<Plan, PlanError> {
    plan_statement(sql, ctx, c).map(|p| p.plan)
}

fn planned(sql: &str) -> Result<Plan, PlanError> {
    plan_in(&with_views(), &ctx(), sql)
}

fn changes(sql: &str) -> Result<Vec<CatalogChange>, PlanError> {
    plan_statement(sql, &ctx(), &with_views()).map(|p| p.catalog_changes)
}

fn code(r: Result<impl std::fmt::Debug, PlanError>) -> u16 {
    match r {
        Ok(v) => panic!("expected an error, planned {v:?}"),
        Err(e) => e.code(),
    }
}

#[test]
fn a_view_plans_as_its_select_in_a_derived_table() {
    let c = with_views();
    for (sql, same) in [
        (
            "SELECT * FROM v WHERE id = 5",
            "SELECT * FROM (SELECT id, amount FROM orders) AS `v` WHERE id = 5",
        ),
        (
            "SELECT x.id FROM v AS x JOIN region r ON r.id = x.id",
            "SELECT x.id FROM (SELECT id, amount FROM orders) AS x JOIN region r ON r.id = x.id",
        ),
        (
            "SELECT * FROM va",
            "SELECT * FROM (SELECT * FROM audit) AS `va`",
        ),
        (
            "SELECT * FROM v2",
            "SELECT * FROM (SELECT id FROM (SELECT id, amount FROM orders) AS `v` WHERE amount > 1) AS `v2`",
        ),
        (
            "SELECT *\n  FROM `v`\n WHERE `v`.id = 5",
            "SELECT *\n  FROM (SELECT id, amount FROM orders) AS `v`\n WHERE `v`.id = 5",
        ),
        (
            "SELECT é.id FROM shop.`v` é WHERE é.id = 5",
            "SELECT é.id FROM (SELECT id, amount FROM orders) é WHERE é.id = 5",
        ),
        (
            "SELECT o.id FROM orders o STRAIGHT_JOIN v ON v.id = o.id",
            "SELECT o.id FROM orders o STRAIGHT_JOIN (SELECT id, amount FROM orders) AS `v` ON v.id = o.id",
        ),
        (
            "SELECT id FROM orders WHERE id IN (SELECT id FROM shop.v)",
            "SELECT id FROM orders WHERE id IN (SELECT id FROM (SELECT id, amount FROM orders) AS `v`)",
        ),
    ] {
        let expected = plan_in(&c, &ctx(), same);
        assert!(expected.is_ok(), "{same}: {expected:?}");
        assert_eq!(plan_in(&c, &ctx(), sql), expected, "{sql}");
    }
    // The vertical table's view runs where the table is, as the derived table would.
    let expected = plan_in(
        &catalog(),
        &ctx(),
        "SELECT * FROM (SELECT * FROM audit) AS `va`",
    );
    assert_eq!(planned("SELECT * FROM va"), expected);
}

#[test]
fn a_view_read_from_another_database_qualifies_its_tables() {
    let c = with_views();
    let mut other = PlanContext::new(Some("one"));
    other.home_node = ctx().home_node;
    assert_eq!(
        plan_in(&c, &other, "SELECT * FROM shop.va"),
        plan_in(
            &c,
            &other,
            "SELECT * FROM (SELECT * FROM `shop`.`audit`) AS `va`"
        )
    );
}

#[test]
fn a_cte_of_the_same_name_hides_the_view() {
    let sql = "WITH v AS (SELECT 1 AS id) SELECT id FROM v";
    assert_eq!(planned(sql), plan_in(&catalog(), &ctx(), sql));
}

#[test]
fn recursion_and_writes_through_views_are_refused() {
    assert_eq!(code(planned("SELECT * FROM loop1")), 1462);
    assert_eq!(code(planned("UPDATE v SET amount = 1")), 1235);
    assert_eq!(code(planned("DELETE FROM v WHERE id = 1")), 1235);
    assert_eq!(code(planned("INSERT INTO v VALUES (1, 2)")), 1235);
    assert_eq!(code(planned("ALTER TABLE v ADD c INT")), 1347);
    assert_eq!(code(planned("DROP TABLE v")), 1965);
    assert_eq!(code(planned("CREATE TABLE v (id INT)")), 1050);
}

#[test]
fn create_view_is_checked_like_mariadb() {
    assert_eq!(code(changes("CREATE VIEW nv AS SELECT * FROM nope")), 1146);
    assert_eq!(code(changes("CREATE VIEW orders AS SELECT 1")), 1050);
    assert_eq!(code(changes("CREATE VIEW v AS SELECT 1")), 1050);
    assert_eq!(
        code(changes("CREATE OR REPLACE VIEW orders AS SELECT 1")),
        1347
    );
    assert_eq!(code(changes("ALTER VIEW nope AS SELECT 1")), 1146);
    assert_eq!(
        code(changes(
            "CREATE VIEW nv (a) AS SELECT id, amount FROM orders"
        )),
        1353
    );
    assert_eq!(
        code(changes("CREATE VIEW nv (a, b) AS SELECT * FROM orders")),
        1353
    );
    assert_eq!(
        code(changes(
            "CREATE VIEW nv AS SELECT id, amount AS id FROM orders"
        )),
        1060
    );
    assert_eq!(
        code(changes(
            "CREATE VIEW nv (a, a) AS SELECT id, amount FROM orders"
        )),
        1060
    );
    assert_eq!(code(changes("CREATE VIEW nv AS SELECT @x")), 1351);
    assert_eq!(
        code(changes("CREATE SQL SECURITY INVOKER VIEW nv AS SELECT 1")),
        1235
    );
    assert_eq!(
        code(changes("CREATE OR REPLACE VIEW v AS SELECT id FROM v2")),
        1462
    );
    assert_eq!(code(changes("ALTER VIEW v AS SELECT * FROM shop.v")), 1462);
    assert!(changes("CREATE VIEW IF NOT EXISTS v AS SELECT 1").is_ok_and(|c| c.is_empty()));
}

#[test]
fn create_view_records_the_select_as_written_or_with_the_column_list_as_aliases() {
    let created = |sql: &str| match changes(sql) {
        Ok(mut c) if c.len() == 1 => match c.remove(0) {
            CatalogChange::CreateView { db, name, view, .. } => (db, name, *view),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let (db, name, v) = created(
        "CREATE ALGORITHM = MERGE DEFINER = CURRENT_USER SQL SECURITY DEFINER VIEW nv AS \
         SELECT id,  amount FROM orders WHERE id > 3 WITH LOCAL CHECK OPTION;",
    );
    assert_eq!((db.as_str(), name.as_str()), ("shop", "nv"));
    assert_eq!(v.select, "SELECT id,  amount FROM orders WHERE id > 3");
    assert_eq!(v.algorithm, "MERGE");
    assert_eq!(v.check_option.as_deref(), Some("LOCAL"));
    let (_, _, v) = created("CREATE VIEW shop.nv (a, b, c) AS SELECT * FROM orders");
    assert_eq!(
        v.select,
        "SELECT `orders`.`id` AS `a`, `orders`.`customer` AS `b`, `orders`.`amount` AS `c` FROM orders"
    );
    let (_, _, v) = created("CREATE OR REPLACE VIEW v2 (x) AS SELECT id + 1 FROM v");
    assert_eq!(v.select, "SELECT id + 1 AS `x` FROM v");
    let (_, name, _) = created("ALTER VIEW v AS SELECT 1");
    assert_eq!(name, "v");
}

#[test]
fn drop_view_lists_every_view() {
    let dropped: Vec<(String, bool)> = changes("DROP VIEW IF EXISTS v, shop.nope")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| match c {
            CatalogChange::DropView {
                name, if_exists, ..
            } => Some((name, if_exists)),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, vec![("v".into(), true), ("nope".into(), true)]);
}
