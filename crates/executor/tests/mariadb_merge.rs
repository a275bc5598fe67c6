//! Differential test of the merge against MariaDB 10.11: the same rows live in one table
//! `t` and split over three tables `t0`, `t1`, `t2` (three "data nodes") on a throwaway
//! server. Each case runs the client's query on `t`, the per-node query the planner
//! would send on each part, merges the three results with `merge_all`, and checks that
//! the merged rows (and column definitions) are MariaDB's single-table answer.
//!
//! Where MySQL leaves a choice open the comparison allows it: rows that tie on every
//! ORDER BY key may come in any order, and a group's or DISTINCT row's string may be any
//! spelling equal under the collation. Every mismatch is collected before failing.

mod common;

use std::cmp::Ordering;

use bytes::Bytes;
use common::{RawClient, ResultSet};
use strata_executor::{merge_all_with_options, MergeOptions, Merger};
use strata_mysql::Collation;
use strata_planner::{
    Aggregate, AggregateFunction, CompareOp, Literal, MergeSpec, Predicate, QueryPlan, SortKey,
};
use strata_protocol::constants::colflag;
use strata_protocol::packets::{decode_text_row, ColumnDef};

/// A row's values (`None` is NULL).
type Cells = Vec<Option<Vec<u8>>>;
/// A row's sort keys under utf8mb4_general_ci.
type KeyClass = Vec<Option<Box<[u32]>>>;

/// How merged rows are compared with MariaDB's.
#[derive(Debug, Clone)]
enum Check {
    /// Same rows in the same order; the listed columns may differ in spelling within
    /// utf8mb4_general_ci equality.
    Ordered { collated: Vec<usize> },
    /// Sorted on these columns (general_ci strings): same sequence of key classes, any
    /// order within a class.
    TiesFree { keys: Vec<usize> },
    /// Same rows in any order.
    Unordered,
    /// Column `column` is a comma-separated list compared as a multiset; the rest as
    /// `Ordered` with column 0 collated.
    ConcatMultiset { column: usize },
}

struct Case {
    name: &'static str,
    single: String,
    /// Per-node query; `{t}` is replaced by the node's table.
    part: String,
    spec: MergeSpec,
    check: Check,
    group_concat_max_len: Option<usize>,
    /// The per-node query returns its groups sorted by the ORDER BY's leading group
    /// keys (explicitly, or by MariaDB's implicit GROUP BY order): the case also runs
    /// with `presorted_groups` (streaming aggregation).
    presorted: bool,
}

fn streaming(case: Case) -> Case {
    Case {
        presorted: true,
        ..case
    }
}

fn key(column: usize, descending: bool) -> SortKey {
    SortKey { column, descending }
}

fn agg(column: usize, function: AggregateFunction) -> Aggregate {
    Aggregate { column, function }
}

fn avg(column: usize, count_column: usize, scale: u32) -> Aggregate {
    agg(
        column,
        AggregateFunction::Avg {
            count_column,
            scale,
        },
    )
}

fn cmp(column: usize, op: CompareOp, literal: Literal) -> Predicate {
    Predicate::Compare {
        column,
        op,
        literal,
    }
}

fn spec(visible: usize) -> MergeSpec {
    MergeSpec {
        visible_columns: visible,
        ..MergeSpec::default()
    }
}

fn cases() -> Vec<Case> {
    use AggregateFunction::*;
    let case = |name, single: &str, part: &str, spec, check| Case {
        name,
        single: single.into(),
        part: part.into(),
        spec,
        check,
        group_concat_max_len: None,
        presorted: false,
    };
    let ordered = |collated: &[usize]| Check::Ordered {
        collated: collated.to_vec(),
    };
    vec![
        case(
            "ORDER BY mixed directions, general_ci strings",
            "SELECT id, s, n FROM t ORDER BY s DESC, n, id",
            "SELECT id, s, n FROM {t} ORDER BY s DESC, n, id",
            MergeSpec { order_by: vec![key(1, true), key(2, false), key(0, false)], ..spec(3) },
            ordered(&[]),
        ),
        case(
            "ORDER BY a string with ties under general_ci",
            "SELECT s, id FROM t ORDER BY s",
            "SELECT s, id FROM {t} ORDER BY s",
            MergeSpec { order_by: vec![key(0, false)], ..spec(2) },
            Check::TiesFree { keys: vec![0] },
        ),
        case(
            "ORDER BY DESC with ties under general_ci",
            "SELECT g, s FROM t ORDER BY g DESC",
            "SELECT g, s FROM {t} ORDER BY g DESC",
            MergeSpec { order_by: vec![key(0, true)], ..spec(2) },
            Check::TiesFree { keys: vec![0] },
        ),
        case(
            "NULLs first ascending",
            "SELECT n, id FROM t ORDER BY n, id",
            "SELECT n, id FROM {t} ORDER BY n, id",
            MergeSpec { order_by: vec![key(0, false), key(1, false)], ..spec(2) },
            ordered(&[]),
        ),
        case(
            "NULLs last descending, DECIMAL and DATETIME keys",
            "SELECT d, dt, id FROM t ORDER BY d DESC, dt DESC, id DESC",
            "SELECT d, dt, id FROM {t} ORDER BY d DESC, dt DESC, id DESC",
            MergeSpec { order_by: vec![key(0, true), key(1, true), key(2, true)], ..spec(3) },
            ordered(&[]),
        ),
        case(
            "BIGINT UNSIGNED above 2^63 and DOUBLE keys",
            "SELECT u, f, id FROM t ORDER BY u DESC, f, id",
            "SELECT u, f, id FROM {t} ORDER BY u DESC, f, id",
            MergeSpec { order_by: vec![key(0, true), key(1, false), key(2, false)], ..spec(3) },
            ordered(&[]),
        ),
        case(
            "LIMIT with OFFSET, per node LIMIT offset+limit",
            "SELECT id, s, d FROM t ORDER BY d DESC, id LIMIT 7 OFFSET 5",
            "SELECT id, s, d FROM {t} ORDER BY d DESC, id LIMIT 12",
            MergeSpec { order_by: vec![key(2, true), key(0, false)], offset: 5, limit: Some(7), ..spec(3) },
            ordered(&[]),
        ),
        case(
            "ORDER BY a hidden column",
            "SELECT id, s FROM t ORDER BY dt, id LIMIT 20",
            "SELECT id, s, dt FROM {t} ORDER BY dt, id LIMIT 20",
            MergeSpec { order_by: vec![key(2, false), key(0, false)], limit: Some(20), ..spec(2) },
            ordered(&[]),
        ),
        streaming(case(
            "GROUP BY with COUNT/SUM/AVG/MIN/MAX over INT and DECIMAL",
            "SELECT g, COUNT(*), COUNT(n), SUM(n), AVG(n), MIN(n), MAX(n), SUM(d), AVG(d), MIN(d), MAX(d) \
             FROM t GROUP BY g ORDER BY g",
            "SELECT g, COUNT(*), COUNT(n), SUM(n), SUM(n) AS `AVG(n)`, MIN(n), MAX(n), SUM(d), \
             SUM(d) AS `AVG(d)`, MIN(d), MAX(d), COUNT(d) FROM {t} GROUP BY g ORDER BY g",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![
                    agg(1, Count), agg(2, Count), agg(3, Sum), avg(4, 2, 4), agg(5, Min),
                    agg(6, Max), agg(7, Sum), avg(8, 11, 4), agg(9, Min), agg(10, Max),
                ],
                order_by: vec![key(0, false)],
                ..spec(11)
            },
            ordered(&[0]),
        )),
        case(
            "GROUP BY ordered by an aggregate, LIMIT",
            "SELECT g, COUNT(*) c, SUM(d) FROM t GROUP BY g ORDER BY c DESC, g LIMIT 4",
            "SELECT g, COUNT(*) c, SUM(d) FROM {t} GROUP BY g",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, Count), agg(2, Sum)],
                order_by: vec![key(1, true), key(0, false)],
                limit: Some(4),
                ..spec(3)
            },
            ordered(&[0]),
        ),
        case(
            "aggregates without GROUP BY (INT, DECIMAL, DATETIME, BIGINT UNSIGNED, DOUBLE)",
            "SELECT COUNT(*), SUM(n), AVG(d), MIN(dt), MAX(dt), MAX(s), SUM(u), AVG(u), SUM(f), AVG(f) FROM t",
            "SELECT COUNT(*), SUM(n), SUM(d) AS `AVG(d)`, MIN(dt), MAX(dt), MAX(s), SUM(u), \
             SUM(u) AS `AVG(u)`, SUM(f), SUM(f) AS `AVG(f)`, COUNT(d), COUNT(u), COUNT(f) FROM {t}",
            MergeSpec {
                aggregates: vec![
                    agg(0, Count), agg(1, Sum), avg(2, 10, 4), agg(3, Min), agg(4, Max),
                    agg(5, Max), agg(6, Sum), avg(7, 11, 4), agg(8, Sum), avg(9, 12, 4),
                ],
                ..spec(10)
            },
            ordered(&[5]),
        ),
        streaming(case(
            "COUNT(DISTINCT) per group mixed with COUNT and SUM",
            "SELECT g, COUNT(DISTINCT s), COUNT(*), SUM(n) FROM t GROUP BY g ORDER BY g",
            "SELECT g, s AS `COUNT(DISTINCT s)`, COUNT(*), SUM(n) FROM {t} GROUP BY g, s ORDER BY g",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, CountDistinct), agg(2, Count), agg(3, Sum)],
                order_by: vec![key(0, false)],
                ..spec(4)
            },
            ordered(&[0]),
        )),
        case(
            "two COUNT(DISTINCT) without GROUP BY",
            "SELECT COUNT(DISTINCT s), COUNT(DISTINCT n) FROM t",
            "SELECT s AS `COUNT(DISTINCT s)`, n AS `COUNT(DISTINCT n)` FROM {t} GROUP BY s, n",
            MergeSpec { aggregates: vec![agg(0, CountDistinct), agg(1, CountDistinct)], ..spec(2) },
            ordered(&[]),
        ),
        case(
            "DISTINCT with ORDER BY (general_ci)",
            "SELECT DISTINCT g FROM t ORDER BY g",
            "SELECT DISTINCT g FROM {t} ORDER BY g",
            MergeSpec { distinct: true, order_by: vec![key(0, false)], ..spec(1) },
            ordered(&[0]),
        ),
        case(
            "DISTINCT with ORDER BY and LIMIT",
            "SELECT DISTINCT s FROM t ORDER BY s DESC LIMIT 6",
            "SELECT DISTINCT s FROM {t} ORDER BY s DESC LIMIT 6",
            MergeSpec { distinct: true, order_by: vec![key(0, true)], limit: Some(6), ..spec(1) },
            ordered(&[0]),
        ),
        case(
            "DISTINCT over two columns without ORDER BY",
            "SELECT DISTINCT n % 7, d > 0 FROM t",
            "SELECT DISTINCT n % 7, d > 0 FROM {t}",
            MergeSpec { distinct: true, ..spec(2) },
            Check::Unordered,
        ),
        streaming(case(
            "HAVING with number and string literals",
            "SELECT g, COUNT(*) c, SUM(n) sn FROM t GROUP BY g HAVING c > 60 AND sn < '2000' ORDER BY g",
            "SELECT g, COUNT(*) c, SUM(n) sn FROM {t} GROUP BY g ORDER BY g",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, Count), agg(2, Sum)],
                having: Some(Predicate::And(
                    Box::new(cmp(1, CompareOp::Gt, Literal::Number("60".into()))),
                    Box::new(cmp(2, CompareOp::Lt, Literal::String("2000".into()))),
                )),
                order_by: vec![key(0, false)],
                ..spec(3)
            },
            ordered(&[0]),
        )),
        streaming(case(
            "HAVING with OR, NOT and a collated string",
            "SELECT g, MAX(d) md, MIN(s) ms FROM t GROUP BY g HAVING md >= 990.5 OR NOT (ms = 'a') ORDER BY g",
            "SELECT g, MAX(d) md, MIN(s) ms FROM {t} GROUP BY g ORDER BY g",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, Max), agg(2, Min)],
                having: Some(Predicate::Or(
                    Box::new(cmp(1, CompareOp::Ge, Literal::Number("990.5".into()))),
                    Box::new(Predicate::Not(Box::new(cmp(2, CompareOp::Eq, Literal::String("a".into()))))),
                )),
                order_by: vec![key(0, false)],
                ..spec(3)
            },
            ordered(&[0, 2]),
        )),
        streaming(case(
            "GROUP BY DECIMAL descending with per-node LIMIT",
            "SELECT d, COUNT(*), SUM(u) FROM t GROUP BY d ORDER BY d DESC LIMIT 15",
            "SELECT d, COUNT(*), SUM(u) FROM {t} GROUP BY d ORDER BY d DESC LIMIT 15",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, Count), agg(2, Sum)],
                order_by: vec![key(0, true)],
                limit: Some(15),
                ..spec(3)
            },
            ordered(&[]),
        )),
        streaming(case(
            "GROUP BY without ORDER BY sorts by the group (MariaDB's implicit order)",
            "SELECT DATE(dt) day, COUNT(*), MIN(id) FROM t GROUP BY day",
            "SELECT DATE(dt) day, COUNT(*), MIN(id) FROM {t} GROUP BY day",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, Count), agg(2, Min)],
                order_by: vec![key(0, false)],
                ..spec(3)
            },
            ordered(&[]),
        )),
        Case {
            group_concat_max_len: Some(1 << 20),
            ..case(
            "GROUP_CONCAT per group",
            "SELECT g, GROUP_CONCAT(id) FROM t GROUP BY g ORDER BY g",
            "SELECT g, GROUP_CONCAT(id) FROM {t} GROUP BY g ORDER BY g",
            MergeSpec {
                group_by: vec![0],
                aggregates: vec![agg(1, GroupConcat { separator: ",".into() })],
                order_by: vec![key(0, false)],
                ..spec(2)
            },
            Check::ConcatMultiset { column: 1 },
        )
        },
        Case {
            group_concat_max_len: Some(100),
            ..case(
                "GROUP_CONCAT truncated at group_concat_max_len",
                "SELECT g, LENGTH(GROUP_CONCAT(s SEPARATOR '|')) FROM t GROUP BY g ORDER BY g",
                "SELECT g, GROUP_CONCAT(s SEPARATOR '|') FROM {t} GROUP BY g ORDER BY g",
                MergeSpec {
                    group_by: vec![0],
                    aggregates: vec![agg(1, GroupConcat { separator: "|".into() })],
                    order_by: vec![key(0, false)],
                    ..spec(2)
                },
                ordered(&[0]),
            )
        },
    ]
}

/// Deterministic pseudo-random numbers (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11 ^ self.0 << 7
    }

    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 16) % n
    }
}

const GROUPS: &[&str] = &[
    "alpha", "Alpha", "ALPHA", "beta", "Beta ", "BETA", "gamma", "Gämma", "gamma ", "delta",
    "épsilon", "Epsilon",
];
const STRINGS: &[&str] = &[
    "a",
    "A",
    "á",
    "Ä",
    "b",
    "B",
    "ß",
    "s",
    "ss",
    "SS",
    "z",
    "Z",
    "",
    "  ",
    "abc",
    "ABC ",
    "Abc",
    "zebra",
    "Zebra",
    "ø",
    "Ø",
    "æ",
    "Æ",
    "\u{1F600}",
    "\u{1F601}",
    "a\t",
];

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// The rows as SQL value tuples.
fn rows(count: u32) -> Vec<(u32, String)> {
    let mut rng = Lcg(0x5eed);
    (1..=count)
        .map(|id| {
            let g = match rng.below(14) {
                13 => "NULL".to_string(),
                i => format!("X'{}'", hex(GROUPS[i as usize % GROUPS.len()])),
            };
            let s = match rng.below(STRINGS.len() as u64 + 2) as usize {
                i if i < STRINGS.len() => format!("X'{}'", hex(STRINGS[i])),
                _ => "NULL".to_string(),
            };
            let n = match rng.below(10) {
                0 => "NULL".to_string(),
                _ => (rng.below(2001) as i64 - 1000).to_string(),
            };
            let d = match rng.below(10) {
                0 => "NULL".to_string(),
                _ => {
                    let cents = rng.below(199_999) as i64 - 99_999;
                    format!(
                        "{}{}.{:02}",
                        if cents < 0 { "-" } else { "" },
                        cents.abs() / 100,
                        cents.abs() % 100
                    )
                }
            };
            let u = rng.next().to_string();
            let dt = match rng.below(10) {
                0 => "NULL".to_string(),
                _ => format!(
                    "'{}-{:02}-{:02} {:02}:{:02}:{:02}'",
                    2019 + rng.below(4),
                    1 + rng.below(12),
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                ),
            };
            let f = (rng.below(4001) as f64 - 2000.0) * 0.25;
            (id, format!("({id}, {g}, {s}, {n}, {d}, {u}, {dt}, {f})"))
        })
        .collect()
}

fn values(payload: &Bytes, columns: usize) -> Vec<Option<Vec<u8>>> {
    decode_text_row(payload, columns)
        .expect("row")
        .into_iter()
        .map(|v| v.map(<[u8]>::to_vec))
        .collect()
}

fn show(row: &[Option<Vec<u8>>]) -> String {
    let cells: Vec<String> = row
        .iter()
        .map(|v| match v {
            Some(b) => format!("{:?}", String::from_utf8_lossy(b)),
            None => "NULL".into(),
        })
        .collect();
    format!("({})", cells.join(", "))
}

fn general_ci() -> Collation {
    Collation::from_id(45).expect("utf8mb4_general_ci")
}

fn cell_equal(a: &Option<Vec<u8>>, b: &Option<Vec<u8>>, collated: bool) -> bool {
    match (a, b) {
        (Some(x), Some(y)) if collated => general_ci().compare(x, y) == Ordering::Equal,
        _ => a == b,
    }
}

/// Compares merged rows with MariaDB's; `Err` describes the first difference.
fn compare(
    check: &Check,
    ours: &[Vec<Option<Vec<u8>>>],
    theirs: &[Vec<Option<Vec<u8>>>],
) -> Result<(), String> {
    if ours.len() != theirs.len() {
        return Err(format!("{} rows, MariaDB {}", ours.len(), theirs.len()));
    }
    match check {
        Check::Ordered { collated } => {
            for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
                let same = a
                    .iter()
                    .zip(b)
                    .enumerate()
                    .all(|(c, (x, y))| cell_equal(x, y, collated.contains(&c)));
                if !same {
                    return Err(format!("row {i}: ours {}, MariaDB {}", show(a), show(b)));
                }
            }
        }
        Check::Unordered => {
            let mut a = ours.to_vec();
            let mut b = theirs.to_vec();
            a.sort();
            b.sort();
            if a != b {
                return Err("different rows".into());
            }
        }
        Check::TiesFree { keys } => {
            // Split both into runs of rows equal on the keys; runs must match in order,
            // each run as a multiset.
            let class = |row: &Vec<Option<Vec<u8>>>| -> Vec<Option<Box<[u32]>>> {
                keys.iter()
                    .map(|k| row[*k].as_ref().map(|v| general_ci().sort_key(v)))
                    .collect()
            };
            let runs = |rows: &[Vec<Option<Vec<u8>>>]| {
                let mut out: Vec<(KeyClass, Vec<Cells>)> = Vec::new();
                for row in rows {
                    let c = class(row);
                    match out.last_mut() {
                        Some((last, members)) if *last == c => members.push(row.clone()),
                        _ => out.push((c, vec![row.clone()])),
                    }
                }
                for (_, members) in &mut out {
                    members.sort();
                }
                out
            };
            let (a, b) = (runs(ours), runs(theirs));
            if a.len() != b.len() {
                return Err(format!(
                    "{} runs of equal keys, MariaDB {}",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                if x != y {
                    return Err(format!(
                        "run {i}: ours {}, MariaDB {}",
                        show(&x.1[0]),
                        show(&y.1[0])
                    ));
                }
            }
        }
        Check::ConcatMultiset { column } => {
            for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
                let tokens = |v: &Option<Vec<u8>>| {
                    let mut t: Vec<Vec<u8>> = v
                        .as_deref()
                        .unwrap_or_default()
                        .split(|c| *c == b',')
                        .map(<[u8]>::to_vec)
                        .collect();
                    t.sort();
                    t
                };
                let same_rest = a
                    .iter()
                    .zip(b)
                    .enumerate()
                    .filter(|(c, _)| c != column)
                    .all(|(c, (x, y))| cell_equal(x, y, c == 0));
                if !same_rest || tokens(&a[*column]) != tokens(&b[*column]) {
                    return Err(format!("row {i}: ours {}, MariaDB {}", show(a), show(b)));
                }
            }
        }
    }
    Ok(())
}

/// The parts of a column definition a client relies on. Other flags depend on
/// MariaDB's execution plan, not on the query's result type: the same COUNT(*) comes
/// with NOT_NULL|BINARY from a plain aggregate and NOT_NULL alone from a grouped one,
/// SUM with or without BINARY, and grouped columns sometimes carry bit 32768 (the
/// internal GROUP_FLAG, which clients would read as NUM_FLAG).
fn shape(c: &ColumnDef) -> (String, u8, u16, u8, u16, u32) {
    let flags = c.flags & colflag::UNSIGNED;
    (
        c.name.clone(),
        c.col_type,
        c.charset,
        c.decimals,
        flags,
        c.length,
    )
}

async fn run_case(client: &mut RawClient, case: &Case, presorted: bool) -> Result<(), String> {
    if let Some(len) = case.group_concat_max_len {
        client
            .execute(&format!("SET SESSION group_concat_max_len = {len}"))
            .await;
    }
    let single = client.query(&case.single).await;
    let mut parts: Vec<ResultSet> = Vec::new();
    for t in ["t0", "t1", "t2"] {
        parts.push(client.query(&case.part.replace("{t}", t)).await);
    }
    if case.group_concat_max_len.is_some() {
        client
            .execute("SET SESSION group_concat_max_len = DEFAULT")
            .await;
    }
    let node_columns: Vec<Vec<ColumnDef>> = parts.iter().map(|p| p.columns.clone()).collect();
    let options = MergeOptions {
        group_concat_max_len: case.group_concat_max_len.unwrap_or(1024),
        ..MergeOptions::default()
    };
    let plan = QueryPlan::from_spec(
        Vec::new(),
        MergeSpec {
            presorted_groups: presorted,
            ..case.spec.clone()
        },
    );
    let merger =
        Merger::with_options(&plan, &node_columns, options.clone()).map_err(|e| e.to_string())?;
    if presorted && !merger.description().contains("OrderedAggregate") {
        return Err(format!("not streaming: {}", merger.description()));
    }
    let rows: Vec<Vec<Bytes>> = parts.into_iter().map(|p| p.rows).collect();
    let merged =
        merge_all_with_options(&plan, &node_columns, rows, options).map_err(|e| e.to_string())?;
    let width = case.spec.visible_columns;
    let mut ours: Vec<Vec<Option<Vec<u8>>>> = merged.iter().map(|p| values(p, width)).collect();
    let mut theirs: Vec<Vec<Option<Vec<u8>>>> = single
        .rows
        .iter()
        .map(|p| values(p, single.columns.len()))
        .collect();
    let truncating = case.group_concat_max_len.filter(|len| *len < 1 << 20);
    if let Some(max) = truncating {
        // Which values survive a truncation depends on arrival order, and so does the
        // cut (at a character boundary, up to 3 bytes short): compare "cut" or the length.
        let norm = |len: usize| {
            if len + 3 >= max {
                b"cut".to_vec()
            } else {
                len.to_string().into_bytes()
            }
        };
        for row in &mut ours {
            row[1] = row[1].as_ref().map(|v| norm(v.len()));
        }
        for row in &mut theirs {
            row[1] = row[1]
                .as_ref()
                .map(|v| norm(String::from_utf8_lossy(v).parse().unwrap_or(0)));
        }
    }
    if theirs.is_empty() {
        return Err("MariaDB returned no rows: the case tests nothing".into());
    }
    compare(&case.check, &ours, &theirs)?;
    let our_columns: Vec<_> = merger.columns().iter().map(shape).collect();
    let their_columns: Vec<_> = single.columns.iter().map(shape).collect();
    if truncating.is_none() && our_columns != their_columns {
        return Err(format!(
            "columns: ours {our_columns:?}, MariaDB {their_columns:?}"
        ));
    }
    Ok(())
}

#[tokio::test]
async fn merging_three_parts_reproduces_the_single_table_answer() {
    let mut node = common::start().await;
    let mut client = RawClient::connect(&node.node, "test").await;
    let ddl = "(id INT PRIMARY KEY, g VARCHAR(10) COLLATE utf8mb4_general_ci, \
               s VARCHAR(20) COLLATE utf8mb4_general_ci, n INT, d DECIMAL(10,2), u BIGINT UNSIGNED, \
               dt DATETIME, f DOUBLE) CHARACTER SET utf8mb4";
    for t in ["t", "t0", "t1", "t2"] {
        client.execute(&format!("CREATE TABLE {t} {ddl}")).await;
    }
    let all = rows(1200);
    for chunk in all.chunks(200) {
        let tuples: Vec<&str> = chunk.iter().map(|(_, v)| v.as_str()).collect();
        client
            .execute(&format!("INSERT INTO t VALUES {}", tuples.join(",")))
            .await;
        for part in 0..3u32 {
            // Uneven parts: a third of the rows on node 0, the rest split by id.
            let mine: Vec<&str> = chunk
                .iter()
                .filter(|(id, _)| match id % 6 {
                    0 | 1 => part == 0,
                    2..=4 => part == 1,
                    _ => part == 2,
                })
                .map(|(_, v)| v.as_str())
                .collect();
            client
                .execute(&format!("INSERT INTO t{part} VALUES {}", mine.join(",")))
                .await;
        }
    }

    let mut failures = Vec::new();
    let cases = cases();
    for case in &cases {
        if let Err(why) = run_case(&mut client, case, false).await {
            failures.push(format!("{}: {why}", case.name));
        }
        if case.presorted {
            if let Err(why) = run_case(&mut client, case, true).await {
                failures.push(format!("{} (streaming aggregation): {why}", case.name));
            }
        }
    }
    node.node.stop().await.ok();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from MariaDB:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
