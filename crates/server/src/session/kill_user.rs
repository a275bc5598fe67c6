//! `KILL [HARD|SOFT] [QUERY|CONNECTION] USER account` (MariaDB's form): every session of
//! the account on this compute node, as `KILL id` of each.

use std::sync::atomic::Ordering;

use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::UserRef;

use super::Session;

impl Session {
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
                crate::admin::actions::end_killed_statement(
                    std::sync::Arc::clone(&self.ctx),
                    std::sync::Arc::clone(target),
                );
            }
        }
        self.ok(targets.len() as u64, false);
    }
}
