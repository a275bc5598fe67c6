//! Splits a multi-statement COM_QUERY into its statements at `;` outside quotes and
//! comments, borrowing slices of the original text.

use crate::lexer::Lexer;

/// The statements of `sql`, each trimmed of surrounding whitespace. Empty statements in the
/// middle are kept (the caller answers them with "Query was empty"); empty or comment-only
/// pieces at the end are dropped.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    // Whether the current piece has any code token: comment-only tails are dropped.
    let mut has_code = false;
    let mut last_code_piece = 0;
    for t in Lexer::new(sql) {
        if t.is_punct(sql, ";") {
            pieces.push(sql[start..t.span.start].trim());
            if has_code {
                last_code_piece = pieces.len();
            }
            start = t.span.end;
            has_code = false;
        } else if t.kind.is_code() || t.kind == crate::lexer::TokenKind::Hint {
            has_code = true;
        }
    }
    pieces.push(sql[start..].trim());
    if has_code {
        last_code_piece = pieces.len();
    }
    pieces.truncate(last_code_piece);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let cases: &[(&str, &[&str])] = &[
            ("SELECT 1", &["SELECT 1"]),
            ("SELECT 1;", &["SELECT 1"]),
            ("  SELECT 1 ;\n SELECT 2;  ", &["SELECT 1", "SELECT 2"]),
            ("SELECT ';'; SELECT \";\"", &["SELECT ';'", "SELECT \";\""]),
            ("SELECT `a;b` FROM t", &["SELECT `a;b` FROM t"]),
            (
                "SELECT 1 /* ; */; SELECT 2 -- ;\n",
                &["SELECT 1 /* ; */", "SELECT 2 -- ;"],
            ),
            (
                "SELECT 'it\\';s'; SELECT 2",
                &["SELECT 'it\\';s'", "SELECT 2"],
            ),
            ("SELECT 1;;SELECT 2", &["SELECT 1", "", "SELECT 2"]),
            ("SELECT 1; -- done", &["SELECT 1"]),
            ("SELECT 1;;;", &["SELECT 1"]),
            ("", &[]),
            (" ; ", &[]),
            ("/*!strata:dnid=1*/", &["/*!strata:dnid=1*/"]),
            (
                "SELECT 'unterminated; SELECT 2",
                &["SELECT 'unterminated; SELECT 2"],
            ),
            (
                "SET autocommit=1; SET NAMES utf8mb4; SELECT @@version_comment LIMIT 1",
                &[
                    "SET autocommit=1",
                    "SET NAMES utf8mb4",
                    "SELECT @@version_comment LIMIT 1",
                ],
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(
                split_statements(sql),
                expected.to_vec(),
                "splitting {sql:?}"
            );
        }
    }
}
