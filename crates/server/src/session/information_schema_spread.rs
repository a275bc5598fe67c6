//! A statement over information_schema runs on one data node (its home, or the node of
//! the one table it is about). What else it names must be wholly there: a table spread
//! over several nodes would be read in part (`WHERE name IN (SELECT table_name FROM
//! information_schema.TABLES)` answered with the home node's rows only), a Strata view
//! is on no node (1146, main.information_schema_tables), and a write or CREATE would
//! change one node behind the catalog's back (`CREATE TABLE t4 AS SELECT ... FROM
//! information_schema.TABLES` made a table no other statement could find,
//! main.information_schema2).

use strata_catalog::sharding::Distribution;
use strata_catalog::DataNodeId;
use strata_protocol::MysqlError;
use strata_sql::StatementKind;

use super::Session;

/// Schemas of the storage server itself, read where the statement runs.
const SERVER_SCHEMAS: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];

impl Session {
    /// 1235 when `sql`, run on data node `target` (None: the home node), would read or
    /// change what is not wholly on that node.
    pub(super) fn information_schema_refusal(
        &self,
        sql: &str,
        target: Option<DataNodeId>,
    ) -> Option<MysqlError> {
        let kind = strata_sql::classify(sql);
        let writes = matches!(
            kind,
            StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
                | StatementKind::Create
                | StatementKind::Alter
                | StatementKind::Load
        );
        if writes && self.state.multi_node {
            return Some(MysqlError::not_supported(
                "a statement that changes tables and reads information_schema in a database over several data nodes",
            ));
        }
        let node = match target {
            Some(dnid) => dnid,
            None => self.home_node().ok()?.0,
        };
        let catalog = self.ctx.topology.catalog();
        let tables = strata_sql::table_references(sql, kind);
        for r in &tables.refs {
            let Some(db) = r.schema.as_deref().or(self.state.db.as_deref()) else {
                continue;
            };
            if SERVER_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db)) {
                continue;
            }
            let elsewhere = if catalog.view(db, &r.name).is_some() {
                true
            } else {
                // A global table has every row on each of its nodes.
                catalog.table(db, &r.name).is_some_and(|info| {
                    let global = matches!(info.distribution, Distribution::Global { .. });
                    if global {
                        !info.data_nodes.contains(&node)
                    } else {
                        info.data_nodes.as_slice() != [node]
                    }
                })
            };
            if elsewhere {
                return Some(MysqlError::not_supported(&format!(
                    "information_schema with the view or table '{db}.{}' of a database over several data nodes in one statement",
                    r.name
                )));
            }
        }
        None
    }
}
