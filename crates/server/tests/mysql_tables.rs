//! `mysql.user` and `mysql.proc` through Strata: `mysql.user` is Strata's own accounts
//! as MariaDB 10.11's view shows them (compared with a storage node's MariaDB for the
//! same statements), `mysql.proc` the routines of the client's logical databases with
//! logical names. The storage servers' own rows (the storage account, other databases'
//! routines) never appear, and writes stay refused.

mod common;

use common::{assert_codes, code_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use strata_testkit::{mysql_opts, unique_name, ComputeNode, StorageNodes};

/// Name, type and length of each column of `sql`'s result.
async fn columns(c: &mut Conn, sql: &str) -> TestResult<Vec<(String, String, u32)>> {
    let result = c.query_iter(sql).await?;
    let columns = result
        .columns()
        .map(|cols| {
            cols.iter()
                .map(|col| {
                    (
                        col.name_str().into_owned(),
                        format!("{:?}", col.column_type()),
                        col.column_length(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    result.drop_result().await?;
    Ok(columns)
}

/// Every row of `sql` as its values.
async fn rows(c: &mut Conn, sql: &str) -> TestResult<Vec<Vec<Value>>> {
    let rows: Vec<mysql_async::Row> = c.query(sql).await?;
    Ok(rows.into_iter().map(|r| r.unwrap()).collect())
}

#[tokio::test]
async fn mysql_user_shows_stratas_accounts_as_mariadb_does() -> TestResult {
    let storage = StorageNodes::start(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    // The storage node's MariaDB, this test's own: the reference for the same statements.
    let mut reference = storage.connect(0, None).await?;

    let empty = "SELECT * FROM mysql.user WHERE 0";
    let expected = columns(&mut reference, empty).await?;
    assert_eq!(expected.len(), 47, "{expected:?}");
    assert_eq!(columns(&mut c, empty).await?, expected);

    let statements = [
        "CREATE USER u1@localhost IDENTIFIED BY 'pw1'",
        "GRANT SELECT, PROCESS, REFERENCES ON *.* TO u1@localhost WITH GRANT OPTION",
        "CREATE USER u2@'%'",
        "GRANT ALL ON *.* TO u2@'%'",
        "ALTER USER u2@'%' WITH MAX_USER_CONNECTIONS 3",
    ];
    for sql in statements {
        c.query_drop(sql).await?;
        reference.query_drop(sql).await?;
    }
    for sql in [
        "SELECT plugin, authentication_string FROM mysql.user WHERE user='u1'",
        "SELECT * FROM mysql.user WHERE user IN ('u1', 'u2') ORDER BY user",
        "SELECT user, host FROM mysql.user WHERE user LIKE 'u_' ORDER BY 1 DESC",
        "SELECT COUNT(*), SUM(Select_priv = 'Y') FROM mysql.user WHERE User LIKE 'u%'",
    ] {
        assert_eq!(
            rows(&mut c, sql).await?,
            rows(&mut reference, sql).await?,
            "{sql}"
        );
        assert_eq!(
            columns(&mut c, sql)
                .await?
                .iter()
                .map(|c| &c.0)
                .collect::<Vec<_>>(),
            columns(&mut reference, sql)
                .await?
                .iter()
                .map(|c| &c.0)
                .collect::<Vec<_>>(),
            "{sql}"
        );
    }
    let hash: Option<String> = c
        .query_first("SELECT authentication_string FROM mysql.user WHERE user='u1'")
        .await?;
    assert_eq!(
        hash.as_deref(),
        Some("*2B602296A79E0A8784ACC5C88D92E46588CCA3C3")
    );
    // Strata's accounts only: never the storage account.
    let backend = storage.user();
    let users: Vec<String> = c
        .query("SELECT DISTINCT user FROM mysql.user ORDER BY 1")
        .await?;
    assert!(users.contains(&"root".to_string()), "{users:?}");
    assert!(!users.iter().any(|u| u == backend), "{users:?}");
    let on_storage: i64 = reference
        .query_first(format!(
            "SELECT COUNT(*) FROM mysql.user WHERE user = '{backend}'"
        ))
        .await?
        .ok_or("count")?;
    assert!(on_storage > 0);
    let through: Option<i64> = c
        .query_first(format!(
            "select count(*) from mysql.user where user = '{backend}'"
        ))
        .await?;
    assert_eq!(through, Some(0));
    let any: Option<i64> = c.query_first("select count(*) > 0 from mysql.user").await?;
    assert_eq!(any, Some(1));
    let under: Option<i64> = c
        .query_first(
            "SET STATEMENT max_statement_time = 10 FOR SELECT COUNT(*) > 0 FROM mysql.user",
        )
        .await?;
    assert_eq!(under, Some(1));

    // Writes, other tables of mysql, prepared statements, and joins with the client's
    // tables are refused as before.
    assert_codes(
        &mut c,
        &[
            "UPDATE mysql.user SET Select_priv = 'N'",
            "DELETE FROM mysql.user",
            "INSERT INTO mysql.user (Host, User) VALUES ('%', 'x')",
            "SELECT * FROM mysql.user, mysql.tables_priv",
            "SELECT * FROM mysql.global_priv",
        ],
        1044,
    )
    .await;
    c.query_drop("CREATE TABLE IF NOT EXISTS mu (id INT PRIMARY KEY)")
        .await?;
    assert_codes(
        &mut c,
        &["SELECT * FROM mu WHERE id IN (SELECT max_user_connections FROM mysql.user)"],
        1235,
    )
    .await;
    assert!(c.prep("SELECT * FROM mysql.user").await.is_err());

    // An account without SELECT on mysql.user: MariaDB's 1142.
    c.query_drop("CREATE USER nosel@'%' IDENTIFIED BY 'x'")
        .await?;
    c.query_drop("GRANT ALL ON test.* TO nosel@'%'").await?;
    let mut n = Conn::new(mysql_opts(node.service_addr(), "nosel", "x", Some("test"))).await?;
    for table in ["user", "proc"] {
        let e = n
            .query_drop(format!("SELECT user FROM mysql.{table}"))
            .await
            .err()
            .ok_or("read without SELECT")?;
        assert_eq!(code_of(&e), Some(1142), "{e}");
        assert!(
            e.to_string().contains(&format!(
                "SELECT command denied to user 'nosel'@'localhost' for table `mysql`.`{table}`"
            )),
            "{e}"
        );
    }
    drop(n);

    for sql in ["DROP USER u1@localhost", "DROP USER u2@'%'"] {
        c.query_drop(sql).await?;
        reference.query_drop(sql).await?;
    }
    c.query_drop("DROP USER nosel@'%'").await?;
    c.query_drop("DROP TABLE mu").await?;
    drop(c);
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn mysql_proc_shows_the_accounts_routines_with_logical_names() -> TestResult {
    let storage = StorageNodes::start(2).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut c = node.connect(Some("test")).await?;
    let physical = node
        .physical_database("test")
        .ok_or("physical")?
        .to_string();
    assert_ne!(physical, "test");
    c.query_drop("CREATE PROCEDURE p1() COMMENT 'first' SELECT 1")
        .await?;
    c.query_drop("CREATE FUNCTION f1() RETURNS INT RETURN (SELECT COUNT(*) FROM test.t0)")
        .await?;
    // Another database's routine on the storage server, created there directly.
    let other = unique_name("other");
    let mut direct = storage.connect(0, None).await?;
    direct
        .query_drop(format!("CREATE DATABASE {other}"))
        .await?;
    direct
        .query_drop(format!("CREATE PROCEDURE {other}.px() SELECT 2"))
        .await?;

    // One row per routine although the database spans both data nodes; logical names.
    let got: Vec<(String, String, String, String)> = c
        .query("select db, name, type, comment from mysql.proc order by name")
        .await?;
    assert_eq!(
        got,
        vec![
            ("test".into(), "f1".into(), "FUNCTION".into(), "".into()),
            (
                "test".into(),
                "p1".into(),
                "PROCEDURE".into(),
                "first".into()
            ),
        ]
    );
    let body: Option<String> = c
        .query_first("select body from mysql.proc where name = 'f1'")
        .await?;
    let body = body.ok_or("body")?;
    assert!(
        body.contains("test.t0") && !body.contains(&physical),
        "{body}"
    );
    let definer: Option<String> = c
        .query_first("SELECT definer FROM mysql.proc WHERE name = 'p1'")
        .await?;
    assert!(
        definer
            .as_deref()
            .is_some_and(|d| d.starts_with("root@") && !d.starts_with(storage.user())),
        "{definer:?}"
    );
    // Columns named as written, as MariaDB names a base table's.
    let names: Vec<String> = columns(&mut c, "select name,DB from mysql.proc where name = 'p1'")
        .await?
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(names, ["name", "DB"]);
    // Nothing else of the storage server's routines: MariaDB's own, other databases'.
    for sql in [
        "SELECT COUNT(*) FROM mysql.proc WHERE name = 'px'".to_string(),
        "SELECT COUNT(*) FROM mysql.proc WHERE db <> 'test'".to_string(),
        format!("SELECT COUNT(*) FROM mysql.proc WHERE db = '{physical}'"),
    ] {
        let n: Option<i64> = c.query_first(sql.as_str()).await?;
        assert_eq!(n, Some(0), "{sql}");
    }
    // Same columns as MariaDB's mysql.proc.
    let empty = "SELECT * FROM mysql.proc WHERE 0";
    let expected: Vec<String> = columns(&mut direct, empty)
        .await?
        .into_iter()
        .map(|c| c.0)
        .collect();
    let got: Vec<String> = columns(&mut c, empty)
        .await?
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(got, expected);
    assert_codes(
        &mut c,
        &["UPDATE mysql.proc SET body_utf8 = 'x' WHERE name = 'p1'"],
        1044,
    )
    .await;

    // An account without SELECT on mysql.proc: MariaDB's 1142.
    c.query_drop("CREATE USER pr@'%' IDENTIFIED BY 'x'").await?;
    c.query_drop("GRANT PROCESS ON *.* TO pr@'%'").await?;
    let mut p = Conn::new(mysql_opts(node.service_addr(), "pr", "x", None)).await?;
    let e = p
        .query_drop("SELECT * FROM mysql.proc")
        .await
        .err()
        .ok_or("read without SELECT")?;
    assert_eq!(code_of(&e), Some(1142), "{e}");
    drop(p);

    direct.query_drop(format!("DROP DATABASE {other}")).await?;
    c.query_drop("DROP USER pr@'%'").await?;
    c.query_drop("DROP PROCEDURE p1").await?;
    c.query_drop("DROP FUNCTION f1").await?;
    drop(c);
    node.shutdown().await;
    Ok(())
}
