//! The storage servers' public reference tables: time zone definitions and the server
//! help, the same on every MariaDB and about no account or data. A SELECT (or an EXPLAIN of
//! one) may read them (on the home data node); nothing else of the storage schemas is reachable.

use crate::classify::StatementKind;
use crate::lexer::{ident_value, Token};

/// Tables of `mysql` a SELECT may read.
const PUBLIC_MYSQL_TABLES: &[&str] = &[
    "time_zone",
    "time_zone_name",
    "time_zone_transition",
    "time_zone_transition_type",
    "time_zone_leap_second",
    "help_topic",
    "help_category",
    "help_keyword",
    "help_relation",
];

/// True when `schema.table` is one of [`PUBLIC_MYSQL_TABLES`].
fn is_public_reference_table(schema: &str, table: &str) -> bool {
    schema.eq_ignore_ascii_case("mysql")
        && PUBLIC_MYSQL_TABLES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
}

/// True when the schema name at `toks[i]` (followed by `.`) qualifies a public reference
/// table (not a routine call `mysql.f(...)`).
pub(super) fn qualifies_public_table(sql: &str, toks: &[Token], i: usize) -> bool {
    let (Some(schema), Some(table)) = (toks.get(i), toks.get(i + 2)) else {
        return false;
    };
    table.kind.is_ident()
        && !toks.get(i + 3).is_some_and(|t| t.is_punct(sql, "("))
        && is_public_reference_table(
            &ident_value(schema.text(sql)),
            &ident_value(table.text(sql)),
        )
}

/// True for a statement that only reads: a SELECT, or an EXPLAIN of one (`EXPLAIN
/// [EXTENDED | PARTITIONS | FORMAT = name] SELECT ...`).
pub(super) fn only_reads(sql: &str, kind: StatementKind) -> bool {
    match kind {
        StatementKind::Select => true,
        StatementKind::Explain => {
            let mut toks = crate::lexer::code_tokens(sql).skip(1).peekable();
            while let Some(t) = toks.next() {
                if t.is_keyword(sql, "EXTENDED") || t.is_keyword(sql, "PARTITIONS") {
                    continue;
                }
                if t.is_keyword(sql, "FORMAT") {
                    toks.next_if(|n| n.is_punct(sql, "="));
                    toks.next();
                    continue;
                }
                return t.is_keyword(sql, "SELECT") || t.is_keyword(sql, "WITH");
            }
            false
        }
        _ => false,
    }
}
