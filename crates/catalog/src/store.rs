//! The embedded metadata store: one redb file, `<data_dir>/metadata.redb`, holding what
//! the compute node learns at runtime and must not forget: logical databases created
//! through SQL, table metadata, and counters that hand out batches of values (the global
//! AUTO_INCREMENT). Every write is one redb transaction, committed durably before the
//! method returns.
//!
//! Records are encoded as one format-version byte followed by TOML text, so a newer
//! Strata can read old records and an older one refuses newer records instead of
//! misreading them.

use std::ops::Range;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::CatalogError;

/// Logical database name -> encoded [`DatabaseMeta`].
const DATABASES: TableDefinition<&str, &[u8]> = TableDefinition::new("databases");
/// (logical database, table) -> encoded [`TableMeta`].
const TABLES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("tables");
/// Counter name -> the next value not yet handed out.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Format version written in front of every record.
const RECORD_VERSION: u8 = 1;

/// File name of the store inside the data directory.
pub const METADATA_FILE: &str = "metadata.redb";

/// A logical database created at runtime (`CREATE DATABASE ... DEFAULT DATANODE ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseMeta {
    /// DNIDs the database spans.
    pub data_nodes: Vec<u32>,
    /// DNIDs for tables without a distribution clause; None means all of `data_nodes`.
    #[serde(default)]
    pub default_data_nodes: Option<Vec<u32>>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
}

/// How a table's rows are placed (placeholder until sharding rules land).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// All rows on one data node.
    Vertical,
    /// A full copy on every data node of the table.
    Global,
    /// Rows spread over the data nodes by a sharding function.
    Sharded,
}

/// What the compute node knows about one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Placement kind.
    pub kind: TableKind,
    /// DNIDs holding the table.
    pub data_nodes: Vec<u32>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
}

/// Milliseconds since the Unix epoch, for `created_at_ms` fields.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The redb-backed metadata store; cheap to share (`&self` methods, Send + Sync).
pub struct MetadataStore {
    db: Database,
}

impl std::fmt::Debug for MetadataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataStore").finish_non_exhaustive()
    }
}

impl MetadataStore {
    /// Opens `<data_dir>/metadata.redb`, creating the directory, file and tables as needed.
    pub fn open(data_dir: &Path) -> Result<MetadataStore, CatalogError> {
        std::fs::create_dir_all(data_dir).map_err(|source| CatalogError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(METADATA_FILE);
        let db = Database::create(&path)?;
        let txn = db.begin_write()?;
        txn.open_table(DATABASES)?;
        txn.open_table(TABLES)?;
        txn.open_table(COUNTERS)?;
        txn.commit()?;
        tracing::debug!(path = %path.display(), "metadata store open");
        Ok(MetadataStore { db })
    }

    /// Creates or replaces a logical database record.
    pub fn put_database(&self, name: &str, meta: &DatabaseMeta) -> Result<(), CatalogError> {
        let value = encode(meta)?;
        let txn = self.db.begin_write()?;
        txn.open_table(DATABASES)?.insert(name, value.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Removes a logical database and all its table records; false if it was not there.
    pub fn drop_database(&self, name: &str) -> Result<bool, CatalogError> {
        let txn = self.db.begin_write()?;
        let existed = {
            let existed = txn.open_table(DATABASES)?.remove(name)?.is_some();
            let mut tables = txn.open_table(TABLES)?;
            let keys = table_names_in(&tables, name)?;
            for table in &keys {
                tables.remove((name, table.as_str()))?;
            }
            existed
        };
        txn.commit()?;
        Ok(existed)
    }

    /// One logical database record.
    pub fn database(&self, name: &str) -> Result<Option<DatabaseMeta>, CatalogError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(DATABASES)?;
        let found = table.get(name)?;
        found.map(|v| decode(v.value(), name)).transpose()
    }

    /// All logical database records, by name.
    pub fn list_databases(&self) -> Result<Vec<(String, DatabaseMeta)>, CatalogError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(DATABASES)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let name = k.value().to_string();
            let meta = decode(v.value(), &name)?;
            out.push((name, meta));
        }
        Ok(out)
    }

    /// Creates or replaces a table record.
    pub fn put_table(&self, db: &str, table: &str, meta: &TableMeta) -> Result<(), CatalogError> {
        let value = encode(meta)?;
        let txn = self.db.begin_write()?;
        txn.open_table(TABLES)?
            .insert((db, table), value.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Removes a table record; false if it was not there.
    pub fn drop_table(&self, db: &str, table: &str) -> Result<bool, CatalogError> {
        let txn = self.db.begin_write()?;
        let existed = txn.open_table(TABLES)?.remove((db, table))?.is_some();
        txn.commit()?;
        Ok(existed)
    }

    /// One table record.
    pub fn table(&self, db: &str, table: &str) -> Result<Option<TableMeta>, CatalogError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        let found = tables.get((db, table))?;
        found
            .map(|v| decode(v.value(), &format!("{db}.{table}")))
            .transpose()
    }

    /// The table records of one logical database, by table name.
    pub fn list_tables(&self, db: &str) -> Result<Vec<(String, TableMeta)>, CatalogError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        let mut out = Vec::new();
        for entry in tables.range((db, "")..)? {
            let (k, v) = entry?;
            let (key_db, name) = k.value();
            if key_db != db {
                break;
            }
            let meta = decode(v.value(), &format!("{db}.{name}"))?;
            out.push((name.to_string(), meta));
        }
        Ok(out)
    }

    /// Durably reserves `n` consecutive values of counter `name` (counters start at 1).
    /// The reservation is committed before it is returned, so no value is handed out twice,
    /// even across crashes; values of a batch not used before a crash are skipped.
    pub fn reserve_batch(&self, name: &str, n: u64) -> Result<Range<u64>, CatalogError> {
        let txn = self.db.begin_write()?;
        let range = {
            let mut counters = txn.open_table(COUNTERS)?;
            let start = counters.get(name)?.map_or(1, |v| v.value());
            let end = start
                .checked_add(n)
                .ok_or_else(|| CatalogError::CounterExhausted(name.to_string()))?;
            if n > 0 {
                counters.insert(name, end)?;
            }
            start..end
        };
        txn.commit()?;
        Ok(range)
    }
}

/// Table names of one database, read inside a write transaction.
fn table_names_in(
    tables: &redb::Table<'_, (&str, &str), &[u8]>,
    db: &str,
) -> Result<Vec<String>, CatalogError> {
    let mut names = Vec::new();
    for entry in tables.range((db, "")..)? {
        let (k, _) = entry?;
        let (key_db, name) = k.value();
        if key_db != db {
            break;
        }
        names.push(name.to_string());
    }
    Ok(names)
}

fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, CatalogError> {
    let text = toml::to_string(record)?;
    let mut out = Vec::with_capacity(1 + text.len());
    out.push(RECORD_VERSION);
    out.extend_from_slice(text.as_bytes());
    Ok(out)
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, CatalogError> {
    let fail = |reason: String| CatalogError::Decode {
        what: what.to_string(),
        reason,
    };
    match bytes.split_first() {
        Some((&RECORD_VERSION, body)) => {
            let text = std::str::from_utf8(body).map_err(|e| fail(e.to_string()))?;
            toml::from_str(text).map_err(|e| fail(e.to_string()))
        }
        Some((v, _)) => Err(fail(format!("record format version {v} is not supported"))),
        None => Err(fail("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    fn open(dir: &Path) -> MetadataStore {
        MetadataStore::open(dir).unwrap_or_else(|e| panic!("open: {e}"))
    }

    fn db_meta(nodes: &[u32]) -> DatabaseMeta {
        DatabaseMeta {
            data_nodes: nodes.to_vec(),
            default_data_nodes: None,
            created_at_ms: 1_700_000_000_000,
        }
    }

    fn table_meta(kind: TableKind, nodes: &[u32]) -> TableMeta {
        TableMeta {
            kind,
            data_nodes: nodes.to_vec(),
            created_at_ms: 1_700_000_000_001,
        }
    }

    #[test]
    fn records_survive_reopen() -> Result<(), CatalogError> {
        let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
        {
            let store = open(dir.path());
            let mut shop = db_meta(&[1, 2]);
            shop.default_data_nodes = Some(vec![2]);
            store.put_database("shop", &shop)?;
            store.put_database("crm", &db_meta(&[3]))?;
            store.put_table("shop", "orders", &table_meta(TableKind::Sharded, &[1, 2]))?;
            store.put_table("shop", "customers", &table_meta(TableKind::Global, &[1, 2]))?;
            store.put_table("crm", "leads", &table_meta(TableKind::Vertical, &[3]))?;
        }
        let store = open(dir.path());
        let dbs = store.list_databases()?;
        let names: Vec<_> = dbs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["crm", "shop"]);
        assert_eq!(dbs[1].1.default_data_nodes, Some(vec![2]));
        assert_eq!(store.database("crm")?, Some(db_meta(&[3])));
        let tables = store.list_tables("shop")?;
        assert_eq!(
            tables,
            [
                (
                    "customers".to_string(),
                    table_meta(TableKind::Global, &[1, 2])
                ),
                (
                    "orders".to_string(),
                    table_meta(TableKind::Sharded, &[1, 2])
                ),
            ]
        );
        assert_eq!(
            store.table("crm", "leads")?,
            Some(table_meta(TableKind::Vertical, &[3]))
        );
        assert_eq!(store.table("crm", "nope")?, None);
        Ok(())
    }

    #[test]
    fn list_tables_is_limited_to_its_database() -> Result<(), CatalogError> {
        let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
        let store = open(dir.path());
        for (db, table) in [("a", "t"), ("ab", "t"), ("b", "t"), ("a", "u"), ("", "x")] {
            store.put_table(db, table, &table_meta(TableKind::Vertical, &[1]))?;
        }
        let names = |db| -> Result<Vec<String>, CatalogError> {
            Ok(store.list_tables(db)?.into_iter().map(|(n, _)| n).collect())
        };
        assert_eq!(names("a")?, ["t", "u"]);
        assert_eq!(names("ab")?, ["t"]);
        assert_eq!(names("")?, ["x"]);
        assert!(names("c")?.is_empty());
        Ok(())
    }

    #[test]
    fn drops_remove_records_and_report_whether_they_existed() -> Result<(), CatalogError> {
        let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
        let store = open(dir.path());
        store.put_database("shop", &db_meta(&[1]))?;
        store.put_database("shop2", &db_meta(&[2]))?;
        store.put_table("shop", "a", &table_meta(TableKind::Vertical, &[1]))?;
        store.put_table("shop", "b", &table_meta(TableKind::Vertical, &[1]))?;
        store.put_table("shop2", "a", &table_meta(TableKind::Vertical, &[2]))?;
        assert!(store.drop_table("shop", "a")?);
        assert!(!store.drop_table("shop", "a")?);
        assert!(store.drop_database("shop")?);
        assert!(!store.drop_database("shop")?);
        assert!(store.list_tables("shop")?.is_empty());
        assert_eq!(store.list_tables("shop2")?.len(), 1);
        assert_eq!(store.list_databases()?.len(), 1);
        Ok(())
    }

    #[test]
    fn reserve_batch_hands_out_consecutive_ranges_that_never_repeat_across_reopen(
    ) -> Result<(), CatalogError> {
        let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
        {
            let store = open(dir.path());
            assert_eq!(store.reserve_batch("shop.orders", 100)?, 1..101);
            assert_eq!(store.reserve_batch("shop.orders", 10)?, 101..111);
            assert_eq!(store.reserve_batch("other", 5)?, 1..6);
            assert_eq!(store.reserve_batch("other", 0)?, 6..6);
        }
        // Reopening is what a crash looks like: unused values of a batch are skipped.
        let store = open(dir.path());
        assert_eq!(store.reserve_batch("shop.orders", 1)?, 111..112);
        assert_eq!(store.reserve_batch("other", 1)?, 6..7);
        Ok(())
    }

    #[test]
    fn concurrent_reservations_are_disjoint() -> Result<(), CatalogError> {
        let dir = tempfile::tempdir().map_err(|e| CatalogError::Invalid(e.to_string()))?;
        let store = Arc::new(open(dir.path()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || -> Result<Vec<Range<u64>>, CatalogError> {
                    (0..25).map(|_| store.reserve_batch("seq", 7)).collect()
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for t in threads {
            let ranges = t
                .join()
                .map_err(|_| CatalogError::Invalid("thread panicked".into()))??;
            for value in ranges.into_iter().flatten() {
                assert!(seen.insert(value), "value {value} handed out twice");
            }
        }
        assert_eq!(seen.len(), 4 * 25 * 7);
        assert_eq!(seen.iter().max(), Some(&(4 * 25 * 7)));
        Ok(())
    }

    #[test]
    fn records_of_an_unknown_format_version_are_refused() {
        let bytes = [9u8, b'x'];
        let err = decode::<TableMeta>(&bytes, "shop.t")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("metadata store: cannot decode shop.t: record format version 9 is not supported")
        );
        assert!(decode::<TableMeta>(&[], "x").is_err());
        assert!(decode::<TableMeta>(&[1, b'=', b'='], "x").is_err());
    }
}
