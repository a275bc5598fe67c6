//! Where sequence statements run in a database over data nodes 1-4 (`audit` vertical
//! on 2, `orders` sharded over 1-4, `s` a sequence on 1, `s2` one on 3).

use strata_catalog::sharding::{Distribution, KeyType, ShardingRule};
use strata_catalog::DataNodeId;

use super::*;
use crate::memory_catalog::MemoryCatalog;

fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

fn sequence_on(n: u32) -> TableInfo {
    let mut t = TableInfo::new(Distribution::Vertical { dnid: dn(n) });
    t.sequence = true;
    t
}

fn catalog() -> MemoryCatalog {
    let nodes = [dn(1), dn(2), dn(3), dn(4)];
    let mut c = MemoryCatalog::new();
    c.add_database("shop", &nodes);
    c.add_table(
        "shop",
        "orders",
        TableInfo::new(Distribution::Sharded {
            column: "id".into(),
            key_type: KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            rule: ShardingRule::auto_mod(nodes.to_vec()).unwrap_or_else(|e| panic!("{e}")),
        })
        .with_columns(&["id", "v"]),
    );
    c.add_table(
        "shop",
        "audit",
        TableInfo::new(Distribution::Vertical { dnid: dn(2) }),
    );
    c.add_table(
        "shop",
        "local",
        TableInfo::new(Distribution::Vertical { dnid: dn(1) }),
    );
    c.add_table("shop", "s", sequence_on(1));
    c.add_table("shop", "s2", sequence_on(3));
    c
}

fn planned(sql: &str) -> Result<Planned, PlanError> {
    let c = catalog();
    let mut ctx = PlanContext::new(Some("shop"));
    ctx.home_node = Some(dn(4));
    crate::plan_statement(sql, &ctx, &c)
}

/// The node a statement is routed to whole, with its text.
fn route(sql: &str) -> Option<(u32, String)> {
    match planned(sql).ok()?.plan {
        Plan::Route(r) => Some((r.dnid.get(), r.sql)),
        _ => None,
    }
}

fn refused(sql: &str) -> Option<String> {
    match planned(sql) {
        Err(e) if e.code() == 1235 => Some(e.to_string()),
        _ => None,
    }
}

#[test]
fn a_new_sequence_goes_to_the_first_default_node_and_is_recorded() {
    let p =
        planned("CREATE SEQUENCE n START WITH 10 INCREMENT BY 2").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&p.plan, Plan::Route(r) if r.dnid == dn(1)));
    match &p.catalog_changes[..] {
        [CatalogChange::CreateTable { db, name, table }] => {
            assert_eq!((db.as_str(), name.as_str()), ("shop", "n"));
            assert!(table.sequence);
            assert_eq!(table.distribution, Distribution::Vertical { dnid: dn(1) });
        }
        other => panic!("{other:?}"),
    }
    let p = planned("CREATE SEQUENCE IF NOT EXISTS s2").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&p.plan, Plan::Route(r) if r.dnid == dn(3)));
    assert!(p.catalog_changes.is_empty());
    let p = planned("create or replace sequence s2 cycle").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(&p.plan, Plan::Route(r) if r.dnid == dn(3)));
    assert_eq!(p.catalog_changes.len(), 1);
    assert_eq!(
        planned("CREATE SEQUENCE s")
            .map(|_| ())
            .map_err(|e| e.code()),
        Err(1050)
    );
    assert_eq!(
        planned("CREATE SEQUENCE orders")
            .map(|_| ())
            .map_err(|e| e.code()),
        Err(1050)
    );
    assert!(refused("CREATE OR REPLACE SEQUENCE orders").is_some());
    assert!(refused("CREATE TEMPORARY SEQUENCE t").is_some());
}

#[test]
fn sequence_statements_go_to_the_sequences_node() {
    assert_eq!(
        route("ALTER SEQUENCE s2 RESTART 5"),
        Some((3, "ALTER SEQUENCE s2 RESTART 5".into()))
    );
    assert_eq!(route("SHOW CREATE SEQUENCE shop.s2").map(|r| r.0), Some(3));
    // Unknown names: the database's first node answers (4091, or a note).
    assert_eq!(
        route("ALTER SEQUENCE IF EXISTS nope RESTART 5").map(|r| r.0),
        Some(1)
    );
    assert_eq!(route("DROP SEQUENCE nope").map(|r| r.0), Some(1));
    let p = planned("DROP SEQUENCE IF EXISTS s, s2, nope").unwrap_or_else(|e| panic!("{e}"));
    let parts: Vec<(u32, String)> = p
        .plan
        .node_statements()
        .into_iter()
        .map(|(d, s)| (d.get(), s.to_string()))
        .collect();
    assert_eq!(
        parts,
        [
            (1, "DROP SEQUENCE IF EXISTS s, nope".to_string()),
            (3, "DROP SEQUENCE IF EXISTS s2".to_string())
        ]
    );
    assert_eq!(p.catalog_changes.len(), 2);
    assert!(refused("DROP SEQUENCE s, orders").is_some());
    assert!(refused("DROP TEMPORARY SEQUENCE s").is_some());
}

#[test]
fn values_are_taken_where_the_sequence_is() {
    for sql in [
        "SELECT NEXTVAL(s)",
        "SELECT next value for shop.s, PREVIOUS VALUE FOR `s`",
        "SELECT LASTVAL(s), SETVAL(s, 10, 0)",
        "SELECT NEXTVAL(s) FROM local",
        "INSERT INTO local VALUES (NEXTVAL(s))",
        "SELECT * FROM s",
        "SELECT NEXT VALUE FOR s, seq FROM seq_1_to_20",
        "SELECT COUNT(NEXTVAL(s)) FROM seq_1_to_2000_step_3",
    ] {
        assert_eq!(route(sql), Some((1, sql.to_string())), "{sql}");
    }
    assert_eq!(route("SELECT NEXTVAL(s2)").map(|r| r.0), Some(3));
    // An unknown sequence: the database's first node answers 1146.
    assert_eq!(route("SELECT NEXTVAL(nope)").map(|r| r.0), Some(1));
}

#[test]
fn per_row_values_over_other_nodes_are_refused() {
    for sql in [
        "SELECT NEXTVAL(s), id FROM orders",
        "SELECT NEXTVAL(s) FROM audit",
        "UPDATE orders SET v = NEXTVAL(s)",
        "INSERT INTO orders SELECT NEXTVAL(s), v FROM audit",
        "INSERT INTO orders VALUES (1, 2) ON DUPLICATE KEY UPDATE v = NEXTVAL(s)",
        "SELECT NEXTVAL(s), NEXTVAL(s2)",
        // Taken by the server before planning; a prepared execution cannot.
        "INSERT INTO orders VALUES (NEXTVAL(s), 1)",
    ] {
        assert!(refused(sql).is_some(), "{sql}");
    }
    assert!(refused("CREATE TABLE t (id INT DEFAULT NEXTVAL(s), v INT)").is_some());
    assert!(refused("ALTER TABLE orders MODIFY v INT DEFAULT (NEXTVAL(s))").is_some());
    assert!(refused("SELECT NEXTVAL(s) FROM seq_1_to_x").is_none());
}

#[test]
fn an_insert_over_other_nodes_takes_its_values_first_in_text_order() {
    let c = catalog();
    let ctx = PlanContext::new(Some("shop"));
    let sql = "INSERT INTO orders (v, id) VALUES (NEXTVAL(s), NEXT VALUE FOR s), (LASTVAL(s), 7)";
    let draw = sequence_draw(sql, &ctx, &c)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no draw"));
    assert_eq!(draw.dnid, dn(1));
    assert_eq!(
        draw.query,
        "SELECT NEXTVAL(s), NEXT VALUE FOR s, LASTVAL(s)"
    );
    let values = [Some("5".to_string()), Some("6".into()), None];
    assert_eq!(
        draw.statement(&values).ok().as_deref(),
        Some("INSERT INTO orders (v, id) VALUES (5, 6), (NULL, 7)")
    );
    assert!(draw.statement(&values[..2]).is_err());
    let set = sequence_draw("INSERT INTO orders SET id = NEXTVAL(s), v = 1", &ctx, &c);
    assert!(matches!(set, Ok(Some(_))));
    for no_draw in [
        "SELECT NEXTVAL(s)",
        "INSERT INTO local VALUES (NEXTVAL(s))",
        "SELECT 1",
    ] {
        assert!(
            matches!(sequence_draw(no_draw, &ctx, &c), Ok(None)),
            "{no_draw}"
        );
    }
}

#[test]
fn a_create_table_with_sequence_option_makes_a_sequence() {
    assert!(creates_sequence_table(
        "CREATE TABLE s1 (next_not_cached_value bigint not null) sequence=1"
    ));
    assert!(!creates_sequence_table(
        "CREATE TABLE sequence (a INT) SEQUENCE=0"
    ));
    assert!(!creates_sequence_table("CREATE TABLE t (sequence INT)"));
    assert!(creates_sequence_table(
        "CREATE TABLE sequence (a INT) ENGINE=InnoDB SEQUENCE = 1"
    ));
}
