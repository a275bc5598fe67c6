//! Sharding-key values the column cannot hold, over four data nodes and on one plain
//! MariaDB. In non-strict sql_mode, and with INSERT IGNORE / UPDATE IGNORE in strict
//! mode, MariaDB clips them (300 into a TINYINT UNSIGNED is 255, `'abcdef'` into a
//! VARCHAR(3) is `'abc'`, 12345.6 into a DECIMAL(5,2) is 999.99): the row must route by
//! the stored value, so `WHERE k = <stored value>` finds it. The replies, warnings and
//! rows agree with MariaDB, and each row is on the data node its stored value routes to
//! (read on the data nodes themselves, against a twin table filled with the stored
//! values as plain literals).

mod diffkit;

use mysql_async::prelude::*;
use mysql_async::Conn;

use diffkit::{
    create_on_both, differences, drop_and_shut_down, node_and_reference, run, value_text, BoxError,
    ER_NOT_SUPPORTED_YET,
};
use strata_testkit::shared_storage;

type TestResult = Result<(), BoxError>;

/// A table of key type `key` sharded by `k` over the four data nodes.
fn table(name: &'static str, key: &'static str) -> (&'static str, String, String) {
    (
        name,
        format!("k {key}, v VARCHAR(10)"),
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'k' ON DATANODE '1-4'".to_string(),
    )
}

/// (table, key type, values written that the column clips, their stored values).
const TABLES: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "tu",
        "TINYINT UNSIGNED",
        &["300", "-5", "'300abc'", "1000", "256"],
        &["255", "0"],
    ),
    (
        "tsm",
        "SMALLINT",
        &["99999", "-99999", "40000"],
        &["32767", "-32768"],
    ),
    (
        "tin",
        "INT",
        &["3000000000", "-3000000000"],
        &["2147483647", "-2147483648"],
    ),
    (
        "tvc",
        "VARCHAR(3)",
        &["'abcdef'", "'xyzzy'", "'ÄÖÜßé'", "'pq    '"],
        &["'abc'", "'xyz'", "'ÄÖÜ'", "'pq'"],
    ),
    (
        "tch",
        "CHAR(2) CHARACTER SET latin1",
        &["'hello'", "'world'"],
        &["'he'", "'wo'"],
    ),
    (
        "tdc",
        "DECIMAL(5,2)",
        &["123.456", "12345.6", "-12345.6", "'99999'", "999.999"],
        &["123.46", "999.99", "-999.99"],
    ),
    (
        "tdu",
        "DECIMAL(4,1) UNSIGNED",
        &["-5", "123456"],
        &["0.0", "999.9"],
    ),
    (
        "tvb",
        "VARBINARY(3)",
        &["'abcdef'", "'uvwxyz'"],
        &["'abc'", "'uvw'"],
    ),
];

async fn create_tables(strata: &mut Conn, reference: &mut Conn) -> TestResult {
    let tables: Vec<(&str, String, String)> =
        TABLES.iter().map(|(t, k, _, _)| table(t, k)).collect();
    let tables: Vec<(&str, &str, &str)> = tables
        .iter()
        .map(|(t, c, d)| (*t, c.as_str(), d.as_str()))
        .collect();
    create_on_both(strata, reference, &tables, &[]).await
}

/// The writes: one row per clipped value, several in one statement, REPLACE, and an
/// UPDATE that sets the key to a value clipped back to the row's own.
fn writes(insert: &str, update: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (t, _, clipped, _) in TABLES {
        for (i, value) in clipped.iter().enumerate() {
            out.push(format!("{insert} INTO {t} VALUES ({value}, 'r{i}')"));
        }
        let rows: Vec<String> = clipped.iter().map(|v| format!("({v}, 'multi')")).collect();
        out.push(format!("{insert} INTO {t} VALUES {}", rows.join(", ")));
    }
    out.push("REPLACE INTO tu VALUES (700, 'replace')".into());
    out.push(format!("{insert} INTO tu SET k = 500, v = 'set'"));
    out.push(format!(
        "{update} tu SET k = 999 WHERE k = 255 AND v = 'set'"
    ));
    out.push(format!(
        "{update} tvc SET k = 'abcdefgh' WHERE k = 'abc' AND v = 'multi'"
    ));
    out
}

/// Reads: each stored value finds its rows, each written value matches none (MariaDB
/// compares the column with the value written), then every row.
fn reads() -> Vec<String> {
    let mut out = Vec::new();
    for (t, _, clipped, stored) in TABLES {
        for value in stored.iter().chain(clipped.iter()) {
            out.push(format!("SELECT k, v FROM {t} WHERE k = {value} ORDER BY v"));
            out.push(format!(
                "SELECT COUNT(*) FROM {t} WHERE k IN ({value}, NULL)"
            ));
        }
        out.push(format!("SELECT k, v FROM {t} ORDER BY k, v"));
    }
    out
}

/// Runs the writes under `sql_mode` on both sides and compares each reply and its
/// warning count, then the reads; then checks where the rows are.
async fn same_under(sql_mode: &str, prefix: &str, insert: &str, update: &str) -> TestResult {
    let (node, db, mut strata, mut reference) =
        node_and_reference(prefix, &format!("{prefix}ref")).await?;
    create_tables(&mut strata, &mut reference).await?;
    let set = format!("SET sql_mode = '{sql_mode}'");
    strata.query_drop(&set).await?;
    reference.query_drop(&set).await?;
    let mut failures = Vec::new();
    for sql in writes(insert, update) {
        failures.extend(differences(&mut reference, &mut strata, &[(&sql, false)]).await?);
        let (want, got) = (reference.get_warnings(), strata.get_warnings());
        if want != got {
            failures.push(format!("warnings: {sql}\n  MariaDB {want}, Strata {got}"));
        }
    }
    let reads = reads();
    let reads: Vec<(&str, bool)> = reads.iter().map(|s| (s.as_str(), true)).collect();
    failures.extend(differences(&mut reference, &mut strata, &reads).await?);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    placed_as_literals(&node, &db, &mut strata).await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clipped_keys_route_by_the_stored_value_in_non_strict_mode() -> TestResult {
    same_under("", "kwn", "INSERT", "UPDATE").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clipped_keys_route_by_the_stored_value_with_ignore_in_strict_mode() -> TestResult {
    same_under(
        "STRICT_TRANS_TABLES,STRICT_ALL_TABLES",
        "kwi",
        "INSERT IGNORE",
        "UPDATE IGNORE",
    )
    .await
}

/// In strict mode without IGNORE the data node refuses the values, as MariaDB does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clipped_keys_are_refused_in_strict_mode() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("kws", "kwsref").await?;
    create_tables(&mut strata, &mut reference).await?;
    let set = "SET sql_mode = 'STRICT_TRANS_TABLES'";
    strata.query_drop(set).await?;
    reference.query_drop(set).await?;
    let mut statements: Vec<String> = TABLES
        .iter()
        .flat_map(|(t, _, clipped, _)| {
            clipped
                .iter()
                .map(move |v| format!("INSERT INTO {t} VALUES ({v}, 's')"))
        })
        .collect();
    statements.extend(
        TABLES
            .iter()
            .map(|(t, _, _, _)| format!("SELECT k, v FROM {t} ORDER BY k, v")),
    );
    let statements: Vec<(&str, bool)> = statements.iter().map(|s| (s.as_str(), true)).collect();
    let failures = differences(&mut reference, &mut strata, &statements).await?;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Another width of the sharding column would clip stored keys or let values the
    // catalog's width clamps be stored: refused. The same width is fine.
    for sql in [
        "ALTER TABLE tu MODIFY k INT UNSIGNED",
        "ALTER TABLE tvc MODIFY k VARCHAR(2)",
        "ALTER TABLE tdc MODIFY k DECIMAL(6,2)",
    ] {
        let got = run(&mut strata, sql).await?;
        assert_eq!(
            got.error_code(),
            Some(ER_NOT_SUPPORTED_YET),
            "{sql}: {got:?}"
        );
    }
    strata
        .query_drop("ALTER TABLE tu MODIFY k TINYINT(3) UNSIGNED")
        .await?;
    drop_and_shut_down(node, &mut strata, &db).await
}

/// A string sharding column an ALTER redefines without its character set takes the
/// table's default collation, as in MariaDB: where that is not the key's collation the
/// key would change (`'y'` and `'ü'` are one key under latin1_swedish_ci, two under
/// utf8mb4_general_ci), so the ALTER is refused; where it is the same it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharding_column_redefined_without_its_charset_takes_the_tables_collation() -> TestResult
{
    let (node, db, mut strata, _reference) = node_and_reference("kwc", "kwcref").await?;
    let shard = "SHARD BY functiontype 'auto_crc32' USING COLUMN 'k' ON DATANODE '1-4'";
    strata
        .query_drop(format!(
            "CREATE TABLE kc (k VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci \
             PRIMARY KEY, v INT) DEFAULT CHARSET=latin1 {shard}"
        ))
        .await?;
    strata
        .query_drop(format!(
            "CREATE TABLE ks (k VARCHAR(20) PRIMARY KEY, v INT) DEFAULT CHARSET=latin1 {shard}"
        ))
        .await?;
    strata
        .query_drop("ALTER TABLE ks MODIFY k VARCHAR(20) NOT NULL")
        .await?;
    let got = run(&mut strata, "ALTER TABLE kc MODIFY k VARCHAR(20) NOT NULL").await?;
    assert_eq!(got.error_code(), Some(ER_NOT_SUPPORTED_YET), "{got:?}");
    assert!(
        format!("{got:?}").contains("COLLATE latin1_swedish_ci"),
        "{got:?}"
    );
    strata
        .query_drop("ALTER TABLE kc MODIFY k VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL")
        .await?;
    let collation: Option<String> = strata
        .query_first(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_NAME = 'kc' AND COLUMN_NAME = 'k'",
        )
        .await?;
    assert_eq!(collation.as_deref(), Some("utf8mb4_general_ci"));
    drop_and_shut_down(node, &mut strata, &db).await
}

/// Each table's rows are where the same values written as plain literals go: a twin
/// table with the same distribution gets the stored values as literals, and each data
/// node holds the same rows of both.
async fn placed_as_literals(
    node: &strata_testkit::ComputeNode,
    db: &str,
    strata: &mut Conn,
) -> TestResult {
    let storage = shared_storage(4).await?;
    // A database made with CREATE DATABASE has its own name on the data nodes.
    let physical = node.physical_database(db).unwrap_or(db).to_string();
    strata.query_drop("SET sql_mode = ''").await?;
    let mut spread = 0;
    for (t, key, _, _) in TABLES {
        let (_, columns, distribution) = table(t, key);
        strata
            .query_drop(format!("CREATE TABLE {t}_lit ({columns}) {distribution}"))
            .await?;
        let rows: Vec<mysql_async::Row> = strata.query(format!("SELECT k, v FROM {t}")).await?;
        for row in rows {
            let k = row.as_ref(0).map(value_text).unwrap_or_default();
            let v = row.as_ref(1).map(value_text).unwrap_or_default();
            let k = k.replace('\'', "''");
            strata
                .query_drop(format!("INSERT INTO {t}_lit VALUES ('{k}', '{v}')"))
                .await?;
        }
        let mut nodes_with_rows = 0;
        for i in 0..4 {
            let mut c = storage.connect(i, Some(&physical)).await?;
            let q = |name: &str| format!("SELECT k, v FROM {name} ORDER BY k, v");
            let got: Vec<mysql_async::Row> = c.query(q(t)).await?;
            let want: Vec<mysql_async::Row> = c.query(q(&format!("{t}_lit"))).await?;
            let text = |rows: Vec<mysql_async::Row>| -> Vec<String> {
                rows.iter()
                    .map(|r| {
                        (0..2)
                            .map(|c| r.as_ref(c).map(value_text).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect()
            };
            let (got, want) = (text(got), text(want));
            assert_eq!(got, want, "table {t} on data node {}", i + 1);
            nodes_with_rows += usize::from(!got.is_empty());
        }
        spread += usize::from(nodes_with_rows > 1);
    }
    assert!(
        spread >= 4,
        "rows of most tables spread over several data nodes"
    );
    Ok(())
}
