//! Default deny for statement text that would reach a storage node. The compute node is a
//! security boundary: a client may act on its logical databases and tables, never on a
//! storage server as a whole (its accounts, files, replication, plugins, internal schemas,
//! other sessions). The session answers what it owns (SHOW, KILL, variables, accounts)
//! itself; everything it would send to a storage node first passes [`check_statement`],
//! which says what is refused and why. The checks are pure and cheap: byte searches
//! first, a lexer pass only when a telling word occurs.

use crate::classify::{classify, StatementKind};
use crate::error::SqlError;
use crate::lexer::{code_tokens, ident_value, string_value, Token, TokenKind};
use crate::search::{contains_ignore_ascii_case, ByteSummary};

/// Decides, for a schema qualifier seen in a statement, whether it names something a
/// client may not reach (the session knows the logical and physical database names).
pub trait SchemaPolicy {
    /// True when `schema` (unquoted, as written) is internal to the storage servers or a
    /// physical database name that is not also a logical one.
    fn denied(&self, schema: &str) -> bool;

    /// False when the text certainly names no denied schema (a byte search before the
    /// lexer runs); true when it may.
    fn may_mention(&self, text: &[u8]) -> bool;

    /// True when `db` names a logical database.
    fn logical(&self, db: &str) -> bool;

    /// True when statements may name the server-wide data tables of `mysql`
    /// (`server.storage_globals = "settable"`; see [`is_server_data_table`]).
    fn server_data_tables(&self) -> bool {
        false
    }
}

/// Schemas every MySQL/MariaDB server keeps for itself.
pub const STORAGE_SCHEMAS: &[&str] = &["mysql", "performance_schema", "sys"];

/// True for the storage servers' own schemas (case-insensitive, as on every platform
/// these names are lowercase and clients write them in any case).
pub fn is_storage_schema(schema: &str) -> bool {
    STORAGE_SCHEMAS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(schema))
}

/// Checks a statement the session is about to send to a storage node (or to plan):
/// Ok when nothing in it reaches past the client's logical databases.
pub fn check_statement(
    sql: &str,
    kind: StatementKind,
    bytes: ByteSummary,
    schemas: &dyn SchemaPolicy,
) -> Result<(), Refusal> {
    check_kind(sql, kind, schemas)?;
    check_text(
        sql.as_bytes(),
        sql,
        bytes,
        schemas,
        public_tables::only_reads(sql, kind),
    )
}

/// Statement kinds and what their leading words say. The kinds applications send most
/// (SELECT and DML) are decided without lexing.
fn check_kind(sql: &str, kind: StatementKind, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    use StatementKind as K;
    match kind {
        K::Other
        | K::Create
        | K::Alter
        | K::Drop
        | K::Rename
        | K::Set
        | K::Load
        | K::Lock
        | K::Unlock
        | K::Xa
        | K::Prepare
        | K::Execute
        | K::Explain => {}
        _ => return Ok(()),
    }
    let words = leading_words(sql, 6);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match kind {
        K::Other => check_other(sql, &words, schemas),
        K::Create | K::Alter | K::Drop => check_object_ddl(sql, kind, &words, schemas),
        K::Rename if word(1) == "USER" => Err(Refusal::AccountStatement("RENAME USER".into())),
        K::Set if set_word(sql) == "PASSWORD" => {
            Err(Refusal::AccountStatement("SET PASSWORD".into()))
        }
        K::Set if set_word(sql) == "ROLE" || (set_word(sql) == "DEFAULT" && word(2) == "ROLE") => {
            Err(Refusal::AccountStatement("SET ROLE".into()))
        }
        K::Load => check_load(sql, &words),
        K::Lock | K::Unlock if word(1) == "INSTANCE" => {
            Err(Refusal::ServerCommand(format!("{} INSTANCE", word(0))))
        }
        K::Xa => check_xa(sql, &words),
        K::Prepare => check_prepare(sql, schemas),
        K::Execute if word(1) == "IMMEDIATE" => check_execute_immediate(sql, schemas),
        K::Explain => check_explain(&words),
        _ => Ok(()),
    }
}

/// True for the statements that manage accounts (CREATE/ALTER/DROP/RENAME USER, SET
/// PASSWORD, CREATE/DROP ROLE, SET [DEFAULT] ROLE, GRANT, REVOKE, SHOW GRANTS, SHOW CREATE USER, FLUSH PRIVILEGES): the
/// session answers them from its own account store.
pub fn is_account_statement(sql: &str, kind: StatementKind) -> bool {
    use StatementKind as K;
    if !matches!(
        kind,
        K::Other | K::Create | K::Alter | K::Drop | K::Rename | K::Set | K::Show
    ) {
        return false;
    }
    let words = leading_words(sql, 5);
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match kind {
        K::Other => {
            matches!(word(0), "GRANT" | "REVOKE")
                || (word(0) == "FLUSH" && word(1) == "PRIVILEGES" && words.len() == 2)
        }
        K::Create => {
            matches!(word(1), "USER" | "ROLE")
                || (word(1) == "OR" && word(2) == "REPLACE" && matches!(word(3), "USER" | "ROLE"))
        }
        K::Drop => matches!(word(1), "USER" | "ROLE"),
        K::Alter | K::Rename => word(1) == "USER",
        K::Set => {
            let first = set_word(sql);
            first == "PASSWORD" || first == "ROLE" || (first == "DEFAULT" && word(2) == "ROLE")
        }
        K::Show => word(1) == "GRANTS" || (word(1) == "CREATE" && word(2) == "USER"),
        _ => false,
    }
}

/// The first `n` code words, uppercased (identifiers only; punctuation ends nothing but
/// is skipped, so `CREATE DEFINER = x PROCEDURE` still yields its keywords in order).
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    code_tokens(sql)
        .filter(|t| t.kind == TokenKind::Ident)
        .take(n)
        .map(|t| t.text(sql).to_ascii_uppercase())
        .collect()
}

/// The word right after `SET`, uppercased ("" when a variable or anything but a word
/// follows): `SET PASSWORD ...` is an account statement, `SET @x = PASSWORD('a')` is not.
pub fn set_word(sql: &str) -> String {
    let mut toks = code_tokens(sql).skip(1);
    toks.next()
        .filter(|t| t.kind == TokenKind::Ident)
        .map(|t| t.text(sql).to_ascii_uppercase())
        .unwrap_or_default()
}

/// Statements the classifier has no kind for: the server-wide ones are refused, the
/// compound statements MariaDB runs at top level are checked inside, and words that
/// start no MySQL statement are a syntax error as MySQL reports it.
fn check_other(sql: &str, words: &[String], schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    let Some(first_tok) = code_tokens(sql).next() else {
        return Err(Refusal::Empty);
    };
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str).unwrap_or("");
    if first_tok.kind == TokenKind::Ident {
        // FLUSH STATUS and FLUSH TABLE[S] [t, ...] act on the session's connection and
        // the client's tables (the session needs RELOAD for them): their names are
        // checked below like any statement's.
        // FLUSH/RESET QUERY CACHE only defragment or empty the storage servers' query
        // caches (RELOAD, checked where it runs).
        if matches!(
            crate::flush::flush_kind(sql),
            Some(
                crate::flush::Flush::Status
                    | crate::flush::Flush::Tables { .. }
                    | crate::flush::Flush::QueryCache { .. }
            )
        ) {
            return Ok(());
        }
        // CACHE INDEX / LOAD INDEX INTO CACHE act on the client's tables (any schema
        // qualifier is checked below); the session runs them on the tables' data nodes.
        if crate::key_cache::key_cache_op(sql).is_some() {
            return Ok(());
        }
        // FLUSH TABLES WITH READ LOCK is the compute node's own lock, never forwarded.
        match crate::flush::flush_kind(sql) {
            Some(crate::flush::Flush::GlobalReadLock) => return Ok(()),
            Some(crate::flush::Flush::TablesLocked) => {
                return Err(Refusal::Unsupported(
                    "FLUSH TABLES t ... WITH READ LOCK / FOR EXPORT (it would lock a storage server; use LOCK TABLES or FLUSH TABLES WITH READ LOCK)"
                        .into(),
                ))
            }
            _ => {}
        }
        if let Some(what) = server_command(first, second) {
            let toks: Vec<Token> = code_tokens(sql).collect();
            if plugin_paths::installs_from_a_path(sql, &toks) {
                return Ok(());
            }
            return Err(Refusal::ServerCommand(what));
        }
        match first {
            "GRANT" | "REVOKE" => return Err(Refusal::AccountStatement(first.into())),
            // HANDLER reads the client's tables (a schema qualifier is checked below);
            // the session keeps the connection its handlers are open on.
            "HANDLER" => return Ok(()),
            // Table maintenance acts on the client's tables (any schema qualifier
            // is checked below); the session runs it on the tables' data nodes.
            "ANALYZE" | "OPTIMIZE" | "CHECK" | "REPAIR" | "CHECKSUM" => return Ok(()),
            "BEGIN" | "IF" | "WHILE" | "LOOP" | "REPEAT" | "CASE" | "FOR" | "DECLARE" => {
                return check_compound_body(sql, schemas)
            }
            "GET" | "SIGNAL" | "RESIGNAL" => return Ok(()),
            _ => {}
        }
    }
    // `label: BEGIN ... END` is a compound statement too.
    let mut toks = code_tokens(sql);
    let label = toks.next().is_some_and(|t| t.kind.is_ident())
        && toks.next().is_some_and(|t| t.is_punct(sql, ":"));
    if label {
        return check_compound_body(sql, schemas);
    }
    Err(Refusal::Syntax(SqlError::syntax_at(
        sql,
        first_tok.span.start,
        "a statement",
    )))
}

/// The server-wide statement its first two words start, if any.
fn server_command(first: &str, second: &str) -> Option<String> {
    let both = || format!("{first} {second}");
    match first {
        "FLUSH" | "RESET" | "SHUTDOWN" | "RESTART" | "INSTALL" | "UNINSTALL" | "BINLOG"
        | "CLONE" => Some(if second.is_empty() {
            first.to_string()
        } else {
            both()
        }),
        "CHANGE" if matches!(second, "MASTER" | "REPLICATION") => Some(both()),
        "START" | "STOP" if matches!(second, "SLAVE" | "REPLICA" | "ALL" | "GROUP_REPLICATION") => {
            Some(both())
        }
        "PURGE" if matches!(second, "BINARY" | "MASTER" | "LOGS") => Some(both()),
        "BACKUP" if matches!(second, "STAGE" | "LOCK" | "UNLOCK") => Some(both()),
        "CACHE" if second == "INDEX" => Some(both()),
        "LOAD" if second == "INDEX" => Some("LOAD INDEX INTO CACHE".into()),
        "KILL" => Some("KILL of a storage thread".into()),
        _ => None,
    }
}

/// CREATE/ALTER/DROP: account and server objects are refused, definers other than the
/// storage account and table options that reach outside the data directory too.
fn check_object_ddl(
    sql: &str,
    kind: StatementKind,
    words: &[String],
    schemas: &dyn SchemaPolicy,
) -> Result<(), Refusal> {
    let verb = words.first().map(String::as_str).unwrap_or("");
    // The object keyword: skip OR REPLACE, ONLINE, IGNORE, TEMPORARY, UNIQUE, ...
    const MODIFIERS: &[&str] = &[
        "OR",
        "REPLACE",
        "ONLINE",
        "OFFLINE",
        "IGNORE",
        "TEMPORARY",
        "UNIQUE",
        "FULLTEXT",
        "SPATIAL",
        "AGGREGATE",
        "ALGORITHM",
        "UNDEFINED",
        "MERGE",
        "TEMPTABLE",
        "SQL",
        "SECURITY",
        "INVOKER",
        "DEFINER",
        "CURRENT_USER",
        "NONBLOCKING",
    ];
    let object = words
        .iter()
        .skip(1)
        .map(String::as_str)
        .find(|w| !MODIFIERS.contains(w))
        .unwrap_or("");
    match object {
        "USER" => return Err(Refusal::AccountStatement(format!("{verb} USER"))),
        "ROLE" => return Err(Refusal::AccountStatement(format!("{verb} ROLE"))),
        "SERVER" | "TABLESPACE" | "LOGFILE" | "INSTANCE" => {
            return Err(Refusal::ServerCommand(format!("{verb} {object}")))
        }
        // The name is a bare word here, not a qualifier the text checks would see.
        "DATABASE" | "SCHEMA" if kind == StatementKind::Alter => {
            // Strata's own ALTER DATABASE ... RW_SPLIT is answered by the compute node.
            if crate::database::is_database_statement(sql) {
                return Ok(());
            }
            if let Some(name) = crate::database::upgrade_directory_name(sql) {
                return Err(Refusal::UpgradeDirectoryName(name));
            }
            return Err(Refusal::Unsupported("ALTER DATABASE".into()));
        }
        _ => {}
    }
    if kind == StatementKind::Drop {
        return Ok(());
    }
    let toks: Vec<Token> = code_tokens(sql).collect();
    if object == "TABLE" && has_subquery_in_check(sql, &toks) {
        return Err(Refusal::SubqueryInCheck);
    }
    if let Some(f) = (object == "TABLE")
        .then(|| defaults::account_function_default(sql, &toks))
        .flatten()
    {
        return Err(Refusal::Unsupported(format!(
            "a column DEFAULT of {f}() (the storage server would record Strata's own account)"
        )));
    }
    let kw = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    for (i, t) in toks.iter().enumerate() {
        let next_is_eq = toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "="));
        if t.is_keyword(sql, "DEFINER") && next_is_eq {
            // A routine or view runs with its definer's rights on the storage node;
            // only the current user (the storage account) may be named there. The
            // session takes a client's DEFINER clause off before this check (and
            // records it); what still has one here is text it cannot see whole
            // (prepared, dynamic).
            let current = toks
                .get(i + 2)
                .is_some_and(|n| n.is_keyword(sql, "CURRENT_USER"));
            if !current {
                return Err(Refusal::ServerCommand(
                    "a DEFINER clause naming another account".into(),
                ));
            }
        }
        if t.is_keyword(sql, "DIRECTORY") && i > 0 && (kw(i - 1, "DATA") || kw(i - 1, "INDEX")) {
            return Err(Refusal::FileAccess(
                "a DATA/INDEX DIRECTORY table option".into(),
            ));
        }
        if t.is_keyword(sql, "CONNECTION")
            && (next_is_eq || toks.get(i + 1).is_some_and(|n| n.kind == TokenKind::String))
        {
            return Err(Refusal::ServerCommand(
                "a CONNECTION table option (tables of other servers)".into(),
            ));
        }
    }
    for name in engines_named(sql, &toks) {
        // MERGE: the session checks where its UNION tables are (merge.rs). A name no
        // MariaDB engine has (`FALCON`) is the storage server's to substitute with its
        // default engine, as MariaDB does (the session checks the storage server does
        // not know it either: `unknown_engine`).
        let unknown = object == "TABLE" && !known_engine(&name);
        if !(allowed_engine(&name) || unknown) {
            return Err(Refusal::Unsupported(format!("ENGINE={name}")));
        }
    }
    let compound = matches!(
        object,
        "PROCEDURE" | "FUNCTION" | "TRIGGER" | "EVENT" | "PACKAGE"
    );
    if compound {
        // A procedure's dynamic SQL of an expression runs on the compute node, which
        // checks each text as the client's statement (the session refuses it over
        // several data nodes).
        check_body(sql, schemas, object == "PROCEDURE")?;
    }
    Ok(())
}

/// True when a `CHECK (...)` clause of a table definition holds a SELECT.
fn has_subquery_in_check(sql: &str, toks: &[Token]) -> bool {
    toks.windows(2)
        .enumerate()
        .filter(|(_, w)| w[0].is_keyword(sql, "CHECK") && w[1].is_punct(sql, "("))
        .any(|(i, _)| {
            let mut depth = 0usize;
            for t in &toks[i + 1..] {
                if t.is_punct(sql, "(") {
                    depth += 1;
                } else if t.is_punct(sql, ")") {
                    depth -= 1;
                    if depth == 0 {
                        return false;
                    }
                } else if t.is_keyword(sql, "SELECT") {
                    return true;
                }
            }
            false
        })
}

/// LOAD DATA/XML: the server-side form reads a file of the storage host; the LOCAL
/// form reads the client's file, which the session places itself.
fn check_load(sql: &str, words: &[String]) -> Result<(), Refusal> {
    if words.get(1).is_some_and(|w| w == "INDEX") {
        // LOAD INDEX INTO CACHE t, ...: the client's tables, as CACHE INDEX's.
        if crate::key_cache::key_cache_op(sql).is_some() {
            return Ok(());
        }
        return Err(Refusal::ServerCommand("LOAD INDEX INTO CACHE".into()));
    }
    if words.iter().take(4).any(|w| w == "LOCAL") {
        if words.get(1).is_some_and(|w| w == "XML") {
            return Err(Refusal::Unsupported("LOAD XML LOCAL INFILE".into()));
        }
        return Ok(());
    }
    Err(Refusal::FileAccess("LOAD DATA INFILE".into()))
}

/// Client XA: RECOVER lists every prepared branch of the storage server, and the
/// compute node's own branches (`strata:...`) are its alone to finish.
fn check_xa(sql: &str, words: &[String]) -> Result<(), Refusal> {
    if words.get(1).is_some_and(|w| w == "RECOVER") {
        return Err(Refusal::ServerCommand("XA RECOVER".into()));
    }
    let xid = code_tokens(sql).find(|t| matches!(t.kind, TokenKind::String | TokenKind::HexNumber));
    if let Some(t) = xid {
        let text = t.text(sql);
        let value: Vec<u8> = if t.kind == TokenKind::String {
            string_value(text).as_bytes().to_vec()
        } else {
            decode_hex_literal(text).unwrap_or_default()
        };
        if value.len() >= 7 && value[..7].eq_ignore_ascii_case(b"strata:") {
            return Err(Refusal::ServerCommand(
                "XA on a transaction of the compute node".into(),
            ));
        }
    }
    Ok(())
}

/// The bytes of `0x1F` / `X'1F'`.
fn decode_hex_literal(text: &str) -> Option<Vec<u8>> {
    let digits = if let Some(d) = text.strip_prefix("0x") {
        d
    } else {
        text.get(2..text.len().checked_sub(1)?)?
    };
    if digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `PREPARE s FROM 'text'`: the text is a statement like any other; a text held in a
/// user variable cannot be checked, so it is refused.
fn check_prepare(sql: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    // `PREPARE name FROM source` or MariaDB's 1064 at the first word out of place.
    let shape = [
        toks.get(1)
            .is_some_and(|t| t.kind.is_ident() && !t.is_keyword(sql, "FROM")),
        toks.get(2).is_some_and(|t| t.is_keyword(sql, "FROM")),
        toks.len() > 3,
    ];
    if let Some(bad) = shape.iter().position(|ok| !ok) {
        let at = toks.get(bad + 1).map_or(sql.len(), |t| t.span.start);
        return Err(Refusal::Syntax(SqlError::syntax_at(
            sql,
            at,
            "PREPARE name FROM",
        )));
    }
    let from = toks.iter().position(|t| t.is_keyword(sql, "FROM"));
    let source = from.and_then(|i| toks.get(i + 1));
    match source {
        Some(t) if t.kind == TokenKind::String => {
            check_prepared_text(&string_value(t.text(sql)), schemas)
        }
        _ => check_dynamic_text(sql, source, "PREPARE ... FROM", schemas),
    }
}

/// `EXECUTE IMMEDIATE 'text'`: as PREPARE.
fn check_execute_immediate(sql: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    let source = code_tokens(sql).nth(2);
    check_dynamic_text(sql, source.as_ref(), "EXECUTE IMMEDIATE", schemas)
}

fn check_dynamic_text(
    sql: &str,
    source: Option<&Token>,
    what: &str,
    schemas: &dyn SchemaPolicy,
) -> Result<(), Refusal> {
    match source {
        Some(t) if t.kind == TokenKind::String => {
            check_dynamic_statement(&string_value(t.text(sql)), what, schemas)
        }
        _ => Err(Refusal::Unsupported(format!(
            "{what} an expression or user variable (give the statement as a string literal)"
        ))),
    }
}

/// Checks `inner`, the text that `what` (`PREPARE ... FROM`, `EXECUTE IMMEDIATE`) will
/// prepare or run, as a statement of its own.
pub fn check_dynamic_statement(
    inner: &str,
    what: &str,
    schemas: &dyn SchemaPolicy,
) -> Result<(), Refusal> {
    if contains_ignore_ascii_case(inner.as_bytes(), b"information_schema") {
        return Err(Refusal::Unsupported(format!(
            "{what} a statement over information_schema"
        )));
    }
    check_dynamic_body(inner, schemas)
}

/// Checks the text `PREPARE ... FROM` prepares. A statement over information_schema
/// passes: the session prepares it rewritten over the restricted tables instead
/// (`Session::prepare_information_schema`), never as given.
pub fn check_prepared_text(inner: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    check_dynamic_body(inner, schemas)
}

fn check_dynamic_body(inner: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    let kind = classify(inner);
    match kind {
        // An account statement is the session's own: kept and run as the statement at
        // EXECUTE, with its checks then.
        _ if is_account_statement(inner, kind) => return Ok(()),
        // A SHOW the session answers itself runs as a query at EXECUTE, checked then.
        StatementKind::Show => {
            return match check_prepared_show(inner, schemas) {
                Err(Refusal::Unsupported(_)) if show::show_prepared_by_session(inner) => Ok(()),
                checked => checked,
            }
        }
        // USE is checked as USE is (below); the session runs it as USE at EXECUTE.
        // The session takes the global read lock itself; a prepared one would run on
        // a storage server.
        _ if crate::flush::flush_kind(inner) == Some(crate::flush::Flush::GlobalReadLock) => {
            return Err(Refusal::Unsupported(
                "PREPARE or EXECUTE IMMEDIATE of FLUSH TABLES WITH READ LOCK (run it as a statement)"
                    .into(),
            ))
        }
        _ => {}
    }
    check_statement(inner, kind, ByteSummary::of(inner.as_bytes()), schemas)
}

/// The statement text of `PREPARE s FROM 'text'` or `EXECUTE IMMEDIATE 'text'`, for
/// checks that must see what will run.
pub fn dynamic_statement_text(sql: &str, kind: StatementKind) -> Option<String> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let source = match kind {
        StatementKind::Prepare => {
            let from = toks.iter().position(|t| t.is_keyword(sql, "FROM"))?;
            toks.get(from + 1)?
        }
        StatementKind::Execute if toks.get(1)?.is_keyword(sql, "IMMEDIATE") => toks.get(2)?,
        _ => return None,
    };
    (source.kind == TokenKind::String).then(|| string_value(source.text(sql)).into_owned())
}

/// `EXPLAIN ... FOR CONNECTION n` names a storage thread.
fn check_explain(words: &[String]) -> Result<(), Refusal> {
    if words
        .windows(2)
        .any(|w| w[0] == "FOR" && w[1] == "CONNECTION")
    {
        return Err(Refusal::ServerCommand("EXPLAIN FOR CONNECTION".into()));
    }
    Ok(())
}

/// The statements inside a compound statement or a routine, trigger or event body run
/// on the storage node when it is called: refuse the bodies that hold a refused
/// statement. Every place a statement can start is checked: the text's start and the
/// word after `;`, BEGIN, THEN, ELSE, DO, LOOP, REPEAT and a label's `:`.
fn check_compound_body(sql: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    check_body(sql, schemas, false)
}

/// The body checks of a compound statement the compute node interprets for its dynamic
/// SQL of an expression (each dynamic text is checked as the client's statement when it
/// exists).
pub fn check_interpreted_body(sql: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    check_body(sql, schemas, true)
}

/// [`check_compound_body`], letting `EXECUTE IMMEDIATE` and `PREPARE ... FROM` of an
/// expression through when `dynamic_expressions` (a procedure the compute node runs).
fn check_body(
    sql: &str,
    schemas: &dyn SchemaPolicy,
    dynamic_expressions: bool,
) -> Result<(), Refusal> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let starts_statement = |i: usize| -> bool {
        if i == 0 {
            return true;
        }
        let prev = toks[i - 1];
        prev.is_punct(sql, ";")
            || prev.is_punct(sql, ":")
            || ["BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", "ATOMIC"]
                .iter()
                .any(|k| prev.is_keyword(sql, k))
    };
    for i in 0..toks.len() {
        // Server commands may hide anywhere a statement starts, including bodies
        // without BEGIN (`CREATE PROCEDURE p() FLUSH LOGS`): their words are checked
        // everywhere but after a `.` (a qualified name).
        if toks[i].kind != TokenKind::Ident || (i > 0 && toks[i - 1].is_punct(sql, ".")) {
            continue;
        }
        let at_start = starts_statement(i);
        let word = |j: usize| {
            toks.get(j)
                .filter(|t| t.kind == TokenKind::Ident)
                .map(|t| t.text(sql).to_ascii_uppercase())
                .unwrap_or_default()
        };
        let (first, second) = (word(i), word(i + 1));
        if first == "FLUSH" && client_flush(sql, &toks[i..]) {
            continue;
        }
        if let Some(what) = server_command(&first, &second) {
            if !plugin_paths::installs_from_a_path(sql, &toks[i..]) {
                return Err(Refusal::ServerCommand(what));
            }
        }
        match first.as_str() {
            "GRANT" | "REVOKE" => return Err(Refusal::AccountStatement(first)),
            "CREATE" | "DROP" | "ALTER" | "RENAME"
                if matches!(second.as_str(), "USER" | "ROLE" | "SERVER") =>
            {
                return Err(Refusal::AccountStatement(format!("{first} {second}")))
            }
            "SET" if matches!(second.as_str(), "PASSWORD" | "GLOBAL") => {
                return Err(Refusal::ServerCommand(format!("SET {second}")))
            }
            "LOAD" => {
                let rest: Vec<String> = (i + 1..i + 4).map(word).collect();
                if !rest.iter().any(|w| w == "LOCAL") {
                    return Err(Refusal::FileAccess("LOAD DATA INFILE".into()));
                }
            }
            "XA" => return Err(Refusal::ServerCommand("XA inside a routine".into())),
            "HANDLER" if at_start => return Err(Refusal::Unsupported("HANDLER".into())),
            // `DEALLOCATE|DROP PREPARE s` prepares nothing.
            "PREPARE"
                if i > 0
                    && (toks[i - 1].is_keyword(sql, "DEALLOCATE")
                        || toks[i - 1].is_keyword(sql, "DROP")) => {}
            "PREPARE" => {
                let from = (i..toks.len())
                    .take(4)
                    .find(|&j| toks[j].is_keyword(sql, "FROM"));
                match from.and_then(|j| toks.get(j + 1)) {
                    // The text runs on the storage node as the routine's statement.
                    Some(t) if t.kind == TokenKind::String => {
                        check_routine_text(&string_value(t.text(sql)), schemas)?
                    }
                    _ if dynamic_expressions => {}
                    _ => {
                        return Err(Refusal::Unsupported(
                            "PREPARE ... FROM an expression or user variable inside a routine"
                                .into(),
                        ))
                    }
                }
            }
            "EXECUTE" if second == "IMMEDIATE" => match toks.get(i + 2) {
                Some(t) if t.kind == TokenKind::String => {
                    check_routine_text(&string_value(t.text(sql)), schemas)?
                }
                _ if dynamic_expressions => {}
                _ => {
                    return Err(Refusal::Unsupported(
                        "EXECUTE IMMEDIATE of an expression inside a routine".into(),
                    ))
                }
            },
            _ => {}
        }
    }
    // `SET @@global.x = ...` inside a body.
    if toks
        .iter()
        .any(|t| t.kind == TokenKind::SysVar && sysvar_scope_is_global(t.text(sql)))
        && toks.iter().any(|t| t.is_keyword(sql, "SET"))
    {
        return Err(Refusal::ServerCommand("SET GLOBAL".into()));
    }
    Ok(())
}

/// Checks the literal text a routine's `PREPARE s FROM '...'` or `EXECUTE IMMEDIATE
/// '...'` runs: on the storage node, as the routine's own statement, past the session.
/// So it is checked both as a body statement and as a statement of its own (its
/// qualifiers, files): a string literal hides its names from the body's checks.
fn check_routine_text(text: &str, schemas: &dyn SchemaPolicy) -> Result<(), Refusal> {
    check_compound_body(text, schemas)?;
    check_statement(
        text,
        classify(text),
        ByteSummary::of(text.as_bytes()),
        schemas,
    )
}

/// True when the FLUSH statement that `toks` start (up to the next `;`) is one a client
/// may run (FLUSH STATUS, FLUSH TABLE[S] [t, ...]): inside a routine it acts on the
/// routine's data node as the statement does at top level.
fn client_flush(sql: &str, toks: &[Token]) -> bool {
    let mut statement: Vec<&Token> = toks.iter().take_while(|t| !t.is_punct(sql, ";")).collect();
    // `END` closes the BEGIN block the statement is the last of.
    while statement.len() > 1 && statement.last().is_some_and(|t| t.is_keyword(sql, "END")) {
        statement.pop();
    }
    let (Some(first), Some(last)) = (statement.first(), statement.last()) else {
        return false;
    };
    let text = sql.get(first.span.start..last.span.end).unwrap_or("");
    matches!(
        crate::flush::flush_kind(text),
        Some(crate::flush::Flush::Status | crate::flush::Flush::Tables { .. })
    )
}

/// True when a routine, trigger or event definition runs a FLUSH (which the guard let
/// through only in the forms a client may run: they need RELOAD).
pub fn defines_flush(sql: &str) -> bool {
    if !crate::search::contains_ignore_ascii_case(sql.as_bytes(), b"flush") {
        return false;
    }
    let toks: Vec<Token> = code_tokens(sql).collect();
    toks.iter().enumerate().any(|(i, t)| {
        t.is_keyword(sql, "FLUSH")
            && !(i > 0 && toks[i - 1].is_punct(sql, "."))
            && toks.get(i + 1).is_some_and(|n| {
                ["STATUS", "TABLE", "TABLES", "LOCAL", "NO_WRITE_TO_BINLOG"]
                    .iter()
                    .any(|k| n.is_keyword(sql, k))
            })
    })
}

/// True when `toks[i]` is the schema of `mysql.proc` in LOCK TABLES: with storage
/// globals settable the storage servers are this Strata's alone, and locking the
/// routines' table there is what MariaDB does (its rows are only read through
/// Strata's derived table; writes to it stay refused).
fn locks_proc(sql: &str, toks: &[Token], i: usize) -> bool {
    toks.first().is_some_and(|t| t.is_keyword(sql, "LOCK"))
        && toks
            .get(1)
            .is_some_and(|t| t.is_keyword(sql, "TABLE") || t.is_keyword(sql, "TABLES"))
        && ident_value(toks[i].text(sql)).eq_ignore_ascii_case("mysql")
        && toks.get(i + 2).is_some_and(|n| {
            n.kind.is_ident() && ident_value(n.text(sql)).eq_ignore_ascii_case("proc")
        })
}

fn sysvar_scope_is_global(text: &str) -> bool {
    let body = text.trim_start_matches('@');
    body.len() > 7
        && body
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("global."))
}

/// Anything anywhere in the text: file functions and clauses, storage schemas (but for
/// a SELECT or its EXPLAIN, `reads`, the public reference tables of `mysql`).
fn check_text(
    raw: &[u8],
    sql: &str,
    bytes: ByteSummary,
    schemas: &dyn SchemaPolicy,
    reads: bool,
) -> Result<(), Refusal> {
    let has = |needle: &[u8]| contains_ignore_ascii_case(raw, needle);
    // One pass for what the three words share; most statements stop there.
    let file = has(b"file");
    let outfile = file && (has(b"outfile") || has(b"dumpfile"));
    let load_file = file && bytes.underscore() && has(b"load_file");
    let qualified = bytes.dot() && schemas.may_mention(raw);
    if !outfile && !load_file && !qualified {
        return Ok(());
    }
    let toks: Vec<Token> = code_tokens(sql).collect();
    for (i, t) in toks.iter().enumerate() {
        let next = toks.get(i + 1);
        match t.kind {
            TokenKind::Ident if outfile && t.is_keyword(sql, "INTO") => {
                if let Some(n) = next {
                    for k in ["OUTFILE", "DUMPFILE"] {
                        if n.is_keyword(sql, k) {
                            return Err(Refusal::FileAccess(format!("SELECT ... INTO {k}")));
                        }
                    }
                }
            }
            TokenKind::Ident
                if load_file
                    && crate::load_file::is_call(sql, &toks, i)
                    // It reads no file (the compute node writes it for a NULL value).
                    && !crate::load_file::is_null_call(sql, &toks, i) =>
            {
                return Err(Refusal::FileAccess("LOAD_FILE()".into()));
            }
            TokenKind::Ident | TokenKind::QuotedIdent
                if qualified
                    && next.is_some_and(|n| n.is_punct(sql, "."))
                    // `x.y` right after a `.` is a table or column, not a schema.
                    && !(i > 0 && toks[i - 1].is_punct(sql, ".")) =>
            {
                let name = ident_value(t.text(sql));
                if schemas.denied(&name)
                    && !(reads && public_tables::qualifies_public_table(sql, &toks, i))
                    && !(schemas.server_data_tables()
                        && (public_tables::qualifies_server_data_table(sql, &toks, i)
                            || locks_proc(sql, &toks, i)))
                {
                    return Err(Refusal::StorageSchema(name.into_owned()));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
mod defaults;
mod engines;
pub use engines::unknown_engine;
use engines::{allowed_engine, engines_named, known_engine};
mod information_schema;
mod merge;
mod mysql_tables;
mod plugin_paths;
mod public_tables;
mod refusal;
mod show;
mod variables;

pub use information_schema::{
    information_schema_table, rewrite_information_schema, InformationSchemaTable,
};
pub use merge::{merge_table, MergeTable, WrittenTable, MERGE_ENGINES};
pub use mysql_tables::{
    mysql_table, mysql_tables_read, rewrite_mysql_tables, rewrite_statistics_tables,
    server_data_tables_named, MysqlTable,
};
pub use public_tables::{
    is_server_data_table, is_statistics_table, server_data_table_name_condition,
};
pub use refusal::Refusal;
pub use show::{
    binlog_show, check_prepared_show, check_show_other, routine_code_name,
    show_prepared_by_session, BinlogShow,
};
pub use variables::{
    globally_set_variables, identifies_storage, is_identity_variable, is_session_value_variable,
    mask_storage_variables, mask_variables, sysvar_name, COMPUTE_GLOBAL_ONLY,
};

#[cfg(test)]
mod tests;
