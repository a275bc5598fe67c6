//! Whether a statement may run a stored function's body: a name called like a function
//! that is not one of MariaDB's built-ins. The body may leave state on the storage
//! connection (`SET SESSION TRANSACTION READ ONLY`, `SET @v`) that the session must
//! keep and no other session may inherit.

use strata_sql::{code_tokens, Token, TokenKind};

use super::builtins;

/// Words after which a name followed by `(` is a table and its column list
/// (`INSERT INTO t1(a)`), not a call.
/// Also a common table expression and its column list (`WITH cte (a) AS ...`).
const TABLE_BEFORE: &[&str] = &[
    "INTO",
    "INSERT",
    "REPLACE",
    "IGNORE",
    "TABLE",
    "UPDATE",
    "WITH",
    "RECURSIVE",
];

/// Words followed by `(` that are syntax, not calls (`OVER (...)`, `MATCH (...)
/// AGAINST (...)`, JSON_TABLE's `COLUMNS (...)`): a false positive closes the
/// connection of every such statement instead of pooling it.
const NOT_CALLS: &[&str] = &["OVER", "MATCH", "AGAINST", "COLUMNS"];

/// True when `sql` calls a name that may be a stored function (an unqualified name
/// that is neither a built-in function nor a reserved word, or a qualified `db.f`).
/// A false positive only keeps the session's connection longer.
pub fn may_call_stored_function(sql: &str) -> bool {
    if !sql.contains('(') {
        return false;
    }
    let toks: Vec<Token> = code_tokens(sql).collect();
    toks.windows(2).enumerate().any(|(i, pair)| {
        let (name, next) = (&pair[0], &pair[1]);
        if !next.is_punct(sql, "(") || !name.kind.is_ident() {
            return false;
        }
        let before = i.checked_sub(1).map(|j| &toks[j]);
        let qualified = before.is_some_and(|b| b.is_punct(sql, "."));
        let table = before.is_some_and(|b| TABLE_BEFORE.iter().any(|w| b.is_keyword(sql, w)))
            || (qualified && i >= 3 && TABLE_BEFORE.iter().any(|w| toks[i - 3].is_keyword(sql, w)));
        if table {
            return false;
        }
        if qualified || name.kind == TokenKind::QuotedIdent {
            return true;
        }
        let upper = name.text(sql).to_ascii_uppercase();
        !builtins::is_builtin(&upper)
            && !strata_sql::keywords::is_reserved(&upper)
            && !NOT_CALLS.contains(&upper.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::may_call_stored_function as calls;

    #[test]
    fn stored_function_calls_are_told_from_builtins_and_tables() {
        for sql in [
            "SELECT f1()",
            "SELECT test.f1(2)",
            "SELECT `f1`()",
            "INSERT INTO t1 VALUES (f1(1))",
            "UPDATE t1 SET a = my_func(a)",
            "DO f1()",
        ] {
            assert!(calls(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "SELECT COUNT(*), CONCAT(a, 'x'), JSON_EXTRACT(j, '$.a') FROM t1 WHERE a IN (1, 2)",
            "INSERT INTO t1(a, b) VALUES (1, 2)",
            "INSERT IGNORE t1 (a) VALUES (1)",
            "INSERT INTO test.t1 (a) SELECT a FROM t2",
            "REPLACE t1 (a) VALUES (1)",
            "SELECT * FROM t1 JOIN t2 USING (a) WHERE EXISTS (SELECT 1)",
            "SELECT CAST(a AS CHAR(3)), ROW(1, 2) = ROW(a, b) FROM t1 FORCE INDEX (k)",
            "SELECT a FROM t1 WHERE (a > 1) AND NOT (b < 2)",
            "SELECT ROW_NUMBER() OVER (ORDER BY a) FROM t1",
            "SELECT MATCH (a) AGAINST ('x') FROM t1",
            "WITH cte (a) AS (SELECT 1) SELECT * FROM cte",
            "SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a INT PATH '$')) AS jt",
        ] {
            assert!(!calls(sql), "{sql}");
        }
    }
}
