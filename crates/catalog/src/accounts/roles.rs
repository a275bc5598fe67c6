//! MariaDB's roles on Strata's account store: a role is an [`Account`] with
//! `is_role` and an empty host, which no login can use. Roles are granted to accounts
//! and to other roles (with ADMIN OPTION); a session enables one with SET ROLE (or its
//! account's default role at login) and then holds the role's privileges, and those of
//! every role granted to it, beside its own.

use std::collections::BTreeSet;

use strata_sql::account::{AccountStatement, Privilege, RoleAdmin, UserName, UserRef};

use super::{check_create_user, Account, AccountError, Accounts, Changes, Note, PrivSet};

/// True for the names MariaDB refuses as roles.
fn invalid_role_name(name: &str) -> bool {
    name.is_empty() || name.eq_ignore_ascii_case("none")
}

impl Accounts {
    /// The role named `name`.
    pub fn role(&self, name: &str) -> Option<&Account> {
        self.list.iter().find(|a| a.is_role && a.user == name)
    }

    /// A grantee as GRANT/REVOKE name it: a bare name (host `%`) that names a role is
    /// the role.
    pub fn grantee_name(&self, name: UserName) -> UserName {
        if name.host == "%" && self.role(&name.user).is_some() {
            return UserName::new(name.user, "");
        }
        name
    }

    /// `role` and every role granted to it, each once, the role first.
    pub fn role_closure(&self, role: &str) -> Vec<&Account> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut stack = vec![role.to_string()];
        while let Some(name) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(r) = self.role(&name) {
                stack.extend(r.roles.keys().rev().cloned());
                out.push(r);
            }
        }
        out
    }

    /// `account` with the privileges of enabled role `role` (and the roles granted to
    /// it) added: what a session holds after SET ROLE.
    pub fn effective(&self, account: &Account, role: Option<&str>) -> Account {
        let mut out = account.clone();
        let Some(role) = role else {
            return out;
        };
        for r in self.role_closure(role) {
            out.global |= r.global;
            for (db, p) in &r.databases {
                *out.databases.entry(db.clone()).or_default() |= *p;
            }
            for (key, p) in &r.tables {
                *out.tables.entry(key.clone()).or_default() |= *p;
            }
            for (name, admin) in &r.roles {
                *out.roles.entry(name.clone()).or_default() |= *admin;
            }
        }
        out
    }

    /// Checks that `account` may SET ROLE `role`: it exists and is granted to the account.
    pub fn check_set_role(&self, account: &Account, role: &str) -> Result<(), AccountError> {
        if self.role(role).is_some() && account.roles.contains_key(role) {
            Ok(())
        } else {
            Err(AccountError::InvalidRole(role.to_string()))
        }
    }

    /// What a login as `account` holds: its default role when that is still a role
    /// granted to it (else none), and its privileges with that role's.
    pub fn at_login(&self, account: Account) -> (Option<String>, Account) {
        let role = account
            .default_role
            .clone()
            .filter(|r| self.check_set_role(&account, r).is_ok());
        let effective = self.effective(&account, role.as_deref());
        (role, effective)
    }

    /// SHOW GRANTS lines of `role` and the roles granted to it.
    pub fn role_grants(&self, role: &str) -> Vec<String> {
        self.role_closure(role)
            .into_iter()
            .flat_map(Account::show_grants)
            .collect()
    }

    /// True when `role` is `of` or granted to it, directly or through other roles.
    fn contains_role(&self, of: &str, role: &str) -> bool {
        self.role_closure(of).iter().any(|r| r.user == role)
    }

    /// The stored account or role `name` names, by position.
    fn grantee_at(&self, name: &UserName) -> Result<usize, AccountError> {
        self.position(name).ok_or(AccountError::NoMatchingRow)
    }

    /// CREATE/DROP ROLE, GRANT/REVOKE role, SET DEFAULT ROLE as `actor` (its privileges
    /// already include its enabled role's), whose enabled role is `current_role`.
    pub fn apply_role(
        &mut self,
        stmt: &AccountStatement,
        actor: &Account,
        current_role: Option<&str>,
    ) -> Result<Changes, AccountError> {
        let own = UserName::new(actor.user.clone(), actor.host.as_str());
        let resolve = |u: &UserRef| match u {
            UserRef::Named(name) => name.clone(),
            UserRef::CurrentUser => own.clone(),
        };
        let mut all = Changes::default();
        match stmt {
            AccountStatement::CreateRole {
                or_replace,
                if_not_exists,
                roles,
                admin,
            } => {
                check_create_user(actor)?;
                if *or_replace && *if_not_exists {
                    return Err(AccountError::OrReplaceAndIfNotExists);
                }
                let admin = match admin {
                    RoleAdmin::CurrentUser => own.clone(),
                    RoleAdmin::CurrentRole => match current_role {
                        Some(r) => UserName::new(r, ""),
                        None => return Err(AccountError::InvalidDefiner),
                    },
                    RoleAdmin::Named(u) => self.grantee_name(resolve(u)),
                };
                let admin_key = Accounts::key(&admin);
                let admin_exists = self.position(&admin).is_some();
                if !admin_exists {
                    // MariaDB records the mapping all the same; it gives nobody anything.
                    all.notes.push(Note {
                        code: 1449,
                        message: format!(
                            "The user specified as a definer ('{}'@'{}') does not exist",
                            admin_key.0, admin_key.1
                        ),
                    });
                }
                for role in roles {
                    if invalid_role_name(role) {
                        // MariaDB names the reserved word as it spells it.
                        return Err(AccountError::InvalidRole(if role.is_empty() {
                            String::new()
                        } else {
                            "NONE".into()
                        }));
                    }
                    if self.role(role).is_some() {
                        if *if_not_exists {
                            all.notes.push(Note {
                                code: 1975,
                                message: format!("Can't create role '{role}'; it already exists"),
                            });
                            continue;
                        }
                        if !*or_replace {
                            return Err(AccountError::RoleOperationFailed {
                                op: "CREATE ROLE",
                                role: role.clone(),
                            });
                        }
                        all.absorb_role(self.drop_role(role));
                    }
                    let mut account = Account::new(role, "");
                    account.is_role = true;
                    let admin_at = self.position(&admin);
                    if admin_at.is_none() {
                        account.absent_admins.push(admin_key.clone());
                    }
                    self.edit(|list| {
                        if let Some(at) = admin_at {
                            list[at].roles.insert(role.clone(), true);
                        }
                        list.push(account);
                    });
                    all.put.push((role.clone(), String::new()));
                    if admin_at.is_some() {
                        all.put.push(admin_key.clone());
                    }
                }
            }
            AccountStatement::DropRole { if_exists, roles } => {
                check_create_user(actor)?;
                let mut failed = None;
                for role in roles {
                    if self.role(role).is_none() {
                        if *if_exists {
                            all.notes.push(Note {
                                code: 1976,
                                message: format!("Can't drop role '{role}'; it doesn't exist"),
                            });
                        } else {
                            failed.get_or_insert(role.clone());
                        }
                        continue;
                    }
                    all.absorb_role(self.drop_role(role));
                }
                if let Some(role) = failed {
                    return Err(AccountError::RoleOperationFailed {
                        op: "DROP ROLE",
                        role,
                    });
                }
            }
            AccountStatement::GrantRole {
                role,
                grantees,
                admin_option,
            } => {
                if self.role(role).is_none() {
                    return Err(AccountError::InvalidRole(role.clone()));
                }
                check_role_admin(actor, role)?;
                for g in grantees {
                    let name = self.grantee_name(resolve(g));
                    let at = self.grantee_at(&name)?;
                    if name.host.is_empty() && self.contains_role(role, &name.user) {
                        return Err(AccountError::CannotGrantRole {
                            role: role.clone(),
                            grantee: format!("'{}'", name.user),
                        });
                    }
                    // The grant takes the place of a row CREATE ROLE left for the
                    // account while it did not exist.
                    let key = Accounts::key(&name);
                    self.edit(|list| {
                        *list[at].roles.entry(role.clone()).or_default() |= *admin_option;
                        for r in list.iter_mut().filter(|r| r.is_role && r.user == *role) {
                            r.absent_admins.retain(|k| *k != key);
                        }
                    });
                    all.put.push(key);
                    all.put.push((role.clone(), String::new()));
                }
            }
            AccountStatement::RevokeRole { role, grantees } => {
                if self.role(role).is_none() {
                    return Err(AccountError::InvalidRole(role.clone()));
                }
                check_role_admin(actor, role)?;
                for g in grantees {
                    let name = self.grantee_name(resolve(g));
                    let at = self.grantee_at(&name)?;
                    if !self.list[at].roles.contains_key(role) {
                        let grantee = if name.host.is_empty() {
                            format!("'{}'", name.user)
                        } else {
                            format!("'{}'@'{}'", name.user, name.host)
                        };
                        return Err(AccountError::CannotRevokeRole {
                            role: role.clone(),
                            grantee,
                        });
                    }
                    self.edit(|list| {
                        list[at].roles.remove(role);
                    });
                    all.put.push(Accounts::key(&name));
                }
            }
            AccountStatement::SetDefaultRole { role, user } => {
                let name = user.as_ref().map_or_else(|| own.clone(), resolve);
                if name != own
                    && !actor.global.contains(PrivSet::of(Privilege::CreateUser))
                    && !actor
                        .database_privileges("mysql")
                        .contains(PrivSet::of(Privilege::Update))
                {
                    return Err(AccountError::DatabaseAccessDenied {
                        user: actor.user.clone(),
                        host: actor.host.as_str().to_string(),
                        db: "mysql".into(),
                    });
                }
                let at = self.grantee_at(&name)?;
                if let Some(role) = role {
                    if self.role(role).is_none() {
                        return Err(AccountError::InvalidRole(role.clone()));
                    }
                    if !self.list[at].roles.contains_key(role) {
                        return Err(AccountError::RoleNotGranted {
                            grantee: format!("`{}`@`{}`", name.user, name.host),
                            role: role.clone(),
                        });
                    }
                }
                self.edit(|list| list[at].default_role = role.clone());
                all.put.push(Accounts::key(&name));
            }
            _ => {}
        }
        Ok(all)
    }

    /// Drops the `roles_mapping` rows CREATE ROLE ... WITH ADMIN left for `name` while it
    /// did not exist (DROP USER does, as MariaDB's); the roles changed are in `put`.
    pub(super) fn forget_absent_admin(&mut self, name: &UserName) -> Changes {
        let key = Accounts::key(name);
        let mut changes = Changes::default();
        for a in self.list.iter() {
            if a.absent_admins.contains(&key) {
                changes
                    .put
                    .push((a.user.clone(), a.host.as_str().to_string()));
            }
        }
        if !changes.put.is_empty() {
            self.edit(|list| {
                for a in list.iter_mut() {
                    a.absent_admins.retain(|k| *k != key);
                }
            });
        }
        changes
    }

    /// `mysql.roles_mapping` as MariaDB 10.11 keeps it: (Host, User, Role, Admin_option)
    /// for each role granted to an account or role (a role's Host is empty), and the
    /// rows of absent admins, in the table's key order.
    pub fn roles_mapping(&self) -> Vec<(String, String, String, bool)> {
        let mut rows = std::collections::BTreeMap::new();
        for a in self.list.iter() {
            for (user, host) in &a.absent_admins {
                rows.insert((host.clone(), user.clone(), a.user.clone()), true);
            }
        }
        for a in self.list.iter() {
            for (role, admin) in &a.roles {
                let key = (a.host.as_str().to_string(), a.user.clone(), role.clone());
                rows.insert(key, *admin);
            }
        }
        rows.into_iter()
            .map(|((host, user, role), admin)| (host, user, role, admin))
            .collect()
    }

    /// Removes role `role` and takes it from every account and role that held it (a
    /// default role naming it stays, as in MariaDB, and enables nothing).
    fn drop_role(&mut self, role: &str) -> Changes {
        let mut changes = Changes::default();
        for a in self.list.iter() {
            if a.roles.contains_key(role) {
                changes
                    .put
                    .push((a.user.clone(), a.host.as_str().to_string()));
            }
        }
        changes.dropped.push((role.to_string(), String::new()));
        self.edit(|list| {
            list.retain(|a| !(a.is_role && a.user == role));
            for a in list.iter_mut() {
                a.roles.remove(role);
            }
        });
        changes
    }
}

impl Changes {
    /// Adds what a role change did.
    fn absorb_role(&mut self, other: Changes) {
        self.put.extend(other.put);
        self.dropped.extend(other.dropped);
        self.notes.extend(other.notes);
    }
}

/// Checks that `actor` holds `role` WITH ADMIN OPTION (through its enabled role too).
fn check_role_admin(actor: &Account, role: &str) -> Result<(), AccountError> {
    if actor.roles.get(role).copied().unwrap_or(false) {
        return Ok(());
    }
    Err(AccountError::AccessDeniedNoPassword {
        user: actor.user.clone(),
        host: actor.host.as_str().to_string(),
    })
}
