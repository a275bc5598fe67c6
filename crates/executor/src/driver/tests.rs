//! The driver over a fake `NodeIo` with canned column definitions and rows: what it
//! sends, what it reads (exactly what the merge needs), what it drains, and how
//! failures surface.

use std::collections::VecDeque;

use super::*;
use crate::test_support::{int_col, payload, Collect};
use strata_catalog::DataNodeId;
use strata_planner::{MergeSpec, NodeStatement, SortKey, WriteKind};

/// A data node's canned behaviour.
#[derive(Debug, Default)]
struct FakeNode {
    /// Replies in order: a result set's head, or an OK, or an error.
    replies: VecDeque<Result<NodeReply, MysqlError>>,
    /// Rows of the current result set; `Err` ends it with that error.
    rows: VecDeque<Result<Bytes, MysqlError>>,
    /// Statements received.
    sent: Vec<String>,
    /// Rows read by the merge.
    read: usize,
    /// Rows read away by `drain`.
    drained: usize,
    /// `send` fails.
    unreachable: bool,
}

#[derive(Debug, Default)]
struct FakeIo {
    nodes: Vec<FakeNode>,
    /// Calls in order, e.g. `send 0`, `reply 1`, `row 0`.
    log: Vec<String>,
    /// `write_part_done` calls: node, whether it applied the write.
    parts_done: Vec<(usize, bool)>,
}

impl NodeIo for FakeIo {
    async fn send(&mut self, node: usize, statements: &[&str]) -> Result<(), MysqlError> {
        self.log.push(format!("send {node}"));
        let n = &mut self.nodes[node];
        if n.unreachable {
            return Err(MysqlError::new(
                codes::NET_READ,
                format!("node {node} down"),
            ));
        }
        n.sent.extend(statements.iter().map(|s| s.to_string()));
        Ok(())
    }

    async fn read_reply(&mut self, node: usize) -> Result<NodeReply, MysqlError> {
        self.log.push(format!("reply {node}"));
        self.nodes[node]
            .replies
            .pop_front()
            .unwrap_or_else(|| Err(MysqlError::new(codes::UNKNOWN, "no reply")))
    }

    async fn next_row(&mut self, node: usize) -> Result<Option<Bytes>, MysqlError> {
        self.log.push(format!("row {node}"));
        let n = &mut self.nodes[node];
        match n.rows.pop_front() {
            Some(Ok(row)) => {
                n.read += 1;
                Ok(Some(row))
            }
            Some(Err(e)) => Err(e),
            None => Ok(None),
        }
    }

    async fn drain(&mut self, node: usize) {
        self.log.push(format!("drain {node}"));
        let n = &mut self.nodes[node];
        n.drained += n.rows.len();
        n.rows.clear();
    }

    async fn execute(&mut self, node: usize, sql: &str) -> Result<(), MysqlError> {
        self.log.push(format!("execute {node}"));
        self.nodes[node].sent.push(sql.to_string());
        Ok(())
    }

    fn write_part_done(&mut self, node: usize, result: Result<(), &MysqlError>) {
        self.parts_done.push((node, result.is_ok()));
    }
}

fn result_set(values: &[i64]) -> FakeNode {
    FakeNode {
        replies: VecDeque::from([Ok(NodeReply::Rows(vec![int_col("n")]))]),
        rows: values
            .iter()
            .map(|v| Ok(payload(&[Some(&v.to_string())])))
            .collect(),
        ..FakeNode::default()
    }
}

fn ordered_plan(nodes: usize, limit: Option<u64>) -> QueryPlan {
    let parts = (1..=nodes as u32)
        .map(|dnid| NodeStatement {
            dnid: DataNodeId::new(dnid),
            sql: "SELECT n FROM t ORDER BY 1".into(),
        })
        .collect();
    QueryPlan::from_spec(
        parts,
        MergeSpec {
            visible_columns: 1,
            order_by: vec![SortKey {
                column: 0,
                descending: false,
            }],
            limit,
            ..MergeSpec::default()
        },
    )
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Runs `plan` on `io` with the default merge options: its outcome, and what the
/// client was sent.
fn query(io: &mut FakeIo, plan: &QueryPlan) -> (Result<QueryOutcome, ()>, Collect) {
    let mut sink = Collect::default();
    let outcome = run(run_query(io, plan, MergeOptions::default(), &mut sink));
    (outcome, sink)
}

fn numbers(rows: &[Vec<Option<String>>]) -> Vec<String> {
    rows.iter().filter_map(|r| r[0].clone()).collect()
}

#[test]
fn a_query_sends_to_every_node_before_reading_and_merges_in_order() {
    let mut io = FakeIo {
        nodes: vec![result_set(&[1, 4, 5]), result_set(&[2, 3, 6])],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &ordered_plan(2, None));
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    assert_eq!(numbers(&sink.rows), ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(&io.log[..4], ["send 0", "send 1", "reply 0", "reply 1"]);
    assert_eq!(io.nodes[0].sent, ["SELECT n FROM t ORDER BY 1"]);
}

#[test]
fn a_limit_stops_reading_and_drains_the_rest() {
    let mut io = FakeIo {
        nodes: vec![result_set(&[1, 2, 3, 7, 8]), result_set(&[4, 5, 6, 9])],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &ordered_plan(2, Some(2)));
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    assert_eq!(numbers(&sink.rows), ["1", "2"]);
    // The merge read node 0's first two rows and node 1's first (4 > 2 decides that 2
    // is next); the rest were read away.
    assert_eq!((io.nodes[0].read, io.nodes[0].drained), (2, 3));
    assert_eq!((io.nodes[1].read, io.nodes[1].drained), (1, 3));
}

#[test]
fn any_node_demand_reads_round_robin() {
    let mut io = FakeIo {
        nodes: vec![result_set(&[1, 2]), result_set(&[3, 4]), result_set(&[5])],
        ..FakeIo::default()
    };
    let plan = QueryPlan::from_spec(
        NodeStatement::same(&DataNodeId::from_numbers(&[1, 2, 3]), "SELECT n FROM t"),
        MergeSpec {
            visible_columns: 1,
            ..MergeSpec::default()
        },
    );
    let (outcome, sink) = query(&mut io, &plan);
    outcome.expect("sink");
    let reads: Vec<&str> = io
        .log
        .iter()
        .filter(|l| l.starts_with("row"))
        .map(String::as_str)
        .take(3)
        .collect();
    assert_eq!(reads, ["row 0", "row 1", "row 2"]);
    let mut got = numbers(&sink.rows);
    got.sort();
    assert_eq!(got, ["1", "2", "3", "4", "5"]);
}

#[test]
fn a_node_error_before_the_columns_drains_the_others_and_sends_nothing() {
    let mut failing = result_set(&[]);
    failing.replies = VecDeque::from([Err(MysqlError::new(
        (1146, "42S02"),
        "Table 'db.t' doesn't exist",
    ))]);
    let mut io = FakeIo {
        nodes: vec![result_set(&[1, 2]), failing],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &ordered_plan(2, None));
    let Ok(QueryOutcome::FailedBeforeColumns(e)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(e.code, 1146);
    assert!(sink.columns.is_empty());
    assert_eq!(io.nodes[0].drained, 2);
}

#[test]
fn a_node_error_after_the_columns_ends_the_result_and_drains_the_rest() {
    let mut broken = result_set(&[2]);
    broken.rows.push_back(Err(MysqlError::new(
        (1317, "70100"),
        "Query execution was interrupted",
    )));
    let mut io = FakeIo {
        nodes: vec![result_set(&[1, 3, 4]), broken],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &ordered_plan(2, None));
    let Ok(QueryOutcome::FailedAfterColumns(e)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(e.code, 1317);
    assert_eq!(sink.columns, ["n"]);
    assert!(io.log.contains(&"drain 0".to_string()));
    assert!(!io.log.contains(&"drain 1".to_string()));
}

/// A node whose only reply is the write's OK (no savepoint or BEGIN before it).
fn write_ok(affected_rows: u64) -> FakeNode {
    let mut node = ok(affected_rows, 0);
    node.replies.pop_front();
    node
}

/// A node whose only reply is the write's error.
fn failing_write(error: MysqlError) -> FakeNode {
    let mut node = write_ok(0);
    node.replies[0] = Err(error);
    node
}

fn ok(affected_rows: u64, last_insert_id: u64) -> FakeNode {
    FakeNode {
        replies: VecDeque::from([
            Ok(NodeReply::Ok(OkPacket::default())),
            Ok(NodeReply::Ok(OkPacket {
                affected_rows,
                last_insert_id,
                ..OkPacket::default()
            })),
        ]),
        ..FakeNode::default()
    }
}

#[test]
fn a_write_combines_ok_packets_by_its_kind() {
    let write = Write::new(
        WriteKind::SplitInsert,
        vec![
            NodeStatement {
                dnid: DataNodeId::new(1),
                sql: "INSERT INTO t VALUES (1)".into(),
            },
            NodeStatement {
                dnid: DataNodeId::new(2),
                sql: "INSERT INTO t VALUES (2), (3)".into(),
            },
        ],
    );
    assert!(write.atomic);
    let mut io = FakeIo {
        nodes: vec![ok(1, 0), ok(2, 7)],
        ..FakeIo::default()
    };
    let result = run(run_write(&mut io, &write, Some("sp"), usize::MAX));
    assert!(result.failures.is_empty());
    assert_eq!(
        io.nodes[1].sent,
        ["SAVEPOINT sp", "INSERT INTO t VALUES (2), (3)"]
    );
    assert_eq!(&io.log[..3], ["send 0", "send 1", "reply 0"]);
    let combined = result.combined(write.combine());
    assert_eq!((combined.affected_rows, combined.last_insert_id), (3, 7));
    let global = Write::new(WriteKind::GlobalWrite, write.parts.clone());
    assert_eq!(result.combined(global.combine()).affected_rows, 1);
}

#[test]
fn a_write_failing_on_one_node_rolls_back_every_node_to_the_savepoint() {
    let mut failing = ok(0, 0);
    failing.replies[1] = Err(MysqlError::new((1062, "23000"), "Duplicate entry"));
    let mut io = FakeIo {
        nodes: vec![ok(1, 0), failing],
        ..FakeIo::default()
    };
    let write = Write::new(
        WriteKind::Dml,
        NodeStatement::same(&DataNodeId::from_numbers(&[1, 2]), "UPDATE t SET a = 1"),
    );
    let result = run(run_write(&mut io, &write, Some("sp"), usize::MAX));
    assert_eq!(result.oks.len(), 1);
    assert_eq!(result.failures[0].0, 1);
    for node in &io.nodes {
        assert_eq!(
            node.sent.last().map(String::as_str),
            Some("ROLLBACK TO SAVEPOINT sp")
        );
    }
    // Without a savepoint nothing is rolled back.
    let failing = failing_write(MysqlError::new((1062, "23000"), "Duplicate entry"));
    let first = write_ok(1);
    let mut io = FakeIo {
        nodes: vec![first, failing],
        ..FakeIo::default()
    };
    let result = run(run_write(&mut io, &write, None, usize::MAX));
    assert_eq!((result.oks.len(), result.failures.len()), (1, 1));
    assert!(!io.log.iter().any(|l| l.starts_with("execute")));
}

#[test]
fn a_write_reports_each_node_done_once_in_plan_order() {
    let failing = failing_write(MysqlError::new((1050, "42S01"), "Table 't' already exists"));
    let first = write_ok(0);
    let mut io = FakeIo {
        nodes: vec![
            first,
            failing,
            FakeNode {
                unreachable: true,
                ..FakeNode::default()
            },
        ],
        ..FakeIo::default()
    };
    let write = Write::new(
        WriteKind::DdlFanOut,
        NodeStatement::same(
            &DataNodeId::from_numbers(&[1, 2, 3]),
            "CREATE TABLE t (a INT)",
        ),
    );
    let result = run(run_write(&mut io, &write, None, usize::MAX));
    assert_eq!((result.oks.len(), result.failures.len()), (1, 2));
    assert_eq!(io.parts_done, [(0, true), (1, false), (2, false)]);
}

/// A node answering one result set of (k INT, v VARCHAR) rows.
fn pairs(rows: &[(Option<&str>, &str)]) -> FakeNode {
    FakeNode {
        replies: VecDeque::from([Ok(NodeReply::Rows(vec![
            int_col("k"),
            crate::test_support::varchar_col("v"),
        ]))]),
        rows: rows
            .iter()
            .map(|(k, v)| Ok(payload(&[*k, Some(v)])))
            .collect(),
        ..FakeNode::default()
    }
}

/// `a LEFT JOIN b ON b.k = a.k`, output a.v, b.v: b hashed from dnid 1 (position 0),
/// a streamed from dnids 2 and 3 (positions 1 and 2).
fn join_plan(limit: Option<u64>) -> QueryPlan {
    use strata_planner::{
        Columns, HashJoin, JoinColumn, JoinKey, JoinSide, JoinStep, Operator, Scatter,
    };
    let side = |table: &str, dnids: &[u32]| JoinSide {
        table: table.into(),
        scatter: Scatter {
            parts: dnids
                .iter()
                .map(|&d| NodeStatement {
                    dnid: DataNodeId::new(d),
                    sql: format!("SELECT k, v FROM {table}"),
                })
                .collect(),
        },
        collations: Vec::new(),
    };
    let column = |side: usize| JoinColumn::Side {
        side,
        column: 1,
        name: None,
    };
    let join = HashJoin {
        probe: side("a", &[2, 3]),
        steps: vec![JoinStep {
            outer: true,
            side: side("b", &[1]),
            keys: vec![JoinKey {
                probe_side: 0,
                probe_column: 0,
                column: 0,
            }],
            lookup: None,
        }],
        output: vec![column(0), column(1)],
    };
    let mut root = Operator::HashJoin(Box::new(join));
    if let Some(limit) = limit {
        root = Operator::Limit {
            input: Box::new(root),
            offset: 0,
            limit: Some(limit),
        };
    }
    QueryPlan {
        root: Operator::Project {
            input: Box::new(root),
            columns: Columns::First(2),
        },
        collations: Vec::new(),
        other_collation_columns: Vec::new(),
    }
}

#[test]
fn a_join_reads_its_hashed_side_whole_before_it_sends_the_streamed_side() {
    let plan = join_plan(None);
    assert_eq!(
        plan.nodes(),
        [DataNodeId::new(2), DataNodeId::new(3), DataNodeId::new(1)]
    );
    // Positions follow plan.nodes(): 0 = dnid 2, 1 = dnid 3, 2 = dnid 1 (hashed side).
    let mut io = FakeIo {
        nodes: vec![
            pairs(&[(Some("1"), "a1"), (None, "a-null")]),
            pairs(&[(Some("2"), "a2"), (Some("1"), "a1'")]),
            pairs(&[(Some("1"), "b1"), (Some("1"), "b1'"), (None, "b-null")]),
        ],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &plan);
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    let first_probe_send = io.log.iter().position(|l| l == "send 0");
    let last_hashed_row = io.log.iter().rposition(|l| l == "row 2");
    assert!(last_hashed_row < first_probe_send, "{:?}", io.log);
    let mut rows: Vec<(Option<String>, Option<String>)> = sink
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    rows.sort();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        rows,
        [
            (s("a-null"), None),
            (s("a1"), s("b1")),
            (s("a1"), s("b1'")),
            (s("a1'"), s("b1")),
            (s("a1'"), s("b1'")),
            (s("a2"), None),
        ]
    );
}

#[test]
fn an_error_on_a_hashed_side_fails_before_the_streamed_side_is_sent() {
    let plan = join_plan(None);
    let mut hashed = pairs(&[(Some("1"), "b1")]);
    hashed.rows.push_back(Err(MysqlError::new(
        (1317, "70100"),
        "Query execution was interrupted",
    )));
    let mut io = FakeIo {
        nodes: vec![pairs(&[]), pairs(&[]), hashed],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &plan);
    assert!(
        matches!(&outcome, Ok(QueryOutcome::FailedBeforeColumns(e)) if e.code == 1317),
        "{outcome:?}"
    );
    assert!(sink.columns.is_empty());
    assert!(io.nodes[0].sent.is_empty() && io.nodes[1].sent.is_empty());
}

#[test]
fn a_join_under_a_limit_stops_streaming_and_drains_the_rest() {
    let plan = join_plan(Some(1));
    let many: Vec<(Option<&str>, &str)> = (0..50).map(|_| (Some("1"), "a")).collect();
    let mut io = FakeIo {
        nodes: vec![pairs(&many), pairs(&many), pairs(&[(Some("1"), "b")])],
        ..FakeIo::default()
    };
    let (outcome, sink) = query(&mut io, &plan);
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    assert_eq!(sink.rows.len(), 1);
    let read = io.nodes[0].read + io.nodes[1].read;
    assert!(read < 5, "read {read} streamed rows for one");
    assert_eq!(io.nodes[0].drained + io.nodes[1].drained + read, 100);
}

#[test]
fn info_texts_of_several_nodes_add_up_when_their_labels_agree() {
    let update = [
        "Rows matched: 2  Changed: 1  Warnings: 0",
        "Rows matched: 3  Changed: 0  Warnings: 1",
    ];
    assert_eq!(
        summed_info(update.into_iter()),
        "Rows matched: 5  Changed: 1  Warnings: 1"
    );
    let insert = [
        "Records: 2  Duplicates: 1  Warnings: 0",
        "Records: 3  Duplicates: 0  Warnings: 0",
    ];
    assert_eq!(
        summed_info(insert.into_iter()),
        "Records: 5  Duplicates: 1  Warnings: 0"
    );
    // A node that sent no text (one row of an INSERT), or texts of another shape.
    assert_eq!(
        summed_info(["Records: 2  Duplicates: 1  Warnings: 0", ""].into_iter()),
        ""
    );
    assert_eq!(
        summed_info(
            [
                "Records: 2  Warnings: 0",
                "Records: 2  Duplicates: 0  Warnings: 0"
            ]
            .into_iter()
        ),
        ""
    );
    assert_eq!(summed_info(["garbage"].into_iter()), "");
    assert_eq!(summed_info(std::iter::empty()), "");
}
