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

use strata_protocol::auth::verifier::{
    format_native_hash, parse_native_hash, Credential, Sha2Verifier,
};
use strata_protocol::AuthPlugin;
use strata_sql::account::{Identified, PasswordValue, Privilege, UserName};

use crate::config::UserConfig;
use crate::error::CatalogError;
use crate::store::MetadataStore;

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
    /// True for a role (MariaDB keeps roles beside accounts, with an empty host).
    pub is_role: bool,
    /// Roles granted to this account or role, with their ADMIN OPTION.
    pub roles: BTreeMap<String, bool>,
    /// SET DEFAULT ROLE: the role a login enables.
    pub default_role: Option<String>,
    /// For a role: the (user, host) CREATE ROLE ... WITH ADMIN named that did not exist.
    /// MariaDB keeps their `roles_mapping` rows, which give nobody anything.
    pub absent_admins: Vec<(String, String)>,
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
            is_role: false,
            roles: BTreeMap::new(),
            default_role: None,
            absent_admins: Vec::new(),
        }
    }

    /// `user`@`host` quoted as SHOW GRANTS writes accounts.
    pub fn grantee(&self) -> String {
        if self.is_role {
            return format!("`{}`", self.user.replace('`', "``"));
        }
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
        let mut out: Vec<String> = self
            .roles
            .iter()
            .map(|(role, admin)| {
                let admin = if *admin { " WITH ADMIN OPTION" } else { "" };
                format!("GRANT `{}` TO {who}{admin}", role.replace('`', "``"))
            })
            .collect();
        out.push(format!(
            "GRANT {} ON *.* TO {who}{}{with}",
            self.global.grant_list(Level::Global),
            self.identified_clause()
        ));
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
        if let Some(role) = self.default_role.as_ref().filter(|_| !self.is_role) {
            out.push(format!(
                "SET DEFAULT ROLE `{}` FOR {who}",
                role.replace('`', "``")
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
                })
                .to_string(),
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

/// True when `actor` may create an account by granting to it (MariaDB: global CREATE
/// USER, or INSERT on `mysql`.`user` at any level).
pub fn may_create_accounts(actor: &Account) -> bool {
    actor.global.contains(PrivSet::of(Privilege::CreateUser))
        || actor
            .table_privileges("mysql", "user")
            .contains(PrivSet::of(Privilege::Insert))
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
    /// Accounts the statement could not change while it changed others: stored, the
    /// changes are answered with this 1396 (MariaDB keeps what it did).
    pub failed: Option<FailedAccounts>,
}

impl Changes {
    /// Account `name` written.
    fn put(name: &UserName) -> Changes {
        Changes {
            put: vec![Accounts::key(name)],
            ..Changes::default()
        }
    }

    /// Nothing changed, with a note for SHOW WARNINGS saying why.
    fn note(code: u16, message: String) -> Changes {
        Changes {
            notes: vec![Note { code, message }],
            ..Changes::default()
        }
    }
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
            .find(|a| !a.is_role && (a.user == user || a.user.is_empty()) && a.host.matches(client))
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
        if self.position(name).is_some() && !or_replace {
            if if_not_exists {
                let account = quote_account(&name.user, &HostPattern::new(&name.host).0);
                let message = format!("Can't create user {account}; it already exists");
                return Ok(Changes::note(1973, message));
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
        Ok(Changes::put(name))
    }

    /// ALTER USER [IF EXISTS] for one account: new authentication and/or limit.
    pub fn alter_user(
        &mut self,
        name: &UserName,
        identified: Option<&Identified>,
        if_exists: bool,
        max_user_connections: Option<u64>,
    ) -> Result<Changes, AccountError> {
        let Some(at) = self.position(name) else {
            if if_exists {
                let message = Self::failed("ALTER USER", name).to_string();
                return Ok(Changes::note(1396, message));
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
        Ok(Changes::put(name))
    }

    /// DROP USER [IF EXISTS] for one account.
    pub fn drop_user(&mut self, name: &UserName, if_exists: bool) -> Result<Changes, AccountError> {
        // MariaDB drops the mapping rows of an absent admin too, and then reports success.
        let forgotten = self.forget_absent_admin(name);
        let Some(at) = self.position(name) else {
            if !forgotten.put.is_empty() {
                return Ok(forgotten);
            }
            if if_exists {
                let account = quote_account(&name.user, &HostPattern::new(&name.host).0);
                let message = format!("Can't drop user {account}; it doesn't exist");
                return Ok(Changes::note(1974, message));
            }
            return Err(Self::failed("DROP USER", name));
        };
        self.edit(|list| {
            list.remove(at);
        });
        Ok(Changes {
            dropped: vec![Self::key(name)],
            ..forgotten
        })
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
            ..Changes::default()
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
        Ok(Changes::put(name))
    }

    /// GRANT `privileges` (from `privileges_for`) at `target` to one existing account,
    /// optionally changing its password and limit (1133 when it does not exist: `apply`
    /// creates it first when MariaDB would). USAGE at a level adds nothing there.
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
                _ if privileges.is_empty() => {}
                GrantTarget::Database(db) => *a.databases.entry(db).or_default() |= privileges,
                GrantTarget::Table(db, t) => *a.tables.entry((db, t)).or_default() |= privileges,
            }
        });
        Ok(Changes::put(name))
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
        Ok(Changes::put(name))
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
        Ok(Changes::put(name))
    }

    /// Loads the stored accounts and brings the config file's bootstrap accounts in: each
    /// is created when missing, and on every start gets the file's password (the file
    /// wins) and its grants (`databases`: ALL PRIVILEGES on each; absent: ALL PRIVILEGES
    /// ON *.* WITH GRANT OPTION), keeping grants added through SQL.
    pub fn load(store: &MetadataStore, users: &[UserConfig]) -> Result<Accounts, CatalogError> {
        let (accounts, merged) = Accounts::merge(store, users)?;
        for account in &merged {
            store.put_account(account)?;
        }
        Ok(accounts)
    }

    /// The stored accounts with the configuration file's bootstrap accounts merged in as
    /// `load` does, without writing them back (another compute node changed accounts:
    /// writing here would echo the change around the cluster).
    pub fn read(store: &MetadataStore, users: &[UserConfig]) -> Result<Accounts, CatalogError> {
        Accounts::merge(store, users).map(|(accounts, _)| accounts)
    }

    /// The merged accounts and the bootstrap accounts as merged.
    fn merge(
        store: &MetadataStore,
        users: &[UserConfig],
    ) -> Result<(Accounts, Vec<Account>), CatalogError> {
        let mut accounts = store.list_accounts()?;
        let mut merged_all = Vec::new();
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
            merged_all.push(merged);
        }
        Ok((Accounts::new(accounts), merged_all))
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

mod apply;
mod error;
mod host;
mod persist;
mod privileges;
mod roles;

use error::quote_account;
pub use error::{AccountError, FailedAccounts, Note};
pub use host::HostPattern;
use persist::bootstrap_account;
pub(crate) use persist::{decode_account, encode_account, ACCOUNTS};
pub use privileges::{GrantTarget, Level, PrivSet};

#[cfg(test)]
mod tests;
