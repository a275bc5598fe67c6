//! Statements over information_schema about one table: `... WHERE table_schema =
//! DATABASE() AND table_name = 't'`, the question mariadb-dump asks per table. Such a
//! statement can be answered on a data node holding that table, which for a table
//! placed on other nodes than the database's home is the only place that knows it.

use crate::lexer::{ident_value, string_value};
use crate::{code_tokens, Token, TokenKind};

/// The one table a statement over information_schema is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePin {
    /// The schema compared with `TABLE_SCHEMA` (or `EVENT_OBJECT_SCHEMA`); None for
    /// `DATABASE()` / `SCHEMA()`, the current database.
    pub schema: Option<String>,
    /// The table name compared with `TABLE_NAME` (or `EVENT_OBJECT_TABLE`).
    pub table: String,
}

/// The table `sql` is about, when its conditions pin both the schema and one table
/// name with `column = literal` and nothing can widen them: no `OR`, `UNION`,
/// `INTERSECT`, `EXCEPT`, no subquery (one SELECT) and one table name only. None
/// otherwise.
pub fn information_schema_table_pin(sql: &str) -> Option<TablePin> {
    let tokens: Vec<Token> = code_tokens(sql).collect();
    if tokens
        .iter()
        .filter(|t| t.is_keyword(sql, "SELECT"))
        .count()
        > 1
    {
        return None;
    }
    let mut schema: Option<Option<String>> = None;
    let mut table: Option<String> = None;
    for (i, t) in tokens.iter().enumerate() {
        if ["OR", "UNION", "INTERSECT", "EXCEPT", "||"]
            .iter()
            .any(|w| t.is_keyword(sql, w) || t.is_punct(sql, w))
        {
            return None;
        }
        if !matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent)
            || !tokens.get(i + 1).is_some_and(|n| n.is_punct(sql, "="))
        {
            continue;
        }
        let column = ident_value(t.text(sql)).to_ascii_uppercase();
        let Some(value) = tokens.get(i + 2) else {
            continue;
        };
        let literal =
            (value.kind == TokenKind::String).then(|| string_value(value.text(sql)).into_owned());
        match column.as_str() {
            "TABLE_NAME" | "EVENT_OBJECT_TABLE" => {
                let name = literal?;
                if table.as_ref().is_some_and(|t| *t != name) {
                    return None;
                }
                table = Some(name);
            }
            "TABLE_SCHEMA" | "EVENT_OBJECT_SCHEMA" => {
                let pinned = match literal {
                    Some(name) => Some(name),
                    None if is_current_database(sql, &tokens[i + 2..]) => None,
                    None => return None,
                };
                if schema.as_ref().is_some_and(|s| *s != pinned) {
                    return None;
                }
                schema = Some(pinned);
            }
            _ => {}
        }
    }
    Some(TablePin {
        schema: schema?,
        table: table?,
    })
}

/// True when `tokens` start with `DATABASE()` or `SCHEMA()`.
fn is_current_database(sql: &str, tokens: &[Token]) -> bool {
    matches!(tokens, [f, open, close, ..]
        if (f.is_keyword(sql, "DATABASE") || f.is_keyword(sql, "SCHEMA"))
            && open.is_punct(sql, "(")
            && close.is_punct(sql, ")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(schema: Option<&str>, table: &str) -> Option<TablePin> {
        Some(TablePin {
            schema: schema.map(str::to_string),
            table: table.to_string(),
        })
    }

    #[test]
    fn pins_the_questions_mariadb_dump_asks_per_table() {
        let cases = [
            (
                "select column_name, extra, generation_expression, data_type from \
                 information_schema.columns where table_schema=database() and table_name='t1' \
                 order by ordinal_position",
                pin(None, "t1"),
            ),
            (
                "SELECT engine, table_type FROM INFORMATION_SCHEMA.TABLES WHERE \
                 table_schema = DATABASE() AND table_name = 'v'",
                pin(None, "v"),
            ),
            (
                "SELECT `COLUMN_NAME` AS `Field` FROM `INFORMATION_SCHEMA`.`COLUMNS` \
                 WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION",
                pin(Some("shop"), "orders"),
            ),
            (
                "SELECT TRIGGER_NAME FROM INFORMATION_SCHEMA.TRIGGERS WHERE \
                 EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = 'it''s'",
                pin(None, "it's"),
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(information_schema_table_pin(sql), expected, "{sql}");
        }
    }

    #[test]
    fn anything_that_may_reach_other_tables_is_not_pinned() {
        for sql in [
            "SELECT * FROM information_schema.tables WHERE table_schema = DATABASE()",
            "SELECT * FROM information_schema.tables WHERE table_name = 't'",
            "SELECT * FROM information_schema.tables WHERE table_schema = 'a' AND \
             (table_name = 't' OR table_name = 'u')",
            "SELECT * FROM information_schema.tables WHERE table_schema = 'a' AND \
             table_name = 't' UNION SELECT * FROM information_schema.tables",
            "SELECT * FROM information_schema.tables WHERE table_schema = 'a' AND \
             table_name = 't' AND table_name = 'u'",
            "SELECT * FROM information_schema.tables WHERE table_schema = 'a' AND \
             table_schema = 'b' AND table_name = 't'",
            "SELECT * FROM information_schema.tables WHERE table_schema = @db AND table_name = 't'",
            "SELECT * FROM information_schema.tables WHERE table_schema = 'a' AND table_name = t2",
            "SELECT * FROM information_schema.tables WHERE table_schema = 'a' AND table_name IN \
             (SELECT table_name FROM information_schema.columns WHERE table_name = 't')",
        ] {
            assert_eq!(information_schema_table_pin(sql), None, "{sql}");
        }
    }
}
