//! Definers as the client sees them. A CREATE/ALTER of a view, routine, trigger, event
//! or package runs on the storage node without its `DEFINER` clause, so the storage
//! account owns the object there (and SQL SECURITY DEFINER works with its privileges);
//! the definer MariaDB would show (the account named, or the session's own) is recorded
//! in the metadata store (`strata_catalog::definers`) once the statement succeeded, and
//! put back into what shows definers: `SHOW CREATE ...`, `SHOW TRIGGERS`, `SHOW EVENTS`
//! and the DEFINER columns of information_schema. Naming another account needs SUPER,
//! as in MariaDB (1227).

use strata_catalog::accounts::AccountError;
use strata_protocol::MysqlError;
use strata_sql::account::{Privilege, UserName, UserRef};
use strata_sql::definer::{plain_definer, with_definer, DefinerShow};
use strata_sql::{ObjectDdl, ObjectVerb, StatementKind, StoredObject};

use super::isolation::{sql_string, VisibleSchema};
use super::{Answer, Session, SessionError};
use crate::results::LocalResult;

/// A CREATE/ALTER/DROP of an object with a definer, as the session runs it.
#[derive(Debug, Clone)]
pub(super) struct DefinerDdl {
    /// What the statement's head says.
    pub(super) ddl: ObjectDdl,
    /// The definer to record: the named account or the session's (CREATE); the named
    /// one only (ALTER: without a clause the definer stays).
    pub(super) definer: Option<UserName>,
}

impl Session {
    /// The account objects created by this session are defined by (CURRENT_USER()).
    pub(super) fn own_definer(&self) -> UserName {
        UserName::new(
            self.identity.account.user.clone(),
            self.identity.account.host.as_str(),
        )
    }

    /// For a CREATE/ALTER/DROP of an object with a definer: keeps what to record once
    /// it succeeded, and returns the text to run when it had a DEFINER clause (the text
    /// without it). 1227 for another account than the session's without SUPER.
    pub(super) fn take_definer_clause(
        &mut self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<Option<String>, MysqlError> {
        Ok(match self.definer_ddl(sql, kind)? {
            Some((change, text)) => {
                self.statement.definer = Some(change);
                text
            }
            None => None,
        })
    }

    /// Reads the head of a CREATE/ALTER/DROP of an object with a definer. A DEFINER
    /// naming another account than the session's needs SUPER (MariaDB: SUPER or SET
    /// USER), else 1227. Also returns the text to run (without the DEFINER clause) when
    /// it differs.
    fn definer_ddl(
        &self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<Option<(DefinerDdl, Option<String>)>, MysqlError> {
        if !matches!(
            kind,
            StatementKind::Create
                | StatementKind::Alter
                | StatementKind::Drop
                | StatementKind::Rename
        ) {
            return Ok(None);
        }
        let Some(ddl) = strata_sql::parse_object_ddl(sql) else {
            return Ok(None);
        };
        let own = self.own_definer();
        let named = match &ddl.definer {
            Some(UserRef::Named(name)) => Some(name.clone()),
            Some(UserRef::CurrentUser) => Some(own.clone()),
            None => None,
        };
        if let Some(name) = &named {
            let same = name.user == own.user && name.host.eq_ignore_ascii_case(&own.host);
            if !same && !self.has_global(Privilege::Super) {
                return Err(super::accounts::account_error(
                    &AccountError::NeedPrivilege("SUPER, SET USER"),
                ));
            }
        }
        let text = ddl.definer.is_some().then(|| ddl.without_definer(sql));
        let definer = match ddl.verb {
            ObjectVerb::Create => Some(named.unwrap_or(own)),
            ObjectVerb::Alter | ObjectVerb::Drop | ObjectVerb::Rename => named,
        };
        Ok(Some((DefinerDdl { ddl, definer }, text)))
    }

    /// Records what a CREATE/ALTER/DROP that succeeded (`answer`) changed: the new object's definer,
    /// a renamed event's, a dropped object's record gone. A CREATE ... IF NOT EXISTS
    /// that left an existing object (a warning says so) changes nothing. A failure to
    /// record is logged: the object then shows the storage account.
    pub(super) fn record_definer(&self, answer: Answer) {
        let (Answer::Ok, Some(change)) = (answer, &self.statement.definer) else {
            return;
        };
        let warned = self.backends.keep_for_warnings;
        let ddl = &change.ddl;
        if ddl.verb == ObjectVerb::Create && ddl.if_not_exists && warned {
            return;
        }
        let store = self.ctx.topology.catalog().store();
        for (i, name) in ddl.names.iter().enumerate() {
            let Some(db) = name.schema.as_deref().or(self.state.db.as_deref()) else {
                continue;
            };
            if self.ctx.topology.db(db).is_none() {
                continue;
            }
            let done = match (ddl.verb, &change.definer) {
                (ObjectVerb::Drop, _) => store.drop_definer(db, ddl.kind, &name.name),
                (ObjectVerb::Rename, _) => Ok(()),
                (_, Some(definer)) => store.put_definer(db, ddl.kind, &name.name, definer),
                (_, None) => Ok(()),
            };
            let renamed = ddl.rename_to.get(i).map(|to| {
                let to_db = to
                    .schema
                    .as_deref()
                    .or(self.state.db.as_deref())
                    .unwrap_or(db);
                let definer = match &change.definer {
                    Some(d) => Ok(Some(d.clone())),
                    None => store.definer(db, ddl.kind, &name.name),
                };
                definer.and_then(|definer| {
                    store.drop_definer(db, ddl.kind, &name.name)?;
                    match definer {
                        Some(d) => store.put_definer(to_db, ddl.kind, &to.name, &d),
                        None => Ok(()),
                    }
                })
            });
            if let Err(e) = done.and(renamed.unwrap_or(Ok(()))) {
                tracing::warn!(database = %db, object = %name.name, kind = %ddl.kind, error = %e, "definer not recorded");
            }
        }
    }

    /// The recorded definer of `db`.`name` (None: none recorded, or the store failed,
    /// which is logged; the storage node's definer is shown then).
    pub(super) fn recorded_definer(
        &self,
        db: &str,
        kind: StoredObject,
        name: &str,
    ) -> Option<UserName> {
        let store = self.ctx.topology.catalog().store();
        store
            .definer(db, kind, name)
            .inspect_err(|e| tracing::warn!(database = %db, error = %e, "definers not read"))
            .ok()
            .flatten()
    }

    /// True when `table` may be a view of a database on one data node with a recorded
    /// definer (no table of Strata's has that name), so SHOW CREATE TABLE of it shows
    /// the definer.
    pub(super) fn is_recorded_view(&self, table: &strata_sql::ObjectName) -> bool {
        let Some(db) = table.schema.as_deref().or(self.state.db.as_deref()) else {
            return false;
        };
        self.ctx.topology.catalog().table(db, &table.name).is_none()
            && self
                .recorded_definer(db, StoredObject::View, &table.name)
                .is_some()
    }

    /// Answers a SHOW whose result names definers with the recorded ones put in. None
    /// when `db` has no recorded definer (the caller forwards the statement as it is).
    pub(super) async fn show_with_definers(
        &mut self,
        sql: &str,
        db: Option<&str>,
        show: &DefinerShow,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let db = db.or(self.state.db.as_deref())?.to_string();
        self.ctx.topology.db(&db)?;
        let store = self.ctx.topology.catalog().store();
        let records = store
            .definers(&db)
            .inspect_err(|e| tracing::warn!(database = %db, error = %e, "definers not read"))
            .ok()?;
        // A view's, routine's, trigger's or event's text names databases by their
        // physical names: always answered here, so they are put back to the logical
        // ones (SHOW EVENTS shows no text).
        let texts = !matches!(show, DefinerShow::Events { .. });
        if records.is_empty() && !texts {
            return None;
        }
        let text = self.rewrite_schemas(sql);
        let (columns, mut rows) = match self.home_result(&text, false).await {
            Ok(r) => r,
            Err(e) => {
                self.err(&e);
                return Some(Ok(Answer::Failed));
            }
        };
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(n));
        let recorded = |kind: StoredObject, name: &str| {
            let key = kind.key_name(name);
            records
                .iter()
                .find(|r| r.kind == kind && r.name == key)
                .map(|r| r.definer.clone())
        };
        match show {
            DefinerShow::Create { kind, name } => {
                let column = find(&[
                    "Create View",
                    "Create Procedure",
                    "Create Function",
                    "SQL Original Statement",
                    "Create Event",
                    "Create Package",
                    "Create Package Body",
                ]);
                let definer = recorded(*kind, &name.name);
                for value in rows
                    .iter_mut()
                    .filter_map(|row| row.get_mut(column?)?.as_mut())
                {
                    if let Some(replaced) = definer.as_ref().and_then(|d| with_definer(value, d)) {
                        *value = replaced;
                    }
                    *value = super::views::logical_schemas(&self.ctx.topology, value);
                }
            }
            DefinerShow::Triggers { .. } | DefinerShow::Events { .. } => {
                let (kind, name_column) = match show {
                    DefinerShow::Triggers { .. } => (StoredObject::Trigger, "Trigger"),
                    _ => (StoredObject::Event, "Name"),
                };
                if let (DefinerShow::Triggers { .. }, Some(i)) = (show, find(&["Statement"])) {
                    for value in rows.iter_mut().filter_map(|row| row.get_mut(i)?.as_mut()) {
                        *value = super::views::logical_schemas(&self.ctx.topology, value);
                    }
                }
                if let (Some(n), Some(d)) = (find(&[name_column]), find(&["Definer"])) {
                    for row in &mut rows {
                        let name = row.get(n).cloned().flatten();
                        let definer = name.and_then(|name| recorded(kind, &name));
                        if let (Some(definer), Some(value)) = (definer, row.get_mut(d)) {
                            *value = Some(plain_definer(&definer));
                        }
                    }
                }
            }
        }
        self.write_local(&LocalResult { columns, rows }, more);
        Some(Ok(Answer::Ok))
    }
}

/// The column list standing for `*` of information_schema `table` when it has a
/// DEFINER column and a visible schema has recorded definers (or, for VIEWS, a visible
/// schema's physical name differs from its logical one): the same columns, with
/// DEFINER the recorded account where there is one and VIEW_DEFINITION naming logical
/// databases. None otherwise (`*` stays).
pub(super) fn information_schema_columns(
    ctx: &crate::context::ServerContext,
    table: &str,
    visible: &[VisibleSchema],
) -> Option<String> {
    let (columns, schema, name, kinds): (&[&str], &str, &str, &[StoredObject]) =
        match table.to_ascii_uppercase().as_str() {
            "VIEWS" => (VIEWS, "TABLE_SCHEMA", "TABLE_NAME", &[StoredObject::View]),
            "ROUTINES" => (
                ROUTINES,
                "ROUTINE_SCHEMA",
                "ROUTINE_NAME",
                &[
                    StoredObject::Procedure,
                    StoredObject::Function,
                    StoredObject::Package,
                    StoredObject::PackageBody,
                ],
            ),
            "TRIGGERS" => (
                TRIGGERS,
                "TRIGGER_SCHEMA",
                "TRIGGER_NAME",
                &[StoredObject::Trigger],
            ),
            "EVENTS" => (EVENTS, "EVENT_SCHEMA", "EVENT_NAME", &[StoredObject::Event]),
            _ => return None,
        };
    let store = ctx.topology.catalog().store();
    let mut cases = Vec::new();
    for visible_schema in visible {
        let records = match store.definers(&visible_schema.logical) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(database = %visible_schema.logical, error = %e, "definers not read");
                continue;
            }
        };
        for record in records.iter().filter(|r| kinds.contains(&r.kind)) {
            // Routines and events are named case-insensitively, as the column compares;
            // views and triggers are compared byte for byte.
            let name_test = if record.kind.folds_case() {
                format!("{name} = {}", sql_string(&record.name))
            } else {
                format!("BINARY {name} = {}", sql_string(&record.name))
            };
            let type_test = match record.kind {
                StoredObject::Procedure | StoredObject::Function => {
                    format!(" AND ROUTINE_TYPE = '{}'", record.kind.keyword())
                }
                StoredObject::Package | StoredObject::PackageBody => {
                    format!(" AND ROUTINE_TYPE = '{}'", record.kind.keyword())
                }
                _ => String::new(),
            };
            cases.push(format!(
                "WHEN {schema} = {} AND {name_test}{type_test} THEN {}",
                visible_schema.literal,
                sql_string(&plain_definer(&record.definer))
            ));
        }
    }
    let text_column = match table.to_ascii_uppercase().as_str() {
        "VIEWS" => "VIEW_DEFINITION",
        "ROUTINES" => "ROUTINE_DEFINITION",
        "TRIGGERS" => "ACTION_STATEMENT",
        _ => "EVENT_DEFINITION",
    };
    let definition = logical_definitions(text_column, visible);
    if cases.is_empty() && definition.is_none() {
        return None;
    }
    let case = (!cases.is_empty())
        .then(|| format!("CASE {} ELSE DEFINER END AS DEFINER", cases.join(" ")));
    Some(
        columns
            .iter()
            .map(|c| match (*c, &case, &definition) {
                ("DEFINER", Some(case), _) => case.clone(),
                (c, _, Some(definition)) if c == text_column => definition.clone(),
                _ => (*c).to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// `column` (a view's definition, or a routine's, trigger's or event's text) with the
/// visible databases' physical qualifiers replaced by their logical names, so the
/// storage names stay hidden and a filter on it sees the logical ones: backquoted (as
/// MariaDB writes views and Strata sends qualifiers written so) and bare (a body keeps
/// a bare qualifier bare). None when every visible database has its own name.
pub(super) fn logical_definitions(column: &str, visible: &[VisibleSchema]) -> Option<String> {
    let quoted = |name: &str| sql_string(&format!("`{}`.", name.replace('`', "``")));
    let renamed: Vec<&VisibleSchema> = visible.iter().filter(|s| s.physical != s.logical).collect();
    if renamed.is_empty() {
        return None;
    }
    let mut expr = column.to_string();
    for schema in renamed {
        expr = format!(
            "REPLACE({expr}, {}, {})",
            quoted(&schema.physical),
            quoted(&schema.logical)
        );
        if let Some(pattern) = bare_qualifier_pattern(&schema.physical) {
            let logical = if bare_name(&schema.logical) {
                schema.logical.to_string()
            } else {
                format!("`{}`", schema.logical.replace('`', "``"))
            };
            expr = format!(
                "REGEXP_REPLACE({expr}, {}, {})",
                sql_string(&pattern),
                sql_string(&logical.replace('\\', "\\\\"))
            );
        }
    }
    Some(format!("{expr} AS {column}"))
}

/// True when `name` is made of letters, digits, `_` and `$` only (not starting with
/// a digit), as Strata sends a bare qualifier bare.
fn bare_name(name: &str) -> bool {
    name.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

/// The PCRE pattern of `physical` written bare as a qualifier (not inside a longer name,
/// followed by a dot); None when it could not be written bare.
fn bare_qualifier_pattern(physical: &str) -> Option<String> {
    (bare_name(physical) && !strata_sql::keywords::is_reserved(&physical.to_ascii_uppercase()))
        .then(|| {
            format!(
                "(?-i)(?<![[:alnum:]_$`]){}(?=\\s*\\.)",
                physical.replace('$', "\\$")
            )
        })
}

/// MariaDB 10.11's columns of information_schema.VIEWS, in order.
const VIEWS: &[&str] = &[
    "TABLE_CATALOG",
    "TABLE_SCHEMA",
    "TABLE_NAME",
    "VIEW_DEFINITION",
    "CHECK_OPTION",
    "IS_UPDATABLE",
    "DEFINER",
    "SECURITY_TYPE",
    "CHARACTER_SET_CLIENT",
    "COLLATION_CONNECTION",
    "ALGORITHM",
];

/// MariaDB 10.11's columns of information_schema.ROUTINES, in order.
const ROUTINES: &[&str] = &[
    "SPECIFIC_NAME",
    "ROUTINE_CATALOG",
    "ROUTINE_SCHEMA",
    "ROUTINE_NAME",
    "ROUTINE_TYPE",
    "DATA_TYPE",
    "CHARACTER_MAXIMUM_LENGTH",
    "CHARACTER_OCTET_LENGTH",
    "NUMERIC_PRECISION",
    "NUMERIC_SCALE",
    "DATETIME_PRECISION",
    "CHARACTER_SET_NAME",
    "COLLATION_NAME",
    "DTD_IDENTIFIER",
    "ROUTINE_BODY",
    "ROUTINE_DEFINITION",
    "EXTERNAL_NAME",
    "EXTERNAL_LANGUAGE",
    "PARAMETER_STYLE",
    "IS_DETERMINISTIC",
    "SQL_DATA_ACCESS",
    "SQL_PATH",
    "SECURITY_TYPE",
    "CREATED",
    "LAST_ALTERED",
    "SQL_MODE",
    "ROUTINE_COMMENT",
    "DEFINER",
    "CHARACTER_SET_CLIENT",
    "COLLATION_CONNECTION",
    "DATABASE_COLLATION",
];

/// MariaDB 10.11's columns of information_schema.TRIGGERS, in order.
const TRIGGERS: &[&str] = &[
    "TRIGGER_CATALOG",
    "TRIGGER_SCHEMA",
    "TRIGGER_NAME",
    "EVENT_MANIPULATION",
    "EVENT_OBJECT_CATALOG",
    "EVENT_OBJECT_SCHEMA",
    "EVENT_OBJECT_TABLE",
    "ACTION_ORDER",
    "ACTION_CONDITION",
    "ACTION_STATEMENT",
    "ACTION_ORIENTATION",
    "ACTION_TIMING",
    "ACTION_REFERENCE_OLD_TABLE",
    "ACTION_REFERENCE_NEW_TABLE",
    "ACTION_REFERENCE_OLD_ROW",
    "ACTION_REFERENCE_NEW_ROW",
    "CREATED",
    "SQL_MODE",
    "DEFINER",
    "CHARACTER_SET_CLIENT",
    "COLLATION_CONNECTION",
    "DATABASE_COLLATION",
];

/// MariaDB 10.11's columns of information_schema.EVENTS, in order.
const EVENTS: &[&str] = &[
    "EVENT_CATALOG",
    "EVENT_SCHEMA",
    "EVENT_NAME",
    "DEFINER",
    "TIME_ZONE",
    "EVENT_BODY",
    "EVENT_DEFINITION",
    "EVENT_TYPE",
    "EXECUTE_AT",
    "INTERVAL_VALUE",
    "INTERVAL_FIELD",
    "SQL_MODE",
    "STARTS",
    "ENDS",
    "STATUS",
    "ON_COMPLETION",
    "CREATED",
    "LAST_ALTERED",
    "LAST_EXECUTED",
    "EVENT_COMMENT",
    "ORIGINATOR",
    "CHARACTER_SET_CLIENT",
    "COLLATION_CONNECTION",
    "DATABASE_COLLATION",
];
