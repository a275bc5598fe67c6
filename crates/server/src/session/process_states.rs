//! The State column of Strata's process list (SHOW PROCESSLIST,
//! information_schema.PROCESSLIST): what the storage threads running the sessions'
//! statements are doing (`User lock`, `Waiting for table metadata lock`, `Sending
//! data`, ...), read from each data node's own process list when the list is asked
//! for. Scripts wait on it (`WHERE STATE = 'User lock'`) to know a statement blocks.

use std::collections::{BTreeMap, HashMap};

use strata_catalog::DataNodeId;

use super::Session;

/// The State of storage threads, by data node and thread id.
pub(super) type ThreadStates = HashMap<(DataNodeId, u32), String>;

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
                "SELECT ID, STATE FROM information_schema.PROCESSLIST WHERE ID IN ({})",
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
                            states.insert((dnid, id), state.clone());
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
                    .filter(|s| !s.is_empty())
            })
            .cloned()
            .unwrap_or_default()
    }
}
