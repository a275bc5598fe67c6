//! `SHOW OPEN TABLES [FROM db] [LIKE|WHERE]`: the tables the data nodes have open, of
//! the client's logical databases only (by logical name), one row per table (a table
//! open on several data nodes counts its uses on each).

use strata_protocol::MysqlError;
use strata_sql::ShowFilter;

use super::Session;
use crate::results::LocalResult;

impl Session {
    /// The rows of `SHOW OPEN TABLES` (`sql`, naming `db` if any) over every data node.
    pub(super) async fn show_open_tables(
        &mut self,
        sql: &str,
        filter: Option<&ShowFilter>,
    ) -> Result<LocalResult, MysqlError> {
        if matches!(filter, Some(ShowFilter::Where(_))) && self.ctx.topology.names_differ {
            // Its conditions would compare physical database names.
            return Err(MysqlError::not_supported(
                "SHOW OPEN TABLES ... WHERE where physical database names differ from logical ones",
            ));
        }
        let nodes: Vec<_> = self.ctx.topology.nodes().map(|n| n.id).collect();
        let mut result = LocalResult::default();
        for dnid in nodes {
            let visible = self.visible_databases_on(Some(dnid));
            let text = self.rewrite_schemas_for(sql, Some(dnid));
            let (columns, rows) = self.node_result(dnid, None, &text).await?;
            result.columns = columns;
            for mut row in rows {
                let (Some(Some(physical)), Some(Some(table))) = (row.first(), row.get(1)) else {
                    continue;
                };
                let Some((logical, _)) = visible.iter().find(|(_, p)| **p == **physical) else {
                    continue;
                };
                if let Some(tables) = self.visible_tables_only(logical) {
                    if !tables.iter().any(|t| t.eq_ignore_ascii_case(table)) {
                        continue;
                    }
                }
                row[0] = Some(logical.to_string());
                let same = result
                    .rows
                    .iter_mut()
                    .find(|r| r.first() == row.first() && r.get(1) == row.get(1));
                match same {
                    Some(seen) => add_uses(seen, &row),
                    None => result.rows.push(row),
                }
            }
        }
        Ok(result)
    }
}

/// A table open on another data node too: its In_use counts add up; Name_locked is
/// whether any node has the name locked.
fn add_uses(seen: &mut [Option<String>], other: &[Option<String>]) {
    let number = |v: Option<&Option<String>>| {
        v.and_then(|v| v.as_deref())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let in_use = number(seen.get(2)) + number(other.get(2));
    let locked = number(seen.get(3)).max(number(other.get(3)));
    if let Some(v) = seen.get_mut(2) {
        *v = Some(in_use.to_string());
    }
    if let Some(v) = seen.get_mut(3) {
        *v = Some(locked.to_string());
    }
}
