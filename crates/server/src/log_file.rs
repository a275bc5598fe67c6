//! An append-only log file that rotates by size: the audit log's and the slow log's.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A log file written line by line. When a line would take it past `rotate_bytes`
/// (0: never), `<path>` becomes `<path>.1`, `.1` becomes `.2`, ... up to `keep` files
/// (0: none kept), and a new file is started.
pub(crate) struct LogFile {
    out: BufWriter<File>,
    path: PathBuf,
    size: u64,
    rotate_bytes: u64,
    keep: u32,
    /// What the file is, for Strata's own log ("audit log", "slow log").
    what: &'static str,
}

/// Opens `path` for appending, creating it and its directory.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

impl LogFile {
    /// Opens `path` for appending (creating it and its directory), buffering up to
    /// `capacity` bytes.
    pub(crate) fn open(
        path: PathBuf,
        rotate_bytes: u64,
        keep: u32,
        capacity: usize,
        what: &'static str,
    ) -> std::io::Result<LogFile> {
        let file = open(&path)?;
        Ok(LogFile {
            size: file.metadata().map(|m| m.len()).unwrap_or(0),
            out: BufWriter::with_capacity(capacity, file),
            path,
            rotate_bytes,
            keep,
            what,
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` (newline included), rotating the file first when the line would
    /// take it past the size limit.
    pub(crate) fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64;
        if self.rotate_bytes > 0 && self.size > 0 && self.size + len > self.rotate_bytes {
            self.rotate();
        }
        self.out.write_all(line)?;
        self.size += len;
        Ok(())
    }

    /// Writes the buffered lines to the file.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    fn rotate(&mut self) {
        // Best effort throughout: a failed flush loses at most what a failed write would,
        // older files may not exist yet, and `open` below reports a real problem.
        let _ = self.out.flush();
        let name = |i: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            PathBuf::from(p)
        };
        if self.keep == 0 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::remove_file(name(self.keep));
            for i in (1..self.keep).rev() {
                let _ = std::fs::rename(name(i), name(i + 1));
            }
            let _ = std::fs::rename(&self.path, name(1));
        }
        match open(&self.path) {
            Ok(file) => {
                self.out = BufWriter::new(file);
                self.size = 0;
            }
            Err(e) => {
                tracing::warn!(error = %e, path = %self.path.display(), "cannot reopen the {}", self.what)
            }
        }
    }
}
