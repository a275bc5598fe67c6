//! Runs a write completed by the rows of a read ([`ReadThenWrite`]: INSERT ... SELECT
//! across data nodes, UPDATE/DELETE with a subquery or LIMIT read first, multi-table
//! UPDATE/DELETE written by key). The read runs to its end first — its rows kept as SQL literals
//! under the merge memory budget — then each write statement built from them is
//! planned like a statement the client sent (so the target's distribution places the
//! rows and AUTO_INCREMENT is allocated as for INSERT ... VALUES) and run. The whole
//! statement is atomic: outside a transaction it is its own XA transaction; inside one,
//! every data node it writes takes a statement savepoint before its first batch and
//! rolls back to it when any part fails.

use std::collections::HashMap;
use strata_catalog::DataNodeId;
use strata_executor::literal_rows::LiteralRows;
use strata_executor::{QueryOutcome, WriteResult};

use strata_executor::literal_rows::literal_values;
use strata_planner::{InsertCounts, KeyedWrite, Plan, ReadThenWrite, RowsAs, Write, WriteCombine};
use strata_protocol::packets::OkPacket;
use strata_protocol::MysqlError;

use super::distributed::{drive, is_locking_read, Driver, LeaseIo};
use super::planning::plan_error;
use super::transaction::STATEMENT_SAVEPOINT;
use super::{Answer, Session, SessionError};

/// What the writes did, for the client's OK packet.
#[derive(Debug, Default)]
struct Counts {
    affected: u64,
    records: u64,
    duplicates: u64,
    warnings: u64,
    insert_id: Option<u64>,
    /// An UPDATE's rows matched and changed, from the nodes' info texts.
    update: Option<(u64, u64)>,
}

impl Session {
    /// Runs `plan` and answers with one OK packet.
    pub(super) async fn execute_read_then_write(
        &mut self,
        plan: &ReadThenWrite,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let upsert = matches!(
            plan.rows,
            RowsAs::Values {
                counts: InsertCounts::Upsert,
                ..
            }
        );
        if upsert && self.client.row_counting() == strata_backend::RowCounting::Found {
            // MariaDB counts an upsert's duplicates by rows touched in the VALUES form
            // and by rows changed in INSERT ... SELECT when the client counts found
            // rows: the batches' counts would not add up to MySQL's.
            self.err(&MysqlError::not_supported(
                "INSERT ... SELECT ... ON DUPLICATE KEY UPDATE across data nodes from a client with CLIENT_FOUND_ROWS",
            ));
            return Ok(Answer::Failed);
        }
        let atomic = self.state.multi_node && self.ctx.xa.xa();
        let implicit = atomic && self.txn.open.is_none();
        if implicit {
            self.begin_txn(false);
        }
        let savepoint = atomic && !implicit;
        let mut saved: Vec<DataNodeId> = Vec::new();
        let result = self.read_then_write(plan, savepoint, &mut saved).await;
        if result.is_err() && !saved.is_empty() {
            self.roll_back_statement(&saved).await;
        }
        let counts = match self.end_implicit(implicit, result).await {
            Ok(counts) => counts,
            Err(e) => {
                self.statement_failed(e).await;
                return Ok(Answer::Failed);
            }
        };
        let last_insert_id = counts.insert_id.unwrap_or(0);
        if last_insert_id != 0 {
            self.state.last_insert_id = last_insert_id;
        }
        if counts.warnings > 0 {
            self.backends.keep_for_warnings = true;
        }
        let mut status = self.status();
        if more {
            status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
        }
        // An UPDATE whose WHERE became FALSE may get no info text from the nodes.
        let is_update = strata_sql::classify(&plan.before) == strata_sql::StatementKind::Update;
        let update = counts.update.or(is_update.then_some((0, 0)));
        let info = match (&plan.rows, update) {
            // OkPacket::encode length-prefixes the text, as MariaDB sends it.
            (RowsAs::Values { .. }, _) => format!(
                "Records: {}  Duplicates: {}  Warnings: {}",
                counts.records, counts.duplicates, counts.warnings
            ),
            (RowsAs::InList { .. } | RowsAs::ByKey(_), Some((matched, changed))) => format!(
                "Rows matched: {matched}  Changed: {changed}  Warnings: {}",
                counts.warnings
            ),
            (RowsAs::InList { .. } | RowsAs::ByKey(_), None) => String::new(),
        };
        // The nodes' connections count affected rows as the client asked (matched or
        // changed rows), so their sum is the client's count.
        self.statement.outcome.affected_rows = Some(counts.affected);
        let ok = OkPacket {
            affected_rows: counts.affected,
            last_insert_id,
            status,
            warnings: u16::try_from(counts.warnings).unwrap_or(u16::MAX),
            info,
            session_state: Vec::new(),
        };
        self.client.write_ok(ok);
        Ok(Answer::Ok)
    }

    /// Reads the rows, then writes them; `saved` collects the nodes that took the
    /// statement savepoint (with `savepoint`).
    async fn read_then_write(
        &mut self,
        plan: &ReadThenWrite,
        savepoint: bool,
        saved: &mut Vec<DataNodeId>,
    ) -> Result<Counts, MysqlError> {
        let rows = self.read_literals(&plan.source).await?;
        let mut counts = Counts::default();
        match &plan.rows {
            RowsAs::Values {
                batch_rows,
                counts: kind,
            } => {
                for batch in rows.rows.chunks((*batch_rows).max(1)) {
                    let mut sql = plan.before.clone();
                    for (i, row) in batch.iter().enumerate() {
                        sql.push_str(if i == 0 { "(" } else { ", (" });
                        sql.push_str(row);
                        sql.push(')');
                    }
                    if !plan.after.is_empty() {
                        sql.push(' ');
                        sql.push_str(&plan.after);
                    }
                    counts.records += batch.len() as u64;
                    self.write_statement(&sql, savepoint, saved, Some(*kind), &mut counts)
                        .await?;
                }
            }
            RowsAs::InList { expr, negated } => {
                let condition = match (rows.rows.is_empty(), negated) {
                    (true, false) => "FALSE".to_string(),
                    (true, true) => "TRUE".to_string(),
                    (false, _) => {
                        let row = |r: &String| match rows.width() {
                            1 => r.clone(),
                            _ => format!("({r})"),
                        };
                        let list: Vec<String> = rows.rows.iter().map(row).collect();
                        let not = if *negated { "NOT " } else { "" };
                        format!("{expr} {not}IN ({})", list.join(", "))
                    }
                };
                let sql = format!("{}({condition}){}", plan.before, plan.after);
                self.write_statement(&sql, savepoint, saved, None, &mut counts)
                    .await?;
            }
            RowsAs::ByKey(writes) => {
                // Every statement is known before the first runs: a refusal writes nothing.
                let mut statements = Vec::new();
                for write in writes {
                    statements.extend(keyed_statements(write, &rows.rows)?);
                }
                for sql in statements {
                    self.write_statement(&sql, savepoint, saved, None, &mut counts)
                        .await?;
                }
            }
        }
        Ok(counts)
    }

    /// Runs the read `source` to its end, its rows kept as SQL literals.
    pub(super) async fn read_literals(&mut self, source: &Plan) -> Result<LiteralRows, MysqlError> {
        let mut rows = LiteralRows::new(&self.merge_options().memory);
        self.read_rows(source, &mut rows).await?;
        Ok(rows)
    }

    /// Runs the read `source` to its end, its columns and rows given to `rows`.
    pub(super) async fn read_rows<S>(
        &mut self,
        source: &Plan,
        rows: &mut S,
    ) -> Result<(), MysqlError>
    where
        S: strata_executor::RowSink<Error = std::convert::Infallible>,
    {
        let options = self.merge_options();
        let routed;
        let (mut leases, nodes, driver) = match source {
            Plan::Route(r) => {
                routed = r.as_query();
                let nodes = routed.nodes();
                (
                    self.leases_for(&nodes).await?,
                    nodes,
                    Driver::Query(&routed, options),
                )
            }
            Plan::Query(q) => {
                let nodes = q.nodes();
                (
                    self.leases_for(&nodes).await?,
                    nodes,
                    Driver::Query(q, options),
                )
            }
            Plan::Materialize(m) => {
                let (leases, nodes, materialize) = self.materialize_leases(m).await?;
                (leases, nodes, Driver::Materialize(m, materialize))
            }
            Plan::Write(_) | Plan::ReadThenWrite(_) => {
                return Err(MysqlError::not_supported(
                    "a write as the source of another write",
                ))
            }
        };
        self.note_backends(&leases);
        let ctx = self.ctx.clone();
        let locking = source
            .node_statements()
            .iter()
            .any(|(_, sql)| is_locking_read(sql));
        let gate = match self.read_gate(&ctx, locking).await {
            Ok(gate) => gate,
            Err(e) => {
                self.give_back(leases).await;
                return Err(e);
            }
        };
        let variables = self.statement.variables.clone();
        let mut io = LeaseIo {
            leases: &mut leases,
            ctx: &ctx,
            job: None,
            dnids: &nodes,
            variables: variables.as_deref(),
        };
        let outcome = match drive(&mut io, driver, rows).await {
            Ok(outcome) => outcome,
            Err(never) => match never {},
        };
        match source {
            Plan::Materialize(m) => self.give_back_materialize(m, leases).await,
            _ => self.give_back(leases).await,
        }
        drop(gate);
        match outcome {
            QueryOutcome::Done { .. } | QueryOutcome::Wrote(_) => Ok(()),
            QueryOutcome::FailedBeforeColumns(e) | QueryOutcome::FailedAfterColumns(e) => Err(e),
        }
    }

    /// Plans `sql` (a statement built from the read's rows) and runs it as one write,
    /// adding what it did to `counts`.
    async fn write_statement(
        &mut self,
        sql: &str,
        savepoint: bool,
        saved: &mut Vec<DataNodeId>,
        kind: Option<InsertCounts>,
        counts: &mut Counts,
    ) -> Result<(), MysqlError> {
        let plan = |s: &Self| {
            s.with_plan_context(None, |plan_ctx, view| {
                strata_planner::plan_statement(sql, plan_ctx, view).map_err(|e| plan_error(&e))
            })
            .map_err(|f| s.fenced_error(&f))?
        };
        let mut planned = plan(self);
        // Wants the session's local time, or key values: planned again with the home
        // data node's (each once).
        for _ in 0..2 {
            match planned {
                Ok(_) => break,
                Err(e) => match self.fetch_wanted().await? {
                    true => planned = plan(self),
                    false => return Err(e),
                },
            }
        }
        let planned = planned?;
        let write: Write = match &planned.plan {
            Plan::Route(r) => r.as_write(),
            Plan::Write(w) => w.clone(),
            _ => {
                return Err(MysqlError::not_supported(
                    "a write whose rows need another read",
                ))
            }
        };
        if counts.insert_id.is_none() {
            counts.insert_id = planned.insert_id;
        }
        if savepoint {
            self.take_savepoints(&write, saved).await?;
        }
        let result = self.run_write(&write, false).await?;
        add_counts(&result, write.combine(), kind, counts);
        Ok(())
    }

    /// Takes the statement savepoint on the nodes of `write` that have none yet.
    async fn take_savepoints(
        &mut self,
        write: &Write,
        saved: &mut Vec<DataNodeId>,
    ) -> Result<(), MysqlError> {
        let new: Vec<DataNodeId> = write
            .parts
            .iter()
            .map(|p| p.dnid)
            .filter(|d| !saved.contains(d))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let sql = format!("SAVEPOINT {STATEMENT_SAVEPOINT}");
        let mut leases = self.leases_for(&new).await?;
        let mut failure = None;
        for lease in leases.iter_mut() {
            let dnid = lease.target().dnid;
            match lease.execute(&sql).await {
                Ok(_) => saved.push(dnid),
                Err(e) => {
                    failure.get_or_insert_with(|| super::backend_error(dnid, &e));
                }
            }
        }
        self.give_back(leases).await;
        failure.map_or(Ok(()), Err)
    }

    /// Rolls the statement back on the nodes that took its savepoint.
    async fn roll_back_statement(&mut self, saved: &[DataNodeId]) {
        let sql = format!("ROLLBACK TO SAVEPOINT {STATEMENT_SAVEPOINT}");
        let Ok(mut leases) = self.leases_for(saved).await else {
            return;
        };
        for lease in leases.iter_mut() {
            if let Err(e) = lease.execute(&sql).await {
                tracing::warn!(dnid = %lease.target().dnid, error = %e, "statement rollback failed");
                lease.mark_broken();
            }
        }
        self.give_back(leases).await;
    }
}

/// The statements that write one target table of a multi-table UPDATE or DELETE from
/// the read's `rows`: each target row once, rows with the same SET text together. A row
/// whose joined rows give it different SET texts is refused: MySQL keeps the first in
/// its join order, which the compute node's join does not reproduce.
fn keyed_statements(write: &KeyedWrite, rows: &[String]) -> Result<Vec<String>, MysqlError> {
    let mut set_of_key: HashMap<String, usize> = HashMap::new();
    let mut group_of_set: HashMap<String, usize> = HashMap::new();
    // (SET text, keys), in the order the read first gave each.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows {
        let values: Vec<&str> = literal_values(row).collect();
        let Some(key) = write.key_text(&values) else {
            continue;
        };
        let set = write.set_text(&values);
        match set_of_key.get(&key) {
            Some(&g) if groups[g].0 == set => {}
            Some(_) => {
                return Err(MysqlError::not_supported(
                    "a multi-table UPDATE across data nodes that gives one row different new values from the rows it joins (MySQL keeps the first in its join order)",
                ))
            }
            None => {
                let g = match group_of_set.get(&set) {
                    Some(&g) => g,
                    None => {
                        group_of_set.insert(set.clone(), groups.len());
                        groups.push((set, Vec::new()));
                        groups.len() - 1
                    }
                };
                groups[g].1.push(key.clone());
                set_of_key.insert(key, g);
            }
        }
    }
    Ok(groups
        .iter()
        .flat_map(|(set, keys)| {
            keys.chunks(write.batch_rows.max(1))
                .map(move |batch| write.statement(set, batch))
        })
        .collect())
}

/// Adds one write's OK packets to `counts`: one copy's for a global table.
fn add_counts(
    result: &WriteResult,
    combine: WriteCombine,
    kind: Option<InsertCounts>,
    counts: &mut Counts,
) {
    let oks: Vec<&OkPacket> = match combine {
        WriteCombine::Sum => result.oks.iter().map(|(_, ok)| ok).collect(),
        WriteCombine::Replicated => result.oks.iter().take(1).map(|(_, ok)| ok).collect(),
    };
    for ok in oks {
        counts.affected += ok.affected_rows;
        counts.warnings += u64::from(ok.warnings);
        if let Some((matched, changed)) =
            info_count(&ok.info, "Rows matched:").zip(info_count(&ok.info, "Changed:"))
        {
            let (m, c) = counts.update.unwrap_or((0, 0));
            counts.update = Some((m + matched, c + changed));
        }
        if let Some(kind) = kind {
            counts.duplicates += info_count(&ok.info, "Duplicates:")
                .unwrap_or_else(|| kind.one_row_duplicates(ok.affected_rows));
        }
    }
}

/// A count of an OK packet's info text (`Duplicates:` of a multi-row INSERT,
/// `Rows matched:` and `Changed:` of an UPDATE).
fn info_count(info: &str, label: &str) -> Option<u64> {
    let rest = info.split(label).nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{info_count, keyed_statements};
    use strata_planner::{KeyedWrite, SetPiece};

    #[test]
    fn each_target_row_is_written_once_with_rows_of_one_set_text_together() {
        let write = KeyedWrite {
            head: "UPDATE `d`.`t` SET ".into(),
            set: vec![SetPiece::Text("`a` = ".into()), SetPiece::Column(1)],
            key: "`id`".into(),
            key_columns: vec![0],
            batch_rows: 2,
        };
        // (key, value read): key 1 twice with one value, key 4 NULL (a LEFT JOIN's
        // missing row).
        let rows: Vec<String> = ["1, 7", "2, 8", "1, 7", "3, 7", "NULL, 9", "5, 7"]
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            keyed_statements(&write, &rows).ok(),
            Some(vec![
                "UPDATE `d`.`t` SET `a` = 7 WHERE `id` IN (1, 3)".to_string(),
                "UPDATE `d`.`t` SET `a` = 7 WHERE `id` IN (5)".to_string(),
                "UPDATE `d`.`t` SET `a` = 8 WHERE `id` IN (2)".to_string(),
            ])
        );
        // One row, two new values: refused before anything is written.
        let rows = vec!["1, 7".to_string(), "1, 8".to_string()];
        let refused = keyed_statements(&write, &rows).err().map(|e| e.code);
        assert_eq!(refused, Some(1235));
    }

    #[test]
    fn counts_are_read_from_the_info_text() {
        assert_eq!(
            info_count("&Records: 3  Duplicates: 2  Warnings: 0", "Duplicates:"),
            Some(2)
        );
        let update = "(Rows matched: 5  Changed: 4  Warnings: 0";
        assert_eq!(info_count(update, "Rows matched:"), Some(5));
        assert_eq!(info_count(update, "Changed:"), Some(4));
        assert_eq!(info_count("", "Duplicates:"), None);
    }
}
