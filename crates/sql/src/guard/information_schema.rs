//! information_schema tables as Strata shows them: derived tables over the client's logical databases.

use std::borrow::Cow;

use crate::lexer::{code_tokens, ident_value, Token};
use crate::select_list::select_item_texts;

use super::Refusal;

/// What Strata shows for one `information_schema` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InformationSchemaTable {
    /// Metadata of objects in schemas: only rows of the client's logical databases, by
    /// the named schema column.
    PerSchema(&'static str),
    /// The same on every server (character sets, keywords, ...): shown as it is.
    Static,
    /// Strata's own client sessions.
    ProcessList,
    /// Variables, with the ones that identify a storage server masked.
    Variables,
    /// `GLOBAL_STATUS`/`SESSION_STATUS`: the home data node's counters, as `SHOW
    /// STATUS` shows them, with the compute node's own client count.
    Status,
    /// `SYSTEM_VARIABLES`: variables with their metadata, masked as `Variables`.
    SystemVariables,
    /// `PLUGINS`: the plugins built into the storage server (its features, like
    /// `ENGINES`), without authentication, audit, password validation and encryption
    /// plugins and without loaded libraries (which say how the server is secured and
    /// what files it holds).
    Plugins,
    /// `APPLICABLE_ROLES`: the roles granted to the session's account (and to those
    /// roles), from Strata's accounts.
    ApplicableRoles,
    /// `ENABLED_ROLES`: the session's enabled role and the roles granted to it.
    EnabledRoles,
    /// `OPTIMIZER_TRACE`: the trace of the session's last traced statement, read on
    /// the storage connection the session keeps for it.
    OptimizerTrace,
}

/// How `information_schema.<name>` is shown; None for tables Strata does not show (the
/// storage servers' privileges, plugins, InnoDB internals, ...).
pub fn information_schema_table(name: &str) -> Option<InformationSchemaTable> {
    use InformationSchemaTable as T;
    const PER_SCHEMA: &[(&str, &str)] = &[
        ("SCHEMATA", "SCHEMA_NAME"),
        ("TABLES", "TABLE_SCHEMA"),
        ("COLUMNS", "TABLE_SCHEMA"),
        ("STATISTICS", "TABLE_SCHEMA"),
        ("VIEWS", "TABLE_SCHEMA"),
        ("TRIGGERS", "TRIGGER_SCHEMA"),
        ("ROUTINES", "ROUTINE_SCHEMA"),
        ("PARAMETERS", "SPECIFIC_SCHEMA"),
        ("EVENTS", "EVENT_SCHEMA"),
        ("PARTITIONS", "TABLE_SCHEMA"),
        ("KEY_COLUMN_USAGE", "TABLE_SCHEMA"),
        ("TABLE_CONSTRAINTS", "TABLE_SCHEMA"),
        ("REFERENTIAL_CONSTRAINTS", "CONSTRAINT_SCHEMA"),
        ("CHECK_CONSTRAINTS", "CONSTRAINT_SCHEMA"),
        ("KEY_PERIOD_USAGE", "TABLE_SCHEMA"),
        ("PERIODS", "TABLE_SCHEMA"),
        // Tablespace files (mariadb-dump reads it; MariaDB keeps it empty).
        ("FILES", "TABLE_SCHEMA"),
        // `userstat` counters of the client's tables and their indexes (the storage
        // server's: reads Strata makes of them itself count too).
        ("TABLE_STATISTICS", "TABLE_SCHEMA"),
        ("INDEX_STATISTICS", "TABLE_SCHEMA"),
    ];
    const STATIC: &[&str] = &[
        "CHARACTER_SETS",
        "COLLATIONS",
        "COLLATION_CHARACTER_SET_APPLICABILITY",
        "ENGINES",
        "KEYWORDS",
        "SQL_FUNCTIONS",
        "PROFILING",
    ];
    let upper = name.to_ascii_uppercase();
    if let Some((_, col)) = PER_SCHEMA.iter().find(|(t, _)| *t == upper) {
        return Some(T::PerSchema(col));
    }
    if STATIC.contains(&upper.as_str()) {
        return Some(T::Static);
    }
    match upper.as_str() {
        "PROCESSLIST" => Some(T::ProcessList),
        "GLOBAL_VARIABLES" | "SESSION_VARIABLES" => Some(T::Variables),
        "GLOBAL_STATUS" | "SESSION_STATUS" => Some(T::Status),
        "SYSTEM_VARIABLES" => Some(T::SystemVariables),
        "PLUGINS" => Some(T::Plugins),
        "OPTIMIZER_TRACE" => Some(T::OptimizerTrace),
        "APPLICABLE_ROLES" => Some(T::ApplicableRoles),
        "ENABLED_ROLES" => Some(T::EnabledRoles),
        _ => None,
    }
}

/// Replaces each `information_schema.<table>` reference with the derived table
/// `replacement` returns for it (keeping the table's name as its alias unless the query
/// gives one), so the storage node evaluates the client's query over only what the client
/// may see. Err names a table Strata does not show.
pub fn rewrite_information_schema(
    sql: &str,
    mut replacement: impl FnMut(&str, InformationSchemaTable) -> String,
) -> Result<String, Refusal> {
    let named = name_columns_as_written(sql, "information_schema");
    replace_schema_tables(named.as_ref(), "information_schema", |name| {
        match information_schema_table(name) {
            Some(how) => Ok(Some(replacement(name, how))),
            None => Err(Refusal::Unsupported(format!(
                "information_schema.{} through Strata",
                name.to_ascii_uppercase()
            ))),
        }
    })
}

/// Replaces each `<schema>.<table>` table reference for which `replacement` gives a
/// query with that query as a derived table (named as the table unless the statement
/// gives it an alias); a table it gives None for stays as written, an Err is returned.
pub(super) fn replace_schema_tables(
    sql: &str,
    schema: &str,
    mut replacement: impl FnMut(&str) -> Result<Option<String>, Refusal>,
) -> Result<String, Refusal> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let mut out = String::with_capacity(sql.len() + 128);
    let mut last = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let is_schema = t.kind.is_ident()
            && ident_value(t.text(sql)).eq_ignore_ascii_case(schema)
            && toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "."))
            && !(i > 0 && toks[i - 1].is_punct(sql, "."));
        let Some(table_tok) = toks.get(i + 2).filter(|n| is_schema && n.kind.is_ident()) else {
            i += 1;
            continue;
        };
        let name = ident_value(table_tok.text(sql)).into_owned();
        // `[ROW] TYPE OF schema.t[.c]`: a variable's type anchor reads no rows (the
        // server takes the type from its own table).
        let anchor =
            i >= 2 && toks[i - 1].is_keyword(sql, "OF") && toks[i - 2].is_keyword(sql, "TYPE");
        if anchor {
            i += 3;
            continue;
        }
        // `schema.f(...)`: a routine, not a table.
        if toks.get(i + 3).is_some_and(|n| n.is_punct(sql, "(")) {
            i += 3;
            continue;
        }
        // `schema.TABLES.TABLE_NAME`: a column of a table replaced (its alias is the
        // table's name); a table left as written keeps its qualifier.
        if toks.get(i + 3).is_some_and(|n| n.is_punct(sql, ".")) {
            if replacement(&name)?.is_some() {
                out.push_str(&sql[last..t.span.start]);
                last = toks[i + 2].span.start;
            }
            i += 3;
            continue;
        }
        let Some(source) = replacement(&name)? else {
            i += 3;
            continue;
        };
        out.push_str(&sql[last..t.span.start]);
        out.push('(');
        out.push_str(&source);
        out.push(')');
        let aliased = toks.get(i + 3).is_some_and(|n| {
            n.is_keyword(sql, "AS") || (n.kind.is_ident() && !ends_table_reference(n.text(sql)))
        });
        if !aliased {
            out.push_str(" AS `");
            out.push_str(&name.replace('`', "``"));
            out.push('`');
        }
        last = table_tok.span.end;
        i += 3;
    }
    out.push_str(&sql[last..]);
    Ok(out)
}

/// `SELECT table_name FROM information_schema.TABLES ...` with each select item that is
/// a plain column given its name as written (`table_name AS `table_name``). MariaDB
/// names a column read from a base table as the client wrote it, but one read from a
/// derived table by the derived table's column (`TABLE_NAME`), and Strata shows
/// information_schema tables as derived tables. Only a query whose outermost FROM is one
/// information_schema table is changed: there every plain column is one of its columns.
/// `schema` is that table's qualifier (`information_schema`, or `mysql` for the base
/// tables of `mysql` Strata answers).
pub(super) fn name_columns_as_written<'a>(sql: &'a str, schema: &str) -> Cow<'a, str> {
    let Some(items) = select_item_texts(sql) else {
        return Cow::Borrowed(sql);
    };
    let offset = |item: &str| item.as_ptr() as usize - sql.as_ptr() as usize;
    let Some(list_end) = items.last().map(|l| offset(l) + l.len()) else {
        return Cow::Borrowed(sql);
    };
    let rest_sql = &sql[list_end..];
    let rest: Vec<Token> = code_tokens(rest_sql).collect();
    let kw = |i: usize, k: &str| rest.get(i).is_some_and(|t| t.is_keyword(rest_sql, k));
    let one_table = kw(0, "FROM")
        && rest.get(1).is_some_and(|t| {
            t.kind.is_ident() && ident_value(t.text(rest_sql)).eq_ignore_ascii_case(schema)
        })
        && rest.get(2).is_some_and(|t| t.is_punct(rest_sql, "."))
        && rest.get(3).is_some_and(|t| t.kind.is_ident());
    if !one_table {
        return Cow::Borrowed(sql);
    }
    let mut next = 4;
    if kw(next, "AS") {
        next += 2;
    } else if rest
        .get(next)
        .is_some_and(|t| t.kind.is_ident() && !ends_table_reference(t.text(rest_sql)))
    {
        next += 1;
    }
    const CLAUSES: &[&str] = &[
        "WHERE",
        "GROUP",
        "HAVING",
        "ORDER",
        "LIMIT",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "FOR",
        "LOCK",
        "WINDOW",
        "INTO",
        "PROCEDURE",
    ];
    let ends = match rest.get(next) {
        None => true,
        Some(t) => t.is_punct(rest_sql, ";") || CLAUSES.iter().any(|c| t.is_keyword(rest_sql, c)),
    };
    if !ends {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 64);
    let mut last = 0;
    for item in items {
        let toks: Vec<Token> = code_tokens(item).collect();
        // `col`, `t.col`, `information_schema.t.col`: identifiers joined by dots.
        let plain = toks.len() % 2 == 1
            && toks.iter().enumerate().all(|(i, t)| {
                if i % 2 == 0 {
                    t.kind.is_ident()
                } else {
                    t.is_punct(item, ".")
                }
            });
        let Some(name) = toks.last().filter(|_| plain) else {
            continue;
        };
        let end = offset(item) + item.len();
        out.push_str(&sql[last..end]);
        out.push_str(" AS `");
        out.push_str(&ident_value(name.text(item)).replace('`', "``"));
        out.push('`');
        last = end;
    }
    if last == 0 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[last..]);
    Cow::Owned(out)
}

/// Keywords that may follow a table reference and are not its alias.
fn ends_table_reference(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "WHERE",
        "JOIN",
        "INNER",
        "LEFT",
        "RIGHT",
        "CROSS",
        "NATURAL",
        "STRAIGHT_JOIN",
        "ON",
        "USING",
        "GROUP",
        "ORDER",
        "LIMIT",
        "HAVING",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "FOR",
        "LOCK",
        "WINDOW",
        "INTO",
        "PROCEDURE",
        "USE",
        "IGNORE",
        "FORCE",
        "SET",
        "OUTER",
        "FULL",
        "STRAIGHT",
        "RETURNING",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}
