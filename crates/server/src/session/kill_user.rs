//! `KILL [HARD|SOFT] [QUERY|CONNECTION] USER account` (MariaDB's form): every session of
//! the account on this compute node, as `KILL id` of each. Also `KILL QUERY ID id` (a
//! query id of the process list) and an id given as an expression (`KILL @id`).

use std::sync::atomic::Ordering;

use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::{classify, contains_ignore_ascii_case, ByteSummary, Kill, UserRef};

use super::Session;

impl Session {
    /// Runs a parsed KILL statement (an ERR or OK is written).
    pub(super) async fn kill_statement(&mut self, k: Kill) {
        if let Some(user) = &k.user {
            return self.kill_user(user, k.query_only).await;
        }
        // MariaDB takes the expression's integer value: a thread id as unsigned
        // (`KILL -1` names 18446744073709551615), a query id as signed.
        let id = match (&k.expression, k.id) {
            (Some(expr), _) => match self.kill_id_value(expr).await {
                Ok(v) => v,
                Err(e) => return self.err(&e),
            },
            (None, Some(id)) => id as i64,
            (None, None) => i64::from(self.identity.id),
        };
        if k.by_query_id {
            return self.kill_query_id(id).await;
        }
        self.kill(id as u64, k.query_only).await
    }

    /// The integer value of a KILL's id expression, evaluated by the session's storage
    /// connection (which holds its user variables) after the checks of any SELECT.
    async fn kill_id_value(&mut self, expr: &str) -> Result<i64, MysqlError> {
        // A subquery reading a table would read it on the session's home node alone,
        // whatever nodes hold it (one without FROM, sp-bugs' `'x' IN (SELECT 1)`, reads
        // none); information_schema there is the storage server's.
        if code_has_word(expr, "SELECT") && code_has_word(expr, "FROM")
            || contains_ignore_ascii_case(expr.as_bytes(), b"information_schema")
        {
            return Err(MysqlError::not_supported(
                "KILL of an expression with a subquery reading a table, or information_schema",
            ));
        }
        let text = format!("SELECT CAST(({expr}) AS SIGNED)");
        let kind = classify(&text);
        let bytes = ByteSummary::of(text.as_bytes());
        self.guard(&text, kind, bytes)?;
        self.authorize(&text, kind)?;
        self.firewall(&text, kind).await?;
        let text = self
            .substitute_session_values(&text, kind, bytes)?
            .unwrap_or(text);
        let text = match (self.ctx.topology.names_differ, self.home_node()) {
            (true, Ok((dnid, _))) => {
                let raw = self.rewrite_names_in_bytes(&text, text.as_bytes(), dnid)?;
                String::from_utf8_lossy(&raw).into_owned()
            }
            _ => text,
        };
        let (_, rows) = self.home_result(&text, false).await.map_err(|mut e| {
            // MariaDB names the KILL as the place of an unknown column.
            if e.code == 1054 {
                if let Some((column, _)) = e.message.rsplit_once(" in '") {
                    e.message = format!("{column} in 'KILL'");
                }
            }
            e
        })?;
        let value = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten();
        // NULL is 0, as MariaDB's val_int.
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// `KILL QUERY ID id`: the statement of the session whose current (or latest)
    /// request has that query id.
    async fn kill_query_id(&mut self, id: i64) {
        let found = u64::try_from(id)
            .ok()
            .and_then(|q| self.ctx.session_by_query_id(q));
        let Some((sid, target)) = found else {
            return self.err(&MysqlError::new(
                codes::NO_SUCH_QUERY,
                format!("Unknown query id: {id}"),
            ));
        };
        if target.user != self.identity.user
            && !self.has_global(Privilege::Super)
            && !self.has_global(Privilege::ConnectionAdmin)
        {
            return self.err(&MysqlError::new(
                codes::KILL_QUERY_DENIED,
                format!("You are not owner of query {id}"),
            ));
        }
        self.kill(u64::from(sid), true).await
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
                crate::admin::actions::end_killed_statement(
                    std::sync::Arc::clone(&self.ctx),
                    std::sync::Arc::clone(target),
                );
            }
        }
        self.ok(targets.len() as u64, false);
    }
}

/// True when `expr` holds the keyword `word` outside strings and comments.
fn code_has_word(expr: &str, word: &str) -> bool {
    strata_sql::code_tokens(expr).any(|t| t.is_keyword(expr, word))
}
