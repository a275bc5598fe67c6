//! The collations a merge compares strings under: each per-node column that is a table
//! column (or MIN/MAX of one) gets the collation the catalog recorded for it, and the
//! columns whose collation a merge cannot assume are listed.

use strata_catalog::sharding::{Distribution, KeyType, ShardingRule};
use strata_catalog::DataNodeId;
use strata_planner::{plan_statement, MemoryCatalog, Plan, PlanContext, QueryPlan, TableInfo};

/// `t (id, s latin1_swedish_ci, u utf8mb4_unicode_ci, g utf8mb4_general_ci)` over 1-4,
/// and `old (id, s)` whose collations were never read (its CREATE TABLE named latin1 for
/// `s`).
fn catalog() -> MemoryCatalog {
    let sharded = || Distribution::Sharded {
        column: "id".into(),
        key_type: KeyType::Integer {
            unsigned: false,
            bytes: None,
        },
        rule: ShardingRule::auto_crc32(DataNodeId::from_numbers(&[1, 2, 3, 4])).expect("rule"),
    };
    let mut c = MemoryCatalog::new();
    c.add_database("shop", &DataNodeId::from_numbers(&[1, 2, 3, 4]));
    let mut t = TableInfo::new(sharded()).with_columns(&["id", "s", "u", "g"]);
    t.column_collations = Some(
        [
            ("s", "latin1_swedish_ci"),
            ("u", "utf8mb4_unicode_ci"),
            ("g", "utf8mb4_general_ci"),
        ]
        .into_iter()
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect(),
    );
    c.add_table("shop", "t", t);
    let mut old = TableInfo::new(sharded()).with_columns(&["id", "s"]);
    old.other_collation_columns = vec!["s".into()];
    c.add_table("shop", "old", old);
    c
}

fn query(sql: &str) -> QueryPlan {
    match plan_statement(sql, &PlanContext::new(Some("shop")), &catalog()) {
        Ok(planned) => match planned.plan {
            Plan::Query(q) => q,
            other => panic!("{sql}: expected a merge, got {other:?}"),
        },
        Err(e) => panic!("{sql}: {e}"),
    }
}

const LATIN1_SWEDISH_CI: u16 = 8;
const UTF8MB4_UNICODE_CI: u16 = 224;
const UTF8MB4_GENERAL_CI: u16 = 45;

#[test]
fn columns_and_their_min_max_get_the_recorded_collation() {
    let cases: &[(&str, &[Option<u16>])] = &[
        ("SELECT s FROM t ORDER BY s", &[Some(LATIN1_SWEDISH_CI)]),
        (
            "SELECT id, t.u FROM t ORDER BY 2",
            &[None, Some(UTF8MB4_UNICODE_CI)],
        ),
        (
            "SELECT MAX(s), MIN(u) FROM t",
            &[Some(LATIN1_SWEDISH_CI), Some(UTF8MB4_UNICODE_CI)],
        ),
        (
            "SELECT x.g FROM t AS x ORDER BY x.g",
            &[Some(UTF8MB4_GENERAL_CI)],
        ),
        (
            "SELECT * FROM t ORDER BY u",
            // Per node `SELECT u, t.* FROM t ORDER BY 1`.
            &[
                Some(UTF8MB4_UNICODE_CI),
                None,
                Some(LATIN1_SWEDISH_CI),
                Some(UTF8MB4_UNICODE_CI),
                Some(UTF8MB4_GENERAL_CI),
            ],
        ),
        // Expressions are not traced to a column; nothing known is left off.
        ("SELECT UPPER(s) FROM t ORDER BY 1", &[]),
        ("SELECT s FROM old ORDER BY s", &[]),
    ];
    for (sql, expected) in cases {
        assert_eq!(&query(sql).collations[..], *expected, "{sql}");
    }
}

#[test]
fn columns_of_other_collations_are_listed_from_the_record_or_the_create_text() {
    assert_eq!(
        query("SELECT s FROM t ORDER BY s").other_collation_columns,
        ["s", "u"]
    );
    assert_eq!(
        query("SELECT s FROM old ORDER BY s").other_collation_columns,
        ["s"]
    );
}
