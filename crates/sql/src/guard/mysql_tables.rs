//! Tables of the `mysql` schema Strata answers itself: `mysql.user`, `mysql.db` and
//! `mysql.roles_mapping` from its own accounts, `mysql.proc` with the client's routines
//! only. A SELECT naming them reads a
//! derived table the session builds in their place (the storage servers' own tables
//! hold the storage account and other tenants' objects and are never read as they are).

use crate::classify::StatementKind;
use crate::search::contains_ignore_ascii_case;

use super::information_schema::{name_columns_as_written, replace_schema_tables};

/// A table of `mysql` Strata answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MysqlTable {
    /// `mysql.user`: MariaDB's view of the accounts, built from Strata's accounts.
    User,
    /// `mysql.proc`: the routines of the client's logical databases.
    Proc,
    /// `mysql.roles_mapping`: the roles granted to accounts and roles, from Strata's
    /// accounts.
    RolesMapping,
    /// `mysql.db`: the database-level privileges of Strata's accounts and roles.
    Db,
}

impl MysqlTable {
    /// The table's name as MariaDB writes it in messages.
    pub fn name(self) -> &'static str {
        match self {
            MysqlTable::User => "user",
            MysqlTable::Proc => "proc",
            MysqlTable::RolesMapping => "roles_mapping",
            MysqlTable::Db => "db",
        }
    }
}

/// The table of `mysql` called `name` that Strata answers, if it is one (table names
/// of `mysql` are lower case on every storage server; a client may write any case).
pub fn mysql_table(name: &str) -> Option<MysqlTable> {
    if name.eq_ignore_ascii_case("user") {
        Some(MysqlTable::User)
    } else if name.eq_ignore_ascii_case("proc") {
        Some(MysqlTable::Proc)
    } else if name.eq_ignore_ascii_case("roles_mapping") {
        Some(MysqlTable::RolesMapping)
    } else if name.eq_ignore_ascii_case("db") {
        Some(MysqlTable::Db)
    } else {
        None
    }
}

/// The tables of `mysql` a SELECT reads that Strata answers, in order of appearance
/// (empty for other statements and when it names none).
pub fn mysql_tables_read(sql: &str, kind: StatementKind) -> Vec<MysqlTable> {
    let mut found = Vec::new();
    if kind != StatementKind::Select || !contains_ignore_ascii_case(sql.as_bytes(), b"mysql") {
        return found;
    }
    let _ = replace_schema_tables(sql, "mysql", |name| {
        if let Some(t) = mysql_table(name) {
            found.push(t);
        }
        Ok(None)
    });
    found
}

/// `sql` (a SELECT naming tables of [`mysql_tables_read`]) with each of them replaced by
/// the query `source` gives for it, as a derived table named as the table. A query over
/// base tables (`mysql.proc`, `mysql.roles_mapping`) names its plain columns as written,
/// as MariaDB names a base table's columns (`mysql.user` is a view there: its columns
/// keep the view's names).
pub fn rewrite_mysql_tables(sql: &str, mut source: impl FnMut(MysqlTable) -> String) -> String {
    let tables = mysql_tables_read(sql, StatementKind::Select);
    let named = if !tables.contains(&MysqlTable::User) {
        name_columns_as_written(sql, "mysql")
    } else {
        std::borrow::Cow::Borrowed(sql)
    };
    let rewritten = replace_schema_tables(named.as_ref(), "mysql", |name| {
        Ok(mysql_table(name).map(&mut source))
    });
    // The replacement never fails: every table either has a source or stays.
    rewritten.unwrap_or_else(|_| named.into_owned())
}

/// The server-wide data tables of `mysql` ([`super::is_server_data_table`]) the text
/// names as `mysql.table` (lowercased, in order of appearance, each once).
pub fn server_data_tables_named(sql: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    if !contains_ignore_ascii_case(sql.as_bytes(), b"mysql") {
        return found;
    }
    let toks: Vec<crate::lexer::Token> = crate::lexer::code_tokens(sql).collect();
    for (i, t) in toks.iter().enumerate() {
        let qualified = t.kind.is_ident()
            && toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "."))
            && !(i > 0 && toks[i - 1].is_punct(sql, "."))
            && super::public_tables::qualifies_server_data_table(sql, &toks, i);
        if !qualified {
            continue;
        }
        if let Some(name) = toks.get(i + 2) {
            let name = crate::lexer::ident_value(name.text(sql)).to_ascii_lowercase();
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

/// `sql` (a SELECT) with each statistics table of `mysql` it reads
/// ([`super::is_statistics_table`]) replaced by the query `source` gives for it (the
/// table's name as written), as a derived table named as the table; its plain columns
/// keep the names the client wrote, as a base table's do.
pub fn rewrite_statistics_tables(sql: &str, mut source: impl FnMut(&str) -> String) -> String {
    let named = name_columns_as_written(sql, "mysql");
    let rewritten = replace_schema_tables(named.as_ref(), "mysql", |name| {
        Ok(super::is_statistics_table("mysql", name).then(|| source(name)))
    });
    // The replacement never fails: every table either has a source or stays.
    rewritten.unwrap_or_else(|_| named.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_proc_are_found_and_replaced() {
        let sql = "SELECT count(*) > 0 FROM mysql.user WHERE user = 'u1'";
        assert_eq!(
            mysql_tables_read(sql, StatementKind::Select),
            vec![MysqlTable::User]
        );
        assert_eq!(
            rewrite_mysql_tables(sql, |_| "SELECT 1 AS x".into()),
            "SELECT count(*) > 0 FROM (SELECT 1 AS x) AS `user` WHERE user = 'u1'"
        );
        let sql = "select u.host from `mysql`.`USER` u join mysql.proc on 1";
        assert_eq!(
            rewrite_mysql_tables(sql, |t| format!("S{}", t.name())),
            "select u.host from (Suser) u join (Sproc) AS `proc` on 1"
        );
    }

    #[test]
    fn proc_columns_are_named_as_written() {
        let sql = "select name,db,body from mysql.proc where name = 'P1'";
        assert_eq!(
            rewrite_mysql_tables(sql, |_| "S".into()),
            "select name AS `name`,db AS `db`,body AS `body` from (S) AS `proc` where name = 'P1'"
        );
    }

    #[test]
    fn roles_mapping_is_found_and_named_as_written() {
        let sql = "SELECT role FROM mysql.roles_mapping WHERE Role='r1'";
        assert_eq!(
            mysql_tables_read(sql, StatementKind::Select),
            vec![MysqlTable::RolesMapping]
        );
        assert_eq!(
            rewrite_mysql_tables(sql, |_| "S".into()),
            "SELECT role AS `role` FROM (S) AS `roles_mapping` WHERE Role='r1'"
        );
    }

    #[test]
    fn server_data_tables_are_named_and_statistics_replaced() {
        assert_eq!(
            server_data_tables_named(
                "RENAME TABLE mysql.time_zone TO `mysql`.`time_zone_BACKUP`, mysql.Time_Zone TO x"
            ),
            vec!["time_zone".to_string(), "time_zone_backup".to_string()]
        );
        assert!(server_data_tables_named("SELECT * FROM mysql.user").is_empty());
        assert_eq!(
            rewrite_statistics_tables(
                "select db_name, table_name from mysql.table_stats where 1",
                |t| format!("S{t}")
            ),
            "select db_name AS `db_name`, table_name AS `table_name` from (Stable_stats) AS `table_stats` where 1"
        );
        assert_eq!(
            rewrite_statistics_tables(
                "select * from mysql.column_stats c join mysql.time_zone",
                |t| format!("S{t}")
            ),
            "select * from (Scolumn_stats) c join mysql.time_zone"
        );
    }

    #[test]
    fn other_tables_routines_and_statements_are_left() {
        for sql in [
            "SELECT * FROM mysql.tables_priv",
            "SELECT mysql.user(1)",
            "SELECT * FROM t WHERE c = 'mysql.user'",
            "SELECT * FROM db.user",
        ] {
            assert!(
                mysql_tables_read(sql, StatementKind::Select).is_empty(),
                "{sql}"
            );
        }
        assert!(mysql_tables_read("DELETE FROM mysql.user", StatementKind::Delete).is_empty());
        assert_eq!(
            rewrite_mysql_tables("SELECT mysql.user.Host FROM mysql.user", |_| "S".into()),
            "SELECT user.Host FROM (S) AS `user`"
        );
    }
}
