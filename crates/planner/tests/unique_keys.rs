//! Unique keys and the sharding column: each data node enforces a PRIMARY KEY or UNIQUE
//! key over its own rows only, so on a table spread over several nodes every such key
//! must contain the column that places rows (MySQL's error 1503 otherwise), and a plain
//! CREATE TABLE is sharded on a column every key contains, or kept on one node.

mod common;

use common::{catalog, ctx, dn};
use strata_catalog::sharding::{Distribution, KeyType, ShardingRule};
use strata_catalog::{DataNodeId, UniqueKey};
use strata_planner::{plan_statement, CatalogChange, MemoryCatalog, PlanError, Planned, TableInfo};

fn test_catalog() -> MemoryCatalog {
    let mut c = catalog();
    c.add_database_with_defaults("solo", &[dn(1), dn(2), dn(3), dn(4)], &[dn(3)]);
    // rm is sharded on k with PRIMARY KEY (id, k); one_node is sharded over one node.
    let auto_mod =
        |nodes: Vec<u32>| ShardingRule::auto_mod(DataNodeId::from_numbers(&nodes)).expect("rule");
    let int = KeyType::Integer {
        unsigned: false,
        bytes: None,
    };
    c.add_table(
        "shop",
        "rm",
        TableInfo::new(
            Distribution::sharded("k", int.clone(), auto_mod(vec![1, 2, 3, 4])).expect("dist"),
        )
        .with_columns(&["id", "k", "s"]),
    );
    c.add_table(
        "shop",
        "one_node",
        TableInfo::new(Distribution::sharded("k", int, auto_mod(vec![2])).expect("dist")),
    );
    c
}

fn run(sql: &str) -> Result<Planned, PlanError> {
    plan_statement(sql, &ctx(), &test_catalog())
}

/// The message `sql` is refused with (empty when it is planned).
fn refusal_message(sql: &str) -> String {
    run(sql).err().map(|e| e.to_string()).unwrap_or_default()
}

/// The refusal's key and sharding column, or a panic naming what happened instead.
fn refused(sql: &str) -> (String, String) {
    match run(sql) {
        Err(e @ PlanError::UniqueKeyWithoutShardingColumn { .. }) => {
            assert_eq!((e.code(), e.sqlstate()), (1503, "HY000"), "{sql}");
            let PlanError::UniqueKeyWithoutShardingColumn { key, column, .. } = e else {
                unreachable!()
            };
            (key.describe(), column)
        }
        other => panic!("{sql}: expected error 1503, got {other:?}"),
    }
}

fn accepted(sql: &str) -> Planned {
    run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn created(planned: &Planned) -> &TableInfo {
    match planned.catalog_changes.as_slice() {
        // On several nodes its collations are read next.
        [CatalogChange::CreateTable { table, .. }]
        | [CatalogChange::CreateTable { table, .. }, CatalogChange::ReadColumnCollations { .. }] => {
            table
        }
        other => panic!("expected one created table, got {other:?}"),
    }
}

const SHARD_K: &str = "SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '1-4'";

#[test]
fn create_table_refuses_keys_without_the_sharding_column() {
    let cases = [
        (
            "CREATE TABLE t (id INT PRIMARY KEY, k INT, s VARCHAR(10))",
            "PRIMARY KEY (id)",
        ),
        ("CREATE TABLE t (id INT, k INT, PRIMARY KEY (id))", "PRIMARY KEY (id)"),
        (
            "CREATE TABLE t (id INT, k INT, email VARCHAR(50) UNIQUE, PRIMARY KEY (id, k))",
            "UNIQUE KEY email (email)",
        ),
        (
            "CREATE TABLE t (id INT, k INT, a INT, b INT, PRIMARY KEY (k, id), UNIQUE KEY uk_ab (a, b))",
            "UNIQUE KEY uk_ab (a, b)",
        ),
        (
            "CREATE TABLE t (id INT, k INT, a INT, PRIMARY KEY (k), UNIQUE INDEX (a))",
            "UNIQUE KEY a (a)",
        ),
        (
            "CREATE TABLE t (id INT, k INT, a INT, PRIMARY KEY (k), CONSTRAINT c_a UNIQUE (a, id))",
            "UNIQUE KEY c_a (a, id)",
        ),
        // A prefix of the sharding column is not the column: equal prefixes can sit on
        // different nodes.
        (
            "CREATE TABLE t (id INT, k VARCHAR(20), PRIMARY KEY (id, k(3)))",
            "PRIMARY KEY (id, k(3))",
        ),
    ];
    for (columns, key) in cases {
        let sql = format!("{columns} {SHARD_K}");
        let sql = if sql.contains("VARCHAR(20)") {
            sql.replace("'auto_mod'", "'auto_crc32'")
        } else {
            sql
        };
        assert_eq!(refused(&sql), (key.to_string(), "k".to_string()), "{sql}");
    }
}

#[test]
fn the_message_names_the_key_the_column_and_the_ways_out() {
    let err = refusal_message(&format!(
        "CREATE TABLE rm2 (id INT PRIMARY KEY, k INT, s VARCHAR(10)) {SHARD_K}"
    ));
    assert_eq!(
        err,
        "A PRIMARY KEY must include all columns in the table's partitioning function: \
         PRIMARY KEY (id) of table 'rm2' does not contain the sharding column 'k'. \
         Include 'k' in the key, or shard the table by a column of the key \
         (a unique constraint enforced across data nodes is not available yet)"
    );
    let err = refusal_message(&format!(
        "CREATE TABLE u (id INT, k INT, email VARCHAR(50), PRIMARY KEY (id, k), UNIQUE KEY uk_email (email)) {SHARD_K}"
    ));
    assert!(
        err.starts_with("A UNIQUE INDEX must include all columns in the table's partitioning function: UNIQUE KEY uk_email (email) of table 'u'"),
        "{err}"
    );
}

#[test]
fn create_table_accepts_keys_that_contain_the_sharding_column() {
    let cases = [
        "CREATE TABLE t (id INT, k INT, s VARCHAR(10), PRIMARY KEY (id, k))",
        "CREATE TABLE t (id INT, k INT PRIMARY KEY)",
        // In another position, in another letter case, quoted.
        "CREATE TABLE t (id INT, `K` INT, a INT, PRIMARY KEY (`id`, `K`), UNIQUE KEY uk (a, K))",
        "CREATE TABLE t (`Id` INT, k INT, UNIQUE (`k`), CONSTRAINT c UNIQUE (k, `Id`))",
        // No keys at all.
        "CREATE TABLE t (id INT, k INT)",
        // A plain index does not need the column.
        "CREATE TABLE t (id INT, k INT, PRIMARY KEY (id, k), KEY by_id (id))",
    ];
    for columns in cases {
        let planned = accepted(&format!("{columns} {SHARD_K}"));
        assert!(
            matches!(created(&planned).distribution, Distribution::Sharded { .. }),
            "{columns}"
        );
    }
}

#[test]
fn the_clause_column_is_matched_whatever_its_letter_case() {
    accepted(
        "CREATE TABLE t (id INT, Kx INT, PRIMARY KEY (id, KX)) SHARD BY functiontype 'auto_mod' USING COLUMN 'kX' ON DATANODE '1-4'",
    );
    let (key, column) = refused(
        "CREATE TABLE t (id INT, Kx INT, PRIMARY KEY (id)) SHARD BY functiontype 'auto_mod' USING COLUMN 'kX' ON DATANODE '1-4'",
    );
    assert_eq!((key.as_str(), column.as_str()), ("PRIMARY KEY (id)", "Kx"));
}

#[test]
fn tables_not_spread_over_several_nodes_keep_any_key() {
    let cases = [
        "CREATE TABLE t (id INT PRIMARY KEY, k INT) SHARD BY GLOBAL",
        "CREATE TABLE t (id INT PRIMARY KEY, k INT) SHARD BY VERTICAL ON DATANODE '2'",
        "CREATE TABLE t (id INT PRIMARY KEY, k INT) SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '3'",
        // A plain table in a database with one default node is vertical.
        "CREATE TABLE solo.t (id INT PRIMARY KEY, email VARCHAR(50) UNIQUE)",
    ];
    for sql in cases {
        accepted(sql);
    }
}

#[test]
fn child_tables_need_their_joining_column_in_every_key() {
    let (key, column) = refused(
        "CREATE TABLE lines (line_id INT PRIMARY KEY, oid INT) SHARD BY CHILD OF orders(id) USING COLUMN 'oid'",
    );
    assert_eq!(
        (key.as_str(), column.as_str()),
        ("PRIMARY KEY (line_id)", "oid")
    );
    accepted(
        "CREATE TABLE lines (line_id INT, OID INT, PRIMARY KEY (line_id, oid)) SHARD BY CHILD OF orders(id) USING COLUMN 'oid'",
    );
    // A child of a table on one node is on one node.
    accepted(
        "CREATE TABLE one_lines (x INT PRIMARY KEY, p INT) SHARD BY CHILD OF one_node(k) USING COLUMN 'p'",
    );
}

#[test]
fn a_declared_sharded_table_is_checked_like_a_clause() {
    let mut c = test_catalog();
    c.declare_table(
        "shop",
        "decl",
        Distribution::sharded(
            "k",
            KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            ShardingRule::auto_crc32(vec![dn(1), dn(2)]).expect("rule"),
        )
        .expect("dist"),
    );
    let err = plan_statement("CREATE TABLE decl (id INT PRIMARY KEY, k INT)", &ctx(), &c);
    assert_eq!(err.err().map(|e| e.code()), Some(1503));
    assert!(plan_statement(
        "CREATE TABLE decl (id INT, k INT, PRIMARY KEY (k, id))",
        &ctx(),
        &c
    )
    .is_ok());
}

#[test]
fn created_tables_record_their_keys() {
    let planned = accepted(
        "CREATE TABLE t (id INT, k INT, a INT, PRIMARY KEY (id, k), UNIQUE KEY uk (k, a)) SHARD BY functiontype 'auto_mod' USING COLUMN 'k' ON DATANODE '1-4'",
    );
    let key = |name: &str, columns: &[&str]| UniqueKey {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
    };
    assert_eq!(
        created(&planned).unique_keys,
        Some(vec![key("PRIMARY", &["id", "k"]), key("uk", &["k", "a"])])
    );
}

#[test]
fn alter_table_refuses_new_keys_without_the_sharding_column() {
    let refusals = [
        ("ALTER TABLE rm ADD PRIMARY KEY (id)", "PRIMARY KEY (id)"),
        ("ALTER TABLE rm ADD UNIQUE (s)", "UNIQUE KEY s (s)"),
        (
            "ALTER TABLE rm ADD UNIQUE KEY uk_s (s, id)",
            "UNIQUE KEY uk_s (s, id)",
        ),
        (
            "ALTER TABLE rm ADD CONSTRAINT c_s UNIQUE (s)",
            "UNIQUE KEY c_s (s)",
        ),
        (
            "ALTER TABLE rm MODIFY s VARCHAR(10) UNIQUE",
            "UNIQUE KEY s (s)",
        ),
        (
            "ALTER TABLE rm CHANGE s s2 VARCHAR(10) UNIQUE",
            "UNIQUE KEY s2 (s2)",
        ),
        (
            "ALTER TABLE rm MODIFY id INT PRIMARY KEY",
            "PRIMARY KEY (id)",
        ),
        ("ALTER TABLE rm ADD COLUMN e INT UNIQUE", "UNIQUE KEY e (e)"),
        // The first operation is fine, the second is not: nothing runs.
        (
            "ALTER TABLE rm ADD INDEX by_s (s), ADD UNIQUE uk (id)",
            "UNIQUE KEY uk (id)",
        ),
        ("CREATE UNIQUE INDEX uk_s ON rm (s)", "UNIQUE KEY uk_s (s)"),
        (
            "CREATE UNIQUE INDEX uk_ids ON rm (id, s)",
            "UNIQUE KEY uk_ids (id, s)",
        ),
        // Children: the joining column.
        (
            "CREATE UNIQUE INDEX uk_item ON items (item_id)",
            "UNIQUE KEY uk_item (item_id)",
        ),
    ];
    for (sql, key) in refusals {
        let (got, _) = refused(sql);
        assert_eq!(got, key, "{sql}");
    }
    let accepted_cases = [
        "ALTER TABLE rm ADD PRIMARY KEY (id, k)",
        "ALTER TABLE rm ADD UNIQUE KEY uk (s, `K`)",
        "ALTER TABLE rm ADD CONSTRAINT c UNIQUE (K, s)",
        "ALTER TABLE rm MODIFY k INT UNIQUE",
        "ALTER TABLE rm ADD INDEX by_s (s)",
        "ALTER TABLE rm ADD COLUMN e INT",
        "CREATE UNIQUE INDEX uk ON rm (s, k)",
        "CREATE INDEX by_s ON rm (s)",
        "CREATE UNIQUE INDEX uk_item ON items (order_id, item_id)",
        // Tables on one node or copied whole keep any key.
        "ALTER TABLE one_node ADD UNIQUE (id)",
        "ALTER TABLE region ADD UNIQUE (name)",
        "CREATE UNIQUE INDEX uk ON audit (x)",
    ];
    for sql in accepted_cases {
        accepted(sql);
    }
}

#[test]
fn a_plain_table_is_sharded_on_a_column_of_every_key() {
    let cases = [
        ("CREATE TABLE p (id INT PRIMARY KEY, n INT)", "id"),
        (
            "CREATE TABLE p (a INT, b INT, c INT, PRIMARY KEY (a, b), UNIQUE KEY (c, b))",
            "b",
        ),
        (
            "CREATE TABLE p (a INT, s VARCHAR(9), UNIQUE KEY (s, a), UNIQUE KEY (a))",
            "a",
        ),
        // No keys: the first integer column, as before.
        ("CREATE TABLE p (s VARCHAR(9), n INT)", "n"),
    ];
    for (sql, column) in cases {
        let planned = accepted(sql);
        match &created(&planned).distribution {
            Distribution::Sharded { column: c, .. } => assert_eq!(c, column, "{sql}"),
            other => panic!("{sql}: {other:?}"),
        }
        assert!(planned.notes.is_empty(), "{sql}");
    }
}

#[test]
fn a_plain_table_whose_keys_share_no_column_stays_on_one_node_with_a_note() {
    let cases = [
        "CREATE TABLE p (id INT PRIMARY KEY, email VARCHAR(50) UNIQUE)",
        "CREATE TABLE p (a INT, b INT, UNIQUE KEY (a), UNIQUE KEY (b))",
        // The only column of every key cannot be a sharding key.
        "CREATE TABLE p (f DOUBLE PRIMARY KEY, n INT)",
    ];
    for sql in cases {
        let planned = accepted(sql);
        assert_eq!(
            created(&planned).distribution,
            Distribution::Vertical { dnid: dn(1) },
            "{sql}"
        );
        assert_eq!(planned.plan, common::single(1, sql), "{sql}");
        assert_eq!(planned.notes.len(), 1, "{sql}");
        assert!(
            planned.notes[0].starts_with("table 'p' is placed on data node 1 only"),
            "{}",
            planned.notes[0]
        );
    }
}

#[test]
fn alter_and_index_changes_forget_recorded_keys() {
    let mut c = test_catalog();
    let mut info = TableInfo::new(Distribution::Vertical { dnid: dn(2) });
    info.unique_keys = Some(Vec::new());
    c.add_table("shop", "known", info);
    for sql in [
        "ALTER TABLE known DROP PRIMARY KEY",
        "CREATE UNIQUE INDEX u ON known (x)",
        "DROP INDEX u ON known",
    ] {
        let planned = plan_statement(sql, &ctx(), &c).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(
            planned.catalog_changes,
            [CatalogChange::ForgetUniqueKeys {
                db: "shop".into(),
                name: "known".into()
            }],
            "{sql}"
        );
    }
}
