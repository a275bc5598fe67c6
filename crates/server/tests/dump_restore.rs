//! mariadb-dump through Strata, restored through Strata into another logical database,
//! recreates every table with its distribution (SHOW CREATE TABLE carries it as an
//! executable comment) and every row on the data node its rule gives.

mod common;

use common::{root_client_args, run_all, run_piped, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{unique_name, ComputeNode};

/// The distribution comment SHOW CREATE TABLE gives `table` of `db`.
async fn distribution(c: &mut mysql_async::Conn, db: &str, table: &str) -> Result<String, String> {
    let sql = format!("SHOW CREATE TABLE {db}.{table}");
    let (_, create): (String, String) = c
        .query_first(&sql)
        .await
        .map_err(|e| format!("{sql}: {e}"))?
        .unwrap_or_default();
    Ok(create
        .lines()
        .last()
        .filter(|l| l.starts_with("/*!999999 SHARD BY"))
        .unwrap_or("(no distribution comment)")
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_restored_through_strata_keeps_each_tables_distribution() -> TestResult {
    let node = ComputeNode::on_shared_storage(2).await?;
    let mut c = node.connect(None).await?;
    let (src, dst) = (unique_name("dumpsrc"), unique_name("dumpdst"));
    c.query_drop(format!("CREATE DATABASE {src} DEFAULT DATANODE '1,2'"))
        .await?;
    c.query_drop(format!("CREATE DATABASE {dst} DEFAULT DATANODE '1,2'"))
        .await?;
    c.query_drop(format!("USE {src}")).await?;
    run_all(
        &mut c,
        &[
            "CREATE TABLE parent (id INT PRIMARY KEY, s VARCHAR(20)) \
             SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2'",
            "CREATE TABLE pchild (id INT, parent_id INT, x INT, PRIMARY KEY (parent_id, id)) \
             SHARD BY CHILD OF parent(id) USING COLUMN 'parent_id'",
            "CREATE TABLE glob (code CHAR(2) PRIMARY KEY, name VARCHAR(20)) SHARD BY GLOBAL",
            "CREATE TABLE vert (id INT PRIMARY KEY, note TEXT) SHARD BY VERTICAL ON DATANODE '1'",
            // Not on the database's home data node: mariadb-dump's questions about its
            // columns (information_schema) are answered by data node 2.
            "CREATE TABLE vert2 (id INT PRIMARY KEY, amount DECIMAL(10,2), \
             twice INT AS (id * 2) VIRTUAL) SHARD BY VERTICAL ON DATANODE '2'",
            "INSERT INTO parent VALUES (1, 'one'), (2, 'two'), (3, 'it''s'), (4, NULL)",
            "INSERT INTO pchild VALUES (10, 1, 5), (11, 2, 6), (12, 3, 7), (13, 3, 8)",
            "INSERT INTO glob VALUES ('fr', 'France'), ('de', 'Germany')",
            "INSERT INTO vert VALUES (1, 'a\\nb'), (2, 'é')",
            "INSERT INTO vert2 (id, amount) VALUES (1, 2.50), (7, -3.25)",
        ],
    )
    .await?;

    let addr = node.service_addr();
    // --single-transaction, as InnoDB dumps are taken, and no LOCK TABLES around each
    // table's rows: LOCK TABLES over several data nodes is refused (docs/sharding.md).
    let mut dump_args = root_client_args(addr);
    dump_args.push("--single-transaction".into());
    dump_args.push("--skip-add-locks".into());
    dump_args.push(src.clone());
    let dump =
        tokio::task::spawn_blocking(move || run_piped("mariadb-dump", &dump_args, b"")).await??;
    let text = String::from_utf8_lossy(&dump);
    assert!(
        text.contains("/*!999999 SHARD BY GLOBAL ON DATANODE '1,2' */"),
        "{text}"
    );
    let mut restore_args = root_client_args(addr);
    restore_args.push(dst.clone());
    tokio::task::spawn_blocking(move || run_piped("mariadb", &restore_args, &dump)).await??;

    let tables = ["parent", "pchild", "glob", "vert", "vert2"];
    let expected = [
        "/*!999999 SHARD BY FUNCTIONTYPE 'auto_mod' USING COLUMN 'id' ON DATANODE '1,2' */",
        "/*!999999 SHARD BY CHILD OF `parent`(`id`) USING COLUMN 'parent_id' */",
        "/*!999999 SHARD BY GLOBAL ON DATANODE '1,2' */",
        "/*!999999 SHARD BY VERTICAL ON DATANODE '1' */",
        "/*!999999 SHARD BY VERTICAL ON DATANODE '2' */",
    ];
    let nodes: [&[u32]; 5] = [&[1, 2], &[1, 2], &[1, 2], &[1], &[2]];
    for ((table, expected), nodes) in tables.iter().zip(expected).zip(nodes) {
        assert_eq!(distribution(&mut c, &src, table).await?, expected);
        assert_eq!(
            distribution(&mut c, &dst, table).await?,
            expected,
            "{table}"
        );
        // Every row on the same data node as in the source.
        for dnid in nodes {
            let rows =
                |db: &str| format!("/*!strata:dnid={dnid}*/ SELECT * FROM {db}.{table} ORDER BY 1");
            let before: Vec<mysql_async::Row> = c.query(rows(&src)).await?;
            let after: Vec<mysql_async::Row> = c.query(rows(&dst)).await?;
            assert!(!before.is_empty(), "{table} on data node {dnid}");
            let values = |rows: Vec<mysql_async::Row>| -> Vec<Vec<mysql_async::Value>> {
                rows.into_iter().map(|r| r.unwrap()).collect()
            };
            assert_eq!(values(before), values(after), "{table} on data node {dnid}");
        }
    }
    // The restored vertical table exists on its data node only.
    let on_2 = c
        .query_drop(format!("/*!strata:dnid=2*/ SELECT * FROM {dst}.vert"))
        .await;
    assert!(
        matches!(&on_2, Err(mysql_async::Error::Server(e)) if e.code == 1146),
        "{on_2:?}"
    );
    c.query_drop(format!("DROP DATABASE {src}")).await?;
    c.query_drop(format!("DROP DATABASE {dst}")).await?;
    Ok(())
}

/// The rows of `db`.`table` in key order, as values (bytes compared exactly).
async fn rows_of(
    c: &mut mysql_async::Conn,
    db: &str,
    table: &str,
) -> Result<Vec<Vec<mysql_async::Value>>, mysql_async::Error> {
    // Strings as their bytes in hexadecimal: compared exactly, whatever the
    // connection's results character set.
    let columns = if table == "t" {
        "id, HEX(s), HEX(b), HEX(bl), d, HEX(j), bt + 0, f, n, HEX(u)"
    } else {
        "*"
    };
    let rows: Vec<mysql_async::Row> = c
        .query(format!("SELECT {columns} FROM {db}.{table} ORDER BY 1"))
        .await?;
    Ok(rows.into_iter().map(|r| r.unwrap()).collect())
}

/// Statements that fill a database with the kinds of values and objects a dump carries:
/// binary bytes that are not UTF-8, 4-byte characters, JSON, BIT, a view, a
/// procedure and a function whose dumps name their definer (`root`@`localhost`).
const FILL: &[&str] = &[
    "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20), b VARBINARY(8), bl BLOB, \
     d DATETIME(3), j JSON, bt BIT(3), f DOUBLE, n DECIMAL(12,3), \
     u TEXT CHARACTER SET utf8mb4)",
    "INSERT INTO t VALUES (1, 'one', X'00FF10', X'DEADBEEF00', '2020-01-02 03:04:05.678', \
     '{\"a\": 1}', b'101', 1.5e300, -123.456, 'h\u{e9}llo \u{1F600}'), \
     (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
     (3, 'it''s\\n', X'', X'0A0D5C2700', '1999-12-31 23:59:59', '[1, 2]', b'0', \
     -0.0, 0, '\u{436}'), (4, 'x', X'C3', X'FE', '2000-01-01', 'null', b'111', 3, 1, 'z')",
    "CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
    "INSERT INTO ai (v) VALUES (1), (2), (3), (4), (5), (6), (7), (8)",
    "CREATE VIEW v AS SELECT id, s, id + 1 AS next FROM t WHERE id > 1",
    "CREATE PROCEDURE p(x INT) SELECT x + 1 AS y",
    "CREATE FUNCTION f1(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
];

/// mariadb-dump of `db` with `options` through the compute node at `addr`.
async fn dump(addr: std::net::SocketAddr, options: &[&str], db: &str) -> Result<Vec<u8>, String> {
    let mut args = root_client_args(addr);
    args.extend(options.iter().map(|o| o.to_string()));
    args.push(db.to_string());
    tokio::task::spawn_blocking(move || run_piped("mariadb-dump", &args, b""))
        .await
        .map_err(|e| e.to_string())?
}

/// `mariadb db < dump` through the compute node at `addr`.
async fn restore(addr: std::net::SocketAddr, db: &str, dump: Vec<u8>) -> Result<Vec<u8>, String> {
    let mut args = root_client_args(addr);
    // --skip-opt dumps carry no SET NAMES: a client in utf8mb3 would store `?` for
    // 4-byte characters, through Strata as directly.
    args.push("--default-character-set=utf8mb4".into());
    args.push(db.to_string());
    tokio::task::spawn_blocking(move || run_piped("mariadb", &args, &dump))
        .await
        .map_err(|e| e.to_string())?
}

/// Dumps `src` with `options`, restores it into a fresh database on `nodes` and
/// compares every table's and the view's rows, the view's columns and the routines.
async fn round_trip(
    c: &mut mysql_async::Conn,
    addr: std::net::SocketAddr,
    src: &str,
    nodes: &str,
    options: &[&str],
) -> TestResult {
    let text = dump(addr, options, src).await?;
    let dst = unique_name("dumpdst");
    c.query_drop(format!("CREATE DATABASE {dst} DEFAULT DATANODE '{nodes}'"))
        .await?;
    restore(addr, &dst, text)
        .await
        .map_err(|e| format!("{options:?}: {e}"))?;
    for table in ["t", "ai", "v"] {
        assert_eq!(
            rows_of(c, src, table).await?,
            rows_of(c, &dst, table).await?,
            "{table} after {options:?}"
        );
    }
    let columns = |db: &str| format!("SHOW COLUMNS FROM {db}.v");
    let before: Vec<mysql_async::Row> = c.query(columns(src)).await?;
    let after: Vec<mysql_async::Row> = c.query(columns(&dst)).await?;
    let values = |rows: Vec<mysql_async::Row>| -> Vec<Vec<mysql_async::Value>> {
        rows.into_iter().map(|r| r.unwrap()).collect()
    };
    assert_eq!(
        values(before),
        values(after),
        "view columns after {options:?}"
    );
    if options.contains(&"--routines") {
        let y: Option<i64> = c.query_first(format!("CALL {dst}.p(41)")).await?;
        assert_eq!(y, Some(42));
        let twice: Option<i64> = c.query_first(format!("SELECT {dst}.f1(21)")).await?;
        assert_eq!(twice, Some(42));
    }
    c.query_drop(format!("DROP DATABASE {dst}")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumps_of_a_database_on_one_data_node_restore_every_byte() -> TestResult {
    let node = ComputeNode::on_shared_storage(2).await?;
    let mut c = node.connect(None).await?;
    let src = unique_name("dump1src");
    c.query_drop(format!("CREATE DATABASE {src} DEFAULT DATANODE '1'"))
        .await?;
    c.query_drop(format!("USE {src}")).await?;
    run_all(&mut c, FILL).await?;
    run_all(
        &mut c,
        &["CREATE TRIGGER tr BEFORE INSERT ON ai FOR EACH ROW SET NEW.v = NEW.v + 0"],
    )
    .await?;
    let addr = node.service_addr();
    let option_sets: &[&[&str]] = &[
        &[],
        &["--single-transaction"],
        &["--routines", "--triggers", "--events"],
        &["--hex-blob"],
        &["--lock-tables"],
        &["--skip-opt"],
        &["--compact"],
    ];
    for options in option_sets {
        round_trip(&mut c, addr, &src, "1", options).await?;
    }
    // --no-data: the tables and the view, no rows.
    let text = dump(addr, &["--no-data"], &src).await?;
    let dst = unique_name("dump1nodata");
    c.query_drop(format!("CREATE DATABASE {dst} DEFAULT DATANODE '1'"))
        .await?;
    restore(addr, &dst, text).await?;
    assert!(rows_of(&mut c, &dst, "t").await?.is_empty());
    assert!(rows_of(&mut c, &dst, "v").await?.is_empty());
    c.query_drop(format!("DROP DATABASE {dst}")).await?;
    // --tab writes files on the storage host: refused, with the reason.
    let tab = dump(addr, &["--tab=/tmp"], &src).await;
    assert!(tab.as_ref().is_err_and(|e| e.contains("1290")), "{tab:?}");
    c.query_drop(format!("DROP DATABASE {src}")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumps_of_a_database_over_four_data_nodes_restore_or_fail_clearly() -> TestResult {
    let node = ComputeNode::on_shared_storage(4).await?;
    let mut c = node.connect(None).await?;
    let src = unique_name("dump4src");
    c.query_drop(format!("CREATE DATABASE {src} DEFAULT DATANODE '1,2,3,4'"))
        .await?;
    c.query_drop(format!("USE {src}")).await?;
    run_all(&mut c, FILL).await?;
    let addr = node.service_addr();
    // The view is Strata's: SHOW FIELDS (which mariadb-dump asks of each view) and
    // DESCRIBE describe it as MariaDB would.
    let described: Vec<(String, String)> = c
        .query::<mysql_async::Row, _>("DESCRIBE v")
        .await?
        .into_iter()
        .map(|r| {
            let field: Option<String> = r.get(0);
            let kind: Option<String> = r.get(1);
            (field.unwrap_or_default(), kind.unwrap_or_default())
        })
        .collect();
    assert_eq!(
        described,
        [
            ("id".to_string(), "int(11)".to_string()),
            ("s".into(), "varchar(20)".into()),
            ("next".into(), "bigint(12)".into()),
        ]
    );
    let keys: Vec<mysql_async::Row> = c.query("SHOW INDEX FROM v").await?;
    assert!(keys.is_empty());
    let option_sets: &[&[&str]] = &[
        &["--single-transaction", "--skip-add-locks", "--hex-blob"],
        &[
            "--single-transaction",
            "--skip-add-locks",
            "--hex-blob",
            "--routines",
        ],
        &["--single-transaction", "--skip-opt", "--hex-blob"],
        &[
            "--single-transaction",
            "--skip-add-locks",
            "--hex-blob",
            "--compact",
        ],
    ];
    for options in option_sets {
        round_trip(&mut c, addr, &src, "1,2,3,4", options).await?;
    }
    // Without --hex-blob the binary bytes are in the statements' text, which Strata
    // cannot rewrite for several data nodes: the restore stops with 1235, it does not
    // store U+FFFD in their place.
    let text = dump(addr, &["--single-transaction", "--skip-add-locks"], &src).await?;
    let dst = unique_name("dump4raw");
    c.query_drop(format!("CREATE DATABASE {dst} DEFAULT DATANODE '1,2,3,4'"))
        .await?;
    let refused = restore(addr, &dst, text).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("1235") && e.contains("not valid UTF-8")),
        "{refused:?}"
    );
    c.query_drop(format!("DROP DATABASE {dst}")).await?;
    // The default options lock each table over several data nodes: refused clearly.
    for options in [&[][..], &["--lock-tables"]] {
        let locked = dump(addr, options, &src).await;
        assert!(
            locked
                .as_ref()
                .is_err_and(|e| e.contains("1235") && e.contains("LOCK TABLES")),
            "{locked:?}"
        );
    }
    // --all-databases: the logical databases the account sees, nothing else.
    let all = dump(
        addr,
        &["--single-transaction", "--skip-add-locks", "--hex-blob"],
        "--all-databases",
    )
    .await?;
    let shown: Vec<String> = c.query("SHOW DATABASES").await?;
    let text = String::from_utf8_lossy(&all);
    let dumped: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    assert!(dumped.contains(&src.as_str()), "{dumped:?}");
    for db in &dumped {
        assert!(
            shown.iter().any(|s| s == db),
            "{db} is not shown: {shown:?}"
        );
        assert!(!["mysql", "sys", "performance_schema"].contains(db));
    }
    c.query_drop(format!("DROP DATABASE {src}")).await?;
    Ok(())
}
