//! The materialize driver over a scripted `NodeIo`: what each connection is sent, in
//! which order, and that every failure discards the scratch connection.

use std::collections::VecDeque;

use bytes::Bytes;
use strata_catalog::DataNodeId;
use strata_planner::{Materialize, TableCopy};
use strata_protocol::packets::{ColumnDef, OkPacket};
use strata_protocol::{codes, MysqlError};

use super::*;
use crate::test_support::{int_col, payload, show_column, varchar_col, Collect};

/// One reply a connection gives, in order.
#[derive(Debug)]
enum Reply {
    Ok,
    Rows(Vec<ColumnDef>, Vec<Bytes>),
    Err(u16),
}

#[derive(Debug, Default)]
struct Conn {
    replies: VecDeque<Reply>,
    rows: VecDeque<Bytes>,
    sent: Vec<String>,
    drained: usize,
}

#[derive(Debug, Default)]
struct ScriptIo {
    conns: Vec<Conn>,
    discarded: Vec<usize>,
}

impl NodeIo for ScriptIo {
    async fn send(&mut self, node: usize, statements: &[&str]) -> Result<(), MysqlError> {
        let c = &mut self.conns[node];
        c.sent.extend(statements.iter().map(|s| s.to_string()));
        Ok(())
    }

    async fn read_reply(&mut self, node: usize) -> Result<NodeReply, MysqlError> {
        let c = &mut self.conns[node];
        match c.replies.pop_front() {
            Some(Reply::Ok) => Ok(NodeReply::Ok(OkPacket::default())),
            Some(Reply::Rows(columns, rows)) => {
                c.rows = rows.into();
                Ok(NodeReply::Rows(columns))
            }
            Some(Reply::Err(code)) => Err(MysqlError::new((code, "HY000"), "failed")),
            None => Err(MysqlError::new(codes::UNKNOWN, "no reply scripted")),
        }
    }

    async fn next_row(&mut self, node: usize) -> Result<Option<Bytes>, MysqlError> {
        Ok(self.conns[node].rows.pop_front())
    }

    async fn drain(&mut self, node: usize) {
        let c = &mut self.conns[node];
        c.drained += c.rows.len();
        c.rows.clear();
    }

    async fn execute(&mut self, _node: usize, _sql: &str) -> Result<(), MysqlError> {
        unreachable!("the materialize driver sends through send/read_reply")
    }

    fn discard(&mut self, node: usize) {
        self.discarded.push(node);
    }
}

/// A scripted `NodeIo` whose connection `i` gives the replies `replies[i]`, in order.
fn script(replies: Vec<Vec<Reply>>) -> ScriptIo {
    ScriptIo {
        conns: replies
            .into_iter()
            .map(|r| Conn {
                replies: r.into(),
                ..Conn::default()
            })
            .collect(),
        discarded: Vec::new(),
    }
}

/// The scratch connection's replies: `before` OKs, the statement's result (a `name`
/// column, no rows), then the OK of the DROP.
fn scratch_replies(before: usize) -> Vec<Reply> {
    let mut replies: Vec<Reply> = (0..before).map(|_| Reply::Ok).collect();
    replies.push(Reply::Rows(vec![text("name")], vec![]));
    replies.push(Reply::Ok);
    replies
}

/// The script of a copy of `t` with no rows on either node, the scratch connection
/// giving `scratch`.
fn empty_copy(scratch: Vec<Reply>) -> ScriptIo {
    script(vec![
        vec![definition(), columns(), rows(&[])],
        vec![rows(&[])],
        scratch,
    ])
}

fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

fn text(name: &str) -> ColumnDef {
    varchar_col(name)
}

/// `t` (id INT, name VARCHAR) sharded over nodes 1 and 2, `g` global and complete on
/// the target node 1; the statement runs on node 1.
fn plan() -> Materialize {
    Materialize {
        dnid: dn(1),
        copies: vec![
            TableCopy::new("db", "t", vec![dn(1), dn(2)], false),
            TableCopy::new("db", "g", vec![dn(1)], true),
        ],
        sql: "SELECT name FROM t WHERE id IN (SELECT id FROM g)".into(),
        creates_table: false,
        lock: None,
        on_session: false,
    }
}

/// The reply to `SHOW CREATE TABLE` of `table`.
fn definition_of(table: &str, create: &str) -> Reply {
    Reply::Rows(
        vec![text("Table"), text("Create Table")],
        vec![payload(&[Some(table), Some(create)])],
    )
}

fn definition() -> Reply {
    definition_of("t", "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `name` varchar(10) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci")
}

/// The reply to `SHOW FULL COLUMNS` with `rows`.
fn show_columns(rows: &[[Option<&str>; 7]]) -> Reply {
    let names = [
        "Field",
        "Type",
        "Collation",
        "Null",
        "Key",
        "Default",
        "Extra",
    ];
    Reply::Rows(
        names.iter().map(|n| text(n)).collect(),
        rows.iter().map(|r| payload(r)).collect(),
    )
}

fn columns() -> Reply {
    show_columns(&[
        show_column("id", "int(11)", None, "NO", "PRI", ""),
        show_column(
            "name",
            "varchar(10)",
            Some("utf8mb4_general_ci"),
            "YES",
            "",
            "",
        ),
    ])
}

fn rows(rows: &[(&str, Option<&str>)]) -> Reply {
    Reply::Rows(
        vec![int_col("id"), text("name")],
        rows.iter()
            .map(|(id, name)| payload(&[Some(id), *name]))
            .collect(),
    )
}

const CREATE: &str = "SET STATEMENT sql_mode='' FOR CREATE TEMPORARY TABLE `db`.`t` (\n  `id` int(11) NOT NULL,\n  `name` varchar(10) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
const READ: &str =
    "SET STATEMENT time_zone=_latin1'+00:00' FOR SELECT `id`, CAST(`name` AS BINARY) FROM `db`.`t`";

fn options(in_transaction: bool, max_rows: u64) -> MaterializeOptions {
    MaterializeOptions {
        in_transaction,
        max_rows,
        session_names: None,
    }
}

#[tokio::test]
async fn copies_what_is_not_on_the_node_runs_the_statement_there_and_drops_the_copies() {
    let plan = plan();
    assert_eq!(plan.sources(false), vec![dn(1), dn(2)]);
    let mut io = script(vec![
        vec![
            definition(),
            columns(),
            rows(&[("1", Some("é")), ("3", None)]),
        ],
        vec![rows(&[("2", Some("b"))])],
        vec![
            Reply::Ok,
            Reply::Ok,
            Reply::Rows(
                vec![text("name")],
                vec![payload(&[Some("é")]), payload(&[Some("b")])],
            ),
            Reply::Ok,
        ],
    ]);
    let mut sink = Collect::default();
    let outcome = run_materialize(&mut io, &plan, options(false, 10), &mut sink).await;
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    assert_eq!(sink.columns, ["name"]);
    assert_eq!(
        sink.rows,
        vec![vec![Some("é".to_string())], vec![Some("b".to_string())]]
    );
    assert_eq!(
        io.conns[0].sent,
        vec![
            "SET STATEMENT sql_mode='', character_set_results=utf8mb4 FOR SHOW CREATE TABLE `db`.`t`".to_string(),
            "SET STATEMENT character_set_results=utf8mb4 FOR SHOW FULL COLUMNS FROM `db`.`t`".to_string(),
            READ.to_string(),
        ]
    );
    assert_eq!(io.conns[1].sent, vec![READ.to_string()]);
    // One batch with the rows of both nodes (the global table is read in place).
    assert_eq!(
        io.conns[2].sent,
        vec![
            CREATE.to_string(),
            "SET STATEMENT sql_mode=_latin1'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO', time_zone=_latin1'+00:00', check_constraint_checks=0 FOR INSERT INTO `db`.`t` (`id`, `name`) VALUES (1, _utf8mb4 X'C3A9'), (3, NULL), (2, _utf8mb4 X'62')".to_string(),
            plan.sql.clone(),
            "DROP TEMPORARY TABLE IF EXISTS `db`.`t`".to_string(),
        ]
    );
    assert!(io.discarded.is_empty());
}

#[tokio::test]
async fn inside_a_transaction_every_table_is_copied() {
    let plan = plan();
    let global_definition = definition_of(
        "g",
        "CREATE TABLE `g` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB",
    );
    let global_columns = show_columns(&[show_column("id", "int(11)", None, "NO", "", "")]);
    let mut io = script(vec![
        vec![
            definition(),
            columns(),
            rows(&[]),
            global_definition,
            global_columns,
            Reply::Rows(vec![int_col("id")], vec![payload(&[Some("7")])]),
        ],
        vec![rows(&[])],
        scratch_replies(3),
    ]);
    let mut sink = Collect::default();
    let outcome = run_materialize(&mut io, &plan, options(true, 10), &mut sink).await;
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    let scratch = &io.conns[2].sent;
    assert_eq!(scratch.len(), 5, "{scratch:?}");
    assert!(scratch[1].starts_with("SET STATEMENT sql_mode='' FOR CREATE TEMPORARY TABLE `db`.`g`"));
    assert!(scratch[2].ends_with("INSERT INTO `db`.`g` (`id`) VALUES (7)"));
    assert_eq!(
        scratch[4],
        "DROP TEMPORARY TABLE IF EXISTS `db`.`t`, `db`.`g`"
    );
}

#[tokio::test]
async fn past_the_row_limit_the_copy_stops_with_1114_and_the_scratch_connection_is_discarded() {
    let plan = plan();
    let mut io = script(vec![
        vec![
            definition(),
            columns(),
            rows(&[("1", None), ("3", None), ("5", None), ("7", None)]),
        ],
        vec![],
        vec![Reply::Ok],
    ]);
    let mut sink = Collect::default();
    let outcome = run_materialize(&mut io, &plan, options(false, 2), &mut sink).await;
    let Ok(QueryOutcome::FailedBeforeColumns(e)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((e.code, e.state), (1114, "HY000"));
    assert_eq!(
        e.message,
        "The table copies of a query run on data node 1 exceed 2 rows (configuration setting limits.materialize_max_rows)"
    );
    // The source's unread row was drained; nothing reached the client.
    assert_eq!(io.conns[0].drained, 1);
    assert_eq!(io.discarded, vec![2]);
    assert!(sink.columns.is_empty());
}

#[tokio::test]
async fn a_failing_statement_discards_the_scratch_connection() {
    let plan = plan();
    let mut io = empty_copy(vec![Reply::Ok, Reply::Err(1242)]);
    let mut sink = Collect::default();
    let outcome = run_materialize(&mut io, &plan, options(false, 10), &mut sink).await;
    let Ok(QueryOutcome::FailedBeforeColumns(e)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(e.code, 1242);
    assert_eq!(io.discarded, vec![2]);
    // No DROP was attempted: closing the connection drops the copies.
    assert_eq!(io.conns[2].sent.len(), 2);
}

#[tokio::test]
async fn a_session_in_another_character_set_copies_in_utf8mb4_and_runs_the_statement_in_its_own() {
    let plan = plan();
    let mut io = empty_copy(scratch_replies(3));
    let options = MaterializeOptions {
        session_names: Some("SET NAMES latin1".into()),
        ..options(false, 10)
    };
    let mut sink = Collect::default();
    let outcome = run_materialize(&mut io, &plan, options, &mut sink).await;
    assert_eq!(outcome, Ok(QueryOutcome::Done { warnings: 0 }));
    let scratch = &io.conns[2].sent;
    assert_eq!(scratch[0], "SET NAMES utf8mb4");
    assert_eq!(scratch[1], CREATE);
    assert_eq!(scratch[2], "SET NAMES latin1");
    assert_eq!(scratch[3], plan.sql);
}
