use std::ops::Bound;

use proptest::prelude::*;

use super::*;

fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

fn int(v: i128) -> KeyValue {
    KeyValue::Int(v)
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn string(s: &str) -> KeyLiteral {
    KeyLiteral::String(s.as_bytes().to_vec())
}

#[test]
fn crc32_matches_mariadb() {
    // Expected values: SELECT CRC32('1'), CRC32(5), CRC32(-7), CRC32('1.01'),
    // CRC32('2024-01-02'), CRC32(UNHEX('00410042')), CRC32('18446744073709551615') on
    // MariaDB 10.11.19 (integers hash their decimal text, as CRC32(5) does).
    let cases = [
        (int(1), 2_212_294_583u32),
        (int(5), 2_226_203_566),
        (int(-7), 3_645_828_383),
        (KeyValue::Decimal("1.01".into()), 3_583_516_155),
        (KeyValue::Bytes(b"2024-01-02".to_vec()), 1_341_762_698),
        (
            KeyValue::Weight(vec![0x00, 0x41, 0x00, 0x42]),
            3_368_949_847,
        ),
        (int(18_446_744_073_709_551_615), 3_221_115_162),
    ];
    for (key, crc) in cases {
        assert_eq!(key.crc32(), crc, "{key}");
    }
}

#[test]
fn auto_functions_route_by_position_in_the_node_list() {
    // CRC32(5) % 4 = 2 and CRC32(12345) % 7 = 1 on MariaDB 10.11.19.
    let crc = ok(ShardingRule::auto_crc32(vec![
        dn(10),
        dn(20),
        dn(30),
        dn(40),
    ]));
    assert_eq!(crc.route(&int(5)), Ok(dn(30)));
    let crc7 = ok(ShardingRule::auto_crc32((1..=7).map(dn).collect()));
    assert_eq!(crc7.route(&int(12345)), Ok(dn(2)));
    assert_eq!(
        crc.route(&KeyValue::Null),
        Ok(dn(10)),
        "AUTO_CRC32 routes NULL to its first node"
    );
    let m = ok(ShardingRule::auto_mod(vec![dn(1), dn(2), dn(3)]));
    let cases = [(0, 1), (1, 2), (2, 3), (3, 1), (-1, 3), (-3, 1), (-4, 3)];
    for (v, dn) in cases {
        assert_eq!(
            m.route(&int(v)),
            Ok(DataNodeId::new(dn)),
            "AUTO_MOD {v} (Euclidean remainder)"
        );
    }
    let err = m.route(&KeyValue::Decimal("1.5".into())).err();
    assert_eq!(err.as_ref().map(ShardingError::code), Some(1235));
    let err = m
        .route(&KeyValue::Null)
        .err()
        .map(|e| e.for_table("shop", "t"));
    assert_eq!(
        err.as_ref().map(ToString::to_string).as_deref(),
        Some("Sharding column value NULL of table 'shop.t' has no route (the sharding rule has no NULL route)")
    );
    assert_eq!(
        err.map(|e| (e.code(), e.sqlstate())),
        Some((10104, "HY000"))
    );
}

#[test]
fn range_routes_intervals_and_the_outer_buckets() {
    let rule = ok(ShardingRule::range(
        vec![(1001, 2000, dn(2)), (1, 1000, dn(1)), (3001, 4000, dn(3))],
        Some(dn(4)),
        Some(dn(5)),
    ));
    let cases = [
        (1, Some(1)),
        (1000, Some(1)),
        (1001, Some(2)),
        (2000, Some(2)),
        (2500, None),
        (3001, Some(3)),
        (0, Some(4)),
        (-5, Some(4)),
        (4001, Some(5)),
    ];
    for (v, dn) in cases {
        assert_eq!(rule.route(&int(v)).ok(), dn.map(DataNodeId::new), "{v}");
    }
    let err = rule
        .route(&int(2500))
        .err()
        .map(|e| e.for_table("shop", "orders"));
    assert_eq!(
        err.as_ref().map(ToString::to_string).as_deref(),
        Some("Sharding column value '2500' of table 'shop.orders' has no route")
    );
    assert_eq!(err.map(|e| e.code()), Some(10104));
    let closed = ok(ShardingRule::range(vec![(1, 10, dn(1))], None, None));
    assert!(closed.route(&int(11)).is_err() && closed.route(&int(0)).is_err());
    let with_null = ok(closed.clone().with_null_route(Some(dn(7))));
    assert_eq!(with_null.route(&KeyValue::Null), Ok(dn(7)));
    assert_eq!(with_null.data_nodes, [dn(1), dn(7)]);
}

#[test]
fn route_and_mod_functions_route_listed_values_and_remainders() {
    let route = ok(ShardingRule::route_list(vec![
        (3, dn(1)),
        (1, dn(1)),
        (2, dn(2)),
    ]));
    assert_eq!(
        (route.route(&int(1)), route.route(&int(2))),
        (Ok(dn(1)), Ok(dn(2)))
    );
    assert_eq!(route.route(&int(4)).map_err(|e| e.code()), Err(10104));
    let m = ok(ShardingRule::simple_mod(
        4,
        vec![(0, 0, dn(1)), (1, 1, dn(2)), (2, 3, dn(3))],
    ));
    let cases = [(0, 1), (1, 2), (2, 3), (3, 3), (4, 1), (-1, 3), (7, 3)];
    for (v, dn) in cases {
        assert_eq!(m.route(&int(v)), Ok(DataNodeId::new(dn)), "SIMPLE_MOD {v}");
    }
    // CRC32(5) % 4 = 2 (MariaDB), remainder 2 goes to node 3.
    let c = ok(ShardingRule::crc32_mod(
        4,
        vec![(0, 1, dn(1)), (2, 3, dn(3))],
    ));
    assert_eq!(c.route(&int(5)), Ok(dn(3)));
    assert!(c.route(&KeyValue::Bytes(b"x".to_vec())).is_ok());
}

#[test]
fn match_compares_with_the_column_collation() {
    // MariaDB 10.11.19: 'ß' = 's' COLLATE utf8mb4_general_ci is 1; 'ß' = 'ss' COLLATE
    // utf8mb4_unicode_ci is 1; 'a' = 'a ' is 1 under both (PAD SPACE).
    let rule = ok(ShardingRule::match_list(
        vec![
            ("north".into(), dn(1)),
            ("S".into(), dn(2)),
            ("ss".into(), dn(3)),
        ],
        Some(dn(4)),
    ));
    let general = KeyType::String {
        collation: "utf8mb4_general_ci".into(),
        length: None,
    };
    let dist = ok(Distribution::sharded(
        "region",
        general.clone(),
        rule.clone(),
    ));
    let cases = [
        ("NORTH ", Some(1)),
        ("ß", Some(2)),
        ("s", Some(2)),
        ("SS", Some(3)),
        ("", Some(4)),
        ("   ", Some(4)),
        ("west", None),
    ];
    for (value, dn) in cases {
        assert_eq!(
            dist.route_literal(&string(value)).ok(),
            dn.map(DataNodeId::new),
            "general_ci {value:?}"
        );
    }
    let err = dist
        .route_literal(&string("west"))
        .err()
        .map(|e| e.for_table("geo", "t").to_string());
    assert_eq!(
        err.as_deref(),
        Some("Sharding column value 'west' of table 'geo.t' has no route")
    );
    let unicode = KeyType::String {
        collation: "utf8mb4_unicode_ci".into(),
        length: None,
    };
    let dist = ok(Distribution::sharded(
        "region",
        unicode.clone(),
        rule.clone(),
    ));
    assert_eq!(dist.route_literal(&string("ß")), Ok(dn(3)));
    // Values equal under the collation must go to one node.
    let clash = ok(ShardingRule::match_list(
        vec![("a".into(), dn(1)), ("A".into(), dn(2))],
        None,
    ));
    let err = Distribution::sharded("c", general, clash.clone())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("Invalid sharding rule: MATCH values 'a' and 'A' are equal for VARCHAR COLLATE utf8mb4_general_ci but go to data nodes 1 and 2")
    );
    let bin = KeyType::String {
        collation: "utf8mb4_bin".into(),
        length: None,
    };
    assert!(Distribution::sharded("c", bin, clash).is_ok());
    // Integer MATCH lists compare numbers.
    let ints = ok(ShardingRule::match_list(
        vec![("10".into(), dn(1)), ("20".into(), dn(2))],
        None,
    ));
    let dist = ok(Distribution::sharded(
        "n",
        KeyType::Integer {
            unsigned: false,
            bytes: None,
        },
        ints.clone(),
    ));
    assert_eq!(dist.route_literal(&string("1e1")), Ok(dn(1)));
    assert_eq!(ints.route(&int(20)), Ok(dn(2)));
    assert!(ints.route(&KeyValue::Weight(vec![0, 0x41])).is_err());
    let bad = ok(ShardingRule::match_list(vec![("ten".into(), dn(1))], None));
    assert!(Distribution::sharded(
        "n",
        KeyType::Integer {
            unsigned: false,
            bytes: None
        },
        bad
    )
    .is_err());
}

#[test]
fn functions_refuse_key_types_they_cannot_route() {
    let varchar = KeyType::String {
        collation: "utf8mb4_general_ci".into(),
        length: None,
    };
    for rule in [
        ok(ShardingRule::auto_mod(vec![dn(1), dn(2)])),
        ok(ShardingRule::range(vec![(1, 2, dn(1))], None, None)),
        ok(ShardingRule::route_list(vec![(1, dn(1))])),
        ok(ShardingRule::simple_mod(2, vec![(0, 1, dn(1))])),
    ] {
        let err = Distribution::sharded("c", varchar.clone(), rule.clone()).err();
        assert_eq!(
            err.map(|e| e.code()),
            Some(1235),
            "{}",
            rule.function.type_name()
        );
        let year = KeyType::Temporal {
            kind: "year".into(),
        };
        assert!(Distribution::sharded("y", year, rule).is_ok());
    }
    for rule in [
        ok(ShardingRule::auto_crc32(vec![dn(1), dn(2)])),
        ok(ShardingRule::crc32_mod(2, vec![(0, 1, dn(1))])),
    ] {
        assert!(Distribution::sharded("c", varchar.clone(), rule.clone()).is_ok());
        assert!(Distribution::sharded(
            "c",
            KeyType::Decimal {
                scale: 2,
                precision: None,
                unsigned: false
            },
            rule
        )
        .is_ok());
    }
}

#[test]
fn constructors_refuse_invalid_parameters() {
    let cases: Vec<(Result<ShardingRule, ShardingError>, &str)> = vec![
        (
            ShardingRule::auto_crc32(vec![]),
            "AUTO_CRC32 needs at least one data node",
        ),
        (
            ShardingRule::auto_mod(vec![dn(1), dn(1)]),
            "data node 1 is listed twice",
        ),
        (
            ShardingRule::auto_mod(vec![dn(0), dn(1)]),
            "data node ids must be positive",
        ),
        (
            ShardingRule::range(vec![], Some(dn(1)), None),
            "RANGE needs at least one interval",
        ),
        (
            ShardingRule::range(vec![(5, 1, dn(1))], None, None),
            "RANGE interval 5:1 has low > high",
        ),
        (
            ShardingRule::range(vec![(1, 10, dn(1)), (10, 20, dn(2))], None, None),
            "RANGE intervals 1:10 and 10:20 overlap",
        ),
        (
            ShardingRule::match_list(vec![("a".into(), dn(1)), ("a".into(), dn(2))], None),
            "MATCH value 'a' is listed twice",
        ),
        (
            ShardingRule::match_list(vec![("".into(), dn(1))], None),
            "use the empty-string route",
        ),
        (
            ShardingRule::route_list(vec![(1, dn(1)), (1, dn(2))]),
            "ROUTE value 1 is listed twice",
        ),
        (
            ShardingRule::simple_mod(1, vec![(0, 0, dn(1))]),
            "SIMPLE_MOD modulus 1 is outside 2..=2147483647",
        ),
        (
            ShardingRule::simple_mod(2_147_483_648, vec![(0, 0, dn(1))]),
            "is outside 2..=2147483647",
        ),
        (
            ShardingRule::simple_mod(4, vec![(0, 1, dn(1)), (3, 3, dn(2))]),
            "SIMPLE_MOD remainders 2..2 have no data node",
        ),
        (
            ShardingRule::simple_mod(4, vec![(0, 2, dn(1))]),
            "SIMPLE_MOD remainders 3..3 have no data node",
        ),
        (
            ShardingRule::crc32_mod(4, vec![(0, 2, dn(1)), (2, 3, dn(2))]),
            "CRC32_MOD remainder 2 is covered twice",
        ),
        (
            ShardingRule::crc32_mod(4, vec![(0, 4, dn(1))]),
            "CRC32_MOD remainder 4 is not below the modulus 4",
        ),
        (
            ShardingRule::new(
                ShardingFunction::Range {
                    intervals: vec![(1, 2, dn(3))],
                    below_min: None,
                    above_max: None,
                },
                vec![dn(1), dn(2)],
                None,
            ),
            "data node 3 is used by the parameters but is not one of the rule's data nodes",
        ),
        (
            ShardingRule::new(ShardingFunction::AutoCrc32, vec![dn(1), dn(2)], Some(dn(3))),
            "NULL route 3 is not one of the rule's data nodes",
        ),
    ];
    for (result, expected) in cases {
        let err = result.err().map(|e| (e.code(), e.to_string()));
        assert!(
            matches!(&err, Some((1210, m)) if m.contains(expected)),
            "expected {expected:?}, got {err:?}"
        );
    }
}

#[test]
fn specs_parse_and_print_the_documented_forms() {
    let cases: [(&str, &str, ShardingFunction, &str); 7] = [
        ("AUTO_CRC32", " ", ShardingFunction::AutoCrc32, ""),
        ("auto_mod", "", ShardingFunction::AutoMod, ""),
        (
            "range",
            "1001:2000=2, 1:1000=1, below=1, above=2, 5000=3",
            ShardingFunction::Range {
                intervals: vec![(1, 1000, dn(1)), (1001, 2000, dn(2)), (5000, 5000, dn(3))],
                below_min: Some(dn(1)),
                above_max: Some(dn(2)),
            },
            "1:1000=1, 1001:2000=2, 5000:5000=3, below=1, above=2",
        ),
        (
            "match",
            "a=1,b=2, \"x,y\"=3, \"say \"\"hi\"\"\"=1, New York = 2, \"\"=4",
            ShardingFunction::Match {
                values: vec![
                    ("a".into(), dn(1)),
                    ("b".into(), dn(2)),
                    ("x,y".into(), dn(3)),
                    ("say \"hi\"".into(), dn(1)),
                    ("New York".into(), dn(2)),
                ],
                empty_route: Some(dn(4)),
            },
            "a=1, b=2, \"x,y\"=3, \"say \"\"hi\"\"\"=1, New York=2, \"\"=4",
        ),
        (
            "route",
            "3=1, -1=2",
            ShardingFunction::Route {
                values: vec![(-1, dn(2)), (3, dn(1))],
            },
            "-1=2, 3=1",
        ),
        (
            "simple_mod",
            "modulus=4; 0=1, 1=2, 2:3=3",
            ShardingFunction::SimpleMod {
                modulus: 4,
                remainders: vec![(0, 0, dn(1)), (1, 1, dn(2)), (2, 3, dn(3))],
            },
            "modulus=4; 0=1, 1=2, 2:3=3",
        ),
        (
            "CRC32_MOD",
            "MODULUS = 2 ; 1=2, 0=1",
            ShardingFunction::Crc32Mod {
                modulus: 2,
                remainders: vec![(0, 0, dn(1)), (1, 1, dn(2))],
            },
            "modulus=2; 0=1, 1=2",
        ),
    ];
    for (name, params, expected, printed) in cases {
        let parsed = ShardingFunction::from_spec(name, params);
        assert_eq!(parsed.as_ref(), Ok(&expected), "{name} '{params}'");
        assert_eq!(expected.to_spec(), printed);
        assert_eq!(
            ShardingFunction::from_spec(expected.type_name(), printed),
            Ok(expected)
        );
    }
}

#[test]
fn malformed_specs_are_refused_with_the_reason() {
    let cases = [
        ("hash", "", "unknown sharding function 'hash'"),
        ("auto_crc32", "1,2", "AUTO_CRC32 takes no parameters"),
        ("range", "1:10", "'1:10' is not KEY=DATANODE"),
        ("range", "1:10=x", "'x' in '1:10=x' is not a data node id"),
        ("range", "1:10=0", "is not a data node id"),
        ("range", "a:10=1", "RANGE bound 'a' is not an integer"),
        (
            "range",
            "below=1, below=2, 1:2=1",
            "RANGE 'below' is given twice",
        ),
        ("match", "\"a=1", "unterminated double quote"),
        ("match", "a\"b\"=1", "quote the whole value"),
        ("match", "a\"b=1", "unterminated double quote"),
        (
            "match",
            "\"\"=1, \"\"=2",
            "empty-string route \"\" is given twice",
        ),
        (
            "simple_mod",
            "0=1, 1=2",
            "parameters must look like 'modulus=4;",
        ),
        (
            "simple_mod",
            "mod=2; 0=1, 1=2",
            "must start with 'modulus=M;'",
        ),
        (
            "crc32_mod",
            "modulus=2; -1=1",
            "remainder '-1' is not a non-negative integer",
        ),
    ];
    for (name, params, expected) in cases {
        let err = ShardingFunction::from_spec(name, params)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(expected), "{name} '{params}': {err}");
    }
}

#[test]
fn route_range_covers_exact_functions_and_small_integer_ranges() {
    let range = ok(ShardingRule::range(
        vec![(1, 1000, dn(1)), (1001, 2000, dn(2)), (3001, 4000, dn(3))],
        Some(dn(4)),
        Some(dn(5)),
    ));
    let r = |lo: Bound<&KeyValue>, hi: Bound<&KeyValue>| range.route_range(lo, hi);
    assert_eq!(
        r(Bound::Included(&int(10)), Bound::Included(&int(20))),
        Some(vec![dn(1)])
    );
    assert_eq!(
        r(Bound::Included(&int(900)), Bound::Excluded(&int(1001))),
        Some(vec![dn(1)])
    );
    assert_eq!(
        r(Bound::Included(&int(900)), Bound::Included(&int(1001))),
        Some(vec![dn(1), dn(2)])
    );
    assert_eq!(
        r(Bound::Included(&int(2001)), Bound::Included(&int(3000))),
        Some(vec![])
    );
    assert_eq!(
        r(Bound::Unbounded, Bound::Included(&int(5))),
        Some(vec![dn(1), dn(4)])
    );
    assert_eq!(
        r(Bound::Excluded(&int(3999)), Bound::Unbounded),
        Some(vec![dn(3), dn(5)])
    );
    assert_eq!(
        r(Bound::Included(&int(5)), Bound::Included(&int(4))),
        Some(vec![])
    );
    assert_eq!(
        r(
            Bound::Included(&KeyValue::Decimal("1.5".into())),
            Bound::Unbounded
        ),
        None
    );
    let route = ok(ShardingRule::route_list(vec![
        (1, dn(1)),
        (5, dn(2)),
        (9, dn(3)),
    ]));
    assert_eq!(
        route.route_range(Bound::Included(&int(2)), Bound::Unbounded),
        Some(vec![dn(2), dn(3)])
    );
    let m = ok(ShardingRule::auto_mod(vec![dn(1), dn(2), dn(3), dn(4)]));
    assert_eq!(
        m.route_range(Bound::Included(&int(4)), Bound::Included(&int(5))),
        Some(vec![dn(1), dn(2)])
    );
    assert_eq!(
        m.route_range(Bound::Included(&int(0)), Bound::Included(&int(64))),
        None
    );
    assert_eq!(
        m.route_range(Bound::Included(&int(0)), Bound::Unbounded),
        None
    );
    let vertical = Distribution::Vertical { dnid: dn(3) };
    assert_eq!(
        vertical.route_range(Bound::Unbounded, Bound::Unbounded),
        Some(vec![dn(3)])
    );
}

#[test]
fn distributions_route_by_kind() {
    let global = Distribution::Global {
        data_nodes: vec![dn(2), dn(1)],
    };
    assert_eq!(global.data_nodes(), Some(vec![dn(1), dn(2)]));
    assert_eq!(global.route(&int(1)).map_err(|e| e.code()), Err(1235));
    let child = Distribution::Child {
        parent: "orders".into(),
        parent_column: "id".into(),
        column: "order_id".into(),
    };
    assert_eq!(child.data_nodes(), None);
    assert!(child.route(&int(1)).is_err());
    assert_eq!(
        Distribution::Vertical { dnid: dn(2) }.route(&int(1)),
        Ok(dn(2))
    );
    let sharded = ok(Distribution::sharded(
        "id",
        KeyType::Integer {
            unsigned: false,
            bytes: None,
        },
        ok(ShardingRule::auto_mod(vec![dn(1), dn(2)])),
    ));
    assert_eq!(sharded.route_literal(&string("3")), Ok(dn(2)));
    assert_eq!(sharded.kind_name(), "sharded");
    let err = sharded
        .route_literal(&KeyLiteral::Null)
        .err()
        .map(|e| e.code());
    assert_eq!(err, Some(10104));
}

/// Any valid function over nodes 1..=4.
fn any_function() -> impl Strategy<Value = ShardingFunction> {
    let node = (1u32..=4).prop_map(dn);
    prop_oneof![
        Just(ShardingFunction::AutoCrc32),
        Just(ShardingFunction::AutoMod),
        (
            proptest::collection::btree_set(-1000i128..1000, 2..12),
            proptest::collection::vec(node.clone(), 12),
            proptest::option::of(node.clone()),
            proptest::option::of(node.clone())
        )
            .prop_map(|(cuts, nodes, below_min, above_max)| {
                let cuts: Vec<i128> = cuts.into_iter().collect();
                let intervals = cuts
                    .windows(2)
                    .zip(nodes)
                    .filter(|(w, _)| w[1] - 1 > w[0])
                    .map(|(w, dn)| (w[0], w[1] - 1, dn))
                    .step_by(1)
                    .collect::<Vec<_>>();
                let intervals = if intervals.is_empty() {
                    vec![(0, 0, dn(1))]
                } else {
                    intervals
                };
                ShardingFunction::Range {
                    intervals,
                    below_min,
                    above_max,
                }
            }),
        proptest::collection::btree_map(-50i128..50, node.clone(), 1..10).prop_map(|m| {
            ShardingFunction::Route {
                values: m.into_iter().collect(),
            }
        }),
        proptest::collection::btree_map("[a-zA-Z ,=\"]{1,6}", node.clone(), 1..6)
            .prop_filter("no empty value", |m| m.keys().all(|k| !k.is_empty()))
            .prop_map(|m| ShardingFunction::Match {
                values: m.into_iter().collect(),
                empty_route: None
            }),
        (
            2u64..40,
            proptest::collection::vec(node.clone(), 40),
            any::<bool>()
        )
            .prop_map(|(modulus, nodes, crc)| {
                let remainders: Vec<(u64, u64, DataNodeId)> = (0..modulus)
                    .step_by(3)
                    .map(|lo| (lo, (lo + 2).min(modulus - 1), nodes[lo as usize]))
                    .collect();
                if crc {
                    ShardingFunction::Crc32Mod {
                        modulus,
                        remainders,
                    }
                } else {
                    ShardingFunction::SimpleMod {
                        modulus,
                        remainders,
                    }
                }
            }),
    ]
}

fn rule_of(function: ShardingFunction) -> ShardingRule {
    let nodes = if function.is_auto() {
        vec![dn(1), dn(2), dn(3), dn(4)]
    } else {
        Vec::new()
    };
    ok(ShardingRule::new(function, nodes, None))
}

proptest! {
    #[test]
    fn specs_round_trip(function in any_function()) {
        let function = function.normalized();
        prop_assert_eq!(function.validate(), Ok(()));
        let spec = function.to_spec();
        prop_assert_eq!(ShardingFunction::from_spec(function.type_name(), &spec), Ok(function), "{}", spec);
    }

    #[test]
    fn the_same_key_always_lands_on_the_same_node(function in any_function(), v in -2000i128..2000) {
        let rule = rule_of(function);
        let twice = rule.clone();
        prop_assert_eq!(rule.route(&int(v)), twice.route(&int(v)));
        if let Ok(dn) = rule.route(&int(v)) {
            prop_assert!(rule.data_nodes.contains(&dn));
        }
    }

    #[test]
    fn every_literal_form_of_a_key_lands_on_the_same_node(v in -100_000i64..100_000, nodes in 1u32..8) {
        let dist = ok(Distribution::sharded("id", KeyType::Integer { unsigned: false, bytes: None }, ok(ShardingRule::auto_crc32((1..=nodes).map(dn).collect()))));
        let expected = dist.route_literal(&KeyLiteral::Integer(v.to_string()));
        for form in [string(&v.to_string()), string(&format!(" {v}.0")), KeyLiteral::Number(format!("{v}.00")), KeyLiteral::Number(format!("{v}e0")), string(&format!("{v}e0"))] {
            prop_assert_eq!(dist.route_literal(&form), expected.clone(), "{:?}", form);
        }
        let ci = ok(Distribution::sharded("name", KeyType::String { collation: "utf8mb4_general_ci".into(), length: None }, ok(ShardingRule::auto_crc32((1..=nodes).map(dn).collect()))));
        let word = format!("user{v}x");
        prop_assert_eq!(ci.route_literal(&string(&word)), ci.route_literal(&string(&format!("{}  ", word.to_uppercase()))));
    }

    #[test]
    fn route_range_holds_the_route_of_every_value_in_the_range(function in any_function(), lo in -1100i128..1100, len in 0i128..80, open_low in any::<bool>(), open_high in any::<bool>()) {
        let rule = rule_of(function);
        let hi = lo + len;
        let (low_key, high_key) = (int(lo), int(hi));
        let low = if open_low { Bound::Excluded(&low_key) } else { Bound::Included(&low_key) };
        let high = if open_high { Bound::Excluded(&high_key) } else { Bound::Included(&high_key) };
        if let Some(nodes) = rule.route_range(low, high) {
            let first = if open_low { lo + 1 } else { lo };
            let last = if open_high { hi - 1 } else { hi };
            for v in first..=last {
                if let Ok(dn) = rule.route(&int(v)) {
                    prop_assert!(nodes.contains(&dn), "{v} -> {dn} not in {nodes:?}");
                }
            }
        }
        if let Some(nodes) = rule.route_range(Bound::Unbounded, high) {
            for v in (hi - 300)..hi {
                if let Ok(dn) = rule.route(&int(v)) {
                    prop_assert!(nodes.contains(&dn), "{v} -> {dn} not in {nodes:?}");
                }
            }
        }
    }
}
