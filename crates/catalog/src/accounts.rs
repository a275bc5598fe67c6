//! Strata's own accounts and privileges, the one place where access is decided: the
//! account model (`'user'@'host'`, stored password verifiers, MAX_USER_CONNECTIONS),
//! privileges at the global, database and table level with GRANT OPTION, MySQL's host
//! matching and "most specific account first" login rule, the account statements'
//! semantics with MySQL's error codes, SHOW GRANTS / SHOW CREATE USER in MariaDB 10.11's
//! exact text, and persistence in the metadata store. Everything here is pure except
//! `Accounts::load` and `Accounts::save`; the session resolves `CURRENT_USER` and the
//! current database before calling in.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use strata_protocol::auth::verifier::{
    format_native_hash, parse_native_hash, Credential, Sha2Verifier,
};
use strata_protocol::AuthPlugin;
use strata_sql::account::{GrantLevel, Identified, PasswordValue, Privilege, UserName};

use crate::config::UserConfig;
use crate::error::CatalogError;
use crate::store::{decode_versioned, encode_versioned, MetadataStore};

/// (user, host) -> encoded account record.
pub(crate) const ACCOUNTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("accounts");

/// Format version of account records (add fields with serde defaults; bump to refuse).
const ACCOUNT_RECORD_VERSION: u8 = 1;

/// Privileges Strata grants, in MariaDB's SHOW GRANTS order (one bit each).
const ORDER: [Privilege; 24] = [
    Privilege::Select,
    Privilege::Insert,
    Privilege::Update,
    Privilege::Delete,
    Privilege::Create,
    Privilege::Drop,
    Privilege::Reload,
    Privilege::Process,
    Privilege::References,
    Privilege::Index,
    Privilege::Alter,
    Privilege::ShowDatabases,
    Privilege::Super,
    Privilege::CreateTemporaryTables,
    Privilege::LockTables,
    Privilege::Execute,
    Privilege::CreateView,
    Privilege::ShowView,
    Privilege::CreateRoutine,
    Privilege::AlterRoutine,
    Privilege::CreateUser,
    Privilege::Event,
    Privilege::Trigger,
    Privilege::GrantOption,
];

/// A set of privileges (GRANT OPTION included as one of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PrivSet(u32);

/// Set by granting ALL: MariaDB's ALL also covers privileges Strata does not model (DELETE
/// HISTORY, FILE, ...), so ALL and the list of Strata's privileges print differently.
const ALL_MARK: u32 = 1 << 31;

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
        use Privilege as P;
        let list: &[Privilege] = match level {
            Level::Global => &ORDER[..ORDER.len() - 1],
            Level::Database => &[
                P::Select,
                P::Insert,
                P::Update,
                P::Delete,
                P::Create,
                P::Drop,
                P::References,
                P::Index,
                P::Alter,
                P::CreateTemporaryTables,
                P::LockTables,
                P::Execute,
                P::CreateView,
                P::ShowView,
                P::CreateRoutine,
                P::AlterRoutine,
                P::Event,
                P::Trigger,
            ],
            Level::Table => &[
                P::Select,
                P::Insert,
                P::Update,
                P::Delete,
                P::Create,
                P::Drop,
                P::References,
                P::Index,
                P::Alter,
                P::CreateView,
                P::ShowView,
                P::Trigger,
            ],
        };
        list.iter()
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
    fn grant_list(self, level: Level) -> String {
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

    fn names(self) -> Vec<String> {
        let mut out: Vec<String> = self.iter().map(|p| p.name().to_string()).collect();
        if self.0 & ALL_MARK != 0 {
            out.push(ALL_MARK_NAME.into());
        }
        out
    }

    fn from_names(names: &[String]) -> Result<PrivSet, String> {
        names.iter().try_fold(PrivSet::EMPTY, |set, name| {
            if name == ALL_MARK_NAME {
                return Ok(set | PrivSet(ALL_MARK));
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

    fn level(&self) -> Level {
        match self {
            GrantTarget::Global => Level::Global,
            GrantTarget::Database(_) => Level::Database,
            GrantTarget::Table(..) => Level::Table,
        }
    }
}

/// Account-statement failures and the MySQL error each one is sent as.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// ER_CANNOT_USER (1396).
    #[error("Operation {op} failed for {}", quote_account(.user, .host))]
    OperationFailed {
        /// CREATE USER, DROP USER, RENAME USER or ALTER USER.
        op: &'static str,
        /// User part.
        user: String,
        /// Host part.
        host: String,
    },
    /// ER_PASSWORD_NO_MATCH (1133): GRANT or SET PASSWORD for a missing account.
    #[error("Can't find any matching row in the user table")]
    NoMatchingRow,
    /// ER_NONEXISTING_GRANT (1141).
    #[error("There is no such grant defined for user '{user}' on host '{host}'")]
    NoSuchGrant {
        /// User part.
        user: String,
        /// Host part.
        host: String,
    },
    /// ER_NONEXISTING_TABLE_GRANT (1147).
    #[error(
        "There is no such grant defined for user '{user}' on host '{host}' on table '{table}'"
    )]
    NoSuchTableGrant {
        /// User part.
        user: String,
        /// Host part.
        host: String,
        /// The table.
        table: String,
    },
    /// ER_PASSWD_LENGTH (1372): not a `*` + 40 hex digits hash.
    #[error("Password hash should be a 41-digit hexadecimal number")]
    NativeHashFormat,
    /// ER_PASSWORD_FORMAT (1827): not a caching_sha2 verifier.
    #[error("The password hash doesn't have the expected format.")]
    Sha2HashFormat,
    /// ER_PLUGIN_IS_NOT_LOADED (1524).
    #[error("Plugin '{0}' is not loaded")]
    UnknownPlugin(String),
    /// ER_WRONG_USAGE (1221): a global-only privilege at the database level.
    #[error("Incorrect usage of DB GRANT and GLOBAL PRIVILEGES")]
    GlobalPrivilegeOnDatabase,
    /// ER_WRONG_USAGE (1221).
    #[error("Incorrect usage of OR REPLACE and IF NOT EXISTS")]
    OrReplaceAndIfNotExists,
    /// ER_ILLEGAL_GRANT_FOR_TABLE (1144): a privilege that does not exist for tables.
    #[error("Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used")]
    IllegalTableGrant,
    /// ER_NO_DB_ERROR (1046).
    #[error("No database selected")]
    NoDatabaseSelected,
    /// ER_NOT_SUPPORTED_YET (1235).
    #[error("This version of MySQL doesn't yet support '{0}'")]
    Unsupported(&'static str),
    /// ER_ACCESS_DENIED_ERROR (1045): a global GRANT without the privileges to give.
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *.using_password { "YES" } else { "NO" })]
    AccessDenied {
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
        /// Whether the grantor's account has a password.
        using_password: bool,
    },
    /// ER_DBACCESS_DENIED_ERROR (1044).
    #[error("Access denied for user '{user}'@'{host}' to database '{db}'")]
    DatabaseAccessDenied {
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
        /// The database.
        db: String,
    },
    /// ER_TABLEACCESS_DENIED_ERROR (1142).
    #[error("{command} command denied to user '{user}'@'{host}' for table `{db}`.`{table}`")]
    TableAccessDenied {
        /// The first missing privilege.
        command: &'static str,
        /// The grantor's user.
        user: String,
        /// The grantor's host.
        host: String,
        /// The database.
        db: String,
        /// The table.
        table: String,
    },
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR (1227).
    #[error("Access denied; you need (at least one of) the {0} privilege(s) for this operation")]
    NeedPrivilege(&'static str),
    /// The metadata store failed.
    #[error(transparent)]
    Store(#[from] CatalogError),
}

impl AccountError {
    /// MySQL error number.
    pub fn code(&self) -> u16 {
        match self {
            AccountError::OperationFailed { .. } => 1396,
            AccountError::NoMatchingRow => 1133,
            AccountError::NoSuchGrant { .. } => 1141,
            AccountError::NoSuchTableGrant { .. } => 1147,
            AccountError::NativeHashFormat => 1372,
            AccountError::Sha2HashFormat => 1827,
            AccountError::UnknownPlugin(_) => 1524,
            AccountError::GlobalPrivilegeOnDatabase | AccountError::OrReplaceAndIfNotExists => 1221,
            AccountError::IllegalTableGrant => 1144,
            AccountError::NoDatabaseSelected => 1046,
            AccountError::Unsupported(_) => 1235,
            AccountError::AccessDenied { .. } => 1045,
            AccountError::DatabaseAccessDenied { .. } => 1044,
            AccountError::TableAccessDenied { .. } => 1142,
            AccountError::NeedPrivilege(_) => 1227,
            AccountError::Store(_) => 1105,
        }
    }

    /// SQLSTATE of the error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            AccountError::NoMatchingRow | AccountError::AccessDenied { .. } => "28000",
            AccountError::NoDatabaseSelected => "3D000",
            AccountError::NoSuchGrant { .. }
            | AccountError::NoSuchTableGrant { .. }
            | AccountError::IllegalTableGrant
            | AccountError::Unsupported(_)
            | AccountError::DatabaseAccessDenied { .. }
            | AccountError::TableAccessDenied { .. }
            | AccountError::NeedPrivilege(_) => "42000",
            _ => "HY000",
        }
    }
}

/// A note (SHOW WARNINGS level Note) an IF [NOT] EXISTS statement leaves instead of an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// MySQL code.
    pub code: u16,
    /// Message.
    pub message: String,
}

fn quote_account(user: &str, host: &str) -> String {
    format!("'{user}'@'{host}'")
}

/// A host pattern of an account, lowercased as MariaDB stores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPattern(String);

impl HostPattern {
    /// The pattern `text` (host names compare case-insensitively, so it is lowercased).
    pub fn new(text: &str) -> Self {
        HostPattern(text.to_ascii_lowercase())
    }

    /// The pattern as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when a client connecting from `client` may log in through this pattern:
    /// `%`/`_` wildcards and exact text against the IP address, `net/mask`, and
    /// `localhost` for the loopback addresses.
    pub fn matches(&self, client: IpAddr) -> bool {
        let client = match client {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
            v4 => v4,
        };
        let p = self.0.as_str();
        if p == "localhost" {
            return client.is_loopback();
        }
        if let Some((net, mask)) = p.split_once('/') {
            return match (
                net.parse::<std::net::Ipv4Addr>(),
                mask.parse::<std::net::Ipv4Addr>(),
                client,
            ) {
                (Ok(net), Ok(mask), IpAddr::V4(ip)) => {
                    let (net, mask, ip) = (u32::from(net), u32::from(mask), u32::from(ip));
                    net & mask == net && ip & mask == net
                }
                _ => false,
            };
        }
        wild_match(p.as_bytes(), client.to_string().as_bytes())
    }

    /// MySQL's `get_sort` weight: exact text 128, a pattern the number of characters
    /// before its first wildcard plus two, a lone `%` 1, empty 0. Higher sorts first.
    fn weight(text: &str) -> u32 {
        let bytes = text.as_bytes();
        let mut chars = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if i + 1 < bytes.len() => i += 1,
                b'%' | b'_' => {
                    let pos = i as u32 + 1;
                    let lone_percent = pos == 1 && bytes[i] == b'%' && i + 1 == bytes.len();
                    return (if lone_percent { pos } else { pos + 1 }).min(127);
                }
                _ => {}
            }
            chars = 128;
            i += 1;
        }
        chars
    }
}

/// `%` any run, `_` one character, `\` escapes; ASCII case-insensitive.
fn wild_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'%', rest)) => (0..=text.len()).any(|i| wild_match(rest, &text[i..])),
        Some((b'_', rest)) => !text.is_empty() && wild_match(rest, &text[1..]),
        Some((b'\\', rest)) if !rest.is_empty() => {
            text.first()
                .is_some_and(|c| c.eq_ignore_ascii_case(&rest[0]))
                && wild_match(&rest[1..], &text[1..])
        }
        Some((c, rest)) => {
            text.first().is_some_and(|t| t.eq_ignore_ascii_case(c)) && wild_match(rest, &text[1..])
        }
    }
}

/// One account: who may log in from where, with what, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// User name (case-sensitive; empty: anonymous).
    pub user: String,
    /// Host pattern.
    pub host: HostPattern,
    /// Stored verifiers and the plugin the account demands.
    pub credential: Credential,
    /// Most simultaneous connections (0: no limit of its own).
    pub max_user_connections: u64,
    /// `*.*` privileges.
    pub global: PrivSet,
    /// `db.*` privileges, by database (case-sensitive).
    pub databases: BTreeMap<String, PrivSet>,
    /// `db.tbl` privileges, by (database, table) (case-sensitive).
    pub tables: BTreeMap<(String, String), PrivSet>,
}

impl Account {
    /// An account without password or privileges.
    pub fn new(user: &str, host: &str) -> Self {
        Account {
            user: user.to_string(),
            host: HostPattern::new(host),
            credential: Credential {
                no_password: true,
                ..Credential::default()
            },
            max_user_connections: 0,
            global: PrivSet::EMPTY,
            databases: BTreeMap::new(),
            tables: BTreeMap::new(),
        }
    }

    /// `user`@`host` quoted as SHOW GRANTS writes accounts.
    pub fn grantee(&self) -> String {
        format!(
            "`{}`@`{}`",
            self.user.replace('`', "``"),
            self.host.as_str().replace('`', "``")
        )
    }

    fn sort_key(&self) -> (u32, u32) {
        (
            HostPattern::weight(self.host.as_str()),
            if self.user.is_empty() { 0 } else { 128 },
        )
    }

    /// Privileges on `db`.`table`: global, database and table grants together.
    pub fn table_privileges(&self, db: &str, table: &str) -> PrivSet {
        self.database_privileges(db)
            | self
                .tables
                .get(&(db.to_string(), table.to_string()))
                .copied()
                .unwrap_or_default()
    }

    /// Privileges on every table of `db`: global and database grants.
    pub fn database_privileges(&self, db: &str) -> PrivSet {
        self.global | self.databases.get(db).copied().unwrap_or_default()
    }

    /// True when SHOW DATABASES lists `db` and USE may enter it: any privilege in it at
    /// any level, or the global SHOW DATABASES privilege.
    pub fn may_see_database(&self, db: &str) -> bool {
        !self.database_privileges(db).is_empty()
            || self
                .tables
                .iter()
                .any(|((d, _), p)| d == db && !p.is_empty())
    }

    /// True when SHOW TABLES lists `db`.`table`: any privilege on it at any level.
    pub fn may_see_table(&self, db: &str, table: &str) -> bool {
        !self
            .table_privileges(db, table)
            .intersect(PrivSet::all(Level::Table) | PrivSet::of(Privilege::GrantOption))
            .is_empty()
    }

    /// The stored native hash as `*HEX40`, when there is one.
    pub fn native_hash_text(&self) -> Option<String> {
        self.credential.native.as_ref().map(format_native_hash)
    }

    fn identified_clause(&self) -> String {
        if let Some(hash) = self.native_hash_text() {
            format!(" IDENTIFIED BY PASSWORD '{hash}'")
        } else if let Some(v) = &self.credential.sha2 {
            format!(
                " IDENTIFIED VIA caching_sha2_password USING '{}'",
                v.as_str()
            )
        } else {
            String::new()
        }
    }

    /// SHOW GRANTS FOR this account, line by line, in MariaDB 10.11's text.
    pub fn show_grants(&self) -> Vec<String> {
        let who = self.grantee();
        let mut with = Vec::new();
        if self.global.grant_option() {
            with.push("GRANT OPTION".to_string());
        }
        if self.max_user_connections > 0 {
            with.push(format!(
                "MAX_USER_CONNECTIONS {}",
                self.max_user_connections
            ));
        }
        let with = if with.is_empty() {
            String::new()
        } else {
            format!(" WITH {}", with.join(" "))
        };
        let mut out = vec![format!(
            "GRANT {} ON *.* TO {who}{}{with}",
            self.global.grant_list(Level::Global),
            self.identified_clause()
        )];
        let option = |p: PrivSet| {
            if p.grant_option() {
                " WITH GRANT OPTION"
            } else {
                ""
            }
        };
        for (db, p) in &self.databases {
            out.push(format!(
                "GRANT {} ON `{}`.* TO {who}{}",
                p.grant_list(Level::Database),
                db.replace('`', "``"),
                option(*p)
            ));
        }
        for ((db, table), p) in &self.tables {
            out.push(format!(
                "GRANT {} ON `{}`.`{}` TO {who}{}",
                p.grant_list(Level::Table),
                db.replace('`', "``"),
                table.replace('`', "``"),
                option(*p)
            ));
        }
        out
    }

    /// SHOW CREATE USER for this account, in MariaDB 10.11's text.
    pub fn show_create_user(&self) -> String {
        let limit = if self.max_user_connections > 0 {
            format!(" WITH MAX_USER_CONNECTIONS {}", self.max_user_connections)
        } else {
            String::new()
        };
        format!(
            "CREATE USER {}{}{limit}",
            self.grantee(),
            self.identified_clause()
        )
    }
}

/// The credential an `IDENTIFIED` clause stands for.
pub fn credential_for(identified: &Identified) -> Result<Credential, AccountError> {
    let plugin = |name: &Option<String>| -> Result<Option<AuthPlugin>, AccountError> {
        name.as_deref()
            .map(|n| AuthPlugin::from_name(n).ok_or_else(|| AccountError::UnknownPlugin(n.into())))
            .transpose()
    };
    Ok(match identified {
        Identified::Password {
            plugin: p,
            password,
        } => Credential::from_password(password).requiring(plugin(p)?),
        Identified::Hash { plugin: p, hash } => {
            let required = plugin(p)?;
            if required == Some(AuthPlugin::CachingSha2Password) {
                Credential {
                    no_password: hash.is_empty(),
                    sha2: match hash.as_str() {
                        "" => None,
                        h => Some(Sha2Verifier::parse(h).ok_or(AccountError::Sha2HashFormat)?),
                    },
                    ..Credential::default()
                }
                .requiring(required)
            } else {
                native_hash_credential(hash)?.requiring(required)
            }
        }
        Identified::Plugin(name) => Credential {
            no_password: true,
            ..Credential::default()
        }
        .requiring(plugin(&Some(name.clone()))?),
    })
}

fn native_hash_credential(hash: &str) -> Result<Credential, AccountError> {
    if hash.is_empty() {
        return Ok(Credential {
            no_password: true,
            ..Credential::default()
        });
    }
    Ok(Credential {
        native: Some(parse_native_hash(hash).ok_or(AccountError::NativeHashFormat)?),
        ..Credential::default()
    })
}

/// The privileges a GRANT/REVOKE list names at `target`, checked against the level.
pub fn privileges_for(
    list: &[strata_sql::account::PrivilegeItem],
    target: &GrantTarget,
) -> Result<PrivSet, AccountError> {
    let level = target.level();
    let mut set = PrivSet::EMPTY;
    for item in list {
        if !item.columns.is_empty() {
            return Err(AccountError::Unsupported("column-level privileges"));
        }
        set |= match item.privilege {
            Privilege::All => PrivSet::all(level),
            Privilege::Usage => PrivSet::EMPTY,
            p => PrivSet::of(p),
        };
    }
    let allowed = PrivSet::all(level) | PrivSet::of(Privilege::GrantOption);
    if !allowed.contains(set) {
        return Err(match level {
            Level::Table => AccountError::IllegalTableGrant,
            _ => AccountError::GlobalPrivilegeOnDatabase,
        });
    }
    Ok(set)
}

/// Checks that `grantor` may GRANT or REVOKE `privileges` at `target`: it must hold them
/// and GRANT OPTION there, counting higher levels (MariaDB's 1045/1044/1142).
pub fn check_grantor(
    grantor: &Account,
    privileges: PrivSet,
    target: &GrantTarget,
) -> Result<(), AccountError> {
    let needed = privileges | PrivSet::of(Privilege::GrantOption);
    let held = match target {
        GrantTarget::Global => grantor.global,
        GrantTarget::Database(db) => grantor.database_privileges(db),
        GrantTarget::Table(db, t) => grantor.table_privileges(db, t),
    };
    if held.contains(needed) {
        return Ok(());
    }
    let (user, host) = (grantor.user.clone(), grantor.host.as_str().to_string());
    Err(match target {
        GrantTarget::Global => AccountError::AccessDenied {
            user,
            host,
            using_password: !grantor.credential.no_password,
        },
        GrantTarget::Database(db) => AccountError::DatabaseAccessDenied {
            user,
            host,
            db: db.clone(),
        },
        GrantTarget::Table(db, table) => AccountError::TableAccessDenied {
            command: needed
                .minus(held)
                .iter()
                .next()
                .map_or("GRANT", |p| match p {
                    Privilege::GrantOption => "GRANT",
                    p => p.name(),
                }),
            user,
            host,
            db: db.clone(),
            table: table.clone(),
        },
    })
}

/// Checks that `actor` may CREATE, ALTER, DROP or RENAME accounts (global CREATE USER).
pub fn check_create_user(actor: &Account) -> Result<(), AccountError> {
    if actor.global.contains(PrivSet::of(Privilege::CreateUser)) {
        Ok(())
    } else {
        Err(AccountError::NeedPrivilege("CREATE USER"))
    }
}

/// All accounts, sorted most specific first; cheap to clone (the server holds one behind
/// an `Arc` and swaps it after a change).
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    list: Arc<Vec<Account>>,
}

/// Account keys an operation changed, for `Accounts::save`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// (user, host) written.
    pub put: Vec<(String, String)>,
    /// (user, host) removed.
    pub dropped: Vec<(String, String)>,
    /// Notes for SHOW WARNINGS.
    pub notes: Vec<Note>,
}

impl Accounts {
    /// A snapshot of `accounts`, sorted as MySQL sorts acl_users.
    pub fn new(mut accounts: Vec<Account>) -> Self {
        accounts.sort_by(|a, b| {
            b.sort_key()
                .cmp(&a.sort_key())
                .then_with(|| a.host.cmp(&b.host))
                .then_with(|| a.user.cmp(&b.user))
        });
        Accounts {
            list: Arc::new(accounts),
        }
    }

    /// Every account, most specific first.
    pub fn iter(&self) -> impl Iterator<Item = &Account> {
        self.list.iter()
    }

    /// The account a login as `user` from `client` uses: the first match in sort order,
    /// where the anonymous user matches any name.
    pub fn lookup(&self, user: &str, client: IpAddr) -> Option<&Account> {
        self.list
            .iter()
            .find(|a| (a.user == user || a.user.is_empty()) && a.host.matches(client))
    }

    /// The account named exactly `user`@`host` (host compared case-insensitively).
    pub fn get(&self, user: &str, host: &str) -> Option<&Account> {
        let host = HostPattern::new(host);
        self.list.iter().find(|a| a.user == user && a.host == host)
    }

    fn position(&self, name: &UserName) -> Option<usize> {
        let host = HostPattern::new(&name.host);
        self.list
            .iter()
            .position(|a| a.user == name.user && a.host == host)
    }

    fn edit(&mut self, f: impl FnOnce(&mut Vec<Account>)) {
        let mut list = std::mem::take(Arc::make_mut(&mut self.list));
        f(&mut list);
        *self = Accounts::new(list);
    }

    fn failed(op: &'static str, name: &UserName) -> AccountError {
        AccountError::OperationFailed {
            op,
            user: name.user.clone(),
            host: HostPattern::new(&name.host).0,
        }
    }

    fn key(name: &UserName) -> (String, String) {
        (name.user.clone(), HostPattern::new(&name.host).0)
    }

    /// CREATE [OR REPLACE] USER [IF NOT EXISTS] for one account.
    pub fn create_user(
        &mut self,
        name: &UserName,
        identified: Option<&Identified>,
        or_replace: bool,
        if_not_exists: bool,
        max_user_connections: Option<u64>,
    ) -> Result<Changes, AccountError> {
        if or_replace && if_not_exists {
            return Err(AccountError::OrReplaceAndIfNotExists);
        }
        let mut changes = Changes::default();
        if self.position(name).is_some() && !or_replace {
            if if_not_exists {
                changes.notes.push(Note {
                    code: 1973,
                    message: format!(
                        "Can't create user {}; it already exists",
                        quote_account(&name.user, &HostPattern::new(&name.host).0)
                    ),
                });
                return Ok(changes);
            }
            return Err(Self::failed("CREATE USER", name));
        }
        let mut account = Account::new(&name.user, &name.host);
        if let Some(identified) = identified {
            account.credential = credential_for(identified)?;
        }
        account.max_user_connections = max_user_connections.unwrap_or(0);
        let at = self.position(name);
        self.edit(|list| {
            if let Some(i) = at {
                list.remove(i);
            }
            list.push(account);
        });
        changes.put.push(Self::key(name));
        Ok(changes)
    }

    /// ALTER USER [IF EXISTS] for one account: new authentication and/or limit.
    pub fn alter_user(
        &mut self,
        name: &UserName,
        identified: Option<&Identified>,
        if_exists: bool,
        max_user_connections: Option<u64>,
    ) -> Result<Changes, AccountError> {
        let mut changes = Changes::default();
        let Some(at) = self.position(name) else {
            if if_exists {
                changes.notes.push(Note {
                    code: 1396,
                    message: Self::failed("ALTER USER", name).to_string(),
                });
                return Ok(changes);
            }
            return Err(Self::failed("ALTER USER", name));
        };
        let credential = identified.map(credential_for).transpose()?;
        self.edit(|list| {
            if let Some(c) = credential {
                list[at].credential = c;
            }
            if let Some(n) = max_user_connections {
                list[at].max_user_connections = n;
            }
        });
        changes.put.push(Self::key(name));
        Ok(changes)
    }

    /// DROP USER [IF EXISTS] for one account.
    pub fn drop_user(&mut self, name: &UserName, if_exists: bool) -> Result<Changes, AccountError> {
        let mut changes = Changes::default();
        let Some(at) = self.position(name) else {
            if if_exists {
                changes.notes.push(Note {
                    code: 1974,
                    message: format!(
                        "Can't drop user {}; it doesn't exist",
                        quote_account(&name.user, &HostPattern::new(&name.host).0)
                    ),
                });
                return Ok(changes);
            }
            return Err(Self::failed("DROP USER", name));
        };
        self.edit(|list| {
            list.remove(at);
        });
        changes.dropped.push(Self::key(name));
        Ok(changes)
    }

    /// RENAME USER for one pair; the target must not exist (1396 either way, naming `from`).
    pub fn rename_user(&mut self, from: &UserName, to: &UserName) -> Result<Changes, AccountError> {
        let Some(at) = self.position(from) else {
            return Err(Self::failed("RENAME USER", from));
        };
        if self.position(to).is_some() {
            return Err(Self::failed("RENAME USER", from));
        }
        let (user, host) = (to.user.clone(), HostPattern::new(&to.host));
        self.edit(|list| {
            list[at].user = user;
            list[at].host = host;
        });
        Ok(Changes {
            put: vec![Self::key(to)],
            dropped: vec![Self::key(from)],
            notes: Vec::new(),
        })
    }

    /// SET PASSWORD FOR one account (1133 when it does not exist; a hash must be a native
    /// `*HEX40` or empty, 1372 otherwise).
    pub fn set_password(
        &mut self,
        name: &UserName,
        value: &PasswordValue,
    ) -> Result<Changes, AccountError> {
        let at = self.position(name).ok_or(AccountError::NoMatchingRow)?;
        let credential = match value {
            PasswordValue::Password(pw) => Credential::from_password(pw),
            PasswordValue::Hash(hash) => native_hash_credential(hash)?,
        };
        self.edit(|list| {
            let required = list[at].credential.required;
            list[at].credential = credential.requiring(required);
        });
        Ok(Changes {
            put: vec![Self::key(name)],
            ..Changes::default()
        })
    }

    /// GRANT `privileges` (from `privileges_for`) at `target` to one existing account,
    /// optionally changing its password and limit (MariaDB: 1133 when it does not exist).
    pub fn grant(
        &mut self,
        name: &UserName,
        privileges: PrivSet,
        target: &GrantTarget,
        grant_option: bool,
        identified: Option<&Identified>,
        max_user_connections: Option<u64>,
    ) -> Result<Changes, AccountError> {
        let at = self.position(name).ok_or(AccountError::NoMatchingRow)?;
        let credential = identified.map(credential_for).transpose()?;
        let mut privileges = privileges;
        if grant_option {
            privileges |= PrivSet::of(Privilege::GrantOption);
        }
        let target = target.clone();
        self.edit(|list| {
            let a = &mut list[at];
            if let Some(c) = credential {
                a.credential = c;
            }
            if let Some(n) = max_user_connections {
                a.max_user_connections = n;
            }
            match target {
                GrantTarget::Global => a.global |= privileges,
                GrantTarget::Database(db) => *a.databases.entry(db).or_default() |= privileges,
                GrantTarget::Table(db, t) => *a.tables.entry((db, t)).or_default() |= privileges,
            }
        });
        Ok(Changes {
            put: vec![Self::key(name)],
            ..Changes::default()
        })
    }

    /// REVOKE `privileges` at `target` from one account. As in MariaDB, revoking from a
    /// level where the account holds nothing is 1141 (1147 for a table); revoking
    /// privileges it lacks there is not an error. A level left empty disappears.
    pub fn revoke(
        &mut self,
        name: &UserName,
        privileges: PrivSet,
        target: &GrantTarget,
    ) -> Result<Changes, AccountError> {
        let at = self.position(name);
        let host = HostPattern::new(&name.host).0;
        let no_grant = || AccountError::NoSuchGrant {
            user: name.user.clone(),
            host: host.clone(),
        };
        let Some(at) = at else {
            return Err(match target {
                GrantTarget::Table(_, t) => AccountError::NoSuchTableGrant {
                    user: name.user.clone(),
                    host: host.clone(),
                    table: t.clone(),
                },
                _ => no_grant(),
            });
        };
        let account = &self.list[at];
        match target {
            GrantTarget::Global => {}
            GrantTarget::Database(db) if !account.databases.contains_key(db) => {
                return Err(no_grant())
            }
            GrantTarget::Table(db, t) if !account.tables.contains_key(&(db.clone(), t.clone())) => {
                return Err(AccountError::NoSuchTableGrant {
                    user: name.user.clone(),
                    host,
                    table: t.clone(),
                })
            }
            _ => {}
        }
        let target = target.clone();
        self.edit(|list| {
            let a = &mut list[at];
            match target {
                GrantTarget::Global => a.global = a.global.minus(privileges),
                GrantTarget::Database(db) => {
                    if let Some(p) = a.databases.get_mut(&db) {
                        *p = p.minus(privileges);
                        if p.is_empty() {
                            a.databases.remove(&db);
                        }
                    }
                }
                GrantTarget::Table(db, t) => {
                    let key = (db, t);
                    if let Some(p) = a.tables.get_mut(&key) {
                        *p = p.minus(privileges);
                        if p.is_empty() {
                            a.tables.remove(&key);
                        }
                    }
                }
            }
        });
        Ok(Changes {
            put: vec![Self::key(name)],
            ..Changes::default()
        })
    }

    /// REVOKE ALL PRIVILEGES, GRANT OPTION FROM one account (1133 when it does not exist).
    pub fn revoke_all(&mut self, name: &UserName) -> Result<Changes, AccountError> {
        let at = self.position(name).ok_or(AccountError::NoMatchingRow)?;
        self.edit(|list| {
            let a = &mut list[at];
            a.global = PrivSet::EMPTY;
            a.databases.clear();
            a.tables.clear();
        });
        Ok(Changes {
            put: vec![Self::key(name)],
            ..Changes::default()
        })
    }

    /// Loads the stored accounts and brings the config file's bootstrap accounts in: each
    /// is created when missing, and on every start gets the file's password (the file
    /// wins) and its grants (`databases`: ALL PRIVILEGES on each; absent: ALL PRIVILEGES
    /// ON *.* WITH GRANT OPTION), keeping grants added through SQL.
    pub fn load(store: &MetadataStore, users: &[UserConfig]) -> Result<Accounts, CatalogError> {
        let mut accounts = store.list_accounts()?;
        for user in users {
            let bootstrap = bootstrap_account(user)?;
            let existing = accounts
                .iter_mut()
                .find(|a| a.user == bootstrap.user && a.host == bootstrap.host);
            let merged = match existing {
                Some(a) => {
                    a.credential = bootstrap.credential;
                    a.global |= bootstrap.global;
                    for (db, p) in bootstrap.databases {
                        *a.databases.entry(db).or_default() |= p;
                    }
                    a.clone()
                }
                None => {
                    accounts.push(bootstrap.clone());
                    bootstrap
                }
            };
            store.put_account(&merged)?;
        }
        Ok(Accounts::new(accounts))
    }

    /// Writes what `changes` names to the store.
    pub fn save(&self, store: &MetadataStore, changes: &Changes) -> Result<(), CatalogError> {
        for (user, host) in &changes.dropped {
            store.drop_account(user, host)?;
        }
        for (user, host) in &changes.put {
            if let Some(a) = self.get(user, host) {
                store.put_account(a)?;
            }
        }
        Ok(())
    }
}

fn bootstrap_account(user: &UserConfig) -> Result<Account, CatalogError> {
    let invalid = |problem: &str| CatalogError::InvalidConfig {
        problems: vec![format!("user '{}': {problem}", user.name)],
    };
    let mut account = Account::new(&user.name, user.host.as_deref().unwrap_or("%"));
    let credential = match &user.password_hash {
        Some(hash) => parse_native_hash(hash)
            .map(|h| Credential {
                native: Some(h),
                ..Credential::default()
            })
            .ok_or_else(|| invalid("password_hash is not '*' and 40 hex digits"))?,
        None => Credential::from_password(&user.password),
    };
    let required = match user.auth_plugin.as_deref() {
        Some(name) => {
            Some(AuthPlugin::from_name(name).ok_or_else(|| invalid("unknown auth_plugin"))?)
        }
        None => None,
    };
    account.credential = credential.requiring(required);
    match &user.databases {
        None => account.global = PrivSet::all(Level::Global) | PrivSet::of(Privilege::GrantOption),
        Some(dbs) => {
            for db in dbs {
                account
                    .databases
                    .insert(db.clone(), PrivSet::all(Level::Database));
            }
        }
    }
    Ok(account)
}

/// The stored form of an [`Account`].
#[derive(Debug, Serialize, Deserialize)]
struct AccountRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    native_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha2_verifier: Option<String>,
    #[serde(default)]
    no_password: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plugin: Option<String>,
    #[serde(default)]
    max_user_connections: u64,
    #[serde(default)]
    global: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    databases: Vec<DbGrantRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tables: Vec<TableGrantRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DbGrantRecord {
    db: String,
    privileges: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableGrantRecord {
    db: String,
    table: String,
    privileges: Vec<String>,
}

impl AccountRecord {
    fn from_account(a: &Account) -> Self {
        AccountRecord {
            native_hash: a.native_hash_text(),
            sha2_verifier: a.credential.sha2.as_ref().map(|v| v.as_str().to_string()),
            no_password: a.credential.no_password,
            plugin: a.credential.required.map(|p| p.name().to_string()),
            max_user_connections: a.max_user_connections,
            global: a.global.names(),
            databases: a
                .databases
                .iter()
                .map(|(db, p)| DbGrantRecord {
                    db: db.clone(),
                    privileges: p.names(),
                })
                .collect(),
            tables: a
                .tables
                .iter()
                .map(|((db, table), p)| TableGrantRecord {
                    db: db.clone(),
                    table: table.clone(),
                    privileges: p.names(),
                })
                .collect(),
        }
    }

    fn into_account(self, user: &str, host: &str) -> Result<Account, String> {
        let mut a = Account::new(user, host);
        a.credential = Credential {
            no_password: self.no_password,
            native: self
                .native_hash
                .map(|h| parse_native_hash(&h).ok_or("bad native hash"))
                .transpose()?,
            sha2: self
                .sha2_verifier
                .map(|v| Sha2Verifier::parse(&v).ok_or("bad caching_sha2 verifier"))
                .transpose()?,
            required: self
                .plugin
                .map(|p| AuthPlugin::from_name(&p).ok_or(format!("unknown plugin {p}")))
                .transpose()?,
        };
        a.max_user_connections = self.max_user_connections;
        a.global = PrivSet::from_names(&self.global)?;
        for g in self.databases {
            a.databases
                .insert(g.db, PrivSet::from_names(&g.privileges)?);
        }
        for g in self.tables {
            a.tables
                .insert((g.db, g.table), PrivSet::from_names(&g.privileges)?);
        }
        Ok(a)
    }
}

impl MetadataStore {
    /// Creates or replaces an account record.
    pub fn put_account(&self, account: &Account) -> Result<(), CatalogError> {
        let value = encode_versioned(
            ACCOUNT_RECORD_VERSION,
            &AccountRecord::from_account(account),
        )?;
        let txn = self.db().begin_write()?;
        txn.open_table(ACCOUNTS)?.insert(
            (account.user.as_str(), account.host.as_str()),
            value.as_slice(),
        )?;
        txn.commit()?;
        Ok(())
    }

    /// Removes an account record; false if it was not there.
    pub fn drop_account(&self, user: &str, host: &str) -> Result<bool, CatalogError> {
        let txn = self.db().begin_write()?;
        let existed = txn.open_table(ACCOUNTS)?.remove((user, host))?.is_some();
        txn.commit()?;
        Ok(existed)
    }

    /// Every stored account.
    pub fn list_accounts(&self) -> Result<Vec<Account>, CatalogError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(ACCOUNTS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let (user, host) = k.value();
            let what = format!("account '{user}'@'{host}'");
            let record: AccountRecord =
                decode_versioned(v.value(), &what, 1..=ACCOUNT_RECORD_VERSION)?;
            let account = record
                .into_account(user, host)
                .map_err(|reason| CatalogError::Decode { what, reason })?;
            out.push(account);
        }
        Ok(out)
    }
}

mod apply;

#[cfg(test)]
mod tests;
