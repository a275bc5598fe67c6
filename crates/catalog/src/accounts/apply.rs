//! One account statement applied to the accounts on behalf of an account: the checks
//! MariaDB makes of the one running it (CREATE USER privilege, GRANT OPTION on what it
//! grants), then the change, one named account at a time. The server runs it on a copy
//! of the accounts and stores the `Changes`; tests run it directly.

use strata_sql::account::{AccountStatement, Privilege, UserName, UserRef, UserSpec};

use super::{
    check_create_user, check_grantor, may_create_accounts, privileges_for, Account, AccountError,
    Accounts, Changes, FailedAccounts, GrantTarget, PrivSet,
};

impl Changes {
    /// Adds what `other` changed.
    fn absorb(&mut self, other: Changes) {
        self.put.extend(other.put);
        self.dropped.extend(other.dropped);
        self.notes.extend(other.notes);
    }
}

impl Accounts {
    /// Applies CREATE/ALTER/DROP/RENAME USER, SET PASSWORD, GRANT or REVOKE as `actor`
    /// (in database `current_db`, for `GRANT ... ON *`); SHOW and FLUSH statements
    /// change nothing. `auto_create_user` is true when the session's sql_mode lacks
    /// NO_AUTO_CREATE_USER: a GRANT then creates a missing account even without
    /// IDENTIFIED BY.
    pub fn apply(
        &mut self,
        stmt: &AccountStatement,
        actor: &Account,
        current_db: Option<&str>,
        auto_create_user: bool,
    ) -> Result<Changes, AccountError> {
        let own = UserName {
            user: actor.user.clone(),
            host: actor.host.as_str().to_string(),
        };
        let resolve = |u: &UserRef| match u {
            UserRef::Named(name) => name.clone(),
            UserRef::CurrentUser => own.clone(),
        };
        let mut all = Changes::default();
        match stmt {
            AccountStatement::CreateUser {
                or_replace,
                if_not_exists,
                users,
                limits,
            } => {
                check_create_user(actor)?;
                self.each_account(&mut all, "CREATE USER", users, |accounts, spec| {
                    accounts.create_user(
                        &resolve(&spec.user),
                        spec.identified.as_ref(),
                        *or_replace,
                        *if_not_exists,
                        limits.max_user_connections,
                    )
                })?;
            }
            AccountStatement::AlterUser {
                if_exists,
                users,
                limits,
            } => {
                // Changing one's own account needs no privilege.
                if !users.iter().all(|s| resolve(&s.user) == own) {
                    check_create_user(actor)?;
                }
                self.each_account(&mut all, "ALTER USER", users, |accounts, spec| {
                    accounts.alter_user(
                        &resolve(&spec.user),
                        spec.identified.as_ref(),
                        *if_exists,
                        limits.max_user_connections,
                    )
                })?;
            }
            AccountStatement::DropUser { if_exists, users } => {
                check_create_user(actor)?;
                self.each_account(&mut all, "DROP USER", users, |accounts, u| {
                    accounts.drop_user(&resolve(u), *if_exists)
                })?;
            }
            AccountStatement::RenameUser { renames } => {
                check_create_user(actor)?;
                self.each_account(&mut all, "RENAME USER", renames, |accounts, (from, to)| {
                    accounts.rename_user(&resolve(from), to)
                })?;
            }
            AccountStatement::SetPassword { user, value } => {
                let name = user.as_ref().map_or_else(|| own.clone(), resolve);
                if name != own {
                    check_create_user(actor)?;
                }
                all.absorb(self.set_password(&name, value)?);
            }
            AccountStatement::Grant {
                privileges,
                level,
                users,
                grant_option,
                limits,
            } => {
                let target = GrantTarget::resolve(level, current_db)?;
                let set = privileges_for(privileges, &target)?;
                let given = if *grant_option {
                    set | PrivSet::of(Privilege::GrantOption)
                } else {
                    set
                };
                check_grantor(actor, given, &target)?;
                for UserSpec { user, identified } in users {
                    let name = self.grantee_name(resolve(user));
                    if self.position(&name).is_none() {
                        // MariaDB's order: the sql_mode first, then the grantor's right
                        // to create accounts (IDENTIFIED BY creates under any mode).
                        if identified.is_none() && !auto_create_user {
                            return Err(AccountError::NoMatchingRow);
                        }
                        if !may_create_accounts(actor) {
                            return Err(AccountError::CantCreateUserWithGrant);
                        }
                        all.absorb(self.create_user(&name, None, false, false, None)?);
                    }
                    all.absorb(self.grant(
                        &name,
                        set,
                        &target,
                        *grant_option,
                        identified.as_ref(),
                        limits.max_user_connections,
                    )?);
                }
            }
            AccountStatement::Revoke {
                privileges,
                level,
                users,
            } => {
                let target = GrantTarget::resolve(level, current_db)?;
                let set = privileges_for(privileges, &target)?;
                check_grantor(actor, set, &target)?;
                for u in users {
                    all.absorb(self.revoke(&self.grantee_name(resolve(u)), set, &target)?);
                }
            }
            AccountStatement::RevokeAll { users } => {
                check_create_user(actor)?;
                for u in users {
                    all.absorb(self.revoke_all(&resolve(u))?);
                }
            }
            AccountStatement::CreateRole { .. }
            | AccountStatement::DropRole { .. }
            | AccountStatement::GrantRole { .. }
            | AccountStatement::RevokeRole { .. }
            | AccountStatement::SetDefaultRole { .. } => {
                return self.apply_role(stmt, actor, None);
            }
            AccountStatement::ShowGrants { .. }
            | AccountStatement::SetRole { .. }
            | AccountStatement::ShowCreateUser { .. }
            | AccountStatement::FlushPrivileges => {}
        }
        Ok(all)
    }

    /// Changes each of `items` with `change`, MariaDB's way for a statement naming
    /// several accounts: one that cannot be changed (1396) does not stop the others, and
    /// the statement then fails naming every one that could not. When nothing changed
    /// that is the error; otherwise `all.failed`, answered once the changes are stored.
    /// Any other error stops the statement before anything is stored.
    fn each_account<T>(
        &mut self,
        all: &mut Changes,
        op: &'static str,
        items: impl IntoIterator<Item = T>,
        mut change: impl FnMut(&mut Accounts, T) -> Result<Changes, AccountError>,
    ) -> Result<(), AccountError> {
        let mut failed = Vec::new();
        for item in items {
            match change(self, item) {
                Ok(c) => all.absorb(c),
                Err(AccountError::OperationFailed { user, host, .. }) => failed.push((user, host)),
                Err(e) => return Err(e),
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        let failed = FailedAccounts {
            op,
            accounts: failed,
        };
        if all.put.is_empty() && all.dropped.is_empty() {
            return Err(AccountError::AccountsFailed(failed));
        }
        all.failed = Some(failed);
        Ok(())
    }
}
