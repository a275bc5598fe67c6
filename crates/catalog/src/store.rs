//! The embedded metadata store: one redb file, `<data_dir>/metadata.redb`, holding what
//! the compute node learns at runtime and must not forget: logical databases created
//! through SQL, table metadata, accounts and their privileges (`crate::accounts`), and
//! counters that hand out batches of values (the global
//! AUTO_INCREMENT). Every write is one redb transaction, committed durably before the
//! method returns.
//!
//! Records are encoded as one format-version byte followed by TOML text, so a newer
//! Strata can read old records and an older one refuses newer records instead of
//! misreading them. Version 2 table records hold the full distribution (sharding rule
//! in its text form, key type as a column definition) and the global AUTO_INCREMENT
//! column; version 1 records of vertical and global tables still decode.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::RwSplit;
use crate::error::CatalogError;
use crate::sharding::{Distribution, KeyLiteral, KeyType, ShardingRule};
use crate::table::TableInfo;
use crate::unique_keys::UniqueKey;
use crate::view::ViewInfo;
use crate::DataNodeId;

/// Logical database name -> encoded [`DatabaseMeta`].
const DATABASES: TableDefinition<&str, &[u8]> = TableDefinition::new("databases");
/// (logical database, table) -> encoded [`TableRecord`].
const TABLES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("tables");
/// Counter name -> the next value not yet handed out.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Format version written in front of every record (2: table records with distributions).
const RECORD_VERSION: u8 = 2;

/// Oldest format version still read.
const OLDEST_RECORD_VERSION: u8 = 1;

/// File name of the store inside the data directory.
pub const METADATA_FILE: &str = "metadata.redb";

/// A logical database created at runtime (`CREATE DATABASE ... DEFAULT DATANODE ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseMeta {
    /// DNIDs the database spans.
    pub data_nodes: Vec<DataNodeId>,
    /// DNIDs for tables without a distribution clause; None means all of `data_nodes`.
    #[serde(default)]
    pub default_data_nodes: Option<Vec<DataNodeId>>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// The database's own physical database on each of its data nodes (CREATE DATABASE
    /// through SQL); None: the data nodes' configured databases, which it then owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical: Option<String>,
    /// Where its reads outside transactions go (`RW_SPLIT '...'`).
    #[serde(default, skip_serializing_if = "RwSplit::is_off")]
    pub rw_split: RwSplit,
}

/// How a table's rows are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// All rows on one data node.
    Vertical,
    /// A full copy on every data node of the table.
    Global,
    /// Rows spread over the data nodes by a sharding function.
    Sharded,
    /// Rows live on the data node of their parent row.
    Child,
}

/// The stored form of a [`TableInfo`]: flat TOML, the rule as its text spec. Its layout
/// is the format on disk, so it changes only with care for records already written.
#[derive(Debug, Serialize, Deserialize)]
struct TableRecord {
    kind: TableKind,
    /// Vertical: the node; global: all nodes; sharded: the rule's nodes, in order.
    #[serde(default)]
    data_nodes: Vec<DataNodeId>,
    created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auto_increment_column: Option<String>,
    /// Sharded: column, key type (a column definition), rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_type: Option<String>,
    /// True when `key_type` carries the column's width (integer size, DECIMAL
    /// precision, length); records written before widths were kept lack it, and their
    /// key types are read with the width unknown.
    #[serde(default, skip_serializing_if = "is_false")]
    key_type_sized: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    null_route: Option<DataNodeId>,
    /// Child: parent table and columns (`column` is the child's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_column: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    now_default_columns: Vec<String>,
    /// The sharding column's DEFAULT, as `encode_literal` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard_key_default: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    other_collation_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    sequence: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    table_collation: Option<String>,
    /// After the plain values: TOML writes tables after them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    column_collations: Option<BTreeMap<String, String>>,
    /// Last: TOML writes arrays of tables after plain values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unique_keys: Option<Vec<UniqueKey>>,
}

impl TableRecord {
    fn from_table(table: &TableInfo) -> TableRecord {
        let mut record = TableRecord {
            kind: table.kind(),
            data_nodes: Vec::new(),
            created_at_ms: table.created_at_ms,
            auto_increment_column: table.auto_increment_column.clone(),
            columns: table.columns.clone(),
            now_default_columns: table.now_default_columns.clone(),
            shard_key_default: table.shard_key_default.as_ref().map(encode_literal),
            other_collation_columns: table.other_collation_columns.clone(),
            column_collations: table.column_collations.clone(),
            table_collation: table.table_collation.clone(),
            unique_keys: table.unique_keys.clone(),
            sequence: table.sequence,
            column: None,
            key_type: None,
            key_type_sized: false,
            rule_name: None,
            function: None,
            params: None,
            null_route: None,
            parent: None,
            parent_column: None,
        };
        match &table.distribution {
            Distribution::Vertical { dnid } => record.data_nodes = vec![*dnid],
            Distribution::Global { data_nodes } => record.data_nodes = data_nodes.clone(),
            Distribution::Sharded {
                column,
                key_type,
                rule,
            } => {
                record.data_nodes = rule.data_nodes.clone();
                record.column = Some(column.clone());
                record.key_type = Some(key_type.to_column_definition());
                record.key_type_sized = key_type.has_width();
                record.rule_name = rule.name.clone();
                record.function = Some(rule.function.type_name().to_string());
                record.params = Some(rule.function.to_spec());
                record.null_route = rule.null_route;
            }
            Distribution::Child {
                parent,
                parent_column,
                column,
            } => {
                record.parent = Some(parent.clone());
                record.parent_column = Some(parent_column.clone());
                record.column = Some(column.clone());
            }
        }
        record
    }

    /// The table (its `data_nodes` from the distribution: the catalog resolves a child
    /// table's from its parent).
    fn into_table(self) -> Result<TableInfo, String> {
        let missing = |field: &str| format!("{:?} table record has no {field}", self.kind);
        let distribution = match self.kind {
            TableKind::Vertical => Distribution::Vertical {
                dnid: *self
                    .data_nodes
                    .first()
                    .ok_or_else(|| missing("data node"))?,
            },
            TableKind::Global => Distribution::Global {
                data_nodes: self.data_nodes.clone(),
            },
            TableKind::Sharded => {
                let column = self
                    .column
                    .clone()
                    .ok_or_else(|| missing("sharding column"))?;
                let key_type_text = self
                    .key_type
                    .as_deref()
                    .ok_or_else(|| missing("key type"))?;
                let key_type = KeyType::from_column_definition(key_type_text, None, None)
                    .map_err(|e| e.to_string())?;
                let key_type = if self.key_type_sized {
                    key_type
                } else {
                    key_type.without_width()
                };
                let function = self
                    .function
                    .as_deref()
                    .ok_or_else(|| missing("sharding rule (written before rules were stored)"))?;
                let params = self.params.as_deref().unwrap_or("");
                let mut rule = ShardingRule::from_spec(
                    function,
                    params,
                    self.data_nodes.clone(),
                    self.null_route,
                )
                .map_err(|e| e.to_string())?;
                rule.name = self.rule_name.clone();
                Distribution::Sharded {
                    column,
                    key_type,
                    rule,
                }
            }
            TableKind::Child => Distribution::Child {
                parent: self.parent.clone().ok_or_else(|| missing("parent"))?,
                parent_column: self
                    .parent_column
                    .clone()
                    .ok_or_else(|| missing("parent column"))?,
                column: self.column.clone().ok_or_else(|| missing("column"))?,
            },
        };
        Ok(TableInfo {
            data_nodes: distribution.data_nodes().unwrap_or_default(),
            distribution,
            auto_increment_column: self.auto_increment_column,
            created_at_ms: self.created_at_ms,
            columns: self.columns,
            now_default_columns: self.now_default_columns,
            shard_key_default: match &self.shard_key_default {
                Some(text) => Some(decode_literal(text)?),
                None => None,
            },
            other_collation_columns: self.other_collation_columns,
            column_collations: self.column_collations,
            table_collation: self.table_collation,
            unique_keys: self.unique_keys,
            sequence: self.sequence,
        })
    }
}

/// For `skip_serializing_if`: a record says `sequence = true` only for sequences.
fn is_false(b: &bool) -> bool {
    !b
}

/// A key literal as stored: `null`, `int:<text>`, `num:<text>`, `str:<hex>`, `bytes:<hex>`.
fn encode_literal(l: &KeyLiteral) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    match l {
        KeyLiteral::Null => "null".into(),
        KeyLiteral::Integer(t) => format!("int:{t}"),
        KeyLiteral::Number(t) => format!("num:{t}"),
        KeyLiteral::String(b) => format!("str:{}", hex(b)),
        KeyLiteral::Bytes(b) => format!("bytes:{}", hex(b)),
    }
}

fn decode_literal(text: &str) -> Result<KeyLiteral, String> {
    let unhex = |h: &str| -> Result<Vec<u8>, String> {
        if !h.len().is_multiple_of(2) {
            return Err(format!("bad stored literal {text}"));
        }
        (0..h.len())
            .step_by(2)
            .map(|i| {
                h.get(i..i + 2)
                    .and_then(|x| u8::from_str_radix(x, 16).ok())
                    .ok_or_else(|| format!("bad stored literal {text}"))
            })
            .collect()
    };
    match text.split_once(':') {
        None if text == "null" => Ok(KeyLiteral::Null),
        Some(("int", t)) => Ok(KeyLiteral::Integer(t.to_string())),
        Some(("num", t)) => Ok(KeyLiteral::Number(t.to_string())),
        Some(("str", h)) => Ok(KeyLiteral::String(unhex(h)?)),
        Some(("bytes", h)) => Ok(KeyLiteral::Bytes(unhex(h)?)),
        _ => Err(format!("bad stored literal {text}")),
    }
}

/// Milliseconds since the Unix epoch, for `created_at_ms` fields.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The redb-backed metadata store; cheap to share (`&self` methods, Send + Sync).
pub struct RedbStore {
    db: Database,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens `<data_dir>/metadata.redb`, creating the directory, file and tables as needed.
    pub fn open(data_dir: &Path) -> Result<RedbStore, CatalogError> {
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
        txn.open_table(crate::accounts::ACCOUNTS)?;
        txn.open_table(crate::definers::DEFINERS)?;
        txn.commit()?;
        tracing::debug!(path = %path.display(), "metadata store open");
        Ok(RedbStore { db })
    }

    /// The redb database (for the other record kinds of this crate).
    pub(crate) fn db(&self) -> &Database {
        &self.db
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
    pub fn put_table(&self, db: &str, table: &str, info: &TableInfo) -> Result<(), CatalogError> {
        let value = encode(&TableRecord::from_table(info))?;
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
    pub fn table(&self, db: &str, table: &str) -> Result<Option<TableInfo>, CatalogError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        let found = tables.get((db, table))?;
        match found {
            Some(v) => Ok(decode_entry(v.value(), &format!("{db}.{table}"))?.into_table()),
            None => Ok(None),
        }
    }

    /// The table records of one logical database, by table name.
    pub fn list_tables(&self, db: &str) -> Result<Vec<(String, TableInfo)>, CatalogError> {
        Ok(only_tables(self.list_entries(db)?))
    }

    /// The view records of one logical database, by view name.
    pub fn list_views(&self, db: &str) -> Result<Vec<(String, ViewInfo)>, CatalogError> {
        Ok(only_views(self.list_entries(db)?))
    }

    /// Creates or replaces a view record (in the tables' namespace).
    pub fn put_view(&self, db: &str, name: &str, view: &ViewInfo) -> Result<(), CatalogError> {
        let value = encode_view(view)?;
        let txn = self.db.begin_write()?;
        txn.open_table(TABLES)?
            .insert((db, name), value.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Every table and view record of one logical database, by name.
    fn list_entries(&self, db: &str) -> Result<Vec<(String, StoredEntry)>, CatalogError> {
        let txn = self.db.begin_read()?;
        let tables = txn.open_table(TABLES)?;
        let mut out = Vec::new();
        for entry in tables.range((db, "")..)? {
            let (k, v) = entry?;
            let (key_db, name) = k.value();
            if key_db != db {
                break;
            }
            let meta = decode_entry(v.value(), &format!("{db}.{name}"))?;
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

    /// Durably moves counter `name` to at least `at_least` (the next value it hands
    /// out); returns the counter's next value afterwards.
    pub fn raise_counter(&self, name: &str, at_least: u64) -> Result<u64, CatalogError> {
        let txn = self.db.begin_write()?;
        let next = {
            let mut counters = txn.open_table(COUNTERS)?;
            let current = counters.get(name)?.map_or(1, |v| v.value());
            let next = current.max(at_least);
            if next != current {
                counters.insert(name, next)?;
            }
            next
        };
        txn.commit()?;
        Ok(next)
    }

    /// The next value counter `name` would hand out (None if it never handed out one).
    pub fn counter(&self, name: &str) -> Result<Option<u64>, CatalogError> {
        let txn = self.db.begin_read()?;
        let counters = txn.open_table(COUNTERS)?;
        let found = counters.get(name)?.map(|v| v.value());
        Ok(found)
    }

    /// Removes counter `name` (it starts again at 1); false if it was not there.
    pub fn remove_counter(&self, name: &str) -> Result<bool, CatalogError> {
        let txn = self.db.begin_write()?;
        let existed = txn.open_table(COUNTERS)?.remove(name)?.is_some();
        txn.commit()?;
        Ok(existed)
    }

    /// Renames a table record in one transaction: removes `old`, writes `meta` as `new`,
    /// rewrites the `rewritten` records of the same database (children naming the
    /// table), and moves counter `counter.0` to `counter.1` (the moved counter keeps the
    /// larger of both values). False if `old` was not there; an error if `new` is.
    pub fn rename_table(
        &self,
        db: &str,
        old: &str,
        new: &str,
        meta: &TableInfo,
        rewritten: &[(&str, &TableInfo)],
        counter: Option<(&str, &str)>,
    ) -> Result<bool, CatalogError> {
        let txn = self.db.begin_write()?;
        {
            let mut tables = txn.open_table(TABLES)?;
            if tables.get((db, new))?.is_some() {
                return Err(CatalogError::Invalid(format!(
                    "Table '{new}' already exists"
                )));
            }
            if tables.remove((db, old))?.is_none() {
                return Ok(false);
            }
            let value = encode(&TableRecord::from_table(meta))?;
            tables.insert((db, new), value.as_slice())?;
            for (name, meta) in rewritten {
                let value = encode(&TableRecord::from_table(meta))?;
                tables.insert((db, *name), value.as_slice())?;
            }
            if let Some((from, to)) = counter {
                let mut counters = txn.open_table(COUNTERS)?;
                let moved = counters.remove(from)?.map(|v| v.value());
                if let Some(moved) = moved {
                    let existing = counters.get(to)?.map_or(1, |v| v.value());
                    counters.insert(to, moved.max(existing))?;
                }
            }
        }
        txn.commit()?;
        Ok(true)
    }
}

/// Table names of one database, read inside a write transaction.
pub(crate) fn table_names_in(
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

pub(crate) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, CatalogError> {
    encode_versioned(RECORD_VERSION, record)
}

/// A table as stored (the same bytes in redb and in etcd).
pub(crate) fn encode_table(info: &TableInfo) -> Result<Vec<u8>, CatalogError> {
    encode(&TableRecord::from_table(info))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, CatalogError> {
    decode_versioned(bytes, what, OLDEST_RECORD_VERSION..=RECORD_VERSION)
}

/// One format-version byte, then the record as TOML (every record kind of the store).
pub(crate) fn encode_versioned<T: Serialize>(
    version: u8,
    record: &T,
) -> Result<Vec<u8>, CatalogError> {
    let text = toml::to_string(record)?;
    let mut out = Vec::with_capacity(1 + text.len());
    out.push(version);
    out.extend_from_slice(text.as_bytes());
    Ok(out)
}

/// Decodes what `encode_versioned` wrote, refusing versions outside `versions`.
pub(crate) fn decode_versioned<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    versions: std::ops::RangeInclusive<u8>,
) -> Result<T, CatalogError> {
    let fail = |reason: String| CatalogError::Decode {
        what: what.to_string(),
        reason,
    };
    match bytes.split_first() {
        Some((&v, body)) if versions.contains(&v) => {
            let text = std::str::from_utf8(body).map_err(|e| fail(e.to_string()))?;
            toml::from_str(text).map_err(|e| fail(e.to_string()))
        }
        Some((v, _)) => Err(fail(format!("record format version {v} is not supported"))),
        None => Err(fail("empty record".into())),
    }
}

/// Decodes a table record of any supported version (version 1 has no rule fields: its
/// vertical and global tables decode, a sharded one is an error).
pub(crate) fn decode_table(bytes: &[u8], what: &str) -> Result<TableInfo, CatalogError> {
    let record: TableRecord = decode(bytes, what)?;
    record.into_table().map_err(|reason| CatalogError::Decode {
        what: what.to_string(),
        reason,
    })
}

/// What a key of the tables' namespace holds: views share it with tables, as in MySQL.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredEntry {
    /// A table record.
    Table(TableInfo),
    /// A view record.
    View(ViewInfo),
}

impl StoredEntry {
    /// The table, if this is one.
    pub fn into_table(self) -> Option<TableInfo> {
        match self {
            StoredEntry::Table(t) => Some(t),
            StoredEntry::View(_) => None,
        }
    }

    /// The view, if this is one.
    pub fn into_view(self) -> Option<ViewInfo> {
        match self {
            StoredEntry::View(v) => Some(v),
            StoredEntry::Table(_) => None,
        }
    }
}

/// The tables of a database's records.
pub(crate) fn only_tables(entries: Vec<(String, StoredEntry)>) -> Vec<(String, TableInfo)> {
    entries
        .into_iter()
        .filter_map(|(name, e)| Some((name, e.into_table()?)))
        .collect()
}

/// The views of a database's records.
pub(crate) fn only_views(entries: Vec<(String, StoredEntry)>) -> Vec<(String, ViewInfo)> {
    entries
        .into_iter()
        .filter_map(|(name, e)| Some((name, e.into_view()?)))
        .collect()
}

/// Value of `kind` in view records (table records hold a [`TableKind`]; a Strata that
/// predates views refuses the record instead of misreading it).
const VIEW_KIND: &str = "view";

/// The stored form of a [`ViewInfo`]: its fields after `kind = "view"`.
#[derive(Serialize, Deserialize)]
struct ViewRecord {
    kind: String,
    #[serde(flatten)]
    view: ViewInfo,
}

/// Only the `kind` of a record, to tell views from tables.
#[derive(Deserialize)]
struct KindProbe {
    kind: String,
}

/// A view as stored (the same bytes in redb and in etcd).
pub(crate) fn encode_view(view: &ViewInfo) -> Result<Vec<u8>, CatalogError> {
    encode(&ViewRecord {
        kind: VIEW_KIND.into(),
        view: view.clone(),
    })
}

/// Decodes a record of the tables' namespace: a view or a table.
pub(crate) fn decode_entry(bytes: &[u8], what: &str) -> Result<StoredEntry, CatalogError> {
    let probe: KindProbe = decode(bytes, what)?;
    if probe.kind == VIEW_KIND {
        let record: ViewRecord = decode(bytes, what)?;
        return Ok(StoredEntry::View(record.view));
    }
    decode_table(bytes, what).map(StoredEntry::Table)
}

#[cfg(test)]
mod tests;

pub mod etcd;
mod facade;

pub use facade::{MetaChange, MetadataStore};
