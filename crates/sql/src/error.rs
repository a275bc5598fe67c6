//! Errors of the statement parsers, worded as MariaDB words them so the session can send
//! them to the client unchanged (`code()` and `sqlstate()` give the rest of the ERR packet).

/// A statement the parsers reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// ER_PARSE_ERROR (1064): the text is not valid for the statement.
    #[error("You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '{near}' at line {line}")]
    Syntax {
        /// The input from the offending token on, at most 80 characters (as MySQL shows it).
        near: String,
        /// 1-based line of the offending token.
        line: u32,
        /// What the parser expected, for logs.
        expected: &'static str,
    },
    /// ER_WRONG_VALUE_FOR_VAR (1231): a variable set to a value it cannot take.
    #[error("Variable '{variable}' can't be set to the value of '{value}'")]
    WrongValue {
        /// The variable, lowercased.
        variable: String,
        /// The value as written.
        value: String,
    },
    /// ER_NOT_SUPPORTED_YET (1235): valid MySQL that Strata does not handle.
    #[error("This version of MySQL doesn't yet support '{0}'")]
    Unsupported(String),
}

impl SqlError {
    /// MySQL error number.
    pub fn code(&self) -> u16 {
        match self {
            SqlError::Syntax { .. } => 1064,
            SqlError::WrongValue { .. } => 1231,
            SqlError::Unsupported(_) => 1235,
        }
    }

    /// SQLSTATE of the error.
    pub fn sqlstate(&self) -> &'static str {
        "42000"
    }

    /// A syntax error at byte `offset` of `src`.
    pub(crate) fn syntax_at(src: &str, offset: usize, expected: &'static str) -> SqlError {
        let offset = offset.min(src.len());
        let rest = src.get(offset..).unwrap_or("");
        // MariaDB parses the text without its trailing blanks.
        let near = match rest.char_indices().nth(80) {
            Some((cut, _)) => &rest[..cut],
            None => rest.trim_end(),
        };
        let line = 1 + src.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        SqlError::Syntax {
            near: near.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            expected,
        }
    }
}

/// Asserts that `parse` rejects each statement with a syntax error near the given text
/// (the parsers' tests share it).
#[cfg(test)]
pub(crate) fn assert_syntax_errors<T: std::fmt::Debug>(
    parse: impl Fn(&str) -> Result<T, SqlError>,
    cases: &[(&str, &str)],
) {
    for &(sql, near) in cases {
        match parse(sql) {
            Err(SqlError::Syntax { near: got, .. }) => assert_eq!(got, near, "parsing {sql}"),
            other => panic!("{sql}: expected a syntax error, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_reads_like_mariadb() {
        let err = SqlError::syntax_at("SET\nNAMES", 4, "charset");
        assert_eq!(
            err.to_string(),
            "You have an error in your SQL syntax; check the manual that corresponds to your \
             MariaDB server version for the right syntax to use near 'NAMES' at line 2"
        );
        assert_eq!((err.code(), err.sqlstate()), (1064, "42000"));
    }

    #[test]
    fn near_text_is_cut_at_80_characters() {
        let sql = "é".repeat(100);
        let SqlError::Syntax { near, .. } = SqlError::syntax_at(&sql, 0, "x") else {
            panic!("not a syntax error");
        };
        assert_eq!(near.chars().count(), 80);
    }
}
