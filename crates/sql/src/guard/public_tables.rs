//! The storage servers' public reference tables: time zone definitions and the server
//! help, the same on every MariaDB and about no account or data. A SELECT (or an EXPLAIN of
//! one) may read them (on the home data node). With `server.storage_globals = "settable"`
//! (storage servers serving this Strata alone) any statement may also name the
//! server-wide data tables of `mysql` ([`is_server_data_table`]); the session routes and
//! authorizes them. Nothing else of the storage schemas is reachable.

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

/// Name prefixes of the server-wide data tables of `mysql`, which hold no account:
/// engine-independent and InnoDB statistics, time zones, help, the log tables. A prefix
/// covers the copies a maintenance script makes (`time_zone_BACKUP`, `column_stats1`);
/// no account table (`user`, `global_priv`, `db`, `tables_priv`, `columns_priv`,
/// `procs_priv`, `proxies_priv`, `roles_mapping`, `servers`, `plugin`, `func`, `proc`)
/// starts with one.
const SERVER_DATA_PREFIXES: &[&str] = &[
    "table_stats",
    "column_stats",
    "index_stats",
    "innodb_table_stats",
    "innodb_index_stats",
    "time_zone",
    "help_",
    "general_log",
    "slow_log",
];

/// Name prefixes of the statistics tables among [`SERVER_DATA_PREFIXES`]: their rows
/// name databases (by physical name) and tables.
const STATISTICS_PREFIXES: &[&str] = &[
    "table_stats",
    "column_stats",
    "index_stats",
    "innodb_table_stats",
    "innodb_index_stats",
];

/// True when `table` starts with one of `prefixes` (ASCII case-insensitive).
fn has_prefix(table: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        table
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    })
}

/// True for a server-wide data table of `mysql` (see [`SERVER_DATA_PREFIXES`]): with
/// storage globals settable a statement may name one.
pub fn is_server_data_table(schema: &str, table: &str) -> bool {
    schema.eq_ignore_ascii_case("mysql") && has_prefix(table, SERVER_DATA_PREFIXES)
}

/// The condition on information_schema's `TABLE_NAME` column that holds for the
/// server-wide data tables of `mysql` (their name prefixes; `LEFT` rather than `LIKE`,
/// whose `_` and escapes depend on the session).
pub fn server_data_table_name_condition() -> String {
    let each: Vec<String> = SERVER_DATA_PREFIXES
        .iter()
        .map(|p| format!("LEFT(TABLE_NAME, {}) = '{p}'", p.len()))
        .collect();
    format!("({})", each.join(" OR "))
}

/// True for a statistics table of `mysql` (`table_stats`, `column_stats`,
/// `index_stats`, `innodb_table_stats`, `innodb_index_stats` and copies of them): its
/// rows name other databases.
pub fn is_statistics_table(schema: &str, table: &str) -> bool {
    schema.eq_ignore_ascii_case("mysql") && has_prefix(table, STATISTICS_PREFIXES)
}

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
    qualifies(sql, toks, i, is_public_reference_table)
}

/// True when the schema name at `toks[i]` (followed by `.`) qualifies a server-wide data
/// table of `mysql` (not a routine call `mysql.f(...)`).
pub(super) fn qualifies_server_data_table(sql: &str, toks: &[Token], i: usize) -> bool {
    // The word before the name, past `IF [NOT] EXISTS`.
    let mut j = i;
    while j > 0
        && ["EXISTS", "NOT", "IF"]
            .iter()
            .any(|k| toks[j - 1].is_keyword(sql, k))
    {
        j -= 1;
    }
    let before = j.checked_sub(1).and_then(|k| toks.get(k));
    let after = |words: &[&str]| before.is_some_and(|t| words.iter().any(|k| t.is_keyword(sql, k)));
    // A routine, trigger, event or view named in `mysql` would resolve the unqualified
    // names of its body there (`DELETE FROM global_priv`): never created, renamed
    // (`ALTER EVENT e RENAME TO mysql.x`) or dropped there.
    if defines_object(sql, toks) && (after(DEFINED_OBJECTS) || after(&["BODY", "TO"])) {
        return false;
    }
    // A column list follows the table in `INSERT [INTO] t (...)` and `CREATE TABLE
    // [IF NOT EXISTS] t (...)`: after these words the name is a table's, never a
    // routine call.
    let column_list = after(&["INTO", "TABLE", "INSERT", "REPLACE"]);
    if column_list {
        let (Some(schema), Some(name)) = (toks.get(i), toks.get(i + 2)) else {
            return false;
        };
        return name.kind.is_ident()
            && is_server_data_table(&ident_value(schema.text(sql)), &ident_value(name.text(sql)));
    }
    qualifies(sql, toks, i, is_server_data_table)
}

/// The objects whose bodies resolve unqualified names in the database they are in.
const DEFINED_OBJECTS: &[&str] = &[
    "TRIGGER",
    "EVENT",
    "VIEW",
    "PROCEDURE",
    "FUNCTION",
    "PACKAGE",
];

/// True for CREATE, ALTER or DROP of a routine, trigger, event, view or package (one of
/// those words among its first words).
fn defines_object(sql: &str, toks: &[Token]) -> bool {
    let Some(first) = toks.first() else {
        return false;
    };
    ["CREATE", "ALTER", "DROP"]
        .iter()
        .any(|k| first.is_keyword(sql, k))
        && toks
            .iter()
            .skip(1)
            .take(10)
            .any(|t| DEFINED_OBJECTS.iter().any(|k| t.is_keyword(sql, k)))
}

/// True when `toks[i] . toks[i + 2]` names a table (not a routine call) that `table`
/// accepts.
fn qualifies(sql: &str, toks: &[Token], i: usize, table: fn(&str, &str) -> bool) -> bool {
    let (Some(schema), Some(name)) = (toks.get(i), toks.get(i + 2)) else {
        return false;
    };
    name.kind.is_ident()
        && !toks.get(i + 3).is_some_and(|t| t.is_punct(sql, "("))
        && table(&ident_value(schema.text(sql)), &ident_value(name.text(sql)))
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
