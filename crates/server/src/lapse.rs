//! A compute node out of the cluster — its membership lapsed, or etcd stayed out of
//! reach past its serving deadline — refuses new statements (the metadata fence), and
//! interrupts the ones still running that were planned on the metadata it had: the
//! others put it out to let a DDL go on without it, and its statement in flight (one
//! longer than `ddl_ack_timeout_ms`, which held the acknowledgement back) must not
//! keep running on the old definition of a table the DDL is changing.

use std::sync::Arc;
use std::time::Duration;

use crate::context::ServerContext;

/// How often the node looks whether it is out of the cluster.
const POLL: Duration = Duration::from_millis(100);

/// Interrupts, on the storage nodes, the statements in flight of every session that
/// holds a table's metadata while this node is out of the cluster.
pub async fn interrupt_when_out(ctx: Arc<ServerContext>, mut shutdown: crate::shutdown::Shutdown) {
    let mut interrupted: Vec<u32> = Vec::new();
    loop {
        tokio::select! {
            _ = shutdown.triggered() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        let fence = ctx.topology.catalog().fence();
        if !fence.is_rejoining() {
            interrupted.clear();
            continue;
        }
        for id in fence.holders() {
            if interrupted.contains(&id) {
                continue;
            }
            let Some(entry) = ctx.session(id) else {
                continue;
            };
            tracing::warn!(
                session = id,
                "out of the cluster: interrupting a statement planned on the metadata from before"
            );
            crate::admin::actions::interrupt_storage_queries(&ctx, &entry).await;
            interrupted.push(id);
        }
    }
}
