//! `INSERT [IGNORE] INTO mysql.global_priv (host, user) VALUES ...` and `DELETE FROM
//! mysql.global_priv WHERE host = ... AND user = ...` (mysql-test's anonymous account
//! includes, `strata_sql::global_priv_rows`): the storage servers' `mysql` is never
//! written, so the rows are Strata's accounts. A new row is an account without password
//! or privilege (CREATE USER, with its privilege check); a deleted row drops an account
//! that holds nothing outside that row (one with database, table or role grants is
//! refused: MariaDB would leave those rows behind for a later account of that name).

use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;
use strata_sql::account::{AccountStatement, ResourceLimits, UserName, UserRef, UserSpec};
use strata_sql::GlobalPrivWrite;

use super::{Answer, Session};

/// ER_DUP_ENTRY.
const DUP_ENTRY: (u16, &str) = (1062, "23000");

impl Session {
    /// Runs a write of `mysql.global_priv` rows as account changes; writes its OK or ERR.
    pub(super) async fn global_priv_rows(&mut self, write: GlobalPrivWrite, more: bool) -> Answer {
        let done = match write {
            GlobalPrivWrite::Insert { ignore, rows } => self.insert_accounts(ignore, rows),
            GlobalPrivWrite::Delete { account } => self.delete_account(account),
        };
        self.refresh_account();
        match done {
            Ok((affected, warnings)) => {
                self.ok_with_warnings(affected, warnings, more).await;
                Answer::Ok
            }
            Err(e) => {
                self.err(&e);
                Answer::Failed
            }
        }
    }

    /// Creates each row's account; an existing one is 1062 (a warning with IGNORE). Rows
    /// before a failing one stay, as in MariaDB's non-transactional table.
    fn insert_accounts(
        &mut self,
        ignore: bool,
        rows: Vec<UserName>,
    ) -> Result<(u64, Vec<MysqlError>), MysqlError> {
        let mut created = 0;
        let mut warnings = Vec::new();
        for name in rows {
            if self.ctx.accounts().get(&name.user, &name.host).is_some() {
                let dup = MysqlError::new(
                    DUP_ENTRY,
                    format!(
                        "Duplicate entry '{}-{}' for key 'PRIMARY'",
                        name.host, name.user
                    ),
                );
                if !ignore {
                    return Err(dup);
                }
                warnings.push(dup);
                continue;
            }
            let create = AccountStatement::CreateUser {
                or_replace: false,
                if_not_exists: false,
                users: vec![UserSpec {
                    user: UserRef::Named(name),
                    identified: None,
                }],
                limits: ResourceLimits::default(),
            };
            self.change_accounts(create, false)?;
            created += 1;
        }
        Ok((created, warnings))
    }

    /// Drops the account of the row, when there is one and it holds nothing else.
    fn delete_account(&mut self, name: UserName) -> Result<(u64, Vec<MysqlError>), MysqlError> {
        let accounts = self.ctx.accounts();
        let Some(account) = accounts.get(&name.user, &name.host) else {
            return Ok((0, Vec::new()));
        };
        if account.is_role
            || !account.databases.is_empty()
            || !account.tables.is_empty()
            || !account.roles.is_empty()
        {
            return Err(MysqlError::not_supported(
                "DELETE FROM mysql.global_priv of an account or role with grants outside it (use DROP USER or DROP ROLE)",
            ));
        }
        let drop = AccountStatement::DropUser {
            if_exists: false,
            users: vec![UserRef::Named(name)],
        };
        self.change_accounts(drop, false)?;
        Ok((1, Vec::new()))
    }

    /// An OK packet counting `affected` rows and `warnings`, which the next SHOW
    /// WARNINGS lists.
    async fn ok_with_warnings(&mut self, affected: u64, warnings: Vec<MysqlError>, more: bool) {
        if warnings.is_empty() {
            self.ok(affected, more);
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
        let count = u16::try_from(warnings.len()).unwrap_or(u16::MAX);
        let rows = warnings
            .into_iter()
            .map(|w| {
                vec![
                    Some("Warning".to_string()),
                    Some(w.code.to_string()),
                    Some(w.message),
                ]
            })
            .collect();
        self.statement.warnings = Some((columns, rows));
        self.ok_warned(affected, count, more);
    }
}
