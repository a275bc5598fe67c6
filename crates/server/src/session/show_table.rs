//! SHOW CREATE TABLE, SHOW COLUMNS and SHOW INDEX of one table: asked of a data node
//! that holds it (the session's connection for its temporary tables).

use crate::results::LocalResult;

use super::{Answer, Session, SessionError};

impl Session {
    /// SHOW CREATE TABLE, SHOW COLUMNS and SHOW INDEX of a table Strata placed: the
    /// answer of one of its data nodes (a vertical table is on one node only). SHOW
    /// CREATE TABLE (`create`) gets the distribution appended as an executable comment
    /// that CREATE TABLE through Strata reads back, so dumps keep table types and rules.
    /// Other tables: the home node's answer as it is.
    pub(super) async fn show_about_table(
        &mut self,
        sql: &str,
        raw: &[u8],
        schema: Option<&str>,
        name: &str,
        create: bool,
        more: bool,
    ) -> Result<Answer, SessionError> {
        let ctx = self.ctx.clone();
        let topo = &ctx.topology;
        let logical = schema
            .or(self.state.db.as_deref())
            .and_then(|db| topo.db(db));
        if let Some(db) = &logical {
            if let Some(dnid) = self.backends.temporary.lookup(&db.name, name) {
                let physical = topo.physical(db, dnid);
                return self.forward_to(dnid, physical, sql, raw, more).await;
            }
        }
        let placed = logical
            .as_ref()
            .and_then(|db| Some((db, topo.catalog().table(&db.name, name)?)));
        let Some((db, info)) = placed else {
            return self.forward(sql, raw, more).await;
        };
        let Some(&dnid) = info.data_nodes.first() else {
            return self.forward(sql, raw, more).await;
        };
        let text = self.rewrite_schemas_for(sql, Some(dnid));
        let physical = topo.physical(db, dnid);
        let result = self.node_result(dnid, physical.as_deref(), &text).await;
        let (columns, mut rows) = match result {
            Ok(r) => r,
            Err(e) => {
                self.err(&e);
                return Ok(Answer::Failed);
            }
        };
        if !create {
            self.write_local(&LocalResult { columns, rows }, more);
            return Ok(Answer::Ok);
        }
        let clause = info.distribution.shard_clause();
        let comment = strata_sql::ddl::distribution_comment(&clause).unwrap_or_else(|| {
            // A name holding `*/`: said for the reader, not read back.
            format!(
                "/* Strata distribution (not restorable: a name holds '*' '/'): {} */",
                clause.replace("*/", "* /")
            )
        });
        for row in &mut rows {
            if let Some(Some(create)) = row.get_mut(1) {
                create.push('\n');
                create.push_str(&comment);
            }
        }
        self.write_local(&LocalResult { columns, rows }, more);
        Ok(Answer::Ok)
    }
}
