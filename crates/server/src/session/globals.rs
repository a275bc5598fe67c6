//! `SET GLOBAL` and the reads of global values, the session's side of
//! [`crate::globals`]. For a variable that has a session scope too, an account with
//! Strata's SUPER privilege sets the compute node's global value: the storage node
//! validates and normalizes it (the session's own value is set, read back and put back
//! on its storage connection), new sessions start with it, and `@@global.x`, `SHOW
//! GLOBAL VARIABLES` and information_schema answer it. A variable that is global only on
//! the storage servers belongs to them: a `SET GLOBAL` that would change it is refused,
//! one that leaves it as it is (test scripts set a value and restore it) succeeds and
//! changes nothing; with `server.storage_globals = "settable"` it is set on every
//! storage server ([`super::storage_globals`]).

use strata_backend::pool::Lease;
use strata_backend::BackendError;
use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::guard::{identifies_storage, is_identity_variable};
use strata_sql::{IsolationLevel, SetExpr, SetItem, SetValue, TxScope, VarScope};

use super::isolation::sql_string;
use super::state::SessionState;
use super::storage_globals::kept_private;
use super::{backend_error, Answer, Session, SessionError};
use crate::globals::{boolean, GlobalValue, GlobalVariables};

/// Variables whose session value the client's handshake sets (its character set): a
/// global value does not reach new sessions, as in MySQL.
const SET_BY_HANDSHAKE: &[&str] = &[
    "character_set_client",
    "character_set_connection",
    "character_set_results",
    "collation_connection",
];

/// Variables with a session scope that the storage server's global settings decide:
/// read-only in a session (taken from the global value at login), or valid in a session
/// only while a global setting allows it (`query_cache_type` needs a query cache, and a
/// value kept for new sessions would fail every login once the storage server's cache
/// is off).
const STORAGE_DECIDES: &[&str] = &[
    "max_allowed_packet",
    "net_buffer_length",
    "query_cache_type",
];

/// A global assignment: the variable and its new value (None: back to the default).
type Assignment = (String, Option<GlobalValue>);

/// The value as an SQL literal.
pub(super) fn global_literal(value: &GlobalValue) -> String {
    if value.numeric {
        value.text.clone()
    } else {
        sql_string(&value.text)
    }
}

/// Starts a session (or a reset one) from the compute node's global values.
pub(super) fn apply_globals(state: &mut SessionState, globals: &GlobalVariables) {
    if globals.is_empty() {
        return;
    }
    for (name, value) in globals.all() {
        if SET_BY_HANDSHAKE.contains(&name.as_str()) {
            continue;
        }
        match name.as_str() {
            "autocommit" => state.autocommit = value.text == "1",
            "tx_isolation" => {
                if let Some(level) =
                    IsolationLevel::from_variable_value(&SetValue::Str(value.text.clone()))
                {
                    state.isolation = level;
                }
            }
            _ => {}
        }
        state.vars.set(
            &name,
            format!("SESSION {name} = {}", global_literal(&value)),
        );
    }
}

/// `SET [SESSION] x = DEFAULT` sets the session's value to the global one, which is
/// the compute node's when `SET GLOBAL` gave `x` one: the statement with each such
/// `DEFAULT` replaced by that value (None when there is none).
pub(super) fn session_defaults_from_globals(
    sql: &str,
    items: &[SetItem],
    globals: &GlobalVariables,
) -> Option<String> {
    if globals.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for item in items {
        let SetItem::System {
            scope: VarScope::Session,
            name,
            value,
        } = item
        else {
            continue;
        };
        if value.value != Some(SetValue::Default) || SET_BY_HANDSHAKE.contains(&name.as_str()) {
            continue;
        }
        let Some(global) = globals.get(name) else {
            continue;
        };
        out.push_str(sql.get(last..value.span.start)?);
        out.push_str(&global_literal(&global));
        last = value.span.end;
    }
    if last == 0 {
        return None;
    }
    out.push_str(sql.get(last..)?);
    Some(out)
}

/// True when a SET assigns a global value (which [`Session::set_global`] handles).
pub(super) fn sets_global(items: &[SetItem]) -> bool {
    items.iter().any(|item| match item {
        SetItem::System { scope, .. } => !matches!(scope, VarScope::Session),
        SetItem::Transaction { scope, .. } => *scope == TxScope::Global,
        _ => false,
    })
}

/// MySQL's error for SET GLOBAL without the privilege.
pub(super) fn super_denied() -> MysqlError {
    MysqlError::new(
        codes::SPECIFIC_ACCESS_DENIED,
        "Access denied; you need (at least one of) the SUPER privilege(s) for this operation",
    )
}

/// The settings of a named key cache, which MariaDB takes as `cache.variable`.
const KEY_CACHE_VARIABLES: &[&str] = &[
    "key_buffer_size",
    "key_cache_age_threshold",
    "key_cache_block_size",
    "key_cache_division_limit",
    "key_cache_file_hash_size",
    "key_cache_segments",
];

fn unknown_variable(name: &str) -> MysqlError {
    MysqlError::new(
        codes::UNKNOWN_SYSTEM_VARIABLE,
        format!("Unknown system variable '{name}'"),
    )
}

fn wrong_value(name: &str, value: &str) -> MysqlError {
    MysqlError::new(
        codes::WRONG_VALUE_FOR_VAR,
        format!("Variable '{name}' can't be set to the value of '{value}'"),
    )
}

/// `ON`/`1`/`TRUE` as `1`, `OFF`/`0`/`FALSE` as `0`, anything else as it is (upper
/// case): how a value compares with the storage server's.
fn comparable(value: &str) -> String {
    let upper = value.trim().to_ascii_uppercase();
    match upper.as_str() {
        "ON" | "TRUE" => "1".into(),
        "OFF" | "FALSE" => "0".into(),
        _ => match upper.parse::<f64>() {
            Ok(n) => n.to_string(),
            Err(_) => upper,
        },
    }
}

/// A literal `SET` value as text (None for NULL and DEFAULT, or an expression).
fn literal_text(value: &SetValue) -> Option<String> {
    Some(match value {
        SetValue::Int(i) => i.to_string(),
        SetValue::Number(n) => n.clone(),
        SetValue::Str(s) | SetValue::Ident(s) => s.clone(),
        SetValue::Bool(b) => u8::from(*b).to_string(),
        SetValue::Default | SetValue::Null => return None,
    })
}

/// What the storage node says about a variable.
struct VariableInfo {
    scope: String,
    read_only: bool,
    numeric: bool,
    boolean: bool,
    global: Option<String>,
    default: Option<String>,
}

impl Session {
    /// `SET GLOBAL x = v, ...` (`SET @@global.x`, `SET GLOBAL TRANSACTION ...`): every
    /// assignment is validated before any value changes.
    pub(super) async fn set_global(
        &mut self,
        items: &[SetItem],
        more: bool,
    ) -> Result<Answer, SessionError> {
        match self.global_assignments(items).await {
            Ok(values) => {
                for (name, value) in values {
                    self.ctx.globals.set(&name, value);
                }
                // The storage servers' warnings of a storage global (1708, 1292).
                let warnings = self
                    .statement
                    .warnings
                    .as_ref()
                    .map_or(0, |(_, rows)| u16::try_from(rows.len()).unwrap_or(u16::MAX));
                self.ok_warned(0, warnings, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// The values a SET's global assignments give, validated (privileges, names,
    /// values) but not yet kept.
    pub(super) async fn global_assignments(
        &mut self,
        items: &[SetItem],
    ) -> Result<Vec<Assignment>, MysqlError> {
        for item in items {
            // MariaDB 10.11: read_only wants READ_ONLY ADMIN (SUPER alone will not do),
            // every other global SUPER.
            let own_read_only = matches!(item, SetItem::System { scope: VarScope::Global, name, .. } if name.eq_ignore_ascii_case("read_only"));
            if own_read_only && !self.has_global(Privilege::ReadOnlyAdmin) {
                return Err(MysqlError::new(
                    codes::SPECIFIC_ACCESS_DENIED,
                    "Access denied; you need (at least one of) the READ_ONLY ADMIN privilege(s) for this operation",
                ));
            }
            // init_connect: SUPER or CONNECTION ADMIN.
            let own_init_connect = matches!(item, SetItem::System { scope: VarScope::Global, name, .. } if name.eq_ignore_ascii_case("init_connect"));
            if own_init_connect
                && !self.has_global(Privilege::Super)
                && !self.has_global(Privilege::ConnectionAdmin)
            {
                return Err(MysqlError::new(
                    codes::SPECIFIC_ACCESS_DENIED,
                    "Access denied; you need (at least one of) the SUPER, CONNECTION ADMIN privilege(s) for this operation",
                ));
            }
            if !own_read_only && !own_init_connect && !self.has_global(Privilege::Super) {
                return Err(super_denied());
            }
        }
        let mut out = Vec::new();
        for item in items {
            match item {
                SetItem::System {
                    scope: VarScope::Global,
                    name,
                    value,
                } => {
                    if let Some(a) = self.global_assignment(name, value).await? {
                        out.push(a);
                    }
                }
                SetItem::Transaction {
                    scope: TxScope::Global,
                    isolation,
                    read_only,
                } => {
                    if let Some(level) = isolation {
                        let text = level.as_str().to_string();
                        out.push((
                            "tx_isolation".into(),
                            Some(GlobalValue {
                                shown: text.clone(),
                                text,
                                numeric: false,
                            }),
                        ));
                    }
                    if let Some(ro) = read_only {
                        out.push(("tx_read_only".into(), Some(boolean(*ro))));
                    }
                }
                SetItem::System { scope, .. } if *scope != VarScope::Session => {
                    return Err(MysqlError::not_supported("SET PERSIST"));
                }
                _ => {
                    return Err(MysqlError::not_supported(
                        "SET of global and session or user variables in one statement (set them in separate statements)",
                    ))
                }
            }
        }
        Ok(out)
    }

    /// One `SET GLOBAL name = value`: Ok(None) when it changes nothing.
    async fn global_assignment(
        &mut self,
        name: &str,
        value: &SetExpr,
    ) -> Result<Option<Assignment>, MysqlError> {
        let name = match name {
            "transaction_isolation" => "tx_isolation",
            "transaction_read_only" => "tx_read_only",
            n => n,
        };
        if name.eq_ignore_ascii_case("read_only") {
            // The compute node's own, never the storage servers' (see `read_only`).
            let value = self.read_only_assignment(value).await?;
            return Ok(Some(("read_only".into(), Some(value))));
        }
        if name.eq_ignore_ascii_case("init_connect") {
            // The compute node's own (see `init_connect`).
            let value = self.init_connect_assignment(value).await?;
            return Ok(Some(("init_connect".into(), Some(value))));
        }
        let plain =
            |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        // A structured variable (`keycache1.key_buffer_size`): a key cache's setting, a
        // storage server's own as the plain one is.
        let structured = name
            .split_once('.')
            .filter(|(cache, var)| plain(cache) && KEY_CACHE_VARIABLES.contains(var));
        if structured.is_none() && !plain(name) {
            return Err(unknown_variable(name));
        }
        if identifies_storage(name) || is_identity_variable(name) {
            return Err(MysqlError::not_supported(&format!(
                "SET GLOBAL {name} (it describes a storage server, which Strata keeps private)"
            )));
        }
        let info = match structured {
            Some((cache, var)) => {
                let mut info = self.variable_info(var).await?;
                let (_, rows) = self
                    .home_result(&format!("SELECT @@global.`{cache}`.{var}"), false)
                    .await?;
                info.global = rows
                    .into_iter()
                    .next()
                    .and_then(|r| r.into_iter().next())
                    .flatten();
                info
            }
            None => self.variable_info(name).await?,
        };
        if info.read_only {
            return Err(MysqlError::new(
                (1238, "HY000"),
                format!("Variable '{name}' is a read only variable"),
            ));
        }
        if info.scope == "SESSION ONLY" {
            return Err(MysqlError::new(
                (1228, "HY000"),
                format!(
                    "Variable '{name}' is a SESSION variable and can't be used with SET GLOBAL"
                ),
            ));
        }
        let is_default = value.value == Some(SetValue::Default);
        if name == "event_scheduler" {
            self.set_event_scheduler(value, is_default).await?;
            return Ok(None);
        }
        if info.scope != "SESSION" || STORAGE_DECIDES.contains(&name) {
            // The storage servers' own setting: settable when the configuration says
            // so (but for what Strata depends on), else only the value it has already.
            let settable = !self.ctx.config.server.storage_globals.is_private();
            if settable && name == "max_allowed_packet" {
                return self.set_packet_limit(value, is_default).await.map(Some);
            }
            if settable && name == "net_buffer_length" {
                self.set_net_buffer_length(value, is_default).await?;
                return Ok(None);
            }
            let kept = kept_private(name);
            if settable && kept.is_none() {
                return self
                    .set_storage_global(name, value, is_default, info.scope == "SESSION")
                    .await;
            }
            let wanted = if is_default {
                info.default.clone()
            } else {
                self.value_text(value).await?
            };
            let same = match (&wanted, &info.global) {
                (Some(w), Some(g)) => comparable(w) == comparable(g),
                (None, None) => true,
                _ => false,
            };
            if same {
                return Ok(None);
            }
            return Err(MysqlError::not_supported(&match kept.filter(|_| settable) {
                Some(why) => format!("SET GLOBAL {name} to a new value ({why})"),
                None => format!(
                    "SET GLOBAL {name} to a new value (a server-wide variable of the storage nodes: set it in their configuration)"
                ),
            }));
        }
        if is_default {
            return Ok(Some((name.to_string(), None)));
        }
        let text = match name {
            "autocommit" | "tx_read_only" | "tx_isolation" => {
                // Their session assignment acts on the storage connection's
                // transaction: read here.
                let text = self.value_text(value).await?.unwrap_or_default();
                let upper = text.to_ascii_uppercase();
                if name == "tx_isolation" {
                    let level = IsolationLevel::from_variable_value(&SetValue::Str(text.clone()))
                        .or_else(|| {
                            text.parse::<i64>().ok().and_then(|i| {
                                IsolationLevel::from_variable_value(&SetValue::Int(i))
                            })
                        })
                        .ok_or_else(|| wrong_value(name, &text))?;
                    Some(level.as_str().to_string())
                } else {
                    match upper.as_str() {
                        "1" | "ON" | "TRUE" => Some("1".into()),
                        "0" | "OFF" | "FALSE" => Some("0".into()),
                        _ => return Err(wrong_value(name, &text)),
                    }
                }
            }
            _ => {
                self.normalized_value(name, &value.text, info.numeric)
                    .await?
            }
        };
        let value = match text {
            Some(text) => GlobalValue {
                shown: match (info.boolean, text.as_str()) {
                    (true, "1") => "ON".into(),
                    (true, "0") => "OFF".into(),
                    _ => text.clone(),
                },
                text,
                numeric: info.numeric,
            },
            // NULL (`character_set_results`): a literal NULL.
            None => GlobalValue {
                text: "NULL".into(),
                shown: String::new(),
                numeric: true,
            },
        };
        Ok(Some((name.to_string(), Some(value))))
    }

    /// `SET GLOBAL event_scheduler`: events are stored and run on the data nodes, so
    /// the value is set on every data node's primary (their scheduler is what makes a
    /// client's events fire), in order, stopping at the first refusal (MariaDB's 1231
    /// for a value it does not take); reads of `@@global.event_scheduler` then show it.
    async fn set_event_scheduler(
        &mut self,
        value: &SetExpr,
        is_default: bool,
    ) -> Result<(), MysqlError> {
        let shown = if is_default {
            "DEFAULT".to_string()
        } else {
            match self.value_text(value).await? {
                Some(v) if v.parse::<i64>().is_ok() => v,
                Some(v) => sql_string(&v),
                None => "NULL".to_string(),
            }
        };
        self.set_on_storage_servers("event_scheduler", &shown, false)
            .await
    }

    /// The storage node's description of variable `name` (a plain identifier).
    async fn variable_info(&mut self, name: &str) -> Result<VariableInfo, MysqlError> {
        let sql = format!(
            "SELECT VARIABLE_SCOPE, READ_ONLY, VARIABLE_TYPE, GLOBAL_VALUE, DEFAULT_VALUE \
             FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = '{}'",
            name.to_ascii_uppercase()
        );
        let (_, rows) = self.home_result(&sql, false).await?;
        let Some(mut row) = rows.into_iter().next() else {
            return Err(unknown_variable(name));
        };
        let mut col = |i: usize| row.get_mut(i).and_then(Option::take);
        let scope = col(0).unwrap_or_default();
        let read_only = col(1).is_some_and(|r| r == "YES");
        let kind = col(2).unwrap_or_default();
        Ok(VariableInfo {
            scope,
            read_only,
            numeric: kind.contains("INT") || kind == "DOUBLE" || kind == "BOOLEAN",
            boolean: kind == "BOOLEAN",
            global: col(3),
            default: col(4),
        })
    }

    /// The text of a SET value: a literal as written, an expression as the session's
    /// storage connection evaluates it (it may read user variables).
    pub(super) async fn value_text(
        &mut self,
        value: &SetExpr,
    ) -> Result<Option<String>, MysqlError> {
        if let Some(v) = &value.value {
            return Ok(literal_text(v));
        }
        let (_, rows) = self
            .home_result(&format!("SELECT {}", value.text), false)
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten())
    }

    /// The value `expr` gives variable `name` as the storage node stores it: set on the
    /// session's connection, read back, and the session's own value put back.
    async fn normalized_value(
        &mut self,
        name: &str,
        expr: &str,
        numeric: bool,
    ) -> Result<Option<String>, MysqlError> {
        let (dnid, physical) = self.home_node()?;
        let mut lease = self.lease(dnid, physical.as_deref()).await?;
        let result = set_and_restore(&mut lease, name, expr, numeric).await;
        if let Err(e) = &result {
            if !matches!(e, BackendError::Server(_)) {
                lease.mark_broken();
            }
        }
        self.finish(lease);
        result.map_err(|e| backend_error(dnid, &e))
    }
}

/// Sets `name` to `expr` on `lease` and reads what the storage node made of it, then
/// puts the connection's value back (a connection that cannot be put back is not reused).
async fn set_and_restore(
    lease: &mut Lease,
    name: &str,
    expr: &str,
    numeric: bool,
) -> Result<Option<String>, BackendError> {
    let read = format!("SELECT @@session.{name}");
    let first = |rows: strata_backend::TextRows| {
        rows.into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten()
    };
    let before = first(lease.query(&read).await?);
    lease
        .execute(&format!("SET @@session.{name} = {expr}"))
        .await?;
    let after = lease.query(&read).await.map(first);
    let restore = match &before {
        Some(v) if numeric => v.clone(),
        Some(v) => sql_string(v),
        None => "NULL".into(),
    };
    if let Err(e) = lease
        .execute(&format!("SET @@session.{name} = {restore}"))
        .await
    {
        lease.mark_broken();
        return Err(e);
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_as_the_storage_server_shows_them() {
        assert_eq!(comparable("ON"), comparable("1"));
        assert_eq!(comparable("off"), comparable("0"));
        assert_eq!(comparable("100"), comparable("100.0"));
        assert_eq!(comparable("stop"), comparable("STOP"));
        assert_ne!(comparable("20"), comparable("100"));
    }

    #[test]
    fn session_default_is_the_compute_nodes_global_value() {
        let globals = GlobalVariables::default();
        let sql = "SET sql_mode = DEFAULT, @x = 1, SESSION div_precision_increment = default";
        let items = strata_sql::parse_set(sql).unwrap_or_default();
        assert_eq!(session_defaults_from_globals(sql, &items, &globals), None);
        globals.set(
            "sql_mode",
            Some(GlobalValue {
                text: "ANSI_QUOTES".into(),
                shown: "ANSI_QUOTES".into(),
                numeric: false,
            }),
        );
        globals.set(
            "div_precision_increment",
            Some(GlobalValue {
                text: "7".into(),
                shown: "7".into(),
                numeric: true,
            }),
        );
        assert_eq!(
            session_defaults_from_globals(sql, &items, &globals).as_deref(),
            Some("SET sql_mode = 'ANSI_QUOTES', @x = 1, SESSION div_precision_increment = 7")
        );
    }

    #[test]
    fn global_set_is_told_from_session_set() {
        let parse = |sql: &str| strata_sql::parse_set(sql).unwrap_or_default();
        assert!(sets_global(&parse("SET GLOBAL sql_mode = ''")));
        assert!(sets_global(&parse("SET @@global.sql_mode = @save")));
        assert!(sets_global(&parse(
            "SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED"
        )));
        assert!(!sets_global(&parse("SET sql_mode = '', @x = 1")));
        assert!(!sets_global(&parse("SET SESSION TRANSACTION READ ONLY")));
    }
}
