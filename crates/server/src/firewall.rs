//! The SQL firewall: the `[firewall]` section compiled once into a [`Firewall`], and the
//! pure check the session runs on each statement before planning it. A statement is
//! described by [`StatementFacts`], whose costly parts (tables, digest, WHERE detection)
//! are computed only when a rule asks for them; [`Firewall::check`] answers with a
//! [`Verdict`]: allow, log (every matching log rule), or deny (the first matching deny,
//! built-in switches first, then rules in file order) with a MySQL error naming the rule.
//! The row-estimate limit needs the storage nodes' EXPLAIN, so it is a separate check
//! ([`Firewall::check_estimate`]) the caller runs once it has an estimate.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use strata_catalog::config::{FirewallAction, FirewallConfig};
use strata_catalog::firewall::{parse_firewall, NamePattern, ParsedRule, TablePattern};
use strata_protocol::MysqlError;
use strata_sql::lexer::{ident_value, outside_parens};
use strata_sql::{
    code_tokens, normalize_digest, table_references, Lexer, StatementKind, Tables, Token, TokenKind,
};

/// ER_SPECIFIC_ACCESS_DENIED_ERROR: what a denied statement gets (code, SQLSTATE).
pub const FIREWALL_DENIED: (u16, &str) = (1227, "42000");

/// Verdict name of the `deny_update_delete_without_where` switch.
const NO_WHERE: &str = "deny_update_delete_without_where";
/// Verdict name of the `deny_drop_truncate_except` switch.
const DROP_TRUNCATE: &str = "deny_drop_truncate_except";
/// Verdict name of the `max_rows_estimate` limit.
const ROWS_ESTIMATE: &str = "max_rows_estimate";

/// Errors building a firewall.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FirewallError {
    /// The `[firewall]` section breaks a rule; one message per problem.
    #[error("invalid [firewall] configuration: {}", .0.join("; "))]
    InvalidConfig(Vec<String>),
}

/// What the firewall decided about one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No rule matched: run the statement.
    Allow,
    /// Run the statement and log it under each of these rules (file order).
    Log {
        /// Names of every matching log rule.
        rules: Vec<Arc<str>>,
    },
    /// Refuse the statement.
    Deny {
        /// Name of the rule (or built-in switch) that denied it.
        rule: Arc<str>,
        /// The client's error message, naming the rule.
        message: String,
    },
}

impl Verdict {
    /// The error to send the client for a deny (1227, SQLSTATE 42000); None otherwise.
    pub fn mysql_error(&self) -> Option<MysqlError> {
        match self {
            Verdict::Deny { message, .. } => Some(MysqlError {
                code: FIREWALL_DENIED.0,
                state: FIREWALL_DENIED.1,
                message: message.clone(),
            }),
            Verdict::Allow | Verdict::Log { .. } => None,
        }
    }

    fn deny(rule: &str, reason: Option<&str>) -> Verdict {
        let message = match reason {
            Some(reason) => {
                format!("Access denied; statement blocked by SQL firewall rule '{rule}': {reason}")
            }
            None => format!("Access denied; statement blocked by SQL firewall rule '{rule}'"),
        };
        Verdict::Deny {
            rule: Arc::from(rule),
            message,
        }
    }
}

/// One statement as the firewall sees it. Building it costs nothing; the tables, the
/// digest and the WHERE detection are computed on first use and kept, or can be handed
/// in when the session already has them.
#[derive(Debug)]
pub struct StatementFacts<'a> {
    sql: &'a str,
    kind: StatementKind,
    user: &'a str,
    current_db: Option<&'a str>,
    tables: OnceCell<Cow<'a, Tables>>,
    cte_tables: OnceCell<Option<Tables>>,
    digest: OnceCell<Cow<'a, str>>,
    has_where: OnceCell<bool>,
}

impl<'a> StatementFacts<'a> {
    /// Facts about one statement `sql` (not several: split them first) of kind `kind`,
    /// run by `user` with `current_db` selected.
    pub fn new(
        sql: &'a str,
        kind: StatementKind,
        user: &'a str,
        current_db: Option<&'a str>,
    ) -> StatementFacts<'a> {
        StatementFacts {
            sql,
            kind,
            user,
            current_db,
            tables: OnceCell::new(),
            cte_tables: OnceCell::new(),
            digest: OnceCell::new(),
            has_where: OnceCell::new(),
        }
    }

    /// The tables as `strata_sql::table_references(sql, kind)` already computed them.
    pub fn with_tables(mut self, tables: &'a Tables) -> StatementFacts<'a> {
        self.tables = OnceCell::from(Cow::Borrowed(tables));
        self
    }

    /// The digest text as `strata_sql::normalize_digest(sql)` already computed it.
    pub fn with_digest(mut self, digest: &'a str) -> StatementFacts<'a> {
        self.digest = OnceCell::from(Cow::Borrowed(digest));
        self
    }

    /// The statement kind.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The user running the statement.
    pub fn user(&self) -> &str {
        self.user
    }

    /// The tables the statement touches (unqualified ones belong to `current_db`).
    pub fn tables(&self) -> &Tables {
        self.tables
            .get_or_init(|| Cow::Owned(table_references(self.sql, self.kind)))
    }

    /// Tables read by the CTEs in front of an UPDATE or DELETE, which
    /// `table_references` leaves out.
    fn cte_tables(&self) -> Option<&Tables> {
        self.cte_tables
            .get_or_init(|| cte_prefix_tables(self.sql, self.kind))
            .as_ref()
    }

    /// The normalized digest text.
    pub fn digest(&self) -> &str {
        self.digest
            .get_or_init(|| Cow::Owned(normalize_digest(self.sql).text))
    }

    /// For UPDATE and DELETE, whether there is a WHERE clause at the top level.
    pub fn has_where(&self) -> bool {
        *self.has_where.get_or_init(|| has_top_level_where(self.sql))
    }
}

/// The compiled `[firewall]` section. `Default` is a firewall with nothing configured.
#[derive(Debug, Clone, Default)]
pub struct Firewall {
    deny_without_where: bool,
    drop_truncate_users: Option<Vec<NamePattern>>,
    max_rows_estimate: Option<u64>,
    rules: Vec<Rule>,
}

/// A rule with its name shared by the verdicts that report it.
#[derive(Debug, Clone)]
struct Rule {
    name: Arc<str>,
    parsed: ParsedRule,
}

impl Firewall {
    /// Compiles the section (every pattern parsed here, once).
    pub fn new(config: &FirewallConfig) -> Result<Firewall, FirewallError> {
        let parsed = parse_firewall(config).map_err(FirewallError::InvalidConfig)?;
        Ok(Firewall {
            deny_without_where: parsed.deny_update_delete_without_where,
            drop_truncate_users: parsed.drop_truncate_users,
            max_rows_estimate: parsed.max_rows_estimate,
            rules: parsed
                .rules
                .into_iter()
                .map(|parsed| Rule {
                    name: Arc::from(parsed.name.as_str()),
                    parsed,
                })
                .collect(),
        })
    }

    /// True when [`Firewall::check`] can return anything but Allow; when false a caller
    /// need not even build the facts.
    pub fn is_active(&self) -> bool {
        self.deny_without_where || self.drop_truncate_users.is_some() || !self.rules.is_empty()
    }

    /// True when `max_rows_estimate` is set, so the caller should estimate rows and call
    /// [`Firewall::check_estimate`].
    pub fn needs_estimate(&self) -> bool {
        self.max_rows_estimate.is_some()
    }

    /// The verdict on one statement: built-in switches first, then the rules in order;
    /// the first deny wins, and otherwise every matching log rule is reported.
    pub fn check(&self, facts: &StatementFacts<'_>) -> Verdict {
        if !self.is_active() {
            return Verdict::Allow;
        }
        let kind = facts.kind;
        if self.deny_without_where && is_update_or_delete(kind) && !facts.has_where() {
            return Verdict::deny(NO_WHERE, Some(&without_where_reason(kind)));
        }
        if let Some(allowed) = &self.drop_truncate_users {
            if let Some(what) = destructive_ddl(facts.sql, kind) {
                if !allowed.iter().any(|p| p.matches(facts.user)) {
                    let reason =
                        format!("{what} is allowed only for the users listed in {DROP_TRUNCATE}");
                    return Verdict::deny(DROP_TRUNCATE, Some(&reason));
                }
            }
        }
        let mut logged = Vec::new();
        for rule in &self.rules {
            if !rule_matches(&rule.parsed, facts) {
                continue;
            }
            match rule.parsed.action {
                FirewallAction::Deny => {
                    let reason = match &rule.parsed.reason {
                        Some(reason) => Some(reason.clone()),
                        None if rule.parsed.without_where => Some(without_where_reason(kind)),
                        None => None,
                    };
                    return Verdict::deny(&rule.name, reason.as_deref());
                }
                FirewallAction::Log => logged.push(rule.name.clone()),
            }
        }
        if logged.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Log { rules: logged }
        }
    }

    /// The verdict on a statement whose storage nodes estimate `estimate` rows: Deny
    /// when it exceeds `max_rows_estimate`.
    pub fn check_estimate(&self, estimate: u64) -> Verdict {
        match self.max_rows_estimate {
            Some(max) if estimate > max => Verdict::deny(
                ROWS_ESTIMATE,
                Some(&format!(
                    "estimated {estimate} rows exceed the limit of {max}"
                )),
            ),
            _ => Verdict::Allow,
        }
    }
}

/// True when `estimate` rows exceed the configured `max_rows_estimate` (never when unset).
pub fn exceeds_estimate(estimate: u64, config: &FirewallConfig) -> bool {
    config.max_rows_estimate.is_some_and(|max| estimate > max)
}

fn is_update_or_delete(kind: StatementKind) -> bool {
    matches!(kind, StatementKind::Update | StatementKind::Delete)
}

fn without_where_reason(kind: StatementKind) -> String {
    let word = if kind == StatementKind::Update {
        "UPDATE"
    } else {
        "DELETE"
    };
    format!("{word} without WHERE")
}

/// Whether every matcher the rule gives matches; cheap matchers go first so the digest
/// and the table list are computed only for statements the others let through.
fn rule_matches(rule: &ParsedRule, facts: &StatementFacts<'_>) -> bool {
    if !rule.kinds.is_empty() && !rule.kinds.contains(&facts.kind) {
        return false;
    }
    if !rule.users.is_empty() && !rule.users.iter().any(|p| p.matches(facts.user)) {
        return false;
    }
    if rule.except_users.iter().any(|p| p.matches(facts.user)) {
        return false;
    }
    if rule.without_where && (!is_update_or_delete(facts.kind) || facts.has_where()) {
        return false;
    }
    if !rule.tables.is_empty() && !touches(&rule.tables, facts) {
        return false;
    }
    rule.digest
        .as_ref()
        .is_none_or(|p| p.matches(facts.digest()))
}

/// Whether the statement touches a table one of `patterns` names.
fn touches(patterns: &[TablePattern], facts: &StatementFacts<'_>) -> bool {
    let current = facts.current_db.unwrap_or("");
    let hit = |schema: Option<&str>, name: &str| {
        let db = schema.unwrap_or(current);
        patterns.iter().any(|p| p.matches(db, name))
    };
    let tables = facts.tables();
    let cte_refs = facts.cte_tables().map_or(&[][..], |t| t.refs.as_slice());
    if tables
        .refs
        .iter()
        .chain(cte_refs)
        .any(|r| hit(r.schema.as_deref(), &r.name))
    {
        return true;
    }
    if !tables.unknown {
        return false;
    }
    // Statements table_references leaves unknown but whose target the text names.
    match facts.kind {
        StatementKind::Load => {
            load_target(facts.sql).is_some_and(|(schema, name)| hit(schema.as_deref(), &name))
        }
        StatementKind::Create | StatementKind::Alter | StatementKind::Drop => {
            database_target(facts.sql)
                .is_some_and(|db| patterns.iter().any(|p| p.matches_database(&db)))
        }
        _ => false,
    }
}

/// Whether an UPDATE or DELETE has a WHERE clause at the top level: not inside
/// parentheses (subqueries, CTE bodies), comments or strings, and not after the first
/// top-level `;`. A WHERE inside a versioned executable comment (`/*!50700 ...*/`,
/// `/*M!100500 ...*/`) does not count: the storage node may skip it, and the firewall
/// must not let a statement through on a WHERE that never runs.
///
/// strata_sql has no such function; it lives here until another caller needs it.
pub fn has_top_level_where(sql: &str) -> bool {
    let mut depth = 0usize;
    let mut versioned = false;
    for t in Lexer::new(sql) {
        match t.kind {
            TokenKind::ExecCommentStart => {
                versioned = t.text(sql).bytes().any(|b| b.is_ascii_digit());
            }
            TokenKind::ExecCommentEnd => versioned = false,
            TokenKind::Punct if t.is_punct(sql, "(") => depth += 1,
            TokenKind::Punct if t.is_punct(sql, ")") => depth = depth.saturating_sub(1),
            TokenKind::Punct if depth == 0 && t.is_punct(sql, ";") => return false,
            TokenKind::Ident if depth == 0 && !versioned && t.is_keyword(sql, "WHERE") => {
                return true
            }
            _ => {}
        }
    }
    false
}

/// For the statements `deny_drop_truncate_except` restricts, what they are: DROP
/// [TABLE|DATABASE] and TRUNCATE. DROP TEMPORARY TABLE only ever drops the session's own
/// temporary tables, so it is not restricted.
fn destructive_ddl(sql: &str, kind: StatementKind) -> Option<&'static str> {
    match kind {
        StatementKind::Truncate => Some("TRUNCATE"),
        StatementKind::Drop => {
            let second = code_tokens(sql).nth(1)?;
            let word = second.text(sql);
            if second.kind != TokenKind::Ident {
                None
            } else if word.eq_ignore_ascii_case("TABLE") || word.eq_ignore_ascii_case("TABLES") {
                Some("DROP TABLE")
            } else if word.eq_ignore_ascii_case("DATABASE") || word.eq_ignore_ascii_case("SCHEMA") {
                Some("DROP DATABASE")
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The tables read by the common table expressions of `WITH ... UPDATE|DELETE`:
/// `table_references` reads those statements from their keyword on, so the CTE bodies'
/// tables are read here, as the SELECT `WITH ... SELECT 1` (CTE names drop out there).
///
/// This belongs in strata_sql's `table_references` (its privilege checks miss the same
/// tables); it lives here because that crate is being edited elsewhere.
fn cte_prefix_tables(sql: &str, kind: StatementKind) -> Option<Tables> {
    if !is_update_or_delete(kind) {
        return None;
    }
    let mut toks = code_tokens(sql).skip_while(|t| t.is_punct(sql, "("));
    if !toks.next()?.is_keyword(sql, "WITH") {
        return None;
    }
    let t = outside_parens(sql, toks)
        .find(|t| t.is_keyword(sql, "UPDATE") || t.is_keyword(sql, "DELETE"))?;
    let prefix = sql.get(..t.span.start)?;
    Some(table_references(
        &format!("{prefix} SELECT 1"),
        StatementKind::Select,
    ))
}

/// A possibly qualified name at the start of `toks`.
fn name_at(sql: &str, toks: &[Token]) -> Option<(Option<String>, String)> {
    let first = toks.first().filter(|t| t.kind.is_ident())?;
    let first = ident_value(first.text(sql)).into_owned();
    if toks.get(1).is_some_and(|t| t.is_punct(sql, ".")) {
        let second = toks.get(2).filter(|t| t.kind.is_ident())?;
        return Some((Some(first), ident_value(second.text(sql)).into_owned()));
    }
    Some((None, first))
}

/// The table of `LOAD DATA|XML ... INTO TABLE [db.]t` (strata_sql reports LOAD's tables
/// as unknown).
fn load_target(sql: &str) -> Option<(Option<String>, String)> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let at = toks
        .windows(2)
        .position(|w| w[0].is_keyword(sql, "INTO") && w[1].is_keyword(sql, "TABLE"))?;
    name_at(sql, toks.get(at + 2..)?)
}

/// The database of `CREATE|ALTER|DROP DATABASE|SCHEMA [IF [NOT] EXISTS] db`.
fn database_target(sql: &str) -> Option<String> {
    let toks: Vec<Token> = code_tokens(sql).take(6).collect();
    let is = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if !is(1, "DATABASE") && !is(1, "SCHEMA") {
        return None;
    }
    let mut i = 2;
    if is(i, "IF") {
        i += if is(i + 1, "NOT") { 3 } else { 2 };
    }
    let name = toks.get(i).filter(|t| t.kind.is_ident())?;
    Some(ident_value(name.text(sql)).into_owned())
}

#[cfg(test)]
mod tests;
