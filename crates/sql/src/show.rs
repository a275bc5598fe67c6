//! `SHOW` statements the compute node answers from its catalog and session state instead
//! of forwarding: databases, tables, variables, status, columns, indexes, processlist,
//! warnings, engines, character sets, collations and table status. Anything else is
//! [`Show::Other`] and the caller decides (forward or refuse).

use crate::error::SqlError;
use crate::parser::Parser;
use crate::set::VarScope;

/// A possibly qualified name: `name` or `schema.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectName {
    /// Database qualifier, unquoted.
    pub schema: Option<String>,
    /// Object name, unquoted.
    pub name: String,
}

/// The `LIKE 'pattern'` or `WHERE expr` of a SHOW statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowFilter {
    /// The LIKE pattern's value.
    Like(String),
    /// The WHERE condition's source text.
    Where(String),
}

/// A parsed SHOW statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Show {
    /// `SHOW DATABASES|SCHEMAS [LIKE|WHERE]`.
    Databases {
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW [FULL] TABLES [FROM|IN db] [LIKE|WHERE]`.
    Tables {
        /// FULL adds the Table_type column.
        full: bool,
        /// FROM/IN database.
        db: Option<String>,
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW TABLE STATUS [FROM|IN db] [LIKE|WHERE]`.
    TableStatus {
        /// FROM/IN database.
        db: Option<String>,
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW [GLOBAL|SESSION] VARIABLES [LIKE|WHERE]`.
    Variables {
        /// GLOBAL or SESSION (the default).
        scope: VarScope,
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW [GLOBAL|SESSION] STATUS [LIKE|WHERE]`.
    Status {
        /// GLOBAL or SESSION (the default).
        scope: VarScope,
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW [FULL] COLUMNS|FIELDS FROM|IN t [FROM|IN db] [LIKE|WHERE]`.
    Columns {
        /// FULL adds collation, privileges and comment.
        full: bool,
        /// The table; a `FROM db` clause becomes its schema.
        table: ObjectName,
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW INDEX|INDEXES|KEYS FROM|IN t [FROM|IN db] [WHERE]`.
    Index {
        /// The table; a `FROM db` clause becomes its schema.
        table: ObjectName,
        /// WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW CREATE TABLE t`.
    CreateTable {
        /// The table.
        table: ObjectName,
    },
    /// `SHOW CREATE VIEW v`.
    CreateView {
        /// The view.
        view: ObjectName,
    },
    /// `SHOW CREATE DATABASE|SCHEMA [IF NOT EXISTS] db`.
    CreateDatabase {
        /// The database.
        db: String,
        /// IF NOT EXISTS was given.
        if_not_exists: bool,
    },
    /// `SHOW OPEN TABLES [FROM|IN db] [LIKE|WHERE]`.
    OpenTables {
        /// FROM/IN database.
        db: Option<String>,
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW [FULL] PROCESSLIST`.
    ProcessList {
        /// FULL shows whole statements.
        full: bool,
    },
    /// `SHOW WARNINGS [LIMIT [offset,] n]`.
    Warnings {
        /// LIMIT clause.
        limit: Option<Limit>,
    },
    /// `SHOW ERRORS [LIMIT [offset,] n]`.
    Errors {
        /// LIMIT clause.
        limit: Option<Limit>,
    },
    /// `SHOW [STORAGE] ENGINES`.
    Engines,
    /// `SHOW CHARSET|CHARACTER SET [LIKE|WHERE]`.
    Charset {
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW COLLATION [LIKE|WHERE]`.
    Collation {
        /// LIKE/WHERE filter.
        filter: Option<ShowFilter>,
    },
    /// `SHOW ABNORMAL_XA_TRX` (HotDB's name): distributed transactions whose commit
    /// did not finish on every data node, and branches recovery finished recently.
    AbnormalXaTrx,
    /// Any other SHOW statement.
    Other,
}

/// A `LIMIT [offset,] count` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Rows skipped.
    pub offset: u64,
    /// Rows returned at most.
    pub count: u64,
}

/// Parses a SHOW statement.
pub fn parse_show(sql: &str) -> Result<Show, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("SHOW")?;
    let mut full = false;
    let mut extended = false;
    loop {
        if p.eat_keyword("FULL") {
            full = true;
        } else if p.eat_keyword("EXTENDED") {
            extended = true;
        } else {
            break;
        }
    }
    let scope = match p.eat_one_of(&["GLOBAL", "SESSION", "LOCAL"]) {
        Some(0) => Some(VarScope::Global),
        Some(_) => Some(VarScope::Session),
        None => None,
    };
    let Some(word) = p.peek() else {
        return Err(p.error("what to show"));
    };
    let word = p.text(word).to_ascii_uppercase();
    // Which modifiers each form takes; anything else is a syntax error, as in MySQL.
    let (takes_full, takes_extended, takes_scope) = match word.as_str() {
        "TABLES" | "PROCESSLIST" => (true, false, false),
        "COLUMNS" | "FIELDS" => (true, true, false),
        "INDEX" | "INDEXES" | "KEYS" => (false, true, false),
        "VARIABLES" | "STATUS" => (false, false, true),
        _ => (false, false, false),
    };
    if (full && !takes_full) || (extended && !takes_extended) || (scope.is_some() && !takes_scope) {
        return Err(p.error("SHOW statement"));
    }
    p.advance();
    let show = match word.as_str() {
        "DATABASES" | "SCHEMAS" => Show::Databases {
            filter: filter(&mut p)?,
        },
        "TABLES" => {
            let db = from_db(&mut p)?;
            Show::Tables {
                full,
                db,
                filter: filter(&mut p)?,
            }
        }
        "TABLE" => {
            p.expect_keyword("STATUS")?;
            let db = from_db(&mut p)?;
            Show::TableStatus {
                db,
                filter: filter(&mut p)?,
            }
        }
        "VARIABLES" => Show::Variables {
            scope: scope.unwrap_or(VarScope::Session),
            filter: filter(&mut p)?,
        },
        "STATUS" => Show::Status {
            scope: scope.unwrap_or(VarScope::Session),
            filter: filter(&mut p)?,
        },
        "COLUMNS" | "FIELDS" => {
            let table = from_table(&mut p)?;
            Show::Columns {
                full,
                table,
                filter: filter(&mut p)?,
            }
        }
        "INDEX" | "INDEXES" | "KEYS" => {
            let table = from_table(&mut p)?;
            let filter = if p.eat_keyword("WHERE") {
                Some(ShowFilter::Where(p.rest_text()?.to_string()))
            } else {
                None
            };
            Show::Index { table, filter }
        }
        "CREATE" => match p.eat_one_of(&["TABLE", "VIEW", "DATABASE", "SCHEMA"]) {
            Some(0) => Show::CreateTable {
                table: object_name(&mut p)?,
            },
            Some(1) => Show::CreateView {
                view: object_name(&mut p)?,
            },
            Some(_) => {
                let if_not_exists = p.eat_keyword("IF");
                if if_not_exists {
                    p.expect_keyword("NOT")?;
                    p.expect_keyword("EXISTS")?;
                }
                Show::CreateDatabase {
                    db: p.ident()?,
                    if_not_exists,
                }
            }
            None => return Ok(Show::Other),
        },
        "OPEN" if p.peek_is_keyword("TABLES") => {
            p.advance();
            let db = from_db(&mut p)?;
            Show::OpenTables {
                db,
                filter: filter(&mut p)?,
            }
        }
        "PROCESSLIST" => Show::ProcessList { full },
        "ABNORMAL_XA_TRX" => Show::AbnormalXaTrx,
        "WARNINGS" => Show::Warnings {
            limit: limit(&mut p)?,
        },
        "ERRORS" => Show::Errors {
            limit: limit(&mut p)?,
        },
        "ENGINES" => Show::Engines,
        "STORAGE" => {
            p.expect_keyword("ENGINES")?;
            Show::Engines
        }
        "CHARSET" => Show::Charset {
            filter: filter(&mut p)?,
        },
        "CHARACTER" => {
            p.expect_keyword("SET")?;
            Show::Charset {
                filter: filter(&mut p)?,
            }
        }
        "COLLATION" => Show::Collation {
            filter: filter(&mut p)?,
        },
        _ => return Ok(Show::Other),
    };
    p.expect_end()?;
    Ok(show)
}

fn filter(p: &mut Parser<'_>) -> Result<Option<ShowFilter>, SqlError> {
    if p.eat_keyword("LIKE") {
        Ok(Some(ShowFilter::Like(p.string()?)))
    } else if p.eat_keyword("WHERE") {
        Ok(Some(ShowFilter::Where(p.rest_text()?.to_string())))
    } else {
        Ok(None)
    }
}

fn from_db(p: &mut Parser<'_>) -> Result<Option<String>, SqlError> {
    if p.eat_one_of(&["FROM", "IN"]).is_some() {
        Ok(Some(p.ident()?))
    } else {
        Ok(None)
    }
}

/// `FROM|IN t [FROM|IN db]` (or `FROM db.t`).
fn from_table(p: &mut Parser<'_>) -> Result<ObjectName, SqlError> {
    if p.eat_one_of(&["FROM", "IN"]).is_none() {
        return Err(p.error("FROM"));
    }
    let mut table = object_name(p)?;
    if let Some(db) = from_db(p)? {
        table.schema = Some(db);
    }
    Ok(table)
}

/// `name` or `schema.name`.
pub(crate) fn object_name(p: &mut Parser<'_>) -> Result<ObjectName, SqlError> {
    let first = p.ident()?;
    if p.eat_punct(".") {
        Ok(ObjectName {
            schema: Some(first),
            name: p.ident()?,
        })
    } else {
        Ok(ObjectName {
            schema: None,
            name: first,
        })
    }
}

fn limit(p: &mut Parser<'_>) -> Result<Option<Limit>, SqlError> {
    if !p.eat_keyword("LIMIT") {
        return Ok(None);
    }
    let first = p.unsigned()?;
    if p.eat_punct(",") {
        return Ok(Some(Limit {
            offset: first,
            count: p.unsigned()?,
        }));
    }
    if p.eat_keyword("OFFSET") {
        return Ok(Some(Limit {
            offset: p.unsigned()?,
            count: first,
        }));
    }
    Ok(Some(Limit {
        offset: 0,
        count: first,
    }))
}

/// `DESCRIBE t [col | 'pattern']` (also `DESC`, `EXPLAIN`) as the `SHOW COLUMNS FROM t
/// [LIKE 'pattern']` MariaDB treats it as; None for `EXPLAIN <statement>` and the like.
/// Strata answers `SHOW COLUMNS` of information_schema tables itself, which a
/// `DESCRIBE` of one must match.
pub fn describe_as_show_columns(sql: &str) -> Option<String> {
    use crate::lexer::{code_tokens, ident_value, TokenKind};
    let toks: Vec<_> = code_tokens(sql).collect();
    let first = toks.first()?;
    if !["DESC", "DESCRIBE", "EXPLAIN"]
        .iter()
        .any(|k| first.is_keyword(sql, k))
    {
        return None;
    }
    let mut i = 1;
    let mut table = String::new();
    loop {
        let t = toks.get(i)?;
        if !t.kind.is_ident() {
            return None;
        }
        if i == 1 && t.kind == TokenKind::Ident {
            // `EXPLAIN SELECT`, `EXPLAIN FORMAT=JSON`, `DESCRIBE EXTENDED`, ...
            const STATEMENT_WORDS: &[&str] = &[
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                "REPLACE",
                "WITH",
                "TABLE",
                "VALUES",
                "FORMAT",
                "EXTENDED",
                "PARTITIONS",
                "ANALYZE",
                "FOR",
            ];
            if STATEMENT_WORDS.iter().any(|k| t.is_keyword(sql, k)) {
                return None;
            }
        }
        table.push_str(t.text(sql));
        i += 1;
        if toks.get(i).is_some_and(|t| t.is_punct(sql, ".")) && table.find('.').is_none() {
            table.push('.');
            i += 1;
            continue;
        }
        break;
    }
    let pattern = match toks.get(i) {
        None => return Some(format!("SHOW COLUMNS FROM {table}")),
        Some(t) if t.kind == TokenKind::String => t.text(sql).to_string(),
        Some(t) if t.kind.is_ident() => {
            let name = ident_value(t.text(sql));
            format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        Some(_) => return None,
    };
    (i + 1 == toks.len()).then(|| format!("SHOW COLUMNS FROM {table} LIKE {pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::assert_syntax_errors;
    use Show as S;

    fn name(schema: Option<&str>, name: &str) -> ObjectName {
        ObjectName {
            schema: schema.map(String::from),
            name: name.into(),
        }
    }

    fn like(p: &str) -> Option<ShowFilter> {
        Some(ShowFilter::Like(p.into()))
    }

    fn filter_where(p: &str) -> Option<ShowFilter> {
        Some(ShowFilter::Where(p.into()))
    }

    #[test]
    fn parses_show_statements() {
        let cases = [
            ("SHOW DATABASES", S::Databases { filter: None }),
            ("show schemas like 'app%'", S::Databases { filter: like("app%") }),
            ("SHOW DATABASES WHERE `Database` = 'x'", S::Databases { filter: filter_where("`Database` = 'x'") }),
            ("SHOW TABLES", S::Tables { full: false, db: None, filter: None }),
            ("SHOW FULL TABLES FROM `shop` LIKE 'o\\_%'", S::Tables { full: true, db: Some("shop".into()), filter: like("o\\_%") }),
            ("SHOW FULL TABLES IN shop WHERE Table_type = 'VIEW'", S::Tables { full: true, db: Some("shop".into()), filter: filter_where("Table_type = 'VIEW'") }),
            ("SHOW TABLE STATUS", S::TableStatus { db: None, filter: None }),
            ("SHOW TABLE STATUS FROM shop LIKE 'orders'", S::TableStatus { db: Some("shop".into()), filter: like("orders") }),
            ("SHOW VARIABLES", S::Variables { scope: VarScope::Session, filter: None }),
            ("SHOW GLOBAL VARIABLES LIKE 'max_allowed_packet'", S::Variables { scope: VarScope::Global, filter: like("max_allowed_packet") }),
            ("SHOW SESSION VARIABLES LIKE 'lower_case_%'", S::Variables { scope: VarScope::Session, filter: like("lower_case_%") }),
            ("show local status", S::Status { scope: VarScope::Session, filter: None }),
            ("SHOW GLOBAL STATUS WHERE Variable_name = 'Uptime'", S::Status { scope: VarScope::Global, filter: filter_where("Variable_name = 'Uptime'") }),
            ("SHOW COLUMNS FROM t", S::Columns { full: false, table: name(None, "t"), filter: None }),
            ("SHOW FULL COLUMNS FROM `shop`.`orders` LIKE 'id'", S::Columns { full: true, table: name(Some("shop"), "orders"), filter: like("id") }),
            ("SHOW FIELDS IN orders FROM shop", S::Columns { full: false, table: name(Some("shop"), "orders"), filter: None }),
            ("SHOW EXTENDED FULL COLUMNS FROM t", S::Columns { full: true, table: name(None, "t"), filter: None }),
            ("SHOW INDEX FROM t", S::Index { table: name(None, "t"), filter: None }),
            ("SHOW INDEXES IN t FROM db", S::Index { table: name(Some("db"), "t"), filter: None }),
            ("SHOW KEYS FROM db.t WHERE Key_name = 'PRIMARY'", S::Index { table: name(Some("db"), "t"), filter: filter_where("Key_name = 'PRIMARY'") }),
            ("SHOW CREATE TABLE `shop`.`orders`", S::CreateTable { table: name(Some("shop"), "orders") }),
            ("show create table t;", S::CreateTable { table: name(None, "t") }),
            ("SHOW CREATE VIEW v", S::CreateView { view: name(None, "v") }),
            ("SHOW CREATE DATABASE shop", S::CreateDatabase { db: "shop".into(), if_not_exists: false }),
            ("SHOW CREATE SCHEMA IF NOT EXISTS `s`", S::CreateDatabase { db: "s".into(), if_not_exists: true }),
            ("SHOW PROCESSLIST", S::ProcessList { full: false }),
            ("SHOW FULL PROCESSLIST", S::ProcessList { full: true }),
            ("SHOW ABNORMAL_XA_TRX", S::AbnormalXaTrx),
            ("SHOW WARNINGS", S::Warnings { limit: None }),
            ("SHOW WARNINGS LIMIT 5", S::Warnings { limit: Some(Limit { offset: 0, count: 5 }) }),
            ("SHOW ERRORS LIMIT 2, 3", S::Errors { limit: Some(Limit { offset: 2, count: 3 }) }),
            ("SHOW ENGINES", S::Engines),
            ("SHOW STORAGE ENGINES", S::Engines),
            ("SHOW CHARSET", S::Charset { filter: None }),
            ("SHOW CHARACTER SET LIKE 'utf8%'", S::Charset { filter: like("utf8%") }),
            ("SHOW COLLATION WHERE Charset = 'utf8mb4'", S::Collation { filter: filter_where("Charset = 'utf8mb4'") }),
            ("SHOW MASTER STATUS", S::Other),
            ("SHOW GRANTS FOR CURRENT_USER", S::Other),
            ("SHOW CREATE PROCEDURE p", S::Other),
            ("SHOW SLAVE HOSTS", S::Other),
            // Connector/J 5.1 at connect time.
            (
                "SHOW VARIABLES WHERE Variable_name ='language' OR Variable_name = 'net_write_timeout' OR Variable_name = 'interactive_timeout'",
                S::Variables {
                    scope: VarScope::Session,
                    filter: filter_where("Variable_name ='language' OR Variable_name = 'net_write_timeout' OR Variable_name = 'interactive_timeout'"),
                },
            ),
            ("/* ApplicationName=DBeaver */ SHOW FULL TABLES FROM `app`", S::Tables { full: true, db: Some("app".into()), filter: None }),
        ];
        for (sql, expected) in cases {
            assert_eq!(parse_show(sql), Ok(expected), "parsing {sql}");
        }
    }

    #[test]
    fn malformed_show_statements_are_syntax_errors() {
        assert_syntax_errors(
            parse_show,
            &[
                ("SHOW", ""),
                ("SHOW FULL DATABASES", "DATABASES"),
                ("SHOW GLOBAL TABLES", "TABLES"),
                ("SHOW TABLES FROM", ""),
                ("SHOW TABLES LIKE", ""),
                ("SHOW TABLES LIKE x", "x"),
                ("SHOW TABLES WHERE", ""),
                ("SHOW COLUMNS t", "t"),
                ("SHOW COLUMNS FROM", ""),
                ("SHOW CREATE TABLE", ""),
                ("SHOW TABLE", ""),
                ("SHOW DATABASES extra", "extra"),
                ("SHOW WARNINGS LIMIT x", "x"),
            ],
        );
    }

    #[test]
    fn describe_reads_as_show_columns() {
        for (sql, want) in [
            ("DESCRIBE t", Some("SHOW COLUMNS FROM t")),
            (
                "desc INFORMATION_SCHEMA.PARAMETERS",
                Some("SHOW COLUMNS FROM INFORMATION_SCHEMA.PARAMETERS"),
            ),
            (
                "DESCRIBE `db`.`t` a",
                Some("SHOW COLUMNS FROM `db`.`t` LIKE 'a'"),
            ),
            ("EXPLAIN t 'a%'", Some("SHOW COLUMNS FROM t LIKE 'a%'")),
            (
                "DESCRIBE t `it's`",
                Some("SHOW COLUMNS FROM t LIKE 'it\\'s'"),
            ),
            ("EXPLAIN SELECT 1", None),
            ("EXPLAIN FORMAT=JSON SELECT 1", None),
            ("DESCRIBE EXTENDED SELECT 1", None),
            ("DESCRIBE t a b", None),
            ("DESCRIBE a.b.c", None),
        ] {
            assert_eq!(describe_as_show_columns(sql).as_deref(), want, "{sql}");
        }
    }
}
