//! EXPLAIN output from the plan object itself, so what is shown is what runs: one row per
//! data node with the SQL sent there, and the operator tree the executor builds.
//!
//! Two renderings of one walk over the tree: [`tree`] gives one indented line per
//! operator, root first (the planner's test data and `EXPLAIN`'s readers), and
//! [`describe`] one line in data-flow order, `Scatter(...) -> MergeSort(...) -> ...`,
//! which the server's EXPLAIN prints in its Merge column with the memory budget.
//!
//! Choice for `EXPLAIN <statement>`: plain `EXPLAIN` (and `DESCRIBE`/`DESC` of a
//! statement) shows Strata's route — the server calls [`explain_target`], plans the
//! inner statement and prints [`explanation`]. `EXPLAIN` with options (`FORMAT=...`,
//! `EXTENDED`, `PARTITIONS`, `ANALYZE`) is MySQL's plan: it runs on the data nodes the
//! statement would use, with each node's own statement, and the rows are concatenated.

use strata_sql::{Lexer, Token};

use crate::plan::{
    Aggregate, AggregateFunction, Columns, CompareOp, HashJoin, JoinColumn, Literal, MergeSpec,
    NodeStatement, Operator, OrderCheck, Plan, Predicate, QueryPlan, ReadThenWrite, Reply, RowsAs,
    SortKey, WriteCombine,
};
use crate::source::Source;
use strata_catalog::DataNodeId;

/// A plan as EXPLAIN shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// (data node, SQL sent there), in plan order.
    pub rows: Vec<(DataNodeId, String)>,
    /// The operator tree on one line, in data-flow order.
    pub merge: String,
}

/// Per data node, the SQL that will be sent.
pub fn explain(plan: &Plan) -> Vec<(DataNodeId, String)> {
    plan.node_statements()
        .into_iter()
        .map(|(dnid, sql)| (dnid, sql.to_string()))
        .collect()
}

/// The rows and the tree together; `memory_budget` (bytes) is the merge's budget, a
/// run-time setting the server knows.
pub fn explanation(plan: &Plan, memory_budget: Option<u64>) -> Explanation {
    let mut merge = describe(plan);
    if let (Plan::Query(_), Some(budget)) = (plan, memory_budget) {
        merge.push_str(&format!("; memory budget {budget} bytes"));
    }
    Explanation {
        rows: explain(plan),
        merge,
    }
}

/// The plan on one line, in data-flow order (leaf first).
pub fn describe(plan: &Plan) -> String {
    let mut lines: Vec<String> = nodes_of(plan).into_iter().map(|(_, l)| l).collect();
    if let Plan::Materialize(_) = plan {
        // The copies run in the order listed, then the statement.
        lines.rotate_left(1);
    } else {
        lines.reverse();
    }
    let mut out = lines.join(" -> ");
    if let Plan::Query(q) = plan {
        out.push_str(&format!("; {}", collations(q)));
    }
    out
}

/// The plan as indented lines, root first, one operator per line.
pub fn tree(plan: &Plan) -> Vec<String> {
    let mut lines: Vec<String> = nodes_of(plan)
        .into_iter()
        .map(|(depth, line)| format!("{}{line}", "  ".repeat(depth)))
        .collect();
    if let Plan::Query(q) = plan {
        lines.push(collations(q));
    }
    lines
}

/// One description per operator with its depth, root first (the trees are chains
/// but for a join's sides, which are siblings under it).
fn nodes_of(plan: &Plan) -> Vec<(usize, String)> {
    match plan {
        Plan::Route(r) => vec![(
            0,
            format!(
                "Route(dnid {}, {})",
                r.dnid,
                match r.reply {
                    Reply::Rows => "rows relayed as is",
                    Reply::Ok => "OK packet relayed as is",
                }
            ),
        )],
        Plan::Write(w) => vec![(
            0,
            format!(
                "{}({}{}, {})",
                w.kind.name(),
                dnids(&w.parts),
                if w.atomic { ", atomic" } else { "" },
                match w.combine() {
                    WriteCombine::Sum => "affected rows add up",
                    WriteCombine::Replicated => "one copy's counts reported",
                }
            ),
        )],
        Plan::ReadThenWrite(r) => {
            let mut out = vec![(0, read_then_write(r))];
            out.extend(
                nodes_of(&r.source)
                    .into_iter()
                    .map(|(depth, line)| (depth + 1, line)),
            );
            out
        }
        Plan::Materialize(m) => {
            let mut out = vec![(
                0,
                format!(
                    "Materialize(dnid {}: the statement runs there{} over temporary copies of its tables, dropped after it)",
                    m.dnid,
                    if m.on_session {
                        ", on the session's connection holding its temporary tables,"
                    } else {
                        ""
                    }
                ),
            )];
            for copy in &m.copies {
                let from = copy
                    .sources
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                out.push((
                    1,
                    if copy.in_place && m.on_session {
                        format!(
                            "Copy {}.{}: complete on dnid {}, read in place",
                            copy.db, copy.table, m.dnid
                        )
                    } else if copy.in_place {
                        format!(
                            "Copy {}.{}: complete on dnid {}, read in place (copied from dnid {from} inside a transaction)",
                            copy.db, copy.table, m.dnid
                        )
                    } else {
                        format!("Copy {}.{} from dnid {from}", copy.db, copy.table)
                    },
                ));
            }
            out
        }
        Plan::Query(q) => {
            let mut out = Vec::new();
            let mut op = Some(&q.root);
            while let Some(o) = op {
                let depth = out.len();
                out.push((depth, operator(o)));
                if let Operator::Gather(s) | Operator::MergeSort { input: s, .. } = o {
                    out.push((depth + 1, format!("Scatter({})", dnids(&s.parts))));
                }
                if let Operator::HashJoin(j) = o {
                    // The sides in the order they are read: the streamed one first when
                    // a step looks its keys up, else the hashed ones first.
                    let probe_first = j.steps.iter().any(|s| s.lookup.is_some());
                    let probe = (
                        depth + 1,
                        format!(
                            "Probe side 0 {}: Scatter({})",
                            j.probe.table,
                            dnids(&j.probe.scatter.parts)
                        ),
                    );
                    if probe_first {
                        out.push(probe.clone());
                    }
                    for (i, step) in j.steps.iter().enumerate() {
                        let how = if step.lookup.is_some() {
                            "Lookup"
                        } else {
                            "Hash"
                        };
                        out.push((
                            depth + 1,
                            format!(
                                "{how} side {} {}: Scatter({})",
                                i + 1,
                                step.side.table,
                                dnids(&step.side.scatter.parts)
                            ),
                        ));
                    }
                    if !probe_first {
                        out.push(probe);
                    }
                }
                op = o.input();
            }
            out
        }
    }
}

fn dnids(parts: &[NodeStatement]) -> String {
    let list: Vec<String> = parts.iter().map(|p| p.dnid.to_string()).collect();
    format!("dnid {}", list.join(","))
}

/// The collations the merge compares strings with.
fn collations(q: &QueryPlan) -> String {
    let known: Vec<String> = q
        .collations
        .iter()
        .enumerate()
        .filter_map(|(c, id)| id.map(|id| format!("#{c} {}", strata_mysql::Collation::name_of(id))))
        .collect();
    if known.is_empty() {
        "collations from the nodes' column definitions".to_string()
    } else {
        format!(
            "collations {}; others from the nodes' column definitions",
            known.join(", ")
        )
    }
}

/// One operator and its arguments.
fn operator(op: &Operator) -> String {
    match op {
        Operator::Gather(_) => "Gather".into(),
        Operator::MergeSort { keys, check, .. } => format!(
            "MergeSort({}{})",
            sort_keys(keys),
            match check {
                OrderCheck::Prefix => "",
                OrderCheck::Strict => "; strict order",
            }
        ),
        Operator::OrderedAggregate {
            group_by,
            aggregates,
            ..
        } => format!("OrderedAggregate({})", aggregation(group_by, aggregates)),
        Operator::HashAggregate {
            group_by,
            aggregates,
            ..
        } => format!("HashAggregate({})", aggregation(group_by, aggregates)),
        Operator::Having { predicate: p, .. } => format!("Having({})", predicate(p)),
        Operator::Distinct { columns: c, .. } => format!("Distinct({})", columns(*c)),
        Operator::Sort { keys, keep, .. } => match keep {
            Some(n) => format!("MemorySort({}; keep {n})", sort_keys(keys)),
            None => format!("MemorySort({})", sort_keys(keys)),
        },
        Operator::Limit { offset, limit, .. } => match limit {
            Some(n) => format!("Limit(offset {offset}, limit {n})"),
            None => format!("Limit(offset {offset})"),
        },
        Operator::Project { columns: c, .. } => format!("Project({})", columns(*c)),
        Operator::HashJoin(j) => hash_join(j),
    }
}

/// A join's steps and output columns: `HashJoin(0 o; inner 1 c on 0.#1 = 1.#0; ...)`.
fn hash_join(j: &HashJoin) -> String {
    let mut parts = vec![format!("0 {}", j.probe.table)];
    for (i, step) in j.steps.iter().enumerate() {
        let kind = if step.outer { "left" } else { "inner" };
        let keys: Vec<String> = step
            .keys
            .iter()
            .map(|k| {
                format!(
                    "{}.#{} = {}.#{}",
                    k.probe_side,
                    k.probe_column,
                    i + 1,
                    k.column
                )
            })
            .collect();
        let on = if keys.is_empty() {
            "no keys (cross)".to_string()
        } else {
            format!("on {}", keys.join(" and "))
        };
        let lookup = match &step.lookup {
            Some(l) => format!(" (lookup {} IN batches of {})", l.column, l.batch),
            None => String::new(),
        };
        parts.push(format!("{kind} {} {} {on}{lookup}", i + 1, step.side.table));
    }
    let cols: Vec<String> = j
        .output
        .iter()
        .map(|c| match c {
            JoinColumn::Side { side, column, .. } => format!("{side}.#{column}"),
            JoinColumn::Count { of: None, .. } => "1".to_string(),
            JoinColumn::Count {
                of: Some((side, column)),
                ..
            } => format!("{side}.#{column} IS NOT NULL"),
        })
        .collect();
    format!(
        "HashJoin({}; columns {})",
        parts.join("; "),
        cols.join(", ")
    )
}

fn columns(c: Columns) -> String {
    match c {
        Columns::First(n) => format!("first {n} columns"),
        Columns::From(start) => format!("columns #{start}.."),
    }
}

fn sort_keys(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|k| format!("#{}{}", k.column, if k.descending { " DESC" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn aggregation(group_by: &[usize], aggregates: &[Aggregate]) -> String {
    let aggs: Vec<String> = aggregates
        .iter()
        .map(|a| {
            let f = match &a.function {
                AggregateFunction::Count => "COUNT".to_string(),
                AggregateFunction::Sum => "SUM".to_string(),
                AggregateFunction::Min => "MIN".to_string(),
                AggregateFunction::Max => "MAX".to_string(),
                AggregateFunction::Avg {
                    count_column,
                    scale,
                } => format!("AVG(count in #{count_column}, +{scale} decimals)"),
                AggregateFunction::CountDistinct => "COUNT(DISTINCT)".to_string(),
                AggregateFunction::GroupConcat { separator } => {
                    format!("GROUP_CONCAT(SEPARATOR {separator:?})")
                }
                AggregateFunction::Bit(op) => op.name().to_string(),
            };
            format!("{f} #{}", a.column)
        })
        .collect();
    let groups: Vec<String> = group_by.iter().map(|c| format!("#{c}")).collect();
    if groups.is_empty() {
        format!("one group; {}", aggs.join(", "))
    } else if aggs.is_empty() {
        format!("group by {}", groups.join(", "))
    } else {
        format!("group by {}; {}", groups.join(", "), aggs.join(", "))
    }
}

fn predicate(p: &Predicate) -> String {
    match p {
        Predicate::Compare {
            column,
            op,
            literal,
        } => {
            let op = match op {
                CompareOp::Eq => "=",
                CompareOp::Ne => "<>",
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
            };
            let lit = match literal {
                Literal::Null => "NULL".to_string(),
                Literal::Number(n) => n.clone(),
                Literal::String(s) => format!("{s:?}"),
            };
            format!("#{column} {op} {lit}")
        }
        Predicate::And(a, b) => format!("({} AND {})", predicate(a), predicate(b)),
        Predicate::Or(a, b) => format!("({} OR {})", predicate(a), predicate(b)),
        Predicate::Not(a) => format!("NOT {}", predicate(a)),
    }
}

/// For `EXPLAIN <statement>` (or `DESCRIBE`/`DESC <statement>`) without options: the
/// inner statement's text, which the server plans and shows with [`explain`]. None
/// for anything else, including EXPLAIN with options (those run on the data nodes).
pub fn explain_target(sql: &str) -> Option<&str> {
    // Every planned statement asks: lex no further than the second word.
    let mut code = Lexer::new(sql).filter(|t| t.kind.is_code());
    let first = code.next()?;
    if !["EXPLAIN", "DESCRIBE", "DESC"]
        .iter()
        .any(|k| first.is_keyword(sql, k))
    {
        return None;
    }
    let next = code.next()?;
    let statement_start = ["SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"]
        .iter()
        .any(|k| next.is_keyword(sql, k))
        || next.is_punct(sql, "(");
    statement_start.then(|| sql[next.span.start..].trim_end())
}

/// The offset where the explained statement starts in an EXPLAIN with options.
fn inner_start(sql: &str) -> Option<usize> {
    let code: Vec<Token> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    code.iter()
        .skip(1)
        .find(|t| {
            ["SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"]
                .iter()
                .any(|k| t.is_keyword(sql, k))
                || t.is_punct(sql, "(")
        })
        .map(|t| t.span.start)
}

/// The root line of a write completed by a read's rows.
fn read_then_write(r: &ReadThenWrite) -> String {
    match &r.rows {
        RowsAs::Values { batch_rows, .. } => format!(
            "InsertSelect(rows read first, then written as {}... in batches of {batch_rows}, placed by the table's distribution, atomic)",
            r.before.trim_end()
        ),
        RowsAs::ByKey(writes) => format!(
            "MultiTableWrite(join read first, then each target row written once by key: {}, atomic)",
            writes
                .iter()
                .map(|w| format!("{}... WHERE {} IN (keys)", w.head, w.key))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        RowsAs::InList { expr, negated } => format!(
            "SubqueryFirst(values read first, then {}{expr} {}IN (values){}, atomic)",
            r.before,
            if *negated { "NOT " } else { "" },
            r.after
        ),
    }
}

/// EXPLAIN with options: each node explains its own statement; rows are concatenated.
pub(crate) fn pass_through(src: &Source<'_>, inner: &Plan) -> Plan {
    let text = src.forward_text(None);
    let prefix = inner_start(&text)
        .map_or("EXPLAIN ", |i| &text[..i])
        .to_string();
    let concat = || MergeSpec {
        visible_to_end: true,
        ..MergeSpec::default()
    };
    let with_prefix = |sql: &str| -> String {
        if sql == text || sql.starts_with(prefix.trim_end()) {
            sql.to_string()
        } else {
            format!("{prefix}{sql}")
        }
    };
    match inner {
        Plan::Route(r) => Plan::route(r.dnid, with_prefix(&r.sql), Reply::Rows),
        // MariaDB's plan of the statement where it would run (its tables may be
        // missing there until copied: then MariaDB says so).
        Plan::Materialize(m) => Plan::route(m.dnid, with_prefix(&m.sql), Reply::Rows),
        other => Plan::query(
            other
                .node_statements()
                .into_iter()
                .map(|(dnid, sql)| NodeStatement {
                    dnid,
                    sql: with_prefix(sql),
                })
                .collect(),
            concat(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_explain_targets_the_inner_statement() {
        assert_eq!(explain_target("EXPLAIN SELECT 1"), Some("SELECT 1"));
        assert_eq!(
            explain_target("desc  UPDATE t SET a=1 ;"),
            Some("UPDATE t SET a=1 ;")
        );
        assert_eq!(explain_target("EXPLAIN FORMAT=JSON SELECT 1"), None);
        assert_eq!(explain_target("EXPLAIN EXTENDED SELECT 1"), None);
        assert_eq!(explain_target("DESC t"), None);
        assert_eq!(explain_target("SELECT 1"), None);
    }
}
