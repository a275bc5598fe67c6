//! Privilege sets (one bit per privilege, in MariaDB's SHOW GRANTS order), the level a
//! privilege applies at, and the objects grants name.

use strata_sql::account::{GrantLevel, Privilege};

use super::AccountError;

/// Privileges Strata grants, in MariaDB's SHOW GRANTS order (one bit each).
const ORDER: [Privilege; 39] = [
    Privilege::Select,
    Privilege::Insert,
    Privilege::Update,
    Privilege::Delete,
    Privilege::Create,
    Privilege::Drop,
    Privilege::Reload,
    Privilege::Shutdown,
    Privilege::Process,
    Privilege::File,
    Privilege::References,
    Privilege::Index,
    Privilege::Alter,
    Privilege::ShowDatabases,
    Privilege::Super,
    Privilege::CreateTemporaryTables,
    Privilege::LockTables,
    Privilege::Execute,
    Privilege::ReplicationSlave,
    Privilege::BinlogMonitor,
    Privilege::CreateView,
    Privilege::ShowView,
    Privilege::CreateRoutine,
    Privilege::AlterRoutine,
    Privilege::CreateUser,
    Privilege::Event,
    Privilege::Trigger,
    Privilege::CreateTablespace,
    Privilege::DeleteHistory,
    Privilege::SetUser,
    Privilege::FederatedAdmin,
    Privilege::ConnectionAdmin,
    Privilege::ReadOnlyAdmin,
    Privilege::ReplicationSlaveAdmin,
    Privilege::ReplicationMasterAdmin,
    Privilege::BinlogAdmin,
    Privilege::BinlogReplay,
    Privilege::SlaveMonitor,
    Privilege::GrantOption,
];

/// Privileges that exist only on `*.*` (granting one on a database is 1221).
const GLOBAL_ONLY: [Privilege; 19] = [
    Privilege::Reload,
    Privilege::Shutdown,
    Privilege::Process,
    Privilege::File,
    Privilege::ShowDatabases,
    Privilege::Super,
    Privilege::ReplicationSlave,
    Privilege::BinlogMonitor,
    Privilege::CreateUser,
    Privilege::CreateTablespace,
    Privilege::SetUser,
    Privilege::FederatedAdmin,
    Privilege::ConnectionAdmin,
    Privilege::ReadOnlyAdmin,
    Privilege::ReplicationSlaveAdmin,
    Privilege::ReplicationMasterAdmin,
    Privilege::BinlogAdmin,
    Privilege::BinlogReplay,
    Privilege::SlaveMonitor,
];

/// Privileges that exist globally and per database, but not per table.
const NOT_PER_TABLE: [Privilege; 6] = [
    Privilege::CreateTemporaryTables,
    Privilege::LockTables,
    Privilege::Execute,
    Privilege::CreateRoutine,
    Privilege::AlterRoutine,
    Privilege::Event,
];

/// A set of privileges (GRANT OPTION included as one of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PrivSet(u64);

/// Set by granting ALL: SHOW GRANTS then prints `ALL PRIVILEGES` rather than the list.
const ALL_MARK: u64 = 1 << 63;

/// How the ALL mark is stored.
const ALL_MARK_NAME: &str = "ALL PRIVILEGES";

impl PrivSet {
    /// No privilege (USAGE).
    pub const EMPTY: PrivSet = PrivSet(0);

    /// The set holding `p` (`ALL` and `USAGE` are not single privileges: use the level's
    /// `all()` and `EMPTY`).
    pub fn of(p: Privilege) -> PrivSet {
        ORDER
            .iter()
            .position(|&o| o == p)
            .map_or(PrivSet::EMPTY, |i| PrivSet(1 << i))
    }

    /// Every privilege that exists at `level`, GRANT OPTION excluded: what ALL means there.
    pub fn all(level: Level) -> PrivSet {
        // Asked on every statement (the administrator shortcut): computed once.
        static ALL: std::sync::LazyLock<[PrivSet; 3]> = std::sync::LazyLock::new(|| {
            [Level::Global, Level::Database, Level::Table].map(PrivSet::all_uncached)
        });
        ALL[match level {
            Level::Global => 0,
            Level::Database => 1,
            Level::Table => 2,
        }]
    }

    fn all_uncached(level: Level) -> PrivSet {
        // Each level has the privileges of the level above it but those that stop there.
        let stopped: &[&[Privilege]] = match level {
            Level::Global => &[],
            Level::Database => &[&GLOBAL_ONLY],
            Level::Table => &[&GLOBAL_ONLY, &NOT_PER_TABLE],
        };
        ORDER[..ORDER.len() - 1]
            .iter()
            .filter(|p| !stopped.iter().any(|list| list.contains(p)))
            .fold(PrivSet(ALL_MARK), |s, &p| s | PrivSet::of(p))
    }

    /// True when every privilege of `other` is in `self`.
    pub fn contains(self, other: PrivSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when the set holds no privilege.
    pub fn is_empty(self) -> bool {
        self.0 & !ALL_MARK == 0
    }

    /// The privileges of `self` not in `other` (removing any privilege but GRANT OPTION
    /// drops the ALL mark, as MariaDB then lists what remains).
    pub fn minus(self, other: PrivSet) -> PrivSet {
        let kept = ALL_MARK | PrivSet::of(Privilege::GrantOption).0;
        let removed = self.0 & other.0 & !kept != 0;
        let left = self.0 & !other.0;
        PrivSet(if removed { left & !ALL_MARK } else { left })
    }

    /// The privileges in both.
    pub fn intersect(self, other: PrivSet) -> PrivSet {
        PrivSet(self.0 & other.0)
    }

    /// True when GRANT OPTION is in the set.
    pub fn grant_option(self) -> bool {
        self.contains(PrivSet::of(Privilege::GrantOption))
    }

    /// The privileges in SHOW GRANTS order.
    pub fn iter(self) -> impl Iterator<Item = Privilege> {
        ORDER
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, p)| p)
    }

    /// The privilege list of a SHOW GRANTS line at `level`: `ALL PRIVILEGES`, `USAGE` or
    /// the names (GRANT OPTION is written as `WITH GRANT OPTION` by the caller).
    pub(super) fn grant_list(self, level: Level) -> String {
        let privs = self.minus(PrivSet::of(Privilege::GrantOption));
        if privs.is_empty() {
            "USAGE".into()
        } else if privs.contains(PrivSet::all(level)) {
            "ALL PRIVILEGES".into()
        } else {
            privs
                .iter()
                .map(Privilege::name)
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    pub(super) fn names(self) -> Vec<String> {
        let mut out: Vec<String> = self.iter().map(|p| p.name().to_string()).collect();
        if self.0 & ALL_MARK != 0 {
            out.push(ALL_MARK_NAME.into());
        }
        out
    }

    /// The set stored as `names` at `level`. A set stored with the ALL mark holds every
    /// privilege of its level, also those added to Strata after it was stored.
    pub(super) fn from_names(names: &[String], level: Level) -> Result<PrivSet, String> {
        names.iter().try_fold(PrivSet::EMPTY, |set, name| {
            if name == ALL_MARK_NAME {
                return Ok(set | PrivSet::all(level));
            }
            ORDER
                .iter()
                .find(|p| p.name() == name)
                .map(|&p| set | PrivSet::of(p))
                .ok_or_else(|| format!("unknown privilege {name}"))
        })
    }
}

impl std::ops::BitOr for PrivSet {
    type Output = PrivSet;
    fn bitor(self, rhs: PrivSet) -> PrivSet {
        PrivSet(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for PrivSet {
    fn bitor_assign(&mut self, rhs: PrivSet) {
        self.0 |= rhs.0;
    }
}

/// The three levels privileges are granted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `*.*`.
    Global,
    /// `db.*`.
    Database,
    /// `db.tbl`.
    Table,
}

/// A grant level with the current database resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantTarget {
    /// `*.*`.
    Global,
    /// `db.*`.
    Database(String),
    /// `db.tbl`.
    Table(String, String),
}

impl GrantTarget {
    /// Resolves a parsed level: `*` and an unqualified table use `current_db` (1046
    /// without one, as MariaDB answers).
    pub fn resolve(level: &GrantLevel, current_db: Option<&str>) -> Result<Self, AccountError> {
        let current = || {
            current_db
                .map(str::to_string)
                .ok_or(AccountError::NoDatabaseSelected)
        };
        Ok(match level {
            GrantLevel::Global => GrantTarget::Global,
            GrantLevel::CurrentDatabase => GrantTarget::Database(current()?),
            GrantLevel::Database(db) => GrantTarget::Database(db.clone()),
            GrantLevel::Table { db, table } => GrantTarget::Table(
                match db {
                    Some(db) => db.clone(),
                    None => current()?,
                },
                table.clone(),
            ),
        })
    }

    pub(super) fn level(&self) -> Level {
        match self {
            GrantTarget::Global => Level::Global,
            GrantTarget::Database(_) => Level::Database,
            GrantTarget::Table(..) => Level::Table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_stored_with_all_holds_privileges_added_since() {
        // What an account granted ALL ON *.* was stored as before FILE, SHUTDOWN and
        // SUPER's split were modelled: its own names and the ALL mark.
        let old: Vec<String> = ["SELECT", "INSERT", "SUPER", "GRANT OPTION", ALL_MARK_NAME]
            .map(String::from)
            .to_vec();
        let set = PrivSet::from_names(&old, Level::Global).expect("known names");
        assert!(set.contains(PrivSet::all(Level::Global)));
        assert!(set.contains(PrivSet::of(Privilege::ConnectionAdmin)));
        assert!(set.grant_option());
        assert_eq!(set.grant_list(Level::Global), "ALL PRIVILEGES");
        let listed: Vec<String> = ["SELECT", "FILE"].map(String::from).to_vec();
        let set = PrivSet::from_names(&listed, Level::Global).expect("known names");
        assert_eq!(set.grant_list(Level::Global), "SELECT, FILE");
        assert!(PrivSet::from_names(&["NOPE".to_string()], Level::Table).is_err());
    }
}
