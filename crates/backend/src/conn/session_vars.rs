//! The session variables replayed on a storage-node connection before each borrow.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Session variables a client set, as they must be replayed on a storage-node connection:
/// name -> assignment text for a `SET` list (e.g. `sql_mode` -> `SESSION sql_mode = 'ANSI'`,
/// `names` -> `NAMES utf8mb4`), with a cached fingerprint compared before every borrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionVars {
    map: BTreeMap<String, String>,
    fingerprint: u64,
}

impl Default for SessionVars {
    fn default() -> Self {
        let map = BTreeMap::new();
        Self {
            fingerprint: Self::hash(&map),
            map,
        }
    }
}

impl SessionVars {
    fn hash(map: &BTreeMap<String, String>) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        map.hash(&mut h);
        h.finish()
    }

    /// Records an assignment, replacing an earlier one for the same variable.
    pub fn set(&mut self, name: &str, assignment: String) {
        self.map.insert(name.to_string(), assignment);
        self.fingerprint = Self::hash(&self.map);
    }

    /// True when an assignment lets the storage node close the connection once it has
    /// been idle for a while (`wait_timeout`): fine while a session holds it, fatal for
    /// a connection parked in a pool, which would be closed under its next borrower.
    pub fn limits_idle_time(&self) -> bool {
        IDLE_LIMITING
            .iter()
            .any(|name| self.map.contains_key(*name))
    }

    /// These assignments without the ones that limit idle time.
    pub fn without_idle_limits(&self) -> SessionVars {
        let mut vars = self.clone();
        for name in IDLE_LIMITING {
            vars.map.remove(*name);
        }
        vars.fingerprint = Self::hash(&vars.map);
        vars
    }

    /// Forgets every assignment (COM_RESET_CONNECTION, COM_CHANGE_USER).
    pub fn clear(&mut self) {
        self.map.clear();
        self.fingerprint = Self::hash(&self.map);
    }

    /// The assignment recorded for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// The value side of the assignment recorded for `name` (`SESSION name = VALUE`),
    /// as written there.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .and_then(|a| a.split_once(" = "))
            .map(|(_, v)| v)
    }

    /// Identity of the whole set of assignments.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Forgets the assignment recorded for `name`, if any.
    pub fn remove(&mut self, name: &str) {
        if self.map.remove(name).is_some() {
            self.fingerprint = Self::hash(&self.map);
        }
    }

    /// The `SET` statement that turns `from` into `self`, if any assignment differs.
    pub(super) fn diff_from(&self, from: &SessionVars) -> Option<String> {
        let mut items: Vec<String> = Vec::new();
        // `NAMES` sets the client, connection and results character sets at once, so
        // the group is replayed whole and `NAMES` first: a `character_set_results`
        // set after it must stay set (mariadb-dump's `binary` then `utf8mb4`), and a
        // connection leaving a session goes back to the character set it opened in,
        // not to the storage server's default (`NAMES DEFAULT` would give that).
        let group_differs = CHARSET_GROUP
            .iter()
            .any(|name| self.map.get(*name) != from.map.get(*name));
        if group_differs {
            items.push(
                self.map
                    .get("names")
                    .cloned()
                    .unwrap_or_else(|| OPENING_NAMES.to_string()),
            );
            for name in CHARSET_GROUP.iter().skip(1) {
                if let Some(assignment) = self.map.get(*name) {
                    items.push(assignment.clone());
                }
            }
        }
        for (name, assignment) in &self.map {
            if CHARSET_GROUP.contains(&name.as_str()) {
                continue;
            }
            if from.map.get(name) != Some(assignment) {
                items.push(assignment.clone());
            }
        }
        for name in from.map.keys() {
            if CHARSET_GROUP.contains(&name.as_str()) {
                continue;
            }
            if !self.map.contains_key(name) {
                items.push(if WITHOUT_DEFAULT.contains(&name.as_str()) {
                    format!("SESSION {name} = {}", fresh_seed(name))
                } else {
                    format!("SESSION {name} = DEFAULT")
                });
            }
        }
        (!items.is_empty()).then(|| format!("SET {}", items.join(", ")))
    }
}

/// `NAMES` first, then the variables it sets (each replayed after it when the session
/// set it later); see [`SessionVars::diff_from`].
const CHARSET_GROUP: &[&str] = &[
    "names",
    "character_set_client",
    "character_set_connection",
    "character_set_results",
    "collation_connection",
];

/// The character set a storage connection opens in (its handshake's collation).
const OPENING_NAMES: &str = "NAMES utf8mb4 COLLATE utf8mb4_general_ci";

/// Session variables a storage node cannot set to DEFAULT (error 1230): the seeds of
/// RAND(). A connection leaving a session that seeded it gets fresh random seeds, so the
/// next session's RAND() does not repeat a sequence another session chose.
const WITHOUT_DEFAULT: &[&str] = &["rand_seed1", "rand_seed2"];

/// An unpredictable seed (std's per-process random hash keys; no RNG dependency).
fn fresh_seed(name: &str) -> u32 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(name) as u32
}

/// Session variables after which the storage node closes an idle connection. Only
/// `wait_timeout` counts for the compute node's connections: `interactive_timeout` seeds
/// it at login for interactive clients only, which storage connections are not.
const IDLE_LIMITING: &[&str] = &["wait_timeout"];

#[cfg(test)]
mod tests {
    use super::SessionVars;

    #[test]
    fn seeds_are_replaced_not_reset_to_default() {
        let mut seeded = SessionVars::default();
        seeded.set("rand_seed1", "SESSION rand_seed1 = 3".into());
        seeded.set("sql_mode", "SESSION sql_mode = 'ANSI'".into());
        let reset = SessionVars::default()
            .diff_from(&seeded)
            .unwrap_or_default();
        assert!(reset.contains("SESSION sql_mode = DEFAULT"), "{reset}");
        assert!(!reset.contains("rand_seed1 = DEFAULT"), "{reset}");
        let seed = reset
            .split("SESSION rand_seed1 = ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .ok_or(reset.clone());
        assert!(seed.is_ok_and(|s| s.parse::<u32>().is_ok()));
    }

    #[test]
    fn names_is_replayed_before_the_character_sets_set_after_it() {
        let mut dump = SessionVars::default();
        dump.set(
            "character_set_results",
            "SESSION character_set_results = 'utf8mb4'".into(),
        );
        let mut latin1 = SessionVars::default();
        latin1.set("names", "NAMES latin1".into());
        let set = dump.diff_from(&latin1).unwrap_or_default();
        assert_eq!(
            set,
            "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci, \
             SESSION character_set_results = 'utf8mb4'"
        );
        latin1.set(
            "character_set_results",
            "SESSION character_set_results = binary".into(),
        );
        let set = SessionVars::default()
            .diff_from(&latin1)
            .unwrap_or_default();
        assert_eq!(set, "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci");
        assert_eq!(latin1.diff_from(&latin1), None);
    }
}
