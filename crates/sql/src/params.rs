//! Binding a prepared statement's parameters into its text: a prepared statement whose
//! execution spans several data nodes runs as text, with each `?` replaced by the SQL
//! literal of its value.

use crate::error::SqlError;
use crate::lexer::{Lexer, TokenKind};

/// Replaces the `?` placeholders of `sql`, in order, by `literals` (already SQL text).
pub fn inline_params(sql: &str, literals: &[String]) -> Result<String, SqlError> {
    let mut out =
        String::with_capacity(sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut last = 0;
    let mut next = literals.iter();
    for token in Lexer::new(sql) {
        if token.kind != TokenKind::Placeholder {
            continue;
        }
        let literal = next.next().ok_or_else(|| {
            SqlError::Unsupported("more placeholders than parameter values".into())
        })?;
        out.push_str(&sql[last..token.span.start]);
        out.push_str(literal);
        last = token.span.end;
    }
    if next.next().is_some() {
        return Err(SqlError::Unsupported(
            "more parameter values than placeholders".into(),
        ));
    }
    out.push_str(&sql[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_placeholders_but_not_question_marks_in_strings_or_comments() {
        let sql = "SELECT '?', c FROM t /* ? */ WHERE a = ? AND b IN (?, ?) -- ?";
        let got = inline_params(sql, &["1".into(), "'x'".into(), "NULL".into()]);
        assert_eq!(
            got.as_deref(),
            Ok("SELECT '?', c FROM t /* ? */ WHERE a = 1 AND b IN ('x', NULL) -- ?")
        );
        assert!(inline_params("SELECT ?", &[]).is_err());
        assert!(inline_params("SELECT 1", &["1".into()]).is_err());
    }
}
