//! Differential test: the same schema and rows in Strata over 4 data nodes and in one
//! plain MariaDB database; a seeded generator produces statements (routed and scattered
//! reads, ORDER BY / LIMIT mixes, aggregates, GROUP BY / HAVING, DISTINCT, UNION,
//! co-located and global-table joins, joins of tables that are not co-located (run in
//! the compute node), and writes followed by full-table checks) and
//! every answer must be the same on both sides.
//!
//! A statement Strata refuses with 1235 counts as refused, not as a mismatch; the test
//! fails when the refused share exceeds [`MAX_REFUSED_PERCENT`], so it cannot pass by
//! refusing everything. `STRATA_DIFF_SEED` and `STRATA_DIFF_STATEMENTS` change the seed
//! and the number of statements (a failure prints the seed to replay it).

mod common;
mod diffkit;

use std::collections::BTreeMap;

use mysql_async::prelude::*;
use std::time::Instant;

use common::node_and_conn;
use diffkit::{
    compare, quote, run, run_prepared, BoxError, Fold, Outcome, Shape, SplitMix64, Verdict,
};
use mysql_async::Value;
use strata_catalog::config::RuleConfig;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

type TestResult = Result<(), BoxError>;

/// Default seed; any seed must pass.
const DEFAULT_SEED: u64 = 0x5354_5241_5441;
/// Default number of generated statements.
const DEFAULT_STATEMENTS: usize = 1200;
/// The largest share of generated statements Strata may refuse. The generator
/// deliberately includes constructs the merge cannot combine (STD(), SUM(DISTINCT),
/// ...) and string comparisons over expressions in tables that also hold a latin1
/// column, which the merge refuses once it sees the nodes' columns; both run on one
/// data node over copies of their tables; measured: 0.0% with the default seed and
/// seeds 7, 11, 21 (docs/sharding.md).
const MAX_REFUSED_PERCENT: f64 = 0.5;

/// Tables with the common column set, each distributed differently.
const COMMON_TABLES: &[&str] = &["t_crc", "t_mod", "t_range", "t_match", "v"];
/// Strings for `name`/`bname`: case variants, trailing spaces, accents, a quote.
const NAMES: &[&str] = &[
    "ann", "Ann", "ANN", "ann  ", "bob", "Bob", "BOB ", "cy", "Cy", "émile", "Emile", "EMILE",
    "zoë", "Zoe", "ZOE", "", "d'arcy", "x y",
];
const REGIONS: &[&str] = &["north", "south", "east", "west", ""];
/// Strings for the latin1_swedish_ci column: Swedish letters sort after Z there.
const LATIN: &[&str] = &[
    "abc", "ABC", "åsa", "Åsa", "ära", "Ära", "östen", "zeta", "Zeta", "émile", "emile", "ünal",
    "yngve", "abc ",
];
/// Whether statements compare `lat` (latin1_swedish_ci) values across data nodes: ORDER
/// BY, GROUP BY, DISTINCT, MIN/MAX. Off while Strata compares such columns as
/// utf8mb4_general_ci (see `latin1_column_merges_compare_by_the_column_collation`).
const LATIN1_COMPARISONS: bool = false;
fn compared_across_nodes(expr: &str) -> bool {
    LATIN1_COMPARISONS || !expr.contains("lat")
}

/// Lowest and highest id of the initial rows.
const ID_LO: i64 = -100;
const ID_HI: i64 = 2500;

fn common_columns() -> &'static str {
    "id INT NOT NULL, k INT NULL, \
     name VARCHAR(20) COLLATE utf8mb4_general_ci NULL, \
     bname VARCHAR(20) COLLATE utf8mb4_bin NULL, \
     amount DECIMAL(10,2) NULL, d DATE NULL, \
     region VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL DEFAULT 'north', \
     big BIGINT NULL, f DOUBLE NULL, \
     lat VARCHAR(12) CHARACTER SET latin1 COLLATE latin1_swedish_ci NULL, \
     ts DATETIME(3) NULL"
}

/// (table, column list and keys, Strata distribution clause)
fn schema() -> Vec<(&'static str, String, &'static str)> {
    let c = common_columns();
    vec![
        (
            "t_crc",
            format!("{c}, PRIMARY KEY (id)"),
            "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
        ),
        (
            "t_mod",
            format!("{c}, PRIMARY KEY (id)"),
            "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
        ),
        (
            "t_range",
            format!("{c}, PRIMARY KEY (id)"),
            "SHARD BY rulename 'r_range' USING COLUMN 'id'",
        ),
        (
            "t_match",
            format!("{c}, PRIMARY KEY (id, region)"),
            "SHARD BY rulename 'r_match' USING COLUMN 'region'",
        ),
        (
            "v",
            format!("{c}, PRIMARY KEY (id)"),
            "SHARD BY VERTICAL ON DATANODE '2'",
        ),
        (
            "t_crc_b",
            "id INT NOT NULL PRIMARY KEY, qty INT NULL, \
             note VARCHAR(20) COLLATE utf8mb4_general_ci NULL"
                .to_string(),
            "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
        ),
        (
            "t_child",
            "cid INT NOT NULL, pid INT NOT NULL, qty INT NULL, PRIMARY KEY (cid, pid)".to_string(),
            "SHARD BY CHILD OF t_crc(id) USING COLUMN 'pid'",
        ),
        (
            "g",
            "id INT NOT NULL PRIMARY KEY, \
             label VARCHAR(20) COLLATE utf8mb4_general_ci NULL, weight DECIMAL(6,2) NULL"
                .to_string(),
            "SHARD BY GLOBAL",
        ),
    ]
}

fn rules() -> Vec<RuleConfig> {
    vec![
        RuleConfig {
            name: "r_range".into(),
            function: "range".into(),
            data_nodes: Vec::new(),
            params: "1:600=1, 601:1200=2, 1201:1800=3, 1801:2400=4, below=1, above=4".into(),
            null_route: None,
        },
        RuleConfig {
            name: "r_match".into(),
            function: "match".into(),
            data_nodes: Vec::new(),
            params: "north=1, south=2, east=3, west=4, \"\"=1".into(),
            null_route: None,
        },
    ]
}

/// Both sides of the comparison and the tallies.
struct Diff {
    strata: mysql_async::Conn,
    reference: mysql_async::Conn,
    seed: u64,
    statements: usize,
    refused: Vec<String>,
    refusals: BTreeMap<String, usize>,
    mismatches: Vec<String>,
    per_kind: BTreeMap<&'static str, (usize, usize)>,
}

impl Diff {
    /// Runs a read on both sides and records the verdict.
    async fn check(&mut self, kind: &'static str, sql: &str, shape: &Shape) -> TestResult {
        self.statements += 1;
        let strata = run(&mut self.strata, sql).await?;
        let reference = run(&mut self.reference, sql).await?;
        self.record(kind, sql, &reference, &strata, shape);
        Ok(())
    }

    /// Runs a read as a prepared statement (binary protocol) on both sides.
    async fn check_prepared(
        &mut self,
        kind: &'static str,
        sql: &str,
        params: Vec<Value>,
        shape: &Shape,
    ) -> TestResult {
        self.statements += 1;
        let strata = run_prepared(&mut self.strata, sql, params.clone()).await?;
        let reference = run_prepared(&mut self.reference, sql, params.clone()).await?;
        self.record(
            kind,
            &format!("{sql} -- params {params:?}"),
            &reference,
            &strata,
            shape,
        );
        Ok(())
    }

    /// Runs a write on Strata, then (unless refused) on the reference, and compares the
    /// outcomes and afterwards the whole table.
    async fn write(&mut self, kind: &'static str, sql: &str, table: &str) -> TestResult {
        self.statements += 1;
        let strata = run(&mut self.strata, sql).await?;
        if strata.error_code() == Some(diffkit::ER_NOT_SUPPORTED_YET) {
            self.record(
                kind,
                sql,
                &Outcome::Affected { rows: 0 },
                &strata,
                &Shape::default(),
            );
            return Ok(());
        }
        let reference = run(&mut self.reference, sql).await?;
        let before = self.mismatches.len();
        self.record(kind, sql, &reference, &strata, &Shape::default());
        let statement_differed = self.mismatches.len() > before;
        {
            let order = if table == "t_child" { "cid" } else { "id" };
            let all = format!("SELECT * FROM {table} ORDER BY {order}");
            let strata = run(&mut self.strata, &all).await?;
            let reference = run(&mut self.reference, &all).await?;
            let shape = Shape {
                ordered: true,
                ..Shape::default()
            };
            if let Verdict::Mismatch(why) = compare(&reference, &strata, &shape) {
                if !statement_differed {
                    self.mismatch(
                        &format!("{sql}\n  -- then: {all}"),
                        &why,
                        &reference,
                        &strata,
                    );
                }
                self.resync(table, &reference).await?;
            }
        }
        Ok(())
    }

    /// Makes Strata's copy of `table` equal to the reference rows again, so one wrong
    /// write is reported once rather than by every later statement on the table.
    async fn resync(&mut self, table: &str, reference: &Outcome) -> TestResult {
        let Outcome::Rows { rows, .. } = reference else {
            return Err(format!("cannot resync {table}: {}", reference.describe(0)).into());
        };
        let mut statements = vec![format!("DELETE FROM {table}")];
        for chunk in rows.chunks(200) {
            let values: Vec<String> = chunk
                .iter()
                .map(|row| {
                    let v: Vec<String> = row
                        .iter()
                        .map(|v| if v == "NULL" { v.clone() } else { quote(v) })
                        .collect();
                    format!("({})", v.join(", "))
                })
                .collect();
            statements.push(format!("INSERT INTO {table} VALUES {}", values.join(", ")));
        }
        for sql in statements {
            if let Outcome::Error { code, message } = run(&mut self.strata, &sql).await? {
                return Err(format!("resync of {table}: ERROR {code}: {message}").into());
            }
        }
        Ok(())
    }

    fn record(
        &mut self,
        kind: &'static str,
        sql: &str,
        reference: &Outcome,
        strata: &Outcome,
        shape: &Shape,
    ) {
        let entry = self.per_kind.entry(kind).or_default();
        entry.0 += 1;
        match compare(reference, strata, shape) {
            Verdict::Same => {}
            Verdict::Refused => {
                entry.1 += 1;
                let why = match strata {
                    Outcome::Error { message, .. } => message.clone(),
                    _ => String::new(),
                };
                *self.refusals.entry(why.clone()).or_default() += 1;
                self.refused.push(format!("{sql}\n    -> {why}"));
            }
            Verdict::Mismatch(why) => self.mismatch(sql, &why, reference, strata),
        }
    }

    fn mismatch(&mut self, sql: &str, why: &str, reference: &Outcome, strata: &Outcome) {
        self.mismatches.push(format!(
            "seed {:#x}, statement #{}: {sql}\n  {why}\n  MariaDB: {}  Strata:  {}",
            self.seed,
            self.statements,
            reference.describe(8),
            strata.describe(8)
        ));
    }
}

/// Random statement pieces.
struct Gen {
    r: SplitMix64,
    next_fresh: i64,
}

impl Gen {
    fn id(&mut self) -> i64 {
        self.r.range(ID_LO - 10, ID_HI + 10)
    }

    fn name_lit(&mut self) -> String {
        let base = *self.r.pick(NAMES);
        let s = match self.r.below(5) {
            0 => base.to_uppercase(),
            1 => format!("{base} "),
            _ => base.to_string(),
        };
        quote(&s)
    }

    fn region_lit(&mut self) -> String {
        let base = *self.r.pick(REGIONS);
        quote(&self.case_variant(base))
    }

    fn case_variant(&mut self, s: &str) -> String {
        match self.r.below(4) {
            0 => s.to_uppercase(),
            1 => {
                let mut c = s.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => String::new(),
                }
            }
            2 => format!("{s} "),
            _ => s.to_string(),
        }
    }

    fn date_lit(&mut self) -> String {
        format!(
            "'{}-{:02}-{:02}'",
            self.r.range(2019, 2024),
            self.r.range(1, 12),
            self.r.range(1, 28)
        )
    }

    fn decimal_lit(&mut self) -> String {
        let v = self.r.range(-50000, 50000);
        format!(
            "{}{}.{:02}",
            if v < 0 { "-" } else { "" },
            v.abs() / 100,
            v.abs() % 100
        )
    }

    fn id_list(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| self.id().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A WHERE predicate over the common columns, columns prefixed by `p`.
    fn pred(&mut self, p: &str, depth: u32) -> String {
        let choice = self.r.below(if depth > 0 { 24 } else { 21 });
        match choice {
            0 | 1 => format!("{p}id = {}", self.id()),
            2 => {
                let n = self.r.range(1, 6) as usize;
                format!("{p}id IN ({})", self.id_list(n))
            }
            3 => format!("({p}id = {} OR {p}id = {})", self.id(), self.id()),
            4 => {
                let a = self.id();
                format!("{p}id BETWEEN {a} AND {}", a + self.r.range(0, 300))
            }
            5 => format!(
                "{p}id {} {}",
                self.r.pick(&["<", "<=", ">", ">="]),
                self.id()
            ),
            6 => format!("{p}k = {}", self.r.range(-5, 20)),
            7 => format!("{p}k IS NULL"),
            8 => format!("{p}k IS NOT NULL AND {p}k < {}", self.r.range(-5, 20)),
            9 => format!("{p}name = {}", self.name_lit()),
            10 => format!("{p}bname = {}", self.name_lit()),
            11 => format!("{p}name IN ({}, {})", self.name_lit(), self.name_lit()),
            12 => format!(
                "{p}name LIKE {}",
                quote(self.r.pick_str(&["a%", "%e", "Z%", "_o%", "%"]))
            ),
            13 => format!("{p}amount > {}", self.decimal_lit()),
            14 => {
                let (a, b) = (self.decimal_lit(), self.decimal_lit());
                format!("{p}amount BETWEEN LEAST({a}, {b}) AND GREATEST({a}, {b})")
            }
            15 => format!("{p}d >= {}", self.date_lit()),
            16 => format!("{p}region = {}", self.region_lit()),
            17 => format!(
                "{p}region IN ({}, {})",
                self.region_lit(),
                self.region_lit()
            ),
            18 => format!("{p}id = '{}'", self.id()),
            19 => format!("{p}id IN ({}.0, '{}')", self.id(), self.id()),
            20 => "1 = 1".to_string(),
            21 => format!(
                "({} AND {})",
                self.pred(p, depth - 1),
                self.pred(p, depth - 1)
            ),
            22 => format!(
                "({} OR {})",
                self.pred(p, depth - 1),
                self.pred(p, depth - 1)
            ),
            _ => format!("NOT ({})", self.pred(p, depth - 1)),
        }
    }

    fn limit(&mut self) -> String {
        match self.r.below(4) {
            0 => format!(" LIMIT {}", self.r.range(0, 30)),
            1 => format!(" LIMIT {}, {}", self.r.range(0, 50), self.r.range(1, 20)),
            2 => format!(
                " LIMIT {} OFFSET {}",
                self.r.range(1, 20),
                self.r.range(0, 100)
            ),
            _ => String::new(),
        }
    }

    fn dir(&mut self) -> &'static str {
        self.r.pick_str(&["", " ASC", " DESC"])
    }

    /// One row's values for the common columns, `(id, k, name, bname, amount, d, region)`.
    fn common_row(&mut self, id: i64) -> String {
        let k = if self.r.chance(10) {
            "NULL".to_string()
        } else {
            self.r.range(-5, 20).to_string()
        };
        let name = if self.r.chance(8) {
            "NULL".to_string()
        } else {
            quote(self.r.pick_str(NAMES))
        };
        let bname = if self.r.chance(8) {
            "NULL".to_string()
        } else {
            quote(self.r.pick_str(NAMES))
        };
        let amount = if self.r.chance(8) {
            "NULL".to_string()
        } else {
            self.decimal_lit()
        };
        let d = if self.r.chance(8) {
            "NULL".to_string()
        } else {
            self.date_lit()
        };
        // The region follows the id so that (id, region) keys stay unique by id, but its
        // letter case and trailing spaces vary.
        let region = REGIONS[id.rem_euclid(REGIONS.len() as i64) as usize];
        let region = quote(&self.case_variant(region));
        let big = match self.r.below(6) {
            0 => "NULL".to_string(),
            1 => format!("{}", 4_611_686_018_427_387_904i64 + self.r.range(0, 1000)),
            2 => format!("{}", -4_611_686_018_427_387_904i64 - self.r.range(0, 1000)),
            _ => self.r.range(-1_000_000, 1_000_000).to_string(),
        };
        let f = match self.r.below(6) {
            0 => "NULL".to_string(),
            1 => format!("{}e{}", self.r.range(-999, 999), self.r.range(-5, 12)),
            _ => format!("{}.{}", self.r.range(-99, 99), self.r.range(0, 99)),
        };
        let lat = if self.r.chance(10) {
            "NULL".to_string()
        } else {
            quote(self.r.pick_str(LATIN))
        };
        let ts = if self.r.chance(10) {
            "NULL".to_string()
        } else {
            format!(
                "'{}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}'",
                self.r.range(2019, 2024),
                self.r.range(1, 12),
                self.r.range(1, 28),
                self.r.range(0, 23),
                self.r.range(0, 59),
                self.r.range(0, 59),
                self.r.range(0, 999)
            )
        };
        format!("({id}, {k}, {name}, {bname}, {amount}, {d}, {region}, {big}, {f}, {lat}, {ts})")
    }
}

/// Aggregates over the common columns, with the fold their value needs.
const AGGS: &[(&str, Option<Fold>)] = &[
    ("COUNT(*)", None),
    ("COUNT(k)", None),
    ("COUNT(name)", None),
    ("SUM(k)", None),
    ("SUM(amount)", None),
    ("MIN(k)", None),
    ("MAX(k)", None),
    ("MIN(amount)", None),
    ("MAX(amount)", None),
    ("MIN(name)", Some(Fold::GeneralCi)),
    ("MAX(name)", Some(Fold::GeneralCi)),
    ("MIN(bname)", Some(Fold::PadSpace)),
    ("MAX(bname)", Some(Fold::PadSpace)),
    ("AVG(amount)", None),
    ("AVG(k)", None),
    ("COUNT(DISTINCT k)", None),
    ("COUNT(DISTINCT name)", None),
    ("COUNT(DISTINCT bname)", None),
    ("MIN(d)", None),
    ("MAX(d)", None),
    ("SUM(big)", None),
    ("AVG(big)", None),
    ("MIN(big)", None),
    ("MAX(f)", None),
    ("MIN(f)", None),
    ("MIN(lat)", Some(Fold::Latin1)),
    ("MAX(lat)", Some(Fold::Latin1)),
    ("COUNT(DISTINCT lat)", None),
    ("MAX(ts)", None),
    ("MIN(ts)", None),
    ("SUM(k * 2)", None),
    ("MAX(amount - k)", None),
    ("AVG(k + 0.5)", None),
    ("SUM(k > 3)", None),
    ("COUNT(k > 3)", None),
    ("SUM(CASE WHEN name = 'ann' THEN amount ELSE 0 END)", None),
    ("MAX(LENGTH(name))", None),
    ("MIN(CONCAT(bname, '|', k))", None),
    ("AVG(amount)", None),
    ("STD(k)", None),
    ("BIT_OR(k)", None),
    ("BIT_AND(k + 5)", None),
    ("BIT_XOR(big)", None),
];

/// ORDER BY keys over the common columns (each with the final `id` tie-breaker).
const ORDER_KEYS: &[&str] = &[
    "k",
    "name",
    "bname",
    "amount",
    "d",
    "region",
    "k + amount",
    "COALESCE(k, -100)",
    "-k",
    "ABS(amount)",
    "CONCAT(bname, name)",
    "name COLLATE utf8mb4_bin",
    "LENGTH(name)",
    "k IS NULL",
    "YEAR(d)",
    "big",
    "f",
    "lat",
    "ts",
    "lat COLLATE latin1_bin",
    "name + 0",
    "IFNULL(name, bname)",
    "amount DESC, k",
];

const COLUMNS: &[&str] = &[
    "id", "k", "name", "bname", "amount", "d", "region", "big", "f", "lat", "ts",
];

async fn select_rows(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = *g.r.pick(COMMON_TABLES);
    let mut cols: Vec<&str> = Vec::new();
    let star = g.r.chance(20);
    if !star {
        for _ in 0..g.r.range(1, 4) {
            let c = *g.r.pick(COLUMNS);
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    let select = if star {
        "*".to_string()
    } else {
        cols.join(", ")
    };
    let pred = g.pred("", 2);
    if g.r.chance(15) {
        let sql = format!("SELECT {select} FROM {t} WHERE {pred}");
        return diff.check("rows, no order", &sql, &Shape::default()).await;
    }
    let mut keys = Vec::new();
    for _ in 0..g.r.range(0, 2) {
        let key = loop {
            let key = *g.r.pick(ORDER_KEYS);
            if compared_across_nodes(key) {
                break key;
            }
        };
        let dir = g.dir();
        keys.push(format!("{key}{dir}"));
    }
    if !star && compared_across_nodes(cols[0]) && g.r.chance(15) {
        keys.insert(0, format!("1{}", g.dir()));
    }
    keys.push(format!("id{}", g.dir()));
    let limit = g.limit();
    let sql = format!(
        "SELECT {select} FROM {t} WHERE {pred} ORDER BY {}{limit}",
        keys.join(", ")
    );
    let shape = Shape {
        ordered: true,
        ..Shape::default()
    };
    diff.check("rows, ORDER BY", &sql, &shape).await
}

fn pick_aggs(g: &mut Gen, n: usize, first_col: usize) -> (Vec<String>, Vec<(usize, Fold)>) {
    let mut exprs = Vec::new();
    let mut folds = Vec::new();
    for i in 0..n {
        let (e, f) = loop {
            let pick = *g.r.pick(AGGS);
            if compared_across_nodes(pick.0) {
                break pick;
            }
        };
        exprs.push(e.to_string());
        if let Some(f) = f {
            folds.push((first_col + i, f));
        }
    }
    (exprs, folds)
}

async fn aggregate(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = *g.r.pick(COMMON_TABLES);
    let n = g.r.range(1, 4) as usize;
    let (mut exprs, folds) = pick_aggs(g, n, 0);
    if g.r.chance(4) {
        exprs.push(
            g.r.pick(&["SUM(DISTINCT k)", "AVG(DISTINCT amount)"])
                .to_string(),
        );
    }
    let pred = g.pred("", 2);
    let sql = format!("SELECT {} FROM {t} WHERE {pred}", exprs.join(", "));
    let shape = Shape {
        folds,
        ..Shape::default()
    };
    diff.check("aggregate", &sql, &shape).await
}

async fn group_by(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = *g.r.pick(COMMON_TABLES);
    let keys: &[(&str, Option<Fold>)] = &[
        ("k", None),
        ("k", None),
        ("name", Some(Fold::GeneralCi)),
        ("bname", Some(Fold::PadSpace)),
        ("region", Some(Fold::GeneralCi)),
        ("d", None),
        ("YEAR(d)", None),
        ("k, region", None),
        ("lat", Some(Fold::Latin1)),
        ("k % 3", None),
        ("LEFT(bname, 1)", Some(Fold::PadSpace)),
        ("d IS NULL", None),
        ("big > 0", None),
    ];
    let (key, key_fold) = loop {
        let pick = *g.r.pick(keys);
        if compared_across_nodes(pick.0) {
            break pick;
        }
    };
    let key_cols = if key == "k, region" { 2 } else { 1 };
    let mut folds = Vec::new();
    if let Some(f) = key_fold {
        folds.push((0, f));
    }
    if key == "k, region" {
        folds.push((1, Fold::GeneralCi));
    }
    let n = g.r.range(1, 3) as usize;
    let (mut aggs, agg_folds) = pick_aggs(g, n, key_cols);
    folds.extend(agg_folds);
    if key == "k" && g.r.chance(30) {
        folds.push((key_cols + aggs.len(), Fold::List));
        aggs.push(
            g.r.pick(&["GROUP_CONCAT(id)", "GROUP_CONCAT(bname)"])
                .to_string(),
        );
    }
    let pred = g.pred("", 1);
    let having = if g.r.chance(30) {
        match g.r.below(6) {
            0 => format!(" HAVING COUNT(*) > {}", g.r.range(1, 60)),
            4 | 5 if g.r.chance(50) => format!(" HAVING MIN(id) < {}", g.id()),
            1 => format!(" HAVING SUM(amount) > {}", g.decimal_lit()),
            2 => format!(" HAVING MIN(k) <= {}", g.r.range(-5, 20)),
            3 => format!(" HAVING MAX(amount) < {}", g.decimal_lit()),
            4 => format!(" HAVING AVG(amount) > {}", g.decimal_lit()),
            _ => format!(
                " HAVING COUNT(*) BETWEEN {} AND {}",
                g.r.range(0, 5),
                g.r.range(5, 80)
            ),
        }
    } else {
        String::new()
    };
    let (order, ordered) = match g.r.below(7) {
        // MariaDB sorts groups by the GROUP BY columns when there is no ORDER BY.
        0 => (String::new(), true),
        5 => (" ORDER BY NULL".to_string(), false),
        4 => (
            format!(
                " ORDER BY SUM(amount){}, COUNT(*){}, {key}{}",
                g.dir(),
                g.dir(),
                g.limit()
            ),
            true,
        ),
        1 => (format!(" ORDER BY {key}{}", g.dir()), true),
        2 => (format!(" ORDER BY {}{}, {key}", aggs[0], g.dir()), true),
        _ => (format!(" ORDER BY {key}{}{}", g.dir(), g.limit()), true),
    };
    let sql = format!(
        "SELECT {key}, {} FROM {t} WHERE {pred} GROUP BY {key}{having}{order}",
        aggs.join(", ")
    );
    let shape = Shape {
        ordered,
        folds,
        ..Shape::default()
    };
    diff.check("GROUP BY", &sql, &shape).await
}

async fn distinct(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = *g.r.pick(COMMON_TABLES);
    let (cols, folds): (&str, Vec<(usize, Fold)>) = match g.r.below(8) {
        0 => ("k", vec![]),
        1 => ("name", vec![(0, Fold::GeneralCi)]),
        2 => ("bname", vec![(0, Fold::PadSpace)]),
        3 => ("k, region", vec![(1, Fold::GeneralCi)]),
        4 => ("YEAR(d), k", vec![]),
        5 if LATIN1_COMPARISONS => ("lat", vec![(0, Fold::Latin1)]),
        5 | 6 => ("k % 4, d IS NULL", vec![]),
        _ => ("big", vec![]),
    };
    let pred = g.pred("", 1);
    let ordered = g.r.chance(50);
    let order = if ordered {
        let keys: Vec<String> = cols
            .split(", ")
            .map(|c| format!("{c}{}", g.dir()))
            .collect();
        format!(" ORDER BY {}{}", keys.join(", "), g.limit())
    } else {
        String::new()
    };
    let sql = format!("SELECT DISTINCT {cols} FROM {t} WHERE {pred}{order}");
    let shape = Shape {
        ordered,
        folds,
        ..Shape::default()
    };
    diff.check("DISTINCT", &sql, &shape).await
}

async fn union(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let a = *g.r.pick(COMMON_TABLES);
    let b = *g.r.pick(COMMON_TABLES);
    let all = if g.r.chance(50) { " ALL" } else { "" };
    let (pa, pb) = (g.pred("", 1), g.pred("", 1));
    let ordered = g.r.chance(60);
    let order = if ordered {
        format!(
            " ORDER BY 1{}, 2{}, 3{}{}",
            g.dir(),
            g.dir(),
            g.dir(),
            g.limit()
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT id, name, k FROM {a} WHERE {pa} UNION{all} SELECT id, name, k FROM {b} WHERE {pb}{order}"
    );
    let shape = Shape {
        ordered,
        folds: vec![(1, Fold::GeneralCi)],
        ..Shape::default()
    };
    diff.check("UNION", &sql, &shape).await
}

async fn join(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let pred = g.pred("a.", 1);
    let (kind, sql, shape): (&'static str, String, Shape) = match g.r.below(12) {
        0 | 1 => {
            let lj = if g.r.chance(40) { "LEFT " } else { "" };
            (
                "join co-located",
                format!(
                    "SELECT a.id, a.name, b.qty, b.note FROM t_crc a {lj}JOIN t_crc_b b ON a.id = b.id \
                     WHERE {pred} ORDER BY a.id{}{}",
                    g.dir(),
                    g.limit()
                ),
                Shape {
                    ordered: true,
                    ..Shape::default()
                },
            )
        }
        2 => (
            "join co-located",
            format!(
                "SELECT COUNT(*), SUM(b.qty), MAX(a.amount), COUNT(DISTINCT b.note) \
                 FROM t_crc a JOIN t_crc_b b ON b.id = a.id WHERE {pred}"
            ),
            Shape::default(),
        ),
        3 => (
            "join co-located",
            format!(
                "SELECT b.note, COUNT(*), SUM(a.k) FROM t_crc a JOIN t_crc_b b ON a.id = b.id \
                 WHERE {pred} GROUP BY b.note ORDER BY b.note"
            ),
            Shape {
                ordered: true,
                folds: vec![(0, Fold::GeneralCi)],
                ..Shape::default()
            },
        ),
        4 | 5 => {
            let t = *g.r.pick(COMMON_TABLES);
            let lj = if g.r.chance(40) { "LEFT " } else { "" };
            (
                "join global",
                format!(
                    "SELECT a.id, a.k, g.label, g.weight FROM {t} a {lj}JOIN g ON a.k = g.id \
                     WHERE {pred} ORDER BY a.id{}{}",
                    g.dir(),
                    g.limit()
                ),
                Shape {
                    ordered: true,
                    ..Shape::default()
                },
            )
        }
        6 => {
            let t = *g.r.pick(COMMON_TABLES);
            (
                "join global",
                format!(
                    "SELECT g.label, COUNT(*), SUM(a.amount), AVG(g.weight) FROM {t} a JOIN g ON g.id = a.k \
                     WHERE {pred} GROUP BY g.label"
                ),
                Shape {
                    folds: vec![(0, Fold::GeneralCi)],
                    ..Shape::default()
                },
            )
        }
        7 => (
            "join child",
            format!(
                "SELECT a.id, c.cid, c.qty FROM t_crc a JOIN t_child c ON c.pid = a.id \
                 WHERE {pred} ORDER BY c.cid{}{}",
                g.dir(),
                g.limit()
            ),
            Shape {
                ordered: true,
                ..Shape::default()
            },
        ),
        _ => cross_node_join(g, &pred),
    };
    diff.check(kind, &sql, &shape).await
}

/// Joins of tables that are not co-located (run in the compute node): sharded on
/// different keys or rules, vertical with sharded, a preserved global table; INNER and
/// LEFT, three tables, GROUP BY, ORDER BY ... LIMIT over a total order.
fn cross_node_join(g: &mut Gen, pred: &str) -> (&'static str, String, Shape) {
    // Tables whose `id` is unique (t_match's key is (id, region)).
    const UNIQUE_ID: &[&str] = &["t_crc", "t_mod", "t_range", "v"];
    let a = *g.r.pick(UNIQUE_ID);
    let b = *g.r.pick(UNIQUE_ID);
    let lj = if g.r.chance(40) { "LEFT " } else { "" };
    let ordered = Shape {
        ordered: true,
        ..Shape::default()
    };
    match g.r.below(6) {
        5 => {
            // The first table filtered to one node by its sharding key: a lookup.
            let id = g.id();
            (
                "join not co-located",
                format!(
                    "SELECT a.id, b.id, b.name FROM {a} a {lj}JOIN {b} b ON b.k = a.k \
                     WHERE a.id = {id} ORDER BY a.id, b.id"
                ),
                ordered,
            )
        }
        0 => (
            "join not co-located",
            format!(
                "SELECT a.id, b.id, b.name, b.amount FROM {a} a {lj}JOIN {b} b ON b.k = a.k \
                 WHERE {pred} ORDER BY a.id{}, b.id{}",
                g.dir(),
                g.limit()
            ),
            ordered,
        ),
        1 => (
            "join not co-located",
            format!(
                "SELECT a.id, b.k, b.d FROM {a} a {lj}JOIN {b} b ON b.id = a.k \
                 WHERE {pred} ORDER BY a.id{}",
                g.dir()
            ),
            ordered,
        ),
        2 => {
            let t = *g.r.pick(COMMON_TABLES);
            (
                "join not co-located",
                format!(
                    "SELECT b.region, COUNT(*), SUM(a.amount), COUNT(b.big), MAX(a.d) \
                     FROM {a} a JOIN {t} b ON b.id = a.k WHERE {pred} GROUP BY b.region"
                ),
                Shape {
                    folds: vec![(0, Fold::GeneralCi)],
                    ..Shape::default()
                },
            )
        }
        3 => {
            let c = *g.r.pick(UNIQUE_ID);
            (
                "join not co-located",
                format!(
                    "SELECT a.id, b.id, c.id FROM {a} a JOIN {b} b ON b.id = a.k \
                     {lj}JOIN {c} c ON c.k = b.id WHERE {pred} ORDER BY a.id, b.id, c.id{}",
                    g.limit()
                ),
                ordered,
            )
        }
        _ => (
            "join not co-located",
            format!(
                "SELECT g.id, g.label, a.id FROM g LEFT JOIN {a} a ON a.k = g.id \
                 ORDER BY g.id, a.id{}",
                g.limit()
            ),
            ordered,
        ),
    }
}

async fn expressions(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = *g.r.pick(COMMON_TABLES);
    let pred = g.pred("", 1);
    let sql = match g.r.below(3) {
        0 => format!(
            "SELECT id, k * 2 + 1, CONCAT(name, '-', bname), amount / 3, IFNULL(d, '1970-01-01') \
             FROM {t} WHERE {pred} ORDER BY id{} LIMIT {}",
            g.dir(),
            g.r.range(1, 40)
        ),
        1 => format!(
            "SELECT k AS kk, amount AS a FROM {t} WHERE {pred} ORDER BY kk{}, a{}, id LIMIT {}",
            g.dir(),
            g.dir(),
            g.r.range(1, 40)
        ),
        _ => format!("SELECT COUNT(*) AS n FROM {t} WHERE {pred}"),
    };
    let shape = Shape {
        ordered: true,
        ..Shape::default()
    };
    diff.check("expressions", &sql, &shape).await
}

/// Assorted shapes: aliases in HAVING / ORDER BY, parenthesized UNION branches with their
/// own LIMIT, type coercion in UNION, empty inputs, literals, qualified names, locking
/// reads, the largest LIMIT.
async fn misc(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = g.r.pick_str(COMMON_TABLES);
    let u = g.r.pick_str(&["t_crc", "t_mod", "t_range", "t_match"]);
    let pred = g.pred("", 1);
    let ordered = Shape {
        ordered: true,
        ..Shape::default()
    };
    let (sql, shape) = match g.r.below(14) {
        0 => (
            format!(
                "SELECT k, COUNT(*) AS c FROM {t} WHERE {pred} GROUP BY k HAVING c > {} ORDER BY c DESC, k",
                g.r.range(0, 40)
            ),
            ordered,
        ),
        1 => (
            format!(
                "SELECT k AS kk, SUM(amount) AS s FROM {t} WHERE {pred} GROUP BY kk ORDER BY s{}, kk LIMIT {}",
                g.dir(),
                g.r.range(1, 10)
            ),
            ordered,
        ),
        2 => (
            format!(
                "(SELECT id, k FROM {t} WHERE {pred} ORDER BY id LIMIT {}) UNION ALL \
                 (SELECT id, k FROM {u} ORDER BY id DESC LIMIT {}) ORDER BY 1, 2",
                g.r.range(1, 8),
                g.r.range(1, 8)
            ),
            ordered,
        ),
        3 => (
            format!("SELECT id, name FROM {t} WHERE {pred} UNION SELECT k, bname FROM {u} WHERE k > 15"),
            Shape {
                folds: vec![(1, Fold::GeneralCi)],
                ..Shape::default()
            },
        ),
        4 => (
            format!("SELECT COUNT(*), MIN(id), SUM(amount), AVG(k), MAX(name), GROUP_CONCAT(id), BIT_AND(k) FROM {t} WHERE 1 = 0"),
            ordered,
        ),
        5 => (
            format!("SELECT k, COUNT(*), SUM(amount) FROM {t} WHERE id = -99999 GROUP BY k"),
            ordered,
        ),
        6 => (
            format!(
                "SELECT 1, 'x', NULL, k, -0.5 FROM {t} WHERE {pred} ORDER BY id LIMIT {}",
                g.r.range(1, 10)
            ),
            ordered,
        ),
        7 => (
            format!(
                "SELECT {t}.id, {t}.k FROM {t} WHERE {t}.k = {} ORDER BY {t}.id DESC",
                g.r.range(-5, 20)
            ),
            ordered,
        ),
        8 => (
            format!("SELECT id, amount FROM {t} WHERE id IN ({}) ORDER BY id FOR UPDATE", g.id_list(4)),
            ordered,
        ),
        9 => (
            format!(
                "SELECT id FROM {t} WHERE {pred} ORDER BY id LIMIT 18446744073709551615 OFFSET {}",
                g.r.range(0, 500)
            ),
            ordered,
        ),
        10 => (
            format!(
                "SELECT region, GROUP_CONCAT(k SEPARATOR '|') FROM {t} WHERE k = {} GROUP BY region",
                g.r.range(-5, 20)
            ),
            Shape {
                folds: vec![(0, Fold::GeneralCi)],
                ..Shape::default()
            },
        ),
        11 => (
            format!(
                "SELECT id, f, ts FROM {t} WHERE ts > {} ORDER BY f{}, ts DESC, id LIMIT {}",
                g.date_lit(),
                g.dir(),
                g.r.range(1, 30)
            ),
            ordered,
        ),
        12 => (
            format!(
                "SELECT DISTINCT k FROM {t} WHERE {pred} ORDER BY k DESC LIMIT {}",
                g.r.range(1, 5)
            ),
            ordered,
        ),
        _ => (
            format!("SELECT k, SUM(amount) FROM {t} GROUP BY k HAVING SUM(amount) IS NULL OR COUNT(*) < 40"),
            Shape::default(),
        ),
    };
    diff.check("misc", &sql, &shape).await
}

/// Server-side prepared statements (binary protocol rows) routed by their parameters.
async fn prepared(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let t = g.r.pick_str(&["t_crc", "t_mod", "t_range", "v"]);
    let ordered = Shape {
        ordered: true,
        ..Shape::default()
    };
    match g.r.below(4) {
        0 => {
            let id = g.id();
            let param = if g.r.chance(30) {
                Value::Bytes(id.to_string().into_bytes())
            } else {
                Value::Int(id)
            };
            diff.check_prepared(
                "prepared",
                &format!("SELECT * FROM {t} WHERE id = ?"),
                vec![param],
                &ordered,
            )
            .await
        }
        1 => {
            let region = g.region_lit();
            let region = region.trim_matches('\'').replace("''", "'");
            diff.check_prepared(
                "prepared",
                "SELECT id, amount, d, ts, f, big, name FROM t_match WHERE region = ? ORDER BY id LIMIT 20",
                vec![Value::Bytes(region.into_bytes())],
                &ordered,
            )
            .await
        }
        2 => {
            let id = g.id();
            diff.check_prepared(
                "prepared",
                &format!("SELECT COUNT(*), SUM(amount), MAX(d) FROM {t} WHERE id = ? OR id = ?"),
                vec![Value::Int(id), Value::Int(id)],
                &ordered,
            )
            .await
        }
        _ => {
            let (a, b) = (g.id(), g.id());
            diff.check_prepared(
                "prepared",
                &format!("SELECT id, k FROM {t} WHERE id IN (?, ?) ORDER BY id"),
                vec![Value::Int(a), Value::Int(b)],
                &ordered,
            )
            .await
        }
    }
}

/// Predicates on the sharding keys in literal forms that must route like MariaDB
/// compares: strings for integers, decimals, exponents, collation variants, NULL.
fn routing_edge(g: &mut Gen) -> (String, &'static str) {
    let id = g.id();
    match g.r.below(26) {
        0 => (format!("id = '{id}'"), "t_crc"),
        1 => (format!("id = '{id}abc'"), "t_crc"),
        2 => (format!("id = ' {id}'"), "t_mod"),
        3 => (format!("id = {id}.0"), "t_mod"),
        4 => (format!("id = {id}.5"), "t_crc"),
        5 => (format!("id = {id}e0"), "t_range"),
        6 => (
            format!("id IN ({id}, '{}', {}.00)", id + 1, id + 2),
            "t_range",
        ),
        7 => ("id <=> NULL".to_string(), "t_crc"),
        8 => (format!("id BETWEEN {} AND {}", id + 50, id), "t_range"),
        9 => (format!("id > {}", 2390 + g.r.range(0, 20)), "t_range"),
        10 => (format!("id < {}", g.r.range(-5, 5)), "t_range"),
        11 => (format!("id BETWEEN {} AND {}", 595, 606), "t_range"),
        12 => (format!("id > {}.5 AND id < {}", 599, 603), "t_range"),
        13 => (format!("NOT (id BETWEEN 1 AND {id})"), "t_range"),
        14 => ("region = 0".to_string(), "t_match"),
        15 => (format!("region = {}", g.region_lit()), "t_match"),
        16 => ("region = 'NORTH   '".to_string(), "t_match"),
        17 => ("region IN ('north', NULL)".to_string(), "t_match"),
        18 => ("region IS NULL".to_string(), "t_match"),
        19 => (
            "region = 'north' COLLATE utf8mb4_bin".to_string(),
            "t_match",
        ),
        // `BINARY region = 'North'` belongs here; see `binary_operator_parses`.
        20 => ("region = _utf8mb4'SOUTH'".to_string(), "t_match"),
        21 => ("region LIKE 'so%'".to_string(), "t_match"),
        22 => ("region = ''".to_string(), "t_match"),
        23 => (format!("(region = 'east' OR id = {id})"), "t_match"),
        24 => (format!("id = -{}", id.abs()), "t_mod"),
        _ => (format!("id IN ({id}, NULL)"), "t_mod"),
    }
}

async fn routing(g: &mut Gen, diff: &mut Diff) -> TestResult {
    let (pred, t) = routing_edge(g);
    let sql = match g.r.below(3) {
        0 => format!("SELECT COUNT(*), SUM(amount) FROM {t} WHERE {pred}"),
        1 => format!("SELECT id, region, k FROM {t} WHERE {pred} ORDER BY id LIMIT 50"),
        _ => {
            return diff
                .write(
                    "UPDATE routing",
                    &format!("UPDATE {t} SET k = k + 1 WHERE {pred}"),
                    t,
                )
                .await
        }
    };
    let shape = Shape {
        ordered: true,
        ..Shape::default()
    };
    diff.check("routing literal forms", &sql, &shape).await
}

async fn write(g: &mut Gen, diff: &mut Diff) -> TestResult {
    if g.r.chance(12) {
        let id = g.r.range(0, 40);
        let sql = match g.r.below(3) {
            0 => format!(
                "UPDATE g SET weight = weight + {} WHERE id = {id}",
                g.decimal_lit()
            ),
            1 => format!(
                "INSERT INTO g VALUES ({id}, {}, {}) ON DUPLICATE KEY UPDATE label = VALUES(label)",
                g.name_lit(),
                g.r.range(-999, 999)
            ),
            _ => format!("DELETE FROM g WHERE id = {id}"),
        };
        return diff.write("write global", &sql, "g").await;
    }
    if g.r.chance(8) {
        let sql = match g.r.below(2) {
            0 => format!(
                "UPDATE t_crc_b SET qty = qty + 1 WHERE id IN ({})",
                g.id_list(3)
            ),
            _ => {
                let rows: Vec<String> = (0..g.r.range(1, 5))
                    .map(|_| {
                        let id = g.id();
                        format!("({id}, {}, {})", g.r.range(0, 9), g.name_lit())
                    })
                    .collect();
                format!(
                    "INSERT INTO t_crc_b VALUES {} ON DUPLICATE KEY UPDATE qty = qty + VALUES(qty)",
                    rows.join(", ")
                )
            }
        };
        return diff.write("write co-located", &sql, "t_crc_b").await;
    }
    let t = *g.r.pick(COMMON_TABLES);
    let (kind, sql): (&'static str, String) = match g.r.below(8) {
        0 => {
            // A duplicate key makes MariaDB reject the whole statement; Strata runs a
            // statement whose rows go to several data nodes as one XA transaction.
            let dup = g.r.chance(10);
            let n = g.r.range(1, 8);
            let rows: Vec<String> = (0..n)
                .map(|i| {
                    let id = if dup && i == n - 1 {
                        g.id()
                    } else {
                        g.next_fresh += 1;
                        if g.next_fresh % 2 == 0 {
                            g.next_fresh
                        } else {
                            -g.next_fresh
                        }
                    };
                    g.common_row(id)
                })
                .collect();
            (
                "INSERT",
                format!("INSERT INTO {t} VALUES {}", rows.join(", ")),
            )
        }
        1 => {
            let rows: Vec<String> = (0..g.r.range(1, 6))
                .map(|_| {
                    let id = g.id();
                    g.common_row(id)
                })
                .collect();
            (
                "INSERT IGNORE",
                format!("INSERT IGNORE INTO {t} VALUES {}", rows.join(", ")),
            )
        }
        2 => {
            let rows: Vec<String> = (0..g.r.range(1, 6))
                .map(|_| {
                    let id = g.id();
                    g.common_row(id)
                })
                .collect();
            (
                "REPLACE",
                format!("REPLACE INTO {t} VALUES {}", rows.join(", ")),
            )
        }
        3 => {
            let rows: Vec<String> = (0..g.r.range(1, 6))
                .map(|_| {
                    let id = g.id();
                    g.common_row(id)
                })
                .collect();
            (
                "INSERT ON DUPLICATE KEY UPDATE",
                format!(
                    "INSERT INTO {t} VALUES {} ON DUPLICATE KEY UPDATE k = k + 1, amount = VALUES(amount)",
                    rows.join(", ")
                ),
            )
        }
        4 | 5 => {
            let set = match g.r.below(3) {
                0 => "k = k + 1".to_string(),
                1 => format!("name = {}, amount = amount * 2", g.name_lit()),
                _ => format!("d = {}, bname = UPPER(bname)", g.date_lit()),
            };
            let a = g.id();
            let pred = match g.r.below(3) {
                0 => format!("id BETWEEN {a} AND {}", a + g.r.range(0, 40)),
                1 => format!("id IN ({})", g.id_list(4)),
                _ => format!("k = {} AND name = {}", g.r.range(-5, 20), g.name_lit()),
            };
            ("UPDATE", format!("UPDATE {t} SET {set} WHERE {pred}"))
        }
        _ => {
            let a = g.id();
            let pred = match g.r.below(3) {
                0 => format!("id BETWEEN {a} AND {}", a + g.r.range(0, 10)),
                1 => format!("id IN ({})", g.id_list(3)),
                _ => format!("k = {} AND bname = {}", g.r.range(-5, 20), g.name_lit()),
            };
            ("DELETE", format!("DELETE FROM {t} WHERE {pred}"))
        }
    };
    diff.write(kind, &sql, t).await
}

/// Creates the tables on both sides and loads the same rows.
async fn load(g: &mut Gen, diff: &mut Diff) -> TestResult {
    for (table, columns, clause) in schema() {
        let plain = format!("CREATE TABLE {table} ({columns}) DEFAULT CHARSET=utf8mb4");
        let sharded = format!("{plain} {clause}");
        for (conn, sql) in [(&mut diff.strata, &sharded), (&mut diff.reference, &plain)] {
            if let Outcome::Error { code, message } = run(conn, sql).await? {
                return Err(format!("{sql}: ERROR {code}: {message}").into());
            }
        }
    }
    let mut inserts = Vec::new();
    let mut parent_ids = Vec::new();
    for t in COMMON_TABLES {
        let mut rows = Vec::new();
        for id in ID_LO..=ID_HI {
            if g.r.chance(50) {
                rows.push(g.common_row(id));
                if *t == "t_crc" {
                    parent_ids.push(id);
                }
            }
        }
        for chunk in rows.chunks(200) {
            inserts.push(format!("INSERT INTO {t} VALUES {}", chunk.join(", ")));
        }
    }
    let mut rows = Vec::new();
    for id in ID_LO..=ID_HI {
        if g.r.chance(40) {
            let qty = if g.r.chance(10) {
                "NULL".to_string()
            } else {
                g.r.range(0, 50).to_string()
            };
            rows.push(format!("({id}, {qty}, {})", quote(g.r.pick_str(NAMES))));
        }
    }
    for chunk in rows.chunks(200) {
        inserts.push(format!("INSERT INTO t_crc_b VALUES {}", chunk.join(", ")));
    }
    let mut rows = Vec::new();
    for cid in 1..=1500 {
        let pid = *g.r.pick(&parent_ids);
        rows.push(format!("({cid}, {pid}, {})", g.r.range(0, 9)));
    }
    for chunk in rows.chunks(200) {
        inserts.push(format!("INSERT INTO t_child VALUES {}", chunk.join(", ")));
    }
    let rows: Vec<String> = (0..=20)
        .map(|id| {
            format!(
                "({id}, {}, {}.{:02})",
                quote(NAMES[id % NAMES.len()]),
                id * 7 % 13,
                id
            )
        })
        .collect();
    inserts.push(format!("INSERT INTO g VALUES {}", rows.join(", ")));
    for sql in inserts {
        for conn in [&mut diff.strata, &mut diff.reference] {
            if let Outcome::Error { code, message } = run(conn, &sql).await? {
                return Err(format!("loading: ERROR {code}: {message}").into());
            }
        }
    }
    // The loaded tables must already agree.
    for (table, _, _) in schema() {
        let order = if table == "t_child" { "cid" } else { "id" };
        let sql = format!("SELECT * FROM {table} ORDER BY {order}");
        let shape = Shape {
            ordered: true,
            ..Shape::default()
        };
        diff.check("loaded table", &sql, &shape).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_statements_answer_like_one_mariadb() -> TestResult {
    let seed = std::env::var("STRATA_DIFF_SEED")
        .ok()
        .and_then(|s| {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        })
        .unwrap_or(DEFAULT_SEED);
    let target: usize = std::env::var("STRATA_DIFF_STATEMENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_STATEMENTS);
    let started = Instant::now();

    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|config| config.rules.extend(rules()))
        .start()
        .await?;
    let reference_db = unique_name("diffref");
    storage.create_database(&reference_db).await?;
    // Both sides report matched rather than changed rows (CLIENT_FOUND_ROWS, as JDBC
    // does by default): Strata's storage-node connections always ask for found rows, see
    // `affected_rows_count_changed_rows_without_client_found_rows`.
    let found_rows =
        |opts: mysql_async::Opts| mysql_async::OptsBuilder::from_opts(opts).client_found_rows(true);
    let mut diff = Diff {
        strata: mysql_async::Conn::new(found_rows(node.opts(Some("test")))).await?,
        reference: mysql_async::Conn::new(found_rows(storage.opts(0, Some(&reference_db)))).await?,
        seed,
        statements: 0,
        refused: Vec::new(),
        refusals: BTreeMap::new(),
        mismatches: Vec::new(),
        per_kind: BTreeMap::new(),
    };
    let mut g = Gen {
        r: SplitMix64::new(seed),
        next_fresh: 3000,
    };
    load(&mut g, &mut diff).await?;
    let loaded = started.elapsed();

    while diff.statements < target {
        match g.r.below(100) {
            0..=16 => select_rows(&mut g, &mut diff).await?,
            17..=19 => misc(&mut g, &mut diff).await?,
            20..=33 => aggregate(&mut g, &mut diff).await?,
            34..=49 => group_by(&mut g, &mut diff).await?,
            50..=57 => distinct(&mut g, &mut diff).await?,
            58..=64 => union(&mut g, &mut diff).await?,
            65..=76 => join(&mut g, &mut diff).await?,
            77..=78 => expressions(&mut g, &mut diff).await?,
            79..=80 => misc(&mut g, &mut diff).await?,
            81..=83 => routing(&mut g, &mut diff).await?,
            84 => prepared(&mut g, &mut diff).await?,
            _ => write(&mut g, &mut diff).await?,
        }
    }
    // Every table must still agree after all the writes.
    for (table, _, _) in schema() {
        let order = if table == "t_child" { "cid" } else { "id" };
        let sql = format!("SELECT * FROM {table} ORDER BY {order}");
        let shape = Shape {
            ordered: true,
            ..Shape::default()
        };
        diff.check("final table", &sql, &shape).await?;
    }

    let refused_pct = 100.0 * diff.refused.len() as f64 / diff.statements as f64;
    println!(
        "differential: seed {seed:#x}, {} statements, {} refused ({refused_pct:.1}%), {} mismatches; \
         load {:.1}s, total {:.1}s",
        diff.statements,
        diff.refused.len(),
        diff.mismatches.len(),
        loaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for (kind, (n, refused)) in &diff.per_kind {
        println!("  {kind:32} {n:5} statements, {refused:4} refused");
    }
    for (why, n) in &diff.refusals {
        println!("  refused {n:4}: {why}");
    }
    for r in diff.refused.iter().take(5) {
        println!("refused, for example: {r}");
    }
    node.shutdown().await;
    storage.drop_database(&reference_db).await?;
    if !diff.mismatches.is_empty() {
        for m in diff.mismatches.iter().take(15) {
            eprintln!("MISMATCH {m}");
        }
        return Err(format!(
            "{} of {} statements answered differently from MariaDB (seed {seed:#x})",
            diff.mismatches.len(),
            diff.statements
        )
        .into());
    }
    assert!(
        refused_pct <= MAX_REFUSED_PERCENT,
        "Strata refused {refused_pct:.1}% of the statements (at most {MAX_REFUSED_PERCENT}% allowed)"
    );
    Ok(())
}

/// Without CLIENT_FOUND_ROWS MySQL reports the rows an UPDATE changed, not the rows it
/// matched (the client here does not ask for found rows; see tests/affected_rows.rs).
#[tokio::test]
async fn affected_rows_count_changed_rows_without_client_found_rows() -> TestResult {
    let (node, mut c) = node_and_conn(4).await?;
    c.query_drop("CREATE TABLE fr (id INT PRIMARY KEY, k INT) SHARD BY VERTICAL ON DATANODE '2'")
        .await?;
    c.query_drop("INSERT INTO fr VALUES (1, NULL), (2, 5)")
        .await?;
    // NULL + 1 is NULL: the first row matches but does not change.
    c.query_drop("UPDATE fr SET k = k + 1").await?;
    assert_eq!(c.affected_rows(), 1);
    node.shutdown().await;
    Ok(())
}

/// MariaDB rejects a multi-row INSERT with a duplicate key as a whole; Strata runs a
/// write over several data nodes as one XA transaction, so no node keeps its rows.
#[tokio::test]
async fn failed_multi_node_insert_leaves_no_rows() -> TestResult {
    let (node, mut c) = node_and_conn(4).await?;
    c.query_drop(
        "CREATE TABLE pm (id INT PRIMARY KEY) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    c.query_drop("INSERT INTO pm VALUES (4)").await?;
    let dup = c
        .query_drop("INSERT INTO pm VALUES (1), (2), (3), (4)")
        .await;
    assert!(dup.is_err(), "duplicate key 4 is refused");
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM pm").await?;
    assert_eq!(
        n,
        Some(1),
        "MariaDB rolls the whole INSERT back: only row 4 remains"
    );
    node.shutdown().await;
    Ok(())
}

/// Column definitions carry the connection's result character set (utf8mb4), not the
/// column's collation: the catalog records each column's collation as the data node
/// reports it after CREATE TABLE, and merges compare under it. In latin1_swedish_ci `ö`
/// sorts after `z`; in utf8mb4_general_ci it would sort as `o`.
#[tokio::test]
async fn latin1_column_merges_compare_by_the_column_collation() -> TestResult {
    let (node, mut c) = node_and_conn(4).await?;
    c.query_drop(
        "CREATE TABLE l1 (id INT PRIMARY KEY, s VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    c.query_drop("INSERT INTO l1 VALUES (1, 'zeta'), (2, 'östen'), (3, 'abc'), (4, 'åsa')")
        .await?;
    // MariaDB (latin1_swedish_ci): a < z < å < ä < ö.
    let max: Option<String> = c.query_first("SELECT MAX(s) FROM l1").await?;
    assert_eq!(max.as_deref(), Some("östen"));
    let order: Vec<String> = c.query("SELECT s FROM l1 ORDER BY s").await?;
    assert_eq!(order, vec!["abc", "zeta", "åsa", "östen"]);
    node.shutdown().await;
    Ok(())
}

/// Strings of other collations merge as MariaDB compares them (answers taken from one
/// MariaDB 10.11 with the same rows); a merge the planner cannot tie to a column's
/// collation (an expression over such a table) runs on one data node over copies of
/// the table instead, never answered wrongly; an
/// ALTER TABLE that changes a column's collation is followed by the merges.
#[tokio::test]
async fn merges_of_columns_with_other_collations_follow_the_column() -> TestResult {
    let (node, mut c) = node_and_conn(4).await?;
    c.query_drop(
        "CREATE TABLE l2 (id INT PRIMARY KEY, s VARCHAR(10) COLLATE utf8mb4_unicode_ci, \
         l VARCHAR(10) CHARACTER SET latin1, b VARBINARY(10)) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    c.query_drop(
        "INSERT INTO l2 VALUES (1, 'st', 'zeta', 'z'), (2, 'ß', 'östen', 'o'), \
         (3, 'sa', 'abc', 'a'), (4, 'SA', 'åsa', 'b')",
    )
    .await?;
    // utf8mb4_unicode_ci: ß = ss, between sa and st (utf8mb4_general_ci: ß = s).
    let order: Vec<String> = c.query("SELECT s FROM l2 ORDER BY s, id").await?;
    assert_eq!(order, vec!["sa", "SA", "ß", "st"]);
    // A group's `s` is any of its spellings (`sa` or `SA`), as in MariaDB.
    let groups: Vec<(String, i64)> = c
        .query("SELECT s, COUNT(*) FROM l2 GROUP BY s ORDER BY s")
        .await?;
    let groups: Vec<(String, i64)> = groups
        .into_iter()
        .map(|(s, n)| (s.to_lowercase(), n))
        .collect();
    assert_eq!(
        groups,
        vec![("sa".into(), 2), ("ß".into(), 1), ("st".into(), 1)]
    );
    let (max_s, min_l, max_l): (String, String, String) = c
        .query_first("SELECT MAX(s), MIN(l), MAX(l) FROM l2")
        .await?
        .ok_or("no row")?;
    assert_eq!(
        (max_s.as_str(), min_l.as_str(), max_l.as_str()),
        ("st", "abc", "östen")
    );
    let distinct: Vec<String> = c.query("SELECT DISTINCT l FROM l2 ORDER BY l").await?;
    assert_eq!(distinct, vec!["abc", "zeta", "åsa", "östen"]);
    let bs: Vec<Vec<u8>> = c.query("SELECT b FROM l2 ORDER BY b").await?;
    assert_eq!(
        bs,
        vec![b"a".to_vec(), b"b".to_vec(), b"o".to_vec(), b"z".to_vec()]
    );
    // The merge cannot tie an expression to a collation: it refuses once it sees the
    // nodes' columns, and the statement runs on one data node over copies instead.
    let upper: Vec<String> = c.query("SELECT UPPER(l) FROM l2 ORDER BY 1").await?;
    assert_eq!(upper, vec!["ABC", "ZETA", "ÅSA", "ÖSTEN"]);
    c.query_drop(
        "CREATE TABLE u2 (id INT PRIMARY KEY, s VARCHAR(10)) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    c.query_drop("INSERT INTO u2 VALUES (1, 'zeta'), (2, 'östen'), (3, 'abc')")
        .await?;
    let general: Vec<String> = c.query("SELECT s FROM u2 ORDER BY s").await?;
    assert_eq!(general, vec!["abc", "östen", "zeta"]);
    c.query_drop("ALTER TABLE u2 MODIFY s VARCHAR(10) CHARACTER SET latin1")
        .await?;
    let swedish: Vec<String> = c.query("SELECT s FROM u2 ORDER BY s").await?;
    assert_eq!(swedish, vec!["abc", "zeta", "östen"]);
    node.shutdown().await;
    Ok(())
}

/// MySQL's `BINARY expr` operator is not parsed (sqlparser's MySQL dialect lacks it), so
/// a statement using it fails with 1064 unless all its tables are on one data node.
/// Open bug, kept as a failing test.
#[tokio::test]
#[ignore = "open bug: the BINARY operator is a syntax error across data nodes"]
async fn binary_operator_parses() -> TestResult {
    let (node, mut c) = node_and_conn(4).await?;
    c.query_drop(
        "CREATE TABLE bo (id INT PRIMARY KEY, s VARCHAR(10)) \
         SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    )
    .await?;
    c.query_drop("INSERT INTO bo VALUES (1, 'North'), (2, 'north'), (3, 'NORTH')")
        .await?;
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM bo WHERE BINARY s = 'North'")
        .await?;
    assert_eq!(n, Some(1));
    node.shutdown().await;
    Ok(())
}
