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
    /// `KILL QUERY ID`: the id is a query id (the process list's QUERY_ID), not a
    /// connection id.
    pub by_query_id: bool,
    /// The connection (or query) id; `None` for `CONNECTION_ID()`, the session's own
    /// connection (or with `user` or `expression`).
    pub id: Option<u64>,
    /// The id as an expression other than a number (`KILL @id`, `KILL QUERY ID 1+1`):
    /// its text, for the session to evaluate (MariaDB takes its integer value).
    pub expression: Option<String>,
    /// `KILL ... USER account`: every connection of that account (MariaDB's form).
    pub user: Option<UserRef>,
}

/// Parses `KILL [HARD|SOFT] [QUERY [ID]|CONNECTION] id` (HARD/SOFT and QUERY ID are MariaDB's).
pub fn parse_kill(sql: &str) -> Result<Kill, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("KILL")?;
    p.eat_one_of(&["HARD", "SOFT"]);
    let mut by_query_id = false;
    let query_only = match p.eat_one_of(&["QUERY", "CONNECTION"]) {
        Some(0) => {
            if p.eat_keyword("USER") {
                return killed_user(&mut p, true);
            }
            by_query_id = p.eat_keyword("ID");
            true
        }
        _ => false,
    };
    if p.peek_is_keyword("USER") && p.peek_at(1).is_none_or(|t| p.text(t) != "(") {
        let word = p.peek().map(|t| p.text(t).to_string());
        p.advance();
        let kill = if p.at_end() && by_query_id {
            None
        } else {
            Some(killed_user(&mut p, query_only)?)
        };
        // MariaDB reads `KILL QUERY ID USER account` as the USER form, then evaluates
        // its id item, the column `user` (1054 "Unknown column 'user' in 'KILL'").
        return match kill {
            Some(k) if !by_query_id => Ok(k),
            _ => Ok(Kill {
                query_only,
                by_query_id,
                id: None,
                expression: word,
                user: None,
            }),
        };
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
            by_query_id,
            id: None,
            expression: None,
            user: None,
        });
    }
    // MariaDB reads any expression here (`KILL @id`, `KILL 1+1`, `KILL -1`): what is not
    // a number alone is the session's to evaluate; two operands in a row (`KILL 1 2`)
    // are 1064.
    let start = p.peek();
    let number = p.unsigned().ok();
    match number {
        Some(id) if p.at_end() => Ok(Kill {
            query_only,
            by_query_id,
            id: Some(id),
            expression: None,
            user: None,
        }),
        Some(_) if !p.peek().is_some_and(|t| t.kind == TokenKind::Punct) => {
            Err(p.error("end of statement"))
        }
        _ if p.at_end() && number.is_none() => Err(p.error("thread id")),
        _ => {
            let (Some(first), Some(last)) = (start, p.rest_text().ok().and(p.previous())) else {
                return Err(p.error("thread id"));
            };
            Ok(Kill {
                query_only,
                by_query_id,
                id: None,
                expression: Some(p.src()[first.span.start..last.span.end].to_string()),
                user: None,
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
        by_query_id: false,
        id: None,
        expression: None,
        user: Some(user),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::assert_syntax_errors;

    #[test]
    fn parses_kill() {
        let cases = [
            ("KILL 5", false, false, 5),
            ("kill connection 42", false, false, 42),
            ("KILL QUERY 7;", true, false, 7),
            ("KILL HARD QUERY ID 9", true, true, 9),
            ("KILL SOFT CONNECTION 3", false, false, 3),
            ("KILL 18446744073709551615", false, false, u64::MAX),
        ];
        for (sql, query_only, by_query_id, id) in cases {
            assert_eq!(
                parse_kill(sql),
                Ok(Kill {
                    query_only,
                    by_query_id,
                    id: Some(id),
                    expression: None,
                    user: None,
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
            ("KILL 1+1;", "1+1"),
            ("KILL @id", "@id"),
            ("KILL 18446744073709551616", "18446744073709551616"),
            ("KILL (SELECT 5) /* c */ ;", "(SELECT 5)"),
        ] {
            assert_eq!(
                parse_kill(sql).map(|k| k.expression),
                Ok(Some(expression.to_string())),
                "{sql}"
            );
        }
        for sql in ["kill query id user 'foo'", "KILL QUERY ID user"] {
            assert_eq!(
                parse_kill(sql).map(|k| (k.by_query_id, k.expression, k.user)),
                Ok((true, Some(sql[14..18].to_string()), None)),
                "{sql}"
            );
        }
        assert_eq!(
            parse_kill("KILL QUERY ID user()").map(|k| k.expression),
            Ok(Some("user()".into()))
        );
        assert_eq!(
            parse_kill("KILL QUERY connection_id ( );"),
            Ok(Kill {
                query_only: true,
                by_query_id: false,
                id: None,
                expression: None,
                user: None,
            })
        );
        let bob = |query_only| Kill {
            query_only,
            by_query_id: false,
            id: None,
            expression: None,
            user: Some(UserRef::Named(crate::account::UserName::new("bob", "%"))),
        };
        assert_eq!(parse_kill("KILL USER bob"), Ok(bob(false)));
        assert_eq!(parse_kill("KILL HARD QUERY USER bob;"), Ok(bob(true)));
        assert_eq!(
            parse_kill("kill soft connection user 'bob'@'%'"),
            Ok(bob(false))
        );
    }
}
