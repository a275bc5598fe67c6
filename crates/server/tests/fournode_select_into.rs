//! `SELECT ... INTO @a, @b` over four data nodes and on one plain MariaDB: after each
//! statement (its reply, warning count and SHOW WARNINGS) the variables hold the same
//! values of the same types (result column types, CHARSET() and COLLATION()): aggregates,
//! ORDER BY ... LIMIT 1, a point lookup, no row (1329, values unchanged), several rows
//! (1172), NULLs, decimals, strings of other character sets, INTO at the end (1287).

mod diffkit;

use mysql_async::prelude::*;

use diffkit::{
    column_type_difference, create_on_both, differences, drop_and_shut_down, node_and_reference,
    BoxError,
};

type TestResult = Result<(), BoxError>;

/// Each statement, then what the variables hold afterwards.
const CASES: &[&str] = &[
    "SELECT COUNT(*), SUM(d), MAX(s) INTO @a, @b, @c FROM t",
    "SELECT id, d, s INTO @a, @b, @c FROM t ORDER BY id DESC LIMIT 1",
    "SELECT id, d, s, u INTO @a, @b, @c, @d FROM t WHERE id = 3",
    "SELECT id, d, s, u FROM t WHERE id = 4 INTO @a, @b, @c, @d",
    "SELECT id, d, s, u INTO @a, @b, @c, @d FROM t WHERE id = 99",
    "SELECT id, d FROM t WHERE id > 90 INTO @a, @b",
    "SELECT id INTO @a FROM t ORDER BY id",
    "SELECT id INTO @a, @b FROM t WHERE id = 1",
    "SELECT id, d, s, u INTO @a, @b, @c, @d FROM t WHERE id = 5",
    "SELECT SUM(d), MIN(u), COUNT(DISTINCT s) INTO @a, @b, @c FROM t WHERE id > 1",
    "SELECT id * 2, CONCAT(s, '!'), big INTO @a, @b, @c FROM t WHERE id = 2",
    "SELECT big, d INTO @a, @b FROM t WHERE id = 1 FOR UPDATE",
    "SELECT s, COUNT(*) INTO @c, @a FROM t GROUP BY s ORDER BY COUNT(*) DESC, s LIMIT 1",
    "SELECT dt, b, f, da INTO @a, @b, @c, @d FROM t2 ORDER BY k LIMIT 1",
    "SELECT MAX(dt), MIN(f), SUM(b) INTO @a, @b, @c FROM t2",
    "SELECT dt, b, f, da INTO @a, @b, @c, @d FROM t2 WHERE k = 3",
    "SELECT d INTO @d FROM t WHERE id = 6 / 2",
];

/// What the variables hold, and their types.
const READ_BACK: &[&str] = &[
    "SELECT @a, @b, @c, @d",
    "SELECT CHARSET(@a), CHARSET(@b), CHARSET(@c), CHARSET(@d), COLLATION(@c), COLLATION(@d)",
    "SELECT @a + 0, @b + 0, LENGTH(@c), HEX(@c)",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_into_user_variables_as_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("fsi", "fsiref").await?;
    create_on_both(
        &mut strata,
        &mut reference,
        &[
            (
                "t",
                "id INT PRIMARY KEY, d DECIMAL(10,2), s VARCHAR(10) CHARACTER SET latin1, \
                 u VARCHAR(10) COLLATE utf8mb4_unicode_ci, big BIGINT UNSIGNED",
                "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
            ),
            (
                "t2",
                "k INT PRIMARY KEY, dt DATETIME(2), b BIT(10), f DOUBLE, da DATE",
                "SHARD BY functiontype 'auto_crc32' USING COLUMN 'k' ON DATANODE '1-4'",
            ),
        ],
        &[
            "INSERT INTO t VALUES (1, 1.50, 'a', 'x', 18446744073709551615), \
             (2, NULL, 'b\u{e9}', 'y', 7), (3, -2.25, 'c', '\u{e9}t\u{e9}', NULL), \
             (4, 10.00, NULL, 'z', 0), (5, NULL, NULL, NULL, NULL), (6, 3.00, 'f', 'w', 6)",
            "INSERT INTO t2 VALUES (1, '2024-01-02 03:04:05.25', b'1000000001', 1.25, '2024-02-29'), \
             (2, '1999-12-31 23:59:59', b'1', -0.5e-3, NULL), (3, NULL, NULL, NULL, '0000-00-00')",
        ],
    )
    .await?;
    let mut failures = Vec::new();
    for sql in ["SET @a = 'start', @b = 1.5, @c = 7, @d = NULL"]
        .iter()
        .chain(CASES)
    {
        failures.extend(differences(&mut reference, &mut strata, &[(sql, false)]).await?);
        let (want, got) = (reference.get_warnings(), strata.get_warnings());
        if want != got {
            failures.push(format!("warnings: {sql}\n  MariaDB {want}, Strata {got}"));
        }
        failures
            .extend(differences(&mut reference, &mut strata, &[("SHOW WARNINGS", true)]).await?);
        for read in READ_BACK {
            failures.extend(differences(&mut reference, &mut strata, &[(read, true)]).await?);
            failures.extend(column_type_difference(&mut reference, &mut strata, read).await?);
        }
    }
    // The variables are the session's: a later statement over every node uses them.
    let after = "SELECT COUNT(*) FROM t WHERE id > 2";
    strata
        .query_drop("SELECT 2 INTO @lim FROM t WHERE id = 1")
        .await?;
    let n: Option<i64> = strata.query_first("SELECT @lim").await?;
    assert_eq!(n, Some(2));
    failures.extend(differences(&mut reference, &mut strata, &[(after, true)]).await?);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A DECIMAL quotient keeps digits beyond its column's decimals in MariaDB.
    let refused = strata
        .query_drop("SELECT AVG(d) INTO @a FROM t")
        .await
        .expect_err("AVG");
    assert!(
        matches!(&refused, mysql_async::Error::Server(e) if e.code == 1235),
        "{refused}"
    );
    // Into a file stays refused (the storage hosts' files are private).
    let refused = strata
        .query_drop("SELECT id INTO OUTFILE '/tmp/fsi_out' FROM t")
        .await
        .expect_err("INTO OUTFILE");
    assert!(
        matches!(&refused, mysql_async::Error::Server(e) if e.code == 1290),
        "{refused}"
    );
    drop_and_shut_down(node, &mut strata, &db).await
}
