//! Strata's own accounts and privileges through a real client: accounts created with SQL
//! and kept across restarts, logins checked against host patterns and stored hashes,
//! privileges enforced per table before a statement reaches a storage node (joins,
//! subqueries, qualified names, INSERT ... SELECT), and the limits before any account
//! is considered (whitelist, failed logins, MAX_USER_CONNECTIONS).

mod common;

use common::{code_of, TestResult};
use mysql_async::prelude::*;
use strata_testkit::{mysql_opts, shared_storage, ComputeNode};

/// The error code `outcome` failed with, or 0 when it succeeded.
fn code<T>(outcome: Result<T, mysql_async::Error>) -> u16 {
    match outcome {
        Ok(_) => 0,
        Err(e) => code_of(&e).unwrap_or(u16::MAX),
    }
}

/// The code and message of the error `sql` is refused with; `what` names it in the
/// test failure when it runs.
async fn refusal(c: &mut mysql_async::Conn, sql: &str, what: &str) -> TestResult<(u16, String)> {
    match c.query_drop(sql).await {
        Ok(()) => Err(format!("{what}: {sql}").into()),
        Err(mysql_async::Error::Server(s)) => Ok((s.code, s.message)),
        Err(other) => Ok((0, other.to_string())),
    }
}

/// The error a new connection to `node` is turned away with; `what` names it in the
/// test failure when it is let in.
async fn refused_login(node: &ComputeNode, what: &str) -> TestResult<strata_testkit::TestkitError> {
    Ok(node.connect(None).await.err().ok_or(what)?)
}

async fn login(
    addr: std::net::SocketAddr,
    user: &str,
    password: &str,
    db: Option<&str>,
) -> Result<mysql_async::Conn, mysql_async::Error> {
    mysql_async::Conn::new(mysql_opts(addr, user, password, db)).await
}

#[tokio::test]
async fn restricted_accounts_see_and_change_only_what_they_were_granted() -> TestResult {
    let storage = shared_storage(2).await?;
    let node = ComputeNode::builder(&storage)
        .logical_database("shop")
        .logical_database("books")
        .start()
        .await?;
    let addr = node.service_addr();
    let mut root = node.connect(Some("shop")).await?;
    for sql in [
        "CREATE TABLE orders (id INT PRIMARY KEY, customer INT, amount INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'",
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20)) SHARD BY GLOBAL",
        "CREATE TABLE secrets (id INT PRIMARY KEY, s VARCHAR(20)) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'",
        "INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 1, 30)",
        "INSERT INTO customers VALUES (1, 'ann'), (2, 'bob')",
        "INSERT INTO secrets VALUES (1, 'x')",
        "CREATE USER 'reader'@'%' IDENTIFIED BY 'r-pw'",
        "GRANT SELECT ON shop.* TO 'reader'@'%'",
        "CREATE USER 'clerk'@'127.0.0.%' IDENTIFIED BY 'c-pw'",
        "GRANT SELECT, INSERT ON shop.orders TO 'clerk'@'127.0.0.%'",
        "GRANT SELECT ON shop.customers TO 'clerk'@'127.0.0.%'",
        "CREATE USER 'remote'@'10.%' IDENTIFIED BY 'x'",
    ] {
        root.query_drop(sql).await?;
    }

    // A database-level grant: reads anywhere in shop, nothing else.
    let mut reader = login(addr, "reader", "r-pw", Some("shop")).await?;
    let total: Option<i64> = reader.query_first("SELECT SUM(amount) FROM orders").await?;
    assert_eq!(total, Some(60));
    assert_eq!(
        code(
            reader
                .query_drop("INSERT INTO orders VALUES (9, 9, 9)")
                .await
        ),
        1142
    );
    assert_eq!(code(reader.query_drop("DELETE FROM orders").await), 1142);
    assert_eq!(
        code(reader.query_drop("CREATE TABLE t (id INT)").await),
        1142
    );
    assert_eq!(code(reader.query_drop("USE books").await), 1044);
    assert_eq!(
        code(login(addr, "reader", "r-pw", Some("books")).await),
        1044
    );
    assert_eq!(
        code(reader.query_drop("SELECT * FROM books.anything").await),
        1142
    );
    let dbs: Vec<String> = reader.query("SHOW DATABASES").await?;
    assert_eq!(
        dbs,
        vec!["information_schema".to_string(), "shop".to_string()]
    );
    let grants: Vec<String> = reader.query("SHOW GRANTS").await?;
    assert_eq!(grants.len(), 2, "{grants:?}");
    assert!(
        grants[0].starts_with("GRANT USAGE ON *.* TO `reader`@`%` IDENTIFIED BY PASSWORD '*"),
        "{grants:?}"
    );
    assert_eq!(grants[1], "GRANT SELECT ON `shop`.* TO `reader`@`%`");
    assert_eq!(code(reader.query_drop("SHOW GRANTS FOR root").await), 1044);
    assert_eq!(code(reader.query_drop("CREATE USER x").await), 1227);
    assert_eq!(
        code(reader.query_drop("GRANT INSERT ON shop.* TO reader").await),
        1044
    );
    let me: Option<String> = reader.query_first("SELECT CURRENT_USER()").await?;
    assert_eq!(me.as_deref(), Some("reader@%"));

    // Table grants: each table a statement touches is checked, wherever it appears.
    let mut clerk = login(addr, "clerk", "c-pw", Some("shop")).await?;
    clerk
        .query_drop("INSERT INTO orders VALUES (4, 2, 40)")
        .await?;
    let joined: Vec<(i32, String)> = clerk
        .query(
            "SELECT o.id, c.name FROM orders o JOIN customers c ON o.customer = c.id ORDER BY o.id",
        )
        .await?;
    assert_eq!(joined.len(), 4);
    for sql in [
        "SELECT * FROM secrets",
        "SELECT * FROM shop.secrets",
        "SELECT o.id FROM orders o JOIN secrets s ON o.id = s.id",
        "SELECT id FROM orders WHERE id IN (SELECT id FROM secrets)",
        "SELECT (SELECT s FROM secrets LIMIT 1) FROM orders",
        "INSERT INTO orders SELECT id, id, id FROM secrets",
        "UPDATE orders SET amount = 0",
        "DELETE FROM orders WHERE id = 4",
        "INSERT INTO customers VALUES (3, 'cy')",
        "SHOW COLUMNS FROM secrets",
        "SHOW FIELDS IN shop.secrets",
        "SHOW CREATE TABLE secrets",
        "SHOW CREATE TABLE shop.secrets",
        "SHOW INDEX FROM secrets",
        "DESCRIBE secrets",
        "SET @s = (SELECT s FROM secrets LIMIT 1)",
        "DO (SELECT COUNT(*) FROM secrets)",
        "SHOW TABLES WHERE (SELECT COUNT(*) FROM secrets) > 0",
    ] {
        assert_eq!(code(clerk.query_drop(sql).await), 1142, "{sql}");
    }
    let tables: Vec<String> = clerk.query("SHOW TABLES").await?;
    assert_eq!(tables, vec!["customers".to_string(), "orders".to_string()]);
    let listed: Vec<String> = clerk
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY 1")
        .await?;
    assert_eq!(listed, vec!["customers".to_string(), "orders".to_string()]);
    let me: Option<String> = clerk.query_first("SELECT CURRENT_USER()").await?;
    assert_eq!(me.as_deref(), Some("clerk@127.0.0.%"));
    // Server-side prepared statements are authorized the same way.
    assert_eq!(
        code(clerk.prep("SELECT * FROM secrets WHERE id = ?").await),
        1142
    );
    assert_eq!(
        code(
            clerk
                .query_drop("PREPARE p FROM 'SELECT * FROM secrets'")
                .await
        ),
        1142
    );

    // Host patterns: 10.% does not match a client on 127.0.0.1; wrong passwords fail.
    assert_eq!(code(login(addr, "remote", "x", None).await), 1045);
    assert_eq!(code(login(addr, "reader", "wrong", None).await), 1045);
    assert_eq!(code(login(addr, "nobody", "", None).await), 1045);

    // Grants take effect in open sessions; revokes too.
    root.query_drop("GRANT SELECT ON shop.secrets TO 'clerk'@'127.0.0.%'")
        .await?;
    let n: Option<i64> = clerk.query_first("SELECT COUNT(*) FROM secrets").await?;
    assert_eq!(n, Some(1));
    root.query_drop("REVOKE SELECT ON shop.secrets FROM 'clerk'@'127.0.0.%'")
        .await?;
    assert_eq!(code(clerk.query_drop("SELECT * FROM secrets").await), 1142);
    assert_eq!(
        code(
            root.query_drop("REVOKE SELECT ON shop.secrets FROM 'clerk'@'127.0.0.%'")
                .await
        ),
        1147
    );

    // Password changes, renames and drops.
    root.query_drop("ALTER USER 'reader'@'%' IDENTIFIED BY 'new-pw'")
        .await?;
    assert_eq!(code(login(addr, "reader", "r-pw", None).await), 1045);
    login(addr, "reader", "new-pw", None)
        .await?
        .disconnect()
        .await?;
    reader
        .query_drop("SET PASSWORD = PASSWORD('own-pw')")
        .await?;
    login(addr, "reader", "own-pw", None)
        .await?
        .disconnect()
        .await?;
    root.query_drop("RENAME USER 'reader'@'%' TO 'viewer'@'%'")
        .await?;
    login(addr, "viewer", "own-pw", Some("shop"))
        .await?
        .disconnect()
        .await?;
    assert_eq!(code(login(addr, "reader", "own-pw", None).await), 1045);
    root.query_drop("DROP USER 'viewer'@'%'").await?;
    assert_eq!(code(login(addr, "viewer", "own-pw", None).await), 1045);
    assert_eq!(code(root.query_drop("DROP USER 'viewer'@'%'").await), 1396);
    root.query_drop("DROP USER IF EXISTS 'viewer'@'%'").await?;
    assert_eq!(
        code(root.query_drop("CREATE USER 'clerk'@'127.0.0.%'").await),
        1396
    );

    // MAX_USER_CONNECTIONS.
    root.query_drop("CREATE USER 'one'@'%' IDENTIFIED BY 'p' WITH MAX_USER_CONNECTIONS 1")
        .await?;
    root.query_drop("GRANT SELECT ON shop.* TO 'one'@'%'")
        .await?;
    let first = login(addr, "one", "p", None).await?;
    assert_eq!(code(login(addr, "one", "p", None).await), 1226);
    first.disconnect().await?;

    for c in [reader, clerk, root] {
        c.disconnect().await?;
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn accounts_survive_a_restart_of_the_compute_node() -> TestResult {
    let storage = shared_storage(2).await?;
    let mut node = ComputeNode::builder(&storage).spawn().await?;
    let mut root = node.connect(Some("test")).await?;
    root.query_drop("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'")
        .await?;
    root.query_drop("GRANT SELECT, INSERT ON test.* TO 'app'@'%'")
        .await?;
    root.disconnect().await?;
    node.restart().await?;
    let mut app = mysql_async::Conn::new(mysql_opts(
        node.service_addr(),
        "app",
        "app-pw",
        Some("test"),
    ))
    .await?;
    let grants: Vec<String> = app.query("SHOW GRANTS").await?;
    assert_eq!(
        grants.get(1).map(String::as_str),
        Some("GRANT SELECT, INSERT ON `test`.* TO `app`@`%`")
    );
    assert_eq!(code(app.query_drop("DROP TABLE nothing").await), 1142);
    app.disconnect().await?;
    node.terminate().await?;
    Ok(())
}

#[tokio::test]
async fn clients_outside_the_whitelist_and_repeated_failures_are_turned_away() -> TestResult {
    let closed =
        ComputeNode::configured(2, |c| c.security.allow = vec!["10.0.0.0/8".into()]).await?;
    let e = refused_login(&closed, "connected from outside the whitelist").await?;
    assert!(e.to_string().contains("1130"), "{e}");
    closed.shutdown().await;

    let node = ComputeNode::configured(2, |c| {
        c.security.allow = vec!["127.0.0.0/8".into(), "::1".into()];
        c.security.max_failed_logins = 3;
        c.security.failed_login_delay_after = 1;
        c.security.failed_login_delay_ms = 50;
    })
    .await?;
    let addr = node.service_addr();
    let mut admin = node.connect(None).await?;
    for _ in 0..3 {
        assert_eq!(code(login(addr, "root", "wrong", None).await), 1045);
    }
    let e = refused_login(&node, "a blocked host logged in").await?;
    assert!(e.to_string().contains("1129"), "{e}");
    admin.query_drop("FLUSH HOSTS").await?;
    node.connect(None).await?.disconnect().await?;
    admin.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_sql_firewall_denies_what_its_rules_name() -> TestResult {
    use strata_catalog::config::{FirewallAction, FirewallRuleConfig};
    let node = ComputeNode::configured(2, |c| {
        c.firewall.deny_update_delete_without_where = true;
        c.firewall.deny_drop_truncate_except = Some(vec!["root".into()]);
        c.firewall.max_rows_estimate = Some(50);
        c.firewall.rules.push(FirewallRuleConfig {
            name: "no_vault".into(),
            action: FirewallAction::Deny,
            kinds: Vec::new(),
            tables: vec!["test.vault".into()],
            users: vec!["app".into()],
            digest: None,
            without_where: false,
            except_users: Vec::new(),
            reason: Some("the vault is for auditors".into()),
        });
    })
    .await?;
    let addr = node.service_addr();
    let mut root = node.connect(Some("test")).await?;
    root.query_drop("CREATE TABLE big (id INT PRIMARY KEY, v INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1,2'")
        .await?;
    root.query_drop("CREATE TABLE vault (id INT PRIMARY KEY) SHARD BY GLOBAL")
        .await?;
    let values: Vec<String> = (1..=200).map(|i| format!("({i}, {i})")).collect();
    root.query_drop(format!("INSERT INTO big VALUES {}", values.join(", ")))
        .await?;
    root.query_drop("CREATE USER 'app'@'%' IDENTIFIED BY 'pw'")
        .await?;
    root.query_drop("GRANT ALL ON test.* TO 'app'@'%'").await?;
    let mut app = login(addr, "app", "pw", Some("test")).await?;

    let (got, message) = refusal(&mut app, "DELETE FROM big", "unbounded DELETE ran").await?;
    assert_eq!(got, 1227);
    assert!(message.contains("SQL firewall"), "{message}");
    assert_eq!(
        code(app.query_drop("UPDATE big SET v = 0 LIMIT 1").await),
        1227
    );
    app.query_drop("UPDATE big SET v = 7 WHERE id = 3").await?;
    let (got, message) = refusal(&mut app, "SELECT * FROM vault", "vault read").await?;
    assert_eq!(got, 1227);
    assert!(message.contains("no_vault"), "{message}");
    let n: Option<i64> = root.query_first("SELECT COUNT(*) FROM vault").await?;
    assert_eq!(n, Some(0), "the rule names user app only");
    assert_eq!(code(app.query_drop("TRUNCATE TABLE big").await), 1227);
    assert_eq!(code(app.query_drop("DROP TABLE vault").await), 1227);
    // EXPLAIN estimates: a full scan of 200 rows is over the limit, a point read is not.
    let (got, message) = refusal(&mut app, "SELECT * FROM big", "full scan ran").await?;
    assert_eq!(got, 1227, "{message}");
    let one: Option<i32> = app.query_first("SELECT v FROM big WHERE id = 3").await?;
    assert_eq!(one, Some(7));
    assert_eq!(code(app.prep("DELETE FROM big").await), 1227);
    root.query_drop("DROP TABLE vault").await?;
    app.disconnect().await?;
    root.disconnect().await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_about_a_table_of_another_database_needs_a_privilege_on_it() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut root = node.connect(Some("test")).await?;
    let db = strata_testkit::unique_name("other");
    let user = strata_testkit::unique_name("u");
    for sql in [
        format!("CREATE DATABASE {db}"),
        format!("CREATE TABLE {db}.t1 (a INT, b VARCHAR(10))"),
        format!("CREATE USER {user} IDENTIFIED BY 'pw'"),
        format!("GRANT ALL PRIVILEGES ON test.* TO {user}"),
    ] {
        root.query_drop(sql).await?;
    }
    let mut u = login(node.service_addr(), &user, "pw", Some("test")).await?;
    for sql in [
        format!("SHOW CREATE TABLE {db}.t1"),
        format!("SHOW FIELDS IN {db}.t1"),
        format!("SHOW COLUMNS FROM t1 FROM {db}"),
        format!("SHOW INDEX FROM t1 IN {db}"),
        format!("DESCRIBE {db}.t1"),
    ] {
        assert_eq!(code(u.query_drop(&sql).await), 1142, "{sql}");
    }
    // A loopback client is `localhost` in messages and USER(), as MariaDB names it.
    match u.query_drop(format!("SHOW CREATE TABLE {db}.t1")).await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(
            e.message,
            format!("SHOW command denied to user '{user}'@'localhost' for table `{db}`.`t1`")
        ),
        other => return Err(format!("SHOW CREATE TABLE: {other:?}").into()),
    }
    let me: Option<String> = u.query_first("SELECT USER()").await?;
    assert_eq!(me, Some(format!("{user}@localhost")));
    root.query_drop(format!("DROP USER {user}")).await?;
    root.query_drop(format!("DROP DATABASE {db}")).await?;
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadbs_split_super_privileges_are_granted_shown_and_connection_admin_kills() -> TestResult
{
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut root = node.connect(Some("test")).await?;
    let bar = strata_testkit::unique_name("bar");
    let foo = strata_testkit::unique_name("foo");
    for sql in [
        format!("CREATE USER {bar} IDENTIFIED BY 'pw'"),
        format!("CREATE USER {foo} IDENTIFIED BY 'pw'"),
        format!("GRANT SELECT ON *.* TO {foo}"),
        format!("GRANT ALL PRIVILEGES ON *.* TO {bar}"),
        format!("REVOKE CONNECTION ADMIN, SUPER ON *.* FROM {bar}"),
    ] {
        root.query_drop(sql).await?;
    }
    // MariaDB 10.11's text for the same grants, in its order.
    let grants: Vec<String> = root.query(format!("SHOW GRANTS FOR {bar}")).await?;
    let expected = "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, SHUTDOWN, \
        PROCESS, FILE, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, \
        LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, CREATE VIEW, SHOW VIEW, \
        CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE TABLESPACE, \
        DELETE HISTORY, SET USER, FEDERATED ADMIN, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, \
        REPLICATION MASTER ADMIN, BINLOG ADMIN, BINLOG REPLAY, SLAVE MONITOR ON *.* TO ";
    assert!(
        grants[0].starts_with(expected),
        "{grants:?}\nexpected {expected}"
    );
    // Global-only privileges on a database: MariaDB's 1221.
    assert_eq!(
        code(
            root.query_drop(format!("GRANT CONNECTION ADMIN ON test.* TO {bar}"))
                .await
        ),
        1221
    );

    // KILL of another account's session needs CONNECTION ADMIN (or SUPER): 1095.
    let mut f = login(node.service_addr(), &foo, "pw", Some("test")).await?;
    let id: Option<u64> = f.query_first("SELECT CONNECTION_ID()").await?;
    let id = id.ok_or("connection id")?;
    let mut b = login(node.service_addr(), &bar, "pw", Some("test")).await?;
    assert_eq!(code(b.query_drop(format!("KILL {id}")).await), 1095);
    assert_eq!(code(b.query_drop(format!("KILL USER {foo}")).await), 1095);
    root.query_drop(format!("GRANT CONNECTION ADMIN ON *.* TO {bar}"))
        .await?;
    b.query_drop(format!("KILL {id}")).await?;
    assert!(f.query_drop("SELECT 1").await.is_err(), "foo was killed");
    // KILL [QUERY|CONNECTION] USER: every session of the account; affected rows count
    // them, as MariaDB's do.
    let mut f2 = login(node.service_addr(), &foo, "pw", Some("test")).await?;
    let mut f3 = login(node.service_addr(), &foo, "pw", Some("test")).await?;
    let killed = |r: mysql_async::QueryResult<'_, '_, mysql_async::TextProtocol>| r.affected_rows();
    let r = b.query_iter(format!("KILL QUERY USER {foo}")).await?;
    assert_eq!(killed(r), 2);
    f2.query_drop("SELECT 1").await?;
    let r = b
        .query_iter(format!("KILL HARD CONNECTION USER {foo}"))
        .await?;
    assert_eq!(killed(r), 2);
    for c in [&mut f2, &mut f3] {
        assert!(c.query_drop("SELECT 1").await.is_err(), "foo was killed");
    }
    let r = b.query_iter("KILL USER nobody_at_all").await?;
    assert_eq!(killed(r), 0);
    for user in [&bar, &foo] {
        root.query_drop(format!("DROP USER {user}")).await?;
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_or_replace_needs_drop_and_temporary_tables_their_own_privilege() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut root = node.connect(Some("test")).await?;
    let keep = strata_testkit::unique_name("keep");
    let user = strata_testkit::unique_name("u");
    let reader = strata_testkit::unique_name("r");
    for sql in [
        format!("CREATE TABLE {keep} (a INT)"),
        format!("INSERT INTO {keep} VALUES (1)"),
        format!("CREATE USER {user} IDENTIFIED BY 'pw'"),
        format!("GRANT CREATE, SELECT, INSERT, CREATE VIEW ON test.* TO {user}"),
        format!("CREATE USER {reader} IDENTIFIED BY 'pw'"),
        format!("GRANT SELECT ON test.* TO {reader}"),
    ] {
        root.query_drop(sql).await?;
    }
    // MariaDB 10.11's answers (each checked on a plain server): OR REPLACE needs DROP
    // whether or not the object exists, and a 1142 lists every missing privilege.
    let mut u = login(node.service_addr(), &user, "pw", Some("test")).await?;
    let denied = |who: &str, what: &str, table: &str| {
        format!("{what} command denied to user '{who}'@'localhost' for table `test`.`{table}`")
    };
    for (sql, table) in [
        (
            format!("CREATE OR REPLACE TABLE {keep} (b INT)"),
            keep.as_str(),
        ),
        (
            format!("CREATE OR REPLACE TABLE {keep}_new (b INT)"),
            "_new",
        ),
        (format!("CREATE OR REPLACE VIEW {keep}_v AS SELECT 1"), "_v"),
        (format!("CREATE OR REPLACE SEQUENCE {keep}_s"), "_s"),
    ] {
        let table = if table.starts_with('_') {
            format!("{keep}{table}")
        } else {
            table.to_string()
        };
        let (code, message) = refusal(&mut u, &sql, "no DROP").await?;
        assert_eq!(
            (code, message),
            (1142, denied(&user, "DROP", &table)),
            "{sql}"
        );
    }
    // The table the refused statements named is untouched.
    let rows: Vec<i32> = root.query(format!("SELECT a FROM {keep}")).await?;
    assert_eq!(rows, [1]);
    u.query_drop(format!("CREATE SEQUENCE {keep}_s2")).await?;
    // A temporary table needs CREATE TEMPORARY TABLES on the database: 1044.
    for sql in [
        format!("CREATE TEMPORARY TABLE {keep}_t (a INT)"),
        format!("CREATE OR REPLACE TEMPORARY TABLE {keep}_t (a INT)"),
        format!("CREATE TEMPORARY SEQUENCE {keep}_ts"),
    ] {
        let (code, message) = refusal(&mut u, &sql, "no CREATE TEMPORARY TABLES").await?;
        assert_eq!(code, 1044, "{sql}: {message}");
        assert_eq!(
            message,
            format!("Access denied for user '{user}'@'localhost' to database 'test'")
        );
    }
    let mut r = login(node.service_addr(), &reader, "pw", Some("test")).await?;
    for (sql, what) in [
        (
            format!("CREATE OR REPLACE TABLE {keep} (b INT)"),
            "CREATE, DROP",
        ),
        (
            format!("CREATE OR REPLACE VIEW {keep}_v AS SELECT 1"),
            "CREATE VIEW",
        ),
        (format!("REPLACE INTO {keep} VALUES (2)"), "INSERT, DELETE"),
    ] {
        let (code, message) = refusal(&mut r, &sql, "read-only account").await?;
        let table = if sql.contains("VIEW") {
            format!("{keep}_v")
        } else {
            keep.clone()
        };
        assert_eq!(
            (code, message),
            (1142, denied(&reader, what, &table)),
            "{sql}"
        );
    }
    root.query_drop(format!(
        "GRANT DROP, CREATE TEMPORARY TABLES ON test.* TO {user}"
    ))
    .await?;
    u.query_drop(format!("CREATE OR REPLACE TABLE {keep} (b INT)"))
        .await?;
    u.query_drop(format!("CREATE TEMPORARY TABLE {keep}_t (a INT)"))
        .await?;
    for sql in [
        format!("DROP USER {user}"),
        format!("DROP USER {reader}"),
        format!("DROP TABLE {keep}"),
        format!("DROP SEQUENCE {keep}_s2"),
    ] {
        root.query_drop(sql).await?;
    }
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileges_of_writes_that_read_upserts_renames_and_views_are_mariadbs() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut root = node.connect(Some("test")).await?;
    let t = strata_testkit::unique_name("pt");
    for sql in [
        format!("CREATE TABLE {t} (a INT PRIMARY KEY, b INT, c INT)"),
        format!("INSERT INTO {t} VALUES (1, 1, 1)"),
        format!("CREATE TABLE {t}_r (a INT)"),
        format!("CREATE VIEW {t}_v AS SELECT a FROM {t}"),
    ] {
        root.query_drop(sql).await?;
    }
    // Each account holds the named privileges on test.*; the answers are MariaDB
    // 10.11's to the same statements (checked on a plain server).
    let table = |what: &str, user: &str, name: &str| {
        (
            1142,
            format!("{what} command denied to user '{user}'@'localhost' for table `test`.`{name}`"),
        )
    };
    let column = |user: &str, col: &str| {
        (1143, format!("SELECT command denied to user '{user}'@'localhost' for column '{col}' in table '{t}'"))
    };
    type Answer<'a> = Box<dyn Fn(&str) -> (u16, String) + 'a>;
    let cases: Vec<(&str, String, Answer)> = vec![
        (
            "UPDATE",
            format!("UPDATE {t} SET a = b WHERE c = 1"),
            Box::new(|u: &str| column(u, "c")),
        ),
        (
            "UPDATE",
            format!("UPDATE {t} SET a = a + 1"),
            Box::new(|u: &str| column(u, "a")),
        ),
        (
            "DELETE",
            format!("DELETE FROM {t} WHERE a = 99 RETURNING b"),
            Box::new(|u: &str| column(u, "b")),
        ),
        (
            "DELETE",
            format!("DELETE FROM {t} ORDER BY b"),
            Box::new(|u: &str| column(u, "b")),
        ),
        (
            "INSERT",
            format!("INSERT INTO {t} (a) VALUES (5) RETURNING b"),
            Box::new(|u: &str| column(u, "b")),
        ),
        (
            "INSERT",
            format!("INSERT INTO {t} VALUES (1, 2, 3) ON DUPLICATE KEY UPDATE b = 3"),
            Box::new(|u: &str| table("UPDATE", u, &t)),
        ),
        (
            "INSERT, UPDATE",
            format!("INSERT INTO {t} (a) VALUES (6) ON DUPLICATE KEY UPDATE b = c"),
            Box::new(|u: &str| column(u, "c")),
        ),
        (
            "SELECT",
            format!("RENAME TABLE {t}_r TO {t}_r2"),
            Box::new(|u: &str| table("DROP, ALTER", u, &format!("{t}_r"))),
        ),
        (
            "SELECT",
            format!("ALTER TABLE {t}_r RENAME TO {t}_r2"),
            Box::new(|u: &str| table("DROP, ALTER", u, &format!("{t}_r"))),
        ),
        (
            "SELECT",
            format!("CREATE TABLE {t}_c AS SELECT * FROM {t}"),
            Box::new(|u: &str| table("INSERT, CREATE", u, &format!("{t}_c"))),
        ),
        (
            "UPDATE",
            format!("ANALYZE TABLE {t}"),
            Box::new(|u: &str| table("SELECT, INSERT", u, &t)),
        ),
        (
            "SELECT",
            format!("SHOW CREATE VIEW {t}_v"),
            Box::new(|u: &str| table("SHOW VIEW", u, &format!("{t}_v"))),
        ),
        (
            "INSERT",
            format!("SHOW CREATE VIEW {t}_v"),
            Box::new(|u: &str| table("SELECT", u, &format!("{t}_v"))),
        ),
        (
            "DELETE",
            format!("DELETE HISTORY FROM {t}"),
            Box::new(|u: &str| table("DELETE HISTORY", u, &t)),
        ),
        (
            "LOCK TABLES",
            format!("CHECK TABLE {t}"),
            Box::new(|u: &str| table("CHECK TABLE", u, &t)),
        ),
        (
            "LOCK TABLES",
            format!("SHOW CREATE TABLE {t}"),
            Box::new(|u: &str| table("SHOW", u, &t)),
        ),
        (
            "SELECT",
            format!("LOCK TABLES {t} READ"),
            Box::new(|u: &str| {
                (
                    1044,
                    format!("Access denied for user '{u}'@'localhost' to database 'test'"),
                )
            }),
        ),
    ];
    let mut users = Vec::new();
    for (i, (privileges, sql, want)) in cases.iter().enumerate() {
        let user = format!("{t}_u{i}");
        root.query_drop(format!("CREATE USER {user} IDENTIFIED BY 'pw'"))
            .await?;
        root.query_drop(format!("GRANT {privileges} ON test.* TO {user}"))
            .await?;
        users.push(user.clone());
        let mut u = login(node.service_addr(), &user, "pw", Some("test")).await?;
        let got = refusal(&mut u, sql, privileges).await?;
        assert_eq!(got, want(&user), "{privileges}: {sql}");
    }
    // What MariaDB lets these accounts do, Strata does too.
    let allowed = format!("{t}_ok");
    root.query_drop(format!("CREATE USER {allowed} IDENTIFIED BY 'pw'"))
        .await?;
    root.query_drop(format!(
        "GRANT UPDATE, DELETE, ALTER ON test.* TO {allowed}"
    ))
    .await?;
    users.push(allowed.clone());
    let mut u = login(node.service_addr(), &allowed, "pw", Some("test")).await?;
    for sql in [
        format!("UPDATE {t} SET b = 2 WHERE 1 = 1"),
        format!("UPDATE {t} SET b = 2 LIMIT 1"),
        format!("ALTER TABLE {t}_r ADD INDEX (a)"),
        format!("ALTER TABLE {t}_r ADD COLUMN d INT"),
        format!("ALTER TABLE {t}_r DROP COLUMN d"),
        format!("DELETE FROM {t}"),
    ] {
        u.query_drop(&sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    root.query_drop(format!("GRANT SELECT ON test.* TO {allowed}"))
        .await?;
    u.query_drop(format!("HANDLER {t} OPEN")).await?;
    u.query_drop(format!("HANDLER {t} CLOSE")).await?;
    for user in users {
        root.query_drop(format!("DROP USER {user}")).await?;
    }
    root.query_drop(format!("DROP VIEW {t}_v")).await?;
    root.query_drop(format!("DROP TABLE {t}, {t}_r")).await?;
    node.shutdown().await;
    Ok(())
}
