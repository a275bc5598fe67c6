//! What spilling costs: the same sort (ORDER BY a string under utf8mb4_general_ci and an
//! integer over rows arriving unsorted from 4 nodes, about 20 MiB charged) through the
//! public `Merger`, in memory under a 64 MiB budget and spilled to sorted runs under a
//! 1 MiB budget (runs in a temporary directory, page cache). Criterion reports time
//! per sort of `ROWS` rows; rows/s is `ROWS` divided by it.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata_executor::{merge_all_with_options, MemoryBudget, MergeOptions, Spill};
use strata_planner::{Columns, Operator, QueryPlan, Scatter, SortKey};
use strata_protocol::constants::coltype;
use strata_protocol::packets::{encode_text_row, ColumnDef};

const ROWS: usize = 100_000;
const NODES: usize = 4;

fn column(name: &str, col_type: u8, charset: u16) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        org_name: name.into(),
        col_type,
        charset,
        length: 80,
        ..ColumnDef::default()
    }
}

fn plan() -> QueryPlan {
    QueryPlan {
        root: Operator::Project {
            input: Box::new(Operator::Sort {
                input: Box::new(Operator::Gather(Scatter { parts: Vec::new() })),
                keys: vec![
                    SortKey {
                        column: 1,
                        descending: false,
                    },
                    SortKey {
                        column: 0,
                        descending: true,
                    },
                ],
                keep: None,
            }),
            columns: Columns::First(3),
        },
        collations: vec![None, Some(45), None],
        other_collation_columns: Vec::new(),
    }
}

/// Each node's rows: an id, a key with many ties, a 100-byte pad.
fn rows() -> Vec<Vec<Bytes>> {
    let pad = "x".repeat(100);
    (0..NODES)
        .map(|node| {
            (0..ROWS / NODES)
                .map(|i| {
                    let id = (i * NODES + node).to_string();
                    let key = format!("key{}", (i * 7919 + node * 13) % 5000);
                    let mut buf = BytesMut::new();
                    encode_text_row(
                        &mut buf,
                        [
                            Some(id.as_bytes()),
                            Some(key.as_bytes()),
                            Some(pad.as_bytes()),
                        ],
                    );
                    buf.freeze()
                })
                .collect()
        })
        .collect()
}

fn sort(c: &mut Criterion) {
    let defs = vec![
        vec![
            column("id", coltype::LONG, 63),
            column("k", coltype::VAR_STRING, 45),
            column("pad", coltype::VAR_STRING, 45),
        ];
        NODES
    ];
    let input = rows();
    let plan = plan();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut group = c.benchmark_group("sort_100k_rows");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    for (name, budget, spill) in [
        ("in_memory_64MiB", 64 << 20, None),
        (
            "spilled_1MiB",
            1 << 20,
            Some(Spill::new(dir.path(), u64::MAX, None)),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let options = MergeOptions {
                    memory: MemoryBudget::new(budget),
                    spill: spill.clone(),
                    ..MergeOptions::default()
                };
                let out = merge_all_with_options(&plan, &defs, input.clone(), options)
                    .expect("the sort succeeds");
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sort);
criterion_main!(benches);
