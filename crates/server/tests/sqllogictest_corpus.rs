//! The sqllogictest corpus (`tests/data/sqllogictest`: select1..5 and evidence/)
//! through Strata over 4 data nodes, compared record by record with a plain MariaDB.
//!
//! Each file gets its own logical database; its plain `CREATE TABLE`s are sharded by the
//! default rule (`server.auto_shard_plain_tables = true`: AUTO_CRC32 on the primary
//! key, else the first integer column). The same statements run in a fresh database on
//! one storage node. The files' own expected values come from SQLite, so they are not
//! used: MariaDB's answers are the reference. Records marked `skipif mysql` or `onlyif
//! <other engine>` are skipped. A statement Strata refuses with 1235 is counted, not a
//! failure; any other difference fails the test after the whole file has run.
//!
//! The default test runs every statement and a deterministic sample of the queries of
//! each file; `full_corpus_answers_like_mariadb` (ignored, run it with
//! `cargo nextest run -p strata-server --test sqllogictest_corpus --run-ignored all`)
//! runs every record.

mod diffkit;

use std::path::{Path, PathBuf};
use std::time::Instant;

use diffkit::{compare, run, BoxError, Outcome, Shape, Verdict};
use strata_testkit::{shared_storage, unique_name, ComputeNode};

type TestResult = Result<(), BoxError>;

/// The engine name the corpus's `skipif`/`onlyif` lines use for us.
const ENGINE: &str = "mysql";

/// The largest share of records Strata may refuse in the sampled run (every statement,
/// every fifth query) and in the full run. Since reads the native operators refuse run
/// on one data node over copies of their tables, what is left is no SELECT: CREATE /
/// DROP TRIGGER and VIEW, DROP INDEX, INSERT ... SELECT, UPDATEs moving a row to
/// another node; measured: 1.5% and 0.5% (docs/sharding.md; 26.6% and 43.7% before).
const MAX_REFUSED_PERCENT_SAMPLED: f64 = 2.0;
const MAX_REFUSED_PERCENT_FULL: f64 = 1.0;

fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("STRATA_SQLLOGICTEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sqllogictest")
        });
    dir
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = (1..=5)
        .map(|i| dir.join(format!("select{i}.test")))
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir.join("evidence")) {
        let mut evidence: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "test"))
            .collect();
        evidence.sort();
        files.extend(evidence);
    }
    files
}

/// Tallies of one run.
#[derive(Debug, Default)]
struct Tally {
    statements: usize,
    queries: usize,
    skipped: usize,
    refused: usize,
    mismatches: Vec<String>,
    refusals: std::collections::BTreeMap<String, usize>,
    /// Objects whose CREATE Strata refused (views, triggers): later statements naming
    /// them fail on Strata only because of that refusal.
    not_created: Vec<String>,
    /// Records counted as refused because they name such an object.
    refused_after: usize,
}

/// The object a `CREATE [TEMP] VIEW|TRIGGER|INDEX|TABLE [IF NOT EXISTS] name` creates.
fn created_object(sql: &str) -> Option<String> {
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.first().map(String::as_str) != Some("create") {
        return None;
    }
    let kind = words
        .iter()
        .position(|w| matches!(w.as_str(), "view" | "trigger" | "index" | "table"))?;
    words[kind + 1..]
        .iter()
        .find(|w| !matches!(w.as_str(), "if" | "not" | "exists"))
        .cloned()
}

/// Whether `sql` names `object` as a whole word.
fn mentions(sql: &str, object: &str) -> bool {
    sql.to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == object)
}

/// Whether the `index`-th query is in a sample of every `sample`-th one.
// `is_multiple_of` needs Rust 1.87; the workspace supports 1.85.
#[allow(clippy::manual_is_multiple_of)]
fn sampled(index: usize, sample: usize) -> bool {
    index % sample == 0
}

/// A `skipif` / `onlyif` line.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    SkipIf(String),
    OnlyIf(String),
}

/// How a query's rows are compared (the file's sort mode).
#[derive(Debug, Clone, Copy, PartialEq)]
enum SortMode {
    /// `nosort`: in the order returned.
    AsReturned,
    /// `rowsort`: rows as a multiset.
    ByRow,
    /// `valuesort`: values as a multiset, ignoring rows.
    ByValue,
}

/// One record of a file.
#[derive(Debug, Clone, PartialEq)]
enum Record {
    /// `statement ok|error`: SQL without rows expected.
    Statement { line: usize, sql: String },
    /// `query <types> [<sort mode> [<label>]]`.
    Query {
        line: usize,
        sql: String,
        sort: SortMode,
    },
    /// `halt`: the rest of the file is skipped.
    Halt,
}

/// Reads the records of a sqllogictest file with the conditions before each. The
/// expected results are skipped: MariaDB's answers are the reference. (A small parser
/// of its own: the format is simple, and it keeps the `sqllogictest` crate and its
/// dependencies out of the server's test builds.)
fn parse_records(text: &str) -> Vec<(Vec<Condition>, Record)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut conditions = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let words: Vec<&str> = line.split_whitespace().collect();
        i += 1;
        match words.as_slice() {
            ["skipif", label, ..] => conditions.push(Condition::SkipIf(label.to_string())),
            ["onlyif", label, ..] => conditions.push(Condition::OnlyIf(label.to_string())),
            ["halt", ..] => records.push((std::mem::take(&mut conditions), Record::Halt)),
            ["statement", ..] | ["query", ..] => {
                let at = i;
                let mut sql = Vec::new();
                while i < lines.len() && !lines[i].trim().is_empty() && lines[i] != "----" {
                    sql.push(lines[i]);
                    i += 1;
                }
                // Skip the expected results up to the blank line ending the record.
                while i < lines.len() && !lines[i].trim().is_empty() {
                    i += 1;
                }
                let sql = sql.join("\n");
                let record = if words[0] == "statement" {
                    Record::Statement { line: at, sql }
                } else {
                    let sort = match words.get(2).copied() {
                        Some("rowsort") => SortMode::ByRow,
                        Some("valuesort") => SortMode::ByValue,
                        _ => SortMode::AsReturned,
                    };
                    Record::Query {
                        line: at,
                        sql,
                        sort,
                    }
                };
                records.push((std::mem::take(&mut conditions), record));
            }
            // Comments, blank lines, hash-threshold.
            _ => {}
        }
    }
    records
}

fn runs_here(conditions: &[Condition]) -> bool {
    conditions.iter().all(|c| match c {
        Condition::OnlyIf(label) => label == ENGINE,
        Condition::SkipIf(label) => label != ENGINE,
    })
}

/// Runs one file through both sides; `sample` keeps every n-th query (1 = all).
async fn run_file(
    path: &Path,
    strata: &mut mysql_async::Conn,
    reference: &mut mysql_async::Conn,
    sample: usize,
    tally: &mut Tally,
) -> TestResult {
    let text = std::fs::read_to_string(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut query_index = 0usize;
    for (conditions, record) in parse_records(&text) {
        let (line, sql, shape) = match record {
            Record::Halt if runs_here(&conditions) => break,
            Record::Halt => continue,
            Record::Statement { line, sql } => (line, sql, None),
            Record::Query { line, sql, sort } => (line, sql, Some(sort)),
        };
        if !runs_here(&conditions) {
            tally.skipped += 1;
            continue;
        }
        let mut by_value = false;
        let is_query = shape.is_some();
        let shape = match shape {
            None => {
                tally.statements += 1;
                Shape::default()
            }
            Some(sort) => {
                query_index += 1;
                if !sampled(query_index, sample) {
                    tally.skipped += 1;
                    continue;
                }
                tally.queries += 1;
                by_value = sort == SortMode::ByValue;
                Shape {
                    ordered: sort == SortMode::AsReturned,
                    ..Shape::default()
                }
            }
        };
        let mut strata_out = run(strata, &sql).await?;
        let refused = strata_out.error_code() == Some(diffkit::ER_NOT_SUPPORTED_YET);
        if refused && !is_query {
            // Keep both sides' data the same: a statement Strata refuses is not run on
            // the reference either.
            tally.refused += 1;
            if let Outcome::Error { message, .. } = &strata_out {
                *tally.refusals.entry(message.clone()).or_default() += 1;
            }
            if let Some(object) = created_object(&sql) {
                tally.not_created.push(object);
            }
            continue;
        }
        let mut reference_out = run(reference, &sql).await?;
        if by_value && column_count(&strata_out) == column_count(&reference_out) {
            one_value_per_row(&mut strata_out);
            one_value_per_row(&mut reference_out);
        }
        let verdict = match compare(&reference_out, &strata_out, &shape) {
            Verdict::Mismatch(_)
                if strata_out.error_code().is_some()
                    && tally.not_created.iter().any(|o| mentions(&sql, o)) =>
            {
                tally.refused_after += 1;
                Verdict::Refused
            }
            v => v,
        };
        match verdict {
            Verdict::Same => {}
            Verdict::Refused => {
                tally.refused += 1;
                if let Some(object) = created_object(&sql) {
                    tally.not_created.push(object);
                }
                if let Outcome::Error { message, .. } = &strata_out {
                    *tally.refusals.entry(message.clone()).or_default() += 1;
                }
            }
            Verdict::Mismatch(why) => tally.mismatches.push(format!(
                "{name}:{line}: {sql}\n  {why}\n  MariaDB: {}  Strata:  {}",
                reference_out.describe(6),
                strata_out.describe(6)
            )),
        }
    }
    Ok(())
}

fn column_count(outcome: &Outcome) -> Option<usize> {
    match outcome {
        Outcome::Rows { columns, .. } => Some(columns.len()),
        _ => None,
    }
}

/// `valuesort` compares the values without their row grouping: one value per row.
fn one_value_per_row(outcome: &mut Outcome) {
    if let Outcome::Rows { columns, rows } = outcome {
        *rows = rows.drain(..).flatten().map(|v| vec![v]).collect();
        columns.truncate(1);
    }
}

async fn run_corpus(sample: usize, max_refused_percent: f64) -> TestResult {
    let files = corpus_files();
    if !files.iter().all(|f| f.is_file()) {
        return Err(format!(
            "sqllogictest corpus not found under {} (set STRATA_SQLLOGICTEST_DIR)",
            corpus_dir().display()
        )
        .into());
    }
    let started = Instant::now();
    let storage = shared_storage(4).await?;
    let logical: Vec<String> = (0..files.len()).map(|i| format!("slt{i}")).collect();
    let mut builder = ComputeNode::builder(&storage)
        .configure(|config| config.server.auto_shard_plain_tables = true);
    for name in &logical {
        builder = builder.logical_database(name);
    }
    let node = builder.start().await?;
    let mut tally = Tally::default();
    for (file, db) in files.iter().zip(&logical) {
        let file_started = Instant::now();
        let reference_db = unique_name("sltref");
        storage.create_database(&reference_db).await?;
        // Both sides report matched rather than changed rows (see the differential
        // test: Strata's storage-node connections always use CLIENT_FOUND_ROWS).
        let found_rows = |opts: mysql_async::Opts| {
            mysql_async::OptsBuilder::from_opts(opts).client_found_rows(true)
        };
        let mut strata = mysql_async::Conn::new(found_rows(node.opts(Some(db)))).await?;
        let mut reference =
            mysql_async::Conn::new(found_rows(storage.opts(0, Some(&reference_db)))).await?;
        tally.not_created.clear();
        let before = (
            tally.statements,
            tally.queries,
            tally.refused,
            tally.mismatches.len(),
        );
        run_file(file, &mut strata, &mut reference, sample, &mut tally).await?;
        println!(
            "{}: {} statements, {} queries, {} refused, {} mismatches, {:.1}s",
            file.display(),
            tally.statements - before.0,
            tally.queries - before.1,
            tally.refused - before.2,
            tally.mismatches.len() - before.3,
            file_started.elapsed().as_secs_f64()
        );
        drop(strata);
        drop(reference);
        storage.drop_database(&reference_db).await?;
    }
    node.shutdown().await;
    let total = tally.statements + tally.queries;
    let refused_pct = 100.0 * tally.refused as f64 / total.max(1) as f64;
    println!(
        "sqllogictest: {} records run ({} statements, {} queries), {} skipped, {} refused ({refused_pct:.1}%), \
         {} mismatches, {:.1}s",
        total,
        tally.statements,
        tally.queries,
        tally.skipped,
        tally.refused,
        tally.mismatches.len(),
        started.elapsed().as_secs_f64()
    );
    let mut refusals: Vec<_> = tally.refusals.iter().collect();
    refusals.sort_by(|a, b| b.1.cmp(a.1));
    for (message, n) in refusals.iter().take(10) {
        println!("  refused {n:5}: {message}");
    }
    println!(
        "  refused {:5}: statements naming an object whose CREATE was refused",
        tally.refused_after
    );
    for m in tally.mismatches.iter().take(20) {
        eprintln!("MISMATCH {m}");
    }
    if !tally.mismatches.is_empty() {
        return Err(format!(
            "{} of {total} sqllogictest records answered differently from MariaDB",
            tally.mismatches.len()
        )
        .into());
    }
    assert!(
        refused_pct <= max_refused_percent,
        "Strata refused {refused_pct:.1}% of the records (at most {max_refused_percent}% allowed)"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_corpus_answers_like_mariadb() -> TestResult {
    run_corpus(5, MAX_REFUSED_PERCENT_SAMPLED).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the whole corpus takes minutes; run it with --run-ignored all"]
async fn full_corpus_answers_like_mariadb() -> TestResult {
    run_corpus(1, MAX_REFUSED_PERCENT_FULL).await
}

#[test]
fn records_are_read_with_their_conditions_and_without_results() {
    let text = "hash-threshold 8\n\nstatement ok\nCREATE TABLE t1(a INTEGER)\n\n\
                # comment\nskipif mysql # empty RHS\nquery I rowsort label-1\nSELECT a\nFROM t1\n----\n1\n2\n\n\
                onlyif mssql\nhalt\n\nquery II nosort\nSELECT 1, 2\n----\n1\n2\n";
    assert_eq!(
        parse_records(text),
        vec![
            (
                vec![],
                Record::Statement {
                    line: 3,
                    sql: "CREATE TABLE t1(a INTEGER)".into()
                }
            ),
            (
                vec![Condition::SkipIf("mysql".into())],
                Record::Query {
                    line: 8,
                    sql: "SELECT a\nFROM t1".into(),
                    sort: SortMode::ByRow
                }
            ),
            (vec![Condition::OnlyIf("mssql".into())], Record::Halt),
            (
                vec![],
                Record::Query {
                    line: 18,
                    sql: "SELECT 1, 2".into(),
                    sort: SortMode::AsReturned
                }
            ),
        ]
    );
}
