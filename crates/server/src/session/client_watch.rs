//! Noticing a client that closed its connection while its statement runs. MariaDB
//! stops a statement waiting on its client's behalf (`GET_LOCK`, `SLEEP`, a lock wait)
//! once the client is gone; through Strata the storage node only knows the compute
//! node's connection, which stays open, so the compute node watches the client's
//! socket and interrupts the session's storage queries (`KILL QUERY` there) itself.

use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use strata_protocol::command::{Command, MalformedCommand};
use strata_sql::StatementKind;
use tokio::io::Interest;
use tokio::net::TcpStream;

use super::{Flow, Session, SessionError};

/// A second handle on a client's socket, used only to learn that the client closed
/// it; None when the socket could not be duplicated (the statement then runs
/// unwatched, as before).
pub(super) struct ClientWatch(Option<TcpStream>);

impl ClientWatch {
    /// Watches `stream` through a duplicate of its descriptor, because the session's own
    /// stream is borrowed for the statement's replies while the statement runs.
    pub(super) fn of(stream: &TcpStream) -> Self {
        let duplicate = stream.as_fd().try_clone_to_owned().ok().and_then(|fd| {
            let socket = std::net::TcpStream::from(fd);
            socket.set_nonblocking(true).ok()?;
            TcpStream::from_std(socket).ok()
        });
        ClientWatch(duplicate)
    }

    /// Resolves once the client has closed its end of the connection; never when that
    /// cannot be known. Bytes the client sends ahead (a pipelined command) are left for
    /// the session to read.
    async fn closed(&self) {
        let Some(socket) = &self.0 else {
            return std::future::pending().await;
        };
        loop {
            match socket.ready(Interest::READABLE).await {
                Ok(ready) if ready.is_read_closed() => return,
                Ok(_) => {
                    // Readable with data only: forget this readiness (no bytes are
                    // read) and wait for the next event, a close among them.
                    let _ = socket.try_io(Interest::READABLE, || {
                        Err::<(), _>(std::io::ErrorKind::WouldBlock.into())
                    });
                }
                Err(_) => return std::future::pending().await,
            }
        }
    }
}

impl Session {
    /// [`Session::dispatch`], with the session's storage queries interrupted if the
    /// client closes its connection before the answer. Only a single read statement is
    /// interrupted: a write, a commit or a multi-statement text may be in a two-phase
    /// commit, whose storage statements must finish or be recovered, not be cut.
    pub(super) async fn dispatch_watched(
        &mut self,
        watch: &ClientWatch,
        command: Result<Command<'_>, MalformedCommand>,
        request: &bytes::Bytes,
    ) -> Result<Flow, SessionError> {
        let interruptible = match &command {
            Ok(Command::Query(text)) => std::str::from_utf8(text).is_ok_and(reads_only),
            _ => false,
        };
        if !interruptible || watch.0.is_none() {
            return self.dispatch(command, request).await;
        }
        let ctx = Arc::clone(&self.ctx);
        let entry = Arc::clone(&self.identity.entry);
        let session = self.identity.id;
        let dispatch = self.dispatch(command, request);
        tokio::pin!(dispatch);
        tokio::select! {
            biased;
            flow = &mut dispatch => flow,
            () = watch.closed() => {
                tracing::info!(session, "client closed its connection during a statement; interrupting it on the storage nodes");
                entry.killed.store(true, Ordering::Relaxed);
                crate::admin::actions::interrupt_storage_queries(&ctx, &entry).await;
                dispatch.await
            }
        }
    }
}

/// True for one statement that only reads: SELECT (a lock wait of `FOR UPDATE` and
/// `GET_LOCK` among them), DO, SHOW.
fn reads_only(sql: &str) -> bool {
    let read = matches!(
        strata_sql::classify(sql),
        StatementKind::Select | StatementKind::Do | StatementKind::Show
    );
    // Only a text with a `;` can hold more statements: the others are not split.
    read && (!sql.contains(';') || strata_sql::split_statements(sql).len() == 1)
}

#[cfg(test)]
mod tests {
    use super::reads_only;

    #[test]
    fn only_a_single_read_is_interrupted() {
        assert!(reads_only("SELECT GET_LOCK('a', 3600)"));
        assert!(reads_only("DO SLEEP(100);"));
        assert!(!reads_only("UPDATE t SET a = 1"));
        assert!(!reads_only("COMMIT"));
        assert!(!reads_only("SELECT 1; COMMIT"));
    }
}
