//! Statement classification from the first keywords, without parsing: the session uses it
//! to decide whether a statement is handled locally, changes transaction state, or is
//! forwarded. Leading comments, hints and `(` are skipped; executable comments count as code.

use crate::lexer::{outside_parens, Lexer, Token};

/// What kind of statement a text is, by its leading keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// SELECT, `(SELECT ...)`, `WITH ... SELECT`, and MySQL 8's `TABLE t` / `VALUES ROW(..)`.
    Select,
    /// INSERT.
    Insert,
    /// REPLACE.
    Replace,
    /// UPDATE (also `WITH ... UPDATE`).
    Update,
    /// DELETE (also `WITH ... DELETE`).
    Delete,
    /// SET (variables, NAMES, TRANSACTION, ...).
    Set,
    /// USE db.
    Use,
    /// SHOW ...
    Show,
    /// BEGIN [WORK] or START TRANSACTION.
    Begin,
    /// COMMIT.
    Commit,
    /// ROLLBACK [WORK] (ends the transaction).
    Rollback,
    /// ROLLBACK [WORK] TO [SAVEPOINT] name (keeps the transaction open).
    RollbackToSavepoint,
    /// SAVEPOINT name.
    Savepoint,
    /// RELEASE SAVEPOINT name.
    Release,
    /// LOCK TABLES / LOCK TABLE / LOCK INSTANCE.
    Lock,
    /// UNLOCK TABLES / UNLOCK INSTANCE.
    Unlock,
    /// CREATE ...
    Create,
    /// ALTER ...
    Alter,
    /// DROP ... (except DROP PREPARE).
    Drop,
    /// TRUNCATE [TABLE].
    Truncate,
    /// RENAME TABLE / RENAME USER.
    Rename,
    /// KILL.
    Kill,
    /// CALL.
    Call,
    /// PREPARE name FROM ...
    Prepare,
    /// EXECUTE name [USING ...].
    Execute,
    /// DEALLOCATE PREPARE / DROP PREPARE.
    Deallocate,
    /// DO expr.
    Do,
    /// EXPLAIN, DESCRIBE, DESC.
    Explain,
    /// HELP.
    Help,
    /// LOAD DATA / LOAD XML / LOAD INDEX.
    Load,
    /// XA START / END / PREPARE / COMMIT / ROLLBACK / RECOVER.
    Xa,
    /// Anything else (GRANT, FLUSH, ANALYZE, compound statements, empty text, ...).
    Other,
}

/// The kind of the statement `sql` (a single statement; see `split_statements`).
pub fn classify(sql: &str) -> StatementKind {
    classify_head(sql).0
}

/// The kind of `sql`, and for a SELECT whether it may be one of the trivial SELECTs the
/// session answers itself (`parse_simple_select`; false means it certainly is not),
/// decided from the tokens classifying already read: the session's path for an
/// application's SELECT lexes only its first two words.
pub fn classify_head(sql: &str) -> (StatementKind, bool) {
    let mut toks = Lexer::new(sql).filter(|t| t.kind.is_code());
    let mut first = toks.next();
    let mut parenthesised = false;
    while first.is_some_and(|t| t.is_punct(sql, "(")) {
        first = toks.next();
        parenthesised = true;
    }
    let Some(first) = first else {
        return (StatementKind::Other, false);
    };
    let second = toks.next();
    if !parenthesised && first.is_keyword(sql, "SELECT") {
        let trivial = second.is_some_and(|t| crate::select::may_begin_simple(sql, t));
        return (StatementKind::Select, trivial);
    }
    (classify_tokens(sql, first, second, toks), false)
}

/// `classify` after the first two code tokens (opening parentheses skipped).
fn classify_tokens(
    sql: &str,
    first: Token,
    second: Option<Token>,
    toks: impl Iterator<Item = Token>,
) -> StatementKind {
    let mut toks = toks;
    let kw = |t: Option<Token>, k: &str| t.is_some_and(|t| t.is_keyword(sql, k));
    let is = |k: &str| first.is_keyword(sql, k);
    use StatementKind as S;
    if is("WITH") {
        return classify_with(sql, second.into_iter().chain(toks));
    }
    if is("BEGIN") {
        // MariaDB's `BEGIN NOT ATOMIC ... END` is a compound statement.
        return if kw(second, "NOT") {
            S::Other
        } else {
            S::Begin
        };
    }
    if is("START") {
        return if kw(second, "TRANSACTION") {
            S::Begin
        } else {
            S::Other
        };
    }
    if is("ROLLBACK") {
        let after_work = if kw(second, "WORK") {
            toks.next()
        } else {
            second
        };
        return if kw(after_work, "TO") {
            S::RollbackToSavepoint
        } else {
            S::Rollback
        };
    }
    if is("DROP") && kw(second, "PREPARE") {
        return S::Deallocate;
    }
    let word = first.text(sql);
    LEADING_KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map_or(S::Other, |&(_, kind)| kind)
}

/// Statements decided by their first keyword alone.
const LEADING_KEYWORDS: &[(&str, StatementKind)] = &[
    ("SELECT", StatementKind::Select),
    ("INSERT", StatementKind::Insert),
    ("UPDATE", StatementKind::Update),
    ("DELETE", StatementKind::Delete),
    ("SET", StatementKind::Set),
    ("COMMIT", StatementKind::Commit),
    ("SHOW", StatementKind::Show),
    ("USE", StatementKind::Use),
    ("REPLACE", StatementKind::Replace),
    ("TABLE", StatementKind::Select),
    ("VALUES", StatementKind::Select),
    ("SAVEPOINT", StatementKind::Savepoint),
    ("RELEASE", StatementKind::Release),
    ("LOCK", StatementKind::Lock),
    ("UNLOCK", StatementKind::Unlock),
    ("CREATE", StatementKind::Create),
    ("ALTER", StatementKind::Alter),
    ("DROP", StatementKind::Drop),
    ("TRUNCATE", StatementKind::Truncate),
    ("RENAME", StatementKind::Rename),
    ("KILL", StatementKind::Kill),
    ("CALL", StatementKind::Call),
    ("PREPARE", StatementKind::Prepare),
    ("EXECUTE", StatementKind::Execute),
    ("DEALLOCATE", StatementKind::Deallocate),
    ("DO", StatementKind::Do),
    ("EXPLAIN", StatementKind::Explain),
    ("DESCRIBE", StatementKind::Explain),
    ("DESC", StatementKind::Explain),
    ("HELP", StatementKind::Help),
    ("LOAD", StatementKind::Load),
    ("XA", StatementKind::Xa),
];

/// The statement `EXPLAIN [EXTENDED | PARTITIONS] [FORMAT = x] <stmt>` or `ANALYZE
/// [FORMAT = x] <stmt>` shows (ANALYZE also runs it): the text of `<stmt>`, which is
/// authorized as itself, as MariaDB does. None for other statements, `DESCRIBE t`,
/// `EXPLAIN FOR CONNECTION n` and `ANALYZE TABLE t`.
pub fn explained_statement(sql: &str) -> Option<&str> {
    let toks: Vec<Token> = crate::lexer::code_tokens(sql).collect();
    let first = toks.first()?;
    let explain = ["EXPLAIN", "DESCRIBE", "DESC"]
        .iter()
        .any(|k| first.is_keyword(sql, k));
    if !explain && !first.is_keyword(sql, "ANALYZE") {
        return None;
    }
    let mut i = 1;
    loop {
        let t = toks.get(i)?;
        if explain && (t.is_keyword(sql, "EXTENDED") || t.is_keyword(sql, "PARTITIONS")) {
            i += 1;
        } else if t.is_keyword(sql, "FORMAT") {
            i += if toks.get(i + 1)?.is_punct(sql, "=") {
                3
            } else {
                2
            };
        } else {
            break;
        }
    }
    let t = toks.get(i)?;
    let inner = sql.get(t.span.start..)?;
    let statement = t.is_punct(sql, "(")
        || [
            "SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "WITH", "VALUES",
        ]
        .iter()
        .any(|k| t.is_keyword(sql, k));
    statement.then_some(inner)
}

/// `WITH cte AS (...) <statement>`: the first SELECT/UPDATE/DELETE outside parentheses
/// decides; `WITH ... (SELECT ...)` is a SELECT.
fn classify_with(sql: &str, toks: impl Iterator<Item = Token>) -> StatementKind {
    for t in outside_parens(sql, toks) {
        if t.is_keyword(sql, "SELECT") {
            return StatementKind::Select;
        } else if t.is_keyword(sql, "UPDATE") {
            return StatementKind::Update;
        } else if t.is_keyword(sql, "DELETE") {
            return StatementKind::Delete;
        }
    }
    StatementKind::Select
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatementKind as S;

    #[test]
    fn finds_the_explained_statement() {
        let cases = [
            ("EXPLAIN SELECT * FROM t", Some("SELECT * FROM t")),
            (
                "analyze format=json update t set a=1",
                Some("update t set a=1"),
            ),
            ("ANALYZE FORMAT = JSON DELETE FROM t", Some("DELETE FROM t")),
            (
                "EXPLAIN EXTENDED INSERT INTO t VALUES (1)",
                Some("INSERT INTO t VALUES (1)"),
            ),
            ("explain format='json' (select 1)", Some("(select 1)")),
            ("EXPLAIN t", None),
            ("DESCRIBE t", None),
            ("ANALYZE TABLE t", None),
            ("ANALYZE NO_WRITE_TO_BINLOG TABLE t", None),
            ("EXPLAIN FOR CONNECTION 5", None),
            ("SELECT 1", None),
        ];
        for (sql, want) in cases {
            assert_eq!(explained_statement(sql), want, "{sql}");
        }
    }

    #[test]
    fn classifies_by_leading_keywords() {
        let cases = [
            ("SELECT 1", S::Select),
            ("select @@version_comment limit 1", S::Select),
            ("  (SELECT a FROM t) UNION (SELECT b FROM u)", S::Select),
            ("((select 1))", S::Select),
            ("WITH c AS (SELECT 1) SELECT * FROM c", S::Select),
            ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c) SELECT n FROM c", S::Select),
            ("WITH c AS (SELECT id FROM t) UPDATE t, c SET t.x = 1", S::Update),
            ("with c as (select 1) delete from t", S::Delete),
            ("WITH c AS (SELECT 1) (SELECT * FROM c)", S::Select),
            ("TABLE t", S::Select),
            ("INSERT INTO t VALUES (1)", S::Insert),
            ("REPLACE INTO t VALUES (1)", S::Replace),
            ("UPDATE t SET a = 1", S::Update),
            ("DELETE FROM t", S::Delete),
            ("SET autocommit=0", S::Set),
            ("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", S::Set),
            ("use db1", S::Use),
            ("SHOW DATABASES", S::Show),
            ("BEGIN", S::Begin),
            ("begin work", S::Begin),
            ("START TRANSACTION READ ONLY", S::Begin),
            ("START SLAVE", S::Other),
            ("BEGIN NOT ATOMIC SELECT 1; END", S::Other),
            ("COMMIT", S::Commit),
            ("commit work", S::Commit),
            ("ROLLBACK", S::Rollback),
            ("ROLLBACK WORK", S::Rollback),
            ("ROLLBACK TO SAVEPOINT s1", S::RollbackToSavepoint),
            ("rollback work to s1", S::RollbackToSavepoint),
            ("SAVEPOINT s1", S::Savepoint),
            ("RELEASE SAVEPOINT s1", S::Release),
            ("LOCK TABLES t READ", S::Lock),
            ("UNLOCK TABLES", S::Unlock),
            ("CREATE TABLE t (id int)", S::Create),
            ("ALTER TABLE t ADD c int", S::Alter),
            ("DROP TABLE t", S::Drop),
            ("DROP PREPARE s", S::Deallocate),
            ("TRUNCATE TABLE t", S::Truncate),
            ("RENAME TABLE a TO b", S::Rename),
            ("KILL QUERY 5", S::Kill),
            ("CALL p()", S::Call),
            ("PREPARE s FROM 'SELECT 1'", S::Prepare),
            ("EXECUTE s USING @a", S::Execute),
            ("DEALLOCATE PREPARE s", S::Deallocate),
            ("DO SLEEP(1)", S::Do),
            ("EXPLAIN SELECT 1", S::Explain),
            ("DESCRIBE t", S::Explain),
            ("desc t", S::Explain),
            ("HELP 'contents'", S::Help),
            ("LOAD DATA LOCAL INFILE 'f' INTO TABLE t", S::Load),
            ("XA START 'x'", S::Xa),
            ("GRANT ALL ON *.* TO u", S::Other),
            ("FLUSH PRIVILEGES", S::Other),
            ("", S::Other),
            ("   -- only a comment\n", S::Other),
            ("/* mysql-connector-java-8.0.33 (Revision: x) */SELECT  @@session.auto_increment_increment", S::Select),
            ("/*!strata:dnid=1*/ INSERT INTO t VALUES (1)", S::Insert),
            ("/*!40101 SET NAMES utf8 */", S::Set),
            ("# comment\nSELECT 1", S::Select),
            ("'SELECT'", S::Other),
            ("selectx 1", S::Other),
        ];
        for (sql, expected) in cases {
            assert_eq!(classify(sql), expected, "classifying {sql:?}");
        }
    }
}
