//! Counting the session's commands and statements in its status counters
//! (`crate::status`): what MariaDB counts in `Questions` and `Com_*` for each command,
//! the bytes the client connection moved, and how the session ended.

use strata_protocol::command::Command;

use super::Session;
use crate::status::{com, ByteTotals, Snapshot};

impl Session {
    /// The client connection's byte totals now.
    pub(super) fn client_bytes(&self) -> ByteTotals {
        (
            self.client.conn.bytes_read(),
            self.client.conn.bytes_written(),
        )
    }

    /// Counts a command as it starts. COM_QUERY's statements are counted one by one
    /// (`count_statement`); MariaDB leaves COM_PING, COM_STATISTICS, COM_STMT_PREPARE,
    /// COM_STMT_CLOSE and COM_STMT_RESET out of `Questions`.
    pub(super) fn count_command(&mut self, command: &Command<'_>) {
        let bytes = self.client_bytes();
        let global = &self.ctx.metrics.status;
        self.status.sync_bytes(global, bytes);
        let status = &mut self.status;
        match command {
            Command::Quit => self.client.quit = true,
            Command::Query(_) => {}
            Command::InitDb(_) => status.question(global, com::index_of("change_db")),
            Command::FieldList { .. } => status.question(global, com::index_of("show_fields")),
            Command::ProcessKill(_) => status.question(global, com::index_of("kill")),
            Command::Ping | Command::Statistics => status.count_named(global, "admin_commands"),
            Command::StmtPrepare(_) => status.count_named(global, "stmt_prepare"),
            Command::StmtClose(_) => status.count_named(global, "stmt_close"),
            Command::StmtReset(_) => status.count_named(global, "stmt_reset"),
            Command::StmtExecute { statement_id, .. } => {
                status.question(global, com::index_of("stmt_execute"));
                // The statement executed counts in its own counter too.
                let of = self
                    .prepared
                    .statements
                    .get(statement_id)
                    .and_then(|s| com::of_statement(&s.sql));
                status.count(global, of);
            }
            Command::StmtFetch { .. } => status.question(global, com::index_of("stmt_fetch")),
            Command::StmtSendLongData { .. } => status.count_named(global, "stmt_send_long_data"),
            Command::ResetConnection
            | Command::SetOption(_)
            | Command::ChangeUser(_)
            | Command::Unknown(_) => status.question(global, com::index_of("admin_commands")),
        }
    }

    /// Counts one statement of a COM_QUERY (each of a multi-statement one); gives its
    /// `Com_*` counter, for `count_done`.
    pub(super) fn count_statement(&mut self, sql: &str) -> Option<usize> {
        let of = com::of_statement(sql);
        self.status.question(&self.ctx.metrics.status, of);
        of
    }

    /// Counts what a statement counted in `com` returned, once it ended.
    pub(super) fn count_done(&mut self, com: Option<usize>) {
        let o = &self.statement.outcome;
        let rows = o.returned_rows.filter(|_| o.error == 0);
        self.status
            .statement_done(&self.ctx.metrics.status, com, rows);
    }

    /// FLUSH STATUS: the session's counters start again, and what MariaDB resets
    /// globally is reset.
    pub(super) fn flush_status(&mut self) {
        let bytes = self.client_bytes();
        self.status.flush(bytes);
        self.ctx.metrics.status.flush(self.ctx.session_count());
    }

    /// The compute node's status values for a SHOW STATUS or information_schema read.
    pub(super) fn status_snapshot(&self, global: bool) -> Snapshot {
        self.status.snapshot(&self.ctx, global, self.client_bytes())
    }

    /// The session ends: its last bytes go into the sums, and a session its client did
    /// not end with COM_QUIT (dropped, killed, timed out) counts in `Aborted_clients`.
    pub(super) fn count_end(&mut self) {
        let bytes = self.client_bytes();
        self.status.sync_bytes(&self.ctx.metrics.status, bytes);
        if !self.client.quit {
            self.ctx.metrics.status.aborted_client();
        }
    }
}
