//! HotDB's `SHARD BY` extension of CREATE TABLE: finds the clause (it may stand before or
//! after the column list, or among the table options), parses it, and returns it with the
//! remaining CREATE TABLE text, byte-identical except for the removed clause, so the text
//! can be sent to MySQL data nodes. The planner turns the clause into a distribution.
//!
//! Grammar (keywords case-insensitive, values in single or double quotes):
//!
//! ```text
//! SHARD BY FUNCTIONTYPE 'auto_crc32' USING COLUMN 'c' [ON DATANODE '1,3,5-8']
//! SHARD BY {FUNCTIONNAME | FUNCTIONID} 'f' USING COLUMN 'c' [ON DATANODE '...']
//! SHARD BY {RULENAME | RULEID} 'r' [USING COLUMN 'c'] [ON DATANODE '...']
//! SHARD BY GLOBAL [ON DATANODE '...']
//! SHARD BY VERTICAL ON DATANODE '2'
//! SHARD BY CHILD OF parent(parent_column) USING COLUMN 'child_column'
//! ```
//!
//! The child clause is Strata's: a row of the new table lives on the data node of the
//! `parent` row whose `parent_column` equals the row's `child_column`; `parent_column` must
//! be the parent's sharding column. Names in it may be backquoted.

use crate::error::SqlError;
use crate::lexer::{ident_value, string_value, Lexer, Token, TokenKind};

/// A parsed `SHARD BY` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardClause {
    /// `FUNCTIONTYPE 'auto_crc32' USING COLUMN 'c' [ON DATANODE ..]`: an automatic
    /// function over a node list.
    FunctionType {
        /// Function type as written (`auto_crc32`, `auto_mod`, ...).
        function: String,
        /// Sharding column.
        column: String,
        /// Data nodes, if listed.
        data_nodes: Option<Vec<u32>>,
    },
    /// `FUNCTIONNAME 'f'` / `FUNCTIONID '3'` `USING COLUMN 'c' [ON DATANODE ..]`: a
    /// configured sharding function.
    Function {
        /// Name or id as written.
        name: String,
        /// True for FUNCTIONID.
        by_id: bool,
        /// Sharding column.
        column: String,
        /// Data nodes, if listed.
        data_nodes: Option<Vec<u32>>,
    },
    /// `RULENAME 'r'` / `RULEID '3'` `[USING COLUMN 'c'] [ON DATANODE ..]`: a configured
    /// sharding rule (function and, usually, column).
    Rule {
        /// Name or id as written.
        name: String,
        /// True for RULEID.
        by_id: bool,
        /// Sharding column, if given here rather than by the rule.
        column: Option<String>,
        /// Data nodes, if listed.
        data_nodes: Option<Vec<u32>>,
    },
    /// `GLOBAL [ON DATANODE ..]`: a full copy on each node.
    Global {
        /// Data nodes, if listed (default: all of the logical database's).
        data_nodes: Option<Vec<u32>>,
    },
    /// `VERTICAL ON DATANODE 'n'`: the whole table on one node.
    Vertical {
        /// The data node.
        data_node: u32,
    },
    /// `CHILD OF parent(parent_column) USING COLUMN 'column'`.
    Child {
        /// Parent table.
        parent: String,
        /// Parent's joined column (its sharding column).
        parent_column: String,
        /// This table's joining column.
        column: String,
    },
}

/// A CREATE TABLE statement with its `SHARD BY` clause taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedCreate {
    /// The clause.
    pub clause: ShardClause,
    /// The statement without the clause (and the whitespace before it).
    pub create_sql: String,
}

/// Version of the executable comment SHOW CREATE TABLE wraps a table's `SHARD BY`
/// clause in: above every MySQL and MariaDB version, so a server other than Strata
/// skips the clause while the mariadb client and dump tools keep it.
pub const DISTRIBUTION_COMMENT_VERSION: &str = "999999";

/// `clause` as the executable comment SHOW CREATE TABLE appends; None when the clause
/// holds `*/` (in a quoted name), which would end the comment early.
pub fn distribution_comment(clause: &str) -> Option<String> {
    (!clause.contains("*/")).then(|| format!("/*!{DISTRIBUTION_COMMENT_VERSION} {clause} */"))
}

/// Finds and removes the `SHARD BY` clause of a CREATE TABLE statement. Returns None when
/// the statement has no such clause (at parenthesis depth 0).
pub fn strip_shard_clause(sql: &str) -> Result<Option<ShardedCreate>, SqlError> {
    let tokens: Vec<Token> = Lexer::new(sql).collect();
    let code: Vec<usize> = (0..tokens.len())
        .filter(|&i| tokens[i].kind.is_code())
        .collect();
    let mut depth = 0i32;
    for (ci, &ti) in code.iter().enumerate() {
        let t = tokens[ti];
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0
            && t.is_keyword(sql, "SHARD")
            && code
                .get(ci + 1)
                .is_some_and(|&n| tokens[n].is_keyword(sql, "BY"))
        {
            let mut p = ClauseParser {
                sql,
                tokens: &tokens,
                code: &code,
                pos: ci + 2,
            };
            let clause = p.clause()?;
            let end = p.end_offset(t.span.start);
            // Remove the whitespace before the clause with it.
            let mut start = t.span.start;
            while start > 0 && sql.as_bytes()[start - 1].is_ascii_whitespace() {
                start -= 1;
            }
            let mut create_sql = String::with_capacity(sql.len());
            create_sql.push_str(&sql[..start]);
            create_sql.push_str(&sql[end..]);
            return Ok(Some(ShardedCreate { clause, create_sql }));
        }
    }
    Ok(None)
}

/// Parses a data node list such as `1,3,5-8` (spaces allowed) into sorted, distinct DNIDs.
pub fn parse_data_nodes(spec: &str) -> Option<Vec<u32>> {
    let mut nodes = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((lo, hi)) => {
                let lo: u32 = lo.trim().parse().ok()?;
                let hi: u32 = hi.trim().parse().ok()?;
                if lo > hi || hi - lo > 65_535 {
                    return None;
                }
                nodes.extend(lo..=hi);
            }
            None => nodes.push(part.parse().ok()?),
        }
    }
    nodes.sort_unstable();
    nodes.dedup();
    Some(nodes)
}

/// Recursive-descent parser over the code tokens after `SHARD BY`.
struct ClauseParser<'a> {
    sql: &'a str,
    tokens: &'a [Token],
    code: &'a [usize],
    pos: usize,
}

impl ClauseParser<'_> {
    fn peek(&self) -> Option<Token> {
        self.code.get(self.pos).map(|&i| self.tokens[i])
    }

    /// Byte offset just after the last consumed token.
    fn end_offset(&self, fallback: usize) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.code.get(p))
            .map_or(fallback, |&i| self.tokens[i].span.end)
    }

    fn error(&self, expected: &'static str) -> SqlError {
        let at = self.peek().map_or(self.sql.len(), |t| t.span.start);
        SqlError::syntax_at(self.sql, at, expected)
    }

    /// Steps over the next token if `accept` takes it.
    fn eat(&mut self, accept: impl FnOnce(&Token, &str) -> bool) -> bool {
        let taken = self.peek().is_some_and(|t| accept(&t, self.sql));
        if taken {
            self.pos += 1;
        }
        taken
    }

    fn keyword(&mut self, kw: &str) -> bool {
        self.eat(|t, sql| t.is_keyword(sql, kw))
    }

    fn expect_keyword(&mut self, kw: &str, expected: &'static str) -> Result<(), SqlError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn punct(&mut self, p: &str) -> bool {
        self.eat(|t, sql| t.is_punct(sql, p))
    }

    /// A quoted value (or, leniently, a bare number or name).
    fn value(&mut self, expected: &'static str) -> Result<String, SqlError> {
        let t = self.peek().ok_or_else(|| self.error(expected))?;
        let text = t.text(self.sql);
        let v = match t.kind {
            TokenKind::String => string_value(text).into_owned(),
            TokenKind::Integer | TokenKind::Ident | TokenKind::QuotedIdent => {
                ident_value(text).into_owned()
            }
            _ => return Err(self.error(expected)),
        };
        self.pos += 1;
        Ok(v)
    }

    fn name(&mut self, expected: &'static str) -> Result<String, SqlError> {
        let t = self.peek().ok_or_else(|| self.error(expected))?;
        if !t.kind.is_ident() && t.kind != TokenKind::String {
            return Err(self.error(expected));
        }
        self.value(expected)
    }

    fn using_column(&mut self) -> Result<Option<String>, SqlError> {
        if self.keyword("USING") {
            self.expect_keyword("COLUMN", "COLUMN")?;
            return self.value("a column name").map(Some);
        }
        Ok(None)
    }

    fn on_datanode(&mut self) -> Result<Option<Vec<u32>>, SqlError> {
        if !self.keyword("ON") {
            return Ok(None);
        }
        if !(self.keyword("DATANODE") || self.keyword("DATANODES")) {
            return Err(self.error("DATANODE"));
        }
        let at = self.pos;
        let spec = self.value("a data node list")?;
        match parse_data_nodes(&spec) {
            Some(nodes) if !nodes.is_empty() => Ok(Some(nodes)),
            _ => {
                self.pos = at;
                Err(self.error("a data node list such as '1,3,5-8'"))
            }
        }
    }

    fn clause(&mut self) -> Result<ShardClause, SqlError> {
        let head = self
            .peek()
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(self.sql).to_ascii_uppercase())
            .ok_or_else(|| self.error("FUNCTIONTYPE, RULENAME, GLOBAL, VERTICAL or CHILD"))?;
        match head.as_str() {
            "FUNCTIONTYPE" | "FUNCTIONNAME" | "FUNCTIONID" => {
                self.pos += 1;
                let name = self.value("a function")?;
                let column = self
                    .using_column()?
                    .ok_or_else(|| self.error("USING COLUMN"))?;
                let data_nodes = self.on_datanode()?;
                Ok(if head == "FUNCTIONTYPE" {
                    ShardClause::FunctionType {
                        function: name,
                        column,
                        data_nodes,
                    }
                } else {
                    ShardClause::Function {
                        name,
                        by_id: head == "FUNCTIONID",
                        column,
                        data_nodes,
                    }
                })
            }
            "RULENAME" | "RULEID" => {
                self.pos += 1;
                let name = self.value("a rule")?;
                let column = self.using_column()?;
                let data_nodes = self.on_datanode()?;
                Ok(ShardClause::Rule {
                    name,
                    by_id: head == "RULEID",
                    column,
                    data_nodes,
                })
            }
            "GLOBAL" => {
                self.pos += 1;
                let data_nodes = self.on_datanode()?;
                Ok(ShardClause::Global { data_nodes })
            }
            "VERTICAL" => {
                self.pos += 1;
                let at = self.pos;
                match self.on_datanode()? {
                    Some(nodes) if nodes.len() == 1 => Ok(ShardClause::Vertical {
                        data_node: nodes[0],
                    }),
                    _ => {
                        self.pos = at;
                        Err(self.error("ON DATANODE with exactly one data node"))
                    }
                }
            }
            "CHILD" => {
                self.pos += 1;
                self.expect_keyword("OF", "OF")?;
                let parent = self.name("the parent table")?;
                if !self.punct("(") {
                    return Err(self.error("( parent column )"));
                }
                let parent_column = self.name("the parent column")?;
                if !self.punct(")") {
                    return Err(self.error(")"));
                }
                let column = self
                    .using_column()?
                    .ok_or_else(|| self.error("USING COLUMN"))?;
                Ok(ShardClause::Child {
                    parent,
                    parent_column,
                    column,
                })
            }
            _ => Err(self.error("FUNCTIONTYPE, RULENAME, GLOBAL, VERTICAL or CHILD")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(sql: &str) -> (ShardClause, String) {
        let s = strip_shard_clause(sql)
            .expect("valid clause")
            .expect("has a clause");
        (s.clause, s.create_sql)
    }

    #[test]
    fn a_clause_in_the_distribution_comment_is_read_and_leaves_an_empty_comment() {
        let comment = distribution_comment("SHARD BY GLOBAL ON DATANODE '1,2'").expect("no */");
        assert_eq!(comment, "/*!999999 SHARD BY GLOBAL ON DATANODE '1,2' */");
        let (clause, rest) = strip(&format!(
            "CREATE TABLE `g` (\n  `a` int(11) NOT NULL\n) ENGINE=InnoDB\n{comment}"
        ));
        assert_eq!(
            clause,
            ShardClause::Global {
                data_nodes: Some(vec![1, 2])
            }
        );
        // What the data nodes get: MariaDB skips an executable comment above its version.
        assert_eq!(
            rest,
            "CREATE TABLE `g` (\n  `a` int(11) NOT NULL\n) ENGINE=InnoDB\n/*!999999 */"
        );
        assert_eq!(
            distribution_comment("SHARD BY CHILD OF `a*/`(b) USING COLUMN 'c'"),
            None
        );
    }

    #[test]
    fn clauses_parse_into_their_meaning() {
        let cases = [
            (
                "CREATE TABLE t (id INT) SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
                ShardClause::FunctionType {
                    function: "auto_crc32".into(),
                    column: "id".into(),
                    data_nodes: Some(vec![1, 2, 3, 4]),
                },
            ),
            (
                "CREATE TABLE t SHARD BY FUNCTIONTYPE \"AUTO_MOD\" USING COLUMN \"id\" (id INT)",
                ShardClause::FunctionType {
                    function: "AUTO_MOD".into(),
                    column: "id".into(),
                    data_nodes: None,
                },
            ),
            (
                "CREATE TABLE t (id INT) SHARD BY functionid '7' USING COLUMN 'id' ON DATANODE '1,3,5-6'",
                ShardClause::Function {
                    name: "7".into(),
                    by_id: true,
                    column: "id".into(),
                    data_nodes: Some(vec![1, 3, 5, 6]),
                },
            ),
            (
                "CREATE TABLE t SHARD BY rulename 'r_orders' (id INT)",
                ShardClause::Rule {
                    name: "r_orders".into(),
                    by_id: false,
                    column: None,
                    data_nodes: None,
                },
            ),
            (
                "CREATE TABLE t (id INT) SHARD BY RULEID '3' USING COLUMN 'id' ON DATANODE '2,1'",
                ShardClause::Rule {
                    name: "3".into(),
                    by_id: true,
                    column: Some("id".into()),
                    data_nodes: Some(vec![1, 2]),
                },
            ),
            (
                "CREATE TABLE g (id INT) SHARD BY GLOBAL",
                ShardClause::Global { data_nodes: None },
            ),
            (
                "CREATE TABLE g (id INT) shard by global on datanode '1, 2'",
                ShardClause::Global {
                    data_nodes: Some(vec![1, 2]),
                },
            ),
            (
                "CREATE TABLE v SHARD BY VERTICAL ON DATANODE '2' (id INT)",
                ShardClause::Vertical { data_node: 2 },
            ),
            (
                "CREATE TABLE items (oid INT) SHARD BY CHILD OF `orders`(id) USING COLUMN 'oid'",
                ShardClause::Child {
                    parent: "orders".into(),
                    parent_column: "id".into(),
                    column: "oid".into(),
                },
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(strip(sql).0, expected, "{sql}");
        }
    }

    #[test]
    fn the_remaining_text_is_the_statement_without_the_clause() {
        let cases = [
            (
                "CREATE TABLE t (id INT) SHARD BY GLOBAL",
                "CREATE TABLE t (id INT)",
            ),
            (
                "CREATE TABLE t (id INT)  SHARD BY GLOBAL ;",
                "CREATE TABLE t (id INT) ;",
            ),
            (
                "CREATE TABLE t SHARD BY VERTICAL ON DATANODE '2' (id INT /* shard by */)",
                "CREATE TABLE t (id INT /* shard by */)",
            ),
            (
                "CREATE TABLE t (id INT) ENGINE=InnoDB SHARD BY GLOBAL DEFAULT CHARSET=utf8mb4",
                "CREATE TABLE t (id INT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            ),
        ];
        for (sql, rest) in cases {
            assert_eq!(strip(sql).1, rest, "{sql}");
        }
    }

    #[test]
    fn statements_without_a_clause_are_left_alone() {
        for sql in [
            "CREATE TABLE t (id INT)",
            "CREATE TABLE t (shard INT, `by` INT)",
            "CREATE TABLE t (c VARCHAR(10) DEFAULT 'SHARD BY GLOBAL')",
        ] {
            assert_eq!(strip_shard_clause(sql), Ok(None), "{sql}");
        }
    }

    #[test]
    fn malformed_clauses_are_syntax_errors() {
        for sql in [
            "CREATE TABLE t (id INT) SHARD BY",
            "CREATE TABLE t (id INT) SHARD BY HASH",
            "CREATE TABLE t (id INT) SHARD BY functiontype 'auto_crc32'",
            "CREATE TABLE t (id INT) SHARD BY VERTICAL",
            "CREATE TABLE t (id INT) SHARD BY VERTICAL ON DATANODE '1,2'",
            "CREATE TABLE t (id INT) SHARD BY GLOBAL ON DATANODE 'x'",
            "CREATE TABLE t (id INT) SHARD BY GLOBAL ON DATANODE '4-1'",
            "CREATE TABLE t (id INT) SHARD BY CHILD OF p USING COLUMN 'id'",
        ] {
            let err = strip_shard_clause(sql).expect_err(sql);
            assert_eq!(err.code(), 1064, "{sql}");
        }
    }

    #[test]
    fn data_node_lists_expand_ranges() {
        assert_eq!(parse_data_nodes("1,3,5-8"), Some(vec![1, 3, 5, 6, 7, 8]));
        assert_eq!(parse_data_nodes(" 2 , 1 ,2"), Some(vec![1, 2]));
        assert_eq!(parse_data_nodes("1-"), None);
        assert_eq!(parse_data_nodes(""), None);
        assert_eq!(parse_data_nodes("0-4294967295"), None);
    }
}
