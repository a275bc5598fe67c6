//! `CREATE TABLE ... ENGINE=FALCON`: an engine no MariaDB has. MariaDB substitutes its
//! default engine with warnings 1286 and 1266 (an ALTER keeps the table's engine, with
//! 1286), or refuses with 1286 under `NO_ENGINE_SUBSTITUTION`; the storage server does
//! exactly that when the statement reaches it, with the session's sql_mode and default
//! engine. The session lets it through only where that answer is the client's: the
//! table's database is on one data node (over several, each node's warnings would add
//! up), and the storage server has no engine of that name (one installed as a plugin is
//! refused as the guard refuses the engines Strata does not allow).

use strata_protocol::MysqlError;
use strata_sql::StatementKind;

use super::isolation::sql_string;
use super::Session;

impl Session {
    /// Refuses a statement naming an unknown engine (see the module) where the storage
    /// server's substitution would not be the client's answer.
    pub(super) async fn check_unknown_engine(
        &mut self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<(), MysqlError> {
        let Some(engine) = strata_sql::guard::unknown_engine(sql, kind) else {
            return Ok(());
        };
        let refused = || MysqlError::not_supported(&format!("ENGINE={engine}"));
        let tables = strata_sql::table_references(sql, kind);
        let db = tables
            .refs
            .first()
            .and_then(|r| r.schema.clone())
            .or_else(|| self.state.db.clone())
            .ok_or_else(MysqlError::no_database)?;
        let Some(logic) = self.ctx.topology.db(&db) else {
            return Err(MysqlError::unknown_database(&db));
        };
        if logic.data_nodes.len() > 1 {
            return Err(MysqlError::not_supported(&format!(
                "ENGINE={engine} (an unknown storage engine) in a database over several data nodes"
            )));
        }
        let Some(dnid) = crate::context::home_node(&logic) else {
            return Err(refused());
        };
        let probe = format!(
            "SELECT COUNT(*) FROM information_schema.ENGINES WHERE ENGINE = {}",
            sql_string(&engine)
        );
        let (_, rows) = self.node_result(dnid, None, &probe).await?;
        let known = rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_deref())
            .is_some_and(|n| n != "0");
        if known {
            return Err(refused());
        }
        Ok(())
    }
}
