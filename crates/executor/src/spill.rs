//! Spill files: where the operators that would pass the memory budget (the sort, the
//! hash join, hash grouping, DISTINCT) put rows on disk, and the hash partitions of
//! the last three. A statement gets a [`Spill`] naming the directory and
//! its cap; every file it writes is created there and unlinked at once, so it lives only
//! as long as its handle: dropped with the operator when the statement ends, fails, is
//! killed or its client goes away, and gone with the process if it crashes. Only the
//! instant between creating a file and unlinking it leaves a name behind after a crash;
//! [`sweep`] removes such names at start-up.
//!
//! A row goes to disk as its text-protocol payload (what the data node sent, which is
//! what the client will receive) behind a 4-byte length, through a small buffer. The
//! bytes a statement holds on disk count against its cap and the compute node's total;
//! past either the statement fails with 1114 naming the setting. The I/O is synchronous
//! in buffer-sized pieces (page-cache writes), on the session's thread like the rest of
//! the merge.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::error::MergeError;
use crate::memory::{MemoryBudget, Reservation};
use crate::row::Row;

/// Name prefix of spill files (what the start-up sweep removes).
pub const FILE_PREFIX: &str = "strata-spill-";

/// Bytes of each spill file's read or write buffer.
pub const IO_BUFFER: usize = 16 << 10;

/// Disk held by the spill files of every statement of one compute node.
#[derive(Debug, Clone)]
pub struct NodeSpill {
    limit: u64,
    used: Arc<AtomicU64>,
}

impl NodeSpill {
    /// A compute node's total of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            used: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Bytes held on disk now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// Where one statement spills and how much it may hold there.
#[derive(Debug, Clone)]
pub struct Spill {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    cap: u64,
    used: AtomicU64,
    node: Option<NodeSpill>,
}

impl Spill {
    /// A statement's spill into `dir`, at most `cap` bytes on disk at once, counted
    /// also in `node` (the compute node's total) when given.
    pub fn new(dir: impl Into<PathBuf>, cap: u64, node: Option<NodeSpill>) -> Self {
        Self {
            inner: Arc::new(Inner {
                dir: dir.into(),
                cap,
                used: AtomicU64::new(0),
                node,
            }),
        }
    }

    /// Bytes the statement holds on disk now.
    pub fn used(&self) -> u64 {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// A new, empty spill file.
    pub(crate) fn create(&self) -> Result<SpillWriter, MergeError> {
        let named = tempfile::Builder::new()
            .prefix(FILE_PREFIX)
            .tempfile_in(&self.inner.dir)
            .map_err(|e| io_error("creating a spill file in", &self.inner.dir, &e))?;
        // Unlinked at once: the file lives as long as its handle, whatever happens.
        let file = named.into_file();
        Ok(SpillWriter {
            out: BufWriter::with_capacity(IO_BUFFER, file),
            charge: Charge {
                spill: self.clone(),
                bytes: 0,
            },
            rows: 0,
        })
    }

    fn take(&self, bytes: u64) -> Result<(), MergeError> {
        let cap = self.inner.cap;
        self.inner
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= cap)
            })
            .map_err(|_| MergeError::SpillCapExceeded {
                cap,
                setting: "merge.spill_cap",
            })?;
        if let Some(node) = &self.inner.node {
            let limit = node.limit;
            let taken = node
                .used
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                    used.checked_add(bytes).filter(|total| *total <= limit)
                });
            if taken.is_err() {
                self.inner.used.fetch_sub(bytes, Ordering::Relaxed);
                return Err(MergeError::SpillCapExceeded {
                    cap: limit,
                    setting: "merge.spill_node_cap",
                });
            }
        }
        Ok(())
    }

    fn give_back(&self, bytes: u64) {
        self.inner.used.fetch_sub(bytes, Ordering::Relaxed);
        if let Some(node) = &self.inner.node {
            node.used.fetch_sub(bytes, Ordering::Relaxed);
        }
    }
}

/// Bytes one file holds against its statement's cap; given back when dropped.
#[derive(Debug)]
struct Charge {
    spill: Spill,
    bytes: u64,
}

impl Charge {
    fn grow(&mut self, bytes: u64) -> Result<(), MergeError> {
        self.spill.take(bytes)?;
        self.bytes += bytes;
        Ok(())
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.spill.give_back(self.bytes);
    }
}

/// A spill file being written: rows appended in order.
#[derive(Debug)]
pub(crate) struct SpillWriter {
    out: BufWriter<File>,
    charge: Charge,
    rows: u64,
}

impl SpillWriter {
    /// Appends a row.
    pub fn write(&mut self, row: &Row) -> Result<(), MergeError> {
        let payload = row.payload();
        let len = u32::try_from(payload.len())
            .map_err(|_| MergeError::Unsupported("spilling a row larger than 4 GiB".into()))?;
        self.charge.grow(4 + u64::from(len))?;
        let dir = &self.charge.spill.inner.dir;
        self.out
            .write_all(&len.to_le_bytes())
            .and_then(|()| self.out.write_all(payload))
            .map_err(|e| io_error("writing a spill file in", dir, &e))?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The file, written, ready to read from its start; rows have `columns` values.
    pub fn finish(self, columns: usize) -> Result<SpillReader, MergeError> {
        let SpillWriter { out, charge, rows } = self;
        let dir = charge.spill.inner.dir.clone();
        let mut file = out
            .into_inner()
            .map_err(|e| io_error("writing a spill file in", &dir, e.error()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| io_error("reading a spill file in", &dir, &e))?;
        Ok(SpillReader {
            file: Some(file),
            input: None,
            columns,
            left: rows,
            charge,
        })
    }
}

/// A written spill file, read from its start. Its read buffer is allocated at the
/// first read (a grace join keeps many partitions waiting).
#[derive(Debug)]
pub(crate) struct SpillReader {
    file: Option<File>,
    input: Option<BufReader<File>>,
    columns: usize,
    left: u64,
    charge: Charge,
}

impl SpillReader {
    /// Rows not read yet.
    pub fn rows_left(&self) -> u64 {
        self.left
    }

    fn input(&mut self) -> Result<&mut BufReader<File>, MergeError> {
        if let Some(file) = self.file.take() {
            self.input = Some(BufReader::with_capacity(IO_BUFFER, file));
        }
        self.input
            .as_mut()
            .ok_or_else(|| MergeError::SpillIo("a spill file without its handle".into()))
    }

    /// The next row; None after the last.
    pub fn next_row(&mut self) -> Result<Option<Row>, MergeError> {
        if self.left == 0 {
            return Ok(None);
        }
        let dir = self.charge.spill.inner.dir.clone();
        let input = self.input()?;
        let mut len = [0u8; 4];
        input
            .read_exact(&mut len)
            .map_err(|e| io_error("reading a spill file in", &dir, &e))?;
        let mut payload = vec![0u8; u32::from_le_bytes(len) as usize];
        input
            .read_exact(&mut payload)
            .map_err(|e| io_error("reading a spill file in", &dir, &e))?;
        self.left -= 1;
        Row::decode(Bytes::from(payload), self.columns)
            .map(Some)
            .map_err(|detail| {
                MergeError::SpillIo(format!("a spill file holds a bad row: {detail}"))
            })
    }
}

/// Times a partition may be split again (by the grace join, a spilled grouping or
/// DISTINCT): past that one key holds more than the budget and the statement fails.
pub(crate) const MAX_DEPTH: usize = 3;

/// Partitions of one split under a budget of `limit` bytes: as many write buffers as a
/// quarter of the budget holds, 2 to 16.
fn partition_count(limit: usize) -> usize {
    (limit / 4 / IO_BUFFER).clamp(2, 16)
}

/// Rows split into spill files by a hash of a key (a join key, a group key, a DISTINCT
/// row's key): canonical keys, so values equal under their collation land together.
#[derive(Debug)]
pub(crate) struct Partitions {
    hasher: RandomState,
    files: Vec<SpillWriter>,
    /// The write buffers.
    _memory: Reservation,
}

impl Partitions {
    /// Empty partitions whose write buffers are charged to `budget`; a new `hasher`
    /// for each split, so a partition split again spreads its keys.
    pub fn new(
        spill: &Spill,
        hasher: RandomState,
        budget: &MemoryBudget,
    ) -> Result<Self, MergeError> {
        let count = partition_count(budget.limit());
        let mut memory = budget.reservation();
        memory.grow(count * IO_BUFFER)?;
        let files = (0..count)
            .map(|_| spill.create())
            .collect::<Result<_, _>>()?;
        Ok(Partitions {
            hasher,
            files,
            _memory: memory,
        })
    }

    /// The hash that chooses a row's partition.
    pub fn hasher(&self) -> &RandomState {
        &self.hasher
    }

    /// Adds a row by its key; a NULL join key (None) matches nothing and may go anywhere.
    pub fn add(&mut self, key: Option<&[u8]>, row: &Row) -> Result<(), MergeError> {
        let part = key.map_or(0, |k| self.hasher.hash_one(k) as usize % self.files.len());
        match self.files.get_mut(part) {
            Some(file) => file.write(row),
            None => Err(MergeError::Misuse("a spill partition out of range".into())),
        }
    }

    /// The partitions written, each ready to read; rows have `columns` values.
    pub fn finish(self, columns: usize) -> Result<Vec<SpillReader>, MergeError> {
        self.files.into_iter().map(|f| f.finish(columns)).collect()
    }
}

/// A row as a spilled grouping or DISTINCT writes it to a partition: a tag saying what
/// the row is to the operator and the row itself (None: the tag is all there is).
pub(crate) fn tagged(tag: Option<&[u8]>, row: Option<&Row>) -> Row {
    Row::from_values([tag, row.map(|r| &r.payload()[..])])
}

/// Splits a row written by [`tagged`] (read with 2 columns) into its tag and its row of
/// `columns` values.
pub(crate) fn untag(row: &Row, columns: usize) -> Result<(Option<Bytes>, Option<Row>), MergeError> {
    let payload = row.payload();
    let tag = row.value(0).map(|t| payload.slice_ref(t));
    let inner = match row.value(1) {
        Some(r) => Some(
            Row::decode(payload.slice_ref(r), columns).map_err(|detail| {
                MergeError::SpillIo(format!("a spill file holds a bad row: {detail}"))
            })?,
        ),
        None => None,
    };
    Ok((tag, inner))
}

fn io_error(what: &str, dir: &Path, e: &std::io::Error) -> MergeError {
    tracing::warn!(dir = %dir.display(), error = %e, "{what} the spill directory failed");
    MergeError::SpillIo(format!("{what} {}: {e}", dir.display()))
}

/// Makes `dir` ready for spill files at start-up: creates it, removes spill files a
/// crashed process left (only names with [`FILE_PREFIX`]), and checks that a file can
/// be written there. `Err` says what is wrong, for the start-up error.
pub fn prepare_dir(dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let swept = sweep(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let probe = Spill::new(dir, u64::MAX, None);
    let mut file = probe
        .create()
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    file.write(&Row::from_values([Some(&b"probe"[..])]))
        .and_then(|()| file.finish(1).map(drop))
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    Ok(swept)
}

/// Removes the spill files left in `dir` (by a crash between creating and unlinking
/// one); returns how many.
pub fn sweep(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let is_spill = entry.file_name().to_string_lossy().starts_with(FILE_PREFIX);
        if is_spill && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &str, b: Option<&str>) -> Row {
        Row::from_values([Some(a.as_bytes()), b.map(str::as_bytes)])
    }

    #[test]
    fn rows_come_back_as_written_and_files_leave_no_name() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 1 << 20, None);
        let mut w = spill.create().unwrap();
        let rows: Vec<Row> = (0..1000)
            .map(|i| row(&"x".repeat(i % 300), (i % 3 != 0).then_some("v")))
            .collect();
        for r in &rows {
            w.write(r).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut r = w.finish(2).unwrap();
        assert!(spill.used() > 0);
        let mut back = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            back.push(row);
        }
        assert_eq!(back, rows);
        drop(r);
        assert_eq!(spill.used(), 0, "a dropped file gives its bytes back");
    }

    #[test]
    fn the_cap_and_the_node_total_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path(), 100, None);
        let mut w = spill.create().unwrap();
        let big = row(&"y".repeat(90), None);
        w.write(&big).unwrap();
        assert_eq!(
            w.write(&big),
            Err(MergeError::SpillCapExceeded {
                cap: 100,
                setting: "merge.spill_cap"
            })
        );
        let node = NodeSpill::new(150);
        let a = Spill::new(dir.path(), 1000, Some(node.clone()));
        let b = Spill::new(dir.path(), 1000, Some(node.clone()));
        let mut wa = a.create().unwrap();
        wa.write(&big).unwrap();
        let mut wb = b.create().unwrap();
        assert_eq!(
            wb.write(&big),
            Err(MergeError::SpillCapExceeded {
                cap: 150,
                setting: "merge.spill_node_cap"
            })
        );
        assert_eq!(b.used(), 0, "a refused write holds nothing");
        drop(wa);
        wb.write(&big).unwrap();
        assert_eq!(node.used(), 96);
    }

    #[test]
    fn preparing_a_directory_sweeps_leftovers_only() {
        let dir = tempfile::tempdir().unwrap();
        let spill_dir = dir.path().join("tmp");
        std::fs::create_dir(&spill_dir).unwrap();
        std::fs::write(spill_dir.join("strata-spill-abc"), b"old").unwrap();
        std::fs::write(spill_dir.join("keep.txt"), b"mine").unwrap();
        assert_eq!(prepare_dir(&spill_dir), Ok(1));
        let left: Vec<_> = std::fs::read_dir(&spill_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("keep.txt")]);
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(prepare_dir(&file).is_err(), "a file is not a directory");
    }
}
