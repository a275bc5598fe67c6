//! `LOAD DATA LOCAL INFILE`: the client's file, placed row by row.
//!
//! Each data node that may get rows runs the statement itself (`start_local_infile`),
//! so it parses fields, converts values and warns as MariaDB does. Strata asks the
//! client for the file (0xFB + name), splits what arrives into rows by the statement's
//! FIELDS/LINES clauses, routes each row by its sharding key (every node of a global
//! table, the one node of a vertical table), puts global AUTO_INCREMENT values into
//! rows that need them, and streams each node its rows in batches: memory holds one
//! unfinished row and a batch per node, whatever the file's size. Over several nodes
//! the statement is one XA transaction (or rolls back to a statement savepoint inside
//! the client's transaction), like a multi-node INSERT. The OK packet sums the nodes'
//! counts into MariaDB's `Records: N  Deleted: D  Skipped: S  Warnings: W`.

use bytes::BufMut;
use strata_backend::pool::Lease;
use strata_catalog::DataNodeId;
use strata_planner::LoadPlan;
use strata_protocol::constants::cap;
use strata_protocol::packets::{OkPacket, LOCAL_INFILE_HEADER};
use strata_protocol::{codes, MysqlError};
use strata_sql::load_data::{field_value, parse_load_data, FieldValue, LoadData, RowSplitter};

use super::planning::plan_error;
use super::query::sql_error;
use super::transaction::STATEMENT_SAVEPOINT;
use super::{backend_error, Answer, Session, SessionError};

/// Largest file data packet sent to a data node (below any max_allowed_packet).
const NODE_PACKET_BYTES: usize = 1024 * 1024;

/// ER_LOAD_INFILE_CAPABILITY_DISABLED, as MariaDB sends it.
const CAPABILITY_DISABLED: (u16, &str) = (4166, "42000");

/// The counts of MariaDB's LOAD DATA info string.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct LoadCounts {
    records: u64,
    deleted: u64,
    skipped: u64,
    warnings: u64,
}

impl LoadCounts {
    /// Reads `Records: N  Deleted: D  Skipped: S  Warnings: W`.
    fn parse(info: &str) -> LoadCounts {
        let mut counts = LoadCounts::default();
        let mut words = info.split_whitespace();
        while let (Some(name), Some(value)) = (words.next(), words.next()) {
            let value = value.parse().unwrap_or(0);
            match name {
                "Records:" => counts.records = value,
                "Deleted:" => counts.deleted = value,
                "Skipped:" => counts.skipped = value,
                "Warnings:" => counts.warnings = value,
                _ => {}
            }
        }
        counts
    }

    fn add(&mut self, other: LoadCounts) {
        self.records += other.records;
        self.deleted += other.deleted;
        self.skipped += other.skipped;
        self.warnings += other.warnings;
    }

    fn info(&self) -> String {
        format!(
            "Records: {}  Deleted: {}  Skipped: {}  Warnings: {}",
            self.records, self.deleted, self.skipped, self.warnings
        )
    }
}

/// What the data nodes answered, combined.
struct Loaded {
    affected_rows: u64,
    counts: LoadCounts,
    warnings: u16,
    first_id: Option<u64>,
}

/// The state of one transfer: rows waiting per node and what was allocated.
struct Transfer<'a> {
    plan: &'a LoadPlan,
    load: &'a LoadData,
    batches: Vec<Vec<u8>>,
    skip: u64,
    first_id: Option<u64>,
    /// Bytes of rows gathered for one data node before they are sent.
    batch_bytes: usize,
    /// The largest explicit AUTO_INCREMENT value so far, and the largest the sequence
    /// was told of: raising it is a durable write, done before the next generated value
    /// and at the end, not per row.
    max_explicit: u64,
    observed: u64,
}

impl Session {
    /// Runs a `LOAD DATA [LOCAL] INFILE` statement.
    pub(super) async fn load_data(
        &mut self,
        sql: &str,
        more: bool,
    ) -> Result<Answer, SessionError> {
        self.load_data_from(sql, None, more).await
    }

    /// Runs a `LOAD DATA [LOCAL] INFILE` statement; `host` is the open server-side
    /// file of a `LOAD DATA INFILE` (None: the client sends its file).
    pub(super) async fn load_data_from(
        &mut self,
        sql: &str,
        host: Option<std::fs::File>,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let prepared = self.prepare_load(sql, host.is_some());
        let (load, plan) = match prepared {
            Ok(v) => v,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        // The data nodes load through LOCAL, which turns a duplicate key or (in strict
        // mode) a bad value into a warning: a server-side load without IGNORE/REPLACE
        // runs in a transaction and fails as MariaDB's does when one occurs.
        let checked =
            host.is_some() && load.duplicates == strata_sql::load_data::Duplicates::Default;
        let atomic = (plan.nodes.len() > 1 && self.ctx.xa.xa()) || checked;
        let implicit = atomic && self.txn.open.is_none();
        if implicit {
            self.begin_txn(false);
        }
        let mut source = match host {
            Some(file) => Source::Host(file),
            None => Source::Client,
        };
        let mut result = self
            .run_load(&load, &plan, atomic && !implicit, &mut source, checked)
            .await?;
        if implicit {
            result = match result {
                Ok(loaded) => self.commit_txn().await.map(|()| loaded),
                Err(e) => {
                    self.rollback_txn().await;
                    Err(e)
                }
            };
        }
        let loaded = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                let e = self.deadlock_error_if_victim(e);
                self.err(&e);
                self.after_statement_error(e.code).await;
                return Ok(Answer::Failed);
            }
        };
        if let Some(id) = loaded.first_id {
            self.state.last_insert_id = id;
        }
        if loaded.warnings > 0 {
            self.backends.keep_for_warnings = true;
        }
        self.statement.outcome.affected_rows = Some(loaded.affected_rows);
        let mut status = self.status();
        if more {
            status |= strata_protocol::constants::status::MORE_RESULTS_EXISTS;
        }
        let ok = OkPacket {
            affected_rows: loaded.affected_rows,
            // MariaDB's LOAD DATA reports no insert id (LAST_INSERT_ID() has it).
            last_insert_id: 0,
            status,
            warnings: loaded.warnings,
            info: loaded.counts.info(),
            session_state: Vec::new(),
        };
        self.client.write_ok(ok);
        Ok(Answer::Ok)
    }

    /// Parses and plans the statement, refusing what the session cannot run.
    fn prepare_load(&self, sql: &str, host: bool) -> Result<(LoadData, LoadPlan), MysqlError> {
        let load = parse_load_data(sql).map_err(|e| sql_error(&e))?;
        if !load.local && !host {
            return Err(MysqlError::new(
                (1290, "HY000"),
                "The MariaDB server is running with the --secure-file-priv option so it cannot execute this statement",
            ));
        }
        if load.local && self.client.caps & cap::LOCAL_FILES == 0 {
            return Err(MysqlError::new(
                CAPABILITY_DISABLED,
                "The used command is not allowed because the MariaDB server or client has disabled the local infile capability",
            ));
        }
        let no_backslash_escapes = self
            .state
            .vars
            .get("sql_mode")
            .is_some_and(|m| m.to_ascii_uppercase().contains("NO_BACKSLASH_ESCAPES"));
        if no_backslash_escapes {
            return Err(MysqlError::not_supported(
                "LOAD DATA INFILE under sql_mode NO_BACKSLASH_ESCAPES",
            ));
        }
        // The storage servers' data tables of `mysql` (storage globals settable): every
        // data node keeps its own.
        if let Some(db) = load.db.as_deref().filter(|db| {
            strata_sql::SchemaPolicy::server_data_tables(&self.ctx.private_schemas)
                && strata_sql::guard::is_server_data_table(db, &load.table)
        }) {
            let nodes = self.ctx.topology.nodes().map(|n| n.id).collect();
            let plan = strata_planner::plan_load_everywhere(&load, db, nodes)
                .map_err(|e| plan_error(&e))?;
            return Ok((load, plan));
        }
        let plan = self
            .with_plan_context(None, |ctx, view| {
                strata_planner::plan_load_data(&load, ctx, view).map_err(|e| plan_error(&e))
            })
            .map_err(|f| self.fenced_error(&f))??;
        Ok((load, plan))
    }

    /// Starts the statement on every node, takes the client's file and ends the
    /// statement everywhere. Err(SessionError) only when the client connection failed.
    async fn run_load(
        &mut self,
        load: &LoadData,
        plan: &LoadPlan,
        savepoint: bool,
        source: &mut Source,
        checked: bool,
    ) -> Result<Result<Loaded, MysqlError>, SessionError> {
        let mut leases = match self.leases_for(&plan.nodes).await {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        self.note_backends(&leases);
        let mut failure = None;
        let mut started = 0;
        for lease in leases.iter_mut() {
            let dnid = lease.target().dnid;
            let sql = self.rewrite_schemas_for(&plan.node_sql, Some(dnid));
            let begun = if savepoint {
                match lease
                    .execute(&format!("SAVEPOINT {STATEMENT_SAVEPOINT}"))
                    .await
                {
                    Ok(_) => lease.start_local_infile(&sql).await,
                    Err(e) => Err(e),
                }
            } else {
                lease.start_local_infile(&sql).await
            };
            if let Err(e) = begun {
                failure = Some(backend_error(dnid, &e));
                break;
            }
            started += 1;
        }
        let mut transfer = Transfer {
            plan,
            load,
            batches: vec![Vec::new(); leases.len()],
            skip: plan.ignore_lines,
            first_id: None,
            batch_bytes: self.ctx.config.server.load_data_batch_bytes.max(1),
            max_explicit: 0,
            observed: 0,
        };
        if failure.is_none() {
            if matches!(source, Source::Client) {
                // Ask the client for the file and take all of it, even after a
                // failure, so the connection stays in step.
                self.client.conn.write_with(|buf| {
                    buf.put_u8(LOCAL_INFILE_HEADER);
                    buf.extend_from_slice(load.file.as_bytes());
                });
                self.client.conn.flush().await?;
            }
            let max_row = self.ctx.config.server.max_allowed_packet as usize;
            let mut splitter = RowSplitter::new(load.format.clone(), max_row);
            loop {
                let packet = match source {
                    Source::Client => self.client.conn.read_packet().await?.payload,
                    Source::Host(file) => match read_chunk(file) {
                        Ok(chunk) => chunk,
                        Err(e) => {
                            failure.get_or_insert(e);
                            break;
                        }
                    },
                };
                let last = packet.is_empty();
                if failure.is_some() {
                    if last {
                        break;
                    }
                    continue;
                }
                if last {
                    splitter.finish();
                } else {
                    splitter.push(&packet);
                }
                let mut placed = transfer.place(&mut splitter, self);
                if placed.is_ok() && last {
                    placed = transfer.observe(self);
                }
                if placed.is_ok() {
                    placed = transfer.send(&mut leases, last).await;
                }
                if let Err(e) = placed {
                    failure = Some(e);
                }
                if last {
                    break;
                }
            }
        }
        // Every node that began waits for the end of its file.
        let mut loaded = Loaded {
            affected_rows: 0,
            counts: LoadCounts::default(),
            warnings: 0,
            first_id: transfer.first_id,
        };
        let mut failed_rows = Vec::new();
        for (i, lease) in leases.iter_mut().enumerate().take(started) {
            let dnid = lease.target().dnid;
            match lease.finish_local_infile().await {
                Ok(ok) if plan.replicated && i > 0 => drop(ok),
                Ok(ok) => {
                    loaded.affected_rows += ok.affected_rows;
                    loaded.warnings = loaded.warnings.saturating_add(ok.warnings);
                    let counts = LoadCounts::parse(&ok.info);
                    if checked && (counts.skipped > 0 || ok.warnings > 0) {
                        failed_rows.push(i);
                    }
                    loaded.counts.add(counts);
                }
                Err(e) => {
                    if !matches!(e, strata_backend::BackendError::Server(_)) {
                        lease.mark_broken();
                    }
                    failure.get_or_insert(backend_error(dnid, &e));
                }
            }
        }
        if failure.is_none() && !failed_rows.is_empty() {
            // Which nodes' warnings MariaDB's own load would have failed on.
            let mut failing = Vec::new();
            for &i in &failed_rows {
                match row_error(&mut leases[i]).await {
                    Ok(Some(e)) => failing.push((i, e)),
                    Ok(None) => {}
                    Err(e) => {
                        failing.clear();
                        failure = Some(e);
                        break;
                    }
                }
            }
            if let Some((i, error)) = failing.first().cloned() {
                let status = format!(
                    "SHOW TABLE STATUS FROM `{}` LIKE '{}'",
                    plan.db.replace('`', "``"),
                    plan.table
                        .replace('\\', "\\\\")
                        .replace('\'', "''")
                        .replace('_', "\\_")
                        .replace('%', "\\%")
                );
                let dnid = leases[i].target().dnid;
                let status = self.rewrite_schemas_for(&status, Some(dnid));
                let alone = failing.len() == 1;
                let whole = leases.len() == 1 || plan.replicated;
                failure = Some(failed_load(&mut leases[i], &status, error, alone, whole).await);
            }
        }
        if savepoint && failure.is_some() {
            for lease in leases.iter_mut() {
                let undo = format!("ROLLBACK TO SAVEPOINT {STATEMENT_SAVEPOINT}");
                if let Err(e) = lease.execute(&undo).await {
                    lease.mark_broken();
                    tracing::warn!(error = %e, "statement rollback after LOAD DATA failed");
                }
            }
        }
        self.give_back(leases).await;
        Ok(match failure {
            Some(e) => Err(e),
            None => Ok(loaded),
        })
    }

    /// The next global AUTO_INCREMENT value of the table.
    fn next_auto_increment(&self, plan: &LoadPlan) -> Result<u64, MysqlError> {
        let range = self
            .ctx
            .topology
            .catalog()
            .sequences()
            .next(&plan.db, &plan.table, 1)
            .map_err(|e| sequence_error(&e.to_string()))?;
        Ok(range.start)
    }

    /// Raises the table's AUTO_INCREMENT sequence above an explicit value.
    fn observe_auto_increment(&self, plan: &LoadPlan, value: u64) -> Result<(), MysqlError> {
        self.ctx
            .topology
            .catalog()
            .sequences()
            .observe(&plan.db, &plan.table, value)
            .map_err(|e| sequence_error(&e.to_string()))
    }
}

/// Where the file's bytes come from.
pub(super) enum Source {
    /// The client sends them (`LOAD DATA LOCAL INFILE`).
    Client,
    /// A file of the compute node's host (`LOAD DATA INFILE`).
    Host(std::fs::File),
}

/// Bytes read from a server-side file at once.
const HOST_CHUNK: usize = 64 * 1024;

/// The file's next bytes; empty at its end.
fn read_chunk(file: &mut std::fs::File) -> Result<bytes::Bytes, MysqlError> {
    use std::io::Read;
    let mut buf = vec![0u8; HOST_CHUNK];
    let n = loop {
        match file.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(MysqlError::new(
                    (2, "HY000"),
                    format!(
                        "Error reading file (Errcode: {})",
                        e.raw_os_error().unwrap_or(0)
                    ),
                ))
            }
        }
    };
    buf.truncate(n);
    Ok(bytes::Bytes::from(buf))
}

/// The error of a server-side load without IGNORE/REPLACE whose data node warned of a
/// duplicate key or (strict mode) a bad value: MariaDB's own error for that row
/// (`error`) when the load is rolled back (an InnoDB table) and one data node's rows
/// are the file's (`whole`; over several, a duplicate key's message holds no row
/// number) and no other node failed (`alone`); 1235 otherwise (a non-transactional
/// table keeps the file's other rows).
async fn failed_load(
    lease: &mut Lease,
    status: &str,
    error: MysqlError,
    alone: bool,
    whole: bool,
) -> MysqlError {
    let engine = match lease.query_result(status).await {
        Ok((_, rows)) => rows
            .into_iter()
            .next()
            .and_then(|r| r.get(1).cloned().flatten())
            .unwrap_or_default(),
        Err(e) => return backend_error(lease.target().dnid, &e),
    };
    if !engine.eq_ignore_ascii_case("InnoDB") {
        return MysqlError::not_supported(&format!(
            "LOAD DATA INFILE without IGNORE or REPLACE into a {engine} table whose rows fail (a duplicate key or, in strict mode, a bad value): the data nodes loaded the file's other rows, as with IGNORE"
        ));
    }
    if alone && (whole || error.code == 1062) {
        return error;
    }
    MysqlError::not_supported(
        "LOAD DATA INFILE without IGNORE or REPLACE whose rows fail on several data nodes (nothing was loaded)",
    )
}

/// The error MariaDB's server-side load (no LOCAL, no IGNORE) stops at, among the
/// warnings of a data node's LOCAL load: a duplicate key, or in strict mode the first
/// warning. None when the load would not have failed.
async fn row_error(lease: &mut Lease) -> Result<Option<MysqlError>, MysqlError> {
    let dnid = lease.target().dnid;
    // SHOW WARNINGS first: any other statement clears them.
    let (_, warnings) = lease
        .query_result("SHOW WARNINGS")
        .await
        .map_err(|e| backend_error(dnid, &e))?;
    let (_, mode) = lease
        .query_result("SELECT @@SESSION.sql_mode")
        .await
        .map_err(|e| backend_error(dnid, &e))?;
    let mode = mode
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_default();
    let strict = mode.contains("STRICT_TRANS_TABLES") || mode.contains("STRICT_ALL_TABLES");
    let as_error = |row: &Vec<Option<String>>| {
        let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let code: u16 = field(1).parse().unwrap_or(codes::UNKNOWN.0);
        let state = match code {
            1062 => "23000",
            1366 | 1292 => "22007",
            1264 => "22003",
            1265 | 1406 => "01000",
            _ => "HY000",
        };
        MysqlError {
            code,
            state,
            message: field(2),
        }
    };
    let chosen = warnings.iter().find(|row| {
        let level = row.first().cloned().flatten().unwrap_or_default();
        let code = row.get(1).cloned().flatten().unwrap_or_default();
        code == "1062" || (strict && level != "Note")
    });
    Ok(chosen.map(as_error))
}

fn sequence_error(message: &str) -> MysqlError {
    MysqlError::new(
        (1467, "HY000"),
        format!("Failed to read auto-increment value from storage engine: {message}"),
    )
}

impl Transfer<'_> {
    /// Places every complete row in the splitter into the batches of its nodes.
    fn place(&mut self, splitter: &mut RowSplitter, session: &Session) -> Result<(), MysqlError> {
        let format = &self.load.format;
        let ai = self.plan.auto_increment.as_ref();
        while let Some(row) = splitter.next_row().map_err(row_too_long)? {
            if self.skip > 0 {
                self.skip -= 1;
                continue;
            }
            let raw = &splitter.buffer()[row.raw.clone()];
            let field = |i: usize| {
                row.fields
                    .get(i)
                    .map(|r| field_value(&raw[r.clone()], format))
            };
            // The AUTO_INCREMENT value Strata writes into the row, if any.
            let mut id = None;
            if let Some(ai) = ai {
                let given = match ai.field {
                    Some(i) => field(i),
                    None => None,
                };
                match given.as_ref().map(|v| ai.explicit(v)).transpose() {
                    Ok(Some(Some(v))) => self.max_explicit = self.max_explicit.max(v),
                    Ok(_) => {
                        self.observe(session)?;
                        let v = session.next_auto_increment(self.plan)?;
                        self.first_id.get_or_insert(v);
                        id = Some(v);
                    }
                    Err(e) => return Err(plan_error(&e)),
                }
            }
            let nodes: Vec<usize> = if self.plan.replicated {
                (0..self.plan.nodes.len()).collect()
            } else {
                let key = match (self.plan.key_field(), id) {
                    (Some(_), Some(v)) if self.plan.key_is_auto_increment() => {
                        Some(FieldValue::Text(v.to_string().into_bytes()))
                    }
                    // Rows the data node gets have Strata's field first.
                    (Some(k), _) if ai.is_some_and(|a| a.field.is_none()) => {
                        k.checked_sub(1).and_then(field)
                    }
                    (Some(k), _) => field(k),
                    (None, _) => None,
                };
                let dnid = self
                    .plan
                    .node_of(key.as_ref())
                    .map_err(|e| plan_error(&e))?;
                vec![self.position(dnid)?]
            };
            for n in nodes {
                let batch = &mut self.batches[n];
                batch.extend_from_slice(&format.line_start);
                match (id, ai.and_then(|a| a.field)) {
                    (Some(v), Some(i)) => {
                        let r = row.fields[i].clone();
                        batch.extend_from_slice(&raw[..r.start]);
                        batch.extend_from_slice(v.to_string().as_bytes());
                        batch.extend_from_slice(&raw[r.end..]);
                    }
                    (Some(v), None) => {
                        batch.extend_from_slice(v.to_string().as_bytes());
                        batch.extend_from_slice(&format.field_term);
                        batch.extend_from_slice(raw);
                    }
                    (None, _) => batch.extend_from_slice(raw),
                }
                if !row.terminated {
                    batch.extend_from_slice(&format.line_term);
                }
            }
        }
        Ok(())
    }

    /// Tells the sequence of the largest explicit value not yet told.
    fn observe(&mut self, session: &Session) -> Result<(), MysqlError> {
        if self.max_explicit > self.observed {
            session.observe_auto_increment(self.plan, self.max_explicit)?;
            self.observed = self.max_explicit;
        }
        Ok(())
    }

    fn position(&self, dnid: DataNodeId) -> Result<usize, MysqlError> {
        self.plan
            .nodes
            .iter()
            .position(|&n| n == dnid)
            .ok_or_else(|| {
                MysqlError::new(
                    codes::UNKNOWN,
                    format!("a row routes to data node {dnid}, which does not hold the table"),
                )
            })
    }

    /// Sends the batches that are full (all of them when `all`).
    async fn send(&mut self, leases: &mut [Lease], all: bool) -> Result<(), MysqlError> {
        for (batch, lease) in self.batches.iter_mut().zip(leases.iter_mut()) {
            if batch.is_empty() || (!all && batch.len() < self.batch_bytes) {
                continue;
            }
            for chunk in batch.chunks(NODE_PACKET_BYTES) {
                lease.queue_file_data(chunk);
            }
            batch.clear();
            if let Err(e) = lease.flush().await {
                return Err(backend_error(lease.target().dnid, &e));
            }
        }
        Ok(())
    }
}

fn row_too_long(limit: usize) -> MysqlError {
    MysqlError::new(
        codes::PACKET_TOO_LARGE,
        format!("A row of the LOAD DATA file is longer than max_allowed_packet ({limit} bytes)"),
    )
}

#[cfg(test)]
mod tests {
    use super::LoadCounts;

    #[test]
    fn counts_read_and_written_as_mariadb_words_them() {
        let c = LoadCounts::parse("Records: 5  Deleted: 1  Skipped: 2  Warnings: 3");
        assert_eq!(
            c,
            LoadCounts {
                records: 5,
                deleted: 1,
                skipped: 2,
                warnings: 3
            }
        );
        assert_eq!(c.info(), "Records: 5  Deleted: 1  Skipped: 2  Warnings: 3");
    }
}
