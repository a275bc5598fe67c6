//! `SHOW BINARY LOGS`, `SHOW MASTER|BINLOG STATUS` and `SHOW BINLOG EVENTS`: the compute
//! node writes no binary log of its own, and the storage servers' logs (their file
//! names, positions and events, statements of every client and of Strata) are private
//! to Strata. So a client hears what MariaDB without a binary log answers, after the
//! same privilege check: 1381 for the list of logs, no rows for the status and events.

use strata_catalog::accounts::AccountError;
use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::guard::BinlogShow;

use super::accounts::account_error;
use super::{Answer, Session};
use crate::results::LocalResult;

/// ER_NO_BINARY_LOGGING.
const NO_BINARY_LOGGING: u16 = 1381;

impl Session {
    /// Answers `show` as MariaDB without a binary log.
    pub(super) fn binlog_show(&mut self, show: BinlogShow, more: bool) -> Answer {
        let allowed = match show {
            BinlogShow::Logs | BinlogShow::Status => {
                self.has_global(Privilege::Super) || self.has_global(Privilege::BinlogMonitor)
            }
            BinlogShow::Events => self.has_global(Privilege::BinlogMonitor),
        };
        let error = match show {
            _ if !allowed => Some(account_error(&AccountError::NeedPrivilege(match show {
                BinlogShow::Events => "BINLOG MONITOR",
                _ => "SUPER, BINLOG MONITOR",
            }))),
            BinlogShow::Logs => Some(MysqlError {
                code: NO_BINARY_LOGGING,
                state: "HY000",
                message: "You are not using binary logging".into(),
            }),
            BinlogShow::Status | BinlogShow::Events => None,
        };
        // MariaDB without a binary log sends the columns and no row.
        let names: &[&str] = match show {
            BinlogShow::Status => &["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"],
            _ => &[
                "Log_name",
                "Pos",
                "Event_type",
                "Server_id",
                "End_log_pos",
                "Info",
            ],
        };
        match error {
            Some(e) => {
                self.err(&e);
                Answer::Failed
            }
            None => {
                let columns = names
                    .iter()
                    .map(|n| match *n {
                        "Position" | "Pos" | "Server_id" | "End_log_pos" => {
                            ColumnDef::bigint(n, true)
                        }
                        _ => ColumnDef::varchar(n),
                    })
                    .collect();
                let result = LocalResult {
                    columns,
                    rows: Vec::new(),
                };
                self.write_local(&result, more);
                Answer::Ok
            }
        }
    }
}
