//! ANALYZE/CHECK/OPTIMIZE/REPAIR/CHECKSUM TABLE: the statement runs on every data node
//! holding one of its tables (qualifiers renamed to each node's physical database),
//! the `Table` column of the rows, `physical.table`, is shown as the client's
//! `logical.table`, and rows repeated by several nodes are shown once (MariaDB's one
//! row per table and message); a message's quoted `'physical.table'` is shown
//! `'logical.table'` too. CACHE INDEX / LOAD INDEX INTO CACHE are run the same way,
//! their rows in the order of the statement's list, as MariaDB's. A CHECKSUM of a
//! table over several nodes is one row per node: each node's checksum of its own rows.

use strata_catalog::DataNodeId;
use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;

use super::{Answer, Session, SessionError};

impl Session {
    /// Runs a table-maintenance statement on the data nodes holding its tables (the
    /// planner's nodes when `planned`, else the home node) and answers their rows with
    /// logical database names, identical rows from several nodes merged into one.
    pub(super) async fn table_maintenance(
        &mut self,
        sql: &str,
        planned: bool,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let nodes: Vec<(DataNodeId, String)> = if planned {
            match self.plan_only(sql, None) {
                Ok(p) => p
                    .plan
                    .node_statements()
                    .into_iter()
                    .map(|(dnid, text)| (dnid, text.to_string()))
                    .collect(),
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            }
        } else {
            match self.home_node() {
                Ok((dnid, _)) => vec![(dnid, sql.to_string())],
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            }
        };
        let mut result = crate::results::LocalResult::default();
        for (dnid, text) in nodes {
            match self.maintenance_on(dnid, &text).await {
                Ok((columns, rows)) => {
                    result.columns = columns;
                    // Only another node's repeat of a row is merged (one node's own
                    // repeated rows, `CACHE INDEX t, t`, are MariaDB's answer).
                    let before = result.rows.len();
                    for row in rows {
                        if !result.rows[..before].contains(&row) {
                            result.rows.push(row);
                        }
                    }
                }
                Err(e) => {
                    self.err(&e);
                    return Ok(Answer::Failed);
                }
            }
        }
        if let Some(order) = self.key_cache_order(sql) {
            // MariaDB answers in list order; the nodes answered for their own tables.
            result.rows.sort_by_key(|row| {
                let table = row.first().cloned().flatten().unwrap_or_default();
                order
                    .iter()
                    .position(|t| t.eq_ignore_ascii_case(&table))
                    .unwrap_or(order.len())
            });
        }
        self.write_local(&result, more);
        Ok(Answer::Ok)
    }

    /// The `db.table` names a CACHE INDEX / LOAD INDEX INTO CACHE lists, in order (None
    /// for other statements).
    fn key_cache_order(&self, sql: &str) -> Option<Vec<String>> {
        let tables = strata_sql::key_cache_tables(sql)?;
        Some(
            tables
                .into_iter()
                .map(|(schema, name)| {
                    let db = schema.or_else(|| self.state.db.clone()).unwrap_or_default();
                    format!("{db}.{name}")
                })
                .collect(),
        )
    }

    /// The rows of `sql` run on data node `dnid`, with logical table names.
    async fn maintenance_on(
        &mut self,
        dnid: DataNodeId,
        sql: &str,
    ) -> Result<(Vec<ColumnDef>, strata_backend::TextRows), MysqlError> {
        let physical = self.physical_of(dnid);
        let text = self.rewrite_schemas_for(sql, Some(dnid));
        // Under `SET STATEMENT ... FOR`, each node's statement runs under it too.
        let text = match &self.statement.variables {
            Some(prefix) => format!("{prefix}{text}"),
            None => text,
        };
        let (columns, mut rows) = self.node_result(dnid, physical.as_deref(), &text).await?;
        for row in &mut rows {
            if let Some(Some(table)) = row.first_mut() {
                *table = self.logical_table_name(dnid, table);
            }
            // A message names tables too ("Table 'physical.t' doesn't exist").
            if let Some(Some(text)) = row.last_mut().filter(|_| columns.len() == 4) {
                *text = self.logical_names_in(dnid, text);
            }
        }
        Ok((columns, rows))
    }

    /// `text` with each `'physical.` of a logical database on data node `dnid` written
    /// `'logical.` (the quoted names of MariaDB's messages).
    fn logical_names_in(&self, dnid: DataNodeId, text: &str) -> String {
        if !self.ctx.topology.names_differ || !text.contains('\'') {
            return text.to_string();
        }
        let topo = &self.ctx.topology;
        let mut out = text.to_string();
        for db in topo
            .dbs()
            .into_iter()
            .filter(|db| db.data_nodes.contains(&dnid))
        {
            if let Some(physical) = topo.physical(&db, dnid).filter(|p| **p != *db.name) {
                out = out.replace(&format!("'{physical}."), &format!("'{}.", db.name));
            }
        }
        out
    }

    /// `physical.table` as `logical.table` when `physical` is a logical database's name
    /// on data node `dnid`; other names unchanged.
    fn logical_table_name(&self, dnid: DataNodeId, qualified: &str) -> String {
        let Some((schema, table)) = qualified.split_once('.') else {
            return qualified.to_string();
        };
        let topo = &self.ctx.topology;
        let logical = topo.dbs().into_iter().find(|db| {
            db.data_nodes.contains(&dnid) && topo.physical(db, dnid).as_deref() == Some(schema)
        });
        match logical {
            Some(db) => format!("{}.{table}", db.name),
            None => qualified.to_string(),
        }
    }
}
