//! `KILL [HARD|SOFT] [QUERY|CONNECTION] USER account` (MariaDB's form): every session of
//! the account on this compute node, as `KILL id` of each; and `KILL expression`.

use std::sync::atomic::Ordering;

use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::{ByteSummary, StatementKind, UserRef};

use super::Session;

impl Session {
    /// The connection id `KILL expression` names: the expression's value as a signed
    /// integer read unsigned (MariaDB's `-1` is 18446744073709551615; NULL is 0),
    /// evaluated on the session's connection with the session's own values of its
    /// functions (CONNECTION_ID(), ...).
    pub(super) async fn kill_id_of(&mut self, expression: &str) -> Result<u64, MysqlError> {
        let text = format!("SELECT IFNULL(CAST(({expression}) AS SIGNED), 0)");
        let bytes = ByteSummary::of(text.as_bytes());
        let reads_tables =
            strata_sql::code_tokens(expression).any(|t| t.is_keyword(expression, "FROM"));
        if self.state.multi_node && reads_tables {
            return Err(MysqlError::not_supported(
                "KILL of an expression reading tables of a database over several data nodes",
            ));
        }
        let text = self
            .substitute_session_values(&text, StatementKind::Select, bytes)?
            .unwrap_or(text);
        let (_, rows) = self.home_result(&text, false).await?;
        let value = rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        // The id is read unsigned, as MariaDB reads it.
        Ok(value as u64)
    }

    /// Kills the statements (`query_only`) or connections of every session of `user`
    /// other than this one; the OK's affected rows count them, as MariaDB's do. A bare
    /// name (host `%`) matches the user from any host, else the host must be the
    /// session's.
    pub(super) async fn kill_user(&mut self, user: &UserRef, query_only: bool) {
        let (name, host) = match user {
            UserRef::Named(n) => (n.user.clone(), n.host.clone()),
            UserRef::CurrentUser => (
                self.identity.account.user.clone(),
                self.identity.account.host.as_str().to_string(),
            ),
        };
        let own = self.identity.id;
        let targets: Vec<_> = self
            .ctx
            .all_sessions()
            .into_iter()
            .filter(|(id, s)| {
                *id != own
                    && s.user == name
                    && (host == "%"
                        || super::isolation::shown_host(&s.host).eq_ignore_ascii_case(&host))
            })
            .collect();
        let may_kill_others =
            self.has_global(Privilege::Super) || self.has_global(Privilege::ConnectionAdmin);
        if let Some((id, _)) = targets
            .iter()
            .find(|(_, s)| s.user != self.identity.user && !may_kill_others)
        {
            self.err(&MysqlError::new(
                codes::KILL_DENIED,
                format!("You are not owner of thread {id}"),
            ));
            return;
        }
        for (_, target) in &targets {
            crate::admin::actions::interrupt_storage_queries(&self.ctx, target).await;
            target.interrupt.notify_waiters();
            if !query_only {
                target.killed.store(true, Ordering::Relaxed);
                target.kill_signal.notify_one();
            }
        }
        self.ok(targets.len() as u64, false);
    }
}
