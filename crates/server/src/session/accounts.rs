//! Accounts and privileges, the session's side: the statements that manage Strata's
//! own accounts (CREATE/ALTER/DROP/RENAME USER, SET PASSWORD, GRANT, REVOKE, SHOW
//! GRANTS, SHOW CREATE USER, FLUSH PRIVILEGES) are answered here and never reach a
//! storage node, and every other statement is authorized against the session's account
//! before it is planned or forwarded: per table it touches (joins and subqueries
//! included), per database where the text does not say which tables. The rules and the
//! store are `strata_catalog::accounts`; the table list is `strata_sql::tables`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use strata_catalog::accounts::{Account, AccountError, Level, Note, PrivSet};
use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;
use strata_sql::account::{parse_account, AccountStatement, Privilege, UserName, UserRef};
use strata_sql::{table_references, Access, StatementKind};

use super::isolation::client_host;
use super::query::sql_error;
use super::{Answer, Session};
use crate::results::LocalResult;

/// The MySQL error for an account failure.
pub(super) fn account_error(e: &AccountError) -> MysqlError {
    MysqlError {
        code: e.code(),
        state: e.sqlstate(),
        message: e.to_string(),
    }
}

/// ER_COLUMNACCESS_DENIED_ERROR.
const COLUMN_ACCESS_DENIED: u16 = 1143;

/// The privilege a table access needs.
pub(super) fn needed(access: Access) -> PrivSet {
    let p = |p| PrivSet::of(p);
    match access {
        Access::Select => p(Privilege::Select),
        Access::Insert => p(Privilege::Insert),
        Access::Update => p(Privilege::Update),
        Access::Delete => p(Privilege::Delete),
        Access::Replace => p(Privilege::Insert) | p(Privilege::Delete),
        Access::InsertUpdate => p(Privilege::Insert) | p(Privilege::Update),
        Access::DeleteHistory => p(Privilege::DeleteHistory),
        Access::AlterDrop => p(Privilege::Alter) | p(Privilege::Drop),
        Access::CreateInsert => p(Privilege::Create) | p(Privilege::Insert),
        Access::SelectInsert => p(Privilege::Select) | p(Privilege::Insert),
        Access::References => p(Privilege::References),
        Access::Create => p(Privilege::Create),
        Access::CreateReplace => p(Privilege::Create) | p(Privilege::Drop),
        Access::CreateTemporary => p(Privilege::CreateTemporaryTables),
        Access::Drop => p(Privilege::Drop),
        Access::Alter => p(Privilege::Alter),
        Access::Index => p(Privilege::Index),
        Access::Lock => p(Privilege::LockTables),
        Access::CreateView => p(Privilege::CreateView),
        Access::Trigger => p(Privilege::Trigger),
        Access::Any => PrivSet::EMPTY,
    }
}

/// True when the statement holds a SELECT anywhere after its first word.
fn has_subquery(sql: &str) -> bool {
    strata_sql::code_tokens(sql)
        .skip(1)
        .any(|t| t.is_keyword(sql, "SELECT"))
}

/// MariaDB's command words for `missing` in a 1142: every missing privilege, in
/// privilege order (`CREATE, DROP command denied` for a CREATE OR REPLACE).
pub(super) fn command_name(missing: PrivSet) -> String {
    let names: Vec<&str> = missing.iter().map(|p| p.name()).collect();
    if names.is_empty() {
        "SELECT".to_string()
    } else {
        names.join(", ")
    }
}

impl Session {
    /// Picks up account changes made by any session since this one last looked (one
    /// atomic load per statement when nothing changed).
    pub(super) fn refresh_account(&mut self) {
        let version = self.ctx.accounts_version.load(Ordering::Acquire);
        if version == self.identity.accounts_version {
            return;
        }
        self.identity.accounts_version = version;
        self.recompute_account();
    }

    /// Reads the session's account again with its enabled role's privileges.
    fn recompute_account(&mut self) {
        let accounts = self.ctx.accounts();
        let stored = self.stored_account(&accounts);
        // A role dropped or revoked since SET ROLE gives nothing any more.
        let role = self
            .identity
            .role
            .as_deref()
            .filter(|r| accounts.check_set_role(&stored, r).is_ok());
        self.identity.account = Arc::new(accounts.effective(&stored, role));
    }

    /// The session's account as stored, without any role's privileges. A dropped
    /// account keeps its session (as in MySQL) but loses its privileges.
    fn stored_account(&self, accounts: &strata_catalog::accounts::Accounts) -> Account {
        let (user, host) = (
            &self.identity.account.user,
            self.identity.account.host.as_str(),
        );
        accounts
            .get(user, host)
            .filter(|a| !a.is_role)
            .cloned()
            .unwrap_or_else(|| Account::new(user, host))
    }

    /// SET ROLE: enables `role` (checked against the stored account) or none.
    fn set_role(&mut self, role: Option<String>) -> Result<(), MysqlError> {
        if let Some(r) = &role {
            let accounts = self.ctx.accounts();
            let stored = self.stored_account(&accounts);
            accounts
                .check_set_role(&stored, r)
                .map_err(|e| account_error(&e))?;
        }
        self.identity.role = role;
        self.recompute_account();
        Ok(())
    }

    /// CURRENT_ROLE(): the enabled role, NULL for none.
    pub(super) fn current_role(&self) -> Option<String> {
        self.identity.role.clone()
    }

    /// True when the session's account may use logical database `db`.
    pub(super) fn may_use(&self, db: &str) -> bool {
        self.identity.account.may_see_database(db)
    }

    /// Checks that the account holds some privilege on table `db.table` (SHOW COLUMNS,
    /// SHOW INDEX, SHOW CREATE TABLE and DESCRIBE need no more); `command` names the
    /// statement in the 1142 message as MariaDB does (`SHOW` for SHOW CREATE TABLE,
    /// `SELECT` for the others).
    pub(super) fn authorize_any(
        &self,
        db: Option<&str>,
        table: &str,
        command: &'static str,
    ) -> Result<(), MysqlError> {
        let Some(db) = db.or(self.state.db.as_deref()) else {
            return Ok(());
        };
        let have = self.identity.account.table_privileges(db, table);
        if have.intersect(PrivSet::all(Level::Table)).is_empty() {
            return Err(self.table_denied(command, db, table));
        }
        Ok(())
    }

    /// A write that reads columns of its own table (WHERE, ORDER BY, assigned values,
    /// RETURNING, ON DUPLICATE KEY UPDATE) needs SELECT on them: 1143 naming the first,
    /// as MariaDB. Writes of several tables are left to their table checks.
    fn authorize_own_column_reads(
        &self,
        sql: &str,
        refs: &[strata_sql::TableRef],
        current: Option<&str>,
    ) -> Result<(), MysqlError> {
        let mut targets = refs.iter().filter(|r| {
            matches!(
                r.access,
                Access::Update
                    | Access::Delete
                    | Access::Insert
                    | Access::InsertUpdate
                    | Access::Replace
            )
        });
        let (Some(target), None) = (targets.next(), targets.next()) else {
            return Ok(());
        };
        let Some(db) = target.schema.as_deref().or(current) else {
            return Ok(());
        };
        let have = self.identity.account.table_privileges(db, &target.name);
        if have.contains(PrivSet::of(Privilege::Select)) {
            return Ok(());
        }
        match strata_planner::first_column_read(sql) {
            // `RETURNING *` reads every column: MariaDB names the table's first, which
            // the session reads from the storage node (`first_column_named`).
            Some(column) => Err(self.column_denied(&column, &target.name)),
            None => Ok(()),
        }
    }

    /// SHOW CREATE VIEW (or SHOW CREATE TABLE of a view) needs SELECT, then SHOW VIEW, on
    /// the view: MariaDB's 1142 names the first one missing.
    pub(super) fn authorize_show_view(
        &self,
        db: Option<&str>,
        view: &str,
    ) -> Result<(), MysqlError> {
        let Some(db) = db.or(self.state.db.as_deref()) else {
            return Ok(());
        };
        let have = self.identity.account.table_privileges(db, view);
        for (privilege, command) in [
            (Privilege::Select, "SELECT"),
            (Privilege::ShowView, "SHOW VIEW"),
        ] {
            if !have.contains(PrivSet::of(privilege)) {
                return Err(self.table_denied(command, db, view));
            }
        }
        Ok(())
    }

    /// MariaDB's 1142 for this account: `command` (one privilege or a list) on `db.table`.
    fn table_denied(&self, command: impl Into<String>, db: &str, table: &str) -> MysqlError {
        account_error(&AccountError::TableAccessDenied {
            command: command.into(),
            user: self.identity.user.clone(),
            host: client_host(&self.identity.entry.host).to_string(),
            db: db.to_string(),
            table: table.to_string(),
        })
    }

    /// MariaDB's 1143 for this account: SELECT of `column` of `table` (as the
    /// statement names it).
    pub(super) fn column_denied(&self, column: &str, table: &str) -> MysqlError {
        MysqlError {
            code: COLUMN_ACCESS_DENIED,
            state: "42000",
            message: format!(
                "SELECT command denied to user '{}'@'{}' for column '{column}' in table '{table}'",
                self.identity.user,
                client_host(&self.identity.entry.host),
            ),
        }
    }

    /// True when the account holds `privilege` on `*.*`.
    pub(super) fn has_global(&self, privilege: Privilege) -> bool {
        self.identity
            .account
            .global
            .contains(PrivSet::of(privilege))
    }

    /// The error for a database the account may not use.
    pub(super) fn database_denied(&self, db: &str) -> MysqlError {
        account_error(&AccountError::DatabaseAccessDenied {
            user: self.identity.user.clone(),
            host: client_host(&self.identity.entry.host).to_string(),
            db: db.to_string(),
        })
    }

    /// Checks that the account may run `sql` (of kind `kind`) on the tables it touches.
    pub(super) fn authorize(&self, sql: &str, kind: StatementKind) -> Result<(), MysqlError> {
        self.authorize_in(sql, kind, self.state.db.as_deref())
    }

    /// `authorize` with unqualified names in database `current` (a prepared statement's
    /// database is the one it was prepared in).
    fn authorize_in(
        &self,
        sql: &str,
        kind: StatementKind,
        current: Option<&str>,
    ) -> Result<(), MysqlError> {
        // A routine that runs FLUSH runs it with the storage account's privileges: its
        // creator needs RELOAD, as the FLUSH itself would.
        if kind == StatementKind::Create
            && strata_sql::guard::defines_flush(sql)
            && !self.has_global(Privilege::Reload)
        {
            return Err(account_error(&AccountError::NeedPrivilege("RELOAD")));
        }
        // Accounts with every privilege on every database (the usual administrator and
        // application accounts) skip the table scan entirely.
        if self
            .identity
            .account
            .global
            .contains(PrivSet::all(Level::Database))
        {
            return Ok(());
        }
        use StatementKind as K;
        if strata_sql::guard::is_account_statement(sql, kind) {
            // Account statements check their own privileges where they run.
            return Ok(());
        }
        if let Some(inner) = strata_sql::guard::dynamic_statement_text(sql, kind) {
            // What PREPARE or EXECUTE IMMEDIATE will run is authorized now.
            return self.authorize_in(&inner, strata_sql::classify(&inner), current);
        }
        if let Some(inner) = strata_sql::explained_statement(sql) {
            // ANALYZE runs the statement and EXPLAIN shows its plan: both need what the
            // statement itself needs (MariaDB answers the statement's own 1142).
            return self.authorize_in(inner, strata_sql::classify(inner), current);
        }
        match kind {
            K::Use
            | K::Kill
            | K::Begin
            | K::Commit
            | K::Rollback
            | K::RollbackToSavepoint
            | K::Savepoint
            | K::Release
            | K::Unlock
            | K::Help
            | K::Deallocate
            | K::Xa => return Ok(()),
            // SHOW statements are authorized where they are answered, but a subquery in
            // their WHERE reads tables as a SELECT does.
            K::Show if !has_subquery(sql) => return Ok(()),
            // CREATE/DROP/ALTER DATABASE check the privilege on the database they name.
            K::Create | K::Drop | K::Alter if strata_sql::is_database_statement(sql) => {
                return Ok(())
            }
            // FLUSH needs RELOAD, checked where it runs (session::flush).
            K::Other if strata_sql::flush_kind(sql).is_some() => return Ok(()),
            _ => {}
        }
        if matches!(kind, K::Update | K::Delete) {
            self.authorize_listed_tables(sql, kind, current)?;
        }
        let kind = if kind == K::Show { K::Select } else { kind };
        let tables = table_references(sql, kind);
        for r in &tables.refs {
            let Some(db) = r.schema.as_deref().or(current) else {
                continue;
            };
            if db.eq_ignore_ascii_case("information_schema") {
                continue;
            }
            let have = self.identity.account.table_privileges(db, &r.name);
            let need = needed(r.access);
            let missing = need.minus(have);
            let denied = if need.is_empty() {
                // Privileges that exist only for a whole database (LOCK TABLES,
                // CREATE TEMPORARY TABLES, EXECUTE, ...) give none on a table.
                have.intersect(PrivSet::all(Level::Table)).is_empty()
            } else {
                !missing.is_empty()
            };
            if denied && matches!(r.access, Access::CreateTemporary | Access::Lock) {
                // Database privileges: MariaDB names the database, not the table.
                return Err(self.database_denied(db));
            }
            if denied {
                // MariaDB names the key-cache statements themselves in their 1142.
                let command = match strata_sql::key_cache_op(sql) {
                    Some(op) if need.is_empty() => op.command().to_string(),
                    None if need.is_empty() && kind == K::Other => "CHECK TABLE".to_string(),
                    _ => command_name(missing),
                };
                return Err(self.table_denied(command, db, &r.name));
            }
        }
        // One table: its reads in MariaDB's order; several: each table's first read.
        if matches!(kind, K::Update | K::Delete | K::Insert | K::Replace) {
            self.authorize_own_column_reads(sql, &tables.refs, current)?;
        }
        if matches!(kind, K::Update | K::Delete) {
            self.authorize_column_reads(sql, kind, current)?;
        }
        if tables.unknown {
            let Some(db) = current else {
                return Ok(());
            };
            let need = match kind {
                K::Call => PrivSet::of(Privilege::Execute),
                K::Execute | K::Prepare => PrivSet::EMPTY,
                _ => PrivSet::all(Level::Database),
            };
            if !self.identity.account.database_privileges(db).contains(need) {
                return Err(self.database_denied(db));
            }
            if kind == K::Create {
                self.authorize_other_databases_in_body(sql, db, need)?;
            }
        }
        Ok(())
    }

    /// A routine, trigger or event body runs with the storage account's rights: one
    /// naming a table or routine of another database (`db1.t1`) needs on that database
    /// what the body needs on its own (before, an account with no privilege on `db1`
    /// read `db1.t1` through a trigger or function of its own database).
    fn authorize_other_databases_in_body(
        &self,
        sql: &str,
        own: &str,
        need: PrivSet,
    ) -> Result<(), MysqlError> {
        let toks: Vec<strata_sql::Token> = strata_sql::code_tokens(sql).collect();
        for w in toks.windows(3) {
            let qualifies = w[0].kind.is_ident() && w[1].is_punct(sql, ".") && w[2].kind.is_ident();
            if !qualifies {
                continue;
            }
            let name = strata_sql::lexer::ident_value(w[0].text(sql));
            if name.eq_ignore_ascii_case(own) || self.ctx.topology.db(&name).is_none() {
                continue;
            }
            if !self
                .identity
                .account
                .database_privileges(&name)
                .contains(need)
            {
                return Err(self.database_denied(&name));
            }
        }
        Ok(())
    }

    /// A multi-table UPDATE or DELETE: MariaDB first wants some privilege on every
    /// table of its list, and names the first without any (1142 for SELECT) before it
    /// looks for UPDATE or DELETE on the tables written.
    fn authorize_listed_tables(
        &self,
        sql: &str,
        kind: StatementKind,
        current: Option<&str>,
    ) -> Result<(), MysqlError> {
        let Some(reads) = strata_sql::column_reads::column_reads(sql, kind) else {
            return Ok(());
        };
        if reads.tables.len() < 2 {
            return Ok(());
        }
        for table in &reads.tables {
            let Some(db) = table.schema.as_deref().or(current) else {
                continue;
            };
            if db.eq_ignore_ascii_case("information_schema") {
                continue;
            }
            if self
                .identity
                .account
                .table_privileges(db, &table.name)
                .is_empty()
            {
                return Err(self.table_denied("SELECT", db, &table.name));
            }
        }
        Ok(())
    }

    /// MySQL's SELECT on each column an UPDATE or DELETE reads (its SET values, WHERE,
    /// ORDER BY): privileges are table-level here, so a table the account may not
    /// SELECT from is refused with 1143 naming the first column of it the statement
    /// reads. Without it a WHERE would tell the client values it may not read.
    fn authorize_column_reads(
        &self,
        sql: &str,
        kind: StatementKind,
        current: Option<&str>,
    ) -> Result<(), MysqlError> {
        let Some(reads) = strata_sql::column_reads::column_reads(sql, kind) else {
            return Ok(());
        };
        for table in &reads.tables {
            let Some(db) = table.schema.as_deref().or(current) else {
                continue;
            };
            let have = self.identity.account.table_privileges(db, &table.name);
            if have.contains(PrivSet::of(Privilege::Select)) {
                continue;
            }
            if let Some(read) = reads.first_read_of(table) {
                return Err(self.column_denied(&read.column, &table.name));
            }
        }
        Ok(())
    }

    /// `PREPARE name FROM text` (checked): remembers the text; `EXECUTE name`: authorizes
    /// it again, since privileges may have changed since PREPARE and the statement the
    /// storage node holds runs with the storage account's rights; `DEALLOCATE PREPARE
    /// name`: forgets it.
    pub(super) fn authorize_prepared(
        &mut self,
        sql: &str,
        kind: StatementKind,
        dynamic: Option<&str>,
    ) -> Result<(), MysqlError> {
        use StatementKind as K;
        if !matches!(kind, K::Prepare | K::Execute | K::Deallocate) {
            return Ok(());
        }
        let Some(name) = strata_sql::dynamic::prepared_name(sql, kind) else {
            return Ok(());
        };
        match kind {
            K::Prepare => {
                let text = dynamic
                    .map(str::to_string)
                    .or_else(|| strata_sql::guard::dynamic_statement_text(sql, kind));
                match text {
                    Some(text) => {
                        let db = self.state.db.clone();
                        self.prepared.checked.insert(name, (text.into(), db))
                    }
                    None => self.prepared.checked.remove(&name),
                };
                Ok(())
            }
            K::Execute => match self.prepared.checked.get(&name) {
                Some((text, db)) => {
                    self.authorize_in(text, strata_sql::classify(text), db.as_deref())
                }
                None => Ok(()),
            },
            _ => {
                self.prepared.checked.remove(&name);
                Ok(())
            }
        }
    }

    /// Authorizes a server-side prepared statement again before an execute, in the
    /// database it was prepared in; skipped while no account changed since the last
    /// check (the answer depends on nothing else).
    pub(super) fn authorize_execute(&mut self, id: u32) -> Result<(), MysqlError> {
        self.refresh_account();
        let version = self.identity.accounts_version;
        let Some(stmt) = self.prepared.statements.get(&id) else {
            return Ok(());
        };
        if stmt.authorized_at == version {
            return Ok(());
        }
        self.authorize_in(&stmt.checked_sql, stmt.kind, stmt.prepared_in.as_deref())?;
        if let Some(stmt) = self.prepared.statements.get_mut(&id) {
            stmt.authorized_at = version;
        }
        Ok(())
    }

    /// Answers an account statement; the result is the statement's success.
    pub(super) async fn account_statement(&mut self, sql: &str, more: bool) -> Answer {
        let stmt = match parse_account(sql) {
            Ok(s) => s,
            Err(e) => {
                self.err(&sql_error(&e));
                return Answer::Failed;
            }
        };
        let outcome = match stmt {
            AccountStatement::ShowGrants { user } => match self.grants_of(user.as_ref()) {
                Ok(result) => {
                    self.write_local(&result, more);
                    return Answer::Ok;
                }
                Err(e) => Err(e),
            },
            AccountStatement::ShowCreateUser { user } => match self.create_user_of(&user) {
                Ok(result) => {
                    self.write_local(&result, more);
                    return Answer::Ok;
                }
                Err(e) => Err(e),
            },
            AccountStatement::FlushPrivileges => self.flush_privileges().map(|()| Vec::new()),
            AccountStatement::SetRole { role } => self.set_role(role).map(|()| Vec::new()),
            ref role_stmt @ (AccountStatement::CreateRole { .. }
            | AccountStatement::DropRole { .. }
            | AccountStatement::GrantRole { .. }
            | AccountStatement::RevokeRole { .. }
            | AccountStatement::SetDefaultRole { .. }) => self.change_roles(role_stmt),
            other => {
                let auto_create_user = self.grant_creates_accounts(&other).await;
                self.change_accounts(other, auto_create_user)
            }
        };
        match outcome {
            Ok(notes) => {
                self.refresh_account();
                self.ok_noted(&notes, more).await;
                Answer::Ok
            }
            Err(e) => {
                // A 1396 naming some accounts leaves the others changed.
                self.refresh_account();
                self.err(&e);
                Answer::Failed
            }
        }
    }

    /// The name a user reference stands for.
    fn resolve(&self, user: &UserRef) -> UserName {
        match user {
            UserRef::Named(name) => name.clone(),
            UserRef::CurrentUser => UserName {
                user: self.identity.account.user.clone(),
                host: self.identity.account.host.as_str().to_string(),
            },
        }
    }

    /// Refuses to show account `name` unless it is the session's own or the session may
    /// look at other accounts (MariaDB: global SELECT on the mysql schema's tables, or
    /// CREATE USER).
    fn may_read_account(&self, name: &UserName) -> Result<(), MysqlError> {
        let own = name.user == self.identity.account.user
            && name.host == self.identity.account.host.as_str();
        if own || self.has_global(Privilege::CreateUser) || self.has_global(Privilege::Select) {
            Ok(())
        } else {
            Err(self.database_denied("mysql"))
        }
    }

    fn grants_of(&self, user: Option<&UserRef>) -> Result<LocalResult, MysqlError> {
        let accounts = self.ctx.accounts();
        // SHOW GRANTS FOR a bare name that is a role shows the role.
        if let Some(UserRef::Named(n)) = user {
            let name = accounts.grantee_name(n.clone());
            if name.host.is_empty() {
                return self.grants_of_role(&accounts, &name.user);
            }
        }
        let name = user.map_or_else(|| self.resolve(&UserRef::CurrentUser), |u| self.resolve(u));
        self.may_read_account(&name)?;
        let account = accounts.get(&name.user, &name.host).ok_or_else(|| {
            account_error(&AccountError::NoSuchGrant {
                user: name.user.clone(),
                host: name.host.clone(),
            })
        })?;
        let mut result = LocalResult::text(&[&format!(
            "Grants for {}@{}",
            account.user,
            account.host.as_str()
        )]);
        result.rows = account
            .show_grants()
            .into_iter()
            .map(|g| vec![Some(g)])
            .collect();
        // SHOW GRANTS without FOR adds the enabled role's grants (MariaDB: not with FOR,
        // even FOR CURRENT_USER).
        if let Some(role) = self.identity.role.as_deref().filter(|_| user.is_none()) {
            result.rows.extend(
                accounts
                    .role_grants(role)
                    .into_iter()
                    .map(|g| vec![Some(g)]),
            );
        }
        Ok(result)
    }

    /// SHOW GRANTS FOR a role: allowed to those who may read accounts and to those who
    /// hold the role.
    fn grants_of_role(
        &self,
        accounts: &strata_catalog::accounts::Accounts,
        role: &str,
    ) -> Result<LocalResult, MysqlError> {
        let holds = self.identity.account.roles.contains_key(role)
            || self.identity.role.as_deref() == Some(role);
        if !holds && !self.has_global(Privilege::CreateUser) && !self.has_global(Privilege::Select)
        {
            return Err(self.database_denied("mysql"));
        }
        let mut result = LocalResult::text(&[&format!("Grants for {role}")]);
        result.rows = accounts
            .role_grants(role)
            .into_iter()
            .map(|g| vec![Some(g)])
            .collect();
        Ok(result)
    }

    fn create_user_of(&self, user: &UserRef) -> Result<LocalResult, MysqlError> {
        let name = self.resolve(user);
        self.may_read_account(&name)?;
        let accounts = self.ctx.accounts();
        let account = accounts.get(&name.user, &name.host).ok_or_else(|| {
            account_error(&AccountError::OperationFailed {
                op: "SHOW CREATE USER",
                user: name.user.clone(),
                host: name.host.clone(),
            })
        })?;
        let mut result = LocalResult::text(&[&format!(
            "CREATE USER for {}@{}",
            account.user,
            account.host.as_str()
        )]);
        result.rows.push(vec![Some(account.show_create_user())]);
        Ok(result)
    }

    /// FLUSH PRIVILEGES: re-reads the accounts from the metadata store.
    fn flush_privileges(&self) -> Result<(), MysqlError> {
        if !self.has_global(Privilege::Reload) {
            return Err(account_error(&AccountError::NeedPrivilege("RELOAD")));
        }
        self.ctx.reload_accounts().map_err(|e| account_error(&e))
    }

    /// True when a GRANT may create the missing accounts it names without IDENTIFIED BY:
    /// the session's sql_mode (as its storage connection has it, so that SET GLOBAL,
    /// SET SESSION and expressions all count) lacks NO_AUTO_CREATE_USER. Asked only when
    /// the answer matters; a mode that cannot be read counts as MariaDB's default (the
    /// GRANT is refused with 1133, never a wrong account created).
    async fn grant_creates_accounts(&mut self, stmt: &AccountStatement) -> bool {
        let AccountStatement::Grant { users, .. } = stmt else {
            return false;
        };
        let accounts = self.ctx.accounts();
        let creates = users.iter().any(|spec| {
            let name = self.resolve(&spec.user);
            spec.identified.is_none() && accounts.get(&name.user, &name.host).is_none()
        });
        if !creates {
            return false;
        }
        match self.home_result("SELECT @@session.sql_mode", true).await {
            Ok((_, rows)) => rows
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next())
                .flatten()
                .is_some_and(|mode| {
                    !mode
                        .split(',')
                        .any(|m| m.eq_ignore_ascii_case("NO_AUTO_CREATE_USER"))
                }),
            Err(e) => {
                tracing::debug!(error = %e.message, "sql_mode for GRANT not read");
                false
            }
        }
    }

    /// The role statements that change accounts, checked against the session's account
    /// with its enabled role.
    fn change_roles(&self, stmt: &AccountStatement) -> Result<Vec<Note>, MysqlError> {
        let actor = self.identity.account.clone();
        let role = self.identity.role.clone();
        self.ctx
            .change_accounts(|accounts| accounts.apply_role(stmt, &actor, role.as_deref()))
            .map(|c| c.notes)
            .map_err(|e| account_error(&e))
    }

    /// An OK packet counting `notes`, which the next SHOW WARNINGS lists (MariaDB's
    /// columns, as the home storage node describes them).
    async fn ok_noted(&mut self, notes: &[Note], more: bool) {
        if notes.is_empty() {
            self.ok(0, more);
            return;
        }
        let columns = match self.home_result("SHOW WARNINGS LIMIT 0", true).await {
            Ok((columns, _)) => columns,
            Err(e) => {
                tracing::debug!(error = %e, "SHOW WARNINGS columns not read");
                vec![
                    ColumnDef::varchar("Level"),
                    ColumnDef::bigint("Code", true),
                    ColumnDef::varchar("Message"),
                ]
            }
        };
        let rows = notes
            .iter()
            .map(|n| {
                vec![
                    Some("Note".to_string()),
                    Some(n.code.to_string()),
                    Some(n.message.clone()),
                ]
            })
            .collect();
        self.statement.warnings = Some((columns, rows));
        let count = u16::try_from(notes.len()).unwrap_or(u16::MAX);
        self.ok_warned(0, count, more);
    }

    /// CREATE/ALTER/DROP/RENAME USER, SET PASSWORD, GRANT, REVOKE: checked against the
    /// session's account and applied to a copy of the accounts, stored, then published.
    pub(super) fn change_accounts(
        &self,
        stmt: AccountStatement,
        auto_create_user: bool,
    ) -> Result<Vec<Note>, MysqlError> {
        let actor = self.identity.account.clone();
        let current_db = self.state.db.as_deref();
        self.ctx
            .change_accounts(|accounts| accounts.apply(&stmt, &actor, current_db, auto_create_user))
            .map(|c| c.notes)
            .map_err(|e| account_error(&e))
    }
}
