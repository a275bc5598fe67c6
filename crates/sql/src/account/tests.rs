use super::*;
use crate::error::assert_syntax_errors;

fn named(user: &str, host: &str) -> UserRef {
    UserRef::Named(UserName::new(user, host))
}

fn spec(user: &str, host: &str, identified: Option<Identified>) -> UserSpec {
    UserSpec {
        user: named(user, host),
        identified,
    }
}

fn privs(list: &[Privilege]) -> Vec<PrivilegeItem> {
    list.iter()
        .map(|&privilege| PrivilegeItem {
            privilege,
            columns: Vec::new(),
        })
        .collect()
}

fn parse(sql: &str) -> AccountStatement {
    parse_account(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn user_names_in_every_quoting() {
    let cases = [
        ("DROP USER 'u'@'h'", named("u", "h")),
        ("DROP USER u@localhost", named("u", "localhost")),
        ("DROP USER `u`@`%`", named("u", "%")),
        ("DROP USER \"u\"@\"10.0.0.%\"", named("u", "10.0.0.%")),
        ("DROP USER bob", named("bob", "%")),
        ("DROP USER 'bob'", named("bob", "%")),
        ("DROP USER u@10.0.0.1", named("u", "10.0.0.1")),
        ("DROP USER u@db.example.com", named("u", "db.example.com")),
        ("DROP USER 'u' @ 'h'", named("u", "h")),
        ("DROP USER ''@'localhost'", named("", "localhost")),
        ("DROP USER 'it''s'@'h'", named("it's", "h")),
        (
            "DROP USER u@'192.168.0.0/255.255.255.0'",
            named("u", "192.168.0.0/255.255.255.0"),
        ),
        ("DROP USER CURRENT_USER", UserRef::CurrentUser),
        ("DROP USER current_user()", UserRef::CurrentUser),
    ];
    for (sql, user) in cases {
        assert_eq!(
            parse(sql),
            AccountStatement::DropUser {
                if_exists: false,
                users: vec![user]
            },
            "{sql}"
        );
    }
}

#[test]
fn create_user_variants() {
    let native = "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7";
    let cases = [
        (
            "CREATE USER 'u1'@'%' IDENTIFIED BY 'secret'",
            false,
            false,
            vec![spec(
                "u1",
                "%",
                Some(Identified::Password {
                    plugin: None,
                    password: "secret".into(),
                }),
            )],
            None,
        ),
        (
            "create user if not exists u2, u3@localhost identified by password \
             '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7'",
            false,
            true,
            vec![
                spec("u2", "%", None),
                spec(
                    "u3",
                    "localhost",
                    Some(Identified::Hash {
                        plugin: None,
                        hash: native.into(),
                    }),
                ),
            ],
            None,
        ),
        (
            "CREATE OR REPLACE USER u4@'10.0.0.%' IDENTIFIED WITH mysql_native_password \
             AS '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7' WITH MAX_USER_CONNECTIONS 3",
            true,
            false,
            vec![spec(
                "u4",
                "10.0.0.%",
                Some(Identified::Hash {
                    plugin: Some("mysql_native_password".into()),
                    hash: native.into(),
                }),
            )],
            Some(3),
        ),
        (
            "CREATE USER u6 IDENTIFIED WITH caching_sha2_password BY 'x';",
            false,
            false,
            vec![spec(
                "u6",
                "%",
                Some(Identified::Password {
                    plugin: Some("caching_sha2_password".into()),
                    password: "x".into(),
                }),
            )],
            None,
        ),
        (
            "CREATE USER u3@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('x')",
            false,
            false,
            vec![spec(
                "u3",
                "localhost",
                Some(Identified::Password {
                    plugin: Some("mysql_native_password".into()),
                    password: "x".into(),
                }),
            )],
            None,
        ),
        (
            "CREATE USER u7 IDENTIFIED WITH 'caching_sha2_password'",
            false,
            false,
            vec![spec(
                "u7",
                "%",
                Some(Identified::Plugin("caching_sha2_password".into())),
            )],
            None,
        ),
    ];
    for (sql, or_replace, if_not_exists, users, max) in cases {
        assert_eq!(
            parse(sql),
            AccountStatement::CreateUser {
                or_replace,
                if_not_exists,
                users,
                limits: ResourceLimits {
                    max_user_connections: max
                },
            },
            "{sql}"
        );
    }
}

#[test]
fn alter_drop_rename_set_password_show_flush() {
    let cases = [
        (
            "ALTER USER IF EXISTS v9 IDENTIFIED BY 'x'",
            AccountStatement::AlterUser {
                if_exists: true,
                users: vec![spec(
                    "v9",
                    "%",
                    Some(Identified::Password {
                        plugin: None,
                        password: "x".into(),
                    }),
                )],
                limits: ResourceLimits::default(),
            },
        ),
        (
            "ALTER USER CURRENT_USER() WITH MAX_USER_CONNECTIONS 0",
            AccountStatement::AlterUser {
                if_exists: false,
                users: vec![UserSpec {
                    user: UserRef::CurrentUser,
                    identified: None,
                }],
                limits: ResourceLimits {
                    max_user_connections: Some(0),
                },
            },
        ),
        (
            "DROP USER IF EXISTS v5@localhost, v9",
            AccountStatement::DropUser {
                if_exists: true,
                users: vec![named("v5", "localhost"), named("v9", "%")],
            },
        ),
        (
            "RENAME USER v2 TO v5@localhost, 'a'@'b' TO c",
            AccountStatement::RenameUser {
                renames: vec![
                    (named("v2", "%"), UserName::new("v5", "localhost")),
                    (named("a", "b"), UserName::new("c", "%")),
                ],
            },
        ),
        (
            "SET PASSWORD FOR u2 = PASSWORD('x')",
            AccountStatement::SetPassword {
                user: Some(named("u2", "%")),
                value: PasswordValue::Password("x".into()),
            },
        ),
        (
            "SET PASSWORD = '*14E65567ABDB5135D0CFD9A70B3032C179A49EE7'",
            AccountStatement::SetPassword {
                user: None,
                value: PasswordValue::Hash("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7".into()),
            },
        ),
        (
            "SET PASSWORD FOR CURRENT_USER() = ''",
            AccountStatement::SetPassword {
                user: Some(UserRef::CurrentUser),
                value: PasswordValue::Hash(String::new()),
            },
        ),
        ("SHOW GRANTS", AccountStatement::ShowGrants { user: None }),
        (
            "show grants for current_user",
            AccountStatement::ShowGrants {
                user: Some(UserRef::CurrentUser),
            },
        ),
        (
            "SHOW GRANTS FOR CURRENT_USER()",
            AccountStatement::ShowGrants {
                user: Some(UserRef::CurrentUser),
            },
        ),
        (
            "SHOW GRANTS FOR 'u1'@'%'",
            AccountStatement::ShowGrants {
                user: Some(named("u1", "%")),
            },
        ),
        (
            "SHOW CREATE USER u2",
            AccountStatement::ShowCreateUser {
                user: named("u2", "%"),
            },
        ),
        ("FLUSH PRIVILEGES;", AccountStatement::FlushPrivileges),
    ];
    for (sql, expected) in cases {
        assert_eq!(parse(sql), expected, "{sql}");
    }
}

#[test]
fn grant_privileges_levels_and_options() {
    use Privilege as P;
    let cases = [
        (
            "GRANT SELECT, INSERT ON db1.* TO u2",
            privs(&[P::Select, P::Insert]),
            GrantLevel::Database("db1".into()),
            false,
            None,
        ),
        (
            "GRANT ALL ON *.* TO u1 WITH GRANT OPTION",
            privs(&[P::All]),
            GrantLevel::Global,
            true,
            None,
        ),
        (
            "GRANT ALL PRIVILEGES ON `db2`.* TO u1",
            privs(&[P::All]),
            GrantLevel::Database("db2".into()),
            false,
            None,
        ),
        (
            "GRANT UPDATE ON TABLE db1.t1 TO u1",
            privs(&[P::Update]),
            GrantLevel::Table {
                db: Some("db1".into()),
                table: "t1".into(),
            },
            false,
            None,
        ),
        (
            "GRANT SELECT ON t1 TO u1",
            privs(&[P::Select]),
            GrantLevel::Table {
                db: None,
                table: "t1".into(),
            },
            false,
            None,
        ),
        (
            "GRANT SELECT ON * TO u1",
            privs(&[P::Select]),
            GrantLevel::CurrentDatabase,
            false,
            None,
        ),
        (
            "GRANT CREATE TEMPORARY TABLES, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, \
             ALTER ROUTINE, LOCK TABLES, SHOW DATABASES, CREATE USER, CREATE, ALTER, \
             EXECUTE, TRIGGER, EVENT, INDEX, REFERENCES, DROP, DELETE, UPDATE, PROCESS, \
             SUPER, RELOAD, USAGE, GRANT OPTION ON *.* TO u1",
            privs(&[
                P::CreateTemporaryTables,
                P::CreateView,
                P::ShowView,
                P::CreateRoutine,
                P::AlterRoutine,
                P::LockTables,
                P::ShowDatabases,
                P::CreateUser,
                P::Create,
                P::Alter,
                P::Execute,
                P::Trigger,
                P::Event,
                P::Index,
                P::References,
                P::Drop,
                P::Delete,
                P::Update,
                P::Process,
                P::Super,
                P::Reload,
                P::Usage,
                P::GrantOption,
            ]),
            GrantLevel::Global,
            false,
            None,
        ),
        (
            "GRANT SELECT ON *.* TO v2 WITH GRANT OPTION MAX_USER_CONNECTIONS 7",
            privs(&[P::Select]),
            GrantLevel::Global,
            true,
            Some(7),
        ),
        (
            "GRANT SELECT ON db1.* TO u2 WITH MAX_USER_CONNECTIONS 5 GRANT OPTION",
            privs(&[P::Select]),
            GrantLevel::Database("db1".into()),
            true,
            Some(5),
        ),
    ];
    for (sql, privileges, level, grant_option, max) in cases {
        let AccountStatement::Grant {
            privileges: got,
            level: got_level,
            grant_option: got_option,
            limits,
            ..
        } = parse(sql)
        else {
            panic!("{sql}: not a GRANT");
        };
        assert_eq!(
            (got, got_level, got_option, limits.max_user_connections),
            (privileges, level, grant_option, max),
            "{sql}"
        );
    }
}

#[test]
fn grant_with_columns_and_identified_grantees() {
    assert_eq!(
        parse(
            "GRANT SELECT (b, `a`), UPDATE (c) ON db1.t2 TO v1, \
             nobody@localhost IDENTIFIED BY 'x'"
        ),
        AccountStatement::Grant {
            privileges: vec![
                PrivilegeItem {
                    privilege: Privilege::Select,
                    columns: vec!["b".into(), "a".into()],
                },
                PrivilegeItem {
                    privilege: Privilege::Update,
                    columns: vec!["c".into()],
                },
            ],
            level: GrantLevel::Table {
                db: Some("db1".into()),
                table: "t2".into(),
            },
            users: vec![
                spec("v1", "%", None),
                spec(
                    "nobody",
                    "localhost",
                    Some(Identified::Password {
                        plugin: None,
                        password: "x".into(),
                    }),
                ),
            ],
            grant_option: false,
            limits: ResourceLimits::default(),
        }
    );
}

#[test]
fn revoke_forms() {
    assert_eq!(
        parse("REVOKE DELETE, GRANT OPTION ON db1.t1 FROM u2, 'x'@'y'"),
        AccountStatement::Revoke {
            privileges: privs(&[Privilege::Delete, Privilege::GrantOption]),
            level: GrantLevel::Table {
                db: Some("db1".into()),
                table: "t1".into(),
            },
            users: vec![named("u2", "%"), named("x", "y")],
        }
    );
    for sql in [
        "REVOKE ALL PRIVILEGES, GRANT OPTION FROM u2, v1",
        "revoke all, grant option from u2, v1",
    ] {
        assert_eq!(
            parse(sql),
            AccountStatement::RevokeAll {
                users: vec![named("u2", "%"), named("v1", "%")],
            },
            "{sql}"
        );
    }
    assert_eq!(
        parse("REVOKE ALL ON db1.* FROM v1"),
        AccountStatement::Revoke {
            privileges: privs(&[Privilege::All]),
            level: GrantLevel::Database("db1".into()),
            users: vec![named("v1", "%")],
        }
    );
}

#[test]
fn malformed_statements_are_syntax_errors_near_the_offending_text() {
    assert_syntax_errors(
        parse_account,
        &[
            // MariaDB: near 'ON *.* TO u2' (FOO is taken for a role name).
            ("GRANT FOO ON *.* TO u2", "ON *.* TO u2"),
            ("GRANT SELECT ON *. TO u2", "TO u2"),
            ("GRANT SELECT TO u2", "TO u2"),
            ("GRANT SELECT ON db1.* u2", "u2"),
            ("CREATE USER", ""),
            ("CREATE USER u1 IDENTIFIED 'x'", "'x'"),
            ("CREATE USER u1 WITH", ""),
            ("CREATE USER u1@", ""),
            ("DROP USER u1 u2", "u2"),
            ("RENAME USER a b", "b"),
            ("SET PASSWORD FOR u2 PASSWORD('x')", "PASSWORD('x')"),
            ("SET PASSWORD = PASSWORD 'x'", "'x'"),
            ("SHOW GRANTS FOR", ""),
            ("FLUSH TABLES", "TABLES"),
            ("REVOKE SELECT ON db1.* TO u1", "TO u1"),
            ("GRANT SELECT ON db1.* TO u1 WITH", ""),
            ("SELECT 1", "SELECT 1"),
        ],
    );
}

#[test]
fn valid_mysql_that_strata_does_not_support_is_named() {
    let cases = [
        ("GRANT PROXY ON root TO u2", "the PROXY privilege"),
        (
            "GRANT SELECT, CREATE ROLE ON *.* TO u2",
            "the CREATE ROLE privilege",
        ),
        (
            "REVOKE ADMIN OPTION FOR app_role FROM u2",
            "REVOKE ADMIN OPTION FOR a role",
        ),
        (
            "GRANT EXECUTE ON PROCEDURE db.p TO u2",
            "routine-level privileges",
        ),
        (
            "CREATE USER u5 WITH MAX_USER_CONNECTIONS 3 MAX_QUERIES_PER_HOUR 10",
            "MAX_QUERIES_PER_HOUR",
        ),
        ("SET PASSWORD FOR u2 = OLD_PASSWORD('x')", "OLD_PASSWORD"),
        (
            "CREATE USER u IDENTIFIED VIA ed25519 OR unix_socket",
            "IDENTIFIED VIA with several plugins",
        ),
    ];
    let tls = "REQUIRE SSL, X509, CIPHER, ISSUER or SUBJECT (TLS requirements of an account)";
    let cases = cases.into_iter().chain([
        ("CREATE USER foo IDENTIFIED BY 'p' REQUIRE SSL", tls),
        ("ALTER USER foo REQUIRE X509", tls),
        (
            "CREATE USER foo, foo2 IDENTIFIED BY 'p' REQUIRE CIPHER 'c' AND SUBJECT 's' \
             AND ISSUER 'i'",
            tls,
        ),
        (
            "GRANT SELECT ON *.* TO foo REQUIRE CIPHER 'c' SUBJECT 's' WITH GRANT OPTION",
            tls,
        ),
    ]);
    for (sql, what) in cases {
        assert_eq!(
            parse_account(sql),
            Err(SqlError::Unsupported(what.into())),
            "{sql}"
        );
    }
}

#[test]
fn require_none_is_every_accounts_and_a_bad_require_is_a_syntax_error() {
    for sql in [
        "CREATE USER foo REQUIRE NONE",
        "ALTER USER foo REQUIRE NONE WITH MAX_USER_CONNECTIONS 2",
        "GRANT SELECT ON *.* TO foo REQUIRE NONE",
    ] {
        assert!(parse_account(sql).is_ok(), "{sql}");
    }
    for sql in [
        "CREATE USER foo REQUIRE",
        "CREATE USER foo REQUIRE CIPHER",
        "CREATE USER foo REQUIRE SSL AND",
        "CREATE USER foo REQUIRE TLS",
    ] {
        assert!(
            matches!(parse_account(sql), Err(SqlError::Syntax { .. })),
            "{sql}"
        );
    }
}

#[test]
fn privilege_names_are_mariadbs() {
    // MariaDB's older names, which SHOW GRANTS prints as the newer ones.
    const ALIASES: &[&str] = &[
        "REPLICATION REPLICA",
        "REPLICATION CLIENT",
        "REPLICA MONITOR",
        "READ ONLY ADMIN",
    ];
    for (words, privilege) in PRIVILEGE_WORDS {
        let spelled = words.join(" ");
        if *privilege != Privilege::All && !ALIASES.contains(&spelled.as_str()) {
            assert_eq!(privilege.name(), spelled);
        }
    }
    // MariaDB 10.5's split of SUPER, and the privileges of storage-server features.
    for sql in [
        "GRANT FILE, SHUTDOWN, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO u2",
        "GRANT CONNECTION ADMIN, READ_ONLY ADMIN, SET USER, FEDERATED ADMIN ON *.* TO u2",
        "REVOKE BINLOG ADMIN, BINLOG REPLAY, BINLOG MONITOR, SLAVE MONITOR ON *.* FROM u2",
        "GRANT REPLICATION SLAVE ADMIN, REPLICATION MASTER ADMIN, REPLICA MONITOR ON *.* TO u2",
        "GRANT DELETE HISTORY, CREATE TABLESPACE ON *.* TO u2",
        "grant read only admin on *.* to u2",
    ] {
        assert!(parse_account(sql).is_ok(), "{sql}");
    }
}

#[test]
fn role_statements_parse() {
    use super::RoleAdmin;
    let named = |u: &str, h: &str| UserRef::Named(UserName::new(u, h));
    let cases = [
        (
            "CREATE ROLE IF NOT EXISTS r1, 'r 2' WITH ADMIN CURRENT_ROLE",
            AccountStatement::CreateRole {
                or_replace: false,
                if_not_exists: true,
                roles: vec!["r1".into(), "r 2".into()],
                admin: RoleAdmin::CurrentRole,
            },
        ),
        (
            "DROP ROLE IF EXISTS `r1`",
            AccountStatement::DropRole {
                if_exists: true,
                roles: vec!["r1".into()],
            },
        ),
        (
            "GRANT app_role TO u2, 'u3'@'h' WITH ADMIN OPTION",
            AccountStatement::GrantRole {
                role: "app_role".into(),
                grantees: vec![named("u2", "%"), named("u3", "h")],
                admin_option: true,
            },
        ),
        (
            "REVOKE app_role FROM u2",
            AccountStatement::RevokeRole {
                role: "app_role".into(),
                grantees: vec![named("u2", "%")],
            },
        ),
        ("SET ROLE NONE", AccountStatement::SetRole { role: None }),
        (
            "SET DEFAULT ROLE r FOR u@'%'",
            AccountStatement::SetDefaultRole {
                role: Some("r".into()),
                user: Some(named("u", "%")),
            },
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(parse_account(sql), Ok(expected), "{sql}");
    }
    assert!(parse_account("CREATE ROLE 'x'@'y'").is_err());
}
