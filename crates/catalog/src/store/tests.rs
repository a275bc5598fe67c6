use std::collections::HashSet;
use std::sync::Arc;

use super::*;
use crate::config::RwSplit;

fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

fn open(dir: &Path) -> MetadataStore {
    MetadataStore::open(dir).unwrap_or_else(|e| panic!("open: {e}"))
}

fn db_meta(nodes: &[u32]) -> DatabaseMeta {
    DatabaseMeta {
        data_nodes: nodes.iter().copied().map(dn).collect(),
        default_data_nodes: None,
        created_at_ms: 1_700_000_000_000,
        physical: None,
        rw_split: RwSplit::Off,
    }
}

fn table_meta(kind: TableKind, nodes: &[u32]) -> TableInfo {
    let nodes: Vec<DataNodeId> = nodes.iter().copied().map(dn).collect();
    let distribution = match kind {
        TableKind::Vertical => Distribution::Vertical { dnid: nodes[0] },
        TableKind::Global => Distribution::Global {
            data_nodes: nodes.to_vec(),
        },
        TableKind::Sharded => Distribution::Sharded {
            column: "id".into(),
            key_type: KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            rule: ShardingRule::auto_crc32(nodes.to_vec()).unwrap_or_else(|e| panic!("{e}")),
        },
        TableKind::Child => Distribution::Child {
            parent: "orders".into(),
            parent_column: "id".into(),
            column: "order_id".into(),
        },
    };
    TableInfo {
        created_at_ms: 1_700_000_000_001,
        ..TableInfo::new(distribution)
    }
}

#[test]
fn records_survive_reopen() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    {
        let store = open(dir.path());
        let mut shop = db_meta(&[1, 2]);
        shop.default_data_nodes = Some(vec![dn(2)]);
        shop.rw_split = RwSplit::Replicas;
        store.put_database("shop", &shop)?;
        store.put_database("crm", &db_meta(&[3]))?;
        store.put_table("shop", "orders", &table_meta(TableKind::Sharded, &[1, 2]))?;
        store.put_table("shop", "customers", &table_meta(TableKind::Global, &[1, 2]))?;
        store.put_table("crm", "leads", &table_meta(TableKind::Vertical, &[3]))?;
    }
    let store = open(dir.path());
    let dbs = store.list_databases()?;
    let names: Vec<_> = dbs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["crm", "shop"]);
    assert_eq!(dbs[1].1.default_data_nodes, Some(vec![dn(2)]));
    assert_eq!(dbs[1].1.rw_split, RwSplit::Replicas);
    assert_eq!(store.database("crm")?, Some(db_meta(&[3])));
    let tables = store.list_tables("shop")?;
    assert_eq!(
        tables,
        [
            (
                "customers".to_string(),
                table_meta(TableKind::Global, &[1, 2])
            ),
            (
                "orders".to_string(),
                table_meta(TableKind::Sharded, &[1, 2])
            ),
        ]
    );
    assert_eq!(
        store.table("crm", "leads")?,
        Some(table_meta(TableKind::Vertical, &[3]))
    );
    assert_eq!(store.table("crm", "nope")?, None);
    Ok(())
}

#[test]
fn list_tables_is_limited_to_its_database() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    for (db, table) in [("a", "t"), ("ab", "t"), ("b", "t"), ("a", "u"), ("", "x")] {
        store.put_table(db, table, &table_meta(TableKind::Vertical, &[1]))?;
    }
    let names = |db| -> Result<Vec<String>, CatalogError> {
        Ok(store.list_tables(db)?.into_iter().map(|(n, _)| n).collect())
    };
    assert_eq!(names("a")?, ["t", "u"]);
    assert_eq!(names("ab")?, ["t"]);
    assert_eq!(names("")?, ["x"]);
    assert!(names("c")?.is_empty());
    Ok(())
}

#[test]
fn drops_remove_records_and_report_whether_they_existed() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    store.put_database("shop", &db_meta(&[1]))?;
    store.put_database("shop2", &db_meta(&[2]))?;
    store.put_table("shop", "a", &table_meta(TableKind::Vertical, &[1]))?;
    store.put_table("shop", "b", &table_meta(TableKind::Vertical, &[1]))?;
    store.put_table("shop2", "a", &table_meta(TableKind::Vertical, &[2]))?;
    assert!(store.drop_table("shop", "a")?);
    assert!(!store.drop_table("shop", "a")?);
    assert!(store.drop_database("shop")?);
    assert!(!store.drop_database("shop")?);
    assert!(store.list_tables("shop")?.is_empty());
    assert_eq!(store.list_tables("shop2")?.len(), 1);
    assert_eq!(store.list_databases()?.len(), 1);
    Ok(())
}

#[test]
fn reserve_batch_hands_out_consecutive_ranges_that_never_repeat_across_reopen(
) -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    {
        let store = open(dir.path());
        assert_eq!(store.reserve_batch("shop.orders", 100)?, 1..101);
        assert_eq!(store.reserve_batch("shop.orders", 10)?, 101..111);
        assert_eq!(store.reserve_batch("other", 5)?, 1..6);
        assert_eq!(store.reserve_batch("other", 0)?, 6..6);
    }
    // Reopening is what a crash looks like: unused values of a batch are skipped.
    let store = open(dir.path());
    assert_eq!(store.reserve_batch("shop.orders", 1)?, 111..112);
    assert_eq!(store.reserve_batch("other", 1)?, 6..7);
    Ok(())
}

#[test]
fn concurrent_reservations_are_disjoint() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = Arc::new(open(dir.path()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || -> Result<Vec<Range<u64>>, CatalogError> {
                (0..25).map(|_| store.reserve_batch("seq", 7)).collect()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for t in threads {
        let ranges = t
            .join()
            .map_err(|_| CatalogError::Invalid("thread panicked".into()))??;
        for value in ranges.into_iter().flatten() {
            assert!(seen.insert(value), "value {value} handed out twice");
        }
    }
    assert_eq!(seen.len(), 4 * 25 * 7);
    assert_eq!(seen.iter().max(), Some(&(4 * 25 * 7)));
    Ok(())
}

#[test]
fn every_distribution_round_trips_through_a_record() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    let rule = |f: &str, p: &str, nodes: Vec<u32>, null: Option<u32>| {
        ShardingRule::from_spec(f, p, nodes.into_iter().map(dn).collect(), null.map(dn))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let sharded = |key_type: KeyType, rule: ShardingRule| Distribution::Sharded {
        column: "k".into(),
        key_type,
        rule,
    };
    let distributions = vec![
        table_meta(TableKind::Vertical, &[3]).distribution,
        table_meta(TableKind::Global, &[2, 1]).distribution,
        table_meta(TableKind::Child, &[]).distribution,
        sharded(
            KeyType::Integer {
                unsigned: true,
                bytes: None,
            },
            rule("auto_crc32", "", vec![4, 2, 3], Some(3)).with_name("r_orders"),
        ),
        sharded(
            KeyType::Decimal {
                scale: 2,
                precision: None,
                unsigned: false,
            },
            rule("range", "1:10=1, 11:20=2, below=1", vec![], None),
        ),
        sharded(
            KeyType::String {
                collation: "latin1_swedish_ci".into(),
                length: None,
            },
            rule("match", "a=1, \"b,c\"=2, \"\"=1", vec![], Some(2)),
        ),
        sharded(
            KeyType::Temporal {
                kind: "date".into(),
            },
            rule("crc32_mod", "modulus=3; 0:1=1, 2=2", vec![1, 2, 3], None),
        ),
        sharded(
            KeyType::Binary { length: None },
            rule("simple_mod", "modulus=2; 0=5, 1=6", vec![], None),
        ),
    ];
    for (i, distribution) in distributions.into_iter().enumerate() {
        let meta = TableInfo {
            auto_increment_column: (i % 2 == 0).then(|| "id".to_string()),
            created_at_ms: 7,
            columns: vec!["id".into(), "v".into()],
            now_default_columns: Vec::new(),
            shard_key_default: [
                None,
                Some(KeyLiteral::Null),
                Some(KeyLiteral::Integer("-7".into())),
                Some(KeyLiteral::Number("1.50".into())),
                Some(KeyLiteral::String(b"a:b\x00".to_vec())),
                Some(KeyLiteral::Bytes(vec![0, 255])),
            ][i % 6]
                .clone(),
            other_collation_columns: if i % 3 == 0 {
                vec!["s".into()]
            } else {
                Vec::new()
            },
            column_collations: (i % 2 == 1).then(|| {
                [("s", "latin1_swedish_ci"), ("t", "utf8mb4_unicode_ci")]
                    .into_iter()
                    .map(|(c, n)| (c.to_string(), n.to_string()))
                    .collect()
            }),
            unique_keys: (i % 4 == 1).then(|| {
                vec![UniqueKey {
                    name: "PRIMARY".into(),
                    columns: vec!["id".into()],
                }]
            }),
            sequence: i % 5 == 2,
            table_collation: (i % 2 == 0).then(|| "latin1_swedish_ci".to_string()),
            ..TableInfo::new(distribution)
        };
        let name = format!("t{i}");
        store.put_table("shop", &name, &meta)?;
        assert_eq!(store.table("shop", &name)?, Some(meta));
    }
    Ok(())
}

#[test]
fn unique_keys_are_stored_and_records_without_them_still_decode() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    let mut meta = table_meta(TableKind::Sharded, &[1, 2]);
    meta.columns = vec!["id".into(), "k".into()];
    meta.unique_keys = Some(vec![
        UniqueKey {
            name: "PRIMARY".into(),
            columns: vec!["id".into(), "k".into()],
        },
        UniqueKey {
            name: "by, comma".into(),
            columns: vec!["k".into(), "s(3)".into()],
        },
    ]);
    store.put_table("shop", "t", &meta)?;
    assert_eq!(store.table("shop", "t")?, Some(meta));
    // A version 2 record written before keys were recorded.
    let old = [
        &[2u8][..],
        b"kind = \"sharded\"\ndata_nodes = [1, 2]\ncreated_at_ms = 5\ncolumn = \"id\"\n\
          key_type = \"INT\"\nfunction = \"auto_crc32\"\nparams = \"\"\n",
    ]
    .concat();
    let decoded = decode_table(&old, "shop.old")?;
    assert_eq!(decoded.unique_keys, None);
    Ok(())
}

#[test]
fn key_types_keep_their_width_and_old_records_load_without_one() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    let widths = [
        KeyType::Integer {
            unsigned: true,
            bytes: Some(1),
        },
        KeyType::Decimal {
            scale: 2,
            precision: Some(5),
            unsigned: true,
        },
        KeyType::String {
            collation: "utf8mb4_bin".into(),
            length: Some(1),
        },
        KeyType::Binary { length: Some(3) },
    ];
    for (i, key_type) in widths.into_iter().enumerate() {
        let mut meta = table_meta(TableKind::Sharded, &[1, 2]);
        if let Distribution::Sharded { key_type: k, .. } = &mut meta.distribution {
            *k = key_type;
        }
        let name = format!("w{i}");
        store.put_table("shop", &name, &meta)?;
        assert_eq!(store.table("shop", &name)?, Some(meta));
    }
    // Records written before widths were kept: their key types load with the width
    // unknown (routing as it did then), whatever column definition they were written as.
    let old = |key_type: &str| {
        [
            &[2u8][..],
            format!(
                "kind = \"sharded\"\ndata_nodes = [1, 2]\ncreated_at_ms = 5\ncolumn = \"k\"\n\
                 key_type = \"{key_type}\"\nfunction = \"auto_crc32\"\nparams = \"\"\n"
            )
            .as_bytes(),
        ]
        .concat()
    };
    let cases = [
        (
            "bigint unsigned",
            KeyType::Integer {
                unsigned: true,
                bytes: None,
            },
        ),
        (
            "decimal(65,2)",
            KeyType::Decimal {
                scale: 2,
                precision: None,
                unsigned: false,
            },
        ),
        (
            "varchar(1) collate latin1_swedish_ci",
            KeyType::String {
                collation: "latin1_swedish_ci".into(),
                length: None,
            },
        ),
        ("varbinary(1)", KeyType::Binary { length: None }),
    ];
    for (text, expected) in cases {
        let decoded = decode_table(&old(text), "shop.old")?;
        match decoded.distribution {
            Distribution::Sharded { key_type, .. } => assert_eq!(key_type, expected, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    Ok(())
}

/// A table record exactly as the encoding before `TableInfo` became the one table
/// model wrote it (format version 2, every optional field set).
const VERSION_2_RECORD: &str = "\u{2}kind = \"sharded\"\ndata_nodes = [1, 2]\n\
    created_at_ms = 1700000000123\nauto_increment_column = \"id\"\ncolumn = \"id\"\n\
    key_type = \"bigint unsigned\"\nrule_name = \"r1\"\nfunction = \"match\"\n\
    params = 'a=1, \"b,c\"=2'\nnull_route = 2\ncolumns = [\"id\", \"s\", \"ts\"]\n\
    now_default_columns = [\"ts\"]\nshard_key_default = \"str:6100\"\n\
    other_collation_columns = [\"s\"]\n\n[[unique_keys]]\nname = \"PRIMARY\"\n\
    columns = [\"id\"]\n";

#[test]
fn table_records_keep_the_version_2_layout_byte_for_byte() -> Result<(), CatalogError> {
    let mut rule =
        ShardingRule::from_spec("match", "a=1, \"b,c\"=2", vec![dn(1), dn(2)], Some(dn(2)))
            .map_err(|e| CatalogError::Invalid(e.to_string()))?;
    rule.name = Some("r1".into());
    let table = TableInfo {
        created_at_ms: 1_700_000_000_123,
        columns: vec!["id".into(), "s".into(), "ts".into()],
        now_default_columns: vec!["ts".into()],
        shard_key_default: Some(KeyLiteral::String(b"a\x00".to_vec())),
        other_collation_columns: vec!["s".into()],
        unique_keys: Some(vec![UniqueKey {
            name: "PRIMARY".into(),
            columns: vec!["id".into()],
        }]),
        ..TableInfo::new(Distribution::Sharded {
            column: "id".into(),
            key_type: KeyType::Integer {
                unsigned: true,
                bytes: None,
            },
            rule,
        })
        .with_auto_increment("id")
    };
    let encoded = encode(&TableRecord::from_table(&table))?;
    assert_eq!(String::from_utf8_lossy(&encoded), VERSION_2_RECORD);
    assert_eq!(decode_table(VERSION_2_RECORD.as_bytes(), "shop.t")?, table);
    Ok(())
}

#[test]
fn version_1_records_of_vertical_and_global_tables_still_decode() {
    // Written by the first store version: kind, data_nodes, created_at_ms.
    let v1 = |text: &str| [&[1u8][..], text.as_bytes()].concat();
    let vertical = decode_table(
        &v1("kind = \"vertical\"\ndata_nodes = [3]\ncreated_at_ms = 5\n"),
        "shop.v",
    );
    assert_eq!(
        vertical.ok(),
        Some(TableInfo {
            created_at_ms: 5,
            ..TableInfo::new(Distribution::Vertical { dnid: dn(3) })
        })
    );
    let global = decode_table(
        &v1("kind = \"global\"\ndata_nodes = [1, 2]\ncreated_at_ms = 5\n"),
        "shop.g",
    );
    assert_eq!(global.map(|m| m.kind()).ok(), Some(TableKind::Global));
    let sharded = decode_table(
        &v1("kind = \"sharded\"\ndata_nodes = [1, 2]\ncreated_at_ms = 5\n"),
        "shop.s",
    )
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        sharded.as_deref(),
        Some("metadata store: cannot decode shop.s: Sharded table record has no sharding column")
    );
}

#[test]
fn rename_moves_the_record_its_children_and_its_counter_at_once() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    let parent = table_meta(TableKind::Sharded, &[1, 2]);
    let child = table_meta(TableKind::Child, &[]);
    store.put_table("shop", "orders", &parent)?;
    store.put_table("shop", "items", &child)?;
    store.put_table("shop", "taken", &parent)?;
    assert_eq!(store.reserve_batch("c/orders", 10)?, 1..11);
    let mut renamed_child = child.clone();
    if let Distribution::Child { parent, .. } = &mut renamed_child.distribution {
        *parent = "orders2".into();
    }
    let err = store.rename_table("shop", "orders", "taken", &parent, &[], None);
    assert!(err.is_err(), "the new name is taken");
    assert!(!store.rename_table("shop", "nope", "x", &parent, &[], None)?);
    assert!(store.rename_table(
        "shop",
        "orders",
        "orders2",
        &parent,
        &[("items", &renamed_child)],
        Some(("c/orders", "c/orders2"))
    )?);
    assert_eq!(store.table("shop", "orders")?, None);
    assert_eq!(store.table("shop", "orders2")?, Some(parent));
    assert_eq!(store.table("shop", "items")?, Some(renamed_child));
    assert_eq!(store.counter("c/orders")?, None);
    assert_eq!(store.counter("c/orders2")?, Some(11));
    Ok(())
}

#[test]
fn raise_counter_only_moves_forward_and_remove_resets() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let store = open(dir.path());
    assert_eq!(store.raise_counter("c", 100)?, 100);
    assert_eq!(store.raise_counter("c", 50)?, 100);
    assert_eq!(store.reserve_batch("c", 2)?, 100..102);
    assert!(store.remove_counter("c")?);
    assert!(!store.remove_counter("c")?);
    assert_eq!(store.reserve_batch("c", 1)?, 1..2);
    Ok(())
}

#[test]
fn records_of_an_unknown_format_version_are_refused() {
    let bytes = [9u8, b'x'];
    let err = decode_table(&bytes, "shop.t").err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("metadata store: cannot decode shop.t: record format version 9 is not supported")
    );
    assert!(decode_table(&[], "x").is_err());
    assert!(decode_table(&[1, b'=', b'='], "x").is_err());
}
