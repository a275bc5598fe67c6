//! EXPLAIN output from the plan object itself, so what is shown is what runs: one row per
//! data node with the SQL sent there, and a line describing how replies combine.
//!
//! Choice for `EXPLAIN <statement>`: plain `EXPLAIN` (and `DESCRIBE`/`DESC` of a
//! statement) shows Strata's route — the server calls [`explain_target`], plans the
//! inner statement and prints [`explain`] and [`describe`]. `EXPLAIN` with options
//! (`FORMAT=...`, `EXTENDED`, `PARTITIONS`, `ANALYZE`) is MySQL's plan: it runs on the data
//! nodes the statement would use, with each node's own statement, and the rows are
//! concatenated.

use strata_sql::{Lexer, Token};

use crate::plan::{AggregateFunction, MergeSpec, NodeStatement, Plan, Predicate, WriteCombine};
use crate::source::Source;

/// A plan as EXPLAIN shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// (data node, SQL sent there), in DNID order.
    pub rows: Vec<(u32, String)>,
    /// How the replies combine.
    pub merge: String,
}

/// Per data node, the SQL that will be sent.
pub fn explain(plan: &Plan) -> Vec<(u32, String)> {
    match plan {
        Plan::Single { dnid, sql } => vec![(*dnid, sql.clone())],
        Plan::Write { parts, .. } | Plan::ScatterPerNode { parts, .. } => {
            parts.iter().map(|p| (p.dnid, p.sql.clone())).collect()
        }
        Plan::Scatter { nodes, sql, .. } => nodes.iter().map(|&n| (n, sql.clone())).collect(),
    }
}

/// The rows and the merge description together.
pub fn explanation(plan: &Plan) -> Explanation {
    Explanation {
        rows: explain(plan),
        merge: describe(plan),
    }
}

/// A one-line description of how the replies combine.
pub fn describe(plan: &Plan) -> String {
    match plan {
        Plan::Single { .. } => "single node: the reply is relayed as is".into(),
        Plan::Write { combine, .. } => match combine {
            WriteCombine::Sum => "write on several nodes: affected rows add up".into(),
            WriteCombine::Replicated => {
                "write to every copy of a global table: one copy's counts are reported".into()
            }
        },
        Plan::Scatter { merge, .. } | Plan::ScatterPerNode { merge, .. } => {
            format!("merge: {}", describe_merge(merge))
        }
    }
}

/// The merge steps, in the order they run.
pub fn describe_merge(m: &MergeSpec) -> String {
    let mut steps: Vec<String> = Vec::new();
    if !m.group_by.is_empty() || !m.aggregates.is_empty() {
        let aggs: Vec<String> = m
            .aggregates
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
                    } => {
                        format!("AVG(count in #{count_column}, +{scale} decimals)")
                    }
                    AggregateFunction::CountDistinct => "COUNT(DISTINCT)".to_string(),
                    AggregateFunction::GroupConcat { separator } => {
                        format!("GROUP_CONCAT(SEPARATOR {separator:?})")
                    }
                    AggregateFunction::Bit(op) => op.name().to_string(),
                };
                format!("{f} #{}", a.column)
            })
            .collect();
        steps.push(format!(
            "group by [{}] aggregate [{}]",
            columns(&m.group_by),
            aggs.join(", ")
        ));
    }
    if let Some(h) = &m.having {
        steps.push(format!("having {}", predicate(h)));
    }
    if m.distinct {
        steps.push("distinct".into());
    }
    if !m.order_by.is_empty() {
        let keys: Vec<String> = m
            .order_by
            .iter()
            .map(|k| format!("#{}{}", k.column, if k.descending { " DESC" } else { "" }))
            .collect();
        let how = if m.group_by.is_empty() && m.aggregates.is_empty() {
            "merge sorted streams by"
        } else {
            "sort by"
        };
        steps.push(format!("{how} {}", keys.join(", ")));
    }
    if m.offset > 0 || m.limit.is_some() {
        steps.push(match m.limit {
            Some(n) => format!("offset {} limit {n}", m.offset),
            None => format!("offset {}", m.offset),
        });
    }
    if steps.is_empty() {
        steps.push("concatenate".into());
    }
    let visible = if m.visible_to_end {
        format!("columns #{}..", m.visible_start)
    } else {
        format!("first {} columns", m.visible_columns)
    };
    format!("{}; send {visible}", steps.join(", then "))
}

fn columns(cols: &[usize]) -> String {
    cols.iter()
        .map(|c| format!("#{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn predicate(p: &Predicate) -> String {
    match p {
        Predicate::Compare {
            column,
            op,
            literal,
        } => {
            let op = match op {
                crate::plan::CompareOp::Eq => "=",
                crate::plan::CompareOp::Ne => "<>",
                crate::plan::CompareOp::Lt => "<",
                crate::plan::CompareOp::Le => "<=",
                crate::plan::CompareOp::Gt => ">",
                crate::plan::CompareOp::Ge => ">=",
            };
            let lit = match literal {
                crate::plan::Literal::Null => "NULL".to_string(),
                crate::plan::Literal::Number(n) => n.clone(),
                crate::plan::Literal::String(s) => format!("{s:?}"),
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
    let code: Vec<Token> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    let first = code.first()?;
    if !["EXPLAIN", "DESCRIBE", "DESC"]
        .iter()
        .any(|k| first.is_keyword(sql, k))
    {
        return None;
    }
    let next = code.get(1)?;
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

/// EXPLAIN with options: each node explains its own statement; rows are concatenated.
pub(crate) fn pass_through(src: &Source<'_>, inner: &Plan) -> Plan {
    let text = src.forward_text(None);
    let prefix = inner_start(&text)
        .map_or("EXPLAIN ", |i| &text[..i])
        .to_string();
    let concat = MergeSpec {
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
        Plan::Single { dnid, sql } => Plan::Single {
            dnid: *dnid,
            sql: with_prefix(sql),
        },
        Plan::Scatter { nodes, sql, .. } => Plan::Scatter {
            nodes: nodes.clone(),
            sql: with_prefix(sql),
            merge: concat,
        },
        Plan::ScatterPerNode { parts, .. } | Plan::Write { parts, .. } => Plan::ScatterPerNode {
            parts: parts
                .iter()
                .map(|p| NodeStatement {
                    dnid: p.dnid,
                    sql: with_prefix(&p.sql),
                })
                .collect(),
            merge: concat,
        },
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
