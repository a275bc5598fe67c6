//! The planner over the sqllogictest corpus (`tests/data/sqllogictest`, in the
//! repository): every record the corpus runs on MySQL is planned over 4 data nodes with
//! tables distributed by the default rule, in file order, with each planned CREATE/DROP
//! TABLE applied to the catalog.
//!
//! The test asserts what can be asserted without a storage node: planning never panics,
//! and no statement or query the corpus expects MySQL to accept (`statement ok`, `query`;
//! less the few that MariaDB refuses, see [`mariadb_rejects`]) is called a syntax error. Refusals (1235) and other planning errors are allowed: they
//! are how the planner declines what it cannot run across nodes, and
//! `crates/server/tests/sqllogictest_corpus.rs` checks answers against MariaDB.
//!
//! `survey_the_sqllogictest_corpus` is a tool, not a specification (hence ignored): it
//! prints how many statements run on one node, scatter, or are refused, by construct.
//! Run it with `cargo test -p strata-planner --test corpus_survey -- --ignored --nocapture`
//! (`SHOW_SCATTER=n` also prints the first n scatter plans).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_catalog::DataNodeId;
use strata_planner::{plan_statement, CatalogChange, MemoryCatalog, Plan, PlanContext, PlanError};

/// The engine name the corpus's `skipif` / `onlyif` lines use for us.
const ENGINE: &str = "mysql";

/// One record of the corpus that runs on MySQL.
struct Record {
    sql: String,
    /// `statement ok` or `query`: MySQL accepts it (as opposed to `statement error`).
    accepted: bool,
}

/// The records of one file that run on MySQL, up to a `halt` that applies to MySQL.
fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    // Conditions scope the next record (or `halt`) only.
    let mut for_us = true;
    while let Some(line) = lines.next() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["skipif", engine, ..] => for_us &= *engine != ENGINE,
            ["onlyif", engine, ..] => for_us &= *engine == ENGINE,
            ["halt", ..] => {
                if for_us {
                    break;
                }
                for_us = true;
            }
            [kind @ ("statement" | "query"), rest @ ..] => {
                let mut sql = Vec::new();
                while let Some(l) =
                    lines.next_if(|l| !l.trim().is_empty() && !l.starts_with("----"))
                {
                    sql.push(l);
                }
                if for_us {
                    let sql = sql.join("\n");
                    let expects_error = *kind == "statement" && rest.first() == Some(&"error");
                    let accepted = !expects_error && !mariadb_rejects(&sql);
                    out.push(Record { sql, accepted });
                }
                for_us = true;
            }
            [] => for_us = true,
            // Comments, `hash-threshold`, expected results.
            _ => {}
        }
    }
    out
}

/// Records the corpus lets MySQL run although MariaDB refuses them: triggers in SQLite's
/// syntax, without `FOR EACH ROW` (`CREATE TRIGGER t1r1 UPDATE ON t1 BEGIN SELECT 1; END`
/// and `CREATE TRIGGER t1r5 AFTER DELETE ON t1 BEGIN SELECT 1; END` both get 1064 from
/// MariaDB 10.11.19).
fn mariadb_rejects(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    upper.starts_with("CREATE TRIGGER") && !upper.contains("FOR EACH ROW")
}

/// The corpus files, in a fixed order.
fn corpus_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sqllogictest");
    let mut files: Vec<PathBuf> = ["select1", "select2", "select3", "select4", "select5"]
        .iter()
        .map(|f| root.join(format!("{f}.test")))
        .collect();
    let evidence = root.join("evidence");
    let mut more: Vec<PathBuf> = std::fs::read_dir(&evidence)
        .unwrap_or_else(|e| panic!("reading {}: {e}", evidence.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    more.sort();
    files.extend(more);
    files
}

/// What planning the corpus gave.
#[derive(Default)]
struct Survey {
    /// Records planned, by outcome ("single node", "scatter", "refused: ...", ...).
    outcomes: BTreeMap<String, usize>,
    /// Records MySQL accepts that the planner called a syntax error, with the message.
    syntax_errors: Vec<String>,
    /// The first scatter plans (statement, per-node statement, merge), up to the limit.
    scatter_examples: Vec<String>,
}

/// Plans every record of the corpus, each file in a fresh catalog.
fn plan_corpus(scatter_examples: usize) -> Survey {
    let mut survey = Survey::default();
    for file in corpus_files() {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let mut catalog = MemoryCatalog::new();
        catalog.add_database("db", &DataNodeId::from_numbers(&[1, 2, 3, 4]));
        let mut ctx = PlanContext::new(Some("db"));
        ctx.home_node = Some(DataNodeId::new(1));
        for record in records(&text) {
            let sql = &record.sql;
            let outcome = match plan_statement(sql, &ctx, &catalog) {
                Ok(planned) => {
                    for change in &planned.catalog_changes {
                        match change {
                            CatalogChange::CreateTable { db, name, table } => {
                                catalog.add_table(db, name, (**table).clone());
                            }
                            CatalogChange::DropTable { db, name } => {
                                catalog.remove_table(db, name);
                            }
                            CatalogChange::CreateView { db, name, view, .. } => {
                                catalog.add_view(db, name, (**view).clone());
                            }
                            CatalogChange::DropView { db, name, .. } => {
                                catalog.remove_view(db, name);
                            }
                            CatalogChange::RenameTable { .. }
                            | CatalogChange::ForgetUniqueKeys { .. }
                            | CatalogChange::ReadColumnCollations { .. }
                            | CatalogChange::CreateTemporaryTable { .. }
                            | CatalogChange::DropTemporaryTable { .. } => {}
                        }
                    }
                    if let Plan::Query(query) = &planned.plan {
                        let per_node = query
                            .scatter()
                            .parts
                            .first()
                            .map(|p| p.sql.as_str())
                            .unwrap_or_default();
                        if survey.scatter_examples.len() < scatter_examples {
                            survey.scatter_examples.push(format!(
                                "{sql}\n  => {per_node}\n  => {}",
                                strata_planner::describe(&planned.plan)
                            ));
                        }
                    }
                    match planned.plan {
                        Plan::Route(_) => "single node".to_string(),
                        Plan::Query(_) => "scatter".to_string(),
                        Plan::Write(_) => "write on several nodes".to_string(),
                        Plan::Materialize(_) => "materialized on one node".to_string(),
                        Plan::ReadThenWrite(_) => "read, then written".to_string(),
                    }
                }
                Err(PlanError::Unsupported(what)) => format!("refused: {what}"),
                Err(PlanError::Parse(msg)) => {
                    if record.accepted {
                        let name = file.file_name().unwrap_or_default().to_string_lossy();
                        survey
                            .syntax_errors
                            .push(format!("{name}: {sql}\n    -> {msg}"));
                    }
                    "syntax error".to_string()
                }
                Err(e) => format!(
                    "error {}: {}",
                    e.code(),
                    e.to_string().chars().take(60).collect::<String>()
                ),
            };
            *survey.outcomes.entry(outcome).or_default() += 1;
        }
    }
    survey
}

#[test]
fn statements_mysql_accepts_are_planned_without_a_syntax_error() {
    let survey = plan_corpus(0);
    let planned: usize = survey.outcomes.values().sum();
    // The corpus holds about 11,000 records that run on MySQL: an empty count means the
    // reader lost them, not that the planner is perfect.
    assert!(planned > 10_000, "only {planned} records planned");
    assert!(
        survey.syntax_errors.is_empty(),
        "{} statements MySQL accepts were called syntax errors; the first:\n{}",
        survey.syntax_errors.len(),
        survey
            .syntax_errors
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn records_follow_skipif_onlyif_and_halt() {
    let text = "statement ok\nCREATE TABLE t1(x INT)\n\n\
                skipif mysql\nquery I nosort\nSELECT 1\n----\n1\n\n\
                onlyif sqlite\nstatement ok\nREINDEX t1\n\n\
                onlyif mysql\nquery I nosort\nSELECT 2\n----\n2\n\n\
                statement error\nSELECT FROM\n\n\
                onlyif sqlite\nhalt\n\n\
                query I nosort\nSELECT 3\n----\n3\n\n\
                statement ok\nCREATE TRIGGER r UPDATE ON t1 BEGIN SELECT 1; END;\n\n\
                skipif sqlite\nhalt\n\n\
                query I nosort\nSELECT 4\n";
    let got: Vec<(String, bool)> = records(text)
        .into_iter()
        .map(|r| (r.sql, r.accepted))
        .collect();
    let want = [
        ("CREATE TABLE t1(x INT)", true),
        ("SELECT 2", true),
        ("SELECT FROM", false),
        ("SELECT 3", true),
        ("CREATE TRIGGER r UPDATE ON t1 BEGIN SELECT 1; END;", false),
    ];
    assert_eq!(
        got,
        want.map(|(s, a)| (s.to_string(), a)).to_vec(),
        "records kept for MySQL"
    );
}

#[test]
#[ignore = "a survey that prints; run with --ignored --nocapture"]
fn survey_the_sqllogictest_corpus() {
    let show: usize = std::env::var("SHOW_SCATTER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let survey = plan_corpus(show);
    for example in &survey.scatter_examples {
        println!("{example}\n");
    }
    let total: usize = survey.outcomes.values().sum();
    println!("{total} statements");
    for (outcome, n) in &survey.outcomes {
        println!("{n:7}  {outcome}");
    }
    for s in survey.syntax_errors.iter().take(20) {
        println!("syntax: {s}");
    }
}
