//! Accounts in the metadata store, and the bootstrap accounts of the configuration.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use strata_protocol::auth::verifier::{parse_native_hash, Credential, Sha2Verifier};
use strata_protocol::AuthPlugin;
use strata_sql::account::Privilege;

use super::{Account, Level, PrivSet};
use crate::config::UserConfig;
use crate::error::CatalogError;
use crate::store::{decode_versioned, encode_versioned, RedbStore};

/// (user, host) -> encoded account record.
pub(crate) const ACCOUNTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("accounts");

/// Format version of account records (add fields with serde defaults; bump to refuse).
const ACCOUNT_RECORD_VERSION: u8 = 1;

pub(super) fn bootstrap_account(user: &UserConfig) -> Result<Account, CatalogError> {
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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    is_role: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<RoleGrantRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_role: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    absent_admins: Vec<AbsentAdminRecord>,
}

/// An administrator a role was created WITH that did not exist (`Account::absent_admins`).
#[derive(Debug, Serialize, Deserialize)]
struct AbsentAdminRecord {
    user: String,
    host: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct RoleGrantRecord {
    role: String,
    #[serde(default)]
    admin_option: bool,
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
            is_role: a.is_role,
            roles: a
                .roles
                .iter()
                .map(|(role, admin)| RoleGrantRecord {
                    role: role.clone(),
                    admin_option: *admin,
                })
                .collect(),
            default_role: a.default_role.clone(),
            absent_admins: a
                .absent_admins
                .iter()
                .map(|(user, host)| AbsentAdminRecord {
                    user: user.clone(),
                    host: host.clone(),
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
        a.is_role = self.is_role;
        a.roles = self
            .roles
            .into_iter()
            .map(|g| (g.role, g.admin_option))
            .collect();
        a.default_role = self.default_role;
        a.absent_admins = self
            .absent_admins
            .into_iter()
            .map(|r| (r.user, r.host))
            .collect();
        a.global = PrivSet::from_names(&self.global, Level::Global)?;
        for g in self.databases {
            a.databases
                .insert(g.db, PrivSet::from_names(&g.privileges, Level::Database)?);
        }
        for g in self.tables {
            a.tables.insert(
                (g.db, g.table),
                PrivSet::from_names(&g.privileges, Level::Table)?,
            );
        }
        Ok(a)
    }
}

/// An account as stored (the same bytes in redb and in etcd).
pub(crate) fn encode_account(account: &Account) -> Result<Vec<u8>, CatalogError> {
    encode_versioned(
        ACCOUNT_RECORD_VERSION,
        &AccountRecord::from_account(account),
    )
}

/// Decodes what `encode_account` wrote for `user`@`host`.
pub(crate) fn decode_account(
    user: &str,
    host: &str,
    bytes: &[u8],
) -> Result<Account, CatalogError> {
    let what = format!("account '{user}'@'{host}'");
    let record: AccountRecord = decode_versioned(bytes, &what, 1..=ACCOUNT_RECORD_VERSION)?;
    record
        .into_account(user, host)
        .map_err(|reason| CatalogError::Decode { what, reason })
}

impl RedbStore {
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
