//! Transaction control statements (BEGIN, COMMIT, ROLLBACK, savepoints): the compute
//! node coordinates transactions that span several data nodes, so it reads their
//! options itself instead of forwarding the text.

use crate::error::SqlError;
use crate::parser::Parser;

/// A parsed transaction-control statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnStatement {
    /// BEGIN [WORK] / START TRANSACTION [characteristic, ...].
    Begin {
        /// READ ONLY was given.
        read_only: bool,
        /// WITH CONSISTENT SNAPSHOT was given.
        consistent_snapshot: bool,
    },
    /// COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE].
    Commit(Completion),
    /// ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE].
    Rollback(Completion),
    /// SAVEPOINT name.
    Savepoint(String),
    /// ROLLBACK [WORK] TO [SAVEPOINT] name.
    RollbackTo(String),
    /// RELEASE SAVEPOINT name.
    Release(String),
}

/// What happens after COMMIT or ROLLBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Completion {
    /// AND CHAIN: a new transaction starts at once, with the same characteristics.
    pub chain: bool,
    /// RELEASE: the server closes the connection afterwards.
    pub release: bool,
}

/// Parses a transaction-control statement (see `TxnStatement`).
pub fn parse_transaction(sql: &str) -> Result<TxnStatement, SqlError> {
    let mut p = Parser::new(sql);
    let stmt = if p.eat_keyword("BEGIN") {
        p.eat_keyword("WORK");
        TxnStatement::Begin {
            read_only: false,
            consistent_snapshot: false,
        }
    } else if p.eat_keyword("START") {
        p.expect_keyword("TRANSACTION")?;
        let mut read_only = false;
        let mut consistent_snapshot = false;
        if !p.at_end() && !p.peek_is_punct(";") {
            loop {
                if p.eat_keyword("WITH") {
                    p.expect_keyword("CONSISTENT")?;
                    p.expect_keyword("SNAPSHOT")?;
                    consistent_snapshot = true;
                } else if p.eat_keyword("READ") {
                    match p.eat_one_of(&["ONLY", "WRITE"]) {
                        Some(0) => read_only = true,
                        Some(_) => read_only = false,
                        None => return Err(p.error("ONLY or WRITE")),
                    }
                } else {
                    return Err(p.error("WITH CONSISTENT SNAPSHOT, READ ONLY or READ WRITE"));
                }
                if !p.eat_punct(",") {
                    break;
                }
            }
        }
        TxnStatement::Begin {
            read_only,
            consistent_snapshot,
        }
    } else if p.eat_keyword("COMMIT") {
        p.eat_keyword("WORK");
        TxnStatement::Commit(completion(&mut p)?)
    } else if p.eat_keyword("ROLLBACK") {
        p.eat_keyword("WORK");
        if p.eat_keyword("TO") {
            p.eat_keyword("SAVEPOINT");
            TxnStatement::RollbackTo(p.ident()?)
        } else {
            TxnStatement::Rollback(completion(&mut p)?)
        }
    } else if p.eat_keyword("SAVEPOINT") {
        TxnStatement::Savepoint(p.ident()?)
    } else if p.eat_keyword("RELEASE") {
        p.expect_keyword("SAVEPOINT")?;
        TxnStatement::Release(p.ident()?)
    } else {
        return Err(p.error("a transaction statement"));
    };
    p.eat_punct(";");
    p.expect_end()?;
    Ok(stmt)
}

fn completion(p: &mut Parser<'_>) -> Result<Completion, SqlError> {
    let mut c = Completion::default();
    if p.eat_keyword("AND") {
        c.chain = !p.eat_keyword("NO");
        p.expect_keyword("CHAIN")?;
    }
    if p.eat_keyword("NO") {
        p.expect_keyword("RELEASE")?;
    } else if p.eat_keyword("RELEASE") {
        c.release = true;
    }
    if c.chain && c.release {
        // MySQL refuses the combination as a syntax error.
        return Err(p.error("AND CHAIN or RELEASE, not both"));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_transaction_statements() {
        let begin = |read_only, consistent_snapshot| TxnStatement::Begin {
            read_only,
            consistent_snapshot,
        };
        let done = |chain, release| Completion { chain, release };
        let cases = [
            ("BEGIN", begin(false, false)),
            ("begin work;", begin(false, false)),
            ("START TRANSACTION", begin(false, false)),
            ("start transaction read only", begin(true, false)),
            (
                "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE",
                begin(false, true),
            ),
            ("COMMIT", TxnStatement::Commit(done(false, false))),
            (
                "commit work and chain",
                TxnStatement::Commit(done(true, false)),
            ),
            (
                "COMMIT AND NO CHAIN NO RELEASE",
                TxnStatement::Commit(done(false, false)),
            ),
            (
                "ROLLBACK RELEASE",
                TxnStatement::Rollback(done(false, true)),
            ),
            ("ROLLBACK WORK", TxnStatement::Rollback(done(false, false))),
            ("SAVEPOINT s1", TxnStatement::Savepoint("s1".into())),
            ("savepoint `my sp`", TxnStatement::Savepoint("my sp".into())),
            ("ROLLBACK TO s1", TxnStatement::RollbackTo("s1".into())),
            (
                "ROLLBACK WORK TO SAVEPOINT s1",
                TxnStatement::RollbackTo("s1".into()),
            ),
            ("RELEASE SAVEPOINT s1", TxnStatement::Release("s1".into())),
        ];
        for (sql, want) in cases {
            assert_eq!(parse_transaction(sql), Ok(want), "parsing {sql}");
        }
    }

    #[test]
    fn malformed_transaction_statements_are_errors() {
        for sql in [
            "START TRANSACTION READ",
            "START TRANSACTION WITH SNAPSHOT",
            "COMMIT AND CHAIN RELEASE",
            "COMMIT AND",
            "SAVEPOINT",
            "RELEASE s1",
            "ROLLBACK TO",
            "COMMIT extra",
        ] {
            assert!(parse_transaction(sql).is_err(), "{sql} should not parse");
        }
    }
}
