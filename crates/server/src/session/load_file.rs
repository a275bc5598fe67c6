//! `LOAD_FILE(path)` on the compute node's host, under MariaDB's rules, when
//! `server.secure_file_priv` is set: the session reads each file named by a literal and
//! writes its value into the statement (a LONGBLOB binary string, or NULL) before the
//! statement is checked and sent on; the storage nodes' files stay private. As in
//! MariaDB the value is NULL for an account without FILE, a path outside
//! `secure_file_priv`, a file that is missing, not a regular file or not readable by
//! all; a relative name is under the data directory (`server.file_base_dir`).
//! Refused (1235): an argument that is not a literal (its value is known only where the
//! statement runs), a file over `max_allowed_packet` (MariaDB's NULL comes with a
//! warning the storage node cannot give) or whose value would make the statement longer.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use strata_protocol::MysqlError;
use strata_sql::account::Privilege;
use strata_sql::load_file::NULL_VALUE;
use strata_sql::load_file::{file_value, load_file_calls, substitute_load_files, LoadFileArg};
use strata_sql::{contains_ignore_ascii_case, ByteSummary, RowCountText, StatementKind};

use super::server_files::check_under;
use super::Session;

impl Session {
    /// The statement with its `LOAD_FILE` calls replaced by their values, None when it
    /// has none (or the feature is off, or the statement is one the guard refuses them
    /// in: a definition, PREPARE, a compound statement).
    pub(super) fn substitute_load_files(
        &self,
        sql: &str,
        raw: &[u8],
        kind: StatementKind,
        bytes: ByteSummary,
    ) -> Result<Option<String>, MysqlError> {
        if self.ctx.config.server.secure_file_priv.is_none()
            || !bytes.underscore()
            || !contains_ignore_ascii_case(sql.as_bytes(), b"load_file")
        {
            return Ok(None);
        }
        use StatementKind as K;
        if !matches!(
            kind,
            K::Select | K::Insert | K::Replace | K::Update | K::Delete | K::Set | K::Do
        ) || strata_sql::split::is_compound_statement(sql)
        {
            return Ok(None);
        }
        let no_backslash_escapes = self
            .state
            .vars
            .get("sql_mode")
            .is_some_and(|m| m.to_ascii_uppercase().contains("NO_BACKSLASH_ESCAPES"));
        let calls = load_file_calls(sql, no_backslash_escapes);
        if calls.is_empty() {
            return Ok(None);
        }
        if calls.iter().any(Option::is_none) {
            return Err(MysqlError::not_supported(
                "LOAD_FILE() of an argument other than a literal (its value is known only where the statement runs)",
            ));
        }
        if raw != sql.as_bytes() {
            return Err(MysqlError::not_supported(
                "LOAD_FILE() in a statement that is not valid UTF-8",
            ));
        }
        let mut values: Vec<(LoadFileArg, String)> = Vec::new();
        for arg in calls.into_iter().flatten() {
            if !values.iter().any(|(a, _)| *a == arg) {
                let value = self.load_file_value(&arg)?;
                values.push((arg, value));
            }
        }
        let value = |arg: &LoadFileArg| {
            values
                .iter()
                .find(|(a, _)| a == arg)
                .map_or_else(|| NULL_VALUE.to_string(), |(_, v)| v.clone())
        };
        let text = match substitute_load_files(sql, &value, kind == K::Select, no_backslash_escapes)
        {
            RowCountText::Substituted(t) => t,
            RowCountText::Unchanged => return Ok(None),
            RowCountText::NamesColumn => {
                return Err(MysqlError::not_supported(
                    "LOAD_FILE() in a select item whose alias cannot be told from its expression (give it an alias)",
                ))
            }
        };
        if text.len() > self.client.conn.max_packet() {
            return Err(MysqlError::not_supported(
                "LOAD_FILE() of a file whose value makes the statement longer than max_allowed_packet",
            ));
        }
        Ok(Some(text))
    }

    /// What replaces `LOAD_FILE(arg)`: the file's bytes, or NULL as MariaDB gives it.
    fn load_file_value(&self, arg: &LoadFileArg) -> Result<String, MysqlError> {
        let null = || Ok(NULL_VALUE.to_string());
        let LoadFileArg::Path(name) = arg else {
            return null();
        };
        if !self.has_global(Privilege::File) {
            return null();
        }
        let Some(Ok(dir)) = self.secure_dir() else {
            return null();
        };
        let name = Path::new(std::ffi::OsStr::from_bytes(name));
        // MariaDB resolves a relative name against its data directory (not the
        // current database's directory, as LOAD DATA and INTO OUTFILE do).
        let path = if name.is_absolute() {
            name.to_path_buf()
        } else {
            self.ctx
                .config
                .server
                .file_base_dir
                .clone()
                .unwrap_or_else(|| dir.clone())
                .join(name)
        };
        let Ok(path) = check_under(&dir, &path) else {
            return null();
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return null();
        };
        if !meta.is_file() || meta.permissions().mode() & 0o004 == 0 {
            return null();
        }
        let limit = self.client.conn.max_packet();
        if meta.len() > limit as u64 {
            return Err(MysqlError::not_supported(&format!(
                "LOAD_FILE() of a file larger than max_allowed_packet ({limit})"
            )));
        }
        match std::fs::read(&path) {
            Ok(bytes) => Ok(file_value(&bytes)),
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "LOAD_FILE() read failed");
                null()
            }
        }
    }
}
