//! `CREATE DATABASE` and `DROP DATABASE` (or `SCHEMA`): the session creates and drops
//! logical databases itself, so it needs the name, the IF [NOT] EXISTS flag, the MySQL
//! options to pass to the storage nodes as written, and HotDB's `DEFAULT DATANODE` list.
//!
//! ```sql
//! CREATE [OR REPLACE] {DATABASE | SCHEMA} [IF NOT EXISTS] db
//!     [[DEFAULT] {CHARACTER SET | CHARSET} [=] cs] [[DEFAULT] COLLATE [=] coll]
//!     [COMMENT [=] 'text'] [DEFAULT DATANODE '1,3-4'] [RW_SPLIT [=] 'replicas']
//! DROP {DATABASE | SCHEMA} [IF EXISTS] db
//! ALTER {DATABASE | SCHEMA} [db] [[DEFAULT] {CHARACTER SET | CHARSET} [=] cs]
//!     [[DEFAULT] COLLATE [=] coll] [COMMENT [=] 'text'] [RW_SPLIT [=] 'replicas']
//! ```
//!
//! Any other ALTER DATABASE (`UPGRADE DATA DIRECTORY NAME`) is not a database statement
//! here (the guard refuses it).

use crate::ddl::parse_data_nodes;
use crate::error::SqlError;
use crate::parser::Parser;

/// A parsed CREATE or DROP DATABASE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseStatement {
    /// `CREATE DATABASE ...`.
    Create(CreateDatabase),
    /// `DROP DATABASE [IF EXISTS] name`.
    Drop {
        /// The logical database, unquoted.
        name: String,
        /// `IF EXISTS` was given.
        if_exists: bool,
    },
    /// `ALTER DATABASE [name] [options] [RW_SPLIT 'mode']`.
    Alter {
        /// The logical database, unquoted; None for the current database.
        name: Option<String>,
        /// Character set, collation and comment options as written, for the storage
        /// nodes (empty when none were given).
        options: String,
        /// `RW_SPLIT '...'` (Strata's own): the mode as written.
        rw_split: Option<String>,
    },
}

/// `CREATE DATABASE` with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDatabase {
    /// The logical database, unquoted.
    pub name: String,
    /// `IF NOT EXISTS` was given.
    pub if_not_exists: bool,
    /// MariaDB's `CREATE OR REPLACE DATABASE` (drop first if it exists).
    pub or_replace: bool,
    /// Character set, collation and comment options as written, for the storage nodes
    /// (empty when none were given).
    pub options: String,
    /// `DEFAULT DATANODE '...'`: the data nodes the database spans.
    pub data_nodes: Option<Vec<u32>>,
    /// `RW_SPLIT '...'` (Strata's own): the read/write splitting mode as written.
    pub rw_split: Option<String>,
}

/// The database of `ALTER {DATABASE | SCHEMA} name UPGRADE DATA DIRECTORY NAME`, unquoted;
/// None for any other statement.
pub fn upgrade_directory_name(sql: &str) -> Option<String> {
    let mut p = Parser::new(sql);
    if !p.eat_keyword("ALTER") || p.eat_one_of(&["DATABASE", "SCHEMA"]).is_none() {
        return None;
    }
    let name = p.ident().ok()?;
    for word in ["UPGRADE", "DATA", "DIRECTORY", "NAME"] {
        if !p.eat_keyword(word) {
            return None;
        }
    }
    p.eat_punct(";");
    p.at_end().then_some(name)
}

/// True when `sql` is a CREATE, DROP or ALTER of a DATABASE or SCHEMA (cheap: looks at
/// the first keywords only; an ALTER is one when it parses).
pub fn is_database_statement(sql: &str) -> bool {
    let mut p = Parser::new(sql);
    if p.eat_keyword("ALTER") {
        return (p.peek_is_keyword("DATABASE") || p.peek_is_keyword("SCHEMA"))
            && matches!(
                parse_database_statement(sql),
                Ok(DatabaseStatement::Alter { .. })
            );
    }
    if p.eat_keyword("CREATE") {
        if p.eat_keyword("OR") && !p.eat_keyword("REPLACE") {
            return false;
        }
    } else if !p.eat_keyword("DROP") {
        return false;
    }
    p.peek_is_keyword("DATABASE") || p.peek_is_keyword("SCHEMA")
}

/// Parses a CREATE or DROP DATABASE statement.
pub fn parse_database_statement(sql: &str) -> Result<DatabaseStatement, SqlError> {
    let mut p = Parser::new(sql);
    if p.eat_keyword("DROP") {
        expect_database(&mut p)?;
        let if_exists = p.peek_is_keyword("IF") && p.peek_at_is_keyword(1, "EXISTS");
        if if_exists {
            p.advance();
            p.advance();
        }
        let name = p.ident()?;
        p.expect_end()?;
        return Ok(DatabaseStatement::Drop { name, if_exists });
    }
    if p.eat_keyword("ALTER") {
        expect_database(&mut p)?;
        const OPTION_WORDS: &[&str] = &[
            "DEFAULT",
            "CHARACTER",
            "CHARSET",
            "COLLATE",
            "COMMENT",
            "RW_SPLIT",
        ];
        let named = !OPTION_WORDS.iter().any(|w| p.peek_is_keyword(w));
        let name = if named { Some(p.ident()?) } else { None };
        let (options, data_nodes, rw_split) = database_options(&mut p)?;
        if data_nodes.is_some() || (options.is_empty() && rw_split.is_none()) {
            return Err(p.error("CHARACTER SET, COLLATE, COMMENT or RW_SPLIT"));
        }
        return Ok(DatabaseStatement::Alter {
            name,
            options,
            rw_split,
        });
    }
    p.expect_keyword("CREATE")?;
    let or_replace = p.eat_keyword("OR");
    if or_replace {
        p.expect_keyword("REPLACE")?;
    }
    expect_database(&mut p)?;
    let if_not_exists = p.peek_is_keyword("IF") && p.peek_at_is_keyword(1, "NOT");
    if if_not_exists {
        p.advance();
        p.advance();
        p.expect_keyword("EXISTS")?;
    }
    let name = p.ident()?;
    let (options, data_nodes, rw_split) = database_options(&mut p)?;
    Ok(DatabaseStatement::Create(CreateDatabase {
        name,
        if_not_exists,
        or_replace,
        options,
        data_nodes,
        rw_split,
    }))
}

/// A database's options to the end of the statement: MySQL's as written (for the
/// storage nodes), `DEFAULT DATANODE '...'` and `RW_SPLIT '...'`.
type DatabaseOptions = (String, Option<Vec<u32>>, Option<String>);

fn database_options(p: &mut Parser<'_>) -> Result<DatabaseOptions, SqlError> {
    let mut options: Vec<String> = Vec::new();
    let mut data_nodes = None;
    let mut rw_split = None;
    while !p.at_end() {
        if p.eat_keyword("RW_SPLIT") {
            p.eat_punct("=");
            rw_split = Some(p.string()?);
            continue;
        }
        let default = p.eat_keyword("DEFAULT");
        if p.eat_keyword("DATANODE") {
            p.eat_punct("=");
            let spec = p.string()?;
            let nodes = parse_data_nodes(&spec)
                .ok_or_else(|| p.error("a data node list such as '1,3,5-8'"))?;
            data_nodes = Some(nodes);
            continue;
        }
        let keyword = if p.eat_keyword("CHARACTER") {
            p.expect_keyword("SET")?;
            "CHARACTER SET"
        } else if p.eat_keyword("CHARSET") {
            "CHARACTER SET"
        } else if p.eat_keyword("COLLATE") {
            "COLLATE"
        } else if !default && p.eat_keyword("COMMENT") {
            "COMMENT"
        } else {
            return Err(p.error("CHARACTER SET, COLLATE, COMMENT, DEFAULT DATANODE or RW_SPLIT"));
        };
        p.eat_punct("=");
        let value = match p.peek() {
            Some(t) if keyword == "COMMENT" && t.kind == crate::lexer::TokenKind::String => t,
            Some(t) if keyword != "COMMENT" && (t.kind.is_ident() || t.kind.is_literal()) => t,
            _ => return Err(p.error("a name")),
        };
        p.advance();
        options.push(format!("{keyword} {}", p.text(value)));
    }
    Ok((options.join(" "), data_nodes, rw_split))
}

fn expect_database(p: &mut Parser<'_>) -> Result<(), SqlError> {
    if p.eat_keyword("DATABASE") || p.eat_keyword("SCHEMA") {
        Ok(())
    } else {
        Err(p.error("DATABASE"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(name: &str, ine: bool, options: &str, nodes: Option<Vec<u32>>) -> DatabaseStatement {
        DatabaseStatement::Create(CreateDatabase {
            name: name.into(),
            if_not_exists: ine,
            or_replace: false,
            options: options.into(),
            data_nodes: nodes,
            rw_split: None,
        })
    }

    #[test]
    fn rw_split_is_strata_s_own_clause_also_inside_a_versioned_comment() {
        for sql in [
            "CREATE DATABASE d DEFAULT DATANODE '1-2' RW_SPLIT 'replicas'",
            "CREATE DATABASE d RW_SPLIT = 'replicas' DEFAULT DATANODE '1-2'",
            "CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 */ /*!999999 DEFAULT DATANODE '1-2' RW_SPLIT 'replicas' */",
        ] {
            let Ok(DatabaseStatement::Create(c)) = parse_database_statement(sql) else {
                panic!("{sql}");
            };
            assert_eq!(c.rw_split.as_deref(), Some("replicas"), "{sql}");
            assert_eq!(c.data_nodes, Some(vec![1, 2]), "{sql}");
        }
        assert!(parse_database_statement("CREATE DATABASE d RW_SPLIT replicas").is_err());
        assert_eq!(
            parse_database_statement("alter schema `d` rw_split = 'off';"),
            Ok(DatabaseStatement::Alter {
                name: Some("d".into()),
                options: String::new(),
                rw_split: Some("off".into())
            })
        );
        assert_eq!(
            parse_database_statement("ALTER SCHEMA DEFAULT CHARSET = utf8 COMMENT 'c'"),
            Ok(DatabaseStatement::Alter {
                name: None,
                options: "CHARACTER SET utf8 COMMENT 'c'".into(),
                rw_split: None
            })
        );
        for sql in [
            "ALTER DATABASE d RW_SPLIT 'replicas'",
            "ALTER DATABASE d CHARACTER SET latin1",
            "ALTER DATABASE COLLATE latin1_bin",
        ] {
            assert!(is_database_statement(sql), "{sql}");
        }
        for sql in [
            "ALTER TABLE d RW_SPLIT 'replicas'",
            "ALTER DATABASE d UPGRADE DATA DIRECTORY NAME",
            "ALTER DATABASE d",
            "ALTER DATABASE d DEFAULT DATANODE '1'",
        ] {
            assert!(!is_database_statement(sql), "{sql}");
        }
    }

    #[test]
    fn parses_create_and_drop() {
        let cases = [
            ("CREATE DATABASE shop", create("shop", false, "", None)),
            (
                "create schema if not exists `my db`;",
                create("my db", true, "", None),
            ),
            (
                "CREATE DATABASE d DEFAULT CHARACTER SET = latin1 COLLATE latin1_bin",
                create("d", false, "CHARACTER SET latin1 COLLATE latin1_bin", None),
            ),
            (
                "CREATE DATABASE d CHARSET 'utf8mb4' COMMENT = 'x y'",
                create("d", false, "CHARACTER SET 'utf8mb4' COMMENT 'x y'", None),
            ),
            (
                "CREATE DATABASE shop DEFAULT DATANODE '1,3-4'",
                create("shop", false, "", Some(vec![1, 3, 4])),
            ),
            (
                "DROP DATABASE IF EXISTS mysqltest",
                DatabaseStatement::Drop {
                    name: "mysqltest".into(),
                    if_exists: true,
                },
            ),
            (
                "drop schema `a``b`",
                DatabaseStatement::Drop {
                    name: "a`b".into(),
                    if_exists: false,
                },
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(parse_database_statement(sql), Ok(want), "{sql}");
        }
        let replace = parse_database_statement("CREATE OR REPLACE DATABASE d");
        assert!(
            matches!(replace, Ok(DatabaseStatement::Create(c)) if c.or_replace && c.name == "d")
        );
    }

    #[test]
    fn malformed_statements_are_syntax_errors() {
        for sql in [
            "CREATE DATABASE",
            "CREATE DATABASE d CHARACTER latin1",
            "CREATE DATABASE d DEFAULT DATANODE 'x'",
            "CREATE DATABASE d ENGINE=InnoDB",
            "DROP DATABASE a b",
            "DROP DATABASE IF NOT EXISTS a",
        ] {
            assert!(
                matches!(parse_database_statement(sql), Err(SqlError::Syntax { .. })),
                "{sql}"
            );
        }
    }

    #[test]
    fn recognises_database_statements_only() {
        for (sql, want) in [
            ("CREATE DATABASE d", true),
            ("create or replace schema d", true),
            ("/* x */ DROP SCHEMA IF EXISTS d", true),
            ("CREATE TABLE database (a int)", false),
            ("DROP TABLE d", false),
            ("CREATE OR DATABASE d", false),
            ("SELECT 1", false),
        ] {
            assert_eq!(is_database_statement(sql), want, "{sql}");
        }
    }
}
