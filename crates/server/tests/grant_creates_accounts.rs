//! GRANT to an account that does not exist, through a real client, against the plain
//! MariaDB under the data node: created when the session's sql_mode lacks
//! NO_AUTO_CREATE_USER (SET SESSION here, SET GLOBAL for new sessions of the compute
//! node) or the GRANT says IDENTIFIED BY, 1133 otherwise, 1410 for a grantor without
//! CREATE USER; the created account logs in with an empty password and holds exactly
//! what was granted. PREPARE / EXECUTE of account statements runs them as MariaDB does.

mod common;

use common::{code_of, TestResult};
use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder};
use strata_testkit::{mysql_opts, shared_storage, unique_name, ComputeNode};

/// `sql`'s outcome: None when it succeeds, else the error's code and message.
async fn outcome(c: &mut Conn, sql: &str) -> Option<(u16, String)> {
    match c.query_drop(sql).await {
        Ok(()) => None,
        Err(mysql_async::Error::Server(s)) => Some((s.code, s.message)),
        Err(e) => Some((0, e.to_string())),
    }
}

/// Runs `sql` on both servers and asserts the same outcome; returns it.
async fn same(strata: &mut Conn, reference: &mut Conn, sql: &str) -> Option<(u16, String)> {
    let want = outcome(reference, sql).await;
    let got = outcome(strata, sql).await;
    assert_eq!(got, want, "{sql}: Strata vs MariaDB");
    got
}

/// SHOW GRANTS FOR `who` on both servers, asserted equal (sorted: MariaDB lists table
/// grants in hash order).
async fn same_grants(
    strata: &mut Conn,
    reference: &mut Conn,
    who: &str,
) -> TestResult<Vec<String>> {
    let sql = format!("SHOW GRANTS FOR {who}");
    let mut want: Vec<String> = reference.query(&sql).await?;
    let mut got: Vec<String> = strata.query(&sql).await?;
    want.sort();
    got.sort();
    assert_eq!(got, want, "{sql}");
    Ok(got)
}

/// Warnings on `c` as (level, code, message).
async fn warnings(c: &mut Conn) -> TestResult<Vec<(String, u16, String)>> {
    Ok(c.query("SHOW WARNINGS").await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_creates_missing_accounts_as_mariadb_does() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let addr = node.service_addr();
    let mut strata = node.connect(None).await?;
    let mut reference = Conn::new(storage.opts(0, None)).await?;
    let db = unique_name("gcdb");
    strata.query_drop(format!("CREATE DATABASE {db}")).await?;
    strata
        .query_drop(format!("CREATE TABLE {db}.t (id INT PRIMARY KEY, v INT)"))
        .await?;
    strata
        .query_drop(format!("INSERT INTO {db}.t VALUES (1, 10)"))
        .await?;
    let [auto, strict, named, hashed, lim, denied, prepared] =
        ["gca", "gcs", "gcn", "gch", "gcl", "gcd", "gcp"].map(unique_name);
    let other = unique_name("gco"); // a database neither server has
    let default_mode =
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION";
    for c in [&mut strata, &mut reference] {
        c.query_drop(format!("SET SESSION sql_mode = '{default_mode}'"))
            .await?;
    }

    // MariaDB's default mode: 1133 without IDENTIFIED BY, nothing created.
    let refused = same(
        &mut strata,
        &mut reference,
        &format!("GRANT SELECT ON {other}.* TO '{strict}'@'%'"),
    )
    .await;
    assert_eq!(
        refused,
        Some((1133, "Can't find any matching row in the user table".into()))
    );
    let refused = same(
        &mut strata,
        &mut reference,
        &format!("SHOW GRANTS FOR '{strict}'@'%'"),
    )
    .await;
    assert_eq!(refused.map(|(code, _)| code), Some(1141));

    // Any IDENTIFIED clause creates the account under the default mode, no warning.
    for (who, clause) in [
        (&named, "IDENTIFIED BY 'pw'"),
        (
            &hashed,
            "IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
        ),
    ] {
        let sql = format!("GRANT SELECT ON {other}.* TO '{who}'@'%' {clause}");
        assert_eq!(same(&mut strata, &mut reference, &sql).await, None);
        // (MariaDB's SHOW WARNINGS still lists the previous statement's error here.)
        assert_eq!(warnings(&mut strata).await?, Vec::new());
        same_grants(&mut strata, &mut reference, &format!("'{who}'@'%'")).await?;
    }

    // sql_mode='': created with no password and exactly the grants given; USAGE on a
    // database adds no line for it.
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET SESSION sql_mode = ''").await?;
    }
    for sql in [
        format!("GRANT USAGE ON {other}.* TO '{auto}'@'%'"),
        format!("GRANT INSERT, UPDATE ON {other}.* TO '{auto}'@'%'"),
    ] {
        assert_eq!(same(&mut strata, &mut reference, &sql).await, None);
        assert_eq!(warnings(&mut strata).await?, Vec::new());
    }
    let grants = same_grants(&mut strata, &mut reference, &format!("'{auto}'@'%'")).await?;
    assert_eq!(
        grants,
        [
            format!("GRANT INSERT, UPDATE ON `{other}`.* TO `{auto}`@`%`"),
            format!("GRANT USAGE ON *.* TO `{auto}`@`%`"),
        ]
    );

    // A grantor without CREATE USER: 1410 under sql_mode='' (1133 first by the default
    // mode), with or without IDENTIFIED BY.
    for c in [&mut strata, &mut reference] {
        c.query_drop(format!("CREATE USER '{lim}'@'%' IDENTIFIED BY 'lim-pw'"))
            .await?;
        c.query_drop(format!(
            "GRANT SELECT ON {other}.* TO '{lim}'@'%' WITH GRANT OPTION"
        ))
        .await?;
    }
    let mut lim_strata = Conn::new(mysql_opts(addr, &lim, "lim-pw", None)).await?;
    let lim_opts = OptsBuilder::from_opts(storage.opts(0, None))
        .user(Some(lim.clone()))
        .pass(Some("lim-pw"));
    let mut lim_reference = Conn::new(lim_opts).await?;
    let grant = format!("GRANT SELECT ON {other}.* TO '{denied}'@'%'");
    let e = same(&mut lim_strata, &mut lim_reference, &grant).await;
    assert_eq!(e.map(|(code, _)| code), Some(1133));
    for c in [&mut lim_strata, &mut lim_reference] {
        c.query_drop("SET SESSION sql_mode = ''").await?;
    }
    for sql in [grant.clone(), format!("{grant} IDENTIFIED BY 'z'")] {
        let e = same(&mut lim_strata, &mut lim_reference, &sql).await;
        assert_eq!(
            e,
            Some((
                1410,
                "You are not allowed to create a user with GRANT".into()
            ))
        );
    }
    lim_strata.disconnect().await?;
    lim_reference.disconnect().await?;

    // PREPARE / EXECUTE of a GRANT (and of SHOW GRANTS) as MariaDB runs them.
    for c in [&mut strata, &mut reference] {
        c.query_drop(format!("SET SESSION sql_mode = '{default_mode}'"))
            .await?;
    }
    for sql in [
        format!("PREPARE s FROM ' grant select on {other}.* to ''{prepared}''@''%'' identified by ''x'' '"),
        "EXECUTE s".to_string(),
        "EXECUTE s USING 1".to_string(),
        format!("PREPARE s FROM 'SHOW GRANTS FOR ''{prepared}''@''%'''"),
        "DEALLOCATE PREPARE s".to_string(),
        "PREPARE s FROM 'GRANT SELEC ON x.* TO y'".to_string(),
    ] {
        same(&mut strata, &mut reference, &sql).await;
    }
    same_grants(&mut strata, &mut reference, &format!("'{prepared}'@'%'")).await?;

    // The auto-created account logs in with an empty password and holds exactly what
    // was granted (Strata's database this time).
    strata.query_drop("SET SESSION sql_mode = ''").await?;
    strata
        .query_drop(format!("GRANT SELECT ON {db}.t TO '{auto}'@'%'"))
        .await?;
    let mut as_auto = Conn::new(mysql_opts(addr, &auto, "", Some(&db))).await?;
    let v: Option<i64> = as_auto.query_first("SELECT v FROM t WHERE id = 1").await?;
    assert_eq!(v, Some(10));
    let e = outcome(&mut as_auto, "INSERT INTO t VALUES (2, 20)").await;
    assert_eq!(e.map(|(code, _)| code), Some(1142));
    let e = outcome(&mut as_auto, "UPDATE t SET v = 0").await;
    assert_eq!(e.map(|(code, _)| code), Some(1142));
    let mine: Vec<String> = as_auto.query("SHOW GRANTS").await?;
    assert_eq!(mine.len(), 3, "{mine:?}");
    as_auto.disconnect().await?;
    assert!(Conn::new(mysql_opts(addr, &auto, "wrong", Some(&db)))
        .await
        .is_err());

    // SET GLOBAL sql_mode='' on the compute node reaches new sessions (the test files'
    // `set GLOBAL sql_mode=""` and a new connection).
    strata.query_drop("SET GLOBAL sql_mode = ''").await?;
    let mut fresh = node.connect(None).await?;
    let global_user = unique_name("gcg");
    let created = fresh
        .query_drop(format!("GRANT SELECT ON {db}.* TO '{global_user}'@'%'"))
        .await;
    strata.query_drop("SET GLOBAL sql_mode = DEFAULT").await?;
    created?;
    let mut later = node.connect(None).await?;
    later
        .query_drop(format!("SET SESSION sql_mode = '{default_mode}'"))
        .await?;
    let e = later
        .query_drop(format!("GRANT SELECT ON {db}.* TO '{global_user}_2'@'%'"))
        .await
        .err();
    assert_eq!(e.as_ref().and_then(code_of), Some(1133));

    for who in [&auto, &named, &hashed, &lim, &prepared] {
        reference
            .query_drop(format!("DROP USER IF EXISTS '{who}'@'%'"))
            .await?;
    }
    strata.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_reaches_statements_prepared_before_it() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let addr = node.service_addr();
    let mut root = node.connect(None).await?;
    let db = unique_name("gcrv");
    let other = unique_name("gcro");
    let user = unique_name("gcr");
    for sql in [
        format!("CREATE DATABASE {db}"),
        format!("CREATE TABLE {db}.t (id INT PRIMARY KEY)"),
        format!("INSERT INTO {db}.t VALUES (1)"),
        format!("GRANT SELECT ON {db}.t TO '{user}'@'%' IDENTIFIED BY 'pw'"),
        format!("CREATE DATABASE {other}"),
        format!("CREATE TABLE {other}.t (id INT PRIMARY KEY)"),
        format!("GRANT SELECT ON {other}.t TO '{user}'@'%'"),
    ] {
        root.query_drop(sql).await?;
    }
    let mut c = Conn::new(mysql_opts(addr, &user, "pw", Some(&db))).await?;
    c.query_drop("PREPARE s FROM 'SELECT id FROM t'").await?;
    let binary = c.prep("SELECT id FROM t WHERE id = ?").await?;
    let n: Vec<i64> = c.query("EXECUTE s").await?;
    assert_eq!(n, [1]);
    let n: Vec<i64> = c.exec(&binary, (1,)).await?;
    assert_eq!(n, [1]);
    root.query_drop(format!("REVOKE SELECT ON {db}.t FROM '{user}'@'%'"))
        .await?;
    // MariaDB (ps_grant.test): the next EXECUTE is 1142, also from another database
    // (the statement's `t` is still the one it was prepared in).
    let e = c.query_drop("EXECUTE s").await.err();
    assert_eq!(e.as_ref().and_then(code_of), Some(1142), "{e:?}");
    let e = c.exec_drop(&binary, (1,)).await.err();
    assert_eq!(e.as_ref().and_then(code_of), Some(1142), "{e:?}");
    c.query_drop(format!("USE {other}")).await?;
    let e = c.query_drop("EXECUTE s").await.err();
    assert_eq!(e.as_ref().and_then(code_of), Some(1142), "{e:?}");
    let e = c.exec_drop(&binary, (1,)).await.err();
    assert_eq!(e.as_ref().and_then(code_of), Some(1142), "{e:?}");
    root.query_drop(format!("GRANT SELECT ON {db}.* TO '{user}'@'%'"))
        .await?;
    let n: Vec<i64> = c.query("EXECUTE s").await?;
    assert_eq!(n, [1]);
    c.query_drop("DEALLOCATE PREPARE s").await?;
    c.disconnect().await?;
    root.query_drop(format!("DROP DATABASE {db}")).await?;
    root.query_drop(format!("DROP DATABASE {other}")).await?;
    node.shutdown().await;
    Ok(())
}
