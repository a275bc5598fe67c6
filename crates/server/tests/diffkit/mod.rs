//! Shared pieces of the differential tests: run one statement on a connection and turn
//! its reply into text ([`Outcome`]), and compare Strata's reply with the reference
//! MariaDB's ([`compare`]). Rows are compared as text, so a value that prints the same
//! is the same; order matters only when the caller says the statement has a total order.

#![allow(dead_code)]

use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use strata_catalog::Config;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

/// Error type of the differential tests.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// MySQL's "not supported" error code, Strata's answer to what it cannot run correctly.
pub const ER_NOT_SUPPORTED_YET: u16 = 1235;

/// What one statement returned, as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A result set: column names and rows of values as text (`NULL` for SQL NULL).
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// An OK packet.
    Affected { rows: u64 },
    /// An error packet.
    Error { code: u16, message: String },
}

impl Outcome {
    /// The error code when the statement failed.
    pub fn error_code(&self) -> Option<u16> {
        match self {
            Outcome::Error { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A short printable form (at most `max_rows` rows).
    pub fn describe(&self, max_rows: usize) -> String {
        match self {
            Outcome::Rows { columns, rows } => {
                let mut s = format!("{} row(s) [{}]\n", rows.len(), columns.join(" | "));
                for row in rows.iter().take(max_rows) {
                    s.push_str("    ");
                    s.push_str(&row.join(" | "));
                    s.push('\n');
                }
                if rows.len() > max_rows {
                    s.push_str(&format!("    ... {} more\n", rows.len() - max_rows));
                }
                s
            }
            Outcome::Affected { rows } => format!("OK, {rows} row(s) affected\n"),
            Outcome::Error { code, message } => format!("ERROR {code}: {message}\n"),
        }
    }
}

/// The text form of one value of a text-protocol row.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::NULL => "NULL".to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(f) => f.to_string(),
        Value::Date(y, mo, d, h, mi, s, us) => {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }
        Value::Time(neg, d, h, mi, s, us) => format!(
            "{}{}:{mi:02}:{s:02}.{us:06}",
            if *neg { "-" } else { "" },
            u32::from(*h) + d * 24
        ),
    }
}

/// A Strata connection using the new database `db`.
pub async fn strata_database(node: &ComputeNode, db: &str) -> Result<Conn, BoxError> {
    let mut strata = node.connect(Some("test")).await?;
    strata.query_drop(format!("CREATE DATABASE {db}")).await?;
    strata.query_drop(format!("USE {db}")).await?;
    Ok(strata)
}

/// A Strata connection using the new database `db`, which holds `tables` (name,
/// columns and keys, distribution clause), without rows.
pub async fn strata_tables(
    node: &ComputeNode,
    db: &str,
    tables: &[(&str, &str, &str)],
) -> Result<Conn, BoxError> {
    let mut strata = strata_database(node, db).await?;
    for (name, columns, distribution) in tables {
        strata
            .query_drop(format!("CREATE TABLE {name} ({columns}) {distribution}"))
            .await?;
    }
    Ok(strata)
}

/// A compute node over the shared storage nodes (four data nodes), `configure`
/// applied to its configuration; the name of a new database made from `prefix`; and
/// a connection using it, which holds `tables`.
pub async fn node_with_tables(
    prefix: &str,
    tables: &[(&str, &str, &str)],
    configure: impl FnOnce(&mut Config) + Send + 'static,
) -> Result<(ComputeNode, String, Conn), BoxError> {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage)
        .configure(configure)
        .start()
        .await?;
    let db = unique_name(prefix);
    let strata = strata_tables(&node, &db, tables).await?;
    Ok((node, db, strata))
}

/// The two sides of a differential test: a compute node over the shared storage
/// nodes (four data nodes) with a connection using a new database (named from
/// `prefix`), and the reference MariaDB (storage node 0) using a new database (named
/// from `reference_prefix`). Returns the node, Strata's database name and the two
/// connections.
pub async fn node_and_reference(
    prefix: &str,
    reference_prefix: &str,
) -> Result<(ComputeNode, String, Conn, Conn), BoxError> {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name(prefix);
    let reference_db = unique_name(reference_prefix);
    storage.create_database(&reference_db).await?;
    let strata = strata_database(&node, &db).await?;
    let reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    Ok((node, db, strata, reference))
}

/// The rows of `EXPLAIN sql` (data node, statement, merge) and the first row's merge
/// column (the operator tree).
pub async fn explain(
    strata: &mut Conn,
    sql: &str,
) -> Result<(Vec<(u64, String, Option<String>)>, String), BoxError> {
    let rows: Vec<(u64, String, Option<String>)> = strata.query(format!("EXPLAIN {sql}")).await?;
    let merge = rows
        .first()
        .and_then(|r| r.2.clone())
        .ok_or("no merge column")?;
    Ok((rows, merge))
}

/// [`explain`] of `sql`, asserting that its merge column holds each of `parts`; the rows.
pub async fn explain_holding(
    strata: &mut Conn,
    sql: &str,
    parts: &[&str],
) -> Result<Vec<(u64, String, Option<String>)>, BoxError> {
    let (rows, merge) = explain(strata, sql).await?;
    for part in parts {
        assert!(merge.contains(part), "{part} not in {merge}");
    }
    Ok(rows)
}

/// Runs each of `statements` in order through `conn`.
pub async fn run_all(conn: &mut Conn, statements: &[&str]) -> Result<(), BoxError> {
    for sql in statements {
        conn.query_drop(*sql).await?;
    }
    Ok(())
}

/// Ends a test: drops Strata's database `db` through `strata` and shuts `node` down.
pub async fn drop_and_shut_down(
    node: ComputeNode,
    strata: &mut Conn,
    db: &str,
) -> Result<(), BoxError> {
    strata.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

/// Runs `sql` as a prepared statement with `params` on both connections and describes
/// how Strata's rows (in order, with names) differ from the reference's, if they do.
pub async fn prepared_difference(
    reference: &mut Conn,
    strata: &mut Conn,
    sql: &str,
    params: &[Value],
) -> Result<Option<String>, BoxError> {
    let expected = run_prepared(reference, sql, params.to_vec()).await?;
    let got = run_prepared(strata, sql, params.to_vec()).await?;
    let shape = Shape {
        ordered: true,
        check_names: true,
        ..Shape::default()
    };
    Ok(
        (compare(&expected, &got, &shape) != Verdict::Same).then(|| {
            format!(
                "prepared: {sql}\n  MariaDB: {}  Strata: {}",
                expected.describe(20),
                got.describe(20)
            )
        }),
    )
}

/// The column names and types (type, decimals, flags) of a statement's result.
pub async fn column_types(conn: &mut Conn, sql: &str) -> Result<Vec<(String, String)>, BoxError> {
    let result = conn.query_iter(sql).await?;
    let types = result
        .columns()
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    (
                        c.name_str().into_owned(),
                        format!("{:?} {} {:?}", c.column_type(), c.decimals(), c.flags()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    result.drop_result().await?;
    Ok(types)
}

/// Describes how the column types of `sql`'s result differ between the reference and
/// Strata, if they do.
pub async fn column_type_difference(
    reference: &mut Conn,
    strata: &mut Conn,
    sql: &str,
) -> Result<Option<String>, BoxError> {
    let (a, b) = (
        column_types(reference, sql).await?,
        column_types(strata, sql).await?,
    );
    Ok((a != b).then(|| format!("column types: {sql}\n  MariaDB {a:?}\n  Strata  {b:?}")))
}

/// Creates each table (name, columns and keys, Strata's distribution clause) in Strata
/// and, without the distribution, in the reference database; then runs `rows` on both.
pub async fn create_on_both(
    strata: &mut Conn,
    reference: &mut Conn,
    tables: &[(&str, &str, &str)],
    rows: &[&str],
) -> Result<(), BoxError> {
    for (name, columns, distribution) in tables {
        strata
            .query_drop(format!("CREATE TABLE {name} ({columns}) {distribution}"))
            .await?;
        reference
            .query_drop(format!("CREATE TABLE {name} ({columns})"))
            .await?;
    }
    for sql in rows {
        strata.query_drop(*sql).await?;
        reference.query_drop(*sql).await?;
    }
    Ok(())
}

/// Runs each statement (with whether it has a total order) on both connections and
/// describes every way Strata's answer differs from the reference's, refusals included.
pub async fn differences(
    reference: &mut Conn,
    strata: &mut Conn,
    statements: &[(&str, bool)],
) -> Result<Vec<String>, BoxError> {
    let mut failures = Vec::new();
    for (sql, ordered) in statements {
        let expected = run(reference, sql).await?;
        let got = run(strata, sql).await?;
        let shape = Shape {
            ordered: *ordered,
            check_names: true,
            ..Shape::default()
        };
        match compare(&expected, &got, &shape) {
            Verdict::Same => {}
            Verdict::Refused => failures.push(format!("refused: {sql}\n  {}", got.describe(0))),
            Verdict::Mismatch(why) => failures.push(format!(
                "mismatch: {sql}\n  {why}\n  MariaDB: {}  Strata: {}",
                expected.describe(20),
                got.describe(20)
            )),
        }
    }
    Ok(failures)
}

/// Runs `sql` (text protocol) and returns its outcome; `Err` only for failures that are
/// not a server error packet (I/O, protocol), which end the test.
pub async fn run(conn: &mut Conn, sql: &str) -> Result<Outcome, BoxError> {
    outcome(conn.query_iter(sql).await).await
}

/// Runs `sql` as a server-side prepared statement with `params` (binary protocol).
pub async fn run_prepared(
    conn: &mut Conn,
    sql: &str,
    params: Vec<Value>,
) -> Result<Outcome, BoxError> {
    outcome(conn.exec_iter(sql, params).await).await
}

/// The outcome of a statement from the start of its execution: its rows, the rows it
/// affected, or the server's error (from any of its result sets, which are all read so
/// the connection stays usable).
async fn outcome<P: mysql_async::prelude::Protocol>(
    started: Result<mysql_async::QueryResult<'_, '_, P>, mysql_async::Error>,
) -> Result<Outcome, BoxError> {
    let mut result = match started {
        Ok(r) => r,
        Err(mysql_async::Error::Server(e)) => {
            return Ok(Outcome::Error {
                code: e.code,
                message: e.message,
            })
        }
        Err(e) => return Err(e.into()),
    };
    let columns: Option<Vec<String>> = result
        .columns()
        .map(|cols| cols.iter().map(|c| c.name_str().into_owned()).collect());
    let rows: Result<Vec<mysql_async::Row>, _> = result.collect().await;
    let affected = result.affected_rows();
    let drained = result.drop_result().await;
    let rows = match (rows, drained) {
        (Ok(r), Ok(())) => r,
        (Err(mysql_async::Error::Server(e)), _) | (_, Err(mysql_async::Error::Server(e))) => {
            return Ok(Outcome::Error {
                code: e.code,
                message: e.message,
            })
        }
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    match columns {
        Some(columns) if !columns.is_empty() => Ok(Outcome::Rows {
            columns,
            rows: rows
                .into_iter()
                .map(|row| row.unwrap().iter().map(value_text).collect())
                .collect(),
        }),
        _ => Ok(Outcome::Affected { rows: affected }),
    }
}

/// How a column's values are normalized before comparing, for values MySQL lets the
/// server choose (the representative of a `_ci` group, the order inside GROUP_CONCAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// utf8mb4_general_ci equality: letter case, trailing spaces and the accents our
    /// generated strings use do not matter.
    GeneralCi,
    /// PAD SPACE binary equality: trailing spaces do not matter.
    PadSpace,
    /// latin1_swedish_ci equality for the strings the tests use: letter case and trailing
    /// spaces do not matter, `é` is `e` and `ü` is `y` (`å`, `ä`, `ö` are letters of their own).
    Latin1,
    /// A GROUP_CONCAT without ORDER BY: the comma-separated parts as a multiset.
    List,
}

/// Applies `fold` to one value's text.
pub fn fold_text(fold: Fold, text: &str) -> String {
    match fold {
        Fold::GeneralCi => text
            .trim_end_matches(' ')
            .to_lowercase()
            .chars()
            .map(|c| match c {
                'é' | 'è' | 'ë' | 'ê' => 'e',
                'ö' | 'ó' | 'ò' => 'o',
                'ü' | 'ú' => 'u',
                other => other,
            })
            .collect(),
        Fold::PadSpace => text.trim_end_matches(' ').to_string(),
        Fold::Latin1 => text
            .trim_end_matches(' ')
            .to_lowercase()
            .chars()
            .map(|c| match c {
                'é' => 'e',
                'ü' => 'y',
                other => other,
            })
            .collect(),
        Fold::List => {
            let mut parts: Vec<&str> = text.split(',').collect();
            parts.sort_unstable();
            parts.join(",")
        }
    }
}

/// What comparing one statement's two outcomes found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Same outcome.
    Same,
    /// Strata refused the statement with 1235 where MariaDB ran it.
    Refused,
    /// A different answer; the text says how.
    Mismatch(String),
}

/// How rows are compared.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// The statement has a total ORDER BY: rows must come in the same order.
    pub ordered: bool,
    /// Column folds applied to both sides before comparing.
    pub folds: Vec<(usize, Fold)>,
    /// Compare column names too.
    pub check_names: bool,
}

fn folded(rows: &[Vec<String>], folds: &[(usize, Fold)]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            let mut row = row.clone();
            for (i, fold) in folds {
                if let Some(v) = row.get_mut(*i) {
                    if v != "NULL" {
                        *v = fold_text(*fold, v);
                    }
                }
            }
            row
        })
        .collect()
}

/// Compares Strata's outcome with the reference outcome of the same statement.
pub fn compare(reference: &Outcome, strata: &Outcome, shape: &Shape) -> Verdict {
    if let Outcome::Error { code, .. } = strata {
        if *code == ER_NOT_SUPPORTED_YET && reference.error_code() != Some(*code) {
            return Verdict::Refused;
        }
    }
    match (reference, strata) {
        (Outcome::Error { code: a, .. }, Outcome::Error { code: b, .. }) => {
            if a == b {
                Verdict::Same
            } else {
                Verdict::Mismatch(format!("error codes differ: MariaDB {a}, Strata {b}"))
            }
        }
        (Outcome::Affected { rows: a }, Outcome::Affected { rows: b }) => {
            if a == b {
                Verdict::Same
            } else {
                Verdict::Mismatch(format!("affected rows differ: MariaDB {a}, Strata {b}"))
            }
        }
        (
            Outcome::Rows {
                columns: ca,
                rows: ra,
            },
            Outcome::Rows {
                columns: cb,
                rows: rb,
            },
        ) => {
            if ca.len() != cb.len() {
                return Verdict::Mismatch(format!(
                    "column counts differ: MariaDB {}, Strata {}",
                    ca.len(),
                    cb.len()
                ));
            }
            if shape.check_names && ca != cb {
                return Verdict::Mismatch(format!(
                    "column names differ: MariaDB {ca:?}, Strata {cb:?}"
                ));
            }
            if ra.len() != rb.len() {
                return Verdict::Mismatch(format!(
                    "row counts differ: MariaDB {}, Strata {}",
                    ra.len(),
                    rb.len()
                ));
            }
            let (mut fa, mut fb) = (folded(ra, &shape.folds), folded(rb, &shape.folds));
            if shape.ordered {
                if let Some(i) = (0..fa.len()).find(|&i| fa[i] != fb[i]) {
                    let mut sa = fa.clone();
                    let mut sb = fb.clone();
                    sa.sort();
                    sb.sort();
                    let what = if sa == sb {
                        "same rows in a different order"
                    } else {
                        "different rows"
                    };
                    return Verdict::Mismatch(format!(
                        "{what}; first difference at row {i}: MariaDB {:?}, Strata {:?}",
                        fa[i], fb[i]
                    ));
                }
                Verdict::Same
            } else {
                fa.sort();
                fb.sort();
                if fa == fb {
                    Verdict::Same
                } else {
                    let only_a: Vec<_> = fa.iter().filter(|r| !fb.contains(r)).take(3).collect();
                    let only_b: Vec<_> = fb.iter().filter(|r| !fa.contains(r)).take(3).collect();
                    Verdict::Mismatch(format!(
                        "different rows (as multisets); only in MariaDB: {only_a:?}; only in Strata: {only_b:?}"
                    ))
                }
            }
        }
        (a, b) => Verdict::Mismatch(format!(
            "different kinds of reply: MariaDB {}, Strata {}",
            a.describe(0).trim_end(),
            b.describe(0).trim_end()
        )),
    }
}

/// Deterministic pseudo-random numbers (SplitMix64): the same seed gives the same
/// statements on every platform and with every dependency version.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// An integer in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One string of a non-empty list.
    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len() as u64) as usize]
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A SQL string literal for `s` (quotes and backslashes escaped).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}
