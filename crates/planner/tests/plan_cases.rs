//! Planner tests as data: every `tests/data/*.plans` file holds statements and the plan
//! the planner makes for each, as EXPLAIN's tree prints it (`strata_planner::tree`) with
//! each data node's SQL, or the error a refused statement gets. Statements are planned
//! in the catalog of `common/mod.rs` (database `shop` over data nodes 1-4, home node 1).
//!
//! Format: `#` lines are comments; a case is a line `> statement` followed by the
//! expected lines, up to a blank line. `STRATA_BLESS=1 cargo nextest run -p
//! strata-planner plan_cases` rewrites the expected lines with what the planner does
//! now (review the diff before committing it).

mod common;

use std::path::{Path, PathBuf};

use common::{catalog, ctx};
use strata_planner::{plan_statement, tree, CatalogChange, PlanError, Planned};

/// What a case prints: the plan tree and the per-node SQL, or the refusal.
fn render(result: Result<Planned, PlanError>) -> Vec<String> {
    match result {
        Ok(planned) => {
            let mut lines = tree(&planned.plan);
            for (dnid, sql) in planned.plan.node_statements() {
                lines.push(format!("dnid {dnid}: {sql}"));
            }
            if let Some(id) = planned.insert_id {
                lines.push(format!("insert id {id}"));
            }
            for change in &planned.catalog_changes {
                lines.push(match change {
                    CatalogChange::CreateTable { db, name, table } => {
                        format!("catalog: create {db}.{name} on dnid {:?}", table.data_nodes)
                    }
                    CatalogChange::DropTable { db, name } => format!("catalog: drop {db}.{name}"),
                    CatalogChange::RenameTable {
                        db,
                        name,
                        new_db,
                        new_name,
                    } => format!("catalog: rename {db}.{name} to {new_db}.{new_name}"),
                    CatalogChange::CreateView { db, name, view, replace } => format!(
                        "catalog: create view {db}.{name} (replace {replace}) as {}",
                        view.select
                    ),
                    CatalogChange::DropView { db, name, if_exists } => {
                        format!("catalog: drop view {db}.{name} (if exists {if_exists})")
                    }
                    CatalogChange::ForgetUniqueKeys { db, name } => {
                        format!("catalog: forget unique keys of {db}.{name}")
                    }
                    CatalogChange::ReadColumnCollations { db, name, fallback } => {
                        format!("catalog: read column collations of {db}.{name} (fallback {fallback:?})")
                    }
                    CatalogChange::CreateTemporaryTable { db, name, dnid } => {
                        format!("session: temporary {db}.{name} on dnid {dnid}")
                    }
                    CatalogChange::DropTemporaryTable { db, name } => {
                        format!("session: drop temporary {db}.{name}")
                    }
                });
            }
            lines
        }
        Err(e) => vec![format!("error {} ({}): {e}", e.code(), e.sqlstate())],
    }
}

/// One case: the statement and its expected lines.
struct Case {
    statement: String,
    expected: Vec<String>,
    line: usize,
}

/// A file's lines as comments (kept verbatim when blessing) and cases.
enum Item {
    Text(String),
    Case(Case),
}

fn parse(text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let Some(statement) = line.strip_prefix("> ") else {
            items.push(Item::Text(line.to_string()));
            continue;
        };
        let mut expected = Vec::new();
        while let Some((_, next)) = lines.peek() {
            if next.is_empty() {
                break;
            }
            expected.push(next.to_string());
            lines.next();
        }
        items.push(Item::Case(Case {
            statement: statement.to_string(),
            expected,
            line: n + 1,
        }));
    }
    items
}

fn data_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "plans"))
        .collect();
    files.sort();
    files
}

#[test]
fn plan_cases_match_their_expected_plans() {
    let bless = std::env::var_os("STRATA_BLESS").is_some_and(|v| v == "1");
    let catalog = catalog();
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in data_files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let items = parse(&text);
        let mut out = String::new();
        for item in &items {
            match item {
                Item::Text(line) => {
                    out.push_str(line);
                    out.push('\n');
                }
                Item::Case(case) => {
                    cases += 1;
                    let got = render(plan_statement(&case.statement, &ctx(), &catalog));
                    if got != case.expected {
                        failures.push(format!(
                            "{}:{}: {}\n  expected:\n    {}\n  got:\n    {}",
                            file.display(),
                            case.line,
                            case.statement,
                            case.expected.join("\n    "),
                            got.join("\n    ")
                        ));
                    }
                    out.push_str(&format!("> {}\n", case.statement));
                    for line in got {
                        out.push_str(&line);
                        out.push('\n');
                    }
                }
            }
        }
        if bless && out != text {
            std::fs::write(&file, out).expect("writable");
        }
    }
    assert!(cases >= 40, "only {cases} plan cases");
    if bless {
        return;
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} plan cases differ (STRATA_BLESS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
