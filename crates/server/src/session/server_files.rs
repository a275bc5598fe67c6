//! Server-side files on the compute node's own host, as MariaDB reads and writes files
//! on its host under `secure_file_priv`: `SELECT ... INTO OUTFILE/DUMPFILE` and
//! `LOAD DATA INFILE` (without LOCAL). To a client the compute node is the server; the
//! storage hosts' files stay out of reach (the statements that reach a storage node
//! still pass the guard, which refuses them). Off unless `server.secure_file_priv` is
//! configured; then only paths under that directory (after `..` and symlinks are
//! resolved) are used, and the account needs the global FILE privilege.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use strata_executor::row::Row;
use strata_executor::RowSink;
use strata_protocol::packets::ColumnDef;
use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::{ByteSummary, StatementKind};

use super::outfile_format::{dump_row, split_select_to_file, Target, Writer};
use super::{Answer, Session, SessionError};

/// MariaDB's ER_OPTION_PREVENTS_STATEMENT for a path outside `secure_file_priv`.
const OUTSIDE: &str =
    "The MariaDB server is running with the --secure-file-priv option so it cannot execute this statement";
/// Bytes of formatted rows kept before they are written to the file.
const WRITE_CHUNK: usize = 64 * 1024;

/// What a server-side file statement is.
pub(super) enum FileStatement {
    /// `SELECT ... INTO OUTFILE/DUMPFILE`.
    SelectToFile(Box<super::outfile_format::SelectToFile>),
    /// `LOAD DATA INFILE` without LOCAL.
    LoadData,
}

/// The server-side file statement `sql` is, if any (`Err`: a malformed INTO clause).
pub(super) fn file_statement(
    sql: &str,
    kind: StatementKind,
    bytes: ByteSummary,
) -> Option<Result<FileStatement, MysqlError>> {
    let _ = bytes;
    let has = |w: &[u8]| strata_sql::contains_ignore_ascii_case(sql.as_bytes(), w);
    match kind {
        StatementKind::Select if has(b"outfile") || has(b"dumpfile") => {
            split_select_to_file(sql).map(|r| {
                r.map(|s| FileStatement::SelectToFile(Box::new(s))).map_err(|()| {
                    MysqlError::new(
                        (1064, "42000"),
                        "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'INTO'",
                    )
                })
            })
        }
        StatementKind::Load => {
            let load = strata_sql::parse_load_data(sql).ok()?;
            (!load.local).then_some(Ok(FileStatement::LoadData))
        }
        _ => None,
    }
}

/// MariaDB's path for a file name of these statements: a bare name in the database's
/// directory (`db`), any other relative name under the data directory (`base`).
pub(super) fn file_path(base: &Path, db: Option<&str>, name: &str) -> PathBuf {
    let name_path = Path::new(name);
    if name_path.is_absolute() {
        return name_path.to_path_buf();
    }
    if !name.contains('/') {
        return match db {
            Some(db) => base.join(db).join(name),
            None => base.join(name),
        };
    }
    base.join(name)
}

/// Err(1290) unless `path` is under `dir` (already canonical) once `..` and symlinks
/// of its directory are resolved and, for a file that exists, of the file itself.
pub(super) fn check_under(dir: &Path, path: &Path) -> Result<PathBuf, MysqlError> {
    let outside = || MysqlError::new((1290, "HY000"), OUTSIDE);
    let file_name = path.file_name().ok_or_else(outside)?;
    if matches!(
        Path::new(file_name).components().next(),
        Some(Component::ParentDir | Component::CurDir)
    ) {
        return Err(outside());
    }
    let parent = path.parent().ok_or_else(outside)?;
    let parent = std::fs::canonicalize(parent).map_err(|_| outside())?;
    if !parent.starts_with(dir) {
        return Err(outside());
    }
    let joined = parent.join(file_name);
    match std::fs::canonicalize(&joined) {
        Ok(real) if !real.starts_with(dir) => Err(outside()),
        _ => Ok(joined),
    }
}

/// Keeps a SELECT's rows in the file as they arrive.
struct FileSink {
    file: std::fs::File,
    target: Target,
    no_backslash_escapes: bool,
    columns: Vec<ColumnDef>,
    writer: Option<Writer>,
    buffer: Vec<u8>,
    rows: u64,
    failure: Option<MysqlError>,
    /// Why a column cannot be written as MariaDB writes it (refused at the first row).
    refusal: Option<MysqlError>,
}

impl FileSink {
    fn flush(&mut self) {
        if self.failure.is_none() && !self.buffer.is_empty() {
            if let Err(e) = self.file.write_all(&self.buffer) {
                self.failure = Some(MysqlError::new(
                    (3, "HY000"),
                    format!(
                        "Error writing file (Errcode: {})",
                        e.raw_os_error().unwrap_or(0)
                    ),
                ));
            }
        }
        self.buffer.clear();
    }
}

impl RowSink for FileSink {
    type Error = std::convert::Infallible;

    async fn columns(&mut self, columns: &[ColumnDef]) -> Result<(), Self::Error> {
        self.columns = columns.to_vec();
        if let Target::Outfile(export) = &self.target {
            self.writer = Writer::new(export.clone(), columns, self.no_backslash_escapes);
            self.refusal = columns
                .iter()
                .find_map(|c| unwritable(c, export.charset.as_deref()));
        }
        Ok(())
    }

    async fn row(&mut self, payload: Bytes) -> Result<(), Result<MysqlError, Self::Error>> {
        let row = Row::decode(payload, self.columns.len())
            .map_err(|detail| Ok(MysqlError::new(codes::UNKNOWN, detail)))?;
        if let Some(e) = self.refusal.clone() {
            return Err(Ok(e));
        }
        let values: Vec<Option<&[u8]>> = (0..self.columns.len()).map(|i| row.value(i)).collect();
        self.rows += 1;
        match (&self.target, &self.writer) {
            // MariaDB's check (`row_count++ > 1`) lets a second row through.
            (Target::Dumpfile, _) if self.rows > 2 => {
                return Err(Ok(MysqlError::new(
                    (1172, "42000"),
                    "Result consisted of more than one row",
                )))
            }
            (Target::Dumpfile, _) => dump_row(&values, &mut self.buffer),
            (Target::Outfile(_), Some(w)) => w.row(&self.columns, &values, &mut self.buffer),
            (Target::Outfile(_), None) => {
                return Err(Ok(MysqlError::not_supported(
                    "SELECT ... INTO OUTFILE with empty FIELDS TERMINATED BY and ENCLOSED BY (fixed-size rows)",
                )))
            }
        }
        if self.buffer.len() >= WRITE_CHUNK {
            self.flush();
            if let Some(e) = self.failure.clone() {
                return Err(Ok(e));
            }
        }
        Ok(())
    }
}

impl Session {
    /// The directory `secure_file_priv` names, canonical; None when the feature is off.
    pub(super) fn secure_dir(&self) -> Option<Result<PathBuf, MysqlError>> {
        let dir = self.ctx.config.server.secure_file_priv.as_ref()?;
        Some(std::fs::canonicalize(dir).map_err(|_| MysqlError::new((1290, "HY000"), OUTSIDE)))
    }

    /// The checked path of file `name` (resolved as MariaDB resolves it, `db` the
    /// database a bare name is in), for an account with FILE. `denied` is the error
    /// an account without FILE gets.
    pub(super) fn server_file(
        &self,
        name: &str,
        db: Option<&str>,
        denied: MysqlError,
    ) -> Result<PathBuf, MysqlError> {
        let dir = match self.secure_dir() {
            Some(dir) => dir?,
            None => return Err(MysqlError::new((1290, "HY000"), OUTSIDE)),
        };
        if !self.has_global(Privilege::File) {
            return Err(denied);
        }
        let base = self
            .ctx
            .config
            .server
            .file_base_dir
            .clone()
            .unwrap_or_else(|| dir.clone());
        check_under(&dir, &file_path(&base, db, name))
    }

    /// MariaDB's 1045 for LOAD DATA INFILE without FILE.
    pub(super) fn access_denied(&self) -> MysqlError {
        MysqlError::new(
            (1045, "28000"),
            format!(
                "Access denied for user {} (using password: {})",
                self.account_text(),
                if self.identity.account.credential.no_password {
                    "NO"
                } else {
                    "YES"
                }
            ),
        )
    }

    /// Handles a server-side file statement when `server.secure_file_priv` is set;
    /// None leaves the statement to the usual path (whose guard refuses it).
    pub(super) async fn server_file_statement(
        &mut self,
        sql: &str,
        kind: StatementKind,
        bytes: ByteSummary,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        self.ctx.config.server.secure_file_priv.as_ref()?;
        let statement = match file_statement(sql, kind, bytes)? {
            Ok(s) => s,
            Err(e) => {
                self.err(&e);
                return Some(Ok(Answer::Failed));
            }
        };
        Some(match statement {
            FileStatement::SelectToFile(to_file) => self.select_to_file(&to_file, more).await,
            FileStatement::LoadData => self.load_data_infile(sql, more).await,
        })
    }

    /// Runs `SELECT ... INTO OUTFILE/DUMPFILE`: the SELECT as any other, its rows into
    /// a new file of the compute node's host.
    async fn select_to_file(
        &mut self,
        to_file: &super::outfile_format::SelectToFile,
        more: bool,
    ) -> Result<Answer, SessionError> {
        match self.select_to_file_rows(to_file).await {
            Ok((rows, warnings)) => {
                let count = u16::try_from(warnings.len()).unwrap_or(u16::MAX);
                if !warnings.is_empty() {
                    self.keep_diagnostics(warnings).await;
                }
                self.ok_warned(rows, count, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// The rows written and the warnings to keep.
    async fn select_to_file_rows(
        &mut self,
        to_file: &super::outfile_format::SelectToFile,
    ) -> Result<(u64, Vec<(&'static str, u16, String)>), MysqlError> {
        let select = to_file.select.as_str();
        let bytes = ByteSummary::of(select.as_bytes());
        self.guard(select, StatementKind::Select, bytes)?;
        self.authorize(select, StatementKind::Select)?;
        self.firewall(select, StatementKind::Select).await?;
        let denied = MysqlError::new(
            (1227, "42000"),
            "Access denied; you need (at least one of) the FILE privilege(s) for this operation",
        );
        let db = self.state.db.clone();
        let path = self.server_file(&to_file.file, db.as_deref(), denied)?;
        let masked = self.mask_variables(select, bytes).into_owned();
        let select = match self.substitute_session_values(&masked, StatementKind::Select, bytes)? {
            Some(s) => s,
            None => masked,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| file_error(&path, &e))?;
        let no_backslash_escapes = self
            .state
            .vars
            .get("sql_mode")
            .is_some_and(|m| m.to_ascii_uppercase().contains("NO_BACKSLASH_ESCAPES"));
        let mut sink = FileSink {
            file,
            target: to_file.target.clone(),
            no_backslash_escapes,
            columns: Vec::new(),
            writer: None,
            buffer: Vec::new(),
            rows: 0,
            failure: None,
            refusal: None,
        };
        let read = self.read_to_file(&select, &mut sink).await;
        sink.flush();
        let failed = read.err().or(sink.failure.take());
        if let Some(e) = failed.as_ref().filter(|e| e.code == 1172) {
            // MariaDB keeps what it wrote of a DUMPFILE before its 1172.
            return Err(e.clone());
        }
        if let Some(e) = failed {
            // MariaDB removes the file of a statement that failed.
            drop(sink.file);
            if let Err(rm) = std::fs::remove_file(&path) {
                tracing::warn!(error = %rm, path = %path.display(), "failed SELECT INTO OUTFILE's file not removed");
            }
            return Err(e);
        }
        let mut warnings = Vec::new();
        if to_file.deprecated {
            warnings.push((
                "Warning",
                1287u16,
                super::select_into::DEPRECATED.to_string(),
            ));
        }
        if sink.writer.as_ref().is_some_and(|w| w.ambiguous_field_term) {
            warnings.push(("Warning", 1475u16, "First character of the FIELDS TERMINATED string is ambiguous; please use non-optional and non-empty FIELDS ENCLOSED BY".to_string()));
        }
        Ok((sink.rows, warnings))
    }

    /// Plans and reads `select`, strings in their columns' own character sets.
    async fn read_to_file(&mut self, select: &str, sink: &mut FileSink) -> Result<(), MysqlError> {
        let bytes = ByteSummary::of(select.as_bytes());
        self.statement.reads_user_vars =
            super::connection_state::reads_user_variables(select, bytes);
        // On one data node the statement goes as any other there (the planner knows
        // only the tables of databases over several).
        let planned = if self.needs_planner(select, StatementKind::Select, bytes) {
            self.plan_select(select).await?
        } else {
            let (dnid, _) = self.home_node()?;
            let text = self.rewrite_schemas_for(select, Some(dnid));
            strata_planner::Plan::route(dnid, text, strata_planner::Reply::Rows)
        };
        let prefix: std::sync::Arc<str> = format!(
            "{}SET STATEMENT character_set_results=NULL FOR ",
            self.statement.variables.as_deref().unwrap_or("")
        )
        .into();
        let outer = self.statement.variables.replace(prefix);
        let read = self.read_rows(&planned, sink).await;
        self.statement.variables = outer;
        read
    }
}

impl Session {
    /// Runs a server-side `LOAD DATA INFILE`: checked as its LOCAL form, the file read
    /// from the compute node's host.
    async fn load_data_infile(&mut self, sql: &str, more: bool) -> Result<Answer, SessionError> {
        match self.open_load_file(sql).await {
            Ok(file) => self.load_data_from(sql, Some(file), more).await,
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        }
    }

    /// The checks of a server-side load, and its file opened.
    async fn open_load_file(&mut self, sql: &str) -> Result<std::fs::File, MysqlError> {
        let load = strata_sql::parse_load_data(sql).map_err(|e| super::query::sql_error(&e))?;
        let local = load.as_local();
        let bytes = ByteSummary::of(local.as_bytes());
        if !self.has_global(Privilege::File) && self.secure_dir().is_some() {
            return Err(self.access_denied());
        }
        self.guard(&local, StatementKind::Load, bytes)?;
        self.authorize(&local, StatementKind::Load)?;
        self.firewall(&local, StatementKind::Load).await?;
        self.pass_read_lock(&local, StatementKind::Load, None)
            .await?;
        let db = self.state.db.clone().or_else(|| load.db.clone());
        let path = self.server_file(&load.file, db.as_deref(), self.access_denied())?;
        let not_found = |e: &std::io::Error| {
            MysqlError::new(
                (13, "HY000"),
                format!(
                    "Can't get stat of '{}' (Errcode: {} \"{}\")",
                    path.display(),
                    e.raw_os_error().unwrap_or(0),
                    os_message(e)
                ),
            )
        };
        let meta = std::fs::metadata(&path).map_err(|e| not_found(&e))?;
        if !meta.is_file() {
            return Err(MysqlError::new(
                (1085, "HY000"),
                format!(
                    "The file '{}' must be in the database directory or be readable by all",
                    path.display()
                ),
            ));
        }
        std::fs::File::open(&path).map_err(|e| not_found(&e))
    }
}

/// Why column `def` cannot be written byte for byte as MariaDB writes it into a file of
/// character set `to` (None: each column's own), if it cannot: Strata writes a value's
/// bytes as the data node sends them in its column's character set, so it refuses a
/// conversion that changes bytes, and multi-byte character sets whose characters may
/// hold a byte MariaDB would otherwise escape.
fn unwritable(def: &ColumnDef, to: Option<&str>) -> Option<MysqlError> {
    let to = to.map(|t| if t == "utf8" { "utf8mb3" } else { t });
    if def.charset == 63 {
        // MariaDB converts a binary string into the file's character set too.
        let numeric = !matches!(
            def.col_type,
            strata_protocol::constants::coltype::VAR_STRING
                | strata_protocol::constants::coltype::STRING
                | strata_protocol::constants::coltype::VARCHAR
                | strata_protocol::constants::coltype::BLOB
                | strata_protocol::constants::coltype::TINY_BLOB
                | strata_protocol::constants::coltype::MEDIUM_BLOB
                | strata_protocol::constants::coltype::LONG_BLOB
                | strata_protocol::constants::coltype::GEOMETRY
        );
        return match to {
            Some(t) if t != "binary" && !numeric => Some(MysqlError::not_supported(&format!(
                "SELECT ... INTO OUTFILE of a binary column ('{}') into a {t} file",
                def.name
            ))),
            _ => None,
        };
    }
    let from = strata_mysql::collation::Collation::from_id(def.charset)
        .map(|c| c.charset().name().to_string())
        .unwrap_or_else(|| format!("collation {}", def.charset));
    let same = match to {
        None | Some("binary") => true,
        Some(to) => from == to || from == "ascii" || (from == "utf8mb3" && to == "utf8mb4"),
    };
    if super::outfile_format::unsafe_multibyte(&from) || !same {
        return Some(MysqlError::not_supported(&format!(
            "SELECT ... INTO OUTFILE of a {from} column ('{}'){}",
            def.name,
            to.map(|t| format!(" into a {t} file")).unwrap_or_default()
        )));
    }
    None
}

/// MariaDB's error for a file that cannot be created.
pub(super) fn file_error(path: &Path, e: &std::io::Error) -> MysqlError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        return MysqlError::new(
            (1086, "HY000"),
            format!("File '{}' already exists", path.display()),
        );
    }
    let errno = e.raw_os_error().unwrap_or(0);
    MysqlError::new(
        (1, "HY000"),
        format!(
            "Can't create/write to file '{}' (Errcode: {errno} \"{}\")",
            path.display(),
            os_message(e)
        ),
    )
}

/// The OS's text of an I/O error, without Rust's `(os error N)` suffix.
pub(super) fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_as_mariadb_resolves_them() {
        let base = Path::new("/data");
        assert_eq!(
            file_path(base, Some("test"), "f.txt"),
            Path::new("/data/test/f.txt")
        );
        assert_eq!(file_path(base, None, "f.txt"), Path::new("/data/f.txt"));
        assert_eq!(
            file_path(base, Some("test"), "../f"),
            Path::new("/data/../f")
        );
        assert_eq!(file_path(base, Some("test"), "/tmp/f"), Path::new("/tmp/f"));
    }

    #[test]
    fn escapes_from_the_directory_are_refused() {
        let root = std::env::temp_dir().join(format!("strata-files-{}", std::process::id()));
        let inside = root.join("in");
        std::fs::create_dir_all(&inside).expect("dir");
        let dir = std::fs::canonicalize(&inside).expect("canonical");
        assert!(check_under(&dir, &dir.join("a.txt")).is_ok());
        assert!(check_under(&dir, &dir.join("../a.txt")).is_err());
        assert!(check_under(&dir, &dir.join("x/../../a.txt")).is_err());
        assert!(check_under(&dir, Path::new("/etc/passwd")).is_err());
        let link = dir.join("out");
        let _ = std::os::unix::fs::symlink("/etc/passwd", &link);
        assert!(check_under(&dir, &link).is_err());
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
