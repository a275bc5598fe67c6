//! `USE db`: the session switches its logical database without asking a storage node.

use crate::error::SqlError;
use crate::parser::Parser;

/// The database name of a `USE` statement, unquoted.
pub fn parse_use(sql: &str) -> Result<String, SqlError> {
    let mut p = Parser::new(sql);
    p.expect_keyword("USE")?;
    let db = p.ident()?;
    p.expect_end()?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::assert_syntax_errors;

    #[test]
    fn parses_use() {
        let cases = [
            ("USE shop", "shop"),
            ("use `my db`", "my db"),
            ("USE `a``b`;", "a`b"),
            ("/* c */ USE\n\tShop ", "Shop"),
            ("USE 表", "表"),
        ];
        for (sql, db) in cases {
            assert_eq!(parse_use(sql).as_deref(), Ok(db), "parsing {sql}");
        }
    }

    #[test]
    fn malformed_use_is_a_syntax_error() {
        assert_syntax_errors(
            parse_use,
            &[
                ("USE", ""),
                ("USE a b", "b"),
                ("USE 'a'", "'a'"),
                ("USE `a", "`a"),
                ("SELECT 1", "SELECT 1"),
            ],
        );
    }
}
