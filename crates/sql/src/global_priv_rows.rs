//! The writes of `mysql.global_priv` rows that mysql-test's includes make to add and
//! remove the anonymous account (`add_anonymous_users.inc`,
//! `delete_anonymous_users.inc`): `INSERT [IGNORE] INTO mysql.global_priv (host, user)
//! VALUES ('localhost', '')` and `DELETE FROM mysql.global_priv WHERE host = 'localhost'
//! AND user = ''`. Strata's accounts are its own, so these exact forms are run as
//! account changes; any other write of the storage servers' `mysql` stays refused.

use crate::account::UserName;
use crate::parser::Parser;

/// A write of whole `mysql.global_priv` rows by account name alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalPrivWrite {
    /// `INSERT [IGNORE] INTO mysql.global_priv (host, user) VALUES ...`: each row an
    /// account without password or privilege.
    Insert {
        /// IGNORE: an existing account is a warning, not error 1062.
        ignore: bool,
        /// The rows' accounts, in order.
        rows: Vec<UserName>,
    },
    /// `DELETE FROM mysql.global_priv WHERE host = 'h' AND user = 'u'`.
    Delete {
        /// The account whose row goes.
        account: UserName,
    },
}

/// The write `sql` makes when it is one of the forms above; None for anything else.
pub fn global_priv_write(sql: &str) -> Option<GlobalPrivWrite> {
    let mut p = Parser::new(sql);
    if p.eat_keyword("INSERT") {
        let ignore = p.eat_keyword("IGNORE");
        p.eat_keyword("INTO");
        global_priv_table(&mut p)?;
        p.eat_punct("(").then_some(())?;
        let first = host_or_user(&mut p)?;
        p.eat_punct(",").then_some(())?;
        let second = host_or_user(&mut p)?;
        (first != second && p.eat_punct(")")).then_some(())?;
        p.eat_one_of(&["VALUES", "VALUE"])?;
        let mut rows = Vec::new();
        loop {
            p.eat_punct("(").then_some(())?;
            let a = p.string().ok()?;
            p.eat_punct(",").then_some(())?;
            let b = p.string().ok()?;
            p.eat_punct(")").then_some(())?;
            rows.push(if first == Column::Host {
                UserName::new(b, a)
            } else {
                UserName::new(a, b)
            });
            if !p.eat_punct(",") {
                break;
            }
        }
        return p
            .at_end()
            .then_some(GlobalPrivWrite::Insert { ignore, rows });
    }
    if p.eat_keyword("DELETE") {
        p.eat_keyword("FROM").then_some(())?;
        global_priv_table(&mut p)?;
        p.eat_keyword("WHERE").then_some(())?;
        let (c1, v1) = equality(&mut p)?;
        p.eat_keyword("AND").then_some(())?;
        let (c2, v2) = equality(&mut p)?;
        if c1 == c2 || !p.at_end() {
            return None;
        }
        let account = if c1 == Column::Host {
            UserName::new(v2, v1)
        } else {
            UserName::new(v1, v2)
        };
        return Some(GlobalPrivWrite::Delete { account });
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Host,
    User,
}

/// `mysql.global_priv` (the database named, as the includes name it).
fn global_priv_table(p: &mut Parser<'_>) -> Option<()> {
    let db = p.ident().ok()?;
    p.eat_punct(".").then_some(())?;
    let table = p.ident().ok()?;
    (db == "mysql" && table.eq_ignore_ascii_case("global_priv")).then_some(())
}

fn host_or_user(p: &mut Parser<'_>) -> Option<Column> {
    let name = p.ident().ok()?;
    if name.eq_ignore_ascii_case("host") {
        Some(Column::Host)
    } else if name.eq_ignore_ascii_case("user") {
        Some(Column::User)
    } else {
        None
    }
}

/// `host = 'literal'` or `user = 'literal'`.
fn equality(p: &mut Parser<'_>) -> Option<(Column, String)> {
    let column = host_or_user(p)?;
    p.eat_punct("=").then_some(())?;
    Some((column, p.string().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_anonymous_user_includes() {
        assert_eq!(
            global_priv_write(
                "INSERT IGNORE INTO mysql.global_priv (host, user) VALUES ('localhost','')"
            ),
            Some(GlobalPrivWrite::Insert {
                ignore: true,
                rows: vec![UserName::new("", "localhost")],
            })
        );
        assert_eq!(
            global_priv_write(
                "insert into mysql.global_priv (user, host) values ('a', '%'), ('b','h');"
            ),
            Some(GlobalPrivWrite::Insert {
                ignore: false,
                rows: vec![UserName::new("a", "%"), UserName::new("b", "h")],
            })
        );
        assert_eq!(
            global_priv_write("DELETE FROM mysql.global_priv where host='localhost' and user=''"),
            Some(GlobalPrivWrite::Delete {
                account: UserName::new("", "localhost"),
            })
        );
        assert_eq!(
            global_priv_write("DELETE FROM mysql.global_priv WHERE user = 'u' AND host = 'h'"),
            Some(GlobalPrivWrite::Delete {
                account: UserName::new("u", "h"),
            })
        );
    }

    #[test]
    fn other_writes_are_not_read() {
        for sql in [
            "INSERT INTO mysql.global_priv (host, user, priv) VALUES ('h','u','{}')",
            "INSERT INTO mysql.global_priv VALUES ('h','u','{}')",
            "INSERT INTO mysql.global_priv (host, host) VALUES ('h','u')",
            "INSERT INTO mysql.global_priv (host, user) SELECT 'h', 'u'",
            "INSERT INTO mysql.global_priv (host, user) VALUES ('h', CONCAT('u'))",
            "INSERT INTO mysql.global_priv (host, user) VALUES ('h','u') ON DUPLICATE KEY UPDATE priv = '{}'",
            "INSERT INTO mysql.user (host, user) VALUES ('h','u')",
            "INSERT INTO other.global_priv (host, user) VALUES ('h','u')",
            "DELETE FROM mysql.global_priv",
            "DELETE FROM mysql.global_priv WHERE host = 'h'",
            "DELETE FROM mysql.global_priv WHERE host = 'h' OR user = 'u'",
            "DELETE FROM mysql.global_priv WHERE host = 'h' AND user = 'u' AND 1",
            "DELETE FROM mysql.global_priv WHERE host = 'h' AND host = 'u'",
            "DELETE FROM mysql.global_priv WHERE host LIKE 'h' AND user = 'u'",
            "DELETE mysql.global_priv FROM mysql.global_priv WHERE host = 'h' AND user = 'u'",
            "REPLACE INTO mysql.global_priv (host, user) VALUES ('h','u')",
        ] {
            assert_eq!(global_priv_write(sql), None, "{sql}");
        }
    }
}
