//! `CONNECTION_ID()`, `USER()`, `SESSION_USER()`, `SYSTEM_USER()` and `CURRENT_USER()`
//! in a statement a storage node runs: its connection would answer with its own thread
//! id and Strata's storage account, so the compute node writes the session's values
//! into the text, as for `ROW_COUNT()` (a routine body, run later, keeps its calls).

use strata_protocol::MysqlError;
use strata_sql::{contains_ignore_ascii_case, RowCountText, StatementKind};

use super::isolation::sql_string;
use super::Session;

impl Session {
    /// The text with the session functions' calls replaced, None when it has none;
    /// Err when a select item's column name could not be kept.
    pub(super) fn substitute_session_functions(
        &self,
        sql: &str,
        kind: StatementKind,
    ) -> Result<Option<String>, MysqlError> {
        let mentions = |word: &[u8]| contains_ignore_ascii_case(sql.as_bytes(), word);
        if kind == StatementKind::Create
            || !(mentions(b"user") || mentions(b"connection_id"))
            || strata_sql::split::is_compound_statement(sql)
        {
            return Ok(None);
        }
        let user = format!(
            "{}@{}",
            self.identity.user,
            super::isolation::shown_host(&self.identity.entry.host)
        );
        let current = format!(
            "{}@{}",
            self.identity.account.user,
            self.identity.account.host.as_str()
        );
        let text = |s: &str| format!("_utf8mb3{}", sql_string(s));
        let values = [
            (
                "CONNECTION_ID",
                format!("CAST({} AS UNSIGNED)", self.identity.id),
            ),
            ("USER", text(&user)),
            ("SESSION_USER", text(&user)),
            ("SYSTEM_USER", text(&user)),
            ("CURRENT_USER", text(&current)),
        ];
        let select = kind == StatementKind::Select;
        match strata_sql::substitute_session_calls(sql, &values, select) {
            RowCountText::Substituted(t) => Ok(Some(t)),
            RowCountText::Unchanged => Ok(None),
            RowCountText::NamesColumn => Err(MysqlError::not_supported(
                "CONNECTION_ID() or USER() in a select item whose alias cannot be told from its expression (give it an alias)",
            )),
        }
    }
}
