//! Which `Com_*` counter a client's statement counts in, as MariaDB 10.11 names them:
//! derived from the statement's first words, the way MariaDB's parser sets its
//! `sql_command`. A statement whose words name no counter counts in none.

use strata_sql::{classify, code_tokens, StatementKind};

/// MariaDB 10.11's `Com_*` counters, without the `Com_` prefix, sorted (binary search).
pub const COM_NAMES: [&str; 168] = [
    "admin_commands",
    "alter_db",
    "alter_db_upgrade",
    "alter_event",
    "alter_function",
    "alter_procedure",
    "alter_sequence",
    "alter_server",
    "alter_table",
    "alter_user",
    "analyze",
    "assign_to_keycache",
    "backup",
    "backup_lock",
    "begin",
    "binlog",
    "call_procedure",
    "change_db",
    "change_master",
    "check",
    "checksum",
    "commit",
    "compound_sql",
    "create_db",
    "create_event",
    "create_function",
    "create_index",
    "create_package",
    "create_package_body",
    "create_procedure",
    "create_role",
    "create_sequence",
    "create_server",
    "create_table",
    "create_temporary_table",
    "create_trigger",
    "create_udf",
    "create_user",
    "create_view",
    "dealloc_sql",
    "delete",
    "delete_multi",
    "do",
    "drop_db",
    "drop_event",
    "drop_function",
    "drop_index",
    "drop_package",
    "drop_package_body",
    "drop_procedure",
    "drop_role",
    "drop_sequence",
    "drop_server",
    "drop_table",
    "drop_temporary_table",
    "drop_trigger",
    "drop_user",
    "drop_view",
    "empty_query",
    "execute_immediate",
    "execute_sql",
    "flush",
    "get_diagnostics",
    "grant",
    "grant_role",
    "ha_close",
    "ha_open",
    "ha_read",
    "help",
    "insert",
    "insert_select",
    "install_plugin",
    "kill",
    "load",
    "lock_tables",
    "optimize",
    "preload_keys",
    "prepare_sql",
    "purge",
    "purge_before_date",
    "release_savepoint",
    "rename_table",
    "rename_user",
    "repair",
    "replace",
    "replace_select",
    "reset",
    "resignal",
    "revoke",
    "revoke_all",
    "revoke_role",
    "rollback",
    "rollback_to_savepoint",
    "savepoint",
    "select",
    "set_option",
    "show_analyze",
    "show_authors",
    "show_binlog_events",
    "show_binlog_status",
    "show_binlogs",
    "show_charsets",
    "show_collations",
    "show_contributors",
    "show_create_db",
    "show_create_event",
    "show_create_func",
    "show_create_package",
    "show_create_package_body",
    "show_create_proc",
    "show_create_table",
    "show_create_trigger",
    "show_create_user",
    "show_databases",
    "show_engine_logs",
    "show_engine_mutex",
    "show_engine_status",
    "show_errors",
    "show_events",
    "show_explain",
    "show_fields",
    "show_function_status",
    "show_generic",
    "show_grants",
    "show_keys",
    "show_open_tables",
    "show_package_body_status",
    "show_package_status",
    "show_plugins",
    "show_privileges",
    "show_procedure_status",
    "show_processlist",
    "show_profile",
    "show_profiles",
    "show_relaylog_events",
    "show_slave_hosts",
    "show_slave_status",
    "show_status",
    "show_storage_engines",
    "show_table_status",
    "show_tables",
    "show_triggers",
    "show_variables",
    "show_warnings",
    "shutdown",
    "signal",
    "start_all_slaves",
    "start_slave",
    "stmt_close",
    "stmt_execute",
    "stmt_fetch",
    "stmt_prepare",
    "stmt_reprepare",
    "stmt_reset",
    "stmt_send_long_data",
    "stop_all_slaves",
    "stop_slave",
    "truncate",
    "uninstall_plugin",
    "unlock_tables",
    "update",
    "update_multi",
    "xa_commit",
    "xa_end",
    "xa_prepare",
    "xa_recover",
    "xa_rollback",
    "xa_start",
];

/// The index in `COM_NAMES` of a counter name without its `Com_` prefix (any case).
pub fn index_of(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    COM_NAMES.binary_search(&lower.as_str()).ok()
}

/// The counters of the statements MariaDB runs through its SELECT path
/// (`execute_sqlcom_select`), which counts `Empty_queries` when they return no row.
/// SHOW STATUS goes that way too but puts the session's counters back as they were
/// (`execute_show_status`): it counts nothing there.
const SELECT_PATH: [&str; 22] = [
    "select",
    "show_analyze",
    "show_charsets",
    "show_collations",
    "show_databases",
    "show_events",
    "show_explain",
    "show_fields",
    "show_function_status",
    "show_generic",
    "show_keys",
    "show_open_tables",
    "show_package_body_status",
    "show_package_status",
    "show_plugins",
    "show_procedure_status",
    "show_profile",
    "show_storage_engines",
    "show_table_status",
    "show_tables",
    "show_triggers",
    "show_variables",
];

/// True when a statement counted in `com` (an index in `COM_NAMES`) counts in
/// `Empty_queries` when it returns no row.
pub fn counts_empty(com: usize) -> bool {
    COM_NAMES
        .get(com)
        .is_some_and(|name| SELECT_PATH.contains(name))
}

/// How many leading words a statement's counter is decided from.
const WORDS: usize = 24;

/// The `Com_*` counter (its index in `COM_NAMES`) a statement `sql` counts in.
pub fn of_statement(sql: &str) -> Option<usize> {
    name_of(sql).and_then(index_of)
}

/// The counter name (without `Com_`) a statement counts in.
fn name_of(sql: &str) -> Option<&'static str> {
    let kind = classify(sql);
    // The common statements need no more than their kind (this runs per statement).
    match kind {
        StatementKind::Select => return Some("select"),
        StatementKind::Set => return Some("set_option"),
        StatementKind::Use => return Some("change_db"),
        StatementKind::Begin => return Some("begin"),
        StatementKind::Commit => return Some("commit"),
        StatementKind::Rollback => return Some("rollback"),
        _ => {}
    }
    // Words uppercased, punctuation as itself: enough to tell the counters apart.
    let words: Vec<String> = code_tokens(sql)
        .take(WORDS)
        .map(|t| t.text(sql).to_ascii_uppercase())
        .collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    if w.is_empty() {
        return Some("empty_query");
    }
    let has = |word: &str| w.contains(&word);
    Some(match kind {
        StatementKind::Select => "select",
        StatementKind::Insert if has("SELECT") => "insert_select",
        StatementKind::Insert => "insert",
        StatementKind::Replace if has("SELECT") => "replace_select",
        StatementKind::Replace => "replace",
        StatementKind::Update => {
            let head = w.iter().take_while(|x| **x != "SET");
            if head.clone().any(|x| *x == "," || *x == "JOIN") {
                "update_multi"
            } else {
                "update"
            }
        }
        StatementKind::Delete => delete_name(&w),
        StatementKind::Set => "set_option",
        StatementKind::Use => "change_db",
        StatementKind::Show => show_name(&w),
        StatementKind::Begin => "begin",
        StatementKind::Commit => "commit",
        StatementKind::Rollback => "rollback",
        StatementKind::RollbackToSavepoint => "rollback_to_savepoint",
        StatementKind::Savepoint => "savepoint",
        StatementKind::Release => "release_savepoint",
        StatementKind::Lock if has("INSTANCE") => return None,
        StatementKind::Lock => "lock_tables",
        StatementKind::Unlock if has("INSTANCE") => return None,
        StatementKind::Unlock => "unlock_tables",
        StatementKind::Create => object_name("create", &w)?,
        StatementKind::Alter => object_name("alter", &w)?,
        StatementKind::Drop => object_name("drop", &w)?,
        StatementKind::Truncate => "truncate",
        StatementKind::Rename if has("USER") => "rename_user",
        StatementKind::Rename => "rename_table",
        StatementKind::Kill => "kill",
        StatementKind::Call => "call_procedure",
        StatementKind::Prepare => "prepare_sql",
        StatementKind::Execute if w.get(1) == Some(&"IMMEDIATE") => "execute_immediate",
        StatementKind::Execute => "execute_sql",
        StatementKind::Deallocate => "dealloc_sql",
        StatementKind::Do => "do",
        // DESCRIBE t is SHOW COLUMNS; EXPLAIN of a statement counts as that statement.
        StatementKind::Explain => explain_name(sql, &w)?,
        StatementKind::Help => "help",
        StatementKind::Load if w.get(1) == Some(&"INDEX") => "preload_keys",
        StatementKind::Load => "load",
        StatementKind::Xa => match w.get(1).copied() {
            Some("START" | "BEGIN") => "xa_start",
            Some("END") => "xa_end",
            Some("PREPARE") => "xa_prepare",
            Some("COMMIT") => "xa_commit",
            Some("ROLLBACK") => "xa_rollback",
            Some("RECOVER") => "xa_recover",
            _ => return None,
        },
        StatementKind::Other => other_name(&w)?,
    })
}

/// DELETE of one table, or of several (`DELETE t1, t2 FROM ...`, `... USING ...`).
fn delete_name(w: &[&str]) -> &'static str {
    let from = w.iter().position(|x| *x == "FROM");
    let named_before_from = from.is_some_and(|i| {
        w[1..i]
            .iter()
            .any(|x| !matches!(*x, "LOW_PRIORITY" | "QUICK" | "IGNORE"))
    });
    if named_before_from || w.iter().any(|x| *x == "USING" || *x == "JOIN") {
        "delete_multi"
    } else {
        "delete"
    }
}

/// EXPLAIN / DESCRIBE: a table's columns, or the statement explained.
fn explain_name(sql: &str, w: &[&str]) -> Option<&'static str> {
    let mut rest = 1;
    while let Some(word) = w.get(rest) {
        match *word {
            "EXTENDED" | "PARTITIONS" | "ANALYZE" => rest += 1,
            "FORMAT" => rest += 3,
            _ => break,
        }
    }
    match w.get(rest).copied() {
        Some("SELECT" | "WITH" | "(") => Some("select"),
        Some("INSERT" | "REPLACE" | "UPDATE" | "DELETE") => {
            let start = code_tokens(sql).nth(rest)?.span.start;
            sql.get(start..).and_then(name_of)
        }
        Some("FOR") => Some("show_explain"),
        Some(_) => Some("show_fields"),
        None => None,
    }
}

/// CREATE / ALTER / DROP of an object: the object's word decides, after the modifiers
/// MariaDB allows before it (OR REPLACE, DEFINER = ..., ALGORITHM = ..., ONLINE, ...).
fn object_name(verb: &str, w: &[&str]) -> Option<&'static str> {
    let temporary = w.iter().take(4).any(|x| *x == "TEMPORARY");
    let object = w.iter().skip(1).position(|x| {
        matches!(
            *x,
            "TABLE"
                | "DATABASE"
                | "SCHEMA"
                | "INDEX"
                | "VIEW"
                | "FUNCTION"
                | "PROCEDURE"
                | "TRIGGER"
                | "EVENT"
                | "USER"
                | "ROLE"
                | "SEQUENCE"
                | "SERVER"
                | "PACKAGE"
                | "AGGREGATE"
        )
    })?;
    let word = w[object + 1];
    let next = w.get(object + 2).copied();
    let name = match (verb, word) {
        ("create", "TABLE") if temporary => "create_temporary_table",
        ("drop", "TABLE") if temporary => "drop_temporary_table",
        ("create", "TABLE") => "create_table",
        ("alter", "TABLE") => "alter_table",
        ("drop", "TABLE") => "drop_table",
        ("create", "DATABASE" | "SCHEMA") => "create_db",
        ("alter", "DATABASE" | "SCHEMA") if w.contains(&"UPGRADE") => "alter_db_upgrade",
        ("alter", "DATABASE" | "SCHEMA") => "alter_db",
        ("drop", "DATABASE" | "SCHEMA") => "drop_db",
        ("create", "INDEX") => "create_index",
        ("drop", "INDEX") => "drop_index",
        ("create" | "alter", "VIEW") => "create_view",
        ("drop", "VIEW") => "drop_view",
        ("create", "FUNCTION" | "AGGREGATE") if w.contains(&"SONAME") => "create_udf",
        ("create", "FUNCTION" | "AGGREGATE") => "create_function",
        ("alter", "FUNCTION") => "alter_function",
        ("drop", "FUNCTION") => "drop_function",
        ("create", "PROCEDURE") => "create_procedure",
        ("alter", "PROCEDURE") => "alter_procedure",
        ("drop", "PROCEDURE") => "drop_procedure",
        ("create", "TRIGGER") => "create_trigger",
        ("drop", "TRIGGER") => "drop_trigger",
        ("create", "EVENT") => "create_event",
        ("alter", "EVENT") => "alter_event",
        ("drop", "EVENT") => "drop_event",
        ("create", "USER") => "create_user",
        ("alter", "USER") => "alter_user",
        ("drop", "USER") => "drop_user",
        ("create", "ROLE") => "create_role",
        ("drop", "ROLE") => "drop_role",
        ("create", "SEQUENCE") => "create_sequence",
        ("alter", "SEQUENCE") => "alter_sequence",
        ("drop", "SEQUENCE") => "drop_sequence",
        ("create", "SERVER") => "create_server",
        ("alter", "SERVER") => "alter_server",
        ("drop", "SERVER") => "drop_server",
        ("create", "PACKAGE") if next == Some("BODY") => "create_package_body",
        ("create", "PACKAGE") => "create_package",
        ("drop", "PACKAGE") if next == Some("BODY") => "drop_package_body",
        ("drop", "PACKAGE") => "drop_package",
        _ => return None,
    };
    Some(name)
}

/// SHOW ...: the words after SHOW and its modifiers decide.
fn show_name(w: &[&str]) -> &'static str {
    let mut i = 1;
    while matches!(
        w.get(i).copied(),
        Some("FULL" | "GLOBAL" | "SESSION" | "LOCAL" | "EXTENDED" | "ALL")
    ) {
        i += 1;
    }
    let at = |k: usize| w.get(i + k).copied().unwrap_or("");
    match at(0) {
        "STATUS" => "show_status",
        "VARIABLES" => "show_variables",
        "TABLES" => "show_tables",
        "DATABASES" | "SCHEMAS" => "show_databases",
        "TABLE" if at(1) == "STATUS" => "show_table_status",
        "OPEN" => "show_open_tables",
        "COLUMNS" | "FIELDS" => "show_fields",
        "INDEX" | "INDEXES" | "KEYS" => "show_keys",
        "WARNINGS" => "show_warnings",
        "ERRORS" => "show_errors",
        // SHOW COUNT(*) WARNINGS / ERRORS.
        "COUNT" if w.contains(&"ERRORS") => "show_errors",
        "COUNT" => "show_warnings",
        "PROCESSLIST" => "show_processlist",
        "GRANTS" => "show_grants",
        "TRIGGERS" => "show_triggers",
        "EVENTS" => "show_events",
        "FUNCTION" if at(1) == "STATUS" => "show_function_status",
        "PROCEDURE" if at(1) == "STATUS" => "show_procedure_status",
        "PACKAGE" if at(1) == "BODY" => "show_package_body_status",
        "PACKAGE" => "show_package_status",
        "PROFILE" => "show_profile",
        "PROFILES" => "show_profiles",
        "ENGINES" | "STORAGE" => "show_storage_engines",
        "ENGINE" if w.contains(&"MUTEX") => "show_engine_mutex",
        "ENGINE" if w.contains(&"LOGS") => "show_engine_logs",
        "ENGINE" => "show_engine_status",
        "CHARACTER" | "CHARSET" => "show_charsets",
        "COLLATION" => "show_collations",
        "PLUGINS" => "show_plugins",
        "PRIVILEGES" => "show_privileges",
        "AUTHORS" => "show_authors",
        "CONTRIBUTORS" => "show_contributors",
        "MASTER" | "BINLOG" if at(1) == "STATUS" => "show_binlog_status",
        "BINLOG" => "show_binlog_events",
        "RELAYLOG" => "show_relaylog_events",
        "BINARY" | "MASTER" => "show_binlogs",
        "SLAVE" | "REPLICA" if at(1) == "HOSTS" => "show_slave_hosts",
        "SLAVE" | "REPLICA" | "ALL_SLAVES_STATUS" => "show_slave_status",
        "EXPLAIN" => "show_explain",
        "ANALYZE" => "show_analyze",
        "CREATE" => match at(1) {
            "DATABASE" | "SCHEMA" => "show_create_db",
            "FUNCTION" => "show_create_func",
            "PROCEDURE" => "show_create_proc",
            "TRIGGER" => "show_create_trigger",
            "EVENT" => "show_create_event",
            "USER" => "show_create_user",
            "PACKAGE" if at(2) == "BODY" => "show_create_package_body",
            "PACKAGE" => "show_create_package",
            _ => "show_create_table",
        },
        _ => "show_generic",
    }
}

/// Statements the classifier leaves as "other", by their first words.
fn other_name(w: &[&str]) -> Option<&'static str> {
    let second = w.get(1).copied().unwrap_or("");
    Some(match w.first().copied().unwrap_or("") {
        "GRANT" if w.contains(&"ON") => "grant",
        "GRANT" => "grant_role",
        "REVOKE" if w.contains(&"ON") => "revoke",
        "REVOKE" if second == "ALL" => "revoke_all",
        "REVOKE" => "revoke_role",
        "FLUSH" => "flush",
        "ANALYZE" => "analyze",
        "CHECK" => "check",
        "CHECKSUM" => "checksum",
        "OPTIMIZE" => "optimize",
        "REPAIR" => "repair",
        "HANDLER" => match w.get(2).copied() {
            Some("OPEN") => "ha_open",
            Some("CLOSE") => "ha_close",
            _ => "ha_read",
        },
        "SIGNAL" => "signal",
        "RESIGNAL" => "resignal",
        "GET" => "get_diagnostics",
        "INSTALL" => "install_plugin",
        "UNINSTALL" => "uninstall_plugin",
        "BACKUP" if second == "LOCK" => "backup_lock",
        "BACKUP" => "backup",
        "SHUTDOWN" => "shutdown",
        "PURGE" if w.contains(&"BEFORE") => "purge_before_date",
        "PURGE" => "purge",
        "RESET" => "reset",
        "CACHE" => "assign_to_keycache",
        "BINLOG" => "binlog",
        "BEGIN" | "IF" | "CASE" | "LOOP" | "WHILE" | "REPEAT" | "FOR" => "compound_sql",
        "CHANGE" => "change_master",
        "START" if second == "ALL" => "start_all_slaves",
        "START" => "start_slave",
        "STOP" if second == "ALL" => "stop_all_slaves",
        "STOP" => "stop_slave",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(sql: &str) -> Option<&'static str> {
        of_statement(sql).map(|i| COM_NAMES[i])
    }

    #[test]
    fn the_names_are_sorted_for_binary_search() {
        assert!(COM_NAMES.windows(2).all(|p| p[0] < p[1]));
    }

    #[test]
    fn statements_count_in_mariadbs_counters() {
        for (sql, want) in [
            ("select 1", Some("select")),
            ("SELECT @@version", Some("select")),
            ("set names utf8mb4", Some("set_option")),
            ("insert into t select * from u", Some("insert_select")),
            ("insert into t values (1)", Some("insert")),
            ("update t, u set t.a = 1", Some("update_multi")),
            ("update t set a = 1", Some("update")),
            ("delete from t where a = 1", Some("delete")),
            ("delete t from t join u", Some("delete_multi")),
            ("show session status like 'x'", Some("show_status")),
            ("show full columns from t", Some("show_fields")),
            ("show create table t", Some("show_create_table")),
            ("show count(*) warnings", Some("show_warnings")),
            (
                "create temporary table t (a int)",
                Some("create_temporary_table"),
            ),
            (
                "create or replace definer = a@b view v as select 1",
                Some("create_view"),
            ),
            ("drop table if exists t", Some("drop_table")),
            (
                "create function f() returns int return 1",
                Some("create_function"),
            ),
            ("describe t", Some("show_fields")),
            ("explain select 1", Some("select")),
            ("flush status", Some("flush")),
            ("xa begin 'x'", Some("xa_start")),
            ("", Some("empty_query")),
            ("lock instance for backup", None),
        ] {
            assert_eq!(name(sql), want, "{sql}");
        }
    }
}
