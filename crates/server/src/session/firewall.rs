//! The session's side of the SQL firewall: each statement's facts checked against the
//! configured rules after the privilege checks, and, when a row-estimate limit is set,
//! the storage nodes' EXPLAIN estimate for reads and writes that would scan.

use strata_protocol::MysqlError;
use strata_sql::StatementKind;

use super::Session;
use crate::firewall::{StatementFacts, Verdict};

impl Session {
    /// Err when a firewall rule denies the statement (logging rules are logged here).
    pub(super) async fn firewall(
        &mut self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<(), MysqlError> {
        let Some(fw) = self.ctx.firewall() else {
            return Ok(());
        };
        // What PREPARE or EXECUTE IMMEDIATE will run is what the rules judge.
        let inner = strata_sql::guard::dynamic_statement_text(sql, kind);
        let (sql, kind) = match &inner {
            Some(text) => (text.as_str(), strata_sql::classify(text)),
            None => (sql, kind),
        };
        let verdict = {
            let facts =
                StatementFacts::new(sql, kind, &self.identity.user, self.state.db.as_deref());
            fw.check(&facts)
        };
        self.act_on(&verdict, sql)?;
        let estimated = matches!(
            kind,
            StatementKind::Select | StatementKind::Update | StatementKind::Delete
        );
        if fw.needs_estimate() && estimated {
            if let Some(rows) = self.estimate_rows(sql).await {
                let verdict = fw.check_estimate(rows);
                self.act_on(&verdict, sql)?;
            }
        }
        Ok(())
    }

    fn act_on(&self, verdict: &Verdict, sql: &str) -> Result<(), MysqlError> {
        match verdict {
            Verdict::Allow => Ok(()),
            Verdict::Log { rules } => {
                let rules: Vec<&str> = rules.iter().map(|r| &**r).collect();
                tracing::warn!(session = self.identity.id, user = %self.identity.user, ?rules, statement = sql, "SQL firewall rule matched");
                Ok(())
            }
            Verdict::Deny { rule, .. } => {
                tracing::warn!(session = self.identity.id, user = %self.identity.user, rule = &**rule, statement = sql, "SQL firewall denied a statement");
                Err(verdict.mysql_error().unwrap_or_else(|| {
                    MysqlError::not_supported("a statement the SQL firewall denied")
                }))
            }
        }
    }

    /// The rows the storage nodes expect to examine for `sql`: the sum over the data
    /// nodes of the current database of EXPLAIN's `rows`. None when it cannot be had
    /// (the statement is then allowed, and that is logged).
    async fn estimate_rows(&mut self, sql: &str) -> Option<u64> {
        let db = self.ctx.topology.db(self.state.db.as_deref()?)?;
        let mut total: u64 = 0;
        for &dnid in &db.data_nodes {
            let physical = self.ctx.topology.physical(&db, dnid)?;
            let text = format!("EXPLAIN {}", self.rewrite_schemas_for(sql, Some(dnid)));
            let mut lease = match self.lease(dnid, Some(&physical)).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::info!(dnid = dnid.get(), error = %e.message, "no row estimate for the SQL firewall");
                    return None;
                }
            };
            let result = lease.query_result(&text).await;
            self.finish(lease);
            let (columns, rows) = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::info!(dnid = dnid.get(), error = %e, "no row estimate for the SQL firewall");
                    return None;
                }
            };
            let at = columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case("rows"))?;
            for row in rows {
                let n = row
                    .get(at)
                    .and_then(|v| v.as_deref())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                total = total.saturating_add(n);
            }
        }
        Some(total)
    }
}
