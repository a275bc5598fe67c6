//! An ALTER TABLE or CREATE INDEX over 4 data nodes that one node's rows make fail
//! leaves every node's table definition as it was (issue 14): duplicates of a new
//! PRIMARY KEY or UNIQUE key are found on every node before any node changes, and
//! answered with MariaDB's own 1062; other failures on one node (NULLs under a new
//! NOT NULL, a CHECK constraint) are undone on the nodes where the statement
//! succeeded, and the failing node's error is the answer. Each case runs on Strata
//! and on one MariaDB holding all the rows, and each storage node's `SHOW CREATE
//! TABLE` is read directly, before and after. A CREATE TABLE that fails on one node is
//! dropped again where it was created.

mod common;

use common::{physical_test_db, TestResult};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode, StorageNodes};

/// Strata over 4 data nodes with table `t` sharded on `k` over all of them, one
/// MariaDB (storage node 0, its own database) with the same table, and both holding
/// `rows`.
struct Setup {
    storage: std::sync::Arc<StorageNodes>,
    node: ComputeNode,
    strata: Conn,
    reference: Conn,
    physical: String,
    table: String,
}

impl Setup {
    async fn new(columns: &str, rows: &str) -> TestResult<Setup> {
        let storage = shared_storage(4).await?;
        let node = ComputeNode::builder(&storage).start().await?;
        let physical = physical_test_db(&node)?;
        let table = unique_name("alt");
        let reference_db = unique_name("altref");
        storage.create_database(&reference_db).await?;
        let mut strata = node.connect(Some("test")).await?;
        let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
        strata
            .query_drop(format!(
                "CREATE TABLE {table} ({columns}) \
                 SHARD BY functiontype 'auto_crc32' USING COLUMN 'k' ON DATANODE '1-4'"
            ))
            .await?;
        reference
            .query_drop(format!("CREATE TABLE {table} ({columns})"))
            .await?;
        for c in [&mut strata, &mut reference] {
            c.query_drop(format!("INSERT INTO {table} VALUES {rows}"))
                .await?;
        }
        Ok(Setup {
            storage,
            node,
            strata,
            reference,
            physical,
            table,
        })
    }

    /// `SHOW CREATE TABLE` of the table on each storage node, read directly.
    async fn definitions(&self) -> TestResult<Vec<String>> {
        let mut out = Vec::new();
        for i in 0..4 {
            let mut c = self.storage.connect(i, Some(&self.physical)).await?;
            let row: Option<(String, String)> = c
                .query_first(format!("SHOW CREATE TABLE {}", self.table))
                .await?;
            out.push(row.ok_or("no definition")?.1);
        }
        Ok(out)
    }

    /// Runs `sql` (with `{t}` for the table) on both sides; both must fail. Returns
    /// Strata's and the reference's (code, message).
    async fn both_fail(&mut self, sql: &str) -> TestResult<((u16, String), (u16, String))> {
        let sql = sql.replace("{t}", &self.table);
        let strata = failure(&mut self.strata, &sql).await?;
        let reference = failure(&mut self.reference, &sql).await?;
        Ok((strata, reference))
    }

    /// Asserts that `sql` fails on Strata as on MariaDB (`same_message`: word for word)
    /// and that no storage node's definition of the table changed.
    async fn fails_leaving_nodes_alike(&mut self, sql: &str, same_message: bool) -> TestResult {
        let before = self.definitions().await?;
        assert!(
            before.iter().all(|d| *d == before[0]),
            "nodes differ before: {before:?}"
        );
        let (strata, reference) = self.both_fail(sql).await?;
        assert_eq!(strata.0, reference.0, "{sql}: {strata:?} vs {reference:?}");
        if same_message {
            assert_eq!(strata.1, reference.1, "{sql}");
        }
        assert!(
            !strata.1.contains("data node"),
            "{sql}: the answer is MariaDB's error alone: {}",
            strata.1
        );
        let after = self.definitions().await?;
        assert_eq!(after, before, "{sql} changed a node's table");
        Ok(())
    }

    async fn shut_down(self) -> TestResult {
        let Setup {
            node,
            mut strata,
            table,
            ..
        } = self;
        strata.query_drop(format!("DROP TABLE {table}")).await?;
        drop(strata);
        node.shutdown().await;
        Ok(())
    }
}

/// The (code, message) `sql` fails with; an error when it succeeds.
async fn failure(c: &mut Conn, sql: &str) -> TestResult<(u16, String)> {
    match c.query_drop(sql).await {
        Ok(()) => Err(format!("{sql} succeeded").into()),
        Err(mysql_async::Error::Server(e)) => Ok((e.code, e.message)),
        Err(e) => Err(e.into()),
    }
}

/// Rows with distinct `k` spread over the nodes, and one pair duplicated on `(k, n)`
/// (`n` differs only in letter case, which the column's collation ignores).
const ROWS: &str = "(1, 1, 'a', 1), (2, 2, 'b', 2), (3, 3, 'c', 3), (4, 4, 'd', 4), \
                    (5, 5, 'e', 5), (6, 6, 'f', 6), (7, 7, 'x', 7), (8, 7, 'X', 8), \
                    (9, 8, 'g', 9), (10, 9, 'h', 10)";

const COLUMNS: &str = "id INT, k INT, n VARCHAR(10), c INT";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_unique_key_meeting_duplicates_on_one_node_fails_with_mariadbs_1062_and_changes_no_node(
) -> TestResult {
    let mut s = Setup::new(COLUMNS, ROWS).await?;
    for sql in [
        "ALTER TABLE {t} ADD PRIMARY KEY (k, n)",
        "ALTER TABLE {t} ADD UNIQUE u1 (k, n)",
        "ALTER TABLE {t} ADD UNIQUE KEY u2 (n, k), ADD COLUMN z INT",
        "CREATE UNIQUE INDEX ux ON {t} (k, n)",
        // Unnamed: MariaDB names it after its first column, k_2 while k is taken.
        "ALTER TABLE {t} ADD UNIQUE (K, n)",
        "ALTER TABLE {t} ADD INDEX k (k), ADD UNIQUE (K, n)",
    ] {
        s.fails_leaving_nodes_alike(sql, true).await?;
    }
    // A key without the sharding column cannot be enforced across nodes: refused
    // before any node changes, as CREATE TABLE refuses it.
    let before = s.definitions().await?;
    let sql = format!("ALTER TABLE {} ADD UNIQUE (n)", s.table);
    assert_eq!(failure(&mut s.strata, &sql).await?.0, 1503);
    assert_eq!(s.definitions().await?, before);
    // Once the duplicate is gone, the key is added on every node.
    for c in [&mut s.strata, &mut s.reference] {
        c.query_drop(format!("DELETE FROM {} WHERE id = 8", s.table))
            .await?;
        c.query_drop(format!("ALTER TABLE {} ADD PRIMARY KEY (k, n)", s.table))
            .await?;
    }
    let after = s.definitions().await?;
    assert!(after.iter().all(|d| *d == after[0]), "{after:?}");
    assert!(after[0].contains("PRIMARY KEY (`k`,`n`)"), "{}", after[0]);
    s.shut_down().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alter_failing_on_one_node_is_undone_on_the_others() -> TestResult {
    // One row with a NULL `n` and one with a NULL `c`, each on one node only.
    let rows = "(1, 1, 'a', 1), (2, 2, 'b', 2), (3, 3, 'c', 3), (4, 4, 'd', 4), \
                (5, 5, NULL, 5), (6, 6, 'f', NULL), (7, 7, 'g', -7)";
    let mut s = Setup::new(COLUMNS, rows).await?;
    // 1265: the key's columns become NOT NULL; undone, they are nullable again.
    s.fails_leaving_nodes_alike("ALTER TABLE {t} ADD PRIMARY KEY (k, n)", false)
        .await?;
    s.fails_leaving_nodes_alike("ALTER TABLE {t} MODIFY c INT NOT NULL", false)
        .await?;
    s.fails_leaving_nodes_alike(
        "ALTER TABLE {t} ADD COLUMN z INT DEFAULT 1, ADD INDEX (k), ADD CONSTRAINT ck CHECK (c > 0)",
        false,
    )
    .await?;
    // The definitions are read in one form whatever the client's sql_mode.
    for c in [&mut s.strata, &mut s.reference] {
        c.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'")
            .await?;
    }
    s.fails_leaving_nodes_alike(
        "ALTER TABLE {t} ADD UNIQUE (k), MODIFY c INT NOT NULL",
        false,
    )
    .await?;
    // The errors are MariaDB's for the failing node's rows (its row number).
    let ((code, message), _) = s.both_fail("ALTER TABLE {t} MODIFY c INT NOT NULL").await?;
    assert_eq!(code, 1265);
    assert!(
        message.starts_with("Data truncated for column 'c' at row "),
        "{message}"
    );
    let ((code, message), _) = s
        .both_fail("ALTER TABLE {t} ADD CONSTRAINT ck CHECK (c > 0)")
        .await?;
    assert_eq!(code, 4025);
    assert!(
        message.starts_with("CONSTRAINT `ck` failed for "),
        "{message}"
    );
    s.shut_down().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alter_that_changed_a_columns_type_is_not_undone_and_says_where_it_applied() -> TestResult
{
    let rows = "(1, 1, 'a', 1), (2, 2, 'b', 2), (3, 3, 'c', 3), (4, 4, 'dddd', 4), \
                (5, 5, 'e', 5), (6, 6, 'f', 6), (7, 7, 'g', 7)";
    let mut s = Setup::new(COLUMNS, rows).await?;
    let sql = format!("ALTER TABLE {} MODIFY n VARCHAR(2)", s.table);
    let (code, message) = failure(&mut s.strata, &sql).await?;
    assert_eq!(code, 1265);
    assert!(
        message.contains("the statement was applied on data node(s)")
            && message.contains("could not be undone: the type of column `n` changed"),
        "{message}"
    );
    s.shut_down().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_table_failing_on_one_node_is_dropped_where_it_was_created() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let physical = physical_test_db(&node)?;
    let table = unique_name("crt");
    // A stray table of that name on data node 3 only, which Strata does not know.
    let mut third = storage.connect(2, Some(&physical)).await?;
    third
        .query_drop(format!("CREATE TABLE {table} (x INT)"))
        .await?;
    let mut strata = node.connect(Some("test")).await?;
    let sql = format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY) \
         SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'"
    );
    let (code, message) = failure(&mut strata, &sql).await?;
    assert_eq!(
        (code, message.as_str()),
        (1050, format!("Table '{table}' already exists").as_str())
    );
    for i in 0..4 {
        let mut c = storage.connect(i, Some(&physical)).await?;
        let found: Option<String> = c.query_first(format!("SHOW TABLES LIKE '{table}'")).await?;
        assert_eq!(found.is_some(), i == 2, "data node {}", i + 1);
    }
    third.query_drop(format!("DROP TABLE {table}")).await?;
    // Once the stray table is gone, the same statement creates it on every node.
    strata.query_drop(&sql).await?;
    strata.query_drop(format!("DROP TABLE {table}")).await?;
    drop(strata);
    node.shutdown().await;
    Ok(())
}
