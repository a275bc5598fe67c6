//! The State column of Strata's process list (SHOW PROCESSLIST,
//! information_schema.PROCESSLIST): what the storage threads running the sessions'
//! statements are doing (`User lock`, `Waiting for table metadata lock`, `Sending
//! data`, ...), read from each data node's own process list when the list is asked
//! for. Scripts wait on it (`WHERE STATE = 'User lock'`) to know a statement blocks.
//! For a session running a CALL the Info shown is the storage thread's too: the body's
//! statement running now, as MariaDB shows it (sp-threads).

use std::collections::{BTreeMap, HashMap};

use strata_catalog::DataNodeId;
use strata_sql::SchemaPolicy;

use super::Session;

/// The State and Info of storage threads, by data node and thread id.
pub(super) type ThreadStates = HashMap<(DataNodeId, u32), ThreadState>;

/// What one storage thread is doing.
#[derive(Debug, Clone, Default)]
pub(super) struct ThreadState {
    /// Its State (`User lock`, ...).
    state: String,
    /// The statement it runs (a routine body's statement during a CALL).
    info: Option<String>,
}

impl Session {
    /// The states of the storage threads of every session running a statement, one
    /// query per data node on a pooled connection; a node that does not answer leaves
    /// its threads' states empty.
    pub(super) async fn storage_thread_states(&self) -> ThreadStates {
        let mut by_node: BTreeMap<DataNodeId, Vec<u32>> = BTreeMap::new();
        for (_, entry) in self.ctx.all_sessions() {
            let running = entry
                .info
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some();
            if !running {
                continue;
            }
            for (dnid, thread) in entry
                .backend
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
            {
                by_node.entry(*dnid).or_default().push(*thread);
            }
        }
        let mut states = ThreadStates::new();
        for (dnid, threads) in by_node {
            let Some(node) = self.ctx.topology.node(dnid) else {
                continue;
            };
            let ids: Vec<String> = threads.iter().map(u32::to_string).collect();
            let sql = format!(
                "SELECT ID, STATE, INFO FROM information_schema.PROCESSLIST WHERE ID IN ({})",
                ids.join(", ")
            );
            let rows = match node.pool.acquire(Some(&node.physical_db)).await {
                Ok(mut lease) => lease.query(&sql).await,
                Err(e) => Err(e),
            };
            match rows {
                Ok(rows) => {
                    for row in rows {
                        let id = row.first().cloned().flatten().and_then(|v| v.parse().ok());
                        if let (Some(id), Some(Some(state))) = (id, row.get(1)) {
                            let info = row.get(2).cloned().flatten();
                            let state = state.clone();
                            states.insert((dnid, id), ThreadState { state, info });
                        }
                    }
                }
                Err(e) => tracing::debug!(dnid = dnid.get(), error = %e, "thread states not read"),
            }
        }
        states
    }

    /// The State shown for a session whose storage threads are `backend`.
    pub(super) fn session_state(&self, backend: &[(DataNodeId, u32)]) -> String {
        backend
            .iter()
            .find_map(|key| {
                self.statement
                    .process_states
                    .get(key)
                    .map(|t| &t.state)
                    .filter(|s| !s.is_empty())
            })
            .cloned()
            .unwrap_or_default()
    }

    /// The Info shown for a session running `info` on storage threads `backend`: for a
    /// CALL, the statement of the body its storage thread runs now, as MariaDB shows a
    /// routine's statement; else None (the client's statement is shown). Not a text
    /// naming a physical database name or a storage schema (a body's text is the
    /// storage node's): the CALL is shown then.
    pub(super) fn session_substatement(
        &self,
        info: &str,
        backend: &[(DataNodeId, u32)],
    ) -> Option<String> {
        if !super::query::starts_with_word(info, "CALL") {
            return None;
        }
        backend.iter().find_map(|key| {
            self.statement
                .process_states
                .get(key)
                .and_then(|t| t.info.clone())
                .filter(|i| !i.is_empty() && !self.ctx.private_schemas.may_mention(i.as_bytes()))
        })
    }
}

/// A statement's text as the process list's Info shows it: MariaDB keeps a query
/// without the blanks before it and the blanks and `;` after it (`alloc_query`), so
/// `--send SELECT ...;` of mysqltest is `SELECT ...` there.
pub(super) fn statement_info(text: &[u8]) -> String {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| !(b.is_ascii_whitespace() || *b == b';'))
        .map_or(start, |i| i + 1)
        .max(start);
    String::from_utf8_lossy(&text[start..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::statement_info;

    #[test]
    fn info_is_the_statement_without_blanks_around_and_final_semicolons() {
        assert_eq!(statement_info(b"  SELECT 1; ;\n"), "SELECT 1");
        assert_eq!(statement_info(b"SELECT ';'"), "SELECT ';'");
        assert_eq!(statement_info(b" ;; "), "");
        assert_eq!(statement_info(b""), "");
    }
}
