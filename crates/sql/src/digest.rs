//! Statement digests: the text with literals replaced by `?`, comments dropped, spacing
//! made canonical and reserved words lowercased, so statements that differ only in
//! literal values and formatting share a key (the plan cache's). Names keep their case:
//! table names are case-sensitive on Linux. Hints are kept, as they change routing.

use crate::keywords::is_reserved;
use crate::lexer::{Lexer, Token, TokenKind};

/// A statement's digest and the literals it replaced, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The normalized text.
    pub text: String,
    /// The literal tokens (spans in the original text) that became `?`.
    pub literals: Vec<Token>,
}

/// Computes the digest of one statement.
pub fn normalize_digest(sql: &str) -> Digest {
    let mut text = String::with_capacity(sql.len());
    let mut literals = Vec::new();
    normalize(sql, &mut text, |t| literals.push(t));
    Digest { text, literals }
}

/// Writes the digest text of one statement into `out` (cleared first), without
/// allocating when `out` has room: the statement statistics compute one per statement.
pub fn digest_text_into(sql: &str, out: &mut String) {
    out.clear();
    normalize(sql, out, |_| {});
}

fn normalize(sql: &str, text: &mut String, mut literal: impl FnMut(Token)) {
    let mut prev: Option<Token> = None;
    for t in Lexer::new(sql).filter(|t| !t.kind.is_trivia()) {
        let word = t.text(sql);
        if let Some(p) = prev {
            if needs_space(sql, p, t) {
                text.push(' ');
            }
        }
        let after_dot = prev.is_some_and(|p| p.is_punct(sql, "."));
        if t.kind.is_literal() {
            text.push('?');
            literal(t);
        } else if t.kind == TokenKind::Ident && !after_dot && is_reserved(word) {
            text.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            text.push_str(word);
        }
        prev = Some(t);
    }
}

/// Canonical spacing: none inside `a.b`, after `(`, before `)` `,` `;`, or between a name
/// and its `(`; one space elsewhere.
fn needs_space(sql: &str, prev: Token, cur: Token) -> bool {
    let p = |s| prev.is_punct(sql, s);
    let c = |s| cur.is_punct(sql, s);
    if p("(") || p(".") || c(")") || c(",") || c(".") || c(";") {
        return false;
    }
    !(c("(") && prev.kind.is_ident())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_differing_in_literals_and_spacing_share_a_digest() {
        let groups: &[&[&str]] = &[
            &[
                "SELECT c FROM t WHERE id=5",
                "select c from t where id = 77",
                "SELECT  c\n FROM t /* x */ WHERE id = 'abc'",
            ],
            &[
                "INSERT INTO t (a, b) VALUES (1, 'x')",
                "insert into t(a,b) values(2,\"y\")",
                "INSERT INTO t ( a , b ) VALUES ( 0x1F , b'1' )",
            ],
            &[
                "SELECT COUNT(*) FROM t LIMIT 10",
                "SELECT COUNT(*) FROM t LIMIT 20",
            ],
            &[
                "SELECT a FROM t WHERE b = ?",
                "SELECT a FROM t WHERE b = 1.5e3",
            ],
            &["/*!40101 SELECT 1 */", "SELECT 2"],
        ];
        for group in groups {
            let digests: Vec<_> = group.iter().map(|sql| normalize_digest(sql).text).collect();
            assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:#?}");
        }
    }

    #[test]
    fn digest_text_is_canonical() {
        let cases = [
            ("SELECT c FROM t WHERE id=5", "select c from t where id = ?"),
            (
                "select `T`.c, db.T.d from db.T as `T`",
                "select `T`.c, db.T.d from db.T as `T`",
            ),
            ("SELECT t.select FROM t", "select t.select from t"),
            (
                "SELECT NOW() , count( * ) FROM t",
                "select NOW(), count(*) from t",
            ),
            (
                "INSERT INTO t VALUES (1,2),(3,4);",
                "insert into t values(?, ?), (?, ?);",
            ),
            ("/*!strata:dnid=1*/ SELECT 1", "/*!strata:dnid=1*/ select ?"),
            ("SELECT @a, @@session.x, ?", "select @a, @@session.x, ?"),
            ("SELECT 'unterminated", "select 'unterminated"),
        ];
        for (sql, digest) in cases {
            assert_eq!(normalize_digest(sql).text, digest, "digest of {sql}");
        }
    }

    #[test]
    fn digest_reports_replaced_literals_in_order() {
        let sql = "UPDATE t SET a = 'x', b = -2.5 WHERE id IN (7, 0x10)";
        let literals: Vec<_> = normalize_digest(sql)
            .literals
            .iter()
            .map(|t| t.text(sql))
            .collect();
        assert_eq!(literals, ["'x'", "2.5", "7", "0x10"]);
    }

    #[test]
    fn names_differing_in_case_keep_distinct_digests() {
        assert_ne!(
            normalize_digest("SELECT * FROM Orders").text,
            normalize_digest("SELECT * FROM orders").text
        );
    }
}
