//! `KILL [QUERY|CONNECTION] id`: the compute node owns client connection ids, so it
//! handles KILL itself.

use crate::account::UserRef;
use crate::error::SqlError;
use crate::lexer::TokenKind;
use crate::parser::Parser;

/// A parsed KILL statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// KILL QUERY: abort the running statement and keep the connection.
    pub query_only: bool,
    /// The connection id; `None` for `CONNECTION_ID()`, the session's own connection
    /// (or with `user`).
    pub id: Option<u64>,
    /// `KILL ... USER account`: every connection of that account (MariaDB's form).
    pub user: Option<UserRef>,
    /// The id as an expression (`KILL @id`, `KILL 1+1`) whose value, as a signed
    /// integer read unsigned, is the id (None with `id` or `user`).
    pub expression: Option<String>,
}

/// Parses `KILL [HARD|SOFT] [QUERY [ID]|CONNECTION] id` (HARD/SOFT and QUERY ID are MariaDB's).
pub fn parse_kill(sql: &str) -> Result<Kill, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("KILL")?;
    p.eat_one_of(&["HARD", "SOFT"]);
    let query_only = match p.eat_one_of(&["QUERY", "CONNECTION"]) {
        Some(0) => {
            if p.eat_keyword("USER") {
                return killed_user(&mut p, true);
            }
            p.eat_keyword("ID");
            true
        }
        _ => false,
    };
    if p.eat_keyword("USER") {
        return killed_user(&mut p, query_only);
    }
    if p.peek_is_keyword("CONNECTION_ID")
        && p.peek_at(1).is_some_and(|t| p.text(t) == "(")
        && p.peek_at(2).is_some_and(|t| p.text(t) == ")")
    {
        p.advance();
        p.advance();
        p.advance();
        p.expect_end()?;
        return Ok(Kill {
            query_only,
            id: None,
            user: None,
            expression: None,
        });
    }
    // MariaDB reads any expression here (`KILL @id`, `KILL 1+1`, `KILL -1`): what is not
    // a number alone, and no two operands in a row (`KILL 1 2`), is refused, not 1064.
    let start = p.peek().map(|t| t.span.start);
    let number = p.unsigned().ok();
    match number {
        Some(id) if p.at_end() => Ok(Kill {
            query_only,
            id: Some(id),
            user: None,
            expression: None,
        }),
        Some(_) if !p.peek().is_some_and(|t| t.kind == TokenKind::Punct) => {
            Err(p.error("end of statement"))
        }
        _ if p.at_end() && number.is_none() => Err(p.error("thread id")),
        _ => {
            // What is left is an expression the session evaluates (its own errors).
            let text = start.and_then(|s| sql.get(s..)).unwrap_or_default();
            let text = text.trim_end().trim_end_matches(';').trim_end();
            Ok(Kill {
                query_only,
                id: None,
                user: None,
                expression: Some(text.to_string()),
            })
        }
    }
}

/// The account of `KILL [QUERY|CONNECTION] USER account`.
fn killed_user(p: &mut Parser<'_>, query_only: bool) -> Result<Kill, SqlError> {
    let user = crate::account::user_ref(p)?;
    p.expect_end()?;
    Ok(Kill {
        query_only,
        id: None,
        user: Some(user),
        expression: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::assert_syntax_errors;

    #[test]
    fn parses_kill() {
        let cases = [
            ("KILL 5", false, 5),
            ("kill connection 42", false, 42),
            ("KILL QUERY 7;", true, 7),
            ("KILL HARD QUERY ID 9", true, 9),
            ("KILL SOFT CONNECTION 3", false, 3),
            ("KILL 18446744073709551615", false, u64::MAX),
        ];
        for (sql, query_only, id) in cases {
            assert_eq!(
                parse_kill(sql),
                Ok(Kill {
                    query_only,
                    id: Some(id),
                    user: None,
                    expression: None,
                }),
                "parsing {sql}"
            );
        }
    }

    #[test]
    fn malformed_kill_is_an_error() {
        assert_syntax_errors(
            parse_kill,
            &[
                ("KILL", ""),
                ("KILL QUERY", ""),
                ("KILL 1 2", "2"),
                ("KILL CONNECTION_ID() 2", "2"),
            ],
        );
        for (sql, expression) in [
            ("KILL -1", "-1"),
            ("KILL 'x'", "'x'"),
            ("KILL QUERY 1+1 ;", "1+1"),
            ("KILL @id", "@id"),
            ("KILL 18446744073709551616", "18446744073709551616"),
            (
                "KILL  (('x' IN ( SELECT 1)) MOD 44)",
                "(('x' IN ( SELECT 1)) MOD 44)",
            ),
        ] {
            assert_eq!(
                parse_kill(sql).map(|k| k.expression),
                Ok(Some(expression.to_string())),
                "{sql}"
            );
        }
        assert_eq!(
            parse_kill("KILL QUERY connection_id ( );"),
            Ok(Kill {
                query_only: true,
                id: None,
                user: None,
                expression: None,
            })
        );
        let bob = |query_only| Kill {
            query_only,
            id: None,
            user: Some(UserRef::Named(crate::account::UserName::new("bob", "%"))),
            expression: None,
        };
        assert_eq!(parse_kill("KILL USER bob"), Ok(bob(false)));
        assert_eq!(parse_kill("KILL HARD QUERY USER bob;"), Ok(bob(true)));
        assert_eq!(
            parse_kill("kill soft connection user 'bob'@'%'"),
            Ok(bob(false))
        );
    }
}
