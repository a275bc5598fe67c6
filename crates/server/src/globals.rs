//! The compute node's own global system variables. A client sees Strata as its server,
//! so `SET GLOBAL sql_mode = ...` sets the default that later sessions of this compute
//! node start with, not a storage server's setting (which every compute node and every
//! other application of that storage server would share). Only variables that also have
//! a session scope are kept here: a new session replays them on its storage connections
//! like any session variable it set itself. The values live in memory: they are this
//! compute node's alone and last until it restarts (MySQL's `SET GLOBAL` is not
//! persisted either). The session's side (validation, privileges, reads) is
//! `session::globals`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;

/// Global-only variables that are the compute node's own (never a storage server's):
/// `@@read_only` and `@@global.read_only` both read them, and new sessions do not
/// replay them on their storage connections.
pub use strata_sql::guard::COMPUTE_GLOBAL_ONLY as OWN_GLOBAL_ONLY;

/// One global value, as the storage node normalized it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalValue {
    /// The value as `SELECT @@global.x` shows it (`1` for a boolean that is on).
    pub text: String,
    /// The value as `SHOW GLOBAL VARIABLES` shows it (`ON` for a boolean that is on).
    pub shown: String,
    /// True for a numeric value (written without quotes in SQL).
    pub numeric: bool,
}

/// Global values set with `SET GLOBAL` on this compute node, by lowercased name.
#[derive(Debug, Default)]
pub struct GlobalVariables {
    values: RwLock<BTreeMap<String, GlobalValue>>,
    /// `read_only`: statements that change data or schema are refused to accounts
    /// without READ_ONLY ADMIN.
    read_only: AtomicBool,
    /// `max_allowed_packet` for new sessions, once `SET GLOBAL` gave it one (0: the
    /// configured `server.max_allowed_packet`).
    max_allowed_packet: AtomicU64,
    /// `init_connect`: statements run at the start of each new session of an account
    /// without SUPER or CONNECTION ADMIN ('' for none).
    init_connect: RwLock<String>,
}

impl GlobalVariables {
    /// The value `SET GLOBAL` gave `name`, if any.
    pub fn get(&self, name: &str) -> Option<GlobalValue> {
        self.own_global_only(name)
            .or_else(|| self.read().get(name).cloned())
    }

    /// The value of one of [`OWN_GLOBAL_ONLY`] (None for any other name).
    pub fn own_global_only(&self, name: &str) -> Option<GlobalValue> {
        match name.to_ascii_lowercase().as_str() {
            "read_only" => Some(boolean(self.read_only())),
            "init_connect" => {
                let text = self.init_connect();
                Some(GlobalValue {
                    shown: text.clone(),
                    text,
                    numeric: false,
                })
            }
            _ => None,
        }
    }

    /// The packet limit of a session starting now: the `SET GLOBAL` value, else
    /// `configured` (`server.max_allowed_packet`).
    pub fn max_allowed_packet(&self, configured: u32) -> u64 {
        match self.max_allowed_packet.load(Ordering::SeqCst) {
            0 => u64::from(configured),
            set => set,
        }
    }

    /// The statements `init_connect` holds ('' for none).
    pub fn init_connect(&self) -> String {
        self.init_connect
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// True while `read_only` is on.
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::SeqCst)
    }

    /// Every value set, by name (what a new session starts with).
    pub fn all(&self) -> BTreeMap<String, GlobalValue> {
        self.read().clone()
    }

    /// True when no variable was set (sessions skip the rest with one lock).
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Forgets every value set: new sessions start from the storage servers' values
    /// again (the fuzz harness does this before it checks that inputs left nothing).
    pub fn clear(&self) {
        self.values
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.read_only.store(false, Ordering::SeqCst);
        self.max_allowed_packet.store(0, Ordering::SeqCst);
        self.set_init_connect(String::new());
    }

    fn set_init_connect(&self, text: String) {
        *self.init_connect.write().unwrap_or_else(|p| p.into_inner()) = text;
    }

    /// Sets `name`'s global value; None restores the built-in default (`SET GLOBAL x =
    /// DEFAULT`): the storage server's own global value.
    pub fn set(&self, name: &str, value: Option<GlobalValue>) {
        if name == "read_only" {
            let on = value.is_some_and(|v| v.text == "1");
            self.read_only.store(on, Ordering::SeqCst);
            return;
        }
        if name == "init_connect" {
            self.set_init_connect(value.map(|v| v.text).unwrap_or_default());
            return;
        }
        if name == "max_allowed_packet" {
            // Taken at login, not replayed on storage connections (read-only there).
            let bytes = value.and_then(|v| v.text.parse().ok()).unwrap_or(0);
            self.max_allowed_packet.store(bytes, Ordering::SeqCst);
            return;
        }
        let mut values = self.values.write().unwrap_or_else(|p| p.into_inner());
        match value {
            Some(v) => {
                values.insert(name.to_string(), v);
            }
            None => {
                values.remove(name);
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, GlobalValue>> {
        self.values.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// A boolean global value.
pub fn boolean(on: bool) -> GlobalValue {
    GlobalValue {
        text: u8::from(on).to_string(),
        shown: if on { "ON" } else { "OFF" }.into(),
        numeric: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_removes_the_value() {
        let g = GlobalVariables::default();
        let v = GlobalValue {
            text: "7".into(),
            shown: "7".into(),
            numeric: true,
        };
        g.set("div_precision_increment", Some(v.clone()));
        assert_eq!(g.get("div_precision_increment"), Some(v));
        g.set("div_precision_increment", None);
        assert!(g.is_empty());
    }

    #[test]
    fn read_only_is_kept_apart_from_session_defaults() {
        let g = GlobalVariables::default();
        assert_eq!(g.get("read_only").map(|v| v.shown), Some("OFF".into()));
        g.set("read_only", Some(boolean(true)));
        assert!(g.read_only());
        assert!(g.is_empty());
        assert_eq!(g.get("READ_ONLY").map(|v| v.text), Some("1".into()));
        g.set("read_only", None);
        assert!(!g.read_only());
    }
}
