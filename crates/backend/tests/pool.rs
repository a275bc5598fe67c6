//! Pools against a real MariaDB server: a lease goes back to its pool when dropped
//! (its permit is free again and the connection is reused), while a broken connection,
//! one left inside a transaction, one whose reply was not read to its end, or one
//! whose pool is gone is closed instead; a
//! session's `wait_timeout` is taken off a connection before it waits in the pool.

use std::sync::Arc;
use std::time::Duration;

use strata_backend::{Pool, PoolSettings, SessionVars};
use strata_localnode::MariadbNode;

mod common;
use common::{start_node, target};

/// A pool of at most one connection, so a permit not given back shows at once, on a
/// server of its own (which lives as long as the directory and node returned).
async fn one_connection_pool() -> (tempfile::TempDir, MariadbNode, Arc<Pool>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = start_node(dir.path(), None).await;
    let settings = PoolSettings {
        min_idle: 0,
        max_size: 1,
        idle_timeout: Duration::from_secs(600),
        connect_timeout: Duration::from_secs(10),
        acquire_timeout: Duration::from_millis(500),
        health_check_interval: Duration::from_secs(600),
    };
    let pool = Pool::new(target(&node), settings, 1);
    (dir, node, pool)
}

/// Waits for a return that runs in a task (the `wait_timeout` reset).
async fn wait_idle(pool: &Pool, want: usize) {
    for _ in 0..200 {
        if pool.idle_count() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the pool has {} idle connections, not {want}",
        pool.idle_count()
    );
}

#[tokio::test]
async fn a_dropped_lease_frees_its_permit_and_its_connection_is_reused() {
    let (_dir, _node, pool) = one_connection_pool().await;

    let lease = pool.acquire(None).await.expect("first lease");
    let thread = lease.thread_id();
    assert_eq!((pool.open_count(), pool.idle_count()), (1, 0));
    let busy = pool.acquire(None).await;
    assert!(busy.is_err(), "the only permit is lent");

    drop(lease);
    assert_eq!((pool.open_count(), pool.idle_count()), (1, 1));
    let again = pool.acquire(None).await.expect("the permit is free again");
    assert_eq!(
        again.thread_id(),
        thread,
        "the same connection is lent again"
    );
}

#[tokio::test]
async fn a_broken_or_mid_transaction_connection_is_closed_not_reused() {
    let (_dir, _node, pool) = one_connection_pool().await;

    let mut lease = pool.acquire(None).await.expect("lease");
    let broken = lease.thread_id();
    lease.mark_broken();
    drop(lease);
    assert_eq!((pool.open_count(), pool.idle_count()), (0, 0));

    let mut lease = pool.acquire(None).await.expect("a fresh connection");
    assert_ne!(
        lease.thread_id(),
        broken,
        "the broken connection was not reused"
    );
    let in_transaction = lease.thread_id();
    lease.execute("START TRANSACTION").await.expect("begin");
    assert!(lease.in_transaction());
    drop(lease);
    assert_eq!((pool.open_count(), pool.idle_count()), (0, 0));

    let lease = pool.acquire(None).await.expect("a fresh connection");
    assert_ne!(lease.thread_id(), in_transaction);
    assert!(!lease.in_transaction());
}

#[tokio::test]
async fn a_lease_dropped_before_its_reply_was_read_is_closed_not_reused() {
    let (_dir, _node, pool) = one_connection_pool().await;

    // A statement abandoned halfway (its future cancelled): the reply is still coming.
    let mut lease = pool.acquire(None).await.expect("lease");
    let abandoned = lease.thread_id();
    lease.queue_command(strata_protocol::constants::com::QUERY, b"SELECT 42");
    lease.flush().await.expect("sent");
    assert!(lease.awaits_reply());
    drop(lease);
    assert_eq!((pool.open_count(), pool.idle_count()), (0, 0));

    // Replies read to their end, an error included, leave the connection reusable.
    let mut lease = pool.acquire(None).await.expect("a fresh connection");
    assert_ne!(lease.thread_id(), abandoned);
    let reused = lease.thread_id();
    assert!(lease.execute("SELECT * FROM no_such_table").await.is_err());
    assert_eq!(lease.query("SELECT 1").await.expect("query").len(), 1);
    assert!(!lease.awaits_reply());
    drop(lease);
    let lease = pool.acquire(None).await.expect("lease again");
    assert_eq!(lease.thread_id(), reused);
}

#[tokio::test]
async fn a_lease_outliving_its_pool_closes_its_connection() {
    let (_dir, _node, pool) = one_connection_pool().await;
    let lease = pool.acquire(None).await.expect("lease");
    drop(pool);
    // Nothing to return to: the connection closes and nothing panics.
    drop(lease);
}

#[tokio::test]
async fn a_session_wait_timeout_is_taken_off_before_the_connection_waits_idle() {
    let (_dir, _node, pool) = one_connection_pool().await;

    let mut lease = pool.acquire(None).await.expect("lease");
    let server_default = lease.query("SELECT @@wait_timeout").await.expect("default")[0][0].clone();
    let mut vars = SessionVars::default();
    vars.set("wait_timeout", "SESSION wait_timeout = 5".into());
    lease
        .sync_state(None, &vars)
        .await
        .expect("set wait_timeout");
    assert!(lease.idle_time_limited());
    drop(lease);
    wait_idle(&pool, 1).await;

    let mut lease = pool.acquire(None).await.expect("lease again");
    assert!(!lease.idle_time_limited());
    let now = lease.query("SELECT @@wait_timeout").await.expect("value")[0][0].clone();
    assert_eq!(now, server_default);
}

/// While the pool is held (a failover or switchover choosing the new primary), at most
/// the hold's limit of acquires wait; the next fails at once with a clear error, and
/// those waiting go on when the hold ends.
#[tokio::test]
async fn a_hold_lets_only_its_limit_of_acquires_wait() {
    let (_dir, _node, pool) = one_connection_pool().await;
    pool.hold(Duration::from_secs(30), 1);
    let waiting = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.acquire(None).await.map(|_| ()) })
    };
    for _ in 0..500 {
        if pool.held_waiting() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        pool.held_waiting(),
        1,
        "the first acquire waits on the hold"
    );
    let refused = pool.acquire(None).await.map(|_| ());
    let Err(e) = refused else {
        panic!("an acquire beyond the hold's limit waited");
    };
    assert!(
        matches!(e, strata_backend::BackendError::HoldQueueFull(_, 1)),
        "{e}"
    );
    assert!(e.to_string().contains("ha.hold_queue_limit"), "{e}");
    pool.release_hold();
    waiting
        .await
        .expect("task")
        .expect("the waiting acquire goes on when the hold ends");
    assert_eq!(pool.held_waiting(), 0);
}
