//! Session state tracking for clients that negotiated CLIENT_SESSION_TRACK, as MariaDB
//! 10.11 does it: the OK packet of a statement that changed the current schema
//! (`session_track_schema`, USE and the current database dropped) or a tracked system
//! variable (`session_track_system_variables`, `*` for all) carries the new values, and
//! SERVER_SESSION_STATE_CHANGED. The tracking settings are ordinary session variables
//! (set on the storage connection, which validates them, and replayed); the compute
//! node keeps a copy to know what to report. `session_track_state_change` and
//! `session_track_transaction_info` are not tracked: setting them to anything but OFF
//! is refused.

use strata_backend::pool::Lease;
use strata_backend::BackendError;
use strata_protocol::constants::status;
use strata_protocol::packets::OkPacket;
use strata_protocol::session_track::StateEntry;
use strata_protocol::MysqlError;
use strata_sql::{SetItem, SetValue, TxScope};

use super::optimizer_trace::untraced_select;
use super::Session;
use crate::globals::GlobalVariables;

/// `session_track_system_variables` by default in MariaDB 10.11.
const DEFAULT_TRACKED: &str =
    "autocommit,character_set_client,character_set_connection,character_set_results,time_zone";

/// The variables that say what is tracked.
const SETTINGS: &[&str] = &["session_track_schema", "session_track_system_variables"];

/// Tracking variables only OFF is accepted for.
const ONLY_OFF: &[&str] = &[
    "session_track_state_change",
    "session_track_transaction_info",
];

/// What the session tracks and the changes its next OK packet reports.
#[derive(Debug, Clone)]
pub(super) struct Tracker {
    /// The client negotiated CLIENT_SESSION_TRACK (nothing is tracked otherwise).
    enabled: bool,
    /// `session_track_schema`.
    schema: bool,
    /// `session_track_system_variables`: None for `*`, else the names (lower case).
    variables: Option<Vec<String>>,
    /// Tracked variables changed by the statement, with their new values.
    changed_variables: Vec<(String, String)>,
    /// The schema the statement made current (empty: none), when tracked.
    changed_schema: Option<String>,
    /// The statement dropped the current database (SERVER_STATUS_DB_DROPPED).
    db_dropped: bool,
}

impl Tracker {
    /// The tracker of a session whose client negotiated SESSION_TRACK or not, with the
    /// settings new sessions start with.
    pub fn new(enabled: bool, globals: &GlobalVariables) -> Self {
        let mut tracker = Tracker {
            enabled,
            schema: true,
            variables: None,
            changed_variables: Vec::new(),
            changed_schema: None,
            db_dropped: false,
        };
        tracker.reset(globals);
        tracker
    }

    /// Back to the settings of a new session (the compute node's global values, else
    /// MariaDB's defaults): COM_CHANGE_USER, COM_RESET_CONNECTION.
    pub fn reset(&mut self, globals: &GlobalVariables) {
        self.schema = true;
        self.variables = Some(parse_list(DEFAULT_TRACKED));
        for name in SETTINGS {
            if let Some(value) = globals.get(name) {
                self.configure(name, &value.text);
            }
        }
        self.take();
    }

    /// Takes the new value of a tracking setting.
    fn configure(&mut self, name: &str, value: &str) {
        match name {
            "session_track_schema" => {
                self.schema = value == "1" || value.eq_ignore_ascii_case("on");
            }
            "session_track_system_variables" => {
                self.variables = if value.split(',').any(|v| v.trim() == "*") {
                    None
                } else {
                    Some(parse_list(value))
                };
            }
            _ => {}
        }
    }

    /// The current schema changed (USE, COM_INIT_DB; None: no database selected).
    pub fn schema_changed(&mut self, db: Option<&str>) {
        if self.enabled && self.schema {
            self.changed_schema = Some(db.unwrap_or_default().to_string());
        }
    }

    /// The current database was dropped.
    pub fn database_dropped(&mut self) {
        self.db_dropped = true;
        self.schema_changed(None);
    }

    /// The variables a successful SET of `items` makes the compute node read back from
    /// the storage connection: the tracked ones it changed, then the tracking settings
    /// it changed. Empty for a client without SESSION_TRACK.
    pub fn to_read_back(&self, items: &[SetItem]) -> Vec<String> {
        if !self.enabled {
            return Vec::new();
        }
        let changed = changed_variables(items);
        let mut names: Vec<String> = match &self.variables {
            None => changed.clone(),
            Some(list) => list
                .iter()
                .filter(|name| changed.contains(name))
                .cloned()
                .collect(),
        };
        for setting in SETTINGS {
            if changed.iter().any(|c| c == setting) && !names.iter().any(|n| n == setting) {
                names.push((*setting).to_string());
            }
        }
        names
    }

    /// Records the values read back for [`Self::to_read_back`]'s `names`: new tracking
    /// settings take effect first (MariaDB reports a variable the same SET starts
    /// tracking), then the tracked values are kept for the OK packet.
    pub fn read_back(&mut self, names: &[String], values: &[(String, String)]) {
        let value_of = |name: &str| {
            values
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        for setting in SETTINGS {
            if let Some(value) = value_of(setting) {
                self.configure(setting, value);
            }
        }
        for name in names {
            if !self.tracks(name) {
                continue;
            }
            if let Some(value) = value_of(name) {
                self.changed_variables.retain(|(n, _)| n != name);
                self.changed_variables
                    .push((name.clone(), value.to_string()));
            }
        }
    }

    /// True when `name`'s changes are reported.
    fn tracks(&self, name: &str) -> bool {
        match &self.variables {
            None => true,
            Some(list) => list.iter().any(|n| n == name),
        }
    }

    /// What the next OK packet carries: status flags to add and its session state
    /// information (empty when nothing changed); clears both.
    pub fn take(&mut self) -> (u16, Vec<u8>) {
        let mut flags = 0;
        if std::mem::take(&mut self.db_dropped) {
            flags |= status::DB_DROPPED;
        }
        if self.changed_variables.is_empty() && self.changed_schema.is_none() {
            return (flags, Vec::new());
        }
        let mut entries: Vec<StateEntry> = std::mem::take(&mut self.changed_variables)
            .into_iter()
            .map(|(name, value)| StateEntry::SystemVariable { name, value })
            .collect();
        if let Some(db) = self.changed_schema.take() {
            entries.push(StateEntry::Schema(db));
        }
        (flags, StateEntry::encode_all(&entries))
    }
}

impl Session {
    /// USE (or COM_INIT_DB) of `db`, reported to a client that tracks the schema.
    pub(super) fn use_tracked(&mut self, db: &str) -> Result<(), MysqlError> {
        self.change_database(db)?;
        let current = self.state.db.clone();
        self.client.tracker.schema_changed(current.as_deref());
        Ok(())
    }

    /// Writes the OK packet of a SET the relay held (`RelayMode::hold_final_ok`) with
    /// the tracked values it changed, read back on the connection that ran it.
    pub(super) async fn write_held_ok(&mut self, lease: &mut Lease, held: Vec<u8>) {
        let names = std::mem::take(&mut self.state.pending_track);
        match read_values(lease, &names, self.backends.trace.on).await {
            Ok(values) => self.client.tracker.read_back(&names, &values),
            Err(e) => {
                // The SET took effect: its OK goes out, without the values.
                tracing::warn!(error = %e, "cannot read back tracked session variables");
                lease.mark_broken();
            }
        }
        match OkPacket::decode(&held) {
            Ok(ok) => self.client.write_ok(ok),
            Err(_) => self.client.conn.write_packet(&held),
        }
    }
}

/// A `session_track_system_variables` list as names (lower case, no blanks).
fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The session variables a SET of `items` changes, in the order MariaDB marks them.
fn changed_variables(items: &[SetItem]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    for item in items {
        match item {
            SetItem::System { name, .. } => match name.as_str() {
                "transaction_isolation" => add("tx_isolation"),
                "transaction_read_only" => add("tx_read_only"),
                other => add(other),
            },
            SetItem::Autocommit(_) => add("autocommit"),
            SetItem::Names { .. } | SetItem::CharacterSet { .. } => {
                add("character_set_client");
                add("character_set_connection");
                add("character_set_results");
            }
            SetItem::Transaction {
                scope: TxScope::Session,
                isolation,
                read_only,
            } => {
                if isolation.is_some() {
                    add("tx_isolation");
                }
                if read_only.is_some() {
                    add("tx_read_only");
                }
            }
            SetItem::Transaction { .. } | SetItem::User { .. } => {}
        }
    }
    out
}

/// 1235 for a SET of a tracking the compute node does not do to a value other than OFF
/// (a value it cannot read, such as an expression, included): never accepted and then
/// silently not tracked.
pub(super) fn refuse_untracked(items: &[SetItem]) -> Result<(), MysqlError> {
    for item in items {
        let SetItem::System { name, value, .. } = item else {
            continue;
        };
        if !ONLY_OFF.contains(&name.as_str()) {
            continue;
        }
        let off = match &value.value {
            Some(SetValue::Default) => true,
            Some(v) if name == "session_track_state_change" => v.as_bool() == Some(false),
            Some(SetValue::Str(s) | SetValue::Ident(s)) => s.eq_ignore_ascii_case("off"),
            Some(SetValue::Int(0)) => true,
            _ => false,
        };
        if !off {
            return Err(MysqlError::not_supported(&format!(
                "{name} other than OFF (Strata's compute node does not track it)"
            )));
        }
    }
    Ok(())
}

/// Reads the session values of `names` on the storage connection that ran the SET, as
/// SHOW VARIABLES prints them, which is how they are reported: CONCAT gives booleans
/// as ON/OFF, NULL is empty. A SELECT without tables leaves the SET's warnings for
/// SHOW WARNINGS.
pub(super) async fn read_values(
    lease: &mut Lease,
    names: &[String],
    tracing: bool,
) -> Result<Vec<(String, String)>, BackendError> {
    let list: Vec<String> = names
        .iter()
        .filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .cloned()
        .collect();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<String> = list
        .iter()
        .map(|n| format!("CONCAT(@@session.{n})"))
        .collect();
    let select = format!("SELECT {}", columns.join(", "));
    let rows = lease.query(&untraced_select(&select, tracing)).await?;
    let row = rows.into_iter().next().unwrap_or_default();
    Ok(list
        .into_iter()
        .zip(row.into_iter().map(Option::unwrap_or_default))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sql: &str) -> Vec<SetItem> {
        strata_sql::parse_set(sql).expect("set")
    }

    #[test]
    fn names_read_back_follow_the_tracked_list() {
        let globals = GlobalVariables::default();
        let mut t = Tracker::new(true, &globals);
        assert_eq!(
            t.to_read_back(&items("SET NAMES utf8")),
            [
                "character_set_client",
                "character_set_connection",
                "character_set_results"
            ]
        );
        assert!(t.to_read_back(&items("SET sql_mode=''")).is_empty());
        let names = t.to_read_back(&items("SET session_track_system_variables='*'"));
        assert_eq!(names, ["session_track_system_variables"]);
        t.read_back(&names, &[(names[0].clone(), "*".into())]);
        assert_eq!(t.to_read_back(&items("SET sql_mode=''")), ["sql_mode"]);
        let (_, state) = t.take();
        assert_eq!(
            StateEntry::decode_all(&state).unwrap(),
            [StateEntry::SystemVariable {
                name: "session_track_system_variables".into(),
                value: "*".into()
            }]
        );
        assert!(Tracker::new(false, &globals)
            .to_read_back(&items("SET autocommit=0"))
            .is_empty());
    }

    #[test]
    fn only_off_is_accepted_for_what_is_not_tracked() {
        assert!(refuse_untracked(&items("SET session_track_state_change=OFF")).is_ok());
        assert!(refuse_untracked(&items("SET session_track_transaction_info='off'")).is_ok());
        assert!(refuse_untracked(&items("SET session_track_state_change=1")).is_err());
        assert!(refuse_untracked(&items("SET session_track_transaction_info=STATE")).is_err());
        assert!(refuse_untracked(&items("SET session_track_state_change=@x")).is_err());
    }
}
