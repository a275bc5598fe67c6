//! Account rules against what MariaDB 10.11 does: each SHOW GRANTS text and error below
//! was produced by the statements next to it on a throwaway `mariadbd` (10.11.19).

use std::net::IpAddr;

use strata_sql::account::{parse_account, AccountStatement, Identified};

use super::*;

const SECRET_HASH: &str = "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"; // PASSWORD('secret')
const P_HASH: &str = "*7B9EBEED26AA52ED10C0F549FA863F13C39E0209"; // PASSWORD('p')

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Runs an account statement as `root`@`localhost` with every privilege would.
fn run(accounts: &mut Accounts, sql: &str) -> Result<Changes, AccountError> {
    let stmt = parse_account(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut root = Account::new("root", "localhost");
    root.global = PrivSet::all(Level::Global) | PrivSet::of(Privilege::GrantOption);
    accounts.apply(&stmt, &root, None, false)
}

fn run_all(accounts: &mut Accounts, script: &[&str]) {
    for sql in script {
        if let Err(e) = run(accounts, sql) {
            panic!("{sql}: {e}");
        }
    }
}

fn account(accounts: &Accounts, user: &str, host: &str) -> Account {
    accounts
        .get(user, host)
        .cloned()
        .unwrap_or_else(|| panic!("no account {user}@{host}"))
}

fn grants(accounts: &Accounts, user: &str, host: &str) -> Vec<String> {
    account(accounts, user, host).show_grants()
}

#[test]
fn host_patterns_match_as_mysql_does() {
    let cases = [
        ("%", "10.1.2.3", true),
        ("%", "::1", true),
        ("localhost", "127.0.0.1", true),
        ("localhost", "::1", true),
        ("localhost", "::ffff:127.0.0.1", true),
        ("LocalHost", "127.0.0.1", true),
        ("localhost", "10.0.0.1", false),
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
        ("10.0.0.%", "10.0.0.7", true),
        ("10.0.0.%", "10.0.1.7", false),
        ("10.0.0.%", "::ffff:10.0.0.7", true),
        ("10.0.0._", "10.0.0.7", true),
        ("10.0.0._", "10.0.0.17", false),
        ("192.168.0.0/255.255.255.0", "192.168.0.200", true),
        ("192.168.0.0/255.255.255.0", "192.168.1.1", false),
        // The network must have no bits outside the mask, or nothing matches.
        ("192.168.0.1/255.255.255.0", "192.168.0.1", false),
        ("::1", "::1", true),
        ("", "10.1.2.3", false),
    ];
    for (pattern, client, expected) in cases {
        assert_eq!(
            HostPattern::new(pattern).matches(ip(client)),
            expected,
            "{pattern} vs {client}"
        );
    }
}

#[test]
fn logins_pick_the_most_specific_account_first() {
    // MySQL's acl_users order: exact host, longer literal prefix, '%' last; then a named
    // user before the anonymous one.
    let mut accounts = Accounts::default();
    for (u, h) in [
        ("app", "%"),
        ("app", "10.0.%"),
        ("app", "10.0.0.%"),
        ("app", "10.0.0.5"),
        ("", "localhost"),
        ("app", "localhost"),
        ("", "%"),
        ("other", "10.0.0.%"),
    ] {
        run(&mut accounts, &format!("CREATE USER '{u}'@'{h}'")).unwrap();
    }
    let order: Vec<(String, String)> = accounts
        .iter()
        .map(|a| (a.user.clone(), a.host.as_str().to_string()))
        .collect();
    let expected = [
        ("app", "10.0.0.5"),
        ("app", "localhost"),
        ("", "localhost"),
        ("app", "10.0.0.%"),
        ("other", "10.0.0.%"),
        ("app", "10.0.%"),
        ("app", "%"),
        ("", "%"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(u, h)| (u.to_string(), h.to_string()))
        .collect();
    assert_eq!(order, expected);

    let cases = [
        ("app", "10.0.0.5", Some(("app", "10.0.0.5"))),
        ("app", "10.0.0.6", Some(("app", "10.0.0.%"))),
        ("app", "10.0.1.6", Some(("app", "10.0.%"))),
        ("app", "192.168.1.1", Some(("app", "%"))),
        ("app", "127.0.0.1", Some(("app", "localhost"))),
        // The famous surprise: the anonymous localhost account beats 'other'@'%'.
        ("other", "127.0.0.1", Some(("", "localhost"))),
        ("other", "10.0.0.9", Some(("other", "10.0.0.%"))),
        ("nobody", "192.168.1.1", Some(("", "%"))),
    ];
    for (user, client, expected) in cases {
        let got = accounts
            .lookup(user, ip(client))
            .map(|a| (a.user.as_str(), a.host.as_str()));
        assert_eq!(got, expected, "{user} from {client}");
    }
}

#[test]
fn show_grants_prints_mariadbs_text() {
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER 'u1'@'%' IDENTIFIED BY 'secret'",
            "CREATE USER u2",
            "GRANT SELECT, INSERT ON db1.* TO u2",
            "GRANT ALL ON db2.* TO u2 WITH GRANT OPTION",
            "GRANT ALL PRIVILEGES ON *.* TO u1 WITH GRANT OPTION",
            "GRANT RELOAD, PROCESS ON *.* TO u2",
            "CREATE USER nobody@localhost",
            "GRANT SELECT ON db1.* TO nobody@localhost IDENTIFIED BY 'x'",
            "CREATE USER v2@'%' IDENTIFIED BY 'p'",
            "GRANT SELECT ON *.* TO v2 WITH GRANT OPTION MAX_USER_CONNECTIONS 7",
            "CREATE USER v1 IDENTIFIED BY 'p'",
            "GRANT SELECT ON Db1.* TO v1",
            "GRANT UPDATE, SELECT ON db1.t1 TO v1",
            "GRANT ALL ON db1.t2 TO v1 WITH GRANT OPTION",
            "GRANT ALL ON db4.* TO v1 WITH GRANT OPTION",
            "REVOKE GRANT OPTION ON db4.* FROM v1",
            "GRANT ALL ON db5.* TO v1",
            "REVOKE SELECT ON db5.* FROM v1",
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, \
             CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, \
             CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER ON db3.* TO v1",
            "CREATE USER u5 IDENTIFIED BY PASSWORD '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7' \
             WITH MAX_USER_CONNECTIONS 3",
            "CREATE USER g@'%'",
            "GRANT GRANT OPTION ON db1.* TO g",
            "CREATE USER `v4`@`192.168.0.0/255.255.255.0`",
        ],
    );
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "u1",
            "%",
            &[
                "GRANT ALL PRIVILEGES ON *.* TO `u1`@`%` IDENTIFIED BY PASSWORD \
               '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7' WITH GRANT OPTION",
            ],
        ),
        (
            "u2",
            "%",
            &[
                "GRANT RELOAD, PROCESS ON *.* TO `u2`@`%`",
                "GRANT SELECT, INSERT ON `db1`.* TO `u2`@`%`",
                "GRANT ALL PRIVILEGES ON `db2`.* TO `u2`@`%` WITH GRANT OPTION",
            ],
        ),
        (
            "nobody",
            "localhost",
            &[
                "GRANT USAGE ON *.* TO `nobody`@`localhost` IDENTIFIED BY PASSWORD \
                 '*B69027D44F6E5EDC07F1AEAD1477967B16F28227'",
                "GRANT SELECT ON `db1`.* TO `nobody`@`localhost`",
            ],
        ),
        (
            "v2",
            "%",
            &["GRANT SELECT ON *.* TO `v2`@`%` IDENTIFIED BY PASSWORD \
               '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209' WITH GRANT OPTION \
               MAX_USER_CONNECTIONS 7"],
        ),
        (
            "v1",
            "%",
            &[
                "GRANT USAGE ON *.* TO `v1`@`%` IDENTIFIED BY PASSWORD \
                 '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209'",
                "GRANT SELECT ON `Db1`.* TO `v1`@`%`",
                "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, \
                 ALTER, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, \
                 CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER ON `db3`.* TO `v1`@`%`",
                "GRANT ALL PRIVILEGES ON `db4`.* TO `v1`@`%`",
                // MariaDB ends this list with DELETE HISTORY, a privilege Strata does not
                // model; everything else is its text.
                "GRANT INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, \
                 CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, \
                 CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER, DELETE HISTORY ON `db5`.* TO `v1`@`%`",
                "GRANT SELECT, UPDATE ON `db1`.`t1` TO `v1`@`%`",
                "GRANT ALL PRIVILEGES ON `db1`.`t2` TO `v1`@`%` WITH GRANT OPTION",
            ],
        ),
        (
            "u5",
            "%",
            &["GRANT USAGE ON *.* TO `u5`@`%` IDENTIFIED BY PASSWORD \
               '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7' WITH MAX_USER_CONNECTIONS 3"],
        ),
        (
            "g",
            "%",
            &[
                "GRANT USAGE ON *.* TO `g`@`%`",
                "GRANT USAGE ON `db1`.* TO `g`@`%` WITH GRANT OPTION",
            ],
        ),
        (
            "v4",
            "192.168.0.0/255.255.255.0",
            &["GRANT USAGE ON *.* TO `v4`@`192.168.0.0/255.255.255.0`"],
        ),
    ];
    for (user, host, expected) in cases {
        assert_eq!(grants(&accounts, user, host), *expected, "{user}@{host}");
    }
    let create_user = [
        (
            "u1",
            "%",
            "CREATE USER `u1`@`%` IDENTIFIED BY PASSWORD '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7'",
        ),
        ("u2", "%", "CREATE USER `u2`@`%`"),
        (
            "u5",
            "%",
            "CREATE USER `u5`@`%` IDENTIFIED BY PASSWORD '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7' \
             WITH MAX_USER_CONNECTIONS 3",
        ),
    ];
    for (user, host, expected) in create_user {
        let got = accounts.get(user, host).map(Account::show_create_user);
        assert_eq!(got.as_deref(), Some(expected), "{user}@{host}");
    }
}

#[test]
fn revokes_follow_mariadb() {
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER v2 IDENTIFIED BY 'p'",
            "GRANT SELECT ON *.* TO v2 WITH GRANT OPTION MAX_USER_CONNECTIONS 7",
            "REVOKE GRANT OPTION ON *.* FROM v2",
        ],
    );
    assert_eq!(
        grants(&accounts, "v2", "%"),
        ["GRANT SELECT ON *.* TO `v2`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209' WITH MAX_USER_CONNECTIONS 7"]
    );
    run_all(
        &mut accounts,
        &[
            "GRANT SELECT, INSERT ON db1.* TO v2",
            "GRANT ALL ON db1.t1 TO v2",
            // Revoking a privilege not held at a level that has grants is no error.
            "REVOKE DELETE ON db1.* FROM v2",
            "REVOKE SELECT ON *.* FROM v2",
            "REVOKE ALL ON db1.* FROM v2",
        ],
    );
    assert_eq!(
        grants(&accounts, "v2", "%"),
        [
            "GRANT USAGE ON *.* TO `v2`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209' WITH MAX_USER_CONNECTIONS 7",
            "GRANT ALL PRIVILEGES ON `db1`.`t1` TO `v2`@`%`",
        ]
    );
    run_all(
        &mut accounts,
        &["REVOKE ALL PRIVILEGES, GRANT OPTION FROM v2"],
    );
    assert_eq!(
        grants(&accounts, "v2", "%"),
        ["GRANT USAGE ON *.* TO `v2`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209' WITH MAX_USER_CONNECTIONS 7"]
    );
}

#[test]
fn statements_fail_with_mariadbs_errors() {
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER 'u1'@'%' IDENTIFIED BY 'secret'",
            "CREATE USER u2",
            "GRANT SELECT ON db1.* TO u2",
            "GRANT UPDATE ON db1.t1 TO u2",
        ],
    );
    let cases = [
        ("CREATE USER 'u1'@'%'", 1396, "Operation CREATE USER failed for 'u1'@'%'"),
        ("CREATE OR REPLACE USER IF NOT EXISTS u5", 1221, "Incorrect usage of OR REPLACE and IF NOT EXISTS"),
        ("DROP USER nobody2", 1396, "Operation DROP USER failed for 'nobody2'@'%'"),
        ("RENAME USER nobody2 TO x", 1396, "Operation RENAME USER failed for 'nobody2'@'%'"),
        ("ALTER USER nobody2 IDENTIFIED BY 'x'", 1396, "Operation ALTER USER failed for 'nobody2'@'%'"),
        ("SET PASSWORD FOR nobody2 = PASSWORD('x')", 1133, "Can't find any matching row in the user table"),
        ("GRANT SELECT ON db1.* TO nobody", 1133, "Can't find any matching row in the user table"),
        ("SET PASSWORD FOR u2 = '*0123'", 1372, "Password hash should be a 41-digit hexadecimal number"),
        ("SET PASSWORD FOR u2 = 'plain'", 1372, "Password hash should be a 41-digit hexadecimal number"),
        ("CREATE USER u7 IDENTIFIED BY PASSWORD 'notahash'", 1372, "Password hash should be a 41-digit hexadecimal number"),
        ("REVOKE SELECT ON db9.* FROM u2", 1141, "There is no such grant defined for user 'u2' on host '%'"),
        ("REVOKE SELECT ON db1.t9 FROM u2", 1147, "There is no such grant defined for user 'u2' on host '%' on table 't9'"),
        ("GRANT RELOAD ON db1.* TO u2", 1221, "Incorrect usage of DB GRANT and GLOBAL PRIVILEGES"),
        ("GRANT CREATE USER ON db1.* TO u2", 1221, "Incorrect usage of DB GRANT and GLOBAL PRIVILEGES"),
        ("GRANT EXECUTE ON db1.t1 TO u2", 1144, "Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used"),
        ("GRANT SELECT ON t1 TO u2", 1046, "No database selected"),
        ("GRANT SELECT ON * TO u2", 1046, "No database selected"),
        ("GRANT SELECT (a) ON db1.t1 TO u2", 1235, "This version of MySQL doesn't yet support 'column-level privileges'"),
        ("CREATE USER u8 IDENTIFIED VIA ed25519", 1524, "Plugin 'ed25519' is not loaded"),
    ];
    for (sql, code, message) in cases {
        match run(&mut accounts, sql) {
            Err(e) => assert_eq!(
                (e.code(), e.to_string()),
                (code, message.to_string()),
                "{sql}"
            ),
            Ok(c) => panic!("{sql}: succeeded with {c:?}"),
        }
    }
}

#[test]
fn if_exists_and_if_not_exists_leave_mariadbs_notes() {
    let mut accounts = Accounts::default();
    run_all(&mut accounts, &["CREATE USER 'u1'@'%'"]);
    let cases = [
        (
            "CREATE USER IF NOT EXISTS 'u1'@'%'",
            1973,
            "Can't create user 'u1'@'%'; it already exists",
        ),
        (
            "DROP USER IF EXISTS nobody2",
            1974,
            "Can't drop user 'nobody2'@'%'; it doesn't exist",
        ),
        (
            "ALTER USER IF EXISTS v9 IDENTIFIED BY 'x'",
            1396,
            "Operation ALTER USER failed for 'v9'@'%'",
        ),
    ];
    for (sql, code, message) in cases {
        let changes = run(&mut accounts, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(
            changes.notes,
            [Note {
                code,
                message: message.into()
            }],
            "{sql}"
        );
        assert!(changes.put.is_empty() && changes.dropped.is_empty());
    }
}

#[test]
fn create_or_replace_rename_and_host_case() {
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER u5 IDENTIFIED BY 'x'",
            "GRANT SELECT ON db1.* TO u5",
            "CREATE OR REPLACE USER u5",
            // MariaDB stores host names lowercased: 'Mixed'@'LocalHost' is 'Mixed'@'localhost'.
            "CREATE USER 'Mixed'@'LocalHost'",
            "CREATE USER v2",
            "RENAME USER v2 TO v5@localhost",
        ],
    );
    assert_eq!(
        grants(&accounts, "u5", "%"),
        ["GRANT USAGE ON *.* TO `u5`@`%`"]
    );
    assert!(accounts.get("Mixed", "localhost").is_some());
    assert!(
        accounts.get("mixed", "localhost").is_none(),
        "user names are case-sensitive"
    );
    assert!(accounts.get("v2", "%").is_none());
    assert!(accounts.get("v5", "localhost").is_some());
    let err = run(&mut accounts, "CREATE USER 'Mixed'@'LOCALHOST'").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Operation CREATE USER failed for 'Mixed'@'localhost'"
    );
}

#[test]
fn passwords_are_stored_as_verifiers_only() {
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER a IDENTIFIED BY 'secret'",
            "CREATE USER b IDENTIFIED BY PASSWORD '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7'",
            "CREATE USER c IDENTIFIED WITH caching_sha2_password BY 'secret'",
            "CREATE USER d",
            "CREATE USER e",
            "SET PASSWORD FOR e = PASSWORD('secret')",
        ],
    );
    let get = |accounts: &Accounts, u: &str| {
        accounts
            .get(u, "%")
            .map(|a| a.credential.clone())
            .unwrap_or_default()
    };
    for user in ["a", "c", "e"] {
        let c = get(&accounts, user);
        assert_eq!(
            c.native.map(|h| format_native_hash(&h)).as_deref(),
            Some(SECRET_HASH),
            "{user}"
        );
        assert!(
            c.sha2.as_ref().is_some_and(|v| v.verify(b"secret")),
            "{user}"
        );
        assert!(
            c.verify_clear(b"secret") && !c.verify_clear(b"other"),
            "{user}"
        );
    }
    assert_eq!(
        get(&accounts, "c").required,
        Some(AuthPlugin::CachingSha2Password)
    );
    assert_eq!(get(&accounts, "b").sha2, None);
    assert!(get(&accounts, "b").verify_clear(b"secret"));
    assert!(get(&accounts, "d").no_password && get(&accounts, "d").verify_clear(b""));
    run_all(&mut accounts, &["SET PASSWORD FOR a = ''"]);
    assert!(get(&accounts, "a").no_password);
    assert_eq!(get(&accounts, "a").native, None);
}

#[test]
fn privileges_resolve_across_levels_case_sensitively() {
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER app",
            "GRANT SELECT ON *.* TO app",
            "GRANT INSERT ON shop.* TO app",
            "GRANT DELETE ON shop.orders TO app",
            "GRANT UPDATE ON crm.leads TO app",
            "CREATE USER none",
        ],
    );
    let app = account(&accounts, "app", "%");
    let set = |list: &[Privilege]| list.iter().fold(PrivSet::EMPTY, |s, &p| s | PrivSet::of(p));
    use Privilege as P;
    let cases = [
        ("shop", "orders", set(&[P::Select, P::Insert, P::Delete])),
        ("shop", "items", set(&[P::Select, P::Insert])),
        ("Shop", "orders", set(&[P::Select])),
        ("shop", "Orders", set(&[P::Select, P::Insert])),
        ("crm", "leads", set(&[P::Select, P::Update])),
        ("other", "t", set(&[P::Select])),
    ];
    for (db, table, expected) in cases {
        assert_eq!(app.table_privileges(db, table), expected, "{db}.{table}");
    }
    let none = account(&accounts, "none", "%");
    assert!(!none.may_see_database("shop"));
    assert!(!none.may_see_table("shop", "orders"));
    let mut narrow = Account::new("n", "%");
    narrow
        .tables
        .insert(("crm".into(), "leads".into()), PrivSet::of(P::Select));
    narrow
        .databases
        .insert("shop".into(), PrivSet::of(P::GrantOption));
    assert!(narrow.may_see_database("crm"));
    assert!(!narrow.may_see_database("CRM"));
    assert!(narrow.may_see_table("crm", "leads"));
    assert!(!narrow.may_see_table("crm", "other"));
    assert!(
        narrow.may_see_database("shop"),
        "GRANT OPTION alone shows the database"
    );
    assert!(
        app.may_see_database("anything"),
        "a global privilege shows every database"
    );
}

#[test]
fn grantors_need_the_privileges_and_grant_option_where_they_grant() {
    // g1@localhost: SELECT ON db1.* WITH GRANT OPTION, INSERT ON db1.t1 WITH GRANT OPTION.
    let mut accounts = Accounts::default();
    run_all(
        &mut accounts,
        &[
            "CREATE USER g1@localhost IDENTIFIED BY 'p'",
            "GRANT SELECT ON db1.* TO g1@localhost WITH GRANT OPTION",
            "GRANT INSERT ON db1.t1 TO g1@localhost WITH GRANT OPTION",
        ],
    );
    let g1 = account(&accounts, "g1", "localhost");
    let check = |sql: &str| -> Result<(), AccountError> {
        let Ok(AccountStatement::Grant {
            privileges, level, ..
        }) = parse_account(sql)
        else {
            panic!("{sql}");
        };
        let target = GrantTarget::resolve(&level, None)?;
        check_grantor(&g1, privileges_for(&privileges, &target)?, &target)
    };
    for ok in [
        "GRANT SELECT ON db1.* TO target",
        "GRANT INSERT ON db1.t1 TO target",
        "GRANT SELECT ON db1.t2 TO target",
    ] {
        assert!(check(ok).is_ok(), "{ok}");
    }
    let cases = [
        (
            "GRANT INSERT ON db1.* TO target",
            1044,
            "Access denied for user 'g1'@'localhost' to database 'db1'",
        ),
        (
            "GRANT UPDATE ON db1.t1 TO target",
            1142,
            "UPDATE command denied to user 'g1'@'localhost' for table `db1`.`t1`",
        ),
        (
            "GRANT SELECT ON *.* TO target",
            1045,
            "Access denied for user 'g1'@'localhost' (using password: YES)",
        ),
        (
            "GRANT SELECT ON db2.* TO target",
            1044,
            "Access denied for user 'g1'@'localhost' to database 'db2'",
        ),
    ];
    for (sql, code, message) in cases {
        let e = check(sql).err().unwrap_or_else(|| panic!("{sql}: allowed"));
        assert_eq!(
            (e.code(), e.to_string()),
            (code, message.to_string()),
            "{sql}"
        );
    }
    let e = check_create_user(&g1)
        .err()
        .map(|e| (e.code(), e.to_string()));
    assert_eq!(
        e,
        Some((
            1227,
            "Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation"
                .into()
        ))
    );
}

fn user_config(name: &str, password: &str, databases: Option<&[&str]>) -> UserConfig {
    UserConfig {
        name: name.into(),
        host: None,
        password: password.into(),
        password_hash: None,
        databases: databases.map(|d| d.iter().map(|s| s.to_string()).collect()),
        auth_plugin: None,
    }
}

#[test]
fn accounts_round_trip_through_the_store_and_config_users_bootstrap() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let users = [
        user_config("root", "rootpw", None),
        user_config("shop", "", Some(&["shop", "crm"])),
        UserConfig {
            password_hash: Some(P_HASH.into()),
            host: Some("10.0.0.%".into()),
            auth_plugin: Some("mysql_native_password".into()),
            ..user_config("hashed", "", None)
        },
    ];
    let mut accounts = {
        let store = MetadataStore::open(dir.path())?;
        Accounts::load(&store, &users)?
    };
    assert_eq!(
        grants(&accounts, "shop", "%"),
        [
            "GRANT USAGE ON *.* TO `shop`@`%`",
            "GRANT ALL PRIVILEGES ON `crm`.* TO `shop`@`%`",
            "GRANT ALL PRIVILEGES ON `shop`.* TO `shop`@`%`",
        ]
    );
    assert_eq!(
        grants(&accounts, "hashed", "10.0.0.%"),
        [format!(
            "GRANT ALL PRIVILEGES ON *.* TO `hashed`@`10.0.0.%` IDENTIFIED BY PASSWORD '{P_HASH}' WITH GRANT OPTION"
        )]
    );
    let root_before = accounts.get("root", "%").cloned();

    // Changes through SQL survive a restart; the config's password wins over SQL's.
    let store = MetadataStore::open(dir.path())?;
    for sql in [
        "CREATE USER app@'10.0.0.%' IDENTIFIED WITH caching_sha2_password BY 'pw' WITH MAX_USER_CONNECTIONS 4",
        "GRANT SELECT, INSERT ON shop.* TO app@'10.0.0.%'",
        "GRANT DELETE ON shop.orders TO app@'10.0.0.%' WITH GRANT OPTION",
        "GRANT SELECT ON extra.* TO shop",
        "SET PASSWORD FOR shop = PASSWORD('changed')",
        "CREATE USER gone",
        "DROP USER gone",
    ] {
        let changes = run(&mut accounts, sql).map_err(|e| CatalogError::Invalid(e.to_string()))?;
        accounts.save(&store, &changes)?;
    }
    let app_before = accounts.get("app", "10.0.0.%").cloned();
    drop(store);
    let store = MetadataStore::open(dir.path())?;
    let reloaded = Accounts::load(&store, &users)?;
    assert_eq!(reloaded.get("app", "10.0.0.%").cloned(), app_before);
    assert_eq!(
        reloaded.get("root", "%").cloned(),
        root_before.map(|mut a| {
            // Each start derives a fresh salt from the file's clear password.
            a.credential.sha2 = reloaded
                .get("root", "%")
                .and_then(|r| r.credential.sha2.clone());
            a
        })
    );
    assert!(reloaded.get("gone", "%").is_none());
    let shop = account(&reloaded, "shop", "%");
    assert!(
        shop.credential.no_password,
        "the file's empty password wins"
    );
    assert!(
        shop.databases.contains_key("extra"),
        "grants given through SQL are kept"
    );
    assert_eq!(store.list_accounts()?.len(), 4);
    assert!(store.drop_account("app", "10.0.0.%")?);
    assert!(!store.drop_account("app", "10.0.0.%")?);
    Ok(())
}

#[test]
fn account_records_of_an_unknown_version_are_refused() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
    let redb = crate::store::RedbStore::open(dir.path())?;
    let txn = redb.db().begin_write()?;
    txn.open_table(ACCOUNTS)?
        .insert(("x", "%"), [9u8, b'a'].as_slice())?;
    txn.commit()?;
    let store = MetadataStore::Redb(redb);
    assert!(matches!(
        store.list_accounts(),
        Err(CatalogError::Decode { .. })
    ));
    Ok(())
}

#[test]
fn identified_clauses_map_to_credentials() {
    let sha2 = Sha2Verifier::with_salt(b"pw", "abcdefghijklmnopqrst", 5000);
    let cases = [
        (
            Identified::Hash {
                plugin: Some("caching_sha2_password".into()),
                hash: sha2.as_str().into(),
            },
            Ok((None, true, Some(AuthPlugin::CachingSha2Password))),
        ),
        (
            Identified::Hash {
                plugin: Some("caching_sha2_password".into()),
                hash: SECRET_HASH.into(),
            },
            Err(1827),
        ),
        (
            Identified::Hash {
                plugin: None,
                hash: SECRET_HASH.into(),
            },
            Ok((Some(SECRET_HASH.to_string()), false, None)),
        ),
        (
            Identified::Plugin("mysql_native_password".into()),
            Ok((None, false, Some(AuthPlugin::MysqlNativePassword))),
        ),
    ];
    for (identified, expected) in cases {
        let got = credential_for(&identified)
            .map(|c| {
                (
                    c.native.map(|h| format_native_hash(&h)),
                    c.sha2.is_some(),
                    c.required,
                )
            })
            .map_err(|e| e.code());
        assert_eq!(got, expected, "{identified:?}");
    }
}

#[test]
fn grant_creates_a_missing_account_as_mariadb_does() {
    let mut root = Account::new("root", "localhost");
    root.global = PrivSet::all(Level::Global) | PrivSet::of(Privilege::GrantOption);
    let grant = |accounts: &mut Accounts, actor: &Account, sql: &str, auto: bool| {
        let stmt = parse_account(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        accounts.apply(&stmt, actor, None, auto).map(|_| ())
    };
    let mut accounts = Accounts::default();
    // sql_mode='' (auto): created with no password and exactly what was granted.
    grant(
        &mut accounts,
        &root,
        "GRANT SELECT ON *.* TO a@localhost",
        true,
    )
    .unwrap();
    grant(&mut accounts, &root, "GRANT USAGE ON nodb.* TO i", true).unwrap();
    assert_eq!(
        grants(&accounts, "a", "localhost"),
        ["GRANT SELECT ON *.* TO `a`@`localhost`"]
    );
    assert!(account(&accounts, "a", "localhost").credential.no_password);
    assert_eq!(
        grants(&accounts, "i", "%"),
        ["GRANT USAGE ON *.* TO `i`@`%`"]
    );
    // The default mode: 1133 unless IDENTIFIED BY is given (any form creates).
    let e = grant(
        &mut accounts,
        &root,
        "GRANT SELECT ON *.* TO b@localhost",
        false,
    );
    assert_eq!(e.map_err(|e| e.code()), Err(1133));
    grant(
        &mut accounts,
        &root,
        "GRANT SELECT ON *.* TO c@localhost IDENTIFIED BY 'pw'",
        false,
    )
    .unwrap();
    grant(
        &mut accounts,
        &root,
        "GRANT SELECT ON *.* TO f@localhost IDENTIFIED BY ''",
        false,
    )
    .unwrap();
    assert_eq!(
        grants(&accounts, "c", "localhost"),
        ["GRANT SELECT ON *.* TO `c`@`localhost` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'"]
    );
    assert!(accounts.get("b", "localhost").is_none());
    // A grantor without CREATE USER: 1133 by the mode first, then 1410.
    let mut lim = Account::new("lim", "localhost");
    lim.databases.insert(
        "x".into(),
        PrivSet::of(Privilege::Select) | PrivSet::of(Privilege::GrantOption),
    );
    let e = grant(
        &mut accounts,
        &lim,
        "GRANT SELECT ON x.* TO n@localhost",
        false,
    );
    assert_eq!(e.map_err(|e| e.code()), Err(1133));
    let e = grant(
        &mut accounts,
        &lim,
        "GRANT SELECT ON x.* TO n@localhost",
        true,
    );
    assert_eq!(
        e.map_err(|e| (e.code(), e.to_string())),
        Err((
            1410,
            "You are not allowed to create a user with GRANT".into()
        ))
    );
    let e = grant(
        &mut accounts,
        &lim,
        "GRANT SELECT ON x.* TO n@localhost IDENTIFIED BY 'z'",
        false,
    );
    assert_eq!(e.map_err(|e| e.code()), Err(1410));
    assert!(accounts.get("n", "localhost").is_none());
}

#[test]
fn an_absent_admin_keeps_a_mapping_row_that_grants_nothing() -> Result<(), CatalogError> {
    let mut accounts = Accounts::new(Vec::new());
    let mut root = Account::new("root", "localhost");
    root.global = PrivSet::all(Level::Global) | PrivSet::of(Privilege::GrantOption);
    let role = |accounts: &mut Accounts, sql: &str| {
        let stmt = parse_account(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        accounts.apply_role(&stmt, &root, None)
    };
    let changes =
        role(&mut accounts, "CREATE ROLE r1 WITH ADMIN u1").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        changes.notes,
        [Note {
            code: 1449,
            message: "The user specified as a definer ('u1'@'%') does not exist".into()
        }]
    );
    let row = |h: &str, u: &str, r: &str, a| (h.to_string(), u.to_string(), r.to_string(), a);
    assert_eq!(accounts.roles_mapping(), [row("%", "u1", "r1", true)]);
    // The row survives the store; the account made later does not hold the role.
    let stored = account(&accounts, "r1", "");
    let bytes = super::persist::encode_account(&stored)?;
    assert_eq!(super::persist::decode_account("r1", "", &bytes)?, stored);
    run_all(&mut accounts, &["CREATE USER u1"]);
    assert!(account(&accounts, "u1", "%").roles.is_empty());
    assert_eq!(accounts.roles_mapping(), [row("%", "u1", "r1", true)]);
    // DROP USER drops the row; a second DROP USER fails.
    run_all(&mut accounts, &["DROP USER u1"]);
    assert!(accounts.roles_mapping().is_empty());
    assert_eq!(
        run(&mut accounts, "DROP USER u1").err().map(|e| e.code()),
        Some(1396)
    );
    // CURRENT_ROLE without a role: 1446; CREATE OR REPLACE replaces the row.
    let err = role(&mut accounts, "CREATE ROLE r2 WITH ADMIN CURRENT_ROLE").err();
    assert_eq!(err.map(|e| e.code()), Some(1446));
    role(
        &mut accounts,
        "CREATE OR REPLACE ROLE r1 WITH ADMIN u2@localhost",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    role(&mut accounts, "CREATE ROLE r2 WITH ADMIN r1").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        accounts.roles_mapping(),
        [
            row("", "r1", "r2", true),
            row("localhost", "u2", "r1", true)
        ]
    );
    Ok(())
}
