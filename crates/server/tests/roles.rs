//! MariaDB's roles on Strata's own accounts, through real clients: a role's privileges
//! count for a user only after SET ROLE (or at the next login after SET DEFAULT ROLE),
//! the role statements answer what one plain MariaDB answers for the same statements
//! (SHOW GRANTS lines, error codes and messages), DROP ROLE takes the role from its
//! holders, and roles survive a restart of the compute node.

mod diffkit;

use diffkit::{node_and_reference, run, BoxError, Outcome};
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{mysql_opts, shared_storage, unique_name, ComputeNode};

type TestResult = Result<(), BoxError>;

/// The error code of `outcome`, 0 when it succeeded.
fn code<T>(outcome: Result<T, mysql_async::Error>) -> u16 {
    match outcome {
        Ok(_) => 0,
        Err(mysql_async::Error::Server(s)) => s.code,
        Err(_) => u16::MAX,
    }
}

async fn login(
    addr: std::net::SocketAddr,
    user: &str,
    password: &str,
    db: Option<&str>,
) -> Result<Conn, mysql_async::Error> {
    Conn::new(mysql_opts(addr, user, password, db)).await
}

/// `outcome` with the reference database's name written as Strata's.
fn renamed(outcome: Outcome, from: &str, to: &str) -> Outcome {
    match outcome {
        Outcome::Rows { columns, rows } => Outcome::Rows {
            columns,
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(|v| v.replace(from, to)).collect())
                .collect(),
        },
        Outcome::Error { code, message } => Outcome::Error {
            code,
            message: message.replace(from, to),
        },
        other => other,
    }
}

#[tokio::test]
async fn role_statements_answer_as_mariadb_and_privileges_follow_set_role() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("roles", "rolesref").await?;
    let reference_db: Option<String> = reference.query_first("SELECT DATABASE()").await?;
    let reference_db = reference_db.ok_or("no reference database")?;
    let role = unique_name("rr");
    let other = unique_name("rq");
    let user = unique_name("ru");
    strata
        .query_drop("CREATE TABLE t (a INT PRIMARY KEY) SHARD BY GLOBAL")
        .await?;
    strata.query_drop("INSERT INTO t VALUES (1)").await?;
    reference
        .query_drop("CREATE TABLE t (a INT PRIMARY KEY)")
        .await?;
    let statements = [
        format!("CREATE ROLE {role}"),
        format!("CREATE ROLE {role}"),
        format!("CREATE ROLE IF NOT EXISTS {role}"),
        format!("CREATE ROLE {other}"),
        "CREATE ROLE none".to_string(),
        "CREATE ROLE ''".to_string(),
        format!("GRANT SELECT ON {db}.* TO {role}"),
        format!("GRANT INSERT ON {db}.t TO {role}"),
        format!("GRANT {other} TO {role}"),
        format!("SHOW GRANTS FOR {role}"),
        format!("CREATE USER {user}@'%' IDENTIFIED BY 'pw'"),
        format!("GRANT {role} TO {user}@'%'"),
        format!("GRANT nosuch_role TO {user}@'%'"),
        format!("GRANT {role} TO nosuch_user@'%'"),
        format!("SHOW GRANTS FOR {user}@'%'"),
        format!("SET DEFAULT ROLE {other} FOR {user}@'%'"),
        format!("SET DEFAULT ROLE {role} FOR {user}@'%'"),
        format!("SHOW GRANTS FOR {user}@'%'"),
        format!("SET DEFAULT ROLE NONE FOR {user}@'%'"),
        format!("SHOW GRANTS FOR {user}@'%'"),
        format!("REVOKE {other} FROM {user}@'%'"),
        format!("SET ROLE {other}"),
        "DROP ROLE nosuch_role".to_string(),
    ];
    for sql in &statements {
        let on_strata = run(&mut strata, &sql.replace(&reference_db, &db)).await?;
        let on_reference = renamed(
            run(&mut reference, &sql.replace(&db, &reference_db)).await?,
            &reference_db,
            &db,
        );
        assert_eq!(on_strata, on_reference, "{sql}");
    }

    // The user holds nothing of its own: the role's privileges count after SET ROLE.
    let addr = node.service_addr();
    let mut u = login(addr, &user, "pw", None).await?;
    let role_now: Option<Option<String>> = u.query_first("SELECT CURRENT_ROLE()").await?;
    assert_eq!(role_now, Some(None));
    assert_eq!(
        code(u.query_drop(format!("SELECT * FROM {db}.t")).await),
        1142
    );
    u.query_drop(format!("SET ROLE {role}")).await?;
    let role_now: Option<String> = u.query_first("SELECT CURRENT_ROLE()").await?;
    assert_eq!(role_now.as_deref(), Some(role.as_str()));
    let rows: Vec<i64> = u.query(format!("SELECT a FROM {db}.t")).await?;
    assert_eq!(rows, vec![1]);
    u.query_drop(format!("INSERT INTO {db}.t VALUES (2)"))
        .await?;
    assert_eq!(
        code(u.query_drop(format!("DELETE FROM {db}.t")).await),
        1142
    );
    // SHOW GRANTS of the session lists the enabled role's grants after its own.
    let grants: Vec<String> = u.query("SHOW GRANTS").await?;
    assert!(
        grants.contains(&format!("GRANT SELECT ON `{db}`.* TO `{role}`")),
        "{grants:?}"
    );
    // The same session on the reference MariaDB answers the same.
    let mut ru = Conn::new(
        mysql_async::OptsBuilder::from_opts(reference.opts().clone())
            .user(Some(user.as_str()))
            .pass(Some("pw"))
            .db_name(None::<String>),
    )
    .await?;
    for sql in [
        format!("SET ROLE {role}"),
        "SELECT CURRENT_ROLE(), CURRENT_ROLE".to_string(),
        "SELECT * FROM information_schema.ENABLED_ROLES ORDER BY ROLE_NAME".to_string(),
        "SELECT * FROM information_schema.APPLICABLE_ROLES ORDER BY GRANTEE, ROLE_NAME".to_string(),
        format!("SHOW GRANTS FOR {role}"),
        "SET ROLE NONE".to_string(),
        "SELECT * FROM information_schema.ENABLED_ROLES".to_string(),
        format!("SET ROLE {role}"),
    ] {
        let on_strata = run(&mut u, &sql).await?;
        let on_reference = renamed(run(&mut ru, &sql).await?, &reference_db, &db);
        assert_eq!(on_strata, on_reference, "{sql}");
    }
    ru.disconnect().await?;
    // Inside a statement a storage node runs, CURRENT_ROLE() would be the storage
    // session's: refused while a role is enabled.
    assert_eq!(
        code(
            u.query_drop(format!("SELECT CURRENT_ROLE() FROM {db}.t"))
                .await
        ),
        1235
    );
    u.query_drop("SET ROLE NONE").await?;
    assert_eq!(
        code(u.query_drop(format!("SELECT * FROM {db}.t")).await),
        1142
    );
    assert_eq!(code(u.query_drop(format!("SET ROLE {other}")).await), 1959);
    // GRANT of a role needs its ADMIN OPTION.
    assert_eq!(
        code(u.query_drop(format!("GRANT {role} TO {user}@'%'")).await),
        1698
    );
    u.disconnect().await?;

    // The default role is enabled at the next login.
    strata
        .query_drop(format!("SET DEFAULT ROLE {role} FOR {user}@'%'"))
        .await?;
    reference
        .query_drop(format!("SET DEFAULT ROLE {role} FOR {user}@'%'"))
        .await?;
    let mut u = login(addr, &user, "pw", Some(&db)).await?;
    let role_now: Option<String> = u.query_first("SELECT CURRENT_ROLE").await?;
    assert_eq!(role_now.as_deref(), Some(role.as_str()));
    let n: Option<i64> = u.query_first("SELECT COUNT(*) FROM t").await?;
    assert_eq!(n, Some(2));

    // DROP ROLE takes it from its holders, on both sides alike; the open session loses
    // its privileges.
    for sql in [
        format!("DROP ROLE {role}"),
        format!("DROP ROLE {role}"),
        format!("DROP ROLE IF EXISTS {role}"),
        format!("SHOW GRANTS FOR {user}@'%'"),
        format!("SHOW GRANTS FOR {other}"),
        format!("DROP ROLE {other}"),
    ] {
        let on_strata = run(&mut strata, &sql).await?;
        let on_reference = renamed(run(&mut reference, &sql).await?, &reference_db, &db);
        assert_eq!(on_strata, on_reference, "{sql}");
        if sql == format!("DROP ROLE {role}") {
            assert_eq!(code(u.query_drop("SELECT COUNT(*) FROM t").await), 1142);
        }
    }
    u.disconnect().await?;
    for conn in [&mut strata, &mut reference] {
        conn.query_drop(format!("DROP USER {user}@'%'")).await?;
    }
    strata.query_drop(format!("DROP DATABASE {db}")).await?;
    reference
        .query_drop(format!("DROP DATABASE {reference_db}"))
        .await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn roles_survive_a_restart_of_the_compute_node() -> TestResult {
    let storage = shared_storage(2).await?;
    let mut node = ComputeNode::builder(&storage).spawn().await?;
    let mut root = node.connect(Some("test")).await?;
    for sql in [
        "CREATE TABLE kept (a INT PRIMARY KEY) SHARD BY GLOBAL",
        "INSERT INTO kept VALUES (7)",
        "CREATE ROLE reader",
        "GRANT SELECT ON test.* TO reader",
        "CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'",
        "GRANT reader TO 'app'@'%' WITH ADMIN OPTION",
        "SET DEFAULT ROLE reader FOR 'app'@'%'",
    ] {
        root.query_drop(sql).await?;
    }
    root.disconnect().await?;
    node.restart().await?;
    let mut app = login(node.service_addr(), "app", "app-pw", Some("test")).await?;
    let grants: Vec<String> = app.query("SHOW GRANTS FOR 'app'@'%'").await?;
    assert_eq!(
        grants.first().map(String::as_str),
        Some("GRANT `reader` TO `app`@`%` WITH ADMIN OPTION")
    );
    assert_eq!(
        grants.last().map(String::as_str),
        Some("SET DEFAULT ROLE `reader` FOR `app`@`%`")
    );
    let role_grants: Vec<String> = app.query("SHOW GRANTS FOR reader").await?;
    assert_eq!(
        role_grants,
        vec![
            "GRANT USAGE ON *.* TO `reader`".to_string(),
            "GRANT SELECT ON `test`.* TO `reader`".to_string(),
        ]
    );
    let a: Option<i64> = app.query_first("SELECT a FROM kept").await?;
    assert_eq!(a, Some(7));
    assert_eq!(code(app.query_drop("DELETE FROM kept").await), 1142);
    app.disconnect().await?;
    node.terminate().await?;
    Ok(())
}

#[tokio::test]
async fn create_role_with_admin_and_roles_mapping_answer_as_mariadb() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("rmap", "rmapref").await?;
    let reference_db: Option<String> = reference.query_first("SELECT DATABASE()").await?;
    let reference_db = reference_db.ok_or("no reference database")?;
    let (r1, r2, r3) = (unique_name("rm1"), unique_name("rm2"), unique_name("rm3"));
    let (absent, absent2, absent3) = (unique_name("ra1"), unique_name("ra2"), unique_name("ra3"));
    let user = unique_name("rmu");
    let mapping = format!(
        "SELECT * FROM mysql.roles_mapping WHERE Role IN ('{r1}', '{r2}', '{r3}') \
         ORDER BY Role, User"
    );
    let statements = [
        // An admin that does not exist: the role is made, the mapping row recorded with
        // MariaDB's note 1449.
        format!("CREATE ROLE IF NOT EXISTS {r1} WITH ADMIN {absent}"),
        "SHOW WARNINGS".to_string(),
        mapping.clone(),
        format!("CREATE OR REPLACE ROLE {r1} WITH ADMIN {absent2}@localhost"),
        "SHOW WARNINGS".to_string(),
        mapping.clone(),
        format!("CREATE ROLE IF NOT EXISTS {r1} WITH ADMIN {absent3}"),
        "SHOW WARNINGS".to_string(),
        mapping.clone(),
        // An existing role or account as admin; CURRENT_ROLE without a role enabled.
        format!("CREATE ROLE {r2} WITH ADMIN {r1}"),
        format!("CREATE ROLE {r3} WITH ADMIN CURRENT_ROLE"),
        format!("CREATE USER {user}@'%'"),
        format!("CREATE ROLE {r3} WITH ADMIN {user}"),
        mapping.clone(),
        format!(
            "SELECT role, admin_option, COUNT(*) FROM mysql.roles_mapping \
             WHERE Role IN ('{r1}', '{r2}', '{r3}') GROUP BY role, admin_option ORDER BY 1, 2"
        ),
        // DROP USER of an absent admin drops its row (and succeeds), once.
        format!("DROP USER {absent2}@localhost"),
        format!("DROP USER {absent2}@localhost"),
        mapping.clone(),
        // DROP USER and DROP ROLE take their rows.
        format!("DROP USER {user}"),
        mapping.clone(),
        format!("DROP ROLE {r1}, {r2}, {r3}"),
        mapping.clone(),
        format!("DROP ROLE IF EXISTS {r1}"),
        "SHOW WARNINGS".to_string(),
    ];
    for sql in &statements {
        let on_strata = run(&mut strata, sql).await?;
        let on_reference = renamed(run(&mut reference, sql).await?, &reference_db, &db);
        assert_eq!(on_strata, on_reference, "{sql}");
    }

    // WITH ADMIN CURRENT_USER names the session's account; CURRENT_ROLE its role.
    let me: Option<String> = strata.query_first("SELECT CURRENT_USER()").await?;
    let me = me.ok_or("no current user")?;
    strata.query_drop(format!("CREATE ROLE {r1}")).await?;
    strata.query_drop(format!("SET ROLE {r1}")).await?;
    strata
        .query_drop(format!("CREATE ROLE {r2} WITH ADMIN CURRENT_ROLE"))
        .await?;
    strata.query_drop("SET ROLE NONE").await?;
    let rows: Vec<(String, String, String, String)> = strata.query(mapping.clone()).await?;
    let (me_user, me_host) = me.split_once('@').ok_or("CURRENT_USER without @")?;
    assert_eq!(
        rows,
        vec![
            (me_host.into(), me_user.into(), r1.clone(), "Y".into()),
            (String::new(), r1.clone(), r2.clone(), "Y".into()),
        ]
    );
    // Writes stay refused; reading needs SELECT on the table, as in MariaDB.
    assert_eq!(
        code(
            strata
                .query_drop(format!(
                    "INSERT INTO mysql.roles_mapping VALUES ('%', 'x', '{r1}', 'Y')"
                ))
                .await
        ),
        1044
    );
    assert_eq!(
        code(strata.query_drop("DELETE FROM mysql.roles_mapping").await),
        1044
    );
    strata
        .query_drop(format!("CREATE USER {user}@'%' IDENTIFIED BY 'pw'"))
        .await?;
    let mut u = login(node.service_addr(), &user, "pw", None).await?;
    assert_eq!(
        code(u.query_drop("SELECT * FROM mysql.roles_mapping").await),
        1142
    );
    strata
        .query_drop(format!("GRANT SELECT ON *.* TO {user}@'%'"))
        .await?;
    let n: Option<i64> = u
        .query_first(format!(
            "SELECT COUNT(*) FROM mysql.roles_mapping WHERE Role = '{r2}'"
        ))
        .await?;
    assert_eq!(n, Some(1));
    u.disconnect().await?;
    for sql in [
        format!("DROP USER {user}@'%'"),
        format!("DROP ROLE {r1}, {r2}"),
        format!("DROP DATABASE {db}"),
    ] {
        strata.query_drop(sql).await?;
    }
    reference
        .query_drop(format!("DROP DATABASE {reference_db}"))
        .await?;
    node.shutdown().await;
    Ok(())
}
